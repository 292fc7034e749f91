"""The clients page: a search box over the paged list, and the open client's page beside it."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QAbstractItemModel, QItemSelectionModel, QModelIndex, Qt
from PySide6.QtGui import QKeyEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from desktop.viewmodels.clients import ClientEditorViewModel, ClientPageViewModel, ClientsViewModel
from desktop.viewmodels.context import AppContext
from desktop.viewmodels.shell import ShellViewModel
from desktop.views.client_dialog import ClientDialog
from desktop.views.loading import LoadingBadge
from desktop.views.page import Page, card
from desktop.views.theme import ACCENT, BAD, LINE, MUTED, STATUS_COLOURS

STYLE = f"""
QLabel#clientName {{ font-size: 15pt; font-weight: 700; }}
QLabel#clientCompany {{ color: {MUTED}; font-size: 10.5pt; }}
QLabel#factLabel {{ color: {MUTED}; font-size: 9pt; }}
QLabel#factValue {{ font-size: 10pt; }}
QFrame#miniFigure {{ background: #f6f8fb; border: 1px solid {LINE}; border-radius: 8px; }}
QFrame#miniFigure[alarm="true"] {{ background: #fdf3f1; border: 1px solid #e6b3ab; }}
QFrame#miniFigure[alarm="true"] QLabel#miniValue {{ color: {BAD}; }}
QLabel#miniValue {{ font-size: 13pt; font-weight: 700; }}
QLabel#miniCaption {{ color: {MUTED}; font-size: 9pt; }}
QTabWidget::pane {{ border: none; }}
QTabBar::tab {{ background: transparent; color: {MUTED}; padding: 7px 14px; border: none;
    border-bottom: 2px solid transparent; font-weight: 600; }}
