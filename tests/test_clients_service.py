from __future__ import annotations

from dataclasses import replace

import pytest
from sqlalchemy import func, select

from core.actor import Actor
from core.db.engine import Database
from core.db.models import Client, Invoice, Quote
from core.errors import Conflict, InvalidInput, NotAllowed, NotFound
from core.services import activity, clients
from core.services.clients import ClientInput, ClientView

ADA = ClientInput(
    name="  Ada Lovelace ",
    email=" ada@example.com ",
    phone="0412 345 678",
    company="Analytical Engines",
    address="12 Babbage St\nLondon",
    tax_id="",
    payment_terms_days=30,
    notes="   ",
)


def _create(database: Database, actor: Actor, data: ClientInput = ADA) -> ClientView:
    with database.session() as s:
        return clients.create_client(s, actor, data)


def _client_count(database: Database) -> int:
    with database.session() as s:
        return s.scalar(select(func.count()).select_from(Client)) or 0


def test_staff_add_a_client_with_fields_trimmed_and_blanks_empty(
    database: Database, staff: Actor
) -> None:
    ada = _create(database, staff)

    assert (ada.name, ada.email, ada.phone, ada.company) == (
        "Ada Lovelace",
        "ada@example.com",
        "0412 345 678",
        "Analytical Engines",
    )
    assert (ada.tax_id, ada.notes, ada.payment_terms_days, ada.version) == (None, None, 30, 1)
    with database.session() as s:
        stored = s.get(Client, ada.id)
        assert stored is not None
        assert (stored.name, stored.tax_id, stored.address) == (
            "Ada Lovelace",
            None,
            "12 Babbage St\nLondon",
        )
        [entry] = activity.recent(s, entity_type="client", entity_id=ada.id)
    assert entry.action == "client.created" and entry.actor_label == "test staff"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"name": "   "}, "A client needs a name."),
        ({"name": "x" * 201}, "The name may be at most 200 characters."),
        ({"company": "x" * 201}, "The company may be at most 200 characters."),
        ({"phone": "1" * 65}, "The phone number may be at most 64 characters."),
        ({"tax_id": "1" * 65}, "The tax ID may be at most 64 characters."),
        ({"email": "ada.example.com"}, "ada.example.com is not a valid email address."),
        ({"email": "ada@example"}, "ada@example is not a valid email address."),
        ({"payment_terms_days": -1}, "Payment terms must be 0 to 365 days."),
        ({"payment_terms_days": 366}, "Payment terms must be 0 to 365 days."),
    ],
)
def test_bad_client_details_are_refused(
    database: Database, staff: Actor, change: dict[str, object], message: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        _create(database, staff, replace(ADA, **change))  # type: ignore[arg-type]
    assert str(refused.value) == message
    assert _client_count(database) == 0


def test_an_edit_saves_the_changes_and_bumps_the_version(database: Database, staff: Actor) -> None:
    ada = _create(database, staff)
    edited = replace(ADA, phone="0499 000 111", payment_terms_days=0, notes="Prefers PETG")
    with database.session() as s:
        saved = clients.update_client(s, staff, ada.id, edited, expected_version=1)

    assert (saved.phone, saved.payment_terms_days, saved.notes, saved.version) == (
        "0499 000 111",
        0,
        "Prefers PETG",
        2,
    )
    with database.session() as s:
        assert clients.get_client(s, ada.id) == saved
        entry = activity.recent(s, entity_type="client", entity_id=ada.id)[0]
    assert entry.action == "client.updated"
    assert entry.detail == {"fields": ["notes", "payment_terms_days", "phone"]}


def test_an_edit_from_a_stale_version_is_a_conflict(database: Database, staff: Actor) -> None:
    ada = _create(database, staff)
    with database.session() as s:
        clients.update_client(s, staff, ada.id, replace(ADA, phone="1"), expected_version=1)
        with pytest.raises(
            Conflict, match=r"^Ada Lovelace was changed elsewhere — reload it and try again\.$"
        ):
            clients.update_client(s, staff, ada.id, replace(ADA, phone="2"), expected_version=1)
        assert clients.get_client(s, ada.id).phone == "1"


def test_a_counter_holding_an_old_copy_still_sees_the_conflict(
    database: Database, staff: Actor
) -> None:
    ada = _create(database, staff)
    with database.session() as counter_a, database.session() as counter_b:
        assert clients.get_client(counter_a, ada.id).version == 1
        clients.update_client(counter_b, staff, ada.id, replace(ADA, phone="1"), 1)
        with pytest.raises(Conflict, match="changed elsewhere"):
            clients.update_client(counter_a, staff, ada.id, replace(ADA, phone="2"), 1)
        fresh = clients.get_client(counter_a, ada.id)
    assert (fresh.phone, fresh.version) == ("1", 2)


def test_a_bad_edit_is_refused_and_changes_nothing(database: Database, staff: Actor) -> None:
    ada = _create(database, staff)
    with database.session() as s:
        with pytest.raises(InvalidInput, match="needs a name"):
            clients.update_client(s, staff, ada.id, replace(ADA, name=""), 1)
        assert clients.get_client(s, ada.id) == ada


def test_a_missing_client_is_not_found(database: Database, staff: Actor) -> None:
    with database.session() as s:
        with pytest.raises(NotFound, match=r"^No client with id 999\.$"):
            clients.get_client(s, 999)
        with pytest.raises(NotFound, match=r"^No client with id 999\.$"):
            clients.update_client(s, staff, 999, ADA, 1)


@pytest.fixture
def address_book(database: Database, staff: Actor) -> dict[str, int]:
    people = [
        ClientInput(name="zoe Zhang", email="zoe@printfarm.io", phone="+61 2 9999 0000"),
        ClientInput(name="Ada Lovelace", email="ada@example.com", phone="0412 345 678"),
        ClientInput(name="Ben Okafor", company="Lovelace Robotics", phone="(03) 9123-4567"),
        ClientInput(name="ada lovelace", email="ADA@other.org"),
        ClientInput(name="100% Props", company="Props_R_Us"),
    ]
    return {p.name: _create(database, staff, p).id for p in people}


def _search(database: Database, text: str = "", limit: int = 50, offset: int = 0) -> list[str]:
    with database.session() as s:
        return [c.name for c in clients.search_clients(s, text, limit, offset)]


def test_an_empty_search_lists_everyone_by_name(
    database: Database, address_book: dict[str, int]
) -> None:
    names = _search(database)
    assert names == ["100% Props", "Ada Lovelace", "ada lovelace", "Ben Okafor", "zoe Zhang"]
    with database.session() as s:
        assert clients.count_clients(s) == 5


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("LOVELACE", ["Ada Lovelace", "ada lovelace", "Ben Okafor"]),
        ("robotics", ["Ben Okafor"]),
        ("ada@", ["Ada Lovelace", "ada lovelace"]),
        ("printfarm", ["zoe Zhang"]),
        ("9123", ["Ben Okafor"]),
        ("0412345", ["Ada Lovelace"]),
        ("9123 4567", ["Ben Okafor"]),
        ("%", ["100% Props"]),
        ("_r_", ["100% Props"]),
        ("  zhang ", ["zoe Zhang"]),
        ("nobody", []),
    ],
)
def test_search_matches_name_company_email_and_phone(
    database: Database, address_book: dict[str, int], text: str, expected: list[str]
) -> None:
    assert _search(database, text) == expected
    with database.session() as s:
        assert clients.count_clients(s, text) == len(expected)


