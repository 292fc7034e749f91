"""Backups on real PostgreSQL: an archive restores whole into a fresh data dir; bad input
leaves nothing behind."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tarfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select

from core.actor import Actor
from core.backup import (
    BackupError,
    backup,
    backup_due,
    last_backup,
    read_manifest,
    restore,
    run_backup,
)
from core.config import AppConfig
from core.db.embedded import start_embedded, stop_embedded
from core.db.engine import Database
from core.db.models import Invoice, OrderFile, Payment
from core.enums import PaymentMethod
from core.services.invoices import create_invoice
from core.services.order_files import add_order_file
from core.services.payments import NewPayment, record_payment
from core.storage import LocalStorage
from tests.cli_runner import ROOT
from tests.factories import item, make_client
from tests.mesh.builders import binary_stl, cube_triangles


@pytest.fixture
def counter(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AppConfig:
    """A counter whose database is the test's and whose files are in its own data dir."""
    monkeypatch.setenv("PRINTDESK_CONFIG", str(tmp_path / "none.toml"))
    return AppConfig(DATABASE_URL=db_url, data_dir=tmp_path / "counter")


def seed_shop(database: Database, admin: Actor, config: AppConfig, tmp_path: Path) -> None:
    storage = LocalStorage(config.storage_dir)
    storage.ensure_buckets()
    client = make_client(database)
    for n in range(3):
        with database.session() as s:
            invoice = create_invoice(s, admin, client, [item(price=f"{100 + n}.00")])
        if n < 2:
            with database.session() as s:
                record_payment(
                    s, admin, invoice.id, NewPayment(Decimal("20.50"), PaymentMethod.CASH)
                )
        model = tmp_path / f"part-{n}.stl"
        model.write_bytes(binary_stl(cube_triangles(size=5.0 + n)))
        with database.session() as s:
            add_order_file(s, admin, storage, model, client_id=client, invoice_id=invoice.id)


def shop_contents(database: Database, storage_dir: Path) -> dict[str, object]:
    with database.session() as s:
        invoices = [
            (i.number, i.total, i.amount_paid, i.balance_due, i.status)
            for i in s.scalars(select(Invoice).order_by(Invoice.id))
        ]
        payments = [(p.invoice_id, p.amount, p.method) for p in s.scalars(select(Payment))]
        files = {
            f.storage_key: (storage_dir / f.bucket / f.storage_key).read_bytes()
            for f in s.scalars(select(OrderFile))
        }
    return {"invoices": invoices, "payments": payments, "files": files}


