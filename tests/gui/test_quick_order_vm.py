"""The quick order's view model on the real database, real CuraEngine and local storage: files
in, prices out (and moving with the settings), then one quote or invoice with the files."""

from __future__ import annotations

import os
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from pytestqt.qtbot import QtBot
from sqlalchemy import func, select

from core.actor import Actor
from core.db.engine import Database
from core.db.models import Invoice, OrderFile, StorageDeletion, TmpFile
from core.enums import Role
from core.payments.stripe_client import StripeGateway
from core.services import invoices, quotes, tmp_files, users
from core.storage import TMP, LocalStorage
from desktop.viewmodels.context import AppContext
from desktop.viewmodels.invoice_delivery import InvoiceDeliveryViewModel
from desktop.viewmodels.notifier import Level, Notice, Notifier
from desktop.viewmodels.quick_order import MadeDocument, QuickOrderViewModel
from desktop.viewmodels.quick_order_parts import OrderPart, PartStage
from tests.factories import make_client
from tests.gui.test_invoice_delivery import gateway, mailbox, services
from tests.mail.conftest import Mailbox
from workers.tasks import TaskRunner

__all__ = ["gateway", "mailbox"]  # fixtures shared with the invoice delivery tests

MODELS = next(  # /work/shared/models beside the checkout (or beside the worktrees)
    p / "shared" / "models"
    for p in Path(__file__).resolve().parents
    if (p / "shared" / "models").is_dir()
)
CUBE = MODELS / "20mm-xyz-cube.stl"
WALLHOLE = MODELS / "wallhole.obj"
EMPTY = MODELS / "empty.stl"
INCHES = MODELS / "featuretype.STL"
SLICE_TIMEOUT_MS = 180_000

needs_cura = pytest.mark.skipif(
    not os.environ.get("PRINTDESK_CURA_RESOURCES"),
    reason="set PRINTDESK_CURA_RESOURCES to Cura's resources to slice for real",
)


@pytest.fixture
def vm(qtbot: QtBot, ctx: AppContext) -> Iterator[QuickOrderViewModel]:
    model = QuickOrderViewModel(ctx, reslice_delay_ms=50)
    qtbot.waitUntil(lambda: not model.catalog_loading)  # printers and materials read
    yield model
    model.close()
    model.batch.wait()


def _settled(part: OrderPart) -> bool:
    return part.stage in (PartStage.PRICED, PartStage.FAILED, PartStage.REFUSED)


def choose_client(qtbot: QtBot, vm: QuickOrderViewModel, client_id: int) -> None:
    """The client is read off the GUI thread: wait for it."""
    vm.set_client(client_id)
    qtbot.waitUntil(lambda: vm.client is not None and vm.client.id == client_id)


def stored_meta(qtbot: QtBot, database: Database, tmp_id: int, key: str) -> Any:
    """The upload's metadata ``key``, once the write behind the GUI has landed."""

    def meta() -> dict[str, Any]:
        with database.session() as s:
            found: dict[str, Any] = s.scalars(
                select(TmpFile.metadata_).where(TmpFile.id == tmp_id)
            ).one()
            return found

    qtbot.waitUntil(lambda: key in meta())
    return meta()[key]


def wait_priced(qtbot: QtBot, vm: QuickOrderViewModel) -> None:
    qtbot.waitUntil(lambda: all(_settled(p) for p in vm.parts), timeout=SLICE_TIMEOUT_MS)
    failed = [(p.filename, p.reason) for p in vm.parts if p.stage is PartStage.FAILED]
    assert not failed


def tmp_count(database: Database) -> int:
    with database.session() as s:
        return s.scalar(select(func.count()).select_from(TmpFile)) or 0


@pytest.mark.no_gui_thread_sql
def test_defaults_are_the_first_active_printer_and_pla(vm: QuickOrderViewModel) -> None:
    choices = vm.default_choices()
    assert choices.printer_id == vm.printers[0].id
    (pla,) = [m for m in vm.materials if m.id == choices.material_id]
    assert pla.name == "PLA" and vm.materials[0].name != "PLA"  # ABS sorts first
    assert (choices.layer_height_mm, choices.infill_percent, choices.quantity) == (
        Decimal("0.2"),
        20,
        1,
    )


