"""A commit at another counter reaches this one as a signal within a second or two."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import pytest
from pytestqt.qtbot import QtBot

from core.actor import Actor
from core.db.engine import Database
from core.enums import PaymentMethod
from core.services import invoices, payments
from core.services.payments import NewPayment
from tests.factories import item, make_client
from workers.live_updates import LiveUpdates


@pytest.fixture
def live(database: Database, qtbot: QtBot) -> Iterator[LiveUpdates]:
    listener = LiveUpdates(database.engine.url)
    with qtbot.waitSignal(listener.connected, timeout=10_000):
        listener.start()
    yield listener
    listener.stop()


def test_a_payment_elsewhere_arrives_as_a_signal(
    live: LiveUpdates, database: Database, admin: Actor, qtbot: QtBot
) -> None:
    client = make_client(database)
    with database.session() as s:
        inv = invoices.create_invoice(s, admin, client, [item()])

    def is_payment(payload: dict[str, object]) -> bool:
        return payload.get("kind") == "payment"

    with (
        qtbot.waitSignal(live.changed, timeout=5_000, check_params_cb=is_payment) as blocker,
        database.session() as s,
    ):
        payments.record_payment(s, admin, inv.id, NewPayment(Decimal("110.00"), PaymentMethod.CASH))
    payload = blocker.args[0]
    assert payload["id"] == inv.id and payload["number"] == "INV-0001"
    assert payload["status"] == "PAID" and payload["amount"] == "110.00"
    assert payload["method"] == "CASH"


def test_a_refused_action_sends_nothing(
    live: LiveUpdates, database: Database, admin: Actor, qtbot: QtBot
) -> None:
    """NOTIFY is transactional: a refused payment rolls back and no notice goes out, so the
    next notice seen is the one from the later, successful commit."""
    client = make_client(database)
    with database.session() as s:
        inv = invoices.create_invoice(s, admin, client, [item()])
    seen: list[dict[str, object]] = []
    live.changed.connect(seen.append)
    with database.session() as s, pytest.raises(Exception, match="more than"):
        payments.record_payment(s, admin, inv.id, NewPayment(Decimal("999.00"), PaymentMethod.CASH))
    with (
        qtbot.waitSignal(
            live.changed, timeout=5_000, check_params_cb=lambda p: p["kind"] == "payment"
        ),
        database.session() as s,
    ):
        payments.record_payment(s, admin, inv.id, NewPayment(Decimal("1.00"), PaymentMethod.CASH))
    assert [p["amount"] for p in seen if p["kind"] == "payment"] == ["1.00"]
