"""`printdesk order MODEL… --client ID --printer P --material M [--invoice]`: the quick order
from the command line — each file checked as intake checks it, sliced with CuraEngine, priced,
then one quote or invoice with the files, made by `core.services.quick_orders` in one call.

Every refusal (a bad file, an unknown client, printer or material, a part too big) comes
before anything is stored; if making the document fails, the uploads are taken back, so
nothing is left half-written. ``--json`` prints one object, money as strings.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import typer
from sqlalchemy import func, select

from cli.storage_commands import refuse, shop_storage
from cli.support import ACTOR, database, emit, fail
from core.db.engine import Database
from core.db.models import Material, Printer
from core.enums import PrinterStatus
from core.errors import ServiceError
from core.mesh.intake import IntakeError
from core.money import format_money
from core.services import clients, tmp_files
from core.services import settings as shop_settings
from core.services.maintenance import after_commit_drain
from core.services.part_pricing import PartQuote, PartSpec, plan_part, run_part
from core.services.quick_orders import (
    MadeOrder,
    QuickOrderKind,
    QuickOrderLine,
    QuickOrderSpec,
    make_quick_order,
)
from core.slicing.errors import SlicingError
from core.slicing.locate import locate_cura
from core.slicing.resolver import CuraLibrary
from core.storage import Storage


@dataclass(frozen=True)
class _Choices:
    client_id: int
    client_name: str
    printer_id: int
    material_id: int
    max_bytes: int
    beds: tuple[tuple[float, float, float], ...]


def _by_name(rows: list[Any], wanted: str, what: str) -> Any:
    key = wanted.strip().lower()
    found = next((r for r in rows if r.name.strip().lower() == key or str(r.id) == key), None)
    if found is None:
        names = ", ".join(r.name for r in rows) or "none yet"
        fail(f"The shop has no {what} {wanted!r}. Its {what}s: {names}.")
    return found


def _look_up(db: Database, client_id: int, printer: str, material: str) -> _Choices:
    with db.session() as s:
        try:
            client = clients.get_client(s, client_id)
        except ServiceError as exc:
            refuse(exc)
        with s.begin():
            settings = shop_settings.load(s)
            beds = tmp_files.shop_printers(s)
            printers = [
                p
                for p in s.scalars(select(Printer).order_by(func.lower(Printer.name)))
                if p.status != PrinterStatus.OFFLINE.value
            ]
            materials = list(
                s.scalars(
                    select(Material)
                    .where(Material.active.is_(True))
                    .order_by(func.lower(Material.name))
                )
            )
            found_printer = _by_name(printers, printer, "printer")
            found_material = _by_name(materials, material, "material")
            return _Choices(
                client_id=client.id,
                client_name=client.name,
                printer_id=found_printer.id,
                material_id=found_material.id,
                max_bytes=tmp_files.max_upload_bytes(settings),
                beds=beds,
            )


def _price(db: Database, paths: list[Path], choices: _Choices, spec: PartSpec) -> list[PartQuote]:
    """Check, slice and price every file; the first refusal stops with nothing stored."""
    for path in paths:
        try:
            tmp_files.check_upload(
                path.name, path, max_bytes=choices.max_bytes, printers=choices.beds
            )
        except IntakeError as exc:
            refuse(exc, about=str(path))
    try:
        cura = locate_cura()
        library = CuraLibrary(cura.resources)
    except SlicingError as exc:
        fail(" ".join(str(exc).split()))
    priced: list[PartQuote] = []
    for path in paths:
        try:
            with db.session() as s:
                plan = plan_part(s, spec, path, filename=path.name)
            priced.append(run_part(plan, cura=cura, library=library))
        except (SlicingError, ServiceError) as exc:
            fail(f"{path.name}: {' '.join(str(exc).split())}", getattr(exc, "exit_code", 1))
    return priced


def _make(
    db: Database,
    storage: Storage,
    paths: list[Path],
    quotes: list[PartQuote],
    kind: QuickOrderKind,
    client_id: int,
) -> MadeOrder:
    uploads: list[int] = []
    try:
        with db.session() as s:
            for path in paths:
                uploads.append(tmp_files.upload_tmp(s, ACTOR, storage, path.name, path).id)
        lines = [
            QuickOrderLine(tmp_id, quote.item_input(), {"slice": quote.metadata()})
            for tmp_id, quote in zip(uploads, quotes, strict=True)
        ]
        with db.session() as s:
            return make_quick_order(s, ACTOR, QuickOrderSpec(kind, client_id, lines), storage)
    except ServiceError as exc:
        for tmp_id in uploads:  # the order was not made: its uploads go too
            try:
                with db.session() as s:
                    tmp_files.delete_tmp(s, ACTOR, tmp_id)
            except ServiceError:
                pass
        refuse(exc)
    finally:
        after_commit_drain(db, storage)


def _report(made: MadeOrder, client: str, quotes: list[PartQuote]) -> dict[str, Any]:
    return {
        "kind": made.kind.value,
        "id": made.id,
        "number": made.number,
        "client_id": made.client_id,
        "client": client,
        "currency": made.currency,
        "total": made.total,
        "lines": [
            {
                "item_id": item_id,
                "order_file_id": file_id,
                "file": quote.plan.filename,
                "description": quote.description(),
                "quantity": quote.price.quantity,
                "unit_price": quote.price.unit_price,
                "line_total": quote.price.line_total,
                "print_time_s": quote.price.print_seconds,
                "filament_g": quote.price.grams + quote.price.support_grams,
                "engine": f"CuraEngine {quote.slice.engine_version}" if quote.slice else None,
            }
            for item_id, file_id, quote in zip(
                made.item_ids, made.order_file_ids, quotes, strict=True
            )
        ],
    }


def order_command(
    models: list[Path] = typer.Argument(..., help="The model files: STL, OBJ or 3MF."),
    client: int = typer.Option(..., "--client", help="The client's id."),
    printer: str = typer.Option(..., "--printer", help="The shop's printer (name or id)."),
    material: str = typer.Option(..., "--material", help="The shop's material (name or id)."),
    invoice: bool = typer.Option(False, "--invoice", help="Make an invoice (default: a quote)."),
    quantity: int = typer.Option(1, "--quantity", help="Copies of each part."),
    layer_height: float | None = typer.Option(None, "--layer-height", help="Layer height, mm."),
    infill: float | None = typer.Option(None, "--infill", help="Infill density, %."),
    supports: bool | None = typer.Option(
        None, "--supports/--no-supports", help="Print supports (default: the profile's)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """Slice and price model files and make one quote (or invoice) with them."""
    paths = [Path(p) for p in models]
    kind = QuickOrderKind.INVOICE if invoice else QuickOrderKind.QUOTE
    with database() as db, shop_storage() as storage:
        choices = _look_up(db, client, printer, material)
        spec = PartSpec(
            printer_id=choices.printer_id,
            material_id=choices.material_id,
            quantity=quantity,
            layer_height_mm=layer_height,
            infill_percent=infill,
            supports=supports,
        )
        quotes = _price(db, paths, choices, spec)
        made = _make(db, storage, paths, quotes, kind, choices.client_id)
    label = "an invoice" if invoice else "a quote"
    parts = f"{len(quotes)} part{'s' if len(quotes) != 1 else ''}"
    emit(
        _report(made, choices.client_name, quotes),
        as_json=as_json,
        text=f"{made.number} made for {choices.client_name}: {label} of {parts}, "
        f"{format_money(made.total, made.currency)}.",
    )
