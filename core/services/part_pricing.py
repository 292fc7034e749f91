"""Price one printed part from our own slice and the shop's settings: plan, run, store.

``plan_part`` snapshots what a slice needs from the database (printer, material, pricing
terms) so that ``run_part`` can run on any thread without a session: it orients and scales the
model, slices it with CuraEngine (or, with no slicer, estimates from the volume and says so),
weighs the plastic with the shop's own density and prices it with the shop's costs.
``store_part_quote`` keeps the result in the file's ``metadata["slice"]``.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import numpy as np
import trimesh
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.actor import Actor
from core.db.models import Material, OrderFile, Printer
from core.enums import PrinterStatus, TmpFileStatus
from core.errors import InvalidInput, NotFound, ServiceError
from core.pricing import MAX_QUANTITY, PartMetrics, PriceBreakdown, price_part
from core.services import activity, events, tmp_files
from core.services import settings as shop_settings
from core.services.line_items import ItemInput
from core.shop_settings import PricingTerms
from core.slicing.cancel import CancelToken
from core.slicing.errors import PartTooBig, SlicingError, UnknownMaterial
from core.slicing.estimate import (
    EstimateSettings,
    estimate_print,
    part_geometry,
    settings_from_cura,
    settings_with_choices,
)
from core.slicing.locate import CuraInstall
from core.slicing.placement import export_stl, load_mesh
from core.slicing.resolver import CuraLibrary, PrintChoices
from core.slicing.runner import SliceRequest, SliceResult, slice_part

Progress = Callable[[float], None]

GRAMS_PLACES = Decimal("0.01")
ESTIMATE_WARNING = (
    "No slicer was found: print time and material are an estimate from the part's shape, "
    "not a slice."
)
# Material types as shops write them, to the name of Cura's generic profile.
_TYPE_ALIASES = {
    "pa": "nylon",
    "polyamide": "nylon",
    "pet-g": "petg",
    "tpu95a": "tpu",
    "tpu 95a": "tpu",
    "cpe+": "cpe_plus",
    "breakaway": "bam",
}


def _no_progress(_: float) -> None:
    return None


@dataclass(frozen=True)
class PartSpec:
    """What staff choose for one file; ``None`` keeps the printer profile's own value."""

    printer_id: int
    material_id: int
    quantity: int = 1
    layer_height_mm: float | None = None
    infill_percent: float | None = None
    supports: bool | None = None
    scale: float = 1.0  # model units → mm (25.4 inch, 1000 m)
    transform: tuple[float, ...] | None = None  # 16 floats row-major, the orientation kept


