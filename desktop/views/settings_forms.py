"""One section of the shop's settings as a form: fields, their messages, the conflict banner and
the section's own Save."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QFormLayout,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from desktop.viewmodels.settings import CHANGED_ELSEWHERE, Field, Kind, SettingsSectionViewModel
from desktop.views.jobs import ChevronCombo
from desktop.views.theme import ACCENT, BAD, LINE, MUTED

FORM_WIDTH = 760

STYLE = f"""
QLabel#sectionHeading {{ font-size: 13pt; font-weight: 700; }}
QLabel#sectionDescription {{ color: {MUTED}; }}
QLabel#subHeading {{ font-size: 11pt; font-weight: 700; }}
QLabel#fieldError {{ color: {BAD}; font-size: 9pt; }}
QLabel#fieldHint, QLabel#fieldSuffix {{ color: {MUTED}; font-size: 9pt; }}
QLabel#formMessage {{ color: {BAD}; background: #fdf3f1; border: 1px solid #e6b3ab;
    border-radius: 6px; padding: 8px 10px; }}
QLabel#formNotice {{ color: #23476e; background: #eaf2fb; border: 1px solid #bcd4ee;
    border-radius: 6px; padding: 8px 10px; }}
QLabel#sectionNote {{ color: #3d4a5a; background: #f4f6f9; border: 1px solid {LINE};
    border-radius: 6px; padding: 8px 10px; }}
