"""`printdesk screenshot` renders a screen with the database's data to a PNG, offscreen."""

from __future__ import annotations

import struct
from pathlib import Path

from core.actor import Actor
from core.db.engine import Database
from core.services import invoices
from tests.cli_runner import printdesk
from tests.factories import item, make_client


def _png_size(path: Path) -> tuple[int, int]:
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", header[16:24])
    return width, height


def test_screenshot_writes_the_screen(
    database: Database, admin: Actor, db_url: str, tmp_path: Path
) -> None:
    client = make_client(database)
    with database.session() as s:
        invoices.create_invoice(s, admin, client, [item()])
    out = tmp_path / "shots" / "invoices.png"
    result = printdesk(
        "screenshot", "invoices", "--out", str(out), db_url=db_url, data_dir=tmp_path
    )
    assert result.code == 0, result.stderr
    assert _png_size(out) == (1440, 900)
    assert not list(out.parent.glob("*.ini"))


def test_unknown_view_is_refused(db_url: str, tmp_path: Path) -> None:
    result = printdesk(
        "screenshot", "kitchen", "--out", str(tmp_path / "x.png"), db_url=db_url, data_dir=tmp_path
    )
    assert result.code == 1 and "Unknown view 'kitchen'" in result.stderr
    assert not (tmp_path / "x.png").exists()
