"""A counter's backup and restore against bare pg_dump / pg_restore of the same database.

Run: .venv/bin/python bench/backup.py [--invoices 20000] [--files 200] [--file-kb 512]
Seeds an embedded database (bulk invoices) and a local storage folder of model-sized files,
then times `core.backup.backup` against a bare `pg_dump -Fc` plus a bare tar of the storage
folder, and `core.backup.restore` against a bare `pg_restore` into a fresh server. The
ratios are the figures to compare: what the snapshot, the checksums, the manifest and the
checks cost on top of the tools themselves.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import tarfile
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from core.backup import _libpq_url, backup, pg_bin_dir, restore
from core.config import AppConfig
from core.db.embedded import start_embedded, stop_embedded
from core.db.engine import Database
from core.db.migrate import upgrade
from core.services.demo import seed_invoices_bulk


def seconds(action: Callable[[], object]) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--invoices", type=int, default=20_000)
    parser.add_argument("--files", type=int, default=200)
    parser.add_argument("--file-kb", type=int, default=512)
    args = parser.parse_args()
    os.environ["PRINTDESK_CONFIG"] = os.devnull

    with tempfile.TemporaryDirectory(prefix="bench-backup-") as tmp:
        root = Path(tmp)
        config = AppConfig(data_dir=root / "shop", log_dir=root / "logs")
        url = start_embedded(config.pgdata_dir, stop_on_exit=False)
        try:
            db = Database.from_url(url)
            upgrade(db.engine)
            seed_invoices_bulk(db, args.invoices)
            db.dispose()
            bucket = config.storage_dir / "order-files" / "1"
            bucket.mkdir(parents=True)
            for n in range(args.files):
                (bucket / f"part-{n}.stl").write_bytes(os.urandom(args.file_kb * 1024))

            def bare_backup() -> None:
                subprocess.run(
                    [
                        str(pg_bin_dir() / "pg_dump"),
                        "-Fc",
                        "-f",
                        str(root / "bare.dump"),
                        _libpq_url(url),
                    ],
                    check=True,
                )
                with tarfile.open(root / "bare.tar", "w") as tar:
                    tar.add(root / "bare.dump", "database.dump")
                    tar.add(config.storage_dir, "storage")

            base = seconds(bare_backup)
            result: list[Path] = []
            ours = seconds(lambda: result.append(backup(config, root / "out").path))
        finally:
            stop_embedded(config.pgdata_dir)

        fresh = AppConfig(data_dir=root / "restored", log_dir=root / "logs")
        ours_restore = seconds(lambda: restore(fresh, result[0]))

        bare_dir = root / "bare-restore"
        bare_url = start_embedded(bare_dir / "pgdata", stop_on_exit=False)
        try:
            psql = [str(pg_bin_dir() / "psql"), _libpq_url(bare_url), "-qc"]
            subprocess.run([*psql, "CREATE ROLE printdesk_relay NOLOGIN"], check=True)
            base_restore = seconds(
                lambda: subprocess.run(
                    [
                        str(pg_bin_dir() / "pg_restore"),
                        "--no-owner",
                        "--single-transaction",
                        f"--dbname={_libpq_url(bare_url)}",
                        str(root / "bare.dump"),
                    ],
                    check=True,
                )
            )
        finally:
            stop_embedded(bare_dir / "pgdata")

        size = result[0].stat().st_size / 1e6
        print(f"{args.invoices} invoices, {args.files} files of {args.file_kb} KB; {size:.1f} MB")
        print(f"backup   {ours:6.2f} s   bare pg_dump + tar {base:6.2f} s   ×{ours / base:4.2f}")
        print(
            f"restore  {ours_restore:6.2f} s   bare pg_restore    {base_restore:6.2f} s"
            f"   ×{ours_restore / base_restore:4.2f} (ours also starts and stops a server)"
        )


if __name__ == "__main__":
    main()