@dataclass(frozen=True)
class PartPlan:
    """Everything ``run_part`` needs, taken from the database when the part was planned.

    ``printer_id``/``material_id`` are None, ``density_g_cm3`` None (Cura's profile density)
    and ``cost_per_kg`` None (no price) only for the command line's Cura-only slices.
    """

    spec: PartSpec
    model: Path
    filename: str
    printer_id: int | None
    printer_name: str
    cura_printer: str  # Cura definition id (or name)
    build_volume_mm: tuple[Decimal, Decimal, Decimal] | None
    hourly_rate: Decimal | None  # the printer's own; None: the shop's rate in ``terms``
    material_id: int | None
    material_name: str
    material_type: str
    cura_material: str  # Cura base file or name, e.g. generic_pla
    density_g_cm3: Decimal | None
    cost_per_kg: Decimal | None
    diameter_mm: Decimal | None
    terms: PricingTerms
    currency: str
    notes: tuple[str, ...] = ()  # said on the quote, e.g. the printer is in maintenance
    print_choices: PrintChoices | None = None  # the command line's fuller choices, if any

    def choices(self) -> PrintChoices:
        if self.print_choices is not None:
            return self.print_choices
        return PrintChoices(
            layer_height=self.spec.layer_height_mm,
            infill_percent=self.spec.infill_percent,
            supports=self.spec.supports,
        )

    def transform_matrix(self) -> np.ndarray[Any, np.dtype[np.float64]] | None:
        if self.spec.transform is None:
            return None
        return np.array(self.spec.transform, dtype=np.float64).reshape(4, 4)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _plain(value: Any) -> Any:
    """JSON-safe: Decimals as text, non-finite floats as None, other objects as text."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Decimal):
        return f"{value:f}"
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return str(value)


@dataclass(frozen=True)
class PartQuote:
    """A priced part: the plan, our slice (None for an estimate), the price and what to say."""

    plan: PartPlan
    slice: SliceResult | None
    estimated: bool  # True = estimate from volume, no slicer
    price: PriceBreakdown
    warnings: tuple[str, ...]
    metrics: PartMetrics | None = None
    created_at: dt.datetime = field(default_factory=_now)

    def _layer_and_infill(self) -> tuple[float | None, float | None]:
        spec = self.plan.spec
        layer, infill = spec.layer_height_mm, spec.infill_percent
        if self.slice is not None:
            summary = self.slice.summary
            with_layer = summary.get("layer_height")
            with_infill = summary.get("infill_sparse_density")
            layer = float(with_layer) if isinstance(with_layer, int | float) else layer
            infill = float(with_infill) if isinstance(with_infill, int | float) else infill
        return layer, infill

    def description(self) -> str:
        """Line-item text, e.g. ``bracket.stl — PLA, 0.2 mm, 20 % infill``."""
        layer, infill = self._layer_and_infill()
        parts = [self.plan.material_name]
        if layer is not None:
            parts.append(f"{layer:g} mm")
        if infill is not None:
            parts.append(f"{infill:g} % infill")
        supports = self.plan.spec.supports
        if supports is None and self.slice is not None:
            supports = bool(self.slice.summary.get("support_enable"))
        if supports:
            parts.append("supports")
        text = f"{self.plan.filename} — {', '.join(parts)}"
        return text  # an estimate is marked on the counter's screens, never in the client's text

    def figures(self) -> dict[str, Any]:
        if self.slice is not None:
            result = self.slice
            return {
                "print_time_s": round(result.print_time_s, 1),
                "filament_mm3": round(result.filament_mm3, 1),
                "filament_g": f"{self.price.grams + self.price.support_grams:f}",
                "filament_m": round(result.filament_m, 3),
                "support_g": f"{self.price.support_grams:f}",
                "engine_seconds": round(result.engine_seconds, 2),
                "attempts": result.attempts,
            }
        return {
            "print_time_s": self.price.print_seconds,
            "filament_g": f"{self.price.grams + self.price.support_grams:f}",
            "support_g": f"{self.price.support_grams:f}",
        }

    def metadata(self) -> dict[str, Any]:
        """JSON for the file's ``metadata["slice"]``: what was asked, what came out, the price."""
        plan, result = self.plan, self.slice
        data: dict[str, Any] = {
            "estimated": self.estimated,
            "sliced_at": self.created_at.isoformat(),
            "printer": {
                "id": plan.printer_id,
                "name": plan.printer_name,
                "cura_definition_id": result.printer_id if result else plan.cura_printer,
            },
            "material": {
                "id": plan.material_id,
                "name": plan.material_name,
                "type": plan.material_type,
                "cura_material": result.material if result else plan.cura_material,
                "density_g_cm3": plan.density_g_cm3,
                "cost_per_kg": plan.cost_per_kg,
            },
            "choices": {
                "quantity": plan.spec.quantity,
                "layer_height_mm": plan.spec.layer_height_mm,
                "infill_percent": plan.spec.infill_percent,
                "supports": plan.spec.supports,
                "scale": plan.spec.scale,
            },
            "transform": list(plan.spec.transform) if plan.spec.transform else None,
            "engine": f"CuraEngine {result.engine_version}" if result else None,
            "settings": dict(result.summary) if result else {},
            "settings_passed": {k: dict(v) for k, v in result.settings_passed.items()}
            if result
            else {},
            "figures": self.figures(),
            "price": self.price.as_json(),
            "currency": plan.currency,
            "warnings": list(self.warnings),
        }
        if result is not None:
            data["placement"] = {
                "offset_mm": [round(v, 3) for v in result.placement.offset],
                "size_mm": [round(v, 3) for v in result.placement.size],
            }
        plain: dict[str, Any] = _plain(data)
        return plain

    def item_input(self, order_file_id: int | None = None) -> ItemInput:
        """The line item: quantity × unit price, with the breakdown kept beside it."""
        breakdown: dict[str, Any] = {
            **self.price.as_json(),
            "material": self.plan.material_name,
            "printer": self.plan.printer_name,
            "printer_id": self.plan.printer_id,
            "currency": self.plan.currency,
            "engine": f"CuraEngine {self.slice.engine_version}" if self.slice else None,
            "settings": _plain(dict(self.slice.summary)) if self.slice else {},
        }
        return ItemInput(
            description=self.description(),
            quantity=Decimal(self.plan.spec.quantity),
            unit_price=self.price.unit_price,
            breakdown=breakdown,
            order_file_id=order_file_id,
        )


# -- planning (database) ----------------------------------------------------------------------


