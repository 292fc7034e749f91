"""The real main window's Settings screen on a demo shop: each page says it is reading, then
shows its data, and no SQL runs on the GUI thread; pictures of both when PRINTDESK_SHOTS is set."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication, QWidget
from pytestqt.qtbot import QtBot

from core.actor import Actor
from core.db.engine import Database
from core.services.demo import seed_demo_shop
from desktop.app import build_main_window
from desktop.views.settings import SettingsPage
from tests.gui.sql_watch import GuiThreadSql

# The window opens on Quick order, which is not converted yet: only the Settings screen's own
# modules are held to no SQL on the GUI thread here.
SETTINGS_SOURCES = ("desktop/viewmodels/settings.py", "desktop/viewmodels/background.py")


def _grab(window: QWidget, name: str) -> None:
    QApplication.sendPostedEvents()  # laid out as a person sees it
    picture = window.grab()
    assert not picture.isNull()
    folder = os.environ.get("PRINTDESK_SHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        assert picture.save(str(Path(folder) / name))


@contextmanager
def held(database: Database, table: str) -> Iterator[None]:
    """Readers of ``table`` wait until the block ends: a slow database, made by a lock."""
    with database.engine.connect() as blocker:
        blocker.exec_driver_sql(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE")
        yield
        blocker.rollback()


def test_each_settings_page_says_it_is_reading_then_shows_its_data(
    qtbot: QtBot, database: Database, admin: Actor, tmp_path: Path, gui_thread_sql: GuiThreadSql
) -> None:
    seed_demo_shop(database)
    settings = QSettings(str(tmp_path / "printdesk.ini"), QSettings.Format.IniFormat)
    window = build_main_window(database, admin, settings=settings)
    qtbot.addWidget(window)
    window.resize(1440, 900)
    window.show()
    qtbot.waitExposed(window)

    page = window.page("settings")
    assert isinstance(page, SettingsPage)
    business = page.forms["business"]
    with held(database, "settings"):
        window.shell.show("settings")
        assert page.loading.isVisible() and business.reading.isVisible()
        assert not business.fields_box.isEnabled()
        _grab(window, "settings-shop-loading.png")
    qtbot.waitUntil(lambda: not page.vm.busy, timeout=15_000)
    assert not page.loading.isVisible() and not business.reading.isVisible()
    assert business.fields_box.isEnabled()
    name = business.inputs["business.name"]
    assert name.text()  # type: ignore[union-attr]
    _grab(window, "settings-shop-loaded.png")

    for key in ("printers", "materials", "users"):
        panel = page.panels[key]
        with held(database, key):
            page.show_section(key)
            assert page.loading.isVisible() and panel.reading.isVisible(), key
            assert not panel.table.isVisible(), key
            _grab(window, f"settings-{key}-loading.png")
        qtbot.waitUntil(lambda: not page.vm.busy, timeout=15_000)
        assert not page.loading.isVisible() and not panel.reading.isVisible(), key
        assert panel.table.isVisible() and panel.table.model().rowCount() > 0, key
        _grab(window, f"settings-{key}-loaded.png")
    ours = [s for s in gui_thread_sql.statements if s.source.split(":")[0] in SETTINGS_SOURCES]
    assert ours == []
    window.close()
