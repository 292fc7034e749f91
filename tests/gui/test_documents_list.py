"""The quote and invoice lists: filters and search run in SQL, pages load as the view scrolls."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest
from PySide6.QtCore import QModelIndex, Qt
from pytestqt.qtbot import QtBot
from sqlalchemy import text

from core.actor import Actor
from core.db.engine import Database
from core.enums import PaymentMethod
from core.services import invoices, payments
from desktop.viewmodels.documents import (
    STATUS_ROLE,
    DocumentKind,
    DocumentListViewModel,
    DocumentRouter,
)
from desktop.views.documents import DocumentsPage
from tests.factories import item
from tests.gui.shots import keep_shot
from tests.gui.sql_watch import GuiThreadSql, counting
from tests.gui.test_documents_support import (
    add_clients,
    make_ctx,
    make_shell,
    open_main_window,
    seed_shop,
)

CTRL = Qt.KeyboardModifier.ControlModifier


def settle(qtbot: QtBot, vm: DocumentListViewModel) -> None:
    """The list's pages and count arrive in the background: wait for them."""
    qtbot.waitUntil(lambda: vm.loaded and not vm.loading)


def statuses(vm: DocumentListViewModel) -> set[str]:
    model = vm.model
    return {
        model.data(model.index(row, model.status_column), STATUS_ROLE)
        for row in range(model.rowCount())
    }


@pytest.fixture
def shop(database: Database, admin: Actor) -> None:
    seed_shop(database, admin, per_status=2)


@pytest.mark.usefixtures("shop")
@pytest.mark.no_gui_thread_sql
def test_status_filters_and_search_run_in_sql(
    qtbot: QtBot, database: Database, admin: Actor
) -> None:
    vm = DocumentListViewModel(make_ctx(database, admin), DocumentKind.INVOICE)
    vm.ensure_loaded()
    settle(qtbot, vm)
    everything = vm.model.rowCount()
    assert vm.count == everything == 2 * 5 + 2 + 1  # 2 per status, 2 converted quotes, showcase
    vm.set_filter("OVERDUE")
    settle(qtbot, vm)
    assert statuses(vm) == {"OVERDUE"} and vm.model.rowCount() == 2
    assert vm.summary == "2 overdue invoices"
    vm.set_filter("PENDING")  # overdue invoices are pending too
    settle(qtbot, vm)
    assert statuses(vm) == {"PENDING", "OVERDUE"}
    vm.set_filter(None)
    settle(qtbot, vm)
    vm.search_now("tesla")
    settle(qtbot, vm)
    names = {vm.model.row_at(r).client_name for r in range(vm.model.rowCount())}  # type: ignore[union-attr]
    assert names == {"Nikola Tesla"}
    assert vm.summary.endswith("matching “tesla”")
    vm.search_now("INV-0003")
    settle(qtbot, vm)
    assert [vm.model.row_at(0).number] == ["INV-0003"]  # type: ignore[union-attr]
    vm.search_now("nobody at all")
    settle(qtbot, vm)
    assert vm.is_empty and vm.empty_message()[0] == "No invoices match “nobody at all”"
    vm.clear_filters()
    settle(qtbot, vm)
    assert vm.model.rowCount() == everything
    with pytest.raises(ValueError):
        vm.set_filter("DRAFT")  # a quote status

    quotes_vm = DocumentListViewModel(make_ctx(database, admin), DocumentKind.QUOTE)
    quotes_vm.set_filter("DECLINED")
    settle(qtbot, quotes_vm)
    assert statuses(quotes_vm) == {"DECLINED"} and quotes_vm.model.rowCount() == 2
    assert quotes_vm.summary == "2 declined quotes"


