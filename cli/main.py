"""The `printdesk` command: the desktop app with no arguments, the shop's CLI otherwise."""

from __future__ import annotations

import sys

import typer

from cli import commands

app = typer.Typer(
    name="printdesk",
    help="PrintDesk, the counter software of a 3D print shop.",
    no_args_is_help=False,
    add_completion=False,
    pretty_exceptions_enable=False,
)
commands.register(app)


@app.callback(invoke_without_command=True)
def _root(ctx: typer.Context) -> None:
    if ctx.invoked_subcommand is None:
        from desktop.app import run_desktop

        raise typer.Exit(run_desktop())


def main() -> None:
    sys.exit(app())
