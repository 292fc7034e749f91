"""The Files screen: order files as tiles, filtered by client or document, with thumbnails that
arrive as they are rendered, adding, downloading, opening in 3D and (admins) deleting."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, Final, TypeVar

import trimesh
from PySide6.QtCore import (
    QAbstractListModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    QTimer,
    Signal,
)
from sqlalchemy.orm import Session

from core.errors import NotFound, ServiceError
from core.mesh.analysis import load_mesh
from core.services import (
    attachments,
    clients,
    file_labels,
    invoices,
    maintenance,
    order_files,
    quotes,
)
from core.services.attachments import AttachmentView
from core.services.clients import ClientView
from core.services.invoices import InvoiceFilter
from core.services.order_files import OrderFileView
from core.services.quotes import QuoteFilter
from desktop.viewmodels.background import Loader
from desktop.viewmodels.context import AppContext
from desktop.viewmodels.document_editor import ClientChoices
from workers.tasks import CancelToken, Task, TaskRunner, Work
from workers.thumbnails import ThumbnailService

T = TypeVar("T")
Index = QModelIndex | QPersistentModelIndex

PAGE_SIZE: Final = 60
#: Roles the tile delegate reads besides DisplayRole (the file name) and UserRole (the tile).
THUMB_ROLE: Final = Qt.ItemDataRole.UserRole + 1  # path of the PNG, or ""
STATE_ROLE: Final = Qt.ItemDataRole.UserRole + 2  # "pending", "ready" or "failed"
DETAIL_ROLE: Final = Qt.ItemDataRole.UserRole + 3  # "1.2 MB · Ada Lovelace"
DOCUMENTS_ROLE: Final = Qt.ItemDataRole.UserRole + 4  # "QT-0003 · INV-0002"


def size_text(size: int) -> str:
    if size < 1024:
        return f"{size} B"
    if size < 1024 * 1024:
        return f"{size / 1024:.0f} KB"
    return f"{size / (1024 * 1024):.1f} MB"


@dataclass(frozen=True)
class FileTile:
    """One file as the grid shows it: the file, its client's name and its documents' numbers."""

    file: OrderFileView
    client_name: str
    documents: tuple[str, ...]

    @property
    def id(self) -> int:
        return self.file.id

    @property
    def documents_text(self) -> str:
        return " · ".join(self.documents) if self.documents else "no document"

    @property
    def detail(self) -> str:
        return f"{size_text(self.file.size_bytes)} · {self.client_name}"


TileSource = Callable[[Session, int, int], list[FileTile]]


@dataclass(frozen=True)
class _TilePage:
    offset: int
    asked: int
    tiles: list[FileTile]


class FileTilesModel(QAbstractListModel):
    """Tiles paged from the service in the background as the grid scrolls; thumbnails looked
    up per row. A reload supersedes a page on its way; the tiles shown stay until it comes."""

    loading_changed = Signal(bool)
    page_loaded = Signal()

    def __init__(
        self,
        ctx: AppContext,
        source: TileSource,
        thumbnail: Callable[[FileTile], tuple[str, str]],
        *,
        page_size: int = PAGE_SIZE,
    ) -> None:
        super().__init__()
        self._source = source
        self._thumbnail = thumbnail
        self._page_size = page_size
        self._tiles: list[FileTile] = []
        self._exhausted = True
        self._loader: Loader[_TilePage] = Loader(ctx, self._arrived, parent=self)
        self._loader.loading_changed.connect(self.loading_changed)

    @property
    def loading(self) -> bool:
        return self._loader.loading

    def reload(self, source: TileSource | None = None) -> None:
        if source is not None:
            self._source = source
        source, size = self._source, self._page_size
        self._loader.run(lambda s: _TilePage(0, size, source(s, 0, size)))

    def clear(self) -> None:
        self._loader.drop()
        self.beginResetModel()
        self._tiles, self._exhausted = [], True
        self.endResetModel()

    def canFetchMore(self, parent: Index = QModelIndex()) -> bool:
        return not parent.isValid() and not self._exhausted and not self._loader.loading

    def fetchMore(self, parent: Index = QModelIndex()) -> None:
        if not self.canFetchMore(parent):
            return
        offset, size, source = len(self._tiles), self._page_size, self._source
        self._loader.run(lambda s: _TilePage(offset, size, source(s, offset, size)))

    def _arrived(self, page: _TilePage) -> None:
        if page.offset == 0:
            self.beginResetModel()
            self._tiles = list(page.tiles)
            self._exhausted = len(page.tiles) < page.asked
            self.endResetModel()
        elif page.offset == len(self._tiles):
            self._exhausted = len(page.tiles) < page.asked
            if page.tiles:
                start = len(self._tiles)
                self.beginInsertRows(QModelIndex(), start, start + len(page.tiles) - 1)
                self._tiles.extend(page.tiles)
                self.endInsertRows()
        self.page_loaded.emit()

    @property
    def tiles(self) -> list[FileTile]:
        return list(self._tiles)

    def tile_at(self, row: int) -> FileTile | None:
        return self._tiles[row] if 0 <= row < len(self._tiles) else None

    def rowCount(self, parent: Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._tiles)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        tile = self.tile_at(index.row()) if index.isValid() else None
        if tile is None:
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return tile.file.filename
        if role == Qt.ItemDataRole.ToolTipRole:
            return f"{tile.file.filename}\n{tile.detail}\n{tile.documents_text}"
        if role == Qt.ItemDataRole.UserRole:
            return tile
        if role == DETAIL_ROLE:
            return tile.detail
        if role == DOCUMENTS_ROLE:
            return tile.documents_text
        if role in (THUMB_ROLE, STATE_ROLE):
            state, path = self._thumbnail(tile)
            return path if role == THUMB_ROLE else state
        return None

    def thumbnail_changed(self, sha256: str) -> None:
        for row, tile in enumerate(self._tiles):
            if tile.file.sha256 == sha256:
                index = self.index(row)
                self.dataChanged.emit(index, index, [THUMB_ROLE, STATE_ROLE])


@dataclass(frozen=True)
class AddOutcome:
    added: tuple[OrderFileView, ...]
    refused: tuple[tuple[str, str], ...]  # (file name, one-line reason)


@dataclass(frozen=True)
class _Document:
    kind: str  # "quote" or "invoice"
    id: int
    number: str
    client_id: int
    client_name: str


class FilesViewModel(QObject):
    """State and commands of the Files screen; the grid reads `tiles`."""

    changed = Signal()  # filters, counts or busy state changed
    client_choices_changed = Signal()
    files_added = Signal(object)  # AddOutcome
    progress = Signal(float)
    loading_changed = Signal(bool)  # tiles, a document or clients are being read
    document_found = Signal(bool)  # after set_document: whether the number was found
    deleted = Signal(int)  # after delete: how many files went

    def __init__(
        self,
        ctx: AppContext,
        *,
        thumbnails: ThumbnailService | None = None,
        page_size: int = PAGE_SIZE,
        search_delay_ms: int = 200,
    ) -> None:
        super().__init__()
        self._ctx = ctx
        self._thumbnail_service = thumbnails
        self._thumbs: dict[str, tuple[str, str]] = {}
        self._client_names: dict[int, str] = {}
        self._numbers: dict[tuple[str, int], str] = {}
        self._client_id: int | None = None
        self._client_name = ""
        self._document: _Document | None = None
        self._document_text = ""
        self._filter_error = ""
        self._busy = ""
        self._tasks: set[Task] = set()
        self.tiles = FileTilesModel(ctx, self._source(), self._thumbnail_for, page_size=page_size)
        self.tiles.modelReset.connect(self.changed)
        self.tiles.rowsInserted.connect(self.changed)
        self._finder: Loader[_Document | None] = Loader(ctx, self._found, parent=self)
        self._searcher: Loader[list[ClientView]] = Loader(ctx, self._clients_found, parent=self)
        self._deleter: Loader[list[str]] = Loader(
            ctx, self._deleted, on_failed=self._delete_failed, parent=self
        )
        self._loaders = (self.tiles, self._finder, self._searcher, self._deleter)
        for loader in self._loaders:
            loader.loading_changed.connect(lambda _b: self.loading_changed.emit(self.loading))
        self.client_choices = ClientChoices()
        self._search_text = ""
        self._search_timer = QTimer(self)
        self._search_timer.setSingleShot(True)
        self._search_timer.setInterval(search_delay_ms)
        self._search_timer.timeout.connect(self.run_client_search)
        if thumbnails is not None:
            self._connect_thumbnails()

    # -- state
    @property
    def loading(self) -> bool:
        return any(loader.loading for loader in self._loaders)

    @property
    def can_delete(self) -> bool:
        return self._ctx.actor.is_admin

    @property
    def client_id(self) -> int | None:
        return self._client_id

    @property
    def client_name(self) -> str:
        return self._client_name

    @property
    def document_text(self) -> str:
        return self._document_text

    @property
    def document_number(self) -> str:
        return self._document.number if self._document else ""

    @property
    def filter_error(self) -> str:
        return self._filter_error

    @property
    def busy(self) -> str:
        """What is running ("Adding 3 files…"), or ""."""
        return self._busy

    @property
    def filtered(self) -> bool:
        return self._client_id is not None or self._document is not None

    @property
    def target_text(self) -> str:
        """Where added files go, or why they cannot be added yet."""
        if self._document is None:
            return "Pick a quote or invoice number to add files to it."
        return f"Files you add go to {self._document.number} ({self._document.client_name})."

    @property
    def can_add(self) -> bool:
        return self._document is not None and not self._busy

    @property
    def summary(self) -> str:
        if self._filter_error:
            return "No matching quote or invoice"
        count = self.tiles.rowCount()
        if self.tiles.loading and not count:
            return "Reading files…"
        more = "+" if self.tiles.canFetchMore() else ""
        files = "file" if count == 1 and not more else "files"
        where = []
        if self._document is not None:
            where.append(f"of {self._document.number}")
        elif self._client_id is not None:
            where.append(f"of {self._client_name}")
        return " ".join([f"{count or 'No'}{more} {files}", *where])

    @property
    def empty_message(self) -> str:
        if self._filter_error:
            return self._filter_error
        if self._document is not None:
            return (
                f"{self._document.number} has no files yet.\n"
                "Drop STL, OBJ or 3MF files here, or use Add files…"
            )
        if self._client_id is not None:
            return f"{self._client_name} has no files yet."
        return (
            "No order files yet.\n"
            "Files arrive with quotes and invoices; type a document number to add some here."
        )

    # -- filters
    def search_clients(self, text: str) -> None:
        """The client picker's text changed: search once the typing pauses."""
        self._search_text = text
        if not text.strip() and self._client_id is not None:
            self.choose_client(None)
        self._search_timer.start()

    def run_client_search(self) -> None:
        self._search_timer.stop()
        text = self._search_text
        self._searcher.run(lambda s: clients.search_clients(s, text, 20))

    def _clients_found(self, found: list[ClientView]) -> None:
        self.client_choices.set_clients(found)
        self.client_choices_changed.emit()

    def choose_client_row(self, row: int) -> None:
        client = self.client_choices.client_at(row)
        if client is not None:
            self.choose_client(client.id, client.name)

    def choose_client(self, client_id: int | None, name: str = "") -> None:
        """Show one client's files (None: everyone's); a document of another client is dropped."""
        self._client_id = client_id
        self._client_name = name if client_id is not None else ""
        if self._document is not None and self._document.client_id != client_id:
            self._document, self._document_text = None, ""
        self._filter_error = ""
        self.refresh()

    def set_document(self, text: str) -> None:
        """Show the files of the quote or invoice numbered ``text`` ("" clears the filter);
        ``document_found`` tells whether there is one, once it has been looked up."""
        self._document_text = text.strip()
        self._filter_error = ""
        if not self._document_text:
            self._finder.drop()
            self._document = None
            self.refresh()
            self.document_found.emit(True)
            return
        wanted = self._document_text
        self._finder.run(lambda s: _find_document(s, wanted))

    def _found(self, found: _Document | None) -> None:
        if found is None:
            self._document = None
            self._filter_error = f"No quote or invoice is numbered {self._document_text}."
            self.tiles.clear()
            self.changed.emit()
            self.document_found.emit(False)
            return
        self._document = found
        self._document_text = found.number
        self._client_id, self._client_name = found.client_id, found.client_name
        self.refresh()
        self.document_found.emit(True)

    def clear_filters(self) -> None:
        self._client_id, self._client_name = None, ""
        self._document, self._document_text, self._filter_error = None, "", ""
        self.refresh()

    def refresh(self) -> None:
        """Reload the first page (after a filter change, an edit, or a notice from elsewhere)."""
        if self._filter_error:
            self.tiles.clear()
        else:
            self.tiles.reload(self._source())
        self.changed.emit()

    # -- thumbnails
    def _thumbnail_for(self, tile: FileTile) -> tuple[str, str]:
        sha = tile.file.sha256
        known = self._thumbs.get(sha)
        if known is not None:
            return known
        service = self._thumbnails()
        hit = service.cached(sha)
        if hit is not None:
            self._thumbs[sha] = ("ready", str(hit))
            return self._thumbs[sha]
        self._thumbs[sha] = ("pending", "")
        storage = self._ctx.storage()
        bucket, key = tile.file.bucket, tile.file.storage_key
        service.request(sha, lambda: storage.get(bucket, key))
        return self._thumbs[sha]

    def _thumbnails(self) -> ThumbnailService:
        if self._thumbnail_service is None:
            self._thumbnail_service = self._ctx.thumbnails()
            self._connect_thumbnails()
        return self._thumbnail_service

    def _connect_thumbnails(self) -> None:
        assert self._thumbnail_service is not None
        self._thumbnail_service.ready.connect(self._thumbnail_ready)
        self._thumbnail_service.failed.connect(self._thumbnail_failed)

    def _thumbnail_ready(self, sha256: str, path: str) -> None:
        self._thumbs[sha256] = ("ready", path)
        self.tiles.thumbnail_changed(sha256)

    def _thumbnail_failed(self, sha256: str, reason: str) -> None:
        self._thumbs[sha256] = ("failed", reason)
        self.tiles.thumbnail_changed(sha256)

    def thumbnail_state(self, tile: FileTile) -> str:
        return self._thumbnail_for(tile)[0]

    # -- adding
    def add_files(self, paths: Sequence[Path]) -> Task | None:
        """Check and add model files to the picked document, in the background."""
        if self._document is None:
            self._ctx.notifier.warning(
                "Pick the quote or invoice the files belong to first (type its number)."
            )
            return None
        if self._busy:
            self._ctx.notifier.warning(f"Wait a moment: {self._busy[:1].lower()}{self._busy[1:]}")
            return None
        files = [Path(p) for p in paths]
        if not files:
            return None
        doc = self._document
        db, actor, storage = self._ctx.db, self._ctx.actor, self._ctx.storage()

        def work(progress: Callable[[float], None], cancel: CancelToken) -> AddOutcome:
            added: list[OrderFileView] = []
            refused: list[tuple[str, str]] = []
            for number, path in enumerate(files):
                if cancel.cancelled:
                    break
                try:
                    with db.session() as s:
                        added.append(
                            order_files.add_order_file(
                                s,
                                actor,
                                storage,
                                path,
                                client_id=doc.client_id,
                                quote_id=doc.id if doc.kind == "quote" else None,
                                invoice_id=doc.id if doc.kind == "invoice" else None,
                            )
                        )
                except (ServiceError, OSError) as exc:
                    refused.append((path.name, _one_line(exc)))
                progress((number + 1) / len(files))
            return AddOutcome(tuple(added), tuple(refused))

        many = f"{len(files)} files" if len(files) != 1 else files[0].name
        return self._start(work, f"Adding {many} to {doc.number}…", self._added)

    def _added(self, outcome: AddOutcome) -> None:
        notifier = self._ctx.notifier
        if outcome.added:
            names = ", ".join(f.filename for f in outcome.added[:3])
            more = f" and {len(outcome.added) - 3} more" if len(outcome.added) > 3 else ""
            notifier.info(f"Added {names}{more}.")
        for name, reason in outcome.refused:
            notifier.warning(f"{name} was not added: {reason}")
        self.refresh()
        self.files_added.emit(outcome)

    # -- deleting
    def describe_deletion(self, tiles: Sequence[FileTile]) -> str:
        """What a confirmation says goes: each file with the documents it belongs to."""
        lines = [f"• {t.file.filename} — {t.documents_text}, {t.client_name}" for t in tiles[:12]]
        if len(tiles) > 12:
            lines.append(f"• … and {len(tiles) - 12} more")
        what = "this file" if len(tiles) == 1 else f"these {len(tiles)} files"
        return (
            f"Delete {what}? They are removed from storage for good; the items that point at "
            "them keep their text and price.\n\n" + "\n".join(lines)
        )

    def delete(self, tiles: Sequence[FileTile]) -> None:
        """Delete files (admins only) in the background; their objects go right after.
        ``deleted`` tells how many went."""
        if not tiles:
            return
        if not self.can_delete:
            self._ctx.notifier.warning("Only an admin may delete order files.")
            self.deleted.emit(0)
            return
        db, actor, storage = self._ctx.db, self._ctx.actor, self._ctx.storage()
        ids = [tile.id for tile in tiles]

        def delete(s: Session) -> list[str]:
            gone = [order_files.delete_order_file(s, actor, file_id).filename for file_id in ids]
            maintenance.after_commit_drain(db, storage)
            return gone

        self._deleter.run(delete)

    def _deleted(self, gone: list[str]) -> None:
        if gone:
            what = gone[0] if len(gone) == 1 else f"{len(gone)} files"
            self._ctx.notifier.info(f"Deleted {what}.")
        self.refresh()
        self.deleted.emit(len(gone))

    def _delete_failed(self, _exc: BaseException) -> bool:
        self.refresh()
        self.deleted.emit(0)
        return False

    # -- reading a file
    def read_bytes(self, tile: FileTile) -> bytes:
        """The file's bytes from storage (call off the GUI thread for big files)."""
        return self._ctx.storage().get(tile.file.bucket, tile.file.storage_key)

    def download(self, tile: FileTile, destination: Path) -> Task | None:
        """Copy the file from storage to ``destination`` in the background."""

        def work(progress: Callable[[float], None], cancel: CancelToken) -> Path:
            data = self.read_bytes(tile)
            partial = destination.with_name(f".{destination.name}.part")
            partial.write_bytes(data)
            partial.replace(destination)
            return destination

        def done(path: Path) -> None:
            self._ctx.notifier.info(f"Saved {tile.file.filename} to {path}.")

        return self._start(work, f"Saving {tile.file.filename}…", done)

    def mesh_work(self, tile: FileTile) -> Work:
        """Work for a task that reads the file and returns its mesh (a `trimesh.Trimesh`)."""

        def work(progress: Callable[[float], None], cancel: CancelToken) -> trimesh.Trimesh:
            return load_mesh(self.read_bytes(tile))

        return work

    @property
    def runner(self) -> TaskRunner:
        return self._ctx.runner

    def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()

    # -- helpers
    def _start(self, work: Callable[..., T], busy: str, done: Callable[[T], None]) -> Task:
        task = Task(work, describe=_one_line)
        self._tasks.add(task)
        self._busy = busy

        def finish() -> None:
            self._tasks.discard(task)
            self._busy = ""
            self.progress.emit(1.0)
            self.changed.emit()

        def ok(result: Any) -> None:
            finish()
            done(result)

        def failed(message: str, details: str) -> None:
            finish()
            self._ctx.notifier.error(message, details)

        task.signals.progress.connect(self.progress)
        task.signals.finished.connect(ok)
        task.signals.failed.connect(failed)
        task.signals.cancelled.connect(finish)
        self.changed.emit()
        return self._ctx.runner.start(task)

    def _source(self) -> TileSource:
        doc, client_id = self._document, self._client_id

        def page(s: Session, offset: int, limit: int) -> list[FileTile]:
            rows = file_labels.labelled_page(
                s,
                client_id=client_id,
                quote_id=doc.id if doc and doc.kind == "quote" else None,
                invoice_id=doc.id if doc and doc.kind == "invoice" else None,
                limit=limit,
                offset=offset,
            )
            return [_tile(row, label) for row, label in rows]

        return page


