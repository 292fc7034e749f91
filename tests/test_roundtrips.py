"""Round trips per counter action, counted as psycopg talks (BEGIN, statements, COMMIT and the
pool's pre-ping): a counter 60 ms from its database waits 60 ms for each, so they stay few."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import text

from core.actor import Actor
from core.db.engine import Database
from core.enums import PaymentMethod
from core.services import invoices, payments, quotes, tmp_files
from core.services.payments import NewPayment
from core.services.quick_orders import (
    QuickOrderKind,
    QuickOrderLine,
    QuickOrderSpec,
    make_quick_order,
)
from core.storage import LocalStorage
from tests.factories import item, make_client
from tests.roundtrips import RoundTrips, WireTrace

MOST = 5  # issue 12: each of these actions in at most 5 round trips
MODELS = next(
    p / "shared" / "models"
    for p in Path(__file__).resolve().parents
    if (p / "shared" / "models").is_dir()
)


@pytest.fixture
def trips(database: Database) -> RoundTrips:
    with database.session() as s, s.begin():  # a pooled connection, as in a running app
        s.execute(text("SELECT 1"))
    return RoundTrips(database.engine)


@pytest.fixture
def storage(tmp_path: Path) -> LocalStorage:
    store = LocalStorage(tmp_path / "storage")
    store.ensure_buckets()
    return store


LINES = [item("Bracket", "3", "19.99"), item("Setup", "1", "20.00")]


def test_create_invoice(database: Database, admin: Actor, trips: RoundTrips) -> None:
    client = make_client(database)
    with trips.measure() as counted, database.session() as s:
        made = invoices.create_invoice(s, admin, client, LINES)
    assert made.total == Decimal("87.97")
    assert counted.count <= MOST, counted


def test_create_quote(database: Database, admin: Actor, trips: RoundTrips) -> None:
    client = make_client(database)
    with trips.measure() as counted, database.session() as s:
        made = quotes.create_quote(s, admin, client, LINES)
    assert made.total == Decimal("87.97")
    assert counted.count <= MOST, counted


def test_convert_quote(database: Database, admin: Actor, trips: RoundTrips) -> None:
    client = make_client(database)
    with database.session() as s:
        quote = quotes.create_quote(s, admin, client, LINES)
    with trips.measure() as counted, database.session() as s:
        made = quotes.convert_to_invoice(s, admin, quote.id)
    assert made.source_quote_id == quote.id and made.total == quote.total
    assert counted.count <= MOST, counted


def test_record_payment(database: Database, admin: Actor, trips: RoundTrips) -> None:
    client = make_client(database)
    with database.session() as s:
        invoice = invoices.create_invoice(s, admin, client, LINES)
    with trips.measure() as counted, database.session() as s:
        paid = payments.record_payment(
            s, admin, invoice.id, NewPayment(Decimal("20.00"), PaymentMethod.CASH)
        )
    assert paid.balance_due == Decimal("67.97")
    assert counted.count <= MOST, counted


def test_make_quick_order(
    database: Database, admin: Actor, trips: RoundTrips, storage: LocalStorage
) -> None:
    client = make_client(database)
    with database.session() as s:
        ups = [
            tmp_files.upload_tmp(s, admin, storage, p.name, p)
            for p in (MODELS / "20mm-xyz-cube.stl", MODELS / "wallhole.obj")
        ]
    order = QuickOrderSpec(
        QuickOrderKind.INVOICE, client, [QuickOrderLine(u.id, item(u.filename)) for u in ups]
    )
    with trips.measure() as counted, database.session() as s:
        made = make_quick_order(s, admin, order, storage)
    assert len(made.order_file_ids) == 2
    assert counted.count <= MOST, counted


@pytest.fixture
def traced(db_url: str, tmp_path: Path) -> Iterator[tuple[Database, WireTrace]]:
    db = Database.from_url(db_url)
    trace = WireTrace(db.engine, tmp_path / "libpq.trace")
    yield db, trace
    trace.close()
    db.dispose()


def test_the_counter_counts_what_goes_over_the_wire(
    traced: tuple[Database, WireTrace], admin: Actor
) -> None:
    """libpq's protocol trace agrees with the counter: every Query or Sync is one wait."""
    db, wire = traced
    client = make_client(db)
    trips = RoundTrips(db.engine)
    with db.session() as s:
        invoice = invoices.create_invoice(s, admin, client, LINES)
    before = wire.waits()
    with trips.measure() as counted, db.session() as s:
        payments.record_payment(s, admin, invoice.id, NewPayment(Decimal("5"), PaymentMethod.CASH))
        invoices.get_invoice(s, invoice.id)
    assert counted.count == wire.waits() - before > 0, counted
