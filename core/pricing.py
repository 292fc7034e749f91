"""The price of a printed part from the shop's own slicing figures and its pricing terms.

The formula is the original app's, with each cost rounded half-up to the cent so that the
breakdown a client sees always adds up to the unit price exactly::

    unit = max(minimum,
               grams × cost_per_gram
               + support_grams × cost_per_gram × support_cost_factor
               + hours × hourly_rate
               + setup_fee)
    line = unit × quantity

Prices exclude tax; discount, shipping and tax are the document's business (``core.money``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from core.money import MAX_AMOUNT, MoneyError, round_money
from core.shop_settings import PricingTerms

GRAMS_PER_KG = Decimal(1000)
SECONDS_PER_HOUR = Decimal(3600)
HOURS_PLACES = Decimal("0.0001")
GRAMS_PLACES = Decimal("0.01")
# Bounds that keep every product well inside Decimal's 28 digits; no real part comes near.
MAX_PRINT_SECONDS = 366 * 24 * 3600
MAX_GRAMS = Decimal(1_000_000)
MAX_QUANTITY = 999_999
MAX_VOLUME_MM3 = Decimal(10) ** 12

# The volume estimate's assumptions (see ``estimate_from_volume``).
DEFAULT_SHELL_FRACTION = Decimal("0.35")
DEFAULT_FLOW_MM3_PER_S = Decimal(8)


class PricingError(MoneyError):
    """A part that cannot be priced; the message can be shown to staff as it is."""


def _exact(value: object, what: str) -> Decimal:
    """A finite, non-negative Decimal (ints accepted); floats and the rest refused."""
    if isinstance(value, bool) or not isinstance(value, (int, Decimal)):
        kind = "a float" if isinstance(value, float) else type(value).__name__
        raise PricingError(f"The {what} must be an exact number, not {kind}.")
    number = Decimal(value)
    if not number.is_finite():
        raise PricingError(f"The {what} must be a finite number, not {number}.")
    if number < 0:
        raise PricingError(f"The {what} cannot be negative ({number}).")
    return number


def _bounded(value: object, what: str, limit: Decimal) -> Decimal:
    number = _exact(value, what)
    if number > limit:
        raise PricingError(f"The {what} {number} is more than {limit}; check the figures.")
    return number


def _text(value: Decimal) -> str:
    # Fixed-point text: "12.30", never "1.23E+1".
    return f"{value:f}"


@dataclass(frozen=True)
class PartMetrics:
    """What one copy of a part takes to print: from our slicer, or from a volume estimate."""

    print_seconds: int
    material_grams: Decimal
    support_grams: Decimal = Decimal(0)
    estimated: bool = False  # figures from ``estimate_from_volume``, not from a slicer

    def __post_init__(self) -> None:
        seconds = self.print_seconds
        if isinstance(seconds, bool) or not isinstance(seconds, int):
            raise PricingError(f"The print time must be whole seconds, not {seconds!r}.")
        if seconds < 0:
            raise PricingError(f"The print time cannot be negative ({seconds} s).")
        if seconds > MAX_PRINT_SECONDS:
            raise PricingError(f"The print time of {seconds} s is more than a year.")
        grams = _bounded(self.material_grams, "material weight", MAX_GRAMS)
        support = _bounded(self.support_grams, "support weight", MAX_GRAMS)
        object.__setattr__(self, "material_grams", grams)
        object.__setattr__(self, "support_grams", support)
        if not isinstance(self.estimated, bool):
            raise PricingError("'estimated' must be True or False.")


@dataclass(frozen=True)
class PriceBreakdown:
    """How a unit price was reached; stored on the line item (``as_json``) next to the price.

    Every money figure is whole cents and, by construction, ``computed`` is the sum of the
    four costs, ``unit_price`` is ``max(minimum_price, computed)`` and ``line_total`` is
    ``unit_price × quantity``. ``hours`` is shown to four places; the machine cost is worked
    out from the exact seconds.
    """

    material_cost: Decimal
    support_cost: Decimal
    machine_cost: Decimal
    setup_fee: Decimal
    computed: Decimal
    minimum_applied: bool
    unit_price: Decimal
    quantity: int
    line_total: Decimal
    grams: Decimal
    support_grams: Decimal
    print_seconds: int
    hours: Decimal
    cost_per_kg: Decimal
    hourly_rate: Decimal
    support_cost_factor: Decimal
    minimum_price: Decimal
    estimated: bool

    def __post_init__(self) -> None:
        if self.quantity < 1:
            raise PricingError("A price breakdown's quantity must be at least 1.")
        costs = (self.material_cost, self.support_cost, self.machine_cost, self.setup_fee)
        money = (*costs, self.computed, self.unit_price, self.line_total, self.minimum_price)
        if any(amount != round_money(amount) for amount in money):
            raise PricingError("A price breakdown holds an amount that is not whole cents.")
        if self.computed != sum(costs, Decimal(0)):
            raise PricingError("A price breakdown's costs do not add up to its computed price.")
        if self.unit_price != max(self.computed, self.minimum_price) or self.minimum_applied != (
            self.computed < self.minimum_price
        ):
            raise PricingError("A price breakdown's unit price does not follow its minimum.")
        if self.line_total != self.unit_price * self.quantity:
            raise PricingError("A price breakdown's line total is not unit price × quantity.")

    def as_json(self) -> dict[str, object]:
        """Plain JSON: Decimals as fixed-point strings ("12.30"), counts as ints."""
        return {
            "material_cost": _text(self.material_cost),
            "support_cost": _text(self.support_cost),
            "machine_cost": _text(self.machine_cost),
            "setup_fee": _text(self.setup_fee),
            "computed": _text(self.computed),
            "minimum_applied": self.minimum_applied,
            "unit_price": _text(self.unit_price),
            "quantity": self.quantity,
            "line_total": _text(self.line_total),
            "grams": _text(self.grams),
            "support_grams": _text(self.support_grams),
            "print_seconds": self.print_seconds,
            "hours": _text(self.hours),
            "cost_per_kg": _text(self.cost_per_kg),
            "hourly_rate": _text(self.hourly_rate),
            "support_cost_factor": _text(self.support_cost_factor),
            "minimum_price": _text(self.minimum_price),
            "estimated": self.estimated,
        }

    @classmethod
    def from_json(cls, data: dict[str, object]) -> PriceBreakdown:
        """Read back what ``as_json`` wrote; other keys on the item's breakdown are ignored."""

        def decimal(key: str) -> Decimal:
            value = data.get(key)
            if not isinstance(value, str):
                raise PricingError(f"The price breakdown has no valid {key!r}.")
            try:
                return _exact(Decimal(value), key)
            except ArithmeticError:
                raise PricingError(f"The price breakdown's {key!r} is not a number.") from None

        def integer(key: str) -> int:
            value = data.get(key)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise PricingError(f"The price breakdown has no valid {key!r}.")
            return value

        def flag(key: str) -> bool:
            value = data.get(key)
            if not isinstance(value, bool):
                raise PricingError(f"The price breakdown has no valid {key!r}.")
            return value

        return cls(
            material_cost=decimal("material_cost"),
            support_cost=decimal("support_cost"),
            machine_cost=decimal("machine_cost"),
            setup_fee=decimal("setup_fee"),
            computed=decimal("computed"),
            minimum_applied=flag("minimum_applied"),
            unit_price=decimal("unit_price"),
            quantity=integer("quantity"),
            line_total=decimal("line_total"),
            grams=decimal("grams"),
            support_grams=decimal("support_grams"),
            print_seconds=integer("print_seconds"),
            hours=decimal("hours"),
            cost_per_kg=decimal("cost_per_kg"),
            hourly_rate=decimal("hourly_rate"),
            support_cost_factor=decimal("support_cost_factor"),
            minimum_price=decimal("minimum_price"),
            estimated=flag("estimated"),
        )


