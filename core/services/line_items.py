"""What quotes and invoices share: validated line items, document terms, totals and numbering."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from core.actor import Actor
from core.db.models import InvoiceItem, OrderFile, QuoteItem
from core.enums import DiscountType
from core.errors import InvalidInput, NotFound
from core.money import ZERO, MoneyError, document_totals, line_total, parse_money, to_decimal
from core.services import jobs
from core.services import settings as shop_settings
from core.services.events import CHANNEL as EVENTS_CHANNEL
from core.shop_settings import ShopSettings

MAX_QUANTITY = Decimal("999999")
MAX_ITEMS = 500


@dataclass(frozen=True)
class ItemInput:
    description: str
    quantity: Decimal
    unit_price: Decimal
    discount_type: DiscountType = DiscountType.NONE
    discount_value: Decimal = ZERO
    breakdown: dict[str, Any] = field(default_factory=dict)
    order_file_id: int | None = None


@dataclass(frozen=True)
class DocumentTerms:
    """Document-level pricing terms; None means "the shop's setting"."""

    discount_type: DiscountType = DiscountType.NONE
    discount_value: Decimal = ZERO
    shipping_label: str = ""
    shipping_amount: Decimal = ZERO
    tax_rate: Decimal | None = None
    tax_inclusive: bool | None = None
    notes: str | None = None


@dataclass(frozen=True)
class ItemView:
    id: int
    position: int
    description: str
    quantity: Decimal
    unit_price: Decimal
    discount_type: DiscountType
    discount_value: Decimal
    line_total: Decimal
    breakdown: dict[str, Any]
    order_file_id: int | None


def parse_item_spec(spec: str) -> ItemInput:
    """``DESCRIPTION|QTY|UNIT_PRICE`` as typed on the command line."""
    parts = spec.rsplit("|", 2)
    if len(parts) != 3 or not parts[0].strip():
        raise InvalidInput(f"Item {spec!r} must look like 'DESCRIPTION|QTY|UNIT_PRICE'.")
    description, quantity, price = parts
    try:
        return ItemInput(
            description=description.strip(),
            quantity=to_decimal(quantity, "quantity"),
            unit_price=parse_money(price, "unit price"),
        )
    except MoneyError as exc:
        raise InvalidInput(f"Item {description.strip()!r}: {exc}") from None


def _check_item(index: int, item: ItemInput) -> Decimal:
    label = f"Line {index}"
    if not item.description.strip():
        raise InvalidInput(f"{label} needs a description.")
    if len(item.description) > 2000:
        raise InvalidInput(f"{label}: the description is too long (2000 characters at most).")
    if not item.quantity.is_finite() or item.quantity <= 0:
        raise InvalidInput(f"{label}: the quantity must be more than zero.")
    if item.quantity > MAX_QUANTITY or item.quantity != item.quantity.quantize(Decimal("0.001")):
        raise InvalidInput(f"{label}: the quantity {item.quantity} is not one we can record.")
    try:
        parse_money(item.unit_price, "unit price")
        parse_money(item.discount_value, "line discount")
        return line_total(item.quantity, item.unit_price, item.discount_type, item.discount_value)
    except MoneyError as exc:
        raise InvalidInput(f"{label}: {exc}") from None


def build_items(
    items: Sequence[ItemInput], item_cls: type[QuoteItem] | type[InvoiceItem]
) -> list[Any]:
    if not items:
        raise InvalidInput("A document needs at least one line item.")
    if len(items) > MAX_ITEMS:
        raise InvalidInput(f"A document holds at most {MAX_ITEMS} line items.")
    rows = []
    for position, item in enumerate(items, start=1):
        total = _check_item(position, item)
        rows.append(
            item_cls(
                position=position,
                description=item.description.strip(),
                quantity=item.quantity,
                unit_price=item.unit_price,
                discount_type=item.discount_type.value,
                discount_value=item.discount_value,
                line_total=total,
                breakdown=dict(item.breakdown),
                order_file_id=item.order_file_id,
            )
        )
    return rows


def apply_terms_and_totals(doc: Any, terms: DocumentTerms, shop: ShopSettings) -> None:
    """Set the document's terms from ``terms`` (falling back to the shop's) and its totals."""
    tax_rate = shop.tax.rate if terms.tax_rate is None else terms.tax_rate
    tax_inclusive = shop.tax.inclusive if terms.tax_inclusive is None else terms.tax_inclusive
    try:
        shipping = parse_money(terms.shipping_amount, "shipping")
        discount_value = parse_money(terms.discount_value, "discount")
        totals = document_totals(
            [row.line_total for row in doc.items],
            discount_type=terms.discount_type,
            discount_value=discount_value,
            shipping=shipping,
            tax_rate=tax_rate,
            tax_inclusive=tax_inclusive,
        )
    except MoneyError as exc:
        raise InvalidInput(str(exc)) from None
    doc.discount_type = terms.discount_type.value
    doc.discount_value = discount_value
    doc.shipping_label = terms.shipping_label.strip()[:200]
    doc.shipping_amount = shipping
    doc.tax_rate = tax_rate
    doc.tax_inclusive = tax_inclusive
    doc.notes = terms.notes
    doc.subtotal = totals.subtotal
    doc.discount_total = totals.discount_total
    doc.tax_total = totals.tax_total
    doc.total = totals.total


def terms_of(doc: Any) -> DocumentTerms:
    return DocumentTerms(
        discount_type=DiscountType(doc.discount_type),
        discount_value=doc.discount_value,
        shipping_label=doc.shipping_label,
        shipping_amount=doc.shipping_amount,
        tax_rate=doc.tax_rate,
        tax_inclusive=doc.tax_inclusive,
        notes=doc.notes,
    )


def inputs_of(doc: Any) -> list[ItemInput]:
    return [
        ItemInput(
            description=row.description,
            quantity=row.quantity,
            unit_price=row.unit_price,
            discount_type=DiscountType(row.discount_type),
            discount_value=row.discount_value,
            breakdown=dict(row.breakdown),
            order_file_id=row.order_file_id,
        )
        for row in doc.items
    ]


def item_views(doc: Any) -> list[ItemView]:
    return [
        ItemView(
            id=row.id,
            position=row.position,
            description=row.description,
            quantity=row.quantity,
            unit_price=row.unit_price,
            discount_type=DiscountType(row.discount_type),
            discount_value=row.discount_value,
            line_total=row.line_total,
            breakdown=dict(row.breakdown),
            order_file_id=row.order_file_id,
        )
        for row in doc.items
    ]


def today() -> dt.date:
    return dt.date.today()


def files_of_items(session: Session, client_id: int, items: Sequence[ItemInput]) -> list[OrderFile]:
    """The order files the items point at, each checked to exist and to be the client's."""
    found: list[OrderFile] = []
    for file_id in sorted({i.order_file_id for i in items if i.order_file_id is not None}):
        order_file = session.get(OrderFile, file_id)
        if order_file is None:
            raise NotFound(f"No order file with id {file_id}.")
        if order_file.client_id != client_id:
            raise InvalidInput(f"{order_file.filename} belongs to another client.")
        found.append(order_file)
    return found


