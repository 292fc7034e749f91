"""The quick order screen: client, parts, the selected part in 3D with its checks and settings,
the running total and the one action that makes the quote or the invoice."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QCoreApplication, QEvent, QModelIndex, Qt, QTimer
from PySide6.QtGui import QCloseEvent, QKeySequence, QShortcut, QStandardItem, QStandardItemModel
from PySide6.QtWidgets import (
    QCompleter,
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from core.services.clients import ClientView
from desktop.viewmodels.clients import ClientEditorViewModel
from desktop.viewmodels.context import AppContext
from desktop.viewmodels.documents import DocumentKind
from desktop.viewmodels.quick_order import QuickOrderViewModel
from desktop.viewmodels.quick_order_parts import MODEL_SUFFIXES, PartStage, checks_of
from desktop.viewmodels.shell import ShellViewModel
from desktop.views.client_dialog import ClientDialog
from desktop.views.document_editor import ConfirmDialog
from desktop.views.mesh_view import MeshView
from desktop.views.page import Page, titled_card
from desktop.views.quick_order_parts import (
    STYLE,
    BreakdownPanel,
    PartRow,
    SettingsPanel,
    TotalsPanel,
    _restyle,
)

SIDE_WIDTH = 340
NAME_ROLE = Qt.ItemDataRole.UserRole + 1
ID_ROLE = Qt.ItemDataRole.UserRole + 2
FILTER = "3D models (" + " ".join(f"*{s} *{s.upper()}" for s in MODEL_SUFFIXES) + ")"


class ClientPicker(QFrame):
    """Type to search the clients; Enter or a pick from the list chooses one."""

    def __init__(self, vm: QuickOrderViewModel) -> None:
        super().__init__()
        self.vm = vm
        box = titled_card(self, "Client")
        row = QHBoxLayout()
        self.search = QLineEdit()
        self.search.setPlaceholderText("Search by name, company or email")
        self.search.setClearButtonEnabled(True)
        self.new = QPushButton("New client…")
        row.addWidget(self.search, 1)
        row.addWidget(self.new)
        box.addLayout(row)
        self.detail = QLabel()
        self.detail.setObjectName("muted")
        self.detail.setWordWrap(True)
        box.addWidget(self.detail)
        self._matches: list[int] = []  # client ids, in the order the list shows them
        # The list shows name, company and email; a pick writes only the name in the field.
        self._names = QStandardItemModel(self)
        self.completer = QCompleter(self._names, self)
        self.completer.setCompletionRole(NAME_ROLE)
        self.completer.setCompletionMode(QCompleter.CompletionMode.UnfilteredPopupCompletion)
        self.completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.search.setCompleter(self.completer)
        self._searched: str | None = None  # the text the matches are for
        self._choose_when_found = False
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(80)
        self._timer.timeout.connect(self.run_search)
        self.search.textEdited.connect(lambda _t: self._timer.start())
        self.search.textChanged.connect(self._cleared)
        self.search.returnPressed.connect(self.choose_first)
        # The index overload: the row knows the client's id (names need not be unique).
        self.completer.activated[QModelIndex].connect(self._picked)  # type: ignore[index]
        self.new.clicked.connect(vm.new_client)
        vm.client_changed.connect(self.sync)
        vm.clients_found.connect(self._found)
        self.sync()

    def run_search(self) -> None:
        """Ask for the clients matching the text; the answer comes back off the GUI thread."""
        self._timer.stop()
        self.vm.find_clients(self.search.text())

    def _found(self, text: str, found: list[ClientView]) -> None:
        if text != self.search.text():
            return
        self._searched = text
        self._matches = [c.id for c in found]
        self._names.clear()
        for client in found:
            item = QStandardItem(self._label(client.name, client.company, client.email))
            item.setData(client.name, NAME_ROLE)
            item.setData(client.id, ID_ROLE)
            self._names.appendRow(item)
        if self._choose_when_found:
            self._choose_when_found = False
            if self._matches:
                self.vm.set_client(self._matches[0])
            return
        chosen = self.vm.client
        if self.search.hasFocus() and text.strip() and not (chosen and chosen.name == text):
            self.completer.complete()

    def _cleared(self, text: str) -> None:
        if not text.strip() and self.vm.client is not None:
            self.vm.set_client(None)

    @staticmethod
    def _label(name: str, company: str | None, email: str | None) -> str:
        extra = " · ".join(x for x in (company, email) if x)
        return f"{name} — {extra}" if extra else name

    def _picked(self, index: QModelIndex) -> None:
        client_id = index.data(ID_ROLE)
        if isinstance(client_id, int):
            self.vm.set_client(client_id)

    def choose_first(self) -> None:
        """Enter picks the first match (once the search for this text has answered)."""
        chosen, text = self.vm.client, self.search.text()
        if chosen is not None and chosen.name == text:
            return  # Enter on a pick from the list: that client stays
        if self._searched == text and not self._timer.isActive():
            if self._matches:
                self.vm.set_client(self._matches[0])
            return
        self._choose_when_found = True
        self.run_search()

    def sync(self) -> None:
        client = self.vm.client
        if client is None:
            self.detail.setText("No client chosen yet.")
            if self.search.text() and not self.search.hasFocus():
                self.search.clear()  # ready for the next customer
            return
        self.search.setText(client.name)
        popup = self.completer.popup()
        if popup is not None:
            popup.hide()
        parts = [p for p in (client.company, client.email, client.phone) if p]
        self.detail.setText(" · ".join(parts) or "No contact details on file.")


class PartsList(QFrame):
    """The dropped files, newest last; a click selects, the row buttons cancel and remove."""

    def __init__(self, vm: QuickOrderViewModel) -> None:
        super().__init__()
        self.vm = vm
        self.setObjectName("card")
        box = QVBoxLayout(self)
        box.setContentsMargins(12, 12, 12, 12)
        head = QHBoxLayout()
        title = QLabel("Parts")
        title.setObjectName("sectionTitle")
        self.count = QLabel()
        self.count.setObjectName("muted")
        head.addWidget(title)
        head.addStretch(1)
        head.addWidget(self.count)
        box.addLayout(head)
        self.scroller = QScrollArea()
        self.scroller.setWidgetResizable(True)
        self.scroller.setFrameShape(QFrame.Shape.NoFrame)
        self.scroller.setStyleSheet("QScrollArea { background: #ffffff; border: none; }")
        inner = QWidget()
        inner.setObjectName("partsInner")
        inner.setStyleSheet("QWidget#partsInner { background: #ffffff; }")
        self.rows_box = QVBoxLayout(inner)
        self.rows_box.setContentsMargins(0, 0, 4, 0)
        self.rows_box.setSpacing(8)
        self.rows_box.addStretch(1)
        self.scroller.setWidget(inner)
        box.addWidget(self.scroller, 1)
        self.empty = QLabel("No files yet.\nDrop them on the window or press Ctrl+O.")
        self.empty.setObjectName("muted")
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        box.addWidget(self.empty, 1)
        self.rows: dict[str, PartRow] = {}
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)  # Delete removes the selected file
        vm.parts_changed.connect(self.rebuild)
        vm.part_changed.connect(self._part_changed)
        vm.selection_changed.connect(self._selection)
        # Once the new row has its place in the list (the layout runs after this event).
        vm.part_added.connect(self._part_added)
        self.rebuild()

    def _part_added(self, key: str) -> None:
        QTimer.singleShot(0, self, lambda: self.scroll_to(key))

    def scroll_to(self, key: str) -> None:
        """Bring a part's row into view (a new file lands at the bottom of a long list)."""
        row = self.rows.get(key)
        inner = self.scroller.widget()
        if row is None or inner is None:
            return
        # The new row, and the list around it, need their places before the row can be shown.
        QCoreApplication.sendPostedEvents(None, QEvent.Type.LayoutRequest)
        self.scroller.ensureWidgetVisible(row, 0, 8)

    def rebuild(self) -> None:
        keys = [p.key for p in self.vm.parts]
        for key in list(self.rows):
            if key not in keys:
                self.rows.pop(key).deleteLater()
        for index, key in enumerate(keys):
            if key not in self.rows:
                row = PartRow(self.vm, key)
                row.clicked.connect(self._clicked)
                self.rows[key] = row
                self.rows_box.insertWidget(index, row)
                row.show()  # now, not queued: a new row is laid out (and scrolled to) at once
        self.empty.setVisible(not keys)
        self.scroller.setVisible(bool(keys))
        priced = sum(1 for p in self.vm.order_parts if p.quote is not None)
        self.count.setText(f"{priced} of {len(self.vm.order_parts)} priced" if keys else "")
        self._selection()

    def _clicked(self, key: str) -> None:
        self.setFocus()
        self.vm.select(key)

    def _part_changed(self, key: str) -> None:
        row = self.rows.get(key)
        if row is not None:
            row.sync()
        priced = sum(1 for p in self.vm.order_parts if p.quote is not None)
        self.count.setText(f"{priced} of {len(self.vm.order_parts)} priced")

    def _selection(self) -> None:
        selected = self.vm.selected
        for key, row in self.rows.items():
            row.set_selected(selected is not None and key == selected.key)


