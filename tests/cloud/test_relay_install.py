"""The relay installs and runs on its own: `pip install '.[relay]'` into a new venv gives no
Qt, VTK or pyvista, and `printdesk relay serve` from it answers /healthz and records a
payment through the transaction pooler."""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

import httpx
import pytest

from core.actor import Actor
from core.db.engine import Database
from tests.cloud.conftest import pooler_url
from tests.relay import stripe_payloads as sp
from tests.relay.conftest import counts, new_invoice, set_session
from tests.servers.fixtures import RELAY_ROLE
from tests.servers.pgbouncer import PgBouncer
from tests.servers.relay_venv import RelayProcess, build_venv, clean_env

GUI_PACKAGES = ("PySide6", "vtk", "pyvista", "pyvistaqt", "qasync", "qtpy")


@pytest.mark.slow
@pytest.mark.timeout(900)  # the first run on a machine downloads the wheels
def test_a_relay_only_venv_serves_webhooks_through_the_pooler(
    pgbouncer: PgBouncer, pg15_db: str, direct_db: Database, admin: Actor
) -> None:
    with tempfile.TemporaryDirectory(prefix="printdesk-relay-venv-") as tmp:
        work = Path(tmp)
        venv = work / "venv"
        build_venv(venv)
        python = str(venv / "bin" / "python")
        probe = (
            "import importlib.util, sys, cli.main, relay.app\n"
            f"found = [m for m in {GUI_PACKAGES!r} if importlib.util.find_spec(m)]\n"
            "loaded = [m for m in sys.modules if m.split('.')[0] in "
            f"{GUI_PACKAGES!r}]\n"
            "print(found, loaded)\n"
        )
        home = work / "home"
        home.mkdir()
        checked = subprocess.run(
            [python, "-c", probe],
            capture_output=True,
            text=True,
            cwd=work,
            env=clean_env({}, home),
            check=False,
        )
        assert checked.returncode == 0, checked.stderr
        assert checked.stdout.strip() == "[] []"

        secret = "whsec_relay_only_install"
        env = clean_env(
            {
                "DATABASE_URL": pooler_url(pgbouncer, pg15_db, user=RELAY_ROLE),
                "STRIPE_WEBHOOK_SECRET": secret,
                "PRINTDESK_DATA_DIR": str(home / "data"),
                "PRINTDESK_LOG_DIR": str(home / "log"),
                "PRINTDESK_RELAY_MAINTENANCE_INTERVAL_S": "0",
            },
            home,
        )
        relay = RelayProcess(venv, env, work)
        try:
            relay.wait_healthy()
            inv = new_invoice(direct_db, admin)
            cs = sp.checkout_session(invoice_id=inv.id, amount_cents=11000)
            set_session(direct_db, inv.id, cs["id"], 11000)
            body = sp.encode(sp.event("checkout.session.completed", cs))
            reply = httpx.post(
                f"{relay.url}/stripe/webhook",
                content=body,
                headers={"Stripe-Signature": sp.sign(body, secret)},
                timeout=30,
            )
        finally:
            relay.stop()
        assert reply.status_code == 200 and reply.json()["outcome"] == "recorded", reply.text
        assert counts(direct_db)["payments"] == 1
        log = relay.log_path.read_text()
        assert '"relay.started"' in log or "relay.started" in log
        assert "Traceback" not in log
