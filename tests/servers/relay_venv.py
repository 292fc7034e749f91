"""A relay-only install of this checkout, as a cloud host makes it, and the relay run from it.

``pip install '.[relay]'`` into a new venv: the core dependencies only, no PySide6, VTK or
pyvista. The dependencies' wheels are fetched once into a wheelhouse under ``.cache`` (keyed by
``pyproject.toml``), so later builds install offline in seconds; PrintDesk itself is built
from the checkout every time.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path

import httpx

from tests.servers._proc import LOOPBACK, ServerError, free_port, wait_until

ROOT = Path(__file__).resolve().parents[2]
WHEEL_CACHE = ROOT / ".cache" / "wheels"
#: Build requirements of pyproject.toml, so the checkout builds with no index at all.
BUILD_REQUIRES = ("setuptools>=68", "wheel")


def _pip(*args: str, timeout_s: float = 900) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "pip", "--disable-pip-version-check", *args],
        capture_output=True,
        text=True,
        timeout=timeout_s,
        check=False,
    )
    if done.returncode != 0:
        raise ServerError(f"pip {args[0]} failed: {(done.stderr or done.stdout)[-3000:]}")


def wheelhouse(extras: str = "relay") -> Path:
    """Wheels of every dependency of ``printdesk[extras]`` (downloaded on first use)."""
    key = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()[:16]
    house = WHEEL_CACHE / f"{extras.replace(',', '-')}-{key}"
    if house.is_dir():
        return house
    partial = house.with_name(house.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    _pip("wheel", "--quiet", "-w", str(partial), f"{ROOT}[{extras}]", *BUILD_REQUIRES)
    for own in partial.glob("printdesk-*.whl"):
        own.unlink()  # the checkout is built afresh at each install
    partial.rename(house)
    return house


def build_venv(dest: Path, *, extras: str = "relay", compile_bytecode: bool = False) -> float:
    """A new venv at ``dest`` with ``printdesk[extras]`` from this checkout; seconds taken
    (the wheelhouse download, the first time, not counted)."""
    house = wheelhouse(extras)
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(dest)], check=True)
    _pip(
        "--python",
        str(dest / "bin" / "python"),
        "install",
        "--quiet",
        "--no-index",
        "--find-links",
        str(house),
        *([] if compile_bytecode else ["--no-compile"]),
        f"{ROOT}[{extras}]",
    )
    return time.perf_counter() - started


def site_packages_mb(venv: Path) -> float:
    total = 0
    for path in venv.rglob("*"):
        if path.is_file() and not path.is_symlink():
            total += path.stat().st_size
    return total / 1e6


def clean_env(extra: Mapping[str, str], home: Path) -> dict[str, str]:
    """A host's environment: no PYTHONPATH or venv of the test run leaking in."""
    keep = {k: v for k, v in os.environ.items() if k in ("PATH", "LANG", "LC_ALL", "TZ")}
    return {**keep, "HOME": str(home), "PRINTDESK_CONFIG": str(home / "none.toml"), **extra}


class RelayProcess:
    """``printdesk relay serve`` from a venv, on a free loopback port."""

    def __init__(self, venv: Path, env: Mapping[str, str], work_dir: Path) -> None:
        self.port = free_port()
        self.url = f"http://{LOOPBACK}:{self.port}"
        self.log_path = work_dir / "relay.log"
        self._log = self.log_path.open("wb")
        self.started = time.perf_counter()
        self.process = subprocess.Popen(
            [
                str(venv / "bin" / "printdesk"),
                "relay",
                "serve",
                "--host",
                LOOPBACK,
                "--port",
                str(self.port),
            ],
            env=dict(env),
            cwd=work_dir,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    def wait_healthy(self, timeout_s: float = 90) -> float:
        """Seconds from the process's start to its first 200 on /healthz."""

        def healthy() -> bool:
            if self.process.poll() is not None:
                raise ServerError(f"the relay exited: {self.log_path.read_text()[-2000:]}")
            try:
                return httpx.get(f"{self.url}/healthz", timeout=2).status_code == 200
            except httpx.HTTPError:
                return False

        wait_until(healthy, timeout_s=timeout_s, what="the relay answering 200 on /healthz")
        return time.perf_counter() - self.started

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self._log.close()
