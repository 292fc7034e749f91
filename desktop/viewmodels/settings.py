"""Settings: the shop's details and terms by section, and its printers, materials and users.

Admins edit; staff see everything read-only (and no user accounts). Each section of the shop's
settings saves on its own, with the version it was loaded at: a section another counter saved
meanwhile comes back as "changed elsewhere — reload" instead of overwriting their change. A
refusal from the service is shown beside the field it names. Values are kept as typed; the
service does the checking, so what the form says is what the database would say.

Every read and write runs in the background (``Loader``): the screen's first data is the
settings row alone, and each table is read when its page is first shown.
"""

from __future__ import annotations

import logging
import re
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from enum import Enum
from typing import Any, Generic, TypeVar

from PySide6.QtCore import QObject, Signal
from sqlalchemy.orm import Session

from core.enums import JobPolicy, PrinterStatus, Role
from core.errors import Conflict, InvalidInput, NotFound, ServiceError
from core.services import materials, printers, users
from core.services import settings as shop_settings
from core.services.materials import MaterialInput, MaterialView
from core.services.printers import PrinterInput, PrinterView
from core.services.users import UserView
from core.shop_settings import ShopSettings
from desktop.viewmodels.background import Loader, report_failure
from desktop.viewmodels.context import AppContext
from desktop.viewmodels.paged_table import Column, PagedTableModel
from desktop.viewmodels.shell import ShellViewModel

log = logging.getLogger(__name__)
Row = TypeVar("Row")
View = TypeVar("View")

READ_ONLY_NOTE = (
    "You are signed in as staff: the settings are shown read-only. Ask an admin to change them."
)
CHANGED_ELSEWHERE = "Changed elsewhere — reload"


class Kind(Enum):
    TEXT = "text"
    LONG_TEXT = "long text"
    NUMBER = "number"  # a decimal, typed as text
    WHOLE = "whole"  # a whole number, typed as text
    PERCENT = "percent"  # stored as a fraction (0.10), shown and typed as per cent (10)
    CHECK = "check"
    CHOICE = "choice"


@dataclass(frozen=True)
class Field:
    """One setting on a form: ``key`` is its path in the settings ("tax.rate")."""

    key: str
    label: str
    kind: Kind = Kind.TEXT
    hint: str = ""
    suffix: str = ""
    choices: tuple[tuple[str, str], ...] = ()  # (value, label)
    blank_is_none: bool = False  # an empty box means "no limit" / "not set"
    width: int = 0  # a narrow box for short values (0: the form's width)


@dataclass(frozen=True)
class SectionSpec:
    key: str
    title: str
    description: str
    fields: tuple[Field, ...]
    note: str = ""
    shipping: bool = False  # the pricing section also edits the shipping options


SECTIONS: tuple[SectionSpec, ...] = (
    SectionSpec(
        "business",
        "Business",
        "Who you are, as printed on quotes, invoices and emails.",
        (
            Field("business.name", "Business name"),
            Field("business.tax_id", "ABN / tax ID", hint="Printed on every invoice"),
            Field("business.email", "Email", hint="Replies to quotes and invoices come here"),
            Field("business.phone", "Phone"),
            Field("business.address", "Address", Kind.LONG_TEXT),
            Field("business.website", "Website"),
            Field(
                "business.bank_details",
                "Bank details",
                Kind.LONG_TEXT,
                hint="For clients who pay by bank transfer",
            ),
        ),
    ),
    SectionSpec(
        "money",
        "Money & tax",
        "The currency, tax and terms new quotes and invoices start with.",
        (
            Field("currency", "Currency", hint="Three-letter code, e.g. AUD", width=90),
            Field("tax.name", "Tax name", hint="e.g. GST or VAT", width=160),
            Field("tax.rate", "Tax rate", Kind.PERCENT, suffix="%", width=90),
            Field("tax.inclusive", "Prices include tax", Kind.CHECK),
            Field("payment_terms_days", "Payment terms", Kind.WHOLE, suffix="days", width=90),
            Field("quote_validity_days", "Quotes valid for", Kind.WHOLE, suffix="days", width=90),
            Field(
                "checkout_expiry_minutes",
                "Payment links expire after",
                Kind.WHOLE,
                suffix="minutes (30 to 1440)",
                width=90,
            ),
        ),
    ),
    SectionSpec(
        "numbering",
        "Numbering",
        "How quote and invoice numbers look.",
        (
            Field("numbering.quote_prefix", "Quote prefix", width=120),
            Field("numbering.invoice_prefix", "Invoice prefix", width=120),
            Field(
                "numbering.digits",
                "Digits",
                Kind.WHOLE,
                suffix="zero-padded, e.g. 4 gives 0042",
                width=90,
            ),
        ),
        note=(
            "Numbers come from the database's own sequences and never reset: changing the "
            "prefix or the digits changes how the next number looks, never which number it is."
        ),
    ),
    SectionSpec(
        "pricing",
        "Pricing",
        "The terms a printed part is priced with, and the shipping you offer.",
        (
            Field("pricing.hourly_rate", "Hourly rate", Kind.NUMBER, suffix="per print hour"),
            Field("pricing.setup_fee", "Setup fee", Kind.NUMBER, suffix="per part"),
            Field("pricing.minimum_price", "Minimum price", Kind.NUMBER, suffix="per part"),
            Field(
                "pricing.support_cost_factor",
                "Support cost factor",
                Kind.NUMBER,
                suffix="× material cost of supports",
            ),
        ),
        shipping=True,
    ),
    SectionSpec(
        "jobs",
        "Jobs",
        "When print jobs are made and how many may print at once.",
        (
            Field(
                "job_creation_policy",
                "Make a print job",
                Kind.CHOICE,
                choices=(
                    (JobPolicy.ON_INVOICE.value, "When the invoice is made"),
                    (JobPolicy.ON_PAYMENT.value, "When the invoice is paid"),
                ),
                width=280,
            ),
            Field(
                "max_active_printing_per_printer",
                "Jobs printing at once",
                Kind.WHOLE,
                suffix="per printer",
                width=90,
            ),
        ),
    ),
    SectionSpec(
        "files",
        "Files & retention",
        "How long uploads and order files are kept, and how big an upload may be.",
        (
            Field(
                "retention.tmp_upload_hours",
                "Keep unused uploads",
                Kind.WHOLE,
                suffix="hours",
                width=90,
            ),
            Field(
                "retention.order_files_days",
                "Keep order files",
                Kind.WHOLE,
                suffix="days (empty: keep them)",
                blank_is_none=True,
                width=90,
            ),
            Field("max_upload_mb", "Largest upload", Kind.WHOLE, suffix="MB", width=90),
        ),
    ),
)

