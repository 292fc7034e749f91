"""Live-update notices read back from the activity log, for counters that cannot LISTEN.

Behind a transaction pooler no session lasts, so ``NOTIFY`` never reaches a listener. Every
change a notice tells of is also written to ``activity_log`` in the same transaction, so a
counter can poll that table cheaply (one indexed range query) and turn its new rows into the
same notices ``core.services.events.notify`` sends.

Ids come from a sequence and are taken at insert, not at commit: a transaction that took id
10 may commit after one that took 11. An id skipped over is kept as a gap and asked for again
on later polls until it turns up or ``gap_ttl_s`` passes (a rolled-back insert never will).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Final

from sqlalchemy import Connection, bindparam, text

#: How often a counter that cannot LISTEN asks the activity log for news.
POLL_INTERVAL_S: Final = 3.0
#: Notice kinds named by an activity's action prefix rather than the entity it is filed under
#: (an attachment's activity is filed under its invoice, its notice says "attachment").
_ACTION_KINDS: Final = frozenset({"attachment", "order_file", "job", "printer", "material"})
#: Written as well as ``payment.recorded`` for the same payment: one toast, not two.
_SKIPPED: Final = frozenset({"payment.flagged"})
#: More ids skipped at once than this are a long-gone burst of rollbacks, not commits to wait on.
_MAX_GAPS: Final = 1000

_ROWS = text(
    """
    SELECT a.id, a.action, a.entity_type, a.entity_id, a.detail,
           i.number, i.status, i.currency
    FROM activity_log a
    LEFT JOIN invoices i ON a.entity_type = 'invoice' AND i.id = a.entity_id
    WHERE a.id > :after OR a.id IN :gaps
    ORDER BY a.id
    LIMIT :limit
    """
).bindparams(bindparam("gaps", expanding=True))


def latest_activity_id(conn: Connection) -> int:
    return int(conn.execute(text("SELECT coalesce(max(id), 0) FROM activity_log")).scalar_one())


def notice_of(row: Any) -> dict[str, Any] | None:
    """The notice a service sent with this activity row; None for one it sends none for."""
    action = str(row.action)
    if action in _SKIPPED:
        return None
    prefix = action.split(".", 1)[0]
    detail = row.detail if isinstance(row.detail, dict) else {}
    notice: dict[str, Any] = {"id": row.entity_id, "action": action, "polled": True}
    if row.entity_type == "invoice" and row.number is not None:
        notice.update(number=row.number, status=row.status, currency=row.currency)
    if action == "payment.recorded":
        notice.update(kind="payment", amount=detail.get("amount"), method=detail.get("method"))
    elif action == "payment.refunded":
        notice.update(kind="refund", amount=detail.get("amount"))
    elif prefix in _ACTION_KINDS:
        notice["kind"] = prefix
    else:
        notice["kind"] = str(row.entity_type)
    return notice


@dataclass
class ActivityCursor:
    """Where a poller is in the activity log: the last id seen and the gaps below it."""

    after: int
    gap_ttl_s: float = 60.0
    limit: int = 500
    clock: Callable[[], float] = time.monotonic
    _gaps: dict[int, float] = field(default_factory=dict)

    @classmethod
    def at_end(cls, conn: Connection, **kwargs: Any) -> ActivityCursor:
        """A cursor after everything already in the log (a screen just loaded shows it)."""
        return cls(latest_activity_id(conn), **kwargs)

    def poll(self, conn: Connection) -> list[dict[str, Any]]:
        """The notices of the rows committed since the last poll, oldest first."""
        now = self.clock()
        self._gaps = {i: t for i, t in self._gaps.items() if now - t < self.gap_ttl_s}
        rows = conn.execute(
            _ROWS, {"after": self.after, "gaps": list(self._gaps) or [-1], "limit": self.limit}
        ).all()
        notices = []
        for row in rows:
            row_id = int(row.id)
            if row_id > self.after:
                skipped = range(max(self.after + 1, row_id - _MAX_GAPS), row_id)
                self._gaps.update((i, now) for i in skipped)
                self.after = row_id
            else:
                self._gaps.pop(row_id, None)
            notice = notice_of(row)
            if notice is not None:
                notices.append(notice)
        return notices
