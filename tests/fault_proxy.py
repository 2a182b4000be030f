"""A small TCP proxy that injects the network faults operators meet between the app and Redis or
PostgreSQL: added latency, every connection dropped (and new ones refused for a while, as a
restarting server does), and a stalled link that holds every byte until it is released.
It runs its own event loop in a thread of the test process."""

import asyncio
import threading
from concurrent.futures import Future


class FaultProxy:
    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.latency = 0.0
        self._refusing = False
        self._flowing = asyncio.Event()
        self._links: set[asyncio.StreamWriter] = set()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="fault-proxy", daemon=True)
        self._thread.start()
        self.port = self._call(self._listen())

    def _call(self, coroutine):
        future: Future = asyncio.run_coroutine_threadsafe(coroutine, self._loop)
        return future.result(timeout=10)

    async def _listen(self) -> int:
        self._flowing.set()
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        return self._server.sockets[0].getsockname()[1]

    def url(self, template: str) -> str:
        """`template` with {port} replaced by the proxy's port, e.g. redis://127.0.0.1:{port}/0."""
        return template.format(port=self.port)

    # The faults, called from the test's thread.

    def add_latency(self, seconds: float) -> None:
        self.latency = seconds

    def drop_all(self, *, refuse_for: float = 0.0) -> None:
        """Reset every open connection; refuse new ones for `refuse_for` seconds."""
        self._call(self._drop_all(refuse_for))

    def stall(self) -> None:
        """Hold every byte in both directions; connections stay open."""
        self._loop.call_soon_threadsafe(self._flowing.clear)

    def heal(self) -> None:
        self.latency = 0.0
        self._refusing = False
        self._loop.call_soon_threadsafe(self._flowing.set)

    def close(self) -> None:
        self._call(self._close())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)

    # Inside the proxy's loop.

    async def _drop_all(self, refuse_for: float) -> None:
        if refuse_for:
            self._refusing = True
            self._loop.call_later(refuse_for, setattr, self, "_refusing", False)
        for writer in list(self._links):
            writer.transport.abort()  # a reset, as a crashed server's kernel sends
        self._links.clear()

    async def _close(self) -> None:
        self._server.close()
        await self._drop_all(0)

    async def _accept(self, client_reader, client_writer) -> None:
        if self._refusing:
            client_writer.transport.abort()
            return
        try:
            server_reader, server_writer = await asyncio.open_connection(*self.target)
        except OSError:
            client_writer.transport.abort()
            return
        self._links.update((client_writer, server_writer))
        await asyncio.gather(
            self._pipe(client_reader, server_writer, client_writer),
            self._pipe(server_reader, client_writer, server_writer),
            return_exceptions=True,
        )

    async def _pipe(self, reader, writer, other) -> None:
        try:
            while data := await reader.read(65536):
                if self.latency:
                    await asyncio.sleep(self.latency)
                await self._flowing.wait()
                writer.write(data)
                await writer.drain()
        finally:
            for end in (writer, other):
                self._links.discard(end)
                end.transport.abort()
