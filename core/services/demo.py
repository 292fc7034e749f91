"""Demo data: a believable Sydney print shop made through the services; bulk invoices to bench.

``seed_demo_shop`` acts like the shop's staff would: every client, quote, invoice, payment,
refund and job goes through its service, so balances, jobs and the activity log agree with
each other. It is deterministic for a given ``rng_seed`` on a fresh database (dates are
relative to today). Contact details are fictional on purpose: emails use the reserved
``.example`` domain (RFC 2606) and phone numbers come from the ranges ACMA keeps for
fiction, so a demo invoice can never be emailed or rung through to a real person.

``seed_invoices_bulk`` is for benchmarks only: it writes invoices with set-based SQL and skips
the services (no activity log, no jobs, no events) to fill a database with 100,000 invoices
in seconds.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import random
import unicodedata
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import case, func, insert, select, text, update
from sqlalchemy.orm import Session

from core.actor import SYSTEM_ACTOR, Actor
from core.db.engine import Database
from core.db.models import Client, Invoice, Job, Payment, Quote, Refund
from core.enums import (
    DiscountType,
    JobPriority,
    JobStatus,
    PaymentMethod,
    PrinterStatus,
    Role,
)
from core.errors import Conflict
from core.money import document_totals, round_money
from core.pricing import PartMetrics, price_part
from core.services import clients as client_service
from core.services import invoices, jobs, materials, payments, printers, quotes, users
from core.services import settings as settings_service
from core.services.clients import ClientInput
from core.services.invoices import InvoiceView, is_overdue
from core.services.jobs import JobView
from core.services.line_items import DocumentTerms, ItemInput, today
from core.services.materials import MaterialInput, MaterialView
from core.services.payments import NewPayment, NewRefund
from core.services.printers import PrinterInput, PrinterView
from core.shop_settings import BusinessDetails, ShopSettings

Progress = Callable[[float], None]

SHOP_DOMAIN = "harbourside3d.example"
SHOP_NAME = "Harbourside 3D Printing"
OWNER_EMAIL = f"owner@{SHOP_DOMAIN}"
OWNER_PASSWORD = "demo-owner-password"
STAFF_EMAIL = f"sam@{SHOP_DOMAIN}"
STAFF_PASSWORD = "demo-staff-password"
# Sydney is UTC+10 (+11 in summer); a fixed offset keeps the seed free of a tz database.
SYDNEY = dt.timezone(dt.timedelta(hours=10), "AEST")

# ACMA's fictitious mobile numbers and NSW landline blocks (02 5550 …, 02 7010 …).
MOBILES = (
    "0491 570 006", "0491 570 156", "0491 570 157", "0491 570 158", "0491 570 159",
    "0491 570 110", "0491 570 313", "0491 570 737", "0491 571 266", "0491 571 491",
    "0491 571 804", "0491 572 549", "0491 572 665", "0491 572 983", "0491 573 770",
    "0491 573 087", "0491 574 118", "0491 574 632", "0491 575 254", "0491 575 789",
    "0491 576 398", "0491 576 801", "0491 577 426", "0491 577 644", "0491 578 957",
    "0491 578 148", "0491 578 888", "0491 579 212", "0491 579 760", "0491 579 455",
)  # fmt: skip
LANDLINE_BLOCKS = ("5550", "7010")

FIRST_NAMES = (
    "Olivia", "Liam", "Mia", "Noah", "Charlotte", "Jack", "Amelia", "William", "Isla",
    "Lachlan", "Chloe", "Ethan", "Grace", "Oliver", "Ava", "Thomas", "Ruby", "Lucas",
    "Sienna", "Cooper", "Priya", "Arjun", "Mei", "Wei", "Minh", "Linh", "Aiko", "Kenji",
    "Fatima", "Omar", "Sofia", "Mateo", "Hannah", "Declan", "Tahlia", "Jarrah", "Matilda",
    "Harrison", "Leilani", "Rangi",
)  # fmt: skip
LAST_NAMES = (
    "Nguyen", "Smith", "Chen", "Williams", "Patel", "Brown", "Tran", "Wilson", "Singh",
    "Taylor", "Kowalski", "O'Brien", "Papadopoulos", "Anderson", "Kim", "Murphy", "Rossi",
    "Le", "Martin", "Thompson", "Wong", "Kelly", "Haddad", "Walker", "Zhang", "Campbell",
    "Nakamura", "Ryan", "Costa", "Mitchell",
)  # fmt: skip
# Always among the first clients, so every list and PDF shows names beyond ASCII.
UNICODE_NAMES = (
    ("Zoë", "Ångström"),
    ("José", "Muñoz"),
    ("Siobhán", "Ní Bhriain"),
    ("François", "Lefèvre"),
    ("Björn", "Søndergaard"),
)
COMPANIES = (
    "Wattle Drone Works", "Paddington Props & Costume", "Redfern Robotics Club",
    "Marrickville Makerspace", "Circular Quay Architects", "Inner West Cosplay Guild",
    "Bondi Surfboard Repairs", "Parramatta Dental Studio", "Alexandria Product Design",
    "Glebe Model Railway Society", "Surry Hills Lighting Co.", "Leichhardt Prototype Lab",
    "Chatswood Scale Models", "Rozelle Furniture Studio", "Balmain Boatworks",
    "Ultimo Games Studio", "Pyrmont Film Props", "Cronulla Marine Electronics",
)  # fmt: skip
# Suburbs with their postcodes and a few of their real streets.
SUBURBS = (
    ("Newtown", "2042", ("King Street", "Enmore Road", "Wilson Street")),
    ("Surry Hills", "2010", ("Crown Street", "Bourke Street", "Foveaux Street")),
    ("Marrickville", "2204", ("Illawarra Road", "Addison Road", "Victoria Road")),
    ("Parramatta", "2150", ("Church Street", "George Street", "Macquarie Street")),
    ("Bondi", "2026", ("Campbell Parade", "Curlewis Street", "Hall Street")),
    ("Chatswood", "2067", ("Victoria Avenue", "Anderson Street", "Help Street")),
    ("Glebe", "2037", ("Glebe Point Road", "Bridge Road", "Wigram Road")),
    ("Redfern", "2016", ("Regent Street", "Redfern Street", "Cope Street")),
    ("Leichhardt", "2040", ("Norton Street", "Marion Street", "Balmain Road")),
    ("Manly", "2095", ("The Corso", "Pittwater Road", "Sydney Road")),
    ("Alexandria", "2015", ("Botany Road", "Fountain Street", "Euston Road")),
    ("Balmain", "2041", ("Darling Street", "Beattie Street", "Mullens Street")),
    ("Paddington", "2021", ("Oxford Street", "Glenmore Road", "Underwood Street")),
    ("Ultimo", "2007", ("Harris Street", "Mary Ann Street", "Wattle Street")),
    ("Rozelle", "2039", ("Victoria Road", "Darling Street", "Terry Street")),
    ("Penrith", "2750", ("High Street", "Henry Street", "Station Street")),
    ("Hurstville", "2220", ("Forest Road", "Park Road", "Woniora Road")),
    ("Cronulla", "2230", ("Cronulla Street", "Gerrale Street", "Kingsway")),
)
# Letters NFKD does not take apart into a base letter and an accent.
_ASCII_LETTERS = str.maketrans({"ø": "o", "Ø": "O", "æ": "ae", "Æ": "AE", "ß": "ss", "ł": "l"})
CLIENT_NOTES = (
    "Prefers pick-up on Fridays.",
    "Send invoices to the accounts address as well.",
    "Repeat customer: usually PETG, likes a test print first.",
    "Call before printing anything over 12 hours.",
)


@dataclass(frozen=True)
class _Part:
    name: str
    material_type: str
    layer_mm: str
    infill_percent: int
    seconds: tuple[int, int]
    grams: tuple[int, int]
    quantities: tuple[int, ...]
    supports: bool = False


PARTS = (
    _Part("Drone arm", "PETG", "0.2", 30, (6600, 9000), (32, 44), (4, 4, 8)),
    _Part("Cosplay helmet, 6 pieces", "PLA", "0.2", 15, (72000, 90000), (690, 840), (1,), True),
    _Part("Replacement gear ×4", "PETG", "0.12", 60, (9000, 12600), (28, 40), (1, 2)),
    _Part("Architectural model 1:200", "PLA", "0.12", 10, (39600, 54000), (260, 360), (1,)),
    _Part("Raspberry Pi 4 case", "PETG", "0.2", 20, (14400, 19800), (85, 110), (1, 2, 3)),
    _Part("Phone stand", "PLA", "0.2", 20, (5400, 7200), (45, 60), (1, 2, 5)),
    _Part("GoPro mount adapter", "ABS", "0.16", 40, (3000, 4200), (12, 18), (2, 4)),
    _Part("Prototype housing rev C", "ABS", "0.16", 25, (25200, 32400), (140, 190), (1,), True),
    _Part("Flexible gasket", "TPU", "0.2", 100, (4800, 6600), (15, 24), (6, 10)),
    _Part("Tabletop miniatures ×12", "PLA", "0.08", 15, (28800, 36000), (60, 85), (1,), True),
    _Part("Lithophane 150 × 100 mm", "PLA", "0.1", 100, (21600, 27000), (70, 90), (1, 2)),
    _Part("Bike light bracket", "PETG", "0.2", 40, (4200, 5400), (18, 26), (2,)),
    _Part("Cable clips (plate of 50)", "PETG", "0.2", 25, (10800, 13200), (55, 70), (1,)),
    _Part("Drill press jig", "PETG", "0.28", 25, (16200, 21600), (160, 210), (1,)),
    _Part("Trophy base with engraved text", "PLA", "0.16", 20, (18000, 23400), (120, 150), (1, 3)),
    _Part("HO scale locomotive body", "PLA", "0.08", 15, (30600, 39600), (40, 55), (1,), True),
    _Part("Espresso machine knob", "ABS", "0.12", 50, (3600, 4800), (10, 14), (1, 2)),
    _Part("Surfboard fin box plug", "PETG", "0.2", 60, (2700, 3600), (9, 13), (4, 6)),
)  # fmt: skip
# Work that is not a print: priced by the hour or by the piece, without a slicing breakdown.
EXTRAS = (
    ("Support removal and sanding (hours)", Decimal("45.00"), ("0.5", "1", "1.5")),
    ("Primer and paint, two coats", Decimal("60.00"), ("1",)),
    ("Model repair and print preparation", Decimal("35.00"), ("1",)),
    ("Express turnaround (24 h)", Decimal("40.00"), ("1",)),
    ("Heat-set threaded inserts M3, fitted", Decimal("1.50"), ("8", "12", "20")),
)

DEMO_MATERIALS = (
    MaterialInput("PLA White", "PLA", Decimal("1.240"), Decimal("25.00"), "White"),
    MaterialInput("PLA Silk Gold", "PLA", Decimal("1.240"), Decimal("32.00"), "Silk gold"),
    MaterialInput("PETG Clear", "PETG", Decimal("1.270"), Decimal("30.00"), "Clear"),
)
# Real Cura definition ids (Cura 4.13's definitions folder), so the demo printers can slice.
DEMO_PRINTERS: tuple[tuple[PrinterInput, PrinterStatus], ...] = (
    (
        PrinterInput("Ender 3", "creality_ender3", Decimal(220), Decimal(220), Decimal(250)),
        PrinterStatus.ACTIVE,
    ),
    (
        PrinterInput("Prusa MK3S+", "prusa_i3_mk3", Decimal(250), Decimal(210), Decimal(210)),
        PrinterStatus.ACTIVE,
    ),
    (
        PrinterInput(
            "Ultimaker 2+",
            "ultimaker2_plus",
            Decimal(223),
            Decimal(223),
            Decimal(205),
            hourly_rate=Decimal("50.00"),
        ),
        PrinterStatus.ACTIVE,
    ),
    (
        PrinterInput(
            "CR-10",
            "creality_cr10",
            Decimal(300),
            Decimal(300),
            Decimal(400),
            hourly_rate=Decimal("55.00"),
        ),
        PrinterStatus.MAINTENANCE,
    ),
)

# How many of each invoice story one unit of ``scale`` tells.
INVOICE_MIX = (
    ("current", 6),
    ("overdue", 4),
    ("partial_current", 1),
    ("partial_overdue", 1),
    ("paid_cash", 4),
    ("paid_bank", 4),
    ("paid_stripe", 5),
    ("void", 2),
    ("written_off", 2),
    ("refunded", 1),
)
QUOTE_MIX = (("DRAFT", 3), ("PENDING", 4), ("ACCEPTED", 2), ("DECLINED", 2), ("CONVERTED", 4))
# What becomes of the invoices converted from quotes, in turn.
CONVERTED_FATES = ("paid_stripe", "current", "partial_current", "paid_bank")
PAID_KINDS = frozenset({"paid_cash", "paid_bank", "paid_stripe"})
WAITING_KINDS = frozenset({"current", "partial_current"})
DELIVERED_UNPAID_KINDS = frozenset({"overdue", "partial_overdue", "written_off"})
AFTER_PRINTING = (
    JobStatus.POST_PROCESSING,
    JobStatus.PACKAGING,
    JobStatus.PRINTING_COMPLETE,
    JobStatus.OUT_FOR_DELIVERY,
)
BEFORE_PRINTING = (JobStatus.IN_QUEUE, JobStatus.QUEUED, JobStatus.PRE_PROCESSING)
VOID_REASONS = ("Client cancelled before printing.", "Duplicate — re-issued with the right client.")
WRITE_OFF_REASONS = (
    "Client unreachable after three reminders.",
    "Business closed; not worth pursuing.",
)


@dataclass(frozen=True)
class DemoLogin:
    email: str
    name: str
    role: Role
    password: str | None  # None: the account existed already and keeps its password


@dataclass(frozen=True)
class DemoSummary:
    shop_name: str
    clients: int
    printers: int
    printers_in_maintenance: int
    materials: int
    quotes_by_status: dict[str, int]
    invoices_by_status: dict[str, int]  # PENDING counts current ones; OVERDUE the rest
    payments: int
    refunds: int
    jobs_by_status: dict[str, int]
    logins: tuple[DemoLogin, ...]

    @property
    def quotes(self) -> int:
        return sum(self.quotes_by_status.values())

    @property
    def invoices(self) -> int:
        return sum(self.invoices_by_status.values())


@dataclass
class _Steps:
    """Counts service calls so the progress callback moves steadily from 0 to 1."""

    total: int
    progress: Progress | None
    done: int = 0

    def step(self, count: int = 1) -> None:
        self.done = min(self.total, self.done + count)
        if self.progress is not None:
            self.progress(self.done / self.total)


@dataclass(frozen=True)
class _Cast:
    """Who acts: the owner for admin work, the counter staff for the daily work."""

    admin: Actor
    staff: Actor


def valid_abn(nine_digits: str) -> str:
    """An ABN ending in ``nine_digits`` whose check digits pass the ATO's modulus-89 test."""
    weights = (10, 1, 3, 5, 7, 9, 11, 13, 15, 17, 19)
    tail = [int(c) for c in nine_digits if c.isdigit()]
    if len(tail) != 9:
        raise ValueError(nine_digits)
    for prefix in range(10, 100):
        digits = [prefix // 10 - 1, prefix % 10, *tail]
        if sum(w * d for w, d in zip(weights, digits, strict=True)) % 89 == 0:
            abn = f"{prefix}{''.join(map(str, tail))}"
            return f"{abn[:2]} {abn[2:5]} {abn[5:8]} {abn[8:]}"
    raise ValueError(nine_digits)  # pragma: no cover - some prefix always fits


def _ascii(text_: str) -> str:
    folded = unicodedata.normalize("NFKD", text_.translate(_ASCII_LETTERS))
    folded = folded.encode("ascii", "ignore").decode()
    return "".join(c for c in folded.lower() if c.isalnum())


def _business() -> dict[str, Any]:
    return BusinessDetails(
        name=SHOP_NAME,
        tax_id=f"ABN {valid_abn('162384905')}",
        email=f"hello@{SHOP_DOMAIN}",
        phone="(02) 5550 1842",
        address="Unit 4, 18 Wilson Street\nNewtown NSW 2042",
        website=f"https://{SHOP_DOMAIN}",
        bank_details=(
            "Harbourside 3D Printing Pty Ltd\nBSB 062-692  Account 4829 1036\n"
            "Please use the invoice number as the reference."
        ),
    ).model_dump(mode="json")


# -- people ---------------------------------------------------------------------------------


def _client_inputs(rng: random.Random, count: int) -> list[ClientInput]:
    pairs = [(f, last) for f in FIRST_NAMES for last in LAST_NAMES]
    chosen = list(UNICODE_NAMES[:count]) + rng.sample(pairs, max(0, count - len(UNICODE_NAMES)))
    companies = list(COMPANIES)
    rng.shuffle(companies)
    result = []
    for index, (first, last) in enumerate(chosen):
        company = companies.pop() if companies and rng.random() < 0.4 else None
        slug = _ascii(company or "")[:24]
        local = f"{_ascii(first)}.{_ascii(last)}"
        if company:
            email: str | None = f"{local}@{slug}.example"
        else:
            email = f"{local}@{rng.choice(('mail', 'inbox', 'post'))}.example"
        if index % 12 == 11:
            email = None  # a walk-in who paid cash and left no email
        if company or rng.random() < 0.3:
            phone = f"(02) {rng.choice(LANDLINE_BLOCKS)} {rng.randint(0, 9999):04d}"
        else:
            phone = rng.choice(MOBILES)
        suburb, postcode, streets = rng.choice(SUBURBS)
        unit = f"Unit {rng.randint(1, 12)}, " if rng.random() < 0.3 else ""
        address = f"{unit}{rng.randint(1, 240)} {rng.choice(streets)}\n{suburb} NSW {postcode}"
        tax_id = f"ABN {valid_abn(f'{rng.randint(0, 999_999_999):09d}')}" if company else None
        result.append(
            ClientInput(
                name=f"{first} {last}",
                email=email,
                phone=phone,
                company=company,
                address=address,
                tax_id=tax_id,
                payment_terms_days=rng.choice((14, 30)) if company else rng.choice((7, 14, 14)),
                notes=rng.choice(CLIENT_NOTES) if rng.random() < 0.2 else None,
            )
        )
    return result


def _ensure_users(session: Session, fallback: Actor) -> tuple[_Cast, list[DemoLogin]]:
    logins: list[DemoLogin] = []
    admin = fallback
    if users.count_users(session) == 0:
        owner = users.add_user(
            session, SYSTEM_ACTOR, OWNER_EMAIL, "Dana Whitfield", Role.ADMIN, OWNER_PASSWORD
        )
        admin = users.actor_for(owner)
        logins.append(DemoLogin(owner.email, owner.name, Role.ADMIN, OWNER_PASSWORD))
    existing = {u.email: u for u in users.list_users(session)}
    staff_user = existing.get(STAFF_EMAIL)
    if staff_user is None:
        staff_user = users.add_user(
            session, SYSTEM_ACTOR, STAFF_EMAIL, "Sam Okafor", Role.STAFF, STAFF_PASSWORD
        )
        logins.append(DemoLogin(staff_user.email, staff_user.name, Role.STAFF, STAFF_PASSWORD))
    else:
        logins.append(DemoLogin(staff_user.email, staff_user.name, staff_user.role, None))
    return _Cast(admin=admin, staff=users.actor_for(staff_user)), logins


# -- workshop -------------------------------------------------------------------------------


def _ensure_materials(session: Session, actor: Actor) -> list[MaterialView]:
    have = {m.name.lower() for m in materials.list_materials(session, include_inactive=True)}
    for data in DEMO_MATERIALS:
        if data.name.lower() not in have:
            materials.create_material(session, actor, data)
    return materials.list_materials(session)


def _ensure_printers(session: Session, actor: Actor) -> list[PrinterView]:
    have = {p.name.lower() for p in printers.list_printers(session, include_inactive=True)}
    for data, status in DEMO_PRINTERS:
        if data.name.lower() in have:
            continue  # the shop's own printer keeps its status
        made = printers.create_printer(session, actor, data)
        if status is not PrinterStatus.ACTIVE:
            printers.set_printer_status(session, actor, made.id, status)
    return printers.list_printers(session, include_inactive=True)


# -- documents ------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Workshop:
    shop: ShopSettings
    materials: Sequence[MaterialView]
    printers: Sequence[PrinterView]


def _print_line(rng: random.Random, workshop: _Workshop) -> ItemInput:
    part = rng.choice(PARTS)
    fitting = [m for m in workshop.materials if m.type == part.material_type]
    material = rng.choice(fitting or list(workshop.materials))
    printer = rng.choice(list(workshop.printers))
    grams = Decimal(rng.randint(part.grams[0] * 10, part.grams[1] * 10)).scaleb(-1)
    support = (grams * Decimal("0.12")).quantize(Decimal("0.1")) if part.supports else Decimal(0)
    metrics = PartMetrics(
        print_seconds=rng.randint(*part.seconds), material_grams=grams, support_grams=support
    )
    quantity = rng.choice(part.quantities)
    price = price_part(
        metrics,
        cost_per_kg=material.cost_per_kg,
        terms=workshop.shop.pricing,
        quantity=quantity,
        hourly_rate=printer.hourly_rate,
    )
    breakdown: dict[str, Any] = {
        **price.as_json(),
        "material": material.name,
        "material_id": material.id,
        "printer": printer.cura_definition_id,
        "printer_name": printer.name,
        "settings": {
            "layer_height": part.layer_mm,
            "infill_sparse_density": part.infill_percent,
            "support_enable": part.supports,
        },
    }
    description = (
        f"{part.name}, {material.name}, {part.layer_mm} mm, {part.infill_percent} % infill"
    )
    if part.supports:
        description += ", supports"
    return ItemInput(
        description=description,
        quantity=Decimal(quantity),
        unit_price=price.unit_price,
        breakdown=breakdown,
    )


def _items(rng: random.Random, workshop: _Workshop) -> list[ItemInput]:
    lines = [_print_line(rng, workshop) for _ in range(rng.choice((1, 1, 2, 2, 3)))]
    if rng.random() < 0.3:
        label, price, quantities = rng.choice(EXTRAS)
        lines.append(
            ItemInput(
                description=label,
                quantity=Decimal(rng.choice(quantities)),
                unit_price=price,
                breakdown={"kind": "service"},
            )
        )
    return lines


def _terms(rng: random.Random, workshop: _Workshop) -> DocumentTerms:
    shipping = [o for o in workshop.shop.shipping_options if o.amount > 0]
    roll = rng.random()
    if roll < 0.12:
        return DocumentTerms(
            discount_type=DiscountType.PERCENT,
            discount_value=Decimal(10),
            notes="Makerspace member: 10 % off.",
        )
    if roll < 0.18:
        return DocumentTerms(
            discount_type=DiscountType.FIXED,
            discount_value=Decimal("20.00"),
            notes="$20 off for the reprint delay.",
        )
    if roll < 0.5 and shipping:
        option = rng.choice(shipping)
        return DocumentTerms(shipping_label=option.label, shipping_amount=option.amount)
    return DocumentTerms(notes="Pick-up from the Newtown counter." if roll < 0.65 else None)


def _at(day: dt.date, rng: random.Random) -> dt.datetime:
    """A time in business hours on ``day``, never later than now."""
    moment = dt.datetime.combine(
        day, dt.time(rng.randint(9, 17), rng.choice((0, 10, 25, 40, 55))), tzinfo=SYDNEY
    )
    return min(moment, dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5))


