"""Slicing with the real CuraEngine: placement, figures from the log, refusals, cancel, retry."""

from __future__ import annotations

import os
import stat
import sys
import threading
import time
from pathlib import Path

import pytest
import trimesh

from core.slicing.cancel import CancelToken
from core.slicing.errors import (
    EmptySliceResult,
    EngineCrashed,
    MissingEngineDefinition,
    PartTooBig,
    SliceCancelled,
    SlicerNotFound,
    SliceTimeout,
    UnreadableModel,
)
from core.slicing.locate import CuraInstall
from core.slicing.placement import export_stl, load_mesh
from core.slicing.resolver import CuraLibrary, PrintChoices
from core.slicing.runner import SliceRequest, SliceResult, run_engine, slice_part

PLA_DENSITY = 1.24  # g/cm³, generic_pla_175.xml.fdm_material
CUBE_MM3 = 20.0**3


def cube(
    cura: CuraInstall, library: CuraLibrary, models: Path, choices: PrintChoices, **kw: object
) -> SliceResult:
    request = SliceRequest(models / "20mm-xyz-cube.stl", "creality_ender3", "generic_pla", choices)
    return slice_part(request, cura=cura, library=library, **kw)  # type: ignore[arg-type]


def engine_children() -> list[int]:
    """CuraEngine processes started by this test process (Linux /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            comm = (entry / "comm").read_text().strip()
        except OSError:
            continue
        if int(fields[1]) == os.getpid() and comm.startswith("CuraEngine"):
            found.append(int(entry.name))
    return found


def test_cube_is_placed_and_sliced_with_plausible_figures(
    cura: CuraInstall, library: CuraLibrary, models: Path
) -> None:
    steps: list[float] = []
    sparse = cube(cura, library, models, PrintChoices(infill_percent=20), progress=steps.append)
    dense = cube(cura, library, models, PrintChoices(infill_percent=80))

    # The file's cube sits at z = -31…-11: placed, its lowest point is on the bed.
    assert sparse.placement.offset[2] == pytest.approx(31.0, abs=0.05)
    assert sparse.placement.size == pytest.approx((20.0, 20.0, 20.0), abs=0.01)
    assert steps[0] == 0.0 and steps[-1] == 1.0 and steps == sorted(steps) and len(steps) > 5

    for result in (sparse, dense):
        assert result.print_time_s > 0 and result.filament_mm3 > 0
        assert result.engine_version == "4.13.0" or result.engine_version == cura.engine_version
        assert result.filament_g == pytest.approx(result.filament_mm3 / 1000 * PLA_DENSITY)
        assert result.filament_m == pytest.approx(
            result.filament_mm3 / (3.141592653589793 * (1.75 / 2) ** 2) / 1000
        )
    # A 20 mm cube is 8000 mm³; with walls, skins and 20 % infill it takes well under the
    # solid volume, with 80 % infill close to it.
    solid_g = CUBE_MM3 / 1000 * PLA_DENSITY
    assert 0.25 * solid_g < sparse.filament_g < 0.6 * solid_g
    assert 0.7 * solid_g < dense.filament_g < 1.05 * solid_g
    assert dense.filament_mm3 > 1.5 * sparse.filament_mm3
    assert dense.print_time_s > sparse.print_time_s
    assert dense.settings_passed["extruder 0"]["infill_sparse_density"] == "80.0"


def test_thinner_layers_take_longer(cura: CuraInstall, library: CuraLibrary, models: Path) -> None:
    fine = cube(cura, library, models, PrintChoices(layer_height=0.1))
    coarse = cube(cura, library, models, PrintChoices(layer_height=0.3))
    assert fine.print_time_s > 1.5 * coarse.print_time_s
    # top_bottom_thickness = layer_height_0 + 3 × layer_height: (0.2 + 0.3) / 0.1 = 5 layers,
    # (0.2 + 0.9) / 0.3 = 3.67 -> 4 layers
    assert fine.summary["top_layers"] == 5 and coarse.summary["top_layers"] == 4


def test_a_part_too_big_is_refused_before_the_engine_runs(
    cura: CuraInstall, library: CuraLibrary, models: Path, tmp_path: Path
) -> None:
    # An engine that does not exist: reaching it would be SlicerNotFound, not PartTooBig.
    nowhere = CuraInstall(tmp_path / "CuraEngine", cura.engine_version, cura.resources)
    request = SliceRequest(models / "counter.unitsmm.STL", "creality_ender3", "generic_pla")
    with pytest.raises(PartTooBig) as refused:
        slice_part(request, cura=nowhere, library=library)
    message = str(refused.value)
    assert "304.8 × 304.4 × 25.8 mm" in message and "235 × 235 × 250 mm" in message
    assert "Creality Ender-3" in message


def test_a_part_that_needs_the_brim_space_is_refused(
    cura: CuraInstall, library: CuraLibrary, models: Path, tmp_path: Path
) -> None:
    mesh = load_mesh(models / "20mm-xyz-cube.stl")
    # 230 mm long: fits the 235 mm bed, not with the skirt's 10 mm gap and 3 lines around it
    bar = trimesh.Trimesh(vertices=mesh.vertices * [11.5, 1.0, 1.0], faces=mesh.faces)
    long_bar = tmp_path / "bar.stl"
    export_stl(bar, long_bar)
    request = SliceRequest(long_bar, "creality_ender3", "generic_pla")
    with pytest.raises(PartTooBig, match=r"less 11\.2 mm on each side for skirt"):
        slice_part(request, cura=cura, library=library)


def test_missing_engine_binary_is_a_clear_error(
    cura: CuraInstall, library: CuraLibrary, models: Path, tmp_path: Path
) -> None:
    nowhere = CuraInstall(tmp_path / "CuraEngine", cura.engine_version, cura.resources)
    with pytest.raises(SlicerNotFound, match="CuraEngine was not found at"):
        cube(nowhere, library, models, PrintChoices())


def test_unreadable_and_empty_models_are_refused(
    cura: CuraInstall, library: CuraLibrary, models: Path, tmp_path: Path
) -> None:
    with pytest.raises(UnreadableModel, match="holds no triangles"):
        slice_part(
            SliceRequest(models / "empty.stl", "creality_ender3", "generic_pla"),
            cura=cura,
            library=library,
        )
    text = tmp_path / "notes.txt"
    text.write_text("not a mesh")
    with pytest.raises(UnreadableModel, match="not an STL, OBJ or 3MF"):
        slice_part(SliceRequest(text, "creality_ender3", "generic_pla"), cura=cura, library=library)


def test_obj_and_3mf_are_converted_for_the_engine(
    cura: CuraInstall, library: CuraLibrary, models: Path, tmp_path: Path
) -> None:
    stl = cube(cura, library, models, PrintChoices())
    mesh = load_mesh(models / "20mm-xyz-cube.stl")
    for suffix in ("obj", "3mf"):
        converted = tmp_path / f"cube.{suffix}"
        mesh.export(converted, file_type=suffix)
        request = SliceRequest(converted, "creality_ender3", "generic_pla")
        result = slice_part(request, cura=cura, library=library)
        assert result.filament_mm3 == pytest.approx(stl.filament_mm3, rel=0.02), suffix
        assert result.print_time_s == pytest.approx(stl.print_time_s, rel=0.02), suffix


def test_the_unplaced_cube_slices_to_nothing_and_that_is_an_error(
    cura: CuraInstall, library: CuraLibrary, models: Path, tmp_path: Path
) -> None:
    resolved = library.resolve("creality_ender3", "generic_pla")
    with pytest.raises(EmptySliceResult, match="sliced nothing"):
        run_engine(cura, resolved, models / "20mm-xyz-cube.stl", tmp_path / "out.gcode")


def test_missing_extruder_definition_is_caught_although_the_engine_exits_0(
    cura: CuraInstall, library: CuraLibrary, models: Path, tmp_path: Path
) -> None:
    resources = tmp_path / "resources"
    (resources / "extruders").mkdir(parents=True)
    (resources / "definitions").symlink_to(cura.resources / "definitions")
    broken = CuraInstall(cura.engine, cura.engine_version, resources)
    placed = tmp_path / "cube.stl"
    mesh = load_mesh(models / "20mm-xyz-cube.stl")
    mesh.apply_translation(-mesh.bounds.mean(axis=0) + (0, 0, 10))
    export_stl(mesh, placed)
    resolved = library.resolve("creality_ender3", "generic_pla")
    with pytest.raises(MissingEngineDefinition, match="creality_base_extruder_0"):
        run_engine(broken, resolved, placed, tmp_path / "out.gcode")


def _fake_engine(tmp_path: Path, body: str) -> Path:
    script = tmp_path / "CuraEngine"
    script.write_text(f"#!/bin/sh\n{body}\n")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return script


@pytest.mark.skipif(sys.platform == "win32", reason="shell-script stand-in engine")
def test_a_crash_is_retried_once(
    cura: CuraInstall,
    library: CuraLibrary,
    models: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    marker = tmp_path / "crashed-once"
    monkeypatch.setenv("CRASH_MARKER", str(marker))
    # A stand-in that segfaults on its first run, then is the real engine.
    flaky = _fake_engine(
        tmp_path,
        f'if [ ! -e "$CRASH_MARKER" ]; then touch "$CRASH_MARKER"; kill -SEGV $$; fi\n'
        f'exec "{cura.engine}" "$@"',
    )
    result = cube(
        CuraInstall(flaky, cura.engine_version, cura.resources), library, models, PrintChoices()
    )
    assert result.attempts == 2 and result.print_time_s > 0 and marker.exists()

    always = _fake_engine(tmp_path, "kill -SEGV $$")
    with pytest.raises(EngineCrashed, match="tried twice"):
        cube(
            CuraInstall(always, cura.engine_version, cura.resources),
            library,
            models,
            PrintChoices(),
        )


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="checks the engine process in /proc")
def test_cancel_kills_the_engine(cura: CuraInstall, library: CuraLibrary, models: Path) -> None:
    token = CancelToken()
    engine_running = threading.Event()
    seen_running: list[int] = []

    def progress(fraction: float) -> None:
        if fraction > 0.09 and not engine_running.is_set():  # the engine reports progress
            seen_running.extend(engine_children())
            engine_running.set()

    def staff_cancels() -> None:
        engine_running.wait(timeout=60)
        token.cancel()

    canceller = threading.Thread(target=staff_cancels)
    canceller.start()
    started = time.monotonic()
    request = SliceRequest(models / "counter.unitsmm.STL", "creality_cr10s5", "generic_pla")
    with pytest.raises(SliceCancelled):
        slice_part(request, cura=cura, library=library, progress=progress, cancel=token)
    elapsed = time.monotonic() - started
    canceller.join()
    assert seen_running, "the engine was running when staff cancelled"
    assert engine_children() == []  # killed and reaped
    assert elapsed < 10  # a full slice of this part takes about 15 s here


def test_timeout_stops_the_engine(
    cura: CuraInstall, library: CuraLibrary, models: Path, tmp_path: Path
) -> None:
    mesh = load_mesh(models / "counter.unitsmm.STL")
    mesh.apply_translation(-mesh.bounds.mean(axis=0) + (0, 0, mesh.extents[2] / 2))
    placed = tmp_path / "counter.stl"
    export_stl(mesh, placed)
    resolved = library.resolve("creality_cr10s5", "generic_pla")
    with pytest.raises(SliceTimeout, match=r"more than 0\.5 s"):
        run_engine(cura, resolved, placed, tmp_path / "out.gcode", timeout_s=0.5)
    assert engine_children() == []


def test_support_share_is_measured_from_the_gcode(
    cura: CuraInstall, library: CuraLibrary, models: Path
) -> None:
    request = SliceRequest(
        models / "teapot.stl", "creality_ender3", "generic_pla", PrintChoices(supports=True)
    )
    with_support = slice_part(request, cura=cura, library=library)
    assert 0 < with_support.support_g < with_support.filament_g
    plain = slice_part(
        SliceRequest(
            models / "teapot.stl", "creality_ender3", "generic_pla", PrintChoices(supports=False)
        ),
        cura=cura,
        library=library,
    )
    assert plain.support_g == 0
    assert with_support.filament_g > plain.filament_g


def test_a_model_in_other_units_is_scaled_to_millimetres(
    cura: CuraInstall, library: CuraLibrary, models: Path
) -> None:
    full = cube(cura, library, models, PrintChoices())
    half = slice_part(
        SliceRequest(models / "20mm-xyz-cube.stl", "creality_ender3", "generic_pla", scale=0.5),
        cura=cura,
        library=library,
    )
    assert half.placement.size == pytest.approx((10.0, 10.0, 10.0), abs=0.01)
    assert half.filament_mm3 < 0.5 * full.filament_mm3
