"""The Files screen: a grid of order-file tiles with thumbnails; filter, add, open, save, delete."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QRect, QSize, Qt
from PySide6.QtGui import (
    QColor,
    QDragEnterEvent,
    QDropEvent,
    QFont,
    QKeyEvent,
    QKeySequence,
    QPainter,
    QPainterPath,
    QPen,
    QPixmap,
    QShortcut,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCompleter,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListView,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QStackedWidget,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QVBoxLayout,
    QWidget,
)

from desktop.viewmodels.context import AppContext
from desktop.viewmodels.files import (
    DETAIL_ROLE,
    DOCUMENTS_ROLE,
    STATE_ROLE,
    THUMB_ROLE,
    FilesViewModel,
    FileTile,
)
from desktop.views.loading import LoadingBadge
from desktop.views.mesh_dialog import MeshDialog
from desktop.views.page import Page, card
from desktop.views.theme import ACCENT, BAD, LINE, MUTED

TILE = QSize(200, 244)
THUMB_HEIGHT = 158
MODEL_FILTER = "3D models (*.stl *.STL *.obj *.OBJ *.3mf *.3MF);;All files (*)"

STYLE = f"""
QListView#fileGrid {{ background: #ffffff; border: 1px solid {LINE}; border-radius: 10px;
    padding: 8px; }}
QLabel#filterLabel {{ color: {MUTED}; font-weight: 600; }}
QLabel#filterError {{ color: {BAD}; }}
QLabel#target {{ color: {MUTED}; }}
QPushButton#link {{ border: none; background: transparent; color: {ACCENT};
    padding: 4px 0; font-weight: 600; }}
QPushButton#link:hover {{ color: #1f4f85; }}
QPushButton#danger:disabled {{ color: #a8b2bf; }}
QFrame#dropHint {{ border: 2px dashed {ACCENT}; border-radius: 10px; background: #f1f6fc; }}
"""


class TileDelegate(QStyledItemDelegate):
    """A card per file: the thumbnail (or a placeholder while it renders), name, size and
    client, and the documents it belongs to."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._pixmaps: dict[str, QPixmap] = {}

    def sizeHint(
        self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex
    ) -> QSize:
        return TILE

    def _pixmap(self, path: str) -> QPixmap:
        if path not in self._pixmaps:
            self._pixmaps[path] = QPixmap(path)
        return self._pixmaps[path]

    def paint(
        self,
        painter: QPainter,
        option: QStyleOptionViewItem,
        index: QModelIndex | QPersistentModelIndex,
    ) -> None:
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        rect: QRect = option.rect.adjusted(6, 6, -6, -6)
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        hovered = bool(option.state & QStyle.StateFlag.State_MouseOver)
        frame = QPainterPath()
        frame.addRoundedRect(rect, 8, 8)
        painter.fillPath(frame, QColor("#e6f0fb" if selected else "#ffffff"))
        border = QColor(ACCENT) if selected else QColor("#9fb4cc" if hovered else LINE)
        painter.setPen(QPen(border, 2 if selected else 1))
        painter.drawPath(frame)

        thumb = QRect(rect.left() + 8, rect.top() + 8, rect.width() - 16, THUMB_HEIGHT)
        state = str(index.data(STATE_ROLE) or "")
        path = str(index.data(THUMB_ROLE) or "")
        pixmap = self._pixmap(path) if state == "ready" and path else QPixmap()
        if not pixmap.isNull():
            scaled = pixmap.scaled(
                thumb.size(),
                Qt.AspectRatioMode.KeepAspectRatio,
                Qt.TransformationMode.SmoothTransformation,
            )
            x = thumb.left() + (thumb.width() - scaled.width()) // 2
            y = thumb.top() + (thumb.height() - scaled.height()) // 2
            clip = QPainterPath()
            clip.addRoundedRect(thumb, 6, 6)
            painter.setClipPath(clip)
            painter.drawPixmap(x, y, scaled)
            painter.setClipping(False)
        else:
            back = QPainterPath()
            back.addRoundedRect(thumb, 6, 6)
            painter.fillPath(back, QColor("#f1f4f8"))
            painter.setPen(QColor(BAD if state == "failed" else MUTED))
            text = "No preview" if state == "failed" else "Drawing preview…"
            painter.drawText(thumb, Qt.AlignmentFlag.AlignCenter, text)

        left = rect.left() + 10
        width = rect.width() - 20
        y = thumb.bottom() + 8
        name_font = QFont(option.font)
        name_font.setBold(True)
        painter.setFont(name_font)
        painter.setPen(QColor("#1d2733"))
        name = str(index.data(Qt.ItemDataRole.DisplayRole) or "")
        metrics = painter.fontMetrics()
        painter.drawText(
            QRect(left, y, width, metrics.height()),
            Qt.AlignmentFlag.AlignLeft,
            metrics.elidedText(name, Qt.TextElideMode.ElideMiddle, width),
        )
        y += metrics.height() + 2
        small = QFont(option.font)
        small.setPointSizeF(max(7.0, small.pointSizeF() - 1))
        painter.setFont(small)
        metrics = painter.fontMetrics()
        for text, colour in (
            (str(index.data(DETAIL_ROLE) or ""), MUTED),
            (str(index.data(DOCUMENTS_ROLE) or ""), ACCENT),
        ):
            painter.setPen(QColor(colour))
            painter.drawText(
                QRect(left, y, width, metrics.height()),
                Qt.AlignmentFlag.AlignLeft,
                metrics.elidedText(text, Qt.TextElideMode.ElideRight, width),
            )
            y += metrics.height() + 1
        painter.restore()


