"""Uploads, promotion, deletion and the outbox: storage and database end consistent, faults or not.

Faults are injected by wrapping the real backend (`FlakyStorage`) or through the Supabase
stand-in's controls, never by patching the code under test.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import uuid
from pathlib import Path

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from core.actor import Actor
from core.config import AppConfig
from core.db.engine import Database
from core.db.models import OrderFile, StorageDeletion, TmpFile, User
from core.enums import Role, TmpFileStatus
from core.errors import Conflict, NotAllowed, NotFound
from core.mesh.analysis import MeshError
from core.mesh.intake import FileTooLarge, UnsupportedFormat
from core.services import invoices, maintenance, order_files, quotes, tmp_files
from core.services.maintenance import (
    after_commit_drain,
    backoff,
    check_storage,
    drain_outbox,
    run_maintenance,
)
from core.shop_settings import ShopSettings
from core.storage import ORDER_FILES, TMP, LocalStorage, Storage
from core.storage.base import DEFAULT_CONTENT_TYPE
from core.storage.supabase_backend import SupabaseStorage
from tests.factories import item, make_client
from tests.storage.conftest import CUBE, MODELS, Backend, FlakyStorage
from tests.supabase_standin import SERVICE_KEY, SupabaseStandIn


def _user(database: Database, role: Role = Role.STAFF) -> Actor:
    with database.session() as s, s.begin():
        user = User(
            email=f"{uuid.uuid4().hex[:8]}@shop.test",
            name="Counter",
            role=role.value,
            password_hash="not-used",
        )
        s.add(user)
        s.flush()
        return Actor(user_id=user.id, role=role, label=user.email)


def _quote(database: Database, admin: Actor, client: int) -> int:
    with database.session() as s:
        return quotes.create_quote(s, admin, client, [item()]).id


def _upload(database: Database, actor: Actor, storage: Storage, path: Path = CUBE) -> int:
    with database.session() as s:
        return tmp_files.upload_tmp(s, actor, storage, path.name, path).id


def _count(database: Database, model: type[object]) -> int:
    with database.session() as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


def _outbox(database: Database) -> list[StorageDeletion]:
    with database.session() as s:
        return list(s.scalars(select(StorageDeletion).order_by(StorageDeletion.id)))


def _assert_clean(database: Database, storage: Storage) -> None:
    report = check_storage(database, storage)
    assert report.as_json() == {"orphan_objects": [], "missing_objects": [], "pending_deletions": 0}


# Uploads -------------------------------------------------------------------------------------


def test_upload_stores_the_object_then_an_idle_row_that_expires(
    database: Database, backend: Backend, staff: Actor
) -> None:
    user = _user(database)
    before = dt.datetime.now(dt.UTC)
    with database.session() as s:
        view = tmp_files.upload_tmp(s, user, backend.storage, "My Cube (v2).stl", CUBE)
    assert view.status is TmpFileStatus.IDLE
    assert view.bucket == TMP and view.user_id == user.user_id
    assert view.storage_key.startswith(f"{user.user_id}/")
    assert view.storage_key.endswith("/My Cube (v2).stl")
    assert view.filename == "My Cube (v2).stl"
    assert view.size_bytes == CUBE.stat().st_size and view.mime_type == "model/stl"
    assert view.sha256 == hashlib.sha256(CUBE.read_bytes()).hexdigest()
    assert view.metadata["mesh"]["faces"] == 260 and view.metadata["mesh"]["watertight"]
    hours = (view.expires_at - before).total_seconds() / 3600
    assert 47.9 < hours < 48.1
    assert backend.storage.get(TMP, view.storage_key) == CUBE.read_bytes()
    _assert_clean(database, backend.storage)


@pytest.mark.parametrize(
    ("name", "content", "error"),
    [
        ("part.stl", b"%PDF-1.7\n" + b"x" * 200, UnsupportedFormat),
        ("empty.stl", (MODELS / "empty.stl").read_bytes(), MeshError),
        ("nothing.stl", b"", UnsupportedFormat),
    ],
)
def test_upload_refused_by_intake_stores_nothing(
    database: Database,
    backend: Backend,
    admin: Actor,
    name: str,
    content: bytes,
    error: type[Exception],
) -> None:
    with database.session() as s, pytest.raises(error):
        tmp_files.upload_tmp(s, admin, backend.storage, name, content)
    assert backend.storage.list(TMP) == []
    assert _count(database, TmpFile) == 0


def test_upload_over_the_size_limit_is_refused_unread(
    database: Database, backend: Backend, admin: Actor
) -> None:
    big = MODELS / "ADIS16480.STL"  # 2.1 MB
    with database.session() as s, pytest.raises(FileTooLarge, match=r"up to 1\.0 MB"):
        tmp_files.upload_tmp(
            s, admin, backend.storage, big.name, big, settings=ShopSettings(max_upload_mb=1)
        )
    assert backend.storage.list(TMP) == []
    assert _count(database, TmpFile) == 0


def test_a_row_that_cannot_be_saved_takes_its_object_with_it(
    database: Database, backend: Backend
) -> None:
    ghost = Actor(user_id=987_654, role=Role.STAFF, label="deleted user")  # no such user: FK
    with database.session() as s, pytest.raises(IntegrityError):
        tmp_files.upload_tmp(s, ghost, backend.storage, "cube.stl", CUBE)
    assert backend.storage.list(TMP) == []
    assert _count(database, TmpFile) == 0
    assert _outbox(database) == []


def test_when_even_the_cleanup_fails_the_object_is_queued(
    database: Database, backend: Backend
) -> None:
    flaky = FlakyStorage(backend.storage, failures=1)
    ghost = Actor(user_id=987_654, role=Role.STAFF, label="deleted user")
    with database.session() as s, pytest.raises(IntegrityError):
        tmp_files.upload_tmp(s, ghost, flaky, "cube.stl", CUBE)
    [queued] = _outbox(database)
    assert queued.bucket == TMP and queued.done_at is None
    assert check_storage(database, flaky).orphan_objects == ()  # pending, not orphaned
    report = run_maintenance(database, flaky)
    assert report["outbox"]["deleted"] == 1
    assert backend.storage.list(TMP) == []
    _assert_clean(database, backend.storage)


def test_staff_delete_only_their_own_uploads_admins_any(
    database: Database, backend: Backend, admin: Actor
) -> None:
    ann, bob = _user(database), _user(database)
    anns, bobs = _upload(database, ann, backend.storage), _upload(database, bob, backend.storage)
    with database.session() as s, pytest.raises(NotAllowed, match="uploaded"):
        tmp_files.delete_tmp(s, bob, anns)
    with database.session() as s, pytest.raises(NotAllowed):
        tmp_files.delete_tmp(s, Actor(None, Role.STAFF, "anonymous staff"), anns)
    with database.session() as s:
        assert [t.id for t in tmp_files.list_tmp_files(s, bob)] == [bobs]
        assert len(tmp_files.list_tmp_files(s, admin)) == 2
    assert _count(database, TmpFile) == 2 and _outbox(database) == []

    with database.session() as s:
        tmp_files.delete_tmp(s, bob, bobs)
    with database.session() as s:
        tmp_files.delete_tmp(s, admin, anns)
    assert after_commit_drain(database, backend.storage) is not None
    assert backend.storage.list(TMP) == []
    _assert_clean(database, backend.storage)


def test_upload_status_moves_through_slicing(database: Database, backend: Backend) -> None:
    ann, bob = _user(database), _user(database)
    tmp_id = _upload(database, ann, backend.storage)
    with database.session() as s:
        running = tmp_files.set_tmp_status(s, ann, tmp_id, "running", metadata={"attempts": 1})
    assert running.status is TmpFileStatus.RUNNING and running.metadata["attempts"] == 1
    assert "mesh" in running.metadata
    with database.session() as s:
        done = tmp_files.set_tmp_status(s, ann, tmp_id, TmpFileStatus.COMPLETED)
    assert done.status is TmpFileStatus.COMPLETED
    with database.session() as s, pytest.raises(NotAllowed):
        tmp_files.set_tmp_status(s, bob, tmp_id, "failed")


# Promotion -----------------------------------------------------------------------------------


def test_promote_twice_makes_one_copy_and_leaves_no_tmp_behind(
    database: Database, backend: Backend, admin: Actor
) -> None:
    user = _user(database)
    client = make_client(database)
    quote = _quote(database, admin, client)
    ids = [_upload(database, user, backend.storage), _upload(database, user, backend.storage)]

    with database.session() as s:
        first = order_files.promote_tmp_files(
            s, user, backend.storage, ids, client_id=client, quote_id=quote
        )
    after_commit_drain(database, backend.storage)
    with database.session() as s:
        again = order_files.promote_tmp_files(
            s, user, backend.storage, ids, client_id=client, quote_id=quote
        )
    assert [f.id for f in again] == [f.id for f in first]
    assert [f.metadata["tmp_file_id"] for f in first] == ids
    assert all(f.storage_key.startswith(f"{client}/") and f.quote_id == quote for f in first)
    assert first[0].metadata["mesh"]["faces"] == 260
    assert backend.storage.list(ORDER_FILES) == sorted(f.storage_key for f in first)
    assert backend.storage.list(TMP) == []
    assert _count(database, TmpFile) == 0 and _count(database, OrderFile) == 2
    _assert_clean(database, backend.storage)

    other = _quote(database, admin, client)
    with database.session() as s, pytest.raises(Conflict, match="another document"):
        order_files.promote_tmp_files(
            s, user, backend.storage, ids, client_id=client, quote_id=other
        )


def test_promote_refuses_someone_elses_upload_and_unknown_ids(
    database: Database, backend: Backend, admin: Actor
) -> None:
    ann, bob = _user(database), _user(database)
    client = make_client(database)
    quote = _quote(database, admin, client)
    anns = _upload(database, ann, backend.storage)
    with database.session() as s, pytest.raises(NotAllowed):
        order_files.promote_tmp_files(
            s, bob, backend.storage, [anns], client_id=client, quote_id=quote
        )
    with database.session() as s, pytest.raises(NotFound, match="upload"):
        order_files.promote_tmp_files(
            s, ann, backend.storage, [anns, 999_999], client_id=client, quote_id=quote
        )
    assert backend.storage.list(ORDER_FILES) == []
    assert _count(database, TmpFile) == 1
    _assert_clean(database, backend.storage)


class _QuoteVanishesDuringCopy(FlakyStorage):
    """Another counter deletes the quote while the objects are being copied."""

    def __init__(self, inner: Storage, database: Database, admin: Actor, quote_id: int) -> None:
        super().__init__(inner, failures=0)
        self.database, self.admin, self.quote_id = database, admin, quote_id

    def copy(
        self,
        src_bucket: str,
        src_key: str,
        dst_bucket: str,
        dst_key: str,
        content_type: str = DEFAULT_CONTENT_TYPE,
    ) -> None:
        super().copy(src_bucket, src_key, dst_bucket, dst_key, content_type)
        with self.database.session() as s:
            quotes.delete_quote(s, self.admin, self.quote_id)


def test_a_promotion_whose_transaction_fails_removes_its_copies(
    database: Database, backend: Backend, admin: Actor
) -> None:
    user = _user(database)
    client = make_client(database)
    quote = _quote(database, admin, client)
    tmp_id = _upload(database, user, backend.storage)
    racing = _QuoteVanishesDuringCopy(backend.storage, database, admin, quote)
    with database.session() as s, pytest.raises(NotFound, match="quote"):
        order_files.promote_tmp_files(s, user, racing, [tmp_id], client_id=client, quote_id=quote)
    assert backend.storage.list(ORDER_FILES) == []
    assert _count(database, OrderFile) == 0 and _count(database, TmpFile) == 1
    assert len(backend.storage.list(TMP)) == 1
    _assert_clean(database, backend.storage)


# Deletion and the outbox ---------------------------------------------------------------------


def _order_file(
    database: Database,
    admin: Actor,
    storage: Storage,
    client: int,
    *,
    quote: int | None = None,
    invoice: int | None = None,
) -> order_files.OrderFileView:
    with database.session() as s:
        return order_files.add_order_file(
            s, admin, storage, CUBE, client_id=client, quote_id=quote, invoice_id=invoice
        )


def _quoted_file(
    database: Database, admin: Actor, storage: Storage
) -> tuple[int, order_files.OrderFileView]:
    """A client and a file of a new quote of theirs."""
    client = make_client(database)
    quote = _quote(database, admin, client)
    return client, _order_file(database, admin, storage, client, quote=quote)


def test_failing_deletes_are_retried_with_backoff_until_done(
    database: Database, backend: Backend, admin: Actor
) -> None:
    flaky = FlakyStorage(backend.storage, failures=3)
    client = make_client(database)
    added = _order_file(database, admin, flaky, client, quote=_quote(database, admin, client))
    with database.session() as s:
        order_files.delete_order_file(s, admin, added.id)
    first = after_commit_drain(database, flaky)
    assert first is not None and first.failed == 1 and "injected" in first.errors[0]

    waits = []
    for _ in range(10):
        [row] = _outbox(database)
        if row.done_at is not None:
            break
        assert row.last_error and "injected" in row.last_error
        waits.append(row.next_attempt_at)
        # Not due a moment before its time; due at it.
        early = drain_outbox(database, flaky, now=row.next_attempt_at - dt.timedelta(seconds=1))
        assert early.due == 0
        drain_outbox(database, flaky, now=row.next_attempt_at)
    [row] = _outbox(database)
    assert row.done_at is not None and row.attempts == 4 and row.last_error is None
    assert flaky.delete_calls == 4
    gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(waits)]
    assert gaps == [60.0, 120.0]  # 30 s after the 1st failure, 60 s after the 2nd, 120 s …
    assert not backend.storage.exists(ORDER_FILES, added.storage_key)
    _assert_clean(database, backend.storage)


def test_backoff_doubles_and_stops_at_an_hour() -> None:
    assert [backoff(n).total_seconds() for n in range(1, 9)] == [
        30,
        60,
        120,
        240,
        480,
        960,
        1920,
        3600,
    ]
    assert backoff(1000) == dt.timedelta(hours=1)


def test_a_delete_answered_with_nothing_is_retried(
    database: Database, backend: Backend, admin: Actor
) -> None:
    storage: Storage = FlakyStorage(backend.storage, failures=1, silent=True)
    if backend.standin is not None:  # the stand-in itself answers [] once
        backend.standin.ignore_next_deletes(1)
        storage = backend.storage
    client = make_client(database)
    added = _order_file(database, admin, storage, client, quote=_quote(database, admin, client))
    with database.session() as s:
        order_files.delete_order_file(s, admin, added.id)
    report = after_commit_drain(database, storage)
    assert report is not None and report.failed == 1
    assert report.errors == ("the object was still there after the delete",)
    assert backend.storage.exists(ORDER_FILES, added.storage_key)
    [row] = _outbox(database)
    run_maintenance(database, storage, now=row.next_attempt_at)
    assert not backend.storage.exists(ORDER_FILES, added.storage_key)
    _assert_clean(database, backend.storage)


def test_a_server_error_on_delete_is_retried(
    database: Database, standin: SupabaseStandIn, admin: Actor
) -> None:
    storage = SupabaseStorage(standin.url, SERVICE_KEY)
    try:
        storage.ensure_buckets()
        standin.fail_next_deletes(2)
        _client, added = _quoted_file(database, admin, storage)
        with database.session() as s:
            order_files.delete_order_file(s, admin, added.id)
        report = after_commit_drain(database, storage)
        assert report is not None and report.failed == 1 and "500" in report.errors[0]
        for _ in range(2):
            [row] = _outbox(database)
            drain_outbox(database, storage, now=row.next_attempt_at)
        [row] = _outbox(database)
        assert row.done_at is not None and row.attempts == 3
        assert standin.keys(ORDER_FILES) == []
        _assert_clean(database, storage)
    finally:
        storage.close()


def test_dying_between_commit_and_delete_leaves_nothing_behind(
    database: Database, backend: Backend, admin: Actor
) -> None:
    _client, added = _quoted_file(database, admin, backend.storage)
    with database.session() as s:
        order_files.delete_order_file(s, admin, added.id)
    # The process dies here: the deletion is committed, the drain never runs.
    report = check_storage(database, backend.storage)
    assert report.orphan_objects == () and report.missing_objects == ()
    assert report.pending_deletions == 1
    assert backend.storage.exists(ORDER_FILES, added.storage_key)

    result = run_maintenance(database, backend.storage)  # the next start, or the relay
    assert result["outbox"]["deleted"] == 1 and result["pending_deletions"] == 0
    assert not backend.storage.exists(ORDER_FILES, added.storage_key)
    _assert_clean(database, backend.storage)


def test_dying_after_claiming_rows_only_delays_them(
    database: Database, backend: Backend, admin: Actor
) -> None:
    _client, added = _quoted_file(database, admin, backend.storage)
    with database.session() as s:
        order_files.delete_order_file(s, admin, added.id)
    # A drainer claimed the row (moved it out of reach for the lease) and died.
    with database.session() as s, s.begin():
        s.execute(update(StorageDeletion).values(next_attempt_at=func.now() + maintenance.LEASE))
    assert drain_outbox(database, backend.storage).due == 0
    [row] = _outbox(database)
    assert drain_outbox(database, backend.storage, now=row.next_attempt_at).deleted == 1
    _assert_clean(database, backend.storage)


def test_deleting_an_invoice_removes_its_own_files_after_the_drain(
    database: Database, backend: Backend, admin: Actor
) -> None:
    client = make_client(database)
    quote = _quote(database, admin, client)
    with database.session() as s:
        invoice = quotes.convert_to_invoice(s, admin, quote).id
    own = _order_file(database, admin, backend.storage, client, invoice=invoice)
    shared = _order_file(database, admin, backend.storage, client, quote=quote, invoice=invoice)
    with database.session() as s:
        invoices.delete_invoice(s, admin, invoice)
    after_commit_drain(database, backend.storage)
    assert not backend.storage.exists(ORDER_FILES, own.storage_key)
    assert backend.storage.exists(ORDER_FILES, shared.storage_key)  # still the quote's
    _assert_clean(database, backend.storage)

    with database.session() as s:
        quotes.delete_quote(s, admin, quote)
    after_commit_drain(database, backend.storage)
    assert backend.storage.list(ORDER_FILES) == []
    _assert_clean(database, backend.storage)


def test_deleting_a_file_is_for_admins(database: Database, backend: Backend, admin: Actor) -> None:
    _client, added = _quoted_file(database, admin, backend.storage)
    with database.session() as s, pytest.raises(NotAllowed, match="admin"):
        order_files.delete_order_file(s, _user(database), added.id)
    assert backend.storage.exists(ORDER_FILES, added.storage_key)


def test_the_drain_never_deletes_an_object_a_row_still_owns(
    database: Database, backend: Backend, admin: Actor
) -> None:
    _client, added = _quoted_file(database, admin, backend.storage)
    maintenance.queue_deletion(database, ORDER_FILES, [added.storage_key], "by mistake")
    report = after_commit_drain(database, backend.storage)
    assert report is not None and report.kept == 1 and report.deleted == 0
    assert backend.storage.exists(ORDER_FILES, added.storage_key)
    _assert_clean(database, backend.storage)


# Expiry, retention, the check ----------------------------------------------------------------


def test_expired_uploads_go_with_their_objects(database: Database, backend: Backend) -> None:
    user = _user(database)
    tmp_id = _upload(database, user, backend.storage)
    assert run_maintenance(database, backend.storage)["expired_tmp_files"] == 0
    later = dt.datetime.now(dt.UTC) + dt.timedelta(hours=49)
    report = run_maintenance(database, backend.storage, now=later)
    assert report["expired_tmp_files"] == 1 and report["outbox"]["deleted"] == 1
    with database.session() as s:
        assert s.get(TmpFile, tmp_id) is None
    assert backend.storage.list(TMP) == []
    _assert_clean(database, backend.storage)


def test_order_files_are_kept_as_long_as_the_retention_says(
    database: Database, backend: Backend, admin: Actor
) -> None:
    from core.services import settings as shop_settings

    _client, added = _quoted_file(database, admin, backend.storage)
    month = dt.datetime.now(dt.UTC) + dt.timedelta(days=31)
    assert run_maintenance(database, backend.storage, now=month)["expired_order_files"] == 0
    with database.session() as s:
        shop_settings.update_settings(s, admin, {"retention": {"order_files_days": 30}})
    assert run_maintenance(database, backend.storage)["expired_order_files"] == 0
    report = run_maintenance(database, backend.storage, now=month)
    assert report["expired_order_files"] == 1
    assert not backend.storage.exists(ORDER_FILES, added.storage_key)
    _assert_clean(database, backend.storage)


def test_check_finds_orphans_and_missing_objects(
    database: Database, backend: Backend, admin: Actor
) -> None:
    client, added = _quoted_file(database, admin, backend.storage)
    backend.storage.put(ORDER_FILES, f"{client}/stray/left-behind.stl", b"x")
    backend.storage.delete(ORDER_FILES, [added.storage_key])
    report = check_storage(database, backend.storage)
    assert report.orphan_objects == (f"order-files/{client}/stray/left-behind.stl",)
    assert report.missing_objects == (f"order-files/{added.storage_key}",)
    assert not report.clean


def test_signed_download_link_for_an_order_file(
    database: Database, backend: Backend, admin: Actor
) -> None:
    client, added = _quoted_file(database, admin, backend.storage)
    with database.session() as s:
        url = order_files.signed_download_url(s, admin, backend.storage, added.id)
        listed = order_files.list_order_files(s, client_id=client)
    assert backend.storage.read_signed_url(url) == CUBE.read_bytes()
    assert [f.id for f in listed] == [added.id]


# The relay runs the same maintenance under its own database role ------------------------------


def test_the_relay_maintenance_runs_under_the_relay_role(
    database: Database, db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sqlalchemy.engine import make_url

    from relay.maintenance import run_maintenance as relay_maintenance

    monkeypatch.setenv("PRINTDESK_CONFIG", str(tmp_path / "none.toml"))
    config = AppConfig(data_dir=tmp_path / "data")
    storage = LocalStorage(config.storage_dir)
    storage.ensure_buckets()
    user = _user(database)
    tmp_id = _upload(database, user, storage)
    with database.session() as s, s.begin():
        s.execute(
            update(TmpFile)
            .where(TmpFile.id == tmp_id)
            .values(expires_at=func.now() - dt.timedelta(hours=1))
        )
    relay_url = (
        make_url(db_url)
        .update_query_dict({"options": "-c role=printdesk_relay"})
        .render_as_string(hide_password=False)
    )
    relay_db = Database.from_url(relay_url)
    try:
        relay_maintenance(config, relay_db)
    finally:
        relay_db.dispose()
    assert storage.list(TMP) == []
    _assert_clean(database, storage)


def test_two_counters_promoting_the_same_uploads_make_one_copy(
    database: Database, tmp_path: Path, admin: Actor
) -> None:
    import threading

    storage = LocalStorage(tmp_path / "storage")
    storage.ensure_buckets()
    user = _user(database)
    client = make_client(database)
    quote = _quote(database, admin, client)
    ids = [_upload(database, user, storage) for _ in range(3)]
    start = threading.Barrier(2)
    results: list[list[int]] = []
    errors: list[BaseException] = []

    def promote() -> None:
        start.wait(10)
        try:
            with database.session() as s:
                made = order_files.promote_tmp_files(
                    s, user, storage, ids, client_id=client, quote_id=quote
                )
            results.append([f.id for f in made])
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=promote) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    assert len(results) == 2 and results[0] == results[1]
    assert len(storage.list(ORDER_FILES)) == 3
    run_maintenance(database, storage)
    assert storage.list(TMP) == []
    _assert_clean(database, storage)


def test_expire_tmp_files_can_drain_right_away(database: Database, backend: Backend) -> None:
    user = _user(database)
    _upload(database, user, backend.storage)
    later = dt.datetime.now(dt.UTC) + dt.timedelta(hours=49)
    assert maintenance.expire_tmp_files(database, backend.storage, now=later) == 1
    assert backend.storage.list(TMP) == []
    _assert_clean(database, backend.storage)
