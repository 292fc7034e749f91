"""Recording a counter payment on an invoice: amount (whole or part), method and reference."""

from __future__ import annotations

import logging
from decimal import Decimal

from PySide6.QtCore import QObject, Signal
from sqlalchemy.orm import Session

from core.enums import PaymentMethod
from core.errors import ServiceError
from core.money import MoneyError, format_money, parse_money
from core.services import payments
from core.services.invoices import InvoiceView
from desktop.viewmodels.background import Loader
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
    done = Signal(object)  # after every submit: the InvoiceView, or None when refused

    def __init__(self, ctx: AppContext, invoice: InvoiceView) -> None:
        super().__init__()
        self._ctx = ctx
        self.invoice = invoice
        self._amount_text = f"{invoice.balance_due:.2f}"
        self._method = PaymentMethod.CASH
        self._reference = ""
        self._error = ""
        self._taking: tuple[Decimal, Decimal | None, PaymentMethod] = (
            Decimal(0),
            None,
            self._method,
        )
        self._recorder: Loader[InvoiceView] = Loader(
            ctx, self._recorded, on_failed=self._refused, parent=self
        )
        self._recorder.loading_changed.connect(lambda _b: self.changed.emit())

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
        return not self.problem and not self._recorder.loading

    @property
    def busy(self) -> bool:
        """The payment is being recorded: the dialog says so and waits."""
        return self._recorder.loading

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

    def submit(self) -> None:
        """Record the payment in the background; ``done`` gives the invoice after it, or None
        with the refusal in ``error`` when it is not accepted."""
        if self._recorder.loading:
            return
        problem = self.problem
        if problem:
            self._error = problem
            self.changed.emit()
            self.done.emit(None)
            return
        amount = self.recorded_amount
        assert amount is not None
        new = payments.NewPayment(
            amount=amount, method=self._method, reference=self._reference.strip() or None
        )
        actor, invoice_id = self._ctx.actor, self.invoice.id
        self._taking = (amount, self.change, self._method)
        self._error = ""
        own = self._ctx.own_payments

        def record(s: Session) -> InvoiceView:
            view = payments.record_payment(s, actor, invoice_id, new)
            # Marked here, at once after the commit: its live notice may reach the GUI thread
            # before this result does, and the form toasts it itself.
            if view.payments:
                own.add(max(p.id for p in view.payments))
            return view

        self._recorder.run(record)

    def _recorded(self, view: InvoiceView) -> None:
        amount, change, method = self._taking
        label = next(text for m, text in COUNTER_METHODS if m is method)
        given_back = f" Give {self._money(change)} change." if change is not None else ""
        self._ctx.notifier.info(
            f"{format_money(amount, view.currency)} by {label.lower()} recorded on {view.number}"
            f" — {format_money(view.balance_due, view.currency)} still owed."
            if view.balance_due > 0
            else f"{format_money(amount, view.currency)} by {label.lower()} recorded;"
            f" {view.number} is paid.{given_back}"
        )
        self.recorded.emit(view)
        self.done.emit(view)

    def _refused(self, exc: BaseException) -> bool:
        """A refusal stays in the form; anything else also goes to the notifier."""
        handled = isinstance(exc, ServiceError | MoneyError)
        self._error = str(exc) if handled else f"Something went wrong: {exc}"
        self.changed.emit()
        self.done.emit(None)
        return handled
