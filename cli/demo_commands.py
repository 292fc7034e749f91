"""`printdesk demo …`: fill a database with a believable print shop to look at and try out."""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer

from cli.support import ACTOR, database, emit, fail
from core.enums import JobStatus, QuoteStatus
from core.errors import Conflict, ServiceError
from core.services.demo import DemoSummary, seed_demo_shop

app = typer.Typer(help="Demo data: a believable print shop.", no_args_is_help=True)

JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object.")]
INVOICE_ORDER = ("PENDING", "OVERDUE", "PAID", "VOID", "WRITTEN_OFF")


@app.callback()
def _demo() -> None:
    """Demo data: a believable Sydney print shop to look at and try out."""


def _counts(by_status: dict[str, int], order: tuple[str, ...]) -> str:
    known = [key for key in order if by_status.get(key)]
    others = sorted(key for key in by_status if key not in order)
    return ", ".join(
        f"{by_status[key]} {key.lower().replace('_', ' ')}" for key in [*known, *others]
    )


def summary_json(summary: DemoSummary) -> dict[str, Any]:
    return {
        "shop": summary.shop_name,
        "clients": summary.clients,
        "printers": summary.printers,
        "printers_in_maintenance": summary.printers_in_maintenance,
        "materials": summary.materials,
        "quotes": {"total": summary.quotes, "by_status": summary.quotes_by_status},
        "invoices": {"total": summary.invoices, "by_status": summary.invoices_by_status},
        "payments": summary.payments,
        "refunds": summary.refunds,
        "jobs": {
            "total": sum(summary.jobs_by_status.values()),
            "by_status": summary.jobs_by_status,
        },
        "logins": [
            {
                "email": login.email,
                "name": login.name,
                "role": login.role.value,
                "password": login.password,
            }
            for login in summary.logins
        ],
    }


def summary_text(summary: DemoSummary) -> str:
    jobs = sum(summary.jobs_by_status.values())
    lines = [
        f"Seeded the demo shop “{summary.shop_name}”:",
        f"  clients   {summary.clients}",
        f"  printers  {summary.printers} ({summary.printers_in_maintenance} in maintenance), "
        f"materials {summary.materials}",
        f"  quotes    {summary.quotes}: "
        f"{_counts(summary.quotes_by_status, tuple(s.value for s in QuoteStatus))}",
        f"  invoices  {summary.invoices}: {_counts(summary.invoices_by_status, INVOICE_ORDER)}",
        f"  payments  {summary.payments}, refunds {summary.refunds}",
        f"  jobs      {jobs}: {_counts(summary.jobs_by_status, tuple(s.value for s in JobStatus))}",
        "Sign in with:",
    ]
    width = max((len(login.email) for login in summary.logins), default=0)
    for login in summary.logins:
        secret = (
            f"password {login.password}"
            if login.password is not None
            else "existing account, password unchanged"
        )
        lines.append(f"  {login.email:<{width}}  {secret}  ({login.role.value.lower()})")
    return "\n".join(lines)


@app.command("seed")
def seed(
    scale: Annotated[
        int, typer.Option(min=1, max=40, help="Size of the shop: 25 clients per step.")
    ] = 1,
    force: Annotated[
        bool, typer.Option("--force", help="Seed even though the database has invoices.")
    ] = False,
    rng_seed: Annotated[int, typer.Option("--rng-seed", help="The same seed, the same shop.")] = 7,
    as_json: JsonOpt = False,
) -> None:
    """Fill the database with a believable shop: clients, quotes, invoices, payments, jobs."""
    with database() as db:
        show_bar = not as_json and sys.stderr.isatty()
        with typer.progressbar(
            length=1000, label="Seeding the demo shop", file=sys.stderr, hidden=not show_bar
        ) as bar:
            reached = 0

            def progress(fraction: float) -> None:
                nonlocal reached
                now = int(fraction * 1000)
                if now > reached:
                    bar.update(now - reached)
                    reached = now

            try:
                summary = seed_demo_shop(
                    db, rng_seed=rng_seed, scale=scale, force=force, actor=ACTOR, progress=progress
                )
            except Conflict as exc:
                fail(f"{exc} Add --force to seed it anyway.")
            except ServiceError as exc:
                fail(str(exc))
    emit(summary_json(summary), as_json=as_json, text=summary_text(summary))
