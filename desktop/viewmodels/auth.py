"""Signing in, and the first start that sets up the shop and its first admin."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QObject, Signal

from core.actor import SYSTEM_ACTOR, Actor
from core.db.engine import Database
from core.enums import Role
from core.errors import ServiceError
from core.services import settings, users


@dataclass(frozen=True)
class ShopSetup:
    shop_name: str
    tax_id: str
    email: str
    phone: str
    address: str
    admin_name: str
    admin_email: str
    password: str
    password_again: str


class AuthViewModel(QObject):
    """Knows whether the shop needs setting up and turns credentials into an Actor."""

    error_changed = Signal(str)
    signed_in = Signal(object)  # Actor

    def __init__(self, db: Database) -> None:
        super().__init__()
        self._db = db
        self.error = ""
        self.actor: Actor | None = None

    def needs_setup(self) -> bool:
        with self._db.session() as s:
            return users.count_users(s) == 0

    def _fail(self, message: str) -> None:
        self.error = message
        self.error_changed.emit(message)

    def sign_in(self, email: str, password: str) -> Actor | None:
        if not email.strip() or not password:
            self._fail("Enter your email and password.")
            return None
        try:
            with self._db.session() as s:
                user = users.authenticate(s, email, password)
        except ServiceError as exc:
            self._fail(str(exc))
            return None
        return self._done(users.actor_for(user))

    def set_up(self, form: ShopSetup) -> Actor | None:
        """Save the business details and create the first admin, then sign them in."""
        if not form.shop_name.strip():
            self._fail("Enter the shop's name.")
            return None
        if form.password != form.password_again:
            self._fail("The two passwords are not the same.")
            return None
        try:
            with self._db.session() as s:
                if users.count_users(s) > 0:
                    self._fail("This shop is already set up: sign in instead.")
                    return None
                settings.update_settings(
                    s,
                    SYSTEM_ACTOR,
                    {
                        "business": {
                            "name": form.shop_name.strip(),
                            "tax_id": form.tax_id.strip(),
                            "email": form.email.strip(),
                            "phone": form.phone.strip(),
                            "address": form.address.strip(),
                        }
                    },
                )
                # Last, so a refused admin (bad email, short password) can simply be retried.
                user = users.add_user(
                    s, SYSTEM_ACTOR, form.admin_email, form.admin_name, Role.ADMIN, form.password
                )
        except ServiceError as exc:
            self._fail(str(exc))
            return None
        return self._done(users.actor_for(user))

    def _done(self, actor: Actor) -> Actor:
        self.actor = actor
        self.error = ""
        self.error_changed.emit("")
        self.signed_in.emit(actor)
        return actor
