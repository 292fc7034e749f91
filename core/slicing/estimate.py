"""Print time and plastic of a part without a slicer, from its mesh and the print settings.

A small model of what CuraEngine does, layer by layer, on figures read from the triangles
alone (no slicing): for bands of height the mesh gives the outline length (side area per
mm of height), the cross-section area (volume per mm of height) and the area of the surfaces
facing up and down. Each layer then gets

- walls: ``wall_count`` loops of the outline, ``line_width`` wide (all of it when thinner);
- top/bottom skin: solid where a surface facing up lies within ``top_layers`` above, or one
  facing down within ``bottom_layers`` below;
- infill: the rest of the cross-section at ``infill`` density;
- support (when asked for): under the surfaces facing down beyond the support angle, in
  proportion to their area × height above the bed and the support density;
- time: each kind of line at its own speed, with the acceleration and corner slow-down of
  lines as long as the part is wide, the travel between lines, retractions and the layer
  change; the first layer at its own speed, and no layer faster than the minimum layer time.

Everything here is plain numbers in, plain numbers out; ``EstimateSettings`` defaults are
Cura's for a 0.4 mm nozzle (Creality profile), and ``settings_from_cura`` reads them from a
resolved Cura profile when one is at hand.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from numpy.typing import NDArray

MAX_BANDS = 400
# Cura's skirt: lines around the part, on the first layer only.
SKIRT_GAP_MM = 10.0
# Not all infill lines reach across the part: many are cut by walls, holes and the pattern's
# own crossings. Calibrated on CuraEngine 4.13 slices of ../shared/models.
INFILL_LINE_SHARE = 0.5
# Cura lays walls and infill slightly into each other (infill_overlap, skin_overlap).
OVERLAP_EXTRA = 0.0
SUPPORT_ANGLE = 45.0
# Support under an overhang, per mm³ of (area × height) and per unit of support density:
# its lines, walls, roof and brim. Calibrated on CuraEngine 4.13 slices (a T, the teapot, the
# rabbit, ../shared/models parts): 0.28–0.44 at 20 % support density.
SUPPORT_FILL = 1.8
# Support lines are short and broken by the part: time per mm³ over that of plain lines.
SUPPORT_TIME_FACTOR = 1.3


@dataclass(frozen=True)
class EstimateSettings:
    """The print settings the estimate uses; speeds in mm/s, lengths in mm."""

    layer_height: float = 0.2
    first_layer_height: float = 0.2
    line_width: float = 0.4
    wall_count: int = 2
    top_thickness: float = 0.8
    bottom_thickness: float = 0.8
    infill: float = 0.2  # share of the interior, 0..1
    speed_infill: float = 50.0
    speed_wall: float = 25.0
    speed_skin: float = 25.0
    speed_first_layer: float = 20.0
    speed_travel: float = 150.0
    acceleration: float = 500.0  # mm/s²
    jerk: float = 10.0  # the speed change a corner allows, mm/s
    retraction_mm: float = 5.0
    retraction_speed: float = 45.0
    min_layer_time: float = 10.0  # s
    min_speed: float = 10.0  # the slowest the minimum layer time may make a line
    skirt_lines: int = 3
    slowdown_layers: int = 2
    supports: bool = False
    support_rate: float = 0.2  # support_infill_rate as a share
    speed_support: float = 25.0


@dataclass(frozen=True)
class PartGeometry:
    """What the estimate reads from a mesh: totals and a profile over height."""

    volume_mm3: float
    area_mm2: float
    size_mm: tuple[float, float, float]
    band_edges: NDArray[np.float64]  # heights (mm from the bottom) bounding each band
    outline: NDArray[np.float64]  # mm of outline per mm of height, per band
    section: NDArray[np.float64]  # mm² of cross-section, per band
    facing_up: NDArray[np.float64]  # mm² of surface facing up (projected), per band
    facing_down: NDArray[np.float64]
    # Σ projected area × height above the bed of the surfaces that need support (mm³).
    overhang_mm3: float = 0.0


@dataclass(frozen=True)
class Estimate:
    print_seconds: float
    filament_mm3: float  # everything extruded, support included
    wall_mm3: float
    skin_mm3: float
    infill_mm3: float
    support_mm3: float = 0.0


def _band_shares(
    lows: NDArray[np.float64], highs: NDArray[np.float64], edges: NDArray[np.float64]
) -> NDArray[np.float64]:
    """Share of each triangle (spread evenly over its height) in each band: (triangles, bands)."""
    span = np.maximum(highs - lows, 1e-9)[:, None]
    below = np.clip((edges[None, :] - lows[:, None]) / span, 0.0, 1.0)
    flat = (highs - lows) < 1e-9
    if flat.any():
        below[flat] = (edges[None, :] > lows[flat, None]).astype(np.float64)
    return np.diff(below, axis=1)


def part_geometry(
    vertices: NDArray[np.float64],
    faces: NDArray[np.int64],
    *,
    band_mm: float = 0.2,
    support_angle: float = SUPPORT_ANGLE,
) -> PartGeometry:
    """The profile of a mesh (in mm, as it will stand on the bed) in bands of ``band_mm``.

    Surfaces facing down more steeply than ``support_angle`` (degrees from vertical, Cura's
    ``support_angle``) and above the first layer are the ones support will hold up."""
    corners = np.asarray(vertices, dtype=np.float64)[np.asarray(faces, dtype=np.int64)]
    if not len(corners):
        raise ValueError("The mesh has no triangles.")
    bottom = float(corners[:, :, 2].min())
    corners = corners - np.array([0.0, 0.0, bottom])
    cross = np.cross(corners[:, 1] - corners[:, 0], corners[:, 2] - corners[:, 0])
    area = np.linalg.norm(cross, axis=1) / 2.0
    with np.errstate(invalid="ignore", divide="ignore"):
        nz = np.where(area > 0, cross[:, 2] / (2.0 * area), 0.0)
    side = area * np.sqrt(np.clip(1.0 - nz**2, 0.0, 1.0))
    # Volume by the flux of (x, 0, 0): horizontal cuts add nothing, so bands add up exactly.
    flux = corners[:, :, 0].mean(axis=1) * cross[:, 0] / 2.0
    sign = 1.0 if flux.sum() >= 0 else -1.0
    height = float(corners[:, :, 2].max())
    bands = max(1, min(MAX_BANDS, math.ceil(height / max(band_mm, 1e-3))))
    edges = np.linspace(0.0, max(height, 1e-6), bands + 1)
    edges[-1] += 1e-9
    lows, highs = corners[:, :, 2].min(axis=1), corners[:, :, 2].max(axis=1)
    thick = np.diff(edges)
    totals = {
        "side": np.zeros(bands),
        "flux": np.zeros(bands),
        "up": np.zeros(bands),
        "down": np.zeros(bands),
    }
    weights = {
        "side": side,
        "flux": flux * sign,
        "up": area * np.clip(nz, 0.0, None),
        "down": area * np.clip(-nz, 0.0, None),
    }
    step = max(1, 4_000_000 // (bands + 1))
    for start in range(0, len(area), step):
        shares = _band_shares(lows[start : start + step], highs[start : start + step], edges)
        for key, weight in weights.items():
            totals[key] += weight[start : start + step] @ shares
    size = corners.reshape(-1, 3).max(axis=0) - corners.reshape(-1, 3).min(axis=0)
    heights = corners[:, :, 2].mean(axis=1)
    overhang = (nz < -math.cos(math.radians(support_angle))) & (heights > band_mm)
    return PartGeometry(
        overhang_mm3=float((weights["down"] * heights)[overhang].sum()),
        volume_mm3=float(totals["flux"].sum()),
        area_mm2=float(area.sum()),
        size_mm=(float(size[0]), float(size[1]), float(size[2])),
        band_edges=edges,
        outline=totals["side"] / thick,
        section=np.clip(totals["flux"] / thick, 0.0, None),
        facing_up=totals["up"],
        facing_down=totals["down"],
    )


def _line_seconds(length: float, speed: float, accel: float, corner: float) -> float:
    """One straight line from a corner speed up to ``speed`` and back down (trapezoid)."""
    start = min(corner, speed)
    ramp = (speed * speed - start * start) / (2.0 * accel)
    if length >= 2.0 * ramp:
        return 2.0 * (speed - start) / accel + (length - 2.0 * ramp) / speed
    peak = math.sqrt(accel * length + start * start)
    return 2.0 * (peak - start) / accel


def _window_sums(values: NDArray[np.float64], before: int, after: int) -> NDArray[np.float64]:
    """For each index i, the sum of values[i - before .. i + after] (clipped at the ends)."""
    padded = np.concatenate([[0.0], np.cumsum(values)])
    n = len(values)
    index = np.arange(n)
    high = np.clip(index + after + 1, 0, n)
    low = np.clip(index - before, 0, n)
    result: NDArray[np.float64] = padded[high] - padded[low]
    return result


def estimate_print(geometry: PartGeometry, settings: EstimateSettings) -> Estimate:
    """Seconds and mm³ of filament for one copy, as a slice with ``settings`` would give."""
    s = settings
    h, w = s.layer_height, s.line_width
    height = geometry.size_mm[2]
    layers = max(1, math.ceil(max(height - s.first_layer_height, 0.0) / h) + 1)
    mids = np.clip(
        s.first_layer_height / 2 + np.arange(layers) * h, 0.0, geometry.band_edges[-1] - 1e-9
    )
    band = np.clip(np.searchsorted(geometry.band_edges, mids, side="right") - 1, 0, None)
    outline = geometry.outline[band]
    section = geometry.section[band]
    # Surfaces facing up/down per layer: each band's share, spread over the layers in it.
    per_band = np.bincount(band, minlength=len(geometry.outline)).astype(np.float64)
    up = geometry.facing_up[band] / np.maximum(per_band[band], 1.0)
    down = geometry.facing_down[band] / np.maximum(per_band[band], 1.0)

    ring = np.minimum(section, s.wall_count * w * outline)
    inner = section - ring
    top = max(1, math.ceil(round(s.top_thickness / h, 6)))
    bottom = max(1, math.ceil(round(s.bottom_thickness / h, 6)))
    skin_window = _window_sums(up, 0, top - 1) + _window_sums(down, bottom - 1, 0)
    skin = np.minimum(inner, skin_window)
    if s.infill >= 0.999:  # Cura prints solid infill as skin: skin lines, skin speed
        skin = inner
    sparse = (inner - skin) * s.infill
    heights = np.full(layers, h)
    heights[0] = s.first_layer_height
    extra = 1.0 + OVERLAP_EXTRA
    wall_mm3 = float((ring * heights).sum()) * extra
    skin_mm3 = float((skin * heights).sum()) * extra
    infill_mm3 = float((sparse * heights).sum()) * extra
    footprint = geometry.size_mm[0] + geometry.size_mm[1]
    skirt_mm = s.skirt_lines * (2 * footprint + 2 * math.pi * SKIRT_GAP_MM)
    skirt_mm3 = skirt_mm * w * s.first_layer_height

    # Line lengths: walls run between corners about as far apart as the part is wide; skin and
    # infill lines cross the inside, wall to wall.
    with np.errstate(invalid="ignore", divide="ignore"):
        width = np.where(outline > 0, 4.0 * section / np.maximum(outline, 1e-9), 0.0)
    width = np.clip(width, w, None)
    cross_width = np.clip(width - 2 * s.wall_count * w, w, None)
    wall_len = ring / w
    skin_len = skin / w
    infill_len = sparse / w
    line_spacing = w / max(s.infill, 1e-3)

    def layer_seconds(speed_scale: NDArray[np.float64]) -> NDArray[np.float64]:
        total = np.zeros(layers)
        for length, speed, segment, gap in (
            (wall_len, s.speed_wall, width, 0.0),
            (skin_len, s.speed_skin, cross_width, w),
            (infill_len, s.speed_infill, cross_width * INFILL_LINE_SHARE, line_spacing),
        ):
            for i in range(layers):
                if length[i] <= 0:
                    continue
                v = max(min(speed * speed_scale[i], speed), 1.0)
                seg = max(float(segment[i]), w)
                count = length[i] / seg
                line = _line_seconds(seg, v, s.acceleration, s.jerk)
                hop = _line_seconds(gap, s.speed_travel, s.acceleration, s.jerk) if gap else 0.0
                total[i] += count * (line + hop)
        return total

    first = np.ones(layers)
    ramp = max(s.slowdown_layers, 1)
    for i in range(min(ramp, layers)):
        full = max(s.speed_infill, s.speed_wall, s.speed_skin)
        first[i] = (s.speed_first_layer + (full - s.speed_first_layer) * i / ramp) / full
    printing = layer_seconds(first)
    # Per layer: a retraction and prime, and a move of about the part's size between features.
    size = max(math.sqrt(max(float(np.max(section)) if len(section) else 0.0, 1.0)), 1.0)
    retract = 2.0 * s.retraction_mm / max(s.retraction_speed, 1e-3)
    overhead = 3 * (retract + _line_seconds(size, s.speed_travel, s.acceleration, s.jerk))
    floor = _min_layer_floor(printing, s, wall_len + skin_len + infill_len)
    slow = np.maximum(printing, floor)
    seconds = float(slow.sum()) + layers * overhead + skirt_mm / s.speed_first_layer
    support_mm3 = 0.0
    if s.supports:
        support_mm3 = geometry.overhang_mm3 * s.support_rate * SUPPORT_FILL
        seconds += support_mm3 / (max(s.speed_support, 1.0) * w * h) * SUPPORT_TIME_FACTOR
    return Estimate(
        print_seconds=seconds,
        filament_mm3=wall_mm3 + skin_mm3 + infill_mm3 + skirt_mm3 + support_mm3,
        wall_mm3=wall_mm3,
        skin_mm3=skin_mm3,
        infill_mm3=infill_mm3,
        support_mm3=support_mm3,
    )


def _min_layer_floor(
    printing: NDArray[np.float64], s: EstimateSettings, lengths: NDArray[np.float64]
) -> NDArray[np.float64]:
    """A layer faster than the minimum layer time is slowed to it, but not below min speed."""
    slowest = lengths / max(s.min_speed, 1e-3)
    floor: NDArray[np.float64] = np.where(
        printing > 0, np.minimum(s.min_layer_time, np.maximum(slowest, printing)), 0.0
    )
    return floor


def _number(values: Callable[[str], Any], key: str, default: float) -> float:
    value = values(key)
    if isinstance(value, bool) or value is None:
        return default
    try:
        number = float(value)
    except (TypeError, ValueError):
        return default
    return number if math.isfinite(number) else default


def settings_from_cura(value: Callable[[str], Any]) -> EstimateSettings:
    """Estimate settings from a resolved Cura profile; ``value(key)`` reads one setting."""
    d = EstimateSettings()
    accel_on = bool(value("acceleration_enabled"))
    jerk_on = bool(value("jerk_enabled"))

    def num(key: str, default: float) -> float:
        return _number(value, key, default)

    return EstimateSettings(
        layer_height=num("layer_height", d.layer_height),
        first_layer_height=num("layer_height_0", d.first_layer_height),
        line_width=num("line_width", d.line_width),
        wall_count=int(num("wall_line_count", d.wall_count)),
        top_thickness=num("top_thickness", d.top_thickness),
        bottom_thickness=num("bottom_thickness", d.bottom_thickness),
        infill=num("infill_sparse_density", d.infill * 100) / 100.0,
        speed_infill=num("speed_infill", d.speed_infill),
        speed_wall=num("speed_wall_x", d.speed_wall),
        speed_skin=num("speed_topbottom", d.speed_skin),
        speed_first_layer=num("speed_layer_0", d.speed_first_layer),
        speed_travel=num("speed_travel", d.speed_travel),
        acceleration=num("acceleration_print" if accel_on else "machine_acceleration", 500.0),
        jerk=num("jerk_print" if jerk_on else "machine_max_jerk_xy", d.jerk),
        retraction_mm=num("retraction_amount", d.retraction_mm),
        retraction_speed=num("retraction_speed", d.retraction_speed),
        min_layer_time=num("cool_min_layer_time", d.min_layer_time)
        if bool(value("cool_fan_enabled"))
        else 0.0,
        min_speed=num("cool_min_speed", d.min_speed),
        skirt_lines=int(num("skirt_line_count", d.skirt_lines))
        if str(value("adhesion_type")) == "skirt"
        else 0,
        slowdown_layers=int(num("speed_slowdown_layers", d.slowdown_layers)),
        supports=bool(value("support_enable")),
        support_rate=num("support_infill_rate", d.support_rate * 100) / 100.0,
        speed_support=num("speed_support_infill", d.speed_support),
    )


def settings_with_choices(
    base: EstimateSettings, choices: Mapping[str, float | bool | None]
) -> EstimateSettings:
    """``base`` with the staff's layer height, infill and supports (None keeps the base's)."""
    layer = choices.get("layer_height")
    infill = choices.get("infill_percent")
    supports = choices.get("supports")
    values: dict[str, Any] = {}
    if supports is not None:
        values["supports"] = bool(supports)
    if layer is not None:
        values["layer_height"] = float(layer)
    if infill is not None:
        values["infill"] = float(infill) / 100.0
    if not values:
        return base
    return replace(base, **values)
