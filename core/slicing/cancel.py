"""A cancel token that long slicing work checks and that can stop a running subprocess."""

from __future__ import annotations

import threading
from collections.abc import Callable

from core.slicing.errors import SliceCancelled


class CancelToken:
    """Set once by whoever wants the work stopped; callbacks run at once (e.g. kill a process)."""

    def __init__(self) -> None:
        self._event = threading.Event()
        self._lock = threading.Lock()
        self._callbacks: list[Callable[[], None]] = []

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def cancel(self) -> None:
        with self._lock:
            if self._event.is_set():
                return
            self._event.set()
            callbacks = list(self._callbacks)
        for callback in callbacks:
            callback()

    def on_cancel(self, callback: Callable[[], None]) -> Callable[[], None]:
        """Run ``callback`` when cancelled (now, if already cancelled); returns an unregister."""
        with self._lock:
            already = self._event.is_set()
            if not already:
                self._callbacks.append(callback)
        if already:
            callback()

        def unregister() -> None:
            with self._lock:
                if callback in self._callbacks:
                    self._callbacks.remove(callback)

        return unregister

    def raise_if_cancelled(self) -> None:
        if self._event.is_set():
            raise SliceCancelled("The slice was cancelled.")

    def wait(self, timeout: float | None = None) -> bool:
        return self._event.wait(timeout)
