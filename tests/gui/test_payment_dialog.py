"""Recording a counter payment with the keyboard: Ctrl+P on an invoice, type, Enter."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from core.actor import Actor
from core.db.engine import Database
from core.db.models import Payment
from core.enums import InvoiceStatus, PaymentMethod
from core.services import invoices
from desktop.views.payment_dialog import PaymentDialog
from tests.factories import item
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


def test_a_part_payment_by_keyboard_then_an_overpayment_refused(
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
    invoices_page.open_document(invoice.id)
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

    # more than is owed: the service refuses, the dialog says why and stays open
    window.activateWindow()  # offscreen hands activation back only when asked
    qtbot.waitUntil(window.isActiveWindow)
    qtbot.keyClick(editor.table, Qt.Key.Key_P, CTRL)
    dialog = payment_dialog(qtbot)
    assert dialog.amount.text() == "70.00"
    qtbot.keyClicks(dialog.amount, "70.01")
    qtbot.keyClick(dialog.amount, Qt.Key.Key_Return)
    qtbot.waitUntil(dialog.refusal.isVisible)
    assert dialog.refusal.text() == "A$70.01 is more than the A$70.00 still owed on INV-0001."
    assert dialog.isVisible()
    assert count(database, Payment) == 1
    with database.session() as s:
        assert invoices.get_invoice(s, invoice.id).balance_due == Decimal("70.00")

    # a typo is caught as it is typed, before anything is sent
    dialog.amount.selectAll()
    qtbot.keyClicks(dialog.amount, "12,5")
    assert not dialog.record_button.isEnabled()
    assert "use a point for decimals" in dialog.hint.text()
    qtbot.mouseClick(dialog.cancel_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not dialog.isVisible())
    assert count(database, Payment) == 1
    window.close()


def test_record_payment_is_not_offered_on_a_paid_invoice(
    qtbot: QtBot, database: Database, admin: Actor, tmp_path: Path
) -> None:
    clients = add_clients(database)
    with database.session() as s:
        invoice = invoices.create_invoice(s, admin, clients[0], [item("Bracket", "1", "10.00")])
    ctx = make_ctx(database, admin)
    window, _, invoices_page = open_main_window(qtbot, ctx, make_shell(tmp_path))
    invoices_page.shell.show("invoices")
    invoices_page.open_document(invoice.id)
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
