"""What this computer's slicer is: the engine, its version, the definitions and where each came
from, described once for Settings → Slicer, the Health page and the first-run setup."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from core.slicing.errors import SlicingError
from core.slicing.locate import (
    CuraInstall,
    Places,
    Source,
    engine_version,
    find_engine_with_source,
    find_resources_with_source,
)

_SAID = {
    Source.GIVEN: "Given on the command line",
    Source.ENVIRONMENT: "Set in the environment",
    Source.SETTINGS: "Chosen in Settings → Slicer",
    Source.FOUND: "Found on this computer",
}


def count_printers(resources: Path) -> int:
    """Printer definitions a person can pick: those Cura shows (not abstract bases)."""
    count = 0
    for path in (resources / "definitions").glob("*.def.json"):
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if not isinstance(document, dict) or "inherits" not in document:
            continue  # fdmprinter.def.json, the root every printer inherits from
        metadata = document.get("metadata")
        if isinstance(metadata, dict) and metadata.get("visible") is False:
            continue
        count += 1
    return count


@dataclass(frozen=True)
class SlicerFinding:
    """What was found; a part that was not found has its path None and says why."""

    engine: Path | None = None
    engine_source: Source | None = None
    engine_version: str = ""
    engine_problem: str = ""
    resources: Path | None = None
    resources_source: Source | None = None
    resources_problem: str = ""
    printers: int = 0

    @property
    def ok(self) -> bool:
        return self.install is not None

    @property
    def install(self) -> CuraInstall | None:
        if self.engine is None or not self.engine_version or self.resources is None:
            return None
        return CuraInstall(self.engine, self.engine_version, self.resources)

    @property
    def problem(self) -> str:
        """The first thing that is missing, as a sentence; empty when all was found."""
        return self.engine_problem or self.resources_problem

    @property
    def engine_text(self) -> str:
        if self.engine is None or not self.engine_version:
            return self.engine_problem
        return f"CuraEngine {self.engine_version} at {self.engine}"

    @property
    def engine_said(self) -> str:
        return _SAID[self.engine_source] if self.engine_source else ""

    @property
    def resources_text(self) -> str:
        if self.resources is None:
            return self.resources_problem
        printers = "1 printer" if self.printers == 1 else f"{self.printers} printers"
        return f"{printers} in {self.resources}"

    @property
    def resources_said(self) -> str:
        return _SAID[self.resources_source] if self.resources_source else ""

    def summary(self) -> str:
        """One or two sentences: what was found, or what is missing."""
        if self.ok:
            return (
                f"CuraEngine {self.engine_version} at {self.engine}; {self.printers} printer "
                f"definitions in {self.resources}."
            )
        return self.problem


def find_slicer(
    engine: Path | str | None = None,
    resources: Path | str | None = None,
    env: Mapping[str, str] | None = None,
    *,
    places: Places | None = None,
    config_file: Path | None = None,
) -> SlicerFinding:
    """Look for the engine and the definitions (as `locate_cura` does); never raises."""
    env = os.environ if env is None else env
    places = places or Places()
    engine_path: Path | None = None
    engine_source: Source | None = None
    version = engine_problem = ""
    try:
        engine_path, engine_source = find_engine_with_source(
            engine, env, places=places, config_file=config_file
        )
        version = engine_version(engine_path)
    except SlicingError as exc:
        engine_problem = str(exc)
    resources_path: Path | None = None
    resources_source: Source | None = None
    resources_problem = ""
    try:
        resources_path, resources_source = find_resources_with_source(
            resources, engine_path, env, places=places, config_file=config_file
        )
    except SlicingError as exc:
        resources_problem = str(exc)
    return SlicerFinding(
        engine=engine_path,
        engine_source=engine_source,
        engine_version=version,
        engine_problem=engine_problem,
        resources=resources_path,
        resources_source=resources_source,
        resources_problem=resources_problem,
        printers=count_printers(resources_path) if resources_path is not None else 0,
    )
