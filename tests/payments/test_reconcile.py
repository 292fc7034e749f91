"""Reconciliation against the Checkout stand-in: a missed webhook costs nothing, twice is once."""

from __future__ import annotations

import datetime as dt
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select, update

from core.actor import Actor
from core.db.engine import Database
from core.db.models import Invoice, WebhookEvent
from core.enums import InvoiceStatus
from core.payments import checkout, webhooks
from core.payments.checkout import PaymentLink
from core.payments.reconcile import ReconcileReport, reconcile
from core.payments.stripe_client import NewCheckout, StripeGateway, StripeUnavailable
from core.services import invoices
from tests.payments.conftest import (
    actions,
    activity_count,
    invoice_row,
    new_invoice,
    pay_cash,
    stripe_payments,
    view,
)
from tests.stripe_standin import StripeStandin


def _link(database: Database, actor: Actor, invoice_id: int, gw: StripeGateway) -> PaymentLink:
    with database.session() as s:
        return checkout.create_payment_link(s, actor, invoice_id, stripe=gw)


def _nothing_changed(report: ReconcileReport) -> bool:
    return report.changed == 0 and report.errors == []


def _event(session: dict[str, Any], kind: str = "checkout.session.completed") -> dict[str, Any]:
    return {
        "id": f"evt_test_{uuid.uuid4().hex[:24]}",
        "object": "event",
        "type": kind,
        "created": int(time.time()),
        "data": {"object": session},
    }


def test_a_paid_session_is_recorded_once_however_often_it_runs(
    database: Database, staff: Actor, standin: StripeStandin, gateway: StripeGateway
) -> None:
    inv = new_invoice(database, staff, price="84.47")  # 92.92
    link = _link(database, staff, inv.id, gateway)
    standin.complete_session(link.session_id, payment_intent="pi_test_reconciled")
    # The webhook never arrives.

    first = reconcile(database, gateway)

    assert (first.checked, first.recorded, first.changed, first.errors) == (1, 1, 1, [])
    after = view(database, inv.id)
    assert after.status is InvoiceStatus.PAID and after.balance_due == 0
    assert after.stripe_session_id is None and after.stripe_checkout_url is None
    (payment,) = stripe_payments(database)
    assert (payment.processor_id, payment.amount, payment.currency) == (
        "pi_test_reconciled",
        Decimal("92.92"),
        "AUD",
    )
    assert payment.flagged_reason is None
    assert "payment.recorded" in actions(database, inv.id)
    logged = activity_count(database)
    version = invoice_row(database, inv.id).version

    second = reconcile(database, gateway)

    assert _nothing_changed(second) and second.checked == 0
    assert len(stripe_payments(database)) == 1
    assert activity_count(database) == logged
    assert invoice_row(database, inv.id).version == version


def test_after_the_webhook_it_only_tidies_the_link(
    database: Database, staff: Actor, standin: StripeStandin, gateway: StripeGateway
) -> None:
    inv = new_invoice(database, staff)
    link = _link(database, staff, inv.id, gateway)
    paid = standin.complete_session(link.session_id)
    with database.session() as s:
        outcome = webhooks.apply_event(s, _event(paid))
    assert outcome.outcome is webhooks.Outcome.RECORDED

    report = reconcile(database, gateway)

    assert (report.already_recorded, report.recorded) == (1, 0)
    assert len(stripe_payments(database)) == 1
    assert view(database, inv.id).stripe_session_id is None
    assert _nothing_changed(reconcile(database, gateway))


def test_reconcile_and_webhook_at_once_record_one_payment(
    database: Database, staff: Actor, standin: StripeStandin, gateway: StripeGateway
) -> None:
    inv = new_invoice(database, staff)
    link = _link(database, staff, inv.id, gateway)
    paid = standin.complete_session(link.session_id)

    def webhook() -> webhooks.EventOutcome:
        with database.session() as s:
            return webhooks.apply_event(s, _event(paid))

    with ThreadPoolExecutor(max_workers=2) as pool:
        from_webhook = pool.submit(webhook)
        from_reconcile = pool.submit(reconcile, database, gateway)
        from_webhook.result()
        from_reconcile.result()

    assert len(stripe_payments(database)) == 1
    assert view(database, inv.id).status is InvoiceStatus.PAID


