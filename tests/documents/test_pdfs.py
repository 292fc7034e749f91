"""Invoice and quote PDFs made from the real services' views, read back as a client would."""

from __future__ import annotations

import io
import re
import shutil
import struct
import subprocess
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import pypdf
import pytest
import segno
from pypdf.generic import DictionaryObject, StreamObject

from core.actor import Actor
from core.db.engine import Database
from core.documents import (
    DocumentError,
    DocumentRenderer,
    pdf_key_for,
    render_invoice_pdf,
    render_quote_pdf,
)
from core.documents.model import invoice_document
from core.money import format_money
from core.services import invoices, quotes
from core.services.line_items import DocumentTerms
from tests.documents.sample import (
    BUSINESS,
    CLIENT_NAME,
    PAYMENT_URL,
    Shop,
    items,
    make_invoice,
    make_quote,
    pdf_text,
    set_up_shop,
)


@pytest.fixture
def shop(database: Database, admin: Actor) -> Shop:
    return set_up_shop(database, admin)


def _flat(text: str) -> str:
    """Text with line breaks removed, for values the layout may wrap (a long link)."""
    return re.sub(r"\s+", "", text)


def _dict(value: Any) -> DictionaryObject:
    resolved = value.get_object()
    assert isinstance(resolved, DictionaryObject)
    return resolved


def _int(value: Any) -> int:
    return int(value)


def _resources(page: pypdf.PageObject) -> DictionaryObject:
    return _dict(page["/Resources"])


def _images(page: pypdf.PageObject) -> list[StreamObject]:
    xobjects = _resources(page).get("/XObject")
    if xobjects is None:
        return []
    found = []
    for ref in _dict(xobjects).values():
        xobject = ref.get_object()
        if xobject["/Subtype"] == "/Image":
            assert isinstance(xobject, StreamObject)
            found.append(xobject)
    return found


def _font_files(pdf: bytes) -> dict[str, list[str]]:
    """Each font used on any page -> the embedded font-file keys of its descriptor."""
    fonts: dict[str, list[str]] = {}
    for page in pypdf.PdfReader(io.BytesIO(pdf)).pages:
        for ref in _dict(_resources(page)["/Font"]).values():
            font = ref.get_object()
            descendants = font.get("/DescendantFonts")
            target = descendants.get_object()[0].get_object() if descendants else font
            descriptor = target["/FontDescriptor"].get_object()
            fonts[str(font["/BaseFont"])] = [k for k in descriptor if k.startswith("/FontFile")]
    return fonts


def test_invoice_pdf_shows_everything_a_tax_invoice_needs(
    database: Database, admin: Actor, shop: Shop
) -> None:
    invoice = make_invoice(database, admin, shop)
    assert invoice.discount_total > 0 and invoice.amount_paid == Decimal("50.00")

    pdf = render_invoice_pdf(invoice, shop.settings, payment_url=PAYMENT_URL, client=shop.client)

    assert pdf.startswith(b"%PDF")
    pages = pdf_text(pdf)
    assert len(pages) == 1
    text = pages[0]
    money = invoice.currency
    for expected in [
        "TAX INVOICE",
        invoice.number,
        CLIENT_NAME,
        "Ångström Robotics",
        "Sydney NSW 2000",
        BUSINESS["name"],
        f"ABN {BUSINESS['tax_id']}",
        "Brunswick VIC 3056",
        "Subtotal",
        format_money(invoice.subtotal, money),
        "Discount (10%)",
        format_money(-invoice.discount_total, money),
        "Shipping (Metro)",
        format_money(invoice.shipping_amount, money),
        "GST 10%",
        format_money(invoice.tax_total, money),
        format_money(invoice.total, money),
        "Amount paid",
        format_money(-invoice.amount_paid, money),
        "Balance due",
        format_money(invoice.balance_due, money),
        "Account name: Layer Lab Pty Ltd",
        "BSB: 063-000",
        f"Reference: {invoice.number}",
        "Parts ready for pick-up from Thursday.",
        "Page 1 of 1",
    ]:
        assert expected in text, expected
    assert invoice.issue_date.strftime("%b %Y") in text
    assert invoice.due_date is not None and invoice.due_date.strftime("%b %Y") in text
    for item in invoice.items:
        assert format_money(item.line_total, money) in text
    assert PAYMENT_URL in _flat(text)
    assert "PAID" not in text


