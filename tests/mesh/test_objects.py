"""A 3MF of several objects splits into one part per object, each its own size."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from core.mesh.analysis import analyze, load_3mf_objects, load_mesh
from core.mesh.objects import split_objects

MODELS = Path(__file__).resolve().parents[3] / "shared" / "models"


def test_pyramids_are_nine_objects_that_each_fit_a_printer() -> None:
    whole = analyze(load_mesh(MODELS / "pyramids.3mf"))
    assert whole.bodies == 12 and "too_big_for_every_printer" in whole.problem_codes
    objects = load_3mf_objects(MODELS / "pyramids.3mf")
    assert [name for name, _ in objects][:3] == ["Pyramid", "Pyramid_1", "Pyramid_2"]
    assert len(objects) == 9
    reports = [analyze(mesh) for _, mesh in objects]
    assert sum(r.bodies for r in reports) == 12  # the composed parts keep their two bodies
    assert all(r.ok and r.watertight for r in reports)
    assert sum(len(mesh.faces) for _, mesh in objects) == whole.faces
    assert sum(r.volume_mm3 or 0 for r in reports) == pytest.approx(whole.volume_mm3, rel=1e-6)


def test_split_writes_one_stl_per_object_and_leaves_single_files_alone(tmp_path: Path) -> None:
    paths = split_objects(MODELS / "cube_and_sphere_same_name.3mf", tmp_path / "split")
    assert [p.name for p in paths] == [
        "cube_and_sphere_same_name - object 1.stl",
        "cube_and_sphere_same_name - object 2.stl",
    ]
    sizes = [np.ptp(load_mesh(p).vertices, axis=0).max() for p in paths]
    assert sizes == pytest.approx([40.0, 40.0], abs=0.01)
    assert split_objects(MODELS / "counterX.3MF", tmp_path / "one") == []
    assert split_objects(MODELS / "20mm-xyz-cube.stl", tmp_path / "stl") == []
