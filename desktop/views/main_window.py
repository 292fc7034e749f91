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
        self.shell.save_geometry(bytes(self.saveGeometry().data()))
        super().closeEvent(event)
