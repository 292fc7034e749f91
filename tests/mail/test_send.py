"""Invoices, quotes and payment links sent to a real SMTP server and read back from its mailbox."""

from __future__ import annotations

import datetime as dt
import io
import re
from email.message import EmailMessage

import pypdf
import pytest
from sqlalchemy import func, select

from core.actor import Actor
from core.config import AppConfig
from core.db.engine import Database
from core.db.models import ActivityEntry, Invoice
from core.enums import QuoteStatus
from core.mail import (
    BadAddress,
    MailError,
    MailNotConfigured,
    MailSettings,
    send_invoice,
    send_payment_link,
    send_quote,
)
from core.money import format_money
from core.services import activity, invoices, quotes
from tests.documents.sample import (
    BUSINESS,
    CLIENT_EMAIL,
    CLIENT_NAME,
    PAYMENT_URL,
    Shop,
    make_invoice,
    make_quote,
    set_up_shop,
)
from tests.mail.conftest import PASSWORD, SENDER, USERNAME, StartServer, free_port


@pytest.fixture
def shop(database: Database, admin: Actor) -> Shop:
    return set_up_shop(database, admin)


def _log(database: Database, entity: str, entity_id: int) -> list[tuple[str, str]]:
    """(action, message) of the record's activity, oldest first."""
    with database.session() as s, s.begin():
        entries = activity.recent(s, entity_type=entity, entity_id=entity_id)
    return [(e.action, e.message) for e in reversed(entries)]


def _text(message: EmailMessage) -> str:
    body = message.get_body(preferencelist=("plain",))
    assert isinstance(body, EmailMessage)
    return str(body.get_content())


def _html(message: EmailMessage) -> str:
    body = message.get_body(preferencelist=("html",))
    assert isinstance(body, EmailMessage)
    return str(body.get_content())


def test_invoice_email_over_starttls_with_login(
    database: Database, admin: Actor, shop: Shop, mail_server: StartServer
) -> None:
    server = mail_server(security="starttls", auth=True)
    invoice = make_invoice(database, admin, shop)

    with database.session() as s:
        sent = send_invoice(
            s,
            admin,
            invoice.id,
            mail=server.settings(username=USERNAME, password=PASSWORD),
            payment_url=PAYMENT_URL,
        )

    (delivered,) = server.delivered
    assert delivered.over_tls and delivered.login == USERNAME
    assert delivered.mail_from == SENDER and delivered.rcpt_tos == [CLIENT_EMAIL]
    message = delivered.message()
    assert message["Subject"] == f"Invoice {invoice.number} from {BUSINESS['name']}"
    assert message["To"].addresses[0].addr_spec == CLIENT_EMAIL
    assert message["To"].addresses[0].display_name == CLIENT_NAME
    assert message["From"].addresses[0].addr_spec == SENDER
    assert message["From"].addresses[0].display_name == BUSINESS["name"]
    assert message["Reply-To"].addresses[0].addr_spec == BUSINESS["email"]
    assert message["Message-ID"] == sent.message_id and message["Date"]

    text = _text(message)
    balance = format_money(invoice.balance_due, invoice.currency)
    assert f"Hello {CLIENT_NAME}," in text
    assert f"Balance due: {balance}" in text
    assert f"Pay online by card: {PAYMENT_URL}" in text
    assert BUSINESS["phone"] in text
    html = _html(message)
    assert f'href="{PAYMENT_URL}"' in html and balance in html

    (attachment,) = message.iter_attachments()
    assert attachment.get_content_type() == "application/pdf"
    assert attachment.get_filename() == f"{invoice.number}.pdf"
    pdf = attachment.get_content()
    assert isinstance(pdf, bytes) and pdf.startswith(b"%PDF")
    first_page = pypdf.PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
    assert invoice.number in first_page and CLIENT_NAME in first_page
    assert PAYMENT_URL in re.sub(r"\s+", "", first_page)

    assert sent.to == CLIENT_EMAIL
    assert _log(database, "invoice", invoice.id)[-1] == (
        "invoice.emailed",
        f"Invoice {invoice.number} emailed to {CLIENT_EMAIL}",
    )


