"""3D view tests: the live VTK interactor needs real GL, so they run on their own, with
QT_QPA_PLATFORM=xcb on pytest-xvfb's display (`make test` does this in a second pytest)."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "xcb")

from PySide6.QtCore import QCoreApplication, QEvent
from PySide6.QtWidgets import QApplication

_ALONE = (
    "the 3D view needs its own pytest run: "
    "QT_QPA_PLATFORM=xcb pytest tests/gui3d --xvfb-backend=xvfb"
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = os.path.dirname(__file__)
    # In a run that also holds the offscreen widget tests, the platform is already offscreen,
    # where the interactor hangs: those tests are skipped there, never run.
    wrong_platform = os.environ.get("QT_QPA_PLATFORM") != "xcb"
    for item in items:
        if str(item.path).startswith(here):
            item.add_marker(pytest.mark.gui)
            item.add_marker(pytest.mark.qt_log_level_fail("WARNING"))
            if wrong_platform:
                item.add_marker(pytest.mark.skip(reason=_ALONE))


@pytest.fixture(autouse=True)
def _no_leftover_windows(qapp: QApplication) -> Iterator[None]:
    """Every window a test opens is closed and deleted by its end."""
    before = set(qapp.topLevelWidgets())
    yield
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    left = [w for w in qapp.topLevelWidgets() if w not in before and w.isVisible()]
    for window in left:
        window.close()
    assert not left, f"windows left open: {[type(w).__name__ for w in left]}"
