"""Find CuraEngine and Cura's resources folder on this machine, and the engine's version.

Order for the engine: the explicit setting, ``PRINTDESK_CURAENGINE``, ``PATH``, then the usual
UltiMaker / Ultimaker Cura install places (Windows Program Files, macOS application bundles,
Linux packages, AppImages extracted with ``--appimage-extract``). Order for the resources: the
explicit setting, ``PRINTDESK_CURA_RESOURCES``, next to the engine in a Cura install, then the
system folders of Linux packages.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from core.slicing.errors import CuraResourcesNotFound, SlicerNotFound

ENGINE_ENV = "PRINTDESK_CURAENGINE"
RESOURCES_ENV = "PRINTDESK_CURA_RESOURCES"
_VERSION = re.compile(r"version\s+(\d+(?:\.\d+)+\S*)", re.IGNORECASE)


@dataclass(frozen=True)
class CuraInstall:
    """A CuraEngine binary, its version, and the resources folder with Cura's definitions."""

    engine: Path
    engine_version: str
    resources: Path

    @property
    def definitions_dir(self) -> Path:
        return self.resources / "definitions"

    @property
    def extruders_dir(self) -> Path:
        return self.resources / "extruders"

    @property
    def search_path(self) -> str:
        """The value of ``CURA_ENGINE_SEARCH_PATH``: definitions, then extruders."""
        return os.pathsep.join([str(self.definitions_dir), str(self.extruders_dir)])

    @property
    def engine_major(self) -> int:
        try:
            return int(self.engine_version.split(".")[0])
        except ValueError:
            return 0


def _engine_names() -> tuple[str, ...]:
    return ("CuraEngine.exe",) if sys.platform == "win32" else ("CuraEngine",)


def _is_executable(path: Path) -> bool:
    return path.is_file() and (sys.platform == "win32" or os.access(path, os.X_OK))


def _engine_in(folder: Path) -> Path | None:
    for name in _engine_names():
        candidate = folder / name
        if _is_executable(candidate):
            return candidate
    return None


def _sorted_newest_first(paths: Iterator[Path]) -> list[Path]:
    return sorted(paths, key=lambda p: p.name, reverse=True)


def install_places(env: Mapping[str, str] | None = None) -> list[Path]:
    """Folders where a Cura install usually keeps CuraEngine, newest versions first."""
    env = os.environ if env is None else env
    home = Path(env.get("HOME") or env.get("USERPROFILE") or Path.home())
    places: list[Path] = []
    if sys.platform == "win32":
        for variable in ("ProgramFiles", "ProgramFiles(x86)", "ProgramW6432", "LOCALAPPDATA"):
            base = env.get(variable)
            if not base:
                continue
            root = Path(base)
            for pattern in ("UltiMaker Cura*", "Ultimaker Cura*", "Cura*"):
                places += _sorted_newest_first(root.glob(pattern))
            places += _sorted_newest_first((root / "Programs").glob("UltiMaker Cura*"))
    elif sys.platform == "darwin":
        for root in (Path("/Applications"), home / "Applications"):
            for pattern in ("UltiMaker Cura*.app", "Ultimaker Cura*.app", "Cura*.app"):
                for app in _sorted_newest_first(root.glob(pattern)):
                    places += [app / "Contents" / "MacOS", app / "Contents" / "Resources"]
    else:
        for root in (home, home / "Applications", home / "Downloads", Path("/opt")):
            places.append(root / "squashfs-root")
            for pattern in ("*Cura*/squashfs-root", "*cura*/squashfs-root", "*Cura*", "*cura*"):
                places += _sorted_newest_first(root.glob(pattern))
        places += [
            Path("/usr/bin"),
            Path("/usr/local/bin"),
            Path("/usr/lib/cura"),
            Path("/snap/bin"),
        ]
    return [p for p in places if p.is_dir()]


