"""The invoice list with 100,000 invoices: first page, filter and scrolling, beside the bare SQL.

Run: .venv/bin/python bench/gui_lists.py [--invoices 100000] [--scroll-to 5000]

One run, against a fresh embedded PostgreSQL filled by ``seed_invoices_bulk``, measures:

(a) the bare SQL of the first page: the very SELECT ``list_invoices`` sends (captured from the
    engine), run on a plain psycopg connection and fetched as tuples;
(b) the first page shown: ``PagedTableModel.reload()`` fetching through ``list_invoices``
    until the QTableView has painted it (events processed until the paint is done);
(c) a filter applied (OVERDUE and a client search) until its first page is painted, beside the
    bare SQL of that filtered page;
(d) scrolling from the top to row 5,000 in steps driven by a QTimer, pages fetched as the view
    asks, while a 5 ms QTimer probe records the gaps between its ticks: the longest gap is the
    longest stall of the event loop.

Every GUI figure is printed with its ratio to the bare query of the same run. There are no
pass/fail thresholds: absolute times on a shared machine mean little; compare the ratios.
The widget paints with Qt's raster engine under QT_QPA_PLATFORM=offscreen (set when unset).
"""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import argparse
import atexit
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
import PySide6
from PySide6.QtCore import QEventLoop, Qt, QTimer, qVersion
from PySide6.QtGui import QPaintEvent
from PySide6.QtWidgets import QApplication, QTableView
from sqlalchemy import event
from sqlalchemy.engine import Connection

from core.db.embedded import start_embedded
from core.db.engine import Database
from core.db.migrate import upgrade
from core.money import format_money
from core.services import invoices
from core.services.demo import seed_invoices_bulk
from core.services.invoices import InvoiceFilter, InvoiceSummary
from desktop.viewmodels.paged_table import Column, PagedTableModel

PAGE = 200  # the invoice list's page size (DocumentListViewModel's default)
FILTER = InvoiceFilter(status=invoices.OVERDUE, text="nguyen")
WAIT = QEventLoop.ProcessEventsFlag.AllEvents | QEventLoop.ProcessEventsFlag.WaitForMoreEvents


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def load_average() -> str:
    """ ", load average N" where the OS tells it: the figures mean more on a quiet machine."""
    if not hasattr(os, "getloadavg"):
        return ""
    return f", load average {os.getloadavg()[0]:.1f}"


def ratio(seconds: float, base: float) -> str:
    return f"×{seconds / base:.1f}" if base > 0 else "×?"


# -- the bare query -------------------------------------------------------------------------


@dataclass(frozen=True)
class Captured:
    statement: str
    parameters: Any


def capture_page_query(db: Database, flt: InvoiceFilter, offset: int) -> Captured:
    """The SELECT ``list_invoices`` sends for this page, as handed to psycopg."""
    seen: list[Captured] = []

    def listen(
        conn: Connection,
        cursor: Any,
        statement: str,
        parameters: Any,
        context: Any,
        executemany: bool,
    ) -> None:
        if "FROM invoices" in statement:
            seen.append(Captured(statement, parameters))

    event.listen(db.engine, "before_cursor_execute", listen)
    try:
        with db.session() as s:
            invoices.list_invoices(s, flt, limit=PAGE, offset=offset)
    finally:
        event.remove(db.engine, "before_cursor_execute", listen)
    return seen[-1]


def time_bare(conn: psycopg.Connection[Any], query: Captured, repeat: int) -> tuple[float, float]:
    """(first run, median of the next ``repeat``) for the query fetched as plain tuples."""
    samples = []
    for _ in range(repeat + 1):
        start = time.perf_counter()
        rows = conn.execute(query.statement, query.parameters).fetchall()
        samples.append(time.perf_counter() - start)
        assert rows, "the page is empty: the bench data is not what it should be"
    return samples[0], statistics.median(samples[1:])


# -- the list on screen ---------------------------------------------------------------------


class PaintedTable(QTableView):
    """A QTableView that counts its paints and how long each took."""

    def __init__(self) -> None:
        super().__init__()
        self.paints = 0
        self.paint_seconds: list[float] = []

    def paintEvent(self, event: QPaintEvent) -> None:
        start = time.perf_counter()
        super().paintEvent(event)
        self.paint_seconds.append(time.perf_counter() - start)
        self.paints += 1


@dataclass
class Fetcher:
    """Fetches pages through ``list_invoices`` (a session per page, as the app does), timed."""

    db: Database
    flt: InvoiceFilter = field(default_factory=InvoiceFilter)
    calls: list[tuple[int, float]] = field(default_factory=list)  # (offset, seconds)

    def __call__(self, offset: int, limit: int) -> list[InvoiceSummary]:
        start = time.perf_counter()
        with self.db.session() as s:
            rows = invoices.list_invoices(s, self.flt, limit=limit, offset=offset)
        self.calls.append((offset, time.perf_counter() - start))
        return rows


