from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from core.actor import Actor
from core.db.engine import Database
from core.db.models import ActivityEntry, Invoice, Job
from core.enums import DiscountType, InvoiceStatus, PaymentMethod
from core.errors import Conflict, InvalidInput, NotAllowed, NotFound
from core.services import invoices, payments
from core.services.line_items import DocumentTerms
from core.services.payments import NewPayment
from tests.factories import item, make_client


def test_create_invoice_numbers_totals_and_job(database: Database, admin: Actor) -> None:
    client = make_client(database)
    with database.session() as s:
        inv = invoices.create_invoice(
            s,
            admin,
            client,
            [item("Bracket", "3", "19.99"), item("Setup", "1", "20.00")],
            DocumentTerms(
                discount_type=DiscountType.PERCENT,
                discount_value=Decimal("10"),
                shipping_label="Metro",
                shipping_amount=Decimal("12.50"),
            ),
        )
    # 3 × 19.99 = 59.97; + 20 = 79.97; −10 % = 7.997 → 8.00 off → 71.97; + 12.50 = 84.47;
    # GST 10 % = 8.447 → 8.45; total 92.92
    assert inv.number == "INV-0001"
    assert inv.subtotal == Decimal("79.97")
    assert inv.discount_total == Decimal("8.00")
    assert inv.tax_total == Decimal("8.45")
    assert inv.total == Decimal("92.92")
    assert inv.balance_due == Decimal("92.92")
    assert inv.status is InvoiceStatus.PENDING
    assert inv.due_date == inv.issue_date + dt.timedelta(days=14)
    with database.session() as s:
        assert s.scalar(select(func.count()).select_from(Job)) == 1  # ON_INVOICE default
        assert s.scalar(select(ActivityEntry.action)) == "invoice.created"


def test_bad_items_write_nothing(database: Database, admin: Actor) -> None:
    client = make_client(database)
    with database.session() as s:
        with pytest.raises(InvalidInput, match="Line 2: the quantity"):
            invoices.create_invoice(s, admin, client, [item(), item(qty="0")])
        with pytest.raises(InvalidInput, match="at least one line item"):
            invoices.create_invoice(s, admin, client, [])
        with pytest.raises(NotFound, match="No client with id 999"):
            invoices.create_invoice(s, admin, 999, [item()])
        assert s.scalar(select(func.count()).select_from(Invoice)) == 0


def test_staff_may_not_void_write_off_or_delete(
    database: Database, admin: Actor, staff: Actor
) -> None:
    client = make_client(database)
    with database.session() as s:
        inv = invoices.create_invoice(s, staff, client, [item()])
        with pytest.raises(NotAllowed, match="Only an admin may void invoices"):
            invoices.void_invoice(s, staff, inv.id)
        with pytest.raises(NotAllowed, match="Only an admin may write off invoices"):
            invoices.write_off_invoice(s, staff, inv.id)
        with pytest.raises(NotAllowed, match="Only an admin may delete invoices"):
            invoices.delete_invoice(s, staff, inv.id)
        assert invoices.get_invoice(s, inv.id).status is InvoiceStatus.PENDING


def test_void_cancels_the_job_and_refuses_payments(database: Database, admin: Actor) -> None:
    client = make_client(database)
    with database.session() as s:
        inv = invoices.create_invoice(s, admin, client, [item()])
        voided = invoices.void_invoice(s, admin, inv.id, "client cancelled")
        assert voided.status is InvoiceStatus.VOID and voided.balance_due == 0
        with pytest.raises(Conflict, match="is void; a payment cannot be recorded"):
            payments.record_payment(
                s, admin, inv.id, NewPayment(Decimal("10.00"), PaymentMethod.CASH)
            )
        assert s.scalar(select(Job.status)) == "CANCELLED"


def test_delete_refused_with_payments_allowed_without(database: Database, admin: Actor) -> None:
    client = make_client(database)
    with database.session() as s:
        paid = invoices.create_invoice(s, admin, client, [item()])
        payments.record_payment(s, admin, paid.id, NewPayment(Decimal("5.00"), PaymentMethod.CASH))
        with pytest.raises(Conflict, match="has payments recorded"):
            invoices.delete_invoice(s, admin, paid.id)
        other = invoices.create_invoice(s, admin, client, [item()])
        assert invoices.delete_invoice(s, admin, other.id) == other.number
        with pytest.raises(NotFound):
            invoices.get_invoice(s, other.id)


def test_edit_with_stale_version_is_a_conflict(database: Database, admin: Actor) -> None:
    client = make_client(database)
    with database.session() as s:
        inv = invoices.create_invoice(s, admin, client, [item()])
        edited = invoices.update_invoice(
            s, admin, inv.id, [item(price="150.00")], DocumentTerms(), expected_version=inv.version
        )
        assert edited.total == Decimal("165.00") and edited.balance_due == Decimal("165.00")
        with pytest.raises(Conflict, match="changed elsewhere"):
            invoices.update_invoice(
                s,
                admin,
                inv.id,
                [item(price="1.00")],
                DocumentTerms(),
                expected_version=inv.version,
            )
        assert invoices.get_invoice(s, inv.id).total == Decimal("165.00")


def test_edit_cannot_go_below_what_is_paid(database: Database, admin: Actor) -> None:
    client = make_client(database)
    with database.session() as s:
        inv = invoices.create_invoice(s, admin, client, [item()])
        after = payments.record_payment(
            s, admin, inv.id, NewPayment(Decimal("80.00"), PaymentMethod.CASH)
        )
        with pytest.raises(Conflict, match="cannot go below"):
            invoices.update_invoice(
                s,
                admin,
                inv.id,
                [item(price="10.00")],
                DocumentTerms(),
                expected_version=after.version,
            )


def test_overdue_is_derived_and_filterable(database: Database, admin: Actor) -> None:
    client = make_client(database)
    past = dt.date.today() - dt.timedelta(days=40)
    with database.session() as s:
        late = invoices.create_invoice(
            s, admin, client, [item()], issue_date=past, due_date=past + dt.timedelta(days=14)
        )
        invoices.create_invoice(s, admin, client, [item()])
        rows = invoices.list_invoices(s, invoices.InvoiceFilter(status="OVERDUE"))
        assert [r.id for r in rows] == [late.id]
        assert rows[0].display_status == "OVERDUE"
        assert invoices.count_invoices(s, invoices.InvoiceFilter(status="PENDING")) == 2
        assert invoices.count_invoices(s, invoices.InvoiceFilter(text="ada")) == 2
        assert invoices.count_invoices(s, invoices.InvoiceFilter(text="INV-0002")) == 1
