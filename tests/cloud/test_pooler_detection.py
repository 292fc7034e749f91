"""What the URL and `database_pooler` say about a pooler, and where live updates listen."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest

from core.config import AppConfig, ConfigError, write_config_file
from core.db.engine import Database, detect_pooler, normalise_url, plan_listener
from tests.servers.postgres15 import Postgres15

PROJECT = "abcdefghijklmnop"
DIRECT = f"postgresql://postgres:pw@db.{PROJECT}.supabase.co:5432/postgres"
SESSION = f"postgresql://postgres.{PROJECT}:pw@aws-0-eu-central-1.pooler.supabase.com:5432/postgres"
TRANSACTION = SESSION.replace(":5432/", ":6543/")


@pytest.mark.parametrize(
    ("url", "setting", "transaction", "no_prepare"),
    [
        (DIRECT, "auto", False, False),
        (SESSION, "auto", False, True),
        (TRANSACTION, "auto", True, True),
        (f"postgresql://u@db.{PROJECT}.supabase.co:6543/postgres", "auto", True, True),
        ("postgresql://u@10.0.0.5:7777/shop?pgbouncer=true", "auto", True, True),
        ("postgresql://u@10.0.0.5:7777/shop?pgbouncer=false", "auto", False, False),
        ("postgresql://u@10.0.0.5:7777/shop", "true", True, True),
        (TRANSACTION, "false", False, False),
    ],
)
def test_the_pooler_is_read_from_the_url_and_the_setting(
    url: str, setting: str, transaction: bool, no_prepare: bool
) -> None:
    found = detect_pooler(url, setting)
    assert (found.transaction, found.no_prepare) == (transaction, no_prepare), found.reason


def test_the_pgbouncer_flag_is_dropped_before_connecting() -> None:
    url = normalise_url("postgresql://u:p@h:6543/shop?pgbouncer=true&sslmode=require")
    assert url == "postgresql+psycopg://u:p@h:6543/shop?sslmode=require"


def test_a_pooled_engine_connects_without_prepared_statements(
    pg15: Postgres15, pg15_db: str
) -> None:
    pooled = Database.from_url(pg15.url(pg15_db, driver=None) + "?pgbouncer=true")
    direct = Database.from_url(pg15.url(pg15_db, driver=None))
    try:
        assert "transaction pooler" in pooled.describe()
        for db, threshold in ((pooled, None), (direct, 5)):
            with db.engine.connect() as conn:
                raw = conn.connection.dbapi_connection
                assert isinstance(raw, psycopg.Connection)
                assert raw.prepare_threshold == threshold
    finally:
        pooled.dispose()
        direct.dispose()


def test_the_listener_uses_its_own_url_or_the_database_unless_that_is_a_transaction_pooler() -> (
    None
):
    assert plan_listener(DIRECT, detect_pooler(DIRECT), None).url == normalise_url(DIRECT)
    assert plan_listener(SESSION, detect_pooler(SESSION), None).listens
    polling = plan_listener(TRANSACTION, detect_pooler(TRANSACTION), None)
    assert polling.url is None and "port 6543" in polling.reason
    own = plan_listener(TRANSACTION, detect_pooler(TRANSACTION), DIRECT)
    assert own.url == normalise_url(DIRECT) and own.reason == "listen_database_url"
    wrong = plan_listener(DIRECT, detect_pooler(DIRECT), TRANSACTION)
    assert wrong.url is None and "listen_database_url is a transaction pooler" in wrong.reason


def test_settings_take_the_pooler_and_the_listeners_url(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config_file = tmp_path / "printdesk.toml"
    config_file.write_text(
        f'database_url = "{TRANSACTION.replace(":pw", "")}"\ndatabase_pooler = true\n'
        f'listen_database_url = "{DIRECT.replace(":pw", "")}"\n'
    )
    monkeypatch.setenv("PRINTDESK_CONFIG", str(config_file))
    monkeypatch.setenv("PRINTDESK_DATABASE_PASSWORD", "s3cret")
    monkeypatch.delenv("PRINTDESK_DATABASE_POOLER", raising=False)
    monkeypatch.delenv("PRINTDESK_LISTEN_DATABASE_URL", raising=False)
    config = AppConfig()
    assert config.database_pooler == "true"
    # One password for the project: the listener's URL gets it as the database's does.
    assert config.listen_database_url == DIRECT.replace(":pw", ":s3cret")
    monkeypatch.setenv("PRINTDESK_DATABASE_POOLER", "auto")
    assert AppConfig().database_pooler == "auto"
    monkeypatch.setenv("PRINTDESK_DATABASE_POOLER", "sometimes")
    with pytest.raises(ValueError, match="database_pooler"):
        AppConfig()
    with pytest.raises(ConfigError, match="listen_database_url"):
        write_config_file(config_file, {"listen_database_url": DIRECT})
