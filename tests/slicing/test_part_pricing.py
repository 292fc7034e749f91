"""Planning, slicing and pricing one part from the shop's own settings, with real CuraEngine
and a real database; and `printdesk slice` with the shop's printers, materials and prices."""

from __future__ import annotations

import json
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select

from core.actor import Actor
from core.db.engine import Database
from core.db.models import ActivityEntry
from core.enums import PrinterStatus, TmpFileStatus
from core.errors import InvalidInput, NotFound
from core.pricing import PriceBreakdown
from core.services import materials, order_files, printers, quotes, tmp_files
from core.services import settings as shop_settings
from core.services.materials import MaterialInput
from core.services.part_pricing import (
    ESTIMATE_WARNING,
    PartPlan,
    PartSpec,
    cura_material_for_type,
    plan_part,
    run_part,
    store_part_failure,
    store_part_quote,
)
from core.services.printers import PrinterInput
from core.slicing.errors import PartTooBig, UnknownMaterial
from core.slicing.locate import CuraInstall
from core.slicing.resolver import CuraLibrary
from core.storage import LocalStorage
from tests.cli_runner import printdesk
from tests.factories import item, make_client

ENDER = PrinterInput(
    name="Ender Left",
    cura_definition_id="creality_ender3",
    build_x_mm=Decimal("220"),
    build_y_mm=Decimal("220"),
    build_z_mm=Decimal("250"),
    hourly_rate=Decimal("6.00"),
)
PLA = MaterialInput(
    name="PLA Galaxy Black",
    type="PLA",
    density_g_cm3=Decimal("1.240"),
    cost_per_kg=Decimal("30.00"),
)


@pytest.fixture
def shop(database: Database, admin: Actor) -> tuple[int, int]:
    """An Ender 3 with its own hourly rate, PLA, and pricing terms that are not the defaults."""
    with database.session() as s:
        printer = printers.create_printer(s, admin, ENDER)
    with database.session() as s:
        material = materials.create_material(s, admin, PLA)
    with database.session() as s:
        shop_settings.update_settings(
            s,
            admin,
            {
                "currency": "NZD",
                "pricing": {"setup_fee": "3.00", "minimum_price": "0.00", "hourly_rate": "50.00"},
            },
        )
    return printer.id, material.id


def _plan(database: Database, spec: PartSpec, model: Path) -> PartPlan:
    with database.session() as s:
        return plan_part(s, spec, model)


def test_plan_snapshots_printer_material_and_the_shops_terms(
    database: Database, shop: tuple[int, int], models: Path
) -> None:
    printer_id, material_id = shop
    plan = _plan(database, PartSpec(printer_id, material_id, quantity=3), models / "teapot.stl")
    assert plan.cura_printer == "creality_ender3" and plan.cura_material == "generic_pla"
    assert plan.hourly_rate == Decimal("6.00") and plan.cost_per_kg == Decimal("30.00")
    assert plan.terms.setup_fee == Decimal("3.00") and plan.currency == "NZD"
    assert plan.build_volume_mm == (Decimal("220.0"), Decimal("220.0"), Decimal("250.0"))
    assert plan.filename == "teapot.stl"


@pytest.mark.parametrize(
    ("kind", "expected"),
    [("PLA", "generic_pla"), ("Tough PLA", "generic_tough_pla"), ("CPE+", "generic_cpe_plus")],
)
def test_material_types_map_to_curas_generic_profiles(kind: str, expected: str) -> None:
    assert cura_material_for_type(kind) == expected


def test_plan_refuses_unknown_retired_and_bad_choices(
    database: Database, admin: Actor, shop: tuple[int, int], models: Path
) -> None:
    printer_id, material_id = shop
    cube = models / "20mm-xyz-cube.stl"
    with pytest.raises(NotFound, match="No printer with id 999"):
        _plan(database, PartSpec(999, material_id), cube)
    with pytest.raises(NotFound, match="No material with id 999"):
        _plan(database, PartSpec(printer_id, 999), cube)
    with pytest.raises(InvalidInput, match="quantity must be between 1"):
        _plan(database, PartSpec(printer_id, material_id, quantity=0), cube)
    with pytest.raises(InvalidInput, match="Infill must be 0 to 100"):
        _plan(database, PartSpec(printer_id, material_id, infill_percent=120), cube)
    with pytest.raises(InvalidInput, match="16 finite numbers"):
        _plan(database, PartSpec(printer_id, material_id, transform=(1.0, 0.0)), cube)
    with database.session() as s:
        materials.deactivate_material(s, admin, material_id)
    with pytest.raises(InvalidInput, match="PLA Galaxy Black is no longer offered"):
        _plan(database, PartSpec(printer_id, material_id), cube)
    with database.session() as s:
        materials.reactivate_material(s, admin, material_id)
        printers.set_printer_status(s, admin, printer_id, PrinterStatus.OFFLINE)
    with pytest.raises(InvalidInput, match="Ender Left is offline"):
        _plan(database, PartSpec(printer_id, material_id), cube)


