"""Finding CuraEngine and Cura's resources: settings, environment, PATH, install places."""

from __future__ import annotations

import stat
import sys
from pathlib import Path

import pytest

from core.slicing.errors import CuraResourcesNotFound, SlicerNotFound
from core.slicing.locate import (
    engine_version,
    find_engine,
    find_resources,
    locate_cura,
)

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="shell-script stand-in engines")


def fake_engine(folder: Path, version: str = "9.9.1") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    engine = folder / "CuraEngine"
    engine.write_text(f"#!/bin/sh\necho\necho 'Cura_SteamEngine version {version}' >&2\nexit 1\n")
    engine.chmod(engine.stat().st_mode | stat.S_IXUSR)
    return engine


def fake_resources(folder: Path) -> Path:
    (folder / "definitions").mkdir(parents=True)
    (folder / "extruders").mkdir()
    (folder / "definitions" / "fdmprinter.def.json").write_text("{}")
    return folder


def test_explicit_setting_wins_and_a_wrong_one_is_named(tmp_path: Path) -> None:
    engine = fake_engine(tmp_path / "custom")
    assert find_engine(engine, env={"PATH": ""}) == engine
    assert find_engine(tmp_path / "custom", env={"PATH": ""}) == engine  # a folder works too
    with pytest.raises(SlicerNotFound, match=str(tmp_path / "missing")):
        find_engine(tmp_path / "missing", env={})


def test_environment_then_path(tmp_path: Path) -> None:
    from_env = fake_engine(tmp_path / "env")
    on_path = fake_engine(tmp_path / "bin")
    env = {"PRINTDESK_CURAENGINE": str(from_env), "PATH": str(tmp_path / "bin")}
    assert find_engine(env=env) == from_env
    assert find_engine(env={"PATH": str(tmp_path / "bin"), "HOME": str(tmp_path)}) == on_path
    with pytest.raises(SlicerNotFound, match="PRINTDESK_CURAENGINE"):
        find_engine(env={"PRINTDESK_CURAENGINE": str(tmp_path / "nope"), "PATH": ""})


def test_extracted_appimage_with_resources_beside_it(tmp_path: Path) -> None:
    home = tmp_path / "home"
    engine = fake_engine(home / "squashfs-root", "5.7.2")
    resources = fake_resources(home / "squashfs-root" / "share" / "cura" / "resources")
    env = {"HOME": str(home), "PATH": str(tmp_path / "empty")}
    found = locate_cura(env=env)
    if found.engine != engine:  # a system-wide install (/usr/bin) is searched after $HOME
        pytest.skip(f"another CuraEngine was found first: {found.engine}")
    assert found.engine_version == "5.7.2" and found.resources == resources


def test_resources_from_setting_env_or_a_clear_error(tmp_path: Path) -> None:
    resources = fake_resources(tmp_path / "res")
    assert find_resources(resources, env={}) == resources
    assert find_resources(env={"PRINTDESK_CURA_RESOURCES": str(resources)}) == resources
    with pytest.raises(CuraResourcesNotFound, match="not Cura's resources folder"):
        find_resources(tmp_path, env={})
    with pytest.raises(CuraResourcesNotFound, match="PRINTDESK_CURA_RESOURCES"):
        find_resources(env={"PRINTDESK_CURA_RESOURCES": str(tmp_path / "none")})


def test_version_from_the_help_text(tmp_path: Path) -> None:
    assert engine_version(fake_engine(tmp_path / "a", "4.13.0")) == "4.13.0"
    impostor = tmp_path / "b" / "CuraEngine"
    impostor.parent.mkdir()
    impostor.write_text("#!/bin/sh\necho hello\n")
    impostor.chmod(impostor.stat().st_mode | stat.S_IXUSR)
    with pytest.raises(SlicerNotFound, match="does not look like CuraEngine"):
        engine_version(impostor)


def test_the_real_engine_reports_its_version(cura_resources: Path) -> None:
    try:
        engine = find_engine()
    except SlicerNotFound as exc:
        pytest.skip(str(exc))
    assert engine_version(engine).count(".") >= 2
