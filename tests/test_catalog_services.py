from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest
from sqlalchemy import select

from core.actor import Actor
from core.db.engine import Database
from core.db.models import Material, Printer
from core.enums import PrinterStatus
from core.errors import Conflict, InvalidInput, NotAllowed, NotFound
from core.services import activity, materials, printers
from core.services.materials import MaterialInput, MaterialView
from core.services.printers import PrinterInput, PrinterView

SILK = MaterialInput(
    name=" Silk PLA ",
    type="PLA",
    colour="Gold",
    density_g_cm3=Decimal("1.2345"),
    cost_per_kg=Decimal("32.5"),
)
PRUSA = PrinterInput(
    name=" Prusa MK4 ",
    cura_definition_id="prusa_mk4",
    build_x_mm=Decimal("250"),
    build_y_mm=Decimal("210"),
    build_z_mm=Decimal("220"),
    hourly_rate=Decimal("6.5"),
)


def _add_material(database: Database, actor: Actor, data: MaterialInput = SILK) -> MaterialView:
    with database.session() as s:
        return materials.create_material(s, actor, data)


def _add_printer(database: Database, actor: Actor, data: PrinterInput = PRUSA) -> PrinterView:
    with database.session() as s:
        return printers.create_printer(s, actor, data)


def _material_names(database: Database) -> list[str]:
    with database.session() as s:
        return sorted(s.scalars(select(Material.name)))


def _printer_names(database: Database) -> list[str]:
    with database.session() as s:
        return sorted(s.scalars(select(Printer.name)))


# Materials


def test_a_fresh_database_stocks_four_materials(database: Database) -> None:
    with database.session() as s:
        stocked = materials.list_materials(s)
    assert [m.name for m in stocked] == ["ABS", "PETG", "PLA", "TPU 95A"]
    pla = stocked[2]
    assert (pla.type, pla.colour, pla.active, pla.version) == ("PLA", "Black", True, 1)
    assert (pla.density_g_cm3, pla.cost_per_kg, pla.diameter_mm) == (
        Decimal("1.240"),
        Decimal("25.00"),
        Decimal("1.75"),
    )
    assert all(isinstance(m.cost_per_kg, Decimal) for m in stocked)


def test_an_admin_adds_a_material_rounded_to_what_the_shop_stores(
    database: Database, admin: Actor
) -> None:
    silk = _add_material(database, admin)

    assert (silk.name, silk.colour, silk.active) == ("Silk PLA", "Gold", True)
    assert (silk.density_g_cm3, silk.cost_per_kg, silk.diameter_mm) == (
        Decimal("1.235"),
        Decimal("32.50"),
        Decimal("1.75"),
    )
    with database.session() as s:
        assert materials.get_material(s, silk.id) == silk
        [entry] = activity.recent(s, entity_type="material", entity_id=silk.id)
    assert entry.action == "material.created"
    assert "Silk PLA" in _material_names(database)


def test_staff_may_not_change_materials(database: Database, admin: Actor, staff: Actor) -> None:
    silk = _add_material(database, admin)
    refusal = r"^Only an admin may change materials\.$"
    with database.session() as s:
        with pytest.raises(NotAllowed, match=refusal):
            materials.create_material(s, staff, replace(SILK, name="Matte PLA"))
        with pytest.raises(NotAllowed, match=refusal):
            materials.update_material(s, staff, silk.id, replace(SILK, colour="Red"), 1)
        with pytest.raises(NotAllowed, match=refusal):
            materials.deactivate_material(s, staff, silk.id)
        assert materials.get_material(s, silk.id) == silk
    assert "Matte PLA" not in _material_names(database)


def test_a_material_name_is_taken_once_whatever_its_case(database: Database, admin: Actor) -> None:
    with pytest.raises(Conflict, match=r'^A material named "PLA" already exists\.$'):
        _add_material(database, admin, replace(SILK, name=" pla "))
    assert _material_names(database) == ["ABS", "PETG", "PLA", "TPU 95A"]


