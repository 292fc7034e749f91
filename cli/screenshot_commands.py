"""`printdesk screenshot VIEW --out FILE.png`: one screen rendered offscreen at 1440×900."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from cli.support import database, fail

VIEWS = ("dashboard", "quick-order", "clients", "quotes", "invoices", "jobs", "files", "settings")


def screenshot_command(
    view: Annotated[str, typer.Argument(help=f"One of: {', '.join(VIEWS)}.")],
    out: Annotated[Path, typer.Option("--out", help="PNG file to write.")],
    width: Annotated[int, typer.Option(help="Window width in pixels.")] = 1440,
    height: Annotated[int, typer.Option(help="Window height in pixels.")] = 900,
) -> None:
    """Render one screen with the data in the database, without showing a window."""
    if view not in VIEWS:
        fail(f"Unknown view {view!r}: use one of {', '.join(VIEWS)}.")
    if out.suffix.lower() != ".png":
        fail("The screenshot is written as PNG: give --out a .png file name.")
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from core.actor import Actor
    from core.enums import Role
    from desktop.app import build_main_window

    app = QApplication.instance() or QApplication([])
    settings_file = out.with_suffix(".screenshot.ini")
    with database() as db:
        window = build_main_window(
            db,
            Actor(user_id=None, role=Role.ADMIN, label="Screenshot"),
            settings=QSettings(str(settings_file), QSettings.Format.IniFormat),
        )
        try:
            window.resize(width, height)
            window.show()
            window.shell.show(view)
            for _ in range(5):
                app.processEvents()
            out.parent.mkdir(parents=True, exist_ok=True)
            if not window.grab().save(str(out)):
                fail(f"Could not write {out}.")
        finally:
            window.close()
            window.deleteLater()
            app.processEvents()
            settings_file.unlink(missing_ok=True)
    typer.echo(f"Wrote {out} ({view}, {width}×{height}).")
