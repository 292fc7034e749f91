"""The main window: a navigation rail, the screens, the status bar and toasts."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from PySide6.QtCore import QByteArray, Qt
from PySide6.QtGui import (
    QCloseEvent,
    QDragEnterEvent,
    QDropEvent,
    QKeySequence,
    QResizeEvent,
    QShortcut,
)
from PySide6.QtWidgets import (
    QButtonGroup,
    QFrame,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QMessageBox,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from desktop.viewmodels.connection import ConnectionState
from desktop.viewmodels.live import LiveRefresh
from desktop.viewmodels.notifier import Notice, Notifier
from desktop.viewmodels.shell import ShellViewModel
from desktop.views.theme import STYLESHEET
from desktop.views.toast import ToastArea
from workers.live_updates import LiveUpdates

#: Files dropped anywhere on the window (outside a screen that takes drops itself) that go to
#: the quick order.
MODEL_SUFFIXES = (".stl", ".obj", ".3mf")


def dropped_models(event: QDragEnterEvent | QDropEvent) -> list[Path]:
    data = event.mimeData()
    if not data.hasUrls():
        return []
    paths = [Path(url.toLocalFile()) for url in data.urls() if url.isLocalFile()]
    return [path for path in paths if path.suffix.lower() in MODEL_SUFFIXES]


BANNER_STYLE = """
QFrame#dbBanner { background: #fff4e0; border-bottom: 1px solid #f0c987; }
QFrame#dbBanner QLabel { color: #7a4b00; font-weight: 600; }
"""


class ConnectionBanner(QFrame):
    """Across the top while the database cannot be reached; gone when it answers again."""

    def __init__(self, connection: ConnectionState | None) -> None:
        super().__init__()
        self.setObjectName("dbBanner")
        self.setStyleSheet(BANNER_STYLE)
        row = QHBoxLayout(self)
        row.setContentsMargins(28, 9, 28, 9)
        self.label = QLabel()
        self.label.setAccessibleName("Database connection")
        row.addWidget(self.label, 1)
        self._connection = connection
        if connection is not None:
            connection.changed.connect(self._sync)
        self._sync()

    def _sync(self, _reachable: bool = True) -> None:
        message = self._connection.message if self._connection is not None else ""
        self.label.setText(message)
        self.setVisible(bool(message))


class MainWindow(QMainWindow):
    # Set by the app that builds the window: where notices from other counters go.
    live: LiveRefresh
    listener: LiveUpdates

    def __init__(
        self,
        shell: ShellViewModel,
        pages: Mapping[str, QWidget],
        notifier: Notifier,
        connection: ConnectionState | None = None,
    ) -> None:
        super().__init__()
        self.shell = shell
        self.setWindowTitle("PrintDesk")
        self.setStyleSheet(STYLESHEET)
        self.resize(1440, 900)
        self.setMinimumSize(1100, 700)
        self.setAcceptDrops(True)

        self.stack = QStackedWidget()
        self.buttons: dict[str, QPushButton] = {}
        self._pages = dict(pages)
        rail = self._rail()
        for screen in shell.screens:
            self.stack.addWidget(self._pages[screen.key])

        central = QWidget()
        layout = QHBoxLayout(central)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(rail)
        right = QVBoxLayout()
        right.setContentsMargins(0, 0, 0, 0)
        right.setSpacing(0)
        self.db_banner = ConnectionBanner(connection)
        right.addWidget(self.db_banner)
        right.addWidget(self.stack, 1)
        layout.addLayout(right, 1)
        self.setCentralWidget(central)
        if connection is not None:
            # Back again: the screen on show reads its data afresh (what it showed stayed).
            connection.restored.connect(lambda: self._show(self.shell.screen))

        self.statusBar().showMessage(
            f"Signed in as {shell.user_label}    ·    Database: {shell.database_label}"
        )
        self.toasts = ToastArea(central)
        self.close_prompt: QMessageBox | None = None
        self.quit_button: QPushButton | None = None
        self._quit_confirmed = False
        # Window-wide, so they work whatever has focus (the rail, a field, nothing at all).
        open_files = QShortcut(QKeySequence(QKeySequence.StandardKey.Open), self)
        open_files.activated.connect(self.open_files)
        quit_app = QShortcut(QKeySequence("Ctrl+Q"), self)
        quit_app.activated.connect(self.close)
        notifier.posted.connect(self._notice)
        shell.screen_changed.connect(self._show)
        self._show(shell.screen)
        geometry = shell.saved_geometry()
        if geometry:
            self.restoreGeometry(QByteArray(geometry))

    def _rail(self) -> QFrame:
        rail = QFrame()
        rail.setObjectName("rail")
        rail.setFixedWidth(200)
        column = QVBoxLayout(rail)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(2)
        brand = QLabel("PrintDesk")
        brand.setObjectName("brand")
        column.addWidget(brand)
        group = QButtonGroup(self)
        group.setExclusive(True)
        for screen in self.shell.screens:
            button = QPushButton(screen.title)
            button.setCheckable(True)
            button.setCursor(Qt.CursorShape.PointingHandCursor)
            button.setToolTip(f"{screen.title} ({screen.shortcut})")
            button.clicked.connect(lambda _=False, key=screen.key: self.shell.show(key))
            group.addButton(button)
            column.addWidget(button)
            self.buttons[screen.key] = button
            shortcut = QShortcut(QKeySequence(screen.shortcut), self)
            shortcut.activated.connect(lambda key=screen.key: self.shell.show(key))
        column.addStretch(1)
        who = QLabel(self.shell.user_label)
        who.setObjectName("who")
        who.setWordWrap(True)
        column.addWidget(who)
        return rail

    def page(self, key: str) -> QWidget:
        return self._pages[key]

    def _show(self, key: str) -> None:
        self.stack.setCurrentWidget(self._pages[key])
        self.buttons[key].setChecked(True)
        activate = getattr(self._pages[key], "activated", None)
        if callable(activate):
            activate()

    def open_files(self) -> None:
        """Ctrl+O: the shown screen's "Add files…", if it has one."""
        choose = getattr(self.stack.currentWidget(), "choose_files", None)
        if callable(choose):
            choose()

    def unfinished_work(self) -> list[str]:
        """What closing now would lose, one sentence per screen that has something."""
        found: list[str] = []
        for page in self._pages.values():
            ask = getattr(page, "unfinished_work", None)
            said = ask() if callable(ask) else ""
            if said:
                found.append(str(said))
        return found

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if dropped_models(event):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event: QDropEvent) -> None:
        """Model files dropped on the window go to the quick order, which comes to the front."""
        paths = dropped_models(event)
        take = getattr(self._pages.get("quick-order"), "add_dropped_files", None)
        if not paths or not callable(take):
            event.ignore()
            return
        event.acceptProposedAction()
        self.shell.show("quick-order")
        take(paths)

    def _notice(self, notice: Notice) -> None:
        self.toasts.show(notice)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self.toasts.place()

    def closeEvent(self, event: QCloseEvent) -> None:
        """Closing (the window's button or Ctrl+Q) asks first when work would be lost."""
        # A window nobody sees (the smoke test's, a screenshot's) has no one to ask.
        asking = self.isVisible() and not self._quit_confirmed
        lost = self.unfinished_work() if asking else []
        if lost:
            event.ignore()
            self._ask_before_closing(lost)
            return
        self.shell.save_geometry(bytes(self.saveGeometry().data()))
        super().closeEvent(event)

    def _ask_before_closing(self, lost: list[str]) -> None:
        if self.close_prompt is not None and self.close_prompt.isVisible():
            return
        prompt = QMessageBox(self)
        prompt.setIcon(QMessageBox.Icon.Warning)
        prompt.setWindowTitle("Quit PrintDesk?")
        prompt.setText("Quit PrintDesk? This work is not saved yet:")
        prompt.setInformativeText("\n".join(f"• {line}" for line in lost))
        self.quit_button = prompt.addButton("Quit anyway", QMessageBox.ButtonRole.DestructiveRole)
        stay = prompt.addButton("Keep working", QMessageBox.ButtonRole.RejectRole)
        prompt.setDefaultButton(stay)
        prompt.setWindowModality(Qt.WindowModality.WindowModal)
        prompt.buttonClicked.connect(self._close_answered)
        self.close_prompt = prompt
        prompt.open()

    def _close_answered(self, button: object) -> None:
        if button is not self.quit_button:
            return
        self._quit_confirmed = True
        self.close()
