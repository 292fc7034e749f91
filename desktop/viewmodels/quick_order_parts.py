"""One part of a quick order: its upload, checks, orientation, print choices and price."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import Any, Final

import numpy as np
import trimesh

from core.mesh.analysis import MM_PER_UNIT, rescale
from core.services.part_pricing import PartQuote, PartSpec
from core.services.tmp_files import TmpFileView

MODEL_SUFFIXES: Final = (".stl", ".obj", ".3mf")
LAYER_HEIGHTS_MM: Final = (Decimal("0.12"), Decimal("0.16"), Decimal("0.2"), Decimal("0.28"))
DEFAULT_LAYER_MM: Final = Decimal("0.2")
DEFAULT_INFILL: Final = 20
MAX_QUANTITY: Final = 9999
MAX_INFILL: Final = 100
UNIT_NAMES: Final = {"mm": "millimetres", "inch": "inches", "m": "metres"}
ESTIMATE_BADGE: Final = "Estimate — not sliced"
#: Problems that the Repair button can do something about.
REPAIRABLE: Final = frozenset({"open_shell", "degenerate_faces"})


def is_model_file(path: Path) -> bool:
    return path.suffix.lower() in MODEL_SUFFIXES


class PartStage(StrEnum):
    UPLOADING = "uploading"
    REFUSED = "refused"  # intake said no: nothing was stored
    WAITING = "waiting"  # stored, a slice is due (debounced)
    SLICING = "slicing"
    UNITS = "units"  # its numbers look like inches or metres: the person chooses first
    PRICED = "priced"
    FAILED = "failed"  # the slice failed; the reason is shown
    CANCELLED = "cancelled"


@dataclass(frozen=True)
class PrintChoices:
    """What staff choose per part; None printer or material means the shop has none."""

    printer_id: int | None
    material_id: int | None
    layer_height_mm: Decimal = DEFAULT_LAYER_MM
    infill_percent: int = DEFAULT_INFILL
    supports: bool = False
    quantity: int = 1

    def with_value(self, name: str, value: Any) -> PrintChoices:
        if name not in {f for f in self.__dataclass_fields__}:
            raise ValueError(f"{name} is not a print choice")
        return replace(self, **{name: value})

    def shared(self) -> dict[str, Any]:
        """Everything "apply to all" copies: all but the quantity, which is each part's own."""
        return {
            "printer_id": self.printer_id,
            "material_id": self.material_id,
            "layer_height_mm": self.layer_height_mm,
            "infill_percent": self.infill_percent,
            "supports": self.supports,
        }


@dataclass
class OrderPart:
    source: Path
    choices: PrintChoices
    key: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    stage: PartStage = PartStage.UPLOADING
    progress: float = 0.0
    reason: str = ""  # why it was refused or why the slice failed
    tmp: TmpFileView | None = None
    mesh: trimesh.Trimesh | None = None  # as loaded, in the file's own numbers
    scale: float = 1.0  # file numbers → mm: 25.4 once rescaled from inches
    transform: tuple[float, ...] | None = None  # 16 floats, row-major, on the scaled mesh
    quote: PartQuote | None = None
    generation: int = 0  # bumped by every change, so a late result of old settings is dropped
    units_chosen: bool = False  # the person chose to rescale or to keep the numbers as mm
    repaired: bool = False  # Repair ran on it (once is all simple repair can do)

    @property
    def filename(self) -> str:
        return self.tmp.filename if self.tmp is not None else self.source.name

    @property
    def mesh_report(self) -> dict[str, Any]:
        return dict(self.tmp.metadata.get("mesh", {})) if self.tmp is not None else {}

    @property
    def in_order(self) -> bool:
        """Refused files are listed with their reason but never become a line."""
        return self.stage is not PartStage.REFUSED

    @property
    def busy(self) -> bool:
        return self.stage in (PartStage.UPLOADING, PartStage.WAITING, PartStage.SLICING)

    @property
    def file_units(self) -> str:
        return str(self.mesh_report.get("file_units", "mm"))

    @property
    def units_scale(self) -> float:
        """The scale that turns this file's numbers into millimetres."""
        return float(MM_PER_UNIT.get(self.file_units, 1.0))  # type: ignore[call-overload]

    @property
    def rescaled(self) -> bool:
        return self.scale != 1.0

    @property
    def needs_units_choice(self) -> bool:
        """Not priced until the person says whether the numbers are millimetres after all."""
        return self.file_units != "mm" and not self.units_chosen

    @property
    def can_repair(self) -> bool:
        codes = {str(p.get("code")) for p in self.mesh_report.get("problems", [])}
        return bool(codes & REPAIRABLE) and not self.repaired and self.mesh is not None

    def batch_key(self) -> str:
        return f"{self.key}:{self.generation}"

    def spec(self) -> PartSpec:
        c = self.choices
        assert c.printer_id is not None and c.material_id is not None
        return PartSpec(
            printer_id=c.printer_id,
            material_id=c.material_id,
            quantity=c.quantity,
            layer_height_mm=float(c.layer_height_mm),
            infill_percent=float(c.infill_percent),
            supports=c.supports,
            scale=self.scale,
            transform=self.transform,
        )

    def shown_mesh(self) -> trimesh.Trimesh | None:
        """The part as it will print: in millimetres, turned to its chosen orientation."""
        if self.mesh is None:
            return None
        mesh = rescale(self.mesh, self.file_units) if self.rescaled else self.mesh.copy()  # type: ignore[arg-type]
        if self.transform is not None:
            mesh.apply_transform(np.asarray(self.transform, dtype=np.float64).reshape(4, 4))
        return mesh

    def orientation_metadata(self) -> dict[str, Any]:
        """As `store_part_quote` keeps it: 16 floats (or None), and the units scale beside."""
        return {
            "orientation": list(self.transform) if self.transform is not None else None,
            "scale": self.scale,
        }


