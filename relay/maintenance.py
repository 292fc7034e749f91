"""The relay's scheduled maintenance: one instance at a time, under a PostgreSQL advisory lock."""

from __future__ import annotations

import logging
from collections.abc import Callable

from core.config import AppConfig
from core.db.engine import Database
from core.payments.reconcile import reconcile
from core.payments.stripe_client import StripeGateway
from core.services import maintenance
from core.storage import open_storage
from relay.logs import LOGGER_NAME, log_event

# What the scheduler calls: it gets the relay's settings and database, runs to the end in a
# worker thread, and reports by logging; an exception is logged and the next round goes on.
Maintenance = Callable[[AppConfig, Database], object]

log = logging.getLogger(LOGGER_NAME)


def run_maintenance(config: AppConfig, database: Database) -> None:
    """Storage upkeep, then (with a Stripe key) reconciliation of open payment links."""
    run_storage_upkeep(config, database)
    if config.stripe_secret_key:
        run_reconcile(config, database)


def run_reconcile(config: AppConfig, database: Database) -> None:
    """Ask Stripe about every open payment link, so a missed webhook costs nothing."""
    gateway = StripeGateway.from_config(config)
    try:
        report = reconcile(database, gateway)
    finally:
        gateway.close()
    summary = report.summary()
    log_event(
        log,
        logging.WARNING if summary.get("errors") else logging.INFO,
        "maintenance.reconcile",
        **summary,
    )


def run_storage_upkeep(config: AppConfig, database: Database) -> None:
    """Storage upkeep: expired tmp uploads, then the deletion outbox's retries.

    The order-file retention is left to the desktop and ``printdesk maintenance run``: the
    relay's database role may delete tmp uploads but not order files.
    """
    storage = open_storage(config)
    try:
        report = maintenance.run_maintenance(database, storage, order_file_retention=False)
    finally:
        storage.close()
    outbox = report["outbox"]
    log_event(
        log,
        logging.WARNING if outbox["failed"] else logging.INFO,
        "maintenance.storage",
        expired_tmp_files=report["expired_tmp_files"],
        deleted=outbox["deleted"],
        failed=outbox["failed"],
        pending_deletions=report["pending_deletions"],
        **({"errors": outbox["errors"][:5]} if outbox["errors"] else {}),
    )
