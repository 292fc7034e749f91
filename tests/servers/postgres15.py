"""A private PostgreSQL 15 server (Debian's ``postgresql-15``) on a free loopback port.

``initdb`` in a new temp folder (as the ``postgres`` user when root), ``pg_ctl start`` on a
port nobody holds, trust auth on loopback only, fsync off; ``stop()`` and ``start()`` again
keep the data (a test can take the database away under a running app), ``cleanup()`` stops
it and deletes the folder. The package's own cluster on 5432 is never touched.
"""

from __future__ import annotations

import atexit
import shutil
import uuid
from pathlib import Path
from types import TracebackType

import psycopg
from psycopg import sql

from tests.servers._proc import LOOPBACK, ServerError, free_port, private_dir, run

BIN_DIR = Path("/usr/lib/postgresql/15/bin")


def installed() -> bool:
    return (BIN_DIR / "initdb").is_file() and (BIN_DIR / "pg_ctl").is_file()


class Postgres15:
    """``with Postgres15() as pg: pg.url("postgres")`` — one server, one temp folder."""

    def __init__(self, *, port: int | None = None, max_connections: int = 200) -> None:
        if not installed():
            raise ServerError(
                f"PostgreSQL 15 is not installed ({BIN_DIR} has no initdb): run "
                "`make system-deps` (Debian's postgresql-15)."
            )
        self.host = LOOPBACK
        self.port = port or free_port()
        self.base = private_dir("printdesk-pg15-")
        self.data_dir = self.base / "data"
        self.log_path = self.base / "server.log"
        self._max_connections = max_connections
        self.running = False
        run(
            [
                str(BIN_DIR / "initdb"),
                "-D",
                str(self.data_dir),
                "-U",
                "postgres",
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C.UTF-8",
                "--no-sync",
            ]
        )

    # ------------------------------------------------------------------ life cycle

    def start(self) -> Postgres15:
        options = (
            f"-p {self.port} -k {self.base} -c listen_addresses={self.host} -c fsync=off "
            f"-c synchronous_commit=off -c full_page_writes=off "
            f"-c max_connections={self._max_connections}"
        )
        run(
            [
                str(BIN_DIR / "pg_ctl"),
                "-D",
                str(self.data_dir),
                "-l",
                str(self.log_path),
                "-o",
                options,
                "-w",
                "-t",
                "60",
                "start",
            ],
            timeout_s=90,
        )
        self.running = True
        # A run that ends without tearing down (an error, Ctrl+C) leaves no server behind.
        atexit.register(self.cleanup)
        return self

    def stop(self) -> None:
        """Stop the server (fast: open sessions are cut off); the data stays for `start`."""
        if not self.running:
            return
        run(
            [
                str(BIN_DIR / "pg_ctl"),
                "-D",
                str(self.data_dir),
                "-m",
                "fast",
                "-w",
                "-t",
                "60",
                "stop",
            ],
            timeout_s=90,
        )
        self.running = False

    def cleanup(self) -> None:
        atexit.unregister(self.cleanup)
        try:
            self.stop()
        finally:
            shutil.rmtree(self.base, ignore_errors=True)

    def __enter__(self) -> Postgres15:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.cleanup()

    # ------------------------------------------------------------------ addresses

    def url(
        self, database: str = "postgres", *, user: str = "postgres", driver: str | None = "psycopg"
    ) -> str:
        """A SQLAlchemy URL (``postgresql+psycopg://``), or a libpq one with ``driver=None``."""
        scheme = f"postgresql+{driver}" if driver else "postgresql"
        return f"{scheme}://{user}@{self.host}:{self.port}/{database}"

    def conninfo(self, database: str = "postgres", *, user: str = "postgres") -> str:
        return self.url(database, user=user, driver=None)

    # ------------------------------------------------------------------ databases

    def execute(self, statement: str | sql.Composed, database: str = "postgres") -> None:
        """One statement as the superuser, outside a transaction (CREATE DATABASE, ALTER ROLE)."""
        with psycopg.connect(self.conninfo(database), autocommit=True) as conn:
            conn.execute(statement)

    def create_database(self, name: str | None = None, *, template: str | None = None) -> str:
        name = name or f"t_{uuid.uuid4().hex[:12]}"
        statement = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
        if template:
            statement = sql.SQL("{} TEMPLATE {}").format(statement, sql.Identifier(template))
        self.execute(statement)
        return name

    def drop_database(self, name: str) -> None:
        self.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )

    def server_version(self) -> str:
        with psycopg.connect(self.conninfo(), autocommit=True) as conn:
            row = conn.execute("SHOW server_version").fetchone()
        if row is None:
            raise ServerError("the server did not say its version")
        return str(row[0])
