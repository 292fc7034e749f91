"""The frame every screen shares: a title, a subtitle, a toolbar row and the content."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget


class Page(QWidget):
    def __init__(self, title: str, subtitle: str = "") -> None:
        super().__init__()
        self.layout_ = QVBoxLayout(self)
        self.layout_.setContentsMargins(28, 22, 28, 18)
        self.layout_.setSpacing(12)
        header = QHBoxLayout()
        titles = QVBoxLayout()
        titles.setSpacing(2)
        self.title = QLabel(title)
        self.title.setObjectName("pageTitle")
        titles.addWidget(self.title)
        self.subtitle = QLabel(subtitle)
        self.subtitle.setObjectName("pageSubtitle")
        self.subtitle.setVisible(bool(subtitle))
        titles.addWidget(self.subtitle)
        header.addLayout(titles, 1)
        self.action_row = QHBoxLayout()
        self.action_row.setSpacing(8)
        header.addLayout(self.action_row)
        self.layout_.addLayout(header)

    def add_action(self, text: str, *, primary: bool = False, danger: bool = False) -> QPushButton:
        button = QPushButton(text)
        if primary:
            button.setObjectName("primary")
        elif danger:
            button.setObjectName("danger")
        self.action_row.addWidget(button)
        return button

    def add(self, widget: QWidget, stretch: int = 0) -> QWidget:
        self.layout_.addWidget(widget, stretch)
        return widget


def card() -> QFrame:
    frame = QFrame()
    frame.setObjectName("card")
    return frame


def section_title(text: str) -> QLabel:
    label = QLabel(text)
    label.setObjectName("sectionTitle")
    label.setIndent(0)  # line up with the fields below, not half an "x" to the right
    return label


def titled_card(frame: QFrame, title: str) -> QVBoxLayout:
    """Make ``frame`` a card headed by ``title``; returns the layout to fill below the title."""
    frame.setObjectName("card")
    box = QVBoxLayout(frame)
    box.setContentsMargins(16, 12, 16, 14)
    box.addWidget(section_title(title))
    return box


class PlaceholderPage(Page):
    """A screen that another part of PrintDesk fills in; it says what is coming."""

    def __init__(self, title: str, message: str) -> None:
        super().__init__(title)
        note = QLabel(message)
        note.setObjectName("empty")
        note.setWordWrap(True)
        note.setAlignment(Qt.AlignmentFlag.AlignCenter)
        box = card()
        inner = QVBoxLayout(box)
        inner.addWidget(note)
        self.add(box, 1)