Value = str | bool


def _get(shop: ShopSettings, key: str) -> Any:
    value: Any = shop
    for part in key.split("."):
        value = getattr(value, part)
    return value


def _plain(value: Decimal) -> str:
    """A decimal as people write it: 10, 12.5, 0.4 (no exponent, no trailing zeros)."""
    text = f"{value:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def _shown(spec: Field, value: Any) -> Value:
    if spec.kind is Kind.CHECK:
        return bool(value)
    if value is None:
        return ""
    if spec.kind is Kind.PERCENT:
        return _plain(Decimal(value) * 100)
    if isinstance(value, Enum):
        return str(value.value)
    return str(value)


def _refused_key(message: str) -> str | None:
    """The setting an InvalidInput names ("Setting tax.rate: …" → "tax.rate")."""
    found = re.match(r"Setting ([\w.]+):", message)
    return found.group(1) if found else None


@dataclass
class ShippingRow:
    label: str
    amount: str


# ---------------------------------------------------------------------------------------------
# One section of the shop's settings


class SettingsSectionViewModel(QObject):
    """A form over one section of the settings: values as typed, messages, save and reload."""

    values_changed = Signal()  # the values were replaced (loaded, reloaded): refill the widgets
    messages_changed = Signal()  # field errors, the general message, notice or conflict
    dirty_changed = Signal()
    saved = Signal(object, int)  # ShopSettings, version: the page updates the other sections
    save_done = Signal(bool)  # every Save ends here: True when the section was written
    busy_changed = Signal(bool)  # saving or reloading: the form shows it and Save waits

    def __init__(self, ctx: AppContext, spec: SectionSpec) -> None:
        super().__init__()
        self._ctx = ctx
        self.spec = spec
        self._saver: Loader[tuple[ShopSettings, int]] = Loader(
            ctx, self._save_finished, on_failed=self._save_failed, parent=self
        )
        self._reloader: Loader[tuple[ShopSettings, int]] = Loader(ctx, self._reloaded, parent=self)
        for loader in (self._saver, self._reloader):
            loader.loading_changed.connect(lambda _b: self.busy_changed.emit(self.busy))
        self._sent: tuple[dict[str, Value], list[tuple[str, str]]] | None = None
        self._values: dict[str, Value] = {}
        self._shipping: list[ShippingRow] = []
        self._baseline: tuple[dict[str, Value], list[tuple[str, str]]] = ({}, [])
        self._version: int | None = None
        self._errors: dict[str, str] = {}
        self._message = ""
        self._notice = ""
        self._conflict = False

    # -- state
    @property
    def key(self) -> str:
        return self.spec.key

    @property
    def title(self) -> str:
        return self.spec.title

    @property
    def fields(self) -> tuple[Field, ...]:
        return self.spec.fields

    @property
    def can_edit(self) -> bool:
        return self._ctx.actor.is_admin

    @property
    def loaded(self) -> bool:
        return self._version is not None

    @property
    def version(self) -> int | None:
        return self._version

    def value(self, key: str) -> Value:
        return self._values.get(key, "")

    @property
    def shipping(self) -> list[ShippingRow]:
        return [ShippingRow(r.label, r.amount) for r in self._shipping]

    @property
    def errors(self) -> dict[str, str]:
        return dict(self._errors)

    @property
    def message(self) -> str:
        """A refusal that belongs to no one field."""
        return self._message

    @property
    def notice(self) -> str:
        return self._notice

    @property
    def conflict(self) -> bool:
        """Another counter saved the settings since this section was loaded: reload first."""
        return self._conflict

    @property
    def dirty(self) -> bool:
        return self._snapshot() != self._baseline

    @property
    def busy(self) -> bool:
        return self._saver.loading or self._reloader.loading

    @property
    def saving(self) -> bool:
        return self._saver.loading

    @property
    def can_save(self) -> bool:
        return self.can_edit and self.loaded and not self._conflict and self.dirty and not self.busy

    @property
    def example(self) -> str:
        """For the numbering section: how the next numbers will look."""
        if self.key != "numbering":
            return ""
        digits = str(self.value("numbering.digits")).strip()
        width = int(digits) if digits.isdigit() and 0 < int(digits) <= 10 else 4
        quote = f"{self.value('numbering.quote_prefix')}{42:0{width}d}"
        invoice = f"{self.value('numbering.invoice_prefix')}{42:0{width}d}"
        return f"Looks like {quote} and {invoice}"

    # -- commands
    def set_value(self, key: str, value: Value) -> None:
        if not any(f.key == key for f in self.fields):
            raise KeyError(key)
        was_dirty = self.dirty
        self._values[key] = value
        self._typed(key, was_dirty)

    def add_shipping(self) -> int:
        was_dirty = self.dirty
        self._shipping.append(ShippingRow("", "0.00"))
        self._typed("shipping_options", was_dirty)
        self.values_changed.emit()
        return len(self._shipping) - 1

    def remove_shipping(self, row: int) -> None:
        if 0 <= row < len(self._shipping):
            was_dirty = self.dirty
            del self._shipping[row]
            self._typed("shipping_options", was_dirty)
            self.values_changed.emit()

    def set_shipping(
        self, row: int, *, label: str | None = None, amount: str | None = None
    ) -> None:
        if not 0 <= row < len(self._shipping):
            return
        was_dirty = self.dirty
        current = self._shipping[row]
        self._shipping[row] = ShippingRow(
            current.label if label is None else label, current.amount if amount is None else amount
        )
        self._typed("shipping_options", was_dirty)

    def revert(self) -> None:
        """Put back what was loaded; what was typed is dropped."""
        values, shipping = self._baseline
        self._values = dict(values)
        self._shipping = [ShippingRow(label, amount) for label, amount in shipping]
        self.values_changed.emit()
        self._set_messages({}, "", notice="")
        self.dirty_changed.emit()

    def save(self) -> None:
        """Write this section in the background; ``save_done`` tells how it ended (a refusal
        comes back beside its field, a conflict as "changed elsewhere")."""
        if not self.can_edit:
            self._set_messages({}, "Only an admin may change the shop's settings.")
            self.save_done.emit(False)
            return
        if self._conflict or self._version is None or self.busy:
            self.save_done.emit(False)
            return
        changes, errors = self._changes()
        if errors:
            self._set_messages(errors, "")
            self.save_done.emit(False)
            return
        self._set_messages({}, "", notice="")
        self._sent = self._snapshot()
        actor, version = self._ctx.actor, self._version
        self._saver.run(
            lambda s: shop_settings.update_settings(s, actor, changes, expected_version=version)
        )

    def reload(self) -> None:
        """Take the settings as saved now; this section's typed changes are dropped."""
        self._reloader.run(shop_settings.get_settings)

    def _save_finished(self, result: tuple[ShopSettings, int]) -> None:
        shop, version = result
        sent, self._sent = self._sent, None
        if sent is not None and self._snapshot() != sent:
            # Typed on while it was saving: what was saved is the new baseline, the rest stays.
            self._baseline = self._read(shop)
            self._version = version
            self._conflict = False
            self.dirty_changed.emit()
        else:
            self.fill(shop, version)
        self._set_messages({}, "", notice="Saved.")
        self._ctx.notifier.info(f"{self.title} settings saved.")
        self.saved.emit(shop, version)
        self.save_done.emit(True)

    def _save_failed(self, exc: BaseException) -> bool:
        self._sent = None
        if isinstance(exc, Conflict):
            self._conflict = True  # the view shows CHANGED_ELSEWHERE with a Reload button
            self._set_messages({}, str(exc))
        elif isinstance(exc, InvalidInput):
            self._set_messages(*self._placed(str(exc)))
        elif isinstance(exc, ServiceError):
            self._set_messages({}, str(exc))
        else:  # the form keeps what was typed
            log.error("settings.save_failed error=%r", exc)
            self._ctx.notifier.error(
                f"The settings could not be saved: {exc}", "".join(traceback.format_exception(exc))
            )
        self.save_done.emit(False)
        return True

    def _reloaded(self, loaded: tuple[ShopSettings, int]) -> None:
        self.fill(*loaded)
        self._set_messages(
            {}, "", notice="Reloaded the settings as saved now. Make your change again."
        )
        self.saved.emit(*loaded)  # the other sections learn the new version too

    # -- the page's calls
    def fill(self, shop: ShopSettings, version: int) -> None:
        """Show ``shop`` (loaded or just saved); typed changes in this section are replaced."""
        values, shipping = self._read(shop)
        self._values = dict(values)
        self._shipping = [ShippingRow(label, amount) for label, amount in shipping]
        self._baseline = (values, shipping)
        self._version = version
        self._conflict = False
        self.values_changed.emit()
        self.dirty_changed.emit()

    def sync(self, shop: ShopSettings, version: int) -> None:
        """Settings were saved (here or elsewhere) at ``version``.

        When this section's part of them is unchanged, it may save against the new version.
        When it changed: an untouched form takes the new values; a form with typed changes is
        marked changed elsewhere, and its Save waits for a reload.
        """
        if self._version is None or version == self._version:
            if self._version is None:
                self.fill(shop, version)
            return
        fresh = self._read(shop)
        if fresh == self._baseline:
            self._version = version
            return
        if not self.dirty:
            self.fill(shop, version)
            self._set_messages({}, "", notice="Updated with a change saved at another counter.")
            return
        self._conflict = True
        self._set_messages(
            {},
            "These settings were changed elsewhere, at another counter, after you started "
            "typing. Reload them, then make your change again.",
        )

    # -- internals
    def _typed(self, key: str, was_dirty: bool) -> None:
        changed = False
        if key in self._errors:
            del self._errors[key]
            changed = True
        if self._notice:
            self._notice = ""
            changed = True
        if changed:
            self.messages_changed.emit()
        if self.dirty != was_dirty:
            self.dirty_changed.emit()

    def _snapshot(self) -> tuple[dict[str, Value], list[tuple[str, str]]]:
        return dict(self._values), [(r.label, r.amount) for r in self._shipping]

    def _read(self, shop: ShopSettings) -> tuple[dict[str, Value], list[tuple[str, str]]]:
        values = {f.key: _shown(f, _get(shop, f.key)) for f in self.fields}
        shipping = (
            [(o.label, f"{o.amount:.2f}") for o in shop.shipping_options]
            if self.spec.shipping
            else []
        )
        return values, shipping

    def _changes(self) -> tuple[dict[str, Any], dict[str, str]]:
        """The service's ``changes`` for this section, or the fields that cannot be read."""
        changes: dict[str, Any] = {}
        errors: dict[str, str] = {}
        for spec in self.fields:
            raw = self._values.get(spec.key, "")
            value: Any
            if spec.kind is Kind.CHECK:
                value = bool(raw)
            else:
                text = str(raw).strip()
                if spec.kind is Kind.PERCENT:
                    try:
                        value = str(Decimal(text.rstrip("%").strip() or "x") / 100)
                    except InvalidOperation:
                        errors[spec.key] = f"{spec.label}: enter a percentage, e.g. 10."
                        continue
                elif spec.blank_is_none and not text:
                    value = None
                else:
                    value = text if spec.kind is not Kind.LONG_TEXT else str(raw).strip()
            section, _, name = spec.key.partition(".")
            if name:
                changes.setdefault(section, {})[name] = value
            else:
                changes[section] = value
        if self.spec.shipping:
            changes["shipping_options"] = [
                {"label": r.label.strip(), "amount": r.amount.strip()}
                for r in self._shipping
                if r.label.strip() or r.amount.strip()
            ]
        return changes, errors

    def _placed(self, message: str) -> tuple[dict[str, str], str]:
        """A service refusal beside the field it names, or above the form."""
        key = _refused_key(message)
        if key is None:
            return {}, message
        if key.startswith("shipping_options"):
            parts = key.split(".")
            if len(parts) >= 2 and parts[1].isdigit():
                what = parts[2] if len(parts) > 2 else "option"
                reason = message.partition(": ")[2]
                message = f"Shipping option {int(parts[1]) + 1}, {what}: {reason}"
            return {"shipping_options": message}, ""
        spec = next((f for f in self.fields if key == f.key or key.startswith(f"{f.key}.")), None)
        if spec is None:
            return {}, message
        if spec.kind is Kind.PERCENT:  # the service speaks of the fraction; people of per cent
            message = (
                f"Setting {key}: enter the rate in per cent, from 0 up to (not including) 100."
            )
        return {spec.key: message}, ""

    def _set_messages(self, errors: dict[str, str], message: str, *, notice: str = "") -> None:
        self._errors = errors
        self._message = message
        self._notice = notice
        self.messages_changed.emit()


