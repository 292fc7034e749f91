"""Payment links made by the real stripe library against the Checkout stand-in over HTTP."""

from __future__ import annotations

import datetime as dt
import json
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import update

from core.actor import Actor
from core.config import AppConfig
from core.db.engine import Database
from core.db.models import Client, Invoice
from core.enums import InvoiceStatus
from core.errors import Conflict
from core.payments import checkout
from core.payments.checkout import PaymentLink, idempotency_key, link_expiry
from core.payments.stripe_client import (
    StripeGateway,
    StripeNotConfigured,
    StripeRejected,
    StripeUnavailable,
)
from core.services import invoices
from tests.factories import item
from tests.payments.conftest import (
    actions,
    activity_count,
    gateway_for,
    invoice_row,
    new_invoice,
    pay_cash,
    stripe_payments,
    view,
)
from tests.stripe_standin import FIXTURES, StripeStandin

CREATE = ("POST", "/v1/checkout/sessions")


def _link(database: Database, actor: Actor, invoice_id: int, gw: StripeGateway) -> PaymentLink:
    with database.session() as s:
        return checkout.create_payment_link(s, actor, invoice_id, stripe=gw)


@pytest.mark.parametrize(
    ("price", "qty", "cents"),
    [
        ("84.47", "1", 9292),  # 84.47 + 8.45 GST = 92.92
        ("33.33", "3", 10999),  # 99.99 + 10.00 GST
        ("0.10", "7", 77),  # 0.70 + 0.07 GST: float arithmetic would not give 77
    ],
)
def test_link_sends_exact_cents_metadata_and_key(
    database: Database,
    staff: Actor,
    standin: StripeStandin,
    gateway: StripeGateway,
    price: str,
    qty: str,
    cents: int,
) -> None:
    inv = new_invoice(database, staff, price=price, qty=qty)
    assert inv.balance_due * 100 == cents
    before = dt.datetime.now(dt.UTC)

    link = _link(database, staff, inv.id, gateway)

    (sent,) = standin.requests_to(*CREATE)
    line = sent.form["line_items"][0]
    assert line == {
        "quantity": "1",
        "price_data": {
            "currency": "aud",
            "unit_amount": str(cents),
            "product_data": {"name": f"Invoice {inv.number}"},
        },
    }
    assert f"line_items[0][price_data][unit_amount]={cents}&" in sent.raw_body
    assert sent.form["mode"] == "payment"
    assert sent.form["metadata"] == {"invoice_id": str(inv.id), "invoice_number": inv.number}
    assert sent.form["client_reference_id"] == str(inv.id)
    assert sent.form["customer_email"] == "ada@example.com"
    # Stripe's own placeholder survives; ours is filled in.
    assert sent.form["success_url"] == (
        f"https://shop.example/paid?invoice={inv.number}&cs={{CHECKOUT_SESSION_ID}}"
    )
    assert sent.form["cancel_url"] == f"https://shop.example/cancelled?invoice={inv.number}"
    assert sent.idempotency_key == idempotency_key(inv.id, inv.version, cents)
    assert sent.header("Authorization") == f"Bearer {standin.api_key}"
    assert sent.header("Content-Type") == "application/x-www-form-urlencoded"
    # The default setting is 24 h; the expiry stays inside Stripe's 30 min .. 24 h.
    expires_at = int(sent.form["expires_at"])
    assert 23 * 3600 < expires_at - before.timestamp() < 24 * 3600

    stored = standin.session(link.session_id)
    assert stored["amount_total"] == cents and stored["currency"] == "aud"
    assert link.url == stored["url"] and link.url.startswith("https://checkout.stripe.com/")
    assert link.amount == inv.balance_due and link.currency == "AUD" and not link.reused
    assert link.expires_at == dt.datetime.fromtimestamp(expires_at, dt.UTC)

    row = invoice_row(database, inv.id)
    assert row.stripe_session_id == link.session_id
    assert row.stripe_checkout_url == link.url
    assert row.stripe_session_expires_at == link.expires_at
    assert row.stripe_session_amount_cents == cents
    assert actions(database, inv.id)[-1] == "payment_link.created"


