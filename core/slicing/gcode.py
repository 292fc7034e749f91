"""Read CuraEngine's results from its log and its G-code, never from the header placeholders.

CuraEngine 4.x (and most 5.x) writes ``;TIME:6666`` and ``;Filament used: 0m`` into the G-code
header it streams before the print is known. The real figures are in the log printed with
``-v`` (``Print time (s): N``, one ``Filament (mm^3): V`` per extruder) and in the last
``;TIME_ELAPSED:`` comment of the G-code.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

_PRINT_TIME = re.compile(r"Print time \(s\):\s*([0-9.]+)")
_FILAMENT = re.compile(r"Filament \(mm\^3\):\s*([0-9.]+)")
_PROGRESS = re.compile(r"^\s*Progress:([^:\s]+):(\d+):(\d+)\s+([0-9.]+)%")
_MISSING_DEFINITION = re.compile(r"Couldn't find definition file with ID:\s*(\S+)")
_ERROR = re.compile(r"\[(?:ERROR|error|critical)\]\s*(.*)$")
_TIME_ELAPSED = re.compile(rb";TIME_ELAPSED:\s*([0-9.]+)")


@dataclass
class EngineLog:
    """What a CuraEngine run said about its results and problems, line by line."""

    print_time_s: float | None = None
    filament_mm3: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    missing_definitions: list[str] = field(default_factory=list)
    progress: float = 0.0

    def feed(self, line: str) -> float | None:
        """Take one log line; returns the engine's progress (0–1) when the line reports one."""
        if match := _PROGRESS.match(line):
            self.progress = max(self.progress, min(1.0, float(match.group(4))))
            return self.progress
        # 4.x logs bare lines; 5.x (spdlog) puts "[time] [info] " in front.
        if match := _PRINT_TIME.search(line):
            self.print_time_s = float(match.group(1))
        elif match := _FILAMENT.search(line):
            self.filament_mm3.append(float(match.group(1)))
        elif match := _MISSING_DEFINITION.search(line):
            self.missing_definitions.append(match.group(1))
            self.errors.append(line.strip())
        elif match := _ERROR.search(line):
            self.errors.append(match.group(1).strip())
        return None

    @property
    def total_filament_mm3(self) -> float | None:
        return sum(self.filament_mm3) if self.filament_mm3 else None


def parse_engine_log(lines: Iterable[str]) -> EngineLog:
    log = EngineLog()
    for line in lines:
        log.feed(line)
    return log


def last_time_elapsed(gcode: Path, tail_bytes: int = 1 << 16) -> float | None:
    """The last ``;TIME_ELAPSED:`` of a G-code file (seconds), reading from the end."""
    try:
        with gcode.open("rb") as handle:
            handle.seek(0, 2)
            size = handle.tell()
            start = max(0, size - tail_bytes)
            while True:
                handle.seek(start)
                chunk = handle.read(size - start)
                found = _TIME_ELAPSED.findall(chunk)
                if found:
                    return float(found[-1])
                if start == 0:
                    return None
                start = max(0, start - 4 * tail_bytes)
    except OSError:
        return None


_E_VALUE = re.compile(rb"\sE(-?[0-9.]+)")
_HAS_XY = re.compile(rb"\s[XY]-?[0-9.]")
SUPPORT_TYPES = frozenset({"SUPPORT", "SUPPORT-INTERFACE"})


def extrusion_by_type(gcode: Path) -> dict[str, float]:
    """Filament length (mm) extruded per ``;TYPE:`` of a CuraEngine G-code file.

    Only moves that travel in X or Y count, so retractions and primes (E-only moves) do not
    shift filament from one feature to the next. Handles absolute (M82) and relative (M83)
    extrusion and ``G92 E`` resets.
    """
    totals: dict[str, float] = {}
    feature = "START"
    absolute = True
    position = 0.0
    try:
        with gcode.open("rb") as handle:
            for line in handle:
                if line.startswith(b";TYPE:"):
                    feature = line[6:].strip().decode("ascii", "replace") or "UNKNOWN"
                    continue
                if line.startswith((b"G1 ", b"G0 ")):
                    code = line.split(b";", 1)[0]
                    match = _E_VALUE.search(code)
                    if match is None:
                        continue
                    value = float(match.group(1))
                    delta = value - position if absolute else value
                    if absolute:
                        position = value
                    if delta > 0 and _HAS_XY.search(code):
                        totals[feature] = totals.get(feature, 0.0) + delta
                elif line.startswith(b"G92"):
                    match = _E_VALUE.search(line.split(b";", 1)[0])
                    if match is not None:
                        position = float(match.group(1))
                elif line.startswith(b"M82"):
                    absolute = True
                elif line.startswith(b"M83"):
                    absolute = False
    except OSError:
        return {}
    return totals


def support_share(gcode: Path) -> float:
    """The share (0–1) of extruded filament that is support, from the G-code's feature types."""
    totals = extrusion_by_type(gcode)
    # What the start g-code extrudes (purge lines) is not part of the engine's estimate.
    totals.pop("START", None)
    total = sum(totals.values())
    if total <= 0:
        return 0.0
    return sum(v for k, v in totals.items() if k in SUPPORT_TYPES) / total
