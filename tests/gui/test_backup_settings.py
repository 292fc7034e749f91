"""Settings → Backups, as a shop uses it: choose a folder, turn daily backups on, save, back up
now; bad folders and an environment that overrides the file."""

# pytest-qt's input helpers carry no annotations.
# mypy: disable-error-code="no-untyped-call"

from __future__ import annotations

import tarfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QHBoxLayout, QWidget
from pytestqt.qtbot import QtBot

from core.actor import Actor
from core.backup import PREFIX, backup_due, last_backup
from core.config import AppConfig, read_config_file
from core.db.engine import Database
from desktop.viewmodels.backup_schedule import BackupSchedule
from desktop.viewmodels.backup_settings import BackupSettingsViewModel
from desktop.viewmodels.context import AppContext
from desktop.viewmodels.notifier import Level, Notice, Notifier
from desktop.viewmodels.shell import ShellViewModel
from desktop.views.backup_settings import BackupSettingsPanel
from desktop.views.settings import SettingsPage, build_settings_page
from desktop.views.theme import STYLESHEET
from tests.gui.shots import keep_shot
from tests.gui.test_settings import go_to, retype
from workers.tasks import TaskRunner

# The settings screen loads in the background: no SQL may run on the GUI thread.
pytestmark = pytest.mark.no_gui_thread_sql


@pytest.fixture
def config_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The counter's config file, where a fresh AppConfig looks for it."""
    path = tmp_path / "config" / "printdesk.toml"
    monkeypatch.setenv("PRINTDESK_CONFIG", str(path))
    monkeypatch.delenv("PRINTDESK_BACKUP_DIR", raising=False)
    monkeypatch.delenv("PRINTDESK_BACKUP_DAILY", raising=False)
    return path


@pytest.fixture
def counter(db_url: str, tmp_path: Path, config_file: Path) -> AppConfig:
    return AppConfig(DATABASE_URL=db_url, data_dir=tmp_path / "counter")


@pytest.fixture
def notices() -> list[Notice]:
    return []


@pytest.fixture
def counter_ctx(
    database: Database, admin: Actor, counter: AppConfig, notices: list[Notice]
) -> Iterator[AppContext]:
    notifier = Notifier()
    notifier.posted.connect(notices.append)
    context = AppContext(database, admin, notifier, TaskRunner(), config=lambda: counter)
    yield context
    context.runner.cancel_all()
    context.runner.wait()


@pytest.fixture
def page(qtbot: QtBot, counter_ctx: AppContext, tmp_path: Path) -> Iterator[SettingsPage]:
    qsettings = QSettings(str(tmp_path / "shell.ini"), QSettings.Format.IniFormat)
    shell = ShellViewModel(user_label="test", database_label="test", settings=qsettings)
    settings_page = build_settings_page(counter_ctx, shell)
    host = QWidget()
    host.setStyleSheet(STYLESHEET)
    QHBoxLayout(host).addWidget(settings_page)
    host.resize(1440, 900)
    qtbot.addWidget(host)
    host.show()
    qtbot.waitExposed(host)
    yield settings_page
    counter_ctx.runner.wait()
    host.close()


def _panel(page: SettingsPage) -> BackupSettingsPanel:
    panel = page.extra["backups"]
    assert isinstance(panel, BackupSettingsPanel)
    return panel


