"""Live-update notices: NOTIFY inside the transaction, so PostgreSQL sends them on commit."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

CHANNEL = "printdesk_events"


def notify(session: Session, kind: str, record_id: int, **fields: Any) -> None:
    payload = json.dumps({"kind": kind, "id": record_id, **fields}, default=str)
    session.execute(
        text("SELECT pg_notify(:channel, :payload)"), {"channel": CHANNEL, "payload": payload}
    )
