"""The dashboard page: the shop's figures as cards, each one a door to the list behind it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from functools import partial

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeyEvent, QKeySequence, QMouseEvent, QPainter, QPaintEvent, QShortcut
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
)

from desktop.viewmodels.context import AppContext
from desktop.viewmodels.dashboard import DashboardViewModel, FigureCard
from desktop.viewmodels.shell import ShellViewModel
from desktop.views.loading import LoadingBadge
from desktop.views.page import Page
from desktop.views.theme import ACCENT, BAD, LINE, MUTED

STYLE = f"""
QFrame#card[clickable="true"]:hover {{ border: 1px solid {ACCENT}; }}
QFrame#card[clickable="true"]:focus {{ border: 2px solid {ACCENT}; }}
QFrame#card[alarm="true"] {{ background: #fdf3f1; border: 1px solid #e6b3ab; }}
QFrame#card[alarm="true"]:hover {{ border: 1px solid {BAD}; }}
QFrame#card[alarm="true"] QLabel#figure {{ color: {BAD}; }}
QLabel#cardTitle {{ color: {MUTED}; font-size: 9.5pt; font-weight: 600; }}
QLabel#cardHint {{ color: {ACCENT}; font-size: 9pt; }}
QLabel#stage {{ color: #3d4a5a; }}
QLabel#stageIdle {{ color: #a8b2bf; }}
QLabel#stageCount {{ font-weight: 700; }}
QLabel#lateDays {{ color: {BAD}; }}
QLabel#lateAmount {{ color: {BAD}; font-weight: 600; }}
QFrame#banner {{ background: #eaf2fb; border: 1px solid #bcd4ee; border-radius: 10px; }}
QFrame#banner QLabel {{ color: #23476e; font-size: 10.5pt; }}
QFrame#rule {{ background: {LINE}; border: none; max-height: 1px; }}
QProgressBar {{ background: #eef1f5; border: none; border-radius: 4px; }}
QProgressBar::chunk {{ background: {ACCENT}; border-radius: 4px; }}
"""


class ClickableCard(QFrame):
    """A card that opens something: by mouse, or Enter / Space when it has the focus."""

    def __init__(self, on_click: Callable[[], None]) -> None:
        super().__init__()
        self._on_click = on_click
        self.setObjectName("card")
        self.setProperty("clickable", True)
        self.setProperty("alarm", False)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setAttribute(Qt.WidgetAttribute.WA_Hover)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton and self.rect().contains(
            event.position().toPoint()
        ):
            self._on_click()
            event.accept()
            return
        super().mouseReleaseEvent(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_Space):
            self._on_click()
            event.accept()
            return
        super().keyPressEvent(event)

    def set_alarm(self, alarm: bool) -> None:
        if bool(self.property("alarm")) != alarm:
            self.setProperty("alarm", alarm)
            self.style().unpolish(self)
            self.style().polish(self)
            for child in self.findChildren(QLabel):
                self.style().unpolish(child)
                self.style().polish(child)


class FigureCardWidget(ClickableCard):
    def __init__(self, on_click: Callable[[], None]) -> None:
        super().__init__(on_click)
        self.setMinimumHeight(140)
        column = QVBoxLayout(self)
        column.setContentsMargins(20, 16, 20, 14)
        column.setSpacing(4)
        self.title = QLabel()
        self.title.setObjectName("cardTitle")
        self.value = QLabel()
        self.value.setObjectName("figure")
        self.caption = QLabel()
        self.caption.setObjectName("figureCaption")
        self.caption.setWordWrap(True)
        self.hint = QLabel()
        self.hint.setObjectName("cardHint")
        column.addWidget(self.title)
        column.addWidget(self.value)
        column.addWidget(self.caption)
        column.addStretch(1)
        column.addWidget(self.hint)

    def show_figure(self, figure: FigureCard) -> None:
        self.title.setText(figure.title.upper())
        self.value.setText(figure.value)
        self.caption.setText(figure.caption)
        self.hint.setText(f"{figure.hint}  →")
        self.setToolTip(figure.hint)
        self.setAccessibleName(f"{figure.title}: {figure.value}")
        self.set_alarm(figure.alarm)


class ElidedLabel(QLabel):
    """One line that ends in … when the column is too narrow, instead of widening the card."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setToolTip(text)
        self.setMinimumWidth(40)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        rect = self.contentsRect()
        text = self.fontMetrics().elidedText(self.text(), Qt.TextElideMode.ElideRight, rect.width())
        painter.setPen(self.palette().color(self.foregroundRole()))
        painter.drawText(rect, int(self.alignment()), text)


def _rule() -> QFrame:
    line = QFrame()
    line.setObjectName("rule")
    line.setFixedHeight(1)
    return line


def _clear(layout: QGridLayout | QVBoxLayout) -> None:
    while layout.count():
        item = layout.takeAt(0)
        widget = item.widget() if item is not None else None
        if widget is not None:
            widget.hide()  # at once: deleteLater leaves it painted until the loop runs
            widget.deleteLater()


class DashboardPage(Page):
    def __init__(self, vm: DashboardViewModel) -> None:
        super().__init__("Dashboard", "")
        self.vm = vm
        self.setStyleSheet(STYLE)
        self.loading = LoadingBadge(vm.loading_changed, loading=vm.loading)
        self.action_row.addWidget(self.loading)
        self.refresh_button = self.add_action("Refresh")
        self.refresh_button.setToolTip("Read the figures again (F5)")
        self.refresh_button.clicked.connect(vm.refresh)
        QShortcut(QKeySequence(QKeySequence.StandardKey.Refresh), self, vm.refresh)

        self.banner = QFrame()
        self.banner.setObjectName("banner")
        banner_row = QHBoxLayout(self.banner)
        banner_row.setContentsMargins(18, 12, 18, 12)
        self.banner_text = QLabel(vm.empty_message)
        self.banner_text.setWordWrap(True)
        banner_row.addWidget(self.banner_text, 1)
        self.banner_buttons: dict[str, QPushButton] = {}
        for text, screen in (("Go to Quotes", "quotes"), ("Go to Invoices", "invoices")):
            button = QPushButton(text)
            button.clicked.connect(lambda _=False, screen=screen: vm.go(screen))
            banner_row.addWidget(button)
            self.banner_buttons[screen] = button
        self.banner.setVisible(False)
        self.add(self.banner)

        row = QHBoxLayout()
        row.setSpacing(14)
        self.cards: dict[str, ClickableCard] = {}
        self.figures: dict[str, FigureCardWidget] = {}
        for key in ("outstanding", "overdue", "received", "quotes"):
            widget = FigureCardWidget(partial(vm.open, key))
            row.addWidget(widget, 1)
            self.cards[key] = widget
            self.figures[key] = widget
        self.layout_.addLayout(row)

        lower = QHBoxLayout()
        lower.setSpacing(14)
        left = QVBoxLayout()
        left.setSpacing(14)
        left.addWidget(self._jobs_card())
        left.addWidget(self._overdue_card(), 1)
        lower.addLayout(left, 1)
        lower.addWidget(self._activity_card(), 1)
        self.layout_.addLayout(lower, 1)

        vm.changed.connect(self._show)
        self._show()

    # -- the two lower cards
    def _jobs_card(self) -> QFrame:
        card = ClickableCard(lambda: self.vm.open("jobs"))
        self.cards["jobs"] = card
        column = QVBoxLayout(card)
        column.setContentsMargins(20, 16, 20, 14)
        column.setSpacing(8)
        head = QHBoxLayout()
        title = QLabel("JOBS BY STATUS")
        title.setObjectName("cardTitle")
        head.addWidget(title, 1)
        self.jobs_total = QLabel()
        self.jobs_total.setObjectName("figureCaption")
        head.addWidget(self.jobs_total)
        column.addLayout(head)
        column.addWidget(_rule())
        self.stages = QGridLayout()
        self.stages.setHorizontalSpacing(12)
        self.stages.setVerticalSpacing(9)
        self.stages.setColumnStretch(1, 1)
        self.stages.setColumnMinimumWidth(0, 130)
        column.addLayout(self.stages)
        hint = QLabel("Open the jobs board  →")
        hint.setObjectName("cardHint")
        column.addWidget(hint)
        return card

    def _overdue_card(self) -> QFrame:
        card = ClickableCard(lambda: self.vm.open("overdue"))
        self.cards["overdue-list"] = card
        column = QVBoxLayout(card)
        column.setContentsMargins(20, 16, 20, 14)
        column.setSpacing(8)
        title = QLabel("MOST OVERDUE — WHO TO CALL")
        title.setObjectName("cardTitle")
        column.addWidget(title)
        column.addWidget(_rule())
        self.late_rows = QGridLayout()
        self.late_rows.setHorizontalSpacing(16)
        self.late_rows.setVerticalSpacing(10)
        self.late_rows.setColumnStretch(1, 1)
        column.addLayout(self.late_rows)
        column.addStretch(1)
        self.late_more = QLabel()
        self.late_more.setObjectName("muted")
        column.addWidget(self.late_more)
        hint = QLabel("Open overdue invoices  →")
        hint.setObjectName("cardHint")
        column.addWidget(hint)
        return card

    def _activity_card(self) -> QFrame:
        box = QFrame()
        box.setObjectName("card")
        column = QVBoxLayout(box)
        column.setContentsMargins(20, 16, 20, 14)
        column.setSpacing(8)
        title = QLabel("LATEST AT EVERY COUNTER")
        title.setObjectName("cardTitle")
        column.addWidget(title)
        column.addWidget(_rule())
        self.activity_rows = QGridLayout()
        self.activity_rows.setHorizontalSpacing(14)
        self.activity_rows.setVerticalSpacing(10)
        self.activity_rows.setColumnStretch(1, 1)
        column.addLayout(self.activity_rows)
        column.addStretch(1)
        return box

    # -- binding
    def _show(self) -> None:
        vm = self.vm
        today = dt.date.today()
        shop = f"{vm.shop_name}  ·  " if vm.shop_name else ""
        self.subtitle.setText(f"{shop}{today:%A} {today.day} {today:%B %Y}")
        self.subtitle.setVisible(True)
        self.banner.setVisible(vm.is_new_shop)
        for figure in vm.cards:
            self.figures[figure.key].show_figure(figure)

        jobs = vm.card("jobs")
        self.jobs_total.setText(f"{jobs.value} open  ·  {jobs.caption}")
        _clear(self.stages)
        stages = vm.jobs
        most = max((s.count for s in stages), default=0)
        for row, stage in enumerate(stages):
            label = QLabel(stage.label)
            label.setObjectName("stage" if stage.count else "stageIdle")
            bar = QProgressBar()
            bar.setTextVisible(False)
            bar.setFixedHeight(8)
            bar.setRange(0, max(most, 1))
            bar.setValue(stage.count)
            count = QLabel(str(stage.count))
            count.setObjectName("stageCount" if stage.count else "stageIdle")
            count.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            count.setMinimumWidth(28)
            self.stages.addWidget(label, row, 0)
            self.stages.addWidget(bar, row, 1, Qt.AlignmentFlag.AlignVCenter)
            self.stages.addWidget(count, row, 2)

        _clear(self.late_rows)
        late = vm.overdue_invoices
        if not late:
            none = QLabel("Nothing is overdue." if vm.loaded else "")
            none.setObjectName("muted")
            self.late_rows.addWidget(none, 0, 0, 1, 4)
        for row, invoice in enumerate(late):
            number = QLabel(invoice.number)
            number.setObjectName("stageCount")
            client = QLabel(invoice.client_name)
            client.setTextFormat(Qt.TextFormat.PlainText)
            days = QLabel(
                f"{invoice.days_late} days late" if invoice.days_late != 1 else "1 day late"
            )
            days.setObjectName("lateDays")
            days.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            amount = QLabel(invoice.balance)
            amount.setObjectName("lateAmount")
            amount.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            amount.setMinimumWidth(110)
            for col, widget in enumerate((number, client, days, amount)):
                self.late_rows.addWidget(widget, row, col)
        _clear(self.activity_rows)
        lines = vm.recent_activity
        if not lines:
            quiet = QLabel("Nothing has happened yet." if vm.loaded else "")
            quiet.setObjectName("muted")
            self.activity_rows.addWidget(quiet, 0, 0, 1, 3)
        for row, line in enumerate(lines):
            when = QLabel(line.when)
            when.setObjectName("muted")
            what = ElidedLabel(line.message)
            who = QLabel(line.who)
            who.setObjectName("muted")
            who.setTextFormat(Qt.TextFormat.PlainText)
            who.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            self.activity_rows.addWidget(when, row, 0)
            self.activity_rows.addWidget(what, row, 1)
            self.activity_rows.addWidget(who, row, 2)

        more = vm.overdue_not_shown
        self.late_more.setText(f"and {more} more overdue" if more else "")
        self.late_more.setVisible(bool(more))

    def activated(self) -> None:
        self.vm.refresh()


def build_dashboard_page(ctx: AppContext, shell: ShellViewModel) -> DashboardPage:
    """The dashboard page and its view model (``page.vm``; wire ``page.vm.open_list``)."""
    return DashboardPage(DashboardViewModel(ctx, shell))
