"""The shop's fixed vocabularies, stored as text with CHECK constraints."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    ADMIN = "ADMIN"
    STAFF = "STAFF"


class PrinterStatus(StrEnum):
    ACTIVE = "ACTIVE"
    MAINTENANCE = "MAINTENANCE"
    OFFLINE = "OFFLINE"


class DiscountType(StrEnum):
    NONE = "NONE"
    PERCENT = "PERCENT"
    FIXED = "FIXED"


class QuoteStatus(StrEnum):
    DRAFT = "DRAFT"
    PENDING = "PENDING"
    ACCEPTED = "ACCEPTED"
    DECLINED = "DECLINED"
    CONVERTED = "CONVERTED"


class InvoiceStatus(StrEnum):
    PENDING = "PENDING"
    PAID = "PAID"
    VOID = "VOID"
    WRITTEN_OFF = "WRITTEN_OFF"


class PaymentMethod(StrEnum):
    STRIPE = "STRIPE"
    BANK_TRANSFER = "BANK_TRANSFER"
    CASH = "CASH"
    OTHER = "OTHER"


class JobStatus(StrEnum):
    QUEUED = "QUEUED"
    PRE_PROCESSING = "PRE_PROCESSING"
    IN_QUEUE = "IN_QUEUE"
    PRINTING = "PRINTING"
    PAUSED = "PAUSED"
    PRINTING_COMPLETE = "PRINTING_COMPLETE"
    POST_PROCESSING = "POST_PROCESSING"
    PACKAGING = "PACKAGING"
    OUT_FOR_DELIVERY = "OUT_FOR_DELIVERY"
    COMPLETED = "COMPLETED"
    CANCELLED = "CANCELLED"


class JobPriority(StrEnum):
    NORMAL = "NORMAL"
    FAST_TRACK = "FAST_TRACK"
    URGENT = "URGENT"


class JobPolicy(StrEnum):
    ON_INVOICE = "ON_INVOICE"
    ON_PAYMENT = "ON_PAYMENT"


class TmpFileStatus(StrEnum):
    IDLE = "idle"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
