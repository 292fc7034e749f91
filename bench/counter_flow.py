"""The counter flow, timed: from a new data folder to an invoice, through the real view models.

A new data folder and its own embedded database; the shop set up through the setup wizard's
view model, one printer added as Settings would; then Quick order as the counter uses it: a new
client, three files added, every part priced by the real CuraEngine (never an estimate), Make
invoice. It prints the person's actions and, per file and for the three together, the wall time
from "files added" to "all priced", beside bare CuraEngine runs of the same placed parts with the
same resolved settings, measured in the same run (one after another, and two at a time as the
app's slicing pool does on two cores).

Run: ``PRINTDESK_CURA_RESOURCES=… .venv/bin/python bench/counter_flow.py``
(``PRINTDESK_MODELS`` names the models folder when it is not ../shared/models).
"""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # before Qt loads

import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from pathlib import Path
from typing import TypeVar

from PySide6.QtCore import QCoreApplication, QEventLoop, QTimer
from PySide6.QtWidgets import QApplication

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from estimate_accuracy import models_folder  # noqa: E402

from core.config import AppConfig  # noqa: E402
from core.db.embedded import stop_embedded  # noqa: E402
from core.services import invoices, printers  # noqa: E402
from core.services.part_pricing import PartQuote  # noqa: E402
from core.services.printers import PrinterInput  # noqa: E402
from core.slicing.locate import CuraInstall, locate_cura  # noqa: E402
from core.slicing.placement import export_stl, load_mesh, place_on_bed  # noqa: E402
from core.slicing.resolver import CuraLibrary  # noqa: E402
from core.slicing.runner import engine_command  # noqa: E402
from desktop.app import open_shop_database  # noqa: E402
from desktop.viewmodels.auth import AuthViewModel, ShopSetup  # noqa: E402
from desktop.viewmodels.context import AppContext  # noqa: E402
from desktop.viewmodels.notifier import Notifier  # noqa: E402
from desktop.viewmodels.quick_order import MadeDocument, QuickOrderViewModel  # noqa: E402
from desktop.viewmodels.quick_order_parts import PartStage  # noqa: E402
from workers.tasks import TaskRunner  # noqa: E402

T = TypeVar("T")
FILES = ("20mm-xyz-cube.stl", "teapot.stl", "counterX.3MF")
ROUNDS = 2  # each file priced (and sliced bare) twice, one after the other: the best is kept
TIMEOUT_S = 300.0
TARGET_ACTIONS = 6
TARGET_RATIO = 1.5


def wait_until(condition: Callable[[], bool], what: str, timeout_s: float = TIMEOUT_S) -> None:
    """Run the event loop until ``condition`` holds (checked every 5 ms)."""
    deadline = time.monotonic() + timeout_s
    loop = QEventLoop()
    timer = QTimer()
    timer.setInterval(5)
    timer.timeout.connect(lambda: loop.quit() if condition() else None)
    timer.start()
    while not condition():
        if time.monotonic() > deadline:
            sys.exit(f"Timed out waiting for {what}.")
        QTimer.singleShot(50, loop.quit)
        loop.exec()
    timer.stop()


class Counter:
    """The person at the counter: each call is one action (a click, a typed field, a pick)."""

    def __init__(self) -> None:
        self.actions: list[str] = []

    def act(self, what: str, do: Callable[[], T]) -> T:
        self.actions.append(what)
        return do()


def _priced(vm: QuickOrderViewModel) -> bool:
    parts = vm.parts
    if any(p.stage in (PartStage.FAILED, PartStage.REFUSED) for p in parts):
        problems = "; ".join(f"{p.filename}: {p.reason}" for p in parts if p.reason)
        sys.exit(f"A part was not priced: {problems}")
    return bool(parts) and all(p.stage is PartStage.PRICED for p in parts)


def add_and_price(vm: QuickOrderViewModel, paths: list[Path], add: Callable[[], object]) -> float:
    started = time.perf_counter()
    add()
    wait_until(lambda: _priced(vm), f"{', '.join(p.name for p in paths)} to be priced")
    elapsed = time.perf_counter() - started
    estimated = [p.filename for p in vm.parts if p.quote is None or p.quote.estimated]
    if estimated:
        sys.exit(f"Priced by estimate, not CuraEngine: {', '.join(estimated)}")
    return elapsed


def bare_seconds(cura: CuraInstall, library: CuraLibrary, quote: PartQuote) -> float:
    """CuraEngine alone on the part as the app placed it, with the settings the app resolved."""
    assert quote.slice is not None
    resolved = library.resolve(quote.slice.printer_id, quote.slice.material, quote.plan.choices())
    mesh = load_mesh(quote.plan.model)
    placed, _ = place_on_bed(
        mesh, resolved.global_values, resolved.extruder_values[0], resolved.printer_name
    )
    env = dict(os.environ, CURA_ENGINE_SEARCH_PATH=cura.search_path)
    with tempfile.TemporaryDirectory(prefix="printdesk-bare-") as folder:
        stl, gcode = Path(folder) / "part.stl", Path(folder) / "part.gcode"
        export_stl(placed, stl)
        started = time.perf_counter()
        subprocess.run(
            engine_command(cura, resolved, stl, gcode), env=env, capture_output=True, check=True
        )
        return time.perf_counter() - started


