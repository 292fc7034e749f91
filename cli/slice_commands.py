"""`printdesk slice PATH …`: slice a model with CuraEngine as Cura would, print time and material.

``--printer`` and ``--material`` name the shop's own printer and material when its database is
set up (their Cura profile, the printer's hourly rate, the material's density and cost), or
else a Cura definition and material. The price follows the shop's pricing settings; without a
shop database, PrintDesk's default terms. Register with
``app.command("slice")(slice_commands.slice_command)`` in ``cli/commands.py``.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import typer
from sqlalchemy import func, select

from cli.support import database, emit, fail
from core.config import AppConfig
from core.db.models import Material, Printer
from core.enums import PrinterStatus
from core.errors import ServiceError
from core.money import MoneyError, parse_money
from core.pricing import PartMetrics, PriceBreakdown
from core.services import settings as shop_settings
from core.services.part_pricing import (
    PartPlan,
    PartSpec,
    check_spec,
    cura_material_for_type,
    measure_part,
    run_part,
)
from core.shop_settings import ShopSettings
from core.slicing.errors import SlicingError, UnknownPrinter
from core.slicing.locate import locate_cura
from core.slicing.resolver import CuraLibrary, PrintChoices
from core.slicing.runner import SliceResult


@dataclass(frozen=True)
class _ShopPrinter:
    id: int
    name: str
    cura_definition_id: str
    build: tuple[Decimal, Decimal, Decimal]
    hourly_rate: Decimal | None


@dataclass(frozen=True)
class _ShopMaterial:
    id: int
    name: str
    type: str
    density: Decimal
    cost_per_kg: Decimal
    diameter: Decimal


@dataclass(frozen=True)
class _Shop:
    settings: ShopSettings
    printer: _ShopPrinter | None
    material: _ShopMaterial | None
    printer_names: tuple[str, ...]


def _duration(seconds: float) -> str:
    total = round(seconds)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours} h {minutes:02d} min" if hours else f"{minutes} min {secs:02d} s"


def _has_shop_database() -> bool:
    config = AppConfig()
    return bool(config.database_url) or (config.pgdata_dir / "PG_VERSION").is_file()


def _look_up_shop(printer: str, material: str) -> _Shop:
    """The shop's settings and, when the names are the shop's, its printer and material."""
    with database() as db, db.session() as session, session.begin():
        settings = shop_settings.load(session)
        printers = session.scalars(select(Printer).order_by(func.lower(Printer.name))).all()
        found_printer = next(
            (p for p in printers if p.name.strip().lower() == printer.strip().lower()), None
        )
        if found_printer is not None and found_printer.status == PrinterStatus.OFFLINE.value:
            fail(f"The printer {found_printer.name} is offline.")
        found_material = session.scalars(
            select(Material).where(func.lower(Material.name) == material.strip().lower())
        ).first()
        return _Shop(
            settings=settings,
            printer=None
            if found_printer is None
            else _ShopPrinter(
                id=found_printer.id,
                name=found_printer.name,
                cura_definition_id=found_printer.cura_definition_id,
                build=(
                    found_printer.build_x_mm,
                    found_printer.build_y_mm,
                    found_printer.build_z_mm,
                ),
                hourly_rate=found_printer.hourly_rate,
            ),
            material=None
            if found_material is None
            else _ShopMaterial(
                id=found_material.id,
                name=found_material.name,
                type=found_material.type,
                density=found_material.density_g_cm3,
                cost_per_kg=found_material.cost_per_kg,
                diameter=found_material.diameter_mm,
            ),
            printer_names=tuple(
                p.name for p in printers if p.status != PrinterStatus.OFFLINE.value
            ),
        )


def _cost(text: str | None) -> Decimal | None:
    if text is None:
        return None
    try:
        return parse_money(text, "cost per kg (--cost-per-kg)")
    except MoneyError as exc:
        fail(str(exc))


def _plan(
    path: Path,
    printer: str,
    material: str,
    shop: _Shop | None,
    choices: PrintChoices,
    quantity: int,
    cost_per_kg: Decimal | None,
    library: CuraLibrary,
) -> PartPlan:
    settings = shop.settings if shop is not None else ShopSettings()
    shop_printer = shop.printer if shop is not None else None
    shop_material = shop.material if shop is not None else None
    if shop_printer is None:
        try:
            library.definitions.find_printer(printer)
        except UnknownPrinter as exc:
            if shop is None or not shop.printer_names:
                raise
            fail(f"{exc} The shop's printers: {', '.join(shop.printer_names)}.")
    spec = PartSpec(
        printer_id=shop_printer.id if shop_printer else 0,
        material_id=shop_material.id if shop_material else 0,
        quantity=quantity,
        layer_height_mm=choices.layer_height,
        infill_percent=choices.infill_percent,
        supports=choices.supports,
    )
    check_spec(spec)
    return PartPlan(
        spec=spec,
        model=path,
        filename=path.name,
        printer_id=shop_printer.id if shop_printer else None,
        printer_name=shop_printer.name if shop_printer else printer,
        cura_printer=shop_printer.cura_definition_id if shop_printer else printer,
        build_volume_mm=shop_printer.build if shop_printer else None,
        hourly_rate=shop_printer.hourly_rate if shop_printer else None,
        material_id=shop_material.id if shop_material else None,
        material_name=shop_material.name if shop_material else material,
        material_type=shop_material.type if shop_material else "",
        cura_material=cura_material_for_type(shop_material.type) if shop_material else material,
        density_g_cm3=shop_material.density if shop_material else None,
        cost_per_kg=cost_per_kg
        if cost_per_kg is not None
        else (shop_material.cost_per_kg if shop_material else None),
        diameter_mm=shop_material.diameter if shop_material else None,
        terms=settings.pricing,
        currency=settings.currency,
        print_choices=choices,
    )


def _report(
    plan: PartPlan, result: SliceResult, metrics: PartMetrics, price: PriceBreakdown | None
) -> dict[str, Any]:
    grams = metrics.material_grams + metrics.support_grams
    return {
        "print_time_s": round(result.print_time_s, 1),
        "filament_mm3": round(result.filament_mm3, 1),
        "filament_g": float(grams),
        "filament_m": round(result.filament_m, 3),
        "support_g": float(metrics.support_grams),
        "price": price.unit_price if price is not None else None,
        "price_breakdown": price.as_json() if price is not None else None,
        "currency": plan.currency,
        "engine": f"CuraEngine {result.engine_version}",
        "printer": plan.printer_name if plan.printer_id is not None else result.printer_id,
        "cura_printer": result.printer_id,
        "material": plan.material_name if plan.material_id is not None else result.material,
        "cura_material": result.material,
        "placement": {
            "offset_mm": [round(v, 3) for v in result.placement.offset],
            "size_mm": [round(v, 3) for v in result.placement.size],
        },
        "settings": dict(result.summary),
    }


def _text(
    plan: PartPlan, result: SliceResult, metrics: PartMetrics, price: PriceBreakdown | None
) -> str:
    size = " × ".join(f"{v:.1f}" for v in result.placement.size)
    printer = plan.printer_name if plan.printer_id is not None else result.printer_name
    material = plan.material_name if plan.material_id is not None else result.material_name
    grams = metrics.material_grams + metrics.support_grams
    line = (
        f"{printer}, {material}: {_duration(result.print_time_s)}, "
        f"{grams} g ({result.filament_m:.2f} m, {result.filament_mm3:.0f} mm³)"
    )
    if metrics.support_grams:
        line += f", of which support {metrics.support_grams} g"
    if price is not None:
        each = " each" if price.quantity > 1 else ""
        line += f"; price {price.unit_price} {plan.currency}{each}"
    return f"{line}. Part {size} mm, CuraEngine {result.engine_version}."


def slice_command(
    path: Path = typer.Argument(..., help="The model: STL, OBJ or 3MF, in millimetres."),
    printer: str = typer.Option(
        ...,
        "--printer",
        help="The shop's printer name, or a Cura definition id (creality_ender3) or name.",
    ),
    material: str = typer.Option(
        ..., "--material", help="The shop's material name, or a Cura material (generic_pla)."
    ),
    layer_height: float | None = typer.Option(None, "--layer-height", help="Layer height, mm."),
    infill: float | None = typer.Option(None, "--infill", help="Infill density, %."),
    supports: bool | None = typer.Option(
        None, "--supports/--no-supports", help="Print supports (default: the profile's)."
    ),
    walls: int | None = typer.Option(None, "--walls", help="Number of walls."),
    adhesion: str | None = typer.Option(None, "--adhesion", help="skirt, brim, raft or none."),
    quality: str | None = typer.Option(None, "--quality", help="Cura quality type (standard…)."),
    nozzle: str | None = typer.Option(None, "--nozzle", help="Nozzle, e.g. 0.6 or '0.6mm Nozzle'."),
    quantity: int = typer.Option(1, "--quantity", help="Copies to price."),
    cost_per_kg: str | None = typer.Option(
        None, "--cost-per-kg", help="Material cost per kg (default: the shop material's)."
    ),
    offline: bool = typer.Option(
        False, "--offline", help="Do not use the shop's database: Cura names, default terms."
    ),
    engine: Path | None = typer.Option(None, "--engine", help="The CuraEngine binary."),
    resources: Path | None = typer.Option(None, "--resources", help="Cura's resources folder."),
    timeout: float = typer.Option(600.0, "--timeout", help="Seconds before the slice stops."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """Slice a model with CuraEngine, with settings resolved as Cura resolves them, and price it."""
    choices = PrintChoices(
        layer_height=layer_height,
        infill_percent=infill,
        wall_line_count=walls,
        supports=supports,
        adhesion=adhesion,
        quality_type=quality,
        nozzle=nozzle,
    )
    cost = _cost(cost_per_kg)
    shop = None if offline or not _has_shop_database() else _look_up_shop(printer, material)
    try:
        cura = locate_cura(engine, resources)
        library = CuraLibrary(cura.resources)
        plan = _plan(path, printer, material, shop, choices, quantity, cost, library)
        price: PriceBreakdown | None = None
        if plan.cost_per_kg is None:
            result, metrics, _ = measure_part(plan, cura=cura, library=library, timeout_s=timeout)
        else:
            quote = run_part(plan, cura=cura, library=library, timeout_s=timeout)
            result, price = quote.slice, quote.price
            assert quote.metrics is not None
            metrics = quote.metrics
    except (SlicingError, ServiceError, MoneyError) as exc:
        fail(" ".join(str(exc).split()))
    assert result is not None  # with an engine, always a real slice
    emit(
        _report(plan, result, metrics, price),
        as_json=as_json,
        text=_text(plan, result, metrics, price),
    )