def invoice_columns() -> list[Column[InvoiceSummary]]:
    """The columns of the app's invoice list."""
    return [
        Column("Number", lambda r: r.number),
        Column("Client", lambda r: r.client_name),
        Column("Issued", lambda r: f"{r.issue_date.day} {r.issue_date:%b %Y}"),
        Column("Due", lambda r: f"{r.due_date.day} {r.due_date:%b %Y}" if r.due_date else "—"),
        Column("Status", lambda r: r.display_status.replace("_", " ").capitalize()),
        Column("Total", lambda r: format_money(r.total, r.currency), align_right=True),
        Column(
            "Balance",
            lambda r: format_money(r.balance_due, r.currency),
            align_right=True,
            colour=lambda r: "#b3261e" if r.overdue else None,
        ),
    ]


@dataclass(frozen=True)
class Shown:
    total: float  # from the call until the view has painted
    fetch: float  # of which list_invoices
    paint: float  # of which the paint itself


def shown_after(
    app: QApplication, view: PaintedTable, fetcher: Fetcher, action: Callable[[], None]
) -> Shown:
    """Run ``action`` (a reload) and process events until the view has painted."""
    paints, calls = view.paints, len(fetcher.calls)
    start = time.perf_counter()
    action()
    deadline = start + 30
    while view.paints == paints:
        app.processEvents(WAIT)
        if time.perf_counter() > deadline:
            raise RuntimeError("the view did not paint within 30 s")
    total = time.perf_counter() - start
    fetch = sum(seconds for _, seconds in fetcher.calls[calls:])
    return Shown(total, fetch, sum(view.paint_seconds[paints:]))


