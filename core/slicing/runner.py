"""Slice one part with CuraEngine: resolve settings, place the part, run the engine, read results.

``slice_part`` is the long-running entry point (``progress`` callback, cancel token, no threads
of its own beyond a timeout timer). ``run_engine`` runs CuraEngine once on an STL that is
already placed, for callers (benchmarks) that want the bare engine with the same settings.
"""

from __future__ import annotations

import collections
import contextlib
import logging
import math
import os
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import trimesh

from core.slicing.cancel import CancelToken
from core.slicing.errors import (
    EmptySliceResult,
    EngineCrashed,
    EngineFailed,
    InvalidChoice,
    MissingEngineDefinition,
    ProfileError,
    SliceCancelled,
    SlicerNotFound,
    SliceTimeout,
)
from core.slicing.gcode import EngineLog, last_time_elapsed, support_share
from core.slicing.locate import CuraInstall
from core.slicing.placement import Placement, export_stl, load_mesh, place_on_bed
from core.slicing.resolver import CuraLibrary, PrintChoices, ResolvedSettings

log = logging.getLogger(__name__)

Progress = Callable[[float], None]

# Share of the progress bar before the engine starts (settings, mesh, placement) and after.
_PREPARED = 0.08
_ENGINE_SHARE = 0.9


def _no_progress(_: float) -> None:
    return None


@dataclass(frozen=True)
class SliceRequest:
    """One part to slice: the model file, the Cura printer definition, the material, choices."""

    model: Path
    printer: str
    material: str
    choices: PrintChoices = field(default_factory=PrintChoices)
    scale: float = 1.0  # model units to mm: 25.4 for a file in inches, 1000 for metres


@dataclass(frozen=True)
class SliceResult:
    """Figures of a real CuraEngine slice, with what was asked of the engine."""

    print_time_s: float
    filament_mm3: float
    filament_g: float
    filament_m: float
    support_mm3: float  # the part of filament_mm3 that is support
    support_g: float
    engine_version: str
    printer_id: str
    printer_name: str
    material: str  # Cura material base file, e.g. generic_pla_175
    material_name: str
    density_g_cm3: float
    filament_diameter_mm: float
    settings_passed: Mapping[str, Mapping[str, str]]
    summary: Mapping[str, Any]
    placement: Placement
    engine_seconds: float  # wall-clock time of the engine run
    attempts: int = 1
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class EngineRun:
    """What one CuraEngine process reported."""

    print_time_s: float
    filament_mm3: float
    support_share: float  # of the filament, from the G-code's feature types
    wall_seconds: float
    log_tail: tuple[str, ...]


def engine_command(
    cura: CuraInstall, resolved: ResolvedSettings, stl: Path, gcode: Path
) -> list[str]:
    """``CuraEngine slice -v -p -j DEF [-s k=v]… -e0 [-s k=v]… -e0 -l model.stl -o out.gcode``."""
    return [
        str(cura.engine),
        "slice",
        "-v",
        "-p",
        "-j",
        str(resolved.definition_path),
        *resolved.engine_args(),
        "-e0",
        "-l",
        str(stl),
        "-o",
        str(gcode),
    ]


def _engine_env(cura: CuraInstall) -> dict[str, str]:
    env = dict(os.environ)
    env["CURA_ENGINE_SEARCH_PATH"] = cura.search_path
    return env


def run_engine(
    cura: CuraInstall,
    resolved: ResolvedSettings,
    stl: Path,
    gcode: Path,
    *,
    progress: Progress = _no_progress,
    cancel: CancelToken | None = None,
    timeout_s: float = 600.0,
) -> EngineRun:
    """Run CuraEngine once; raises typed errors for cancel, timeout, and errors in its log.

    A crash (non-zero exit) raises ``EngineCrashed``; ``slice_part`` retries it once.
    """
    cancel = cancel or CancelToken()
    cancel.raise_if_cancelled()
    command = engine_command(cura, resolved, stl, gcode)
    started = time.monotonic()
    try:
        process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            env=_engine_env(cura),
            text=True,
            encoding="utf-8",
            errors="replace",
            bufsize=1,
        )
    except FileNotFoundError:
        raise SlicerNotFound(f"CuraEngine was not found at {cura.engine}.") from None
    except OSError as exc:
        raise EngineFailed(f"CuraEngine at {cura.engine} cannot be started: {exc}") from None

    timed_out = threading.Event()

    def kill() -> None:
        with contextlib.suppress(OSError):
            process.kill()

    def on_timeout() -> None:
        timed_out.set()
        kill()

    timer = threading.Timer(timeout_s, on_timeout)
    timer.daemon = True
    unregister = cancel.on_cancel(kill)
    timer.start()
    engine_log = EngineLog()
    tail: collections.deque[str] = collections.deque(maxlen=30)
    last_reported = -1.0
    try:
        assert process.stdout is not None
        for line in process.stdout:
            tail.append(line.rstrip("\n"))
            reported = engine_log.feed(line)
            if reported is not None and reported - last_reported >= 0.005:
                last_reported = reported
                progress(reported)
        returncode = process.wait()
    finally:
        timer.cancel()
        unregister()
        if process.poll() is None:
            kill()
            process.wait()
        if process.stdout is not None:
            process.stdout.close()
    wall = time.monotonic() - started

    if cancel.cancelled:
        raise SliceCancelled("The slice was cancelled.")
    if timed_out.is_set():
        raise SliceTimeout(f"CuraEngine took more than {timeout_s:g} s and was stopped.")
    if engine_log.missing_definitions:
        names = ", ".join(sorted(set(engine_log.missing_definitions)))
        raise MissingEngineDefinition(
            f"CuraEngine could not find the definition {names} in {cura.search_path}."
        )
    if returncode != 0:
        detail = engine_log.errors[-1] if engine_log.errors else (tail[-1] if tail else "")
        raise EngineCrashed(
            f"CuraEngine stopped with exit code {returncode}" + (f": {detail}" if detail else ".")
        )
    time_elapsed = last_time_elapsed(gcode)
    print_time = time_elapsed if time_elapsed else engine_log.print_time_s
    filament = engine_log.total_filament_mm3
    if print_time is None or filament is None:
        detail = (
            engine_log.errors[-1] if engine_log.errors else "no print time or filament in its log"
        )
        raise EngineFailed(f"CuraEngine gave no result: {detail}.")
    if print_time <= 0 or filament <= 0:
        raise EmptySliceResult(
            "CuraEngine sliced nothing (print time "
            f"{print_time:g} s, filament {filament:g} mm³): the part may be off the bed or "
            "too thin to print."
        )
    share = support_share(gcode) if resolved.value("support_enable", None) else 0.0
    return EngineRun(
        print_time_s=float(print_time),
        filament_mm3=float(filament),
        support_share=share,
        wall_seconds=wall,
        log_tail=tuple(tail),
    )


