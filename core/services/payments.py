"""Payments and refunds: one locked path for every method, so money never lands twice."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core.actor import Actor
from core.db.models import Invoice, Payment, Refund
from core.enums import InvoiceStatus, JobPolicy, PaymentMethod
from core.errors import Conflict, InvalidInput, NotFound
from core.money import ZERO, MoneyError, format_money, parse_money
from core.services import activity, events, jobs
from core.services import settings as shop_settings
from core.services.invoices import InvoiceView, get_invoice_row, view_of


@dataclass(frozen=True)
class NewPayment:
    amount: Decimal
    method: PaymentMethod
    reference: str | None = None
    processor: str | None = None
    processor_id: str | None = None
    currency: str | None = None
    paid_at: dt.datetime | None = None


@dataclass(frozen=True)
class NewRefund:
    payment_id: int
    amount: Decimal
    reason: str | None = None
    processor: str | None = None
    processor_id: str | None = None


def recompute_balance(session: Session, invoice: Invoice) -> None:
    """balance_due = total − payments + refunds, and the status that follows from it."""
    # Only money in the invoice's currency counts: a processor payment in another currency is
    # kept (the money was taken) and flagged for a person, never added to the balance as if equal.
    paid = session.scalar(
        select(func.coalesce(func.sum(Payment.amount), 0)).where(
            Payment.invoice_id == invoice.id, Payment.currency == invoice.currency
        )
    )
    refunded = session.scalar(
        select(func.coalesce(func.sum(Refund.amount), 0)).where(
            Refund.invoice_id == invoice.id, Refund.currency == invoice.currency
        )
    )
    invoice.amount_paid = Decimal(paid or 0) - Decimal(refunded or 0)
    invoice.balance_due = max(invoice.total - invoice.amount_paid, ZERO)
    if invoice.status == InvoiceStatus.PENDING and invoice.balance_due == 0:
        invoice.status = InvoiceStatus.PAID.value
        invoice.paid_at = func.now()
    elif invoice.status == InvoiceStatus.PAID and invoice.balance_due > 0:
        invoice.status = InvoiceStatus.PENDING.value
        invoice.paid_at = None


def _refuse_state(invoice: Invoice) -> None:
    if invoice.status == InvoiceStatus.VOID:
        raise Conflict(f"{invoice.number} is void; a payment cannot be recorded on it.")
    if invoice.status == InvoiceStatus.WRITTEN_OFF:
        raise Conflict(f"{invoice.number} is written off; a payment cannot be recorded on it.")
    if invoice.status == InvoiceStatus.PAID or invoice.balance_due <= 0:
        raise Conflict(f"{invoice.number} is already paid in full.")


def _already_recorded(session: Session, processor: str, processor_id: str) -> Payment | None:
    return session.scalars(
        select(Payment).where(Payment.processor == processor, Payment.processor_id == processor_id)
    ).one_or_none()


def apply_payment(session: Session, actor: Actor, invoice_id: int, payment: NewPayment) -> Invoice:
    """Record a payment inside the caller's transaction, under a lock on the invoice."""
    try:
        amount = parse_money(payment.amount, "payment amount", allow_zero=False)
    except MoneyError as exc:
        raise InvalidInput(str(exc)) from None
    if (payment.processor is None) != (payment.processor_id is None):
        raise InvalidInput("A processor and its payment id go together.")
    invoice = get_invoice_row(session, invoice_id, lock=True)
    if payment.processor and payment.processor_id:
        existing = _already_recorded(session, payment.processor, payment.processor_id)
        if existing is not None:
            raise Conflict(
                f"Payment {payment.processor_id} ({payment.processor}) is already recorded."
            )
    currency = (payment.currency or invoice.currency).upper()
    if currency != invoice.currency:
        raise InvalidInput(
            f"{invoice.number} is in {invoice.currency}; a payment in {currency} cannot be applied."
        )
    _refuse_state(invoice)
    if amount > invoice.balance_due:
        raise Conflict(
            f"{format_money(amount, currency)} is more than the "
            f"{format_money(invoice.balance_due, currency)} still owed on {invoice.number}."
        )
    row = Payment(
        invoice_id=invoice.id,
        method=payment.method.value,
        amount=amount,
        currency=currency,
        processor=payment.processor,
        processor_id=payment.processor_id,
        reference=(payment.reference or "").strip()[:255] or None,
        recorded_by=actor.user_id,
    )
    if payment.paid_at is not None:
        row.paid_at = payment.paid_at
    session.add(row)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError:
        raise Conflict(
            f"Payment {payment.processor_id} ({payment.processor}) is already recorded."
        ) from None
    recompute_balance(session, invoice)
    if invoice.status == InvoiceStatus.PAID:
        shop = shop_settings.load(session)
        if shop.job_creation_policy is JobPolicy.ON_PAYMENT:
            jobs.ensure_job_for_invoice(session, invoice)
    label = payment.method.value.lower().replace("_", " ")
    activity.record(
        session,
        actor,
        "payment.recorded",
        "invoice",
        invoice.id,
        f"{format_money(amount, currency)} by {label} on {invoice.number}",
        {"amount": str(amount), "method": payment.method.value, "payment_id": row.id},
    )
    events.notify(
        session,
        "payment",
        invoice.id,
        number=invoice.number,
        status=invoice.status,
        amount=str(amount),
        currency=currency,
        method=payment.method.value,
        payment_id=row.id,
    )
    session.flush()
    return invoice


