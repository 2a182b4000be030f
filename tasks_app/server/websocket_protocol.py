"""Daphne's WebSocket protocol, letting the application close with the registered codes the
contract has the server send (1008, 1009, 1012, 1013), and bounding what waits for a slow reader.

Written against daphne 4.2.3 and autobahn 26.11.1 (pinned in requirements.txt). Autobahn's
sendClose() admits only 1000 and 3000-4999 from applications, though 1008 and 1012 are registered
codes a server is meant to send; sendCloseFrame() is the step after that check. Upstream:
crossbario/autobahn-python issue 1642 and django/daphne issue 374. Delete this module once
Autobahn accepts the registered codes from applications (tests/test_upstream_contracts.py).
"""

import logging

from daphne.ws_protocol import WebSocketProtocol

from django.conf import settings

from tasks_app.realtime.close_codes import REGISTERED_SENT_BY_SERVER, CloseCode

logger = logging.getLogger(__name__)


class RegisteredCloseCodesProtocol(WebSocketProtocol):
    # An over-size message fails the connection with a close frame rather than by dropping TCP,
    # so that the client learns the 1009 instead of seeing a broken connection.
    failByDrop = False

    def serverSend(self, content, binary=False):
        """Send, unless the client has let more than TASKPULSE_WS_MAX_QUEUED_BYTES pile up unread
        (a phone in a tunnel): then the socket is closed with 1013, and the client resumes from its
        last seq once it reads again. Without this, a client that stops reading but still answers
        TCP would hold its backlog in the server's memory until the ping timeout, or longer.

        A message for a socket already closing is dropped, as the client resumes from its last seq
        on its next connection: Autobahn would raise it into the consumer instead, ending the
        consumer before its disconnect handler releases the user's connection slot (a pong to a
        ping that crossed a server's 1012 did so 663 times in a 5,000-client restart storm)."""
        if self.state != self.STATE_OPEN:
            return
        queued = _queued_bytes(self.transport)
        if queued > settings.TASKPULSE_WS_MAX_QUEUED_BYTES:
            logger.info("Closing a WebSocket whose client fell %d bytes behind", queued)
            self.serverClose(code=CloseCode.TRY_AGAIN_LATER)
            return
        super().serverSend(content, binary)

    def serverClose(self, code=None):
        if code in REGISTERED_SENT_BY_SERVER and self.state == self.STATE_OPEN:
            self.sendCloseFrame(code=code, isReply=False)
        else:
            super().serverClose(code=code)


def _queued_bytes(transport) -> int:
    """What Twisted holds for the socket, written by the application but not yet by the kernel
    (the names tests/test_upstream_contracts.py checks)."""
    return len(transport.dataBuffer) - transport.offset + transport._tempDataLen
