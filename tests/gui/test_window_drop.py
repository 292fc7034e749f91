"""Model files dropped anywhere on the main window go to the quick order, which comes forward;
anything else dropped there is turned away."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication, QWidget
from pytestqt.qtbot import QtBot

from core.actor import Actor
from core.db.engine import Database
from core.storage import LocalStorage
from desktop.viewmodels.context import AppContext
from desktop.viewmodels.notifier import Notifier
from desktop.viewmodels.quick_order import QuickOrderViewModel
from desktop.viewmodels.quick_order_parts import PartStage
from desktop.viewmodels.shell import SCREENS
from desktop.views.main_window import MainWindow
from desktop.views.page import PlaceholderPage
from desktop.views.quick_order import QuickOrderPage
from tests.gui.test_documents_support import make_shell
from tests.gui.test_quick_order_vm import EMPTY, MODELS
from workers.tasks import TaskRunner

pytestmark = pytest.mark.no_gui_thread_sql


@pytest.fixture
def window(qtbot: QtBot, database: Database, admin: Actor, tmp_path: Path) -> Iterator[MainWindow]:
    storage = LocalStorage(tmp_path / "storage")
    storage.ensure_buckets()
    ctx = AppContext(
        db=database,
        actor=admin,
        notifier=Notifier(),
        runner=TaskRunner(),
        open_storage=lambda: storage,
    )
    page = QuickOrderPage(QuickOrderViewModel(ctx))
    qtbot.waitUntil(lambda: not page.vm.catalog_loading)  # printers and materials read
    pages: dict[str, QWidget] = {s.key: PlaceholderPage(s.title, "") for s in SCREENS}
    pages["quick-order"] = page
    main = MainWindow(make_shell(tmp_path), pages, ctx.notifier)
    main.shell.show("dashboard")
    main.show()
    qtbot.waitExposed(main)
    yield main
    ctx.runner.wait()
    page.vm.close()
    main.close()
    main.deleteLater()


def _data(*paths: Path) -> QMimeData:
    data = QMimeData()
    data.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    return data


def drop(window: MainWindow, data: QMimeData) -> QDropEvent:
    target = window.centralWidget()
    assert target is not None
    where = QPointF(target.width() / 2, target.height() / 2)
    enter = QDragEnterEvent(
        QPoint(int(where.x()), int(where.y())),
        Qt.DropAction.CopyAction,
        data,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    QApplication.sendEvent(window, enter)
    assert enter.isAccepted() == bool(data.urls() and _models(data))
    event = QDropEvent(
        where,
        Qt.DropAction.CopyAction,
        data,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    QApplication.sendEvent(window, event)
    return event


def _models(data: QMimeData) -> bool:
    return any(u.toLocalFile().lower().endswith((".stl", ".obj", ".3mf")) for u in data.urls())


def test_dropping_model_files_switches_to_quick_order_and_adds_them(
    qtbot: QtBot, window: MainWindow
) -> None:
    assert window.shell.screen == "dashboard"
    event = drop(window, _data(EMPTY, MODELS / "README.md"))
    assert event.isAccepted()
    assert window.shell.screen == "quick-order"
    page = window.page("quick-order")
    assert isinstance(page, QuickOrderPage)
    assert window.stack.currentWidget() is page
    (part,) = page.vm.parts  # the README is not a model: it is left out
    assert part.filename == "empty.stl"
    qtbot.waitUntil(lambda: part.stage is PartStage.REFUSED, timeout=20_000)


def test_dropping_other_files_changes_nothing(window: MainWindow) -> None:
    event = drop(window, _data(MODELS / "README.md"))
    assert not event.isAccepted()
    assert window.shell.screen == "dashboard"
    page = window.page("quick-order")
    assert isinstance(page, QuickOrderPage)
    assert page.vm.parts == []
