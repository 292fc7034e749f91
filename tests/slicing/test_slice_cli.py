"""`printdesk slice`: figures as JSON, and refusals as one line on stderr with a non-zero exit."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from cli.slice_commands import slice_command
from core.slicing.locate import CuraInstall

# The CLI looks for the shop database; each test gets an empty data dir of its own.
pytestmark = pytest.mark.usefixtures("data_dir")

app = typer.Typer()
app.command("slice")(slice_command)


@app.callback()
def _root() -> None:
    """The slice command as cli/commands.py registers it."""


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, ["slice", *args])
    return result.exit_code, result.stdout, result.stderr


def test_json_figures_with_a_price(cura: CuraInstall, models: Path) -> None:
    code, out, err = invoke(
        str(models / "20mm-xyz-cube.stl"),
        "--printer",
        "creality_ender3",
        "--material",
        "generic_pla",
        "--layer-height",
        "0.2",
        "--infill",
        "20",
        "--cost-per-kg",
        "30",
        "--resources",
        str(cura.resources),
        "--json",
    )
    assert code == 0, err
    data = json.loads(out)
    for key in (
        "print_time_s",
        "filament_mm3",
        "filament_g",
        "filament_m",
        "price",
        "engine",
        "settings",
    ):
        assert key in data
    assert data["print_time_s"] > 0 and data["filament_g"] > 0
    assert data["engine"].startswith("CuraEngine ")
    assert data["settings"]["infill_sparse_density"] == 20
    assert data["settings"]["infill_line_distance"] == pytest.approx(6.0)
    assert float(data["price"]) >= 35  # the default minimum price


def test_printer_by_name_and_supports(cura: CuraInstall, models: Path) -> None:
    code, out, err = invoke(
        str(models / "20mm-xyz-cube.stl"),
        "--printer",
        "Creality Ender-3",
        "--material",
        "generic_pla",
        "--supports",
        "--resources",
        str(cura.resources),
    )
    assert code == 0, err
    assert out.startswith("Creality Ender-3, PLA:") and "CuraEngine" in out


@pytest.mark.parametrize(
    ("model", "printer", "message"),
    [
        ("counter.unitsmm.STL", "creality_ender3", "The part is 304.8 × 304.4 × 25.8 mm"),
        ("20mm-xyz-cube.stl", "no_such_printer", "Cura has no printer 'no_such_printer'"),
        ("empty.stl", "creality_ender3", "empty.stl holds no triangles"),
        ("missing.stl", "creality_ender3", "missing.stl does not exist"),
    ],
)
def test_refusals_are_one_line(
    cura: CuraInstall, models: Path, model: str, printer: str, message: str
) -> None:
    code, out, err = invoke(
        str(models / model),
        "--printer",
        printer,
        "--material",
        "generic_pla",
        "--resources",
        str(cura.resources),
    )
    assert code != 0 and out == ""
    assert err.count("\n") == 1 and err.startswith("printdesk: ") and message in err
