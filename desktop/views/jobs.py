"""The jobs board: columns of cards you drag to reorder or assign, and a side panel for one job.

A card carries its job id and version in a MIME type of its own; the column it is dropped on
works out the slot from the drop position and hands both to the view model. Nothing here
decides whether a move is allowed: the board asks, shows the answer, and redraws from the
view model, which has read the database again.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import shiboken6
from PySide6.QtCore import QByteArray, QMimeData, QPoint, Qt, QTimer, Signal
from PySide6.QtGui import (
    QAction,
    QColor,
    QContextMenuEvent,
    QDrag,
    QDragEnterEvent,
    QDragLeaveEvent,
    QDragMoveEvent,
    QDropEvent,
    QFocusEvent,
    QKeyEvent,
    QKeySequence,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPen,
    QShortcut,
    QWheelEvent,
)
from PySide6.QtWidgets import (
    QApplication,
    QComboBox,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QMenu,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QStackedWidget,
    QStyle,
    QStyleOption,
    QVBoxLayout,
    QWidget,
)

from core.enums import JobPriority, JobStatus, PrinterStatus
from desktop.viewmodels.context import AppContext
from desktop.viewmodels.jobs import (
    JOB_MIME_TYPE,
    PRIORITY_LABELS,
    STATUS_LABELS,
    BoardColumn,
    JobCard,
    JobsBoardViewModel,
    decode_payload,
)
from desktop.viewmodels.shell import ShellViewModel
from desktop.views.loading import LoadingBadge
from desktop.views.page import Page, card
from desktop.views.theme import ACCENT, BAD, LINE, MUTED, OK, WARN

COLUMN_WIDTH = 212
PANEL_WIDTH = 272

JOB_STATUS_COLOURS = {
    JobStatus.QUEUED: MUTED,
    JobStatus.PRE_PROCESSING: "#6a4fb3",
    JobStatus.IN_QUEUE: ACCENT,
    JobStatus.PRINTING: OK,
    JobStatus.PAUSED: WARN,
    JobStatus.PRINTING_COMPLETE: "#12808a",
    JobStatus.POST_PROCESSING: "#8e44ad",
    JobStatus.PACKAGING: "#9a5b2e",
    JobStatus.OUT_FOR_DELIVERY: "#2c7a9b",
    JobStatus.COMPLETED: OK,
    JobStatus.CANCELLED: "#8d96a3",
}
PRIORITY_COLOURS = {JobPriority.FAST_TRACK: WARN, JobPriority.URGENT: BAD}
PRINTER_STATUS_COLOURS = {
    PrinterStatus.ACTIVE: OK,
    PrinterStatus.MAINTENANCE: WARN,
    PrinterStatus.OFFLINE: MUTED,
}

STYLE = f"""
QFrame#boardColumn {{ background: #e4e8ee; border: 1px solid #d5dbe3; border-radius: 10px; }}
QFrame#boardColumn[dropTarget="true"] {{ background: #dde9f7; border: 2px dashed {ACCENT}; }}
QLabel#columnName {{ font-size: 11pt; font-weight: 700; }}
QLabel#columnSummary {{ color: {MUTED}; font-size: 9pt; }}
QLabel#columnEmpty {{ color: #8d96a3; font-size: 9pt; padding: 18px 6px; }}
QScrollArea#cardScroll, QScrollArea#board {{ background: transparent; border: none; }}
QWidget#cardList, QWidget#boardRow {{ background: transparent; }}
QFrame#jobCard {{ background: #ffffff; border: 1px solid {LINE}; border-radius: 8px; }}
QFrame#jobCard:hover {{ border-color: #9fbbe0; }}
QFrame#jobCard[selected="true"] {{ background: #eef5fd; border: 1px solid {ACCENT}; }}
QFrame#jobCard[priority="FAST_TRACK"] {{ border-left: 4px solid {WARN}; }}
QFrame#jobCard[priority="URGENT"] {{ border-left: 4px solid {BAD}; }}
QFrame#jobCard[final="true"] {{ background: #f3f5f8; }}
QFrame#jobCard[final="true"] QLabel {{ color: #8d96a3; }}
QLabel#cardNumber {{ font-weight: 700; }}
QLabel#cardClient {{ font-size: 10pt; }}
QLabel#cardHours {{ color: {MUTED}; font-size: 9pt; }}
QLabel#chip {{ border-radius: 7px; padding: 1px 7px; font-size: 8.5pt; font-weight: 600; }}
QComboBox {{ padding-right: 24px; }}
QComboBox::drop-down {{ border: none; width: 24px; }}
QLabel#panelNumber {{ font-size: 15pt; font-weight: 700; }}
QLabel#panelClient {{ color: {MUTED}; font-size: 10.5pt; }}
QLabel#panelTitle {{ font-size: 10pt; }}
QLabel#factLabel {{ color: {MUTED}; font-size: 9pt; }}
QLabel#hint {{ color: {MUTED}; font-size: 8.5pt; }}
QFrame#rule {{ background: {LINE}; border: none; max-height: 1px; min-height: 1px; }}
"""


def _tint(colour: str, alpha: int = 30) -> str:
    c = QColor(colour)
    return f"rgba({c.red()}, {c.green()}, {c.blue()}, {alpha})"


def chip(text: str, colour: str) -> QLabel:
    """A small rounded label in a status colour on a light tint of it."""
    label = QLabel(text)
    label.setObjectName("chip")
    label.setStyleSheet(f"color: {colour}; background: {_tint(colour)};")
    label.setSizePolicy(QSizePolicy.Policy.Maximum, QSizePolicy.Policy.Fixed)
    return label


class ChevronCombo(QComboBox):
    """A combo box whose choice is a deliberate act: it draws its own chevron (the shared
    stylesheet hides the native arrow), arrows and letters open the list instead of stepping
    through the choices, and the wheel scrolls the page instead of changing the value; each
    step would otherwise be a command (a status change) of its own."""

    _OPENERS = frozenset(
        {
            Qt.Key.Key_Up,
            Qt.Key.Key_Down,
            Qt.Key.Key_PageUp,
            Qt.Key.Key_PageDown,
            Qt.Key.Key_Home,
            Qt.Key.Key_End,
        }
    )

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = Qt.Key(event.key())
        plain = not event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier
        if plain and (key in self._OPENERS or (event.text().isprintable() and event.text())):
            self.showPopup()
            event.accept()
            return
        super().keyPressEvent(event)

    def wheelEvent(self, event: QWheelEvent) -> None:
        event.ignore()

    def paintEvent(self, event: QPaintEvent) -> None:
        super().paintEvent(event)
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        pen = QPen(QColor(MUTED if self.isEnabled() else "#c3cad4"), 1.6)
        pen.setCapStyle(Qt.PenCapStyle.RoundCap)
        pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
        painter.setPen(pen)
        x, y = self.width() - 16, self.height() // 2
        painter.drawPolyline([QPoint(x - 4, y - 2), QPoint(x, y + 2), QPoint(x + 4, y - 2)])
        painter.end()


def _repolish(widget: QWidget) -> None:
    widget.style().unpolish(widget)
    widget.style().polish(widget)
    widget.update()


# ---------------------------------------------------------------------------------------------
# Cards and columns


class JobCardWidget(QFrame):
    """One job: click to select, drag to move, right-click (or the Menu key) for its menu."""

    def __init__(self, job: JobCard, board: BoardView, *, selected: bool) -> None:
        super().__init__()
        self.job = job
        self._board = board
        self._press: QPoint | None = None
        self.setObjectName("jobCard")
        self.setProperty("selected", selected)
        self.setProperty("priority", job.priority.value)
        self.setProperty("final", job.is_final)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setAttribute(Qt.WidgetAttribute.WA_Hover)
        if not job.is_final:
            self.setCursor(Qt.CursorShape.OpenHandCursor)
        tip = f"{job.title}\nDrag to reorder or onto a printer; right-click for more."
        self.setToolTip(tip if not job.is_final else job.title)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 9, 10, 9)
        layout.setSpacing(4)
        top = QHBoxLayout()
        top.setSpacing(6)
        number = QLabel(job.label)
        number.setObjectName("cardNumber")
        top.addWidget(number)
        top.addStretch(1)
        if job.priority in PRIORITY_COLOURS:
            top.addWidget(chip(job.priority_text, PRIORITY_COLOURS[job.priority]))
        layout.addLayout(top)
        # The client's name shares its row with the estimate, so the status chip has the
        # whole width of a narrow column.
        middle = QHBoxLayout()
        middle.setSpacing(6)
        hours = QLabel(f"≈ {job.hours_text}" if job.hours_text else "no estimate")
        hours.setObjectName("cardHours")
        client = QLabel(job.client_name)
        client.setObjectName("cardClient")
        client.setToolTip(job.client_name)
        client.setMinimumWidth(10)
        room = COLUMN_WIDTH - 60 - hours.fontMetrics().horizontalAdvance(hours.text())
        client.setText(
            client.fontMetrics().elidedText(job.client_name, Qt.TextElideMode.ElideRight, room)
        )
        middle.addWidget(client, 1)
        middle.addWidget(hours)
        layout.addLayout(middle)
        bottom = QHBoxLayout()
        self.status_chip = chip(job.status_text, JOB_STATUS_COLOURS[job.status])
        bottom.addWidget(self.status_chip)
        bottom.addStretch(1)
        layout.addLayout(bottom)

    # -- mouse: select, and drag once the pointer has moved far enough
    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            self._press = event.position().toPoint()
            self.setFocus(Qt.FocusReason.MouseFocusReason)
            self._board.select(self.job.id)
            event.accept()
            return
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if (
            self._press is not None
            and event.buttons() & Qt.MouseButton.LeftButton
            and not self.job.is_final
            and (event.position().toPoint() - self._press).manhattanLength()
            >= QApplication.startDragDistance()
        ):
            press, self._press = self._press, None
            self._board.start_drag(self, press)
            return
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        self._press = None
        super().mouseReleaseEvent(event)

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        self._board.activate(self.job.id)

    def contextMenuEvent(self, event: QContextMenuEvent) -> None:
        self._board.select(self.job.id)
        self._board.open_menu(self.job.id, event.globalPos())

    def focusInEvent(self, event: QFocusEvent) -> None:
        super().focusInEvent(event)
        # Tabbing onto a card selects it; focus passed along while the board redraws does not.
        if event.reason() != Qt.FocusReason.OtherFocusReason and not self._board.redrawing:
            self._board.select(self.job.id)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key, mods = Qt.Key(event.key()), event.modifiers()
        arrows = {
            Qt.Key.Key_Up: (-1, 0),
            Qt.Key.Key_Down: (1, 0),
            Qt.Key.Key_Left: (0, -1),
            Qt.Key.Key_Right: (0, 1),
        }
        if key in arrows:
            rows, columns = arrows[key]
            if mods & Qt.KeyboardModifier.ControlModifier:
                self._board.nudge(self.job.id, rows, columns)
            else:
                self._board.navigate(rows, columns)
            event.accept()
            return
        if key == Qt.Key.Key_Menu or (
            key == Qt.Key.Key_F10 and mods & Qt.KeyboardModifier.ShiftModifier
        ):
            self._board.open_menu(self.job.id, self.mapToGlobal(QPoint(20, self.height() // 2)))
            event.accept()
            return
        if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self._board.activate(self.job.id)
            event.accept()
            return
        super().keyPressEvent(event)


class _CardList(QWidget):
    """The cards of one column, with a line where a dragged card would land."""

    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("cardList")
        self.layout_ = QVBoxLayout(self)
        self.layout_.setContentsMargins(8, 4, 8, 10)
        self.layout_.setSpacing(8)
        self.layout_.addStretch(1)
        self.cards: list[JobCardWidget] = []
        self.indicator: int | None = None
        self.empty = QLabel("No jobs")
        self.empty.setObjectName("columnEmpty")
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.layout_.insertWidget(0, self.empty)

    def set_cards(self, cards: list[JobCardWidget]) -> None:
        for old in self.cards:
            old.hide()
            old.setParent(None)
            old.deleteLater()
        self.cards = cards
        for n, widget in enumerate(cards):
            self.layout_.insertWidget(n, widget)
            widget.show()  # now, not when the layout gets to it: the focus may move here
        self.empty.setVisible(not cards)

    def slot_at(self, y: int) -> int:
        """The index a card dropped at height ``y`` would take among the shown cards."""
        for n, widget in enumerate(self.cards):
            if y < widget.geometry().center().y():
                return n
        return len(self.cards)

    def set_indicator(self, slot: int | None) -> None:
        if slot != self.indicator:
            self.indicator = slot
            self.update()

    def indicator_y(self, slot: int) -> int:
        if not self.cards:
            return self.layout_.contentsMargins().top() + 2
        if slot >= len(self.cards):
            return self.cards[-1].geometry().bottom() + 4
        return self.cards[slot].geometry().top() - 4

    def paintEvent(self, event: QPaintEvent) -> None:
        option = QStyleOption()
        option.initFrom(self)
        painter = QPainter(self)
        self.style().drawPrimitive(QStyle.PrimitiveElement.PE_Widget, option, painter, self)
        if self.indicator is not None:
            y = self.indicator_y(self.indicator)
            painter.setRenderHint(QPainter.RenderHint.Antialiasing)
            pen = QPen(QColor(ACCENT), 3)
            pen.setCapStyle(Qt.PenCapStyle.RoundCap)
            painter.setPen(pen)
            painter.drawLine(10, y, self.width() - 10, y)
        painter.end()


class BoardColumnWidget(QFrame):
    """Unassigned or one printer: a header and its queue, and the drop target for cards."""

    def __init__(self, board: BoardView, column: BoardColumn) -> None:
        super().__init__()
        self._board = board
        self.column = column
        self.setObjectName("boardColumn")
        self.setProperty("dropTarget", False)
        self.setAcceptDrops(True)
        self.setFixedWidth(COLUMN_WIDTH)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 10, 0, 0)
        layout.setSpacing(6)
        header = QVBoxLayout()
        header.setContentsMargins(14, 0, 12, 2)
        header.setSpacing(3)
        top = QHBoxLayout()
        top.setSpacing(6)
        self.name = QLabel()
        self.name.setObjectName("columnName")
        top.addWidget(self.name, 1)
        self.badge_slot = QHBoxLayout()
        top.addLayout(self.badge_slot)
        header.addLayout(top)
        self.summary = QLabel()
        self.summary.setObjectName("columnSummary")
        header.addWidget(self.summary)
        layout.addLayout(header)

        self.cards = _CardList()
        self.scroller = QScrollArea()
        self.scroller.setObjectName("cardScroll")
        self.scroller.setWidgetResizable(True)
        self.scroller.setFrameShape(QFrame.Shape.NoFrame)
        self.scroller.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.scroller.setWidget(self.cards)
        self.scroller.viewport().setAutoFillBackground(False)
        layout.addWidget(self.scroller, 1)
        self.badge: QLabel | None = None

    def show_column(self, column: BoardColumn, selected: int | None) -> None:
        self.column = column
        self.name.setText(column.name)
        self.name.setToolTip(column.name)
        self.summary.setText(column.summary)
        if self.badge is not None:
            self.badge.setParent(None)
            self.badge.deleteLater()
            self.badge = None
        if column.printer_status is not None:
            self.badge = chip(
                column.status_text.upper(), PRINTER_STATUS_COLOURS[column.printer_status]
            )
            self.badge.setToolTip(
                "Can print"
                if column.can_print
                else f"{column.name} is {column.status_text.lower()}: its jobs cannot print now."
            )
            self.badge_slot.addWidget(self.badge)
        self.cards.set_cards(
            [JobCardWidget(job, self._board, selected=job.id == selected) for job in column.cards]
        )

    def card_widget(self, job_id: int) -> JobCardWidget | None:
        return next((w for w in self.cards.cards if w.job.id == job_id), None)

    # -- drop target
    def _slot(self, pos: QPoint) -> int:
        return self.cards.slot_at(self.cards.mapFrom(self, pos).y())

    def _accepts(self, mime: QMimeData) -> bool:
        payload = self._board.payload_of(mime)
        return payload is not None and self._board.vm.accepts(payload[1], self.column.printer_id)

    def _set_target(self, on: bool) -> None:
        if bool(self.property("dropTarget")) != on:
            self.setProperty("dropTarget", on)
            _repolish(self)

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if self._accepts(event.mimeData()):
            event.setDropAction(Qt.DropAction.MoveAction)
            event.accept()
            self._set_target(True)
            self.cards.set_indicator(self._slot(event.position().toPoint()))
        else:
            event.ignore()

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:
        if not self._accepts(event.mimeData()):
            event.ignore()
            return
        event.setDropAction(Qt.DropAction.MoveAction)
        event.accept()
        pos = event.position().toPoint()
        inner = self.cards.mapFrom(self, pos)
        self.scroller.ensureVisible(inner.x(), inner.y(), 0, 40)  # scroll a long queue
        self._board.reveal(self, pos)
        self.cards.set_indicator(self._slot(pos))

    def dragLeaveEvent(self, event: QDragLeaveEvent) -> None:
        self._set_target(False)
        self.cards.set_indicator(None)

    def dropEvent(self, event: QDropEvent) -> None:
        self._set_target(False)
        self.cards.set_indicator(None)
        payload = self._board.payload_of(event.mimeData())
        if payload is None or not self._accepts(event.mimeData()):
            event.ignore()
            return
        event.setDropAction(Qt.DropAction.MoveAction)
        event.accept()
        slot = self._slot(event.position().toPoint())
        self._board.dropped(payload, self.column.printer_id, slot)


class BoardView(QScrollArea):
    """The row of columns, scrolling sideways when the shop has many printers."""

    def __init__(self, vm: JobsBoardViewModel, page: JobsPage) -> None:
        super().__init__()
        self.vm = vm
        self._page = page
        self.setObjectName("board")
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.row = QWidget()
        self.row.setObjectName("boardRow")
        self.row_layout = QHBoxLayout(self.row)
        self.row_layout.setContentsMargins(0, 0, 0, 4)
        self.row_layout.setSpacing(10)
        self.row_layout.addStretch(1)
        self.setWidget(self.row)
        self.viewport().setAutoFillBackground(False)
        self.columns: list[BoardColumnWidget] = []
        self._dragging = False
        self._pending = False
        self.redrawing = False

    # -- drawing
    def redraw(self) -> None:
        """Show the view model's columns; during a drag, wait until the drag is over (the
        dragged card's widget must outlive the drag)."""
        if self._dragging:
            self._pending = True
            return
        self._pending = False
        focused = QApplication.focusWidget()
        had_focus = focused is not None and self.isAncestorOf(focused)
        self.redrawing = True
        try:
            wanted = [c.printer_id for c in self.vm.columns]
            if [c.column.printer_id for c in self.columns] != wanted:
                for old in self.columns:
                    old.setParent(None)
                    old.deleteLater()
                self.columns = [BoardColumnWidget(self, column) for column in self.vm.columns]
                for n, widget in enumerate(self.columns):
                    self.row_layout.insertWidget(n, widget)
            for widget, column in zip(self.columns, self.vm.columns, strict=True):
                widget.show_column(column, self.vm.selected_id)
            if had_focus:
                self.focus_selected()
        finally:
            self.redrawing = False

    def show_selection(self) -> None:
        for column in self.columns:
            for widget in column.cards.cards:
                selected = widget.job.id == self.vm.selected_id
                if bool(widget.property("selected")) != selected:
                    widget.setProperty("selected", selected)
                    _repolish(widget)
                    if selected:
                        column.scroller.ensureWidgetVisible(widget, 0, 10)
                        self.ensureWidgetVisible(column, 10, 0)

    def focus_selected(self) -> None:
        widget = self.card_widget(self.vm.selected_id) if self.vm.selected_id else None
        if widget is not None:
            widget.setFocus(Qt.FocusReason.OtherFocusReason)

    def card_widget(self, job_id: int) -> JobCardWidget | None:
        for column in self.columns:
            found = column.card_widget(job_id)
            if found is not None:
                return found
        return None

    def column_widget(self, printer_id: int | None) -> BoardColumnWidget | None:
        return next((c for c in self.columns if c.column.printer_id == printer_id), None)

    # -- what cards and columns ask of the board
    def select(self, job_id: int) -> None:
        self.vm.select(job_id)

    def activate(self, job_id: int) -> None:
        self.vm.select(job_id)
        self._page.panel.status.setFocus(Qt.FocusReason.OtherFocusReason)

    def navigate(self, rows: int, columns: int) -> None:
        self.vm.select_next(rows, columns)
        self.focus_selected()

    def nudge(self, job_id: int, rows: int, columns: int) -> None:
        if rows:
            self.vm.move_by(job_id, rows)
        else:
            self.vm.move_to_neighbour(job_id, columns)
        self.focus_selected()

    def open_menu(self, job_id: int, where: QPoint) -> None:
        self._page.open_menu(job_id, where)

    def mime_data(self, job: JobCard) -> QMimeData:
        """What a dragged card carries: its id and version, and its number as plain text."""
        mime = QMimeData()
        mime.setData(JOB_MIME_TYPE, QByteArray(job.payload))
        mime.setText(job.label)
        return mime

    @staticmethod
    def payload_of(mime: QMimeData) -> tuple[bytes, int] | None:
        """The dragged card's payload and job id, when ``mime`` is a card of this board."""
        if not mime.hasFormat(JOB_MIME_TYPE):
            return None
        data = bytes(mime.data(JOB_MIME_TYPE).data())
        decoded = decode_payload(data)
        return (data, decoded[0]) if decoded else None

    def start_drag(self, widget: JobCardWidget, hot_spot: QPoint) -> None:
        drag = QDrag(widget)
        drag.setMimeData(self.mime_data(widget.job))
        pixmap = widget.grab()
        drag.setPixmap(pixmap)
        drag.setHotSpot(hot_spot)
        self._dragging = True
        self._page.drag_started.emit(widget.job.id)
        try:
            drag.exec(Qt.DropAction.MoveAction)
        finally:
            self._dragging = False
            if self._pending:
                QTimer.singleShot(0, self.redraw)

    def reveal(self, column: BoardColumnWidget, pos: QPoint) -> None:
        """Scroll sideways while a card is dragged near the board's edge."""
        inner = column.mapTo(self.row, pos)
        self.ensureVisible(inner.x(), inner.y(), 60, 0)

    def dropped(self, payload: tuple[bytes, int], printer_id: int | None, slot: int) -> None:
        self.vm.drop(payload[0], printer_id, slot)


