"""The Quotes and Invoices screens: a filtered, paged list and the editor, on one page each."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QRect, QSize, Qt
from PySide6.QtGui import QColor, QKeySequence, QPainter, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QButtonGroup,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QStackedWidget,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from desktop.viewmodels.context import AppContext
from desktop.viewmodels.document_editor import DocumentEditorViewModel
from desktop.viewmodels.documents import (
    STATUS_ROLE,
    DocumentKind,
    DocumentListViewModel,
    DocumentRouter,
)
from desktop.viewmodels.shell import ShellViewModel
from desktop.views.document_editor import EXTRA_STYLE, DocumentEditorView, tint
from desktop.views.loading import LoadingBadge
from desktop.views.page import Page, card
from desktop.views.theme import MUTED, STATUS_COLOURS

Index = QModelIndex | QPersistentModelIndex


class StatusBadgeDelegate(QStyledItemDelegate):
    """Paints a status as a tinted pill in its colour (overdue in red)."""

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: Index) -> None:
        key = index.data(STATUS_ROLE)
        if not key:
            super().paint(painter, option, index)
            return
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        text = opt.text
        opt.text = ""
        widget = opt.widget
        style = widget.style() if widget is not None else QApplication.style()
        style.drawControl(QStyle.ControlElement.CE_ItemViewItem, opt, painter, widget)
        colour = QColor(STATUS_COLOURS.get(str(key), MUTED))
        font = opt.font
        font.setBold(True)
        font.setPointSizeF(max(font.pointSizeF() - 0.5, 7.0))
        painter.save()
        painter.setFont(font)
        metrics = painter.fontMetrics()
        width = metrics.horizontalAdvance(text) + 22
        height = metrics.height() + 6
        rect = opt.rect
        pill = QRect(rect.left() + 8, rect.center().y() - height // 2 + 1, width, height)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(tint(colour.name())))
        painter.drawRoundedRect(pill, height / 2, height / 2)
        painter.setPen(colour)
        painter.drawText(pill, int(Qt.AlignmentFlag.AlignCenter), text)
        painter.restore()

    def sizeHint(self, option: QStyleOptionViewItem, index: Index) -> QSize:
        size = super().sizeHint(option, index)
        return QSize(size.width() + 30, max(size.height(), 34))


class DocumentListView(QWidget):
    """Status chips, a search box and the paged table, or an empty state that says why."""

    def __init__(self, vm: DocumentListViewModel) -> None:
        super().__init__()
        self.vm = vm
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(12)

        toolbar = QHBoxLayout()
        toolbar.setSpacing(6)
        self.chips: dict[str | None, QPushButton] = {}
        self._chip_group = QButtonGroup(self)
        self._chip_group.setExclusive(True)
        for flt in vm.filters:
            chip = QPushButton(flt.label)
            chip.setObjectName("filter")
            chip.setCheckable(True)
            chip.setCursor(Qt.CursorShape.PointingHandCursor)
            chip.clicked.connect(lambda _=False, key=flt.key: vm.set_filter(key))
            self._chip_group.addButton(chip)
            toolbar.addWidget(chip)
            self.chips[flt.key] = chip
        toolbar.addStretch(1)
        self.table = QTableView()
        self.loading = LoadingBadge(vm.loading_changed, loading=vm.loading)
        toolbar.addWidget(self.loading)
        self.search = QLineEdit()
        self.search.setObjectName("search")
        self.search.setPlaceholderText("Search number or client   (Ctrl+F)")
        self.search.setClearButtonEnabled(True)
        self.search.setMinimumWidth(300)
        self.search.textEdited.connect(vm.set_search)
        self.search.returnPressed.connect(self._search_now)
        toolbar.addWidget(self.search)
        layout.addLayout(toolbar)

        self.table.setModel(vm.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        self.table.setShowGrid(False)
        self.table.setWordWrap(False)
        self.table.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setDefaultSectionSize(36)
        self.table.setItemDelegateForColumn(vm.model.status_column, StatusBadgeDelegate(self.table))
        header = self.table.horizontalHeader()
        header.setHighlightSections(False)
        header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        widths = [110, 0, 120, 120, 140, 130, 130]
        for column in range(vm.model.columnCount()):
            if column == 1:
                header.setSectionResizeMode(column, QHeaderView.ResizeMode.Stretch)
            else:
                header.setSectionResizeMode(column, QHeaderView.ResizeMode.Fixed)
                header.resizeSection(column, widths[column])
        self.table.activated.connect(lambda index: vm.open_row(index.row()))

        self.empty = card()
        empty_layout = QVBoxLayout(self.empty)
        empty_layout.setContentsMargins(40, 60, 40, 60)
        empty_layout.addStretch(1)
        self.empty_title = QLabel()
        self.empty_title.setObjectName("emptyTitle")
        self.empty_title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_hint = QLabel()
        self.empty_hint.setObjectName("muted")
        self.empty_hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_action = QPushButton()
        self.empty_action.clicked.connect(self._empty_action)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self.empty_action)
        row.addStretch(1)
        empty_layout.addWidget(self.empty_title)
        empty_layout.addWidget(self.empty_hint)
        empty_layout.addSpacing(10)
        empty_layout.addLayout(row)
        empty_layout.addStretch(2)

        self.body = QStackedWidget()
        self.body.addWidget(self.table)
        self.body.addWidget(self.empty)
        layout.addWidget(self.body, 1)

        find = QShortcut(QKeySequence.StandardKey.Find, self)
        find.activated.connect(self.focus_search)
        vm.filter_changed.connect(self._sync)
        vm.summary_changed.connect(self._sync)
        vm.loading_changed.connect(self._sync)
        self._sync()

    def focus_search(self) -> None:
        self.search.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.search.selectAll()

    def _search_now(self) -> None:
        self.vm.search_now(self.search.text())

    def _empty_action(self) -> None:
        if self.vm.is_filtered:
            self.search.clear()
            self.vm.clear_filters()
        else:
            self.vm.new_document()

    def _sync(self) -> None:
        chip = self.chips.get(self.vm.status)
        if chip is not None and not chip.isChecked():
            chip.setChecked(True)
        if self.search.text() != self.vm.search_text and not self.search.hasFocus():
            self.search.setText(self.vm.search_text)
        empty = self.vm.is_empty and not self.vm.loading
        if empty:
            title, hint = self.vm.empty_message()
            self.empty_title.setText(title)
            self.empty_hint.setText(hint)
            if self.vm.is_filtered:
                self.empty_action.setText("Clear search and filters")
                self.empty_action.setObjectName("")
            else:
                self.empty_action.setText(f"New {self.vm.kind.value}")
                self.empty_action.setObjectName("primary")
            self.empty_action.setVisible(self.vm.is_filtered or self.vm.kind is DocumentKind.QUOTE)
            self.empty_action.style().unpolish(self.empty_action)
            self.empty_action.style().polish(self.empty_action)
        self.body.setCurrentWidget(self.empty if empty else self.table)


class DocumentsPage(Page):
    """The list, and the editor in its place when a document is open."""

    def __init__(self, ctx: AppContext, shell: ShellViewModel, kind: DocumentKind) -> None:
        title = "Quotes" if kind is DocumentKind.QUOTE else "Invoices"
        super().__init__(title, "")
        self.setStyleSheet(EXTRA_STYLE)
        self.kind = kind
        self.shell = shell
        self.router = DocumentRouter.of(shell)
        self.view_model = DocumentListViewModel(ctx, kind)
        self.editor_model = DocumentEditorViewModel(ctx, kind)

        self.new_button = self.add_action(f"New {kind.value}", primary=True)
        self.new_button.setToolTip(
            f"New {kind.value} (Ctrl+N)" if kind is DocumentKind.QUOTE else f"New {kind.value}"
        )
        self.new_button.clicked.connect(lambda: self.new_document())
        if kind is DocumentKind.QUOTE:
            new = QShortcut(QKeySequence.StandardKey.New, self)
            new.activated.connect(self.new_document)

        self.list_view = DocumentListView(self.view_model)
        self.editor = DocumentEditorView(self.editor_model)
        self.stack = QStackedWidget()
        self.stack.addWidget(self.list_view)
        self.stack.addWidget(self.editor)
        self.add(self.stack, 1)

        self.view_model.open_requested.connect(self.open_document)
        self.view_model.new_requested.connect(self.new_document)
        self.view_model.summary_changed.connect(self._summary)
        self.view_model.loaded_changed.connect(self._select_open_document)
        self.view_model.refreshed.connect(self._refresh_editor)
        self.editor.back_requested.connect(self.show_list)
        self.editor_model.closed.connect(self._document_gone)
        self.editor_model.saved.connect(self.view_model.refresh)
        self.editor_model.open_document.connect(self._open_elsewhere)
        self.router.open_requested.connect(self._routed)
        self._show_header(True)

    # -- what the app calls
    def activated(self) -> None:
        """Shown: load the list the first time, then keep it current."""
        if self.view_model.loaded:
            self.view_model.refresh()
        else:
            self.view_model.ensure_loaded()
            self._summary()

    def refresh(self) -> None:
        self.view_model.refresh()

    def open_document(self, document_id: int) -> None:
        """Show one quote or invoice in the editor (asking first if edits would be lost)."""
        if self.editing and self.editor_model.document_id == document_id:
            return

        def open_it() -> None:
            if self.editor_model.load(document_id):
                self._show_editor()

        self._unless_unsaved(open_it)

    def new_document(self, client_id: int | None = None) -> None:
        """Start a new one, for a client when one is given (e.g. from the client's page)."""

        def start() -> None:
            self.editor_model.new_document(client_id)
            self._show_editor()
            self.editor.focus_first_field()

        self._unless_unsaved(start)

    def show_list(self) -> None:
        self.stack.setCurrentWidget(self.list_view)
        self._show_header(True)
        self.view_model.ensure_loaded()
        self.list_view.table.setFocus()
        self._select_open_document()

    def _select_open_document(self) -> None:
        document_id = self.editor_model.document_id
        if document_id is not None and not self.editing:
            row = self.view_model.model.row_of(document_id)
            if row >= 0:
                self.list_view.table.selectRow(row)

    @property
    def editing(self) -> bool:
        return self.stack.currentWidget() is self.editor

    # -- internals
    def _unless_unsaved(self, then: Callable[[], None]) -> None:
        if self.editing and self.editor_model.dirty:
            self.editor.confirm_discard(then)
        else:
            then()

    def _show_editor(self) -> None:
        self._show_header(False)
        self.stack.setCurrentWidget(self.editor)

    def _show_header(self, shown: bool) -> None:
        self.title.setVisible(shown)
        self.subtitle.setVisible(shown)
        self.new_button.setVisible(shown)

    def _summary(self) -> None:
        self.subtitle.setText(self.view_model.summary)

    def _refresh_editor(self) -> None:
        if self.editing:
            self.editor_model.refresh()

    def _document_gone(self) -> None:
        self.show_list()
        self.view_model.refresh()

    def _open_elsewhere(self, kind: str, document_id: int) -> None:
        if kind == self.kind.value:
            self.open_document(document_id)
        else:
            self.router.open(DocumentKind(kind), document_id)

    def _routed(self, kind: str, document_id: int) -> None:
        if kind != self.kind.value:
            return
        self.open_document(document_id)
        key = "quotes" if self.kind is DocumentKind.QUOTE else "invoices"
        self.shell.show(key)


def build_quotes_page(ctx: AppContext, shell: ShellViewModel) -> DocumentsPage:
    return DocumentsPage(ctx, shell, DocumentKind.QUOTE)


def build_invoices_page(ctx: AppContext, shell: ShellViewModel) -> DocumentsPage:
    return DocumentsPage(ctx, shell, DocumentKind.INVOICE)
