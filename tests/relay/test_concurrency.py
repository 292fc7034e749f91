"""Deliveries racing each other on separate connections still land each payment once."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from sqlalchemy.orm import Session

from core.actor import Actor
from core.db.engine import Database
from core.enums import InvoiceStatus
from core.payments.webhooks import EventOutcome, apply_event
from tests.relay import stripe_payloads as sp
from tests.relay.conftest import counts, http, invoice_view, new_invoice


def _race(relay_db: Database, events: list[dict[str, Any]]) -> list[EventOutcome]:
    """Apply each event on its own thread and connection, all let go at the same moment."""
    gate = threading.Barrier(len(events))

    def one(evt: dict[str, Any]) -> EventOutcome:
        with relay_db.engine.connect() as conn:  # a connection of its own before the gate
            conn.exec_driver_sql("SELECT 1")
            conn.commit()
            with Session(bind=conn) as session:
                gate.wait(timeout=30)
                return apply_event(session, evt)

    with ThreadPoolExecutor(len(events)) as pool:
        return list(pool.map(one, events))


def test_ten_parallel_deliveries_of_one_event_pay_once(
    relay_db: Database, database: Database, admin: Actor
) -> None:
    inv = new_invoice(database, admin)
    evt = sp.event(
        "checkout.session.completed", sp.checkout_session(invoice_id=inv.id, amount_cents=11000)
    )
    outcomes = _race(relay_db, [evt] * 10)
    assert Counter(o.outcome.value for o in outcomes) == {"recorded": 1, "duplicate": 9}
    after = invoice_view(database, inv.id)
    assert len(after.payments) == 1 and after.status is InvoiceStatus.PAID
    assert counts(database) == {"events": 1, "payments": 1, "refunds": 0}


def test_different_events_carrying_one_payment_race_to_one_payment(
    relay_db: Database, database: Database, admin: Actor
) -> None:
    inv = new_invoice(database, admin)
    cs = sp.checkout_session(invoice_id=inv.id, amount_cents=11000)
    kinds = ["checkout.session.completed", "checkout.session.async_payment_succeeded"] * 4
    outcomes = _race(relay_db, [sp.event(kind, cs) for kind in kinds])
    assert Counter(o.outcome.value for o in outcomes) == {"recorded": 1, "already_recorded": 7}
    assert counts(database) == {"events": 8, "payments": 1, "refunds": 0}
    assert invoice_view(database, inv.id).balance_due == 0


def test_parallel_refund_events_record_one_refund(
    relay_db: Database, database: Database, admin: Actor
) -> None:
    inv = new_invoice(database, admin)
    cs = sp.checkout_session(invoice_id=inv.id, amount_cents=11000)
    apply = _race(relay_db, [sp.event("checkout.session.completed", cs)])
    assert apply[0].outcome.value == "recorded"
    re = sp.refund(amount_cents=2000, payment_intent=cs["payment_intent"])
    builders: list[Callable[[], dict[str, Any]]] = [
        lambda: sp.event("refund.created", re),
        lambda: sp.event("refund.updated", re),
        lambda: sp.event(
            "charge.refunded",
            sp.charge_refunded(
                amount_cents=11000, payment_intent=cs["payment_intent"], refunds=[re]
            ),
        ),
    ] * 2
    outcomes = _race(relay_db, [build() for build in builders])
    assert Counter(o.outcome.value for o in outcomes) == {"refunded": 1, "already_recorded": 5}
    after = invoice_view(database, inv.id)
    assert len(after.refunds) == 1 and after.balance_due == 20


@pytest.mark.anyio
async def test_parallel_http_deliveries_pay_once(
    relay_app: Any, database: Database, admin: Actor, secret: str
) -> None:
    import asyncio

    inv = new_invoice(database, admin)
    evt = sp.event(
        "checkout.session.completed", sp.checkout_session(invoice_id=inv.id, amount_cents=11000)
    )
    body = sp.encode(evt)
    async with http(relay_app) as client:
        replies = await asyncio.gather(
            *(
                client.post(
                    "/stripe/webhook",
                    content=body,
                    headers={"Stripe-Signature": sp.sign(body, secret)},
                )
                for _ in range(10)
            )
        )
    assert [r.status_code for r in replies] == [200] * 10
    assert Counter(r.json()["outcome"] for r in replies) == {"recorded": 1, "duplicate": 9}
    assert counts(database) == {"events": 1, "payments": 1, "refunds": 0}
