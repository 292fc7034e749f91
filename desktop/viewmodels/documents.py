"""The quote and invoice lists: status filter, debounced search, rows paged from SQL."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from PySide6.QtCore import (
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    QTimer,
    Signal,
)

from core.money import format_money
from core.services import invoices, quotes
from desktop.viewmodels.background import Loader
from desktop.viewmodels.context import AppContext
from desktop.viewmodels.paged_table import BackgroundPagedModel, Column, PageSource

Index = QModelIndex | QPersistentModelIndex


# The key a view colours a status with (DRAFT, PAID, OVERDUE, …), on the status column.
STATUS_ROLE = int(Qt.ItemDataRole.UserRole) + 1
DocumentRow = quotes.QuoteSummary | invoices.InvoiceSummary


class DocumentKind(StrEnum):
    QUOTE = "quote"
    INVOICE = "invoice"

    @property
    def label(self) -> str:
        return "Quote" if self is DocumentKind.QUOTE else "Invoice"

    @property
    def plural(self) -> str:
        return "quotes" if self is DocumentKind.QUOTE else "invoices"


STATUS_LABELS: dict[str, str] = {
    "DRAFT": "Draft",
    "PENDING": "Pending",
    "ACCEPTED": "Accepted",
    "DECLINED": "Declined",
    "CONVERTED": "Converted",
    "PAID": "Paid",
    "OVERDUE": "Overdue",
    "VOID": "Void",
    "WRITTEN_OFF": "Written off",
}


def status_label(key: str) -> str:
    return STATUS_LABELS.get(key, key.replace("_", " ").capitalize())


def format_date(day: dt.date | None) -> str:
    return f"{day.day} {day:%b %Y}" if day is not None else "—"


@dataclass(frozen=True)
class StatusFilter:
    key: str | None  # None shows every status
    label: str


QUOTE_FILTERS: tuple[StatusFilter, ...] = (
    StatusFilter(None, "All"),
    StatusFilter("DRAFT", "Draft"),
    StatusFilter("PENDING", "Pending"),
    StatusFilter("ACCEPTED", "Accepted"),
    StatusFilter("DECLINED", "Declined"),
    StatusFilter("CONVERTED", "Converted"),
)
INVOICE_FILTERS: tuple[StatusFilter, ...] = (
    StatusFilter(None, "All"),
    StatusFilter("PENDING", "Pending"),
    StatusFilter("OVERDUE", "Overdue"),
    StatusFilter("PAID", "Paid"),
    StatusFilter("VOID", "Void"),
    StatusFilter("WRITTEN_OFF", "Written off"),
)


def status_key(row: DocumentRow) -> str:
    if isinstance(row, invoices.InvoiceSummary):
        return row.display_status
    return row.status.value


class DocumentTableModel(BackgroundPagedModel[Any]):
    """The paged model, plus a status key for the view's badges and a refresh that keeps place."""

    def __init__(
        self,
        ctx: AppContext,
        columns: Sequence[Column[Any]],
        source: PageSource[Any],
        *,
        status_column: int,
        page_size: int = 200,
    ) -> None:
        super().__init__(ctx, columns, source, page_size=page_size)
        self.status_column = status_column
        self.page_size = page_size

    def refresh_in_place(self) -> None:
        """Read again as many rows as are loaded, so a change elsewhere does not lose the place."""
        self.reload(keep=self.rowCount())

    @property
    def exhausted(self) -> bool:
        return self._exhausted

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role == STATUS_ROLE:
            if not index.isValid() or index.column() != self.status_column:
                return None
            row = self.row_at(index.row())
            return status_key(row) if row is not None else None
        return super().data(index, role)

    def row_of(self, document_id: int) -> int:
        return next((i for i, r in enumerate(self._rows) if r.id == document_id), -1)


def _quote_columns() -> list[Column[Any]]:
    return [
        Column("Number", lambda r: r.number),
        Column("Client", lambda r: r.client_name),
        Column("Issued", lambda r: format_date(r.issue_date)),
        Column("Expires", lambda r: format_date(r.expiry_date)),
        Column("Status", lambda r: status_label(status_key(r))),
        Column("Total", lambda r: format_money(r.total, r.currency), align_right=True),
    ]


def _invoice_columns() -> list[Column[Any]]:
    return [
        Column("Number", lambda r: r.number),
        Column("Client", lambda r: r.client_name),
        Column("Issued", lambda r: format_date(r.issue_date)),
        Column("Due", lambda r: format_date(r.due_date)),
        Column("Status", lambda r: status_label(status_key(r))),
        Column("Total", lambda r: format_money(r.total, r.currency), align_right=True),
        Column("Balance", lambda r: format_money(r.balance_due, r.currency), align_right=True),
    ]


