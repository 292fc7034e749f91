"""The settings screen: a list of sections on the left, the chosen one on the right.

The shop's own settings are forms that save per section; printers, materials and users are
tables with their dialogs. Staff see it all read-only, with a note saying so.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from desktop.viewmodels.backup_settings import BackupSettingsViewModel
from desktop.viewmodels.context import AppContext
from desktop.viewmodels.email_settings import EmailSettingsViewModel
from desktop.viewmodels.health import HealthViewModel
from desktop.viewmodels.payment_settings import PaymentSettingsViewModel
from desktop.viewmodels.settings import SettingsViewModel
from desktop.viewmodels.shell import ShellViewModel
from desktop.viewmodels.slicer_settings import SlicerSettingsViewModel
from desktop.views.backup_settings import BackupSettingsPanel
from desktop.views.email_settings import EmailSettingsPanel
from desktop.views.health import HealthPanel
from desktop.views.jobs import PRINTER_STATUS_COLOURS
from desktop.views.loading import LoadingBadge
from desktop.views.page import Page
from desktop.views.payment_settings import PaymentSettingsPanel
from desktop.views.settings_catalog import (
    CatalogPanel,
    MaterialsPanel,
    PrintersPanel,
    UsersPanel,
)
from desktop.views.settings_forms import SectionForm
from desktop.views.slicer_settings import SlicerSettingsPanel
from desktop.views.theme import ACCENT, INK, MUTED

NAV_WIDTH = 210
KEY_ROLE = Qt.ItemDataRole.UserRole

STYLE = f"""
QListWidget#settingsNav {{ background: transparent; border: none; outline: none; }}
QListWidget#settingsNav::item {{ padding: 7px 12px; border-radius: 6px; color: {INK};
    margin: 1px 0; }}
QListWidget#settingsNav::item:selected {{ background: #dbe9f8; color: {ACCENT};
    font-weight: 600; }}
QListWidget#settingsNav::item:hover:!selected {{ background: #e3e8ef; }}
QListWidget#settingsNav::item:disabled {{ color: {MUTED}; font-size: 8.5pt; font-weight: 700;
    padding: 12px 12px 4px 12px; background: transparent; }}
