"""The relay deployed on its own: install size and cold start, relay-only beside the full install.

Run: .venv/bin/python bench/relay_install.py [--starts 3]

Builds two venvs from this checkout, as a host would (`pip install '.[relay]'` and
`pip install '.[desktop]'`, bytecode compiled as pip does by default), from wheelhouses cached
under .cache/wheels (the first run downloads them; that is not timed). For each it prints the
venv's size, the install time, and the cold start of `printdesk relay serve`: process start to
the first 200 on /healthz, through pgbouncer (transaction mode) in front of a private
PostgreSQL 15, median of --starts runs, the two installs taking turns. The full install is
the baseline measured in the same run; the relay-only figures are given as ratios of it.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.servers.fixtures import RELAY_ROLE, TEMPLATE, migrated_server
from tests.servers.pgbouncer import PgBouncer
from tests.servers.relay_venv import (
    RelayProcess,
    build_venv,
    clean_env,
    site_packages_mb,
)


def cold_starts(venv: Path, database_url: str, work: Path, runs: int) -> list[float]:
    home = work / "home"
    home.mkdir(exist_ok=True)
    env = clean_env(
        {
            "DATABASE_URL": database_url,
            "STRIPE_WEBHOOK_SECRET": "whsec_bench",
            "PRINTDESK_DATA_DIR": str(home / "data"),
            "PRINTDESK_LOG_DIR": str(home / "log"),
            "PRINTDESK_RELAY_MAINTENANCE_INTERVAL_S": "0",
        },
        home,
    )
    times = []
    for _ in range(runs):
        relay = RelayProcess(venv, env, work)
        try:
            times.append(relay.wait_healthy())
        finally:
            relay.stop()
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--starts", type=int, default=5, help="cold starts per install")
    args = parser.parse_args()

    server = migrated_server()
    bouncer = PgBouncer(server.port, users=("postgres", RELAY_ROLE)).start()
    try:
        name = server.create_database(template=TEMPLATE)
        url = bouncer.url(name, user=RELAY_ROLE, driver=None) + "?pgbouncer=true"
        figures = {}
        with tempfile.TemporaryDirectory(prefix="printdesk-bench-install-") as tmp:
            built = {}
            for extras in ("desktop", "relay"):
                work = Path(tmp) / extras
                work.mkdir()
                venv = work / "venv"
                install_s = build_venv(venv, extras=extras, compile_bytecode=True)
                built[extras] = (venv, work, install_s)
            # Interleaved, so a busy spell on the shared machine falls on both alike.
            starts: dict[str, list[float]] = {"desktop": [], "relay": []}
            for _ in range(args.starts):
                for extras, (venv, work, _) in built.items():
                    starts[extras] += cold_starts(venv, url, work, 1)
            for extras, (venv, _, install_s) in built.items():
                median = statistics.median(starts[extras])
                figures[extras] = (site_packages_mb(venv), install_s, median)
                print(
                    f"{'printdesk[' + extras + ']':20s} {figures[extras][0]:8.0f} MB  "
                    f"install {install_s:6.1f} s  cold start to /healthz 200: "
                    f"median {median:5.2f} s  ({', '.join(f'{s:.2f}' for s in starts[extras])})"
                )
        full, relay = figures["desktop"], figures["relay"]
        print(
            f"relay-only / full: size {relay[0] / full[0]:.2f}×, "
            f"install {relay[1] / full[1]:.2f}×, cold start {relay[2] / full[2]:.2f}×"
        )
    finally:
        bouncer.cleanup()
        server.cleanup()


if __name__ == "__main__":
    main()
