"""What a quote or invoice PDF shows, as plain data: every figure and date already formatted."""

from __future__ import annotations

import datetime as dt
import functools
import re
from decimal import Decimal
from typing import Any

import segno

from core.enums import DiscountType, InvoiceStatus, QuoteStatus
from core.money import format_money
from core.services.clients import ClientView
from core.services.invoices import InvoiceView
from core.services.line_items import ItemView
from core.services.quotes import QuoteView
from core.shop_settings import ShopSettings

COLUMNS = ("Description", "Qty", "Unit price", "Amount")
GREEN = "#1b7a3a"
RED = "#b3261e"
GREY = "#6b7580"
# What a tax id is called on a document, by the shop's currency (Australia: ABN).
TAX_ID_LABELS = {"AUD": "ABN", "NZD": "GST No."}
# What PrintDesk once added to the text of a line priced without a slicer.
_ESTIMATE_MARK = re.compile(r"\s*\(estimate\)(?=\s*$)", re.IGNORECASE | re.MULTILINE)


def format_date(value: dt.date | None) -> str:
    """``7 Mar 2026``: unambiguous wherever the client reads it."""
    return "" if value is None else f"{value.day} {value:%b %Y}"


def format_quantity(value: Decimal) -> str:
    return f"{value.normalize():f}" if value % 1 else f"{int(value):,}"


def format_percent(rate: Decimal) -> str:
    """A fraction as a percentage without trailing zeros: 0.10 → ``10%``, 0.125 → ``12.5%``."""
    return f"{(rate * 100).normalize():f}%"


def tax_label(shop: ShopSettings, rate: Decimal) -> str:
    return f"{shop.tax.name} {format_percent(rate)}"


def _negative(amount: Decimal, currency: str) -> str:
    """A deduction shown as one: ``-A$8.00``."""
    return format_money(-abs(amount), currency)


def _lines(text: str | None) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


@functools.lru_cache(maxsize=128)
def qr_pixels(url: str) -> tuple[int, bytes]:
    """The payment link as a QR code: (side, one grey byte per module), quiet zone included.

    Raw pixels, not a PNG: nothing to encode here or decode in Typst. An invoice's link is
    rendered again and again (made, viewed, emailed), so the code is computed once per link.
    """
    code = segno.make(url, error="m", micro=False)
    rows = [bytes(0 if dark else 255 for dark in row) for row in code.matrix_iter(border=4)]
    return len(rows), b"".join(rows)


def _qr(url: str) -> dict[str, Any]:
    side, pixels = qr_pixels(url)
    return {"side": side, "pixels": list(pixels)}


def _business(shop: ShopSettings) -> dict[str, Any]:
    details = shop.business
    contact = [x for x in (details.phone, details.email, details.website) if x.strip()]
    tax_id = details.tax_id.strip()
    return {
        "name": details.name,
        "lines": _lines(details.address) + contact,
        "tax_id": f"{TAX_ID_LABELS.get(shop.currency, 'Tax ID')} {tax_id}" if tax_id else None,
    }


def _client(name: str, email: str | None, client: ClientView | None, shop: ShopSettings) -> Any:
    if client is None:
        return {"name": name, "lines": _lines(email)}
    lines = _lines(client.company) + _lines(client.address) + _lines(client.email)
    lines += _lines(client.phone)
    if client.tax_id:
        lines.append(f"{TAX_ID_LABELS.get(shop.currency, 'Tax ID')} {client.tax_id}")
    return {"name": client.name, "lines": lines}


def client_description(text: str) -> str:
    """A line's text as the client reads it: without the "(estimate)" older lines carry.

    Whether a price came from a slice or an estimate is the counter's business (it is marked
    and confirmed there); the client's document shows the line as any other.
    """
    return _ESTIMATE_MARK.sub("", text)


def _item(item: ItemView, currency: str) -> dict[str, Any]:
    description = client_description(item.description)
    note = None
    if item.discount_type is DiscountType.PERCENT and item.discount_value:
        note = f"Less {format_percent(item.discount_value / 100)} discount"
    elif item.discount_type is DiscountType.FIXED and item.discount_value:
        note = f"Less {format_money(item.discount_value, currency)} discount"
    return {
        "description": _lines(description) or [description],
        "note": note,
        "quantity": format_quantity(item.quantity),
        "unit_price": format_money(item.unit_price, currency),
        "amount": format_money(item.line_total, currency),
    }


def _row(label: str, value: str, style: str = "plain") -> dict[str, str]:
    """One line of the totals box; style is plain, total or balance."""
    return {"label": label, "value": value, "style": style}


