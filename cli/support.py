"""What every CLI command shares: opening the database, printing results, failing in one line."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, is_dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any, NoReturn, TypeVar

import typer
from sqlalchemy.exc import OperationalError

from core.actor import CLI_ACTOR, Actor
from core.config import AppConfig
from core.db.embedded import EmbeddedDatabaseError
from core.db.engine import Database, open_database
from core.db.migrate import is_current, upgrade
from core.errors import ServiceError
from core.money import MoneyError

T = TypeVar("T")

ACTOR: Actor = CLI_ACTOR


def fail(message: str, code: int = 1) -> NoReturn:
    typer.echo(f"printdesk: {message}", err=True)
    raise typer.Exit(code)


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return f"{value:.2f}" if value == value.quantize(Decimal("0.01")) else str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if is_dataclass(value) and not isinstance(value, type):
        return _plain(asdict(value))
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def to_json(value: Any) -> str:
    return json.dumps(_plain(value), ensure_ascii=False)


def emit(value: Any, *, as_json: bool, text: Callable[[Any], str] | str | None = None) -> None:
    """One JSON object with --json; otherwise a line for a person."""
    if as_json:
        typer.echo(to_json(value))
    elif callable(text):
        typer.echo(text(value))
    elif text is not None:
        typer.echo(text)
    else:
        typer.echo(to_json(value))


@contextmanager
def database(*, migrate: bool = True) -> Iterator[Database]:
    """The configured database; the embedded one is started and brought up to date on demand."""
    config = AppConfig()
    try:
        db = open_database(config, stop_on_exit=False)
    except EmbeddedDatabaseError as exc:
        fail(str(exc))
    try:
        if migrate:
            if db.embedded:
                upgrade(db.engine)
            elif not is_current(db.engine):
                fail("The database schema is not up to date: run `printdesk db upgrade` first.")
        yield db
    except OperationalError as exc:
        fail(f"The database cannot be reached: {str(exc.orig or exc).strip().splitlines()[0]}")
    finally:
        db.dispose()


def run(action: Callable[[], T]) -> T:
    """Turn a service refusal into one line on stderr and a non-zero exit, never a traceback."""
    try:
        return action()
    except (ServiceError, MoneyError) as exc:
        fail(str(exc))


def read_password_stdin() -> str:
    line = sys.stdin.readline()
    return line.rstrip("\r\n")
