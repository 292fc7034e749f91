"""Storage in local folders: one folder per bucket under the data dir, written atomically.

Layout: ``{root}/{bucket}/{key}``, the key's parts as nested folders. Writes go to a temporary
file in ``{root}/.staging`` (same file system) and are renamed into place, so a reader sees the
whole object or none; a ``put`` without upsert links the file in, which fails atomically when
the key is taken. Emptied folders are removed after a delete so the tree mirrors the keys.

Signed links. A local object has no server to refuse a late download, so a link is a
``file://`` URL of the object with ``expires`` and ``token`` query fields, the token an
HMAC-SHA256 of bucket, key and expiry under a random secret kept in ``{root}/.signing-key``
(created on first use, readable by the owner only). `read_signed_url` checks both before
reading. Whoever can read the data dir can open the file directly anyway; the expiry holds for
PrintDesk's own downloads, which all go through `read_signed_url`.
"""

from __future__ import annotations

import builtins
import contextlib
import errno
import hashlib
import hmac
import os
import secrets
import shutil
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Final
from urllib.parse import parse_qs, urlencode, urlsplit
from urllib.request import url2pathname

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

_STAGING: Final = ".staging"
_SECRET_FILE: Final = ".signing-key"
_CHUNK: Final = 1024 * 1024
_STALE_STAGING_S: Final = 24 * 3600


def _os_error(what: str, exc: OSError) -> StorageError:
    return StorageError(f"Could not {what}: {exc.strerror or exc}.")