@pytest.mark.no_gui_thread_sql
def test_a_refused_file_shows_why_and_stores_nothing(
    qtbot: QtBot, vm: QuickOrderViewModel, database: Database, storage: LocalStorage
) -> None:
    (key,) = vm.add_files([EMPTY])
    part = vm.part(key)
    assert part is not None
    qtbot.waitUntil(lambda: part.stage is PartStage.REFUSED, timeout=20_000)
    assert "triangles" in part.reason or "empty" in part.reason.lower()
    assert not part.in_order and vm.order_parts == []
    assert tmp_count(database) == 0
    assert storage.list(TMP) == []
    assert vm.blocked_reason == "Choose the client first."


@pytest.mark.no_gui_thread_sql
def test_a_file_that_is_not_a_model_is_refused_by_name(
    vm: QuickOrderViewModel, tmp_path: Path
) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("not a part")
    (key,) = vm.add_files([notes])
    part = vm.part(key)
    assert part is not None and part.stage is PartStage.REFUSED
    assert part.reason == "Only STL, OBJ and 3MF files can be printed."


@pytest.mark.no_gui_thread_sql
@needs_cura
def test_dropped_files_are_priced_by_curaengine_and_move_with_infill(
    qtbot: QtBot, vm: QuickOrderViewModel, database: Database
) -> None:
    keys = vm.add_files([CUBE, WALLHOLE])
    wait_priced(qtbot, vm)
    assert tmp_count(database) == 2
    cube = vm.part(keys[0])
    assert cube is not None and cube.quote is not None
    assert not cube.quote.estimated and cube.quote.slice is not None
    assert cube.quote.slice.print_time_s > 0 and cube.quote.slice.filament_mm3 > 0
    before = cube.quote.price.line_total
    total_before = vm.totals.subtotal
    assert total_before == sum(
        (p.quote.price.line_total for p in vm.parts if p.quote is not None), Decimal(0)
    )
    # the slice is kept with the upload
    assert cube.tmp is not None
    tmp_id = cube.tmp.id
    assert stored_meta(qtbot, database, tmp_id, "slice")["engine"].startswith("CuraEngine")

    vm.set_choice(cube.key, "infill_percent", 80)
    assert cube.stage is PartStage.WAITING and cube.quote is None
    wait_priced(qtbot, vm)
    assert cube.quote is not None
    assert cube.quote.price.line_total > before
    assert vm.totals.subtotal > total_before

    # a quantity prices the same slice again, at once
    sliced, unit = cube.quote.slice, cube.quote.price.unit_price
    vm.set_choice(cube.key, "quantity", 3)
    assert cube.stage is PartStage.PRICED and cube.quote is not None
    assert cube.quote.slice is sliced
    assert cube.quote.price.line_total == unit * 3
    assert cube.quote.item_input().quantity == Decimal(3)


@pytest.mark.no_gui_thread_sql
@needs_cura
def test_apply_to_all_copies_settings_but_not_quantity(
    qtbot: QtBot, vm: QuickOrderViewModel
) -> None:
    first, second = vm.add_files([CUBE, CUBE])
    qtbot.waitUntil(lambda: all(p.tmp is not None for p in vm.parts), timeout=30_000)
    vm.set_choice(first, "supports", True)
    vm.set_choice(first, "layer_height_mm", Decimal("0.28"))
    vm.set_choice(second, "quantity", 3)
    vm.apply_to_all(first)
    other = vm.part(second)
    assert other is not None
    assert other.choices.supports and other.choices.layer_height_mm == Decimal("0.28")
    assert other.choices.quantity == 3
    wait_priced(qtbot, vm)
    assert other.quote is not None and other.quote.price.quantity == 3