def test_session_json_has_stripes_shape(standin: StripeStandin, gateway: StripeGateway) -> None:
    """Every field of Stripe's example Checkout Session, and no other, comes back."""
    from core.payments.stripe_client import NewCheckout

    created = gateway.create_checkout_session(
        NewCheckout(
            amount_cents=5000,
            currency="AUD",
            product_name="Invoice X",
            metadata={"invoice_id": "1"},
            client_reference_id="1",
            customer_email=None,
            expires_at=dt.datetime.now(dt.UTC) + dt.timedelta(hours=2),
            success_url="https://shop.example/ok",
            cancel_url="https://shop.example/no",
        ),
        idempotency_key="shape-1",
    )
    example = json.loads(Path(FIXTURES).read_text())["resources"]["checkout.session"]
    assert set(created.raw) == set(example)
    assert created.status == "open" and created.payment_status == "unpaid"
    assert created.raw["customer_email"] is None
    assert "customer_email" not in standin.requests_to(*CREATE)[0].form


def test_client_without_email_sends_none(
    database: Database, staff: Actor, standin: StripeStandin, gateway: StripeGateway
) -> None:
    with database.session() as s, s.begin():
        client = Client(name="Walk-in", email=None)
        s.add(client)
        s.flush()
        client_id = client.id
    with database.session() as s:
        inv = invoices.create_invoice(s, staff, client_id, [item()])
    _link(database, staff, inv.id, gateway)
    assert "customer_email" not in standin.requests_to(*CREATE)[0].form


def test_open_link_for_the_same_amount_is_reused(
    database: Database, staff: Actor, standin: StripeStandin, gateway: StripeGateway
) -> None:
    inv = new_invoice(database, staff)
    first = _link(database, staff, inv.id, gateway)
    second = _link(database, staff, inv.id, gateway)

    assert second.reused and not first.reused
    assert (second.session_id, second.url) == (first.session_id, first.url)
    assert len(standin.requests_to(*CREATE)) == 1
    # Stripe was asked whether the link is still open, and nothing was expired.
    assert len(standin.requests_to("GET", "/v1/checkout/sessions/*")) == 1
    assert standin.requests_to("POST", "/v1/checkout/sessions/*/expire") == []
    assert actions(database, inv.id).count("payment_link.created") == 1


def test_changed_balance_expires_the_old_link_and_makes_a_new_one(
    database: Database, staff: Actor, standin: StripeStandin, gateway: StripeGateway
) -> None:
    inv = new_invoice(database, staff)  # 110.00
    old = _link(database, staff, inv.id, gateway)
    pay_cash(database, staff, inv.id, "40.00")

    new = _link(database, staff, inv.id, gateway)

    assert new.session_id != old.session_id and not new.reused
    assert new.amount == Decimal("70.00")
    assert standin.session(old.session_id)["status"] == "expired"
    assert standin.session(new.session_id)["status"] == "open"
    expire_calls = standin.requests_to("POST", "/v1/checkout/sessions/*/expire")
    assert [r.path for r in expire_calls] == [f"/v1/checkout/sessions/{old.session_id}/expire"]
    creates = standin.requests_to(*CREATE)
    assert [c.form["line_items"][0]["price_data"]["unit_amount"] for c in creates] == [
        "11000",
        "7000",
    ]
    assert creates[0].idempotency_key != creates[1].idempotency_key
    row = invoice_row(database, inv.id)
    assert (row.stripe_session_id, row.stripe_session_amount_cents) == (new.session_id, 7000)
    assert actions(database, inv.id)[-2:] == ["payment_link.expired", "payment_link.created"]


def test_link_expired_at_stripe_is_replaced(
    database: Database, staff: Actor, standin: StripeStandin, gateway: StripeGateway
) -> None:
    inv = new_invoice(database, staff)
    old = _link(database, staff, inv.id, gateway)
    standin.expire_session(old.session_id)  # its time ran out at Stripe

    new = _link(database, staff, inv.id, gateway)

    assert new.session_id != old.session_id and not new.reused
    assert standin.session(old.session_id)["status"] == "expired"