def time_shown(
    app: QApplication, view: PaintedTable, fetcher: Fetcher, model: Any, repeat: int
) -> tuple[Shown, Shown]:
    """(first, the median of the next ``repeat``) of reload-until-painted; the median run is
    returned whole, so its parts add up."""
    runs = [shown_after(app, view, fetcher, model.reload) for _ in range(repeat + 1)]
    rest = sorted(runs[1:], key=lambda run: run.total)
    return runs[0], rest[(len(rest) - 1) // 2]


@dataclass(frozen=True)
class Scroll:
    seconds: float
    first_row: int
    pages: int
    deepest_offset: int
    slowest_fetch: float
    longest_stall: float
    p99_gap: float
    gaps_over_50ms: int
    median_fetch: float
    median_paint: float
    slowest_paint: float


def scroll_to(app: QApplication, view: PaintedTable, fetcher: Fetcher, target: int) -> Scroll:
    """Scroll from the top to ``target`` in timer-driven steps, probing the loop every 5 ms."""
    bar = view.verticalScrollBar()
    bar.setValue(0)
    app.processEvents()
    calls, paints = len(fetcher.calls), len(view.paint_seconds)
    gaps: list[float] = []
    last = [time.perf_counter()]

    def tick() -> None:
        now = time.perf_counter()
        gaps.append(now - last[0])
        last[0] = now

    loop = QEventLoop()

    def step() -> None:
        # Per-item scrolling: the scroll bar's value is the first visible row. At the bottom
        # the view asks the model for more (canFetchMore/fetchMore) and the range grows.
        if bar.value() >= target:
            loop.quit()
            return
        bar.setValue(min(bar.value() + 25, bar.maximum(), target))

    probe = QTimer()
    probe.setTimerType(Qt.TimerType.PreciseTimer)
    probe.setInterval(5)
    probe.timeout.connect(tick)
    stepper = QTimer()
    stepper.setTimerType(Qt.TimerType.PreciseTimer)
    stepper.setInterval(10)
    stepper.timeout.connect(step)
    guard = QTimer()
    guard.setSingleShot(True)
    guard.timeout.connect(loop.quit)
    guard.start(90_000)

    start = time.perf_counter()
    last[0] = start
    probe.start()
    stepper.start()
    loop.exec()
    elapsed = time.perf_counter() - start
    for timer in (stepper, probe, guard):
        timer.stop()
    fetched = fetcher.calls[calls:]
    painted = view.paint_seconds[paints:] or [0.0]
    ordered = sorted(gaps)
    return Scroll(
        seconds=elapsed,
        first_row=view.rowAt(0),
        pages=len(fetched),
        deepest_offset=max((offset for offset, _ in fetched), default=0),
        slowest_fetch=max((seconds for _, seconds in fetched), default=0.0),
        longest_stall=ordered[-1] if ordered else 0.0,
        p99_gap=ordered[int(0.99 * (len(ordered) - 1))] if ordered else 0.0,
        gaps_over_50ms=sum(gap > 0.05 for gap in gaps),
        median_fetch=statistics.median(seconds for _, seconds in fetched) if fetched else 0.0,
        median_paint=statistics.median(painted),
        slowest_paint=max(painted),
    )


# -- the run --------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--invoices", type=int, default=100_000)
    parser.add_argument("--scroll-to", type=int, default=5_000)
    parser.add_argument("--repeat", type=int, default=7, help="runs per median (after a first)")
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="printdesk-bench-"))
    # Registered before the server starts, so it runs after the server's own stop at exit.
    atexit.register(shutil.rmtree, tmp, True)
    started = time.perf_counter()
    url = start_embedded(tmp / "pg", stop_on_exit=True)
    db = Database.from_url(url)
    upgrade(db.engine)
    ready = time.perf_counter() - started
    started = time.perf_counter()
    seed_invoices_bulk(db, args.invoices)
    seeded = time.perf_counter() - started

    app = QApplication.instance() or QApplication([])
    assert isinstance(app, QApplication)
    print(
        f"PrintDesk invoice list — {args.invoices:,} invoices (bulk seed {seeded:.1f} s, "
        f"database ready in {ready:.1f} s), pages of {PAGE}; PySide6 {PySide6.__version__} "
        f"(Qt {qVersion()}) on '{app.platformName()}', {os.cpu_count()} CPUs{load_average()}"
    )

    # (a) the bare query, on a connection of its own
    plain_url = db.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(plain_url, autocommit=True) as conn:
        first_page = capture_page_query(db, InvoiceFilter(), 0)
        filtered_page = capture_page_query(db, FILTER, 0)
        bare_cold, bare = time_bare(conn, first_page, args.repeat * 2)
        bare_filter_first, bare_filter = time_bare(conn, filtered_page, args.repeat * 2)

        # (b) the first page shown
        fetcher = Fetcher(db)
        model: PagedTableModel[InvoiceSummary] = PagedTableModel(
            invoice_columns(), fetcher, page_size=PAGE
        )
        view = PaintedTable()
        view.setModel(model)
        view.resize(1440, 900)
        view.show()
        while view.paints == 0:  # the empty table's first paint, before anything is measured
            app.processEvents(WAIT)
        first_cold, first = time_shown(app, view, fetcher, model, args.repeat)

        # (c) the filter applied
        filtered = Fetcher(db, FILTER)
        filter_cold = shown_after(app, view, filtered, lambda: model.reload(filtered))
        filter_cold_rows = model.rowCount()
        _, filter_warm = time_shown(app, view, filtered, model, args.repeat)
        counted = time.perf_counter()
        with db.session() as s:
            matching = invoices.count_invoices(s, FILTER)
        count_seconds = time.perf_counter() - counted

        # (d) scrolling to row 5,000
        shown_after(app, view, fetcher, lambda: model.reload(fetcher))
        scroll = scroll_to(app, view, fetcher, args.scroll_to)
        deepest = capture_page_query(db, InvoiceFilter(), scroll.deepest_offset)
        _, bare_deepest = time_bare(conn, deepest, args.repeat * 2)
    view.close()

    print()
    print(f"(a) bare SQL, first page        {ms(bare)} median (first run {ms(bare_cold)})")
    print(
        f"(b) first page shown            {ms(first.total)} = {ratio(first.total, bare)} the "
        f"bare query (first time {ms(first_cold.total)} = {ratio(first_cold.total, bare)})"
    )
    print(
        f"      of which list_invoices    {ms(first.fetch)} = {ratio(first.fetch, bare)}, "
        f"paint {ms(first.paint)}, Qt's layout and the wait for the frame "
        f"{ms(first.total - first.fetch - first.paint)}"
    )
    print(
        f"(c) filter OVERDUE + “{FILTER.text}” shown   {ms(filter_warm.total)} = "
        f"{ratio(filter_warm.total, bare_filter)} its bare query ({ms(bare_filter)}, first "
        f"run {ms(bare_filter_first)}), "
        f"= {ratio(filter_warm.total, bare)} the unfiltered bare query"
    )
    print(
        f"      of which list_invoices {ms(filter_warm.fetch)}, paint {ms(filter_warm.paint)}; "
        f"first time {ms(filter_cold.total)} (list_invoices {ms(filter_cold.fetch)}); "
        f"{filter_cold_rows} rows on the page, {matching:,} match; the list's count query "
        f"{ms(count_seconds)}"
    )
    print(
        f"(d) scroll to row {args.scroll_to:,}: {scroll.seconds:.2f} s, first row now "
        f"{scroll.first_row:,}, {scroll.pages} pages fetched (offsets up to "
        f"{scroll.deepest_offset:,})"
    )
    print(
        f"      longest event-loop stall {ms(scroll.longest_stall)} = "
        f"{ratio(scroll.longest_stall, bare)} the bare first page, "
        f"{ratio(scroll.longest_stall, bare_deepest)} the bare query of the deepest page "
        f"({ms(bare_deepest)}); p99 gap {ms(scroll.p99_gap)}, "
        f"{scroll.gaps_over_50ms} gaps over 50 ms (probe every 5 ms)"
    )
    print(
        f"      page fetches: median {ms(scroll.median_fetch)}, slowest "
        f"{ms(scroll.slowest_fetch)}; paints while scrolling: median "
        f"{ms(scroll.median_paint)}, slowest {ms(scroll.slowest_paint)}"
    )
    db.dispose()


if __name__ == "__main__":
    main()
