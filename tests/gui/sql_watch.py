"""SQL seen by the GUI tests: statements run on the Qt GUI thread from desktop code (which
should be none), and a statement counter for an action's round trips."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PySide6.QtCore import QCoreApplication, QThread
from sqlalchemy import event
from sqlalchemy.engine import Engine

import desktop

DESKTOP = str(Path(desktop.__file__).resolve().parent)


@dataclass(frozen=True)
class GuiStatement:
    sql: str
    source: str  # the innermost desktop/ frame that ran it, "desktop/viewmodels/x.py:12 fn"


@dataclass
class GuiThreadSql:
    """What one test ran on the GUI thread from desktop code."""

    statements: list[GuiStatement] = field(default_factory=list)

    def sources(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for statement in self.statements:
            counts[statement.source] = counts.get(statement.source, 0) + 1
        return counts


_current: GuiThreadSql | None = None


def _desktop_source() -> str | None:
    """The innermost frame under desktop/, or None when only tests and core are on the stack
    (a test seeding its data on the GUI thread is no part of the app)."""
    frame = sys._getframe(2)
    while frame is not None:
        name = frame.f_code.co_filename
        if name.startswith(DESKTOP):
            where = "desktop" + name[len(DESKTOP) :]
            return f"{where}:{frame.f_lineno} {frame.f_code.co_name}"
        frame = frame.f_back  # type: ignore[assignment]
    return None


def _on_gui_thread() -> bool:
    app = QCoreApplication.instance()
    return app is not None and QThread.currentThread() is app.thread()


def _before_cursor_execute(
    _conn: Any, _cursor: Any, statement: str, *_args: Any, **_kwargs: Any
) -> None:
    recorder = _current
    if recorder is None or not _on_gui_thread():
        return
    source = _desktop_source()
    if source is not None:
        recorder.statements.append(GuiStatement(statement, source))


def install() -> None:
    """Watch every engine any test makes (the fixtures' and the app's own)."""
    if not event.contains(Engine, "before_cursor_execute", _before_cursor_execute):
        event.listen(Engine, "before_cursor_execute", _before_cursor_execute)


@contextmanager
def watching() -> Iterator[GuiThreadSql]:
    global _current
    recorder = GuiThreadSql()
    _current = recorder
    try:
        yield recorder
    finally:
        _current = None


@contextmanager
def counting(engine: Engine) -> Iterator[list[str]]:
    """Every statement ``engine`` runs inside the block, from any thread."""
    statements: list[str] = []

    def hook(_conn: Any, _cursor: Any, statement: str, *_args: Any, **_kwargs: Any) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", hook)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", hook)
