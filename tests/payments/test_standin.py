"""The Checkout stand-in answers as Stripe does, so the tests above can trust what it says."""

from __future__ import annotations

import time
from typing import Any

import pytest
import stripe

from tests.stripe_standin import StripeStandin, decode_form


def _client(standin: StripeStandin, key: str | None = None) -> stripe.StripeClient:
    return stripe.StripeClient(
        key or standin.api_key, base_addresses={"api": standin.url}, max_network_retries=0
    )


def _params(**changes: Any) -> Any:
    params: dict[str, Any] = {
        "mode": "payment",
        "line_items": [
            {
                "quantity": 1,
                "price_data": {
                    "currency": "aud",
                    "unit_amount": 1234,
                    "product_data": {"name": "Invoice INV-0001"},
                },
            }
        ],
        "expires_at": int(time.time()) + 3600,
    }
    params.update(changes)
    return params


def test_nested_form_keys_decode_to_dicts_and_lists() -> None:
    assert decode_form(
        [
            ("line_items[0][price_data][unit_amount]", "9292"),
            ("line_items[1][quantity]", "2"),
            ("metadata[invoice_id]", "7"),
            ("expand[]", "a"),
            ("expand[]", "b"),
        ]
    ) == {
        "line_items": [{"price_data": {"unit_amount": "9292"}}, {"quantity": "2"}],
        "metadata": {"invoice_id": "7"},
        "expand": ["a", "b"],
    }


def test_a_decimal_amount_is_refused_like_stripe_does(standin: StripeStandin) -> None:
    bad = _params()
    bad["line_items"][0]["price_data"]["unit_amount"] = "92.92"
    with pytest.raises(stripe.InvalidRequestError) as caught:
        _client(standin).v1.checkout.sessions.create(bad)
    assert caught.value.http_status == 400
    assert caught.value.code == "parameter_invalid_integer"
    assert caught.value.param == "line_items[0][price_data][unit_amount]"


def test_unknown_parameters_and_urls_are_refused(standin: StripeStandin) -> None:
    client = _client(standin)
    with pytest.raises(stripe.InvalidRequestError, match="Received unknown parameter: amount"):
        client.v1.checkout.sessions.create(_params(amount=5))
    with pytest.raises(stripe.InvalidRequestError, match="Unrecognized request URL"):
        client.v1.customers.retrieve("cus_1")
    with pytest.raises(stripe.InvalidRequestError, match=r"No such checkout\.session") as caught:
        client.v1.checkout.sessions.retrieve("cs_test_missing")
    assert caught.value.http_status == 404 and caught.value.code == "resource_missing"


@pytest.mark.parametrize(("offset", "word"), [(10 * 60, "at least 30"), (25 * 3600, "24 hours")])
def test_expiry_outside_stripes_bounds_is_refused(
    standin: StripeStandin, offset: int, word: str
) -> None:
    with pytest.raises(stripe.InvalidRequestError, match=word) as caught:
        _client(standin).v1.checkout.sessions.create(_params(expires_at=int(time.time()) + offset))
    assert caught.value.param == "expires_at"


def test_keys_are_checked(standin: StripeStandin) -> None:
    with pytest.raises(stripe.AuthenticationError, match="Invalid API Key"):
        _client(standin, "sk_test_wrong").v1.checkout.sessions.list()


def test_idempotency_replays_and_refuses_other_parameters(standin: StripeStandin) -> None:
    client = _client(standin)
    params = _params()
    first = client.v1.checkout.sessions.create(params, {"idempotency_key": "k-1"})
    again = client.v1.checkout.sessions.create(params, {"idempotency_key": "k-1"})
    assert again.id == first.id and len(standin.sessions()) == 1
    assert again.last_response is not None
    assert again.last_response.headers["Idempotent-Replayed"] == "true"
    with pytest.raises(stripe.IdempotencyError, match="same parameters"):
        client.v1.checkout.sessions.create(
            _params(expires_at=params["expires_at"] + 60), {"idempotency_key": "k-1"}
        )


def test_sessions_list_in_pages_newest_first_and_expire_by_clock(standin: StripeStandin) -> None:
    client = _client(standin)
    made = [client.v1.checkout.sessions.create(_params()).id for _ in range(3)]
    page = client.v1.checkout.sessions.list({"limit": 2, "status": "open"})
    assert [s.id for s in page.data] == made[:0:-1] and page.has_more
    rest = client.v1.checkout.sessions.list({"limit": 2, "starting_after": page.data[-1].id})
    assert [s.id for s in rest.data] == [made[0]] and not rest.has_more
    standin.advance(3601)
    assert client.v1.checkout.sessions.retrieve(made[0]).status == "expired"
    assert client.v1.checkout.sessions.list({"status": "open"}).data == []


def test_completed_sessions_cannot_be_expired(standin: StripeStandin) -> None:
    client = _client(standin)
    made = client.v1.checkout.sessions.create(_params(customer_email="ada@example.com"))
    paid = standin.complete_session(made.id, payment_intent="pi_test_1")
    assert (paid["status"], paid["payment_status"], paid["url"]) == ("complete", "paid", None)
    assert paid["customer_details"]["email"] == "ada@example.com"
    with pytest.raises(stripe.InvalidRequestError, match="has a status of `complete`"):
        client.v1.checkout.sessions.expire(made.id)
