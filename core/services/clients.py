"""Clients: the shop's address book, searched at the counter and edited with conflict checks."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import asdict, dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, Select, func, or_, select
from sqlalchemy.orm import Session

from core.actor import Actor
from core.db.models import ActivityEntry, Client, Invoice, Payment, Quote, Refund
from core.errors import Conflict, InvalidInput, NotFound
from core.services import activity, events
from core.services.users import is_plausible_email

MAX_PAYMENT_TERMS_DAYS = 365
MAX_PAGE = 500
# Labels and lengths of the String columns of ``clients``; address and notes are unbounded text.
LIMITS = {
    "name": ("name", 200),
    "company": ("company", 200),
    "email": ("email", 320),
    "phone": ("phone number", 64),
    "tax_id": ("tax ID", 64),
}
PHONE_LIKE = re.compile(r"[\d\s+()./-]+")


@dataclass(frozen=True)
class ClientInput:
    name: str
    email: str | None = None
    phone: str | None = None
    company: str | None = None
    address: str | None = None
    tax_id: str | None = None
    payment_terms_days: int = 14
    notes: str | None = None


@dataclass(frozen=True)
class ClientView:
    id: int
    name: str
    company: str | None
    email: str | None
    phone: str | None
    address: str | None
    tax_id: str | None
    payment_terms_days: int
    notes: str | None
    created_at: dt.datetime
    updated_at: dt.datetime
    version: int


def _view(client: Client) -> ClientView:
    return ClientView(
        id=client.id,
        name=client.name,
        company=client.company,
        email=client.email,
        phone=client.phone,
        address=client.address,
        tax_id=client.tax_id,
        payment_terms_days=client.payment_terms_days,
        notes=client.notes,
        created_at=client.created_at,
        updated_at=client.updated_at,
        version=client.version,
    )


def _optional(value: str | None, field: str) -> str | None:
    cleaned = (value or "").strip()
    if field in LIMITS:
        label, limit = LIMITS[field]
        if len(cleaned) > limit:
            raise InvalidInput(f"The {label} may be at most {limit} characters.")
    return cleaned or None


def _cleaned(data: ClientInput) -> dict[str, Any]:
    """The input as column values, trimmed, blanks as NULL; refuses what the shop cannot store."""
    values: dict[str, Any] = {
        field: _optional(value, field)
        for field, value in asdict(data).items()
        if field != "payment_terms_days"
    }
    if values["name"] is None:
        raise InvalidInput("A client needs a name.")
    email = values["email"]
    if email is not None and not is_plausible_email(email):
        raise InvalidInput(f"{email} is not a valid email address.")
    if not 0 <= data.payment_terms_days <= MAX_PAYMENT_TERMS_DAYS:
        raise InvalidInput(f"Payment terms must be 0 to {MAX_PAYMENT_TERMS_DAYS} days.")
    values["payment_terms_days"] = data.payment_terms_days
    return values


def _client(session: Session, client_id: int, *, lock: bool = False) -> Client:
    client = session.get(Client, client_id, populate_existing=True, with_for_update=lock or None)
    if client is None:
        raise NotFound(f"No client with id {client_id}.")
    return client


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _matching(text: str) -> ColumnElement[bool] | None:
    """Case-insensitive match anywhere in name, company, email or phone."""
    needle = text.strip()
    if not needle:
        return None
    pattern = f"%{_escape_like(needle)}%"
    matches: list[ColumnElement[bool]] = [
        column.ilike(pattern, escape="\\")
        for column in (Client.name, Client.company, Client.email, Client.phone)
    ]
    digits = re.sub(r"\D", "", needle)
    if len(digits) >= 3 and PHONE_LIKE.fullmatch(needle):
        # Numbers are written many ways ("0412 345 678", "(04) 1234-5678"): compare digits alone.
        matches.append(func.regexp_replace(Client.phone, r"\D", "", "g").contains(digits))
    return or_(*matches)


def _filtered(query: Select[Any], text: str) -> Select[Any]:
    condition = _matching(text)
    return query if condition is None else query.where(condition)


def create_client(session: Session, actor: Actor, data: ClientInput) -> ClientView:
    values = _cleaned(data)
    with session.begin():
        client = Client(**values)
        session.add(client)
        session.flush()
        activity.record(
            session, actor, "client.created", "client", client.id, f"Client {client.name} added"
        )
        events.notify(session, "client", client.id, action="created")
        return _view(client)


def update_client(
    session: Session, actor: Actor, client_id: int, data: ClientInput, expected_version: int
) -> ClientView:
    values = _cleaned(data)
    with session.begin():
        client = _client(session, client_id, lock=True)
        if client.version != expected_version:
            raise Conflict(f"{client.name} was changed elsewhere — reload it and try again.")
        changed = sorted(f for f, v in values.items() if getattr(client, f) != v)
        if changed:
            for field in changed:
                setattr(client, field, values[field])
            activity.record(
                session,
                actor,
                "client.updated",
                "client",
                client.id,
                f"Client {client.name} edited",
                {"fields": changed},
            )
            events.notify(session, "client", client.id, action="updated")
            session.flush()
        return _view(client)


def get_client(session: Session, client_id: int) -> ClientView:
    with session.begin():
        return _view(_client(session, client_id))


def search_clients(
    session: Session, text: str = "", limit: int = 50, offset: int = 0
) -> list[ClientView]:
    """A page of clients matching ``text``, in name order; an empty text lists everyone."""
    if not 1 <= limit <= MAX_PAGE or offset < 0:
        raise InvalidInput(f"A page holds 1 to {MAX_PAGE} clients from a position of 0 or more.")
    query = _filtered(select(Client), text)
    query = query.order_by(func.lower(Client.name), Client.id).limit(limit).offset(offset)
    with session.begin():
        clients = session.scalars(query.execution_options(populate_existing=True))
        return [_view(client) for client in clients]


def count_clients(session: Session, text: str = "") -> int:
    query = _filtered(select(func.count()).select_from(Client), text)
    with session.begin():
        return session.scalar(query) or 0


def delete_client(session: Session, actor: Actor, client_id: int) -> None:
    """Delete a client who has no documents; quotes and invoices are the shop's records to keep."""
    actor.require_admin("delete clients")
    with session.begin():
        # The row lock makes a quote being added at this moment wait, then fail its foreign key.
        client = _client(session, client_id, lock=True)
        has_documents = session.scalar(
            select(
                select(Quote.id).where(Quote.client_id == client.id).exists()
                | select(Invoice.id).where(Invoice.client_id == client.id).exists()
            )
        )
        if has_documents:
            raise Conflict(
                f"{client.name} has quotes or invoices; they are kept, so the client stays too."
            )
        name = client.name
        session.delete(client)
        activity.record(
            session, actor, "client.deleted", "client", client_id, f"Client {name} deleted"
        )
        events.notify(session, "client", client_id, action="deleted")
        session.flush()


