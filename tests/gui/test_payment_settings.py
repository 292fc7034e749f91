"""Settings → Payments, as an admin turns on card payments: paste the Stripe key, check it
against the Stripe stand-in (a bad key, then the good one), save it into the keyring, never see it
again; the pages a client returns to; a publishable key, no keyring, the environment, staff."""

# pytest-qt's input helpers carry no annotations.
# mypy: disable-error-code="no-untyped-call"
# Fixtures imported from support modules are named again as test parameters:
# ruff: noqa: F811

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import keyring
import pytest
from keyring.backends import fail
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from core.config import AppConfig, read_config_file
from core.db.engine import Database
from core.enums import Role
from core.payments.stripe_client import StripeGateway
from desktop.views.payment_settings import PaymentSettingsPanel
from tests.gui.counter_support import (  # noqa: F401 (fixtures)
    Counter,
    Keyring,
    Open,
    config_file,
    file_keyring,
    open_counter,
    signed_in,
)
from tests.gui.shots import keep_shot
from tests.gui.test_settings import go_to, retype
from tests.stripe_standin import DEFAULT_KEY, StripeStandin

HOOK = "whsec_printdesk_test_0123456789abcdef"
PAID = "https://layerlab.example/paid?invoice={INVOICE_NUMBER}"

# The settings screen loads in the background: no SQL may run on the GUI thread.
pytestmark = pytest.mark.no_gui_thread_sql


@pytest.fixture
def stripe() -> Iterator[StripeStandin]:
    with StripeStandin() as standin:
        yield standin


def _payments(qtbot: QtBot, screen: Counter) -> PaymentSettingsPanel:
    go_to(qtbot, screen.page, "Payments")
    panel = screen.page.extra["payments"]
    assert isinstance(panel, PaymentSettingsPanel)
    assert screen.page.stack.currentWidget() is panel
    return panel


def _click(qtbot: QtBot, button: object) -> None:
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def test_paste_the_key_check_it_and_save_it_into_the_keyring(
    qtbot: QtBot,
    open_counter: Open,
    database: Database,
    config_file: Path,
    file_keyring: Keyring,
    stripe: StripeStandin,
) -> None:
    admin = signed_in(database)
    screen = open_counter(admin, stripe_api_base=stripe.url)
    panel = _payments(qtbot, screen)
    assert "Stripe secret key: not set." in screen.texts()
    assert not panel.save_button.isEnabled()
    cancel_note = panel.cells["checkout_cancel_url"].hint
    assert cancel_note.isVisible() and "PrintDesk's example address" in cancel_note.text()

    # A key Stripe does not know: its refusal, in words.
    retype(qtbot, panel.secret_key.input, "sk_test_not_the_shops_key")
    with qtbot.waitSignal(panel.vm.checked, timeout=15_000) as bad:
        _click(qtbot, panel.check_button)
        assert panel.check_button.text() == "Checking…"
    assert not bad.args[0].ok
    assert panel.result.isVisible() and "Invalid API Key" in panel.result.text()
    assert "Settings → Payments" in panel.result.text()
    assert stripe.requests_to("GET", "/v1/checkout/sessions")  # it really asked

    # The shop's key: it works; nothing is kept until Save.
    retype(qtbot, panel.secret_key.input, DEFAULT_KEY)
    with qtbot.waitSignal(panel.vm.checked, timeout=15_000) as good:
        _click(qtbot, panel.check_button)
    assert good.args[0].ok, good.args[0].message
    assert panel.result.text() == "The key works (test mode)."
    assert file_keyring.held() == {}

    retype(qtbot, panel.webhook_secret.input, HOOK)
    retype(qtbot, panel.inputs["checkout_success_url"], "https://layerlab.example/paid")
    assert "has no {INVOICE_NUMBER}" in panel.cells["checkout_success_url"].hint.text()
    retype(qtbot, panel.inputs["checkout_success_url"], PAID)
    assert not panel.cells["checkout_success_url"].hint.isVisible()
    keep_shot(screen.host, "settings-payments-typed.png")
    _click(qtbot, panel.save_button)
    assert not panel.error.isVisible(), panel.error.text()

    assert file_keyring.held() == {"stripe_secret_key": DEFAULT_KEY, "stripe_webhook_secret": HOOK}
    assert read_config_file(config_file) == {
        "checkout_success_url": PAID,
        "checkout_cancel_url": AppConfig.model_fields["checkout_cancel_url"].default,
    }
    text = config_file.read_text()
    assert DEFAULT_KEY not in text and HOOK not in text
    fresh = AppConfig()
    assert fresh.stripe_secret_key == DEFAULT_KEY and fresh.checkout_success_url == PAID
    assert StripeGateway.from_config(fresh).configured
    # Only whether it is set and where from, never the value.
    assert panel.secret_key.input.text() == "" and panel.webhook_secret.input.text() == ""
    shown = screen.texts()
    assert "Stripe secret key: set, kept in this computer's keyring." in shown
    assert "Stripe webhook signing secret: set, kept in this computer's keyring." in shown
    assert DEFAULT_KEY not in shown and HOOK not in shown

    # Opened again: the key kept is the one "Check the key" uses.
    screen.host.close()
    again = open_counter(admin, stripe_api_base=stripe.url)
    panel = _payments(qtbot, again)
    assert panel.inputs["checkout_success_url"].text() == PAID
    assert panel.secret_key.forget_button.isVisible()
    with qtbot.waitSignal(panel.vm.checked, timeout=15_000) as kept:
        _click(qtbot, panel.check_button)
    assert kept.args[0].ok
    keep_shot(again.host, "settings-payments-saved.png")

    # Remove takes it out of the keyring: payment links are off again.
    _click(qtbot, panel.webhook_secret.forget_button)
    assert file_keyring.held() == {"stripe_secret_key": DEFAULT_KEY}
    assert "Stripe webhook signing secret: not set." in again.texts()


