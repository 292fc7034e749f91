"""The latency proxy makes a local server a cloud one: each round trip costs 2 × delay, a cut
connection is noticed and replaced, and the relay still lands every delivery through it."""

from __future__ import annotations

import asyncio
import time
from collections import Counter

import psycopg
import pytest
from sqlalchemy import text

from core.actor import Actor
from core.config import AppConfig
from core.db.engine import Database
from relay.app import create_app
from tests.relay import stripe_payloads as sp
from tests.relay.conftest import counts, deliver, http, new_invoice, set_session
from tests.servers.fixtures import RELAY_ROLE
from tests.servers.latency import LatencyProxy
from tests.servers.pgbouncer import PgBouncer
from tests.servers.postgres15 import Postgres15

DELAY_MS = 30.0


def test_each_round_trip_costs_twice_the_delay(pg15: Postgres15, pg15_db: str) -> None:
    with LatencyProxy(pg15.port, delay_ms=DELAY_MS) as proxy:
        with psycopg.connect(proxy.url(pg15_db, driver=None), autocommit=True) as conn:
            started = time.perf_counter()
            for n in range(5):
                assert conn.execute("SELECT %s::int", (n,)).fetchone() == (n,)
            elapsed = time.perf_counter() - started
        assert proxy.accepted == 1
    # A floor, not a timing target: the proxy can never deliver sooner than it was told.
    assert elapsed >= 5 * 2 * DELAY_MS / 1000 * 0.95


def test_a_cut_connection_is_replaced_by_the_pool(pg15: Postgres15, pg15_db: str) -> None:
    with LatencyProxy(pg15.port, delay_ms=1) as proxy:
        db = Database.from_url(proxy.url(pg15_db), pool_size=1)
        try:
            with db.engine.connect() as conn:
                assert conn.execute(text("SELECT 1")).scalar() == 1
            proxy.close_connections()
            with db.engine.connect() as conn:  # pre-ping finds it dead and reconnects
                assert conn.execute(text("SELECT 2")).scalar() == 2
            assert proxy.accepted == 2
        finally:
            db.dispose()


@pytest.mark.anyio
async def test_relay_deliveries_through_a_distant_pooler_all_land(
    pgbouncer: PgBouncer,
    pg15_db: str,
    direct_db: Database,
    admin: Actor,
    relay_config: AppConfig,
    secret: str,
) -> None:
    with LatencyProxy(pgbouncer.port, delay_ms=DELAY_MS) as proxy:
        url = proxy.url(pg15_db, user=RELAY_ROLE, driver=None) + "?pgbouncer=true"
        relay_db = Database.from_url(url, pool_size=10)
        try:
            events = []
            for _ in range(10):
                inv = new_invoice(direct_db, admin)
                cs = sp.checkout_session(invoice_id=inv.id, amount_cents=11000)
                set_session(direct_db, inv.id, cs["id"], 11000)
                events.append(sp.event("checkout.session.completed", cs))
            async with http(create_app(relay_config, relay_db)) as client:
                replies = await asyncio.gather(*(deliver(client, e, secret) for e in events * 2))
        finally:
            relay_db.dispose()
    assert [r.status_code for r in replies] == [200] * 20
    assert Counter(r.json()["outcome"] for r in replies) == {"recorded": 10, "duplicate": 10}
    assert counts(direct_db)["payments"] == 10
