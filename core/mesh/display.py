"""What the 3D preview and thumbnails draw: a part reduced to a face budget, placed on the bed.

Everything here is for looking at, never for slicing or measuring: the decimated copy is thrown
away after drawing, and the client's mesh is left untouched.

Decimation uses VTK's quadric clustering: one pass over the triangles (about 0.6 s for a
million on this hardware), where decimate-pro or quadric decimation take 20 s and more. The
clustering grid is sized from the part's surface area so that the result lands under the
budget; a second, coarser pass follows in the rare case the first one overshoots.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Final

import numpy as np
import pyvista as pv
import trimesh
from numpy.typing import NDArray

#: Faces the preview draws at most. llvmpipe (software GL) draws about this many at an
#: interactive frame rate; real graphics cards draw far more, but a counter PC may have none.
DISPLAY_FACE_BUDGET: Final = 100_000
#: Grid spacing drawn on the bed.
BED_GRID_MM: Final = 10.0

_AREA_SAMPLE: Final = 50_000

Vector3 = NDArray[np.float64]


@dataclass(frozen=True)
class DisplayMesh:
    """A part ready to draw: its (maybe decimated) triangles moved onto the bed.

    ``offset`` is what was added to the part's own coordinates to place it, so a point picked
    on screen minus ``offset`` is a point of the client's mesh.
    """

    vertices: NDArray[np.float64]
    faces: NDArray[np.int64]
    offset: Vector3
    source_faces: int
    extents_mm: tuple[float, float, float]

    @property
    def decimated(self) -> bool:
        return len(self.faces) < self.source_faces

    def polydata(self) -> pv.PolyData:
        cells = np.hstack([np.full((len(self.faces), 1), 3, dtype=np.int64), self.faces])
        return pv.PolyData(self.vertices, cells.ravel())


def _polydata(vertices: NDArray[Any], faces: NDArray[Any]) -> pv.PolyData:
    cells = np.hstack([np.full((len(faces), 1), 3, dtype=np.int64), faces.astype(np.int64)])
    return pv.PolyData(np.asarray(vertices, dtype=np.float64), cells.ravel())


def _triangles_of(poly: pv.PolyData) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    tri = poly.triangulate() if not poly.is_all_triangles else poly
    faces = np.asarray(tri.faces, dtype=np.int64).reshape(-1, 4)[:, 1:]
    return np.asarray(tri.points, dtype=np.float64), faces


def _cluster(poly: pv.PolyData, divisions: tuple[int, int, int]) -> pv.PolyData:
    from vtkmodules.vtkFiltersCore import vtkQuadricClustering

    clustering = vtkQuadricClustering()
    clustering.SetInputData(poly)
    clustering.AutoAdjustNumberOfDivisionsOff()
    clustering.SetNumberOfDivisions(*divisions)
    clustering.Update()
    return pv.wrap(clustering.GetOutput())


def _divisions(extents: NDArray[np.float64], area: float, budget: int) -> tuple[int, int, int]:
    # Clustering leaves about two triangles per grid cell the surface passes through.
    cell = math.sqrt(2.0 * max(area, 1e-12) / budget)
    counts = [max(2, math.ceil(float(e) / cell)) for e in extents]
    return counts[0], counts[1], counts[2]


def _surface_area(vertices: NDArray[np.float64], faces: NDArray[np.int64]) -> float:
    """The part's area, from a sample of faces when there are many (it only sizes a grid)."""
    sample = faces
    if len(faces) > _AREA_SAMPLE:
        sample = faces[np.random.default_rng(0).choice(len(faces), _AREA_SAMPLE, replace=False)]
    corners = vertices[sample]
    doubled = np.linalg.norm(
        np.cross(corners[:, 1] - corners[:, 0], corners[:, 2] - corners[:, 0]), axis=1
    )
    return float(doubled.sum()) * 0.5 * len(faces) / max(len(sample), 1)


def decimate(
    vertices: NDArray[Any], faces: NDArray[Any], budget: int = DISPLAY_FACE_BUDGET
) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    """Triangles for display, at most ``budget`` of them (returned as they are if under)."""
    vertices = np.asarray(vertices, dtype=np.float64)
    faces = np.asarray(faces, dtype=np.int64)
    if len(faces) <= budget:
        return vertices, faces
    poly = _polydata(vertices, faces)
    extents = vertices.max(axis=0) - vertices.min(axis=0)
    # Clustering leaves somewhat more triangles than the estimate: aim a fifth lower.
    target = int(budget * 0.8)
    for _ in range(4):
        divisions = _divisions(extents, _surface_area(vertices, faces), target)
        points, reduced = _triangles_of(_cluster(poly, divisions))
        if len(reduced) <= budget:
            return points, reduced
        target = int(target * budget / len(reduced) * 0.9)
    raise RuntimeError(f"could not reduce {len(faces):,} faces to {budget:,} for display")


def placement_offset(
    bounds_min: NDArray[Any],
    bounds_max: NDArray[Any],
    bed_mm: tuple[float, float, float] | None,
) -> Vector3:
    """The shift that centres a part on the bed (or on the origin) and sits it on z = 0."""
    low = np.asarray(bounds_min, dtype=np.float64)
    high = np.asarray(bounds_max, dtype=np.float64)
    centre = (low + high) / 2.0
    target_xy = np.array([bed_mm[0] / 2.0, bed_mm[1] / 2.0]) if bed_mm else np.zeros(2)
    return np.array([target_xy[0] - centre[0], target_xy[1] - centre[1], -low[2]])


