"""The new/edit client form: refusals appear beside their field; a conflict offers a reload."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QIntValidator, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QDialog,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop.viewmodels.clients import ClientEditorViewModel
from desktop.views.theme import BAD, MUTED

STYLE = f"""
QLabel#fieldError {{ color: {BAD}; font-size: 9pt; }}
QLabel#formMessage {{ color: {BAD}; background: #fdf3f1; border: 1px solid #e6b3ab;
    border-radius: 6px; padding: 8px 10px; }}
QLabel#formNotice {{ color: #23476e; background: #eaf2fb; border: 1px solid #bcd4ee;
    border-radius: 6px; padding: 8px 10px; }}
QFrame#conflict {{ background: #fff6e5; border: 1px solid #e8c27a; border-radius: 8px; }}
QFrame#conflict QLabel {{ color: #6b4a0e; }}
QLabel#conflictTitle {{ font-weight: 700; }}
QLabel#required {{ color: {MUTED}; font-size: 9pt; }}
QLineEdit[invalid="true"], QPlainTextEdit[invalid="true"] {{ border: 1px solid {BAD}; }}
QPushButton#primary:disabled {{ background: #a9bfd8; border-color: #a9bfd8; color: #ffffff; }}
"""

LINE_FIELDS = (
    ("name", "Name *", "Full name of the person"),
    ("company", "Company", "Optional"),
    ("email", "Email", "Where quotes, invoices and payment links go"),
    ("phone", "Phone", ""),
    ("tax_id", "Tax ID", "ABN, VAT or similar; optional"),
)
TEXT_FIELDS = (("address", "Address"), ("notes", "Notes"))


class ClientDialog(QDialog):
    def __init__(self, vm: ClientEditorViewModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.vm = vm
        self.setWindowTitle(vm.title)
        self.setStyleSheet(STYLE)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.setMinimumWidth(560)

        outer = QVBoxLayout(self)
        outer.setContentsMargins(24, 20, 24, 18)
        outer.setSpacing(12)
        heading = QLabel(vm.title)
        heading.setObjectName("pageTitle")
        heading.setStyleSheet("font-size: 14pt;")
        outer.addWidget(heading)

        self.conflict = QFrame()
        self.conflict.setObjectName("conflict")
        banner = QVBoxLayout(self.conflict)
        banner.setContentsMargins(14, 8, 8, 10)
        banner.setSpacing(2)
        top = QHBoxLayout()
        title = QLabel("Changed elsewhere — reload")
        title.setObjectName("conflictTitle")
        top.addWidget(title, 1)
        self.reload_button = QPushButton("Reload")
        self.reload_button.setToolTip("Load the details saved at the other counter")
        self.reload_button.clicked.connect(vm.reload)
        top.addWidget(self.reload_button)
        banner.addLayout(top)
        self.conflict_text = QLabel()
        self.conflict_text.setWordWrap(True)
        banner.addWidget(self.conflict_text)
        outer.addWidget(self.conflict)

        self.message = QLabel()
        self.message.setObjectName("formMessage")
        self.message.setWordWrap(True)
        outer.addWidget(self.message)
        self.notice = QLabel()
        self.notice.setObjectName("formNotice")
        self.notice.setWordWrap(True)
        outer.addWidget(self.notice)

        form = QFormLayout()
        form.setHorizontalSpacing(14)
        form.setVerticalSpacing(6)
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.inputs: dict[str, QLineEdit | QPlainTextEdit] = {}
        self.field_errors: dict[str, QLabel] = {}
        for field, label, placeholder in LINE_FIELDS:
            edit = QLineEdit()
            edit.setPlaceholderText(placeholder)
            edit.textEdited.connect(lambda text, field=field: vm.set_value(field, text))
            self._add_row(form, field, label, edit)
        terms = QLineEdit()
        terms.setValidator(QIntValidator(0, 365, terms))
        terms.setMaximumWidth(90)
        terms.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        # Left empty, the days are refused by the service like any other wrong value.
        terms.textEdited.connect(
            lambda text: vm.set_value("payment_terms_days", int(text) if text.isdigit() else -1)
        )
        days = QLabel("days after the invoice date  (0 = due on receipt)")
        days.setObjectName("required")
        terms_row = QWidget()
        row = QHBoxLayout(terms_row)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(terms)
        row.addWidget(days, 1)
        self._add_row(form, "payment_terms_days", "Payment terms", terms, cell=terms_row)
        for field, label in TEXT_FIELDS:
            text = QPlainTextEdit()
            text.setTabChangesFocus(True)
            text.setFixedHeight(64)
            text.textChanged.connect(
                lambda field=field, text=text: vm.set_value(field, text.toPlainText())
            )
            self._add_row(form, field, label, text)
        outer.addLayout(form)

        required = QLabel("* required")
        required.setObjectName("required")
        buttons = QHBoxLayout()
        buttons.addWidget(required)
        buttons.addStretch(1)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.reject)
        self.save_button = QPushButton("Save client" if vm.is_new else "Save changes")
        self.save_button.setObjectName("primary")
        self.save_button.setDefault(True)
        self.save_button.setToolTip("Save (Ctrl+S)")
        self.save_button.clicked.connect(self._save)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.save_button)
        outer.addLayout(buttons)
        QShortcut(QKeySequence(QKeySequence.StandardKey.Save), self, self._save)

        vm.form_changed.connect(self._fill)
        vm.messages_changed.connect(self._show_messages)
        vm.saved.connect(self._saved)
        vm.busy_changed.connect(self._busy)
        self._fill()
        self._show_messages()
        self.inputs["name"].setFocus()

    def _add_row(
        self,
        form: QFormLayout,
        field: str,
        label: str,
        widget: QLineEdit | QPlainTextEdit,
        *,
        cell: QWidget | None = None,
    ) -> None:
        holder = QWidget()
        column = QVBoxLayout(holder)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(2)
        column.addWidget(cell or widget)
        error = QLabel()
        error.setObjectName("fieldError")
        error.setWordWrap(True)
        error.setVisible(False)
        column.addWidget(error)
        widget.setAccessibleName(label.rstrip(" *"))
        form.addRow(label, holder)
        self.inputs[field] = widget
        self.field_errors[field] = error

    # -- binding
    def _fill(self) -> None:
        for field, widget in self.inputs.items():
            value = self.vm.value(field)
            widget.blockSignals(True)
            if isinstance(widget, QPlainTextEdit):
                widget.setPlainText(str(value))
            else:
                widget.setText(str(value))
            widget.blockSignals(False)

    def _show_messages(self) -> None:
        vm = self.vm
        errors = vm.errors
        for field, label in self.field_errors.items():
            text = errors.get(field, "")
            label.setText(text)
            label.setVisible(bool(text))
            widget = self.inputs[field]
            if bool(widget.property("invalid")) != bool(text):
                widget.setProperty("invalid", bool(text))
                widget.style().unpolish(widget)
                widget.style().polish(widget)
        self.conflict.setVisible(vm.conflict)
        self.conflict_text.setText(vm.message if vm.conflict else "")
        self.message.setText("" if vm.conflict else vm.message)
        self.message.setVisible(bool(vm.message) and not vm.conflict)
        self.notice.setText(vm.notice)
        self.notice.setVisible(bool(vm.notice))
        self.save_button.setEnabled(vm.can_save)
        first_wrong = next((f for f in self.inputs if f in errors), None)
        if first_wrong is not None:
            self.inputs[first_wrong].setFocus()
        self.adjustSize()

    def _busy(self, busy: bool) -> None:
        self.save_button.setEnabled(self.vm.can_save)
        self.save_button.setText(
            "Saving…" if busy else ("Save client" if self.vm.is_new else "Save changes")
        )

    def _save(self) -> None:
        self.vm.save()

    def _saved(self, _client: object) -> None:
        self.accept()
