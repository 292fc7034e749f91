"""ORM models of the shop's tables; the Alembic migrations create exactly this schema."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, declared_attr, mapped_column, relationship

from core.enums import (
    DiscountType,
    InvoiceStatus,
    JobPriority,
    JobStatus,
    PaymentMethod,
    PrinterStatus,
    QuoteStatus,
    Role,
    TmpFileStatus,
)

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

Money = Numeric(12, 2)


def _one_of(column: str, enum: type[StrEnum]) -> str:
    values = ", ".join(f"'{member.value}'" for member in enum)
    return f"{column} IN ({values})"


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {  # noqa: RUF012
        dict[str, Any]: JSONB,
        Decimal: Money,
        dt.datetime: DateTime(timezone=True),
    }


def _pk() -> Mapped[int]:
    return mapped_column(BigInteger, Identity(always=False), primary_key=True)


def _created() -> Mapped[dt.datetime]:
    return mapped_column(server_default=func.now())


def _updated() -> Mapped[dt.datetime]:
    return mapped_column(server_default=func.now(), onupdate=func.now())


class Versioned:
    """Editable records carry a version so two counters editing one record get a conflict."""

    version: Mapped[int] = mapped_column(Integer, nullable=False, server_default=text("1"))

    @declared_attr.directive
    def __mapper_args__(cls) -> dict[str, Any]:
        return {"version_id_col": cls.__table__.c.version}  # type: ignore[attr-defined]


class User(Versioned, Base):
    __tablename__ = "users"
    __table_args__ = (CheckConstraint(_one_of("role", Role), name="role"),)

    id: Mapped[int] = _pk()
    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str] = mapped_column(String(200), server_default="")
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    created_at: Mapped[dt.datetime] = _created()
    updated_at: Mapped[dt.datetime] = _updated()


class Client(Versioned, Base):
    __tablename__ = "clients"

    id: Mapped[int] = _pk()
    name: Mapped[str] = mapped_column(String(200))
    company: Mapped[str | None] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(320), index=True)
    phone: Mapped[str | None] = mapped_column(String(64))
    address: Mapped[str | None] = mapped_column(Text)
    tax_id: Mapped[str | None] = mapped_column(String(64))
    payment_terms_days: Mapped[int] = mapped_column(Integer, server_default=text("14"))
    notes: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = _created()
    updated_at: Mapped[dt.datetime] = _updated()

    __table_args__ = (
        CheckConstraint("payment_terms_days >= 0", name="payment_terms_days"),
        Index("ix_clients_name_lower", func.lower(name)),
    )


class Material(Versioned, Base):
    __tablename__ = "materials"
    __table_args__ = (
        CheckConstraint("density_g_cm3 > 0", name="density"),
        CheckConstraint("cost_per_kg >= 0", name="cost_per_kg"),
        CheckConstraint("diameter_mm > 0", name="diameter"),
    )

    id: Mapped[int] = _pk()
    name: Mapped[str] = mapped_column(String(100), unique=True)
    type: Mapped[str] = mapped_column(String(32))
    colour: Mapped[str] = mapped_column(String(64), server_default="")
    density_g_cm3: Mapped[Decimal] = mapped_column(Numeric(6, 3))
    cost_per_kg: Mapped[Decimal] = mapped_column(Money)
    diameter_mm: Mapped[Decimal] = mapped_column(Numeric(4, 2), server_default=text("1.75"))
    active: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    created_at: Mapped[dt.datetime] = _created()
    updated_at: Mapped[dt.datetime] = _updated()


class Printer(Versioned, Base):
    __tablename__ = "printers"
    __table_args__ = (
        CheckConstraint(_one_of("status", PrinterStatus), name="status"),
        CheckConstraint(
            "build_x_mm > 0 AND build_y_mm > 0 AND build_z_mm > 0", name="build_volume"
        ),
        CheckConstraint("nozzle_mm > 0", name="nozzle"),
        CheckConstraint("hourly_rate IS NULL OR hourly_rate >= 0", name="hourly_rate"),
    )

    id: Mapped[int] = _pk()
    name: Mapped[str] = mapped_column(String(100), unique=True)
    cura_definition_id: Mapped[str] = mapped_column(String(100))
    build_x_mm: Mapped[Decimal] = mapped_column(Numeric(7, 1))
    build_y_mm: Mapped[Decimal] = mapped_column(Numeric(7, 1))
    build_z_mm: Mapped[Decimal] = mapped_column(Numeric(7, 1))
    nozzle_mm: Mapped[Decimal] = mapped_column(Numeric(4, 2), server_default=text("0.4"))
    hourly_rate: Mapped[Decimal | None] = mapped_column(Money)
    status: Mapped[str] = mapped_column(String(16), server_default=PrinterStatus.ACTIVE.value)
    created_at: Mapped[dt.datetime] = _created()
    updated_at: Mapped[dt.datetime] = _updated()


class _DocumentTotals:
    """Columns shared by quotes and invoices: pricing terms and the totals derived from items."""

    currency: Mapped[str] = mapped_column(String(3))
    issue_date: Mapped[dt.date] = mapped_column(Date, server_default=func.current_date())
    discount_type: Mapped[str] = mapped_column(String(8), server_default=DiscountType.NONE.value)
    discount_value: Mapped[Decimal] = mapped_column(Money, server_default=text("0"))
    shipping_label: Mapped[str] = mapped_column(String(200), server_default="")
    shipping_amount: Mapped[Decimal] = mapped_column(Money, server_default=text("0"))
    tax_rate: Mapped[Decimal] = mapped_column(Numeric(6, 4), server_default=text("0"))
    tax_inclusive: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    subtotal: Mapped[Decimal] = mapped_column(Money, server_default=text("0"))
    discount_total: Mapped[Decimal] = mapped_column(Money, server_default=text("0"))
    tax_total: Mapped[Decimal] = mapped_column(Money, server_default=text("0"))
    total: Mapped[Decimal] = mapped_column(Money, server_default=text("0"))
    notes: Mapped[str | None] = mapped_column(Text)


def _totals_checks(table: str) -> tuple[CheckConstraint, ...]:
    return (
        CheckConstraint(_one_of("discount_type", DiscountType), name="discount_type"),
        CheckConstraint("discount_value >= 0", name="discount_value"),
        CheckConstraint("shipping_amount >= 0", name="shipping_amount"),
        CheckConstraint("tax_rate >= 0 AND tax_rate < 1", name="tax_rate"),
        CheckConstraint("total >= 0", name="total"),
        CheckConstraint("currency ~ '^[A-Z]{3}$'", name="currency"),
    )


class Quote(Versioned, _DocumentTotals, Base):
    __tablename__ = "quotes"
    __table_args__ = (
        CheckConstraint(_one_of("status", QuoteStatus), name="status"),
        *_totals_checks("quotes"),
    )

    id: Mapped[int] = _pk()
    number: Mapped[str] = mapped_column(String(32), unique=True)
    client_id: Mapped[int] = mapped_column(
        ForeignKey("clients.id", ondelete="RESTRICT"), index=True
    )
    status: Mapped[str] = mapped_column(String(16), server_default=QuoteStatus.DRAFT.value)
    expiry_date: Mapped[dt.date | None] = mapped_column(Date)
    sent_at: Mapped[dt.datetime | None]
    decided_at: Mapped[dt.datetime | None]
    converted_invoice_id: Mapped[int | None] = mapped_column(
        ForeignKey("invoices.id", ondelete="SET NULL", use_alter=True)
    )
    pdf_key: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = _created()
    updated_at: Mapped[dt.datetime] = _updated()

    items: Mapped[list[QuoteItem]] = relationship(
        back_populates="quote",
        order_by="QuoteItem.position",
        cascade="all, delete-orphan",
        passive_deletes=True,
    )


class Invoice(Versioned, _DocumentTotals, Base):
    __tablename__ = "invoices"
    __table_args__ = (
        CheckConstraint(_one_of("status", InvoiceStatus), name="status"),
        CheckConstraint("amount_paid >= 0", name="amount_paid"),
        CheckConstraint("balance_due >= 0", name="balance_due"),
        *_totals_checks("invoices"),
        Index("ix_invoices_status_due_date", "status", "due_date"),
    )

    id: Mapped[int] = _pk()
    number: Mapped[str] = mapped_column(String(32), unique=True)
    client_id: Mapped[int] = mapped_column(
        ForeignKey("clients.id", ondelete="RESTRICT"), index=True
    )
    source_quote_id: Mapped[int | None] = mapped_column(
        ForeignKey("quotes.id", ondelete="SET NULL"), unique=True
    )
    status: Mapped[str] = mapped_column(String(16), server_default=InvoiceStatus.PENDING.value)
    due_date: Mapped[dt.date | None] = mapped_column(Date)
    amount_paid: Mapped[Decimal] = mapped_column(Money, server_default=text("0"))
    balance_due: Mapped[Decimal] = mapped_column(Money, server_default=text("0"))
    paid_at: Mapped[dt.datetime | None]
    voided_at: Mapped[dt.datetime | None]
    written_off_at: Mapped[dt.datetime | None]
    stripe_session_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    stripe_checkout_url: Mapped[str | None] = mapped_column(Text)
    stripe_session_expires_at: Mapped[dt.datetime | None]
    stripe_session_amount_cents: Mapped[int | None] = mapped_column(BigInteger)
    pdf_key: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = _created()
    updated_at: Mapped[dt.datetime] = _updated()

    items: Mapped[list[InvoiceItem]] = relationship(
        back_populates="invoice",
        order_by="InvoiceItem.position",
        cascade="all, delete-orphan",
        passive_deletes=True,
    )


class _LineItem:
    position: Mapped[int] = mapped_column(Integer)
    description: Mapped[str] = mapped_column(Text)
    quantity: Mapped[Decimal] = mapped_column(Numeric(12, 3))
    unit_price: Mapped[Decimal] = mapped_column(Money)
    discount_type: Mapped[str] = mapped_column(String(8), server_default=DiscountType.NONE.value)
    discount_value: Mapped[Decimal] = mapped_column(Money, server_default=text("0"))
    line_total: Mapped[Decimal] = mapped_column(Money)
    breakdown: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))


def _item_checks() -> tuple[CheckConstraint, ...]:
    return (
        CheckConstraint("quantity > 0", name="quantity"),
        CheckConstraint("unit_price >= 0", name="unit_price"),
        CheckConstraint(_one_of("discount_type", DiscountType), name="discount_type"),
        CheckConstraint("discount_value >= 0", name="discount_value"),
        CheckConstraint("line_total >= 0", name="line_total"),
    )


class QuoteItem(_LineItem, Base):
    __tablename__ = "quote_items"
    __table_args__ = _item_checks()

    id: Mapped[int] = _pk()
    quote_id: Mapped[int] = mapped_column(ForeignKey("quotes.id", ondelete="CASCADE"), index=True)
    order_file_id: Mapped[int | None] = mapped_column(
        ForeignKey("order_files.id", ondelete="SET NULL")
    )
    created_at: Mapped[dt.datetime] = _created()

    quote: Mapped[Quote] = relationship(back_populates="items")


class InvoiceItem(_LineItem, Base):
    __tablename__ = "invoice_items"
    __table_args__ = _item_checks()

    id: Mapped[int] = _pk()
    invoice_id: Mapped[int] = mapped_column(
        ForeignKey("invoices.id", ondelete="CASCADE"), index=True
    )
    order_file_id: Mapped[int | None] = mapped_column(
        ForeignKey("order_files.id", ondelete="SET NULL")
    )
    created_at: Mapped[dt.datetime] = _created()

    invoice: Mapped[Invoice] = relationship(back_populates="items")


class Payment(Base):
    __tablename__ = "payments"
    __table_args__ = (
        CheckConstraint(_one_of("method", PaymentMethod), name="method"),
        CheckConstraint("amount > 0", name="amount"),
        UniqueConstraint("processor", "processor_id"),
    )

    id: Mapped[int] = _pk()
    invoice_id: Mapped[int] = mapped_column(
        ForeignKey("invoices.id", ondelete="RESTRICT"), index=True
    )
    method: Mapped[str] = mapped_column(String(16))
    amount: Mapped[Decimal] = mapped_column(Money)
    currency: Mapped[str] = mapped_column(String(3))
    processor: Mapped[str | None] = mapped_column(String(32))
    processor_id: Mapped[str | None] = mapped_column(String(255))
    reference: Mapped[str | None] = mapped_column(String(255))
    flagged_reason: Mapped[str | None] = mapped_column(Text)
    paid_at: Mapped[dt.datetime] = mapped_column(server_default=func.now())
    recorded_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = _created()


class Refund(Base):
    __tablename__ = "refunds"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount"),
        UniqueConstraint("processor", "processor_id"),
    )

    id: Mapped[int] = _pk()
    payment_id: Mapped[int] = mapped_column(
        ForeignKey("payments.id", ondelete="RESTRICT"), index=True
    )
    invoice_id: Mapped[int] = mapped_column(
        ForeignKey("invoices.id", ondelete="RESTRICT"), index=True
    )
    amount: Mapped[Decimal] = mapped_column(Money)
    currency: Mapped[str] = mapped_column(String(3))
    processor: Mapped[str | None] = mapped_column(String(32))
    processor_id: Mapped[str | None] = mapped_column(String(255))
    reason: Mapped[str | None] = mapped_column(Text)
    refunded_at: Mapped[dt.datetime] = mapped_column(server_default=func.now())
    recorded_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = _created()


class Job(Versioned, Base):
    __tablename__ = "jobs"
    __table_args__ = (
        CheckConstraint(_one_of("status", JobStatus), name="status"),
        CheckConstraint(_one_of("priority", JobPriority), name="priority"),
        CheckConstraint("estimated_hours IS NULL OR estimated_hours >= 0", name="estimated"),
        CheckConstraint("actual_hours IS NULL OR actual_hours >= 0", name="actual"),
        Index("ix_jobs_printer_id_queue_position", "printer_id", "queue_position"),
    )

    id: Mapped[int] = _pk()
    invoice_id: Mapped[int] = mapped_column(
        ForeignKey("invoices.id", ondelete="CASCADE"), unique=True
    )
    client_id: Mapped[int] = mapped_column(
        ForeignKey("clients.id", ondelete="RESTRICT"), index=True
    )
    printer_id: Mapped[int | None] = mapped_column(ForeignKey("printers.id", ondelete="SET NULL"))
    title: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), server_default=JobStatus.QUEUED.value)
    priority: Mapped[str] = mapped_column(String(16), server_default=JobPriority.NORMAL.value)
    queue_position: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    estimated_hours: Mapped[Decimal | None] = mapped_column(Numeric(8, 2))
    actual_hours: Mapped[Decimal | None] = mapped_column(Numeric(8, 2))
    notes: Mapped[str | None] = mapped_column(Text)
    started_at: Mapped[dt.datetime | None]
    completed_at: Mapped[dt.datetime | None]
    created_at: Mapped[dt.datetime] = _created()
    updated_at: Mapped[dt.datetime] = _updated()


class OrderFile(Base):
    __tablename__ = "order_files"
    __table_args__ = (
        CheckConstraint(
            "quote_id IS NOT NULL OR invoice_id IS NOT NULL", name="belongs_to_document"
        ),
        CheckConstraint("size_bytes >= 0", name="size"),
        UniqueConstraint("bucket", "storage_key"),
    )

    id: Mapped[int] = _pk()
    client_id: Mapped[int] = mapped_column(
        ForeignKey("clients.id", ondelete="RESTRICT"), index=True
    )
    quote_id: Mapped[int | None] = mapped_column(
        ForeignKey("quotes.id", ondelete="SET NULL"), index=True
    )
    invoice_id: Mapped[int | None] = mapped_column(
        ForeignKey("invoices.id", ondelete="SET NULL"), index=True
    )
    filename: Mapped[str] = mapped_column(String(255))
    bucket: Mapped[str] = mapped_column(String(64))
    storage_key: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    mime_type: Mapped[str] = mapped_column(String(100))
    metadata_: Mapped[dict[str, Any]] = mapped_column(
        "metadata", JSONB, server_default=text("'{}'::jsonb")
    )
    uploaded_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = _created()


class Attachment(Base):
    __tablename__ = "attachments"
    __table_args__ = (
        CheckConstraint("size_bytes >= 0", name="size"),
        UniqueConstraint("bucket", "storage_key"),
    )

    id: Mapped[int] = _pk()
    invoice_id: Mapped[int] = mapped_column(
        ForeignKey("invoices.id", ondelete="CASCADE"), index=True
    )
    filename: Mapped[str] = mapped_column(String(255))
    bucket: Mapped[str] = mapped_column(String(64))
    storage_key: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    mime_type: Mapped[str] = mapped_column(String(100))
    uploaded_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = _created()


class TmpFile(Base):
    __tablename__ = "tmp_files"
    __table_args__ = (
        CheckConstraint(_one_of("status", TmpFileStatus), name="status"),
        CheckConstraint("size_bytes >= 0", name="size"),
        UniqueConstraint("bucket", "storage_key"),
    )

    id: Mapped[int] = _pk()
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    filename: Mapped[str] = mapped_column(String(255))
    bucket: Mapped[str] = mapped_column(String(64), server_default="tmp")
    storage_key: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    mime_type: Mapped[str] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(16), server_default=TmpFileStatus.IDLE.value)
    metadata_: Mapped[dict[str, Any]] = mapped_column(
        "metadata", JSONB, server_default=text("'{}'::jsonb")
    )
    expires_at: Mapped[dt.datetime] = mapped_column(index=True)
    created_at: Mapped[dt.datetime] = _created()
    updated_at: Mapped[dt.datetime] = _updated()


class WebhookEvent(Base):
    __tablename__ = "webhook_events"

    id: Mapped[int] = _pk()
    event_id: Mapped[str] = mapped_column(String(255), unique=True)
    type: Mapped[str] = mapped_column(String(100))
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB)
    received_at: Mapped[dt.datetime] = mapped_column(server_default=func.now())
    processed_at: Mapped[dt.datetime | None]
    outcome: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = _created()


class StorageDeletion(Base):
    """The outbox: storage objects whose rows are gone and that must be deleted until done."""

    __tablename__ = "storage_deletions"
    __table_args__ = (
        Index(
            "uq_storage_deletions_pending",
            "bucket",
            "key",
            unique=True,
            postgresql_where=text("done_at IS NULL"),
        ),
    )

    id: Mapped[int] = _pk()
    bucket: Mapped[str] = mapped_column(String(64))
    key: Mapped[str] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    last_error: Mapped[str | None] = mapped_column(Text)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(server_default=func.now())
    done_at: Mapped[dt.datetime | None]
    created_at: Mapped[dt.datetime] = _created()


class ActivityEntry(Base):
    __tablename__ = "activity_log"
    __table_args__ = (Index("ix_activity_log_entity", "entity_type", "entity_id"),)

    id: Mapped[int] = _pk()
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    actor_label: Mapped[str] = mapped_column(String(320))
    action: Mapped[str] = mapped_column(String(64))
    entity_type: Mapped[str] = mapped_column(String(32))
    entity_id: Mapped[int | None] = mapped_column(BigInteger)
    message: Mapped[str] = mapped_column(Text)
    detail: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))
    created_at: Mapped[dt.datetime] = mapped_column(server_default=func.now(), index=True)


class ShopSettingsRow(Versioned, Base):
    """One row: the shop's settings as JSON, validated by core.settings_model.ShopSettings."""

    __tablename__ = "settings"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, server_default=text("1"))
    data: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))
    created_at: Mapped[dt.datetime] = _created()
    updated_at: Mapped[dt.datetime] = _updated()
