"""Settings → Health, as a person would use it: open it, read each part, fix one, check again."""

# pytest-qt's input helpers carry no annotations.
# mypy: disable-error-code="no-untyped-call"

from __future__ import annotations

import datetime as dt
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QHBoxLayout, QWidget
from pytestqt.qtbot import QtBot

from core.actor import Actor
from core.backup import BackupRecord, record_backup
from core.config import AppConfig, read_config_file
from core.db.engine import Database
from core.health import check_slicer
from core.slicing.locate import Places
from desktop.viewmodels.auth import AuthViewModel
from desktop.viewmodels.context import AppContext
from desktop.viewmodels.notifier import Notifier
from desktop.viewmodels.shell import ShellViewModel
from desktop.views.health import HealthPanel
from desktop.views.settings import SettingsPage, build_settings_page
from desktop.views.sign_in import SetupDialog
from desktop.views.theme import STYLESHEET
from tests.gui.shots import keep_shot
from tests.gui.test_settings import go_to
from tests.stripe_standin import DEFAULT_KEY, StripeStandin
from workers.tasks import TaskRunner


class _Mailbox:
    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture
def stripe() -> Iterator[StripeStandin]:
    with StripeStandin() as standin:
        yield standin


@pytest.fixture
def settings_page(
    qtbot: QtBot, database: Database, admin: Actor, tmp_path: Path, stripe: StripeStandin
) -> Iterator[tuple[SettingsPage, AppConfig]]:
    config = AppConfig(
        data_dir=tmp_path / "data",
        database_url=None,
        STRIPE_SECRET_KEY=DEFAULT_KEY,
        stripe_api_base=stripe.url,
        smtp_host="127.0.0.1",
        smtp_port=_free_port(),  # nothing listens there yet
        smtp_security="none",
        smtp_timeout_s=5,
    )
    record_backup(
        config,
        BackupRecord(dt.datetime.now(dt.UTC), tmp_path / "backups" / "shop.tar", True, "ok"),
    )
    runner = TaskRunner()
    ctx = AppContext(database, admin, Notifier(), runner, config=lambda: config)
    qsettings = QSettings(str(tmp_path / "shell.ini"), QSettings.Format.IniFormat)
    shell = ShellViewModel(user_label="test", database_label="test", settings=qsettings)
    page = build_settings_page(ctx, shell)
    host = QWidget()
    host.setStyleSheet(STYLESHEET)
    QHBoxLayout(host).addWidget(page)
    host.resize(1240, 860)
    qtbot.addWidget(host)
    host.show()
    qtbot.waitExposed(host)
    yield page, config
    runner.wait()
    host.close()


def _panel(page: SettingsPage) -> HealthPanel:
    panel = page.extra["health"]
    assert isinstance(panel, HealthPanel)
    return panel


@pytest.mark.no_gui_thread_sql
def test_health_shows_each_part_and_the_truth_after_a_fix(
    qtbot: QtBot, settings_page: tuple[SettingsPage, AppConfig]
) -> None:
    page, config = settings_page
    panel = _panel(page)
    with qtbot.waitSignal(panel.vm.finished, timeout=60_000):
        go_to(qtbot, page, "Health")  # the first visit checks by itself
    assert page.stack.currentWidget() is panel

    rows = {name: (mark, detail, fix) for mark, name, detail, fix in panel.row_texts()}
    assert list(rows) == [
        "Database",
        "Live updates",
        "File storage",
        "Slicer",
        "Stripe",
        "Email",
        "Payment relay",
        "Backup",
    ]
    for part in ("Database", "Live updates", "File storage", "Slicer", "Stripe", "Backup"):
        assert rows[part][0] == "✓", (part, rows[part])
    assert "test mode" in rows["Stripe"][1]
    mark, detail, fix = rows["Email"]
    assert mark == "✗" and "refused the connection" in detail
    assert fix.startswith("Fix: ") and "Settings → Email" in fix
    assert rows["Payment relay"][0] == "–" and "relay_url" in rows["Payment relay"][2]
    assert "Listening on" in rows["Live updates"][1]
    assert panel.summary.text() == "1 of 8 parts need attention."
    assert panel.when.text().startswith("Last checked ")
    keep_shot(panel, "health_page.png")
    keep_shot(page.window(), "health_settings.png")

    # The shop starts its mail server; "Check again" now shows email working.
    controller = Controller(_Mailbox(), hostname="127.0.0.1", port=config.smtp_port)
    controller.start()
    try:
        with qtbot.waitSignal(panel.vm.finished, timeout=60_000):
            qtbot.mouseClick(panel.check_button, Qt.MouseButton.LeftButton)
            assert not panel.check_button.isEnabled()
            assert {r[0] for r in panel.row_texts()} == {"…"}
    finally:
        controller.stop()
    rows = {name: (mark, detail, fix) for mark, name, detail, fix in panel.row_texts()}
    assert rows["Email"][0] == "✓" and "Connected to 127.0.0.1" in rows["Email"][1]
    assert rows["Email"][2] == ""
    assert panel.summary.text() == "Everything works."
    assert panel.check_button.isEnabled()