# -- writing a new document in one statement -----------------------------------------------------
#
# A counter may be a region away from its database, so making a document is one statement: the
# document, its lines, its files (linked, or promoted from uploads), its job, the activity and
# the live-update notices, each a data-modifying CTE that reads the new document's id from the
# first. PostgreSQL runs them together and checks the foreign keys at the end of the statement.

DOCUMENT_TABLES = {
    "quote": ("quotes", "quote_items", "quote_id"),
    "invoice": ("invoices", "invoice_items", "invoice_id"),
}


def _json_ready(value: Any) -> Any:
    if isinstance(value, Decimal):
        return f"{value:f}"
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): _json_ready(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_ready(v) for v in value]
    return value


@dataclass(frozen=True)
class Activity:
    """One activity entry; ``entity_id`` None means the new document, ``doc_key`` adds its id."""

    action: str
    entity_type: str
    message: str
    entity_id: int | None = None
    detail: dict[str, Any] = field(default_factory=dict)
    doc_key: str | None = None


@dataclass(frozen=True)
class Notice:
    """One live-update notice; ``id`` None means the new document's id."""

    kind: str
    fields: dict[str, Any]
    id: int | None = None


@dataclass(frozen=True)
class Promotion:
    """An upload that becomes one of the document's order files (its object already copied)."""

    tmp_id: int
    storage_key: str  # in ORDER_FILES
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class NewDocument:
    kind: str  # "quote" or "invoice"
    columns: dict[str, Any]  # the document's own columns, totals included
    items: Sequence[Any]  # QuoteItem/InvoiceItem rows from `build_items` (not in the session)
    item_uploads: Sequence[int | None] = ()  # per item: the upload whose order file it shows
    link_files: Sequence[int] = ()  # existing order files that become the document's
    promotions: Sequence[Promotion] = ()
    job: jobs.NewJob | None = None  # invoices made under the ON_INVOICE policy
    activities: Sequence[Activity] = ()
    notices: Sequence[Notice] = ()
    converts_quote: int | None = None  # the quote this invoice is made from
    actor: Actor | None = None  # who the activity entries name


