"""The printers, materials and users of the shop: a table each, the actions on the selected row,
and the dialog that adds or edits one."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QAbstractItemModel, QModelIndex, Qt
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from core.enums import PrinterStatus, Role
from desktop.viewmodels.settings import (
    PRINTER_STATUS_TEXT,
    MaterialsViewModel,
    PrintersViewModel,
    RecordEditorViewModel,
    UsersViewModel,
)
from desktop.views.jobs import ChevronCombo
from desktop.views.settings_forms import STYLE, ConflictBanner, message_label, show_text

TABLE_STYLE = """
QTableView::item { padding: 0 8px; border: none; }
QTableView::item:selected { background: #dbe9f8; color: #1d2733; }
"""


def table(model: QAbstractItemModel) -> QTableView:
    view = QTableView()
    view.setModel(model)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    view.setAlternatingRowColors(True)
    view.setShowGrid(False)
    view.setWordWrap(False)
    view.setTextElideMode(Qt.TextElideMode.ElideRight)
    view.verticalHeader().setVisible(False)
    view.verticalHeader().setDefaultSectionSize(34)
    header = view.horizontalHeader()
    header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
    header.setHighlightSections(False)
    header.setStretchLastSection(False)
    header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
    return view


# ---------------------------------------------------------------------------------------------
# The add / edit dialog


class RecordDialog(QDialog):
    """A printer, material or user form: refusals beside their fields, a conflict banner."""

    def __init__(self, vm: RecordEditorViewModel[Any], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.vm = vm
        self.setWindowTitle(vm.title)
        self.setStyleSheet(STYLE)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.setMinimumWidth(520)

        outer = QVBoxLayout(self)
        outer.setContentsMargins(24, 20, 24, 18)
        outer.setSpacing(12)
        heading = QLabel(vm.title)
        heading.setObjectName("sectionHeading")
        outer.addWidget(heading)
        self.conflict = ConflictBanner()
        self.conflict.reload_button.clicked.connect(vm.reload)
        outer.addWidget(self.conflict)
        self.message = message_label("formMessage")
        outer.addWidget(self.message)
        self.notice = message_label("formNotice")
        outer.addWidget(self.notice)

        form = QFormLayout()
        form.setHorizontalSpacing(14)
        form.setVerticalSpacing(8)
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.inputs: dict[str, QLineEdit | ChevronCombo] = {}
        self.field_errors: dict[str, QLabel] = {}
        for spec in vm.fields:
            widget: QLineEdit | ChevronCombo
            if spec.choices:
                combo = ChevronCombo()
                for value, label in spec.choices:
                    combo.addItem(label, value)
                combo.activated.connect(
                    lambda index, key=spec.key, c=combo: vm.set_value(key, str(c.itemData(index)))
                )
                widget = combo
            else:
                line = QLineEdit()
                if spec.secret:
                    line.setEchoMode(QLineEdit.EchoMode.Password)
                line.textEdited.connect(lambda text, key=spec.key: vm.set_value(key, text))
                if spec.width:
                    line.setFixedWidth(spec.width)
                    line.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                widget = line
            self.inputs[spec.key] = widget
            cell = QWidget()
            column = QVBoxLayout(cell)
            column.setContentsMargins(0, 0, 0, 0)
            column.setSpacing(3)
            row = QHBoxLayout()
            row.setSpacing(8)
            row.addWidget(widget, 0 if spec.width else 1)
            if spec.hint and spec.width:
                hint = QLabel(spec.hint)
                hint.setObjectName("fieldHint")
                row.addWidget(hint)
            elif spec.hint and isinstance(widget, QLineEdit):
                widget.setPlaceholderText(spec.hint)
            if spec.width:
                row.addStretch(1)
            column.addLayout(row)
            error = message_label("fieldError")
            column.addWidget(error)
            self.field_errors[spec.key] = error
            caption = QLabel(spec.label)
            caption.setBuddy(widget)
            caption.setFixedHeight(32)  # level with the box, whatever grows beneath it
            caption.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            form.addRow(caption, cell)
        outer.addLayout(form)

        buttons = QHBoxLayout()
        buttons.addStretch(1)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.reject)
        self.save_button = QPushButton(vm.save_text)
        self.save_button.setObjectName("primary")
        self.save_button.setDefault(True)
        self.save_button.setToolTip(f"{vm.save_text} (Ctrl+S)")
        self.save_button.clicked.connect(self._save)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.save_button)
        outer.addLayout(buttons)
        QShortcut(QKeySequence(QKeySequence.StandardKey.Save), self, self._save)

        vm.form_changed.connect(self._fill)
        vm.messages_changed.connect(self._show_messages)
        vm.saved.connect(self._saved)
        vm.save_done.connect(self._save_done)
        vm.busy_changed.connect(self._show_state)
        self._fill()
        self._show_messages()

    def _fill(self) -> None:
        for key, widget in self.inputs.items():
            value = self.vm.value(key)
            if isinstance(widget, ChevronCombo):
                widget.setCurrentIndex(max(widget.findData(value), 0))
            else:
                widget.setText(value)
                widget.setCursorPosition(0)

    def _show_messages(self) -> None:
        errors = self.vm.errors
        for key, label in self.field_errors.items():
            show_text(label, errors.get(key, ""))
            widget = self.inputs[key]
            invalid = key in errors
            if bool(widget.property("invalid")) != invalid:
                widget.setProperty("invalid", invalid)
                widget.style().unpolish(widget)
                widget.style().polish(widget)
        show_text(self.message, "" if self.vm.conflict else self.vm.message)
        show_text(self.notice, self.vm.notice)
        self.conflict.setVisible(self.vm.conflict)
        self.conflict.text.setText(self.vm.message)
        self._show_state()
        self.adjustSize()

    def _show_state(self, *_: object) -> None:
        self.save_button.setEnabled(self.vm.can_save)
        self.save_button.setText("Saving…" if self.vm.saving else self.vm.save_text)

    def _save(self) -> None:
        self.vm.save()

    def _save_done(self, ok: bool) -> None:
        first = next((self.inputs[k] for k in self.field_errors if k in self.vm.errors), None)
        if not ok and first is not None:
            first.setFocus(Qt.FocusReason.OtherFocusReason)

    def _saved(self, _record: object) -> None:
        self.accept()


# ---------------------------------------------------------------------------------------------
# The tables


class CatalogPanel(QFrame):
    """A card with a title, a line on what it is, a toolbar and a table."""

    def __init__(self, title: str, description: str, model: QAbstractItemModel) -> None:
        super().__init__()
        self.setObjectName("card")
        self.setStyleSheet(STYLE + TABLE_STYLE)
        layout = QVBoxLayout(self)
        self.body = layout
        layout.setContentsMargins(22, 18, 22, 18)
        layout.setSpacing(10)
        heading = QLabel(title)
        heading.setObjectName("sectionHeading")
        layout.addWidget(heading)
        self.description = QLabel(description)
        self.description.setObjectName("sectionDescription")
        self.description.setWordWrap(True)
        layout.addWidget(self.description)
        self.toolbar = QHBoxLayout()
        self.toolbar.setSpacing(8)
        layout.addLayout(self.toolbar)
        self.table = table(model)
        layout.addWidget(self.table, 1)
        self.reading = QLabel()
        self.reading.setObjectName("empty")
        self.reading.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.reading.setVisible(False)
        layout.addWidget(self.reading, 1)
        self.dialog: RecordDialog | None = None
        self._current_id: int | None = None
        self.table.selectionModel().currentRowChanged.connect(self._track)

    def follow_reading(self, vm: Any, what: str) -> None:
        """Until ``vm``'s rows first come, "Reading printers…" where the table will be."""
        self.reading.setText(f"Reading {what}…")
        self._reading_vm = vm
        vm.loading_changed.connect(self._show_reading)  # a slot of this widget: it goes with it
        vm.changed.connect(self._show_reading)
        self._show_reading()

    def _show_reading(self, *_args: object) -> None:
        visible = getattr(self._reading_vm, "visible", True)
        first = visible and not self._reading_vm.loaded_once
        self.reading.setVisible(first)
        self.table.setVisible(visible and not first)

    def button(self, text: str, *, primary: bool = False, tip: str = "") -> QPushButton:
        button = QPushButton(text)
        if primary:
            button.setObjectName("primary")
        if tip:
            button.setToolTip(tip)
        self.toolbar.addWidget(button)
        return button

    def selected_row(self) -> int | None:
        index = self.table.currentIndex()
        return index.row() if index.isValid() else None

    def _editor_opened(self, editor: RecordEditorViewModel[Any]) -> None:
        self.open_dialog(editor, self.vm.close_editor)  # type: ignore[attr-defined]

    def open_dialog(self, editor: RecordEditorViewModel[Any], on_close: Any) -> None:
        dialog = RecordDialog(editor, self)
        dialog.finished.connect(lambda _result: self._closed(on_close))
        self.dialog = dialog
        dialog.open()

    def _closed(self, on_close: Any) -> None:
        self.dialog = None
        on_close()
        self.table.setFocus()

    def record_id(self, row: int) -> int | None:
        """The id of the record in ``row`` (each table's rows have one)."""
        record = self.table.model().index(row, 0).data(Qt.ItemDataRole.UserRole)
        found = getattr(record, "id", None)
        return found if isinstance(found, int) else None

    def _track(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if current.isValid():
            self._current_id = self.record_id(current.row())

    def keep_selection(self) -> None:
        """After the rows were read again: select the same record (or the first row)."""
        count = self.table.model().rowCount()
        if count == 0:
            return
        rows = [r for r in range(count) if self.record_id(r) == self._current_id]
        self.table.selectRow(rows[0] if rows else 0)


class PrintersPanel(CatalogPanel):
    def __init__(self, vm: PrintersViewModel) -> None:
        super().__init__(
            "Printers",
            "The printers on the jobs board and the Cura definition each slices with. "
            "A printer in maintenance or offline keeps its queue but cannot print.",
            vm.model,
        )
        self.vm = vm
        self.add_button = self.button("Add printer", primary=True, tip="Add a printer (Ctrl+N)")
        self.add_button.clicked.connect(self.add)
        self.edit_button = self.button("Edit…", tip="Edit the selected printer (Enter)")
        self.edit_button.clicked.connect(self.edit)
        self.toolbar.addSpacing(12)
        self.status_label = QLabel("Status")
        self.toolbar.addWidget(self.status_label)
        self.status = ChevronCombo()
        for status in vm.statuses:
            self.status.addItem(PRINTER_STATUS_TEXT[status], status.value)
        self.status.setToolTip("Set the selected printer's status")
        self.status.activated.connect(self._status_chosen)
        self.toolbar.addWidget(self.status)
        self.toolbar.addStretch(1)
        for widget in (self.add_button, self.edit_button, self.status_label, self.status):
            widget.setVisible(vm.can_edit)
        self.table.activated.connect(lambda _index: self.edit())
        self.table.selectionModel().currentRowChanged.connect(self._current)
        vm.editor_opened.connect(self._editor_opened)
        vm.changed.connect(self._changed)
        self.follow_reading(vm, "the printers")
        self._current(QModelIndex(), QModelIndex())  # nothing chosen until the rows come

    def add(self) -> None:
        if self.vm.can_edit:
            self.vm.new_printer()

    def edit(self) -> None:
        row = self.selected_row()
        printer = self.vm.row_at(row) if row is not None else None
        if printer is not None and self.vm.can_edit:
            self.vm.edit_printer(printer.id)

    def _status_chosen(self, index: int) -> None:
        row = self.selected_row()
        printer = self.vm.row_at(row) if row is not None else None
        if printer is not None:
            self.vm.set_status(printer.id, PrinterStatus(self.status.itemData(index)))

    def _changed(self) -> None:
        self.keep_selection()
        self._current(self.table.currentIndex(), QModelIndex())

    def _current(self, current: QModelIndex, _previous: QModelIndex) -> None:
        printer = self.vm.row_at(current.row()) if current.isValid() else None
        self.edit_button.setEnabled(printer is not None)
        self.status.setEnabled(printer is not None)
        if printer is not None:
            self.status.setCurrentIndex(self.status.findData(printer.status.value))


class MaterialsPanel(CatalogPanel):
    def __init__(self, vm: MaterialsViewModel) -> None:
        super().__init__(
            "Materials",
            "Filaments the counter prices with. A deactivated material leaves the counter's "
            "lists; quotes that used it keep their prices.",
            vm.model,
        )
        self.vm = vm
        self.add_button = self.button("Add material", primary=True, tip="Add a material (Ctrl+N)")
        self.add_button.clicked.connect(self.add)
        self.edit_button = self.button("Edit…", tip="Edit the selected material (Enter)")
        self.edit_button.clicked.connect(self.edit)
        self.active_button = self.button("Deactivate")
        self.active_button.clicked.connect(self._toggle_active)
        self.toolbar.addStretch(1)
        for widget in (self.add_button, self.edit_button, self.active_button):
            widget.setVisible(vm.can_edit)
        self.table.activated.connect(lambda _index: self.edit())
        self.table.selectionModel().currentRowChanged.connect(self._current)
        vm.editor_opened.connect(self._editor_opened)
        vm.changed.connect(self._changed)
        self.follow_reading(vm, "the materials")
        self._current(QModelIndex(), QModelIndex())  # nothing chosen until the rows come

    def add(self) -> None:
        if self.vm.can_edit:
            self.vm.new_material()

    def edit(self) -> None:
        row = self.selected_row()
        material = self.vm.row_at(row) if row is not None else None
        if material is not None and self.vm.can_edit:
            self.vm.edit_material(material.id)

    def _toggle_active(self) -> None:
        row = self.selected_row()
        material = self.vm.row_at(row) if row is not None else None
        if material is not None:
            self.vm.set_active(material.id, not material.active)

    def _changed(self) -> None:
        self.keep_selection()
        self._current(self.table.currentIndex(), QModelIndex())

    def _current(self, current: QModelIndex, _previous: QModelIndex) -> None:
        material = self.vm.row_at(current.row()) if current.isValid() else None
        self.edit_button.setEnabled(material is not None)
        self.active_button.setEnabled(material is not None)
        active = material is None or material.active
        self.active_button.setText("Deactivate" if active else "Reactivate")
        self.active_button.setObjectName("danger" if active else "")
        self.active_button.style().unpolish(self.active_button)
        self.active_button.style().polish(self.active_button)


class UsersPanel(CatalogPanel):
    def __init__(self, vm: UsersViewModel) -> None:
        super().__init__(
            "Users",
            "Who may sign in at the counter. Admins change settings, printers, materials and "
            "users; there is always at least one active admin.",
            vm.model,
        )
        self.vm = vm
        self.add_button = self.button("Add user", primary=True, tip="Add a user (Ctrl+N)")
        self.add_button.clicked.connect(self.add)
        self.role_button = self.button("Make admin")
        self.role_button.clicked.connect(self._toggle_role)
        self.active_button = self.button("Deactivate")
        self.active_button.clicked.connect(self._toggle_active)
        self.password_button = self.button("Set password…")
        self.password_button.clicked.connect(self._password)
        self.toolbar.addStretch(1)
        self.hidden = QLabel(vm.hidden_text)
        self.hidden.setObjectName("empty")
        self.hidden.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.body.addWidget(self.hidden, 1)
        self.hidden.setVisible(not vm.visible)
        self.table.setVisible(vm.visible)
        for widget in (
            self.add_button,
            self.role_button,
            self.active_button,
            self.password_button,
        ):
            widget.setVisible(vm.visible)
        self.table.selectionModel().currentRowChanged.connect(self._current)
        vm.editor_opened.connect(self._editor_opened)
        vm.changed.connect(self._changed)
        self.follow_reading(vm, "the user accounts")
        self._current(QModelIndex(), QModelIndex())  # nothing chosen until the rows come

    def add(self) -> None:
        if self.vm.visible:
            self.vm.new_user()

    def _selected(self) -> Any:
        row = self.selected_row()
        return self.vm.row_at(row) if row is not None else None

    def _toggle_role(self) -> None:
        user = self._selected()
        if user is not None:
            self.vm.set_role(user.id, Role.STAFF if user.is_admin else Role.ADMIN)

    def _toggle_active(self) -> None:
        user = self._selected()
        if user is not None:
            self.vm.set_active(user.id, not user.active)

    def _password(self) -> None:
        user = self._selected()
        if user is not None:
            self.vm.change_password(user.id)

    def _changed(self) -> None:
        self.keep_selection()
        self._current(self.table.currentIndex(), QModelIndex())

    def _current(self, current: QModelIndex, _previous: QModelIndex) -> None:
        user = self.vm.row_at(current.row()) if current.isValid() else None
        for button in (self.role_button, self.active_button, self.password_button):
            button.setEnabled(user is not None)
        self.role_button.setText(
            "Make staff" if user is not None and user.is_admin else "Make admin"
        )
        active = user is None or user.active
        self.active_button.setText("Deactivate" if active else "Reactivate")
