"""Where PrintDesk keeps its data and how it reaches its database (env vars, keyring, config
file). Secrets come from the environment or the OS keyring (`core.secrets`), never the file."""

from __future__ import annotations

import logging
import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import platformdirs
from pydantic import Field, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

log = logging.getLogger(__name__)

APP_NAME = "PrintDesk"


class ConfigError(ValueError):
    """The config file cannot take what was asked; the message is for a person."""


def default_data_dir() -> Path:
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def default_config_file() -> Path:
    return Path(platformdirs.user_config_dir(APP_NAME, appauthor=False)) / "printdesk.toml"


def default_log_dir() -> Path:
    return Path(platformdirs.user_log_dir(APP_NAME, appauthor=False))


def config_file_path() -> Path:
    return Path(os.environ.get("PRINTDESK_CONFIG", str(default_config_file())))


def read_config_file(path: Path) -> dict[str, Any]:
    """The TOML file's keys, or nothing when there is no file."""
    if not path.is_file():
        return {}
    with path.open("rb") as fh:
        return tomllib.load(fh)


class _TomlFileSource(PydanticBaseSettingsSource):
    """Reads the optional TOML config file named by PRINTDESK_CONFIG (or the platform default)."""

    def __init__(self, settings_cls: type[BaseSettings], path: Path) -> None:
        super().__init__(settings_cls)
        self._data = read_config_file(path)
        # Older files may still hold one; it keeps working, but the log says where it belongs.
        for name in sorted(_secrets_in(self._data)):
            log.warning("config.secret_in_file key=%s file=%s", name, path)

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return self._data.get(field_name), field_name, False

    def __call__(self) -> dict[str, Any]:
        return _by_alias(self.settings_cls, self._data)


class _KeyringSource(PydanticBaseSettingsSource):
    """Secrets kept in the OS keyring (ranked after the environment, before the file)."""

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        from core.secrets import keyring_secrets

        return _by_alias(self.settings_cls, keyring_secrets())


def _by_alias(settings_cls: type[BaseSettings], values: Mapping[str, Any]) -> dict[str, Any]:
    """Values keyed as validation expects them: a field with an env alias (``database_url``
    is read as ``DATABASE_URL``) is only found under that alias."""
    fields = settings_cls.model_fields
    out: dict[str, Any] = {}
    for name, value in values.items():
        if name in fields:
            alias = fields[name].validation_alias
            out[alias if isinstance(alias, str) else name] = value
    return out


def _secrets_in(values: Mapping[str, Any]) -> set[str]:
    from core.secrets import SECRET_FIELDS

    found = {k for k, v in values.items() if k in SECRET_FIELDS and v}
    for key in ("database_url", "listen_database_url"):
        url = values.get(key)
        if isinstance(url, str) and _url_password(url):
            found.add(key)
    return found


def _url_password(url: str) -> str | None:
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).password
    except Exception:  # an unparsable URL fails where it is used, with its own message
        return None


def _with_password(url: str | None, password: str) -> str | None:
    if not url or _url_password(url):
        return url
    from sqlalchemy.engine import make_url

    return make_url(url).set(password=password).render_as_string(hide_password=False)


def write_config_file(path: Path, values: Mapping[str, Any]) -> None:
    """Merge ``values`` into the TOML file; a secret is refused with where it goes instead."""
    from core.secrets import SECRETS

    refused = _secrets_in(values)
    if refused:
        name = sorted(refused)[0]
        spec = next((s for s in SECRETS if s.field == name), None)
        if spec is None:  # a database URL with a password in it
            raise ConfigError(
                f"The config file does not keep passwords: put {name} in it without "
                "the password and keep the password with `printdesk secrets set "
                "database-password` (or in PRINTDESK_DATABASE_PASSWORD)."
            )
        raise ConfigError(
            f"The config file does not keep secrets: keep {name} with `printdesk secrets set "
            f"{spec.name}` (or in the {spec.env} environment variable)."
        )
    unknown = sorted(set(values) - set(AppConfig.model_fields))
    if unknown:
        raise ConfigError(f"Unknown setting {unknown[0]!r} for the config file.")
    data = {**read_config_file(path), **values}
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text("".join(f"{k} = {_toml_value(v)}\n" for k, v in data.items() if v is not None))
    os.replace(tmp, path)