def test_wrong_keys_and_addresses_are_refused_and_nothing_is_kept(
    qtbot: QtBot, open_counter: Open, database: Database, config_file: Path, file_keyring: Keyring
) -> None:
    screen = open_counter(signed_in(database))
    panel = _payments(qtbot, screen)
    retype(qtbot, panel.secret_key.input, "pk_test_the_publishable_one")
    retype(qtbot, panel.webhook_secret.input, "we_1234")
    retype(qtbot, panel.inputs["checkout_cancel_url"], "layerlab.example/cancelled")
    _click(qtbot, panel.save_button)
    assert "That is the publishable key" in panel.secret_key.error.text()
    assert "starts with whsec_" in panel.webhook_secret.error.text()
    assert "must be a full web address" in panel.cells["checkout_cancel_url"].error.text()
    assert file_keyring.held() == {} and not config_file.exists()

    # "Check the key" with no key anywhere asks for one first.
    retype(qtbot, panel.secret_key.input, "")
    _click(qtbot, panel.check_button)
    assert panel.secret_key.error.text().startswith("Type the secret key first")


def test_without_a_keyring_or_with_the_environment_the_page_says_where_the_key_goes(
    qtbot: QtBot,
    open_counter: Open,
    database: Database,
    config_file: Path,
    monkeypatch: pytest.MonkeyPatch,
    stripe: StripeStandin,
) -> None:
    previous = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    try:
        monkeypatch.setenv("STRIPE_SECRET_KEY", DEFAULT_KEY)
        screen = open_counter(signed_in(database), stripe_api_base=stripe.url)
        panel = _payments(qtbot, screen)
        assert panel.secret_key.input.isReadOnly()
        assert "set in the environment (STRIPE_SECRET_KEY)" in panel.secret_key.status.text()
        assert not panel.secret_key.problem.isVisible()  # the environment has it: no problem
        assert DEFAULT_KEY not in screen.texts()
        with qtbot.waitSignal(panel.vm.checked, timeout=15_000) as checked:
            _click(qtbot, panel.check_button)
        assert checked.args[0].ok
        # The webhook secret has no home on this computer: the page names the variable.
        assert panel.webhook_secret.input.isReadOnly()
        assert "STRIPE_WEBHOOK_SECRET environment variable" in panel.webhook_secret.problem.text()
        keep_shot(screen.host, "settings-payments-no-keyring.png")
    finally:
        keyring.set_keyring(previous)


def test_staff_see_whether_payments_are_set_up_but_change_nothing(
    qtbot: QtBot, open_counter: Open, database: Database, file_keyring: Keyring
) -> None:
    screen = open_counter(signed_in(database, Role.STAFF))
    panel = _payments(qtbot, screen)
    assert panel.read_only.isVisible()
    assert panel.secret_key.input.isReadOnly() and panel.inputs["checkout_success_url"].isReadOnly()
    assert not panel.save_button.isVisible() and not panel.check_button.isEnabled()
    assert "Stripe secret key: not set." in screen.texts()