# ---------------------------------------------------------------------------------------------
# The side panel


def _rule() -> QFrame:
    line = QFrame()
    line.setObjectName("rule")
    return line


class JobPanel(QFrame):
    """The selected job: its status, priority and printer, and the facts about it."""

    def __init__(self, vm: JobsBoardViewModel) -> None:
        super().__init__()
        self.vm = vm
        self.setObjectName("card")
        self.setFixedWidth(PANEL_WIDTH)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(18, 16, 18, 14)
        outer.setSpacing(10)

        self.stack = QStackedWidget()
        outer.addWidget(self.stack, 1)

        nothing = QLabel("Select a job to see it here and change its status, priority or printer.")
        nothing.setObjectName("empty")
        nothing.setStyleSheet("padding: 20px;")
        nothing.setWordWrap(True)
        nothing.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.stack.addWidget(nothing)

        details = QWidget()
        column = QVBoxLayout(details)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(8)
        top = QHBoxLayout()
        self.number = QLabel()
        self.number.setObjectName("panelNumber")
        top.addWidget(self.number, 1)
        self.priority_slot = QHBoxLayout()
        top.addLayout(self.priority_slot)
        column.addLayout(top)
        self.client = QLabel()
        self.client.setObjectName("panelClient")
        self.client.setWordWrap(True)
        column.addWidget(self.client)
        self.title = QLabel()
        self.title.setObjectName("panelTitle")
        self.title.setWordWrap(True)
        column.addWidget(self.title)
        column.addWidget(_rule())

        form = QFormLayout()
        form.setHorizontalSpacing(10)
        form.setVerticalSpacing(8)
        form.setLabelAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        self.status = ChevronCombo()
        for status in vm.statuses:
            self.status.addItem(STATUS_LABELS[status], status.value)
        self.status.activated.connect(self._status_chosen)
        form.addRow("Status", self.status)
        self.priority = ChevronCombo()
        for priority in vm.priorities:
            self.priority.addItem(PRIORITY_LABELS[priority], priority.value)
        self.priority.activated.connect(self._priority_chosen)
        form.addRow("Priority", self.priority)
        self.printer = ChevronCombo()
        self.printer.activated.connect(self._printer_chosen)
        form.addRow("Printer", self.printer)
        column.addLayout(form)
        column.addWidget(_rule())

        facts = QFormLayout()
        facts.setHorizontalSpacing(10)
        facts.setVerticalSpacing(5)
        self.facts: dict[str, QLabel] = {}
        for key, label in (
            ("queue", "Position"),
            ("hours", "Estimate"),
            ("started", "Started"),
            ("completed", "Completed"),
            ("notes", "Notes"),
        ):
            caption = QLabel(label)
            caption.setObjectName("factLabel")
            value = QLabel()
            value.setWordWrap(True)
            value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            facts.addRow(caption, value)
            self.facts[key] = value
        self._fact_rows = facts
        column.addLayout(facts)
        self.open_invoice = QPushButton("Open invoice")
        self.open_invoice.clicked.connect(self._open_invoice)
        column.addWidget(self.open_invoice, 0, Qt.AlignmentFlag.AlignLeft)
        column.addStretch(1)
        self.stack.addWidget(details)

        hint = QLabel(
            "Drag a card to reorder a queue or onto a printer. Arrow keys pick a card, "
            "Ctrl+arrows move it, the Menu key opens its menu, F5 reloads."
        )
        hint.setObjectName("hint")
        hint.setWordWrap(True)
        outer.addWidget(hint)
        self._priority_chip: QLabel | None = None

    def show_job(self) -> None:
        job = self.vm.selected
        if job is None:
            self.stack.setCurrentIndex(0)
            return
        self.stack.setCurrentIndex(1)
        self.number.setText(job.label)
        self.client.setText(job.client_name)
        self.title.setText(job.title)
        if self._priority_chip is not None:
            self._priority_chip.setParent(None)
            self._priority_chip.deleteLater()
            self._priority_chip = None
        if job.priority in PRIORITY_COLOURS:
            self._priority_chip = chip(job.priority_text, PRIORITY_COLOURS[job.priority])
            self.priority_slot.addWidget(self._priority_chip)
        self.status.setCurrentIndex(self.status.findData(job.status.value))
        self.status.setEnabled(not job.is_final)
        self.status.setToolTip(
            "Completed and cancelled jobs keep their status." if job.is_final else ""
        )
        self.priority.setCurrentIndex(self.priority.findData(job.priority.value))
        self.priority.setEnabled(not job.is_final)
        self.printer.clear()
        for column in self.vm.columns:
            text = column.name
            if column.printer_status is not None and not column.can_print:
                text += f" ({column.status_text.lower()})"
            self.printer.addItem(text, column.printer_id)
        self.printer.setCurrentIndex(self.printer.findData(job.printer_id))
        self.printer.setEnabled(
            not job.is_final and job.status is not JobStatus.PRINTING and self.printer.count() > 1
        )
        self.printer.setToolTip(
            "A printing job stays on its printer; pause it first."
            if job.status is JobStatus.PRINTING
            else ""
        )
        where = self.vm.column_of(job.id)
        if where is not None and not job.is_final:
            place = [c.id for c in where.open_cards].index(job.id) + 1
            queue = f"{place} of {len(where.open_cards)} on {where.name}"
        else:
            queue = "—"
        self._fact("queue", queue)
        self._fact("hours", job.hours_text or "No slicing estimate")
        self._fact("started", job.started_text)
        self._fact("completed", job.completed_text)
        self._fact("notes", job.notes)

    def _fact(self, key: str, text: str) -> None:
        label = self.facts[key]
        label.setText(text)
        self._fact_rows.setRowVisible(label, bool(text))

    def _status_chosen(self, index: int) -> None:
        job = self.vm.selected
        if job is not None:
            self.vm.set_status(job.id, JobStatus(self.status.itemData(index)))

    def _priority_chosen(self, index: int) -> None:
        job = self.vm.selected
        if job is not None:
            self.vm.set_priority(job.id, JobPriority(self.priority.itemData(index)))

    def _printer_chosen(self, index: int) -> None:
        job = self.vm.selected
        if job is not None:
            self.vm.assign(job.id, self.printer.itemData(index))

    def _open_invoice(self) -> None:
        job = self.vm.selected
        if job is not None:
            self.vm.open_invoice(job.id)


