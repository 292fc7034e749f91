"""Who is acting: every service call names its actor, whose role decides what it may do."""

from __future__ import annotations

from dataclasses import dataclass

from core.enums import Role
from core.errors import NotAllowed


@dataclass(frozen=True)
class Actor:
    user_id: int | None
    role: Role
    label: str

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN

    def require_admin(self, what: str) -> None:
        """Refuse unless an admin acts; ``what`` completes "Only an admin may …"."""
        if not self.is_admin:
            raise NotAllowed(f"Only an admin may {what}.")


# The command line acts as the local administrator of the machine it runs on.
CLI_ACTOR = Actor(user_id=None, role=Role.ADMIN, label="command line")
SYSTEM_ACTOR = Actor(user_id=None, role=Role.ADMIN, label="system")