@pytest.mark.no_gui_thread_sql
def test_check_again_with_the_keyboard(
    qtbot: QtBot, settings_page: tuple[SettingsPage, AppConfig]
) -> None:
    page, _ = settings_page
    panel = _panel(page)
    with qtbot.waitSignal(panel.vm.finished, timeout=60_000):
        go_to(qtbot, page, "Health")
    first = panel.when.text()
    with qtbot.waitSignal(panel.vm.finished, timeout=60_000):
        panel.check_button.setFocus()
        qtbot.keyClick(panel.check_button, Qt.Key.Key_Space)
    assert panel.when.text().startswith("Last checked ")
    assert panel.vm.rows[0].name == "Database" and first
    # Leaving Health for another section and back shows the other section, then Health again.
    go_to(qtbot, page, "Business")
    assert page.stack.currentWidget() is not panel
    go_to(qtbot, page, "Health")
    assert page.stack.currentWidget() is panel


# -------------------------------------------------------------------------- first-run setup


def test_setup_finds_the_slicer_and_tests_stripe_and_email(
    qtbot: QtBot, database: Database, tmp_path: Path, stripe: StripeStandin
) -> None:
    config = AppConfig(
        data_dir=tmp_path / "data",
        config_file=tmp_path / "printdesk.toml",
        stripe_api_base=stripe.url,
    )
    vm = AuthViewModel(database, config=lambda: config)
    dialog = SetupDialog(vm)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    qtbot.waitUntil(lambda: dialog.slicer.text().startswith("✓"), timeout=30_000)
    assert "CuraEngine" in dialog.slicer.text() and "definitions" in dialog.slicer.text()
    assert not dialog.stripe_test.isEnabled() and not dialog.email_test.isEnabled()

    qtbot.keyClicks(dialog.stripe_key, "sk_test_someone_elses_key")
    with qtbot.waitSignal(vm.checked, timeout=30_000):
        qtbot.mouseClick(dialog.stripe_test, Qt.MouseButton.LeftButton)
    assert dialog.stripe_result.text().startswith("✗")
    assert "API keys" in dialog.stripe_result.text()
    dialog.stripe_key.clear()
    qtbot.keyClicks(dialog.stripe_key, DEFAULT_KEY)
    with qtbot.waitSignal(vm.checked, timeout=30_000):
        qtbot.mouseClick(dialog.stripe_test, Qt.MouseButton.LeftButton)
    assert dialog.stripe_result.text() == "✓ The key works (test mode)."

    port = _free_port()
    controller = Controller(_Mailbox(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        qtbot.keyClicks(dialog.smtp_host, "127.0.0.1")
        dialog.smtp_security.setCurrentIndex(dialog.smtp_security.findData("none"))
        dialog.smtp_port.setValue(port)
        with qtbot.waitSignal(vm.checked, timeout=30_000):
            qtbot.mouseClick(dialog.email_test, Qt.MouseButton.LeftButton)
    finally:
        controller.stop()
    assert dialog.email_result.text() == f"✓ Connected to 127.0.0.1:{port} (none)."
    keep_shot(dialog, "setup_dialog.png")

    # Finishing the setup keeps the mail server in the config file (no secret was given).
    dialog.stripe_key.clear()
    for field, text in (
        (dialog.shop_name, "Harbour Prints"),
        (dialog.admin_name, "Ada Owner"),
        (dialog.admin_email, "ada@harbour.example"),
        (dialog.password, "long enough"),
        (dialog.password_again, "long enough"),
    ):
        qtbot.keyClicks(field, text)
    with qtbot.waitSignal(vm.signed_in):
        qtbot.mouseClick(dialog.ok, Qt.MouseButton.LeftButton)
    saved = read_config_file(config.config_file)
    assert saved["smtp_host"] == "127.0.0.1" and saved["smtp_port"] == port
    assert saved["smtp_security"] == "none"


@pytest.mark.no_gui_thread_sql
def test_setup_says_how_to_install_a_missing_slicer(
    qtbot: QtBot, database: Database, tmp_path: Path
) -> None:
    # The machine, not the code: this "computer" (an empty folder tree, nothing on PATH, no
    # variables) has no CuraEngine where PrintDesk looks.
    machine = Places(root=tmp_path / "machine", home=tmp_path / "home", unpacked=())
    empty = {"PATH": str(tmp_path / "bin")}
    vm = AuthViewModel(
        database,
        config=lambda: AppConfig(data_dir=tmp_path / "data"),
        check_slicer=lambda: check_slicer(
            env=empty, places=machine, config_file=tmp_path / "none.toml"
        ),
    )
    dialog = SetupDialog(vm)
    qtbot.addWidget(dialog)
    qtbot.waitUntil(lambda: dialog.slicer.text().startswith("✗"), timeout=30_000)
    assert "CuraEngine was not found" in dialog.slicer.text()
    assert "Install UltiMaker Cura" in dialog.slicer.text()
