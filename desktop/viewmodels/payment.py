"""Recording a counter payment on an invoice: amount (whole or part), method and reference."""

from __future__ import annotations

import logging
import traceback
from decimal import Decimal

from PySide6.QtCore import QObject, Signal

from core.enums import PaymentMethod
from core.errors import ServiceError
from core.money import MoneyError, format_money, parse_money
from core.services import payments
from core.services.invoices import InvoiceView
from desktop.viewmodels.context import AppContext
from desktop.viewmodels.documents import format_date

log = logging.getLogger(__name__)

COUNTER_METHODS: tuple[tuple[PaymentMethod, str], ...] = (
    (PaymentMethod.CASH, "Cash"),
    (PaymentMethod.BANK_TRANSFER, "Bank transfer"),
    (PaymentMethod.OTHER, "Other"),
)


class PaymentViewModel(QObject):
    """The payment form. The service decides what is allowed; its refusal stays in the form."""

    changed = Signal()
    recorded = Signal(object)  # InvoiceView after the payment

    def __init__(self, ctx: AppContext, invoice: InvoiceView) -> None:
        super().__init__()
        self._ctx = ctx
        self.invoice = invoice
        self._amount_text = f"{invoice.balance_due:.2f}"
        self._method = PaymentMethod.CASH
        self._reference = ""
        self._error = ""
        self._busy = False

    # -- state
    @property
    def title(self) -> str:
        return f"Record a payment on {self.invoice.number}"

    @property
    def summary(self) -> str:
        """Who owes it and by when, beside the balance."""
        due = f"Due {format_date(self.invoice.due_date)}"
        if self.invoice.overdue:
            due += " · overdue"
        return f"{self.invoice.client_name}\n{due}"

    @property
    def balance_text(self) -> str:
        return format_money(self.invoice.balance_due, self.invoice.currency)

    @property
    def amount_text(self) -> str:
        return self._amount_text

    @property
    def method(self) -> PaymentMethod:
        return self._method

    @property
    def methods(self) -> tuple[tuple[PaymentMethod, str], ...]:
        return COUNTER_METHODS

    @property
    def reference(self) -> str:
        return self._reference

    @property
    def error(self) -> str:
        return self._error

    def amount(self) -> Decimal | None:
        try:
            return parse_money(self._amount_text, "payment amount", allow_zero=False)
        except MoneyError:
            return None

    def _money(self, amount: Decimal) -> str:
        return format_money(amount, self.invoice.currency)

    @property
    def change(self) -> Decimal | None:
        """Cash handed over beyond what is owed, to give back; None when there is none."""
        amount = self.amount()
        if self._method is not PaymentMethod.CASH or amount is None:
            return None
        over = amount - self.invoice.balance_due
        return over if over > 0 else None

    @property
    def change_text(self) -> str:
        change = self.change
        return f"Change to give: {self._money(change)}" if change is not None else ""

    @property
    def recorded_amount(self) -> Decimal | None:
        """What goes on the invoice: the amount, or for cash over the balance, the balance."""
        amount = self.amount()
        if amount is None:
            return None
        return self.invoice.balance_due if self.change is not None else amount

    @property
    def problem(self) -> str:
        """What is wrong with the amount as typed, checked as the person types (the service
        checks again when it is recorded)."""
        if not self._amount_text.strip():
            return "Enter the amount received."
        try:
            amount = parse_money(self._amount_text, "payment amount", allow_zero=False)
        except MoneyError as exc:
            return str(exc)
        owed = self.invoice.balance_due
        if amount > owed and self._method is not PaymentMethod.CASH:
            return (
                f"{self._money(amount)} is more than the {self._money(owed)} still owed"
                f" on {self.invoice.number}."
            )
        return ""

    @property
    def hint(self) -> str:
        amount = self.amount()
        if amount is None:
            return ""
        owed = self.invoice.balance_due
        if self.change is not None:
            return (
                f"More than is owed: {self._money(owed)} is recorded and"
                f" {self._money(amount - owed)} given back."
            )
        left = owed - amount
        if left == 0:
            return "This pays the invoice in full."
        if left > 0:
            return f"A part payment: {self._money(left)} will still be owed."
        return ""

    @property
    def can_submit(self) -> bool:
        return not self.problem and not self._busy

    # -- commands
    def set_amount(self, text: str) -> None:
        if text != self._amount_text:
            self._amount_text = text
            self._error = ""
            self.changed.emit()

    def set_method(self, method: PaymentMethod) -> None:
        if method is PaymentMethod.STRIPE:
            raise ValueError("Stripe payments arrive through the relay, not the counter")
        if method is not self._method:
            self._method = method
            self.changed.emit()

    def set_reference(self, text: str) -> None:
        if text != self._reference:
            self._reference = text
            self.changed.emit()

    def submit(self) -> bool:
        """Record the payment; False with the refusal in ``error`` when it is not accepted."""
        problem = self.problem
        if problem:
            self._error = problem
            self.changed.emit()
            return False
        amount = self.recorded_amount
        assert amount is not None
        change = self.change
        new = payments.NewPayment(
            amount=amount, method=self._method, reference=self._reference.strip() or None
        )
        self._busy = True
        try:
            with self._ctx.db.session() as session:
                view = payments.record_payment(session, self._ctx.actor, self.invoice.id, new)
        except (ServiceError, MoneyError) as exc:
            self._error = str(exc)
            return False
        except Exception as exc:
            log.exception("payment.failed")
            self._error = f"Something went wrong: {exc}"
            self._ctx.notifier.error(self._error, traceback.format_exc())
            return False
        finally:
            self._busy = False
            self.changed.emit()
        label = next(text for method, text in COUNTER_METHODS if method is self._method)
        given_back = f" Give {self._money(change)} change." if change is not None else ""
        self._ctx.notifier.info(
            f"{format_money(amount, view.currency)} by {label.lower()} recorded on {view.number}"
            f" — {format_money(view.balance_due, view.currency)} still owed."
            if view.balance_due > 0
            else f"{format_money(amount, view.currency)} by {label.lower()} recorded;"
            f" {view.number} is paid.{given_back}"
        )
        if view.payments:  # the counter that took it has said so: its live notice stays quiet
            self._ctx.own_payments.add(max(p.id for p in view.payments))
        self.recorded.emit(view)
        return True
