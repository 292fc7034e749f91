"""The relay behind a transaction-mode pooler (pgbouncer, like Supabase's port 6543): every
delivery lands exactly once, with no 5xx, and cash taken at two counters at once still once."""

from __future__ import annotations

import asyncio
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import httpx
import pytest
from sqlalchemy import func, select

from core.actor import Actor
from core.config import AppConfig
from core.db.engine import Database, open_database
from core.db.models import Payment
from core.enums import InvoiceStatus, PaymentMethod
from core.errors import ServiceError
from core.services import payments
from relay.app import create_app
from relay.scheduler import run_if_leader
from tests.cloud.conftest import pooler_url
from tests.relay import stripe_payloads as sp
from tests.relay.conftest import counts, deliver, http, invoice_view, new_invoice, set_session
from tests.servers.fixtures import RELAY_ROLE
from tests.servers.pgbouncer import PgBouncer

DELIVERIES = 30
#: Deliveries in flight at once: Stripe sends bursts. Ten at a time through a pool of four
#: server connections is what made psycopg's prepared statements collide (6 of 30 failed).
BURST = 10


def _paid_events(direct_db: Database, admin: Actor, n: int) -> list[tuple[int, dict[str, object]]]:
    out = []
    for _ in range(n):
        inv = new_invoice(direct_db, admin)
        cs = sp.checkout_session(invoice_id=inv.id, amount_cents=11000, invoice_number=inv.number)
        set_session(direct_db, inv.id, cs["id"], 11000)
        out.append((inv.id, sp.event("checkout.session.completed", cs)))
    return out


@pytest.mark.anyio
async def test_distinct_deliveries_through_the_pooler_all_land_once(
    relay_config: AppConfig,
    pooled_relay_db: Database,
    direct_db: Database,
    admin: Actor,
    secret: str,
) -> None:
    assert pooled_relay_db.pooler.transaction and pooled_relay_db.pooler.no_prepare
    paid = _paid_events(direct_db, admin, DELIVERIES)
    app = create_app(relay_config, pooled_relay_db)
    events = [evt for _, evt in paid]
    async with http(app) as client:

        async def in_bursts() -> list[httpx.Response]:
            replies: list[httpx.Response] = []
            for start in range(0, DELIVERIES, BURST):
                burst = events[start : start + BURST]
                replies += await asyncio.gather(*(deliver(client, e, secret) for e in burst))
            return replies

        first = await in_bursts()
        again = await in_bursts()  # Stripe retries: every event a second time
    failed = [r.text for r in first if r.status_code != 200]
    assert not failed, f"{len(failed)} of {DELIVERIES} deliveries failed: {failed[:3]}"
    assert Counter(r.json()["outcome"] for r in first) == {"recorded": DELIVERIES}
    assert [r.status_code for r in again] == [200] * DELIVERIES
    assert Counter(r.json()["outcome"] for r in again) == {"duplicate": DELIVERIES}
    assert counts(direct_db) == {"events": DELIVERIES, "payments": DELIVERIES, "refunds": 0}
    for invoice_id, _ in paid:
        after = invoice_view(direct_db, invoice_id)
        assert after.status is InvoiceStatus.PAID and len(after.payments) == 1


def test_the_relay_opens_its_database_through_the_pooler_from_its_settings(
    pgbouncer: PgBouncer, pg15_db: str, direct_db: Database, admin: Actor
) -> None:
    """`database_pooler = true` on a URL that does not show it (pgbouncer on its own port)."""
    url = pgbouncer.url(pg15_db, user=RELAY_ROLE, driver=None)
    db = open_database(
        AppConfig(database_url=url, database_pooler="true"), stop_on_exit=False, pool_size=2
    )
    try:
        assert db.pooler.transaction and not db.listen_plan.listens
        inv = new_invoice(direct_db, admin)
        cs = sp.checkout_session(invoice_id=inv.id, amount_cents=11000)
        from core.payments.webhooks import apply_event

        for _ in range(12):  # past psycopg's prepare threshold on one pooled connection
            with db.session() as session:
                apply_event(session, sp.event("checkout.session.completed", cs))
        assert counts(direct_db)["payments"] == 1
    finally:
        db.dispose()


def test_concurrent_cash_payments_through_the_pooler_record_once(
    pgbouncer: PgBouncer, pg15_db: str, direct_db: Database, admin: Actor
) -> None:
    """Eight counters take the full amount in cash at the same moment: one payment."""
    counter_db = Database.from_url(pooler_url(pgbouncer, pg15_db), pool_size=8)
    try:
        inv = new_invoice(direct_db, admin)
        gate = threading.Barrier(8)

        def take_cash(_: int) -> str:
            with counter_db.session() as session:
                gate.wait(timeout=30)
                try:
                    payments.record_payment(
                        session,
                        admin,
                        inv.id,
                        payments.NewPayment(amount=Decimal("110.00"), method=PaymentMethod.CASH),
                    )
                except ServiceError as exc:
                    return type(exc).__name__
                return "paid"

        with ThreadPoolExecutor(8) as pool:
            outcomes = Counter(pool.map(take_cash, range(8)))
        assert outcomes["paid"] == 1 and sum(outcomes.values()) == 8, outcomes
        with direct_db.session() as s:
            assert s.scalar(select(func.count()).select_from(Payment)) == 1
        after = invoice_view(direct_db, inv.id)
        assert after.status is InvoiceStatus.PAID and after.balance_due == 0
    finally:
        counter_db.dispose()


def test_one_maintenance_run_at_a_time_through_the_pooler(
    pgbouncer: PgBouncer, pg15_db: str
) -> None:
    """Two relay instances behind the pooler: the lock is held for the job and then let go,
    whichever server connections the pooler hands out meanwhile."""
    first, second = (
        Database.from_url(pooler_url(pgbouncer, pg15_db, user=RELAY_ROLE), pool_size=2)
        for _ in range(2)
    )
    running, finish = threading.Event(), threading.Event()

    def long_job() -> None:
        running.set()
        assert finish.wait(30)

    try:
        with ThreadPoolExecutor(1) as pool:
            leader = pool.submit(run_if_leader, first, long_job)
            assert running.wait(30)
            assert [run_if_leader(second, lambda: None) for _ in range(6)] == [False] * 6
            finish.set()
            assert leader.result(timeout=30) is True
        assert [run_if_leader(second, lambda: None) for _ in range(6)] == [True] * 6
        assert run_if_leader(first, lambda: None) is True
    finally:
        first.dispose()
        second.dispose()
