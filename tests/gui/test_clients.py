"""The clients page, used as a person at the counter would, checked against the database."""

# pytest-qt's input helpers carry no annotations.
# mypy: disable-error-code="no-untyped-call"

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QHBoxLayout, QLineEdit, QMessageBox, QWidget
from pytestqt.qtbot import QtBot

from core.actor import Actor
from core.db.engine import Database
from core.services import clients, invoices
from core.services.clients import ClientInput, ClientView
from desktop.viewmodels.context import AppContext
from desktop.viewmodels.notifier import Notice, Notifier
from desktop.viewmodels.shell import ShellViewModel
from desktop.views.clients import ClientsPage, build_clients_page
from desktop.views.theme import STYLESHEET
from tests.factories import item
from workers.tasks import TaskRunner

Opener = Callable[[Actor], tuple[ClientsPage, list[Notice]]]


pytestmark = pytest.mark.no_gui_thread_sql


@pytest.fixture
def people(database: Database, admin: Actor) -> dict[str, int]:
    made: dict[str, int] = {}
    with database.session() as s:
        for key, data in (
            ("ada", ClientInput("Ada Lovelace", email="ada@engines.example", phone="0412 345 678")),
            ("grace", ClientInput("Grace Hopper", company="Cobol Robotics")),
            ("linus", ClientInput("Linus Park", email="linus@mail.example")),
        ):
            made[key] = clients.create_client(s, admin, data).id
    return made


@pytest.fixture
def open_page(qtbot: QtBot, database: Database, tmp_path: Path) -> Opener:
    """The clients page alone, styled as in the main window, shown and activated."""
    hosts: list[QWidget] = []  # qtbot holds widgets weakly; the test holds its windows

    def opener(actor: Actor) -> tuple[ClientsPage, list[Notice]]:
        notifier = Notifier()
        notices: list[Notice] = []
        notifier.posted.connect(notices.append)
        settings = QSettings(str(tmp_path / "shell.ini"), QSettings.Format.IniFormat)
        shell = ShellViewModel(user_label="test", database_label="test", settings=settings)
        page = build_clients_page(AppContext(database, actor, notifier, TaskRunner()), shell)
        host = QWidget()
        host.setStyleSheet(STYLESHEET)
        QHBoxLayout(host).addWidget(page)
        host.resize(1240, 860)
        qtbot.addWidget(host)
        hosts.append(host)
        host.show()
        qtbot.waitExposed(host)
        page.activated()
        settle(qtbot, page)
        return page, notices

    return opener


def settle(qtbot: QtBot, page: ClientsPage) -> None:
    """The screen reads in the background: wait until what it asked for has arrived."""
    qtbot.waitUntil(lambda: page.vm.model.loaded_once and not page.vm.busy)


def listed(page: ClientsPage) -> list[str]:
    model = page.table.model()
    return [model.index(row, 0).data() for row in range(model.rowCount())]


def stored(database: Database, client_id: int) -> ClientView:
    with database.session() as s:
        return clients.get_client(s, client_id)


def click_row(qtbot: QtBot, page: ClientsPage, name: str) -> None:
    row = listed(page).index(name)
    rect = page.table.visualRect(page.table.model().index(row, 0))
    qtbot.mouseClick(page.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())


def test_typing_in_the_search_box_filters_the_list(
    qtbot: QtBot, open_page: Opener, admin: Actor, people: dict[str, int]
) -> None:
    page, notices = open_page(admin)
    assert listed(page) == ["Ada Lovelace", "Grace Hopper", "Linus Park"]
    assert page.subtitle.text() == "3 clients"

    qtbot.keyClicks(page.search, "cobol")
    qtbot.waitUntil(lambda: listed(page) == ["Grace Hopper"])
    settle(qtbot, page)
    assert page.subtitle.text() == "1 client matches “cobol”"

    page.search.clear()
    qtbot.keyClicks(page.search, "0412 345")
    qtbot.waitUntil(lambda: listed(page) == ["Ada Lovelace"])

    qtbot.keyClicks(page.search, "999")
    qtbot.waitUntil(lambda: page.list_stack.currentIndex() == 1)
    assert "No client matches" in page.empty.text()

    qtbot.keyClick(page.search, Qt.Key.Key_Escape)  # Escape clears the search
    qtbot.waitUntil(lambda: len(listed(page)) == 3)
    assert notices == []


