"""Is each part of the shop's setup working? One check per part, each with a time limit.

A check never raises: it answers with what it found, or the reason it failed and the fix a
person can carry out. Checks that talk to the network run at most ``timeout_s``; `run_checks`
runs them side by side in their own threads, so a hung server costs one timeout, not the sum.
Nothing here knows about Qt: the health page and the first-run dialog call it from a worker.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import os
import smtplib
import socket
import ssl
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import httpx
import psycopg
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from core.backup import last_backup
from core.config import AppConfig
from core.db.engine import Database, libpq_conninfo
from core.db.migrate import is_current
from core.live_notices import POLL_INTERVAL_S
from core.mail import MailError, MailNotConfigured, MailSettings
from core.payments.stripe_client import PaymentProviderError, StripeGateway
from core.services.events import CHANNEL
from core.slicing.finding import find_slicer
from core.slicing.locate import ENGINE_ENV, RESOURCES_ENV, Places
from core.storage import TMP, Storage, StorageError, tmp_key

DEFAULT_TIMEOUT_S: Final = 8.0
#: A daily backup that has not run for this long is reported.
BACKUP_MAX_AGE: Final = dt.timedelta(days=2)


class State(enum.StrEnum):
    OK = "ok"
    OFF = "off"  # an optional part that is not set up: nothing is broken
    FAILED = "failed"


@dataclass(frozen=True)
class PartHealth:
    """One part's answer: ``detail`` is what was found (or why it failed), ``fix`` what to do."""

    name: str
    state: State
    detail: str
    fix: str = ""
    elapsed_s: float = 0.0

    @property
    def ok(self) -> bool:
        return self.state is not State.FAILED


def _ok(name: str, detail: str) -> PartHealth:
    return PartHealth(name, State.OK, detail)


def _off(name: str, detail: str, fix: str) -> PartHealth:
    return PartHealth(name, State.OFF, detail, fix)


def _failed(name: str, detail: str, fix: str) -> PartHealth:
    return PartHealth(name, State.FAILED, detail, fix)


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0].strip() if lines else type(exc).__name__


# -------------------------------------------------------------------------------------- parts


def check_database(db: Database) -> PartHealth:
    name = "Database"
    try:
        with db.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        current = is_current(db.engine)
    except SQLAlchemyError as exc:
        reason = _first_line(getattr(exc, "orig", None) or exc)
        return _failed(
            name,
            f"{db.describe()} cannot be reached: {reason}",
            "Check that the database server is running and DATABASE_URL is right; the "
            "embedded database starts with PrintDesk (restart PrintDesk).",
        )
    if not current:
        return _failed(
            name,
            f"{db.describe()} is reachable but not at the newest schema.",
            "Run `printdesk db upgrade` on this machine, then restart PrintDesk.",
        )
    return _ok(name, f"{db.describe()} is reachable and at the newest schema.")


def check_live_updates(db: Database, *, timeout_s: float = DEFAULT_TIMEOUT_S) -> PartHealth:
    """Where changes made at other counters come from: a LISTEN on a session connection of
    its own, or polling the activity log (through a transaction pooler, which cannot LISTEN)."""
    name = "Live updates"
    plan = db.listen_plan
    fix = (
        "For instant updates set listen_database_url (PRINTDESK_LISTEN_DATABASE_URL) to the "
        "direct connection or the session pooler (port 5432) of the same database."
    )
    every = f"every {POLL_INTERVAL_S:g} s"
    if plan.url is None:
        return _off(name, f"Polling for changes {every}: {plan.reason}.", fix)
    url = make_url(plan.url)
    where = f"{url.host}:{url.port or 5432}" if url.host else "the local socket"
    try:
        with psycopg.connect(
            libpq_conninfo(plan.url), autocommit=True, connect_timeout=max(1, int(timeout_s))
        ) as conn:
            conn.execute(f"LISTEN {CHANNEL}")
    except psycopg.Error as exc:
        return _failed(
            name,
            f"Polling for changes {every}: the listener cannot reach {where} ({_first_line(exc)}).",
            f"Check {plan.reason} and that its server is up. {fix}",
        )
    return _ok(
        name, f"Listening on {where} ({plan.reason}): changes at other counters show at once."
    )