@pytest.fixture
def restored_dir(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "restored"
    yield path
    if (path / "pgdata").exists():
        stop_embedded(path / "pgdata")


def test_a_backup_restores_every_invoice_payment_and_file(
    database: Database,
    admin: Actor,
    counter: AppConfig,
    tmp_path: Path,
    restored_dir: Path,
) -> None:
    seed_shop(database, admin, counter, tmp_path)
    before = shop_contents(database, counter.storage_dir)
    assert len(before["invoices"]) == 3 and len(before["files"]) == 3  # type: ignore[arg-type]

    result = backup(counter, tmp_path / "backups")

    assert result.path.name.startswith("printdesk-backup-") and result.path.suffix == ".tar"
    assert [p.name for p in (tmp_path / "backups").iterdir()] == [result.path.name]
    manifest = read_manifest(result.path)
    assert manifest["counts"]["invoices"] == 3 and manifest["counts"]["payments"] == 2
    assert manifest["files"] == 3 and manifest["missing_files"] == []
    assert manifest["postgres_server_version"] and manifest["printdesk_version"]

    # The restore goes through the real command, into a data dir no server has seen yet.
    env = {**os.environ, "PRINTDESK_DATA_DIR": str(restored_dir)}
    env.pop("DATABASE_URL", None)
    env["PRINTDESK_CONFIG"] = str(tmp_path / "none.toml")
    env["PRINTDESK_LOG_DIR"] = str(tmp_path / "logs")
    proc = subprocess.run(
        [sys.executable, "-m", "cli", "restore", str(result.path), "--json"],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["counts"]["invoices"] == 3
    assert "backup.restored" in (tmp_path / "logs" / "cli.log").read_text()

    url = start_embedded(restored_dir / "pgdata", stop_on_exit=False)
    restored = Database.from_url(url)
    try:
        after = shop_contents(restored, restored_dir / "storage")
    finally:
        restored.dispose()
    assert after == before


def test_restore_refuses_a_data_dir_in_use_and_a_damaged_archive(
    database: Database, admin: Actor, counter: AppConfig, tmp_path: Path, restored_dir: Path
) -> None:
    seed_shop(database, admin, counter, tmp_path)
    archive = backup(counter, tmp_path / "backups").path

    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "notes.txt").write_text("keep me")
    with pytest.raises(BackupError, match="is not empty"):
        restore(AppConfig(data_dir=busy), archive)
    assert [p.name for p in busy.iterdir()] == ["notes.txt"]

    with pytest.raises(BackupError, match="unset DATABASE_URL"):
        restore(counter.model_copy(update={"data_dir": restored_dir}), archive)

    # One flipped byte in a stored file: the checksum catches it and the data dir stays empty.
    damaged = tmp_path / "damaged.tar"
    with tarfile.open(archive) as src, tarfile.open(damaged, "w") as out:
        for member in src:
            data = src.extractfile(member)
            assert data is not None
            body = data.read()
            if member.name.startswith("storage/order-files/"):
                body = bytes([body[0] ^ 0xFF]) + body[1:]
            out.addfile(member, io.BytesIO(body))
    restored_dir.mkdir()
    with pytest.raises(BackupError, match="does not match its checksum"):
        restore(AppConfig(data_dir=restored_dir), damaged)
    assert restored_dir.is_dir() and list(restored_dir.iterdir()) == []

    not_a_backup = tmp_path / "photo.tar"
    not_a_backup.write_bytes(b"\x89PNG not a tar")
    with pytest.raises(BackupError, match="not a PrintDesk backup"):
        restore(AppConfig(data_dir=restored_dir), not_a_backup)
    assert list(restored_dir.iterdir()) == []


def test_backup_cli_json_and_the_record_the_health_page_reads(
    database: Database, admin: Actor, counter: AppConfig, db_url: str, tmp_path: Path
) -> None:
    seed_shop(database, admin, counter, tmp_path)
    env = {
        **os.environ,
        "DATABASE_URL": db_url,
        "PRINTDESK_DATA_DIR": str(counter.data_dir),
        "PRINTDESK_CONFIG": str(tmp_path / "none.toml"),
        "PRINTDESK_LOG_DIR": str(tmp_path / "logs"),
    }

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "cli", *args],
            capture_output=True,
            text=True,
            env=env,
            cwd=ROOT,
            timeout=300,
            check=False,
        )

    made = cli("backup", str(tmp_path / "out"), "--json")
    assert made.returncode == 0, made.stderr
    out = json.loads(made.stdout)
    assert Path(out["path"]).is_file() and out["counts"]["payments"] == 2 and out["files"] == 3
    record = last_backup(counter)
    assert record is not None and record.ok and record.path == Path(out["path"])

    blocked = tmp_path / "blocked"
    blocked.write_text("a file where the folder should be")
    refused = cli("backup", str(blocked / "sub"))
    assert refused.returncode == 1 and len(refused.stderr.strip().splitlines()) == 1
    assert "Cannot write backups to" in refused.stderr
    failed = last_backup(counter)
    assert failed is not None and not failed.ok and "Cannot write backups" in failed.message


def test_daily_backup_is_due_once_a_day(
    database: Database, counter: AppConfig, tmp_path: Path
) -> None:
    daily = counter.model_copy(update={"backup_daily": True, "backup_dir": tmp_path / "daily"})
    now = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
    assert not backup_due(counter, now=now)  # off unless asked for
    assert backup_due(daily, now=now)  # never ran
    record = run_backup(daily, now=lambda: now)
    assert record.ok, record.message
    assert not backup_due(daily, now=now + timedelta(hours=23))
    assert backup_due(daily, now=now + timedelta(hours=24))

    nowhere = counter.model_copy(update={"backup_dir": None})
    failed = run_backup(nowhere, now=lambda: now)
    assert not failed.ok and "No backup folder" in failed.message
    assert backup_due(daily, now=now)  # the last attempt failed: try again


def test_with_supabase_storage_the_archive_holds_the_database_and_says_so(
    database: Database, admin: Actor, counter: AppConfig, tmp_path: Path
) -> None:
    seed_shop(database, admin, counter, tmp_path)
    shared = counter.model_copy(update={"storage_backend": "supabase"})
    result = backup(shared, tmp_path / "backups")
    with tarfile.open(result.path) as tar:
        assert sorted(tar.getnames()) == ["database.dump", "manifest.json"]
    assert result.path.stat().st_mode & 0o077 == 0  # readable by the owner only
    assert read_manifest(result.path)["storage_backend"] == "supabase"
    assert "the files live in Supabase Storage" in result.summary()