QLabel#example {{ color: {ACCENT}; font-weight: 600; }}
QFrame#conflict {{ background: #fff6e5; border: 1px solid #e8c27a; border-radius: 8px; }}
QFrame#conflict QLabel {{ color: #6b4a0e; }}
QLabel#conflictTitle {{ font-weight: 700; }}
QLineEdit[invalid="true"], QPlainTextEdit[invalid="true"] {{ border: 1px solid {BAD}; }}
QLineEdit:read-only, QPlainTextEdit[readOnly="true"] {{ background: #f6f8fa; color: #3d4a5a; }}
QPushButton#primary:disabled {{ background: #a9bfd8; border-color: #a9bfd8; color: #ffffff; }}
QScrollArea#formScroll {{ background: transparent; border: none; }}
QWidget#formBody {{ background: transparent; }}
QComboBox {{ padding-right: 24px; }}
QComboBox::drop-down {{ border: none; width: 24px; }}
"""


def _mark(widget: QWidget, invalid: bool) -> None:
    if bool(widget.property("invalid")) != invalid:
        widget.setProperty("invalid", invalid)
        widget.style().unpolish(widget)
        widget.style().polish(widget)


def message_label(name: str) -> QLabel:
    label = QLabel()
    label.setObjectName(name)
    label.setWordWrap(True)
    label.setVisible(False)
    return label


def show_text(label: QLabel, text: str) -> None:
    label.setText(text)
    label.setVisible(bool(text))


class ConflictBanner(QFrame):
    """ "Changed elsewhere — reload", with the button that does it."""

    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("conflict")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(14, 8, 8, 10)
        layout.setSpacing(2)
        top = QHBoxLayout()
        self.title = QLabel(CHANGED_ELSEWHERE)
        self.title.setObjectName("conflictTitle")
        top.addWidget(self.title, 1)
        self.reload_button = QPushButton("Reload")
        self.reload_button.setToolTip("Load what was saved at the other counter")
        top.addWidget(self.reload_button)
        layout.addLayout(top)
        self.text = QLabel()
        self.text.setWordWrap(True)
        layout.addWidget(self.text)
        self.setVisible(False)


Input = QLineEdit | QPlainTextEdit | QCheckBox | ChevronCombo


class SectionForm(QScrollArea):
    """The form of one settings section, bound to its view model."""

    def __init__(self, vm: SettingsSectionViewModel) -> None:
        super().__init__()
        self.vm = vm
        self._filling = False
        self.setObjectName("formScroll")
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setStyleSheet(STYLE)
        body = QWidget()
        body.setObjectName("formBody")
        outer = QVBoxLayout(body)
        outer.setContentsMargins(0, 0, 6, 0)
        self.card = QFrame()
        self.card.setObjectName("card")
        self.card.setMaximumWidth(FORM_WIDTH)
        outer.addWidget(self.card)
        outer.addStretch(1)
        self.setWidget(body)
        self.viewport().setAutoFillBackground(False)

        layout = QVBoxLayout(self.card)
        layout.setContentsMargins(26, 20, 26, 20)
        layout.setSpacing(10)
        heading = QLabel(vm.title)
        heading.setObjectName("sectionHeading")
        layout.addWidget(heading)
        description = QLabel(vm.spec.description)
        description.setObjectName("sectionDescription")
        description.setWordWrap(True)
        layout.addWidget(description)
        layout.addSpacing(6)

        self.conflict = ConflictBanner()
        self.conflict.reload_button.clicked.connect(vm.reload)
        layout.addWidget(self.conflict)
        self.message = message_label("formMessage")
        layout.addWidget(self.message)
        self.notice = message_label("formNotice")
        layout.addWidget(self.notice)

        self.reading = QLabel("Reading the shop's settings…")
        self.reading.setObjectName("fieldHint")
        layout.addWidget(self.reading)
        # Typing before the saved values arrive would be overwritten by them: the fields wait.
        self.fields_box = QWidget()
        self.form = QFormLayout(self.fields_box)
        self.form.setContentsMargins(0, 0, 0, 0)
        self.form.setHorizontalSpacing(16)
        self.form.setVerticalSpacing(10)
        self.form.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop)
        self.form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.inputs: dict[str, Input] = {}
        self.field_errors: dict[str, QLabel] = {}
        for spec in vm.fields:
            self._add_field(spec)
        layout.addWidget(self.fields_box)

        self.example = QLabel()
        self.example.setObjectName("example")
        self.example.setVisible(bool(vm.example))
        layout.addWidget(self.example)
        if vm.spec.note:
            note = QLabel(vm.spec.note)
            note.setObjectName("sectionNote")
            note.setWordWrap(True)
            layout.addWidget(note)

        self.shipping: ShippingEditor | None = None
        if vm.spec.shipping:
            self.shipping = ShippingEditor(vm)
            layout.addWidget(self.shipping)

        buttons = QHBoxLayout()
        buttons.addStretch(1)
        self.revert_button = QPushButton("Revert")
        self.revert_button.setToolTip("Put back what is saved")
        self.revert_button.clicked.connect(vm.revert)
        self.save_button = QPushButton("Save changes")
        self.save_button.setObjectName("primary")
        self.save_button.setToolTip("Save this section (Ctrl+S)")
        self.save_button.clicked.connect(vm.save)
        buttons.addWidget(self.revert_button)
        buttons.addWidget(self.save_button)
        layout.addSpacing(4)
        layout.addLayout(buttons)
        for button in (self.revert_button, self.save_button):
            button.setVisible(vm.can_edit)

        vm.values_changed.connect(self._fill)
        vm.messages_changed.connect(self._show_messages)
        vm.dirty_changed.connect(self._show_state)
        vm.busy_changed.connect(self._show_state)
        vm.save_done.connect(self._save_done)
        self._fill()
        self._show_messages()

    # -- building
    def _add_field(self, spec: Field) -> None:
        editable = self.vm.can_edit
        widget: Input
        if spec.kind is Kind.LONG_TEXT:
            text = QPlainTextEdit()
            text.setTabChangesFocus(True)
            text.setFixedHeight(84)  # four lines: an address or bank details fit without scrolling
            text.setReadOnly(not editable)
            text.textChanged.connect(lambda key=spec.key, t=text: self._typed(key, t.toPlainText()))
            widget = text
        elif spec.kind is Kind.CHECK:
            check = QCheckBox(spec.label)
            check.setEnabled(editable)
            check.toggled.connect(lambda on, key=spec.key: self._typed(key, on))
            widget = check
        elif spec.kind is Kind.CHOICE:
            combo = ChevronCombo()
            for value, label in spec.choices:
                combo.addItem(label, value)
            combo.setEnabled(editable)
            if spec.width:
                combo.setFixedWidth(spec.width)
            combo.activated.connect(
                lambda index, key=spec.key, c=combo: self._typed(key, str(c.itemData(index)))
            )
            widget = combo
        else:
            line = QLineEdit()
            line.setReadOnly(not editable)
            if spec.kind in (Kind.NUMBER, Kind.WHOLE, Kind.PERCENT):
                line.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                line.setFixedWidth(spec.width or 110)
            elif spec.width:
                line.setFixedWidth(spec.width)
            line.textEdited.connect(lambda value, key=spec.key: self._typed(key, value))
            widget = line
        widget.setObjectName(f"field:{spec.key}")
        self.inputs[spec.key] = widget

        cell = QWidget()
        column = QVBoxLayout(cell)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(3)
        row = QHBoxLayout()
        row.setSpacing(8)
        fixed = spec.width and isinstance(widget, QLineEdit | ChevronCombo)
        row.addWidget(widget, 0 if fixed else 1)
        side = spec.suffix or (spec.hint if spec.width else "")
        if side:
            suffix = QLabel(side)
            suffix.setObjectName("fieldSuffix")
            row.addWidget(suffix)
        if fixed or spec.kind in (Kind.NUMBER, Kind.WHOLE, Kind.PERCENT):
            row.addStretch(1)
        column.addLayout(row)
        if spec.hint and not side:
            hint = QLabel(spec.hint)
            hint.setObjectName("fieldHint")
            column.addWidget(hint)
        error = message_label("fieldError")
        column.addWidget(error)
        self.field_errors[spec.key] = error
        label = "" if spec.kind is Kind.CHECK else spec.label
        caption = QLabel(label)
        caption.setBuddy(widget)
        # As tall as a line edit, so the caption sits level with the box even when an error
        # or a hint grows the row below it.
        caption.setFixedHeight(32)
        caption.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.form.addRow(caption, cell)

    # -- binding
    def _typed(self, key: str, value: str | bool) -> None:
        if not self._filling:
            self.vm.set_value(key, value)
            if key.startswith("numbering."):
                self.example.setText(self.vm.example)

    def _fill(self) -> None:
        self._filling = True
        try:
            for key, widget in self.inputs.items():
                value = self.vm.value(key)
                if isinstance(widget, QCheckBox):
                    widget.setChecked(bool(value))
                elif isinstance(widget, ChevronCombo):
                    widget.setCurrentIndex(widget.findData(str(value)))
                elif isinstance(widget, QPlainTextEdit):
                    if widget.toPlainText() != value:
                        widget.setPlainText(str(value))
                elif widget.text() != value:
                    widget.setText(str(value))
                    widget.setCursorPosition(0)
            if self.shipping is not None:
                self.shipping.fill()
        finally:
            self._filling = False
        self.example.setText(self.vm.example)
        self._show_state()

    def _show_messages(self) -> None:
        errors = self.vm.errors
        for key, label in self.field_errors.items():
            show_text(label, errors.get(key, ""))
            _mark(self.inputs[key], key in errors)
        if self.shipping is not None:
            show_text(self.shipping.error, errors.get("shipping_options", ""))
        show_text(self.message, "" if self.vm.conflict else self.vm.message)
        show_text(self.notice, self.vm.notice)
        self.conflict.setVisible(self.vm.conflict)
        self.conflict.text.setText(self.vm.message)
        self._show_state()

    def _show_state(self, *_: object) -> None:
        self.reading.setVisible(not self.vm.loaded)
        self.fields_box.setEnabled(self.vm.loaded)
        self.save_button.setEnabled(self.vm.can_save)
        self.save_button.setText("Saving…" if self.vm.saving else "Save changes")
        self.revert_button.setEnabled(self.vm.can_edit and self.vm.dirty and not self.vm.busy)

    def _save_done(self, ok: bool) -> None:
        failed = None if ok else self.first_error()
        if failed is not None:
            failed.setFocus(Qt.FocusReason.OtherFocusReason)

    def first_error(self) -> QWidget | None:
        return next((self.inputs[k] for k in self.field_errors if k in self.vm.errors), None)


class ShippingEditor(QWidget):
    """The shipping options offered on quotes and invoices: a label and an amount each."""

    def __init__(self, vm: SettingsSectionViewModel) -> None:
        super().__init__()
        self.vm = vm
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 8, 0, 0)
        layout.setSpacing(6)
        title = QLabel("Shipping options")
        title.setObjectName("subHeading")
        layout.addWidget(title)
        hint = QLabel("Offered on quotes and invoices; the amount is before tax.")
        hint.setObjectName("fieldHint")
        layout.addWidget(hint)
        self.grid = QGridLayout()
        self.grid.setHorizontalSpacing(8)
        self.grid.setVerticalSpacing(6)
        self.grid.setColumnStretch(0, 1)
        layout.addLayout(self.grid)
        self.error = message_label("fieldError")
        layout.addWidget(self.error)
        self.add_button = QPushButton("Add shipping option")
        self.add_button.clicked.connect(self._add)
        self.add_button.setVisible(vm.can_edit)
        layout.addWidget(self.add_button, 0, Qt.AlignmentFlag.AlignLeft)
        self.rows: list[tuple[QLineEdit, QLineEdit, QPushButton]] = []

    def fill(self) -> None:
        # Made with a parent: a parentless button shown before it is laid out would be a
        # window of its own for a moment, and take the activation from the real one.
        for label, amount, remove in self.rows:
            for widget in (label, amount, remove):
                widget.setParent(None)
                widget.deleteLater()
        self.rows = []
        editable = self.vm.can_edit
        for n, option in enumerate(self.vm.shipping):
            label = QLineEdit(option.label, self)
            label.setPlaceholderText("e.g. Metro")
            label.setReadOnly(not editable)
            label.textEdited.connect(lambda text, row=n: self.vm.set_shipping(row, label=text))
            amount = QLineEdit(option.amount, self)
            amount.setFixedWidth(110)
            amount.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            amount.setReadOnly(not editable)
            amount.textEdited.connect(lambda text, row=n: self.vm.set_shipping(row, amount=text))
            remove = QPushButton("Remove", self)
            remove.setToolTip(f"Remove {option.label or 'this option'}")
            remove.setVisible(editable)
            remove.clicked.connect(lambda _=False, row=n: self.vm.remove_shipping(row))
            centre = Qt.AlignmentFlag.AlignVCenter
            self.grid.addWidget(label, n, 0, centre)
            self.grid.addWidget(amount, n, 1, centre)
            self.grid.addWidget(remove, n, 2, centre)
            self.rows.append((label, amount, remove))

    def _add(self) -> None:
        row = self.vm.add_shipping()
        if 0 <= row < len(self.rows):
            self.rows[row][0].setFocus(Qt.FocusReason.OtherFocusReason)
