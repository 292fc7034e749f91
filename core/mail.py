"""Email to clients: invoices, quotes and payment links by SMTP, from editable templates."""

from __future__ import annotations

import datetime as dt
import html
import logging
import re
import smtplib
import socket
import ssl
import string
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from typing import Any, Literal, Protocol

from sqlalchemy.orm import Session

from core.actor import Actor
from core.config import AppConfig
from core.documents import DocumentError, pdf_filename, render_invoice_pdf, render_quote_pdf
from core.documents.model import format_date
from core.documents.paths import templates_dir
from core.enums import InvoiceStatus
from core.errors import Conflict, ServiceError
from core.money import format_money
from core.services import activity, clients, invoices, quotes
from core.services import settings as shop_settings
from core.services.clients import ClientView
from core.services.invoices import InvoiceView
from core.services.quotes import QuoteView
from core.services.users import is_plausible_email
from core.shop_settings import ShopSettings

log = logging.getLogger(__name__)

SmtpSecurity = Literal["starttls", "ssl", "none"]
TemplateKind = Literal["invoice", "quote", "payment_link"]
SETTINGS_HINT = "Settings → Email"
_SECURITY: dict[str, SmtpSecurity] = {"starttls": "starttls", "ssl": "ssl", "none": "none"}
PLACEHOLDERS = frozenset(
    {
        "business_name",
        "business_email",
        "business_phone",
        "client_name",
        "document_number",
        "invoice_number",
        "quote_number",
        "total",
        "balance_due",
        "due_date",
        "valid_until",
        "payment_url",
    }
)


class MailError(ServiceError):
    """An email could not be sent; the message says why in words staff can act on."""


class MailNotConfigured(MailError):
    pass


class BadAddress(MailError):
    pass


class MailTemplateError(MailError):
    pass


@dataclass(frozen=True)
class MailSettings:
    """How to reach the shop's SMTP server; secrets stay out of ``repr``."""

    host: str
    port: int = 587
    security: SmtpSecurity = "starttls"
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    from_address: str | None = None
    timeout_s: float = 20.0
    # Trust for STARTTLS / SSL: an explicit context, else a CA file, else the system's CAs.
    cafile: Path | None = None
    ssl_context: ssl.SSLContext | None = field(default=None, repr=False, compare=False)

    @classmethod
    def from_config(
        cls,
        config: AppConfig,
        *,
        cafile: Path | None = None,
        ssl_context: ssl.SSLContext | None = None,
    ) -> MailSettings:
        host = (config.smtp_host or "").strip()
        if not host:
            raise MailNotConfigured(
                f"Email is not set up: enter the SMTP server in {SETTINGS_HINT} "
                "(or set PRINTDESK_SMTP_HOST)."
            )
        security = _SECURITY.get(config.smtp_security.strip().lower())
        if security is None:
            raise MailNotConfigured(
                f"The email security setting {config.smtp_security!r} is not one of "
                f"starttls, ssl or none ({SETTINGS_HINT})."
            )
        return cls(
            host=host,
            port=config.smtp_port,
            security=security,
            username=(config.smtp_username or "").strip() or None,
            password=config.smtp_password,
            from_address=(config.smtp_from or "").strip() or None,
            timeout_s=config.smtp_timeout_s,
            cafile=cafile,
            ssl_context=ssl_context,
        )

    @property
    def where(self) -> str:
        return f"{self.host}:{self.port}"

    def tls_context(self) -> ssl.SSLContext:
        if self.ssl_context is not None:
            return self.ssl_context
        return ssl.create_default_context(cafile=str(self.cafile) if self.cafile else None)


# ---------------------------------------------------------------------------------- templates


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    text: str
    html: str


def _check_template(text: str, name: str) -> string.Template:
    template = string.Template(text)
    if not template.is_valid():
        raise MailTemplateError(
            f"The email template {name} has a stray $: write $$ for a dollar sign."
        )
    unknown = sorted(set(template.get_identifiers()) - PLACEHOLDERS)
    if unknown:
        known = ", ".join(f"${p}" for p in sorted(PLACEHOLDERS))
        raise MailTemplateError(
            f"The email template {name} uses ${unknown[0]}, which PrintDesk does not know "
            f"(it knows {known})."
        )
    return template


def _fill(text: str, values: Mapping[str, str], name: str, *, drop_lines: bool = True) -> str:
    """Substitute line by line; a line naming a placeholder with no value is left out."""
    everything = {key: values.get(key, "") for key in PLACEHOLDERS}
    kept = []
    for line in text.splitlines():
        used = string.Template(line).get_identifiers()
        if drop_lines and any(not everything.get(key) for key in used):
            continue
        kept.append(_check_template(line, name).substitute(everything))
    return "\n".join(kept)


