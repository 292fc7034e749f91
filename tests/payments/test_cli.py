"""`printdesk payments link|reconcile`, run through Typer against the stand-in and a test database.

The group is invoked directly (``cli.payments_commands.app``): its registration in
``cli/commands.py`` is one line that belongs to that file's owner.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from cli import payments_commands
from core.actor import Actor
from core.db.engine import Database
from tests.payments.conftest import new_invoice, pay_cash, stripe_payments
from tests.stripe_standin import StripeStandin


@pytest.fixture
def env(db_url: str, standin: StripeStandin, tmp_path: Path) -> dict[str, str | None]:
    return {
        "DATABASE_URL": db_url,
        "STRIPE_SECRET_KEY": standin.api_key,
        "PRINTDESK_STRIPE_API_BASE": standin.url,
        "PRINTDESK_CONFIG": str(tmp_path / "none.toml"),
        "PRINTDESK_DATA_DIR": str(tmp_path / "data"),
    }


def _run(env: dict[str, str | None], *args: str) -> Result:
    return CliRunner().invoke(payments_commands.app, list(args), env=env)


def test_link_prints_the_url_and_reuses_it(
    database: Database, staff: Actor, standin: StripeStandin, env: dict[str, str | None]
) -> None:
    inv = new_invoice(database, staff)

    made = _run(env, "link", str(inv.id), "--json")
    assert made.exit_code == 0, made.output
    data = json.loads(made.stdout)
    assert data["amount"] == "110.00" and data["currency"] == "AUD" and not data["reused"]
    assert data["url"] == standin.session(data["session_id"])["url"]

    again = _run(env, "link", str(inv.id))
    assert again.exit_code == 0, again.output
    assert again.stdout.strip() == data["url"]
    assert "reused link" in again.stderr and inv.number in again.stderr


def test_without_a_key_one_line_and_exit_1(
    database: Database, staff: Actor, standin: StripeStandin, env: dict[str, str | None]
) -> None:
    inv = new_invoice(database, staff)
    for args in (["link", str(inv.id)], ["reconcile"]):
        result = _run({**env, "STRIPE_SECRET_KEY": None}, *args)
        assert result.exit_code == 1
        assert result.stdout == ""
        (line,) = result.stderr.strip().splitlines()
        assert line.startswith("printdesk: Stripe is not set up") and "STRIPE_SECRET_KEY" in line
    assert standin.requests == []


def test_a_refusal_is_one_line(
    database: Database, admin: Actor, standin: StripeStandin, env: dict[str, str | None]
) -> None:
    inv = new_invoice(database, admin)
    pay_cash(database, admin, inv.id, "110.00")
    result = _run(env, "link", str(inv.id))
    assert result.exit_code == 1
    assert (
        result.stderr.strip()
        == f"printdesk: {inv.number} is already paid in full; there is nothing to pay."
    )


def test_reconcile_reports_and_is_idempotent(
    database: Database, staff: Actor, standin: StripeStandin, env: dict[str, str | None]
) -> None:
    inv = new_invoice(database, staff)
    made = json.loads(_run(env, "link", str(inv.id), "--json").stdout)
    standin.complete_session(made["session_id"], payment_intent="pi_test_cli")

    first = _run(env, "reconcile", "--json")
    assert first.exit_code == 0, first.output
    report = json.loads(first.stdout)
    assert (report["recorded"], report["changed"], report["errors"]) == (1, 1, 0)
    assert report["sessions"][0]["invoice_number"] == inv.number
    assert report["sessions"][0]["action"] == "recorded"

    second = _run(env, "reconcile")
    assert second.exit_code == 0, second.output
    assert "0 payments recorded" in second.stdout
    assert len(stripe_payments(database)) == 1


def test_reconcile_with_stripe_down_exits_1(
    database: Database, staff: Actor, standin: StripeStandin, env: dict[str, str | None]
) -> None:
    inv = new_invoice(database, staff)
    _run(env, "link", str(inv.id))
    standin.clear_requests()
    standin.fail_next(3, "500")  # the command's gateway tries three times, like the desktop's
    result = _run(env, "reconcile")
    assert result.exit_code == 1
    assert "HTTP 500" in result.stderr
    tries = standin.requests_to("GET", "/v1/checkout/sessions/*")
    assert [r.fault for r in tries] == ["500", "500", "500"]
