"""PrintDesk against localstripe: the real stripe library, and localstripe's own signed deliveries.

localstripe stands in for Stripe where it can: customers, payment intents, refunds, and webhook
deliveries it signs itself, posted over TCP to the real relay (relay role, real database). It
has no Checkout Sessions, so the payment a Checkout would carry is posted as our checkout's
event naming localstripe's PaymentIntent; and it raises no refund or ``charge.*`` events, so its
refund and charge objects, exactly as it serves them, are signed and posted to the relay here.
"""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
import stripe
from sqlalchemy import func, select
from stripe.params import PaymentMethodCreateParamsCard

from core.actor import Actor
from core.config import AppConfig
from core.db.engine import Database
from core.db.models import ActivityEntry, WebhookEvent
from core.enums import InvoiceStatus
from core.payments.stripe_client import StripeGateway, StripeNotFound, StripeRejected
from relay.app import create_app
from relay.logs import LOGGER_NAME
from tests.localstripe_server import PIN, LocalStripe, installed
from tests.relay import stripe_payloads as sp
from tests.relay.conftest import as_relay_role, counts, invoice_view, new_invoice
from tests.relay.test_server import serving

VISA: PaymentMethodCreateParamsCard = {
    "number": "4242424242424242",
    "exp_month": 12,
    "exp_year": 2030,
    "cvc": "123",
}
# localstripe lets this card attach and declines the charge (Stripe's "charge_customer_fail").
DECLINED_ON_CHARGE: PaymentMethodCreateParamsCard = {**VISA, "number": "4000000000000341"}


@pytest.fixture
def localstripe(tmp_path: Path) -> Iterator[LocalStripe]:
    if not installed():
        reason = f"localstripe is not installed ({PIN}; the dev extras of `make test` bring it)"
        if os.environ.get("CI"):
            pytest.fail(reason)  # a CI without it must not pass by skipping
        pytest.skip(reason)
    with LocalStripe(tmp_path / "localstripe") as server:
        yield server


@pytest.fixture
def client(localstripe: LocalStripe) -> stripe.StripeClient:
    return localstripe.client()


@pytest.fixture
def secret() -> str:
    return f"whsec_{uuid.uuid4().hex}"