def test_search_pages_through_the_matches(database: Database, address_book: dict[str, int]) -> None:
    assert _search(database, limit=2) == ["100% Props", "Ada Lovelace"]
    assert _search(database, limit=2, offset=2) == ["ada lovelace", "Ben Okafor"]
    assert _search(database, limit=2, offset=4) == ["zoe Zhang"]
    assert _search(database, "lovelace", limit=2, offset=2) == ["Ben Okafor"]


@pytest.mark.parametrize(("limit", "offset"), [(0, 0), (501, 0), (10, -1)])
def test_a_bad_page_is_refused(database: Database, limit: int, offset: int) -> None:
    with database.session() as s, pytest.raises(InvalidInput, match="A page holds"):
        clients.search_clients(s, "", limit, offset)


def test_an_admin_deletes_a_client_without_documents(database: Database, admin: Actor) -> None:
    ada = _create(database, admin)
    with database.session() as s:
        clients.delete_client(s, admin, ada.id)
        with pytest.raises(NotFound):
            clients.get_client(s, ada.id)
    assert _client_count(database) == 0
    with database.session() as s:
        entry = activity.recent(s, entity_type="client", entity_id=ada.id)[0]
    assert (entry.action, entry.message) == ("client.deleted", "Client Ada Lovelace deleted")


def test_staff_may_not_delete_clients(database: Database, staff: Actor) -> None:
    ada = _create(database, staff)
    with (
        database.session() as s,
        pytest.raises(NotAllowed, match=r"^Only an admin may delete clients\.$"),
    ):
        clients.delete_client(s, staff, ada.id)
    assert _client_count(database) == 1


@pytest.mark.parametrize("document", [Quote, Invoice])
def test_a_client_with_quotes_or_invoices_is_kept(
    database: Database, admin: Actor, document: type[Quote] | type[Invoice]
) -> None:
    ada = _create(database, admin)
    with database.session() as s, s.begin():
        s.add(document(number="DOC-0001", client_id=ada.id, currency="AUD"))
    with (
        database.session() as s,
        pytest.raises(Conflict, match=r"^Ada Lovelace has quotes or invoices; "),
    ):
        clients.delete_client(s, admin, ada.id)
    assert _client_count(database) == 1


def test_deleting_a_missing_client_is_not_found(database: Database, admin: Actor) -> None:
    with database.session() as s, pytest.raises(NotFound, match="No client with id 7"):
        clients.delete_client(s, admin, 7)
