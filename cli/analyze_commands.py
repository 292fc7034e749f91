"""`printdesk analyze PATH`: check a model file as intake does and report what staff must know.

Register with ``app.command("analyze")(analyze_commands.analyze_command)`` in ``cli/commands.py``.
No database is opened: the printers are the ones given with ``--printer-size`` (default one of
220 × 220 × 250 mm).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import NoReturn

import typer

from core.mesh.analysis import (
    DEFAULT_PRINTERS,
    MM_PER_UNIT,
    BuildVolume,
    MeshReport,
    analyze,
    load_mesh,
)
from core.mesh.intake import IntakeError, check_file
from core.wording import count_of

#: Exit code for a file that cannot be read as a model (refused, damaged, missing).
UNREADABLE = 2

_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*[x×,*]\s*(\d+(?:\.\d+)?)\s*[x×,*]\s*(\d+(?:\.\d+)?)\s*$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")


def _fail(message: str) -> NoReturn:
    """One line on stderr, never a traceback."""
    typer.echo(f"printdesk: {_CONTROL.sub(' ', message).strip()}", err=True)
    raise typer.Exit(UNREADABLE)


def _printers(sizes: list[str] | None) -> tuple[BuildVolume, ...]:
    if not sizes:
        return DEFAULT_PRINTERS
    printers: list[BuildVolume] = []
    for text in sizes:
        match = _SIZE.match(text)
        values = tuple(float(v) for v in match.groups()) if match else ()
        if len(values) != 3 or not all(0 < v <= 100_000 for v in values):
            _fail(f"--printer-size must look like 220x220x250 (millimetres), not {text!r}.")
        printers.append((values[0], values[1], values[2]))
    return tuple(printers)


def _text(name: str, report: MeshReport) -> str:
    head = [
        "ok" if report.ok else "NOT OK",
        count_of(report.faces, "face"),
        count_of(report.bodies, "body").replace("bodys", "bodies"),
        "watertight" if report.watertight else "not watertight",
    ]
    if report.volume_mm3 is not None:
        head.append(f"{report.volume_mm3:,.6g} mm³")
    size = " × ".join(f"{v:.6g}" for v in report.extents_mm)
    units = f"units look like {report.units_guess}"
    if report.file_units != "mm":
        units += f": rescale ×{MM_PER_UNIT[report.file_units]:g} to millimetres"
    elif report.units_guess != "mm":
        units += " (drawn in inches, numbers already in millimetres)"
    lines = [f"{name}: {', '.join(head)}", f"  size {size} mm as given; {units}"]
    lines += [f"  - {p.code}: {p.message}" for p in report.problems]
    return "\n".join(lines)


def analyze_command(
    path: Path = typer.Argument(..., help="The model file: STL, OBJ or 3MF.", show_default=False),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
    printer_size: list[str] | None = typer.Option(
        None,
        "--printer-size",
        metavar="XxYxZ",
        help="A printer's build volume in mm, e.g. 220x220x250; repeat for several printers.",
    ),
) -> None:
    """Check a model: faces, bodies, watertight, volume, size, units, and what stands in the way."""
    printers = _printers(printer_size)
    name = str(path)
    try:
        checked = check_file(path)
        report = analyze(load_mesh(path, checked.fmt), printers=printers)
    except IntakeError as exc:
        _fail(f"{name}: {exc}")
    except MemoryError:
        _fail(f"{name}: the model is too large to analyse on this computer.")
    except Exception as exc:  # a bug must still end in one readable line
        _fail(f"{name}: could not be analysed ({type(exc).__name__}: {exc}).")
    if as_json:
        typer.echo(json.dumps(report.as_json(), ensure_ascii=False, allow_nan=False))
    else:
        typer.echo(_text(name, report))