# ---------------------------------------------------------------------------------------------
# The page


class JobsPage(Page):
    drag_started = Signal(int)  # a card's drag began (its job id)

    def __init__(self, vm: JobsBoardViewModel) -> None:
        super().__init__("Jobs", "")
        self.vm = vm
        self.menu: QMenu | None = None
        self.setStyleSheet(STYLE)

        self.loading = LoadingBadge(vm.loading_changed, loading=vm.loading)
        self.action_row.addWidget(self.loading)
        self.finished_toggle = self.add_action("Show completed")
        self.finished_toggle.setObjectName("filter")
        self.finished_toggle.setCheckable(True)
        self.finished_toggle.setToolTip("Also show completed and cancelled jobs")
        self.finished_toggle.toggled.connect(vm.set_show_finished)
        self.reload_button = self.add_action("Reload")
        self.reload_button.setToolTip("Read the board again (F5)")
        self.reload_button.clicked.connect(self.reload)

        self.board = BoardView(vm, self)
        self.empty = QLabel()
        self.empty.setObjectName("empty")
        self.empty.setWordWrap(True)
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        empty_card = card()
        QVBoxLayout(empty_card).addWidget(self.empty)
        self.board_stack = QStackedWidget()
        self.board_stack.addWidget(self.board)
        self.board_stack.addWidget(empty_card)

        self.panel = JobPanel(vm)
        content = QWidget()
        row = QHBoxLayout(content)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(16)
        row.addWidget(self.board_stack, 1)
        row.addWidget(self.panel)
        self.add(content, 1)

        QShortcut(QKeySequence(QKeySequence.StandardKey.Refresh), self, self.reload)
        QShortcut(QKeySequence("Ctrl+R"), self, self.reload)
        vm.board_changed.connect(self._board_changed)
        vm.selection_changed.connect(self._selection_changed)
        self._board_changed()
        self._selection_changed()

    # -- commands
    def activated(self) -> None:
        self.vm.load()

    def reload(self) -> None:
        self.vm.refresh()

    def open_menu(self, job_id: int, where: QPoint) -> None:
        """The card's menu: status, priority, printer and queue moves."""
        job = self.vm.card(job_id)
        if job is None:
            return
        if self.menu is not None and shiboken6.isValid(self.menu):
            self.menu.close()
        menu = QMenu(self)
        menu.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        status_menu = menu.addMenu("Status")
        status_menu.setEnabled(not job.is_final)
        for status in self.vm.statuses:
            self._menu_action(
                status_menu,
                STATUS_LABELS[status],
                checked=status is job.status,
                run=partial(self.vm.set_status, job_id, status),
            )
        priority_menu = menu.addMenu("Priority")
        priority_menu.setEnabled(not job.is_final)
        for priority in self.vm.priorities:
            self._menu_action(
                priority_menu,
                PRIORITY_LABELS[priority],
                checked=priority is job.priority,
                run=partial(self.vm.set_priority, job_id, priority),
            )
        move_menu = menu.addMenu("Move to")
        move_menu.setEnabled(self.vm.can_move(job_id))
        for column in self.vm.columns:
            action = self._menu_action(
                move_menu,
                column.name,
                checked=column.printer_id == job.printer_id,
                run=partial(self.vm.assign, job_id, column.printer_id),
            )
            action.setEnabled(self.vm.accepts(job_id, column.printer_id))
        menu.addSeparator()
        up = self._menu_action(menu, "Move up", run=lambda: self.vm.move_by(job_id, -1))
        up.setShortcut(QKeySequence("Ctrl+Up"))
        up.setEnabled(self.vm.can_move(job_id))
        down = self._menu_action(menu, "Move down", run=lambda: self.vm.move_by(job_id, 1))
        down.setShortcut(QKeySequence("Ctrl+Down"))
        down.setEnabled(self.vm.can_move(job_id))
        menu.addSeparator()
        self._menu_action(menu, "Open invoice", run=lambda: self.vm.open_invoice(job_id))
        self.menu = menu
        menu.popup(where)

    @staticmethod
    def _menu_action(
        menu: QMenu, text: str, *, run: Callable[[], object], checked: bool | None = None
    ) -> QAction:
        action = menu.addAction(text)
        if checked is not None:
            action.setCheckable(True)
            action.setChecked(checked)
        action.triggered.connect(lambda _=False: run())
        return action

    # -- binding
    def _board_changed(self) -> None:
        self.subtitle.setText(self.vm.summary_text if self.vm.loaded else "")
        self.subtitle.setVisible(self.vm.loaded)
        self.empty.setText(self.vm.empty_text if self.vm.loaded else "Reading the board…")
        empty = not self.vm.loaded or self.vm.is_empty
        self.board_stack.setCurrentIndex(1 if empty else 0)
        self.panel.setVisible(not empty)
        if self.finished_toggle.isChecked() != self.vm.show_finished:
            self.finished_toggle.setChecked(self.vm.show_finished)
        self.board.redraw()

    def _selection_changed(self) -> None:
        self.board.show_selection()
        self.panel.show_job()


def build_jobs_page(ctx: AppContext, shell: ShellViewModel) -> JobsPage:
    """The jobs board and its view model (``page.vm``): call ``page.vm.refresh()`` when another
    counter changes a job or a printer; wire ``page.vm.open_document`` like the clients page's."""
    return JobsPage(JobsBoardViewModel(ctx, shell))
