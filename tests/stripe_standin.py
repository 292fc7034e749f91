"""A Stripe stand-in for tests: Checkout Sessions over Stripe's real form-encoded v1 wire protocol.

localstripe has no Checkout Sessions, so this small server plays Stripe for them. The real
``stripe`` library talks to it over HTTP on loopback: Bearer auth, form-encoded bodies with
nested keys (``line_items[0][price_data][unit_amount]``), the Idempotency-Key header honoured
the way Stripe does (replayed answers, a refusal when a key comes back with other parameters),
Stripe's error bodies and status codes, and session objects with exactly the fields of Stripe's
own example in ``shared/stripe/fixtures3.json``. Tests steer it through Python methods: complete
a session as if the client paid, let time pass, and make the next requests fail.
"""

from __future__ import annotations

import copy
import itertools
import json
import re
import secrets
import string
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Literal
from urllib.parse import parse_qsl, urlsplit

FIXTURES = Path(__file__).resolve().parents[2] / "shared" / "stripe" / "fixtures3.json"
DEFAULT_KEY = "sk_test_printdesk_standin_0123456789"
Fault = Literal["500", "network", "lost_response"]

# The parameters Stripe accepts on POST /v1/checkout/sessions (API 2025+); anything else is
# refused as Stripe refuses it ("Received unknown parameter"), which catches typos in our code.
CREATE_PARAMS = frozenset(
    {
        "adaptive_pricing", "after_expiration", "allow_promotion_codes", "automatic_tax",
        "billing_address_collection", "branding_settings", "cancel_url", "client_reference_id",
        "consent_collection", "currency", "custom_fields", "custom_text", "customer",
        "customer_account", "customer_creation", "customer_email", "customer_update",
        "discounts", "excluded_payment_method_types", "expand", "expires_at", "invoice_creation",
        "line_items", "locale", "metadata", "mode", "name_collection", "optional_items",
        "origin_context", "payment_intent_data", "payment_method_collection",
        "payment_method_configuration", "payment_method_data", "payment_method_options",
        "payment_method_types", "permissions", "phone_number_collection",
        "redirect_on_completion", "return_url", "saved_payment_method_options",
        "setup_intent_data", "shipping_address_collection", "shipping_options", "submit_type",
        "subscription_data", "success_url", "tax_id_collection", "ui_mode", "wallet_options",
    }
)  # fmt: skip
LIST_PARAMS = frozenset(
    {
        "created", "customer", "customer_account", "customer_details", "ending_before",
        "expand", "limit", "payment_intent", "payment_link", "starting_after", "status",
        "subscription",
    }
)  # fmt: skip
# Stripe's minimum charge per currency, in minor units (a few the shop might use).
MINIMUM_CHARGE = {"aud": 50, "usd": 50, "nzd": 50, "cad": 50, "eur": 50, "gbp": 30}
_MIN_EXPIRY_S = 30 * 60
_MAX_EXPIRY_S = 24 * 60 * 60
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_ID_CHARS = string.ascii_letters + string.digits


class StripeApiError(Exception):
    """An error answer in Stripe's shape: {"error": {"type", "message", "code", "param"}}."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        type_: str = "invalid_request_error",
        code: str | None = None,
        param: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.body: dict[str, Any] = {"error": {"type": type_, "message": message}}
        if code is not None:
            self.body["error"]["code"] = code
        if param is not None:
            self.body["error"]["param"] = param


def decode_form(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """Stripe's nested form keys (``a[b][0][c]=v``) back into dicts and lists."""
    root: dict[str, Any] = {}
    for key, value in pairs:
        head, _, rest = key.partition("[")
        path = [head] + (re.findall(r"([^\[\]]*)\]", "[" + rest) if rest else [])
        node = root
        for i, part in enumerate(path):
            last = i == len(path) - 1
            if part == "":  # "expand[]=a" appends
                part = str(sum(1 for k in node if k.isdigit()))
            if last:
                node[part] = value
            else:
                node = node.setdefault(part, {})
                if not isinstance(node, dict):
                    raise StripeApiError(400, f"Invalid parameter: {key}", param=key)
    return _lists_from_indexed(root)


def _lists_from_indexed(node: Any) -> Any:
    if not isinstance(node, dict):
        return node
    converted = {k: _lists_from_indexed(v) for k, v in node.items()}
    if converted and all(k.isdigit() for k in converted):
        return [converted[k] for k in sorted(converted, key=int)]
    return converted


