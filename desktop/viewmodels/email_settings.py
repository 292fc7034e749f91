"""Settings → Email: this counter's SMTP server (kept in its config file), the SMTP password (in
the OS keyring), and "Send a test email" on the task runner."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from core.config import AppConfig, ConfigError, write_config_file
from core.errors import ServiceError
from core.mail import MailError, MailSettings, SmtpSecurity, check_address
from core.mail_probe import send_test_email
from core.secrets import SecretError
from core.services import settings as shop_settings
from core.services import users
from desktop.viewmodels.context import AppContext
from desktop.viewmodels.counter_secret import (
    CounterSecret,
    environment,
    file_values,
    restore_file,
)
from workers.tasks import CancelToken, Task

READ_ONLY = "Only an admin can change the email settings."
SECURITY_CHOICES: tuple[tuple[str, str], ...] = (
    ("starttls", "STARTTLS (usually port 587)"),
    ("ssl", "SSL/TLS (usually port 465)"),
    ("none", "None: not encrypted (a server on this computer only)"),
)


@dataclass(frozen=True)
class MailField:
    key: str  # the AppConfig field
    env: str
    label: str


FIELDS: tuple[MailField, ...] = (
    MailField("smtp_host", "PRINTDESK_SMTP_HOST", "SMTP server"),
    MailField("smtp_port", "PRINTDESK_SMTP_PORT", "Port"),
    MailField("smtp_security", "PRINTDESK_SMTP_SECURITY", "Security"),
    MailField("smtp_username", "PRINTDESK_SMTP_USERNAME", "Username"),
    MailField("smtp_from", "PRINTDESK_SMTP_FROM", "From address"),
)
KEYS = tuple(f.key for f in FIELDS)


@dataclass(frozen=True)
class TestOutcome:
    ok: bool
    message: str


SECURITY: dict[str, SmtpSecurity] = {"starttls": "starttls", "ssl": "ssl", "none": "none"}


def _text_or_none(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _shown(value: object) -> str:
    return "" if value is None else str(value)


class EmailSettingsViewModel(QObject):
    changed = Signal()
    saved = Signal()
    tested = Signal(object)  # TestOutcome of "Send a test email"

    def __init__(self, ctx: AppContext, *, environ: Mapping[str, str] | None = None) -> None:
        super().__init__()
        self._ctx = ctx
        self._environ = environ
        self.config_file: Path = ctx.config().config_file
        self.password = CounterSecret("smtp-password", self.config_file, environ)
        self._saved: dict[str, str] = {}
        self._values: dict[str, str] = {}
        self.from_env: dict[str, bool] = {}
        self._errors: dict[str, str] = {}
        self._error = ""
        self._recipient = ""
        self._recipient_typed = False
        self._outcome: TestOutcome | None = None
        self._task: Task | None = None
        self._read()

    def _read(self) -> None:
        env = environment(self._environ)
        stored = file_values(self.config_file)
        defaults = AppConfig.model_fields
        for field in FIELDS:
            self.from_env[field.key] = field.env in env
            if field.env in env:
                value = env[field.env]
            elif field.key in stored:
                value = _shown(stored[field.key])
            else:
                value = _shown(defaults[field.key].default)
            self._saved[field.key] = value
        self._values = dict(self._saved)
        self.password.refresh()

    # -- state
    @property
    def can_edit(self) -> bool:
        return self._ctx.actor.is_admin

    @property
    def read_only_note(self) -> str:
        return "" if self.can_edit else READ_ONLY

    def value(self, key: str) -> str:
        return self._values[key]

    def editable(self, key: str) -> bool:
        return self.can_edit and not self.from_env[key]

    def field_error(self, key: str) -> str:
        return self._errors.get(key, "")

    @property
    def error(self) -> str:
        return self._error

    @property
    def dirty(self) -> bool:
        typed = {k: v.strip() for k, v in self._values.items()}
        return typed != {k: v.strip() for k, v in self._saved.items()} or bool(
            self.password.typed.strip()
        )

    @property
    def can_save(self) -> bool:
        return self.can_edit and self.dirty

    @property
    def env_note(self) -> str:
        names = [f.env for f in FIELDS if self.from_env[f.key]]
        if not names:
            return ""
        return (
            f"On this computer {', '.join(names)} {'is' if len(names) == 1 else 'are'} set in "
            "the environment, which wins over the config file: those fields are shown "
            "read-only; change them where the environment is set."
        )

    @property
    def recipient(self) -> str:
        return self._recipient

    @property
    def busy(self) -> bool:
        return self._task is not None

    @property
    def can_test(self) -> bool:
        return self.can_edit and not self.busy

    @property
    def outcome(self) -> TestOutcome | None:
        return self._outcome

    # -- commands
    def set_value(self, key: str, value: str) -> None:
        if self.editable(key) and value != self._values[key]:
            self._values[key] = value
            self._errors.pop(key, None)
            self._error = ""
            self.changed.emit()

    def set_password(self, value: str) -> None:
        if self.can_edit and self.password.can_type and value != self.password.typed:
            self.password.typed = value
            self._error = ""
            self.changed.emit()

    def set_recipient(self, value: str) -> None:
        if value != self._recipient:
            self._recipient = value
            self._recipient_typed = True
            self._errors.pop("recipient", None)
            self.changed.emit()

    def load(self) -> Task | None:
        """Read the settings again, and the signed-in user's address (off the GUI thread) as
        the test email's default recipient."""
        if not self.dirty:
            self._read()
        self.changed.emit()
        user_id = self._ctx.actor.user_id
        if user_id is None or self._recipient_typed or self._recipient:
            return None
        db = self._ctx.db

        def read(_progress: Callable[[float], None], _cancel: CancelToken) -> str:
            with db.session() as s:
                return users.get_user(s, user_id).email

        task = Task(read)
        task.signals.finished.connect(self._user_email)
        task.signals.failed.connect(lambda *_: None)  # no default then: the field stays empty
        return self._ctx.runner.start(task)

    def save(self) -> bool:
        """Server fields to the config file, the typed password to the keyring; False with the
        errors set (and nothing changed) when they cannot be kept."""
        if not self.can_edit:
            return self._fail(READ_ONLY)
        values = self._checked()
        if values is None:
            return self._fail("")
        if self.password.typed.strip() and not self.password.can_type:
            return self._fail(self.password.problem or self.password.status)
        kept = {k: v for k, v in values.items() if not self.from_env[k]}
        before = self.config_file.read_bytes() if self.config_file.is_file() else None
        try:
            write_config_file(self.config_file, kept)
            self.password.keep()
        except (ConfigError, SecretError) as exc:
            restore_file(self.config_file, before)
            return self._fail(str(exc))
        except ValueError as exc:  # the file is there but is not TOML
            return self._fail(f"The config file {self.config_file} cannot be read: {exc}")
        except OSError as exc:
            restore_file(self.config_file, before)
            return self._fail(
                f"The settings cannot be written to {self.config_file}: {exc.strerror or exc}."
            )
        self._ctx.config_saved()
        self._read()
        self._errors = {}
        self._error = ""
        self.changed.emit()
        self.saved.emit()
        host = self._saved["smtp_host"].strip()
        self._ctx.notifier.info(
            f"Email settings saved: mail goes out through {host}."
            if host
            else "Email settings saved: email is off until an SMTP server is set."
        )
        return True

    def forget_password(self) -> bool:
        if not self.can_edit:
            return self._fail(READ_ONLY)
        try:
            self.password.forget()
        except SecretError as exc:
            return self._fail(str(exc))
        self._ctx.config_saved()
        self.changed.emit()
        self._ctx.notifier.info("The SMTP password was removed from this computer's keyring.")
        return True

    def send_test(self) -> Task | None:
        """Send a test email with the settings shown (saved or not) to ``recipient``; the
        outcome reaches ``tested`` and the page."""
        if not self.can_test:
            return None
        values = self._checked()
        to = self._recipient.strip()
        try:
            check_address(to, what="The address to send the test email to")
        except MailError as exc:
            self._errors["recipient"] = str(exc)
        if values is None or "recipient" in self._errors:
            self._fail("")
            return None
        if not values["smtp_host"]:
            self._errors["smtp_host"] = "Enter the SMTP server first."
            self._fail("")
            return None
        mail = MailSettings(
            host=str(values["smtp_host"]),
            port=int(str(values["smtp_port"])),
            security=SECURITY[str(values["smtp_security"])],
            username=_text_or_none(values["smtp_username"]),
            password=self.password.value(),
            from_address=_text_or_none(values["smtp_from"]),
            timeout_s=min(self._ctx.config().smtp_timeout_s, 20.0),
        )
        db = self._ctx.db

        def work(_progress: Callable[[float], None], _cancel: CancelToken) -> TestOutcome:
            with db.session() as s:
                shop = shop_settings.get_settings(s)[0]
            return TestOutcome(True, send_test_email(shop, mail, to))

        task = Task(work, describe=self._describe)
        task.signals.finished.connect(self._tested)
        task.signals.failed.connect(
            lambda message, _details: self._tested(TestOutcome(False, message))
        )
        task.signals.cancelled.connect(self._cancelled)
        self._task = task
        self._outcome = None
        self._error = ""
        self.changed.emit()
        return self._ctx.runner.start(task)

    # -- helpers
    def _checked(self) -> dict[str, object] | None:
        """The typed values as the config file keeps them; None with field errors set."""
        errors: dict[str, str] = {}
        host = self._values["smtp_host"].strip()
        if any(ch.isspace() for ch in host) or "/" in host:
            errors["smtp_host"] = "Give the server's name only, e.g. smtp.example.com."
        port_text = self._values["smtp_port"].strip()
        port = int(port_text) if port_text.isdigit() else 0
        if not 1 <= port <= 65535:
            errors["smtp_port"] = "The port is a whole number from 1 to 65535 (587 or 465)."
        security = self._values["smtp_security"].strip().lower()
        if security not in {value for value, _ in SECURITY_CHOICES}:
            errors["smtp_security"] = "Choose starttls, ssl or none."
        sender = self._values["smtp_from"].strip()
        if sender:
            try:
                check_address(sender, what="The From address")
            except MailError as exc:
                errors["smtp_from"] = str(exc)
        self._errors = {k: v for k, v in self._errors.items() if k == "recipient"} | errors
        if errors:
            return None
        return {
            "smtp_host": host or None,
            "smtp_port": port,
            "smtp_security": security,
            "smtp_username": self._values["smtp_username"].strip() or None,
            "smtp_from": sender or None,
        }

    @staticmethod
    def _describe(exc: BaseException) -> str:
        if isinstance(exc, ServiceError):
            return str(exc)
        return f"The test email could not be sent: {exc or type(exc).__name__}"

    def _fail(self, message: str) -> bool:
        self._error = message
        self.changed.emit()
        return False

    def _user_email(self, email: str) -> None:
        if not self._recipient_typed and not self._recipient:
            self._recipient = email
            self.changed.emit()

    def _tested(self, outcome: TestOutcome) -> None:
        self._task = None
        self._outcome = outcome
        if outcome.ok:
            self._ctx.notifier.info(outcome.message)
        self.changed.emit()
        self.tested.emit(outcome)

    def _cancelled(self) -> None:
        self._task = None
        self.changed.emit()
