"""The quick order as one core service, on the real database and local storage: the document,
its promoted files and linked lines in one transaction, or nothing (and no stranded object)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select

from core.actor import Actor
from core.db.engine import Database
from core.db.models import ActivityEntry, Invoice, OrderFile, Quote, StorageDeletion, TmpFile
from core.enums import Role
from core.errors import NotAllowed, NotFound, ServiceError
from core.services import invoices, quotes, tmp_files, users
from core.services.maintenance import after_commit_drain
from core.services.quick_orders import (
    MadeOrder,
    QuickOrderKind,
    QuickOrderLine,
    QuickOrderSpec,
    make_quick_order,
)
from core.storage import ORDER_FILES, TMP, LocalStorage
from tests.factories import item, make_client

# /work/shared/models beside the checkout (or beside the folder of worktrees).
MODELS = next(
    p / "shared" / "models"
    for p in Path(__file__).resolve().parents
    if (p / "shared" / "models").is_dir()
)
CUBE = MODELS / "20mm-xyz-cube.stl"
WALLHOLE = MODELS / "wallhole.obj"


@pytest.fixture
def storage(tmp_path: Path) -> LocalStorage:
    store = LocalStorage(tmp_path / "storage")
    store.ensure_buckets()
    return store


def _person(database: Database, admin: Actor, role: Role) -> Actor:
    with database.session() as s:
        user = users.add_user(
            s, admin, f"{role.value.lower()}@shop.example", role.value.title(), role, "a long pass"
        )
    return users.actor_for(user)


def _uploads(
    database: Database, actor: Actor, storage: LocalStorage
) -> list[tmp_files.TmpFileView]:
    with database.session() as s:
        return [tmp_files.upload_tmp(s, actor, storage, p.name, p) for p in (CUBE, WALLHOLE)]


def _spec(kind: QuickOrderKind, client: int, ups: list[tmp_files.TmpFileView]) -> QuickOrderSpec:
    lines = [
        QuickOrderLine(
            up.id,
            item(f"{up.filename} — PLA", "2", "12.50"),
            {"slice": {"price": {"unit_price": "12.50"}}},
        )
        for up in ups
    ]
    return QuickOrderSpec(kind, client, lines)


def _count(database: Database, model: type) -> int:
    with database.session() as s:
        return s.scalar(select(func.count()).select_from(model)) or 0


def _queued(database: Database, bucket: str) -> set[str]:
    with database.session() as s:
        return set(s.scalars(select(StorageDeletion.key).where(StorageDeletion.bucket == bucket)))


@pytest.mark.parametrize("role", [Role.ADMIN, Role.STAFF])
def test_an_invoice_takes_its_files_and_lines_in_one_go(
    database: Database, admin: Actor, storage: LocalStorage, role: Role
) -> None:
    person = _person(database, admin, role)
    client = make_client(database)
    ups = _uploads(database, person, storage)
    with database.session() as s:
        made = make_quick_order(s, person, _spec(QuickOrderKind.INVOICE, client, ups), storage)
    after_commit_drain(database, storage)
    assert isinstance(made, MadeOrder) and made.number == "INV-0001"
    with database.session() as s:
        invoice = invoices.get_invoice(s, made.id)
        files = s.scalars(select(OrderFile).order_by(OrderFile.id)).all()
        actions = s.scalars(select(ActivityEntry.action).order_by(ActivityEntry.id)).all()
    # 2 × 12.50 twice = 50.00, GST 10 % on top = 55.00
    assert invoice.total == made.total == Decimal("55.00")
    assert [i.order_file_id for i in invoice.items] == [f.id for f in files] == made.order_file_ids
    assert [f.filename for f in files] == [CUBE.name, WALLHOLE.name]
    assert all(f.invoice_id == made.id and f.client_id == client for f in files)
    assert [f.metadata_["tmp_file_id"] for f in files] == [u.id for u in ups]
    assert files[0].metadata_["slice"]["price"]["unit_price"] == "12.50"
    assert files[0].metadata_["mesh"]["faces"] > 0  # the upload's own metadata came along
    assert files[0].uploaded_by == person.user_id
    assert all(storage.exists(ORDER_FILES, f.storage_key) for f in files)
    assert _count(database, TmpFile) == 0 and storage.list(TMP) == []
    assert _queued(database, TMP) == {u.storage_key for u in ups}  # via the trigger
    assert actions.count("order_file.added") == 2 and "invoice.created" in actions


def test_a_quote_too(database: Database, admin: Actor, storage: LocalStorage) -> None:
    client = make_client(database)
    ups = _uploads(database, admin, storage)
    with database.session() as s:
        made = make_quick_order(s, admin, _spec(QuickOrderKind.QUOTE, client, ups), storage)
        quote = quotes.get_quote(s, made.id)
    assert made.number == "Q-0001" or made.number.endswith("0001")
    assert all(i.order_file_id is not None for i in quote.items)
    with database.session() as s:
        assert s.scalar(select(func.count()).where(OrderFile.quote_id == made.id)) == 2


@pytest.mark.parametrize("role", [Role.ADMIN, Role.STAFF])
def test_a_storage_object_missing_half_way_leaves_nothing(
    database: Database, admin: Actor, storage: LocalStorage, role: Role
) -> None:
    """The first file is copied, the second's object is gone: no invoice, no files, the
    copy queued in the outbox and deleted, the uploads kept to try again — staff as admins."""
    person = _person(database, admin, role)
    client = make_client(database)
    ups = _uploads(database, person, storage)
    storage.delete(TMP, [ups[1].storage_key])
    with database.session() as s, pytest.raises(ServiceError, match="does not exist"):
        make_quick_order(s, person, _spec(QuickOrderKind.INVOICE, client, ups), storage)
    assert _count(database, Invoice) == 0 and _count(database, OrderFile) == 0
    assert _count(database, TmpFile) == 2
    (copy,) = _queued(database, ORDER_FILES)
    assert storage.exists(ORDER_FILES, copy)  # queued, not yet drained
    after_commit_drain(database, storage)
    assert storage.list(ORDER_FILES) == []
    with database.session() as s:
        assert s.scalar(select(StorageDeletion.done_at).where(StorageDeletion.key == copy))


@pytest.mark.parametrize("role", [Role.ADMIN, Role.STAFF])
def test_an_upload_gone_before_making_leaves_nothing(
    database: Database, admin: Actor, storage: LocalStorage, role: Role
) -> None:
    person = _person(database, admin, role)
    client = make_client(database)
    ups = _uploads(database, person, storage)
    with database.session() as s:  # expired meanwhile: maintenance deleted it
        tmp_files.delete_tmp(s, person, ups[1].id)
    with database.session() as s, pytest.raises(NotFound, match="may have expired"):
        make_quick_order(s, person, _spec(QuickOrderKind.QUOTE, client, ups), storage)
    assert _count(database, Quote) == 0 and _count(database, OrderFile) == 0
    assert storage.list(ORDER_FILES) == []  # refused before anything was copied


def test_staff_cannot_order_someone_elses_uploads(
    database: Database, admin: Actor, storage: LocalStorage
) -> None:
    owner = _person(database, admin, Role.ADMIN)
    staff = _person(database, admin, Role.STAFF)
    ups = _uploads(database, owner, storage)
    client = make_client(database)
    with database.session() as s, pytest.raises(NotAllowed, match="person who uploaded"):
        make_quick_order(s, staff, _spec(QuickOrderKind.INVOICE, client, ups), storage)
    assert _count(database, Invoice) == 0 and storage.list(ORDER_FILES) == []


def test_unknown_client_and_bad_lines_are_refused(
    database: Database, admin: Actor, storage: LocalStorage
) -> None:
    ups = _uploads(database, admin, storage)
    with database.session() as s, pytest.raises(NotFound, match="No client with id 999"):
        make_quick_order(s, admin, _spec(QuickOrderKind.INVOICE, 999, ups), storage)
    client = make_client(database)
    bad = QuickOrderSpec(QuickOrderKind.INVOICE, client, [QuickOrderLine(ups[0].id, item(qty="0"))])
    with database.session() as s, pytest.raises(ServiceError, match="quantity"):
        make_quick_order(s, admin, bad, storage)
    assert _count(database, Invoice) == 0 and _count(database, TmpFile) == 2
