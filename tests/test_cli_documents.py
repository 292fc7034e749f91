"""The CLI contract for quotes, invoices and payments, run as a real subprocess."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.db.engine import Database
from tests.cli_runner import Result, printdesk
from tests.factories import make_client


@pytest.fixture
def run(db_url: str, tmp_path: Path):  # type: ignore[no-untyped-def]
    def call(*args: str, stdin: str | None = None) -> Result:
        return printdesk(*args, db_url=db_url, data_dir=tmp_path, stdin=stdin)

    return call


def _refused(result: Result, text: str) -> None:
    assert result.code != 0
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert text in lines[0]
    assert "Traceback" not in result.stderr


def test_invoice_create_pay_show(database: Database, run) -> None:  # type: ignore[no-untyped-def]
    client = make_client(database)
    created = run(
        "invoice", "create", "--client", str(client), "--item", "Bracket|2|50.00", "--json"
    )
    assert created.code == 0, created.stderr
    inv = created.json()
    assert inv["number"] == "INV-0001"
    assert (inv["subtotal"], inv["tax_total"], inv["total"]) == ("100.00", "10.00", "110.00")

    paid = run(
        "invoice",
        "pay",
        str(inv["id"]),
        "--amount",
        "60",
        "--method",
        "cash",
        "--reference",
        "till 2",
    )
    assert paid.code == 0, paid.stderr
    assert "balance due A$50.00" in paid.stdout

    shown = run("invoice", "show", str(inv["id"]), "--json").json()
    assert shown["status"] == "PENDING" and shown["balance_due"] == "50.00"
    assert shown["payments"] == [
        {
            "id": shown["payments"][0]["id"],
            "amount": "60.00",
            "method": "CASH",
            "processor": None,
            "processor_id": None,
            "reference": "till 2",
            "paid_at": shown["payments"][0]["paid_at"],
        }
    ]
    assert shown["refunds"] == [] and shown["stripe_session_id"] is None
    assert "stripe_checkout_url" in shown

    _refused(
        run("invoice", "pay", str(inv["id"]), "--amount", "50.01", "--method", "cash"),
        "more than the A$50.00 still owed",
    )
    bank = run(
        "invoice", "pay", str(inv["id"]), "--amount", "50", "--method", "bank_transfer", "--json"
    ).json()
    assert bank["status"] == "PAID" and bank["balance_due"] == "0.00"
    _refused(
        run("invoice", "pay", str(inv["id"]), "--amount", "1", "--method", "cash"),
        "already paid in full",
    )
    _refused(run("invoice", "delete", str(inv["id"])), "has payments recorded")


def test_quote_convert_and_delete(database: Database, run) -> None:  # type: ignore[no-untyped-def]
    client = make_client(database)
    q = run(
        "quote",
        "create",
        "--client",
        str(client),
        "--item",
        "Gear|3|12.34",
        "--item",
        "Setup|1|20",
        "--json",
    ).json()
    assert q["number"] == "QT-0001" and q["status"] == "DRAFT" and q["total"] == "62.72"
    converted = run("quote", "convert", str(q["id"]), "--json")
    assert converted.code == 0, converted.stderr
    inv = converted.json()
    assert inv["number"] == "INV-0001" and inv["total"] == "62.72"
    assert inv["source_quote_id"] == q["id"]
    _refused(run("quote", "convert", str(q["id"])), "already converted to INV-0001")
    assert run("quote", "delete", str(q["id"])).code == 0
    assert run("invoice", "void", str(inv["id"]), "--json").json()["status"] == "VOID"
    assert run("invoice", "delete", str(inv["id"])).stdout.strip() == "Deleted INV-0001."
    _refused(run("invoice", "show", str(inv["id"])), "No invoice with id")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("invoice", "create", "--client", "1", "--item", "no pipes"), "must look like"),
        (("invoice", "create", "--client", "1", "--item", "x|1|abc"), "is not a number"),
        (("invoice", "create", "--client", "999", "--item", "x|1|1"), "No client with id 999"),
        (("invoice", "pay", "1", "--amount", "5", "--method", "card"), "Unknown method"),
        (("invoice", "pay", "1", "--amount", "-5", "--method", "cash"), "cannot be negative"),
        (("invoice", "show", "42"), "No invoice with id 42"),
        (("quote", "convert", "42"), "No quote with id 42"),
    ],
)
def test_refusals_are_one_line(run, args: tuple[str, ...], message: str) -> None:  # type: ignore[no-untyped-def]
    _refused(run(*args), message)