def check_storage(storage: Storage) -> PartHealth:
    """Put, read back and remove a small probe object in the ``tmp`` bucket."""
    name = "File storage"
    probe = b"PrintDesk health check\n"
    key = tmp_key("health", "probe.txt")
    where = "local folders" if storage.backend == "local" else "Supabase Storage"
    try:
        storage.put(TMP, key, probe, "text/plain")
        try:
            read = storage.get(TMP, key)
        finally:
            storage.delete(TMP, [key])
    except (StorageError, OSError) as exc:
        fix = (
            "Check PRINTDESK_SUPABASE_URL and PRINTDESK_SUPABASE_SERVICE_KEY and that the "
            "Supabase project is up."
            if storage.backend == "supabase"
            else "Check that the data folder exists, is writable and the disk is not full."
        )
        return _failed(name, f"{where}: {_first_line(exc)}", fix)
    if read != probe:
        return _failed(
            name,
            f"{where} gave back other bytes than were stored.",
            "The storage is damaged or shared with another program: check it before saving files.",
        )
    return _ok(name, f"{where}: a test file was stored, read back and removed.")


def _without_advice(text: str) -> str:
    """The finder's message up to its own advice: the fix is given separately."""
    found = text.strip().splitlines()[0] if text.strip() else text
    cut = found.lower().find(": install")
    return f"{found[:cut]}." if cut > 0 else found


def check_slicer(
    engine: str | None = None,
    resources: str | None = None,
    env: Mapping[str, str] | None = None,
    *,
    places: Places | None = None,
    config_file: Path | None = None,
) -> PartHealth:
    """What `find_slicer` found, as the first-run setup and the Health page show it."""
    name = "Slicer"
    env = os.environ if env is None else env
    finding = find_slicer(engine, resources, env, places=places, config_file=config_file)
    if finding.engine_problem:
        return _failed(
            name,
            _without_advice(finding.engine_problem),
            f"Correct or remove {ENGINE_ENV} on this computer."
            if env.get(ENGINE_ENV) and not engine
            else "Install UltiMaker Cura 5 (or Debian/Ubuntu's cura-engine package), or "
            "choose the CuraEngine program in Settings → Slicer.",
        )
    if finding.resources_problem:
        return _failed(
            name,
            _without_advice(finding.resources_problem),
            f"Correct or remove {RESOURCES_ENV} on this computer."
            if env.get(RESOURCES_ENV) and not resources
            else "Install UltiMaker Cura (its definitions come with it), or choose Cura's "
            "resources folder in Settings → Slicer.",
        )
    return _ok(name, finding.summary())


def check_stripe(
    secret_key: str | None, *, api_base: str | None = None, timeout_s: float = DEFAULT_TIMEOUT_S
) -> PartHealth:
    """With a key: one cheap authenticated call (list one Checkout Session)."""
    name = "Stripe"
    key = (secret_key or "").strip()
    if not key:
        return _off(
            name,
            "Not set up: payment links are off.",
            "To take card payments, enter the Stripe secret key (sk_live_… or sk_test_…) in "
            "Settings → Payments (or set STRIPE_SECRET_KEY).",
        )
    if not key.startswith(("sk_", "rk_")):
        return _failed(
            name,
            "The Stripe key does not look like a secret key (it should start with sk_).",
            "Copy the secret key from the Stripe dashboard (Developers → API keys) into "
            "Settings → Payments.",
        )
    gateway = StripeGateway(key, api_base=api_base, max_network_retries=0, timeout_s=timeout_s)
    try:
        next(iter(gateway.list_checkout_sessions(page_size=1)), None)
    except PaymentProviderError as exc:
        return _failed(
            name,
            _first_line(exc),
            "Check the secret key in the Stripe dashboard (Developers → API keys) and this "
            "computer's internet connection.",
        )
    finally:
        gateway.close()
    mode = "test mode" if key.startswith(("sk_test_", "rk_test_")) else "live mode"
    return _ok(name, f"The key works ({mode}).")


