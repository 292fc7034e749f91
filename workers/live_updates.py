"""Live updates: LISTEN for the notices other counters and the relay send after each commit.

A plain thread with its own psycopg connection waits on the socket; each notice becomes a
Qt signal delivered on the GUI thread. A thread is used rather than an async connection on
a qasync loop: it needs no special event loop, and a blocked or broken connection can never
stall the window.
"""

from __future__ import annotations

import json
import logging
import threading
from typing import Any

import psycopg
from PySide6.QtCore import QObject, Signal
from sqlalchemy.engine import URL

from core.services.events import CHANNEL

log = logging.getLogger(__name__)


def libpq_conninfo(url: URL) -> str:
    """A libpq URI for psycopg from a SQLAlchemy URL (drops the +driver part)."""
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


class LiveUpdates(QObject):
    changed = Signal(dict)
    connected = Signal()
    disconnected = Signal(str)

    def __init__(self, url: URL, *, retry_s: float = 2.0) -> None:
        super().__init__()
        self._conninfo = libpq_conninfo(url)
        self._retry_s = retry_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is not None:
            return
        self._thread = threading.Thread(target=self._run, name="printdesk-listen", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                with psycopg.connect(self._conninfo, autocommit=True) as conn:
                    conn.execute(f"LISTEN {CHANNEL}")
                    self.connected.emit()
                    while not self._stop.is_set():
                        for notice in conn.notifies(timeout=0.5):
                            self.changed.emit(_payload(notice.payload))
            except psycopg.Error as exc:
                log.warning("live_updates.disconnected error=%s", exc)
                self.disconnected.emit(str(exc).strip().splitlines()[0] if str(exc) else "")
                self._stop.wait(self._retry_s)


def _payload(text: str) -> dict[str, Any]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        return {"kind": "unknown", "raw": text}
    return data if isinstance(data, dict) else {"kind": "unknown", "raw": text}
