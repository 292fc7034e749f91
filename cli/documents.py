"""Options and output shared by the quote and invoice commands."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Annotated, Any, TypeVar

import typer
from sqlalchemy.orm import Session

from cli.support import database, emit, run
from core.enums import DiscountType
from core.errors import InvalidInput
from core.money import MoneyError, parse_money, to_decimal
from core.services.invoices import InvoiceView
from core.services.line_items import DocumentTerms, ItemInput, ItemView, parse_item_spec
from core.services.quotes import QuoteView

V = TypeVar("V")


def items_from(specs: list[str]) -> list[ItemInput]:
    if not specs:
        raise InvalidInput('Give at least one --item "DESCRIPTION|QTY|UNIT_PRICE".')
    return [parse_item_spec(spec) for spec in specs]


def terms_from(
    discount_percent: str | None, discount: str | None, shipping: str | None, notes: str | None
) -> DocumentTerms:
    if discount_percent and discount:
        raise InvalidInput("Give either --discount-percent or --discount, not both.")
    try:
        kind, value = DiscountType.NONE, Decimal(0)
        if discount_percent:
            kind, value = DiscountType.PERCENT, to_decimal(discount_percent, "discount percent")
        elif discount:
            kind, value = DiscountType.FIXED, parse_money(discount, "discount")
        return DocumentTerms(
            discount_type=kind,
            discount_value=value,
            shipping_amount=parse_money(shipping or "0", "shipping"),
            shipping_label="Shipping" if shipping else "",
            notes=notes,
        )
    except MoneyError as exc:
        raise InvalidInput(str(exc)) from None


def _item_json(item: ItemView) -> dict[str, Any]:
    return {
        "description": item.description,
        "quantity": str(item.quantity.normalize())
        if item.quantity % 1
        else str(int(item.quantity)),
        "unit_price": item.unit_price,
        "line_total": item.line_total,
        "order_file_id": item.order_file_id,
    }


def invoice_json(inv: InvoiceView) -> dict[str, Any]:
    return {
        "id": inv.id,
        "number": inv.number,
        "status": inv.status.value,
        "overdue": inv.overdue,
        "client_id": inv.client_id,
        "client_name": inv.client_name,
        "issue_date": inv.issue_date,
        "due_date": inv.due_date,
        "currency": inv.currency,
        "subtotal": inv.subtotal,
        "discount_total": inv.discount_total,
        "shipping": inv.shipping_amount,
        "tax_total": inv.tax_total,
        "total": inv.total,
        "amount_paid": inv.amount_paid,
        "balance_due": inv.balance_due,
        "items": [_item_json(i) for i in inv.items],
        "payments": [
            {
                "id": p.id,
                "amount": p.amount,
                "method": p.method.value,
                "processor": p.processor,
                "processor_id": p.processor_id,
                "reference": p.reference,
                "paid_at": p.paid_at,
            }
            for p in inv.payments
        ],
        "refunds": [
            {
                "id": r.id,
                "payment_id": r.payment_id,
                "amount": r.amount,
                "processor": r.processor,
                "processor_id": r.processor_id,
                "reason": r.reason,
            }
            for r in inv.refunds
        ],
        "source_quote_id": inv.source_quote_id,
        "stripe_session_id": inv.stripe_session_id,
        "stripe_checkout_url": inv.stripe_checkout_url,
        "version": inv.version,
    }


def quote_json(q: QuoteView) -> dict[str, Any]:
    return {
        "id": q.id,
        "number": q.number,
        "status": q.status.value,
        "client_id": q.client_id,
        "client_name": q.client_name,
        "issue_date": q.issue_date,
        "expiry_date": q.expiry_date,
        "currency": q.currency,
        "subtotal": q.subtotal,
        "discount_total": q.discount_total,
        "shipping": q.shipping_amount,
        "tax_total": q.tax_total,
        "total": q.total,
        "items": [_item_json(i) for i in q.items],
        "converted_invoice_id": q.converted_invoice_id,
        "version": q.version,
    }


def add_create_command(
    app: typer.Typer,
    *,
    doc: str,
    create: Callable[[Session, list[ItemInput], DocumentTerms, int], V],
    to_json: Callable[[V], dict[str, Any]],
    line: Callable[[V], str],
) -> None:
    """Register ``create`` on ``app``: the same options for quotes and invoices."""

    def command(
        client: Annotated[int, typer.Option("--client", help="Client id.")],
        item: Annotated[list[str], typer.Option("--item", help='"DESCRIPTION|QTY|UNIT_PRICE"')],
        discount_percent: Annotated[str | None, typer.Option(help="Discount in %.")] = None,
        discount: Annotated[str | None, typer.Option(help="Fixed discount amount.")] = None,
        shipping: Annotated[str | None, typer.Option(help="Shipping amount.")] = None,
        notes: Annotated[str | None, typer.Option(help="Notes printed on the document.")] = None,
        as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    ) -> None:
        with database() as db, db.session() as s:
            made = run(
                lambda: create(
                    s,
                    items_from(item),
                    terms_from(discount_percent, discount, shipping, notes),
                    client,
                )
            )
        emit(to_json(made), as_json=as_json, text=f"Created {line(made)}")

    command.__doc__ = doc
    app.command("create")(command)
