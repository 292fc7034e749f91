"""Stripe webhook payloads for tests, built from Stripe's own example objects, and signed.

The shapes come from ``shared/stripe/fixtures3.json`` (Stripe's OpenAPI examples); only the
fields a real delivery would carry for our invoice are filled in. Signing follows Stripe's
scheme (``t=…,v1=`` HMAC-SHA256 of ``"{t}.{body}"`` with the endpoint secret), written out
here rather than borrowed from the library the relay verifies with.
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
import time
import uuid
from typing import Any

from tests.conftest import SHARED

RESOURCES: dict[str, Any] = json.loads(
    (SHARED / "stripe" / "fixtures3.json").read_text(encoding="utf-8")
)["resources"]

NEW = "new"  # ask a builder for a fresh id


def new_id(prefix: str) -> str:
    return f"{prefix}_test_{uuid.uuid4().hex[:24]}"


def checkout_session(
    *,
    invoice_id: int | str | None,
    amount_cents: int,
    currency: str = "aud",
    status: str = "complete",
    payment_status: str = "paid",
    payment_intent: str | None = NEW,
    session_id: str | None = None,
    invoice_number: str = "INV-TEST",
    use_metadata: bool = True,
) -> dict[str, Any]:
    obj = copy.deepcopy(RESOURCES["checkout.session"])
    sid = session_id or new_id("cs")
    obj.update(
        id=sid,
        url=f"https://checkout.stripe.com/c/pay/{sid}",
        amount_subtotal=amount_cents,
        amount_total=amount_cents,
        currency=currency,
        status=status,
        payment_status=payment_status,
        payment_intent=new_id("pi") if payment_intent == NEW else payment_intent,
        client_reference_id=None if invoice_id is None else str(invoice_id),
        metadata=(
            {"invoice_id": str(invoice_id), "invoice_number": invoice_number}
            if use_metadata and invoice_id is not None
            else {}
        ),
        created=int(time.time()) - 60,
        expires_at=int(time.time()) + 1800,
        # Our sessions use neither Adaptive Pricing nor shipping or tax lines at Stripe.
        currency_conversion=None,
        shipping_cost=None,
        shipping_address_collection=None,
        total_details={"amount_discount": 0, "amount_shipping": 0, "amount_tax": 0},
    )
    return obj


def refund(
    *,
    amount_cents: int,
    payment_intent: str | None,
    currency: str = "aud",
    refund_id: str | None = None,
    status: str = "succeeded",
) -> dict[str, Any]:
    obj = copy.deepcopy(RESOURCES["refund"])
    obj.update(
        id=refund_id or new_id("re"),
        amount=amount_cents,
        currency=currency,
        payment_intent=payment_intent,
        charge=new_id("ch"),
        status=status,
        reason="requested_by_customer",
        created=int(time.time()),
    )
    return obj


def charge_refunded(
    *, amount_cents: int, payment_intent: str, refunds: list[dict[str, Any]], currency: str = "aud"
) -> dict[str, Any]:
    obj = copy.deepcopy(RESOURCES["charge"])
    refunded = sum(r["amount"] for r in refunds)
    obj.update(
        id=refunds[0]["charge"] if refunds else new_id("ch"),
        amount=amount_cents,
        amount_captured=amount_cents,
        amount_refunded=refunded,
        captured=True,
        currency=currency,
        payment_intent=payment_intent,
        refunded=refunded >= amount_cents,
        refunds={
            "object": "list",
            "data": refunds,
            "has_more": False,
            "url": f"/v1/charges/{obj['id']}/refunds",
        },
    )
    return obj


def event(
    event_type: str,
    obj: dict[str, Any],
    *,
    event_id: str | None = None,
    created: int | None = None,
) -> dict[str, Any]:
    evt = copy.deepcopy(RESOURCES["event"])
    evt.update(
        id=event_id or new_id("evt"),
        type=event_type,
        created=created if created is not None else int(time.time()),
        data={"object": copy.deepcopy(obj)},
        api_version="2025-09-30.clover",
        pending_webhooks=1,
    )
    return evt


def encode(evt: dict[str, Any]) -> bytes:
    return json.dumps(evt, separators=(",", ":")).encode()


def sign(body: bytes, secret: str, timestamp: int | None = None) -> str:
    """The Stripe-Signature header Stripe would send for ``body``."""
    t = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={t},v1={mac}"
