"""Errors a person can act on: the crash dialog at start, toasts for uncaught exceptions and
unheard worker failures, and the daily backup's report."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings, Qt, QTimer
from PySide6.QtGui import QGuiApplication
from pytestqt.qtbot import QtBot

from core.actor import Actor
from core.backup import last_backup
from core.config import AppConfig
from core.crash_reports import CrashGuard, mark_seen, unseen_reports, write_report
from core.db.engine import Database
from desktop.app import build_main_window, toast_uncaught
from desktop.viewmodels.backup_schedule import BackupSchedule
from desktop.viewmodels.notifier import Level, Notice, Notifier
from desktop.views.crash_dialog import CrashDialog
from desktop.views.main_window import MainWindow
from tests.gui.shots import keep_shot
from workers.tasks import CancelToken, Task, TaskRunner


def crash_text() -> str:
    return (
        "Traceback (most recent call last):\n"
        '  File "desktop/views/quick_order.py", line 212, in _price\n'
        "    total = pricing.price_part(figures, terms)\n"
        "ZeroDivisionError: division by zero\n"
    )


def test_the_crash_dialog_shows_copies_and_forgets_the_report(qtbot: QtBot, tmp_path: Path) -> None:
    write_report(tmp_path, "the main thread", "RuntimeError: older one\n")
    write_report(tmp_path, "the main thread", crash_text())
    reports = unseen_reports(tmp_path)
    dialog = CrashDialog(reports, mark_seen)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    keep_shot(dialog, "crash_dialog.png")

    assert "ZeroDivisionError: division by zero" in dialog.text.toPlainText()
    assert "version: PrintDesk" in dialog.text.toPlainText()
    qtbot.mouseClick(dialog.copy_button, Qt.MouseButton.LeftButton)
    assert QGuiApplication.clipboard().text() == reports[0].text
    assert dialog.copied.text() == "Copied."

    with qtbot.waitSignal(dialog.accepted):
        qtbot.mouseClick(dialog.dont_show_button, Qt.MouseButton.LeftButton)
    assert unseen_reports(tmp_path) == []


def test_closing_the_crash_dialog_keeps_the_report_for_next_time(
    qtbot: QtBot, tmp_path: Path
) -> None:
    write_report(tmp_path, "the main thread", crash_text())
    dialog = CrashDialog(unseen_reports(tmp_path), mark_seen)
    qtbot.addWidget(dialog)
    dialog.show()
    with qtbot.waitSignal(dialog.rejected):
        qtbot.keyClick(dialog, Qt.Key.Key_Escape)
    assert len(unseen_reports(tmp_path)) == 1


@pytest.fixture
def window_notices(
    qtbot: QtBot, database: Database, admin: Actor, tmp_path: Path
) -> tuple[Notifier, list[Notice], MainWindow]:
    notifier = Notifier()
    notices: list[Notice] = []
    notifier.posted.connect(notices.append)
    settings = QSettings(str(tmp_path / "printdesk.ini"), QSettings.Format.IniFormat)
    window = build_main_window(database, admin, settings=settings, notifier=notifier)
    qtbot.addWidget(window)
    window.resize(1440, 900)
    window.show()
    qtbot.waitExposed(window)
    return notifier, notices, window


def test_an_exception_in_a_slot_becomes_a_toast_with_details(
    qtbot: QtBot,
    tmp_path: Path,
    window_notices: tuple[Notifier, list[Notice], MainWindow],
) -> None:
    notifier, notices, window = window_notices

    def broken_slot() -> None:
        raise KeyError("printer 7")

    guard = CrashGuard(tmp_path / "logs", toast_uncaught(notifier)).install()
    try:
        QTimer.singleShot(0, broken_slot)
        qtbot.waitUntil(lambda: any(n.level is Level.ERROR for n in notices))
    finally:
        guard.uninstall()
    error = next(n for n in notices if n.level is Level.ERROR)
    assert error.text == "Something went wrong: KeyError: 'printer 7'"
    assert "in broken_slot" in error.details
    assert unseen_reports(tmp_path / "logs") == []  # shown, so not a crash
    qtbot.waitUntil(lambda: len(window.toasts.toasts) == 1)
    keep_shot(window, "slot_error_toast.png")
    window.close()


def test_a_worker_failure_nobody_listens_for_reaches_the_notifier(qtbot: QtBot) -> None:
    notifier = Notifier()
    notices: list[Notice] = []
    notifier.posted.connect(notices.append)
    runner = TaskRunner(on_unhandled_failure=notifier.error)

    def work(_progress: Callable[[float], None], _cancel: CancelToken) -> None:
        raise OSError("the USB stick was removed")

    runner.start(Task(work))  # nothing connected to its `failed`
    qtbot.waitUntil(lambda: len(notices) == 1)
    assert notices[0].level is Level.ERROR
    assert notices[0].text == "the USB stick was removed" and "OSError" in notices[0].details

    heard = Task(work)
    own: list[str] = []
    heard.signals.failed.connect(lambda message, _details: own.append(message))
    with qtbot.waitSignal(heard.signals.failed):
        runner.start(heard)
    qtbot.waitUntil(lambda: own == ["the USB stick was removed"])
    assert len(notices) == 1  # its own handler shows it; no second toast
    assert runner.wait()


def test_the_daily_backup_runs_when_due_and_says_so(
    qtbot: QtBot, database: Database, db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PRINTDESK_CONFIG", str(tmp_path / "none.toml"))
    config = AppConfig(
        DATABASE_URL=db_url,
        data_dir=tmp_path / "counter",
        backup_dir=tmp_path / "backups",
        backup_daily=True,
    )
    notifier = Notifier()
    notices: list[Notice] = []
    notifier.posted.connect(notices.append)
    runner = TaskRunner(on_unhandled_failure=notifier.error)
    now = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)
    schedule = BackupSchedule(runner, notifier, lambda: config, clock=lambda: now)

    with qtbot.waitSignal(schedule.finished, timeout=120_000) as done:
        assert schedule.check() is not None
        assert schedule.check() is None  # one at a time
    assert done.args is not None and done.args[0].ok
    assert notices[-1].level is Level.INFO and notices[-1].text.startswith("Daily backup done.")
    record = last_backup(config)
    assert record is not None and record.ok and record.path is not None
    assert record.path.parent == tmp_path / "backups" and record.path.is_file()
    assert schedule.check() is None  # done for today
    assert runner.wait()
