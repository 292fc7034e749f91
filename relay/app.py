"""The relay's ASGI app: verified Stripe webhooks into the shop's books, and a health check."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
import time
from collections.abc import AsyncIterator, Mapping
from typing import Any

import anyio
import anyio.to_thread
import psycopg
import stripe
from sqlalchemy import exc as sa_exc
from sqlalchemy import text
from starlette.applications import Starlette
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from core.config import AppConfig
from core.db.engine import Database
from core.errors import InvalidInput
from core.payments.webhooks import EventOutcome, apply_event
from relay.logs import LOGGER_NAME, log_event
from relay.maintenance import Maintenance, run_maintenance
from relay.scheduler import maintenance_loop

# Stripe's own default: a signature older than this is refused, which stops replays.
SIGNATURE_TOLERANCE_S = 300
HEALTH_TIMEOUT_S = 5.0

log = logging.getLogger(LOGGER_NAME)


class RelayConfigError(RuntimeError):
    """The relay cannot run as configured; the message says what to set."""


def is_transient(exc: BaseException) -> bool:
    """A database failure that a later delivery may not meet: unreachable, restarting, locked."""
    if isinstance(
        exc,
        sa_exc.OperationalError
        | sa_exc.InterfaceError
        | sa_exc.TimeoutError
        | psycopg.OperationalError,
    ):
        return True
    return isinstance(exc, sa_exc.DBAPIError) and exc.connection_invalidated


def _apply(database: Database, event: Mapping[str, Any]) -> EventOutcome:
    with database.session() as session:
        return apply_event(session, event)


def _ping(database: Database) -> None:
    with database.engine.connect() as conn:
        conn.execute(text("SELECT 1"))


async def _read_body(request: Request, limit: int) -> bytes | None:
    """The raw body, or None as soon as it is known to be over ``limit`` bytes."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        return None
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            return None
    return bytes(body)


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 2)


def create_app(
    config: AppConfig, database: Database, *, maintenance: Maintenance = run_maintenance
) -> Starlette:
    """The relay app: ``POST /stripe/webhook``, ``GET /healthz`` and the maintenance schedule.

    Refuses to build without ``STRIPE_WEBHOOK_SECRET``: a relay that cannot verify signatures
    would write whatever anyone posts into the shop's books.
    """
    secret = (config.stripe_webhook_secret or "").strip()
    if not secret:
        raise RelayConfigError(
            "STRIPE_WEBHOOK_SECRET is not set: the relay will not accept webhooks it cannot "
            "verify. Set it to the signing secret (whsec_…) of the Stripe webhook endpoint."
        )
    limit = config.relay_max_body_bytes

    def refuse(status: int, reason: str, started: float, **fields: Any) -> Response:
        log_event(
            log,
            logging.WARNING,
            "webhook.refused",
            status=status,
            reason=reason,
            ms=_ms(started),
            **fields,
        )
        return JSONResponse({"error": reason}, status_code=status)

    async def webhook(request: Request) -> Response:
        started = time.perf_counter()
        try:
            body = await _read_body(request, limit)
        except ClientDisconnect:
            return Response(status_code=400)
        if body is None:
            return refuse(413, "body_too_large", started, limit=limit)
        try:
            stripe.WebhookSignature.verify_header(
                body, request.headers.get("stripe-signature"), secret, SIGNATURE_TOLERANCE_S
            )
        except (stripe.SignatureVerificationError, ValueError) as exc:
            return refuse(400, "bad_signature", started, detail=str(exc)[:200])
        try:
            event = json.loads(body)
        except ValueError:
            return refuse(400, "not_json", started)
        if not isinstance(event, dict):
            return refuse(400, "not_an_event", started)
        try:
            outcome = await anyio.to_thread.run_sync(_apply, database, event)
        except InvalidInput as exc:
            return refuse(400, "not_an_event", started, detail=str(exc))
        except Exception as exc:
            fields = {"event_id": event.get("id"), "type": event.get("type"), "ms": _ms(started)}
            if is_transient(exc):
                log_event(
                    log,
                    logging.WARNING,
                    "webhook.database_unavailable",
                    error=str(exc).strip().splitlines()[0] if str(exc).strip() else repr(exc),
                    **fields,
                )
                return JSONResponse({"error": "database_unavailable"}, status_code=503)
            log_event(log, logging.ERROR, "webhook.failed", exc_info=True, **fields)
            return JSONResponse({"error": "internal_error"}, status_code=500)
        log_event(
            log,
            logging.INFO,
            "webhook.applied",
            event_id=event.get("id"),
            type=event.get("type"),
            outcome=outcome.outcome.value,
            invoice_id=outcome.invoice_id,
            message=outcome.message,
            ms=_ms(started),
        )
        return JSONResponse({"received": True, "outcome": outcome.outcome.value})

    async def healthz(request: Request) -> Response:
        started = time.perf_counter()
        try:
            with anyio.fail_after(HEALTH_TIMEOUT_S):
                await anyio.to_thread.run_sync(_ping, database, abandon_on_cancel=True)
        except Exception as exc:
            log_event(
                log,
                logging.WARNING,
                "healthz.failed",
                error=f"{type(exc).__name__}: {str(exc).strip()[:200]}",
                ms=_ms(started),
            )
            return JSONResponse({"ok": False, "error": "database_unavailable"}, status_code=503)
        return JSONResponse({"ok": True})

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        scheduler: asyncio.Task[None] | None = None
        interval = config.relay_maintenance_interval_s
        if interval > 0:
            job = functools.partial(maintenance, config, database)
            scheduler = asyncio.create_task(maintenance_loop(database, job, interval_s=interval))
        log_event(
            log,
            logging.INFO,
            "relay.started",
            database=database.describe(),
            max_body_bytes=limit,
            maintenance_interval_s=interval,
        )
        try:
            yield
        finally:
            if scheduler is not None:
                scheduler.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await scheduler
            log_event(log, logging.INFO, "relay.stopped")

    return Starlette(
        routes=[
            Route("/stripe/webhook", webhook, methods=["POST"]),
            Route("/healthz", healthz, methods=["GET"]),
        ],
        lifespan=lifespan,
    )
