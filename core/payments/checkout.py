"""Payment links: a Stripe Checkout Session for what an invoice still owes, reused while it can be.

The invoice row stays locked while Stripe is asked, so two counters asking for a link at once
get the same one, and a failed call leaves the invoice as it was. The Idempotency-Key comes from
(invoice, version, amount): a retried request gets Stripe's first answer back, never a second
session. The expiry is rounded to a 15-minute window so that a retry sends the same parameters,
which Stripe requires for a replay.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from dataclasses import dataclass
from decimal import Decimal
from urllib.parse import quote

from sqlalchemy.orm import Session

from core.actor import Actor
from core.db.models import Client, Invoice
from core.enums import InvoiceStatus
from core.errors import Conflict
from core.money import format_money, from_cents, to_cents
from core.payments.stripe_client import (
    CheckoutSession,
    NewCheckout,
    PaymentProviderError,
    StripeGateway,
    StripeKeyReused,
    StripeNotConfigured,
    StripeNotFound,
    StripeRejected,
    StripeUnavailable,
)
from core.payments.webhooks import EventOutcome, apply_checkout_session, stripe_actor
from core.services import activity, events
from core.services import settings as shop_settings
from core.services.invoices import InvoiceView, get_invoice_row, view_of

__all__ = [
    "PaymentLink",
    "PaymentProviderError",
    "StripeGateway",
    "StripeNotConfigured",
    "StripeRejected",
    "StripeUnavailable",
    "clear_session_fields",
    "create_payment_link",
    "expire_payment_link",
    "forget_session",
    "idempotency_key",
    "link_expiry",
    "lookup_session",
    "settle_used_session",
]

LINK_SOURCE = "payment link"  # who applied a paid session found while making a link
# A link with less than this left is replaced rather than handed to a client.
REUSE_MARGIN = dt.timedelta(minutes=10)
EXPIRY_WINDOW_S = 15 * 60
# Stripe accepts expires_at from 30 minutes to 24 hours after creation, by its own clock;
# a minute each side covers a clock that is a little off.
_STRIPE_MIN_S = 30 * 60 + 60
_STRIPE_MAX_S = 24 * 60 * 60 - 60


@dataclass(frozen=True)
class PaymentLink:
    url: str
    session_id: str
    expires_at: dt.datetime
    amount: Decimal
    currency: str
    reused: bool
    invoice_id: int
    invoice_number: str


def idempotency_key(invoice_id: int, version: int, amount_cents: int) -> str:
    """One Checkout Session per invoice, invoice version and amount."""
    return f"printdesk-invoice-{invoice_id}-v{version}-{amount_cents}"


def link_expiry(now: dt.datetime, minutes: int) -> dt.datetime:
    """``now + minutes``, the same for every ``now`` in one 15-minute window, within Stripe's
    bounds for any ``now`` in that window."""
    epoch = int(now.timestamp())
    window = epoch - epoch % EXPIRY_WINDOW_S
    wanted = window + minutes * 60
    lowest = window + EXPIRY_WINDOW_S + _STRIPE_MIN_S
    highest = window + _STRIPE_MAX_S
    return dt.datetime.fromtimestamp(min(max(wanted, lowest), highest), tz=dt.UTC)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _refuse_unpayable(invoice: Invoice) -> None:
    if invoice.status == InvoiceStatus.VOID:
        raise Conflict(f"{invoice.number} is void; it cannot get a payment link.")
    if invoice.status == InvoiceStatus.WRITTEN_OFF:
        raise Conflict(f"{invoice.number} is written off; it cannot get a payment link.")
    if invoice.status == InvoiceStatus.PAID or invoice.balance_due <= 0:
        raise Conflict(f"{invoice.number} is already paid in full; there is nothing to pay.")


def clear_session_fields(invoice: Invoice) -> None:
    invoice.stripe_session_id = None
    invoice.stripe_checkout_url = None
    invoice.stripe_session_expires_at = None
    invoice.stripe_session_amount_cents = None


def _url(template: str, invoice: Invoice) -> str:
    # str.replace, not format: Stripe's own {CHECKOUT_SESSION_ID} placeholder must survive.
    return template.replace("{INVOICE_NUMBER}", quote(invoice.number, safe="")).replace(
        "{INVOICE_ID}", str(invoice.id)
    )


def _link(invoice: Invoice, remote: CheckoutSession, cents: int, *, reused: bool) -> PaymentLink:
    url = remote.url or invoice.stripe_checkout_url
    assert url is not None, "an open Checkout Session has a URL"
    return PaymentLink(
        url=url,
        session_id=remote.id,
        expires_at=remote.expires_at,
        amount=from_cents(cents),
        currency=invoice.currency,
        reused=reused,
        invoice_id=invoice.id,
        invoice_number=invoice.number,
    )


def settle_used_session(
    session: Session, invoice: Invoice, remote: CheckoutSession, source: str
) -> EventOutcome:
    """A link on the invoice that the client used: the money goes into the books through the
    webhook's own path (once, whoever gets there first), and the invoice forgets the link.

    A payment by a delayed method (bank debit) that has not cleared is refused instead: a new
    link now could make the client pay twice.
    """
    if not remote.is_paid:
        raise Conflict(
            f"The client already paid {invoice.number}'s link by a method that takes a few days "
            "to clear; a new link cannot be made until that payment succeeds or fails."
        )
    outcome = apply_checkout_session(session, remote.raw, source=source)
    if invoice.stripe_session_id == remote.id:
        clear_session_fields(invoice)
        activity.record(
            session,
            stripe_actor(source),
            "payment_link.cleared",
            "invoice",
            invoice.id,
            f"The paid payment link of {invoice.number} was cleared",
            {"session_id": remote.id, "outcome": outcome.outcome.value},
        )
        session.flush()
    return outcome


UNKNOWN_AT_STRIPE = "Stripe does not know it: made under another Stripe account or mode?"


def lookup_session(stripe: StripeGateway, session_id: str) -> CheckoutSession | None:
    """The session as Stripe has it; None when Stripe does not know it (a test-mode link left
    on an invoice after switching to the live key), which then counts as gone."""
    try:
        return stripe.retrieve_checkout_session(session_id)
    except StripeNotFound:
        return None


def forget_session(
    session: Session, actor: Actor, invoice: Invoice, session_id: str, why: str
) -> None:
    clear_session_fields(invoice)
    activity.record(
        session,
        actor,
        "payment_link.expired",
        "invoice",
        invoice.id,
        f"Stripe payment link on {invoice.number} cancelled ({why})",
        {"session_id": session_id, "reason": why},
    )
    session.flush()


def _retire(
    session: Session,
    actor: Actor,
    invoice: Invoice,
    remote: CheckoutSession | None,
    stripe: StripeGateway,
    why: str,
) -> CheckoutSession | None:
    """Make sure the invoice's session can no longer be paid, then forget it on the invoice.

    Returns Stripe's final word on it: expired (or None, unknown to Stripe), or complete when
    the client paid it first (then nothing is cleared here; the caller settles it).
    """
    session_id = invoice.stripe_session_id
    assert session_id is not None
    if remote is not None and remote.is_open:
        remote = stripe.expire_checkout_session(remote.id)
    if remote is not None and remote.status == "complete":
        return remote
    forget_session(session, actor, invoice, session_id, why if remote else UNKNOWN_AT_STRIPE)
    return remote


def _create(stripe: StripeGateway, new: NewCheckout, key: str) -> CheckoutSession:
    """Create under ``key``; a replayed answer is checked, and a refused key replaced."""
    try:
        created = stripe.create_checkout_session(new, idempotency_key=key)
    except StripeKeyReused:
        # An earlier attempt under this key sent other parameters (another expiry window, a
        # changed email) and its answer never reached us; reconciliation expires that orphan.
        digest = hashlib.sha256(repr(new).encode()).hexdigest()[:16]
        created = stripe.create_checkout_session(new, idempotency_key=f"{key}-{digest}")
    if not created.replayed:
        return created
    # Stripe replayed a session made by an attempt whose answer was lost; it may have been
    # expired since (by reconciliation), so ask for its state today.
    current = stripe.retrieve_checkout_session(created.id)
    if current.is_open:
        return current
    return stripe.create_checkout_session(new, idempotency_key=f"{key}-{uuid.uuid4().hex}")


def _new_checkout(
    session: Session, invoice: Invoice, cents: int, stripe: StripeGateway, now: dt.datetime
) -> NewCheckout:
    shop = shop_settings.load(session)
    client = session.get(Client, invoice.client_id)
    return NewCheckout(
        amount_cents=cents,
        currency=invoice.currency,
        product_name=f"Invoice {invoice.number}",
        metadata={"invoice_id": str(invoice.id), "invoice_number": invoice.number},
        client_reference_id=str(invoice.id),
        customer_email=(client.email or None) if client is not None else None,
        expires_at=link_expiry(now, shop.checkout_expiry_minutes),
        success_url=_url(stripe.success_url_template, invoice),
        cancel_url=_url(stripe.cancel_url_template, invoice),
    )


def _payment_link(
    session: Session, actor: Actor, invoice_id: int, stripe: StripeGateway
) -> PaymentLink | Conflict:
    invoice = get_invoice_row(session, invoice_id, lock=True)
    _refuse_unpayable(invoice)
    cents = to_cents(invoice.balance_due)
    now = _now()
    replaced = invoice.stripe_session_id
    if replaced is not None:
        expires = invoice.stripe_session_expires_at
        fresh = (
            invoice.stripe_session_amount_cents == cents
            and expires is not None
            and expires - now > REUSE_MARGIN
        )
        remote = lookup_session(stripe, replaced)
        if fresh and remote is not None and remote.is_open and remote.amount_total == cents:
            return _link(invoice, remote, cents, reused=True)
        why = (
            "the balance changed"
            if invoice.stripe_session_amount_cents != cents
            else "it expired or was about to"
        )
        remote = _retire(session, actor, invoice, remote, stripe, why)
        if remote is not None and remote.status == "complete":
            settle_used_session(session, invoice, remote, LINK_SOURCE)
            if invoice.status != InvoiceStatus.PENDING or invoice.balance_due <= 0:
                return Conflict(
                    f"{invoice.number} was paid through its Stripe link; the payment is now "
                    "recorded and there is nothing left to pay."
                )
            cents = to_cents(invoice.balance_due)

    new = _new_checkout(session, invoice, cents, stripe, now)
    created = _create(stripe, new, idempotency_key(invoice.id, invoice.version, cents))
    if created.url is None:
        raise StripeRejected(
            "Stripe made a payment link without a URL; it cannot be sent.",
            http_status=None,
            code=None,
        )
    invoice.stripe_session_id = created.id
    invoice.stripe_checkout_url = created.url
    invoice.stripe_session_expires_at = created.expires_at
    invoice.stripe_session_amount_cents = cents
    activity.record(
        session,
        actor,
        "payment_link.created",
        "invoice",
        invoice.id,
        f"Stripe payment link for {format_money(from_cents(cents), invoice.currency)} made "
        f"for {invoice.number}",
        {
            "session_id": created.id,
            "amount_cents": cents,
            "expires_at": created.expires_at.isoformat(),
            "replaced": replaced,
        },
    )
    events.notify(
        session,
        "invoice",
        invoice.id,
        number=invoice.number,
        status=invoice.status,
        payment_link="created",
    )
    session.flush()
    return _link(invoice, created, cents, reused=False)


def create_payment_link(
    session: Session, actor: Actor, invoice_id: int, *, stripe: StripeGateway
) -> PaymentLink:
    """A Stripe Checkout link for what the invoice still owes.

    An open link for the same amount with time left is reused (Stripe is asked to confirm it
    is still open); a link for another amount, or about to expire, is expired at Stripe and
    replaced. The invoice row stays locked while Stripe is asked, so a failure anywhere leaves
    the invoice as it was. Refused (``Conflict``) for a paid, void or written-off invoice.
    """
    stripe.require_configured()
    with session.begin():
        result = _payment_link(session, actor, invoice_id, stripe)
    # A refusal found after recording what Stripe already had is raised once that is committed.
    if isinstance(result, Conflict):
        raise result
    return result


def expire_payment_link(
    session: Session, actor: Actor, invoice_id: int, stripe: StripeGateway
) -> InvoiceView:
    """Cancel the invoice's payment link at Stripe so that it can no longer be paid."""
    stripe.require_configured()
    with session.begin():
        invoice = get_invoice_row(session, invoice_id, lock=True)
        if invoice.stripe_session_id is None:
            raise Conflict(f"{invoice.number} has no payment link to cancel.")
        remote = lookup_session(stripe, invoice.stripe_session_id)
        remote = _retire(session, actor, invoice, remote, stripe, "cancelled by staff")
        paid_meanwhile = remote is not None and remote.status == "complete"
        if remote is not None and paid_meanwhile:
            settle_used_session(session, invoice, remote, LINK_SOURCE)
        events.notify(
            session,
            "invoice",
            invoice.id,
            number=invoice.number,
            status=invoice.status,
            payment_link="expired",
        )
        session.flush()
        session.refresh(invoice)
        number = invoice.number
        view = view_of(session, invoice)
    if paid_meanwhile:
        raise Conflict(f"{number}'s link had already been paid; the payment is now recorded.")
    return view
