"""Daphne's WebSocket protocol, letting the application close with the registered codes the
contract has the server send (1008, 1009, 1012).

Written against daphne 4.2.3 and autobahn 26.11.1 (pinned in requirements.txt). Autobahn's
sendClose() admits only 1000 and 3000-4999 from applications, though 1008 and 1012 are registered
codes a server is meant to send; sendCloseFrame() is the step after that check. Upstream:
crossbario/autobahn-python issue 1642 and django/daphne issue 374. Delete this module once
Autobahn accepts the registered codes from applications (tests/test_upstream_contracts.py).
"""

from daphne.ws_protocol import WebSocketProtocol

from tasks_app.realtime.close_codes import REGISTERED_SENT_BY_SERVER


class RegisteredCloseCodesProtocol(WebSocketProtocol):
    # An over-size message fails the connection with a close frame rather than by dropping TCP,
    # so that the client learns the 1009 instead of seeing a broken connection.
    failByDrop = False

    def serverClose(self, code=None):
        if code in REGISTERED_SENT_BY_SERVER and self.state == self.STATE_OPEN:
            self.sendCloseFrame(code=code, isReply=False)
        else:
            super().serverClose(code=code)
