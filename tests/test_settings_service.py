from __future__ import annotations

from decimal import Decimal

import pytest

from core.actor import Actor
from core.db.engine import Database
from core.errors import Conflict, InvalidInput, NotAllowed
from core.services import settings


def test_new_database_starts_with_the_original_terms(database: Database) -> None:
    with database.session() as s:
        shop, version = settings.get_settings(s)
    assert shop.currency == "AUD"
    assert shop.tax.rate == Decimal("0.10") and not shop.tax.inclusive
    assert shop.pricing.hourly_rate == Decimal("45.00")
    assert shop.pricing.setup_fee == Decimal("20.00")
    assert shop.pricing.minimum_price == Decimal("35.00")
    assert version == 1


def test_staff_may_not_change_settings(database: Database, staff: Actor) -> None:
    with database.session() as s, pytest.raises(NotAllowed, match="Only an admin"):
        settings.update_settings(s, staff, {"currency": "NZD"})


def test_stale_version_is_a_conflict(database: Database, admin: Actor) -> None:
    with database.session() as s:
        _, v = settings.update_settings(s, admin, {"tax": {"rate": "0.15"}}, expected_version=1)
        assert v == 2
        with pytest.raises(Conflict, match="changed elsewhere"):
            settings.update_settings(s, admin, {"currency": "NZD"}, expected_version=1)
        shop, _ = settings.get_settings(s)
    assert shop.tax.rate == Decimal("0.15") and shop.tax.name == "GST"
    assert shop.currency == "AUD"


def test_bad_value_is_refused_with_its_name(database: Database, admin: Actor) -> None:
    with database.session() as s, pytest.raises(InvalidInput, match=r"tax\.rate"):
        settings.update_settings(s, admin, {"tax": {"rate": "1.5"}})
