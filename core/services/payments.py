"""Payments and refunds: one locked path for every method, so money never lands twice."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core.actor import Actor
from core.db.models import Invoice, Payment, Refund
from core.enums import DiscountType, InvoiceStatus, JobPolicy, PaymentMethod
from core.errors import Conflict, InvalidInput, NotFound
from core.money import ZERO, MoneyError, format_money, parse_money
from core.services import activity, events, jobs
from core.services import settings as shop_settings
from core.services.invoices import (
    InvoiceView,
    PaymentView,
    RefundView,
    get_invoice_row,
    is_overdue,
    view_of,
)
from core.services.line_items import ItemView
from core.shop_settings import ShopSettings


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


def _refuse_state(invoice: Invoice | Any) -> None:
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


_PAYMENT_READ = text(
    "SELECT i.id, i.number, i.client_id, i.status, i.due_date, i.issue_date, i.currency, "
    "i.discount_type, i.discount_value, i.shipping_label, i.shipping_amount, i.tax_rate, "
    "i.tax_inclusive, i.subtotal, i.discount_total, i.tax_total, i.total, i.amount_paid, "
    "i.balance_due, i.paid_at, i.notes, i.source_quote_id, i.stripe_session_id, "
    "i.stripe_checkout_url, i.stripe_session_expires_at, i.version, "
    "c.name AS client_name, c.email AS client_email, "
    "(SELECT data FROM settings WHERE id = 1) AS settings, "
    "(SELECT count(*) FROM payments p WHERE p.processor = :processor "
    "AND p.processor_id = :processor_id) AS already, "
    "(SELECT coalesce(jsonb_agg(jsonb_build_object('id', it.id, 'position', it.position, "
    "'description', it.description, 'quantity', it.quantity::text, 'unit_price', "
    "it.unit_price::text, 'discount_type', it.discount_type, 'discount_value', "
    "it.discount_value::text, 'line_total', it.line_total::text, 'breakdown', it.breakdown, "
    "'order_file_id', it.order_file_id) ORDER BY it.position), '[]'::jsonb) "
    "FROM invoice_items it WHERE it.invoice_id = i.id) AS items, "
    "(SELECT coalesce(jsonb_agg(jsonb_build_object('id', p.id, 'amount', p.amount::text, "
    "'currency', p.currency, 'method', p.method, 'processor', p.processor, 'processor_id', "
    "p.processor_id, 'reference', p.reference, 'flagged_reason', p.flagged_reason, "
    "'paid_at', p.paid_at) ORDER BY p.id), '[]'::jsonb) "
    "FROM payments p WHERE p.invoice_id = i.id) AS payments, "
    "(SELECT coalesce(jsonb_agg(jsonb_build_object('id', r.id, 'payment_id', r.payment_id, "
    "'amount', r.amount::text, 'currency', r.currency, 'processor', r.processor, "
    "'processor_id', r.processor_id, 'reason', r.reason, 'refunded_at', r.refunded_at) "
    "ORDER BY r.id), '[]'::jsonb) FROM refunds r WHERE r.invoice_id = i.id) AS refunds "
    "FROM invoices i JOIN clients c ON c.id = i.client_id WHERE i.id = :invoice_id "
    "FOR UPDATE OF i"
)

_PAYMENT_WRITE = (
    "WITH pay AS (INSERT INTO payments (invoice_id, method, amount, currency, processor, "
    "processor_id, reference, recorded_by, paid_at) VALUES (:invoice_id, :method, :amount, "
    ":currency, :processor, :processor_id, :reference, :actor_id, "
    "coalesce(CAST(:paid_at AS timestamptz), now())) ON CONFLICT DO NOTHING "
    "RETURNING id, paid_at), "
    "inv AS (UPDATE invoices SET amount_paid = :amount_paid, balance_due = :balance_due, "
    "status = :status, paid_at = CASE WHEN :now_paid THEN now() ELSE invoices.paid_at END, "
    "version = invoices.version + 1, updated_at = now() FROM pay "
    "WHERE invoices.id = :invoice_id RETURNING invoices.version, invoices.paid_at), "
    "{job}"
    "act AS (INSERT INTO activity_log (actor_id, actor_label, action, entity_type, entity_id, "
    "message, detail) SELECT CAST(:actor_id AS bigint), :actor_label, 'payment.recorded', "
    "'invoice', :invoice_id, :message, CAST(:detail AS jsonb) || "
    "jsonb_build_object('payment_id', pay.id) FROM pay), "
    "note AS (SELECT pg_notify(:channel, (CASE WHEN n.payload->>'kind' = 'payment' "
    "THEN n.payload || jsonb_build_object('payment_id', pay.id) ELSE n.payload END)::text) "
    "FROM pay, jsonb_array_elements(CAST(:notes AS jsonb)) AS n(payload)) "
    "SELECT pay.id, pay.paid_at, inv.version, inv.paid_at AS invoice_paid_at, "
    "(SELECT count(*) FROM note) AS sent FROM pay, inv"
)

_JOB_ON_PAYMENT = jobs.insert_job_cte("pay", ":invoice_id", ":client_id") + ", "


def _money_in(row: Any) -> Decimal:
    """Payments less refunds in the invoice's currency, from the lists `_PAYMENT_READ` read."""
    paid = sum((Decimal(p["amount"]) for p in row.payments if p["currency"] == row.currency), ZERO)
    back = sum((Decimal(r["amount"]) for r in row.refunds if r["currency"] == row.currency), ZERO)
    return paid - back