# ---------------------------------------------------------------------------------------------
# Record editors: a printer, a material, a user


@dataclass(frozen=True)
class EditorField:
    key: str
    label: str
    hint: str = ""
    words: tuple[str, ...] = ()  # words in a service refusal that mean this field
    choices: tuple[tuple[str, str], ...] = ()
    secret: bool = False
    width: int = 0


class _ChangedElsewhere(Conflict):
    """A Conflict on save whose record's version really moved on (not, say, a taken name)."""


Submit = Callable[[Session, dict[str, str], int | None], View]


class RecordEditorViewModel(QObject, Generic[View]):
    """A dialog's form: values as typed, refusals beside their fields, a conflict banner.

    ``submit(session, values, version)`` creates (version None) or updates the record;
    ``current(session)`` reads it again. Both run in the background. A Conflict is "changed
    elsewhere" only when the record's version really moved on; otherwise (a taken name) it is
    shown beside the field it is about.
    """

    form_changed = Signal()
    messages_changed = Signal()
    saved = Signal(object)  # the record as saved
    save_done = Signal(bool)  # every Save ends here: True when it was written
    busy_changed = Signal(bool)  # saving or reloading: the dialog shows it and Save waits

    def __init__(
        self,
        ctx: AppContext,
        *,
        title: str,
        fields: Sequence[EditorField],
        values: dict[str, str],
        submit: Submit[View],
        current: Callable[[Session], View] | None = None,
        read: Callable[[View], tuple[dict[str, str], int]] | None = None,
        check: Callable[[dict[str, str]], dict[str, str]] | None = None,
        version: int | None = None,
        save_text: str = "Save",
        done_text: str = "",
    ) -> None:
        super().__init__()
        self._ctx = ctx
        self.title = title
        self.fields = tuple(fields)
        self.save_text = save_text
        self._done_text = done_text
        self._values = dict(values)
        self._submit = submit
        self._current = current
        self._read = read
        self._check = check
        self._version = version
        self._errors: dict[str, str] = {}
        self._message = ""
        self._notice = ""
        self._conflict = False
        self._saver: Loader[View] = Loader(
            ctx, self._save_finished, on_failed=self._save_failed, parent=self
        )
        self._reader: Loader[View] = Loader(ctx, self._reloaded, parent=self)
        for loader in (self._saver, self._reader):
            loader.loading_changed.connect(lambda _b: self.busy_changed.emit(self.busy))

    @property
    def is_new(self) -> bool:
        return self._version is None and self._current is None

    def value(self, key: str) -> str:
        return self._values.get(key, "")

    @property
    def values(self) -> dict[str, str]:
        return dict(self._values)

    @property
    def errors(self) -> dict[str, str]:
        return dict(self._errors)

    @property
    def message(self) -> str:
        return self._message

    @property
    def notice(self) -> str:
        return self._notice

    @property
    def conflict(self) -> bool:
        return self._conflict

    @property
    def busy(self) -> bool:
        return self._saver.loading or self._reader.loading

    @property
    def saving(self) -> bool:
        return self._saver.loading

    @property
    def can_save(self) -> bool:
        return not self._conflict and not self.busy

    def set_value(self, key: str, value: str) -> None:
        if not any(f.key == key for f in self.fields):
            raise KeyError(key)
        self._values[key] = value
        if key in self._errors:
            del self._errors[key]
            self.messages_changed.emit()

    def save(self) -> None:
        """Create or update in the background; a refusal stays in the form, beside what it is
        about (``save_done`` tells how it ended)."""
        if not self.can_save:
            self.save_done.emit(False)
            return
        if self._check is not None:
            errors = self._check(self.values)
            if errors:
                self._set_messages(errors, "")
                self.save_done.emit(False)
                return
        self._set_messages({}, "")
        submit, current, values, version = self._submit, self._current, self.values, self._version

        def attempt(s: Session) -> View:
            try:
                return submit(s, values, version)
            except Conflict as exc:
                if current is not None and version is not None and _moved_on(s, current, version):
                    raise _ChangedElsewhere(str(exc)) from exc
                raise

        self._saver.run(attempt)

    def reload(self) -> None:
        if self._current is not None and self._read is not None:
            self._reader.run(self._current)

    def _save_finished(self, saved: View) -> None:
        if self._done_text:
            self._ctx.notifier.info(self._done_text)
        self.saved.emit(saved)
        self.save_done.emit(True)

    def _save_failed(self, exc: BaseException) -> bool:
        if isinstance(exc, _ChangedElsewhere):
            self._conflict = True  # the view shows CHANGED_ELSEWHERE with a Reload button
            self._set_messages({}, str(exc))
        elif isinstance(exc, NotFound):
            self._set_messages({}, f"{exc} It was removed at another counter.")
        elif isinstance(exc, ServiceError):
            self._set_messages(*self._placed(str(exc)))
        else:
            log.error("settings.record_save_failed error=%r", exc)
            self._ctx.notifier.error(
                f"{self.title}: could not save: {exc}", "".join(traceback.format_exception(exc))
            )
        self.save_done.emit(False)
        return True

    def _reloaded(self, record: View) -> None:
        assert self._read is not None
        self._values, self._version = self._read(record)
        self._conflict = False
        self.form_changed.emit()
        self._set_messages(
            {}, "", notice="Reloaded what the other counter saved. Make your change again."
        )

    def _placed(self, message: str) -> tuple[dict[str, str], str]:
        lowered = message.lower()
        for spec in self.fields:
            if any(word in lowered for word in spec.words):
                return {spec.key: message}, ""
        return {}, message

    def _set_messages(self, errors: dict[str, str], message: str, *, notice: str = "") -> None:
        self._errors = errors
        self._message = message
        self._notice = notice
        self.messages_changed.emit()


