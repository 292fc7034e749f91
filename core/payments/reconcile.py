"""Reconciliation: ask Stripe about every payment link the books hold, so a missed webhook costs
nothing.

A paid session goes into the books through ``webhooks.apply_checkout_session``, the very path
the webhook takes, so it lands once whichever of the two gets there first. A session Stripe
has expired is cleared the same way. A session still open but no longer right (the invoice was
paid by other means, voided, written off, its balance changed, or its time is up) is expired
at Stripe and cleared. Last, open sessions at Stripe that name one of our invoices but are not
on it (a request whose answer was lost) are expired. Each invoice is settled in a transaction
of its own, under its row lock; running it again changes nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.db.engine import Database
from core.db.models import Invoice
from core.enums import InvoiceStatus
from core.errors import ServiceError
from core.money import to_cents
from core.payments.checkout import (
    UNKNOWN_AT_STRIPE,
    clear_session_fields,
    forget_session,
    lookup_session,
    settle_used_session,
)
from core.payments.stripe_client import (
    CheckoutSession,
    StripeGateway,
    StripeUnavailable,
)
from core.payments.webhooks import Outcome, apply_checkout_session, stripe_actor
from core.services import activity, events

SOURCE = "reconcile"

Action = Literal[
    "recorded",  # a paid session's payment went into the books now
    "flagged",  # ... and was flagged for review (amount, currency or state did not match)
    "already_recorded",  # a paid session whose payment was already in the books
    "pending",  # complete, paid by a delayed method that has not cleared
    "cleared_expired",  # Stripe had expired it; cleared from the invoice
    "cleared_unknown",  # Stripe does not know it (another account or mode); cleared
    "expired_stale",  # open but no longer right: expired at Stripe and cleared
    "still_open",  # open and right: left alone
    "orphan_expired",  # open at Stripe, names our invoice, not on it: expired
    "changed_meanwhile",  # the invoice moved on between the question and the answer
    "error",
]
CHANGES: frozenset[Action] = frozenset(
    (
        "recorded",
        "flagged",
        "already_recorded",
        "cleared_expired",
        "cleared_unknown",
        "expired_stale",
        "orphan_expired",
    )
)

_PAID_ACTIONS: dict[Outcome, Action] = {
    Outcome.RECORDED: "recorded",
    Outcome.FLAGGED: "flagged",
    Outcome.ALREADY_RECORDED: "already_recorded",
}


@dataclass(frozen=True)
class ReconciledSession:
    session_id: str
    invoice_id: int | None
    invoice_number: str | None
    action: Action
    message: str


@dataclass
class ReconcileReport:
    items: list[ReconciledSession] = field(default_factory=list)
    stopped_early: bool = False  # Stripe became unreachable; what was left is for next time

    def count(self, action: Action) -> int:
        return sum(1 for item in self.items if item.action == action)

    @property
    def checked(self) -> int:
        return sum(1 for item in self.items if item.action != "orphan_expired")

    @property
    def recorded(self) -> int:
        return self.count("recorded") + self.count("flagged")

    @property
    def flagged(self) -> int:
        return self.count("flagged")

    @property
    def already_recorded(self) -> int:
        return self.count("already_recorded")

    @property
    def pending(self) -> int:
        return self.count("pending")

    @property
    def cleared_expired(self) -> int:
        return self.count("cleared_expired")

    @property
    def cleared_unknown(self) -> int:
        return self.count("cleared_unknown")

    @property
    def expired_stale(self) -> int:
        return self.count("expired_stale")

    @property
    def still_open(self) -> int:
        return self.count("still_open")

    @property
    def orphans_expired(self) -> int:
        return self.count("orphan_expired")

    @property
    def errors(self) -> list[str]:
        return [item.message for item in self.items if item.action == "error"]

    @property
    def changed(self) -> int:
        return sum(1 for item in self.items if item.action in CHANGES)

    def summary(self) -> dict[str, int | bool]:
        return {
            "checked": self.checked,
            "recorded": self.recorded,
            "flagged": self.flagged,
            "already_recorded": self.already_recorded,
            "pending": self.pending,
            "cleared_expired": self.cleared_expired,
            "cleared_unknown": self.cleared_unknown,
            "expired_stale": self.expired_stale,
            "still_open": self.still_open,
            "orphans_expired": self.orphans_expired,
            "errors": len(self.errors),
            "changed": self.changed,
            "stopped_early": self.stopped_early,
        }


SessionSource = Database | Callable[[], Session]


def _opener(sessions: SessionSource) -> Callable[[], Session]:
    return sessions.sessions if isinstance(sessions, Database) else sessions


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _stale_reason(invoice: Invoice, remote: CheckoutSession, now: dt.datetime) -> str | None:
    """Why an open session must not be paid any more; None when it is still right."""
    if invoice.status != InvoiceStatus.PENDING:
        return f"{invoice.number} is {invoice.status.lower().replace('_', ' ')}"
    if invoice.balance_due <= 0:
        return f"{invoice.number} owes nothing"
    cents = to_cents(invoice.balance_due)
    if remote.amount_total != cents or invoice.stripe_session_amount_cents != cents:
        return f"the balance of {invoice.number} changed"
    expires = invoice.stripe_session_expires_at
    if expires is None or expires <= now or remote.expires_at <= now:
        return "its time is up"
    return None


def _expire_stale(
    session: Session, invoice: Invoice, remote: CheckoutSession, stripe: StripeGateway, why: str
) -> ReconciledSession:
    expired = stripe.expire_checkout_session(remote.id)
    if expired.status == "complete":  # paid between our question and the expiry
        return _settle(session, invoice, expired)
    clear_session_fields(invoice)
    actor = stripe_actor(SOURCE)
    activity.record(
        session,
        actor,
        "payment_link.expired",
        "invoice",
        invoice.id,
        f"Stripe payment link on {invoice.number} cancelled ({why})",
        {"session_id": remote.id, "reason": why},
    )
    events.notify(
        session,
        "invoice",
        invoice.id,
        number=invoice.number,
        status=invoice.status,
        payment_link="expired",
    )
    session.flush()
    return ReconciledSession(
        remote.id, invoice.id, invoice.number, "expired_stale", f"Expired at Stripe: {why}."
    )


def _settle(session: Session, invoice: Invoice, remote: CheckoutSession) -> ReconciledSession:
    if not remote.is_paid:
        outcome = apply_checkout_session(session, remote.raw, source=SOURCE)
        return ReconciledSession(remote.id, invoice.id, invoice.number, "pending", outcome.message)
    outcome = settle_used_session(session, invoice, remote, SOURCE)
    return ReconciledSession(
        remote.id,
        invoice.id,
        invoice.number,
        _PAID_ACTIONS.get(outcome.outcome, "error"),
        outcome.message,
    )


def _reconcile_invoice(
    session: Session, invoice_id: int, remote: CheckoutSession, stripe: StripeGateway
) -> ReconciledSession:
    """Inside one transaction: bring one invoice in line with what Stripe says of its link."""
    invoice = session.scalars(
        select(Invoice).where(Invoice.id == invoice_id).with_for_update()
    ).one_or_none()
    if invoice is None or invoice.stripe_session_id != remote.id:
        return ReconciledSession(
            remote.id,
            invoice_id,
            invoice.number if invoice else None,
            "changed_meanwhile",
            "The invoice no longer holds this link; nothing to do.",
        )
    if remote.status == "complete":
        return _settle(session, invoice, remote)
    if remote.status == "expired":
        outcome = apply_checkout_session(session, remote.raw, source=SOURCE)
        return ReconciledSession(
            remote.id, invoice.id, invoice.number, "cleared_expired", outcome.message
        )
    why = _stale_reason(invoice, remote, _now())
    if why is not None:
        return _expire_stale(session, invoice, remote, stripe, why)
    return ReconciledSession(
        remote.id,
        invoice.id,
        invoice.number,
        "still_open",
        f"Open until {remote.expires_at:%Y-%m-%d %H:%M} UTC.",
    )


def _forget_unknown(session: Session, invoice_id: int, session_id: str) -> ReconciledSession:
    invoice = session.scalars(
        select(Invoice).where(Invoice.id == invoice_id).with_for_update()
    ).one_or_none()
    if invoice is None or invoice.stripe_session_id != session_id:
        return ReconciledSession(
            session_id,
            invoice_id,
            invoice.number if invoice else None,
            "changed_meanwhile",
            "The invoice no longer holds this link; nothing to do.",
        )
    forget_session(session, stripe_actor(SOURCE), invoice, session_id, UNKNOWN_AT_STRIPE)
    return ReconciledSession(
        session_id, invoice.id, invoice.number, "cleared_unknown", UNKNOWN_AT_STRIPE
    )


def _sweep_orphan(
    session: Session, remote: CheckoutSession, stripe: StripeGateway
) -> ReconciledSession | None:
    """Expire an open session that names one of our invoices but is not the one it holds."""
    invoice_id = remote.invoice_id
    if invoice_id is None:
        return None  # not ours: another integration on the same Stripe account
    invoice = session.scalars(
        select(Invoice).where(Invoice.id == invoice_id).with_for_update()
    ).one_or_none()
    if invoice is None or invoice.number != remote.metadata.get("invoice_number"):
        return None  # another shop's books (a test database) share the account: leave it
    if invoice.stripe_session_id == remote.id:
        return None
    expired = stripe.expire_checkout_session(remote.id)
    if expired.status == "complete":
        # Paid although the invoice never held it: into the books, through the webhook's path.
        outcome = apply_checkout_session(session, expired.raw, source=SOURCE)
        return ReconciledSession(
            remote.id,
            invoice.id,
            invoice.number,
            _PAID_ACTIONS.get(outcome.outcome, "error"),
            outcome.message,
        )
    activity.record(
        session,
        stripe_actor(SOURCE),
        "payment_link.orphan_expired",
        "invoice",
        invoice.id,
        f"A stray Stripe payment link for {invoice.number} was cancelled",
        {"session_id": remote.id},
    )
    return ReconciledSession(
        remote.id,
        invoice.id,
        invoice.number,
        "orphan_expired",
        "Open at Stripe but not on the invoice (an answer that never arrived): expired.",
    )


def reconcile(
    sessions: SessionSource, stripe: StripeGateway, *, sweep_orphans: bool = True
) -> ReconcileReport:
    """Ask Stripe about every payment link on an invoice and settle what it says."""
    stripe.require_configured()
    open_session = _opener(sessions)
    report = ReconcileReport()
    with open_session() as session, session.begin():
        held = session.execute(
            select(Invoice.id, Invoice.number, Invoice.stripe_session_id)
            .where(Invoice.stripe_session_id.is_not(None))
            .order_by(Invoice.id)
        ).all()

    for invoice_id, number, session_id in held:
        assert session_id is not None
        try:
            remote = lookup_session(stripe, session_id)
            with open_session() as session, session.begin():
                if remote is None:
                    item = _forget_unknown(session, invoice_id, session_id)
                else:
                    item = _reconcile_invoice(session, invoice_id, remote, stripe)
        except StripeUnavailable as exc:
            report.items.append(
                ReconciledSession(session_id, invoice_id, number, "error", f"{number}: {exc}")
            )
            report.stopped_early = True
            return report
        except ServiceError as exc:
            item = ReconciledSession(session_id, invoice_id, number, "error", f"{number}: {exc}")
        report.items.append(item)

    if not sweep_orphans:
        return report
    try:
        for remote in stripe.list_checkout_sessions(status="open"):
            try:
                with open_session() as session, session.begin():
                    swept = _sweep_orphan(session, remote, stripe)
            except StripeUnavailable:
                raise
            except ServiceError as exc:
                swept = ReconciledSession(remote.id, remote.invoice_id, None, "error", str(exc))
            if swept is not None:
                report.items.append(swept)
    except StripeUnavailable as exc:
        report.items.append(ReconciledSession("", None, None, "error", str(exc)))
        report.stopped_early = True
    return report
