"""Settings → Payments: the Stripe keys (kept in the keyring, never shown), "Check the key", and
the pages a client lands on after paying or cancelling."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import QHBoxLayout, QLabel, QLineEdit, QPushButton

from desktop.viewmodels.payment_settings import PLACEHOLDER, URL_ENV, PaymentSettingsViewModel
from desktop.views.counter_forms import (
    CounterCard,
    FieldCell,
    SecretBox,
    add_row,
    hint_label,
    show_result,
)
from desktop.views.settings_forms import message_label, show_text

KEY_PLACEHOLDER = "Paste a new secret key (sk_live_… or sk_test_…)"
HOOK_PLACEHOLDER = "Paste a new signing secret (whsec_…)"


class PaymentSettingsPanel(CounterCard):
    def __init__(self, vm: PaymentSettingsViewModel) -> None:
        super().__init__(
            "Payments",
            "Card payments through Stripe: PrintDesk makes a payment link for each invoice and "
            "records the payment when the client pays. The keys come from the Stripe dashboard "
            "(Developers → API keys, and Webhooks) and are kept in this computer's keyring; "
            "they are never shown again.",
        )
        self.vm = vm
        layout = self.body
        self.read_only = message_label("formNotice")
        layout.addWidget(self.read_only)
        self.env_note = message_label("formNotice")
        layout.addWidget(self.env_note)

        keys = self.new_form()
        self.secret_key = SecretBox(KEY_PLACEHOLDER)
        self.secret_key.input.setObjectName("field:stripe_secret_key")
        self.secret_key.input.textEdited.connect(vm.set_secret_key)
        self.secret_key.forget_button.clicked.connect(lambda: vm.forget("secret_key"))
        add_row(keys, "Secret &key", self.secret_key, self.secret_key.input)
        self.webhook_secret = SecretBox(HOOK_PLACEHOLDER)
        self.webhook_secret.input.setObjectName("field:stripe_webhook_secret")
        self.webhook_secret.input.textEdited.connect(vm.set_webhook_secret)
        self.webhook_secret.forget_button.clicked.connect(lambda: vm.forget("webhook_secret"))
        self.webhook_secret.hint.setText(
            "Needed where Stripe's events arrive (the relay); a counter alone can leave it empty."
        )
        self.webhook_secret.hint.setVisible(True)
        add_row(keys, "&Webhook secret", self.webhook_secret, self.webhook_secret.input)

        check_row = QHBoxLayout()
        check_row.setSpacing(12)
        self.check_button = QPushButton("&Check the key")
        self.check_button.setMinimumWidth(150)
        self.check_button.setToolTip("Ask Stripe whether the key works (Alt+C)")
        self.check_button.clicked.connect(vm.check_key)
        check_row.addWidget(self.check_button)
        check_row.addWidget(
            hint_label("Asks Stripe with the key typed above, or the one kept, without saving."),
            1,
        )
        layout.addLayout(check_row)
        self.result = QLabel()
        self.result.setObjectName("resultOk")
        self.result.setWordWrap(True)
        self.result.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.result.setVisible(False)
        layout.addWidget(self.result)

        self.add_line()
        pages = QLabel("After paying")
        pages.setObjectName("subHeading")
        layout.addWidget(pages)
        layout.addWidget(
            hint_label(
                f"Where Stripe sends the client back to. {PLACEHOLDER} in an address becomes "
                "the invoice's number (e.g. https://yourshop.example/paid?invoice=INV-0042), so "
                "your page can say which invoice was paid."
            )
        )
        form = self.new_form()
        self.inputs: dict[str, QLineEdit] = {}
        self.cells: dict[str, FieldCell] = {}
        for key, caption in (
            ("checkout_success_url", "Paid &page"),
            ("checkout_cancel_url", "Cance&lled page"),
        ):
            box = QLineEdit()
            box.setObjectName(f"field:{key}")
            box.setPlaceholderText("https://yourshop.example/…?invoice=" + PLACEHOLDER)
            box.textEdited.connect(lambda text, key=key: vm.set_value(key, text))
            cell = FieldCell(box)
            self.inputs[key] = box
            self.cells[key] = cell
            add_row(form, caption, cell, box)

        self.error = message_label("formMessage")
        layout.addWidget(self.error)
        buttons = QHBoxLayout()
        self.where = QLabel(f"Addresses kept in {vm.config_file} on this computer.")
        self.where.setObjectName("counterWhere")
        self.where.setWordWrap(True)
        self.where.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        buttons.addWidget(self.where, 1)
        self.save_button = QPushButton("&Save changes")
        self.save_button.setObjectName("primary")
        self.save_button.setToolTip("Save the keys and the addresses (Alt+S)")
        self.save_button.clicked.connect(vm.save)
        buttons.addWidget(self.save_button)
        layout.addLayout(buttons)

        vm.changed.connect(self._refresh)
        self._refresh()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self.vm.load()

    def _refresh(self) -> None:
        vm = self.vm
        show_text(self.read_only, vm.read_only_note)
        show_text(self.env_note, vm.env_note)
        self.secret_key.show_secret(vm.secret_key, vm.can_edit, KEY_PLACEHOLDER)
        self.secret_key.show_error(vm.field_error("secret_key"))
        self.webhook_secret.show_secret(vm.webhook_secret, vm.can_edit, HOOK_PLACEHOLDER)
        self.webhook_secret.show_error(vm.field_error("webhook_secret"))
        for key in URL_ENV:
            box = self.inputs[key]
            if box.text() != vm.value(key):
                box.setText(vm.value(key))
            box.setReadOnly(not vm.editable(key))
            cell = self.cells[key]
            cell.show_error(vm.field_error(key))
            show_text(cell.hint, vm.placeholder_note(key))
        show_text(self.error, vm.error)
        self.save_button.setVisible(vm.can_edit)
        self.save_button.setEnabled(vm.can_save)
        self.check_button.setEnabled(vm.can_check)
        self.check_button.setText("Checking…" if vm.busy else "&Check the key")
        result = vm.result
        show_result(self.result, result.ok if result else None, result.message if result else "")
