"""The dashboard view model, without widgets: figures from the services, and where each leads."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings
from pytestqt.qtbot import QtBot

from core.actor import Actor
from core.db.engine import Database
from core.enums import PaymentMethod
from core.services import invoices, payments, quotes
from core.services.payments import NewPayment
from desktop.viewmodels.context import AppContext
from desktop.viewmodels.dashboard import EMPTY_SHOP, DashboardViewModel
from desktop.viewmodels.notifier import Notice, Notifier
from desktop.viewmodels.shell import ShellViewModel
from tests.factories import item, make_client
from tests.gui.sql_watch import GuiThreadSql, counting
from workers.tasks import TaskRunner

pytestmark = pytest.mark.no_gui_thread_sql


def dashboard(
    database: Database, actor: Actor, tmp_path: Path
) -> tuple[DashboardViewModel, ShellViewModel, list[Notice]]:
    notifier = Notifier()
    notices: list[Notice] = []
    notifier.posted.connect(notices.append)
    settings = QSettings(str(tmp_path / "shell.ini"), QSettings.Format.IniFormat)
    shell = ShellViewModel(user_label="test", database_label="test", settings=settings)
    ctx = AppContext(database, actor, notifier, TaskRunner())
    return DashboardViewModel(ctx, shell), shell, notices


def seed_shop(database: Database, admin: Actor) -> dict[str, str]:
    """Two invoices (one 53 days overdue, one part-paid) and a quote sent to the client."""
    client = make_client(database, "Grace Hopper", "grace@cobol.example")
    past = dt.date.today() - dt.timedelta(days=60)
    with database.session() as s:
        late = invoices.create_invoice(
            s,
            admin,
            client,
            [item(price="200.00")],
            issue_date=past,
            due_date=past + dt.timedelta(days=7),
        )
        current = invoices.create_invoice(s, admin, client, [item()])
        payments.record_payment(
            s, admin, current.id, NewPayment(Decimal("10.00"), PaymentMethod.CASH)
        )
        quote = quotes.create_quote(s, admin, client, [item(price="50.00")])
        quotes.send_quote(s, admin, quote.id)
    return {"late": late.number, "current": current.number}


def test_figures_come_from_the_services(
    qtbot: QtBot, database: Database, admin: Actor, tmp_path: Path
) -> None:
    numbers = seed_shop(database, admin)
    vm, _shell, notices = dashboard(database, admin, tmp_path)
    assert not vm.loaded
    with qtbot.waitSignal(vm.changed):
        vm.refresh()
    assert notices == []
    assert vm.loaded and not vm.is_new_shop
    cards = {card.key: card for card in vm.cards}
    assert (cards["outstanding"].value, cards["outstanding"].caption) == (
        "A$320.00",
        "2 invoices waiting for payment",
    )
    assert cards["overdue"].value == "A$220.00" and cards["overdue"].alarm
    assert cards["overdue"].caption == "1 invoice past due"
    assert cards["received"].value == "A$10.00"
    assert cards["quotes"].value == "A$55.00"
    assert not any(card.alarm for key, card in cards.items() if key != "overdue")
    jobs = {stage.status: stage.count for stage in vm.jobs}
    assert jobs["QUEUED"] == 2 and sum(jobs.values()) == vm.jobs_open == 2
    assert vm.card("jobs").value == "2"
    [late] = vm.overdue_invoices
    assert (late.number, late.client_name, late.days_late, late.balance) == (
        numbers["late"],
        "Grace Hopper",
        53,
        "A$220.00",
    )
    assert any("created for Grace Hopper" in line.message for line in vm.recent_activity)


def test_a_new_shop_says_how_to_start(
    qtbot: QtBot, database: Database, admin: Actor, tmp_path: Path
) -> None:
    vm, _shell, _ = dashboard(database, admin, tmp_path)
    with qtbot.waitSignal(vm.changed):
        vm.refresh()
    assert vm.is_new_shop
    assert vm.empty_message == EMPTY_SHOP
    assert vm.card("overdue").caption == "Nothing past due"
    assert not vm.card("overdue").alarm
    assert vm.overdue_invoices == []


def test_each_figure_opens_its_list_with_the_filter_set_first(
    qtbot: QtBot, database: Database, admin: Actor, tmp_path: Path
) -> None:
    vm, shell, _ = dashboard(database, admin, tmp_path)
    with qtbot.waitSignal(vm.changed):
        vm.refresh()
    events: list[tuple[str, ...]] = []
    vm.open_list.connect(lambda screen, flt: events.append(("open_list", screen, flt)))
    shell.screen_changed.connect(lambda key: events.append(("shown", key)))

    vm.open("overdue")
    assert events == [("open_list", "invoices", "OVERDUE"), ("shown", "invoices")]
    assert shell.screen == "invoices"

    events.clear()
    for key in ("outstanding", "received", "quotes", "jobs"):
        vm.open(key)
    assert [e for e in events if e[0] == "open_list"] == [
        ("open_list", "invoices", "PENDING"),
        ("open_list", "invoices", "PAID"),
        ("open_list", "quotes", "PENDING"),
        ("open_list", "jobs", ""),
    ]
    assert shell.screen == "jobs"


def test_the_screen_reads_in_three_statements_off_the_gui_thread(
    qtbot: QtBot,
    database: Database,
    admin: Actor,
    tmp_path: Path,
    gui_thread_sql: GuiThreadSql,
) -> None:
    seed_shop(database, admin)
    vm, _shell, notices = dashboard(database, admin, tmp_path)
    states: list[bool] = []
    vm.loading_changed.connect(states.append)
    with counting(database.engine) as statements, qtbot.waitSignal(vm.changed):
        vm.refresh()
        assert vm.loading  # the call returned at once; the figures come later
    assert states == [True, False] and not vm.loading
    assert len(statements) == 3, statements  # figures, most overdue, latest activity
    with qtbot.waitSignal(vm.changed):
        vm.refresh()
    assert gui_thread_sql.statements == [] and notices == []


def test_a_newer_refresh_wins_over_an_older_one(
    qtbot: QtBot, database: Database, admin: Actor, tmp_path: Path
) -> None:
    vm, _shell, _ = dashboard(database, admin, tmp_path)
    shown: list[str] = []
    vm.changed.connect(lambda: shown.append(vm.card("outstanding").value))
    vm.refresh()  # superseded by the one below: its result is dropped
    seed_shop(database, admin)
    with qtbot.waitSignal(vm.changed):
        vm.refresh()
    qtbot.waitUntil(lambda: not vm.loading)
    assert shown == ["A$320.00"]
