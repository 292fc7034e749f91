"""The 3D preview under the offscreen platform: a still picture of the same scene."""

from __future__ import annotations

import numpy as np
import pytest
import trimesh
from PySide6.QtCore import Qt
from PySide6.QtGui import QCloseEvent, QImage
from pytestqt.qtbot import QtBot

from core.mesh.analysis import load_mesh
from desktop.views.mesh_view import MeshView
from tests.conftest import SHARED

pytestmark = pytest.mark.timeout(180)


def picture(view: MeshView) -> np.ndarray:
    image = view.still_label.pixmap().toImage().convertToFormat(QImage.Format.Format_RGB888)
    rows = np.frombuffer(image.constBits(), dtype=np.uint8).reshape(image.height(), -1)
    # Copied while the QImage still owns the memory.
    return rows[:, : image.width() * 3].reshape(image.height(), image.width(), 3).copy()


def test_offscreen_the_view_shows_a_still_of_the_part_with_its_size(qtbot: QtBot) -> None:
    view = MeshView()
    qtbot.addWidget(view)
    view.resize(900, 600)
    view.show()
    assert not view.interactive and view.plotter is None
    assert view.empty_label.isVisible() and "No model" in view.empty_label.text()
    assert not view.reset_button.isEnabled()

    cube = load_mesh(SHARED / "models" / "20mm-xyz-cube.stl")
    view.show_mesh(cube, bed_mm=(220.0, 220.0, 250.0), label="20mm-xyz-cube.stl")

    assert view.dims_label.text() == "20 × 20 × 20 mm"
    assert view.title_label.text() == "20mm-xyz-cube.stl"
    assert view.still_label.isVisible() and not view.empty_label.isVisible()
    on_bed = picture(view)
    assert on_bed.std() > 10  # not a blank frame

    view.show_mesh(trimesh.creation.icosphere(subdivisions=3, radius=60.0))
    assert view.dims_label.text() == "120 × 120 × 120 mm"
    assert np.abs(picture(view).astype(int) - on_bed.astype(int)).mean() > 5

    view.clear()
    assert view.empty_label.isVisible() and view.dims_label.text() == ""
    assert not view.reset_button.isEnabled()
    view.close_view()
    view.close_view()


def test_a_big_part_is_simplified_for_display_and_says_so(qtbot: QtBot) -> None:
    view = MeshView(face_budget=2_000)
    qtbot.addWidget(view)
    view.resize(640, 480)
    view.show()
    sphere = trimesh.creation.icosphere(subdivisions=5, radius=30.0)  # 20,480 faces

    view.show_mesh(sphere)

    assert view.shown is not None and view.shown.decimated
    assert len(view.shown.faces) <= 2_000
    assert "simplified to" in view.dims_label.text()
    assert "of 20,480 faces" in view.dims_label.text()
    assert len(view.mesh.faces) == 20_480 if view.mesh is not None else False


def test_reset_key_redraws_the_standard_view(qtbot: QtBot) -> None:
    view = MeshView()
    qtbot.addWidget(view)
    view.resize(640, 480)
    view.show()
    view.show_mesh(trimesh.creation.box((30, 20, 10)))
    assert view.still_frames == 1
    view.setFocus()
    qtbot.keyClick(view, Qt.Key.Key_R)
    assert view.still_frames == 2
    qtbot.keyClick(view, Qt.Key.Key_Home)
    assert view.still_frames == 3
    view.close()
    assert view.plotter is None


def test_closing_the_window_around_the_view_releases_it(qtbot: QtBot) -> None:
    from PySide6.QtWidgets import QVBoxLayout, QWidget

    class Refusing(QWidget):
        refuse = True

        def closeEvent(self, event: QCloseEvent) -> None:
            if self.refuse:
                event.ignore()  # e.g. "unsaved changes": the window stays, so does the view
            else:
                super().closeEvent(event)

    window = Refusing()
    qtbot.addWidget(window)
    view = MeshView()
    QVBoxLayout(window).addWidget(view)
    window.show()
    view.show_mesh(trimesh.creation.box((10, 10, 10)))

    window.close()
    qtbot.wait(50)  # let the deferred check run; nothing is expected to change
    assert not view._closed and window.isVisible()

    window.refuse = False
    window.close()
    qtbot.waitUntil(lambda: view._closed, timeout=5_000)


def test_a_file_without_triangles_shows_the_empty_state(qtbot: QtBot) -> None:
    view = MeshView()
    qtbot.addWidget(view)
    view.show()
    view.show_mesh(trimesh.creation.box((10, 10, 10)))
    view.show_mesh(trimesh.Trimesh())
    assert view.empty_label.isVisible() and "no triangles" in view.empty_label.text()
    assert view.shown is None and not view.reset_button.isVisible()
    view.clear()
    assert "Open or drop" in view.empty_label.text()
