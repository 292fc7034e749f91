"""The layers hold at run time too: loading every module of core or relay loads no Qt.

import-linter (`make lint`) checks the import statements; this checks what a fresh interpreter
actually loads, which also catches an import hidden behind a function or a plugin.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

_PROBE = """
import importlib, json, pkgutil, sys
package = importlib.import_module(sys.argv[1])
for info in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
    importlib.import_module(info.name)
print(json.dumps(sorted(sys.modules)))
"""


def _modules_loaded_by(package: str) -> set[str]:
    result = subprocess.run(
        [sys.executable, "-c", _PROBE, package],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    loaded: list[str] = json.loads(result.stdout.strip().splitlines()[-1])
    return set(loaded)


@pytest.mark.parametrize(
    ("package", "forbidden"),
    [
        ("core", ("PySide6", "shiboken6", "qasync", "workers", "desktop", "relay", "cli")),
        ("relay", ("PySide6", "shiboken6", "qasync", "workers", "desktop")),
    ],
)
def test_package_loads_nothing_above_it(package: str, forbidden: tuple[str, ...]) -> None:
    loaded = _modules_loaded_by(package)
    leaked = sorted(m for m in loaded if m.split(".")[0] in forbidden)
    assert not leaked, f"importing {package} loaded {leaked}"


def test_the_command_line_loads_no_gui_until_a_gui_command_runs() -> None:
    """`printdesk relay serve` and the shop commands run from `printdesk[relay]`, which has
    no Qt, VTK or pyvista: building the CLI must not load them (the desktop app and
    `printdesk screenshot` import them when they run)."""
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import json, sys, cli.main; print(json.dumps(sorted(sys.modules)))",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    loaded = json.loads(result.stdout.strip().splitlines()[-1])
    gui = ("PySide6", "shiboken6", "qasync", "vtk", "vtkmodules", "pyvista", "pyvistaqt", "qtpy")
    leaked = sorted(m for m in loaded if m.split(".")[0] in gui or m.startswith("desktop"))
    assert not leaked, f"importing cli.main loaded {leaked[:10]}"
