"""The relay's database role may record payments and nothing it has no business touching."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import ProgrammingError

from core.actor import Actor
from core.db.engine import Database
from core.services import invoices
from tests.factories import item, make_client

ALLOWED = [
    "INSERT INTO payments (invoice_id, method, amount, currency, processor, processor_id) "
    "VALUES (:inv, 'STRIPE', 1.00, 'AUD', 'stripe', 'pi_x')",
    "INSERT INTO webhook_events (event_id, type, payload) VALUES ('evt_1', 't', '{}')",
    "UPDATE invoices SET status = 'PAID', balance_due = 0, amount_paid = 110 WHERE id = :inv",
    "INSERT INTO activity_log (actor_label, action, entity_type, message) "
    "VALUES ('relay', 'x', 'invoice', 'm')",
    "SELECT number, total FROM invoices WHERE id = :inv",
]
FORBIDDEN = [
    "DELETE FROM invoices WHERE id = :inv",
    "UPDATE invoices SET total = 1 WHERE id = :inv",
    "DELETE FROM payments",
    "UPDATE payments SET amount = 1",
    "INSERT INTO users (email, role, password_hash) VALUES ('x@y.z', 'ADMIN', 'h')",
    "SELECT password_hash FROM users",
    "UPDATE settings SET data = '{}'",
    "INSERT INTO clients (name) VALUES ('x')",
    "DROP TABLE payments",
]


def _as_relay(database: Database, sql: str, invoice_id: int) -> None:
    with database.engine.connect() as conn, conn.begin():
        conn.execute(text("SET LOCAL ROLE printdesk_relay"))
        conn.execute(text(sql), {"inv": invoice_id})


@pytest.fixture
def invoice_id(database: Database, admin: Actor) -> int:
    client = make_client(database)
    with database.session() as s:
        return invoices.create_invoice(s, admin, client, [item()]).id


@pytest.mark.parametrize("sql", ALLOWED)
def test_relay_may(database: Database, invoice_id: int, sql: str) -> None:
    _as_relay(database, sql, invoice_id)


@pytest.mark.parametrize("sql", FORBIDDEN)
def test_relay_may_not(database: Database, invoice_id: int, sql: str) -> None:
    with pytest.raises(ProgrammingError, match=r"permission denied|must be owner"):
        _as_relay(database, sql, invoice_id)
