"""A line priced without a slicer reads, on the client's PDF, as any other line."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import trimesh

from core.actor import Actor
from core.db.engine import Database
from core.documents import render_invoice_pdf, render_quote_pdf
from core.services import invoices, materials, printers, quotes
from core.services.line_items import ItemInput
from core.services.materials import MaterialInput
from core.services.part_pricing import PartSpec, plan_part, run_part
from core.services.printers import PrinterInput
from core.slicing.placement import export_stl
from tests.documents.sample import pdf_text, set_up_shop


def _estimated_item(database: Database, admin: Actor, tmp_path: Path) -> ItemInput:
    """A real estimate: the shop's printer and PLA, a bracket, no slicer (cura=None)."""
    with database.session() as s:
        printer = printers.create_printer(
            s,
            admin,
            PrinterInput(
                name="Ender Left",
                cura_definition_id="creality_ender3",
                build_x_mm=Decimal(220),
                build_y_mm=Decimal(220),
                build_z_mm=Decimal(250),
            ),
        )
    with database.session() as s:
        material = materials.create_material(
            s,
            admin,
            MaterialInput(
                name="PLA Black", type="PLA", density_g_cm3=Decimal("1.24"), cost_per_kg=Decimal(30)
            ),
        )
    model = tmp_path / "bracket.stl"
    export_stl(trimesh.creation.box((40, 20, 10)), model)
    with database.session() as s:
        spec = PartSpec(printer.id, material.id, layer_height_mm=0.2, infill_percent=20)
        plan = plan_part(s, spec, model)
    quote = run_part(plan, cura=None)
    assert quote.estimated
    return quote.item_input()


def test_the_pdf_never_says_estimate(database: Database, admin: Actor, tmp_path: Path) -> None:
    shop = set_up_shop(database, admin)
    estimated = _estimated_item(database, admin, tmp_path)
    # A line written by an older PrintDesk, which put the word in the text itself.
    older = ItemInput(
        description="hook.stl — PLA Black, 0.2 mm, 20 % infill (estimate)",
        quantity=Decimal(2),
        unit_price=Decimal("12.40"),
        breakdown={"estimated": True},
    )
    with database.session() as s:
        invoice = invoices.create_invoice(s, admin, shop.client.id, [estimated, older])
    with database.session() as s:
        quote = quotes.create_quote(s, admin, shop.client.id, [estimated, older])
    assert invoice.items[0].breakdown["estimated"] is True  # the counter still knows

    for pdf in (
        render_invoice_pdf(invoice, shop.settings, payment_url=None, client=shop.client),
        render_quote_pdf(quote, shop.settings, client=shop.client),
    ):
        text = "\n".join(pdf_text(pdf))
        assert "estimate" not in text.lower()
        assert "bracket.stl — PLA Black, 0.2 mm, 20 % infill" in text
        assert "hook.stl — PLA Black, 0.2 mm, 20 % infill" in text
        assert "A$12.40" in text
