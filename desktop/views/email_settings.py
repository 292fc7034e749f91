"""Settings → Email: the SMTP server this counter sends through, its password (kept in the
keyring) and a button that sends a test email."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import QFormLayout, QHBoxLayout, QLabel, QLineEdit, QPushButton

from desktop.viewmodels.email_settings import SECURITY_CHOICES, EmailSettingsViewModel
from desktop.views.counter_forms import (
    CounterCard,
    FieldCell,
    SecretBox,
    add_row,
    hint_label,
    show_result,
)
from desktop.views.jobs import ChevronCombo
from desktop.views.settings_forms import message_label, show_text

PASSWORD_PLACEHOLDER = "Type a new password to keep it in the keyring"


class EmailSettingsPanel(CounterCard):
    def __init__(self, vm: EmailSettingsViewModel) -> None:
        super().__init__(
            "Email",
            "The mail server this counter sends invoices, quotes and payment links through. "
            'Your email provider\'s help pages list these (look for "SMTP"). The password '
            "is kept in this computer's keyring, never in a file.",
        )
        self.vm = vm
        layout = self.body
        self.read_only = message_label("formNotice")
        layout.addWidget(self.read_only)
        self.env_note = message_label("formNotice")
        layout.addWidget(self.env_note)

        form = self.new_form()
        self.inputs: dict[str, QLineEdit] = {}
        self.cells: dict[str, FieldCell] = {}

        def line(key: str, caption: str, hint: str, placeholder: str, width: int = 0) -> None:
            box = QLineEdit()
            box.setObjectName(f"field:{key}")
            box.setPlaceholderText(placeholder)
            if width:
                box.setFixedWidth(width)
            box.textEdited.connect(lambda text, key=key: vm.set_value(key, text))
            self._add(form, key, caption, box, hint, stretch=not width)

        line("smtp_host", "SMTP ser&ver", "", "smtp.example.com")
        line("smtp_port", "&Port", "587 for STARTTLS, 465 for SSL/TLS.", "587", width=110)
        self.security = security = ChevronCombo()
        security.setObjectName("field:smtp_security")
        for value, label in SECURITY_CHOICES:
            security.addItem(label, value)
        security.activated.connect(
            lambda index: vm.set_value("smtp_security", str(security.itemData(index)))
        )
        self._add(form, "smtp_security", "Se&curity", security, "", stretch=True)
        line("smtp_username", "&Username", "Often your full email address.", "you@example.com")
        self.password = SecretBox(PASSWORD_PLACEHOLDER)
        self.password.input.setObjectName("field:smtp_password")
        self.password.input.textEdited.connect(vm.set_password)
        self.password.forget_button.clicked.connect(vm.forget_password)
        add_row(form, "Pass&word", self.password, self.password.input)
        line(
            "smtp_from",
            "&From address",
            "Clients see this as the sender; empty uses the shop's email (Settings → Business).",
            "invoices@example.com",
        )

        self.error = message_label("formMessage")
        layout.addWidget(self.error)
        buttons = QHBoxLayout()
        self.where = QLabel(f"Server settings kept in {vm.config_file} on this computer.")
        self.where.setObjectName("counterWhere")
        self.where.setWordWrap(True)
        self.where.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        buttons.addWidget(self.where, 1)
        self.save_button = QPushButton("&Save changes")
        self.save_button.setObjectName("primary")
        self.save_button.setToolTip("Save the mail server and the password (Alt+S)")
        self.save_button.clicked.connect(vm.save)
        buttons.addWidget(self.save_button)
        layout.addLayout(buttons)

        self.add_line()
        test_heading = QLabel("Send a test email")
        test_heading.setObjectName("subHeading")
        layout.addWidget(test_heading)
        layout.addWidget(
            hint_label(
                "Sends a short email with the settings above, saved or not, so you know "
                "invoices will arrive."
            )
        )
        row = QHBoxLayout()
        row.setSpacing(8)
        self.recipient = QLineEdit()
        self.recipient.setObjectName("field:recipient")
        self.recipient.setPlaceholderText("Send to, e.g. you@example.com")
        self.recipient.textEdited.connect(vm.set_recipient)
        self.recipient.returnPressed.connect(vm.send_test)
        self.test_button = QPushButton("Send a &test email")
        self.test_button.setMinimumWidth(170)
        self.test_button.setToolTip("Send a test email to this address (Alt+T)")
        self.test_button.clicked.connect(vm.send_test)
        row.addWidget(self.recipient, 1)
        row.addWidget(self.test_button)
        layout.addLayout(row)
        self.recipient_error = message_label("fieldError")
        layout.addWidget(self.recipient_error)
        self.result = QLabel()
        self.result.setObjectName("resultOk")
        self.result.setWordWrap(True)
        self.result.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.result.setVisible(False)
        layout.addWidget(self.result)

        vm.changed.connect(self._refresh)
        self._refresh()

    def _add(
        self,
        form: QFormLayout,
        key: str,
        caption: str,
        box: QLineEdit | ChevronCombo,
        hint: str,
        *,
        stretch: bool,
    ) -> None:
        cell = FieldCell(box, hint, stretch=stretch)
        if isinstance(box, QLineEdit):
            self.inputs[key] = box
        self.cells[key] = cell
        add_row(form, caption, cell, box)

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self.vm.load()

    def _refresh(self) -> None:
        vm = self.vm
        show_text(self.read_only, vm.read_only_note)
        show_text(self.env_note, vm.env_note)
        for key, box in self.inputs.items():
            if box.text() != vm.value(key):
                box.setText(vm.value(key))
            box.setReadOnly(not vm.editable(key))
        index = self.security.findData(vm.value("smtp_security").strip().lower())
        if index >= 0 and index != self.security.currentIndex():
            self.security.setCurrentIndex(index)
        self.security.setEnabled(vm.editable("smtp_security"))
        for key, cell in self.cells.items():
            cell.show_error(vm.field_error(key))
        self.password.show_secret(vm.password, vm.can_edit, PASSWORD_PLACEHOLDER)
        show_text(self.error, vm.error)
        self.save_button.setVisible(vm.can_edit)
        self.save_button.setEnabled(vm.can_save)
        if self.recipient.text() != vm.recipient:
            self.recipient.setText(vm.recipient)
        self.recipient.setReadOnly(not vm.can_edit)
        show_text(self.recipient_error, vm.field_error("recipient"))
        self.test_button.setEnabled(vm.can_test)
        self.test_button.setText("Sending…" if vm.busy else "Send a &test email")
        outcome = vm.outcome
        show_result(
            self.result, outcome.ok if outcome else None, outcome.message if outcome else ""
        )