@dataclass(frozen=True)
class InsertedDocument:
    id: int
    item_ids: list[int]
    item_file_ids: list[int | None]
    files: list[dict[str, Any]]  # the promoted order files: id, tmp_id, storage_key
    job_made: bool


def _recordset(name: str, columns: str) -> str:
    return f"jsonb_to_recordset(CAST(:{name} AS jsonb)) AS {name[:-1]}({columns})"


def insert_document(session: Session, new: NewDocument) -> InsertedDocument:
    """Insert the document and everything that goes with it in one round trip."""
    table, item_table, fk = DOCUMENT_TABLES[new.kind]
    columns = dict(new.columns)
    names = ", ".join(columns)
    values = ", ".join(f":c_{name}" for name in columns)
    params: dict[str, Any] = {f"c_{name}": value for name, value in columns.items()}
    uploads = list(new.item_uploads) or [None] * len(new.items)
    params["items"] = json.dumps(
        [
            _json_ready(
                {
                    "position": row.position,
                    "description": row.description,
                    "quantity": row.quantity,
                    "unit_price": row.unit_price,
                    "discount_type": row.discount_type,
                    "discount_value": row.discount_value,
                    "line_total": row.line_total,
                    "breakdown": row.breakdown,
                    "order_file_id": row.order_file_id,
                    "tmp_id": tmp_id,
                }
            )
            for row, tmp_id in zip(new.items, uploads, strict=True)
        ]
    )
    ctes = [f"doc AS (INSERT INTO {table} ({names}) VALUES ({values}) RETURNING id, client_id)"]
    file_of_item = "item.order_file_id"
    if new.promotions:
        params["promos"] = json.dumps(
            [
                _json_ready({"tmp_id": p.tmp_id, "storage_key": p.storage_key, "extra": p.metadata})
                for p in new.promotions
            ]
        )
        params["promo_ids"] = [p.tmp_id for p in new.promotions]
        ctes.append(
            "files AS (INSERT INTO order_files (client_id, "
            f"{fk}, filename, bucket, storage_key, sha256, size_bytes, mime_type, metadata, "
            "uploaded_by) SELECT doc.client_id, doc.id, t.filename, 'order-files', "
            "promo.storage_key, t.sha256, t.size_bytes, t.mime_type, t.metadata || promo.extra "
            "|| jsonb_build_object('tmp_file_id', t.id), t.user_id FROM doc, tmp_files t JOIN "
            f"{_recordset('promos', 'tmp_id bigint, storage_key text, extra jsonb')} "
            "ON promo.tmp_id = t.id RETURNING id, filename, storage_key, "
            "(metadata->>'tmp_file_id')::bigint AS tmp_id)"
        )
        ctes.append("gone AS (DELETE FROM tmp_files WHERE id = ANY(:promo_ids) RETURNING id)")
        file_of_item = "coalesce(item.order_file_id, f.id)"
    item_columns = (
        "position int, description text, quantity numeric, unit_price numeric, "
        "discount_type text, discount_value numeric, line_total numeric, breakdown jsonb, "
        "order_file_id bigint, tmp_id bigint"
    )
    join_files = " LEFT JOIN files f ON f.tmp_id = item.tmp_id" if new.promotions else ""
    ctes.append(
        f"items AS (INSERT INTO {item_table} ({fk}, position, description, quantity, "
        "unit_price, discount_type, discount_value, line_total, breakdown, order_file_id) "
        "SELECT doc.id, item.position, item.description, item.quantity, item.unit_price, "
        "item.discount_type, item.discount_value, item.line_total, item.breakdown, "
        f"{file_of_item} FROM doc, {_recordset('items', item_columns)}"
        f"{join_files} RETURNING id, position, order_file_id)"
    )
    if new.link_files:
        params["link_ids"] = list(new.link_files)
        ctes.append(
            f"linked AS (UPDATE order_files SET {fk} = doc.id FROM doc "
            "WHERE order_files.id = ANY(:link_ids) RETURNING order_files.id)"
        )
    if new.job is not None:
        params |= jobs.job_params(new.job)
        ctes.append(jobs.insert_job_cte("doc", "doc.id", "doc.client_id"))
    if new.converts_quote is not None:
        params["quote_id"] = new.converts_quote
        ctes.append(
            "converted AS (UPDATE quotes SET status = 'CONVERTED', converted_invoice_id = "
            "doc.id, version = quotes.version + 1, updated_at = now() FROM doc "
            "WHERE quotes.id = :quote_id RETURNING quotes.id)"
        )
    params["acts"] = json.dumps(
        [
            _json_ready(
                {
                    "action": a.action,
                    "entity_type": a.entity_type,
                    "entity_id": a.entity_id,
                    "message": a.message,
                    "detail": a.detail,
                    "doc_key": a.doc_key,
                }
            )
            for a in new.activities
        ]
    )
    params["actor_id"] = new.actor.user_id if new.actor is not None else None
    params["actor_label"] = new.actor.label if new.actor is not None else "system"
    act_columns = (
        "action text, entity_type text, entity_id bigint, message text, detail jsonb, doc_key text"
    )
    file_acts = ""
    if new.promotions:
        file_acts = (
            " UNION ALL SELECT CAST(:actor_id AS bigint), :actor_label, 'order_file.added', "
            "'order_file', files.id, 'Added ' || files.filename, jsonb_build_object("
            "'tmp_file_id', files.tmp_id, 'client_id', doc.client_id) FROM doc, files"
        )
    ctes.append(
        "acts AS (INSERT INTO activity_log (actor_id, actor_label, action, entity_type, "
        "entity_id, message, detail) SELECT CAST(:actor_id AS bigint), :actor_label, act.action, "
        "act.entity_type, coalesce(act.entity_id, doc.id), act.message, CASE WHEN act.doc_key "
        "IS NULL THEN act.detail ELSE act.detail || jsonb_build_object(act.doc_key, doc.id) END "
        f"FROM doc, {_recordset('acts', act_columns)}{file_acts})"
    )
    params["notes"] = json.dumps(
        [_json_ready({"payload": {"kind": n.kind, **n.fields}, "id": n.id}) for n in new.notices]
    )
    params["channel"] = EVENTS_CHANNEL
    notes = _recordset("notes", "payload jsonb, id bigint")
    ctes.append(
        "notified AS (SELECT pg_notify(:channel, (note.payload || jsonb_build_object('id', "
        f"coalesce(note.id, doc.id)))::text) FROM doc, {notes})"
    )
    files_json = (
        "(SELECT coalesce(jsonb_agg(jsonb_build_object('id', id, 'tmp_id', tmp_id, "
        "'storage_key', storage_key)), '[]'::jsonb) FROM files)"
        if new.promotions
        else "'[]'::jsonb"
    )
    job_made = "(SELECT count(*) FROM job)" if new.job is not None else "0"
    statement = (
        "WITH " + ", ".join(ctes) + ", sent AS (SELECT count(*) AS n FROM notified) "
        "SELECT doc.id, (SELECT array_agg(id ORDER BY position) FROM items) AS item_ids, "
        "(SELECT array_agg(order_file_id ORDER BY position) FROM items) AS item_files, "
        f"{files_json} AS files, {job_made} AS job_made, sent.n FROM doc, sent"
    )
    row = session.execute(text(statement), params).one()
    return InsertedDocument(
        id=int(row.id),
        item_ids=[int(v) for v in row.item_ids],
        item_file_ids=[None if v is None else int(v) for v in row.item_files],
        files=list(row.files),
        job_made=bool(row.job_made),
    )


