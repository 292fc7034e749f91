"""The desktop on a remote PostgreSQL 15 and the relay behind pgbouncer, at 0, 60 and 200 ms.

Run: .venv/bin/python bench/remote_db.py [--latencies 0,60,200] [--scale 1] [--visits 2]
     [--deliveries 30] [--relay-latencies 0,60]

One private PostgreSQL 15 (Debian's, through tests/servers) is migrated and seeded with the demo
shop through the services (`seed_demo_shop`); every latency gets its own copy of that database,
so each run starts from the same books. The latency proxy of tests/servers holds every chunk
half the round trip in each direction (0 ms runs through the same proxy: the baseline).

For each latency the app's own path builds the real main window offscreen: the database opened
as `printdesk` opens a `DATABASE_URL` (`open_shop_database`), the demo owner signed in through
the sign-in view model, `build_main_window`, the live-update listener started, the window
shown. Then it clicks each screen's rail button (twice over) and does three actions as staff
would: open an invoice from the list, record a part payment in the payment dialog, and make a
quote from Quick order (find a client, drop a model, wait for its price, Make quote). For each:

- block: the longest gap of a 5 ms precise QTimer heartbeat from the click until the data is
  shown and 100 ms after (less the 5 ms interval): how long the window could not repaint;
- call: the synchronous part of the click itself;
- shown: click until the view model's loading flag clears (or the action's result is on screen);
- SQL / RT: statements (`before_cursor_execute` on the app's engine) and round trips (those plus
  the BEGIN psycopg sends before a transaction's first statement, its COMMIT/ROLLBACK and the
  pool's pre-ping) until shown; ``later``: round trips in the second after (live updates,
  follow-up reads); ``conn``: new connections made meanwhile.

Relay: pgbouncer in transaction mode, the proxy in front of it; N distinct signed
`checkout.session.completed` deliveries (then the same N again, as Stripe retries) to the relay
app in-process (httpx ASGI), in bursts, beside N bare `GET /healthz` in the same run.

It prints; nothing here passes or fails. Targets from issue 12 are printed beside the figures.
Loopback only; every wait is bounded; servers stop at the end, on an error and on Ctrl+C.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import signal
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from types import FrameType
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("VTK_DEFAULT_OPENGL_WINDOW", "vtkEGLRenderWindow")
_CURA = ROOT / ".cache" / "cura" / "usr" / "share" / "cura" / "resources"
if _CURA.is_dir():
    os.environ.setdefault("PRINTDESK_CURA_RESOURCES", str(_CURA))

import httpx  # noqa: E402
import shiboken6  # noqa: E402
from PySide6.QtCore import QEventLoop, QSettings, Qt, QTimer  # noqa: E402
from PySide6.QtTest import QTest  # noqa: E402
from PySide6.QtWidgets import QApplication, QWidget  # noqa: E402
from sqlalchemy import create_engine, event, func, select  # noqa: E402
from sqlalchemy.engine import Engine  # noqa: E402
from sqlalchemy.pool import NullPool  # noqa: E402

from core.actor import Actor  # noqa: E402
from core.config import AppConfig  # noqa: E402
from core.db.engine import Database  # noqa: E402
from core.db.models import Invoice, Payment  # noqa: E402
from core.enums import InvoiceStatus, Role  # noqa: E402
from core.services import clients as client_service  # noqa: E402
from core.services import invoices  # noqa: E402
from core.services.demo import OWNER_EMAIL, OWNER_PASSWORD, seed_demo_shop  # noqa: E402
from core.services.line_items import ItemInput  # noqa: E402
from desktop.app import build_main_window, open_shop_database  # noqa: E402
from desktop.viewmodels.auth import AuthViewModel  # noqa: E402
from desktop.viewmodels.notifier import Notice, Notifier  # noqa: E402
from desktop.viewmodels.quick_order import MadeDocument  # noqa: E402
from desktop.viewmodels.quick_order_parts import PartStage  # noqa: E402
from desktop.views.main_window import MainWindow  # noqa: E402
from desktop.views.payment_dialog import PaymentDialog  # noqa: E402
from tests.servers.fixtures import RELAY_ROLE, TEMPLATE, migrated_server  # noqa: E402
from tests.servers.latency import LatencyProxy  # noqa: E402
from tests.servers.pgbouncer import PgBouncer  # noqa: E402
from tests.servers.postgres15 import Postgres15  # noqa: E402
from workers.tasks import TaskRunner  # noqa: E402

HEARTBEAT_MS = 5
TAIL_S = 0.1  # after the data is shown: its paint is part of the switch
LATER_S = 1.0  # round trips that follow (live updates, reads started by the result)
SCREENS = (
    ("Clients", "clients"),
    ("Quotes", "quotes"),
    ("Invoices", "invoices"),
    ("Jobs", "jobs"),
    ("Files", "files"),
    ("Settings", "settings"),
    ("Quick order", "quick-order"),
    ("Dashboard", "dashboard"),
)
TARGET_BLOCK_MS = 50.0
TARGET_RT = 4
BENCH_ACTOR = Actor(user_id=None, role=Role.ADMIN, label="bench")


class Stopped(KeyboardInterrupt):
    """Ctrl+C or SIGTERM arrived while Qt's loop ran; raised once the loop has returned."""


