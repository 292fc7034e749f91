"""The figures on the counter's dashboard: every figure in one statement, then the most
overdue invoices and the latest activity (three statements for the whole screen)."""

from __future__ import annotations

import datetime as dt
from contextlib import nullcontext
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, ScalarSelect, exists, func, select
from sqlalchemy.orm import Session

from core.db.models import Client, Invoice, Job, Payment, Quote, Refund, ShopSettingsRow
from core.enums import InvoiceStatus, JobStatus, QuoteStatus
from core.services import activity
from core.services.activity import ActivityView
from core.shop_settings import ShopSettings

OPEN_JOB_STATUSES = tuple(
    s for s in JobStatus if s not in (JobStatus.COMPLETED, JobStatus.CANCELLED)
)


@dataclass(frozen=True)
class Figure:
    amount: Decimal
    count: int


@dataclass(frozen=True)
class Dashboard:
    currency: str
    shop_name: str
    outstanding: Figure
    overdue: Figure
    received_this_week: Figure
    quotes_awaiting: Figure
    jobs_by_status: dict[JobStatus, int]
    has_invoices: bool = False


@dataclass(frozen=True)
class OverdueRow:
    id: int
    number: str
    client_name: str
    due_date: dt.date | None
    balance_due: Decimal
    currency: str


@dataclass(frozen=True)
class DashboardScreen:
    """What the dashboard screen shows, read in one transaction."""

    board: Dashboard
    most_overdue: list[OverdueRow]
    activity: list[ActivityView]


def week_start(today: dt.date) -> dt.date:
    return today - dt.timedelta(days=today.weekday())


def _sum(amount: Any, table: Any, *where: ColumnElement[bool]) -> ScalarSelect[Any]:
    return (
        select(func.coalesce(func.sum(amount), 0))
        .select_from(table)
        .where(*where)
        .scalar_subquery()
    )


def _count(table: Any, *where: ColumnElement[bool]) -> ScalarSelect[Any]:
    return select(func.count()).select_from(table).where(*where).scalar_subquery()


def _money(value: object) -> Decimal:
    return Decimal(str(value or 0)).quantize(Decimal("0.01"))


def load_dashboard(session: Session, *, today: dt.date | None = None) -> Dashboard:
    """Every figure, the shop's name and currency, in one statement."""
    today = today or dt.date.today()
    since = dt.datetime.combine(week_start(today), dt.time.min).astimezone()
    pending = Invoice.status == InvoiceStatus.PENDING.value
    late = Invoice.due_date < today
    received = Payment.paid_at >= since
    awaiting = Quote.status == QuoteStatus.PENDING.value
    jobs = [_count(Job, Job.status == s.value) for s in OPEN_JOB_STATUSES]
    query = select(
        select(ShopSettingsRow.data).where(ShopSettingsRow.id == 1).scalar_subquery(),
        _sum(Invoice.balance_due, Invoice, pending),
        _count(Invoice, pending),
        _sum(Invoice.balance_due, Invoice, pending, late),
        _count(Invoice, pending, late),
        _sum(Payment.amount, Payment, received),
        _count(Payment, received),
        _sum(Refund.amount, Refund, Refund.refunded_at >= since),
        _sum(Quote.total, Quote, awaiting),
        _count(Quote, awaiting),
        exists().where(Invoice.id.is_not(None)),
        *jobs,
    )
    with nullcontext() if session.in_transaction() else session.begin():
        row = session.execute(query).one()
    data, out_sum, out_n, late_sum, late_n, paid_sum, paid_n, refunded, q_sum, q_n, any_inv = row[
        :11
    ]
    shop = ShopSettings.model_validate(data or {})
    return Dashboard(
        currency=shop.currency,
        shop_name=shop.business.name,
        outstanding=Figure(_money(out_sum), int(out_n)),
        overdue=Figure(_money(late_sum), int(late_n)),
        received_this_week=Figure(_money(paid_sum) - _money(refunded), int(paid_n)),
        quotes_awaiting=Figure(_money(q_sum), int(q_n)),
        jobs_by_status={s: int(n) for s, n in zip(OPEN_JOB_STATUSES, row[11:], strict=True) if n},
        has_invoices=bool(any_inv),
    )


def load_screen(
    session: Session,
    *,
    today: dt.date | None = None,
    overdue_shown: int = 8,
    activity_shown: int = 14,
) -> DashboardScreen:
    """The figures, the longest-overdue invoices and the latest activity: three statements."""
    today = today or dt.date.today()
    with session.begin():
        board = load_dashboard(session, today=today)
        late: list[OverdueRow] = []
        if board.overdue.count:
            query = (
                select(Invoice, Client.name)
                .join(Client, Client.id == Invoice.client_id)
                .where(Invoice.status == InvoiceStatus.PENDING.value, Invoice.due_date < today)
                .order_by(Invoice.due_date, Invoice.id)
                .limit(overdue_shown)
            )
            late = [
                OverdueRow(inv.id, inv.number, name, inv.due_date, inv.balance_due, inv.currency)
                for inv, name in session.execute(query)
            ]
        entries = activity.recent(session, limit=activity_shown)
    return DashboardScreen(board, late, entries)
