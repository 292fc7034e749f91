"""The editor as the counter uses it: typing a quote, saving, sending, accepting, converting."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QAbstractItemView, QApplication, QLineEdit, QTableView
from pytestqt.logging import _QtMessageCapture as QtLog
from pytestqt.qtbot import QtBot

from core.actor import Actor
from core.db.engine import Database
from core.db.models import Invoice, Quote
from core.enums import InvoiceStatus, QuoteStatus
from core.services import invoices, quotes
from core.services.line_items import DocumentTerms
from desktop.viewmodels.document_editor import LineColumn
from desktop.views.document_editor import ConfirmDialog, DocumentEditorView
from tests.factories import item
from tests.gui.test_documents_support import (
    add_clients,
    count,
    make_ctx,
    make_shell,
    open_main_window,
)

CTRL = Qt.KeyboardModifier.ControlModifier


def cell_editor(qtbot: QtBot) -> QLineEdit:
    """The line edit of the table cell being edited (it has the keyboard)."""
    qtbot.waitUntil(lambda: isinstance(QApplication.focusWidget(), QLineEdit))
    editor = QApplication.focusWidget()
    assert isinstance(editor, QLineEdit)
    return editor


def edit_cell(qtbot: QtBot, table: QTableView, row: int, column: int) -> None:
    """Click the cell, then F2 to edit it."""
    rect = table.visualRect(table.model().index(row, column))
    qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.keyClick(table, Qt.Key.Key_F2)


def type_line(
    qtbot: QtBot, table: QTableView, description: str, quantity: str, price: str, discount: str
) -> None:
    """Type one line cell by cell, Tab between cells, Enter at the end, as at the counter."""
    for text in (description, quantity, price):
        editor = cell_editor(qtbot)
        qtbot.keyClicks(editor, text)
        qtbot.keyClick(editor, Qt.Key.Key_Tab)
    editor = cell_editor(qtbot)
    if discount:
        qtbot.keyClicks(editor, discount)
    qtbot.keyClick(editor, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: table.state() != QAbstractItemView.State.EditingState)


def pick_client(qtbot: QtBot, qtlog: QtLog, editor: DocumentEditorView, typed: str) -> None:
    """Type part of a name, then take the first match from the picker's list with the keys."""
    # The offscreen platform cannot raise a popup or let it grab the keyboard, and says so;
    # the popup works all the same.
    with qtlog.disabled():
        qtbot.keyClicks(editor.client_edit, typed)
        popup = editor.completer.popup()
        assert popup is not None
        qtbot.waitUntil(lambda: popup.isVisible() and popup.model().rowCount() > 0)
        qtbot.keyClick(popup, Qt.Key.Key_Down)
        qtbot.keyClick(popup, Qt.Key.Key_Return)
        qtbot.waitUntil(lambda: editor.vm.client_id is not None)