def test_figures_move_with_infill_and_layer_height_and_price_is_the_shops(
    database: Database,
    shop: tuple[int, int],
    cura: CuraInstall,
    library: CuraLibrary,
    models: Path,
) -> None:
    printer_id, material_id = shop
    cube = models / "20mm-xyz-cube.stl"

    def quote(**choices: float) -> tuple[PriceBreakdown, float]:
        spec = PartSpec(printer_id, material_id, quantity=2, **choices)  # type: ignore[arg-type]
        result = run_part(_plan(database, spec, cube), cura=cura, library=library)
        assert not result.estimated and result.slice is not None
        return result.price, result.slice.filament_mm3

    base, base_mm3 = quote(infill_percent=20, layer_height_mm=0.2)
    dense, _ = quote(infill_percent=80, layer_height_mm=0.2)
    fine, _ = quote(infill_percent=20, layer_height_mm=0.1)
    assert dense.grams > base.grams * Decimal("1.5")
    assert fine.print_seconds > base.print_seconds * 1.3
    # Grams from our engine's volume and the shop's density; time at the printer's own rate.
    assert base.grams == (Decimal(str(base_mm3)) * Decimal("1.24") / 1000).quantize(Decimal("0.01"))
    assert base.hourly_rate == Decimal("6.00") and base.setup_fee == Decimal("3.00")
    assert base.cost_per_kg == Decimal("30.00") and base.quantity == 2
    assert base.line_total == base.unit_price * 2
    assert base.unit_price == base.material_cost + base.machine_cost + base.setup_fee


def test_quote_text_metadata_and_line_item(
    database: Database, shop: tuple[int, int], cura: CuraInstall, library: CuraLibrary, models: Path
) -> None:
    printer_id, material_id = shop
    turned = (1.0, 0, 0, 0, 0, 0, -1, 0, 0, 1, 0, 0, 0, 0, 0, 1)  # a quarter turn about X
    spec = PartSpec(
        printer_id, material_id, layer_height_mm=0.2, infill_percent=20, transform=turned
    )
    quote = run_part(
        _plan(database, spec, models / "20mm-xyz-cube.stl"), cura=cura, library=library
    )
    assert quote.description() == "20mm-xyz-cube.stl — PLA Galaxy Black, 0.2 mm, 20 % infill"
    data = quote.metadata()
    json.dumps(data)  # JSON as it is stored
    assert data["engine"] == f"CuraEngine {cura.engine_version}" and data["estimated"] is False
    assert data["settings_passed"]["global"]["infill_sparse_density"] == "20"
    assert data["transform"] == list(turned) and data["currency"] == "NZD"
    assert data["price"] == quote.price.as_json()
    item = quote.item_input(order_file_id=7)
    assert item.unit_price == quote.price.unit_price and item.quantity == 1
    assert item.order_file_id == 7 and PriceBreakdown.from_json(item.breakdown) == quote.price


def test_no_slicer_gives_an_estimate_that_says_so(
    database: Database, shop: tuple[int, int], models: Path
) -> None:
    printer_id, material_id = shop
    plan = _plan(database, PartSpec(printer_id, material_id), models / "20mm-xyz-cube.stl")
    quote = run_part(plan, cura=None)
    assert quote.estimated and quote.slice is None and quote.price.estimated
    assert ESTIMATE_WARNING in quote.warnings and "estimate" in ESTIMATE_WARNING
    assert "estimate" not in quote.description().lower()  # the client's text stays plain
    assert quote.metadata()["estimated"] is True
    assert quote.item_input().breakdown["estimated"] is True  # the counter still knows
    # Closer to a slice than the old volume rule: CuraEngine gives 1696 s and 3.9 g here.
    assert 1300 < quote.price.print_seconds < 2100
    assert Decimal("3.0") < quote.price.grams < Decimal("4.8")


def test_refusals_at_run_time(
    database: Database,
    admin: Actor,
    shop: tuple[int, int],
    cura: CuraInstall,
    library: CuraLibrary,
    models: Path,
) -> None:
    printer_id, material_id = shop
    cube = models / "20mm-xyz-cube.stl"
    big = _plan(database, PartSpec(printer_id, material_id, scale=12.0), cube)
    with pytest.raises(PartTooBig, match="the Ender Left prints up to 220 × 220 × 250 mm"):
        run_part(big, cura=None)
    with database.session() as s:
        odd = materials.create_material(
            s, admin, replace(PLA, name="Unobtainium", type="Unobtainium")
        )
        thick = materials.create_material(
            s, admin, replace(PLA, name="PLA 2.85", diameter_mm=Decimal("2.85"))
        )
    with pytest.raises(UnknownMaterial, match="Cura has no profile for Unobtainium"):
        run_part(_plan(database, PartSpec(printer_id, odd.id), cube), cura=cura, library=library)
    with pytest.raises(UnknownMaterial, match=r"PLA 2\.85 is 2\.85 mm filament"):
        run_part(_plan(database, PartSpec(printer_id, thick.id), cube), cura=cura, library=library)