@pytest.mark.no_gui_thread_sql
@needs_cura
def test_an_invoice_takes_the_files_and_leaves_no_tmp_copy(
    qtbot: QtBot, vm: QuickOrderViewModel, database: Database, storage: LocalStorage
) -> None:
    client_id = make_client(database)
    (key,) = vm.add_files([CUBE])
    wait_priced(qtbot, vm)
    choose_client(qtbot, vm, client_id)
    part = vm.part(key)
    assert part is not None and part.quote is not None
    price = part.quote.price.line_total
    assert vm.can_make
    with (
        qtbot.waitSignal(vm.document_made, timeout=60_000) as made,
        qtbot.waitSignal(vm.open_document),
    ):
        assert vm.make_invoice()
    document = made.args[0]
    assert isinstance(document, MadeDocument)
    with database.session() as s:
        invoice = invoices.get_invoice(s, document.id)
        files = s.scalars(select(OrderFile).where(OrderFile.invoice_id == document.id)).all()
    assert invoice.client_id == client_id and len(invoice.items) == 1
    (item,) = invoice.items
    (order_file,) = files
    assert item.order_file_id == order_file.id
    assert item.line_total == price
    assert item.breakdown["engine"].startswith("CuraEngine")
    assert order_file.metadata_["slice"]["price"]["line_total"] == f"{price:f}"
    assert storage.exists("order-files", order_file.storage_key)
    assert tmp_count(database) == 0
    qtbot.waitUntil(lambda: storage.list(TMP) == [])  # the outbox drains right after
    assert vm.parts == []


@pytest.mark.no_gui_thread_sql
@needs_cura
def test_a_quote_keeps_the_orientation_chosen(
    qtbot: QtBot, vm: QuickOrderViewModel, database: Database
) -> None:
    client_id = make_client(database)
    choose_client(qtbot, vm, client_id)
    (key,) = vm.add_files([CUBE])
    wait_priced(qtbot, vm)
    vm.lay_flat(key, [1.0, 0.0, 0.0])  # the cube's +x face down
    part = vm.part(key)
    assert part is not None and part.transform is not None
    wait_priced(qtbot, vm)
    with qtbot.waitSignal(vm.document_made, timeout=60_000) as made:
        vm.make_quote()
    with database.session() as s:
        quote = quotes.get_quote(s, made.args[0].id)
        order_file = s.scalars(select(OrderFile).where(OrderFile.quote_id == quote.id)).one()
    assert quote.items[0].order_file_id == order_file.id
    assert order_file.metadata_["orientation"] == list(part.transform)
    assert quote.items[0].description.startswith("20mm-xyz-cube.stl")


@pytest.mark.no_gui_thread_sql
def test_inch_file_rescales_with_one_click(qtbot: QtBot, vm: QuickOrderViewModel) -> None:
    (key,) = vm.add_files([INCHES])
    part = vm.part(key)
    assert part is not None
    qtbot.waitUntil(lambda: part.tmp is not None, timeout=30_000)
    vm.cancel(key)
    assert part.file_units == "inch" and not part.rescaled
    small = part.shown_mesh()
    vm.toggle_rescale(key)
    assert part.scale == 25.4
    big = part.shown_mesh()
    assert small is not None and big is not None
    assert big.extents.max() == pytest.approx(small.extents.max() * 25.4)
    vm.cancel(key)


@pytest.mark.no_gui_thread_sql
@needs_cura
def test_an_invoice_can_go_out_with_its_stripe_link(
    qtbot: QtBot,
    ctx: AppContext,
    database: Database,
    storage: LocalStorage,
    gateway: StripeGateway,
    mailbox: tuple[Mailbox, int],
) -> None:
    box, port = mailbox
    delivery = InvoiceDeliveryViewModel(ctx, services=services(gateway, storage, port))
    vm = QuickOrderViewModel(ctx, delivery=delivery, reslice_delay_ms=50)
    try:
        choose_client(qtbot, vm, make_client(database, "Ada Lovelace", "ada@example.com"))
        vm.add_files([CUBE])
        wait_priced(qtbot, vm)
        vm.email_link = True
        with qtbot.waitSignal(vm.document_made, timeout=60_000) as made:
            vm.make_invoice()
        qtbot.waitUntil(lambda: len(box.delivered) == 1, timeout=30_000)  # link, then email
        with database.session() as s:
            invoice = invoices.get_invoice(s, made.args[0].id)
        assert invoice.stripe_session_id
        assert delivery.last_link is not None
        (mail,) = box.delivered
        assert mail.rcpt_tos == ["ada@example.com"]
        body = mail.message().get_body(("plain",))
        assert body is not None and delivery.last_link.url in body.get_content()
    finally:
        vm.close()
        vm.batch.wait()


