"""A shop, a client and documents made through the real services, for the PDF and mail tests."""

from __future__ import annotations

import io
from dataclasses import dataclass
from decimal import Decimal

import pypdf

from core.actor import Actor
from core.db.engine import Database
from core.enums import DiscountType, PaymentMethod
from core.services import clients, invoices, payments, quotes
from core.services import settings as shop_settings
from core.services.clients import ClientInput, ClientView
from core.services.invoices import InvoiceView
from core.services.line_items import DocumentTerms, ItemInput
from core.services.payments import NewPayment
from core.services.quotes import QuoteView
from core.shop_settings import ShopSettings

CLIENT_NAME = "Zoë Ångström 王"
CLIENT_EMAIL = "zoe@example.com"
PAYMENT_URL = (
    "https://checkout.stripe.com/c/pay/cs_test_a1B2c3D4e5F6g7H8i9J0kLmNoPqRsTuVwXyZ"
    "#fidkdWxOYHwnPyd1blpxYHZxWjA0TmRJdVJH"
)
BUSINESS = {
    "name": "Layer Lab 3D Printing",
    "tax_id": "51 824 753 556",
    "email": "hello@layerlab.example",
    "phone": "(03) 9123 4567",
    "address": "Unit 4, 18 Foundry Lane\nBrunswick VIC 3056",
    "website": "layerlab.example",
    "bank_details": "Account name: Layer Lab Pty Ltd\nBSB: 063-000\nAccount: 1234 5678",
}
TERMS = DocumentTerms(
    discount_type=DiscountType.PERCENT,
    discount_value=Decimal("10"),
    shipping_label="Metro",
    shipping_amount=Decimal("12.50"),
    notes="Parts ready for pick-up from Thursday.",
)


@dataclass(frozen=True)
class Shop:
    settings: ShopSettings
    client: ClientView


def set_up_shop(database: Database, admin: Actor, *, client_email: str = CLIENT_EMAIL) -> Shop:
    with database.session() as s:
        settings, _ = shop_settings.update_settings(s, admin, {"business": BUSINESS})
        client = clients.create_client(
            s,
            admin,
            ClientInput(
                name=CLIENT_NAME,
                email=client_email,
                company="Ångström Robotics",
                address="7 Harbour St\nSydney NSW 2000",
            ),
        )
    return Shop(settings, client)


def items(count: int) -> list[ItemInput]:
    return [
        ItemInput(
            description=f"Part {n:02d}: bracket, PLA black, 0.2 mm layers"
            + (
                ", printed with tree supports and a brim, sanded on the visible faces"
                * (n % 3 == 0)
            ),
            quantity=Decimal(1 + n % 4),
            unit_price=Decimal("19.95") + n,
        )
        for n in range(1, count + 1)
    ]


def make_invoice(
    database: Database, admin: Actor, shop: Shop, *, count: int = 10, paid: str | None = "50.00"
) -> InvoiceView:
    """An invoice with a discount, shipping, GST and (by default) a part payment."""
    with database.session() as s:
        invoice = invoices.create_invoice(s, admin, shop.client.id, items(count), TERMS)
        if paid is not None:
            amount = invoice.total if paid == "all" else Decimal(paid)
            invoice = payments.record_payment(
                s, admin, invoice.id, NewPayment(amount=amount, method=PaymentMethod.CASH)
            )
        return invoices.get_invoice(s, invoice.id)


def make_quote(database: Database, admin: Actor, shop: Shop, *, count: int = 4) -> QuoteView:
    with database.session() as s:
        return quotes.create_quote(s, admin, shop.client.id, items(count), TERMS)


def pdf_text(pdf: bytes) -> list[str]:
    """The text of each page, as a reader would copy it."""
    return [page.extract_text() for page in pypdf.PdfReader(io.BytesIO(pdf)).pages]
