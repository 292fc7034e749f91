"""`printdesk pdf …` and `printdesk email …`: quote and invoice PDFs, and emailing them."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cli.support import ACTOR, database, fail, run
from core import mail
from core.config import AppConfig
from core.documents import render_invoice_pdf, render_quote_pdf
from core.services import clients, invoices, quotes
from core.services import settings as shop_settings

app = typer.Typer(no_args_is_help=True)
pdf_app = typer.Typer(help="Quote and invoice PDFs.", no_args_is_help=True)
email_app = typer.Typer(help="Email invoices, quotes and payment links.", no_args_is_help=True)
app.add_typer(pdf_app, name="pdf")
app.add_typer(email_app, name="email")

OutOpt = Annotated[Path, typer.Option("--out", "-o", help="Where to write the PDF.")]
ToOpt = Annotated[
    str | None, typer.Option("--to", help="Send here instead of the client's address.")
]


def _write(path: Path, pdf: bytes) -> None:
    try:
        path.write_bytes(pdf)
    except OSError as exc:
        fail(f"Cannot write {path}: {exc.strerror or exc}.")
    typer.echo(f"Wrote {path} ({len(pdf):,} bytes)")


@pdf_app.command("invoice")
def pdf_invoice(
    invoice_id: Annotated[int, typer.Argument(help="Invoice id.")],
    out: OutOpt,
    payment_url: Annotated[
        str | None, typer.Option(help="Payment link to print (default: the open Checkout link).")
    ] = None,
) -> None:
    """Write an invoice's PDF."""
    with database() as db, db.session() as s:

        def render() -> bytes:
            invoice = invoices.get_invoice(s, invoice_id)
            shop, _ = shop_settings.get_settings(s)
            client = clients.get_client(s, invoice.client_id)
            url = payment_url or mail.current_payment_url(invoice)
            return render_invoice_pdf(invoice, shop, payment_url=url, client=client)

        pdf = run(render)
    _write(out, pdf)


@pdf_app.command("quote")
def pdf_quote(
    quote_id: Annotated[int, typer.Argument(help="Quote id.")],
    out: OutOpt,
) -> None:
    """Write a quote's PDF."""
    with database() as db, db.session() as s:

        def render() -> bytes:
            quote = quotes.get_quote(s, quote_id)
            shop, _ = shop_settings.get_settings(s)
            client = clients.get_client(s, quote.client_id)
            return render_quote_pdf(quote, shop, client=client)

        pdf = run(render)
    _write(out, pdf)


def _mail_settings() -> mail.MailSettings:
    return run(lambda: mail.MailSettings.from_config(AppConfig()))


@email_app.command("invoice")
def email_invoice(
    invoice_id: Annotated[int, typer.Argument(help="Invoice id.")], to: ToOpt = None
) -> None:
    """Email an invoice with its PDF (and the payment link while one is open)."""
    settings = _mail_settings()
    with database() as db, db.session() as s:
        sent = run(lambda: mail.send_invoice(s, ACTOR, invoice_id, mail=settings, to=to))
    typer.echo(f"Sent “{sent.subject}” to {sent.to}")


@email_app.command("quote")
def email_quote(
    quote_id: Annotated[int, typer.Argument(help="Quote id.")], to: ToOpt = None
) -> None:
    """Email a quote with its PDF; a draft quote is marked as sent."""
    settings = _mail_settings()
    with database() as db, db.session() as s:
        sent = run(lambda: mail.send_quote(s, ACTOR, quote_id, mail=settings, to=to))
    typer.echo(f"Sent “{sent.subject}” to {sent.to}")


@email_app.command("link")
def email_link(
    invoice_id: Annotated[int, typer.Argument(help="Invoice id.")],
    to: ToOpt = None,
    payment_url: Annotated[
        str | None, typer.Option(help="Link to send (default: the open Checkout link).")
    ] = None,
) -> None:
    """Email only the link to pay an invoice online."""
    settings = _mail_settings()
    with database() as db, db.session() as s:
        sent = run(
            lambda: mail.send_payment_link(
                s, ACTOR, invoice_id, mail=settings, to=to, payment_url=payment_url
            )
        )
    typer.echo(f"Sent “{sent.subject}” to {sent.to}")
