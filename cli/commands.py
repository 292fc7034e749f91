"""Every command group of the CLI, registered in one place."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    from cli import (
        analyze_commands,
        client_commands,
        db_commands,
        demo_commands,
        document_commands,
        file_commands,
        invoice_commands,
        maintenance_commands,
        payments_commands,
        quote_commands,
        relay_commands,
        screenshot_commands,
        slice_commands,
        storage_commands,
        user_commands,
    )

    app.add_typer(db_commands.app, name="db")
    app.add_typer(user_commands.app, name="user")
    app.add_typer(client_commands.app, name="client")
    app.add_typer(demo_commands.app, name="demo")
    app.add_typer(quote_commands.app, name="quote")
    app.add_typer(invoice_commands.app, name="invoice")
    app.add_typer(file_commands.app, name="file")
    from cli import attachment_commands

    app.add_typer(attachment_commands.app, name="attachment")
    app.add_typer(storage_commands.app, name="storage")
    app.add_typer(maintenance_commands.app, name="maintenance")
    app.add_typer(payments_commands.app, name="payments")
    app.add_typer(relay_commands.app, name="relay")
    app.add_typer(document_commands.app)  # the `pdf …` and `email …` groups
    app.command("slice")(slice_commands.slice_command)
    from cli import order_commands

    app.command("order")(order_commands.order_command)
    app.command("analyze")(analyze_commands.analyze_command)
    app.command("screenshot")(screenshot_commands.screenshot_command)

    from cli import backup_commands, secrets_commands

    app.add_typer(secrets_commands.app, name="secrets")
    app.command("backup")(backup_commands.backup_command)
    app.command("restore")(backup_commands.restore_command)