def _moved_on(s: Session, current: Callable[[Session], Any], version: int) -> bool:
    """Whether the record's saved version is past ``version`` (or the record is gone)."""
    try:
        record = current(s)
    except ServiceError:
        return True
    return bool(getattr(record, "version", version) != version)


def _number(values: dict[str, str], key: str, label: str, errors: dict[str, str]) -> Decimal:
    text = values.get(key, "").strip().replace(",", "")
    try:
        number = Decimal(text)
    except InvalidOperation:
        errors[key] = f"{label}: enter a number." if text else f"{label}: enter a value."
        return Decimal(0)
    if not number.is_finite():
        errors[key] = f"{label}: enter a number."
    return number


def _numbers_check(
    labels: dict[str, str], optional: Sequence[str] = ()
) -> Callable[[dict[str, str]], dict[str, str]]:
    """Only that the boxes hold numbers; their ranges are the service's to judge."""

    def check(values: dict[str, str]) -> dict[str, str]:
        errors: dict[str, str] = {}
        for key, label in labels.items():
            if key in optional and not values.get(key, "").strip():
                continue
            _number(values, key, label, errors)
        return errors

    return check


PRINTER_FIELDS = (
    EditorField("name", "Name", "As shown on the jobs board", ("name",)),
    EditorField(
        "cura_definition_id",
        "Cura definition",
        "e.g. creality_ender3",
        ("cura definition",),
    ),
    EditorField("build_x", "Build X (mm)", "", ("build volume x",), width=90),
    EditorField("build_y", "Build Y (mm)", "", ("build volume y",), width=90),
    EditorField("build_z", "Build Z (mm)", "", ("build volume z",), width=90),
    EditorField("nozzle", "Nozzle (mm)", "", ("nozzle",), width=90),
    EditorField("hourly_rate", "Hourly rate", "Empty: the shop's rate", ("hourly rate",), width=90),
)
PRINTER_NUMBERS = {
    "build_x": "Build volume X (mm)",
    "build_y": "Build volume Y (mm)",
    "build_z": "Build volume Z (mm)",
    "nozzle": "Nozzle (mm)",
    "hourly_rate": "Hourly rate",
}

