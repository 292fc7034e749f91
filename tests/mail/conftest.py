"""A real SMTP server (aiosmtpd) on loopback: plain, STARTTLS or SSL, with or without AUTH."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import ipaddress
import socket
import ssl
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from core.mail import MailSettings

USERNAME = "counter@layerlab.example"
PASSWORD = "correct horse"
SENDER = "invoices@layerlab.example"
# The mailbox refuses every address at this domain, as a real server refuses unknown users.
UNKNOWN_DOMAIN = "@nowhere.example"


@dataclass(frozen=True)
class Delivered:
    mail_from: str
    rcpt_tos: list[str]
    data: bytes
    over_tls: bool
    login: str | None

    def message(self) -> EmailMessage:
        parsed = email.message_from_bytes(self.data, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed


@dataclass
class Mailbox:
    """The server's handler: keeps every message it accepts."""

    delivered: list[Delivered] = field(default_factory=list)

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if address.lower().endswith(UNKNOWN_DOMAIN):
            return f"550 5.1.1 <{address}>: Recipient address rejected: no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        auth = session.auth_data
        data = envelope.original_content or envelope.content
        assert isinstance(data, bytes) and envelope.mail_from is not None
        self.delivered.append(
            Delivered(
                mail_from=envelope.mail_from,
                rcpt_tos=list(envelope.rcpt_tos),
                data=data,
                over_tls=_encrypted(server),
                login=auth.login.decode() if isinstance(auth, LoginPassword) else None,
            )
        )
        return "250 2.0.0 Message accepted for delivery"


def _encrypted(server: SMTP) -> bool:
    """STARTTLS or a whole SSL session: either way the transport carries an SSL object."""
    transport = server.transport
    return transport is not None and transport.get_extra_info("ssl_object") is not None


def _authenticate(
    server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
) -> AuthResult:
    ok = (
        isinstance(auth_data, LoginPassword)
        and auth_data.login == USERNAME.encode()
        and auth_data.password == PASSWORD.encode()
    )
    # handled=False: the server answers "535 ... credentials invalid" itself.
    return AuthResult(success=ok, handled=False, auth_data=auth_data)


@dataclass(frozen=True)
class TlsFiles:
    cert: Path
    key: Path

    def server_context(self) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.cert, self.key)
        return context


@pytest.fixture(scope="session")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> TlsFiles:
    """A self-signed certificate for 127.0.0.1 and localhost, made for this run."""
    folder = tmp_path_factory.mktemp("tls")
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "PrintDesk test mail server")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(hours=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    files = TlsFiles(folder / "server.pem", folder / "server.key")
    files.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    files.key.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return files


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass(frozen=True)
class MailServer:
    port: int
    security: str
    mailbox: Mailbox
    tls: TlsFiles

    @property
    def delivered(self) -> list[Delivered]:
        return self.mailbox.delivered

    def settings(self, **changes: Any) -> MailSettings:
        """Client settings for this server, trusting its certificate through a CA file."""
        values: dict[str, Any] = {
            "host": "127.0.0.1",
            "port": self.port,
            "security": self.security,
            "from_address": SENDER,
            "timeout_s": 10.0,
            "cafile": self.tls.cert,
        }
        values.update(changes)
        return MailSettings(**values)


StartServer = Callable[..., MailServer]


@pytest.fixture
def mail_server(tls_files: TlsFiles) -> Iterator[StartServer]:
    """Start servers with ``mail_server(security="starttls", auth=True)``; all stop afterwards."""
    running: list[Controller] = []

    def start(*, security: str = "none", auth: bool = False) -> MailServer:
        mailbox = Mailbox()
        options: dict[str, Any] = {}
        if security == "starttls":
            options.update(tls_context=tls_files.server_context(), require_starttls=True)
        elif security == "ssl":
            options.update(ssl_context=tls_files.server_context())
        if auth:
            # aiosmtpd counts only STARTTLS as TLS for AUTH; an SSL session is encrypted whole.
            ssl_only = security == "ssl"
            options.update(
                authenticator=_authenticate,
                auth_required=not ssl_only,
                auth_require_tls=not ssl_only,
            )
        port = free_port()
        controller = Controller(mailbox, hostname="127.0.0.1", port=port, **options)
        controller.start()
        running.append(controller)
        return MailServer(port, security, mailbox, tls_files)

    yield start
    for controller in running:
        controller.stop()
