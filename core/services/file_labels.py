"""What a page of order files is shown with: each file's client name and document numbers,
read for the whole page in one statement (not one query per file)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.db.models import Client, Invoice, OrderFile, Quote
from core.services import order_files
from core.services.order_files import OrderFileView


@dataclass(frozen=True)
class FileLabel:
    client_name: str
    quote_number: str | None
    invoice_number: str | None


def labels_of(session: Session, files: Sequence[OrderFileView]) -> dict[int, FileLabel]:
    """Client name and quote/invoice numbers by file id, in one statement."""
    if not files:
        return {}
    query = (
        select(OrderFile.id, Client.name, Quote.number, Invoice.number)
        .join(Client, Client.id == OrderFile.client_id)
        .outerjoin(Quote, Quote.id == OrderFile.quote_id)
        .outerjoin(Invoice, Invoice.id == OrderFile.invoice_id)
        .where(OrderFile.id.in_([f.id for f in files]))
    )
    with session.begin():
        return {
            file_id: FileLabel(name, quote, invoice)
            for file_id, name, quote, invoice in session.execute(query)
        }


def labelled_page(
    session: Session,
    *,
    client_id: int | None = None,
    quote_id: int | None = None,
    invoice_id: int | None = None,
    limit: int = 200,
    offset: int = 0,
) -> list[tuple[OrderFileView, FileLabel]]:
    """A page of files newest first with their labels: two statements."""
    files = order_files.list_order_files(
        session,
        client_id=client_id,
        quote_id=quote_id,
        invoice_id=invoice_id,
        limit=limit,
        offset=offset,
    )
    labels = labels_of(session, files)
    missing = FileLabel("", None, None)  # deleted between the two statements
    return [(f, labels.get(f.id, missing)) for f in files]