MATERIAL_FIELDS = (
    EditorField("name", "Name", "e.g. PLA Silk Gold", ("name",)),
    EditorField("type", "Type", "e.g. PLA, PETG", ("type",), width=140),
    EditorField("colour", "Colour", "", ("colour",), width=140),
    EditorField("density", "Density (g/cm³)", "", ("density",), width=90),
    EditorField("cost_per_kg", "Cost per kg", "", ("cost per kg",), width=90),
    EditorField("diameter", "Diameter (mm)", "1.75, 2.85 or 3.00", ("diameter",), width=90),
)
MATERIAL_NUMBERS = {
    "density": "Density (g/cm³)",
    "cost_per_kg": "Cost per kg",
    "diameter": "Diameter (mm)",
}

ROLE_CHOICES = ((Role.STAFF.value, "Staff"), (Role.ADMIN.value, "Admin"))
USER_FIELDS = (
    EditorField("email", "Email", "They sign in with it", ("email",)),
    EditorField("name", "Name", "", ("name",)),
    EditorField("role", "Role", "", (), ROLE_CHOICES),
    EditorField("password", "Password", "At least 8 characters", ("password",), secret=True),
    EditorField("password_again", "Password again", "", ("differ",), secret=True),
)
PASSWORD_FIELDS = USER_FIELDS[3:]


def _check_passwords(values: dict[str, str]) -> dict[str, str]:
    if values.get("password", "") != values.get("password_again", ""):
        return {"password_again": "The two passwords differ; type the same one twice."}
    return {}


def _money(value: Decimal | None) -> str:
    return "" if value is None else f"{value:.2f}"


# ---------------------------------------------------------------------------------------------
# The tables


def _in_memory(rows: Sequence[Row]) -> Callable[[int, int], list[Row]]:
    return lambda offset, limit: list(rows[offset : offset + limit])


