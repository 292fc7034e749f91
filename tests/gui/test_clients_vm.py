"""The clients view models, driven without a single widget, against a real database."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings, Qt
from pytestqt.qtbot import QtBot

from core.actor import Actor
from core.db.engine import Database
from core.db.models import Client
from core.enums import PaymentMethod
from core.services import clients, invoices, payments, quotes
from core.services.clients import ClientInput, ClientView
from core.services.payments import NewPayment
from desktop.viewmodels.clients import ClientEditorViewModel, ClientsViewModel
from desktop.viewmodels.context import AppContext
from desktop.viewmodels.notifier import Notice, Notifier
from desktop.viewmodels.shell import ShellViewModel
from tests.factories import item
from tests.gui.sql_watch import GuiThreadSql, counting
from workers.tasks import TaskRunner


def context(database: Database, actor: Actor) -> tuple[AppContext, list[Notice]]:
    notifier = Notifier()
    notices: list[Notice] = []
    notifier.posted.connect(notices.append)
    return AppContext(database, actor, notifier, TaskRunner()), notices


def shell_for(tmp_path: Path) -> ShellViewModel:
    settings = QSettings(str(tmp_path / "shell.ini"), QSettings.Format.IniFormat)
    return ShellViewModel(user_label="test", database_label="test", settings=settings)


def add(database: Database, actor: Actor, data: ClientInput) -> int:
    with database.session() as s:
        return clients.create_client(s, actor, data).id


@pytest.fixture
def people(database: Database, admin: Actor) -> dict[str, int]:
    return {
        "ada": add(database, admin, ClientInput("Ada Lovelace", email="ada@engines.example")),
        "grace": add(database, admin, ClientInput("Grace Hopper", company="Cobol Robotics")),
        "linus": add(database, admin, ClientInput("Linus Park", phone="0412 345 678")),
    }


pytestmark = pytest.mark.no_gui_thread_sql


def settle(qtbot: QtBot, vm: ClientsViewModel) -> None:
    """Everything the screen asked the database for has arrived."""
    qtbot.waitUntil(lambda: not vm.busy)


def opened(qtbot: QtBot, vm: ClientsViewModel, start: Callable[[], None]) -> ClientEditorViewModel:
    """The form a command opens, once what it needs has been read."""
    with qtbot.waitSignal(vm.editor_opened) as got:
        start()
    editor: ClientEditorViewModel = got.args[0]
    return editor


def save(qtbot: QtBot, editor: ClientEditorViewModel) -> ClientView | None:
    """Press Save and wait for the answer: the saved client, or None when refused."""
    if not editor.can_save:
        return None
    with qtbot.waitSignal(editor.save_done) as got:
        editor.save()
    saved: ClientView | None = got.args[0]
    return saved


def delete(qtbot: QtBot, vm: ClientsViewModel, client_id: int) -> bool:
    with qtbot.waitSignal(vm.delete_done) as got:
        vm.delete_client(client_id)
    settle(qtbot, vm)
    return bool(got.args[0])


def names(vm: ClientsViewModel) -> list[str]:
    return [c.name for c in vm.model.rows]


def test_search_filters_in_sql_by_name_company_email_or_phone(
    qtbot: QtBot, database: Database, admin: Actor, people: dict[str, int]
) -> None:
    ctx, notices = context(database, admin)
    vm = ClientsViewModel(ctx)
    vm.search_now()
    settle(qtbot, vm)
    assert names(vm) == ["Ada Lovelace", "Grace Hopper", "Linus Park"]
    assert vm.count_text == "3 clients"

    vm.search_now("cobol")
    settle(qtbot, vm)
    assert names(vm) == ["Grace Hopper"]
    assert vm.count_text == "1 client matches “cobol”"
    vm.search_now("0412345")  # digits alone match a phone written with spaces
    settle(qtbot, vm)
    assert names(vm) == ["Linus Park"]
    vm.search_now("zebra")
    settle(qtbot, vm)
    assert names(vm) == []
    assert not vm.is_empty_shop
    assert "zebra" in vm.empty_text
    assert notices == []


def test_typing_is_debounced_into_one_search(
    qtbot: QtBot, database: Database, admin: Actor, people: dict[str, int]
) -> None:
    ctx, _ = context(database, admin)
    vm = ClientsViewModel(ctx, search_delay_ms=50)
    vm.search_now()
    settle(qtbot, vm)
    searches: list[str] = []
    vm.searched.connect(lambda: searches.append(vm.search_text))
    for typed in ("g", "gr", "gra"):
        vm.set_search(typed)
    assert vm.search_pending
    assert len(names(vm)) == 3  # nothing reloaded while the person is still typing
    with qtbot.waitSignal(vm.searched, timeout=2000):
        pass
    assert searches == ["gra"]
    assert names(vm) == ["Grace Hopper"]


def test_450_clients_load_page_by_page_as_the_view_asks(
    qtbot: QtBot, database: Database, admin: Actor
) -> None:
    with database.session() as s, s.begin():
        s.add_all(
            Client(name=f"Client {n:03d}", email=f"c{n}@example.com", payment_terms_days=14)
            for n in range(450)
        )
    ctx, _ = context(database, admin)
    vm = ClientsViewModel(ctx, page_size=200)
    vm.search_now()
    settle(qtbot, vm)
    model = vm.model
    assert vm.count == 450
    assert model.rowCount() == 200
    assert model.canFetchMore()
    model.fetchMore()
    settle(qtbot, vm)
    assert model.rowCount() == 400
    assert model.canFetchMore()
    model.fetchMore()
    settle(qtbot, vm)
    assert model.rowCount() == 450
    assert not model.canFetchMore()
    assert names(vm) == [f"Client {n:03d}" for n in range(450)]

    vm.search_now("client 1")  # the filter runs in SQL and pages the same way
    settle(qtbot, vm)
    assert vm.count == 100
    assert model.rowCount() == 100
    assert not model.canFetchMore()

    vm.search_now("")
    settle(qtbot, vm)
    model.fetchMore()
    settle(qtbot, vm)
    vm.refresh()  # another counter changed something: what was loaded stays loaded
    settle(qtbot, vm)
    assert model.rowCount() == 400


def test_new_client_saves_and_opens_their_page(
    qtbot: QtBot, database: Database, admin: Actor, tmp_path: Path
) -> None:
    ctx, _ = context(database, admin)
    vm = ClientsViewModel(ctx, shell_for(tmp_path))
    vm.search_now()
    settle(qtbot, vm)
    editor = opened(qtbot, vm, vm.new_client)
    assert editor.is_new and vm.editor is editor
    editor.set_value("name", "  Hedy Lamarr ")
    editor.set_value("email", "hedy@fhd.example")
    saved = save(qtbot, editor)
    settle(qtbot, vm)
    assert saved is not None and saved.name == "Hedy Lamarr"
    with database.session() as s:
        assert [c.email for c in clients.search_clients(s, "Hedy")] == ["hedy@fhd.example"]
    assert names(vm) == ["Hedy Lamarr"]
    assert vm.current_id == saved.id
    assert vm.editor is None


def test_a_refusal_sits_beside_its_field_and_nothing_is_saved(
    qtbot: QtBot, database: Database, admin: Actor
) -> None:
    ctx, notices = context(database, admin)
    vm = ClientsViewModel(ctx)
    editor = opened(qtbot, vm, vm.new_client)
    editor.set_value("email", "not-an-email")
    assert save(qtbot, editor) is None
    assert editor.errors == {"name": "A client needs a name."}
    editor.set_value("name", "Alan Kay")
    assert editor.errors == {}  # typing in the field clears its message
    assert save(qtbot, editor) is None
    assert editor.errors == {"email": "not-an-email is not a valid email address."}
    editor.set_value("payment_terms_days", 900)
    editor.set_value("email", "")
    assert save(qtbot, editor) is None
    assert set(editor.errors) == {"payment_terms_days"}
    with database.session() as s:
        assert clients.count_clients(s) == 0
    assert notices == []


def test_editing_a_client_changed_elsewhere_offers_a_reload(
    qtbot: QtBot, database: Database, admin: Actor, staff: Actor, people: dict[str, int]
) -> None:
    ctx, _ = context(database, staff)
    vm = ClientsViewModel(ctx)
    editor = opened(qtbot, vm, lambda: vm.edit_client(people["ada"]))
    assert editor is not None
    editor.set_value("phone", "0400 000 001")

    with database.session() as s:  # another counter saves first
        other = clients.get_client(s, people["ada"])
        clients.update_client(
            s, admin, other.id, ClientInput(name="Ada King", email=other.email), other.version
        )

    assert save(qtbot, editor) is None
    assert editor.conflict and not editor.can_save
    assert "changed elsewhere" in editor.message
    with database.session() as s:
        kept = clients.get_client(s, people["ada"])
    assert (kept.name, kept.phone) == ("Ada King", None)

    editor.reload()
    qtbot.waitUntil(lambda: not editor.busy)
    assert not editor.conflict and editor.can_save
    assert editor.value("name") == "Ada King"
    assert "Reloaded" in editor.notice
    editor.set_value("phone", "0400 000 001")
    saved = save(qtbot, editor)
    settle(qtbot, vm)
    assert saved is not None
    assert (saved.name, saved.phone) == ("Ada King", "0400 000 001")


def test_refresh_warns_the_open_form_before_it_is_saved(
    qtbot: QtBot, database: Database, admin: Actor, people: dict[str, int]
) -> None:
    ctx, _ = context(database, admin)
    vm = ClientsViewModel(ctx)
    vm.search_now()
    settle(qtbot, vm)
    editor = opened(qtbot, vm, lambda: vm.edit_client(people["grace"]))
    assert editor is not None
    with database.session() as s:
        other = clients.get_client(s, people["grace"])
        clients.update_client(s, admin, other.id, ClientInput(name="Grace B. Hopper"), 1)
    vm.refresh()  # what the app calls on a NOTIFY from another counter
    settle(qtbot, vm)
    assert editor.conflict
    assert "Grace B. Hopper" in names(vm)


def test_client_page_shows_documents_payments_and_activity(
    qtbot: QtBot, database: Database, admin: Actor, people: dict[str, int]
) -> None:
    ada = people["ada"]
    past = dt.date.today() - dt.timedelta(days=40)
    with database.session() as s:
        late = invoices.create_invoice(
            s, admin, ada, [item(price="200.00")], issue_date=past, due_date=past
        )
        paid = invoices.create_invoice(s, admin, ada, [item(price="50.00")])
        payments.record_payment(
            s, admin, paid.id, NewPayment(paid.total, PaymentMethod.CASH, reference="till 2")
        )
        quote = quotes.create_quote(s, admin, ada, [item(price="80.00")])
    ctx, notices = context(database, admin)
    vm = ClientsViewModel(ctx, status_colours={"OVERDUE": "#c0392b", "PAID": "#1f8a4c"})
    vm.open_client(ada)
    settle(qtbot, vm)

    page = vm.page
    assert page.client is not None and page.client.name == "Ada Lovelace"
    assert [i.number for i in page.invoices.rows] == [paid.number, late.number]
    overdue_row = page.invoices.rows[1]
    assert overdue_row.display_status == "OVERDUE"
    status = page.invoices.index(1, 2)
    assert page.invoices.data(status) == "Overdue"
    assert page.invoices.data(status, Qt.ItemDataRole.ForegroundRole).color().name() == "#c0392b"
    assert [q.number for q in page.quotes.rows] == [quote.number]
    assert [(p.invoice_number, p.amount, p.reference) for p in page.payments.rows] == [
        (paid.number, Decimal("55.00"), "till 2")
    ]
    figures = page.figures
    assert figures.outstanding == "A$220.00"
    assert figures.overdue == "A$220.00" and figures.overdue_alarm
    assert figures.paid == "A$55.00"
    messages = [a.message for a in page.activity.rows]
    assert "Client Ada Lovelace added" in messages
    assert any(late.number in m for m in messages)
    assert ("Email", "ada@engines.example") in page.details
    assert notices == []


def test_deleting_is_for_admins_and_keeps_clients_with_documents(
    qtbot: QtBot, database: Database, admin: Actor, staff: Actor, people: dict[str, int]
) -> None:
    with database.session() as s:
        invoices.create_invoice(s, admin, people["grace"], [item()])

    staff_ctx, staff_notices = context(database, staff)
    staff_vm = ClientsViewModel(staff_ctx)
    assert not staff_vm.can_delete
    assert not delete(qtbot, staff_vm, people["linus"])
    assert [n.text for n in staff_notices] == ["Only an admin may delete clients."]

    ctx, notices = context(database, admin)
    vm = ClientsViewModel(ctx)
    vm.search_now()
    settle(qtbot, vm)
    assert vm.can_delete
    assert not delete(qtbot, vm, people["grace"])
    assert "has quotes or invoices" in notices[-1].text

    vm.open_client(people["linus"])
    settle(qtbot, vm)
    deleted: list[int] = []
    vm.client_deleted.connect(deleted.append)
    assert delete(qtbot, vm, people["linus"])
    assert deleted == [people["linus"]]
    assert vm.current_id is None
    assert names(vm) == ["Ada Lovelace", "Grace Hopper"]
    with database.session() as s:
        assert clients.count_clients(s) == 2


def test_opening_an_invoice_switches_to_the_invoices_screen(
    qtbot: QtBot, database: Database, admin: Actor, people: dict[str, int], tmp_path: Path
) -> None:
    ctx, _ = context(database, admin)
    shell = shell_for(tmp_path)
    vm = ClientsViewModel(ctx, shell)
    asked: list[tuple[str, int]] = []
    vm.open_document.connect(lambda kind, record: asked.append((kind, record)))
    vm.open_invoice(7)
    assert asked == [("invoice", 7)]
    assert shell.screen == "invoices"


def test_the_list_reads_in_two_statements_off_the_gui_thread(
    qtbot: QtBot,
    database: Database,
    admin: Actor,
    people: dict[str, int],
    gui_thread_sql: GuiThreadSql,
) -> None:
    ctx, notices = context(database, admin)
    vm = ClientsViewModel(ctx)
    with counting(database.engine) as statements:
        vm.load()
        assert vm.loading and names(vm) == []  # the call returned at once; the rows come later
        settle(qtbot, vm)
    assert len(statements) == 2, statements  # the first page and the count
    assert names(vm) == ["Ada Lovelace", "Grace Hopper", "Linus Park"] and vm.count == 3
    with counting(database.engine) as statements:
        vm.search_now("grace")
        vm.search_now("linus")  # typed on: the newer search wins, the older result is dropped
        settle(qtbot, vm)
    assert names(vm) == ["Linus Park"] and vm.count == 1
    assert gui_thread_sql.statements == [] and notices == []


def test_a_client_page_reads_in_seven_statements_however_many_documents(
    qtbot: QtBot, database: Database, admin: Actor, people: dict[str, int]
) -> None:
    ada = people["ada"]
    with database.session() as s:
        for _ in range(6):
            made = invoices.create_invoice(s, admin, ada, [item(price="10.00")])
            payments.record_payment(s, admin, made.id, NewPayment(made.total, PaymentMethod.CASH))
    ctx, notices = context(database, admin)
    vm = ClientsViewModel(ctx)
    with counting(database.engine) as statements:
        vm.open_client(ada)
        settle(qtbot, vm)
    # client, settings, invoices, quotes, payments, refunds, activity
    assert len(statements) == 7, statements
    assert len(vm.page.invoices.rows) == 6 and len(vm.page.payments.rows) == 6
    assert vm.page.figures.paid == "A$66.00" and notices == []
