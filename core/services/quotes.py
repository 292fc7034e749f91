"""Quotes: create, edit, send, accept, decline, duplicate, delete, and convert to an invoice."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import Select, func, or_, select, text
from sqlalchemy.orm import Session

from core.actor import Actor
from core.db.models import Client, OrderFile, Quote, QuoteItem
from core.enums import DiscountType, QuoteStatus
from core.errors import Conflict, NotFound
from core.services import activity, events, invoices
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
    inputs_of,
    insert_document,
    item_views,
    read_for_document,
    terms_of,
    today,
    totals_of,
    views_of_rows,
)
from core.shop_settings import ShopSettings

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
    """Make a quote: one statement to read, one to write (see `insert_document`)."""
    build_items(items, QuoteItem)  # refuse bad lines before a number is taken
    with session.begin():
        context = read_for_document(session, "quote", client_id, file_ids_of(items))
        return insert_quote(
            session, actor, context, items, terms or DocumentTerms(), expiry_date=expiry_date
        )


def insert_quote(
    session: Session,
    actor: Actor,
    context: DocumentContext,
    items: Sequence[ItemInput],
    terms: DocumentTerms,
    *,
    expiry_date: dt.date | None = None,
    item_uploads: Sequence[int | None] = (),
    promotions: Sequence[Promotion] = (),
) -> QuoteView:
    """Insert a quote with its lines, files, activity and notice, inside the caller's
    transaction, after `read_for_document` read ``context``."""
    rows = build_items(items, QuoteItem)
    shop = context.shop
    file_ids = file_ids_of(items)
    check_files(context, file_ids)
    totals = totals_of(rows, terms, shop)
    issued = today()
    expiry = expiry_date or issued + dt.timedelta(days=shop.quote_validity_days)
    number = context.number
    inserted = insert_document(
        session,
        NewDocument(
            kind="quote",
            columns={
                "number": number,
                "client_id": context.client_id,
                "currency": shop.currency,
                "issue_date": issued,
                "expiry_date": expiry,
                "status": QuoteStatus.DRAFT.value,
                "created_by": actor.user_id,
                **totals,
            },
            items=rows,
            item_uploads=item_uploads,
            link_files=file_ids,
            promotions=promotions,
            activities=[
                Activity(
                    "quote.created",
                    "quote",
                    f"{number} created for {context.client_name}",
                    detail={"total": str(totals["total"])},
                )
            ],
            notices=[Notice("quote", {"number": number, "status": QuoteStatus.DRAFT.value})],
            actor=actor,
        ),
    )
    return QuoteView(
        id=inserted.id,
        number=number,
        client_id=context.client_id,
        client_name=context.client_name,
        client_email=context.client_email,
        status=QuoteStatus.DRAFT,
        issue_date=issued,
        expiry_date=expiry,
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
        notes=totals["notes"],
        sent_at=None,
        converted_invoice_id=None,
        items=views_of_rows(rows, inserted),
        version=1,
    )


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


_CONVERT_READ = text(
    "SELECT q.number, q.client_id, q.status, q.discount_type, q.discount_value, "
    "q.shipping_label, q.shipping_amount, q.tax_rate, q.tax_inclusive, q.notes, "
    "c.name AS client_name, c.email AS client_email, c.payment_terms_days, "
    "(SELECT data FROM settings WHERE id = 1) AS settings, "
    "CASE WHEN q.status NOT IN ('CONVERTED', 'DECLINED') "
    "THEN nextval('invoice_number_seq') END AS n, "
    "(SELECT number FROM invoices WHERE id = q.converted_invoice_id) AS converted_number, "
    "(SELECT coalesce(jsonb_agg(jsonb_build_object('description', i.description, "
    "'quantity', i.quantity::text, 'unit_price', i.unit_price::text, 'discount_type', "
    "i.discount_type, 'discount_value', i.discount_value::text, 'breakdown', i.breakdown, "
    "'order_file_id', i.order_file_id) ORDER BY i.position), '[]'::jsonb) "
    "FROM quote_items i WHERE i.quote_id = q.id) AS items, "
    "(SELECT coalesce(jsonb_agg(jsonb_build_object('id', f.id, 'client_id', f.client_id, "
    "'filename', f.filename)), '[]'::jsonb) FROM order_files f WHERE f.id IN "
    "(SELECT order_file_id FROM quote_items WHERE quote_id = q.id)) AS files "
    "FROM quotes q JOIN clients c ON c.id = q.client_id WHERE q.id = :quote_id "
    "FOR UPDATE OF q"
)


def convert_to_invoice(session: Session, actor: Actor, quote_id: int) -> invoices.InvoiceView:
    """Make the invoice from the quote in one transaction: all of it happens, or none.

    One statement reads the quote (locked), its lines, client and settings; one writes the
    invoice and marks the quote converted (see `insert_document`).
    """
    with session.begin():
        row = session.execute(_CONVERT_READ, {"quote_id": quote_id}).one_or_none()
        if row is None:
            raise NotFound(f"No quote with id {quote_id}.")
        current = QuoteStatus(row.status)
        if current == QuoteStatus.CONVERTED:
            number = row.converted_number or "an invoice"
            raise Conflict(f"{row.number} is already converted to {number}.")
        if current == QuoteStatus.DECLINED:
            raise Conflict(f"{row.number} was declined; duplicate it to quote again.")
        shop = (
            shop_settings.load(session)
            if row.settings is None
            else ShopSettings.model_validate(row.settings)
        )
        prefix, digits = shop.numbering.invoice_prefix, shop.numbering.digits
        number = f"{prefix}{row.n:0{digits}d}"
        context = DocumentContext(
            client_id=row.client_id,
            client_name=row.client_name,
            client_email=row.client_email,
            payment_terms_days=row.payment_terms_days,
            shop=shop,
            number=number,
            files={int(f["id"]): f for f in row.files},
            uploads={},
        )
        items = [
            ItemInput(
                description=i["description"],
                quantity=Decimal(i["quantity"]),
                unit_price=Decimal(i["unit_price"]),
                discount_type=DiscountType(i["discount_type"]),
                discount_value=Decimal(i["discount_value"]),
                breakdown=dict(i["breakdown"]),
                order_file_id=i["order_file_id"],
            )
            for i in row.items
        ]
        terms = DocumentTerms(
            discount_type=DiscountType(row.discount_type),
            discount_value=row.discount_value,
            shipping_label=row.shipping_label,
            shipping_amount=row.shipping_amount,
            tax_rate=row.tax_rate,
            tax_inclusive=row.tax_inclusive,
            notes=row.notes,
        )
        return invoices.insert_invoice(
            session,
            actor,
            context,
            items,
            terms,
            source_quote_id=quote_id,
            activities=[
                Activity(
                    "quote.converted",
                    "quote",
                    f"{row.number} converted to {number}",
                    entity_id=quote_id,
                    doc_key="invoice_id",
                )
            ],
            notices=[
                Notice(
                    "quote",
                    {"number": row.number, "status": QuoteStatus.CONVERTED.value},
                    id=quote_id,
                )
            ],
        )


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