def test_an_expired_session_is_cleared(
    database: Database, staff: Actor, standin: StripeStandin, gateway: StripeGateway
) -> None:
    inv = new_invoice(database, staff)
    link = _link(database, staff, inv.id, gateway)
    standin.expire_session(link.session_id)  # and the checkout.session.expired event is lost

    report = reconcile(database, gateway)

    assert (report.cleared_expired, report.changed) == (1, 1)
    after = view(database, inv.id)
    assert after.stripe_session_id is None and after.stripe_session_expires_at is None
    assert after.status is InvoiceStatus.PENDING and stripe_payments(database) == []
    assert _nothing_changed(reconcile(database, gateway))


def test_a_link_of_an_invoice_paid_at_the_counter_is_expired_at_stripe(
    database: Database, staff: Actor, standin: StripeStandin, gateway: StripeGateway
) -> None:
    inv = new_invoice(database, staff)
    link = _link(database, staff, inv.id, gateway)
    pay_cash(database, staff, inv.id, "110.00")

    report = reconcile(database, gateway)

    assert report.expired_stale == 1
    assert standin.session(link.session_id)["status"] == "expired"
    assert view(database, inv.id).stripe_session_id is None
    assert actions(database, inv.id)[-1] == "payment_link.expired"
    assert _nothing_changed(reconcile(database, gateway))


def test_a_link_for_an_old_balance_or_a_void_invoice_is_expired(
    database: Database, admin: Actor, standin: StripeStandin, gateway: StripeGateway
) -> None:
    partly_paid = new_invoice(database, admin)
    voided = new_invoice(database, admin)
    old_balance = _link(database, admin, partly_paid.id, gateway)
    of_void = _link(database, admin, voided.id, gateway)
    pay_cash(database, admin, partly_paid.id, "10.00")
    with database.session() as s:
        invoices.void_invoice(s, admin, voided.id)

    report = reconcile(database, gateway)

    assert report.expired_stale == 2
    assert {standin.session(old_balance.session_id)["status"]} == {"expired"}
    assert standin.session(of_void.session_id)["status"] == "expired"
    assert view(database, partly_paid.id).stripe_session_id is None


def test_a_link_past_its_expiry_is_expired_at_stripe(
    database: Database, staff: Actor, standin: StripeStandin, gateway: StripeGateway
) -> None:
    inv = new_invoice(database, staff)
    link = _link(database, staff, inv.id, gateway)
    with database.session() as s, s.begin():
        s.execute(
            update(Invoice)
            .where(Invoice.id == inv.id)
            .values(stripe_session_expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1))
        )

    report = reconcile(database, gateway)

    assert report.expired_stale == 1
    assert standin.session(link.session_id)["status"] == "expired"


def test_an_open_link_that_is_right_is_left_alone(
    database: Database, staff: Actor, standin: StripeStandin, gateway: StripeGateway
) -> None:
    inv = new_invoice(database, staff)
    link = _link(database, staff, inv.id, gateway)

    report = reconcile(database, gateway)

    assert (report.checked, report.still_open) == (1, 1) and _nothing_changed(report)
    assert standin.session(link.session_id)["status"] == "open"
    assert invoice_row(database, inv.id).stripe_session_id == link.session_id


def test_a_delayed_payment_still_clearing_is_left_alone(
    database: Database, staff: Actor, standin: StripeStandin, gateway: StripeGateway
) -> None:
    inv = new_invoice(database, staff)
    link = _link(database, staff, inv.id, gateway)
    standin.complete_session(link.session_id, payment_status="unpaid")

    report = reconcile(database, gateway)

    assert report.pending == 1 and _nothing_changed(report)
    assert invoice_row(database, inv.id).stripe_session_id == link.session_id
    assert stripe_payments(database) == []


