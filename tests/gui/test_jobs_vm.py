"""The jobs board's view model, driven without a single widget, against a real database."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from functools import partial

import pytest
from pytestqt.qtbot import QtBot

from core.actor import Actor
from core.db.engine import Database
from core.enums import JobPolicy, JobPriority, JobStatus, PrinterStatus
from core.services import invoices, jobs, printers, settings
from core.services.line_items import ItemInput
from core.services.printers import PrinterInput
from desktop.viewmodels.context import AppContext
from desktop.viewmodels.jobs import (
    JobsBoardViewModel,
    decode_payload,
    encode_payload,
)
from desktop.viewmodels.notifier import Level, Notice, Notifier
from tests.factories import make_client
from tests.gui.sql_watch import GuiThreadSql, counting
from workers.tasks import TaskRunner

pytestmark = pytest.mark.no_gui_thread_sql


def board_for(
    qtbot: QtBot, database: Database, actor: Actor
) -> tuple[JobsBoardViewModel, list[Notice]]:
    notifier = Notifier()
    notices: list[Notice] = []
    notifier.posted.connect(notices.append)
    vm = JobsBoardViewModel(AppContext(database, actor, notifier, TaskRunner()))
    with qtbot.waitSignal(vm.board_changed):
        vm.load()
    return vm, notices


def done(qtbot: QtBot, vm: JobsBoardViewModel, command: Callable[[], bool]) -> bool:
    """Run a board command and wait for its outcome (it goes to the database in the background)."""
    outcome: list[bool] = []

    def told(ok: bool) -> None:
        outcome.append(ok)

    vm.command_done.connect(told)
    try:
        if not command():
            return False  # refused before asking the database
        if not vm.working and not outcome:
            return True  # nothing to change (dropped where it already was)
        qtbot.waitUntil(lambda: bool(outcome))
        return outcome[0]
    finally:
        vm.command_done.disconnect(told)


def make_jobs(database: Database, admin: Actor, *clients: str) -> list[int]:
    """One invoice (and so, under ON_INVOICE, one job) per client name, in that order."""
    made = []
    with database.session() as s:
        for n, name in enumerate(clients):
            client = make_client(database, name, f"c{n}@example.com")
            part = ItemInput(
                f"Part for {name}",
                Decimal(1),
                Decimal("50.00"),
                breakdown={"print_seconds": 5400 * (n + 1)},
            )
            invoice = invoices.create_invoice(s, admin, client, [part])
            job = jobs.get_job_for_invoice(s, invoice.id)
            assert job is not None
            made.append(job.id)
    return made


def printer_ids(database: Database, admin: Actor) -> dict[str, int]:
    with database.session() as s:
        ender = printers.list_printers(s, include_inactive=True)[0]
        prusa = printers.create_printer(
            s,
            admin,
            PrinterInput("Prusa MK4", "prusa_mk4", Decimal(250), Decimal(210), Decimal(220)),
        )
    return {"Ender 3": ender.id, "Prusa MK4": prusa.id}


def stored(database: Database) -> dict[int, tuple[int | None, int, JobStatus, JobPriority]]:
    with database.session() as s:
        return {
            j.id: (j.printer_id, j.queue_position, j.status, j.priority)
            for j in jobs.list_jobs(s, include_final=True)
        }


def queue(database: Database, printer_id: int | None) -> list[int]:
    with database.session() as s:
        return [j.id for j in jobs.list_jobs(s) if j.printer_id == printer_id]


def shown(vm: JobsBoardViewModel, printer_id: int | None) -> list[int]:
    column = vm.column(printer_id)
    assert column is not None
    return [c.id for c in column.cards]


def test_the_board_has_unassigned_then_a_column_per_printer_in_queue_order(
    qtbot: QtBot, database: Database, admin: Actor
) -> None:
    ids = printer_ids(database, admin)
    a, b, c, d = make_jobs(database, admin, "Ada", "Bea", "Cy", "Dee")
    with database.session() as s:
        jobs.move_job(s, admin, c, ids["Prusa MK4"], 1)
        jobs.move_job(s, admin, a, ids["Prusa MK4"], 1)
        printers.set_printer_status(s, admin, ids["Ender 3"], PrinterStatus.MAINTENANCE)
    vm, notices = board_for(qtbot, database, admin)

    assert [c.name for c in vm.columns] == ["Unassigned", "Ender 3", "Prusa MK4"]
    assert shown(vm, None) == [b, d]
    assert shown(vm, ids["Prusa MK4"]) == [a, c]
    assert shown(vm, ids["Ender 3"]) == []
    ender, prusa = vm.columns[1], vm.columns[2]
    assert ender.printer_status is PrinterStatus.MAINTENANCE and not ender.can_print
    assert ender.status_text == "Maintenance"
    assert prusa.summary == "0 of 1 printing · 2 jobs · 6 h"  # 1.5 h + 4.5 h
    card = vm.card(a)
    assert card is not None
    assert (card.client_name, card.status_text, card.hours_text) == ("Ada", "Queued", "1.5 h")
    assert card.invoice_number.startswith("INV-")
    assert vm.summary_text == "4 open jobs · 0 printing · 2 unassigned"
    assert notices == []


def test_a_drop_puts_the_job_at_the_slot_it_was_dropped_on(
    qtbot: QtBot, database: Database, admin: Actor
) -> None:
    ids = printer_ids(database, admin)
    prusa = ids["Prusa MK4"]
    a, b, c, d = make_jobs(database, admin, "Ada", "Bea", "Cy", "Dee")
    with database.session() as s:
        jobs.move_job(s, admin, d, prusa, 1)
    vm, notices = board_for(qtbot, database, admin)

    # Onto the printer, before its first card.
    card = vm.card(b)
    assert card is not None
    assert done(qtbot, vm, partial(vm.drop, card.payload, prusa, 0))
    assert queue(database, prusa) == [b, d]
    assert queue(database, None) == [a, c]
    assert shown(vm, prusa) == [b, d]  # the board was read again

    # Within a column: the slot after the last card puts it last.
    card = vm.card(a)
    assert card is not None
    assert done(qtbot, vm, partial(vm.move, a, card.version, None, 2))
    assert queue(database, None) == [c, a]
    # Dropping a card where it already is changes nothing (and asks nothing).
    card = vm.card(c)
    assert card is not None
    assert done(qtbot, vm, partial(vm.move, c, card.version, None, 0))
    assert done(qtbot, vm, partial(vm.move, c, card.version, None, 1))
    assert queue(database, None) == [c, a]
    assert notices == []
    assert decode_payload(encode_payload(7, 3)) == (7, 3)
    assert decode_payload(b"not a card") is None
    assert not done(qtbot, vm, lambda: vm.drop(b'{"job_id": "x"}', prusa, 0))


def test_printing_needs_an_active_printer_with_a_free_slot(
    qtbot: QtBot, database: Database, admin: Actor, staff: Actor
) -> None:
    ids = printer_ids(database, admin)
    ender, prusa = ids["Ender 3"], ids["Prusa MK4"]
    a, b, c = make_jobs(database, admin, "Ada", "Bea", "Cy")
    with database.session() as s:
        jobs.move_job(s, admin, a, ender, 1)
        jobs.move_job(s, admin, b, prusa, 1)
        jobs.move_job(s, admin, c, prusa, 2)
        printers.set_printer_status(s, admin, ender, PrinterStatus.MAINTENANCE)
    vm, notices = board_for(qtbot, database, staff)  # staff run the board too
    before = stored(database)

    assert not done(qtbot, vm, lambda: vm.set_status(a, JobStatus.PRINTING))
    assert notices[-1] == Notice(Level.WARNING, "Ender 3 is maintenance; it cannot print now.")
    assert stored(database) == before
    card = vm.card(a)
    assert card is not None and card.status is JobStatus.QUEUED

    assert done(qtbot, vm, lambda: vm.set_status(b, JobStatus.PRINTING))
    assert not done(qtbot, vm, lambda: vm.set_status(c, JobStatus.PRINTING))
    assert "already has 1 job(s) printing" in notices[-1].text
    assert stored(database)[c][2] is JobStatus.QUEUED
    column = vm.column(prusa)
    assert column is not None and column.printing == 1

    # A printing job stays on its printer; the service says so and the board stays.
    assert vm.accepts(b, None)
    card = vm.card(b)
    assert card is not None
    assert not done(qtbot, vm, partial(vm.move, b, card.version, None, 0))
    assert "cannot move to another printer" in notices[-1].text
    assert stored(database)[b][0] == prusa

    # Unassigned jobs cannot print at all.
    (d,) = make_jobs(database, admin, "Dee")
    with qtbot.waitSignal(vm.board_changed):
        vm.refresh()
    assert not done(qtbot, vm, lambda: vm.set_status(d, JobStatus.PRINTING))
    assert notices[-1].text == "Assign the job to a printer before it starts printing."


def test_final_jobs_stay_put_and_are_hidden_until_asked_for(
    qtbot: QtBot, database: Database, admin: Actor
) -> None:
    a, b = make_jobs(database, admin, "Ada", "Bea")
    vm, notices = board_for(qtbot, database, admin)
    assert done(qtbot, vm, lambda: vm.set_status(a, JobStatus.CANCELLED))
    assert shown(vm, None) == [b]

    with qtbot.waitSignal(vm.board_changed):
        vm.set_show_finished(True)
    assert shown(vm, None) == [b, a]  # open cards first, then the finished ones
    card = vm.card(a)
    assert card is not None and card.is_final
    assert not vm.can_move(a) and not vm.accepts(a, None)
    assert not done(qtbot, vm, lambda: vm.set_status(a, JobStatus.QUEUED))
    assert notices[-1].text == "The job is cancelled; it cannot change any more."
    # A drop among finished cards lands after the last open one.
    card_b = vm.card(b)
    assert card_b is not None
    assert done(qtbot, vm, partial(vm.move, b, card_b.version, None, 2))
    assert queue(database, None) == [b]


def test_a_card_moved_at_another_counter_is_reported_and_the_board_reloads(
    qtbot: QtBot, database: Database, admin: Actor
) -> None:
    ids = printer_ids(database, admin)
    a, b = make_jobs(database, admin, "Ada", "Bea")
    vm, notices = board_for(qtbot, database, admin)
    stale = vm.card(a)
    assert stale is not None

    with database.session() as s:  # the other counter
        jobs.move_job(s, admin, a, ids["Prusa MK4"], 1)

    assert not done(qtbot, vm, partial(vm.move, a, stale.version, None, 2))
    assert notices[-1].level is Level.WARNING
    assert "changed elsewhere" in notices[-1].text
    assert stale.invoice_number in notices[-1].text
    assert shown(vm, ids["Prusa MK4"]) == [a]  # the board shows the database
    assert stored(database)[a][0] == ids["Prusa MK4"]

    # A status or a priority from a stale card is refused the same way.
    with database.session() as s:
        jobs.set_status(s, admin, b, JobStatus.PRE_PROCESSING)
    assert not done(qtbot, vm, lambda: vm.set_status(b, JobStatus.PACKAGING))
    assert "changed elsewhere" in notices[-1].text
    assert stored(database)[b][2] is JobStatus.PRE_PROCESSING
    with database.session() as s:
        jobs.set_status(s, admin, b, JobStatus.IN_QUEUE)
    assert not done(qtbot, vm, lambda: vm.set_priority(b, JobPriority.URGENT))
    assert "changed elsewhere" in notices[-1].text
    assert stored(database)[b][2:] == (JobStatus.IN_QUEUE, JobPriority.NORMAL)
    card = vm.card(b)
    assert card is not None and card.status is JobStatus.IN_QUEUE


def test_priority_and_keyboard_moves(qtbot: QtBot, database: Database, admin: Actor) -> None:
    ids = printer_ids(database, admin)
    a, b, c = make_jobs(database, admin, "Ada", "Bea", "Cy")
    vm, notices = board_for(qtbot, database, admin)

    assert done(qtbot, vm, lambda: vm.set_priority(b, JobPriority.URGENT))
    assert stored(database)[b][3] is JobPriority.URGENT
    card = vm.card(b)
    assert card is not None and card.priority_text == "Urgent"

    assert done(qtbot, vm, lambda: vm.move_by(c, -1))  # Ctrl+Up
    assert queue(database, None) == [a, c, b]
    assert done(qtbot, vm, lambda: vm.move_by(a, 1))  # Ctrl+Down
    assert queue(database, None) == [c, a, b]
    assert not done(qtbot, vm, lambda: vm.move_by(c, -1))  # already first
    assert done(
        qtbot, vm, lambda: vm.move_to_neighbour(a, 1)
    )  # Ctrl+Right: the next column, at its end
    assert queue(database, ids["Ender 3"]) == [a]
    assert done(qtbot, vm, lambda: vm.assign(b, ids["Prusa MK4"]))
    assert queue(database, ids["Prusa MK4"]) == [b]
    assert done(qtbot, vm, lambda: vm.move_to_neighbour(b, -2))  # back to Unassigned, last
    assert queue(database, None) == [c, b]
    assert notices == []

    vm.select(c)
    vm.select_next(rows=1)
    assert vm.selected_id == b
    vm.select_next(columns=1)
    assert vm.selected_id == a


def test_an_empty_board_says_when_jobs_appear(
    qtbot: QtBot, database: Database, admin: Actor
) -> None:
    vm, _ = board_for(qtbot, database, admin)
    assert vm.is_empty
    assert "as soon as an invoice is made" in vm.empty_text
    with database.session() as s:
        settings.update_settings(s, admin, {"job_creation_policy": JobPolicy.ON_PAYMENT.value})
    with qtbot.waitSignal(vm.board_changed):
        vm.refresh()
    assert "as soon as an invoice is paid" in vm.empty_text
    assert vm.summary_text == "No open jobs"


@pytest.mark.parametrize("index", [0, 1])
def test_refresh_keeps_the_selection_while_its_job_is_on_the_board(
    qtbot: QtBot, database: Database, admin: Actor, index: int
) -> None:
    made = make_jobs(database, admin, "Ada", "Bea")
    vm, _ = board_for(qtbot, database, admin)
    vm.select(made[index])
    with qtbot.waitSignal(vm.board_changed):
        vm.refresh()
    assert vm.selected_id == made[index]
    with database.session() as s:
        jobs.set_status(s, admin, made[index], JobStatus.COMPLETED)
    with qtbot.waitSignal(vm.board_changed):
        vm.refresh()
    assert vm.selected is None


def test_the_board_reads_in_three_statements_off_the_gui_thread(
    qtbot: QtBot, database: Database, admin: Actor, gui_thread_sql: GuiThreadSql
) -> None:
    ids = printer_ids(database, admin)
    a, b, c, _d = make_jobs(database, admin, "Ada", "Grace", "Hedy", "Katherine")
    with database.session() as s:
        jobs.move_job(s, admin, a, ids["Prusa MK4"], 1)
    with counting(database.engine) as statements:
        vm, notices = board_for(qtbot, database, admin)
    assert len(statements) == 3, (
        statements
    )  # printers, jobs with their invoice and client, settings
    assert shown(vm, ids["Prusa MK4"]) == [a] and shown(vm, None) == [b, c, _d]
    assert done(qtbot, vm, lambda: vm.move_by(c, -1))
    assert gui_thread_sql.statements == [] and notices == []
