"""The relay under a real uvicorn: TCP deliveries, JSON logs, the maintenance schedule, the CLI."""

from __future__ import annotations

import io
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from starlette.applications import Starlette
from typer.testing import CliRunner

from cli import relay_commands
from core.actor import Actor
from core.config import AppConfig
from core.db.engine import Database
from core.enums import InvoiceStatus
from relay.app import create_app
from relay.logs import LOGGER_NAME, JsonFormatter
from relay.scheduler import run_if_leader
from tests.relay import stripe_payloads as sp
from tests.relay.conftest import as_relay_role, invoice_view, new_invoice

ROOT = Path(__file__).resolve().parents[2]


class _Server(uvicorn.Server):
    """uvicorn that says when it listens, so the test waits on that and not on a clock."""

    def __init__(self, config: uvicorn.Config, ready: threading.Event) -> None:
        super().__init__(config)
        self.ready = ready

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=sockets)
        self.ready.set()


@contextmanager
def serving(app: Starlette) -> Iterator[str]:
    # IPPROTO_TCP so asyncio sets TCP_NODELAY on the accepted connections.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    ready = threading.Event()
    server = _Server(uvicorn.Config(app, log_config=None, access_log=False), ready)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        assert ready.wait(30), "uvicorn did not start"
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(30)
        sock.close()


@contextmanager
def json_log_lines(caplog: pytest.LogCaptureFixture) -> Iterator[list[dict[str, Any]]]:
    """The relay's log records as the JSON lines its handler writes."""
    caplog.set_level(logging.INFO, logger=LOGGER_NAME)
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger(LOGGER_NAME)
    logger.addHandler(handler)
    lines: list[dict[str, Any]] = []
    try:
        yield lines
    finally:
        logger.removeHandler(handler)
        lines.extend(json.loads(line) for line in stream.getvalue().splitlines())


def test_end_to_end_over_tcp_with_json_logs_and_maintenance(
    relay_config: AppConfig,
    relay_db: Database,
    database: Database,
    admin: Actor,
    secret: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    maintained = threading.Event()

    def maintenance(config: AppConfig, db: Database) -> None:
        assert config is relay_config and db is relay_db
        maintained.set()

    inv = new_invoice(database, admin)
    evt = sp.event(
        "checkout.session.completed", sp.checkout_session(invoice_id=inv.id, amount_cents=11000)
    )
    body = sp.encode(evt)
    with json_log_lines(caplog) as lines:
        app = create_app(relay_config, relay_db, maintenance=maintenance)
        with serving(app) as base, httpx.Client(base_url=base, timeout=30) as client:
            assert maintained.wait(30), "the maintenance did not run at start"
            assert client.get("/healthz").json() == {"ok": True}
            replies = [
                client.post(
                    "/stripe/webhook",
                    content=body,
                    headers={"Stripe-Signature": sp.sign(body, secret)},
                )
                for _ in range(2)
            ]
            forged = client.post(
                "/stripe/webhook",
                content=body,
                headers={"Stripe-Signature": sp.sign(body, "whsec_x")},
            )
    assert [r.json()["outcome"] for r in replies] == ["recorded", "duplicate"]
    assert forged.status_code == 400
    assert invoice_view(database, inv.id).status is InvoiceStatus.PAID

    events = [line["event"] for line in lines]
    assert events[0] == "relay.started" and events[-1] == "relay.stopped"
    assert "maintenance.ran" in events
    applied = [line for line in lines if line["event"] == "webhook.applied"]
    assert [(a["event_id"], a["outcome"]) for a in applied] == [
        (evt["id"], "recorded"),
        (evt["id"], "duplicate"),
    ]
    assert applied[0]["invoice_id"] == inv.id and applied[0]["level"] == "info"
    refused = [line for line in lines if line["event"] == "webhook.refused"]
    assert [(r["status"], r["reason"]) for r in refused] == [(400, "bad_signature")]


def test_only_one_instance_runs_the_maintenance_at_a_time(db_url: str) -> None:
    # Two relay instances: separate engines, as separate processes would have.
    first, second = (
        Database.from_url(as_relay_role(db_url)),
        Database.from_url(as_relay_role(db_url)),
    )
    inside, release = threading.Event(), threading.Event()
    calls: list[str] = []

    def long_job() -> None:
        calls.append("first")
        inside.set()
        assert release.wait(30)

    try:
        with threading_result(run_if_leader, first, long_job) as result:
            assert inside.wait(30)
            assert run_if_leader(second, lambda: calls.append("second")) is False
            release.set()
        assert result() is True
        assert run_if_leader(second, lambda: calls.append("second")) is True
    finally:
        first.dispose()
        second.dispose()
    assert calls == ["first", "second"]


def test_a_failing_maintenance_releases_the_lock(db_url: str) -> None:
    first, second = (
        Database.from_url(as_relay_role(db_url)),
        Database.from_url(as_relay_role(db_url)),
    )

    def broken() -> None:
        raise RuntimeError("storage down")

    try:
        with pytest.raises(RuntimeError, match="storage down"):
            run_if_leader(first, broken)
        assert run_if_leader(second, lambda: None) is True
    finally:
        first.dispose()
        second.dispose()


@contextmanager
def threading_result(fn: Any, *args: Any) -> Iterator[Any]:
    box: dict[str, Any] = {}

    def target() -> None:
        box["value"] = fn(*args)

    thread = threading.Thread(target=target)
    thread.start()
    try:
        yield lambda: box["value"]
    finally:
        thread.join(30)


def test_serve_refuses_to_start_without_the_webhook_secret(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("STRIPE_WEBHOOK_SECRET", raising=False)
    monkeypatch.setenv("PRINTDESK_CONFIG", str(tmp_path / "none.toml"))
    monkeypatch.setenv("PRINTDESK_DATA_DIR", str(tmp_path / "data"))
    result = CliRunner().invoke(relay_commands.app, ["serve", "--port", "8099"])
    assert result.exit_code == 1
    assert result.stderr.strip().count("\n") == 0
    assert "STRIPE_WEBHOOK_SECRET is not set" in result.stderr
    assert not (tmp_path / "data").exists()  # refused before any database was started


def test_serve_command_runs_uvicorn_until_terminated(
    db_url: str, tmp_path: Path, secret: str
) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {
        **os.environ,
        "STRIPE_WEBHOOK_SECRET": secret,
        "DATABASE_URL": as_relay_role(db_url),
        "PRINTDESK_CONFIG": str(tmp_path / "none.toml"),
        "PRINTDESK_DATA_DIR": str(tmp_path / "data"),
    }
    code = "import sys; from cli.relay_commands import app; sys.exit(app())"
    proc = subprocess.Popen(
        [sys.executable, "-c", code, "serve", "--host", "127.0.0.1", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        seen: list[dict[str, Any]] = []
        for raw in proc.stdout:  # JSON lines until uvicorn says it listens
            seen.append(json.loads(raw))
            if "Uvicorn running on" in seen[-1].get("message", ""):
                break
        else:
            pytest.fail(f"the relay did not start: {proc.stderr.read() if proc.stderr else ''}")
        assert any(line["event"] == "relay.started" for line in seen)
        health = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=30)
        assert health.status_code == 200 and health.json() == {"ok": True}
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(30)
    # uvicorn shuts down gracefully, then re-raises the signal it caught, as a process should.
    assert proc.returncode in (0, -signal.SIGTERM)
    assert any(json.loads(line)["event"] == "relay.stopped" for line in out.splitlines())
