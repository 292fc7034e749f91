"""Invoices: create, edit, void, write off, delete, and read them back with payments and refunds."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session, selectinload

from core.actor import Actor
from core.db.models import Client, Invoice, InvoiceItem, Job, OrderFile, Payment, Refund
from core.enums import DiscountType, InvoiceStatus, JobPolicy, JobStatus, PaymentMethod
from core.errors import Conflict, InvalidInput, NotFound
from core.money import ZERO
from core.services import activity, events, jobs
from core.services import settings as shop_settings
from core.services.line_items import (
    Activity,
    DocumentContext,
    DocumentTerms,
    ItemInput,
    ItemView,
    NewDocument,
    Notice,
    Promotion,
    apply_terms_and_totals,
    build_items,
    check_files,
    file_ids_of,
    files_of_items,
    insert_document,
    item_views,
    read_for_document,
    today,
    totals_of,
    views_of_rows,
)

OVERDUE = "OVERDUE"
# Derived when read, like OVERDUE: still PENDING, with part of the total paid.
PART_PAID = "PART_PAID"


def display_status_of(status: InvoiceStatus, overdue: bool, amount_paid: Decimal) -> str:
    """What a person is shown: OVERDUE first (it needs chasing), then PART_PAID, else the status."""
    if overdue:
        return OVERDUE
    if status is InvoiceStatus.PENDING and amount_paid > 0:
        return PART_PAID
    return status.value


@dataclass(frozen=True)
class PaymentView:
    id: int
    amount: Decimal
    currency: str
    method: PaymentMethod
    processor: str | None
    processor_id: str | None
    reference: str | None
    flagged_reason: str | None
    paid_at: dt.datetime


@dataclass(frozen=True)
class RefundView:
    id: int
    payment_id: int
    amount: Decimal
    currency: str
    processor: str | None
    processor_id: str | None
    reason: str | None
    refunded_at: dt.datetime


@dataclass(frozen=True)
class InvoiceSummary:
    """One row of the invoice list."""

    id: int
    number: str
    client_id: int
    client_name: str
    status: InvoiceStatus
    overdue: bool
    issue_date: dt.date
    due_date: dt.date | None
    currency: str
    total: Decimal
    balance_due: Decimal
    version: int
    amount_paid: Decimal = ZERO

    @property
    def display_status(self) -> str:
        return display_status_of(self.status, self.overdue, self.amount_paid)


@dataclass(frozen=True)
class InvoiceView:
    id: int
    number: str
    client_id: int
    client_name: str
    client_email: str | None
    status: InvoiceStatus
    overdue: bool
    issue_date: dt.date
    due_date: dt.date | None
    currency: str
    discount_type: DiscountType
    discount_value: Decimal
    shipping_label: str
    shipping_amount: Decimal
    tax_rate: Decimal
    tax_inclusive: bool
    subtotal: Decimal
    discount_total: Decimal
    tax_total: Decimal
    total: Decimal
    amount_paid: Decimal
    balance_due: Decimal
    paid_at: dt.datetime | None
    notes: str | None
    source_quote_id: int | None
    stripe_session_id: str | None
    stripe_checkout_url: str | None
    stripe_session_expires_at: dt.datetime | None
    items: list[ItemView]
    payments: list[PaymentView]
    refunds: list[RefundView]
    version: int

    @property
    def display_status(self) -> str:
        return display_status_of(self.status, self.overdue, self.amount_paid)


def is_overdue(status: str, due_date: dt.date | None, on: dt.date | None = None) -> bool:
    return status == InvoiceStatus.PENDING and due_date is not None and due_date < (on or today())


def get_invoice_row(session: Session, invoice_id: int, *, lock: bool = False) -> Invoice:
    query = select(Invoice).where(Invoice.id == invoice_id)
    if lock:
        query = query.with_for_update()
    invoice = session.scalars(query).one_or_none()
    if invoice is None:
        raise NotFound(f"No invoice with id {invoice_id}.")
    return invoice


def view_of(session: Session, invoice: Invoice) -> InvoiceView:
    client = session.get(Client, invoice.client_id)
    assert client is not None
    payments = session.scalars(
        select(Payment).where(Payment.invoice_id == invoice.id).order_by(Payment.id)
    ).all()
    refunds = session.scalars(
        select(Refund).where(Refund.invoice_id == invoice.id).order_by(Refund.id)
    ).all()
    return view_from(invoice, client, payments, refunds)


def view_from(
    invoice: Invoice, client: Client, payments: Sequence[Payment], refunds: Sequence[Refund]
) -> InvoiceView:
    """The view of rows already read (its items loaded with it)."""
    return InvoiceView(
        id=invoice.id,
        number=invoice.number,
        client_id=invoice.client_id,
        client_name=client.name,
        client_email=client.email,
        status=InvoiceStatus(invoice.status),
        overdue=is_overdue(invoice.status, invoice.due_date),
        issue_date=invoice.issue_date,
        due_date=invoice.due_date,
        currency=invoice.currency,
        discount_type=DiscountType(invoice.discount_type),
        discount_value=invoice.discount_value,
        shipping_label=invoice.shipping_label,
        shipping_amount=invoice.shipping_amount,
        tax_rate=invoice.tax_rate,
        tax_inclusive=invoice.tax_inclusive,
        subtotal=invoice.subtotal,
        discount_total=invoice.discount_total,
        tax_total=invoice.tax_total,
        total=invoice.total,
        amount_paid=invoice.amount_paid,
        balance_due=invoice.balance_due,
        paid_at=invoice.paid_at,
        notes=invoice.notes,
        source_quote_id=invoice.source_quote_id,
        stripe_session_id=invoice.stripe_session_id,
        stripe_checkout_url=invoice.stripe_checkout_url,
        stripe_session_expires_at=invoice.stripe_session_expires_at,
        items=item_views(invoice),
        payments=[
            PaymentView(
                p.id,
                p.amount,
                p.currency,
                PaymentMethod(p.method),
                p.processor,
                p.processor_id,
                p.reference,
                p.flagged_reason,
                p.paid_at,
            )
            for p in payments
        ],
        refunds=[
            RefundView(
                r.id,
                r.payment_id,
                r.amount,
                r.currency,
                r.processor,
                r.processor_id,
                r.reason,
                r.refunded_at,
            )
            for r in refunds
        ],
        version=invoice.version,
    )


def insert_invoice(
    session: Session,
    actor: Actor,
    context: DocumentContext,
    items: Sequence[ItemInput],
    terms: DocumentTerms,
    *,
    issue_date: dt.date | None = None,
    due_date: dt.date | None = None,
    source_quote_id: int | None = None,
    item_uploads: Sequence[int | None] = (),
    promotions: Sequence[Promotion] = (),
    activities: Sequence[Activity] = (),
    notices: Sequence[Notice] = (),
) -> InvoiceView:
    """Insert an invoice, its lines, files, job, activity and notices in one statement.

    Runs inside the caller's transaction, after `read_for_document` read ``context``.
    """
    rows = build_items(items, InvoiceItem)
    shop = context.shop
    issued = issue_date or today()
    due = due_date or issued + dt.timedelta(days=context.payment_terms_days)
    if due < issued:
        raise InvalidInput("The due date cannot be before the issue date.")
    file_ids = file_ids_of(items)
    check_files(context, file_ids)
    totals = totals_of(rows, terms, shop)
    number = context.number
    job = None
    if shop.job_creation_policy is JobPolicy.ON_INVOICE:
        job = jobs.plan_job(number, rows)
    inserted = insert_document(
        session,
        NewDocument(
            kind="invoice",
            columns={
                "number": number,
                "client_id": context.client_id,
                "currency": shop.currency,
                "issue_date": issued,
                "due_date": due,
                "source_quote_id": source_quote_id,
                "status": InvoiceStatus.PENDING.value,
                "created_by": actor.user_id,
                **totals,
                "amount_paid": ZERO,
                "balance_due": totals["total"],
            },
            items=rows,
            item_uploads=item_uploads,
            link_files=file_ids,
            promotions=promotions,
            job=job,
            activities=[
                Activity(
                    "invoice.created",
                    "invoice",
                    f"{number} created for {context.client_name}",
                    detail={"total": str(totals["total"])},
                ),
                *activities,
            ],
            notices=[
                Notice("invoice", {"number": number, "status": InvoiceStatus.PENDING.value}),
                *([Notice("job", {"invoice": number})] if job is not None else []),
                *notices,
            ],
            converts_quote=source_quote_id,
            actor=actor,
        ),
    )
    return InvoiceView(
        id=inserted.id,
        number=number,
        client_id=context.client_id,
        client_name=context.client_name,
        client_email=context.client_email,
        status=InvoiceStatus.PENDING,
        overdue=is_overdue(InvoiceStatus.PENDING, due),
        issue_date=issued,
        due_date=due,
        currency=shop.currency,
        discount_type=DiscountType(totals["discount_type"]),
        discount_value=totals["discount_value"],
        shipping_label=totals["shipping_label"],
        shipping_amount=totals["shipping_amount"],
        tax_rate=totals["tax_rate"],
        tax_inclusive=totals["tax_inclusive"],
        subtotal=totals["subtotal"],
        discount_total=totals["discount_total"],
        tax_total=totals["tax_total"],
        total=totals["total"],
        amount_paid=ZERO,
        balance_due=totals["total"],
        paid_at=None,
        notes=totals["notes"],
        source_quote_id=source_quote_id,
        stripe_session_id=None,
        stripe_checkout_url=None,
        stripe_session_expires_at=None,
        items=views_of_rows(rows, inserted),
        payments=[],
        refunds=[],
        version=1,
    )


def _link_order_files(session: Session, invoice: Invoice, items: Sequence[ItemInput]) -> None:
    for order_file in files_of_items(session, invoice.client_id, items):
        order_file.invoice_id = invoice.id


def create_invoice(
    session: Session,
    actor: Actor,
    client_id: int,
    items: Sequence[ItemInput],
    terms: DocumentTerms | None = None,
    *,
    issue_date: dt.date | None = None,
    due_date: dt.date | None = None,
) -> InvoiceView:
    """Make an invoice: one statement to read, one to write (see `insert_document`)."""
    build_items(items, InvoiceItem)  # refuse bad lines before a number is taken
    with session.begin():
        context = read_for_document(session, "invoice", client_id, file_ids_of(items))
        return insert_invoice(
            session,
            actor,
            context,
            items,
            terms or DocumentTerms(),
            issue_date=issue_date,
            due_date=due_date,
        )


def get_invoice(session: Session, invoice_id: int) -> InvoiceView:
    with session.begin():
        invoice = session.scalars(
            select(Invoice).where(Invoice.id == invoice_id).options(selectinload(Invoice.items))
        ).one_or_none()
        if invoice is None:
            raise NotFound(f"No invoice with id {invoice_id}.")
        return view_of(session, invoice)


def _check_version(invoice: Invoice, expected_version: int | None) -> None:
    if expected_version is not None and invoice.version != expected_version:
        raise Conflict(f"{invoice.number} was changed elsewhere — reload it and try again.")


def update_invoice(
    session: Session,
    actor: Actor,
    invoice_id: int,
    items: Sequence[ItemInput],
    terms: DocumentTerms,
    *,
    expected_version: int | None,
    due_date: dt.date | None = None,
) -> InvoiceView:
    """Replace the items and terms of a pending invoice; its balance follows."""
    with session.begin():
        invoice = get_invoice_row(session, invoice_id, lock=True)
        _check_version(invoice, expected_version)
        if invoice.status != InvoiceStatus.PENDING:
            raise Conflict(f"{invoice.number} is {invoice.status.lower()} and cannot be edited.")
        shop = shop_settings.load(session)
        invoice.items = build_items(items, InvoiceItem)
        session.flush()
        apply_terms_and_totals(invoice, terms, shop)
        if invoice.total < invoice.amount_paid:
            raise Conflict(
                f"{invoice.number} has {invoice.amount_paid} paid; its total cannot go below that."
            )
        if due_date is not None:
            if due_date < invoice.issue_date:
                raise InvalidInput("The due date cannot be before the issue date.")
            invoice.due_date = due_date
        invoice.balance_due = invoice.total - invoice.amount_paid
        _link_order_files(session, invoice, items)
        activity.record(
            session,
            actor,
            "invoice.updated",
            "invoice",
            invoice.id,
            f"{invoice.number} edited",
            {"total": str(invoice.total)},
        )
        events.notify(session, "invoice", invoice.id, number=invoice.number, status=invoice.status)
        session.flush()
        return view_of(session, invoice)


def void_invoice(session: Session, actor: Actor, invoice_id: int, reason: str = "") -> InvoiceView:
    actor.require_admin("void invoices")
    with session.begin():
        invoice = get_invoice_row(session, invoice_id, lock=True)
        if invoice.status == InvoiceStatus.VOID:
            raise Conflict(f"{invoice.number} is already void.")
        if invoice.amount_paid > 0:
            raise Conflict(
                f"{invoice.number} has {invoice.amount_paid} paid; refund it before voiding."
            )
        invoice.status = InvoiceStatus.VOID.value
        invoice.voided_at = func.now()
        invoice.balance_due = ZERO
        jobs.cancel_open_job(session, invoice.id)
        activity.record(
            session,
            actor,
            "invoice.voided",
            "invoice",
            invoice.id,
            f"{invoice.number} voided",
            {"reason": reason},
        )
        events.notify(session, "invoice", invoice.id, number=invoice.number, status=invoice.status)
        session.flush()
        session.refresh(invoice)
        return view_of(session, invoice)


def write_off_invoice(
    session: Session, actor: Actor, invoice_id: int, reason: str = ""
) -> InvoiceView:
    """Give up on what is still owed; the balance is kept for the record."""
    actor.require_admin("write off invoices")
    with session.begin():
        invoice = get_invoice_row(session, invoice_id, lock=True)
        if invoice.status != InvoiceStatus.PENDING:
            raise Conflict(
                f"Only a pending invoice can be written off; {invoice.number} is "
                f"{invoice.status.lower().replace('_', ' ')}."
            )
        invoice.status = InvoiceStatus.WRITTEN_OFF.value
        invoice.written_off_at = func.now()
        activity.record(
            session,
            actor,
            "invoice.written_off",
            "invoice",
            invoice.id,
            f"{invoice.number} written off ({invoice.balance_due} unpaid)",
            {"reason": reason},
        )
        events.notify(session, "invoice", invoice.id, number=invoice.number, status=invoice.status)
        session.flush()
        session.refresh(invoice)
        return view_of(session, invoice)


def delete_invoice(session: Session, actor: Actor, invoice_id: int) -> str:
    """Delete an invoice that has no money recorded; its files go to the storage outbox."""
    actor.require_admin("delete invoices")
    with session.begin():
        invoice = get_invoice_row(session, invoice_id, lock=True)
        has_payments = session.scalar(
            select(func.count()).select_from(Payment).where(Payment.invoice_id == invoice.id)
        )
        if has_payments:
            raise Conflict(
                f"{invoice.number} has payments recorded; void or refund it instead of deleting."
            )
        number = invoice.number
        # Files that belong to this invoice alone go (the trigger queues their objects);
        # files also on a quote stay with the quote.
        for order_file in session.scalars(
            select(OrderFile).where(OrderFile.invoice_id == invoice.id)
        ):
            if order_file.quote_id is None:
                session.delete(order_file)
            else:
                order_file.invoice_id = None
        session.flush()
        session.delete(invoice)
        activity.record(
            session, actor, "invoice.deleted", "invoice", invoice_id, f"{number} deleted"
        )
        events.notify(session, "invoice", invoice_id, number=number, status="DELETED")
        return number


@dataclass(frozen=True)
class InvoiceFilter:
    status: str | None = None  # an InvoiceStatus value, "OVERDUE" or "PART_PAID"
    text: str = ""
    client_id: int | None = None


def _filtered(query: Select[Invoice, str], flt: InvoiceFilter) -> Select[Invoice, str]:
    if flt.status == OVERDUE:
        query = query.where(
            Invoice.status == InvoiceStatus.PENDING.value, Invoice.due_date < func.current_date()
        )
    elif flt.status == PART_PAID:  # as the badge says it: an overdue one shows as overdue
        query = query.where(
            Invoice.status == InvoiceStatus.PENDING.value,
            Invoice.amount_paid > 0,
            or_(Invoice.due_date.is_(None), Invoice.due_date >= func.current_date()),
        )
    elif flt.status:
        query = query.where(Invoice.status == InvoiceStatus(flt.status).value)
    if flt.client_id is not None:
        query = query.where(Invoice.client_id == flt.client_id)
    if flt.text.strip():
        like = f"%{flt.text.strip()}%"
        # Matching clients first keeps the planner from probing a client per invoice row.
        matching_clients = select(Client.id).where(
            or_(Client.name.ilike(like), Client.email.ilike(like))
        )
        query = query.where(
            or_(Invoice.number.ilike(like), Invoice.client_id.in_(matching_clients))
        )
    return query


def list_invoices(
    session: Session, flt: InvoiceFilter | None = None, *, limit: int = 100, offset: int = 0
) -> list[InvoiceSummary]:
    """A page of invoices, newest first, filtered in SQL."""
    flt = flt or InvoiceFilter()
    query = (
        _filtered(select(Invoice, Client.name).join(Client, Client.id == Invoice.client_id), flt)
        .order_by(Invoice.id.desc())
        .limit(limit)
        .offset(offset)
    )
    with session.begin():
        return [
            InvoiceSummary(
                id=inv.id,
                number=inv.number,
                client_id=inv.client_id,
                client_name=name,
                status=InvoiceStatus(inv.status),
                overdue=is_overdue(inv.status, inv.due_date),
                issue_date=inv.issue_date,
                due_date=inv.due_date,
                currency=inv.currency,
                total=inv.total,
                balance_due=inv.balance_due,
                version=inv.version,
                amount_paid=inv.amount_paid,
            )
            for inv, name in session.execute(query)
        ]


def count_invoices(session: Session, flt: InvoiceFilter | None = None) -> int:
    query = _filtered(
        select(Invoice, Client.name).join(Client, Client.id == Invoice.client_id),
        flt or InvoiceFilter(),
    )
    with session.begin():
        return int(session.scalar(select(func.count()).select_from(query.subquery())) or 0)


def job_for_invoice(session: Session, invoice_id: int) -> JobStatus | None:
    with session.begin():
        status = session.scalar(select(Job.status).where(Job.invoice_id == invoice_id))
        return JobStatus(status) if status else None
