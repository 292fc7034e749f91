"""Quote and invoice PDFs typeset by Typst from a template file, with the shipped fonts embedded."""

from __future__ import annotations

import functools
import json
import logging
import re
import threading
from pathlib import Path
from typing import Any, Literal

import typst

from core.documents.model import invoice_document, quote_document
from core.documents.paths import fonts_dir, resources_dir, templates_dir
from core.errors import ServiceError
from core.services.clients import ClientView
from core.services.invoices import InvoiceView
from core.services.quotes import QuoteView
from core.shop_settings import ShopSettings

log = logging.getLogger(__name__)

DocumentKind = Literal["invoice", "quote"]
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


class DocumentError(ServiceError):
    """A PDF could not be made; the message says which and why."""


def pdf_key_for(kind: DocumentKind, number: str) -> str:
    """Where a document's PDF is kept in the ``pdfs`` bucket: ``invoices/INV-0007.pdf``."""
    if kind not in ("invoice", "quote"):
        raise ValueError(f"Unknown document kind {kind!r}.")
    return f"{kind}s/{pdf_filename(number)}"


def pdf_filename(number: str) -> str:
    """A file name safe on every system, from a document number: ``INV-0007.pdf``."""
    stem = _SAFE_NAME.sub("-", number).strip("-.") or "document"
    return f"{stem}.pdf"


class DocumentRenderer:
    """Holds the loaded fonts and a warm Typst compiler; safe to share between threads.

    Only the fonts in ``resources/fonts`` are used (system and Typst's own fonts are ignored),
    so a PDF comes out the same on every machine and in the frozen bundle.
    """

    def __init__(self, resources: Path | None = None) -> None:
        root = resources or resources_dir()
        self.template_path = templates_dir(root) / "pdf" / "document.typ"
        font_folder = fonts_dir(root)
        if not self.template_path.is_file():
            raise DocumentError(f"The PDF template {self.template_path} is missing.")
        if not any(font_folder.glob("*.ttf")):
            raise DocumentError(f"No fonts for PDFs in {font_folder}.")
        self._template = self.template_path.read_bytes()
        fonts = typst.Fonts(
            include_system_fonts=False, include_embedded_fonts=False, font_paths=[str(font_folder)]
        )
        self._compiler = typst.Compiler(font_paths=fonts, root=str(self.template_path.parent))
        self._lock = threading.Lock()

    def render(self, data: dict[str, Any], *, what: str) -> bytes:
        payload = json.dumps(data, ensure_ascii=False)
        try:
            with self._lock:
                pdf, warnings = self._compiler.compile_with_warnings(
                    input=self._template, format="pdf", sys_inputs={"data": payload}
                )
        except typst.TypstError as exc:
            log.error("documents.render_failed what=%s error=%s", what, exc.message)
            raise DocumentError(f"The PDF of {what} could not be made: {exc.message}") from None
        for warning in warnings:
            log.warning("documents.render_warning what=%s warning=%s", what, warning.message)
        if not isinstance(pdf, bytes):
            raise DocumentError(f"The PDF of {what} came out empty.")
        return pdf

    def invoice(
        self,
        invoice: InvoiceView,
        shop: ShopSettings,
        *,
        payment_url: str | None,
        client: ClientView | None = None,
    ) -> bytes:
        data = invoice_document(invoice, shop, payment_url=payment_url, client=client)
        return self.render(data, what=invoice.number)

    def quote(
        self, quote: QuoteView, shop: ShopSettings, *, client: ClientView | None = None
    ) -> bytes:
        return self.render(quote_document(quote, shop, client=client), what=quote.number)


@functools.cache
def default_renderer() -> DocumentRenderer:
    """The renderer over the shipped resources, made on first use (loading fonts takes ~40 ms)."""
    return DocumentRenderer()


def render_invoice_pdf(
    invoice: InvoiceView,
    shop: ShopSettings,
    *,
    payment_url: str | None,
    client: ClientView | None = None,
    renderer: DocumentRenderer | None = None,
) -> bytes:
    """The invoice as PDF bytes; ``payment_url`` adds the link as text and a QR code."""
    return (renderer or default_renderer()).invoice(
        invoice, shop, payment_url=payment_url, client=client
    )


def render_quote_pdf(
    quote: QuoteView,
    shop: ShopSettings,
    *,
    client: ClientView | None = None,
    renderer: DocumentRenderer | None = None,
) -> bytes:
    return (renderer or default_renderer()).quote(quote, shop, client=client)
