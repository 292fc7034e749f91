"""Files in the quote and invoice editor: thumbnails beside the lines that point at a file (a
click shows the part in 3D) and an invoice's attachments (attach, list, remove).

Set PRINTDESK_SHOTS=/some/folder to keep the picture (invoice_editor_files.png).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from PySide6.QtCore import QItemSelectionModel, QPoint, Qt
from PySide6.QtGui import QColor, QIcon, QImage
from PySide6.QtWidgets import QApplication, QMainWindow, QMessageBox
from pytestqt.qtbot import QtBot

from core.actor import Actor
from core.db.engine import Database
from core.services import attachments, invoices, order_files
from core.services.line_items import DocumentTerms, ItemInput
from core.services.maintenance import check_storage
from core.storage import ATTACHMENTS
from desktop.viewmodels.document_editor import DocumentEditorViewModel, LineColumn
from desktop.viewmodels.documents import DocumentKind
from desktop.views.document_editor import DocumentEditorView
from desktop.views.theme import STYLESHEET
from tests.gui.editor_support import opened
from tests.gui.files_support import CUBE, Shop, make_context, seed_files, thumbnail_service
from tests.gui.test_documents_support import Notices
from workers.thumbnails import ThumbnailService

SIZE = (1440, 900)
pytestmark = pytest.mark.no_gui_thread_sql
PDF_BYTES = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture
def thumbnails(tmp_path: Path) -> Iterator[ThumbnailService]:
    service = thumbnail_service(tmp_path)
    yield service
    service.stop()


def _link_line_to_file(database: Database, admin: Actor, shop: Shop) -> int:
    """Grace's invoice gets a second line that points at its file."""
    file_id = shop.files["gear.stl"]
    with database.session() as s:
        invoice = invoices.get_invoice(s, shop.invoice_id)
    items = [
        ItemInput("Setup and post-processing", Decimal("1"), Decimal("20.00")),
        ItemInput("Gear, PETG, 0.2 mm", Decimal("4"), Decimal("12.50"), order_file_id=file_id),
    ]
    with database.session() as s:
        invoices.update_invoice(
            s, admin, shop.invoice_id, items, DocumentTerms(), expected_version=invoice.version
        )
    return file_id


def _open(
    qtbot: QtBot,
    database: Database,
    actor: Actor,
    shop: Shop,
    folder: Path,
    thumbnails: ThumbnailService,
    kind: DocumentKind,
    document_id: int,
) -> tuple[DocumentEditorView, QMainWindow, Notices]:
    ctx = make_context(database, actor, folder, shop.storage)
    vm = DocumentEditorViewModel(ctx, kind, thumbnails=thumbnails)
    view = DocumentEditorView(vm)
    window = QMainWindow()
    qtbot.addWidget(window)
    window.setStyleSheet(STYLESHEET)
    window.setCentralWidget(view)
    window.resize(*SIZE)
    window.show()
    qtbot.waitExposed(window)
    assert opened(qtbot, vm, document_id)
    return view, window, Notices(ctx.notifier)


def _png(path: Path) -> Path:
    image = QImage(120, 80, QImage.Format.Format_RGB32)
    image.fill(QColor("#e58a3c"))
    assert image.save(str(path))
    return path


def test_a_line_with_a_file_shows_its_thumbnail_and_opens_in_3d(
    qtbot: QtBot, database: Database, admin: Actor, tmp_path: Path, thumbnails: ThumbnailService
) -> None:
    shop = seed_files(database, admin, tmp_path)
    file_id = _link_line_to_file(database, admin, shop)
    with qtbot.waitSignal(thumbnails.ready, timeout=120_000):
        view, window, _ = _open(
            qtbot,
            database,
            admin,
            shop,
            tmp_path,
            thumbnails,
            DocumentKind.INVOICE,
            shop.invoice_id,
        )
    lines = view.vm.lines
    plain = lines.index(0, LineColumn.DESCRIPTION)
    with_file = lines.index(1, LineColumn.DESCRIPTION)
    assert plain.data(Qt.ItemDataRole.DecorationRole) is None
    qtbot.waitUntil(lambda: view.vm.files.thumbnail(file_id)[0] == "ready")
    icon = with_file.data(Qt.ItemDataRole.DecorationRole)
    assert isinstance(icon, QIcon) and not icon.isNull()
    assert view.view_3d_button.isVisible()

    picture = view.table.visualRect(with_file)
    qtbot.mouseClick(
        view.table.viewport(),
        Qt.MouseButton.LeftButton,
        pos=QPoint(picture.left() + 14, picture.center().y()),
    )
    qtbot.waitUntil(lambda: len(view.mesh_dialogs) == 1)
    dialog = view.mesh_dialogs[0]
    if dialog.view.mesh is None:
        with qtbot.waitSignal(dialog.loaded, timeout=60_000):
            pass
    assert dialog.view.mesh is not None
    dialog.close()
    qtbot.waitUntil(lambda: not view.mesh_dialogs)
    window.close()


