"""The shop's own settings (one JSON row) with the defaults a fresh install quotes with."""

from __future__ import annotations

from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from core.enums import JobPolicy


class _Section(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class BusinessDetails(_Section):
    name: str = "My Print Shop"
    tax_id: str = ""
    email: str = ""
    phone: str = ""
    address: str = ""
    website: str = ""
    bank_details: str = ""


class TaxSettings(_Section):
    name: str = "GST"
    rate: Decimal = Field(default=Decimal("0.10"), ge=0, lt=1)
    inclusive: bool = False


class NumberingSettings(_Section):
    quote_prefix: str = Field(default="QT-", max_length=12)
    invoice_prefix: str = Field(default="INV-", max_length=12)
    digits: int = Field(default=4, ge=1, le=10)


class PricingTerms(_Section):
    """The original app's terms: unit = max(minimum, material + support + hours × rate + setup)."""

    hourly_rate: Decimal = Field(default=Decimal("45.00"), ge=0)
    setup_fee: Decimal = Field(default=Decimal("20.00"), ge=0)
    minimum_price: Decimal = Field(default=Decimal("35.00"), ge=0)
    support_cost_factor: Decimal = Field(default=Decimal("1"), ge=0)


class ShippingOption(_Section):
    label: str
    amount: Decimal = Field(ge=0)


class RetentionSettings(_Section):
    tmp_upload_hours: int = Field(default=48, ge=1)
    order_files_days: int | None = Field(default=None, ge=1)


def _default_shipping() -> tuple[ShippingOption, ...]:
    return (
        ShippingOption(label="Pick-up", amount=Decimal("0.00")),
        ShippingOption(label="Metro", amount=Decimal("12.50")),
        ShippingOption(label="Regional", amount=Decimal("18.50")),
    )


class ShopSettings(_Section):
    business: BusinessDetails = BusinessDetails()
    currency: str = Field(default="AUD", pattern=r"^[A-Z]{3}$")
    tax: TaxSettings = TaxSettings()
    numbering: NumberingSettings = NumberingSettings()
    pricing: PricingTerms = PricingTerms()
    shipping_options: tuple[ShippingOption, ...] = Field(default_factory=_default_shipping)
    payment_terms_days: int = Field(default=14, ge=0, le=365)
    quote_validity_days: int = Field(default=30, ge=1, le=365)
    job_creation_policy: JobPolicy = JobPolicy.ON_INVOICE
    max_active_printing_per_printer: int = Field(default=1, ge=1, le=50)
    retention: RetentionSettings = RetentionSettings()
    max_upload_mb: int = Field(default=200, ge=1, le=4096)
    checkout_expiry_minutes: int = Field(default=24 * 60, ge=30, le=24 * 60)

    @field_validator("currency", mode="before")
    @classmethod
    def _upper(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value
