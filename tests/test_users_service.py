from __future__ import annotations

import pytest
from argon2 import PasswordHasher

from core.actor import Actor
from core.db.engine import Database
from core.db.models import User
from core.enums import Role
from core.errors import Conflict, InvalidInput, NotAllowed, NotFound
from core.services import activity, users
from core.services.users import UserView

PASSWORD = "correct horse"


def _add(
    database: Database,
    actor: Actor,
    email: str = "bea@example.com",
    role: Role = Role.STAFF,
    name: str = "Bea",
) -> UserView:
    with database.session() as s:
        return users.add_user(s, actor, email, name, role, PASSWORD)


def _stored(database: Database, user_id: int) -> User:
    with database.session() as s:
        user = s.get(User, user_id)
        assert user is not None
        return user


def _sign_in(database: Database, email: str, password: str = PASSWORD) -> UserView:
    with database.session() as s:
        return users.authenticate(s, email, password)


def test_a_fresh_database_has_no_users_so_setup_is_needed(database: Database) -> None:
    with database.session() as s:
        assert users.count_users(s) == 0
        assert users.list_users(s) == []


def test_admin_adds_a_user_whose_password_is_stored_as_an_argon2_hash(
    database: Database, admin: Actor
) -> None:
    bea = _add(database, admin, email="  Bea@Example.COM ", name="  Bea Smith ")

    assert (bea.email, bea.name, bea.role, bea.active) == (
        "bea@example.com",
        "Bea Smith",
        Role.STAFF,
        True,
    )
    assert not hasattr(bea, "password_hash")
    stored = _stored(database, bea.id)
    assert stored.password_hash.startswith("$argon2id$")
    assert PASSWORD not in stored.password_hash
    assert PasswordHasher().verify(stored.password_hash, PASSWORD)
    with database.session() as s:
        assert users.count_users(s) == 1
        [entry] = activity.recent(s, entity_type="user", entity_id=bea.id)
    assert entry.action == "user.created" and entry.actor_label == "test admin"
    assert PASSWORD not in str(entry.detail)


def test_staff_may_not_add_users(database: Database, staff: Actor) -> None:
    with pytest.raises(NotAllowed, match=r"^Only an admin may manage users\.$"):
        _add(database, staff)
    with database.session() as s:
        assert users.count_users(s) == 0


def test_an_email_is_taken_once_whatever_its_case(database: Database, admin: Actor) -> None:
    _add(database, admin, email="bea@example.com")
    with pytest.raises(
        Conflict, match=r"^A user with the email bea@example\.com already exists\.$"
    ):
        _add(database, admin, email="BEA@example.com ")
    with database.session() as s:
        assert users.count_users(s) == 1


@pytest.mark.parametrize(
    "email",
    [
        "",
        "bea",
        "bea@",
        "@example.com",
        "bea@example",
        "bea@@example.com",
        "bea smith@example.com",
        "bea@.example.com",
        "bea@example.",
        "b" * 310 + "@example.com",
    ],
)
def test_an_implausible_email_is_refused(database: Database, admin: Actor, email: str) -> None:
    with pytest.raises(InvalidInput, match="not a valid email address"):
        _add(database, admin, email=email)


def test_a_short_password_is_refused(database: Database, admin: Actor) -> None:
    with database.session() as s, pytest.raises(InvalidInput, match="at least 8 characters"):
        users.add_user(s, admin, "bea@example.com", "Bea", Role.STAFF, "seven77")
    with database.session() as s:
        assert users.count_users(s) == 0


def test_sign_in_finds_the_user_by_email_whatever_its_case(
    database: Database, admin: Actor
) -> None:
    bea = _add(database, admin)
    assert _sign_in(database, " BEA@example.com ") == bea


@pytest.mark.parametrize(
    ("email", "password", "deactivate"),
    [
        ("bea@example.com", "wrong horse", False),
        ("nobody@example.com", PASSWORD, False),
        ("bea@example.com", PASSWORD, True),
    ],
    ids=["wrong password", "unknown email", "inactive user"],
)
def test_every_failed_sign_in_gets_the_same_answer(
    database: Database, admin: Actor, email: str, password: str, deactivate: bool
) -> None:
    bea = _add(database, admin)
    if deactivate:
        with database.session() as s:
            users.set_active(s, admin, bea.id, False)
    with pytest.raises(NotAllowed, match=r"^Wrong email or password\.$"):
        _sign_in(database, email, password)


def test_an_outdated_hash_is_upgraded_at_sign_in(database: Database) -> None:
    weak = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1).hash(PASSWORD)
    with database.session() as s, s.begin():
        user = User(email="old@example.com", name="Old", role=Role.STAFF.value, password_hash=weak)
        s.add(user)
        s.flush()
        user_id = user.id

    _sign_in(database, "old@example.com")

    upgraded = _stored(database, user_id).password_hash
    assert upgraded != weak
    assert not PasswordHasher().check_needs_rehash(upgraded)
    assert _sign_in(database, "old@example.com").id == user_id


def test_a_user_changes_their_own_password(database: Database, admin: Actor) -> None:
    bea = _add(database, admin)
    with database.session() as s:
        users.change_password(s, users.actor_for(bea), bea.id, "a new secret")
    assert _sign_in(database, bea.email, "a new secret").id == bea.id
    with pytest.raises(NotAllowed):
        _sign_in(database, bea.email, PASSWORD)


def test_staff_may_not_change_someone_elses_password(database: Database, admin: Actor) -> None:
    bea = _add(database, admin)
    cal = _add(database, admin, email="cal@example.com", name="Cal")
    with database.session() as s, pytest.raises(NotAllowed, match="Only an admin"):
        users.change_password(s, users.actor_for(cal), bea.id, "stolen password")
    assert _sign_in(database, bea.email).id == bea.id


