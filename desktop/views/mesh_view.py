"""The 3D preview of a part: orbit, pan, zoom and reset over the printer's bed, dimensions shown.

Interactive mode holds a pyvistaqt QtInteractor (VTK's trackball camera: left drag orbits,
middle or shift-drag pans, wheel or right drag zooms). Under the offscreen Qt platform that
widget cannot make a GL context and hangs, so there the view shows a still picture rendered
offscreen by ``core.mesh.render`` instead: same scene, same camera, no interaction.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import trimesh
from numpy.typing import NDArray
from PySide6.QtCore import QEvent, QObject, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QGuiApplication, QKeyEvent, QPixmap, QResizeEvent, QShowEvent
from PySide6.QtWidgets import (
    QApplication,
    QFrame,
    QHBoxLayout,
    QLabel,
    QStackedLayout,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from core.mesh.display import (
    DISPLAY_FACE_BUDGET,
    DisplayMesh,
    dimensions_text,
    face_along_ray,
    face_normal,
    prepare,
)
from desktop.views.theme import LINE, MUTED

BedSize = tuple[float, float, float]
_RESET_KEYS = (Qt.Key.Key_R, Qt.Key.Key_Home)
_STILL_MIN = QSize(480, 360)
_NO_MODEL = "Open or drop a model file to see it in 3D."


def _empty_text(title: str, detail: str) -> str:
    return f"<p style='font-size:15pt; font-weight:600; color:#4a5667'>{title}</p><p>{detail}</p>"


_STYLE = f"""
QFrame#meshBar {{ background: #ffffff; border: 1px solid {LINE}; border-bottom: none;
    border-top-left-radius: 8px; border-top-right-radius: 8px; }}
QFrame#meshStage {{ border: 1px solid {LINE}; border-bottom-left-radius: 8px;
    border-bottom-right-radius: 8px; background: #e3e8ef; }}
