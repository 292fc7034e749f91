"""The Files view model on the real database and local storage: filters, paging, add, delete."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from core.actor import Actor
from core.db.engine import Database
from core.services import order_files
from core.services.maintenance import check_storage
from core.storage import ORDER_FILES
from desktop.viewmodels.files import AddOutcome, FilesViewModel, FileTile
from tests.gui.files_support import CUBE, EMPTY, make_context, seed_files, thumbnail_service
from tests.gui.sql_watch import GuiThreadSql, counting
from tests.gui.test_documents_support import Notices
from workers.thumbnails import ThumbnailService


@pytest.fixture
def thumbnails(tmp_path: Path) -> Iterator[ThumbnailService]:
    service = thumbnail_service(tmp_path)
    yield service
    service.stop()


pytestmark = pytest.mark.no_gui_thread_sql


def _names(vm: FilesViewModel) -> list[str]:
    return sorted(t.file.filename for t in vm.tiles.tiles)


def settle(qtbot: QtBot, vm: FilesViewModel) -> None:
    """The screen reads in the background: wait for what it asked for."""
    qtbot.waitUntil(lambda: not vm.loading)


def document(qtbot: QtBot, vm: FilesViewModel, text: str) -> bool:
    """Type a document number and wait for the lookup: whether there is one."""
    with qtbot.waitSignal(vm.document_found) as got:
        vm.set_document(text)
        settle(qtbot, vm)
    settle(qtbot, vm)
    return bool(got.args[0])


def delete(qtbot: QtBot, vm: FilesViewModel, tiles: list[FileTile]) -> int:
    with qtbot.waitSignal(vm.deleted) as got:
        vm.delete(tiles)
    settle(qtbot, vm)
    return int(got.args[0])


def _clean(database: Database, vm: FilesViewModel) -> None:
    report = check_storage(database, vm._ctx.storage())
    assert report.as_json() == {"orphan_objects": [], "missing_objects": [], "pending_deletions": 0}


def test_filters_by_client_and_by_document_number(
    qtbot: QtBot, database: Database, admin: Actor, tmp_path: Path, thumbnails: ThumbnailService
) -> None:
    shop = seed_files(database, admin, tmp_path)
    vm = FilesViewModel(
        make_context(database, admin, tmp_path, shop.storage), thumbnails=thumbnails
    )
    vm.refresh()
    settle(qtbot, vm)
    assert _names(vm) == ["bracket.stl", "gear.stl", "pyramids.3mf"]
    gear = next(t for t in vm.tiles.tiles if t.file.filename == "gear.stl")
    assert gear.client_name == "Grace Hopper" and gear.documents == (shop.invoice_number,)

    vm.search_clients("ada")
    vm.run_client_search()
    settle(qtbot, vm)
    assert [c.name for c in vm.client_choices.clients] == ["Ada Lovelace"]
    vm.choose_client_row(0)
    settle(qtbot, vm)
    assert _names(vm) == ["bracket.stl", "pyramids.3mf"]
    assert vm.summary == "2 files of Ada Lovelace"

    assert document(qtbot, vm, shop.invoice_number.lower())  # typed in lower case
    assert _names(vm) == ["gear.stl"]
    assert vm.client_name == "Grace Hopper"  # the document's client follows
    assert shop.invoice_number in vm.target_text and vm.can_add

    assert not document(qtbot, vm, "QT-9999")
    assert vm.tiles.rowCount() == 0
    assert vm.filter_error == "No quote or invoice is numbered QT-9999."
    assert vm.summary == "No matching quote or invoice"

    vm.clear_filters()
    settle(qtbot, vm)
    assert len(vm.tiles.tiles) == 3 and not vm.filtered


def test_tiles_page_as_the_grid_scrolls(
    qtbot: QtBot, database: Database, admin: Actor, tmp_path: Path, thumbnails: ThumbnailService
) -> None:
    shop = seed_files(database, admin, tmp_path)
    ctx = make_context(database, admin, tmp_path, shop.storage)
    vm = FilesViewModel(ctx, thumbnails=thumbnails, page_size=2)
    vm.refresh()
    settle(qtbot, vm)
    assert vm.tiles.rowCount() == 2 and vm.tiles.canFetchMore()
    assert vm.summary == "2+ files"
    vm.tiles.fetchMore()
    settle(qtbot, vm)
    assert vm.tiles.rowCount() == 3 and not vm.tiles.canFetchMore()


def test_thumbnails_arrive_for_the_tiles_asked_for(
    qtbot: QtBot, database: Database, admin: Actor, tmp_path: Path, thumbnails: ThumbnailService
) -> None:
    shop = seed_files(database, admin, tmp_path)
    vm = FilesViewModel(
        make_context(database, admin, tmp_path, shop.storage), thumbnails=thumbnails
    )
    vm.set_document(shop.invoice_number)
    settle(qtbot, vm)
    tile = vm.tiles.tiles[0]
    with qtbot.waitSignal(vm.tiles.dataChanged, timeout=60_000):
        assert vm.thumbnail_state(tile) == "pending"
    assert vm.thumbnail_state(tile) == "ready"
    assert Path(vm._thumbnail_for(tile)[1]).read_bytes().startswith(b"\x89PNG")


def test_only_admins_delete_and_deleting_removes_the_objects(
    qtbot: QtBot,
    database: Database,
    admin: Actor,
    staff: Actor,
    tmp_path: Path,
    thumbnails: ThumbnailService,
) -> None:
    shop = seed_files(database, admin, tmp_path)
    staff_ctx = make_context(database, staff, tmp_path, shop.storage)
    staff_vm = FilesViewModel(staff_ctx, thumbnails=thumbnails)
    staff_vm.refresh()
    settle(qtbot, staff_vm)
    notices = Notices(staff_ctx.notifier)
    assert not staff_vm.can_delete
    assert delete(qtbot, staff_vm, staff_vm.tiles.tiles) == 0
    assert notices.texts == ["Only an admin may delete order files."]
    assert len(staff_vm.tiles.tiles) == 3

    vm = FilesViewModel(
        make_context(database, admin, tmp_path, shop.storage), thumbnails=thumbnails
    )
    vm.choose_client(shop.ada)
    settle(qtbot, vm)
    doomed = vm.tiles.tiles
    text = vm.describe_deletion(doomed)
    assert "these 2 files" in text and "bracket.stl" in text and "pyramids.3mf" in text
    assert shop.quote_number in text and "Ada Lovelace" in text
    keys = [t.file.storage_key for t in doomed]
    assert delete(qtbot, vm, doomed) == 2
    assert vm.tiles.rowCount() == 0
    assert not any(shop.storage.exists(ORDER_FILES, key) for key in keys)
    with database.session() as s:
        assert [f.filename for f in order_files.list_order_files(s)] == ["gear.stl"]
    _clean(database, vm)


def test_adding_files_checks_them_and_reports_refusals(
    qtbot: QtBot, database: Database, admin: Actor, tmp_path: Path, thumbnails: ThumbnailService
) -> None:
    shop = seed_files(database, admin, tmp_path)
    ctx = make_context(database, admin, tmp_path, shop.storage)
    notices = Notices(ctx.notifier)
    vm = FilesViewModel(ctx, thumbnails=thumbnails)
    vm.refresh()
    settle(qtbot, vm)
    assert vm.add_files([CUBE]) is None
    assert "Pick the quote or invoice" in notices.texts[-1]

    vm.set_document(shop.quote_number)
    settle(qtbot, vm)
    with qtbot.waitSignal(vm.files_added, timeout=60_000) as blocker:
        assert vm.add_files([CUBE, EMPTY]) is not None
        assert vm.busy.startswith("Adding 2 files")
    outcome = blocker.args[0]
    settle(qtbot, vm)
    assert isinstance(outcome, AddOutcome)
    assert [f.filename for f in outcome.added] == [CUBE.name]
    assert [name for name, _ in outcome.refused] == [EMPTY.name]
    assert vm.busy == ""
    assert _names(vm) == sorted([CUBE.name, "bracket.stl", "pyramids.3mf"])
    assert f"Added {CUBE.name}." in notices.texts
    assert any(t.startswith(f"{EMPTY.name} was not added: ") for t in notices.texts)
    _clean(database, vm)


def test_download_copies_the_stored_bytes(
    qtbot: QtBot, database: Database, admin: Actor, tmp_path: Path, thumbnails: ThumbnailService
) -> None:
    shop = seed_files(database, admin, tmp_path)
    ctx = make_context(database, admin, tmp_path, shop.storage)
    vm = FilesViewModel(ctx, thumbnails=thumbnails)
    vm.set_document(shop.invoice_number)
    settle(qtbot, vm)
    target = tmp_path / "copy.stl"
    task = vm.download(vm.tiles.tiles[0], target)
    assert task is not None
    qtbot.waitUntil(lambda: task.done.is_set() and not vm.busy, timeout=30_000)
    assert target.read_bytes() == CUBE.read_bytes()


def test_the_first_page_reads_in_two_statements_off_the_gui_thread(
    qtbot: QtBot,
    database: Database,
    admin: Actor,
    tmp_path: Path,
    thumbnails: ThumbnailService,
    gui_thread_sql: GuiThreadSql,
) -> None:
    shop = seed_files(database, admin, tmp_path)
    vm = FilesViewModel(
        make_context(database, admin, tmp_path, shop.storage), thumbnails=thumbnails
    )
    with counting(database.engine) as statements:
        vm.refresh()
        assert vm.loading and vm.tiles.rowCount() == 0  # the rows come later
        settle(qtbot, vm)
    assert len(statements) == 2, statements  # the files, then their clients and documents
    gear = next(t for t in vm.tiles.tiles if t.file.filename == "gear.stl")
    assert gear.client_name == "Grace Hopper" and gear.documents == (shop.invoice_number,)
    assert gui_thread_sql.statements == []
