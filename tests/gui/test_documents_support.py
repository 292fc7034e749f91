"""What the quote and invoice screen tests share: a context, a shell, and a believable shop."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QWidget
from pytestqt.qtbot import QtBot
from sqlalchemy import func, select

from core.actor import Actor
from core.db.engine import Database
from core.db.models import Client, Invoice, Payment, Quote
from core.enums import DiscountType, InvoiceStatus, PaymentMethod, QuoteStatus
from core.services import invoices, payments, quotes
from core.services.line_items import DocumentTerms, ItemInput
from desktop.viewmodels.context import AppContext
from desktop.viewmodels.notifier import Notice, Notifier
from desktop.viewmodels.shell import ShellViewModel
from desktop.views.documents import DocumentsPage, build_invoices_page, build_quotes_page
from desktop.views.main_window import MainWindow
from desktop.views.page import PlaceholderPage
from workers.tasks import TaskRunner

CLIENTS = (
    ("Ada Lovelace", "Analytical Engines Pty Ltd", "ada@engines.example"),
    ("Grace Hopper", "Compiler Works", "grace@compilers.example"),
    ("Alan Turing", None, "alan@bletchley.example"),
    ("Hedy Lamarr", "Frequency Hopping Co", "hedy@fhss.example"),
    ("Katherine Johnson", "Orbital Maths", "katherine@orbits.example"),
    ("Linus Pauling", None, "linus@chem.example"),
    ("Mary Anning", "Jurassic Coast Fossils", "mary@fossils.example"),
    ("Nikola Tesla", "Alternating Current Ltd", "nikola@ac.example"),
)
PARTS = (
    ("Drone arm bracket, PETG black", "4", "18.40"),
    ("Enclosure lid, PLA grey, 0.2 mm", "2", "36.75"),
    ("Gear set (12 pcs), nylon", "1", "84.00"),
    ("Architectural model, 1:200, resin", "1", "265.00"),
    ("Cable clips, TPU", "25", "1.35"),
    ("Replacement knob, ABS", "6", "7.90"),
    ("Cosplay helmet, 3 parts, sanded", "1", "189.00"),
    ("Prototype housing, PLA+", "3", "42.50"),
)


class Notices:
    """Everything the notifier said, for tests to read."""

    def __init__(self, notifier: Notifier) -> None:
        self.all: list[Notice] = []
        notifier.posted.connect(self.all.append)

    @property
    def texts(self) -> list[str]:
        return [n.text for n in self.all]


def make_ctx(database: Database, actor: Actor) -> AppContext:
    return AppContext(db=database, actor=actor, notifier=Notifier(), runner=TaskRunner())


def make_shell(tmp_path: Path) -> ShellViewModel:
    settings = QSettings(str(tmp_path / "shell.ini"), QSettings.Format.IniFormat)
    return ShellViewModel(user_label="Test Admin", database_label="test", settings=settings)


def add_clients(database: Database) -> list[int]:
    with database.session() as s, s.begin():
        rows = [
            Client(name=name, company=company, email=email, payment_terms_days=14)
            for name, company, email in CLIENTS
        ]
        s.add_all(rows)
        s.flush()
        return [r.id for r in rows]


def items(n: int, start: int = 0) -> list[ItemInput]:
    picked = [PARTS[(start + i) % len(PARTS)] for i in range(n)]
    return [ItemInput(d, Decimal(q), Decimal(p)) for d, q, p in picked]


@dataclass(frozen=True)
class Shop:
    clients: list[int]
    showcase_invoice: int
    showcase_quote: int


def showcase_invoice(database: Database, actor: Actor, client_id: int) -> int:
    """Six lines, a line discount, a document discount, shipping and a part payment."""
    lines = items(6)
    lines[2] = ItemInput(
        lines[2].description,
        lines[2].quantity,
        lines[2].unit_price,
        DiscountType.PERCENT,
        Decimal("15"),
    )
    terms = DocumentTerms(
        discount_type=DiscountType.PERCENT,
        discount_value=Decimal("5"),
        shipping_label="Metro",
        shipping_amount=Decimal("12.50"),
        notes="Black PETG for the arms; pick-up after 3 pm.",
    )
    today = dt.date.today()
    with database.session() as s:
        inv = invoices.create_invoice(
            s, actor, client_id, lines, terms, issue_date=today, due_date=today + dt.timedelta(14)
        )
    with database.session() as s:
        payments.record_payment(
            s,
            actor,
            inv.id,
            payments.NewPayment(Decimal("250.00"), PaymentMethod.BANK_TRANSFER, "Deposit 0417"),
        )
    return inv.id


def seed_shop(database: Database, actor: Actor, per_status: int = 5) -> Shop:
    """Clients, and quotes and invoices in every status (five of each by default)."""
    clients = add_clients(database)
    today = dt.date.today()
    n = 0

    def client() -> int:
        return clients[n % len(clients)]

    def new_quote() -> int:
        nonlocal n
        n += 1
        with database.session() as s:
            return quotes.create_quote(s, actor, client(), items(1 + n % 3, n)).id

    for status in QuoteStatus:
        for _ in range(per_status):
            quote_id = new_quote()
            with database.session() as s:
                if status is QuoteStatus.PENDING:
                    quotes.send_quote(s, actor, quote_id)
                elif status is QuoteStatus.ACCEPTED:
                    quotes.accept_quote(s, actor, quote_id)
                elif status is QuoteStatus.DECLINED:
                    quotes.decline_quote(s, actor, quote_id)
                elif status is QuoteStatus.CONVERTED:
                    quotes.convert_to_invoice(s, actor, quote_id)

    def new_invoice(days_ago: int, due_in: int) -> int:
        nonlocal n
        n += 1
        issued = today - dt.timedelta(days=days_ago)
        with database.session() as s:
            return invoices.create_invoice(
                s,
                actor,
                client(),
                items(1 + n % 4, n),
                DocumentTerms(shipping_label="Metro", shipping_amount=Decimal("12.50")),
                issue_date=issued,
                due_date=issued + dt.timedelta(days=due_in),
            ).id

    for i in range(per_status):
        new_invoice(days_ago=i, due_in=14)  # pending
        overdue = new_invoice(days_ago=30 + i * 9, due_in=14)
        if i % 2:
            with database.session() as s:
                payments.record_payment(
                    s, actor, overdue, payments.NewPayment(Decimal("20.00"), PaymentMethod.CASH)
                )
        paid = new_invoice(days_ago=10 + i, due_in=14)
        with database.session() as s:
            owed = invoices.get_invoice(s, paid).balance_due
        with database.session() as s:
            payments.record_payment(
                s, actor, paid, payments.NewPayment(owed, PaymentMethod.BANK_TRANSFER, f"BT-{i}")
            )
        void = new_invoice(days_ago=20 + i, due_in=14)
        with database.session() as s:
            invoices.void_invoice(s, actor, void, "Ordered twice")
        written_off = new_invoice(days_ago=120 + i, due_in=14)
        with database.session() as s:
            invoices.write_off_invoice(s, actor, written_off, "Client moved overseas")
    showcase = showcase_invoice(database, actor, clients[0])
    with database.session() as s:
        quote = quotes.create_quote(
            s,
            actor,
            clients[1],
            items(4, 2),
            DocumentTerms(shipping_label="Regional", shipping_amount=Decimal("18.50")),
        )
    return Shop(clients, showcase, quote.id)


def count(
    database: Database, model: type[Quote] | type[Invoice] | type[Payment], **where: str
) -> int:
    query = select(func.count()).select_from(model)
    for column, value in where.items():
        query = query.where(getattr(model, column) == value)
    with database.session() as s:
        return int(s.scalar(query) or 0)


def test_the_seeded_shop_has_every_status(database: Database, admin: Actor) -> None:
    seed_shop(database, admin, per_status=1)
    for status in QuoteStatus:
        assert count(database, Quote, status=status.value) >= 1
    for istatus in InvoiceStatus:
        assert count(database, Invoice, status=istatus.value) >= 1


def open_main_window(
    qtbot: QtBot, ctx: AppContext, shell: ShellViewModel
) -> tuple[MainWindow, DocumentsPage, DocumentsPage]:
    """The app's main window with the real Quotes and Invoices screens (others as placeholders)."""
    quotes_page = build_quotes_page(ctx, shell)
    invoices_page = build_invoices_page(ctx, shell)
    assert isinstance(quotes_page, DocumentsPage) and isinstance(invoices_page, DocumentsPage)
    pages: dict[str, QWidget] = {
        s.key: PlaceholderPage(s.title, "Not part of this test.") for s in shell.screens
    }
    pages["quotes"], pages["invoices"] = quotes_page, invoices_page
    window = MainWindow(shell, pages, ctx.notifier)
    qtbot.addWidget(window)
    window.resize(1240, 860)
    window.show()
    qtbot.waitExposed(window)
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    return window, quotes_page, invoices_page
