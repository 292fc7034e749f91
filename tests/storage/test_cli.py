"""`printdesk file …`, `maintenance run` and `storage check`, run as real subprocesses.

Until ``cli/commands.py`` registers the three groups, the subprocess adds them to the real
``printdesk`` app before running it (the same app object, nothing else changed).
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

from core.actor import Actor
from core.db.engine import Database
from core.services import quotes
from tests.cli_runner import ROOT, Result
from tests.factories import item, make_client
from tests.storage.conftest import CUBE, MODELS

_BOOTSTRAP = """
import sys
from cli import file_commands, maintenance_commands, storage_commands
from cli.main import app
registered = {group.name for group in app.registered_groups}
for name, module in (
    ("file", file_commands),
    ("maintenance", maintenance_commands),
    ("storage", storage_commands),
):
    if name not in registered:
        app.add_typer(module.app, name=name)
sys.exit(app(prog_name="printdesk"))
"""


def printdesk(*args: str, db_url: str, data_dir: Path) -> Result:
    env = {
        **os.environ,
        "DATABASE_URL": db_url,
        "PRINTDESK_DATA_DIR": str(data_dir),
        "PRINTDESK_CONFIG": str(data_dir / "none.toml"),
    }
    proc = subprocess.run(
        [sys.executable, "-c", _BOOTSTRAP, *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=120,
        check=False,
    )
    return Result(proc.returncode, proc.stdout, proc.stderr)


@pytest.fixture
def shop(database: Database, admin: Actor) -> tuple[int, int]:
    client = make_client(database)
    with database.session() as s:
        quote = quotes.create_quote(s, admin, client, [item()]).id
    return client, quote


def test_file_add_list_delete_and_check(db_url: str, data_dir: Path, shop: tuple[int, int]) -> None:
    client, quote = shop
    added = printdesk(
        "file", "add", str(CUBE), "--client", str(client), "--quote", str(quote), "--json",
        db_url=db_url, data_dir=data_dir,
    )  # fmt: skip
    assert added.code == 0, added.stderr
    result = added.json()
    assert {"id", "filename", "bucket", "storage_key", "size_bytes", "sha256", "mime_type"} <= set(
        result
    )
    assert result["filename"] == "20mm-xyz-cube.stl"
    assert result["bucket"] == "order-files"
    assert result["storage_key"].startswith(f"{client}/")
    assert result["storage_key"].endswith("/20mm-xyz-cube.stl")
    assert result["size_bytes"] == CUBE.stat().st_size
    assert result["sha256"] == hashlib.sha256(CUBE.read_bytes()).hexdigest()
    assert result["mime_type"] == "model/stl"
    assert result["quote_id"] == quote and result["invoice_id"] is None
    stored = data_dir / "storage" / "order-files" / result["storage_key"]
    assert stored.read_bytes() == CUBE.read_bytes()

    listed = printdesk(
        "file", "list", "--client", str(client), "--json", db_url=db_url, data_dir=data_dir
    )
    assert [f["id"] for f in listed.json()["files"]] == [result["id"]]

    file_id = str(result["id"])
    deleted = printdesk("file", "delete", file_id, "--json", db_url=db_url, data_dir=data_dir)
    assert deleted.code == 0, deleted.stderr
    assert deleted.json()["deleted"] is True and deleted.json()["object_deleted"] is True
    assert not stored.exists()

    check = printdesk("storage", "check", "--json", db_url=db_url, data_dir=data_dir)
    assert check.code == 0, check.stderr
    assert check.json() == {"orphan_objects": [], "missing_objects": [], "pending_deletions": 0}


def test_a_deleted_invoice_leaves_nothing_behind_after_maintenance(
    db_url: str, data_dir: Path, shop: tuple[int, int]
) -> None:
    client, quote = shop
    converted = printdesk(
        "quote", "convert", str(quote), "--json", db_url=db_url, data_dir=data_dir
    )
    assert converted.code == 0, converted.stderr
    invoice = converted.json()["id"]
    added = printdesk(
        "file", "add", str(CUBE), "--client", str(client), "--invoice", str(invoice), "--json",
        db_url=db_url, data_dir=data_dir,
    )  # fmt: skip
    assert added.code == 0, added.stderr
    gone = printdesk("invoice", "delete", str(invoice), db_url=db_url, data_dir=data_dir)
    assert gone.code == 0, gone.stderr

    check = printdesk("storage", "check", "--json", db_url=db_url, data_dir=data_dir).json()
    assert check["orphan_objects"] == [] and check["missing_objects"] == []

    run = printdesk("maintenance", "run", "--json", db_url=db_url, data_dir=data_dir)
    assert run.code == 0, run.stderr
    report = run.json()
    assert report["pending_deletions"] == 0 and report["outbox"]["failed"] == 0
    check = printdesk("storage", "check", "--json", db_url=db_url, data_dir=data_dir)
    assert check.json() == {"orphan_objects": [], "missing_objects": [], "pending_deletions": 0}
    assert list((data_dir / "storage" / "order-files").iterdir()) == []


@pytest.mark.parametrize(
    ("path", "message"),
    [
        (MODELS / "empty.stl", "no triangles"),
        (MODELS / "README.md", "not a 3D model"),
        (Path("/nonexistent/part.stl"), "does not exist"),
    ],
)
def test_a_file_that_is_not_a_readable_model_exits_2_in_one_line(
    db_url: str, data_dir: Path, shop: tuple[int, int], path: Path, message: str
) -> None:
    client, quote = shop
    refused = printdesk(
        "file", "add", str(path), "--client", str(client), "--quote", str(quote),
        db_url=db_url, data_dir=data_dir,
    )  # fmt: skip
    assert refused.code == 2, (refused.stdout, refused.stderr)
    assert refused.stdout == ""
    lines = refused.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"printdesk: {path}: ") and message in lines[0]
    assert not any(p.is_file() for p in (data_dir / "storage").rglob("*") if ".sign" not in p.name)


def test_other_refusals_exit_1(db_url: str, data_dir: Path, shop: tuple[int, int]) -> None:
    client, quote = shop
    for args, message in (
        (("--client", "999999", "--quote", str(quote)), "No client"),
        (("--client", str(client)), "--quote ID or --invoice ID"),
    ):
        refused = printdesk("file", "add", str(CUBE), *args, db_url=db_url, data_dir=data_dir)
        assert refused.code == 1, refused.stderr
        assert len(refused.stderr.strip().splitlines()) == 1 and message in refused.stderr
    missing = printdesk("file", "delete", "999999", db_url=db_url, data_dir=data_dir)
    assert missing.code == 1 and "No order file" in missing.stderr
