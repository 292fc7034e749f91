"""What the quote and invoice editor reads to open a document, in as few statements as it can:
the counter may be a region away from its database, and each statement is a round trip."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from core.db.models import Attachment, Client, Invoice, Payment, Refund, ShopSettingsRow
from core.errors import NotFound
from core.services import attachments, invoices, quotes
from core.services import settings as shop_settings
from core.services.attachments import AttachmentView
from core.services.invoices import InvoiceView
from core.services.quotes import QuoteView
from core.shop_settings import ShopSettings


@dataclass(frozen=True)
class OpenedInvoice:
    shop: ShopSettings
    invoice: InvoiceView
    attachments: list[AttachmentView]


def open_invoice(session: Session, invoice_id: int) -> OpenedInvoice:
    """The shop's terms, the invoice (lines, client, payments, refunds) and its attachments in
    three statements, however many lines and payments it has."""
    shop_data = select(ShopSettingsRow.data).where(ShopSettingsRow.id == 1).scalar_subquery()
    with session.begin():
        found = (
            session.execute(
                select(Invoice, Client, shop_data)
                .join(Client, Client.id == Invoice.client_id)
                .where(Invoice.id == invoice_id)
                .options(joinedload(Invoice.items))
            )
            .unique(lambda row: row[0].id)  # one row per line: the invoice is the same
            .one_or_none()
        )
        if found is None:
            raise NotFound(f"No invoice with id {invoice_id}.")
        invoice, client, data = found
        # A refund always belongs to one of the invoice's payments: one join reads both.
        paid = session.execute(
            select(Payment, Refund)
            .outerjoin(Refund, Refund.payment_id == Payment.id)
            .where(Payment.invoice_id == invoice_id)
            .order_by(Payment.id, Refund.id)
        ).all()
        payments = list({p.id: p for p, _r in paid}.values())
        refunds = sorted((r for _p, r in paid if r is not None), key=lambda r: r.id)
        view = invoices.view_from(invoice, client, payments, refunds)
        rows = session.scalars(
            select(Attachment).where(Attachment.invoice_id == invoice_id).order_by(Attachment.id)
        ).all()
        listed = [attachments.view_of(row) for row in rows]
    shop = (
        ShopSettings.model_validate(data)
        if data is not None
        else shop_settings.get_settings(session)[0]  # a hand-migrated database: the seed row
    )
    return OpenedInvoice(shop, view, listed)


def open_quote(session: Session, quote_id: int) -> tuple[ShopSettings, QuoteView]:
    """The shop's terms and the quote."""
    shop = shop_settings.get_settings(session)[0]
    return shop, quotes.get_quote(session, quote_id)
