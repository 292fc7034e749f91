"""The editor's view model without a single widget: totals as typed, saving, conflicts, refusals."""

from __future__ import annotations

from decimal import Decimal

import pytest
from pytestqt.qtbot import QtBot

from core.actor import Actor
from core.db.engine import Database
from core.db.models import Invoice, Payment, Quote
from core.enums import DiscountType, InvoiceStatus, PaymentMethod, QuoteStatus
from core.services import invoices, payments, quotes
from core.services import settings as shop_settings
from core.services.line_items import DocumentTerms
from desktop.viewmodels.document_editor import DocumentEditorViewModel, LineColumn
from desktop.viewmodels.documents import DocumentKind
from desktop.viewmodels.payment import PaymentViewModel
from tests.factories import item, make_client
from tests.gui.editor_support import act, opened, refreshed, save, started, submitted
from tests.gui.sql_watch import counting
from tests.gui.test_documents_support import Notices, count, make_ctx

pytestmark = pytest.mark.no_gui_thread_sql

AWKWARD = (
    # description, quantity, unit price, line discount
    ("Gear, nylon", "3", "0.33", ""),
    ("Bracket, PETG", "7", "1.15", "0.05"),
    ("Prototype housing", "0.333", "99.99", "12.5%"),
    ("Logo plate", "1.5", "19.99", "33.33%"),
    ("Cable clips", "17", "0.07", ""),
)


def type_lines(vm: DocumentEditorViewModel, lines: tuple[tuple[str, str, str, str], ...]) -> None:
    for row, (description, quantity, price, discount) in enumerate(lines):
        if row >= vm.lines.rowCount():
            vm.add_line()
        vm.set_line_field(row, LineColumn.DESCRIPTION, description)
        vm.set_line_field(row, LineColumn.QUANTITY, quantity)
        vm.set_line_field(row, LineColumn.UNIT_PRICE, price)
        vm.set_line_field(row, LineColumn.DISCOUNT, discount)


def new_editor(
    qtbot: QtBot, database: Database, actor: Actor, kind: DocumentKind, client_id: int
) -> DocumentEditorViewModel:
    vm = DocumentEditorViewModel(make_ctx(database, actor), kind)
    started(qtbot, vm, client_id)
    return vm


@pytest.mark.parametrize("inclusive", [False, True])
@pytest.mark.parametrize("kind", [DocumentKind.QUOTE, DocumentKind.INVOICE])
def test_totals_as_typed_are_the_totals_the_service_saves(
    qtbot: QtBot, database: Database, admin: Actor, kind: DocumentKind, inclusive: bool
) -> None:
    with database.session() as s:
        shop_settings.update_settings(
            s, admin, {"tax": {"rate": "0.15", "inclusive": inclusive, "name": "GST"}}
        )
    client = make_client(database)
    vm = new_editor(qtbot, database, admin, kind, client)
    type_lines(vm, AWKWARD)
    vm.set_discount_type(DiscountType.PERCENT)
    vm.set_discount_text("7.5")
    other = len(vm.shipping_choices) - 1
    vm.choose_shipping(other)
    vm.set_shipping_text("9.99")
    shown = vm.totals
    assert shown is not None and not vm.problems
    assert vm.tax_text.startswith("GST 15 %")

    assert save(qtbot, vm)
    saved = vm.document
    assert saved is not None
    assert (saved.subtotal, saved.discount_total, saved.tax_total, saved.total) == (
        shown.subtotal,
        shown.discount_total,
        shown.tax_total,
        shown.total,
    )
    assert saved.tax_inclusive is inclusive
    # and the service's own line totals are the ones the table showed while typing
    assert [i.line_total for i in saved.items] == [c.total for c in vm.lines.checked]


def test_totals_follow_each_keystroke(qtbot: QtBot, database: Database, admin: Actor) -> None:
    vm = new_editor(qtbot, database, admin, DocumentKind.QUOTE, make_client(database))
    seen: list[str] = []
    vm.totals_changed.connect(lambda: seen.append(vm.money(vm.totals.total if vm.totals else None)))
    vm.set_line_field(0, LineColumn.DESCRIPTION, "Bracket")
    for typed in ("1", "12", "12.", "12.5"):
        vm.set_line_field(0, LineColumn.UNIT_PRICE, typed)
    vm.set_line_field(0, LineColumn.QUANTITY, "3")
    # 3 × 12.50 = 37.50 + GST 10 % = 41.25
    assert seen[-1] == "A$41.25"
    assert "A$13.75" in seen  # 12.50 × 1 + tax, on the way there
    assert vm.dirty


