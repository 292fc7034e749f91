"""Settings → Email, as an admin sets up a new counter: type the mail server, save, see it kept
(server in the config file, password in the keyring), send a test email to a real SMTP server on
loopback and read it in its mailbox; a wrong password, bad input, no keyring, the environment
and staff."""

# pytest-qt's input helpers carry no annotations.
# mypy: disable-error-code="no-untyped-call"
# Fixtures imported from support modules are named again as test parameters:
# ruff: noqa: F811

from __future__ import annotations

from pathlib import Path

import keyring
import pytest
from keyring.backends import fail
from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QHBoxLayout, QWidget
from pytestqt.qtbot import QtBot

from core.config import AppConfig, read_config_file
from core.db.engine import Database
from core.enums import Role
from desktop.viewmodels.context import AppContext
from desktop.viewmodels.notifier import Notifier
from desktop.viewmodels.shell import ShellViewModel
from desktop.views.email_settings import EmailSettingsPanel
from desktop.views.health import HealthPanel
from desktop.views.settings import build_settings_page
from desktop.views.theme import STYLESHEET
from tests.gui.counter_support import (  # noqa: F401 (fixtures)
    ADMIN_EMAIL,
    Counter,
    Keyring,
    Open,
    config_file,
    file_keyring,
    open_counter,
    signed_in,
)
from tests.gui.shots import keep_shot
from tests.gui.test_jobs import choose
from tests.gui.test_settings import go_to, retype
from tests.mail.conftest import (  # noqa: F401 (fixtures)
    PASSWORD,
    SENDER,
    USERNAME,
    StartServer,
    mail_server,
    tls_files,
)
from workers.tasks import TaskRunner

# The settings screen loads in the background: no SQL may run on the GUI thread.
pytestmark = pytest.mark.no_gui_thread_sql


def _email(qtbot: QtBot, screen: Counter) -> EmailSettingsPanel:
    go_to(qtbot, screen.page, "Email")
    panel = screen.page.extra["email"]
    assert isinstance(panel, EmailSettingsPanel)
    assert screen.page.stack.currentWidget() is panel
    return panel


