"""Every button's label fits its button on every screen at the two common laptop sizes: a
label cut short (``Convert to inv``) is a label nobody can read."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QCoreApplication, QSettings
from PySide6.QtWidgets import QPushButton, QStyle, QStyleOptionButton, QWidget
from pytestqt.qtbot import QtBot

from core.actor import Actor
from core.db.engine import Database
from desktop.app import build_main_window
from desktop.views.documents import DocumentsPage
from desktop.views.main_window import MainWindow
from tests.gui.editor_support import open_in
from tests.gui.shots import keep_shot
from tests.gui.test_documents_support import seed_shop

SIZES = ((1440, 900), (1280, 800))


def clipped(button: QPushButton) -> str | None:
    """The label and the room it lacks, when its text is wider than the button can show."""
    text = button.text().replace("&", "")
    if not text:
        return None
    option = QStyleOptionButton()
    button.initStyleOption(option)
    room = button.style().subElementRect(QStyle.SubElement.SE_PushButtonContents, option, button)
    width = room.width() if room.isValid() else button.contentsRect().width()
    if not button.icon().isNull():
        width -= button.iconSize().width() + 4
    if button.menu() is not None:
        width -= button.style().pixelMetric(QStyle.PixelMetric.PM_MenuButtonIndicator, option)
    needed = button.fontMetrics().horizontalAdvance(text)
    return f"{text!r}: {needed} px in {width} px" if needed > width else None


def visible_buttons(root: QWidget) -> list[QPushButton]:
    return [b for b in root.findChildren(QPushButton) if b.isVisibleTo(root) and b.isVisible()]


def screens(window: MainWindow) -> list[tuple[str, object]]:
    """Every screen, and the quote and invoice editors with a document open."""
    found: list[tuple[str, object]] = [(s.key, s.key) for s in window.shell.screens]
    found += [("quote editor", "quotes"), ("invoice editor", "invoices")]
    return found


@pytest.mark.parametrize(("width", "height"), SIZES)
def test_no_button_label_is_clipped(
    qtbot: QtBot,
    database: Database,
    admin: Actor,
    data_dir: Path,
    tmp_path: Path,
    width: int,
    height: int,
) -> None:
    shop = seed_shop(database, admin, per_status=1)
    window = build_main_window(
        database,
        admin,
        settings=QSettings(str(tmp_path / "shell.ini"), QSettings.Format.IniFormat),
    )
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    window.resize(width, height)
    problems: list[str] = []
    try:
        for name, key in screens(window):
            window.shell.show(str(key))
            page = window.page(str(key))
            if name == "quote editor" and isinstance(page, DocumentsPage):
                open_in(qtbot, page, shop.showcase_quote)
            elif name == "invoice editor" and isinstance(page, DocumentsPage):
                open_in(qtbot, page, shop.showcase_invoice)
            QCoreApplication.processEvents()
            qtbot.waitUntil(lambda: window.size().width() == width)
            for button in visible_buttons(window):
                wrong = clipped(button)
                if wrong:
                    problems.append(f"{name} at {width}×{height}: {wrong}")
            keep_shot(window, f"fit-{width}x{height}-{name.replace(' ', '-')}.png")
        assert not problems, "\n".join(problems)
    finally:
        window.close()


def test_the_check_sees_a_clipped_label(qtbot: QtBot) -> None:
    """The measure above is the one a person sees: a button too narrow for its label fails."""
    from desktop.views.theme import STYLESHEET

    holder = QWidget()
    holder.setStyleSheet(STYLESHEET)
    button = QPushButton("Convert to invoice", holder)
    qtbot.addWidget(holder)
    holder.show()
    button.resize(button.sizeHint())
    assert clipped(button) is None
    button.resize(button.sizeHint().width() - 30, button.sizeHint().height())
    assert clipped(button) is not None