def test_new_client_is_typed_in_and_saved_to_the_database(
    qtbot: QtBot, open_page: Opener, database: Database, staff: Actor
) -> None:
    page, notices = open_page(staff)
    assert page.list_stack.currentIndex() == 1  # a new shop: the empty state says what to do
    assert "New client" in page.empty.text()

    qtbot.mouseClick(page.new_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.dialog is not None)
    dialog = page.dialog
    assert dialog is not None and dialog.isVisible()
    qtbot.keyClicks(dialog.inputs["name"], "Hedy Lamarr")
    qtbot.keyClicks(dialog.inputs["email"], "hedy@fhd.example")
    qtbot.keyClicks(dialog.inputs["phone"], "0422 555 019")
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.dialog is None)
    settle(qtbot, page)

    with database.session() as s:
        [saved] = clients.search_clients(s, "Hedy")
    assert (saved.name, saved.email, saved.phone) == (
        "Hedy Lamarr",
        "hedy@fhd.example",
        "0422 555 019",
    )
    assert saved.payment_terms_days == 14  # the shop's default terms
    assert listed(page) == ["Hedy Lamarr"]
    assert page.panel.name.text() == "Hedy Lamarr"
    assert page.table.currentIndex().row() == 0
    assert notices == []


def test_a_refused_field_is_marked_in_the_form_and_nothing_is_saved(
    qtbot: QtBot, open_page: Opener, database: Database, admin: Actor
) -> None:
    page, _ = open_page(admin)
    qtbot.mouseClick(page.new_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.dialog is not None)
    dialog = page.dialog
    assert dialog is not None
    qtbot.keyClicks(dialog.inputs["email"], "alan@")
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    error = dialog.field_errors["name"]
    qtbot.waitUntil(error.isVisible)
    assert error.text() == "A client needs a name."

    qtbot.waitUntil(dialog.save_button.isEnabled)  # the refusal is in: Save works again
    qtbot.keyClicks(dialog.inputs["name"], "Alan Kay")
    assert not error.isVisible()  # typing in the field takes its message away
    qtbot.keyClick(dialog.inputs["name"], Qt.Key.Key_Return)  # Enter presses Save
    qtbot.waitUntil(dialog.field_errors["email"].isVisible)
    assert dialog.field_errors["email"].text() == "alan@ is not a valid email address."
    assert dialog.isVisible()
    with database.session() as s:
        assert clients.count_clients(s) == 0

    qtbot.mouseClick(dialog.cancel_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.dialog is None)


def test_editing_a_client_changed_at_another_counter_offers_a_reload(
    qtbot: QtBot,
    open_page: Opener,
    database: Database,
    admin: Actor,
    staff: Actor,
    people: dict[str, int],
) -> None:
    page, _ = open_page(staff)
    click_row(qtbot, page, "Ada Lovelace")
    qtbot.waitUntil(lambda: page.panel.name.text() == "Ada Lovelace")
    qtbot.keyClick(page.table, Qt.Key.Key_Return)  # Enter edits the selected client
    qtbot.waitUntil(lambda: page.dialog is not None)
    dialog = page.dialog
    assert dialog is not None and dialog.isVisible()
    phone, name = dialog.inputs["phone"], dialog.inputs["name"]
    assert isinstance(phone, QLineEdit) and isinstance(name, QLineEdit)
    phone.selectAll()
    qtbot.keyClicks(phone, "0499 000 123")

    ada = stored(database, people["ada"])  # meanwhile, at the other counter
    with database.session() as s:
        clients.update_client(
            s, admin, ada.id, ClientInput("Ada King", email=ada.email, phone=ada.phone), ada.version
        )

    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(dialog.conflict.isVisible)
    settle(qtbot, page)
    assert "changed elsewhere" in dialog.conflict_text.text()
    assert not dialog.save_button.isEnabled()
    kept = stored(database, people["ada"])
    assert (kept.name, kept.phone) == ("Ada King", "0412 345 678")

    qtbot.mouseClick(dialog.reload_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not dialog.conflict.isVisible())
    qtbot.waitUntil(dialog.save_button.isEnabled)
    assert name.text() == "Ada King"
    assert dialog.notice.isVisible()
    phone.selectAll()
    qtbot.keyClicks(phone, "0499 000 123")
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.dialog is None)
    saved = stored(database, people["ada"])
    assert (saved.name, saved.phone) == ("Ada King", "0499 000 123")
    qtbot.waitUntil(lambda: page.panel.name.text() == "Ada King")
    settle(qtbot, page)
    assert "Ada King" in listed(page)