@dataclass(frozen=True)
class EmailTemplate:
    """Subject, plain text and HTML of one kind of email, with ``$placeholders``."""

    kind: TemplateKind
    subject: str
    text: str
    html: str

    def __post_init__(self) -> None:
        for part in ("subject", "text", "html"):
            _check_template(getattr(self, part), f"{self.kind} ({part})")

    @classmethod
    def load(cls, kind: TemplateKind, directory: Path | None = None) -> EmailTemplate:
        """The shop's own files in ``directory`` where present, else PrintDesk's defaults."""
        defaults = templates_dir() / "email"

        def read(suffix: str) -> str:
            for folder in (directory, defaults):
                if folder is not None and (folder / f"{kind}{suffix}").is_file():
                    return (folder / f"{kind}{suffix}").read_text(encoding="utf-8")
            raise MailTemplateError(f"The email template {kind}{suffix} is missing.")

        return cls(kind, read(".subject.txt"), read(".txt"), read(".html"))

    def render(self, values: Mapping[str, str]) -> RenderedEmail:
        name = self.kind
        subject = _one_line(_fill(self.subject, values, name, drop_lines=False))
        text = re.sub(r"\n{3,}", "\n\n", _fill(self.text, values, name)).strip() + "\n"
        escaped = {key: html.escape(value, quote=True) for key, value in values.items()}
        return RenderedEmail(subject, text, _fill(self.html, escaped, name) + "\n")


# ----------------------------------------------------------------------------------- messages


def check_address(value: str | None, *, what: str = "The client's email address") -> str:
    """A plausible single address, refused before any server sees it."""
    address = (value or "").strip()
    if not address:
        raise BadAddress(f"{what} is empty.")
    if (
        not is_plausible_email(address)
        or any(ch.isspace() or ord(ch) < 32 or ch in ',;<>"' for ch in address)
        or len(address) > 320
    ):
        raise BadAddress(f"{address} is not a valid email address.")
    try:
        Address(addr_spec=address)
    except (ValueError, IndexError):
        raise BadAddress(f"{address} is not a valid email address.") from None
    return address


def _one_line(text: str) -> str:
    """Header text on one line: a name can never start a header of its own."""
    return " ".join(text.split())


def _sender(shop: ShopSettings, sender: str | None) -> Address:
    address = (sender or "").strip() or shop.business.email.strip()
    if not address:
        raise MailNotConfigured(
            f"There is no sender address: fill in 'From address' in {SETTINGS_HINT} "
            "or the shop's email in Settings → Business."
        )
    check_address(address, what="The sender address")
    return Address(display_name=_one_line(shop.business.name), addr_spec=address)


def _base_values(shop: ShopSettings, client_name: str, number: str) -> dict[str, str]:
    return {
        "business_name": shop.business.name,
        "business_email": shop.business.email,
        "business_phone": shop.business.phone,
        "client_name": client_name,
        "document_number": number,
    }


def invoice_values(
    invoice: InvoiceView, shop: ShopSettings, payment_url: str | None
) -> dict[str, str]:
    return {
        **_base_values(shop, invoice.client_name, invoice.number),
        "invoice_number": invoice.number,
        "total": format_money(invoice.total, invoice.currency),
        "balance_due": format_money(invoice.balance_due, invoice.currency),
        "due_date": format_date(invoice.due_date),
        "payment_url": (payment_url or "").strip(),
    }


def quote_values(quote: QuoteView, shop: ShopSettings) -> dict[str, str]:
    return {
        **_base_values(shop, quote.client_name, quote.number),
        "quote_number": quote.number,
        "total": format_money(quote.total, quote.currency),
        "valid_until": format_date(quote.expiry_date),
    }


def _message(
    rendered: RenderedEmail,
    shop: ShopSettings,
    *,
    to: str,
    client_name: str,
    sender: str | None,
) -> EmailMessage:
    from_address = _sender(shop, sender)
    message = EmailMessage()
    message["Subject"] = rendered.subject
    message["From"] = from_address
    message["To"] = Address(display_name=_one_line(client_name), addr_spec=check_address(to))
    reply_to = shop.business.email.strip()
    if (
        reply_to
        and reply_to.lower() != from_address.addr_spec.lower()
        and is_plausible_email(reply_to)
    ):
        message["Reply-To"] = Address(
            display_name=_one_line(shop.business.name), addr_spec=reply_to
        )
    message["Date"] = formatdate(localtime=True)
    message["Message-ID"] = make_msgid(domain=from_address.domain or None)
    message.set_content(rendered.text)
    message.add_alternative(rendered.html, subtype="html")
    return message