class TileGrid(QListView):
    """The grid; Delete asks to delete the selected files (the page decides whether it may)."""

    def __init__(self, on_delete: Callable[[], None]) -> None:
        super().__init__()
        self._on_delete = on_delete

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.matches(QKeySequence.StandardKey.Delete) or event.key() == Qt.Key.Key_Backspace:
            self._on_delete()
            event.accept()
            return
        super().keyPressEvent(event)


class FilesPage(Page):
    """Binds the Files view model to a filter bar, the tile grid and the actions."""

    def __init__(self, vm: FilesViewModel) -> None:
        super().__init__("Files", "")
        self.vm = vm
        self.confirm: QMessageBox | None = None
        self.dialogs: list[MeshDialog] = []
        self.setStyleSheet(STYLE)
        self.setAcceptDrops(True)

        self.loading = LoadingBadge(vm.loading_changed, loading=vm.loading)
        self.action_row.addWidget(self.loading)
        self.open_button = self.add_action("Open in 3D")
        self.open_button.setToolTip("Show the selected file in 3D (Enter or double-click)")
        self.open_button.clicked.connect(self.open_selected)
        self.download_button = self.add_action("Download…")
        self.download_button.setToolTip("Save a copy of the selected file (Ctrl+S)")
        self.download_button.clicked.connect(self.download_selected)
        self.delete_button = self.add_action("Delete", danger=True)
        self.delete_button.setToolTip("Delete the selected files (admins; Delete key)")
        self.delete_button.setVisible(vm.can_delete)
        self.delete_button.clicked.connect(self.delete_selected)
        self.add_button = self.add_action("Add files…", primary=True)
        self.add_button.setToolTip(
            "Add model files to the quote or invoice picked below (Ctrl+O, or drop them here)"
        )
        self.add_button.clicked.connect(self.choose_files)

        self.add(self._filter_bar())
        self.busy_row = QWidget()
        busy = QHBoxLayout(self.busy_row)
        busy.setContentsMargins(0, 0, 0, 0)
        self.busy_label = QLabel()
        self.busy_label.setObjectName("muted")
        self.progress = QProgressBar()
        self.progress.setRange(0, 100)
        self.progress.setTextVisible(False)
        self.progress.setMaximumHeight(8)
        busy.addWidget(self.busy_label)
        busy.addWidget(self.progress, 1)
        self.busy_row.hide()
        self.add(self.busy_row)

        self.stack = QStackedWidget()
        self.grid = TileGrid(self.delete_selected)
        self.grid.setObjectName("fileGrid")
        self.grid.setViewMode(QListView.ViewMode.IconMode)
        self.grid.setResizeMode(QListView.ResizeMode.Adjust)
        self.grid.setMovement(QListView.Movement.Static)
        self.grid.setUniformItemSizes(True)
        self.grid.setSpacing(4)
        self.grid.setWrapping(True)
        self.grid.setMouseTracking(True)
        self.grid.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.grid.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.grid.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.grid.setItemDelegate(TileDelegate(self.grid))
        self.grid.setModel(vm.tiles)
        self.grid.activated.connect(lambda _index: self.open_selected())
        self.grid.selectionModel().selectionChanged.connect(lambda *_: self._sync_actions())
        self.empty = QLabel()
        self.empty.setObjectName("empty")
        self.empty.setWordWrap(True)
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        empty_card = card()
        QVBoxLayout(empty_card).addWidget(self.empty)
        self.stack.addWidget(self.grid)
        self.stack.addWidget(empty_card)
        self.add(self.stack, 1)

        # Ctrl+O is the main window's: it calls `choose_files` of the screen shown.
        save = QShortcut(QKeySequence(QKeySequence.StandardKey.Save), self)
        save.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        save.activated.connect(self.download_selected)

        vm.changed.connect(self._sync)
        vm.loading_changed.connect(self._sync)
        vm.progress.connect(self._progress)
        vm.client_choices_changed.connect(self._show_choices)
        vm.tiles.modelReset.connect(self._sync)
        vm.tiles.rowsInserted.connect(lambda *_: self._sync())
        self._sync()

    def _filter_bar(self) -> QWidget:
        box = card()
        column = QVBoxLayout(box)
        column.setContentsMargins(16, 10, 16, 10)
        column.setSpacing(6)
        row = QHBoxLayout()
        row.setSpacing(10)
        client_label = QLabel("Client")
        client_label.setObjectName("filterLabel")
        row.addWidget(client_label)
        self.client_edit = QLineEdit()
        self.client_edit.setPlaceholderText("All clients — type a name to pick one")
        self.client_edit.setClearButtonEnabled(True)
        self.client_edit.setMinimumWidth(260)
        self.completer = QCompleter(self.vm.client_choices, self.client_edit)
        self.completer.setCompletionMode(QCompleter.CompletionMode.UnfilteredPopupCompletion)
        self.completer.setCompletionRole(Qt.ItemDataRole.EditRole)
        self.completer.setMaxVisibleItems(10)
        self.client_edit.setCompleter(self.completer)
        self.completer.activated[QModelIndex].connect(  # type: ignore[index]
            lambda index: self.vm.choose_client_row(index.row())
        )
        self.client_edit.textEdited.connect(self.vm.search_clients)
        self.client_edit.returnPressed.connect(self.vm.run_client_search)
        row.addWidget(self.client_edit, 2)
        doc_label = QLabel("Quote or invoice")
        doc_label.setObjectName("filterLabel")
        row.addWidget(doc_label)
        self.document_edit = QLineEdit()
        self.document_edit.setPlaceholderText("e.g. QT-0003 or INV-0012, then Enter")
        self.document_edit.setClearButtonEnabled(True)
        self.document_edit.setMinimumWidth(200)
        self.document_edit.returnPressed.connect(
            lambda: self.vm.set_document(self.document_edit.text())
        )
        self.document_edit.textChanged.connect(self._document_cleared)
        row.addWidget(self.document_edit, 1)
        self.clear_button = QPushButton("Show all files")
        self.clear_button.setObjectName("link")
        self.clear_button.clicked.connect(self._clear_filters)
        row.addWidget(self.clear_button)
        column.addLayout(row)
        self.target = QLabel()
        self.target.setObjectName("target")
        column.addWidget(self.target)
        return box

    # -- showing state
    def activated(self) -> None:
        self.vm.refresh()

    def _progress(self, value: float) -> None:
        self.progress.setValue(int(value * 100))

    def _sync(self, *_: object) -> None:
        vm = self.vm
        self.subtitle.setText(vm.summary)
        self.subtitle.setVisible(True)
        if not self.client_edit.hasFocus():
            self.client_edit.setText(vm.client_name)
        if not self.document_edit.hasFocus() or vm.document_number:
            self.document_edit.blockSignals(True)
            self.document_edit.setText(vm.document_number or vm.document_text)
            self.document_edit.blockSignals(False)
        self.target.setText(vm.filter_error or vm.target_text)
        self.target.setObjectName("filterError" if vm.filter_error else "target")
        self.target.style().unpolish(self.target)
        self.target.style().polish(self.target)
        self.clear_button.setVisible(vm.filtered or bool(vm.filter_error))
        has_tiles = vm.tiles.rowCount() > 0 or (vm.loading and not vm.filter_error)
        self.empty.setText(vm.empty_message)
        self.stack.setCurrentIndex(0 if has_tiles else 1)
        self.busy_row.setVisible(bool(vm.busy))
        self.busy_label.setText(vm.busy)
        if not vm.busy:
            self.progress.setValue(0)
        self._sync_actions()

    def _sync_actions(self) -> None:
        chosen = self.selected()
        self.add_button.setEnabled(not self.vm.busy)
        self.open_button.setEnabled(len(chosen) == 1)
        self.download_button.setEnabled(len(chosen) == 1)
        self.delete_button.setEnabled(bool(chosen))
        self.delete_button.setText(f"Delete {len(chosen)}" if len(chosen) > 1 else "Delete")

    def _show_choices(self) -> None:
        if self.client_edit.hasFocus() and self.vm.client_choices.rowCount() > 0:
            self.completer.complete()

    def _document_cleared(self, text: str) -> None:
        if not text.strip() and self.vm.document_number:
            self.vm.set_document("")

    def _clear_filters(self) -> None:
        self.client_edit.clear()
        self.document_edit.clear()
        self.vm.clear_filters()

    def selected(self) -> list[FileTile]:
        rows = sorted(index.row() for index in self.grid.selectionModel().selectedIndexes())
        return [tile for row in rows if (tile := self.vm.tiles.tile_at(row)) is not None]

    # -- commands
    def choose_files(self) -> None:
        if not self.vm.can_add:
            self.vm.add_files([])  # the view model says what is missing
            if not self.vm.document_number:
                self.document_edit.setFocus()
            return
        names, _ = QFileDialog.getOpenFileNames(
            self, f"Add files to {self.vm.document_number}", "", MODEL_FILTER
        )
        if names:
            self.vm.add_files([Path(name) for name in names])

    def open_selected(self) -> MeshDialog | None:
        chosen = self.selected()
        if len(chosen) != 1:
            return None
        tile = chosen[0]
        dialog = MeshDialog(
            tile.file.filename,
            self.vm.mesh_work(tile),
            self.vm.runner,
            detail=f"{tile.detail} · {tile.documents_text}",
            parent=self,
        )
        dialog.finished.connect(lambda _r, d=dialog: self._dialog_closed(d))
        self.dialogs.append(dialog)
        dialog.open()
        return dialog

    def _dialog_closed(self, dialog: MeshDialog) -> None:
        if dialog in self.dialogs:
            self.dialogs.remove(dialog)

    def download_selected(self) -> None:
        chosen = self.selected()
        if len(chosen) != 1:
            return
        tile = chosen[0]
        name, _ = QFileDialog.getSaveFileName(self, "Save a copy", tile.file.filename)
        if name:
            self.vm.download(tile, Path(name))

    def delete_selected(self) -> None:
        chosen = self.selected()
        if not chosen or not self.vm.can_delete:
            return
        box = QMessageBox(
            QMessageBox.Icon.Warning,
            "Delete files",
            self.vm.describe_deletion(chosen),
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
            self,
        )
        box.button(QMessageBox.StandardButton.Yes).setText(
            "Delete file" if len(chosen) == 1 else f"Delete {len(chosen)} files"
        )
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)

        def answered(result: int) -> None:
            self.confirm = None
            if result == QMessageBox.StandardButton.Yes:
                self.vm.delete(chosen)

        box.finished.connect(answered)
        self.confirm = box
        box.open()

    # -- drag and drop
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        urls = event.mimeData().urls()
        if urls and all(url.isLocalFile() for url in urls):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        paths = [Path(url.toLocalFile()) for url in event.mimeData().urls() if url.isLocalFile()]
        if paths:
            event.acceptProposedAction()
            self.vm.add_files(paths)

    def close_page(self) -> None:
        self.vm.close()
        for dialog in list(self.dialogs):
            dialog.close()


def build_files_page(ctx: AppContext) -> FilesPage:
    return FilesPage(FilesViewModel(ctx))
