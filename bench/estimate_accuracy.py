"""How far the no-slicer estimate is from a real CuraEngine slice, on the files of ../shared/models.

Each file is read as the app reads it, rescaled to millimetres when its numbers look like
inches or metres, laid on its thinnest side, sliced with the real CuraEngine (Ender 3, or a
CR-10 S5 for what does not fit) at 0.2 mm and 20 % infill, and estimated with the same resolved
settings. The table gives time and grams of both and the estimate's error; the old volume rule
(``core.pricing.estimate_from_volume``) is measured beside it as the baseline.

Run: ``PRINTDESK_CURA_RESOURCES=… .venv/bin/python bench/estimate_accuracy.py [--all]``
(``PRINTDESK_MODELS`` names the models folder when it is not ../shared/models).
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import numpy as np
import trimesh

from core.mesh.analysis import analyze, load_mesh, rescale
from core.pricing import estimate_from_volume
from core.slicing.errors import PartTooBig, SlicingError
from core.slicing.estimate import estimate_print, part_geometry, settings_from_cura
from core.slicing.locate import locate_cura
from core.slicing.placement import export_stl, place_on_bed
from core.slicing.resolver import CuraLibrary, PrintChoices
from core.slicing.runner import SliceRequest, slice_part

ROOT = Path(__file__).resolve().parents[1]
PRINTERS = ("creality_ender3", "creality_cr10s5")
MATERIAL = "generic_pla"
CHOICES = PrintChoices(layer_height=0.2, infill_percent=20, supports=False)
DENSITY = 1.24  # g/cm³, Cura's generic PLA
TARGET = 25.0  # %
# Left out unless --all: read as inches (the app's guess) it is a 271 mm block, a 7-day,
# 2.3 kg print whose slice alone takes longer than the rest together.
LONG = {"busted.STL": "a 271 mm block at the inch guess (7 days, 2.3 kg): --all includes it"}


def models_folder() -> Path:
    named = os.environ.get("PRINTDESK_MODELS")
    if named:
        return Path(named)
    candidates = [ROOT.parent / "shared" / "models"]
    try:  # a git worktree: the models sit beside the main checkout
        common = subprocess.run(
            ["git", "-C", str(ROOT), "rev-parse", "--path-format=absolute", "--git-common-dir"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        candidates.append(Path(common).parent.parent / "shared" / "models")
    except (OSError, subprocess.CalledProcessError):
        pass
    for candidate in candidates:
        if candidate.is_dir():
            return candidate
    sys.exit(f"No models folder at {candidates[0]}; set PRINTDESK_MODELS.")


@dataclass(frozen=True)
class Row:
    name: str
    size: str
    printer: str
    slice_s: float
    slice_g: float
    estimate_s: float
    estimate_g: float
    old_s: float
    old_g: float

    @staticmethod
    def error(estimate: float, real: float) -> float:
        return 100.0 * (estimate / real - 1.0)


def _prepared(path: Path) -> tuple[trimesh.Trimesh | None, str]:
    """The part in mm, thinnest side down; or None and why it is left out."""
    try:
        mesh = load_mesh(path)
    except Exception as exc:  # the app refuses it the same way
        return None, f"refused on intake: {exc}"
    report = analyze(mesh, printers=())
    if not len(mesh.faces):
        return None, "holds no triangles"
    mesh = rescale(mesh, report.file_units)
    if min(mesh.extents) < 0.3:
        return None, f"flat ({' × '.join(f'{v:g}' for v in mesh.extents)} mm): nothing to print"
    if report.bodies > len(mesh.faces) / 2:
        return (
            None,
            f"loose triangles ({report.bodies} bodies of {len(mesh.faces)} faces): no solid",
        )
    thinnest = int(np.argmin(mesh.extents))
    if thinnest != 2:
        swap = np.eye(4)
        swap[[thinnest, 2]] = swap[[2, thinnest]]
        mesh.apply_transform(swap)
    scale = "" if report.file_units == "mm" else f" (from {report.file_units})"
    return mesh, scale


def _printer_for(mesh: trimesh.Trimesh, library: CuraLibrary) -> str | None:
    for printer in PRINTERS:
        resolved = library.resolve(printer, MATERIAL, CHOICES)
        try:
            place_on_bed(
                mesh, resolved.global_values, resolved.extruder_values[0], resolved.printer_name
            )
        except PartTooBig:
            continue
        return printer
    return None


def measure(path: Path, library: CuraLibrary) -> Row | str:
    mesh, note = _prepared(path)
    if mesh is None:
        return note
    printer = _printer_for(mesh, library)
    if printer is None:
        return "bigger than every printer tried"
    cura = locate_cura(resources=library.resources)
    with tempfile.TemporaryDirectory(prefix="printdesk-bench-") as folder:
        stl = Path(folder) / "part.stl"
        export_stl(mesh, stl)
        try:
            sliced = slice_part(
                SliceRequest(model=stl, printer=printer, material=MATERIAL, choices=CHOICES),
                cura=cura,
                library=library,
            )
        except SlicingError as exc:
            return f"CuraEngine could not slice it: {exc}"
    resolved = library.resolve(printer, MATERIAL, CHOICES)
    estimate = estimate_print(
        part_geometry(mesh.vertices, mesh.faces), settings_from_cura(resolved.value)
    )
    old = estimate_from_volume(
        Decimal(f"{abs(float(mesh.volume)):.3f}"), density_g_cm3=Decimal(str(DENSITY))
    )
    size = " × ".join(f"{v:.0f}" for v in mesh.extents)
    return Row(
        name=path.name,
        size=f"{size} mm{note}",
        printer=resolved.printer_name,
        slice_s=sliced.print_time_s,
        slice_g=sliced.filament_mm3 * DENSITY / 1000,
        estimate_s=estimate.print_seconds,
        estimate_g=estimate.filament_mm3 * DENSITY / 1000,
        old_s=float(old.print_seconds),
        old_g=float(old.material_grams),
    )


def _hours(seconds: float) -> str:
    return f"{seconds / 3600:7.2f} h"


def main() -> None:
    folder = models_folder()
    try:
        cura = locate_cura()
    except SlicingError as exc:
        sys.exit(f"No CuraEngine to compare with: {exc}")
    library = CuraLibrary(cura.resources)
    started = time.monotonic()
    rows: list[Row] = []
    print(f"CuraEngine {cura.engine_version}, {MATERIAL}, 0.2 mm, 20 % infill; models in {folder}")
    head = (
        f"{'file':30} {'size':34} {'slice':>9} {'estimate':>9} {'time':>7} "
        f"{'slice':>8} {'estimate':>8} {'grams':>7} {'old t':>7} {'old g':>7}"
    )
    print(head)
    print("-" * len(head))
    for path in sorted(folder.iterdir(), key=lambda p: p.name.lower()):
        if path.suffix.lower() not in (".stl", ".obj", ".3mf"):
            continue
        if path.name in LONG and "--all" not in sys.argv[1:]:
            print(f"{path.name:30} skipped: {LONG[path.name]}")
            continue
        found = measure(path, library)
        if isinstance(found, str):
            print(f"{path.name:30} skipped: {found}")
            continue
        rows.append(found)
        r = found
        print(
            f"{r.name:30} {r.size:34} {_hours(r.slice_s)} {_hours(r.estimate_s)} "
            f"{Row.error(r.estimate_s, r.slice_s):+6.1f}% {r.slice_g:7.1f}g {r.estimate_g:7.1f}g "
            f"{Row.error(r.estimate_g, r.slice_g):+6.1f}% "
            f"{Row.error(r.old_s, r.slice_s):+6.0f}% {Row.error(r.old_g, r.slice_g):+6.0f}%",
            flush=True,
        )
    if not rows:
        sys.exit("No file could be compared.")
    print("-" * len(head))

    def summary(label: str, errors: list[float]) -> str:
        size = [abs(e) for e in errors]
        within = sum(1 for e in size if e <= TARGET)
        return (
            f"{label}: median |error| {statistics.median(size):5.1f} %, max {max(size):5.1f} %, "
            f"{within} of {len(size)} within {TARGET:g} %"
        )

    print(summary("estimate, time ", [Row.error(r.estimate_s, r.slice_s) for r in rows]))
    print(summary("estimate, grams", [Row.error(r.estimate_g, r.slice_g) for r in rows]))
    print(summary("old rule, time ", [Row.error(r.old_s, r.slice_s) for r in rows]))
    print(summary("old rule, grams", [Row.error(r.old_g, r.slice_g) for r in rows]))
    print(f"{len(rows)} files in {time.monotonic() - started:.0f} s")


if __name__ == "__main__":
    main()
