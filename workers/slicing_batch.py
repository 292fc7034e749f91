"""Slice the files of an order in parallel off the GUI thread, each with progress and cancel.

Each key (usually one per file) has at most one current run. Workers report through private
signals that are queued to the GUI thread; there, a report is passed on only if its run is
still the key's current one, so a cancelled or superseded run never reaches the screen.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from PySide6.QtCore import QObject, Qt, QThreadPool, Signal, Slot

from core.errors import ServiceError
from core.money import MoneyError
from core.services.part_pricing import PartPlan, run_part
from core.slicing.cancel import CancelToken
from core.slicing.errors import SliceCancelled, SlicingError
from core.slicing.locate import CuraInstall
from core.slicing.resolver import CuraLibrary

log = logging.getLogger(__name__)

# Progress reaches the GUI at most this often per run, unless it moved by a whole step.
PROGRESS_INTERVAL_S = 0.1
PROGRESS_STEP = 0.05


@dataclass
class _Run:
    id: int
    key: str
    plan: PartPlan
    token: CancelToken = field(default_factory=CancelToken)


def describe_failure(exc: BaseException) -> str:
    """One line for a person: our typed errors say it themselves; anything else is a bug."""
    if isinstance(exc, SlicingError | ServiceError | MoneyError):
        text = str(exc)
    else:
        text = f"Slicing failed unexpectedly ({type(exc).__name__}: {exc})"
    return " ".join(text.split()) or type(exc).__name__


class SliceBatch(QObject):
    """Runs ``run_part`` for many keys on a pool sized to the cores; the GUI is never blocked."""

    started = Signal(str)  # key
    progress = Signal(str, float)  # key, 0..1
    finished = Signal(str, object)  # key, PartQuote
    failed = Signal(str, str)  # key, one-line message for a person
    cancelled = Signal(str)  # key

    # Worker → GUI thread (queued); the int is the run's id.
    _run_started = Signal(int)
    _run_progress = Signal(int, float)
    _run_finished = Signal(int, object)
    _run_failed = Signal(int, str)

    def __init__(
        self,
        cura: Callable[[], CuraInstall | None],
        *,
        pool: QThreadPool | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._cura_source = cura
        if pool is None:
            pool = QThreadPool(self)
            pool.setMaxThreadCount(max(1, os.cpu_count() or 1))
        self._pool = pool
        self._runs: dict[str, _Run] = {}  # the current run of each key (GUI thread only)
        self._next_id = 0
        self._in_flight = 0
        self._count_lock = threading.Lock()
        self._setup_lock = threading.Lock()
        self._setup_done = False
        self._cura: CuraInstall | None = None
        self._cura_problem: str | None = None
        self._library: CuraLibrary | None = None
        queued = Qt.ConnectionType.QueuedConnection
        self._run_started.connect(self._on_started, queued)
        self._run_progress.connect(self._on_progress, queued)
        self._run_finished.connect(self._on_finished, queued)
        self._run_failed.connect(self._on_failed, queued)

    # commands (GUI thread)

    def submit(self, key: str, plan: PartPlan) -> None:
        """Slice ``plan`` under ``key``; a run already going for the key is cancelled."""
        earlier = self._runs.pop(key, None)
        if earlier is not None:
            earlier.token.cancel()
        self._next_id += 1
        run = _Run(id=self._next_id, key=key, plan=plan)
        self._runs[key] = run
        with self._count_lock:
            self._in_flight += 1
        self._pool.start(lambda: self._work(run))

    def cancel(self, key: str) -> None:
        """Stop the key's run (its engine process is killed) and say so with ``cancelled``."""
        run = self._runs.pop(key, None)
        if run is None:
            return
        run.token.cancel()
        self.cancelled.emit(key)

    def cancel_all(self) -> None:
        for key in list(self._runs):
            self.cancel(key)

    def active(self) -> int:
        """Keys whose current run has not reported yet."""
        return len(self._runs)

    def running(self) -> int:
        """Worker threads still busy, including cancelled runs that are winding down."""
        with self._count_lock:
            return self._in_flight

    def wait(self, msecs: int = 30_000) -> bool:
        """Wait for every worker to end (call ``cancel_all`` first when closing)."""
        return self._pool.waitForDone(msecs)

    # the worker (pool thread)

    def _setup(self) -> tuple[CuraInstall | None, CuraLibrary | None, str | None]:
        with self._setup_lock:
            if not self._setup_done:
                try:
                    self._cura = self._cura_source()
                except Exception as exc:  # a broken install means estimates, said on the quote
                    log.warning("slicing.cura_unavailable detail=%s", exc)
                    self._cura = None
                    self._cura_problem = describe_failure(exc)
                if self._cura is not None:
                    self._library = CuraLibrary(self._cura.resources)
                self._setup_done = True
            return self._cura, self._library, self._cura_problem

    def _work(self, run: _Run) -> None:
        try:
            if run.token.cancelled:
                return
            self._run_started.emit(run.id)
            last = [time.monotonic(), -1.0]

            def report(value: float) -> None:
                now = time.monotonic()
                if (
                    value >= 1.0
                    or value - last[1] >= PROGRESS_STEP
                    or now - last[0] >= (PROGRESS_INTERVAL_S)
                ):
                    last[0], last[1] = now, value
                    self._run_progress.emit(run.id, value)

            try:
                cura, library, problem = self._setup()
                quote = run_part(
                    run.plan, cura=cura, library=library, progress=report, cancel=run.token
                )
                if problem is not None:
                    quote = replace(quote, warnings=(*quote.warnings, problem))
            except SliceCancelled:
                return
            except Exception as exc:
                if run.token.cancelled:
                    return
                if not isinstance(exc, SlicingError | ServiceError | MoneyError):
                    log.exception("slicing.batch_failed key=%s", run.key)
                self._run_failed.emit(run.id, describe_failure(exc))
                return
            self._run_finished.emit(run.id, quote)
        finally:
            with self._count_lock:
                self._in_flight -= 1

    # reports (GUI thread): passed on only for the key's current run

    def _current(self, run_id: int) -> _Run | None:
        for run in self._runs.values():
            if run.id == run_id:
                return run
        return None

    @Slot(int)
    def _on_started(self, run_id: int) -> None:
        run = self._current(run_id)
        if run is not None:
            self.started.emit(run.key)

    @Slot(int, float)
    def _on_progress(self, run_id: int, value: float) -> None:
        run = self._current(run_id)
        if run is not None:
            self.progress.emit(run.key, value)

    @Slot(int, object)
    def _on_finished(self, run_id: int, quote: object) -> None:
        run = self._current(run_id)
        if run is not None:
            del self._runs[run.key]
            self.finished.emit(run.key, quote)

    @Slot(int, str)
    def _on_failed(self, run_id: int, message: str) -> None:
        run = self._current(run_id)
        if run is not None:
            del self._runs[run.key]
            self.failed.emit(run.key, message)
