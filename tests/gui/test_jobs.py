"""The jobs board, used as a person at the counter would — dragging cards, picking statuses —
and checked against the database."""

# pytest-qt's input helpers carry no annotations.
# mypy: disable-error-code="no-untyped-call"

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from PySide6.QtCore import QMimeData, QPoint, QPointF, QSettings, Qt
from PySide6.QtGui import (
    QContextMenuEvent,
    QDragEnterEvent,
    QDragMoveEvent,
    QDropEvent,
    QGuiApplication,
)
from PySide6.QtWidgets import QApplication, QComboBox, QHBoxLayout, QMenu, QWidget
from pytestqt.qtbot import QtBot

from core.actor import Actor
from core.db.engine import Database
from core.enums import JobPriority, JobStatus, PrinterStatus
from core.services import jobs, printers
from desktop.viewmodels.context import AppContext
from desktop.viewmodels.notifier import Notice, Notifier
from desktop.viewmodels.shell import ShellViewModel
from desktop.views.jobs import JobCardWidget, JobsPage, build_jobs_page
from desktop.views.theme import STYLESHEET
from desktop.views.toast import ToastArea
from tests.gui.test_jobs_vm import make_jobs, printer_ids, queue, stored
from workers.tasks import TaskRunner

pytestmark = pytest.mark.no_gui_thread_sql


@dataclass
class Board:
    page: JobsPage
    host: QWidget
    notices: list[Notice]
    toasts: ToastArea

    def card(self, job_id: int) -> JobCardWidget:
        widget = self.page.board.card_widget(job_id)
        assert widget is not None, f"job {job_id} is not on the board"
        return widget

    def laid_out(self) -> bool:
        """Every card has its place in its column (layouts settle after the redraw)."""
        return all(
            card.isVisible() and column.cards.rect().contains(card.geometry())
            for column in self.page.board.columns
            for card in column.cards.cards
        )

    def column_ids(self, printer_id: int | None) -> list[int]:
        column = self.page.board.column_widget(printer_id)
        assert column is not None
        return [w.job.id for w in column.cards.cards]

    def toast_texts(self) -> list[str]:
        return [t.label.text() for t in self.toasts.toasts]


Opener = Callable[[Actor], Board]


@pytest.fixture
def open_board(qtbot: QtBot, database: Database, tmp_path: Path) -> Opener:
    """The jobs page alone in a window, styled as in the app, with toasts like the main
    window's."""
    hosts: list[QWidget] = []  # qtbot holds widgets weakly; the test holds its windows

    def opener(actor: Actor) -> Board:
        notifier = Notifier()
        notices: list[Notice] = []
        notifier.posted.connect(notices.append)
        settings = QSettings(str(tmp_path / "shell.ini"), QSettings.Format.IniFormat)
        shell = ShellViewModel(user_label="test", database_label="test", settings=settings)
        page = build_jobs_page(AppContext(database, actor, notifier, TaskRunner()), shell)
        host = QWidget()
        host.setStyleSheet(STYLESHEET)
        QHBoxLayout(host).addWidget(page)
        host.resize(1240, 860)
        toasts = ToastArea(host)
        notifier.posted.connect(toasts.show)
        qtbot.addWidget(host)
        hosts.append(host)
        host.show()
        qtbot.waitExposed(host)
        page.activated()
        qtbot.waitUntil(lambda: page.vm.loaded and not page.vm.loading)
        board = Board(page, host, notices, toasts)
        qtbot.waitUntil(board.laid_out)
        return board

    return opener


def start_drag(qtbot: QtBot, board: Board, card: JobCardWidget) -> QMimeData:
    """Press on the card and move the mouse past the drag distance, as a hand would.

    The offscreen platform ends a QDrag at once (there is no pointer to follow), so the drop
    is delivered by ``drop_at``; on a real display the drag's own loop would wait for it.
    """
    grip = QPoint(40, 18)
    qtbot.waitUntil(board.laid_out)
    if QGuiApplication.platformName() == "offscreen":
        qtbot.mousePress(card, Qt.MouseButton.LeftButton, pos=grip)
        with qtbot.waitSignal(board.page.drag_started, timeout=2000) as started:
            qtbot.mouseMove(card, grip + QPoint(12, QApplication.startDragDistance() + 20))
        assert started.args == [card.job.id]
        qtbot.mouseRelease(card, Qt.MouseButton.LeftButton, pos=grip)
    return board.page.board.mime_data(card.job)