def _tile(row: OrderFileView, label: file_labels.FileLabel) -> FileTile:
    documents = tuple(n for n in (label.quote_number, label.invoice_number) if n is not None)
    return FileTile(row, label.client_name, documents)


def _find_document(s: Session, text: str) -> _Document | None:
    """The quote or invoice numbered ``text`` (any case), or None."""
    wanted = text.strip().casefold()
    for summary in quotes.list_quotes(s, QuoteFilter(text=text.strip()), limit=20):
        if summary.number.casefold() == wanted:
            return _Document(
                "quote", summary.id, summary.number, summary.client_id, summary.client_name
            )
    for found in invoices.list_invoices(s, InvoiceFilter(text=text.strip()), limit=20):
        if found.number.casefold() == wanted:
            return _Document("invoice", found.id, found.number, found.client_id, found.client_name)
    return None


def _one_line(exc: BaseException) -> str:
    if isinstance(exc, OSError) and not isinstance(exc, ServiceError):
        return f"The file cannot be read: {exc.strerror or exc}."
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]


# -- the files of one quote or invoice, for its editor ----------------------------------------


class AttachmentsModel(QAbstractListModel):
    """An invoice's attachments, as the editor lists them."""

    def __init__(self) -> None:
        super().__init__()
        self._rows: list[AttachmentView] = []

    def set_rows(self, rows: list[AttachmentView]) -> None:
        self.beginResetModel()
        self._rows = list(rows)
        self.endResetModel()

    @property
    def rows(self) -> list[AttachmentView]:
        return list(self._rows)

    def row_at(self, row: int) -> AttachmentView | None:
        return self._rows[row] if 0 <= row < len(self._rows) else None

    def rowCount(self, parent: Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._rows)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        row = self.row_at(index.row()) if index.isValid() else None
        if row is None:
            return None
        kind = "image" if row.is_image else "PDF"
        if role == Qt.ItemDataRole.DisplayRole:
            return f"{row.filename}   ·   {kind}, {size_text(row.size_bytes)}"
        if role == Qt.ItemDataRole.ToolTipRole:
            return f"{row.filename}\nDouble-click to open"
        if role == Qt.ItemDataRole.UserRole:
            return row
        return None


