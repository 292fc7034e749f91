"""`printdesk db …`: schema upgrades and the embedded server."""

from __future__ import annotations

import typer

from cli.support import database, fail
from core.config import AppConfig
from core.db.embedded import stop_embedded
from core.db.migrate import current_revision, upgrade

app = typer.Typer(
    help="The database: schema upgrades and the embedded server.", no_args_is_help=True
)


@app.command("upgrade")
def upgrade_command() -> None:
    """Bring the database schema to the newest version."""
    with database(migrate=False) as db:
        upgrade(db.engine)
        typer.echo(f"Database {db.describe()} is at revision {current_revision(db.engine)}.")


@app.command("stop")
def stop_command() -> None:
    """Stop the embedded PostgreSQL server of this data dir."""
    config = AppConfig()
    if config.database_url:
        fail("DATABASE_URL is set: PrintDesk does not run that server, so it cannot stop it.")
    if stop_embedded(config.pgdata_dir):
        typer.echo(f"Stopped the embedded database in {config.pgdata_dir}.")
    else:
        typer.echo(f"No embedded database is running in {config.pgdata_dir}.")