@dataclass(frozen=True)
class RecordedRequest:
    """One request as it reached the stand-in, for tests to check what the library sent."""

    method: str
    path: str
    query: dict[str, Any]
    form: dict[str, Any]
    headers: dict[str, str]
    raw_body: str
    fault: Fault | None = None

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    @property
    def idempotency_key(self) -> str | None:
        return self.header("Idempotency-Key")


@dataclass
class _Stored:
    method: str
    path: str
    params: dict[str, Any]
    status: int
    body: dict[str, Any]


@dataclass(frozen=True)
class _FaultRule:
    kind: Fault
    method: str | None
    path: re.Pattern[str] | None

    def matches(self, method: str, path: str) -> bool:
        return (self.method is None or self.method == method) and (
            self.path is None or self.path.match(path) is not None
        )


@dataclass
class _State:
    sessions: dict[str, dict[str, Any]] = field(default_factory=dict)
    order: dict[str, int] = field(default_factory=dict)
    idempotent: dict[str, _Stored] = field(default_factory=dict)
    in_flight: set[str] = field(default_factory=set)
    faults: list[_FaultRule] = field(default_factory=list)
    requests: list[RecordedRequest] = field(default_factory=list)
    clock_offset_s: float = 0.0


class StripeStandin:
    """A Stripe API server for Checkout Sessions on 127.0.0.1, in a thread of its own."""

    def __init__(self, api_key: str = DEFAULT_KEY) -> None:
        self.api_key = api_key
        self._state = _State()
        self._lock = threading.RLock()
        self._counter = itertools.count(1)
        self._template = self._session_template()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- running ---------------------------------------------------------------------------

    def start(self) -> StripeStandin:
        standin = self

        class Handler(_Handler):
            owner = standin

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="stripe-standin",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> StripeStandin:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """The API base to give the stripe library (``base_addresses={"api": url}``)."""
        assert self._server is not None, "the stand-in is not running"
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    # -- test controls (Python, not HTTP) --------------------------------------------------

    def now(self) -> int:
        """Stripe's clock: real time plus whatever the test let pass."""
        return int(time.time() + self._state.clock_offset_s)

    def advance(self, seconds: float) -> None:
        """Let time pass at Stripe: open sessions past their expires_at turn expired."""
        with self._lock:
            self._state.clock_offset_s += seconds

    def fail_next(
        self, count: int = 1, kind: Fault = "500", *, method: str | None = None, path: str = ""
    ) -> None:
        """Make the next ``count`` requests fail (only those to ``method`` ``path``, if given;
        a ``*`` in the path matches one id).

        ``500``: Stripe answers an api_error before doing anything. ``network``: the connection
        drops before an answer. ``lost_response``: Stripe does the work, then the connection
        drops, so the client never hears the answer (the case idempotency keys exist for).
        """
        pattern = re.compile("^" + re.escape(path).replace(r"\*", "[^/]+") + "$") if path else None
        with self._lock:
            self._state.faults.extend([_FaultRule(kind, method, pattern)] * count)

    def complete_session(
        self,
        session_id: str,
        *,
        payment_intent: str | None = None,
        payment_status: Literal["paid", "unpaid", "no_payment_required"] = "paid",
        email: str | None = None,
    ) -> dict[str, Any]:
        """The client paid (or, with ``unpaid``, submitted a delayed payment method)."""
        with self._lock:
            session = self._live(session_id)
            if session["status"] != "open":
                raise ValueError(f"{session_id} is {session['status']}, not open")
            session["status"] = "complete"
            session["payment_status"] = payment_status
            session["payment_intent"] = payment_intent or _new_id("pi_", 24)
            session["url"] = None
            details = copy.deepcopy(self._template["customer_details"])
            details["email"] = email or session["customer_email"] or "client@example.com"
            details["name"] = "Test Client"
            session["customer_details"] = details
            return copy.deepcopy(session)

    def expire_session(self, session_id: str) -> dict[str, Any]:
        """Expire one open session as Stripe does when its time runs out."""
        with self._lock:
            session = self._live(session_id)
            if session["status"] == "open":
                self._mark_expired(session)
            return copy.deepcopy(session)

    def session(self, session_id: str) -> dict[str, Any]:
        with self._lock:
            return copy.deepcopy(self._live(session_id))

    def sessions(self, status: str | None = None) -> list[dict[str, Any]]:
        with self._lock:
            return [
                copy.deepcopy(s)
                for s in self._ordered()
                if status is None or self._refreshed(s)["status"] == status
            ]

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._state.requests)

    def requests_to(self, method: str, path: str) -> list[RecordedRequest]:
        """Requests for one method and path (a trailing ``*`` matches any id in the path)."""
        pattern = re.compile("^" + re.escape(path).replace(r"\*", "[^/]+") + "$")
        return [r for r in self.requests if r.method == method and pattern.match(r.path)]

    def clear_requests(self) -> None:
        with self._lock:
            self._state.requests.clear()

    # -- the API ---------------------------------------------------------------------------

    def handle(
        self, method: str, path: str, query: dict[str, Any], form: dict[str, Any], key: str | None
    ) -> tuple[int, dict[str, Any], dict[str, str]]:
        """One authenticated request: (status, JSON body, extra headers)."""
        if method == "POST" and path == "/v1/checkout/sessions":
            return self._idempotent(key, method, path, form, lambda: self._create(form))
        match = re.fullmatch(r"/v1/checkout/sessions/([^/]+)(/expire)?", path)
        if method == "GET" and path == "/v1/checkout/sessions":
            return 200, self._list(query), {}
        if match and method == "GET" and not match.group(2):
            self._only(query, {"expand"})
            return 200, self._retrieve(match.group(1)), {}
        if match and method == "POST" and match.group(2):
            return self._idempotent(
                key, method, path, form, lambda: self._expire(match.group(1), form)
            )
        raise StripeApiError(
            404,
            f"Unrecognized request URL ({method}: {path}). Please see https://stripe.com/docs "
            "or we can help at https://support.stripe.com/.",
        )

    def _idempotent(
        self,
        key: str | None,
        method: str,
        path: str,
        params: dict[str, Any],
        run: Any,
    ) -> tuple[int, dict[str, Any], dict[str, str]]:
        """Stripe's idempotency: the first answer for a key is replayed; other params refused."""
        if not key:
            status, body = self._run(run)
            return status, body, {}
        with self._lock:
            stored = self._state.idempotent.get(key)
            if stored is None and key in self._state.in_flight:
                raise StripeApiError(
                    409,
                    "There is currently another in-progress request using this Stripe "
                    "Idempotency Key (that probably means you submitted twice, and the other "
                    "request is still going through): "
                    f"{key}. Please try again later.",
                    type_="idempotency_error",
                )
            if stored is not None:
                if (stored.method, stored.path, stored.params) != (method, path, params):
                    raise StripeApiError(
                        400,
                        "Keys for idempotent requests can only be used with the same "
                        "parameters they were first used with. Try using a key other than "
                        f"'{key}' if you meant to execute a different request.",
                        type_="idempotency_error",
                    )
                return stored.status, copy.deepcopy(stored.body), {"Idempotent-Replayed": "true"}
            self._state.in_flight.add(key)
        try:
            # A request refused while its parameters are checked leaves no saved answer, so
            # the key can be used again once the request is put right (as at Stripe).
            status, body = self._run(run)
            with self._lock:
                self._state.idempotent[key] = _Stored(method, path, params, status, body)
        finally:
            with self._lock:
                self._state.in_flight.discard(key)
        return status, copy.deepcopy(body), {}

    @staticmethod
    def _run(run: Any) -> tuple[int, dict[str, Any]]:
        body: dict[str, Any] = run()
        return 200, body

    def _create(self, form: dict[str, Any]) -> dict[str, Any]:
        unknown = sorted(set(form) - CREATE_PARAMS)
        if unknown:
            raise StripeApiError(
                400,
                f"Received unknown parameter: {unknown[0]}",
                code="parameter_unknown",
                param=unknown[0],
            )
        mode = _required(form, "mode")
        if mode not in ("payment", "setup", "subscription"):
            raise StripeApiError(
                400,
                "Invalid mode: must be one of payment, setup, or subscription",
                code="parameter_invalid_empty" if mode == "" else None,
                param="mode",
            )
        if mode != "payment":
            raise StripeApiError(400, "This stand-in only makes sessions in payment mode.")
        now = self.now()
        currency, amount = self._line_items(form.get("line_items"))
        minimum = MINIMUM_CHARGE.get(currency)
        if minimum is not None and amount < minimum:
            raise StripeApiError(
                400,
                "The Checkout Session's total amount due must add up to at least "
                f"{minimum / 100:.2f} {currency}",
                param="line_items",
            )
        expires_at = now + _MAX_EXPIRY_S
        if "expires_at" in form:
            expires_at = _integer(form["expires_at"], "expires_at")
            if expires_at - now < _MIN_EXPIRY_S:
                raise StripeApiError(
                    400,
                    "The `expires_at` timestamp must be at least 30 minutes from Checkout "
                    "Session creation.",
                    param="expires_at",
                )
            if expires_at - now > _MAX_EXPIRY_S:
                raise StripeApiError(
                    400,
                    "The `expires_at` timestamp must be less than 24 hours from Checkout "
                    "Session creation.",
                    param="expires_at",
                )
        metadata = form.get("metadata", {})
        if not isinstance(metadata, dict):
            raise StripeApiError(400, "Invalid object", param="metadata")
        for meta_key, meta_value in metadata.items():
            if len(meta_key) > 40 or len(str(meta_value)) > 500:
                raise StripeApiError(400, "Metadata key or value too long", param="metadata")
        email = form.get("customer_email")
        if email is not None and not _EMAIL.match(email):
            raise StripeApiError(
                400, f"Invalid email address: {email}", code="email_invalid", param="customer_email"
            )
        for url_param in ("success_url", "cancel_url"):
            value = form.get(url_param)
            if value is not None and not re.match(r"^https?://[^\s/]+", value):
                raise StripeApiError(400, "Not a valid URL", code="url_invalid", param=url_param)
        reference = form.get("client_reference_id")
        if reference is not None and not 1 <= len(reference) <= 200:
            raise StripeApiError(400, "Invalid client_reference_id", param="client_reference_id")

        session_id = _new_id("cs_test_", 58)
        session = copy.deepcopy(self._template)
        session.update(
            {
                "id": session_id,
                "object": "checkout.session",
                "created": now,
                "expires_at": expires_at,
                "livemode": False,
                "mode": mode,
                "status": "open",
                "payment_status": "unpaid",
                "payment_intent": None,
                "currency": currency,
                "amount_subtotal": amount,
                "amount_total": amount,
                "client_reference_id": reference,
                "customer_email": email,
                "customer_details": None,
                "metadata": {k: str(v) for k, v in metadata.items()},
                "success_url": form.get("success_url"),
                "cancel_url": form.get("cancel_url"),
                "url": f"https://checkout.stripe.com/c/pay/{session_id}#{_new_id('fid', 40)}",
                "total_details": {"amount_discount": 0, "amount_shipping": 0, "amount_tax": 0},
                "shipping_cost": None,
                "shipping_address_collection": None,
                "shipping_options": [],
                "after_expiration": None,
                "collected_information": None,
                "currency_conversion": None,
                "custom_text": {
                    "after_submit": None,
                    "shipping_address": None,
                    "submit": None,
                    "terms_of_service_acceptance": None,
                },
                "consent": None,
                "consent_collection": None,
                "adaptive_pricing": {"enabled": False},
                "managed_payments": {"enabled": False},
                "payment_method_configuration_details": None,
                "payment_method_types": ["card"],
                "locale": form.get("locale"),
                "ui_mode": "hosted",
            }
        )
        session["invoice_creation"]["enabled"] = False
        with self._lock:
            self._state.sessions[session_id] = session
            self._state.order[session_id] = next(self._counter)
            return copy.deepcopy(session)

    @staticmethod
    def _line_items(raw: Any) -> tuple[str, int]:
        if not raw:
            raise StripeApiError(
                400,
                "You must specify either `line_items` or `mode: setup`.",
                code="parameter_missing",
                param="line_items",
            )
        if not isinstance(raw, list):
            raise StripeApiError(400, "Invalid array", param="line_items")
        currencies: set[str] = set()
        total = 0
        for i, line in enumerate(raw):
            where = f"line_items[{i}]"
            if not isinstance(line, dict):
                raise StripeApiError(400, "Invalid object", param=where)
            quantity = _integer(_required(line, "quantity", where), f"{where}[quantity]")
            if quantity < 1:
                raise StripeApiError(
                    400,
                    "This value must be greater than or equal to 1.",
                    param=f"{where}[quantity]",
                )
            price = line.get("price_data")
            if not isinstance(price, dict):
                raise StripeApiError(
                    400,
                    "You must specify either `price` or `price_data` in each line item.",
                    param=where,
                )
            currency = _required(price, "currency", f"{where}[price_data]").lower()
            if not re.fullmatch(r"[a-z]{3}", currency):
                raise StripeApiError(
                    400, f"Invalid currency: {currency}", param=f"{where}[price_data][currency]"
                )
            unit = _integer(
                _required(price, "unit_amount", f"{where}[price_data]"),
                f"{where}[price_data][unit_amount]",
            )
            if unit < 0:
                raise StripeApiError(
                    400,
                    "This value must be greater than or equal to 0.",
                    param=f"{where}[price_data][unit_amount]",
                )
            product = price.get("product_data")
            if not isinstance(product, dict) or not product.get("name"):
                raise StripeApiError(
                    400,
                    "Missing required param: line_items[0][price_data][product_data][name].",
                    code="parameter_missing",
                    param=f"{where}[price_data][product_data][name]",
                )
            currencies.add(currency)
            total += unit * quantity
        if len(currencies) != 1:
            raise StripeApiError(
                400, "All line items must have the same currency.", param="line_items"
            )
        return currencies.pop(), total

    def _retrieve(self, session_id: str) -> dict[str, Any]:
        with self._lock:
            return copy.deepcopy(self._live(session_id))

    def _expire(self, session_id: str, form: dict[str, Any]) -> dict[str, Any]:
        self._only(form, {"expand"})
        with self._lock:
            session = self._live(session_id)
            if session["status"] != "open":
                raise StripeApiError(
                    400,
                    'Only Checkout Sessions with a status in ["open"] can be expired. This '
                    f"Checkout Session has a status of `{session['status']}`.",
                )
            self._mark_expired(session)
            return copy.deepcopy(session)

    def _list(self, query: dict[str, Any]) -> dict[str, Any]:
        self._only(query, LIST_PARAMS)
        limit = _integer(query.get("limit", "10"), "limit")
        if not 1 <= limit <= 100:
            raise StripeApiError(
                400, "This value must be between 1 and 100 (inclusive).", param="limit"
            )
        status = query.get("status")
        if status is not None and status not in ("open", "complete", "expired"):
            raise StripeApiError(400, f"Invalid status: {status}", param="status")
        with self._lock:
            rows = [self._refreshed(s) for s in self._ordered()]
            rows = [s for s in rows if status is None or s["status"] == status]
            if query.get("payment_intent"):
                rows = [s for s in rows if s["payment_intent"] == query["payment_intent"]]
            ids = [s["id"] for s in rows]
            if query.get("starting_after"):
                rows = rows[self._index(ids, query["starting_after"], "starting_after") + 1 :]
            elif query.get("ending_before"):
                end = self._index(ids, query["ending_before"], "ending_before")
                rows = rows[max(0, end - limit) : end]
            page = rows[:limit]
            return {
                "object": "list",
                "data": copy.deepcopy(page),
                "has_more": len(rows) > limit,
                "url": "/v1/checkout/sessions",
            }

    # -- helpers ---------------------------------------------------------------------------

    @staticmethod
    def _index(ids: list[str], session_id: str, param: str) -> int:
        try:
            return ids.index(session_id)
        except ValueError:
            raise StripeApiError(
                400,
                f"No such checkout.session: '{session_id}'",
                code="resource_missing",
                param=param,
            ) from None

    @staticmethod
    def _only(params: dict[str, Any], allowed: set[str] | frozenset[str]) -> None:
        unknown = sorted(set(params) - set(allowed))
        if unknown:
            raise StripeApiError(
                400,
                f"Received unknown parameter: {unknown[0]}",
                code="parameter_unknown",
                param=unknown[0],
            )

    def _ordered(self) -> Iterator[dict[str, Any]]:
        """Newest first, as Stripe lists."""
        for session_id in sorted(self._state.order, key=lambda s: -self._state.order[s]):
            yield self._state.sessions[session_id]

    def _live(self, session_id: str) -> dict[str, Any]:
        session = self._state.sessions.get(session_id)
        if session is None:
            raise StripeApiError(
                404,
                f"No such checkout.session: '{session_id}'",
                code="resource_missing",
                param="session",
            )
        return self._refreshed(session)

    def _refreshed(self, session: dict[str, Any]) -> dict[str, Any]:
        if session["status"] == "open" and self.now() >= session["expires_at"]:
            self._mark_expired(session)
        return session

    @staticmethod
    def _mark_expired(session: dict[str, Any]) -> None:
        session["status"] = "expired"
        session["url"] = None

    @staticmethod
    def _session_template() -> dict[str, Any]:
        with FIXTURES.open(encoding="utf-8") as fh:
            template: dict[str, Any] = json.load(fh)["resources"]["checkout.session"]
        return template

    # -- the HTTP side ---------------------------------------------------------------------

    def _take_fault(self, method: str, path: str) -> Fault | None:
        with self._lock:
            for i, rule in enumerate(self._state.faults):
                if rule.matches(method, path):
                    del self._state.faults[i]
                    return rule.kind
            return None

    def _record(self, request: RecordedRequest) -> None:
        with self._lock:
            self._state.requests.append(request)

    def _authenticate(self, authorization: str | None) -> None:
        if not authorization:
            raise StripeApiError(
                401,
                "You did not provide an API key. You need to provide your API key in the "
                "Authorization header, using Bearer auth (e.g. 'Authorization: Bearer "
                "YOUR_SECRET_KEY'). See https://stripe.com/docs/api#authentication for details, "
                "or we can help at https://support.stripe.com/.",
            )
        scheme, _, token = authorization.partition(" ")
        if scheme != "Bearer" or token != self.api_key:
            shown = token[:8] + "*" * max(0, len(token) - 12) + token[-4:]
            raise StripeApiError(401, f"Invalid API Key provided: {shown}")


