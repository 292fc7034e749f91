"""Load a client's mesh, measure it, guess its units, and repair what simple repair can fix.

Readers. Binary and ASCII STL, OBJ and 3MF are parsed here with NumPy (and lxml for 3MF) into
one triangle soup, then welded into a `trimesh.Trimesh` whose vertices are shared wherever the
file repeats a point (to a billionth of the part's size). Several objects (OBJ groups, 3MF
build items and components) are concatenated. Every reader counts triangles before it builds
them (`max_faces`), refuses what it cannot understand with a `MeshError` staff can read, and
keeps no coordinate that is not a finite number: triangles touching NaN or infinity are left
out and counted, so the report can say so.

Measuring is vectorised NumPy and SciPy sparse graphs rather than trimesh's own properties:
trimesh's load (with its merge) plus watertight, bodies and volume costs about as much as this
module's load and whole analysis together, and its `fix_normals` walks faces pair by pair in
Python (30 s at 100,000 faces, minutes beyond). Nothing loops in Python per face except the
OBJ and 3MF text readers.

Units. STL and OBJ files carry no units, so the guess comes from the extents (the numbers in the
file, read as they stand), largest side L:

* L < 0.5: metres (as millimetres the part would be under half a millimetre; as metres it is
  up to 500 mm, the export setting of several CAD programs). ADIS16480 (0.047) and
  octagonal_pocket (0.229) come out "m".
* 0.5 <= L < 15: inches (as millimetres, smaller than a fingertip; as inches 13-380 mm, what
  print shops print). featuretype (5 x 2.5 x 1.375) and idler_riser come out "inch". A real
  millimetre part this small is guessed wrong; staff see the guess and keep it in mm.
* L >= 15: the numbers are millimetres. The part may still have been drawn in inches and
  exported in millimetres: when every side is a whole number of sixteenths of an inch
  (within 0.016 mm) and not every side is a whole number of millimetres, the guess is "inch"
  (1002_tray_bottom 14 x 1/8 x 14 in, plate_holes 8 x 12 x 1/2 in). Its numbers need no scaling.

So a report carries two answers: `units_guess`, the unit the part was drawn in, and
`file_units`, the unit its numbers are in; `rescale(mesh, report.file_units)` is the one click
that turns a part into millimetres, and does nothing to a part that only was drawn in inches.
A 3MF file declares its unit; it is converted to millimetres on loading and its declaration is
the guess.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path
from typing import Any, Final, Literal

import numpy as np
import trimesh
from numpy.typing import NDArray

from core.mesh.intake import (
    HEAD_BYTES,
    MESH_FORMATS,
    IntakeError,
    MeshFormat,
    UnreadableFile,
    UnsafePackage,
    check_size,
    file_size,
    read_3mf,
    sniff_format,
)

Units = Literal["mm", "inch", "m"]
ProblemCode = Literal[
    "empty",
    "open_shell",
    "nan_coordinates",
    "huge_coordinates",
    "degenerate_faces",
    "several_bodies",
    "too_big_for_every_printer",
    "tiny",
]
BuildVolume = tuple[float, float, float]

#: A generic 220 x 220 x 250 mm printer (Ender 3 class), used when no printers are given.
DEFAULT_PRINTERS: Final[tuple[BuildVolume, ...]] = ((220.0, 220.0, 250.0),)
#: More triangles than any part a counter prices; a 200 MB binary STL holds about 4 million.
DEFAULT_MAX_FACES: Final = 5_000_000
MM_PER_UNIT: Final[dict[Units, float]] = {"mm": 1.0, "inch": 25.4, "m": 1000.0}

#: Coordinates beyond a kilometre (as millimetres) are garbage or wrong units.
HUGE_COORDINATE_MM: Final = 1e6
#: A part under a millimetre across cannot be printed by any nozzle.
TINY_MM: Final = 1.0
_METRE_BELOW: Final = 0.5
_INCH_BELOW: Final = 15.0
_SIXTEENTH_MM: Final = 25.4 / 16
# Problems that describe the part without stopping it from being sliced and priced as it is.
_NOTES: Final[frozenset[str]] = frozenset({"degenerate_faces", "several_bodies"})
# Filling holes walks the boundary in Python (networkx); beyond this it is not "simple".
_MAX_BOUNDARY_EDGES_TO_FILL: Final = 200_000
_MAX_3MF_INSTANCES: Final = 100_000
_MAX_3MF_DEPTH: Final = 32

_FORMAT_LABEL: Final[dict[str, str]] = {
    "stl_binary": "binary STL",
    "stl_ascii": "ASCII STL",
    "obj": "OBJ",
    "3mf": "3MF",
}


class MeshError(IntakeError):
    """The file's content cannot be read as a mesh; ``str(error)`` says why, for staff."""


class TooManyFaces(MeshError):
    pass


# ---------------------------------------------------------------------------------------------
# Report


@dataclass(frozen=True)
class Problem:
    code: ProblemCode
    message: str

    def as_json(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message}


@dataclass(frozen=True)
class MeshReport:
    """What staff need to know about a part before slicing it.

    Sizes are the file's numbers read as millimetres, i.e. what would print as it stands.
    `ok` is false when a problem stops the part from being sliced and priced as it is; several
    bodies and degenerate faces are listed as notes and leave it true.
    """

    ok: bool
    faces: int
    bodies: int
    watertight: bool
    volume_mm3: float | None
    extents_mm: tuple[float, float, float]
    units_guess: Units
    problems: tuple[Problem, ...] = ()
    file_units: Units = "mm"

    @property
    def problem_codes(self) -> frozenset[str]:
        return frozenset(p.code for p in self.problems)

    def as_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "faces": self.faces,
            "bodies": self.bodies,
            "watertight": self.watertight,
            "volume_mm3": self.volume_mm3,
            "extents_mm": list(self.extents_mm),
            "units_guess": self.units_guess,
            "problems": [p.as_json() for p in self.problems],
        }


# ---------------------------------------------------------------------------------------------
# Reading


@dataclass
class _Soup:
    """What a reader produces: vertices, triangles indexing them, and what it had to skip."""

    vertices: NDArray[Any]
    faces: NDArray[np.int64]
    skipped_faces: int = 0
    numbers_unit: Units | None = None
    declared_units: Units | None = None
    all_used: bool = False  # every vertex is a corner of some face (STL soups)


def _too_many(count: int, max_faces: int) -> TooManyFaces:
    return TooManyFaces(
        f"The file has {count:,} triangles; the shop handles up to {max_faces:,}. "
        "Ask for a lighter export."
    )