class PartViewer(QFrame):
    """The selected part in 3D on its printer's bed, with its checks and orientation tools."""

    def __init__(self, vm: QuickOrderViewModel) -> None:
        super().__init__()
        self.vm = vm
        self.setObjectName("card")
        box = QVBoxLayout(self)
        box.setContentsMargins(14, 12, 14, 12)
        box.setSpacing(8)
        self.mesh_view = MeshView()
        self.mesh_view.setMinimumHeight(320)
        box.addWidget(self.mesh_view, 1)
        self.drop_hint = QLabel(
            "Drop STL, OBJ or 3MF files on this window,\n"
            "or press Ctrl+O to choose them.\n\n"
            "Each part is checked, shown here in 3D and priced as you set it up."
        )
        self.drop_hint.setWordWrap(True)
        self.drop_hint.setObjectName("dropHint")
        self.drop_hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        box.addWidget(self.drop_hint, 1)
        tools = QHBoxLayout()
        tools.setSpacing(8)
        self.pick = QPushButton("Lay flat on a face")
        self.pick.setCheckable(True)
        self.pick.setToolTip("Then click the face that should rest on the bed")
        self.auto = QPushButton("Auto-orient")
        self.auto.setToolTip("Turn the part to the pose that needs the least support")
        self.reset = QPushButton("Reset orientation")
        self.reset.setToolTip("Back to the orientation of the file")
        self.rescale = QPushButton()
        self.repair = QPushButton("Repair")
        self.repair.setToolTip(
            "Weld, remove flat and duplicate triangles, fill small holes, make faces agree"
        )
        for button in (self.pick, self.auto, self.reset):
            tools.addWidget(button)
        tools.addStretch(1)
        box.addLayout(tools)
        self.checks_box = QVBoxLayout()
        self.checks_box.setSpacing(2)
        box.addLayout(self.checks_box)
        # Under the checks that call for them: the fixes for what they found.
        fixes = QHBoxLayout()
        fixes.setSpacing(8)
        fixes.addWidget(self.repair)
        fixes.addWidget(self.rescale)
        fixes.addStretch(1)
        box.addLayout(fixes)
        self.check_labels: list[QLabel] = []
        self._shown: tuple[str, int] | None = None
        self.pick.toggled.connect(self.mesh_view.set_pick_mode)
        self.mesh_view.face_picked.connect(self._picked)
        self.auto.clicked.connect(lambda: self._on_selected(vm.auto_orient))
        self.reset.clicked.connect(lambda: self._on_selected(vm.reset_orientation))
        self.rescale.clicked.connect(lambda: self._on_selected(vm.toggle_rescale))
        self.repair.clicked.connect(lambda: self._on_selected(vm.repair))
        vm.selection_changed.connect(self.sync)
        # A bound method, not a lambda: Qt drops the connection when this panel is deleted.
        vm.part_changed.connect(self._part_changed)
        vm.parts_changed.connect(self.sync)
        self.sync()

    def _part_changed(self, key: str) -> None:
        if self._is_selected(key):
            self.sync()

    def _is_selected(self, key: str) -> bool:
        selected = self.vm.selected
        return selected is not None and selected.key == key

    def _on_selected(self, command: object) -> None:
        part = self.vm.selected
        if part is not None and callable(command):
            command(part.key)

    def _picked(self, normal: object) -> None:
        part = self.vm.selected
        self.pick.setChecked(False)
        if part is not None:
            self.vm.lay_flat(part.key, list(normal))  # type: ignore[call-overload]

    def sync(self) -> None:
        part = self.vm.selected
        has_mesh = part is not None and part.mesh is not None
        self.mesh_view.setVisible(has_mesh)
        self.drop_hint.setVisible(not has_mesh)
        for button in (self.pick, self.auto, self.reset):
            button.setVisible(has_mesh)
        for label in self.check_labels:
            label.deleteLater()
        self.check_labels = []
        checks = checks_of(part) if part is not None else []
        if part is not None and part.stage is PartStage.REFUSED:
            label = QLabel(f"Refused: {part.reason}")
            label.setObjectName("check")
            label.setWordWrap(True)
            _restyle(label, "level", "bad")
            self.checks_box.addWidget(label)
            self.check_labels.append(label)
        for check in checks:
            mark = {"ok": "✓", "warn": "!", "bad": "✕"}.get(check.level, "·")
            label = QLabel(f"{mark}  {check.text}")
            label.setObjectName("check")
            label.setWordWrap(True)
            _restyle(label, "level", check.level)
            self.checks_box.addWidget(label)
            self.check_labels.append(label)
        self.repair.setVisible(part is not None and part.can_repair and not part.busy)
        units = part is not None and part.file_units != "mm" and part.mesh is not None
        self.rescale.setVisible(units)
        if part is not None and units:
            self.rescale.setText("Keep as millimetres" if part.rescaled else "Rescale to mm")
        if part is None or part.mesh is None:
            if self._shown is not None:
                self.mesh_view.clear()
                self._shown = None
            return
        shown = (part.key, part.generation)
        if shown != self._shown and self._shape_changed(part.key):
            mesh = part.shown_mesh()
            if mesh is not None:
                self.mesh_view.show_mesh(mesh, bed_mm=self._bed(), label=part.filename)
        self._shown = shown

    def _shape_changed(self, key: str) -> bool:
        """A new part, or the same one turned or rescaled (not merely re-priced)."""
        part = self.vm.part(key)
        if part is None:
            return False
        state = (key, part.scale, part.transform, part.choices.printer_id)
        changed = state != getattr(self, "_shape", None)
        self._shape = state
        return changed

    def _bed(self) -> tuple[float, float, float] | None:
        part = self.vm.selected
        printer = next(
            (p for p in self.vm.printers if part is not None and p.id == part.choices.printer_id),
            None,
        )
        if printer is None:
            return None
        return (float(printer.build_x_mm), float(printer.build_y_mm), float(printer.build_z_mm))


