"""A stand-in for Supabase Storage: its REST API on 127.0.0.1, fed by the real supabase-py client.

It serves what PrintDesk's backend calls, with Storage's shapes and status codes:

* ``GET /storage/v1/bucket`` (list; owner, created_at, updated_at, file_size_limit and
  allowed_mime_types, which storage3 requires), ``POST /storage/v1/bucket`` (create),
  ``GET /storage/v1/bucket/{id}``;
* ``POST /storage/v1/object/{bucket}/{key}`` (upload, multipart ``file`` or a raw body;
  ``x-upsert: true`` overwrites, otherwise a taken key is 409 Duplicate),
  ``PUT`` (update), ``GET`` / ``HEAD`` (download, also under ``authenticated/``),
  ``GET /storage/v1/object/info/{bucket}/{key}``;
* ``DELETE /storage/v1/object/{bucket}`` with ``{"prefixes": [...]}``, answering the deleted
  objects and leaving out keys that did not exist, as Storage does;
* ``POST /storage/v1/object/list/{bucket}`` (one folder level: folders have ``id: null``;
  ``limit``, ``offset``, ``sortBy``, ``search``);
* ``POST /storage/v1/object/sign/{bucket}/{key}`` → ``{"signedURL": "/object/sign/…?token=…"}``
  and ``GET`` of that URL, without credentials, refused once expired;
* ``POST /storage/v1/object/copy`` and ``/move``.

Every other call needs the service key (``apikey`` and ``Authorization: Bearer``). Keys are
checked with storage-api's own rule (ASCII ``\\w`` and ``/ ! - . * ' ( ) space & $ @ = ; : + , ?``).
Errors are JSON ``{"statusCode", "error", "message"}``.

Test controls: `fail_next_deletes` (HTTP 500), `ignore_next_deletes` (answer ``[]`` and delete
nothing), and a clock the tests can move (`advance`) so expiry needs no sleeping.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import re
import secrets
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, quote, unquote, urlsplit

SERVICE_KEY = "standin-service-role-key"
_VALID_KEY = re.compile(r"^(\w|/|!|-|\.|\*|'|\(|\)| |&|\$|@|=|;|:|\+|,|\?)*$", re.ASCII)
_OWNER = "00000000-0000-0000-0000-000000000000"


class _Refusal(Exception):
    def __init__(self, status: int, error: str, message: str) -> None:
        super().__init__(message)
        self.status, self.error, self.message = status, error, message


def _iso(moment: float) -> str:
    return dt.datetime.fromtimestamp(moment, dt.UTC).isoformat().replace("+00:00", "Z")


@dataclass
class StoredObject:
    data: bytes
    content_type: str
    id: str = field(default_factory=lambda: str(uuid.uuid4()))
    created_at: float = field(default_factory=time.time)
    updated_at: float = field(default_factory=time.time)

    def metadata(self) -> dict[str, Any]:
        return {
            "eTag": f'"{hashlib.md5(self.data).hexdigest()}"',  # an ETag, as S3 makes them
            "size": len(self.data),
            "mimetype": self.content_type,
            "cacheControl": "max-age=3600",
            "lastModified": _iso(self.updated_at),
            "contentLength": len(self.data),
            "httpStatusCode": 200,
        }


@dataclass
class Bucket:
    id: str
    public: bool = False
    created_at: float = field(default_factory=time.time)
    objects: dict[str, StoredObject] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.id,
            "owner": "",
            "public": self.public,
            "type": "STANDARD",
            "file_size_limit": None,
            "allowed_mime_types": None,
            "created_at": _iso(self.created_at),
            "updated_at": _iso(self.created_at),
        }


class SupabaseStandIn:
    """The server and its state; use as a context manager or call `start` / `stop`."""

    def __init__(self, service_key: str = SERVICE_KEY) -> None:
        self.service_key = service_key
        self.buckets: dict[str, Bucket] = {}
        self.lock = threading.Lock()
        self.requests: list[tuple[str, str]] = []
        self._secret = secrets.token_bytes(32)
        self._offset = 0.0
        self._fail_deletes = 0
        self._ignore_deletes = 0
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- test controls -------------------------------------------------------------------

    def now(self) -> float:
        return time.time() + self._offset

    def advance(self, seconds: float) -> None:
        """Move the server's clock forward (signed links expire by it)."""
        self._offset += seconds

    def fail_next_deletes(self, count: int) -> None:
        """The next ``count`` remove calls answer HTTP 500 and delete nothing."""
        with self.lock:
            self._fail_deletes = count

    def ignore_next_deletes(self, count: int) -> None:
        """The next ``count`` remove calls answer ``[]`` (no error) and delete nothing."""
        with self.lock:
            self._ignore_deletes = count

    def seed(self, bucket: str, key: str, data: bytes, content_type: str = "text/plain") -> None:
        """Put an object straight into the state, as if some other client had uploaded it."""
        with self.lock:
            self.buckets.setdefault(bucket, Bucket(bucket)).objects[key] = StoredObject(
                data, content_type
            )

    def keys(self, bucket: str) -> list[str]:
        with self.lock:
            return sorted(self.buckets[bucket].objects) if bucket in self.buckets else []

    @property
    def url(self) -> str:
        assert self._server is not None, "the stand-in is not running"
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    # -- life ------------------------------------------------------------------------------

    def start(self) -> str:
        standin = self

        class Handler(_Handler):
            server_state = standin

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.02},
            name="supabase-standin",
            daemon=True,
        )
        self._thread.start()
        return self.url

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(10)
        self._server = self._thread = None

    def __enter__(self) -> SupabaseStandIn:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- signing -----------------------------------------------------------------------------

    def _sign(self, bucket: str, key: str, expires_in: int) -> str:
        payload = json.dumps({"url": f"{bucket}/{key}", "exp": int(self.now()) + expires_in})
        body = base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")
        mac = hmac.new(self._secret, body.encode(), hashlib.sha256).digest()
        return f"{body}.{base64.urlsafe_b64encode(mac).decode().rstrip('=')}"

    def _verify(self, token: str, bucket: str, key: str) -> None:
        body, _, mac = token.partition(".")
        expected = hmac.new(self._secret, body.encode(), hashlib.sha256).digest()
        try:
            given = base64.urlsafe_b64decode(mac + "=" * (-len(mac) % 4))
            claims = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
        except ValueError:
            raise _Refusal(400, "InvalidJWT", "invalid token") from None
        if not hmac.compare_digest(given, expected):
            raise _Refusal(400, "InvalidSignature", "invalid signature")
        if claims.get("url") != f"{bucket}/{key}":
            raise _Refusal(400, "InvalidSignature", "The url do not match the signature")
        if self.now() >= float(claims.get("exp", 0)):
            raise _Refusal(400, "InvalidJWT", "jwt expired")


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_state: SupabaseStandIn

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in separate writes; without this, Nagle's algorithm and
        # delayed ACKs stall every keep-alive answer by ~40 ms.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the tests read the state, not the log."""

    # -- plumbing ----------------------------------------------------------------------------

    def _body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    self.rfile.readline()
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            return b"".join(chunks)
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _json_body(self, body: bytes) -> dict[str, Any]:
        try:
            value = json.loads(body or b"{}")
        except ValueError:
            raise _Refusal(400, "InvalidRequest", "The body is not JSON") from None
        if not isinstance(value, dict):
            raise _Refusal(400, "InvalidRequest", "The body must be a JSON object")
        return value

    def _send(
        self, status: int, payload: Any = None, *, raw: bytes | None = None, ctype: str = ""
    ) -> None:
        data = raw if raw is not None else json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", ctype or "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def _authorised(self) -> None:
        key = self.server_state.service_key
        if self.headers.get("Authorization") != f"Bearer {key}" or (
            self.headers.get("apikey") not in (None, key)
        ):
            raise _Refusal(403, "Unauthorized", "Invalid Compact JWS")

    def _dispatch(self) -> None:
        state = self.server_state
        body = self._body()
        parts = urlsplit(self.path)
        path = unquote(parts.path)
        query = parse_qs(parts.query)
        with state.lock:
            state.requests.append((self.command, path))
        try:
            if not path.startswith("/storage/v1/"):
                raise _Refusal(404, "not_found", "Route not found")
            route = path[len("/storage/v1/") :]
            if route.startswith("object/sign/") and self.command == "GET":
                self._download_signed(route[len("object/sign/") :], query)
                return
            self._authorised()
            self._route(route, body)
        except _Refusal as refusal:
            self._send(
                refusal.status,
                {
                    "statusCode": str(refusal.status),
                    "error": refusal.error,
                    "message": refusal.message,
                },
            )

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _dispatch

    # -- routes ------------------------------------------------------------------------------

    def _route(self, route: str, body: bytes) -> None:
        method = self.command
        if route == "bucket" and method == "GET":
            with self.server_state.lock:
                buckets = [b.as_json() for b in self.server_state.buckets.values()]
            self._send(200, buckets)
        elif route == "bucket" and method == "POST":
            self._create_bucket(self._json_body(body))
        elif route.startswith("bucket/") and method == "GET":
            self._send(200, self._bucket(route[len("bucket/") :]).as_json())
        elif route.startswith("object/list/") and method == "POST":
            self._list(route[len("object/list/") :], self._json_body(body))
        elif route.startswith("object/sign/") and method == "POST":
            self._sign(route[len("object/sign/") :], self._json_body(body))
        elif route.startswith("object/info/") and method == "GET":
            self._info(route[len("object/info/") :].removeprefix("authenticated/"))
        elif route in ("object/copy", "object/move") and method == "POST":
            self._copy(self._json_body(body), move=route.endswith("move"))
        elif route.startswith("object/") and method == "DELETE" and "/" not in route[7:]:
            self._remove(route[len("object/") :], self._json_body(body))
        elif route.startswith("object/") and method in ("POST", "PUT"):
            self._upload(route[len("object/") :], body, upsert=method == "PUT")
        elif route.startswith("object/") and method in ("GET", "HEAD"):
            self._download(route[len("object/") :].removeprefix("authenticated/"))
        else:
            raise _Refusal(404, "not_found", f"Route {method}:/storage/v1/{route} not found")

    def _bucket(self, bucket_id: str) -> Bucket:
        bucket = self.server_state.buckets.get(bucket_id)
        if bucket is None:
            raise _Refusal(404, "Bucket not found", "Bucket not found")
        return bucket

    def _split(self, rest: str) -> tuple[Bucket, str]:
        bucket_id, _, key = rest.partition("/")
        bucket = self._bucket(bucket_id)
        if not key or not _VALID_KEY.match(key):
            raise _Refusal(400, "InvalidKey", f"Invalid key: {key}")
        return bucket, key

    def _object(self, rest: str) -> tuple[Bucket, str, StoredObject]:
        bucket, key = self._split(rest)
        obj = bucket.objects.get(key)
        if obj is None:
            raise _Refusal(404, "not_found", "Object not found")
        return bucket, key, obj

    def _create_bucket(self, request: dict[str, Any]) -> None:
        bucket_id = str(request.get("id") or request.get("name") or "")
        if not re.match(r"^[A-Za-z0-9_.\-]{1,100}$", bucket_id):
            raise _Refusal(400, "InvalidBucketName", f"Bucket name invalid: {bucket_id}")
        with self.server_state.lock:
            if bucket_id in self.server_state.buckets:
                raise _Refusal(409, "Duplicate", "The resource already exists")
            self.server_state.buckets[bucket_id] = Bucket(
                bucket_id, public=bool(request.get("public"))
            )
        self._send(200, {"name": bucket_id})

    def _upload(self, rest: str, body: bytes, *, upsert: bool) -> None:
        ctype = self.headers.get("Content-Type", "application/octet-stream")
        data, content_type = body, ctype
        if ctype.startswith("multipart/form-data"):
            data, content_type = _multipart_file(body, ctype)
        upsert = upsert or self.headers.get("x-upsert", "false").lower() == "true"
        with self.server_state.lock:
            bucket, key = self._split(rest)
            old = bucket.objects.get(key)
            if old is not None and not upsert:
                raise _Refusal(409, "Duplicate", "The resource already exists")
            obj = StoredObject(data, content_type)
            if old is not None:
                obj.id, obj.created_at = old.id, old.created_at
            bucket.objects[key] = obj
        self._send(200, {"Id": obj.id, "Key": f"{bucket.id}/{key}"})

    def _download(self, rest: str) -> None:
        with self.server_state.lock:
            _, _, obj = self._object(rest)
        self._send(200, raw=obj.data, ctype=obj.content_type)

    def _info(self, rest: str) -> None:
        with self.server_state.lock:
            bucket, key, obj = self._object(rest)
        self._send(
            200,
            {
                "id": obj.id,
                "name": key,
                "bucket_id": bucket.id,
                "version": obj.id,
                "size": len(obj.data),
                "content_type": obj.content_type,
                "etag": obj.metadata()["eTag"],
                "created_at": _iso(obj.created_at),
                "last_modified": _iso(obj.updated_at),
                "metadata": {},
            },
        )

    def _remove(self, bucket_id: str, request: dict[str, Any]) -> None:
        prefixes = request.get("prefixes")
        if not isinstance(prefixes, list) or not prefixes or len(prefixes) > 1000:
            raise _Refusal(400, "InvalidRequest", "body/prefixes must have 1 to 1000 items")
        state = self.server_state
        with state.lock:
            bucket = self._bucket(bucket_id)
            if state._fail_deletes > 0:
                state._fail_deletes -= 1
                raise _Refusal(500, "internal", "Internal Server Error")
            if state._ignore_deletes > 0:
                state._ignore_deletes -= 1
                deleted: list[dict[str, Any]] = []
            else:
                deleted = []
                for key in prefixes:
                    obj = bucket.objects.pop(str(key), None)
                    if obj is not None:
                        deleted.append(_object_row(bucket.id, str(key), obj))
        self._send(200, deleted)

    def _list(self, bucket_id: str, request: dict[str, Any]) -> None:
        prefix = str(request.get("prefix") or "")
        if prefix and not prefix.endswith("/"):
            prefix += "/"
        search = str(request.get("search") or "").lower()
        limit = int(request.get("limit") or 100)
        offset = int(request.get("offset") or 0)
        sort = request.get("sortBy") or {}
        with self.server_state.lock:
            bucket = self._bucket(bucket_id)
            folders: set[str] = set()
            files: dict[str, StoredObject] = {}
            for key, obj in bucket.objects.items():
                if not key.startswith(prefix):
                    continue
                rest = key[len(prefix) :]
                head, slash, _ = rest.partition("/")
                if slash:
                    folders.add(head)
                else:
                    files[rest] = obj
        entries: list[dict[str, Any]] = [
            {
                "name": name,
                "id": None,
                "updated_at": None,
                "created_at": None,
                "last_accessed_at": None,
                "metadata": None,
            }
            for name in folders
        ]
        entries += [
            {
                "name": name,
                "id": obj.id,
                "updated_at": _iso(obj.updated_at),
                "created_at": _iso(obj.created_at),
                "last_accessed_at": _iso(obj.updated_at),
                "metadata": obj.metadata(),
            }
            for name, obj in files.items()
        ]
        entries = [e for e in entries if e["name"].lower().startswith(search)]
        entries.sort(key=lambda e: e["name"], reverse=sort.get("order") == "desc")
        self._send(200, entries[offset : offset + limit])

    def _sign(self, rest: str, request: dict[str, Any]) -> None:
        try:
            expires_in = int(request.get("expiresIn", 0))
        except (TypeError, ValueError):
            expires_in = 0
        if expires_in < 1:
            raise _Refusal(400, "InvalidRequest", "expiresIn must be a positive number")
        with self.server_state.lock:
            bucket, key, _ = self._object(rest)
        token = self.server_state._sign(bucket.id, key, expires_in)
        self._send(200, {"signedURL": f"/object/sign/{bucket.id}/{quote(key)}?token={token}"})

    def _download_signed(self, rest: str, query: dict[str, list[str]]) -> None:
        token = (query.get("token") or [""])[0]
        bucket_id, _, key = rest.partition("/")
        if not token:
            raise _Refusal(400, "InvalidJWT", "Missing token")
        self.server_state._verify(token, bucket_id, key)
        with self.server_state.lock:
            _, _, obj = self._object(rest)
        self._send(200, raw=obj.data, ctype=obj.content_type)

    def _copy(self, request: dict[str, Any], *, move: bool) -> None:
        source_bucket = str(request.get("bucketId", ""))
        target_bucket = str(request.get("destinationBucket") or source_bucket)
        with self.server_state.lock:
            src, src_key, obj = self._object(f"{source_bucket}/{request.get('sourceKey', '')}")
            dst, dst_key = self._split(f"{target_bucket}/{request.get('destinationKey', '')}")
            if dst_key in dst.objects and move:
                raise _Refusal(409, "Duplicate", "The resource already exists")
            dst.objects[dst_key] = StoredObject(obj.data, obj.content_type)
            if move:
                del src.objects[src_key]
        self._send(
            200, {"message": "Successfully moved"} if move else {"Key": f"{dst.id}/{dst_key}"}
        )


