"""Money arithmetic: exact parsing, half-up cents, totals that add up, Stripe cents."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.enums import DiscountType
from core.money import (
    MAX_AMOUNT,
    ZERO,
    DocumentTotals,
    MoneyError,
    document_totals,
    format_money,
    from_cents,
    line_total,
    parse_money,
    round_money,
    to_cents,
    to_decimal,
)

D = Decimal
PROPERTY = settings(max_examples=150, deadline=None)

amounts = st.decimals(min_value=0, max_value=MAX_AMOUNT, places=2)
line_amounts = st.decimals(min_value=0, max_value=D("100000"), places=2)
tax_rates = st.decimals(min_value=0, max_value=D("0.99"), places=4)
quantities = st.decimals(min_value=D("0.001"), max_value=D("999999"), places=3)
unit_prices = st.decimals(min_value=0, max_value=D("100000"), places=2)


def two_places(value: Decimal) -> bool:
    exponent = value.as_tuple().exponent
    return value.is_finite() and exponent == -2


def assert_all_cents(totals: DocumentTotals) -> None:
    for name in ("subtotal", "discount_total", "shipping", "tax_total", "total"):
        value = getattr(totals, name)
        assert two_places(value), f"{name} = {value!r} is not exactly two decimals"


# --- hand-checked examples ---------------------------------------------------------------


def test_half_up_not_bankers_rounding() -> None:
    assert round_money(D("0.125")) == D("0.13")  # banker's rounding would give 0.12
    assert round_money(D("0.135")) == D("0.14")
    assert round_money(D("2.5")) == D("2.50")
    assert round_money(D("-0.125")) == D("-0.13")  # half away from zero
    # 0.5 × 0.05 = 0.025 → 0.03
    assert line_total(D("0.5"), D("0.05")) == D("0.03")


def test_three_at_19_99_less_10_percent_with_metro_shipping_and_gst_exclusive() -> None:
    # 3 × 19.99 = 59.97 (one line)
    # 10 % off: 59.97 × 0.90 = 53.973 → 53.97, so the discount is 59.97 − 53.97 = 6.00
    # + shipping 12.50 → taxable 66.47
    # GST 10 % on 66.47 = 6.647 → 6.65
    # total = 66.47 + 6.65 = 73.12 (and 59.97 − 6.00 + 12.50 + 6.65 = 73.12)
    line = line_total(D(3), D("19.99"))
    assert line == D("59.97")
    totals = document_totals(
        [line],
        discount_type=DiscountType.PERCENT,
        discount_value=D(10),
        shipping=D("12.50"),
        tax_rate=D("0.10"),
    )
    assert totals == DocumentTotals(
        subtotal=D("59.97"),
        discount_total=D("6.00"),
        shipping=D("12.50"),
        tax_total=D("6.65"),
        total=D("73.12"),
    )
    assert totals.net == D("66.47")
    assert_all_cents(totals)


def test_same_order_with_gst_inclusive() -> None:
    # Same 66.47 after discount and shipping; inclusive GST is the tax part of it:
    # 66.47 × 0.10 / 1.10 = 6.0427… → 6.04; the total stays 66.47, net 60.43.
    totals = document_totals(
        [D("59.97")],
        discount_type=DiscountType.PERCENT,
        discount_value=D(10),
        shipping=D("12.50"),
        tax_rate=D("0.10"),
        tax_inclusive=True,
    )
    assert (totals.subtotal, totals.discount_total, totals.shipping) == (
        D("59.97"),
        D("6.00"),
        D("12.50"),
    )
    assert totals.tax_total == D("6.04")
    assert totals.total == D("66.47")
    assert totals.net == D("60.43")


def test_line_discount_on_three_at_19_99() -> None:
    # 59.97 less 10 % = 53.973 → 53.97; less a fixed 5.00 = 54.97
    assert line_total(D(3), D("19.99"), DiscountType.PERCENT, D(10)) == D("53.97")
    assert line_total(D(3), D("19.99"), DiscountType.FIXED, D("5.00")) == D("54.97")


def test_fixed_discount_then_gst() -> None:
    # 60.00 + 40.00 = 100.00; less 15.50 = 84.50; GST 10 % = 8.45; total 92.95
    totals = document_totals(
        [D("60.00"), D("40.00")],
        discount_type=DiscountType.FIXED,
        discount_value=D("15.50"),
        tax_rate=D("0.10"),
    )
    assert totals == DocumentTotals(D("100.00"), D("15.50"), D("0.00"), D("8.45"), D("92.95"))


def test_no_lines_no_terms_is_all_zero() -> None:
    totals = document_totals([])
    assert totals == DocumentTotals(ZERO, ZERO, ZERO, ZERO, ZERO)
    assert_all_cents(totals)


def test_percent_discount_of_100_gives_zero() -> None:
    assert line_total(D(2), D("19.99"), DiscountType.PERCENT, D(100)) == D("0.00")
    totals = document_totals(
        [D("59.97"), D("10.01")], discount_type=DiscountType.PERCENT, discount_value=D(100)
    )
    assert totals.discount_total == D("69.98")  # 59.97 + 10.01, all of it
    assert totals.total == D("0.00")
    assert totals.tax_total == D("0.00")
    assert_all_cents(totals)
    # Shipping is still charged (and taxed) after a 100 % discount on the goods.
    with_shipping = document_totals(
        [D("59.97")],
        discount_type=DiscountType.PERCENT,
        discount_value=D(100),
        shipping=D("12.50"),
        tax_rate=D("0.10"),
    )
    assert with_shipping.total == D("13.75")  # 12.50 + 1.25 GST


def test_fixed_discount_equal_to_subtotal_is_allowed() -> None:
    totals = document_totals(
        [D("25.00")], discount_type=DiscountType.FIXED, discount_value=D("25.00")
    )
    assert totals.total == D("0.00")


def test_fixed_discount_larger_than_subtotal_is_refused() -> None:
    with pytest.raises(MoneyError, match=r"more than the 25\.00 it applies to"):
        document_totals([D("25.00")], discount_type=DiscountType.FIXED, discount_value=D("25.01"))
    with pytest.raises(MoneyError, match="more than"):
        line_total(D(1), D("5.00"), DiscountType.FIXED, D("5.01"))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"discount_type": DiscountType.PERCENT, "discount_value": D("100.01")}, "100 %"),
        ({"discount_type": DiscountType.PERCENT, "discount_value": D(-1)}, "negative"),
        ({"discount_type": DiscountType.FIXED, "discount_value": D(-1)}, "negative"),
        ({"shipping": D("-0.01")}, "Shipping cannot be negative"),
        ({"tax_rate": D(1)}, "tax rate"),
        ({"tax_rate": D("-0.01")}, "tax rate"),
    ],
)
def test_document_terms_refused(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(MoneyError, match=message):
        document_totals([D("10.00")], **kwargs)  # type: ignore[arg-type]


def test_line_total_refusals() -> None:
    with pytest.raises(MoneyError, match="quantity must be more than zero"):
        line_total(D(0), D("1.00"))
    with pytest.raises(MoneyError, match="unit price cannot be negative"):
        line_total(D(1), D("-1.00"))


# --- parse_money and to_decimal ------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("12.5", "12.50"),
        (" 12.50 ", "12.50"),
        ("1,234.50", "1234.50"),
        ("1,000,000", "1000000.00"),
        ("0", "0.00"),
        ("-0", "0.00"),
        (7, "7.00"),
        (D("3.1"), "3.10"),
        ("9999999999.99", "9999999999.99"),
    ],
)
def test_parse_money_accepts(typed: object, expected: str) -> None:
    parsed = parse_money(typed)
    assert parsed == D(expected)
    assert str(parsed) == expected  # exactly two decimals, and never "-0.00"


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        (1.5, "not as a float"),
        (0.1, "not as a float"),
        ("-1", "cannot be negative"),
        (D("-0.01"), "cannot be negative"),
        ("1.234", "more than two decimals"),
        (D("0.001"), "more than two decimals"),
        ("NaN", "not a number"),
        ("nan", "not a number"),
        ("sNaN", "not a number"),
        ("Infinity", "not a number"),
        ("-Infinity", "not a number"),
        ("inf", "not a number"),
        (D("NaN"), "not a number"),
        ("", "not a number"),
        ("abc", "not a number"),
        ("$12.50", "not a number"),
        ("12.50 AUD", "not a number"),
        ("1.2.3", "not a number"),
        (None, "not a number"),
        (True, "not a number"),
        ([1], "not a number"),
        ("12,50", "use a point for decimals"),  # was read as 1250.00
        ("1,5", "use a point for decimals"),
        ("10000000000", "too large"),
        ("1e30", "too large"),  # used to escape as decimal.InvalidOperation
    ],
)
def test_parse_money_refuses_with_a_clear_message(typed: object, message: str) -> None:
    with pytest.raises(MoneyError, match=message) as caught:
        parse_money(typed, "unit price")
    assert "unit price" in str(caught.value)


def test_parse_money_can_refuse_zero() -> None:
    with pytest.raises(MoneyError, match="must be more than zero"):
        parse_money("0.00", "payment", allow_zero=False)
    assert parse_money("0.01", allow_zero=False) == D("0.01")


def test_to_decimal_keeps_quantities_exact() -> None:
    assert to_decimal("2.125", "quantity") == D("2.125")
    with pytest.raises(MoneyError, match="float"):
        to_decimal(2.0, "quantity")


@PROPERTY
@given(amounts)
def test_parse_money_reads_back_any_two_decimal_amount(amount: Decimal) -> None:
    parsed = parse_money(str(amount))
    assert parsed == amount
    assert two_places(parsed)
    assert parse_money(f"{amount:,}") == amount  # with thousands separators


@PROPERTY
@given(st.floats(allow_nan=True, allow_infinity=True))
def test_parse_money_refuses_every_float(value: float) -> None:
    with pytest.raises(MoneyError, match="float"):
        parse_money(value)


@PROPERTY
@given(st.decimals(min_value=D("-1000"), max_value=D("1000"), places=3))
def test_parse_money_never_rounds_silently(amount: Decimal) -> None:
    try:
        parsed = parse_money(amount)
    except MoneyError:
        assert amount < 0 or amount != amount.quantize(D("0.01"))
    else:
        assert parsed == amount


@PROPERTY
@given(st.text(max_size=12))
def test_parse_money_on_any_text_returns_cents_or_money_error(text: str) -> None:
    try:
        parsed = parse_money(text)
    except MoneyError as exc:
        assert str(exc)
    else:
        assert two_places(parsed)
        assert 0 <= parsed <= MAX_AMOUNT


# --- Stripe cents --------------------------------------------------------------------------


def test_cents_examples() -> None:
    assert to_cents(D("19.99")) == 1999
    assert to_cents(D("0.10")) == 10
    assert to_cents(D("73.12")) == 7312
    assert to_cents(D("5")) == 500
    assert to_cents(D("-1.50")) == -150  # refunds
    assert to_cents(MAX_AMOUNT) == 999_999_999_999
    assert from_cents(1999) == D("19.99")
    assert str(from_cents(10)) == "0.10"
    assert str(from_cents(0)) == "0.00"


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        (D("19.999"), "not a whole number of cents"),
        (D("0.001"), "not a whole number of cents"),
        (D("NaN"), "not an amount that can be charged"),
        (D("Infinity"), "not an amount that can be charged"),
        (
            D("1e30"),
            "not an amount that can be charged",
        ),  # used to escape as decimal.InvalidOperation
    ],
)
def test_to_cents_refuses(amount: Decimal, message: str) -> None:
    with pytest.raises(MoneyError, match=message):
        to_cents(amount)


@PROPERTY
@given(st.decimals(min_value=-MAX_AMOUNT, max_value=MAX_AMOUNT, places=2))
def test_cents_round_trip_for_any_two_decimal_amount(amount: Decimal) -> None:
    cents = to_cents(amount)
    assert isinstance(cents, int)
    assert from_cents(cents) == amount
    assert two_places(from_cents(cents))


@PROPERTY
@given(st.integers(min_value=-999_999_999_999, max_value=999_999_999_999))
def test_cents_round_trip_for_any_integer(cents: int) -> None:
    assert to_cents(from_cents(cents)) == cents


# --- totals always add up ------------------------------------------------------------------


@PROPERTY
@given(quantities, unit_prices)
def test_line_total_is_the_product_to_the_nearest_cent(quantity: Decimal, unit: Decimal) -> None:
    total = line_total(quantity, unit)
    assert two_places(total)
    error = total - quantity * unit
    assert -D("0.005") < error <= D("0.005")  # half-up: an exact half cent goes up


@st.composite
def documents(draw: st.DrawFn) -> tuple[list[Decimal], DiscountType, Decimal]:
    lines = draw(st.lists(line_amounts, max_size=8))
    subtotal = sum(lines, ZERO)
    kind = draw(st.sampled_from(DiscountType))
    if kind is DiscountType.PERCENT:
        value = draw(st.decimals(min_value=0, max_value=100, places=2))
    elif kind is DiscountType.FIXED:
        value = draw(st.decimals(min_value=0, max_value=subtotal, places=2))
    else:
        value = ZERO
    return lines, kind, value


@PROPERTY
@given(
    documents(),
    st.decimals(min_value=0, max_value=D("1000"), places=2),
    tax_rates,
    st.booleans(),
)
def test_document_totals_always_add_up_to_the_cent(
    document: tuple[list[Decimal], DiscountType, Decimal],
    shipping: Decimal,
    tax_rate: Decimal,
    inclusive: bool,
) -> None:
    lines, kind, value = document
    totals = document_totals(
        lines,
        discount_type=kind,
        discount_value=value,
        shipping=shipping,
        tax_rate=tax_rate,
        tax_inclusive=inclusive,
    )
    assert_all_cents(totals)
    assert totals.subtotal == sum(lines, ZERO)
    assert 0 <= totals.discount_total <= totals.subtotal
    assert totals.shipping == shipping
    assert totals.tax_total >= 0
    before_tax = totals.subtotal - totals.discount_total + totals.shipping
    if inclusive:
        assert totals.total == before_tax
        assert 0 <= totals.tax_total <= totals.total
    else:
        assert totals.total == before_tax + totals.tax_total
    assert totals.net == totals.total - totals.tax_total
    assert to_cents(totals.total) == round(totals.total * 100)


def test_format_money() -> None:
    assert format_money(D("1234.5")) == "A$1,234.50"
    assert format_money(D("-73.12"), "USD") == "-US$73.12"
    assert format_money(D("1"), "JPY") == "JPY 1.00"
