"""The settings screen, used as a person at the counter would, checked against the database."""

# pytest-qt's input helpers carry no annotations.
# mypy: disable-error-code="no-untyped-call"

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QHBoxLayout, QLineEdit, QWidget
from pytestqt.qtbot import QtBot

from core.actor import Actor
from core.db.engine import Database
from core.enums import PrinterStatus, Role
from core.services import materials, printers, settings, users
from core.shop_settings import ShopSettings
from desktop.viewmodels.context import AppContext
from desktop.viewmodels.notifier import Notice, Notifier
from desktop.viewmodels.shell import ShellViewModel
from desktop.views.settings import SettingsPage, build_settings_page
from desktop.views.settings_catalog import RecordDialog
from desktop.views.theme import STYLESHEET
from desktop.views.toast import ToastArea
from tests.gui.shots import keep_shot
from tests.gui.test_jobs import choose
from workers.tasks import TaskRunner

pytestmark = pytest.mark.no_gui_thread_sql


@dataclass
class Screen:
    page: SettingsPage
    host: QWidget
    notices: list[Notice]
    toasts: ToastArea

    def toast_texts(self) -> list[str]:
        return [t.label.text() for t in self.toasts.toasts]


Opener = Callable[[Actor], Screen]


@pytest.fixture
def open_settings(qtbot: QtBot, database: Database, tmp_path: Path) -> Opener:
    hosts: list[QWidget] = []  # qtbot holds widgets weakly; the test holds its windows

    def opener(actor: Actor) -> Screen:
        notifier = Notifier()
        notices: list[Notice] = []
        notifier.posted.connect(notices.append)
        qsettings = QSettings(str(tmp_path / "shell.ini"), QSettings.Format.IniFormat)
        shell = ShellViewModel(user_label="test", database_label="test", settings=qsettings)
        page = build_settings_page(AppContext(database, actor, notifier, TaskRunner()), shell)
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
        host.activateWindow()  # shortcuts (Ctrl+S, Ctrl+N) go to the active window
        qtbot.waitUntil(host.isActiveWindow)
        page.activated()
        assert page.loading.isVisible()  # reading: the badge says so, the fields wait
        assert not page.forms["business"].fields_box.isEnabled()
        settle(qtbot, page)
        assert not page.loading.isVisible() and page.forms["business"].fields_box.isEnabled()
        assert host.isActiveWindow()  # what came in took no focus from the window
        return Screen(page, host, notices, toasts)

    return opener


def settle(qtbot: QtBot, page: SettingsPage) -> None:
    """Everything the screen asked the database for has arrived."""
    qtbot.waitUntil(lambda: not page.vm.busy)


def stored(database: Database) -> ShopSettings:
    with database.session() as s:
        return settings.get_settings(s)[0]


