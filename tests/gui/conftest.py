"""GUI tests: the Qt platform is chosen before the QApplication exists; Qt warnings fail a
test; a test leaves no window open."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

# Plain widgets render under `offscreen`; a run that needs real GL (the 3D view) sets
# QT_QPA_PLATFORM=xcb itself and gets pytest-xvfb's display.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QCoreApplication, QEvent
from PySide6.QtWidgets import QApplication


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = os.path.dirname(__file__)
    for item in items:
        if str(item.path).startswith(here):
            item.add_marker(pytest.mark.gui)
            # A warning Qt logs during a GUI test is a bug unless the test says otherwise.
            item.add_marker(pytest.mark.qt_log_level_fail("WARNING"))
            if os.environ["QT_QPA_PLATFORM"] == "offscreen":
                # The offscreen platform says "This plugin does not support raise()" (or
                # propagateSizeHints, or grabbing the keyboard for a popup): its limits, not bugs.
                item.add_marker(pytest.mark.qt_log_ignore(r"^This plugin does not support "))


@pytest.fixture(autouse=True)
def _no_leftover_windows(qapp: QApplication) -> Iterator[None]:
    """Every window a test opens is closed and deleted by its end (napari's leak check)."""
    before = set(qapp.topLevelWidgets())
    yield
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    left = [w for w in qapp.topLevelWidgets() if w not in before and w.isVisible()]
    for window in left:
        window.close()  # so the next test starts clean even after this one fails
    assert not left, f"windows left open: {[type(w).__name__ for w in left]}"
