"""Display geometry (decimation, placement, bed) and offscreen pictures of parts."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
import trimesh
from PIL import Image

from core.mesh.analysis import load_mesh
from core.mesh.display import (
    bed_outline,
    decimate,
    dimensions_text,
    face_along_ray,
    face_normal,
    placement_offset,
    prepare,
)
from core.mesh.render import PART_COLOUR, render_png
from tests.conftest import SHARED

MODELS = SHARED / "models"


def torus(major: int, minor: int) -> trimesh.Trimesh:
    """A closed torus, R 60 mm, r 20 mm, centred on the origin: 2 x major x minor faces."""
    return trimesh.creation.torus(60.0, 20.0, major_sections=major, minor_sections=minor)


def tube_distance(points: np.ndarray) -> np.ndarray:
    """Distance of each point from the torus' core circle (20 mm on its surface)."""
    ring = np.hypot(points[:, 0], points[:, 1]) - 60.0
    return np.hypot(ring, points[:, 2])


@pytest.fixture(scope="module")
def big_torus() -> trimesh.Trimesh:
    return torus(500, 300)


def test_decimation_reaches_the_budget_and_keeps_the_shape(big_torus: trimesh.Trimesh) -> None:
    vertices, faces = decimate(big_torus.vertices, big_torus.faces, budget=20_000)

    assert 5_000 < len(faces) <= 20_000
    extents = vertices.max(axis=0) - vertices.min(axis=0)
    np.testing.assert_allclose(extents, big_torus.extents, rtol=0.02)
    # Every kept point still lies on the torus' surface, to a fraction of a millimetre.
    assert np.abs(tube_distance(vertices) - 20.0).max() < 0.5
    # And it is still a closed ring: its area is the torus' 4π²Rr, within a few percent.
    area = trimesh.Trimesh(vertices, faces, process=False).area
    assert area == pytest.approx(4 * np.pi**2 * 60 * 20, rel=0.03)


def test_a_mesh_under_the_budget_is_drawn_as_it_is() -> None:
    box = trimesh.creation.box((10, 20, 30))
    vertices, faces = decimate(box.vertices, box.faces, budget=100)
    np.testing.assert_array_equal(faces, box.faces)
    np.testing.assert_array_equal(vertices, box.vertices)


def test_prepare_centres_the_part_on_the_bed_and_sits_it_on_the_plate(
    big_torus: trimesh.Trimesh,
) -> None:
    part = big_torus.copy()
    part.apply_translation((500.0, -40.0, 33.0))

    shown = prepare(part, bed_mm=(220.0, 200.0, 250.0), budget=10_000)

    assert shown.decimated and shown.source_faces == len(part.faces)
    assert len(shown.faces) <= 10_000
    low, high = shown.vertices.min(axis=0), shown.vertices.max(axis=0)
    np.testing.assert_allclose((low[:2] + high[:2]) / 2, (110.0, 100.0), atol=0.5)
    assert low[2] == pytest.approx(0.0, abs=0.2)
    np.testing.assert_allclose(shown.extents_mm, (160.0, 160.0, 40.0), atol=0.1)
    # The offset maps the client's coordinates onto the bed exactly.
    np.testing.assert_allclose(part.bounds[0] + shown.offset, (30.0, 20.0, 0.0), atol=1e-6)
    # The client's mesh itself is left alone.
    assert part.bounds[0][0] == pytest.approx(420.0, abs=1e-6)


def test_without_a_bed_the_part_is_centred_on_the_origin() -> None:
    offset = placement_offset(np.array([10.0, 10.0, 5.0]), np.array([30.0, 50.0, 9.0]), None)
    np.testing.assert_allclose(offset, (-20.0, -30.0, -5.0))


def test_bed_outline_is_the_rim_and_the_build_volume() -> None:
    segments = bed_outline((220.0, 200.0, 250.0))
    assert segments.shape == (12, 2, 3)
    points = segments.reshape(-1, 3)
    np.testing.assert_allclose(points.min(axis=0), (0, 0, 0))
    np.testing.assert_allclose(points.max(axis=0), (220, 200, 250))
    assert (segments[:4, :, 2] == 0).all()  # the first four are the bed's rim


def test_dimensions_read_like_staff_write_them() -> None:
    assert dimensions_text((20.0, 20.04, 9.55)) == "20 × 20 × 9.6 mm"


def test_a_ray_finds_the_face_it_meets_first() -> None:
    box = trimesh.creation.box((20, 20, 20))
    face = face_along_ray(box, np.array([2.0, 3.0, 100.0]), np.array([0.0, 0.0, -1.0]))
    assert face is not None
    np.testing.assert_allclose(face_normal(box, face), (0, 0, 1), atol=1e-9)
    assert face_along_ray(box, np.array([50.0, 0.0, 100.0]), np.array([0.0, 0.0, -1.0])) is None


# -- offscreen pictures -----------------------------------------------------------------------


def pixels(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"), dtype=np.int16)


def part_pixels(image: np.ndarray) -> int:
    """How many pixels are about the part's orange (lit or shaded)."""
    rgb = np.array([int(PART_COLOUR[i : i + 2], 16) for i in (1, 3, 5)])
    hue_like = (image[..., 0] > image[..., 1] + 25) & (image[..., 1] > image[..., 2] + 10)
    near = np.abs(image - rgb).sum(axis=-1) < 240
    return int((hue_like & near).sum())


@pytest.mark.timeout(180)
def test_render_png_draws_the_part_at_the_requested_size() -> None:
    cube = load_mesh(MODELS / "20mm-xyz-cube.stl")
    teapot = load_mesh(MODELS / "teapot.stl")

    cube_png = render_png(cube, size=200)
    teapot_png = render_png(teapot, size=200)
    on_bed = render_png(cube, size=128, bed_mm=(220.0, 220.0, 250.0))

    assert cube_png.startswith(b"\x89PNG")
    cube_image, teapot_image = pixels(cube_png), pixels(teapot_png)
    assert cube_image.shape == (200, 200, 3)
    assert pixels(on_bed).shape == (128, 128, 3)
    # Not blank: the part fills a good share of the frame, and the picture has contrast.
    assert part_pixels(cube_image) > 0.15 * 200 * 200
    assert part_pixels(teapot_image) > 0.05 * 200 * 200
    assert cube_image.std() > 20
    # Different parts, different pictures.
    assert np.abs(cube_image - teapot_image).mean() > 10
    # On a 220 mm bed the 20 mm cube is small: most of the picture is bed and background.
    assert part_pixels(pixels(on_bed)) < 0.05 * 128 * 128


@pytest.mark.timeout(180)
def test_render_png_of_a_large_part_draws_the_decimated_copy(
    big_torus: trimesh.Trimesh, tmp_path: Path
) -> None:
    png = render_png(big_torus, size=160, budget=20_000)
    image = pixels(png)
    assert image.shape == (160, 160, 3)
    # The ring's hole shows the background through its middle.
    assert part_pixels(image[75:85, 75:85]) == 0
    assert part_pixels(image) > 0.1 * 160 * 160
