"""Reading Stripe's webhook objects: the few fields PrintDesk acts on, checked and typed."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from core.errors import InvalidInput


@dataclass(frozen=True)
class StripeEvent:
    id: str
    type: str
    created: dt.datetime | None
    object: Mapping[str, Any]


@dataclass(frozen=True)
class CheckoutSessionFacts:
    id: str
    status: str | None  # open | complete | expired
    payment_status: str | None  # paid | unpaid | no_payment_required
    invoice_ref: str | None  # metadata.invoice_id, else client_reference_id
    amount_cents: int | None
    currency: str | None  # upper case, the shop's side of any currency conversion
    payment_intent: str | None

    @property
    def processor_id(self) -> str:
        """The PaymentIntent that carries the money, or the session itself where there is none."""
        return self.payment_intent or self.id

    @property
    def is_paid(self) -> bool:
        return self.status == "complete" and self.payment_status == "paid"


@dataclass(frozen=True)
class RefundFacts:
    id: str
    amount_cents: int
    currency: str
    status: str | None  # pending | requires_action | succeeded | failed | canceled
    payment_intent: str | None
    charge: str | None
    reason: str | None


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _id_of(value: object) -> str | None:
    """An id field that Stripe sends as a string, or as the object itself when expanded."""
    if isinstance(value, Mapping):
        return _text(value.get("id"))
    return _text(value)


def _cents(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def parse_event(event: Mapping[str, Any]) -> StripeEvent:
    event_id = _text(event.get("id"))
    event_type = _text(event.get("type"))
    data = event.get("data")
    obj = data.get("object") if isinstance(data, Mapping) else None
    if event_id is None or event_type is None or not isinstance(obj, Mapping):
        raise InvalidInput("Not a Stripe event: it needs an id, a type and data.object.")
    if len(event_id) > 255 or len(event_type) > 100:
        raise InvalidInput("Not a Stripe event: its id or type is too long.")
    created = _cents(event.get("created"))
    when = dt.datetime.fromtimestamp(created, dt.UTC) if created is not None else None
    return StripeEvent(event_id, event_type, when, obj)


def checkout_session_facts(obj: Mapping[str, Any]) -> CheckoutSessionFacts:
    session_id = _text(obj.get("id"))
    if session_id is None or obj.get("object", "checkout.session") != "checkout.session":
        raise InvalidInput("Not a Stripe Checkout Session.")
    metadata = obj.get("metadata")
    ref = _text(metadata.get("invoice_id")) if isinstance(metadata, Mapping) else None
    amount = _cents(obj.get("amount_total"))
    currency = _text(obj.get("currency"))
    # Sessions with Adaptive Pricing made before 2025-03-31 carry the customer's currency on
    # the session and the shop's under currency_conversion; the shop's side is what is owed.
    conversion = obj.get("currency_conversion")
    if isinstance(conversion, Mapping) and _text(conversion.get("source_currency")):
        amount = _cents(conversion.get("amount_total"))
        currency = _text(conversion.get("source_currency"))
    return CheckoutSessionFacts(
        id=session_id,
        status=_text(obj.get("status")),
        payment_status=_text(obj.get("payment_status")),
        invoice_ref=ref or _text(obj.get("client_reference_id")),
        amount_cents=amount,
        currency=currency.upper() if currency else None,
        payment_intent=_id_of(obj.get("payment_intent")),
    )


def refund_facts(obj: Mapping[str, Any]) -> RefundFacts:
    refund_id = _text(obj.get("id"))
    amount = _cents(obj.get("amount"))
    currency = _text(obj.get("currency"))
    if refund_id is None or amount is None or currency is None:
        raise InvalidInput("Not a Stripe refund: it needs an id, an amount and a currency.")
    return RefundFacts(
        id=refund_id,
        amount_cents=amount,
        currency=currency.upper(),
        status=_text(obj.get("status")),
        payment_intent=_id_of(obj.get("payment_intent")),
        charge=_id_of(obj.get("charge")),
        reason=_text(obj.get("reason")),
    )


def charge_refunds(obj: Mapping[str, Any]) -> tuple[str | None, list[RefundFacts]]:
    """The charge's PaymentIntent and the refunds listed on it (often absent in events)."""
    listed = obj.get("refunds")
    data = listed.get("data") if isinstance(listed, Mapping) else None
    refunds: list[RefundFacts] = []
    for item in data if isinstance(data, list) else []:
        if isinstance(item, Mapping):
            facts = refund_facts(item)
            if facts.payment_intent is None:
                facts = replace(facts, payment_intent=_id_of(obj.get("payment_intent")))
            refunds.append(facts)
    return _id_of(obj.get("payment_intent")), refunds


def invoice_id_of(ref: str | None) -> int | None:
    """Our invoice id from the reference we put on the session; None when it is not one."""
    if ref is None or not ref.strip().isdigit() or len(ref.strip()) > 18:
        return None
    return int(ref.strip())