def prepare(
    mesh: trimesh.Trimesh,
    *,
    bed_mm: tuple[float, float, float] | None = None,
    budget: int = DISPLAY_FACE_BUDGET,
) -> DisplayMesh:
    """The part as the preview draws it: within the face budget, centred on the bed."""
    vertices = np.asarray(mesh.vertices, dtype=np.float64)
    faces = np.asarray(mesh.faces, dtype=np.int64)
    if len(faces) == 0:
        empty = np.zeros(3)
        return DisplayMesh(vertices[:0], faces[:0], empty, 0, (0.0, 0.0, 0.0))
    referenced = np.zeros(len(vertices), dtype=bool)
    referenced[faces.ravel()] = True
    used = vertices[referenced]
    low, high = used.min(axis=0), used.max(axis=0)
    shown_vertices, shown_faces = decimate(vertices, faces, budget)
    offset = placement_offset(low, high, bed_mm)
    extents = high - low
    return DisplayMesh(
        vertices=shown_vertices + offset,
        faces=shown_faces,
        offset=offset,
        source_faces=len(faces),
        extents_mm=(float(extents[0]), float(extents[1]), float(extents[2])),
    )


def dimensions_text(extents_mm: tuple[float, float, float]) -> str:
    """'60 × 40.5 × 12 mm': a part's size as staff read it, to a tenth of a millimetre."""

    def short(value: float) -> str:
        return f"{value:.1f}".removesuffix(".0")

    return " × ".join(short(v) for v in extents_mm) + " mm"


def bed_plate(bed_mm: tuple[float, float, float]) -> pv.PolyData:
    """The print bed as a thin slab just under z = 0, from (0, 0) to (x, y)."""
    x, y, _ = bed_mm
    return pv.Box(bounds=(0.0, x, 0.0, y, -1.0, -0.05))


def bed_grid(bed_mm: tuple[float, float, float], spacing: float = BED_GRID_MM) -> pv.PolyData:
    """Grid lines on the bed every ``spacing`` mm, drawn a hair above the plate."""
    x, y, _ = bed_mm
    segments: list[Segment2D] = []
    segments += [((gx, 0.0), (gx, y)) for gx in np.arange(0.0, x + 1e-9, spacing)]
    segments += [((0.0, gy), (x, gy)) for gy in np.arange(0.0, y + 1e-9, spacing)]
    return _lines(segments, z=0.0)


def bed_outline(bed_mm: tuple[float, float, float]) -> NDArray[np.float64]:
    """The bed's rim and the build volume's edges as (n, 2, 3) line segments."""
    x, y, z = bed_mm
    corners = [(0.0, 0.0), (x, 0.0), (x, y), (0.0, y)]
    segments = []
    for height in (0.0, z):
        for a, b in zip(corners, corners[1:] + corners[:1], strict=True):
            segments.append(((a[0], a[1], height), (b[0], b[1], height)))
    for cx, cy in corners:
        segments.append(((cx, cy, 0.0), (cx, cy, z)))
    return np.array(segments, dtype=np.float64)


def outline_polydata(segments: NDArray[np.float64]) -> pv.PolyData:
    points = segments.reshape(-1, 3)
    lines = np.hstack(
        [np.full((len(segments), 1), 2), np.arange(len(points)).reshape(-1, 2)]
    ).ravel()
    return pv.PolyData(points, lines=lines)


Segment2D = tuple[tuple[float, float], tuple[float, float]]


def _lines(segments: list[Segment2D], z: float) -> pv.PolyData:
    array = np.array([[(a[0], a[1], z), (b[0], b[1], z)] for a, b in segments], dtype=np.float64)
    return outline_polydata(array.reshape(-1, 2, 3))


def face_along_ray(
    mesh: trimesh.Trimesh, origin: NDArray[Any], direction: NDArray[Any]
) -> int | None:
    """The first face of ``mesh`` a ray meets (Möller–Trumbore over all faces), or None.

    Used to map a click on a decimated preview back to the client's own triangle.
    """
    o = np.asarray(origin, dtype=np.float64)
    d = np.asarray(direction, dtype=np.float64)
    d = d / np.linalg.norm(d)
    tri = np.asarray(mesh.vertices, dtype=np.float64)[np.asarray(mesh.faces)]
    e1 = tri[:, 1] - tri[:, 0]
    e2 = tri[:, 2] - tri[:, 0]
    p = np.cross(d, e2)
    det = np.einsum("ij,ij->i", e1, p)
    ok = np.abs(det) > 1e-12
    inv = np.where(ok, 1.0 / np.where(ok, det, 1.0), 0.0)
    s = o - tri[:, 0]
    u = np.einsum("ij,ij->i", s, p) * inv
    q = np.cross(s, e1)
    v = (q @ d) * inv
    t = np.einsum("ij,ij->i", e2, q) * inv
    hit = ok & (u >= 0) & (v >= 0) & (u + v <= 1) & (t > 0)
    if not hit.any():
        return None
    candidates = np.flatnonzero(hit)
    return int(candidates[np.argmin(t[candidates])])


def face_normal(mesh: trimesh.Trimesh, face: int) -> Vector3:
    """The unit normal of one face, in the mesh's own coordinates."""
    a, b, c = np.asarray(mesh.vertices, dtype=np.float64)[np.asarray(mesh.faces)[face]]
    normal = np.cross(b - a, c - a)
    length = float(np.linalg.norm(normal))
    return normal / length if length > 0 else np.array([0.0, 0.0, 1.0])
