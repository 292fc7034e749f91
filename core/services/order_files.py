"""The files of quotes and invoices, kept in ``order-files`` for as long as the shop keeps them.

Files get here two ways: promoted from ``tmp`` when a quote or invoice is made
(`promote_tmp_files`), or added straight from disk (`add_order_file`, the CLI's ``file add``).
Either way the object is written first and the row second; if the row's transaction fails the
new objects are removed again (or queued in the outbox). Promoting is idempotent: each order
file remembers the upload it came from (``metadata.tmp_file_id``), so a second call with the
same uploads copies nothing and returns the files the first call made. Deleting a file
(admins only) deletes its row, and the trigger queues its object in the same transaction; the
caller then runs `core.services.maintenance.after_commit_drain`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import BigInteger, select
from sqlalchemy.orm import Session

from core.actor import Actor
from core.db.models import Client, Invoice, OrderFile, Quote, TmpFile
from core.errors import Conflict, InvalidInput, NotFound
from core.services import activity, events
from core.services import settings as shop_settings
from core.services.maintenance import discard_objects
from core.services.tmp_files import check_upload, max_upload_bytes, may_use, shop_printers
from core.shop_settings import ShopSettings
from core.storage.base import ORDER_FILES, TMP, Storage, order_file_key

#: How long a download link from `signed_download_url` lasts by default (as the original app).
DOWNLOAD_LINK_SECONDS = 300
MAX_PAGE = 500


@dataclass(frozen=True)
class OrderFileView:
    id: int
    client_id: int
    quote_id: int | None
    invoice_id: int | None
    filename: str
    bucket: str
    storage_key: str
    sha256: str
    size_bytes: int
    mime_type: str
    metadata: dict[str, Any]
    uploaded_by: int | None
    created_at: dt.datetime

    def summary(self) -> dict[str, Any]:
        """What ``printdesk file add --json`` prints."""
        return {
            "id": self.id,
            "filename": self.filename,
            "bucket": self.bucket,
            "storage_key": self.storage_key,
            "size_bytes": self.size_bytes,
            "sha256": self.sha256,
            "mime_type": self.mime_type,
            "client_id": self.client_id,
            "quote_id": self.quote_id,
            "invoice_id": self.invoice_id,
        }


def _view(row: OrderFile) -> OrderFileView:
    return OrderFileView(
        id=row.id,
        client_id=row.client_id,
        quote_id=row.quote_id,
        invoice_id=row.invoice_id,
        filename=row.filename,
        bucket=row.bucket,
        storage_key=row.storage_key,
        sha256=row.sha256,
        size_bytes=row.size_bytes,
        mime_type=row.mime_type,
        metadata=dict(row.metadata_),
        uploaded_by=row.uploaded_by,
        created_at=row.created_at,
    )


def _check_documents(
    session: Session, client_id: int, quote_id: int | None, invoice_id: int | None
) -> None:
    """The client exists and the documents are its own; they are share-locked till commit."""
    if quote_id is None and invoice_id is None:
        raise InvalidInput("An order file belongs to a quote or an invoice: name one.")
    client = session.scalars(
        select(Client.id).where(Client.id == client_id).with_for_update(read=True)
    ).one_or_none()
    if client is None:
        raise NotFound(f"No client with id {client_id}.")
    for model, doc_id, label in ((Quote, quote_id, "quote"), (Invoice, invoice_id, "invoice")):
        if doc_id is None:
            continue
        owner = session.scalars(
            select(model.client_id).where(model.id == doc_id).with_for_update(read=True)
        ).one_or_none()
        if owner is None:
            raise NotFound(f"No {label} with id {doc_id}.")
        if owner != client_id:
            raise InvalidInput(f"That {label} belongs to another client.")


def _promoted(session: Session, tmp_ids: Sequence[int]) -> dict[int, OrderFile]:
    tmp_id = OrderFile.metadata_["tmp_file_id"].astext.cast(BigInteger)
    rows = session.scalars(select(OrderFile).where(tmp_id.in_(list(tmp_ids))))
    return {int(row.metadata_["tmp_file_id"]): row for row in rows}


def _same_target(
    row: OrderFile, client_id: int, quote_id: int | None, invoice_id: int | None
) -> bool:
    return (
        row.client_id == client_id
        and (quote_id is None or row.quote_id == quote_id)
        and (invoice_id is None or row.invoice_id == invoice_id)
    )


def promote_tmp_files(
    session: Session,
    actor: Actor,
    storage: Storage,
    tmp_ids: Sequence[int],
    *,
    client_id: int,
    quote_id: int | None = None,
    invoice_id: int | None = None,
) -> list[OrderFileView]:
    """Move uploads into ``order-files`` for a quote and/or invoice, in ``tmp_ids`` order.

    Objects are copied first, outside any transaction; then one transaction inserts the
    order files and deletes the tmp rows (the trigger queues the tmp objects for the
    outbox). Uploads promoted before are not copied again: their files are returned.
    """
    ids = list(dict.fromkeys(tmp_ids))
    if not ids:
        return []
    with session.begin():
        _check_documents(session, client_id, quote_id, invoice_id)
        pending = {
            row.id: row for row in session.scalars(select(TmpFile).where(TmpFile.id.in_(ids)))
        }
        for upload in pending.values():
            may_use(actor, upload)
        plans = {
            tmp.id: (tmp.storage_key, order_file_key(client_id, tmp.filename), tmp.mime_type)
            for tmp in pending.values()
        }

    copied: list[str] = []
    try:
        for tmp_id in ids:
            if tmp_id in plans:
                source, target, mime = plans[tmp_id]
                storage.copy(TMP, source, ORDER_FILES, target, mime)
                copied.append(target)
        with session.begin():
            _check_documents(session, client_id, quote_id, invoice_id)
            tmp_rows = {
                row.id: row
                for row in session.scalars(
                    select(TmpFile).where(TmpFile.id.in_(list(plans))).with_for_update()
                )
            }
            existing = _promoted(session, ids)
            result: list[OrderFile] = []
            used: set[str] = set()
            for tmp_id in ids:
                if tmp_id in existing:  # promoted before, or by a concurrent call just now
                    row = existing[tmp_id]
                    if not _same_target(row, client_id, quote_id, invoice_id):
                        raise Conflict(
                            f"Upload {tmp_id} was already made into a file of another document."
                        )
                    result.append(row)
                    continue
                tmp = tmp_rows.get(tmp_id)
                if tmp is None:
                    raise NotFound(f"No upload with id {tmp_id} (it may have expired).")
                may_use(actor, tmp)
                _, target, _ = plans[tmp_id]
                row = OrderFile(
                    client_id=client_id,
                    quote_id=quote_id,
                    invoice_id=invoice_id,
                    filename=tmp.filename,
                    bucket=ORDER_FILES,
                    storage_key=target,
                    sha256=tmp.sha256,
                    size_bytes=tmp.size_bytes,
                    mime_type=tmp.mime_type,
                    metadata_={**tmp.metadata_, "tmp_file_id": tmp.id},
                    uploaded_by=tmp.user_id,
                )
                session.add(row)
                session.delete(tmp)
                used.add(target)
                result.append(row)
            session.flush()
            for row in result:
                session.refresh(row)
            made = [row for row in result if row.storage_key in used]
            for row in made:
                activity.record(
                    session,
                    actor,
                    "order_file.added",
                    "order_file",
                    row.id,
                    f"Added {row.filename}",
                    {"tmp_file_id": row.metadata_["tmp_file_id"], "client_id": client_id},
                )
            views = [_view(row) for row in result]
    except BaseException:
        discard_objects(session, storage, ORDER_FILES, copied, "promotion that was rolled back")
        raise
    unused = [key for key in copied if key not in used]
    discard_objects(session, storage, ORDER_FILES, unused, "copy made by a concurrent promotion")
    return views


def add_order_file(
    session: Session,
    actor: Actor,
    storage: Storage,
    path: Path,
    *,
    client_id: int,
    quote_id: int | None = None,
    invoice_id: int | None = None,
    filename: str | None = None,
    settings: ShopSettings | None = None,
) -> OrderFileView:
    """Check a file from disk as intake does and store it straight in ``order-files``."""
    with session.begin():
        _check_documents(session, client_id, quote_id, invoice_id)
        if settings is None:
            settings = shop_settings.load(session)
        printers = shop_printers(session)
    checked = check_upload(
        filename if filename is not None else Path(path).name,
        Path(path),
        max_bytes=max_upload_bytes(settings),
        printers=printers,
    )
    key = order_file_key(client_id, checked.filename)
    storage.put(ORDER_FILES, key, checked.data, checked.mime_type)
    try:
        with session.begin():
            _check_documents(session, client_id, quote_id, invoice_id)
            row = OrderFile(
                client_id=client_id,
                quote_id=quote_id,
                invoice_id=invoice_id,
                filename=checked.filename,
                bucket=ORDER_FILES,
                storage_key=key,
                sha256=checked.sha256,
                size_bytes=checked.size_bytes,
                mime_type=checked.mime_type,
                metadata_={"mesh": checked.mesh},
                uploaded_by=actor.user_id,
            )
            session.add(row)
            session.flush()
            session.refresh(row)
            activity.record(
                session,
                actor,
                "order_file.added",
                "order_file",
                row.id,
                f"Added {checked.filename}",
                {"client_id": client_id, "size_bytes": checked.size_bytes},
            )
            events.notify(session, "order_file", row.id, status="ADDED", client_id=client_id)
            return _view(row)
    except BaseException:
        discard_objects(session, storage, ORDER_FILES, [key], "order file whose row was not saved")
        raise


def _file(session: Session, file_id: int, *, lock: bool = False) -> OrderFile:
    query = select(OrderFile).where(OrderFile.id == file_id)
    if lock:
        query = query.with_for_update()
    row = session.scalars(query).one_or_none()
    if row is None:
        raise NotFound(f"No order file with id {file_id}.")
    return row


def get_order_file(session: Session, file_id: int) -> OrderFileView:
    with session.begin():
        return _view(_file(session, file_id))


def delete_order_file(session: Session, actor: Actor, file_id: int) -> OrderFileView:
    """Delete a file (admins only); the trigger queues its object. Call `after_commit_drain`."""
    actor.require_admin("delete order files")
    with session.begin():
        row = _file(session, file_id, lock=True)
        view = _view(row)
        session.delete(row)
        activity.record(
            session,
            actor,
            "order_file.deleted",
            "order_file",
            file_id,
            f"Deleted {view.filename}",
            {"bucket": view.bucket, "storage_key": view.storage_key},
        )
        events.notify(session, "order_file", file_id, status="DELETED", client_id=view.client_id)
        return view


def list_order_files(
    session: Session,
    *,
    client_id: int | None = None,
    quote_id: int | None = None,
    invoice_id: int | None = None,
    limit: int = 200,
    offset: int = 0,
) -> list[OrderFileView]:
    """Files newest first, filtered by client, quote and/or invoice."""
    if not 1 <= limit <= MAX_PAGE or offset < 0:
        raise InvalidInput(f"A page holds 1 to {MAX_PAGE} files from a position of 0 or more.")
    query = select(OrderFile).order_by(OrderFile.id.desc()).limit(limit).offset(offset)
    if client_id is not None:
        query = query.where(OrderFile.client_id == client_id)
    if quote_id is not None:
        query = query.where(OrderFile.quote_id == quote_id)
    if invoice_id is not None:
        query = query.where(OrderFile.invoice_id == invoice_id)
    with session.begin():
        return [_view(row) for row in session.scalars(query)]


def signed_download_url(
    session: Session,
    actor: Actor,
    storage: Storage,
    file_id: int,
    *,
    expires_in: int = DOWNLOAD_LINK_SECONDS,
) -> str:
    """A link that downloads the file for ``expires_in`` seconds (5 minutes by default)."""
    with session.begin():
        row = _file(session, file_id)
        bucket, key = row.bucket, row.storage_key
    return storage.signed_url(bucket, key, expires_in)
