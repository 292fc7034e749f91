"""Settings → Slicer: the engine and definitions found, the admin's choice of another, and a
button that slices a test cube."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QFileDialog,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
)

from core.slicing.finding import SlicerFinding
from desktop.viewmodels.slicer_settings import SlicerSettingsViewModel
from desktop.views.counter_forms import CounterCard
from desktop.views.settings_forms import STYLE as FORM_STYLE
from desktop.views.settings_forms import message_label, show_text
from desktop.views.theme import BAD, LINE, MUTED, OK

STYLE = (
    FORM_STYLE
    + f"""
QLabel#slicerMark {{ font-size: 15pt; font-weight: 700; }}
QLabel#slicerCaption {{ color: {MUTED}; font-weight: 600; }}
QLabel#slicerSource, QLabel#slicerWhere {{ color: {MUTED}; font-size: 9pt; }}
QFrame#slicerLine {{ background: {LINE}; max-height: 1px; border: none; }}
QProgressBar#slicerBusy {{ max-height: 6px; border: none; background: #e3e8ef;
    border-radius: 3px; }}
QProgressBar#slicerBusy::chunk {{ background: #2f6fb3; border-radius: 3px; }}
"""
)


def _selectable(text: str = "", name: str = "") -> QLabel:
    label = QLabel(text)
    if name:
        label.setObjectName(name)
    label.setWordWrap(True)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    return label


def _mark(label: QLabel, ok: bool | None) -> None:
    label.setText({True: "✓", False: "✗", None: "…"}[ok])
    label.setStyleSheet(f"color: {({True: OK, False: BAD, None: MUTED})[ok]};")


class SlicerSettingsPanel(CounterCard):
    def __init__(self, vm: SlicerSettingsViewModel) -> None:
        super().__init__(
            "Slicer",
            "CuraEngine works out each part's print time and filament, and prices come from "
            "them. PrintDesk finds it and Cura's printer definitions by itself; an admin can "
            "choose others for this counter.",
        )
        self.vm = vm
        self.setStyleSheet(STYLE)
        layout = self.body

        found = QGridLayout()
        found.setHorizontalSpacing(12)
        found.setVerticalSpacing(4)
        found.setColumnStretch(2, 1)
        self.engine_mark, self.resources_mark = QLabel(), QLabel()
        self.engine_found = _selectable(name="slicerFound")
        self.engine_source = _selectable(name="slicerSource")
        self.resources_found = _selectable(name="slicerFound")
        self.resources_source = _selectable(name="slicerSource")
        for row, (caption, mark, text, source) in enumerate(
            (
                ("Engine", self.engine_mark, self.engine_found, self.engine_source),
                ("Definitions", self.resources_mark, self.resources_found, self.resources_source),
            )
        ):
            mark.setObjectName("slicerMark")
            mark.setFixedWidth(24)
            mark.setAlignment(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop)
            label = QLabel(caption)
            label.setObjectName("slicerCaption")
            label.setMinimumWidth(84)
            top = Qt.AlignmentFlag.AlignTop
            found.addWidget(mark, row * 2, 0, 2, 1, top)
            found.addWidget(label, row * 2, 1, top)
            found.addWidget(text, row * 2, 2)
            found.addWidget(source, row * 2 + 1, 2)
        layout.addLayout(found)
        layout.addSpacing(4)

        self.note = message_label("formNotice")
        layout.addWidget(self.note)

        self.engine, self.engine_choose = self._path_row(
            layout, "Cura&Engine program", "Pick the CuraEngine program (Alt+O)", "Ch&oose…"
        )
        self.resources, self.resources_choose = self._path_row(
            layout, "Cura &resources folder", "Pick Cura's resources folder (Alt+H)", "C&hoose…"
        )
        hint = QLabel(
            "Leave a field empty to let PrintDesk find it. The resources folder holds "
            "definitions/ and extruders/, e.g. …/share/cura/resources in a Cura install."
        )
        hint.setObjectName("fieldHint")
        hint.setWordWrap(True)
        layout.addWidget(hint)

        self.error = message_label("formMessage")
        layout.addWidget(self.error)
        buttons = QHBoxLayout()
        self.where = _selectable(f"Kept in {vm.config_file} on this computer.", "slicerWhere")
        buttons.addWidget(self.where, 1)
        self.save_button = QPushButton("&Save changes")
        self.save_button.setObjectName("primary")
        self.save_button.setToolTip("Check and keep the engine and the folder (Alt+S)")
        self.save_button.clicked.connect(vm.save)
        buttons.addWidget(self.save_button)
        layout.addLayout(buttons)

        line = QFrame()
        line.setObjectName("slicerLine")
        layout.addSpacing(6)
        layout.addWidget(line)
        layout.addSpacing(6)

        test = QHBoxLayout()
        test.setSpacing(12)
        self.trial_mark = QLabel()
        self.trial_mark.setObjectName("slicerMark")
        self.trial_mark.setFixedWidth(24)
        self.trial_mark.setAlignment(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop)
        self.trial = _selectable(name="slicerTrial")
        self.test_button = QPushButton("&Test slice")
        self.test_button.setMinimumWidth(150)
        self.test_button.setToolTip("Slice a 20 mm cube with the slicer above (Alt+T)")
        self.test_button.clicked.connect(vm.test_slice)
        test.addWidget(self.trial_mark, 0, Qt.AlignmentFlag.AlignTop)
        test.addWidget(self.trial, 1)
        test.addWidget(self.test_button, 0, Qt.AlignmentFlag.AlignTop)
        layout.addLayout(test)
        self.busy = QProgressBar()
        self.busy.setObjectName("slicerBusy")
        self.busy.setRange(0, 0)
        self.busy.setTextVisible(False)
        layout.addWidget(self.busy)

        self.dialog: QFileDialog | None = None
        self.engine.textEdited.connect(vm.set_engine)
        self.resources.textEdited.connect(vm.set_resources)
        self.engine_choose.clicked.connect(self.choose_engine)
        self.resources_choose.clicked.connect(self.choose_resources)
        vm.changed.connect(self._refresh)
        self._refresh()

    @staticmethod
    def _path_row(
        layout: QVBoxLayout, caption: str, tip: str, button_text: str
    ) -> tuple[QLineEdit, QPushButton]:
        label = QLabel(caption)
        label.setObjectName("subHeading")
        layout.addWidget(label)
        row = QHBoxLayout()
        row.setSpacing(8)
        field = QLineEdit()
        field.setPlaceholderText("Found by PrintDesk")
        field.setClearButtonEnabled(True)
        label.setBuddy(field)
        button = QPushButton(button_text)
        button.setToolTip(tip)
        row.addWidget(field, 1)
        row.addWidget(button)
        layout.addLayout(row)
        return field, button

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self.vm.finding is None:
            self.vm.look()

    # -- pickers
    def choose_engine(self) -> None:
        """Open a file picker; the program chosen goes into the field (not saved yet)."""
        start = str(Path(self.vm.engine).parent) if self.vm.engine else str(Path.home())
        dialog = QFileDialog(self, "Choose the CuraEngine program", start)
        dialog.setFileMode(QFileDialog.FileMode.ExistingFile)
        self._open(dialog, self.vm.set_engine, self.engine)

    def choose_resources(self) -> None:
        """Open a folder picker; the folder chosen goes into the field (not saved yet)."""
        start = self.vm.resources or str(Path.home())
        dialog = QFileDialog(self, "Choose Cura's resources folder", start)
        dialog.setFileMode(QFileDialog.FileMode.Directory)
        dialog.setOption(QFileDialog.Option.ShowDirsOnly)
        self._open(dialog, self.vm.set_resources, self.resources)

    def _open(self, dialog: QFileDialog, take: Callable[[str], None], field: QLineEdit) -> None:
        def chosen(path: str) -> None:
            take(path)
            field.setFocus(Qt.FocusReason.OtherFocusReason)

        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.fileSelected.connect(chosen)
        dialog.finished.connect(self._dialog_closed)
        self.dialog = dialog
        dialog.open()

    def _dialog_closed(self) -> None:
        self.dialog = None

    # -- binding
    def _show_finding(self, finding: SlicerFinding | None) -> None:
        if finding is None:
            for mark in (self.engine_mark, self.resources_mark):
                _mark(mark, None)
            self.engine_found.setText("Looking for CuraEngine…")
            self.resources_found.setText("Looking for Cura's printer definitions…")
            self.engine_source.setText("")
            self.resources_source.setText("")
            return
        _mark(self.engine_mark, not finding.engine_problem)
        _mark(self.resources_mark, not finding.resources_problem)
        self.engine_found.setText(finding.engine_text)
        self.resources_found.setText(finding.resources_text)
        self.engine_source.setText(finding.engine_said)
        self.resources_source.setText(finding.resources_said)

    def _refresh(self) -> None:
        vm = self.vm
        self._show_finding(vm.finding)
        for field, text, editable, button in (
            (self.engine, vm.engine, vm.engine_editable, self.engine_choose),
            (self.resources, vm.resources, vm.resources_editable, self.resources_choose),
        ):
            if field.text() != text:
                field.setText(text)
            field.setReadOnly(not editable)
            field.setClearButtonEnabled(editable)
            button.setEnabled(editable)
        show_text(self.note, vm.note)
        show_text(self.error, vm.error)
        self.save_button.setVisible(vm.can_edit)
        self.save_button.setEnabled(vm.can_save)
        if vm.testing:
            _mark(self.trial_mark, None)
        elif vm.trial_ok is not None:
            _mark(self.trial_mark, vm.trial_ok)
        else:
            self.trial_mark.setText("–")
            self.trial_mark.setStyleSheet(f"color: {MUTED};")
        self.trial.setText(vm.trial_text)
        self.test_button.setEnabled(not vm.testing)
        self.test_button.setText("Slicing…" if vm.testing else "&Test slice")
        self.busy.setVisible(vm.testing)