@dataclass(frozen=True)
class DocumentContext:
    """What making a document reads first, in one statement: the client, the settings, the
    document's number, the order files its lines name and (for a quick order) the uploads."""

    client_id: int
    client_name: str
    client_email: str | None
    payment_terms_days: int
    shop: ShopSettings
    number: str
    files: dict[int, dict[str, Any]]
    uploads: dict[int, dict[str, Any]]


def file_ids_of(items: Sequence[ItemInput]) -> list[int]:
    return sorted({i.order_file_id for i in items if i.order_file_id is not None})


_SEQUENCES = {"quote": "quote_number_seq", "invoice": "invoice_number_seq"}


def read_for_document(
    session: Session,
    kind: str,
    client_id: int,
    file_ids: Sequence[int] = (),
    *,
    uploads: Sequence[int] = (),
) -> DocumentContext:
    """Read the client (share-locked), settings, next number, files and uploads (locked)."""
    sequence = _SEQUENCES[kind]
    row = session.execute(
        text(
            "SELECT c.name, c.email, c.payment_terms_days, "
            "(SELECT data FROM settings WHERE id = 1) AS settings, "
            f"nextval('{sequence}') AS n, "
            "(SELECT coalesce(jsonb_agg(jsonb_build_object('id', f.id, 'client_id', "
            "f.client_id, 'filename', f.filename)), '[]'::jsonb) FROM order_files f "
            "WHERE f.id = ANY(:file_ids)) AS files, "
            "(SELECT coalesce(jsonb_agg(jsonb_build_object('id', t.id, 'user_id', t.user_id, "
            "'filename', t.filename, 'storage_key', t.storage_key, 'mime_type', t.mime_type)), "
            "'[]'::jsonb) FROM (SELECT * FROM tmp_files WHERE id = ANY(:tmp_ids) "
            "AND expires_at > now() FOR UPDATE) t) AS uploads "
            "FROM clients c WHERE c.id = :client_id FOR SHARE OF c"
        ),
        {"client_id": client_id, "file_ids": list(file_ids), "tmp_ids": list(uploads)},
    ).one_or_none()
    if row is None:
        raise NotFound(f"No client with id {client_id}.")
    if row.settings is None:  # a database migrated by hand without its seed row
        shop = shop_settings.load(session)
    else:
        shop = ShopSettings.model_validate(row.settings)
    prefix = shop.numbering.quote_prefix if kind == "quote" else shop.numbering.invoice_prefix
    return DocumentContext(
        client_id=client_id,
        client_name=row.name,
        client_email=row.email,
        payment_terms_days=row.payment_terms_days,
        shop=shop,
        number=f"{prefix}{row.n:0{shop.numbering.digits}d}",
        files={int(f["id"]): f for f in row.files},
        uploads={int(u["id"]): u for u in row.uploads},
    )


