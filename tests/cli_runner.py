"""Run the real `printdesk` command in a subprocess against a test database."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Result:
    code: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        return json.loads(self.stdout)


def printdesk(
    *args: str, db_url: str, data_dir: Path, stdin: str | None = None, timeout: float = 120
) -> Result:
    env = {
        **os.environ,
        "DATABASE_URL": db_url,
        "PRINTDESK_DATA_DIR": str(data_dir),
        "PRINTDESK_CONFIG": str(data_dir / "none.toml"),
    }
    proc = subprocess.run(
        [sys.executable, "-m", "cli", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=timeout,
        check=False,
    )
    return Result(proc.returncode, proc.stdout, proc.stderr)
