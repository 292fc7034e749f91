"""The figures on the counter's dashboard, each one SQL aggregate."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.db.models import Invoice, Job, Payment, Quote, Refund
from core.enums import InvoiceStatus, JobStatus, QuoteStatus
from core.services import settings as shop_settings


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


def week_start(today: dt.date) -> dt.date:
    return today - dt.timedelta(days=today.weekday())


def _figure(session: Session, amount: object, *where: object) -> Figure:
    row = session.execute(
        select(func.coalesce(func.sum(amount), 0), func.count()).where(*where)  # type: ignore[arg-type]
    ).one()
    return Figure(Decimal(str(row[0])).quantize(Decimal("0.01")), int(row[1]))


def load_dashboard(session: Session, *, today: dt.date | None = None) -> Dashboard:
    today = today or dt.date.today()
    since = dt.datetime.combine(week_start(today), dt.time.min).astimezone()
    pending = Invoice.status == InvoiceStatus.PENDING.value
    with session.begin():
        shop = shop_settings.load(session)
        received = _figure(session, Payment.amount, Payment.paid_at >= since)
        refunded = session.scalar(
            select(func.coalesce(func.sum(Refund.amount), 0)).where(Refund.refunded_at >= since)
        )
        jobs = {
            status: count
            for status, count in session.execute(
                select(Job.status, func.count())
                .where(Job.status.not_in([JobStatus.COMPLETED.value, JobStatus.CANCELLED.value]))
                .group_by(Job.status)
            )
        }
        return Dashboard(
            currency=shop.currency,
            shop_name=shop.business.name,
            outstanding=_figure(session, Invoice.balance_due, pending),
            overdue=_figure(session, Invoice.balance_due, pending, Invoice.due_date < today),
            received_this_week=Figure(received.amount - Decimal(refunded or 0), received.count),
            quotes_awaiting=_figure(
                session, Quote.total, Quote.status == QuoteStatus.PENDING.value
            ),
            jobs_by_status={JobStatus(k): int(v) for k, v in jobs.items()},
        )
