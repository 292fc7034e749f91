"""One way for a view model to run a core call off the GUI thread and take its result back there.

``Loader(ctx, on_done).run(lambda session: service_call(session, ...))`` opens a session on a
worker of the context's TaskRunner, runs the call, and hands its value to ``on_done`` on the GUI
thread. A newer ``run`` of the same loader supersedes an older one (its result is dropped), so
a list typed into quickly shows the last search, not whichever query finished last. Failures go
to the notifier — a refusal as a warning, anything else as an error with details — except a
lost database connection, which goes to the connection state (the window's banner) instead of a
toast. While a call is in flight ``loading`` is true, so a view can show that it is reading.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from PySide6.QtCore import QObject, Signal, Slot
from sqlalchemy.orm import Session

from core.errors import ServiceError
from core.money import MoneyError
from desktop.viewmodels.connection import is_disconnect
from desktop.viewmodels.context import AppContext
from workers.tasks import CancelToken, Task, TaskRunner

log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass(frozen=True)
class _Outcome:
    generation: int
    value: Any = None
    error: BaseException | None = None
    details: str = ""


def report_failure(ctx: AppContext, error: BaseException, details: str) -> None:
    """Where a failed background call is told: the banner, a warning, or an error with details."""
    if is_disconnect(error):
        ctx.connection().lost(error)
    elif isinstance(error, ServiceError | MoneyError):
        ctx.notifier.warning(str(error))
    else:
        log.error("background.failed error=%r", error)
        ctx.notifier.error(f"Something went wrong: {error}", details)


class Loader(QObject, Generic[T]):
    """Runs ``call(session) -> T`` in the background; the newest call's value goes to ``on_done``.

    ``on_failed`` (optional) sees a failure first and returns True when it has told the person
    itself (e.g. a refusal worded for the card it concerns); otherwise the failure is reported
    as above. A lost connection always goes to the banner and never reaches ``on_failed``:
    what is on screen stays as it was."""

    loading_changed = Signal(bool)

    def __init__(
        self,
        ctx: AppContext,
        on_done: Callable[[T], None],
        *,
        on_failed: Callable[[BaseException], bool] | None = None,
        runner: TaskRunner | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._ctx = ctx
        self._runner = runner or ctx.runner  # a runner of one thread keeps writes in order
        self._on_done = on_done
        self._on_failed = on_failed
        self._generation = 0
        self._loading = False

    @property
    def loading(self) -> bool:
        return self._loading

    def run(self, call: Callable[[Session], T]) -> None:
        """Start ``call``; any call of this loader still running is superseded."""
        self._generation += 1
        generation = self._generation
        db = self._ctx.db

        def work(_progress: Callable[[float], None], _cancel: CancelToken) -> _Outcome:
            try:
                with db.session() as session:
                    return _Outcome(generation, value=call(session))
            except Exception as exc:  # every failure reaches the GUI thread as data
                return _Outcome(generation, error=exc, details=traceback.format_exc())

        task = Task(work)
        task.signals.finished.connect(self._finished)
        task.signals.cancelled.connect(self._cancelled)
        self._set_loading(True)
        self._runner.start(task)

    def drop(self) -> None:
        """Forget the call in flight: its result will not be delivered."""
        self._generation += 1
        self._set_loading(False)

    @Slot(object)
    def _finished(self, outcome: _Outcome) -> None:
        if outcome.generation != self._generation:
            return  # a newer call of this loader wins
        self._set_loading(False)
        if outcome.error is None:
            self._ctx.connection().reached()
            self._on_done(outcome.value)
            return
        error = outcome.error
        if is_disconnect(error):
            self._ctx.connection().lost(error)
        elif self._on_failed is None or not self._on_failed(error):
            report_failure(self._ctx, error, outcome.details)

    @Slot()
    def _cancelled(self) -> None:
        self._set_loading(False)

    def _set_loading(self, loading: bool) -> None:
        if loading != self._loading:
            self._loading = loading
            self.loading_changed.emit(loading)
