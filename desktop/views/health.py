"""Settings → Health: a row per part of the shop's setup, a tick or a cross, the reason and
the fix, and a button to check again."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QResizeEvent, QShowEvent
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from core.health import State
from desktop.viewmodels.health import HealthRow, HealthViewModel
from desktop.views.theme import BAD, LINE, MUTED, OK

MARK_COLOURS: dict[State | None, str] = {
    State.OK: OK,
    State.OFF: MUTED,
    State.FAILED: BAD,
    None: MUTED,
}
MARK_TIPS: dict[State | None, str] = {
    State.OK: "Works",
    State.OFF: "Not set up",
    State.FAILED: "Needs attention",
    None: "Being checked",
}

STYLE = f"""
QLabel#sectionHeading {{ font-size: 13pt; font-weight: 700; }}
QLabel#sectionDescription {{ color: {MUTED}; }}
QLabel#healthSummary {{ font-size: 11pt; font-weight: 600; }}
QLabel#healthSummary[bad="true"] {{ color: {BAD}; }}
QLabel#healthWhen {{ color: {MUTED}; }}
QLabel#healthMark {{ font-size: 15pt; font-weight: 700; }}
QLabel#healthName {{ font-weight: 600; }}
QLabel#healthFix {{ color: #5a4a1a; background: #fbf3dc; border-radius: 5px; padding: 4px 8px; }}
QFrame#healthLine {{ background: {LINE}; max-height: 1px; border: none; }}
"""


class _Row(QWidget):
    """One part: mark, name, detail and (when failing or off) the fix, with a rule below."""

    def __init__(self) -> None:
        super().__init__()
        self.mark = QLabel()
        self.mark.setObjectName("healthMark")
        self.mark.setFixedWidth(28)
        self.mark.setAlignment(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop)
        self.name = QLabel()
        self.name.setObjectName("healthName")
        self.name.setFixedWidth(130)
        self.name.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self.detail = QLabel()
        self.detail.setWordWrap(True)
        self.detail.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.fix = QLabel()
        self.fix.setObjectName("healthFix")
        self.fix.setWordWrap(True)
        self.fix.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(10)
        row = QHBoxLayout()
        row.setSpacing(14)
        row.addWidget(self.mark, 0, Qt.AlignmentFlag.AlignTop)
        row.addWidget(self.name, 0, Qt.AlignmentFlag.AlignTop)
        text = QVBoxLayout()
        text.setSpacing(5)
        text.addWidget(self.detail)
        text.addWidget(self.fix)
        row.addLayout(text, 1)
        outer.addLayout(row)
        self.line = QFrame()
        self.line.setObjectName("healthLine")
        outer.addWidget(self.line)

    def present(self, row: HealthRow, last: bool) -> None:
        self.mark.setText(row.mark)
        self.mark.setStyleSheet(f"color: {MARK_COLOURS[row.state]};")
        self.mark.setToolTip(MARK_TIPS[row.state])
        self.name.setText(row.name)
        self.detail.setText(row.detail)
        self.fix.setText(f"Fix: {row.fix}" if row.state is State.FAILED else row.fix)
        self.fix.setVisible(bool(row.fix) and row.state in (State.FAILED, State.OFF))
        if row.state is State.OFF:
            self.fix.setStyleSheet(f"background: transparent; color: {MUTED}; padding: 0;")
        else:
            self.fix.setStyleSheet("")
        self.line.setVisible(not last)


class HealthPanel(QScrollArea):
    def __init__(self, vm: HealthViewModel) -> None:
        super().__init__()
        self.vm = vm
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setStyleSheet(STYLE)
        body = QWidget()
        outer = QVBoxLayout(body)
        outer.setContentsMargins(0, 0, 6, 0)
        card = QFrame()
        card.setObjectName("card")
        outer.addWidget(card)
        outer.addStretch(1)
        self.setWidget(body)
        self.viewport().setAutoFillBackground(False)

        layout = QVBoxLayout(card)
        layout.setContentsMargins(26, 20, 26, 20)
        layout.setSpacing(10)
        heading = QLabel("Health")
        heading.setObjectName("sectionHeading")
        layout.addWidget(heading)
        description = QLabel(
            "Whether each part PrintDesk relies on works from this computer, and what to do "
            "when one does not."
        )
        description.setObjectName("sectionDescription")
        description.setWordWrap(True)
        layout.addWidget(description)

        status = QHBoxLayout()
        texts = QVBoxLayout()
        texts.setSpacing(2)
        self.summary = QLabel()
        self.summary.setObjectName("healthSummary")
        self.when = QLabel()
        self.when.setObjectName("healthWhen")
        texts.addWidget(self.summary)
        texts.addWidget(self.when)
        status.addLayout(texts, 1)
        self.check_button = QPushButton("&Check again")
        self.check_button.setObjectName("primary")
        self.check_button.setToolTip("Check every part again (Alt+C)")
        self.check_button.setMinimumWidth(150)
        self.check_button.clicked.connect(vm.check)
        status.addWidget(self.check_button, 0, Qt.AlignmentFlag.AlignVCenter)
        layout.addSpacing(4)
        layout.addLayout(status)
        layout.addSpacing(6)

        self.list = QVBoxLayout()
        self.list.setSpacing(10)
        layout.addLayout(self.list)
        self.rows: list[_Row] = []

        vm.changed.connect(self._refresh)
        self._refresh()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fit_rows()

    def _fit_rows(self) -> None:
        # Wrapped labels in a scroll area are given their one-line height; ask for the
        # height their text needs at the width they got.
        for row in self.rows:
            for label in (row.detail, row.fix):
                needed = label.heightForWidth(label.width()) if label.text() else 0
                label.setMinimumHeight(max(0, needed))

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self.vm.ensure_checked()

    def _refresh(self) -> None:
        rows = self.vm.rows
        while len(self.rows) < len(rows):
            self.rows.append(_Row())
            self.list.addWidget(self.rows[-1])
        for index, row in enumerate(rows):
            self.rows[index].present(row, last=index == len(rows) - 1)
        self.summary.setText(self.vm.summary)
        bad = "true" if any(r.state is State.FAILED for r in rows) else "false"
        if self.summary.property("bad") != bad:
            self.summary.setProperty("bad", bad)
            self.summary.style().unpolish(self.summary)
            self.summary.style().polish(self.summary)
        self.when.setText(self.vm.last_checked)
        self._fit_rows()
        self.check_button.setEnabled(not self.vm.checking)
        self.check_button.setText("Checking…" if self.vm.checking else "&Check again")

    def row_texts(self) -> list[tuple[str, str, str, str]]:
        """(mark, name, detail, fix) as shown, for tests and screenshots."""
        shown: list[tuple[str, str, str, str]] = []
        for r in self.rows:
            fix = r.fix.text() if r.fix.isVisibleTo(self) else ""
            shown.append((r.mark.text(), r.name.text(), r.detail.text(), fix))
        return shown
