"""Read a client's model, put it on the printer's bed, and refuse it when it cannot fit.

CuraEngine slices a mesh where its coordinates put it and does not check the build volume.
The engine treats mesh (0, 0) as the bed centre (it adds half the bed itself unless
``machine_center_is_zero``), so a part is centred on x = y = 0 with its lowest point at z = 0.
The fit check uses the space Cura's build volume leaves: the bed less the border that skirt,
brim or raft, support offset, shields and travel avoidance need, the printer's disallowed
areas, and for round beds the circle.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import trimesh

from core.slicing.errors import PartTooBig, UnreadableModel

MESH_SUFFIXES = (".stl", ".obj", ".3mf")


@dataclass(frozen=True)
class Placement:
    """Where the part went: the shift applied to the file's coordinates, and the sizes checked."""

    offset: tuple[float, float, float]  # mm added to the file's x, y, z
    size: tuple[float, float, float]  # the part's extents, mm
    build_volume: tuple[float, float, float]  # machine width, depth, height, mm
    border: float  # mm kept free around the part for adhesion, travel and shields
    round_bed: bool = False


def load_mesh(path: Path) -> trimesh.Trimesh:
    """The model as one triangle mesh (several bodies are kept together), in file units."""
    suffix = path.suffix.lower()
    if suffix not in MESH_SUFFIXES:
        raise UnreadableModel(f"{path.name} is not an STL, OBJ or 3MF file.")
    if not path.is_file():
        raise UnreadableModel(f"{path.name} does not exist or is not a file.")
    options: dict[str, Any] = {"force": "mesh"}
    if suffix == ".obj":
        options["skip_materials"] = True
    try:
        loaded = trimesh.load(str(path), file_type=suffix.lstrip("."), **options)
    except Exception as exc:  # trimesh raises many kinds for broken files
        raise UnreadableModel(f"{path.name} cannot be read as a mesh: {exc}") from None
    if isinstance(loaded, trimesh.Scene):
        loaded = loaded.to_mesh() if not loaded.is_empty else trimesh.Trimesh()
    if not isinstance(loaded, trimesh.Trimesh) or len(loaded.faces) == 0:
        raise UnreadableModel(f"{path.name} holds no triangles.")
    vertices = np.asarray(loaded.vertices, dtype=float)
    if not np.all(np.isfinite(vertices)):
        raise UnreadableModel(f"{path.name} has vertices that are not numbers.")
    return loaded


def _number(values: Mapping[str, Any], key: str, default: float = 0.0) -> float:
    value = values.get(key, default)
    if isinstance(value, bool):
        return float(value)
    try:
        return float(value)
    except (TypeError, ValueError):
        return default


def edge_border(global_values: Mapping[str, Any], extruder_values: Mapping[str, Any]) -> float:
    """The border Cura's build volume keeps free along the bed edge (single extruder)."""
    adhesion = str(global_values.get("adhesion_type", "none"))
    line = _number(extruder_values, "skirt_brim_line_width", 0.4)
    factor = _number(extruder_values, "initial_layer_line_width_factor", 100.0) / 100.0
    if adhesion == "brim":
        adhesion_size = line * _number(global_values, "brim_line_count") * factor
    elif adhesion == "skirt":
        adhesion_size = (
            _number(global_values, "skirt_gap")
            + line * _number(global_values, "skirt_line_count") * factor
        )
    elif adhesion == "raft":
        adhesion_size = _number(global_values, "raft_margin")
    else:
        adhesion_size = 0.0
    half_bed = 0.5 * min(
        _number(global_values, "machine_width"), _number(global_values, "machine_depth")
    )
    adhesion_size = min(adhesion_size, half_bed)

    support = 0.0
    if global_values.get("support_enable") and _number(global_values, "support_offset"):
        support = _number(global_values, "support_offset")
    shield = 0.0
    if global_values.get("draft_shield_enabled"):
        shield = max(shield, _number(global_values, "draft_shield_dist"))
    if global_values.get("ooze_shield_enabled"):
        shield = max(shield, _number(global_values, "ooze_shield_dist"))
    move = 0.0
    if extruder_values.get("travel_avoid_other_parts"):
        move = _number(extruder_values, "travel_avoid_distance")
    wipe = _number(extruder_values, "infill_wipe_dist")
    walls = _number(extruder_values, "wall_line_count")
    if walls >= 1:
        wipe -= _number(extruder_values, "wall_line_width_0")
        if walls >= 2:
            wipe -= _number(extruder_values, "wall_line_width_x") * (walls - 1)
    move = max(move, wipe)
    if global_values.get("print_sequence") == "one_at_a_time":
        return 0.1
    return max(move, support + shield, support + adhesion_size)


