"""Storage in Supabase Storage through supabase-py, with every answer checked.

The client (``supabase.create_client(url, key).storage``, i.e. storage3) raises
``StorageApiError`` for an error answer and httpx errors when the server cannot be reached;
both become `StorageError` with a plain message. What the API does not say is checked:

* ``remove`` answers with the objects it deleted and says nothing of the rest, and may answer
  ``[]`` without an error. A key it leaves out is looked up: gone counts as deleted, still there
  is left out of the result, so the outbox retries it later. A key it reports is trusted.
* ``list`` lists one folder level, 100 entries at a time; `list` walks folders and pages.
* Copying between buckets is a download and an upload (storage3's ``copy`` stays in one bucket).
"""

from __future__ import annotations

import builtins
import json
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Final, TypeVar

import httpx
from storage3.exceptions import StorageApiError
from storage3.types import FileOptions
from storage3.utils import StorageException

from core.storage.base import (
    BUCKETS,
    DEFAULT_CONTENT_TYPE,
    LinkExpired,
    LinkRefused,
    ObjectExists,
    ObjectNotFound,
    StorageError,
    check_bucket,
    check_expires_in,
    check_key,
    check_prefix,
)

T = TypeVar("T")

#: storage-api refuses more prefixes than this in one remove.
_REMOVE_BATCH: Final = 1000
_PAGE: Final = 1000
_PLACEHOLDER: Final = ".emptyFolderPlaceholder"


def _status(exc: StorageApiError) -> str:
    return str(exc.status)


def _is_missing(exc: StorageApiError) -> bool:
    return _status(exc) == "404" or str(exc.code).lower() in ("not_found", "nosuchkey")


def _is_duplicate(exc: StorageApiError) -> bool:
    return _status(exc) == "409" or str(exc.code).lower() in ("duplicate", "resourcealreadyexists")