def test_invoice_email_over_ssl(
    database: Database, admin: Actor, shop: Shop, mail_server: StartServer
) -> None:
    server = mail_server(security="ssl", auth=True)
    invoice = make_invoice(database, admin, shop)
    with database.session() as s:
        send_invoice(
            s,
            admin,
            invoice.id,
            mail=server.settings(username=USERNAME, password=PASSWORD),
            to="accounts@angstrom.example",
        )
    (delivered,) = server.delivered
    assert delivered.over_tls and delivered.rcpt_tos == ["accounts@angstrom.example"]
    # No open Checkout link: the email and the PDF leave the payment line out.
    text = _text(delivered.message())
    assert "Pay online" not in text and "checkout" not in text
    assert "\n\n\n" not in text


def test_the_open_checkout_link_is_sent_until_it_expires(
    database: Database, admin: Actor, shop: Shop, mail_server: StartServer
) -> None:
    server = mail_server()
    invoice = make_invoice(database, admin, shop)
    link = "https://checkout.stripe.com/c/pay/cs_test_open"
    with database.session() as s, s.begin():
        row = s.get(Invoice, invoice.id)
        assert row is not None
        row.stripe_checkout_url = link
        row.stripe_session_expires_at = dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)
    with database.session() as s:
        send_invoice(s, admin, invoice.id, mail=server.settings())
    assert link in _text(server.delivered[-1].message())

    with database.session() as s, s.begin():
        row = s.get(Invoice, invoice.id)
        assert row is not None
        row.stripe_session_expires_at = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)
    with database.session() as s:
        send_invoice(s, admin, invoice.id, mail=server.settings())
    assert link not in _text(server.delivered[-1].message())


def test_quote_email_marks_a_draft_sent(
    database: Database, admin: Actor, shop: Shop, mail_server: StartServer
) -> None:
    server = mail_server()
    quote = make_quote(database, admin, shop)
    assert quote.status is QuoteStatus.DRAFT

    with database.session() as s:
        send_quote(s, admin, quote.id, mail=server.settings())

    message = server.delivered[0].message()
    assert message["Subject"] == f"Quote {quote.number} from {BUSINESS['name']}"
    assert "valid until" in _text(message)
    (attachment,) = message.iter_attachments()
    assert attachment.get_filename() == f"{quote.number}.pdf"
    assert (
        quote.number
        in pypdf.PdfReader(io.BytesIO(attachment.get_content())).pages[0].extract_text()
    )
    with database.session() as s:
        after = quotes.get_quote(s, quote.id)
    assert after.status is QuoteStatus.PENDING and after.sent_at is not None
    assert ("quote.emailed", f"Quote {quote.number} emailed to {CLIENT_EMAIL}") in _log(
        database, "quote", quote.id
    )


def test_payment_link_email_has_the_link_and_no_attachment(
    database: Database, admin: Actor, shop: Shop, mail_server: StartServer
) -> None:
    server = mail_server()
    invoice = make_invoice(database, admin, shop)
    with database.session() as s:
        send_payment_link(s, admin, invoice.id, mail=server.settings(), payment_url=PAYMENT_URL)
    message = server.delivered[0].message()
    assert list(message.iter_attachments()) == []
    assert PAYMENT_URL in _text(message)
    assert invoice.number in str(message["Subject"])

    with database.session() as s, pytest.raises(MailError, match="no open payment link"):
        send_payment_link(s, admin, invoice.id, mail=server.settings())
    assert _log(database, "invoice", invoice.id)[-2:] == [
        (
            "invoice.payment_link_emailed",
            f"The payment link for {invoice.number} emailed to {CLIENT_EMAIL}",
        ),
        (
            "invoice.payment_link_email_failed",
            f"Emailing the payment link for {invoice.number} failed: "
            f"{invoice.number} has no open payment link: create one first.",
        ),
    ]


def test_a_refused_login_is_reported_and_logged(
    database: Database, admin: Actor, shop: Shop, mail_server: StartServer
) -> None:
    server = mail_server(security="starttls", auth=True)
    invoice = make_invoice(database, admin, shop)
    with database.session() as s, s.begin():
        before = s.scalar(select(func.count()).select_from(ActivityEntry)) or 0
    with database.session() as s, pytest.raises(MailError) as refused:
        send_invoice(
            s, admin, invoice.id, mail=server.settings(username=USERNAME, password="wrong")
        )
    # What the server answered is in it, so the shop can tell a wrong password from a locked one.
    expected = (
        f"The mail server refused the login for {USERNAME} "
        "(535 5.7.8 Authentication credentials invalid): "
        "check the username and password in Settings → Email."
    )
    assert str(refused.value) == expected
    assert server.delivered == []
    with database.session() as s:
        # One entry, nothing else changed on the invoice.
        assert invoices.get_invoice(s, invoice.id).version == invoice.version
        with s.begin():
            assert s.scalar(select(func.count()).select_from(ActivityEntry)) == before + 1
    assert _log(database, "invoice", invoice.id)[-1] == (
        "invoice.email_failed",
        f"Emailing invoice {invoice.number} failed: {expected}",
    )


