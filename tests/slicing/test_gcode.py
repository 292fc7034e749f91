"""Results come from the engine's log and the last ;TIME_ELAPSED:, never the header placeholders."""

from __future__ import annotations

from pathlib import Path

from core.slicing.gcode import extrusion_by_type, last_time_elapsed, parse_engine_log

LOG_4X = """\
Progress:inset+skin:1:100 \t0.026447%
Gcode header after slicing:
;TIME:1581
;Filament used: 2.06005m
Print time (s): 1581
Print time (hr|min|s): 0h 26m 21s
Filament (mm^3): 4954
Filament (mm^3): 46
"""

LOG_5X = """\
[2024-05-01 10:00:00.000] [info] Print time (s): 1200
[2024-05-01 10:00:00.000] [info] Filament (mm^3): 3000
[2024-05-01 10:00:00.000] [error] Couldn't find definition file with ID: some_extruder_0
"""

GCODE = """\
;FLAVOR:Marlin
;TIME:6666
;Filament used: 0m
M82 ;absolute extrusion mode
G92 E0
G1 X0 Y20 E15 ; purge line
G92 E0
;TYPE:WALL-OUTER
G1 X10 Y10 E1.0
G1 F2700 E-4.0
;TIME_ELAPSED:10.5
;TYPE:SUPPORT
G1 F2700 E1.0
G1 X20 Y10 E1.5
;TYPE:FILL
G1 X30 Y10 E2.5
;TIME_ELAPSED:20.25
;TIME:6666
"""


def test_log_figures_are_read_and_summed_per_extruder() -> None:
    log = parse_engine_log(LOG_4X.splitlines())
    assert log.print_time_s == 1581
    assert log.total_filament_mm3 == 4954 + 46
    assert log.progress > 0 and not log.errors


def test_newer_engine_log_lines_and_errors() -> None:
    log = parse_engine_log(LOG_5X.splitlines())
    assert log.print_time_s == 1200 and log.total_filament_mm3 == 3000
    assert log.missing_definitions == ["some_extruder_0"]


def test_time_from_the_last_time_elapsed_not_the_header(tmp_path: Path) -> None:
    gcode = tmp_path / "part.gcode"
    gcode.write_text(GCODE)
    assert last_time_elapsed(gcode) == 20.25
    assert last_time_elapsed(tmp_path / "missing.gcode") is None


def test_filament_per_feature_ignores_purge_retract_and_prime(tmp_path: Path) -> None:
    gcode = tmp_path / "part.gcode"
    gcode.write_text(GCODE)
    totals = extrusion_by_type(gcode)
    # WALL-OUTER 0 -> 1.0; the retract to -4 and the prime back to 1.0 move no X/Y;
    # SUPPORT 1.0 -> 1.5; FILL 1.5 -> 2.5; the purge line counts as START.
    assert totals == {"START": 15.0, "WALL-OUTER": 1.0, "SUPPORT": 0.5, "FILL": 1.0}
