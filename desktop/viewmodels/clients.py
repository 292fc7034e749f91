"""Clients: the searchable list, one client's page, and the form that creates or edits one.

The list pages from ``search_clients`` as the view scrolls and filters in SQL; typing in the
search box is debounced here (a QTimer, not a widget), so a test can drive it without one.
Edits carry the version they started from: a client changed at another counter meanwhile
comes back as a conflict with a reload, never as a silent overwrite.
"""

from __future__ import annotations

import datetime as dt
import logging
import traceback
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, fields, replace
from decimal import Decimal
from typing import TypeVar

from PySide6.QtCore import QObject, QTimer, Signal
from sqlalchemy.orm import Session

from core.enums import InvoiceStatus
from core.errors import Conflict, NotFound, ServiceError
from core.money import ZERO, format_money
from core.services import clients, invoices, quotes
from core.services.clients import ClientInput, ClientView
from core.services.invoices import InvoiceFilter, InvoiceSummary
from core.services.quotes import QuoteFilter, QuoteSummary
from core.services.settings import get_settings
from desktop.viewmodels.background import Loader
from desktop.viewmodels.context import AppContext
from desktop.viewmodels.paged_table import BackgroundPagedModel, Column, PagedTableModel
from desktop.viewmodels.shell import ShellViewModel

log = logging.getLogger(__name__)
Row = TypeVar("Row")


SEARCH_DELAY_MS = 250
# What one client's page reads at most: their newest quotes and invoices, and the activity of
# the client and their newest documents (payments: all of those of their invoices).
DOCUMENTS_READ = 500
ACTIVITY_DOCUMENTS_READ = 10
ACTIVITY_SHOWN = 60


def _date(value: dt.date | dt.datetime | None) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.astimezone().strftime("%d %b %Y %H:%M")
    return value.strftime("%d %b %Y")


def _status_text(status: str) -> str:
    return status.replace("_", " ").capitalize()


def _in_memory(rows: Sequence[Row]) -> Callable[[int, int], list[Row]]:
    return lambda offset, limit: list(rows[offset : offset + limit])


# ---------------------------------------------------------------------------------------------
# The edit form


@dataclass
class ClientForm:
    """What the form holds, as typed; the service trims and checks it."""

    name: str = ""
    company: str = ""
    email: str = ""
    phone: str = ""
    address: str = ""
    tax_id: str = ""
    payment_terms_days: int = 14
    notes: str = ""

    @classmethod
    def of(cls, client: ClientView) -> ClientForm:
        return cls(
            name=client.name,
            company=client.company or "",
            email=client.email or "",
            phone=client.phone or "",
            address=client.address or "",
            tax_id=client.tax_id or "",
            payment_terms_days=client.payment_terms_days,
            notes=client.notes or "",
        )

    def as_input(self) -> ClientInput:
        return ClientInput(
            name=self.name,
            company=self.company,
            email=self.email,
            phone=self.phone,
            address=self.address,
            tax_id=self.tax_id,
            payment_terms_days=self.payment_terms_days,
            notes=self.notes,
        )


FORM_FIELDS = tuple(f.name for f in fields(ClientForm))

# Which field a refusal of ``clients._cleaned`` is about, by the words it uses (checked in order:
# "email address" before "name", which an address may contain).
_FIELD_WORDS = (
    ("email address", "email"),
    ("payment terms", "payment_terms_days"),
    ("phone number", "phone"),
    ("tax id", "tax_id"),
    ("company", "company"),
    ("name", "name"),
)


def field_of(message: str) -> str | None:
    lowered = message.lower()
    return next((field for words, field in _FIELD_WORDS if words in lowered), None)