_STL_RECORD: Final = np.dtype(
    [("normal", "<f4", (3,)), ("corners", "<f4", (3, 3)), ("attribute", "<u2")]
)


def _read_stl_binary(data: bytes, max_faces: int) -> _Soup:
    if len(data) < 84:
        raise MeshError("The binary STL is shorter than its 84-byte header.")
    count = int.from_bytes(data[80:84], "little")
    if len(data) != 84 + 50 * count:
        raise MeshError(
            f"The binary STL is cut short or damaged: its header promises {count:,} triangles "
            f"({84 + 50 * count:,} bytes) but the file has {len(data):,} bytes."
        )
    if count > max_faces:
        raise _too_many(count, max_faces)
    records = np.frombuffer(data, dtype=_STL_RECORD, count=count, offset=84)
    vertices = records["corners"].reshape(-1, 3)
    faces = np.arange(3 * count, dtype=np.int64).reshape(-1, 3)
    return _Soup(vertices, faces, all_used=True)


# Anchored at a line start with no leading `\s*` that could span lines: linear on any input.
_STL_VERTEX: Final = re.compile(rb"^[ \t]*vertex\b([^\r\n]*)", re.MULTILINE | re.IGNORECASE)


def _read_stl_ascii(data: bytes, max_faces: int) -> _Soup:
    vertex_words = data.count(b"vertex") + data.count(b"VERTEX")
    if vertex_words > 3 * max_faces:
        raise _too_many(vertex_words // 3, max_faces)
    rows = _STL_VERTEX.findall(data)
    if not rows:
        if b"endsolid" not in data.lower():
            raise MeshError("The ASCII STL has neither triangles nor an end: it is not an STL.")
        return _Soup(np.empty((0, 3)), np.empty((0, 3), dtype=np.int64))
    if len(rows) % 3:
        raise MeshError("The ASCII STL ends in the middle of a triangle: it is cut short.")
    if len(rows) > 3 * max_faces:
        raise _too_many(len(rows) // 3, max_faces)
    tokens = b" ".join(rows).split()
    if len(tokens) != 3 * len(rows):
        raise MeshError("The ASCII STL has a vertex line without exactly three numbers.")
    try:
        vertices = np.array(tokens).astype(np.float64).reshape(-1, 3)
    except ValueError:
        raise MeshError("The ASCII STL has a vertex coordinate that is not a number.") from None
    faces = np.arange(len(vertices), dtype=np.int64).reshape(-1, 3)
    return _Soup(vertices, faces, all_used=True)


_OBJ_CONTINUATION: Final = re.compile(r"\\[ \t]*\r?\n")


def _read_obj(data: bytes, max_faces: int) -> _Soup:
    # Each face line gives at least one triangle: a cheap first bound before parsing.
    face_lines = data.count(b"\nf ") + data.count(b"\nf\t") + data.startswith(b"f ")
    if face_lines > max_faces:
        raise _too_many(face_lines, max_faces)
    text = data.decode("utf-8", errors="replace")
    if "\\" in text:
        text = _OBJ_CONTINUATION.sub(" ", text)
    coords: list[str] = []
    corners: list[int] = []
    vertex_count = 0
    triangles = 0
    skipped = 0
    for number, raw_line in enumerate(text.splitlines(), start=1):
        line = raw_line.strip()
        if len(line) < 2 or line[1] not in " \t":
            continue
        if line[0] == "v":
            parts = line.split()
            if len(parts) < 4:
                raise MeshError(f"OBJ line {number}: a vertex needs three coordinates.")
            coords.extend(parts[1:4])
            vertex_count += 1
        elif line[0] == "f":
            polygon: list[int] = []
            for token in line.split()[1:]:
                head = token.split("/", 1)[0]
                try:
                    index = int(head)
                except ValueError:
                    raise MeshError(
                        f"OBJ line {number}: {head!r} is not a vertex number."
                    ) from None
                if index == 0:
                    raise MeshError(f"OBJ line {number}: vertex numbers start at 1, not 0.")
                polygon.append(index - 1 if index > 0 else vertex_count + index)
            if len(polygon) < 3:
                skipped += 1
                continue
            triangles += len(polygon) - 2
            if triangles > max_faces:
                raise _too_many(triangles, max_faces)
            first = polygon[0]
            for a, b in pairwise(polygon[1:]):
                corners.extend((first, a, b))
    if not vertex_count:
        raise MeshError("The OBJ defines no vertices: it is not a mesh.")
    try:
        vertices = np.array(coords, dtype=np.float64).reshape(-1, 3)
    except ValueError:
        raise MeshError("The OBJ has a vertex coordinate that is not a number.") from None
    faces = np.array(corners, dtype=np.int64).reshape(-1, 3)
    if len(faces) and (faces.min() < 0 or faces.max() >= vertex_count):
        bad = int(faces.max() + 1 if faces.max() >= vertex_count else faces.min() + 1)
        raise MeshError(
            f"The OBJ has a face using vertex {bad}, but it defines only {vertex_count:,}."
        )
    return _Soup(vertices, faces, skipped_faces=skipped)


# 3MF ----------------------------------------------------------------------------------------

_3MF_UNITS: Final[dict[str, tuple[float, Units]]] = {
    "micron": (0.001, "mm"),
    "millimeter": (1.0, "mm"),
    "centimeter": (10.0, "mm"),
    "inch": (25.4, "inch"),
    "foot": (304.8, "inch"),
    "meter": (1000.0, "m"),
}
_RELS_START: Final = re.compile(rb'Target="([^"]+\.model)"', re.IGNORECASE)


@dataclass
class _Object3mf:
    name: str = ""
    vertices: NDArray[np.float64] | None = None
    faces: NDArray[np.int64] | None = None
    components: list[tuple[tuple[str, str], NDArray[np.float64]]] = field(default_factory=list)


def _transform(text: str | None, where: str) -> NDArray[np.float64]:
    matrix = np.eye(4)
    if text is None:
        return matrix
    try:
        values = [float(v) for v in text.split()]
    except ValueError:
        values = []
    if len(values) != 12 or not np.isfinite(values).all():
        raise MeshError(f"The 3MF has a {where} with a transform that is not 12 numbers.")
    matrix[:, :3] = np.array(values).reshape(4, 3)
    return matrix


def _part_path(element: Any, default: str) -> str:
    for key, value in element.attrib.items():
        if key.endswith("}path") or key == "path":
            return str(value).lstrip("/")
    return default


_Item3mf = tuple[tuple[str, str], NDArray[np.float64], str]  # object, placement, part number


def _parse_3mf_part(
    name: str, xml: bytes, objects: dict[tuple[str, str], _Object3mf], max_faces: int
) -> tuple[str | None, list[_Item3mf]]:
    """Objects and build items of one model part, one object's XML tree at a time.

    The number of elements is bounded before parsing (every vertex and triangle is one), so
    the tree of an object cannot outgrow what the triangle limit allows.
    """
    from lxml import etree  # type: ignore[import-untyped]

    if b"<!DOCTYPE" in xml or b"<!ENTITY" in xml:
        raise UnsafePackage("The 3MF model declares a DTD or entities, which 3MF forbids.")
    faces_so_far = sum(len(o.faces) for o in objects.values() if o.faces is not None)
    # A mesh needs fewer vertices than triangles (about half); allow three elements per
    # triangle of the limit before refusing the part unread.
    if xml.count(b"<") > 3 * (max_faces - faces_so_far) + 100_000:
        raise _too_many(xml.count(b"v1="), max_faces)
    items: list[_Item3mf] = []
    events = etree.iterparse(
        io.BytesIO(xml),
        events=("end",),
        tag=("{*}object", "{*}item"),
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        huge_tree=False,
    )
    root = None
    for _, element in events:
        if root is None:
            root = element.getroottree().getroot()
        if element.tag.rpartition("}")[2] == "item":
            key = (_part_path(element, name), element.get("objectid", ""))
            matrix = _transform(element.get("transform"), "build item")
            items.append((key, matrix, str(element.get("partnumber") or "")))
            continue
        obj = _read_3mf_object(element, name)
        faces_so_far += 0 if obj.faces is None else len(obj.faces)
        if faces_so_far > max_faces:
            raise _too_many(faces_so_far, max_faces)
        objects[(name, element.get("id", ""))] = obj
        # Only now, with no Python proxy of a child alive (lxml frees detached nodes one
        # proxy at a time, walking the tree each time), drop the object's tree.
        element.clear()
        parent = element.getparent()
        if parent is not None:
            while element.getprevious() is not None:
                del parent[0]
    if root is None:
        raise MeshError("The 3MF model part holds no objects.")
    unit: str | None = root.get("unit", "millimeter")
    return unit, items


def _read_3mf_object(element: Any, name: str) -> _Object3mf:
    points = [
        (v.get("x"), v.get("y"), v.get("z"))
        for v in element.iterfind("{*}mesh/{*}vertices/{*}vertex")
    ]
    corners = [
        (t.get("v1"), t.get("v2"), t.get("v3"))
        for t in element.iterfind("{*}mesh/{*}triangles/{*}triangle")
    ]
    obj = _Object3mf(name=str(element.get("name") or ""))
    for component in element.iterfind("{*}components/{*}component"):
        key = (_part_path(component, name), component.get("objectid", ""))
        obj.components.append((key, _transform(component.get("transform"), "component")))
    if not corners:
        return obj
    try:
        vertices = np.array(points, dtype=np.float64).reshape(-1, 3)
        faces = np.array(corners, dtype=np.int64).reshape(-1, 3)
    except (TypeError, ValueError):
        raise MeshError(
            "The 3MF has a vertex or triangle whose numbers are missing or wrong."
        ) from None
    if faces.min() < 0 or faces.max() >= len(vertices):
        raise MeshError("The 3MF has a triangle using a vertex it does not define.")
    obj.vertices, obj.faces = vertices, faces
    return obj


def _read_3mf_items(
    data: bytes, max_faces: int
) -> tuple[list[tuple[str, NDArray[np.float64], NDArray[np.int64]]], Units | None]:
    """Each build item of a 3MF placed in millimetres: (its name, vertices, faces), and the
    unit the file declares."""
    parts = read_3mf(data)
    start = "3D/3dmodel.model"
    rels = next((v for k, v in parts.items() if k.lower() == "_rels/.rels"), b"")
    match = _RELS_START.search(rels)
    if match and match.group(1).decode("utf-8", "replace").lstrip("/") in parts:
        start = match.group(1).decode("utf-8", "replace").lstrip("/")
    else:
        start = next((k for k in parts if k.lower() == start.lower()), start)
    if start not in parts:
        raise MeshError("The 3MF package has no 3D model part.")

    objects: dict[tuple[str, str], _Object3mf] = {}
    unit, items = _parse_3mf_part(start, parts[start], objects, max_faces)
    for name, xml in parts.items():
        if name != start and name.lower().endswith(".model"):
            _parse_3mf_part(name, xml, objects, max_faces)
    if unit not in _3MF_UNITS:
        raise MeshError(f"The 3MF declares a unit 3MF does not know: {unit!r}.")
    scale, declared = _3MF_UNITS[unit]
    if not items:  # no build section: place every object that is no one's component
        used = {key for obj in objects.values() for key, _ in obj.components}
        items = [(key, np.eye(4), "") for key in objects if key not in used]

    # Count instanced triangles bottom-up before placing any, refusing cycles and explosions
    # (a component tree of depth 30 and fan-out 2 would otherwise place a billion copies).
    counts: dict[tuple[str, str], tuple[int, int]] = {}

    def count(
        key: tuple[str, str], depth: int, path: frozenset[tuple[str, str]]
    ) -> tuple[int, int]:
        if key in path or depth > _MAX_3MF_DEPTH:
            raise MeshError("The 3MF's components refer to each other in a loop, or nest too deep.")
        if key in counts:
            return counts[key]
        obj = objects.get(key)
        if obj is None:
            raise MeshError(f"The 3MF refers to an object it does not define ({key[1]!r}).")
        faces = 0 if obj.faces is None else len(obj.faces)
        instances = 1
        for child, _ in obj.components:
            child_faces, child_instances = count(child, depth + 1, path | {key})
            faces += child_faces
            instances += child_instances
            if faces > max_faces:
                raise _too_many(faces, max_faces)
            if instances > _MAX_3MF_INSTANCES:
                raise MeshError("The 3MF places too many copies of its objects.")
        counts[key] = (faces, instances)
        return faces, instances

    placed = [count(key, 0, frozenset()) for key, _, _ in items]
    total = sum(faces for faces, _ in placed)
    if total > max_faces:
        raise _too_many(total, max_faces)
    if sum(instances for _, instances in placed) > _MAX_3MF_INSTANCES:
        raise MeshError("The 3MF places too many copies of its objects.")

    def place(
        key: tuple[str, str],
        matrix: NDArray[np.float64],
        vertices: list[NDArray[np.float64]],
        faces: list[NDArray[np.int64]],
    ) -> None:
        obj = objects[key]
        if obj.vertices is not None and obj.faces is not None and len(obj.faces):
            faces.append(obj.faces + sum(len(v) for v in vertices))
            vertices.append(obj.vertices @ matrix[:3, :3] + matrix[3, :3])
        for child, child_matrix in obj.components:
            place(child, child_matrix @ matrix, vertices, faces)

    found: list[tuple[str, NDArray[np.float64], NDArray[np.int64]]] = []
    for index, (key, matrix, part_number) in enumerate(items, start=1):
        item_vertices: list[NDArray[np.float64]] = []
        item_faces: list[NDArray[np.int64]] = []
        place(key, matrix, item_vertices, item_faces)
        if item_faces:
            label = part_number or objects[key].name or f"object {index}"
            placed_at = np.concatenate(item_vertices) * scale
            found.append((label, placed_at, np.concatenate(item_faces)))
    return found, declared


def _read_3mf(data: bytes, max_faces: int) -> _Soup:
    items, declared = _read_3mf_items(data, max_faces)
    if not items:
        return _Soup(np.empty((0, 3)), np.empty((0, 3), dtype=np.int64), numbers_unit="mm")
    offsets = np.cumsum([0] + [len(vertices) for _, vertices, _ in items[:-1]])
    shifted = [faces + offset for (_, _, faces), offset in zip(items, offsets, strict=True)]
    return _Soup(
        np.concatenate([vertices for _, vertices, _ in items]),
        np.concatenate(shifted),
        numbers_unit="mm",
        declared_units=declared,
    )


def load_3mf_objects(
    source: Path | str | bytes,
    *,
    max_faces: int = DEFAULT_MAX_FACES,
    max_bytes: int | None = None,
) -> list[tuple[str, trimesh.Trimesh]]:
    """Each object a 3MF places on its build plate (a build item, with its components) as a
    mesh of its own in millimetres, named by its part number or object name.

    A file holding several objects is several parts to print: checked, shown and priced one by
    one, never as one block the size of the whole plate.
    """
    if isinstance(source, bytes | bytearray | memoryview):
        data = bytes(source)
        check_size(len(data), max_bytes)
    else:
        path = Path(source)
        check_size(file_size(path), max_bytes)
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise UnreadableFile(f"The file cannot be read: {exc.strerror or exc}.") from None
    try:
        items, declared = _read_3mf_items(data, max_faces)
        return [
            (name, _build(_Soup(vertices, faces, numbers_unit="mm", declared_units=declared)))
            for name, vertices, faces in items
        ]
    except IntakeError:
        raise
    except MemoryError:
        raise MeshError("The model is too large to open on this computer.") from None
    except Exception as exc:
        raise MeshError(f"The 3MF file cannot be read: {exc or type(exc).__name__}.") from exc


_READERS: Final = {
    "stl_binary": _read_stl_binary,
    "stl_ascii": _read_stl_ascii,
    "obj": _read_obj,
    "3mf": _read_3mf,
}


# ---------------------------------------------------------------------------------------------
# Welding and topology (vectorised; no per-face Python)

_MIX: Final = (
    np.uint64(0x9E3779B97F4A7C15),
    np.uint64(0xC2B2AE3D27D4EB4F),
    np.uint64(0x165667B19E3779F9),
)


def _groups(keys: NDArray[Any]) -> tuple[NDArray[np.intp], NDArray[np.int64], NDArray[np.intp]]:
    """Sort 1-D keys into groups: (order, group id of each sorted key, start of each group)."""
    order = np.argsort(keys)
    ordered = keys[order]
    new = np.ones(len(ordered), dtype=bool)
    new[1:] = ordered[1:] != ordered[:-1]
    return order, np.cumsum(new) - 1, np.flatnonzero(new)


def _group_rows(rows: NDArray[np.uint64]) -> tuple[NDArray[np.intp], NDArray[np.int64]]:
    """Equal rows of an (n, 3) array: (one representative row per group, group of each row).

    Rows are grouped through a 64-bit hash; each row is then compared with its neighbour in
    hash order, and if a group holds different rows (a collision) they are sorted exactly.
    """
    hashed = ((rows[:, 0] * _MIX[0]) ^ rows[:, 1]) * _MIX[1]
    hashed = (hashed ^ rows[:, 2]) * _MIX[2]
    order, ids, starts = _groups(hashed)
    ordered = rows[order]
    differs = (ordered[1:] != ordered[:-1]).any(axis=1)
    if (differs & (ids[1:] == ids[:-1])).any():
        order = np.lexsort((rows[:, 2], rows[:, 1], rows[:, 0]))
        ordered = rows[order]
        new = np.ones(len(ordered), dtype=bool)
        new[1:] = (ordered[1:] != ordered[:-1]).any(axis=1)
        ids = np.cumsum(new) - 1
        starts = np.flatnonzero(new)
    inverse = np.empty(len(order), dtype=np.int64)
    inverse[order] = ids
    return order[starts], inverse


def _weld(
    vertices: NDArray[Any], faces: NDArray[np.int64], *, all_used: bool = False
) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    """Keep only referenced vertices and share those that coincide.

    Points are snapped to a grid a billionth of the part's size, so CAD noise such as
    -2.7e-16 against 0 welds, while distinct float32 coordinates (a ten-millionth apart at
    least) stay distinct. `all_used` skips finding the referenced vertices (STL soups).
    """
    if not len(faces):
        return np.empty((0, 3)), np.empty((0, 3), dtype=np.int64)
    if all_used:
        used_index = None
        points = vertices.astype(np.float64)
    else:
        used = np.zeros(len(vertices), dtype=bool)
        used[faces.ravel()] = True
        used_index = np.flatnonzero(used)
        points = vertices[used_index].astype(np.float64)
    size = float(np.ptp(points, axis=0).max())
    scale = 1e9 / size if size > 0 else 1.0
    with np.errstate(over="ignore", invalid="ignore"):
        cells = np.rint(points * scale)
    if np.isfinite(cells).all() and np.abs(cells).max() < 2.0**62:
        rows = cells.astype(np.int64).view(np.uint64)
    else:  # coordinates too far out for the grid: weld exact duplicates only
        rows = np.ascontiguousarray(points + 0.0).view(np.uint64).reshape(-1, 3)
    representative, inverse = _group_rows(rows)
    if used_index is None:
        return points[representative], inverse[faces]
    remap = np.zeros(len(vertices), dtype=np.int64)
    remap[used_index] = inverse
    return points[representative], remap[faces]


@dataclass(frozen=True)
class _Topology:
    watertight: bool
    consistent: bool
    boundary_edges: int
    nonmanifold_edges: int


def _proper(faces: NDArray[np.int64]) -> NDArray[np.bool_]:
    """Faces with three different corners."""
    proper: NDArray[np.bool_] = (
        (faces[:, 0] != faces[:, 1]) & (faces[:, 1] != faces[:, 2]) & (faces[:, 0] != faces[:, 2])
    )
    return proper


def _edge_pairs(
    faces: NDArray[np.int64], n_vertices: int
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.bool_], _Topology]:
    """Faces meeting at each edge shared by exactly two faces, and the topology summary.

    Returns the face of each side (a, b), whether the two run the shared edge the same way
    (which means one of them is flipped), and the counts of open and over-shared edges.
    """
    directed = faces[:, [0, 1, 1, 2, 2, 0]].reshape(-1, 2)
    low = directed.min(axis=1)
    key = low * np.int64(n_vertices) + directed.max(axis=1)
    forward = directed[:, 0] < directed[:, 1]
    order, _, starts = _groups(key)
    sizes = np.diff(np.append(starts, len(order)))
    pairs = starts[sizes == 2]
    side_a, side_b = order[pairs], order[pairs + 1]
    same_way = forward[side_a] == forward[side_b]
    boundary = int((sizes == 1).sum())
    nonmanifold = int((sizes > 2).sum())
    topology = _Topology(
        watertight=bool(len(faces)) and boundary == 0 and nonmanifold == 0,
        consistent=not bool(same_way.any()),
        boundary_edges=boundary,
        nonmanifold_edges=nonmanifold,
    )
    return side_a // 3, side_b // 3, same_way, topology


def _topology(faces: NDArray[np.int64], n_vertices: int) -> _Topology:
    return _edge_pairs(faces[_proper(faces)], n_vertices)[3]


def _vertex_bodies(faces: NDArray[np.int64], n_vertices: int) -> tuple[int, NDArray[np.int32]]:
    """Connected bodies (through shared vertices) and the body of each vertex."""
    from scipy.sparse import coo_matrix  # type: ignore[import-untyped]
    from scipy.sparse.csgraph import connected_components  # type: ignore[import-untyped]

    if not len(faces):
        return 0, np.zeros(n_vertices, dtype=np.int32)
    links = faces[:, [0, 1, 1, 2]].reshape(-1, 2)
    graph = coo_matrix(
        (np.ones(len(links), dtype=np.int8), (links[:, 0], links[:, 1])),
        shape=(n_vertices, n_vertices),
    ).tocsr()
    _, labels = connected_components(graph, directed=False)
    return int(np.unique(labels[faces.ravel()]).size), labels


def _face_volumes(vertices: NDArray[np.float64], faces: NDArray[np.int64]) -> NDArray[np.float64]:
    """Signed volume of the tetrahedron each face makes with the part's centre."""
    centre = (vertices.min(axis=0) + vertices.max(axis=0)) / 2 if len(vertices) else 0.0
    a = vertices[faces[:, 0]] - centre
    b = vertices[faces[:, 1]] - centre
    c = vertices[faces[:, 2]] - centre
    volumes: NDArray[np.float64] = np.einsum("ij,ij->i", a, np.cross(b, c)) / 6.0
    return volumes


def _degenerate(vertices: NDArray[np.float64], faces: NDArray[np.int64]) -> NDArray[np.bool_]:
    """Faces with repeated corners or no area (height under a billionth of the part's size)."""
    a, b, c = (vertices[faces[:, i]] for i in range(3))
    doubled_area = np.linalg.norm(np.cross(b - a, c - a), axis=1)
    longest = np.maximum.reduce(
        [
            np.linalg.norm(b - a, axis=1),
            np.linalg.norm(c - b, axis=1),
            np.linalg.norm(a - c, axis=1),
        ]
    )
    size = float(np.ptp(vertices, axis=0).max()) if len(vertices) else 0.0
    height = np.divide(doubled_area, longest, out=np.zeros_like(doubled_area), where=longest > 0)
    degenerate: NDArray[np.bool_] = ~_proper(faces) | (height <= size * 1e-9)
    return degenerate


def _fix_winding(faces: NDArray[np.int64], n_vertices: int) -> tuple[NDArray[np.int64], int]:
    """Flip faces so neighbours agree on direction; returns the faces and how many flipped.

    Faces are nodes of a graph linked through edges shared by exactly two faces, each link
    marked 1 when the two run the edge the same way. A breadth-first forest from a virtual root
    gives every face a parent; whether a face must flip is the XOR of the marks up to its
    tree's root, computed for all faces at once by pointer jumping. In each body the smaller
    side is flipped.
    """
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import breadth_first_order, connected_components

    count = len(faces)
    if not count:
        return faces, 0
    proper = np.flatnonzero(_proper(faces))
    side_a, side_b, same_way, topology = _edge_pairs(faces[proper], n_vertices)
    if topology.consistent:
        return faces, 0
    side_a, side_b = proper[side_a], proper[side_b]
    low, high = np.minimum(side_a, side_b), np.maximum(side_a, side_b)
    link_key = low * np.int64(count + 1) + high
    link_key, first = np.unique(link_key, return_index=True)
    mark = same_way[first]
    low, high = low[first], high[first]

    links = coo_matrix(
        (np.ones(len(low), dtype=np.int8), (low, high)), shape=(count, count)
    ).tocsr()
    n_groups, group = connected_components(links, directed=False)
    _, roots = np.unique(group, return_index=True)
    root = count  # the virtual root, linked to one face of every group
    rows = np.concatenate([low, np.full(len(roots), root)])
    cols = np.concatenate([high, roots])
    forest = coo_matrix(
        (np.ones(len(rows), dtype=np.int8), (rows, cols)), shape=(count + 1, count + 1)
    ).tocsr()
    _, parent = breadth_first_order(forest, root, directed=False, return_predecessors=True)
    parent[root] = root

    child = np.arange(count, dtype=np.int64)
    up = parent[:count].astype(np.int64)
    flip = np.zeros(count + 1, dtype=bool)
    linked = up != root
    pair_key = np.minimum(child, up) * np.int64(count + 1) + np.maximum(child, up)
    where = np.searchsorted(link_key, pair_key[linked])
    flip[:count][linked] = mark[where]
    ancestor = np.append(up, root)
    # Pointer jumping: after k rounds each face knows the XOR of 2^k marks above it.
    while (ancestor != root).any():
        flip = flip ^ flip[ancestor]
        ancestor = ancestor[ancestor]
    flip = flip[:count]
    flipped_per_group = np.bincount(group, weights=flip, minlength=n_groups)
    size_per_group = np.bincount(group, minlength=n_groups)
    flip ^= (flipped_per_group * 2 > size_per_group)[group]
    fixed = faces.copy()
    fixed[flip] = fixed[flip][:, ::-1]
    return fixed, int(flip.sum())


def _fix_inversion(
    vertices: NDArray[np.float64], faces: NDArray[np.int64]
) -> tuple[NDArray[np.int64], int]:
    """Turn closed bodies that are inside out (negative volume) right side out.

    A body whose box lies inside another body's box is taken for a cavity, whose inward
    facing is correct, and left alone. With thousands of inverted bodies (triangle soup)
    nothing is turned: that is no part simple repair can save.
    """
    n_bodies, labels = _vertex_bodies(faces, len(vertices))
    if not n_bodies:
        return faces, 0
    _, body_of_vertex = np.unique(labels, return_inverse=True)
    body = body_of_vertex[faces[:, 0]]
    n = int(body_of_vertex.max()) + 1
    volume = np.bincount(body, weights=_face_volumes(vertices, faces), minlength=n)
    open_faces = _open_edge_faces(faces, len(vertices))
    closed = np.bincount(body[open_faces], minlength=n) == 0
    size = float(np.ptp(vertices, axis=0).max())
    candidates = np.flatnonzero(closed & (volume < -1e-9 * size**3))
    if not len(candidates) or len(candidates) * n > 5_000_000:
        return faces, 0
    low = np.full((n, 3), np.inf)
    high = np.full((n, 3), -np.inf)
    for axis in range(3):
        np.minimum.at(low[:, axis], body_of_vertex, vertices[:, axis])
        np.maximum.at(high[:, axis], body_of_vertex, vertices[:, axis])
    turn = np.zeros(n, dtype=bool)
    for i in candidates:
        contains = (low <= low[i]).all(axis=1) & (high >= high[i]).all(axis=1)
        contains[i] = False
        turn[i] = not contains.any()
    flip = turn[body]
    fixed = faces.copy()
    fixed[flip] = fixed[flip][:, ::-1]
    return fixed, int(turn.sum())


def _open_edge_faces(faces: NDArray[np.int64], n_vertices: int) -> NDArray[np.int64]:
    directed = faces[:, [0, 1, 1, 2, 2, 0]].reshape(-1, 2)
    key = directed.min(axis=1) * np.int64(n_vertices) + directed.max(axis=1)
    order, _, starts = _groups(key)
    sizes = np.diff(np.append(starts, len(order)))
    return np.unique(order[starts[sizes == 1]] // 3)


# ---------------------------------------------------------------------------------------------
# Public API


def _meta(mesh: trimesh.Trimesh) -> dict[str, Any]:
    value = mesh.metadata.get("printdesk")
    return value if isinstance(value, dict) else {}


def _build(soup: _Soup, *, nonfinite_faces: int = 0) -> trimesh.Trimesh:
    vertices = soup.vertices
    faces = soup.faces
    with np.errstate(invalid="ignore", over="ignore"):
        finite = np.isfinite(vertices).all(axis=1)
    bad = ~finite[faces].all(axis=1) if len(faces) else np.zeros(0, dtype=bool)
    dropped = int(bad.sum())
    if dropped:
        faces = faces[~bad]
    welded_vertices, welded_faces = _weld(vertices, faces, all_used=soup.all_used and not dropped)
    mesh = trimesh.Trimesh(
        vertices=welded_vertices, faces=welded_faces, process=False, validate=False
    )
    mesh.metadata["printdesk"] = {
        "welded": True,
        "nonfinite_faces": dropped + nonfinite_faces,
        "skipped_faces": soup.skipped_faces,
        "numbers_unit": soup.numbers_unit,
        "declared_units": soup.declared_units,
    }
    if soup.numbers_unit == "mm":
        mesh.units = "millimeters"
    return mesh


def load_mesh(
    source: Path | str | bytes,
    fmt: MeshFormat | None = None,
    *,
    max_faces: int = DEFAULT_MAX_FACES,
    max_bytes: int | None = None,
) -> trimesh.Trimesh:
    """Read a mesh file (a path, or its bytes) into one welded `trimesh.Trimesh`.

    `fmt` is what `sniff_format` said; when it is None the content is sniffed here. Scenes (3MF
    build items and components, OBJ objects) are concatenated in place. Triangles with NaN or
    infinite corners are left out and counted in ``mesh.metadata["printdesk"]`` for `analyze`.
    Raises `IntakeError` (`MeshError`, `TooManyFaces`, ...) with a message for staff.
    """
    if isinstance(source, bytes | bytearray | memoryview):
        data = bytes(source)
        check_size(len(data), max_bytes)
    else:
        path = Path(source)
        check_size(file_size(path), max_bytes)
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise UnreadableFile(f"The file cannot be read: {exc.strerror or exc}.") from None
    if fmt is None:
        fmt = sniff_format(data[:HEAD_BYTES], len(data))
    elif fmt not in MESH_FORMATS:
        raise ValueError(f"unknown mesh format {fmt!r}")
    try:
        soup = _READERS[fmt](data, max_faces)
        return _build(soup)
    except IntakeError:
        raise
    except MemoryError:
        raise MeshError("The model is too large to open on this computer.") from None
    except Exception as exc:  # a reader's or a library's surprise must still read well
        raise MeshError(
            f"The {_FORMAT_LABEL[fmt]} file cannot be read: {exc or type(exc).__name__}."
        ) from exc


def _unit_of(name: object) -> Units | None:
    text = str(name or "").strip().lower()
    if text in {"mm", "millimeter", "millimeters", "millimetre", "millimetres"}:
        return "mm"
    if text in {"in", "inch", "inches"}:
        return "inch"
    if text in {"m", "meter", "meters", "metre", "metres"}:
        return "m"
    return None


def _inch_sized(extents: Sequence[float]) -> bool:
    sizes = np.asarray(extents, dtype=np.float64)
    if not len(sizes) or (sizes <= 0).any():
        return False
    sixteenths = sizes / _SIXTEENTH_MM
    on_inch_grid = bool((np.abs(sixteenths - np.round(sixteenths)) <= 0.01).all())
    whole_mm = bool((np.abs(sizes - np.round(sizes)) <= 1e-3).all())
    return on_inch_grid and not whole_mm


def guess_units(
    extents: Sequence[float],
    *,
    numbers_unit: Units | None = None,
    declared: Units | None = None,
) -> tuple[Units, Units]:
    """(unit the part was drawn in, unit its numbers are in); see the module's notes."""
    largest = float(max(extents)) if len(extents) else 0.0
    file_units: Units
    if numbers_unit is not None:
        file_units = numbers_unit
    elif 0 < largest < _METRE_BELOW:
        file_units = "m"
    elif 0 < largest < _INCH_BELOW:
        file_units = "inch"
    else:
        file_units = "mm"
    drawn_in: Units = declared or file_units
    if drawn_in == "mm" and file_units == "mm" and _inch_sized(extents):
        drawn_in = "inch"
    return drawn_in, file_units


def _size_text(values: Sequence[float]) -> str:
    return " × ".join(f"{v:.4g}" for v in values)


def _round(value: float) -> float:
    return float(f"{value:.6g}")


def analyze(
    mesh: trimesh.Trimesh, *, printers: Sequence[BuildVolume] = DEFAULT_PRINTERS
) -> MeshReport:
    """Measure a mesh and list what stands in the way of printing it as it is.

    `printers` are build volumes (x, y, z in mm); the part fits one if its sides fit in some
    order (staff may lay it on any side). An empty sequence skips that check. The mesh is not
    changed.
    """
    meta = _meta(mesh)
    vertices = np.asarray(mesh.vertices, dtype=np.float64)
    faces = np.asarray(mesh.faces, dtype=np.int64).reshape(-1, 3)
    nonfinite = int(meta.get("nonfinite_faces", 0))
    if not meta.get("welded"):
        rebuilt = _build(_Soup(vertices, faces))
        nonfinite += _meta(rebuilt)["nonfinite_faces"]
        vertices = np.asarray(rebuilt.vertices, dtype=np.float64)
        faces = np.asarray(rebuilt.faces, dtype=np.int64)
    numbers_unit = meta.get("numbers_unit") or _unit_of(mesh.units)
    declared = meta.get("declared_units")

    problems: list[Problem] = []
    if nonfinite:
        problems.append(
            Problem(
                "nan_coordinates",
                f"Left out {_count(nonfinite, 'triangle')} whose corners are not numbers "
                "(NaN or infinite); the file is damaged.",
            )
        )
    if not len(faces):
        problems.insert(0, Problem("empty", "The file holds no triangles: nothing to print."))
        return MeshReport(
            ok=False,
            faces=0,
            bodies=0,
            watertight=False,
            volume_mm3=None,
            extents_mm=(0.0, 0.0, 0.0),
            units_guess=declared or numbers_unit or "mm",
            problems=tuple(problems),
            file_units=numbers_unit or "mm",
        )

    with np.errstate(all="ignore"):
        extents = np.ptp(vertices, axis=0)
        extents = np.where(np.isfinite(extents), extents, np.finfo(np.float64).max)
        topology = _topology(faces, len(vertices))
        bodies, _ = _vertex_bodies(faces, len(vertices))
        degenerate = int(_degenerate(vertices, faces).sum()) + int(meta.get("skipped_faces", 0))
        volume: float | None = None
        if topology.watertight:
            closed = faces
            if not topology.consistent:
                closed, _ = _fix_winding(faces, len(vertices))
            signed = float(_face_volumes(vertices, closed).sum())
            volume = abs(signed) if np.isfinite(signed) else None
        largest_coordinate = float(np.abs(vertices).max())

    extents_mm = (_round(extents[0]), _round(extents[1]), _round(extents[2]))
    units_guess, file_units = guess_units(
        [float(e) for e in extents], numbers_unit=numbers_unit, declared=declared
    )

    if not topology.watertight:
        detail = []
        if topology.boundary_edges:
            detail.append(_count(topology.boundary_edges, "open edge"))
        if topology.nonmanifold_edges:
            detail.append(
                f"{_count(topology.nonmanifold_edges, 'edge')} shared by more than two faces"
            )
        problems.append(
            Problem(
                "open_shell",
                f"The surface is not closed ({', '.join(detail) or 'no closed surface'}): "
                "its volume, and so its material and price, cannot be trusted.",
            )
        )
    if largest_coordinate > HUGE_COORDINATE_MM:
        problems.append(
            Problem(
                "huge_coordinates",
                f"Some coordinates are absurdly large (up to {largest_coordinate:.3g}); the file "
                "is damaged or far from its origin.",
            )
        )
    if degenerate:
        problems.append(
            Problem(
                "degenerate_faces",
                f"{_count(degenerate, 'triangle')} without area (slicers skip them).",
            )
        )
    if bodies > 1:
        problems.append(
            Problem(
                "several_bodies",
                f"The file holds {bodies:,} separate bodies; they are sliced and priced together "
                "as one job.",
            )
        )
    if printers and not _fits_any(extents_mm, printers):
        biggest = max(printers, key=lambda p: p[0] * p[1] * p[2])
        problems.append(
            Problem(
                "too_big_for_every_printer",
                f"At {_size_text(extents_mm)} mm the part fits no printer in any orientation "
                f"(largest build volume {_size_text(biggest)} mm).",
            )
        )
    if float(extents.max()) < TINY_MM:
        hint = {
            "m": "its numbers look like metres",
            "inch": "its numbers look like inches",
            "mm": "check the file's units",
        }[file_units]
        problems.append(
            Problem(
                "tiny",
                f"The part is only {_size_text(extents_mm)} mm as given; {hint}: rescale it "
                "to millimetres.",
            )
        )

    return MeshReport(
        ok=not any(p.code not in _NOTES for p in problems),
        faces=len(faces),
        bodies=bodies,
        watertight=topology.watertight,
        volume_mm3=None if volume is None else _round(volume),
        extents_mm=extents_mm,
        units_guess=units_guess,
        problems=tuple(problems),
        file_units=file_units,
    )


def _fits_any(extents: Sequence[float], printers: Sequence[BuildVolume]) -> bool:
    part = sorted(extents)
    return any(all(p <= v for p, v in zip(part, sorted(vol), strict=True)) for vol in printers)


def rescale(mesh: trimesh.Trimesh, units: Units) -> trimesh.Trimesh:
    """A copy of the part with its numbers, taken to be in `units`, turned into millimetres.

    Pass ``report.file_units``: a part whose numbers already are millimetres is copied as it is.
    The copy remembers that its numbers are millimetres and that it was drawn in `units`.
    """
    if units not in MM_PER_UNIT:
        raise ValueError(f"unknown units {units!r}; expected one of {sorted(MM_PER_UNIT)}")
    meta = dict(_meta(mesh))
    scaled = trimesh.Trimesh(
        vertices=np.asarray(mesh.vertices, dtype=np.float64) * MM_PER_UNIT[units],
        faces=np.asarray(mesh.faces, dtype=np.int64).copy(),
        process=False,
        validate=False,
    )
    meta.update(numbers_unit="mm", declared_units=units)
    meta.setdefault("welded", False)
    scaled.metadata["printdesk"] = meta
    scaled.units = "millimeters"
    return scaled


def _count(number: int, noun: str, plural: str | None = None) -> str:
    return f"{number:,} {noun}" if number == 1 else f"{number:,} {plural or noun + 's'}"


def _fill_small_holes(
    vertices: NDArray[np.float64], faces: NDArray[np.int64]
) -> tuple[NDArray[np.int64], int]:
    """Close holes of three or four edges with trimesh's `fill_holes`; returns faces, added.

    A lone triangle's own outline is such a "hole" too; closing it with its mirror image
    makes a closed surface of no volume, so patches that repeat an existing face are dropped.
    """
    work = trimesh.Trimesh(vertices=vertices, faces=faces, process=False, validate=False)
    trimesh.repair.fill_holes(work)
    patches = np.asarray(work.faces, dtype=np.int64)[len(faces) :]
    if not len(patches):
        return faces, 0
    rows = np.sort(np.concatenate([faces, patches]), axis=1).view(np.uint64)
    _, group = _group_rows(rows)
    existing = np.zeros(int(group.max()) + 1, dtype=bool)
    existing[group[: len(faces)]] = True
    patches = patches[~existing[group[len(faces) :]]]
    return np.concatenate([faces, patches]), len(patches)


def repair(
    mesh: trimesh.Trimesh, *, max_faces: int = DEFAULT_MAX_FACES
) -> tuple[trimesh.Trimesh, list[str]]:
    """A repaired copy and what was done, one sentence per step (empty when nothing was).

    Steps: leave out triangles with NaN or infinite corners, weld duplicate vertices, remove
    faces without area and duplicate faces, fill holes of three or four edges (trimesh's
    `fill_holes`), make neighbouring faces agree on direction, and turn inside-out bodies
    right side out. Anything bigger (large holes, self-intersections) needs a modelling tool.
    """
    faces = np.asarray(mesh.faces, dtype=np.int64).reshape(-1, 3)
    if len(faces) > max_faces:
        raise _too_many(len(faces), max_faces)
    meta = _meta(mesh)
    done: list[str] = []
    vertices = np.asarray(mesh.vertices, dtype=np.float64)

    with np.errstate(invalid="ignore"):
        finite = np.asarray(np.isfinite(vertices).all(axis=1), dtype=bool)
    bad: NDArray[np.bool_] = np.zeros(len(faces), dtype=bool)
    if len(faces):
        bad = ~np.asarray(finite[faces].all(axis=1), dtype=bool)
    faces = faces[~bad]
    # Loading already left out such triangles; the repaired part no longer shows them, so say so.
    left_out = int(bad.sum()) + int(meta.get("nonfinite_faces", 0))
    if left_out:
        done.append(f"Left out {_count(left_out, 'triangle')} whose corners were not numbers.")
    if meta.get("skipped_faces"):
        short = _count(int(meta["skipped_faces"]), "face")
        done.append(f"Left out {short} with fewer than three corners.")
    if not meta.get("welded") or bad.any():
        referenced = len(np.unique(faces)) if len(faces) else 0
        vertices, faces = _weld(vertices, faces)
        if referenced > len(vertices):
            merged = _count(referenced - len(vertices), "duplicate vertex", "duplicate vertices")
            done.append(f"Welded {merged}.")

    if len(faces):
        with np.errstate(all="ignore"):
            flat = _degenerate(vertices, faces)
        if flat.any():
            faces = faces[~flat]
            done.append(f"Removed {_count(int(flat.sum()), 'triangle')} without area.")
    if len(faces):
        first, _ = _group_rows(np.sort(faces, axis=1).view(np.uint64))
        if len(first) < len(faces):
            done.append(f"Removed {_count(len(faces) - len(first), 'duplicate triangle')}.")
            faces = faces[np.sort(first)]

    if len(faces):
        topology = _topology(faces, len(vertices))
        if 0 < topology.boundary_edges <= _MAX_BOUNDARY_EDGES_TO_FILL:
            faces, added = _fill_small_holes(vertices, faces)
            if added:
                done.append(f"Filled small holes with {_count(added, 'triangle')}.")
        faces, flipped = _fix_winding(faces, len(vertices))
        if flipped:
            done.append(f"Turned {_count(flipped, 'triangle')} so neighbouring faces agree.")
        with np.errstate(all="ignore"):
            faces, turned = _fix_inversion(vertices, faces)
        if turned:
            bodies = _count(turned, "inside-out body", "inside-out bodies")
            done.append(f"Turned {bodies} right side out.")

    # Removed faces may leave vertices unused: keep only those the faces still use.
    used = np.zeros(len(vertices), dtype=bool)
    used[faces.ravel()] = True
    remap = np.cumsum(used) - 1
    result = trimesh.Trimesh(
        vertices=vertices[used], faces=remap[faces], process=False, validate=False
    )
    result.metadata["printdesk"] = {
        "welded": True,
        "nonfinite_faces": 0,
        "skipped_faces": 0,
        "numbers_unit": meta.get("numbers_unit"),
        "declared_units": meta.get("declared_units"),
    }
    if meta.get("numbers_unit") == "mm" or _unit_of(mesh.units) == "mm":
        result.units = "millimeters"
    return result, done


__all__ = [
    "DEFAULT_MAX_FACES",
    "DEFAULT_PRINTERS",
    "HUGE_COORDINATE_MM",
    "MM_PER_UNIT",
    "TINY_MM",
    "BuildVolume",
    "MeshError",
    "MeshReport",
    "Problem",
    "ProblemCode",
    "TooManyFaces",
    "Units",
    "analyze",
    "guess_units",
    "load_3mf_objects",
    "load_mesh",
    "repair",
    "rescale",
]
