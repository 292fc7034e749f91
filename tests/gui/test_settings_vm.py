"""The settings view models, driven without a single widget, against a real database."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from pytestqt.qtbot import QtBot

from core.actor import Actor
from core.db.engine import Database
from core.enums import JobPolicy, PrinterStatus, Role
from core.services import materials, printers, settings, users
from core.shop_settings import ShopSettings
from desktop.viewmodels.context import AppContext
from desktop.viewmodels.notifier import Level, Notice, Notifier
from desktop.viewmodels.settings import (
    RecordEditorViewModel,
    SettingsSectionViewModel,
    SettingsViewModel,
)
from tests.gui.sql_watch import GuiThreadSql, counting
from workers.tasks import TaskRunner

pytestmark = pytest.mark.no_gui_thread_sql


def settle(qtbot: QtBot, vm: SettingsViewModel) -> None:
    """Everything the screen asked the database for has arrived."""
    qtbot.waitUntil(lambda: not vm.busy)


def settings_for(
    qtbot: QtBot, database: Database, actor: Actor
) -> tuple[SettingsViewModel, list[Notice]]:
    """The screen shown, its settings and tables read (each table's page shown once)."""
    notifier = Notifier()
    notices: list[Notice] = []
    notifier.posted.connect(notices.append)
    vm = SettingsViewModel(AppContext(database, actor, notifier, TaskRunner()))
    vm.load()
    for key in ("printers", "materials", "users", "business"):
        vm.show(key)
    settle(qtbot, vm)
    return vm, notices


def save(qtbot: QtBot, form: SettingsSectionViewModel | RecordEditorViewModel[Any]) -> bool:
    """Press Save and wait for the answer: True when it was written."""
    with qtbot.waitSignal(form.save_done) as done:
        form.save()
    return bool(done.args[0])


def act(qtbot: QtBot, vm: SettingsViewModel, command: Callable[[], None]) -> bool:
    """A table command (status, role, deactivate) and its answer: True when it was done."""
    tables = (vm.printers, vm.materials, vm.users)
    answers: list[bool] = []
    for table in tables:
        table.act_done.connect(answers.append)
    try:
        command()
        qtbot.waitUntil(lambda: bool(answers))
        settle(qtbot, vm)
    finally:
        for table in tables:
            table.act_done.disconnect(answers.append)
    return answers[0]


def opened(qtbot: QtBot, table: Any, start: Callable[[], None]) -> Any:
    """The editor a command opens once the record is read."""
    with qtbot.waitSignal(table.editor_opened) as got:
        start()
    return got.args[0]


def section(vm: SettingsViewModel, key: str) -> SettingsSectionViewModel:
    found = vm.section(key)
    assert found is not None
    return found


def saved(database: Database) -> tuple[ShopSettings, int]:
    with database.session() as s:
        return settings.get_settings(s)


def test_sections_show_the_saved_settings_as_people_write_them(
    qtbot: QtBot, database: Database, admin: Actor
) -> None:
    vm, notices = settings_for(qtbot, database, admin)
    assert [p.title for p in vm.pages] == [
        "Business",
        "Money & tax",
        "Numbering",
        "Pricing",
        "Jobs",
        "Files & retention",
        "Printers",
        "Materials",
        "Users",
    ]
    money = section(vm, "money")
    assert money.value("tax.rate") == "10"  # stored as 0.10
    assert money.value("tax.inclusive") is False
    assert money.value("currency") == "AUD"
    assert section(vm, "pricing").value("pricing.hourly_rate") == "45.00"
    assert [(r.label, r.amount) for r in section(vm, "pricing").shipping] == [
        ("Pick-up", "0.00"),
        ("Metro", "12.50"),
        ("Regional", "18.50"),
    ]
    assert section(vm, "jobs").value("job_creation_policy") == "ON_INVOICE"
    assert section(vm, "files").value("retention.order_files_days") == ""
    assert section(vm, "numbering").example == "Looks like QT-0042 and INV-0042"
    assert "never reset" in section(vm, "numbering").spec.note
    assert not any(s.dirty for s in vm.sections)
    assert [p.name for p in vm.printers.rows] == ["Ender 3"]
    assert [m.name for m in vm.materials.rows] == ["ABS", "PETG", "PLA", "TPU 95A"]
    assert vm.can_edit and vm.read_only_note == ""
    assert notices == []


def test_saving_a_section_writes_it_and_the_next_section_saves_too(
    qtbot: QtBot, database: Database, admin: Actor
) -> None:
    vm, notices = settings_for(qtbot, database, admin)
    business, money = section(vm, "business"), section(vm, "money")
    business.set_value("business.name", "Layer Cake Prints")
    business.set_value("business.address", "1 Filament St\nMelbourne VIC 3000")
    assert business.dirty and business.can_save
    assert save(qtbot, business)
    money.set_value("tax.rate", "15")
    money.set_value("tax.inclusive", True)
    money.set_value("currency", "nzd")
    assert save(qtbot, money)  # against the version the business save left

    shop, version = saved(database)
    assert shop.business.name == "Layer Cake Prints"
    assert shop.business.address == "1 Filament St\nMelbourne VIC 3000"
    assert shop.tax.rate == Decimal("0.15") and shop.tax.inclusive
    assert shop.currency == "NZD"
    assert version == 3
    assert money.value("currency") == "NZD"  # the form shows what was saved
    assert not business.dirty and not money.dirty
    assert [n.text for n in notices] == ["Business settings saved.", "Money & tax settings saved."]

    pricing = section(vm, "pricing")
    pricing.remove_shipping(0)
    row = pricing.add_shipping()
    pricing.set_shipping(row, label="Express", amount="25")
    pricing.set_value("pricing.setup_fee", "12.5")
    assert save(qtbot, pricing)
    shop, _ = saved(database)
    assert [(o.label, o.amount) for o in shop.shipping_options] == [
        ("Metro", Decimal("12.50")),
        ("Regional", Decimal("18.50")),
        ("Express", Decimal("25")),
    ]
    assert shop.pricing.setup_fee == Decimal("12.5")

    jobs_section, files = section(vm, "jobs"), section(vm, "files")
    jobs_section.set_value("job_creation_policy", JobPolicy.ON_PAYMENT.value)
    assert save(qtbot, jobs_section)
    files.set_value("retention.order_files_days", "365")
    assert save(qtbot, files)
    shop, _ = saved(database)
    assert shop.job_creation_policy is JobPolicy.ON_PAYMENT
    assert shop.retention.order_files_days == 365


def test_a_refused_value_is_shown_beside_its_field_and_nothing_is_saved(
    qtbot: QtBot, database: Database, admin: Actor
) -> None:
    vm, _ = settings_for(qtbot, database, admin)
    before = saved(database)
    numbering, money, pricing = (
        section(vm, "numbering"),
        section(vm, "money"),
        section(vm, "pricing"),
    )

    numbering.set_value("numbering.quote_prefix", "Q-")
    numbering.set_value("numbering.digits", "11")
    assert not save(qtbot, numbering)
    assert list(numbering.errors) == ["numbering.digits"]
    assert numbering.errors["numbering.digits"].startswith("Setting numbering.digits:")

    money.set_value("tax.rate", "ten")
    assert not save(qtbot, money)
    assert money.errors == {"tax.rate": "Tax rate: enter a percentage, e.g. 10."}
    money.set_value("tax.rate", "150")
    assert money.errors == {}  # typing in the field takes its message away
    assert not save(qtbot, money)
    assert money.errors["tax.rate"] == (
        "Setting tax.rate: enter the rate in per cent, from 0 up to (not including) 100."
    )
    money.set_value("tax.rate", "10")
    money.set_value("checkout_expiry_minutes", "5")
    assert not save(qtbot, money)
    assert "checkout_expiry_minutes" in money.errors

    pricing.set_shipping(1, amount="-3")
    assert not save(qtbot, pricing)
    assert pricing.errors["shipping_options"].startswith("Shipping option 2, amount:")

    assert saved(database) == before
    assert numbering.dirty and numbering.value("numbering.quote_prefix") == "Q-"  # kept as typed


def test_settings_changed_at_another_counter_say_changed_elsewhere_and_reload(
    qtbot: QtBot, database: Database, admin: Actor
) -> None:
    vm, _ = settings_for(qtbot, database, admin)
    money, business = section(vm, "money"), section(vm, "business")
    money.set_value("tax.rate", "12")

    with database.session() as s:  # the other counter
        settings.update_settings(s, admin, {"tax": {"rate": "0.2"}}, expected_version=1)

    assert not save(qtbot, money)
    assert money.conflict and not money.can_save
    assert "changed elsewhere" in money.message
    assert saved(database)[0].tax.rate == Decimal("0.2")

    with qtbot.waitSignal(money.values_changed):
        money.reload()
    assert not money.conflict
    assert money.value("tax.rate") == "20"
    money.set_value("tax.rate", "12")
    assert save(qtbot, money)
    assert saved(database)[0].tax.rate == Decimal("0.12")

    # A refresh (another counter saved) updates an untouched section and flags a typed one.
    business.set_value("business.phone", "03 9000 0000")
    with database.session() as s:
        _, version = settings.get_settings(s)
        settings.update_settings(
            s,
            admin,
            {"business": {"phone": "03 1111 1111"}, "numbering": {"digits": 5}},
            expected_version=version,
        )
    vm.refresh()
    settle(qtbot, vm)
    assert section(vm, "numbering").value("numbering.digits") == "5"
    assert not section(vm, "numbering").conflict
    assert business.conflict and "changed elsewhere" in business.message
    assert business.value("business.phone") == "03 9000 0000"  # kept until reloaded
    assert not save(qtbot, business)
    assert saved(database)[0].business.phone == "03 1111 1111"


def test_staff_see_the_settings_but_may_not_change_them(
    qtbot: QtBot, database: Database, admin: Actor, staff: Actor
) -> None:
    with database.session() as s:
        users.add_user(s, admin, "owner@shop.example", "Owner", Role.ADMIN, "a long password")
    vm, notices = settings_for(qtbot, database, staff)
    before = saved(database)
    assert not vm.can_edit
    assert "read-only" in vm.read_only_note
    business = section(vm, "business")
    assert business.value("business.name") == "My Print Shop"
    business.set_value("business.name", "Staff Was Here")
    assert not business.can_save
    assert not save(qtbot, business)
    assert business.message == "Only an admin may change the shop's settings."
    assert saved(database) == before

    assert not vm.users.visible and vm.users.rows == []  # staff get no list of accounts
    assert not vm.printers.can_edit and [p.name for p in vm.printers.rows] == ["Ender 3"]
    ender = vm.printers.rows[0]
    assert not act(qtbot, vm, lambda: vm.printers.set_status(ender.id, PrinterStatus.OFFLINE))
    assert notices[-1] == Notice(Level.WARNING, "Only an admin may change printers.")
    with database.session() as s:
        assert printers.get_printer(s, ender.id).status is PrinterStatus.ACTIVE


def test_printers_are_added_edited_and_set_out_of_service(
    qtbot: QtBot, database: Database, admin: Actor
) -> None:
    vm, notices = settings_for(qtbot, database, admin)
    editor = vm.printers.new_printer()
    assert vm.printers.editor is editor
    for key, value in {
        "name": "Prusa MK4",
        "cura_definition_id": "prusa_mk4",
        "build_x": "250",
        "build_y": "210",
        "build_z": "abc",
    }.items():
        editor.set_value(key, value)
    assert not save(qtbot, editor)
    assert editor.errors == {"build_z": "Build volume Z (mm): enter a number."}
    editor.set_value("build_z", "0")
    assert not save(qtbot, editor)
    assert editor.errors == {
        "build_z": "Build volume Z (mm) must be more than 0 and less than 1000000."
    }
    editor.set_value("build_z", "220")
    editor.set_value("name", "ender 3")
    assert not save(qtbot, editor)
    assert editor.errors == {"name": 'A printer named "Ender 3" already exists.'}
    assert not editor.conflict
    editor.set_value("name", "Prusa MK4")
    assert save(qtbot, editor)
    assert vm.printers.editor is None
    settle(qtbot, vm)
    assert [p.name for p in vm.printers.rows] == ["Ender 3", "Prusa MK4"]
    prusa = vm.printers.rows[1]
    assert (prusa.build_z_mm, prusa.nozzle_mm, prusa.hourly_rate) == (
        Decimal("220.0"),
        Decimal("0.40"),
        None,
    )

    edit = opened(qtbot, vm.printers, lambda: vm.printers.edit_printer(prusa.id))
    assert edit is not None and edit.value("build_x") == "250"
    edit.set_value("hourly_rate", "55")
    with database.session() as s:  # meanwhile, another admin renames it
        printers.update_printer(
            s,
            admin,
            prusa.id,
            printers.PrinterInput(
                "Prusa MK4S", "prusa_mk4", Decimal(250), Decimal(210), Decimal(220)
            ),
            prusa.version,
        )
    assert not save(qtbot, edit)
    assert edit.conflict and "changed elsewhere" in edit.message
    with qtbot.waitSignal(edit.form_changed):
        edit.reload()
    assert edit.value("name") == "Prusa MK4S" and not edit.conflict
    edit.set_value("hourly_rate", "55")
    assert save(qtbot, edit)
    settle(qtbot, vm)  # the table reads its rows again after a save

    assert act(qtbot, vm, lambda: vm.printers.set_status(prusa.id, PrinterStatus.MAINTENANCE))
    with database.session() as s:
        stored = printers.get_printer(s, prusa.id)
    assert (stored.name, stored.hourly_rate, stored.status) == (
        "Prusa MK4S",
        Decimal("55.00"),
        PrinterStatus.MAINTENANCE,
    )
    assert notices[-1].text == "Prusa MK4S is now maintenance."


def test_materials_are_added_and_deactivated(
    qtbot: QtBot, database: Database, admin: Actor
) -> None:
    vm, notices = settings_for(qtbot, database, admin)
    editor = vm.materials.new_material()
    for key, value in {
        "name": "PLA Silk Gold",
        "type": "PLA",
        "colour": "Gold",
        "density": "1.24",
        "cost_per_kg": "32",
    }.items():
        editor.set_value(key, value)
    assert editor.value("diameter") == "1.75"
    assert save(qtbot, editor)
    settle(qtbot, vm)
    gold = next(m for m in vm.materials.rows if m.name == "PLA Silk Gold")
    assert (gold.cost_per_kg, gold.diameter_mm) == (Decimal("32.00"), Decimal("1.75"))

    assert act(qtbot, vm, lambda: vm.materials.set_active(gold.id, False))
    with database.session() as s:
        assert gold.id not in [m.id for m in materials.list_materials(s)]
    assert not next(m for m in vm.materials.rows if m.id == gold.id).active
    assert act(qtbot, vm, lambda: vm.materials.set_active(gold.id, True))
    assert "back on the counter" in notices[-1].text


def test_users_are_added_with_the_password_twice_and_the_last_admin_stays(
    qtbot: QtBot, database: Database, admin: Actor
) -> None:
    with database.session() as s:
        owner = users.add_user(s, admin, "owner@shop.example", "Owner", Role.ADMIN, "owner pass 1")
    me = users.actor_for(owner)
    vm, notices = settings_for(qtbot, database, me)
    assert vm.users.visible and [u.email for u in vm.users.rows] == ["owner@shop.example"]

    editor = vm.users.new_user()
    editor.set_value("email", "jo@shop.example")
    editor.set_value("name", "Jo")
    editor.set_value("password", "correct horse")
    editor.set_value("password_again", "correct hose")
    assert not save(qtbot, editor)
    assert list(editor.errors) == ["password_again"]
    editor.set_value("password_again", "correct horse")
    editor.set_value("email", "jo@")
    assert not save(qtbot, editor)
    assert editor.errors == {"email": "jo@ is not a valid email address."}
    editor.set_value("email", "jo@shop.example")
    assert save(qtbot, editor)
    settle(qtbot, vm)
    jo = next(u for u in vm.users.rows if u.email == "jo@shop.example")
    assert jo.role is Role.STAFF and jo.active

    assert not act(qtbot, vm, lambda: vm.users.set_role(owner.id, Role.STAFF))
    assert notices[-1].level is Level.WARNING
    assert "last active admin" in notices[-1].text
    assert not act(qtbot, vm, lambda: vm.users.set_active(owner.id, False))
    assert notices[-1].text == "You cannot deactivate your own account."
    assert act(qtbot, vm, lambda: vm.users.set_role(jo.id, Role.ADMIN))
    assert act(qtbot, vm, lambda: vm.users.set_active(jo.id, False))
    with database.session() as s:
        stored = users.get_user(s, jo.id)
    assert stored.role is Role.ADMIN and not stored.active

    password = vm.users.change_password(jo.id)
    assert password is not None
    password.set_value("password", "short")
    password.set_value("password_again", "short")
    assert not save(qtbot, password)
    assert password.errors == {"password": "A password needs at least 8 characters."}


def test_the_screen_shows_its_first_data_in_one_statement_and_each_table_in_one(
    qtbot: QtBot, database: Database, admin: Actor, gui_thread_sql: GuiThreadSql
) -> None:
    with database.session() as s:
        users.add_user(s, admin, "owner@shop.example", "Owner", Role.ADMIN, "owner pass 1")
    notifier = Notifier()
    notices: list[Notice] = []
    notifier.posted.connect(notices.append)
    vm = SettingsViewModel(AppContext(database, admin, notifier, TaskRunner()))
    with counting(database.engine) as statements:
        vm.load()
        assert vm.loading and not vm.loaded  # the call returned at once; the values come later
        assert section(vm, "business").value("business.name") == ""
        settle(qtbot, vm)
    assert len(statements) <= 3, statements  # the bound for a screen's first data
    assert len(statements) == 1, statements  # the settings row holds every section
    assert section(vm, "business").value("business.name") == "My Print Shop"
    assert vm.printers.rows == [] and not vm.printers.loaded_once  # not shown yet, not read

    for key, table, first in (
        ("printers", vm.printers, "Ender 3"),
        ("materials", vm.materials, "ABS"),
        ("users", vm.users, "owner@shop.example"),
    ):
        with counting(database.engine) as statements:
            vm.show(key)
            assert vm.loading
            settle(qtbot, vm)
        assert len(statements) == 1, (key, statements)
        assert table.loaded_once and table.model.index(0, 0).data() == first

    with counting(database.engine) as statements:  # another counter changed something
        vm.refresh()
        settle(qtbot, vm)
    assert len(statements) == 4, statements  # the settings and the three tables read so far
    assert gui_thread_sql.statements == [] and notices == []


def test_a_table_command_and_the_rows_after_it_are_one_background_call(
    qtbot: QtBot, database: Database, admin: Actor
) -> None:
    vm, notices = settings_for(qtbot, database, admin)
    ender = vm.printers.rows[0]
    with counting(database.engine) as statements:
        assert act(qtbot, vm, lambda: vm.printers.set_status(ender.id, PrinterStatus.OFFLINE))
    assert vm.printers.rows[0].status is PrinterStatus.OFFLINE
    assert notices[-1].text == "Ender 3 is now offline."
    listings = [n for n, sql in enumerate(statements) if "FROM printers ORDER BY" in sql]
    assert listings == [len(statements) - 1], statements  # the rows once, after the command
