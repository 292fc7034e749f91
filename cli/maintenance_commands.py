"""`printdesk maintenance run`: expired uploads, order-file retention, outbox retries.

Register with ``app.add_typer(maintenance_commands.app, name="maintenance")`` in
``cli/commands.py``.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from cli.storage_commands import attempt, shop_storage
from cli.support import database, emit
from core.services import maintenance

app = typer.Typer(help="Maintenance: tmp expiry, retention, storage outbox.", no_args_is_help=True)

JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object.")]


def _text(report: dict[str, Any]) -> str:
    outbox = report["outbox"]
    lines = [
        f"Expired {report['expired_tmp_files']} uploads and {report['expired_order_files']} "
        f"order files; deleted {outbox['deleted']} objects, {outbox['failed']} failed; "
        f"{report['pending_deletions']} deletions pending."
    ]
    lines += [f"  - {error}" for error in outbox["errors"]]
    return "\n".join(lines)


@app.command("run")
def run_command(as_json: JsonOpt = False) -> None:
    """Run the maintenance once, as the relay and the desktop do on their schedules."""
    with database() as db, shop_storage() as storage:
        report = attempt(lambda: maintenance.run_maintenance(db, storage))
    emit(report, as_json=as_json, text=_text)
