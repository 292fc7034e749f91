"""Slicing figures: PrintDesk's overhead over a bare CuraEngine run, parallel throughput, and
the longest Qt event-loop stall while SliceBatch slices eight parts (beside the idle loop's).

Run with ``make bench`` (PRINTDESK_CURA_RESOURCES set) or
``PRINTDESK_CURA_RESOURCES=… .venv/bin/python bench/slicing.py``.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from pathlib import Path

import trimesh
from PySide6.QtCore import QCoreApplication, QEventLoop, QTimer

from core.mesh.orientation import least_support_orientation, overhang_area_mm2
from core.services.part_pricing import PartPlan, PartSpec
from core.shop_settings import ShopSettings
from core.slicing.locate import CuraInstall, locate_cura
from core.slicing.placement import export_stl, load_mesh, place_on_bed
from core.slicing.resolver import CuraLibrary, PrintChoices
from core.slicing.runner import SliceRequest, engine_command, slice_part
from workers.slicing_batch import SliceBatch

MODELS = Path(__file__).resolve().parents[2] / "shared" / "models"
PRINTER = "creality_ender3"
MATERIAL = "generic_pla"
TICK_MS = 5
# Eight parts of ../shared/models, each with the scale that makes it a real part in mm.
BATCH_PARTS = (
    ("20mm-xyz-cube.stl", 1.0),
    ("teapot.stl", 1.0),
    ("wallhole.obj", 1.0),
    ("idler_riser.STL", 25.4),
    ("featuretype.STL", 25.4),
    ("rabbit.obj", 10.0),
    ("ADIS16480.STL", 1000.0),
    ("fuze.obj", 500.0),
)


def bare_engine_seconds(
    request: SliceRequest, library: CuraLibrary, cura_env: dict[str, str]
) -> float:
    """The engine alone, with the same resolved settings, on an already placed STL."""
    cura = locate_cura(resources=library.resources)
    resolved = library.resolve(request.printer, request.material, request.choices)
    mesh = load_mesh(request.model)
    placed, _ = place_on_bed(
        mesh, resolved.global_values, resolved.extruder_values[0], resolved.printer_name
    )
    with tempfile.TemporaryDirectory() as folder:
        stl, gcode = Path(folder) / "part.stl", Path(folder) / "part.gcode"
        export_stl(placed, stl)
        started = time.perf_counter()
        subprocess.run(
            engine_command(cura, resolved, stl, gcode),
            env=cura_env,
            capture_output=True,
            check=True,
        )
        return time.perf_counter() - started


def _plan(model: Path, scale: float) -> PartPlan:
    """A part as the counter would plan it, without a database: PLA on an Ender 3."""
    settings = ShopSettings()
    return PartPlan(
        spec=PartSpec(printer_id=0, material_id=0, scale=scale),
        model=model,
        filename=model.name,
        printer_id=None,
        printer_name=PRINTER,
        cura_printer=PRINTER,
        build_volume_mm=None,
        hourly_rate=None,
        material_id=None,
        material_name="PLA",
        material_type="PLA",
        cura_material=MATERIAL,
        density_g_cm3=Decimal("1.24"),
        cost_per_kg=Decimal("25.00"),
        diameter_mm=Decimal("1.75"),
        terms=settings.pricing,
        currency=settings.currency,
    )


class _Ticks:
    """A 5 ms timer on the GUI thread; the longest gap between its ticks is the worst stall."""

    def __init__(self) -> None:
        self.timer = QTimer()
        self.timer.setInterval(TICK_MS)
        self.timer.timeout.connect(self._tick)
        self.last = 0.0
        self.longest = 0.0

    def _tick(self) -> None:
        now = time.perf_counter()
        self.longest = max(self.longest, now - self.last)
        self.last = now

    def start(self) -> None:
        self.last, self.longest = time.perf_counter(), 0.0
        self.timer.start()

    def stop(self) -> float:
        self.timer.stop()
        return self.longest


def event_loop_stalls(cura: CuraInstall) -> tuple[float, float, float, int]:
    """(idle longest gap, batch longest gap, batch seconds, parts priced) in seconds."""
    app = QCoreApplication.instance() or QCoreApplication([])
    ticks = _Ticks()
    loop = QEventLoop()
    QTimer.singleShot(2000, loop.quit)
    ticks.start()
    loop.exec()
    idle = ticks.stop()

    batch = SliceBatch(lambda: cura)  # a fresh batch: reads Cura's profiles as a new app does
    done: list[str] = []
    failures: list[str] = []

    def one_done(key: str, *_: object) -> None:
        done.append(key)
        if len(done) == len(BATCH_PARTS):
            loop.quit()

    batch.finished.connect(one_done)
    batch.failed.connect(lambda key, message: failures.append(f"{key}: {message}"))
    batch.failed.connect(one_done)
    started = time.perf_counter()
    ticks.start()
    for name, scale in BATCH_PARTS:
        batch.submit(name, _plan(MODELS / name, scale))
    loop.exec()
    busy = ticks.stop()
    seconds = time.perf_counter() - started
    batch.wait()
    for failure in failures:
        print(f"  failed {failure}")
    del app
    return idle, busy, seconds, len(done) - len(failures)


def orientation_figures() -> tuple[int, float, float]:
    """(faces, least-support seconds, one overhang measure seconds) on a ~100k-face part."""
    sphere = trimesh.creation.icosphere(subdivisions=6, radius=30)
    shelf = trimesh.creation.box(extents=(80, 20, 5))
    shelf.apply_translation((0, 0, 40))
    part = trimesh.util.concatenate([sphere, shelf, trimesh.creation.torus(40, 4)])
    assert isinstance(part, trimesh.Trimesh)
    _ = part.face_normals, part.area_faces  # cached as a loaded part has them
    chosen, single = [], []
    for _ in range(3):
        started = time.perf_counter()
        least_support_orientation(part)
        chosen.append(time.perf_counter() - started)
        started = time.perf_counter()
        overhang_area_mm2(part)
        single.append(time.perf_counter() - started)
    return len(part.faces), statistics.median(chosen), statistics.median(single)


def main() -> int:
    resources = os.environ.get("PRINTDESK_CURA_RESOURCES")
    if not resources:
        print("PRINTDESK_CURA_RESOURCES is not set; nothing to measure.")
        return 0
    cura = locate_cura(resources=resources)
    library = CuraLibrary(cura.resources)
    env = dict(os.environ, CURA_ENGINE_SEARCH_PATH=cura.search_path)
    library.resolve(PRINTER, MATERIAL)  # warm the profile index, as a running app has it

    print(f"CuraEngine {cura.engine_version}, {os.cpu_count()} cores, printer {PRINTER}")
    parts = [MODELS / "20mm-xyz-cube.stl", MODELS / "teapot.stl"]
    for model in parts:
        request = SliceRequest(model, PRINTER, MATERIAL, PrintChoices(infill_percent=20))
        ours, bare = [], []
        for _ in range(3):
            started = time.perf_counter()
            result = slice_part(request, cura=cura, library=library)
            ours.append(time.perf_counter() - started)
            bare.append(bare_engine_seconds(request, library, env))
        ours_s, bare_s = statistics.median(ours), statistics.median(bare)
        print(
            f"{model.name}: PrintDesk {ours_s:.2f} s, bare engine {bare_s:.2f} s, "
            f"overhead ×{ours_s / bare_s:.2f} "
            f"({result.print_time_s:.0f} s print, {result.filament_g:.2f} g)"
        )

    batch = [SliceRequest(parts[i % 2], PRINTER, MATERIAL) for i in range(8)]
    started = time.perf_counter()
    for request in batch:
        slice_part(request, cura=cura, library=library)
    sequential = time.perf_counter() - started
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        list(pool.map(lambda r: slice_part(r, cura=cura, library=library), batch))
    parallel = time.perf_counter() - started
    print(
        f"8 parts: one after another {sequential:.2f} s, in parallel {parallel:.2f} s, "
        f"throughput ×{sequential / parallel:.2f}"
    )

    faces, chosen, single = orientation_figures()
    print(
        f"least-support orientation of {faces:,} faces: {chosen:.3f} s, one overhang measure "
        f"{single:.3f} s, ×{chosen / single:.1f}"
    )

    idle, busy, seconds, priced = event_loop_stalls(cura)
    print(
        f"Qt event loop ({TICK_MS} ms timer): longest gap idle {idle * 1000:.1f} ms, during "
        f"SliceBatch of {len(BATCH_PARTS)} parts ({priced} priced in {seconds:.1f} s) "
        f"{busy * 1000:.1f} ms, ×{busy / idle:.2f} the idle gap"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
