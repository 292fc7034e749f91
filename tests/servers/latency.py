"""A TCP proxy on loopback that holds every chunk ``delay_ms`` in each direction.

Put it in front of a local PostgreSQL (or pgbouncer) and the server behaves like a cloud
database ``2 × delay_ms`` away: each round trip costs that much, while pipelined bytes still
flow (chunks are delayed, not serialised). Runs its own asyncio loop in one thread; it accepts
only loopback targets and at most ``max_connections`` clients at once, and `stop()` closes
everything.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import socket
import threading
from types import TracebackType

from tests.servers._proc import LOOPBACK, ServerError

_CHUNK = 64 * 1024


class LatencyProxy:
    """``with LatencyProxy(target_port, delay_ms=30) as proxy: connect to proxy.port``."""

    def __init__(
        self,
        target_port: int,
        *,
        delay_ms: float = 30.0,
        target_host: str = LOOPBACK,
        max_connections: int = 256,
    ) -> None:
        if not ipaddress.ip_address(socket.gethostbyname(target_host)).is_loopback:
            raise ServerError(f"the latency proxy only forwards to loopback, not {target_host}")
        self.target = (target_host, target_port)
        self.delay_ms = delay_ms
        self.host = LOOPBACK
        self.port = 0
        self.max_connections = max_connections
        self.accepted = 0  # connections taken so far (a bench can count reconnects)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._ready = threading.Event()

    # ------------------------------------------------------------------ life cycle

    def start(self) -> LatencyProxy:
        if self._thread is not None:
            return self
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._serve, name="latency-proxy", daemon=True)
        self._thread.start()
        if not self._ready.wait(10) or self._server is None:
            raise ServerError("the latency proxy did not start")
        return self

    def _serve(self) -> None:
        assert self._loop is not None
        asyncio.set_event_loop(self._loop)
        self._server = self._loop.run_until_complete(
            asyncio.start_server(self._client, self.host, 0, limit=_CHUNK)
        )
        self.port = int(self._server.sockets[0].getsockname()[1])
        self._ready.set()
        try:
            self._loop.run_forever()
        finally:
            self._loop.close()

    def stop(self) -> None:
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        asyncio.run_coroutine_threadsafe(self._shutdown(), loop).result(timeout=10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
        self._loop = self._thread = None

    async def _shutdown(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        self._close_all()
        tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def close_connections(self) -> None:
        """Cut every open connection (both sides), as a network drop would."""
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._close_all)

    def _close_all(self) -> None:
        for writer in list(self._writers):
            writer.close()
        self._writers.clear()

    def __enter__(self) -> LatencyProxy:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def open_connections(self) -> int:
        return len(self._writers) // 2

    def url(self, database: str, *, user: str = "postgres", driver: str | None = "psycopg") -> str:
        scheme = f"postgresql+{driver}" if driver else "postgresql"
        return f"{scheme}://{user}@{self.host}:{self.port}/{database}"

    # ------------------------------------------------------------------ forwarding

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.open_connections >= self.max_connections:
            writer.close()
            return
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target, limit=_CHUNK)
        except OSError:
            writer.close()
            return
        self.accepted += 1
        self._writers.update((writer, up_writer))
        try:
            await asyncio.gather(self._pump(reader, up_writer), self._pump(up_reader, writer))
        except asyncio.CancelledError:
            pass  # stopping: asyncio's own callback would report a cancelled client as an error
        finally:
            for w in (writer, up_writer):
                self._writers.discard(w)
                w.close()

    async def _pump(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Read chunks as they come; deliver each ``delay_ms`` after it arrived, in order."""
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()

        async def deliver() -> None:
            while True:
                due, data = await queue.get()
                if not data:
                    break
                wait = due - loop.time()
                if wait > 0:
                    await asyncio.sleep(wait)
                writer.write(data)
                await writer.drain()
            with contextlib.suppress(OSError):
                if writer.can_write_eof():
                    writer.write_eof()

        sender = asyncio.create_task(deliver())
        try:
            while True:
                data = await reader.read(_CHUNK)
                queue.put_nowait((loop.time() + self.delay_ms / 1000, data))
                if not data:
                    break
            await sender
        except (OSError, asyncio.IncompleteReadError):
            sender.cancel()
        finally:
            if not sender.done():
                sender.cancel()