def test_choose_a_folder_save_and_back_up_now(
    qtbot: QtBot,
    page: SettingsPage,
    config_file: Path,
    counter: AppConfig,
    tmp_path: Path,
    notices: list[Notice],
) -> None:
    go_to(qtbot, page, "Backups")
    panel = _panel(page)
    assert page.stack.currentWidget() is panel
    assert panel.last.text() == "No backup has run on this counter yet."
    assert not panel.save_button.isEnabled()
    assert not panel.env_note.isVisible()

    # Choose… opens the folder picker; the folder picked lands in the field.
    folder = tmp_path / "Shop backups" / "counter 1"
    qtbot.mouseClick(panel.choose_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel.dialog is not None and panel.dialog.isVisible())
    assert panel.dialog is not None
    panel.dialog.fileSelected.emit(str(folder))
    panel.dialog.reject()
    qtbot.waitUntil(lambda: panel.dialog is None)
    assert panel.folder.text() == str(folder)
    qtbot.mouseClick(panel.daily, Qt.MouseButton.LeftButton)
    assert panel.daily.isChecked() and panel.save_button.isEnabled()

    qtbot.mouseClick(panel.save_button, Qt.MouseButton.LeftButton)
    assert not panel.error.isVisible(), panel.error.text()
    assert folder.is_dir()  # made when saved, so the first backup cannot fail on it
    assert read_config_file(config_file) == {"backup_dir": str(folder), "backup_daily": True}
    fresh = AppConfig()
    assert fresh.backup_dir == folder and fresh.backup_daily
    assert not panel.save_button.isEnabled()
    assert notices[-1].text == f"Backups saved: every day to {folder}."

    # The daily schedule reads the settings anew, so the change just saved reaches it.
    schedule_config = AppConfig(DATABASE_URL=counter.database_url, data_dir=counter.data_dir)
    assert backup_due(schedule_config, now=datetime.now(UTC))

    with qtbot.waitSignal(panel.vm.finished, timeout=120_000):
        qtbot.mouseClick(panel.now_button, Qt.MouseButton.LeftButton)
        assert not panel.now_button.isEnabled() and panel.busy.isVisible()
        assert panel.last.text() == f"Backing up to {folder}…"
        keep_shot(panel, "backups_busy.png")
    qtbot.waitUntil(lambda: panel.last.text().startswith("Last backup "))
    archives = list(folder.glob(f"{PREFIX}*.tar"))
    assert len(archives) == 1
    assert str(archives[0]) in panel.last.text()
    assert panel.mark.text() == "✓" and not panel.busy.isVisible()
    with tarfile.open(archives[0]) as tar:
        assert {"manifest.json", "database.dump"} <= set(tar.getnames())
    assert notices[-1].level is Level.INFO and str(archives[0]) in notices[-1].text
    record = last_backup(counter)
    assert record is not None and record.ok and record.path == archives[0]
    assert not backup_due(schedule_config, now=datetime.now(UTC))
    keep_shot(panel, "backups_panel.png")
    keep_shot(page.window(), "backups_settings.png")

    # Turning daily off again is saved too.
    qtbot.mouseClick(panel.daily, Qt.MouseButton.LeftButton)
    panel.save_button.setFocus()
    qtbot.keyClick(panel.save_button, Qt.Key.Key_Space)
    assert read_config_file(config_file)["backup_daily"] is False
    assert not AppConfig().backup_daily


