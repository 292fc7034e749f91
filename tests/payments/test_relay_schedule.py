"""The relay's scheduled maintenance reconciles open payment links when Stripe is set up."""

from __future__ import annotations

from pathlib import Path

from core.actor import Actor
from core.config import AppConfig
from core.db.engine import Database
from core.enums import InvoiceStatus
from core.payments import checkout
from core.payments.stripe_client import StripeGateway
from relay.maintenance import run_maintenance
from tests.payments.conftest import new_invoice, stripe_payments, view
from tests.relay.conftest import as_relay_role
from tests.stripe_standin import StripeStandin


def test_a_missed_webhook_is_settled_by_the_schedule(
    database: Database,
    db_url: str,
    staff: Actor,
    standin: StripeStandin,
    gateway: StripeGateway,
    tmp_path: Path,
) -> None:
    inv = new_invoice(database, staff)
    with database.session() as s:
        link = checkout.create_payment_link(s, staff, inv.id, stripe=gateway)
    standin.complete_session(link.session_id)  # paid at Stripe; the webhook never arrives

    config = AppConfig(
        data_dir=tmp_path / "relay-data",
        stripe_secret_key=standin.api_key,
        stripe_api_base=standin.url,
        database_url=db_url,
    )
    relay_db = Database.from_url(as_relay_role(db_url))
    try:
        run_maintenance(config, relay_db)
        run_maintenance(config, relay_db)  # a second round changes nothing
    finally:
        relay_db.dispose()

    assert view(database, inv.id).status is InvoiceStatus.PAID
    assert len(stripe_payments(database)) == 1
