"""The storage contract on both backends: local folders, and Supabase (stand-in, real client)."""

from __future__ import annotations

import hashlib
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest

from core.storage import (
    ORDER_FILES,
    PDFS,
    TMP,
    InvalidKey,
    LinkExpired,
    LinkRefused,
    LocalStorage,
    ObjectExists,
    ObjectNotFound,
    Storage,
    StorageError,
    check_key,
    key_name,
    order_file_key,
    tmp_key,
)
from core.storage.supabase_backend import SupabaseStorage
from tests.storage.conftest import CUBE, Backend
from tests.supabase_standin import SERVICE_KEY, SupabaseStandIn

HOSTILE_KEYS = [
    "",
    "../escape.stl",
    "a/../../escape.stl",
    "/etc/passwd",
    "a//b.stl",
    "a/b/",
    ".",
    "a/./b.stl",
    "a\\..\\b.stl",
    "C:\\Windows\\x.stl",
    "a\x00b.stl",
    "a\nb.stl",
    "a\x1bb.stl",
    "%2e%2e/escape.stl",
    "Würfel.stl",
    "a/b.stl ",
    "a/b.",
    "con/x.stl",
    "x" * 1100,
]
HOSTILE_BUCKETS = ["", "../tmp", "TMP", "tmp/x", "a" * 70]


def test_put_get_exists_and_content(storage: Storage) -> None:
    storage.put(TMP, "7/abc/part.stl", b"solid part\nendsolid part\n", "model/stl")
    assert storage.exists(TMP, "7/abc/part.stl")
    assert storage.get(TMP, "7/abc/part.stl") == b"solid part\nendsolid part\n"
    assert not storage.exists(TMP, "7/abc/other.stl")
    assert not storage.exists(ORDER_FILES, "7/abc/part.stl")


def test_put_from_a_path_stores_the_file_byte_for_byte(storage: Storage) -> None:
    storage.put(ORDER_FILES, "3/u/cube.stl", CUBE, "model/stl")
    data = storage.get(ORDER_FILES, "3/u/cube.stl")
    assert hashlib.sha256(data).digest() == hashlib.sha256(CUBE.read_bytes()).digest()


def test_a_taken_key_is_refused_unless_upserting(storage: Storage) -> None:
    storage.put(PDFS, "invoices/INV-0001.pdf", b"one", "application/pdf")
    with pytest.raises(ObjectExists):
        storage.put(PDFS, "invoices/INV-0001.pdf", b"two", "application/pdf")
    assert storage.get(PDFS, "invoices/INV-0001.pdf") == b"one"
    storage.put(PDFS, "invoices/INV-0001.pdf", b"three", "application/pdf", upsert=True)
    assert storage.get(PDFS, "invoices/INV-0001.pdf") == b"three"


def test_get_of_a_missing_object(storage: Storage) -> None:
    with pytest.raises(ObjectNotFound, match="does not exist"):
        storage.get(TMP, "1/none/missing.stl")


def test_list_is_recursive_sorted_and_scoped_to_a_folder(storage: Storage) -> None:
    keys = ["1/b/z.stl", "1/a/y.stl", "2/c/x.stl", "root.txt", "1/a/deeper/w.obj"]
    for key in keys:
        storage.put(TMP, key, key.encode())
    assert storage.list(TMP) == sorted(keys)
    assert storage.list(TMP, "1") == ["1/a/deeper/w.obj", "1/a/y.stl", "1/b/z.stl"]
    assert storage.list(TMP, "1/a/") == ["1/a/deeper/w.obj", "1/a/y.stl"]
    assert storage.list(TMP, "9") == []
    assert storage.list(ORDER_FILES) == []


