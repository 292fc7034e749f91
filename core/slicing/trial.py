"""A test slice: a 20 mm cube on a stock printer, to prove the engine and the definitions
found work together (Settings → Slicer's "Test slice")."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import trimesh

from core.slicing.cancel import CancelToken
from core.slicing.locate import CuraInstall
from core.slicing.runner import Progress, SliceRequest, SliceResult, slice_part

CUBE_MM: Final = 20.0
#: A printer and material every Cura since 4.0 defines.
TEST_PRINTER: Final = "creality_ender3"
TEST_MATERIAL: Final = "generic_pla"


@dataclass(frozen=True)
class TrialSlice:
    """What the test slice gave, in a person's words and in figures."""

    result: SliceResult

    @property
    def grams(self) -> float:
        return self.result.filament_g

    @property
    def minutes(self) -> int:
        return round(self.result.print_time_s / 60)

    def time_text(self) -> str:
        hours, minutes = divmod(self.minutes, 60)
        return f"{hours} h {minutes:02d} min" if hours else f"{minutes} min"

    def grams_text(self) -> str:
        return f"{self.grams:.1f} g"

    def summary(self) -> str:
        r = self.result
        return (
            f"A {CUBE_MM:g} mm cube on a {r.printer_name} in {r.material_name}: "
            f"{self.time_text()}, {self.grams_text()} of filament "
            f"(CuraEngine {r.engine_version} took {r.engine_seconds:.1f} s)."
        )


def cube_stl(folder: Path, size_mm: float = CUBE_MM) -> Path:
    path = folder / f"{size_mm:g}mm-cube.stl"
    trimesh.creation.box(extents=(size_mm, size_mm, size_mm)).export(path)
    return path


def slice_test_cube(
    cura: CuraInstall,
    *,
    progress: Progress | None = None,
    cancel: CancelToken | None = None,
    timeout_s: float = 120.0,
) -> TrialSlice:
    """Slice the cube with ``cura``; a `SlicingError` says what is wrong."""
    with tempfile.TemporaryDirectory(prefix="printdesk-test-slice-") as folder:
        request = SliceRequest(cube_stl(Path(folder)), TEST_PRINTER, TEST_MATERIAL)
        result = slice_part(
            request,
            cura=cura,
            progress=progress or (lambda _: None),
            cancel=cancel,
            timeout_s=timeout_s,
        )
    return TrialSlice(result)
