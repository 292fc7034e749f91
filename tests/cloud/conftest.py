"""The cloud set-up on real servers: Debian's PostgreSQL 15, pgbouncer in transaction mode in
front of it (as Supabase's port 6543 pooler), and the relay's role logging in through it."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

# Live updates are QObjects; their signals need a QApplication, never a window.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from core.db.engine import Database
from tests.relay.conftest import anyio_backend, relay_config, secret  # noqa: F401
from tests.servers.fixtures import RELAY_ROLE, pg15, pg15_db, pgbouncer  # noqa: F401
from tests.servers.pgbouncer import PgBouncer
from tests.servers.postgres15 import Postgres15


@pytest.fixture
def direct_db(pg15: Postgres15, pg15_db: str) -> Iterator[Database]:  # noqa: F811
    """The test's database straight on the server, as the owner (sets up what a test needs)."""
    db = Database.from_url(pg15.url(pg15_db), pool_size=10)
    yield db
    db.dispose()


def pooler_url(bouncer: PgBouncer, database: str, *, user: str = "postgres") -> str:
    """The database through pgbouncer, flagged the way Prisma and Supabase guides write it."""
    return bouncer.url(database, user=user, driver=None) + "?pgbouncer=true"


@pytest.fixture
def pooled_relay_db(pgbouncer: PgBouncer, pg15_db: str) -> Iterator[Database]:  # noqa: F811
    """The relay's engine as a cloud host runs it: its own role, through the pooler."""
    db = Database.from_url(pooler_url(pgbouncer, pg15_db, user=RELAY_ROLE), pool_size=10)
    yield db
    db.dispose()
