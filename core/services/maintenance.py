"""Keeping storage and database consistent: the deletion outbox, tmp expiry, retention, checks.

Deleting a row that owns a storage object queues the object in ``storage_deletions`` in the
same transaction (a trigger does it, whichever code deletes). After the commit the caller runs
`after_commit_drain`; whatever fails there, or never ran because the process died, is retried
by `run_maintenance` (relay schedule, desktop start, ``printdesk maintenance run``) with
exponential backoff capped at an hour, until done.

Draining claims due rows with ``FOR UPDATE SKIP LOCKED`` and a short lease (their next attempt
moved a few minutes ahead) and commits, so several drainers never delete the same object twice
and a drainer that dies mid-way leaves rows that come due again. Objects still referenced by a
row (a key reused by a re-rendered PDF, say) are never deleted: their outbox row is closed.

Nothing here writes the activity log, so the relay's database role can run it.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from sqlalchemy import delete, func, select, tuple_, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from core.db.engine import Database
from core.db.models import (
    Attachment,
    Invoice,
    OrderFile,
    Quote,
    StorageDeletion,
    TmpFile,
)
from core.services import settings as shop_settings
from core.storage.base import BUCKETS, PDFS, Storage, StorageError, check_bucket, check_key

log = logging.getLogger(__name__)

BACKOFF_BASE: Final = dt.timedelta(seconds=30)
BACKOFF_CAP: Final = dt.timedelta(hours=1)
#: How long a claimed outbox row stays out of other drainers' reach.
LEASE: Final = dt.timedelta(minutes=5)
_MAX_ERROR_CHARS: Final = 2000


def backoff(attempts: int) -> dt.timedelta:
    """The wait after the ``attempts``-th failure: 30 s, 1 min, 2 min, … at most 1 h."""
    if attempts <= 1:
        return BACKOFF_BASE
    wait: dt.timedelta = BACKOFF_BASE * 2 ** min(attempts - 1, 20)
    return min(BACKOFF_CAP, wait)


def _db_now(session: Session) -> dt.datetime:
    value = session.scalar(select(func.now()))
    assert isinstance(value, dt.datetime)
    return value


# ---------------------------------------------------------------------------------------------
# The outbox


@dataclass(frozen=True)
class DrainReport:
    due: int = 0
    deleted: int = 0
    failed: int = 0
    kept: int = 0
    errors: tuple[str, ...] = ()

    def __add__(self, other: DrainReport) -> DrainReport:
        return DrainReport(
            self.due + other.due,
            self.deleted + other.deleted,
            self.failed + other.failed,
            self.kept + other.kept,
            (*self.errors, *other.errors),
        )

    def as_json(self) -> dict[str, Any]:
        return {
            "due": self.due,
            "deleted": self.deleted,
            "failed": self.failed,
            "kept": self.kept,
            "errors": list(self.errors),
        }


@dataclass
class _Claimed:
    id: int
    bucket: str
    key: str
    attempts: int


@dataclass
class _Outcome:
    done: list[int] = field(default_factory=list)
    kept: list[int] = field(default_factory=list)
    failed: dict[int, str] = field(default_factory=dict)


def _referenced(session: Session, pairs: Iterable[tuple[str, str]]) -> set[tuple[str, str]]:
    """Which (bucket, key) pairs a row still points at."""
    wanted = list(set(pairs))
    if not wanted:
        return set()
    found: set[tuple[str, str]] = set()
    for model in (OrderFile, Attachment, TmpFile):
        rows = session.execute(
            select(model.bucket, model.storage_key).where(
                tuple_(model.bucket, model.storage_key).in_(wanted)
            )
        )
        found.update((b, k) for b, k in rows)
    pdf_keys = [k for b, k in wanted if b == PDFS]
    if pdf_keys:
        for doc in (Quote, Invoice):
            query = select(doc.pdf_key).where(doc.pdf_key.in_(pdf_keys))
            found.update((PDFS, k) for k in session.scalars(query) if k)
    return found


def _valid(bucket: str, key: str) -> bool:
    try:
        check_bucket(bucket)
        check_key(key)
    except StorageError:
        return False
    return True


def drain_outbox(
    db: Database, storage: Storage, *, now: dt.datetime | None = None, limit: int = 100
) -> DrainReport:
    """Delete the objects of due outbox rows; record success, or the failure and the next try.

    ``now`` defaults to the database's clock (the outbox rows are stamped with it).
    """
    with db.session() as session, session.begin():
        moment = now or _db_now(session)
        rows = session.execute(
            select(
                StorageDeletion.id,
                StorageDeletion.bucket,
                StorageDeletion.key,
                StorageDeletion.attempts,
            )
            .where(StorageDeletion.done_at.is_(None), StorageDeletion.next_attempt_at <= moment)
            .order_by(StorageDeletion.next_attempt_at, StorageDeletion.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        ).all()
        claimed = [_Claimed(r.id, r.bucket, r.key, r.attempts) for r in rows]
        if not claimed:
            return DrainReport()
        session.execute(
            update(StorageDeletion)
            .where(StorageDeletion.id.in_([c.id for c in claimed]))
            .values(next_attempt_at=moment + LEASE)
        )
        still_used = _referenced(session, ((c.bucket, c.key) for c in claimed))

    outcome = _Outcome()
    by_bucket: dict[str, list[_Claimed]] = defaultdict(list)
    for row in claimed:
        if (row.bucket, row.key) in still_used:
            outcome.kept.append(row.id)
        elif not _valid(row.bucket, row.key):
            # No backend could have stored it, so there is nothing to delete.
            outcome.done.append(row.id)
        else:
            by_bucket[row.bucket].append(row)
    for bucket, batch in by_bucket.items():
        try:
            gone = set(storage.delete(bucket, [row.key for row in batch]))
            error = "the object was still there after the delete"
        except Exception as exc:  # any failure of the backend is retried, never lost
            gone, error = set(), str(exc) or type(exc).__name__
            log.warning(
                "storage.delete_failed bucket=%s count=%d error=%s", bucket, len(batch), error
            )
        for row in batch:
            if row.key in gone:
                outcome.done.append(row.id)
            else:
                outcome.failed[row.id] = error[:_MAX_ERROR_CHARS]

    attempts = {row.id: row.attempts for row in claimed}
    with db.session() as session, session.begin():
        finished = outcome.done + outcome.kept
        if finished:
            session.execute(
                update(StorageDeletion)
                .where(StorageDeletion.id.in_(finished))
                .values(
                    done_at=moment,
                    attempts=StorageDeletion.attempts + 1,
                    last_error=None,
                    next_attempt_at=moment,
                )
            )
        for row_id, error in outcome.failed.items():
            tries = attempts[row_id] + 1
            session.execute(
                update(StorageDeletion)
                .where(StorageDeletion.id == row_id)
                .values(
                    attempts=tries,
                    last_error=error,
                    next_attempt_at=moment + backoff(tries),
                )
            )
    errors = tuple(sorted(set(outcome.failed.values())))
    return DrainReport(
        due=len(claimed),
        deleted=len(outcome.done),
        failed=len(outcome.failed),
        kept=len(outcome.kept),
        errors=errors,
    )


def drain_all(
    db: Database,
    storage: Storage,
    *,
    now: dt.datetime | None = None,
    limit: int = 100,
    max_rounds: int = 50,
) -> DrainReport:
    """`drain_outbox` until nothing is due (at most ``max_rounds`` rounds)."""
    total = DrainReport()
    for _ in range(max_rounds):
        report = drain_outbox(db, storage, now=now, limit=limit)
        total += report
        if report.due < limit:
            break
    return total


def after_commit_drain(db: Database, storage: Storage) -> DrainReport | None:
    """Run right after a deletion commits: delete what is due now; never raises.

    The deletion itself is already committed; whatever fails here stays in the outbox and
    the next maintenance retries it. Returns None when the drain could not run at all.
    """
    try:
        return drain_all(db, storage)
    except Exception:
        log.warning("storage.after_commit_drain_failed", exc_info=True)
        return None


def queue_deletion(db: Database, bucket: str, keys: Sequence[str], reason: str) -> None:
    """Put objects in the outbox by hand (an upload whose row was never saved, say)."""
    if not keys:
        return
    with db.session() as session, session.begin():
        _queue(session, bucket, keys, reason)


def _queue(session: Session, bucket: str, keys: Sequence[str], reason: str) -> None:
    session.execute(
        insert(StorageDeletion)
        .values([{"bucket": bucket, "key": key, "reason": reason} for key in keys])
        .on_conflict_do_nothing(
            index_elements=["bucket", "key"], index_where=StorageDeletion.done_at.is_(None)
        )
    )


def discard_objects(
    session: Session, storage: Storage, bucket: str, keys: Sequence[str], reason: str
) -> None:
    """Remove objects whose rows were never saved; what cannot be removed now is queued.

    Used on the failure path of an upload or a promotion, so it never raises: if neither the
    delete nor the queueing works, `check_storage` still reports the object as an orphan.
    """
    if not keys:
        return
    left = list(keys)
    try:
        gone = set(storage.delete(bucket, left))
        left = [k for k in left if k not in gone]
    except Exception:
        log.warning("storage.discard_failed bucket=%s keys=%s", bucket, left, exc_info=True)
    if not left:
        return
    try:
        if session.in_transaction():
            session.rollback()
        with session.begin():
            _queue(session, bucket, left, reason)
    except Exception:
        log.warning("storage.discard_queue_failed bucket=%s keys=%s", bucket, left, exc_info=True)


# ---------------------------------------------------------------------------------------------
# Expiry and retention


def expire_tmp_files(
    db: Database, storage: Storage | None = None, *, now: dt.datetime | None = None
) -> int:
    """Delete tmp uploads past their expiry; the trigger queues their objects. Returns how many.

    With ``storage``, the queued objects are deleted right after the commit as well.
    """
    with db.session() as session, session.begin():
        moment = now or _db_now(session)
        expired = len(
            session.scalars(
                delete(TmpFile).where(TmpFile.expires_at <= moment).returning(TmpFile.id)
            ).all()
        )
    if storage is not None and expired:
        drain_all(db, storage, now=now)
    return expired


def expire_order_files(db: Database, *, days: int, now: dt.datetime | None = None) -> int:
    """Delete order files older than ``days`` (setting ``retention.order_files_days``).

    Items that pointed at a file keep their text and price (the link is set to NULL).
    """
    with db.session() as session, session.begin():
        moment = now or _db_now(session)
        cutoff = moment - dt.timedelta(days=days)
        return len(
            session.scalars(
                delete(OrderFile).where(OrderFile.created_at <= cutoff).returning(OrderFile.id)
            ).all()
        )


def pending_deletions(db: Database) -> int:
    with db.session() as session, session.begin():
        return int(
            session.scalar(
                select(func.count())
                .select_from(StorageDeletion)
                .where(StorageDeletion.done_at.is_(None))
            )
            or 0
        )


def run_maintenance(
    db: Database,
    storage: Storage,
    *,
    now: dt.datetime | None = None,
    order_file_retention: bool = True,
) -> dict[str, Any]:
    """Expire tmp uploads, apply the order-file retention when set, then drain the outbox."""
    with db.session() as session, session.begin():
        retention = shop_settings.load(session).retention
    expired_tmp = expire_tmp_files(db, now=now)
    expired_files = 0
    if order_file_retention and retention.order_files_days:
        expired_files = expire_order_files(db, days=retention.order_files_days, now=now)
    report = drain_all(db, storage, now=now)
    return {
        "expired_tmp_files": expired_tmp,
        "expired_order_files": expired_files,
        "outbox": report.as_json(),
        "pending_deletions": pending_deletions(db),
    }


# ---------------------------------------------------------------------------------------------
# The check both ways


@dataclass(frozen=True)
class StorageCheck:
    orphan_objects: tuple[str, ...]
    missing_objects: tuple[str, ...]
    pending_deletions: int

    @property
    def clean(self) -> bool:
        return not self.orphan_objects and not self.missing_objects

    def as_json(self) -> dict[str, Any]:
        return {
            "orphan_objects": list(self.orphan_objects),
            "missing_objects": list(self.missing_objects),
            "pending_deletions": self.pending_deletions,
        }


def _expected_objects(session: Session) -> set[tuple[str, str]]:
    expected: set[tuple[str, str]] = set()
    for model in (OrderFile, Attachment, TmpFile):
        expected.update((b, k) for b, k in session.execute(select(model.bucket, model.storage_key)))
    for doc in (Quote, Invoice):
        query = select(doc.pdf_key).where(doc.pdf_key.is_not(None))
        expected.update((PDFS, k) for k in session.scalars(query) if k)
    return expected


def check_storage(
    db: Database, storage: Storage, *, buckets: Sequence[str] = BUCKETS
) -> StorageCheck:
    """Objects no row points at (outbox entries aside) and rows whose object is gone.

    Only ``buckets`` are listed: a row naming another bucket counts as missing.
    Entries are ``"bucket/key"``, sorted. Rows are read before the buckets are listed, so an
    upload finishing meanwhile can show as an orphan for a moment; run it again to be sure.
    """
    with db.session() as session, session.begin():
        expected = _expected_objects(session)
        pending = {
            (b, k)
            for b, k in session.execute(
                select(StorageDeletion.bucket, StorageDeletion.key).where(
                    StorageDeletion.done_at.is_(None)
                )
            )
        }
    present = {(bucket, key) for bucket in buckets for key in storage.list(bucket)}
    orphans = sorted(f"{b}/{k}" for b, k in present - expected - pending)
    # A row in a bucket that is not listed counts as missing: nothing here can find it.
    missing = sorted(f"{b}/{k}" for b, k in expected - present)
    return StorageCheck(tuple(orphans), tuple(missing), len(pending))
