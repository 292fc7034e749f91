"""Offscreen pictures of a part (thumbnails, the preview's still image, the smoke test).

VTK renders without a display through EGL on Mesa. Only one thread may render at a time
(pyvista's lazy imports race and GL contexts are per thread), so every render here holds one
process-wide lock; the app gives thumbnails one thread of their own besides.
The scene (colours, bed, camera) is shared with the live 3D view so both look the same.
"""

from __future__ import annotations

import io
import os
import threading
from typing import Any, Final

import numpy as np
import pyvista as pv
import trimesh
from numpy.typing import NDArray

from core.mesh.display import (
    DISPLAY_FACE_BUDGET,
    DisplayMesh,
    bed_grid,
    bed_outline,
    bed_plate,
    outline_polydata,
    prepare,
)

# EGL first: without it VTK tries X, which is absent on a server and slow to fail.
os.environ.setdefault("VTK_DEFAULT_OPENGL_WINDOW", "vtkEGLRenderWindow")

PART_COLOUR: Final = "#e58a3c"  # a warm PLA orange, easy to see against the grey bed
BED_COLOUR: Final = "#39424e"
GRID_COLOUR: Final = "#56616f"
VOLUME_COLOUR: Final = "#8795a7"
BACKGROUND_TOP: Final = "#f7f9fc"
BACKGROUND_BOTTOM: Final = "#cdd6e1"
#: Direction the camera looks from: front right, above (a shop's usual three-quarter view).
ISO_DIRECTION: Final = (1.0, -1.3, 0.9)

SMOOTH_SHADING_FACES: Final = 60_000

_RENDER_LOCK: Final = threading.Lock()


# Every add_mesh would draw a frame of its own: the scene is drawn once, by the caller.
def add_scene(
    plotter: Any, shown: DisplayMesh, bed_mm: tuple[float, float, float] | None
) -> dict[str, Any]:
    """Draw a prepared part (and the bed, or a small floor grid) into a pyvista plotter."""
    plotter.set_background(BACKGROUND_BOTTOM, top=BACKGROUND_TOP)
    if not plotter.renderer.lights:  # a cleared plotter has lost its lights with its actors
        plotter.enable_lightkit()
    actors: dict[str, Any] = {}
    if bed_mm is not None:
        actors["bed"] = plotter.add_mesh(
            bed_plate(bed_mm), color=BED_COLOUR, pickable=False, render=False
        )
        actors["grid"] = plotter.add_mesh(
            bed_grid(bed_mm), color=GRID_COLOUR, line_width=1, pickable=False, render=False
        )
        actors["rim"] = plotter.add_mesh(
            outline_polydata(bed_outline(bed_mm)[:4]),
            color=VOLUME_COLOUR,
            line_width=2,
            pickable=False,
            render=False,
        )
    elif len(shown.faces):
        span = max(shown.extents_mm[0], shown.extents_mm[1], 1.0) * 1.3
        floor = (span, span, 0.0)
        shift = np.array([-span / 2, -span / 2, 0.0])
        grid = bed_grid(floor, spacing=_nice_spacing(span))
        grid.points += shift
        actors["grid"] = plotter.add_mesh(
            grid, color="#aab4c1", line_width=1, pickable=False, render=False
        )
    if len(shown.faces):
        actors["part"] = plotter.add_mesh(
            shown.polydata(),
            color=PART_COLOUR,
            # Smooth shading with crisp edges suits CAD parts; its normals cost a second on a
            # few hundred thousand faces, where flat facets are too small to see anyway.
            smooth_shading=len(shown.faces) <= SMOOTH_SHADING_FACES,
            split_sharp_edges=len(shown.faces) <= SMOOTH_SHADING_FACES,
            specular=0.25,
            specular_power=20,
            pickable=True,
            render=False,
        )
    iso_camera(plotter, shown, bed_mm)
    return actors


def _nice_spacing(span: float) -> float:
    for step in (1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0):
        if span / step <= 12:
            return step
    return 200.0


def iso_camera(plotter: Any, shown: DisplayMesh, bed_mm: tuple[float, float, float] | None) -> None:
    """The fixed three-quarter view on the part (and bed), filling the frame."""
    if len(shown.vertices):
        low = shown.vertices.min(axis=0)
        high = shown.vertices.max(axis=0)
    else:
        low, high = np.zeros(3), np.ones(3)
    if bed_mm is not None:
        low = np.minimum(low, [0.0, 0.0, 0.0])
        high = np.maximum(high, [bed_mm[0], bed_mm[1], high[2]])
    centre = (low + high) / 2.0
    radius = max(float(np.linalg.norm(high - low)) / 2.0, 1e-3)
    direction = np.array(ISO_DIRECTION) / np.linalg.norm(ISO_DIRECTION)
    camera = plotter.camera
    camera.focal_point = tuple(centre)
    camera.position = tuple(centre + direction * radius * 4.0)
    camera.up = (0.0, 0.0, 1.0)
    camera.view_angle = 30.0
    plotter.renderer.reset_camera(
        render=False, bounds=(low[0], high[0], low[1], high[1], low[2], high[2])
    )
    plotter.camera.zoom(1.0 if bed_mm is None else 1.1)


def render_png(
    mesh: trimesh.Trimesh,
    *,
    size: int = 256,
    bed_mm: tuple[float, float, float] | None = None,
    budget: int = DISPLAY_FACE_BUDGET,
) -> bytes:
    """A ``size`` x ``size`` PNG of the part from the shop's usual three-quarter view."""
    shown = prepare(mesh, bed_mm=bed_mm, budget=budget)
    return render_display_png(shown, size=(size, size), bed_mm=bed_mm)


def render_display_png(
    shown: DisplayMesh,
    *,
    size: tuple[int, int],
    bed_mm: tuple[float, float, float] | None = None,
) -> bytes:
    """A PNG of an already prepared part, ``size`` = (width, height) in pixels."""
    with _RENDER_LOCK:
        plotter = pv.Plotter(off_screen=True, window_size=[size[0], size[1]])
        try:
            plotter.enable_anti_aliasing("msaa", multi_samples=8)
            add_scene(plotter, shown, bed_mm)
            image = plotter.screenshot(None, return_img=True)
            return _png_of(np.asarray(image))
        finally:
            plotter.close()


def _png_of(pixels: NDArray[np.uint8]) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG", optimize=False)
    return buffer.getvalue()
