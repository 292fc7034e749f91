"""Thumbnails of order files: rendered offscreen on one thread of their own, cached by sha256.

VTK may render offscreen from one thread only (see core.mesh.render), so every thumbnail of
the app goes through this one queue and thread. The PNG is named after the file's sha256 and
the size, so the same content stored twice is rendered once, and a cached picture is announced
without touching the mesh at all.
"""

from __future__ import annotations

import logging
import os
import queue
import re
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Final

from PySide6.QtCore import QObject, Qt, Signal

from core.mesh.analysis import load_mesh
from core.mesh.intake import IntakeError
from core.mesh.render import render_png

log = logging.getLogger(__name__)

_SHA256: Final = re.compile(r"^[0-9a-f]{64}$")
_STOP: Final = object()

Load = Callable[[], bytes]


def _one_line(exc: BaseException) -> str:
    if isinstance(exc, IntakeError):
        text = str(exc)
    elif isinstance(exc, OSError):
        text = f"The file cannot be read: {exc.strerror or exc}."
    else:
        text = f"The thumbnail could not be drawn: {exc or type(exc).__name__}."
    return text.strip().splitlines()[0] if text.strip() else "The thumbnail could not be drawn."


class ThumbnailService(QObject):
    ready = Signal(str, str)  # sha256, path of the PNG
    failed = Signal(str, str)  # sha256, one-line reason
    # Announcements of already cached pictures go through the event loop, so a caller that
    # connects after request() still hears them, in the same order as rendered ones.
    _announce = Signal(str, str)
    _refuse = Signal(str, str)

    def __init__(self, cache_dir: Path, *, size: int = 256, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.cache_dir = Path(cache_dir)
        self.size = size
        self._queue: queue.SimpleQueue[object] = queue.SimpleQueue()
        self._pending: set[str] = set()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._renders = 0
        self._announce.connect(self.ready, Qt.ConnectionType.QueuedConnection)
        self._refuse.connect(self.failed, Qt.ConnectionType.QueuedConnection)

    @property
    def renders(self) -> int:
        """How many pictures were actually rendered (cache hits and coalesced requests are not)."""
        return self._renders

    def path_for(self, sha256: str) -> Path:
        return self.cache_dir / f"{sha256}-{self.size}.png"

    def cached(self, sha256: str) -> Path | None:
        if not _SHA256.match(sha256):
            return None
        path = self.path_for(sha256)
        return path if path.is_file() else None

    def request(self, sha256: str, load: Load) -> None:
        """Ask for a file's thumbnail; ``ready`` or ``failed`` answers, on the GUI thread."""
        if not _SHA256.match(sha256):
            self._refuse.emit(sha256, "That is not a file's sha256 checksum.")
            return
        if self._stopping.is_set():
            self._refuse.emit(sha256, "Thumbnails are shut down.")
            return
        hit = self.cached(sha256)
        if hit is not None:
            self._announce.emit(sha256, str(hit))
            return
        with self._lock:
            if sha256 in self._pending:
                return
            self._pending.add(sha256)
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="printdesk-thumbnails", daemon=True
                )
                self._thread.start()
        self._queue.put((sha256, load))

    def stop(self, timeout: float = 30.0) -> None:
        """Finish the picture in hand, drop the rest and join the thread. Safe to call twice."""
        self._stopping.set()
        with self._lock:
            thread, self._thread = self._thread, None
        if thread is not None:
            self._queue.put(_STOP)
            thread.join(timeout)

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is _STOP or self._stopping.is_set():
                return
            assert isinstance(item, tuple)
            sha256, load = item
            try:
                path = self._render(sha256, load)
            except Exception as exc:  # one bad file must never end the thread
                log.warning("thumbnails.failed sha256=%s error=%s", sha256, exc)
                reason = _one_line(exc)
                self._done(sha256)
                self.failed.emit(sha256, reason)
            else:
                self._done(sha256)
                self.ready.emit(sha256, str(path))

    def _done(self, sha256: str) -> None:
        with self._lock:
            self._pending.discard(sha256)

    def _render(self, sha256: str, load: Load) -> Path:
        hit = self.cached(sha256)  # made meanwhile by another service on the same folder
        if hit is not None:
            return hit
        mesh = load_mesh(load())
        if len(mesh.faces) == 0:
            raise IntakeError("The file holds no triangles to draw.")
        png = render_png(mesh, size=self.size)
        self._renders += 1
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        path = self.path_for(sha256)
        partial = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.part")
        try:
            partial.write_bytes(png)
            os.replace(partial, path)  # a reader never sees half a PNG
        finally:
            partial.unlink(missing_ok=True)
        log.info("thumbnails.rendered sha256=%s bytes=%d", sha256, len(png))
        return path
