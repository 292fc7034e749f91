"""The shop's secrets in the OS keyring: Stripe keys, SMTP and database passwords, Supabase key.

An environment variable always wins; the keyring is asked only for what the environment does not
set; the config file never holds a secret. A machine without a usable keyring (CI, a headless
Linux box) still works from environment variables, and `keyring_problem` says why the keyring
cannot be used.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

import keyring
import keyring.backend
import keyring.errors
from keyring.backends import chainer, fail

log = logging.getLogger(__name__)

SERVICE: Final = "PrintDesk"


class SecretError(RuntimeError):
    """A secret could not be read or written; the message is for a person."""


@dataclass(frozen=True)
class SecretSpec:
    name: str  # as typed on the command line
    field: str  # the AppConfig field (database_password: the password part of database_url)
    env: str
    meaning: str


SECRETS: Final = (
    SecretSpec("stripe-secret-key", "stripe_secret_key", "STRIPE_SECRET_KEY", "Stripe secret key"),
    SecretSpec(
        "stripe-webhook-secret",
        "stripe_webhook_secret",
        "STRIPE_WEBHOOK_SECRET",
        "Stripe webhook signing secret",
    ),
    SecretSpec("smtp-password", "smtp_password", "PRINTDESK_SMTP_PASSWORD", "SMTP password"),
    SecretSpec(
        "database-password",
        "database_password",
        "PRINTDESK_DATABASE_PASSWORD",
        "password of the DATABASE_URL user",
    ),
    SecretSpec(
        "supabase-service-key",
        "supabase_service_key",
        "PRINTDESK_SUPABASE_SERVICE_KEY",
        "Supabase service key",
    ),
)
SECRET_FIELDS: Final = frozenset(s.field for s in SECRETS)


class Source(StrEnum):
    ENV = "environment"
    KEYRING = "keyring"
    CONFIG_FILE = "config file"
    DATABASE_URL = "DATABASE_URL"
    UNSET = "not set"


def spec(name: str) -> SecretSpec:
    """The secret called ``name`` (``stripe-secret-key`` or ``stripe_secret_key``)."""
    wanted = name.strip().lower().replace("_", "-")
    for s in SECRETS:
        if s.name == wanted:
            return s
    known = ", ".join(s.name for s in SECRETS)
    raise SecretError(f"Unknown secret {name!r}: PrintDesk keeps {known}.")


def keyring_problem() -> str | None:
    """Why the keyring cannot hold secrets on this machine, or None when it can."""
    backend = keyring.get_keyring()
    if isinstance(backend, fail.Keyring) or (
        isinstance(backend, chainer.ChainerBackend) and not backend.backends
    ):
        return (
            "No keyring is available on this machine (no Secret Service, Keychain or Windows "
            "Credential Manager). Set the secrets as environment variables instead."
        )
    return None


def read_secret(field: str) -> str | None:
    """The secret for ``field`` from the keyring; None when absent or no keyring is usable."""
    try:
        value = keyring.get_password(SERVICE, field)
    except keyring.errors.NoKeyringError:
        return None
    except keyring.errors.KeyringError as exc:  # locked, DBus gone, …: env vars still work
        log.warning("secrets.keyring_unreadable field=%s error=%s", field, exc)
        return None
    return value or None


def keyring_secrets() -> dict[str, str]:
    """Every secret the keyring holds, by AppConfig field (an empty dict without a keyring)."""
    if keyring_problem() is not None:
        return {}
    found = {s.field: read_secret(s.field) for s in SECRETS}
    return {k: v for k, v in found.items() if v}


def set_secret(name: str, value: str) -> SecretSpec:
    """Keep ``value`` in the keyring under the secret ``name``."""
    secret = spec(name)
    if not value.strip():
        raise SecretError(f"The {secret.meaning} cannot be empty.")
    _require_keyring()
    try:
        keyring.set_password(SERVICE, secret.field, value)
    except keyring.errors.KeyringError as exc:
        raise SecretError(f"The keyring refused the {secret.meaning}: {exc}") from exc
    return secret


def delete_secret(name: str) -> bool:
    """Remove the secret ``name`` from the keyring; False when it held none."""
    secret = spec(name)
    _require_keyring()
    try:
        keyring.delete_password(SERVICE, secret.field)
    except keyring.errors.PasswordDeleteError:
        return False
    except keyring.errors.KeyringError as exc:
        raise SecretError(f"The keyring refused to delete the {secret.meaning}: {exc}") from exc
    return True


@dataclass(frozen=True)
class SecretStatus:
    name: str
    meaning: str
    source: Source
    env: str


def secret_sources(
    file_values: Mapping[str, object], environ: Mapping[str, str] | None = None
) -> list[SecretStatus]:
    """Where each secret comes from (never its value), in the order AppConfig reads them."""
    env = os.environ if environ is None else environ
    held = keyring_secrets()
    out: list[SecretStatus] = []
    for s in SECRETS:
        if env.get(s.env):
            source = Source.ENV
        elif s.field == "database_password" and _url_has_password(env.get("DATABASE_URL")):
            source = Source.DATABASE_URL
        elif s.field in held:
            source = Source.KEYRING
        elif file_values.get(s.field) or (
            s.field == "database_password"
            and _url_has_password(_str_or_none(file_values.get("database_url")))
        ):
            source = Source.CONFIG_FILE
        else:
            source = Source.UNSET
        out.append(SecretStatus(s.name, s.meaning, source, s.env))
    return out


def _require_keyring() -> None:
    problem = keyring_problem()
    if problem is not None:
        raise SecretError(problem)


def _str_or_none(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _url_has_password(url: str | None) -> bool:
    if not url:
        return False
    from sqlalchemy.engine import make_url

    try:
        return bool(make_url(url).password)
    except Exception:  # an unparsable URL fails later, where it is used, with its own message
        return False