def _object_row(bucket_id: str, key: str, obj: StoredObject) -> dict[str, Any]:
    return {
        "bucket_id": bucket_id,
        "name": key,
        "id": obj.id,
        "owner": _OWNER,
        "owner_id": _OWNER,
        "version": obj.id,
        "created_at": _iso(obj.created_at),
        "updated_at": _iso(obj.updated_at),
        "last_accessed_at": _iso(obj.updated_at),
        "metadata": obj.metadata(),
        "user_metadata": {},
    }


def _multipart_file(body: bytes, ctype: str) -> tuple[bytes, str]:
    """The ``file`` field of a multipart/form-data body: its bytes and its content type."""
    match = re.search(r'boundary="?([^";]+)"?', ctype)
    if not match:
        raise _Refusal(400, "InvalidRequest", "multipart body without a boundary")
    delimiter = b"--" + match.group(1).encode()
    for part in body.split(delimiter)[1:]:
        if part.startswith(b"--"):
            break
        head, _, content = part.removeprefix(b"\r\n").partition(b"\r\n\r\n")
        content = content.removesuffix(b"\r\n")
        headers = {
            name.strip().lower(): value.strip()
            for name, _, value in (
                line.decode("latin-1").partition(":") for line in head.split(b"\r\n")
            )
        }
        if 'name="file"' in headers.get("content-disposition", ""):
            return content, headers.get("content-type", "application/octet-stream")
    raise _Refusal(400, "InvalidRequest", "The upload has no file field")


@contextmanager
def running_standin(service_key: str = SERVICE_KEY) -> Iterator[SupabaseStandIn]:
    with SupabaseStandIn(service_key) as standin:
        yield standin
