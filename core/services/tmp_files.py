"""Uploads waiting in ``tmp``: checked before storing, stored before their row, expiring.

An upload is checked first (`check_upload`: size limit from the shop's settings, type by
content, safe name, the mesh readable and not empty), then its object is stored, then its row
is inserted. If the row cannot be saved the object is removed again, or queued in the outbox
when even that fails. The row starts ``idle`` and moves through ``running`` to ``completed``
or ``failed`` as it is sliced; it expires ``retention.tmp_upload_hours`` after the upload, and
`core.services.maintenance` deletes it then. Staff delete their own uploads, admins any.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.actor import Actor
from core.db.models import Printer, TmpFile
from core.enums import PrinterStatus, TmpFileStatus
from core.errors import InvalidInput, NotAllowed, NotFound
from core.mesh.analysis import DEFAULT_PRINTERS, BuildVolume, MeshError, analyze, load_mesh
from core.mesh.intake import (
    HEAD_BYTES,
    MeshFormat,
    UnreadableFile,
    check_file,
    check_size,
    inspect_3mf,
    safe_filename,
    sniff_format,
)
from core.services import activity
from core.services import settings as shop_settings
from core.services.maintenance import discard_objects
from core.shop_settings import ShopSettings
from core.storage.base import TMP, Storage, tmp_key

MIME_TYPES: Final[dict[str, str]] = {
    "stl_binary": "model/stl",
    "stl_ascii": "model/stl",
    "obj": "model/obj",
    "3mf": "model/3mf",
}
#: The ``tmp`` key's owner part for uploads made by no signed-in user (the command line).
NO_USER: Final = "shop"


@dataclass(frozen=True)
class CheckedUpload:
    """A file that passed intake, with the bytes that were checked (and will be stored)."""

    filename: str
    fmt: MeshFormat
    size_bytes: int
    sha256: str
    mime_type: str
    mesh: dict[str, Any]
    data: bytes


def max_upload_bytes(settings: ShopSettings) -> int:
    return settings.max_upload_mb * 1024 * 1024


def check_upload(
    filename: str,
    data: bytes | Path,
    *,
    max_bytes: int,
    printers: Sequence[BuildVolume] = DEFAULT_PRINTERS,
) -> CheckedUpload:
    """Every intake check, before anything is stored; raises `IntakeError` (exit code 2).

    A path is sized before it is read, so a file over the limit is refused unread; then it is
    read once, and what was checked is what gets stored. The mesh report goes into the row's
    metadata; a part with problems (open shell, inches) is accepted for staff to look at, a
    file with no triangles is refused.
    """
    if isinstance(data, Path):
        check_file(data, filename=filename, max_bytes=max_bytes)
        try:
            content = data.read_bytes()
        except OSError as exc:
            raise UnreadableFile(f"The file cannot be read: {exc.strerror or exc}.") from None
    else:
        content = bytes(data)
    check_size(len(content), max_bytes)
    fmt = sniff_format(content[:HEAD_BYTES], len(content))
    if fmt == "3mf":
        inspect_3mf(content)
    name = safe_filename(filename)
    report = analyze(load_mesh(content, fmt, max_bytes=max_bytes), printers=printers)
    if report.faces == 0:
        raise MeshError("The file holds no triangles: there is nothing to print.")
    return CheckedUpload(
        filename=name,
        fmt=fmt,
        size_bytes=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
        mime_type=MIME_TYPES[fmt],
        mesh={**report.as_json(), "file_units": report.file_units, "format": fmt},
        data=content,
    )


def shop_printers(session: Session) -> tuple[BuildVolume, ...]:
    """Build volumes of the printers in service, for the "fits no printer" check."""
    rows = session.execute(
        select(Printer.build_x_mm, Printer.build_y_mm, Printer.build_z_mm).where(
            Printer.status != PrinterStatus.OFFLINE.value
        )
    ).all()
    return tuple((float(x), float(y), float(z)) for x, y, z in rows) or DEFAULT_PRINTERS


@dataclass(frozen=True)
class TmpFileView:
    id: int
    user_id: int | None
    filename: str
    bucket: str
    storage_key: str
    sha256: str
    size_bytes: int
    mime_type: str
    status: TmpFileStatus
    metadata: dict[str, Any]
    expires_at: dt.datetime
    created_at: dt.datetime


def _view(row: TmpFile) -> TmpFileView:
    return TmpFileView(
        id=row.id,
        user_id=row.user_id,
        filename=row.filename,
        bucket=row.bucket,
        storage_key=row.storage_key,
        sha256=row.sha256,
        size_bytes=row.size_bytes,
        mime_type=row.mime_type,
        status=TmpFileStatus(row.status),
        metadata=dict(row.metadata_),
        expires_at=row.expires_at,
        created_at=row.created_at,
    )


def upload_tmp(
    session: Session,
    actor: Actor,
    storage: Storage,
    filename: str,
    data: bytes | Path,
    *,
    settings: ShopSettings | None = None,
) -> TmpFileView:
    """Check a client's file, store it in ``tmp`` and record it for ``actor``."""
    with session.begin():
        if settings is None:
            settings = shop_settings.load(session)
        printers = shop_printers(session)
    checked = check_upload(filename, data, max_bytes=max_upload_bytes(settings), printers=printers)
    key = tmp_key(actor.user_id if actor.user_id is not None else NO_USER, checked.filename)
    storage.put(TMP, key, checked.data, checked.mime_type)
    try:
        with session.begin():
            row = TmpFile(
                user_id=actor.user_id,
                filename=checked.filename,
                bucket=TMP,
                storage_key=key,
                sha256=checked.sha256,
                size_bytes=checked.size_bytes,
                mime_type=checked.mime_type,
                status=TmpFileStatus.IDLE.value,
                metadata_={"mesh": checked.mesh},
                expires_at=dt.datetime.now(dt.UTC)
                + dt.timedelta(hours=settings.retention.tmp_upload_hours),
            )
            session.add(row)
            session.flush()
            session.refresh(row)
            activity.record(
                session,
                actor,
                "tmp_file.uploaded",
                "tmp_file",
                row.id,
                f"Uploaded {checked.filename}",
                {"size_bytes": checked.size_bytes, "sha256": checked.sha256},
            )
            return _view(row)
    except BaseException:
        discard_objects(session, storage, TMP, [key], "tmp upload whose row was not saved")
        raise


