"""`printdesk pdf invoice|quote ID --out FILE` against the test database."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli.document_commands import app
from core.actor import Actor
from core.db.engine import Database
from tests.documents.sample import CLIENT_NAME, make_invoice, make_quote, pdf_text, set_up_shop


@pytest.fixture
def cli_env(db_url: str, data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", db_url)


@pytest.mark.usefixtures("cli_env")
def test_pdf_commands_write_the_documents(database: Database, admin: Actor, tmp_path: Path) -> None:
    shop = set_up_shop(database, admin)
    invoice = make_invoice(database, admin, shop)
    quote = make_quote(database, admin, shop)
    runner = CliRunner()

    out = tmp_path / "invoice.pdf"
    result = runner.invoke(app, ["pdf", "invoice", str(invoice.id), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"Wrote {out}")
    (text,) = pdf_text(out.read_bytes())
    assert invoice.number in text and CLIENT_NAME in text and "Sydney NSW 2000" in text

    out = tmp_path / "quote.pdf"
    result = runner.invoke(app, ["pdf", "quote", str(quote.id), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert quote.number in pdf_text(out.read_bytes())[0]


@pytest.mark.usefixtures("cli_env")
def test_pdf_command_failures_are_one_line(database: Database, tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(app, ["pdf", "invoice", "999", "--out", str(tmp_path / "x.pdf")])
    assert result.exit_code == 1
    assert result.stderr.strip() == "printdesk: No invoice with id 999."
    assert not (tmp_path / "x.pdf").exists()