# --- stopping cleanly -----------------------------------------------------------------------


class StopFlag:
    """SIGINT/SIGTERM: quit the Qt loop in flight (an exception raised in a Qt slot would be
    swallowed), or raise at once when no loop runs."""

    def __init__(self) -> None:
        self.stopped = False
        self.loop: QEventLoop | None = None

    def install(self) -> None:
        signal.signal(signal.SIGINT, self._on_signal)
        signal.signal(signal.SIGTERM, self._on_signal)

    def _on_signal(self, _signum: int, _frame: FrameType | None) -> None:
        self.stopped = True
        if self.loop is not None:
            self.loop.quit()
        else:
            raise Stopped

    def check(self) -> None:
        if self.stopped:
            raise Stopped


STOP = StopFlag()


# --- counting round trips -------------------------------------------------------------------


@dataclass
class Counts:
    statements: int = 0
    round_trips: int = 0
    gui_round_trips: int = 0  # those the GUI thread waited for itself
    connects: int = 0


class RoundTrips:
    """Statements and round trips on one engine, from every thread but the LISTEN thread.

    psycopg sends BEGIN before the first statement of a transaction and COMMIT/ROLLBACK only
    when it did; both are round trips. The pool's pre-ping on checkout of a pooled connection
    is one more. State is kept per connection, so background workers do not mix."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._lock = threading.Lock()
        self._counts = Counts()
        self._state: dict[int, str] = {}
        self.last_at = time.perf_counter()
        self._hooks: list[tuple[Any, str, Callable[..., None]]] = [
            (engine, "begin", self._begin),
            (engine, "before_cursor_execute", self._execute),
            (engine, "commit", self._end),
            (engine, "rollback", self._end),
            (engine.pool, "connect", self._connect),
            (engine.pool, "checkout", self._checkout),
        ]
        for target, name, fn in self._hooks:
            event.listen(target, name, fn)

    def close(self) -> None:
        for target, name, fn in self._hooks:
            if event.contains(target, name, fn):
                event.remove(target, name, fn)

    @staticmethod
    def _ours() -> bool:
        return threading.current_thread().name != "printdesk-listen"

    def _add(self, statements: int = 0, trips: int = 0, connects: int = 0) -> None:
        on_gui = threading.current_thread() is threading.main_thread()
        with self._lock:
            self._counts.statements += statements
            self._counts.round_trips += trips
            self._counts.gui_round_trips += trips if on_gui else 0
            self._counts.connects += connects
            self.last_at = time.perf_counter()

    def _begin(self, conn: Any) -> None:
        if self._ours():
            with self._lock:
                self._state[id(conn)] = "begun"

    def _execute(self, conn: Any, *_args: Any) -> None:
        if not self._ours():
            return
        with self._lock:
            began = self._state.get(id(conn)) == "begun"
            if began:
                self._state[id(conn)] = "open"
        self._add(statements=1, trips=2 if began else 1)

    def _end(self, conn: Any) -> None:
        if not self._ours():
            return
        with self._lock:
            was_open = self._state.pop(id(conn), None) == "open"
        if was_open:
            self._add(trips=1)

    def _connect(self, _dbapi: Any, record: Any) -> None:
        record.info["bench_fresh"] = True
        if self._ours():
            self._add(connects=1)

    def _checkout(self, _dbapi: Any, record: Any, _proxy: Any) -> None:
        if record.info.pop("bench_fresh", False) or not self._ours():
            return
        if getattr(self.engine.pool, "_pre_ping", False):
            self._add(trips=1)

    def snapshot(self) -> Counts:
        with self._lock:
            return Counts(**vars(self._counts))


# --- the event loop, watched ----------------------------------------------------------------


class Heartbeat:
    """A precise 5 ms timer; the gaps between its ticks are the event loop's stalls."""

    def __init__(self) -> None:
        self.timer = QTimer()
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.timer.setInterval(HEARTBEAT_MS)
        self.timer.timeout.connect(self._tick)
        self.last = time.perf_counter()
        self.max_gap = 0.0
        self.on_tick: Callable[[], None] | None = None
        self.timer.start()

    def reset(self) -> None:
        self.last = time.perf_counter()
        self.max_gap = 0.0

    def _tick(self) -> None:
        now = time.perf_counter()
        self.max_gap = max(self.max_gap, now - self.last)
        self.last = now
        if self.on_tick is not None:
            self.on_tick()


