"""`printdesk secrets …`: keep the shop's secrets in the OS keyring, list where each comes from."""

from __future__ import annotations

from typing import Annotated

import typer

from cli.support import emit, fail
from core.config import config_file_path, read_config_file
from core.secrets import (
    SECRETS,
    SecretError,
    delete_secret,
    keyring_problem,
    secret_sources,
    set_secret,
    spec,
)

app = typer.Typer(
    help="Secrets in the OS keyring: "
    + ", ".join(s.name for s in SECRETS)
    + ". Values are never printed.",
    no_args_is_help=True,
)

JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object.")]
NameArg = Annotated[str, typer.Argument(help="One of: " + ", ".join(s.name for s in SECRETS))]


@app.command("set")
def set_command(
    name: NameArg,
    value_stdin: Annotated[
        bool, typer.Option("--stdin", help="Read the value from the first line of stdin.")
    ] = False,
) -> None:
    """Keep a secret in the keyring (asked for without echo)."""
    try:
        secret = spec(name)
        problem = keyring_problem()
        if problem:
            fail(f"{problem.rstrip('.')}: {secret.env} for the {secret.meaning}.")
        if value_stdin:
            value = typer.get_text_stream("stdin").readline().rstrip("\r\n")
        else:
            value = typer.prompt(f"{secret.meaning}", hide_input=True)
        set_secret(secret.name, value)
    except SecretError as exc:
        fail(str(exc))
    typer.echo(f"Kept the {secret.meaning} in the keyring.")


@app.command("delete")
def delete_command(name: NameArg) -> None:
    """Remove a secret from the keyring."""
    try:
        secret = spec(name)
        removed = delete_secret(secret.name)
    except SecretError as exc:
        fail(str(exc))
    if removed:
        typer.echo(f"Removed the {secret.meaning} from the keyring.")
    else:
        typer.echo(f"The keyring held no {secret.meaning}.")


@app.command("list")
def list_command(as_json: JsonOpt = False) -> None:
    """Each secret and where it comes from (environment, keyring, config file), never its value."""
    path = config_file_path()
    try:
        file_values = read_config_file(path)
    except (OSError, ValueError) as exc:
        fail(f"The config file {path} cannot be read: {exc}")
    rows = secret_sources(file_values)
    problem = keyring_problem()
    data = {
        "keyring": problem or "available",
        "secrets": [{"name": r.name, "source": r.source.value, "env": r.env} for r in rows],
    }

    def text(_: object) -> str:
        width = max(len(r.name) for r in rows)
        lines = [f"{r.name:<{width}}  {r.source.value}" for r in rows]
        lines.append("" if problem is None else f"\n{problem}")
        return "\n".join(lines).rstrip()

    emit(data, as_json=as_json, text=text)
