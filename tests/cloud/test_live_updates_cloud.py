"""Live updates as a cloud counter gets them: its engine through the transaction pooler, its
LISTEN on a session URL of its own; and polling, said so on the health page, when it has none."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from core.actor import Actor
from core.config import AppConfig
from core.db.engine import Database, open_database
from core.enums import PaymentMethod
from core.health import State, check_live_updates
from core.services import invoices, payments
from core.services.payments import NewPayment
from tests.cloud.conftest import pooler_url
from tests.factories import item, make_client
from tests.servers._proc import free_port
from tests.servers.pgbouncer import PgBouncer
from tests.servers.postgres15 import Postgres15
from workers.live_updates import LISTENING, POLLING, LiveUpdates

POLL_S = 0.2


@pytest.fixture
def counter_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("PRINTDESK_CONFIG", str(tmp_path / "none.toml"))
    for name in ("PRINTDESK_LISTEN_DATABASE_URL", "PRINTDESK_DATABASE_POOLER"):
        monkeypatch.delenv(name, raising=False)
    yield


def _open(**settings: object) -> Database:
    """The counter's database as the app opens it from its settings."""
    return open_database(AppConfig(**settings), stop_on_exit=False, pool_size=4)  # type: ignore[arg-type]


def _payment_elsewhere(other: Database, admin: Actor) -> int:
    """Another counter (also behind the pooler) makes an invoice and takes cash for it."""
    client_id = make_client(other, name="Cloud Client")
    with other.session() as s:
        inv = invoices.create_invoice(s, admin, client_id, [item()])
    with other.session() as s:
        payments.record_payment(s, admin, inv.id, NewPayment(Decimal("110.00"), PaymentMethod.CASH))
    return inv.id


def _is_payment(payload: dict[str, object]) -> bool:
    return payload.get("kind") == "payment"


@pytest.fixture
def other_counter(pgbouncer: PgBouncer, pg15_db: str) -> Iterator[Database]:
    db = Database.from_url(pooler_url(pgbouncer, pg15_db), pool_size=4)
    yield db
    db.dispose()


def test_notices_arrive_on_the_listeners_own_url_while_the_engine_uses_the_pooler(
    counter_config: None,
    pg15: Postgres15,
    pgbouncer: PgBouncer,
    pg15_db: str,
    other_counter: Database,
    admin: Actor,
    qtbot: QtBot,
) -> None:
    db = _open(
        DATABASE_URL=pgbouncer.url(pg15_db, driver=None),
        database_pooler="true",
        listen_database_url=pg15.url(pg15_db, driver=None),
    )
    listener = LiveUpdates.for_database(db, poll_s=POLL_S)
    try:
        assert db.engine.url.port == pgbouncer.port and db.pooler.transaction
        with qtbot.waitSignal(listener.connected, timeout=10_000):
            listener.start()
        assert listener.mode == LISTENING
        with qtbot.waitSignal(
            listener.changed, timeout=5_000, check_params_cb=_is_payment
        ) as blocker:
            invoice_id = _payment_elsewhere(other_counter, admin)
        payload = blocker.args[0]
        assert payload["id"] == invoice_id and payload["status"] == "PAID"
        assert payload["amount"] == "110.00" and payload["method"] == "CASH"
        assert "polled" not in payload  # it came by NOTIFY, not from the activity log
        health = check_live_updates(db, timeout_s=5)
        assert health.state is State.OK
        assert health.detail.startswith(f"Listening on 127.0.0.1:{pg15.port}")
    finally:
        listener.stop()
        db.dispose()


def test_a_transaction_pooler_as_the_listeners_url_means_polling_and_health_says_why(
    counter_config: None,
    pgbouncer: PgBouncer,
    pg15_db: str,
    other_counter: Database,
    admin: Actor,
    qtbot: QtBot,
) -> None:
    url = pooler_url(pgbouncer, pg15_db)  # `?pgbouncer=true`: detected, and dropped
    db = _open(DATABASE_URL=url, listen_database_url=url)
    listener = LiveUpdates.for_database(db, poll_s=POLL_S)
    try:
        assert not db.listen_plan.listens
        health = check_live_updates(db, timeout_s=5)
        assert health.state is State.OFF
        assert health.detail.startswith("Polling for changes every 3 s")
        assert "transaction pooler" in health.detail and "pgbouncer=true" in health.detail
        assert "listen_database_url" in health.fix and "5432" in health.fix
        with qtbot.waitSignal(listener.mode_changed, timeout=5_000):
            listener.start()
        assert listener.mode == POLLING
        with qtbot.waitSignal(
            listener.changed, timeout=10_000, check_params_cb=_is_payment
        ) as blocker:
            invoice_id = _payment_elsewhere(other_counter, admin)
        payload = blocker.args[0]
        # The same notice NOTIFY would have carried: the toast reads "INV-… paid A$110.00 by cash".
        assert payload["id"] == invoice_id and payload["number"].startswith("INV-")
        assert payload["status"] == "PAID" and payload["amount"] == "110.00"
        assert payload["method"] == "CASH" and payload["currency"] == "AUD"
    finally:
        listener.stop()
        db.dispose()


def test_an_unreachable_listener_falls_back_to_polling(
    counter_config: None,
    pgbouncer: PgBouncer,
    pg15_db: str,
    other_counter: Database,
    admin: Actor,
    qtbot: QtBot,
) -> None:
    nobody = free_port()
    db = _open(
        DATABASE_URL=pooler_url(pgbouncer, pg15_db),
        listen_database_url=f"postgresql://postgres@127.0.0.1:{nobody}/{pg15_db}",
    )
    listener = LiveUpdates.for_database(db, poll_s=POLL_S)
    try:
        health = check_live_updates(db, timeout_s=5)
        assert health.state is State.FAILED
        assert f"cannot reach 127.0.0.1:{nobody}" in health.detail
        with qtbot.waitSignal(listener.disconnected, timeout=10_000):
            listener.start()
        qtbot.waitUntil(lambda: listener.mode == POLLING, timeout=5_000)
        assert "cannot be reached" in listener.why
        with qtbot.waitSignal(listener.changed, timeout=10_000, check_params_cb=_is_payment):
            _payment_elsewhere(other_counter, admin)
    finally:
        listener.stop()
        db.dispose()
