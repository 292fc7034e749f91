from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from core.actor import Actor
from core.db.engine import Database
from core.db.models import Job, Payment
from core.enums import InvoiceStatus, JobPolicy, PaymentMethod
from core.errors import Conflict, InvalidInput, NotAllowed, ServiceError
from core.services import invoices, payments, settings
from core.services.payments import NewPayment, NewRefund
from tests.factories import item, make_client


def _invoice(database: Database, admin: Actor, price: str = "100.00") -> invoices.InvoiceView:
    client = make_client(database)
    with database.session() as s:
        return invoices.create_invoice(s, admin, client, [item(price=price)])


def test_partial_then_full_payment(database: Database, admin: Actor) -> None:
    inv = _invoice(database, admin)  # 100 + 10 GST = 110
    with database.session() as s:
        after = payments.record_payment(
            s, admin, inv.id, NewPayment(Decimal("60.00"), PaymentMethod.CASH)
        )
        assert after.status is InvoiceStatus.PENDING and after.balance_due == Decimal("50.00")
        after = payments.record_payment(
            s,
            admin,
            inv.id,
            NewPayment(Decimal("50.00"), PaymentMethod.BANK_TRANSFER, reference="EFT 1234"),
        )
    assert after.status is InvoiceStatus.PAID and after.balance_due == 0
    assert after.paid_at is not None
    assert [(p.amount, p.method) for p in after.payments] == [
        (Decimal("60.00"), PaymentMethod.CASH),
        (Decimal("50.00"), PaymentMethod.BANK_TRANSFER),
    ]


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        ("110.01", "more than the A\\$110.00 still owed"),
        ("0", "more than zero"),
        ("-5", "cannot be negative"),
        ("1.005", "more than two decimals"),
    ],
)
def test_bad_amounts_are_refused(
    database: Database, admin: Actor, amount: str, message: str
) -> None:
    inv = _invoice(database, admin)
    with database.session() as s:
        with pytest.raises(ServiceError, match=message):
            payments.record_payment(
                s, admin, inv.id, NewPayment(Decimal(amount), PaymentMethod.CASH)
            )
        assert s.scalar(select(func.count()).select_from(Payment)) == 0


def test_paid_invoice_refuses_more(database: Database, admin: Actor) -> None:
    inv = _invoice(database, admin)
    with database.session() as s:
        payments.record_payment(s, admin, inv.id, NewPayment(Decimal("110.00"), PaymentMethod.CASH))
        with pytest.raises(Conflict, match="already paid in full"):
            payments.record_payment(
                s, admin, inv.id, NewPayment(Decimal("1.00"), PaymentMethod.CASH)
            )


def test_duplicate_processor_id_is_refused(database: Database, admin: Actor) -> None:
    inv = _invoice(database, admin)
    pay = NewPayment(
        Decimal("10.00"), PaymentMethod.STRIPE, processor="stripe", processor_id="pi_1"
    )
    with database.session() as s:
        payments.record_payment(s, admin, inv.id, pay)
        with pytest.raises(Conflict, match="pi_1 \\(stripe\\) is already recorded"):
            payments.record_payment(s, admin, inv.id, pay)
        assert payments.record_payment(
            s,
            admin,
            inv.id,
            NewPayment(
                Decimal("10.00"), PaymentMethod.STRIPE, processor="other", processor_id="pi_1"
            ),
        ).amount_paid == Decimal("20.00")


def test_currency_must_match(database: Database, admin: Actor) -> None:
    inv = _invoice(database, admin)
    with database.session() as s, pytest.raises(InvalidInput, match="in AUD"):
        payments.record_payment(
            s, admin, inv.id, NewPayment(Decimal("10.00"), PaymentMethod.CASH, currency="usd")
        )


def test_concurrent_payments_record_exactly_up_to_the_total(
    database: Database, admin: Actor
) -> None:
    """Twenty counters each try to take 10.00 on a 110.00 invoice at once: eleven succeed."""
    inv = _invoice(database, admin)

    def pay(_: int) -> str:
        with database.session() as s:
            try:
                payments.record_payment(
                    s, admin, inv.id, NewPayment(Decimal("10.00"), PaymentMethod.CASH)
                )
                return "ok"
            except Conflict as exc:
                return str(exc)

    with ThreadPoolExecutor(max_workers=20) as pool:
        outcomes = list(pool.map(pay, range(20)))
    assert outcomes.count("ok") == 11
    assert all("more than" in o or "already paid" in o for o in outcomes if o != "ok")
    with database.session() as s:
        final = invoices.get_invoice(s, inv.id)
        total = s.scalar(select(func.sum(Payment.amount)))
    assert total == Decimal("110.00")
    assert final.status is InvoiceStatus.PAID and final.balance_due == 0


def test_concurrent_duplicates_land_once(database: Database, admin: Actor) -> None:
    inv = _invoice(database, admin)

    def pay(_: int) -> bool:
        with database.session() as s:
            try:
                payments.record_payment(
                    s,
                    admin,
                    inv.id,
                    NewPayment(
                        Decimal("110.00"),
                        PaymentMethod.STRIPE,
                        processor="stripe",
                        processor_id="pi_same",
                    ),
                )
                return True
            except Conflict:
                return False

    with ThreadPoolExecutor(max_workers=8) as pool:
        assert sum(pool.map(pay, range(8))) == 1
    with database.session() as s:
        assert s.scalar(select(func.count()).select_from(Payment)) == 1


def test_refund_reopens_the_balance(database: Database, admin: Actor, staff: Actor) -> None:
    inv = _invoice(database, admin)
    with database.session() as s:
        paid = payments.record_payment(
            s, admin, inv.id, NewPayment(Decimal("110.00"), PaymentMethod.CASH)
        )
        payment_id = paid.payments[0].id
        with pytest.raises(NotAllowed):
            payments.record_refund(s, staff, NewRefund(payment_id, Decimal("10.00")))
        with pytest.raises(Conflict, match=r"Only A\$110.00 of that payment"):
            payments.record_refund(s, admin, NewRefund(payment_id, Decimal("110.01")))
        after = payments.record_refund(
            s, admin, NewRefund(payment_id, Decimal("30.00"), reason="one part reprinted")
        )
    assert after.status is InvoiceStatus.PENDING
    assert after.amount_paid == Decimal("80.00") and after.balance_due == Decimal("30.00")
    assert after.refunds[0].amount == Decimal("30.00")


def test_on_payment_policy_makes_the_job_when_paid(database: Database, admin: Actor) -> None:
    with database.session() as s:
        settings.update_settings(s, admin, {"job_creation_policy": JobPolicy.ON_PAYMENT.value})
    inv = _invoice(database, admin)

    def jobs_made() -> int:
        with database.session() as s:
            return int(s.scalar(select(func.count()).select_from(Job)) or 0)

    assert jobs_made() == 0
    with database.session() as s:
        payments.record_payment(s, admin, inv.id, NewPayment(Decimal("50.00"), PaymentMethod.CASH))
    assert jobs_made() == 0
    with database.session() as s:
        payments.record_payment(s, admin, inv.id, NewPayment(Decimal("60.00"), PaymentMethod.CASH))
    assert jobs_made() == 1