def _processor_id(prefix: str, number: str, rng: random.Random) -> str:
    # The invoice number keeps ids unique when a database is seeded twice (--force).
    digits = "".join(c for c in number if c.isdigit())
    return f"{prefix}_demo_{digits}{rng.getrandbits(64):016x}"


@dataclass(frozen=True)
class _InvoicePlan:
    kind: str
    client_id: int
    terms_days: int
    age_days: int


def _invoice_age(rng: random.Random, kind: str, terms_days: int) -> int:
    if kind in ("current", "partial_current"):
        return rng.randint(0, max(terms_days - 1, 0))
    if kind in ("overdue", "partial_overdue"):
        return terms_days + rng.randint(3, 45)
    if kind == "written_off":
        return terms_days + rng.randint(60, 150)
    if kind == "refunded":
        return rng.randint(10, 60)
    if kind == "void":
        return rng.randint(5, 90)
    return rng.randint(2, 120)  # paid


def _settle(
    session: Session,
    cast: _Cast,
    rng: random.Random,
    invoice: InvoiceView,
    kind: str,
    issued: dt.date,
) -> None:
    """Make the invoice's story happen: payments, refunds, voiding or writing off."""
    now = today()
    age = (now - issued).days
    if kind in PAID_KINDS or kind == "refunded":
        paid_on = issued + dt.timedelta(days=rng.randint(0, min(age, 14)))
        if kind == "paid_cash":
            payment = NewPayment(invoice.total, PaymentMethod.CASH, reference="Paid at the counter")
        elif kind == "paid_bank":
            surname = invoice.client_name.split()[-1].upper()
            payment = NewPayment(
                invoice.total, PaymentMethod.BANK_TRANSFER, reference=f"{invoice.number} {surname}"
            )
        else:
            payment = NewPayment(
                invoice.total,
                PaymentMethod.STRIPE,
                reference="Stripe Checkout",
                processor="stripe",
                processor_id=_processor_id("pi", invoice.number, rng),
            )
        payment = dataclasses.replace(payment, paid_at=_at(paid_on, rng))
        paid = payments.record_payment(session, cast.staff, invoice.id, payment)
        if kind == "refunded":
            payments.record_refund(
                session,
                cast.admin,
                NewRefund(
                    payment_id=paid.payments[-1].id,
                    amount=paid.total,
                    reason="Print failed our quality check; the client chose a refund.",
                    processor="stripe",
                    processor_id=_processor_id("re", invoice.number, rng),
                ),
            )
            invoices.void_invoice(session, cast.admin, invoice.id, "Refunded in full.")
        return
    if kind in ("partial_current", "partial_overdue") or (
        kind == "written_off" and rng.random() < 0.5
    ):
        method = rng.choice((PaymentMethod.BANK_TRANSFER, PaymentMethod.CASH))
        deposit = round_money(invoice.total / 2)
        payments.record_payment(
            session,
            cast.staff,
            invoice.id,
            NewPayment(
                deposit,
                method,
                reference="Deposit (50 %)",
                paid_at=_at(issued + dt.timedelta(days=rng.randint(0, min(age, 3))), rng),
            ),
        )
    if kind == "void":
        invoices.void_invoice(session, cast.admin, invoice.id, rng.choice(VOID_REASONS))
    elif kind == "written_off":
        invoices.write_off_invoice(session, cast.admin, invoice.id, rng.choice(WRITE_OFF_REASONS))