class ClientEditorViewModel(QObject):
    """The new/edit client form: values, inline messages, save and reload after a conflict."""

    form_changed = Signal()  # the values were replaced (opened, reloaded): refill the widgets
    messages_changed = Signal()  # field errors, the general message or the conflict state
    saved = Signal(object)  # ClientView
    save_done = Signal(object)  # after every save that reached the database: ClientView or None
    busy_changed = Signal(bool)  # saving or reading: the form shows it and Save waits

    def __init__(
        self, ctx: AppContext, client: ClientView | None = None, *, payment_terms_days: int = 14
    ) -> None:
        super().__init__()
        self._ctx = ctx
        self._saver: Loader[ClientView] = Loader(
            ctx, self._save_done, on_failed=self._save_failed, parent=self
        )
        self._reader: Loader[ClientView] = Loader(
            ctx, self._read_done, on_failed=self._read_failed, parent=self
        )
        self._reading_for = "reload"
        for loader in (self._saver, self._reader):
            loader.loading_changed.connect(lambda _b: self.busy_changed.emit(self.busy))
        self._client = client
        self._form = (
            ClientForm.of(client) if client else ClientForm(payment_terms_days=payment_terms_days)
        )
        self._errors: dict[str, str] = {}
        self._message = ""
        self._notice = ""
        self._conflict = False
        self._gone = False

    # -- state
    @property
    def is_new(self) -> bool:
        return self._client is None

    @property
    def client_id(self) -> int | None:
        return self._client.id if self._client else None

    @property
    def version(self) -> int | None:
        return self._client.version if self._client else None

    @property
    def title(self) -> str:
        return "New client" if self._client is None else f"Edit {self._client.name}"

    @property
    def form(self) -> ClientForm:
        return replace(self._form)

    def value(self, field: str) -> str | int:
        value: str | int = getattr(self._form, field)
        return value

    @property
    def errors(self) -> dict[str, str]:
        """Messages beside the fields they are about."""
        return dict(self._errors)

    @property
    def message(self) -> str:
        """A refusal that belongs to no one field (shown above the form)."""
        return self._message

    @property
    def notice(self) -> str:
        """A neutral note, e.g. after a reload."""
        return self._notice

    @property
    def conflict(self) -> bool:
        """Another counter saved this client since the form was opened: reload before saving."""
        return self._conflict

    @property
    def can_save(self) -> bool:
        return not self._conflict and not self._gone and not self.busy

    @property
    def busy(self) -> bool:
        return self._saver.loading or self._reader.loading

    # -- commands
    def set_value(self, field: str, value: str | int) -> None:
        if field not in FORM_FIELDS:
            raise KeyError(field)
        setattr(self._form, field, int(value) if field == "payment_terms_days" else str(value))
        if field in self._errors:
            del self._errors[field]
            self.messages_changed.emit()

    def save(self) -> None:
        """Create or update in the background; a refusal comes back into the form, next to
        what it is about (``save_done`` tells either way)."""
        if not self.can_save:
            return
        data = self._form.as_input()
        self._set_messages({}, "", notice="")
        actor, client = self._ctx.actor, self._client
        if client is None:
            self._saver.run(lambda s: clients.create_client(s, actor, data))
        else:
            self._saver.run(
                lambda s: clients.update_client(s, actor, client.id, data, client.version)
            )

    def _save_done(self, saved: ClientView) -> None:
        self._client = saved
        self.saved.emit(saved)
        self.save_done.emit(saved)

    def _save_failed(self, exc: BaseException) -> bool:
        if isinstance(exc, Conflict):
            self._conflict = True
            self._set_messages({}, str(exc))
        elif isinstance(exc, NotFound):
            self._gone = True
            self._set_messages({}, f"{exc} It was deleted at another counter.")
        elif isinstance(exc, ServiceError):
            field = field_of(str(exc))
            if field is None:
                self._set_messages({}, str(exc))
            else:
                self._set_messages({field: str(exc)}, "")
        else:  # the form stays open with what was typed
            log.error("client.save_failed error=%r", exc)
            self._ctx.notifier.error(
                f"The client could not be saved: {exc}",
                "".join(traceback.format_exception(exc)),
            )
        self.save_done.emit(None)
        return True

    def reload(self) -> None:
        """Take the saved client as it is now; what was typed is replaced."""
        self._read("reload")

    def check_stale(self) -> None:
        """Called when another counter changed clients: warn before the person presses Save."""
        if self._conflict or self._gone:
            return
        self._read("check")

    def _read(self, why: str) -> None:
        if self._client is None:
            return
        self._reading_for = why
        client_id = self._client.id
        self._reader.run(lambda s: clients.get_client(s, client_id))

    def _read_done(self, current: ClientView) -> None:
        if self._client is None:
            return
        if self._reading_for == "check":
            if current.version != self._client.version and not self._conflict:
                self._conflict = True
                self._set_messages(
                    {},
                    f"{current.name} was changed elsewhere — reload it before saving your change.",
                )
            return
        self._client = current
        self._form = ClientForm.of(current)
        self._conflict = False
        self.form_changed.emit()
        self._set_messages(
            {},
            "",
            notice="Reloaded the details saved at the other counter. Make your change again.",
        )

    def _read_failed(self, exc: BaseException) -> bool:
        if isinstance(exc, NotFound):
            self._gone = True
            self._set_messages({}, f"{exc} It was deleted at another counter.")
            return True
        if isinstance(exc, ServiceError):
            if self._reading_for == "reload":
                self._set_messages({}, str(exc))
            return True
        return False

    def _set_messages(self, errors: dict[str, str], message: str, *, notice: str = "") -> None:
        self._errors = errors
        self._message = message
        self._notice = notice
        self.messages_changed.emit()


