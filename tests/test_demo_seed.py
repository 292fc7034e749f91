"""The demo shop and the bulk invoices: every status present, the money consistent in SQL."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from cli import demo_commands
from core.actor import SYSTEM_ACTOR
from core.db.engine import Database
from core.enums import InvoiceStatus, JobStatus, QuoteStatus, Role
from core.errors import Conflict
from core.pricing import PriceBreakdown
from core.services import demo, invoices, jobs, printers, users
from tests.cli_runner import printdesk
from tests.conftest import PgCluster
from tests.factories import item, make_client

# Every invoice whose money does not add up: amount_paid is payments − refunds; the balance is
# total − payments + refunds, except a VOID invoice, which owes nothing and keeps no money.
MONEY_MISMATCHES = """
    WITH paid AS (SELECT invoice_id, sum(amount) AS amount FROM payments GROUP BY invoice_id),
         refunded AS (SELECT invoice_id, sum(amount) AS amount FROM refunds GROUP BY invoice_id),
         items AS (SELECT invoice_id, sum(line_total) AS amount, count(*) AS n
                   FROM invoice_items GROUP BY invoice_id)
    SELECT i.number, i.status, i.total, i.amount_paid, i.balance_due
    FROM invoices i
    LEFT JOIN paid p ON p.invoice_id = i.id
    LEFT JOIN refunded r ON r.invoice_id = i.id
    LEFT JOIN items it ON it.invoice_id = i.id
    WHERE i.amount_paid <> coalesce(p.amount, 0) - coalesce(r.amount, 0)
       OR (i.status <> 'VOID'
           AND i.balance_due <> i.total - coalesce(p.amount, 0) + coalesce(r.amount, 0))
       OR (i.status = 'VOID' AND (i.balance_due <> 0 OR i.amount_paid <> 0))
       OR (i.status = 'PAID' AND i.balance_due <> 0)
       OR (i.status = 'PENDING' AND i.balance_due <= 0)
       OR coalesce(it.amount, -1) <> i.subtotal
       OR i.total <> i.subtotal - i.discount_total + i.shipping_amount
                     + CASE WHEN i.tax_inclusive THEN 0 ELSE i.tax_total END
"""
PRINTERS_OVER_ONE_PRINTING = """
    SELECT printer_id, count(*) FROM jobs WHERE status = 'PRINTING'
    GROUP BY printer_id HAVING count(*) > 1 OR printer_id IS NULL
"""
PRINTING_ON_INACTIVE = """
    SELECT j.id FROM jobs j JOIN printers p ON p.id = j.printer_id
    WHERE j.status = 'PRINTING' AND p.status <> 'ACTIVE'
