"""Whether the database can be reached: set by failed background calls, cleared by a cheap
ping that runs in the background while it is down (and by any call that succeeds)."""

from __future__ import annotations

import logging
from collections.abc import Callable

import shiboken6
from PySide6.QtCore import QObject, QTimer, Signal, Slot
from sqlalchemy import exc as sa_exc

from core.db.engine import Database
from workers.tasks import CancelToken, Task, TaskRunner

log = logging.getLogger(__name__)

DOWN_MESSAGE = "The database cannot be reached — retrying"


def is_disconnect(error: BaseException) -> bool:
    """A failure that says the server went away (not a refusal, not a bug)."""
    if isinstance(error, sa_exc.DBAPIError) and error.connection_invalidated:
        return True
    return isinstance(error, sa_exc.OperationalError | sa_exc.InterfaceError)


class ConnectionState(QObject):
    """The window's banner reads ``reachable``; ``restored`` tells the screens to read again."""

    changed = Signal(bool)  # reachable
    restored = Signal()

    def __init__(self, db: Database, runner: TaskRunner, *, ping_ms: int = 1500) -> None:
        super().__init__()
        self._db = db
        self._runner = runner
        self._reachable = True
        self._pinging = False
        self._timer = QTimer(self)
        self._timer.setInterval(ping_ms)
        self._timer.timeout.connect(self._ping)

    @property
    def reachable(self) -> bool:
        return self._reachable

    @property
    def message(self) -> str:
        return "" if self._reachable else DOWN_MESSAGE

    def lost(self, error: BaseException | None = None) -> None:
        if not self._reachable:
            return
        log.warning("database.unreachable error=%r", error)
        self._reachable = False
        self._timer.start()
        self.changed.emit(False)

    def reached(self) -> None:
        if self._reachable:
            return
        log.info("database.reachable_again")
        self._reachable = True
        self._timer.stop()
        self.changed.emit(True)
        self.restored.emit()

    def stop(self) -> None:
        if shiboken6.isValid(self._timer):  # at exit Qt may have deleted it already
            self._timer.stop()

    def check(self, _why: object = None) -> None:
        """Something hinted the server went away (e.g. the live-update listener lost its
        connection): ping now, and show the banner if it does not answer."""
        self._ping()

    def _ping(self) -> None:
        if self._pinging:
            return
        self._pinging = True
        engine = self._db.engine

        def work(_progress: Callable[[float], None], _cancel: CancelToken) -> bool:
            try:
                with engine.connect() as connection:
                    connection.exec_driver_sql("SELECT 1")
            except Exception:
                return False
            return True

        task = Task(work)
        task.signals.finished.connect(self._pinged)
        task.signals.cancelled.connect(self._ping_cancelled)
        self._runner.start(task)

    @Slot(object)
    def _pinged(self, ok: object) -> None:
        self._pinging = False
        if ok:
            self.reached()
        else:
            self.lost()

    @Slot()
    def _ping_cancelled(self) -> None:
        self._pinging = False