def test_a_quote_typed_at_the_counter_becomes_an_invoice(
    qtbot: QtBot, qtlog: QtLog, database: Database, admin: Actor, tmp_path: Path
) -> None:
    add_clients(database)
    ctx = make_ctx(database, admin)
    shell = make_shell(tmp_path)
    window, quotes_page, invoices_page = open_main_window(qtbot, ctx, shell)
    shell.show("quotes")
    qtbot.waitUntil(lambda: quotes_page.isVisible() and quotes_page.view_model.loaded)

    # Ctrl+N on the quotes screen starts a quote with the client picker ready for typing
    qtbot.keyClick(quotes_page.list_view.table, Qt.Key.Key_N, CTRL)
    qtbot.waitUntil(lambda: quotes_page.editing)
    editor = quotes_page.editor
    qtbot.waitUntil(editor.client_edit.hasFocus)
    pick_client(qtbot, qtlog, editor, "Grace")
    assert editor.vm.client_name == "Grace Hopper"
    assert editor.client_edit.text() == "Grace Hopper"
    assert "grace@compilers.example" in editor.client_detail.text()

    edit_cell(qtbot, editor.table, 0, LineColumn.DESCRIPTION)
    type_line(qtbot, editor.table, "Drone arm bracket, PETG", "3", "18.40", "10%")
    # 3 × 18.40 = 55.20, less 10 % = 49.68; GST 10 % = 4.97; total 54.65
    assert editor.figures["subtotal"].text() == "A$49.68"
    assert editor.figures["total"].text() == "A$54.65"

    qtbot.mouseClick(editor.add_line_button, Qt.MouseButton.LeftButton)
    type_line(qtbot, editor.table, "Setup", "1", "20", "")
    assert editor.figures["total"].text() == "A$76.65"
    assert not editor.problems.isVisible()
    assert editor.dirty_label.isVisible()

    qtbot.keyClick(editor.table, Qt.Key.Key_S, CTRL)
    qtbot.waitUntil(lambda: not editor.vm.dirty)
    assert editor.title.text() == "QT-0001"
    quote_id = editor.vm.document_id
    assert quote_id is not None
    with database.session() as s:
        saved = quotes.get_quote(s, quote_id)
    assert [(i.description, i.line_total) for i in saved.items] == [
        ("Drone arm bracket, PETG", Decimal("49.68")),
        ("Setup", Decimal("20.00")),
    ]
    assert saved.total == Decimal("76.65") and saved.client_name == "Grace Hopper"

    qtbot.mouseClick(editor.buttons["send"], Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: editor.status_pill.text() == "Pending")
    assert not editor.buttons["send"].isVisible()
    qtbot.mouseClick(editor.buttons["accept"], Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: editor.status_pill.text() == "Accepted")
    assert count(database, Quote, status=QuoteStatus.ACCEPTED.value) == 1
    assert not editor.save_button.isVisible()  # an accepted quote is not edited any more

    qtbot.mouseClick(editor.buttons["convert"], Qt.MouseButton.LeftButton)
    # the new invoice opens on the Invoices screen
    qtbot.waitUntil(lambda: shell.screen == "invoices" and invoices_page.editing)
    assert invoices_page.editor.title.text() == "INV-0001"
    assert invoices_page.isVisible()
    invoice_id = invoices_page.editor.vm.document_id
    assert invoice_id is not None
    with database.session() as s:
        invoice = invoices.get_invoice(s, invoice_id)
    assert invoice.source_quote_id == quote_id
    assert invoice.total == Decimal("76.65") and invoice.status is InvoiceStatus.PENDING
    assert count(database, Quote, status=QuoteStatus.CONVERTED.value) == 1
    window.close()


