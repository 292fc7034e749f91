"""Deleting a document queues the storage objects of the files that belonged to it alone."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from core.actor import Actor
from core.db.engine import Database
from core.db.models import OrderFile, StorageDeletion
from core.services import invoices, quotes
from tests.factories import item, make_client


def _file(
    database: Database, client: int, *, quote: int | None, invoice: int | None, key: str
) -> int:
    with database.session() as s, s.begin():
        row = OrderFile(
            client_id=client,
            quote_id=quote,
            invoice_id=invoice,
            filename=f"{key}.stl",
            bucket="order-files",
            storage_key=f"{client}/{key}/{key}.stl",
            sha256="0" * 64,
            size_bytes=84,
            mime_type="model/stl",
        )
        s.add(row)
        s.flush()
        return row.id


def _queued(database: Database) -> list[str]:
    with database.session() as s:
        return sorted(s.scalars(select(StorageDeletion.key)))


def test_order_file_must_belong_to_a_document(database: Database) -> None:
    client = make_client(database)
    with pytest.raises(IntegrityError, match="belongs_to_document"):
        _file(database, client, quote=None, invoice=None, key="loose")


def test_deleting_documents_queues_only_their_own_files(database: Database, admin: Actor) -> None:
    client = make_client(database)
    with database.session() as s:
        q = quotes.create_quote(s, admin, client, [item()])
        inv = quotes.convert_to_invoice(s, admin, q.id)
    shared = _file(database, client, quote=q.id, invoice=inv.id, key="shared")
    _file(database, client, quote=None, invoice=inv.id, key="invoice-only")
    _file(database, client, quote=q.id, invoice=None, key="quote-only")

    with database.session() as s:
        invoices.delete_invoice(s, admin, inv.id)
    assert _queued(database) == [f"{client}/invoice-only/invoice-only.stl"]
    with database.session() as s:
        kept = s.get(OrderFile, shared)
        assert kept is not None and kept.invoice_id is None and kept.quote_id == q.id

    with database.session() as s:
        quotes.delete_quote(s, admin, q.id)
        assert s.scalars(select(OrderFile)).all() == []
    assert _queued(database) == sorted(
        f"{client}/{k}/{k}.stl" for k in ("invoice-only", "quote-only", "shared")
    )
