"""The editor's opening read: the same invoice as `get_invoice` says, in few round trips."""

from __future__ import annotations

from decimal import Decimal

import pytest

from core.actor import Actor
from core.db.engine import Database
from core.enums import PaymentMethod
from core.errors import NotFound
from core.services import editor_reads, invoices, payments
from core.services import settings as shop_settings
from core.services.payments import NewPayment, NewRefund
from tests.factories import item, make_client
from tests.roundtrips import RoundTrips


def test_open_invoice_reads_what_get_invoice_reads_in_one_transaction(
    database: Database, admin: Actor
) -> None:
    client = make_client(database)
    with database.session() as s:
        shop_settings.update_settings(s, admin, {"tax": {"rate": "0.15", "name": "GST"}})
    with database.session() as s:
        inv = invoices.create_invoice(
            s, admin, client, [item(f"Part {n}", "2", "10.00") for n in range(4)]
        )
    with database.session() as s:
        first = payments.record_payment(
            s, admin, inv.id, NewPayment(Decimal("20.00"), PaymentMethod.CASH)
        )
        payments.record_payment(s, admin, inv.id, NewPayment(Decimal("30.00"), PaymentMethod.OTHER))
        payment_id = first.payments[0].id
        payments.record_refund(s, admin, NewRefund(payment_id, Decimal("5.00")))
        payments.record_refund(s, admin, NewRefund(payment_id, Decimal("2.50")))
    with database.session() as s:
        expected = invoices.get_invoice(s, inv.id)

    trips = RoundTrips(database.engine)
    with database.session() as s, trips.measure():
        opened = editor_reads.open_invoice(s, inv.id)
    assert opened.invoice == expected
    assert [r.amount for r in opened.invoice.refunds] == [Decimal("5.00"), Decimal("2.50")]
    assert len(opened.invoice.payments) == 2 and len(opened.invoice.items) == 4
    assert opened.shop.tax.name == "GST" and opened.attachments == []
    # BEGIN, the invoice with its terms, client and lines, payments with refunds, attachments,
    # COMMIT (and a pooled connection's pre-ping, when the pool pings)
    assert trips.count <= 6, trips.statements


def test_open_invoice_of_a_deleted_invoice_says_so(database: Database) -> None:
    with database.session() as s, pytest.raises(NotFound, match="No invoice with id 999"):
        editor_reads.open_invoice(s, 999)
