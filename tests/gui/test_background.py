"""The one way view models run a core call in the background: its value comes back on the GUI
thread, a newer call wins, and each kind of failure goes where it belongs."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from PySide6.QtCore import QCoreApplication, QThread
from pytestqt.qtbot import QtBot
from sqlalchemy import text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from core.errors import InvalidInput
from desktop.viewmodels.background import Loader
from desktop.viewmodels.connection import DOWN_MESSAGE
from desktop.viewmodels.context import AppContext
from desktop.viewmodels.notifier import Level, Notice
from tests.gui.sql_watch import GuiThreadSql

pytestmark = pytest.mark.no_gui_thread_sql


def _keeper(into: list[BaseException]) -> Callable[[BaseException], bool]:
    """An ``on_failed`` that keeps the failure and says it has told the person."""

    def keep(error: BaseException) -> bool:
        into.append(error)
        return True

    return keep


def _notices(ctx: AppContext) -> list[Notice]:
    seen: list[Notice] = []
    ctx.notifier.posted.connect(seen.append)
    return seen


def test_the_value_comes_back_on_the_gui_thread_and_the_newest_call_wins(
    qtbot: QtBot, ctx: AppContext, gui_thread_sql: GuiThreadSql
) -> None:
    got: list[tuple[int, bool]] = []

    def done(value: int) -> None:
        app = QCoreApplication.instance()
        assert app is not None
        got.append((value, QThread.currentThread() is app.thread()))

    loader: Loader[int] = Loader(ctx, done)
    states: list[bool] = []
    loader.loading_changed.connect(states.append)
    loader.run(lambda s: int(s.execute(text("SELECT 1")).scalar_one()))
    loader.run(lambda s: int(s.execute(text("SELECT 2")).scalar_one()))  # supersedes the first
    assert loader.loading
    qtbot.waitUntil(lambda: not loader.loading)
    assert got == [(2, True)] and states == [True, False]
    assert gui_thread_sql.statements == []  # both ran on a worker


def test_a_refusal_is_a_warning_and_a_bug_an_error_with_its_traceback(
    qtbot: QtBot, ctx: AppContext
) -> None:
    notices = _notices(ctx)
    failed: list[BaseException] = []

    def refuse(_s: Session) -> int:
        raise InvalidInput("A client needs a name.")

    def crash(_s: Session) -> int:
        raise RuntimeError("boom")

    loader: Loader[int] = Loader(ctx, lambda _v: None)
    loader.run(refuse)
    qtbot.waitUntil(lambda: len(notices) == 1)
    assert (notices[0].level, notices[0].text) == (Level.WARNING, "A client needs a name.")
    loader.run(crash)
    qtbot.waitUntil(lambda: len(notices) == 2)
    assert notices[1].level is Level.ERROR and "boom" in notices[1].text
    assert "Traceback" in notices[1].details and "RuntimeError" in notices[1].details

    # A caller that words the refusal itself takes it over; nothing else is posted.
    told: Loader[int] = Loader(ctx, lambda _v: None, on_failed=_keeper(failed))
    told.run(refuse)
    qtbot.waitUntil(lambda: bool(failed))
    assert isinstance(failed[0], InvalidInput) and len(notices) == 2


def test_a_lost_connection_goes_to_the_banner_not_to_a_toast(qtbot: QtBot, ctx: AppContext) -> None:
    notices = _notices(ctx)
    seen: list[BaseException] = []

    def gone(_s: Session) -> int:
        raise OperationalError("SELECT 1", {}, ConnectionError("server closed the connection"))

    loader: Loader[int] = Loader(ctx, lambda _v: None, on_failed=_keeper(seen))
    connection = ctx.connection()
    with qtbot.waitSignal(connection.changed) as changed:
        loader.run(gone)
    assert changed.args == [False] and not connection.reachable
    assert connection.message == DOWN_MESSAGE
    assert notices == [] and seen == []  # not even the caller's handler: the banner says it
    with qtbot.waitSignal(connection.restored, timeout=10_000):
        pass  # the background ping reaches the (running) server again
    assert connection.reachable and connection.message == ""