def set_up_shop(root: Path) -> AppContext:
    """A new data folder, the setup wizard's view model, one printer: the app's own context."""
    os.environ["PRINTDESK_DATA_DIR"] = str(root / "data")
    os.environ.pop("PRINTDESK_DATABASE_URL", None)
    config = AppConfig()
    db = open_shop_database(config)
    auth = AuthViewModel(db)
    started = auth.set_up(
        ShopSetup(
            shop_name="Bench Prints",
            tax_id="",
            email="shop@example.com",
            phone="",
            address="",
            admin_name="Bench Admin",
            admin_email="admin@example.com",
            password="correct horse battery staple",
            password_again="correct horse battery staple",
        )
    )
    if started:  # the first admin is made off the GUI thread
        wait_until(lambda: auth.actor is not None or bool(auth.error), "the shop's setup")
    actor = auth.actor
    if actor is None:
        sys.exit(f"Setup refused: {auth.error}")
    with db.session() as s:  # as Settings → Printers would: a bed the 305 mm plate fits on
        printers.create_printer(
            s,
            actor,
            PrinterInput(
                name="CR-10 S5",
                cura_definition_id="creality_cr10s5",
                build_x_mm=Decimal(500),
                build_y_mm=Decimal(500),
                build_z_mm=Decimal(500),
            ),
        )
    return AppContext(db=db, actor=actor, notifier=Notifier(), runner=TaskRunner())


def main() -> None:
    folder = models_folder()
    paths = [folder / name for name in FILES]
    missing = [p.name for p in paths if not p.is_file()]
    if missing:
        sys.exit(f"Missing in {folder}: {', '.join(missing)}")
    try:
        cura = locate_cura()
    except Exception as exc:
        sys.exit(f"No CuraEngine: {exc}")
    app = QApplication.instance() or QApplication(["printdesk-bench"])
    assert isinstance(app, QCoreApplication)
    root = Path(tempfile.mkdtemp(prefix="printdesk-counter-"))
    root.chmod(0o755)  # the embedded server runs as another user when started as root
    ctx: AppContext | None = None
    vm: QuickOrderViewModel | None = None
    try:
        started = time.perf_counter()
        ctx = set_up_shop(root)
        print(
            f"CuraEngine {cura.engine_version}; new shop in {root} ready in "
            f"{time.perf_counter() - started:.1f} s"
        )
        vm = QuickOrderViewModel(ctx)
        wait_until(lambda: not vm.catalog_loading, "the printers and materials")
        library = CuraLibrary(cura.resources)
        first: dict[str, float] = {}
        per_file: dict[str, float] = {}
        bare: dict[str, float] = {}
        quotes: dict[str, PartQuote] = {}
        for path in paths:  # one file at a time, then taken out again; the bare engine beside
            for _ in range(ROUNDS):
                model = vm  # narrowed for the lambda
                took = add_and_price(vm, [path], lambda: model.add_files([path]))  # noqa: B023
                part = vm.parts[0]
                assert part.quote is not None
                quotes[path.name] = part.quote
                vm.remove(part.key)
                first.setdefault(path.name, took)
                per_file[path.name] = min(took, per_file.get(path.name, took))
                engine = bare_seconds(cura, library, part.quote)
                bare[path.name] = min(engine, bare.get(path.name, engine))

        person = Counter()
        editor = person.act("New client…", vm.new_client)
        person.act("type the name", lambda: editor.set_value("name", "Ada Lovelace"))
        person.act("Save", editor.save)
        person.act("Add files… (Ctrl+O)", lambda: None)  # opens the file dialog
        together = add_and_price(
            vm, paths, lambda: person.act("pick the three files, Open", lambda: vm.add_files(paths))
        )
        made: list[MadeDocument] = []
        vm.document_made.connect(made.append)
        person.act("Make invoice", vm.make_invoice)
        wait_until(lambda: bool(made), "the invoice")
        with ctx.db.session() as s:
            invoice = invoices.get_invoice(s, made[0].id)
        if len(invoice.items) != len(paths):
            sys.exit(f"The invoice has {len(invoice.items)} lines, not {len(paths)}.")

        serial_started = time.perf_counter()
        for quote in quotes.values():
            bare_seconds(cura, library, quote)
        bare_serial = time.perf_counter() - serial_started
        with ThreadPoolExecutor(max_workers=2) as pool:  # as the slicing pool on two cores
            two_at_once_started = time.perf_counter()
            list(pool.map(lambda q: bare_seconds(cura, library, q), quotes.values()))
            bare_parallel = time.perf_counter() - two_at_once_started

        print(
            f"\nactions: {len(person.actions)} (target ≤ {TARGET_ACTIONS}): "
            + " → ".join(person.actions)
        )
        print(
            f"invoice {invoice.number}: {len(invoice.items)} lines, total {invoice.total}, "
            "every price from CuraEngine\n"
        )
        print(
            f"{'file(s)':28} {'app: added → priced':>20} {'bare CuraEngine':>16} {'ratio':>7}"
            f"   (best of {ROUNDS}; the app's first run, cold)"
        )
        for name in FILES:
            ratio = per_file[name] / bare[name]
            print(
                f"{name:28} {per_file[name]:18.2f} s {bare[name]:14.2f} s {ratio:6.2f}×"
                f"   ({first[name]:.2f} s)"
            )
        print(
            f"{'all three, added at once':28} {together:18.2f} s {bare_serial:14.2f} s "
            f"{together / bare_serial:6.2f}×  (bare one after another)"
        )
        print(
            f"{'':28} {'':>20} {bare_parallel:14.2f} s {together / bare_parallel:6.2f}×  "
            "(bare two at a time)"
        )
        print(f"target: ≤ {TARGET_RATIO:g}× the bare engine")
    finally:
        if vm is not None:
            vm.close()
            vm.batch.wait()
        if ctx is not None:
            ctx.runner.cancel_all()
            ctx.runner.wait()
            ctx.db.dispose()
        stop_embedded(root / "data" / "pgdata")
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
