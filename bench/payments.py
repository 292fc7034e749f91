"""Invoices created and payments recorded per second, against a raw SQL insert in the same run.

Run: .venv/bin/python bench/payments.py [--n 300] [--threads 8]
Prints throughput and p50/p99 per operation, and each as a ratio to the raw SQL baseline
(one INSERT in its own transaction over the same connection pool). Absolute times on a
shared machine mean little; the ratios are the figures to compare.
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from pathlib import Path

from sqlalchemy import text

from core.actor import Actor
from core.db.embedded import start_embedded
from core.db.engine import Database
from core.db.migrate import upgrade
from core.db.models import Client
from core.enums import PaymentMethod, Role
from core.errors import Conflict
from core.services import invoices, payments
from core.services.line_items import ItemInput
from core.services.payments import NewPayment

ACTOR = Actor(user_id=None, role=Role.ADMIN, label="bench")


def timed(op: Callable[[], object], n: int) -> list[float]:
    samples = []
    for _ in range(n):
        start = time.perf_counter()
        op()
        samples.append(time.perf_counter() - start)
    return samples


def pct(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def report(name: str, samples: list[float], base: list[float]) -> None:
    rate = len(samples) / sum(samples)
    base_p50 = statistics.median(base)
    print(
        f"{name:<28} {rate:8.0f}/s  p50 {statistics.median(samples) * 1000:7.2f} ms"
        f"  p99 {pct(samples, 0.99) * 1000:7.2f} ms"
        f"  p50 ×{statistics.median(samples) / base_p50:5.1f} of raw insert"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=300)
    parser.add_argument("--threads", type=int, default=8)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        db = Database.from_url(start_embedded(Path(tmp) / "pg", stop_on_exit=True), pool_size=16)
        upgrade(db.engine)
        with db.session() as s, s.begin():
            client = Client(name="Bench Client", email="bench@example.com")
            s.add(client)
            s.flush()
            client_id = client.id
        item = [ItemInput("Part", Decimal("2"), Decimal("50.00"))]

        def create() -> int:
            with db.session() as s:
                return invoices.create_invoice(s, ACTOR, client_id, item).id

        ids = [create() for _ in range(20)]  # warm-up: pool, statement caches

        def raw_insert() -> None:
            with db.engine.begin() as conn:
                conn.execute(
                    text(
                        "INSERT INTO payments (invoice_id, method, amount, currency) "
                        "VALUES (:i, 'CASH', 0.01, 'AUD')"
                    ),
                    {"i": ids[0]},
                )

        base = timed(raw_insert, args.n)
        created: list[int] = []
        create_samples = timed(lambda: created.append(create()), args.n)
        queue = iter(created)

        def pay() -> None:
            with db.session() as s:
                payments.record_payment(
                    s, ACTOR, next(queue), NewPayment(Decimal("10.00"), PaymentMethod.CASH)
                )

        pay_samples = timed(pay, args.n)

        # Many counters paying one invoice at once: serialised by the row lock, never over
        # the total (n × 1.00 is more than the 110.00 owed, so most are refused).
        target = create()
        contended: list[float] = []

        def pay_contended(_: int) -> None:
            start = time.perf_counter()
            with db.session() as s, contextlib.suppress(Conflict):
                payments.record_payment(
                    s, ACTOR, target, NewPayment(Decimal("1.00"), PaymentMethod.CASH)
                )
            contended.append(time.perf_counter() - start)

        wall = time.perf_counter()
        with ThreadPoolExecutor(args.threads) as pool:
            list(pool.map(pay_contended, range(args.n)))
        wall = time.perf_counter() - wall
        with db.session() as s:
            final = invoices.get_invoice(s, target)

        print(f"n={args.n} per operation, PostgreSQL embedded, pool 16")
        report("raw SQL insert (baseline)", base, base)
        report("create_invoice", create_samples, base)
        report("record_payment", pay_samples, base)
        print(
            f"{'record_payment, 1 invoice':<28} {args.n / wall:8.0f}/s  p50 "
            f"{statistics.median(contended) * 1000:7.2f} ms"
            f"  p99 {pct(contended, 0.99) * 1000:7.2f} ms"
            f"  ({args.threads} threads; paid {final.amount_paid} of {final.total}, "
            f"balance {final.balance_due})"
        )
        db.dispose()


if __name__ == "__main__":
    main()
