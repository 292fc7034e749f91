"""GUI tests: the Qt platform is chosen before the QApplication exists; Qt warnings fail a
test; a test leaves no window open; SQL run on the GUI thread by desktop code is caught."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

# Plain widgets render under `offscreen`; a run that needs real GL (the 3D view) sets
# QT_QPA_PLATFORM=xcb itself and gets pytest-xvfb's display.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QCoreApplication, QEvent
from PySide6.QtWidgets import QApplication

from core.actor import Actor
from core.db.engine import Database
from core.storage import LocalStorage
from desktop.viewmodels.context import AppContext
from desktop.viewmodels.notifier import Notifier
from tests.gui import sql_watch
from workers.tasks import TaskRunner

# SQL on the GUI thread freezes the window on a remote database. Tests marked
# ``no_gui_thread_sql`` (the screens that load in the background) fail on any; the others
# report it in the run's summary. Flip this once every screen is converted.
ENFORCE_EVERYWHERE = True

_reported: dict[str, dict[str, int]] = {}


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "no_gui_thread_sql: fail the test if desktop code runs SQL on the GUI thread"
    )
    sql_watch.install()


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not _reported:
        return
    total = sum(sum(s.values()) for s in _reported.values())
    terminalreporter.section("SQL on the GUI thread (report only)")
    terminalreporter.write_line(f"{total} statements in {len(_reported)} tests")
    for test, sources in sorted(_reported.items()):
        worst = ", ".join(f"{n}× {src}" for src, n in sorted(sources.items(), key=lambda i: -i[1]))
        terminalreporter.write_line(f"  {test}: {worst[:300]}")


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


@pytest.fixture(autouse=True)
def gui_thread_sql(request: pytest.FixtureRequest) -> Iterator[sql_watch.GuiThreadSql]:
    """What the test's desktop code ran on the GUI thread; enforced or reported, see above."""
    with sql_watch.watching() as recorder:
        yield recorder
    if not recorder.statements:
        return
    sources = recorder.sources()
    if ENFORCE_EVERYWHERE or request.node.get_closest_marker("no_gui_thread_sql"):
        listed = "\n".join(f"  {n}× {src}" for src, n in sources.items())
        pytest.fail(f"{len(recorder.statements)} SQL statements ran on the GUI thread:\n{listed}")
    _reported[request.node.nodeid] = sources


@pytest.fixture
def storage(tmp_path: Path) -> LocalStorage:
    """Local storage in the test's folder."""
    store = LocalStorage(tmp_path / "storage")
    store.ensure_buckets()
    return store


@pytest.fixture
def ctx(database: Database, admin: Actor, storage: LocalStorage) -> Iterator[AppContext]:
    """The app context of an admin, with the test's storage; its workers stopped after."""
    context = AppContext(
        db=database,
        actor=admin,
        notifier=Notifier(),
        runner=TaskRunner(),
        open_storage=lambda: storage,
    )
    yield context
    context.runner.cancel_all()
    context.runner.wait()
