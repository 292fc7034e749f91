"""The quote and invoice screens at 1240×860 with a believable shop, for a person to look at.

Each picture goes to the test's own folder; set PRINTDESK_SHOTS=/tmp to keep them (quotes.png,
invoices.png, invoice_editor.png, payment_dialog.png).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QApplication, QMainWindow, QWidget
from pytestqt.qtbot import QtBot

from core.actor import Actor
from core.db.engine import Database
from core.services import quotes
from desktop.viewmodels.document_editor import LineColumn
from desktop.viewmodels.payment import PaymentViewModel
from desktop.views.documents import DocumentsPage, build_invoices_page, build_quotes_page
from desktop.views.payment_dialog import PaymentDialog
from desktop.views.theme import STYLESHEET
from tests.gui.editor_support import open_in, save
from tests.gui.test_documents_support import make_ctx, make_shell, seed_shop

pytestmark = pytest.mark.no_gui_thread_sql

SIZE = (1240, 860)


def _shot(widget: QWidget, name: str, folder: Path) -> Path:
    QApplication.processEvents()
    path = folder / name
    assert widget.grab().save(str(path))
    keep = os.environ.get("PRINTDESK_SHOTS")
    if keep:
        widget.grab().save(str(Path(keep) / name))
    return path


def _not_blank(path: Path) -> None:
    image = QImage(str(path))
    colours = {
        image.pixel(x, y) for x in range(0, image.width(), 37) for y in range(0, image.height(), 23)
    }
    assert len(colours) > 8, f"{path.name} looks empty"


def _host(page: DocumentsPage, qtbot: QtBot) -> QMainWindow:
    """The page in a window styled as the app's main window styles it."""
    window = QMainWindow()
    qtbot.addWidget(window)
    window.setStyleSheet(STYLESHEET)
    window.setCentralWidget(page)
    window.resize(*SIZE)
    window.show()
    qtbot.waitExposed(window)
    page.activated()
    return window


def test_screens_look_like_a_product(
    qtbot: QtBot, database: Database, admin: Actor, tmp_path: Path
) -> None:
    shop = seed_shop(database, admin)
    ctx = make_ctx(database, admin)
    shell = make_shell(tmp_path)

    quotes_page = build_quotes_page(ctx, shell)
    assert isinstance(quotes_page, DocumentsPage)
    quotes_window = _host(quotes_page, qtbot)
    qtbot.waitUntil(lambda: quotes_page.view_model.model.rowCount() >= 26)
    _not_blank(_shot(quotes_window, "quotes.png", tmp_path))

    invoices_page = build_invoices_page(ctx, shell)
    assert isinstance(invoices_page, DocumentsPage)
    invoices_window = _host(invoices_page, qtbot)
    qtbot.waitUntil(lambda: invoices_page.view_model.model.rowCount() >= 26)
    _not_blank(_shot(invoices_window, "invoices.png", tmp_path))

    open_in(qtbot, invoices_page, shop.showcase_invoice)
    assert invoices_page.editing
    _not_blank(_shot(invoices_window, "invoice_editor.png", tmp_path))

    open_in(qtbot, quotes_page, shop.showcase_quote)
    _not_blank(_shot(quotes_window, "quote_editor.png", tmp_path))

    # the smallest main window (1100×700) leaves the page 900 wide beside the rail
    quotes_window.resize(900, 680)
    _not_blank(_shot(quotes_window, "quote_editor_narrow.png", tmp_path))
    quotes_window.resize(*SIZE)

    # the same quote changed at another counter while this one has unsaved edits
    quotes_page.editor_model.set_notes("Matte black, please")
    with database.session() as s:
        quotes.send_quote(s, admin, shop.showcase_quote)
    with qtbot.waitSignal(quotes_page.editor_model.refreshed):
        quotes_page.refresh()
    assert quotes_page.editor.stale_banner.isVisible()
    _not_blank(_shot(quotes_window, "quote_stale.png", tmp_path))

    # a new quote with a mistake, after Save was pressed
    quotes_page.new_document()
    vm = quotes_page.editor_model
    qtbot.waitUntil(lambda: not vm.busy)  # the shop's terms are read
    vm.set_line_field(0, LineColumn.DESCRIPTION, "Drone arm bracket, PETG")
    vm.set_line_field(0, LineColumn.UNIT_PRICE, "18.40")
    vm.add_line()
    vm.set_line_field(1, LineColumn.DESCRIPTION, "Gear set")
    vm.set_line_field(1, LineColumn.QUANTITY, "0")
    vm.set_line_field(1, LineColumn.UNIT_PRICE, "84")
    assert save(qtbot, vm) is None
    _not_blank(_shot(quotes_window, "quote_new.png", tmp_path))

    forms: list[PaymentViewModel] = []
    invoices_page.editor_model.payment_form(forms.append)
    qtbot.waitUntil(lambda: bool(forms))
    form = forms[0]
    assert form is not None
    dialog = PaymentDialog(form, invoices_page)
    dialog.show()
    qtbot.waitExposed(dialog)
    form.set_amount("100")
    _not_blank(_shot(dialog, "payment_dialog.png", tmp_path))
    dialog.close()

    invoices_page.show_list()
    invoices_page.view_model.search_now("no such client")
    _not_blank(_shot(invoices_window, "invoices_empty.png", tmp_path))
