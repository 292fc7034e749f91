"""How a screen shows that it is reading: a "Loading…" badge beside its title. What was on
screen stays readable (and usable) until the new data comes; a first load shows its own
"reading" text in the space the data will fill."""

from __future__ import annotations

from PySide6.QtCore import Qt, SignalInstance
from PySide6.QtWidgets import QLabel, QSizePolicy

from desktop.views.theme import ACCENT

BADGE_STYLE = (
    f"QLabel#loading {{ color: {ACCENT}; background: #eaf2fb; border: 1px solid #bcd4ee;"
    " border-radius: 10px; padding: 2px 10px; font-size: 9pt; font-weight: 600; }"
)


class LoadingBadge(QLabel):
    """Shown while ``loading_changed`` last said True."""

    def __init__(
        self, loading_changed: SignalInstance, *, loading: bool = False, text: str = "Loading…"
    ) -> None:
        super().__init__(text)
        self.setObjectName("loading")
        self.setStyleSheet(BADGE_STYLE)
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setSizePolicy(QSizePolicy.Policy.Maximum, QSizePolicy.Policy.Fixed)
        self.setAccessibleName(text)
        loading_changed.connect(self.show_loading)
        self.show_loading(loading)

    def show_loading(self, loading: bool) -> None:
        self.setVisible(loading)