def cura_material_for_type(material_type: str) -> str:
    """The Cura generic profile a shop's material type stands for: "PLA" → ``generic_pla``."""
    cleaned = material_type.strip().lower()
    cleaned = _TYPE_ALIASES.get(cleaned, cleaned).replace("+", "_plus")
    slug = re.sub(r"[^a-z0-9]+", "_", cleaned).strip("_")
    if not slug:
        raise InvalidInput("The material has no type; set it (PLA, PETG, ABS …) to slice it.")
    return f"generic_{slug}"


def check_spec(spec: PartSpec) -> None:
    quantity = spec.quantity
    if isinstance(quantity, bool) or not isinstance(quantity, int):
        raise InvalidInput(f"The quantity must be a whole number, not {quantity!r}.")
    if not 1 <= quantity <= MAX_QUANTITY:
        raise InvalidInput(f"The quantity must be between 1 and {MAX_QUANTITY:,}.")
    layer = spec.layer_height_mm
    if layer is not None and not (math.isfinite(layer) and 0 < layer <= 2):
        raise InvalidInput(f"A layer height of {layer} mm cannot be printed.")
    infill = spec.infill_percent
    if infill is not None and not (math.isfinite(infill) and 0 <= infill <= 100):
        raise InvalidInput(f"Infill must be 0 to 100 %, not {infill} %.")
    if not (math.isfinite(spec.scale) and spec.scale > 0):
        raise InvalidInput(f"A model scale of {spec.scale} cannot be used.")
    if spec.transform is not None:
        values = spec.transform
        if len(values) != 16 or not all(
            isinstance(v, int | float) and math.isfinite(v) for v in values
        ):
            raise InvalidInput("An orientation must be 16 finite numbers (a 4×4 matrix).")
        linear = np.array(values, dtype=np.float64).reshape(4, 4)[:3, :3]
        if abs(float(np.linalg.det(linear))) < 1e-9:
            raise InvalidInput("The orientation flattens the part; choose another.")


def plan_part(
    session: Session, spec: PartSpec, model: Path, *, filename: str | None = None
) -> PartPlan:
    """Snapshot the printer, material and pricing terms for ``run_part``; refuse what can't be."""
    check_spec(spec)
    with session.begin():
        printer = session.get(Printer, spec.printer_id, populate_existing=True)
        if printer is None:
            raise NotFound(f"No printer with id {spec.printer_id}.")
        notes: list[str] = []
        if printer.status == PrinterStatus.OFFLINE.value:
            raise InvalidInput(f"The printer {printer.name} is offline; choose another printer.")
        if printer.status == PrinterStatus.MAINTENANCE.value:
            notes.append(f"The printer {printer.name} is in maintenance.")
        material = session.get(Material, spec.material_id, populate_existing=True)
        if material is None:
            raise NotFound(f"No material with id {spec.material_id}.")
        if not material.active:
            raise InvalidInput(
                f"The material {material.name} is no longer offered; choose another."
            )
        settings = shop_settings.load(session)
        return PartPlan(
            spec=spec,
            model=model,
            filename=filename or model.name,
            printer_id=printer.id,
            printer_name=printer.name,
            cura_printer=printer.cura_definition_id,
            build_volume_mm=(printer.build_x_mm, printer.build_y_mm, printer.build_z_mm),
            hourly_rate=printer.hourly_rate,
            material_id=material.id,
            material_name=material.name,
            material_type=material.type,
            cura_material=cura_material_for_type(material.type),
            density_g_cm3=material.density_g_cm3,
            cost_per_kg=material.cost_per_kg,
            diameter_mm=material.diameter_mm,
            terms=settings.pricing,
            currency=settings.currency,
            notes=tuple(notes),
        )


# -- running (no database, any thread) --------------------------------------------------------


def _oriented_mesh(plan: PartPlan) -> trimesh.Trimesh:
    """The model in mm, turned as staff chose; the slicer places it on the bed itself."""
    mesh = load_mesh(plan.model)
    matrix = plan.transform_matrix()
    if matrix is not None:
        mesh = mesh.copy()
        mesh.apply_transform(matrix)
    if plan.spec.scale != 1.0:
        mesh = trimesh.Trimesh(vertices=mesh.vertices * plan.spec.scale, faces=mesh.faces)
    return mesh


def _check_shop_bed(plan: PartPlan, mesh: trimesh.Trimesh) -> None:
    """The shop's own build volume for this printer may be smaller than Cura's definition."""
    if plan.build_volume_mm is None:
        return
    size = mesh.extents
    limits = [float(v) for v in plan.build_volume_mm]
    if any(float(s) > limit + 1e-6 for s, limit in zip(size, limits, strict=True)):
        part = " × ".join(f"{float(s):.1f}" for s in size)
        bed = " × ".join(f"{v:g}" for v in limits)
        raise PartTooBig(f"The part is {part} mm; the {plan.printer_name} prints up to {bed} mm.")