def test_the_qr_code_is_an_image_of_the_payment_link(
    database: Database, admin: Actor, shop: Shop
) -> None:
    invoice = make_invoice(database, admin, shop)
    pdf = render_invoice_pdf(invoice, shop.settings, payment_url=PAYMENT_URL)

    (image,) = _images(pypdf.PdfReader(io.BytesIO(pdf)).pages[0])
    # The picture's pixels are exactly the QR code of the link (with its quiet zone).
    expected = segno.make(PAYMENT_URL, error="m", micro=False)
    rows = [bytes(0 if dark else 255 for dark in row) for row in expected.matrix_iter(border=4)]
    width, height = _int(image["/Width"]), _int(image["/Height"])
    assert (width, height) == (len(rows[0]), len(rows))
    assert _int(image["/BitsPerComponent"]) == 8
    pixels = image.get_data()
    assert len(pixels) == width * height
    assert [pixels[y * width : (y + 1) * width] for y in range(height)] == rows

    without = render_invoice_pdf(invoice, shop.settings, payment_url=None)
    assert _images(pypdf.PdfReader(io.BytesIO(without)).pages[0]) == []
    assert "checkout.stripe.com" not in pdf_text(without)[0]
    assert "BSB: 063-000" in pdf_text(without)[0]


def test_fonts_are_embedded(database: Database, admin: Actor, shop: Shop) -> None:
    pdf = render_invoice_pdf(make_invoice(database, admin, shop), shop.settings, payment_url=None)
    fonts = _font_files(pdf)
    # Latin text in Noto Sans, the Chinese character from the CJK fallback; all embedded.
    assert any("NotoSans-Regular" in name for name in fonts)
    assert any("NotoSans-Bold" in name for name in fonts)
    assert any("DroidSansFallback" in name for name in fonts)
    assert all(files for files in fonts.values()), fonts


def test_sixty_items_run_over_several_pages_with_the_header_repeated(
    database: Database, admin: Actor, shop: Shop
) -> None:
    invoice = make_invoice(database, admin, shop, count=60)
    pages = pdf_text(render_invoice_pdf(invoice, shop.settings, payment_url=PAYMENT_URL))

    assert len(pages) >= 3
    for number, page in enumerate(pages, start=1):
        if "Part " in page:  # every page the items run onto starts with the header row
            assert "Description" in page and "Unit price" in page, number
            assert page.index("Unit price") < page.index("Part "), number
        assert f"Page {number} of {len(pages)}" in page
    everything = "\n".join(pages)
    for n in range(1, 61):
        assert everything.count(f"Part {n:02d}:") == 1, n
    assert "Balance due" in pages[-1]
    assert format_money(invoice.balance_due, invoice.currency) in pages[-1]


def test_paid_and_void_invoices_are_stamped(database: Database, admin: Actor, shop: Shop) -> None:
    paid = make_invoice(database, admin, shop, paid="all")
    text = pdf_text(render_invoice_pdf(paid, shop.settings, payment_url=PAYMENT_URL))[0]
    assert "PAID" in text
    assert "How to pay".upper() not in text and "BSB" not in text
    assert "checkout.stripe.com" not in text  # no link to pay a paid invoice

    pending = make_invoice(database, admin, shop, paid=None)
    with database.session() as s:
        void = invoices.void_invoice(s, admin, pending.id, "entered twice")
    text = pdf_text(render_invoice_pdf(void, shop.settings, payment_url=None))[0]
    assert "VOID" in text and "Balance due" not in text


def test_without_tax_it_is_an_invoice_not_a_tax_invoice(
    database: Database, admin: Actor, shop: Shop
) -> None:
    with database.session() as s:
        invoice = invoices.create_invoice(
            s, admin, shop.client.id, items(2), DocumentTerms(tax_rate=Decimal("0"))
        )
    text = pdf_text(render_invoice_pdf(invoice, shop.settings, payment_url=None))[0]
    assert "INVOICE" in text and "TAX INVOICE" not in text and "GST" not in text


def test_tax_inclusive_prices_show_the_tax_they_include(
    database: Database, admin: Actor, shop: Shop
) -> None:
    with database.session() as s:
        invoice = invoices.create_invoice(
            s, admin, shop.client.id, items(2), DocumentTerms(tax_inclusive=True)
        )
    text = pdf_text(render_invoice_pdf(invoice, shop.settings, payment_url=None))[0]
    assert "TAX INVOICE" in text
    assert f"Includes GST 10% {format_money(invoice.tax_total, invoice.currency)}" in text


def test_a_declined_quote_is_stamped(database: Database, admin: Actor, shop: Shop) -> None:
    quote = make_quote(database, admin, shop, count=1)
    with database.session() as s:
        declined = quotes.decline_quote(s, admin, quote.id)
    assert "DECLINED" in pdf_text(render_quote_pdf(declined, shop.settings))[0]
    assert "DECLINED" not in pdf_text(render_quote_pdf(quote, shop.settings))[0]


def test_quote_pdf(database: Database, admin: Actor, shop: Shop) -> None:
    quote = make_quote(database, admin, shop)
    (text,) = pdf_text(render_quote_pdf(quote, shop.settings, client=shop.client))
    for expected in [
        "QUOTE",
        quote.number,
        CLIENT_NAME,
        f"ABN {BUSINESS['tax_id']}",
        "Valid until",
        "GST 10%",
        format_money(quote.tax_total, quote.currency),
        format_money(quote.total, quote.currency),
        "Discount (10%)",
        "Shipping (Metro)",
    ]:
        assert expected in text, expected
    assert quote.expiry_date is not None and quote.expiry_date.strftime("%b %Y") in text
    assert "Balance due" not in text and "BSB" not in text


