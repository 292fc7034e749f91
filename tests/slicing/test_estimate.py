"""The estimate without a slicer, against real CuraEngine slices of the same parts made here."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import trimesh

from core.slicing.estimate import (
    EstimateSettings,
    estimate_print,
    part_geometry,
    settings_from_cura,
    settings_with_choices,
)
from core.slicing.locate import CuraInstall
from core.slicing.placement import export_stl
from core.slicing.resolver import CuraLibrary, PrintChoices
from core.slicing.runner import SliceRequest, slice_part

PRINTER = "creality_ender3"
MATERIAL = "generic_pla"
TOLERANCE = 0.25


def _tube() -> trimesh.Trimesh:
    return trimesh.creation.annulus(r_min=12, r_max=18, height=30, sections=64)


def _tee() -> trimesh.Trimesh:
    """A post with arms 20 mm out on each side, 30 mm above the bed: support under the arms."""
    post = trimesh.creation.box((10, 10, 30))
    post.apply_translation((0, 0, 15))
    arms = trimesh.creation.box((50, 10, 5))
    arms.apply_translation((0, 0, 32.5))
    tee = trimesh.util.concatenate([post, arms])
    assert isinstance(tee, trimesh.Trimesh)
    return tee


PARTS = {
    "cube 20 mm": lambda: trimesh.creation.box((20, 20, 20)),
    "plate 80 × 60 × 3 mm": lambda: trimesh.creation.box((80, 60, 3)),
    "cylinder ⌀30 × 40 mm": lambda: trimesh.creation.cylinder(radius=15, height=40, sections=72),
    "tube ⌀36/24 × 30 mm": _tube,
    "sphere ⌀40 mm": lambda: trimesh.creation.icosphere(subdivisions=3, radius=20),
    "tee with arms": _tee,
}


def test_geometry_of_a_box_is_exact() -> None:
    box = trimesh.creation.box((30, 20, 10))
    g = part_geometry(box.vertices, box.faces)
    assert g.volume_mm3 == pytest.approx(6000)
    assert g.area_mm2 == pytest.approx(2 * (600 + 300 + 200))
    assert g.size_mm == pytest.approx((30, 20, 10))
    assert np.allclose(g.outline, 100)  # mm of outline per mm of height, every band
    assert np.allclose(g.section, 600)
    assert g.facing_up.sum() == pytest.approx(600) and g.facing_up[-1] == pytest.approx(600)
    assert g.facing_down.sum() == pytest.approx(600) and g.facing_down[0] == pytest.approx(600)


def test_more_infill_or_walls_means_more_plastic_and_time() -> None:
    cube = trimesh.creation.box((20, 20, 20))
    g = part_geometry(cube.vertices, cube.faces)
    base = estimate_print(g, EstimateSettings())
    dense = estimate_print(g, EstimateSettings(infill=0.6))
    walls = estimate_print(g, EstimateSettings(wall_count=4))
    assert dense.filament_mm3 > base.filament_mm3 and dense.print_seconds > base.print_seconds
    assert walls.wall_mm3 > base.wall_mm3 and walls.print_seconds > base.print_seconds
    fine = estimate_print(g, settings_with_choices(EstimateSettings(), {"layer_height": 0.1}))
    assert fine.print_seconds > 1.5 * base.print_seconds
    assert fine.filament_mm3 == pytest.approx(base.filament_mm3, rel=0.1)
    # Solid: no more than the part itself, and not much less.
    solid = estimate_print(g, EstimateSettings(infill=1.0))
    assert 0.9 * 8000 < solid.filament_mm3 - 0.0 < 8000 * 1.05 + 200  # + the skirt


def test_an_empty_mesh_is_refused() -> None:
    with pytest.raises(ValueError, match="no triangles"):
        part_geometry(np.zeros((0, 3)), np.zeros((0, 3), dtype=np.int64))


@pytest.mark.parametrize(
    ("name", "layer", "infill", "supports"),
    [
        ("cube 20 mm", 0.2, 20, False),
        ("cube 20 mm", 0.12, 50, False),
        ("plate 80 × 60 × 3 mm", 0.2, 20, False),
        ("cylinder ⌀30 × 40 mm", 0.28, 10, False),
        ("tube ⌀36/24 × 30 mm", 0.2, 20, False),
        ("sphere ⌀40 mm", 0.2, 100, False),
        ("tee with arms", 0.2, 20, True),
        ("sphere ⌀40 mm", 0.2, 20, True),
    ],
)
def test_the_estimate_is_within_a_quarter_of_a_real_slice(
    name: str,
    layer: float,
    infill: int,
    supports: bool,
    cura: CuraInstall,
    library: CuraLibrary,
    tmp_path: Path,
) -> None:
    mesh = PARTS[name]()
    stl = tmp_path / "part.stl"
    export_stl(mesh, stl)
    choices = PrintChoices(layer_height=layer, infill_percent=infill, supports=supports)
    sliced = slice_part(
        SliceRequest(model=stl, printer=PRINTER, material=MATERIAL, choices=choices),
        cura=cura,
        library=library,
    )
    resolved = library.resolve(PRINTER, MATERIAL, choices)
    settings = settings_from_cura(lambda key: resolved.value(key))
    assert settings.layer_height == layer and settings.infill == infill / 100
    estimate = estimate_print(part_geometry(mesh.vertices, mesh.faces), settings)
    time_error = estimate.print_seconds / sliced.print_time_s - 1
    plastic_error = estimate.filament_mm3 / sliced.filament_mm3 - 1
    assert abs(time_error) <= TOLERANCE, (
        f"{name}: {estimate.print_seconds:.0f} s estimated, {sliced.print_time_s:.0f} s sliced"
    )
    assert abs(plastic_error) <= TOLERANCE, (
        f"{name}: {estimate.filament_mm3:.0f} mm³ estimated, {sliced.filament_mm3:.0f} sliced"
    )
    if supports:
        assert estimate.support_mm3 > 0 and sliced.support_mm3 > 0
        assert abs(estimate.support_mm3 / sliced.support_mm3 - 1) <= 0.5


def test_defaults_are_those_of_the_cura_profile(library: CuraLibrary) -> None:
    resolved = library.resolve(PRINTER, MATERIAL, PrintChoices(layer_height=0.2, infill_percent=20))
    assert settings_from_cura(lambda key: resolved.value(key)) == EstimateSettings()
