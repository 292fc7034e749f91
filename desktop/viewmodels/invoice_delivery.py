"""Getting an invoice or a quote to the client: an invoice's Stripe payment link, and for both
the PDF and the email.

The view model holds no widgets: the view copies ``payment_url`` to the clipboard and opens
``pdf_url`` with the desktop. Every service call (database, storage, Stripe, SMTP) runs off the
GUI thread through a `Loader`, its answer coming back as a signal; a refusal (no Stripe key, no
SMTP server, a server that said no) becomes a toast and changes nothing else.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import TypeVar
from urllib.parse import urlsplit
from urllib.request import url2pathname

from PySide6.QtCore import QObject, Signal
from sqlalchemy.orm import Session

from core.config import AppConfig
from core.documents import pdf_filename
from core.enums import InvoiceStatus
from core.mail import MailSettings, SentEmail, current_payment_url, send_invoice, send_quote
from core.money import format_money
from core.payments.checkout import PaymentLink, create_payment_link
from core.payments.stripe_client import StripeGateway
from core.services import invoices, quotes
from core.services.invoice_pdfs import StoredPdf, store_invoice_pdf, store_quote_pdf
from core.services.invoices import InvoiceView
from core.services.quotes import QuoteView
from core.storage import Storage, open_storage
from desktop.viewmodels.background import Loader
from desktop.viewmodels.context import AppContext
from desktop.viewmodels.documents import format_date

T = TypeVar("T")


class LinkState(StrEnum):
    NONE = "none"
    OPEN = "open"
    EXPIRED = "expired"


class DeliveryServices:
    """Stripe, storage and mail, made on first use (so an editor that never delivers reads no
    configuration). Tests hand in their own."""

    def __init__(
        self,
        stripe: Callable[[], StripeGateway],
        storage: Callable[[], Storage],
        mail: Callable[[], MailSettings],
    ) -> None:
        self._make_stripe = stripe
        self._make_storage = storage
        self._make_mail = mail
        self._stripe: StripeGateway | None = None
        self._storage: Storage | None = None

    @classmethod
    def from_config(cls, config: Callable[[], AppConfig] = AppConfig) -> DeliveryServices:
        return cls(
            stripe=lambda: StripeGateway.from_config(config()),
            storage=lambda: open_storage(config()),
            mail=lambda: MailSettings.from_config(config()),
        )

    def stripe(self) -> StripeGateway:
        if self._stripe is None:
            self._stripe = self._make_stripe()
        return self._stripe

    def storage(self) -> Storage:
        if self._storage is None:
            self._storage = self._make_storage()
        return self._storage

    def mail(self) -> MailSettings:
        """Read each time: the settings may have been filled in since the last try."""
        return self._make_mail()


@dataclass(frozen=True)
class _Mailed:
    sent: SentEmail
    pdf: StoredPdf


def _utc(moment: dt.datetime) -> dt.datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)


def when_text(moment: dt.datetime) -> str:
    """``27 Nov 2026, 15:45`` in the counter's own time zone."""
    local = _utc(moment).astimezone()
    return f"{format_date(local.date())}, {local:%H:%M}"


