"""The counter's quick order: a client, dropped files checked and stored in ``tmp``, each sliced
and priced in the background as its choices change, then one quote or invoice with the files.

Every part is an `OrderPart`; the view reads them and calls the commands here. No database or
storage work runs on the GUI thread: reads go through `Loader`s, uploads and the
auto-orientation run on ``ctx.runner``, and the writes that follow an upload (orientation,
slice figures, deleting it, the document itself) run in order on a worker of their own; slices
run on the `SliceBatch`. A part's ``generation`` grows with every change, so a result that
arrives for settings that have since changed is dropped rather than shown.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import trimesh
from PySide6.QtCore import QCoreApplication, QObject, QThreadPool, QTimer, Signal
from sqlalchemy.orm import Session

from core.errors import ServiceError
from core.mesh.analysis import load_mesh
from core.mesh.analysis import repair as repair_mesh
from core.mesh.objects import split_objects
from core.mesh.orientation import lay_flat, least_support_orientation
from core.money import ZERO, DocumentTotals, document_totals, format_money
from core.pricing import price_part
from core.services import clients, materials, printers, tmp_files
from core.services import invoices as invoice_service
from core.services import settings as shop_settings
from core.services.clients import ClientView
from core.services.maintenance import after_commit_drain
from core.services.materials import MaterialView
from core.services.part_pricing import PartQuote, plan_part, store_part_quote
from core.services.printers import PrinterView
from core.services.quick_orders import (
    QuickOrderKind,
    QuickOrderLine,
    QuickOrderSpec,
    make_quick_order,
)
from core.shop_settings import ShopSettings
from core.slicing.locate import locate_cura
from desktop.viewmodels.background import Loader
from desktop.viewmodels.clients import ClientEditorViewModel
from desktop.viewmodels.context import AppContext
from desktop.viewmodels.documents import DocumentKind
from desktop.viewmodels.invoice_delivery import InvoiceDeliveryViewModel
from desktop.viewmodels.quick_order_parts import (
    OrderPart,
    PartStage,
    PrintChoices,
    estimates_question,
    is_model_file,
    number_refusal,
    units_question,
)
from workers.slicing_batch import SliceBatch
from workers.tasks import CancelToken, Task, TaskRunner

log = logging.getLogger(__name__)

#: How long the choices must stay still before a part is sliced again.
RESLICE_DELAY_MS = 450


@dataclass(frozen=True)
class _Upload:
    tmp: tmp_files.TmpFileView
    mesh: trimesh.Trimesh


@dataclass(frozen=True)
class _Split:
    """A 3MF of several objects, written out as one file per object."""

    paths: list[Path]


@dataclass(frozen=True)
class _Repaired:
    upload: _Upload
    path: Path
    done: list[str]


@dataclass(frozen=True)
class MadeDocument:
    kind: DocumentKind
    id: int
    number: str
    total: Decimal


class QuickOrderViewModel(QObject):
    parts_changed = Signal()  # a part was added or removed: rebuild the list
    part_changed = Signal(str)  # one part's stage, progress, price or choices changed
    selection_changed = Signal()
    totals_changed = Signal()
    client_changed = Signal()
    catalog_changed = Signal()  # printers or materials were read again
    catalog_loading_changed = Signal(bool)  # the printers and materials are being read
    busy_changed = Signal()  # a document is being made (or no longer)
    editor_opened = Signal(object)  # ClientEditorViewModel: show the new-client form
    document_made = Signal(object)  # MadeDocument
    open_document = Signal(str, int)  # DocumentKind value, id: the router opens it
    # DocumentKind value, the question: some lines are estimates; the view asks, then calls
    # ``make_confirmed`` (or nothing) — the view model never waits for the answer.
    estimates_to_confirm = Signal(str, str)
    clients_found = Signal(str, list)  # the search text, the ClientViews found for it
    part_added = Signal(str)  # a new part's key, once its row exists: show it

    def __init__(
        self,
        ctx: AppContext,
        *,
        batch: SliceBatch | None = None,
        delivery: InvoiceDeliveryViewModel | None = None,
        reslice_delay_ms: int = RESLICE_DELAY_MS,
    ) -> None:
        super().__init__()
        self._ctx = ctx
        self.batch = batch or SliceBatch(lambda: locate_cura())
        self.batch.setParent(self)
        self._delivery = delivery
        self._delay = reslice_delay_ms
        self._parts: list[OrderPart] = []
        self._timers: dict[str, QTimer] = {}
        self._selected: str | None = None
        self._client: ClientView | None = None
        self._printers: list[PrinterView] = []
        self._materials: list[MaterialView] = []
        self._shop: ShopSettings | None = None
        self._making: Task | None = None
        self.email_link = False
        # Searches have a thread of their own, so uploads in flight never hold a search up.
        search_pool = QThreadPool(self)
        search_pool.setMaxThreadCount(1)
        self._searches = TaskRunner(search_pool)
        self._search_text: str | None = None
        # Writes about the uploads, one at a time in the order asked: a part's orientation,
        # its slice figures and its deletion never overtake one another, nor the document.
        write_pool = QThreadPool(self)
        write_pool.setMaxThreadCount(1)
        self._writes = TaskRunner(write_pool)
        self._catalog = Loader(ctx, self._catalog_read, parent=self)
        self._catalog.loading_changed.connect(self.catalog_loading_changed)
        self._client_loader = Loader(ctx, self._client_read, parent=self)
        self._work_dir: Path | None = None  # split objects and repaired parts, until close
        self.document_made.connect(self._ready_for_next)
        self.batch.started.connect(self._slice_started)
        self.batch.progress.connect(self._slice_progress)
        self.batch.finished.connect(self._slice_finished)
        self.batch.failed.connect(self._slice_failed)
        self.batch.cancelled.connect(self._slice_cancelled)
        app = QCoreApplication.instance()
        if app is not None:  # quitting kills the engines rather than waiting for them
            app.aboutToQuit.connect(self.close)
        self.refresh_catalog()
        self.find_clients("")  # the first search after sign-in finds a warm connection

    # -- state
    @property
    def parts(self) -> list[OrderPart]:
        return list(self._parts)

    def part(self, key: str) -> OrderPart | None:
        return next((p for p in self._parts if p.key == key), None)

    @property
    def selected(self) -> OrderPart | None:
        return self.part(self._selected) if self._selected is not None else None

    @property
    def client(self) -> ClientView | None:
        return self._client

    @property
    def catalog_loading(self) -> bool:
        """The printers and materials are being read (the choices fill in when they arrive)."""
        return self._catalog.loading

    @property
    def printers(self) -> list[PrinterView]:
        return list(self._printers)

    @property
    def materials(self) -> list[MaterialView]:
        return list(self._materials)

    @property
    def currency(self) -> str:
        return self._shop.currency if self._shop is not None else "AUD"

    def money(self, amount: Decimal) -> str:
        return format_money(amount, self.currency)

    @property
    def order_parts(self) -> list[OrderPart]:
        return [p for p in self._parts if p.in_order]

    @property
    def totals(self) -> DocumentTotals:
        lines = [p.quote.price.line_total for p in self.order_parts if p.quote is not None]
        shop = self._shop
        return document_totals(
            lines,
            tax_rate=shop.tax.rate if shop is not None else ZERO,
            tax_inclusive=shop.tax.inclusive if shop is not None else False,
        )

    @property
    def tax_label(self) -> str:
        shop = self._shop
        if shop is None:
            return "Tax"
        rate = (shop.tax.rate * 100).normalize()
        included = ", included" if shop.tax.inclusive else ""
        return f"{shop.tax.name} ({rate:f} %{included})"

    @property
    def estimated(self) -> bool:
        return any(p.quote is not None and p.quote.estimated for p in self.order_parts)

    @property
    def estimated_count(self) -> int:
        """How many of the document's lines are priced by an estimate, not a slice."""
        return sum(1 for p in self.order_parts if p.quote is not None and p.quote.estimated)

    def estimates_question(self, kind: DocumentKind) -> str:
        """What to ask before making ``kind`` with estimated lines; "" when nothing is."""
        lines = sum(1 for p in self.order_parts if p.quote is not None)
        return estimates_question(self.estimated_count, lines, kind.label.lower())

    @property
    def making(self) -> bool:
        return self._making is not None

    @property
    def blocked_reason(self) -> str:
        """Why the quote or invoice cannot be made yet; "" when it can."""
        if self._making is not None:
            return "Making the document…"
        if self._catalog.loading:
            return "Reading the printers and materials…"
        if self._client is None:
            return "Choose the client first."
        parts = self.order_parts
        if not parts:
            return "Add at least one model file."
        held = [p.filename for p in parts if p.stage is PartStage.UNITS]
        if held:
            return f"{held[0]}: choose Rescale to mm or Keep as mm on its card."
        if any(p.busy for p in parts):
            return "Wait for every part to be priced."
        unpriced = [p.filename for p in parts if p.quote is None]
        if unpriced:
            return f"{unpriced[0]} has no price: fix or remove it."
        return ""

    @property
    def can_make(self) -> bool:
        return not self.blocked_reason

    # -- catalogue and clients
    def refresh_catalog(self) -> None:
        """Read the shop's active printers and materials (and its pricing settings) again."""

        def read(s: Session) -> tuple[list[PrinterView], list[MaterialView], ShopSettings]:
            found_printers = printers.list_printers(s)
            found_materials = materials.list_materials(s)
            with s.begin():
                shop = shop_settings.load(s)
            return found_printers, found_materials, shop

        self._catalog.run(read)

    def _catalog_read(
        self, found: tuple[list[PrinterView], list[MaterialView], ShopSettings]
    ) -> None:
        self._printers, self._materials, self._shop = found
        # Parts added while the catalogue was read take the defaults now, and are priced.
        defaults = self.default_choices()
        for part in self._parts:
            if part.choices.printer_id is None or part.choices.material_id is None:
                part.choices = replace(
                    part.choices,
                    printer_id=part.choices.printer_id or defaults.printer_id,
                    material_id=part.choices.material_id or defaults.material_id,
                )
                if part.tmp is not None and part.stage is not PartStage.REFUSED:
                    self._changed(part, reslice_now=True)
        self.catalog_changed.emit()
        self.totals_changed.emit()

    def default_choices(self) -> PrintChoices:
        """The shop's first active printer, PLA (the first material when there is no PLA),
        0.2 mm, 20 % infill, no supports."""
        pla = [m for m in self._materials if m.type.strip().upper() == "PLA"]
        material = next(iter(pla or self._materials), None)
        return PrintChoices(
            printer_id=self._printers[0].id if self._printers else None,
            material_id=material.id if material is not None else None,
        )

    @property
    def unfinished_work(self) -> str:
        """Parts not yet made into a quote or invoice, said for the "quit?" question."""
        count = len(self.order_parts)
        if not count:
            return ""
        noun = "part" if count == 1 else "parts"
        return f"Quick order: {count} {noun} not yet made into a quote or invoice."

    def find_clients(self, text: str, limit: int = 20) -> None:
        """Search off the GUI thread; `clients_found` brings the answer for the latest text."""
        self._search_text = text
        db = self._ctx.db

        def search(_p: Callable[[float], None], _c: CancelToken) -> list[ClientView]:
            with db.session() as s:
                return clients.search_clients(s, text.strip(), limit=limit)

        task = Task(search)
        task.signals.finished.connect(lambda found: self._found(text, found))
        task.signals.failed.connect(
            lambda message, details: self._ctx.notifier.error(
                f"Could not search the clients: {message}", details
            )
        )
        self._searches.start(task)

    def _found(self, text: str, found: list[ClientView]) -> None:
        if text == self._search_text:  # an older search answering late is not shown
            self.clients_found.emit(text, found)

    def set_client(self, client_id: int | None) -> None:
        """Choose the order's client; `client_changed` once it is read (off the GUI thread)."""
        if client_id is None:
            self._client_loader.drop()  # a client still being read does not come back
            self._client = None
            self.client_changed.emit()
            return
        self._client_loader.run(lambda s: clients.get_client(s, client_id))

    def _client_read(self, found: ClientView) -> None:
        self._client = found
        self.client_changed.emit()

    def new_client(self) -> ClientEditorViewModel:
        """The new-client form; once saved, the new client is the order's client."""
        editor = ClientEditorViewModel(self._ctx)
        editor.saved.connect(self._client_read)  # the saved client, as the form read it back
        self.editor_opened.emit(editor)
        return editor

    # -- files
    def add_files(self, paths: Iterable[Path | str]) -> list[str]:
        """Check and store each file in the background; returns the new parts' keys."""
        keys: list[str] = []
        for raw in paths:
            path = Path(raw)
            part = OrderPart(source=path, choices=self.default_choices())
            self._parts.append(part)
            keys.append(part.key)
            if not is_model_file(path):
                self._refuse(part, "Only STL, OBJ and 3MF files can be printed.")
                continue
            self._upload(part)
        if keys:
            self.parts_changed.emit()
            self._show_new(keys[-1])
            self.totals_changed.emit()
        return keys

    def _show_new(self, key: str) -> None:
        """The newest file is the one the person is looking for: select it and show it."""
        self.select(key)
        self.part_added.emit(key)

    def _folder(self, name: str) -> Path:
        if self._work_dir is None:
            self._work_dir = Path(tempfile.mkdtemp(prefix="printdesk-parts-"))
        folder = self._work_dir / name
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    def _upload(self, part: OrderPart) -> None:
        ctx, source = self._ctx, part.source
        split_into = self._folder(part.key) if source.suffix.lower() == ".3mf" else None

        def work(progress: Callable[[float], None], _cancel: CancelToken) -> _Upload | _Split | str:
            progress(0.1)
            try:
                if split_into is not None:
                    objects = split_objects(source, split_into)
                    if objects:
                        return _Split(objects)
                with ctx.db.session() as s:
                    tmp = tmp_files.upload_tmp(s, ctx.actor, ctx.storage(), source.name, source)
            except ServiceError as exc:  # a refusal, said on the part's row: not a failure
                return str(exc)
            progress(0.7)
            return _Upload(tmp, load_mesh(source))

        task = Task(work)
        task.signals.progress.connect(lambda value: self._set_progress(part, value))
        task.signals.finished.connect(lambda done: self._uploaded(part, done))
        task.signals.failed.connect(
            lambda message, _details: self._refuse(part, f"Could not store the file: {message}")
        )
        self._ctx.runner.start(task)

    def _uploaded(self, part: OrderPart, done: _Upload | _Split | str) -> None:
        if isinstance(done, str):
            self._refuse(part, done)
            return
        if isinstance(done, _Split):
            self._split(part, done.paths)
            return
        part.tmp, part.mesh, part.progress = done.tmp, done.mesh, 0.0
        if self.part(part.key) is None:  # removed while it uploaded: forget the upload too
            self._delete_tmp(part)
            return
        self._changed(part, reslice_now=True)

    def _split(self, part: OrderPart, paths: list[Path]) -> None:
        """One part per object of the 3MF, in its place in the list, each uploaded and priced."""
        if part not in self._parts:
            return
        index = self._parts.index(part)
        pieces = [OrderPart(source=path, choices=part.choices) for path in paths]
        self._parts[index : index + 1] = pieces
        if self._selected == part.key:
            self._selected = None
        for piece in pieces:
            self._upload(piece)
        self.parts_changed.emit()
        self._show_new(pieces[0].key)
        self.totals_changed.emit()

    def _refuse(self, part: OrderPart, reason: str) -> None:
        part.stage, part.reason, part.progress = PartStage.REFUSED, reason.strip(), 0.0
        self.part_changed.emit(part.key)
        self.totals_changed.emit()

    def _set_progress(self, part: OrderPart, value: float) -> None:
        part.progress = value
        self.part_changed.emit(part.key)

    def remove(self, key: str) -> None:
        part = self.part(key)
        if part is None:
            return
        self.batch.cancel(part.batch_key())
        timer = self._timers.pop(key, None)
        if timer is not None:
            timer.stop()
        self._parts.remove(part)
        self._delete_tmp(part)
        if self._selected == key:
            self._selected = self._parts[-1].key if self._parts else None
            self.selection_changed.emit()
        self.parts_changed.emit()
        self.totals_changed.emit()

    def remove_selected(self) -> None:
        if self._selected is not None:
            self.remove(self._selected)

    def _delete_tmp(self, part: OrderPart) -> None:
        tmp = part.tmp
        if tmp is None:
            return
        part.tmp = None

        ctx = self._ctx

        def delete(s: Session) -> None:
            tmp_files.delete_tmp(s, ctx.actor, tmp.id)
            s.close()
            after_commit_drain(ctx.db, ctx.storage())

        self._write(delete)

    def _write(
        self, call: Callable[[Session], Any], on_done: Callable[[Any], None] | None = None
    ) -> None:
        """Run ``call`` after the writes asked before it; refusals go to the notifier."""
        self._once(call, on_done, runner=self._writes)

    def _once(
        self,
        call: Callable[[Session], Any],
        on_done: Callable[[Any], None] | None,
        on_failed: Callable[[BaseException], bool] | None = None,
        *,
        runner: TaskRunner | None = None,
    ) -> None:
        """A `Loader` for one call, gone once it has answered."""
        loader: Loader[Any] = Loader(
            self._ctx,
            on_done or (lambda _v: None),
            on_failed=on_failed,
            runner=runner,
            parent=self,
        )
        loader.loading_changed.connect(lambda loading: None if loading else loader.deleteLater())
        loader.run(call)

    def select(self, key: str | None) -> None:
        if key != self._selected:
            self._selected = key
            self.selection_changed.emit()

    # -- choices
    def set_choice(self, key: str, name: str, value: Any) -> None:
        part = self.part(key)
        if part is None or getattr(part.choices, name) == value:
            return
        if name in ("quantity", "infill_percent"):
            refusal = number_refusal(name, str(value))
            if refusal:
                self._ctx.notifier.warning(refusal)
                return
        part.choices = part.choices.with_value(name, value)
        if part.tmp is None:  # still uploading: the first slice takes the new choice
            self.part_changed.emit(key)
            return
        if name == "quantity" and self._requantify(part):
            return
        self._changed(part)

    def _requantify(self, part: OrderPart) -> bool:
        """A new quantity changes the price, not the slice: price the same figures again."""
        quote = part.quote
        if part.stage is not PartStage.PRICED or quote is None:
            return False
        plan, metrics, cost = quote.plan, quote.metrics, quote.plan.cost_per_kg
        if metrics is None or cost is None:
            return False
        spec = replace(plan.spec, quantity=part.choices.quantity)
        price = self._ctx.notifier.attempt(
            lambda: price_part(
                metrics,
                cost_per_kg=cost,
                terms=plan.terms,
                quantity=spec.quantity,
                hourly_rate=plan.hourly_rate,
            )
        )
        if price is None:
            return False
        part.quote = replace(quote, plan=replace(plan, spec=spec), price=price)
        self._store_quote(part)
        self.part_changed.emit(part.key)
        self.totals_changed.emit()
        return True

    def apply_to_all(self, key: str) -> None:
        """Every other part takes this part's printer, material, layer, infill and supports."""
        source = self.part(key)
        if source is None:
            return
        shared = source.choices.shared()
        for part in self._parts:
            if part is not source and part.in_order:
                updated = PrintChoices(**shared, quantity=part.choices.quantity)
                if updated != part.choices:
                    part.choices = updated
                    if part.tmp is not None:
                        self._changed(part)
                    else:
                        self.part_changed.emit(part.key)

    def toggle_rescale(self, key: str) -> None:
        """Read the file's numbers in its guessed units (or back as millimetres)."""
        part = self.part(key)
        if part is None or part.file_units == "mm":
            return
        self._set_scale(part, 1.0 if part.rescaled else part.units_scale)

    def rescale_to_mm(self, key: str) -> None:
        """The numbers are inches or metres, as guessed: turn them into millimetres."""
        part = self.part(key)
        if part is not None and part.file_units != "mm":
            self._set_scale(part, part.units_scale)

    def keep_millimetres(self, key: str) -> None:
        """The person says the numbers are millimetres after all: price the part as it is."""
        part = self.part(key)
        if part is not None and part.file_units != "mm":
            self._set_scale(part, 1.0)

    def _set_scale(self, part: OrderPart, scale: float) -> None:
        unchanged = part.units_chosen and scale == part.scale
        part.units_chosen = True
        if unchanged:
            return
        if scale != part.scale:
            part.scale = scale
            part.transform = None  # an orientation was worked out on the other size
            self._store_orientation(part)
        if part.tmp is not None:
            self._changed(part, reslice_now=True)
        else:
            self.part_changed.emit(part.key)

    def repair(self, key: str) -> None:
        """Simple repair (weld, drop flat and duplicate faces, fill small holes, fix winding)
        in the background; the repaired part replaces the upload and is priced again."""
        part = self.part(key)
        mesh, old = (part.mesh, part.tmp) if part is not None else (None, None)
        if part is None or mesh is None or old is None or not part.can_repair:
            return
        ctx, folder = self._ctx, self._folder(f"{part.key}-repaired")
        path = folder / f"{Path(part.filename).stem} (repaired).stl"

        def work(_p: Callable[[float], None], _c: CancelToken) -> _Repaired | str:
            fixed, done = repair_mesh(mesh)
            if not done:
                return "Repair found nothing it can fix: ask the client for a closed model."
            fixed.export(path, file_type="stl")
            try:
                with ctx.db.session() as s:
                    tmp = tmp_files.upload_tmp(s, ctx.actor, ctx.storage(), path.name, path)
            except ServiceError as exc:
                return f"The repaired part was refused: {exc}"
            return _Repaired(_Upload(tmp, load_mesh(path)), path, done)

        self.batch.cancel(part.batch_key())
        part.generation += 1
        part.stage, part.quote, part.reason = PartStage.UPLOADING, None, "Repairing…"
        part.repaired = True
        self.part_changed.emit(part.key)
        self.totals_changed.emit()
        task = Task(work)
        task.signals.finished.connect(lambda done: self._repaired(part, old, done))
        task.signals.failed.connect(
            lambda message, details: self._repair_failed(part, f"Repair failed: {message}", details)
        )
        self._ctx.runner.start(task)

    def _repaired(self, part: OrderPart, old: tmp_files.TmpFileView, done: _Repaired | str) -> None:
        if isinstance(done, str):
            self._repair_failed(part, done, "")
            return
        if self.part(part.key) is None:  # removed meanwhile: the new upload goes too
            part.tmp = done.upload.tmp
            self._delete_tmp(part)
            return
        part.source, part.tmp, part.mesh = done.path, done.upload.tmp, done.upload.mesh
        self._delete_tmp(OrderPart(source=part.source, choices=part.choices, tmp=old))
        self._store_orientation(part)
        self._ctx.notifier.info(f"{part.filename}: " + " ".join(done.done))
        self._changed(part, reslice_now=True)

    def _repair_failed(self, part: OrderPart, message: str, details: str) -> None:
        self._ctx.notifier.warning(message, details)
        if self.part(part.key) is not None:
            part.reason = ""
            self._changed(part, reslice_now=True)

    def lay_flat(self, key: str, normal: Sequence[float]) -> None:
        part = self.part(key)
        mesh = part.shown_mesh() if part is not None else None
        if part is None or mesh is None:
            return
        try:
            turn = lay_flat(mesh, normal)
        except ValueError as exc:
            self._ctx.notifier.warning(str(exc))
            return
        self._turn(part, turn)

    def auto_orient(self, key: str) -> None:
        """Turn the part to the pose needing least support (worked out in the background)."""
        part = self.part(key)
        mesh = part.shown_mesh() if part is not None else None
        if part is None or mesh is None:
            return
        generation = part.generation
        task = Task(lambda _p, _c: least_support_orientation(mesh))
        task.signals.finished.connect(
            lambda turn: self._turn(part, turn) if part.generation == generation else None
        )
        task.signals.failed.connect(
            lambda message, details: self._ctx.notifier.error(
                f"Auto-orient failed: {message}", details
            )
        )
        self._ctx.runner.start(task)

    def reset_orientation(self, key: str) -> None:
        part = self.part(key)
        if part is not None and part.transform is not None:
            part.transform = None
            self._store_orientation(part)
            self._changed(part)

    def _turn(self, part: OrderPart, turn: Any) -> None:
        matrix = np.asarray(turn, dtype=np.float64).reshape(4, 4)
        if part.transform is not None:
            matrix = matrix @ np.asarray(part.transform, dtype=np.float64).reshape(4, 4)
        part.transform = tuple(float(v) for v in matrix.reshape(-1))
        self._store_orientation(part)
        self._changed(part)

    def _store_orientation(self, part: OrderPart) -> None:
        """The orientation travels with the upload, and so with the order file it becomes."""
        tmp = part.tmp
        if tmp is None:
            return

        actor, metadata = self._ctx.actor, part.orientation_metadata()

        def stored(view: tmp_files.TmpFileView) -> None:
            if part.tmp is not None and part.tmp.id == view.id:
                part.tmp = view

        self._write(
            lambda s: tmp_files.set_tmp_status(s, actor, tmp.id, tmp.status, metadata=metadata),
            stored,
        )

    # -- slicing
    def _changed(self, part: OrderPart, *, reslice_now: bool = False) -> None:
        """Settings moved: drop the old price and slice again once the person pauses."""
        self.batch.cancel(part.batch_key())
        part.generation += 1
        part.quote = None
        part.reason = ""
        part.progress = 0.0
        if part.needs_units_choice:
            part.stage, part.reason = PartStage.UNITS, units_question(part)
        elif part.choices.printer_id is None or part.choices.material_id is None:
            part.stage = PartStage.FAILED
            part.reason = (
                "Add an active printer in Settings → Printers and a material in "
                "Settings → Materials to price this part."
            )
        else:
            part.stage = PartStage.WAITING
            timer = self._timers.get(part.key)
            if timer is None:
                timer = QTimer(self)
                timer.setSingleShot(True)
                timer.timeout.connect(lambda key=part.key: self.slice_now(key))
                self._timers[part.key] = timer
            timer.start(0 if reslice_now else self._delay)
        self.part_changed.emit(part.key)
        self.totals_changed.emit()

    def slice_now(self, key: str) -> None:
        part = self.part(key)
        if part is None or part.tmp is None or part.stage is not PartStage.WAITING:
            return
        spec, source, filename = part.spec(), part.source, part.filename
        generation = part.generation

        def planned(plan: Any) -> None:
            if self.part(key) is not part or part.generation != generation:
                return  # removed or changed while the plan was read
            part.stage = PartStage.SLICING
            self.part_changed.emit(part.key)
            self.batch.submit(part.batch_key(), plan)

        def refused(exc: BaseException) -> bool:
            if self.part(key) is part and part.generation == generation:
                if not isinstance(exc, ServiceError):  # a bug, not a refusal
                    log.error("quick_order.plan_failed error=%r", exc)
                    exc = ServiceError(f"Could not prepare the slice: {exc}")
                part.stage, part.reason = PartStage.FAILED, str(exc)
                self.part_changed.emit(part.key)
            return True

        # One loader per plan: a part's generation, not the loader, tells a stale plan.
        self._once(lambda s: plan_part(s, spec, source, filename=filename), planned, refused)

    def cancel(self, key: str) -> None:
        part = self.part(key)
        if part is None:
            return
        timer = self._timers.get(key)
        if timer is not None:
            timer.stop()
        if part.stage in (PartStage.WAITING, PartStage.SLICING):
            self.batch.cancel(part.batch_key())
            part.stage, part.progress = PartStage.CANCELLED, 0.0
            part.reason = "Slicing cancelled: change a setting or press Slice again."
            part.generation += 1
            self.part_changed.emit(key)
            self.totals_changed.emit()

    def reslice(self, key: str) -> None:
        part = self.part(key)
        if part is not None and part.tmp is not None:
            self._changed(part, reslice_now=True)

    def _current(self, batch_key: str) -> OrderPart | None:
        part_key, _, generation = batch_key.partition(":")
        part = self.part(part_key)
        if part is None or str(part.generation) != generation:
            return None
        return part

    def _slice_started(self, batch_key: str) -> None:
        part = self._current(batch_key)
        if part is not None:
            part.stage = PartStage.SLICING
            self.part_changed.emit(part.key)

    def _slice_progress(self, batch_key: str, value: float) -> None:
        part = self._current(batch_key)
        if part is not None:
            part.progress = value
            self.part_changed.emit(part.key)

    def _slice_finished(self, batch_key: str, quote: PartQuote) -> None:
        part = self._current(batch_key)
        if part is None:
            return
        part.quote, part.stage, part.progress = quote, PartStage.PRICED, 1.0
        self._store_quote(part)
        self.part_changed.emit(part.key)
        self.totals_changed.emit()

    def _store_quote(self, part: OrderPart) -> None:
        """The slice, figures and price travel with the upload into the order file."""
        tmp, quote = part.tmp, part.quote
        if tmp is None or quote is None:
            return

        actor = self._ctx.actor
        self._write(lambda s: store_part_quote(s, actor, quote, tmp_id=tmp.id))

    def _slice_failed(self, batch_key: str, message: str) -> None:
        part = self._current(batch_key)
        if part is not None:
            part.stage, part.reason, part.progress = PartStage.FAILED, message, 0.0
            self.part_changed.emit(part.key)
            self.totals_changed.emit()

    def _slice_cancelled(self, batch_key: str) -> None:
        part = self._current(batch_key)
        if part is not None and part.stage is PartStage.SLICING:
            part.stage, part.progress = PartStage.CANCELLED, 0.0
            self.part_changed.emit(part.key)

    # -- the document
    def make_quote(self) -> bool:
        return self._make(DocumentKind.QUOTE)

    def make_invoice(self) -> bool:
        return self._make(DocumentKind.INVOICE)

    def make_confirmed(self, kind: str) -> bool:
        """Make the quote or invoice after the person agreed to its estimated lines."""
        return self._make(DocumentKind(kind), estimates_confirmed=True)

    def _make(self, kind: DocumentKind, *, estimates_confirmed: bool = False) -> bool:
        reason = self.blocked_reason
        if reason:
            self._ctx.notifier.warning(reason)
            return False
        question = self.estimates_question(kind)
        if question and not estimates_confirmed:
            self.estimates_to_confirm.emit(kind.value, question)
            return False
        client = self._client
        assert client is not None
        lines = [(p.tmp.id, p.quote) for p in self.order_parts if p.tmp and p.quote]
        ctx = self._ctx
        task = Task(lambda _p, _c: make_document(ctx, kind, client.id, lines))
        task.signals.finished.connect(self._made)
        task.signals.failed.connect(self._not_made)

        def drain(*_: object) -> None:
            # The promoted uploads' tmp objects (or a failed attempt's copies) leave storage
            # in a task of their own, so the document shows without waiting for storage.
            self._writes.start(Task(lambda _p, _c: after_commit_drain(ctx.db, ctx.storage())))

        task.signals.finished.connect(drain)
        task.signals.failed.connect(drain)
        self._making = task
        self.busy_changed.emit()
        self._writes.start(task)  # after the part's figures are stored
        return True

    def _made(self, made: MadeDocument) -> None:
        self._making = None
        for part in list(self._parts):
            timer = self._timers.pop(part.key, None)
            if timer is not None:
                timer.stop()
        self._parts.clear()  # their uploads are order files now
        self._selected = None
        self.parts_changed.emit()
        self.selection_changed.emit()
        self.totals_changed.emit()
        self.busy_changed.emit()
        label = made.kind.label.lower()
        article = "an" if label[:1] in "aeiou" else "a"  # "an invoice", "a quote"
        self._ctx.notifier.info(
            f"{made.number} made: {article} {label} of {self.money(made.total)}."
        )
        if made.kind is DocumentKind.INVOICE and self.email_link:
            self._email_link(made)
        self.document_made.emit(made)
        self.open_document.emit(made.kind.value, made.id)

    def _not_made(self, message: str, details: str) -> None:
        self._making = None
        self.busy_changed.emit()
        self._ctx.notifier.warning(message, details)

    def _email_link(self, made: MadeDocument) -> None:
        """Reuse the invoice delivery: a Stripe Checkout link, then the email with the PDF."""
        delivery = self._delivery or InvoiceDeliveryViewModel(self._ctx)

        def read(found: invoice_service.InvoiceView) -> None:
            delivery.set_invoice(found)
            delivery.create_link_and_email()

        self._write(lambda s: invoice_service.get_invoice(s, made.id), read)

    def close(self) -> None:
        """Stop every timer, slice and search (the screen is going away)."""
        for timer in self._timers.values():
            timer.stop()
        self.batch.cancel_all()
        self._searches.cancel_all()
        self._searches.wait()
        self._writes.wait()  # what was asked is written (a removed part's upload deleted)
        if self._work_dir is not None:
            shutil.rmtree(self._work_dir, ignore_errors=True)
            self._work_dir = None

    def _ready_for_next(self, _made: MadeDocument) -> None:
        """After a quote or invoice is made the screen is the next customer's: no client, no
        parts (refused rows included)."""
        for part in list(self._parts):
            self.remove(part.key)
        self.set_client(None)


def make_document(
    ctx: AppContext,
    kind: DocumentKind,
    client_id: int,
    lines: Sequence[tuple[int, PartQuote]],
) -> MadeDocument:
    """The quote or invoice, its uploads promoted to order files, its lines pointing at them:
    one core call, one transaction (`core.services.quick_orders`), so a failure leaves nothing
    — for staff as for admins. Runs on ``ctx.runner``, off the GUI thread; the caller then
    drains the storage outbox (`after_commit_drain`)."""
    storage = ctx.storage()
    order = QuickOrderSpec(
        kind=QuickOrderKind.QUOTE if kind is DocumentKind.QUOTE else QuickOrderKind.INVOICE,
        client_id=client_id,
        lines=[
            QuickOrderLine(tmp_id, quote.item_input(), {"slice": quote.metadata()})
            for tmp_id, quote in lines
        ],
    )
    try:
        with ctx.db.session() as s:
            made = make_quick_order(s, ctx.actor, order, storage)
    except ServiceError as exc:
        raise ServiceError(f"Nothing was made: {exc}") from exc
    return MadeDocument(kind, made.id, made.number, made.total)
