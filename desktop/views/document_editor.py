"""The quote and invoice editor: client, line items, terms, live totals, payments and actions."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import (
    QEvent,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QRect,
    QSize,
    Qt,
    QTimer,
    QUrl,
    Signal,
)
from PySide6.QtGui import (
    QAction,
    QBrush,
    QColor,
    QDesktopServices,
    QDragEnterEvent,
    QDropEvent,
    QKeySequence,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPalette,
    QShortcut,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QCompleter,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListView,
    QMenu,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from core.enums import DiscountType
from core.services.attachments import AttachmentView
from desktop.viewmodels.document_editor import (
    DISCOUNT_CHOICES,
    ESTIMATE_ROLE,
    Action,
    DocumentEditorViewModel,
    LineColumn,
)
from desktop.viewmodels.documents import DocumentKind, format_date, status_label
from desktop.views.invoice_delivery import InvoiceDeliveryView
from desktop.views.mesh_dialog import MeshDialog
from desktop.views.page import card, section_title
from desktop.views.payment_dialog import ChevronCombo, PaymentDialog
from desktop.views.theme import ACCENT, BAD, LINE, MUTED, STATUS_COLOURS, WARN

Index = QModelIndex | QPersistentModelIndex
LINE_PICTURE = 32


class _DropCard(QFrame):
    """A card that takes files dropped on it."""

    def __init__(self, take: Callable[[list[Path]], None]) -> None:
        super().__init__()
        self.setObjectName("card")
        self.setAcceptDrops(True)
        self._take = take

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        urls = event.mimeData().urls()
        if urls and all(url.isLocalFile() for url in urls):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        paths = [Path(u.toLocalFile()) for u in event.mimeData().urls() if u.isLocalFile()]
        if paths:
            event.acceptProposedAction()
            self._take(paths)


EXTRA_STYLE = f"""
QPushButton#link {{ border: none; background: transparent; color: {ACCENT};
    padding: 4px 0; font-weight: 600; text-align: left; }}
QPushButton#link:hover {{ color: #1f4f85; }}
QFrame#staleBanner {{ background: #fff5e1; border: 1px solid #eac27a; border-radius: 8px; }}
QFrame#errorBanner {{ background: #fdeeec; border: 1px solid #eeb4ad; border-radius: 8px; }}
QFrame#staleBanner QLabel, QFrame#errorBanner QLabel {{ background: transparent; }}
QLabel#problems {{ color: {BAD}; }}
QLabel#estimateNote {{ color: {WARN}; font-weight: 600; }}
QLabel#dirty {{ color: {WARN}; font-weight: 600; }}
QLabel#emptyTitle {{ font-size: 14pt; font-weight: 600; }}
QLabel#totalCaption {{ font-size: 12pt; font-weight: 700; }}
QLabel#totalFigure {{ font-size: 15pt; font-weight: 700; }}
QLabel#balanceFigure {{ font-size: 12pt; font-weight: 700; }}
QLabel#formLabel {{ color: {MUTED}; }}
QFrame#rule {{ background: {LINE}; border: none; max-height: 1px; min-height: 1px; }}
QTableView#lines {{ border-radius: 6px; }}
QScrollArea#side, QScrollArea#side > QWidget > QWidget {{ background: transparent; border: none; }}
QPushButton#filter {{ min-height: 20px; }}
QPushButton#more::menu-indicator {{ image: none; width: 0; }}
QPushButton#danger:disabled {{ color: #a8b2bf; }}
QListView#attachments {{ background: #ffffff; border: 1px solid {LINE}; border-radius: 6px;
    padding: 2px; }}
