"""After Sign in the main window comes up at once, and the dialog says it is opening meanwhile:
there is never a moment with nothing on screen."""

from __future__ import annotations

import time
from pathlib import Path

from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QWidget
from pytestqt.qtbot import QtBot

from core.actor import Actor
from core.db.engine import Database
from core.enums import Role
from core.services import users
from desktop.app import Counter, open_counter, read_opening, sign_in_dialog, warmed_up
from desktop.viewmodels.notifier import Notifier
from desktop.views.main_window import MainWindow
from desktop.views.sign_in import SignInDialog
from tests.gui.shots import keep_shot
from workers.waiting import wait_in_background


def test_sign_in_shows_that_it_is_opening_then_the_main_window(
    qtbot: QtBot, database: Database, admin: Actor, data_dir: Path, tmp_path: Path
) -> None:
    with database.session() as s:
        users.add_user(s, admin, "sam@shop.example", "Sam", Role.STAFF, "password123")
    notifier = Notifier()
    opened: list[Counter] = []
    progress_shown: list[bool] = []

    def open_window(actor: Actor) -> QWidget:
        # What the person sees at the moment the window starts being built.
        progress_shown.append(dialog.opening.isVisible() and not dialog.ok.isEnabled())
        keep_shot(dialog, "sign-in-opening.png")
        counter = open_counter(
            database,
            actor,
            notifier,
            settings=QSettings(str(tmp_path / "shell.ini"), QSettings.Format.IniFormat),
        )
        opened.append(counter)
        return counter.window

    dialog = sign_in_dialog(wait_in_background(lambda: read_opening(database)), open_window)
    assert isinstance(dialog, SignInDialog)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    assert not dialog.opening.isVisible()
    qtbot.keyClicks(dialog.email, "sam@shop.example")
    qtbot.keyClicks(dialog.password, "password123")
    started = time.monotonic()
    # A person takes a few seconds to type: the screens load meanwhile, off the GUI thread.
    qtbot.waitUntil(warmed_up, timeout=30_000)
    with qtbot.waitSignal(dialog.accepted, timeout=10_000):
        qtbot.keyClick(dialog.password, Qt.Key.Key_Return)
    took = time.monotonic() - started
    try:
        assert progress_shown == [True]
        assert len(opened) == 1
        window = opened[0].window
        assert isinstance(window, MainWindow) and window.isVisible()
        assert "Sam (staff)" in window.statusBar().currentMessage()
        assert not dialog.isVisible()
        print(f"sign-in to main window shown: {took:.2f} s")
    finally:
        for counter in opened:
            counter.stop()
            counter.window.close()
