"""Fixtures for the relay: its app over the relay role's connection, and signed deliveries."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url
from starlette.applications import Starlette

from core.actor import Actor
from core.config import AppConfig
from core.db.engine import Database
from core.db.models import Invoice, Payment, Refund, WebhookEvent
from core.services import invoices
from relay.app import create_app
from tests.factories import item, make_client
from tests.relay import stripe_payloads as sp

RELAY_ROLE = "printdesk_relay"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def secret() -> str:
    return f"whsec_{uuid.uuid4().hex}"


@pytest.fixture
def relay_config(secret: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AppConfig:
    monkeypatch.setenv("PRINTDESK_CONFIG", str(tmp_path / "none.toml"))
    monkeypatch.delenv("STRIPE_WEBHOOK_SECRET", raising=False)
    return AppConfig(
        stripe_webhook_secret=secret,
        relay_max_body_bytes=64 * 1024,
        relay_maintenance_interval_s=300,
        data_dir=tmp_path / "data",
    )


def as_relay_role(url: str) -> str:
    """The same database, every connection switched to the relay's role as it starts."""
    parsed = make_url(url).update_query_dict({"options": f"-c role={RELAY_ROLE}"})
    return parsed.render_as_string(hide_password=False)


@pytest.fixture
def relay_db(db_url: str) -> Iterator[Database]:
    db = Database.from_url(as_relay_role(db_url), pool_size=20)
    yield db
    db.dispose()


@pytest.fixture
def relay_app(relay_config: AppConfig, relay_db: Database) -> Starlette:
    return create_app(relay_config, relay_db)


@asynccontextmanager
async def http(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://relay.test") as client:
        yield client


async def deliver(
    client: httpx.AsyncClient,
    evt: dict[str, Any],
    secret: str,
    *,
    timestamp: int | None = None,
) -> httpx.Response:
    body = sp.encode(evt)
    return await client.post(
        "/stripe/webhook",
        content=body,
        headers={
            "Stripe-Signature": sp.sign(body, secret, timestamp),
            "Content-Type": "application/json",
        },
    )


def new_invoice(database: Database, admin: Actor, price: str = "100.00") -> invoices.InvoiceView:
    """An invoice of ``price`` + 10 % GST (110.00 for the default)."""
    client = make_client(database)
    with database.session() as s:
        return invoices.create_invoice(s, admin, client, [item(price=price)])


def invoice_view(database: Database, invoice_id: int) -> invoices.InvoiceView:
    with database.session() as s:
        return invoices.get_invoice(s, invoice_id)


def counts(database: Database) -> dict[str, int]:
    with database.session() as s:
        return {
            name: int(s.scalar(select(func.count()).select_from(model)) or 0)
            for name, model in (
                ("events", WebhookEvent),
                ("payments", Payment),
                ("refunds", Refund),
            )
        }


def event_outcome(database: Database, event_id: str) -> str | None:
    with database.session() as s:
        return s.scalar(select(WebhookEvent.outcome).where(WebhookEvent.event_id == event_id))


def set_session(database: Database, invoice_id: int, session_id: str, cents: int) -> None:
    """What creating a Checkout link leaves on the invoice."""
    with database.session() as s, s.begin():
        inv = s.get(Invoice, invoice_id)
        assert inv is not None
        inv.stripe_session_id = session_id
        inv.stripe_checkout_url = f"https://checkout.stripe.com/c/pay/{session_id}"
        inv.stripe_session_amount_cents = cents
        inv.stripe_session_expires_at = func.now() + func.make_interval(0, 0, 0, 0, 1)


def cents(amount: Decimal) -> int:
    return int(amount * 100)