def _attach_pdf(message: EmailMessage, pdf: bytes, number: str) -> None:
    if not pdf.startswith(b"%PDF"):
        raise MailError(f"The PDF of {number} is not a PDF; it was not attached.")
    message.add_attachment(
        pdf, maintype="application", subtype="pdf", filename=pdf_filename(number)
    )


def build_invoice_email(
    invoice: InvoiceView,
    shop: ShopSettings,
    pdf: bytes,
    *,
    payment_url: str | None,
    template: EmailTemplate,
    to: str | None = None,
    sender: str | None = None,
) -> EmailMessage:
    """The invoice email with its PDF attached; ``to`` defaults to the client's address."""
    rendered = template.render(invoice_values(invoice, shop, payment_url))
    message = _message(
        rendered, shop, to=_recipient(to, invoice), client_name=invoice.client_name, sender=sender
    )
    _attach_pdf(message, pdf, invoice.number)
    return message


def build_quote_email(
    quote: QuoteView,
    shop: ShopSettings,
    pdf: bytes,
    *,
    template: EmailTemplate,
    to: str | None = None,
    sender: str | None = None,
) -> EmailMessage:
    rendered = template.render(quote_values(quote, shop))
    message = _message(
        rendered, shop, to=_recipient(to, quote), client_name=quote.client_name, sender=sender
    )
    _attach_pdf(message, pdf, quote.number)
    return message


def build_payment_link_email(
    invoice: InvoiceView,
    shop: ShopSettings,
    *,
    payment_url: str,
    template: EmailTemplate,
    to: str | None = None,
    sender: str | None = None,
) -> EmailMessage:
    """Just the link to pay online, no attachment."""
    if not payment_url.strip():
        raise MailError(f"{invoice.number} has no payment link to send.")
    rendered = template.render(invoice_values(invoice, shop, payment_url))
    return _message(
        rendered, shop, to=_recipient(to, invoice), client_name=invoice.client_name, sender=sender
    )


def _recipient(to: str | None, doc: InvoiceView | QuoteView) -> str:
    address = (to or "").strip() or (doc.client_email or "").strip()
    if not address:
        raise BadAddress(
            f"{doc.client_name} has no email address: add one to the client "
            f"or give an address to send {doc.number} to."
        )
    return check_address(address)


# ---------------------------------------------------------------------------------- delivery


def _connect(settings: MailSettings) -> smtplib.SMTP:
    # gethostname() names us in EHLO without the DNS lookup getfqdn() would make.
    local = socket.gethostname() or "localhost"
    if settings.security == "ssl":
        return smtplib.SMTP_SSL(
            settings.host,
            settings.port,
            local_hostname=local,
            timeout=settings.timeout_s,
            context=settings.tls_context(),
        )
    smtp = smtplib.SMTP(
        settings.host, settings.port, local_hostname=local, timeout=settings.timeout_s
    )
    if settings.security == "starttls":
        try:
            smtp.starttls(context=settings.tls_context())
        except BaseException:
            smtp.close()
            raise
    return smtp


def _reply(code: int, text: bytes | str) -> str:
    words = text.decode("utf-8", "replace") if isinstance(text, bytes) else text
    return f"{code} {' '.join(words.split())}".strip()


def _needs_tls_or_login(where: str, exc: smtplib.SMTPResponseException) -> str:
    """530: the server wants STARTTLS or a login before it takes mail."""
    return (
        f"The mail server {where} wants a secure connection or a login first "
        f"({_reply(exc.smtp_code, exc.smtp_error)}): check the security, username and password "
        f"in {SETTINGS_HINT}."
    )


