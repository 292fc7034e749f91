"""The shop's printers: the Cura definition each slices with, its bed, rate and working status."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.actor import Actor
from core.db.models import Printer
from core.enums import PrinterStatus
from core.errors import Conflict, NotFound
from core.services import activity, events
from core.services import catalog_fields as fields

CHANGE = "change printers"


@dataclass(frozen=True)
class PrinterInput:
    name: str
    cura_definition_id: str
    build_x_mm: Decimal
    build_y_mm: Decimal
    build_z_mm: Decimal
    nozzle_mm: Decimal = Decimal("0.4")
    hourly_rate: Decimal | None = None  # None: the shop's rate from the settings applies


@dataclass(frozen=True)
class PrinterView:
    id: int
    name: str
    cura_definition_id: str
    build_x_mm: Decimal
    build_y_mm: Decimal
    build_z_mm: Decimal
    nozzle_mm: Decimal
    hourly_rate: Decimal | None
    status: PrinterStatus
    created_at: dt.datetime
    updated_at: dt.datetime
    version: int


def _view(printer: Printer) -> PrinterView:
    return PrinterView(
        id=printer.id,
        name=printer.name,
        cura_definition_id=printer.cura_definition_id,
        build_x_mm=printer.build_x_mm,
        build_y_mm=printer.build_y_mm,
        build_z_mm=printer.build_z_mm,
        nozzle_mm=printer.nozzle_mm,
        hourly_rate=printer.hourly_rate,
        status=PrinterStatus(printer.status),
        created_at=printer.created_at,
        updated_at=printer.updated_at,
        version=printer.version,
    )


def _cleaned(data: PrinterInput) -> dict[str, object]:
    # Bounds and places follow the NUMERIC columns of ``printers``.
    build = {
        f"build_{axis}_mm": fields.amount(
            value, f"Build volume {axis.upper()} (mm)", places=1, below=10**6, zero_ok=False
        )
        for axis, value in (("x", data.build_x_mm), ("y", data.build_y_mm), ("z", data.build_z_mm))
    }
    rate = data.hourly_rate
    return {
        "name": fields.text(data.name, "name", 100, owner="printer"),
        "cura_definition_id": fields.text(
            data.cura_definition_id, "Cura definition id", 100, owner="printer"
        ),
        **build,
        "nozzle_mm": fields.amount(
            data.nozzle_mm, "Nozzle (mm)", places=2, below=100, zero_ok=False
        ),
        "hourly_rate": None
        if rate is None
        else fields.amount(rate, "Hourly rate", places=2, below=10**6, zero_ok=True),
    }


def _printer(session: Session, printer_id: int, *, lock: bool = False) -> Printer:
    printer = session.get(Printer, printer_id, populate_existing=True, with_for_update=lock or None)
    if printer is None:
        raise NotFound(f"No printer with id {printer_id}.")
    return printer


def list_printers(session: Session, *, include_inactive: bool = False) -> list[PrinterView]:
    """Printers in name order; by default only ACTIVE ones, not those in maintenance or offline."""
    query = select(Printer).order_by(func.lower(Printer.name), Printer.id)
    if not include_inactive:
        query = query.where(Printer.status == PrinterStatus.ACTIVE.value)
    with session.begin():
        printers = session.scalars(query.execution_options(populate_existing=True))
        return [_view(printer) for printer in printers]


def get_printer(session: Session, printer_id: int) -> PrinterView:
    with session.begin():
        return _view(_printer(session, printer_id))


def create_printer(session: Session, actor: Actor, data: PrinterInput) -> PrinterView:
    actor.require_admin(CHANGE)
    values = _cleaned(data)
    name = str(values["name"])
    with session.begin():
        fields.refuse_taken_name(session, Printer, name, noun="printer")
        printer = Printer(**values, status=PrinterStatus.ACTIVE.value)
        session.add(printer)
        fields.flush_unique(session, name, noun="printer")
        activity.record(
            session, actor, "printer.created", "printer", printer.id, f"Printer {name} added"
        )
        events.notify(session, "printer", printer.id, action="created")
        return _view(printer)


def update_printer(
    session: Session, actor: Actor, printer_id: int, data: PrinterInput, expected_version: int
) -> PrinterView:
    actor.require_admin(CHANGE)
    values = _cleaned(data)
    name = str(values["name"])
    with session.begin():
        printer = _printer(session, printer_id, lock=True)
        if printer.version != expected_version:
            raise Conflict(f"{printer.name} was changed elsewhere — reload it and try again.")
        fields.refuse_taken_name(session, Printer, name, noun="printer", other_than=printer.id)
        changed = sorted(f for f, v in values.items() if getattr(printer, f) != v)
        if changed:
            for field in changed:
                setattr(printer, field, values[field])
            activity.record(
                session,
                actor,
                "printer.updated",
                "printer",
                printer.id,
                f"Printer {name} edited",
                {"fields": changed},
            )
            events.notify(session, "printer", printer.id, action="updated")
            fields.flush_unique(session, name, noun="printer")
        return _view(printer)


def set_printer_status(
    session: Session, actor: Actor, printer_id: int, status: PrinterStatus
) -> PrinterView:
    actor.require_admin(CHANGE)
    status = PrinterStatus(status)
    with session.begin():
        printer = _printer(session, printer_id, lock=True)
        if printer.status != status.value:
            activity.record(
                session,
                actor,
                "printer.status_changed",
                "printer",
                printer.id,
                f"Printer {printer.name} is now {status.value.lower()}",
                {"from": printer.status, "to": status.value},
            )
            printer.status = status.value
            events.notify(session, "printer", printer.id, action="status", status=status.value)
            session.flush()
        return _view(printer)
