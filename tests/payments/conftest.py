"""Fixtures for payment links: the Stripe stand-in on loopback and a gateway pointed at it."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from core.actor import Actor
from core.db.engine import Database
from core.db.models import ActivityEntry, Invoice, Payment
from core.enums import PaymentMethod
from core.payments.stripe_client import StripeGateway
from core.services import invoices, payments
from tests.factories import item, make_client
from tests.stripe_standin import StripeStandin

SUCCESS_URL = "https://shop.example/paid?invoice={INVOICE_NUMBER}&cs={CHECKOUT_SESSION_ID}"
CANCEL_URL = "https://shop.example/cancelled?invoice={INVOICE_NUMBER}"


@pytest.fixture
def standin() -> Iterator[StripeStandin]:
    with StripeStandin() as server:
        yield server


def gateway_for(standin: StripeStandin, *, retries: int = 0) -> StripeGateway:
    return StripeGateway(
        standin.api_key,
        api_base=standin.url,
        success_url=SUCCESS_URL,
        cancel_url=CANCEL_URL,
        max_network_retries=retries,
        timeout_s=10,
    )


@pytest.fixture
def gateway(standin: StripeStandin) -> Iterator[StripeGateway]:
    gw = gateway_for(standin)
    yield gw
    gw.close()


def new_invoice(
    database: Database,
    admin: Actor,
    price: str = "100.00",
    qty: str = "1",
    email: str | None = "ada@example.com",
) -> invoices.InvoiceView:
    """An invoice of ``qty`` × ``price`` + 10 % GST (110.00 for the defaults)."""
    client = make_client(database, email=email)
    with database.session() as s:
        return invoices.create_invoice(s, admin, client, [item(price=price, qty=qty)])


def view(database: Database, invoice_id: int) -> invoices.InvoiceView:
    with database.session() as s:
        return invoices.get_invoice(s, invoice_id)


def invoice_row(database: Database, invoice_id: int) -> Invoice:
    with database.session() as s:
        row = s.get(Invoice, invoice_id)
        assert row is not None
        return row


def pay_cash(database: Database, admin: Actor, invoice_id: int, amount: str) -> None:
    with database.session() as s:
        payments.record_payment(
            s, admin, invoice_id, payments.NewPayment(Decimal(amount), PaymentMethod.CASH)
        )


def stripe_payments(database: Database) -> list[Payment]:
    with database.session() as s:
        return list(
            s.scalars(select(Payment).where(Payment.processor == "stripe").order_by(Payment.id))
        )


def activity_count(database: Database) -> int:
    with database.session() as s:
        return int(s.scalar(select(func.count()).select_from(ActivityEntry)) or 0)


def actions(database: Database, invoice_id: int) -> list[str]:
    with database.session() as s:
        return list(
            s.scalars(
                select(ActivityEntry.action)
                .where(
                    ActivityEntry.entity_type == "invoice", ActivityEntry.entity_id == invoice_id
                )
                .order_by(ActivityEntry.id)
            )
        )
