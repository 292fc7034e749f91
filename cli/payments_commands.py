"""`printdesk payments …`: Stripe payment links for invoices, and reconciliation with Stripe."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

import typer

from cli.support import ACTOR, database, emit, fail, run
from core.config import AppConfig
from core.money import format_money
from core.payments.checkout import PaymentLink, create_payment_link
from core.payments.reconcile import ReconcileReport, reconcile
from core.payments.stripe_client import StripeGateway, StripeNotConfigured
from core.wording import count_of

app = typer.Typer(help="Stripe payment links and reconciliation.", no_args_is_help=True)

JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object.")]


@contextmanager
def _stripe() -> Iterator[StripeGateway]:
    """The configured gateway; without a key, one line on stderr and exit 1 before any work."""
    config = AppConfig()
    gateway = StripeGateway.from_config(config)
    if not gateway.configured:
        fail(str(StripeNotConfigured(config.config_file)))
    try:
        yield gateway
    finally:
        gateway.close()


def _link_json(link: PaymentLink) -> dict[str, object]:
    return {
        "invoice_id": link.invoice_id,
        "invoice_number": link.invoice_number,
        "url": link.url,
        "session_id": link.session_id,
        "expires_at": link.expires_at,
        "amount": link.amount,
        "currency": link.currency,
        "reused": link.reused,
    }


@app.command("link")
def link(invoice_id: int, as_json: JsonOpt = False) -> None:
    """Make (or reuse) the Stripe payment link for an invoice's balance and print its URL."""
    with _stripe() as gateway, database() as db, db.session() as s:
        made = run(lambda: create_payment_link(s, ACTOR, invoice_id, stripe=gateway))
    if as_json:
        emit(_link_json(made), as_json=True)
        return
    typer.echo(made.url)
    state = "reused" if made.reused else "new"
    typer.echo(
        f"{made.invoice_number}: {format_money(made.amount, made.currency)}, {state} link, "
        f"open until {made.expires_at:%Y-%m-%d %H:%M} UTC",
        err=True,
    )


def _report_json(report: ReconcileReport) -> dict[str, object]:
    return {
        **report.summary(),
        "sessions": [
            {
                "session_id": item.session_id,
                "invoice_id": item.invoice_id,
                "invoice_number": item.invoice_number,
                "action": item.action,
                "message": item.message,
            }
            for item in report.items
        ],
        "error_messages": report.errors,
    }


@app.command("reconcile")
def reconcile_(as_json: JsonOpt = False) -> None:
    """Ask Stripe about every payment link and apply what the webhooks missed."""
    with _stripe() as gateway, database() as db:
        report = run(lambda: reconcile(db, gateway))
    if as_json:
        emit(_report_json(report), as_json=True)
    else:
        for item in report.items:
            if item.action not in ("still_open", "changed_meanwhile"):
                who = item.invoice_number or item.session_id
                typer.echo(f"{who}: {item.action.replace('_', ' ')} — {item.message}")
        typer.echo(
            f"Checked {count_of(report.checked, 'link')}: "
            f"{count_of(report.recorded, 'payment')} recorded ({report.flagged} flagged), "
            f"{report.already_recorded} already recorded, "
            f"{count_of(report.cleared_expired, 'expired link')} cleared, "
            f"{count_of(report.expired_stale, 'stale link')} expired, "
            f"{count_of(report.orphans_expired, 'stray link')} expired, "
            f"{count_of(report.pending, 'payment')} still clearing, {report.still_open} open."
        )
    if report.errors:
        for message in report.errors:
            typer.echo(f"printdesk: {message}", err=True)
        raise typer.Exit(1)