def test_delete_reports_what_is_gone_and_a_missing_key_is_fine(storage: Storage) -> None:
    storage.put(TMP, "1/a/one.stl", b"1")
    storage.put(TMP, "1/b/two.stl", b"2")
    gone = storage.delete(TMP, ["1/a/one.stl", "1/never/was.stl"])
    assert sorted(gone) == ["1/a/one.stl", "1/never/was.stl"]
    assert storage.list(TMP) == ["1/b/two.stl"]
    assert storage.delete(TMP, ["1/a/one.stl"]) == ["1/a/one.stl"]  # twice: still fine
    assert storage.delete(TMP, []) == []


def test_copy_into_another_bucket(storage: Storage) -> None:
    storage.put(TMP, "1/a/cube.stl", CUBE, "model/stl")
    storage.copy(TMP, "1/a/cube.stl", ORDER_FILES, "5/b/cube.stl", "model/stl")
    assert storage.get(ORDER_FILES, "5/b/cube.stl") == CUBE.read_bytes()
    assert storage.exists(TMP, "1/a/cube.stl")
    with pytest.raises(ObjectNotFound):
        storage.copy(TMP, "1/a/none.stl", ORDER_FILES, "5/c/none.stl")


def test_signed_url_downloads_until_it_expires(backend: Backend) -> None:
    storage = backend.storage
    storage.put(ORDER_FILES, "4/u/cube.stl", CUBE, "model/stl")
    url = storage.signed_url(ORDER_FILES, "4/u/cube.stl", 300)
    assert storage.read_signed_url(url) == CUBE.read_bytes()
    if backend.name == "supabase":  # the link alone, no credentials, is enough
        response = httpx.get(url)
        assert response.status_code == 200 and response.content == CUBE.read_bytes()
    backend.advance(301)
    with pytest.raises(LinkExpired, match="expired"):
        storage.read_signed_url(url)
    if backend.name == "supabase":
        refused = httpx.get(url)
        assert refused.status_code == 400 and refused.json()["message"] == "jwt expired"


def test_a_tampered_signed_url_is_refused(backend: Backend) -> None:
    storage = backend.storage
    storage.put(ORDER_FILES, "4/u/a.stl", b"a")
    storage.put(ORDER_FILES, "4/u/b.stl", b"b")
    url = storage.signed_url(ORDER_FILES, "4/u/a.stl", 60)
    other = url.replace("4/u/a.stl", "4/u/b.stl")
    with pytest.raises(LinkRefused):
        storage.read_signed_url(other)
    parts = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    query["token"] = query["token"][:-4] + (
        "AAAA" if not query["token"].endswith("AAAA") else "BBBB"
    )
    forged = parts._replace(query=urlencode(query)).geturl()
    with pytest.raises(LinkRefused):
        storage.read_signed_url(forged)


def test_signed_url_of_a_missing_object(storage: Storage) -> None:
    with pytest.raises(ObjectNotFound):
        storage.signed_url(ORDER_FILES, "4/u/none.stl", 60)


def test_signed_url_lifetime_is_bounded(storage: Storage) -> None:
    storage.put(ORDER_FILES, "4/u/a.stl", b"a")
    for seconds in (0, -5, 8 * 24 * 3600):
        with pytest.raises(StorageError, match="lasts"):
            storage.signed_url(ORDER_FILES, "4/u/a.stl", seconds)


@pytest.mark.parametrize("key", HOSTILE_KEYS)
def test_hostile_keys_are_refused_before_anything_happens(
    backend: Backend, key: str, tmp_path: Path
) -> None:
    storage = backend.storage
    before = len(backend.standin.requests) if backend.standin else 0
    for action in (
        lambda: storage.put(TMP, key, b"x"),
        lambda: storage.get(TMP, key),
        lambda: storage.exists(TMP, key),
        lambda: storage.delete(TMP, [key]),
        lambda: storage.signed_url(TMP, key, 60),
        lambda: storage.copy(TMP, "1/a/b.stl", TMP, key),
    ):
        with pytest.raises(InvalidKey):
            action()
    if backend.standin is not None:
        assert len(backend.standin.requests) == before, "a hostile key reached the server"
    else:
        written = [p for p in tmp_path.rglob("*") if p.is_file() and ".signing" not in p.name]
        assert written == []
    assert storage.list(TMP) == []