@dataclass(frozen=True)
class _QuotePlan:
    status: str
    client_id: int
    age_days: int
    fate: str | None  # what becomes of the invoice a CONVERTED quote turns into


def _quote_age(rng: random.Random, status: str, nth: int) -> int:
    if status == "DRAFT":
        return rng.randint(0, 3)
    if status == "PENDING":
        return 45 if nth == 3 else rng.randint(1, 20)  # the fourth has expired unanswered
    if status == "ACCEPTED":
        return rng.randint(2, 10)
    if status == "DECLINED":
        return rng.randint(10, 60)
    return rng.randint(3, 25)


def _backdate_quote(
    session: Session, rng: random.Random, quote_id: int, issued: dt.date, shop: ShopSettings
) -> None:
    """Give the quote the date it was really written.

    Quote services stamp today's date, but a shop's quotes spread over weeks; this is the one
    place the seed writes a table directly, and it changes dates only (no money, no status).
    """
    sent = _at(issued + dt.timedelta(days=min(1, (today() - issued).days)), rng)
    decided = min(sent + dt.timedelta(days=rng.randint(1, 5)), _at(today(), rng))
    with session.begin():
        session.execute(
            update(Quote)
            .where(Quote.id == quote_id)
            .values(
                issue_date=issued,
                expiry_date=issued + dt.timedelta(days=shop.quote_validity_days),
                # Only what happened gets a date: a draft was never sent, a pending quote
                # never decided.
                sent_at=case((Quote.sent_at.is_not(None), sent), else_=None),
                decided_at=case((Quote.decided_at.is_not(None), decided), else_=None),
            )
            .execution_options(synchronize_session=False)
        )


