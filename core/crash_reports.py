"""Crash reports: what a crash leaves in the user log dir for the next start to offer.

A report is a text file ``{log_dir}/crashes/crash-YYYYMMDDTHHMMSSffffffZ.txt`` with the version,
the platform and the traceback; the next start lists the unseen ones and marks a report seen by
renaming it ``….seen.txt``. A hard crash (a segfault in Qt or VTK) leaves no Python traceback:
faulthandler writes the threads' stacks to ``faults.log`` while the program runs, and the next
start turns a non-empty ``faults.log`` into a report.
"""

from __future__ import annotations

import faulthandler
import logging
import platform
import sys
import threading
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from types import TracebackType
from typing import IO, Final

log = logging.getLogger(__name__)

CRASHES: Final = "crashes"
FAULTS: Final = "faults.log"
_SEEN: Final = ".seen.txt"

# Called with (summary, details) for an uncaught exception; True means a person was shown it
# (a toast in the running app), so no crash report is written.
ExceptionHandler = Callable[[str, str], bool]


@dataclass(frozen=True)
class CrashReport:
    path: Path
    written_at: datetime
    text: str

    @property
    def summary(self) -> str:
        for line in reversed(self.text.strip().splitlines()):
            if line.strip() and not line.startswith(" "):
                return line.strip()
        return "PrintDesk stopped unexpectedly."


def crash_dir(log_dir: Path) -> Path:
    return log_dir / CRASHES


def _version() -> str:
    try:
        return metadata.version("printdesk")
    except metadata.PackageNotFoundError:
        return "unknown"


def format_report(where: str, details: str, *, now: datetime | None = None) -> str:
    when = (now or datetime.now(UTC)).isoformat(timespec="seconds")
    return (
        f"PrintDesk crash report\n"
        f"time: {when}\n"
        f"where: {where}\n"
        f"version: PrintDesk {_version()}, Python {platform.python_version()}\n"
        f"platform: {platform.platform()}\n"
        f"\n{details.rstrip()}\n"
    )


def write_report(log_dir: Path, where: str, details: str, *, now: datetime | None = None) -> Path:
    """Write a report and return its path (the name sorts by time)."""
    moment = now or datetime.now(UTC)
    folder = crash_dir(log_dir)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"crash-{moment:%Y%m%dT%H%M%S%fZ}.txt"
    tmp = path.with_suffix(".tmp")
    tmp.write_text(format_report(where, details, now=moment), encoding="utf-8")
    tmp.replace(path)
    log.error("crash.reported path=%s where=%s", path, where)
    return path


def unseen_reports(log_dir: Path) -> list[CrashReport]:
    """Reports not yet marked seen, newest first."""
    folder = crash_dir(log_dir)
    if not folder.is_dir():
        return []
    reports = []
    for path in sorted(folder.glob("crash-*.txt"), reverse=True):
        if path.name.endswith(_SEEN):
            continue
        try:
            text = path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        written = datetime.fromtimestamp(path.stat().st_mtime, UTC)
        reports.append(CrashReport(path, written, text))
    return reports


def mark_seen(report: CrashReport) -> None:
    """Do not offer this report again (it stays on disk, renamed ``….seen.txt``)."""
    if report.path.exists():
        report.path.replace(report.path.with_name(report.path.stem + _SEEN))


def collect_fault_log(log_dir: Path) -> Path | None:
    """Turn what faulthandler wrote during the last run (if anything) into a report."""
    faults = log_dir / FAULTS
    try:
        text = faults.read_text(encoding="utf-8", errors="replace").strip()
    except OSError:
        return None
    if not text:
        return None
    report = write_report(log_dir, "a fatal error (the program was stopped)", text)
    faults.write_text("")
    return report


class CrashGuard:
    """Installs faulthandler and the exception hooks; `uninstall` puts the old ones back."""

    def __init__(self, log_dir: Path, handler: ExceptionHandler | None = None) -> None:
        self.log_dir = log_dir
        self.handler = handler
        self._faults: IO[str] | None = None
        self._old_excepthook = sys.excepthook
        self._old_threading_hook = threading.excepthook
        self._old_faulthandler = faulthandler.is_enabled()

    def install(self) -> CrashGuard:
        collect_fault_log(self.log_dir)
        try:
            self.log_dir.mkdir(parents=True, exist_ok=True)
            self._faults = (self.log_dir / FAULTS).open("w", encoding="utf-8")
            faulthandler.enable(self._faults, all_threads=True)
        except OSError as exc:
            log.warning("crash.faulthandler_off error=%s", exc)
        sys.excepthook = self._on_exception
        threading.excepthook = self._on_thread_exception
        return self

    def uninstall(self) -> None:
        sys.excepthook = self._old_excepthook
        threading.excepthook = self._old_threading_hook
        if self._faults is not None:
            faulthandler.disable()
            self._faults.close()
            self._faults = None
            if self._old_faulthandler and sys.__stderr__ is not None:
                faulthandler.enable(sys.__stderr__, all_threads=True)

    def _on_exception(
        self,
        exc_type: type[BaseException],
        exc: BaseException,
        tb: TracebackType | None,
    ) -> None:
        self.report("the main thread", exc_type, exc, tb)

    def _on_thread_exception(self, args: threading.ExceptHookArgs) -> None:
        name = args.thread.name if args.thread is not None else "a thread"
        exc = args.exc_value or args.exc_type()
        self.report(f"thread {name}", args.exc_type, exc, args.exc_traceback)

    def report(
        self,
        where: str,
        exc_type: type[BaseException],
        exc: BaseException,
        tb: TracebackType | None,
    ) -> Path | None:
        """Show the exception to a person if the app can, else write a crash report."""
        if issubclass(exc_type, KeyboardInterrupt):
            self._old_excepthook(exc_type, exc, tb)
            return None
        details = "".join(traceback.format_exception(exc_type, exc, tb))
        summary = f"{exc_type.__name__}: {exc}" if str(exc) else exc_type.__name__
        log.error("uncaught.exception where=%s error=%s\n%s", where, summary, details.rstrip())
        try:
            if self.handler is not None and self.handler(summary, details):
                return None
        except Exception:  # the handler itself failed: fall back to the report
            details += "\nWhile showing it:\n" + traceback.format_exc()
        try:
            return write_report(self.log_dir, where, details)
        except OSError:
            sys.stderr.write(details)
            return None