def test_shortcuts_find_and_new(
    qtbot: QtBot, open_page: Opener, admin: Actor, people: dict[str, int]
) -> None:
    page, _ = open_page(admin)
    window = page.window()
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    page.table.setFocus()
    qtbot.keyClick(page.table, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(page.search.hasFocus)
    qtbot.keyClicks(page.search, "park")
    qtbot.keyClick(page.search, Qt.Key.Key_Down)  # Down goes to the list, first row selected
    qtbot.waitUntil(lambda: page.panel.name.text() == "Linus Park")

    qtbot.keyClick(page.table, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: page.dialog is not None and page.dialog.isVisible())
    assert page.dialog is not None
    assert page.dialog.windowTitle() == "New client"
    page.dialog.reject()
    qtbot.waitUntil(lambda: page.dialog is None)


def test_the_client_page_shows_their_invoices(
    qtbot: QtBot, open_page: Opener, database: Database, admin: Actor, people: dict[str, int]
) -> None:
    with database.session() as s:
        invoice = invoices.create_invoice(s, admin, people["grace"], [item(price="40.00")])
    page, _ = open_page(admin)
    click_row(qtbot, page, "Grace Hopper")
    qtbot.waitUntil(lambda: page.panel.name.text() == "Grace Hopper")
    assert page.panel.company.text() == "Cobol Robotics"
    assert page.panel.tabs.tabText(0) == "Invoices (1)"
    model = page.panel.invoices.model()
    assert model.index(0, 0).data() == invoice.number
    assert model.index(0, 2).data() == "Pending"
    assert model.index(0, 3).data() == "A$44.00"
    assert page.panel.outstanding.value.text() == "A$44.00"


def test_staff_are_not_offered_delete(
    qtbot: QtBot, open_page: Opener, staff: Actor, people: dict[str, int]
) -> None:
    page, _ = open_page(staff)
    page.vm.open_client(people["linus"])
    qtbot.waitUntil(lambda: page.panel.name.text() == "Linus Park")
    assert page.panel.edit_button.isVisible()
    assert not page.panel.delete_button.isVisible()


def test_an_admin_deletes_a_client_after_confirming_and_sees_a_refusal(
    qtbot: QtBot, open_page: Opener, database: Database, admin: Actor, people: dict[str, int]
) -> None:
    with database.session() as s:
        invoices.create_invoice(s, admin, people["grace"], [item()])
    page, notices = open_page(admin)

    click_row(qtbot, page, "Linus Park")
    qtbot.waitUntil(lambda: page.panel.name.text() == "Linus Park")
    qtbot.mouseClick(page.panel.delete_button, Qt.MouseButton.LeftButton)
    box = page.confirm
    assert box is not None and box.isVisible()
    qtbot.mouseClick(box.button(QMessageBox.StandardButton.Yes), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: listed(page) == ["Ada Lovelace", "Grace Hopper"])
    settle(qtbot, page)
    with database.session() as s:
        assert clients.count_clients(s) == 2
    assert page.panel.stack.currentWidget() is page.panel.placeholder

    click_row(qtbot, page, "Grace Hopper")
    qtbot.waitUntil(lambda: page.panel.name.text() == "Grace Hopper")
    qtbot.mouseClick(page.panel.delete_button, Qt.MouseButton.LeftButton)
    box = page.confirm
    assert box is not None
    qtbot.mouseClick(box.button(QMessageBox.StandardButton.Yes), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: bool(notices))
    settle(qtbot, page)
    assert "has quotes or invoices" in notices[-1].text
    assert listed(page) == ["Ada Lovelace", "Grace Hopper"]
