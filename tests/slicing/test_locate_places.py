"""Where the finder looks, on fake folder trees: UltiMaker Cura on Linux (AppImage extract,
/usr/share/cura, /opt), Windows and macOS, what `make` unpacked, and what Settings → Slicer
chose. The trees are built in tmp_path and handed to the finder as its `Places`."""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

import pytest

from core.slicing.errors import CuraResourcesNotFound, SlicerNotFound
from core.slicing.finding import count_printers, find_slicer
from core.slicing.locate import (
    CHECKOUT,
    UNPACKED_RESOURCES,
    Places,
    Source,
    find_engine,
    find_engine_with_source,
    find_resources,
    find_resources_with_source,
    is_resources_folder,
    locate_cura,
    unpacked_places,
)

posix_only = pytest.mark.skipif(sys.platform == "win32", reason="shell-script stand-in engines")


def engine_at(path: Path, version: str = "5.7.1") -> Path:
    """A stand-in CuraEngine that prints its version as the real one does."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"#!/bin/sh\necho\necho 'Cura_SteamEngine version {version}' >&2\nexit 1\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def resources_at(folder: Path, printers: int = 2) -> Path:
    (folder / "definitions").mkdir(parents=True)
    (folder / "extruders").mkdir()
    (folder / "definitions" / "fdmprinter.def.json").write_text('{"name": "FFF"}')
    (folder / "definitions" / "some_base.def.json").write_text(
        '{"inherits": "fdmprinter", "metadata": {"visible": false}}'
    )
    for n in range(printers):
        (folder / "definitions" / f"printer_{n}.def.json").write_text(
            '{"inherits": "some_base", "name": "P", "metadata": {"visible": true}}'
        )
    return folder


def linux(tmp_path: Path, *unpacked: Path) -> Places:
    return Places(
        platform="linux", root=tmp_path / "root", home=tmp_path / "home", unpacked=unpacked
    )


NO_PATH = {"PATH": ""}


@posix_only
def test_an_extracted_appimage_in_home(tmp_path: Path) -> None:
    extract = tmp_path / "home" / "Applications" / "UltiMaker-Cura-5.7.1" / "squashfs-root"
    engine = engine_at(extract / "CuraEngine")
    resources = resources_at(extract / "share" / "cura" / "resources")
    found = locate_cura(env=NO_PATH, places=linux(tmp_path), config_file=tmp_path / "no.toml")
    assert (found.engine, found.engine_version, found.resources) == (engine, "5.7.1", resources)


@posix_only
def test_debian_packages_in_usr_bin_and_usr_share(tmp_path: Path) -> None:
    engine = engine_at(tmp_path / "root" / "usr" / "bin" / "CuraEngine", "4.13.0")
    resources = resources_at(tmp_path / "root" / "usr" / "share" / "cura" / "resources")
    # The checkout's unpacked copy comes after the system's own definitions.
    unpacked = resources_at(tmp_path / "checkout" / ".cache" / "cura" / UNPACKED_RESOURCES)
    places = linux(tmp_path, unpacked)
    config = tmp_path / "no.toml"
    assert find_engine(env=NO_PATH, places=places, config_file=config) == engine
    assert find_resources(engine=engine, env=NO_PATH, places=places, config_file=config) == (
        resources
    )


@posix_only
def test_cura_under_opt_newest_version_first(tmp_path: Path) -> None:
    for version in ("5.9.0", "5.10.0", "5.2.1"):
        folder = tmp_path / "root" / "opt" / f"UltiMaker-Cura-{version}"
        engine_at(folder / "CuraEngine", version)
        resources_at(folder / "share" / "cura" / "resources")
    newest = tmp_path / "root" / "opt" / "UltiMaker-Cura-5.10.0"
    found = locate_cura(env=NO_PATH, places=linux(tmp_path), config_file=tmp_path / "no.toml")
    assert found.engine == newest / "CuraEngine" and found.engine_version == "5.10.0"
    assert found.resources == newest / "share" / "cura" / "resources"


def test_windows_program_files(tmp_path: Path) -> None:
    program_files = tmp_path / "Program Files"
    for version in ("5.6.0", "5.7.1"):
        install = program_files / f"UltiMaker Cura {version}"
        install.mkdir(parents=True)
        (install / "CuraEngine.exe").write_bytes(b"MZ")
        resources_at(install / "share" / "cura" / "resources")
    env = {"ProgramFiles": str(program_files), "PATH": ""}
    places = Places(platform="win32", home=tmp_path / "user", unpacked=())
    config = tmp_path / "no.toml"
    engine, source = find_engine_with_source(env=env, places=places, config_file=config)
    newest = program_files / "UltiMaker Cura 5.7.1"
    assert (engine, source) == (newest / "CuraEngine.exe", Source.FOUND)
    assert find_resources(engine=engine, env=env, places=places, config_file=config) == (
        newest / "share" / "cura" / "resources"
    )


@posix_only
def test_macos_application_bundle(tmp_path: Path) -> None:
    app = tmp_path / "root" / "Applications" / "UltiMaker Cura.app" / "Contents"
    engine = engine_at(app / "MacOS" / "CuraEngine")
    resources = resources_at(app / "Resources" / "share" / "cura" / "resources")
    places = Places(platform="darwin", root=tmp_path / "root", home=tmp_path / "home", unpacked=())
    found = locate_cura(env=NO_PATH, places=places, config_file=tmp_path / "no.toml")
    assert (found.engine, found.resources) == (engine, resources)


@posix_only
def test_what_make_unpacked_beside_the_checkout_or_in_the_data_folder(tmp_path: Path) -> None:
    engine = engine_at(tmp_path / "bin" / "CuraEngine", "4.13.0")
    env = {"PATH": str(tmp_path / "bin")}
    config = tmp_path / "no.toml"
    checkout, data_dir = tmp_path / "checkout", tmp_path / "data"
    in_data = resources_at(data_dir / "cura" / UNPACKED_RESOURCES)
    places = linux(tmp_path, *unpacked_places(checkout, data_dir))
    assert find_resources(engine=engine, env=env, places=places, config_file=config) == in_data
    beside = resources_at(checkout / ".cache" / "cura" / UNPACKED_RESOURCES)
    # An UltiMaker Cura of another version in /opt comes after what make unpacked.
    resources_at(tmp_path / "root" / "opt" / "cura" / "share" / "cura" / "resources")
    found, source = find_resources_with_source(
        engine=engine, env=env, places=places, config_file=config
    )
    assert (found, source) == (beside, Source.FOUND)


@posix_only
def test_settings_choice_and_the_environment_over_it(tmp_path: Path) -> None:
    chosen = engine_at(tmp_path / "chosen" / "CuraEngine", "5.0.0")
    chosen_resources = resources_at(tmp_path / "chosen-res", printers=3)
    from_env = engine_at(tmp_path / "env" / "CuraEngine", "4.13.0")
    config = tmp_path / "printdesk.toml"
    config.write_text(f'curaengine = "{chosen}"\ncura_resources = "{chosen_resources}"\n')
    places = linux(tmp_path)

    finding = find_slicer(env=NO_PATH, places=places, config_file=config)
    assert finding.ok and finding.engine == chosen and finding.engine_version == "5.0.0"
    assert finding.engine_source is Source.SETTINGS
    assert (finding.resources, finding.resources_source) == (chosen_resources, Source.SETTINGS)
    assert finding.printers == 3
    assert finding.summary() == (
        f"CuraEngine 5.0.0 at {chosen}; 3 printer definitions in {chosen_resources}."
    )

    env = {"PATH": "", "PRINTDESK_CURAENGINE": str(from_env)}
    assert find_engine_with_source(env=env, places=places, config_file=config) == (
        from_env,
        Source.ENVIRONMENT,
    )

    config.write_text(f'curaengine = "{tmp_path / "gone"}"\n')
    with pytest.raises(SlicerNotFound, match="chosen in Settings → Slicer"):
        find_engine(env=NO_PATH, places=places, config_file=config)
    config.write_text(f'cura_resources = "{tmp_path}"\n')
    with pytest.raises(CuraResourcesNotFound, match="chosen in Settings → Slicer"):
        find_resources(env=NO_PATH, places=places, config_file=config)


def test_nothing_found_says_what_and_where_to_choose(tmp_path: Path) -> None:
    finding = find_slicer(env=NO_PATH, places=linux(tmp_path), config_file=tmp_path / "no.toml")
    assert not finding.ok and finding.install is None
    assert finding.engine is None and finding.resources is None and finding.printers == 0
    assert "CuraEngine was not found" in finding.problem
    assert "Settings → Slicer" in finding.engine_problem
    assert "Settings → Slicer" in finding.resources_problem


def test_printer_count_leaves_out_the_root_and_hidden_bases(tmp_path: Path) -> None:
    assert count_printers(resources_at(tmp_path / "r", printers=4)) == 4


def test_this_checkout_finds_what_make_unpacked_without_any_variable() -> None:
    unpacked = CHECKOUT / ".cache" / "cura" / UNPACKED_RESOURCES
    if not is_resources_folder(unpacked):
        pytest.skip(f"make cura has not unpacked Cura's definitions into {unpacked}")
    env = {k: v for k, v in os.environ.items() if k not in ("PRINTDESK_CURA_RESOURCES",)}
    finding = find_slicer(env=env)
    system = Path("/usr/share/cura/resources")
    assert finding.resources in (unpacked, system), finding
    assert finding.resources_source is Source.FOUND
    assert finding.printers > 100  # Cura ships hundreds of printers
