"""Twisted's TCP server transport, writing at once what it is given when nothing waits to be sent.

Written against Twisted 26.10.0 (pinned in requirements.txt); it reads tcp.Server's private write
buffers (dataBuffer, offset, _tempDataBuffer, _writeDisconnected), which
tests/test_upstream_contracts.py checks. Upstream: twisted/twisted issue 5303 ("Default transport
implementation doesn't write out bytes immediately"). Delete this module once Twisted writes at
once when nothing is queued.

Twisted buffers every write and asks the event loop to report the socket writable, which on
Daphne's asyncio reactor is an epoll change to register the socket and another to unregister it,
per message per socket: under fan-out, the largest share of the server's CPU (docs/performance.md).
asyncio's own transports, and so Uvicorn, send at once when their buffer is empty and buffer only
what the socket does not take; this does the same. What is left, and every write while something
is queued, takes Twisted's path, so order, back-pressure and connection loss are Twisted's.
"""

from twisted.internet import tcp


class EagerWriteServer(tcp.Server):
    def write(self, data: bytes) -> None:
        if (
            data
            and not self.TLS
            and self.connected
            and not self._writeDisconnected
            and self._nothing_queued()
        ):
            sent = self.writeSomeData(data)
            if isinstance(sent, int) and sent > 0:
                data = data[sent:]
            # A lost connection (an exception returned) is left for Twisted's write to find.
        super().write(data)

    def _nothing_queued(self) -> bool:
        return len(self.dataBuffer) == self.offset and not self._tempDataBuffer


def install() -> None:
    """Make every TCP port this process listens on from now on use the eager transport."""
    tcp.Port.transport = EagerWriteServer
