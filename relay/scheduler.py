"""Runs the maintenance on a schedule, on one relay instance at a time (advisory lock)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

import anyio.to_thread
from sqlalchemy import text

from core.db.engine import Database
from relay.logs import LOGGER_NAME, log_event

# pg_try_advisory_lock key shared by every relay instance: "PDMAINT" as a number.
MAINTENANCE_LOCK_KEY = 0x50444D41494E54

log = logging.getLogger(LOGGER_NAME)


def run_if_leader(database: Database, job: Callable[[], object]) -> bool:
    """Run ``job`` if no other instance is running it; False when another one holds the lock.

    The lock is a session-level advisory lock on one pooled connection, held while ``job``
    works on connections of its own, and released on that connection afterwards (or by
    closing the connection, which PostgreSQL also treats as a release).
    """
    with database.engine.connect() as conn:
        got = bool(
            conn.scalar(text("SELECT pg_try_advisory_lock(:key)"), {"key": MAINTENANCE_LOCK_KEY})
        )
        conn.commit()  # ends the statement's transaction; a session-level lock outlives it
        if not got:
            return False
        try:
            job()
        finally:
            try:
                conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": MAINTENANCE_LOCK_KEY})
                conn.commit()
            except Exception:
                conn.invalidate()  # the connection closes, and the lock goes with it
                raise
        return True


async def maintenance_loop(
    database: Database, job: Callable[[], object], *, interval_s: float
) -> None:
    """Try the maintenance now and then every ``interval_s``, until cancelled."""
    while True:
        started = time.perf_counter()
        try:
            ran = await anyio.to_thread.run_sync(run_if_leader, database, job)
        except Exception as exc:
            log_event(
                log,
                logging.ERROR,
                "maintenance.failed",
                error=f"{type(exc).__name__}: {exc}",
                exc_info=True,
            )
        else:
            log_event(
                log,
                logging.INFO,
                "maintenance.ran" if ran else "maintenance.skipped",
                ms=round((time.perf_counter() - started) * 1000, 1),
                **({} if ran else {"reason": "another relay instance holds the lock"}),
            )
        await asyncio.sleep(interval_s)
