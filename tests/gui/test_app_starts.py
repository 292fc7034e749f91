"""The desktop app's main window opens on a real database and shows the shop and database."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QMainWindow
from pytestqt.qtbot import QtBot

from core.db.engine import Database
from desktop.app import build_main_window


def _label(window: QMainWindow, name: str) -> str:
    label = window.findChild(QLabel, name)
    assert label is not None, f"no label {name!r} in the window"
    return label.text()


def test_main_window_shows_the_shop_and_its_database(qtbot: QtBot, database: Database) -> None:
    window = build_main_window(database)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)

    assert window.windowTitle() == "PrintDesk"
    assert _label(window, "shopName") == "My Print Shop"
    assert database.describe() in _label(window, "databaseLabel")
    assert database.describe() in window.statusBar().currentMessage()