def test_save_writes_the_rows_and_keeps_the_order(
    qtbot: QtBot, database: Database, admin: Actor
) -> None:
    vm = new_editor(qtbot, database, admin, DocumentKind.QUOTE, make_client(database))
    type_lines(vm, AWKWARD[:3])
    vm.move_line(2, -1)  # the housing goes up to line 2
    vm.set_notes("Black, matte finish")
    assert save(qtbot, vm)
    assert not vm.dirty
    assert vm.number == "QT-0001"
    quote_id = vm.document_id
    assert quote_id is not None
    with database.session() as s:
        saved = quotes.get_quote(s, quote_id)
    assert [i.description for i in saved.items] == [
        "Gear, nylon",
        "Prototype housing",
        "Bracket, PETG",
    ]
    assert saved.items[1].discount_type is DiscountType.PERCENT
    assert saved.items[1].discount_value == Decimal("12.50")
    assert saved.items[2].discount_type is DiscountType.FIXED
    assert saved.notes == "Black, matte finish"

    # editing it again updates the same quote with its version
    vm.remove_line(0)
    assert save(qtbot, vm)
    with database.session() as s:
        again = quotes.get_quote(s, quote_id)
    assert len(again.items) == 2 and again.version > saved.version


def test_problems_are_shown_inline_in_the_services_words(
    qtbot: QtBot, database: Database, admin: Actor
) -> None:
    vm = new_editor(qtbot, database, admin, DocumentKind.INVOICE, make_client(database))
    type_lines(vm, (("Bracket", "1", "10.00", ""), ("Gear", "0", "5.00", "")))
    assert vm.problems == ["Line 2: the quantity must be more than zero."]
    vm.set_line_field(1, LineColumn.QUANTITY, "2")
    vm.set_line_field(1, LineColumn.UNIT_PRICE, "5.005")
    assert vm.problems == ["Line 2: the unit price 5.005 has more than two decimals."]
    vm.set_line_field(1, LineColumn.UNIT_PRICE, "5")
    vm.set_line_field(1, LineColumn.DISCOUNT, "12.00")
    assert vm.problems == [
        "Line 2: the line discount (12.00) is more than the 10.00 it applies to."
    ]
    vm.set_line_field(1, LineColumn.DISCOUNT, "")
    vm.set_discount_type(DiscountType.PERCENT)
    vm.set_discount_text("120")
    assert vm.problems == ["The discount cannot be more than 100 %."]
    assert vm.totals is None

    assert not save(qtbot, vm)  # nothing is written, and every typed value is still there
    assert count(database, Invoice) == 0
    assert vm.discount_text == "120"
    assert [line.quantity for line in vm.lines.lines] == ["1", "2"]


def test_a_new_document_needs_a_client(qtbot: QtBot, database: Database, admin: Actor) -> None:
    vm = DocumentEditorViewModel(make_ctx(database, admin), DocumentKind.QUOTE)
    started(qtbot, vm)
    type_lines(vm, (("Bracket", "1", "10.00", ""),))
    assert not save(qtbot, vm)
    assert vm.problems == ["Choose the client this quote is for."]
    assert count(database, Quote) == 0


def test_a_change_at_another_counter_is_never_overwritten(
    qtbot: QtBot, database: Database, admin: Actor
) -> None:
    client = make_client(database)
    with database.session() as s:
        quote = quotes.create_quote(s, admin, client, [item("Bracket", "2", "10.00")])
    vm = DocumentEditorViewModel(make_ctx(database, admin), DocumentKind.QUOTE)
    assert opened(qtbot, vm, quote.id)
    # another counter edits the same quote first
    with database.session() as s:
        quotes.update_quote(
            s,
            admin,
            quote.id,
            [item("Bracket", "5", "10.00")],
            DocumentTerms(),
            expected_version=quote.version,
        )
    vm.set_line_field(0, LineColumn.QUANTITY, "3")
    assert not save(qtbot, vm)
    assert vm.stale and "changed at another counter" in vm.stale_message
    assert vm.lines.lines[0].quantity == "3"  # what was typed is still there
    with database.session() as s:
        assert quotes.get_quote(s, quote.id).items[0].quantity == Decimal("5")

    act(qtbot, vm, "reload", vm.reload)
    assert not vm.stale and not vm.dirty
    assert vm.lines.lines[0].quantity == "5"