def _cura_material(library: CuraLibrary, plan: PartPlan) -> str:
    """The Cura profile to slice with: the plan's, its 1.75 mm twin, or a generic of the type."""
    materials = library.materials
    wanted = plan.cura_material
    if materials.find_by_name(wanted):
        return wanted
    if materials.has(f"{wanted}_175"):
        return f"{wanted}_175"
    same_type = sorted(
        base
        for base in materials.base_files_of_type(plan.material_type)
        if base.startswith("generic_")
    )
    if same_type:
        return same_type[0]
    known = sorted(
        {
            materials.describe(base)[2]
            for base in materials.base_files()
            if base.startswith("generic_")
        }
    )
    raise UnknownMaterial(
        f"Cura has no profile for {plan.material_type} ({plan.material_name}); give the "
        f"material a type Cura knows: {', '.join(known)}."
    )


def _grams(value: Decimal) -> Decimal:
    return value.quantize(GRAMS_PLACES, ROUND_HALF_UP)


def _slice_metrics(plan: PartPlan, result: SliceResult) -> PartMetrics:
    density = plan.density_g_cm3
    if density is None:
        density = Decimal(str(result.density_g_cm3))
    total = Decimal(str(result.filament_mm3)) * density / 1000
    support = Decimal(str(result.support_mm3)) * density / 1000
    return PartMetrics(
        print_seconds=math.ceil(result.print_time_s),
        material_grams=_grams(max(total - support, Decimal(0))),
        support_grams=_grams(support),
    )


def _check_diameter(plan: PartPlan, result: SliceResult) -> None:
    if plan.diameter_mm is None:
        return
    if round(float(plan.diameter_mm)) != round(result.filament_diameter_mm):
        raise UnknownMaterial(
            f"{plan.material_name} is {plan.diameter_mm:g} mm filament; the {plan.printer_name} "
            f"takes {result.filament_diameter_mm:g} mm filament."
        )


def _estimate_settings(plan: PartPlan, library: CuraLibrary | None) -> EstimateSettings:
    """The printer's own Cura settings when its definitions are at hand, else Cura's defaults."""
    base = EstimateSettings()
    if library is not None:
        try:
            resolved = library.resolve(plan.cura_printer, _cura_material(library, plan))
        except (SlicingError, ServiceError):
            pass
        else:
            base = settings_from_cura(lambda key: resolved.value(key))
    choices = plan.choices()
    return settings_with_choices(
        base,
        {
            "layer_height": choices.layer_height,
            "infill_percent": choices.infill_percent,
            "supports": choices.supports,
        },
    )


def _estimate_metrics(
    plan: PartPlan, mesh: trimesh.Trimesh, library: CuraLibrary | None
) -> PartMetrics:
    """Our own model of a slice (``core.slicing.estimate``), weighed with the shop's density."""
    try:
        geometry = part_geometry(mesh.vertices, mesh.faces)
    except ValueError as exc:
        raise InvalidInput(f"{plan.filename} cannot be estimated: {exc}") from None
    found = estimate_print(geometry, _estimate_settings(plan, library))
    if found.filament_mm3 <= 0 or found.print_seconds <= 0:
        raise InvalidInput(f"{plan.filename} has no volume to print; it cannot be estimated.")
    density = plan.density_g_cm3 if plan.density_g_cm3 is not None else Decimal("1.24")
    grams_per_mm3 = density / 1000
    support = Decimal(f"{found.support_mm3:.3f}") * grams_per_mm3
    part = Decimal(f"{found.filament_mm3 - found.support_mm3:.3f}") * grams_per_mm3
    return PartMetrics(
        print_seconds=math.ceil(found.print_seconds),
        material_grams=_grams(part),
        support_grams=_grams(support),
        estimated=True,
    )


