"""The database handle: engine, session factory and the one-transaction scope services use.

Cloud databases are often reached through a pooler. A transaction-mode pooler (pgbouncer with
``pool_mode=transaction``, Supabase's port 6543) hands each transaction whichever server
connection is free, so nothing may outlive a transaction: psycopg's automatic server-side
prepared statements are turned off there, and live updates cannot ``LISTEN`` through it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy import Engine, create_engine
from sqlalchemy.engine import URL, make_url
from sqlalchemy.orm import Session, sessionmaker

from core.config import AppConfig
from core.db.embedded import start_embedded

#: The port of Supabase's transaction pooler (Supavisor and its dedicated pgbouncer alike).
TRANSACTION_POOLER_PORT: Final = 6543
SUPABASE_POOLER_DOMAIN: Final = ".pooler.supabase.com"
#: The flag Prisma and others put on a pooler URL; libpq does not know it.
PGBOUNCER_FLAG: Final = "pgbouncer"


def normalise_url(url: str) -> str:
    """Accept plain ``postgresql://`` URLs (as Supabase hands them out) and use psycopg 3;
    the ``?pgbouncer=true`` flag is dropped (libpq refuses it; `detect_pooler` reads it)."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    if PGBOUNCER_FLAG in parsed.query:
        parsed = parsed.difference_update_query([PGBOUNCER_FLAG])
    return parsed.render_as_string(hide_password=False)


def libpq_conninfo(url: str | URL) -> str:
    """A libpq URI for psycopg itself (no ``+driver``, no pooler flag)."""
    parsed = make_url(normalise_url(str(url) if isinstance(url, str) else _render(url)))
    return parsed.set(drivername="postgresql").render_as_string(hide_password=False)


def _render(url: URL) -> str:
    return url.render_as_string(hide_password=False)


@dataclass(frozen=True)
class Pooler:
    """What stands between PrintDesk and the server, as far as the URL and settings tell.

    ``transaction``: a transaction-mode pooler (no session state across transactions, so no
    LISTEN). ``no_prepare``: turn psycopg's server-side prepared statements off. ``reason``
    says, for a person, how this was decided.
    """

    transaction: bool
    no_prepare: bool
    reason: str


DIRECT: Final = Pooler(False, False, "no pooler in the URL")


def _flag_is_true(value: Any) -> bool:
    values = value if isinstance(value, tuple) else (value,)
    return any(str(v).strip().lower() in ("true", "1", "yes") for v in values)


def detect_pooler(url: str | URL, setting: str = "auto") -> Pooler:
    """Read a pooler from ``setting`` (``database_pooler``: true / false / auto) and the URL."""
    if setting == "true":
        return Pooler(True, True, "database_pooler = true says it is a transaction pooler")
    if setting == "false":
        return Pooler(False, False, "database_pooler = false says there is no transaction pooler")
    parsed = make_url(url) if isinstance(url, str) else url
    if PGBOUNCER_FLAG in parsed.query and _flag_is_true(parsed.query[PGBOUNCER_FLAG]):
        return Pooler(True, True, "the URL says pgbouncer=true")
    if parsed.port == TRANSACTION_POOLER_PORT:
        return Pooler(True, True, f"port {TRANSACTION_POOLER_PORT} is a transaction pooler's")
    host = (parsed.host or "").lower()
    if host.endswith(SUPABASE_POOLER_DOMAIN):
        # Supavisor's session mode (port 5432) keeps a server connection per client, so LISTEN
        # works; prepared statements are left off all the same, as Supabase advises for it.
        return Pooler(False, True, f"{host} is Supabase's session pooler")
    return DIRECT


@dataclass(frozen=True)
class ListenPlan:
    """Where live updates LISTEN (a session connection), or None and why they poll instead."""

    url: str | None
    reason: str

    @property
    def listens(self) -> bool:
        return self.url is not None


def plan_listener(database_url: str, pooler: Pooler, listen_url: str | None) -> ListenPlan:
    """The listener's own URL when one is set, else the database's unless it is a transaction
    pooler (whose connections change hands after every transaction, dropping the LISTEN)."""
    if listen_url:
        own = detect_pooler(listen_url)
        if own.transaction:
            return ListenPlan(
                None, f"listen_database_url is a transaction pooler too ({own.reason})"
            )
        return ListenPlan(normalise_url(listen_url), "listen_database_url")
    if pooler.transaction:
        return ListenPlan(
            None,
            f"DATABASE_URL is a transaction pooler ({pooler.reason}) and no "
            "listen_database_url is set",
        )
    return ListenPlan(normalise_url(database_url), "the database URL")


@dataclass(frozen=True)
class Database:
    engine: Engine
    sessions: sessionmaker[Session]
    embedded: bool
    pooler: Pooler = DIRECT
    listen: ListenPlan | None = None

    @classmethod
    def from_url(
        cls,
        url: str,
        *,
        embedded: bool = False,
        pool_size: int = 5,
        pooler: str = "auto",
        listen_url: str | None = None,
    ) -> Database:
        found = detect_pooler(url, pooler)
        connect_args: dict[str, Any] = {}
        if found.no_prepare:
            connect_args["prepare_threshold"] = None
        engine = create_engine(
            normalise_url(url),
            pool_size=pool_size,
            max_overflow=10,
            pool_pre_ping=True,
            connect_args=connect_args,
        )
        plan = plan_listener(url, found, listen_url)
        return cls(engine, sessionmaker(engine, expire_on_commit=False), embedded, found, plan)

    @contextmanager
    def session(self) -> Iterator[Session]:
        with self.sessions() as session:
            yield session

    @property
    def listen_plan(self) -> ListenPlan:
        if self.listen is not None:
            return self.listen
        return plan_listener(_render(self.engine.url), self.pooler, None)

    def describe(self) -> str:
        url = self.engine.url
        where = "embedded" if self.embedded else (url.host or "local socket")
        through = ", transaction pooler" if self.pooler.transaction else ""
        return f"{url.database} ({where}{through})"

    def dispose(self) -> None:
        self.engine.dispose()


def resolve_database_url(config: AppConfig, *, stop_on_exit: bool) -> tuple[str, bool]:
    """The configured URL, or the embedded server's (started on demand)."""
    if config.database_url:
        return normalise_url(config.database_url), False
    return start_embedded(config.pgdata_dir, stop_on_exit=stop_on_exit), True


def open_database(config: AppConfig, *, stop_on_exit: bool, pool_size: int = 5) -> Database:
    if not config.database_url:
        url = start_embedded(config.pgdata_dir, stop_on_exit=stop_on_exit)
        return Database.from_url(url, embedded=True, pool_size=pool_size)
    # The URL as configured: its pooler flag is read before it is dropped.
    return Database.from_url(
        config.database_url,
        pool_size=pool_size,
        pooler=config.database_pooler,
        listen_url=config.listen_database_url,
    )
