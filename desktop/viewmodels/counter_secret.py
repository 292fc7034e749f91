"""One secret of a counter-settings section (an SMTP password, a Stripe key): where it comes
from, a new value typed over it, and keeping that value in the OS keyring. Never the value
itself on screen, never the config file."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from core.config import read_config_file, write_config_file
from core.secrets import (
    SecretError,
    SecretSpec,
    Source,
    delete_secret,
    keyring_problem,
    read_secret,
    set_secret,
    spec,
)


def environment(environ: Mapping[str, str] | None) -> dict[str, str]:
    """The environment by upper-case name (Windows' variables are not case-sensitive)."""
    return {k.upper(): v for k, v in (os.environ if environ is None else environ).items()}


def file_values(config_file: Path) -> dict[str, Any]:
    """The config file's keys; an unreadable file reads as empty (saving says why)."""
    try:
        return read_config_file(config_file)
    except (OSError, ValueError):
        return {}


def restore_file(path: Path, before: bytes | None) -> None:
    """Put the config file back as it was before a save that failed half-way."""
    try:
        if before is None:
            path.unlink(missing_ok=True)
        else:
            path.write_bytes(before)
    except OSError:
        pass  # the save's own error is what the person needs to read


class CounterSecret:
    """State of one secret; ``refresh`` reads it again from the environment, keyring and file."""

    def __init__(self, name: str, config_file: Path, environ: Mapping[str, str] | None) -> None:
        self.spec: SecretSpec = spec(name)
        self._config_file = config_file
        self._environ = environ
        self.typed = ""
        self.source = Source.UNSET
        self.keyring_problem: str | None = None
        self.refresh()

    def refresh(self) -> None:
        env = environment(self._environ)
        self.keyring_problem = keyring_problem()
        if env.get(self.spec.env):
            self.source = Source.ENV
        elif self.keyring_problem is None and read_secret(self.spec.field):
            self.source = Source.KEYRING
        elif file_values(self._config_file).get(self.spec.field):
            self.source = Source.CONFIG_FILE
        else:
            self.source = Source.UNSET

    # -- state
    @property
    def from_env(self) -> bool:
        return self.source is Source.ENV

    @property
    def is_set(self) -> bool:
        return self.source is not Source.UNSET

    @property
    def can_type(self) -> bool:
        """A value typed here can be kept: the environment does not set it and a keyring is
        usable."""
        return not self.from_env and self.keyring_problem is None

    @property
    def can_forget(self) -> bool:
        return self.source is Source.KEYRING

    @property
    def status(self) -> str:
        """Whether it is set and where from, as a person reads it (never the value)."""
        meaning = self.spec.meaning[0].upper() + self.spec.meaning[1:]
        if self.source is Source.ENV:
            return (
                f"{meaning}: set in the environment ({self.spec.env}) on this computer, which "
                "wins over what is kept here: change it there."
            )
        if self.source is Source.KEYRING:
            return f"{meaning}: set, kept in this computer's keyring."
        if self.source is Source.CONFIG_FILE:
            return (
                f"{meaning}: set in the config file {self._config_file}, which should not hold "
                "secrets. Type it here and save to move it into the keyring."
            )
        return f"{meaning}: not set."

    @property
    def problem(self) -> str:
        """Why a value typed here cannot be kept on this computer, and what to do instead."""
        if self.from_env or self.keyring_problem is None:
            return ""
        return (
            f"No keyring is available on this computer (no Secret Service, Keychain or Windows "
            f"Credential Manager), so the {self.spec.meaning} cannot be kept here: set the "
            f"{self.spec.env} environment variable for PrintDesk instead."
        )

    def value(self) -> str | None:
        """The value in use: what was typed, else the environment's, the keyring's or the
        file's."""
        if self.typed.strip() and not self.from_env:
            return self.typed.strip()
        env = environment(self._environ)
        if env.get(self.spec.env):
            return env[self.spec.env]
        if self.keyring_problem is None:
            held = read_secret(self.spec.field)
            if held:
                return held
        found = file_values(self._config_file).get(self.spec.field)
        return found if isinstance(found, str) and found else None

    # -- commands
    def keep(self) -> bool:
        """Keep the typed value in the keyring (and drop an old copy from the config file);
        False when nothing was typed. Raises ``SecretError`` for a person."""
        value = self.typed.strip()
        if not value:
            return False
        if not self.can_type:
            raise SecretError(self.problem or self.status)
        set_secret(self.spec.name, value)
        if self.source is Source.CONFIG_FILE:
            write_config_file(self._config_file, {self.spec.field: None})
        self.typed = ""
        self.refresh()
        return True

    def forget(self) -> None:
        """Remove it from the keyring. Raises ``SecretError`` for a person."""
        delete_secret(self.spec.name)
        self.typed = ""
        self.refresh()
