"""The invoice's delivery card: payment link through the Stripe stand-in, PDF in the pdfs bucket,
email through aiosmtpd; the view model on the real database, then the buttons with pytest-qt."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QApplication,
    QDialogButtonBox,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)
from pytestqt.qtbot import QtBot

from core.actor import Actor
from core.config import AppConfig
from core.db.engine import Database
from core.mail import MailSettings
from core.payments.stripe_client import StripeGateway
from core.services import invoices
from core.storage import PDFS, LocalStorage
from desktop.viewmodels.document_editor import DocumentEditorViewModel
from desktop.viewmodels.documents import DocumentKind
from desktop.viewmodels.invoice_delivery import DeliveryServices, LinkState
from desktop.viewmodels.notifier import Level
from desktop.views.document_editor import DocumentEditorView
from desktop.views.theme import STYLESHEET
from tests.gui.editor_support import load_and_wait
from tests.gui.shots import keep_shot
from tests.gui.test_documents_support import Notices, make_ctx
from tests.mail.conftest import SENDER, Mailbox, free_port
from tests.payments.conftest import gateway_for, new_invoice
from tests.stripe_standin import StripeStandin


@pytest.fixture
def storage(tmp_path: Path) -> LocalStorage:
    store = LocalStorage(tmp_path / "storage")
    store.ensure_buckets()
    return store


@pytest.fixture
def gateway() -> Iterator[StripeGateway]:
    with StripeStandin() as server:
        gw = gateway_for(server)
        yield gw
        gw.close()


@pytest.fixture
def mailbox() -> Iterator[tuple[Mailbox, int]]:
    box = Mailbox()
    port = free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    yield box, port
    controller.stop()


def smtp(port: int) -> MailSettings:
    return MailSettings(
        host="127.0.0.1", port=port, security="none", from_address=SENDER, timeout_s=10.0
    )


def not_configured_mail() -> MailSettings:
    return MailSettings.from_config(AppConfig(smtp_host=None))


def services(
    gateway: StripeGateway, storage: LocalStorage, mail_port: int | None = None
) -> DeliveryServices:
    return DeliveryServices(
        stripe=lambda: gateway,
        storage=lambda: storage,
        mail=(lambda: smtp(mail_port)) if mail_port is not None else not_configured_mail,
    )


def open_invoice(
    database: Database, actor: Actor, delivery: DeliveryServices
) -> tuple[DocumentEditorViewModel, Notices]:
    ctx = make_ctx(database, actor)
    notices = Notices(ctx.notifier)
    invoice = new_invoice(database, actor)
    vm = DocumentEditorViewModel(ctx, DocumentKind.INVOICE, delivery=delivery)
    assert load_and_wait(vm, invoice.id)
    return vm, notices


# -- the view model ------------------------------------------------------------------------


def done(qtbot: QtBot, signal: Any, start: Callable[[], bool]) -> Any:
    """Start a delivery call (it runs off the GUI thread) and wait for what it brings."""
    with qtbot.waitSignal(signal, timeout=30_000) as got:
        assert start()
    return got.args[0]


def settled(qtbot: QtBot, delivery: Any, start: Callable[[], bool]) -> bool:
    """Start a delivery call and wait until the card is no longer busy; what start said."""
    started = start()
    qtbot.waitUntil(lambda: not delivery.busy, timeout=30_000)
    return started


def test_a_link_is_made_then_reused(
    qtbot: QtBot, database: Database, staff: Actor, gateway: StripeGateway, storage: LocalStorage
) -> None:
    vm, notices = open_invoice(database, staff, services(gateway, storage))
    delivery = vm.delivery
    assert delivery.visible
    assert delivery.link_state.value == "none"  # (not `is`: mypy would keep the narrowing)
    assert delivery.state_text == "No payment link yet"
    assert delivery.can_create_link and not delivery.can_copy_link

    link = done(qtbot, delivery.link_made, delivery.create_link)
    assert link is not None and not link.reused
    assert delivery.link_state is LinkState.OPEN
    assert delivery.payment_url == link.url
    assert delivery.state_text.startswith("Open until ")
    assert delivery.can_copy_link
    assert link.expires_at > dt.datetime.now(dt.UTC) + dt.timedelta(minutes=25)
    # The editor follows: the invoice it shows carries the session.
    invoice = vm.document
    assert isinstance(invoice, invoices.InvoiceView)
    assert invoice.stripe_session_id == link.session_id
    assert "ready, open until" in notices.texts[-1]

    again = done(qtbot, delivery.link_made, delivery.create_link)
    assert again is not None and again.reused
    assert again.url == link.url and again.session_id == link.session_id
    assert "lasts until" in notices.texts[-1]
    assert all(n.level is Level.INFO for n in notices.all)


def test_without_a_stripe_key_it_says_where_to_set_one(
    qtbot: QtBot,
    database: Database,
    staff: Actor,
    storage: LocalStorage,
    mailbox: tuple[Mailbox, int],
) -> None:
    no_key = StripeGateway(None)
    delivery_services = DeliveryServices(
        stripe=lambda: no_key, storage=lambda: storage, mail=lambda: smtp(mailbox[1])
    )
    vm, notices = open_invoice(database, staff, delivery_services)
    made: list[object] = []
    vm.delivery.link_made.connect(made.append)
    settled(qtbot, vm.delivery, vm.delivery.create_link)
    assert made == []  # no link came back
    assert [n.level for n in notices.all] == [Level.WARNING]
    assert "STRIPE_SECRET_KEY" in notices.texts[0] or "Stripe" in notices.texts[0]
    assert vm.delivery.link_state is LinkState.NONE
    # Nothing else is held back: the PDF and the email still work.
    assert vm.delivery.can_email and vm.delivery.can_open_pdf and not vm.delivery.busy
    assert done(qtbot, vm.delivery.emailed, vm.delivery.email_invoice) is not None
    assert len(mailbox[0].delivered) == 1


def test_email_carries_the_stored_pdf_and_the_open_link(
    qtbot: QtBot,
    database: Database,
    staff: Actor,
    gateway: StripeGateway,
    storage: LocalStorage,
    mailbox: tuple[Mailbox, int],
) -> None:
    box, port = mailbox
    vm, notices = open_invoice(database, staff, services(gateway, storage, port))
    link = done(qtbot, vm.delivery.link_made, vm.delivery.create_link)
    assert link is not None

    sent = done(qtbot, vm.delivery.emailed, vm.delivery.email_invoice)
    assert sent is not None and sent.to == "ada@example.com"
    assert len(box.delivered) == 1
    message = box.delivered[0].message()
    attachments = list(message.iter_attachments())
    assert [a.get_filename() for a in attachments] == [f"{link.invoice_number}.pdf"]
    pdf = attachments[0].get_content()
    assert isinstance(pdf, bytes) and pdf.startswith(b"%PDF")
    # The attachment is the very PDF kept in the pdfs bucket, which the invoice points at.
    stored = vm.delivery.stored_pdf
    assert stored is not None and storage.get(PDFS, stored.key) == pdf
    invoice = vm.document
    assert isinstance(invoice, invoices.InvoiceView)
    with database.session() as s:
        assert invoices.get_invoice_row(s, invoice.id).pdf_key == stored.key
    body = message.get_body(("plain",))
    assert body is not None and link.url in body.get_content()
    assert notices.texts[-1] == f"{link.invoice_number} emailed to ada@example.com with its PDF."


def test_mail_not_set_up_or_down_is_said_plainly(
    qtbot: QtBot, database: Database, staff: Actor, gateway: StripeGateway, storage: LocalStorage
) -> None:
    vm, notices = open_invoice(database, staff, services(gateway, storage))
    sent: list[object] = []
    vm.delivery.emailed.connect(sent.append)
    settled(qtbot, vm.delivery, vm.delivery.email_invoice)
    assert sent == []  # nothing was sent
    assert notices.all[-1].level is Level.WARNING
    assert notices.texts[-1].startswith("Email is not set up")

    dead = free_port()  # nothing listens there
    down = DeliveryServices(
        stripe=lambda: gateway, storage=lambda: storage, mail=lambda: smtp(dead)
    )
    vm2, notices2 = open_invoice(database, staff, down)
    vm2.delivery.emailed.connect(sent.append)
    settled(qtbot, vm2.delivery, vm2.delivery.email_invoice)
    assert sent == []
    assert notices2.all[-1].level is Level.WARNING
    assert f"127.0.0.1:{dead}" in notices2.texts[-1]
    assert not vm2.delivery.busy and vm2.delivery.can_email


def test_open_pdf_stores_it_and_hands_back_a_local_file(
    qtbot: QtBot, database: Database, staff: Actor, gateway: StripeGateway, storage: LocalStorage
) -> None:
    vm, _ = open_invoice(database, staff, services(gateway, storage))
    url = done(qtbot, vm.delivery.pdf_ready, vm.delivery.open_pdf)
    assert url.startswith("file://") and "token=" not in url
    path = Path(vm.delivery.pdf_path)
    assert path.is_file() and path.read_bytes().startswith(b"%PDF")
    assert QUrl(url).toLocalFile() == str(path)
    assert path.is_relative_to(storage.root)


def test_expired_link_and_unsaved_edits(
    database: Database, staff: Actor, gateway: StripeGateway, storage: LocalStorage
) -> None:
    vm, notices = open_invoice(database, staff, services(gateway, storage))
    invoice = vm.document
    assert isinstance(invoice, invoices.InvoiceView)
    past = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    vm.delivery.set_invoice(
        replace(
            invoice,
            stripe_session_id="cs_test_old",
            stripe_checkout_url="https://checkout.stripe.com/c/pay/cs_test_old",
            stripe_session_expires_at=past,
        )
    )
    assert vm.delivery.link_state is LinkState.EXPIRED
    assert vm.delivery.state_text.startswith("Expired ")
    assert vm.delivery.payment_url == "" and not vm.delivery.can_copy_link
    assert vm.delivery.create_link_text == "New payment link"

    vm.set_notes("Collect on Friday")
    assert vm.delivery.blocked_reason == "Save your changes first."
    assert not vm.delivery.can_create_link and not vm.delivery.can_email
    assert not vm.delivery.create_link()  # refused at once: nothing started
    assert notices.texts[-1] == "Save your changes first."


def test_new_documents_have_no_delivery_card(database: Database, staff: Actor) -> None:
    ctx = make_ctx(database, staff)
    vm = DocumentEditorViewModel(ctx, DocumentKind.QUOTE)
    assert load_and_wait(vm)
    assert not vm.delivery.visible
    vm = DocumentEditorViewModel(ctx, DocumentKind.INVOICE)
    assert load_and_wait(vm)
    assert not vm.delivery.visible


# -- the buttons -----------------------------------------------------------------------------


def test_create_then_copy_puts_the_link_on_the_clipboard(
    qtbot: QtBot,
    database: Database,
    staff: Actor,
    gateway: StripeGateway,
    storage: LocalStorage,
    tmp_path: Path,
) -> None:
    vm, notices = open_invoice(database, staff, services(gateway, storage))
    window = QWidget()
    window.setStyleSheet(STYLESHEET)
    editor = DocumentEditorView(vm)
    QVBoxLayout(window).addWidget(editor)
    qtbot.addWidget(window)
    window.resize(1240, 860)
    window.show()
    qtbot.waitExposed(window)

    card = editor.delivery
    assert card.isVisible()
    assert card.create_button.isEnabled() and not card.copy_button.isEnabled()
    QGuiApplication.clipboard().clear()

    with qtbot.waitSignal(vm.delivery.link_made, timeout=30_000):
        qtbot.mouseClick(card.create_button, Qt.MouseButton.LeftButton)
    assert vm.delivery.link_state is LinkState.OPEN
    assert card.copy_button.isEnabled()
    assert card.state.text().startswith("Open until ")
    assert card.url.text() == vm.delivery.payment_url

    qtbot.mouseClick(card.copy_button, Qt.MouseButton.LeftButton)
    assert QGuiApplication.clipboard().text() == vm.delivery.payment_url
    assert vm.delivery.payment_url.startswith("http")
    assert notices.texts[-1].startswith("Payment link copied")

    opened: list[QUrl] = []

    def record(url: QUrl) -> bool:
        opened.append(url)
        return True

    card.open_url = record
    qtbot.mouseClick(card.pdf_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: len(opened) == 1, timeout=30_000)  # stored off the GUI thread
    assert len(opened) == 1 and opened[0].isLocalFile()
    assert Path(opened[0].toLocalFile()).is_file()

    QApplication.processEvents()
    shot = tmp_path / "invoice_delivery.png"
    assert window.grab().save(str(shot))
    keep = os.environ.get("PRINTDESK_SHOTS")
    if keep:
        window.grab().save(str(Path(keep) / "invoice_delivery.png"))
    window.close()


def _editor_window(qtbot: QtBot, vm: DocumentEditorViewModel) -> tuple[QWidget, DocumentEditorView]:
    window = QWidget()
    window.setStyleSheet(STYLESHEET)
    editor = DocumentEditorView(vm)
    QVBoxLayout(window).addWidget(editor)
    qtbot.addWidget(window)
    window.resize(1280, 800)
    window.show()
    qtbot.waitExposed(window)
    return window, editor


def test_open_pdf_with_no_viewer_says_where_it_is_and_saves_a_copy(
    qtbot: QtBot,
    database: Database,
    staff: Actor,
    gateway: StripeGateway,
    storage: LocalStorage,
    tmp_path: Path,
) -> None:
    """A counter PC without a PDF viewer: the desktop refuses to open the file
    (QDesktopServices.openUrl answers False), and the card says where the PDF is instead of
    failing silently; Save as… puts a copy where the person chooses."""
    vm, notices = open_invoice(database, staff, services(gateway, storage))
    window, editor = _editor_window(qtbot, vm)
    card = editor.delivery
    card.open_url = lambda _url: False  # what openUrl answers with no program for PDFs
    qtbot.mouseClick(card.pdf_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: card.no_viewer is not None and card.no_viewer.isVisible())
    dialog = card.no_viewer
    assert dialog is not None
    stored = Path(vm.delivery.pdf_path)
    assert stored.is_file() and str(stored) in dialog.where.text()
    keep_shot(dialog, "open-pdf-no-viewer.png")

    QGuiApplication.clipboard().clear()
    qtbot.mouseClick(dialog.copy_button, Qt.MouseButton.LeftButton)
    assert QGuiApplication.clipboard().text() == str(stored)

    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.file_dialog is not None and dialog.file_dialog.isVisible())
    chooser = dialog.file_dialog
    assert chooser is not None
    name = chooser.findChild(QLineEdit, "fileNameEdit")
    assert name is not None and name.text() == "INV-0001.pdf"
    target = tmp_path / "for the client.pdf"
    chooser.setDirectory(str(tmp_path))  # as if the person went to that folder
    name.selectAll()
    qtbot.keyClicks(name, target.name)
    buttons = chooser.findChild(QDialogButtonBox, "buttonBox")
    assert buttons is not None
    save = buttons.button(QDialogButtonBox.StandardButton.Save)
    with qtbot.waitSignal(dialog.finished):
        qtbot.mouseClick(save, Qt.MouseButton.LeftButton)
    assert target.read_bytes() == stored.read_bytes()
    assert notices.texts[-1] == f"INV-0001.pdf saved to {target}."
    window.close()


def test_the_quote_editor_makes_the_pdf_and_emails_the_quote(
    qtbot: QtBot,
    database: Database,
    staff: Actor,
    gateway: StripeGateway,
    storage: LocalStorage,
    mailbox: tuple[Mailbox, int],
) -> None:
    """The same card as an invoice's, without the payment link: Open PDF stores the quote's
    PDF; Email quote sends it with the PDF attached and marks the draft as sent."""
    from core.enums import QuoteStatus
    from core.services import quotes
    from tests.factories import item, make_client

    box, port = mailbox
    client = make_client(database)
    with database.session() as s:
        quote = quotes.create_quote(s, staff, client, [item("Bracket", "2", "50.00")])
    ctx = make_ctx(database, staff)
    notices = Notices(ctx.notifier)
    vm = DocumentEditorViewModel(ctx, DocumentKind.QUOTE, delivery=services(gateway, storage, port))
    assert load_and_wait(vm, quote.id)
    window, editor = _editor_window(qtbot, vm)
    card = editor.delivery
    assert card.isVisible() and card.title.text() == "PDF & email"
    assert not card.create_button.isVisible() and not card.copy_button.isVisible()
    assert card.email_button.text() == "Email quote"

    opened: list[QUrl] = []

    def viewer(url: QUrl) -> bool:
        opened.append(url)
        return True

    card.open_url = viewer
    qtbot.mouseClick(card.pdf_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: len(opened) == 1, timeout=30_000)  # stored off the GUI thread
    assert len(opened) == 1
    pdf = Path(opened[0].toLocalFile())
    assert pdf.name == "QT-0001.pdf" and pdf.read_bytes().startswith(b"%PDF")
    assert storage.get(PDFS, "quotes/QT-0001.pdf") == pdf.read_bytes()

    qtbot.waitUntil(lambda: card.email_button.isEnabled())  # the PDF's call has answered
    qtbot.mouseClick(card.email_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: len(box.delivered) == 1)
    message = box.delivered[0].message()
    assert "QT-0001" in str(message["Subject"])
    attachments = [part.get_filename() for part in message.iter_attachments()]
    assert attachments == ["QT-0001.pdf"]
    qtbot.waitUntil(lambda: not vm.delivery.busy)  # the call answers after the server has it
    assert notices.texts[-1].startswith("QT-0001 emailed to ")
    with database.session() as s:
        assert quotes.get_quote(s, quote.id).status is QuoteStatus.PENDING  # sent, awaiting
    qtbot.waitUntil(lambda: editor.status_pill.text() == "Pending")
    keep_shot(window, "quote-delivery.png")
    window.close()