class DocumentFilesViewModel(QObject):
    """Thumbnails of the order files a document's lines point at, and an invoice's attachments."""

    thumbnail_changed = Signal(int)  # order file id
    attachments_changed = Signal()

    def __init__(self, ctx: AppContext, *, thumbnails: ThumbnailService | None = None) -> None:
        super().__init__()
        self._ctx = ctx
        self._service = thumbnails
        self._connected = False
        self._files: dict[int, OrderFileView | None] = {}
        self._thumbs: dict[str, tuple[str, str]] = {}
        self._invoice_id: int | None = None
        self.attachments = AttachmentsModel()

    # -- order files
    def set_document(self, invoice_id: int | None) -> None:
        """The editor shows another document (``invoice_id`` None for quotes and new ones)."""
        self._files.clear()
        self._invoice_id = invoice_id
        self.load_attachments()

    @property
    def takes_attachments(self) -> bool:
        return self._invoice_id is not None

    def file(self, file_id: int) -> OrderFileView | None:
        if file_id not in self._files:
            try:
                with self._ctx.db.session() as s:
                    self._files[file_id] = order_files.get_order_file(s, file_id)
            except NotFound:
                self._files[file_id] = None
        return self._files[file_id]

    def thumbnail(self, file_id: int) -> tuple[str, str]:
        """("pending" | "ready" | "failed" | "gone", path or reason) for a line's file."""
        found = self.file(file_id)
        if found is None:
            return ("gone", "")
        sha = found.sha256
        if sha in self._thumbs:
            return self._thumbs[sha]
        service = self._thumbnails()
        hit = service.cached(sha)
        if hit is not None:
            self._thumbs[sha] = ("ready", str(hit))
            return self._thumbs[sha]
        self._thumbs[sha] = ("pending", "")
        storage = self._ctx.storage()
        service.request(sha, lambda: storage.get(found.bucket, found.storage_key))
        return self._thumbs[sha]

    def mesh_work(self, file_id: int) -> Work:
        found = self.file(file_id)
        storage = self._ctx.storage()

        def work(progress: Callable[[float], None], cancel: CancelToken) -> trimesh.Trimesh:
            if found is None:
                raise NotFound("That file was deleted.")
            return load_mesh(storage.get(found.bucket, found.storage_key))

        return work

    @property
    def runner(self) -> TaskRunner:
        return self._ctx.runner

    def _thumbnails(self) -> ThumbnailService:
        if self._service is None:
            self._service = self._ctx.thumbnails()
        if not self._connected:
            self._service.ready.connect(self._ready)
            self._service.failed.connect(self._failed)
            self._connected = True
        return self._service

    def _ready(self, sha256: str, path: str) -> None:
        self._thumbs[sha256] = ("ready", path)
        self._announce(sha256)

    def _failed(self, sha256: str, reason: str) -> None:
        self._thumbs[sha256] = ("failed", reason)
        self._announce(sha256)

    def _announce(self, sha256: str) -> None:
        for file_id, found in list(self._files.items()):
            if found is not None and found.sha256 == sha256:
                self.thumbnail_changed.emit(file_id)

    # -- attachments
    def load_attachments(self) -> None:
        rows: list[AttachmentView] = []
        if self._invoice_id is not None:
            invoice_id = self._invoice_id
            rows = (
                self._ctx.notifier.attempt(
                    lambda: self._session(attachments.list_attachments, invoice_id)
                )
                or []
            )
        self.attachments.set_rows(rows)
        self.attachments_changed.emit()

    def attach(self, paths: Sequence[Path]) -> int:
        """Check and attach PDFs and images; a refused file is named with its reason."""
        if self._invoice_id is None:
            self._ctx.notifier.warning("Save the invoice before attaching files to it.")
            return 0
        added: list[str] = []
        for path in paths:
            try:
                with self._ctx.db.session() as s:
                    view = attachments.add_attachment(
                        s, self._ctx.actor, self._ctx.storage(), self._invoice_id, Path(path)
                    )
                added.append(view.filename)
            except ServiceError as exc:
                self._ctx.notifier.warning(f"{Path(path).name} was not attached: {exc}")
        if added:
            what = added[0] if len(added) == 1 else f"{len(added)} files"
            self._ctx.notifier.info(f"Attached {what}.")
        self.load_attachments()
        return len(added)

    def can_remove(self, row: AttachmentView) -> bool:
        actor = self._ctx.actor
        return actor.is_admin or (actor.user_id is not None and row.uploaded_by == actor.user_id)

    def remove(self, row: AttachmentView) -> bool:
        done = self._ctx.notifier.attempt(
            partial(self._session, attachments.remove_attachment, self._ctx.actor, row.id)
        )
        if done is None:
            return False
        maintenance.after_commit_drain(self._ctx.db, self._ctx.storage())
        self._ctx.notifier.info(f"Removed {row.filename}.")
        self.load_attachments()
        return True

    def export(self, row: AttachmentView, folder: Path) -> Path | None:
        """Write a copy into ``folder`` (to open it with the system's viewer)."""

        def write() -> Path:
            data = self._session(attachments.read_attachment, self._ctx.storage(), row.id)
            folder.mkdir(parents=True, exist_ok=True)
            target = folder / row.filename
            target.write_bytes(data)
            return target

        return self._ctx.notifier.attempt(write)

    def _session(self, call: Callable[..., T], *args: Any) -> T:
        with self._ctx.db.session() as s:
            return call(s, *args)
