"""apply_processor_payment: money a processor took is always recorded, and mismatches flagged."""

from __future__ import annotations

from decimal import Decimal

import pytest

from core.actor import Actor
from core.db.engine import Database
from core.enums import InvoiceStatus, JobPolicy, PaymentMethod
from core.errors import InvalidInput
from core.services import invoices, payments, settings
from core.services.payments import NewPayment, NewRefund
from tests.relay.conftest import invoice_view, new_invoice


def _stripe(amount: str, pi: str, currency: str = "AUD") -> NewPayment:
    return NewPayment(
        Decimal(amount),
        PaymentMethod.STRIPE,
        processor="stripe",
        processor_id=pi,
        currency=currency,
    )


def _apply(
    database: Database, admin: Actor, invoice_id: int, payment: NewPayment, **kw: bool
) -> payments.ProcessorPayment:
    with database.session() as s, s.begin():
        return payments.apply_processor_payment(s, admin, invoice_id, payment, **kw)


def test_exact_amount_pays_without_a_flag(database: Database, admin: Actor) -> None:
    inv = new_invoice(database, admin)
    result = _apply(database, admin, inv.id, _stripe("110.00", "pi_1"))
    assert not result.already_recorded and result.flagged_reason is None
    after = invoice_view(database, inv.id)
    assert after.status is InvoiceStatus.PAID and after.paid_at is not None


def test_same_processor_id_comes_back_as_already_recorded(database: Database, admin: Actor) -> None:
    inv = new_invoice(database, admin)
    first = _apply(database, admin, inv.id, _stripe("50.00", "pi_2"))
    again = _apply(database, admin, inv.id, _stripe("50.00", "pi_2"))
    assert again.already_recorded and again.payment_id == first.payment_id
    assert again.flagged_reason == first.flagged_reason is not None
    assert len(invoice_view(database, inv.id).payments) == 1


def test_overpayment_floors_the_balance_and_refund_reopens_only_what_is_owed(
    database: Database, admin: Actor
) -> None:
    inv = new_invoice(database, admin)
    result = _apply(database, admin, inv.id, _stripe("150.00", "pi_3"))
    assert result.flagged_reason and "more than the A$110.00 owed" in result.flagged_reason
    after = invoice_view(database, inv.id)
    assert after.status is InvoiceStatus.PAID and after.balance_due == 0
    assert after.amount_paid == Decimal("150.00")
    # Giving back the 40.00 paid too much leaves the invoice paid.
    with database.session() as s:
        payments.record_refund(s, admin, NewRefund(result.payment_id, Decimal("40.00")))
    after = invoice_view(database, inv.id)
    assert after.status is InvoiceStatus.PAID and after.amount_paid == Decimal("110.00")


def test_flag_mismatch_off_records_without_a_flag(database: Database, admin: Actor) -> None:
    inv = new_invoice(database, admin)
    result = _apply(database, admin, inv.id, _stripe("10.00", "pi_4"), flag_mismatch=False)
    assert result.flagged_reason is None
    assert invoice_view(database, inv.id).balance_due == Decimal("100.00")


def test_foreign_currency_stays_out_of_the_balance_then_manual_payment_settles(
    database: Database, admin: Actor
) -> None:
    inv = new_invoice(database, admin)
    result = _apply(database, admin, inv.id, _stripe("110.00", "pi_5", currency="usd"))
    assert result.flagged_reason == f"paid in USD, but {inv.number} is in AUD"
    with database.session() as s:
        after = payments.record_payment(
            s, admin, inv.id, NewPayment(Decimal("110.00"), PaymentMethod.CASH)
        )
    assert after.status is InvoiceStatus.PAID and after.amount_paid == Decimal("110.00")


def test_written_off_invoice_keeps_its_status(database: Database, admin: Actor) -> None:
    inv = new_invoice(database, admin)
    with database.session() as s:
        invoices.write_off_invoice(s, admin, inv.id)
    result = _apply(database, admin, inv.id, _stripe("110.00", "pi_6"))
    assert result.flagged_reason == f"{inv.number} was written off"
    assert invoice_view(database, inv.id).status is InvoiceStatus.WRITTEN_OFF


def test_payment_makes_the_job_under_on_payment_policy(database: Database, admin: Actor) -> None:
    with database.session() as s:
        settings.update_settings(s, admin, {"job_creation_policy": JobPolicy.ON_PAYMENT.value})
    inv = new_invoice(database, admin)
    with database.session() as s:
        assert invoices.job_for_invoice(s, inv.id) is None
    _apply(database, admin, inv.id, _stripe("110.00", "pi_7"))
    with database.session() as s:
        assert invoices.job_for_invoice(s, inv.id) is not None


@pytest.mark.parametrize(
    "payment",
    [
        NewPayment(Decimal("10.00"), PaymentMethod.STRIPE),
        _stripe("0", "pi_8"),
        _stripe("10.00", "pi_9", currency="dollars"),
    ],
    ids=["no processor id", "zero", "not a currency"],
)
def test_refuses_what_is_not_a_processor_payment(
    database: Database, admin: Actor, payment: NewPayment
) -> None:
    inv = new_invoice(database, admin)
    with pytest.raises(InvalidInput):
        _apply(database, admin, inv.id, payment)
