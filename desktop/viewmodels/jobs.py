"""The jobs board: Unassigned plus a column per printer, cards in queue order, and the moves,
status and priority changes staff make on it.

Every move and status change carries the version of the card it started from. When the
service refuses (a printing rule, a final state, a card moved at another counter) the board is
read again, so what it shows is always what the database says, and the refusal is posted to
the notifier; a card that changed meanwhile is reported as "changed elsewhere".
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from PySide6.QtCore import QObject, Signal
from sqlalchemy.orm import Session

from core.enums import JobPolicy, JobPriority, JobStatus, PrinterStatus
from core.errors import NotFound, ServiceError
from core.services import jobs, printers
from core.services.jobs import JobView
from core.services.printers import PrinterView
from core.services.settings import get_settings
from desktop.viewmodels.background import Loader
from desktop.viewmodels.context import AppContext
from desktop.viewmodels.shell import ShellViewModel

log = logging.getLogger(__name__)

# What a dragged card carries: its job id and the version the board showed.
JOB_MIME_TYPE = "application/x-printdesk-job"

# The order of the original app's workflow, which is the enum's order.
STATUSES: tuple[JobStatus, ...] = tuple(JobStatus)
PRIORITIES: tuple[JobPriority, ...] = tuple(JobPriority)
FINAL = jobs.FINAL

STATUS_LABELS = {
    JobStatus.QUEUED: "Queued",
    JobStatus.PRE_PROCESSING: "Pre-processing",
    JobStatus.IN_QUEUE: "In queue",
    JobStatus.PRINTING: "Printing",
    JobStatus.PAUSED: "Paused",
    JobStatus.PRINTING_COMPLETE: "Printing complete",
    JobStatus.POST_PROCESSING: "Post-processing",
    JobStatus.PACKAGING: "Packaging",
    JobStatus.OUT_FOR_DELIVERY: "Out for delivery",
    JobStatus.COMPLETED: "Completed",
    JobStatus.CANCELLED: "Cancelled",
}
PRIORITY_LABELS = {
    JobPriority.NORMAL: "Normal",
    JobPriority.FAST_TRACK: "Fast track",
    JobPriority.URGENT: "Urgent",
}
PRINTER_STATUS_LABELS = {
    PrinterStatus.ACTIVE: "Active",
    PrinterStatus.MAINTENANCE: "Maintenance",
    PrinterStatus.OFFLINE: "Offline",
}


def encode_payload(job_id: int, version: int) -> bytes:
    return json.dumps({"job_id": job_id, "version": version}).encode()


def decode_payload(data: bytes) -> tuple[int, int] | None:
    """The (job id, version) of a dragged card; None for anything else."""
    try:
        value = json.loads(data.decode())
        job_id, version = value["job_id"], value["version"]
    except (ValueError, KeyError, TypeError, AttributeError):
        return None
    if not isinstance(job_id, int) or not isinstance(version, int):
        return None
    return job_id, version


def _hours(value: Decimal | None) -> str:
    if value is None:
        return ""
    text = f"{value.quantize(Decimal('0.1')):f}"
    return f"{text.removesuffix('.0')} h"


def _when(value: dt.datetime | None) -> str:
    return value.astimezone().strftime("%d %b %Y %H:%M") if value else ""


@dataclass(frozen=True)
class JobCard:
    """One job as the board shows it."""

    id: int
    version: int
    invoice_id: int
    invoice_number: str
    client_name: str
    title: str
    status: JobStatus
    priority: JobPriority
    printer_id: int | None
    queue_position: int
    estimated_hours: Decimal | None
    notes: str
    started_at: dt.datetime | None
    completed_at: dt.datetime | None

    @classmethod
    def of(cls, job: JobView) -> JobCard:
        return cls(
            id=job.id,
            version=job.version,
            invoice_id=job.invoice_id,
            invoice_number=job.invoice_number,
            client_name=job.client_name,
            title=job.title,
            status=job.status,
            priority=job.priority,
            printer_id=job.printer_id,
            queue_position=job.queue_position,
            estimated_hours=job.estimated_hours,
            notes=job.notes or "",
            started_at=job.started_at,
            completed_at=job.completed_at,
        )

    @property
    def is_final(self) -> bool:
        """Completed or cancelled: it stays where it is and its status is settled."""
        return self.status in FINAL

    @property
    def label(self) -> str:
        return self.invoice_number or f"Job {self.id}"

    @property
    def status_text(self) -> str:
        return STATUS_LABELS[self.status]

    @property
    def priority_text(self) -> str:
        return PRIORITY_LABELS[self.priority]

    @property
    def hours_text(self) -> str:
        """Estimated print time, e.g. "2.5 h"; empty when the invoice had no slicing result."""
        return _hours(self.estimated_hours)

    @property
    def started_text(self) -> str:
        return _when(self.started_at)

    @property
    def completed_text(self) -> str:
        return _when(self.completed_at)

    @property
    def payload(self) -> bytes:
        return encode_payload(self.id, self.version)


@dataclass(frozen=True)
class BoardColumn:
    """Unassigned (printer_id None) or one printer's queue."""

    printer_id: int | None
    name: str
    printer_status: PrinterStatus | None
    cards: tuple[JobCard, ...]
    max_printing: int

    @property
    def open_cards(self) -> tuple[JobCard, ...]:
        return tuple(c for c in self.cards if not c.is_final)

    @property
    def printing(self) -> int:
        return sum(1 for c in self.cards if c.status is JobStatus.PRINTING)

    @property
    def status_text(self) -> str:
        return PRINTER_STATUS_LABELS[self.printer_status] if self.printer_status else ""

    @property
    def can_print(self) -> bool:
        return self.printer_status is PrinterStatus.ACTIVE

    @property
    def summary(self) -> str:
        """The line under the column's name: what is printing and what is waiting."""
        count = len(self.open_cards)
        parts = [f"{count} job" if count == 1 else f"{count} jobs"]
        hours = sum((c.estimated_hours or Decimal(0) for c in self.open_cards), Decimal(0))
        if hours:
            parts.append(_hours(hours))
        if self.printer_id is not None:
            parts.insert(0, f"{self.printing} of {self.max_printing} printing")
        return " · ".join(parts)