def _totals(
    doc: InvoiceView | QuoteView, shop: ShopSettings, *, total_label: str
) -> list[dict[str, str]]:
    money = doc.currency
    rows = [_row("Subtotal", format_money(doc.subtotal, money))]
    if doc.discount_total:
        label = "Discount"
        if doc.discount_type is DiscountType.PERCENT:
            label = f"Discount ({format_percent(doc.discount_value / 100)})"
        rows.append(_row(label, _negative(doc.discount_total, money)))
    if doc.shipping_amount or doc.shipping_label:
        label = f"Shipping ({doc.shipping_label})" if doc.shipping_label else "Shipping"
        rows.append(_row(label, format_money(doc.shipping_amount, money)))
    taxed = doc.tax_rate > 0
    if taxed and not doc.tax_inclusive:
        rows.append(_row(tax_label(shop, doc.tax_rate), format_money(doc.tax_total, money)))
    rows.append(_row(total_label, format_money(doc.total, money), "total"))
    if taxed and doc.tax_inclusive:
        label = f"Includes {tax_label(shop, doc.tax_rate)}"
        rows.append(_row(label, format_money(doc.tax_total, money)))
    return rows


def _common(
    doc: InvoiceView | QuoteView, shop: ShopSettings, client: ClientView | None
) -> dict[str, Any]:
    return {
        "currency_note": f"All amounts in {doc.currency}",
        "business": _business(shop),
        "client": _client(doc.client_name, doc.client_email, client, shop),
        "columns": list(COLUMNS),
        "items": [_item(item, doc.currency) for item in doc.items],
        "notes": _lines(doc.notes),
        "footer": " · ".join(x for x in (shop.business.name, doc.number) if x),
    }


def invoice_document(
    invoice: InvoiceView,
    shop: ShopSettings,
    *,
    payment_url: str | None,
    client: ClientView | None = None,
) -> dict[str, Any]:
    """An invoice as the PDF template reads it.

    "TAX INVOICE" when tax applies (the Australian requirement for a GST invoice). Payment
    instructions appear only while something is owed; a paid or void invoice is stamped.
    """
    money = invoice.currency
    status = invoice.status
    owing = status is InvoiceStatus.PENDING and invoice.balance_due > 0
    totals = _totals(invoice, shop, total_label=f"Total {money}")
    if invoice.amount_paid:
        totals.append(_row("Amount paid", _negative(invoice.amount_paid, money)))
    if status is not InvoiceStatus.VOID:
        totals.append(_row("Balance due", format_money(invoice.balance_due, money), "balance"))
    meta = [["Invoice number", invoice.number], ["Issue date", format_date(invoice.issue_date)]]
    if invoice.due_date is not None and status is not InvoiceStatus.VOID:
        meta.append(["Due date", format_date(invoice.due_date)])
    payment: dict[str, Any] | None = None
    url = (payment_url or "").strip() or None
    bank = _lines(shop.business.bank_details)
    # With neither bank details nor a link there is nothing to say: no empty "How to pay".
    if owing and (bank or url):
        payment = {
            "heading": "How to pay",
            "bank": bank,
            "reference": f"Reference: {invoice.number}",
            "url": url,
            "qr": _qr(url) if url else None,
        }
    elif status is InvoiceStatus.PAID:
        paid_on = format_date(invoice.paid_at.date()) if invoice.paid_at else ""
        meta.append(["Paid", paid_on or "In full"])
    stamp = {
        InvoiceStatus.PAID: {"text": "PAID", "color": GREEN},
        InvoiceStatus.VOID: {"text": "VOID", "color": RED},
    }.get(status)
    return {
        **_common(invoice, shop, client),
        "kind": "invoice",
        "title": "TAX INVOICE" if invoice.tax_rate > 0 else "INVOICE",
        "number": invoice.number,
        "meta": meta,
        "highlight": (
            {"label": "Amount due", "value": format_money(invoice.balance_due, money)}
            if owing
            else None
        ),
        "stamp": stamp,
        "totals": totals,
        "payment": payment,
        "closing": "Thank you for your business." if status is not InvoiceStatus.VOID else None,
    }


def quote_document(
    quote: QuoteView, shop: ShopSettings, *, client: ClientView | None = None
) -> dict[str, Any]:
    money = quote.currency
    meta = [["Quote number", quote.number], ["Issue date", format_date(quote.issue_date)]]
    if quote.expiry_date is not None:
        meta.append(["Valid until", format_date(quote.expiry_date)])
    stamp = None
    if quote.status is QuoteStatus.DECLINED:
        stamp = {"text": "DECLINED", "color": RED}
    elif quote.expired:
        stamp = {"text": "EXPIRED", "color": GREY}
    contact = shop.business.email or shop.business.phone
    closing = "To go ahead, reply to this quote" + (
        f" or contact us at {contact}." if contact else "."
    )
    return {
        **_common(quote, shop, client),
        "kind": "quote",
        "title": "QUOTE",
        "number": quote.number,
        "meta": meta,
        "highlight": {"label": "Quote total", "value": format_money(quote.total, money)},
        "stamp": stamp,
        "totals": _totals(quote, shop, total_label=f"Total {money}"),
        "payment": None,
        "closing": closing,
    }
