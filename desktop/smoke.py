"""`printdesk --smoke-test`: prove a build starts, without a person and without a display.

Each step prints one line; the first failing step prints its reason and the run exits 1.
Everything happens in a throwaway data folder (its own embedded database), so running it on
a shop's counter never touches the shop's data.
"""

from __future__ import annotations

import io
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import TextIO

SMOKE_CLIENT = "Smoke Test Client"


@dataclass
class _Run:
    """What the steps hand each other: the temp folder, and the database once open."""

    root: Path
    db: object | None = None
    cleanups: list[Callable[[], object]] = field(default_factory=list)


class SmokeFailure(RuntimeError):
    """A step did not do what it should; the message says what was seen."""


def _qt(run: _Run) -> str:
    from PySide6 import QtCore
    from PySide6.QtWidgets import QApplication

    QApplication.instance() or QApplication(["printdesk"])
    return f"Qt {QtCore.qVersion()} on the {QApplication.platformName()} platform"


def _database(run: _Run) -> str:
    from core.config import AppConfig
    from core.db.embedded import stop_embedded
    from core.db.migrate import is_current
    from desktop.app import open_shop_database

    config = AppConfig(data_dir=run.root / "data", database_url=None)
    run.cleanups.append(lambda: stop_embedded(config.pgdata_dir))
    db = open_shop_database(config)
    run.db = db
    run.cleanups.insert(0, db.dispose)
    if not is_current(db.engine):
        raise SmokeFailure("the database did not reach the newest schema")
    return f"embedded PostgreSQL started in {config.pgdata_dir} and migrated"


def _window(run: _Run) -> str:
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from core.actor import SYSTEM_ACTOR
    from core.db.engine import Database
    from desktop.app import build_main_window
    from workers.tasks import TaskRunner

    assert isinstance(run.db, Database)
    settings = QSettings(str(run.root / "printdesk.ini"), QSettings.Format.IniFormat)
    runner = TaskRunner()
    window = build_main_window(run.db, SYSTEM_ACTOR, settings=settings, runner=runner)
    try:
        window.resize(1440, 900)
        deadline = time.monotonic() + 30
        while runner.active and time.monotonic() < deadline:
            QApplication.processEvents()
            runner.wait(50)
        QApplication.processEvents()
        image = window.grab().toImage()
        if image.isNull() or image.width() < 1000:
            raise SmokeFailure("the main window could not be drawn")
        colours = {image.pixel(x, y) for x in range(0, image.width(), 37) for y in (40, 450)}
        if len(colours) < 3:
            raise SmokeFailure("the main window drew blank")
    finally:
        window.close()
        runner.cancel_all()
        runner.wait()
        window.deleteLater()
        QApplication.processEvents()
    return f"main window built and drawn offscreen ({image.width()}x{image.height()})"


def _render(run: _Run) -> str:
    import trimesh
    from PIL import Image

    from core.mesh.render import render_png

    png = render_png(trimesh.creation.box(extents=(20.0, 20.0, 20.0)), size=128)
    picture = Image.open(io.BytesIO(png)).convert("RGB")
    colours = picture.getcolors(maxcolors=128 * 128) or []
    if picture.size != (128, 128) or len(colours) < 8:
        raise SmokeFailure(f"the 3D render came out blank ({len(colours)} colours)")
    (run.root / "cube.png").write_bytes(png)
    return f"3D view of a 20 mm cube rendered offscreen ({len(png):,} bytes PNG)"


def _pdf(run: _Run) -> str:
    from core.actor import SYSTEM_ACTOR
    from core.db.engine import Database
    from core.documents import render_invoice_pdf
    from core.services import clients, invoices
    from core.services.clients import ClientInput
    from core.services.line_items import ItemInput
    from core.services.settings import get_settings

    assert isinstance(run.db, Database)
    with run.db.session() as session:
        shop, _ = get_settings(session)
    with run.db.session() as session:
        client = clients.create_client(session, SYSTEM_ACTOR, ClientInput(name=SMOKE_CLIENT))
    item = ItemInput(description="Bracket, PLA", quantity=Decimal("2"), unit_price=Decimal("12.50"))
    with run.db.session() as session:
        invoice = invoices.create_invoice(session, SYSTEM_ACTOR, client.id, [item])
    pdf = render_invoice_pdf(invoice, shop, payment_url=None)
    path = run.root / "invoice.pdf"
    path.write_bytes(pdf)
    if not path.read_bytes().startswith(b"%PDF"):
        raise SmokeFailure("the invoice PDF is not a PDF")
    return f"invoice {invoice.number} written as PDF ({len(pdf):,} bytes)"