def _raft_thickness(values: Mapping[str, Any]) -> float:
    if values.get("adhesion_type") != "raft":
        return 0.0
    return (
        _number(values, "raft_base_thickness")
        + _number(values, "raft_interface_thickness")
        + _number(values, "raft_surface_layers") * _number(values, "raft_surface_thickness")
        + _number(values, "raft_airgap")
        - _number(values, "layer_0_z_overlap")
    )


def _disallowed_boxes(values: Mapping[str, Any]) -> list[tuple[float, float, float, float]]:
    boxes: list[tuple[float, float, float, float]] = []
    areas = values.get("machine_disallowed_areas") or []
    if not isinstance(areas, list):
        return boxes
    for polygon in areas:
        try:
            points = [(float(p[0]), float(p[1])) for p in polygon]
        except (TypeError, ValueError, IndexError):
            continue
        if len(points) >= 3:
            xs, ys = [p[0] for p in points], [p[1] for p in points]
            boxes.append((min(xs), min(ys), max(xs), max(ys)))
    return boxes


def place_on_bed(
    mesh: trimesh.Trimesh,
    global_values: Mapping[str, Any],
    extruder_values: Mapping[str, Any],
    printer_name: str,
) -> tuple[trimesh.Trimesh, Placement]:
    """A copy of ``mesh`` centred on the bed, lowest point on it; ``PartTooBig`` if it won't fit."""
    bounds = np.asarray(mesh.bounds, dtype=float)
    centre = (bounds[0] + bounds[1]) / 2.0
    offset = (-float(centre[0]), -float(centre[1]), -float(bounds[0][2]))
    placed = mesh.copy()
    placed.apply_translation(offset)
    size = tuple(float(s) for s in (bounds[1] - bounds[0]))
    width = _number(global_values, "machine_width")
    depth = _number(global_values, "machine_depth")
    height = _number(global_values, "machine_height")
    border = edge_border(global_values, extruder_values)
    round_bed = global_values.get("machine_shape") == "elliptic"
    placement = Placement(
        offset=offset,
        size=(size[0], size[1], size[2]),
        build_volume=(width, depth, height),
        border=border,
        round_bed=round_bed,
    )
    _check_fit(placed, placement, global_values, printer_name)
    return placed, placement


def _mm(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _check_fit(
    placed: trimesh.Trimesh, placement: Placement, values: Mapping[str, Any], printer_name: str
) -> None:
    sx, sy, sz = placement.size
    width, depth, height = placement.build_volume
    border = placement.border
    part = f"The part is {_mm(sx)} × {_mm(sy)} × {_mm(sz)} mm"
    volume = f"the {printer_name} prints up to {_mm(width)} × {_mm(depth)} × {_mm(height)} mm"
    usable_height = height - _raft_thickness(values)
    if sx > width or sy > depth or sz > height:
        raise PartTooBig(f"{part}; {volume}.")
    if sz > usable_height + 1e-6:
        raise PartTooBig(f"{part}; {volume}, {_mm(usable_height)} mm high on a raft.")
    margin = f", less {_mm(border)} mm on each side for {values.get('adhesion_type', 'adhesion')}"
    if placement.round_bed:
        radius = float(np.max(np.hypot(placed.vertices[:, 0], placed.vertices[:, 1])))
        limit = min(width, depth) / 2.0 - border
        if radius > limit + 1e-6:
            raise PartTooBig(
                f"{part} and reaches {_mm(radius)} mm from the centre; the round bed of the "
                f"{printer_name} allows {_mm(limit)} mm "
                f"({_mm(min(width, depth))} mm across{margin})."
            )
        return
    usable_x, usable_y = width - 2 * border, depth - 2 * border
    if sx > usable_x + 1e-6 or sy > usable_y + 1e-6:
        raise PartTooBig(f"{part}; {volume}{margin} ({_mm(usable_x)} × {_mm(usable_y)} mm).")
    half_x, half_y = sx / 2 + border, sy / 2 + border
    # Disallowed areas are given around the bed centre, as the part now is.
    for x0, y0, x1, y1 in _disallowed_boxes(values):
        if x0 < half_x and x1 > -half_x and y0 < half_y and y1 > -half_y:
            raise PartTooBig(
                f"{part}; centred on the bed of the {printer_name} it reaches an area the "
                f"printer cannot print on (bed {_mm(width)} × {_mm(depth)} mm{margin})."
            )


def export_stl(mesh: trimesh.Trimesh, path: Path) -> None:
    """Write a binary STL, the only format CuraEngine 4.x reads."""
    data = mesh.export(file_type="stl")
    if isinstance(data, str):
        data = data.encode()
    path.write_bytes(bytes(data))
