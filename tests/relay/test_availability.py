"""A database that is down answers 503 (Stripe retries); /healthz tells whether it is up."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest
from starlette.applications import Starlette

from core.actor import Actor
from core.config import AppConfig
from core.db.engine import Database
from relay.app import create_app
from tests.conftest import PgCluster
from tests.relay import stripe_payloads as sp
from tests.relay.conftest import as_relay_role, counts, deliver, http, new_invoice

pytestmark = pytest.mark.anyio


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])  # nothing listens there once the socket closes


@pytest.fixture
def unreachable_app(relay_config: AppConfig) -> Iterator[Starlette]:
    db = Database.from_url(f"postgresql+psycopg://relay@127.0.0.1:{_closed_port()}/printdesk")
    yield create_app(relay_config, db)
    db.dispose()


async def test_healthz_is_ok_when_the_database_answers(relay_app: Starlette) -> None:
    async with http(relay_app) as client:
        r = await client.get("/healthz")
    assert r.status_code == 200 and r.json() == {"ok": True}


async def test_healthz_is_503_when_the_database_is_unreachable(
    unreachable_app: Starlette,
) -> None:
    async with http(unreachable_app) as client:
        r = await client.get("/healthz")
    assert r.status_code == 503 and r.json()["ok"] is False


async def test_webhook_is_503_when_the_database_is_unreachable(
    unreachable_app: Starlette, secret: str
) -> None:
    cs = sp.checkout_session(invoice_id=1, amount_cents=11000)
    async with http(unreachable_app) as client:
        r = await deliver(client, sp.event("checkout.session.completed", cs), secret)
    assert r.status_code == 503 and r.json() == {"error": "database_unavailable"}


async def test_webhook_is_503_after_the_database_is_dropped_then_applies_on_retry(
    pg_cluster: PgCluster,
    relay_config: AppConfig,
    relay_app: Starlette,
    database: Database,
    admin: Actor,
    secret: str,
) -> None:
    # A second database, dropped under a running relay: the delivery fails with 503 ...
    gone = pg_cluster.create_database()
    gone_db = Database.from_url(as_relay_role(pg_cluster.uri(gone)))
    gone_app = create_app(relay_config, gone_db)
    async with http(gone_app) as client:
        assert (await client.get("/healthz")).status_code == 200
        pg_cluster.drop_database(gone)
        inv = new_invoice(database, admin)
        evt = sp.event(
            "checkout.session.completed", sp.checkout_session(invoice_id=inv.id, amount_cents=11000)
        )
        down = await deliver(client, evt, secret)
        assert (await client.get("/healthz")).status_code == 503
    gone_db.dispose()
    assert down.status_code == 503
    # ... and Stripe's retry of the same event, once a database answers, applies it once.
    async with http(relay_app) as client:
        retry = await deliver(client, evt, secret)
    assert retry.status_code == 200 and retry.json()["outcome"] == "recorded"
    assert counts(database) == {"events": 1, "payments": 1, "refunds": 0}