def test_a_hundred_thousand_invoices_load_a_page_at_a_time(
    qtbot: QtBot, database: Database, admin: Actor
) -> None:
    (client, *_) = add_clients(database)
    with database.session() as s, s.begin():
        s.execute(
            text(
                "INSERT INTO invoices (number, client_id, currency, issue_date, due_date, status,"
                " subtotal, total, amount_paid, balance_due)"
                " SELECT 'B-' || lpad(g::text, 6, '0'), :client, 'AUD',"
                " current_date - (g % 90), current_date - (g % 90) + 14,"
                " CASE WHEN g % 10 = 0 THEN 'PAID' ELSE 'PENDING' END,"
                " 100, 110, CASE WHEN g % 10 = 0 THEN 110 ELSE 0 END,"
                " CASE WHEN g % 10 = 0 THEN 0 ELSE 110 END"
                " FROM generate_series(1, 100000) AS g"
            ),
            {"client": client},
        )
    vm = DocumentListViewModel(make_ctx(database, admin), DocumentKind.INVOICE, page_size=200)
    vm.ensure_loaded()
    settle(qtbot, vm)
    assert vm.count == 100_000
    assert vm.model.rowCount() == 200 and vm.model.canFetchMore(QModelIndex())
    assert vm.summary == "100,000 invoices"
    vm.model.fetchMore(QModelIndex())
    settle(qtbot, vm)
    assert vm.model.rowCount() == 400
    vm.set_filter("PAID")
    settle(qtbot, vm)
    assert vm.count == 10_000 and vm.model.rowCount() == 200
    vm.search_now("B-09999")  # B-099990 … B-099999, of which one is paid
    settle(qtbot, vm)
    assert vm.count == 1 and vm.model.row_at(0).number == "B-099990"  # type: ignore[union-attr]
    vm.refresh()  # keeps what is loaded, and no more
    settle(qtbot, vm)
    assert vm.model.rowCount() == 1


@pytest.mark.no_gui_thread_sql
def test_refresh_keeps_the_loaded_rows_and_shows_new_ones(
    qtbot: QtBot, database: Database, admin: Actor
) -> None:
    (client, *_) = add_clients(database)
    for _ in range(7):
        with database.session() as s:
            invoices.create_invoice(s, admin, client, [item()])
    vm = DocumentListViewModel(make_ctx(database, admin), DocumentKind.INVOICE, page_size=3)
    vm.ensure_loaded()
    settle(qtbot, vm)
    vm.model.fetchMore(QModelIndex())
    settle(qtbot, vm)
    assert vm.model.rowCount() == 6
    with database.session() as s:  # another counter
        new = invoices.create_invoice(s, admin, client, [item()])
    with database.session() as s:
        payments.record_payment(
            s, admin, new.id, payments.NewPayment(Decimal("110.00"), PaymentMethod.CASH)
        )
    vm.refresh()
    settle(qtbot, vm)
    assert vm.model.rowCount() == 6
    first = vm.model.row_at(0)
    assert first is not None and first.number == new.number and first.balance_due == 0


@pytest.mark.usefixtures("shop")
def test_chips_and_search_filter_the_list_on_screen(
    qtbot: QtBot, database: Database, admin: Actor, tmp_path: Path
) -> None:
    ctx = make_ctx(database, admin)
    shell = make_shell(tmp_path)
    window, _, page = open_main_window(qtbot, ctx, shell)
    shell.show("invoices")
    view = page.list_view
    qtbot.waitUntil(lambda: view.table.model().rowCount() == 13)
    settle(qtbot, page.view_model)
    assert page.subtitle.text() == "13 invoices"

    qtbot.mouseClick(view.chips["OVERDUE"], Qt.MouseButton.LeftButton)
    settle(qtbot, page.view_model)
    assert view.table.model().rowCount() == 2
    assert page.subtitle.text() == "2 overdue invoices"
    qtbot.mouseClick(view.chips["VOID"], Qt.MouseButton.LeftButton)
    settle(qtbot, page.view_model)
    assert view.table.model().rowCount() == 2
    assert statuses(page.view_model) == {"VOID"}
    qtbot.mouseClick(view.chips[None], Qt.MouseButton.LeftButton)
    settle(qtbot, page.view_model)

    # Ctrl+F goes to the search box; the list follows the typing once it pauses
    qtbot.keyClick(view.table, Qt.Key.Key_F, CTRL)
    assert view.search.hasFocus()
    qtbot.keyClicks(view.search, "hopper")
    qtbot.waitUntil(lambda: view.table.model().rowCount() == 2)
    settle(qtbot, page.view_model)
    assert page.subtitle.text() == "2 invoices matching “hopper”"
    qtbot.keyClicks(view.search, " nobody")
    qtbot.waitUntil(lambda: view.body.currentWidget() is view.empty)
    assert view.empty_title.text() == "No invoices match “hopper nobody”"
    qtbot.mouseClick(view.empty_action, Qt.MouseButton.LeftButton)  # clear search and filters
    qtbot.waitUntil(lambda: view.table.model().rowCount() == 13)
    settle(qtbot, page.view_model)
    assert view.search.text() == ""

    # Enter on a row opens it in the editor
    view.table.setFocus()
    view.table.selectRow(1)
    second = page.view_model.model.row_at(1)
    assert second is not None
    qtbot.keyClick(view.table, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: page.editing)
    assert page.editor.title.text() == second.number

    # back to the list, where the row just edited is still selected; a double-click opens another
    qtbot.mouseClick(page.editor.back_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not page.editing)
    qtbot.waitUntil(lambda: view.table.currentIndex().row() == 1)
    first = page.view_model.model.row_at(0)
    assert first is not None
    cell = view.table.visualRect(view.table.model().index(0, 1)).center()
    # QTest's double-click is the second press alone; a person's starts with a click
    qtbot.mouseClick(view.table.viewport(), Qt.MouseButton.LeftButton, pos=cell)
    qtbot.mouseDClick(view.table.viewport(), Qt.MouseButton.LeftButton, pos=cell)
    qtbot.waitUntil(lambda: page.editing)
    assert page.editor.title.text() == first.number
    window.close()


