"""Slicing figures: PrintDesk's overhead over a bare CuraEngine run, and parallel throughput.

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
from pathlib import Path

from core.slicing.locate import locate_cura
from core.slicing.placement import export_stl, load_mesh, place_on_bed
from core.slicing.resolver import CuraLibrary, PrintChoices
from core.slicing.runner import SliceRequest, engine_command, slice_part

MODELS = Path(__file__).resolve().parents[2] / "shared" / "models"
PRINTER = "creality_ender3"
MATERIAL = "generic_pla"


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
    return 0


if __name__ == "__main__":
    sys.exit(main())
