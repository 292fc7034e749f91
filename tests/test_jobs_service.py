from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest
from sqlalchemy import update

from core.actor import Actor
from core.db.engine import Database
from core.db.models import Printer
from core.enums import JobStatus, PrinterStatus
from core.errors import Conflict
from core.services import invoices, jobs
from core.services.line_items import ItemInput
from tests.factories import item, make_client


def _jobs(database: Database, admin: Actor, n: int) -> list[jobs.JobView]:
    client = make_client(database)
    with database.session() as s:
        for _ in range(n):
            invoices.create_invoice(s, admin, client, [item()])
        return jobs.list_jobs(s)


def _printer_id(database: Database) -> int:
    with database.session() as s:
        return s.query(Printer.id).filter(Printer.name == "Ender 3").scalar()


def test_printing_needs_a_printer_that_is_active_and_free(database: Database, admin: Actor) -> None:
    first, second = _jobs(database, admin, 2)
    printer = _printer_id(database)
    with database.session() as s:
        with pytest.raises(Conflict, match="Assign the job to a printer"):
            jobs.set_status(s, admin, first.id, JobStatus.PRINTING)
        jobs.move_job(s, admin, first.id, printer, 1)
        jobs.move_job(s, admin, second.id, printer, 2)
        with s.begin():
            s.execute(update(Printer).values(status=PrinterStatus.MAINTENANCE.value))
        with pytest.raises(Conflict, match="Ender 3 is maintenance"):
            jobs.set_status(s, admin, first.id, JobStatus.PRINTING)
        with s.begin():
            s.execute(update(Printer).values(status=PrinterStatus.ACTIVE.value))
        printing = jobs.set_status(s, admin, first.id, JobStatus.PRINTING)
        assert printing.status is JobStatus.PRINTING and printing.started_at is not None
        with pytest.raises(Conflict, match="already has 1 job printing"):
            jobs.set_status(s, admin, second.id, JobStatus.PRINTING)
        jobs.set_status(s, admin, first.id, JobStatus.COMPLETED)
        assert jobs.set_status(s, admin, second.id, JobStatus.PRINTING).status is JobStatus.PRINTING
        with pytest.raises(Conflict, match="cannot change any more"):
            jobs.set_status(s, admin, first.id, JobStatus.QUEUED)


def test_move_reorders_the_queue(database: Database, admin: Actor) -> None:
    a, b, c = _jobs(database, admin, 3)
    with database.session() as s:
        assert [j.id for j in jobs.list_jobs(s)] == [a.id, b.id, c.id]
        jobs.move_job(s, admin, c.id, None, 1)
        board = jobs.list_jobs(s)
    assert [(j.id, j.queue_position) for j in board] == [(c.id, 1), (a.id, 2), (b.id, 3)]


def test_stale_board_is_a_conflict(database: Database, admin: Actor) -> None:
    (a,) = _jobs(database, admin, 1)
    with database.session() as s:
        jobs.set_status(s, admin, a.id, JobStatus.PRE_PROCESSING, expected_version=a.version)
        with pytest.raises(Conflict, match="changed elsewhere"):
            jobs.move_job(s, admin, a.id, None, 1, expected_version=a.version)


def _sliced(name: str, printer_id: int, qty: str = "1") -> ItemInput:
    line = item(f"{name} — PLA, 0.2 mm, 20 % infill", qty)
    return replace(line, breakdown={"printer": "any", "printer_id": printer_id})


def test_the_job_names_every_part_and_takes_their_printer(database: Database, admin: Actor) -> None:
    client, ender = make_client(database), _printer_id(database)
    with database.session() as s:
        with s.begin():
            other = Printer(
                name="Prusa MK4",
                cura_definition_id="prusa_i3",
                build_x_mm=Decimal(250),
                build_y_mm=Decimal(210),
                build_z_mm=Decimal(220),
            )
            s.add(other)
            s.flush()
            other_id = other.id
        same = invoices.create_invoice(
            s, admin, client, [_sliced("bracket.stl", ender), _sliced("lid.stl", ender, "2")]
        )
        mixed = invoices.create_invoice(
            s, admin, client, [_sliced("a.stl", ender), _sliced("b.stl", other_id)]
        )
        gone = invoices.create_invoice(s, admin, client, [_sliced("c.stl", 999_999)])
        found = {j.invoice_id: j for j in jobs.list_jobs(s)}
    assert found[same.id].title == f"{same.number} — bracket.stl, 2 × lid.stl"
    assert found[same.id].printer_id == ender and found[same.id].queue_position == 1
    assert found[mixed.id].title == f"{mixed.number} — a.stl, b.stl"
    assert found[mixed.id].printer_id is None  # sliced for two printers: the shop decides
    assert found[gone.id].printer_id is None  # a printer since deleted is not assigned
