"""`printdesk slice PATH …`: slice a model with CuraEngine as Cura would, print time and material.

Register with ``app.command("slice")(slice_commands.slice_command)`` in ``cli/commands.py``.
"""

from __future__ import annotations

import math
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import typer

from cli.support import emit, fail, run
from core.pricing import PartMetrics, PriceBreakdown, price_part
from core.shop_settings import PricingTerms
from core.slicing.errors import SlicingError
from core.slicing.locate import locate_cura
from core.slicing.resolver import CuraLibrary, PrintChoices
from core.slicing.runner import SliceRequest, SliceResult, slice_part


def _duration(seconds: float) -> str:
    total = round(seconds)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours} h {minutes:02d} min" if hours else f"{minutes} min {secs:02d} s"


def _price(result: SliceResult, cost_per_kg: str | None) -> PriceBreakdown | None:
    if cost_per_kg is None:
        return None
    try:
        per_kg = Decimal(cost_per_kg)
    except InvalidOperation:
        fail(f"--cost-per-kg must be a number, not {cost_per_kg!r}.")
    model_g = max(result.filament_g - result.support_g, 0.0)
    metrics = PartMetrics(
        print_seconds=math.ceil(result.print_time_s),
        material_grams=Decimal(f"{model_g:.2f}"),
        support_grams=Decimal(f"{result.support_g:.2f}"),
    )
    return run(lambda: price_part(metrics, cost_per_kg=per_kg, terms=PricingTerms()))


def _report(result: SliceResult, price: PriceBreakdown | None) -> dict[str, Any]:
    return {
        "print_time_s": round(result.print_time_s, 1),
        "filament_mm3": round(result.filament_mm3, 1),
        "filament_g": round(result.filament_g, 2),
        "filament_m": round(result.filament_m, 3),
        "support_g": round(result.support_g, 2),
        "price": price.unit_price if price is not None else None,
        "price_breakdown": price.as_json() if price is not None else None,
        "engine": f"CuraEngine {result.engine_version}",
        "printer": result.printer_id,
        "material": result.material,
        "placement": {
            "offset_mm": [round(v, 3) for v in result.placement.offset],
            "size_mm": [round(v, 3) for v in result.placement.size],
        },
        "settings": dict(result.summary),
    }


def _text(result: SliceResult, price: PriceBreakdown | None) -> str:
    size = " × ".join(f"{v:.1f}" for v in result.placement.size)
    line = (
        f"{result.printer_name}, {result.material_name}: {_duration(result.print_time_s)}, "
        f"{result.filament_g:.2f} g ({result.filament_m:.2f} m, {result.filament_mm3:.0f} mm³)"
    )
    if result.support_g:
        line += f", of which support {result.support_g:.2f} g"
    if price is not None:
        line += f"; price {price.unit_price}"
    return f"{line}. Part {size} mm, CuraEngine {result.engine_version}."


def slice_command(
    path: Path = typer.Argument(..., help="The model: STL, OBJ or 3MF, in millimetres."),
    printer: str = typer.Option(
        ..., "--printer", help="Cura printer definition id (creality_ender3) or its name."
    ),
    material: str = typer.Option(..., "--material", help="Cura material, e.g. generic_pla."),
    layer_height: float | None = typer.Option(None, "--layer-height", help="Layer height, mm."),
    infill: float | None = typer.Option(None, "--infill", help="Infill density, %."),
    supports: bool | None = typer.Option(
        None, "--supports/--no-supports", help="Print supports (default: the profile's)."
    ),
    walls: int | None = typer.Option(None, "--walls", help="Number of walls."),
    adhesion: str | None = typer.Option(None, "--adhesion", help="skirt, brim, raft or none."),
    quality: str | None = typer.Option(None, "--quality", help="Cura quality type (standard…)."),
    nozzle: str | None = typer.Option(None, "--nozzle", help="Nozzle, e.g. 0.6 or '0.6mm Nozzle'."),
    cost_per_kg: str | None = typer.Option(
        None, "--cost-per-kg", help="Material cost per kg; with it the part is priced."
    ),
    engine: Path | None = typer.Option(None, "--engine", help="The CuraEngine binary."),
    resources: Path | None = typer.Option(None, "--resources", help="Cura's resources folder."),
    timeout: float = typer.Option(600.0, "--timeout", help="Seconds before the slice stops."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """Slice a model with CuraEngine, with settings resolved as Cura resolves them."""
    choices = PrintChoices(
        layer_height=layer_height,
        infill_percent=infill,
        wall_line_count=walls,
        supports=supports,
        adhesion=adhesion,
        quality_type=quality,
        nozzle=nozzle,
    )
    try:
        cura = locate_cura(engine, resources)
        result = slice_part(
            SliceRequest(model=path, printer=printer, material=material, choices=choices),
            cura=cura,
            library=CuraLibrary(cura.resources),
            timeout_s=timeout,
        )
    except SlicingError as exc:
        fail(str(exc))
    price = _price(result, cost_per_kg)
    emit(_report(result, price), as_json=as_json, text=_text(result, price))
