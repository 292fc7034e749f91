"""Wait for work without freezing: the work runs on a thread of its own while the GUI thread
keeps its event loop turning (a window stays drawn and answers), then its result, or the
exception it raised, comes back to the caller as if the call had been made here.

For the few steps that must finish before anything else can be shown (opening the database
at start-up); everything after that uses the task runner and signals."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, TypeVar

from PySide6.QtCore import QEventLoop, QObject, Qt, Signal

T = TypeVar("T")


class _Finished(QObject):
    finished = Signal()


def wait_in_background(work: Callable[[], T], *, name: str = "printdesk-wait") -> T:
    """``work()`` on another thread; the GUI thread runs a local event loop until it ends."""
    outcome: list[tuple[bool, Any]] = []
    finished = _Finished()
    loop = QEventLoop()
    # Queued: the quit is delivered by this thread's loop, so it cannot arrive before exec().
    finished.finished.connect(loop.quit, Qt.ConnectionType.QueuedConnection)

    def run() -> None:
        try:
            outcome.append((True, work()))
        except BaseException as exc:  # carried back to the caller, raised there
            outcome.append((False, exc))
        finally:
            finished.finished.emit()

    thread = threading.Thread(target=run, name=name, daemon=True)
    thread.start()
    loop.exec()
    thread.join()
    done, value = outcome[0]
    if not done:
        raise value
    result: T = value
    return result
