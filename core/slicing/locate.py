"""Find CuraEngine and Cura's resources folder on this machine, and the engine's version.

Order for each of them: a value the caller gives (a command-line option), the environment
(``PRINTDESK_CURAENGINE``, ``PRINTDESK_CURA_RESOURCES``), the choice made in Settings → Slicer
(``curaengine`` / ``cura_resources`` in the config file), then a search. The engine is searched
on ``PATH``, then in the usual UltiMaker / Ultimaker Cura install places (Windows Program Files,
macOS application bundles, Linux packages, ``/opt``, AppImages extracted with
``--appimage-extract``). The resources are searched next to the engine, in Linux packages'
folders, then where ``make`` unpacked them (``.cache/cura`` beside the checkout, or ``cura`` in
the data folder), then in the install places: a Debian engine keeps to Debian's definitions
before a Cura install of another version is tried.

Every search takes its `Places` (platform, file system root, home, unpacked folders) as a
value, so a test points it at a fake tree instead of this machine.
"""

from __future__ import annotations

import enum
import logging
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from core.slicing.errors import CuraResourcesNotFound, SlicerNotFound

log = logging.getLogger(__name__)

ENGINE_ENV: Final = "PRINTDESK_CURAENGINE"
RESOURCES_ENV: Final = "PRINTDESK_CURA_RESOURCES"
#: The config file's keys that Settings → Slicer writes.
ENGINE_KEY: Final = "curaengine"
RESOURCES_KEY: Final = "cura_resources"
#: Where `make cura` (scripts/fetch-cura-resources.sh) leaves the resources, under its folder.
UNPACKED_RESOURCES: Final = Path("usr") / "share" / "cura" / "resources"
_VERSION = re.compile(r"version\s+(\d+(?:\.\d+)+\S*)", re.IGNORECASE)
#: The folder holding ``core/``: the checkout when run from source.
CHECKOUT: Final = Path(__file__).resolve().parents[2]


class Source(enum.StrEnum):
    """Where a path came from."""

    GIVEN = "given"  # by the caller, e.g. a command-line option
    ENVIRONMENT = "environment"
    SETTINGS = "settings"  # Settings → Slicer, kept in the config file
    FOUND = "found"  # by the search


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


def unpacked_places(
    checkout: Path | None = CHECKOUT, data_dir: Path | None = None
) -> tuple[Path, ...]:
    """The resources folders ``make`` unpacks: ``.cache/cura`` beside the checkout, ``cura``
    in the data folder."""
    places: list[Path] = []
    if checkout is not None:
        places.append(checkout / ".cache" / "cura" / UNPACKED_RESOURCES)
    if data_dir is not None:
        places.append(data_dir / "cura" / UNPACKED_RESOURCES)
    return tuple(places)


def _default_data_dir() -> Path | None:
    configured = os.environ.get("PRINTDESK_DATA_DIR")
    if configured:
        return Path(configured).expanduser()
    from core.config import default_data_dir

    return default_data_dir()


@dataclass(frozen=True)
class Places:
    """Where a search looks: this machine unless a test says otherwise.

    ``root`` is where ``/usr``, ``/opt`` and ``/Applications`` hang; on Windows the Program
    Files folders come from the environment (``ProgramFiles``, ``LOCALAPPDATA``, …). ``home``
    is the user's folder (from ``HOME`` / ``USERPROFILE`` when None).
    """

    platform: str = sys.platform
    root: Path = Path(os.sep)
    home: Path | None = None
    unpacked: tuple[Path, ...] = field(
        default_factory=lambda: unpacked_places(CHECKOUT, _default_data_dir())
    )

    @property
    def windows(self) -> bool:
        return self.platform == "win32"

    def home_of(self, env: Mapping[str, str]) -> Path:
        if self.home is not None:
            return self.home
        return Path(env.get("HOME") or env.get("USERPROFILE") or Path.home())

    def engine_names(self) -> tuple[str, ...]:
        return ("CuraEngine.exe",) if self.windows else ("CuraEngine",)


def _is_executable(path: Path, places: Places) -> bool:
    return path.is_file() and (places.windows or os.access(path, os.X_OK))


def _engine_in(folder: Path, places: Places) -> Path | None:
    for name in places.engine_names():
        candidate = folder / name
        if _is_executable(candidate, places):
            return candidate
    return None


