"""An invoice's or a quote's PDF kept in the ``pdfs`` bucket, so the counter can open it and
email it.

The object key comes from the invoice number (``invoices/INV-0007.pdf``), so storing again
overwrites the same object. The object is written first and ``invoice.pdf_key`` set after, in
one short transaction: if that update fails, the next store overwrites the same object, and
nothing points at a half-made file. When the key does change (an older key), the trigger on
``invoices.pdf_key`` queues the old object and it is deleted right after the commit.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from sqlalchemy import select

from core.actor import Actor
from core.db.engine import Database
from core.db.models import Quote
from core.documents import pdf_key_for, render_invoice_pdf, render_quote_pdf
from core.errors import NotFound
from core.services import activity, clients, invoices, quotes
from core.services import settings as shop_settings
from core.services.maintenance import after_commit_drain
from core.storage import PDFS, Storage

log = logging.getLogger(__name__)

PDF_CONTENT_TYPE = "application/pdf"
# How long the viewing link lasts; a local file link stays readable as long as the file exists.
VIEW_LINK_S = 60 * 60


@dataclass(frozen=True)
class StoredPdf:
    key: str  # in the pdfs bucket
    url_or_path: str  # a signed link for viewing (file:// for local storage)
    bytes_len: int
    pdf: bytes = field(default=b"", repr=False, compare=False)  # what was stored, for email


def store_invoice_pdf(
    db: Database,
    storage: Storage,
    actor: Actor,
    invoice_id: int,
    *,
    payment_url: str | None = None,
    link_expires_in: int = VIEW_LINK_S,
) -> StoredPdf:
    """Render the invoice, put it in the ``pdfs`` bucket and point ``invoice.pdf_key`` at it."""
    with db.session() as session:
        view = invoices.get_invoice(session, invoice_id)
        shop, _ = shop_settings.get_settings(session)
        client = clients.get_client(session, view.client_id)
    pdf = render_invoice_pdf(view, shop, payment_url=payment_url, client=client)
    key = pdf_key_for("invoice", view.number)
    storage.put(PDFS, key, pdf, PDF_CONTENT_TYPE, upsert=True)

    with db.session() as session, session.begin():
        row = invoices.get_invoice_row(session, invoice_id, lock=True)
        previous = row.pdf_key
        if previous != key:
            row.pdf_key = key
            activity.record(
                session,
                actor,
                "invoice.pdf",
                "invoice",
                row.id,
                f"Stored the PDF of {row.number}",
                {"key": key},
            )
    if previous is not None and previous != key:
        after_commit_drain(db, storage)  # the trigger queued the old object
    log.info("invoice_pdf.stored invoice=%s key=%s bytes=%d", invoice_id, key, len(pdf))
    url = storage.signed_url(PDFS, key, link_expires_in)
    return StoredPdf(key=key, url_or_path=url, bytes_len=len(pdf), pdf=pdf)


def store_quote_pdf(
    db: Database,
    storage: Storage,
    actor: Actor,
    quote_id: int,
    *,
    link_expires_in: int = VIEW_LINK_S,
) -> StoredPdf:
    """Render the quote, put it in the ``pdfs`` bucket and point ``quote.pdf_key`` at it."""
    with db.session() as session:
        view = quotes.get_quote(session, quote_id)
        shop, _ = shop_settings.get_settings(session)
        client = clients.get_client(session, view.client_id)
    pdf = render_quote_pdf(view, shop, client=client)
    key = pdf_key_for("quote", view.number)
    storage.put(PDFS, key, pdf, PDF_CONTENT_TYPE, upsert=True)

    with db.session() as session, session.begin():
        row = session.scalars(select(Quote).where(Quote.id == quote_id).with_for_update()).first()
        if row is None:
            raise NotFound(f"No quote with id {quote_id}.")
        previous = row.pdf_key
        if previous != key:
            row.pdf_key = key
            activity.record(
                session,
                actor,
                "quote.pdf",
                "quote",
                row.id,
                f"Stored the PDF of {row.number}",
                {"key": key},
            )
    if previous is not None and previous != key:
        after_commit_drain(db, storage)  # the trigger queued the old object
    log.info("quote_pdf.stored quote=%s key=%s bytes=%d", quote_id, key, len(pdf))
    url = storage.signed_url(PDFS, key, link_expires_in)
    return StoredPdf(key=key, url_or_path=url, bytes_len=len(pdf), pdf=pdf)