def test_renaming_a_material_to_a_taken_name_is_a_conflict(
    database: Database, admin: Actor
) -> None:
    silk = _add_material(database, admin)
    with database.session() as s:
        with pytest.raises(Conflict, match='"PETG" already exists'):
            materials.update_material(s, admin, silk.id, replace(SILK, name="PETG"), 1)
        assert materials.get_material(s, silk.id).name == "Silk PLA"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"name": " "}, "A material needs a name."),
        ({"name": "x" * 101}, "The name may be at most 100 characters."),
        ({"type": ""}, "A material needs a type."),
        ({"colour": "x" * 65}, "The colour may be at most 64 characters."),
        ({"density_g_cm3": Decimal(0)}, "Density (g/cm³) must be more than 0 and less than 1000."),
        ({"density_g_cm3": Decimal("-1.2")}, "Density (g/cm³) must be more than 0"),
        ({"density_g_cm3": Decimal("0.0001")}, "Density (g/cm³) must be more than 0"),
        ({"density_g_cm3": Decimal("NaN")}, "Density (g/cm³) must be more than 0"),
        ({"cost_per_kg": Decimal("-0.01")}, "Cost per kg must be 0 or more"),
        ({"cost_per_kg": Decimal("Infinity")}, "Cost per kg must be 0 or more"),
        ({"diameter_mm": Decimal(0)}, "Diameter (mm) must be more than 0"),
        ({"diameter_mm": Decimal(100)}, "Diameter (mm) must be more than 0 and less than 100."),
    ],
)
def test_bad_material_details_are_refused(
    database: Database, admin: Actor, change: dict[str, object], message: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        _add_material(database, admin, replace(SILK, **change))  # type: ignore[arg-type]
    assert str(refused.value).startswith(message)
    assert len(_material_names(database)) == 4


@pytest.mark.parametrize("diameter", ["1.75", "2.85", "3.0", "2.5"])
def test_any_positive_filament_diameter_is_accepted(
    database: Database, admin: Actor, diameter: str
) -> None:
    silk = _add_material(database, admin, replace(SILK, diameter_mm=Decimal(diameter)))
    assert silk.diameter_mm == Decimal(diameter)


def test_free_material_is_allowed(database: Database, admin: Actor) -> None:
    offcut = _add_material(database, admin, replace(SILK, cost_per_kg=Decimal(0)))
    assert offcut.cost_per_kg == Decimal("0.00")


def test_an_admin_edits_a_material(database: Database, admin: Actor) -> None:
    silk = _add_material(database, admin)
    edited = replace(SILK, colour="Copper", cost_per_kg=Decimal("35"))
    with database.session() as s:
        saved = materials.update_material(s, admin, silk.id, edited, expected_version=1)
    assert (saved.colour, saved.cost_per_kg, saved.version) == ("Copper", Decimal("35.00"), 2)
    with database.session() as s:
        stored = s.get(Material, silk.id)
        assert stored is not None and stored.cost_per_kg == Decimal("35.00")
        entry = activity.recent(s, entity_type="material", entity_id=silk.id)[0]
    assert entry.detail == {"fields": ["colour", "cost_per_kg"]}


def test_a_material_edit_from_a_stale_version_is_a_conflict(
    database: Database, admin: Actor
) -> None:
    silk = _add_material(database, admin)
    with database.session() as s:
        materials.update_material(s, admin, silk.id, replace(SILK, colour="Red"), 1)
        with pytest.raises(Conflict, match=r"^Silk PLA was changed elsewhere — reload it"):
            materials.update_material(s, admin, silk.id, replace(SILK, colour="Blue"), 1)
        assert materials.get_material(s, silk.id).colour == "Red"


def test_a_deactivated_material_leaves_the_counter_lists(database: Database, admin: Actor) -> None:
    with database.session() as s:
        tpu = next(m for m in materials.list_materials(s) if m.name == "TPU 95A")
        assert materials.deactivate_material(s, admin, tpu.id).active is False
        assert "TPU 95A" not in [m.name for m in materials.list_materials(s)]
        everything = materials.list_materials(s, include_inactive=True)
        assert [m.name for m in everything if not m.active] == ["TPU 95A"]
        assert materials.reactivate_material(s, admin, tpu.id).active is True
        assert "TPU 95A" in [m.name for m in materials.list_materials(s)]
        actions = [e.action for e in activity.recent(s, entity_type="material")]
    assert actions == ["material.reactivated", "material.deactivated"]


def test_a_missing_material_is_not_found(database: Database, admin: Actor) -> None:
    with database.session() as s:
        with pytest.raises(NotFound, match=r"^No material with id 999\.$"):
            materials.get_material(s, 999)
        with pytest.raises(NotFound, match=r"^No material with id 999\.$"):
            materials.update_material(s, admin, 999, SILK, 1)
        with pytest.raises(NotFound, match=r"^No material with id 999\.$"):
            materials.deactivate_material(s, admin, 999)


# Printers


def test_a_fresh_database_has_an_ender_3(database: Database) -> None:
    with database.session() as s:
        [ender] = printers.list_printers(s)
    assert (ender.name, ender.cura_definition_id, ender.status) == (
        "Ender 3",
        "creality_ender3",
        PrinterStatus.ACTIVE,
    )
    assert (ender.build_x_mm, ender.build_y_mm, ender.build_z_mm) == (
        Decimal("220.0"),
        Decimal("220.0"),
        Decimal("250.0"),
    )
    assert (ender.nozzle_mm, ender.hourly_rate, ender.version) == (Decimal("0.40"), None, 1)


def test_an_admin_adds_a_printer(database: Database, admin: Actor) -> None:
    prusa = _add_printer(database, admin)

    assert (prusa.name, prusa.status, prusa.nozzle_mm, prusa.hourly_rate) == (
        "Prusa MK4",
        PrinterStatus.ACTIVE,
        Decimal("0.40"),
        Decimal("6.50"),
    )
    with database.session() as s:
        assert [p.name for p in printers.list_printers(s)] == ["Ender 3", "Prusa MK4"]
        assert printers.get_printer(s, prusa.id) == prusa
        [entry] = activity.recent(s, entity_type="printer", entity_id=prusa.id)
    assert entry.action == "printer.created"


def test_a_printer_may_use_the_shop_rate_or_run_free(database: Database, admin: Actor) -> None:
    shop_rate = _add_printer(database, admin, replace(PRUSA, name="A", hourly_rate=None))
    free = _add_printer(database, admin, replace(PRUSA, name="B", hourly_rate=Decimal(0)))
    assert (shop_rate.hourly_rate, free.hourly_rate) == (None, Decimal("0.00"))


def test_staff_may_not_change_printers(database: Database, admin: Actor, staff: Actor) -> None:
    prusa = _add_printer(database, admin)
    refusal = r"^Only an admin may change printers\.$"
    with database.session() as s:
        with pytest.raises(NotAllowed, match=refusal):
            printers.create_printer(s, staff, replace(PRUSA, name="Bambu X1"))
        with pytest.raises(NotAllowed, match=refusal):
            printers.update_printer(s, staff, prusa.id, replace(PRUSA, nozzle_mm=Decimal("0.6")), 1)
        with pytest.raises(NotAllowed, match=refusal):
            printers.set_printer_status(s, staff, prusa.id, PrinterStatus.OFFLINE)
        assert printers.get_printer(s, prusa.id) == prusa
    assert _printer_names(database) == ["Ender 3", "Prusa MK4"]


def test_a_printer_name_is_taken_once_whatever_its_case(database: Database, admin: Actor) -> None:
    with pytest.raises(Conflict, match=r'^A printer named "Ender 3" already exists\.$'):
        _add_printer(database, admin, replace(PRUSA, name="ENDER 3"))
    prusa = _add_printer(database, admin)
    with database.session() as s, pytest.raises(Conflict, match='"Ender 3" already exists'):
        printers.update_printer(s, admin, prusa.id, replace(PRUSA, name="ender 3"), 1)
    assert _printer_names(database) == ["Ender 3", "Prusa MK4"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"name": ""}, "A printer needs a name."),
        ({"cura_definition_id": " "}, "A printer needs a Cura definition id."),
        (
            {"cura_definition_id": "x" * 101},
            "The Cura definition id may be at most 100 characters.",
        ),
        ({"build_x_mm": Decimal(0)}, "Build volume X (mm) must be more than 0"),
        ({"build_y_mm": Decimal("-220")}, "Build volume Y (mm) must be more than 0"),
        ({"build_z_mm": Decimal("0.01")}, "Build volume Z (mm) must be more than 0"),
        ({"nozzle_mm": Decimal(0)}, "Nozzle (mm) must be more than 0"),
        ({"hourly_rate": Decimal("-1")}, "Hourly rate must be 0 or more"),
    ],
)
def test_bad_printer_details_are_refused(
    database: Database, admin: Actor, change: dict[str, object], message: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        _add_printer(database, admin, replace(PRUSA, **change))  # type: ignore[arg-type]
    assert str(refused.value).startswith(message)
    assert _printer_names(database) == ["Ender 3"]


def test_an_admin_edits_a_printer(database: Database, admin: Actor) -> None:
    prusa = _add_printer(database, admin)
    bigger = replace(PRUSA, build_z_mm=Decimal("250.04"), nozzle_mm=Decimal("0.6"))
    with database.session() as s:
        saved = printers.update_printer(s, admin, prusa.id, bigger, expected_version=1)
    assert (saved.build_z_mm, saved.nozzle_mm, saved.version) == (
        Decimal("250.0"),
        Decimal("0.60"),
        2,
    )
    with database.session() as s:
        stored = s.get(Printer, prusa.id)
        assert stored is not None and stored.nozzle_mm == Decimal("0.60")
        entry = activity.recent(s, entity_type="printer", entity_id=prusa.id)[0]
    assert entry.detail == {"fields": ["build_z_mm", "nozzle_mm"]}


def test_a_printer_edit_from_a_stale_version_is_a_conflict(
    database: Database, admin: Actor
) -> None:
    prusa = _add_printer(database, admin)
    with database.session() as counter_a, database.session() as counter_b:
        assert printers.get_printer(counter_a, prusa.id).version == 1
        printers.set_printer_status(counter_b, admin, prusa.id, PrinterStatus.MAINTENANCE)
        with pytest.raises(Conflict, match=r"^Prusa MK4 was changed elsewhere — reload it"):
            printers.update_printer(counter_a, admin, prusa.id, replace(PRUSA, name="X"), 1)
        assert printers.get_printer(counter_a, prusa.id).name == "Prusa MK4"


def test_a_printer_in_maintenance_or_offline_leaves_the_default_list(
    database: Database, admin: Actor
) -> None:
    prusa = _add_printer(database, admin)
    with database.session() as s:
        [ender] = [p for p in printers.list_printers(s) if p.name == "Ender 3"]
        down = printers.set_printer_status(s, admin, ender.id, PrinterStatus.MAINTENANCE)
        printers.set_printer_status(s, admin, prusa.id, PrinterStatus.OFFLINE)
        assert (down.status, down.version) == (PrinterStatus.MAINTENANCE, 2)
        assert printers.list_printers(s) == []
        every = printers.list_printers(s, include_inactive=True)
        assert [(p.name, p.status) for p in every] == [
            ("Ender 3", PrinterStatus.MAINTENANCE),
            ("Prusa MK4", PrinterStatus.OFFLINE),
        ]
        printers.set_printer_status(s, admin, ender.id, PrinterStatus.ACTIVE)
        assert [p.name for p in printers.list_printers(s)] == ["Ender 3"]
        entry = activity.recent(s, entity_type="printer", entity_id=ender.id)[0]
    assert entry.detail == {"from": "MAINTENANCE", "to": "ACTIVE"}
    with database.session() as s:
        stored = s.get(Printer, prusa.id)
        assert stored is not None and stored.status == PrinterStatus.OFFLINE.value


def test_a_missing_printer_is_not_found(database: Database, admin: Actor) -> None:
    with database.session() as s:
        with pytest.raises(NotFound, match=r"^No printer with id 999\.$"):
            printers.get_printer(s, 999)
        with pytest.raises(NotFound, match=r"^No printer with id 999\.$"):
            printers.update_printer(s, admin, 999, PRUSA, 1)
        with pytest.raises(NotFound, match=r"^No printer with id 999\.$"):
            printers.set_printer_status(s, admin, 999, PrinterStatus.OFFLINE)
