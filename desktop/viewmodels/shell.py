"""The main window's state: which screen is shown, who is signed in, what database is used."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QObject, QSettings, Signal


@dataclass(frozen=True)
class Screen:
    key: str
    title: str
    shortcut: str


SCREENS: tuple[Screen, ...] = (
    Screen("dashboard", "Dashboard", "Ctrl+1"),
    Screen("quick-order", "Quick order", "Ctrl+2"),
    Screen("clients", "Clients", "Ctrl+3"),
    Screen("quotes", "Quotes", "Ctrl+4"),
    Screen("invoices", "Invoices", "Ctrl+5"),
    Screen("jobs", "Jobs", "Ctrl+6"),
    Screen("files", "Files", "Ctrl+7"),
    Screen("settings", "Settings", "Ctrl+8"),
)


class ShellViewModel(QObject):
    screen_changed = Signal(str)

    def __init__(self, *, user_label: str, database_label: str, settings: QSettings) -> None:
        super().__init__()
        self.user_label = user_label
        self.database_label = database_label
        self._settings = settings
        saved = str(settings.value("shell/screen", "dashboard"))
        self._screen = saved if any(s.key == saved for s in SCREENS) else "dashboard"

    @property
    def screens(self) -> tuple[Screen, ...]:
        return SCREENS

    @property
    def screen(self) -> str:
        return self._screen

    def show(self, key: str) -> None:
        if not any(s.key == key for s in SCREENS):
            raise ValueError(key)
        if key != self._screen:
            self._screen = key
            self._settings.setValue("shell/screen", key)
        self.screen_changed.emit(key)

    def save_geometry(self, geometry: bytes) -> None:
        self._settings.setValue("shell/geometry", geometry)

    def saved_geometry(self) -> bytes | None:
        value = self._settings.value("shell/geometry")
        return bytes(value) if value is not None else None
