"""Who is on the other end of a WebSocket handshake: the session's user, or an API token's, and
whether the page that opened it may use the session (its Origin)."""

import logging

from channels.auth import AuthMiddleware
from channels.sessions import CookieMiddleware, InstanceSessionWrapper

from django.contrib.auth.models import AnonymousUser

from tasks_app import metrics
from tasks_app.access import api_tokens
from tasks_app.access.credentials import Credentials
from tasks_app.access.origins import origin_allowed
from tasks_app.access.sessions import session_user
from tasks_app.db.threads import consumer_database
from tasks_app.realtime.close_codes import CloseCode

logger = logging.getLogger(__name__)

SUBPROTOCOL_PREFIX = "bearer."


def websocket_auth_stack(inner):
    """The session (cookie), its user, then the token and Origin checks, around `inner`."""
    return CookieMiddleware(WebSocketSessionMiddleware(SessionUserMiddleware(HandshakeAuthMiddleware(inner))))


class WebSocketSessionMiddleware:
    """Channels' SessionMiddleware, but that the messages a consumer sends go straight to the
    server: Channels wraps them to save a modified session on `http.response.start`, which a
    WebSocket never sends, and the wrapper read the session's state on every frame."""

    def __init__(self, inner) -> None:
        self.inner = inner

    async def __call__(self, scope, receive, send):
        wrapper = InstanceSessionWrapper(scope, send)
        await wrapper.resolve_session()
        return await self.inner(wrapper.scope, receive, send)


class SessionUserMiddleware(AuthMiddleware):
    """Channels' AuthMiddleware, resolving the session's user with session_user() on the
    consumers' database threads (db/threads.py) rather than on Channels' one thread."""

    async def resolve_scope(self, scope):
        scope["user"]._wrapped = await consumer_database(session_user)(scope["session"])


class HandshakeAuthMiddleware:
    """Inside SessionUserMiddleware (which resolves the session user first). A token, in
    `Authorization: Bearer` or the subprotocol `bearer.<token>`, replaces the session user, and an
    invalid one leaves the connection unauthenticated (4401) rather than falling back to the
    session. A foreign Origin, or none with the session, is accepted and closed at once with 1008,
    which a browser can see and a refused handshake it cannot."""

    def __init__(self, inner) -> None:
        self.inner = inner

    async def __call__(self, scope, receive, send):
        scope = dict(scope)
        authorization, origin = _authorization_and_origin(scope["headers"])
        token, subprotocol = _websocket_token(authorization, scope.get("subprotocols", []))
        if token is not None:
            record = await consumer_database(api_tokens.api_token_use)(token=token)
            scope["user"] = record.user if record is not None else AnonymousUser()
            scope["credentials"] = Credentials(
                method="token",
                user_id=record.user_id if record else None,
                token_id=record.pk if record else None,
                subprotocol=subprotocol,
            )
        else:
            user = scope.get("user")
            scope["credentials"] = Credentials(
                method="session",
                user_id=user.pk if user is not None and user.is_authenticated else None,
                session_key=scope["session"].session_key if "session" in scope else None,
            )
        if (origin is None and token is None) or (origin is not None and not origin_allowed(origin)):
            logger.info("WebSocket %s refused: origin %r not allowed", scope["path"], origin)
            metrics.ERRORS.labels(str(CloseCode.POLICY_VIOLATION)).inc()
            return await _close_for_policy(receive, send, subprotocol)
        return await self.inner(scope, receive, send)


def _authorization_and_origin(headers) -> tuple[str | None, str | None]:
    """The two headers read here, the last of each if repeated. Not a dict of them all: this
    frame lives as long as the socket, and such a dict cost 1.2 KB a connection."""
    authorization = origin = None
    for name, value in headers:
        name = name.lower()
        if name == b"authorization":
            authorization = value.decode("latin-1")
        elif name == b"origin":
            origin = value.decode("latin-1")
    return authorization, origin


def _websocket_token(authorization: str | None, subprotocols: list[str]) -> tuple[str | None, str | None]:
    """(token, subprotocol to accept): the header first, then a `bearer.<token>` subprotocol."""
    token = api_tokens.bearer_token(authorization)
    if token is not None:
        return token, None
    for subprotocol in subprotocols:
        if subprotocol.startswith(SUBPROTOCOL_PREFIX) and len(subprotocol) > len(SUBPROTOCOL_PREFIX):
            return subprotocol[len(SUBPROTOCOL_PREFIX) :], subprotocol
    return None, None


async def _close_for_policy(receive, send, subprotocol: str | None) -> None:
    message = await receive()
    if message["type"] == "websocket.connect":
        await send({"type": "websocket.accept", "subprotocol": subprotocol})
        await send({"type": "websocket.close", "code": int(CloseCode.POLICY_VIOLATION)})
