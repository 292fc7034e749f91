"""The health checks against real parts: PostgreSQL, local storage, CuraEngine, the Stripe
stand-in, an aiosmtpd server, the relay served by uvicorn; a failing part gives its reason."""

from __future__ import annotations

import datetime as dt
import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
import uvicorn
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session
from psycopg import sql

from core.backup import BackupRecord, record_backup
from core.config import AppConfig
from core.db.engine import Database
from core.health import (
    PartHealth,
    State,
    check_backup,
    check_database,
    check_email,
    check_relay,
    check_slicer,
    check_storage,
    check_stripe,
    run_checks,
)
from core.mail import MailSettings
from core.storage import LocalStorage, open_storage
from relay.app import create_app
from tests.conftest import PgCluster
from tests.stripe_standin import DEFAULT_KEY, StripeStandin

USERNAME = "counter@layerlab.example"
PASSWORD = "correct horse"


def _failed(result: PartHealth, *words: str) -> None:
    assert result.state is State.FAILED and not result.ok, result
    assert result.fix, result
    for word in words:
        assert word in result.detail + " " + result.fix, result


# -------------------------------------------------------------------------------- database


def test_database_reachable_and_current(database: Database) -> None:
    result = check_database(database)
    assert result.state is State.OK, result
    assert "newest schema" in result.detail


def test_database_behind_the_schema_says_to_upgrade(pg_cluster: PgCluster) -> None:
    name = "t_health_empty"
    with psycopg.connect(pg_cluster.admin_uri, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    db = Database.from_url(pg_cluster.uri(name))
    try:
        _failed(check_database(db), "not at the newest schema", "printdesk db upgrade")
    finally:
        db.dispose()
        pg_cluster.drop_database(name)


def test_database_unreachable_gives_the_reason() -> None:
    db = Database.from_url("postgresql://nobody:nothing@127.0.0.1:9/shop")
    try:
        _failed(check_database(db), "cannot be reached", "DATABASE_URL")
    finally:
        db.dispose()


# -------------------------------------------------------------------------------- storage


def test_local_storage_round_trip_leaves_nothing(tmp_path: Path) -> None:
    storage = open_storage(AppConfig(data_dir=tmp_path))
    result = check_storage(storage)
    assert result.state is State.OK, result
    assert not [p for p in (tmp_path / "storage").rglob("*") if p.is_file()]


def test_storage_that_cannot_be_written_fails(tmp_path: Path) -> None:
    blocker = tmp_path / "storage"
    blocker.write_text("a file where the storage folder should be")
    _failed(check_storage(LocalStorage(blocker)), "local folders", "writable")


# -------------------------------------------------------------------------------- slicer


def test_slicer_found_with_its_version() -> None:
    result = check_slicer(env=os.environ)
    assert result.state is State.OK, result
    assert "CuraEngine" in result.detail and "definitions" in result.detail


def test_slicer_missing_says_how_to_install(tmp_path: Path) -> None:
    env = {"PATH": str(tmp_path), "HOME": str(tmp_path)}
    result = check_slicer(engine=str(tmp_path / "CuraEngine"), env=env)
    _failed(result, "CuraEngine was not found", "Install UltiMaker Cura")


def test_a_wrong_slicer_variable_is_named_as_the_thing_to_fix(tmp_path: Path) -> None:
    env = {"PATH": "", "HOME": str(tmp_path), "PRINTDESK_CURAENGINE": str(tmp_path / "nope")}
    result = check_slicer(env=env)
    _failed(result, "set by PRINTDESK_CURAENGINE", "Correct or remove PRINTDESK_CURAENGINE")


# -------------------------------------------------------------------------------- stripe


@pytest.fixture
def stripe() -> Iterator[StripeStandin]:
    with StripeStandin() as standin:
        yield standin


def test_stripe_key_works_against_the_standin(stripe: StripeStandin) -> None:
    result = check_stripe(DEFAULT_KEY, api_base=stripe.url, timeout_s=5)
    assert result.state is State.OK, result
    assert "test mode" in result.detail
    calls = stripe.requests_to("GET", "/v1/checkout/sessions")
    assert len(calls) == 1 and calls[0].header("Authorization") == f"Bearer {DEFAULT_KEY}"


def test_stripe_wrong_key_is_refused(stripe: StripeStandin) -> None:
    result = check_stripe("sk_test_not_the_shops_key", api_base=stripe.url, timeout_s=5)
    _failed(result, "API keys")
    assert "key" in result.detail.lower()


def test_stripe_without_a_key_is_off_not_failed() -> None:
    result = check_stripe(None)
    assert result.state is State.OFF and result.ok
    assert "STRIPE_SECRET_KEY" in result.fix


def test_stripe_unreachable_fails(stripe: StripeStandin) -> None:
    _failed(check_stripe(DEFAULT_KEY, api_base="http://127.0.0.1:9", timeout_s=2), "internet")


# -------------------------------------------------------------------------------- email


class _Mailbox:
    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        return "250 OK"


def _authenticate(
    server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
) -> AuthResult:
    ok = (
        isinstance(auth_data, LoginPassword)
        and auth_data.login == USERNAME.encode()
        and auth_data.password == PASSWORD.encode()
    )
    return AuthResult(success=ok, handled=False, auth_data=auth_data)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture
def smtp_port() -> Iterator[int]:
    port = _free_port()
    controller = Controller(
        _Mailbox(),
        hostname="127.0.0.1",
        port=port,
        authenticator=_authenticate,
        auth_require_tls=False,
    )
    controller.start()
    yield port
    controller.stop()


def _mail(port: int, password: str | None = PASSWORD) -> MailSettings:
    return MailSettings(
        host="127.0.0.1",
        port=port,
        security="none",
        username=USERNAME if password else None,
        password=password,
        timeout_s=5,
    )


def test_email_connects_and_logs_in(smtp_port: int) -> None:
    result = check_email(_mail(smtp_port))
    assert result.state is State.OK, result
    assert f"logged in as {USERNAME}" in result.detail


def test_email_wrong_password_is_reported(smtp_port: int) -> None:
    _failed(check_email(_mail(smtp_port, "wrong")), "refused the login", "password")


def test_email_server_down_is_reported() -> None:
    _failed(check_email(_mail(_free_port())), "refused the connection", "Settings → Email")


def test_email_not_set_up_is_off() -> None:
    assert check_email(None).state is State.OFF


# -------------------------------------------------------------------------------- relay


@pytest.fixture
def relay_url(database: Database, tmp_path: Path) -> Iterator[str]:
    config = AppConfig(
        data_dir=tmp_path / "relay",
        stripe_webhook_secret="whsec_health_test",
        relay_maintenance_interval_s=0,
    )
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(create_app(config, database), log_level="warning", lifespan="on")
    )
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        thread.join(0.05)
    assert server.started
    yield f"http://127.0.0.1:{port}/"
    server.should_exit = True
    thread.join(10)
    sock.close()