def test_a_refused_save_shows_why_and_keeps_the_typing(
    qtbot: QtBot, database: Database, admin: Actor, tmp_path: Path
) -> None:
    clients = add_clients(database)
    with database.session() as s:
        quote = quotes.create_quote(s, admin, clients[0], [item("Bracket", "2", "10.00")])
    ctx = make_ctx(database, admin)
    window, quotes_page, _ = open_main_window(qtbot, ctx, make_shell(tmp_path))
    quotes_page.shell.show("quotes")
    quotes_page.open_document(quote.id)
    editor = quotes_page.editor

    # a line that cannot be saved: the problem is shown in the service's words, nothing written
    edit_cell(qtbot, editor.table, 0, LineColumn.QUANTITY)
    edit = cell_editor(qtbot)
    qtbot.keyClicks(edit, "0")
    qtbot.keyClick(edit, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: editor.table.state() != QAbstractItemView.State.EditingState)
    qtbot.waitUntil(editor.problems.isVisible)
    assert "Line 1: the quantity must be more than zero." in editor.problems.text()
    assert editor.figures["total"].text() == "A$0.00"

    # another counter changes the quote first: the save is refused, not overwritten
    with database.session() as s:
        quotes.update_quote(
            s, admin, quote.id, [item("Bracket", "5", "10.00")], DocumentTerms(), expected_version=1
        )
    edit_cell(qtbot, editor.table, 0, LineColumn.QUANTITY)
    edit = cell_editor(qtbot)
    qtbot.keyClicks(edit, "3")
    qtbot.keyClick(edit, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: editor.table.state() != QAbstractItemView.State.EditingState)
    qtbot.mouseClick(editor.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(editor.stale_banner.isVisible)
    assert "Changed elsewhere — reload" in editor.stale_label.text()
    assert editor.vm.lines.lines[0].quantity == "3"
    with database.session() as s:
        assert quotes.get_quote(s, quote.id).items[0].quantity == Decimal("5")

    qtbot.mouseClick(editor.reload_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not editor.stale_banner.isVisible())
    assert editor.vm.lines.data(editor.vm.lines.index(0, LineColumn.QUANTITY)) == "5"
    window.close()


def test_staff_cannot_delete_and_admins_confirm_first(
    qtbot: QtBot, database: Database, admin: Actor, staff: Actor, tmp_path: Path
) -> None:
    clients = add_clients(database)
    with database.session() as s:
        invoice = invoices.create_invoice(s, admin, clients[0], [item("Bracket", "2", "10.00")])

    staff_ctx = make_ctx(database, staff)
    window, _, invoices_page = open_main_window(qtbot, staff_ctx, make_shell(tmp_path))
    invoices_page.open_document(invoice.id)
    menu = invoices_page.editor.menu_actions
    for key, why in (
        ("delete", "Only an admin may delete invoices."),
        ("void", "Only an admin may void invoices."),
        ("write_off", "Only an admin may write off invoices."),
    ):
        assert menu[key].isVisible() and not menu[key].isEnabled()
        assert menu[key].toolTip() == why
    menu["delete"].trigger()  # a disabled entry does nothing
    assert not [w for w in QApplication.topLevelWidgets() if isinstance(w, ConfirmDialog)]
    assert count(database, Invoice) == 1
    window.close()

    admin_ctx = make_ctx(database, admin)
    window, _, invoices_page = open_main_window(qtbot, admin_ctx, make_shell(tmp_path))
    invoices_page.activated()
    invoices_page.open_document(invoice.id)
    invoices_page.editor.menu_actions["delete"].trigger()

    def confirm_dialog() -> ConfirmDialog:
        found = [w for w in QApplication.topLevelWidgets() if isinstance(w, ConfirmDialog)]
        assert found and found[0].isVisible()
        return found[0]

    qtbot.waitUntil(lambda: bool(confirm_dialog()))
    dialog = confirm_dialog()
    qtbot.mouseClick(dialog.confirm_button, Qt.MouseButton.LeftButton, pos=QPoint(5, 5))
    qtbot.waitUntil(lambda: not invoices_page.editing)
    assert count(database, Invoice) == 0
    qtbot.waitUntil(lambda: invoices_page.view_model.is_empty)  # the list reads in the background
    window.close()


def test_leaving_with_unsaved_edits_asks_first(
    qtbot: QtBot, database: Database, admin: Actor, tmp_path: Path
) -> None:
    clients = add_clients(database)
    with database.session() as s:
        quote = quotes.create_quote(s, admin, clients[0], [item("Bracket", "2", "10.00")])
    ctx = make_ctx(database, admin)
    window, quotes_page, _ = open_main_window(qtbot, ctx, make_shell(tmp_path))
    quotes_page.shell.show("quotes")
    quotes_page.open_document(quote.id)
    editor = quotes_page.editor
    qtbot.keyClicks(editor.notes, "Matte black")
    assert editor.vm.dirty and editor.vm.notes == "Matte black"

    def confirm_dialog() -> ConfirmDialog | None:
        found = [
            w
            for w in QApplication.topLevelWidgets()
            if isinstance(w, ConfirmDialog) and w.isVisible()
        ]
        return found[0] if found else None

    qtbot.mouseClick(editor.back_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: confirm_dialog() is not None)
    dialog = confirm_dialog()
    assert dialog is not None
    qtbot.mouseClick(dialog.cancel_button, Qt.MouseButton.LeftButton, pos=QPoint(5, 5))
    qtbot.waitUntil(lambda: confirm_dialog() is None)
    assert quotes_page.editing and editor.vm.notes == "Matte black"

    qtbot.mouseClick(editor.back_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: confirm_dialog() is not None)
    dialog = confirm_dialog()
    assert dialog is not None
    qtbot.mouseClick(dialog.confirm_button, Qt.MouseButton.LeftButton, pos=QPoint(5, 5))
    qtbot.waitUntil(lambda: not quotes_page.editing)
    with database.session() as s:
        assert quotes.get_quote(s, quote.id).notes is None
    window.close()