def _quick_order(run: _Run) -> str:
    """A model added the way the counter adds one (Quick order: checked, stored in ``tmp``,
    sliced) and priced: by CuraEngine when one is found here, else by the volume estimate."""
    import trimesh
    from PySide6.QtWidgets import QApplication

    from core.actor import SYSTEM_ACTOR
    from core.config import AppConfig
    from core.db.engine import Database
    from core.money import format_money
    from desktop.viewmodels.context import AppContext
    from desktop.viewmodels.notifier import Notifier
    from desktop.viewmodels.quick_order import QuickOrderViewModel
    from desktop.viewmodels.quick_order_parts import PartStage
    from workers.tasks import TaskRunner

    assert isinstance(run.db, Database)
    model = run.root / "20mm-cube.stl"
    trimesh.creation.box(extents=(20.0, 20.0, 20.0)).export(model)
    config = AppConfig(data_dir=run.root / "data", database_url=None)
    ctx = AppContext(
        db=run.db,
        actor=SYSTEM_ACTOR,
        notifier=Notifier(),
        runner=TaskRunner(),
        config=lambda: config,
    )
    vm = QuickOrderViewModel(ctx, reslice_delay_ms=0)
    try:
        (key,) = vm.add_files([model])
        deadline = time.monotonic() + 180
        part = vm.part(key)
        while part is not None and part.busy and time.monotonic() < deadline:
            QApplication.processEvents()
            ctx.runner.wait(20)
            vm.batch.wait(20)
            part = vm.part(key)
        if part is None or part.stage is not PartStage.PRICED or part.quote is None:
            reason = part.reason if part is not None else "it went away"
            raise SmokeFailure(f"the model was not priced: {reason or 'it took too long'}")
        quote = part.quote
        price = format_money(quote.price.line_total, vm.currency)
    finally:
        vm.close()
        vm.batch.wait()
        ctx.runner.cancel_all()
        ctx.runner.wait()
    if quote.estimated or quote.slice is None:
        return f"20 mm cube added and priced {price} by estimate (no CuraEngine found here)"
    return (
        f"20 mm cube added, stored and priced {price} by CuraEngine"
        f" {quote.slice.engine_version} ({quote.price.grams} g)"
    )


STEPS: tuple[tuple[str, Callable[[_Run], str]], ...] = (
    ("qt", _qt),
    ("database", _database),
    ("window", _window),
    ("3d view", _render),
    ("pdf", _pdf),
    ("quick order", _quick_order),
)


def _reason(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def run_smoke_test(*, out: TextIO | None = None) -> int:
    """Run every step in a temp folder; 0 when all passed, 1 at the first failure."""
    out = out or sys.stdout
    # Before Qt loads: no window may appear, and the render must not look for an X display.
    os.environ["QT_QPA_PLATFORM"] = "offscreen"
    root = Path(tempfile.mkdtemp(prefix="printdesk-smoke-"))
    # The embedded server runs as another user when started as root: it must reach its folder.
    root.chmod(0o755)
    run = _Run(root)
    started = time.monotonic()
    try:
        for name, step in STEPS:
            step_started = time.monotonic()
            try:
                detail = step(run)
            except Exception as exc:  # every failure is reported as the step's reason
                print(f"FAIL {name}: {_reason(exc)}", file=out, flush=True)
                return 1
            print(
                f"ok   {name}: {detail} [{time.monotonic() - step_started:.1f} s]",
                file=out,
                flush=True,
            )
    finally:
        for cleanup in run.cleanups:
            try:
                cleanup()
            except Exception as exc:  # a failed cleanup must not hide the steps' result
                print(f"warn cleanup: {_reason(exc)}", file=out, flush=True)
        shutil.rmtree(root, ignore_errors=True)
    print(f"smoke test passed in {time.monotonic() - started:.1f} s", file=out, flush=True)
    return 0
