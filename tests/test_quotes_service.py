from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from core.actor import Actor
from core.db.engine import Database
from core.db.models import Invoice, Job, Quote
from core.enums import QuoteStatus
from core.errors import Conflict, NotAllowed
from core.services import quotes, settings
from core.services.line_items import DocumentTerms
from tests.factories import item, make_client


def _quote(database: Database, actor: Actor) -> quotes.QuoteView:
    client = make_client(database)
    with database.session() as s:
        return quotes.create_quote(s, actor, client, [item("Gear", "2", "45.50")])


def test_quote_lifecycle_send_accept_convert(database: Database, admin: Actor) -> None:
    q = _quote(database, admin)
    assert q.number == "QT-0001" and q.status is QuoteStatus.DRAFT
    assert q.total == Decimal("100.10")  # 91.00 + 9.10 GST
    with database.session() as s:
        assert quotes.send_quote(s, admin, q.id).status is QuoteStatus.PENDING
        assert quotes.accept_quote(s, admin, q.id).status is QuoteStatus.ACCEPTED
        inv = quotes.convert_to_invoice(s, admin, q.id)
        assert inv.number == "INV-0001" and inv.total == q.total
        assert inv.source_quote_id == q.id
        assert [i.description for i in inv.items] == ["Gear"]
        converted = quotes.get_quote(s, q.id)
        assert converted.status is QuoteStatus.CONVERTED
        assert converted.converted_invoice_id == inv.id
        with pytest.raises(Conflict, match="already converted to INV-0001"):
            quotes.convert_to_invoice(s, admin, q.id)
        with pytest.raises(Conflict, match="cannot be edited"):
            quotes.update_quote(s, admin, q.id, [item()], DocumentTerms(), expected_version=None)


def test_declined_quote_cannot_convert_but_can_be_duplicated(
    database: Database, admin: Actor
) -> None:
    q = _quote(database, admin)
    with database.session() as s:
        quotes.decline_quote(s, admin, q.id)
        with pytest.raises(Conflict, match="was declined"):
            quotes.convert_to_invoice(s, admin, q.id)
        copy = quotes.duplicate_quote(s, admin, q.id)
    assert copy.number == "QT-0002" and copy.status is QuoteStatus.DRAFT
    assert copy.total == q.total and copy.items[0].description == "Gear"


def test_conversion_that_fails_half_way_writes_nothing(database: Database, admin: Actor) -> None:
    """A database failure after the invoice is inserted (at the job) rolls everything back."""
    q = _quote(database, admin)
    with database.session() as s, s.begin():
        s.execute(
            text(
                "CREATE FUNCTION fail_job() RETURNS trigger LANGUAGE plpgsql AS "
                "$$ BEGIN RAISE EXCEPTION 'printer room on fire'; END $$"
            )
        )
        s.execute(
            text(
                "CREATE TRIGGER fail_job BEFORE INSERT ON jobs "
                "FOR EACH ROW EXECUTE FUNCTION fail_job()"
            )
        )
    with database.session() as s, pytest.raises(DBAPIError, match="printer room on fire"):
        quotes.convert_to_invoice(s, admin, q.id)
    with database.session() as s:
        assert s.scalar(select(func.count()).select_from(Invoice)) == 0
        assert s.scalar(select(func.count()).select_from(Job)) == 0
        assert s.scalar(select(Quote.status)) == "DRAFT"
        assert s.scalar(select(Quote.converted_invoice_id)) is None


def test_numbers_stay_unique_under_concurrent_creation(database: Database, admin: Actor) -> None:
    client = make_client(database)

    def create(_: int) -> str:
        with database.session() as s:
            return quotes.create_quote(s, admin, client, [item()]).number

    with ThreadPoolExecutor(max_workers=10) as pool:
        numbers = list(pool.map(create, range(40)))
    assert len(set(numbers)) == 40
    assert sorted(numbers) == [f"QT-{n:04d}" for n in range(1, 41)]


def test_saving_settings_never_resets_numbering(database: Database, admin: Actor) -> None:
    _quote(database, admin)
    with database.session() as s:
        settings.update_settings(s, admin, {"numbering": {"quote_prefix": "Q-", "digits": 5}})
    client = make_client(database, "Grace Hopper")
    with database.session() as s:
        assert quotes.create_quote(s, admin, client, [item()]).number == "Q-00002"


def test_only_admins_delete_quotes(database: Database, admin: Actor, staff: Actor) -> None:
    q = _quote(database, staff)
    with database.session() as s:
        with pytest.raises(NotAllowed, match="Only an admin may delete quotes"):
            quotes.delete_quote(s, staff, q.id)
        assert quotes.delete_quote(s, admin, q.id) == "QT-0001"
        assert quotes.list_quotes(s) == []


def test_list_filters_in_sql(database: Database, admin: Actor) -> None:
    q = _quote(database, admin)
    with database.session() as s:
        quotes.send_quote(s, admin, q.id)
        assert [r.number for r in quotes.list_quotes(s, quotes.QuoteFilter(status="PENDING"))] == [
            "QT-0001"
        ]
        assert quotes.list_quotes(s, quotes.QuoteFilter(status="DRAFT")) == []
        assert len(quotes.list_quotes(s, quotes.QuoteFilter(text="lovelace"))) == 1
