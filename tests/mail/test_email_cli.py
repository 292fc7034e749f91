"""`printdesk email invoice ID [--to]` with the SMTP settings from the environment."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli.document_commands import app
from core.actor import Actor
from core.db.engine import Database
from tests.documents.sample import CLIENT_EMAIL, make_invoice, make_quote, set_up_shop
from tests.mail.conftest import SENDER, StartServer, free_port


@pytest.fixture
def cli_env(db_url: str, data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.setenv("PRINTDESK_SMTP_SECURITY", "none")
    monkeypatch.setenv("PRINTDESK_SMTP_FROM", SENDER)
    monkeypatch.setenv("PRINTDESK_SMTP_TIMEOUT_S", "10")
    return monkeypatch


def test_email_invoice_and_quote(
    database: Database, admin: Actor, mail_server: StartServer, cli_env: pytest.MonkeyPatch
) -> None:
    server = mail_server()
    cli_env.setenv("PRINTDESK_SMTP_HOST", "127.0.0.1")
    cli_env.setenv("PRINTDESK_SMTP_PORT", str(server.port))
    shop = set_up_shop(database, admin)
    invoice = make_invoice(database, admin, shop)
    quote = make_quote(database, admin, shop)
    runner = CliRunner()

    result = runner.invoke(app, ["email", "invoice", str(invoice.id)])
    assert result.exit_code == 0, result.output
    assert result.stdout.strip().endswith(f"to {CLIENT_EMAIL}")
    result = runner.invoke(app, ["email", "quote", str(quote.id), "--to", "buyer@angstrom.example"])
    assert result.exit_code == 0, result.output

    assert [d.rcpt_tos for d in server.delivered] == [[CLIENT_EMAIL], ["buyer@angstrom.example"]]
    assert server.delivered[0].message()["Subject"].startswith(f"Invoice {invoice.number}")


def test_email_failures_are_one_line(
    database: Database, admin: Actor, cli_env: pytest.MonkeyPatch
) -> None:
    shop = set_up_shop(database, admin)
    invoice = make_invoice(database, admin, shop)
    runner = CliRunner()

    cli_env.delenv("PRINTDESK_SMTP_HOST", raising=False)
    result = runner.invoke(app, ["email", "invoice", str(invoice.id)])
    assert result.exit_code == 1
    assert result.stderr.startswith("printdesk: Email is not set up")
    assert len(result.stderr.strip().splitlines()) == 1

    port = free_port()
    cli_env.setenv("PRINTDESK_SMTP_HOST", "127.0.0.1")
    cli_env.setenv("PRINTDESK_SMTP_PORT", str(port))
    result = runner.invoke(app, ["email", "invoice", str(invoice.id), "--to", "a@b.example"])
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(
        f"printdesk: Cannot reach the mail server 127.0.0.1:{port}"
    )
    assert "Traceback" not in result.output
