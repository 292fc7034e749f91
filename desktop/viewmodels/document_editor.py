"""The quote and invoice editor: line items, terms and totals as typed, saving and state actions.

Totals are computed with ``core.money`` exactly as the services compute them, so what the
counter shows while typing is what will be saved. A save that the services refuse leaves every
typed value in place; a save refused because another counter changed the document first shows
"changed elsewhere" and offers a reload instead of overwriting.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from decimal import Decimal
from enum import IntEnum
from typing import Any, TypeVar

from PySide6.QtCore import (
    QAbstractListModel,
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QColor, QIcon, QPixmap
from sqlalchemy.orm import Session

from core.enums import DiscountType, InvoiceStatus, QuoteStatus
from core.errors import Conflict, NotFound, ServiceError
from core.money import (
    ZERO,
    DocumentTotals,
    MoneyError,
    document_totals,
    format_money,
    line_total,
    parse_money,
    to_decimal,
)
from core.services import clients, editor_reads, invoices, quotes
from core.services import settings as shop_settings
from core.services.attachments import AttachmentView
from core.services.invoices import InvoiceView, PaymentView, RefundView, display_status_of
from core.services.line_items import MAX_QUANTITY, DocumentTerms, ItemInput, ItemView
from core.services.quotes import QuoteView
from core.shop_settings import ShopSettings
from desktop.viewmodels.background import Loader
from desktop.viewmodels.context import AppContext
from desktop.viewmodels.documents import DocumentKind, format_date, status_label
from desktop.viewmodels.invoice_delivery import DeliveryServices, InvoiceDeliveryViewModel
from desktop.viewmodels.payment import PaymentViewModel
from workers.thumbnails import ThumbnailService

log = logging.getLogger(__name__)
T = TypeVar("T")
Index = QModelIndex | QPersistentModelIndex
DocumentView = QuoteView | InvoiceView
MAX_DESCRIPTION = 2000


@dataclass(frozen=True)
class _Opened:
    """What opening reads in one session: the shop's terms and the document (or client)."""

    shop: ShopSettings
    view: DocumentView | None = None
    client: clients.ClientView | None = None
    rows: list[AttachmentView] | None = None  # an invoice's attachments, read with it


class _SaveConflict(Exception):
    """A save refused as a conflict, with what the database holds now (None: deleted)."""

    def __init__(self, conflict: Conflict, current: DocumentView | None, gone: bool) -> None:
        super().__init__(str(conflict))
        self.conflict, self.current, self.gone = conflict, current, gone


def _first_lower(text: str) -> str:
    return text[:1].lower() + text[1:]


def plain_number(value: Decimal) -> str:
    """2.000 → "2", 12.50 → "12.50": quantities without trailing zeros, money as cents."""
    text = format(value.normalize(), "f")
    return text


def money_text(value: Decimal) -> str:
    return f"{value:.2f}"


# -- line items -------------------------------------------------------------------------------


class LineColumn(IntEnum):
    DESCRIPTION = 0
    QUANTITY = 1
    UNIT_PRICE = 2
    DISCOUNT = 3
    TOTAL = 4


LINE_HEADERS = {
    LineColumn.DESCRIPTION: "Description",
    LineColumn.QUANTITY: "Qty",
    LineColumn.UNIT_PRICE: "Unit price",
    LineColumn.DISCOUNT: "Discount",
    LineColumn.TOTAL: "Line total",
}
LINE_TIPS = {
    LineColumn.DISCOUNT: "Type 10% for a percentage off the line, or 5.00 for an amount off it.",
}


@dataclass
class Line:
    """One line as typed: text, so a half-typed or wrong value is kept as it is."""

    description: str = ""
    quantity: str = "1"
    unit_price: str = ""
    discount: str = ""
    breakdown: dict[str, Any] = field(default_factory=dict)
    order_file_id: int | None = None
    touched: bool = False

    @classmethod
    def of(cls, item: ItemView) -> Line:
        if item.discount_type is DiscountType.PERCENT:
            discount = f"{plain_number(item.discount_value)}%"
        elif item.discount_type is DiscountType.FIXED:
            discount = money_text(item.discount_value)
        else:
            discount = ""
        return cls(
            description=item.description,
            quantity=plain_number(item.quantity),
            unit_price=money_text(item.unit_price),
            discount=discount,
            breakdown=dict(item.breakdown),
            order_file_id=item.order_file_id,
        )


ESTIMATE_BADGE = "Estimate — not sliced"
ESTIMATE_WHY = "no slicer ran; the price comes from the part's shape."
#: The description cell's badge text ("" for none); the view paints it as a label on the line.
ESTIMATE_ROLE = Qt.ItemDataRole.UserRole + 1


def is_estimate(line: Line) -> bool:
    """Priced from the part's shape with no slicer, at that price still (not typed over)."""
    if line.breakdown.get("estimated") is not True:
        return False
    priced = line.breakdown.get("unit_price")
    if not isinstance(priced, str):
        return True
    try:
        return parse_money(line.unit_price, "unit price") == parse_money(priced, "unit price")
    except MoneyError:
        return True


def estimates_text(count: int) -> str:
    """ "2 lines are estimates, not slices" (or "" for none)."""
    if not count:
        return ""
    return (
        "1 line is an estimate, not a slice"
        if count == 1
        else (f"{count} lines are estimates, not slices")
    )


@dataclass(frozen=True)
class CheckedLine:
    item: ItemInput | None
    total: Decimal | None
    problem: str | None
    column: LineColumn | None  # where the problem is


def parse_discount(text: str, what: str) -> tuple[DiscountType, Decimal]:
    """ "" → none, "10%" → 10 percent, "5" or "$5.00" → 5.00 off."""
    cleaned = text.strip()
    if not cleaned:
        return DiscountType.NONE, ZERO
    if cleaned.endswith("%"):
        value = to_decimal(cleaned[:-1].strip(), what)
        if value < 0:
            raise MoneyError(f"The {what} cannot be negative.")
        if value > 100:
            raise MoneyError(f"The {what} cannot be more than 100 %.")
        if value != value.quantize(Decimal("0.01")):
            raise MoneyError(f"The {what} {cleaned} has more than two decimals.")
        return DiscountType.PERCENT, value.quantize(Decimal("0.01"))
    amount = parse_money(re.sub(r"^[A-Z]{0,3}\$", "", cleaned), what)
    return (DiscountType.FIXED, amount) if amount > 0 else (DiscountType.NONE, ZERO)