def _owned(session: Session, actor: Actor, tmp_id: int, *, lock: bool) -> TmpFile:
    query = select(TmpFile).where(TmpFile.id == tmp_id)
    if lock:
        query = query.with_for_update()
    row = session.scalars(query).one_or_none()
    if row is None:
        raise NotFound(f"No upload with id {tmp_id}.")
    may_use(actor, row)
    return row


def may_use(actor: Actor, row: TmpFile) -> None:
    """Staff act on their own uploads only; admins on any."""
    may_use_owner(actor, row.user_id)


def may_use_owner(actor: Actor, owner_id: int | None) -> None:
    """`may_use` for an upload read as plain data: its uploader's id."""
    if actor.is_admin:
        return
    if actor.user_id is None or owner_id != actor.user_id:
        raise NotAllowed("Only the person who uploaded a file, or an admin, may do that.")


def get_tmp(session: Session, actor: Actor, tmp_id: int) -> TmpFileView:
    with session.begin():
        return _view(_owned(session, actor, tmp_id, lock=False))


def list_tmp_files(
    session: Session, actor: Actor, *, user_id: int | None = None
) -> list[TmpFileView]:
    """Staff see their own uploads; admins everyone's, or one user's with ``user_id``."""
    query = select(TmpFile).order_by(TmpFile.id)
    if not actor.is_admin:
        if actor.user_id is None:
            return []
        query = query.where(TmpFile.user_id == actor.user_id)
    elif user_id is not None:
        query = query.where(TmpFile.user_id == user_id)
    with session.begin():
        return [_view(row) for row in session.scalars(query)]


def set_tmp_status(
    session: Session,
    actor: Actor,
    tmp_id: int,
    status: TmpFileStatus | str,
    *,
    metadata: dict[str, Any] | None = None,
) -> TmpFileView:
    """Move an upload through idle → running → completed | failed, merging ``metadata``."""
    try:
        new = TmpFileStatus(status)
    except ValueError:
        raise InvalidInput(f"{status!r} is not an upload status.") from None
    with session.begin():
        row = _owned(session, actor, tmp_id, lock=True)
        row.status = new.value
        if metadata:
            row.metadata_ = {**row.metadata_, **metadata}
        session.flush()
        session.refresh(row)
        return _view(row)


def delete_tmp(session: Session, actor: Actor, tmp_id: int) -> TmpFileView:
    """Delete an upload; the trigger queues its object. Call `after_commit_drain` next."""
    with session.begin():
        row = _owned(session, actor, tmp_id, lock=True)
        view = _view(row)
        session.delete(row)
        activity.record(
            session, actor, "tmp_file.deleted", "tmp_file", tmp_id, f"Deleted upload {row.filename}"
        )
        return view
