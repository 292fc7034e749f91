"""A table model that pages rows from a service as the view scrolls, filtered in SQL; the
background variant reads each page off the GUI thread and shows it when it arrives."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QBrush, QColor
from sqlalchemy.orm import Session

from desktop.viewmodels.background import Loader
from desktop.viewmodels.context import AppContext

Row = TypeVar("Row")
Index = QModelIndex | QPersistentModelIndex


@dataclass(frozen=True)
class Column(Generic[Row]):
    header: str
    text: Callable[[Row], str]
    align_right: bool = False
    colour: Callable[[Row], str | None] | None = None


class PagedTableModel(QAbstractTableModel, Generic[Row]):
    """Rows come from ``fetch(offset, limit)``; Qt asks for more with canFetchMore/fetchMore."""

    def __init__(
        self,
        columns: Sequence[Column[Row]],
        fetch: Callable[[int, int], list[Row]],
        *,
        page_size: int = 200,
    ) -> None:
        super().__init__()
        self._columns = list(columns)
        self._fetch = fetch
        self._page_size = page_size
        self._rows: list[Row] = []
        self._exhausted = False

    # -- loading
    def reload(self, fetch: Callable[[int, int], list[Row]] | None = None) -> None:
        """Start again from the first page (after a filter change or an edit)."""
        if fetch is not None:
            self._fetch = fetch
        self.beginResetModel()
        self._rows = self._fetch(0, self._page_size)
        self._exhausted = len(self._rows) < self._page_size
        self.endResetModel()

    def canFetchMore(self, parent: Index = QModelIndex()) -> bool:
        return not parent.isValid() and not self._exhausted

    def fetchMore(self, parent: Index = QModelIndex()) -> None:
        if parent.isValid() or self._exhausted:
            return
        page = self._fetch(len(self._rows), self._page_size)
        self._exhausted = len(page) < self._page_size
        if not page:
            return
        start = len(self._rows)
        self.beginInsertRows(QModelIndex(), start, start + len(page) - 1)
        self._rows.extend(page)
        self.endInsertRows()

    # -- reading
    def row_at(self, row: int) -> Row | None:
        return self._rows[row] if 0 <= row < len(self._rows) else None

    @property
    def rows(self) -> list[Row]:
        return list(self._rows)

    def rowCount(self, parent: Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._columns)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation != Qt.Orientation.Horizontal:
            return None
        column = self._columns[section]
        if role == Qt.ItemDataRole.DisplayRole:
            return column.header
        if role == Qt.ItemDataRole.TextAlignmentRole and column.align_right:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        row = self._rows[index.row()]
        column = self._columns[index.column()]
        if role == Qt.ItemDataRole.DisplayRole:
            return column.text(row)
        if role == Qt.ItemDataRole.TextAlignmentRole:
            horizontal = (
                Qt.AlignmentFlag.AlignRight if column.align_right else Qt.AlignmentFlag.AlignLeft
            )
            return int(horizontal | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ForegroundRole and column.colour is not None:
            colour = column.colour(row)
            return QBrush(QColor(colour)) if colour else None
        if role == Qt.ItemDataRole.UserRole:
            return row
        return None


#: Reads ``limit`` rows from ``offset`` in the given session (on a worker thread).
PageSource = Callable[[Session, int, int], list[Row]]


@dataclass(frozen=True)
class _Page(Generic[Row]):
    offset: int
    asked: int
    rows: list[Row]


class BackgroundPagedModel(PagedTableModel[Row]):
    """Pages read in the background: ``reload`` and ``fetchMore`` return at once, the rows
    appear when they arrive (``page_loaded``), the rows shown stay until then, and a reload
    supersedes a page still on its way."""

    loading_changed = Signal(bool)
    page_loaded = Signal()  # a page arrived (the first after a reload, or one more)

    def __init__(
        self,
        ctx: AppContext,
        columns: Sequence[Column[Row]],
        source: PageSource[Row],
        *,
        page_size: int = 200,
    ) -> None:
        super().__init__(columns, lambda _offset, _limit: [], page_size=page_size)
        self._source = source
        self._loaded_once = False
        self._loader: Loader[_Page[Row]] = Loader(ctx, self._arrived, parent=self)
        self._loader.loading_changed.connect(self.loading_changed)

    @property
    def loading(self) -> bool:
        return self._loader.loading

    @property
    def loaded_once(self) -> bool:
        return self._loaded_once

    def reload(
        self, fetch: Callable[[int, int], list[Row]] | None = None, *, keep: int = 0
    ) -> None:
        """Read from the first row again; ``keep`` reads at least that many (a refresh that
        keeps the place). A new source is set with ``set_source``."""
        if fetch is not None:
            raise TypeError("a background model reads from set_source(), not a fetch")
        wanted = max(keep, self._page_size)
        source = self._source
        self._loader.run(lambda s: _Page(0, wanted, source(s, 0, wanted)))

    def set_source(self, source: PageSource[Row], *, keep: int = 0) -> None:
        self._source = source
        self.reload(keep=keep)

    def canFetchMore(self, parent: Index = QModelIndex()) -> bool:
        return (
            not parent.isValid()
            and self._loaded_once
            and not self._exhausted
            and not self._loader.loading
        )

    def fetchMore(self, parent: Index = QModelIndex()) -> None:
        if not self.canFetchMore(parent):
            return
        offset, size, source = len(self._rows), self._page_size, self._source
        self._loader.run(lambda s: _Page(offset, size, source(s, offset, size)))

    def _arrived(self, page: _Page[Row]) -> None:
        if page.offset == 0:
            self.beginResetModel()
            self._rows = list(page.rows)
            self._exhausted = len(page.rows) < page.asked
            self._loaded_once = True
            self.endResetModel()
        elif page.offset == len(self._rows):
            self._exhausted = len(page.rows) < page.asked
            if page.rows:
                start = len(self._rows)
                self.beginInsertRows(QModelIndex(), start, start + len(page.rows) - 1)
                self._rows.extend(page.rows)
                self.endInsertRows()
        self.page_loaded.emit()
