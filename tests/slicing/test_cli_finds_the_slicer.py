"""`printdesk slice` in a new data folder, with no PRINTDESK_ variable naming the slicer: it
slices with the engine on PATH and the definitions `make` unpacked, and follows (or refuses,
in one line) the choice made in Settings → Slicer."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import trimesh

from core.slicing.locate import CHECKOUT, UNPACKED_RESOURCES, is_resources_folder
from tests.cli_runner import ROOT

UNPACKED = CHECKOUT / ".cache" / "cura" / UNPACKED_RESOURCES

pytestmark = pytest.mark.skipif(
    shutil.which("CuraEngine") is None or not is_resources_folder(UNPACKED),
    reason="needs CuraEngine on PATH and the definitions `make cura` unpacks",
)


def _slice(tmp_path: Path, config: str = "") -> subprocess.CompletedProcess[str]:
    cube = tmp_path / "cube.stl"
    trimesh.creation.box(extents=(20.0, 20.0, 20.0)).export(cube)
    config_file = tmp_path / "printdesk.toml"
    config_file.write_text(config)
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DATABASE_URL", "PRINTDESK_CURAENGINE", "PRINTDESK_CURA_RESOURCES")
    }
    env |= {"PRINTDESK_DATA_DIR": str(tmp_path / "new"), "PRINTDESK_CONFIG": str(config_file)}
    args = ["slice", str(cube), "--printer", "creality_ender3", "--material", "generic_pla"]
    return subprocess.run(
        [sys.executable, "-m", "cli", *args, "--offline", "--json"],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=180,
        check=False,
    )


def test_slices_with_what_make_installed_and_unpacked(tmp_path: Path) -> None:
    done = _slice(tmp_path)
    assert done.returncode == 0, done.stderr
    figures = json.loads(done.stdout)
    assert figures["engine"].startswith("CuraEngine ") and figures["filament_g"] > 1


def test_a_wrong_choice_in_settings_is_refused_in_one_line(tmp_path: Path) -> None:
    done = _slice(tmp_path, f'curaengine = "{tmp_path / "gone"}"\n')
    assert done.returncode != 0 and done.stdout == ""
    assert done.stderr.count("\n") == 1
    assert f"CuraEngine was not found at {tmp_path / 'gone'}" in done.stderr
    assert "chosen in Settings → Slicer" in done.stderr