# -- jobs -----------------------------------------------------------------------------------


def _place_jobs(
    session: Session,
    cast: _Cast,
    rng: random.Random,
    kinds: dict[int, tuple[str, int]],
    workshop: _Workshop,
    steps: _Steps,
) -> None:
    """Spread the new invoices' jobs over the board the way a busy week leaves it.

    Delivered work is COMPLETED, recently paid work is past printing (post-processing,
    packaging, …), each active printer with a free slot prints one waiting job, and the rest
    wait in a printer's queue, unassigned or in pre-processing. Jobs reach a status the way
    staff move them (PRINTING first on an active printer), so the printing rules hold.
    """
    everything = jobs.list_jobs(session)  # open jobs, including any from an earlier seed
    printing = Counter(j.printer_id for j in everything if j.status is JobStatus.PRINTING)
    queue_length = Counter(j.printer_id for j in everything)
    active = [p for p in workshop.printers if p.status is PrinterStatus.ACTIVE]
    limit = workshop.shop.max_active_printing_per_printer
    ours = [
        j
        for j in jobs.list_jobs(session, include_final=True)
        if j.invoice_id in kinds and j.status not in jobs.FINAL
    ]
    ours.sort(key=lambda j: j.invoice_id)
    done = [j for j in ours if _job_stage(kinds[j.invoice_id]) == "done"]
    after = [j for j in ours if _job_stage(kinds[j.invoice_id]) == "after"]
    waiting = [j for j in ours if _job_stage(kinds[j.invoice_id]) == "waiting"]
    if len(waiting) < len(active):
        # A shop that makes jobs on payment has no unpaid work waiting: print paid work instead.
        borrowed = len(active) - len(waiting)
        waiting, after = after[:borrowed] + waiting, after[borrowed:]

    def place(job: JobView, printer: PrinterView) -> None:
        queue_length[printer.id] += 1
        jobs.move_job(session, cast.staff, job.id, printer.id, queue_length[printer.id])

    def print_then(job: JobView, target: JobStatus) -> None:
        ready = [p for p in active if printing[p.id] < limit]
        if ready:
            printer = rng.choice(ready)
            place(job, printer)
            jobs.set_status(session, cast.staff, job.id, JobStatus.PRINTING)
            if target is JobStatus.COMPLETED:
                queue_length[printer.id] -= 1
        jobs.set_status(session, cast.staff, job.id, target)
        steps.step()

    for job in done:
        print_then(job, JobStatus.COMPLETED)
    for index, job in enumerate(after):
        print_then(job, AFTER_PRINTING[index % len(AFTER_PRINTING)])
    free = [p for p in active if printing[p.id] == 0]
    now_printing, rest = waiting[: len(free)], waiting[len(free) :]
    for job, printer in zip(now_printing, free, strict=False):
        place(job, printer)
        jobs.set_status(session, cast.staff, job.id, JobStatus.PRINTING)
        printing[printer.id] += 1
        steps.step()
    for index, job in enumerate(rest):
        target = BEFORE_PRINTING[index % len(BEFORE_PRINTING)]
        if target is JobStatus.IN_QUEUE:
            place(job, rng.choice(list(workshop.printers)))  # the CR-10 has a queue waiting
        if target is not JobStatus.QUEUED:
            jobs.set_status(session, cast.staff, job.id, target)
        steps.step()
    urgent = next((j for j in rest if kinds[j.invoice_id][0] in WAITING_KINDS), None)
    if urgent is not None:
        jobs.set_priority(session, cast.staff, urgent.id, JobPriority.URGENT)
    for job in [*after, *now_printing, *rest]:
        if job is not urgent and rng.random() < 0.25:
            jobs.set_priority(session, cast.staff, job.id, JobPriority.FAST_TRACK)


