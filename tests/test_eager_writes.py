"""The server's TCP transport sends at once when nothing is queued, and otherwise queues in order
as Twisted does. A real socket pair; a stand-in for the reactor that records what it is asked."""

import socket

import pytest

from tasks_app.server.eager_writes import EagerWriteServer


class Reactor:
    def __init__(self) -> None:
        self.writers = []

    def addReader(self, reader) -> None:
        pass

    def addWriter(self, writer) -> None:
        if writer not in self.writers:
            self.writers.append(writer)

    def removeWriter(self, writer) -> None:
        if writer in self.writers:
            self.writers.remove(writer)


class Protocol:
    pass


@pytest.fixture
def sockets():
    server_side, client_side = socket.socketpair()
    server_side.setblocking(False)
    server_side.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
    client_side.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    client_side.settimeout(2)
    yield server_side, client_side
    server_side.close()
    client_side.close()


def transport_on(server_side, reactor) -> EagerWriteServer:
    return EagerWriteServer(server_side, Protocol(), ("127.0.0.1", 1), None, 1, reactor)


def test_a_write_with_nothing_queued_is_sent_at_once_without_waiting_for_the_reactor(sockets):
    server_side, client_side = sockets
    reactor = Reactor()

    transport_on(server_side, reactor).write(b"a frame")

    assert client_side.recv(100) == b"a frame"
    assert reactor.writers == []


def test_what_the_socket_does_not_take_is_queued_and_later_writes_wait_behind_it_in_order(sockets):
    server_side, client_side = sockets
    reactor = Reactor()
    transport = transport_on(server_side, reactor)
    big = bytes(range(256)) * 4096  # far more than the socket buffers

    transport.write(big)
    transport.write(b"after")

    assert reactor.writers == [transport]  # asked to be told when the socket can take more
    client_side.setblocking(False)
    received = b""
    while len(received) < len(big) + len(b"after"):
        transport.doWrite()  # as the reactor does when the socket can take more
        try:
            received += client_side.recv(65536)
        except BlockingIOError:
            pass
    assert received == big + b"after"
    assert reactor.writers == []  # nothing left to wait for
