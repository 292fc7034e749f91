"""Signed Stripe events posted to the relay turn into payments and refunds exactly once."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select
from starlette.applications import Starlette

from core.actor import Actor
from core.db.engine import Database
from core.db.models import ActivityEntry, WebhookEvent
from core.enums import InvoiceStatus, PaymentMethod
from tests.relay import stripe_payloads as sp
from tests.relay.conftest import (
    counts,
    deliver,
    event_outcome,
    http,
    invoice_view,
    new_invoice,
    set_session,
)

pytestmark = pytest.mark.anyio


def _actions(database: Database, invoice_id: int) -> list[str]:
    with database.session() as s:
        return list(
            s.scalars(
                select(ActivityEntry.action)
                .where(
                    ActivityEntry.entity_type == "invoice", ActivityEntry.entity_id == invoice_id
                )
                .order_by(ActivityEntry.id)
            )
        )


async def test_paid_checkout_turns_the_invoice_paid_once(
    relay_app: Starlette, database: Database, admin: Actor, secret: str
) -> None:
    inv = new_invoice(database, admin)
    cs = sp.checkout_session(invoice_id=inv.id, amount_cents=11000, invoice_number=inv.number)
    set_session(database, inv.id, cs["id"], 11000)
    evt = sp.event("checkout.session.completed", cs)
    async with http(relay_app) as client:
        first = await deliver(client, evt, secret)
        again = await deliver(client, evt, secret)
    assert first.status_code == 200 and first.json()["outcome"] == "recorded"
    assert again.status_code == 200 and again.json()["outcome"] == "duplicate"
    after = invoice_view(database, inv.id)
    assert after.status is InvoiceStatus.PAID and after.balance_due == 0
    assert after.amount_paid == Decimal("110.00")
    [payment] = after.payments
    assert payment.processor == "stripe" and payment.processor_id == cs["payment_intent"]
    assert (payment.processor_id or "").startswith("pi_")
    assert payment.method is PaymentMethod.STRIPE and payment.flagged_reason is None
    assert payment.amount == Decimal("110.00") and payment.currency == "AUD"
    assert counts(database) == {"events": 1, "payments": 1, "refunds": 0}
    with database.session() as s:
        row = s.scalars(select(WebhookEvent)).one()
    assert row.event_id == evt["id"] and row.type == "checkout.session.completed"
    assert row.outcome == "recorded" and row.processed_at is not None
    assert row.payload["data"]["object"]["id"] == cs["id"]
    assert "payment.recorded" in _actions(database, inv.id)


async def test_session_without_payment_intent_is_keyed_by_the_session(
    relay_app: Starlette, database: Database, admin: Actor, secret: str
) -> None:
    inv = new_invoice(database, admin)
    cs = sp.checkout_session(invoice_id=inv.id, amount_cents=11000, payment_intent=None)
    async with http(relay_app) as client:
        assert (await deliver(client, sp.event("checkout.session.completed", cs), secret)).json()[
            "outcome"
        ] == "recorded"
        again = await deliver(
            client, sp.event("checkout.session.async_payment_succeeded", cs), secret
        )
    assert again.json()["outcome"] == "already_recorded"
    [payment] = invoice_view(database, inv.id).payments
    assert payment.processor_id == cs["id"]


async def test_completed_then_async_succeeded_for_one_payment_intent(
    relay_app: Starlette, database: Database, admin: Actor, secret: str
) -> None:
    inv = new_invoice(database, admin)
    cs = sp.checkout_session(invoice_id=inv.id, amount_cents=11000)
    async with http(relay_app) as client:
        a = await deliver(client, sp.event("checkout.session.completed", cs), secret)
        b = await deliver(client, sp.event("checkout.session.async_payment_succeeded", cs), secret)
    assert (a.json()["outcome"], b.json()["outcome"]) == ("recorded", "already_recorded")
    after = invoice_view(database, inv.id)
    assert len(after.payments) == 1 and after.status is InvoiceStatus.PAID
    assert counts(database) == {"events": 2, "payments": 1, "refunds": 0}


async def test_unpaid_completion_then_async_success_pays(
    relay_app: Starlette, database: Database, admin: Actor, secret: str
) -> None:
    inv = new_invoice(database, admin)
    pending = sp.checkout_session(invoice_id=inv.id, amount_cents=11000, payment_status="unpaid")
    async with http(relay_app) as client:
        first = await deliver(client, sp.event("checkout.session.completed", pending), secret)
        assert first.json()["outcome"] == "pending"
        mid = invoice_view(database, inv.id)
        assert mid.status is InvoiceStatus.PENDING and mid.payments == []
        assert "payment.pending" in _actions(database, inv.id)
        cleared = {**pending, "payment_status": "paid"}
        second = await deliver(
            client, sp.event("checkout.session.async_payment_succeeded", cleared), secret
        )
    assert second.json()["outcome"] == "recorded"
    after = invoice_view(database, inv.id)
    assert after.status is InvoiceStatus.PAID
    assert [p.processor_id for p in after.payments] == [pending["payment_intent"]]


async def test_async_failure_pays_nothing_and_is_noted(
    relay_app: Starlette, database: Database, admin: Actor, secret: str
) -> None:
    inv = new_invoice(database, admin)
    cs = sp.checkout_session(invoice_id=inv.id, amount_cents=11000, payment_status="unpaid")
    async with http(relay_app) as client:
        await deliver(client, sp.event("checkout.session.completed", cs), secret)
        failed = await deliver(
            client, sp.event("checkout.session.async_payment_failed", cs), secret
        )
    assert failed.status_code == 200 and failed.json()["outcome"] == "failed"
    after = invoice_view(database, inv.id)
    assert after.status is InvoiceStatus.PENDING and after.payments == []
    assert after.balance_due == Decimal("110.00")
    assert _actions(database, inv.id)[-1] == "payment.failed"


async def test_expired_after_completed_never_unpays(
    relay_app: Starlette, database: Database, admin: Actor, secret: str
) -> None:
    inv = new_invoice(database, admin)
    old = sp.checkout_session(
        invoice_id=inv.id,
        amount_cents=11000,
        status="expired",
        payment_status="unpaid",
        payment_intent=None,
    )
    paid = sp.checkout_session(invoice_id=inv.id, amount_cents=11000)
    set_session(database, inv.id, paid["id"], 11000)
    async with http(relay_app) as client:
        done = await deliver(client, sp.event("checkout.session.completed", paid), secret)
        assert done.json()["outcome"] == "recorded"
        # An older link's expiry arrives late: it is not the invoice's session, nothing moves.
        stale = await deliver(client, sp.event("checkout.session.expired", old), secret)
        assert stale.json()["outcome"] == "session_stale"
        kept = invoice_view(database, inv.id)
        assert kept.stripe_session_id == paid["id"] and kept.stripe_checkout_url is not None
        # The paid session's own expiry, out of order: its fields go, the payment stays.
        expired = {**paid, "status": "expired"}
        late = await deliver(client, sp.event("checkout.session.expired", expired), secret)
    assert late.json()["outcome"] == "session_cleared"
    after = invoice_view(database, inv.id)
    assert after.status is InvoiceStatus.PAID and after.balance_due == 0
    assert len(after.payments) == 1
    assert after.stripe_session_id is None and after.stripe_checkout_url is None
    assert after.stripe_session_expires_at is None


async def test_expired_session_of_an_unpaid_invoice_is_cleared(
    relay_app: Starlette, database: Database, admin: Actor, secret: str
) -> None:
    inv = new_invoice(database, admin)
    cs = sp.checkout_session(
        invoice_id=inv.id,
        amount_cents=11000,
        status="expired",
        payment_status="unpaid",
        payment_intent=None,
    )
    set_session(database, inv.id, cs["id"], 11000)
    async with http(relay_app) as client:
        r = await deliver(client, sp.event("checkout.session.expired", cs), secret)
    assert r.json()["outcome"] == "session_cleared"
    after = invoice_view(database, inv.id)
    assert after.stripe_session_id is None and after.status is InvoiceStatus.PENDING
    assert "payment_link.expired" in _actions(database, inv.id)


async def test_refund_reopens_the_balance_once(
    relay_app: Starlette, database: Database, admin: Actor, secret: str
) -> None:
    inv = new_invoice(database, admin)
    cs = sp.checkout_session(invoice_id=inv.id, amount_cents=11000)
    pi = cs["payment_intent"]
    re = sp.refund(amount_cents=3000, payment_intent=pi)
    created = sp.event("refund.created", re)
    async with http(relay_app) as client:
        await deliver(client, sp.event("checkout.session.completed", cs), secret)
        first = await deliver(client, created, secret)
        same_event = await deliver(client, created, secret)
        charge_event = sp.event(
            "charge.refunded",
            sp.charge_refunded(amount_cents=11000, payment_intent=pi, refunds=[re]),
        )
        via_charge = await deliver(client, charge_event, secret)
        updated = await deliver(client, sp.event("refund.updated", re), secret)
    assert first.json()["outcome"] == "refunded"
    assert same_event.json()["outcome"] == "duplicate"
    assert via_charge.json()["outcome"] == "already_recorded"
    assert updated.json()["outcome"] == "already_recorded"
    after = invoice_view(database, inv.id)
    [refund] = after.refunds
    assert refund.processor_id == re["id"] and refund.amount == Decimal("30.00")
    assert after.status is InvoiceStatus.PENDING
    assert after.balance_due == Decimal("30.00") and after.amount_paid == Decimal("80.00")
    assert counts(database) == {"events": 4, "payments": 1, "refunds": 1}


async def test_refund_known_only_from_the_charge_is_recorded(
    relay_app: Starlette, database: Database, admin: Actor, secret: str
) -> None:
    inv = new_invoice(database, admin)
    cs = sp.checkout_session(invoice_id=inv.id, amount_cents=11000)
    re = sp.refund(amount_cents=11000, payment_intent=None)
    charge = sp.charge_refunded(
        amount_cents=11000, payment_intent=cs["payment_intent"], refunds=[re]
    )
    async with http(relay_app) as client:
        await deliver(client, sp.event("checkout.session.completed", cs), secret)
        r = await deliver(client, sp.event("charge.refunded", charge), secret)
    assert r.json()["outcome"] == "refunded"
    after = invoice_view(database, inv.id)
    assert after.balance_due == Decimal("110.00") and after.status is InvoiceStatus.PENDING


async def test_refund_of_an_unknown_payment_is_kept_for_review(
    relay_app: Starlette, database: Database, secret: str
) -> None:
    evt = sp.event("refund.created", sp.refund(amount_cents=500, payment_intent=sp.new_id("pi")))
    async with http(relay_app) as client:
        r = await deliver(client, evt, secret)
    assert r.status_code == 200 and r.json()["outcome"] == "unknown_payment"
    assert event_outcome(database, evt["id"]) == "unknown_payment"


@pytest.mark.parametrize(
    ("amount_cents", "status", "balance", "words"),
    [
        (10000, InvoiceStatus.PENDING, Decimal("10.00"), "less than the A$110.00 owed"),
        (12000, InvoiceStatus.PAID, Decimal("0.00"), "more than the A$110.00 owed"),
    ],
)
async def test_amount_mismatch_is_recorded_and_flagged(
    relay_app: Starlette,
    database: Database,
    admin: Actor,
    secret: str,
    amount_cents: int,
    status: InvoiceStatus,
    balance: Decimal,
    words: str,
) -> None:
    inv = new_invoice(database, admin)
    cs = sp.checkout_session(invoice_id=inv.id, amount_cents=amount_cents)
    async with http(relay_app) as client:
        r = await deliver(client, sp.event("checkout.session.completed", cs), secret)
    assert r.status_code == 200 and r.json()["outcome"] == "flagged"
    after = invoice_view(database, inv.id)
    [payment] = after.payments
    assert payment.amount == Decimal(amount_cents) / 100
    assert payment.flagged_reason is not None and words in payment.flagged_reason
    assert after.status is status and after.balance_due == balance
    assert "payment.flagged" in _actions(database, inv.id)


async def test_wrong_currency_is_recorded_flagged_and_kept_out_of_the_balance(
    relay_app: Starlette, database: Database, admin: Actor, secret: str
) -> None:
    inv = new_invoice(database, admin)
    cs = sp.checkout_session(invoice_id=inv.id, amount_cents=11000, currency="usd")
    async with http(relay_app) as client:
        r = await deliver(client, sp.event("checkout.session.completed", cs), secret)
    assert r.json()["outcome"] == "flagged"
    after = invoice_view(database, inv.id)
    [payment] = after.payments
    assert payment.currency == "USD" and payment.amount == Decimal("110.00")
    assert payment.flagged_reason == f"paid in USD, but {inv.number} is in AUD"
    assert after.status is InvoiceStatus.PENDING and after.balance_due == Decimal("110.00")
    assert "payment.flagged" in _actions(database, inv.id)


async def test_second_payment_on_a_paid_invoice_is_flagged(
    relay_app: Starlette, database: Database, admin: Actor, secret: str
) -> None:
    inv = new_invoice(database, admin)
    async with http(relay_app) as client:
        for _ in range(2):  # two different sessions both paid: the client paid twice
            cs = sp.checkout_session(invoice_id=inv.id, amount_cents=11000)
            await deliver(client, sp.event("checkout.session.completed", cs), secret)
    after = invoice_view(database, inv.id)
    assert [p.flagged_reason is None for p in after.payments] == [True, False]
    assert "already paid in full" in (after.payments[1].flagged_reason or "")
    assert after.status is InvoiceStatus.PAID and after.amount_paid == Decimal("220.00")


async def test_unknown_invoice_is_answered_and_kept_for_review(
    relay_app: Starlette, database: Database, secret: str
) -> None:
    cs = sp.checkout_session(invoice_id=987654, amount_cents=11000)
    evt = sp.event("checkout.session.completed", cs)
    async with http(relay_app) as client:
        r = await deliver(client, evt, secret)
    assert r.status_code == 200 and r.json()["outcome"] == "unknown_invoice"
    assert event_outcome(database, evt["id"]) == "unknown_invoice"
    assert counts(database) == {"events": 1, "payments": 0, "refunds": 0}
    with database.session() as s:
        entry = s.scalars(
            select(ActivityEntry).where(ActivityEntry.action == "webhook.unknown_invoice")
        ).one()
    assert entry.detail["event_id"] == evt["id"]


async def test_invoice_found_by_client_reference_id(
    relay_app: Starlette, database: Database, admin: Actor, secret: str
) -> None:
    inv = new_invoice(database, admin)
    cs = sp.checkout_session(invoice_id=inv.id, amount_cents=11000, use_metadata=False)
    assert cs["metadata"] == {} and cs["client_reference_id"] == str(inv.id)
    async with http(relay_app) as client:
        r = await deliver(client, sp.event("checkout.session.completed", cs), secret)
    assert r.json()["outcome"] == "recorded"
    assert invoice_view(database, inv.id).status is InvoiceStatus.PAID


async def test_payment_on_a_void_invoice_is_kept_and_flagged(
    relay_app: Starlette, database: Database, admin: Actor, secret: str
) -> None:
    from core.services import invoices

    inv = new_invoice(database, admin)
    with database.session() as s:
        invoices.void_invoice(s, admin, inv.id)
    cs = sp.checkout_session(invoice_id=inv.id, amount_cents=11000)
    async with http(relay_app) as client:
        r = await deliver(client, sp.event("checkout.session.completed", cs), secret)
    assert r.json()["outcome"] == "flagged"
    after = invoice_view(database, inv.id)
    assert after.status is InvoiceStatus.VOID and after.balance_due == 0
    assert after.payments[0].flagged_reason == f"{inv.number} is void"


async def test_other_event_types_are_kept_and_ignored(
    relay_app: Starlette, database: Database, secret: str
) -> None:
    evt = sp.event("plan.created", sp.RESOURCES["event"]["data"]["object"])
    async with http(relay_app) as client:
        r = await deliver(client, evt, secret)
    assert r.status_code == 200 and r.json()["outcome"] == "ignored"
    assert event_outcome(database, evt["id"]) == "ignored"