# ---------------------------------------------------------------------------------------------
# One client's page


@dataclass(frozen=True)
class PaymentRow:
    invoice_id: int
    invoice_number: str
    when: dt.datetime
    method: str
    reference: str
    amount: Decimal
    currency: str

    @property
    def is_refund(self) -> bool:
        return self.amount < 0


@dataclass(frozen=True)
class ActivityRow:
    when: dt.datetime
    who: str
    message: str


@dataclass(frozen=True)
class ClientFigures:
    outstanding: str
    overdue: str
    overdue_alarm: bool
    paid: str
    invoices: int
    quotes: int


@dataclass(frozen=True)
class _Loaded:
    client: ClientView
    invoices: list[InvoiceSummary]
    quotes: list[QuoteSummary]
    payments: list[PaymentRow]
    activity: list[ActivityRow]
    currency: str


class ClientPageViewModel(QObject):
    """Everything about one client: details, quotes, invoices, payments and activity."""

    changed = Signal()  # a client was opened or reloaded, or the page was closed
    loading_changed = Signal(bool)

    def __init__(self, ctx: AppContext, status_colours: Mapping[str, str] | None = None) -> None:
        super().__init__()
        self._ctx = ctx
        self._colours = dict(status_colours or {})
        self._loaded: _Loaded | None = None
        self._opening: int | None = None  # the client asked for, while it is read
        self._loader: Loader[_Loaded] = Loader(
            ctx, self._show, on_failed=self._load_failed, parent=self
        )
        self._loader.loading_changed.connect(self.loading_changed)
        colour = self._colours.get
        self.invoices = PagedTableModel[InvoiceSummary](
            [
                Column("Invoice", lambda i: i.number),
                Column("Due", lambda i: _date(i.due_date)),
                Column(
                    "Status",
                    lambda i: _status_text(i.display_status),
                    colour=lambda i: colour(i.display_status),
                ),
                Column("Total", lambda i: format_money(i.total, i.currency), align_right=True),
                Column(
                    "Balance",
                    lambda i: format_money(i.balance_due, i.currency),
                    align_right=True,
                    colour=lambda i: colour("OVERDUE") if i.overdue else None,
                ),
            ],
            _in_memory([]),
        )
        self.quotes = PagedTableModel[QuoteSummary](
            [
                Column("Quote", lambda q: q.number),
                Column("Issued", lambda q: _date(q.issue_date)),
                Column("Expires", lambda q: _date(q.expiry_date)),
                Column(
                    "Status",
                    lambda q: _status_text(q.status.value),
                    colour=lambda q: colour(q.status.value),
                ),
                Column("Total", lambda q: format_money(q.total, q.currency), align_right=True),
            ],
            _in_memory([]),
        )
        self.payments = PagedTableModel[PaymentRow](
            [
                Column("Date", lambda p: _date(p.when)),
                Column("Invoice", lambda p: p.invoice_number),
                Column("Method", lambda p: p.method),
                Column("Reference", lambda p: p.reference),
                Column(
                    "Amount",
                    lambda p: format_money(p.amount, p.currency),
                    align_right=True,
                    colour=lambda p: colour("OVERDUE") if p.is_refund else colour("PAID"),
                ),
            ],
            _in_memory([]),
        )
        self.activity = PagedTableModel[ActivityRow](
            [
                Column("When", lambda a: _date(a.when)),
                Column("Who", lambda a: a.who),
                Column("What", lambda a: a.message),
            ],
            _in_memory([]),
        )

    # -- state
    @property
    def loading(self) -> bool:
        return self._loader.loading

    @property
    def client(self) -> ClientView | None:
        return self._loaded.client if self._loaded else None

    @property
    def client_id(self) -> int | None:
        """The client shown, or the one being read to be shown."""
        if self._opening is not None:
            return self._opening
        return self._loaded.client.id if self._loaded else None

    @property
    def figures(self) -> ClientFigures:
        loaded = self._loaded
        currency = loaded.currency if loaded else "AUD"
        if loaded is None:
            zero = format_money(ZERO, currency)
            return ClientFigures(zero, zero, False, zero, 0, 0)
        own = [i for i in loaded.invoices if i.currency == currency]
        outstanding = sum((i.balance_due for i in own if i.status is InvoiceStatus.PENDING), ZERO)
        overdue = sum((i.balance_due for i in own if i.overdue), ZERO)
        paid = sum((p.amount for p in loaded.payments if p.currency == currency), ZERO)
        return ClientFigures(
            outstanding=format_money(outstanding, currency),
            overdue=format_money(overdue, currency),
            overdue_alarm=overdue > 0,
            paid=format_money(paid, currency),
            invoices=len(loaded.invoices),
            quotes=len(loaded.quotes),
        )

    @property
    def details(self) -> list[tuple[str, str]]:
        """Label and value of each detail the client has, for the page's fact sheet."""
        client = self.client
        if client is None:
            return []
        terms = client.payment_terms_days
        facts = [
            ("Company", client.company or ""),
            ("Email", client.email or ""),
            ("Phone", client.phone or ""),
            ("Address", client.address or ""),
            ("Tax ID", client.tax_id or ""),
            ("Payment terms", "Due on receipt" if terms == 0 else f"{terms} days"),
            ("Client since", _date(client.created_at.date())),
            ("Notes", client.notes or ""),
        ]
        return [(label, value) for label, value in facts if value]

    # -- commands
    def open(self, client_id: int) -> None:
        """Read the client's page in the background; it shows when it arrives."""
        self._opening = client_id
        self._loader.run(lambda s: _load_client(s, client_id))

    def reload(self) -> None:
        """Read the open client again; a client deleted elsewhere closes the page with a note."""
        if self._loaded is None and self._opening is None:
            return
        self.open(self._opening if self._opening is not None else self._loaded.client.id)  # type: ignore[union-attr]

    def _load_failed(self, exc: BaseException) -> bool:
        self._opening = None
        if isinstance(exc, NotFound) and self._loaded is not None:
            self._ctx.notifier.info(f"{self._loaded.client.name} was deleted at another counter.")
            self.close()
            return True
        return False

    def close(self) -> None:
        self._loader.drop()
        self._opening = None
        self._loaded = None
        self.invoices.reload(lambda _offset, _limit: [])
        self.quotes.reload(lambda _offset, _limit: [])
        self.payments.reload(lambda _offset, _limit: [])
        self.activity.reload(lambda _offset, _limit: [])
        self.changed.emit()

    # -- loading
    def _show(self, loaded: _Loaded) -> None:
        self._opening = None
        self._loaded = loaded
        self.invoices.reload(_in_memory(loaded.invoices))
        self.quotes.reload(_in_memory(loaded.quotes))
        self.payments.reload(_in_memory(loaded.payments))
        self.activity.reload(_in_memory(loaded.activity))
        self.changed.emit()


