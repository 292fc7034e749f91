"""What a notice from another counter or the relay changes here: which screens reload, and
the toast staff see when money arrives."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any

from PySide6.QtCore import QObject

from core.money import format_money
from desktop.viewmodels.notifier import Notifier

METHOD_WORDS = {"STRIPE": "card", "CASH": "cash", "BANK_TRANSFER": "bank transfer"}


def payment_message(payload: dict[str, Any]) -> str | None:
    """ "INV-0007 paid A$120.00 by card" for a payment notice; None for anything else."""
    if payload.get("kind") not in ("payment", "refund"):
        return None
    try:
        amount = format_money(Decimal(str(payload.get("amount"))), str(payload.get("currency")))
    except (InvalidOperation, ValueError):
        return None
    number = payload.get("number", "An invoice")
    if payload["kind"] == "refund":
        return f"{number}: {amount} refunded"
    how = METHOD_WORDS.get(str(payload.get("method")), "other means")
    verb = "paid" if payload.get("status") == "PAID" else "part-paid"
    return f"{number} {verb} {amount} by {how}"


class LiveRefresh(QObject):
    """Routes notices to the refresh commands of the screens that show the changed rows."""

    def __init__(self, notifier: Notifier, *, own_payments: set[int] | None = None) -> None:
        super().__init__()
        self._notifier = notifier
        self._routes: dict[str, list[Callable[[], object]]] = {}
        self._own_payments = own_payments if own_payments is not None else set()

    def route(self, kinds: tuple[str, ...], refresh: Callable[[], object]) -> None:
        for kind in kinds:
            self._routes.setdefault(kind, []).append(refresh)

    def on_notice(self, payload: dict[str, Any]) -> None:
        kind = str(payload.get("kind", ""))
        for refresh in self._routes.get(kind, []) + self._routes.get("*", []):
            self._notifier.attempt(refresh)
        message = payment_message(payload)
        if message and not self._taken_here(payload):
            self._notifier.info(message)

    def _taken_here(self, payload: dict[str, Any]) -> bool:
        """A payment recorded at this counter, whose form already toasted it: one toast each."""
        if payload.get("kind") != "payment":
            return False
        payment_id = payload.get("payment_id")
        if not isinstance(payment_id, int) or payment_id not in self._own_payments:
            return False
        self._own_payments.discard(payment_id)
        return True
