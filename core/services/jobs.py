"""Print jobs: made by the job policy, moved on the board, and kept to the printing rules."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from core.actor import Actor
from core.db.models import Client, Invoice, Job, Printer
from core.enums import JobPriority, JobStatus, PrinterStatus
from core.errors import Conflict, InvalidInput, NotFound
from core.services import activity, events
from core.services import settings as shop_settings

FINAL = frozenset({JobStatus.COMPLETED, JobStatus.CANCELLED})


@dataclass(frozen=True)
class JobView:
    id: int
    invoice_id: int
    invoice_number: str
    client_id: int
    client_name: str
    printer_id: int | None
    title: str
    status: JobStatus
    priority: JobPriority
    queue_position: int
    estimated_hours: Decimal | None
    actual_hours: Decimal | None
    notes: str | None
    started_at: dt.datetime | None
    completed_at: dt.datetime | None
    version: int


def _estimated_hours(invoice: Invoice) -> Decimal | None:
    seconds = 0
    for item in invoice.items:
        per_part = item.breakdown.get("print_seconds")
        if isinstance(per_part, int | float | str):
            seconds += int(Decimal(str(per_part)) * item.quantity)
    if not seconds:
        return None
    return (Decimal(seconds) / 3600).quantize(Decimal("0.01"))


def ensure_job_for_invoice(session: Session, invoice: Invoice) -> None:
    """Make the invoice's job once; a second call (another payment, a retry) changes nothing."""
    last = session.scalar(
        select(func.coalesce(func.max(Job.queue_position), 0)).where(Job.printer_id.is_(None))
    )
    description = invoice.items[0].description if invoice.items else "Print job"
    session.execute(
        insert(Job)
        .values(
            invoice_id=invoice.id,
            client_id=invoice.client_id,
            title=f"{invoice.number} — {description}"[:500],
            estimated_hours=_estimated_hours(invoice),
            queue_position=int(last or 0) + 1,
        )
        .on_conflict_do_nothing(index_elements=[Job.invoice_id])
    )
    events.notify(session, "job", invoice.id, invoice=invoice.number)


def cancel_open_job(session: Session, invoice_id: int) -> None:
    session.execute(
        update(Job)
        .where(Job.invoice_id == invoice_id, Job.status.not_in([s.value for s in FINAL]))
        .values(status=JobStatus.CANCELLED.value, version=Job.version + 1)
        .execution_options(synchronize_session=False)
    )


def _view(session: Session, job: Job) -> JobView:
    number = session.scalar(select(Invoice.number).where(Invoice.id == job.invoice_id)) or ""
    name = session.scalar(select(Client.name).where(Client.id == job.client_id)) or ""
    return _view_of(job, number, name)


def _view_of(job: Job, number: str, name: str) -> JobView:
    return JobView(
        id=job.id,
        invoice_id=job.invoice_id,
        invoice_number=number,
        client_id=job.client_id,
        client_name=name,
        printer_id=job.printer_id,
        title=job.title,
        status=JobStatus(job.status),
        priority=JobPriority(job.priority),
        queue_position=job.queue_position,
        estimated_hours=job.estimated_hours,
        actual_hours=job.actual_hours,
        notes=job.notes,
        started_at=job.started_at,
        completed_at=job.completed_at,
        version=job.version,
    )


def _job(session: Session, job_id: int, expected_version: int | None) -> Job:
    job = session.scalars(select(Job).where(Job.id == job_id).with_for_update()).one_or_none()
    if job is None:
        raise NotFound(f"No job with id {job_id}.")
    if expected_version is not None and job.version != expected_version:
        raise Conflict("This job was changed elsewhere — reload the board and try again.")
    return job


def list_jobs(session: Session, *, include_final: bool = False) -> list[JobView]:
    """Every job, by printer (unassigned first) and queue position, in one statement."""
    query = (
        select(Job, Invoice.number, Client.name)
        .join(Invoice, Invoice.id == Job.invoice_id)
        .join(Client, Client.id == Job.client_id)
        .order_by(Job.printer_id.is_not(None), Job.printer_id, Job.queue_position, Job.id)
    )
    if not include_final:
        query = query.where(Job.status.not_in([s.value for s in FINAL]))
    with session.begin():
        return [_view_of(job, number, name) for job, number, name in session.execute(query)]