def _load_client(s: Session, client_id: int) -> _Loaded:
    """One client's page: details, documents, payments and activity, in seven statements
    whatever the number of documents."""
    client = clients.get_client(s, client_id)
    shop, _version = get_settings(s)
    client_invoices = invoices.list_invoices(
        s, InvoiceFilter(client_id=client_id), limit=DOCUMENTS_READ
    )
    client_quotes = quotes.list_quotes(s, QuoteFilter(client_id=client_id), limit=DOCUMENTS_READ)
    money = clients.client_money(s, client_id)
    entries = clients.client_activity(
        s,
        client_id,
        invoice_ids=[i.id for i in client_invoices[:ACTIVITY_DOCUMENTS_READ]],
        quote_ids=[q.id for q in client_quotes[:ACTIVITY_DOCUMENTS_READ]],
        limit=ACTIVITY_SHOWN,
    )
    return _Loaded(
        client=client,
        invoices=client_invoices,
        quotes=client_quotes,
        payments=[_payment_row(m) for m in money],
        activity=[ActivityRow(e.created_at, e.actor_label, e.message) for e in entries],
        currency=shop.currency,
    )


def _payment_row(money: clients.MoneyMovement) -> PaymentRow:
    method = _status_text(money.method)
    return PaymentRow(
        money.invoice_id,
        money.invoice_number,
        money.when,
        f"Refund ({method})" if money.is_refund else method,
        money.reference,
        money.amount,
        money.currency,
    )


