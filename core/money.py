"""Money as Decimal: half-up rounding to the cent, line and document totals, Stripe cents."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from core.enums import DiscountType

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
HUNDRED = Decimal(100)
MAX_AMOUNT = Decimal("9999999999.99")  # NUMERIC(12,2)
# Commas only as thousands separators: "12,50" typed for 12.50 must not become 1250.
_GROUPED = re.compile(r"[+-]?\d{1,3}(,\d{3})+(\.\d*)?")


class MoneyError(ValueError):
    pass


def to_decimal(value: object, what: str = "amount") -> Decimal:
    """Parse a user-typed or stored number exactly; floats are refused, never rounded in."""
    if isinstance(value, float):
        raise MoneyError(f"The {what} must be given exactly, not as a float.")
    text = value.strip() if isinstance(value, str) else value
    if isinstance(text, str) and "," in text:
        if not _GROUPED.fullmatch(text):
            raise MoneyError(f"The {what} {value!r} is not a number (use a point for decimals).")
        text = text.replace(",", "")
    if not isinstance(text, (str, int, Decimal)) or isinstance(text, bool):
        raise MoneyError(f"The {what} {value!r} is not a number.")
    try:
        number = Decimal(text)
    except (InvalidOperation, ValueError):
        raise MoneyError(f"The {what} {value!r} is not a number.") from None
    if not number.is_finite():
        raise MoneyError(f"The {what} {value!r} is not a number.")
    return number


def round_money(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def parse_money(value: object, what: str = "amount", *, allow_zero: bool = True) -> Decimal:
    """A non-negative amount with at most two decimals, as staff would type it."""
    number = to_decimal(value, what)
    if number < 0:
        raise MoneyError(f"The {what} cannot be negative.")
    # Checked before quantize, which raises InvalidOperation past 28 digits ("1e30").
    if number > MAX_AMOUNT:
        raise MoneyError(f"The {what} {value} is too large.")
    if number != number.quantize(CENT):
        raise MoneyError(f"The {what} {value} has more than two decimals.")
    if not allow_zero and number == 0:
        raise MoneyError(f"The {what} must be more than zero.")
    return abs(number).quantize(CENT)  # abs: "-0" would otherwise come back as -0.00


def to_cents(amount: Decimal) -> int:
    """Integer minor units for Stripe; refuses amounts that are not whole cents."""
    if not amount.is_finite() or abs(amount) > MAX_AMOUNT:
        raise MoneyError(f"{amount} is not an amount that can be charged.")
    if amount != amount.quantize(CENT):
        raise MoneyError(f"{amount} is not a whole number of cents.")
    return int((amount * 100).to_integral_value())


def from_cents(cents: int) -> Decimal:
    return (Decimal(cents) / 100).quantize(CENT)


def format_money(amount: Decimal, currency: str = "AUD") -> str:
    symbol = {"AUD": "A$", "USD": "US$", "NZD": "NZ$", "EUR": "€", "GBP": "£", "CAD": "C$"}.get(
        currency, f"{currency} "
    )
    sign = "-" if amount < 0 else ""
    return f"{sign}{symbol}{abs(round_money(amount)):,.2f}"


def _discounted(gross: Decimal, kind: DiscountType, value: Decimal, what: str) -> Decimal:
    if value < 0:
        raise MoneyError(f"The {what} cannot be negative.")
    if kind is DiscountType.PERCENT:
        if value > HUNDRED:
            raise MoneyError(f"The {what} cannot be more than 100 %.")
        return gross * (HUNDRED - value) / HUNDRED
    if kind is DiscountType.FIXED:
        if value > gross:
            applies_to = round_money(gross)
            raise MoneyError(f"The {what} ({value}) is more than the {applies_to} it applies to.")
        return gross - value
    return gross


def line_total(
    quantity: Decimal,
    unit_price: Decimal,
    discount_type: DiscountType = DiscountType.NONE,
    discount_value: Decimal = ZERO,
) -> Decimal:
    """quantity × unit price less the line's discount, rounded half-up to the cent."""
    if quantity <= 0:
        raise MoneyError("The quantity must be more than zero.")
    if unit_price < 0:
        raise MoneyError("The unit price cannot be negative.")
    return round_money(
        _discounted(quantity * unit_price, discount_type, discount_value, "line discount")
    )


@dataclass(frozen=True)
class DocumentTotals:
    subtotal: Decimal
    discount_total: Decimal
    shipping: Decimal
    tax_total: Decimal
    total: Decimal

    @property
    def net(self) -> Decimal:
        """What the shop keeps before tax."""
        return self.total - self.tax_total


def document_totals(
    line_totals: Iterable[Decimal],
    *,
    discount_type: DiscountType = DiscountType.NONE,
    discount_value: Decimal = ZERO,
    shipping: Decimal = ZERO,
    tax_rate: Decimal = ZERO,
    tax_inclusive: bool = False,
) -> DocumentTotals:
    """Discount on the subtotal, then shipping, then tax on (discounted + shipping).

    Exclusive tax is added on top; inclusive tax is the part of the total that is tax.
    Every figure is whole cents and ``subtotal - discount + shipping (+ tax) == total``.
    """
    if shipping < 0:
        raise MoneyError("Shipping cannot be negative.")
    if not (0 <= tax_rate < 1):
        raise MoneyError("The tax rate must be between 0 and 100 %.")
    subtotal = round_money(sum(line_totals, ZERO))
    discounted = round_money(_discounted(subtotal, discount_type, discount_value, "discount"))
    discount_total = subtotal - discounted
    taxable = discounted + round_money(shipping)
    if tax_inclusive:
        tax = round_money(taxable * tax_rate / (1 + tax_rate))
        total = taxable
    else:
        tax = round_money(taxable * tax_rate)
        total = taxable + tax
    return DocumentTotals(subtotal, discount_total, round_money(shipping), tax, total)
