"""Recording a counter payment with the keyboard: Ctrl+P on an invoice, type, Enter."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from core.actor import Actor
from core.db.engine import Database
from core.db.models import Payment
from core.enums import InvoiceStatus, PaymentMethod
from core.services import invoices, payments
from desktop.views.payment_dialog import PaymentDialog
from tests.factories import item
from tests.gui.editor_support import open_in
from tests.gui.shots import keep_shot
from tests.gui.test_documents_support import (
    add_clients,
    count,
    make_ctx,
    make_shell,
    open_main_window,
)

CTRL = Qt.KeyboardModifier.ControlModifier


def payment_dialog(qtbot: QtBot) -> PaymentDialog:
    def found() -> PaymentDialog | None:
        dialogs = [w for w in QApplication.topLevelWidgets() if isinstance(w, PaymentDialog)]
        return next((d for d in dialogs if d.isVisible()), None)

    qtbot.waitUntil(lambda: found() is not None)
    dialog = found()
    assert dialog is not None
    return dialog


@pytest.mark.no_gui_thread_sql
def test_a_part_payment_then_more_than_is_owed_by_transfer_and_in_cash(
    qtbot: QtBot, database: Database, admin: Actor, tmp_path: Path
) -> None:
    clients = add_clients(database)
    with database.session() as s:
        invoice = invoices.create_invoice(s, admin, clients[0], [item("Bracket", "2", "50.00")])
    assert invoice.balance_due == Decimal("110.00")
    ctx = make_ctx(database, admin)
    shell = make_shell(tmp_path)
    window, _, invoices_page = open_main_window(qtbot, ctx, shell)
    shell.show("invoices")
    open_in(qtbot, invoices_page, invoice.id)
    editor = invoices_page.editor
    assert editor.figures["balance"].text() == "A$110.00"

    # Ctrl+P opens the dialog with the balance filled in and selected, so typing replaces it
    qtbot.keyClick(editor.table, Qt.Key.Key_P, CTRL)
    dialog = payment_dialog(qtbot)
    assert dialog.amount.text() == "110.00" and dialog.amount.selectedText() == "110.00"
    assert dialog.balance.text() == "A$110.00"
    qtbot.waitUntil(dialog.amount.hasFocus)
    qtbot.keyClicks(dialog.amount, "40")
    assert dialog.hint.text() == "A part payment: A$70.00 will still be owed."
    qtbot.keyClick(dialog.amount, Qt.Key.Key_Tab)
    assert dialog.method.hasFocus()
    qtbot.keyClick(dialog.method, Qt.Key.Key_B)  # jumps to "Bank transfer"
    assert dialog.method.currentText() == "Bank transfer"
    qtbot.keyClick(dialog.method, Qt.Key.Key_Tab)
    qtbot.keyClicks(dialog.reference, "BT 2231")
    with qtbot.waitSignal(dialog.finished):
        qtbot.keyClick(dialog.reference, Qt.Key.Key_Return)

    with database.session() as s:
        after = invoices.get_invoice(s, invoice.id)
    assert after.balance_due == Decimal("70.00") and after.status is InvoiceStatus.PENDING
    assert [(p.amount, p.method, p.reference) for p in after.payments] == [
        (Decimal("40.00"), PaymentMethod.BANK_TRANSFER, "BT 2231")
    ]
    # the editor shows the payment and what is left
    qtbot.waitUntil(lambda: editor.figures["balance"].text() == "A$70.00")
    assert editor.figures["paid"].text() == "A$40.00"
    assert not editor.no_payments.isVisible()

    # a typo is caught as it is typed, before anything is sent, and Record payment stays put
    window.activateWindow()  # offscreen hands activation back only when asked
    qtbot.waitUntil(window.isActiveWindow)
    qtbot.keyClick(editor.table, Qt.Key.Key_P, CTRL)
    dialog = payment_dialog(qtbot)
    assert dialog.amount.text() == "70.00"
    record_at = dialog.record_button.mapToGlobal(QPoint(0, 0))
    qtbot.keyClicks(dialog.amount, "12,5")
    assert not dialog.record_button.isEnabled()
    assert "use a point for decimals" in dialog.hint.text()
    assert dialog.record_button.mapToGlobal(QPoint(0, 0)) == record_at

    # more than is owed, by bank transfer: said as it is typed, and nothing can be recorded
    dialog.amount.selectAll()
    qtbot.keyClicks(dialog.amount, "100")
    assert dialog.change_row.isVisible()  # cash is the default: change first
    dialog.method.setFocus()
    qtbot.keyClick(dialog.method, Qt.Key.Key_B)
    assert dialog.method.currentText() == "Bank transfer"
    assert dialog.hint.text() == "A$100.00 is more than the A$70.00 still owed on INV-0001."
    assert not dialog.record_button.isEnabled() and not dialog.change_row.isVisible()
    assert dialog.record_button.mapToGlobal(QPoint(0, 0)) == record_at

    # in cash, the same A$100 pays the A$70 owed and the screen says what to give back
    qtbot.keyClick(dialog.method, Qt.Key.Key_Up)
    assert dialog.method.currentText() == "Cash"
    assert dialog.change.text() == "Change to give: A$30.00"
    assert dialog.hint.text() == "More than is owed: A$70.00 is recorded and A$30.00 given back."
    assert dialog.record_button.isEnabled()
    assert dialog.record_button.mapToGlobal(QPoint(0, 0)) == record_at
    keep_shot(dialog, "payment-cash-change.png")
    with qtbot.waitSignal(dialog.finished):
        qtbot.mouseClick(dialog.record_button, Qt.MouseButton.LeftButton)
    assert count(database, Payment) == 2
    with database.session() as s:
        paid = invoices.get_invoice(s, invoice.id)
    assert paid.status is InvoiceStatus.PAID and paid.balance_due == Decimal("0.00")
    assert [p.amount for p in paid.payments] == [Decimal("40.00"), Decimal("70.00")]
    qtbot.waitUntil(lambda: editor.status_pill.text() == "Paid")
    assert any("Give A$30.00 change." in t.label.text() for t in window.toasts.toasts)
    window.close()


@pytest.mark.no_gui_thread_sql
def test_a_refusal_from_the_service_shows_in_place(
    qtbot: QtBot, database: Database, admin: Actor, tmp_path: Path
) -> None:
    """Paid at another counter while the form was open: the service refuses, the dialog says
    why in the room kept for it, and Record payment has not moved."""
    clients = add_clients(database)
    with database.session() as s:
        invoice = invoices.create_invoice(s, admin, clients[0], [item("Bracket", "1", "10.00")])
    ctx = make_ctx(database, admin)
    window, _, invoices_page = open_main_window(qtbot, ctx, make_shell(tmp_path))
    invoices_page.shell.show("invoices")
    open_in(qtbot, invoices_page, invoice.id)
    editor = invoices_page.editor
    qtbot.mouseClick(editor.buttons["record_payment"], Qt.MouseButton.LeftButton)
    dialog = payment_dialog(qtbot)
    record_at = dialog.record_button.mapToGlobal(QPoint(0, 0))
    with database.session() as s:
        payments.record_payment(
            s, admin, invoice.id, payments.NewPayment(Decimal("11.00"), PaymentMethod.OTHER)
        )
    dialog.method.setFocus()
    qtbot.keyClick(dialog.method, Qt.Key.Key_B)
    qtbot.keyClick(dialog.method, Qt.Key.Key_Return)
    qtbot.waitUntil(dialog.refusal.isVisible)
    assert "INV-0001" in dialog.refusal.text() and dialog.isVisible()
    assert dialog.record_button.mapToGlobal(QPoint(0, 0)) == record_at
    assert count(database, Payment) == 1
    keep_shot(dialog, "payment-refused.png")
    qtbot.mouseClick(dialog.cancel_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not dialog.isVisible())
    window.close()


@pytest.mark.no_gui_thread_sql
def test_record_payment_is_not_offered_on_a_paid_invoice(
    qtbot: QtBot, database: Database, admin: Actor, tmp_path: Path
) -> None:
    clients = add_clients(database)
    with database.session() as s:
        invoice = invoices.create_invoice(s, admin, clients[0], [item("Bracket", "1", "10.00")])
    ctx = make_ctx(database, admin)
    window, _, invoices_page = open_main_window(qtbot, ctx, make_shell(tmp_path))
    invoices_page.shell.show("invoices")
    open_in(qtbot, invoices_page, invoice.id)
    editor = invoices_page.editor
    qtbot.mouseClick(editor.buttons["record_payment"], Qt.MouseButton.LeftButton)
    dialog = payment_dialog(qtbot)
    with qtbot.waitSignal(dialog.finished):
        qtbot.keyClick(dialog.amount, Qt.Key.Key_Return)  # the whole balance, in cash
    qtbot.waitUntil(lambda: editor.status_pill.text() == "Paid")
    assert not editor.buttons["record_payment"].isVisible()
    assert not editor.save_button.isVisible()
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    qtbot.keyClick(editor.table, Qt.Key.Key_P, CTRL)
    open_dialogs = [
        w for w in QApplication.topLevelWidgets() if isinstance(w, PaymentDialog) and w.isVisible()
    ]
    assert not open_dialogs
    window.close()


def test_a_payment_taken_here_toasts_once(
    qtbot: QtBot, database: Database, admin: Actor, tmp_path: Path
) -> None:
    """The form says the payment was recorded; the live notice of the same payment, which
    comes back from PostgreSQL a moment later, refreshes the screens but toasts nothing more."""
    from PySide6.QtCore import QSettings

    from desktop.app import build_main_window

    clients = add_clients(database)
    with database.session() as s:
        invoice = invoices.create_invoice(s, admin, clients[0], [item("Bracket", "1", "10.00")])
    window = build_main_window(
        database,
        admin,
        settings=QSettings(str(tmp_path / "shell.ini"), QSettings.Format.IniFormat),
    )
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    with qtbot.waitSignal(window.listener.connected, timeout=10_000):
        window.listener.start()
    try:
        page = window.page("invoices")
        window.shell.show("invoices")
        open_in(qtbot, page, invoice.id)
        editor = page.editor  # type: ignore[attr-defined]
        qtbot.mouseClick(editor.buttons["record_payment"], Qt.MouseButton.LeftButton)
        dialog = payment_dialog(qtbot)
        with qtbot.waitSignal(
            window.listener.changed,
            timeout=10_000,
            check_params_cb=lambda payload: payload.get("kind") == "payment",
        ):
            qtbot.mouseClick(dialog.record_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: editor.status_pill.text() == "Paid")
        texts = [t.label.text() for t in window.toasts.toasts]
        assert [t for t in texts if "INV-0001" in t] == [
            "A$11.00 by cash recorded; INV-0001 is paid."
        ]
    finally:
        window.listener.stop()
        window.close()
