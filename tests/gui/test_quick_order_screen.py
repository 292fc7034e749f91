"""The quick order screen as a person uses it, inside the main window at 1440 × 900: a client
found by typing, files in, prices from CuraEngine that follow the infill, refusals with their
reason, then Ctrl+Enter makes the quote. PRINTDESK_SHOTS=DIR keeps the screenshots."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import shiboken6
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QWidget
from pytestqt.qtbot import QtBot
from sqlalchemy import select

from core.db.engine import Database
from core.db.models import OrderFile
from core.services import invoices, quotes
from desktop.viewmodels.context import AppContext
from desktop.viewmodels.documents import DocumentKind
from desktop.viewmodels.quick_order import QuickOrderViewModel
from desktop.viewmodels.quick_order_parts import PartStage
from desktop.viewmodels.shell import SCREENS
from desktop.views.main_window import MainWindow
from desktop.views.page import PlaceholderPage
from desktop.views.quick_order import QuickOrderPage
from tests.factories import make_client
from tests.gui.shots import keep_shot
from tests.gui.test_documents_support import make_shell
from tests.gui.test_quick_order_vm import (
    CUBE,
    EMPTY,
    INCHES,
    SLICE_TIMEOUT_MS,
    WALLHOLE,
    needs_cura,
)
from workers.slicing_batch import SliceBatch

pytestmark = pytest.mark.no_gui_thread_sql


@pytest.fixture
def window(qtbot: QtBot, ctx: AppContext, tmp_path: Path) -> Iterator[MainWindow]:
    page = QuickOrderPage(QuickOrderViewModel(ctx, reslice_delay_ms=50))
    qtbot.waitUntil(lambda: not page.vm.catalog_loading)  # printers and materials read
    pages: dict[str, QWidget] = {s.key: PlaceholderPage(s.title, "") for s in SCREENS}
    pages["quick-order"] = page
    shell = make_shell(tmp_path)
    main = MainWindow(shell, pages, ctx.notifier)
    main.resize(1440, 900)
    shell.show("quick-order")
    main.show()
    qtbot.waitExposed(main)
    yield main
    page.vm.close()
    page.vm.batch.wait()
    page.close()
    main.close()
    main.deleteLater()


def quick(window: MainWindow) -> QuickOrderPage:
    page = window.page("quick-order")
    assert isinstance(page, QuickOrderPage)
    return page


def shot(widget: QWidget, name: str) -> None:
    keep_shot(widget, name)


def test_empty_screen_says_what_to_do(qtbot: QtBot, window: MainWindow) -> None:
    page = quick(window)
    assert page.parts.empty.isVisible()
    assert page.viewer.drop_hint.isVisible()
    assert page.totals.blocked.text() == "Choose the client first."
    assert not page.totals.make_quote.isEnabled()
    shot(window, "quick_order_empty.png")


def test_the_choices_say_they_are_read_while_they_load(qtbot: QtBot, ctx: AppContext) -> None:
    """The printers and materials are read off the GUI thread: until they come, the screen
    says so, and a part added meanwhile takes the shop's defaults once they arrive."""
    page = QuickOrderPage(QuickOrderViewModel(ctx, batch=SliceBatch(lambda: None)))
    qtbot.addWidget(page)
    vm = page.vm
    try:
        assert vm.catalog_loading
        assert page.totals.blocked.text() == "Reading the printers and materials…"
        assert page.settings.printer.placeholderText() == "Reading…"
        assert page.settings.printer.count() == 0
        page.resize(1200, 760)
        page.show()
        qtbot.waitExposed(page)
        shot(page, "quick_order_loading.png")
        (key,) = vm.add_files([CUBE])
        qtbot.waitUntil(lambda: not vm.catalog_loading)
        assert page.totals.blocked.text() == "Choose the client first."
        assert [page.settings.printer.itemText(i) for i in range(page.settings.printer.count())]
        part = vm.part(key)
        assert part is not None
        qtbot.waitUntil(lambda: part.stage is PartStage.PRICED, timeout=60_000)
        assert part.choices.printer_id == vm.printers[0].id
        assert part.choices.material_id is not None
    finally:
        vm.close()
        vm.batch.wait()
        page.close()