def record_payment(
    session: Session, actor: Actor, invoice_id: int, payment: NewPayment
) -> InvoiceView:
    with session.begin():
        invoice = apply_payment(session, actor, invoice_id, payment)
        session.refresh(invoice)
        return view_of(session, invoice)


def apply_refund(session: Session, actor: Actor, refund: NewRefund) -> Invoice:
    """Record a refund against one payment, inside the caller's transaction."""
    try:
        amount = parse_money(refund.amount, "refund amount", allow_zero=False)
    except MoneyError as exc:
        raise InvalidInput(str(exc)) from None
    payment = session.get(Payment, refund.payment_id)
    if payment is None:
        raise NotFound(f"No payment with id {refund.payment_id}.")
    invoice = get_invoice_row(session, payment.invoice_id, lock=True)
    if refund.processor and refund.processor_id:
        exists = session.scalar(
            select(Refund.id).where(
                Refund.processor == refund.processor, Refund.processor_id == refund.processor_id
            )
        )
        if exists:
            raise Conflict(
                f"Refund {refund.processor_id} ({refund.processor}) is already recorded."
            )
    refunded = session.scalar(
        select(func.coalesce(func.sum(Refund.amount), 0)).where(Refund.payment_id == payment.id)
    )
    left = payment.amount - Decimal(refunded or 0)
    if amount > left:
        raise Conflict(
            f"Only {format_money(left, payment.currency)} of that payment is left to refund."
        )
    session.add(
        Refund(
            payment_id=payment.id,
            invoice_id=invoice.id,
            amount=amount,
            currency=payment.currency,
            processor=refund.processor,
            processor_id=refund.processor_id,
            reason=refund.reason,
            recorded_by=actor.user_id,
        )
    )
    session.flush()
    recompute_balance(session, invoice)
    activity.record(
        session,
        actor,
        "payment.refunded",
        "invoice",
        invoice.id,
        f"{format_money(amount, payment.currency)} refunded on {invoice.number}",
        {"amount": str(amount), "payment_id": payment.id, "reason": refund.reason},
    )
    events.notify(
        session,
        "refund",
        invoice.id,
        number=invoice.number,
        status=invoice.status,
        amount=str(amount),
        currency=payment.currency,
    )
    session.flush()
    return invoice


def record_refund(session: Session, actor: Actor, refund: NewRefund) -> InvoiceView:
    actor.require_admin("record refunds")
    with session.begin():
        invoice = apply_refund(session, actor, refund)
        session.refresh(invoice)
        return view_of(session, invoice)


@dataclass(frozen=True)
class ProcessorPayment:
    """What ``apply_processor_payment`` did, inside the caller's transaction."""

    invoice: Invoice
    payment_id: int
    already_recorded: bool
    flagged_reason: str | None


def _processor_mismatches(invoice: Invoice, amount: Decimal, currency: str) -> list[str]:
    """Why money a processor took does not simply settle the invoice; empty when it does."""
    if currency != invoice.currency:
        return [f"paid in {currency}, but {invoice.number} is in {invoice.currency}"]
    if invoice.status == InvoiceStatus.VOID:
        return [f"{invoice.number} is void"]
    if invoice.status == InvoiceStatus.WRITTEN_OFF:
        return [f"{invoice.number} was written off"]
    owed = invoice.balance_due
    if invoice.status == InvoiceStatus.PAID or owed <= 0:
        return [f"{invoice.number} was already paid in full"]
    if amount > owed:
        return [
            f"{format_money(amount, currency)} is more than the "
            f"{format_money(owed, currency)} owed on {invoice.number}"
        ]
    if amount < owed:
        return [
            f"{format_money(amount, currency)} is less than the "
            f"{format_money(owed, currency)} owed on {invoice.number}"
        ]
    return []


