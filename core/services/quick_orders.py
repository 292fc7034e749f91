"""A quick order made in one go: the quote or invoice, its uploads promoted to order files and
each line pointing at its file, all in one transaction.

One statement reads the client, the settings, the next number and the uploads (locked); the
uploads' objects are copied to ``order-files``; one statement writes the document, its lines,
its files (deleting the uploads, whose objects the trigger queues for the outbox), its job,
the activity and the live-update notices. If anything fails after the first copy, the copies
are queued in the outbox (``storage_deletions``) so none is stranded. The refusals are the
same for staff and admins: nothing is left to take back. The caller runs
`core.services.maintenance.after_commit_drain` afterwards, whatever the outcome.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from core.actor import Actor
from core.db.models import InvoiceItem, QuoteItem, StorageDeletion
from core.errors import InvalidInput, NotFound
from core.services import invoices, quotes
from core.services.line_items import (
    DocumentTerms,
    ItemInput,
    Promotion,
    build_items,
    read_for_document,
)
from core.services.tmp_files import may_use_owner
from core.storage.base import ORDER_FILES, TMP, Storage, order_file_key


class QuickOrderKind(StrEnum):
    QUOTE = "quote"
    INVOICE = "invoice"


@dataclass(frozen=True)
class QuickOrderLine:
    """One part: the upload it was priced from, its line, and metadata for its order file."""

    tmp_id: int
    item: ItemInput
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class QuickOrderSpec:
    kind: QuickOrderKind
    client_id: int
    lines: Sequence[QuickOrderLine]
    terms: DocumentTerms = field(default_factory=DocumentTerms)


@dataclass(frozen=True)
class MadeOrder:
    kind: QuickOrderKind
    id: int
    number: str
    client_id: int
    currency: str
    total: Decimal
    order_file_ids: list[int]
    item_ids: list[int]


def _check_lines(order: QuickOrderSpec) -> None:
    if not order.lines:
        raise InvalidInput("A quick order needs at least one model file.")
    ids = [line.tmp_id for line in order.lines]
    if len(set(ids)) != len(ids):
        raise InvalidInput("Each upload can be one line of the order only once.")
    item_cls = QuoteItem if order.kind is QuickOrderKind.QUOTE else InvoiceItem
    build_items([line.item for line in order.lines], item_cls)


def _queue_copies(session: Session, keys: Sequence[str]) -> None:
    """Put the copies of a failed attempt in the outbox; the storage side deletes them."""
    if session.in_transaction():
        session.rollback()
    with session.begin():
        session.execute(
            insert(StorageDeletion)
            .values(
                [
                    {"bucket": ORDER_FILES, "key": key, "reason": "quick order not made"}
                    for key in keys
                ]
            )
            .on_conflict_do_nothing(
                index_elements=["bucket", "key"], index_where=StorageDeletion.done_at.is_(None)
            )
        )


def make_quick_order(
    session: Session, actor: Actor, order: QuickOrderSpec, storage: Storage
) -> MadeOrder:
    """Make the quote or invoice with its files and linked lines, or nothing at all."""
    _check_lines(order)
    tmp_ids = [line.tmp_id for line in order.lines]
    kind = order.kind.value
    copied: list[str] = []
    try:
        with session.begin():
            context = read_for_document(session, kind, order.client_id, uploads=tmp_ids)
            for tmp_id in tmp_ids:
                upload = context.uploads.get(tmp_id)
                if upload is None:
                    raise NotFound(
                        f"The upload {tmp_id} is gone (it may have expired): add the file again."
                    )
                may_use_owner(actor, upload["user_id"])
            promotions: list[Promotion] = []
            for line in order.lines:
                upload = context.uploads[line.tmp_id]
                target = order_file_key(order.client_id, upload["filename"])
                storage.copy(TMP, upload["storage_key"], ORDER_FILES, target, upload["mime_type"])
                copied.append(target)
                promotions.append(Promotion(line.tmp_id, target, line.metadata))
            items = [line.item for line in order.lines]
            made: invoices.InvoiceView | quotes.QuoteView
            if order.kind is QuickOrderKind.INVOICE:
                made = invoices.insert_invoice(
                    session,
                    actor,
                    context,
                    items,
                    order.terms,
                    item_uploads=tmp_ids,
                    promotions=promotions,
                )
            else:
                made = quotes.insert_quote(
                    session,
                    actor,
                    context,
                    items,
                    order.terms,
                    item_uploads=tmp_ids,
                    promotions=promotions,
                )
    except BaseException:
        if copied:
            _queue_copies(session, copied)
        raise
    file_ids = [item.order_file_id for item in made.items]
    return MadeOrder(
        kind=order.kind,
        id=made.id,
        number=made.number,
        client_id=made.client_id,
        currency=made.currency,
        total=made.total,
        order_file_ids=[i for i in file_ids if i is not None],
        item_ids=[item.id for item in made.items],
    )