def test_a_session_whose_answer_was_lost_is_expired_and_others_are_left(
    database: Database, staff: Actor, standin: StripeStandin, gateway: StripeGateway
) -> None:
    inv = new_invoice(database, staff)
    standin.fail_next(1, "lost_response")
    with pytest.raises(StripeUnavailable):
        _link(database, staff, inv.id, gateway)
    (orphan,) = standin.sessions()
    # A session of another integration on the same account, and one naming no invoice of ours.
    for metadata in ({"order": "42"}, {"invoice_id": "999999", "invoice_number": "INV-9999"}):
        gateway.create_checkout_session(
            NewCheckout(
                amount_cents=5000,
                currency="AUD",
                product_name="Something else",
                metadata=metadata,
                client_reference_id="x",
                customer_email=None,
                expires_at=dt.datetime.now(dt.UTC) + dt.timedelta(hours=1),
                success_url="https://elsewhere.example/ok",
                cancel_url="https://elsewhere.example/no",
            ),
            idempotency_key=str(uuid.uuid4()),
        )

    report = reconcile(database, gateway)

    assert (report.orphans_expired, report.changed) == (1, 1)
    assert standin.session(orphan["id"])["status"] == "expired"
    assert len(standin.sessions(status="open")) == 2
    assert _nothing_changed(reconcile(database, gateway))
    # The counter's retry gets a working link, not the expired orphan.
    link = _link(database, staff, inv.id, gateway)
    assert link.session_id != orphan["id"]
    assert standin.session(link.session_id)["status"] == "open"


def test_many_links_follow_stripes_pages(
    database: Database, staff: Actor, standin: StripeStandin
) -> None:
    from tests.payments.conftest import gateway_for

    gw = gateway_for(standin)
    try:
        made = [_link(database, staff, new_invoice(database, staff).id, gw) for _ in range(3)]
        report = reconcile(database, gw)
        # Pages of 100 at Stripe; the list call is made once here, with limit=100.
        listed = standin.requests_to("GET", "/v1/checkout/sessions")
        assert [r.query for r in listed] == [{"limit": "100", "status": "open"}]
        assert report.still_open == 3 and len(made) == 3
        pages = list(gw.list_checkout_sessions(status="open", page_size=1))
        assert [p.id for p in pages] == [m.session_id for m in reversed(made)]
    finally:
        gw.close()


def test_stripe_down_stops_the_run_and_changes_nothing(
    database: Database, staff: Actor, standin: StripeStandin, gateway: StripeGateway
) -> None:
    inv = new_invoice(database, staff)
    link = _link(database, staff, inv.id, gateway)
    standin.complete_session(link.session_id)
    standin.fail_next(1, "network")

    report = reconcile(database, gateway)

    assert report.stopped_early and len(report.errors) == 1
    assert "could not be reached" in report.errors[0]
    assert stripe_payments(database) == []
    assert reconcile(database, gateway).recorded == 1  # the next run catches up


def test_webhook_events_are_not_written_by_reconcile(
    database: Database, staff: Actor, standin: StripeStandin, gateway: StripeGateway
) -> None:
    """Reconciliation applies sessions, not events: the event log stays the webhook's."""
    inv = new_invoice(database, staff)
    standin.complete_session(_link(database, staff, inv.id, gateway).session_id)
    reconcile(database, gateway)
    with database.session() as s:
        assert s.scalars(select(WebhookEvent)).all() == []


def test_it_runs_as_the_relays_role(
    database: Database, db_url: str, staff: Actor, standin: StripeStandin, gateway: StripeGateway
) -> None:
    """The relay's schedule runs it over the least-privilege relay connection."""
    from tests.relay.conftest import as_relay_role

    paid, stale = new_invoice(database, staff), new_invoice(database, staff)
    standin.complete_session(_link(database, staff, paid.id, gateway).session_id)
    _link(database, staff, stale.id, gateway)
    pay_cash(database, staff, stale.id, "110.00")
    relay_db = Database.from_url(as_relay_role(db_url))
    try:
        report = reconcile(relay_db, gateway)
    finally:
        relay_db.dispose()
    assert (report.recorded, report.expired_stale, report.errors) == (1, 1, [])
    assert view(database, paid.id).status is InvoiceStatus.PAID


def test_a_link_stripe_does_not_know_is_cleared(
    database: Database, staff: Actor, standin: StripeStandin, gateway: StripeGateway
) -> None:
    inv = new_invoice(database, staff)
    with database.session() as s, s.begin():
        s.execute(
            update(Invoice)
            .where(Invoice.id == inv.id)
            .values(stripe_session_id="cs_test_unknown", stripe_session_amount_cents=11000)
        )

    report = reconcile(database, gateway)

    assert (report.cleared_unknown, report.changed, report.errors) == (1, 1, [])
    assert invoice_row(database, inv.id).stripe_session_id is None
    assert _nothing_changed(reconcile(database, gateway))
