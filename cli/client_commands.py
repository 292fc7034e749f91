"""`printdesk client …`: the shop's clients."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

import typer

from cli.support import ACTOR, database, emit, run
from core.services import clients
from core.services.clients import ClientInput, ClientView

app = typer.Typer(help="Clients: add, show, list.", no_args_is_help=True)

JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object.")]


def _json(c: ClientView) -> dict[str, object]:
    data = asdict(c)
    data.pop("created_at")
    data.pop("updated_at")
    return data


@app.command("add")
def add(
    name: Annotated[str, typer.Option(help="Client or contact name.")],
    email: Annotated[str | None, typer.Option(help="Email address.")] = None,
    phone: Annotated[str | None, typer.Option(help="Phone number.")] = None,
    company: Annotated[str | None, typer.Option(help="Company.")] = None,
    address: Annotated[str | None, typer.Option(help="Postal address.")] = None,
    tax_id: Annotated[str | None, typer.Option(help="ABN or other tax id.")] = None,
    payment_terms: Annotated[int, typer.Option(help="Days to pay an invoice.")] = 14,
    notes: Annotated[str | None, typer.Option(help="Notes.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Add a client."""
    data = ClientInput(
        name=name,
        email=email,
        phone=phone,
        company=company,
        address=address,
        tax_id=tax_id,
        payment_terms_days=payment_terms,
        notes=notes,
    )
    with database() as db, db.session() as s:
        client = run(lambda: clients.create_client(s, ACTOR, data))
    emit(_json(client), as_json=as_json, text=f"Added client {client.name} [id {client.id}]")


@app.command("show")
def show(client_id: int, as_json: JsonOpt = False) -> None:
    """Show a client."""
    with database() as db, db.session() as s:
        client = run(lambda: clients.get_client(s, client_id))
    emit(
        _json(client),
        as_json=as_json,
        text=lambda _: (
            f"{client.name} <{client.email or '-'}> {client.phone or ''} [id {client.id}]"
        ),
    )


@app.command("list")
def list_(
    search: Annotated[str, typer.Option(help="Name, company, email or phone.")] = "",
    limit: int = 50,
    as_json: JsonOpt = False,
) -> None:
    """List clients by name."""
    with database() as db, db.session() as s:
        rows = clients.search_clients(s, search, limit=limit)
    if as_json:
        emit({"clients": [_json(c) for c in rows]}, as_json=True)
        return
    for c in rows:
        typer.echo(f"{c.id:>5}  {c.name:<30} {c.email or '':<30} {c.phone or ''}")