def run_until(
    beat: Heartbeat, done: Callable[[], bool], timeout_s: float, *, stoppable: bool = True
) -> bool:
    """Run Qt's loop until ``done()`` (checked on every heartbeat) or the timeout; bounded."""
    deadline = time.perf_counter() + timeout_s
    loop = QEventLoop()
    reached = [False]

    def check() -> None:
        if time.perf_counter() > deadline:
            loop.quit()
            return
        try:
            finished = done()
        except RuntimeError:  # a widget it looks at was deleted meanwhile: not shown yet
            finished = False
        if finished:
            reached[0] = True
            loop.quit()

    beat.on_tick = check
    STOP.loop = loop
    try:
        loop.exec()
    finally:
        beat.on_tick = None
        STOP.loop = None
    if stoppable:
        STOP.check()
    return reached[0]


@dataclass
class Row:
    latency_ms: int
    name: str
    block_ms: float | None = None
    call_ms: float | None = None
    shown_ms: float | None = None
    statements: int = 0
    round_trips: int = 0
    gui_round_trips: int = 0
    later: int = 0
    connects: int = 0
    note: str = ""


@dataclass
class Meter:
    beat: Heartbeat
    trips: RoundTrips
    latency_ms: int
    rows: list[Row] = field(default_factory=list)

    def measure(
        self,
        name: str,
        trigger: Callable[[], object],
        shown: Callable[[], bool],
        *,
        timeout_s: float = 60.0,
        note: Callable[[], str] | None = None,
    ) -> Row:
        """Fire ``trigger`` from inside the event loop and watch until ``shown()``."""
        row = Row(self.latency_ms, name)
        fired: dict[str, float] = {}
        before = self.trips.snapshot()

        def fire() -> None:
            fired["at"] = time.perf_counter()
            trigger()
            fired["call"] = time.perf_counter() - fired["at"]

        self.beat.reset()
        QTimer.singleShot(0, fire)
        ok = run_until(self.beat, lambda: "call" in fired and shown(), timeout_s)
        if ok:
            row.shown_ms = (time.perf_counter() - fired["at"]) * 1000
            at_shown = self.trips.snapshot()
            run_until(self.beat, lambda: False, TAIL_S)
            row.block_ms = max(0.0, (self.beat.max_gap * 1000) - HEARTBEAT_MS)
            row.call_ms = fired["call"] * 1000
            row.statements = at_shown.statements - before.statements
            row.round_trips = at_shown.round_trips - before.round_trips
            row.gui_round_trips = at_shown.gui_round_trips - before.gui_round_trips
            row.connects = at_shown.connects - before.connects
            run_until(self.beat, lambda: False, LATER_S)
            row.later = self.trips.snapshot().round_trips - at_shown.round_trips
        else:
            row.note = f"not shown within {timeout_s:g} s"
            if "call" in fired:
                row.call_ms = fired["call"] * 1000
            row.block_ms = max(0.0, (self.beat.max_gap * 1000) - HEARTBEAT_MS)
        if note is not None:
            row.note = "; ".join(x for x in (row.note, note()) if x)
        self.rows.append(row)
        print(
            f"    {self.latency_ms} ms  {name}: block {ms(row.block_ms)}, shown "
            f"{ms(row.shown_ms)} ms, {row.round_trips} round trips {row.note}",
            file=sys.stderr,
            flush=True,
        )
        self.settle()
        return row

    def settle(self, quiet_s: float = 0.3, timeout_s: float = 15.0) -> None:
        """Until no statement ran for ``quiet_s`` (bounded): the next step starts clean."""
        run_until(self.beat, lambda: time.perf_counter() - self.trips.last_at > quiet_s, timeout_s)


