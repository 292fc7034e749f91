"""Laying a part flat on a chosen face, and choosing the pose that needs least support."""

from __future__ import annotations

import numpy as np
import pytest
import trimesh

from core.mesh.orientation import lay_flat, least_support_orientation, overhang_area_mm2


def _moved(mesh: trimesh.Trimesh, transform: np.ndarray) -> trimesh.Trimesh:
    moved = mesh.copy()
    moved.apply_transform(transform)
    return moved


def _upside_down_pyramid() -> trimesh.Trimesh:
    """A 20 mm square base at the top, its apex 5 mm below: every side overhangs."""
    vertices = [[-10, -10, 5], [10, -10, 5], [10, 10, 5], [-10, 10, 5], [0, 0, 0]]
    faces = [[0, 2, 1], [0, 3, 2], [0, 1, 4], [1, 2, 4], [2, 3, 4], [3, 0, 4]]
    mesh = trimesh.Trimesh(vertices=vertices, faces=faces)
    mesh.fix_normals()
    return mesh


def _standing_t() -> trimesh.Trimesh:
    """A "T": a 10 mm stem 40 mm tall under a 50 × 10 × 10 mm bar (two touching blocks)."""
    stem = trimesh.creation.box(extents=(10, 10, 40))
    stem.apply_translation((0, 0, 20))
    bar = trimesh.creation.box(extents=(50, 10, 10))
    bar.apply_translation((0, 0, 45))
    tee = trimesh.util.concatenate([stem, bar])
    assert isinstance(tee, trimesh.Trimesh)
    return tee


def test_lay_flat_puts_the_chosen_face_down_on_the_bed() -> None:
    # A 10 × 20 × 30 mm block lying on its side, off the origin.
    block = trimesh.creation.box(extents=(10, 20, 30))
    block.apply_translation((5, -7, 12))
    transform = lay_flat(block, (1, 0, 0))
    placed = _moved(block, transform)
    assert placed.bounds[0][2] == pytest.approx(0.0, abs=1e-9)
    assert placed.extents[2] == pytest.approx(10.0)  # it now stands on the +X face
    was_plus_x = np.isclose(block.face_normals[:, 0], 1.0)
    assert np.allclose(placed.face_normals[was_plus_x], (0, 0, -1))
    assert np.allclose(placed.vertices[placed.faces[was_plus_x]][..., 2], 0.0)


def test_lay_flat_refuses_a_zero_normal() -> None:
    with pytest.raises(ValueError, match="cannot be zero"):
        lay_flat(trimesh.creation.box(), (0, 0, 0))


def test_an_upside_down_pyramid_is_turned_onto_its_base() -> None:
    pyramid = _upside_down_pyramid()
    assert overhang_area_mm2(pyramid) == pytest.approx(pyramid.area - 400.0)
    transform = least_support_orientation(pyramid)
    assert overhang_area_mm2(pyramid, transform) == pytest.approx(0.0)
    placed = _moved(pyramid, transform)
    assert placed.bounds[0][2] == pytest.approx(0.0, abs=1e-9)
    assert placed.extents[2] == pytest.approx(5.0)  # base down, apex up


def test_a_standing_t_is_laid_so_its_arms_need_no_support() -> None:
    tee = _standing_t()
    standing = overhang_area_mm2(tee)
    assert standing == pytest.approx(50 * 10)  # the underside of the bar
    transform = least_support_orientation(tee)
    assert overhang_area_mm2(tee, transform) == pytest.approx(0.0, abs=1e-6)
    # Of the poses without overhang, the lowest: lying on its 10 mm side.
    assert _moved(tee, transform).extents[2] == pytest.approx(10.0)


def test_least_support_is_deterministic_and_fast_enough_for_big_parts() -> None:
    sphere = trimesh.creation.icosphere(subdivisions=6, radius=20)  # 81 920 faces
    base = trimesh.creation.box(extents=(50, 50, 4))
    base.apply_translation((0, 0, 30))
    part = trimesh.util.concatenate([sphere, base])
    assert isinstance(part, trimesh.Trimesh)
    assert len(part.faces) > 80_000
    first = least_support_orientation(part)
    assert np.array_equal(first, least_support_orientation(part))
    assert overhang_area_mm2(part, first) < overhang_area_mm2(part)
