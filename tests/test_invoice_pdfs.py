"""Invoice PDFs kept in the pdfs bucket: on the real database and local storage."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from core.actor import Actor
from core.db.engine import Database
from core.db.models import Invoice, StorageDeletion
from core.errors import NotFound
from core.services.invoice_pdfs import store_invoice_pdf
from core.services.maintenance import check_storage
from core.storage import PDFS, LocalStorage
from tests.payments.conftest import new_invoice


@pytest.fixture
def storage(tmp_path: Path) -> LocalStorage:
    store = LocalStorage(tmp_path / "storage")
    store.ensure_buckets()
    return store


def pdf_key(database: Database, invoice_id: int) -> str | None:
    with database.session() as s:
        return s.scalar(select(Invoice.pdf_key).where(Invoice.id == invoice_id))


def test_stores_the_pdf_and_points_the_invoice_at_it(
    database: Database, admin: Actor, storage: LocalStorage
) -> None:
    invoice = new_invoice(database, admin)
    stored = store_invoice_pdf(database, storage, admin, invoice.id)

    assert stored.key == f"invoices/{invoice.number}.pdf"
    assert pdf_key(database, invoice.id) == stored.key
    body = storage.get(PDFS, stored.key)
    assert body.startswith(b"%PDF") and len(body) == stored.bytes_len == len(stored.pdf)
    # The viewing link is a signed local file link that reads back the same bytes.
    assert stored.url_or_path.startswith("file://")
    assert storage.read_signed_url(stored.url_or_path) == body
    check = check_storage(database, storage)
    assert check.clean, check
    assert f"{PDFS}/{stored.key}" not in check.orphan_objects


def test_storing_again_overwrites_the_one_object(
    database: Database, admin: Actor, storage: LocalStorage
) -> None:
    invoice = new_invoice(database, admin)
    first = store_invoice_pdf(database, storage, admin, invoice.id)
    second = store_invoice_pdf(
        database, storage, admin, invoice.id, payment_url="https://checkout.example/pay/cs_1"
    )

    assert second.key == first.key
    assert storage.list(PDFS) == [first.key]
    # The link (as text and QR code) makes the second PDF larger, and it replaced the first.
    assert second.bytes_len > first.bytes_len
    assert storage.get(PDFS, first.key) == second.pdf
    with database.session() as s:
        assert s.scalars(select(StorageDeletion)).all() == []  # same key: nothing queued
    assert check_storage(database, storage).clean


def test_a_missing_invoice_stores_nothing(
    database: Database, admin: Actor, storage: LocalStorage
) -> None:

    with pytest.raises(NotFound):
        store_invoice_pdf(database, storage, admin, 999_999)
    assert storage.list(PDFS) == []
