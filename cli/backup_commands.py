"""`printdesk backup DIR` and `printdesk restore ARCHIVE`: a counter's database and files."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from cli.support import emit, fail
from core.backup import BackupError, BackupRecord, record_backup, restore
from core.config import AppConfig
from core.db.embedded import EmbeddedDatabaseError
from core.log_files import configure_logging

JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object.")]


def backup_command(
    directory: Annotated[
        Path | None,
        typer.Argument(help="Folder for the archive (default: backup_dir of the config)."),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Write one archive of the database and the stored files, named by its time."""
    from core.backup import backup

    config = AppConfig()
    configure_logging(config, "cli", console_level=None)
    target = directory or config.backup_dir
    if target is None:
        fail(
            "Name a folder for the backup (printdesk backup DIR), or choose one in "
            "Settings → Backups (or set PRINTDESK_BACKUP_DIR)."
        )
    try:
        result = backup(config, target)
    except (BackupError, EmbeddedDatabaseError) as exc:
        _remember(config, BackupRecord(_now(), None, False, str(exc)))
        fail(str(exc))
    _remember(config, BackupRecord(_now(), result.path, True, result.summary()))
    emit(
        {
            "path": str(result.path),
            "size_bytes": result.size_bytes,
            "counts": result.counts,
            "files": result.files,
            "storage_backend": result.storage,
            "missing_files": result.missing_files,
        },
        as_json=as_json,
        text=result.summary(),
    )


def restore_command(
    archive: Annotated[Path, typer.Argument(help="A printdesk-backup-….tar file.")],
    as_json: JsonOpt = False,
) -> None:
    """Bring a backup back into an empty data folder (PRINTDESK_DATA_DIR)."""
    config = AppConfig()
    configure_logging(config, "cli", console_level=None)
    try:
        result = restore(config, archive)
    except (BackupError, EmbeddedDatabaseError) as exc:
        fail(str(exc))
    counts = result.counts
    emit(
        {
            "data_dir": str(result.data_dir),
            "counts": counts,
            "files": result.files,
            "backup_created_at": result.created_at,
        },
        as_json=as_json,
        text=(
            f"Restored the backup of {result.created_at} into {result.data_dir}: "
            f"{counts.get('invoices', 0)} invoices, {counts.get('payments', 0)} payments, "
            f"{result.files} files."
        ),
    )


def _now() -> datetime:
    return datetime.now(UTC)


def _remember(config: AppConfig, record: BackupRecord) -> None:
    with contextlib.suppress(OSError):  # the record is for the health page; the backup matters
        record_backup(config, record)
