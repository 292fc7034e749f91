"""Start-up: first-run setup, sign-in, and the main window on a real database."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, QSettings, Qt
from pytestqt.qtbot import QtBot

from core.actor import Actor
from core.db.engine import Database
from core.enums import Role
from core.services import settings, users
from desktop.app import build_main_window, read_opening
from desktop.viewmodels.auth import AuthViewModel
from desktop.views.sign_in import SetupDialog, SignInDialog
from tests.gui.shots import keep_shot
from workers.waiting import wait_in_background


def _settings(tmp_path: Path) -> QSettings:
    return QSettings(str(tmp_path / "printdesk.ini"), QSettings.Format.IniFormat)


def test_first_start_sets_up_the_shop_and_its_admin(qtbot: QtBot, database: Database) -> None:
    vm = AuthViewModel(database)
    assert wait_in_background(lambda: read_opening(database)).needs_setup
    dialog = SetupDialog(vm)
    qtbot.addWidget(dialog)
    qtbot.keyClicks(dialog.shop_name, "Harbour Prints")
    qtbot.keyClicks(dialog.tax_id, "12 345 678 901")
    qtbot.keyClicks(dialog.admin_name, "Ada Owner")
    qtbot.keyClicks(dialog.admin_email, "ada@harbour.example")
    qtbot.keyClicks(dialog.password, "long enough")
    qtbot.keyClicks(dialog.password_again, "not the same")
    qtbot.mouseClick(dialog.ok, Qt.MouseButton.LeftButton)
    assert dialog.error.text() == "The two passwords are not the same."
    with database.session() as s:
        assert users.count_users(s) == 0

    dialog.password_again.clear()
    qtbot.keyClicks(dialog.password_again, "long enough")
    with qtbot.waitSignal(vm.signed_in):
        qtbot.mouseClick(dialog.ok, Qt.MouseButton.LeftButton)
    assert vm.actor is not None and vm.actor.is_admin
    with database.session() as s:
        shop, _ = settings.get_settings(s)
        admin = users.authenticate(s, "ada@harbour.example", "long enough")
    assert shop.business.name == "Harbour Prints" and shop.business.tax_id == "12 345 678 901"
    assert admin.role is Role.ADMIN
    assert not wait_in_background(lambda: read_opening(database)).needs_setup


@pytest.mark.no_gui_thread_sql
def test_sign_in_refuses_a_wrong_password(qtbot: QtBot, database: Database, admin: Actor) -> None:
    with database.session() as s:
        users.add_user(s, admin, "sam@shop.example", "Sam", Role.STAFF, "password123")
    vm = AuthViewModel(database)
    dialog = SignInDialog(vm, "My Print Shop")
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    qtbot.keyClicks(dialog.email, "sam@shop.example")
    qtbot.keyClicks(dialog.password, "wrong password")
    sign_in_at = dialog.ok.mapToGlobal(QPoint(0, 0))
    qtbot.mouseClick(dialog.ok, Qt.MouseButton.LeftButton)
    assert dialog.opening.isVisible() and not dialog.ok.isEnabled()  # checking, off the GUI thread
    assert dialog.opening.label.text() == "Checking your password…"
    keep_shot(dialog, "sign_in_checking.png")
    qtbot.waitUntil(lambda: dialog.error.text() == "Wrong email or password.")
    assert dialog.error.text() == "Wrong email or password." and dialog.error.isVisible()
    assert not dialog.opening.isVisible() and dialog.ok.isEnabled()
    assert dialog.ok.mapToGlobal(QPoint(0, 0)) == sign_in_at  # its room was kept
    assert vm.actor is None
    dialog.password.clear()
    qtbot.keyClicks(dialog.password, "password123")
    with qtbot.waitSignal(dialog.accepted):
        qtbot.keyClick(dialog.password, Qt.Key.Key_Return)
    assert vm.actor is not None and not vm.actor.is_admin


@pytest.mark.no_gui_thread_sql
def test_main_window_remembers_the_last_screen(
    qtbot: QtBot, database: Database, admin: Actor, tmp_path: Path
) -> None:
    window = build_main_window(database, admin, settings=_settings(tmp_path))
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    assert window.windowTitle() == "PrintDesk"
    assert database.describe() in window.statusBar().currentMessage()
    assert "test admin (admin)" in window.statusBar().currentMessage()
    assert "Ctrl+5" in window.buttons["invoices"].toolTip()
    qtbot.mouseClick(window.buttons["invoices"], Qt.MouseButton.LeftButton)
    assert window.stack.currentWidget() is window.page("invoices")
    window.close()

    again = build_main_window(database, admin, settings=_settings(tmp_path))
    qtbot.addWidget(again)
    assert again.shell.screen == "invoices"
    assert again.buttons["invoices"].isChecked()


@pytest.mark.no_gui_thread_sql
def test_a_payment_at_another_counter_shows_here(
    qtbot: QtBot, database: Database, admin: Actor, tmp_path: Path
) -> None:
    """The relay or another counter commits a payment; this window toasts it and its lists
    reload, with no action here."""
    from decimal import Decimal

    from core.enums import PaymentMethod
    from core.services import invoices, payments
    from core.services.payments import NewPayment
    from tests.factories import item, make_client

    client = make_client(database)
    with database.session() as s:
        inv = invoices.create_invoice(s, admin, client, [item()])
    window = build_main_window(database, admin, settings=_settings(tmp_path))
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    with qtbot.waitSignal(window.listener.connected, timeout=10_000):
        window.listener.start()
    try:
        with database.session() as s:
            payments.record_payment(
                s, admin, inv.id, NewPayment(Decimal("110.00"), PaymentMethod.BANK_TRANSFER)
            )

        def toasted() -> bool:
            return any(
                t.label.text() == "INV-0001 paid A$110.00 by bank transfer"
                for t in window.toasts.toasts
            )

        qtbot.waitUntil(toasted, timeout=5_000)
    finally:
        window.listener.stop()