class _Catalog(QObject, Generic[Row]):
    """A table of records read whole (a shop has a handful of printers, materials, users), in
    the background; a command on a row and the rows after it are one background call."""

    changed = Signal()  # the rows were read again
    editor_opened = Signal(object)  # RecordEditorViewModel: show a dialog for it
    loading_changed = Signal(bool)  # the rows are being read
    busy_changed = Signal(bool)  # anything of this table on its way to or from the database
    act_done = Signal(bool)  # a table command ended: True when it was done

    def __init__(self, ctx: AppContext, columns: Sequence[Column[Row]]) -> None:
        super().__init__()
        self._ctx = ctx
        self._rows: list[Row] = []
        self._loaded_once = False
        self.model = PagedTableModel[Row](columns, _in_memory([]))
        self.editor: RecordEditorViewModel[Any] | None = None
        self._lister: Loader[list[Row]] = Loader(ctx, self._listed, parent=self)
        self._acting: Loader[list[Row]] = Loader(
            ctx, self._acted, on_failed=self._act_failed, parent=self
        )
        self._opener: Loader[tuple[Any, Callable[[Any], RecordEditorViewModel[Any]]]] = Loader(
            ctx, self._open_read, parent=self
        )
        self._done_text = ""
        self._lister.loading_changed.connect(self.loading_changed)
        for loader in (self._lister, self._acting, self._opener):
            loader.loading_changed.connect(lambda _b: self.busy_changed.emit(self.busy))

    @property
    def can_edit(self) -> bool:
        return self._ctx.actor.is_admin

    @property
    def rows(self) -> list[Row]:
        return list(self._rows)

    @property
    def loading(self) -> bool:
        return self._lister.loading

    @property
    def loaded_once(self) -> bool:
        return self._loaded_once

    @property
    def busy(self) -> bool:
        loaders = (self._lister, self._acting, self._opener)
        editing = self.editor is not None and self.editor.busy
        return editing or any(loader.loading for loader in loaders)

    def row_at(self, row: int) -> Row | None:
        return self._rows[row] if 0 <= row < len(self._rows) else None

    def refresh(self) -> None:
        """Read the rows again (in the background; ``changed`` brings them)."""
        self._lister.run(self._list)

    def ensure_loaded(self) -> None:
        """The table's page is shown: read it the first time."""
        if not self._loaded_once and not self._lister.loading:
            self.refresh()

    def close_editor(self) -> None:
        self.editor = None

    def _list(self, s: Session) -> list[Row]:
        raise NotImplementedError

    def _listed(self, rows: list[Row]) -> None:
        self._rows = rows
        self._loaded_once = True
        self.model.reload(_in_memory(rows))
        self.changed.emit()

    def _open(self, editor: RecordEditorViewModel[Any]) -> RecordEditorViewModel[Any]:
        self.editor = editor
        editor.saved.connect(self._saved)
        editor.busy_changed.connect(lambda _b: self.busy_changed.emit(self.busy))
        self.editor_opened.emit(editor)
        return editor

    def _open_read(self, read: tuple[Any, Callable[[Any], RecordEditorViewModel[Any]]]) -> None:
        record, make = read
        self._open(make(record))

    def _open_when_read(
        self, read: Callable[[Session], View], make: Callable[[View], RecordEditorViewModel[Any]]
    ) -> None:
        """Read the record as saved now, then open its editor (``editor_opened``)."""
        self._opener.run(lambda s: (read(s), make))

    def _saved(self, _record: object) -> None:
        self.editor = None
        self.refresh()

    def _act(self, action: Callable[[Session], object], done: str) -> None:
        """A table command (status, deactivate, role): a refusal becomes a toast."""
        self._done_text = done
        listing = self._list

        def act(s: Session) -> list[Row]:
            action(s)
            return listing(s)

        self._acting.run(act)

    def _acted(self, rows: list[Row]) -> None:
        self._lister.drop()  # a read started before the command would show the rows before it
        self._listed(rows)
        self._ctx.notifier.info(self._done_text)
        self.act_done.emit(True)

    def _act_failed(self, exc: BaseException) -> bool:
        report_failure(self._ctx, exc, "".join(traceback.format_exception(exc)))
        self.refresh()
        self.act_done.emit(False)
        return True


PRINTER_STATUS_TEXT = {
    PrinterStatus.ACTIVE: "Active",
    PrinterStatus.MAINTENANCE: "Maintenance",
    PrinterStatus.OFFLINE: "Offline",
}


def _build(p: PrinterView) -> str:
    return f"{_plain(p.build_x_mm)} × {_plain(p.build_y_mm)} × {_plain(p.build_z_mm)} mm"


class PrintersViewModel(_Catalog[PrinterView]):
    def __init__(self, ctx: AppContext, status_colours: dict[str, str] | None = None) -> None:
        colours = status_colours or {}
        super().__init__(
            ctx,
            [
                Column("Name", lambda p: p.name),
                Column("Cura definition", lambda p: p.cura_definition_id),
                Column("Build volume", _build),
                Column("Nozzle", lambda p: f"{_plain(p.nozzle_mm)} mm", align_right=True),
                Column(
                    "Hourly rate",
                    lambda p: _money(p.hourly_rate) or "Shop rate",
                    align_right=True,
                ),
                Column(
                    "Status",
                    lambda p: PRINTER_STATUS_TEXT[p.status],
                    colour=lambda p: colours.get(p.status.value),
                ),
            ],
        )

    @property
    def statuses(self) -> tuple[PrinterStatus, ...]:
        return tuple(PrinterStatus)

    def _list(self, s: Session) -> list[PrinterView]:
        return printers.list_printers(s, include_inactive=True)

    def new_printer(self) -> RecordEditorViewModel[PrinterView]:
        editor = RecordEditorViewModel[PrinterView](
            self._ctx,
            title="New printer",
            fields=PRINTER_FIELDS,
            values={"nozzle": "0.4"},
            submit=self._submit_printer(None),
            check=_numbers_check(PRINTER_NUMBERS, optional=("hourly_rate",)),
            save_text="Add printer",
        )
        self._open(editor)
        return editor

    def edit_printer(self, printer_id: int) -> None:
        """Open the editor on the printer as saved now (``editor_opened`` brings it)."""

        def current(s: Session) -> PrinterView:
            return printers.get_printer(s, printer_id)

        def make(printer: PrinterView) -> RecordEditorViewModel[PrinterView]:
            values, version = self._printer_values(printer)
            return RecordEditorViewModel[PrinterView](
                self._ctx,
                title=f"Edit {printer.name}",
                fields=PRINTER_FIELDS,
                values=values,
                submit=self._submit_printer(printer_id),
                current=current,
                read=self._printer_values,
                check=_numbers_check(PRINTER_NUMBERS, optional=("hourly_rate",)),
                version=version,
                save_text="Save changes",
            )

        self._open_when_read(current, make)

    def set_status(self, printer_id: int, status: PrinterStatus) -> None:
        printer = next((p for p in self._rows if p.id == printer_id), None)
        if printer is not None and printer.status is status:
            self.act_done.emit(True)
            return
        name = printer.name if printer else "The printer"
        actor = self._ctx.actor
        self._act(
            lambda s: printers.set_printer_status(s, actor, printer_id, status),
            f"{name} is now {PRINTER_STATUS_TEXT[status].lower()}.",
        )

    @staticmethod
    def _printer_values(p: PrinterView) -> tuple[dict[str, str], int]:
        return {
            "name": p.name,
            "cura_definition_id": p.cura_definition_id,
            "build_x": _plain(p.build_x_mm),
            "build_y": _plain(p.build_y_mm),
            "build_z": _plain(p.build_z_mm),
            "nozzle": _plain(p.nozzle_mm),
            "hourly_rate": _money(p.hourly_rate),
        }, p.version

    def _submit_printer(self, printer_id: int | None) -> Submit[PrinterView]:
        actor = self._ctx.actor

        def submit(s: Session, values: dict[str, str], version: int | None) -> PrinterView:
            errors: dict[str, str] = {}
            rate = values.get("hourly_rate", "").strip()
            data = PrinterInput(
                name=values.get("name", ""),
                cura_definition_id=values.get("cura_definition_id", ""),
                build_x_mm=_number(values, "build_x", "Build X", errors),
                build_y_mm=_number(values, "build_y", "Build Y", errors),
                build_z_mm=_number(values, "build_z", "Build Z", errors),
                nozzle_mm=_number(values, "nozzle", "Nozzle", errors),
                hourly_rate=_number(values, "hourly_rate", "Hourly rate", errors) if rate else None,
            )
            if printer_id is None:
                return printers.create_printer(s, actor, data)
            assert version is not None
            return printers.update_printer(s, actor, printer_id, data, version)

        return submit