@pytest.mark.no_gui_thread_sql
def test_auto_orient_turns_the_part_and_keeps_it_with_the_upload(
    qtbot: QtBot, vm: QuickOrderViewModel, database: Database
) -> None:
    (key,) = vm.add_files([WALLHOLE])
    part = vm.part(key)
    assert part is not None
    qtbot.waitUntil(lambda: part.tmp is not None, timeout=30_000)
    vm.cancel(key)
    vm.auto_orient(key)
    qtbot.waitUntil(lambda: part.transform is not None, timeout=30_000)
    assert part.stage is PartStage.WAITING  # a new orientation is a new slice
    vm.cancel(key)
    shown = part.shown_mesh()
    assert shown is not None and shown.bounds[0][2] == pytest.approx(0.0, abs=1e-6)
    assert part.tmp is not None and part.transform is not None
    tmp_id, turned = part.tmp.id, list(part.transform)
    qtbot.waitUntil(lambda: stored_meta(qtbot, database, tmp_id, "orientation") == turned)
    assert stored_meta(qtbot, database, tmp_id, "orientation") == turned
    vm.reset_orientation(key)
    assert part.transform is None
    vm.cancel(key)


@pytest.mark.no_gui_thread_sql
@needs_cura
def test_an_upload_gone_before_the_quote_leaves_no_quote(
    qtbot: QtBot, vm: QuickOrderViewModel, ctx: AppContext, database: Database
) -> None:
    choose_client(qtbot, vm, make_client(database))
    (key,) = vm.add_files([CUBE])
    wait_priced(qtbot, vm)
    part = vm.part(key)
    assert part is not None and part.tmp is not None
    with database.session() as s:  # expired meanwhile: maintenance deleted the upload
        tmp_files.delete_tmp(s, ctx.actor, part.tmp.id)
    notices: list[Notice] = []
    ctx.notifier.posted.connect(notices.append)
    with qtbot.waitSignal(vm.busy_changed, check_params_cb=lambda: not vm.making):
        vm.make_quote()
    assert notices[-1].level is Level.WARNING
    assert notices[-1].text.startswith("Nothing was made: The upload")
    assert "add the file again" in notices[-1].text
    with database.session() as s:
        assert quotes.list_quotes(s, quotes.QuoteFilter()) == []
        assert s.scalar(select(func.count()).select_from(OrderFile)) == 0
    assert vm.part(key) is part  # the order stays on screen to fix and try again


@pytest.mark.no_gui_thread_sql
@needs_cura
def test_staff_whose_file_vanishes_half_way_are_left_with_nothing(
    qtbot: QtBot, database: Database, admin: Actor, storage: LocalStorage
) -> None:
    """Staff cannot delete documents, so the document must never be made without its files:
    the second file's object is gone when the invoice is made — no invoice, no order file,
    the first copy deleted through the outbox."""
    with database.session() as s:
        person = users.add_user(s, admin, "sam@shop.example", "Sam", Role.STAFF, "a long pass")
    staff_ctx = AppContext(
        db=database,
        actor=users.actor_for(person),
        notifier=Notifier(),
        runner=TaskRunner(),
        open_storage=lambda: storage,
    )
    model = QuickOrderViewModel(staff_ctx, reslice_delay_ms=50)
    try:
        choose_client(qtbot, model, make_client(database))
        keys = model.add_files([CUBE, WALLHOLE])
        wait_priced(qtbot, model)
        second = model.part(keys[1])
        assert second is not None and second.tmp is not None
        storage.delete(TMP, [second.tmp.storage_key])
        notices: list[Notice] = []
        staff_ctx.notifier.posted.connect(notices.append)
        with qtbot.waitSignal(model.busy_changed, check_params_cb=lambda: not model.making):
            assert model.make_invoice()
        assert notices[-1].level is Level.WARNING
        assert notices[-1].text.startswith("Nothing was made:")
        with database.session() as s:
            assert s.scalar(select(func.count()).select_from(Invoice)) == 0
            assert s.scalar(select(func.count()).select_from(OrderFile)) == 0
            assert s.scalar(select(func.count()).select_from(StorageDeletion)) == 1
        qtbot.waitUntil(lambda: storage.list("order-files") == [])  # drained from the outbox
        assert len(model.parts) == 2  # the order stays on screen to fix and try again
    finally:
        model.close()
        model.batch.wait()
        staff_ctx.runner.cancel_all()
        staff_ctx.runner.wait()