def _at(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value)


def record_payment(
    session: Session, actor: Actor, invoice_id: int, payment: NewPayment
) -> InvoiceView:
    """Record a payment under a lock on the invoice: one statement reads, one writes.

    It refuses an overpayment, a payment on a void, written-off or paid invoice, another
    currency and a processor id already recorded. The balance is worked out from the payments
    and refunds read under the lock, so two counters paying at once still cannot overpay.
    """
    try:
        amount = parse_money(payment.amount, "payment amount", allow_zero=False)
    except MoneyError as exc:
        raise InvalidInput(str(exc)) from None
    if (payment.processor is None) != (payment.processor_id is None):
        raise InvalidInput("A processor and its payment id go together.")
    read = {
        "invoice_id": invoice_id,
        "processor": payment.processor,
        "processor_id": payment.processor_id,
    }
    with session.begin():
        row = session.execute(_PAYMENT_READ, read).one_or_none()
        if row is None:
            raise NotFound(f"No invoice with id {invoice_id}.")
        if _money_in(row) != row.amount_paid:
            # The lock waited for another payment: the invoice row is its newer version, the
            # lists are from before it. Read again; holding the lock, the lists are current.
            row = session.execute(_PAYMENT_READ, read).one()
        already = Conflict(
            f"Payment {payment.processor_id} ({payment.processor}) is already recorded."
        )
        if payment.processor and payment.processor_id and row.already:
            raise already
        currency = (payment.currency or row.currency).upper()
        if currency != row.currency:
            raise InvalidInput(
                f"{row.number} is in {row.currency}; a payment in {currency} cannot be applied."
            )
        _refuse_state(row)
        if amount > row.balance_due:
            raise Conflict(
                f"{format_money(amount, currency)} is more than the "
                f"{format_money(row.balance_due, currency)} still owed on {row.number}."
            )
        amount_paid = _money_in(row) + amount
        balance = max(row.total - amount_paid, ZERO)
        status = InvoiceStatus(row.status)
        now_paid = status is InvoiceStatus.PENDING and balance == 0
        if now_paid:
            status = InvoiceStatus.PAID
        elif status is InvoiceStatus.PAID and balance > 0:
            status = InvoiceStatus.PENDING
        shop = (
            shop_settings.load(session)
            if row.settings is None
            else ShopSettings.model_validate(row.settings)
        )
        items = [
            ItemView(
                id=i["id"],
                position=i["position"],
                description=i["description"],
                quantity=Decimal(i["quantity"]),
                unit_price=Decimal(i["unit_price"]),
                discount_type=DiscountType(i["discount_type"]),
                discount_value=Decimal(i["discount_value"]),
                line_total=Decimal(i["line_total"]),
                breakdown=dict(i["breakdown"]),
                order_file_id=i["order_file_id"],
            )
            for i in row.items
        ]
        make_job = status is InvoiceStatus.PAID and (
            shop.job_creation_policy is JobPolicy.ON_PAYMENT
        )
        label = payment.method.value.lower().replace("_", " ")
        reference = (payment.reference or "").strip()[:255] or None
        notes = [
            {
                "kind": "payment",
                "id": row.id,
                "number": row.number,
                "status": status.value,
                "amount": str(amount),
                "currency": currency,
                "method": payment.method.value,
            }
        ]
        params: dict[str, Any] = {
            "invoice_id": row.id,
            "client_id": row.client_id,
            "method": payment.method.value,
            "amount": amount,
            "currency": currency,
            "processor": payment.processor,
            "processor_id": payment.processor_id,
            "reference": reference,
            "actor_id": actor.user_id,
            "actor_label": actor.label,
            "paid_at": payment.paid_at,
            "amount_paid": amount_paid,
            "balance_due": balance,
            "status": status.value,
            "now_paid": now_paid,
            "message": f"{format_money(amount, currency)} by {label} on {row.number}",
            "detail": json.dumps({"amount": str(amount), "method": payment.method.value}),
            "channel": events.CHANNEL,
        }
        if make_job:
            params |= jobs.job_params(jobs.plan_job(row.number, items))
            notes.append({"kind": "job", "id": row.id, "invoice": row.number})
        params["notes"] = json.dumps(notes)
        written = session.execute(
            text(_PAYMENT_WRITE.format(job=_JOB_ON_PAYMENT if make_job else "")), params
        ).one_or_none()
        if written is None:  # the processor id was recorded meanwhile, on another invoice
            raise already
        payments = [
            PaymentView(
                p["id"],
                Decimal(p["amount"]),
                p["currency"],
                PaymentMethod(p["method"]),
                p["processor"],
                p["processor_id"],
                p["reference"],
                p["flagged_reason"],
                _at(p["paid_at"]),
            )
            for p in row.payments
        ]
        payments.append(
            PaymentView(
                written.id,
                amount,
                currency,
                payment.method,
                payment.processor,
                payment.processor_id,
                reference,
                None,
                written.paid_at,
            )
        )
        return InvoiceView(
            id=row.id,
            number=row.number,
            client_id=row.client_id,
            client_name=row.client_name,
            client_email=row.client_email,
            status=status,
            overdue=is_overdue(status.value, row.due_date),
            issue_date=row.issue_date,
            due_date=row.due_date,
            currency=row.currency,
            discount_type=DiscountType(row.discount_type),
            discount_value=row.discount_value,
            shipping_label=row.shipping_label,
            shipping_amount=row.shipping_amount,
            tax_rate=row.tax_rate,
            tax_inclusive=row.tax_inclusive,
            subtotal=row.subtotal,
            discount_total=row.discount_total,
            tax_total=row.tax_total,
            total=row.total,
            amount_paid=amount_paid,
            balance_due=balance,
            paid_at=written.invoice_paid_at,
            notes=row.notes,
            source_quote_id=row.source_quote_id,
            stripe_session_id=row.stripe_session_id,
            stripe_checkout_url=row.stripe_checkout_url,
            stripe_session_expires_at=row.stripe_session_expires_at,
            items=items,
            payments=payments,
            refunds=[
                RefundView(
                    r["id"],
                    r["payment_id"],
                    Decimal(r["amount"]),
                    r["currency"],
                    r["processor"],
                    r["processor_id"],
                    r["reason"],
                    _at(r["refunded_at"]),
                )
                for r in row.refunds
            ],
            version=written.version,
        )


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

    Unlike ``record_payment`` nothing about the invoice refuses it, because the client has
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