QLabel#meshTitle {{ font-weight: 600; }}
QLabel#meshDims {{ color: {MUTED}; }}
QLabel#meshHint {{ color: #8a5a12; font-weight: 600; }}
QLabel#meshEmpty {{ color: {MUTED}; font-size: 12pt; }}
QToolButton {{ border: 1px solid #c9d0da; border-radius: 5px; padding: 3px 10px;
    background: #ffffff; }}
QToolButton:hover {{ border-color: #2f6fb3; }}
"""


def _live_gl_possible() -> bool:
    return QGuiApplication.platformName() not in {"offscreen", "minimal"}


class MeshView(QWidget):
    face_picked = Signal(object)  # numpy (3,) unit normal in the mesh's own coordinates

    def __init__(
        self,
        parent: QWidget | None = None,
        *,
        interactive: bool | None = None,
        face_budget: int = DISPLAY_FACE_BUDGET,
    ) -> None:
        super().__init__(parent)
        self.interactive = _live_gl_possible() if interactive is None else interactive
        self.face_budget = face_budget
        self.shown: DisplayMesh | None = None
        self.mesh: trimesh.Trimesh | None = None
        self.bed_mm: BedSize | None = None
        self.pick_mode = False
        self.plotter: Any = None  # pyvistaqt.QtInteractor in interactive mode, until closed
        self._actors: dict[str, Any] = {}
        self._watched_window: QWidget | None = None
        self._closed = False
        self.setStyleSheet(_STYLE)

        bar = QFrame()
        bar.setObjectName("meshBar")
        bar_row = QHBoxLayout(bar)
        bar_row.setContentsMargins(12, 6, 8, 6)
        bar_row.setSpacing(10)
        self.title_label = QLabel("")
        self.title_label.setObjectName("meshTitle")
        self.dims_label = QLabel("")
        self.dims_label.setObjectName("meshDims")
        self.dims_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.hint_label = QLabel("Click a face to lay the part flat on it")
        self.hint_label.setObjectName("meshHint")
        self.hint_label.hide()
        self.reset_button = QToolButton()
        self.reset_button.setText("Reset view")
        self.reset_button.setToolTip("Back to the standard view (R or Home)")
        self.reset_button.setEnabled(False)
        self.reset_button.clicked.connect(self.reset_camera)
        bar_row.addWidget(self.title_label)
        bar_row.addWidget(self.dims_label)
        bar_row.addStretch(1)
        bar_row.addWidget(self.hint_label)
        bar_row.addWidget(self.reset_button)

        stage = QFrame()
        stage.setObjectName("meshStage")
        self._stack = QStackedLayout(stage)
        self.empty_label = QLabel()
        self.empty_label.setObjectName("meshEmpty")
        self.empty_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._stack.addWidget(self.empty_label)
        if self.interactive:
            self._stack.addWidget(self._make_interactor())
        else:
            self.still_label = QLabel()
            self.still_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
            self.still_label.setMinimumSize(160, 120)
            self._stack.addWidget(self.still_label)
            self._still_png: bytes | None = None
            self.still_frames = 0  # pictures drawn so far (each costs an offscreen render)
            self._rerender = QTimer(self, singleShot=True, interval=200)
            self._rerender.timeout.connect(self._render_still)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(bar)
        layout.addWidget(stage, 1)

        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        app = QApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.close_view)
        self.clear()

    # -- the live interactor ------------------------------------------------------------------

    def _make_interactor(self) -> QWidget:
        from pyvistaqt import QtInteractor

        self.plotter = QtInteractor(self, auto_update=False)
        self.plotter.setAcceptDrops(False)  # dropped files belong to the window, not VTK
        self.plotter.enable_trackball_style()
        self.plotter.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        # VTK's own keys would quit (q/e), switch to wireframe (w) or stereo (3): only ours count.
        self.plotter.installEventFilter(self)
        self.plotter.iren.add_observer("LeftButtonPressEvent", self._on_left_press)
        widget: QWidget = self.plotter
        return widget

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        window = self.window()
        if window is not self and window is not self._watched_window:
            if self._watched_window is not None:
                self._watched_window.removeEventFilter(self)
            window.installEventFilter(self)
            self._watched_window = window

    def _after_window_close(self) -> None:
        # Only children of a window that really closed (its close was not refused) let go.
        window = self._watched_window
        if window is not None and not window.isVisible():
            self.close_view()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self._watched_window and event.type() == QEvent.Type.Close:
            # A window's close reaches only the window, not the views inside it.
            QTimer.singleShot(0, self, self._after_window_close)
            return False
        if watched is self.plotter and event.type() in (
            QEvent.Type.KeyPress,
            QEvent.Type.KeyRelease,
        ):
            if (
                isinstance(event, QKeyEvent)
                and event.type() == QEvent.Type.KeyPress
                and event.key() in _RESET_KEYS
            ):
                self.reset_camera()
            return True
        return super().eventFilter(watched, event)

    def _on_left_press(self, *_: object) -> None:
        if self.pick_mode and self.plotter is not None:
            x, y = self.plotter.iren.get_event_position()
            self.pick_at(x, y)

    def pick_at(self, x: int, y: int) -> NDArray[np.float64] | None:
        """Pick the face under display point (x, y) (VTK pixels, origin bottom left).

        Emits and returns its unit normal in the mesh's own coordinates; None off the part.
        """
        if self.plotter is None or self.shown is None or self.mesh is None:
            return None
        from vtkmodules.vtkRenderingCore import vtkCellPicker

        picker = vtkCellPicker()
        picker.SetTolerance(0.0005)
        picker.PickFromListOn()
        part = self._actors.get("part")
        if part is None:
            return None
        picker.AddPickList(part)
        if not picker.Pick(x, y, 0, self.plotter.renderer) or picker.GetCellId() < 0:
            return None
        hit = np.array(picker.GetPickPosition())
        eye = np.array(self.plotter.camera.position)
        # The preview may be decimated: follow the same ray into the client's own triangles.
        face = face_along_ray(self.mesh, eye - self.shown.offset, hit - eye)
        if face is not None:
            normal = face_normal(self.mesh, face)
        else:
            normal = np.array(picker.GetPickNormal(), dtype=np.float64)
            normal /= np.linalg.norm(normal) or 1.0
        self.face_picked.emit(normal)
        return normal

    # -- what callers use ---------------------------------------------------------------------

    def show_mesh(
        self, mesh: trimesh.Trimesh, *, bed_mm: BedSize | None = None, label: str = ""
    ) -> None:
        """Show a part centred on the bed (if given); big parts are simplified for display only."""
        if self._closed:
            return
        if len(mesh.faces) == 0:
            self.clear()
            self.empty_label.setText(_empty_text("No model", "This file holds no triangles."))
            return
        heavy = len(mesh.faces) > self.face_budget
        if heavy:
            QApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
        try:
            shown = prepare(mesh, bed_mm=bed_mm, budget=self.face_budget)
        finally:
            if heavy:
                QApplication.restoreOverrideCursor()
        self.mesh, self.shown, self.bed_mm = mesh, shown, bed_mm
        self.title_label.setText(label)
        self.title_label.setVisible(bool(label))
        dims = dimensions_text(shown.extents_mm)
        if shown.decimated:
            dims += (
                f"   ·   preview simplified to {len(shown.faces):,} of {shown.source_faces:,} faces"
            )
        self.dims_label.setText(dims)
        self.reset_button.setEnabled(True)
        self.reset_button.show()
        self._stack.setCurrentIndex(1)
        if self.plotter is not None:
            from core.mesh.render import add_scene

            self.plotter.clear()
            self._actors = add_scene(self.plotter, shown, bed_mm)
            self.plotter.render()
        elif not self.interactive:
            self._render_still()

    def clear(self) -> None:
        """The empty state: no part, a friendly "No model"."""
        self.mesh = self.shown = None
        self._actors = {}
        self.empty_label.setText(_empty_text("No model", _NO_MODEL))
        self.title_label.setText("")
        self.title_label.hide()
        self.dims_label.setText("")
        self.reset_button.setEnabled(False)
        self.reset_button.hide()  # nothing to reset: the empty state stays quiet
        if self.plotter is not None:
            self.plotter.clear()
        if not self.interactive:
            self._still_png = None
            self.still_label.clear()
        self._stack.setCurrentIndex(0)

    def reset_camera(self) -> None:
        """Back to the standard three-quarter view of the part on its bed."""
        if self.shown is None:
            return
        if self.plotter is not None:
            from core.mesh.render import iso_camera

            iso_camera(self.plotter, self.shown, self.bed_mm)
            self.plotter.render()
        elif not self.interactive:
            self._render_still()

    def set_pick_mode(self, on: bool) -> None:
        """While on, a click on the part emits ``face_picked`` with that face's normal."""
        self.pick_mode = on
        self.hint_label.setVisible(on)
        if self.plotter is not None:
            cursor = Qt.CursorShape.CrossCursor if on else Qt.CursorShape.ArrowCursor
            self.plotter.setCursor(cursor)

    def close_view(self) -> None:
        """Release the GL window and the interactor; safe to call any number of times."""
        if self._closed:
            return
        self._closed = True
        app = QApplication.instance()
        if app is not None:
            app.aboutToQuit.disconnect(self.close_view)
        if self._watched_window is not None:
            self._watched_window.removeEventFilter(self)
            self._watched_window = None
        plotter, self.plotter = self.plotter, None
        if plotter is not None:
            plotter.removeEventFilter(self)
            plotter.close()
        self._actors = {}

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in _RESET_KEYS:
            self.reset_camera()
            return
        super().keyPressEvent(event)

    def closeEvent(self, event: Any) -> None:
        self.close_view()
        super().closeEvent(event)

    # -- the still picture (offscreen platform) ------------------------------------------------

    def _render_still(self) -> None:
        from core.mesh.render import render_display_png

        if self.shown is None:
            return
        size = self.still_label.size().expandedTo(_STILL_MIN)
        ratio = self.devicePixelRatioF()
        pixels = (int(size.width() * ratio), int(size.height() * ratio))
        self._still_png = render_display_png(self.shown, size=pixels, bed_mm=self.bed_mm)
        self.still_frames += 1
        self._fit_still()

    def _fit_still(self) -> None:
        if self._still_png is None:
            return
        pixmap = QPixmap()
        pixmap.loadFromData(self._still_png, "PNG")
        pixmap.setDevicePixelRatio(self.devicePixelRatioF())
        self.still_label.setPixmap(
            pixmap.scaled(
                self.still_label.size() * self.devicePixelRatioF(),
                Qt.AspectRatioMode.KeepAspectRatio,
                Qt.TransformationMode.SmoothTransformation,
            )
        )

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if not self.interactive and self._still_png is not None:
            self._fit_still()
            self._rerender.start()  # a sharp picture once the size settles
