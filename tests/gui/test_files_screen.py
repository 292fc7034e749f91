"""The Files screen as staff use it: tiles with thumbnails, filters, open in 3D, delete.

Set PRINTDESK_SHOTS=/some/folder to keep the pictures (files.png, files_3d.png).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QItemSelectionModel, QMimeData, QPoint, Qt, QUrl
from PySide6.QtGui import QDropEvent
from PySide6.QtWidgets import QApplication, QMainWindow, QMessageBox, QWidget
from pytestqt.qtbot import QtBot

from core.actor import Actor
from core.db.engine import Database
from core.mesh.analysis import load_mesh
from core.services import order_files
from core.storage import ORDER_FILES
from desktop.viewmodels.files import FilesViewModel
from desktop.views.files import FilesPage
from desktop.views.theme import STYLESHEET
from tests.gui.files_support import CUBE, Shop, make_context, seed_files, thumbnail_service
from tests.gui.test_documents_support import Notices
from workers.thumbnails import ThumbnailService

pytestmark = pytest.mark.no_gui_thread_sql

SIZE = (1440, 900)


@pytest.fixture
def thumbnails(tmp_path: Path) -> Iterator[ThumbnailService]:
    service = thumbnail_service(tmp_path)
    yield service
    service.stop()


def _shot(widget: QWidget, name: str, folder: Path) -> Path:
    QApplication.processEvents()
    path = folder / name
    assert widget.grab().save(str(path))
    keep = os.environ.get("PRINTDESK_SHOTS")
    if keep:
        widget.grab().save(str(Path(keep) / name))
    return path


def _open(
    qtbot: QtBot,
    database: Database,
    actor: Actor,
    shop: Shop,
    folder: Path,
    thumbnails: ThumbnailService,
) -> tuple[FilesPage, QMainWindow, Notices]:
    ctx = make_context(database, actor, folder, shop.storage)
    page = FilesPage(FilesViewModel(ctx, thumbnails=thumbnails))
    window = QMainWindow()
    qtbot.addWidget(window)
    window.setStyleSheet(STYLESHEET)
    window.setCentralWidget(page)
    window.resize(*SIZE)
    window.show()
    qtbot.waitExposed(window)
    page.activated()
    settle(qtbot, page)
    return page, window, Notices(ctx.notifier)


def settle(qtbot: QtBot, page: FilesPage) -> None:
    """The screen reads in the background: wait for what it asked for."""
    qtbot.waitUntil(lambda: not page.vm.loading)


def _select(page: FilesPage, *names: str) -> None:
    selection = page.grid.selectionModel()
    selection.clear()
    for row, tile in enumerate(page.vm.tiles.tiles):
        if tile.file.filename in names:
            selection.select(page.vm.tiles.index(row), QItemSelectionModel.SelectionFlag.Select)


def test_grid_shows_tiles_and_their_thumbnails(
    qtbot: QtBot, database: Database, admin: Actor, tmp_path: Path, thumbnails: ThumbnailService
) -> None:
    shop = seed_files(database, admin, tmp_path)
    # Two tiles hold the same content (one sha256): two pictures are rendered for three tiles.
    with qtbot.waitSignals([thumbnails.ready] * 2, timeout=120_000):
        page, window, _ = _open(qtbot, database, admin, shop, tmp_path, thumbnails)
    assert page.stack.currentWidget() is page.grid
    assert page.vm.tiles.rowCount() == 3
    assert page.subtitle.text() == "3 files"
    qtbot.waitUntil(lambda: all(page.vm.thumbnail_state(t) == "ready" for t in page.vm.tiles.tiles))
    shot = _shot(window, "files.png", tmp_path)
    assert shot.stat().st_size > 20_000
    assert not page.delete_button.isEnabled()  # nothing selected yet

    page.document_edit.setFocus()
    qtbot.keyClicks(page.document_edit, shop.quote_number)
    qtbot.keyClick(page.document_edit, Qt.Key.Key_Return)
    settle(qtbot, page)
    assert page.vm.tiles.rowCount() == 2
    assert shop.quote_number in page.target.text()
    assert page.subtitle.text() == f"2 files of {shop.quote_number}"
    window.close()


def test_delete_asks_naming_what_goes_then_removes(
    qtbot: QtBot, database: Database, admin: Actor, tmp_path: Path, thumbnails: ThumbnailService
) -> None:
    shop = seed_files(database, admin, tmp_path)
    page, window, _ = _open(qtbot, database, admin, shop, tmp_path, thumbnails)
    _select(page, "bracket.stl", "gear.stl")
    assert page.delete_button.text() == "Delete 2"
    keys = [t.file.storage_key for t in page.selected()]
    page.grid.setFocus()
    qtbot.keyClick(page.grid, Qt.Key.Key_Delete)
    box = page.confirm
    assert box is not None and box.isVisible()
    assert "bracket.stl" in box.text() and "gear.stl" in box.text()
    assert shop.quote_number in box.text() and shop.invoice_number in box.text()
    qtbot.mouseClick(box.button(QMessageBox.StandardButton.Cancel), Qt.MouseButton.LeftButton)
    assert page.vm.tiles.rowCount() == 3

    _select(page, "bracket.stl", "gear.stl")
    page.delete_selected()
    box = page.confirm
    assert box is not None
    qtbot.mouseClick(box.button(QMessageBox.StandardButton.Yes), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.vm.tiles.rowCount() == 1)
    assert [t.file.filename for t in page.vm.tiles.tiles] == ["pyramids.3mf"]
    assert not any(shop.storage.exists(ORDER_FILES, key) for key in keys)
    window.close()


def test_staff_see_no_delete(
    qtbot: QtBot,
    database: Database,
    admin: Actor,
    staff: Actor,
    tmp_path: Path,
    thumbnails: ThumbnailService,
) -> None:
    shop = seed_files(database, admin, tmp_path)
    page, window, _ = _open(qtbot, database, staff, shop, tmp_path, thumbnails)
    assert not page.delete_button.isVisible()
    _select(page, "gear.stl")
    page.delete_selected()
    assert page.confirm is None
    assert page.vm.tiles.rowCount() == 3
    window.close()


def test_open_in_3d_loads_off_the_gui_thread(
    qtbot: QtBot, database: Database, admin: Actor, tmp_path: Path, thumbnails: ThumbnailService
) -> None:
    shop = seed_files(database, admin, tmp_path)
    page, window, _ = _open(qtbot, database, admin, shop, tmp_path, thumbnails)
    _select(page, "bracket.stl")
    dialog = page.open_selected()
    assert dialog is not None
    with qtbot.waitSignal(dialog.loaded, timeout=60_000):
        pass
    assert dialog.view.mesh is not None
    assert len(dialog.view.mesh.faces) == len(load_mesh(CUBE).faces)
    assert "20" in dialog.view.dims_label.text()
    _shot(dialog, "files_3d.png", tmp_path)
    dialog.close()
    qtbot.waitUntil(lambda: not page.dialogs)
    window.close()


def test_dropping_files_adds_them_to_the_picked_document(
    qtbot: QtBot, database: Database, admin: Actor, tmp_path: Path, thumbnails: ThumbnailService
) -> None:
    shop = seed_files(database, admin, tmp_path)
    page, window, notices = _open(qtbot, database, admin, shop, tmp_path, thumbnails)
    page.vm.set_document(shop.invoice_number)
    settle(qtbot, page)
    data = QMimeData()
    data.setUrls([QUrl.fromLocalFile(str(CUBE))])
    drop = QDropEvent(
        QPoint(200, 200),
        Qt.DropAction.CopyAction,
        data,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    with qtbot.waitSignal(page.vm.files_added, timeout=60_000):
        page.dropEvent(drop)
        assert page.busy_row.isVisible()
    qtbot.waitUntil(lambda: page.vm.tiles.rowCount() == 2)
    assert not page.busy_row.isVisible()
    with database.session() as s:
        names = [f.filename for f in order_files.list_order_files(s, invoice_id=shop.invoice_id)]
    assert sorted(names) == sorted([CUBE.name, "gear.stl"])
    assert f"Added {CUBE.name}." in notices.texts
    window.close()