# --- the window -----------------------------------------------------------------------------


def reading(page: QWidget) -> bool:
    """What the screens' own loading badge reads: the view model's loading (or busy) flag."""
    vm = getattr(page, "vm", None) or getattr(page, "view_model", None)
    if vm is None:
        return False
    return bool(getattr(vm, "busy", False) is True or getattr(vm, "loading", False))


def open_invoice_candidate(db_url: str) -> tuple[int, str]:
    """An invoice with money still owed (the newest), for opening and paying."""
    engine = create_engine(db_url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            found = conn.execute(
                select(Invoice.id, Invoice.number)
                .where(Invoice.status == InvoiceStatus.PENDING)
                .order_by(Invoice.id.desc())
                .limit(1)
            ).one()
    finally:
        engine.dispose()
    return int(found[0]), str(found[1])


def first_client_name(db_url: str) -> str:
    engine = create_engine(db_url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            from core.db.models import Client

            name = conn.execute(select(Client.name).order_by(Client.id).limit(1)).scalar_one()
    finally:
        engine.dispose()
    return str(name)


def gui_run(
    app: QApplication,
    latency_ms: int,
    url: str,
    invoice: tuple[int, str],
    client_name: str,
    model_path: Path,
    work: Path,
    visits: int,
) -> list[Row]:
    """One latency: the window built, every screen visited, the three actions done."""
    os.environ["PRINTDESK_DATA_DIR"] = str(work / "data")
    notices: list[Notice] = []
    with ExitStack() as stack:
        db = open_shop_database(AppConfig(database_url=url))
        stack.callback(db.dispose)
        trips = RoundTrips(db.engine)
        stack.callback(trips.close)
        beat = Heartbeat()
        stack.callback(beat.timer.stop)
        meter = Meter(beat, trips, latency_ms)

        auth = AuthViewModel(db)
        if auth.sign_in(OWNER_EMAIL, OWNER_PASSWORD):  # checked in the background
            run_until(beat, lambda: auth.actor is not None or bool(auth.error), 30)
        actor = auth.actor
        if actor is None:
            raise SystemExit(f"the demo owner could not sign in: {auth.error}")
        notifier = Notifier()
        notifier.posted.connect(notices.append)
        runner = TaskRunner(on_unhandled_failure=notifier.error)
        settings = QSettings(str(work / "printdesk.ini"), QSettings.Format.IniFormat)
        held: dict[str, MainWindow] = {}

        def close_window() -> None:
            window = held.get("window")
            if window is None:
                return
            window.close()
            window.listener.stop()
            runner.cancel_all()
            runner.wait(15_000)
            window.deleteLater()
            run_until(beat, lambda: False, 0.2, stoppable=False)

        stack.callback(close_window)

        def open_window() -> None:
            window = build_main_window(
                db, actor, settings=settings, notifier=notifier, runner=runner
            )
            held["window"] = window
            window.listener.start()
            window.resize(1440, 900)
            window.show()

        meter.measure(
            "window opens (Dashboard)",
            open_window,
            lambda: "window" in held and not reading(held["window"].page("dashboard")),
        )
        window = held["window"]
        for visit in range(visits):
            for title, key in SCREENS:
                page = window.page(key)
                meter.measure(
                    title if visit == 0 else f"{title}, again",
                    window.buttons[key].click,
                    lambda page=page: not reading(page),  # type: ignore[misc]
                )

        # Open an invoice from the list, as a double-click or Enter on its row does.
        invoices_page: Any = window.page("invoices")
        meter.measure("(to Invoices)", window.buttons["invoices"].click, lambda: True)
        invoice_id, number = invoice
        rows = [r.id for r in invoices_page.view_model.model.rows]
        editor_vm = invoices_page.editor_model
        if invoice_id in rows:
            index = rows.index(invoice_id)
            meter.measure(
                f"open an invoice ({number})",
                lambda: invoices_page.view_model.open_row(index),
                lambda: invoices_page.editing and editor_vm.document_id == invoice_id,
            )
        else:
            meter.rows.append(Row(latency_ms, "open an invoice", note=f"{number} not listed"))

        # Record a part payment: Record payment… opens the dialog, the amount typed, Record.
        if invoices_page.editing:
            meter.measure(
                "payment dialog opens",
                invoices_page.editor.pay_link.click,
                lambda: open_payment_dialog() is not None,
            )
            dialog = open_payment_dialog()
            if dialog is not None:
                paid_before = len(editor_vm.payments)
                QTest.keyClicks(dialog.amount, "10.00")
                meter.measure(
                    "record a payment (10.00 cash)",
                    dialog.record_button.click,
                    lambda: open_payment_dialog() is None and len(editor_vm.payments) > paid_before,
                    note=lambda: dialog.vm.error if shiboken6.isValid(dialog) else "",
                )

        # Quick order: find the client, drop a model, wait for its price, Make quote.
        quick: Any = window.page("quick-order")
        meter.measure("(to Quick order)", window.buttons["quick-order"].click, lambda: True)
        quick.client.search.setText(client_name)
        meter.measure(
            "quick order: find a client (Enter)",
            lambda: QTest.keyClick(quick.client.search, Qt.Key.Key_Return),
            lambda: quick.vm.client is not None,
        )

        def part_done() -> bool:
            parts = quick.vm.parts
            return bool(parts) and parts[-1].stage in (
                PartStage.PRICED,
                PartStage.FAILED,
                PartStage.REFUSED,
            )

        meter.measure(
            "quick order: drop a model until priced",
            lambda: quick.add_dropped_files([model_path]),
            part_done,
            timeout_s=180,
            note=lambda: part_note(quick.vm.parts),
        )
        made: list[MadeDocument] = []
        quick.vm.document_made.connect(made.append)
        quotes_page: Any = window.page("quotes")
        if quick.vm.can_make:
            meter.measure(
                "make a quote (Quick order)",
                quick.totals.make_quote.click,
                lambda: (
                    bool(made)
                    and quotes_page.editing
                    and quotes_page.editor_model.document_id == made[0].id
                ),
            )
        else:
            meter.rows.append(
                Row(latency_ms, "make a quote (Quick order)", note=quick.vm.blocked_reason)
            )
    errors = [n.text for n in notices if n.level == "error"]
    if errors:
        meter.rows[-1].note += f"; {len(errors)} error toast(s): {errors[0]}"
    return [r for r in meter.rows if not r.name.startswith("(")]


def part_note(parts: list[Any]) -> str:
    if not parts:
        return "no part"
    part = parts[-1]
    return f"part {part.stage}" + (f": {part.reason}" if part.reason else "")


def open_payment_dialog() -> PaymentDialog | None:
    for widget in QApplication.topLevelWidgets():
        if isinstance(widget, PaymentDialog) and widget.isVisible():
            return widget
    return None


# --- the relay ------------------------------------------------------------------------------


@dataclass
class RelayRow:
    latency_ms: int
    name: str
    replies: int
    non_2xx: int
    wall_s: float
    p50_ms: float
    p99_ms: float
    payments: int | None = None
    note: str = ""


def pct(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0


async def send_in_bursts(
    client: httpx.AsyncClient, requests: list[Callable[[], Any]], burst: int
) -> tuple[float, list[float], list[int | str]]:
    latencies: list[float] = []
    statuses: list[int | str] = []

    async def one(make: Callable[[], Any]) -> None:
        started = time.perf_counter()
        try:
            reply = await make()
            statuses.append(reply.status_code)
        except httpx.HTTPError as exc:
            statuses.append(type(exc).__name__)
        latencies.append(time.perf_counter() - started)

    wall = time.perf_counter()
    for start in range(0, len(requests), burst):
        STOP.check()
        await asyncio.gather(*(one(r) for r in requests[start : start + burst]))
    return time.perf_counter() - wall, latencies, statuses


def relay_run(
    pg: Postgres15, bouncer: PgBouncer, latency_ms: int, deliveries: int, burst: int, work: Path
) -> list[RelayRow]:
    from relay.app import create_app
    from tests.relay import stripe_payloads as sp
    from tests.relay.conftest import set_session

    name = pg.create_database(template=TEMPLATE)
    direct = Database.from_url(pg.url(name), pool_size=2)
    secret = f"whsec_bench_{os.urandom(8).hex()}"
    try:
        with direct.session() as s:
            client = client_service.create_client(
                s, BENCH_ACTOR, client_service.ClientInput(name="Relay Bench Client")
            )
        events = []
        for _ in range(deliveries):
            with direct.session() as s:
                inv = invoices.create_invoice(
                    s, BENCH_ACTOR, client.id, [ItemInput("Part", Decimal("1"), Decimal("100.00"))]
                )
            cs = sp.checkout_session(
                invoice_id=inv.id, amount_cents=11000, invoice_number=inv.number
            )
            set_session(direct, inv.id, cs["id"], 11000)
            events.append(sp.event("checkout.session.completed", cs))
        bodies = [sp.encode(e) for e in events]
        with LatencyProxy(bouncer.port, delay_ms=latency_ms / 2) as proxy:
            url = proxy.url(name, user=RELAY_ROLE, driver=None) + "?pgbouncer=true"
            relay_db = Database.from_url(url, pool_size=10)
            config = AppConfig(
                stripe_webhook_secret=secret, relay_maintenance_interval_s=0, data_dir=work
            )
            app = create_app(config, relay_db)

            async def go() -> list[RelayRow]:
                transport = httpx.ASGITransport(app=app)
                async with httpx.AsyncClient(
                    transport=transport, base_url="http://relay.bench", timeout=60
                ) as http:

                    def post(body: bytes) -> Callable[[], Any]:
                        return lambda: http.post(
                            "/stripe/webhook",
                            content=body,
                            headers={
                                "Stripe-Signature": sp.sign(body, secret),
                                "Content-Type": "application/json",
                            },
                        )

                    health = [lambda: http.get("/healthz") for _ in range(deliveries)]
                    await send_in_bursts(http, health[:burst], burst)  # connections warm
                    out = []
                    for label, requests in (
                        ("GET /healthz (baseline)", health),
                        ("deliveries (distinct)", [post(b) for b in bodies]),
                        ("same again (retries)", [post(b) for b in bodies]),
                    ):
                        wall, lat, statuses = await send_in_bursts(http, requests, burst)
                        bad = [s for s in statuses if not (isinstance(s, int) and s < 300)]
                        out.append(
                            RelayRow(
                                latency_ms,
                                label,
                                len(statuses),
                                len(bad),
                                wall,
                                statistics.median(lat) * 1000,
                                pct(lat, 0.99) * 1000,
                                note=f"first failures: {bad[:3]}" if bad else "",
                            )
                        )
                    return out

            try:
                rows = asyncio.run(asyncio.wait_for(go(), timeout=600))
            finally:
                relay_db.dispose()
        with direct.session() as s:
            paid = int(s.scalar(select(func.count()).select_from(Payment)) or 0)
        rows[1].payments = rows[2].payments = paid
        return rows
    finally:
        direct.dispose()
        pg.drop_database(name)


# --- the table ------------------------------------------------------------------------------


def ms(value: float | None) -> str:
    return "—" if value is None else f"{value:,.0f}"


def ratio(value: float | None, base: float | None) -> str:
    if value is None or base is None:
        return "—"
    return f"×{value / max(base, 1.0):.1f}"


def print_gui(rows: list[Row]) -> None:
    base = {r.name: r for r in rows if r.latency_ms == rows[0].latency_ms}
    head = (
        f"{'RTT':>5}  {'screen / action':<40} {'block':>7} {'call':>7} {'shown':>7} "
        f"{'SQL':>4} {'RT':>4} {'gui':>4} {'later':>5} {'conn':>4}  "
        f"{'block÷0':>8} {'shown÷0':>8}  note"
    )
    print(head)
    print("-" * len(head))
    last = None
    for r in rows:
        if last is not None and r.latency_ms != last:
            print()
        last = r.latency_ms
        b = base.get(r.name)
        print(
            f"{r.latency_ms:>3}ms  {r.name:<40} {ms(r.block_ms):>7} {ms(r.call_ms):>7} "
            f"{ms(r.shown_ms):>7} {r.statements:>4} {r.round_trips:>4} "
            f"{r.gui_round_trips:>4} {r.later:>5} "
            f"{r.connects:>4}  {ratio(r.block_ms, b.block_ms if b else None):>8} "
            f"{ratio(r.shown_ms, b.shown_ms if b else None):>8}  {r.note}"
        )


def print_targets(rows: list[Row]) -> None:
    at60 = [r for r in rows if r.latency_ms == 60]
    if not at60:
        return
    over = [r for r in at60 if r.block_ms is not None and r.block_ms > TARGET_BLOCK_MS]
    screens = {title for title, _ in SCREENS}
    many = [r for r in at60 if r.name in screens and r.round_trips > TARGET_RT]
    print(
        f"\nTargets at 60 ms (issue 12): GUI block ≤ {TARGET_BLOCK_MS:.0f} ms on every switch "
        f"and action — {len(at60) - len(over)} of {len(at60)} within; over: "
        + (", ".join(f"{r.name} {r.block_ms:,.0f} ms" for r in over) or "none")
    )
    print(
        f"  each screen's data within {TARGET_RT} round trips (first visit) — over: "
        + (", ".join(f"{r.name} {r.round_trips}" for r in many) or "none")
    )
    base = {r.name: r for r in rows if r.latency_ms == 0}
    waited = []
    for r in at60:
        b = base.get(r.name)
        if r.name in screens and r.shown_ms is not None and b and b.shown_ms is not None:
            waited.append(f"{r.name} {(r.shown_ms - b.shown_ms) / 60:.1f}")
    if waited:
        print(
            "  round trips waited for one after another, ≈ (shown at 60 ms − shown at 0 ms) "
            "/ 60 ms: " + ", ".join(waited)
        )


def print_relay(rows: list[RelayRow], deliveries: int) -> None:
    head = (
        f"{'RTT':>5}  {'relay through pgbouncer (transaction)':<30} {'sent':>5} {'non-2xx':>8} "
        f"{'wall s':>7} {'p50 ms':>7} {'p99 ms':>7} {'payments':>8}  {'p50÷healthz':>11} "
        f"{'p50÷0ms':>8}"
    )
    print(head)
    print("-" * len(head))
    base = {r.name: r for r in rows if r.latency_ms == rows[0].latency_ms}
    for r in rows:
        health = next(x for x in rows if x.latency_ms == r.latency_ms and x.name.startswith("GET"))
        b = base.get(r.name)
        print(
            f"{r.latency_ms:>3}ms  {r.name:<30} {r.replies:>5} {r.non_2xx:>8} {r.wall_s:>7.2f} "
            f"{r.p50_ms:>7.1f} {r.p99_ms:>7.1f} "
            f"{'' if r.payments is None else r.payments:>8}  "
            f"{ratio(r.p50_ms, health.p50_ms):>11} {ratio(r.p50_ms, b.p50_ms if b else None):>8}"
            f"  {r.note}"
        )
    print(
        f"  target: 0 non-2xx; payments == {deliveries} (the distinct events, retries pay nothing)"
    )


# --- the run --------------------------------------------------------------------------------


def latencies(text: str) -> list[int]:
    return [int(x) for x in text.split(",") if x.strip()]


@contextmanager
def bench_environment(work: Path) -> Iterator[None]:
    """No user config, keyring-free secrets unset, logs and data in the bench's folder."""
    saved = dict(os.environ)
    os.environ["PRINTDESK_CONFIG"] = str(work / "none.toml")
    os.environ["PRINTDESK_LOG_DIR"] = str(work / "log")
    for name in list(os.environ):
        if name == "DATABASE_URL" or name.startswith(("PRINTDESK_SMTP_", "STRIPE_")):
            del os.environ[name]
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latencies", type=latencies, default=[0, 60, 200])
    parser.add_argument("--relay-latencies", type=latencies, default=[0, 60])
    parser.add_argument("--scale", type=int, default=1, help="demo shop size (25 clients each)")
    parser.add_argument("--visits", type=int, default=2, help="times each screen is visited")
    parser.add_argument("--deliveries", type=int, default=30)
    parser.add_argument("--burst", type=int, default=10)
    args = parser.parse_args()
    STOP.install()
    app = QApplication.instance() or QApplication([])
    assert isinstance(app, QApplication)
    work = Path(tempfile.mkdtemp(prefix="printdesk-remote-bench-"))
    gui_rows: list[Row] = []
    relay_rows: list[RelayRow] = []
    with ExitStack() as stack, bench_environment(work):
        stack.callback(shutil.rmtree, work, True)
        started = time.perf_counter()
        pg = migrated_server()
        stack.callback(pg.cleanup)
        seeded = pg.create_database("demo_shop", template=TEMPLATE)
        engine_db = Database.from_url(pg.url(seeded), pool_size=2)
        try:
            summary = seed_demo_shop(engine_db, scale=args.scale)
        finally:
            engine_db.dispose()
        invoice = open_invoice_candidate(pg.url(seeded))
        client_name = first_client_name(pg.url(seeded))
        model = work / "bracket.stl"
        import trimesh

        trimesh.creation.box((30, 20, 10)).export(model)
        setup_s = time.perf_counter() - started
        print(
            f"PostgreSQL {pg.server_version()} (Debian's) on 127.0.0.1, demo shop scale "
            f"{args.scale}: {summary.clients} clients, {summary.quotes} quotes, "
            f"{summary.invoices} invoices, {sum(summary.jobs_by_status.values())} jobs "
            f"(setup {setup_s:.1f} s); {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}; "
            f"Qt on '{app.platformName()}', heartbeat {HEARTBEAT_MS} ms",
            flush=True,
        )
        for latency_ms in args.latencies:
            copy = pg.create_database(template=seeded)
            run_dir = work / f"rtt{latency_ms}"
            run_dir.mkdir()
            with LatencyProxy(pg.port, delay_ms=latency_ms / 2) as proxy:
                t0 = time.perf_counter()
                rows = gui_run(
                    app,
                    latency_ms,
                    proxy.url(copy),
                    invoice,
                    client_name,
                    model,
                    run_dir,
                    args.visits,
                )
                gui_rows += rows
                print(
                    f"  {latency_ms} ms round trip: {len(rows)} steps in "
                    f"{time.perf_counter() - t0:.0f} s",
                    flush=True,
                )
            pg.drop_database(copy)
        bouncer = PgBouncer(pg.port, users=("postgres", RELAY_ROLE)).start()
        stack.callback(bouncer.cleanup)
        for latency_ms in args.relay_latencies:
            relay_rows += relay_run(pg, bouncer, latency_ms, args.deliveries, args.burst, work)
        print(f"load at the end {os.getloadavg()[0]:.1f}\n")
        print_gui(gui_rows)
        print_targets(gui_rows)
        print(
            "\nblock: longest stall of the event loop (5 ms heartbeat gap less 5 ms), click to "
            "shown + 100 ms; call: the click's synchronous part; shown: until the view model "
            "stops loading / the result is on screen; SQL: statements; RT: round trips (with "
            "BEGIN, COMMIT/ROLLBACK, pre-ping) until shown, from any thread; gui: those the "
            "GUI thread made itself; later: round trips in the next second; conn: new "
            "connections. Ratios against the same row at 0 ms."
        )
        print()
        if relay_rows:
            print_relay(relay_rows, args.deliveries)


if __name__ == "__main__":
    try:
        main()
    except Stopped:
        print("stopped: the window is closed and every server is stopped", file=sys.stderr)
        sys.exit(130)