@pytest.mark.parametrize("bucket", HOSTILE_BUCKETS)
def test_hostile_bucket_names_are_refused(storage: Storage, bucket: str) -> None:
    with pytest.raises(InvalidKey):
        storage.put(bucket, "a/b.stl", b"x")
    with pytest.raises(InvalidKey):
        storage.list(bucket)


def test_ensure_buckets_is_idempotent(storage: Storage) -> None:
    storage.put(TMP, "1/a/keep.stl", b"keep")
    storage.ensure_buckets()
    storage.ensure_buckets()
    assert storage.list(TMP) == ["1/a/keep.stl"]


@pytest.mark.parametrize(
    ("filename", "expected"),
    [
        ("20mm-xyz-cube.stl", "20mm-xyz-cube.stl"),
        ("Würfel für Oma.STL", "Wurfel fur Oma.STL"),
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\ada\\part.obj", "part.obj"),
        ("日本語.3mf", "file.3mf"),
        ("con.stl", "_con.stl"),
        ("what?*:<>|.stl", "what_.stl"),
        ("...", "file"),
        ("a" * 300 + ".stl", "a" * 116 + ".stl"),
    ],
)
def test_key_names_from_client_file_names(filename: str, expected: str) -> None:
    assert key_name(filename) == expected
    assert check_key(key_name(filename))


def test_keys_made_from_awkward_names_are_accepted_by_both_backends(storage: Storage) -> None:
    names = ["Würfel für Oma.STL", "日本語.3mf", "it's (final) & v2; +1, =ok @home $5!.obj"]
    keys = [order_file_key(12, n) for n in names] + [tmp_key("shop", n) for n in names]
    for key in keys:
        storage.put(ORDER_FILES, key, key.encode())
    assert storage.list(ORDER_FILES) == sorted(keys)
    for key in keys:
        assert storage.get(ORDER_FILES, key) == key.encode()
        assert storage.read_signed_url(storage.signed_url(ORDER_FILES, key, 60)) == key.encode()
    assert sorted(storage.delete(ORDER_FILES, keys)) == sorted(keys)


def test_local_objects_live_in_one_folder_per_bucket(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path / "s")
    storage.ensure_buckets()
    assert sorted(p.name for p in (tmp_path / "s").iterdir() if not p.name.startswith(".")) == [
        "attachments",
        "order-files",
        "pdfs",
        "tmp",
    ]
    storage.put(TMP, "1/u/a.stl", b"a")
    assert (tmp_path / "s" / "tmp" / "1" / "u" / "a.stl").read_bytes() == b"a"
    storage.delete(TMP, ["1/u/a.stl"])
    assert list((tmp_path / "s" / "tmp").iterdir()) == []  # emptied folders go too
    storage.put(TMP, "1/u/b.stl", b"b")
    url = storage.signed_url(TMP, "1/u/b.stl", 60)
    assert url.startswith("file://") and "token=" in url and "expires=" in url
    assert LocalStorage(tmp_path / "s").read_signed_url(url) == b"b"  # a new process reads it
    with pytest.raises(LinkRefused):
        LocalStorage(tmp_path / "elsewhere").read_signed_url(url)


