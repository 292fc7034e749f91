"""`printdesk file …`: order files of quotes and invoices: add from disk, delete, list.

Register with ``app.add_typer(file_commands.app, name="file")`` in ``cli/commands.py``.
A file that cannot be read as a model exits with 2 (as ``printdesk analyze``), other refusals
with 1, always as one line on stderr. A delete drains the storage outbox right after its commit.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from cli.storage_commands import attempt, refuse, shop_storage
from cli.support import ACTOR, database, emit, fail
from core.db.engine import Database
from core.errors import ServiceError
from core.mesh.intake import IntakeError
from core.services import maintenance, order_files
from core.services.maintenance import DrainReport
from core.services.order_files import OrderFileView
from core.storage import Storage

app = typer.Typer(help="Order files: add, delete, list.", no_args_is_help=True)

JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object.")]


def _size(size: int) -> str:
    return f"{size / 1024:.1f} KB" if size < 1024 * 1024 else f"{size / (1024 * 1024):.1f} MB"


def _line(f: OrderFileView) -> str:
    docs = ", ".join(
        label
        for label in (
            f"quote {f.quote_id}" if f.quote_id is not None else "",
            f"invoice {f.invoice_id}" if f.invoice_id is not None else "",
        )
        if label
    )
    return f"{f.filename} ({_size(f.size_bytes)}, client {f.client_id}, {docs}) [id {f.id}]"


def drain_after_delete(db: Database, storage: Storage) -> DrainReport | None:
    """For every command that deletes files, quotes or invoices: drain right after the commit."""
    return maintenance.after_commit_drain(db, storage)


@app.command("add")
def add(
    path: Annotated[
        Path, typer.Argument(help="The model file: STL, OBJ or 3MF.", show_default=False)
    ],
    client: Annotated[int, typer.Option("--client", help="The client's id.")],
    quote: Annotated[int | None, typer.Option("--quote", help="The quote's id.")] = None,
    invoice: Annotated[int | None, typer.Option("--invoice", help="The invoice's id.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Check a model as intake does and keep it as a file of a quote and/or an invoice."""
    if quote is None and invoice is None:
        fail("Name the document the file belongs to: --quote ID or --invoice ID.")
    with database() as db, shop_storage() as storage, db.session() as s:
        try:
            added = order_files.add_order_file(
                s, ACTOR, storage, path, client_id=client, quote_id=quote, invoice_id=invoice
            )
        except IntakeError as exc:
            refuse(exc, about=str(path))
        except ServiceError as exc:
            refuse(exc)
    emit(added.summary(), as_json=as_json, text=f"Added {_line(added)}")


@app.command("delete")
def delete(file_id: int, as_json: JsonOpt = False) -> None:
    """Delete an order file and its stored object."""
    with database() as db, shop_storage() as storage:
        with db.session() as s:
            gone = attempt(lambda: order_files.delete_order_file(s, ACTOR, file_id))
        drain_after_delete(db, storage)
        removed = not attempt(lambda: storage.exists(gone.bucket, gone.storage_key))
    result: dict[str, Any] = {
        "id": gone.id,
        "deleted": True,
        "filename": gone.filename,
        "bucket": gone.bucket,
        "storage_key": gone.storage_key,
        "object_deleted": removed,
    }
    later = "" if removed else " (its stored object will be removed by the next maintenance)"
    emit(result, as_json=as_json, text=f"Deleted {gone.filename} [id {gone.id}]{later}.")


@app.command("list")
def list_(
    client: Annotated[int | None, typer.Option("--client", help="Only this client's.")] = None,
    quote: Annotated[int | None, typer.Option("--quote", help="Only this quote's.")] = None,
    invoice: Annotated[int | None, typer.Option("--invoice", help="Only this invoice's.")] = None,
    limit: int = 200,
    as_json: JsonOpt = False,
) -> None:
    """List order files, newest first."""
    with database() as db, db.session() as s:
        rows = attempt(
            lambda: order_files.list_order_files(
                s, client_id=client, quote_id=quote, invoice_id=invoice, limit=limit
            )
        )
    if as_json:
        emit({"files": [f.summary() for f in rows]}, as_json=True)
        return
    for f in rows:
        typer.echo(_line(f))
    if not rows:
        typer.echo("No files.")
