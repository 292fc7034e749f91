"""Settings → Slicer, as a shop uses it: what was found on this computer with no variable set,
"Test slice" on the real CuraEngine, an admin's choice of another engine and folder (checked,
kept in the config file), the environment winning, staff seeing it all read-only; and the
first-run setup showing the same finding."""

# pytest-qt's input helpers carry no annotations.
# mypy: disable-error-code="no-untyped-call"

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QHBoxLayout, QWidget
from pytestqt.qtbot import QtBot

from core.actor import Actor
from core.config import AppConfig, read_config_file
from core.db.engine import Database
from core.slicing.locate import CHECKOUT, UNPACKED_RESOURCES, engine_version, is_resources_folder
from core.slicing.runner import SliceRequest, slice_part
from core.slicing.trial import TEST_MATERIAL, TEST_PRINTER, cube_stl
from desktop.viewmodels.auth import AuthViewModel
from desktop.viewmodels.context import AppContext
from desktop.viewmodels.notifier import Notice, Notifier
from desktop.viewmodels.shell import ShellViewModel
from desktop.views.settings import SettingsPage, build_settings_page
from desktop.views.sign_in import SetupDialog
from desktop.views.slicer_settings import SlicerSettingsPanel
from desktop.views.theme import STYLESHEET
from tests.gui.shots import keep_shot
from tests.gui.test_settings import go_to, retype
from workers.tasks import TaskRunner

ENGINE = shutil.which("CuraEngine")
UNPACKED = CHECKOUT / ".cache" / "cura" / UNPACKED_RESOURCES
SLICE_MS = 120_000

needs_slicer = pytest.mark.skipif(
    ENGINE is None or not is_resources_folder(UNPACKED),
    reason="needs CuraEngine on PATH and the definitions `make cura` unpacks",
)


@pytest.fixture
def config_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """This counter's config file; no PRINTDESK_ variable names the slicer."""
    path = tmp_path / "config" / "printdesk.toml"
    monkeypatch.setenv("PRINTDESK_CONFIG", str(path))
    monkeypatch.delenv("PRINTDESK_CURAENGINE", raising=False)
    monkeypatch.delenv("PRINTDESK_CURA_RESOURCES", raising=False)
    return path


@pytest.fixture
def notices() -> list[Notice]:
    return []


def _context(database: Database, actor: Actor, db_url: str, tmp_path: Path) -> AppContext:
    config = AppConfig(DATABASE_URL=db_url, data_dir=tmp_path / "counter")
    return AppContext(database, actor, Notifier(), TaskRunner(), config=lambda: config)


@pytest.fixture
def open_page(
    qtbot: QtBot, database: Database, db_url: str, tmp_path: Path, config_file: Path
) -> Iterator[object]:
    made: list[tuple[AppContext, QWidget]] = []

    def open_for(actor: Actor) -> tuple[SettingsPage, SlicerSettingsPanel, AppContext]:
        ctx = _context(database, actor, db_url, tmp_path)
        shell = ShellViewModel(
            user_label="test",
            database_label="test",
            settings=QSettings(str(tmp_path / "shell.ini"), QSettings.Format.IniFormat),
        )
        page = build_settings_page(ctx, shell)
        host = QWidget()
        host.setStyleSheet(STYLESHEET)
        QHBoxLayout(host).addWidget(page)
        host.resize(1440, 900)
        qtbot.addWidget(host)
        host.show()
        qtbot.waitExposed(host)
        made.append((ctx, host))
        go_to(qtbot, page, "Slicer")
        panel = page.extra["slicer"]
        assert isinstance(panel, SlicerSettingsPanel) and page.stack.currentWidget() is panel
        qtbot.waitUntil(lambda: panel.vm.finding is not None and not panel.vm.looking)
        return page, panel, ctx

    yield open_for
    for ctx, host in made:
        ctx.runner.cancel_all()
        ctx.runner.wait()
        host.close()


