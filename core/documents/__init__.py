"""Quote and invoice PDFs: business details, items, totals, tax, payment link and QR code."""

from core.documents.render import (
    DocumentError,
    DocumentKind,
    DocumentRenderer,
    default_renderer,
    pdf_filename,
    pdf_key_for,
    render_invoice_pdf,
    render_quote_pdf,
)

__all__ = [
    "DocumentError",
    "DocumentKind",
    "DocumentRenderer",
    "default_renderer",
    "pdf_filename",
    "pdf_key_for",
    "render_invoice_pdf",
    "render_quote_pdf",
]
