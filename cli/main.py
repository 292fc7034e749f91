"""The `printdesk` command: the desktop app with no arguments, the shop's CLI otherwise."""

from __future__ import annotations

import sys

import typer
from pydantic import ValidationError

from cli import commands
from core.config import AppConfig
from core.log_files import configure_logging

app = typer.Typer(
    name="printdesk",
    help="PrintDesk, the counter software of a 3D print shop.",
    no_args_is_help=False,
    add_completion=False,
    pretty_exceptions_enable=False,
)
commands.register(app)


@app.callback(invoke_without_command=True)
def _root(
    ctx: typer.Context,
    smoke_test: bool = typer.Option(
        False,
        "--smoke-test",
        help="Check that this build starts (Qt, database, 3D, PDF) in a temp folder, "
        "without showing a window, and exit.",
    ),
) -> None:
    if ctx.invoked_subcommand is not None:
        # The relay logs JSON lines to stdout for its host; every other command also keeps a
        # rotating log file, beside the app's.
        if ctx.invoked_subcommand != "relay":
            _log_to_file()
        return
    from desktop.app import run_desktop

    raise typer.Exit(run_desktop(smoke_test=smoke_test))


def _log_to_file() -> None:
    try:
        config = AppConfig()
    except ValidationError:
        return  # the command itself reports the bad setting
    configure_logging(config, "cli")


def main() -> None:
    sys.exit(app())
