"""What the server helpers share: free loopback ports, waiting on a condition, running as the
``postgres`` user when root (PostgreSQL and pgbouncer both refuse to run as root)."""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

LOOPBACK = "127.0.0.1"


class ServerError(RuntimeError):
    """A test server could not be started or stopped; the message says what it printed."""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        return int(sock.getsockname()[1])


def wait_until(condition: Callable[[], bool], *, timeout_s: float, what: str) -> None:
    """Check ``condition`` every 20 ms until it holds; ServerError naming ``what`` if it never
    does within ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    pause = threading.Event()
    while not condition():
        if time.monotonic() > deadline:
            raise ServerError(f"{what} did not happen within {timeout_s:g} s")
        pause.wait(0.02)


def port_open(port: int, host: str = LOOPBACK) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def run_as_server_user() -> dict[str, Any]:
    """Popen arguments that drop to ``postgres`` when running as root; none otherwise."""
    if os.geteuid() != 0:
        return {}
    try:
        pwd.getpwnam("postgres")
    except KeyError as exc:
        raise ServerError(
            "Running as root, the test servers need a 'postgres' user: install Debian's "
            "postgresql-15 (make system-deps)."
        ) from exc
    return {"user": "postgres", "group": "postgres"}


def private_dir(prefix: str) -> Path:
    """A new folder under the system temp dir that the server user owns (pytest's own temp
    folders are private to root, so the server could not reach them)."""
    path = Path(tempfile.mkdtemp(prefix=prefix))
    if os.geteuid() == 0:
        shutil.chown(path, "postgres", "postgres")
    return path


def run(args: Sequence[str], *, env: Mapping[str, str] | None = None, timeout_s: float = 60) -> str:
    """Run a server tool as the server user; ServerError with its output when it fails."""
    done = subprocess.run(
        list(args),
        capture_output=True,
        text=True,
        timeout=timeout_s,
        env=dict(env) if env is not None else None,
        cwd="/",
        check=False,
        **run_as_server_user(),
    )
    if done.returncode != 0:
        raise ServerError(
            f"{Path(args[0]).name} failed ({done.returncode}): "
            f"{(done.stderr or done.stdout).strip()[-2000:]}"
        )
    return done.stdout