# ---------------------------------------------------------------------------------------------
# The list


class ClientsViewModel(QObject):
    """The clients screen: search, the paged list, the open client and the commands on them."""

    searched = Signal()  # the list was reloaded for the current search text
    count_changed = Signal()  # ``count_text`` changed
    current_changed = Signal()  # another client was opened (or none): select it in the list
    editor_opened = Signal(object)  # ClientEditorViewModel: show the form for it
    client_deleted = Signal(int)
    # ("invoice" | "quote", id): emitted before ``shell.show`` of that list; the app may open
    # the record there.
    open_document = Signal(str, int)
    loading_changed = Signal(bool)  # the list is being read
    delete_done = Signal(bool)  # a delete finished: True when the client is gone

    def __init__(
        self,
        ctx: AppContext,
        shell: ShellViewModel | None = None,
        *,
        page_size: int = 200,
        search_delay_ms: int = SEARCH_DELAY_MS,
        status_colours: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__()
        self._ctx = ctx
        self._shell = shell
        self._search = ""
        self._applied: str | None = None
        self._count = 0
        self._editor: ClientEditorViewModel | None = None
        self.model = BackgroundPagedModel[ClientView](
            ctx,
            [
                Column("Name", lambda c: c.name),
                Column("Company", lambda c: c.company or ""),
                Column("Email", lambda c: c.email or ""),
                Column("Phone", lambda c: c.phone or ""),
            ],
            _source(""),
            page_size=page_size,
        )
        self.model.loading_changed.connect(self.loading_changed)
        self.model.modelReset.connect(self.searched)
        self._counter: Loader[int] = Loader(ctx, self._counted, parent=self)
        # The form's data is read in the background; the form (a QObject) is made here.
        self._opener: Loader[tuple[ClientView | None, int]] = Loader(
            ctx, self._open_form, parent=self
        )
        self._deleter: Loader[int] = Loader(
            ctx, self._deleted, on_failed=self._delete_failed, parent=self
        )
        self.page = ClientPageViewModel(ctx, status_colours)
        self.page.changed.connect(self.current_changed)
        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(search_delay_ms)
        self._debounce.timeout.connect(self.search_now)

    # -- state
    @property
    def loading(self) -> bool:
        return self.model.loading

    @property
    def busy(self) -> bool:
        """Anything of this screen on its way to or from the database."""
        loaders = (self._counter, self._opener, self._deleter)
        editing = self._editor is not None and self._editor.busy
        return self.model.loading or self.page.loading or editing or any(x.loading for x in loaders)

    @property
    def search_text(self) -> str:
        return self._search

    @property
    def search_pending(self) -> bool:
        return self._debounce.isActive()

    @property
    def count(self) -> int:
        """How many clients match the search (all of them when it is empty)."""
        return self._count

    @property
    def count_text(self) -> str:
        if not self.model.loaded_once:
            return "Reading clients…"
        noun = "client" if self._count == 1 else "clients"
        if self._search.strip():
            verb = "matches" if self._count == 1 else "match"
            return f"{self._count} {noun} {verb} “{self._search.strip()}”"
        return f"{self._count} {noun}"

    @property
    def is_empty_shop(self) -> bool:
        return self._count == 0 and not self._search.strip()

    @property
    def empty_text(self) -> str:
        if self.is_empty_shop:
            return "No clients yet — press New client (Ctrl+N) to add the first one."
        return f"No client matches “{self._search.strip()}”. Try part of a name, email or phone."

    @property
    def can_delete(self) -> bool:
        return self._ctx.actor.is_admin

    @property
    def current_id(self) -> int | None:
        return self.page.client_id

    @property
    def editor(self) -> ClientEditorViewModel | None:
        """The form open now, if any (checked for staleness when another counter saves)."""
        return self._editor

    # -- commands: the list
    def set_search(self, text: str) -> None:
        """As the person types: the list follows once they pause (``search_delay_ms``)."""
        self._search = text
        self._debounce.start()

    def search_now(self, text: str | None = None) -> None:
        if text is not None:
            self._search = text
        self._debounce.stop()
        self._applied = self._search
        self.model.set_source(_source(self._search))
        self._recount()

    def load(self) -> None:
        """First show: load the list unless it is already loaded for this search."""
        if self._applied is None:
            self.search_now()
        else:
            self.refresh()

    def refresh(self) -> None:
        """Another counter changed something: reload what is loaded, keep search and client."""
        self.model.set_source(_source(self._search), keep=self.model.rowCount())
        self._applied = self._search
        self._recount()
        self.page.reload()
        if self._editor is not None:
            self._editor.check_stale()

    def row_of(self, client_id: int) -> int | None:
        return next((n for n, c in enumerate(self.model.rows) if c.id == client_id), None)

    # -- commands: one client
    def open_client(self, client_id: int | None) -> None:
        if client_id is None:
            if self.page.client_id is not None:
                self.page.close()
            return
        if client_id != self.page.client_id:
            self.page.open(client_id)

    def new_client(self) -> None:
        """Open an empty form (with the shop's payment terms) once they are read."""

        def terms(s: Session) -> tuple[ClientView | None, int]:
            shop, _version = get_settings(s)
            return None, shop.payment_terms_days

        self._opener.run(terms)

    def edit_client(self, client_id: int) -> None:
        """Open the form on the client as it is saved now (``editor_opened`` brings it)."""
        self._opener.run(lambda s: (clients.get_client(s, client_id), 14))

    def _open_form(self, read: tuple[ClientView | None, int]) -> None:
        client, terms = read
        self._track(ClientEditorViewModel(self._ctx, client, payment_terms_days=terms))

    def close_editor(self) -> None:
        self._editor = None

    def delete_client(self, client_id: int) -> None:
        """Admins only; a client with quotes or invoices is kept (the refusal is shown)."""
        actor = self._ctx.actor

        def delete(s: Session) -> int:
            clients.delete_client(s, actor, client_id)
            return client_id

        self._deleter.run(delete)

    def _deleted(self, client_id: int) -> None:
        if self.page.client_id == client_id:
            self.page.close()
        self.refresh()
        self.client_deleted.emit(client_id)
        self.delete_done.emit(True)

    def _delete_failed(self, _exc: BaseException) -> bool:
        self.delete_done.emit(False)
        return False  # the refusal is shown as usual

    def open_invoice(self, invoice_id: int) -> None:
        self.open_document.emit("invoice", invoice_id)
        if self._shell is not None:
            self._shell.show("invoices")

    def open_quote(self, quote_id: int) -> None:
        self.open_document.emit("quote", quote_id)
        if self._shell is not None:
            self._shell.show("quotes")

    # -- internals
    def _track(self, editor: ClientEditorViewModel) -> ClientEditorViewModel:
        self._editor = editor
        editor.saved.connect(self._saved)
        self.editor_opened.emit(editor)
        return editor

    def _saved(self, client: ClientView) -> None:
        self._editor = None  # the form is done; nothing left to warn about
        self.refresh()  # also reloads the open client's page
        if self.page.client_id != client.id:
            self.page.open(client.id)

    def _recount(self) -> None:
        text = self._search
        self._counter.run(lambda s: clients.count_clients(s, text))

    def _counted(self, count: int) -> None:
        self._count = count
        self.count_changed.emit()


def _source(text: str) -> Callable[[Session, int, int], list[ClientView]]:
    return lambda s, offset, limit: clients.search_clients(s, text, limit=limit, offset=offset)
