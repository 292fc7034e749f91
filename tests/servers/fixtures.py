"""Session-wide pytest fixtures over the real servers; import them into a conftest:

    from tests.servers.fixtures import pg15, pg15_db, pgbouncer  # noqa: F401

``pg15``: a private PostgreSQL 15 with ``printdesk_template`` migrated to the newest schema
and the relay's role allowed to log in. ``pg15_db``: a fresh database from that template for
one test (dropped afterwards). ``pgbouncer``: pgbouncer in transaction mode in front of
``pg15``. All are torn down at the end of the run.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine
from sqlalchemy.pool import NullPool

from core.db.migrate import upgrade
from tests.servers.pgbouncer import PgBouncer
from tests.servers.postgres15 import Postgres15

TEMPLATE = "printdesk_template"
RELAY_ROLE = "printdesk_relay"


def migrated_server() -> Postgres15:
    """A started server with the migrated template (for benches as much as tests)."""
    server = Postgres15().start()
    try:
        server.create_database(TEMPLATE)
        engine = create_engine(server.url(TEMPLATE), poolclass=NullPool)
        try:
            upgrade(engine)
        finally:
            engine.dispose()
        # As the README tells a shop to: the relay's role logs in with its own name.
        server.execute(f"ALTER ROLE {RELAY_ROLE} LOGIN")
    except BaseException:
        server.cleanup()
        raise
    return server


@pytest.fixture(scope="session")
def pg15() -> Iterator[Postgres15]:
    server = migrated_server()
    yield server
    server.cleanup()


@pytest.fixture
def pg15_db(pg15: Postgres15) -> Iterator[str]:
    name = pg15.create_database(template=TEMPLATE)
    yield name
    pg15.drop_database(name)


@pytest.fixture(scope="session")
def pgbouncer(pg15: Postgres15) -> Iterator[PgBouncer]:
    bouncer = PgBouncer(pg15.port, users=("postgres", RELAY_ROLE)).start()
    yield bouncer
    bouncer.cleanup()