def _smtp_connect(settings: MailSettings) -> smtplib.SMTP:
    local = socket.gethostname() or "localhost"
    if settings.security == "ssl":
        return smtplib.SMTP_SSL(
            settings.host,
            settings.port,
            local_hostname=local,
            timeout=settings.timeout_s,
            context=settings.tls_context(),
        )
    return smtplib.SMTP(
        settings.host, settings.port, local_hostname=local, timeout=settings.timeout_s
    )


def check_email(settings: MailSettings | None) -> PartHealth:
    """Connect, EHLO (and STARTTLS), and log in when a password is set; no mail is sent."""
    name = "Email"
    if settings is None:
        return _off(
            name,
            "Not set up: invoices and quotes cannot be emailed.",
            "Enter the SMTP server in Settings → Email (or set PRINTDESK_SMTP_HOST).",
        )
    where = settings.where
    check = "Check the server, port and security in Settings → Email."
    try:
        with _smtp_connect(settings) as smtp:
            smtp.ehlo()
            if settings.security == "starttls":
                smtp.starttls(context=settings.tls_context())
                smtp.ehlo()
            if settings.username and settings.password:
                smtp.login(settings.username, settings.password)
    except smtplib.SMTPAuthenticationError:
        return _failed(
            name,
            f"The mail server {where} refused the login for {settings.username}.",
            "Check the username and password in Settings → Email.",
        )
    except smtplib.SMTPNotSupportedError as exc:
        what = "STARTTLS" if "STARTTLS" in str(exc).upper() else "a login (AUTH)"
        return _failed(name, f"The mail server {where} does not offer {what}.", check)
    except ssl.SSLError as exc:
        return _failed(
            name,
            f"A secure connection to {where} failed ({exc.reason or _first_line(exc)}).",
            f"{check} STARTTLS is usually port 587, SSL port 465.",
        )
    except smtplib.SMTPException as exc:
        return _failed(name, f"The mail server {where} answered: {_first_line(exc)}", check)
    except TimeoutError:
        return _failed(name, f"No answer from {where} within {settings.timeout_s:g} s.", check)
    except ConnectionRefusedError:
        return _failed(name, f"The mail server {where} refused the connection.", check)
    except socket.gaierror:
        return _failed(name, f"The server name {settings.host} is not known.", check)
    except OSError as exc:
        return _failed(name, f"Cannot reach {where}: {exc.strerror or exc}.", check)
    login = f", logged in as {settings.username}" if settings.username else ""
    return _ok(name, f"Connected to {where} ({settings.security}{login}).")


def mail_settings_of(config: AppConfig, timeout_s: float) -> MailSettings | None:
    """The configured SMTP server with the check's time limit; None when email is off."""
    try:
        settings = MailSettings.from_config(config)
    except MailNotConfigured:
        return None
    return dataclasses.replace(settings, timeout_s=min(settings.timeout_s, timeout_s))


def check_relay(url: str | None, *, timeout_s: float = DEFAULT_TIMEOUT_S) -> PartHealth:
    """The relay's ``GET /healthz`` (it answers ``{"ok": true}`` when it reaches its database)."""
    name = "Payment relay"
    base = (url or "").strip().rstrip("/")
    if not base:
        return _off(
            name,
            "Not set up: card payments are recorded when this counter checks Stripe.",
            "Deploy the relay and set relay_url in the config file to its address.",
        )
    address = f"{base}/healthz"
    fix = "Check that the relay is deployed and running, and that relay_url is its address."
    try:
        response = httpx.get(address, timeout=timeout_s, follow_redirects=True)
    except httpx.TimeoutException:
        return _failed(name, f"No answer from {address} within {timeout_s:g} s.", fix)
    except httpx.HTTPError as exc:
        return _failed(name, f"Cannot reach {address}: {_first_line(exc)}", fix)
    if response.status_code == 503:
        return _failed(
            name,
            f"The relay at {base} is running but cannot reach the shop's database.",
            "Check the relay's DATABASE_URL and that the database is up.",
        )
    if response.status_code != 200:
        return _failed(name, f"{address} answered HTTP {response.status_code}.", fix)
    return _ok(name, f"The relay at {base} is up and reaches the database.")