@dataclass(frozen=True)
class MoneyMovement:
    """A payment (positive) or refund (negative) on one of a client's invoices."""

    invoice_id: int
    invoice_number: str
    when: dt.datetime
    method: str  # the payment's method; for a refund, the refunded payment's
    is_refund: bool
    reference: str
    amount: Decimal
    currency: str


def client_money(session: Session, client_id: int, *, limit: int = 500) -> list[MoneyMovement]:
    """Payments and refunds of the client's invoices (void ones aside), newest first: two
    statements, whatever the number of invoices."""
    own = (Invoice.client_id == client_id, Invoice.status != "VOID")
    paid = (
        select(Payment, Invoice.number)
        .join(Invoice, Invoice.id == Payment.invoice_id)
        .where(*own)
        .order_by(Payment.paid_at.desc())
        .limit(limit)
    )
    refunded = (
        select(Refund, Invoice.number, Payment.method)
        .join(Invoice, Invoice.id == Refund.invoice_id)
        .join(Payment, Payment.id == Refund.payment_id)
        .where(*own)
        .order_by(Refund.refunded_at.desc())
        .limit(limit)
    )
    with session.begin():
        rows = [
            MoneyMovement(
                p.invoice_id,
                number,
                p.paid_at,
                p.method,
                False,
                p.reference or p.processor_id or "",
                p.amount,
                p.currency,
            )
            for p, number in session.execute(paid)
        ]
        rows += [
            MoneyMovement(
                r.invoice_id,
                number,
                r.refunded_at,
                method,
                True,
                r.reason or r.processor_id or "",
                -r.amount,
                r.currency,
            )
            for r, number, method in session.execute(refunded)
        ]
    rows.sort(key=lambda m: m.when, reverse=True)
    return rows


def client_activity(
    session: Session,
    client_id: int,
    *,
    invoice_ids: list[int],
    quote_ids: list[int],
    limit: int = 60,
) -> list[activity.ActivityView]:
    """What happened to the client and to the given documents of theirs, newest first, in
    one statement."""
    about = or_(
        (ActivityEntry.entity_type == "client") & (ActivityEntry.entity_id == client_id),
        (ActivityEntry.entity_type == "invoice") & ActivityEntry.entity_id.in_(invoice_ids),
        (ActivityEntry.entity_type == "quote") & ActivityEntry.entity_id.in_(quote_ids),
    )
    query = (
        select(ActivityEntry)
        .where(about)
        .order_by(ActivityEntry.created_at.desc(), ActivityEntry.id.desc())
        .limit(limit)
    )
    with session.begin():
        return [
            activity.ActivityView(
                e.id,
                e.actor_label,
                e.action,
                e.entity_type,
                e.entity_id,
                e.message,
                e.detail,
                e.created_at,
            )
            for e in session.scalars(query)
        ]
