from __future__ import annotations

import datetime as dt
from decimal import Decimal

from core.actor import Actor
from core.db.engine import Database
from core.enums import JobStatus, PaymentMethod
from core.services import dashboard, invoices, payments, quotes
from core.services.payments import NewPayment
from tests.factories import item, make_client


def test_dashboard_figures(database: Database, admin: Actor) -> None:
    client = make_client(database)
    past = dt.date.today() - dt.timedelta(days=60)
    with database.session() as s:
        late = invoices.create_invoice(
            s,
            admin,
            client,
            [item(price="200.00")],
            issue_date=past,
            due_date=past + dt.timedelta(days=7),
        )
        current = invoices.create_invoice(s, admin, client, [item()])
        payments.record_payment(
            s, admin, current.id, NewPayment(Decimal("10.00"), PaymentMethod.CASH)
        )
        q = quotes.create_quote(s, admin, client, [item(price="50.00")])
        quotes.send_quote(s, admin, q.id)
        board = dashboard.load_dashboard(s)
    assert board.currency == "AUD"
    assert board.outstanding == dashboard.Figure(Decimal("320.00"), 2)  # 220 + (110 − 10)
    assert board.overdue == dashboard.Figure(Decimal("220.00"), 1)
    assert board.received_this_week == dashboard.Figure(Decimal("10.00"), 1)
    assert board.quotes_awaiting == dashboard.Figure(Decimal("55.00"), 1)
    assert board.jobs_by_status == {JobStatus.QUEUED: 2}
    assert late.number == "INV-0001"
