"""The relay under load: signed Stripe deliveries with duplicates, against a bare endpoint.

Run: .venv/bin/python bench/relay.py [--deliveries 2000] [--duplicates 0.3] [--concurrency 16]

One uvicorn process on 127.0.0.1 serves the relay app (as the printdesk_relay role, on an
embedded PostgreSQL) and, beside it on the same server, a bare endpoint that reads the body
and answers 200 without any work. An httpx async client sends the same signed bodies to both
with the same concurrency, in the same run: deliveries per second and p50/p99 latency for each,
and the relay's figures as ratios of the bare endpoint's. Then it proves exactly-once: every
distinct event paid its invoice once, the duplicates paid nothing, and the sum is right.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from decimal import Decimal
from pathlib import Path

import httpx
import uvicorn
from sqlalchemy import func, select
from sqlalchemy.engine import make_url
from starlette.types import ASGIApp, Receive, Scope, Send

from core.actor import Actor
from core.config import AppConfig
from core.db.embedded import start_embedded
from core.db.engine import Database
from core.db.migrate import upgrade
from core.db.models import Client, Invoice, Payment, WebhookEvent
from core.enums import Role
from core.services import invoices
from core.services.line_items import DocumentTerms, ItemInput, read_for_document

ROOT = Path(__file__).resolve().parents[1]
ACTOR = Actor(user_id=None, role=Role.ADMIN, label="bench")
RELAY_ROLE = "printdesk_relay"
# Not yet in migration 0001 (see tests/relay/conftest.py): activity rows are read back.
BARE_PATH = "/bench/bare"
INVOICE_CENTS = 11000  # 100.00 + 10 % GST


# --- the server process ---------------------------------------------------------------------


def with_bare_endpoint(relay: ASGIApp) -> ASGIApp:
    """The relay app, plus BARE_PATH: read the body, answer 200, nothing else."""

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] == BARE_PATH:
            more = True
            while more:
                message = await receive()
                more = bool(message.get("more_body", False))
            await send(
                {
                    "type": "http.response.start",
                    "status": 200,
                    "headers": [(b"content-type", b"application/json")],
                }
            )
            await send({"type": "http.response.body", "body": b'{"ok":true}'})
            return
        await relay(scope, receive, send)

    return app


class _Server(uvicorn.Server):
    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=sockets)
        assert sockets
        print(f"READY {sockets[0].getsockname()[1]}", flush=True)


def serve(db_url: str, secret: str, log_path: Path) -> None:
    from relay.app import create_app
    from relay.logs import configure_json_logging

    with log_path.open("w", encoding="utf-8") as log_file:
        configure_json_logging("INFO", stream=log_file)
        config = AppConfig(stripe_webhook_secret=secret, relay_maintenance_interval_s=0)
        database = Database.from_url(db_url, pool_size=16)
        app = with_bare_endpoint(create_app(config, database))
        # IPPROTO_TCP, not 0: asyncio only sets TCP_NODELAY on sockets that say they are TCP,
        # and without it every response stalls ~40 ms on Nagle + delayed ACK.
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.bind(("127.0.0.1", 0))
        server = _Server(
            uvicorn.Config(
                app, log_config=None, access_log=False, backlog=256, timeout_keep_alive=30
            )
        )
        server.run(sockets=[sock])
        database.dispose()


# --- the load -------------------------------------------------------------------------------


def pct(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def load(
    base: str, path: str, deliveries: list[tuple[bytes, str]], concurrency: int
) -> tuple[float, list[float], list[httpx.Response | str]]:
    """Send every delivery with ``concurrency`` in flight; wall time, latencies, replies.

    A delivery the transport loses is kept as the error's name, never retried: the proof of
    exactly-once must see it.
    """
    latencies: list[float] = []
    replies: list[httpx.Response | str] = []
    queue = iter(deliveries)
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=60) as client:

        async def worker() -> None:
            for body, signature in queue:
                started = time.perf_counter()
                try:
                    reply: httpx.Response | str = await client.post(
                        path,
                        content=body,
                        headers={"Stripe-Signature": signature, "Content-Type": "application/json"},
                    )
                except httpx.TransportError as exc:
                    reply = type(exc).__name__
                latencies.append(time.perf_counter() - started)
                replies.append(reply)

        wall = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        wall = time.perf_counter() - wall
    return wall, latencies, replies


def line(name: str, n: int, wall: float, latencies: list[float]) -> str:
    return (
        f"{name:<34} {n / wall:8.0f}/s  p50 {statistics.median(latencies) * 1000:7.2f} ms"
        f"  p99 {pct(latencies, 0.99) * 1000:7.2f} ms"
    )


def as_relay_role(url: str) -> str:
    return (
        make_url(url)
        .update_query_dict({"options": f"-c role={RELAY_ROLE}"})
        .render_as_string(hide_password=False)
    )


def make_invoices(db: Database, count: int) -> list[tuple[int, str]]:
    """``count`` invoices of 110.00 through the invoice service, 200 to a transaction."""
    with db.session() as s, s.begin():
        client = Client(name="Bench Client", email="bench@example.com")
        s.add(client)
        s.flush()
        client_id = client.id
    item = [ItemInput("Part", Decimal("1"), Decimal("100.00"))]
    made: list[tuple[int, str]] = []
    while len(made) < count:
        with db.session() as s, s.begin():
            for _ in range(min(200, count - len(made))):
                context = read_for_document(s, "invoice", client_id, [])
                inv = invoices.insert_invoice(s, ACTOR, context, item, DocumentTerms())
                made.append((inv.id, inv.number))
    return made


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--deliveries", type=int, default=2000)
    parser.add_argument("--duplicates", type=float, default=0.3)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--keep-log", type=Path, help="copy the relay's JSON log here")
    parser.add_argument(
        "--serve", nargs=3, metavar=("DB_URL", "SECRET", "LOG"), help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    # This file is bench/relay_deliveries.py: put the repository first so `relay` is the package.
    sys.path.insert(0, str(ROOT))
    if args.serve:
        serve(args.serve[0], args.serve[1], Path(args.serve[2]))
        return

    from tests.relay import stripe_payloads as sp  # Stripe's own shapes, signed as Stripe does

    rng = random.Random(args.seed)
    distinct = round(args.deliveries * (1 - args.duplicates))
    duplicates = args.deliveries - distinct
    secret = f"whsec_bench_{rng.getrandbits(64):x}"
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        url = start_embedded(Path(tmp) / "pg", stop_on_exit=True)
        db = Database.from_url(url, pool_size=8)
        upgrade(db.engine)
        targets = make_invoices(db, distinct)
        events = [
            sp.event(
                "checkout.session.completed",
                sp.checkout_session(
                    invoice_id=inv_id, amount_cents=INVOICE_CENTS, invoice_number=number
                ),
            )
            for inv_id, number in targets
        ]
        bodies = [sp.encode(evt) for evt in events]
        order = list(range(distinct)) + [rng.randrange(distinct) for _ in range(duplicates)]
        rng.shuffle(order)
        setup_s = time.perf_counter() - started

        log_path = Path(tmp) / "relay.log"
        server = subprocess.Popen(
            [sys.executable, __file__, "--serve", as_relay_role(url), secret, str(log_path)],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            assert server.stdout is not None
            ready = server.stdout.readline().split()
            if not ready or ready[0] != "READY":
                raise SystemExit("the relay server did not start")
            base = f"http://127.0.0.1:{ready[1]}"
            # Signed now, so every signature is fresh (300 s tolerance) when it is sent.
            deliveries = [(bodies[i], sp.sign(bodies[i], secret)) for i in order]
            warmup = [(b"{}", "t=0,v1=0")] * 100
            asyncio.run(load(base, BARE_PATH, warmup, args.concurrency))
            asyncio.run(load(base, "/healthz", [], args.concurrency))
            bare_wall, bare_lat, bare_replies = asyncio.run(
                load(base, BARE_PATH, deliveries, args.concurrency)
            )
            relay_wall, relay_lat, relay_replies = asyncio.run(
                load(base, "/stripe/webhook", deliveries, args.concurrency)
            )
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(60)
            if args.keep_log:
                shutil.copyfile(log_path, args.keep_log)

        statuses = Counter(
            r.status_code if isinstance(r, httpx.Response) else r
            for r in relay_replies + bare_replies
        )
        outcomes = Counter(
            r.json().get("outcome") if isinstance(r, httpx.Response) else r for r in relay_replies
        )
        with db.session() as s:
            payments = int(s.scalar(select(func.count()).select_from(Payment)) or 0)
            paid_sum = Decimal(s.scalar(select(func.coalesce(func.sum(Payment.amount), 0))) or 0)
            keyed = int(s.scalar(select(func.count(func.distinct(Payment.processor_id)))) or 0)
            recorded_events = int(s.scalar(select(func.count()).select_from(WebhookEvent)) or 0)
            paid_invoices = int(
                s.scalar(select(func.count()).select_from(Invoice).where(Invoice.status == "PAID"))
                or 0
            )
        applied = [
            record
            for record in map(json.loads, log_path.read_text(encoding="utf-8").splitlines())
            if record.get("event") == "webhook.applied"
        ]
        applied_logs = len(applied)
        db.dispose()

    expected_sum = Decimal(INVOICE_CENTS) / 100 * distinct
    print(
        f"{args.deliveries} deliveries ({distinct} distinct checkout.session.completed events, "
        f"{duplicates} duplicates), concurrency {args.concurrency}, one uvicorn process on "
        f"127.0.0.1, embedded PostgreSQL, relay as {RELAY_ROLE}; {os.cpu_count()} cores, "
        f"load average {os.getloadavg()[0]:.1f} (1 min, at the end); setup {setup_s:.1f} s"
    )
    print(line("bare endpoint (200, no work)", len(bare_lat), bare_wall, bare_lat))
    print(line("relay POST /stripe/webhook", len(relay_lat), relay_wall, relay_lat))
    rate_ratio = (len(relay_lat) / relay_wall) / (len(bare_lat) / bare_wall)
    print(
        f"{'relay ÷ bare':<34} throughput ×{rate_ratio:.2f}"
        f"  p50 ×{statistics.median(relay_lat) / statistics.median(bare_lat):.1f}"
        f"  p99 ×{pct(relay_lat, 0.99) / pct(bare_lat, 0.99):.1f}"
    )
    for outcome in ("recorded", "duplicate"):
        server_ms = [float(a["ms"]) for a in applied if a.get("outcome") == outcome]
        if server_ms:
            print(
                f"{'  in the relay, ' + outcome:<34} {'':>10}  p50 "
                f"{statistics.median(server_ms):7.2f} ms  p99 {pct(server_ms, 0.99):7.2f} ms"
                "  (its own log: body read to reply)"
            )
    print(f"HTTP statuses: {dict(statuses)}; relay outcomes: {dict(outcomes)}")
    checks = {
        "every reply 200": statuses == Counter({200: 2 * args.deliveries}),
        f"payments == distinct paying events ({distinct})": payments == distinct == keyed,
        f"sum == {expected_sum}": paid_sum == expected_sum,
        f"invoices PAID == {distinct}": paid_invoices == distinct,
        f"webhook_events == {distinct}": recorded_events == distinct,
        f"recorded {distinct}, duplicate {duplicates}": outcomes
        == Counter({"recorded": distinct, "duplicate": duplicates}),
        f"JSON log lines webhook.applied == {args.deliveries}": applied_logs == args.deliveries,
    }
    print(
        f"exactly-once: payments {payments} (distinct pi_ {keyed}), sum {paid_sum}, "
        f"paid invoices {paid_invoices}, events kept {recorded_events}"
    )
    for name, ok in checks.items():
        print(f"  {'ok  ' if ok else 'FAIL'} {name}")
    if not all(checks.values()):
        raise SystemExit(1)


if __name__ == "__main__":
    main()
