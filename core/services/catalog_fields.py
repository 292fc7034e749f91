"""Checks the catalogue services (materials, printers) share: text, amounts, unique names."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core.errors import Conflict, InvalidInput


def text(value: str, noun: str, limit: int, *, owner: str, required: bool = True) -> str:
    """Trimmed text; ``owner`` names the record in the refusal ("A printer needs a name.")."""
    cleaned = value.strip()
    if required and not cleaned:
        raise InvalidInput(f"A {owner} needs a {noun}.")
    if len(cleaned) > limit:
        raise InvalidInput(f"The {noun} may be at most {limit} characters.")
    return cleaned


def amount(value: Decimal, label: str, *, places: int, below: int, zero_ok: bool) -> Decimal:
    """``value`` rounded to the column's places, refused outside [0 or above 0, ``below``)."""
    floor = "0 or more" if zero_ok else "more than 0"
    refusal = InvalidInput(f"{label} must be {floor} and less than {below}.")
    if not value.is_finite() or value < 0 or value >= below:
        raise refusal
    rounded = value.quantize(Decimal(1).scaleb(-places), ROUND_HALF_UP)
    if (rounded == 0 and not zero_ok) or rounded >= below:
        raise refusal
    return rounded


def refuse_taken_name(
    session: Session, model: Any, name: str, *, noun: str, other_than: int | None = None
) -> None:
    """Case-insensitive, so "pla" cannot sit next to "PLA" in the counter's lists."""
    query = select(model.name).where(func.lower(model.name) == name.lower())
    if other_than is not None:
        query = query.where(model.id != other_than)
    taken = session.scalar(query)
    if taken is not None:
        raise Conflict(f'A {noun} named "{taken}" already exists.')


def flush_unique(session: Session, name: str, *, noun: str) -> None:
    """Flush; a unique-name race lost to another counter becomes the same clear refusal."""
    try:
        session.flush()
    except IntegrityError:
        raise Conflict(f'A {noun} named "{name}" already exists.') from None
