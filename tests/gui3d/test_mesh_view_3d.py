"""The live 3D preview (pyvistaqt QtInteractor under Xvfb): scene, camera, picking, teardown."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import trimesh
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from core.mesh.display import DISPLAY_FACE_BUDGET
from desktop.views.mesh_view import MeshView

pytestmark = pytest.mark.timeout(240)
BED = (220.0, 220.0, 250.0)


@pytest.fixture
def view(qtbot: QtBot) -> Iterator[MeshView]:
    mesh_view = MeshView()
    qtbot.addWidget(mesh_view)
    mesh_view.resize(900, 640)
    mesh_view.show()
    qtbot.waitExposed(mesh_view)
    yield mesh_view
    mesh_view.close_view()
    mesh_view.close()


def frame(view: MeshView) -> np.ndarray:
    image: np.ndarray = view.plotter.screenshot(None, return_img=True)
    return image


def to_screen(view: MeshView, point: tuple[float, float, float]) -> tuple[int, int]:
    """VTK display coordinates (origin bottom left) of a world point."""
    renderer = view.plotter.renderer
    renderer.SetWorldPoint(*point, 1.0)
    renderer.WorldToDisplay()
    x, y, _ = renderer.GetDisplayPoint()
    return round(x), round(y)


def test_the_interactor_shows_the_part_on_the_bed(view: MeshView, tmp_path: Path) -> None:
    assert view.interactive and view.plotter is not None
    box = trimesh.creation.box((40.0, 30.0, 20.0))
    box.apply_translation((300.0, 300.0, 300.0))

    view.show_mesh(box, bed_mm=BED, label="bracket.stl")

    assert view.dims_label.text() == "40 × 30 × 20 mm"
    part = view.plotter.renderer.actors
    assert {"part", "bed", "grid", "rim"} <= set(view._actors)
    x0, x1, y0, y1, z0, _ = view._actors["part"].GetBounds()
    assert (x0 + x1) / 2 == pytest.approx(110.0) and (y0 + y1) / 2 == pytest.approx(110.0)
    assert z0 == pytest.approx(0.0)
    assert len(part) >= 4
    image = frame(view)
    h, w, _ = image.shape
    centre = image[h // 2 - 5 : h // 2 + 5, w // 2 - 5 : w // 2 + 5].reshape(-1, 3).astype(int)
    assert (centre[:, 0] > centre[:, 2] + 40).all()  # orange part in the middle of the frame
    assert image.std() > 20
    view.grab().save(str(tmp_path / "mesh_view_3d.png"))


def test_reset_camera_brings_the_standard_view_back(view: MeshView, qtbot: QtBot) -> None:
    view.show_mesh(trimesh.creation.box((20.0, 20.0, 20.0)), bed_mm=BED)
    camera = view.plotter.camera
    standard = (np.array(camera.position), np.array(camera.focal_point))

    # Orbit and zoom as a user would with the mouse.
    camera.Azimuth(70)
    camera.Elevation(25)
    camera.Zoom(2.0)
    view.plotter.render()
    assert np.linalg.norm(np.array(camera.position) - standard[0]) > 10

    view.reset_camera()
    np.testing.assert_allclose(camera.position, standard[0], atol=1e-6)
    np.testing.assert_allclose(camera.focal_point, standard[1], atol=1e-6)

    camera.Azimuth(-40)
    view.plotter.setFocus()
    qtbot.keyClick(view.plotter, Qt.Key.Key_R)
    np.testing.assert_allclose(camera.position, standard[0], atol=1e-6)

    camera.Azimuth(30)
    qtbot.mouseClick(view.reset_button, Qt.MouseButton.LeftButton)
    np.testing.assert_allclose(camera.position, standard[0], atol=1e-6)


def test_vtk_keys_that_would_quit_or_restyle_do_nothing(view: MeshView, qtbot: QtBot) -> None:
    view.show_mesh(trimesh.creation.box((20.0, 20.0, 20.0)), bed_mm=BED)
    view.plotter.setFocus()
    for key in (Qt.Key.Key_Q, Qt.Key.Key_E, Qt.Key.Key_W, Qt.Key.Key_3):
        qtbot.keyClick(view.plotter, key)
    assert view.plotter is not None and view.isVisible()
    assert view._actors["part"].GetProperty().GetRepresentation() == 2  # still surface


def test_pick_mode_emits_the_clicked_faces_normal(view: MeshView, qtbot: QtBot) -> None:
    # A wedge standing on the bed, its slanted face towards the camera.
    wedge = trimesh.Trimesh(
        vertices=[[0, 0, 0], [40, 0, 0], [40, 30, 0], [0, 30, 0], [40, 0, 30], [40, 30, 30]],
        faces=[
            [0, 2, 1],
            [0, 3, 2],
            [1, 2, 5],
            [1, 5, 4],
            [0, 1, 4],
            [3, 5, 2],
            [0, 4, 5],
            [0, 5, 3],
        ],
    )
    view.show_mesh(wedge, bed_mm=BED)
    offset = view.shown.offset if view.shown is not None else np.zeros(3)
    top_of_slope = np.array([30.0, 15.0, 22.5]) + offset  # on the slope z = 0.75 x

    # While pick mode is off a click orbits the camera and picks nothing.
    x, y = to_screen(view, tuple(top_of_slope))
    height = view.plotter.height()
    received: list[np.ndarray] = []
    view.face_picked.connect(received.append)
    qtbot.mouseClick(view.plotter, Qt.MouseButton.LeftButton, pos=QPoint(x, height - 1 - y))
    assert received == []

    view.set_pick_mode(True)
    assert view.hint_label.isVisible()
    with qtbot.waitSignal(view.face_picked, timeout=10_000) as picked:
        qtbot.mouseClick(view.plotter, Qt.MouseButton.LeftButton, pos=QPoint(x, height - 1 - y))
    normal = picked.args[0]
    np.testing.assert_allclose(normal, (-0.6, 0.0, 0.8), atol=1e-6)

    # Simulated straight through VTK, at a known point on the top of the wedge's right wall.
    wall = to_screen(view, tuple(offset + np.array([40.0, 15.0, 10.0])))
    view.plotter.iren.interactor.SetEventInformation(*wall)
    with qtbot.waitSignal(view.face_picked, timeout=10_000) as picked:
        view.plotter.iren.interactor.InvokeEvent("LeftButtonPressEvent")
    np.testing.assert_allclose(picked.args[0], (1.0, 0.0, 0.0), atol=1e-6)

    view.set_pick_mode(False)
    assert not view.hint_label.isVisible()


def test_close_view_is_idempotent_and_leaves_no_window(qtbot: QtBot) -> None:
    view = MeshView()
    qtbot.addWidget(view)
    view.show()
    qtbot.waitExposed(view)
    view.show_mesh(trimesh.creation.box((20.0, 20.0, 20.0)))
    plotter = view.plotter

    view.close_view()
    view.close_view()
    assert view.plotter is None and plotter._closed
    view.reset_camera()  # nothing to do, nothing breaks
    view.show_mesh(trimesh.creation.box((10.0, 10.0, 10.0)))
    view.close()
    view.close_view()
    QApplication.processEvents()
    assert not [w for w in QApplication.topLevelWidgets() if w.isVisible()]


def test_a_million_face_part_is_shown_decimated(view: MeshView) -> None:
    part = trimesh.creation.torus(60.0, 20.0, major_sections=1000, minor_sections=500)

    view.show_mesh(part, bed_mm=BED, label="torus.stl")

    drawn = view._actors["part"].GetMapper().GetInput().GetNumberOfCells()
    assert drawn <= DISPLAY_FACE_BUDGET
    assert drawn > DISPLAY_FACE_BUDGET // 4
    assert "simplified" in view.dims_label.text() and "1,000,000" in view.dims_label.text()
    assert len(part.faces) == 1_000_000  # the client's mesh is untouched
    assert view.mesh is part
    camera = view.plotter.camera
    camera.Azimuth(30)
    view.plotter.render()
    assert frame(view).std() > 20