QListView#attachments::item {{ padding: 5px 8px; border-radius: 4px; }}
QListView#attachments::item:selected {{ background: #dbe9f8; color: #1d2733; }}
QTableView::item {{ padding-left: 5px; padding-right: 5px; }}
QTableView QHeaderView {{ background: #ffffff; }}
QTableView QTableCornerButton::section {{ background: #f4f6f9; border: none;
    border-bottom: 1px solid {LINE}; }}
QHeaderView::section:vertical {{ background: #f8f9fb; border: none; border-right: 1px solid {LINE};
    border-bottom: 1px solid #eef0f3; padding: 0 6px; }}
QTableView QLineEdit {{ border: none; border-radius: 0; padding: 0 1px; min-height: 0;
    background: #ffffff; }}
QLineEdit:read-only {{ background: #f6f8fb; }}
"""


def tint(colour: str, alpha: float = 0.13) -> str:
    """The colour mixed into white: the background of a status pill."""
    base = QColor(colour)
    mix = [round(255 - (255 - c) * alpha) for c in (base.red(), base.green(), base.blue())]
    return QColor(*mix).name()


def pill_style(key: str) -> str:
    colour = STATUS_COLOURS.get(key, MUTED)
    return (
        f"background: {tint(colour)}; color: {colour}; border-radius: 11px;"
        " padding: 3px 12px; font-weight: 600;"
    )


class ElidedLabel(QLabel):
    """A one-line label that ends in "…" when it has less room than its text."""

    def __init__(self, text: str = "") -> None:
        super().__init__(text)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        rect = self.contentsRect()
        text = self.fontMetrics().elidedText(self.text(), Qt.TextElideMode.ElideRight, rect.width())
        painter.setPen(self.palette().color(QPalette.ColorRole.WindowText))
        painter.drawText(rect, int(self.alignment()), text)
        painter.end()


def set_text(edit: QLineEdit, text: str) -> None:
    """Set a field only if it differs, so the cursor of someone typing is left alone."""
    if edit.text() != text:
        edit.setText(text)


def rule() -> QFrame:
    line = QFrame()
    line.setObjectName("rule")
    line.setFrameShape(QFrame.Shape.NoFrame)
    return line


class ConfirmDialog(QDialog):
    """Asks before something that cannot be undone; optionally asks why."""

    def __init__(
        self,
        parent: QWidget,
        title: str,
        message: str,
        confirm: str,
        *,
        reason: str | None = None,
        danger: bool = True,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.setMinimumWidth(420)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(22, 20, 22, 16)
        layout.setSpacing(10)
        heading = QLabel(title)
        heading.setObjectName("sectionTitle")
        layout.addWidget(heading)
        text = QLabel(message)
        text.setWordWrap(True)
        layout.addWidget(text)
        self.reason: QLineEdit | None = None
        if reason is not None:
            self.reason = QLineEdit()
            self.reason.setPlaceholderText(reason)
            layout.addWidget(self.reason)
        buttons = QDialogButtonBox()
        self.cancel_button = buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        self.confirm_button = buttons.addButton(confirm, QDialogButtonBox.ButtonRole.AcceptRole)
        self.confirm_button.setObjectName("danger" if danger else "primary")
        self.confirm_button.setDefault(True)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addSpacing(6)
        layout.addWidget(buttons)

    @property
    def reason_text(self) -> str:
        return self.reason.text() if self.reason is not None else ""


class LineDelegate(QStyledItemDelegate):
    """Editors that commit every keystroke (totals follow the typing) and a red cell when wrong."""

    def createEditor(self, parent: QWidget, option: QStyleOptionViewItem, index: Index) -> QWidget:
        editor = super().createEditor(parent, option, index)
        if isinstance(editor, QLineEdit):
            align = index.data(Qt.ItemDataRole.TextAlignmentRole)
            if align is not None:
                editor.setAlignment(Qt.AlignmentFlag(int(align)))
            editor.setFrame(False)
            editor.textEdited.connect(lambda _text, e=editor: self.commitData.emit(e))
        return editor

    def setEditorData(self, editor: QWidget, index: Index) -> None:
        # The model answers each keystroke; rewriting the same text would move the cursor.
        if isinstance(editor, QLineEdit):
            value = index.data(Qt.ItemDataRole.EditRole)
            if editor.text() == (value or ""):
                return
        super().setEditorData(editor, index)
        if isinstance(editor, QLineEdit):
            editor.selectAll()  # as in a spreadsheet: typing into a cell replaces it

    def initStyleOption(self, option: QStyleOptionViewItem, index: Index) -> None:
        super().initStyleOption(option, index)
        badge = index.data(ESTIMATE_ROLE)
        if badge:  # the text gives way ("…") to the badge painted at the cell's right
            room = option.rect.width() - self._badge_width(option, str(badge)) - 16
            if option.decorationSize.width() > 0 and not option.icon.isNull():
                room -= option.decorationSize.width() + 8
            option.text = option.fontMetrics.elidedText(
                option.text, Qt.TextElideMode.ElideRight, max(room, 0)
            )
        if index.column() == LineColumn.TOTAL:
            option.state |= QStyle.StateFlag.State_Enabled  # shown as plain text, not greyed
        if index.data(Qt.ItemDataRole.UserRole) == 1:
            option.backgroundBrush = QBrush(QColor("#fdeeec"))
            option.palette.setColor(QPalette.ColorRole.Text, QColor(BAD))

    @staticmethod
    def _badge_width(option: QStyleOptionViewItem, text: str) -> int:
        return option.fontMetrics.horizontalAdvance(text) + 16

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: Index) -> None:
        super().paint(painter, option, index)
        badge = index.data(ESTIMATE_ROLE)
        if not badge:
            return
        text = str(badge)
        width, height = self._badge_width(option, text), option.fontMetrics.height() + 6
        rect = option.rect
        pill = QRect(rect.right() - width - 6, rect.center().y() - height // 2 + 1, width, height)
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(QColor(WARN))
        painter.setBrush(QColor("#fff4e0"))
        painter.drawRoundedRect(pill, height / 2, height / 2)
        painter.drawText(pill, int(Qt.AlignmentFlag.AlignCenter), text)
        painter.restore()


class DocumentEditorView(QWidget):
    back_requested = Signal()

    def __init__(self, vm: DocumentEditorViewModel) -> None:
        super().__init__()
        self.vm = vm
        self.setStyleSheet(EXTRA_STYLE)
        self.buttons: dict[str, QPushButton] = {}
        self.menu_actions: dict[str, QAction] = {}
        self.mesh_dialogs: list[MeshDialog] = []
        self.confirm_remove: QMessageBox | None = None
        self.estimates_dialog: ConfirmDialog | None = None
        self._syncing = False
        self._focus_when_open = False

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(10)
        layout.addLayout(self._header())
        layout.addWidget(self._stale_banner())
        layout.addWidget(self._error_banner())

        self.body = QWidget()  # greyed while the document is read
        body = QHBoxLayout(self.body)
        body.setContentsMargins(0, 0, 0, 0)
        body.setSpacing(14)
        left = QVBoxLayout()
        left.setSpacing(12)
        left.addWidget(self._client_card())
        left.addWidget(self._lines_card(), 1)
        left.addWidget(self._attachments_card())
        left.addWidget(self._notes_card())
        body.addLayout(left, 1)
        body.addWidget(self._side())
        layout.addWidget(self.body, 1)

        self._shortcut(QKeySequence.StandardKey.Save, self._save)
        self._shortcut(QKeySequence("Ctrl+P"), self._record_payment)
        self._shortcut(QKeySequence("Ctrl+L"), self._add_line)

        vm.changed.connect(self._sync)
        vm.totals_changed.connect(self._sync_totals)
        vm.stale_changed.connect(self._sync_banners)
        vm.error_changed.connect(self._sync_banners)
        vm.client_choices_changed.connect(self._show_choices)
        self._sync()

    # -- building
    def _shortcut(
        self, keys: QKeySequence | QKeySequence.StandardKey, slot: Callable[[], None]
    ) -> None:
        # Window-wide, yet only while the editor is on screen (a hidden widget's shortcuts sleep).
        shortcut = QShortcut(keys, self)
        shortcut.activated.connect(slot)

    def _header(self) -> QHBoxLayout:
        header = QHBoxLayout()
        header.setSpacing(10)
        titles = QVBoxLayout()
        titles.setSpacing(2)
        self.back_button = QPushButton(f"← All {self.vm.kind.plural}")
        self.back_button.setObjectName("link")
        self.back_button.setCursor(Qt.CursorShape.PointingHandCursor)
        self.back_button.setToolTip("Back to the list (Esc)")
        self.back_button.clicked.connect(self._back)
        back_row = QHBoxLayout()
        back_row.addWidget(self.back_button)
        back_row.addStretch(1)
        titles.addLayout(back_row)
        title_row = QHBoxLayout()
        title_row.setSpacing(10)
        self.title = QLabel()
        self.title.setObjectName("pageTitle")
        self.status_pill = QLabel()
        self.overdue_pill = QLabel("Overdue")
        self.overdue_pill.setStyleSheet(pill_style("OVERDUE"))
        self.dirty_label = QLabel("● Unsaved changes")
        self.dirty_label.setObjectName("dirty")
        self.busy_label = QLabel()  # "Opening…" / "Saving…" while the database answers
        self.busy_label.setObjectName("pageSubtitle")
        title_row.addWidget(self.title)
        title_row.addWidget(self.status_pill, 0, Qt.AlignmentFlag.AlignVCenter)
        title_row.addWidget(self.overdue_pill, 0, Qt.AlignmentFlag.AlignVCenter)
        title_row.addWidget(self.dirty_label, 0, Qt.AlignmentFlag.AlignVCenter)
        title_row.addWidget(self.busy_label, 0, Qt.AlignmentFlag.AlignVCenter)
        title_row.addStretch(1)
        titles.addLayout(title_row)
        # On a narrow window the subtitle gives way (ending in "…") before the actions do.
        self.subtitle = ElidedLabel()
        self.subtitle.setObjectName("pageSubtitle")
        titles.addWidget(self.subtitle)
        header.addLayout(titles, 1)

        actions = QHBoxLayout()
        actions.setSpacing(8)
        for action in self.vm.actions():
            if action.key in ("save", "duplicate", "delete", "void", "write_off", "open_quote"):
                continue
            button = QPushButton(action.text)
            if action.danger:
                button.setObjectName("danger")
            button.clicked.connect(lambda _=False, key=action.key: self._run(key))
            actions.addWidget(button)
            self.buttons[action.key] = button
        self.more_button = QPushButton("More ▾")
        self.more_button.setObjectName("more")
        self.more_menu = QMenu(self.more_button)
        self.more_menu.setToolTipsVisible(True)
        for action in self.vm.actions():
            if action.key in ("duplicate", "open_quote", "void", "write_off", "delete"):
                if action.key in ("void", "delete") and self.menu_actions:
                    self.more_menu.addSeparator()
                entry = self.more_menu.addAction(action.text)
                entry.triggered.connect(lambda _=False, key=action.key: self._run(key))
                self.menu_actions[action.key] = entry
        self.more_button.setMenu(self.more_menu)
        actions.addWidget(self.more_button)
        self.save_button = QPushButton("Save")
        self.save_button.setObjectName("primary")
        self.save_button.setToolTip("Save (Ctrl+S)")
        self.save_button.clicked.connect(self._save)
        actions.addWidget(self.save_button)
        self.buttons["save"] = self.save_button
        header.addLayout(actions)
        header.setAlignment(actions, Qt.AlignmentFlag.AlignBottom)
        return header

    def _banner(self, name: str) -> tuple[QFrame, QLabel, QHBoxLayout]:
        frame = QFrame()
        frame.setObjectName(name)
        row = QHBoxLayout(frame)
        row.setContentsMargins(14, 8, 8, 8)
        label = QLabel()
        label.setWordWrap(True)
        row.addWidget(label, 1)
        frame.setVisible(False)
        return frame, label, row

    def _stale_banner(self) -> QFrame:
        self.stale_banner, self.stale_label, row = self._banner("staleBanner")
        self.reload_button = QPushButton("Reload")
        self.reload_button.setObjectName("primary")
        self.reload_button.clicked.connect(self.vm.reload)
        row.addWidget(self.reload_button)
        return self.stale_banner

    def _error_banner(self) -> QFrame:
        self.error_banner, self.error_label, row = self._banner("errorBanner")
        dismiss = QPushButton("Dismiss")
        dismiss.clicked.connect(self.vm.dismiss_error)
        row.addWidget(dismiss)
        return self.error_banner

    def _client_card(self) -> QFrame:
        box = card()
        layout = QHBoxLayout(box)
        layout.setContentsMargins(16, 12, 16, 12)
        layout.setSpacing(12)
        label = QLabel("Client")
        label.setObjectName("sectionTitle")
        label.setStyleSheet("padding-top: 0;")
        layout.addWidget(label)
        self.client_edit = QLineEdit()
        self.client_edit.setObjectName("clientPicker")
        self.client_edit.setPlaceholderText("Type a client's name, email or phone…")
        self.client_edit.setMinimumWidth(220)
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
        layout.addWidget(self.client_edit, 1)
        self.client_detail = ElidedLabel()
        self.client_detail.setObjectName("muted")
        layout.addWidget(self.client_detail, 1)
        return box

    def _lines_card(self) -> QFrame:
        box = card()
        layout = QVBoxLayout(box)
        layout.setContentsMargins(16, 12, 16, 14)
        layout.setSpacing(8)
        top = QHBoxLayout()
        top.addWidget(section_title("Line items"))
        top.addStretch(1)
        self.add_line_button = QPushButton("+ Add line")
        self.add_line_button.setToolTip("Add a line (Ctrl+L)")
        self.add_line_button.clicked.connect(self._add_line)
        self.remove_line_button = QPushButton("Remove")
        self.remove_line_button.clicked.connect(self._remove_line)
        self.up_button = QPushButton("↑")
        self.up_button.setToolTip("Move the line up (Alt+Up)")
        self.up_button.clicked.connect(lambda: self._move_line(-1))
        self.down_button = QPushButton("↓")
        self.down_button.setToolTip("Move the line down (Alt+Down)")
        self.down_button.clicked.connect(lambda: self._move_line(1))
        self.view_3d_button = QPushButton("View in 3D")
        self.view_3d_button.setToolTip(
            "Show the part of the selected line in 3D (or click its picture)"
        )
        self.view_3d_button.clicked.connect(self.open_line_file)
        for button in (
            self.view_3d_button,
            self.add_line_button,
            self.remove_line_button,
            self.up_button,
            self.down_button,
        ):
            top.addWidget(button)
        layout.addLayout(top)

        self.table = QTableView()
        self.table.setObjectName("lines")
        self.table.setModel(self.vm.lines)
        self.table.setItemDelegate(LineDelegate(self.table))
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectItems)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(
            QAbstractItemView.EditTrigger.DoubleClicked
            | QAbstractItemView.EditTrigger.EditKeyPressed
            | QAbstractItemView.EditTrigger.AnyKeyPressed
            | QAbstractItemView.EditTrigger.SelectedClicked
        )
        self.table.setTabKeyNavigation(True)
        self.table.setShowGrid(False)
        self.table.setWordWrap(False)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().setDefaultSectionSize(40)
        self.table.setIconSize(QSize(LINE_PICTURE, LINE_PICTURE))
        # A click on a line's picture shows its part in 3D.
        self.table.viewport().installEventFilter(self)
        self.table.selectionModel().currentChanged.connect(lambda *_: self._sync_attachments())
        self.table.verticalHeader().setMinimumWidth(30)
        header = self.table.horizontalHeader()
        header.setHighlightSections(False)
        header.setSectionResizeMode(LineColumn.DESCRIPTION, QHeaderView.ResizeMode.Stretch)
        for column, width in (
            (LineColumn.QUANTITY, 64),
            (LineColumn.UNIT_PRICE, 96),
            (LineColumn.DISCOUNT, 84),
            (LineColumn.TOTAL, 110),
        ):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.Fixed)
            header.resizeSection(column, width)
        layout.addWidget(self.table, 1)
        move_up = QShortcut(QKeySequence("Alt+Up"), self.table)
        move_up.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        move_up.activated.connect(lambda: self._move_line(-1))
        move_down = QShortcut(QKeySequence("Alt+Down"), self.table)
        move_down.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        move_down.activated.connect(lambda: self._move_line(1))
        remove = QShortcut(QKeySequence("Ctrl+Delete"), self.table)
        remove.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        remove.activated.connect(self._remove_line)

        self.estimate_note = QLabel()
        self.estimate_note.setObjectName("estimateNote")
        self.estimate_note.setWordWrap(True)
        layout.addWidget(self.estimate_note)
        self.problems = QLabel()
        self.problems.setObjectName("problems")
        self.problems.setWordWrap(True)
        layout.addWidget(self.problems)
        self.read_only_note = QLabel()
        self.read_only_note.setObjectName("muted")
        self.read_only_note.setWordWrap(True)
        layout.addWidget(self.read_only_note)
        return box

    def _attachments_card(self) -> QFrame:
        box = _DropCard(self._attach_paths)
        self.attachments_box = box
        layout = QVBoxLayout(box)
        layout.setContentsMargins(16, 10, 16, 12)
        layout.setSpacing(6)
        top = QHBoxLayout()
        top.addWidget(section_title("Attachments"))
        top.addStretch(1)
        self.attach_button = QPushButton("Attach…")
        self.attach_button.setToolTip("Attach a PDF or an image (or drop it here)")
        self.attach_button.clicked.connect(self.choose_attachments)
        self.open_attachment_button = QPushButton("Open")
        self.open_attachment_button.clicked.connect(self.open_attachment)
        self.remove_attachment_button = QPushButton("Remove")
        self.remove_attachment_button.setObjectName("danger")
        self.remove_attachment_button.clicked.connect(self.remove_attachment)
        for button in (
            self.attach_button,
            self.open_attachment_button,
            self.remove_attachment_button,
        ):
            top.addWidget(button)
        layout.addLayout(top)
        files = self.vm.files
        self.attachment_list = QListView()
        self.attachment_list.setObjectName("attachments")
        self.attachment_list.setModel(files.attachments)
        self.attachment_list.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.attachment_list.setFixedHeight(84)
        self.attachment_list.activated.connect(lambda _index: self.open_attachment())
        self.attachment_list.selectionModel().selectionChanged.connect(
            lambda *_: self._sync_attachments()
        )
        layout.addWidget(self.attachment_list)
        self.attachments_empty = QLabel(
            "No attachments. Drop a PDF or an image here, e.g. a signed delivery note."
        )
        self.attachments_empty.setObjectName("muted")
        layout.addWidget(self.attachments_empty)
        files.attachments_changed.connect(self._sync_attachments)
        files.exported.connect(self._exported)
        return box

    def _notes_card(self) -> QFrame:
        box = card()
        layout = QVBoxLayout(box)
        layout.setContentsMargins(16, 10, 16, 12)
        layout.setSpacing(6)
        layout.addWidget(section_title("Notes"))
        self.notes = QPlainTextEdit()
        self.notes.setPlaceholderText("Shown on the document, e.g. colour, finish, pick-up time")
        self.notes.setFixedHeight(64)
        self.notes.setTabChangesFocus(True)
        self.notes.textChanged.connect(self._notes_edited)
        layout.addWidget(self.notes)
        return box

    def _side(self) -> QScrollArea:
        side = QWidget()
        column = QVBoxLayout(side)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(12)
        column.addWidget(self._terms_card())
        column.addWidget(self._totals_card())
        column.addWidget(self._payments_card())
        self.delivery = InvoiceDeliveryView(self.vm.delivery)
        column.addWidget(self.delivery)
        column.addStretch(1)
        scroll = QScrollArea()
        scroll.setObjectName("side")
        scroll.setWidget(side)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setFixedWidth(330)
        return scroll

    def _form_label(self, text: str) -> QLabel:
        label = QLabel(text)
        label.setObjectName("formLabel")
        return label

    def _terms_card(self) -> QFrame:
        box = card()
        grid = QGridLayout(box)
        grid.setContentsMargins(16, 12, 16, 14)
        grid.setHorizontalSpacing(10)
        grid.setVerticalSpacing(8)
        grid.addWidget(section_title("Pricing"), 0, 0, 1, 3)
        grid.addWidget(self._form_label("Discount"), 1, 0)
        self.discount_type = ChevronCombo()
        self.discount_type.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.discount_type.setMinimumContentsLength(5)
        for kind, text in DISCOUNT_CHOICES:
            self.discount_type.addItem(text, kind.value)
        self.discount_type.activated.connect(self._discount_type_chosen)
        grid.addWidget(self.discount_type, 1, 1)
        self.discount_value = QLineEdit()
        self.discount_value.setObjectName("discountValue")
        self.discount_value.setAlignment(Qt.AlignmentFlag.AlignRight)
        self.discount_value.setFixedWidth(76)
        self.discount_value.textEdited.connect(self.vm.set_discount_text)
        grid.addWidget(self.discount_value, 1, 2)
        grid.addWidget(self._form_label("Shipping"), 2, 0)
        self.shipping = ChevronCombo()
        self.shipping.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.shipping.setMinimumContentsLength(5)
        self.shipping.activated.connect(self.vm.choose_shipping)
        grid.addWidget(self.shipping, 2, 1)
        self.shipping_amount = QLineEdit()
        self.shipping_amount.setObjectName("shippingAmount")
        self.shipping_amount.setAlignment(Qt.AlignmentFlag.AlignRight)
        self.shipping_amount.setFixedWidth(76)
        self.shipping_amount.textEdited.connect(self.vm.set_shipping_text)
        grid.addWidget(self.shipping_amount, 2, 2)
        grid.addWidget(self._form_label("Tax"), 3, 0)
        self.tax = QLabel()
        self.tax.setWordWrap(True)
        grid.addWidget(self.tax, 3, 1, 1, 2)
        grid.setColumnStretch(1, 1)
        return box

    def _totals_card(self) -> QFrame:
        box = card()
        grid = QGridLayout(box)
        grid.setContentsMargins(16, 12, 16, 14)
        grid.setVerticalSpacing(6)
        grid.addWidget(section_title("Totals"), 0, 0, 1, 2)
        self.figures: dict[str, QLabel] = {}
        self.captions: dict[str, QLabel] = {}
        rows = [
            ("subtotal", "Subtotal"),
            ("discount", "Discount"),
            ("shipping", "Shipping"),
            ("tax", "Tax"),
        ]
        row = 1
        for key, text in rows:
            caption = self._form_label(text)
            figure = QLabel()
            figure.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            grid.addWidget(caption, row, 0)
            grid.addWidget(figure, row, 1)
            self.captions[key], self.figures[key] = caption, figure
            row += 1
        grid.addWidget(rule(), row, 0, 1, 2)
        row += 1
        caption = QLabel("Total")
        caption.setObjectName("totalCaption")
        total = QLabel()
        total.setObjectName("totalFigure")
        total.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        grid.addWidget(caption, row, 0)
        grid.addWidget(total, row, 1)
        self.captions["total"], self.figures["total"] = caption, total
        row += 1
        self.totals_note = QLabel()
        self.totals_note.setObjectName("muted")
        self.totals_note.setWordWrap(True)
        grid.addWidget(self.totals_note, row, 0, 1, 2)
        row += 1
        for key, text in (("paid", "Paid"), ("balance", "Balance due")):
            caption = self._form_label(text) if key == "paid" else QLabel(text)
            figure = QLabel()
            if key == "balance":
                caption.setObjectName("balanceFigure")
                figure.setObjectName("balanceFigure")
            figure.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            grid.addWidget(caption, row, 0)
            grid.addWidget(figure, row, 1)
            self.captions[key], self.figures[key] = caption, figure
            row += 1
        grid.setColumnStretch(1, 1)
        return box

    def _payments_card(self) -> QFrame:
        self.payments_box = card()
        layout = QVBoxLayout(self.payments_box)
        layout.setContentsMargins(16, 12, 16, 14)
        layout.setSpacing(6)
        top = QHBoxLayout()
        top.addWidget(section_title("Payments"))
        top.addStretch(1)
        self.pay_link = QPushButton("Record payment…")
        self.pay_link.setObjectName("link")
        self.pay_link.setToolTip("Record a payment (Ctrl+P)")
        self.pay_link.clicked.connect(self._record_payment)
        top.addWidget(self.pay_link)
        layout.addLayout(top)
        self.payment_rows = QGridLayout()
        self.payment_rows.setHorizontalSpacing(8)
        self.payment_rows.setVerticalSpacing(4)
        layout.addLayout(self.payment_rows)
        self.no_payments = QLabel("No payments yet.")
        self.no_payments.setObjectName("muted")
        layout.addWidget(self.no_payments)
        return self.payments_box

    # -- showing the view model
    def focus_first_field(self) -> None:
        if self.vm.opening:  # greyed until it is read: focus then
            self._focus_when_open = True
            return
        self._focus_when_open = False
        if self.vm.client_fixed:
            self.table.setFocus()
        else:
            self.client_edit.setFocus()

    def _sync(self) -> None:
        vm = self.vm
        self._syncing = True
        try:
            self.busy_label.setText(vm.busy_text)
            self.busy_label.setVisible(vm.busy)
            self.body.setEnabled(not vm.opening)
            if self._focus_when_open and not vm.opening:
                QTimer.singleShot(0, self.focus_first_field)
            self.title.setText(vm.number)
            base = vm.base_status
            self.status_pill.setText(status_label(base))
            self.status_pill.setStyleSheet(pill_style(base or "DRAFT"))
            self.status_pill.setVisible(bool(base))  # a new document has no status yet
            self.overdue_pill.setText(vm.overdue_text)
            self.overdue_pill.setVisible(vm.overdue)
            self.subtitle.setText(vm.subtitle)
            self.back_button.setText(f"← All {vm.kind.plural}")
            if vm.opening_saved:  # not the document on screen yet: say what is happening
                self.title.setText(vm.busy_text)
                self.subtitle.setText(f"Reading the {vm.kind.value} from the database.")
                self.status_pill.setVisible(False)
                self.overdue_pill.setVisible(False)
                self.busy_label.setVisible(False)

            editable = vm.editable
            if vm.client_id is not None or vm.client_fixed:
                set_text(self.client_edit, vm.client_name)
            elif not self.client_edit.hasFocus():
                set_text(self.client_edit, "")
            self.client_edit.setReadOnly(vm.client_fixed)
            self.client_edit.setToolTip(
                "A saved document keeps its client." if vm.client_fixed else ""
            )
            for button in (
                self.add_line_button,
                self.remove_line_button,
                self.up_button,
                self.down_button,
            ):
                button.setVisible(editable)
            self.read_only_note.setText(vm.read_only_reason)
            self.read_only_note.setVisible(bool(vm.read_only_reason))

            self.discount_type.setCurrentIndex(
                next(i for i, (k, _t) in enumerate(DISCOUNT_CHOICES) if k is vm.discount_type)
            )
            set_text(self.discount_value, vm.discount_text)
            self.discount_value.setVisible(vm.discount_type is not DiscountType.NONE)
            self.discount_value.setPlaceholderText(
                "%" if vm.discount_type is DiscountType.PERCENT else "0.00"
            )
            labels = [c.label for c in vm.shipping_choices]
            if [self.shipping.itemText(i) for i in range(self.shipping.count())] != labels:
                self.shipping.clear()
                self.shipping.addItems(labels)
            self.shipping.setCurrentIndex(vm.shipping_index)
            set_text(self.shipping_amount, vm.shipping_text)
            for widget in (self.discount_type, self.discount_value, self.shipping):
                widget.setEnabled(editable)
            self.shipping_amount.setReadOnly(not editable)
            self.discount_value.setReadOnly(not editable)
            self.tax.setText(vm.tax_text)
            if self.notes.toPlainText() != vm.notes:
                self.notes.setPlainText(vm.notes)
            self.notes.setReadOnly(not editable)

            self.payments_box.setVisible(vm.kind is DocumentKind.INVOICE and not vm.is_new)
            self._sync_attachments()
            self._sync_payments()
            self._sync_actions()
        finally:
            self._syncing = False
        self._sync_totals()
        self._sync_banners()

    def _sync_attachments(self) -> None:
        files = self.vm.files
        self.attachments_box.setVisible(files.takes_attachments)
        has_rows = files.attachments.rowCount() > 0
        self.attachment_list.setVisible(has_rows)
        self.attachments_empty.setVisible(not has_rows)
        chosen = self.chosen_attachment()
        self.open_attachment_button.setEnabled(chosen is not None)
        self.remove_attachment_button.setEnabled(chosen is not None and files.can_remove(chosen))
        self.open_attachment_button.setVisible(has_rows)
        self.remove_attachment_button.setVisible(has_rows)
        row = self.table.currentIndex().row()
        lines = self.vm.lines.lines
        self.view_3d_button.setVisible(any(line.order_file_id for line in lines))
        self.view_3d_button.setEnabled(0 <= row < len(lines) and bool(lines[row].order_file_id))

    def _sync_totals(self) -> None:
        vm = self.vm
        self.delivery.sync()  # unsaved edits hold back the link and the email
        totals = vm.totals
        self.client_detail.setText(vm.client_detail)
        self.figures["subtotal"].setText(vm.money(totals.subtotal if totals else None))
        discount = totals.discount_total if totals else None
        self.figures["discount"].setText(
            f"−{vm.money(discount)}" if discount else vm.money(discount)
        )
        self.figures["shipping"].setText(vm.money(totals.shipping if totals else None))
        rate_text = vm.tax_text.split(",")[0]
        self.captions["tax"].setText(f"{rate_text} (included)" if vm.tax_inclusive else rate_text)
        self.figures["tax"].setText(vm.money(totals.tax_total if totals else None))
        self.figures["total"].setText(vm.money(totals.total if totals else None))
        is_invoice = vm.kind is DocumentKind.INVOICE and not vm.is_new
        for key in ("paid", "balance"):
            self.captions[key].setVisible(is_invoice)
            self.figures[key].setVisible(is_invoice)
        if is_invoice:
            self.figures["paid"].setText(vm.money(vm.amount_paid))
            balance = vm.balance_due
            self.figures["balance"].setText(vm.money(balance))
            colour = BAD if vm.overdue else ("#1f8a4c" if balance == 0 else "")
            self.figures["balance"].setStyleSheet(f"color: {colour};" if colour else "")
        self.totals_note.setText(vm.totals_note)
        self.totals_note.setVisible(bool(vm.totals_note))
        if self.notes.toPlainText() != vm.notes and not self.notes.hasFocus():
            self._syncing = True
            self.notes.setPlainText(vm.notes)
            self._syncing = False
        self.estimate_note.setText(vm.estimate_note)
        self.estimate_note.setVisible(bool(vm.estimate_note))
        problems = vm.problems
        self.problems.setText("\n".join(f"• {p}" for p in problems))
        self.problems.setVisible(bool(problems))
        self.dirty_label.setVisible(vm.dirty and not vm.opening)

    def _sync_banners(self) -> None:
        self.stale_banner.setVisible(self.vm.stale)
        self.stale_label.setText(f"<b>Changed elsewhere — reload.</b> {self.vm.stale_message}")
        self.error_banner.setVisible(bool(self.vm.error))
        self.error_label.setText(self.vm.error)

    def _sync_actions(self) -> None:
        for action in self.vm.actions():
            self._apply_action(action)
        self.more_button.setVisible(any(a.isVisible() for a in self.menu_actions.values()))
        record = self.vm.action("record_payment")
        self.pay_link.setVisible(record is not None and record.visible)

    def _apply_action(self, action: Action) -> None:
        widget: QPushButton | QAction | None = self.buttons.get(
            action.key
        ) or self.menu_actions.get(action.key)
        if widget is None:
            return
        widget.setVisible(action.visible)
        widget.setEnabled(action.enabled and not self.vm.busy)
        widget.setToolTip(action.tooltip)

    def _sync_payments(self) -> None:
        while self.payment_rows.count():
            item = self.payment_rows.takeAt(0)
            widget = item.widget() if item is not None else None
            if widget is not None:
                widget.deleteLater()
        vm = self.vm
        methods = {
            "CASH": "Cash",
            "BANK_TRANSFER": "Bank transfer",
            "OTHER": "Other",
            "STRIPE": "Card (Stripe)",
        }
        row = 0
        for payment in vm.payments:
            when = format_date(payment.paid_at.date())
            what = methods.get(payment.method.value, payment.method.value)
            detail = f"{what} · {payment.reference}" if payment.reference else what
            self._payment_row(row, when, detail, vm.money(payment.amount), "")
            row += 1
        for refund in vm.refunds:
            when = format_date(refund.refunded_at.date())
            detail = f"Refund · {refund.reason}" if refund.reason else "Refund"
            self._payment_row(row, when, detail, f"−{vm.money(refund.amount)}", BAD)
            row += 1
        self.no_payments.setVisible(row == 0)

    def _payment_row(self, row: int, when: str, detail: str, amount: str, colour: str) -> None:
        text = QLabel(f"{detail}<br><span style='color:{MUTED}'>{when}</span>")
        text.setTextFormat(Qt.TextFormat.RichText)
        text.setToolTip(f"{detail}, {when}")
        # Long references are cut at the card's edge rather than widening the column.
        text.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        text.setMinimumHeight(text.sizeHint().height())
        figure = QLabel(amount)
        figure.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop)
        if colour:
            figure.setStyleSheet(f"color: {colour};")
        self.payment_rows.addWidget(text, row, 0)
        self.payment_rows.addWidget(figure, row, 1)
        self.payment_rows.setColumnStretch(0, 1)

    def _show_choices(self) -> None:
        if self.client_edit.hasFocus() and self.vm.client_choices.rowCount() > 0:
            self.completer.complete()

    # -- commands
    def _notes_edited(self) -> None:
        if not self._syncing:
            self.vm.set_notes(self.notes.toPlainText())

    def _discount_type_chosen(self, index: int) -> None:
        self.vm.set_discount_type(DISCOUNT_CHOICES[index][0])
        if self.discount_value.isVisible():
            self.discount_value.setFocus()
            self.discount_value.selectAll()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if (
            watched is self.table.viewport()
            and event.type() == QEvent.Type.MouseButtonRelease
            and isinstance(event, QMouseEvent)
        ):
            index = self.table.indexAt(event.position().toPoint())
            picture = self.table.visualRect(index)
            if (
                index.isValid()
                and index.column() == LineColumn.DESCRIPTION
                and event.position().x() - picture.left() <= LINE_PICTURE + 8
                and self._line_file(index.row()) is not None
            ):
                self.open_line_file(index.row())
                return True
        return super().eventFilter(watched, event)

    def _line_file(self, row: int) -> int | None:
        lines = self.vm.lines.lines
        return lines[row].order_file_id if 0 <= row < len(lines) else None

    def open_line_file(self, row: int | None = None) -> MeshDialog | None:
        """Show the part of a line (the selected one by default) in 3D."""
        if row is None or isinstance(row, bool):
            row = self.table.currentIndex().row()
        file_id = self._line_file(row)
        if file_id is None:
            return None
        found = self.vm.files.file(file_id)
        lines = self.vm.lines.lines
        dialog = MeshDialog(
            found.filename if found is not None else lines[row].description,
            self.vm.files.mesh_work(file_id),
            self.vm.files.runner,
            parent=self,
        )
        dialog.finished.connect(lambda _r, d=dialog: self._mesh_closed(d))
        self.mesh_dialogs.append(dialog)
        dialog.open()
        return dialog

    def _mesh_closed(self, dialog: MeshDialog) -> None:
        if dialog in self.mesh_dialogs:
            self.mesh_dialogs.remove(dialog)

    def chosen_attachment(self) -> AttachmentView | None:
        rows = self.attachment_list.selectionModel().selectedRows()
        return self.vm.files.attachments.row_at(rows[0].row()) if rows else None

    def choose_attachments(self) -> None:
        names, _ = QFileDialog.getOpenFileNames(
            self, "Attach to the invoice", "", "PDF and images (*.pdf *.png *.jpg *.jpeg)"
        )
        if names:
            self._attach_paths([Path(name) for name in names])

    def _attach_paths(self, paths: list[Path]) -> None:
        if self.vm.files.takes_attachments:
            self.vm.files.attach(paths)

    def open_attachment(self) -> None:
        chosen = self.chosen_attachment()
        if chosen is None:
            return
        folder = Path(tempfile.gettempdir()) / "printdesk-attachments" / str(chosen.id)
        self.vm.files.export(chosen, folder)  # opened when the copy is written

    def _exported(self, copy: object) -> None:
        if isinstance(copy, Path):
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(copy)))

    def remove_attachment(self) -> None:
        chosen = self.chosen_attachment()
        if chosen is None or not self.vm.files.can_remove(chosen):
            return
        box = QMessageBox(
            QMessageBox.Icon.Question,
            "Remove attachment",
            f"Remove {chosen.filename} from {self.vm.number}? It is deleted from storage.",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
            self,
        )
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)

        def answered(result: int) -> None:
            self.confirm_remove = None
            if result == QMessageBox.StandardButton.Yes:
                self.vm.files.remove(chosen)

        box.finished.connect(answered)
        self.confirm_remove = box
        box.open()

    def _save(self) -> None:
        # A cell still open needs no commit: its editor hands over every keystroke.
        if self.vm.editable:
            self._after_estimates("save", self.vm.save)

    def _after_estimates(self, key: str, then: Callable[[], object]) -> None:
        """Run ``then`` at once, or once the person agrees to make it with estimated lines."""
        question = self.vm.estimates_question(key)
        if not question:
            then()
            return
        dialog = ConfirmDialog(self, "Estimated prices", question, "Make it anyway", danger=False)
        dialog.accepted.connect(lambda: then())
        dialog.finished.connect(lambda _result: setattr(self, "estimates_dialog", None))
        self.estimates_dialog = dialog
        dialog.open()

    def _add_line(self) -> None:
        row = self.vm.add_line()
        if row >= 0:
            index = self.vm.lines.index(row, LineColumn.DESCRIPTION)
            self.table.setCurrentIndex(index)
            self.table.setFocus()
            self.table.edit(index)

    def _remove_line(self) -> None:
        index = self.table.currentIndex()
        if index.isValid():
            self.vm.remove_line(index.row())

    def _move_line(self, delta: int) -> None:
        index = self.table.currentIndex()
        if not index.isValid():
            return
        row = self.vm.move_line(index.row(), delta)
        self.table.setCurrentIndex(self.vm.lines.index(row, index.column()))

    def _back(self) -> None:
        self.confirm_discard(lambda: self.back_requested.emit())

    def confirm_discard(self, then: Callable[[], None]) -> None:
        """Run ``then`` at once, or after the person agrees to drop their unsaved edits."""
        if not self.vm.dirty:
            then()
            return
        dialog = ConfirmDialog(
            self,
            "Leave without saving?",
            f"{self.vm.number} has changes that are not saved. They will be lost.",
            "Discard changes",
        )
        dialog.accepted.connect(then)
        dialog.open()

    def _record_payment(self) -> None:
        action = self.vm.action("record_payment")
        if action is None or not action.visible:
            return
        self.vm.payment_form(lambda form: PaymentDialog(form, self).open())

    def _run(self, key: str) -> None:
        vm = self.vm
        if key == "record_payment":
            self._record_payment()
        elif key == "send":
            vm.send()
        elif key == "accept":
            vm.accept()
        elif key == "convert":
            self._after_estimates("convert", vm.convert)
        elif key == "open_invoice":
            vm.open_invoice()
        elif key == "open_quote":
            vm.open_quote()
        elif key == "duplicate":
            self._after_estimates("duplicate", vm.duplicate)
        elif key == "decline":
            self._confirm(
                "Decline this quote?",
                f"{vm.number} will be marked as declined. Duplicate it to quote again.",
                "Decline quote",
                lambda _reason: vm.decline(),
            )
        elif key == "void":
            self._confirm(
                "Void this invoice?",
                f"{vm.number} will be void: nothing is owed on it and its job is cancelled.",
                "Void invoice",
                vm.void,
                reason="Why? (kept in the activity log)",
            )
        elif key == "write_off":
            self._confirm(
                "Write off this invoice?",
                f"The {vm.money(vm.balance_due)} still owed on {vm.number} will no longer be"
                " chased. The balance stays on record.",
                "Write off",
                vm.write_off,
                reason="Why? (kept in the activity log)",
            )
        elif key == "delete":
            self._confirm(
                f"Delete {vm.number}?",
                f"{vm.number} and the files that belong only to it will be deleted."
                " This cannot be undone.",
                f"Delete {vm.kind.value}",
                lambda _reason: vm.delete(),
            )

    def _confirm(
        self,
        title: str,
        message: str,
        confirm: str,
        then: Callable[[str], object],
        *,
        reason: str | None = None,
    ) -> None:
        dialog = ConfirmDialog(self, title, message, confirm, reason=reason)
        dialog.accepted.connect(lambda: then(dialog.reason_text))
        dialog.open()
