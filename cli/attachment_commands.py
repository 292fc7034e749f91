"""`printdesk attachment …`: an invoice's attachments (PDF, PNG, JPEG): add, list, remove.

Register with ``app.add_typer(attachment_commands.app, name="attachment")`` in
``cli/commands.py``. Refusals exit with 1 as one line on stderr; a remove drains the storage
outbox right after its commit.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from cli.storage_commands import attempt, shop_storage
from cli.support import ACTOR, database, emit
from core.services import attachments, maintenance
from core.services.attachments import AttachmentView

app = typer.Typer(help="Invoice attachments: add, list, remove.", no_args_is_help=True)

JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object.")]


def _summary(a: AttachmentView) -> dict[str, Any]:
    return {
        "id": a.id,
        "invoice_id": a.invoice_id,
        "filename": a.filename,
        "bucket": a.bucket,
        "storage_key": a.storage_key,
        "size_bytes": a.size_bytes,
        "sha256": a.sha256,
        "mime_type": a.mime_type,
    }


def _line(a: AttachmentView) -> str:
    return f"{a.filename} ({a.mime_type}, {a.size_bytes} bytes) [id {a.id}]"


@app.command("add")
def add(
    invoice: Annotated[int, typer.Argument(help="The invoice's id.", show_default=False)],
    path: Annotated[Path, typer.Argument(help="A PDF, PNG or JPEG file.", show_default=False)],
    as_json: JsonOpt = False,
) -> None:
    """Check a PDF or image by its content and attach it to an invoice."""
    with database() as db, shop_storage() as storage, db.session() as s:
        added = attempt(lambda: attachments.add_attachment(s, ACTOR, storage, invoice, path))
    emit(_summary(added), as_json=as_json, text=f"Attached {_line(added)}")


@app.command("list")
def list_(
    invoice: Annotated[int, typer.Argument(help="The invoice's id.", show_default=False)],
    as_json: JsonOpt = False,
) -> None:
    """An invoice's attachments, in the order they were added."""
    with database() as db, db.session() as s:
        rows = attempt(lambda: attachments.list_attachments(s, invoice))
    if as_json:
        emit({"attachments": [_summary(a) for a in rows]}, as_json=True)
        return
    for a in rows:
        typer.echo(_line(a))
    if not rows:
        typer.echo("No attachments.")


@app.command("remove")
def remove(
    attachment_id: Annotated[int, typer.Argument(help="The attachment's id.", show_default=False)],
    as_json: JsonOpt = False,
) -> None:
    """Remove an attachment and its stored object."""
    with database() as db, shop_storage() as storage:
        with db.session() as s:
            gone = attempt(lambda: attachments.remove_attachment(s, ACTOR, attachment_id))
        maintenance.after_commit_drain(db, storage)
        removed = not attempt(lambda: storage.exists(gone.bucket, gone.storage_key))
    result = {**_summary(gone), "removed": True, "object_deleted": removed}
    later = "" if removed else " (its stored object will be removed by the next maintenance)"
    emit(result, as_json=as_json, text=f"Removed {gone.filename} [id {gone.id}]{later}.")
