"""Qt background work: a core function with progress and cancel, run on a QThreadPool."""

from __future__ import annotations

import logging
import threading
import traceback
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import SIGNAL, QObject, QRunnable, QThreadPool, Signal

log = logging.getLogger(__name__)


class CancelToken:
    """Set by the GUI thread, read by the worker; core functions poll ``cancelled``."""

    def __init__(self) -> None:
        self._event = threading.Event()
        self._callbacks: list[Callable[[], None]] = []
        self._lock = threading.Lock()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def cancel(self) -> None:
        with self._lock:
            self._event.set()
            callbacks = list(self._callbacks)
        for callback in callbacks:
            callback()

    def on_cancel(self, callback: Callable[[], None]) -> None:
        """Run ``callback`` on cancel (at once if already cancelled), e.g. to kill a process."""
        with self._lock:
            if not self._event.is_set():
                self._callbacks.append(callback)
                return
        callback()


class TaskSignals(QObject):
    started = Signal()
    progress = Signal(float)
    finished = Signal(object)
    failed = Signal(str, str)  # message for a person, details (traceback)
    cancelled = Signal()


Work = Callable[[Callable[[float], None], CancelToken], Any]


class Task(QRunnable):
    """Runs ``work(progress, cancel)`` off the GUI thread and reports through signals."""

    def __init__(self, work: Work, *, describe: Callable[[BaseException], str] | None = None):
        super().__init__()
        self.setAutoDelete(False)
        self.signals = TaskSignals()
        self.token = CancelToken()
        self._work = work
        self._describe = describe or (lambda exc: str(exc) or type(exc).__name__)
        self.done = threading.Event()

    def cancel(self) -> None:
        self.token.cancel()

    def run(self) -> None:
        try:
            self.signals.started.emit()
            result = self._work(self.signals.progress.emit, self.token)
        except BaseException as exc:  # every failure reaches the GUI as a message
            if self.token.cancelled:
                self.signals.cancelled.emit()
            else:
                log.exception("task.failed")
                self.signals.failed.emit(self._describe(exc), traceback.format_exc())
        else:
            if self.token.cancelled:
                self.signals.cancelled.emit()
            else:
                self.signals.finished.emit(result)
        finally:
            self.done.set()


class TaskRunner:
    """Owns the pool and the tasks in flight, so a window can cancel and wait on close."""

    def __init__(
        self,
        pool: QThreadPool | None = None,
        *,
        on_unhandled_failure: Callable[[str, str], None] | None = None,
    ) -> None:
        self.pool = pool or QThreadPool()
        self._tasks: set[Task] = set()
        self._on_unhandled_failure = on_unhandled_failure

    def start(self, task: Task) -> Task:
        self._tasks.add(task)
        # A failure nobody listens for would vanish: it goes to the fallback (the notifier).
        if self._on_unhandled_failure is not None and not task.signals.receivers(
            SIGNAL("failed(QString,QString)")
        ):
            task.signals.failed.connect(self._on_unhandled_failure)
        task.signals.finished.connect(lambda _=None: self._tasks.discard(task))
        task.signals.failed.connect(lambda *_: self._tasks.discard(task))
        task.signals.cancelled.connect(lambda: self._tasks.discard(task))
        self.pool.start(task)
        return task

    @property
    def active(self) -> int:
        return sum(1 for t in self._tasks if not t.done.is_set())

    def cancel_all(self) -> None:
        for task in list(self._tasks):
            task.cancel()

    def wait(self, msecs: int = 30_000) -> bool:
        return self.pool.waitForDone(msecs)