def send(message: EmailMessage, settings: MailSettings) -> None:
    """Deliver one message; every failure becomes a ``MailError`` saying what to check."""
    where = settings.where
    unreachable = f"Cannot reach the mail server {where}"
    check = f"check the server, port and security in {SETTINGS_HINT}."
    try:
        with _connect(settings) as smtp:
            if settings.username:
                smtp.login(settings.username, settings.password or "")
            refused = smtp.send_message(message)
    except smtplib.SMTPAuthenticationError as exc:
        raise MailError(
            f"The mail server refused the login for {settings.username} "
            f"({_reply(exc.smtp_code, exc.smtp_error)}): "
            f"check the username and password in {SETTINGS_HINT}."
        ) from None
    except smtplib.SMTPRecipientsRefused as exc:
        address, (code, text) = next(iter(exc.recipients.items()))
        raise BadAddress(
            f"The mail server refused the address {address}: {_reply(code, text)}."
        ) from None
    except smtplib.SMTPSenderRefused as exc:
        if exc.smtp_code == 530:
            raise MailError(_needs_tls_or_login(where, exc)) from None
        raise MailError(
            f"The mail server refused the sender address {exc.sender}: "
            f"{_reply(exc.smtp_code, exc.smtp_error)}. Check 'From address' in {SETTINGS_HINT}."
        ) from None
    except smtplib.SMTPNotSupportedError as exc:
        what = "STARTTLS" if "STARTTLS" in str(exc).upper() else "a login (AUTH)"
        raise MailError(f"The mail server {where} does not offer {what}: {check}") from None
    except smtplib.SMTPConnectError as exc:
        raise MailError(
            f"{unreachable}: it answered {_reply(exc.smtp_code, exc.smtp_error)}; {check}"
        ) from None
    except smtplib.SMTPResponseException as exc:
        if exc.smtp_code == 530:
            raise MailError(_needs_tls_or_login(where, exc)) from None
        raise MailError(
            f"The mail server {where} refused the message: {_reply(exc.smtp_code, exc.smtp_error)}."
        ) from None
    except ssl.SSLCertVerificationError as exc:
        raise MailError(
            f"A secure connection to the mail server {where} failed: its certificate is not "
            f"trusted ({exc.verify_message}); {check}"
        ) from None
    except ssl.SSLError as exc:
        reason = exc.reason or str(exc)
        raise MailError(
            f"A secure connection to the mail server {where} failed ({reason}): "
            f"{check} (STARTTLS is usually port 587, SSL port 465)."
        ) from None
    except smtplib.SMTPServerDisconnected:
        raise MailError(f"{unreachable}: it closed the connection; {check}") from None
    except TimeoutError:
        raise MailError(
            f"{unreachable}: no answer within {settings.timeout_s:g} s; {check}"
        ) from None
    except ConnectionRefusedError:
        raise MailError(f"{unreachable}: the connection was refused; {check}") from None
    except socket.gaierror:
        raise MailError(f"{unreachable}: the server name is not known; {check}") from None
    except OSError as exc:
        raise MailError(f"{unreachable}: {exc.strerror or exc}; {check}") from None
    if refused:
        address, (code, text) = next(iter(refused.items()))
        raise BadAddress(f"The mail server refused the address {address}: {_reply(code, text)}.")
    log.info("mail.sent to=%s subject=%s server=%s", message["To"], message["Subject"], where)


# ---------------------------------------------------------------------------------- services


class InvoicePdfRenderer(Protocol):
    def __call__(
        self,
        invoice: InvoiceView,
        shop: ShopSettings,
        *,
        payment_url: str | None,
        client: ClientView | None,
    ) -> bytes: ...


class QuotePdfRenderer(Protocol):
    def __call__(
        self, quote: QuoteView, shop: ShopSettings, *, client: ClientView | None
    ) -> bytes: ...


@dataclass(frozen=True)
class SentEmail:
    to: str
    subject: str
    message_id: str


def current_payment_url(invoice: InvoiceView, *, now: dt.datetime | None = None) -> str | None:
    """The stored Checkout link while the invoice is owed and the link has not expired."""
    if invoice.status is not InvoiceStatus.PENDING or invoice.balance_due <= 0:
        return None
    url = (invoice.stripe_checkout_url or "").strip()
    expires = invoice.stripe_session_expires_at
    if expires is not None and expires.tzinfo is None:
        expires = expires.replace(tzinfo=dt.UTC)
    if not url or (expires is not None and expires <= (now or dt.datetime.now(dt.UTC))):
        return None
    return url


@dataclass(frozen=True)
class _Subject:
    """The record an email is about, as the activity log names it."""

    entity: str
    entity_id: int
    action: str  # "invoice.emailed" on success, "invoice.email_failed" on failure
    label: str  # "invoice INV-0007"


def _record(
    session: Session,
    actor: Actor,
    about: _Subject,
    action: str,
    message: str,
    detail: dict[str, Any],
) -> None:
    """One activity entry in a transaction of its own: the email has gone (or not) either way."""
    with session.begin():
        activity.record(session, actor, action, about.entity, about.entity_id, message, detail)


