"""Fixtures for this counter's settings sections (Email, Payments): a config file of the test's
own, a keyring backend that keeps its passwords in a JSON file (keyring's own backend setting
picks it, as in tests/test_secrets.py), and the settings page opened at 1440×900."""

# pytest-qt's input helpers carry no annotations.
# mypy: disable-error-code="no-untyped-call"

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import keyring
import pytest
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QHBoxLayout, QLabel, QWidget
from pytestqt.qtbot import QtBot

from core.actor import SYSTEM_ACTOR, Actor
from core.config import AppConfig
from core.db.engine import Database
from core.enums import Role
from core.secrets import SERVICE
from core.services import users
from desktop.viewmodels.context import AppContext
from desktop.viewmodels.notifier import Notice, Notifier
from desktop.viewmodels.shell import ShellViewModel
from desktop.views.settings import SettingsPage, build_settings_page
from desktop.views.theme import STYLESHEET
from tests.test_secrets import SECRET_ENV, FileKeyring
from workers.tasks import TaskRunner

COUNTER_ENV = (
    *SECRET_ENV,
    "PRINTDESK_SMTP_HOST",
    "PRINTDESK_SMTP_PORT",
    "PRINTDESK_SMTP_SECURITY",
    "PRINTDESK_SMTP_USERNAME",
    "PRINTDESK_SMTP_FROM",
    "PRINTDESK_CHECKOUT_SUCCESS_URL",
    "PRINTDESK_CHECKOUT_CANCEL_URL",
    "PRINTDESK_STRIPE_API_BASE",
)
ADMIN_EMAIL = "ada@layerlab.example"


@dataclass
class Keyring:
    path: Path

    def held(self) -> dict[str, str]:
        """What the keyring holds, by AppConfig field."""
        if not self.path.exists():
            return {}
        data: dict[str, str] = json.loads(self.path.read_text())
        return {k.removeprefix(f"{SERVICE}/"): v for k, v in data.items()}


@pytest.fixture
def config_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The counter's config file, where a fresh AppConfig looks for it; no setting of the
    machine running the tests leaks in."""
    path = tmp_path / "config" / "printdesk.toml"
    monkeypatch.setenv("PRINTDESK_CONFIG", str(path))
    for name in COUNTER_ENV:
        monkeypatch.delenv(name, raising=False)
    return path


@pytest.fixture
def file_keyring(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Keyring]:
    previous = keyring.get_keyring()
    path = tmp_path / "keyring.json"
    monkeypatch.setenv("PRINTDESK_TEST_KEYRING", str(path))
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "tests.test_secrets.FileKeyring")
    keyring.set_keyring(FileKeyring())
    yield Keyring(path)
    keyring.set_keyring(previous)


def signed_in(database: Database, role: Role = Role.ADMIN) -> Actor:
    """A user made the way the Users section makes one, signed in."""
    with database.session() as s:
        email = ADMIN_EMAIL if role is Role.ADMIN else "bea@layerlab.example"
        user = users.add_user(s, SYSTEM_ACTOR, email, "Ada", role, "a long password 1")
    return users.actor_for(user)


@dataclass
class Counter:
    page: SettingsPage
    host: QWidget
    ctx: AppContext
    notices: list[Notice]

    def texts(self) -> str:
        """Every label the page shows, one per line."""
        return "\n".join(label.text() for label in self.page.findChildren(QLabel))


Open = Callable[..., Counter]


@pytest.fixture
def open_counter(
    qtbot: QtBot, database: Database, tmp_path: Path, config_file: Path
) -> Iterator[Open]:
    opened: list[Counter] = []

    def opener(actor: Actor, **config: Any) -> Counter:
        counter = AppConfig(DATABASE_URL=None, data_dir=tmp_path / "counter", **config)
        notifier = Notifier()
        notices: list[Notice] = []
        notifier.posted.connect(notices.append)
        ctx = AppContext(database, actor, notifier, TaskRunner(), config=lambda: counter)
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
        screen = Counter(page, host, ctx, notices)
        opened.append(screen)
        return screen

    yield opener
    for screen in opened:
        screen.ctx.runner.wait()
        screen.host.close()
