"""The dashboard page shows the figures of data made through the services; a card opens its list."""

# pytest-qt's input helpers carry no annotations.
# mypy: disable-error-code="no-untyped-call"

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QWidget
from pytestqt.qtbot import QtBot

from core.actor import Actor
from core.db.engine import Database
from desktop.viewmodels.context import AppContext
from desktop.viewmodels.notifier import Notice, Notifier
from desktop.viewmodels.shell import ShellViewModel
from desktop.views.dashboard import DashboardPage, build_dashboard_page
from desktop.views.theme import STYLESHEET
from tests.gui.test_dashboard_vm import seed_shop
from workers.tasks import TaskRunner

pytestmark = pytest.mark.no_gui_thread_sql

Opener = Callable[[], tuple[DashboardPage, ShellViewModel, list[Notice]]]


@pytest.fixture
def open_page(qtbot: QtBot, database: Database, admin: Actor, tmp_path: Path) -> Opener:
    hosts: list[QWidget] = []  # qtbot holds widgets weakly; the test holds its windows

    def opener() -> tuple[DashboardPage, ShellViewModel, list[Notice]]:
        notifier = Notifier()
        notices: list[Notice] = []
        notifier.posted.connect(notices.append)
        settings = QSettings(str(tmp_path / "shell.ini"), QSettings.Format.IniFormat)
        shell = ShellViewModel(user_label="test", database_label="test", settings=settings)
        page = build_dashboard_page(AppContext(database, admin, notifier, TaskRunner()), shell)
        host = QWidget()
        host.setStyleSheet(STYLESHEET)
        QHBoxLayout(host).addWidget(page)
        host.resize(1240, 860)
        qtbot.addWidget(host)
        hosts.append(host)
        host.show()
        qtbot.waitExposed(host)
        page.activated()
        qtbot.waitUntil(lambda: page.vm.loaded and not page.vm.loading)
        return page, shell, notices

    return opener


def test_figures_match_the_shop_and_the_overdue_card_opens_overdue_invoices(
    qtbot: QtBot, open_page: Opener, database: Database, admin: Actor
) -> None:
    numbers = seed_shop(database, admin)
    page, shell, notices = open_page()
    figures = page.figures
    assert figures["outstanding"].value.text() == "A$320.00"
    assert figures["outstanding"].caption.text() == "2 invoices waiting for payment"
    assert figures["overdue"].value.text() == "A$220.00"
    assert figures["overdue"].property("alarm") is True  # drawn red
    assert figures["received"].value.text() == "A$10.00"
    assert figures["quotes"].value.text() == "A$55.00"
    assert figures["outstanding"].property("alarm") is False
    assert page.jobs_total.text().startswith("2 open")
    assert not page.banner.isVisible()

    def overdue_list() -> list[str]:
        card = page.cards["overdue-list"]
        return [label.text() for label in card.findChildren(QLabel) if label.isVisible()]

    qtbot.waitUntil(lambda: numbers["late"] in overdue_list())
    assert "53 days late" in overdue_list()

    with (
        qtbot.waitSignal(page.vm.open_list) as opened,
        qtbot.waitSignal(shell.screen_changed) as shown,
    ):
        qtbot.mouseClick(page.cards["overdue"], Qt.MouseButton.LeftButton)
    assert opened.args == ["invoices", "OVERDUE"]
    assert shown.args == ["invoices"]
    assert shell.screen == "invoices"

    with qtbot.waitSignal(shell.screen_changed) as shown:
        qtbot.mouseClick(page.cards["jobs"], Qt.MouseButton.LeftButton)
    assert shown.args == ["jobs"]

    page.cards["quotes"].setFocus()
    with qtbot.waitSignal(page.vm.open_list) as opened:
        qtbot.keyClick(page.cards["quotes"], Qt.Key.Key_Return)  # cards work from the keyboard
    assert opened.args == ["quotes", "PENDING"]
    assert notices == []


def test_a_new_shop_sees_where_to_start(qtbot: QtBot, open_page: Opener) -> None:
    page, shell, _ = open_page()
    assert page.banner.isVisible()
    assert page.banner_text.text() == "No invoices yet — create one from Quotes or Invoices."
    assert page.figures["overdue"].property("alarm") is False
    assert page.figures["overdue"].caption.text() == "Nothing past due"
    with qtbot.waitSignal(shell.screen_changed) as shown:
        qtbot.mouseClick(page.banner_buttons["quotes"], Qt.MouseButton.LeftButton)
    assert shown.args == ["quotes"]
