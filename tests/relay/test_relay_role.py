"""The relay's database work runs with the least-privilege role printdesk_relay."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import psycopg
import pytest
from psycopg import sql
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ProgrammingError

from core.actor import Actor
from core.config import AppConfig
from core.db.engine import Database
from core.enums import InvoiceStatus
from relay.app import create_app
from tests.conftest import PgCluster
from tests.relay import stripe_payloads as sp
from tests.relay.conftest import RELAY_ROLE, counts, deliver, http, invoice_view, new_invoice


@pytest.fixture
def login_role(pg_cluster: PgCluster) -> Iterator[str]:
    """A login role such as a deployment gives the relay: it only inherits printdesk_relay."""
    role = f"relay_login_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(pg_cluster.admin_uri, autocommit=True) as conn:
        conn.execute(
            sql.SQL("CREATE ROLE {} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE IN ROLE {}").format(
                sql.Identifier(role), sql.Identifier(RELAY_ROLE)
            )
        )
    yield role
    with psycopg.connect(pg_cluster.admin_uri, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(role)))


@pytest.mark.anyio
async def test_paid_flow_and_refund_through_a_login_role_granted_the_relay_role(
    login_role: str,
    db_url: str,
    relay_config: AppConfig,
    database: Database,
    admin: Actor,
    secret: str,
) -> None:
    url = make_url(db_url).set(username=login_role).render_as_string(hide_password=False)
    relay_db = Database.from_url(url)
    try:
        with relay_db.engine.connect() as conn:
            assert conn.scalar(text("SELECT current_user")) == login_role
            assert conn.scalar(
                text("SELECT pg_has_role(current_user, :r, 'USAGE')"), {"r": RELAY_ROLE}
            )
            with pytest.raises(ProgrammingError, match="permission denied"):
                conn.execute(text("SELECT password_hash FROM users"))
        inv = new_invoice(database, admin)
        cs = sp.checkout_session(invoice_id=inv.id, amount_cents=11000)
        re = sp.refund(amount_cents=1000, payment_intent=cs["payment_intent"])
        async with http(create_app(relay_config, relay_db)) as client:
            paid = await deliver(client, sp.event("checkout.session.completed", cs), secret)
            refunded = await deliver(client, sp.event("refund.created", re), secret)
            expired = await deliver(
                client, sp.event("checkout.session.expired", {**cs, "status": "expired"}), secret
            )
            health = await client.get("/healthz")
    finally:
        relay_db.dispose()
    assert [r.status_code for r in (paid, refunded, expired, health)] == [200] * 4
    assert [r.json()["outcome"] for r in (paid, refunded, expired)] == [
        "recorded",
        "refunded",
        "session_stale",
    ]
    after = invoice_view(database, inv.id)
    assert after.status is InvoiceStatus.PENDING and after.balance_due == 10
    assert counts(database) == {"events": 3, "payments": 1, "refunds": 1}
