"""The storage contract both backends keep: buckets, key rules and layout, errors, the protocol.

Buckets and keys follow the original app: ``tmp`` holds uploads as ``{user}/{uuid}/{name}``,
``order-files`` the files of quotes and invoices as ``{client}/{uuid}/{name}``, ``pdfs`` the
rendered documents as ``invoices/INV-0007.pdf``, ``attachments`` an invoice's attachments as
``{invoice}/{uuid}/{name}``.

Key rules are the same on every backend, so data can move between them and a test on one
proves the other: a key is one or more ``/``-separated parts, each of ASCII letters, digits and
``_ - . ! ' ( ) & $ @ = ; + ,`` and spaces. That is Supabase Storage's own rule (its server
refuses any other character, non-ASCII letters included) less ``* : ?``, which Windows does not
allow in file names. No part is empty, ``.`` or ``..``, starts or ends with a space, ends with a
dot, or is a Windows device name, so no key is absolute, and none can leave its bucket on disk.
A client's file name keeps its own spelling in the database; `key_name` turns it into a key part.
"""

from __future__ import annotations

import builtins
import re
import unicodedata
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Final, Protocol

from core.errors import ServiceError

TMP: Final = "tmp"
ORDER_FILES: Final = "order-files"
PDFS: Final = "pdfs"
ATTACHMENTS: Final = "attachments"
BUCKETS: Final[tuple[str, ...]] = (TMP, ORDER_FILES, PDFS, ATTACHMENTS)

DEFAULT_CONTENT_TYPE: Final = "application/octet-stream"
MAX_KEY_CHARS: Final = 1024
MAX_PART_CHARS: Final = 255
#: How long a key part made from a client's file name may be (extension included).
MAX_NAME_CHARS: Final = 120

_BUCKET: Final = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")
_PART_CHARS: Final = re.compile(r"^[A-Za-z0-9_\-.!'()&$@=;+, ]+$")
_NOT_PART_CHARS: Final = re.compile(r"[^A-Za-z0-9_\-.!'()&$@=;+, ]+")
_DEVICE_NAMES: Final = frozenset(
    {"CON", "PRN", "AUX", "NUL"} | {f"{p}{n}" for p in ("COM", "LPT") for n in range(10)}
)
_EXTENSION: Final = re.compile(r"\.[A-Za-z0-9]{1,16}$")


class StorageError(ServiceError):
    """A storage operation failed; ``str(error)`` says which and why, for staff."""


class InvalidKey(StorageError):
    """A bucket name or key that breaks the key rules; nothing was sent anywhere."""


class ObjectNotFound(StorageError):
    pass


class ObjectExists(StorageError):
    """``put`` without ``upsert`` onto a key that is taken."""


class LinkRefused(StorageError):
    """A signed download link that is forged, damaged or not this storage's."""


class LinkExpired(LinkRefused):
    pass


def check_bucket(bucket: str) -> str:
    if not isinstance(bucket, str) or not _BUCKET.match(bucket):
        raise InvalidKey(f"{bucket!r} is not a bucket name.")
    return bucket


def _check_part(part: str, key: str) -> None:
    if not part:
        raise InvalidKey(
            f"The storage key {key!r} has an empty part (a leading, doubled or trailing '/')."
        )
    if part in (".", ".."):
        raise InvalidKey(f"The storage key {key!r} has a '.' or '..' part.")
    if not _PART_CHARS.match(part):
        raise InvalidKey(
            f"The storage key {key!r} holds a character storage keys may not have "
            "(only ASCII letters, digits, spaces and _ - . ! ' ( ) & $ @ = ; + ,)."
        )
    if part != part.strip(" ") or part.endswith("."):
        raise InvalidKey(f"The storage key {key!r} has a part ending in a dot or a space.")
    if len(part) > MAX_PART_CHARS:
        raise InvalidKey(f"The storage key {key!r} has a part over {MAX_PART_CHARS} characters.")
    if part.split(".", 1)[0].upper() in _DEVICE_NAMES:
        raise InvalidKey(f"The storage key {key!r} uses a reserved device name.")


def check_key(key: str) -> str:
    """``key`` if it keeps the key rules (see the module's notes); `InvalidKey` otherwise."""
    if not isinstance(key, str) or not key:
        raise InvalidKey("A storage key may not be empty.")
    if len(key) > MAX_KEY_CHARS:
        raise InvalidKey(f"A storage key may not be longer than {MAX_KEY_CHARS} characters.")
    for part in key.split("/"):
        _check_part(part, key)
    return key


