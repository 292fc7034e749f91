"""Settings → Payments: the Stripe secret key and webhook secret (in the OS keyring), "Check the
key" on the task runner, and the pages Stripe sends a client back to (in the config file)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from PySide6.QtCore import QObject, Signal

from core.config import AppConfig, ConfigError, write_config_file
from core.health import PartHealth, State, check_stripe
from core.secrets import SecretError
from desktop.viewmodels.context import AppContext
from desktop.viewmodels.counter_secret import (
    CounterSecret,
    environment,
    file_values,
    restore_file,
)
from workers.tasks import CancelToken, Task

READ_ONLY = "Only an admin can change the payment settings."
PLACEHOLDER = "{INVOICE_NUMBER}"
CHECK_TIMEOUT_S = 8.0
EXAMPLE_HOSTS = frozenset({"example.com", "www.example.com"})
URL_ENV = {
    "checkout_success_url": "PRINTDESK_CHECKOUT_SUCCESS_URL",
    "checkout_cancel_url": "PRINTDESK_CHECKOUT_CANCEL_URL",
}
URL_WHAT = {"checkout_success_url": "The success page", "checkout_cancel_url": "The cancel page"}


@dataclass(frozen=True)
class KeyCheck:
    ok: bool
    message: str


def _url_problem(key: str, url: str) -> str:
    what = URL_WHAT[key]
    parts = urlsplit(url.replace(PLACEHOLDER, "INV-0001"))
    if not url:
        return f"{what} is empty: give the address of a page on your website."
    if parts.scheme not in {"https", "http"} or not parts.netloc or " " in url:
        return f"{what} must be a full web address, e.g. https://yourshop.example/paid."
    return ""


class PaymentSettingsViewModel(QObject):
    changed = Signal()
    saved = Signal()
    checked = Signal(object)  # KeyCheck of "Check the key"

    def __init__(self, ctx: AppContext, *, environ: Mapping[str, str] | None = None) -> None:
        super().__init__()
        self._ctx = ctx
        self._environ = environ
        self.config_file: Path = ctx.config().config_file
        self.secret_key = CounterSecret("stripe-secret-key", self.config_file, environ)
        self.webhook_secret = CounterSecret("stripe-webhook-secret", self.config_file, environ)
        self._saved: dict[str, str] = {}
        self._values: dict[str, str] = {}
        self.from_env: dict[str, bool] = {}
        self._errors: dict[str, str] = {}
        self._error = ""
        self._result: KeyCheck | None = None
        self._task: Task | None = None
        self._read()

    def _read(self) -> None:
        env = environment(self._environ)
        stored = file_values(self.config_file)
        for key, name in URL_ENV.items():
            self.from_env[key] = name in env
            default = AppConfig.model_fields[key].default
            value = env[name] if name in env else stored.get(key, default)
            self._saved[key] = str(value)
        self._values = dict(self._saved)
        self.secret_key.refresh()
        self.webhook_secret.refresh()

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

    def placeholder_note(self, key: str) -> str:
        """A page without {INVOICE_NUMBER} cannot tell the client which invoice was paid."""
        value = self._values[key]
        if self.field_error(key):
            return ""
        if urlsplit(value.strip()).hostname in EXAMPLE_HOSTS:
            return "This is PrintDesk's example address: put a page of your own website here."
        if PLACEHOLDER not in value:
            return (
                f"This address has no {PLACEHOLDER}: the page will not know which invoice it was."
            )
        return ""

    @property
    def error(self) -> str:
        return self._error

    @property
    def dirty(self) -> bool:
        urls = {k: v.strip() for k, v in self._values.items()}
        return (
            urls != {k: v.strip() for k, v in self._saved.items()}
            or bool(self.secret_key.typed.strip())
            or bool(self.webhook_secret.typed.strip())
        )

    @property
    def can_save(self) -> bool:
        return self.can_edit and self.dirty

    @property
    def env_note(self) -> str:
        names = [URL_ENV[k] for k in URL_ENV if self.from_env[k]]
        if not names:
            return ""
        return (
            f"On this computer {', '.join(names)} {'is' if len(names) == 1 else 'are'} set in "
            "the environment, which wins over the config file: change it there."
        )

    @property
    def busy(self) -> bool:
        return self._task is not None

    @property
    def can_check(self) -> bool:
        return self.can_edit and not self.busy

    @property
    def result(self) -> KeyCheck | None:
        return self._result

    # -- commands
    def set_value(self, key: str, value: str) -> None:
        if self.editable(key) and value != self._values[key]:
            self._values[key] = value
            self._errors.pop(key, None)
            self._error = ""
            self.changed.emit()

    def set_secret_key(self, value: str) -> None:
        self._type(self.secret_key, value, "secret_key")

    def set_webhook_secret(self, value: str) -> None:
        self._type(self.webhook_secret, value, "webhook_secret")

    def load(self) -> None:
        if not self.dirty:
            self._read()
        self.changed.emit()

    def save(self) -> bool:
        """The addresses to the config file, typed secrets to the keyring; False with the
        errors set (and nothing changed) when they cannot be kept."""
        if not self.can_edit:
            return self._fail(READ_ONLY)
        if not self._valid():
            return self._fail("")
        secrets = [s for s in (self.secret_key, self.webhook_secret) if s.typed.strip()]
        for secret in secrets:
            if not secret.can_type:
                return self._fail(secret.problem or secret.status)
        urls = {k: v.strip() for k, v in self._values.items() if not self.from_env[k]}
        before = self.config_file.read_bytes() if self.config_file.is_file() else None
        try:
            write_config_file(self.config_file, urls)
            for secret in secrets:
                secret.keep()
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
        self._ctx.notifier.info(
            "Payment settings saved."
            if self.secret_key.is_set
            else "Payment settings saved: payment links stay off until a secret key is set."
        )
        return True

    def forget(self, which: str) -> bool:
        """Remove ``secret_key`` or ``webhook_secret`` from the keyring."""
        if not self.can_edit:
            return self._fail(READ_ONLY)
        secret = self.secret_key if which == "secret_key" else self.webhook_secret
        try:
            secret.forget()
        except SecretError as exc:
            return self._fail(str(exc))
        self._ctx.config_saved()
        self.changed.emit()
        self._ctx.notifier.info(f"The {secret.spec.meaning} was removed from the keyring.")
        return True

    def check_key(self) -> Task | None:
        """One authenticated Stripe call with the key typed (else the one kept), off the GUI
        thread; the answer reaches ``checked`` and the page."""
        if not self.can_check:
            return None
        key = self.secret_key.value()
        if not key:
            self._errors["secret_key"] = "Type the secret key first (sk_live_… or sk_test_…)."
            self._fail("")
            return None
        api_base = self._ctx.config().stripe_api_base

        def work(_progress: Callable[[float], None], _cancel: CancelToken) -> KeyCheck:
            return _key_check(check_stripe(key, api_base=api_base, timeout_s=CHECK_TIMEOUT_S))

        task = Task(work, describe=lambda exc: f"The key could not be checked: {exc}")
        task.signals.finished.connect(self._checked)
        task.signals.failed.connect(
            lambda message, _details: self._checked(KeyCheck(False, message))
        )
        task.signals.cancelled.connect(self._cancelled)
        self._task = task
        self._result = None
        self._errors.pop("secret_key", None)
        self._error = ""
        self.changed.emit()
        return self._ctx.runner.start(task)

    # -- helpers
    def _type(self, secret: CounterSecret, value: str, key: str) -> None:
        if self.can_edit and secret.can_type and value != secret.typed:
            secret.typed = value
            self._errors.pop(key, None)
            self._error = ""
            self._result = None
            self.changed.emit()

    def _valid(self) -> bool:
        errors: dict[str, str] = {}
        for key in URL_ENV:
            problem = _url_problem(key, self._values[key].strip())
            if problem and not self.from_env[key]:
                errors[key] = problem
        key = self.secret_key.typed.strip()
        if key.startswith("pk_"):
            errors["secret_key"] = (
                "That is the publishable key: PrintDesk needs the secret key (sk_…), from the "
                "Stripe dashboard under Developers → API keys."
            )
        elif key and not key.startswith(("sk_", "rk_")):
            errors["secret_key"] = "A Stripe secret key starts with sk_live_ or sk_test_."
        hook = self.webhook_secret.typed.strip()
        if hook and not hook.startswith("whsec_"):
            errors["webhook_secret"] = (
                "A webhook signing secret starts with whsec_ (Stripe dashboard → Developers → "
                "Webhooks → your endpoint → Signing secret)."
            )
        self._errors = errors
        return not errors

    def _fail(self, message: str) -> bool:
        self._error = message
        self.changed.emit()
        return False

    def _checked(self, result: KeyCheck) -> None:
        self._task = None
        self._result = result
        self.changed.emit()
        self.checked.emit(result)

    def _cancelled(self) -> None:
        self._task = None
        self.changed.emit()


def _key_check(health: PartHealth) -> KeyCheck:
    if health.state is State.OK:
        return KeyCheck(True, health.detail)
    return KeyCheck(False, f"{health.detail} {health.fix}".strip())
