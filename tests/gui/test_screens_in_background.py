"""The real main window on a demo shop: every converted screen shows that it is reading,
then its data, and none of them runs SQL on the GUI thread."""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QLabel, QWidget
from pytestqt.qtbot import QtBot

from core.actor import Actor
from core.db.engine import Database
from core.services.demo import seed_demo_shop
from desktop.app import build_main_window
from tests.gui.sql_watch import GuiThreadSql

#: Screens that read in the background, and the modules that serve them.
CONVERTED = ("dashboard", "clients", "quotes", "invoices", "jobs", "files")
CONVERTED_SOURCES = tuple(
    f"desktop/viewmodels/{name}.py"
    for name in ("dashboard", "clients", "documents", "paged_table", "jobs", "files", "background")
)


def _badge(page: QWidget) -> QLabel:
    found = getattr(page, "loading", None) or page.list_view.loading  # type: ignore[attr-defined]
    assert isinstance(found, QLabel)
    return found


def _reading(page: QWidget) -> bool:
    vm = getattr(page, "vm", None) or page.view_model  # type: ignore[attr-defined]
    return bool(getattr(vm, "busy", False) is True or vm.loading)


def _grab(window: QWidget, name: str) -> None:
    """A picture of this very moment: no posted events are delivered first (they would bring
    the rows the loading picture is meant to be without)."""
    picture = window.grab()
    assert not picture.isNull()
    folder = os.environ.get("PRINTDESK_SHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        assert picture.save(str(Path(folder) / name))


def test_each_screen_says_it_is_reading_then_shows_its_data(
    qtbot: QtBot, database: Database, admin: Actor, tmp_path: Path, gui_thread_sql: GuiThreadSql
) -> None:
    seed_demo_shop(database)
    settings = QSettings(str(tmp_path / "printdesk.ini"), QSettings.Format.IniFormat)
    window = build_main_window(database, admin, settings=settings)
    qtbot.addWidget(window)
    window.resize(1440, 900)
    window.show()
    qtbot.waitExposed(window)
    for key in (*CONVERTED[1:], CONVERTED[0]):
        window.shell.show(key)
        page = window.page(key)
        assert _reading(page) and _badge(page).isVisible(), key
        _grab(window, f"{key}-loading.png")
        qtbot.waitUntil(lambda page=page: not _reading(page), timeout=15_000)  # type: ignore[misc]
        assert not _badge(page).isVisible(), key
        _grab(window, f"{key}-loaded.png")
    ours = [s for s in gui_thread_sql.statements if s.source.split(":")[0] in CONVERTED_SOURCES]
    assert ours == []
    window.close()
