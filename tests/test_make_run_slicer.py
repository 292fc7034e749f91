"""`make run` gets the slicer before it starts the app: as root it installs CuraEngine, as
another user it prints the one apt-get line and carries on; the test suite's own install
still stops. The user and the package database are stand-in programs on PATH (`id`,
`dpkg-query`), so nothing is installed."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.cli_runner import ROOT

SCRIPT = ROOT / "scripts" / "setup-system.sh"


def _stand_ins(folder: Path, uid: int) -> dict[str, str]:
    """A PATH where `id -u` says ``uid`` and dpkg knows no installed package."""
    folder.mkdir()
    for name, body in (("id", f"echo {uid}"), ("dpkg-query", "exit 0")):
        program = folder / name
        program.write_text(f"#!/bin/sh\n{body}\n")
        program.chmod(0o755)
    return {"PATH": f"{folder}:/usr/bin:/bin", "HOME": str(folder)}


def _setup(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(SCRIPT), *args], capture_output=True, text=True, env=env, timeout=60
    )


def test_another_user_is_shown_the_apt_get_line_and_not_stopped(tmp_path: Path) -> None:
    done = _setup("--slicer", env=_stand_ins(tmp_path / "bin", 1000))
    assert done.returncode == 0, done.stderr
    lines = [line for line in done.stderr.splitlines() if "apt-get install" in line]
    assert lines == [
        "  sudo apt-get update && sudo apt-get install -y --no-install-recommends cura-engine"
    ]
    assert "estimates" in done.stderr


def test_the_test_suites_install_still_stops_another_user(tmp_path: Path) -> None:
    done = _setup(env=_stand_ins(tmp_path / "bin", 1000))
    assert done.returncode == 1
    assert "cura-engine" in done.stderr and "xvfb" in done.stderr


@pytest.mark.skipif(shutil.which("make") is None, reason="no make")
def test_make_run_gets_the_slicer_then_starts_the_app() -> None:
    done = subprocess.run(
        ["make", "--no-print-directory", "-n", "run"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    steps = done.stdout.splitlines()
    setup = next(i for i, s in enumerate(steps) if "setup-system.sh --slicer" in s)
    cura = next(i for i, s in enumerate(steps) if "cura" in s and "MAKE" not in s and i > setup)
    start = next(i for i, s in enumerate(steps) if s.strip().endswith("/printdesk"))
    assert setup < cura < start