def price_part(
    metrics: PartMetrics,
    *,
    cost_per_kg: Decimal,
    terms: PricingTerms,
    quantity: int = 1,
    hourly_rate: Decimal | None = None,
) -> PriceBreakdown:
    """Price ``quantity`` copies of a part; ``hourly_rate`` (a printer's own) overrides the terms'.

    A part with no print time or no material is refused: that is what a failed slice looks
    like (a model off the bed slices to zero), never a price.
    """
    if isinstance(quantity, bool) or not isinstance(quantity, int):
        raise PricingError(f"The quantity must be a whole number, not {quantity!r}.")
    if not 1 <= quantity <= MAX_QUANTITY:
        raise PricingError(f"The quantity must be between 1 and {MAX_QUANTITY:,}.")
    if metrics.print_seconds == 0 or metrics.material_grams == 0:
        raise PricingError(
            "The part has no print time or no material; slicing it probably failed "
            "(is the model on the bed?)."
        )
    per_kg = _bounded(cost_per_kg, "material cost per kg", MAX_AMOUNT)
    rate = _bounded(
        terms.hourly_rate if hourly_rate is None else hourly_rate, "hourly rate", MAX_AMOUNT
    )
    factor = _bounded(terms.support_cost_factor, "support cost factor", Decimal(1000))
    setup_fee = round_money(_bounded(terms.setup_fee, "setup fee", MAX_AMOUNT))
    minimum = round_money(_bounded(terms.minimum_price, "minimum price", MAX_AMOUNT))

    cost_per_gram = per_kg / GRAMS_PER_KG
    material_cost = round_money(metrics.material_grams * cost_per_gram)
    support_cost = round_money(metrics.support_grams * cost_per_gram * factor)
    machine_cost = round_money(metrics.print_seconds * rate / SECONDS_PER_HOUR)
    computed = material_cost + support_cost + machine_cost + setup_fee
    unit_price = max(computed, minimum)
    line_total = unit_price * quantity
    if line_total > MAX_AMOUNT:
        raise PricingError(f"The line total {line_total} is too large to record.")
    return PriceBreakdown(
        material_cost=material_cost,
        support_cost=support_cost,
        machine_cost=machine_cost,
        setup_fee=setup_fee,
        computed=computed,
        minimum_applied=computed < minimum,
        unit_price=unit_price,
        quantity=quantity,
        line_total=line_total,
        grams=metrics.material_grams,
        support_grams=metrics.support_grams,
        print_seconds=metrics.print_seconds,
        hours=(metrics.print_seconds / SECONDS_PER_HOUR).quantize(HOURS_PLACES),
        cost_per_kg=per_kg,
        hourly_rate=rate,
        support_cost_factor=factor,
        minimum_price=minimum,
        estimated=metrics.estimated,
    )