def _job_stage(kind_and_age: tuple[str, int]) -> str:
    kind, age = kind_and_age
    if kind in DELIVERED_UNPAID_KINDS or (kind in PAID_KINDS and age > 10):
        return "done"
    if kind in PAID_KINDS:
        return "after"
    return "waiting"


# -- the seed -------------------------------------------------------------------------------


def seed_demo_shop(
    db: Database,
    *,
    rng_seed: int = 7,
    scale: int = 1,
    progress: Progress | None = None,
    force: bool = False,
    actor: Actor | None = None,
) -> DemoSummary:
    """Fill the database with a believable Sydney print shop, through the services.

    Refuses (``Conflict``) a database that already has invoices unless ``force``: demo records
    must not mix with a real shop's. Business details are set only while they are still the
    defaults; printers, materials and the staff account are reused when they exist. When the
    database has no users, an admin ``owner@…`` is made and acts for the admin work; otherwise
    ``actor`` (the system by default) does. Counter work is done by the demo staff account.
    """
    if scale < 1:
        raise ValueError("scale must be 1 or more")
    rng = random.Random(rng_seed)
    with db.session() as session:
        existing = invoices.count_invoices(session)
        if existing and not force:
            raise Conflict(
                f"This database already has {existing:,} "
                f"{'invoice' if existing == 1 else 'invoices'}; the demo shop is only "
                "seeded into a database without invoices."
            )
        client_count = 25 * scale
        invoice_count = scale * (sum(n for _, n in INVOICE_MIX) + len(CONVERTED_FATES))
        quote_count = scale * sum(n for _, n in QUOTE_MIX)
        steps = _Steps(10 + client_count + 2 * invoice_count + quote_count, progress)
        steps.step(0)

        cast, logins = _ensure_users(session, actor or SYSTEM_ACTOR)
        shop, _ = settings_service.get_settings(session)
        if shop.business == BusinessDetails():
            settings_service.update_settings(session, cast.admin, {"business": _business()})
        shop, _ = settings_service.get_settings(session)
        workshop = _Workshop(
            shop, _ensure_materials(session, cast.admin), _ensure_printers(session, cast.admin)
        )
        steps.step(10)

        client_terms: list[tuple[int, int]] = []
        for data in _client_inputs(rng, client_count):
            made = client_service.create_client(session, cast.staff, data)
            client_terms.append((made.id, made.payment_terms_days))
            steps.step()

        # Invoices in the order they were written, so numbers rise with their dates.
        plans = []
        for kind, per_scale in INVOICE_MIX:
            for _ in range(per_scale * scale):
                client_id, terms_days = rng.choice(client_terms)
                plans.append(
                    _InvoicePlan(kind, client_id, terms_days, _invoice_age(rng, kind, terms_days))
                )
        plans.sort(key=lambda p: -p.age_days)
        kinds: dict[int, tuple[str, int]] = {}
        for plan in plans:
            issued = today() - dt.timedelta(days=plan.age_days)
            made_invoice = invoices.create_invoice(
                session,
                cast.staff,
                plan.client_id,
                _items(rng, workshop),
                _terms(rng, workshop),
                issue_date=issued,
                due_date=issued + dt.timedelta(days=plan.terms_days),
            )
            _settle(session, cast, rng, made_invoice, plan.kind, issued)
            kinds[made_invoice.id] = (plan.kind, plan.age_days)
            steps.step()

        quote_plans = []
        fates = iter(CONVERTED_FATES * scale)
        for status, per_scale in QUOTE_MIX:
            for nth in range(per_scale * scale):
                client_id, _terms_days = rng.choice(client_terms)
                fate = next(fates) if status == "CONVERTED" else None
                quote_plans.append(
                    _QuotePlan(status, client_id, _quote_age(rng, status, nth), fate)
                )
        quote_plans.sort(key=lambda p: -p.age_days)
        quote_ids = []
        for qplan in quote_plans:
            quote = quotes.create_quote(
                session, cast.staff, qplan.client_id, _items(rng, workshop), _terms(rng, workshop)
            )
            quote_ids.append(quote.id)
            if qplan.status != "DRAFT":
                quotes.send_quote(session, cast.staff, quote.id)
            if qplan.status in ("ACCEPTED", "CONVERTED"):
                quotes.accept_quote(session, cast.staff, quote.id)
            elif qplan.status == "DECLINED":
                quotes.decline_quote(session, cast.staff, quote.id)
            _backdate_quote(
                session, rng, quote.id, today() - dt.timedelta(days=qplan.age_days), shop
            )
            if qplan.status == "CONVERTED" and qplan.fate is not None:
                converted = quotes.convert_to_invoice(session, cast.staff, quote.id)
                _settle(session, cast, rng, converted, qplan.fate, converted.issue_date)
                kinds[converted.id] = (qplan.fate, 0)
            steps.step()

        _place_jobs(session, cast, rng, kinds, workshop, steps)
        summary = _summary(session, workshop, len(client_terms), quote_ids, list(kinds), logins)
    if progress is not None:
        progress(1.0)
    return summary


