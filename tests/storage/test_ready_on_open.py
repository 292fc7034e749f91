"""Storage is ready wherever it is opened: `open_storage` makes the buckets, on every backend,
so the first file of a new data folder or a new Supabase project is taken."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import trimesh

from core.config import AppConfig
from core.db.embedded import stop_embedded
from core.storage import BUCKETS, ORDER_FILES, TMP, StorageError, open_storage
from tests.cli_runner import ROOT
from tests.supabase_standin import SERVICE_KEY, SupabaseStandIn


@pytest.fixture
def no_config_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PRINTDESK_CONFIG", str(tmp_path / "none.toml"))


@pytest.mark.usefixtures("no_config_file")
def test_a_new_data_folder_takes_its_first_file(tmp_path: Path) -> None:
    config = AppConfig(data_dir=tmp_path / "new-shop")
    assert not config.data_dir.exists()
    storage = open_storage(config)
    storage.put(TMP, "1/a/cube.stl", b"solid cube")
    assert storage.get(TMP, "1/a/cube.stl") == b"solid cube"
    assert sorted(p.name for p in config.storage_dir.iterdir() if not p.name.startswith(".")) == (
        sorted(BUCKETS)
    )
    again = open_storage(config)  # opening again changes nothing that is stored
    assert again.list(TMP) == ["1/a/cube.stl"]


@pytest.mark.usefixtures("no_config_file")
def test_a_data_folder_that_cannot_hold_buckets_is_refused_on_open(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "storage").write_text("a file where the storage folder goes")
    with pytest.raises(StorageError, match="create the storage folders"):
        open_storage(AppConfig(data_dir=tmp_path / "data"))


@pytest.mark.usefixtures("no_config_file")
def test_a_new_supabase_project_takes_its_first_file(tmp_path: Path) -> None:
    with SupabaseStandIn() as standin:
        assert standin.buckets == {}
        config = AppConfig(
            data_dir=tmp_path / "data",
            storage_backend="supabase",
            supabase_url=standin.url,
            supabase_service_key=SERVICE_KEY,
        )
        storage = open_storage(config)
        try:
            storage.put(TMP, "1/a/cube.stl", b"solid cube")
        finally:
            storage.close()
        assert standin.keys(TMP) == ["1/a/cube.stl"]
        assert sorted(standin.buckets) == sorted(BUCKETS)
        assert not any(bucket.public for bucket in standin.buckets.values())

        # Once they exist, opening costs one listing and creates nothing.
        standin.requests.clear()
        open_storage(config).close()
        assert standin.requests == [("GET", "/storage/v1/bucket")]


def _cli(*args: str, data_dir: Path) -> subprocess.CompletedProcess[str]:
    """The real `printdesk` in a data folder of its own, on its own embedded database."""
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env |= {"PRINTDESK_DATA_DIR": str(data_dir), "PRINTDESK_CONFIG": str(data_dir / "none.toml")}
    return subprocess.run(
        [sys.executable, "-m", "cli", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=180,
        check=False,
    )


def test_the_cli_in_a_new_data_folder_stores_the_first_model(tmp_path: Path) -> None:
    data_dir = tmp_path / "new-shop"
    cube = tmp_path / "20mm-cube.stl"
    trimesh.creation.box(extents=(20.0, 20.0, 20.0)).export(cube)
    try:
        client = _cli("client", "add", "--name", "First Client", "--json", data_dir=data_dir)
        assert client.returncode == 0, client.stderr
        client_id = json.loads(client.stdout)["id"]
        quote = _cli(
            "quote",
            "create",
            "--client",
            str(client_id),
            "--item",
            "Cube|1|10.00",
            "--json",
            data_dir=data_dir,
        )
        assert quote.returncode == 0, quote.stderr
        added = _cli(
            "file",
            "add",
            str(cube),
            "--client",
            str(client_id),
            "--quote",
            str(json.loads(quote.stdout)["id"]),
            "--json",
            data_dir=data_dir,
        )
        assert added.returncode == 0, added.stderr
        stored = list((data_dir / "storage" / ORDER_FILES).rglob("*.stl"))
        assert [p.read_bytes() for p in stored] == [cube.read_bytes()]
    finally:
        stop_embedded(data_dir / "pgdata")