"""


def rows(db: Database, sql: str, **params: Any) -> list[Any]:
    with db.engine.connect() as conn:
        return list(conn.execute(text(sql), params).all())


def scalar(db: Database, sql: str, **params: Any) -> Any:
    with db.engine.connect() as conn:
        return conn.execute(text(sql), params).scalar()


@pytest.fixture(scope="module")
def seeded(pg_cluster: PgCluster) -> Iterator[tuple[Database, demo.DemoSummary, list[float]]]:
    """One demo shop for the read-only checks of this module (seeding takes a few seconds)."""
    name = pg_cluster.create_database()
    db = Database.from_url(pg_cluster.uri(name))
    reported: list[float] = []
    try:
        yield db, demo.seed_demo_shop(db, progress=reported.append), reported
    finally:
        db.dispose()
        pg_cluster.drop_database(name)


def test_every_quote_and_invoice_status_is_there(
    seeded: tuple[Database, demo.DemoSummary, list[float]],
) -> None:
    db, summary, _ = seeded
    quote_statuses = {r[0] for r in rows(db, "SELECT DISTINCT status FROM quotes")}
    assert quote_statuses == {s.value for s in QuoteStatus}
    invoice_statuses = {r[0] for r in rows(db, "SELECT DISTINCT status FROM invoices")}
    assert invoice_statuses == {s.value for s in InvoiceStatus}
    assert set(summary.invoices_by_status) == {"PENDING", "OVERDUE", "PAID", "VOID", "WRITTEN_OFF"}
    assert summary.quotes_by_status == {
        "ACCEPTED": 2,
        "CONVERTED": 4,
        "DECLINED": 2,
        "DRAFT": 3,
        "PENDING": 4,
    }
    assert summary.invoices == scalar(db, "SELECT count(*) FROM invoices") == 34
    # Overdue (issued in the past, due date gone) and current pending invoices both exist.
    assert scalar(
        db, "SELECT count(*) FROM invoices WHERE status = 'PENDING' AND due_date < current_date"
    )
    assert scalar(
        db, "SELECT count(*) FROM invoices WHERE status = 'PENDING' AND due_date >= current_date"
    )
    # Partly paid, paid by each method, Stripe with processor ids, and one refunded.
    assert scalar(db, "SELECT count(*) FROM invoices WHERE status = 'PENDING' AND amount_paid > 0")
    methods = {
        r[0]
        for r in rows(
            db,
            "SELECT DISTINCT p.method FROM payments p JOIN invoices i ON i.id = p.invoice_id "
            "WHERE i.status = 'PAID'",
        )
    }
    assert {"CASH", "BANK_TRANSFER", "STRIPE"} <= methods
    assert not scalar(
        db,
        "SELECT count(*) FROM payments WHERE method = 'STRIPE' "
        "AND (processor <> 'stripe' OR processor_id NOT LIKE 'pi\\_demo\\_%')",
    )
    assert scalar(db, "SELECT count(*) FROM refunds WHERE processor_id LIKE 're\\_demo\\_%'") == 1
    assert summary.refunds == 1
    # Converted quotes point at their invoices, and those name their quotes back.
    assert not scalar(
        db,
        "SELECT count(*) FROM quotes q LEFT JOIN invoices i ON i.id = q.converted_invoice_id "
        "WHERE q.status = 'CONVERTED' AND (i.id IS NULL OR i.source_quote_id <> q.id)",
    )
    # Quotes carry the dates they were written, not all today's.
    assert scalar(db, "SELECT count(DISTINCT issue_date) FROM quotes") > 5


def test_money_adds_up_on_every_invoice(
    seeded: tuple[Database, demo.DemoSummary, list[float]],
) -> None:
    db, _, _ = seeded
    assert rows(db, MONEY_MISMATCHES) == []


def test_items_are_priced_through_the_pricing_rules(
    seeded: tuple[Database, demo.DemoSummary, list[float]],
) -> None:
    db, _, _ = seeded
    printed = rows(
        db,
        "SELECT description, quantity, unit_price, line_total, breakdown FROM invoice_items "
        "WHERE breakdown ? 'unit_price'",
    )
    assert len(printed) > 30
    for description, quantity, unit_price, line_total, breakdown in printed:
        price = PriceBreakdown.from_json(breakdown)
        assert price.unit_price == unit_price, description
        assert price.quantity == quantity
        assert breakdown["printer"] in {
            "creality_ender3",
            "prusa_i3_mk3",
            "ultimaker2_plus",
            "creality_cr10",
        }
        assert f"{breakdown['settings']['infill_sparse_density']} % infill" in description
        assert line_total == unit_price * quantity  # no line discounts on printed parts


def test_jobs_follow_the_printing_rules(
    seeded: tuple[Database, demo.DemoSummary, list[float]],
) -> None:
    db, summary, _ = seeded
    assert rows(db, PRINTERS_OVER_ONE_PRINTING) == []
    assert rows(db, PRINTING_ON_INACTIVE) == []
    statuses = {r[0] for r in rows(db, "SELECT DISTINCT status FROM jobs")}
    assert {"PRINTING", "QUEUED", "POST_PROCESSING", "COMPLETED", "CANCELLED"} <= statuses
    # Every active printer prints one job; the one in maintenance prints nothing.
    assert scalar(db, "SELECT count(*) FROM jobs WHERE status = 'PRINTING'") == scalar(
        db, "SELECT count(*) FROM printers WHERE status = 'ACTIVE'"
    )
    assert scalar(db, "SELECT count(*) FROM printers WHERE status = 'MAINTENANCE'") == 1
    assert summary.printers == 4
    assert summary.jobs_by_status.get(JobStatus.PRINTING.value) == 3
    # Jobs of void invoices were cancelled by the service, not left on the board.
    assert not scalar(
        db,
        "SELECT count(*) FROM jobs j JOIN invoices i ON i.id = j.invoice_id "
        "WHERE i.status = 'VOID' AND j.status <> 'CANCELLED'",
    )
    # The services wrote the activity log as they went.
    assert scalar(db, "SELECT count(*) FROM activity_log WHERE action = 'job.status'") > 10


def test_clients_users_and_business_look_real(
    seeded: tuple[Database, demo.DemoSummary, list[float]],
) -> None:
    db, summary, reported = seeded
    assert summary.clients == scalar(db, "SELECT count(*) FROM clients") == 25
    assert scalar(db, "SELECT count(*) FROM clients WHERE name = 'Zoë Ångström'") == 1
    assert not scalar(
        db, "SELECT count(*) FROM clients WHERE email IS NOT NULL AND email NOT LIKE '%.example'"
    )
    business = scalar(db, "SELECT data -> 'business' FROM settings")
    assert business["name"] == demo.SHOP_NAME
    assert business["tax_id"].startswith("ABN ")
    assert "BSB" in business["bank_details"]
    assert len(summary.logins) == 2
    with db.session() as s:
        owner = users.authenticate(s, demo.OWNER_EMAIL, demo.OWNER_PASSWORD)
        staff = users.authenticate(s, demo.STAFF_EMAIL, demo.STAFF_PASSWORD)
    assert owner.role is Role.ADMIN
    assert staff.role is Role.STAFF
    assert reported[-1] == 1.0
    assert reported == sorted(reported)


def test_the_same_seed_makes_the_same_shop(
    pg_cluster: PgCluster, seeded: tuple[Database, demo.DemoSummary, list[float]]
) -> None:
    first, _, _ = seeded
    name = pg_cluster.create_database()
    second = Database.from_url(pg_cluster.uri(name))
    try:
        demo.seed_demo_shop(second)
        ledger = (
            "SELECT i.number, i.issue_date, i.status, i.total, i.balance_due, c.name "
            "FROM invoices i JOIN clients c ON c.id = i.client_id ORDER BY i.number"
        )
        quotes = "SELECT number, status, total, issue_date FROM quotes ORDER BY number"
        assert rows(first, ledger) == rows(second, ledger)
        assert rows(first, quotes) == rows(second, quotes)
    finally:
        second.dispose()
        pg_cluster.drop_database(name)


def test_refuses_a_database_with_invoices_unless_forced(database: Database) -> None:
    # A shop already at work: a staff account, and a job printing on its Ender 3.
    with database.session() as s:
        users.add_user(s, SYSTEM_ACTOR, demo.STAFF_EMAIL, "Sam", Role.STAFF, "their-own-password")
        invoice = invoices.create_invoice(s, SYSTEM_ACTOR, make_client(database), [item()])
        ender = printers.list_printers(s)[0]
        job = jobs.get_job_for_invoice(s, invoice.id)
        assert job is not None
        jobs.move_job(s, SYSTEM_ACTOR, job.id, ender.id, 1)
        jobs.set_status(s, SYSTEM_ACTOR, job.id, JobStatus.PRINTING)
    with pytest.raises(Conflict, match="already has 1 invoice"):
        demo.seed_demo_shop(database)
    assert scalar(database, "SELECT count(*) FROM clients") == 1

    summary = demo.seed_demo_shop(database, force=True)
    assert summary.invoices == 34
    # Printers, materials and the staff account are reused (its password kept); no owner is
    # made where users exist; the Ender 3 keeps its one job printing.
    assert summary.logins == (demo.DemoLogin(demo.STAFF_EMAIL, "Sam", Role.STAFF, None),)
    assert scalar(database, "SELECT count(*) FROM printers") == 4
    assert scalar(database, "SELECT count(*) FROM materials") == 7
    assert rows(database, PRINTERS_OVER_ONE_PRINTING) == []
    assert rows(database, PRINTING_ON_INACTIVE) == []
    assert scalar(database, "SELECT count(*) FROM jobs WHERE status = 'PRINTING'") == 3
    assert rows(database, MONEY_MISMATCHES) == []
    with database.session() as s:
        assert users.authenticate(s, demo.STAFF_EMAIL, "their-own-password").role is Role.STAFF


def test_bulk_invoices_are_consistent_and_numbered_from_the_sequence(database: Database) -> None:
    demo.seed_invoices_bulk(database, 5_000, client_count=50)
    assert scalar(database, "SELECT count(*) FROM invoices") == 5_000
    assert scalar(database, "SELECT count(*) FROM invoice_items") == 5_000
    assert rows(database, MONEY_MISMATCHES) == []
    statuses = {
        r[0]: r[1] for r in rows(database, "SELECT status, count(*) FROM invoices GROUP BY 1")
    }
    assert set(statuses) == {s.value for s in InvoiceStatus}
    assert scalar(
        database,
        "SELECT count(*) FROM invoices WHERE status = 'PENDING' AND due_date < current_date",
    )
    # Numbers rise with ids and with issue dates, without gaps.
    numbers = rows(database, "SELECT number, issue_date FROM invoices ORDER BY id")
    assert [n for n, _ in numbers] == [f"INV-{i:04d}" for i in range(1, 5_001)]
    assert [d for _, d in numbers] == sorted(d for _, d in numbers)
    with database.session() as s:
        client_id = scalar(database, "SELECT min(id) FROM clients")
        made = invoices.create_invoice(s, SYSTEM_ACTOR, client_id, [item()])
    assert made.number == "INV-5001"


def test_cli_seeds_prints_the_sign_ins_and_refuses_a_second_time(
    db_url: str, tmp_path: Path
) -> None:
    from cli.main import app as root

    def run(*args: str) -> tuple[int, str, str]:
        if any(group.name == "demo" for group in root.registered_groups):
            done = printdesk("demo", *args, db_url=db_url, data_dir=tmp_path)
            return done.code, done.stdout, done.stderr
        # The group is not wired into `printdesk` yet: run its own typer app.
        env = {
            "DATABASE_URL": db_url,
            "PRINTDESK_DATA_DIR": str(tmp_path),
            "PRINTDESK_CONFIG": str(tmp_path / "none.toml"),
        }
        outcome = CliRunner().invoke(demo_commands.app, list(args), env=env)
        return outcome.exit_code, outcome.stdout, outcome.stderr

    code, out, err = run("seed", "--json")
    assert code == 0, err
    report = json.loads(out)
    assert report["invoices"]["total"] == 34
    assert report["quotes"]["by_status"]["CONVERTED"] == 4
    assert {login["email"]: login["password"] for login in report["logins"]} == {
        demo.OWNER_EMAIL: demo.OWNER_PASSWORD,
        demo.STAFF_EMAIL: demo.STAFF_PASSWORD,
    }
    code, out, err = run("seed")
    assert code == 1
    assert "already has 34 invoices" in err
    assert "--force" in err


def test_the_text_summary_names_counts_and_sign_ins(
    seeded: tuple[Database, demo.DemoSummary, list[float]],
) -> None:
    _, summary, _ = seeded
    shown = demo_commands.summary_text(summary)
    assert "Harbourside 3D Printing" in shown
    assert "4 converted" in shown
    assert f"{demo.OWNER_EMAIL}  password {demo.OWNER_PASSWORD}  (admin)" in shown
    assert "password demo-staff-password  (staff)" in shown