class MaterialsViewModel(_Catalog[MaterialView]):
    def __init__(self, ctx: AppContext, muted: str | None = None) -> None:
        super().__init__(
            ctx,
            [
                Column("Name", lambda m: m.name),
                Column("Type", lambda m: m.type),
                Column("Colour", lambda m: m.colour),
                Column("Density", lambda m: f"{_plain(m.density_g_cm3)} g/cm³", align_right=True),
                Column("Cost / kg", lambda m: _money(m.cost_per_kg), align_right=True),
                Column("Diameter", lambda m: f"{m.diameter_mm:.2f} mm", align_right=True),
                Column(
                    "Active",
                    lambda m: "Active" if m.active else "Inactive",
                    colour=lambda m: None if m.active else muted,
                ),
            ],
        )

    def _list(self, s: Session) -> list[MaterialView]:
        return materials.list_materials(s, include_inactive=True)

    def new_material(self) -> RecordEditorViewModel[MaterialView]:
        editor = RecordEditorViewModel[MaterialView](
            self._ctx,
            title="New material",
            fields=MATERIAL_FIELDS,
            values={"diameter": "1.75"},
            submit=self._submit_material(None),
            check=_numbers_check(MATERIAL_NUMBERS),
            save_text="Add material",
        )
        self._open(editor)
        return editor

    def edit_material(self, material_id: int) -> None:
        """Open the editor on the material as saved now (``editor_opened`` brings it)."""

        def current(s: Session) -> MaterialView:
            return materials.get_material(s, material_id)

        def make(material: MaterialView) -> RecordEditorViewModel[MaterialView]:
            values, version = self._material_values(material)
            return RecordEditorViewModel[MaterialView](
                self._ctx,
                title=f"Edit {material.name}",
                fields=MATERIAL_FIELDS,
                values=values,
                submit=self._submit_material(material_id),
                current=current,
                read=self._material_values,
                check=_numbers_check(MATERIAL_NUMBERS),
                version=version,
                save_text="Save changes",
            )

        self._open_when_read(current, make)

    def set_active(self, material_id: int, active: bool) -> None:
        material = next((m for m in self._rows if m.id == material_id), None)
        name = material.name if material else "The material"
        actor = self._ctx.actor

        def change(s: Session) -> MaterialView:
            if active:
                return materials.reactivate_material(s, actor, material_id)
            return materials.deactivate_material(s, actor, material_id)

        done = (
            f"{name} is back on the counter's lists."
            if active
            else f"{name} is off the counter's lists; past quotes keep their prices."
        )
        self._act(change, done)

    @staticmethod
    def _material_values(m: MaterialView) -> tuple[dict[str, str], int]:
        return {
            "name": m.name,
            "type": m.type,
            "colour": m.colour,
            "density": _plain(m.density_g_cm3),
            "cost_per_kg": _money(m.cost_per_kg),
            "diameter": f"{m.diameter_mm:.2f}",
        }, m.version

    def _submit_material(self, material_id: int | None) -> Submit[MaterialView]:
        actor = self._ctx.actor

        def submit(s: Session, values: dict[str, str], version: int | None) -> MaterialView:
            errors: dict[str, str] = {}
            data = MaterialInput(
                name=values.get("name", ""),
                type=values.get("type", ""),
                colour=values.get("colour", ""),
                density_g_cm3=_number(values, "density", "Density", errors),
                cost_per_kg=_number(values, "cost_per_kg", "Cost per kg", errors),
                diameter_mm=_number(values, "diameter", "Diameter", errors),
            )
            if material_id is None:
                return materials.create_material(s, actor, data)
            assert version is not None
            return materials.update_material(s, actor, material_id, data, version)

        return submit


class UsersViewModel(_Catalog[UserView]):
    """Staff accounts; admins only (staff are not shown the list)."""

    def __init__(self, ctx: AppContext, muted: str | None = None) -> None:
        super().__init__(
            ctx,
            [
                Column("Email", lambda u: u.email),
                Column("Name", lambda u: u.name),
                Column("Role", lambda u: "Admin" if u.is_admin else "Staff"),
                Column(
                    "Active",
                    lambda u: "Active" if u.active else "Deactivated",
                    colour=lambda u: None if u.active else muted,
                ),
            ],
        )

    @property
    def visible(self) -> bool:
        return self._ctx.actor.is_admin

    @property
    def hidden_text(self) -> str:
        return "Only an admin can see and manage the user accounts."

    def is_me(self, user_id: int) -> bool:
        return self._ctx.actor.user_id == user_id

    def refresh(self) -> None:
        if self.visible:
            super().refresh()

    def _list(self, s: Session) -> list[UserView]:
        return users.list_users(s)

    def new_user(self) -> RecordEditorViewModel[UserView]:
        actor = self._ctx.actor

        def submit(s: Session, values: dict[str, str], _version: int | None) -> UserView:
            return users.add_user(
                s,
                actor,
                values.get("email", ""),
                values.get("name", ""),
                Role(values.get("role") or Role.STAFF.value),
                values.get("password", ""),
            )

        editor = RecordEditorViewModel[UserView](
            self._ctx,
            title="New user",
            fields=USER_FIELDS,
            values={"role": Role.STAFF.value},
            submit=submit,
            check=_check_passwords,
            save_text="Add user",
        )
        self._open(editor)
        return editor

    def change_password(self, user_id: int) -> RecordEditorViewModel[None] | None:
        user = next((u for u in self._rows if u.id == user_id), None)
        if user is None:
            return None
        actor = self._ctx.actor

        def submit(s: Session, values: dict[str, str], _version: int | None) -> None:
            users.change_password(s, actor, user_id, values.get("password", ""))

        editor = RecordEditorViewModel[None](
            self._ctx,
            title=f"New password for {user.name or user.email}",
            fields=PASSWORD_FIELDS,
            values={},
            submit=submit,
            check=_check_passwords,
            save_text="Change password",
            done_text=f"The password of {user.email} was changed.",
        )
        self._open(editor)
        return editor

    def set_active(self, user_id: int, active: bool) -> None:
        user = next((u for u in self._rows if u.id == user_id), None)
        who = user.email if user else "The user"
        actor = self._ctx.actor
        done = f"{who} can sign in again." if active else f"{who} can no longer sign in."
        self._act(lambda s: users.set_active(s, actor, user_id, active), done)

    def set_role(self, user_id: int, role: Role) -> None:
        user = next((u for u in self._rows if u.id == user_id), None)
        if user is not None and user.role is role:
            self.act_done.emit(True)
            return
        who = user.email if user else "The user"
        actor = self._ctx.actor
        self._act(
            lambda s: users.set_role(s, actor, user_id, role),
            f"{who} is now {'an admin' if role is Role.ADMIN else 'staff'}.",
        )