def test_refresh_follows_a_clean_editor_and_warns_a_dirty_one(
    qtbot: QtBot, database: Database, admin: Actor
) -> None:
    client = make_client(database)
    with database.session() as s:
        inv = invoices.create_invoice(s, admin, client, [item("Bracket", "1", "40.00")])
    vm = DocumentEditorViewModel(make_ctx(database, admin), DocumentKind.INVOICE)
    assert opened(qtbot, vm, inv.id)
    with database.session() as s:
        payments.record_payment(
            s, admin, inv.id, payments.NewPayment(Decimal("4.00"), PaymentMethod.CASH)
        )
    refreshed(qtbot, vm)
    assert not vm.stale
    assert vm.amount_paid == Decimal("4.00") and len(vm.payments) == 1

    vm.set_notes("Call before delivery")
    with database.session() as s:
        payments.record_payment(
            s, admin, inv.id, payments.NewPayment(Decimal("6.00"), PaymentMethod.CASH)
        )
    refreshed(qtbot, vm)
    assert vm.stale and vm.notes == "Call before delivery"


def test_a_refused_save_keeps_what_was_typed(
    qtbot: QtBot, database: Database, admin: Actor
) -> None:
    client = make_client(database)
    with database.session() as s:
        inv = invoices.create_invoice(s, admin, client, [item("Bracket", "2", "50.00")])
    with database.session() as s:
        payments.record_payment(
            s, admin, inv.id, payments.NewPayment(Decimal("100.00"), PaymentMethod.CASH)
        )
    vm = DocumentEditorViewModel(make_ctx(database, admin), DocumentKind.INVOICE)
    assert opened(qtbot, vm, inv.id)
    vm.set_line_field(0, LineColumn.QUANTITY, "1")  # the total would go below what was paid
    assert not save(qtbot, vm)
    assert "has 100.00 paid; its total cannot go below that" in vm.error
    assert not vm.stale and vm.dirty
    assert vm.lines.lines[0].quantity == "1"
    with database.session() as s:
        assert invoices.get_invoice(s, inv.id).items[0].quantity == Decimal("2")


def test_quote_actions_through_to_the_invoice(
    qtbot: QtBot, database: Database, admin: Actor
) -> None:
    vm = new_editor(qtbot, database, admin, DocumentKind.QUOTE, make_client(database))
    type_lines(vm, (("Bracket", "2", "25.00", ""),))
    assert save(qtbot, vm)
    assert [a.key for a in vm.actions() if a.visible] == [
        "save",
        "send",
        "accept",
        "convert",
        "decline",
        "duplicate",
        "delete",
    ]
    assert act(qtbot, vm, "send", vm.send) and vm.status == "PENDING"
    assert act(qtbot, vm, "accept", vm.accept) and vm.status == "ACCEPTED"
    assert not vm.editable
    with qtbot.waitSignal(vm.open_document) as opened:
        invoice = act(qtbot, vm, "convert", vm.convert)
    assert invoice is not None
    assert opened.args == ["invoice", invoice.id]
    assert vm.status == "CONVERTED"
    assert vm.action("open_invoice") is not None and vm.action("open_invoice").visible  # type: ignore[union-attr]
    with database.session() as s:
        assert invoices.get_invoice(s, invoice.id).total == Decimal("55.00")


def test_actions_save_pending_edits_first(qtbot: QtBot, database: Database, admin: Actor) -> None:
    vm = new_editor(qtbot, database, admin, DocumentKind.QUOTE, make_client(database))
    type_lines(vm, (("Bracket", "2", "25.00", ""),))
    assert save(qtbot, vm)
    vm.set_line_field(0, LineColumn.QUANTITY, "4")
    assert act(qtbot, vm, "send", vm.send)
    assert vm.document is not None and vm.document.total == Decimal("110.00")


