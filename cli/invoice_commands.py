"""`printdesk invoice …`: make, show, pay, refund, void, write off and delete invoices."""

from __future__ import annotations

from typing import Annotated

import typer

from cli.documents import add_create_command, invoice_json
from cli.file_commands import drain_after_delete
from cli.storage_commands import shop_storage
from cli.support import ACTOR, database, emit, fail, run
from core.enums import PaymentMethod
from core.errors import InvalidInput
from core.money import MoneyError, format_money, parse_money
from core.services import invoices, payments
from core.services.invoices import InvoiceView
from core.services.payments import NewPayment, NewRefund

app = typer.Typer(help="Invoices: create, show, pay, refund, void, delete.", no_args_is_help=True)

JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object.")]
MANUAL_METHODS = {
    "cash": PaymentMethod.CASH,
    "bank_transfer": PaymentMethod.BANK_TRANSFER,
    "other": PaymentMethod.OTHER,
}


def _line(inv: InvoiceView) -> str:
    return (
        f"{inv.number} ({inv.display_status}) for {inv.client_name}: total "
        f"{format_money(inv.total, inv.currency)}, balance due "
        f"{format_money(inv.balance_due, inv.currency)} [id {inv.id}]"
    )


add_create_command(
    app,
    doc="Create an invoice (prices exclude tax unless the shop's settings say otherwise).",
    create=lambda s, items, terms, client: invoices.create_invoice(s, ACTOR, client, items, terms),
    to_json=invoice_json,
    line=_line,
)


@app.command("show")
def show(invoice_id: int, as_json: JsonOpt = False) -> None:
    """Show an invoice with its items, payments and refunds."""
    with database() as db, db.session() as s:
        inv = run(lambda: invoices.get_invoice(s, invoice_id))
    if as_json:
        emit(invoice_json(inv), as_json=True)
        return
    typer.echo(_line(inv))
    for i in inv.items:
        typer.echo(
            f"  {i.quantity.normalize()} × {i.description} @ {i.unit_price} = {i.line_total}"
        )
    for p in inv.payments:
        typer.echo(
            f"  paid {format_money(p.amount, p.currency)} by {p.method.value.lower()}"
            f" {p.reference or ''}".rstrip()
        )
    for r in inv.refunds:
        typer.echo(f"  refunded {format_money(r.amount, r.currency)} {r.reason or ''}".rstrip())


@app.command("list")
def list_(
    status: Annotated[
        str | None, typer.Option(help="PENDING, PART_PAID, PAID, VOID, WRITTEN_OFF, OVERDUE")
    ] = None,
    search: Annotated[str, typer.Option(help="Number, client name or email.")] = "",
    limit: int = 50,
    as_json: JsonOpt = False,
) -> None:
    """List invoices, newest first."""
    known = {"PENDING", "PART_PAID", "PAID", "VOID", "WRITTEN_OFF", "OVERDUE"}
    if status and status.upper() not in known:
        fail(f"Unknown status {status!r}: use {', '.join(sorted(known))}.")
    flt = invoices.InvoiceFilter(status=status.upper() if status else None, text=search)
    with database() as db, db.session() as s:
        rows = invoices.list_invoices(s, flt, limit=limit)
    if as_json:
        emit(
            {
                "invoices": [
                    {
                        "id": r.id,
                        "number": r.number,
                        "status": r.display_status,
                        "client": r.client_name,
                        "total": r.total,
                        "balance_due": r.balance_due,
                        "due_date": r.due_date,
                    }
                    for r in rows
                ]
            },
            as_json=True,
        )
        return
    for r in rows:
        typer.echo(
            f"{r.number:<12} {r.display_status:<12} {r.client_name:<30} "
            f"{format_money(r.total, r.currency):>14} due {r.due_date}"
        )


@app.command("pay")
def pay(
    invoice_id: int,
    amount: Annotated[str, typer.Option(help="Amount received, e.g. 110.00.")],
    method: Annotated[str, typer.Option(help="cash, bank_transfer or other.")],
    reference: Annotated[str | None, typer.Option(help="Receipt or transfer reference.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Record a payment taken at the counter (partial payments are fine)."""
    chosen = MANUAL_METHODS.get(method.lower())
    if chosen is None:
        fail(f"Unknown method {method!r}: use cash, bank_transfer or other.")

    def action() -> InvoiceView:
        try:
            value = parse_money(amount, "payment amount", allow_zero=False)
        except MoneyError as exc:
            raise InvalidInput(str(exc)) from None
        with database() as db, db.session() as s:
            return payments.record_payment(
                s, ACTOR, invoice_id, NewPayment(value, chosen, reference=reference)
            )

    inv = run(action)
    emit(invoice_json(inv), as_json=as_json, text=f"Payment recorded. {_line(inv)}")


@app.command("refund")
def refund(
    payment_id: int,
    amount: Annotated[str, typer.Option(help="Amount given back.")],
    reason: Annotated[str | None, typer.Option(help="Why.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Record a refund of (part of) a payment."""

    def action() -> InvoiceView:
        try:
            value = parse_money(amount, "refund amount", allow_zero=False)
        except MoneyError as exc:
            raise InvalidInput(str(exc)) from None
        with database() as db, db.session() as s:
            return payments.record_refund(s, ACTOR, NewRefund(payment_id, value, reason=reason))

    inv = run(action)
    emit(invoice_json(inv), as_json=as_json, text=f"Refund recorded. {_line(inv)}")


@app.command("void")
def void(
    invoice_id: int,
    reason: Annotated[str, typer.Option(help="Why it is void.")] = "",
    as_json: JsonOpt = False,
) -> None:
    """Void an invoice that has nothing paid on it."""
    with database() as db, db.session() as s:
        inv = run(lambda: invoices.void_invoice(s, ACTOR, invoice_id, reason))
    emit(invoice_json(inv), as_json=as_json, text=f"Voided {_line(inv)}")


@app.command("write-off")
def write_off(
    invoice_id: int,
    reason: Annotated[str, typer.Option(help="Why it will not be paid.")] = "",
    as_json: JsonOpt = False,
) -> None:
    """Write off what is still owed on an invoice."""
    with database() as db, db.session() as s:
        inv = run(lambda: invoices.write_off_invoice(s, ACTOR, invoice_id, reason))
    emit(invoice_json(inv), as_json=as_json, text=f"Written off {_line(inv)}")


@app.command("delete")
def delete(invoice_id: int, as_json: JsonOpt = False) -> None:
    """Delete an invoice with no payments; its files are removed from storage too."""
    with database() as db:
        with db.session() as s:
            number = run(lambda: invoices.delete_invoice(s, ACTOR, invoice_id))
        # Committed: the objects of its files go now, not at the next maintenance run.
        with shop_storage() as storage:
            drain_after_delete(db, storage)
    emit(
        {"id": invoice_id, "number": number, "deleted": True},
        as_json=as_json,
        text=f"Deleted {number}.",
    )
