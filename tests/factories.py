"""Small builders for test data, written through the ORM the way a seed script would."""

from __future__ import annotations

from decimal import Decimal

from core.db.engine import Database
from core.db.models import Client
from core.services.line_items import ItemInput


def make_client(database: Database, name: str = "Ada Lovelace", email: str | None = None) -> int:
    with database.session() as s, s.begin():
        client = Client(name=name, email=email or "ada@example.com", payment_terms_days=14)
        s.add(client)
        s.flush()
        return client.id


def item(description: str = "Bracket, PLA", qty: str = "1", price: str = "100.00") -> ItemInput:
    return ItemInput(description=description, quantity=Decimal(qty), unit_price=Decimal(price))