def estimate_from_volume(
    volume_mm3: Decimal,
    *,
    density_g_cm3: Decimal,
    infill: Decimal = Decimal("0.2"),
    shell_fraction: Decimal = DEFAULT_SHELL_FRACTION,
    support_fraction: Decimal = Decimal(0),
    flow_mm3_per_s: Decimal = DEFAULT_FLOW_MM3_PER_S,
) -> PartMetrics:
    """A rough guess at a part's metrics from its mesh volume, for when it cannot be sliced.

    This is an estimate, marked ``estimated=True``, and only as good as its assumptions:

    - a fraction ``shell_fraction`` of the volume is solid walls, top and bottom skin (35 %
      is typical of small to medium parts with 2-3 walls); the rest is filled at ``infill``;
    - support adds ``support_fraction`` of the part's plastic (0 when none is needed);
    - the printer lays down plastic at an effective ``flow_mm3_per_s`` (8 mm³/s averages a
      0.4 mm nozzle's travel, retraction, slow first layer and small-feature slow-downs).

    So ``grams = volume × (shell + (1 - shell) × infill) × density`` and
    ``seconds = ceil(extruded volume (part + support) / flow)``. Grams are given to 0.01 g.
    """
    volume = _bounded(volume_mm3, "part volume (mm³)", MAX_VOLUME_MM3)
    if volume == 0:
        raise PricingError("The part has no volume; it cannot be estimated.")
    density = _bounded(density_g_cm3, "material density (g/cm³)", Decimal(100))
    if density == 0:
        raise PricingError("The material density must be more than zero.")
    fill = _bounded(infill, "infill", Decimal(1))
    shell = _bounded(shell_fraction, "shell fraction", Decimal(1))
    support = _bounded(support_fraction, "support fraction", Decimal(10))
    flow = _bounded(flow_mm3_per_s, "flow (mm³/s)", Decimal(1000))
    if flow == 0:
        raise PricingError("The flow must be more than zero.")

    part_mm3 = volume * (shell + (1 - shell) * fill)
    support_mm3 = part_mm3 * support
    grams_per_mm3 = density / 1000  # g/cm³ → g/mm³
    seconds = math.ceil((part_mm3 + support_mm3) / flow)
    return PartMetrics(
        print_seconds=seconds,
        material_grams=(part_mm3 * grams_per_mm3).quantize(GRAMS_PLACES, ROUND_HALF_UP),
        support_grams=(support_mm3 * grams_per_mm3).quantize(GRAMS_PLACES, ROUND_HALF_UP),
        estimated=True,
    )
