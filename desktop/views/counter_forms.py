"""Building blocks of this counter's settings sections (Email, Payments): the card they sit on,
a labelled field with its hint and error, a secret box that shows only where the secret comes
from, and the result line of a check."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from desktop.viewmodels.counter_secret import CounterSecret
from desktop.views.settings_forms import FORM_WIDTH, message_label, show_text
from desktop.views.settings_forms import STYLE as FORM_STYLE
from desktop.views.theme import BAD, LINE, MUTED, OK

STYLE = (
    FORM_STYLE
    + f"""
QLabel#counterWhere {{ color: {MUTED}; font-size: 9pt; }}
QLabel#secretStatus {{ color: #3d4a5a; font-size: 9pt; }}
QFrame#counterLine {{ background: {LINE}; max-height: 1px; border: none; }}
QLabel#resultOk {{ color: {OK}; background: #eef8f1; border: 1px solid #b5dcc3;
    border-radius: 6px; padding: 8px 10px; }}
QLabel#resultBad {{ color: {BAD}; background: #fdf3f1; border: 1px solid #e6b3ab;
    border-radius: 6px; padding: 8px 10px; }}
"""
)


LABEL_WIDTH = 112


class CounterCard(QScrollArea):
    """A scrolling card with a heading and a description; ``layout`` takes the rest."""

    def __init__(self, heading: str, description: str) -> None:
        super().__init__()
        self.setObjectName("formScroll")
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setStyleSheet(STYLE)
        body = QWidget()
        body.setObjectName("formBody")
        outer = QVBoxLayout(body)
        outer.setContentsMargins(0, 0, 6, 0)
        card = QFrame()
        card.setObjectName("card")
        card.setMaximumWidth(FORM_WIDTH)
        outer.addWidget(card)
        outer.addStretch(1)
        self.setWidget(body)
        self.viewport().setAutoFillBackground(False)
        self.body = QVBoxLayout(card)
        self.body.setContentsMargins(26, 20, 26, 20)
        self.body.setSpacing(10)
        title = QLabel(heading)
        title.setObjectName("sectionHeading")
        self.body.addWidget(title)
        text = QLabel(description)
        text.setObjectName("sectionDescription")
        text.setWordWrap(True)
        self.body.addWidget(text)
        self.body.addSpacing(4)

    def new_form(self) -> QFormLayout:
        form = QFormLayout()
        form.setHorizontalSpacing(16)
        form.setVerticalSpacing(10)
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.body.addLayout(form)
        return form

    def add_line(self) -> None:
        line = QFrame()
        line.setObjectName("counterLine")
        self.body.addSpacing(6)
        self.body.addWidget(line)
        self.body.addSpacing(6)


def hint_label(text: str = "") -> QLabel:
    label = QLabel(text)
    label.setObjectName("fieldHint")
    label.setWordWrap(True)
    label.setVisible(bool(text))
    return label


class FieldCell(QWidget):
    """An input with a hint under it and the field's error (hidden until there is one)."""

    def __init__(self, widget: QWidget, hint: str = "", *, stretch: bool = True) -> None:
        super().__init__()
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(3)
        row = QHBoxLayout()
        row.setSpacing(8)
        row.addWidget(widget, 1 if stretch else 0)
        if not stretch:
            row.addStretch(1)
        self.row = row
        column.addLayout(row)
        self.hint = hint_label(hint)
        column.addWidget(self.hint)
        self.error = message_label("fieldError")
        column.addWidget(self.error)

    def show_error(self, text: str) -> None:
        show_text(self.error, text)


def add_row(form: QFormLayout, caption: str, cell: QWidget, buddy: QWidget) -> QLabel:
    label = QLabel(caption)
    label.setBuddy(buddy)
    label.setFixedHeight(32)  # level with the box even when a hint or an error grows the row
    label.setMinimumWidth(LABEL_WIDTH)  # the forms of one section line up
    label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
    form.addRow(label, cell)
    return label


class SecretBox(FieldCell):
    """A masked box for a new value, where the secret now comes from, and "Remove"."""

    def __init__(self, placeholder: str) -> None:
        self.input = QLineEdit()
        self.input.setEchoMode(QLineEdit.EchoMode.Password)
        self.input.setPlaceholderText(placeholder)
        self.input.setClearButtonEnabled(True)
        super().__init__(self.input)
        self.forget_button = QPushButton("Remove")
        self.forget_button.setToolTip("Remove it from this computer's keyring")
        self.row.addWidget(self.forget_button)
        self.status = QLabel()
        self.status.setObjectName("secretStatus")
        self.status.setWordWrap(True)
        layout = self.layout()
        assert isinstance(layout, QVBoxLayout)
        layout.insertWidget(1, self.status)
        self.problem = message_label("formNotice")
        layout.addWidget(self.problem)

    def show_secret(self, secret: CounterSecret, can_edit: bool, placeholder: str) -> None:
        if self.input.text() != secret.typed:
            self.input.setText(secret.typed)
        self.input.setReadOnly(not (can_edit and secret.can_type))
        if secret.from_env:
            placeholder = "Set in the environment on this computer"
        elif not secret.can_type:
            placeholder = "Cannot be kept on this computer (see below)"
        self.input.setPlaceholderText(placeholder)
        self.status.setText(secret.status)
        self.forget_button.setVisible(can_edit and secret.can_forget)
        show_text(self.problem, secret.problem)


def show_result(label: QLabel, ok: bool | None, text: str) -> None:
    """A check's outcome: green when it worked, red when not, hidden when there is none."""
    name = "resultOk" if ok else "resultBad"
    if label.objectName() != name:
        label.setObjectName(name)
        label.style().unpolish(label)
        label.style().polish(label)
    show_text(label, text if ok is not None else "")