def check_line(number: int, line: Line) -> CheckedLine:
    """The line as the service will read it, or the first thing wrong with it (same words)."""
    label = f"Line {number}"

    def refused(problem: str, column: LineColumn) -> CheckedLine:
        return CheckedLine(None, None, problem, column)

    description = line.description.strip()
    if not description:
        return refused(f"{label} needs a description.", LineColumn.DESCRIPTION)
    if len(line.description) > MAX_DESCRIPTION:
        return refused(
            f"{label}: the description is too long ({MAX_DESCRIPTION} characters at most).",
            LineColumn.DESCRIPTION,
        )
    if not line.quantity.strip():
        return refused(f"{label} needs a quantity.", LineColumn.QUANTITY)
    try:
        quantity = to_decimal(line.quantity, "quantity")
    except MoneyError as exc:
        return refused(f"{label}: {_first_lower(str(exc))}", LineColumn.QUANTITY)
    if quantity <= 0:
        return refused(f"{label}: the quantity must be more than zero.", LineColumn.QUANTITY)
    if quantity > MAX_QUANTITY or quantity != quantity.quantize(Decimal("0.001")):
        return refused(
            f"{label}: the quantity {line.quantity.strip()} is not one we can record.",
            LineColumn.QUANTITY,
        )
    if not line.unit_price.strip():
        return refused(f"{label} needs a unit price.", LineColumn.UNIT_PRICE)
    try:
        unit_price = parse_money(line.unit_price, "unit price")
    except MoneyError as exc:
        return refused(f"{label}: {_first_lower(str(exc))}", LineColumn.UNIT_PRICE)
    try:
        kind, value = parse_discount(line.discount, "line discount")
        total = line_total(quantity, unit_price, kind, value)
    except MoneyError as exc:
        return refused(f"{label}: {_first_lower(str(exc))}", LineColumn.DISCOUNT)
    item = ItemInput(
        description=description,
        quantity=quantity,
        unit_price=unit_price,
        discount_type=kind,
        discount_value=value,
        breakdown=dict(line.breakdown),
        order_file_id=line.order_file_id,
    )
    return CheckedLine(item, total, None, None)