QTabBar::tab:selected {{ color: {ACCENT}; border-bottom: 2px solid {ACCENT}; }}
QTabBar::tab:hover {{ color: #1d2733; }}
QSplitter::handle {{ background: transparent; }}
QTableView::item {{ padding: 0 6px; border: none; }}
QTableView::item:selected {{ background: #dbe9f8; color: #1d2733; }}
"""


def _table(model: QAbstractItemModel, *, stretch: int) -> QTableView:
    table = QTableView()
    table.setModel(model)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setAlternatingRowColors(True)
    table.setShowGrid(False)
    table.setWordWrap(False)
    table.setTextElideMode(Qt.TextElideMode.ElideRight)
    table.verticalHeader().setVisible(False)
    table.verticalHeader().setDefaultSectionSize(32)
    header = table.horizontalHeader()
    header.setHighlightSections(False)
    header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    header.setSectionResizeMode(stretch, QHeaderView.ResizeMode.Stretch)
    header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
    return table


class _MiniFigure(QFrame):
    def __init__(self, caption: str) -> None:
        super().__init__()
        self.setObjectName("miniFigure")
        column = QVBoxLayout(self)
        column.setContentsMargins(14, 8, 14, 8)
        column.setSpacing(0)
        self.caption = QLabel(caption)
        self.caption.setObjectName("miniCaption")
        self.value = QLabel()
        self.value.setObjectName("miniValue")
        column.addWidget(self.caption)
        column.addWidget(self.value)

    def show_value(self, value: str, alarm: bool = False) -> None:
        self.value.setText(value)
        if bool(self.property("alarm")) != alarm:
            self.setProperty("alarm", alarm)
            for widget in (self, self.value):
                widget.style().unpolish(widget)
                widget.style().polish(widget)


class ClientPanel(QFrame):
    """The open client: details, money at a glance, and their documents, payments, activity."""

    def __init__(self, vm: ClientsViewModel) -> None:
        super().__init__()
        self.setObjectName("card")
        # Six columns share the panel: keep the cells' padding small.
        self.setStyleSheet("QTableView::item { padding: 0 3px; }")
        self.vm = vm
        page: ClientPageViewModel = vm.page
        self.stack = QStackedWidget()
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(self.stack)

        self.placeholder = QLabel(
            "Select a client to see their details, quotes, invoices, payments and activity."
        )
        self.placeholder.setObjectName("empty")
        self.placeholder.setWordWrap(True)
        self.placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.stack.addWidget(self.placeholder)

        content = QWidget()
        column = QVBoxLayout(content)
        column.setContentsMargins(20, 16, 20, 14)
        column.setSpacing(12)
        head = QHBoxLayout()
        names = QVBoxLayout()
        names.setSpacing(0)
        self.name = QLabel()
        self.name.setObjectName("clientName")
        self.name.setTextFormat(Qt.TextFormat.PlainText)
        self.name.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.company = QLabel()
        self.company.setObjectName("clientCompany")
        self.company.setTextFormat(Qt.TextFormat.PlainText)
        names.addWidget(self.name)
        names.addWidget(self.company)
        head.addLayout(names, 1)
        self.edit_button = QPushButton("Edit details")
        self.edit_button.setToolTip("Edit this client (Enter in the list)")
        self.delete_button = QPushButton("Delete")
        self.delete_button.setObjectName("danger")
        self.delete_button.setToolTip("Delete this client (admins; Delete key in the list)")
        # Staff never see an action they may not take; the service refuses it regardless.
        self.delete_button.setVisible(vm.can_delete)
        head.addWidget(self.edit_button, 0, Qt.AlignmentFlag.AlignTop)
        head.addWidget(self.delete_button, 0, Qt.AlignmentFlag.AlignTop)
        column.addLayout(head)

        figures = QHBoxLayout()
        figures.setSpacing(10)
        self.outstanding = _MiniFigure("Outstanding")
        self.overdue = _MiniFigure("Overdue")
        self.paid = _MiniFigure("Paid to date")
        for figure in (self.outstanding, self.overdue, self.paid):
            figures.addWidget(figure, 1)
        column.addLayout(figures)

        self.facts = QGridLayout()
        self.facts.setHorizontalSpacing(18)
        self.facts.setVerticalSpacing(8)
        self.facts.setColumnStretch(0, 1)
        self.facts.setColumnStretch(1, 1)
        column.addLayout(self.facts)

        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        self.invoices = _table(page.invoices, stretch=0)
        self.quotes = _table(page.quotes, stretch=0)
        self.payments = _table(page.payments, stretch=3)
        self.activity = _table(page.activity, stretch=2)
        self.invoices.setToolTip("Double-click an invoice to open it")
        self.quotes.setToolTip("Double-click a quote to open it")
        for table, title in (
            (self.invoices, "Invoices"),
            (self.quotes, "Quotes"),
            (self.payments, "Payments"),
            (self.activity, "Activity"),
        ):
            self.tabs.addTab(table, title)
        self.invoices.activated.connect(self._open_invoice)
        self.quotes.activated.connect(self._open_quote)
        column.addWidget(self.tabs, 1)
        self.stack.addWidget(content)

    def show_client(self) -> None:
        page = self.vm.page
        client = page.client
        if client is None:
            self.stack.setCurrentWidget(self.placeholder)
            return
        self.stack.setCurrentIndex(1)
        self.name.setText(client.name)
        self.company.setText(client.company or "")
        self.company.setVisible(bool(client.company))
        figures = page.figures
        self.outstanding.show_value(figures.outstanding)
        self.overdue.show_value(figures.overdue, figures.overdue_alarm)
        self.paid.show_value(figures.paid)
        self._show_facts([fact for fact in page.details if fact[0] != "Company"])
        counts = (
            page.invoices.rowCount(),
            page.quotes.rowCount(),
            page.payments.rowCount(),
            page.activity.rowCount(),
        )
        for index, (title, count) in enumerate(
            zip(("Invoices", "Quotes", "Payments", "Activity"), counts, strict=True)
        ):
            self.tabs.setTabText(index, f"{title} ({count})" if count else title)

    def _show_facts(self, facts: list[tuple[str, str]]) -> None:
        while self.facts.count():
            item = self.facts.takeAt(0)
            widget = item.widget() if item is not None else None
            if widget is not None:
                widget.hide()  # at once: deleteLater leaves it painted until the loop runs
                widget.deleteLater()
        for n, (label, value) in enumerate(facts):
            cell = QWidget()
            box = QVBoxLayout(cell)
            box.setContentsMargins(0, 0, 0, 0)
            box.setSpacing(1)
            caption = QLabel(label)
            caption.setObjectName("factLabel")
            text = QLabel(value)
            text.setObjectName("factValue")
            text.setTextFormat(Qt.TextFormat.PlainText)
            text.setWordWrap(True)
            text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            box.addWidget(caption)
            box.addWidget(text)
            if label == "Notes":  # notes run long: give them the whole width
                row = (n + 1) // 2 + 1
                self.facts.addWidget(cell, row, 0, 1, 2, Qt.AlignmentFlag.AlignTop)
            else:
                self.facts.addWidget(cell, n // 2, n % 2, Qt.AlignmentFlag.AlignTop)

    def _open_invoice(self, index: QModelIndex) -> None:
        invoice = self.vm.page.invoices.row_at(index.row())
        if invoice is not None:
            self.vm.open_invoice(invoice.id)

    def _open_quote(self, index: QModelIndex) -> None:
        quote = self.vm.page.quotes.row_at(index.row())
        if quote is not None:
            self.vm.open_quote(quote.id)


class _SearchBox(QLineEdit):
    """Escape clears the search; Down goes to the list."""

    def __init__(self, on_down: Callable[[], None], on_cleared: Callable[[], None]) -> None:
        super().__init__()
        self._on_down = on_down
        self._on_cleared = on_cleared

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Escape and self.text():
            self.clear()  # programmatic: textEdited stays silent, so say so
            self._on_cleared()
            return
        if event.key() == Qt.Key.Key_Down:
            self._on_down()
            return
        super().keyPressEvent(event)


class ClientsPage(Page):
    def __init__(self, vm: ClientsViewModel) -> None:
        super().__init__("Clients", "")
        self.vm = vm
        self.dialog: ClientDialog | None = None
        self.confirm: QMessageBox | None = None
        self.setStyleSheet(STYLE)

        self.new_button = self.add_action("New client", primary=True)
        self.new_button.setToolTip("Add a client (Ctrl+N)")
        self.new_button.clicked.connect(self.new_client)

        self.search = _SearchBox(self._focus_list, lambda: vm.search_now(""))
        self.search.setPlaceholderText("Search name, company, email or phone   (Ctrl+F)")
        self.search.setClearButtonEnabled(True)
        self.search.setMaximumWidth(520)
        self.search.textEdited.connect(vm.set_search)
        self.search.returnPressed.connect(self._search_now)
        self.add(self.search)

        self.table = _table(vm.model, stretch=2)
        self.table.setToolTip("Enter or double-click to edit")
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.table.setColumnWidth(0, 165)
        self.table.setColumnWidth(1, 145)
        self.table.setColumnWidth(3, 128)
        self.table.verticalHeader().setDefaultSectionSize(34)
        self.table.activated.connect(self._edit_row)
        self.loading = LoadingBadge(vm.loading_changed, loading=vm.loading)
        self.action_row.insertWidget(0, self.loading)
        self._focus_when_listed = False
        selection = self.table.selectionModel()
        selection.currentRowChanged.connect(self._current_row)

        self.empty = QLabel()
        self.empty.setObjectName("empty")
        self.empty.setWordWrap(True)
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        empty_card = card()
        QVBoxLayout(empty_card).addWidget(self.empty)
        self.list_stack = QStackedWidget()
        self.list_stack.addWidget(self.table)
        self.list_stack.addWidget(empty_card)

        self.panel = ClientPanel(vm)
        self.panel.edit_button.clicked.connect(self.edit_current)
        self.panel.delete_button.clicked.connect(self.delete_current)

        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.setChildrenCollapsible(False)
        self.splitter.setHandleWidth(14)
        self.splitter.addWidget(self.list_stack)
        self.splitter.addWidget(self.panel)
        self.splitter.setStretchFactor(0, 1)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([650, 530])
        self.add(self.splitter, 1)

        QShortcut(QKeySequence(QKeySequence.StandardKey.Find), self, self.focus_search)
        QShortcut(QKeySequence(QKeySequence.StandardKey.New), self, self.new_client)
        QShortcut(QKeySequence(QKeySequence.StandardKey.Refresh), self, vm.refresh)
        QShortcut(QKeySequence("Ctrl+E"), self, self.edit_current)
        delete = QShortcut(QKeySequence(QKeySequence.StandardKey.Delete), self.table)
        delete.setContext(Qt.ShortcutContext.WidgetShortcut)
        delete.activated.connect(self.delete_current)

        vm.searched.connect(self._listed)
        vm.count_changed.connect(self._counted)
        vm.current_changed.connect(self._current_client)
        vm.editor_opened.connect(self._open_editor)
        self._counted()
        self._listed()
        self._current_client()

    # -- commands
    def activated(self) -> None:
        self.vm.load()

    def focus_search(self) -> None:
        self.search.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.search.selectAll()

    def new_client(self) -> None:
        self.vm.new_client()

    def edit_current(self) -> None:
        if self.vm.current_id is not None:
            self.vm.edit_client(self.vm.current_id)

    def delete_current(self) -> None:
        client = self.vm.page.client
        if client is None or not self.vm.can_delete:
            return
        box = QMessageBox(
            QMessageBox.Icon.Question,
            "Delete client",
            f"Delete {client.name}?\n\nA client with quotes or invoices is kept; "
            "this only removes a client with no documents.",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
            self,
        )
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        client_id = client.id

        def answered(result: int) -> None:
            self.confirm = None
            if result == QMessageBox.StandardButton.Yes:
                self.vm.delete_client(client_id)

        box.finished.connect(answered)
        self.confirm = box
        box.open()

    # -- binding
    def _open_editor(self, editor: ClientEditorViewModel) -> None:
        dialog = ClientDialog(editor, self)
        dialog.finished.connect(self._editor_closed)
        self.dialog = dialog
        dialog.open()

    def _editor_closed(self, _result: int) -> None:
        self.dialog = None
        self.vm.close_editor()
        self.table.setFocus()

    def _search_now(self) -> None:
        self.vm.search_now(self.search.text())
        self._focus_list()

    def _focus_list(self) -> None:
        if self.vm.search_pending:  # the person is ahead of the debounce: catch up first
            self.vm.search_now()
        if self.vm.loading:  # the rows for what was typed are on their way
            self._focus_when_listed = True
            return
        if self.vm.model.rowCount() == 0:
            return
        self.table.setFocus(Qt.FocusReason.OtherFocusReason)
        if not self.table.currentIndex().isValid():
            self.table.selectRow(0)

    def _counted(self) -> None:
        self.subtitle.setText(self.vm.count_text)
        self.subtitle.setVisible(True)

    def _listed(self) -> None:
        self._counted()
        has_rows = self.vm.model.rowCount() > 0 or not self.vm.model.loaded_once
        self.empty.setText(self.vm.empty_text)
        self.list_stack.setCurrentIndex(0 if has_rows else 1)
        if self.search.text() != self.vm.search_text and not self.search.hasFocus():
            self.search.setText(self.vm.search_text)
        self._select_current()
        if self._focus_when_listed and not self.vm.loading:
            self._focus_when_listed = False
            self._focus_list()

    def _current_client(self) -> None:
        self.panel.show_client()
        self._select_current()

    def _select_current(self) -> None:
        client_id = self.vm.current_id
        row = self.vm.row_of(client_id) if client_id is not None else None
        selection = self.table.selectionModel()
        if row is None:
            return
        index = self.vm.model.index(row, 0)
        if self.table.currentIndex().row() != row:
            selection.blockSignals(True)
            selection.setCurrentIndex(
                index,
                QItemSelectionModel.SelectionFlag.ClearAndSelect
                | QItemSelectionModel.SelectionFlag.Rows,
            )
            selection.blockSignals(False)
            self.table.viewport().update()

    def _current_row(self, current: QModelIndex, _previous: QModelIndex) -> None:
        client = self.vm.model.row_at(current.row()) if current.isValid() else None
        if client is not None:
            self.vm.open_client(client.id)

    def _edit_row(self, index: QModelIndex) -> None:
        client = self.vm.model.row_at(index.row())
        if client is not None:
            self.vm.open_client(client.id)
            self.vm.edit_client(client.id)


def build_clients_page(ctx: AppContext, shell: ShellViewModel) -> ClientsPage:
    """The clients page and its view model (``page.vm``: call ``page.vm.refresh()`` when
    another counter changes a client; wire ``page.vm.open_document``)."""
    return ClientsPage(ClientsViewModel(ctx, shell, status_colours=STATUS_COLOURS))
