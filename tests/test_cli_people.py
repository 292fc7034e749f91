"""The CLI contract for users and clients, run as a real subprocess."""

from __future__ import annotations

from pathlib import Path

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select

from core.db.engine import Database
from core.db.models import User
from tests.cli_runner import Result, printdesk


@pytest.fixture
def run(db_url: str, tmp_path: Path):  # type: ignore[no-untyped-def]
    def call(*args: str, stdin: str | None = None) -> Result:
        return printdesk(*args, db_url=db_url, data_dir=tmp_path, stdin=stdin)

    return call


def test_user_add_reads_the_password_from_stdin(database: Database, run) -> None:  # type: ignore[no-untyped-def]
    added = run(
        "user",
        "add",
        "Owner@Shop.example",
        "--role",
        "admin",
        "--password-stdin",
        "--json",
        stdin="correct horse battery\n",
    )
    assert added.code == 0, added.stderr
    assert added.json()["email"] == "owner@shop.example"
    assert added.json()["role"] == "ADMIN"
    with database.session() as s:
        stored = s.scalars(select(User)).one()
    assert "correct horse" not in stored.password_hash
    assert PasswordHasher().verify(stored.password_hash, "correct horse battery")

    again = run(
        "user",
        "add",
        "owner@shop.example",
        "--role",
        "staff",
        "--password-stdin",
        stdin="another password\n",
    )
    assert again.code == 1 and "already" in again.stderr and len(again.stderr.splitlines()) == 1
    short = run(
        "user", "add", "s@shop.example", "--role", "staff", "--password-stdin", stdin="short\n"
    )
    assert short.code == 1 and "8" in short.stderr
    role = run("user", "add", "s@shop.example", "--role", "boss", "--password-stdin", stdin="x\n")
    assert role.code == 1 and "Unknown role 'boss'" in role.stderr


def test_client_add_and_show(run) -> None:  # type: ignore[no-untyped-def]
    added = run(
        "client",
        "add",
        "--name",
        "Zoë Ångström",
        "--email",
        "zoe@example.com",
        "--phone",
        "0412 345 678",
        "--json",
    )
    assert added.code == 0, added.stderr
    client = added.json()
    assert client["name"] == "Zoë Ångström" and client["phone"] == "0412 345 678"
    shown = run("client", "show", str(client["id"]), "--json").json()
    assert shown == client
    listed = run("client", "list", "--search", "0412345", "--json").json()
    assert [c["id"] for c in listed["clients"]] == [client["id"]]
    bad = run("client", "add", "--name", "X", "--email", "not-an-email")
    assert bad.code == 1 and bad.stdout == "" and len(bad.stderr.strip().splitlines()) == 1
    blank = run("client", "add", "--name", "  ")
    assert blank.code == 1 and "name" in blank.stderr.lower()
