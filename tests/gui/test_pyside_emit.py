"""PySide6 6.12.0 dropped a reference to True on every signal emitted from Python, and the
app aborted after a few thousand emits. The pinned PySide6 must not."""

from __future__ import annotations

import sys

from PySide6.QtCore import QObject, Signal


class Pinger(QObject):
    ping = Signal()
    amount = Signal(int)


def test_emitting_from_python_costs_true_nothing() -> None:
    pinger = Pinger()
    pinger.ping.emit()  # the first emits may cache what they need
    pinger.amount.emit(1)
    before = sys.getrefcount(True)
    for _ in range(2000):
        pinger.ping.emit()
        pinger.amount.emit(1)
    assert abs(sys.getrefcount(True) - before) <= 2
