"""Settings → Health: each part of the shop's setup, checked off the GUI thread on request."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from PySide6.QtCore import QObject, Signal

from core.health import DEFAULT_TIMEOUT_S, Check, PartHealth, State, run_named, shop_checks
from desktop.viewmodels.context import AppContext
from workers.tasks import CancelToken, Task

Checks = Callable[[], Sequence[tuple[str, Check]]]


@dataclass(frozen=True)
class HealthRow:
    """One part as the page shows it; ``state`` is None while it is being checked."""

    name: str
    state: State | None
    detail: str
    fix: str

    @property
    def mark(self) -> str:
        return {State.OK: "✓", State.OFF: "–", State.FAILED: "✗", None: "…"}[self.state]


class HealthViewModel(QObject):
    changed = Signal()
    finished = Signal()  # a round of checks ended (its rows are in ``rows``)

    def __init__(
        self,
        ctx: AppContext,
        *,
        checks: Checks | None = None,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        clock: Callable[[], dt.datetime] = lambda: dt.datetime.now().astimezone(),
    ) -> None:
        super().__init__()
        self._ctx = ctx
        self._timeout_s = timeout_s
        self._checks: Checks = checks or (
            lambda: shop_checks(ctx.config(), ctx.db, ctx.storage, timeout_s=timeout_s)
        )
        self._clock = clock
        self._names = [name for name, _ in self._checks()]
        self._results: list[PartHealth] = []
        self._task: Task | None = None
        self._checked_at: dt.datetime | None = None
        self._took_s = 0.0

    # -- state
    @property
    def checking(self) -> bool:
        return self._task is not None

    @property
    def rows(self) -> list[HealthRow]:
        if self.checking or not self._results:
            waiting = "Checking…" if self.checking else "Not checked yet."
            return [HealthRow(name, None, waiting, "") for name in self._names]
        return [HealthRow(r.name, r.state, r.detail, r.fix) for r in self._results]

    @property
    def summary(self) -> str:
        if self.checking:
            return f"Checking {len(self._names)} parts…"
        if not self._results:
            return "Not checked yet."
        failed = [r for r in self._results if r.state is State.FAILED]
        if not failed:
            return "Everything works."
        return f"{len(failed)} of {len(self._results)} parts need attention."

    @property
    def all_ok(self) -> bool:
        return bool(self._results) and all(r.ok for r in self._results)

    @property
    def last_checked(self) -> str:
        if self._checked_at is None:
            return "Never checked"
        return f"Last checked {self._checked_at:%H:%M:%S} (took {self._took_s:.1f} s)"

    # -- commands
    def ensure_checked(self) -> None:
        """The page is shown: check once, the first time."""
        if self._checked_at is None and not self.checking:
            self.check()

    def check(self) -> None:
        if self.checking:
            return
        checks = list(self._checks())
        self._names = [name for name, _ in checks]
        timeout_s = self._timeout_s
        started = time.monotonic()

        def work(_progress: Callable[[float], None], _cancel: CancelToken) -> list[PartHealth]:
            return run_named(checks, timeout_s=timeout_s)

        task = Task(work, describe=lambda exc: f"The health checks failed: {exc}")
        task.signals.finished.connect(lambda results: self._done(results, started))
        task.signals.failed.connect(lambda message, details: self._failed(message, details))
        task.signals.cancelled.connect(self._cancelled)
        self._task = task
        self.changed.emit()
        self._ctx.runner.start(task)

    # -- results
    def _done(self, results: list[PartHealth], started: float) -> None:
        self._task = None
        self._results = list(results)
        self._checked_at = self._clock()
        self._took_s = time.monotonic() - started
        self.changed.emit()
        self.finished.emit()

    def _failed(self, message: str, details: str) -> None:
        self._task = None
        self._ctx.notifier.error(message, details=details)
        self.changed.emit()
        self.finished.emit()

    def _cancelled(self) -> None:
        self._task = None
        self.changed.emit()