class DocumentListViewModel(QObject):
    """One list of quotes or invoices. Filters run in SQL; pages load as the view scrolls."""

    filter_changed = Signal()
    summary_changed = Signal()
    open_requested = Signal(int)  # a document id
    new_requested = Signal()
    refreshed = Signal()  # after refresh(): an open editor checks its document too
    loading_changed = Signal(bool)
    loaded_changed = Signal()  # the first page of the current filter arrived

    def __init__(
        self,
        ctx: AppContext,
        kind: DocumentKind,
        *,
        page_size: int = 200,
        search_delay_ms: int = 250,
    ) -> None:
        super().__init__()
        self._ctx = ctx
        self.kind = kind
        self._status: str | None = None
        self._text = ""
        self._pending_text = ""
        self._count: int | None = None
        self.filters = QUOTE_FILTERS if kind is DocumentKind.QUOTE else INVOICE_FILTERS
        columns = _quote_columns() if kind is DocumentKind.QUOTE else _invoice_columns()
        self.model = DocumentTableModel(
            ctx, columns, self._source(), status_column=4, page_size=page_size
        )
        self.model.loading_changed.connect(self.loading_changed)
        self.model.modelReset.connect(self.loaded_changed)
        self._counter: Loader[int] = Loader(ctx, self._counted, parent=self)
        self.model.modelReset.connect(self.summary_changed)
        self.model.rowsInserted.connect(self.summary_changed)
        self._search_timer = QTimer(self)
        self._search_timer.setSingleShot(True)
        self._search_timer.setInterval(search_delay_ms)
        self._search_timer.timeout.connect(self.apply_search)

    # -- state
    @property
    def status(self) -> str | None:
        return self._status

    @property
    def search_text(self) -> str:
        return self._text

    @property
    def is_filtered(self) -> bool:
        return self._status is not None or bool(self._text.strip())

    @property
    def loaded(self) -> bool:
        return self.model.loaded_once

    @property
    def loading(self) -> bool:
        """A page or the count is being read."""
        return self.model.loading or self._counter.loading

    @property
    def is_empty(self) -> bool:
        return self.model.loaded_once and self.model.rowCount() == 0

    @property
    def count(self) -> int | None:
        """How many documents match, where the service can count them (invoices)."""
        return self._count

    @property
    def summary(self) -> str:
        label = next((f.label for f in self.filters if f.key == self._status), "")
        what = self.kind.plural if self._status is None else f"{label.lower()} {self.kind.plural}"
        if not self.model.loaded_once:
            return f"Reading {what}…"
        if self._count is not None:
            text = f"{self._count:,} {what}"
        else:
            loaded = self.model.rowCount()
            more = "" if self.model.exhausted else "+"
            text = f"{loaded:,}{more} {what}"
        if self._text.strip():
            text += f" matching “{self._text.strip()}”"
        return text

    def empty_message(self) -> tuple[str, str]:
        """The heading and the hint an empty list shows."""
        if self.is_filtered:
            what = self.kind.plural
            if self._text.strip():
                return f"No {what} match “{self._text.strip()}”", "Try another search or clear it."
            label = next((f.label for f in self.filters if f.key == self._status), "")
            return f"No {label.lower()} {what}", "Choose another status to see more."
        if self.kind is DocumentKind.QUOTE:
            return "No quotes yet", "Make the first one with New quote (Ctrl+N)."
        return "No invoices yet", "Invoices appear here when you make one or convert a quote."

    # -- commands
    def set_filter(self, status: str | None) -> None:
        """Show one status (or OVERDUE, for invoices); None shows them all."""
        if status is not None and all(f.key != status for f in self.filters):
            raise ValueError(f"{status} is not a {self.kind.value} status filter")
        self._status = status
        self._reload()

    def set_search(self, text: str) -> None:
        """Search as the person types; the query runs once they pause."""
        self._pending_text = text
        self._search_timer.start()

    def apply_search(self) -> None:
        self._search_timer.stop()
        if self._pending_text != self._text:
            self._text = self._pending_text
            self._reload()

    def search_now(self, text: str) -> None:
        self._pending_text = text
        self.apply_search()

    def clear_filters(self) -> None:
        self._search_timer.stop()
        self._status, self._text, self._pending_text = None, "", ""
        self._reload()

    def refresh(self) -> None:
        """Read the list again (another counter changed something); the loaded rows stay."""
        self._recount()
        self.model.refresh_in_place()
        self.refreshed.emit()

    def ensure_loaded(self) -> None:
        if not self.model.loaded_once and not self.model.loading:
            self._reload()

    def open_row(self, row: int) -> None:
        found = self.model.row_at(row)
        if found is not None:
            self.open_requested.emit(found.id)

    def new_document(self) -> None:
        self.new_requested.emit()

    # -- reading
    def _reload(self) -> None:
        self._recount()
        self.model.set_source(self._source())
        self.filter_changed.emit()

    def _recount(self) -> None:
        if self.kind is not DocumentKind.INVOICE:
            return
        flt = invoices.InvoiceFilter(status=self._status, text=self._text)
        self._counter.run(lambda s: invoices.count_invoices(s, flt))

    def _counted(self, count: int) -> None:
        self._count = count
        self.summary_changed.emit()

    def _source(self) -> PageSource[Any]:
        status, text = self._status, self._text
        if self.kind is DocumentKind.QUOTE:
            qflt = quotes.QuoteFilter(status=status, text=text)
            return lambda s, offset, limit: list(
                quotes.list_quotes(s, qflt, limit=limit, offset=offset)
            )
        iflt = invoices.InvoiceFilter(status=status, text=text)
        return lambda s, offset, limit: list(
            invoices.list_invoices(s, iflt, limit=limit, offset=offset)
        )


class DocumentRouter(QObject):
    """Opens a quote or invoice on its own screen from anywhere (conversion, client page, …).

    It belongs to the shell, so every screen built from the same shell shares one router.
    """

    open_requested = Signal(str, int)  # DocumentKind value, document id

    def open(self, kind: DocumentKind, document_id: int) -> None:
        self.open_requested.emit(kind.value, document_id)

    @staticmethod
    def of(owner: QObject) -> DocumentRouter:
        found = owner.findChild(DocumentRouter, "documentRouter")
        if found is None:
            found = DocumentRouter(owner)
            found.setObjectName("documentRouter")
        return found