def test_link_about_to_expire_is_replaced(
    database: Database, staff: Actor, standin: StripeStandin, gateway: StripeGateway
) -> None:
    inv = new_invoice(database, staff)
    old = _link(database, staff, inv.id, gateway)
    with database.session() as s, s.begin():
        s.execute(
            update(Invoice)
            .where(Invoice.id == inv.id)
            .values(stripe_session_expires_at=dt.datetime.now(dt.UTC) + dt.timedelta(minutes=3))
        )

    new = _link(database, staff, inv.id, gateway)

    assert new.session_id != old.session_id
    assert standin.session(old.session_id)["status"] == "expired"


@pytest.mark.parametrize(
    ("settle", "message"),
    [
        ("paid", "already paid in full"),
        ("void", "is void"),
        ("written_off", "is written off"),
        ("zero", "nothing to pay"),
    ],
)
def test_refused_when_nothing_can_be_paid(
    database: Database,
    admin: Actor,
    standin: StripeStandin,
    gateway: StripeGateway,
    settle: str,
    message: str,
) -> None:
    inv = new_invoice(database, admin, price="0.00" if settle == "zero" else "100.00")
    with database.session() as s:
        if settle == "paid":
            pay_cash(database, admin, inv.id, "110.00")
        elif settle == "void":
            invoices.void_invoice(s, admin, inv.id)
        elif settle == "written_off":
            invoices.write_off_invoice(s, admin, inv.id)

    with pytest.raises(Conflict, match=message):
        _link(database, admin, inv.id, gateway)
    assert standin.requests == []
    assert invoice_row(database, inv.id).stripe_session_id is None


def test_without_a_key_it_says_where_to_set_one(database: Database, staff: Actor) -> None:
    inv = new_invoice(database, staff)
    gw = StripeGateway.from_config(
        AppConfig(stripe_secret_key=None, config_file=Path("/etc/printdesk/printdesk.toml"))
    )
    assert not gw.configured
    with pytest.raises(StripeNotConfigured) as caught:
        _link(database, staff, inv.id, gw)
    text = str(caught.value)
    assert "STRIPE_SECRET_KEY" in text
    assert "Settings → Payments" in text and "printdesk secrets set stripe-secret-key" in text
    # The config file never holds the key, so the message never sends anyone there.
    assert "printdesk.toml" not in text and "config file" not in text
    assert invoice_row(database, inv.id).stripe_session_id is None


@pytest.mark.parametrize(
    ("fault", "error", "message"),
    [
        ("500", StripeUnavailable, r"HTTP 500: An unknown error occurred"),
        ("network", StripeUnavailable, r"could not be reached"),
    ],
)
def test_stripe_failure_leaves_the_invoice_as_it_was(
    database: Database,
    staff: Actor,
    standin: StripeStandin,
    gateway: StripeGateway,
    fault: str,
    error: type[Exception],
    message: str,
) -> None:
    inv = new_invoice(database, staff)
    before = invoice_row(database, inv.id)
    logged = activity_count(database)
    standin.fail_next(1, fault)  # type: ignore[arg-type]

    with pytest.raises(error, match=message):
        _link(database, staff, inv.id, gateway)

    after = invoice_row(database, inv.id)
    assert after.version == before.version
    assert (
        after.stripe_session_id,
        after.stripe_checkout_url,
        after.stripe_session_expires_at,
        after.stripe_session_amount_cents,
    ) == (None, None, None, None)
    assert activity_count(database) == logged
    # And once Stripe answers again the link is made.
    assert _link(database, staff, inv.id, gateway).url


def test_failure_while_replacing_writes_nothing_half_way(
    database: Database, staff: Actor, standin: StripeStandin, gateway: StripeGateway
) -> None:
    inv = new_invoice(database, staff)
    old = _link(database, staff, inv.id, gateway)
    pay_cash(database, staff, inv.id, "10.00")
    before = invoice_row(database, inv.id)
    standin.fail_next(1, "500", method="POST", path="/v1/checkout/sessions")

    with pytest.raises(StripeUnavailable):  # the old link was expired, the new one failed
        _link(database, staff, inv.id, gateway)

    after = invoice_row(database, inv.id)
    assert after.version == before.version
    assert (after.stripe_session_id, after.stripe_session_amount_cents) == (old.session_id, 11000)
    assert standin.session(old.session_id)["status"] == "expired"
    new = _link(database, staff, inv.id, gateway)
    assert new.session_id != old.session_id and new.amount == Decimal("100.00")