def _toml_value(value: Any) -> str:
    import json

    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return json.dumps(str(value))  # a JSON string is a valid TOML basic string


class AppConfig(BaseSettings):
    """Machine-level configuration; the shop's own settings live in the database."""

    model_config = SettingsConfigDict(env_prefix="PRINTDESK_", extra="ignore")

    data_dir: Path = Field(default_factory=default_data_dir)
    database_url: str | None = Field(
        default=None,
        validation_alias="DATABASE_URL",
        description="PostgreSQL URL; unset means the embedded server in data_dir.",
    )
    # The password of DATABASE_URL's user when the URL leaves it out (kept in the keyring).
    database_password: str | None = None
    # Is DATABASE_URL a transaction-mode pooler (no prepared statements, no LISTEN)? "auto"
    # reads it from the URL: port 6543, `?pgbouncer=true`.
    database_pooler: str = Field(default="auto", pattern="^(auto|true|false)$")
    # A session connection (direct or session pooler) for live updates' LISTEN; unset means
    # DATABASE_URL unless that is a transaction pooler, in which case the counter polls.
    listen_database_url: str | None = None
    config_file: Path = Field(default_factory=config_file_path)
    log_level: str = "INFO"
    log_dir: Path = Field(default_factory=default_log_dir)

    # Backups of this counter: `printdesk backup` and, when daily, the desktop's timer.
    backup_dir: Path | None = None
    backup_daily: bool = False

    # Stripe: off until a secret key is set. The API base is only changed for tests.
    stripe_secret_key: str | None = Field(default=None, validation_alias="STRIPE_SECRET_KEY")
    stripe_webhook_secret: str | None = Field(
        default=None, validation_alias="STRIPE_WEBHOOK_SECRET"
    )
    stripe_api_base: str | None = None
    checkout_success_url: str = "https://example.com/paid?invoice={INVOICE_NUMBER}"
    checkout_cancel_url: str = "https://example.com/cancelled?invoice={INVOICE_NUMBER}"

    # Email: off until an SMTP host is set.
    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_security: str = Field(default="starttls", pattern="^(starttls|ssl|none)$")
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_from: str | None = None
    smtp_timeout_s: float = 20.0

    # The slicer of this counter, chosen in Settings → Slicer; unset means searched for
    # (core.slicing.locate), and PRINTDESK_CURAENGINE / PRINTDESK_CURA_RESOURCES win.
    curaengine: str | None = None
    cura_resources: str | None = None

    # Storage: local folders in the data dir unless Supabase is set.
    storage_backend: str = Field(default="local", pattern="^(local|supabase)$")
    supabase_url: str | None = None
    supabase_service_key: str | None = None

    # The relay: where the counters reach it (health page), and its own limits (cloud side).
    relay_url: str | None = None
    relay_max_body_bytes: int = 256 * 1024
    relay_maintenance_interval_s: int = 300

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (
            init_settings,
            env_settings,
            _KeyringSource(settings_cls),
            _TomlFileSource(settings_cls, config_file_path()),
        )

    @field_validator("database_pooler", mode="before")
    @classmethod
    def _pooler_word(cls, value: Any) -> Any:
        # TOML writes `database_pooler = true`; the environment writes "true" or "1".
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, str):
            word = value.strip().lower()
            return {"1": "true", "yes": "true", "0": "false", "no": "false"}.get(word, word)
        return value

    @model_validator(mode="after")
    def _password_into_url(self) -> AppConfig:
        # The listener's URL is the same project's database: the same password serves it.
        if self.database_password:
            self.database_url = _with_password(self.database_url, self.database_password)
            self.listen_database_url = _with_password(
                self.listen_database_url, self.database_password
            )
        return self

    @property
    def pgdata_dir(self) -> Path:
        return self.data_dir / "pgdata"

    @property
    def storage_dir(self) -> Path:
        return self.data_dir / "storage"
