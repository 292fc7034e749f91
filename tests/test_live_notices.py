"""Polling the activity log gives the notices NOTIFY would have, even when commits land out
of id order."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import text

from core.actor import Actor
from core.db.engine import Database
from core.enums import PaymentMethod
from core.live_notices import ActivityCursor
from core.services import activity, invoices, payments
from core.services.payments import NewPayment
from tests.factories import item, make_client


def test_a_payment_reads_back_as_the_payment_notice(database: Database, admin: Actor) -> None:
    with database.engine.connect() as conn:
        cursor = ActivityCursor.at_end(conn)
    client = make_client(database)
    with database.session() as s:
        inv = invoices.create_invoice(s, admin, client, [item()])
    with database.session() as s:
        payments.record_payment(s, admin, inv.id, NewPayment(Decimal("110.00"), PaymentMethod.CASH))
    with database.engine.connect() as conn:
        notices = cursor.poll(conn)
        assert cursor.poll(conn) == []  # each row once
    kinds = [n["kind"] for n in notices]
    assert kinds == ["invoice", "payment"], notices
    paid = notices[-1]
    assert paid["id"] == inv.id and paid["number"] == inv.number and paid["status"] == "PAID"
    assert paid["amount"] == "110.00" and paid["method"] == "CASH" and paid["currency"] == "AUD"


def test_a_row_committed_after_a_later_id_is_not_missed(database: Database, admin: Actor) -> None:
    clock = [0.0]
    with database.engine.connect() as conn:
        cursor = ActivityCursor.at_end(conn, clock=lambda: clock[0], gap_ttl_s=30)
    slow = database.sessions()
    slow.begin()
    activity.record(slow, admin, "client.updated", "client", 1, "slow one")
    slow.flush()  # takes its id now, commits later
    with database.session() as fast, fast.begin():
        activity.record(fast, admin, "client.updated", "client", 2, "fast one")
    with database.engine.connect() as conn:
        assert [n["id"] for n in cursor.poll(conn)] == [2]
        slow.commit()
        slow.close()
        assert [n["id"] for n in cursor.poll(conn)] == [1]
        # A gap that never fills (a rolled-back insert) is forgotten after its time.
        with database.session() as s, s.begin():
            s.execute(text("SELECT nextval(pg_get_serial_sequence('activity_log', 'id'))"))
            activity.record(s, admin, "client.updated", "client", 3, "after a hole")
        assert [n["id"] for n in cursor.poll(conn)] == [3]
        assert len(cursor._gaps) == 1
        clock[0] = 31
        assert cursor.poll(conn) == [] and cursor._gaps == {}