def test_answer_lost_on_the_way_back_never_makes_a_second_session(
    database: Database, staff: Actor, standin: StripeStandin, gateway: StripeGateway
) -> None:
    inv = new_invoice(database, staff)
    standin.fail_next(1, "lost_response")  # Stripe makes the session, the answer is lost

    with pytest.raises(StripeUnavailable):
        _link(database, staff, inv.id, gateway)
    assert invoice_row(database, inv.id).stripe_session_id is None
    assert len(standin.sessions()) == 1

    link = _link(database, staff, inv.id, gateway)  # the counter tries again

    assert len(standin.sessions()) == 1
    assert link.session_id == standin.sessions()[0]["id"]
    first, second = standin.requests_to(*CREATE)
    assert first.idempotency_key == second.idempotency_key
    assert first.form == second.form
    assert invoice_row(database, inv.id).stripe_session_id == link.session_id


def test_the_librarys_own_retry_reuses_the_key(
    database: Database, staff: Actor, standin: StripeStandin
) -> None:
    inv = new_invoice(database, staff)
    gw = gateway_for(standin, retries=1)
    try:
        standin.fail_next(1, "500")
        link = _link(database, staff, inv.id, gw)
    finally:
        gw.close()
    first, second = standin.requests_to(*CREATE)
    assert first.fault == "500" and second.fault is None
    assert first.idempotency_key == second.idempotency_key
    assert len(standin.sessions()) == 1 and link.session_id == standin.sessions()[0]["id"]


def test_two_counters_at_once_get_one_link(
    database: Database, staff: Actor, standin: StripeStandin, gateway: StripeGateway
) -> None:
    inv = new_invoice(database, staff)
    with ThreadPoolExecutor(max_workers=2) as pool:
        links = list(pool.map(lambda _: _link(database, staff, inv.id, gateway), range(2)))
    assert links[0].session_id == links[1].session_id
    assert sorted(link.reused for link in links) == [False, True]
    assert len(standin.requests_to(*CREATE)) == 1


def test_a_link_paid_without_its_webhook_is_recorded_not_replaced(
    database: Database, staff: Actor, standin: StripeStandin, gateway: StripeGateway
) -> None:
    inv = new_invoice(database, staff)
    old = _link(database, staff, inv.id, gateway)
    standin.complete_session(old.session_id, payment_intent="pi_test_missed_webhook")

    with pytest.raises(Conflict, match="paid through its Stripe link"):
        _link(database, staff, inv.id, gateway)

    after = view(database, inv.id)
    assert after.status is InvoiceStatus.PAID and after.balance_due == 0
    assert after.stripe_session_id is None
    (payment,) = stripe_payments(database)
    assert (payment.processor_id, payment.amount) == ("pi_test_missed_webhook", Decimal("110.00"))
    assert len(standin.requests_to(*CREATE)) == 1
    with pytest.raises(Conflict, match="already paid in full"):
        _link(database, staff, inv.id, gateway)
    assert len(stripe_payments(database)) == 1


def test_a_delayed_payment_still_clearing_blocks_a_new_link(
    database: Database, staff: Actor, standin: StripeStandin, gateway: StripeGateway
) -> None:
    inv = new_invoice(database, staff)
    old = _link(database, staff, inv.id, gateway)
    standin.complete_session(old.session_id, payment_status="unpaid")

    with pytest.raises(Conflict, match="takes a few days"):
        _link(database, staff, inv.id, gateway)
    assert invoice_row(database, inv.id).stripe_session_id == old.session_id
    assert stripe_payments(database) == []


def test_stripe_refusal_is_passed_on(
    database: Database, staff: Actor, standin: StripeStandin, gateway: StripeGateway
) -> None:
    inv = new_invoice(database, staff, price="0.20")  # 0.22 with GST: below Stripe's minimum
    with pytest.raises(StripeRejected, match=r"Stripe refused .* at least 0\.50 aud"):
        _link(database, staff, inv.id, gateway)
    assert invoice_row(database, inv.id).stripe_session_id is None


