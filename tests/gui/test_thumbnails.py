"""Thumbnails: rendered on their own thread, cached by sha256, coalesced, failures reported."""

from __future__ import annotations

import hashlib
import io
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PIL import Image
from pytestqt.qtbot import QtBot

from tests.conftest import SHARED
from workers.thumbnails import ThumbnailService

MODELS = SHARED / "models"
pytestmark = pytest.mark.timeout(180)


class CountingLoad:
    """A file's bytes, counting how often the service asks for them."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.calls = 0
        self.threads: set[str] = set()

    def __call__(self) -> bytes:
        self.calls += 1
        self.threads.add(threading.current_thread().name)
        return self.data


def model(name: str) -> tuple[str, CountingLoad]:
    data = (MODELS / name).read_bytes()
    return hashlib.sha256(data).hexdigest(), CountingLoad(data)


@pytest.fixture
def service(tmp_path: Path) -> Iterator[ThumbnailService]:
    thumbnails = ThumbnailService(tmp_path / "thumbs", size=96)
    yield thumbnails
    thumbnails.stop()


def answers(service: ThumbnailService) -> list[tuple[str, str, str]]:
    heard: list[tuple[str, str, str]] = []
    service.ready.connect(lambda sha, path: heard.append(("ready", sha, path)))
    service.failed.connect(lambda sha, why: heard.append(("failed", sha, why)))
    return heard


def test_a_thumbnail_is_rendered_once_then_served_from_the_cache(
    qtbot: QtBot, service: ThumbnailService
) -> None:
    sha, load = model("20mm-xyz-cube.stl")
    heard = answers(service)
    assert service.cached(sha) is None

    with qtbot.waitSignal(service.ready, timeout=120_000) as first:
        service.request(sha, load)
    path = Path(first.args[1])
    assert first.args[0] == sha
    assert path == service.cached(sha)
    assert Image.open(path).size == (96, 96)
    assert load.calls == 1 and service.renders == 1
    assert load.threads == {"printdesk-thumbnails"}  # not the GUI thread
    stamp = path.stat().st_mtime_ns

    with qtbot.waitSignal(service.ready, timeout=5_000) as second:
        service.request(sha, load)
    assert second.args == [sha, str(path)]
    assert load.calls == 1 and service.renders == 1  # nothing read, nothing drawn
    assert path.stat().st_mtime_ns == stamp
    assert [kind for kind, *_ in heard] == ["ready", "ready"]


def test_a_new_service_on_the_same_folder_uses_the_cached_picture(
    qtbot: QtBot, service: ThumbnailService, tmp_path: Path
) -> None:
    sha, load = model("teapot.stl")
    with qtbot.waitSignal(service.ready, timeout=120_000):
        service.request(sha, load)

    again = ThumbnailService(tmp_path / "thumbs", size=96)
    try:
        with qtbot.waitSignal(again.ready, timeout=5_000):
            again.request(sha, load)
        assert again.renders == 0 and load.calls == 1
    finally:
        again.stop()


def test_duplicate_requests_coalesce_into_one_render(
    qtbot: QtBot, service: ThumbnailService
) -> None:
    sha, load = model("teapot.stl")
    other_sha, other_load = model("20mm-xyz-cube.stl")
    heard = answers(service)

    for _ in range(3):
        service.request(sha, load)
    service.request(other_sha, other_load)
    qtbot.waitUntil(lambda: len(heard) >= 2, timeout=120_000)

    assert load.calls == 1 and other_load.calls == 1
    assert service.renders == 2
    assert sorted(sha for _, sha, _ in heard) == sorted([sha, other_sha])
    assert all(kind == "ready" for kind, *_ in heard)


@pytest.mark.parametrize(
    ("load", "reason"),
    [
        (lambda: b"\x00\x01garbage that is no model" * 40, "not"),
        (lambda: (MODELS / "empty.stl").read_bytes(), "triangle"),
        (lambda: (MODELS / "no-such-file.stl").read_bytes(), "cannot be read"),
    ],
    ids=["garbage", "empty", "missing"],
)
def test_a_file_that_cannot_be_drawn_fails_with_one_line_and_the_thread_lives_on(
    qtbot: QtBot, service: ThumbnailService, load: Callable[[], bytes], reason: str
) -> None:
    bad_sha = hashlib.sha256(b"bad").hexdigest()
    with qtbot.waitSignal(service.failed, timeout=60_000) as failed:
        service.request(bad_sha, load)
    sha, why = failed.args
    assert sha == bad_sha
    assert reason in why.lower() and "\n" not in why and "Traceback" not in why
    assert service.cached(bad_sha) is None

    good_sha, good_load = model("20mm-xyz-cube.stl")
    with qtbot.waitSignal(service.ready, timeout=120_000):
        service.request(good_sha, good_load)


def test_a_request_that_is_no_checksum_is_refused(qtbot: QtBot, service: ThumbnailService) -> None:
    load = CountingLoad(b"")
    with qtbot.waitSignal(service.failed, timeout=5_000) as failed:
        service.request("../../etc/passwd", load)
    assert "checksum" in failed.args[1]
    assert load.calls == 0


def test_stop_is_idempotent_and_refuses_later_work(qtbot: QtBot, service: ThumbnailService) -> None:
    sha, load = model("20mm-xyz-cube.stl")
    with qtbot.waitSignal(service.ready, timeout=120_000):
        service.request(sha, load)
    service.stop()
    service.stop()
    assert not any(t.name == "printdesk-thumbnails" for t in threading.enumerate())
    other_sha, other_load = model("teapot.stl")
    with qtbot.waitSignal(service.failed, timeout=5_000):
        service.request(other_sha, other_load)
    assert other_load.calls == 0


def test_the_png_is_complete_when_announced(qtbot: QtBot, service: ThumbnailService) -> None:
    sha, load = model("rabbit.obj")
    with qtbot.waitSignal(service.ready, timeout=120_000) as ready:
        service.request(sha, load)
    data = Path(ready.args[1]).read_bytes()
    Image.open(io.BytesIO(data)).load()  # raises on a truncated file
    assert not [p for p in Path(ready.args[1]).parent.iterdir() if p.name.endswith(".part")]


def test_the_gui_thread_still_and_the_thumbnail_thread_take_turns_rendering(
    qtbot: QtBot, service: ThumbnailService
) -> None:
    from core.mesh.analysis import load_mesh
    from desktop.views.mesh_view import MeshView

    sha, load = model("counter.unitsmm.STL")  # 84k faces: the thread is busy for a while
    view = MeshView()
    qtbot.addWidget(view)
    view.resize(480, 360)
    view.show()
    with qtbot.waitSignal(service.ready, timeout=120_000):
        service.request(sha, load)
        view.show_mesh(load_mesh(MODELS / "teapot.stl"))  # renders on the GUI thread meanwhile
    assert view.still_frames == 1
    assert Image.open(service.cached(sha) or "").size == (96, 96)
    view.close()
