"""Filament materials the shop prints with: their cost and density price every part."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.actor import Actor
from core.db.models import Material
from core.errors import Conflict, NotFound
from core.services import activity, events
from core.services import catalog_fields as fields

CHANGE = "change materials"
# The diameters filament is sold in; others are allowed for odd printers.
STANDARD_DIAMETERS_MM = (Decimal("1.75"), Decimal("2.85"), Decimal("3.00"))


@dataclass(frozen=True)
class MaterialInput:
    name: str
    type: str
    density_g_cm3: Decimal
    cost_per_kg: Decimal
    colour: str = ""
    diameter_mm: Decimal = Decimal("1.75")


@dataclass(frozen=True)
class MaterialView:
    id: int
    name: str
    type: str
    colour: str
    density_g_cm3: Decimal
    cost_per_kg: Decimal
    diameter_mm: Decimal
    active: bool
    created_at: dt.datetime
    updated_at: dt.datetime
    version: int


def _view(material: Material) -> MaterialView:
    return MaterialView(
        id=material.id,
        name=material.name,
        type=material.type,
        colour=material.colour,
        density_g_cm3=material.density_g_cm3,
        cost_per_kg=material.cost_per_kg,
        diameter_mm=material.diameter_mm,
        active=material.active,
        created_at=material.created_at,
        updated_at=material.updated_at,
        version=material.version,
    )


def _cleaned(data: MaterialInput) -> dict[str, object]:
    # Bounds and places follow the NUMERIC columns of ``materials``.
    return {
        "name": fields.text(data.name, "name", 100, owner="material", required=True),
        "type": fields.text(data.type, "type", 32, owner="material", required=True),
        "colour": fields.text(data.colour, "colour", 64, owner="material", required=False),
        "density_g_cm3": fields.amount(
            data.density_g_cm3, "Density (g/cm³)", places=3, below=1000, zero_ok=False
        ),
        "cost_per_kg": fields.amount(
            data.cost_per_kg, "Cost per kg", places=2, below=10**6, zero_ok=True
        ),
        "diameter_mm": fields.amount(
            data.diameter_mm, "Diameter (mm)", places=2, below=100, zero_ok=False
        ),
    }


def _material(session: Session, material_id: int, *, lock: bool = False) -> Material:
    material = session.get(
        Material, material_id, populate_existing=True, with_for_update=lock or None
    )
    if material is None:
        raise NotFound(f"No material with id {material_id}.")
    return material


def list_materials(session: Session, *, include_inactive: bool = False) -> list[MaterialView]:
    query = select(Material).order_by(func.lower(Material.name), Material.id)
    if not include_inactive:
        query = query.where(Material.active)
    with session.begin():
        materials = session.scalars(query.execution_options(populate_existing=True))
        return [_view(material) for material in materials]


def get_material(session: Session, material_id: int) -> MaterialView:
    with session.begin():
        return _view(_material(session, material_id))


def create_material(session: Session, actor: Actor, data: MaterialInput) -> MaterialView:
    actor.require_admin(CHANGE)
    values = _cleaned(data)
    name = str(values["name"])
    with session.begin():
        fields.refuse_taken_name(session, Material, name, noun="material")
        material = Material(**values)
        session.add(material)
        fields.flush_unique(session, name, noun="material")
        activity.record(
            session, actor, "material.created", "material", material.id, f"Material {name} added"
        )
        events.notify(session, "material", material.id, action="created")
        return _view(material)


def update_material(
    session: Session, actor: Actor, material_id: int, data: MaterialInput, expected_version: int
) -> MaterialView:
    actor.require_admin(CHANGE)
    values = _cleaned(data)
    name = str(values["name"])
    with session.begin():
        material = _material(session, material_id, lock=True)
        if material.version != expected_version:
            raise Conflict(f"{material.name} was changed elsewhere — reload it and try again.")
        fields.refuse_taken_name(session, Material, name, noun="material", other_than=material.id)
        changed = sorted(f for f, v in values.items() if getattr(material, f) != v)
        if changed:
            for field in changed:
                setattr(material, field, values[field])
            activity.record(
                session,
                actor,
                "material.updated",
                "material",
                material.id,
                f"Material {name} edited",
                {"fields": changed},
            )
            events.notify(session, "material", material.id, action="updated")
            fields.flush_unique(session, name, noun="material")
        return _view(material)


def _set_active(session: Session, actor: Actor, material_id: int, active: bool) -> MaterialView:
    actor.require_admin(CHANGE)
    with session.begin():
        material = _material(session, material_id, lock=True)
        if material.active != active:
            material.active = active
            verb = "reactivated" if active else "deactivated"
            activity.record(
                session,
                actor,
                f"material.{verb}",
                "material",
                material.id,
                f"Material {material.name} {verb}",
            )
            events.notify(session, "material", material.id, action=verb)
            session.flush()
        return _view(material)


def deactivate_material(session: Session, actor: Actor, material_id: int) -> MaterialView:
    """Take the material off the counter's lists; past quotes that used it keep their prices."""
    return _set_active(session, actor, material_id, False)


def reactivate_material(session: Session, actor: Actor, material_id: int) -> MaterialView:
    return _set_active(session, actor, material_id, True)
