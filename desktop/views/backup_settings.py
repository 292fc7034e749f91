"""Settings → Backups: the folder this counter backs up to, the daily switch, the last backup
and a button to back up now."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
)

from desktop.viewmodels.backup_settings import BackupSettingsViewModel
from desktop.views.counter_forms import CounterCard
from desktop.views.settings_forms import STYLE as FORM_STYLE
from desktop.views.settings_forms import message_label, show_text
from desktop.views.theme import BAD, LINE, MUTED, OK

STYLE = (
    FORM_STYLE
    + f"""
QLabel#backupMark {{ font-size: 15pt; font-weight: 700; }}
QLabel#backupWhere {{ color: {MUTED}; font-size: 9pt; }}
QFrame#backupLine {{ background: {LINE}; max-height: 1px; border: none; }}
QProgressBar#backupBusy {{ max-height: 6px; border: none; background: #e3e8ef;
    border-radius: 3px; }}
QProgressBar#backupBusy::chunk {{ background: #2f6fb3; border-radius: 3px; }}
"""
)


def _hint(text: str) -> QLabel:
    label = QLabel(text)
    label.setObjectName("fieldHint")
    label.setWordWrap(True)
    return label


class BackupSettingsPanel(CounterCard):
    def __init__(self, vm: BackupSettingsViewModel) -> None:
        super().__init__(
            "Backups",
            "One archive of this counter's database and files. Keep the folder on another "
            "disk or a synced drive, so a broken computer does not take the backups with it.",
        )
        self.vm = vm
        self.setStyleSheet(STYLE)
        layout = self.body

        self.env_note = message_label("formNotice")
        layout.addWidget(self.env_note)

        folder_label = QLabel("&Backup folder")
        folder_label.setObjectName("subHeading")
        layout.addWidget(folder_label)
        row = QHBoxLayout()
        row.setSpacing(8)
        self.folder = QLineEdit()
        self.folder.setPlaceholderText(str(Path.home() / "PrintDesk backups"))
        self.folder.setClearButtonEnabled(True)
        folder_label.setBuddy(self.folder)
        self.choose_button = QPushButton("C&hoose…")
        self.choose_button.setToolTip("Pick the folder (Alt+H)")
        self.choose_button.clicked.connect(self.choose_folder)
        row.addWidget(self.folder, 1)
        row.addWidget(self.choose_button)
        layout.addLayout(row)

        self.daily = QCheckBox("Back up every &day")
        layout.addWidget(self.daily, 0, Qt.AlignmentFlag.AlignLeft)
        layout.addWidget(
            _hint(
                "While PrintDesk is open it checks every 15 minutes and backs up when the last "
                "good backup is more than a day old."
            )
        )

        self.error = message_label("formMessage")
        layout.addWidget(self.error)

        buttons = QHBoxLayout()
        self.where = QLabel(f"Kept in {vm.config_file} on this computer.")
        self.where.setObjectName("backupWhere")
        self.where.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        buttons.addWidget(self.where, 1)
        self.save_button = QPushButton("&Save changes")
        self.save_button.setObjectName("primary")
        self.save_button.setToolTip("Save the folder and the daily switch (Alt+S)")
        self.save_button.clicked.connect(vm.save)
        buttons.addWidget(self.save_button)
        layout.addLayout(buttons)

        line = QFrame()
        line.setObjectName("backupLine")
        layout.addSpacing(6)
        layout.addWidget(line)
        layout.addSpacing(6)

        status = QHBoxLayout()
        status.setSpacing(12)
        self.mark = QLabel()
        self.mark.setObjectName("backupMark")
        self.mark.setFixedWidth(24)
        self.mark.setAlignment(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop)
        self.last = QLabel()
        self.last.setObjectName("backupLast")
        self.last.setWordWrap(True)
        self.last.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.now_button = QPushButton("Back up &now")
        self.now_button.setMinimumWidth(150)
        self.now_button.setToolTip("Back up to the folder above now (Alt+N)")
        self.now_button.clicked.connect(vm.back_up_now)
        status.addWidget(self.mark, 0, Qt.AlignmentFlag.AlignTop)
        status.addWidget(self.last, 1)
        status.addWidget(self.now_button, 0, Qt.AlignmentFlag.AlignTop)
        layout.addLayout(status)
        self.busy = QProgressBar()
        self.busy.setObjectName("backupBusy")
        self.busy.setRange(0, 0)  # pg_dump reports no progress: a moving bar while it works
        self.busy.setTextVisible(False)
        layout.addWidget(self.busy)

        self.dialog: QFileDialog | None = None
        self.folder.textEdited.connect(vm.set_folder)
        self.daily.toggled.connect(vm.set_daily)
        vm.changed.connect(self._refresh)
        self._refresh()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self.vm.refresh()

    def choose_folder(self) -> None:
        """Open the folder picker; the chosen folder goes into the field (not saved yet)."""
        start = self.vm.folder or str(Path.home())
        dialog = QFileDialog(self, "Choose the backup folder", start)
        dialog.setFileMode(QFileDialog.FileMode.Directory)
        dialog.setOption(QFileDialog.Option.ShowDirsOnly)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.fileSelected.connect(self._chosen)
        dialog.finished.connect(self._dialog_closed)
        self.dialog = dialog
        dialog.open()

    def _chosen(self, folder: str) -> None:
        self.vm.set_folder(folder)
        self.folder.setFocus(Qt.FocusReason.OtherFocusReason)

    def _dialog_closed(self) -> None:
        self.dialog = None

    def _refresh(self) -> None:
        vm = self.vm
        if self.folder.text() != vm.folder:
            self.folder.setText(vm.folder)
        self.folder.setReadOnly(vm.folder_from_env)
        self.choose_button.setEnabled(not vm.folder_from_env)
        self.daily.blockSignals(True)
        self.daily.setChecked(vm.daily)
        self.daily.blockSignals(False)
        self.daily.setEnabled(not vm.daily_from_env)
        show_text(self.env_note, vm.env_note)
        show_text(self.error, vm.error)
        self.save_button.setEnabled(vm.can_save)
        record = vm.last_backup
        if vm.busy:
            self.mark.setText("…")
            colour = MUTED
        elif record is None or not record.ok:
            self.mark.setText("✗" if record else "–")
            colour = BAD if record else MUTED
        else:
            self.mark.setText("✓")
            colour = OK
        self.mark.setStyleSheet(f"color: {colour};")
        self.last.setText(vm.last_backup_text)
        self.now_button.setEnabled(not vm.busy)
        self.now_button.setText("Backing up…" if vm.busy else "Back up &now")
        self.busy.setVisible(vm.busy)