def check_files(context: DocumentContext, file_ids: Sequence[int]) -> None:
    """Each order file the lines name exists and is the client's."""
    for file_id in sorted(set(file_ids)):
        found = context.files.get(file_id)
        if found is None:
            raise NotFound(f"No order file with id {file_id}.")
        if found["client_id"] != context.client_id:
            raise InvalidInput(f"{found['filename']} belongs to another client.")


def totals_of(rows: Sequence[Any], terms: DocumentTerms, shop: ShopSettings) -> dict[str, Any]:
    """The document's term and total columns for ``rows``, as `apply_terms_and_totals` sets them."""
    doc = SimpleNamespace(items=list(rows))
    apply_terms_and_totals(doc, terms, shop)
    names = (
        "discount_type",
        "discount_value",
        "shipping_label",
        "shipping_amount",
        "tax_rate",
        "tax_inclusive",
        "notes",
        "subtotal",
        "discount_total",
        "tax_total",
        "total",
    )
    return {name: getattr(doc, name) for name in names}


def views_of_rows(rows: Sequence[Any], inserted: InsertedDocument) -> list[ItemView]:
    """The lines just inserted, as `item_views` would read them back."""
    return [
        ItemView(
            id=item_id,
            position=row.position,
            description=row.description,
            quantity=row.quantity,
            unit_price=row.unit_price,
            discount_type=DiscountType(row.discount_type),
            discount_value=row.discount_value,
            line_total=row.line_total,
            breakdown=dict(row.breakdown),
            order_file_id=file_id,
        )
        for row, item_id, file_id in zip(
            rows, inserted.item_ids, inserted.item_file_ids, strict=True
        )
    ]
