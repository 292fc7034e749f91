"""Invoice attachments on the real database and local storage: checks, add, list, remove."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from sqlalchemy import func, select

from core.actor import Actor
from core.db.engine import Database
from core.db.models import ActivityEntry, Attachment, User
from core.enums import Role
from core.errors import InvalidInput, NotAllowed, NotFound
from core.services import attachments, invoices
from core.services.maintenance import after_commit_drain, check_storage
from core.storage import ATTACHMENTS, DEFAULT_CONTENT_TYPE, LocalStorage, Storage
from tests.cli_runner import printdesk
from tests.factories import item, make_client

PDF_BYTES = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG_BYTES = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
EXE_BYTES = b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 120


@pytest.fixture
def storage(tmp_path: Path) -> LocalStorage:
    local = LocalStorage(tmp_path / "storage")
    local.ensure_buckets()
    return local


@pytest.fixture
def invoice_id(database: Database, admin: Actor) -> int:
    client = make_client(database)
    with database.session() as s:
        return invoices.create_invoice(s, admin, client, [item()]).id


def _user(database: Database, role: Role) -> Actor:
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


def _assert_clean(database: Database, storage: Storage) -> None:
    report = check_storage(database, storage)
    assert report.as_json() == {"orphan_objects": [], "missing_objects": [], "pending_deletions": 0}


def _rows(database: Database) -> int:
    with database.session() as s:
        return int(s.scalar(select(func.count()).select_from(Attachment)) or 0)


def test_add_list_remove_leaves_storage_clean(
    database: Database, admin: Actor, storage: Storage, invoice_id: int, tmp_path: Path
) -> None:
    pdf = tmp_path / "delivery note.pdf"
    pdf.write_bytes(PDF_BYTES)
    with database.session() as s:
        note = attachments.add_attachment(s, admin, storage, invoice_id, pdf)
    with database.session() as s:
        photo = attachments.add_attachment(
            s, admin, storage, invoice_id, PNG_BYTES, filename="part photo.png"
        )
    assert (note.filename, note.mime_type, note.size_bytes) == (
        "delivery note.pdf",
        "application/pdf",
        len(PDF_BYTES),
    )
    assert photo.is_image and not note.is_image
    assert storage.get(ATTACHMENTS, note.storage_key) == PDF_BYTES
    assert note.storage_key.startswith(f"{invoice_id}/")
    with database.session() as s:
        listed = attachments.list_attachments(s, invoice_id)
    assert [a.id for a in listed] == [note.id, photo.id]
    with database.session() as s:
        assert attachments.read_attachment(s, storage, photo.id) == PNG_BYTES
    _assert_clean(database, storage)

    with database.session() as s:
        attachments.remove_attachment(s, admin, note.id)
    after_commit_drain(database, storage)
    assert not storage.exists(ATTACHMENTS, note.storage_key)
    assert storage.exists(ATTACHMENTS, photo.storage_key)
    with database.session() as s:
        assert [a.id for a in attachments.list_attachments(s, invoice_id)] == [photo.id]
        actions = set(s.scalars(select(ActivityEntry.action)))
    assert {"attachment.added", "attachment.removed"} <= actions
    _assert_clean(database, storage)


def test_an_exe_renamed_pdf_is_refused_and_nothing_is_stored(
    database: Database, admin: Actor, storage: Storage, invoice_id: int, tmp_path: Path
) -> None:
    fake = tmp_path / "invoice.pdf"
    fake.write_bytes(EXE_BYTES)
    with database.session() as s, pytest.raises(InvalidInput, match="not a PDF or an image"):
        attachments.add_attachment(s, admin, storage, invoice_id, fake)
    assert storage.list(ATTACHMENTS) == [] and _rows(database) == 0


def test_a_too_big_file_is_refused_unread(
    database: Database, admin: Actor, storage: Storage, invoice_id: int, tmp_path: Path
) -> None:
    big = tmp_path / "scan.pdf"
    big.write_bytes(PDF_BYTES + b"0" * 2048)
    with database.session() as s, pytest.raises(InvalidInput, match="attachments may be up to"):
        attachments.add_attachment(s, admin, storage, invoice_id, big, max_bytes=1024)
    assert storage.list(ATTACHMENTS) == [] and _rows(database) == 0


@pytest.mark.parametrize(
    "name", ["../../etc/passwd.pdf", "a/b.pdf", "..\\x.pdf", "bad\x00.pdf", ".."]
)
def test_a_path_like_name_is_refused(
    database: Database, admin: Actor, storage: Storage, invoice_id: int, name: str
) -> None:
    with database.session() as s, pytest.raises(InvalidInput):
        attachments.add_attachment(s, admin, storage, invoice_id, PDF_BYTES, filename=name)
    assert storage.list(ATTACHMENTS) == [] and _rows(database) == 0


def test_a_lying_extension_gets_the_right_one() -> None:
    checked = attachments.check_attachment("photo.pdf", PNG_BYTES)
    assert (checked.filename, checked.mime_type) == ("photo.pdf.png", "image/png")
    assert attachments.check_attachment("pic.JPEG", b"\xff\xd8\xff\xe0" + b"0" * 8).filename == (
        "pic.JPEG"
    )


def test_an_unknown_invoice_stores_nothing(
    database: Database, admin: Actor, storage: Storage
) -> None:
    with database.session() as s, pytest.raises(NotFound):
        attachments.add_attachment(s, admin, storage, 999_999, PDF_BYTES, filename="x.pdf")
    assert storage.list(ATTACHMENTS) == []


def test_a_row_that_fails_takes_its_object_with_it(
    database: Database, admin: Actor, storage: LocalStorage, invoice_id: int
) -> None:
    # The invoice goes between the check and the insert: the foreign key refuses the row.
    class DeletingStorage(LocalStorage):
        def put(
            self,
            bucket: str,
            key: str,
            data: bytes | Path,
            content_type: str = DEFAULT_CONTENT_TYPE,
            *,
            upsert: bool = False,
        ) -> None:
            super().put(bucket, key, data, content_type, upsert=upsert)
            with database.session() as s:
                invoices.delete_invoice(s, admin, invoice_id)

    flaky = DeletingStorage(storage.root)
    with database.session() as s, pytest.raises(NotFound):
        attachments.add_attachment(s, admin, flaky, invoice_id, PDF_BYTES, filename="x.pdf")
    after_commit_drain(database, storage)
    assert storage.list(ATTACHMENTS) == []
    _assert_clean(database, storage)


def test_staff_remove_only_what_they_added(
    database: Database, storage: Storage, invoice_id: int
) -> None:
    mine, theirs = _user(database, Role.STAFF), _user(database, Role.STAFF)
    with database.session() as s:
        added = attachments.add_attachment(
            s, mine, storage, invoice_id, PDF_BYTES, filename="a.pdf"
        )
    with database.session() as s, pytest.raises(NotAllowed):
        attachments.remove_attachment(s, theirs, added.id)
    with database.session() as s:
        attachments.remove_attachment(s, mine, added.id)
    after_commit_drain(database, storage)
    _assert_clean(database, storage)


def test_deleting_the_invoice_takes_its_attachments(
    database: Database, admin: Actor, storage: Storage, invoice_id: int
) -> None:
    with database.session() as s:
        attachments.add_attachment(s, admin, storage, invoice_id, PDF_BYTES, filename="a.pdf")
    with database.session() as s:
        invoices.delete_invoice(s, admin, invoice_id)
    after_commit_drain(database, storage)
    assert storage.list(ATTACHMENTS) == []
    _assert_clean(database, storage)


def test_cli_attaches_lists_and_removes_in_one_line_each(
    database: Database, db_url: str, admin: Actor, invoice_id: int, tmp_path: Path
) -> None:
    data_dir = tmp_path / "data"
    pdf = tmp_path / "note.pdf"
    pdf.write_bytes(PDF_BYTES)
    fake = tmp_path / "fake.pdf"
    fake.write_bytes(EXE_BYTES)

    added = printdesk(
        "attachment", "add", str(invoice_id), str(pdf), "--json", db_url=db_url, data_dir=data_dir
    )
    assert added.code == 0, added.stderr
    body = added.json()
    assert (body["filename"], body["mime_type"]) == ("note.pdf", "application/pdf")

    refused = printdesk(
        "attachment", "add", str(invoice_id), str(fake), db_url=db_url, data_dir=data_dir
    )
    assert refused.code == 1
    assert refused.stderr.strip().count("\n") == 0 and "not a PDF or an image" in refused.stderr

    listed = printdesk(
        "attachment", "list", str(invoice_id), "--json", db_url=db_url, data_dir=data_dir
    )
    assert [a["id"] for a in listed.json()["attachments"]] == [body["id"]]

    removed = printdesk(
        "attachment", "remove", str(body["id"]), "--json", db_url=db_url, data_dir=data_dir
    )
    assert removed.code == 0, removed.stderr
    assert removed.json()["object_deleted"] is True
    storage = LocalStorage(data_dir / "storage")
    assert storage.list(ATTACHMENTS) == []
    _assert_clean(database, storage)
