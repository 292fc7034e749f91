"""How a screen shows that it is reading: a "Loading…" badge and a dimmed, still content area
(what was on screen stays readable while the new data comes)."""

from __future__ import annotations

from PySide6.QtCore import Qt, SignalInstance
from PySide6.QtWidgets import QGraphicsOpacityEffect, QLabel, QWidget

from desktop.views.theme import ACCENT

BADGE_STYLE = (
    f"QLabel#loading {{ color: {ACCENT}; background: #eaf2fb; border: 1px solid #bcd4ee;"
    " border-radius: 10px; padding: 2px 10px; font-size: 9pt; font-weight: 600; }"
)


class LoadingBadge(QLabel):
    """Shown while ``loading_changed`` last said True; dims ``dims`` meanwhile."""

    def __init__(
        self,
        loading_changed: SignalInstance,
        *,
        loading: bool = False,
        dims: tuple[QWidget, ...] = (),
        text: str = "Loading…",
    ) -> None:
        super().__init__(text)
        self.setObjectName("loading")
        self.setStyleSheet(BADGE_STYLE)
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setAccessibleName(text)
        self._dims = list(dims)
        self._loading = loading
        loading_changed.connect(self.show_loading)
        self.show_loading(loading)

    def also_dim(self, *widgets: QWidget) -> None:
        self._dims.extend(widgets)
        self.show_loading(self._loading)

    def show_loading(self, loading: bool) -> None:
        self._loading = loading
        self.setVisible(loading)
        for widget in self._dims:
            if loading:
                effect = QGraphicsOpacityEffect(widget)
                effect.setOpacity(0.55)
                widget.setGraphicsEffect(effect)
            else:
                widget.setGraphicsEffect(None)  # type: ignore[arg-type]