def find_engine(explicit: Path | str | None = None, env: Mapping[str, str] | None = None) -> Path:
    """The CuraEngine binary; ``SlicerNotFound`` says where it was looked for."""
    env = os.environ if env is None else env
    if explicit:
        path = Path(explicit).expanduser()
        found = _engine_in(path) if path.is_dir() else (path if _is_executable(path) else None)
        if found is None:
            raise SlicerNotFound(f"CuraEngine was not found at {path} (set in Settings → Slicer).")
        return found
    configured = env.get(ENGINE_ENV)
    if configured:
        path = Path(configured).expanduser()
        found = _engine_in(path) if path.is_dir() else (path if _is_executable(path) else None)
        if found is None:
            raise SlicerNotFound(f"CuraEngine was not found at {path} (set by {ENGINE_ENV}).")
        return found
    for name in _engine_names():
        on_path = shutil.which(name, path=env.get("PATH"))
        if on_path:
            return Path(on_path)
    for place in install_places(env):
        found = _engine_in(place)
        if found is not None:
            return found
    raise SlicerNotFound(
        "CuraEngine was not found: install UltiMaker Cura (or Debian's cura-engine), or set "
        f"its path in Settings → Slicer or in {ENGINE_ENV}."
    )


def is_resources_folder(path: Path) -> bool:
    return (path / "definitions" / "fdmprinter.def.json").is_file() and (
        path / "extruders"
    ).is_dir()


def _resources_near(engine: Path) -> list[Path]:
    folder = engine.resolve().parent
    return [
        folder / "share" / "cura" / "resources",  # Cura 5 on Windows, extracted AppImages
        folder / "resources",  # Cura 4 on Windows
        folder.parent / "Resources" / "share" / "cura" / "resources",  # macOS bundles
        folder.parent / "Resources" / "resources",
        folder.parent / "share" / "cura" / "resources",  # /usr/bin -> /usr/share, /opt/x/bin
        folder.parent / "usr" / "share" / "cura" / "resources",
        folder / "usr" / "share" / "cura" / "resources",
    ]


def find_resources(
    explicit: Path | str | None = None,
    engine: Path | None = None,
    env: Mapping[str, str] | None = None,
) -> Path:
    """Cura's resources folder (with definitions/ and extruders/)."""
    env = os.environ if env is None else env
    if explicit:
        path = Path(explicit).expanduser()
        if not is_resources_folder(path):
            raise CuraResourcesNotFound(
                f"{path} is not Cura's resources folder (no definitions/fdmprinter.def.json)."
            )
        return path
    configured = env.get(RESOURCES_ENV)
    if configured:
        path = Path(configured).expanduser()
        if not is_resources_folder(path):
            raise CuraResourcesNotFound(
                f"{path} (set by {RESOURCES_ENV}) is not Cura's resources folder."
            )
        return path
    candidates: list[Path] = []
    if engine is not None:
        candidates += _resources_near(engine)
    candidates += [Path("/usr/share/cura/resources"), Path("/usr/local/share/cura/resources")]
    for place in install_places(env):
        candidates += [place / "share" / "cura" / "resources", place / "resources"]
    for candidate in candidates:
        if is_resources_folder(candidate):
            return candidate
    raise CuraResourcesNotFound(
        "Cura's printer definitions were not found: install UltiMaker Cura, or set the "
        f"resources folder in Settings → Slicer or in {RESOURCES_ENV}."
    )


def engine_version(engine: Path, timeout: float = 15.0) -> str:
    """The engine's version from the first lines ``CuraEngine --help`` prints."""
    if not engine.is_file():
        raise SlicerNotFound(f"CuraEngine was not found at {engine}.")
    try:
        completed = subprocess.run(
            [str(engine), "--help"],
            capture_output=True,
            timeout=timeout,
            check=False,
            stdin=subprocess.DEVNULL,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise SlicerNotFound(f"CuraEngine at {engine} cannot be run: {exc}") from None
    text = (completed.stdout + completed.stderr).decode("utf-8", "replace")
    head = "\n".join(text.splitlines()[:8])
    match = _VERSION.search(head) or _VERSION.search(text)
    if match is None:
        raise SlicerNotFound(f"{engine} does not look like CuraEngine (no version in its help).")
    return match.group(1)


def locate_cura(
    engine: Path | str | None = None,
    resources: Path | str | None = None,
    env: Mapping[str, str] | None = None,
) -> CuraInstall:
    """The engine, its version and the resources folder, each from setting, env or search."""
    engine_path = find_engine(engine, env)
    version = engine_version(engine_path)
    resources_path = find_resources(resources, engine_path, env)
    return CuraInstall(engine=engine_path, engine_version=version, resources=resources_path)