# -- what the screen says about a part (text only; the view picks colours by level)


@dataclass(frozen=True)
class Check:
    level: str  # "ok", "warn" or "bad"
    text: str


def duration_text(seconds: int) -> str:
    minutes = max(1, round(seconds / 60))
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min" if hours else f"{minutes} min"


def size_text(extents: Sequence[float]) -> str:
    return " × ".join(f"{v:.1f}" for v in extents) + " mm"


def stage_text(part: OrderPart, money: Callable[[Decimal], str]) -> str:
    """One line under the file name: where it is, or its price."""
    if part.stage is PartStage.UPLOADING:
        return part.reason or "Checking and uploading…"
    if part.stage is PartStage.WAITING:
        return "Waiting to slice…"
    if part.stage is PartStage.SLICING:
        return f"Slicing… {round(part.progress * 100)} %"
    if part.stage is PartStage.PRICED and part.quote is not None:
        price = part.quote.price
        grams = price.grams + price.support_grams
        each = (
            f"{part.choices.quantity} × {money(price.unit_price)} · " if price.quantity > 1 else ""
        )
        return f"{each}{duration_text(price.print_seconds)} · {grams:.0f} g"
    return part.reason


def estimate_badge(part: OrderPart) -> str:
    """The mark on a part priced from its shape because no slicer ran; "" once it is sliced."""
    return ESTIMATE_BADGE if part.quote is not None and part.quote.estimated else ""


def estimates_question(estimated: int, lines: int, kind_label: str) -> str:
    """What to confirm before a document is made with prices that are estimates, or ""."""
    if not estimated:
        return ""
    which = (
        ("The line is" if lines == 1 else "1 line is")
        if estimated == 1
        else (f"All {estimated} lines are" if estimated == lines else f"{estimated} lines are")
    )
    return (
        f"{which} priced by an estimate from the part's shape, not by a slice: print time and "
        f"plastic may be off by a quarter or more. The client's {kind_label} shows "
        f"{'it' if estimated == 1 else 'them'} as ordinary lines. Make it anyway?"
    )


def checks_of(part: OrderPart) -> list[Check]:
    """The mesh report of the upload, the units guess and what the slice warned about."""
    report = part.mesh_report
    if not report:
        return []
    found: list[Check] = []
    extents = [float(v) * part.scale for v in report.get("extents_mm", [])]
    faces = int(report.get("faces", 0))
    if extents:
        found.append(Check("ok", f"{size_text(extents)} · {faces:,} triangles"))
    if report.get("watertight"):
        found.append(Check("ok", "Closed, watertight shell"))
    for problem in report.get("problems", []):
        if problem.get("code") == "too_big_for_every_printer" and part.rescaled:
            continue
        text = str(problem["message"])
        if problem.get("code") in REPAIRABLE and part.can_repair:
            text += " Try Repair, or ask the client for a better model."
        elif problem.get("code") == "open_shell" and part.repaired:
            text += " Repair could not close it: ask the client for a closed model."
        found.append(Check("warn" if report.get("ok", True) else "bad", text))
    units = part.file_units
    if units != "mm":
        name = UNIT_NAMES.get(units, units)
        found.append(
            Check(
                "ok" if part.rescaled else "warn",
                f"Rescaled from {name} (× {part.units_scale:g})"
                if part.rescaled
                else f"The numbers look like {name}, not millimetres",
            )
        )
    elif report.get("units_guess") == "inch":
        found.append(Check("ok", "Drawn in inches, exported in millimetres: no rescale needed"))
    if part.quote is not None:
        for warning in part.quote.warnings:
            found.append(Check("warn", warning))
    return found


def units_question(part: OrderPart) -> str:
    """What the card asks of a part whose numbers look like inches or metres."""
    name = UNIT_NAMES.get(part.file_units, part.file_units)
    return f"The numbers look like {name}, not millimetres: rescale, or keep as millimetres."


def number_refusal(name: str, text: str) -> str:
    """Why typed text cannot be this part's infill or quantity; "" when it can."""
    low, high, what = (
        (0, MAX_INFILL, "Infill") if name == "infill_percent" else (1, MAX_QUANTITY, "Quantity")
    )
    unit = " %" if name == "infill_percent" else ""
    shown = text.strip()
    if not shown:
        return f"{what} is needed: {low} to {high:,}{unit}."
    if not shown.isdigit():
        return f"{what} must be a whole number from {low} to {high:,}{unit}."
    if not low <= int(shown) <= high:
        return f"{what} of {int(shown):,}{unit} is not possible: enter {low} to {high:,}{unit}."
    return ""