def test_a_malformed_address_is_refused_before_sending(
    database: Database, admin: Actor, shop: Shop, mail_server: StartServer
) -> None:
    server = mail_server()
    invoice = make_invoice(database, admin, shop)
    for bad in ["zoe at example.com", "zoe@example", "a@b.com, c@d.com", "zoe@exa\nmple.com"]:
        with database.session() as s, pytest.raises(BadAddress, match="not a valid email address"):
            send_invoice(s, admin, invoice.id, mail=server.settings(), to=bad)
    assert server.delivered == []
    assert _log(database, "invoice", invoice.id)[-1][0] == "invoice.email_failed"


def test_an_address_the_server_refuses(
    database: Database, admin: Actor, shop: Shop, mail_server: StartServer
) -> None:
    server = mail_server()
    invoice = make_invoice(database, admin, shop)
    with database.session() as s, pytest.raises(BadAddress) as refused:
        send_invoice(s, admin, invoice.id, mail=server.settings(), to="zoe@nowhere.example")
    assert str(refused.value).startswith(
        "The mail server refused the address zoe@nowhere.example: 550 5.1.1"
    )
    assert server.delivered == []
    action, message = _log(database, "invoice", invoice.id)[-1]
    assert action == "invoice.email_failed" and "zoe@nowhere.example" in message


def test_a_client_without_an_email_address(
    database: Database, admin: Actor, mail_server: StartServer
) -> None:
    shop = set_up_shop(database, admin, client_email="")
    invoice = make_invoice(database, admin, shop)
    with database.session() as s, pytest.raises(BadAddress, match="has no email address"):
        send_invoice(s, admin, invoice.id, mail=mail_server().settings())


def test_a_server_that_is_down(database: Database, admin: Actor, shop: Shop) -> None:
    invoice = make_invoice(database, admin, shop)
    port = free_port()  # nothing listens there
    settings = MailSettings(host="127.0.0.1", port=port, security="none", from_address=SENDER)
    with database.session() as s, pytest.raises(MailError) as down:
        send_invoice(s, admin, invoice.id, mail=settings)
    assert str(down.value).startswith(f"Cannot reach the mail server 127.0.0.1:{port}")
    assert "Settings → Email" in str(down.value)
    action, message = _log(database, "invoice", invoice.id)[-1]
    assert action == "invoice.email_failed" and "Cannot reach the mail server" in message


def test_tls_failures(
    database: Database, admin: Actor, shop: Shop, mail_server: StartServer
) -> None:
    invoice = make_invoice(database, admin, shop)
    starttls = mail_server(security="starttls")
    # The server's certificate is not trusted by the system's CAs.
    with database.session() as s, pytest.raises(MailError) as untrusted:
        send_invoice(s, admin, invoice.id, mail=starttls.settings(cafile=None))
    assert str(untrusted.value).startswith(
        f"A secure connection to the mail server 127.0.0.1:{starttls.port} failed: "
        "its certificate is not trusted"
    )
    # SSL spoken to a server that expects STARTTLS.
    with database.session() as s, pytest.raises(MailError) as mismatch:
        send_invoice(s, admin, invoice.id, mail=starttls.settings(security="ssl"))
    assert "A secure connection to the mail server" in str(mismatch.value)
    # A plain-text client where the server insists on STARTTLS first.
    with database.session() as s, pytest.raises(MailError) as plain:
        send_invoice(s, admin, invoice.id, mail=starttls.settings(security="none"))
    assert str(plain.value).startswith(
        f"The mail server 127.0.0.1:{starttls.port} wants a secure connection or a login first"
    )
    assert starttls.delivered == []


def test_email_is_off_until_an_smtp_server_is_set(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PRINTDESK_SMTP_HOST", raising=False)
    with pytest.raises(MailNotConfigured, match="Settings → Email"):
        MailSettings.from_config(AppConfig(smtp_host=None))
    settings = MailSettings.from_config(
        AppConfig(smtp_host="mail.example", smtp_port=465, smtp_security="ssl", smtp_password="x")
    )
    assert (settings.where, settings.security) == ("mail.example:465", "ssl")
    assert "x" not in repr(settings).replace("mail.example", "")
