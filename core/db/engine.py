"""The database handle: engine, session factory and the one-transaction scope services use."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import Engine, create_engine
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from core.config import AppConfig
from core.db.embedded import start_embedded


def normalise_url(url: str) -> str:
    """Accept plain ``postgresql://`` URLs (as Supabase hands them out) and use psycopg 3."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


@dataclass(frozen=True)
class Database:
    engine: Engine
    sessions: sessionmaker[Session]
    embedded: bool

    @classmethod
    def from_url(cls, url: str, *, embedded: bool = False, pool_size: int = 5) -> Database:
        engine = create_engine(
            normalise_url(url), pool_size=pool_size, max_overflow=10, pool_pre_ping=True
        )
        return cls(engine, sessionmaker(engine, expire_on_commit=False), embedded)

    @contextmanager
    def session(self) -> Iterator[Session]:
        with self.sessions() as session:
            yield session

    def describe(self) -> str:
        url = self.engine.url
        where = "embedded" if self.embedded else (url.host or "local socket")
        return f"{url.database} ({where})"

    def dispose(self) -> None:
        self.engine.dispose()


def resolve_database_url(config: AppConfig, *, stop_on_exit: bool) -> tuple[str, bool]:
    """The configured URL, or the embedded server's (started on demand)."""
    if config.database_url:
        return normalise_url(config.database_url), False
    return start_embedded(config.pgdata_dir, stop_on_exit=stop_on_exit), True


def open_database(config: AppConfig, *, stop_on_exit: bool, pool_size: int = 5) -> Database:
    url, embedded = resolve_database_url(config, stop_on_exit=stop_on_exit)
    return Database.from_url(url, embedded=embedded, pool_size=pool_size)
