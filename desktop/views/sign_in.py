"""The sign-in dialog and the first-start setup dialog."""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, QEventLoop, Qt
from PySide6.QtGui import QCloseEvent, QIcon
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from core.health import PartHealth, State
from desktop.viewmodels.auth import AuthViewModel, ShopSetup
from desktop.views.messages import ReservedMessage
from desktop.views.theme import BAD, MUTED, OK, STYLESHEET

SECURITY_CHOICES = (
    ("STARTTLS (port 587)", "starttls"),
    ("SSL (port 465)", "ssl"),
    ("None", "none"),
)


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


class OpeningRow(QWidget):
    """ "Opening PrintDesk…" with a busy bar: shown from Sign in until the main window is up."""

    def __init__(self) -> None:
        super().__init__()
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        self.label = QLabel("Opening PrintDesk…")
        self.label.setObjectName("muted")
        self.bar = QProgressBar()
        self.bar.setRange(0, 0)  # busy: how long it takes is not known
        self.bar.setTextVisible(False)
        self.bar.setFixedHeight(6)
        row.addWidget(self.label)
        row.addWidget(self.bar, 1)
        keep_room = self.sizePolicy()  # showing it never moves the buttons under the pointer
        keep_room.setRetainSizeWhenHidden(True)
        self.setSizePolicy(keep_room)
        self.setVisible(False)


class ConnectingWindow(QDialog):
    """What shows while the database is opened at start-up (a remote one can take seconds)."""

    def __init__(self, where: str) -> None:
        super().__init__()
        self.setWindowTitle("PrintDesk")
        self.setStyleSheet(STYLESHEET)
        self.setMinimumWidth(420)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 20, 24, 20)
        layout.addWidget(_heading("PrintDesk", f"Opening the shop's database ({where})…"))
        bar = QProgressBar()
        bar.setRange(0, 0)
        bar.setTextVisible(False)
        bar.setFixedHeight(6)
        layout.addWidget(bar)


def _show_opening(dialog: QDialog, opening: OpeningRow, busy: list[QWidget]) -> None:
    """Say the counter is opening and draw it now: the window is built on this thread next."""
    for widget in busy:
        widget.setEnabled(False)
    opening.label.setText("Opening PrintDesk…")
    opening.setVisible(True)
    dialog.repaint()
    QCoreApplication.processEvents(QEventLoop.ProcessEventsFlag.ExcludeUserInputEvents)


def _show_busy(
    dialog: QDialog, vm: AuthViewModel, opening: OpeningRow, busy: list[QWidget], doing: str
) -> None:
    """While the password is checked (or the shop set up) the row says so and the form waits.
    Signed in, the dialog closes: whoever opened the counter on `signed_in` has done so."""
    if vm.actor is not None:
        if not doing:
            dialog.accept()
        return
    for widget in busy:
        widget.setEnabled(not doing)
    if doing:
        opening.label.setText(doing)
    opening.setVisible(bool(doing))


def _error_label() -> ReservedMessage:
    label = ReservedMessage(lines=2)
    label.setStyleSheet(f"color: {BAD};")
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
        self.opening = OpeningRow()
        layout.addWidget(self.opening)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons = buttons
        self.ok = buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok.setText("Sign in")
        self.ok.setObjectName("primary")
        _plain_buttons(buttons)
        buttons.accepted.connect(self._submit)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        vm.error_changed.connect(self._show_error)
        vm.busy_changed.connect(
            lambda doing: _show_busy(
                self, vm, self.opening, [self.email, self.password, self.buttons], doing
            )
        )
        # Queued: whoever opens the counter on `signed_in` does so before the dialog closes.
        self.email.setFocus()

    def show_opening(self) -> None:
        _show_opening(self, self.opening, [self.email, self.password, self.buttons])

    def _submit(self) -> None:
        self.vm.sign_in(self.email.text(), self.password.text())

    def _show_error(self, message: str) -> None:
        self.error.show_message(message)
        if message:
            self.password.selectAll()
            self.password.setFocus()


