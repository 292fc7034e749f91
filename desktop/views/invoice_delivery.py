"""The delivery card of an invoice (payment link, PDF, email) or a quote (PDF, email).

With no PDF viewer on the machine, Open PDF says where the file is and offers Save as…."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QDesktopServices, QGuiApplication
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFrame,
    QGridLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from desktop.viewmodels.invoice_delivery import InvoiceDeliveryViewModel, LinkState
from desktop.views.theme import LINE, MUTED, OK, WARN

STATE_COLOURS = {LinkState.OPEN: OK, LinkState.EXPIRED: WARN, LinkState.NONE: MUTED}

STYLE = f"""
QLabel#linkState {{ font-weight: 600; }}
QLabel#linkUrl {{ color: {MUTED}; background: #f6f8fb; border: 1px solid {LINE};
    border-radius: 5px; padding: 3px 6px; }}
"""


class InvoiceDeliveryView(QFrame):
    """A card in the editor's side column; hidden unless a saved invoice is open."""

    def __init__(
        self,
        vm: InvoiceDeliveryViewModel,
        *,
        open_url: Callable[[QUrl], bool] = QDesktopServices.openUrl,
    ) -> None:
        super().__init__()
        self.vm = vm
        self.open_url = open_url  # tests swap this so nothing opens on the desktop
        self.setObjectName("card")
        self.setStyleSheet(STYLE)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 12, 16, 14)
        layout.setSpacing(6)
        self.title = QLabel(vm.title)
        self.title.setObjectName("sectionTitle")
        self.title.setIndent(0)  # line up with the text below, as the other cards' titles do
        layout.addWidget(self.title)
        self.no_viewer: NoViewerDialog | None = None

        self.state = QLabel()
        self.state.setObjectName("linkState")
        self.state.setWordWrap(True)
        layout.addWidget(self.state)
        self.url = QLabel()
        self.url.setObjectName("linkUrl")
        self.url.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        # A Checkout URL is long: cut at the card's edge, whole in the tooltip.
        self.url.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        layout.addWidget(self.url)
        self.detail = QLabel()
        self.detail.setObjectName("muted")
        self.detail.setWordWrap(True)
        layout.addWidget(self.detail)

        buttons = QGridLayout()
        buttons.setHorizontalSpacing(8)
        buttons.setVerticalSpacing(8)
        self.create_button = QPushButton("Create payment link")
        self.create_button.clicked.connect(self._create)
        self.copy_button = QPushButton("Copy link")
        self.copy_button.clicked.connect(self._copy)
        self.email_button = QPushButton("Email invoice")
        self.email_button.clicked.connect(self._email)
        self.pdf_button = QPushButton("Open PDF")
        self.pdf_button.clicked.connect(self._open_pdf)
        for index, button in enumerate(
            (self.create_button, self.copy_button, self.email_button, self.pdf_button)
        ):
            button.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
            buttons.addWidget(button, index // 2, index % 2)
        buttons.setColumnStretch(0, 1)
        buttons.setColumnStretch(1, 1)
        layout.addSpacing(4)
        layout.addLayout(buttons)
        self.note = QLabel()
        self.note.setWordWrap(True)
        layout.addWidget(self.note)

        vm.changed.connect(self.sync)
        vm.pdf_ready.connect(self._pdf_ready)
        self.sync()

    def sync(self) -> None:
        vm = self.vm
        self.setVisible(vm.visible)
        self.title.setText(vm.title)
        state = vm.link_state
        self.state.setText(vm.state_text)
        self.state.setVisible(bool(vm.state_text))
        self.state.setStyleSheet(f"color: {STATE_COLOURS[state]};")
        url = vm.payment_url
        self.url.setText(url)
        self.url.setToolTip(url)
        self.url.setVisible(bool(url))
        self.detail.setText(vm.detail_text)
        self.detail.setVisible(bool(vm.detail_text))
        self.create_button.setText(vm.create_link_text)
        # The next step is the one in the accent colour: make a link, then copy it.
        self._emphasise(self.create_button, not url)
        self._emphasise(self.copy_button, bool(url))
        self.create_button.setVisible(vm.owed)
        self.create_button.setEnabled(vm.can_create_link)
        self.copy_button.setVisible(vm.owed)
        self.copy_button.setEnabled(vm.can_copy_link)
        self.copy_button.setToolTip("Copy the payment link for the client." if url else "")
        self.email_button.setText(vm.email_text)
        self.email_button.setEnabled(vm.can_email)
        what = "quote" if vm.is_quote else "invoice"
        self.email_button.setToolTip(
            f"Email the {what} PDF" + (" with the payment link" if url else "") + " to the client."
        )
        self.pdf_button.setEnabled(vm.can_open_pdf)
        self.pdf_button.setToolTip("Make the PDF and open it.")
        reason = vm.blocked_reason
        self.note.setText(reason)
        self.note.setStyleSheet(f"color: {MUTED if vm.busy else WARN};")
        self.note.setVisible(bool(reason))

    @staticmethod
    def _emphasise(button: QPushButton, primary: bool) -> None:
        name = "primary" if primary else ""
        if button.objectName() != name:
            button.setObjectName(name)
            button.style().unpolish(button)
            button.style().polish(button)

    # -- commands
    def _create(self) -> None:
        self.vm.create_link()

    def _copy(self) -> None:
        url = self.vm.payment_url
        if url:
            QGuiApplication.clipboard().setText(url)
            self.vm.link_copied()

    def _email(self) -> None:
        self.vm.email_invoice()

    def _open_pdf(self) -> None:
        self.vm.open_pdf()  # `pdf_ready` brings the link once the PDF is stored

    def _pdf_ready(self, url: str) -> None:
        if url and not self.open_url(QUrl(url)):
            # Nothing on this machine opens PDFs: say where the file is, offer a copy.
            self.no_viewer = NoViewerDialog(self.vm, self)
            self.no_viewer.finished.connect(self._no_viewer_closed)
            self.no_viewer.open()

    def _no_viewer_closed(self) -> None:
        self.no_viewer = None


class NoViewerDialog(QDialog):
    """No program here opens PDFs: where the PDF is, Copy path, and Save as… elsewhere."""

    def __init__(self, vm: InvoiceDeliveryViewModel, parent: QWidget) -> None:
        super().__init__(parent)
        self.vm = vm
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.setWindowTitle("No PDF viewer")
        self.setMinimumWidth(460)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(22, 20, 22, 16)
        layout.setSpacing(10)
        heading = QLabel(f"{vm.pdf_name} is ready, but nothing here opens PDFs")
        heading.setObjectName("sectionTitle")
        heading.setWordWrap(True)
        layout.addWidget(heading)
        where = vm.pdf_path or vm.pdf_url
        self.where = QLabel(
            f"It is saved at:<br><b>{where}</b>" if vm.pdf_path else f"It is stored at {where}"
        )
        self.where.setWordWrap(True)
        self.where.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.where)
        note = QLabel("Save a copy where you can open it, or install a PDF viewer.")
        note.setObjectName("muted")
        note.setWordWrap(True)
        layout.addWidget(note)
        self.file_dialog: QFileDialog | None = None
        buttons = QDialogButtonBox()
        self.copy_button = buttons.addButton("Copy path", QDialogButtonBox.ButtonRole.ActionRole)
        self.copy_button.clicked.connect(self._copy)
        self.save_button = buttons.addButton("Save as…", QDialogButtonBox.ButtonRole.AcceptRole)
        self.save_button.setObjectName("primary")
        self.save_button.setDefault(True)
        self.save_button.clicked.connect(self.save_as)
        self.close_button = buttons.addButton(QDialogButtonBox.StandardButton.Close)
        self.close_button.clicked.connect(self.reject)
        layout.addSpacing(4)
        layout.addWidget(buttons)

    def _copy(self) -> None:
        QGuiApplication.clipboard().setText(self.vm.pdf_path or self.vm.pdf_url)

    def save_as(self) -> None:
        dialog = QFileDialog(self, f"Save {self.vm.pdf_name} as")
        dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
        dialog.setNameFilter("PDF (*.pdf)")
        dialog.setDefaultSuffix("pdf")
        dialog.selectFile(self.vm.pdf_name)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.fileSelected.connect(self._chosen)
        self.file_dialog = dialog
        dialog.open()

    def _chosen(self, path: str) -> None:
        self.file_dialog = None
        if self.vm.save_pdf_copy(path):
            self.accept()
