"""The activity log: who did what to which record, written in the same transaction as the change."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.actor import Actor
from core.db.models import ActivityEntry


@dataclass(frozen=True)
class ActivityView:
    id: int
    actor_label: str
    action: str
    entity_type: str
    entity_id: int | None
    message: str
    detail: dict[str, Any]
    created_at: dt.datetime


def record(
    session: Session,
    actor: Actor,
    action: str,
    entity_type: str,
    entity_id: int | None,
    message: str,
    detail: dict[str, Any] | None = None,
) -> None:
    session.add(
        ActivityEntry(
            actor_id=actor.user_id,
            actor_label=actor.label,
            action=action,
            entity_type=entity_type,
            entity_id=entity_id,
            message=message,
            detail=detail or {},
        )
    )


def recent(
    session: Session,
    *,
    entity_type: str | None = None,
    entity_id: int | None = None,
    limit: int = 100,
) -> list[ActivityView]:
    query = select(ActivityEntry).order_by(ActivityEntry.id.desc()).limit(limit)
    if entity_type is not None:
        query = query.where(ActivityEntry.entity_type == entity_type)
    if entity_id is not None:
        query = query.where(ActivityEntry.entity_id == entity_id)
    return [
        ActivityView(
            e.id,
            e.actor_label,
            e.action,
            e.entity_type,
            e.entity_id,
            e.message,
            e.detail,
            e.created_at,
        )
        for e in session.scalars(query)
    ]
