"""`printdesk analyze PATH [--json]`: one JSON object, or exit 2 with one line and no traceback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from cli.analyze_commands import analyze_command
from tests.mesh.builders import MODELS, random_bytes

pytestmark = pytest.mark.timeout(60)

KEYS = [
    "ok",
    "faces",
    "bodies",
    "watertight",
    "volume_mm3",
    "extents_mm",
    "units_guess",
    "problems",
]


def make_app() -> typer.Typer:
    app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)
    app.command("analyze")(analyze_command)

    @app.callback()
    def _root() -> None:
        """A stand-in for the `printdesk` app."""

    return app


APP = make_app()


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(APP, ["analyze", *args])
    return result.exit_code, result.stdout, result.stderr


def test_json_for_the_calibration_cube() -> None:
    code, out, err = run(str(MODELS / "20mm-xyz-cube.stl"), "--json")
    assert (code, err) == (0, "")
    data = json.loads(out)
    assert list(data) == KEYS
    assert data["ok"] is True
    assert (data["faces"], data["bodies"], data["watertight"]) == (260, 1, True)
    assert data["extents_mm"] == pytest.approx([20.0, 20.0, 20.0])
    assert data["units_guess"] == "mm"
    assert data["problems"] == []
    assert 7800 < data["volume_mm3"] < 8000


@pytest.mark.parametrize(
    ("name", "units", "codes"),
    [
        ("featuretype.STL", "inch", set()),
        ("plate_holes.STL", "inch", {"too_big_for_every_printer"}),
        ("ADIS16480.STL", "m", {"tiny"}),
        ("teapot.stl", "mm", {"open_shell", "several_bodies"}),
        ("empty.stl", "mm", {"empty"}),
        ("pyramids.3mf", "mm", {"several_bodies", "too_big_for_every_printer"}),
        ("negative_indices.obj", "inch", set()),
    ],
)
def test_json_for_shared_models(name: str, units: str, codes: set[str]) -> None:
    code, out, _ = run(str(MODELS / name), "--json")
    assert code == 0
    data = json.loads(out)
    assert data["units_guess"] == units
    assert {p["code"] for p in data["problems"]} == codes
    assert data["ok"] == (not codes - {"several_bodies", "degenerate_faces"})
    if not data["watertight"]:
        assert data["volume_mm3"] is None


def test_printer_sizes_decide_what_fits() -> None:
    part = str(MODELS / "counterX.3MF")
    assert not json.loads(run(part, "--json")[1])["ok"]
    code, out, _ = run(
        part, "--json", "--printer-size", "100x100x100", "--printer-size", "350x350x300"
    )
    assert code == 0
    assert json.loads(out)["ok"]
    code, out, err = run(part, "--printer-size", "big")
    assert code == 2
    assert err.count("\n") == 1 and "--printer-size" in err


def test_text_output_names_the_problems() -> None:
    code, out, _ = run(str(MODELS / "teapot.stl"))
    assert code == 0
    assert "NOT OK" in out
    assert "open_shell" in out
    code, out, _ = run(str(MODELS / "featuretype.STL"))
    assert "rescale ×25.4" in out


@pytest.fixture(scope="module")
def unreadable_files(tmp_path_factory: pytest.TempPathFactory, zip_bomb: bytes) -> dict[str, Path]:
    tmp_path = tmp_path_factory.mktemp("unreadable")
    files = {
        "empty": tmp_path / "empty.stl",
        "random": tmp_path / "random.stl",
        "truncated": tmp_path / "cut.stl",
        "bomb": tmp_path / "bomb.3mf",
        "huge": tmp_path / "huge.stl",
        "text": tmp_path / "notes.obj",
        "zip": tmp_path / "photos.3mf",
    }
    files["empty"].write_bytes(b"")
    files["random"].write_bytes(random_bytes(300_000))
    files["truncated"].write_bytes((MODELS / "20mm-xyz-cube.stl").read_bytes()[:-100])
    files["bomb"].write_bytes(zip_bomb)
    with files["huge"].open("wb") as fh:
        fh.truncate(250 * 1024 * 1024)
    files["text"].write_bytes(b"Dear shop,\nplease print this.\n")
    files["zip"].write_bytes(b"PK\x03\x04" + bytes(100))
    files["missing"] = tmp_path / "missing.stl"
    files["folder"] = tmp_path
    return files


@pytest.mark.parametrize(
    ("kind", "words"),
    [
        ("empty", "empty"),
        ("random", "not a 3D model"),
        ("truncated", "cut short"),
        ("bomb", "zip bomb"),
        ("huge", "200.0 MB"),
        ("text", "not a 3D model"),
        ("zip", "damaged"),
        ("missing", "does not exist"),
        ("folder", "not a regular file"),
    ],
)
def test_a_file_that_cannot_be_read_exits_2_with_one_line(
    unreadable_files: dict[str, Path], kind: str, words: str
) -> None:
    path = unreadable_files[kind]
    for extra in ([], ["--json"]):
        code, out, err = run(str(path), *extra)
        assert code == 2
        assert out == ""
        assert err.count("\n") == 1, err
        assert err.startswith("printdesk: ")
        assert words in err
        assert "Traceback" not in err


def test_as_a_process_there_is_no_traceback_either(tmp_path: Path, zip_bomb: bytes) -> None:
    script = textwrap.dedent(
        """
        import sys, typer
        from cli.analyze_commands import analyze_command
        app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)
        app.command("analyze")(analyze_command)
        app.callback()(lambda: None)
        app(sys.argv[1:])
        """
    )
    bomb = tmp_path / "bomb.3mf"
    bomb.write_bytes(zip_bomb)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    done = subprocess.run(
        [sys.executable, "-c", script, "analyze", str(bomb), "--json"],
        capture_output=True,
        text=True,
        timeout=50,
        env=env,
        check=False,
    )
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.count("\n") == 1 and "zip bomb" in done.stderr
    ok = subprocess.run(
        [sys.executable, "-c", script, "analyze", str(MODELS / "multibody.stl"), "--json"],
        capture_output=True,
        text=True,
        timeout=50,
        env=env,
        check=False,
    )
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["bodies"] == 2