# ---------------------------------------------------------------------------------------------
# The page


@dataclass(frozen=True)
class PageEntry:
    key: str
    title: str


TABLE_PAGES = (
    PageEntry("printers", "Printers"),
    PageEntry("materials", "Materials"),
    PageEntry("users", "Users"),
)


class SettingsViewModel(QObject):
    """The settings screen: its sections, the tables, and who may change them.

    Showing the screen reads the settings row (all the sections' first data, one statement);
    a table is read when its page is first shown, and again on each refresh after that."""

    current_changed = Signal(str)  # the section shown
    loading_changed = Signal(bool)  # the settings or the table shown are being read
    busy_changed = Signal(bool)  # anything of this screen on its way to or from the database

    def __init__(
        self,
        ctx: AppContext,
        shell: ShellViewModel | None = None,
        *,
        status_colours: dict[str, str] | None = None,
        muted: str | None = None,
    ) -> None:
        super().__init__()
        self._ctx = ctx
        self._shell = shell
        self._reader: Loader[tuple[ShopSettings, int]] = Loader(ctx, self._read, parent=self)
        self.sections = [SettingsSectionViewModel(ctx, spec) for spec in SECTIONS]
        for section in self.sections:
            section.saved.connect(self._saved)
            section.busy_changed.connect(self._busy_changed)
        self.printers = PrintersViewModel(ctx, status_colours)
        self.materials = MaterialsViewModel(ctx, muted)
        self.users = UsersViewModel(ctx, muted)
        self._tables: dict[str, _Catalog[Any]] = {
            "printers": self.printers,
            "materials": self.materials,
            "users": self.users,
        }
        self._reader.loading_changed.connect(self._loading_changed)
        self._reader.loading_changed.connect(self._busy_changed)
        for table in self._tables.values():
            table.loading_changed.connect(self._loading_changed)
            table.busy_changed.connect(self._busy_changed)
        self._current = self.sections[0].key
        self._loaded = False
        self._was_loading = False
        self._was_busy = False

    # -- state
    @property
    def can_edit(self) -> bool:
        return self._ctx.actor.is_admin

    @property
    def read_only_note(self) -> str:
        return "" if self.can_edit else READ_ONLY_NOTE

    @property
    def pages(self) -> list[PageEntry]:
        return [PageEntry(s.key, s.title) for s in self.sections] + list(TABLE_PAGES)

    @property
    def current(self) -> str:
        return self._current

    def section(self, key: str) -> SettingsSectionViewModel | None:
        return next((s for s in self.sections if s.key == key), None)

    @property
    def dirty_sections(self) -> list[SettingsSectionViewModel]:
        return [s for s in self.sections if s.dirty]

    @property
    def loaded(self) -> bool:
        """The settings were read at least once (the sections show saved values)."""
        return self._loaded

    @property
    def loading(self) -> bool:
        return self._reader.loading or any(t.loading for t in self._tables.values())

    @property
    def busy(self) -> bool:
        tables = any(t.busy for t in self._tables.values())
        return self._reader.loading or tables or any(s.busy for s in self.sections)

    # -- commands
    def show(self, key: str) -> None:
        if not any(p.key == key for p in self.pages):
            raise KeyError(key)
        if key in self._tables:
            self._tables[key].ensure_loaded()
        if key != self._current:
            self._current = key
            self.current_changed.emit(key)

    def load(self) -> None:
        """The screen is shown: read the settings, the table shown, and the tables read before."""
        self.refresh(first=True)

    def refresh(self, *, first: bool = False) -> None:
        """Read the settings and the tables read so far again. An untouched section shows the
        new values; one with typed changes keeps them and, if its settings changed elsewhere,
        says so. Before the screen was first shown there is nothing to read again."""
        if not (first or self._loaded or self._reader.loading):
            return
        self._reader.run(shop_settings.get_settings)
        for key, table in self._tables.items():
            if table.loaded_once or key == self._current:
                table.refresh()

    def save_current(self) -> None:
        section = self.section(self._current)
        if section is not None:
            section.save()

    def _read(self, loaded: tuple[ShopSettings, int]) -> None:
        for section in self.sections:
            section.sync(*loaded)
        self._loaded = True

    def _saved(self, shop: ShopSettings, version: int) -> None:
        for section in self.sections:
            section.sync(shop, version)

    def _loading_changed(self, _loading: bool) -> None:
        if self.loading != self._was_loading:
            self._was_loading = self.loading
            self.loading_changed.emit(self._was_loading)

    def _busy_changed(self, _busy: bool) -> None:
        if self.busy != self._was_busy:
            self._was_busy = self.busy
            self.busy_changed.emit(self._was_busy)
