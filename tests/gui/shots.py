"""Screenshots from GUI tests: always grabbed (a blank grab fails the test), kept on disk only
when PRINTDESK_SHOTS names a folder to look at them in."""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtWidgets import QApplication, QWidget


def keep_shot(widget: QWidget, name: str) -> Path | None:
    QApplication.sendPostedEvents()
    picture = widget.grab()
    assert not picture.isNull(), f"{name}: the widget drew nothing"
    folder = os.environ.get("PRINTDESK_SHOTS")
    if not folder:
        return None
    path = Path(folder) / name
    path.parent.mkdir(parents=True, exist_ok=True)
    assert picture.save(str(path))
    return path
