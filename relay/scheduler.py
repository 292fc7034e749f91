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

# pg_try_advisory_xact_lock key shared by every relay instance: "PDMAINT" as a number.
MAINTENANCE_LOCK_KEY = 0x50444D41494E54

log = logging.getLogger(LOGGER_NAME)


def run_if_leader(database: Database, job: Callable[[], object]) -> bool:
    """Run ``job`` if no other instance is running it; False when another one holds the lock.

    The lock is a transaction-level advisory lock, held by a transaction kept open on one
    pooled connection while ``job`` works on connections of its own, and released when that
    transaction ends (a closed connection ends it too). Behind a transaction-mode pooler a
    session-level lock would stay on whichever server connection took it, so it is never used.
    """
    with database.engine.connect() as conn, conn.begin():
        got = bool(
            conn.scalar(
                text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": MAINTENANCE_LOCK_KEY}
            )
        )
        if got:
            job()
        return got


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
