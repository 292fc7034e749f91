"""`printdesk user …`: the people who sign in at the counter."""

from __future__ import annotations

from typing import Annotated

import typer

from cli.support import ACTOR, database, emit, fail, read_password_stdin, run
from core.enums import Role
from core.services import users

app = typer.Typer(help="Users who sign in to PrintDesk.", no_args_is_help=True)

JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object.")]


@app.command("add")
def add(
    email: str,
    role: Annotated[str, typer.Option(help="admin or staff.")],
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input.")
    ] = False,
    name: Annotated[str, typer.Option(help="Full name.")] = "",
    as_json: JsonOpt = False,
) -> None:
    """Add a user; the password is read from standard input, never from the command line."""
    try:
        chosen = Role(role.upper())
    except ValueError:
        fail(f"Unknown role {role!r}: use admin or staff.")
    if not password_stdin:
        fail("Give the password on standard input with --password-stdin.")
    password = read_password_stdin()
    with database() as db, db.session() as s:
        user = run(lambda: users.add_user(s, ACTOR, email, name, chosen, password))
    emit(
        {"id": user.id, "email": user.email, "name": user.name, "role": user.role.value},
        as_json=as_json,
        text=f"Added {user.role.value.lower()} {user.email} [id {user.id}]",
    )


@app.command("list")
def list_(as_json: JsonOpt = False) -> None:
    """List users."""
    with database() as db, db.session() as s:
        rows = users.list_users(s)
    if as_json:
        emit(
            {
                "users": [
                    {
                        "id": u.id,
                        "email": u.email,
                        "name": u.name,
                        "role": u.role.value,
                        "active": u.active,
                    }
                    for u in rows
                ]
            },
            as_json=True,
        )
        return
    for u in rows:
        state = "" if u.active else " (inactive)"
        typer.echo(f"{u.id:>4}  {u.role.value:<6} {u.email}  {u.name}{state}")