def test_store_writes_the_slice_into_the_files_metadata(
    database: Database, admin: Actor, shop: tuple[int, int], tmp_path: Path, models: Path
) -> None:
    printer_id, material_id = shop
    cube = models / "20mm-xyz-cube.stl"
    storage = LocalStorage(tmp_path / "storage")
    storage.ensure_buckets()
    client = make_client(database)
    with database.session() as s:
        upload = tmp_files.upload_tmp(s, admin, storage, cube.name, cube)
    with database.session() as s:
        quote_id = quotes.create_quote(s, admin, client, [item()]).id
    with database.session() as s:
        kept = order_files.add_order_file(
            s, admin, storage, cube, client_id=client, quote_id=quote_id
        )
    turned = (1.0, 0, 0, 0, 0, 0, -1, 0, 0, 1, 0, 0, 0, 0, 0, 1)
    spec = PartSpec(printer_id, material_id, transform=turned)
    quote = run_part(_plan(database, spec, cube), cura=None)

    with database.session() as s:
        store_part_quote(s, admin, quote, tmp_id=upload.id)
    with database.session() as s:
        stored = tmp_files.get_tmp(s, admin, upload.id)
    assert stored.status == TmpFileStatus.COMPLETED
    assert stored.metadata["slice"] == quote.metadata()
    assert stored.metadata["orientation"] == list(turned) and "mesh" in stored.metadata

    with database.session() as s:
        store_part_failure(s, admin, "CuraEngine crashed.", order_file_id=kept.id)
        store_part_quote(s, admin, quote, order_file_id=kept.id)
    with database.session() as s:
        row = order_files.get_order_file(s, kept.id)
        logged = s.scalars(
            select(ActivityEntry.action).where(ActivityEntry.entity_id == kept.id)
        ).all()
    assert row.metadata["slice"]["price"]["unit_price"] == f"{quote.price.unit_price:f}"
    assert row.metadata["slice_error"] is None and "order_file.sliced" in logged

    with database.session() as s, pytest.raises(InvalidInput, match="Name either"):
        store_part_quote(s, admin, quote)
    with database.session() as s, pytest.raises(NotFound):
        store_part_quote(s, admin, quote, order_file_id=kept.id + 1000)


# -- the command line -------------------------------------------------------------------------


def test_cli_prices_a_shop_printer_and_material_with_the_shops_terms(
    db_url: str, shop: tuple[int, int], cura: CuraInstall, models: Path, tmp_path: Path
) -> None:
    result = printdesk(
        "slice",
        str(models / "20mm-xyz-cube.stl"),
        "--printer",
        "Ender Left",
        "--material",
        "PLA Galaxy Black",
        "--infill",
        "20",
        "--resources",
        str(cura.resources),
        "--json",
        db_url=db_url,
        data_dir=tmp_path / "data",
    )
    assert result.code == 0, result.stderr
    data = result.json()
    assert {"print_time_s", "filament_mm3", "filament_g", "filament_m", "price", "engine"} <= set(
        data
    )
    assert data["settings"]["infill_sparse_density"] == 20
    breakdown = data["price_breakdown"]
    assert breakdown["hourly_rate"] == "6.00" and breakdown["setup_fee"] == "3.00"
    assert breakdown["cost_per_kg"] == "30.00" and breakdown["minimum_price"] == "0.00"
    assert data["price"] == breakdown["unit_price"] and data["currency"] == "NZD"
    assert data["printer"] == "Ender Left" and data["material"] == "PLA Galaxy Black"


def test_cli_cura_printer_with_shop_terms_and_refusals(
    db_url: str, shop: tuple[int, int], cura: CuraInstall, models: Path, tmp_path: Path
) -> None:
    common = ("--resources", str(cura.resources), "--json")
    data_dir = tmp_path / "data"
    cube = str(models / "20mm-xyz-cube.stl")
    by_id = printdesk(
        "slice", cube, "--printer", "creality_ender3", "--material", "generic_pla",
        "--cost-per-kg", "40", *common, db_url=db_url, data_dir=data_dir,
    )  # fmt: skip
    assert by_id.code == 0, by_id.stderr
    breakdown = by_id.json()["price_breakdown"]
    # No shop printer named: the shop's hourly rate and setup fee, not PricingTerms' defaults.
    assert breakdown["hourly_rate"] == "50.00" and breakdown["setup_fee"] == "3.00"
    assert breakdown["cost_per_kg"] == "40.00"

    unknown = printdesk(
        "slice", cube, "--printer", "Ender Right", "--material", "PLA Galaxy Black",
        *common, db_url=db_url, data_dir=data_dir,
    )  # fmt: skip
    assert unknown.code != 0 and unknown.stdout == ""
    assert unknown.stderr.count("\n") == 1
    assert "Ender Right" in unknown.stderr and "Ender Left" in unknown.stderr

    too_big = printdesk(
        "slice", str(models / "counter.unitsmm.STL"), "--printer", "Ender Left",
        "--material", "PLA Galaxy Black", *common, db_url=db_url, data_dir=data_dir,
    )  # fmt: skip
    assert too_big.code != 0 and too_big.stderr.count("\n") == 1
    assert "The part is 304.8 × 304.4 × 25.8 mm" in too_big.stderr
