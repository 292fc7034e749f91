"""The `printdesk` command: the desktop app with no arguments, the shop's CLI otherwise.

Nothing of Qt, VTK or pyvista is imported until the desktop app or a screenshot runs, so the
relay and the shop commands work from `printdesk[relay]`. `printdesk relay …` builds only its
own group: a relay scaled to zero starts without loading the mesh and PDF stacks it never uses.
"""

from __future__ import annotations

import sys
from typing import Any

import typer
from pydantic import ValidationError

from core.config import AppConfig
from core.log_files import configure_logging


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


def _new_app() -> typer.Typer:
    root = typer.Typer(
        name="printdesk",
        help="PrintDesk, the counter software of a 3D print shop.",
        no_args_is_help=False,
        add_completion=False,
        pretty_exceptions_enable=False,
    )
    root.callback(invoke_without_command=True)(_root)
    return root


def build_app() -> typer.Typer:
    """The whole command line."""
    from cli import commands

    root = _new_app()
    commands.register(root)
    return root


def build_relay_app() -> typer.Typer:
    """Only `printdesk relay …` (what a relay host runs)."""
    from cli import relay_commands

    root = _new_app()
    root.add_typer(relay_commands.app, name="relay")
    return root


_full: typer.Typer | None = None


def __getattr__(name: str) -> Any:
    # `from cli.main import app` (tests, tools) gets the whole command line, built on first use.
    global _full
    if name == "app":
        if _full is None:
            _full = build_app()
        return _full
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def main() -> None:
    args = sys.argv[1:]
    relay_only = bool(args) and args[0] == "relay"
    sys.exit((build_relay_app() if relay_only else build_app())())
