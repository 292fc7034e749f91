"""The shop's settings: read with defaults filled in, changed by admins only, conflict-checked."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.actor import Actor
from core.db.models import ShopSettingsRow
from core.errors import Conflict, InvalidInput
from core.services import activity
from core.shop_settings import ShopSettings


def _row(session: Session, *, lock: bool = False) -> ShopSettingsRow:
    query = select(ShopSettingsRow).where(ShopSettingsRow.id == 1)
    if lock:
        query = query.with_for_update()
    row = session.scalars(query).one_or_none()
    if row is None:  # a database migrated by hand without its seed row
        row = ShopSettingsRow(id=1, data=ShopSettings().model_dump(mode="json"))
        session.add(row)
        session.flush()
    return row


def load(session: Session) -> ShopSettings:
    """The settings inside the caller's transaction (for services that need them)."""
    return ShopSettings.model_validate(_row(session).data)


def get_settings(session: Session) -> tuple[ShopSettings, int]:
    """The settings and their version, for an editor that will save them back."""
    with session.begin():
        row = _row(session)
        return ShopSettings.model_validate(row.data), row.version


def update_settings(
    session: Session, actor: Actor, changes: dict[str, Any], *, expected_version: int | None = None
) -> tuple[ShopSettings, int]:
    """Merge ``changes`` (top-level sections, partial sections allowed) into the settings."""
    actor.require_admin("change the shop's settings")
    with session.begin():
        row = _row(session, lock=True)
        if expected_version is not None and row.version != expected_version:
            raise Conflict("The settings were changed elsewhere — reload them and try again.")
        merged = dict(row.data)
        for key, value in changes.items():
            if isinstance(value, dict) and isinstance(merged.get(key), dict):
                merged[key] = {**merged[key], **value}
            else:
                merged[key] = value
        try:
            validated = ShopSettings.model_validate(merged)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            raise InvalidInput(f"Setting {where}: {first['msg']}.") from None
        row.data = validated.model_dump(mode="json")
        activity.record(
            session,
            actor,
            "settings.updated",
            "settings",
            1,
            "Settings changed",
            {"sections": sorted(changes)},
        )
        session.flush()
        return validated, row.version
