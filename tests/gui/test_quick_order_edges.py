"""The quick order's rough edges, met as a person meets them in the main window: Ctrl+O from
anywhere, Ctrl+Q that asks first, PLA by default, client search by keyboard, a units choice on
the part's card, Repair for open shells, a 3MF of several objects, numbers out of range
refused, and the job an invoice makes. Parts are priced from their volume (no slicer), so
nothing here waits for CuraEngine. PRINTDESK_SHOTS=DIR keeps the screenshots."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import trimesh
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QApplication, QDialogButtonBox, QLineEdit, QWidget
from pytestqt.qtbot import QtBot
from sqlalchemy import select

from core.db.engine import Database
from core.db.models import Job, Printer
from desktop.viewmodels.context import AppContext
from desktop.viewmodels.notifier import Notice
from desktop.viewmodels.quick_order import QuickOrderViewModel
from desktop.viewmodels.quick_order_parts import PartStage, checks_of
from desktop.viewmodels.shell import SCREENS
from desktop.views.files import build_files_page
from desktop.views.main_window import MainWindow
from desktop.views.page import PlaceholderPage
from desktop.views.quick_order import QuickOrderPage
from tests.factories import make_client
from tests.gui.shots import keep_shot
from tests.gui.test_documents_support import make_shell, open_main_window
from tests.gui.test_quick_order_vm import (
    CUBE,
    EMPTY,
    INCHES,
    MODELS,
    WALLHOLE,
    needs_cura,
    wait_priced,
)
from workers.slicing_batch import SliceBatch

PYRAMIDS = MODELS / "pyramids.3mf"
WAIT_MS = 60_000


@pytest.fixture
def window(qtbot: QtBot, ctx: AppContext, tmp_path: Path) -> Iterator[MainWindow]:
    """The main window on Quick order (with the real Files screen beside it), no slicer."""
    page = QuickOrderPage(QuickOrderViewModel(ctx, batch=SliceBatch(lambda: None)))
    qtbot.waitUntil(lambda: not page.vm.catalog_loading)  # printers and materials read
    pages: dict[str, QWidget] = {s.key: PlaceholderPage(s.title, "") for s in SCREENS}
    pages["quick-order"] = page
    pages["files"] = build_files_page(ctx)
    main = MainWindow(make_shell(tmp_path), pages, ctx.notifier)
    main.resize(1440, 900)
    main.shell.show("quick-order")
    main.show()
    qtbot.waitExposed(main)
    yield main
    if page.file_dialog is not None:
        page.file_dialog.close()
    for part in page.vm.parts:  # nothing left to ask about when the window closes
        page.vm.remove(part.key)
    page.vm.close()
    page.vm.batch.wait()
    main.close()
    main.deleteLater()


def quick(window: MainWindow) -> QuickOrderPage:
    page = window.page("quick-order")
    assert isinstance(page, QuickOrderPage)
    return page


def make_invoice_with_estimates(qtbot: QtBot, page: QuickOrderPage) -> None:
    """Ctrl+Shift+Enter, then "Make invoice anyway": with no slicer every price is an estimate."""
    qtbot.keyClick(
        page.parts,
        Qt.Key.Key_Return,
        Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier,
    )
    dialog = page.estimates_dialog
    assert dialog is not None
    qtbot.waitExposed(dialog)
    qtbot.mouseClick(dialog.confirm_button, Qt.MouseButton.LeftButton)


def settled(page: QuickOrderPage) -> bool:
    return all(not p.busy for p in page.vm.parts) and bool(page.vm.parts)


@pytest.mark.no_gui_thread_sql
def test_ctrl_o_opens_the_chooser_whatever_has_focus(qtbot: QtBot, window: MainWindow) -> None:
    page = quick(window)
    rail = window.buttons["quick-order"]
    qtbot.mouseClick(rail, Qt.MouseButton.LeftButton)  # focus is on the rail, not the page
    rail.setFocus()
    qtbot.keyClick(rail, Qt.Key.Key_O, Qt.KeyboardModifier.ControlModifier)
    dialog = page.file_dialog
    assert dialog is not None
    qtbot.waitUntil(dialog.isVisible)
    dialog.activateWindow()  # what the window manager does with a new dialog
    qtbot.waitUntil(lambda: QApplication.activeWindow() is dialog)
    name = dialog.findChild(QLineEdit, "fileNameEdit")
    assert name is not None
    qtbot.keyClicks(name, str(CUBE))
    buttons = dialog.findChild(QDialogButtonBox, "buttonBox")
    assert buttons is not None
    open_button = buttons.button(QDialogButtonBox.StandardButton.Open)
    qtbot.mouseClick(open_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: len(page.vm.parts) == 1)
    assert page.vm.parts[0].source == CUBE


@pytest.mark.no_gui_thread_sql
def test_ctrl_o_on_the_files_screen_asks_for_the_document_first(
    qtbot: QtBot, window: MainWindow, ctx: AppContext
) -> None:
    files = window.page("files")
    qtbot.mouseClick(window.buttons["files"], Qt.MouseButton.LeftButton)
    assert window.stack.currentWidget() is files
    said: list[Notice] = []
    ctx.notifier.posted.connect(said.append)
    qtbot.keyClick(window.buttons["files"], Qt.Key.Key_O, Qt.KeyboardModifier.ControlModifier)
    assert any("Pick the quote or invoice" in n.text for n in said)
    assert files.document_edit.hasFocus()  # type: ignore[attr-defined]


@pytest.mark.no_gui_thread_sql
def test_ctrl_q_asks_before_dropping_parts_and_quits_when_told(
    qtbot: QtBot, window: MainWindow
) -> None:
    page = quick(window)
    page.vm.add_files([CUBE])
    qtbot.waitUntil(lambda: settled(page), timeout=WAIT_MS)
    qtbot.keyClick(page.parts, Qt.Key.Key_Q, Qt.KeyboardModifier.ControlModifier)
    prompt = window.close_prompt
    assert prompt is not None
    qtbot.waitUntil(prompt.isVisible)
    assert window.isVisible()
    assert "1 part not yet made into a quote or invoice" in prompt.informativeText()
    keep = next(b for b in prompt.buttons() if b.text() == "Keep working")
    qtbot.mouseClick(keep, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not prompt.isVisible())
    assert window.isVisible() and len(page.vm.parts) == 1

    window.close()  # the window's own close button takes the same path
    qtbot.waitUntil(lambda: window.close_prompt is not None and window.close_prompt.isVisible())
    assert window.quit_button is not None
    qtbot.mouseClick(window.quit_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not window.isVisible())


@pytest.mark.no_gui_thread_sql
def test_ctrl_q_quits_at_once_with_nothing_unfinished(qtbot: QtBot, window: MainWindow) -> None:
    page = quick(window)
    qtbot.keyClick(page.parts, Qt.Key.Key_Q, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: not window.isVisible())
    assert window.close_prompt is None


@pytest.mark.no_gui_thread_sql
def test_a_new_shop_prints_in_pla(qtbot: QtBot, window: MainWindow) -> None:
    page = quick(window)
    (key,) = page.vm.add_files([CUBE])
    assert page.settings.material.currentText() == "PLA"
    part = page.vm.part(key)
    qtbot.waitUntil(lambda: settled(page), timeout=WAIT_MS)
    assert part is not None and part.quote is not None
    assert part.quote.plan.material_name == "PLA"


@pytest.mark.no_gui_thread_sql
def test_client_search_by_keyboard_and_a_fresh_screen_after_the_invoice(
    qtbot: QtBot, window: MainWindow, database: Database
) -> None:
    page, vm = quick(window), quick(window).vm
    make_client(database, "Ada Lovelace", "ada@example.com")
    make_client(database, "Ada Byron", "byron@example.com")
    page.client.search.setFocus()
    with qtbot.waitSignal(vm.clients_found, timeout=5_000):
        qtbot.keyClicks(page.client.search, "Ada")
    popup = page.client.completer.popup()
    assert popup is not None
    qtbot.waitUntil(popup.isVisible)
    assert popup.model().rowCount() == 2  # Ada Byron, then Ada Lovelace
    qtbot.keyClick(popup, Qt.Key.Key_Down)
    qtbot.keyClick(popup, Qt.Key.Key_Down)
    qtbot.keyClick(popup, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: vm.client is not None)
    assert vm.client is not None and vm.client.name == "Ada Lovelace"
    assert page.client.search.text() == "Ada Lovelace"

    page.client.search.selectAll()
    qtbot.keyClick(page.client.search, Qt.Key.Key_Backspace)
    assert vm.client is None
    assert page.client.detail.text() == "No client chosen yet."

    qtbot.keyClicks(page.client.search, "Lovelace")
    qtbot.keyClick(page.client.search, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: vm.client is not None)
    assert vm.client is not None and vm.client.name == "Ada Lovelace"

    vm.add_files([CUBE, EMPTY])
    qtbot.waitUntil(lambda: settled(page), timeout=WAIT_MS)
    page.parts.setFocus()
    with qtbot.waitSignal(vm.document_made, timeout=WAIT_MS):
        make_invoice_with_estimates(qtbot, page)
    assert vm.client is None and vm.parts == []
    assert page.client.search.text() == ""
    assert page.totals.blocked.text() == "Choose the client first."


@pytest.mark.no_gui_thread_sql
def test_a_new_file_is_selected_and_scrolled_into_view(qtbot: QtBot, window: MainWindow) -> None:
    page = quick(window)
    page.vm.add_files([EMPTY] * 9)
    qtbot.waitUntil(lambda: all(p.stage is PartStage.REFUSED for p in page.vm.parts))
    (key,) = page.vm.add_files([CUBE])
    assert page.vm.selected is not None and page.vm.selected.key == key
    row = page.parts.rows[key]
    qtbot.waitUntil(lambda: page.parts.scroller.verticalScrollBar().value() > 0)
    viewport = page.parts.scroller.viewport()
    top = row.mapTo(viewport, QPoint(0, 0)).y()
    assert top >= 0 and top + row.height() <= viewport.height()
    assert row.property("selected") == "true"


@pytest.mark.no_gui_thread_sql
def test_an_inch_part_waits_on_its_card_for_the_units_choice(
    qtbot: QtBot, window: MainWindow, database: Database
) -> None:
    page, vm = quick(window), quick(window).vm
    vm.set_client(make_client(database))
    qtbot.waitUntil(lambda: vm.client is not None)  # read off the GUI thread
    (key,) = vm.add_files([INCHES])
    part = vm.part(key)
    assert part is not None
    qtbot.waitUntil(lambda: part.stage is PartStage.UNITS, timeout=WAIT_MS)
    row = page.parts.rows[key]
    assert "look like inches" in row.stage.text()
    assert row.rescale.isVisible() and row.keep_mm.isVisible()
    assert part.quote is None  # never priced (at the shop minimum) as a 5 mm part
    assert "Keep as mm" in page.totals.blocked.text()
    assert not page.totals.make_quote.isEnabled()
    keep_shot(window, "quick_order_units_card.png")

    qtbot.mouseClick(row.keep_mm, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: part.stage is PartStage.PRICED, timeout=WAIT_MS)
    assert part.scale == 1.0 and not row.keep_mm.isVisible()

    (other,) = vm.add_files([INCHES])
    second = vm.part(other)
    assert second is not None
    qtbot.waitUntil(lambda: second.stage is PartStage.UNITS, timeout=WAIT_MS)
    qtbot.mouseClick(page.parts.rows[other].rescale, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: second.stage is PartStage.PRICED, timeout=WAIT_MS)
    assert second.scale == 25.4
    assert second.quote is not None and part.quote is not None
    assert second.quote.price.line_total > part.quote.price.line_total


@pytest.mark.no_gui_thread_sql
def test_an_open_shell_has_a_repair_button_that_closes_it(
    qtbot: QtBot, window: MainWindow, tmp_path: Path
) -> None:
    page, vm = quick(window), quick(window).vm
    box = trimesh.creation.box(extents=(20.0, 20.0, 20.0))
    holed = tmp_path / "holed box.stl"
    data = trimesh.Trimesh(box.vertices, box.faces[1:]).export(file_type="stl")
    assert isinstance(data, bytes)
    holed.write_bytes(data)
    (key,) = vm.add_files([holed])
    part = vm.part(key)
    assert part is not None
    qtbot.waitUntil(lambda: settled(page), timeout=WAIT_MS)
    said = [label.text() for label in page.viewer.check_labels]
    assert any("not closed" in text and "Try Repair" in text for text in said)
    assert page.viewer.repair.isVisible()
    keep_shot(window, "quick_order_repair.png")
    old_tmp = part.tmp
    qtbot.mouseClick(page.viewer.repair, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: part.stage is PartStage.PRICED and part.tmp != old_tmp, timeout=WAIT_MS)
    assert part.filename == "holed box (repaired).stl"
    assert part.mesh_report["watertight"] and part.quote is not None
    assert part.quote.plan.model == part.source  # the repaired file is what was priced
    assert not page.viewer.repair.isVisible()
    assert not any("Repair" in label.text() for label in page.viewer.check_labels)


@pytest.mark.no_gui_thread_sql
def test_repair_says_when_it_cannot_close_a_shell(qtbot: QtBot, window: MainWindow) -> None:
    page, vm = quick(window), quick(window).vm
    (key,) = vm.add_files([WALLHOLE])
    part = vm.part(key)
    assert part is not None
    qtbot.waitUntil(lambda: settled(page), timeout=WAIT_MS)
    old_tmp = part.tmp
    qtbot.mouseClick(page.viewer.repair, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: part.stage is PartStage.PRICED and part.tmp != old_tmp, timeout=WAIT_MS)
    said = [c.text for c in checks_of(part)]
    assert any("Repair could not close it" in text for text in said)
    assert not any("Try Repair" in text for text in said)
    assert not page.viewer.repair.isVisible()


@pytest.mark.no_gui_thread_sql
def test_a_sound_part_offers_no_repair(qtbot: QtBot, window: MainWindow) -> None:
    page = quick(window)
    page.vm.add_files([CUBE])
    qtbot.waitUntil(lambda: settled(page), timeout=WAIT_MS)
    assert not page.viewer.repair.isVisible()
    assert not any("Repair" in label.text() for label in page.viewer.check_labels)


@pytest.mark.no_gui_thread_sql
def test_a_3mf_of_several_objects_becomes_one_part_per_object(
    qtbot: QtBot, window: MainWindow, database: Database
) -> None:
    page, vm = quick(window), quick(window).vm
    vm.set_client(make_client(database))
    qtbot.waitUntil(lambda: vm.client is not None)  # read off the GUI thread
    page.add_dropped_files([PYRAMIDS])
    qtbot.waitUntil(lambda: len(vm.parts) == 9 and settled(page), timeout=WAIT_MS)
    names = [p.filename for p in vm.parts]
    assert names[0] == "pyramids - Pyramid.stl" and names[-1] == "pyramids - Composed Part_2.stl"
    for part in vm.parts:
        assert part.stage is PartStage.PRICED, (part.filename, part.reason)
        codes = {p["code"] for p in part.mesh_report["problems"]}
        assert "too_big_for_every_printer" not in codes
        assert max(part.mesh_report["extents_mm"]) < 60
    assert set(page.parts.rows) == {p.key for p in vm.parts}
    assert page.parts.count.text() == "9 of 9 priced"
    keep_shot(window, "quick_order_pyramids.png")

    page.parts.setFocus()
    with qtbot.waitSignal(vm.document_made, timeout=WAIT_MS) as made:
        make_invoice_with_estimates(qtbot, page)
    with database.session() as s:
        job = s.scalars(select(Job).where(Job.invoice_id == made.args[0].id)).one()
        printer = s.scalars(select(Printer).order_by(Printer.name)).first()
    assert all(name in job.title for name in names)
    assert printer is not None and job.printer_id == printer.id


@pytest.mark.no_gui_thread_sql
def test_numbers_out_of_range_are_refused_with_a_message(qtbot: QtBot, window: MainWindow) -> None:
    page, vm = quick(window), quick(window).vm
    (key,) = vm.add_files([CUBE])
    part = vm.part(key)
    assert part is not None
    qtbot.waitUntil(lambda: settled(page), timeout=WAIT_MS)
    infill, quantity, refusal = page.settings.infill, page.settings.quantity, page.settings.refusal
    button_y = page.settings.apply_all.y()

    infill.selectAll()
    qtbot.keyClicks(infill, "150")
    qtbot.keyClick(infill, Qt.Key.Key_Return)
    assert infill.text() == "150"  # what was typed stays, never swapped for 100
    assert "150 % is not possible" in refusal.text() and "keeps 20 % infill" in refusal.text()
    assert part.choices.infill_percent == 20
    assert page.settings.apply_all.y() == button_y  # the message moved nothing

    quantity.selectAll()
    qtbot.keyClicks(quantity, "99999999999")
    qtbot.keyClick(quantity, Qt.Key.Key_Return)
    assert quantity.text() == "99999999999"
    assert "99,999,999,999 is not possible" in refusal.text()
    assert part.choices.quantity == 1

    infill.selectAll()
    qtbot.keyClicks(infill, "35")
    qtbot.keyClick(infill, Qt.Key.Key_Return)
    quantity.selectAll()
    qtbot.keyClicks(quantity, "3")
    qtbot.keyClick(quantity, Qt.Key.Key_Return)
    assert refusal.text() == ""
    assert (part.choices.infill_percent, part.choices.quantity) == (35, 3)
    qtbot.waitUntil(lambda: part.stage is PartStage.PRICED, timeout=WAIT_MS)


# Not yet no_gui_thread_sql: the document editor it opens still reads on the GUI thread.
def test_quitting_with_unsaved_editor_changes_asks_first(
    qtbot: QtBot, ctx: AppContext, database: Database, tmp_path: Path
) -> None:
    make_client(database)
    main, quotes_page, _ = open_main_window(qtbot, ctx, make_shell(tmp_path))
    main.shell.show("quotes")
    qtbot.mouseClick(quotes_page.new_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: quotes_page.editing and not quotes_page.editor_model.busy)
    qtbot.keyClicks(quotes_page.editor.notes, "Matte black, pick-up Friday")
    qtbot.waitUntil(lambda: quotes_page.editor_model.dirty)
    qtbot.keyClick(quotes_page.editor.notes, Qt.Key.Key_Q, Qt.KeyboardModifier.ControlModifier)
    prompt = main.close_prompt
    assert prompt is not None
    qtbot.waitUntil(prompt.isVisible)
    assert "the quote being edited has unsaved changes" in prompt.informativeText()
    assert main.isVisible()
    assert main.quit_button is not None
    qtbot.mouseClick(main.quit_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not main.isVisible())


@pytest.mark.no_gui_thread_sql
@needs_cura
def test_every_object_of_the_3mf_is_sliced_by_curaengine(qtbot: QtBot, ctx: AppContext) -> None:
    vm = QuickOrderViewModel(ctx, reslice_delay_ms=50)
    try:
        vm.add_files([PYRAMIDS])
        qtbot.waitUntil(lambda: len(vm.parts) == 9, timeout=WAIT_MS)
        wait_priced(qtbot, vm)
        quotes = [p.quote for p in vm.parts]
        assert all(q is not None and not q.estimated for q in quotes)
        assert all(q is not None and q.slice is not None for q in quotes)
    finally:
        vm.close()
        vm.batch.wait()