def _summary(
    session: Session,
    workshop: _Workshop,
    client_count: int,
    quote_ids: list[int],
    invoice_ids: list[int],
    logins: list[DemoLogin],
) -> DemoSummary:
    with session.begin():
        quote_counts = Counter(
            session.scalars(select(Quote.status).where(Quote.id.in_(quote_ids))).all()
        )
        invoice_rows = session.execute(
            select(Invoice.status, Invoice.due_date).where(Invoice.id.in_(invoice_ids))
        ).all()
        invoice_counts = Counter(
            "OVERDUE" if is_overdue(status, due) else status for status, due in invoice_rows
        )
        payment_count = session.scalar(
            select(func.count()).select_from(Payment).where(Payment.invoice_id.in_(invoice_ids))
        )
        refund_count = session.scalar(
            select(func.count()).select_from(Refund).where(Refund.invoice_id.in_(invoice_ids))
        )
        job_counts = Counter(
            session.scalars(select(Job.status).where(Job.invoice_id.in_(invoice_ids))).all()
        )
    return DemoSummary(
        shop_name=workshop.shop.business.name,
        clients=client_count,
        printers=len(workshop.printers),
        printers_in_maintenance=sum(
            p.status is PrinterStatus.MAINTENANCE for p in workshop.printers
        ),
        materials=len(workshop.materials),
        quotes_by_status=dict(sorted(quote_counts.items())),
        invoices_by_status=dict(sorted(invoice_counts.items())),
        payments=int(payment_count or 0),
        refunds=int(refund_count or 0),
        jobs_by_status=dict(sorted(job_counts.items())),
        logins=tuple(logins),
    )