def test_an_empty_shop_says_how_to_start(
    qtbot: QtBot, database: Database, admin: Actor, tmp_path: Path
) -> None:
    ctx = make_ctx(database, admin)
    shell = make_shell(tmp_path)
    window, quotes_page, _ = open_main_window(qtbot, ctx, shell)
    shell.show("quotes")
    view = quotes_page.list_view
    qtbot.waitUntil(lambda: view.body.currentWidget() is view.empty)
    assert view.empty_title.text() == "No quotes yet"
    assert view.empty_action.text() == "New quote"
    qtbot.mouseClick(view.empty_action, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: quotes_page.editing)
    assert quotes_page.editor.title.text() == "New quote"
    window.close()


def test_the_dashboard_can_open_overdue_invoices_and_others_a_document(
    qtbot: QtBot, database: Database, admin: Actor, tmp_path: Path
) -> None:
    clients = add_clients(database)
    today = dt.date.today()
    with database.session() as s:
        late = invoices.create_invoice(
            s,
            admin,
            clients[0],
            [item()],
            issue_date=today - dt.timedelta(days=40),
            due_date=today - dt.timedelta(days=26),
        )
    with database.session() as s:
        invoices.create_invoice(s, admin, clients[1], [item()])
    ctx = make_ctx(database, admin)
    shell = make_shell(tmp_path)
    window, _, page = open_main_window(qtbot, ctx, shell)
    assert isinstance(page, DocumentsPage)
    page.view_model.set_filter("OVERDUE")  # what the dashboard's figure does
    shell.show("invoices")
    settle(qtbot, page.view_model)
    assert page.list_view.chips["OVERDUE"].isChecked()
    assert page.view_model.model.rowCount() == 1

    DocumentRouter.of(shell).open(DocumentKind.INVOICE, late.id)  # e.g. from a client's page
    qtbot.waitUntil(lambda: page.editing)
    assert page.editor.overdue_pill.isVisible()
    assert page.editor.overdue_pill.text().startswith("Overdue · was due")
    window.close()


@pytest.mark.no_gui_thread_sql
@pytest.mark.usefixtures("shop")
def test_the_lists_read_off_the_gui_thread_in_few_statements(
    qtbot: QtBot, database: Database, admin: Actor, tmp_path: Path, gui_thread_sql: GuiThreadSql
) -> None:
    ctx = make_ctx(database, admin)
    shell = make_shell(tmp_path)
    window, quotes_page, page = open_main_window(qtbot, ctx, shell)
    view = page.list_view
    with counting(database.engine) as statements:
        shell.show("invoices")
        assert page.view_model.loading and view.loading.isVisible()  # shown while it reads
        keep_shot(window, "invoices-loading.png")
        settle(qtbot, page.view_model)
    assert not view.loading.isVisible() and view.table.model().rowCount() == 13
    assert len(statements) == 2, statements  # the count and the first page
    keep_shot(window, "invoices-loaded.png")
    with counting(database.engine) as statements:
        shell.show("quotes")
        settle(qtbot, quotes_page.view_model)
    assert len(statements) == 1 and quotes_page.view_model.model.rowCount() > 0
    with counting(database.engine) as statements:
        qtbot.mouseClick(view.chips["PAID"], Qt.MouseButton.LeftButton)
        shell.show("invoices")
        settle(qtbot, page.view_model)
    assert statuses(page.view_model) == {"PAID"}
    assert len(statements) <= 4  # the refresh of what was shown, then the filter: 2 each
    assert gui_thread_sql.statements == []
    window.close()