def measure_part(
    plan: PartPlan,
    *,
    cura: CuraInstall | None,
    library: CuraLibrary | None = None,
    progress: Progress = _no_progress,
    cancel: CancelToken | None = None,
    timeout_s: float = 600.0,
) -> tuple[SliceResult | None, PartMetrics, tuple[str, ...]]:
    """Our figures for one copy: a CuraEngine slice, or with ``cura`` None a volume estimate."""
    cancel = cancel or CancelToken()
    cancel.raise_if_cancelled()
    highest = [0.0]

    def forward(value: float) -> None:
        if value > highest[0]:
            highest[0] = value
            progress(value)

    progress(0.0)
    mesh = _oriented_mesh(plan)
    _check_shop_bed(plan, mesh)
    warnings = list(plan.notes)
    if cura is None:
        if not mesh.is_volume:
            warnings.append("The mesh is not closed, so its volume (and the estimate) is rough.")
        metrics = _estimate_metrics(plan, mesh, library)
        progress(1.0)
        return None, metrics, (ESTIMATE_WARNING, *warnings)

    library = library or CuraLibrary(cura.resources)
    material = _cura_material(library, plan)
    forward(0.02)
    with tempfile.TemporaryDirectory(prefix="printdesk-part-") as folder:
        stl = Path(folder) / "part.stl"
        export_stl(mesh, stl)
        result = slice_part(
            SliceRequest(
                model=stl, printer=plan.cura_printer, material=material, choices=plan.choices()
            ),
            cura=cura,
            library=library,
            progress=forward,
            cancel=cancel,
            timeout_s=timeout_s,
        )
    _check_diameter(plan, result)
    return result, _slice_metrics(plan, result), (*warnings, *result.warnings)


def run_part(
    plan: PartPlan,
    *,
    cura: CuraInstall | None,
    library: CuraLibrary | None = None,
    progress: Progress = _no_progress,
    cancel: CancelToken | None = None,
    timeout_s: float = 600.0,
) -> PartQuote:
    """Slice (or estimate) and price one part; pure and thread-safe, raises typed errors."""
    if plan.cost_per_kg is None:
        raise InvalidInput(f"No cost per kg for {plan.material_name}: the part cannot be priced.")
    result, metrics, warnings = measure_part(
        plan, cura=cura, library=library, progress=progress, cancel=cancel, timeout_s=timeout_s
    )
    price = price_part(
        metrics,
        cost_per_kg=plan.cost_per_kg,
        terms=plan.terms,
        quantity=plan.spec.quantity,
        hourly_rate=plan.hourly_rate,
    )
    return PartQuote(
        plan=plan,
        slice=result,
        estimated=result is None,
        price=price,
        warnings=tuple(dict.fromkeys(warnings)),
        metrics=metrics,
    )


# -- storing (database) -----------------------------------------------------------------------


def _one_target(tmp_id: int | None, order_file_id: int | None) -> None:
    if (tmp_id is None) == (order_file_id is None):
        raise InvalidInput("Name either the upload or the order file the slice belongs to.")


def _store(
    session: Session,
    actor: Actor,
    extra: dict[str, Any],
    *,
    tmp_id: int | None,
    order_file_id: int | None,
    status: TmpFileStatus,
    message: str,
) -> None:
    _one_target(tmp_id, order_file_id)
    if tmp_id is not None:
        tmp_files.set_tmp_status(session, actor, tmp_id, status, metadata=extra)
        return
    assert order_file_id is not None
    with session.begin():
        row = session.scalars(
            select(OrderFile).where(OrderFile.id == order_file_id).with_for_update()
        ).one_or_none()
        if row is None:
            raise NotFound(f"No order file with id {order_file_id}.")
        merged = dict(row.metadata_)
        merged.pop("slice_error", None)
        row.metadata_ = {**merged, **extra}
        activity.record(
            session, actor, "order_file.sliced", "order_file", row.id, f"{message} {row.filename}"
        )
        events.notify(session, "order_file", row.id, status="UPDATED", client_id=row.client_id)


def store_part_quote(
    session: Session,
    actor: Actor,
    quote: PartQuote,
    *,
    tmp_id: int | None = None,
    order_file_id: int | None = None,
) -> None:
    """Keep the slice, figures and price in the file's ``metadata["slice"]`` (and orientation)."""
    extra: dict[str, Any] = {"slice": quote.metadata(), "slice_error": None}
    if quote.plan.spec.transform is not None:
        extra["orientation"] = list(quote.plan.spec.transform)
    _store(
        session,
        actor,
        extra,
        tmp_id=tmp_id,
        order_file_id=order_file_id,
        status=TmpFileStatus.COMPLETED,
        message="Priced",
    )


def store_part_failure(
    session: Session,
    actor: Actor,
    message: str,
    *,
    tmp_id: int | None = None,
    order_file_id: int | None = None,
) -> None:
    """Keep why a file could not be sliced (``metadata["slice_error"]``); an upload turns failed."""
    _store(
        session,
        actor,
        {"slice_error": message},
        tmp_id=tmp_id,
        order_file_id=order_file_id,
        status=TmpFileStatus.FAILED,
        message="Could not slice",
    )
