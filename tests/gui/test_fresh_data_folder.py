"""A new shop, started the way a person starts it: a new data folder, the app's own database
start-up, set-up and main window (no fixture storage, no buckets made by the test), and the
first model file added in Quick order is stored and priced by CuraEngine, found with no
environment variable (the engine on PATH, the definitions `make` unpacked beside the checkout)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import trimesh
from PySide6.QtCore import QSettings
from pytestqt.qtbot import QtBot

from core.actor import Actor
from core.config import AppConfig
from core.db.embedded import stop_embedded
from core.db.engine import Database
from core.slicing.finding import find_slicer
from core.storage import TMP, Storage
from desktop.app import build_main_window, open_shop_showing_progress
from desktop.viewmodels.auth import AuthViewModel, ShopSetup
from desktop.viewmodels.context import AppContext
from desktop.viewmodels.notifier import Notifier
from desktop.viewmodels.quick_order_parts import PartStage
from desktop.views.quick_order import QuickOrderPage
from tests.supabase_standin import SERVICE_KEY, SupabaseStandIn
from workers.tasks import TaskRunner

SETTLED = (PartStage.PRICED, PartStage.FAILED, PartStage.REFUSED)


def cube_file(folder: Path) -> Path:
    path = folder / "20mm-cube.stl"
    trimesh.creation.box(extents=(20.0, 20.0, 20.0)).export(path)
    return path


@pytest.fixture
def new_shop(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Database]:
    """The database exactly as `printdesk` opens it in a data folder nobody has used, on a
    machine where no PRINTDESK_ variable says where the slicer is."""
    assert not data_dir.exists()
    monkeypatch.delenv("PRINTDESK_CURA_RESOURCES", raising=False)
    monkeypatch.delenv("PRINTDESK_CURAENGINE", raising=False)
    config = AppConfig()
    db = open_shop_showing_progress(config).db
    yield db
    db.dispose()
    stop_embedded(config.pgdata_dir)


def test_the_first_model_in_a_new_data_folder_is_stored_and_sliced(
    qtbot: QtBot, new_shop: Database, data_dir: Path, tmp_path: Path
) -> None:
    auth = AuthViewModel(new_shop)
    with qtbot.waitSignal(auth.signed_in, timeout=30_000) as signed_in:  # off the GUI thread
        auth.set_up(
            ShopSetup(
                shop_name="Fresh Prints",
                tax_id="",
                email="",
                phone="",
                address="",
                admin_name="Ada",
                admin_email="ada@fresh.example",
                password="long enough",
                password_again="long enough",
            )
        )
    actor = signed_in.args[0] if signed_in.args else None
    assert actor is not None, auth.error
    settings = QSettings(str(tmp_path / "printdesk.ini"), QSettings.Format.IniFormat)
    window = build_main_window(new_shop, actor, settings=settings)
    qtbot.addWidget(window)
    page = window.page("quick-order")
    assert isinstance(page, QuickOrderPage)
    vm = page.vm
    try:
        (key,) = vm.add_files([cube_file(tmp_path)])
        part = vm.part(key)
        assert part is not None
        qtbot.waitUntil(lambda: part.stage in SETTLED, timeout=180_000)
        assert part.stage is not PartStage.REFUSED, part.reason
        assert part.tmp is not None
        stored = [p for p in (data_dir / "storage" / "tmp").rglob("*.stl")]
        assert [p.name for p in stored] == ["20mm-cube.stl"]
        assert stored[0].stat().st_size > 0
        if not find_slicer().ok:
            pytest.skip(f"no slicer on this machine: {find_slicer().problem}")
        assert part.stage is PartStage.PRICED, part.reason
        assert part.quote is not None and not part.quote.estimated
        assert part.quote.slice is not None and part.quote.slice.engine_version
        assert part.quote.slice.filament_g > 1 and part.quote.slice.print_time_s > 600
    finally:
        vm.close()
        vm.batch.wait()


def test_files_dropped_together_open_the_storage_once(
    database: Database, admin: Actor, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Three uploads starting at once in a new Supabase project share one ready storage."""
    monkeypatch.setenv("PRINTDESK_CONFIG", str(tmp_path / "none.toml"))
    with SupabaseStandIn() as standin:
        config = AppConfig(
            data_dir=tmp_path / "data",
            storage_backend="supabase",
            supabase_url=standin.url,
            supabase_service_key=SERVICE_KEY,
        )
        ctx = AppContext(database, admin, Notifier(), TaskRunner(), config=lambda: config)
        start = threading.Barrier(3)
        opened: list[Storage] = []

        def upload(n: int) -> None:
            start.wait()
            storage = ctx.storage()
            storage.put(TMP, f"1/{n}/cube.stl", b"solid cube")
            opened.append(storage)

        workers = [threading.Thread(target=upload, args=(n,)) for n in range(3)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(30)
        try:
            assert len(opened) == 3 and all(s is opened[0] for s in opened)
            assert standin.requests.count(("GET", "/storage/v1/bucket")) == 1
            assert standin.keys(TMP) == [f"1/{n}/cube.stl" for n in range(3)]
        finally:
            opened[0].close()