class LineItemsModel(QAbstractTableModel):
    """The editor's lines; every edit is kept as typed and checked at once."""

    lines_changed = Signal()

    def __init__(self, currency: Callable[[], str], editable: Callable[[], bool]) -> None:
        super().__init__()
        self._lines: list[Line] = []
        self._checked: list[CheckedLine] = []
        self._currency = currency
        self._editable = editable
        self.show_all_problems = False
        #: The picture beside a line that points at an order file (set by the editor).
        self.decoration: Callable[[int], Any] | None = None

    # -- reading
    @property
    def lines(self) -> list[Line]:
        return [replace(line, breakdown=dict(line.breakdown)) for line in self._lines]

    @property
    def checked(self) -> list[CheckedLine]:
        return list(self._checked)

    def problems(self) -> list[str]:
        return [
            c.problem
            for line, c in zip(self._lines, self._checked, strict=True)
            if c.problem and (line.touched or self.show_all_problems)
        ]

    def rowCount(self, parent: Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._lines)

    def columnCount(self, parent: Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(LineColumn)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation == Qt.Orientation.Vertical:
            if role == Qt.ItemDataRole.DisplayRole:
                return str(section + 1)
            if role == Qt.ItemDataRole.TextAlignmentRole:
                return int(Qt.AlignmentFlag.AlignCenter)
            return None
        column = LineColumn(section)
        if role == Qt.ItemDataRole.DisplayRole:
            return LINE_HEADERS[column]
        if role == Qt.ItemDataRole.ToolTipRole:
            return LINE_TIPS.get(column)
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return int(self._alignment(column))
        return None

    @staticmethod
    def _alignment(column: LineColumn) -> Qt.AlignmentFlag:
        if column is LineColumn.DESCRIPTION:
            return Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
        return Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter

    def _raw(self, line: Line, column: LineColumn) -> str:
        return {
            LineColumn.DESCRIPTION: line.description,
            LineColumn.QUANTITY: line.quantity,
            LineColumn.UNIT_PRICE: line.unit_price,
            LineColumn.DISCOUNT: line.discount,
            LineColumn.TOTAL: "",
        }[column]

    def _shown(self, line: Line, checked: CheckedLine, column: LineColumn) -> str:
        item = checked.item
        if column is LineColumn.TOTAL:
            return (
                format_money(checked.total, self._currency()) if checked.total is not None else "—"
            )
        if item is None:
            return self._raw(line, column)
        if column is LineColumn.QUANTITY:
            return plain_number(item.quantity)
        if column is LineColumn.UNIT_PRICE:
            return money_text(item.unit_price)
        if column is LineColumn.DISCOUNT:
            if item.discount_type is DiscountType.PERCENT:
                return f"{plain_number(item.discount_value)} %"
            if item.discount_type is DiscountType.FIXED:
                return f"−{money_text(item.discount_value)}"
            return ""
        return line.description

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._lines):
            return None
        line, checked = self._lines[index.row()], self._checked[index.row()]
        column = LineColumn(index.column())
        if role == Qt.ItemDataRole.DisplayRole:
            return self._shown(line, checked, column)
        if role == Qt.ItemDataRole.EditRole:
            return self._raw(line, column)
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return int(self._alignment(column))
        if role == Qt.ItemDataRole.DecorationRole:
            if column is LineColumn.DESCRIPTION and line.order_file_id and self.decoration:
                return self.decoration(line.order_file_id)
            return None
        wrong = checked.column is column and (line.touched or self.show_all_problems)
        if role == Qt.ItemDataRole.ToolTipRole:
            if wrong:
                return checked.problem
            if column is not LineColumn.DESCRIPTION:
                return None
            if is_estimate(line):
                return f"{line.description}\n{ESTIMATE_BADGE}: {ESTIMATE_WHY}"
            return line.description
        if role == ESTIMATE_ROLE:
            return ESTIMATE_BADGE if column is LineColumn.DESCRIPTION and is_estimate(line) else ""
        if role == Qt.ItemDataRole.UserRole:
            # 1 when the view should paint the cell as wrong (an int: PySide6 6.12 miscounts
            # references to a bool handed back through data()).
            return 1 if wrong else None
        return None

    def flags(self, index: Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        if index.column() == LineColumn.TOTAL:
            return Qt.ItemFlag.ItemIsSelectable  # not enabled: Tab moves past it
        base = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
        if self._editable():
            base |= Qt.ItemFlag.ItemIsEditable
        return base

    # -- editing
    def setData(self, index: Index, value: Any, role: int = Qt.ItemDataRole.EditRole) -> bool:
        if role != Qt.ItemDataRole.EditRole or not index.isValid() or not self._editable():
            return False
        column = LineColumn(index.column())
        if column is LineColumn.TOTAL:
            return False
        line = self._lines[index.row()]
        text = "" if value is None else str(value)
        attribute = {
            LineColumn.DESCRIPTION: "description",
            LineColumn.QUANTITY: "quantity",
            LineColumn.UNIT_PRICE: "unit_price",
            LineColumn.DISCOUNT: "discount",
        }[column]
        if getattr(line, attribute) == text and line.touched:
            return True
        setattr(line, attribute, text)
        line.touched = True
        self._recheck()
        self.dataChanged.emit(
            self.index(index.row(), 0),
            self.index(index.row(), len(LineColumn) - 1),
        )
        self.lines_changed.emit()
        return True

    def file_changed(self, file_id: int) -> None:
        """The thumbnail of ``file_id`` arrived: repaint the lines that show it."""
        for row, line in enumerate(self._lines):
            if line.order_file_id == file_id:
                index = self.index(row, LineColumn.DESCRIPTION)
                self.dataChanged.emit(index, index, [Qt.ItemDataRole.DecorationRole])

    def set_lines(self, lines: list[Line]) -> None:
        self.beginResetModel()
        self._lines = lines
        self._recheck()
        self.endResetModel()
        self.lines_changed.emit()

    def add_line(self) -> int:
        row = len(self._lines)
        self.beginInsertRows(QModelIndex(), row, row)
        self._lines.append(Line())
        self._recheck()
        self.endInsertRows()
        self.lines_changed.emit()
        return row

    def remove_line(self, row: int) -> bool:
        if not 0 <= row < len(self._lines):
            return False
        self.beginRemoveRows(QModelIndex(), row, row)
        del self._lines[row]
        self._recheck()
        self.endRemoveRows()
        self._renumbered()
        self.lines_changed.emit()
        return True

    def move_line(self, row: int, delta: int) -> int:
        """Move a line up (-1) or down (+1); returns where it went (or stayed)."""
        target = row + delta
        if not (0 <= row < len(self._lines) and 0 <= target < len(self._lines)) or delta == 0:
            return row
        destination = target + 1 if delta > 0 else target
        self.beginMoveRows(QModelIndex(), row, row, QModelIndex(), destination)
        self._lines.insert(target, self._lines.pop(row))
        self._recheck()
        self.endMoveRows()
        self._renumbered()
        self.lines_changed.emit()
        return target

    def _renumbered(self) -> None:
        """Line numbers are in the problems' words; they change when lines move."""
        if self._lines:
            last = len(self._lines) - 1
            self.headerDataChanged.emit(Qt.Orientation.Vertical, 0, last)
            self.dataChanged.emit(self.index(0, 0), self.index(last, len(LineColumn) - 1))

    def _recheck(self) -> None:
        self._checked = [check_line(n, line) for n, line in enumerate(self._lines, start=1)]


# -- clients ----------------------------------------------------------------------------------


class ClientChoices(QAbstractListModel):
    """Clients matching what is typed in the picker, as the services find them."""

    def __init__(self) -> None:
        super().__init__()
        self._clients: list[clients.ClientView] = []

    @staticmethod
    def label(client: clients.ClientView) -> str:
        extra = [part for part in (client.company, client.email) if part]
        return f"{client.name} · {' · '.join(extra)}" if extra else client.name

    def set_clients(self, found: list[clients.ClientView]) -> None:
        self.beginResetModel()
        self._clients = list(found)
        self.endResetModel()

    def client_at(self, row: int) -> clients.ClientView | None:
        return self._clients[row] if 0 <= row < len(self._clients) else None

    @property
    def clients(self) -> list[clients.ClientView]:
        return list(self._clients)

    def rowCount(self, parent: Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._clients)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        client = self.client_at(index.row()) if index.isValid() else None
        if client is None:
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return self.label(client)
        if role == Qt.ItemDataRole.EditRole:  # what the picker shows once chosen
            return client.name
        if role == Qt.ItemDataRole.UserRole:
            return client.id
        return None


# -- the editor -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ShippingChoice:
    label: str  # shown in the picker
    shipping_label: str  # stored on the document
    amount: Decimal | None  # None: the person types the amount


@dataclass(frozen=True)
class Action:
    """A command the view shows as a button or menu entry."""

    key: str
    text: str
    visible: bool
    enabled: bool = True
    tooltip: str = ""
    danger: bool = False


NO_SHIPPING = ShippingChoice("No shipping", "", ZERO)
OTHER_SHIPPING = ShippingChoice("Other amount…", "Shipping", None)
DISCOUNT_CHOICES: tuple[tuple[DiscountType, str], ...] = (
    (DiscountType.NONE, "No discount"),
    (DiscountType.PERCENT, "Percent off"),
    (DiscountType.FIXED, "Amount off"),
)


class DocumentEditorViewModel(QObject):
    """Edits one quote or invoice (or a new one). The view re-reads on ``changed``; while the
    person types only ``totals_changed`` fires, so no field is rewritten under their cursor."""

    changed = Signal()  # the document, its state or its actions changed
    totals_changed = Signal()  # totals and problems after an edit
    client_choices_changed = Signal()
    stale_changed = Signal()  # "changed elsewhere" appeared or went
    error_changed = Signal()  # the last refusal (shown inline) appeared or went
    saved = Signal()
    opened = Signal(bool)  # a load or new document finished: True when it is on screen
    done = Signal(str, object)  # an action's key and its result (a view, a number), None refused
    busy_changed = Signal()  # opening or saving started or ended: the view shows it
    refreshed = Signal()  # a refresh (another counter's change) was read and followed
    open_document = Signal(str, int)  # DocumentKind value, id: e.g. the invoice a quote became
    closed = Signal()  # the document is gone (deleted); the view goes back to the list

    def __init__(
        self,
        ctx: AppContext,
        kind: DocumentKind,
        *,
        search_delay_ms: int = 200,
        delivery: DeliveryServices | None = None,
        thumbnails: ThumbnailService | None = None,
    ) -> None:
        super().__init__()
        self._ctx = ctx
        self.kind = kind
        self._shop: ShopSettings | None = None
        self._view: DocumentView | None = None
        self.lines = LineItemsModel(lambda: self.currency, lambda: self.editable)
        self.lines.lines_changed.connect(self._edited)
        self.client_choices = ClientChoices()
        self._client_id: int | None = None
        self._client_name = ""
        self._client_detail = ""
        self._discount_type = DiscountType.NONE
        self._discount_text = ""
        self._shipping_choices: list[ShippingChoice] = [NO_SHIPPING, OTHER_SHIPPING]
        self._shipping_index = 0
        self._shipping_label = ""
        self._shipping_text = "0.00"
        self._tax_rate = ZERO
        self._tax_inclusive = False
        self._notes = ""
        self._totals: DocumentTotals | None = None
        self._document_problems: list[str] = []
        self._dirty = False
        self._loaded: tuple[Any, ...] = ()  # the values as opened, to compare edits with
        self._stale = False
        self._stale_message = ""
        self._error = ""
        self._tried_to_save = False
        self._opener: Loader[_Opened] = Loader(
            ctx, self._opened, on_failed=self._open_failed, parent=self
        )
        self._worker: Loader[Any] = Loader(
            ctx, self._acted, on_failed=self._act_failed, parent=self
        )
        self._searcher: Loader[list[clients.ClientView]] = Loader(
            ctx, self._searched, on_failed=lambda _e: True, parent=self
        )
        self._follower: Loader[DocumentView | None] = Loader(
            ctx, self._followed, on_failed=self._follow_failed, parent=self
        )
        for loader in (self._opener, self._worker):
            loader.loading_changed.connect(lambda _b: self._busy_changed())
        self._step: tuple[str, Callable[[Any], None]] = ("", lambda _v: None)
        self._opening_for = "open"
        # A call that ends unanswered (a lost connection goes to the banner) still ends
        # ``opened`` or ``done``: these say one is owed.
        self._open_pending = False
        self._act_pending = False
        self._search_text = ""
        self._search_timer = QTimer(self)
        self._search_timer.setSingleShot(True)
        self._search_timer.setInterval(search_delay_ms)
        self._search_timer.timeout.connect(self.run_client_search)
        # An invoice's payment link, PDF and email (hidden for quotes and new invoices).
        self.delivery = InvoiceDeliveryViewModel(
            ctx, services=delivery, blocked=self._delivery_blocked
        )
        # It hands over the document as it read it after its change: followed with no read.
        self.delivery.invoice_updated.connect(self._follow)
        # Imported here: the files view model reuses this module's client picker model.
        from desktop.viewmodels.files import DocumentFilesViewModel

        self.files = DocumentFilesViewModel(ctx, thumbnails=thumbnails)
        self.files.thumbnail_changed.connect(self.lines.file_changed)
        self.lines.decoration = self._line_picture
        self._pictures: dict[str, QIcon] = {}

    # -- what is being edited
    @property
    def is_new(self) -> bool:
        return self._view is None

    @property
    def document_id(self) -> int | None:
        return self._view.id if self._view is not None else None

    @property
    def document(self) -> DocumentView | None:
        return self._view

    @property
    def version(self) -> int | None:
        return self._view.version if self._view is not None else None

    @property
    def number(self) -> str:
        return self._view.number if self._view is not None else f"New {self.kind.value}"

    @property
    def status(self) -> str:
        """DRAFT, PENDING, …, or OVERDUE for an overdue invoice; "" for a new document."""
        if self._view is None:
            return ""
        if isinstance(self._view, InvoiceView):
            return self._view.display_status
        return self._view.status.value

    @property
    def base_status(self) -> str:
        """The status badge: as stored, or PART_PAID for a pending invoice with part of it paid
        (overdue has a pill of its own); "" for a new document."""
        view = self._view
        if isinstance(view, InvoiceView):
            return display_status_of(view.status, False, view.amount_paid)
        return view.status.value if view is not None else ""

    @property
    def overdue_text(self) -> str:
        if isinstance(self._view, InvoiceView) and self._view.overdue:
            return f"Overdue · was due {format_date(self._view.due_date)}"
        return ""

    @property
    def status_text(self) -> str:
        return status_label(self.status) if self.status else "Not saved"

    @property
    def overdue(self) -> bool:
        return isinstance(self._view, InvoiceView) and self._view.overdue

    @property
    def currency(self) -> str:
        if self._view is not None:
            return self._view.currency
        return self._shop.currency if self._shop is not None else "AUD"

    @property
    def editable(self) -> bool:
        if self._view is None:
            return True
        if isinstance(self._view, InvoiceView):
            return self._view.status is InvoiceStatus.PENDING
        return self._view.status in quotes.EDITABLE

    @property
    def read_only_reason(self) -> str:
        if self.editable or self._view is None:
            return ""
        return f"{self._view.number} is {self.status_text.lower()} and cannot be edited."

    @property
    def dirty(self) -> bool:
        return self._dirty

    @property
    def subtitle(self) -> str:
        if self._view is None:
            return f"A new {self.kind.value}; it gets its number when you save it."
        parts = [f"{self.kind.label} for {self._view.client_name}"]
        parts.append(f"issued {format_date(self._view.issue_date)}")
        if isinstance(self._view, InvoiceView):
            parts.append(f"due {format_date(self._view.due_date)}")
        else:
            parts.append(f"expires {format_date(self._view.expiry_date)}")
        return " · ".join(parts)

    # -- client
    @property
    def client_id(self) -> int | None:
        return self._client_id

    @property
    def client_name(self) -> str:
        return self._client_name

    @property
    def client_detail(self) -> str:
        return self._client_detail

    @property
    def client_fixed(self) -> bool:
        """A saved document keeps its client (duplicate a quote to quote someone else)."""
        return self._view is not None

    # -- terms
    @property
    def discount_type(self) -> DiscountType:
        return self._discount_type

    @property
    def discount_text(self) -> str:
        return self._discount_text

    @property
    def shipping_choices(self) -> list[ShippingChoice]:
        return list(self._shipping_choices)

    @property
    def shipping_index(self) -> int:
        return self._shipping_index

    @property
    def shipping_text(self) -> str:
        return self._shipping_text

    @property
    def shipping_label(self) -> str:
        return self._shipping_label

    @property
    def tax_rate(self) -> Decimal:
        return self._tax_rate

    @property
    def tax_inclusive(self) -> bool:
        return self._tax_inclusive

    @property
    def tax_name(self) -> str:
        return self._shop.tax.name if self._shop is not None else "Tax"

    @property
    def tax_text(self) -> str:
        rate = plain_number((self._tax_rate * 100).quantize(Decimal("0.01")))
        how = "included in the prices" if self._tax_inclusive else "added to the prices"
        return f"{self.tax_name} {rate} %, {how}"

    @property
    def notes(self) -> str:
        return self._notes

    # -- totals and problems
    @property
    def totals(self) -> DocumentTotals | None:
        return self._totals

    @property
    def totals_note(self) -> str:
        """Which lines the totals leave out because they cannot be read yet."""
        left_out = [n for n, c in enumerate(self.lines.checked, start=1) if c.total is None]
        if not left_out:
            return ""
        if len(left_out) == 1:
            return f"Line {left_out[0]} is left out until it is complete."
        listed = ", ".join(str(n) for n in left_out[:-1]) + f" and {left_out[-1]}"
        return f"Lines {listed} are left out until they are complete."

    def money(self, amount: Decimal | None) -> str:
        return format_money(amount, self.currency) if amount is not None else "—"

    @property
    def estimated_lines(self) -> int:
        """Lines still at a price estimated without a slicer."""
        return sum(1 for line in self.lines.lines if is_estimate(line))

    @property
    def estimate_note(self) -> str:
        """Shown above the lines while any is an estimate; "" when none is."""
        count = self.estimated_lines
        if not count:
            return ""
        return (
            f"{estimates_text(count)}: check the price before it goes to the client (the "
            "client's PDF shows it as an ordinary line)."
        )

    def estimates_question(self, key: str) -> str:
        """What to ask before ``key`` ("save" of a new document, "convert", "duplicate") makes a
        quote or invoice with estimated lines; "" when there is nothing to ask."""
        count = self.estimated_lines
        making = (key == "save" and self.is_new) or key in ("convert", "duplicate")
        if not count or not making:
            return ""
        made = "invoice" if key == "convert" or self.kind is DocumentKind.INVOICE else "quote"
        source = "its price comes" if count == 1 else "their prices come"
        return (
            f"{estimates_text(count)}: {source} from the part's shape, not from CuraEngine. "
            f"Make the {made} with {'it' if count == 1 else 'them'}?"
        )

    @property
    def problems(self) -> list[str]:
        found = self.lines.problems() + self._document_problems
        if self._tried_to_save:
            if self._client_id is None:
                found.insert(0, f"Choose the client this {self.kind.value} is for.")
            if self.lines.rowCount() == 0:
                found.append("A document needs at least one line item.")
        return found

    # -- payments (invoices)
    @property
    def payments(self) -> list[PaymentView]:
        return list(self._view.payments) if isinstance(self._view, InvoiceView) else []

    @property
    def refunds(self) -> list[RefundView]:
        return list(self._view.refunds) if isinstance(self._view, InvoiceView) else []

    @property
    def amount_paid(self) -> Decimal:
        return self._view.amount_paid if isinstance(self._view, InvoiceView) else ZERO

    @property
    def balance_due(self) -> Decimal | None:
        """What is still owed as saved; with unsaved edits, what it will be once saved."""
        if not isinstance(self._view, InvoiceView):
            return None
        if self._dirty and self._totals is not None:
            return max(self._totals.total - self._view.amount_paid, ZERO)
        return self._view.balance_due

    # -- refusals and conflicts
    @property
    def stale(self) -> bool:
        return self._stale

    @property
    def stale_message(self) -> str:
        return self._stale_message

    @property
    def error(self) -> str:
        return self._error

    def dismiss_error(self) -> None:
        self._set_error("")

    @property
    def opening(self) -> bool:
        """The document (or the shop's terms for a new one) is being read."""
        return self._opener.loading

    @property
    def opening_saved(self) -> bool:
        """A saved document is being read: what is on screen is not it yet."""
        return self._opener.loading and self._opening_for == "open"

    @property
    def busy(self) -> bool:
        """Opening, saving or an action is in flight: Save and the actions wait."""
        return self._opener.loading or self._worker.loading

    @property
    def busy_text(self) -> str:
        if self._opener.loading:
            return "Opening…"
        if self._worker.loading:
            return "Saving…"
        return ""

    # -- opening
    def new_document(self, client_id: int | None = None) -> None:
        """Start a new document (for a client when one is given) once the shop's terms are read."""
        self._opening_for = "new"
        self._open_pending = True
        self._opener.run(
            lambda s: _Opened(
                shop_settings.get_settings(s)[0],
                client=clients.get_client(s, client_id) if client_id is not None else None,
            )
        )

    def load(self, document_id: int) -> None:
        """Open a saved document in the background; ``opened`` tells how it went."""
        self._opening_for = "open"
        self._open_pending = True
        self._opener.run(lambda s: self._open(s, document_id))

    def _open(self, session: Session, document_id: int) -> _Opened:
        if self.kind is DocumentKind.QUOTE:
            shop, quote = editor_reads.open_quote(session, document_id)
            return _Opened(shop, quote)
        found = editor_reads.open_invoice(session, document_id)
        return _Opened(found.shop, found.invoice, rows=found.attachments)

    def _opened(self, found: _Opened) -> None:
        self._open_pending = False
        self._take_shop(found.shop)
        if self._opening_for == "new":
            self._start_new(found.client)
        else:
            assert found.view is not None
            self._apply(found.view, rows=found.rows)
        self.opened.emit(True)

    def _open_failed(self, exc: BaseException) -> bool:
        self._open_pending = False
        handled = isinstance(exc, ServiceError | MoneyError)
        if handled:
            self._set_error(str(exc))
        self.opened.emit(False)
        return handled

    def _start_new(self, client: clients.ClientView | None) -> None:
        self._view = None
        self.delivery.set_invoice(None)
        self.files.set_document(None)
        shop = self._shop
        self._tax_rate = shop.tax.rate if shop else ZERO
        self._tax_inclusive = shop.tax.inclusive if shop else False
        self._client_id, self._client_name, self._client_detail = None, "", ""
        self._discount_type, self._discount_text = DiscountType.NONE, ""
        self._shipping_index, self._shipping_label, self._shipping_text = 0, "", "0.00"
        self._notes = ""
        self._reset_flags()
        self.lines.set_lines([Line()])
        if client is not None:
            self._take_client(client)
        self._mark_loaded()
        self._recompute()
        self.changed.emit()

    def reload(self) -> None:
        """Take the saved document as it is now, dropping unsaved edits (after a conflict)."""
        if self._view is None:
            return
        doc_id = self._view.id
        self._act("reload", lambda s: self._read(s, doc_id), self._reloaded)

    def _reloaded(self, found: DocumentView) -> None:
        self._apply(found)

    def refresh(self) -> None:
        """Another counter changed something: follow it, or say so when edits would be lost."""
        if self._view is None or self.busy:
            return
        doc_id = self._view.id

        def current(s: Session) -> DocumentView | None:
            try:
                return self._read(s, doc_id)
            except NotFound:
                return None

        self._follower.run(current)

    def _follow_failed(self, _exc: BaseException) -> bool:
        self.refreshed.emit()
        return True  # the next refresh tries again; nothing the person asked for failed

    def _followed(self, found: DocumentView | None) -> None:
        self._follow(found)
        self.refreshed.emit()

    def _follow(self, found: DocumentView | None) -> None:
        view = self._view
        if view is None or self.busy:
            return
        if found is None:
            self._set_stale(f"{view.number} was deleted at another counter.")
            return
        if found.id != view.id or found.version <= view.version:  # an older read: ours is newer
            return
        if self._dirty:
            self._set_stale(
                f"{view.number} was changed at another counter. Reload to see the changes;"
                " your edits here are not saved."
            )
        else:
            self._apply(found)

    # -- editing commands
    def search_clients(self, text: str) -> None:
        """The picker's text changed: clear the choice and search once the typing pauses."""
        self._search_text = text
        if self._client_id is not None and text != self._client_name:
            self._client_id, self._client_detail = None, ""
            self._client_name = ""
            self._edited()
        self._search_timer.start()

    def run_client_search(self) -> None:
        self._search_timer.stop()
        text = self._search_text
        self._searcher.run(lambda s: clients.search_clients(s, text, 20))

    def _searched(self, found: list[clients.ClientView]) -> None:
        text = self._search_text
        self.client_choices.set_clients(found)
        exact = [c for c in found if c.name.casefold() == text.strip().casefold()]
        if len(exact) == 1 and self._client_id is None:
            self._take_client(exact[0])
            self._edited()
        self.client_choices_changed.emit()

    def choose_client_row(self, row: int) -> None:
        client = self.client_choices.client_at(row)
        if client is not None:
            self.choose_client(client)

    def choose_client(self, client: clients.ClientView) -> None:
        if self.client_fixed:
            return
        self._take_client(client)
        self._edited()
        self.changed.emit()

    def add_line(self) -> int:
        return self.lines.add_line() if self.editable else -1

    def remove_line(self, row: int) -> None:
        if self.editable:
            self.lines.remove_line(row)

    def move_line(self, row: int, delta: int) -> int:
        return self.lines.move_line(row, delta) if self.editable else row

    def set_line_field(self, row: int, column: LineColumn, text: str) -> None:
        self.lines.setData(self.lines.index(row, column), text)

    def set_discount_type(self, kind: DiscountType) -> None:
        if kind is self._discount_type or not self.editable:
            return
        self._discount_type = kind
        if kind is DiscountType.NONE:
            self._discount_text = ""
        self._edited()
        self.changed.emit()

    def set_discount_text(self, text: str) -> None:
        if text == self._discount_text or not self.editable:
            return
        self._discount_text = text
        self._edited()

    def choose_shipping(self, index: int) -> None:
        if not 0 <= index < len(self._shipping_choices) or not self.editable:
            return
        if index == self._shipping_index:
            return
        choice = self._shipping_choices[index]
        self._shipping_index = index
        if choice.amount is not None:
            self._shipping_label = choice.shipping_label
            self._shipping_text = money_text(choice.amount)
        elif not self._shipping_label:
            self._shipping_label = OTHER_SHIPPING.shipping_label
        self._edited()
        self.changed.emit()

    def set_shipping_text(self, text: str) -> None:
        if text == self._shipping_text or not self.editable:
            return
        self._shipping_text = text
        choice = self._shipping_choices[self._shipping_index]
        if choice.amount is None:
            pass
        elif self._amount_or_none(text) != choice.amount:
            # A typed amount that is not the chosen option's is an amount of its own.
            self._shipping_index = len(self._shipping_choices) - 1
            if choice is NO_SHIPPING or not self._shipping_label:
                self._shipping_label = OTHER_SHIPPING.shipping_label
            self.changed.emit()
        self._edited()

    def set_notes(self, text: str) -> None:
        if text == self._notes or not self.editable:
            return
        self._notes = text
        self._edited()

    # -- saving
    def save(self, then: Callable[[], None] | None = None) -> None:
        """Create or update in the background; a refusal keeps every typed value and ``done``
        says ("save", None). ``then`` runs after a save that went through."""
        if self.busy:
            return
        if not self.editable:
            self._set_error(self.read_only_reason)
            self.done.emit("save", None)
            return
        self._set_error("")
        self._tried_to_save = True
        self.lines.show_all_problems = True
        self._recompute()
        if self.problems:
            self._emit_line_marks()
            self.totals_changed.emit()
            self.done.emit("save", None)
            return
        items = [c.item for c in self.lines.checked if c.item is not None]
        terms = self._terms()
        view = self._view
        if view is None:
            client_id = self._client_id
            assert client_id is not None

            def call(s: Session) -> DocumentView:
                return self._create(s, client_id, items, terms)

        else:
            doc_id, version = view.id, view.version

            def call(s: Session) -> DocumentView:
                try:
                    return self._update(s, doc_id, items, terms, version)
                except Conflict as exc:  # what is there now decides how the refusal reads
                    s.rollback()
                    try:
                        raise _SaveConflict(exc, self._read(s, doc_id), gone=False) from exc
                    except NotFound:
                        raise _SaveConflict(exc, None, gone=True) from exc

        def saved(done: DocumentView) -> None:
            self._apply(done)
            self._ctx.notifier.info(f"{done.number} saved.")
            self.saved.emit()
            if then is not None:
                QTimer.singleShot(0, then)  # after "save" is done, so the next step can start

        self._act("save", call, saved)

    # -- quote actions
    def send(self) -> None:
        self._transition("send", quotes.send_quote, "marked as sent")

    def accept(self) -> None:
        self._transition("accept", quotes.accept_quote, "accepted")

    def decline(self) -> None:
        self._transition("decline", quotes.decline_quote, "declined")

    def convert(self) -> None:
        """Make the invoice from this quote (one transaction) and ask for it to be opened;
        ``done`` carries the invoice."""
        actor = self._ctx.actor

        def go(quote_id: int) -> None:
            def call(s: Session) -> tuple[InvoiceView, DocumentView]:
                invoice = quotes.convert_to_invoice(s, actor, quote_id)
                return invoice, quotes.get_quote(s, quote_id)

            def converted(pair: tuple[InvoiceView, DocumentView]) -> None:
                invoice, quote = pair
                self._apply(quote)
                self._ctx.notifier.info(f"{self.number} converted to {invoice.number}.")
                self.open_document.emit(DocumentKind.INVOICE.value, invoice.id)

            self._act("convert", call, converted, result=lambda pair: pair[0])

        self._ready("convert", go)

    def open_invoice(self) -> None:
        if isinstance(self._view, QuoteView) and self._view.converted_invoice_id is not None:
            self.open_document.emit(DocumentKind.INVOICE.value, self._view.converted_invoice_id)

    def open_quote(self) -> None:
        if isinstance(self._view, InvoiceView) and self._view.source_quote_id is not None:
            self.open_document.emit(DocumentKind.QUOTE.value, self._view.source_quote_id)

    def duplicate(self) -> None:
        actor = self._ctx.actor

        def go(quote_id: int) -> None:
            source = self.number

            def duplicated(copy: QuoteView) -> None:
                self._apply(copy)
                self._ctx.notifier.info(
                    f"{copy.number} made from {source}; you are editing the copy."
                )

            self._act("duplicate", lambda s: quotes.duplicate_quote(s, actor, quote_id), duplicated)

        self._ready("duplicate", go)

    def delete(self) -> None:
        if self._view is None or self.busy:
            return
        doc_id = self._view.id
        self._set_error("")
        delete = quotes.delete_quote if self.kind is DocumentKind.QUOTE else invoices.delete_invoice
        actor = self._ctx.actor

        def deleted(number: str) -> None:
            self._ctx.notifier.info(f"{number} deleted.")
            self._view = None
            self._dirty = False
            self.closed.emit()

        self._act("delete", lambda s: delete(s, actor, doc_id), deleted)

    # -- invoice actions
    def void(self, reason: str = "") -> None:
        self._invoice_action("void", invoices.void_invoice, reason, "voided")

    def write_off(self, reason: str = "") -> None:
        self._invoice_action("write_off", invoices.write_off_invoice, reason, "written off")

    def payment_form(self, then: Callable[[PaymentViewModel], None]) -> None:
        """The form for recording a payment, given to ``then`` once pending edits are saved."""

        def go(_invoice_id: int) -> None:
            view = self._view
            if not isinstance(view, InvoiceView):
                return
            form = PaymentViewModel(self._ctx, view)
            form.recorded.connect(self._payment_recorded)
            then(form)

        self._ready("record_payment", go)

    # -- which actions apply
    def actions(self) -> list[Action]:
        view = self._view
        admin = self._ctx.actor.is_admin
        saved = view is not None
        result = [Action("save", "Save", self.editable, tooltip="Save (Ctrl+S)")]

        def admin_only(key: str, text: str, visible: bool, what: str) -> Action:
            tip = "" if admin else f"Only an admin may {what}."
            return Action(key, text, visible, enabled=admin, tooltip=tip, danger=True)

        if isinstance(view, QuoteView) or (view is None and self.kind is DocumentKind.QUOTE):
            status = view.status if view is not None else None
            editable = status in quotes.EDITABLE
            result += [
                Action("send", "Mark as sent", saved and status is QuoteStatus.DRAFT),
                Action("accept", "Accept", saved and editable),
                Action(
                    "convert",
                    "Convert to invoice",
                    saved and status in (*quotes.EDITABLE, QuoteStatus.ACCEPTED),
                    tooltip="Make an invoice from this quote and open it.",
                ),
                Action("open_invoice", "Open invoice", saved and status is QuoteStatus.CONVERTED),
                Action(
                    "decline",
                    "Decline",
                    saved and status in (*quotes.EDITABLE, QuoteStatus.ACCEPTED),
                    danger=True,
                ),
                Action("duplicate", "Duplicate", saved, tooltip="Make a new draft from this one."),
                admin_only("delete", "Delete quote", saved, "delete quotes"),
            ]
        else:
            inv = view if isinstance(view, InvoiceView) else None
            pending = inv is not None and inv.status is InvoiceStatus.PENDING
            result += [
                Action(
                    "record_payment",
                    "Record payment",
                    pending and inv is not None and inv.balance_due > 0,
                    tooltip="Record a cash, bank transfer or other payment (Ctrl+P).",
                ),
                Action("open_quote", "Open quote", inv is not None and bool(inv.source_quote_id)),
                admin_only(
                    "void",
                    "Void invoice",
                    inv is not None and inv.status is not InvoiceStatus.VOID,
                    "void invoices",
                ),
                admin_only("write_off", "Write off", pending, "write off invoices"),
                admin_only("delete", "Delete invoice", saved, "delete invoices"),
            ]
        return result

    def action(self, key: str) -> Action | None:
        return next((a for a in self.actions() if a.key == key), None)

    # -- internals
    def _terms(self) -> DocumentTerms:
        discount = ZERO
        if self._discount_type is not DiscountType.NONE:
            discount = self._amount_or_zero(self._discount_text.strip().rstrip("%"))
        return DocumentTerms(
            discount_type=self._discount_type,
            discount_value=discount,
            shipping_label=self._shipping_label,
            shipping_amount=self._shipping_amount(),
            tax_rate=self._tax_rate,
            tax_inclusive=self._tax_inclusive,
            notes=self._notes.strip() or None,
        )

    def _shipping_amount(self) -> Decimal:
        return self._amount_or_zero(self._shipping_text)

    @staticmethod
    def _amount_or_none(text: str) -> Decimal | None:
        try:
            return parse_money(text.strip() or "0")
        except MoneyError:
            return None

    def _amount_or_zero(self, text: str) -> Decimal:
        return self._amount_or_none(text) or ZERO

    def _recompute(self) -> None:
        problems: list[str] = []
        discount = shipping = ZERO
        try:
            shipping = parse_money(self._shipping_text.strip() or "0", "shipping")
        except MoneyError as exc:
            problems.append(str(exc))
        if self._discount_type is not DiscountType.NONE:
            try:
                discount = parse_money(self._discount_text.strip().rstrip("%") or "0", "discount")
            except MoneyError as exc:
                problems.append(str(exc))
        line_totals = [c.total for c in self.lines.checked if c.total is not None]
        totals: DocumentTotals | None = None
        if not problems:
            try:
                totals = document_totals(
                    line_totals,
                    discount_type=self._discount_type,
                    discount_value=discount,
                    shipping=shipping,
                    tax_rate=self._tax_rate,
                    tax_inclusive=self._tax_inclusive,
                )
            except MoneyError as exc:
                problems.append(str(exc))
        self._totals = totals
        self._document_problems = problems

    def _edited(self) -> None:
        # Compared with what was opened, not flagged: typing a value back clears "unsaved".
        self._dirty = self._values() != self._loaded
        self._recompute()
        self.totals_changed.emit()

    def _values(self) -> tuple[Any, ...]:
        """Everything the person can change, as it will be saved (a line read as the service
        reads it, so "12.5" and "12.50" are the same price); a half-typed line as typed."""
        lines = tuple(
            checked.item
            if checked.item is not None
            else (line.description, line.quantity, line.unit_price, line.discount)
            for line, checked in zip(self.lines.lines, self.lines.checked, strict=True)
        )
        discount: Any = self._discount_text.strip().rstrip("%").strip()
        if self._discount_type is not DiscountType.NONE:
            discount = self._amount_or_none(discount) or discount
        shipping = self._amount_or_none(self._shipping_text)
        return (
            self._client_id,
            lines,
            self._discount_type,
            discount if self._discount_type is not DiscountType.NONE else None,
            self._shipping_label,
            shipping if shipping is not None else self._shipping_text.strip(),
            self._notes.strip(),
        )

    def _mark_loaded(self) -> None:
        self._loaded = self._values()
        self._dirty = False

    def _emit_line_marks(self) -> None:
        rows = self.lines.rowCount()
        if rows:
            self.lines.dataChanged.emit(
                self.lines.index(0, 0),
                self.lines.index(rows - 1, len(LineColumn) - 1),
            )

    def _reset_flags(self) -> None:
        self._tried_to_save = False
        self.lines.show_all_problems = False
        self._stale, self._stale_message = False, ""
        self._error = ""
        self.stale_changed.emit()
        self.error_changed.emit()

    def _take_client(self, client: clients.ClientView) -> None:
        self._client_id = client.id
        self._client_name = client.name
        self._client_detail = " · ".join(
            part for part in (client.company, client.email, client.phone) if part
        )

    def _delivery_blocked(self) -> str:
        return "Save your changes first." if self._dirty else ""

    def _apply(self, view: DocumentView, *, rows: list[AttachmentView] | None = None) -> None:
        self._view = view
        self.delivery.set_document(view)
        self._client_id = view.client_id
        self._client_name = view.client_name
        self._client_detail = view.client_email or ""
        self._discount_type = view.discount_type
        if view.discount_type is DiscountType.NONE:
            self._discount_text = ""
        elif view.discount_type is DiscountType.PERCENT:
            self._discount_text = plain_number(view.discount_value)
        else:
            self._discount_text = money_text(view.discount_value)
        self._shipping_label = view.shipping_label
        self._shipping_text = money_text(view.shipping_amount)
        self._shipping_index = self._shipping_index_for(view.shipping_label, view.shipping_amount)
        self._tax_rate = view.tax_rate
        self._tax_inclusive = view.tax_inclusive
        self._notes = view.notes or ""
        self._reset_flags()
        self.files.set_document(view.id if isinstance(view, InvoiceView) else None, rows=rows)
        self.lines.set_lines([Line.of(item) for item in view.items])
        self._mark_loaded()
        self._recompute()
        self.changed.emit()
        self.totals_changed.emit()

    def _line_picture(self, file_id: int) -> QIcon:
        """The file's thumbnail, or a plain tile while it is drawn (or when it cannot be)."""
        state, path = self.files.thumbnail(file_id)
        key = path if state == "ready" else f"<{state}>"
        if key not in self._pictures:
            if state == "ready":
                self._pictures[key] = QIcon(path)
            else:
                tile = QPixmap(64, 64)
                tile.fill(QColor("#e4e9f0" if state == "pending" else "#f3d9d5"))
                self._pictures[key] = QIcon(tile)
        return self._pictures[key]

    def _shipping_index_for(self, label: str, amount: Decimal) -> int:
        for index, choice in enumerate(self._shipping_choices):
            if choice.amount is None:
                continue
            if choice is NO_SHIPPING:
                if amount == 0 and not label:
                    return index
            elif choice.shipping_label == label and choice.amount == amount:
                return index
        return len(self._shipping_choices) - 1

    def _take_shop(self, shop: ShopSettings) -> None:
        self._shop = shop
        # The amount shows in the field beside the picker, so the picker names the option only.
        options = [ShippingChoice(o.label, o.label, o.amount) for o in shop.shipping_options]
        self._shipping_choices = [NO_SHIPPING, *options, OTHER_SHIPPING]

    def _read(self, session: Session, document_id: int) -> DocumentView:
        if self.kind is DocumentKind.QUOTE:
            return quotes.get_quote(session, document_id)
        return invoices.get_invoice(session, document_id)

    def _create(
        self, session: Session, client_id: int, items: list[ItemInput], terms: DocumentTerms
    ) -> DocumentView:
        actor = self._ctx.actor
        if self.kind is DocumentKind.QUOTE:
            return quotes.create_quote(session, actor, client_id, items, terms)
        return invoices.create_invoice(session, actor, client_id, items, terms)

    def _update(
        self,
        session: Session,
        document_id: int,
        items: list[ItemInput],
        terms: DocumentTerms,
        version: int,
    ) -> DocumentView:
        actor = self._ctx.actor
        if self.kind is DocumentKind.QUOTE:
            return quotes.update_quote(
                session, actor, document_id, items, terms, expected_version=version
            )
        return invoices.update_invoice(
            session, actor, document_id, items, terms, expected_version=version
        )

    def _act(
        self,
        key: str,
        call: Callable[[Session], T],
        then: Callable[[T], None],
        *,
        result: Callable[[T], object] | None = None,
    ) -> None:
        """Run one write (or read) in the background; ``done`` tells its key and result."""
        if self.busy:
            return

        def finished(value: T) -> None:
            then(value)
            self.done.emit(key, result(value) if result is not None else value)

        self._step = (key, finished)
        self._act_pending = True
        self._worker.run(call)

    def _acted(self, value: Any) -> None:
        self._act_pending = False
        self._step[1](value)

    def _act_failed(self, exc: BaseException) -> bool:
        """A refusal is shown inline (a conflict as "changed elsewhere"); anything else goes
        to the notifier with its details."""
        key = self._step[0]
        self._act_pending = False
        handled = True
        if isinstance(exc, _SaveConflict):
            self._conflict(exc)
        elif isinstance(exc, NotFound) and key == "reload":
            self._ctx.notifier.warning(str(exc))
            self.closed.emit()
        elif isinstance(exc, ServiceError | MoneyError):
            self._set_error(str(exc))
        else:
            handled = False
        self.done.emit(key, None)
        return handled

    def _busy_changed(self) -> None:
        self.busy_changed.emit()
        self.changed.emit()
        if self._open_pending or self._act_pending:
            QTimer.singleShot(0, self._unanswered)  # after the loader has handed its answer

    def _unanswered(self) -> None:
        """A call ended with no answer (the connection was lost; the banner says so)."""
        if self._open_pending and not self._opener.loading:
            self._open_pending = False
            self.opened.emit(False)
        if self._act_pending and not self._worker.loading:
            self._act_pending = False
            self.done.emit(self._step[0], None)

    def _conflict(self, exc: _SaveConflict) -> None:
        """A refusal on save: "changed elsewhere" if the saved version moved on, else a rule."""
        view = self._view
        if view is not None:
            if exc.gone:
                self._set_stale(f"{view.number} was deleted at another counter.")
                return
            if exc.current is not None and exc.current.version != view.version:
                self._set_stale(
                    f"{view.number} was changed at another counter, so your edits were not saved."
                    " Reload to see the changes."
                )
                return
        self._set_error(str(exc.conflict))

    def _set_stale(self, message: str) -> None:
        self._stale, self._stale_message = True, message
        self.stale_changed.emit()

    def _set_error(self, message: str) -> None:
        if message != self._error:
            self._error = message
            self.error_changed.emit()

    def _ready(self, key: str, then: Callable[[int], None]) -> None:
        """Give the saved document's id to ``then``, saving pending edits first; a refusal (or
        nothing to do) ends in ``done`` with None."""
        action = self.action(key)
        if self.busy:
            return
        if self._view is None or action is None or not action.visible:
            self.done.emit(key, None)
            return
        self._set_error("")
        if self._stale:
            self._set_error(f"{self._view.number} changed elsewhere; reload it first.")
            self.done.emit(key, None)
            return

        def go() -> None:
            if self._view is not None:
                then(self._view.id)

        if self._dirty and self.editable:
            self.save(then=go)
        else:
            go()

    def _transition(
        self, key: str, call: Callable[[Session, Any, int], QuoteView], verb: str
    ) -> None:
        actor = self._ctx.actor

        def go(quote_id: int) -> None:
            self._act(key, lambda s: call(s, actor, quote_id), self._transitioned(verb))

        self._ready(key, go)

    def _transitioned(self, verb: str) -> Callable[[DocumentView], None]:
        def done(view: DocumentView) -> None:
            self._apply(view)
            self._ctx.notifier.info(f"{view.number} {verb}.")

        return done

    def _invoice_action(
        self,
        key: str,
        call: Callable[[Session, Any, int, str], InvoiceView],
        reason: str,
        verb: str,
    ) -> None:
        actor = self._ctx.actor
        why = reason.strip()

        def go(invoice_id: int) -> None:
            self._act(key, lambda s: call(s, actor, invoice_id, why), self._transitioned(verb))

        self._ready(key, go)

    def _payment_recorded(self, view: InvoiceView) -> None:
        self._apply(view)