def _click(qtbot: QtBot, button: object) -> None:
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def test_type_the_mail_server_save_and_send_a_test_email(
    qtbot: QtBot,
    open_counter: Open,
    database: Database,
    config_file: Path,
    file_keyring: Keyring,
    mail_server: StartServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    server = mail_server(security="starttls", auth=True)
    # The test server's certificate is trusted the way a shop trusts its own CA: OpenSSL's
    # SSL_CERT_FILE, read by the default context PrintDesk makes.
    monkeypatch.setenv("SSL_CERT_FILE", str(server.tls.cert))
    admin = signed_in(database)
    screen = open_counter(admin)
    panel = _email(qtbot, screen)
    # The test email goes to the signed-in admin unless they type another address.
    qtbot.waitUntil(lambda: panel.recipient.text() == ADMIN_EMAIL)
    assert panel.inputs["smtp_port"].text() == "587"
    assert "SMTP password: not set." in screen.texts()
    assert not panel.save_button.isEnabled()

    retype(qtbot, panel.inputs["smtp_host"], "127.0.0.1")
    retype(qtbot, panel.inputs["smtp_port"], str(server.port))
    choose(qtbot, panel.security, "SSL/TLS (usually port 465)")
    choose(qtbot, panel.security, "STARTTLS (usually port 587)")
    retype(qtbot, panel.inputs["smtp_username"], USERNAME)
    retype(qtbot, panel.password.input, PASSWORD)
    retype(qtbot, panel.inputs["smtp_from"], SENDER)
    keep_shot(screen.host, "settings-email-typed.png")
    assert panel.save_button.isEnabled()
    _click(qtbot, panel.save_button)
    assert not panel.error.isVisible(), panel.error.text()

    # The server settings are in this counter's config file; the password only in the keyring.
    saved = read_config_file(config_file)
    assert saved == {
        "smtp_host": "127.0.0.1",
        "smtp_port": server.port,
        "smtp_security": "starttls",
        "smtp_username": USERNAME,
        "smtp_from": SENDER,
    }
    assert PASSWORD not in config_file.read_text()
    assert file_keyring.held() == {"smtp_password": PASSWORD}
    fresh = AppConfig()
    assert (fresh.smtp_host, fresh.smtp_port, fresh.smtp_password) == (
        "127.0.0.1",
        server.port,
        PASSWORD,
    )
    assert panel.password.input.text() == ""  # never shown again
    assert "SMTP password: set, kept in this computer's keyring." in screen.texts()
    assert not panel.save_button.isEnabled()
    assert any("127.0.0.1" in n.text for n in screen.notices)

    # Opened again, the section shows what was saved.
    screen.host.close()
    again = open_counter(admin)
    panel = _email(qtbot, again)
    assert panel.inputs["smtp_host"].text() == "127.0.0.1"
    assert panel.inputs["smtp_port"].text() == str(server.port)
    assert panel.security.currentData() == "starttls"
    assert panel.inputs["smtp_username"].text() == USERNAME
    assert panel.inputs["smtp_from"].text() == SENDER
    assert panel.password.forget_button.isVisible()
    assert PASSWORD not in again.texts()

    # Send a test email: it arrives, over TLS, logged in.
    qtbot.waitUntil(lambda: panel.recipient.text() == ADMIN_EMAIL)
    with qtbot.waitSignal(panel.vm.tested, timeout=20_000) as sent:
        _click(qtbot, panel.test_button)
        assert panel.test_button.text() == "Sending…"
    assert sent.args[0].ok, sent.args[0].message
    assert len(server.delivered) == 1
    delivered = server.delivered[0]
    assert delivered.rcpt_tos == [ADMIN_EMAIL]
    assert delivered.over_tls and delivered.login == USERNAME
    assert delivered.message()["Subject"] == "PrintDesk test email"
    assert delivered.mail_from == SENDER
    assert panel.result.isVisible() and ADMIN_EMAIL in panel.result.text()
    keep_shot(again.host, "settings-email-sent.png")

    # A wrong password typed over the kept one: the server's refusal, said plainly.
    retype(qtbot, panel.password.input, "not the password")
    retype(qtbot, panel.recipient, "someone@layerlab.example")
    with qtbot.waitSignal(panel.vm.tested, timeout=20_000) as refused:
        _click(qtbot, panel.test_button)
    assert not refused.args[0].ok
    assert panel.result.isVisible()
    assert f"refused the login for {USERNAME} (535 " in panel.result.text()
    assert "Settings → Email" in panel.result.text()
    keep_shot(again.host, "settings-email-refused.png")
    assert len(server.delivered) == 1
    assert file_keyring.held() == {"smtp_password": PASSWORD}  # nothing was saved


def test_a_server_that_is_not_there_and_bad_input_are_said_plainly(
    qtbot: QtBot, open_counter: Open, database: Database, config_file: Path, file_keyring: Keyring
) -> None:
    screen = open_counter(signed_in(database))
    panel = _email(qtbot, screen)
    retype(qtbot, panel.inputs["smtp_port"], "58 7")
    retype(qtbot, panel.inputs["smtp_from"], "invoices at shop")
    _click(qtbot, panel.save_button)
    assert panel.cells["smtp_port"].error.text().startswith("The port is a whole number")
    assert "is not a valid email address" in panel.cells["smtp_from"].error.text()
    assert not config_file.exists()  # nothing half-written

    # No server: the test email says so; nothing is saved by trying.
    from tests.mail.conftest import free_port

    retype(qtbot, panel.inputs["smtp_host"], "127.0.0.1")
    retype(qtbot, panel.inputs["smtp_port"], str(free_port()))
    choose(qtbot, panel.security, "None: not encrypted (a server on this computer only)")
    retype(qtbot, panel.inputs["smtp_from"], SENDER)
    retype(qtbot, panel.recipient, "not an address")
    _click(qtbot, panel.test_button)
    assert panel.recipient_error.text() == "not an address is not a valid email address."
    retype(qtbot, panel.recipient, ADMIN_EMAIL)
    with qtbot.waitSignal(panel.vm.tested, timeout=20_000) as tried:
        _click(qtbot, panel.test_button)
    assert not tried.args[0].ok
    assert "the connection was refused" in panel.result.text()
    assert not config_file.exists()


def test_without_a_keyring_the_password_field_says_which_variable_to_set(
    qtbot: QtBot,
    open_counter: Open,
    database: Database,
    config_file: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    previous = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    try:
        monkeypatch.setenv("PRINTDESK_SMTP_HOST", "smtp.layerlab.example")
        screen = open_counter(signed_in(database))
        panel = _email(qtbot, screen)
        assert panel.password.input.isReadOnly()
        assert panel.password.problem.isVisible()
        assert "No keyring is available" in panel.password.problem.text()
        assert "PRINTDESK_SMTP_PASSWORD" in panel.password.problem.text()
        # The environment's server wins and is shown read-only.
        assert panel.inputs["smtp_host"].text() == "smtp.layerlab.example"
        assert panel.inputs["smtp_host"].isReadOnly()
        assert "PRINTDESK_SMTP_HOST" in panel.env_note.text() and panel.env_note.isVisible()
        retype(qtbot, panel.inputs["smtp_username"], USERNAME)
        _click(qtbot, panel.save_button)
        assert read_config_file(config_file) == {
            "smtp_port": 587,
            "smtp_security": "starttls",
            "smtp_username": USERNAME,
        }
        keep_shot(screen.host, "settings-email-no-keyring.png")
    finally:
        keyring.set_keyring(previous)


def test_staff_see_the_email_settings_read_only(
    qtbot: QtBot, open_counter: Open, database: Database, file_keyring: Keyring
) -> None:
    screen = open_counter(signed_in(database, Role.STAFF))
    panel = _email(qtbot, screen)
    assert panel.read_only.isVisible()
    assert all(box.isReadOnly() for box in (panel.inputs["smtp_host"], panel.password.input))
    assert not panel.security.isEnabled()
    assert not panel.save_button.isVisible()
    assert not panel.test_button.isEnabled()
    assert not panel.vm.save()


def test_a_new_counter_sets_up_email_and_health_sees_it_at_once(
    qtbot: QtBot,
    database: Database,
    tmp_path: Path,
    config_file: Path,
    file_keyring: Keyring,
    mail_server: StartServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """From nothing, as the app starts: its own context reads the config file when asked; after
    Save the Health section checks the new server without a restart."""
    server = mail_server(security="none")
    monkeypatch.setenv("PRINTDESK_DATA_DIR", str(tmp_path / "new data"))
    ctx = AppContext(database, signed_in(database), Notifier(), TaskRunner())
    assert ctx.config().smtp_host is None  # a new counter: email is off
    qsettings = QSettings(str(tmp_path / "shell.ini"), QSettings.Format.IniFormat)
    shell = ShellViewModel(user_label="test", database_label="test", settings=qsettings)
    page = build_settings_page(ctx, shell)
    host = QWidget()
    host.setStyleSheet(STYLESHEET)
    QHBoxLayout(host).addWidget(page)
    host.resize(1440, 900)
    qtbot.addWidget(host)
    host.show()
    qtbot.waitExposed(host)
    try:
        screen = Counter(page, host, ctx, [])
        panel = _email(qtbot, screen)
        retype(qtbot, panel.inputs["smtp_host"], "127.0.0.1")
        retype(qtbot, panel.inputs["smtp_port"], str(server.port))
        choose(qtbot, panel.security, "None: not encrypted (a server on this computer only)")
        retype(qtbot, panel.inputs["smtp_from"], SENDER)
        _click(qtbot, panel.save_button)
        assert not panel.error.isVisible(), panel.error.text()
        assert ctx.config().smtp_host == "127.0.0.1"

        health = page.extra["health"]
        assert isinstance(health, HealthPanel)
        with qtbot.waitSignal(health.vm.finished, timeout=60_000):
            go_to(qtbot, page, "Health")
        rows = {name: (mark, detail) for mark, name, detail, _fix in health.row_texts()}
        assert rows["Email"] == ("✓", f"Connected to 127.0.0.1:{server.port} (none).")
    finally:
        ctx.runner.wait()
        host.close()
