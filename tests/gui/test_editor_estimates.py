"""In the editor a line priced without a slicer carries "Estimate — not sliced", and turning
the quote into an invoice asks first; a price typed over the estimate is the person's own."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QMainWindow
from pytestqt.qtbot import QtBot
from sqlalchemy import func, select

from core.actor import Actor
from core.db.engine import Database
from core.db.models import Invoice
from core.services import quotes
from desktop.viewmodels.context import AppContext
from desktop.viewmodels.document_editor import (
    ESTIMATE_BADGE,
    ESTIMATE_ROLE,
    DocumentEditorViewModel,
    LineColumn,
)
from desktop.viewmodels.documents import DocumentKind
from desktop.views.document_editor import DocumentEditorView
from desktop.views.theme import STYLESHEET
from tests.documents.test_estimated_lines_pdf import _estimated_item
from tests.factories import item, make_client
from tests.gui.editor_support import opened
from tests.gui.shots import keep_shot

pytestmark = pytest.mark.no_gui_thread_sql


def _invoices(database: Database) -> int:
    with database.session() as s:
        return s.scalar(select(func.count()).select_from(Invoice)) or 0


def test_estimated_lines_are_marked_and_converting_asks(
    qtbot: QtBot, ctx: AppContext, database: Database, admin: Actor, tmp_path: Path
) -> None:
    estimated = _estimated_item(database, admin, tmp_path)
    client_id = make_client(database, "Ada Lovelace", "ada@example.com")
    with database.session() as s:
        quote = quotes.create_quote(
            s, admin, client_id, [estimated, item("Sanding and primer", "1", "15.00")]
        )
    with database.session() as s:
        quotes.send_quote(s, admin, quote.id)
    vm = DocumentEditorViewModel(ctx, DocumentKind.QUOTE)
    view = DocumentEditorView(vm)
    window = QMainWindow()
    qtbot.addWidget(window)
    window.setStyleSheet(STYLESHEET)
    window.setCentralWidget(view)
    window.resize(1280, 800)
    window.show()
    qtbot.waitExposed(window)
    assert opened(qtbot, vm, quote.id)

    lines = vm.lines
    assert lines.index(0, LineColumn.DESCRIPTION).data(ESTIMATE_ROLE) == ESTIMATE_BADGE
    assert lines.index(1, LineColumn.DESCRIPTION).data(ESTIMATE_ROLE) == ""
    assert ESTIMATE_BADGE in lines.index(0, LineColumn.DESCRIPTION).data(
        Qt.ItemDataRole.ToolTipRole
    )
    assert vm.estimated_lines == 1
    assert view.estimate_note.isVisible()
    assert view.estimate_note.text().startswith("1 line is an estimate, not a slice")
    keep_shot(window, "editor_estimated_line.png")

    qtbot.mouseClick(view.buttons["convert"], Qt.MouseButton.LeftButton)
    dialog = view.estimates_dialog
    assert dialog is not None and _invoices(database) == 0  # asked; nothing made yet
    qtbot.waitExposed(dialog)
    assert any("Make the invoice with it?" in label.text() for label in dialog.findChildren(QLabel))
    keep_shot(dialog, "editor_estimate_confirm.png")
    qtbot.mouseClick(dialog.cancel_button, Qt.MouseButton.LeftButton)
    assert _invoices(database) == 0

    qtbot.mouseClick(view.buttons["convert"], Qt.MouseButton.LeftButton)
    dialog = view.estimates_dialog
    assert dialog is not None
    with qtbot.waitSignal(vm.open_document, timeout=10_000):
        qtbot.mouseClick(dialog.confirm_button, Qt.MouseButton.LeftButton)
    assert _invoices(database) == 1


def test_a_price_typed_over_the_estimate_is_no_longer_marked(
    qtbot: QtBot, ctx: AppContext, database: Database, admin: Actor, tmp_path: Path
) -> None:
    estimated = _estimated_item(database, admin, tmp_path)
    client_id = make_client(database)
    with database.session() as s:
        quote = quotes.create_quote(s, admin, client_id, [estimated])
    vm = DocumentEditorViewModel(ctx, DocumentKind.QUOTE)
    assert opened(qtbot, vm, quote.id)
    price = vm.lines.index(0, LineColumn.UNIT_PRICE)
    assert vm.estimated_lines == 1 and vm.estimates_question("convert")
    assert vm.estimates_question("duplicate").startswith("1 line is an estimate")
    assert vm.estimates_question("save") == ""  # saving the quote makes nothing new
    assert vm.lines.setData(price, f"{estimated.unit_price + Decimal(5):f}")
    assert vm.estimated_lines == 0 and vm.estimate_note == ""
    assert vm.lines.index(0, LineColumn.DESCRIPTION).data(ESTIMATE_ROLE) == ""
    assert vm.estimates_question("convert") == ""
