"""Secrets: the environment wins, else the keyring; the config file never takes one; the CLI
keeps, lists and deletes them without printing a value. The OS store is stood in for by a
keyring backend that keeps its passwords in a JSON file (so a subprocess sees them too)."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import keyring
import keyring.backend
import keyring.errors
import pytest
from jaraco.classes import properties
from keyring.backends import fail

from core.config import AppConfig, ConfigError, read_config_file, write_config_file
from core.secrets import SERVICE, SecretError, Source, secret_sources, set_secret
from tests.cli_runner import ROOT


class FileKeyring(keyring.backend.KeyringBackend):
    """A keyring kept in the JSON file named by PRINTDESK_TEST_KEYRING."""

    @properties.classproperty
    def priority(cls) -> float:
        # keyring offers every KeyringBackend subclass when it picks one: never choose this
        # outside a test that asked for it.
        if "PRINTDESK_TEST_KEYRING" not in os.environ:
            raise RuntimeError("a test stand-in")
        return 1

    @property
    def _path(self) -> Path:
        return Path(os.environ["PRINTDESK_TEST_KEYRING"])

    def _load(self) -> dict[str, str]:
        return json.loads(self._path.read_text()) if self._path.exists() else {}

    def get_password(self, service: str, username: str) -> str | None:
        return self._load().get(f"{service}/{username}")

    def set_password(self, service: str, username: str, password: str) -> None:
        data = self._load()
        data[f"{service}/{username}"] = password
        self._path.write_text(json.dumps(data))

    def delete_password(self, service: str, username: str) -> None:
        data = self._load()
        if data.pop(f"{service}/{username}", None) is None:
            raise keyring.errors.PasswordDeleteError(username)
        self._path.write_text(json.dumps(data))


SECRET_ENV = (
    "STRIPE_SECRET_KEY",
    "STRIPE_WEBHOOK_SECRET",
    "PRINTDESK_SMTP_PASSWORD",
    "PRINTDESK_DATABASE_PASSWORD",
    "PRINTDESK_SUPABASE_SERVICE_KEY",
    "DATABASE_URL",
)


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    previous = keyring.get_keyring()  # before PYTHON_KEYRING_BACKEND can pick ours
    path = tmp_path / "keyring.json"
    monkeypatch.setenv("PRINTDESK_TEST_KEYRING", str(path))
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "tests.test_secrets.FileKeyring")
    monkeypatch.setenv("PRINTDESK_CONFIG", str(tmp_path / "printdesk.toml"))
    monkeypatch.setenv("PRINTDESK_DATA_DIR", str(tmp_path / "data"))
    for name in SECRET_ENV:
        monkeypatch.delenv(name, raising=False)
    keyring.set_keyring(FileKeyring())
    yield path
    keyring.set_keyring(previous)


def test_a_secret_comes_from_the_keyring_unless_the_environment_sets_it(
    store: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    set_secret("stripe-secret-key", "sk_test_from_keyring")
    set_secret("smtp_password", "mail pass")
    set_secret("database-password", "db p@ss")
    monkeypatch.setenv("DATABASE_URL", "postgresql://shop@db.example.com:5432/printdesk")

    config = AppConfig()
    assert config.stripe_secret_key == "sk_test_from_keyring"
    assert config.smtp_password == "mail pass"
    assert config.stripe_webhook_secret is None
    from sqlalchemy.engine import make_url

    url = make_url(config.database_url or "")
    assert url.password == "db p@ss" and url.username == "shop" and url.host == "db.example.com"

    monkeypatch.setenv("STRIPE_SECRET_KEY", "sk_test_from_env")
    monkeypatch.setenv("DATABASE_URL", "postgresql://shop:urlpass@db.example.com/printdesk")
    config = AppConfig()
    assert config.stripe_secret_key == "sk_test_from_env"
    assert make_url(config.database_url or "").password == "urlpass"

    sources = {s.name: s.source for s in secret_sources({})}
    assert sources == {
        "stripe-secret-key": Source.ENV,
        "stripe-webhook-secret": Source.UNSET,
        "smtp-password": Source.KEYRING,
        "database-password": Source.DATABASE_URL,
        "supabase-service-key": Source.UNSET,
    }
    assert json.loads(store.read_text())[f"{SERVICE}/stripe_secret_key"] == "sk_test_from_keyring"


def test_the_config_file_refuses_secrets_and_says_where_they_go(
    store: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "printdesk.toml"
    write_config_file(path, {"log_level": "DEBUG", "backup_daily": True})
    with pytest.raises(ConfigError, match="printdesk secrets set stripe-secret-key"):
        write_config_file(path, {"stripe_secret_key": "sk_live_x"})
    with pytest.raises(ConfigError, match="database-password"):
        write_config_file(path, {"database_url": "postgresql://u:secret@h/db"})
    with pytest.raises(ConfigError, match="Unknown setting 'colour'"):
        write_config_file(path, {"colour": "red"})
    write_config_file(path, {"database_url": "postgresql://u@h/db"})
    assert read_config_file(path) == {
        "log_level": "DEBUG",
        "backup_daily": True,
        "database_url": "postgresql://u@h/db",
    }
    config = AppConfig()
    assert config.log_level == "DEBUG" and config.backup_daily is True
    assert config.database_url == "postgresql://u@h/db"

    # A file written before secrets moved still works, and the log says where it belongs.
    path.write_text('smtp_password = "old"\n')
    with caplog.at_level(logging.WARNING, logger="core.config"):
        assert AppConfig().smtp_password == "old"
    assert "config.secret_in_file key=smtp_password" in caplog.text
    assert secret_sources(read_config_file(path))[2].source is Source.CONFIG_FILE


def test_no_keyring_is_a_clear_message_and_env_vars_still_work(
    store: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    keyring.set_keyring(fail.Keyring())
    monkeypatch.setenv("STRIPE_SECRET_KEY", "sk_test_env")
    config = AppConfig()
    assert config.stripe_secret_key == "sk_test_env" and config.smtp_password is None
    with pytest.raises(SecretError, match="No keyring is available"):
        set_secret("smtp-password", "x")
    with pytest.raises(SecretError, match="Unknown secret 'stripe-key'"):
        set_secret("stripe-key", "x")


def run_cli(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cli", "secrets", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=dict(os.environ),
        cwd=ROOT,
        timeout=120,
        check=False,
    )


def test_cli_keeps_lists_and_deletes_secrets_without_printing_them(
    store: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    kept = run_cli("set", "stripe-webhook-secret", "--stdin", stdin="whsec_abc123\n")
    assert kept.returncode == 0, kept.stderr
    assert "whsec_abc123" not in kept.stdout
    assert json.loads(store.read_text()) == {f"{SERVICE}/stripe_webhook_secret": "whsec_abc123"}

    monkeypatch.setenv("PRINTDESK_SMTP_PASSWORD", "from-env")
    listed = run_cli("list", "--json")
    assert listed.returncode == 0, listed.stderr
    assert "whsec_abc123" not in listed.stdout and "from-env" not in listed.stdout
    sources = {s["name"]: s["source"] for s in json.loads(listed.stdout)["secrets"]}
    assert sources["stripe-webhook-secret"] == "keyring"
    assert sources["smtp-password"] == "environment"
    assert sources["stripe-secret-key"] == "not set"

    empty = run_cli("set", "smtp-password", "--stdin", stdin="\n")
    assert empty.returncode == 1 and "cannot be empty" in empty.stderr
    unknown = run_cli("delete", "paypal")
    assert unknown.returncode == 1 and len(unknown.stderr.strip().splitlines()) == 1

    gone = run_cli("delete", "stripe-webhook-secret")
    assert gone.returncode == 0 and "Removed" in gone.stdout
    assert json.loads(store.read_text()) == {}

    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
    headless = run_cli("set", "smtp-password", "--stdin", stdin="x\n")
    assert headless.returncode == 1
    assert "No keyring is available" in headless.stderr
    assert "PRINTDESK_SMTP_PASSWORD" in headless.stderr
