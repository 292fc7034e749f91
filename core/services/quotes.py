"""Quotes: create, edit, send, accept, decline, duplicate, delete, and convert to an invoice."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session

from core.actor import Actor
from core.db.models import Client, Invoice, OrderFile, Quote, QuoteItem
from core.enums import DiscountType, QuoteStatus
from core.errors import Conflict, NotFound
from core.services import activity, events, invoices
from core.services import settings as shop_settings
from core.services.line_items import (
    DocumentTerms,
    ItemInput,
    ItemView,
    apply_terms_and_totals,
    build_items,
    files_of_items,
    inputs_of,
    item_views,
    next_number,
    terms_of,
    today,
)

EDITABLE = frozenset({QuoteStatus.DRAFT, QuoteStatus.PENDING})


@dataclass(frozen=True)
class QuoteView:
    id: int
    number: str
    client_id: int
    client_name: str
    client_email: str | None
    status: QuoteStatus
    issue_date: dt.date
    expiry_date: dt.date | None
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
    notes: str | None
    sent_at: dt.datetime | None
    converted_invoice_id: int | None
    items: list[ItemView]
    version: int

    @property
    def expired(self) -> bool:
        return (
            self.status in EDITABLE and self.expiry_date is not None and self.expiry_date < today()
        )


@dataclass(frozen=True)
class QuoteSummary:
    id: int
    number: str
    client_id: int
    client_name: str
    status: QuoteStatus
    issue_date: dt.date
    expiry_date: dt.date | None
    currency: str
    total: Decimal
    version: int


def _view(session: Session, quote: Quote) -> QuoteView:
    client = session.get(Client, quote.client_id)
    assert client is not None
    return QuoteView(
        id=quote.id,
        number=quote.number,
        client_id=quote.client_id,
        client_name=client.name,
        client_email=client.email,
        status=QuoteStatus(quote.status),
        issue_date=quote.issue_date,
        expiry_date=quote.expiry_date,
        currency=quote.currency,
        discount_type=DiscountType(quote.discount_type),
        discount_value=quote.discount_value,
        shipping_label=quote.shipping_label,
        shipping_amount=quote.shipping_amount,
        tax_rate=quote.tax_rate,
        tax_inclusive=quote.tax_inclusive,
        subtotal=quote.subtotal,
        discount_total=quote.discount_total,
        tax_total=quote.tax_total,
        total=quote.total,
        notes=quote.notes,
        sent_at=quote.sent_at,
        converted_invoice_id=quote.converted_invoice_id,
        items=item_views(quote),
        version=quote.version,
    )


def _quote(session: Session, quote_id: int, *, expected_version: int | None = None) -> Quote:
    quote = session.scalars(
        select(Quote).where(Quote.id == quote_id).with_for_update()
    ).one_or_none()
    if quote is None:
        raise NotFound(f"No quote with id {quote_id}.")
    if expected_version is not None and quote.version != expected_version:
        raise Conflict(f"{quote.number} was changed elsewhere — reload it and try again.")
    return quote


def _link_order_files(session: Session, quote: Quote, items: Sequence[ItemInput]) -> None:
    for order_file in files_of_items(session, quote.client_id, items):
        order_file.quote_id = quote.id


def create_quote(
    session: Session,
    actor: Actor,
    client_id: int,
    items: Sequence[ItemInput],
    terms: DocumentTerms | None = None,
    *,
    expiry_date: dt.date | None = None,
) -> QuoteView:
    with session.begin():
        client = session.get(Client, client_id)
        if client is None:
            raise NotFound(f"No client with id {client_id}.")
        shop = shop_settings.load(session)
        issued = today()
        quote = Quote(
            number="",
            client_id=client.id,
            currency=shop.currency,
            issue_date=issued,
            expiry_date=expiry_date or issued + dt.timedelta(days=shop.quote_validity_days),
            status=QuoteStatus.DRAFT.value,
            created_by=actor.user_id,
        )
        quote.items = build_items(items, QuoteItem)
        apply_terms_and_totals(quote, terms or DocumentTerms(), shop)
        quote.number = next_number(
            session, "quote_number_seq", shop.numbering.quote_prefix, shop.numbering.digits
        )
        session.add(quote)
        session.flush()
        _link_order_files(session, quote, items)
        activity.record(
            session,
            actor,
            "quote.created",
            "quote",
            quote.id,
            f"{quote.number} created for {client.name}",
            {"total": str(quote.total)},
        )
        events.notify(session, "quote", quote.id, number=quote.number, status=quote.status)
        session.flush()
        return _view(session, quote)


def get_quote(session: Session, quote_id: int) -> QuoteView:
    with session.begin():
        quote = session.get(Quote, quote_id)
        if quote is None:
            raise NotFound(f"No quote with id {quote_id}.")
        return _view(session, quote)


def update_quote(
    session: Session,
    actor: Actor,
    quote_id: int,
    items: Sequence[ItemInput],
    terms: DocumentTerms,
    *,
    expected_version: int | None,
    expiry_date: dt.date | None = None,
) -> QuoteView:
    with session.begin():
        quote = _quote(session, quote_id, expected_version=expected_version)
        if QuoteStatus(quote.status) not in EDITABLE:
            raise Conflict(f"{quote.number} is {quote.status.lower()} and cannot be edited.")
        quote.items = build_items(items, QuoteItem)
        session.flush()
        apply_terms_and_totals(quote, terms, shop_settings.load(session))
        if expiry_date is not None:
            quote.expiry_date = expiry_date
        _link_order_files(session, quote, items)
        activity.record(
            session, actor, "quote.updated", "quote", quote.id, f"{quote.number} edited"
        )
        events.notify(session, "quote", quote.id, number=quote.number, status=quote.status)
        session.flush()
        return _view(session, quote)


def _transition(
    session: Session,
    actor: Actor,
    quote_id: int,
    target: QuoteStatus,
    allowed_from: frozenset[QuoteStatus],
    verb: str,
) -> QuoteView:
    with session.begin():
        quote = _quote(session, quote_id)
        current = QuoteStatus(quote.status)
        if current not in allowed_from:
            raise Conflict(f"{quote.number} is {current.lower()}; it cannot be {verb}.")
        quote.status = target.value
        if target == QuoteStatus.PENDING:
            quote.sent_at = func.now()
        elif target in (QuoteStatus.ACCEPTED, QuoteStatus.DECLINED):
            quote.decided_at = func.now()
        activity.record(
            session,
            actor,
            f"quote.{target.lower()}",
            "quote",
            quote.id,
            f"{quote.number} {verb}",
        )
        events.notify(session, "quote", quote.id, number=quote.number, status=quote.status)
        session.flush()
        session.refresh(quote)
        return _view(session, quote)


def send_quote(session: Session, actor: Actor, quote_id: int) -> QuoteView:
    """Mark the quote as sent to the client (the email itself is the mail module's job)."""
    return _transition(session, actor, quote_id, QuoteStatus.PENDING, EDITABLE, "sent")


def accept_quote(session: Session, actor: Actor, quote_id: int) -> QuoteView:
    return _transition(session, actor, quote_id, QuoteStatus.ACCEPTED, EDITABLE, "accepted")


def decline_quote(session: Session, actor: Actor, quote_id: int) -> QuoteView:
    allowed = EDITABLE | {QuoteStatus.ACCEPTED}
    return _transition(session, actor, quote_id, QuoteStatus.DECLINED, allowed, "declined")


def convert_to_invoice(session: Session, actor: Actor, quote_id: int) -> invoices.InvoiceView:
    """Make the invoice from the quote in one transaction: all of it happens, or none."""
    with session.begin():
        quote = _quote(session, quote_id)
        current = QuoteStatus(quote.status)
        if current == QuoteStatus.CONVERTED:
            number = session.scalar(
                select(Invoice.number).where(Invoice.id == quote.converted_invoice_id)
            )
            raise Conflict(f"{quote.number} is already converted to {number or 'an invoice'}.")
        if current == QuoteStatus.DECLINED:
            raise Conflict(f"{quote.number} was declined; duplicate it to quote again.")
        invoice = invoices.new_invoice(
            session,
            actor,
            quote.client_id,
            inputs_of(quote),
            terms_of(quote),
            source_quote_id=quote.id,
        )
        quote.status = QuoteStatus.CONVERTED.value
        quote.converted_invoice_id = invoice.id
        activity.record(
            session,
            actor,
            "quote.converted",
            "quote",
            quote.id,
            f"{quote.number} converted to {invoice.number}",
            {"invoice_id": invoice.id},
        )
        events.notify(session, "quote", quote.id, number=quote.number, status=quote.status)
        session.flush()
        return invoices.view_of(session, invoice)


def duplicate_quote(session: Session, actor: Actor, quote_id: int) -> QuoteView:
    with session.begin():
        source = session.get(Quote, quote_id)
        if source is None:
            raise NotFound(f"No quote with id {quote_id}.")
        items, terms, client_id = inputs_of(source), terms_of(source), source.client_id
        number = source.number
    view = create_quote(session, actor, client_id, items, terms)
    with session.begin():
        activity.record(
            session,
            actor,
            "quote.duplicated",
            "quote",
            view.id,
            f"{view.number} duplicated from {number}",
        )
    return view


def delete_quote(session: Session, actor: Actor, quote_id: int) -> str:
    """Delete a quote; files that belong to it alone go to the storage outbox."""
    actor.require_admin("delete quotes")
    with session.begin():
        quote = _quote(session, quote_id)
        number = quote.number
        for order_file in session.scalars(select(OrderFile).where(OrderFile.quote_id == quote.id)):
            if order_file.invoice_id is None:
                session.delete(order_file)
            else:
                order_file.quote_id = None
        session.flush()
        session.delete(quote)
        activity.record(session, actor, "quote.deleted", "quote", quote_id, f"{number} deleted")
        events.notify(session, "quote", quote_id, number=number, status="DELETED")
        return number


@dataclass(frozen=True)
class QuoteFilter:
    status: str | None = None
    text: str = ""
    client_id: int | None = None


def _filtered(query: Select[Quote, str], flt: QuoteFilter) -> Select[Quote, str]:
    if flt.status:
        query = query.where(Quote.status == QuoteStatus(flt.status).value)
    if flt.client_id is not None:
        query = query.where(Quote.client_id == flt.client_id)
    if flt.text.strip():
        like = f"%{flt.text.strip()}%"
        query = query.where(or_(Quote.number.ilike(like), Client.name.ilike(like)))
    return query


def list_quotes(
    session: Session, flt: QuoteFilter | None = None, *, limit: int = 100, offset: int = 0
) -> list[QuoteSummary]:
    query = (
        _filtered(select(Quote, Client.name).join(Client), flt or QuoteFilter())
        .order_by(Quote.id.desc())
        .limit(limit)
        .offset(offset)
    )
    with session.begin():
        return [
            QuoteSummary(
                q.id,
                q.number,
                q.client_id,
                name,
                QuoteStatus(q.status),
                q.issue_date,
                q.expiry_date,
                q.currency,
                q.total,
                q.version,
            )
            for q, name in session.execute(query)
        ]