def test_local_storage_refuses_a_bucket_folder_swapped_for_a_link(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    storage = LocalStorage(tmp_path / "s")
    storage.ensure_buckets()
    (tmp_path / "s" / "tmp" / "1").symlink_to(outside, target_is_directory=True)
    with pytest.raises(StorageError, match="outside its bucket"):
        storage.put(TMP, "1/u/a.stl", b"a")
    assert list(outside.iterdir()) == []


# Supabase only: what the API does and says ------------------------------------------------


def test_supabase_remove_answering_nothing_leaves_the_key_out(standin: SupabaseStandIn) -> None:
    storage = SupabaseStorage(standin.url, SERVICE_KEY)
    try:
        storage.ensure_buckets()
        storage.put(TMP, "1/a/one.stl", b"1")
        standin.ignore_next_deletes(1)
        assert storage.delete(TMP, ["1/a/one.stl", "1/a/never.stl"]) == ["1/a/never.stl"]
        assert standin.keys(TMP) == ["1/a/one.stl"]
        assert storage.delete(TMP, ["1/a/one.stl"]) == ["1/a/one.stl"]
        assert standin.keys(TMP) == []
    finally:
        storage.close()


def test_supabase_errors_become_plain_storage_errors(standin: SupabaseStandIn) -> None:
    storage = SupabaseStorage(standin.url, SERVICE_KEY)
    wrong = SupabaseStorage(standin.url, "not-the-service-key")
    try:
        storage.ensure_buckets()
        standin.fail_next_deletes(1)
        with pytest.raises(StorageError, match=r"refused to delete objects from tmp: .*500"):
            storage.delete(TMP, ["1/a/one.stl"])
        with pytest.raises(StorageError, match="refused to list the buckets"):
            wrong.ensure_buckets()
        with pytest.raises(StorageError, match=r"does not exist|refused"):
            storage.put("no-such-bucket", "1/a.stl", b"x")
    finally:
        storage.close()
        wrong.close()


def test_supabase_unreachable_is_a_storage_error() -> None:
    with SupabaseStandIn() as server:
        url = server.url
    storage = SupabaseStorage(url, SERVICE_KEY, timeout_s=2)
    try:
        with pytest.raises(StorageError, match="could not be reached"):
            storage.list(TMP)
    finally:
        storage.close()


def test_supabase_list_walks_folders_and_pages(standin: SupabaseStandIn) -> None:
    storage = SupabaseStorage(standin.url, SERVICE_KEY)
    try:
        storage.ensure_buckets()
        keys = [f"1/{i:04d}.stl" for i in range(1500)] + ["2/x/y.stl", "top.txt"]
        for key in keys:
            standin.seed(TMP, key, b"x")
        standin.seed(TMP, "3/.emptyFolderPlaceholder", b"")
        assert storage.list(TMP) == sorted(keys)
        assert len(storage.list(TMP, "1")) == 1500
    finally:
        storage.close()


def test_supabase_bucket_listing_has_the_fields_storage3_needs(standin: SupabaseStandIn) -> None:
    storage = SupabaseStorage(standin.url, SERVICE_KEY)
    try:
        storage.ensure_buckets()
    finally:
        storage.close()
    response = httpx.get(
        f"{standin.url}/storage/v1/bucket",
        headers={"Authorization": f"Bearer {SERVICE_KEY}", "apikey": SERVICE_KEY},
    )
    buckets = response.json()
    assert sorted(b["id"] for b in buckets) == sorted([TMP, ORDER_FILES, PDFS, "attachments"])
    for bucket in buckets:
        for field in ("owner", "created_at", "updated_at", "file_size_limit", "allowed_mime_types"):
            assert field in bucket


def test_open_storage_follows_the_configuration(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, standin: SupabaseStandIn
) -> None:
    from core.config import AppConfig
    from core.storage import open_storage

    monkeypatch.setenv("PRINTDESK_CONFIG", str(tmp_path / "none.toml"))
    local = open_storage(AppConfig(data_dir=tmp_path / "data"))
    assert isinstance(local, LocalStorage) and local.root == tmp_path / "data" / "storage"
    remote = open_storage(
        AppConfig(
            data_dir=tmp_path / "data",
            storage_backend="supabase",
            supabase_url=standin.url,
            supabase_service_key=SERVICE_KEY,
        )
    )
    try:
        assert isinstance(remote, SupabaseStorage)
        remote.ensure_buckets()
        remote.put(TMP, "1/a/b.stl", b"b")
        assert standin.keys(TMP) == ["1/a/b.stl"]
    finally:
        remote.close()
    with pytest.raises(StorageError, match="PRINTDESK_SUPABASE_SERVICE_KEY"):
        open_storage(AppConfig(data_dir=tmp_path, storage_backend="supabase"))