def check_prefix(prefix: str) -> str:
    """A folder to list: ``""`` for the whole bucket, else key parts (a trailing ``/`` is fine)."""
    folder = prefix.rstrip("/") if isinstance(prefix, str) else prefix
    if folder == "":
        return ""
    return check_key(folder)


def key_name(filename: str) -> str:
    """A key part made from a client's file name: ASCII, no separators, extension kept.

    Accents are dropped (``Würfel.stl`` → ``Wurfel.stl``), anything else outside the key
    rules becomes ``_``; a name with nothing left becomes ``file`` plus its extension.
    """
    text = unicodedata.normalize("NFKD", str(filename))
    text = text.encode("ascii", "ignore").decode("ascii")
    text = text.replace("\\", "/").rsplit("/", 1)[-1]
    text = _NOT_PART_CHARS.sub("_", text)
    text = re.sub(r" +", " ", text).strip(" ")
    match = _EXTENSION.search(text)
    ext = match.group(0) if match else ""
    base = text[: len(text) - len(ext)].strip(" .")[: MAX_NAME_CHARS - len(ext)].rstrip(" .")
    if not base.strip("_"):
        base = "file"
    if base.split(".", 1)[0].upper() in _DEVICE_NAMES:
        base = f"_{base}"
    return check_key(base + ext)


def _owner(value: int | str) -> str:
    return check_key(str(value))


def tmp_key(user: int | str, filename: str) -> str:
    """``{user}/{uuid}/{name}`` in the ``tmp`` bucket."""
    return check_key(f"{_owner(user)}/{uuid.uuid4()}/{key_name(filename)}")


def order_file_key(client_id: int, filename: str) -> str:
    """``{client}/{uuid}/{name}`` in the ``order-files`` bucket."""
    return check_key(f"{_owner(client_id)}/{uuid.uuid4()}/{key_name(filename)}")


def attachment_key(invoice_id: int, filename: str) -> str:
    """``{invoice}/{uuid}/{name}`` in the ``attachments`` bucket."""
    return check_key(f"{_owner(invoice_id)}/{uuid.uuid4()}/{key_name(filename)}")


class Storage(Protocol):
    """Where file contents live; rows in the database say which objects should exist.

    Every method checks bucket and keys first (`InvalidKey`, nothing sent). Failures raise
    `StorageError` (or a subclass) with a plain message; no backend error type leaks out.
    """

    @property
    def backend(self) -> str:
        """``"local"`` or ``"supabase"``."""
        ...

    def ensure_buckets(self) -> None:
        """Create the shop's buckets that do not exist yet."""

    def put(
        self,
        bucket: str,
        key: str,
        data: bytes | Path,
        content_type: str = DEFAULT_CONTENT_TYPE,
        *,
        upsert: bool = False,
    ) -> None:
        """Store bytes, or a file's contents, whole or not at all (`ObjectExists` if taken)."""

    def get(self, bucket: str, key: str) -> bytes:
        """The object's bytes; `ObjectNotFound` if there is none."""
        ...

    def exists(self, bucket: str, key: str) -> bool: ...

    def copy(
        self,
        src_bucket: str,
        src_key: str,
        dst_bucket: str,
        dst_key: str,
        content_type: str = DEFAULT_CONTENT_TYPE,
    ) -> None:
        """Copy one object, possibly to another bucket; the destination is overwritten."""

    def delete(self, bucket: str, keys: Sequence[str]) -> builtins.list[str]:
        """Delete objects; returns the keys that are now gone (deleted, or already missing).

        A key still present afterwards (the backend said nothing, or said it deleted it but
        did not) is left out of the answer, so the caller retries it later. A failed request
        raises `StorageError`.
        """
        ...

    def list(self, bucket: str, prefix: str = "") -> builtins.list[str]:
        """Every key under the folder ``prefix`` (recursively), sorted."""
        ...

    def signed_url(self, bucket: str, key: str, expires_in: int) -> str:
        """A link that downloads the object for ``expires_in`` seconds, without credentials."""
        ...

    def read_signed_url(self, url: str) -> bytes:
        """Download through a link `signed_url` made; `LinkExpired` / `LinkRefused` otherwise."""
        ...

    def close(self) -> None: ...


def check_expires_in(expires_in: int) -> int:
    if not isinstance(expires_in, int) or not 1 <= expires_in <= 7 * 24 * 3600:
        raise StorageError("A download link lasts from 1 second to 7 days.")
    return expires_in
