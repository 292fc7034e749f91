"""Both storage backends behind one fixture: local folders, and Supabase via the stand-in."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

from core.storage import LocalStorage, Storage, StorageError
from core.storage.base import DEFAULT_CONTENT_TYPE
from core.storage.supabase_backend import SupabaseStorage
from tests.supabase_standin import SERVICE_KEY, SupabaseStandIn

MODELS = Path(__file__).resolve().parents[3] / "shared" / "models"
CUBE = MODELS / "20mm-xyz-cube.stl"


class Clock:
    """time.time, movable forward."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += seconds


@dataclass
class Backend:
    name: str
    storage: Storage
    advance: Callable[[float], None]
    standin: SupabaseStandIn | None = None


@pytest.fixture
def standin() -> Iterator[SupabaseStandIn]:
    with SupabaseStandIn() as server:
        yield server


def _local(tmp_path: Path) -> Backend:
    clock = Clock()
    storage = LocalStorage(tmp_path / "storage", clock=clock)
    storage.ensure_buckets()
    return Backend("local", storage, clock.advance)


@pytest.fixture(params=["local", "supabase"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    if request.param == "local":
        yield _local(tmp_path)
        return
    with SupabaseStandIn() as server:
        storage = SupabaseStorage(server.url, SERVICE_KEY)
        storage.ensure_buckets()
        try:
            yield Backend("supabase", storage, server.advance, server)
        finally:
            storage.close()


@pytest.fixture
def storage(backend: Backend) -> Storage:
    return backend.storage


class FlakyStorage:
    """A real backend whose first ``failures`` deletes fail: raising, or answering nothing.

    It wraps the backend under test and changes nothing else, so the code under test runs
    as it would against a storage service having a bad minute.
    """

    def __init__(self, inner: Storage, failures: int, *, silent: bool = False) -> None:
        self.inner = inner
        self.failures = failures
        self.silent = silent
        self.delete_calls = 0

    @property
    def backend(self) -> str:
        return self.inner.backend

    def ensure_buckets(self) -> None:
        self.inner.ensure_buckets()

    def put(
        self,
        bucket: str,
        key: str,
        data: bytes | Path,
        content_type: str = DEFAULT_CONTENT_TYPE,
        *,
        upsert: bool = False,
    ) -> None:
        self.inner.put(bucket, key, data, content_type, upsert=upsert)

    def get(self, bucket: str, key: str) -> bytes:
        return self.inner.get(bucket, key)

    def exists(self, bucket: str, key: str) -> bool:
        return self.inner.exists(bucket, key)

    def copy(
        self,
        src_bucket: str,
        src_key: str,
        dst_bucket: str,
        dst_key: str,
        content_type: str = DEFAULT_CONTENT_TYPE,
    ) -> None:
        self.inner.copy(src_bucket, src_key, dst_bucket, dst_key, content_type)

    def delete(self, bucket: str, keys: Sequence[str]) -> list[str]:
        self.delete_calls += 1
        if self.failures > 0:
            self.failures -= 1
            if self.silent:
                return []
            raise StorageError("Storage is unavailable (injected failure).")
        return self.inner.delete(bucket, keys)

    def list(self, bucket: str, prefix: str = "") -> list[str]:
        return self.inner.list(bucket, prefix)

    def signed_url(self, bucket: str, key: str, expires_in: int) -> str:
        return self.inner.signed_url(bucket, key, expires_in)

    def read_signed_url(self, url: str) -> bytes:
        return self.inner.read_signed_url(url)

    def close(self) -> None:
        self.inner.close()