class LocalStorage:
    """The default backend: folders in the data dir (see the module's notes)."""

    backend = "local"

    def __init__(
        self,
        root: Path | str,
        *,
        buckets: Sequence[str] = BUCKETS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.root = Path(root)
        self.buckets = tuple(check_bucket(b) for b in buckets)
        self._clock = clock
        self._secret: bytes | None = None

    def __repr__(self) -> str:
        return f"LocalStorage({str(self.root)!r})"

    # -- paths ---------------------------------------------------------------------------

    def _bucket_dir(self, bucket: str) -> Path:
        return self.root / check_bucket(bucket)

    def _path(self, bucket: str, key: str) -> Path:
        base = self._bucket_dir(bucket)
        path = base.joinpath(*check_key(key).split("/"))
        # The key rules already keep a key inside its bucket; this also refuses a folder in
        # the bucket that was replaced by a link to somewhere else.
        real_base = os.path.realpath(base)
        if not os.path.realpath(path).startswith(real_base + os.sep):
            raise StorageError(f"The object {bucket}/{key} lies outside its bucket folder.")
        return path

    def _require_bucket(self, bucket: str) -> Path:
        folder = self._bucket_dir(bucket)
        if not folder.is_dir():
            raise StorageError(f"The storage bucket {bucket!r} does not exist.")
        return folder

    # -- the protocol ---------------------------------------------------------------------

    def ensure_buckets(self) -> None:
        try:
            for bucket in self.buckets:
                (self.root / bucket).mkdir(parents=True, exist_ok=True)
            (self.root / _STAGING).mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise _os_error(f"create the storage folders in {self.root}", exc) from exc
        # Half-written files of a process that died mid-`put`; nobody reads them.
        stale = self._clock() - _STALE_STAGING_S
        for leftover in (self.root / _STAGING).iterdir():
            with contextlib.suppress(OSError):
                if leftover.stat().st_mtime < stale:
                    leftover.unlink()

    def put(
        self,
        bucket: str,
        key: str,
        data: bytes | Path,
        content_type: str = DEFAULT_CONTENT_TYPE,
        *,
        upsert: bool = False,
    ) -> None:
        target = self._path(bucket, key)
        self._require_bucket(bucket)
        staged = self._stage(data)
        try:
            self._place(staged, target, upsert=upsert, what=f"{bucket}/{key}")
        finally:
            with contextlib.suppress(FileNotFoundError):
                staged.unlink()

    def _stage(self, data: bytes | Path) -> Path:
        staging = self.root / _STAGING
        try:
            staging.mkdir(parents=True, exist_ok=True)
            fd, name = tempfile.mkstemp(dir=staging, prefix="put-")
        except OSError as exc:
            raise _os_error("prepare the file for storage", exc) from exc
        staged = Path(name)
        try:
            with os.fdopen(fd, "wb") as out:
                if isinstance(data, bytes | bytearray | memoryview):
                    out.write(data)
                else:
                    with open(data, "rb") as source:
                        shutil.copyfileobj(source, out, _CHUNK)
                out.flush()
                os.fsync(out.fileno())
        except OSError as exc:
            with contextlib.suppress(FileNotFoundError):
                staged.unlink()
            raise _os_error("write the file to storage", exc) from exc
        return staged

    def _place(self, staged: Path, target: Path, *, upsert: bool, what: str) -> None:
        # A concurrent delete may remove an emptied parent folder between mkdir and the
        # rename; the folder is then made again.
        for attempt in range(5):
            try:
                target.parent.mkdir(parents=True, exist_ok=True)
                if upsert:
                    os.replace(staged, target)
                else:
                    self._link_new(staged, target, what)
                return
            except FileNotFoundError:
                if attempt == 4:
                    raise StorageError(
                        f"Could not store {what}: its folder kept vanishing."
                    ) from None
            except ObjectExists:
                raise
            except OSError as exc:
                raise _os_error(f"store {what}", exc) from exc

    @staticmethod
    def _link_new(staged: Path, target: Path, what: str) -> None:
        try:
            os.link(staged, target)
        except FileExistsError:
            raise ObjectExists(f"The object {what} already exists.") from None
        except OSError as exc:
            if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EXDEV, errno.EMLINK):
                raise
            # A file system without hard links: check, then rename (not atomic, but keys
            # carry a fresh UUID, so nothing else writes the same key).
            if target.exists():
                raise ObjectExists(f"The object {what} already exists.") from None
            os.replace(staged, target)

    def get(self, bucket: str, key: str) -> bytes:
        path = self._path(bucket, key)
        try:
            return path.read_bytes()
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            raise ObjectNotFound(f"The object {bucket}/{key} does not exist.") from None
        except OSError as exc:
            raise _os_error(f"read {bucket}/{key}", exc) from exc

    def exists(self, bucket: str, key: str) -> bool:
        return self._path(bucket, key).is_file()

    def copy(
        self,
        src_bucket: str,
        src_key: str,
        dst_bucket: str,
        dst_key: str,
        content_type: str = DEFAULT_CONTENT_TYPE,
    ) -> None:
        source = self._path(src_bucket, src_key)
        self._path(dst_bucket, dst_key)
        if not source.is_file():
            raise ObjectNotFound(f"The object {src_bucket}/{src_key} does not exist.")
        self.put(dst_bucket, dst_key, source, content_type, upsert=True)

    def delete(self, bucket: str, keys: Sequence[str]) -> builtins.list[str]:
        paths = [(key, self._path(bucket, key)) for key in keys]
        base = self._bucket_dir(bucket)
        gone: list[str] = []
        for key, path in paths:
            try:
                path.unlink()
            except FileNotFoundError:
                pass
            except OSError as exc:
                raise _os_error(f"delete {bucket}/{key}", exc) from exc
            gone.append(key)
            self._prune(path.parent, base)
        return gone

    @staticmethod
    def _prune(folder: Path, base: Path) -> None:
        while folder != base and base in folder.parents:
            try:
                folder.rmdir()
            except OSError:
                return
            folder = folder.parent

    def list(self, bucket: str, prefix: str = "") -> builtins.list[str]:
        folder_key = check_prefix(prefix)
        base = self._bucket_dir(bucket)
        start = base.joinpath(*folder_key.split("/")) if folder_key else base
        if folder_key and not start.is_dir():
            return []
        self._require_bucket(bucket)
        keys: list[str] = []
        for dirpath, _dirs, files in os.walk(start):
            relative = Path(dirpath).relative_to(base).as_posix()
            for name in files:
                keys.append(name if relative == "." else f"{relative}/{name}")
        return sorted(keys)

    # -- signed links ---------------------------------------------------------------------

    def _signing_secret(self) -> bytes:
        if self._secret is not None:
            return self._secret
        path = self.root / _SECRET_FILE
        try:
            self._secret = bytes.fromhex(path.read_text("ascii").strip())
            return self._secret
        except FileNotFoundError:
            pass
        except (OSError, ValueError) as exc:
            raise StorageError(f"The link signing key {path} cannot be read ({exc}).") from exc
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            fd, name = tempfile.mkstemp(dir=self.root, prefix=".signing-")
            with os.fdopen(fd, "w", encoding="ascii") as out:
                out.write(secrets.token_hex(32))
            os.chmod(name, 0o600)
            try:
                os.link(name, path)  # the first process to get here wins; others read it
            except FileExistsError:
                pass
            except OSError as exc:
                if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EXDEV, errno.EMLINK):
                    raise
                if not path.exists():  # no hard links here: a rename, nearly as good
                    os.replace(name, path)
            finally:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(name)
            self._secret = bytes.fromhex(path.read_text("ascii").strip())
        except (OSError, ValueError) as exc:
            raise StorageError(f"Could not create the link signing key in {self.root}.") from exc
        return self._secret

    def _token(self, bucket: str, key: str, expires: int) -> str:
        message = f"{bucket}\n{key}\n{expires}".encode()
        return hmac.new(self._signing_secret(), message, hashlib.sha256).hexdigest()

    def signed_url(self, bucket: str, key: str, expires_in: int) -> str:
        path = self._path(bucket, key)
        check_expires_in(expires_in)
        if not path.is_file():
            raise ObjectNotFound(f"The object {bucket}/{key} does not exist.")
        expires = int(self._clock()) + expires_in
        query = urlencode({"expires": expires, "token": self._token(bucket, key, expires)})
        return f"{path.absolute().as_uri()}?{query}"

    def read_signed_url(self, url: str) -> bytes:
        refused = LinkRefused("The download link is not valid for this shop's storage.")
        parts = urlsplit(url)
        if parts.scheme != "file" or parts.netloc not in ("", "localhost"):
            raise refused
        fields = parse_qs(parts.query)
        try:
            expires = int(fields["expires"][0])
            token = fields["token"][0]
        except (KeyError, IndexError, ValueError):
            raise refused from None
        try:
            relative = Path(url2pathname(parts.path)).relative_to(self.root.absolute())
        except ValueError:
            raise refused from None
        bucket, _, key = relative.as_posix().partition("/")
        try:
            expected = self._token(check_bucket(bucket), check_key(key), expires)
        except StorageError:
            raise refused from None
        if not hmac.compare_digest(expected, token):
            raise refused
        if self._clock() >= expires:
            raise LinkExpired("The download link has expired; ask for a new one.")
        return self.get(bucket, key)

    def close(self) -> None:
        """Nothing to release."""