@needs_cura
def test_from_dropped_files_to_a_priced_quote(
    qtbot: QtBot, window: MainWindow, database: Database
) -> None:
    make_client(database, "Ada Lovelace", "ada@example.com")
    page, vm = quick(window), quick(window).vm
    qtbot.keyClicks(page.client.search, "Ada")
    qtbot.keyClick(page.client.search, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: vm.client is not None)  # the search answers off the GUI thread
    assert vm.client is not None and vm.client.name == "Ada Lovelace"

    page.add_dropped_files([CUBE, WALLHOLE, EMPTY])
    qtbot.waitUntil(
        lambda: all(
            p.stage in (PartStage.PRICED, PartStage.REFUSED, PartStage.FAILED) for p in vm.parts
        ),
        timeout=SLICE_TIMEOUT_MS,
    )
    cube, wallhole, empty = vm.parts
    assert cube.stage is PartStage.PRICED and wallhole.stage is PartStage.PRICED
    assert empty.stage is PartStage.REFUSED
    refused_row = page.parts.rows[empty.key]
    assert refused_row.stage.text() == empty.reason and empty.reason
    assert len(vm.order_parts) == 2

    qtbot.mouseClick(page.parts.rows[cube.key], Qt.MouseButton.LeftButton)
    assert vm.selected is cube
    cube_row = page.parts.rows[cube.key]
    price_before = cube_row.price.text()
    total_before = page.totals.total.text()
    assert price_before and total_before != vm.money(vm.totals.subtotal * 0)
    assert page.viewer.mesh_view.mesh is not None
    shot(window, "quick_order_priced.png")

    page.settings.infill.setFocus()
    for _ in range(8):  # 20 % → 60 % in steps of 5: the part re-slices once the keys stop
        qtbot.keyClick(page.settings.infill, Qt.Key.Key_Up)
    assert cube.choices.infill_percent == 60
    qtbot.waitUntil(lambda: cube.stage is PartStage.PRICED, timeout=SLICE_TIMEOUT_MS)
    assert cube_row.price.text() != price_before
    assert page.totals.total.text() != total_before

    with qtbot.waitSignal(vm.document_made, timeout=60_000) as made:
        qtbot.keyClick(page.parts, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    with database.session() as s:
        quote = quotes.get_quote(s, made.args[0].id)
        files = s.scalars(select(OrderFile).where(OrderFile.quote_id == quote.id)).all()
    assert len(quote.items) == 2 and len(files) == 2
    assert {i.order_file_id for i in quote.items} == {f.id for f in files}
    assert all(i.breakdown["engine"].startswith("CuraEngine") for i in quote.items)
    assert "60 % infill" in quote.items[0].description


def test_delete_removes_the_selected_file(qtbot: QtBot, window: MainWindow) -> None:
    page, vm = quick(window), quick(window).vm
    (key,) = vm.add_files([EMPTY])
    part = vm.part(key)
    assert part is not None
    qtbot.waitUntil(lambda: part.stage is PartStage.REFUSED)
    qtbot.mouseClick(page.parts.rows[key], Qt.MouseButton.LeftButton)
    assert page.parts.hasFocus()
    qtbot.keyClick(page.parts, Qt.Key.Key_Delete)
    assert vm.parts == []
    assert page.parts.empty.isVisible()


def test_without_a_slicer_the_screen_says_estimate(
    qtbot: QtBot, ctx: AppContext, database: Database, tmp_path: Path
) -> None:
    page = QuickOrderPage(QuickOrderViewModel(ctx, batch=SliceBatch(lambda: None)))
    qtbot.waitUntil(lambda: not page.vm.catalog_loading)  # printers and materials read
    pages: dict[str, QWidget] = {s.key: PlaceholderPage(s.title, "") for s in SCREENS}
    pages["quick-order"] = page
    main = MainWindow(make_shell(tmp_path), pages, ctx.notifier)
    main.resize(1440, 900)
    main.shell.show("quick-order")
    main.show()
    qtbot.waitExposed(main)
    try:
        (key,) = page.vm.add_files([CUBE])
        part = page.vm.part(key)
        assert part is not None
        qtbot.waitUntil(lambda: part.stage is PartStage.PRICED, timeout=SLICE_TIMEOUT_MS)
        assert part.quote is not None and part.quote.estimated
        assert page.totals.estimate.isVisible()
        assert "estimate" in page.totals.estimate.text()
        badge = page.parts.rows[key].badge
        assert badge.isVisible() and badge.text() == "Estimate — not sliced"
        assert "Estimate" in page.breakdown.source.text()
        assert "estimate" not in part.quote.description().lower()  # the client's text
        shot(main, "quick_order_estimate.png")
    finally:
        page.vm.close()
        page.vm.batch.wait()
        main.close()
        main.deleteLater()


@pytest.fixture
def estimating(
    qtbot: QtBot, ctx: AppContext, tmp_path: Path
) -> Iterator[tuple[MainWindow, QuickOrderPage]]:
    """The screen with no slicer: parts price from their volume at once (no CuraEngine run)."""
    page = QuickOrderPage(QuickOrderViewModel(ctx, batch=SliceBatch(lambda: None)))
    qtbot.waitUntil(lambda: not page.vm.catalog_loading)  # printers and materials read
    pages: dict[str, QWidget] = {s.key: PlaceholderPage(s.title, "") for s in SCREENS}
    pages["quick-order"] = page
    main = MainWindow(make_shell(tmp_path), pages, ctx.notifier)
    main.shell.show("quick-order")
    main.show()
    qtbot.waitExposed(main)
    yield main, page
    page.vm.close()
    page.vm.batch.wait()
    main.close()
    main.deleteLater()


def test_a_face_picked_in_3d_lays_the_part_flat(
    qtbot: QtBot, estimating: tuple[MainWindow, QuickOrderPage]
) -> None:
    _, page = estimating
    (key,) = page.vm.add_files([CUBE])
    part = page.vm.part(key)
    assert part is not None
    qtbot.waitUntil(lambda: part.stage is PartStage.PRICED, timeout=30_000)
    qtbot.mouseClick(page.viewer.pick, Qt.MouseButton.LeftButton)
    assert page.viewer.mesh_view.pick_mode
    page.viewer.mesh_view.face_picked.emit(np.array([0.0, 1.0, 0.0]))
    assert not page.viewer.pick.isChecked() and not page.viewer.mesh_view.pick_mode
    assert part.transform is not None
    qtbot.waitUntil(lambda: part.stage is PartStage.PRICED, timeout=30_000)
    assert part.quote is not None and part.quote.plan.spec.transform == part.transform


def test_an_inch_part_rescales_with_one_click(
    qtbot: QtBot, estimating: tuple[MainWindow, QuickOrderPage]
) -> None:
    _, page = estimating
    (key,) = page.vm.add_files([INCHES])
    part = page.vm.part(key)
    assert part is not None
    qtbot.waitUntil(lambda: part.tmp is not None, timeout=30_000)
    assert page.viewer.rescale.isVisible() and page.viewer.rescale.text() == "Rescale to mm"
    checks = [label.text() for label in page.viewer.check_labels]
    assert any("inches" in text for text in checks)
    qtbot.mouseClick(page.viewer.rescale, Qt.MouseButton.LeftButton)
    assert part.scale == 25.4
    assert page.viewer.rescale.text() == "Keep as millimetres"


def test_new_client_from_the_screen_becomes_the_order_client(
    qtbot: QtBot, estimating: tuple[MainWindow, QuickOrderPage], database: Database
) -> None:
    _, page = estimating
    qtbot.mouseClick(page.client.new, Qt.MouseButton.LeftButton)
    dialog = page.editor_dialog
    assert dialog is not None
    qtbot.waitExposed(dialog)
    qtbot.keyClicks(dialog.inputs["name"], "Grace Hopper")
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    # The save answers in the background; the closed dialog may be deleted by then.
    qtbot.waitUntil(lambda: not shiboken6.isValid(dialog) or not dialog.isVisible())
    assert page.vm.client is not None and page.vm.client.name == "Grace Hopper"
    assert page.client.search.text() == "Grace Hopper"


def test_ctrl_shift_enter_makes_the_invoice(
    qtbot: QtBot, estimating: tuple[MainWindow, QuickOrderPage], database: Database
) -> None:
    _, page = estimating
    vm = page.vm
    vm.set_client(make_client(database))
    qtbot.waitUntil(lambda: vm.client is not None)  # read off the GUI thread
    (key,) = vm.add_files([CUBE])
    part = vm.part(key)
    assert part is not None
    qtbot.waitUntil(lambda: part.stage is PartStage.PRICED, timeout=30_000)
    assert page.totals.make_invoice.isEnabled()
    page.parts.setFocus()
    qtbot.keyClick(
        page.parts,
        Qt.Key.Key_Return,
        Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier,
    )
    dialog = page.estimates_dialog  # the price is an estimate: asked first, nothing made yet
    assert dialog is not None and not vm.making
    qtbot.waitExposed(dialog)
    assert any("estimate" in label.text() for label in dialog.findChildren(QLabel))
    with qtbot.waitSignal(vm.document_made, timeout=60_000) as made:
        qtbot.mouseClick(dialog.confirm_button, Qt.MouseButton.LeftButton)
    document = made.args[0]
    assert document.kind is DocumentKind.INVOICE
    with database.session() as s:
        invoice = invoices.get_invoice(s, document.id)
    assert "estimate" not in invoice.items[0].description.lower()
    assert invoice.items[0].breakdown["estimated"] is True
    assert page.parts.empty.isVisible()