@needs_slicer
def test_what_was_found_and_a_test_slice_by_the_real_engine(
    qtbot: QtBot, open_page: object, admin: Actor, tmp_path: Path
) -> None:
    assert callable(open_page) and ENGINE is not None
    page, panel, _ = open_page(admin)
    version = engine_version(Path(ENGINE))
    assert panel.engine_found.text() == f"CuraEngine {version} at {ENGINE}"
    assert panel.engine_source.text() == "Found on this computer"
    shown = panel.resources_found.text()
    assert shown.endswith(f" printers in {UNPACKED}") and int(shown.split()[0]) > 100
    assert panel.engine_mark.text() == panel.resources_mark.text() == "✓"
    assert panel.engine.placeholderText() == "Found by PrintDesk" and panel.engine.text() == ""

    with qtbot.waitSignal(panel.vm.tested, timeout=SLICE_MS) as outcome:
        qtbot.mouseClick(panel.test_button, Qt.MouseButton.LeftButton)
        # The slice runs on the task runner: the screen says so meanwhile and stays live.
        assert panel.test_button.text() == "Slicing…" and not panel.test_button.isEnabled()
        assert panel.busy.isVisible()
    assert outcome.args is not None and outcome.args[0] is not None, panel.trial.text()

    # The same cube, sliced here by CuraEngine directly, gives the figures on the screen.
    from core.slicing.locate import locate_cura

    cura = locate_cura(env={"PATH": str(Path(ENGINE).parent)}, config_file=tmp_path / "no.toml")
    direct = slice_part(SliceRequest(cube_stl(tmp_path), TEST_PRINTER, TEST_MATERIAL), cura=cura)
    minutes = round(direct.print_time_s / 60)
    text = panel.trial.text()
    assert f"{minutes} min" in text and f"{direct.filament_g:.1f} g of filament" in text
    assert f"CuraEngine {version}" in text and "Creality Ender-3" in text
    assert panel.trial_mark.text() == "✓" and panel.test_button.isEnabled()
    keep_shot(page.window(), "settings-slicer.png")


@needs_slicer
def test_an_admin_chooses_another_engine_and_folder(
    qtbot: QtBot, open_page: object, admin: Actor, config_file: Path, tmp_path: Path
) -> None:
    assert callable(open_page) and ENGINE is not None
    _, panel, ctx = open_page(admin)
    notices: list[Notice] = []
    ctx.notifier.posted.connect(notices.append)
    assert not panel.save_button.isEnabled()

    retype(qtbot, panel.engine, str(tmp_path / "no-such" / "CuraEngine"))
    assert panel.save_button.isEnabled()
    qtbot.mouseClick(panel.save_button, Qt.MouseButton.LeftButton)
    assert panel.error.isVisible()
    assert panel.error.text().startswith(f"CuraEngine was not found at {tmp_path / 'no-such'}")
    assert not config_file.exists()  # nothing written

    retype(qtbot, panel.engine, ENGINE)
    retype(qtbot, panel.resources, str(tmp_path))
    qtbot.mouseClick(panel.save_button, Qt.MouseButton.LeftButton)
    assert "is not Cura's resources folder" in panel.error.text()
    assert not config_file.exists()

    # Another copy of the definitions, picked as a person would, with the folder picker.
    chosen = tmp_path / "Cura resources"
    shutil.copytree(UNPACKED / "definitions", chosen / "definitions")
    shutil.copytree(UNPACKED / "extruders", chosen / "extruders")
    qtbot.mouseClick(panel.resources_choose, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel.dialog is not None and panel.dialog.isVisible())
    assert panel.dialog is not None
    panel.dialog.fileSelected.emit(str(chosen))
    panel.dialog.reject()
    qtbot.waitUntil(lambda: panel.dialog is None)
    assert panel.resources.text() == str(chosen)
    with qtbot.waitSignal(panel.vm.found, timeout=30_000):
        qtbot.mouseClick(panel.save_button, Qt.MouseButton.LeftButton)
    assert not panel.error.isVisible(), panel.error.text()
    assert read_config_file(config_file) == {"curaengine": ENGINE, "cura_resources": str(chosen)}
    assert AppConfig().cura_resources == str(chosen)
    assert panel.resources_found.text().endswith(f"printers in {chosen}")
    assert panel.resources_source.text() == panel.engine_source.text()
    assert panel.engine_source.text() == "Chosen in Settings → Slicer"
    assert notices[-1].text.startswith("Slicer saved")
    assert not panel.save_button.isEnabled()

    # Emptied fields go back to what PrintDesk finds by itself.
    retype(qtbot, panel.engine, "")
    retype(qtbot, panel.resources, "")
    with qtbot.waitSignal(panel.vm.found, timeout=30_000):
        qtbot.mouseClick(panel.save_button, Qt.MouseButton.LeftButton)
    assert read_config_file(config_file) == {}
    assert panel.resources_found.text().endswith(f"printers in {UNPACKED}")
    assert panel.engine_source.text() == "Found on this computer"