def test_an_invoice_takes_attachments_and_removes_them(
    qtbot: QtBot, database: Database, admin: Actor, tmp_path: Path, thumbnails: ThumbnailService
) -> None:
    shop = seed_files(database, admin, tmp_path)
    _link_line_to_file(database, admin, shop)
    view, window, notices = _open(
        qtbot, database, admin, shop, tmp_path, thumbnails, DocumentKind.INVOICE, shop.invoice_id
    )
    assert view.attachments_box.isVisible()
    assert view.attachments_empty.isVisible() and not view.attachment_list.isVisible()

    pdf = tmp_path / "delivery note.pdf"
    pdf.write_bytes(PDF_BYTES)
    fake = tmp_path / "invoice.pdf"
    fake.write_bytes(CUBE.read_bytes())  # a model renamed .pdf
    photo = _png(tmp_path / "finished part.png")
    with qtbot.waitSignal(view.vm.files.attached, timeout=10_000) as attached:
        view.vm.files.attach([pdf, fake, photo])
    assert attached.args == [2]
    qtbot.waitUntil(lambda: view.vm.files.attachments.rowCount() == 2)  # listed again
    assert any(t.startswith("invoice.pdf was not attached: ") for t in notices.texts)
    rows = view.vm.files.attachments.rows
    assert [r.filename for r in rows] == ["delivery note.pdf", "finished part.png"]
    assert view.attachment_list.isVisible() and not view.attachments_empty.isVisible()
    qtbot.waitUntil(
        lambda: view.vm.files.thumbnail(shop.files["gear.stl"])[0] == "ready", timeout=120_000
    )
    _shot(window, tmp_path)

    view.attachment_list.selectionModel().select(
        view.vm.files.attachments.index(0),
        QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows,
    )
    assert view.remove_attachment_button.isEnabled()
    qtbot.mouseClick(view.remove_attachment_button, Qt.MouseButton.LeftButton)
    box = view.confirm_remove
    assert box is not None and "delivery note.pdf" in box.text()
    qtbot.mouseClick(box.button(QMessageBox.StandardButton.Yes), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: view.vm.files.attachments.rowCount() == 1)
    assert not shop.storage.exists(ATTACHMENTS, rows[0].storage_key)
    with database.session() as s:
        left = attachments.list_attachments(s, shop.invoice_id)
    assert [a.filename for a in left] == ["finished part.png"]
    report = check_storage(database, shop.storage)
    assert report.clean and report.pending_deletions == 0
    window.close()


def test_a_quote_has_no_attachments_section(
    qtbot: QtBot, database: Database, admin: Actor, tmp_path: Path, thumbnails: ThumbnailService
) -> None:
    shop = seed_files(database, admin, tmp_path)
    view, window, _ = _open(
        qtbot, database, admin, shop, tmp_path, thumbnails, DocumentKind.QUOTE, shop.quote_id
    )
    assert not view.attachments_box.isVisible()
    with database.session() as s:
        assert len(order_files.list_order_files(s, quote_id=shop.quote_id)) == 2
    window.close()


def _shot(window: QMainWindow, folder: Path) -> None:
    QApplication.processEvents()
    name = "invoice_editor_files.png"
    assert window.grab().save(str(folder / name))
    keep = os.environ.get("PRINTDESK_SHOTS")
    if keep:
        window.grab().save(str(Path(keep) / name))