def test_an_admin_resets_someone_elses_password(database: Database, admin: Actor) -> None:
    bea = _add(database, admin)
    with database.session() as s:
        users.change_password(s, admin, bea.id, "reset by admin")
    assert _sign_in(database, bea.email, "reset by admin").id == bea.id


def test_a_short_new_password_is_refused(database: Database, admin: Actor) -> None:
    bea = _add(database, admin)
    with database.session() as s, pytest.raises(InvalidInput, match="at least 8"):
        users.change_password(s, users.actor_for(bea), bea.id, "short")
    assert _sign_in(database, bea.email).id == bea.id


def test_changing_the_password_of_a_missing_user_is_not_found(
    database: Database, admin: Actor
) -> None:
    with database.session() as s, pytest.raises(NotFound, match=r"^No user with id 404\.$"):
        users.change_password(s, admin, 404, "whatever1")


def test_an_admin_deactivates_and_reactivates_staff(database: Database, admin: Actor) -> None:
    bea = _add(database, admin)
    with database.session() as s:
        assert users.set_active(s, admin, bea.id, False).active is False
    assert _stored(database, bea.id).active is False
    with database.session() as s:
        assert users.set_active(s, admin, bea.id, True).active is True
        actions = [e.action for e in activity.recent(s, entity_type="user", entity_id=bea.id)]
    assert actions == ["user.reactivated", "user.deactivated", "user.created"]
    assert _sign_in(database, bea.email).id == bea.id


def test_staff_may_not_deactivate_anyone(database: Database, admin: Actor) -> None:
    bea = _add(database, admin)
    cal = _add(database, admin, email="cal@example.com", name="Cal")
    with database.session() as s, pytest.raises(NotAllowed, match="Only an admin"):
        users.set_active(s, users.actor_for(cal), bea.id, False)
    assert _stored(database, bea.id).active is True


def test_an_admin_cannot_deactivate_themselves(database: Database, admin: Actor) -> None:
    ada = _add(database, admin, email="ada@example.com", role=Role.ADMIN, name="Ada")
    _add(database, admin, email="max@example.com", role=Role.ADMIN, name="Max")
    with database.session() as s, pytest.raises(Conflict, match="your own account"):
        users.set_active(s, users.actor_for(ada), ada.id, False)
    assert _stored(database, ada.id).active is True


def test_the_last_active_admin_cannot_be_deactivated(database: Database, admin: Actor) -> None:
    ada = _add(database, admin, email="ada@example.com", role=Role.ADMIN, name="Ada")
    with database.session() as s, pytest.raises(Conflict, match="Ada is the last active admin"):
        users.set_active(s, admin, ada.id, False)
    assert _stored(database, ada.id).active is True


def test_one_of_two_admins_may_deactivate_the_other(database: Database, admin: Actor) -> None:
    ada = _add(database, admin, email="ada@example.com", role=Role.ADMIN, name="Ada")
    max_ = _add(database, admin, email="max@example.com", role=Role.ADMIN, name="Max")
    with database.session() as s:
        users.set_active(s, users.actor_for(ada), max_.id, False)
        with pytest.raises(Conflict, match="last active admin"):
            users.set_active(s, admin, ada.id, False)
    assert _stored(database, max_.id).active is False


def test_the_last_active_admin_cannot_be_demoted(database: Database, admin: Actor) -> None:
    ada = _add(database, admin, email="ada@example.com", role=Role.ADMIN, name="Ada")
    with database.session() as s, pytest.raises(Conflict, match="last active admin"):
        users.set_role(s, users.actor_for(ada), ada.id, Role.STAFF)
    assert _stored(database, ada.id).role == Role.ADMIN.value


def test_an_admin_promotes_staff_and_demotes_another_admin(
    database: Database, admin: Actor
) -> None:
    ada = _add(database, admin, email="ada@example.com", role=Role.ADMIN, name="Ada")
    bea = _add(database, admin)
    with database.session() as s:
        promoted = users.set_role(s, users.actor_for(ada), bea.id, Role.ADMIN)
        demoted = users.set_role(s, users.actor_for(promoted), ada.id, Role.STAFF)
    assert promoted.role is Role.ADMIN and demoted.role is Role.STAFF
    assert _stored(database, bea.id).role == Role.ADMIN.value
    assert _stored(database, ada.id).role == Role.STAFF.value


def test_staff_may_not_change_roles(database: Database, admin: Actor) -> None:
    bea = _add(database, admin)
    with database.session() as s, pytest.raises(NotAllowed, match="Only an admin"):
        users.set_role(s, users.actor_for(bea), bea.id, Role.ADMIN)
    assert _stored(database, bea.id).role == Role.STAFF.value


def test_users_are_listed_by_name_and_fetched_by_id(database: Database, admin: Actor) -> None:
    cal = _add(database, admin, email="cal@example.com", name="cal")
    bea = _add(database, admin, email="bea@example.com", name="Bea")
    with database.session() as s:
        assert [u.email for u in users.list_users(s)] == ["bea@example.com", "cal@example.com"]
        assert users.get_user(s, cal.id) == cal
        assert users.count_users(s) == 2
        with pytest.raises(NotFound, match=r"^No user with id 999\.$"):
            users.get_user(s, 999)
    assert bea.id != cal.id


def test_an_actor_for_a_user_carries_their_id_role_and_name(
    database: Database, admin: Actor
) -> None:
    ada = _add(database, admin, email="ada@example.com", role=Role.ADMIN, name="Ada")
    actor = users.actor_for(ada)
    assert (actor.user_id, actor.role, actor.label, actor.is_admin) == (
        ada.id,
        Role.ADMIN,
        "Ada",
        True,
    )
