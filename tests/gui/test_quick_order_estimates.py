"""With no slicer, Quick order marks each estimated part and asks before the document is made;
the view model never waits for the answer, and nothing is made until the person agrees."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pytestqt.qtbot import QtBot
from sqlalchemy import func, select

from core.db.engine import Database
from core.db.models import Invoice, Quote
from desktop.viewmodels.context import AppContext
from desktop.viewmodels.documents import DocumentKind
from desktop.viewmodels.quick_order import QuickOrderViewModel
from desktop.viewmodels.quick_order_parts import (
    ESTIMATE_BADGE,
    PartStage,
    estimate_badge,
    estimates_question,
)
from tests.factories import make_client
from tests.gui.test_quick_order_vm import CUBE, WALLHOLE
from workers.slicing_batch import SliceBatch

pytestmark = pytest.mark.no_gui_thread_sql


@pytest.fixture
def vm(qtbot: QtBot, ctx: AppContext) -> Iterator[QuickOrderViewModel]:
    model = QuickOrderViewModel(ctx, batch=SliceBatch(lambda: None), reslice_delay_ms=0)
    qtbot.waitUntil(lambda: not model.catalog_loading)  # printers and materials read
    yield model
    model.close()
    model.batch.wait()


def _documents(database: Database) -> int:
    with database.session() as s:
        quotes = s.scalar(select(func.count()).select_from(Quote)) or 0
        invoices = s.scalar(select(func.count()).select_from(Invoice)) or 0
    return quotes + invoices


def test_estimated_parts_are_marked_and_confirmed_before_the_invoice(
    qtbot: QtBot, vm: QuickOrderViewModel, database: Database
) -> None:
    vm.set_client(make_client(database))
    qtbot.waitUntil(lambda: vm.client is not None)  # read off the GUI thread
    vm.add_files([CUBE, WALLHOLE])
    qtbot.waitUntil(lambda: all(p.stage is PartStage.PRICED for p in vm.parts), timeout=60_000)
    assert [estimate_badge(p) for p in vm.parts] == [ESTIMATE_BADGE, ESTIMATE_BADGE]
    assert vm.estimated_count == 2 and vm.can_make

    with qtbot.waitSignal(vm.estimates_to_confirm, timeout=1000) as asked:
        assert vm.make_invoice() is False  # returns at once: the view asks
    kind, question = asked.args
    assert kind == "invoice" and question.startswith("All 2 lines are priced by an estimate")
    assert not vm.making and _documents(database) == 0

    with qtbot.waitSignal(vm.document_made, timeout=60_000) as made:
        assert vm.make_confirmed(kind)
    assert made.args[0].kind is DocumentKind.INVOICE and _documents(database) == 1


def test_the_question_counts_the_lines() -> None:
    assert estimates_question(0, 3, "quote") == ""
    assert estimates_question(1, 1, "quote").startswith("The line is priced by an estimate")
    assert estimates_question(1, 3, "quote").startswith("1 line is priced by an estimate")
    assert estimates_question(2, 3, "invoice").startswith("2 lines are priced by an estimate")
    assert "client's invoice shows them as ordinary lines" in estimates_question(2, 2, "invoice")
