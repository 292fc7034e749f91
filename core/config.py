"""Where PrintDesk keeps its data and how it reaches its database (env vars, config file)."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import platformdirs
from pydantic import Field
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

APP_NAME = "PrintDesk"


def default_data_dir() -> Path:
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def default_config_file() -> Path:
    return Path(platformdirs.user_config_dir(APP_NAME, appauthor=False)) / "printdesk.toml"


class _TomlFileSource(PydanticBaseSettingsSource):
    """Reads the optional TOML config file named by PRINTDESK_CONFIG (or the platform default)."""

    def __init__(self, settings_cls: type[BaseSettings], path: Path) -> None:
        super().__init__(settings_cls)
        self._data: dict[str, Any] = {}
        if path.is_file():
            with path.open("rb") as fh:
                self._data = tomllib.load(fh)

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return self._data.get(field_name), field_name, False

    def __call__(self) -> dict[str, Any]:
        return {k: v for k, v in self._data.items() if k in self.settings_cls.model_fields}


class AppConfig(BaseSettings):
    """Machine-level configuration; the shop's own settings live in the database."""

    model_config = SettingsConfigDict(env_prefix="PRINTDESK_", extra="ignore")

    data_dir: Path = Field(default_factory=default_data_dir)
    database_url: str | None = Field(
        default=None,
        validation_alias="DATABASE_URL",
        description="PostgreSQL URL; unset means the embedded server in data_dir.",
    )
    config_file: Path = Field(default_factory=default_config_file)
    log_level: str = "INFO"

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

    # Storage: local folders in the data dir unless Supabase is set.
    storage_backend: str = Field(default="local", pattern="^(local|supabase)$")
    supabase_url: str | None = None
    supabase_service_key: str | None = None

    # The relay (cloud side).
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
        import os

        path = Path(os.environ.get("PRINTDESK_CONFIG", str(default_config_file())))
        return (init_settings, env_settings, _TomlFileSource(settings_cls, path))

    @property
    def pgdata_dir(self) -> Path:
        return self.data_dir / "pgdata"

    @property
    def storage_dir(self) -> Path:
        return self.data_dir / "storage"
