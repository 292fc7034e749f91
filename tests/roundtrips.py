"""Count the round trips a piece of code makes to PostgreSQL, as psycopg makes them.

SQLAlchemy's ``before_cursor_execute`` sees every statement, savepoints included, but not what
psycopg sends on its own: the ``BEGIN`` it sends before the first statement of a transaction,
the ``COMMIT``/``ROLLBACK`` that ends it, and the pool's pre-ping (an empty query) when a
pooled connection is checked out. `RoundTrips` counts all of them, so the figure is what a
counter 60 ms away from its database waits for. `WireTrace` reads libpq's own protocol trace,
to check the counter against what went over the socket.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, event


@dataclass
class RoundTrips:
    engine: Engine
    count: int = 0
    statements: list[str] = field(default_factory=list)
    _begun: bool = False  # SQLAlchemy began a transaction; psycopg sends BEGIN on first use
    _open: bool = False  # psycopg sent BEGIN: COMMIT/ROLLBACK will go over the wire
    _counting: bool = False

    def _add(self, what: str) -> None:
        if self._counting:
            self.count += 1
            self.statements.append(what)

    def _on_begin(self, _conn: Any) -> None:
        self._begun = True

    def _on_execute(self, _conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if self._begun and not self._open:
            self._open = True
            self._add("BEGIN")
        self._add(" ".join(statement.split())[:120])

    def _on_end(self, word: str) -> Any:
        def end(_conn: Any) -> None:
            if self._open:
                self._add(word)
            self._begun = self._open = False

        return end

    def _on_connect(self, _dbapi: Any, record: Any) -> None:
        record.info["fresh"] = True

    def _on_checkout(self, _dbapi: Any, record: Any, _proxy: Any) -> None:
        # SQLAlchemy pings a pooled connection before handing it out (not a new one).
        if record.info.pop("fresh", False) or not getattr(self.engine.pool, "_pre_ping", False):
            return
        self._add("(pre-ping)")

    def _listeners(self) -> list[tuple[Any, str, Any]]:
        return [
            (self.engine, "begin", self._on_begin),
            (self.engine, "before_cursor_execute", self._on_execute),
            (self.engine, "commit", self._on_end("COMMIT")),
            (self.engine, "rollback", self._on_end("ROLLBACK")),
            (self.engine.pool, "connect", self._on_connect),
            (self.engine.pool, "checkout", self._on_checkout),
        ]

    @contextmanager
    def measure(self) -> Iterator[RoundTrips]:
        """Count the round trips made inside the ``with`` block (a fresh count each time)."""
        self.count, self.statements = 0, []
        listeners = self._listeners()
        for target, name, fn in listeners:
            event.listen(target, name, fn)
        self._counting = True
        try:
            yield self
        finally:
            self._counting = False
            for target, name, fn in listeners:
                event.remove(target, name, fn)

    def __str__(self) -> str:
        return f"{self.count} round trips:\n  " + "\n  ".join(self.statements)


#: Frontend messages that make the client wait for the server: a simple query, or a Sync that
#: ends an extended-protocol exchange (Parse/Bind/Execute…).
_WAITS = re.compile(r"\tF\t\d+\t(Query|Sync)\b")


@dataclass
class WireTrace:
    """libpq's protocol trace of every new connection of ``engine``, written to ``path``."""

    engine: Engine
    path: Path

    def __post_init__(self) -> None:
        self._file = self.path.open("a")
        event.listen(self.engine, "connect", self._trace)

    def _trace(self, dbapi: Any, _record: Any) -> None:
        dbapi.pgconn.trace(self._file.fileno())

    def waits(self) -> int:
        """Round trips so far: the Query and Sync messages the client sent."""
        self._file.flush()
        return sum(1 for line in self.path.read_text().splitlines() if _WAITS.search(line))

    def close(self) -> None:
        event.remove(self.engine, "connect", self._trace)
        self._file.close()
