"""The daily backup of this counter: checked on a timer, run on the task runner, reported."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from pydantic import ValidationError
from PySide6.QtCore import QObject, QTimer, Signal

from core.backup import BackupRecord, backup_due, run_backup
from core.config import AppConfig
from desktop.viewmodels.notifier import Notifier
from workers.tasks import CancelToken, Task, TaskRunner

CHECK_EVERY_MS = 15 * 60 * 1000
FIRST_CHECK_MS = 60 * 1000  # after start-up, not during it


def _one_line(exc: ValueError) -> str:
    if isinstance(exc, ValidationError) and exc.errors():
        first = exc.errors()[0]
        return f"{'.'.join(str(p) for p in first['loc'])}: {first['msg']}."
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


class BackupSchedule(QObject):
    """Runs `core.backup.run_backup` when `backup_due` says so (daily backups turned on and
    none succeeded in the last 24 hours); every outcome reaches the notifier.

    ``config`` is called on every check, so it should read the settings anew (``AppConfig``
    itself does): Settings → Backups writes the config file while the app runs."""

    finished = Signal(object)  # BackupRecord

    def __init__(
        self,
        runner: TaskRunner,
        notifier: Notifier,
        config: Callable[[], AppConfig],
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._runner = runner
        self._notifier = notifier
        self._config = config
        self._clock = clock
        self._task: Task | None = None
        self._config_problem = ""  # told once, not on every check
        self._timer = QTimer(self)
        self._timer.setInterval(CHECK_EVERY_MS)
        self._timer.timeout.connect(self.check)

    def start(self, first_check_ms: int = FIRST_CHECK_MS) -> None:
        self._timer.start()
        QTimer.singleShot(first_check_ms, self, self.check)

    def stop(self) -> None:
        self._timer.stop()

    @property
    def running(self) -> bool:
        return self._task is not None

    def check(self) -> Task | None:
        """Start a backup if one is due; the task, or None when nothing was started."""
        if self._task is not None:
            return None
        try:
            config = self._config()
        except ValueError as exc:  # a config file edited by hand into something unreadable
            message = f"Daily backups cannot read the settings: {_one_line(exc)}"
            if message != self._config_problem:
                self._config_problem = message
                self._notifier.error(message, str(exc))
            return None
        self._config_problem = ""
        if not backup_due(config, now=self._clock()):
            return None

        def work(_progress: Callable[[float], None], _cancel: CancelToken) -> BackupRecord:
            return run_backup(config, now=self._clock)

        task = Task(work)
        task.signals.finished.connect(self._done)
        task.signals.failed.connect(self._failed)
        task.signals.cancelled.connect(self._forget)
        self._task = task
        return self._runner.start(task)

    def _done(self, record: BackupRecord) -> None:
        self._task = None
        if record.ok:
            self._notifier.info(f"Daily backup done. {record.message}")
        else:
            self._notifier.error(f"The daily backup failed: {record.message}")
        self.finished.emit(record)

    def _failed(self, message: str, details: str) -> None:
        self._task = None
        self._notifier.error(f"The daily backup failed: {message}", details)

    def _forget(self) -> None:
        self._task = None
