"""`printdesk relay …`: the Stripe webhook relay, served by uvicorn."""

from __future__ import annotations

import typer

from cli.support import database, fail
from core.config import AppConfig

app = typer.Typer(
    help="The Stripe webhook relay (the cloud side): webhooks in, payments recorded.",
    no_args_is_help=True,
)


@app.callback()
def _relay() -> None:
    """The Stripe webhook relay."""


@app.command("serve")
def serve_command(
    host: str = typer.Option("0.0.0.0", "--host", help="Address to listen on."),
    port: int = typer.Option(8080, "--port", min=1, max=65535, help="Port to listen on."),
) -> None:
    """Serve POST /stripe/webhook and GET /healthz until stopped (Ctrl+C, SIGTERM)."""
    config = AppConfig()
    if not (config.stripe_webhook_secret or "").strip():
        fail(
            "STRIPE_WEBHOOK_SECRET is not set; the relay will not start without the "
            "endpoint's signing secret (whsec_…)."
        )
    import uvicorn

    from relay.app import create_app
    from relay.logs import configure_json_logging

    configure_json_logging(config.log_level)
    with database() as db:
        relay = create_app(config, db)
        uvicorn.run(
            relay,
            host=host,
            port=port,
            log_config=None,
            access_log=False,
            server_header=False,
            proxy_headers=True,
        )