class InvoiceDeliveryViewModel(QObject):
    """An invoice's link, PDF and email; for a quote, its PDF and email (no link: nothing is
    owed on a quote)."""

    changed = Signal()
    # The InvoiceView or QuoteView after a link, a stored PDF or an email changed it.
    invoice_updated = Signal(object)
    # What the background calls bring back (on the GUI thread).
    link_made = Signal(object)  # PaymentLink
    pdf_stored = Signal(object)  # StoredPdf
    pdf_ready = Signal(str)  # the stored PDF's link, for the desktop to open (Open PDF)
    emailed = Signal(object)  # SentEmail

    def __init__(
        self,
        ctx: AppContext,
        *,
        services: DeliveryServices | None = None,
        blocked: Callable[[], str] = lambda: "",
        now: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
    ) -> None:
        super().__init__()
        self._ctx = ctx
        self._services = services or DeliveryServices.from_config()
        self._blocked = blocked
        self._now = now
        self._invoice: InvoiceView | None = None
        self._quote: QuoteView | None = None
        self._busy = ""
        self._pdf: StoredPdf | None = None
        self.last_link: PaymentLink | None = None

    # -- state
    @property
    def invoice(self) -> InvoiceView | None:
        return self._invoice

    @property
    def quote(self) -> QuoteView | None:
        return self._quote

    @property
    def document(self) -> InvoiceView | QuoteView | None:
        return self._invoice if self._invoice is not None else self._quote

    @property
    def is_quote(self) -> bool:
        return self._quote is not None

    @property
    def visible(self) -> bool:
        return self.document is not None

    @property
    def title(self) -> str:
        return "PDF & email" if self.is_quote else "Payment link & delivery"

    @property
    def email_text(self) -> str:
        return "Email quote" if self.is_quote else "Email invoice"

    @property
    def pdf_name(self) -> str:
        """The PDF's file name (``QT-0003.pdf``), for a copy saved elsewhere."""
        doc = self.document
        return pdf_filename(doc.number) if doc is not None else ""

    @property
    def owed(self) -> bool:
        inv = self._invoice
        return inv is not None and inv.status is InvoiceStatus.PENDING and inv.balance_due > 0

    @property
    def link_state(self) -> LinkState:
        inv = self._invoice
        if inv is None or not inv.stripe_checkout_url or not self.owed:
            return LinkState.NONE
        if current_payment_url(inv, now=self._now()) is not None:
            return LinkState.OPEN
        return LinkState.EXPIRED

    @property
    def payment_url(self) -> str:
        """The open link to copy or send; "" when there is none."""
        inv = self._invoice
        if inv is None or self.link_state is not LinkState.OPEN:
            return ""
        return inv.stripe_checkout_url or ""

    @property
    def state_text(self) -> str:
        inv = self._invoice
        if inv is None:
            return ""  # a quote has no link to speak of
        state = self.link_state
        expires = inv.stripe_session_expires_at
        if state is LinkState.OPEN:
            return f"Open until {when_text(expires)}" if expires else "Open"
        if state is LinkState.EXPIRED:
            return f"Expired {when_text(expires)}" if expires else "Expired"
        if inv.status is InvoiceStatus.PAID or (
            inv.status is InvoiceStatus.PENDING and inv.balance_due <= 0
        ):
            return "Paid: no link needed"
        if inv.status is not InvoiceStatus.PENDING:
            return f"No link: the invoice is {inv.status.value.lower().replace('_', ' ')}"
        return "No payment link yet"

    @property
    def detail_text(self) -> str:
        if self._quote is not None:
            to = self._quote.client_email or self._quote.client_name
            return f"Make the quote's PDF, or email it to {to}."
        inv = self._invoice
        if inv is None or not self.owed:
            return ""
        owed = format_money(inv.balance_due, inv.currency)
        if self.link_state is LinkState.OPEN:
            return f"The client can pay {owed} by card."
        return f"Make a Stripe link for the {owed} owed."

    @property
    def blocked_reason(self) -> str:
        if self._busy:
            return self._busy
        return self._blocked()

    @property
    def busy(self) -> bool:
        return bool(self._busy)

    @property
    def can_create_link(self) -> bool:
        return self.owed and not self.blocked_reason

    @property
    def create_link_text(self) -> str:
        return "New payment link" if self.link_state is LinkState.EXPIRED else "Create payment link"

    @property
    def can_copy_link(self) -> bool:
        return bool(self.payment_url)

    @property
    def can_email(self) -> bool:
        return self.document is not None and not self.blocked_reason

    @property
    def can_open_pdf(self) -> bool:
        return self.document is not None and not self.blocked_reason

    @property
    def stored_pdf(self) -> StoredPdf | None:
        return self._pdf

    @property
    def pdf_url(self) -> str:
        """The last stored PDF's link (``file://…`` for local storage, without the signature)."""
        if self._pdf is None:
            return ""
        parts = urlsplit(self._pdf.url_or_path)
        if parts.scheme == "file":
            return parts._replace(query="", fragment="").geturl()
        return self._pdf.url_or_path

    @property
    def pdf_path(self) -> str:
        """The last stored PDF as a local file path; "" when storage is not local."""
        if self._pdf is None:
            return ""
        parts = urlsplit(self._pdf.url_or_path)
        return url2pathname(parts.path) if parts.scheme == "file" else ""

    # -- commands
    def set_document(self, document: InvoiceView | QuoteView | None) -> None:
        """The document the editor shows (a new one is None: nothing to deliver yet)."""
        if isinstance(document, QuoteView):
            if self._quote is None or document.id != self._quote.id:
                self._pdf = None
            self._invoice, self._quote = None, document
            self.last_link = None
            self.changed.emit()
        else:
            self._quote = None
            self.set_invoice(document)

    def set_invoice(self, invoice: InvoiceView | None) -> None:
        if invoice is None or self._invoice is None or invoice.id != self._invoice.id:
            self._pdf = None
            self.last_link = None
        self._invoice = invoice
        self._quote = None
        self.changed.emit()

    def refresh_state(self) -> None:
        """The editor's own state (unsaved edits) changed: re-read what is allowed."""
        self.changed.emit()

    def create_link(self) -> bool:
        """Make (or reuse) the Stripe link in the background; `link_made` brings it. False when
        refused before starting (unsaved edits, nothing owed)."""
        return self._create_link(None)

    def create_link_and_email(self) -> bool:
        """The link, then the email carrying it (Quick order's "Email the Stripe link")."""
        return self._create_link(lambda _link: self.email_invoice())

    def _create_link(self, then: Callable[[PaymentLink], object] | None) -> bool:
        inv = self._invoice
        if inv is None or not self._ready():
            return False
        actor, stripe = self._ctx.actor, self._services.stripe

        def made(link: PaymentLink) -> None:
            self.last_link = link
            amount = format_money(link.amount, link.currency)
            until = when_text(link.expires_at)
            self._ctx.notifier.info(
                f"The open payment link for {link.invoice_number} ({amount}) lasts until {until}."
                if link.reused
                else f"Payment link for {link.invoice_number} ({amount}) ready, open until {until}."
            )
            self.link_made.emit(link)
            if then is not None:
                then(link)

        return self._run(
            "Making the payment link…",
            lambda s: create_payment_link(s, actor, inv.id, stripe=stripe()),
            made,
        )

    def link_copied(self) -> None:
        self._ctx.notifier.info("Payment link copied: paste it into a message to the client.")

    def store_pdf(self) -> bool:
        """Make and store the PDF in the background; `pdf_stored` brings it."""
        return self._store_pdf(None)

    def _store_pdf(self, then: Callable[[], None] | None) -> bool:
        doc = self.document
        if doc is None or not self._ready():
            return False
        store = self._storer()

        def stored(pdf: StoredPdf) -> None:
            self._pdf = pdf
            self.pdf_stored.emit(pdf)
            if then is not None:
                then()

        return self._run("Making the PDF…", lambda _s: store(doc.id), stored)

    def save_pdf_copy(self, path: str) -> bool:
        """Write the PDF last made to ``path`` (Save as…, when no viewer opens it here)."""
        stored = self._pdf
        if stored is None or not stored.pdf or not path:
            return False
        try:
            with open(path, "wb") as out:
                out.write(stored.pdf)
        except OSError as exc:
            self._ctx.notifier.warning(f"The PDF could not be saved to {path}: {exc.strerror}.")
            return False
        self._ctx.notifier.info(f"{self.pdf_name} saved to {path}.")
        return True

    def open_pdf(self) -> bool:
        """Store the PDF afresh; `pdf_ready` then brings the link for the desktop to open."""
        return self._store_pdf(lambda: self.pdf_ready.emit(self.pdf_url))

    def email_invoice(self) -> bool:
        """Email the document (an invoice with its PDF and open link, or a quote's PDF) in the
        background; `emailed` brings the email sent."""
        quote, inv = self._quote, self._invoice
        doc = quote or inv
        if doc is None or not self._ready():
            return False
        actor, mail, store = self._ctx.actor, self._services.mail, self._storer()
        payment_url = self.payment_url or None

        def deliver(s: Session) -> _Mailed:
            settings = mail()  # before any work: says where to set it up
            stored = store(doc.id)
            pdf = stored.pdf
            if quote is not None:
                sent = send_quote(
                    s, actor, quote.id, mail=settings, pdf_renderer=lambda *_a, **_k: pdf
                )
            else:
                sent = send_invoice(
                    s,
                    actor,
                    doc.id,
                    mail=settings,
                    payment_url=payment_url,
                    pdf_renderer=lambda *_a, **_k: pdf,
                )
            return _Mailed(sent, stored)

        def mailed(done: _Mailed) -> None:
            self._pdf = done.pdf
            self._ctx.notifier.info(f"{doc.number} emailed to {done.sent.to} with its PDF.")
            self.emailed.emit(done.sent)

        return self._run(f"Emailing {doc.number}…", deliver, mailed)

    # -- internals
    def _ready(self) -> bool:
        reason = self.blocked_reason
        if reason:
            self._ctx.notifier.warning(reason)
            return False
        return True

    def _storer(self) -> Callable[[int], StoredPdf]:
        """What stores this document's PDF, made on the GUI thread to run on a worker."""
        db, actor, storage = self._ctx.db, self._ctx.actor, self._services.storage
        if self._quote is not None:
            return lambda document_id: store_quote_pdf(db, storage(), actor, document_id)
        payment_url = self.payment_url or None
        return lambda document_id: store_invoice_pdf(
            db, storage(), actor, document_id, payment_url=payment_url
        )

    def _run(self, doing: str, action: Callable[[Session], T], done: Callable[[T], None]) -> bool:
        """``action`` and then the document read again, on a worker; back here ``done`` and the
        document the editor follows. A refusal goes to the notifier and changes nothing."""
        quote, inv = self._quote, self._invoice

        def work(s: Session) -> tuple[T, InvoiceView | QuoteView | None]:
            value = action(s)
            s.rollback()  # the read below sees what the action committed
            if quote is not None:
                return value, quotes.get_quote(s, quote.id)
            return value, invoices.get_invoice(s, inv.id) if inv is not None else None

        def answered(result: tuple[T, InvoiceView | QuoteView | None]) -> None:
            value, again = result
            self._set_busy("")
            if isinstance(again, QuoteView) and self._quote and again.id == self._quote.id:
                self._quote = again
            elif isinstance(again, InvoiceView) and self._invoice and again.id == self._invoice.id:
                self._invoice = again
            self.changed.emit()
            if again is not None:
                self.invoice_updated.emit(again)
            done(value)

        # Failures are told as every background call's are: a warning, an error with details,
        # or the banner; either way the card is no longer busy.
        loader: Loader[tuple[T, InvoiceView | QuoteView | None]] = Loader(
            self._ctx, answered, parent=self
        )
        loader.loading_changed.connect(lambda on: None if on else self._set_busy(""))
        loader.loading_changed.connect(lambda on: None if on else loader.deleteLater())
        self._set_busy(doing)
        loader.run(work)
        return True

    def _set_busy(self, doing: str) -> None:
        if doing != self._busy:
            self._busy = doing
            self.changed.emit()
