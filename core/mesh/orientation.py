"""Orient a part for printing: lay a chosen face on the bed, or pick the pose needing least support.

Transforms are 4×4 matrices (row-major, column vectors) applied to the mesh as it was loaded;
after one, the part rests on z = 0. "Overhang" is the downward-facing area tilted more than
45° from vertical that does not lie on the bed: what a slicer would hold up with support.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import trimesh
from numpy.typing import NDArray

OVERHANG_ANGLE_DEG = 45.0
# Hull facets tried as the face to lay down, largest first, before the six axis directions.
MAX_CANDIDATES = 32
# A face lies on the bed when all its corners are this close to the lowest point (mm).
ON_BED_MM = 0.05
# Poses whose overhang is within this share of the best are "as good"; the lowest one wins.
TIE_SHARE = 0.02
TIE_MM2 = 1.0

_DOWN = np.array([0.0, 0.0, -1.0])
_AXES = np.array(
    [[0, 0, -1], [0, 0, 1], [1, 0, 0], [-1, 0, 0], [0, 1, 0], [0, -1, 0]], dtype=np.float64
)


def _unit(normal: Sequence[float]) -> NDArray[np.float64]:
    vector = np.asarray(normal, dtype=np.float64).reshape(-1)
    if vector.shape != (3,) or not np.all(np.isfinite(vector)):
        raise ValueError(f"A face normal needs three finite numbers, not {list(normal)!r}.")
    length = float(np.linalg.norm(vector))
    if length < 1e-12:
        raise ValueError("A face normal cannot be zero.")
    return vector / length


def _rotation_to_down(normal: NDArray[np.float64]) -> NDArray[np.float64]:
    matrix = trimesh.geometry.align_vectors(normal, _DOWN)  # type: ignore[no-untyped-call]
    return np.asarray(matrix, dtype=np.float64)


def _vertices(mesh: trimesh.Trimesh) -> NDArray[np.float64]:
    vertices = np.asarray(mesh.vertices, dtype=np.float64)
    if len(vertices) == 0 or len(mesh.faces) == 0:
        raise ValueError("The part has no triangles to orient.")
    return vertices


def lay_flat(mesh: trimesh.Trimesh, normal: Sequence[float]) -> NDArray[np.float64]:
    """The transform that turns the face with outward ``normal`` straight down, on z = 0."""
    vertices = _vertices(mesh)
    rotation = _rotation_to_down(_unit(normal))
    turned_z = vertices @ rotation[2, :3]
    rotation[2, 3] = -float(turned_z.min())
    return rotation


def _transformed(
    mesh: trimesh.Trimesh, transform: NDArray[np.float64] | None
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    vertices = _vertices(mesh)
    normals = np.asarray(mesh.face_normals, dtype=np.float64)
    if transform is None:
        return vertices, normals
    matrix = np.asarray(transform, dtype=np.float64)
    if matrix.shape != (4, 4) or not np.all(np.isfinite(matrix)):
        raise ValueError("An orientation must be a 4×4 matrix of finite numbers.")
    linear = matrix[:3, :3]
    turned = vertices @ linear.T + matrix[:3, 3]
    turned_normals = normals @ np.linalg.inv(linear)  # normals transform by the inverse transpose
    lengths = np.linalg.norm(turned_normals, axis=1, keepdims=True)
    lengths[lengths == 0] = 1.0
    return turned, turned_normals / lengths


def _overhang_for(
    heights: NDArray[np.float64],
    faces: NDArray[np.int64],
    normals_z: NDArray[np.float64],
    areas: NDArray[np.float64],
) -> NDArray[np.float64]:
    """Overhang area per pose; columns of ``heights``/``normals_z`` are poses."""
    limit = -math.cos(math.radians(OVERHANG_ANGLE_DEG))
    result = np.zeros(heights.shape[1], dtype=np.float64)
    for pose in range(heights.shape[1]):
        facing_down = np.flatnonzero(normals_z[:, pose] < limit)  # few faces: measure only those
        lifted = heights[:, pose] - heights[:, pose].min()
        highest_corner = lifted[faces[facing_down]].max(axis=1)
        result[pose] = float(areas[facing_down][highest_corner > ON_BED_MM].sum())
    return result


def overhang_area_mm2(mesh: trimesh.Trimesh, transform: NDArray[np.float64] | None = None) -> float:
    """Area (mm², the mesh in mm) of faces that would need support in this pose."""
    vertices, normals = _transformed(mesh, transform)
    faces = np.asarray(mesh.faces, dtype=np.int64)
    areas = np.asarray(mesh.area_faces, dtype=np.float64)
    found = _overhang_for(vertices[:, 2:3], faces, normals[:, 2:3], areas)
    return float(found[0])


def _candidate_normals(mesh: trimesh.Trimesh) -> NDArray[np.float64]:
    """Outward normals of the largest flat areas of the convex hull, then the six axes."""
    found: list[NDArray[np.float64]] = []
    try:
        hull = mesh.convex_hull
        facets = hull.facets
        in_facets = np.concatenate(facets) if len(facets) else np.empty(0, dtype=np.int64)
        single = np.setdiff1d(np.arange(len(hull.faces)), in_facets)
        areas = np.concatenate([np.asarray(hull.facets_area), hull.area_faces[single]])
        normals = np.concatenate(
            [np.asarray(hull.facets_normal).reshape(-1, 3), hull.face_normals[single]]
        )
        # Largest area first; equal areas in a fixed order of their normals (deterministic).
        rounded = np.round(normals, 9)
        order = np.lexsort((rounded[:, 2], rounded[:, 1], rounded[:, 0], -np.round(areas, 6)))
        found = list(normals[order[:MAX_CANDIDATES]])
    except (ValueError, IndexError, RuntimeError):  # qhull refuses flat or tiny parts
        found = []
    unique: list[NDArray[np.float64]] = []
    for normal in [*found, *_AXES]:
        length = float(np.linalg.norm(normal))
        if length < 1e-12:
            continue
        unit = normal / length
        if all(float(unit @ kept) < 0.9999 for kept in unique):
            unique.append(unit)
    return np.array(unique, dtype=np.float64)


def least_support_orientation(mesh: trimesh.Trimesh) -> NDArray[np.float64]:
    """The pose (a ``lay_flat`` transform) with the least overhang; the lowest among equals."""
    vertices = _vertices(mesh)
    candidates = _candidate_normals(mesh)
    faces = np.asarray(mesh.faces, dtype=np.int64)
    areas = np.asarray(mesh.area_faces, dtype=np.float64)
    normals = np.asarray(mesh.face_normals, dtype=np.float64)
    # Laying normal n down makes "up" the direction -n: heights and normal z follow from it.
    heights = vertices @ -candidates.T
    normals_z = normals @ -candidates.T
    overhang = _overhang_for(heights, faces, normals_z, areas)
    tall = heights.max(axis=0) - heights.min(axis=0)
    best = float(overhang.min())
    good = np.flatnonzero(overhang <= best + max(TIE_MM2, TIE_SHARE * best))
    chosen = int(good[np.argmin(tall[good])])
    return lay_flat(mesh, candidates[chosen])