def test_the_environment_wins_and_a_bad_folder_fails_the_test_slice_clearly(
    qtbot: QtBot,
    open_page: object,
    admin: Actor,
    tmp_path: Path,
    config_file: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert callable(open_page)
    bare = tmp_path / "bare-resources"
    (bare / "definitions").mkdir(parents=True)
    (bare / "extruders").mkdir()
    (bare / "definitions" / "fdmprinter.def.json").write_text('{"name": "FFF"}')
    monkeypatch.setenv("PRINTDESK_CURA_RESOURCES", str(bare))
    config_file.parent.mkdir(parents=True)
    config_file.write_text(f'cura_resources = "{UNPACKED}"\n')
    page, panel, _ = open_page(admin)
    assert panel.resources.text() == str(bare) and panel.resources.isReadOnly()
    assert not panel.resources_choose.isEnabled()
    assert "PRINTDESK_CURA_RESOURCES" in panel.note.text() and panel.note.isVisible()
    assert panel.resources_found.text() == f"0 printers in {bare}"
    assert panel.resources_source.text() == "Set in the environment"
    with qtbot.waitSignal(panel.vm.tested, timeout=SLICE_MS) as outcome:
        qtbot.mouseClick(panel.test_button, Qt.MouseButton.LeftButton)
    assert outcome.args == [None]
    text = panel.trial.text()
    assert text.startswith("The test slice failed: "), text
    assert panel.trial_mark.text() == "✗"
    if ENGINE is not None:  # with an engine, the definitions are what is wrong
        assert "creality_ender3" in text
    keep_shot(page.window(), "settings-slicer-env.png")


def test_staff_see_the_slicer_but_cannot_change_it(
    qtbot: QtBot, open_page: object, staff: Actor
) -> None:
    assert callable(open_page)
    _, panel, _ = open_page(staff)
    assert panel.note.text() == "Only an admin can choose another slicer."
    assert panel.engine.isReadOnly() and panel.resources.isReadOnly()
    assert not panel.engine_choose.isEnabled() and not panel.resources_choose.isEnabled()
    assert not panel.save_button.isVisible()
    assert panel.test_button.isEnabled()
    assert panel.engine_found.text()  # what was found, or why not


@needs_slicer
def test_the_first_run_setup_shows_the_same_finding(
    qtbot: QtBot, database: Database, config_file: Path
) -> None:
    from core.slicing.finding import find_slicer

    vm = AuthViewModel(database)
    with qtbot.waitSignal(vm.checked, timeout=30_000) as checked:
        dialog = SetupDialog(vm)
        qtbot.addWidget(dialog)
    assert checked.args is not None and checked.args[0] == "slicer"
    dialog.show()
    qtbot.waitExposed(dialog)
    expected = find_slicer().summary()
    assert expected.startswith("CuraEngine ") and str(UNPACKED) in expected
    assert dialog.slicer.text() == f"✓ {expected}"
    keep_shot(dialog, "setup-slicer.png")
    dialog.reject()
