"""Signing in, and the first start that sets up the shop and its first admin.

Checking the password and creating the first admin run on the view model's TaskRunner (the
database may be a region away); ``busy`` says what is being done meanwhile, and the answer
comes back on the GUI thread as `signed_in` or an `error_changed` message."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QObject, Signal

from core import health
from core.actor import SYSTEM_ACTOR, Actor
from core.config import AppConfig, ConfigError, write_config_file
from core.db.engine import Database
from core.enums import Role
from core.errors import ServiceError
from core.mail import MailSettings
from core.secrets import SecretError, set_secret
from core.services import settings, users
from workers.tasks import CancelToken, Task, TaskRunner

CHECK_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class ShopSetup:
    shop_name: str
    tax_id: str
    email: str
    phone: str
    address: str
    admin_name: str
    admin_email: str
    password: str
    password_again: str
    # Optional at first start: payments by Stripe and email by SMTP.
    stripe_key: str = ""
    smtp_host: str = ""
    smtp_port: int = 587
    smtp_security: str = "starttls"
    smtp_username: str = ""
    smtp_password: str = ""

    def mail_settings(self) -> MailSettings | None:
        if not self.smtp_host.strip():
            return None
        security = self.smtp_security if self.smtp_security in ("ssl", "none") else "starttls"
        return MailSettings(
            host=self.smtp_host.strip(),
            port=self.smtp_port,
            security=security,  # type: ignore[arg-type]
            username=self.smtp_username.strip() or None,
            password=self.smtp_password or None,
            timeout_s=CHECK_TIMEOUT_S,
        )


class AuthViewModel(QObject):
    """Knows whether the shop needs setting up and turns credentials into an Actor."""

    error_changed = Signal(str)
    signed_in = Signal(object)  # Actor
    # (what, PartHealth): "slicer" on opening the setup, "stripe" / "email" after "Test".
    checked = Signal(str, object)
    busy_changed = Signal(str)  # what is being done ("Checking your password…"), "" when done

    def __init__(
        self,
        db: Database,
        *,
        config: Callable[[], AppConfig] = AppConfig,
        runner: TaskRunner | None = None,
        check_slicer: Callable[[], health.PartHealth] = health.check_slicer,
    ) -> None:
        super().__init__()
        self._db = db
        self._config = config
        self._check_slicer = check_slicer
        self._runner = runner or TaskRunner()
        self.error = ""
        self.actor: Actor | None = None
        self.checking: set[str] = set()
        self.busy = ""

    # -- first-run checks (off the GUI thread)
    def find_slicer(self) -> None:
        self._check("slicer", self._check_slicer)

    def test_stripe(self, key: str) -> None:
        config = self._config()
        self._check(
            "stripe",
            lambda: health.check_stripe(
                key, api_base=config.stripe_api_base, timeout_s=CHECK_TIMEOUT_S
            ),
        )

    def test_email(self, form: ShopSetup) -> None:
        mail = form.mail_settings()
        self._check("email", lambda: health.check_email(mail))

    def _check(self, what: str, check: Callable[[], health.PartHealth]) -> None:
        if what in self.checking:
            return

        def work(_progress: Callable[[float], None], _cancel: CancelToken) -> health.PartHealth:
            return health.run_named([(what, check)], timeout_s=CHECK_TIMEOUT_S)[0]

        task = Task(work)
        task.signals.finished.connect(lambda result: self._checked(what, result))
        self.checking.add(what)
        self._runner.start(task)

    def _checked(self, what: str, result: health.PartHealth) -> None:
        self.checking.discard(what)
        self.checked.emit(what, result)

    def wait(self) -> None:
        """Let running checks end (a dialog closing, a test finishing)."""
        self._runner.wait()

    def _fail(self, message: str) -> None:
        self.error = message
        self.error_changed.emit(message)

    def sign_in(self, email: str, password: str) -> bool:
        """Check the password in the background; False when refused before asking."""
        if not email.strip() or not password:
            self._fail("Enter your email and password.")
            return False
        db = self._db

        def check() -> Actor:
            with db.session() as s:
                return users.actor_for(users.authenticate(s, email, password))

        return self._start("Checking your password…", check)

    def set_up(self, form: ShopSetup) -> bool:
        """Save the business details and create the first admin (in the background), then
        sign them in; False when refused before asking the database."""
        if not form.shop_name.strip():
            self._fail("Enter the shop's name.")
            return False
        if form.password != form.password_again:
            self._fail("The two passwords are not the same.")
            return False
        try:
            self._save_connections(form)
        except (SecretError, ConfigError) as exc:
            self._fail(str(exc))
            return False
        db = self._db

        def create() -> Actor:
            with db.session() as s:
                if users.count_users(s) > 0:
                    raise ServiceError("This shop is already set up: sign in instead.")
                settings.update_settings(
                    s,
                    SYSTEM_ACTOR,
                    {
                        "business": {
                            "name": form.shop_name.strip(),
                            "tax_id": form.tax_id.strip(),
                            "email": form.email.strip(),
                            "phone": form.phone.strip(),
                            "address": form.address.strip(),
                        }
                    },
                )
                # Last, so a refused admin (bad email, short password) can simply be retried.
                user = users.add_user(
                    s, SYSTEM_ACTOR, form.admin_email, form.admin_name, Role.ADMIN, form.password
                )
                return users.actor_for(user)

        return self._start("Setting up the shop…", create)

    def _start(self, doing: str, work: Callable[[], Actor]) -> bool:
        if self.busy:
            return False  # one sign-in at a time (a double click, Enter twice)

        def run(_progress: Callable[[float], None], _cancel: CancelToken) -> Actor | str:
            try:
                return work()
            except ServiceError as exc:  # a refusal, said in the dialog: not a failure
                return str(exc)

        task = Task(run)
        task.signals.finished.connect(self._answered)
        task.signals.failed.connect(
            lambda message, _details: self._answered(f"Something went wrong: {message}")
        )
        self._set_busy(doing)
        self._runner.start(task)
        return True

    def _answered(self, answer: Actor | str) -> None:
        if isinstance(answer, str):
            self._set_busy("")
            self._fail(answer)
            return
        self._done(answer)
        self._set_busy("")

    def _set_busy(self, doing: str) -> None:
        if doing != self.busy:
            self.busy = doing
            self.busy_changed.emit(doing)

    def _save_connections(self, form: ShopSetup) -> None:
        """Secrets to the keyring, the rest to the config file; nothing when none was given."""
        if form.stripe_key.strip():
            set_secret("stripe-secret-key", form.stripe_key.strip())
        mail = form.mail_settings()
        if mail is None:
            return
        if mail.password:
            set_secret("smtp-password", mail.password)
        values: dict[str, Any] = {
            "smtp_host": mail.host,
            "smtp_port": mail.port,
            "smtp_security": mail.security,
            "smtp_username": mail.username,
        }
        write_config_file(self._config().config_file, values)

    def _done(self, actor: Actor) -> Actor:
        self.actor = actor
        self.error = ""
        self.error_changed.emit("")
        self.signed_in.emit(actor)
        return actor