def test_a_wrong_key_is_named(database: Database, staff: Actor, standin: StripeStandin) -> None:
    inv = new_invoice(database, staff)
    gw = StripeGateway("sk_test_not_the_right_one", api_base=standin.url, max_network_retries=0)
    try:
        with pytest.raises(StripeRejected, match=r"refused the secret key.*STRIPE_SECRET_KEY"):
            _link(database, staff, inv.id, gw)
    finally:
        gw.close()


def test_expire_payment_link(
    database: Database, staff: Actor, standin: StripeStandin, gateway: StripeGateway
) -> None:
    inv = new_invoice(database, staff)
    link = _link(database, staff, inv.id, gateway)
    with database.session() as s:
        after = checkout.expire_payment_link(s, staff, inv.id, gateway)

    assert after.stripe_session_id is None and after.stripe_checkout_url is None
    assert standin.session(link.session_id)["status"] == "expired"
    assert actions(database, inv.id)[-1] == "payment_link.expired"
    with database.session() as s, pytest.raises(Conflict, match="no payment link"):
        checkout.expire_payment_link(s, staff, inv.id, gateway)


@pytest.mark.parametrize("minutes", [30, 31, 45, 90, 12 * 60, 23 * 60 + 50, 24 * 60])
def test_link_expiry_stays_in_stripes_bounds_and_steady_in_its_window(minutes: int) -> None:
    start = dt.datetime(2026, 3, 1, 10, 0, tzinfo=dt.UTC)
    for second in range(0, 15 * 60, 7):
        now = start + dt.timedelta(seconds=second)
        expiry = link_expiry(now, minutes)
        assert expiry == link_expiry(start, minutes)
        left = (expiry - now).total_seconds()
        assert 30 * 60 < left < 24 * 3600
        assert abs(left - minutes * 60) <= 31 * 60


def test_a_retry_with_other_parameters_gets_a_new_key_and_the_stray_is_swept(
    database: Database, staff: Actor, standin: StripeStandin, gateway: StripeGateway
) -> None:
    inv = new_invoice(database, staff)
    standin.fail_next(1, "lost_response")
    with pytest.raises(StripeUnavailable):
        _link(database, staff, inv.id, gateway)
    with database.session() as s, s.begin():  # the client's email is corrected meanwhile
        s.execute(
            update(Client).where(Client.id == inv.client_id).values(email="ada@lovelace.example")
        )

    link = _link(database, staff, inv.id, gateway)

    first, refused, second = standin.requests_to(*CREATE)
    assert first.idempotency_key == refused.idempotency_key != second.idempotency_key
    assert second.idempotency_key is not None
    assert second.idempotency_key.startswith(first.idempotency_key or "?")
    assert second.form["customer_email"] == "ada@lovelace.example"
    stray = next(s for s in standin.sessions() if s["id"] != link.session_id)
    assert stray["status"] == "open"

    from core.payments.reconcile import reconcile

    assert reconcile(database, gateway).orphans_expired == 1
    assert standin.session(stray["id"])["status"] == "expired"
    assert standin.session(link.session_id)["status"] == "open"


def test_a_link_stripe_does_not_know_is_replaced(
    database: Database, staff: Actor, standin: StripeStandin, gateway: StripeGateway
) -> None:
    """A test-mode link left on an invoice after the shop switched to its live key."""
    inv = new_invoice(database, staff)
    with database.session() as s, s.begin():
        s.execute(
            update(Invoice)
            .where(Invoice.id == inv.id)
            .values(
                stripe_session_id="cs_test_from_another_account",
                stripe_checkout_url="https://checkout.stripe.com/c/pay/cs_test_from_another_account",
                stripe_session_expires_at=dt.datetime.now(dt.UTC) + dt.timedelta(hours=5),
                stripe_session_amount_cents=11000,
            )
        )

    link = _link(database, staff, inv.id, gateway)

    assert not link.reused and link.session_id != "cs_test_from_another_account"
    assert invoice_row(database, inv.id).stripe_session_id == link.session_id
