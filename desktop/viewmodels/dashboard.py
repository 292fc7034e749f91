"""The dashboard's figures: money owed, overdue and received, quotes waiting, jobs on the floor.

Every figure knows the list behind it. Opening one emits ``open_list(screen, filter)`` *before*
the shell switches screen, so the app can pre-set that list's filter and the list loads once,
already filtered, when its page is activated.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import QObject, Signal

from core.enums import JobStatus
from core.money import ZERO, format_money
from core.services import dashboard as dashboard_service
from core.services.dashboard import Dashboard, DashboardScreen, Figure
from core.services.invoices import OVERDUE
from desktop.viewmodels.background import Loader
from desktop.viewmodels.context import AppContext
from desktop.viewmodels.shell import ShellViewModel

# The open stages of a job, in the order a print moves through the shop.
JOB_STAGES: tuple[tuple[JobStatus, str], ...] = (
    (JobStatus.QUEUED, "Queued"),
    (JobStatus.PRE_PROCESSING, "Pre-processing"),
    (JobStatus.IN_QUEUE, "In printer queue"),
    (JobStatus.PRINTING, "Printing"),
    (JobStatus.PAUSED, "Paused"),
    (JobStatus.PRINTING_COMPLETE, "Print complete"),
    (JobStatus.POST_PROCESSING, "Post-processing"),
    (JobStatus.PACKAGING, "Packaging"),
    (JobStatus.OUT_FOR_DELIVERY, "Out for delivery"),
)
OVERDUE_SHOWN = 8
ACTIVITY_SHOWN = 14
EMPTY_SHOP = "No invoices yet — create one from Quotes or Invoices."


@dataclass(frozen=True)
class FigureCard:
    """One clickable figure: what it is, its value, and the list that explains it."""

    key: str
    title: str
    value: str
    caption: str
    hint: str
    alarm: bool
    screen: str
    filter: str


@dataclass(frozen=True)
class JobStage:
    status: str
    label: str
    count: int


@dataclass(frozen=True)
class ActivityLine:
    when: str
    who: str
    message: str


@dataclass(frozen=True)
class OverdueInvoice:
    invoice_id: int
    number: str
    client_name: str
    days_late: int
    balance: str


def _plural(count: int, one: str, many: str | None = None) -> str:
    return f"{count} {one if count == 1 else (many or one + 's')}"


class DashboardViewModel(QObject):
    changed = Signal()
    loading_changed = Signal(bool)
    # (screen key, filter): emitted just before ``shell.show(screen)``. Filters used:
    #   "invoices": "PENDING" (outstanding), "OVERDUE", "PAID" (received this week)
    #   "quotes":   "PENDING" (awaiting an answer)
    #   "jobs":     "" (the whole board)
    open_list = Signal(str, str)
    # ("invoice", id): a particular record was asked for (an overdue invoice's row).
    open_document = Signal(str, int)

    def __init__(
        self,
        ctx: AppContext,
        shell: ShellViewModel,
        *,
        today: Callable[[], dt.date] = dt.date.today,
    ) -> None:
        super().__init__()
        self._ctx = ctx
        self._shell = shell
        self._today = today
        self._board: Dashboard | None = None
        self._has_invoices = False
        self._overdue: list[OverdueInvoice] = []
        self._activity: list[ActivityLine] = []
        self._loader: Loader[DashboardScreen] = Loader(ctx, self._loaded, parent=self)
        self._loader.loading_changed.connect(self.loading_changed)

    # -- commands
    def refresh(self) -> None:
        """Read every figure again in the background (when shown and on live updates)."""
        today = self._today()
        self._loader.run(
            lambda s: dashboard_service.load_screen(
                s, today=today, overdue_shown=OVERDUE_SHOWN, activity_shown=ACTIVITY_SHOWN
            )
        )

    def open(self, key: str) -> None:
        """Open the list behind the figure ``key`` (see ``cards`` and ``"jobs"``)."""
        card = self.card(key)
        self.open_list.emit(card.screen, card.filter)
        self._shell.show(card.screen)

    def go(self, screen: str) -> None:
        """Switch to a screen with no filter (the new shop's "start here" links)."""
        self.open_list.emit(screen, "")
        self._shell.show(screen)

    def open_invoice(self, invoice_id: int) -> None:
        self.open_list.emit("invoices", OVERDUE)
        self.open_document.emit("invoice", invoice_id)
        self._shell.show("invoices")

    # -- state
    @property
    def loading(self) -> bool:
        return self._loader.loading

    @property
    def loaded(self) -> bool:
        return self._board is not None

    @property
    def shop_name(self) -> str:
        return self._board.shop_name if self._board else ""

    @property
    def currency(self) -> str:
        return self._board.currency if self._board else "AUD"

    @property
    def is_new_shop(self) -> bool:
        """No invoice has ever been made: the page shows how to start instead of zeros alone."""
        return self.loaded and not self._has_invoices

    @property
    def empty_message(self) -> str:
        return EMPTY_SHOP

    @property
    def cards(self) -> list[FigureCard]:
        return [self.card(key) for key in ("outstanding", "overdue", "received", "quotes")]

    def card(self, key: str) -> FigureCard:
        board = self._board
        zero = Figure(ZERO, 0)
        money = self._money
        if key == "outstanding":
            fig = board.outstanding if board else zero
            return FigureCard(
                key,
                "Money outstanding",
                money(fig),
                f"{_plural(fig.count, 'invoice')} waiting for payment",
                "Open unpaid invoices",
                False,
                "invoices",
                "PENDING",
            )
        if key == "overdue":
            fig = board.overdue if board else zero
            return FigureCard(
                key,
                "Overdue",
                money(fig),
                f"{_plural(fig.count, 'invoice')} past due" if fig.count else "Nothing past due",
                "Open overdue invoices",
                fig.count > 0,
                "invoices",
                OVERDUE,
            )
        if key == "received":
            fig = board.received_this_week if board else zero
            return FigureCard(
                key,
                "Received this week",
                money(fig),
                f"{_plural(fig.count, 'payment')} since Monday",
                "Open paid invoices",
                False,
                "invoices",
                "PAID",
            )
        if key == "quotes":
            fig = board.quotes_awaiting if board else zero
            return FigureCard(
                key,
                "Quotes awaiting an answer",
                money(fig),
                f"{_plural(fig.count, 'quote')} sent, not yet answered",
                "Open sent quotes",
                False,
                "quotes",
                "PENDING",
            )
        if key == "jobs":
            total = self.jobs_open
            printing = board.jobs_by_status.get(JobStatus.PRINTING, 0) if board else 0
            return FigureCard(
                key,
                "Jobs in progress",
                str(total),
                f"{printing} printing now" if total else "No jobs on the floor",
                "Open the jobs board",
                False,
                "jobs",
                "",
            )
        raise KeyError(key)

    @property
    def jobs(self) -> list[JobStage]:
        counts = self._board.jobs_by_status if self._board else {}
        return [JobStage(s.value, label, counts.get(s, 0)) for s, label in JOB_STAGES]

    @property
    def jobs_open(self) -> int:
        return sum(self._board.jobs_by_status.values()) if self._board else 0

    @property
    def overdue_invoices(self) -> list[OverdueInvoice]:
        """The longest-overdue invoices, most days late first (at most ``OVERDUE_SHOWN``)."""
        return list(self._overdue)

    @property
    def overdue_not_shown(self) -> int:
        count = self._board.overdue.count if self._board else 0
        return max(count - len(self._overdue), 0)

    @property
    def recent_activity(self) -> list[ActivityLine]:
        """What happened lately at every counter, newest first."""
        return list(self._activity)

    # -- loading
    def _when(self, moment: dt.datetime) -> str:
        local = moment.astimezone()
        days = (self._today() - local.date()).days
        if days == 0:
            return f"{local:%H:%M}"
        if days == 1:
            return f"Yesterday {local:%H:%M}"
        return f"{local.day} {local:%b}"

    def _money(self, figure: Figure) -> str:
        return format_money(figure.amount, self.currency)

    def _loaded(self, screen: DashboardScreen) -> None:
        today = self._today()
        self._board = screen.board
        self._has_invoices = screen.board.has_invoices
        self._overdue = [
            OverdueInvoice(
                inv.id,
                inv.number,
                inv.client_name,
                (today - inv.due_date).days if inv.due_date else 0,
                format_money(inv.balance_due, inv.currency),
            )
            for inv in screen.most_overdue
        ]
        self._activity = [
            ActivityLine(self._when(e.created_at), e.actor_label, e.message)
            for e in screen.activity
        ]
        self.changed.emit()
