"""Staff accounts: argon2 sign-in, and the admin's management of who may use the counter."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core.actor import Actor
from core.db.models import User
from core.enums import Role
from core.errors import Conflict, InvalidInput, NotAllowed, NotFound
from core.services import activity

MIN_PASSWORD_LENGTH = 8
EMAIL_MAX_LENGTH = 320
NAME_MAX_LENGTH = 200
WRONG_CREDENTIALS = "Wrong email or password."
MANAGE = "manage users"


@dataclass(frozen=True)
class UserView:
    id: int
    email: str
    name: str
    role: Role
    active: bool
    created_at: dt.datetime
    updated_at: dt.datetime
    version: int

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN


def is_plausible_email(value: str) -> bool:
    """Roughly: one @, a dot inside the domain, no spaces; the mail server has the last word."""
    local, _, domain = value.partition("@")
    return (
        bool(local)
        and "@" not in domain
        and "." in domain
        and not domain.startswith(".")
        and not domain.endswith(".")
        and not any(c.isspace() for c in value)
    )


def actor_for(user: UserView) -> Actor:
    return Actor(user_id=user.id, role=user.role, label=user.name or user.email)


def _hasher() -> PasswordHasher:
    return PasswordHasher()


@cache
def _decoy_hash() -> str:
    # Verifying against a decoy for unknown emails keeps both refusals equally slow.
    return _hasher().hash("printdesk decoy password")


def _view(user: User) -> UserView:
    return UserView(
        id=user.id,
        email=user.email,
        name=user.name,
        role=Role(user.role),
        active=user.active,
        created_at=user.created_at,
        updated_at=user.updated_at,
        version=user.version,
    )


def _clean_email(email: str) -> str:
    cleaned = email.strip().lower()
    if len(cleaned) > EMAIL_MAX_LENGTH or not is_plausible_email(cleaned):
        raise InvalidInput(f"{email.strip() or 'An empty email'} is not a valid email address.")
    return cleaned


def _clean_name(name: str) -> str:
    cleaned = name.strip()
    if len(cleaned) > NAME_MAX_LENGTH:
        raise InvalidInput(f"A name may be at most {NAME_MAX_LENGTH} characters.")
    return cleaned


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(f"A password needs at least {MIN_PASSWORD_LENGTH} characters.")


def _user(session: Session, user_id: int, *, lock: bool = False) -> User:
    user = session.get(User, user_id, populate_existing=True, with_for_update=lock or None)
    if user is None:
        raise NotFound(f"No user with id {user_id}.")
    return user


def _refuse_losing_last_admin(session: Session, user: User) -> None:
    """Refuse when ``user`` is the only active admin; callers are about to take that away."""
    if user.role != Role.ADMIN or not user.active:
        return
    # Locking every active admin serialises two admins demoting each other at once.
    admins = session.scalars(
        select(User.id).where(User.role == Role.ADMIN.value, User.active).with_for_update()
    ).all()
    if admins == [user.id]:
        raise Conflict(
            f"{user.name or user.email} is the last active admin; make another admin first."
        )


def add_user(
    session: Session, actor: Actor, email: str, name: str, role: Role, password: str
) -> UserView:
    actor.require_admin(MANAGE)
    cleaned_email = _clean_email(email)
    cleaned_name = _clean_name(name)
    _check_password(password)
    role = Role(role)
    with session.begin():
        taken = session.scalar(select(User.id).where(User.email == cleaned_email))
        if taken is not None:
            raise Conflict(f"A user with the email {cleaned_email} already exists.")
        user = User(
            email=cleaned_email,
            name=cleaned_name,
            role=role.value,
            password_hash=_hasher().hash(password),
            active=True,
        )
        session.add(user)
        try:
            session.flush()
        except IntegrityError:
            raise Conflict(f"A user with the email {cleaned_email} already exists.") from None
        activity.record(
            session,
            actor,
            "user.created",
            "user",
            user.id,
            f"User {cleaned_email} added as {role.value.lower()}",
            {"role": role.value},
        )
        return _view(user)


def authenticate(session: Session, email: str, password: str) -> UserView:
    """The user whose email and password these are; any mismatch gets one and the same answer."""
    hasher = _hasher()
    with session.begin():
        user = session.scalars(
            select(User)
            .where(User.email == email.strip().lower())
            .execution_options(populate_existing=True)
        ).one_or_none()
        try:
            hasher.verify(user.password_hash if user else _decoy_hash(), password)
        except (VerificationError, InvalidHashError):
            raise NotAllowed(WRONG_CREDENTIALS) from None
        if user is None or not user.active:
            raise NotAllowed(WRONG_CREDENTIALS)
        if hasher.check_needs_rehash(user.password_hash):
            user.password_hash = hasher.hash(password)
            session.flush()
        return _view(user)


def change_password(session: Session, actor: Actor, user_id: int, new_password: str) -> None:
    if actor.user_id != user_id:
        actor.require_admin("change another user's password")
    _check_password(new_password)
    with session.begin():
        user = _user(session, user_id, lock=True)
        user.password_hash = _hasher().hash(new_password)
        activity.record(
            session,
            actor,
            "user.password_changed",
            "user",
            user.id,
            f"Password of {user.email} changed",
        )


def set_active(session: Session, actor: Actor, user_id: int, active: bool) -> UserView:
    actor.require_admin(MANAGE)
    with session.begin():
        user = _user(session, user_id, lock=True)
        if not active:
            if actor.user_id == user.id:
                raise Conflict("You cannot deactivate your own account.")
            _refuse_losing_last_admin(session, user)
        if user.active != active:
            user.active = active
            verb = "reactivated" if active else "deactivated"
            activity.record(
                session, actor, f"user.{verb}", "user", user.id, f"User {user.email} {verb}"
            )
            session.flush()
        return _view(user)


def set_role(session: Session, actor: Actor, user_id: int, role: Role) -> UserView:
    actor.require_admin(MANAGE)
    role = Role(role)
    with session.begin():
        user = _user(session, user_id, lock=True)
        if role != Role.ADMIN:
            _refuse_losing_last_admin(session, user)
        if user.role != role.value:
            activity.record(
                session,
                actor,
                "user.role_changed",
                "user",
                user.id,
                f"User {user.email} is now {role.value.lower()}",
                {"from": user.role, "to": role.value},
            )
            user.role = role.value
            session.flush()
        return _view(user)


def get_user(session: Session, user_id: int) -> UserView:
    with session.begin():
        return _view(_user(session, user_id))


def list_users(session: Session) -> list[UserView]:
    with session.begin():
        users = session.scalars(
            select(User)
            .order_by(func.lower(User.name), User.email)
            .execution_options(populate_existing=True)
        )
        return [_view(user) for user in users]


def count_users(session: Session) -> int:
    """How many accounts exist; zero means the desktop must run first-time setup."""
    with session.begin():
        return session.scalar(select(func.count()).select_from(User)) or 0