def go_to(qtbot: QtBot, page: SettingsPage, title: str) -> None:
    """Click the section in the list on the left."""
    item = next(
        page.nav.item(n) for n in range(page.nav.count()) if page.nav.item(n).text() == title
    )
    rect = page.nav.visualItemRect(item)
    qtbot.mouseClick(page.nav.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.waitUntil(lambda: page.nav.currentItem() is item)


def retype(qtbot: QtBot, widget: QWidget, text: str) -> None:
    """Select what the box holds and type over it."""
    widget.setFocus(Qt.FocusReason.MouseFocusReason)
    qtbot.keyClick(widget, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClick(widget, Qt.Key.Key_Delete)
    qtbot.keyClicks(widget, text)


def test_business_name_and_tax_rate_are_typed_and_saved(
    qtbot: QtBot, open_settings: Opener, database: Database, admin: Actor
) -> None:
    screen = open_settings(admin)
    page = screen.page
    business = page.forms["business"]
    assert not business.save_button.isEnabled()  # nothing to save yet
    retype(qtbot, business.inputs["business.name"], "Layer Cake Prints")
    assert business.save_button.isEnabled()
    qtbot.waitUntil(lambda: page.nav.currentItem().text().endswith("•"))  # not saved yet
    qtbot.mouseClick(business.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: stored(database).business.name == "Layer Cake Prints")
    settle(qtbot, page)
    assert "Business settings saved." in screen.toast_texts()
    assert not business.save_button.isEnabled()

    go_to(qtbot, page, "Money & tax")
    money = page.forms["money"]
    assert page.stack.currentWidget() is money
    rate = money.inputs["tax.rate"]
    assert isinstance(rate, QLineEdit) and rate.text() == "10"
    retype(qtbot, rate, "15")
    qtbot.keyClick(rate, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)  # Ctrl+S saves
    qtbot.waitUntil(lambda: stored(database).tax.rate == Decimal("0.15"))
    settle(qtbot, page)
    shop = stored(database)
    assert shop.business.name == "Layer Cake Prints"
    assert shop.tax.name == "GST" and shop.currency == "AUD"
    assert screen.notices[-1].text == "Money & tax settings saved."


def test_a_refused_value_is_shown_beside_the_field(
    qtbot: QtBot, open_settings: Opener, database: Database, admin: Actor
) -> None:
    screen = open_settings(admin)
    go_to(qtbot, screen.page, "Numbering")
    numbering = screen.page.forms["numbering"]
    retype(qtbot, numbering.inputs["numbering.invoice_prefix"], "TAX-")
    assert numbering.example.text() == "Looks like QT-0042 and TAX-0042"
    retype(qtbot, numbering.inputs["numbering.digits"], "12")
    qtbot.mouseClick(numbering.save_button, Qt.MouseButton.LeftButton)
    error = numbering.field_errors["numbering.digits"]
    qtbot.waitUntil(error.isVisible)
    assert error.text().startswith("Setting numbering.digits:")
    assert numbering.inputs["numbering.digits"].property("invalid") is True
    assert stored(database).numbering.invoice_prefix == "INV-"

    retype(qtbot, numbering.inputs["numbering.digits"], "5")
    assert not error.isVisible()
    qtbot.mouseClick(numbering.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: stored(database).numbering.digits == 5)
    assert stored(database).numbering.invoice_prefix == "TAX-"


def test_settings_saved_at_another_counter_offer_a_reload(
    qtbot: QtBot, open_settings: Opener, database: Database, admin: Actor
) -> None:
    screen = open_settings(admin)
    business = screen.page.forms["business"]
    retype(qtbot, business.inputs["business.phone"], "03 9000 0000")
    with database.session() as s:  # meanwhile, at the other counter
        settings.update_settings(s, admin, {"business": {"name": "Other Counter Co"}})

    qtbot.mouseClick(business.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(business.conflict.isVisible)
    assert business.conflict.title.text() == "Changed elsewhere — reload"
    assert "changed elsewhere" in business.conflict.text.text()
    assert not business.save_button.isEnabled()
    assert stored(database).business.phone == ""

    qtbot.mouseClick(business.conflict.reload_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not business.conflict.isVisible())
    name = business.inputs["business.name"]
    assert isinstance(name, QLineEdit) and name.text() == "Other Counter Co"
    retype(qtbot, business.inputs["business.phone"], "03 9000 0000")
    qtbot.mouseClick(business.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: stored(database).business.phone == "03 9000 0000")
    assert stored(database).business.name == "Other Counter Co"


def open_dialog(qtbot: QtBot, screen: Screen, key: str) -> RecordDialog:
    panel = screen.page.panels[key]
    qtbot.waitUntil(lambda: panel.dialog is not None and panel.dialog.isVisible())
    assert panel.dialog is not None
    return panel.dialog


def test_a_printer_is_added_through_its_dialog_and_set_to_maintenance(
    qtbot: QtBot, open_settings: Opener, database: Database, admin: Actor
) -> None:
    screen = open_settings(admin)
    page = screen.page
    go_to(qtbot, page, "Printers")
    qtbot.mouseClick(page.printers.add_button, Qt.MouseButton.LeftButton)
    dialog = open_dialog(qtbot, screen, "printers")
    assert dialog.windowTitle() == "New printer"
    for key, text in (
        ("name", "Prusa MK4"),
        ("cura_definition_id", "prusa_mk4"),
        ("build_x", "250"),
        ("build_y", "210"),
        ("build_z", "220"),
        ("hourly_rate", "50"),
    ):
        qtbot.keyClicks(dialog.inputs[key], text)
    nozzle = dialog.inputs["nozzle"]
    assert isinstance(nozzle, QLineEdit) and nozzle.text() == "0.4"
    retype(qtbot, nozzle, "0")
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(dialog.field_errors["nozzle"].isVisible)
    assert (
        dialog.field_errors["nozzle"].text() == "Nozzle (mm) must be more than 0 and less than 100."
    )
    retype(qtbot, nozzle, "0.6")
    qtbot.keyClick(nozzle, Qt.Key.Key_Return)  # Enter presses Save
    qtbot.waitUntil(lambda: page.printers.dialog is None)
    settle(qtbot, page)

    with database.session() as s:
        prusa = next(p for p in printers.list_printers(s) if p.name == "Prusa MK4")
    assert (prusa.cura_definition_id, prusa.build_y_mm, prusa.nozzle_mm, prusa.hourly_rate) == (
        "prusa_mk4",
        Decimal("210.0"),
        Decimal("0.60"),
        Decimal("50.00"),
    )
    model = page.printers.table.model()
    names = [model.index(r, 0).data() for r in range(model.rowCount())]
    assert names == ["Ender 3", "Prusa MK4"]

    row = names.index("Prusa MK4")
    rect = page.printers.table.visualRect(model.index(row, 0))
    qtbot.mouseClick(page.printers.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    choose(qtbot, page.printers.status, "Maintenance")
    with database.session() as s:
        qtbot.waitUntil(
            lambda: printers.get_printer(s, prusa.id).status is PrinterStatus.MAINTENANCE
        )
    settle(qtbot, page)  # the rows after the change come with it
    assert model.index(row, 5).data() == "Maintenance"


def test_a_material_is_added_through_its_dialog_and_deactivated(
    qtbot: QtBot, open_settings: Opener, database: Database, admin: Actor
) -> None:
    screen = open_settings(admin)
    page = screen.page
    go_to(qtbot, page, "Materials")
    page.materials.table.setFocus()
    qtbot.keyClick(page.materials.table, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    dialog = open_dialog(qtbot, screen, "materials")
    for key, text in (
        ("name", "PLA Silk Gold"),
        ("type", "PLA"),
        ("colour", "Gold"),
        ("density", "1.24"),
        ("cost_per_kg", "32.00"),
    ):
        qtbot.keyClicks(dialog.inputs[key], text)
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.materials.dialog is None)
    settle(qtbot, page)
    with database.session() as s:
        gold = next(m for m in materials.list_materials(s) if m.name == "PLA Silk Gold")
    assert (gold.type, gold.colour, gold.density_g_cm3, gold.cost_per_kg) == (
        "PLA",
        "Gold",
        Decimal("1.240"),
        Decimal("32.00"),
    )

    model = page.materials.table.model()
    row = [model.index(r, 0).data() for r in range(model.rowCount())].index("PLA Silk Gold")
    rect = page.materials.table.visualRect(model.index(row, 0))
    qtbot.mouseClick(page.materials.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert page.materials.active_button.text() == "Deactivate"
    qtbot.mouseClick(page.materials.active_button, Qt.MouseButton.LeftButton)
    with database.session() as s:
        qtbot.waitUntil(lambda: not materials.get_material(s, gold.id).active)
    qtbot.waitUntil(lambda: page.materials.active_button.text() == "Reactivate")


def test_users_are_added_and_the_last_admin_refusal_is_shown(
    qtbot: QtBot, open_settings: Opener, database: Database, admin: Actor
) -> None:
    with database.session() as s:
        owner = users.add_user(s, admin, "owner@shop.example", "Owner", Role.ADMIN, "owner pass")
    screen = open_settings(users.actor_for(owner))
    page = screen.page
    go_to(qtbot, page, "Users")
    qtbot.mouseClick(page.users.add_button, Qt.MouseButton.LeftButton)
    dialog = open_dialog(qtbot, screen, "users")
    qtbot.keyClicks(dialog.inputs["email"], "jo@shop.example")
    qtbot.keyClicks(dialog.inputs["name"], "Jo Counter")
    qtbot.keyClicks(dialog.inputs["password"], "correct horse")
    qtbot.keyClicks(dialog.inputs["password_again"], "correct horsy")
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(dialog.field_errors["password_again"].isVisible)
    retype(qtbot, dialog.inputs["password_again"], "correct horse")
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.users.dialog is None)
    settle(qtbot, page)
    with database.session() as s:
        jo = next(u for u in users.list_users(s) if u.email == "jo@shop.example")
        assert users.authenticate(s, "jo@shop.example", "correct horse").id == jo.id
    assert jo.role is Role.STAFF

    model = page.users.table.model()
    row = [model.index(r, 0).data() for r in range(model.rowCount())].index("owner@shop.example")
    rect = page.users.table.visualRect(model.index(row, 0))
    qtbot.mouseClick(page.users.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert page.users.role_button.text() == "Make staff"
    qtbot.mouseClick(page.users.role_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: any("last active admin" in t for t in screen.toast_texts()))
    with database.session() as s:
        assert users.get_user(s, owner.id).role is Role.ADMIN


def test_staff_see_the_settings_read_only(
    qtbot: QtBot, open_settings: Opener, database: Database, staff: Actor
) -> None:
    before = stored(database)
    screen = open_settings(staff)
    page = screen.page
    assert page.read_only.isVisible()
    assert "read-only" in page.read_only.text()
    business = page.forms["business"]
    name = business.inputs["business.name"]
    assert isinstance(name, QLineEdit) and name.isReadOnly()
    qtbot.keyClicks(name, "Staff Was Here")
    assert name.text() == "My Print Shop"
    assert not business.save_button.isVisible()
    qtbot.keyClick(name, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)  # nothing to save

    go_to(qtbot, page, "Money & tax")
    assert not page.forms["money"].inputs["tax.inclusive"].isEnabled()
    go_to(qtbot, page, "Printers")
    settle(qtbot, page)
    assert page.printers.table.model().rowCount() == 1
    assert not page.printers.add_button.isVisible()
    assert not page.printers.status.isVisible()
    go_to(qtbot, page, "Users")
    assert page.users.hidden.isVisible() and not page.users.table.isVisible()
    assert stored(database) == before
    assert screen.notices == []


def test_save_waits_while_the_section_is_saving(
    qtbot: QtBot, open_settings: Opener, database: Database, admin: Actor
) -> None:
    screen = open_settings(admin)
    page = screen.page
    business = page.forms["business"]
    retype(qtbot, business.inputs["business.phone"], "03 9000 0000")
    with database.engine.connect() as blocker:  # a slow database: the save waits on a lock
        blocker.exec_driver_sql("LOCK TABLE settings IN ACCESS EXCLUSIVE MODE")
        qtbot.mouseClick(business.save_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: business.save_button.text() == "Saving…")
        assert not business.save_button.isEnabled() and page.vm.busy
        qtbot.mouseClick(business.save_button, Qt.MouseButton.LeftButton)  # a second press
        keep_shot(page, "settings-saving.png")
        blocker.rollback()
    settle(qtbot, page)
    assert business.save_button.text() == "Save changes" and not business.save_button.isEnabled()
    assert stored(database).business.phone == "03 9000 0000"
    assert screen.notices[-1].text == "Business settings saved."
    assert [n.text for n in screen.notices].count("Business settings saved.") == 1
