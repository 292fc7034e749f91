"""An invoice's attachments (a signed delivery note, a photo of the part), kept in ``attachments``.

Only PDFs and PNG or JPEG images are taken, recognised by their content, never by the name.
As with order files, the object is written first and the row second; if the row's transaction
fails the object is removed again (or queued in the outbox). Removing an attachment deletes its
row and the trigger queues its object in the same transaction; the caller then runs
`core.services.maintenance.after_commit_drain`. Anyone at the counter may attach; an attachment
is removed by the person who added it or by an admin (as with uploads).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.actor import Actor
from core.db.models import Attachment, Invoice
from core.errors import InvalidInput, NotAllowed, NotFound
from core.mesh.intake import safe_filename
from core.services import activity, events
from core.services.maintenance import discard_objects
from core.storage.base import ATTACHMENTS, Storage, attachment_key

#: Largest attachment taken: a scanned multi-page PDF fits, a video does not.
MAX_ATTACHMENT_BYTES: Final = 25 * 1024 * 1024
MAX_PAGE: Final = 500

PDF: Final = "application/pdf"
PNG: Final = "image/png"
JPEG: Final = "image/jpeg"
#: The extensions a name may end in for each type; another one gets the first added.
EXTENSIONS: Final[dict[str, tuple[str, ...]]] = {
    PDF: (".pdf",),
    PNG: (".png",),
    JPEG: (".jpg", ".jpeg"),
}
ACCEPTED_TEXT: Final = "Attach a PDF, PNG or JPEG file."
# A PDF may carry a little junk before its header; readers look in the first kilobyte.
_PDF_HEADER_WINDOW: Final = 1024
_PATH_LIKE: Final = re.compile(r"[/\\\x00-\x1f\x7f]")


@dataclass(frozen=True)
class AttachmentView:
    id: int
    invoice_id: int
    filename: str
    bucket: str
    storage_key: str
    sha256: str
    size_bytes: int
    mime_type: str
    uploaded_by: int | None
    created_at: dt.datetime

    @property
    def is_image(self) -> bool:
        return self.mime_type in (PNG, JPEG)


def view_of(row: Attachment) -> AttachmentView:
    """The view of an attachment row read by another query (the editor's opening read)."""
    return _view(row)


def _view(row: Attachment) -> AttachmentView:
    return AttachmentView(
        id=row.id,
        invoice_id=row.invoice_id,
        filename=row.filename,
        bucket=row.bucket,
        storage_key=row.storage_key,
        sha256=row.sha256,
        size_bytes=row.size_bytes,
        mime_type=row.mime_type,
        uploaded_by=row.uploaded_by,
        created_at=row.created_at,
    )


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB"


def sniff_type(data: bytes) -> str | None:
    """The attachment type the bytes are (PDF, PNG, JPEG), or None."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if data.startswith(b"\xff\xd8\xff"):
        return JPEG
    if b"%PDF-" in data[:_PDF_HEADER_WINDOW]:
        return PDF
    return None


def attachment_name(filename: str, mime_type: str) -> str:
    """A safe name for the attachment whose extension says what it is.

    A name that carries a folder or control characters is refused rather than cleaned, so the
    person sees the name they gave or an error; a name whose extension lies gets the right one.
    """
    if not filename.strip() or filename.strip() in (".", ".."):
        raise InvalidInput("An attachment needs a file name.")
    if _PATH_LIKE.search(filename):
        raise InvalidInput(
            f"{filename!r} is not a plain file name (no folders or control characters)."
        )
    name = safe_filename(filename)
    extensions = EXTENSIONS[mime_type]
    if not name.lower().endswith(extensions):
        name = safe_filename(name + extensions[0])
    return name


@dataclass(frozen=True)
class CheckedAttachment:
    filename: str
    mime_type: str
    sha256: str
    data: bytes


def check_attachment(
    filename: str, data: bytes | Path, *, max_bytes: int = MAX_ATTACHMENT_BYTES
) -> CheckedAttachment:
    """Every check before anything is stored: size, type by content, a safe name."""
    if isinstance(data, Path):
        try:
            size = data.stat().st_size
        except OSError as exc:
            raise InvalidInput(f"The file cannot be read: {exc.strerror or exc}.") from None
        if size > max_bytes:
            raise InvalidInput(
                f"The file is {_megabytes(size)}; attachments may be up to {_megabytes(max_bytes)}."
            )
        try:
            content = data.read_bytes()
        except OSError as exc:
            raise InvalidInput(f"The file cannot be read: {exc.strerror or exc}.") from None
    else:
        content = bytes(data)
    if len(content) > max_bytes:
        raise InvalidInput(
            f"The file is {_megabytes(len(content))}; attachments may be up to "
            f"{_megabytes(max_bytes)}."
        )
    if not content:
        raise InvalidInput("The file is empty.")
    mime_type = sniff_type(content)
    if mime_type is None:
        raise InvalidInput(
            f"{Path(filename).name or 'This file'} is not a PDF or an image. {ACCEPTED_TEXT}"
        )
    return CheckedAttachment(
        filename=attachment_name(filename, mime_type),
        mime_type=mime_type,
        sha256=hashlib.sha256(content).hexdigest(),
        data=content,
    )


def _invoice(session: Session, invoice_id: int) -> Invoice:
    invoice = session.scalars(
        select(Invoice).where(Invoice.id == invoice_id).with_for_update(read=True)
    ).one_or_none()
    if invoice is None:
        raise NotFound(f"No invoice with id {invoice_id}.")
    return invoice


def add_attachment(
    session: Session,
    actor: Actor,
    storage: Storage,
    invoice_id: int,
    data: bytes | Path,
    *,
    filename: str | None = None,
    max_bytes: int = MAX_ATTACHMENT_BYTES,
) -> AttachmentView:
    """Check a PDF or image and attach it to an invoice (object first, then the row)."""
    if filename is None:
        if not isinstance(data, Path):
            raise InvalidInput("An attachment needs a file name.")
        filename = data.name
    with session.begin():
        _invoice(session, invoice_id)
    checked = check_attachment(filename, data, max_bytes=max_bytes)
    key = attachment_key(invoice_id, checked.filename)
    storage.put(ATTACHMENTS, key, checked.data, checked.mime_type)
    try:
        with session.begin():
            invoice = _invoice(session, invoice_id)
            row = Attachment(
                invoice_id=invoice_id,
                filename=checked.filename,
                bucket=ATTACHMENTS,
                storage_key=key,
                sha256=checked.sha256,
                size_bytes=len(checked.data),
                mime_type=checked.mime_type,
                uploaded_by=actor.user_id,
            )
            session.add(row)
            session.flush()
            session.refresh(row)
            activity.record(
                session,
                actor,
                "attachment.added",
                "invoice",
                invoice_id,
                f"Attached {checked.filename} to {invoice.number}",
                {"attachment_id": row.id, "size_bytes": row.size_bytes},
            )
            events.notify(session, "attachment", row.id, status="ADDED", invoice_id=invoice_id)
            return _view(row)
    except BaseException:
        discard_objects(session, storage, ATTACHMENTS, [key], "attachment whose row was not saved")
        raise


def list_attachments(
    session: Session, invoice_id: int, *, limit: int = 200, offset: int = 0
) -> list[AttachmentView]:
    """An invoice's attachments, oldest first (the order they were added)."""
    if not 1 <= limit <= MAX_PAGE or offset < 0:
        raise InvalidInput(
            f"A page holds 1 to {MAX_PAGE} attachments from a position of 0 or more."
        )
    query = (
        select(Attachment)
        .where(Attachment.invoice_id == invoice_id)
        .order_by(Attachment.id)
        .limit(limit)
        .offset(offset)
    )
    with session.begin():
        return [_view(row) for row in session.scalars(query)]


def read_attachment(session: Session, storage: Storage, attachment_id: int) -> bytes:
    """The attachment's bytes, for opening or saving a copy."""
    with session.begin():
        row = session.get(Attachment, attachment_id)
        if row is None:
            raise NotFound(f"No attachment with id {attachment_id}.")
        bucket, key = row.bucket, row.storage_key
    return storage.get(bucket, key)


def remove_attachment(session: Session, actor: Actor, attachment_id: int) -> AttachmentView:
    """Remove an attachment; the trigger queues its object. Call `after_commit_drain`."""
    with session.begin():
        row = session.scalars(
            select(Attachment).where(Attachment.id == attachment_id).with_for_update()
        ).one_or_none()
        if row is None:
            raise NotFound(f"No attachment with id {attachment_id}.")
        if not actor.is_admin and (actor.user_id is None or row.uploaded_by != actor.user_id):
            raise NotAllowed("Only an admin or the person who added it may remove an attachment.")
        view = _view(row)
        number = session.scalar(select(Invoice.number).where(Invoice.id == row.invoice_id))
        session.delete(row)
        activity.record(
            session,
            actor,
            "attachment.removed",
            "invoice",
            view.invoice_id,
            f"Removed {view.filename} from {number}",
            {"attachment_id": view.id, "bucket": view.bucket, "storage_key": view.storage_key},
        )
        events.notify(session, "attachment", view.id, status="REMOVED", invoice_id=view.invoice_id)
        return view
