"""Email templates: defaults from resources, the shop's own copies, placeholders and escaping."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.mail import EmailTemplate, MailTemplateError

VALUES = {
    "business_name": "Layer Lab",
    "business_phone": "(03) 9123 4567",
    "client_name": "Zoë <script>alert(1)</script>",
    "invoice_number": "INV-0007",
    "total": "A$92.92",
    "balance_due": "A$42.92",
    "due_date": "21 Mar 2026",
    "payment_url": "https://pay.example/c?a=1&b=2",
}


def test_default_templates_load_and_fill() -> None:
    for kind in ("invoice", "quote", "payment_link"):
        EmailTemplate.load(kind)
    rendered = EmailTemplate.load("invoice").render(VALUES)
    assert rendered.subject == "Invoice INV-0007 from Layer Lab"
    assert "Hello Zoë <script>alert(1)</script>," in rendered.text  # plain text stays as typed
    assert "Pay online by card: https://pay.example/c?a=1&b=2" in rendered.text
    assert "Zoë &lt;script&gt;alert(1)&lt;/script&gt;" in rendered.html
    assert "<script>" not in rendered.html
    assert 'href="https://pay.example/c?a=1&amp;b=2"' in rendered.html


def test_a_line_without_its_value_is_left_out() -> None:
    rendered = EmailTemplate.load("invoice").render(
        {**VALUES, "payment_url": "", "business_phone": ""}
    )
    assert "Pay online" not in rendered.text and "Pay online" not in rendered.html
    assert "href" not in rendered.html
    assert "\n\n\n" not in rendered.text
    assert rendered.text.rstrip().endswith("Layer Lab")


def test_the_subject_is_one_line_and_never_dropped() -> None:
    template = EmailTemplate("invoice", "Invoice $invoice_number for $client_name", "x", "x")
    rendered = template.render({"invoice_number": "INV-1", "client_name": "A\r\nBcc: b@c.d"})
    assert rendered.subject == "Invoice INV-1 for A Bcc: b@c.d"
    assert template.render({"invoice_number": "INV-1"}).subject == "Invoice INV-1 for"


def test_the_shops_own_copy_wins(tmp_path: Path) -> None:
    (tmp_path / "invoice.subject.txt").write_text(
        "Your invoice $invoice_number, $$5 off next time\n"
    )
    template = EmailTemplate.load("invoice", tmp_path)
    assert template.render(VALUES).subject == "Your invoice INV-0007, $5 off next time"
    assert "Balance due: A$42.92" in template.render(VALUES).text  # the rest are the defaults


def test_unknown_placeholders_and_stray_dollars_are_refused(tmp_path: Path) -> None:
    (tmp_path / "invoice.txt").write_text("Hello $client_nmae\n")
    with pytest.raises(
        MailTemplateError, match=r"uses \$client_nmae, which PrintDesk does not know"
    ):
        EmailTemplate.load("invoice", tmp_path)
    with pytest.raises(MailTemplateError, match="stray"):
        EmailTemplate("quote", "Quote costs $5", "x", "x")