def test_an_unwritable_folder_gives_the_reason_and_writes_nothing(
    qtbot: QtBot, page: SettingsPage, config_file: Path, tmp_path: Path
) -> None:
    go_to(qtbot, page, "Backups")
    panel = _panel(page)
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the folder would go")
    bad = blocker / "backups"
    retype(qtbot, panel.folder, str(bad))
    qtbot.mouseClick(panel.daily, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(panel.save_button, Qt.MouseButton.LeftButton)
    assert panel.error.isVisible()
    assert panel.error.text() == f"Backups cannot be written to {bad}: Not a directory."
    assert not config_file.exists()
    assert panel.save_button.isEnabled()  # still unsaved

    # Back up now to the same folder: the same reason, no archive, no record.
    qtbot.mouseClick(panel.now_button, Qt.MouseButton.LeftButton)
    assert panel.error.text() == f"Backups cannot be written to {bad}: Not a directory."
    assert panel.now_button.isEnabled()
    assert panel.last.text() == "No backup has run on this counter yet."

    # A relative folder and daily without a folder are refused with what to do.
    retype(qtbot, panel.folder, "backups")
    qtbot.mouseClick(panel.save_button, Qt.MouseButton.LeftButton)
    assert panel.error.text().startswith("Give the backup folder as a full path")
    retype(qtbot, panel.folder, "")
    qtbot.mouseClick(panel.save_button, Qt.MouseButton.LeftButton)
    assert panel.error.text() == "Choose a backup folder first."
    assert not config_file.exists()
    keep_shot(panel, "backups_error.png")


def test_an_unwritable_config_file_is_reported(
    qtbot: QtBot, counter_ctx: AppContext, tmp_path: Path, config_file: Path
) -> None:
    config_file.parent.mkdir(parents=True)
    config_file.write_text("log_level = \n")  # not TOML: the file is left as it is
    vm = BackupSettingsViewModel(counter_ctx)
    vm.set_folder(str(tmp_path / "backups"))
    assert not vm.save()
    assert vm.error.startswith(f"The config file {config_file} cannot be read: ")
    assert "\n" not in vm.error
    assert config_file.read_text() == "log_level = \n"
    assert not (tmp_path / "backups").exists()


def test_settings_from_the_environment_are_shown_read_only(
    qtbot: QtBot,
    database: Database,
    admin: Actor,
    counter: AppConfig,
    tmp_path: Path,
    config_file: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PRINTDESK_BACKUP_DIR", str(tmp_path / "from-env"))
    config = AppConfig(DATABASE_URL=counter.database_url, data_dir=counter.data_dir)
    ctx = AppContext(database, admin, Notifier(), TaskRunner(), config=lambda: config)
    vm = BackupSettingsViewModel(ctx)
    host = QWidget()
    host.setStyleSheet(STYLESHEET)
    panel = BackupSettingsPanel(vm)
    QHBoxLayout(host).addWidget(panel)
    qtbot.addWidget(host)
    host.resize(900, 560)
    host.show()
    qtbot.waitExposed(host)
    assert panel.env_note.isVisible()
    assert panel.env_note.text().startswith(
        "On this computer the folder is set in the environment (PRINTDESK_BACKUP_DIR)"
    )
    assert panel.folder.text() == str(tmp_path / "from-env")
    assert panel.folder.isReadOnly() and not panel.choose_button.isEnabled()
    keep_shot(host, "backups_env.png")

    # The daily switch is still the file's: saving it leaves the folder to the environment.
    qtbot.mouseClick(panel.daily, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(panel.save_button, Qt.MouseButton.LeftButton)
    assert not panel.error.isVisible(), panel.error.text()
    assert read_config_file(config_file) == {"backup_daily": True}
    host.close()


def test_the_schedule_sees_settings_saved_while_it_runs(
    qtbot: QtBot, counter_ctx: AppContext, counter: AppConfig, tmp_path: Path
) -> None:
    """The desktop hands the schedule AppConfig itself; what Backups saves reaches the next
    check without a restart."""

    def current() -> AppConfig:
        return AppConfig(DATABASE_URL=counter.database_url, data_dir=counter.data_dir)

    schedule = BackupSchedule(counter_ctx.runner, counter_ctx.notifier, current)
    assert schedule.check() is None  # daily backups are off
    vm = BackupSettingsViewModel(counter_ctx)
    folder = tmp_path / "daily"
    vm.set_folder(str(folder))
    vm.set_daily(True)
    assert vm.save(), vm.error
    with qtbot.waitSignal(schedule.finished, timeout=120_000) as done:
        assert schedule.check() is not None
    assert done.args is not None and done.args[0].ok
    assert len(list(folder.glob(f"{PREFIX}*.tar"))) == 1
    later = datetime.now(UTC) + timedelta(hours=1)
    assert not backup_due(current(), now=later)


def test_the_schedule_says_once_when_the_settings_cannot_be_read(
    counter_ctx: AppContext, config_file: Path, notices: list[Notice]
) -> None:
    config_file.parent.mkdir(parents=True)
    config_file.write_text("backup_daily = maybe\n")
    schedule = BackupSchedule(counter_ctx.runner, counter_ctx.notifier, AppConfig)
    assert schedule.check() is None
    assert schedule.check() is None
    assert len(notices) == 1 and notices[0].level is Level.ERROR
    assert notices[0].text.startswith("Daily backups cannot read the settings: ")
    config_file.write_text('backup_daily = "maybe"\n')  # TOML, but not a yes or no
    assert schedule.check() is None
    assert len(notices) == 2
    assert notices[1].text == (
        "Daily backups cannot read the settings: backup_daily: "
        "Input should be a valid boolean, unable to interpret input."
    )
