"""`printdesk order`: the real command slices with CuraEngine, prices, and makes the quote or
invoice with its files in one call; every refusal is one line and leaves nothing behind."""

from __future__ import annotations

import os
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest
import trimesh
from sqlalchemy import func, select

from core.db.engine import Database
from core.db.models import Invoice, InvoiceItem, OrderFile, Quote, TmpFile
from tests.cli_runner import Result, printdesk
from tests.factories import make_client

MODELS = next(
    p / "shared" / "models"
    for p in Path(__file__).resolve().parents
    if (p / "shared" / "models").is_dir()
)
CUBE = MODELS / "20mm-xyz-cube.stl"
Runner = Callable[..., Result]

pytestmark = pytest.mark.skipif(
    not os.environ.get("PRINTDESK_CURA_RESOURCES"),
    reason="set PRINTDESK_CURA_RESOURCES to Cura's resources to slice for real",
)


@pytest.fixture
def run(db_url: str, tmp_path: Path) -> Runner:
    def call(*args: str) -> Result:
        return printdesk(*args, db_url=db_url, data_dir=tmp_path / "data", timeout=300)

    return call


def _counts(database: Database) -> dict[str, int]:
    with database.session() as s:
        return {
            m.__tablename__: s.scalar(select(func.count()).select_from(m)) or 0
            for m in (Quote, Invoice, OrderFile, TmpFile)
        }


NOTHING = {"quotes": 0, "invoices": 0, "order_files": 0, "tmp_files": 0}


def test_a_quote_of_the_cube(database: Database, run: Runner) -> None:
    client = make_client(database)
    done = run("order", str(CUBE), "--client", str(client), "--printer", "Ender 3",
               "--material", "PLA", "--json")  # fmt: skip
    assert done.code == 0, done.stderr
    made = done.json()
    assert made["kind"] == "quote" and made["client_id"] == client
    (line,) = made["lines"]
    assert line["engine"].startswith("CuraEngine") and line["print_time_s"] > 0
    assert isinstance(made["total"], str) and Decimal(made["total"]) > 0
    assert isinstance(line["unit_price"], str)
    with database.session() as s:
        (file,) = s.scalars(select(OrderFile)).all()
        assert file.quote_id == made["id"] and file.id == line["order_file_id"]
        assert file.metadata_["slice"]["engine"].startswith("CuraEngine")
    assert _counts(database) == {**NOTHING, "quotes": 1, "order_files": 1}


def test_an_invoice_with_choices(database: Database, run: Runner) -> None:
    client = make_client(database)
    done = run("order", str(CUBE), str(CUBE), "--client", str(client), "--printer", "ender 3",
               "--material", "PETG", "--invoice", "--quantity", "3", "--layer-height", "0.28",
               "--infill", "40")  # fmt: skip
    assert done.code == 0, done.stderr
    assert done.stdout.startswith("INV-0001 made for Ada Lovelace: an invoice of 2 parts, A$")
    with database.session() as s:
        items = s.scalars(select(InvoiceItem).order_by(InvoiceItem.position)).all()
        files = s.scalars(select(OrderFile).order_by(OrderFile.id)).all()
    assert [i.quantity for i in items] == [3, 3]
    assert [i.order_file_id for i in items] == [f.id for f in files]
    assert "PETG, 0.28 mm, 40 % infill" in items[0].description
    assert _counts(database) == {**NOTHING, "invoices": 1, "order_files": 2}


def _big_box(tmp_path: Path) -> Path:
    path = tmp_path / "big-box.stl"
    trimesh.creation.box(extents=(300, 300, 10)).export(path)
    return path


def test_refusals_are_one_line_and_leave_nothing(
    database: Database,
    run: Runner,
    tmp_path: Path,
) -> None:
    client = str(make_client(database))
    base = ["--printer", "Ender 3", "--material", "PLA"]
    cases = [
        (["order", str(CUBE), "--client", "999", *base], 1, "No client with id 999"),
        (["order", str(CUBE), "--client", client, "--printer", "Prusa", "--material", "PLA"],
         1, "The shop has no printer 'Prusa'. Its printers: Ender 3."),
        (["order", str(CUBE), "--client", client, "--printer", "Ender 3", "--material", "Wood"],
         1, "The shop has no material 'Wood'."),
        (["order", str(CUBE), str(MODELS / "empty.stl"), "--client", client, *base],
         2, "empty.stl"),
        (["order", str(_big_box(tmp_path)), "--client", client, *base], 1, "big-box.stl"),
        (["order", str(CUBE), "--client", client, *base, "--quantity", "0"], 1, "quantity"),
    ]  # fmt: skip
    for args, code, text in cases:
        done = run(*args)
        assert done.code == code, (args, done.stderr)
        assert text in done.stderr, done.stderr
        assert len(done.stderr.strip().splitlines()) == 1, done.stderr
        assert "Traceback" not in done.stderr
    assert _counts(database) == NOTHING