def _deliver(
    session: Session,
    actor: Actor,
    about: _Subject,
    build: Callable[[], EmailMessage],
    *,
    mail: MailSettings,
    intended_to: str | None,
) -> SentEmail:
    try:
        message = build()
        send(message, mail)
    except (MailError, DocumentError) as exc:
        log.warning("mail.failed about=%s error=%s", about.label, exc)
        _record(
            session,
            actor,
            about,
            f"{about.action}_failed",
            f"Emailing {about.label} failed: {exc}",
            {"to": intended_to, "error": str(exc)},
        )
        raise
    sent = SentEmail(
        to=message["To"].addresses[0].addr_spec,
        subject=str(message["Subject"]),
        message_id=str(message["Message-ID"]),
    )
    _record(
        session,
        actor,
        about,
        f"{about.action}ed",
        f"{about.label[0].upper()}{about.label[1:]} emailed to {sent.to}",
        {"to": sent.to, "subject": sent.subject, "message_id": sent.message_id},
    )
    return sent


def _intended(to: str | None, client: ClientView, doc: InvoiceView | QuoteView) -> str | None:
    return (to or "").strip() or client.email or doc.client_email


def send_invoice(
    session: Session,
    actor: Actor,
    invoice_id: int,
    *,
    mail: MailSettings,
    to: str | None = None,
    payment_url: str | None = None,
    template: EmailTemplate | None = None,
    pdf_renderer: InvoicePdfRenderer = render_invoice_pdf,
) -> SentEmail:
    """Email the invoice PDF, with the payment link while one is open; logged either way.

    Reads happen first, the SMTP conversation outside any transaction, and the activity entry
    (success or the failure message) in one transaction of its own afterwards.
    """
    invoice = invoices.get_invoice(session, invoice_id)
    shop, _ = shop_settings.get_settings(session)
    client = clients.get_client(session, invoice.client_id)
    url = (payment_url or "").strip() or current_payment_url(invoice)
    recipient = _intended(to, client, invoice)

    def build() -> EmailMessage:
        pdf = pdf_renderer(invoice, shop, payment_url=url, client=client)
        return build_invoice_email(
            invoice,
            shop,
            pdf,
            payment_url=url,
            template=template or EmailTemplate.load("invoice"),
            to=recipient,
            sender=mail.from_address,
        )

    about = _Subject("invoice", invoice.id, "invoice.email", f"invoice {invoice.number}")
    return _deliver(session, actor, about, build, mail=mail, intended_to=recipient)


def send_payment_link(
    session: Session,
    actor: Actor,
    invoice_id: int,
    *,
    mail: MailSettings,
    payment_url: str | None = None,
    to: str | None = None,
    template: EmailTemplate | None = None,
) -> SentEmail:
    """Email only the link to pay online (the invoice's open Checkout link by default)."""
    invoice = invoices.get_invoice(session, invoice_id)
    shop, _ = shop_settings.get_settings(session)
    client = clients.get_client(session, invoice.client_id)
    url = (payment_url or "").strip() or current_payment_url(invoice)
    recipient = _intended(to, client, invoice)

    def build() -> EmailMessage:
        if not url:
            raise MailError(f"{invoice.number} has no open payment link: create one first.")
        return build_payment_link_email(
            invoice,
            shop,
            payment_url=url,
            template=template or EmailTemplate.load("payment_link"),
            to=recipient,
            sender=mail.from_address,
        )

    about = _Subject(
        "invoice",
        invoice.id,
        "invoice.payment_link_email",
        f"the payment link for {invoice.number}",
    )
    return _deliver(session, actor, about, build, mail=mail, intended_to=recipient)


def send_quote(
    session: Session,
    actor: Actor,
    quote_id: int,
    *,
    mail: MailSettings,
    to: str | None = None,
    template: EmailTemplate | None = None,
    pdf_renderer: QuotePdfRenderer = render_quote_pdf,
) -> SentEmail:
    """Email the quote PDF; a draft or pending quote is then marked as sent."""
    quote = quotes.get_quote(session, quote_id)
    shop, _ = shop_settings.get_settings(session)
    client = clients.get_client(session, quote.client_id)
    recipient = _intended(to, client, quote)

    def build() -> EmailMessage:
        pdf = pdf_renderer(quote, shop, client=client)
        return build_quote_email(
            quote,
            shop,
            pdf,
            template=template or EmailTemplate.load("quote"),
            to=recipient,
            sender=mail.from_address,
        )

    about = _Subject("quote", quote.id, "quote.email", f"quote {quote.number}")
    sent = _deliver(session, actor, about, build, mail=mail, intended_to=recipient)
    if quote.status in quotes.EDITABLE:
        try:
            quotes.send_quote(session, actor, quote.id)
        except Conflict as exc:  # changed at another counter meanwhile; the email has gone
            log.warning("mail.quote_not_marked_sent number=%s error=%s", quote.number, exc)
    return sent
