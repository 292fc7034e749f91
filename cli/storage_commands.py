"""`printdesk storage …`: is every object in storage owned by a row, and every row's object there?

Register with ``app.add_typer(storage_commands.app, name="storage")`` in ``cli/commands.py``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Annotated, NoReturn, TypeVar

import typer

from cli.support import database, emit, fail
from core.config import AppConfig
from core.errors import ServiceError
from core.services import maintenance
from core.storage import Storage, open_storage

app = typer.Typer(help="Storage: check it against the database.", no_args_is_help=True)

JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object.")]
T = TypeVar("T")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")


def refuse(exc: ServiceError, *, about: str = "") -> NoReturn:
    """One line on stderr; exit 2 for a file that cannot be read as a model, 1 otherwise."""
    message = _CONTROL.sub(" ", f"{about}: {exc}" if about else str(exc)).strip()
    fail(message, getattr(exc, "exit_code", 1))


def attempt(action: Callable[[], T]) -> T:
    try:
        return action()
    except ServiceError as exc:
        refuse(exc)


@contextmanager
def shop_storage() -> Iterator[Storage]:
    """The configured storage (local folders under the data dir by default), buckets made."""
    storage = attempt(lambda: open_storage(AppConfig()))
    try:
        yield storage
    finally:
        storage.close()


@app.command("check")
def check(as_json: JsonOpt = False) -> None:
    """List objects no row owns and rows whose object is gone (outbox entries aside)."""
    with database() as db, shop_storage() as storage:
        report = attempt(lambda: maintenance.check_storage(db, storage))

    def text(_: object) -> str:
        lines = [f"orphan object: {name}" for name in report.orphan_objects]
        lines += [f"missing object: {name}" for name in report.missing_objects]
        lines.append(
            f"{len(report.orphan_objects)} orphan, {len(report.missing_objects)} missing, "
            f"{report.pending_deletions} deletions pending"
        )
        return "\n".join(lines)

    emit(report.as_json(), as_json=as_json, text=text)