@dataclass(frozen=True)
class _Board:
    columns: tuple[BoardColumn, ...]
    policy: JobPolicy


class JobsBoardViewModel(QObject):
    """The board's state and the commands on its cards; the view only draws and forwards."""

    board_changed = Signal()  # the columns were read again: redraw them
    selection_changed = Signal()  # another card (or none) is selected: refill the side panel
    # ("invoice", id): emitted before ``shell.show("invoices")``; the app may open it there.
    open_document = Signal(str, int)
    loading_changed = Signal(bool)  # the board is being read
    # A command (move, status, priority) finished: True when it was done, False when refused
    # or failed; either way the board has been read again by then.
    command_done = Signal(bool)

    def __init__(self, ctx: AppContext, shell: ShellViewModel | None = None) -> None:
        super().__init__()
        self._ctx = ctx
        self._shell = shell
        self._columns: tuple[BoardColumn, ...] = ()
        self._policy = JobPolicy.ON_INVOICE
        self._show_finished = False
        self._selected_id: int | None = None
        self._loaded = False
        self._after_board: list[Callable[[], None]] = []
        self._reader: Loader[_Board] = Loader(ctx, self._read_done, parent=self)
        self._reader.loading_changed.connect(self.loading_changed)
        self._working = False
        self._queued: list[Callable[[], object]] = []

    # -- state
    @property
    def columns(self) -> tuple[BoardColumn, ...]:
        return self._columns

    @property
    def loaded(self) -> bool:
        return self._loaded

    @property
    def loading(self) -> bool:
        return self._reader.loading

    @property
    def working(self) -> bool:
        """A command is on its way to the database (its ``command_done`` is still to come)."""
        return self._working

    @property
    def show_finished(self) -> bool:
        return self._show_finished

    @property
    def cards(self) -> list[JobCard]:
        return [card for column in self._columns for card in column.cards]

    @property
    def is_empty(self) -> bool:
        return not any(column.cards for column in self._columns)

    @property
    def empty_text(self) -> str:
        when = "paid" if self._policy is JobPolicy.ON_PAYMENT else "made"
        text = f"No print jobs waiting. A job appears here as soon as an invoice is {when}."
        if not self._show_finished:
            text += (
                "\nCompleted and cancelled jobs are hidden — press “Show completed” to see them."
            )
        return text

    @property
    def summary_text(self) -> str:
        open_cards = [c for c in self.cards if not c.is_final]
        printing = sum(1 for c in open_cards if c.status is JobStatus.PRINTING)
        waiting = sum(1 for c in open_cards if c.printer_id is None)
        if not open_cards:
            return "No open jobs"
        noun = "open job" if len(open_cards) == 1 else "open jobs"
        parts = [f"{len(open_cards)} {noun}", f"{printing} printing"]
        if waiting:
            parts.append(f"{waiting} unassigned")
        return " · ".join(parts)

    @property
    def selected(self) -> JobCard | None:
        return self.card(self._selected_id) if self._selected_id is not None else None

    @property
    def selected_id(self) -> int | None:
        return self._selected_id

    @property
    def statuses(self) -> tuple[JobStatus, ...]:
        return STATUSES

    @property
    def priorities(self) -> tuple[JobPriority, ...]:
        return PRIORITIES

    def card(self, job_id: int) -> JobCard | None:
        return next((c for c in self.cards if c.id == job_id), None)

    def column(self, printer_id: int | None) -> BoardColumn | None:
        return next((c for c in self._columns if c.printer_id == printer_id), None)

    def column_of(self, job_id: int) -> BoardColumn | None:
        return next((c for c in self._columns if any(j.id == job_id for j in c.cards)), None)

    def can_move(self, job_id: int) -> bool:
        card = self.card(job_id)
        return card is not None and not card.is_final

    def accepts(self, job_id: int, printer_id: int | None) -> bool:
        """Whether a card may be dropped on the column of ``printer_id``: any open job on the
        board. What the service then refuses (a printing job leaving its printer) comes back
        as a message, which says more than a drop that is silently not taken."""
        return self.can_move(job_id) and self.column(printer_id) is not None

    # -- commands: reading
    def load(self) -> None:
        """The page is shown: read the board (again)."""
        self.refresh()

    def refresh(self) -> None:
        """Read the board in the background; the selection stays when its job is still there."""
        show_finished = self._show_finished
        self._reader.run(lambda s: _read_board(s, show_finished))

    def _read_done(self, board: _Board) -> None:
        self._columns = board.columns
        self._policy = board.policy
        self._loaded = True
        self.board_changed.emit()
        if self._selected_id is not None and self.card(self._selected_id) is None:
            self._selected_id = None
        self.selection_changed.emit()
        waiting, self._after_board = self._after_board, []
        for then in waiting:
            then()

    def set_show_finished(self, show: bool) -> None:
        if show != self._show_finished:
            self._show_finished = show
            self.refresh()

    def select(self, job_id: int | None) -> None:
        if job_id is not None and self.card(job_id) is None:
            job_id = None
        if job_id != self._selected_id:
            self._selected_id = job_id
            self.selection_changed.emit()

    def select_next(self, rows: int = 0, columns: int = 0) -> None:
        """Keyboard navigation: up/down within a column, left/right to the next non-empty one."""
        filled = [c for c in self._columns if c.cards]
        if not filled:
            return
        current = self.selected
        if current is None:
            self.select(filled[0].cards[0].id)
            return
        here = self.column_of(current.id)
        assert here is not None
        index = next(n for n, c in enumerate(here.cards) if c.id == current.id)
        if rows:
            index = max(0, min(len(here.cards) - 1, index + rows))
            self.select(here.cards[index].id)
            return
        position = filled.index(here) + columns
        if 0 <= position < len(filled):
            target = filled[position]
            self.select(target.cards[min(index, len(target.cards) - 1)].id)

    # -- commands: changing
    def drop(self, payload: bytes, printer_id: int | None, index: int) -> bool:
        """A card was dropped on ``printer_id``'s column before its ``index``-th shown card."""
        decoded = decode_payload(payload)
        if decoded is None:
            return False
        job_id, version = decoded
        return self.move(job_id, version, printer_id, index)

    def move(self, job_id: int, version: int, printer_id: int | None, index: int) -> bool:
        """Put the job before the ``index``-th card shown in the target column (0-based; the
        column's length puts it last). Completed and cancelled cards shown at a column's foot
        are no part of its queue, so only the open cards before the slot count."""
        if self._working:  # one change at a time, each on the board the last left
            self._queued.append(lambda: self.move(job_id, version, printer_id, index))
            return True
        target = self.column(printer_id)
        if target is None:
            self._ctx.notifier.warning("That printer is no longer on the board.")
            self.refresh()
            return False
        before = [c for c in target.cards[: max(index, 0)] if not c.is_final and c.id != job_id]
        position = len(before) + 1
        card = self.card(job_id)
        if (
            card is not None
            and card.version == version
            and card.printer_id == printer_id
            and self._position_in(target, job_id) == position
        ):
            self.select(job_id)
            return True  # dropped where it already was
        self.select(job_id)
        return self._command(
            job_id,
            version,
            lambda s: jobs.move_job(
                s, self._ctx.actor, job_id, printer_id, position, expected_version=version
            ),
        )

    def move_by(self, job_id: int, steps: int) -> bool:
        """Move the job up (negative) or down its queue, e.g. with Ctrl+Up / Ctrl+Down."""
        if self._working:  # one change at a time, each on the board the last left
            self._queued.append(lambda: self.move_by(job_id, steps))
            return True
        card, column = self.card(job_id), self.column_of(job_id)
        if card is None or column is None or card.is_final:
            return False
        open_ids = [c.id for c in column.open_cards]
        here = open_ids.index(job_id)
        there = max(0, min(len(open_ids) - 1, here + steps))
        if there == here:
            return False
        # The slot index counts the shown cards; moving down, the slot is after the neighbour.
        neighbour = open_ids[there]
        slot = next(n for n, c in enumerate(column.cards) if c.id == neighbour)
        return self.move(job_id, card.version, column.printer_id, slot + (1 if steps > 0 else 0))

    def move_to_neighbour(self, job_id: int, steps: int) -> bool:
        """Move the job to the end of the column ``steps`` to the right (negative: left)."""
        if self._working:  # one change at a time, each on the board the last left
            self._queued.append(lambda: self.move_to_neighbour(job_id, steps))
            return True
        column = self.column_of(job_id)
        if column is None:
            return False
        position = self._columns.index(column) + steps
        if not 0 <= position < len(self._columns) or steps == 0:
            return False
        return self.assign(job_id, self._columns[position].printer_id)

    def assign(self, job_id: int, printer_id: int | None) -> bool:
        """Put the job at the end of a printer's queue (None: back to Unassigned)."""
        if self._working:  # one change at a time, each on the board the last left
            self._queued.append(lambda: self.assign(job_id, printer_id))
            return True
        card, target = self.card(job_id), self.column(printer_id)
        if card is None or target is None:
            return False
        if card.printer_id == printer_id:
            return True
        return self.move(job_id, card.version, printer_id, len(target.cards))

    def set_status(self, job_id: int, status: JobStatus) -> bool:
        if self._working:  # one change at a time, each on the board the last left
            self._queued.append(lambda: self.set_status(job_id, status))
            return True
        card = self.card(job_id)
        if card is None:
            return False
        if card.status is status:
            return True
        self.select(job_id)
        version = card.version
        return self._command(
            job_id,
            version,
            lambda s: jobs.set_status(s, self._ctx.actor, job_id, status, expected_version=version),
        )

    def set_priority(self, job_id: int, priority: JobPriority) -> bool:
        if self._working:  # one change at a time, each on the board the last left
            self._queued.append(lambda: self.set_priority(job_id, priority))
            return True
        card = self.card(job_id)
        if card is None:
            return False
        if card.priority is priority:
            return True
        self.select(job_id)

        def change(s: Session) -> object:
            # The service takes no version for a priority; check it here so a stale card is
            # reported the same way as a stale move.
            current = jobs.get_job_for_invoice(s, card.invoice_id)
            if current is not None and current.version != card.version:
                raise _Stale()
            return jobs.set_priority(s, self._ctx.actor, job_id, priority)

        return self._command(job_id, card.version, change)

    def open_invoice(self, job_id: int) -> None:
        """Go to the job's invoice: ``open_document`` first, then the invoices screen."""
        card = self.card(job_id)
        if card is None:
            return
        self.open_document.emit("invoice", card.invoice_id)
        if self._shell is not None:
            self._shell.show("invoices")

    # -- internals
    def _position_in(self, column: BoardColumn, job_id: int) -> int | None:
        ids = [c.id for c in column.open_cards]
        return ids.index(job_id) + 1 if job_id in ids else None

    def _command(self, job_id: int, version: int, action: Callable[[Session], object]) -> bool:
        """Run one service call in the background; whatever happens, the board is read again
        afterwards and ``command_done`` tells how it went. Returns True: the call started."""
        label = self._label(job_id)

        def finish(ok: bool, message: Callable[[], str] | None = None) -> None:
            def after_board() -> None:
                self._working = False
                if message is not None:
                    self._ctx.notifier.warning(message())
                self.command_done.emit(ok)
                if self._queued and not self._working:
                    self._queued.pop(0)()

            self._after_board.append(after_board)
            self.refresh()

        def failed(exc: BaseException) -> bool:
            runner.deleteLater()
            if isinstance(exc, ServiceError | _Stale):
                finish(False, lambda: self._refusal(exc, job_id, version, label))
                return True
            finish(False)
            return False  # reported as an error with details

        def done(_result: object) -> None:
            runner.deleteLater()
            finish(True)

        runner: Loader[object] = Loader(self._ctx, done, on_failed=failed, parent=self)
        self._working = True
        runner.run(action)
        return True

    def _refusal(self, exc: Exception, job_id: int, version: int, label: str) -> str:
        fresh = self.card(job_id)
        if isinstance(exc, NotFound):
            return f"{label} is no longer on the board; it was changed elsewhere."
        if isinstance(exc, _Stale) or (fresh is not None and fresh.version != version):
            return (
                f"{label} was changed elsewhere — the board has been reloaded; "
                "check it and try again."
            )
        return str(exc)

    def _label(self, job_id: int) -> str:
        card = self.card(job_id)
        return card.label if card else f"Job {job_id}"


