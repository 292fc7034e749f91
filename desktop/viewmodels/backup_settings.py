"""Settings → Backups: this counter's backup folder and daily switch (kept in the config file),
the last backup, and "Back up now" on the task runner."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from core.backup import BackupRecord, last_backup, run_backup
from core.config import ConfigError, write_config_file
from desktop.viewmodels.context import AppContext
from workers.tasks import CancelToken, Task

FOLDER_ENV = "PRINTDESK_BACKUP_DIR"
DAILY_ENV = "PRINTDESK_BACKUP_DAILY"


def describe_last(record: BackupRecord | None) -> str:
    """The last-backup line as a person reads it."""
    if record is None:
        return "No backup has run on this counter yet."
    when = record.finished_at.astimezone().strftime("%d %b %Y %H:%M")
    if not record.ok:
        return f"The last backup, on {when}, failed: {record.message}"
    where = f" to {record.path}" if record.path else ""
    return f"Last backup {when}{where}."


def _check_folder(folder: Path) -> list[Path]:
    """Make ``folder`` if it is missing and prove a file can be written in it: the folders
    made (deepest first). On failure a ConfigError for a person, with nothing left made."""
    missing = [p for p in (folder, *folder.parents) if not p.exists()]
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".printdesk-probe-"):
            pass
    except OSError as exc:
        _remove(missing)
        raise ConfigError(f"Backups cannot be written to {folder}: {exc.strerror or exc}.") from exc
    return missing


def _remove(made: list[Path]) -> None:
    for folder in made:
        try:
            folder.rmdir()
        except OSError:
            break


class BackupSettingsViewModel(QObject):
    changed = Signal()
    saved = Signal()
    finished = Signal(object)  # BackupRecord of "Back up now"

    def __init__(self, ctx: AppContext, *, environ: Mapping[str, str] | None = None) -> None:
        super().__init__()
        self._ctx = ctx
        env = {k.upper() for k in (os.environ if environ is None else environ)}
        self.folder_from_env = FOLDER_ENV in env
        self.daily_from_env = DAILY_ENV in env
        config = ctx.config()
        self.config_file = config.config_file
        self._saved_folder = str(config.backup_dir) if config.backup_dir else ""
        self._saved_daily = config.backup_daily
        self._folder = self._saved_folder
        self._daily = self._saved_daily
        self._error = ""
        self._last = last_backup(config)
        self._task: Task | None = None
        self._target: Path | None = None  # where the running backup writes

    # -- state
    @property
    def folder(self) -> str:
        return self._folder

    @property
    def daily(self) -> bool:
        return self._daily

    @property
    def dirty(self) -> bool:
        return (self._folder.strip(), self._daily) != (self._saved_folder, self._saved_daily)

    @property
    def can_save(self) -> bool:
        return self.dirty and not (self.folder_from_env and self.daily_from_env)

    @property
    def error(self) -> str:
        return self._error

    @property
    def busy(self) -> bool:
        return self._task is not None

    @property
    def last_backup(self) -> BackupRecord | None:
        return self._last

    @property
    def last_backup_text(self) -> str:
        if self.busy:
            return f"Backing up to {self._target}…"
        return describe_last(self._last)

    @property
    def env_note(self) -> str:
        """Which values this computer's environment sets (the file cannot change those)."""
        overridden = [
            (what, name)
            for what, name, on in (
                ("folder", FOLDER_ENV, self.folder_from_env),
                ("daily switch", DAILY_ENV, self.daily_from_env),
            )
            if on
        ]
        if not overridden:
            return ""
        fields = [what for what, _ in overridden]
        names = [name for _, name in overridden]
        verb = "is" if len(fields) == 1 else "are"
        return (
            f"On this computer the {' and the '.join(fields)} {verb} set in the environment "
            f"({', '.join(names)}), which wins over the config file: change it there."
        )

    # -- commands
    def set_folder(self, folder: str) -> None:
        if folder != self._folder and not self.folder_from_env:
            self._folder = folder
            self._error = ""
            self.changed.emit()

    def set_daily(self, daily: bool) -> None:
        if daily != self._daily and not self.daily_from_env:
            self._daily = daily
            self._error = ""
            self.changed.emit()

    def refresh(self) -> None:
        """Read the last backup again (the daily schedule may have run one)."""
        if not self.busy:
            self._last = last_backup(self._ctx.config())
            self.changed.emit()

    def save(self) -> bool:
        """Write the folder and the daily switch to the config file; False with ``error`` set
        (and nothing written) when they cannot be kept."""
        made: list[Path] = []
        try:
            target, made = self._folder_path(self._folder.strip(), needed=self._daily)
            values: dict[str, object] = {}
            if not self.folder_from_env:
                values["backup_dir"] = str(target) if target else None
            if not self.daily_from_env:
                values["backup_daily"] = self._daily
            write_config_file(self.config_file, values)
        except ConfigError as exc:
            return self._fail(str(exc), made)
        except ValueError as exc:  # the file is there but is not TOML
            return self._fail(f"The config file {self.config_file} cannot be read: {exc}", made)
        except OSError as exc:
            return self._fail(
                f"The settings cannot be written to {self.config_file}: {exc.strerror or exc}.",
                made,
            )
        self._folder = self._saved_folder = str(target) if target else ""
        self._saved_daily = self._daily
        self._error = ""
        self.changed.emit()
        self.saved.emit()
        if self._daily and target:
            self._ctx.notifier.info(f"Backups saved: every day to {target}.")
        else:
            self._ctx.notifier.info("Backups saved: daily backups are off.")
        return True

    def back_up_now(self) -> Task | None:
        """Back up to the folder shown; the outcome reaches the notifier and ``finished``."""
        if self.busy:
            return None
        try:
            target, _ = self._folder_path(self._folder.strip(), needed=True)
        except ConfigError as exc:
            self._fail(str(exc))
            return None
        assert target is not None
        config = self._ctx.config()

        def work(_progress: Callable[[float], None], _cancel: CancelToken) -> BackupRecord:
            return run_backup(config, target)

        task = Task(work, describe=lambda exc: f"The backup failed: {exc}")
        task.signals.finished.connect(self._done)
        task.signals.failed.connect(self._failed)
        task.signals.cancelled.connect(self._cancelled)
        self._task = task
        self._target = target
        self._error = ""
        self.changed.emit()
        return self._ctx.runner.start(task)

    # -- helpers and results
    def _folder_path(self, folder: str, *, needed: bool) -> tuple[Path | None, list[Path]]:
        """The folder as a path, checked writable, and the folders made to get there."""
        if not folder:
            if needed:
                raise ConfigError("Choose a backup folder first.")
            return None, []
        path = Path(folder).expanduser()
        if not path.is_absolute():
            example = Path.home() / "PrintDesk backups"
            raise ConfigError(f"Give the backup folder as a full path, e.g. {example}.")
        return path, _check_folder(path)

    def _fail(self, message: str, made: list[Path] | None = None) -> bool:
        _remove(made or [])
        self._error = message
        self.changed.emit()
        return False

    def _done(self, record: BackupRecord) -> None:
        self._task = None
        self._last = record
        if record.ok:
            self._ctx.notifier.info(record.message)
        else:
            self._ctx.notifier.error(f"The backup failed: {record.message}")
        self.changed.emit()
        self.finished.emit(record)

    def _failed(self, message: str, details: str) -> None:
        self._task = None
        self._ctx.notifier.error(message, details)
        self.refresh()
        self.finished.emit(None)

    def _cancelled(self) -> None:
        self._task = None
        self.changed.emit()
