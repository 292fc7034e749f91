"""One place where code below the views reports to the person at the counter."""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import TypeVar

from PySide6.QtCore import SIGNAL, QObject, Signal

from core.errors import ServiceError
from core.money import MoneyError
from desktop.viewmodels.connection import is_disconnect

log = logging.getLogger(__name__)
T = TypeVar("T")


class Level(StrEnum):
    INFO = "info"
    WARNING = "warning"
    ERROR = "error"


@dataclass(frozen=True)
class Notice:
    level: Level
    text: str
    details: str = ""


class Notifier(QObject):
    posted = Signal(object)  # Notice
    # A call failed because the database went away: the window's banner says so, not a toast.
    disconnected = Signal(object)  # the exception

    def info(self, text: str) -> None:
        self.posted.emit(Notice(Level.INFO, text))

    def warning(self, text: str, details: str = "") -> None:
        self.posted.emit(Notice(Level.WARNING, text, details))

    def error(self, text: str, details: str = "") -> None:
        self.posted.emit(Notice(Level.ERROR, text, details))

    def attempt(self, action: Callable[[], T]) -> T | None:
        """Run a service call; a refusal becomes a message, anything else an error with details."""
        try:
            return action()
        except (ServiceError, MoneyError) as exc:
            self.warning(str(exc))
        except Exception as exc:
            if is_disconnect(exc) and self.receivers(SIGNAL("disconnected(PyObject)")) > 0:
                self.disconnected.emit(exc)
                return None
            log.exception("action.failed")
            self.error(f"Something went wrong: {exc}", traceback.format_exc())
        return None