QFrame#readOnly {{ background: #eaf2fb; border: 1px solid #bcd4ee; border-radius: 8px; }}
QFrame#readOnly QLabel {{ color: #23476e; }}
"""

GROUPS = (
    ("SHOP", ("business", "money", "numbering", "pricing", "jobs", "files")),
    ("EQUIPMENT & PEOPLE", ("printers", "materials", "users")),
    ("THIS COUNTER", ("health", "slicer", "backups", "email", "payments")),
)


class SettingsPage(Page):
    def __init__(
        self,
        vm: SettingsViewModel,
        health: HealthPanel | None = None,
        backups: BackupSettingsPanel | None = None,
        email: EmailSettingsPanel | None = None,
        payments: PaymentSettingsPanel | None = None,
        slicer: SlicerSettingsPanel | None = None,
    ) -> None:
        super().__init__(
            "Settings", "Your shop's details and terms, its printers, materials and users"
        )
        self.vm = vm
        self.setStyleSheet(STYLE)
        self.loading = LoadingBadge(vm.loading_changed, loading=vm.loading)
        self.action_row.addWidget(self.loading)

        if vm.read_only_note:
            banner = QFrame()
            banner.setObjectName("readOnly")
            row = QHBoxLayout(banner)
            row.setContentsMargins(14, 9, 14, 9)
            self.read_only = QLabel(vm.read_only_note)
            self.read_only.setWordWrap(True)
            row.addWidget(self.read_only)
            self.add(banner)
        else:
            self.read_only = QLabel()

        self.nav = QListWidget()
        self.nav.setObjectName("settingsNav")
        self.nav.setFixedWidth(NAV_WIDTH)
        self.nav.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.stack = QStackedWidget()
        self.forms: dict[str, SectionForm] = {}
        self.printers = PrintersPanel(vm.printers)
        self.materials = MaterialsPanel(vm.materials)
        self.users = UsersPanel(vm.users)
        self.panels: dict[str, CatalogPanel] = {
            "printers": self.printers,
            "materials": self.materials,
            "users": self.users,
        }
        # Pages the settings view model does not know: shown here, not saved or stepped through.
        extra = {
            "health": health,
            "backups": backups,
            "email": email,
            "payments": payments,
            "slicer": slicer,
        }
        self.extra: dict[str, QWidget] = {k: w for k, w in extra.items() if w is not None}
        titles = {entry.key: entry.title for entry in vm.pages}
        titles |= {
            "health": "Health",
            "slicer": "Slicer",
            "backups": "Backups",
            "email": "Email",
            "payments": "Payments",
        }
        self._items: dict[str, QListWidgetItem] = {}
        self._widgets: dict[str, QWidget] = {}
        for group, keys in GROUPS:
            header = QListWidgetItem(group)
            header.setFlags(Qt.ItemFlag.NoItemFlags)
            self.nav.addItem(header)
            for key in keys:
                if key in extra and key not in self.extra:
                    continue
                item = QListWidgetItem(titles[key])
                item.setData(KEY_ROLE, key)
                self.nav.addItem(item)
                self._items[key] = item
                section = vm.section(key)
                if key in self.extra:
                    widget: QWidget = self.extra[key]
                elif section is not None:
                    form = SectionForm(section)
                    self.forms[key] = form
                    section.dirty_changed.connect(lambda key=key: self._mark_dirty(key))
                    widget = form
                else:
                    widget = self._panel_page(self.panels[key])
                self._widgets[key] = widget
                self.stack.addWidget(widget)
        self.nav.currentItemChanged.connect(self._nav_changed)

        body = QWidget()
        row = QHBoxLayout(body)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(18)
        row.addWidget(self.nav)
        row.addWidget(self.stack, 1)
        self.add(body, 1)

        QShortcut(QKeySequence(QKeySequence.StandardKey.Save), self, self.save_current)
        QShortcut(QKeySequence(QKeySequence.StandardKey.New), self, self.new_in_current)
        QShortcut(QKeySequence(QKeySequence.StandardKey.Refresh), self, vm.refresh)
        QShortcut(QKeySequence("Ctrl+PgDown"), self, lambda: self._step(1))
        QShortcut(QKeySequence("Ctrl+PgUp"), self, lambda: self._step(-1))
        vm.current_changed.connect(self._show)
        self._show(vm.current)

    @staticmethod
    def _panel_page(panel: CatalogPanel) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.setContentsMargins(0, 0, 6, 0)
        layout.addWidget(panel, 1)
        return page

    # -- commands
    def activated(self) -> None:
        self.vm.load()

    def section_keys(self) -> list[str]:
        return [entry.key for entry in self.vm.pages]

    def show_section(self, key: str) -> None:
        self.vm.show(key)

    def save_current(self) -> None:
        form = self.forms.get(self.vm.current)
        if form is not None and form.vm.can_edit:
            self.vm.save_current()  # a refusal focuses its field when it comes back

    def new_in_current(self) -> None:
        panel = self.panels.get(self.vm.current)
        if isinstance(panel, PrintersPanel | MaterialsPanel | UsersPanel):
            panel.add()

    # -- binding
    def _show(self, key: str) -> None:
        self.stack.setCurrentWidget(self._widgets[key])
        item = self._items[key]
        if self.nav.currentItem() is not item:
            self.nav.setCurrentItem(item)

    def _nav_changed(self, item: QListWidgetItem | None, _previous: object) -> None:
        key = item.data(KEY_ROLE) if item is not None else None
        if key in self.extra:
            self.stack.setCurrentWidget(self.extra[key])
        elif isinstance(key, str):
            self.vm.show(key)
            self._show(key)

    def _step(self, step: int) -> None:
        keys = self.section_keys()
        here = keys.index(self.vm.current)
        self.vm.show(keys[(here + step) % len(keys)])

    def _mark_dirty(self, key: str) -> None:
        section = self.vm.section(key)
        if section is None:
            return
        title = section.title + ("  •" if section.dirty else "")
        self._items[key].setText(title)
        self._items[key].setToolTip("Not saved yet" if section.dirty else "")


def build_settings_page(ctx: AppContext, shell: ShellViewModel) -> SettingsPage:
    """The settings screen and its view model (``page.vm``): call ``page.vm.refresh()`` when
    another counter changes printers, materials or the settings."""
    colours = {status.value: colour for status, colour in PRINTER_STATUS_COLOURS.items()}
    return SettingsPage(
        SettingsViewModel(ctx, shell, status_colours=colours, muted=MUTED),
        HealthPanel(HealthViewModel(ctx)),
        BackupSettingsPanel(BackupSettingsViewModel(ctx)) if ctx.actor.is_admin else None,
        EmailSettingsPanel(EmailSettingsViewModel(ctx)),
        PaymentSettingsPanel(PaymentSettingsViewModel(ctx)),
        slicer=SlicerSettingsPanel(SlicerSettingsViewModel(ctx)),
    )
