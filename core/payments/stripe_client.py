"""The one door to Stripe: a small gateway over the stripe library's StripeClient, in shop terms.

Everything that talks to Stripe's API goes through a `StripeGateway` built once (from the
config, or in tests against the Checkout stand-in) and handed down; there is no global key.
Stripe's exceptions become `ServiceError`s whose message staff can read as it is.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TypeVar, cast

import stripe
from stripe.params.checkout import SessionCreateParams, SessionListParams

from core.config import AppConfig
from core.errors import ServiceError

CheckoutStatus = Literal["open", "complete", "expired"]
T = TypeVar("T")


class PaymentProviderError(ServiceError):
    """Stripe is off, unreachable or refused a request; the message says which."""


class StripeNotConfigured(PaymentProviderError):
    def __init__(self, config_file: Path | None = None) -> None:
        # The config file never holds the key (core.secrets): the message names where it goes.
        del config_file
        super().__init__(
            "Stripe is not set up, so no payment link can be made. Enter the secret key "
            "(sk_live_… or sk_test_…) in Settings → Payments, or keep it with `printdesk "
            "secrets set stripe-secret-key` (or in the STRIPE_SECRET_KEY environment variable)."
        )


class StripeUnavailable(PaymentProviderError):
    """Stripe could not be reached or failed on its side; trying again later may work."""


class StripeRejected(PaymentProviderError):
    """Stripe answered and refused the request (a bad key, a bad parameter, a state rule)."""

    def __init__(self, message: str, *, http_status: int | None, code: str | None) -> None:
        super().__init__(message)
        self.http_status = http_status
        self.code = code


class StripeNotFound(StripeRejected):
    """Stripe does not know the object (made under another account, or test vs live mode)."""


class StripeKeyReused(StripeRejected):
    """An Idempotency-Key came back with other parameters (Stripe's idempotency_error)."""


def _at(epoch: int | None) -> dt.datetime | None:
    return None if epoch is None else dt.datetime.fromtimestamp(epoch, tz=dt.UTC)


@dataclass(frozen=True)
class CheckoutSession:
    """What PrintDesk needs of a Checkout Session, plus the JSON exactly as Stripe sent it."""

    id: str
    status: CheckoutStatus
    payment_status: str
    url: str | None
    amount_total: int | None
    currency: str | None
    created: dt.datetime
    expires_at: dt.datetime
    payment_intent: str | None
    client_reference_id: str | None
    metadata: Mapping[str, str]
    raw: dict[str, Any] = field(repr=False)
    replayed: bool = False  # the answer was Stripe replaying an earlier request's result

    @property
    def is_open(self) -> bool:
        return self.status == "open"

    @property
    def is_paid(self) -> bool:
        return self.status == "complete" and self.payment_status == "paid"

    @property
    def invoice_id(self) -> int | None:
        value = self.metadata.get("invoice_id", "")
        return int(value) if value.isdigit() else None

    @classmethod
    def from_json(cls, raw: Mapping[str, Any], *, replayed: bool = False) -> CheckoutSession:
        intent = raw.get("payment_intent")
        if isinstance(intent, Mapping):  # expanded
            intent = intent.get("id")
        created = _at(raw.get("created"))
        expires = _at(raw.get("expires_at"))
        assert created is not None and expires is not None, "a Checkout Session has both"
        plain = _plain(raw)
        return cls(
            id=str(raw["id"]),
            status=raw["status"],
            payment_status=str(raw.get("payment_status") or ""),
            url=raw.get("url"),
            amount_total=raw.get("amount_total"),
            currency=raw.get("currency"),
            created=created,
            expires_at=expires,
            payment_intent=intent,
            client_reference_id=raw.get("client_reference_id"),
            metadata=dict(raw.get("metadata") or {}),
            raw=plain,
            replayed=replayed,
        )


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


@dataclass(frozen=True)
class NewCheckout:
    """One Checkout Session for one amount, in the shop's terms."""

    amount_cents: int
    currency: str
    product_name: str
    metadata: Mapping[str, str]
    client_reference_id: str
    customer_email: str | None
    expires_at: dt.datetime
    success_url: str
    cancel_url: str


class StripeGateway:
    """Checkout Sessions at Stripe; built without a key it is "off" and says how to turn it on."""

    def __init__(
        self,
        secret_key: str | None,
        *,
        api_base: str | None = None,
        success_url: str = "https://example.com/paid?invoice={INVOICE_NUMBER}",
        cancel_url: str = "https://example.com/cancelled?invoice={INVOICE_NUMBER}",
        max_network_retries: int = 2,
        timeout_s: float = 30.0,
        config_file: Path | None = None,
    ) -> None:
        self.success_url_template = success_url
        self.cancel_url_template = cancel_url
        self._config_file = config_file
        self._http: stripe.HTTPClient | None = None
        self._client: stripe.StripeClient | None = None
        key = (secret_key or "").strip()
        if key:
            self._http = stripe.RequestsClient(timeout=timeout_s)
            self._client = stripe.StripeClient(
                key,
                base_addresses={"api": api_base} if api_base else None,
                max_network_retries=max_network_retries,
                http_client=self._http,
            )

    @classmethod
    def from_config(cls, config: AppConfig, **options: Any) -> StripeGateway:
        return cls(
            config.stripe_secret_key,
            api_base=config.stripe_api_base,
            success_url=config.checkout_success_url,
            cancel_url=config.checkout_cancel_url,
            config_file=config.config_file,
            **options,
        )

    @property
    def configured(self) -> bool:
        return self._client is not None

    def require_configured(self) -> None:
        if self._client is None:
            raise StripeNotConfigured(self._config_file)

    def close(self) -> None:
        if self._http is not None:
            self._http.close()  # type: ignore[no-untyped-call]

    def _stripe(self) -> stripe.StripeClient:
        self.require_configured()
        assert self._client is not None
        return self._client

    # -- Checkout Sessions -----------------------------------------------------------------

    def create_checkout_session(self, new: NewCheckout, *, idempotency_key: str) -> CheckoutSession:
        params: SessionCreateParams = {
            "mode": "payment",
            "line_items": [
                {
                    "quantity": 1,
                    "price_data": {
                        "currency": new.currency.lower(),
                        "unit_amount": new.amount_cents,
                        "product_data": {"name": new.product_name},
                    },
                }
            ],
            "metadata": dict(new.metadata),
            "client_reference_id": new.client_reference_id,
            "expires_at": int(new.expires_at.timestamp()),
            "success_url": new.success_url,
            "cancel_url": new.cancel_url,
        }
        if new.customer_email:
            params["customer_email"] = new.customer_email
        return self._session(
            "make a payment link",
            lambda c: c.v1.checkout.sessions.create(params, {"idempotency_key": idempotency_key}),
        )

    def retrieve_checkout_session(self, session_id: str) -> CheckoutSession:
        return self._session(
            "look up the payment link", lambda c: c.v1.checkout.sessions.retrieve(session_id)
        )

    def expire_checkout_session(self, session_id: str) -> CheckoutSession:
        """Expire an open session; one that is no longer open is returned as Stripe has it."""
        try:
            return self._session(
                "cancel the payment link", lambda c: c.v1.checkout.sessions.expire(session_id)
            )
        except StripeRejected as exc:
            if exc.http_status != 400:
                raise
            # Stripe refuses to expire a session that is no longer open (expired, or paid):
            # then its state is the answer.
            current = self.retrieve_checkout_session(session_id)
            if current.is_open:
                raise
            return current

    def list_checkout_sessions(
        self, *, status: CheckoutStatus | None = None, page_size: int = 100
    ) -> Iterator[CheckoutSession]:
        """Every session, newest first, following Stripe's pages."""
        after: str | None = None
        while True:
            params: SessionListParams = {"limit": page_size}
            if status is not None:
                params["status"] = status
            if after is not None:
                params["starting_after"] = after
            page = self._request("list payment links", _lister(params))
            for item in page.data:
                yield CheckoutSession.from_json(item.to_dict())
            if not page.has_more or not page.data:
                return
            after = page.data[-1].id

    # -- errors ----------------------------------------------------------------------------

    def _session(
        self, what: str, request: Callable[[stripe.StripeClient], stripe.checkout.Session]
    ) -> CheckoutSession:
        result = self._request(what, request)
        response = result.last_response
        if response is None:
            return CheckoutSession.from_json(result.to_dict())
        replayed = response.headers.get("Idempotent-Replayed") == "true"
        return CheckoutSession.from_json(cast(Mapping[str, Any], response.data), replayed=replayed)

    def _request(self, what: str, request: Callable[[stripe.StripeClient], T]) -> T:
        client = self._stripe()
        try:
            return request(client)
        except stripe.IdempotencyError as exc:
            raise StripeKeyReused(
                f"Stripe could not {what}: {exc.user_message}",
                http_status=exc.http_status,
                code=exc.code,
            ) from exc
        except stripe.AuthenticationError as exc:
            raise StripeRejected(
                f"Stripe refused the secret key ({exc.user_message}). Check the key in "
                "Settings → Payments (or STRIPE_SECRET_KEY where the environment sets it).",
                http_status=exc.http_status,
                code=exc.code,
            ) from exc
        except stripe.APIConnectionError as exc:
            raise StripeUnavailable(
                f"Stripe could not be reached to {what} ({_cause(exc)}). Check the internet "
                "connection and try again."
            ) from exc
        except stripe.StripeError as exc:
            status = exc.http_status
            if status is None or status >= 500 or status == 429:
                raise StripeUnavailable(
                    f"Stripe could not {what} just now (HTTP {status}: "
                    f"{exc.user_message or 'no detail'}). Try again in a moment."
                ) from exc
            refusal = StripeNotFound if status == 404 else StripeRejected
            raise refusal(
                f"Stripe refused to {what}: {exc.user_message or 'no detail'}",
                http_status=status,
                code=exc.code,
            ) from exc


def _lister(
    params: SessionListParams,
) -> Callable[[stripe.StripeClient], stripe.ListObject[stripe.checkout.Session]]:
    def request(client: stripe.StripeClient) -> stripe.ListObject[stripe.checkout.Session]:
        return client.v1.checkout.sessions.list(params)

    return request


def _cause(exc: stripe.APIConnectionError) -> str:
    """The network error's last line, without the library's support boilerplate."""
    text = (exc.user_message or "").strip()
    marker = "(Network error:"
    if marker in text:
        text = text[text.index(marker) + len(marker) :].rstrip(")").strip()
    return text.splitlines()[0] if text else "no answer"