# -- bulk invoices for benchmarks -----------------------------------------------------------

BULK_BATCH = 25_000
BULK_DESCRIPTIONS = tuple(
    f"{p.name}, {p.material_type}, {p.layer_mm} mm, {p.infill_percent} % infill" for p in PARTS
)
_BULK_SQL = text(
    """
    WITH src AS MATERIALIZED (
        SELECT s.*,
               :prefix || lpad(s.seq::text, greatest(:digits, length(s.seq::text)), '0') AS number
        FROM (
            SELECT u.*, nextval('invoice_number_seq') AS seq
            FROM unnest(
                CAST(:client_id AS bigint[]), CAST(:status AS text[]), CAST(:issue AS date[]),
                CAST(:quantity AS int[]), CAST(:unit AS numeric[]), CAST(:subtotal AS numeric[]),
                CAST(:tax AS numeric[]), CAST(:total AS numeric[]), CAST(:paid AS numeric[]),
                CAST(:paid_day AS int[]), CAST(:method AS text[]), CAST(:item AS int[])
            ) WITH ORDINALITY AS u(client_id, status, issue, quantity, unit, subtotal, tax, total,
                                   paid, paid_day, method, item, ord)
        ) AS s
    ),
    new AS (
        INSERT INTO invoices (number, client_id, currency, issue_date, due_date, status,
                              tax_rate, tax_inclusive, subtotal, tax_total, total,
                              amount_paid, balance_due, paid_at, voided_at, written_off_at)
        SELECT number, client_id, :currency, issue, issue + :terms, status,
               :tax_rate, :tax_inclusive, subtotal, tax, total,
               paid, CASE WHEN status = 'VOID' THEN 0 ELSE total - paid END,
               CASE WHEN status = 'PAID'
                    THEN (issue + paid_day)::timestamp + interval '10 hours 30 minutes' END,
               CASE WHEN status = 'VOID' THEN (issue + 2)::timestamp END,
               CASE WHEN status = 'WRITTEN_OFF' THEN (issue + 120)::timestamp END
        FROM src ORDER BY ord
        RETURNING id, number
    ),
    items AS (
        INSERT INTO invoice_items (invoice_id, position, description, quantity, unit_price,
                                   line_total, breakdown)
        SELECT new.id, 1, (CAST(:descriptions AS text[]))[src.item], src.quantity, src.unit,
               src.subtotal, '{"bulk": true}'::jsonb
        FROM new JOIN src USING (number)
    ),
    paid AS (
        INSERT INTO payments (invoice_id, method, amount, currency, processor, processor_id,
                              reference, paid_at)
        SELECT new.id, src.method, src.paid, :currency,
               CASE WHEN src.method = 'STRIPE' THEN 'stripe' END,
               CASE WHEN src.method = 'STRIPE' THEN 'pi_bulk_' || new.id END,
               CASE WHEN src.method = 'BANK_TRANSFER' THEN new.number END,
               (src.issue + src.paid_day)::timestamp + interval '10 hours 30 minutes'
        FROM new JOIN src USING (number)
        WHERE src.paid > 0
    )
    SELECT count(*) FROM new
    """
)