def _version_order(path: Path) -> list[str | int]:
    """``UltiMaker Cura 5.10.0`` after ``5.9.1``: numbers compare as numbers."""
    parts = re.split(r"(\d+)", path.name.lower())
    return [int(p) if i % 2 else p for i, p in enumerate(parts)]


def _sorted_newest_first(paths: Iterator[Path]) -> list[Path]:
    return sorted(paths, key=_version_order, reverse=True)


def install_places(
    env: Mapping[str, str] | None = None, places: Places | None = None
) -> list[Path]:
    """Folders where a Cura install usually keeps CuraEngine, newest versions first."""
    env = os.environ if env is None else env
    places = places or Places()
    home = places.home_of(env)
    root = places.root
    found: list[Path] = []
    if places.windows:
        for variable in ("ProgramFiles", "ProgramFiles(x86)", "ProgramW6432", "LOCALAPPDATA"):
            base = env.get(variable)
            if not base:
                continue
            folder = Path(base)
            for pattern in ("UltiMaker Cura*", "Ultimaker Cura*", "Cura*"):
                found += _sorted_newest_first(folder.glob(pattern))
            found += _sorted_newest_first((folder / "Programs").glob("UltiMaker Cura*"))
    elif places.platform == "darwin":
        for folder in (root / "Applications", home / "Applications"):
            for pattern in ("UltiMaker Cura*.app", "Ultimaker Cura*.app", "Cura*.app"):
                for app in _sorted_newest_first(folder.glob(pattern)):
                    found += [app / "Contents" / "MacOS", app / "Contents" / "Resources"]
    else:
        for folder in (home, home / "Applications", home / "Downloads", root / "opt"):
            found.append(folder / "squashfs-root")
            for pattern in ("*Cura*/squashfs-root", "*cura*/squashfs-root", "*Cura*", "*cura*"):
                found += _sorted_newest_first(folder.glob(pattern))
        found += [
            root / "usr" / "bin",
            root / "usr" / "local" / "bin",
            root / "usr" / "lib" / "cura",
            root / "snap" / "bin",
        ]
    unique = list(dict.fromkeys(found))
    return [p for p in unique if p.is_dir()]


# ------------------------------------------------------------------------ what was chosen


def config_file_of(env: Mapping[str, str]) -> Path:
    from core.config import default_config_file

    configured = env.get("PRINTDESK_CONFIG")
    return Path(configured) if configured else default_config_file()


def chosen_in_settings(config_file: Path) -> dict[str, str]:
    """``curaengine`` and ``cura_resources`` from the config file (those that are set)."""
    from core.config import read_config_file

    try:
        values = read_config_file(config_file)
    except (OSError, ValueError) as exc:  # an unreadable file is reported where it is edited
        log.warning("slicing.config_unreadable file=%s error=%s", config_file, exc)
        return {}
    return {key: str(values[key]) for key in (ENGINE_KEY, RESOURCES_KEY) if values.get(key)}


@dataclass(frozen=True)
class Chosen:
    """A path someone chose (not searched for), and where the choice was made."""

    path: Path
    source: Source

    def said(self, env_name: str) -> str:
        if self.source is Source.ENVIRONMENT:
            return f"set by {env_name}"
        if self.source is Source.SETTINGS:
            return "chosen in Settings → Slicer"
        return "as given"


def choice(
    given: Path | str | None,
    env_name: str,
    key: str,
    env: Mapping[str, str],
    config_file: Path | None,
) -> Chosen | None:
    """The caller's value, else the environment's, else the config file's; None to search."""
    if given:
        return Chosen(Path(given).expanduser(), Source.GIVEN)
    if env.get(env_name):
        return Chosen(Path(env[env_name]).expanduser(), Source.ENVIRONMENT)
    in_file = chosen_in_settings(config_file or config_file_of(env)).get(key)
    if in_file:
        return Chosen(Path(in_file).expanduser(), Source.SETTINGS)
    return None


# ------------------------------------------------------------------------------- engine


def search_engine(env: Mapping[str, str], places: Places) -> Path | None:
    """CuraEngine on ``PATH``, else in an install place; None when there is none."""
    for name in places.engine_names():
        on_path = shutil.which(name, path=env.get("PATH", ""))
        if on_path:
            return Path(on_path)
    for place in install_places(env, places):
        found = _engine_in(place, places)
        if found is not None:
            return found
    return None