class SupabaseStorage:
    """Supabase Storage with the service key (see the module's notes)."""

    backend = "supabase"

    def __init__(
        self,
        url: str,
        service_key: str,
        *,
        timeout_s: float = 60.0,
        buckets: Sequence[str] = BUCKETS,
    ) -> None:
        from supabase import create_client
        from supabase.lib.client_options import SyncClientOptions

        if not url or not service_key:
            raise StorageError("Supabase storage needs both its URL and its service key.")
        self.url = url
        self.buckets = tuple(check_bucket(b) for b in buckets)
        # One HTTP client, closed by `close`; passing it also keeps supabase-py from building
        # its own with the deprecated timeout argument.
        self._http = httpx.Client(timeout=timeout_s, follow_redirects=True)
        try:
            client = create_client(
                url,
                service_key,
                options=SyncClientOptions(
                    httpx_client=self._http, auto_refresh_token=False, persist_session=False
                ),
            )
        except Exception as exc:
            self._http.close()
            raise StorageError(f"Supabase storage cannot be set up: {exc}") from exc
        self._client = client.storage

    def __repr__(self) -> str:
        return f"SupabaseStorage({self.url!r})"

    @contextmanager
    def _errors(self, what: str, bucket: str = "", key: str = "") -> Iterator[None]:
        name = f"{bucket}/{key}" if key else bucket
        try:
            yield
        except StorageError:
            raise
        except StorageApiError as exc:
            if _is_missing(exc) and key:
                raise ObjectNotFound(f"The object {name} does not exist.") from exc
            if _is_duplicate(exc) and key:
                raise ObjectExists(f"The object {name} already exists.") from exc
            raise StorageError(
                f"Supabase Storage refused to {what}{' ' + name if name else ''}: "
                f"{exc.message} ({exc.code}, {exc.status})."
            ) from exc
        except httpx.HTTPError as exc:
            raise StorageError(
                f"Supabase Storage could not be reached to {what}: {type(exc).__name__} {exc}"
            ) from exc
        except (StorageException, ValueError, KeyError, TypeError) as exc:
            raise StorageError(
                f"Supabase Storage gave an unusable answer to {what}: {exc}"
            ) from exc

    def _call(self, what: str, fn: Callable[[], T], bucket: str = "", key: str = "") -> T:
        with self._errors(what, bucket, key):
            return fn()
        raise AssertionError("unreachable")  # pragma: no cover - the context re-raises

    # -- the protocol ---------------------------------------------------------------------

    def ensure_buckets(self) -> None:
        existing = {b.id for b in self._call("list the buckets", self._client.list_buckets)}
        for bucket in self.buckets:
            if bucket in existing:
                continue
            try:
                with self._errors("create the bucket", bucket):
                    self._client.create_bucket(bucket, options={"public": False})
            except StorageError as exc:
                if not isinstance(exc.__cause__, StorageApiError) or not _is_duplicate(
                    exc.__cause__
                ):
                    raise  # another process may have made it meanwhile; anything else is real

    def put(
        self,
        bucket: str,
        key: str,
        data: bytes | Path,
        content_type: str = DEFAULT_CONTENT_TYPE,
        *,
        upsert: bool = False,
    ) -> None:
        check_bucket(bucket)
        check_key(key)
        body: bytes | Path = bytes(data) if isinstance(data, bytearray | memoryview) else data
        if isinstance(body, Path) and not body.is_file():
            raise StorageError(f"{body} is not a file that can be stored.")
        options: FileOptions = {
            "content-type": content_type,
            "upsert": "true" if upsert else "false",
        }
        with self._errors("store", bucket, key):
            answer = self._client.from_(bucket).upload(key, body, options)
        if not answer.full_path:
            raise StorageError(f"Supabase Storage did not confirm storing {bucket}/{key}.")

    def get(self, bucket: str, key: str) -> bytes:
        check_bucket(bucket)
        check_key(key)
        return self._call("read", lambda: self._client.from_(bucket).download(key), bucket, key)

    def exists(self, bucket: str, key: str) -> bool:
        check_bucket(bucket)
        check_key(key)
        with self._errors("look up", bucket):
            return bool(self._client.from_(bucket).exists(key))
        raise AssertionError("unreachable")  # pragma: no cover

    def copy(
        self,
        src_bucket: str,
        src_key: str,
        dst_bucket: str,
        dst_key: str,
        content_type: str = DEFAULT_CONTENT_TYPE,
    ) -> None:
        check_bucket(dst_bucket)
        check_key(dst_key)
        data = self.get(src_bucket, src_key)
        self.put(dst_bucket, dst_key, data, content_type, upsert=True)

    def delete(self, bucket: str, keys: Sequence[str]) -> builtins.list[str]:
        check_bucket(bucket)
        wanted = [check_key(k) for k in keys]
        gone: list[str] = []
        for start in range(0, len(wanted), _REMOVE_BATCH):
            batch = wanted[start : start + _REMOVE_BATCH]
            with self._errors("delete objects from", bucket):
                answer = self._client.from_(bucket).remove(batch)
            if not isinstance(answer, builtins.list):
                raise StorageError(f"Supabase Storage answered a delete in {bucket} oddly.")
            reported = {str(item.get("name")) for item in answer if isinstance(item, dict)}
            for key in batch:
                # A key the answer leaves out was either missing already (fine) or not
                # deleted at all (retry later): only a look-up tells which.
                if key in reported or not self.exists(bucket, key):
                    gone.append(key)
        return gone

    def list(self, bucket: str, prefix: str = "") -> builtins.list[str]:
        check_bucket(bucket)
        folders = [check_prefix(prefix)]
        keys: list[str] = []
        files = self._client.from_(bucket)
        while folders:
            folder = folders.pop()
            offset = 0
            while True:
                with self._errors("list", bucket):
                    page = files.list(
                        folder or None,
                        {
                            "limit": _PAGE,
                            "offset": offset,
                            "sortBy": {"column": "name", "order": "asc"},
                        },
                    )
                for entry in page:
                    name = str(entry.get("name", ""))
                    if not name or name == _PLACEHOLDER:
                        continue
                    full = f"{folder}/{name}" if folder else name
                    if entry.get("id") is None:  # a folder
                        folders.append(full)
                    else:
                        keys.append(full)
                if len(page) < _PAGE:
                    break
                offset += _PAGE
        return sorted(keys)

    def signed_url(self, bucket: str, key: str, expires_in: int) -> str:
        check_bucket(bucket)
        check_key(key)
        check_expires_in(expires_in)
        answer = self._call(
            "sign a link to",
            lambda: self._client.from_(bucket).create_signed_url(key, expires_in),
            bucket,
            key,
        )
        url = answer.get("signedURL") or answer.get("signedUrl")
        if not url:
            raise StorageError(f"Supabase Storage gave no link for {bucket}/{key}.")
        return str(url)

    def read_signed_url(self, url: str) -> bytes:
        if not url.startswith(self.url.rstrip("/") + "/"):
            raise LinkRefused("The download link is not for this shop's storage.")
        try:
            response = self._http.get(url)  # no credentials: the link alone must do
        except httpx.HTTPError as exc:
            raise StorageError(f"The download link could not be opened: {exc}") from exc
        if response.status_code == 200:
            return response.content
        try:
            detail = json.loads(response.content)
            message = str(detail.get("message", ""))
        except (ValueError, AttributeError):
            message = response.text[:200]
        if "expired" in message.lower():
            raise LinkExpired("The download link has expired; ask for a new one.")
        if response.status_code == 404 or "not found" in message.lower():
            raise ObjectNotFound("The file behind the download link no longer exists.")
        raise LinkRefused(f"The download link was refused: {message or response.status_code}.")

    def close(self) -> None:
        self._http.close()