def slice_part(
    request: SliceRequest,
    *,
    cura: CuraInstall,
    library: CuraLibrary | None = None,
    progress: Progress = _no_progress,
    cancel: CancelToken | None = None,
    timeout_s: float = 600.0,
    keep_gcode: Path | None = None,
) -> SliceResult:
    """Slice ``request.model`` with settings resolved as Cura would; figures from the engine."""
    cancel = cancel or CancelToken()
    cancel.raise_if_cancelled()
    progress(0.0)
    mesh = load_mesh(request.model)  # an unreadable file is refused before anything else
    if request.scale != 1.0:
        if not math.isfinite(request.scale) or request.scale <= 0:
            raise InvalidChoice(f"A model scale of {request.scale} cannot be used.")
        mesh = trimesh.Trimesh(vertices=mesh.vertices * request.scale, faces=mesh.faces)
    progress(0.02)
    cancel.raise_if_cancelled()
    library = library or CuraLibrary(cura.resources)
    resolved = library.resolve(request.printer, request.material, request.choices)
    progress(0.04)
    cancel.raise_if_cancelled()
    placed, placement = place_on_bed(
        mesh, resolved.global_values, resolved.extruder_values[0], resolved.printer_name
    )
    density = resolved.material.density
    if density is None or density <= 0:
        raise ProfileError(f"Cura's profile of {resolved.material.label} gives no density.")
    diameter_value = resolved.value("material_diameter")
    try:
        diameter = float(diameter_value)
    except (TypeError, ValueError):
        diameter = resolved.material.diameter or 0.0
    if diameter <= 0:
        raise ProfileError(f"No filament diameter for {resolved.material.label}.")
    progress(0.06)
    cancel.raise_if_cancelled()

    highest = [_PREPARED]

    def engine_progress(fraction: float) -> None:
        # A retried run starts again from 0: the bar never goes back.
        value = _PREPARED + _ENGINE_SHARE * fraction
        if value > highest[0]:
            highest[0] = value
            progress(value)

    with tempfile.TemporaryDirectory(prefix="printdesk-slice-") as folder:
        stl = Path(folder) / "part.stl"
        gcode = keep_gcode or Path(folder) / "part.gcode"
        export_stl(placed, stl)
        progress(_PREPARED)
        attempts = 0
        while True:
            attempts += 1
            try:
                run = run_engine(
                    cura,
                    resolved,
                    stl,
                    gcode,
                    progress=engine_progress,
                    cancel=cancel,
                    timeout_s=timeout_s,
                )
                break
            except EngineCrashed as crash:
                if attempts >= 2:
                    raise EngineCrashed(f"{crash} (tried twice)") from None
                log.warning("slicing.engine_crashed attempt=%d detail=%s", attempts, crash)
    filament_g = run.filament_mm3 / 1000.0 * density
    filament_m = run.filament_mm3 / (math.pi * (diameter / 2.0) ** 2) / 1000.0
    progress(1.0)
    return SliceResult(
        print_time_s=run.print_time_s,
        filament_mm3=run.filament_mm3,
        filament_g=filament_g,
        filament_m=filament_m,
        support_mm3=run.filament_mm3 * run.support_share,
        support_g=filament_g * run.support_share,
        engine_version=cura.engine_version,
        printer_id=resolved.printer_id,
        printer_name=resolved.printer_name,
        material=resolved.material.base_file,
        material_name=resolved.material.label,
        density_g_cm3=density,
        filament_diameter_mm=diameter,
        settings_passed=resolved.settings_passed(),
        summary=resolved.summary(),
        placement=placement,
        engine_seconds=run.wall_seconds,
        attempts=attempts,
        warnings=resolved.warnings,
    )
