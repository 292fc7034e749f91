"""Part prices from our own slicing figures: the original formula, to the cent."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.money import MAX_AMOUNT, MoneyError, round_money
from core.pricing import (
    PartMetrics,
    PriceBreakdown,
    PricingError,
    estimate_from_volume,
    price_part,
)
from core.shop_settings import PricingTerms

D = Decimal
DEFAULTS = PricingTerms()  # hourly 45.00, setup 20.00, minimum 35.00, support factor 1
PLA_PER_KG = D("25.00")
PROPERTY = settings(max_examples=150, deadline=None)


def two_places(value: Decimal) -> bool:
    return value.is_finite() and value.as_tuple().exponent == -2


def test_defaults_are_the_original_apps() -> None:
    assert DEFAULTS.hourly_rate == D("45.00")
    assert DEFAULTS.setup_fee == D("20.00")
    assert DEFAULTS.minimum_price == D("35.00")
    assert DEFAULTS.support_cost_factor == D(1)


def test_80_grams_of_pla_for_two_hours() -> None:
    # 80 g × 0.025 $/g = 2.00; 2 h × 45.00 = 90.00; setup 20.00 → 112.00
    price = price_part(
        PartMetrics(print_seconds=7200, material_grams=D(80)),
        cost_per_kg=PLA_PER_KG,
        terms=DEFAULTS,
    )
    assert price.material_cost == D("2.00")
    assert price.support_cost == D("0.00")
    assert price.machine_cost == D("90.00")
    assert price.setup_fee == D("20.00")
    assert price.computed == D("112.00")
    assert not price.minimum_applied
    assert price.unit_price == D("112.00")
    assert price.quantity == 1
    assert price.line_total == D("112.00")
    assert price.hours == D("2.0000")
    assert price.hourly_rate == D("45.00")
    assert not price.estimated


def test_minimum_applies_to_a_small_part() -> None:
    # 5 g × 0.025 = 0.125 → 0.13; 10 min × 45/h = 7.50; setup 20.00 → 27.63 < 35.00
    price = price_part(
        PartMetrics(print_seconds=600, material_grams=D(5)), cost_per_kg=PLA_PER_KG, terms=DEFAULTS
    )
    assert price.material_cost == D("0.13")
    assert price.machine_cost == D("7.50")
    assert price.computed == D("27.63")
    assert price.minimum_applied
    assert price.unit_price == D("35.00")
    assert price.line_total == D("35.00")


def test_part_exactly_at_the_minimum_does_not_apply_it() -> None:
    # 40 g × 0.025 = 1.00; 1120 s × 45/h = 14.00; setup 20.00 → 35.00 exactly
    price = price_part(
        PartMetrics(print_seconds=1120, material_grams=D(40)),
        cost_per_kg=PLA_PER_KG,
        terms=DEFAULTS,
    )
    assert price.computed == D("35.00")
    assert not price.minimum_applied
    assert price.unit_price == D("35.00")


def test_quantity_multiplies_the_unit_price() -> None:
    metrics = PartMetrics(print_seconds=7200, material_grams=D(80))
    price = price_part(metrics, cost_per_kg=PLA_PER_KG, terms=DEFAULTS, quantity=3)
    assert price.unit_price == D("112.00")
    assert price.line_total == D("336.00")
    small = price_part(
        PartMetrics(print_seconds=600, material_grams=D(5)),
        cost_per_kg=PLA_PER_KG,
        terms=DEFAULTS,
        quantity=4,
    )
    assert small.line_total == D("140.00")  # the minimum is per part: 4 × 35.00


def test_printer_rate_overrides_the_shop_rate() -> None:
    # 2 h × 60.00 = 120.00 → 2.00 + 120.00 + 20.00 = 142.00
    price = price_part(
        PartMetrics(print_seconds=7200, material_grams=D(80)),
        cost_per_kg=PLA_PER_KG,
        terms=DEFAULTS,
        hourly_rate=D("60.00"),
    )
    assert price.machine_cost == D("120.00")
    assert price.hourly_rate == D("60.00")
    assert price.unit_price == D("142.00")
    free_machine = price_part(
        PartMetrics(print_seconds=7200, material_grams=D(80)),
        cost_per_kg=PLA_PER_KG,
        terms=DEFAULTS,
        hourly_rate=D(0),
    )
    assert free_machine.machine_cost == D("0.00")
    assert free_machine.unit_price == D("35.00")  # 22.00 is under the minimum


def test_support_is_material_times_the_support_factor() -> None:
    metrics = PartMetrics(print_seconds=7200, material_grams=D(80), support_grams=D(20))
    # factor 1 (original): 20 g × 0.025 = 0.50 → 112.50
    plain = price_part(metrics, cost_per_kg=PLA_PER_KG, terms=DEFAULTS)
    assert plain.support_cost == D("0.50")
    assert plain.unit_price == D("112.50")
    # factor 1.5: 20 g × 0.025 × 1.5 = 0.75 → 112.75
    dearer = price_part(
        metrics,
        cost_per_kg=PLA_PER_KG,
        terms=DEFAULTS.model_copy(update={"support_cost_factor": D("1.5")}),
    )
    assert dearer.support_cost == D("0.75")
    assert dearer.support_cost_factor == D("1.5")
    assert dearer.unit_price == D("112.75")


def test_each_term_is_rounded_before_the_sum() -> None:
    # 5 g × 0.025 = 0.125 → 0.13 and 10 s × 45/h = 0.125 → 0.13: unit 0.26 + 20.00 = 20.26
    # (rounding the sum instead would give 20.25 and a breakdown that does not add up).
    terms = PricingTerms(minimum_price=D(0))
    price = price_part(
        PartMetrics(print_seconds=10, material_grams=D(5)), cost_per_kg=PLA_PER_KG, terms=terms
    )
    assert (price.material_cost, price.machine_cost) == (D("0.13"), D("0.13"))
    assert price.unit_price == D("20.26")
    assert price.hours == D("0.0028")


def test_breakdown_json_round_trip_and_shape() -> None:
    price = price_part(
        PartMetrics(print_seconds=7230, material_grams=D("80.456"), support_grams=D("3.2")),
        cost_per_kg=D("24.95"),
        terms=DEFAULTS,
        quantity=2,
    )
    data = price.as_json()
    assert json.loads(json.dumps(data)) == data
    # 80.456 g × 0.02495 = 2.007… → 2.01; 3.2 g × 0.02495 = 0.0798… → 0.08;
    # 7230 s × 45/h = 90.375 → 90.38; + 20.00 → 112.47; × 2 = 224.94
    assert data["unit_price"] == "112.47"
    assert data["line_total"] == "224.94"
    assert data["support_cost"] == "0.08"
    assert data["material_cost"] == "2.01"
    assert data["machine_cost"] == "90.38"
    assert data["print_seconds"] == 7230  # per part; jobs sum it × quantity
    assert data["grams"] == "80.456"
    assert data["hours"] == "2.0083"
    assert data["minimum_applied"] is False
    assert data["estimated"] is False
    assert PriceBreakdown.from_json(data) == price
    # Other keys stored on the item's breakdown (material name, settings) are ignored.
    assert PriceBreakdown.from_json({**data, "material": "PLA", "settings": {}}) == price


def test_breakdown_from_json_refuses_tampering_and_gaps() -> None:
    data = price_part(
        PartMetrics(print_seconds=7200, material_grams=D(80)),
        cost_per_kg=PLA_PER_KG,
        terms=DEFAULTS,
    ).as_json()
    with pytest.raises(PricingError, match="unit price"):
        PriceBreakdown.from_json({**data, "unit_price": "100.00"})
    with pytest.raises(PricingError, match="add up"):
        PriceBreakdown.from_json({**data, "machine_cost": "80.00"})
    with pytest.raises(PricingError, match="line total"):
        PriceBreakdown.from_json({**data, "line_total": "1.00"})
    with pytest.raises(PricingError, match="'grams'"):
        PriceBreakdown.from_json({k: v for k, v in data.items() if k != "grams"})
    with pytest.raises(PricingError, match="not a number"):
        PriceBreakdown.from_json({**data, "cost_per_kg": "cheap"})
    with pytest.raises(PricingError, match="'quantity'"):
        PriceBreakdown.from_json({**data, "quantity": "1"})


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"print_seconds": -1, "material_grams": D(1)}, "print time cannot be negative"),
        ({"print_seconds": 1.5, "material_grams": D(1)}, "whole seconds"),
        ({"print_seconds": True, "material_grams": D(1)}, "whole seconds"),
        ({"print_seconds": 10**9, "material_grams": D(1)}, "more than a year"),
        ({"print_seconds": 60, "material_grams": D(-1)}, "material weight cannot be negative"),
        ({"print_seconds": 60, "material_grams": 1.5}, "not a float"),
        ({"print_seconds": 60, "material_grams": D("NaN")}, "finite"),
        ({"print_seconds": 60, "material_grams": D("Infinity")}, "finite"),
        ({"print_seconds": 60, "material_grams": "80"}, "exact number"),
        ({"print_seconds": 60, "material_grams": D(1), "support_grams": D(-2)}, "support"),
        ({"print_seconds": 60, "material_grams": D("1e9")}, "check the figures"),
    ],
)
def test_part_metrics_refusals(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(PricingError, match=message):
        PartMetrics(**kwargs)  # type: ignore[arg-type]


def test_part_metrics_accepts_whole_grams_as_int() -> None:
    metrics = PartMetrics(print_seconds=60, material_grams=80)  # type: ignore[arg-type]
    assert metrics.material_grams == D(80)
    assert isinstance(metrics.material_grams, Decimal)


def test_pricing_error_is_a_money_error_and_a_value_error() -> None:
    assert issubclass(PricingError, MoneyError)
    assert issubclass(PricingError, ValueError)


@pytest.mark.parametrize(
    ("seconds", "grams"),
    [(0, D(80)), (7200, D(0)), (0, D(0))],
)
def test_a_zero_slice_is_refused_not_priced(seconds: int, grams: Decimal) -> None:
    with pytest.raises(PricingError, match="slicing it probably failed"):
        price_part(
            PartMetrics(print_seconds=seconds, material_grams=grams),
            cost_per_kg=PLA_PER_KG,
            terms=DEFAULTS,
        )


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"quantity": 0}, "between 1 and"),
        ({"quantity": -2}, "between 1 and"),
        ({"quantity": 1_000_000}, "between 1 and"),
        ({"quantity": 1.5}, "whole number"),
        ({"quantity": True}, "whole number"),
        ({"cost_per_kg": D(-1)}, "cost per kg cannot be negative"),
        ({"cost_per_kg": D("NaN")}, "finite"),
        ({"cost_per_kg": 25.0}, "not a float"),
        ({"hourly_rate": D("-45")}, "hourly rate cannot be negative"),
        ({"hourly_rate": D("Infinity")}, "finite"),
        ({"cost_per_kg": MAX_AMOUNT, "quantity": 999_999}, "too large"),
    ],
)
def test_price_part_refusals(kwargs: dict[str, object], message: str) -> None:
    args: dict[str, object] = {"cost_per_kg": PLA_PER_KG, "terms": DEFAULTS, **kwargs}
    with pytest.raises(PricingError, match=message):
        price_part(PartMetrics(print_seconds=7200, material_grams=D(80)), **args)  # type: ignore[arg-type]


# --- the volume estimate --------------------------------------------------------------------


def test_estimate_of_a_20_mm_cube_in_pla() -> None:
    # 8000 mm³ × (0.35 + 0.65 × 0.20) = 8000 × 0.48 = 3840 mm³ of plastic
    # × 1.24 g/cm³ = 4.7616 g → 4.76 g; 3840 mm³ / 8 mm³/s = 480 s
    metrics = estimate_from_volume(D(8000), density_g_cm3=D("1.24"))
    assert metrics == PartMetrics(
        print_seconds=480, material_grams=D("4.76"), support_grams=D("0.00"), estimated=True
    )
    price = price_part(metrics, cost_per_kg=PLA_PER_KG, terms=DEFAULTS)
    assert price.estimated
    assert price.as_json()["estimated"] is True
    # 0.119 → 0.12 + 6.00 + 20.00 = 26.12, under the minimum
    assert price.computed == D("26.12")
    assert price.unit_price == D("35.00")


def test_estimate_with_solid_infill_and_support() -> None:
    # infill 1 → all 10000 mm³ solid; support 10 % → 1000 mm³ more
    # grams 10000 × 0.001 = 10.00, support 1.00; (10000 + 1000) / 10 = 1100 s
    metrics = estimate_from_volume(
        D(10000),
        density_g_cm3=D(1),
        infill=D(1),
        support_fraction=D("0.1"),
        flow_mm3_per_s=D(10),
    )
    assert metrics == PartMetrics(1100, D("10.00"), D("1.00"), estimated=True)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"volume_mm3": D(0)}, "no volume"),
        ({"volume_mm3": D(-1)}, "volume .* cannot be negative"),
        ({"density_g_cm3": D(0)}, "density must be more than zero"),
        ({"infill": D("1.2")}, "infill"),
        ({"infill": 0.2}, "not a float"),
        ({"flow_mm3_per_s": D(0)}, "flow must be more than zero"),
        ({"shell_fraction": D(-1)}, "shell fraction"),
    ],
)
def test_estimate_refusals(kwargs: dict[str, object], message: str) -> None:
    args: dict[str, object] = {"volume_mm3": D(8000), "density_g_cm3": D("1.24"), **kwargs}
    with pytest.raises(PricingError, match=message):
        estimate_from_volume(**args)  # type: ignore[arg-type]


# --- properties -----------------------------------------------------------------------------

seconds = st.integers(min_value=1, max_value=14 * 24 * 3600)
grams = st.decimals(min_value=D("0.001"), max_value=D(20000), places=3)
support_grams = st.decimals(min_value=0, max_value=D(5000), places=3)
rates = st.decimals(min_value=0, max_value=D(500), places=2)
fees = st.decimals(min_value=0, max_value=D(200), places=2)
factors = st.decimals(min_value=0, max_value=D(3), places=2)
quantity_counts = st.integers(min_value=1, max_value=10_000)


@st.composite
def priced_parts(draw: st.DrawFn) -> PriceBreakdown:
    terms = PricingTerms(
        hourly_rate=draw(rates),
        setup_fee=draw(fees),
        minimum_price=draw(fees),
        support_cost_factor=draw(factors),
    )
    return price_part(
        PartMetrics(draw(seconds), draw(grams), draw(support_grams)),
        cost_per_kg=draw(rates),
        terms=terms,
        quantity=draw(quantity_counts),
        hourly_rate=draw(st.none() | rates),
    )


@PROPERTY
@given(priced_parts())
def test_breakdown_always_adds_up(price: PriceBreakdown) -> None:
    costs = (price.material_cost, price.support_cost, price.machine_cost, price.setup_fee)
    money = (*costs, price.computed, price.unit_price, price.line_total)
    assert all(two_places(amount) for amount in money)
    assert sum(costs, D(0)) == price.computed
    if not price.minimum_applied:
        assert sum(costs, D(0)) == price.unit_price
    else:
        assert price.unit_price == price.minimum_price > price.computed
    assert price.unit_price >= price.minimum_price
    assert price.line_total == price.unit_price * price.quantity


@PROPERTY
@given(priced_parts())
def test_each_cost_is_the_exact_figure_to_the_nearest_cent(price: PriceBreakdown) -> None:
    per_gram = price.cost_per_kg / 1000
    exact = {
        "material": price.grams * per_gram,
        "support": price.support_grams * per_gram * price.support_cost_factor,
        "machine": price.print_seconds * price.hourly_rate / 3600,
    }
    rounded = {
        "material": price.material_cost,
        "support": price.support_cost,
        "machine": price.machine_cost,
    }
    for name, value in exact.items():
        assert rounded[name] == round_money(value), name
        assert abs(rounded[name] - value) <= D("0.005"), name


@PROPERTY
@given(priced_parts())
def test_breakdown_survives_json(price: PriceBreakdown) -> None:
    stored = json.loads(json.dumps(price.as_json()))
    assert PriceBreakdown.from_json(stored) == price


@PROPERTY
@given(
    st.decimals(min_value=1, max_value=D(10) ** 7, places=2),
    st.decimals(min_value=D("0.8"), max_value=D("2.5"), places=2),
    st.decimals(min_value=0, max_value=1, places=2),
)
def test_any_estimate_can_be_priced(volume: Decimal, density: Decimal, infill: Decimal) -> None:
    metrics = estimate_from_volume(volume, density_g_cm3=density, infill=infill)
    assert metrics.estimated
    assert metrics.print_seconds >= 1
    assert metrics.support_grams == 0
    # Never more plastic than a solid part would take.
    solid = volume * density / 1000
    assert metrics.material_grams <= round_money(solid)
    if metrics.material_grams > 0:
        price = price_part(metrics, cost_per_kg=PLA_PER_KG, terms=DEFAULTS)
        assert price.unit_price >= DEFAULTS.minimum_price
