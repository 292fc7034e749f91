"""pgbouncer (Debian's package) in front of a test server, transaction mode by default.

Transaction mode is what Supabase's port 6543 pooler and serverless hosts give: each
transaction gets whichever server connection is free, so session state (prepared statements,
LISTEN, session advisory locks, SET) does not survive a transaction. The pool per user and
database is kept small on purpose so that consecutive transactions really do change server
connections. Runs in the foreground as a child process (as ``postgres`` when root).
"""

from __future__ import annotations

import atexit
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType

from tests.servers._proc import (
    LOOPBACK,
    ServerError,
    free_port,
    port_open,
    private_dir,
    run_as_server_user,
    wait_until,
)

PGBOUNCER = shutil.which("pgbouncer") or "/usr/sbin/pgbouncer"


def installed() -> bool:
    return Path(PGBOUNCER).is_file()


class PgBouncer:
    """``with PgBouncer(server_port) as bouncer: bouncer.url("db")``."""

    def __init__(
        self,
        server_port: int,
        *,
        server_host: str = LOOPBACK,
        pool_mode: str = "transaction",
        pool_size: int = 4,
        users: Sequence[str] = ("postgres", "printdesk_relay"),
        port: int | None = None,
    ) -> None:
        if not installed():
            raise ServerError("pgbouncer is not installed: run `make system-deps`.")
        self.host = LOOPBACK
        self.port = port or free_port()
        self.pool_mode = pool_mode
        self.base = private_dir("printdesk-pgbouncer-")
        self.log_path = self.base / "pgbouncer.log"
        self._ini = self.base / "pgbouncer.ini"
        (self.base / "userlist.txt").write_text("".join(f'"{u}" ""\n' for u in users))
        self._ini.write_text(
            "[databases]\n"
            f"* = host={server_host} port={server_port}\n"
            "[pgbouncer]\n"
            f"listen_addr = {self.host}\n"
            f"listen_port = {self.port}\n"
            "unix_socket_dir =\n"
            "auth_type = trust\n"
            f"auth_file = {self.base / 'userlist.txt'}\n"
            f"pool_mode = {pool_mode}\n"
            f"default_pool_size = {pool_size}\n"
            "max_client_conn = 500\n"
            # psycopg sends both at start-up; pgbouncer refuses unknown parameters otherwise.
            "ignore_startup_parameters = extra_float_digits,options\n"
            f"logfile = {self.log_path}\n"
            "admin_users = postgres\n"
        )
        for path in (self._ini, self.base / "userlist.txt"):
            shutil.chown(path, *_owner(self.base))
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> PgBouncer:
        if self._process is not None:
            return self
        self._process = subprocess.Popen(
            [PGBOUNCER, str(self._ini)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            cwd="/",
            **run_as_server_user(),
        )
        atexit.register(self.cleanup)
        try:
            wait_until(self._ready, timeout_s=20, what=f"pgbouncer listening on {self.port}")
        except ServerError:
            self.stop()
            raise
        return self

    def _ready(self) -> bool:
        if self._process is not None and self._process.poll() is not None:
            err = self._process.stderr.read().decode() if self._process.stderr else ""
            log = self.log_path.read_text() if self.log_path.exists() else ""
            raise ServerError(f"pgbouncer exited ({self._process.returncode}): {err}{log}"[-2000:])
        return port_open(self.port)

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        if process.stderr:
            process.stderr.close()

    def cleanup(self) -> None:
        atexit.unregister(self.cleanup)
        try:
            self.stop()
        finally:
            shutil.rmtree(self.base, ignore_errors=True)

    def __enter__(self) -> PgBouncer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.cleanup()

    def url(self, database: str, *, user: str = "postgres", driver: str | None = "psycopg") -> str:
        scheme = f"postgresql+{driver}" if driver else "postgresql"
        return f"{scheme}://{user}@{self.host}:{self.port}/{database}"


def _owner(path: Path) -> tuple[int, int]:
    stat = path.stat()
    return stat.st_uid, stat.st_gid