def _bulk_clients(session: Session, rng: random.Random, count: int) -> list[int]:
    pairs = [(f, last) for f in FIRST_NAMES for last in LAST_NAMES]
    rows = []
    for index in range(count):
        first, last = pairs[rng.randrange(len(pairs))]
        company = rng.choice(COMPANIES) if rng.random() < 0.3 else None
        rows.append(
            {
                "name": f"{first} {last}",
                "company": company,
                "email": f"{_ascii(first)}.{_ascii(last)}{index}@mail.example",
                "phone": rng.choice(MOBILES),
                "payment_terms_days": 14,
            }
        )
    ids = session.scalars(insert(Client).returning(Client.id), rows).all()
    return list(ids)


def _bulk_rows(
    rng: random.Random, count: int, client_ids: Sequence[int], shop: ShopSettings
) -> dict[str, list[Any]]:
    """One row per invoice, oldest first so that numbers rise with the issue dates."""
    now = today()
    drafted = []
    for _ in range(count):
        roll = rng.random()
        if roll < 0.60:
            status, age = "PAID", rng.randint(0, 1095)
        elif roll < 0.78:
            status, age = "PENDING", rng.randint(0, 13)  # current
        elif roll < 0.92:
            status, age = "PENDING", rng.randint(15, 400)  # overdue
        elif roll < 0.97:
            status, age = "VOID", rng.randint(0, 1095)
        else:
            status, age = "WRITTEN_OFF", rng.randint(150, 1095)
        drafted.append((age, status, roll))
    drafted.sort(key=lambda row: -row[0])
    rows: dict[str, list[Any]] = {
        key: []
        for key in (
            "client_id",
            "status",
            "issue",
            "quantity",
            "unit",
            "subtotal",
            "tax",
            "total",
            "paid",
            "paid_day",
            "method",
            "item",
        )
    }
    methods = ("STRIPE", "STRIPE", "BANK_TRANSFER", "CASH")
    for age, status, roll in drafted:
        quantity = rng.choice((1, 1, 1, 2, 3, 4))
        unit = Decimal(rng.randint(3500, 48000)).scaleb(-2)
        totals = document_totals(
            [unit * quantity], tax_rate=shop.tax.rate, tax_inclusive=shop.tax.inclusive
        )
        if status == "PAID":
            paid = totals.total
        elif status == "VOID":
            paid = Decimal("0.00")
        elif roll < 0.80 or status == "WRITTEN_OFF":
            paid = round_money(totals.total / 2)  # a deposit
        else:
            paid = Decimal("0.00")
        rows["client_id"].append(client_ids[rng.randrange(len(client_ids))])
        rows["status"].append(status)
        rows["issue"].append(now - dt.timedelta(days=age))
        rows["quantity"].append(quantity)
        rows["unit"].append(unit)
        rows["subtotal"].append(totals.subtotal)
        rows["tax"].append(totals.tax_total)
        rows["total"].append(totals.total)
        rows["paid"].append(paid)
        rows["paid_day"].append(rng.randint(0, min(age, 20)))
        rows["method"].append(rng.choice(methods))
        rows["item"].append(rng.randrange(len(BULK_DESCRIPTIONS)) + 1)
    return rows


def seed_invoices_bulk(
    db: Database, count: int, *, client_count: int = 200, rng_seed: int = 1
) -> None:
    """Insert ``count`` invoices (and ``client_count`` new clients) fast, for benchmarks.

    This bypasses the services on purpose: no permission checks, no activity log, no jobs and
    no NOTIFY — bulk data only, never a shop's records. What it writes is still consistent:
    each invoice has one item whose line total is its subtotal, totals follow the shop's tax,
    PAID invoices carry one payment of the total and some PENDING or WRITTEN_OFF ones a 50 %
    deposit, so ``balance_due = total − payments`` (0 for VOID). Numbers come from
    ``invoice_number_seq``, so invoices made afterwards continue the numbering. Statuses mix
    PAID, PENDING (current and overdue), VOID and WRITTEN_OFF; dates spread over three years.
    """
    if count < 0 or client_count < 1:
        raise ValueError("count must be 0 or more and client_count 1 or more")
    rng = random.Random(rng_seed)
    with db.session() as session:
        shop = settings_service.get_settings(session)[0]
        with session.begin():
            client_ids = _bulk_clients(session, rng, client_count)
        rows = _bulk_rows(rng, count, client_ids, shop)
        common = {
            "prefix": shop.numbering.invoice_prefix,
            "digits": shop.numbering.digits,
            "currency": shop.currency,
            "terms": shop.payment_terms_days,
            "tax_rate": shop.tax.rate,
            "tax_inclusive": shop.tax.inclusive,
            "descriptions": list(BULK_DESCRIPTIONS),
        }
        for start in range(0, count, BULK_BATCH):
            batch = {key: values[start : start + BULK_BATCH] for key, values in rows.items()}
            with session.begin():
                session.execute(_BULK_SQL, {**common, **batch})
        with session.begin():
            # Fresh statistics, so the planner treats 100,000 rows as 100,000 rows.
            session.execute(text("ANALYZE clients, invoices, invoice_items, payments"))