def get_job_for_invoice(session: Session, invoice_id: int) -> JobView | None:
    with session.begin():
        job = session.scalars(select(Job).where(Job.invoice_id == invoice_id)).one_or_none()
        return _view(session, job) if job else None


def _check_can_print(session: Session, job: Job) -> None:
    if job.printer_id is None:
        raise Conflict("Assign the job to a printer before it starts printing.")
    printer = session.scalars(
        select(Printer).where(Printer.id == job.printer_id).with_for_update()
    ).one()
    if printer.status != PrinterStatus.ACTIVE:
        raise Conflict(f"{printer.name} is {printer.status.lower()}; it cannot print now.")
    limit = shop_settings.load(session).max_active_printing_per_printer
    printing = session.scalar(
        select(func.count())
        .select_from(Job)
        .where(
            Job.printer_id == printer.id,
            Job.status == JobStatus.PRINTING.value,
            Job.id != job.id,
        )
    )
    if (printing or 0) >= limit:
        raise Conflict(
            f"{printer.name} already has {printing} job(s) printing (at most {limit} at a time)."
        )


def set_status(
    session: Session,
    actor: Actor,
    job_id: int,
    status: JobStatus,
    *,
    expected_version: int | None = None,
) -> JobView:
    with session.begin():
        job = _job(session, job_id, expected_version)
        current = JobStatus(job.status)
        if current == status:
            return _view(session, job)
        if current in FINAL:
            raise Conflict(f"The job is {current.lower()}; it cannot change any more.")
        if status == JobStatus.PRINTING:
            _check_can_print(session, job)
            job.started_at = job.started_at or func.now()
        if status == JobStatus.COMPLETED:
            job.completed_at = func.now()
        job.status = status.value
        activity.record(
            session,
            actor,
            "job.status",
            "job",
            job.id,
            f"{job.title}: {current.value} → {status.value}",
        )
        events.notify(session, "job", job.id, status=status.value)
        session.flush()
        session.refresh(job)
        return _view(session, job)


def move_job(
    session: Session,
    actor: Actor,
    job_id: int,
    printer_id: int | None,
    position: int,
    *,
    expected_version: int | None = None,
) -> JobView:
    """Put the job at ``position`` (1-based) in the queue of ``printer_id`` (None: unassigned)."""
    with session.begin():
        job = _job(session, job_id, expected_version)
        if JobStatus(job.status) in FINAL:
            raise Conflict("A completed or cancelled job stays where it is.")
        if printer_id is not None:
            printer = session.get(Printer, printer_id)
            if printer is None:
                raise NotFound(f"No printer with id {printer_id}.")
        if job.status == JobStatus.PRINTING and printer_id != job.printer_id:
            raise Conflict("A job that is printing cannot move to another printer; pause it first.")
        if position < 1:
            raise InvalidInput("Queue positions start at 1.")
        siblings = [
            other
            for other in session.scalars(
                select(Job)
                .where(
                    Job.printer_id.is_(None)
                    if printer_id is None
                    else Job.printer_id == printer_id,
                    Job.id != job.id,
                    Job.status.not_in([s.value for s in FINAL]),
                )
                .order_by(Job.queue_position, Job.id)
                .with_for_update()
            )
        ]
        siblings.insert(min(position, len(siblings) + 1) - 1, job)
        job.printer_id = printer_id
        for index, other in enumerate(siblings, start=1):
            if other.queue_position != index:
                other.queue_position = index
        activity.record(
            session,
            actor,
            "job.moved",
            "job",
            job.id,
            f"{job.title} moved to position {position}",
            {"printer_id": printer_id},
        )
        events.notify(session, "job", job.id, printer_id=printer_id)
        session.flush()
        return _view(session, job)


def set_priority(session: Session, actor: Actor, job_id: int, priority: JobPriority) -> JobView:
    with session.begin():
        job = _job(session, job_id, None)
        job.priority = priority.value
        activity.record(
            session, actor, "job.priority", "job", job.id, f"{job.title}: {priority.value}"
        )
        events.notify(session, "job", job.id, priority=priority.value)
        session.flush()
        return _view(session, job)
