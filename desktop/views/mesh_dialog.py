"""Open in 3D: a dialog that loads a stored file off the GUI thread and shows it in a MeshView."""

from __future__ import annotations

from typing import Any

import trimesh
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QProgressBar,
    QVBoxLayout,
    QWidget,
)

from desktop.views.mesh_view import MeshView
from workers.tasks import Task, TaskRunner, Work


class MeshDialog(QDialog):
    """Shows ``Loading…`` until ``work`` (run on ``runner``) returns the mesh, then the part."""

    loaded = Signal()
    load_failed = Signal(str)

    def __init__(
        self,
        title: str,
        work: Work,
        runner: TaskRunner,
        *,
        detail: str = "",
        parent: QWidget | None = None,
        interactive: bool | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"{title} — 3D view")
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.resize(960, 720)
        self._title = title
        column = QVBoxLayout(self)
        column.setContentsMargins(16, 14, 16, 12)
        column.setSpacing(10)
        # The view's own bar names the part and its size; this line says whose it is.
        self.detail = QLabel(detail)
        self.detail.setObjectName("muted")
        self.detail.setTextFormat(Qt.TextFormat.PlainText)
        self.detail.setVisible(bool(detail))
        column.addWidget(self.detail)

        self.status = QLabel(f"Loading {title}…")
        self.status.setObjectName("muted")
        self.status.setWordWrap(True)
        self.status.setTextFormat(Qt.TextFormat.PlainText)
        self.busy = QProgressBar()
        self.busy.setRange(0, 0)
        self.busy.setTextVisible(False)
        self.busy.setMaximumHeight(6)
        column.addWidget(self.status)
        column.addWidget(self.busy)
        self.view = MeshView(self, interactive=interactive)
        column.addWidget(self.view, 1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        column.addWidget(buttons)

        self.task = Task(work)
        self.task.signals.finished.connect(self._show)
        self.task.signals.failed.connect(self._failed)
        runner.start(self.task)

    def _show(self, mesh: Any) -> None:
        assert isinstance(mesh, trimesh.Trimesh)
        self.status.hide()
        self.busy.hide()
        self.view.show_mesh(mesh, label=self._title)
        self.loaded.emit()

    def _failed(self, message: str, _details: str) -> None:
        self.busy.hide()
        self.status.setText(f"{self._title} cannot be shown: {message}")
        self.status.setObjectName("problems")
        self.status.style().unpolish(self.status)
        self.status.style().polish(self.status)
        self.load_failed.emit(message)

    def done(self, result: int) -> None:
        self.task.cancel()
        self.view.close_view()
        super().done(result)

    def closeEvent(self, event: QCloseEvent) -> None:
        self.task.cancel()
        self.view.close_view()
        super().closeEvent(event)