def check_backup(config: AppConfig, *, now: dt.datetime | None = None) -> PartHealth:
    name = "Backup"
    fix = "Choose a daily backup folder in Settings → Backups, or run `printdesk backup FOLDER`."
    record = last_backup(config)
    if record is None:
        if config.database_url:
            return _off(
                name,
                "No backup has run on this counter; the database is not on this computer.",
                "Back up the shared database where it is hosted (e.g. Supabase's backups).",
            )
        return _failed(name, "No backup has run on this counter yet.", fix)
    when = record.finished_at.astimezone().strftime("%d %b %Y %H:%M")
    if not record.ok:
        return _failed(name, f"The last backup, on {when}, failed: {record.message}", fix)
    now = now or dt.datetime.now(dt.UTC)
    age = now - record.finished_at
    where = f" to {record.path}" if record.path else ""
    if age > BACKUP_MAX_AGE:
        return _failed(name, f"The last backup ran {age.days} days ago ({when}{where}).", fix)
    return _ok(name, f"Last backup {when}{where}.")


# -------------------------------------------------------------------------------- running them

Check = Callable[[], PartHealth]


def _timed(name: str, check: Check, timeout_s: float) -> PartHealth:
    """Run ``check`` in its own thread; a check that overruns is reported, not waited for."""
    answer: list[PartHealth] = []
    started = time.monotonic()

    def work() -> None:
        try:
            answer.append(check())
        except Exception as exc:  # a check should not raise; if it does, that is its answer
            answer.append(_failed(name, f"The check itself failed: {_first_line(exc)}", ""))

    thread = threading.Thread(target=work, name=f"health-{name}", daemon=True)
    thread.start()
    thread.join(timeout_s)
    elapsed = time.monotonic() - started
    if not answer:
        return _failed(
            name, f"No answer within {timeout_s:g} s.", "Check the network, then check again."
        )
    result = answer[0]
    return PartHealth(result.name, result.state, result.detail, result.fix, elapsed)


def run_named(checks: Sequence[tuple[str, Check]], *, timeout_s: float) -> list[PartHealth]:
    """Every check side by side, in the order given; each one limited to ``timeout_s``."""
    results: list[PartHealth | None] = [None] * len(checks)
    # Each check's network calls have their own timeout; this is the backstop around them.
    backstop = timeout_s + 2.0

    def one(index: int) -> None:
        name, check = checks[index]
        results[index] = _timed(name, check, backstop)

    threads = [threading.Thread(target=one, args=(i,), daemon=True) for i in range(len(checks))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return [r for r in results if r is not None]


def shop_checks(
    config: AppConfig,
    db: Database,
    storage: Callable[[], Storage],
    *,
    timeout_s: float = DEFAULT_TIMEOUT_S,
) -> list[tuple[str, Check]]:
    """The checks of the health page, for this counter's configuration."""

    def storage_check() -> PartHealth:
        try:
            return check_storage(storage())
        except StorageError as exc:
            return _failed("File storage", _first_line(exc), "Check the storage settings.")

    def email_check() -> PartHealth:
        try:
            return check_email(mail_settings_of(config, timeout_s))
        except MailError as exc:
            return _failed("Email", _first_line(exc), "Check Settings → Email.")

    relay_url = config.relay_url
    return [
        ("Database", lambda: check_database(db)),
        ("Live updates", lambda: check_live_updates(db, timeout_s=timeout_s)),
        ("File storage", storage_check),
        ("Slicer", check_slicer),
        (
            "Stripe",
            lambda: check_stripe(
                config.stripe_secret_key, api_base=config.stripe_api_base, timeout_s=timeout_s
            ),
        ),
        ("Email", email_check),
        ("Payment relay", lambda: check_relay(relay_url, timeout_s=timeout_s)),
        ("Backup", lambda: check_backup(config)),
    ]


def run_checks(
    config: AppConfig,
    db: Database,
    storage: Callable[[], Storage],
    *,
    timeout_s: float = DEFAULT_TIMEOUT_S,
) -> list[PartHealth]:
    """Every part of the shop's setup, checked side by side."""
    return run_named(shop_checks(config, db, storage, timeout_s=timeout_s), timeout_s=timeout_s)