def test_text_from_the_database_is_shown_as_written_never_run_as_markup(
    database: Database, admin: Actor, shop: Shop
) -> None:
    invoice = make_invoice(database, admin, shop, count=1)
    tricky = '#set page(fill: red) *bold* $x^2$ <label> @ref \\ ] ) " // not a comment'
    view = invoice.__class__(**{**invoice.__dict__, "client_name": tricky, "notes": tricky})
    text = pdf_text(render_invoice_pdf(view, shop.settings, payment_url=None))[0]
    assert " ".join(text.split()).count(tricky) == 2  # as written (wrapped lines joined)


def test_rendering_is_fast_once_warm(database: Database, admin: Actor, shop: Shop) -> None:
    invoice = make_invoice(database, admin, shop, count=10)
    renderer = DocumentRenderer()
    renderer.invoice(invoice, shop.settings, payment_url=PAYMENT_URL)
    timings = []
    for _ in range(5):
        start = time.perf_counter()
        renderer.invoice(invoice, shop.settings, payment_url=PAYMENT_URL)
        timings.append(time.perf_counter() - start)
    assert min(timings) < 0.100, timings


def test_a_missing_template_is_a_plain_error(tmp_path: Path) -> None:
    with pytest.raises(DocumentError, match="PDF template"):
        DocumentRenderer(tmp_path)


def test_pdf_keys() -> None:
    assert pdf_key_for("invoice", "INV-0007") == "invoices/INV-0007.pdf"
    assert pdf_key_for("quote", "QT-0003") == "quotes/QT-0003.pdf"
    assert pdf_key_for("invoice", "INV/2026 07") == "invoices/INV-2026-07.pdf"
    with pytest.raises(ValueError):
        pdf_key_for("receipt", "R-1")  # type: ignore[arg-type]


def test_document_data_is_plain_json(database: Database, admin: Actor, shop: Shop) -> None:
    invoice = make_invoice(database, admin, shop, count=2)
    data: dict[str, Any] = invoice_document(invoice, shop.settings, payment_url=PAYMENT_URL)
    assert data["title"] == "TAX INVOICE"
    assert [row["label"] for row in data["totals"]] == [
        "Subtotal",
        "Discount (10%)",
        "Shipping (Metro)",
        "GST 10%",
        "Total AUD",
        "Amount paid",
        "Balance due",
    ]


def _png_size(path: Path) -> tuple[int, int]:
    width, height = struct.unpack(">II", path.read_bytes()[16:24])
    return width, height


@pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="poppler-utils is not installed")
def test_first_pages_render_to_png(
    database: Database, admin: Actor, shop: Shop, tmp_path: Path
) -> None:
    """A rasteriser other than Typst opens the files; the PNGs are kept in tmp_path to look at."""
    invoice = make_invoice(database, admin, shop)
    quote = make_quote(database, admin, shop)
    documents = {
        "invoice": render_invoice_pdf(
            invoice, shop.settings, payment_url=PAYMENT_URL, client=shop.client
        ),
        "quote": render_quote_pdf(quote, shop.settings, client=shop.client),
    }
    for name, pdf in documents.items():
        (tmp_path / f"{name}.pdf").write_bytes(pdf)
        subprocess.run(
            [
                "pdftoppm",
                "-png",
                "-r",
                "100",
                "-f",
                "1",
                "-l",
                "1",
                "-singlefile",
                str(tmp_path / f"{name}.pdf"),
                str(tmp_path / name),
            ],
            check=True,
            capture_output=True,
        )
        # A4 at 100 dpi.
        assert _png_size(tmp_path / f"{name}.png") == (827, 1170)


def test_a_shop_without_bank_details_or_link_prints_no_empty_how_to_pay(
    database: Database, admin: Actor, shop: Shop
) -> None:
    """A new shop has no bank details yet: the owing invoice says nothing about how to pay
    rather than a heading over an empty box; with a link, the section is back."""
    invoice = make_invoice(database, admin, shop, paid=None)
    no_bank = shop.settings.model_copy(
        update={"business": shop.settings.business.model_copy(update={"bank_details": ""})}
    )
    text = pdf_text(render_invoice_pdf(invoice, no_bank, payment_url=None))[0]
    assert "Balance due" in text
    assert "How to pay".upper() not in text.upper()
    assert "Reference: " not in text

    with_link = pdf_text(render_invoice_pdf(invoice, no_bank, payment_url=PAYMENT_URL))[0]
    assert "How to pay".upper() in with_link.upper() and "Pay online by card" in with_link