def test_relay_up(relay_url: str) -> None:
    result = check_relay(relay_url, timeout_s=5)
    assert result.state is State.OK, result
    assert "reaches the database" in result.detail


def test_relay_unreachable_and_unset() -> None:
    _failed(check_relay("http://127.0.0.1:9", timeout_s=2), "Cannot reach", "relay_url")
    assert check_relay(None).state is State.OFF


def test_relay_that_never_answers_times_out() -> None:
    with socket.socket() as silent:  # accepts connections (the kernel does) but never replies
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        started = time.monotonic()
        result = check_relay(f"http://127.0.0.1:{silent.getsockname()[1]}", timeout_s=1)
    assert time.monotonic() - started < 10
    _failed(result, "No answer", "within 1 s")


# -------------------------------------------------------------------------------- backup


def test_backup_never_run_recent_and_failed(tmp_path: Path) -> None:
    config = AppConfig(data_dir=tmp_path / "data", database_url=None)
    _failed(check_backup(config), "No backup has run", "printdesk backup")

    now = dt.datetime(2026, 11, 27, 9, 0, tzinfo=dt.UTC)
    record_backup(config, BackupRecord(now - dt.timedelta(hours=3), tmp_path / "b", True, "ok"))
    result = check_backup(config, now=now)
    assert result.state is State.OK, result
    assert str(tmp_path / "b") in result.detail

    _failed(check_backup(config, now=now + dt.timedelta(days=5)), "5 days ago")

    record_backup(config, BackupRecord(now, None, False, "The backup folder is full."))
    _failed(check_backup(config, now=now), "failed: The backup folder is full.")


# -------------------------------------------------------------------------------- all of them


def test_run_checks_reports_every_part_in_order(
    database: Database, tmp_path: Path, stripe: StripeStandin, smtp_port: int
) -> None:
    config = AppConfig(
        data_dir=tmp_path / "data",
        database_url=None,
        STRIPE_SECRET_KEY=DEFAULT_KEY,
        stripe_api_base=stripe.url,
        smtp_host="127.0.0.1",
        smtp_port=smtp_port,
        smtp_security="none",
        smtp_username=USERNAME,
        smtp_password="wrong",
    )
    results = run_checks(config, database, lambda: open_storage(config), timeout_s=5)
    by_name = {r.name: r for r in results}
    assert [r.name for r in results] == [
        "Database",
        "Live updates",
        "File storage",
        "Slicer",
        "Stripe",
        "Email",
        "Payment relay",
        "Backup",
    ]
    assert by_name["Database"].state is State.OK
    assert by_name["Live updates"].state is State.OK
    assert by_name["Live updates"].detail.startswith("Listening on ")
    assert by_name["File storage"].state is State.OK
    assert by_name["Stripe"].state is State.OK
    _failed(by_name["Email"], "refused the login")
    assert by_name["Payment relay"].state is State.OFF
    _failed(by_name["Backup"], "No backup has run")
    assert all(r.elapsed_s >= 0 for r in results)