class _Stale(Exception):
    """The card the person acted on is older than the job in the database."""


def _read_board(session: Session, show_finished: bool) -> _Board:
    """Printers, jobs (with their invoice and client), settings: three statements."""
    printer_list = printers.list_printers(session, include_inactive=True)
    job_list = jobs.list_jobs(session, include_final=show_finished)
    shop, _version = get_settings(session)
    return _Board(
        _columns(printer_list, job_list, shop.max_active_printing_per_printer),
        shop.job_creation_policy,
    )


def _columns(
    printer_list: list[PrinterView], job_list: list[JobView], max_printing: int
) -> tuple[BoardColumn, ...]:
    """Unassigned first, then the printers by name; open cards in queue order, then the
    completed and cancelled ones, newest first."""
    by_printer: dict[int | None, list[JobCard]] = {None: []}
    for printer in printer_list:
        by_printer[printer.id] = []
    for job in job_list:
        by_printer.setdefault(job.printer_id, []).append(JobCard.of(job))

    def ordered(cards: list[JobCard]) -> tuple[JobCard, ...]:
        open_cards = sorted(
            (c for c in cards if not c.is_final), key=lambda c: (c.queue_position, c.id)
        )
        final = sorted((c for c in cards if c.is_final), key=lambda c: c.id, reverse=True)
        return (*open_cards, *final)

    known = {p.id: p for p in printer_list}
    columns = [BoardColumn(None, "Unassigned", None, ordered(by_printer.pop(None)), max_printing)]
    for printer_id, cards in by_printer.items():
        found = known.get(printer_id) if printer_id is not None else None
        columns.append(
            BoardColumn(
                printer_id,
                found.name if found else f"Printer {printer_id}",
                found.status if found else PrinterStatus.OFFLINE,
                ordered(cards),
                max_printing,
            )
        )
    return tuple(columns)
