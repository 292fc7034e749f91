"""The sign-in dialog and the first-start setup dialog."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

from desktop.viewmodels.auth import AuthViewModel, ShopSetup
from desktop.views.theme import STYLESHEET


def _heading(text: str, sub: str) -> QWidget:
    box = QWidget()
    layout = QVBoxLayout(box)
    layout.setContentsMargins(0, 0, 0, 8)
    title = QLabel(text)
    title.setObjectName("pageTitle")
    layout.addWidget(title)
    note = QLabel(sub)
    note.setObjectName("pageSubtitle")
    note.setWordWrap(True)
    layout.addWidget(note)
    return box


def _plain_buttons(box: QDialogButtonBox) -> None:
    """No platform icons on the buttons: the stylesheet's look is the same everywhere."""
    for button in box.buttons():
        button.setIcon(QIcon())


def _error_label() -> QLabel:
    label = QLabel("")
    label.setStyleSheet("color: #c0392b;")
    label.setWordWrap(True)
    label.setVisible(False)
    return label


class SignInDialog(QDialog):
    def __init__(self, vm: AuthViewModel, shop_name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.vm = vm
        self.setWindowTitle("Sign in to PrintDesk")
        self.setStyleSheet(STYLESHEET)
        self.setMinimumWidth(420)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(28, 24, 28, 20)
        layout.addWidget(_heading(shop_name, "Sign in to the counter."))
        form = QFormLayout()
        self.email = QLineEdit()
        self.email.setPlaceholderText("you@shop.example")
        self.password = QLineEdit()
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        form.addRow("Email", self.email)
        form.addRow("Password", self.password)
        layout.addLayout(form)
        self.error = _error_label()
        layout.addWidget(self.error)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.ok = buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok.setText("Sign in")
        self.ok.setObjectName("primary")
        _plain_buttons(buttons)
        buttons.accepted.connect(self._submit)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        vm.error_changed.connect(self._show_error)
        self.email.setFocus()

    def _show_error(self, message: str) -> None:
        self.error.setText(message)
        self.error.setVisible(bool(message))

    def _submit(self) -> None:
        if self.vm.sign_in(self.email.text(), self.password.text()) is not None:
            self.accept()
        else:
            self.password.selectAll()
            self.password.setFocus()


class SetupDialog(QDialog):
    """First start: the business details that go on quotes and invoices, and the first admin."""

    def __init__(self, vm: AuthViewModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.vm = vm
        self.setWindowTitle("Set up PrintDesk")
        self.setStyleSheet(STYLESHEET)
        self.setMinimumWidth(520)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(28, 24, 28, 20)
        layout.addWidget(
            _heading(
                "Welcome to PrintDesk",
                "Tell PrintDesk about your shop and create the first admin. "
                "Everything here can be changed later in Settings.",
            )
        )
        form = QFormLayout()
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight)
        self.shop_name = QLineEdit()
        self.tax_id = QLineEdit()
        self.tax_id.setPlaceholderText("ABN, e.g. 12 345 678 901")
        self.shop_email = QLineEdit()
        self.phone = QLineEdit()
        self.address = QPlainTextEdit()
        self.address.setFixedHeight(64)
        self.admin_name = QLineEdit()
        self.admin_email = QLineEdit()
        self.password = QLineEdit()
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.password.setPlaceholderText("at least 8 characters")
        self.password_again = QLineEdit()
        self.password_again.setEchoMode(QLineEdit.EchoMode.Password)
        for label, widget in (
            ("Shop name", self.shop_name),
            ("ABN / tax id", self.tax_id),
            ("Shop email", self.shop_email),
            ("Phone", self.phone),
            ("Address", self.address),
        ):
            form.addRow(label, widget)
        section = QLabel("First admin")
        section.setObjectName("sectionTitle")
        form.addRow(section)
        for label, widget in (
            ("Your name", self.admin_name),
            ("Your email", self.admin_email),
            ("Password", self.password),
            ("Password again", self.password_again),
        ):
            form.addRow(label, widget)
        layout.addLayout(form)
        self.error = _error_label()
        layout.addWidget(self.error)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.ok = buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok.setText("Set up the shop")
        self.ok.setObjectName("primary")
        _plain_buttons(buttons)
        buttons.accepted.connect(self._submit)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        vm.error_changed.connect(self._show_error)

    def _show_error(self, message: str) -> None:
        self.error.setText(message)
        self.error.setVisible(bool(message))

    def _submit(self) -> None:
        form = ShopSetup(
            shop_name=self.shop_name.text(),
            tax_id=self.tax_id.text(),
            email=self.shop_email.text(),
            phone=self.phone.text(),
            address=self.address.toPlainText(),
            admin_name=self.admin_name.text(),
            admin_email=self.admin_email.text(),
            password=self.password.text(),
            password_again=self.password_again.text(),
        )
        if self.vm.set_up(form) is not None:
            self.accept()