def _required(params: dict[str, Any], name: str, where: str = "") -> Any:
    value = params.get(name)
    if value is None:
        full = f"{where}[{name}]" if where else name
        raise StripeApiError(
            400, f"Missing required param: {full}.", code="parameter_missing", param=full
        )
    return value


def _integer(value: Any, param: str) -> int:
    if not isinstance(value, str) or not re.fullmatch(r"-?\d+", value):
        raise StripeApiError(
            400, f"Invalid integer: {value}", code="parameter_invalid_integer", param=param
        )
    return int(value)


def _new_id(prefix: str, length: int) -> str:
    return prefix + "".join(secrets.choice(_ID_CHARS) for _ in range(length))


class _Handler(BaseHTTPRequestHandler):
    owner: StripeStandin
    protocol_version = "HTTP/1.1"
    server_version = "nginx"
    sys_version = ""

    def log_message(self, format: str, *args: Any) -> None:
        pass  # the test output stays quiet; requests are recorded instead

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def do_DELETE(self) -> None:
        self._serve()

    def _serve(self) -> None:
        owner = self.owner
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        raw_body = self.rfile.read(length).decode("utf-8") if length else ""
        headers = {k.lower(): v for k, v in self.headers.items()}
        fault = owner._take_fault(self.command, parts.path)
        try:
            query = decode_form(parse_qsl(parts.query, keep_blank_values=True))
            form = decode_form(parse_qsl(raw_body, keep_blank_values=True))
        except StripeApiError as exc:
            query, form = {}, {}
            decode_error: StripeApiError | None = exc
        else:
            decode_error = None
        owner._record(
            RecordedRequest(self.command, parts.path, query, form, headers, raw_body, fault)
        )
        if fault == "network":
            self.close_connection = True
            return
        if fault == "500":
            self._send(
                500,
                {
                    "error": {
                        "type": "api_error",
                        "message": "An unknown error occurred",
                    }
                },
                {},
            )
            return
        extra: dict[str, str] = {}
        try:
            owner._authenticate(self.headers.get("Authorization"))
            if decode_error is not None:
                raise decode_error
            content_type = self.headers.get("Content-Type", "")
            if self.command == "POST" and raw_body and "x-www-form-urlencoded" not in content_type:
                raise StripeApiError(
                    400, "Invalid request: the body must be application/x-www-form-urlencoded."
                )
            status, body, extra = owner.handle(
                self.command, parts.path, query, form, headers.get("idempotency-key")
            )
        except StripeApiError as exc:
            status, body = exc.status, exc.body
        if fault == "lost_response":
            self.close_connection = True
            return
        self._send(status, body, extra)

    def _send(self, status: int, body: dict[str, Any], extra: dict[str, str]) -> None:
        payload = json.dumps(body, indent=2).encode("utf-8")
        self.send_response(status, HTTPStatus(status).phrase)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("Request-Id", _new_id("req_", 14))
        self.send_header("Stripe-Version", self.headers.get("Stripe-Version", "2026-08-21"))
        key = self.headers.get("Idempotency-Key")
        if key:
            self.send_header("Idempotency-Key", key)
        for name, value in extra.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)