class QuickOrderPage(Page):
    def __init__(self, vm: QuickOrderViewModel) -> None:
        super().__init__(
            "Quick order",
            "Drop model files, check them in 3D, choose how to print them: prices follow.",
        )
        self.vm = vm
        self.setStyleSheet(STYLE)
        self.add_button = self.add_action("Add files…")
        self.add_button.setToolTip("Ctrl+O")
        self.add_button.clicked.connect(self.choose_files)

        body = QHBoxLayout()
        body.setSpacing(12)
        left = QVBoxLayout()
        left.setSpacing(12)
        self.client = ClientPicker(vm)
        self.parts = PartsList(vm)
        left.addWidget(self.client)
        left.addWidget(self.parts, 1)
        left_box = QWidget()
        left_box.setLayout(left)
        left_box.setFixedWidth(SIDE_WIDTH)
        left.setContentsMargins(0, 0, 0, 0)
        self.viewer = PartViewer(vm)
        right = QVBoxLayout()
        right.setContentsMargins(0, 0, 0, 0)
        right.setSpacing(12)
        self.settings = SettingsPanel(vm)
        self.breakdown = BreakdownPanel(vm)
        self.totals = TotalsPanel(vm)
        right.addWidget(self.settings)
        right.addWidget(self.breakdown)
        right.addStretch(1)
        right.addWidget(self.totals)
        right_box = QWidget()
        right_box.setLayout(right)
        right_box.setFixedWidth(SIDE_WIDTH)
        body.addWidget(left_box)
        body.addWidget(self.viewer, 1)
        body.addWidget(right_box)
        holder = QWidget()
        holder.setLayout(body)
        body.setContentsMargins(0, 0, 0, 0)
        self.add(holder, 1)

        context = Qt.ShortcutContext.WidgetWithChildrenShortcut
        # Ctrl+O is the main window's: it calls `choose_files` of the screen shown.
        for keys, action in (
            ("Ctrl+Return", vm.make_quote),
            ("Ctrl+Enter", vm.make_quote),
            ("Ctrl+Shift+Return", vm.make_invoice),
            ("Ctrl+Shift+Enter", vm.make_invoice),
        ):
            shortcut = QShortcut(QKeySequence(keys), self)
            shortcut.setContext(context)
            shortcut.activated.connect(action)
        remove = QShortcut(QKeySequence(QKeySequence.StandardKey.Delete), self.parts)
        remove.setContext(context)
        remove.activated.connect(vm.remove_selected)
        remove_in_view = QShortcut(QKeySequence(QKeySequence.StandardKey.Delete), self.viewer)
        remove_in_view.setContext(context)
        remove_in_view.activated.connect(vm.remove_selected)

        vm.selection_changed.connect(self._selected)
        vm.part_changed.connect(self._part_changed)
        vm.parts_changed.connect(self._selected)
        vm.editor_opened.connect(self._open_editor)
        vm.estimates_to_confirm.connect(self._confirm_estimates)
        self.editor_dialog: ClientDialog | None = None
        self.estimates_dialog: ConfirmDialog | None = None
        self.file_dialog: QFileDialog | None = None
        self._selected()

    def choose_files(self) -> None:
        """The file chooser, opened without blocking; the files it gives are added."""
        if self.file_dialog is not None and self.file_dialog.isVisible():
            self.file_dialog.raise_()
            return
        dialog = QFileDialog(self, "Add model files", "", FILTER)
        dialog.setFileMode(QFileDialog.FileMode.ExistingFiles)
        dialog.filesSelected.connect(lambda paths: self.vm.add_files(paths) if paths else None)
        self.file_dialog = dialog
        dialog.open()

    def unfinished_work(self) -> str:
        return self.vm.unfinished_work

    def add_dropped_files(self, paths: list[Path]) -> None:
        """The main window passes files dropped anywhere on it."""
        self.vm.add_files(paths)

    def _selected(self) -> None:
        part = self.vm.selected
        self.settings.show_part(part)
        self.breakdown.show_part(part)

    def _part_changed(self, key: str) -> None:
        part = self.vm.selected
        if part is not None and part.key == key:
            self.breakdown.show_part(part)
        self.settings.apply_all.setEnabled(part is not None and len(self.vm.order_parts) > 1)

    def _open_editor(self, editor: ClientEditorViewModel) -> None:
        dialog = ClientDialog(editor, self)
        dialog.open()
        self.editor_dialog = dialog

    def _confirm_estimates(self, kind: str, question: str) -> None:
        label = DocumentKind(kind).label.lower()
        dialog = ConfirmDialog(
            self,
            f"Make the {label} with estimated prices?",
            question,
            f"Make {label} anyway",
            danger=False,
        )
        dialog.accepted.connect(lambda: self.vm.make_confirmed(kind))
        dialog.finished.connect(lambda _result: setattr(self, "estimates_dialog", None))
        self.estimates_dialog = dialog
        dialog.open()

    def closeEvent(self, event: QCloseEvent) -> None:
        self.vm.close()
        self.viewer.mesh_view.close_view()
        super().closeEvent(event)


def build_quick_order_page(ctx: AppContext, shell: ShellViewModel) -> QuickOrderPage:
    return QuickOrderPage(QuickOrderViewModel(ctx))
