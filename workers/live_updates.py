"""Live updates: LISTEN for the notices other counters and the relay send after each commit.

A plain thread with a session connection of its own waits on the socket; each notice becomes
a Qt signal delivered on the GUI thread. A thread is used rather than an async connection on
a qasync loop: it needs no special event loop, and a blocked or broken connection can never
stall the window.

The listener needs a real session (a direct connection or a session pooler): through a
transaction pooler a LISTEN is lost with the transaction. With no such URL, or while the
listener's server cannot be reached, the thread polls the activity log through the app's own
engine instead (`core.live_notices`) and sends the same notices, a few seconds late.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from typing import Any, Final

import psycopg
from PySide6.QtCore import QObject, Signal
from sqlalchemy import Engine
from sqlalchemy.engine import URL
from sqlalchemy.exc import SQLAlchemyError

from core.db.engine import Database, libpq_conninfo
from core.live_notices import POLL_INTERVAL_S, ActivityCursor
from core.services.events import CHANNEL

log = logging.getLogger(__name__)

LISTENING: Final = "listening"
POLLING: Final = "polling"
STOPPED: Final = "stopped"
#: Longest pause between attempts to get the listener's connection back while polling.
MAX_RETRY_S: Final = 30.0


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0].strip() if lines else type(exc).__name__


class LiveUpdates(QObject):
    changed = Signal(dict)
    connected = Signal()
    disconnected = Signal(str)
    #: (mode, why): "listening" or "polling", and the reason a person can read.
    mode_changed = Signal(str, str)

    def __init__(
        self,
        url: URL | str | None,
        *,
        poll_engine: Engine | None = None,
        why_polling: str = "no listener URL is set",
        retry_s: float = 2.0,
        poll_s: float = POLL_INTERVAL_S,
    ) -> None:
        """Listen on ``url`` (a session connection); poll through ``poll_engine`` when there is
        no ``url`` or while it cannot be reached. Without a ``poll_engine`` it only listens."""
        super().__init__()
        if url is None and poll_engine is None:
            raise ValueError("live updates need a URL to listen on or an engine to poll")
        self._conninfo = None if url is None else libpq_conninfo(url)
        self._engine = poll_engine
        self._why_polling = why_polling
        self._retry_s = retry_s
        self._poll_s = poll_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.mode = STOPPED
        self.why = ""

    @classmethod
    def for_database(cls, db: Database, **kwargs: Any) -> LiveUpdates:
        """Listen where the database's plan says (its own URL setting, or the database's
        unless that is a transaction pooler), polling through ``db`` otherwise."""
        plan = db.listen_plan
        return cls(plan.url, poll_engine=db.engine, why_polling=plan.reason, **kwargs)

    def start(self) -> None:
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="printdesk-listen", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        self.mode = STOPPED

    def _set_mode(self, mode: str, why: str) -> None:
        if (mode, why) == (self.mode, self.why):
            return
        self.mode, self.why = mode, why
        log.info("live_updates.%s why=%s", mode, why)
        self.mode_changed.emit(mode, why)

    # ------------------------------------------------------------------ the thread

    def _run(self) -> None:
        cursor: ActivityCursor | None = None
        retry = self._retry_s
        while not self._stop.is_set():
            if self._conninfo is None:
                self._set_mode(POLLING, self._why_polling)
                self._poll(cursor, until=float("inf"))
                return
            try:
                self._listen(cursor)
                cursor, retry = None, self._retry_s
            except psycopg.Error as exc:
                reason = _first_line(exc)
                log.warning("live_updates.disconnected error=%s", reason)
                self.disconnected.emit(reason)
                if self._engine is None:
                    self._stop.wait(retry)
                    continue
                self._set_mode(POLLING, f"the listener's server cannot be reached: {reason}")
                cursor = self._poll(cursor, until=time.monotonic() + retry)
                retry = min(retry * 2, MAX_RETRY_S)

    def _listen(self, cursor: ActivityCursor | None) -> None:
        assert self._conninfo is not None
        with psycopg.connect(self._conninfo, autocommit=True, connect_timeout=10) as conn:
            conn.execute(f"LISTEN {CHANNEL}")
            self._set_mode(LISTENING, "")
            self.connected.emit()
            if cursor is not None:  # what was committed between the last poll and the LISTEN
                self._poll_once(cursor)
            while not self._stop.is_set():
                for notice in conn.notifies(timeout=0.5):
                    self.changed.emit(_payload(notice.payload))

    def _poll(self, cursor: ActivityCursor | None, *, until: float) -> ActivityCursor | None:
        """Poll every ``poll_s`` until ``until`` (monotonic) or stopped; the cursor reached."""
        while not self._stop.is_set() and time.monotonic() < until:
            if cursor is None:
                cursor = self._start_cursor()
            else:
                self._poll_once(cursor)
            self._stop.wait(max(0.0, min(self._poll_s, until - time.monotonic())))
        return cursor

    def _start_cursor(self) -> ActivityCursor | None:
        assert self._engine is not None
        try:
            with self._engine.connect() as conn:
                return ActivityCursor.at_end(conn)
        except SQLAlchemyError as exc:
            log.warning("live_updates.poll_failed error=%s", _first_line(exc))
            return None

    def _poll_once(self, cursor: ActivityCursor) -> None:
        assert self._engine is not None
        try:
            with self._engine.connect() as conn:
                notices = cursor.poll(conn)
        except SQLAlchemyError as exc:
            log.warning("live_updates.poll_failed error=%s", _first_line(exc))
            return
        for notice in notices:
            self.changed.emit(notice)


def _payload(text: str) -> dict[str, Any]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        return {"kind": "unknown", "raw": text}
    return data if isinstance(data, dict) else {"kind": "unknown", "raw": text}
