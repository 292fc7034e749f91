"""`printdesk quote …`: make quotes, move them through their statuses, convert them."""

from __future__ import annotations

from typing import Annotated

import typer

from cli.documents import add_create_command, invoice_json, quote_json
from cli.file_commands import drain_after_delete
from cli.storage_commands import shop_storage
from cli.support import ACTOR, database, emit, fail, run
from core.money import format_money
from core.services import quotes
from core.services.quotes import QuoteView

app = typer.Typer(help="Quotes: create, send, accept, decline, convert.", no_args_is_help=True)

JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object.")]


def _line(q: QuoteView) -> str:
    return (
        f"{q.number} ({q.status.value}) for {q.client_name}: total "
        f"{format_money(q.total, q.currency)}, valid until {q.expiry_date} [id {q.id}]"
    )


add_create_command(
    app,
    doc="Create a draft quote.",
    create=lambda s, items, terms, client: quotes.create_quote(s, ACTOR, client, items, terms),
    to_json=quote_json,
    line=_line,
)


@app.command("show")
def show(quote_id: int, as_json: JsonOpt = False) -> None:
    """Show a quote."""
    with database() as db, db.session() as s:
        q = run(lambda: quotes.get_quote(s, quote_id))
    emit(quote_json(q), as_json=as_json, text=_line)


@app.command("list")
def list_(
    status: Annotated[
        str | None, typer.Option(help="DRAFT, PENDING, ACCEPTED, DECLINED, CONVERTED")
    ] = None,
    search: Annotated[str, typer.Option(help="Number or client name.")] = "",
    limit: int = 50,
    as_json: JsonOpt = False,
) -> None:
    """List quotes, newest first."""
    valid = {"DRAFT", "PENDING", "ACCEPTED", "DECLINED", "CONVERTED"}
    if status and status.upper() not in valid:
        fail(f"Unknown status {status!r}: use {', '.join(sorted(valid))}.")
    flt = quotes.QuoteFilter(status=status.upper() if status else None, text=search)
    with database() as db, db.session() as s:
        rows = quotes.list_quotes(s, flt, limit=limit)
    if as_json:
        emit(
            {
                "quotes": [
                    {
                        "id": r.id,
                        "number": r.number,
                        "status": r.status.value,
                        "client": r.client_name,
                        "total": r.total,
                        "expiry_date": r.expiry_date,
                    }
                    for r in rows
                ]
            },
            as_json=True,
        )
        return
    for r in rows:
        typer.echo(
            f"{r.number:<12} {r.status.value:<10} {r.client_name:<30} "
            f"{format_money(r.total, r.currency):>14}"
        )


def _transition(name: str, verb: str, doc: str) -> None:
    action = getattr(quotes, f"{name}_quote")

    def command(quote_id: int, as_json: JsonOpt = False) -> None:
        with database() as db, db.session() as s:
            q = run(lambda: action(s, ACTOR, quote_id))
        emit(quote_json(q), as_json=as_json, text=f"{verb} {_line(q)}")

    command.__doc__ = doc
    app.command(name)(command)


_transition("send", "Sent", "Mark a quote as sent to the client.")
_transition("accept", "Accepted", "Record that the client accepted the quote.")
_transition("decline", "Declined", "Record that the client declined the quote.")
_transition("duplicate", "Duplicated as", "Copy a quote into a new draft.")


@app.command("convert")
def convert(quote_id: int, as_json: JsonOpt = False) -> None:
    """Turn a quote into an invoice, in one step that either happens whole or not at all."""
    with database() as db, db.session() as s:
        inv = run(lambda: quotes.convert_to_invoice(s, ACTOR, quote_id))
    emit(
        invoice_json(inv),
        as_json=as_json,
        text=f"Converted to {inv.number}: {format_money(inv.total, inv.currency)} [id {inv.id}]",
    )


@app.command("delete")
def delete(quote_id: int, as_json: JsonOpt = False) -> None:
    """Delete a quote; files that belong to it alone are removed from storage too."""
    with database() as db:
        with db.session() as s:
            number = run(lambda: quotes.delete_quote(s, ACTOR, quote_id))
        # Committed: the objects of its files go now, not at the next maintenance run.
        with shop_storage() as storage:
            drain_after_delete(db, storage)
    emit(
        {"id": quote_id, "number": number, "deleted": True},
        as_json=as_json,
        text=f"Deleted {number}.",
    )
