"""A test email from Settings → Email: proves the SMTP settings deliver before a client's invoice
depends on them."""

from __future__ import annotations

from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from core.mail import SETTINGS_HINT, MailNotConfigured, MailSettings, check_address, send
from core.shop_settings import ShopSettings

SUBJECT = "PrintDesk test email"


def probe_message(shop: ShopSettings, settings: MailSettings, to: str) -> EmailMessage:
    """The message: from the SMTP settings' sender (else the shop's email), to ``to``."""
    sender = (settings.from_address or "").strip() or shop.business.email.strip()
    if not sender:
        raise MailNotConfigured(
            f"There is no sender address: fill in 'From address' in {SETTINGS_HINT} "
            "or the shop's email in Settings → Business."
        )
    check_address(sender, what="The sender address")
    recipient = check_address(to, what="The address to send the test email to")
    name = " ".join(shop.business.name.split()) or "PrintDesk"
    message = EmailMessage()
    message["Subject"] = SUBJECT
    message["From"] = Address(display_name=name, addr_spec=sender)
    message["To"] = recipient
    message["Date"] = formatdate(localtime=True)
    message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or None)
    message.set_content(
        f"This is a test email from PrintDesk at {name}.\n\n"
        f"It went out through {settings.where} ({settings.security}), so invoices, quotes and "
        "payment links can be emailed from this counter.\n"
    )
    return message


def send_test_email(shop: ShopSettings, settings: MailSettings, to: str) -> str:
    """Send the test email; what to tell the person, or a ``MailError`` saying what to check."""
    message = probe_message(shop, settings, to)
    send(message, settings)
    return f"A test email went to {message['To']} through {settings.where}: check that inbox."