@pytest.fixture
def relay_url(
    database: Database,
    db_url: str,
    secret: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[str]:
    """The real relay under uvicorn on loopback, as the relay role, verifying with ``secret``."""
    monkeypatch.setenv("PRINTDESK_CONFIG", str(tmp_path / "none.toml"))
    monkeypatch.delenv("STRIPE_WEBHOOK_SECRET", raising=False)
    config = AppConfig(
        stripe_webhook_secret=secret,
        relay_max_body_bytes=256 * 1024,
        relay_maintenance_interval_s=0,
        data_dir=tmp_path / "data",
    )
    relay_db = Database.from_url(as_relay_role(db_url))
    try:
        with serving(create_app(config, relay_db)) as base:
            yield f"{base}/stripe/webhook"
    finally:
        relay_db.dispose()


def paid_intent(
    client: stripe.StripeClient,
    amount_cents: int,
    *,
    card: PaymentMethodCreateParamsCard = VISA,
    metadata: dict[str, str] | None = None,
) -> stripe.PaymentIntent:
    """A customer pays ``amount_cents`` AUD by card: created, then confirmed."""
    customer = client.v1.customers.create({"email": "ada@example.com", "name": "Ada Lovelace"})
    method = client.v1.payment_methods.create({"type": "card", "card": card})
    client.v1.payment_methods.attach(method.id, {"customer": customer.id})
    intent = client.v1.payment_intents.create(
        {
            "amount": amount_cents,
            "currency": "aud",
            "customer": customer.id,
            "payment_method": method.id,
            "metadata": metadata or {},
        }
    )
    assert intent.status == "requires_confirmation"
    return client.v1.payment_intents.confirm(intent.id)


def charge_id(intent: stripe.PaymentIntent) -> str:
    charge = intent.latest_charge
    assert charge is not None
    return charge if isinstance(charge, str) else charge.id


def post_signed(url: str, event: dict[str, Any], secret: str) -> httpx.Response:
    body = sp.encode(event)
    return httpx.post(
        url,
        content=body,
        headers={"Stripe-Signature": sp.sign(body, secret), "Content-Type": "application/json"},
        timeout=30,
    )


def events_of(database: Database, event_type: str) -> list[WebhookEvent]:
    with database.session() as s:
        return list(
            s.scalars(
                select(WebhookEvent)
                .where(WebhookEvent.type == event_type)
                .order_by(WebhookEvent.id)
            )
        )


def activity_count(database: Database) -> int:
    with database.session() as s:
        return int(s.scalar(select(func.count()).select_from(ActivityEntry)) or 0)


def relay_outcomes(caplog: pytest.LogCaptureFixture, event_id: str) -> list[str]:
    """What the relay logged it did with each delivery of ``event_id``, in order."""
    applied = [
        getattr(r, "printdesk_fields", {})
        for r in caplog.records
        if r.name == LOGGER_NAME and r.getMessage() == "webhook.applied"
    ]
    return [fields["outcome"] for fields in applied if fields.get("event_id") == event_id]


# -- the real stripe library against localstripe ---------------------------------------------


def test_the_stripe_library_pays_and_refunds_a_payment_intent(client: stripe.StripeClient) -> None:
    intent = paid_intent(client, 11000, metadata={"invoice_id": "7", "invoice_number": "INV-0007"})
    assert intent.status == "succeeded" and intent.amount == 11000 and intent.currency == "aud"
    assert intent.metadata.to_dict() == {"invoice_id": "7", "invoice_number": "INV-0007"}
    charge = client.v1.charges.retrieve(charge_id(intent))
    assert charge.paid and charge.payment_intent == intent.id and charge.amount == 11000

    partial = client.v1.refunds.create({"payment_intent": intent.id, "amount": 3000})
    assert (partial.status, partial.amount, partial.currency) == ("succeeded", 3000, "aud")
    assert partial.payment_intent == intent.id and partial.charge == charge.id
    charge = client.v1.charges.retrieve(charge.id)
    assert charge.amount_refunded == 3000 and not charge.refunded

    rest = client.v1.refunds.create({"payment_intent": intent.id, "amount": 8000})
    charge = client.v1.charges.retrieve(charge.id)
    assert charge.amount_refunded == 11000 and charge.refunded
    listed = client.v1.refunds.list({"payment_intent": intent.id})
    assert {r.id for r in listed.data} == {partial.id, rest.id}

    # A full refund names no amount: the whole charge comes back.
    other = paid_intent(client, 4550)
    full = client.v1.refunds.create({"payment_intent": other.id})
    assert (full.amount, full.status) == (4550, "succeeded")
    assert client.v1.charges.retrieve(charge_id(other)).refunded


def test_a_declined_card_is_a_card_error(client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.CardError) as declined:
        paid_intent(client, 11000, card=DECLINED_ON_CHARGE)
    assert declined.value.http_status == 402 and declined.value.code == "card_declined"


def test_the_gateway_explains_what_localstripe_refuses(localstripe: LocalStripe) -> None:
    wrong_key = StripeGateway("rk_test_not_a_secret_key", api_base=localstripe.url)
    try:
        with pytest.raises(StripeRejected, match="Stripe refused the secret key") as refused:
            wrong_key.retrieve_checkout_session("cs_test_1")
    finally:
        wrong_key.close()
    assert refused.value.http_status == 401 and "\n" not in str(refused.value)

    # localstripe has no Checkout: a server without the endpoint reads as "not found", plainly.
    gateway = StripeGateway(localstripe.api_key, api_base=localstripe.url, max_network_retries=0)
    try:
        with pytest.raises(StripeNotFound, match="look up the payment link") as missing:
            gateway.retrieve_checkout_session("cs_test_1")
    finally:
        gateway.close()
    assert missing.value.http_status == 404 and "\n" not in str(missing.value)


def test_parallel_servers_keep_their_own_objects(
    localstripe: LocalStripe, client: stripe.StripeClient, tmp_path: Path
) -> None:
    customer = client.v1.customers.create({"email": "ada@example.com"})
    # A second server, as a parallel run would start, holds none of the first one's objects.
    with LocalStripe(tmp_path / "second") as second:
        with pytest.raises(stripe.InvalidRequestError) as unknown:
            second.client().v1.customers.retrieve(customer.id)
        assert unknown.value.http_status == 404
        assert second.client().v1.customers.list().data == []
    assert client.v1.customers.retrieve(customer.id).email == "ada@example.com"


# -- localstripe's own deliveries to the relay -----------------------------------------------


def test_its_signed_deliveries_are_acknowledged_and_unhandled_ones_write_nothing(
    localstripe: LocalStripe,
    client: stripe.StripeClient,
    relay_url: str,
    secret: str,
    database: Database,
    admin: Actor,
) -> None:
    inv = new_invoice(database, admin)
    activity_before = activity_count(database)
    localstripe.register_webhook("printdesk", relay_url, secret)

    paid = paid_intent(client, 11000, metadata={"invoice_id": str(inv.id)})
    with pytest.raises(stripe.CardError):
        paid_intent(client, 11000, card=DECLINED_ON_CHARGE, metadata={"invoice_id": str(inv.id)})

    # localstripe logs a delivery once the relay has answered, so after it had committed.
    attempts = localstripe.wait_for_deliveries(4)  # two customers, a payment, a decline
    assert sorted(a.event_type for a in attempts) == [
        "customer.created",
        "customer.created",
        "payment_intent.payment_failed",
        "payment_intent.succeeded",
    ]
    assert all(a.delivered for a in attempts), attempts  # the relay answered every one 2xx
    assert counts(database)["events"] == 4

    [succeeded] = events_of(database, "payment_intent.succeeded")
    assert succeeded.event_id.startswith("evt_") and succeeded.outcome == "ignored"
    assert succeeded.payload["data"]["object"]["id"] == paid.id
    assert succeeded.payload["data"]["object"]["metadata"] == {"invoice_id": str(inv.id)}
    with database.session() as s:
        assert set(s.scalars(select(WebhookEvent.outcome))) == {"ignored"}
    # Acknowledged and kept as received, but nothing in the books moved.
    assert counts(database)["payments"] == 0 and counts(database)["refunds"] == 0
    assert activity_count(database) == activity_before
    after = invoice_view(database, inv.id)
    assert after.status is InvoiceStatus.PENDING and after.balance_due == Decimal("110.00")


def test_a_delivery_signed_with_another_secret_is_refused_and_writes_nothing(
    localstripe: LocalStripe,
    client: stripe.StripeClient,
    relay_url: str,
    database: Database,
) -> None:
    localstripe.register_webhook("stale", relay_url, f"whsec_{uuid.uuid4().hex}")
    activity_before = activity_count(database)
    client.v1.customers.create({"email": "ada@example.com"})
    [attempt] = localstripe.wait_for_deliveries(1, "customer.created")
    assert not attempt.delivered and attempt.status == 400
    assert counts(database) == {"events": 0, "payments": 0, "refunds": 0}
    assert activity_count(database) == activity_before


def test_the_same_event_delivered_twice_is_written_once(
    localstripe: LocalStripe,
    client: stripe.StripeClient,
    relay_url: str,
    secret: str,
    database: Database,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger=LOGGER_NAME)
    # Two endpoints at one relay: localstripe posts each event, signed the same, to both.
    only = ["payment_intent.succeeded"]
    localstripe.register_webhook("first", relay_url, secret, events=only)
    localstripe.register_webhook("second", relay_url, secret, events=only)

    paid_intent(client, 11000)
    attempts = localstripe.wait_for_deliveries(2, "payment_intent.succeeded")
    assert [a.delivered for a in attempts] == [True, True]
    [event] = events_of(database, "payment_intent.succeeded")
    assert relay_outcomes(caplog, event.event_id) == ["ignored", "duplicate"]
    assert counts(database) == {"events": 1, "payments": 0, "refunds": 0}


# -- refunds of a payment PrintDesk recorded ---------------------------------------------------


def test_refunds_of_a_localstripe_payment_are_recorded_once(
    localstripe: LocalStripe,
    client: stripe.StripeClient,
    relay_url: str,
    secret: str,
    database: Database,
    admin: Actor,
) -> None:
    inv = new_invoice(database, admin)
    localstripe.register_webhook("printdesk", relay_url, secret)
    intent = paid_intent(
        client, 11000, metadata={"invoice_id": str(inv.id), "invoice_number": inv.number}
    )
    # Our Checkout carries the payment: its completed session names localstripe's intent.
    session = sp.checkout_session(
        invoice_id=inv.id,
        amount_cents=intent.amount,
        currency=intent.currency,
        payment_intent=intent.id,
        invoice_number=inv.number,
    )
    paid = post_signed(relay_url, sp.event("checkout.session.completed", session), secret)
    assert paid.status_code == 200 and paid.json()["outcome"] == "recorded"
    [payment] = invoice_view(database, inv.id).payments
    assert payment.processor == "stripe" and payment.processor_id == intent.id
    # localstripe's own payment_intent.succeeded for the same money changes nothing.
    [delivery] = localstripe.wait_for_deliveries(1, "payment_intent.succeeded")
    [succeeded] = events_of(database, "payment_intent.succeeded")
    assert delivery.delivered and succeeded.outcome == "ignored"
    assert counts(database)["payments"] == 1
    assert invoice_view(database, inv.id).status is InvoiceStatus.PAID

    # A partial refund, as localstripe made it, in a refund.created event.
    partial = client.v1.refunds.create({"payment_intent": intent.id, "amount": 3000})
    reply = post_signed(relay_url, sp.event("refund.created", partial.to_dict()), secret)
    assert reply.status_code == 200 and reply.json()["outcome"] == "refunded"
    after = invoice_view(database, inv.id)
    assert after.status is InvoiceStatus.PENDING and after.balance_due == Decimal("30.00")

    # The rest, then charge.refunded with the charge as localstripe serves it: both refunds
    # listed, the first already in the books.
    rest = client.v1.refunds.create({"payment_intent": intent.id, "amount": 8000})
    charge = client.v1.charges.retrieve(charge_id(intent)).to_dict()
    assert {r["id"] for r in charge["refunds"]["data"]} == {partial.id, rest.id}
    refunded = sp.event("charge.refunded", charge)
    first = post_signed(relay_url, refunded, secret)
    again = post_signed(relay_url, refunded, secret)
    other_event = post_signed(relay_url, sp.event("charge.refunded", charge), secret)
    assert [r.status_code for r in (first, again, other_event)] == [200, 200, 200]
    assert [r.json()["outcome"] for r in (first, again, other_event)] == [
        "refunded",
        "duplicate",
        "already_recorded",
    ]

    after = invoice_view(database, inv.id)
    assert sorted((r.processor_id, r.amount) for r in after.refunds) == sorted(
        [(partial.id, Decimal("30.00")), (rest.id, Decimal("80.00"))]
    )
    assert after.amount_paid == 0 and after.balance_due == Decimal("110.00")
    assert after.status is InvoiceStatus.PENDING
    assert counts(database)["refunds"] == 2