def find_engine_with_source(
    explicit: Path | str | None = None,
    env: Mapping[str, str] | None = None,
    *,
    places: Places | None = None,
    config_file: Path | None = None,
) -> tuple[Path, Source]:
    """The CuraEngine binary and where it came from; ``SlicerNotFound`` says where it looked."""
    env = os.environ if env is None else env
    places = places or Places()
    chosen = choice(explicit, ENGINE_ENV, ENGINE_KEY, env, config_file)
    if chosen is not None:
        path = chosen.path
        found = _engine_in(path, places) if path.is_dir() else path
        if found is None or not _is_executable(found, places):
            raise SlicerNotFound(f"CuraEngine was not found at {path} ({chosen.said(ENGINE_ENV)}).")
        return found, chosen.source
    searched = search_engine(env, places)
    if searched is None:
        raise SlicerNotFound(
            "CuraEngine was not found: install UltiMaker Cura (or Debian's cura-engine), or "
            f"choose it in Settings → Slicer (or set {ENGINE_ENV})."
        )
    return searched, Source.FOUND


def find_engine(
    explicit: Path | str | None = None,
    env: Mapping[str, str] | None = None,
    *,
    places: Places | None = None,
    config_file: Path | None = None,
) -> Path:
    """The CuraEngine binary; ``SlicerNotFound`` says where it was looked for."""
    return find_engine_with_source(explicit, env, places=places, config_file=config_file)[0]


# ---------------------------------------------------------------------------- resources


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


def resource_candidates(engine: Path | None, env: Mapping[str, str], places: Places) -> list[Path]:
    """Where the search looks for the resources, in order (see the module's notes)."""
    candidates: list[Path] = []
    if engine is not None:
        candidates += _resources_near(engine)
    if not places.windows:
        candidates += [
            places.root / "usr" / "share" / "cura" / "resources",
            places.root / "usr" / "local" / "share" / "cura" / "resources",
        ]
    candidates += places.unpacked
    for place in install_places(env, places):
        candidates += [place / "share" / "cura" / "resources", place / "resources"]
    return list(dict.fromkeys(candidates))


def find_resources_with_source(
    explicit: Path | str | None = None,
    engine: Path | None = None,
    env: Mapping[str, str] | None = None,
    *,
    places: Places | None = None,
    config_file: Path | None = None,
) -> tuple[Path, Source]:
    """Cura's resources folder (with definitions/ and extruders/) and where it came from."""
    env = os.environ if env is None else env
    places = places or Places()
    chosen = choice(explicit, RESOURCES_ENV, RESOURCES_KEY, env, config_file)
    if chosen is not None:
        if not is_resources_folder(chosen.path):
            raise CuraResourcesNotFound(
                f"{chosen.path} ({chosen.said(RESOURCES_ENV)}) is not Cura's resources folder "
                "(no definitions/fdmprinter.def.json)."
            )
        return chosen.path, chosen.source
    for candidate in resource_candidates(engine, env, places):
        if is_resources_folder(candidate):
            return candidate, Source.FOUND
    raise CuraResourcesNotFound(
        "Cura's printer definitions were not found: install UltiMaker Cura, or choose its "
        f"resources folder in Settings → Slicer (or set {RESOURCES_ENV})."
    )


def find_resources(
    explicit: Path | str | None = None,
    engine: Path | None = None,
    env: Mapping[str, str] | None = None,
    *,
    places: Places | None = None,
    config_file: Path | None = None,
) -> Path:
    """Cura's resources folder (with definitions/ and extruders/)."""
    return find_resources_with_source(
        explicit, engine, env, places=places, config_file=config_file
    )[0]


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
    *,
    places: Places | None = None,
    config_file: Path | None = None,
) -> CuraInstall:
    """The engine, its version and the resources folder, each given, set or searched for."""
    engine_path = find_engine(engine, env, places=places, config_file=config_file)
    version = engine_version(engine_path)
    resources_path = find_resources(
        resources, engine_path, env, places=places, config_file=config_file
    )
    return CuraInstall(engine=engine_path, engine_version=version, resources=resources_path)
