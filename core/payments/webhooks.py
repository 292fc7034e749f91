"""Stripe webhook events applied to the shop's books: each event once, in one transaction."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from core.actor import SYSTEM_ACTOR, Actor
from core.db.models import Invoice, Payment, Refund, WebhookEvent
from core.enums import PaymentMethod
from core.errors import Conflict, NotFound, ServiceError
from core.money import format_money, from_cents
from core.payments.stripe_events import (
    CheckoutSessionFacts,
    RefundFacts,
    StripeEvent,
    charge_refunds,
    checkout_session_facts,
    invoice_id_of,
    parse_event,
    refund_facts,
)
from core.services import activity, events, payments
from core.services.invoices import get_invoice_row

PROCESSOR = "stripe"

COMPLETED = "checkout.session.completed"
ASYNC_SUCCEEDED = "checkout.session.async_payment_succeeded"
ASYNC_FAILED = "checkout.session.async_payment_failed"
EXPIRED = "checkout.session.expired"
CHECKOUT_EVENTS = frozenset({COMPLETED, ASYNC_SUCCEEDED, ASYNC_FAILED, EXPIRED})
# refund.* are the current refund events; charge.refund.updated is their older name.
REFUND_EVENTS = frozenset({"refund.created", "refund.updated", "charge.refund.updated"})
CHARGE_REFUNDED = "charge.refunded"


class Outcome(StrEnum):
    """What an event did; stored in ``webhook_events.outcome``."""

    RECORDED = "recorded"  # a payment was recorded
    FLAGGED = "flagged"  # a payment was recorded and flagged for a person to review
    REFUNDED = "refunded"  # a refund was recorded
    ALREADY_RECORDED = "already_recorded"  # the payment or refund was already in the books
    DUPLICATE = "duplicate"  # this event id was received before: nothing changed
    PENDING = "pending"  # checkout completed, the money (a delayed method) not yet in
    FAILED = "failed"  # a delayed payment failed: noted, nothing paid
    SESSION_CLEARED = "session_cleared"  # the invoice's expired Checkout session was cleared
    SESSION_STALE = "session_stale"  # an expired session the invoice no longer names
    UNKNOWN_INVOICE = "unknown_invoice"  # kept for review
    UNKNOWN_PAYMENT = "unknown_payment"  # a refund of a payment we do not have: kept for review
    REJECTED = "rejected"  # a service refused it (its reason is in the activity log)
    IGNORED = "ignored"  # a type or state PrintDesk does not act on


@dataclass(frozen=True)
class EventOutcome:
    outcome: Outcome
    message: str
    invoice_id: int | None = None
    payment_id: int | None = None


def stripe_actor(source: str) -> Actor:
    """The system acting for Stripe; ``source`` (event id, "reconcile") shows in the log."""
    return Actor(SYSTEM_ACTOR.user_id, SYSTEM_ACTOR.role, f"Stripe ({source})"[:320])


def apply_event(session: Session, event: Mapping[str, Any]) -> EventOutcome:
    """Record a verified Stripe event and apply it, all in one transaction of its own.

    The event row is inserted first with ON CONFLICT DO NOTHING: a concurrent delivery of the
    same event waits on the unique key until this transaction ends and then changes nothing
    (outcome DUPLICATE). A refusal by a service keeps the event with outcome REJECTED; any
    other error rolls everything back, so the sender's retry applies it afresh. Raises
    ``InvalidInput`` before writing anything when ``event`` is not an event.
    """
    parsed = parse_event(event)
    with session.begin():
        row_id = session.scalar(
            insert(WebhookEvent)
            .values(event_id=parsed.id, type=parsed.type, payload=dict(event))
            .on_conflict_do_nothing(index_elements=[WebhookEvent.event_id])
            .returning(WebhookEvent.id)
        )
        if row_id is None:
            return EventOutcome(Outcome.DUPLICATE, f"Event {parsed.id} was received before.")
        try:
            with session.begin_nested():
                result = _dispatch(session, parsed)
        except ServiceError as exc:
            result = EventOutcome(Outcome.REJECTED, str(exc))
            activity.record(
                session,
                stripe_actor(parsed.id),
                "webhook.rejected",
                "webhook_event",
                row_id,
                f"Stripe event {parsed.type} not applied: {exc}",
                {"event_id": parsed.id, "type": parsed.type},
            )
        if result.outcome in (Outcome.UNKNOWN_INVOICE, Outcome.UNKNOWN_PAYMENT):
            activity.record(
                session,
                stripe_actor(parsed.id),
                f"webhook.{result.outcome.value}",
                "webhook_event",
                row_id,
                f"Stripe event {parsed.type} kept for review: {result.message}",
                {"event_id": parsed.id, "type": parsed.type},
            )
        session.execute(
            update(WebhookEvent)
            .where(WebhookEvent.id == row_id)
            .values(outcome=result.outcome.value, processed_at=func.now())
        )
        return result


def _dispatch(session: Session, event: StripeEvent) -> EventOutcome:
    source = event.id
    if event.type in CHECKOUT_EVENTS:
        return apply_checkout_session(
            session, event.object, source=source, event_type=event.type, occurred_at=event.created
        )
    if event.type in REFUND_EVENTS:
        return _apply_refund(session, refund_facts(event.object), source)
    if event.type == CHARGE_REFUNDED:
        payment_intent, refunds = charge_refunds(event.object)
        if not refunds:
            return EventOutcome(
                Outcome.IGNORED,
                f"The charge of {payment_intent or 'an unknown payment'} lists no refunds; "
                "the refund.created event records them.",
            )
        results = [_apply_refund(session, refund, source) for refund in refunds]
        for wanted in (Outcome.REFUNDED, Outcome.UNKNOWN_PAYMENT, Outcome.ALREADY_RECORDED):
            for result in results:
                if result.outcome is wanted:
                    return result
        return results[0]
    return EventOutcome(Outcome.IGNORED, f"PrintDesk does not act on {event.type} events.")


def apply_checkout_session(
    session: Session,
    checkout_session: Mapping[str, Any],
    *,
    source: str,
    event_type: str | None = None,
    occurred_at: dt.datetime | None = None,
) -> EventOutcome:
    """Bring the books in line with one Checkout Session, inside the caller's transaction.

    The webhook path and reconciliation both come here, so a session is applied the same way
    whichever told us about it. ``source`` says where the session came from (an event id,
    "reconcile") for the activity log. ``event_type`` is the event that carried it; without
    one (reconciliation), the session's own status decides, and a session that is complete
    but not yet paid is reported PENDING without a note (a note belongs to the event).

    Paid: a payment with processor "stripe" and processor id the PaymentIntent (or the
    session id where there is none), recorded once whichever events carry it; an amount or
    currency that does not match what is owed is recorded and flagged. Expired: the invoice's
    session fields are cleared if they name this session; nothing is ever un-paid.
    """
    facts = checkout_session_facts(checkout_session)
    invoice_id = invoice_id_of(facts.invoice_ref)
    try:
        invoice = get_invoice_row(session, invoice_id, lock=True) if invoice_id else None
    except NotFound:
        invoice = None
    if invoice is None:
        return EventOutcome(
            Outcome.UNKNOWN_INVOICE,
            f"Checkout session {facts.id} names no invoice of this shop "
            f"(reference {facts.invoice_ref!r}).",
        )
    actor = stripe_actor(source)
    if event_type == EXPIRED or facts.status == "expired":
        return _session_expired(session, actor, invoice, facts)
    if event_type == ASYNC_FAILED:
        return _payment_failed(session, actor, invoice, facts)
    if facts.is_paid:
        return _record_payment(session, actor, invoice, facts, occurred_at)
    if facts.status == "complete" and facts.payment_status == "unpaid":
        if event_type is not None:
            _note(
                session,
                actor,
                invoice,
                "payment.pending",
                f"Stripe Checkout completed on {invoice.number}; the payment has not cleared "
                "yet (delayed method).",
                facts,
                "payment_pending",
            )
        return EventOutcome(
            Outcome.PENDING,
            f"Checkout session {facts.id} is complete; its payment has not cleared yet.",
            invoice.id,
        )
    return EventOutcome(
        Outcome.IGNORED,
        f"Checkout session {facts.id} is {facts.status or 'in no known state'} "
        f"({facts.payment_status or 'no payment status'}): nothing to record.",
        invoice.id,
    )


def _record_payment(
    session: Session,
    actor: Actor,
    invoice: Invoice,
    facts: CheckoutSessionFacts,
    occurred_at: dt.datetime | None,
) -> EventOutcome:
    if not facts.amount_cents or facts.currency is None:
        return EventOutcome(
            Outcome.IGNORED,
            f"Checkout session {facts.id} is paid but carries no amount to record.",
            invoice.id,
        )
    result = payments.apply_processor_payment(
        session,
        actor,
        invoice.id,
        payments.NewPayment(
            amount=from_cents(facts.amount_cents),
            method=PaymentMethod.STRIPE,
            reference=f"Stripe Checkout {facts.id}",
            processor=PROCESSOR,
            processor_id=facts.processor_id,
            currency=facts.currency,
            paid_at=occurred_at,
        ),
    )
    if result.already_recorded:
        return EventOutcome(
            Outcome.ALREADY_RECORDED,
            f"Payment {facts.processor_id} is already recorded.",
            invoice.id,
            result.payment_id,
        )
    if result.flagged_reason:
        return EventOutcome(
            Outcome.FLAGGED,
            f"Payment {facts.processor_id} recorded and flagged: {result.flagged_reason}.",
            invoice.id,
            result.payment_id,
        )
    return EventOutcome(
        Outcome.RECORDED,
        f"Payment {facts.processor_id} recorded on {invoice.number}.",
        invoice.id,
        result.payment_id,
    )


def _session_expired(
    session: Session, actor: Actor, invoice: Invoice, facts: CheckoutSessionFacts
) -> EventOutcome:
    if invoice.stripe_session_id != facts.id:
        return EventOutcome(
            Outcome.SESSION_STALE,
            f"Checkout session {facts.id} expired; {invoice.number} no longer uses it.",
            invoice.id,
        )
    invoice.stripe_session_id = None
    invoice.stripe_checkout_url = None
    invoice.stripe_session_expires_at = None
    invoice.stripe_session_amount_cents = None
    session.flush()
    activity.record(
        session,
        actor,
        "payment_link.expired",
        "invoice",
        invoice.id,
        f"The payment link of {invoice.number} expired",
        {"session_id": facts.id},
    )
    events.notify(
        session,
        "invoice",
        invoice.id,
        number=invoice.number,
        status=invoice.status,
        stripe="session_expired",
    )
    return EventOutcome(
        Outcome.SESSION_CLEARED,
        f"Checkout session {facts.id} expired and was cleared from {invoice.number}.",
        invoice.id,
    )


def _payment_failed(
    session: Session, actor: Actor, invoice: Invoice, facts: CheckoutSessionFacts
) -> EventOutcome:
    amount = (
        format_money(from_cents(facts.amount_cents), facts.currency)
        if facts.amount_cents is not None and facts.currency
        else "The payment"
    )
    _note(
        session,
        actor,
        invoice,
        "payment.failed",
        f"{amount} by Stripe on {invoice.number} failed to clear; nothing was paid.",
        facts,
        "payment_failed",
    )
    return EventOutcome(
        Outcome.FAILED,
        f"The delayed payment of checkout session {facts.id} failed; nothing was paid.",
        invoice.id,
    )


def _note(
    session: Session,
    actor: Actor,
    invoice: Invoice,
    action: str,
    message: str,
    facts: CheckoutSessionFacts,
    notice: str,
) -> None:
    activity.record(
        session,
        actor,
        action,
        "invoice",
        invoice.id,
        message,
        {
            "session_id": facts.id,
            "payment_intent": facts.payment_intent,
            "amount_cents": facts.amount_cents,
            "currency": facts.currency,
        },
    )
    events.notify(
        session, "invoice", invoice.id, number=invoice.number, status=invoice.status, stripe=notice
    )


def _apply_refund(session: Session, refund: RefundFacts, source: str) -> EventOutcome:
    if refund.status not in (None, "succeeded"):
        return EventOutcome(
            Outcome.IGNORED,
            f"Refund {refund.id} is {refund.status}; only a refund that succeeded is recorded.",
        )
    payment = (
        session.scalars(
            select(Payment).where(
                Payment.processor == PROCESSOR, Payment.processor_id == refund.payment_intent
            )
        ).one_or_none()
        if refund.payment_intent
        else None
    )
    if payment is None:
        return EventOutcome(
            Outcome.UNKNOWN_PAYMENT,
            f"Refund {refund.id} is of {refund.payment_intent or 'a charge'} "
            f"({refund.charge or 'no charge id'}), which is not a payment PrintDesk recorded.",
        )
    # Lock the invoice before looking for the refund, so a concurrent event carrying the same
    # refund is seen here once it commits and the refund lands once.
    invoice = get_invoice_row(session, payment.invoice_id, lock=True)
    existing = session.scalar(
        select(Refund.id).where(Refund.processor == PROCESSOR, Refund.processor_id == refund.id)
    )
    if existing is not None:
        return EventOutcome(
            Outcome.ALREADY_RECORDED,
            f"Refund {refund.id} is already recorded.",
            invoice.id,
            payment.id,
        )
    if refund.currency != payment.currency:
        raise Conflict(
            f"Refund {refund.id} is in {refund.currency} but its payment is in {payment.currency}."
        )
    payments.apply_refund(
        session,
        stripe_actor(source),
        payments.NewRefund(
            payment_id=payment.id,
            amount=from_cents(refund.amount_cents),
            reason=refund.reason or "Refunded at Stripe",
            processor=PROCESSOR,
            processor_id=refund.id,
        ),
    )
    return EventOutcome(
        Outcome.REFUNDED,
        f"Refund {refund.id} of {format_money(from_cents(refund.amount_cents), refund.currency)} "
        f"recorded on {invoice.number}.",
        invoice.id,
        payment.id,
    )