def apply_processor_payment(
    session: Session,
    actor: Actor,
    invoice_id: int,
    payment: NewPayment,
    *,
    flag_mismatch: bool = True,
) -> ProcessorPayment:
    """Record money a payment processor has already taken, inside the caller's transaction.

    Unlike ``apply_payment`` nothing about the invoice refuses it, because the client has
    paid: an amount above the balance is kept (the balance floors at zero and the invoice is
    PAID), an amount in another currency is kept but left out of the balance, and a payment
    on a void or written-off invoice is kept too. With ``flag_mismatch`` each of those is
    written on the payment as ``flagged_reason`` and in the activity log, so a person settles
    it (refund, convert) instead of the shop silently accepting it. The same processor id a
    second time is no error: the payment already recorded comes back with ``already_recorded``.
    """
    try:
        amount = parse_money(payment.amount, "payment amount", allow_zero=False)
    except MoneyError as exc:
        raise InvalidInput(str(exc)) from None
    if not payment.processor or not payment.processor_id:
        raise InvalidInput("A processor payment needs its processor and its payment id.")
    invoice = get_invoice_row(session, invoice_id, lock=True)
    existing = _already_recorded(session, payment.processor, payment.processor_id)
    if existing is not None:
        return ProcessorPayment(invoice, existing.id, True, existing.flagged_reason)
    currency = (payment.currency or invoice.currency).upper()
    if len(currency) != 3 or not currency.isalpha():
        raise InvalidInput(f"{currency!r} is not a currency code.")
    reasons = _processor_mismatches(invoice, amount, currency) if flag_mismatch else []
    flagged = "; ".join(reasons) or None
    row = Payment(
        invoice_id=invoice.id,
        method=payment.method.value,
        amount=amount,
        currency=currency,
        processor=payment.processor,
        processor_id=payment.processor_id,
        reference=(payment.reference or "").strip()[:255] or None,
        flagged_reason=flagged,
        recorded_by=actor.user_id,
    )
    if payment.paid_at is not None:
        row.paid_at = payment.paid_at
    session.add(row)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError:
        # Recorded meanwhile under another invoice's lock (a second event naming another
        # invoice): the unique (processor, processor_id) kept it to one payment.
        existing = _already_recorded(session, payment.processor, payment.processor_id)
        if existing is None:
            raise
        return ProcessorPayment(invoice, existing.id, True, existing.flagged_reason)
    was_void = invoice.status == InvoiceStatus.VOID
    recompute_balance(session, invoice)
    if was_void:
        invoice.balance_due = ZERO  # a void invoice owes nothing, whatever arrives on it
    if invoice.status == InvoiceStatus.PAID:
        shop = shop_settings.load(session)
        if shop.job_creation_policy is JobPolicy.ON_PAYMENT:
            jobs.ensure_job_for_invoice(session, invoice)
    label = payment.method.value.lower().replace("_", " ")
    detail = {
        "amount": str(amount),
        "currency": currency,
        "method": payment.method.value,
        "payment_id": row.id,
        "processor": payment.processor,
        "processor_id": payment.processor_id,
    }
    activity.record(
        session,
        actor,
        "payment.recorded",
        "invoice",
        invoice.id,
        f"{format_money(amount, currency)} by {label} on {invoice.number}",
        detail,
    )
    if flagged:
        activity.record(
            session,
            actor,
            "payment.flagged",
            "invoice",
            invoice.id,
            f"{format_money(amount, currency)} by {label} on {invoice.number} needs review: "
            f"{flagged}",
            {**detail, "reason": flagged},
        )
    events.notify(
        session,
        "payment",
        invoice.id,
        number=invoice.number,
        status=invoice.status,
        amount=str(amount),
        currency=currency,
        method=payment.method.value,
        flagged=flagged is not None,
        payment_id=row.id,
    )
    session.flush()
    return ProcessorPayment(invoice, row.id, False, flagged)