def drop_at(window: QWidget, target: QWidget, pos: QPoint, mime: QMimeData) -> bool:
    """Deliver DragEnter, DragMove and Drop to the window as the platform would: Qt finds
    the widget under the point that accepts drops and hands it the events."""
    handle = window.windowHandle()
    assert handle is not None
    point = target.mapTo(window, pos)
    action = Qt.DropAction.MoveAction
    left, none = Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    enter = QDragEnterEvent(point, action, mime, left, none)
    QApplication.sendEvent(handle, enter)
    move = QDragMoveEvent(point, action, mime, left, none)
    QApplication.sendEvent(handle, move)
    drop = QDropEvent(QPointF(point), action, mime, left, none)
    QApplication.sendEvent(handle, drop)
    return drop.isAccepted()


def test_dragging_a_card_from_unassigned_onto_a_printer_assigns_it_at_the_dropped_slot(
    qtbot: QtBot, open_board: Opener, database: Database, admin: Actor, staff: Actor
) -> None:
    ids = printer_ids(database, admin)
    ender = ids["Ender 3"]
    a, b, c, d = make_jobs(database, admin, "Ada", "Bea", "Cy", "Dee")
    with database.session() as s:
        jobs.move_job(s, admin, c, ender, 1)
        jobs.move_job(s, admin, d, ender, 2)
    board = open_board(staff)
    assert board.column_ids(None) == [a, b]
    assert board.column_ids(ender) == [c, d]

    mime = start_drag(qtbot, board, board.card(b))
    # Drop it on the upper half of Dee's card: it goes between Cy and Dee.
    target = board.card(d)
    assert drop_at(board.host, target, QPoint(target.width() // 2, 6), mime)

    qtbot.waitUntil(
        lambda: queue(database, ender) == [c, b, d]
    )  # the database has it at position 2
    assert queue(database, None) == [a]
    assert stored(database)[b][:2] == (ender, 2)
    qtbot.waitUntil(lambda: board.column_ids(ender) == [c, b, d])
    assert board.column_ids(None) == [a]
    assert board.page.subtitle.text() == "4 open jobs · 0 printing · 1 unassigned"
    assert board.notices == []


def test_dragging_within_a_column_reorders_its_queue(
    qtbot: QtBot, open_board: Opener, database: Database, admin: Actor
) -> None:
    a, b, c = make_jobs(database, admin, "Ada", "Bea", "Cy")
    board = open_board(admin)
    mime = start_drag(qtbot, board, board.card(c))
    first = board.card(a)
    assert drop_at(board.host, first, QPoint(first.width() // 2, 4), mime)
    qtbot.waitUntil(lambda: queue(database, None) == [c, a, b])
    qtbot.waitUntil(lambda: board.column_ids(None) == [c, a, b])

    # Dropped on the empty space under the last card: it goes last.
    mime = start_drag(qtbot, board, board.card(c))
    column = board.page.board.column_widget(None)
    assert column is not None
    assert drop_at(board.host, column, QPoint(column.width() // 2, column.height() - 30), mime)
    qtbot.waitUntil(lambda: queue(database, None) == [a, b, c])
    qtbot.waitUntil(lambda: board.column_ids(None) == [a, b, c])


def test_printing_on_a_printer_in_maintenance_is_refused_with_a_toast(
    qtbot: QtBot, open_board: Opener, database: Database, admin: Actor
) -> None:
    ids = printer_ids(database, admin)
    (a,) = make_jobs(database, admin, "Ada")
    with database.session() as s:
        jobs.move_job(s, admin, a, ids["Ender 3"], 1)
        printers.set_printer_status(s, admin, ids["Ender 3"], PrinterStatus.MAINTENANCE)
    before = stored(database)
    board = open_board(admin)
    column = board.page.board.column_widget(ids["Ender 3"])
    assert column is not None and column.badge is not None
    assert column.badge.text() == "MAINTENANCE"

    qtbot.mouseClick(board.card(a), Qt.MouseButton.LeftButton)
    panel = board.page.panel
    qtbot.waitUntil(lambda: panel.number.text() == board.card(a).job.label)
    choose(qtbot, panel.status, "Printing")

    message = "Ender 3 is maintenance; it cannot print now."
    qtbot.waitUntil(lambda: message in board.toast_texts())
    assert stored(database) == before
    assert panel.status.currentText() == "Queued"  # the panel shows what the database says
    assert board.card(a).job.status is JobStatus.QUEUED


def choose(qtbot: QtBot, combo: QComboBox, text: str) -> None:
    """Pick ``text`` as a person at the keyboard does: open the list, arrow to it, Enter."""
    combo.setFocus(Qt.FocusReason.TabFocusReason)
    qtbot.keyClick(combo, Qt.Key.Key_Down)  # opens the list; it never steps the value
    view = combo.view()
    qtbot.waitUntil(view.isVisible)
    row = combo.findText(text)
    assert row >= 0, text
    here = combo.currentIndex()
    for _ in range(abs(row - here)):
        qtbot.keyClick(view, Qt.Key.Key_Down if row > here else Qt.Key.Key_Up)
    assert view.currentIndex().row() == row
    qtbot.keyClick(view, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: not view.isVisible())


def test_the_panel_and_the_card_menu_change_status_and_priority(
    qtbot: QtBot, open_board: Opener, database: Database, admin: Actor
) -> None:
    ids = printer_ids(database, admin)
    a, b = make_jobs(database, admin, "Ada", "Bea")
    with database.session() as s:
        jobs.move_job(s, admin, a, ids["Prusa MK4"], 1)
    board = open_board(admin)
    qtbot.mouseClick(board.card(a), Qt.MouseButton.LeftButton)
    panel = board.page.panel
    assert [panel.status.itemText(n) for n in range(panel.status.count())] == [
        "Queued",
        "Pre-processing",
        "In queue",
        "Printing",
        "Paused",
        "Printing complete",
        "Post-processing",
        "Packaging",
        "Out for delivery",
        "Completed",
        "Cancelled",
    ]
    choose(qtbot, panel.status, "Printing")
    qtbot.waitUntil(lambda: stored(database)[a][2] is JobStatus.PRINTING)
    qtbot.waitUntil(lambda: board.card(a).status_chip.text() == "Printing")
    assert not panel.printer.isEnabled()  # a printing job stays on its printer
    choose(qtbot, panel.priority, "Fast track")
    qtbot.waitUntil(lambda: stored(database)[a][3] is JobPriority.FAST_TRACK)

    # The card's menu, opened as a right-click opens it.
    card = board.card(b)
    QApplication.sendEvent(
        card,
        QContextMenuEvent(
            QContextMenuEvent.Reason.Mouse, QPoint(20, 20), card.mapToGlobal(QPoint(20, 20))
        ),
    )
    menu = board.page.menu
    assert menu is not None
    qtbot.waitUntil(menu.isVisible)
    pick_from_menu(qtbot, menu, "Priority", "Urgent")
    qtbot.waitUntil(lambda: stored(database)[b][3] is JobPriority.URGENT)
    qtbot.waitUntil(lambda: board.card(b).property("priority") == "URGENT")
    assert board.notices == []


def pick_from_menu(qtbot: QtBot, menu: QMenu, *path: str) -> None:
    """Walk the menu with the keyboard: Down to each entry, Right into a submenu, Enter."""
    for depth, text in enumerate(path):
        qtbot.waitUntil(menu.isVisible)
        for _ in range(len(menu.actions()) + 1):
            active = menu.activeAction()
            if active is not None and active.text() == text:
                break
            qtbot.keyClick(menu, Qt.Key.Key_Down)
        active = menu.activeAction()
        assert active is not None and active.text() == text
        if depth == len(path) - 1:
            qtbot.keyClick(menu, Qt.Key.Key_Return)
            return
        qtbot.keyClick(menu, Qt.Key.Key_Right)
        sub = active.menu()
        assert isinstance(sub, QMenu)
        menu = sub


def test_a_card_moved_at_another_counter_says_changed_elsewhere_and_the_board_reloads(
    qtbot: QtBot, open_board: Opener, database: Database, admin: Actor
) -> None:
    ids = printer_ids(database, admin)
    a, b = make_jobs(database, admin, "Ada", "Bea")
    board = open_board(admin)
    mime = start_drag(qtbot, board, board.card(a))  # the card as this counter shows it

    with database.session() as s:  # meanwhile, at the other counter
        jobs.move_job(s, admin, a, ids["Prusa MK4"], 1)

    target = board.page.board.column_widget(ids["Ender 3"])
    assert target is not None
    drop_at(board.host, target, QPoint(60, 80), mime)
    qtbot.waitUntil(lambda: any("changed elsewhere" in t for t in board.toast_texts()))
    assert stored(database)[a][0] == ids["Prusa MK4"]  # the other counter's move stands
    qtbot.waitUntil(lambda: board.column_ids(ids["Prusa MK4"]) == [a])
    assert board.column_ids(ids["Ender 3"]) == []
    assert board.column_ids(None) == [b]


def test_keyboard_moves_cards_and_reloads(
    qtbot: QtBot, open_board: Opener, database: Database, admin: Actor
) -> None:
    ids = printer_ids(database, admin)
    a, b, c = make_jobs(database, admin, "Ada", "Bea", "Cy")
    board = open_board(admin)
    window = board.host
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    qtbot.mouseClick(board.card(a), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: board.card(a).hasFocus())

    qtbot.keyClick(board.card(a), Qt.Key.Key_Down, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: queue(database, None) == [b, a, c])
    qtbot.waitUntil(lambda: board.card(a).hasFocus())  # the moved card keeps the focus
    qtbot.keyClick(board.card(a), Qt.Key.Key_Right, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: queue(database, ids["Ender 3"]) == [a])
    qtbot.waitUntil(lambda: board.column_ids(ids["Ender 3"]) == [a])  # the board read again
    qtbot.keyClick(board.card(a), Qt.Key.Key_Left)  # plain arrows pick another card
    qtbot.waitUntil(lambda: board.page.vm.selected_id == b)

    with database.session() as s:  # another counter; F5 shows it
        jobs.move_job(s, admin, c, ids["Prusa MK4"], 1)
    qtbot.keyClick(board.card(b), Qt.Key.Key_F5)
    qtbot.waitUntil(lambda: board.column_ids(ids["Prusa MK4"]) == [c])


def test_empty_board_and_the_completed_toggle(
    qtbot: QtBot, open_board: Opener, database: Database, admin: Actor
) -> None:
    board = open_board(admin)
    assert board.page.board_stack.currentIndex() == 1
    assert "No print jobs waiting" in board.page.empty.text()
    assert not board.page.panel.isVisible()  # nothing to show beside an empty board
    assert board.page.subtitle.text() == "No open jobs"

    (a,) = make_jobs(database, admin, "Ada")
    with database.session() as s:
        jobs.set_status(s, admin, a, JobStatus.COMPLETED)
    with qtbot.waitSignal(board.page.vm.board_changed):
        board.page.vm.refresh()  # as the app does when another counter changes a job
    assert board.page.board_stack.currentIndex() == 1
    qtbot.mouseClick(board.page.finished_toggle, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: board.page.board_stack.currentIndex() == 0)
    assert board.page.panel.isVisible()
    card = board.card(a)
    assert card.property("final") is True
    assert card.status_chip.text() == "Completed"
