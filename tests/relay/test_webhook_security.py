"""Forged, stale, unsigned and oversize deliveries are refused with 4xx and leave no trace."""

from __future__ import annotations

import time

import pytest
import stripe
from starlette.applications import Starlette

from core.actor import Actor
from core.config import AppConfig
from core.db.engine import Database
from relay.app import RelayConfigError, create_app
from tests.relay import stripe_payloads as sp
from tests.relay.conftest import counts, http, new_invoice

pytestmark = pytest.mark.anyio


def _paid_event(database: Database, admin: Actor) -> dict[str, object]:
    inv = new_invoice(database, admin)
    return sp.event(
        "checkout.session.completed", sp.checkout_session(invoice_id=inv.id, amount_cents=11000)
    )


def test_signing_helper_matches_stripe() -> None:
    body = b'{"id":"evt_1","object":"event"}'
    assert sp.sign(body, "whsec_abc", 1700000000) == (
        stripe.WebhookSignature.generate_signature_header(
            body.decode(), "whsec_abc", timestamp=1700000000
        )
    )


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param(lambda body, secret: {}, id="missing header"),
        pytest.param(lambda body, secret: {"Stripe-Signature": ""}, id="empty header"),
        pytest.param(
            lambda body, secret: {"Stripe-Signature": sp.sign(body, "whsec_not_ours")},
            id="forged (other secret)",
        ),
        pytest.param(
            lambda body, secret: {"Stripe-Signature": sp.sign(body + b" ", secret)},
            id="body changed after signing",
        ),
        pytest.param(
            lambda body, secret: {
                "Stripe-Signature": sp.sign(body, secret, int(time.time()) - 301)
            },
            id="stale (301 s old)",
        ),
        pytest.param(
            lambda body, secret: {"Stripe-Signature": sp.sign(body, secret).replace("v1=", "v0=")},
            id="other scheme only",
        ),
        pytest.param(lambda body, secret: {"Stripe-Signature": "t=x,v1=y"}, id="garbled header"),
    ],
)
async def test_refused_deliveries_write_nothing(
    relay_app: Starlette, database: Database, admin: Actor, secret: str, headers: object
) -> None:
    body = sp.encode(_paid_event(database, admin))
    async with http(relay_app) as client:
        r = await client.post(
            "/stripe/webhook",
            content=body,
            headers={"Content-Type": "application/json", **headers(body, secret)},  # type: ignore[operator]
        )
    assert r.status_code == 400 and r.json() == {"error": "bad_signature"}
    assert counts(database) == {"events": 0, "payments": 0, "refunds": 0}


async def test_a_signature_within_tolerance_is_accepted(
    relay_app: Starlette, database: Database, admin: Actor, secret: str
) -> None:
    body = sp.encode(_paid_event(database, admin))
    async with http(relay_app) as client:
        r = await client.post(
            "/stripe/webhook",
            content=body,
            headers={"Stripe-Signature": sp.sign(body, secret, int(time.time()) - 240)},
        )
    assert r.status_code == 200 and r.json()["outcome"] == "recorded"


async def test_oversize_body_is_refused_before_anything_else(
    relay_app: Starlette, relay_config: AppConfig, database: Database, admin: Actor, secret: str
) -> None:
    evt = _paid_event(database, admin)
    evt["padding"] = "x" * relay_config.relay_max_body_bytes
    body = sp.encode(evt)
    async with http(relay_app) as client:
        r = await client.post(
            "/stripe/webhook", content=body, headers={"Stripe-Signature": sp.sign(body, secret)}
        )
        # No Content-Length to go by: the limit holds while the body streams in.
        chunks = [body[i : i + 4096] for i in range(0, len(body), 4096)]

        async def stream():  # type: ignore[no-untyped-def]
            for chunk in chunks:
                yield chunk

        streamed = await client.post(
            "/stripe/webhook", content=stream(), headers={"Stripe-Signature": sp.sign(body, secret)}
        )
    assert r.status_code == 413 and streamed.status_code == 413
    assert counts(database) == {"events": 0, "payments": 0, "refunds": 0}


@pytest.mark.parametrize(
    "body",
    [b"not json", b"[1, 2]", b'{"id": "evt_x", "object": "event"}', b"\xff\xfe"],
    ids=["not json", "not an object", "no type or data", "not utf-8"],
)
async def test_signed_but_malformed_bodies_are_refused(
    relay_app: Starlette, database: Database, secret: str, body: bytes
) -> None:
    async with http(relay_app) as client:
        r = await client.post(
            "/stripe/webhook", content=body, headers={"Stripe-Signature": sp.sign(body, secret)}
        )
    assert r.status_code == 400
    assert counts(database) == {"events": 0, "payments": 0, "refunds": 0}


async def test_only_post_is_accepted(relay_app: Starlette, secret: str) -> None:
    async with http(relay_app) as client:
        r = await client.get("/stripe/webhook")
    assert r.status_code == 405


@pytest.mark.parametrize("value", [None, "", "   "])
def test_factory_refuses_without_a_webhook_secret(
    relay_config: AppConfig, relay_db: Database, value: str | None
) -> None:
    config = relay_config.model_copy(update={"stripe_webhook_secret": value})
    with pytest.raises(RelayConfigError, match="STRIPE_WEBHOOK_SECRET is not set"):
        create_app(config, relay_db)
