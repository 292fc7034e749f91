"""localstripe, a fake but stateful Stripe server, run as a subprocess on a free loopback port.

localstripe serves customers, payment methods, payment intents and refunds, and signs and
delivers the events they raise to the endpoints registered at its ``/_config/webhooks`` API.
It has no Checkout Sessions and no Prices, and it raises no refund or ``charge.*`` events.

It keeps its store in a hard-coded ``/tmp/localstripe.pickle`` (neither TMPDIR nor HOME moves
it), rewritten on every change and read back at start unless ``--from-scratch``. Servers here
start from scratch and keep their store in memory only (see ``_LAUNCH``), so servers of parallel
runs, or of other users on the machine, never see or block each other's objects.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import re
import socket
import subprocess
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

import httpx
import stripe

PIN = "localstripe==1.15.10"
API_KEY = "sk_test_printdesk_localstripe"
# Its delivery log line, written by localstripe.webhooks to the aiohttp.access logger.
_DELIVERY = re.compile(
    r'^webhook "(?P<type>[^"]+)" '
    r"(?:(?P<ok>successfully delivered)"
    r"|failed with response code (?P<status>\d+)"
    r"|failed: (?P<err>.*))$"
)

# localstripe's own entry point, with the store's pickling to the shared file turned off: a file
# another user made there would fail every write with PermissionError, and runs never read it.
_LAUNCH = """
import localstripe.resources, localstripe.server
assert hasattr(localstripe.resources.Store, "dump_to_disk"), "localstripe changed: see its pin"
localstripe.resources.Store.dump_to_disk = lambda self: None
localstripe.server.start()
"""


def installed() -> bool:
    return importlib.util.find_spec("localstripe") is not None


@dataclass(frozen=True)
class Delivery:
    """One event localstripe posted to one webhook endpoint, as its log tells it."""

    event_type: str
    delivered: bool  # the endpoint answered 2xx
    status: int | None  # the refusing endpoint's HTTP status; None when delivered or unreachable
    error: str | None  # why the endpoint could not be reached


def _free_port() -> int:
    # localstripe listens on "::" (IPv4 mapped in): ask that family for a port nobody holds.
    family, host = (socket.AF_INET6, "::") if socket.has_ipv6 else (socket.AF_INET, "127.0.0.1")
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


class LocalStripe:
    """One localstripe process: ``with LocalStripe(tmp_path) as server: server.client()...``."""

    def __init__(self, work_dir: Path, *, start_timeout_s: float = 30.0) -> None:
        self.work_dir = work_dir
        self.log_path = work_dir / "localstripe.log"
        self.api_key = API_KEY
        self.port = 0
        self._start_timeout_s = start_timeout_s
        self._proc: subprocess.Popen[str] | None = None
        self._readers: list[threading.Thread] = []
        # Delivery attempts as localstripe logs them, parsed as the lines arrive; waiters are
        # woken by each one.
        self._deliveries: list[Delivery] = []
        self._logged = threading.Condition()
        self._clients: list[stripe.HTTPClient] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> LocalStripe:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def start(self, attempts: int = 3) -> None:
        """Start the server and return once it answers an API request."""
        self.work_dir.mkdir(parents=True, exist_ok=True)
        failures: list[str] = []
        for _ in range(attempts):  # another process may take the free port before it binds
            if self._spawn(_free_port()):
                self._check_answers()
                return
            failures.append(self.log_text()[-500:])
        raise RuntimeError("localstripe did not start:\n" + "\n---\n".join(failures))

    def _spawn(self, port: int) -> bool:
        listening, settled = threading.Event(), threading.Event()
        proc = subprocess.Popen(
            [sys.executable, "-c", _LAUNCH, "--port", str(port), "--from-scratch"],
            cwd=self.work_dir,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

        def read_stdout() -> None:
            # aiohttp prints "======== Running on http://[::]:PORT ========" once it listens.
            assert proc.stdout is not None
            for line in proc.stdout:
                if "Running on" in line:
                    listening.set()
                    settled.set()
            settled.set()  # end of output: it exited (a taken port, a broken install)

        readers = [
            threading.Thread(target=read_stdout, daemon=True),
            threading.Thread(target=self._read_log, args=(proc,), daemon=True),
        ]
        for reader in readers:
            reader.start()
        if settled.wait(self._start_timeout_s) and listening.is_set():
            self._proc, self._readers, self.port = proc, readers, port
            return True
        self._end(proc)
        self._close(proc, readers)
        return False

    def _read_log(self, proc: subprocess.Popen[str]) -> None:
        """Keep localstripe's log (stderr) in the log file and note each delivery attempt."""
        assert proc.stderr is not None
        with self.log_path.open("a", encoding="utf-8") as log:
            for line in proc.stderr:
                log.write(line)
                log.flush()
                match = _DELIVERY.match(line.strip())
                if match is None:
                    continue
                with self._logged:
                    self._deliveries.append(
                        Delivery(
                            event_type=match["type"],
                            delivered=match["ok"] is not None,
                            status=int(match["status"]) if match["status"] else None,
                            error=match["err"],
                        )
                    )
                    self._logged.notify_all()

    @staticmethod
    def _close(proc: subprocess.Popen[str], readers: list[threading.Thread]) -> None:
        for reader in readers:
            reader.join(5)
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()

    def _check_answers(self) -> None:
        reply = httpx.get(
            f"{self.url}/v1/customers",
            headers={"Authorization": f"Bearer {self.api_key}"},
            timeout=10,
        )
        reply.raise_for_status()

    @staticmethod
    def _end(proc: subprocess.Popen[str]) -> None:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(10)

    def stop(self) -> None:
        for http in self._clients:
            http.close()
        self._clients.clear()
        if self._proc is not None:
            self._end(self._proc)
            self._close(self._proc, self._readers)
            self._proc, self._readers = None, []

    def client(self) -> stripe.StripeClient:
        """The real stripe library pointed at this server, set up as PrintDesk's gateway is."""
        http = stripe.RequestsClient(timeout=10)
        self._clients.append(http)
        return stripe.StripeClient(
            self.api_key,
            base_addresses={"api": self.url},
            max_network_retries=0,
            http_client=http,
        )

    def register_webhook(
        self, name: str, url: str, secret: str, events: list[str] | None = None
    ) -> None:
        """Sign every later event (or only ``events``) with ``secret`` and post it to ``url``."""
        body: dict[str, object] = {"url": url, "secret": secret}
        if events is not None:
            body["events"] = events
        httpx.post(f"{self.url}/_config/webhooks/{name}", json=body, timeout=10).raise_for_status()

    def log_text(self) -> str:
        with contextlib.suppress(FileNotFoundError):
            return self.log_path.read_text(encoding="utf-8", errors="replace")
        return ""

    def deliveries(self, event_type: str | None = None) -> list[Delivery]:
        """Every delivery attempt so far, oldest first (localstripe tries each one once)."""
        with self._logged:
            return [d for d in self._deliveries if event_type in (None, d.event_type)]

    def wait_for_deliveries(
        self, count: int, event_type: str | None = None, *, timeout_s: float = 30.0
    ) -> list[Delivery]:
        """The first ``count`` delivery attempts (of ``event_type``) once localstripe made them."""
        with self._logged:
            if self._logged.wait_for(
                lambda: len(self.deliveries(event_type)) >= count, timeout=timeout_s
            ):
                return self.deliveries(event_type)[:count]
        what = f"{count} deliveries" + (f" of {event_type}" if event_type else "")
        raise AssertionError(
            f"Timed out after {timeout_s:g} s waiting for localstripe to log {what}."
        )