def test_staff_see_why_they_cannot_delete(qtbot: QtBot, database: Database, staff: Actor) -> None:
    vm = new_editor(qtbot, database, staff, DocumentKind.INVOICE, make_client(database))
    type_lines(vm, (("Bracket", "1", "25.00", ""),))
    assert save(qtbot, vm)
    delete = vm.action("delete")
    assert delete is not None and delete.visible and not delete.enabled
    assert delete.tooltip == "Only an admin may delete invoices."
    assert not act(qtbot, vm, "delete", vm.delete)
    assert vm.error == "Only an admin may delete invoices."
    assert count(database, Invoice) == 1


def test_duplicate_opens_the_copy(qtbot: QtBot, database: Database, admin: Actor) -> None:
    vm = new_editor(qtbot, database, admin, DocumentKind.QUOTE, make_client(database))
    type_lines(vm, (("Bracket", "2", "25.00", ""),))
    assert save(qtbot, vm)
    assert act(qtbot, vm, "decline", vm.decline)
    assert act(qtbot, vm, "duplicate", vm.duplicate)
    assert vm.number == "QT-0002" and vm.status == "DRAFT" and vm.editable
    assert count(database, Quote, status=QuoteStatus.DECLINED.value) == 1


def test_part_payment_then_overpayment(qtbot: QtBot, database: Database, admin: Actor) -> None:
    client = make_client(database)
    with database.session() as s:
        inv = invoices.create_invoice(s, admin, client, [item("Bracket", "1", "100.00")])
    ctx = make_ctx(database, admin)
    notices = Notices(ctx.notifier)
    form = PaymentViewModel(ctx, inv)
    assert form.amount_text == "110.00"  # the balance, tax included
    assert form.hint == "This pays the invoice in full."
    form.set_amount("40")
    form.set_method(PaymentMethod.BANK_TRANSFER)
    form.set_reference("BT 2231")
    assert form.hint == "A part payment: A$70.00 will still be owed."
    with pytest.raises(ValueError):
        form.set_method(PaymentMethod.STRIPE)
    with counting(database.engine) as statements:
        assert submitted(qtbot, form)
    assert len(statements) <= 5, statements  # the service's own, nothing more from the form
    assert any("A$70.00 still owed" in text for text in notices.texts)
    with database.session() as s:
        after = invoices.get_invoice(s, inv.id)
    assert after.balance_due == Decimal("70.00") and after.status is InvoiceStatus.PENDING
    assert after.payments[0].reference == "BT 2231"

    again = PaymentViewModel(ctx, after)
    again.set_amount("70.01")
    again.set_method(PaymentMethod.BANK_TRANSFER)  # cash over the balance gives change instead
    assert not again.can_submit
    assert again.problem == "A$70.01 is more than the A$70.00 still owed on INV-0001."
    assert not submitted(qtbot, again)
    assert again.error == "A$70.01 is more than the A$70.00 still owed on INV-0001."
    assert count(database, Payment) == 1
    again.set_amount("abc")
    assert not again.can_submit and "not a number" in again.problem


def test_opening_an_invoice_reads_in_three_statements(
    qtbot: QtBot, database: Database, admin: Actor
) -> None:
    """The shop's terms, the invoice with its lines, client, payments and refunds, and its
    attachments: however many lines and payments it has."""
    client = make_client(database)
    lines = [item(f"Part {n}", "1", "10.00") for n in range(6)]
    with database.session() as s:
        inv = invoices.create_invoice(s, admin, client, lines)
        for amount in ("5.00", "6.00"):
            payments.record_payment(
                s, admin, inv.id, payments.NewPayment(Decimal(amount), PaymentMethod.CASH)
            )
    vm = DocumentEditorViewModel(make_ctx(database, admin), DocumentKind.INVOICE)
    with counting(database.engine) as statements:
        assert opened(qtbot, vm, inv.id)
    assert vm.number == inv.number and len(vm.payments) == 2 and len(vm.lines.lines) == 6
    assert vm.amount_paid == Decimal("11.00")
    assert len(statements) <= 3, "\n".join(statements)