class SetupDialog(QDialog):
    """First start: the business details that go on quotes and invoices, and the first admin."""

    def __init__(self, vm: AuthViewModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.vm = vm
        self.setWindowTitle("Set up PrintDesk")
        self.setStyleSheet(STYLESHEET)
        self.setMinimumWidth(980)
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
        columns = QHBoxLayout()
        columns.setSpacing(32)
        for column in (form, self._connections()):
            holder = QVBoxLayout()
            holder.addLayout(column)
            holder.addStretch(1)
            columns.addLayout(holder, 1)
        layout.addLayout(columns)
        self.error = _error_label()
        layout.addWidget(self.error)
        self.opening = OpeningRow()
        layout.addWidget(self.opening)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons = buttons
        self.ok = buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok.setText("Set up the shop")
        self.ok.setObjectName("primary")
        _plain_buttons(buttons)
        buttons.accepted.connect(self._submit)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        vm.error_changed.connect(self._show_error)
        vm.checked.connect(self._show_check)
        vm.busy_changed.connect(
            lambda doing: _show_busy(self, vm, self.opening, [self.buttons], doing)
        )
        self.shop_name.setFocus()
        vm.find_slicer()

    def _connections(self) -> QFormLayout:
        """This computer's slicer, and the optional Stripe and email settings with "Test"."""
        form = QFormLayout()
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight)
        heading = QLabel("This computer")
        heading.setObjectName("sectionTitle")
        form.addRow(heading)
        self.slicer = _check_label("Looking for CuraEngine and Cura's printer definitions…")
        form.addRow("Slicer", self.slicer)

        heading = QLabel("Card payments and email (optional)")
        heading.setObjectName("sectionTitle")
        form.addRow(heading)
        self.stripe_key = QLineEdit()
        self.stripe_key.setEchoMode(QLineEdit.EchoMode.Password)
        self.stripe_key.setPlaceholderText("sk_live_… or sk_test_…")
        self.stripe_test = QPushButton("Test")
        self.stripe_test.setToolTip("Ask Stripe whether this key works")
        self.stripe_test.clicked.connect(lambda: self.vm.test_stripe(self.stripe_key.text()))
        form.addRow("Stripe secret key", _with_button(self.stripe_key, self.stripe_test))
        self.stripe_result = _check_label("")
        form.addRow("", self.stripe_result)

        self.smtp_host = QLineEdit()
        self.smtp_host.setPlaceholderText("smtp.example.com")
        self.smtp_port = QSpinBox()
        self.smtp_port.setRange(1, 65535)
        self.smtp_port.setValue(587)
        self.smtp_port.setMinimumWidth(110)
        self.smtp_port.setToolTip("Port")
        self.smtp_security = QComboBox()
        for text, value in SECURITY_CHOICES:
            self.smtp_security.addItem(text, value)
        self.smtp_security.currentIndexChanged.connect(self._default_port)
        server = QHBoxLayout()
        server.addWidget(self.smtp_host, 1)
        server.addWidget(self.smtp_port)
        server_box = QWidget()
        server_box.setLayout(server)
        server.setContentsMargins(0, 0, 0, 0)
        form.addRow("Mail server", server_box)
        form.addRow("Security", self.smtp_security)
        self.smtp_username = QLineEdit()
        self.smtp_password = QLineEdit()
        self.smtp_password.setEchoMode(QLineEdit.EchoMode.Password)
        self.email_test = QPushButton("Test")
        self.email_test.setToolTip("Connect to the mail server and log in; nothing is sent")
        self.email_test.clicked.connect(lambda: self.vm.test_email(self._form()))
        form.addRow("Mail username", self.smtp_username)
        form.addRow("Mail password", _with_button(self.smtp_password, self.email_test))
        self.email_result = _check_label("")
        form.addRow("", self.email_result)
        note = QLabel("Keys and passwords are kept in this computer's keyring.")
        note.setObjectName("muted")
        note.setWordWrap(True)
        form.addRow("", note)
        self.stripe_key.textChanged.connect(lambda text: self.stripe_test.setEnabled(bool(text)))
        self.smtp_host.textChanged.connect(lambda text: self.email_test.setEnabled(bool(text)))
        self.stripe_test.setEnabled(False)
        self.email_test.setEnabled(False)
        return form

    def _default_port(self) -> None:
        ports = {"starttls": 587, "ssl": 465}
        port = ports.get(str(self.smtp_security.currentData()))
        if port is not None and self.smtp_port.value() in (25, 465, 587):
            self.smtp_port.setValue(port)

    def _show_check(self, what: str, result: PartHealth) -> None:
        label = {"slicer": self.slicer, "stripe": self.stripe_result, "email": self.email_result}
        _show_result(label[what], result)
        # A longer answer must not squeeze the form: grow the dialog to fit it.
        layout = self.layout()
        needed = layout.totalHeightForWidth(self.width()) if layout is not None else 0
        if needed > self.height():
            self.resize(self.width(), needed)

    def _show_error(self, message: str) -> None:
        self.error.show_message(message)

    def show_opening(self) -> None:
        _show_opening(self, self.opening, [self.buttons])

    def done(self, result: int) -> None:
        self.vm.wait()
        super().done(result)

    def closeEvent(self, event: QCloseEvent) -> None:
        self.vm.wait()
        super().closeEvent(event)

    def _submit(self) -> None:
        self.vm.set_up(self._form())

    def _form(self) -> ShopSetup:
        return ShopSetup(
            shop_name=self.shop_name.text(),
            tax_id=self.tax_id.text(),
            email=self.shop_email.text(),
            phone=self.phone.text(),
            address=self.address.toPlainText(),
            admin_name=self.admin_name.text(),
            admin_email=self.admin_email.text(),
            password=self.password.text(),
            password_again=self.password_again.text(),
            stripe_key=self.stripe_key.text(),
            smtp_host=self.smtp_host.text(),
            smtp_port=self.smtp_port.value(),
            smtp_security=str(self.smtp_security.currentData()),
            smtp_username=self.smtp_username.text(),
            smtp_password=self.smtp_password.text(),
        )


def _check_label(text: str) -> QLabel:
    label = QLabel(text)
    label.setWordWrap(True)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    label.setStyleSheet(f"color: {MUTED};")
    label.setVisible(bool(text))
    return label


def _show_result(label: QLabel, result: PartHealth) -> None:
    if result.state is State.OK:
        label.setText(f"✓ {result.detail}")
        label.setStyleSheet(f"color: {OK};")
    else:
        label.setText(f"✗ {result.detail}\n{result.fix}" if result.fix else f"✗ {result.detail}")
        label.setStyleSheet(f"color: {BAD if result.state is State.FAILED else MUTED};")
    label.setVisible(True)


def _with_button(field: QWidget, button: QPushButton) -> QWidget:
    box = QWidget()
    row = QHBoxLayout(box)
    row.setContentsMargins(0, 0, 0, 0)
    row.addWidget(field, 1)
    row.addWidget(button)
    return box
