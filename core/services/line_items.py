"""What quotes and invoices share: validated line items, document terms, totals and numbering."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from core.db.models import InvoiceItem, OrderFile, QuoteItem
from core.enums import DiscountType
from core.errors import InvalidInput, NotFound
from core.money import ZERO, MoneyError, document_totals, line_total, parse_money, to_decimal
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


def next_number(session: Session, sequence: str, prefix: str, digits: int) -> str:
    """The next document number from its sequence: never repeats, never resets."""
    if sequence not in ("quote_number_seq", "invoice_number_seq"):
        raise ValueError(sequence)
    value = session.execute(text(f"SELECT nextval('{sequence}')")).scalar_one()
    return f"{prefix}{value:0{digits}d}"


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
