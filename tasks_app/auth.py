"""Who is on the other end of a WebSocket handshake or an HTTP request (the session, or an API
token), whether the page that opened it may (its Origin), and whether that still holds later.

Browsers authenticate with the session cookie, which they send on their own to any site's
request: the Origin check is what stops another site's page from using it. Scripts send an API
token, which no browser adds by itself, so a token needs no Origin (scripts send none).
"""

import logging
from dataclasses import dataclass
from functools import cache
from inspect import iscoroutinefunction
from urllib.parse import urlsplit

from channels.auth import AuthMiddleware
from channels.sessions import CookieMiddleware, InstanceSessionWrapper

from django.conf import settings
from django.contrib.auth import (
    BACKEND_SESSION_KEY,
    HASH_SESSION_KEY,
    SESSION_KEY,
    get_user_model,
    load_backend,
)
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest, JsonResponse
from django.http.request import split_domain_port, validate_host
from django.utils.crypto import constant_time_compare
from django.utils.decorators import sync_and_async_middleware

from tasks_app import api_tokens, metrics
from tasks_app.db_connections import consumer_database
from tasks_app.sql_reads import ModelReader

logger = logging.getLogger(__name__)

CLOSE_POLICY_VIOLATION = 1008
SUBPROTOCOL_PREFIX = "bearer."
# HTTP paths where `Authorization: Bearer` counts: the API and SSE, not the pages or the admin,
# so a staff member's token cannot drive the admin.
_TOKEN_PATHS = ("/api/", "/sse/")
# What a browser sends in Sec-Fetch-Site when it may use the session: a page of this site, or the
# user opening the URL themselves.
_SAME_SITE_FETCHES = frozenset({"same-origin", "none"})


@dataclass(frozen=True)
class Credentials:
    """How a connection authenticated, kept to check later that it still may."""

    method: str  # "session" or "token"
    user_id: int | None
    session_key: str | None = None
    token_id: int | None = None
    subprotocol: str | None = None  # the WebSocket subprotocol the token came in, to accept


def origin_allowed(origin: str | None) -> bool:
    """The Origin names one of ALLOWED_HOSTS (any port), over http or https."""
    if not origin:
        return False
    parsed = urlsplit(origin)
    if parsed.scheme not in {"http", "https"} or not parsed.netloc:
        return False
    host, _port = split_domain_port(parsed.netloc)
    allowed = settings.ALLOWED_HOSTS
    if settings.DEBUG and not allowed:
        allowed = [".localhost", "127.0.0.1", "[::1]"]  # as Django itself allows in DEBUG
    return bool(host) and validate_host(host, allowed)


def request_origin_allowed(request: HttpRequest) -> bool:
    """For long-lived GETs (SSE), which Django's CSRF check leaves alone. Same-origin GETs carry
    no Origin, so for the session the browser's Sec-Fetch-Site stands in for it."""
    origin = request.headers.get("Origin")
    if origin is not None:
        return origin_allowed(origin)
    if getattr(request, "credentials", None) is not None and request.credentials.method == "token":
        return True
    return request.headers.get("Sec-Fetch-Site") in _SAME_SITE_FETCHES


def request_credentials(request: HttpRequest, user) -> Credentials:
    existing = getattr(request, "credentials", None)
    if existing is not None:
        return existing
    return Credentials(method="session", user_id=user.pk, session_key=request.session.session_key)


class SessionUserMiddleware(AuthMiddleware):
    """Channels' AuthMiddleware, resolving the session's user with session_user() on the
    consumers' database threads (see db_connections.py) rather than on Channels' one thread."""

    async def resolve_scope(self, scope):
        scope["user"]._wrapped = await consumer_database(session_user)(scope["session"])


def session_user(session):
    """The session's user, or AnonymousUser: Channels' get_user (which is Django's), step for step,
    but that the user of Django's own ModelBackend is read with SQL made once (sql_reads.py).
    Every WebSocket connect reads it, and the ORM's build of that one query was a tenth of a
    connect's cost. A backend with a get_user of its own is asked as Channels asks it."""
    try:
        user_id = get_user_model()._meta.pk.to_python(session[SESSION_KEY])
        backend_path = session[BACKEND_SESSION_KEY]
    except KeyError:
        return AnonymousUser()
    if backend_path not in settings.AUTHENTICATION_BACKENDS:
        return AnonymousUser()
    backend = load_backend(backend_path)
    user = _backend_user(backend, user_id)
    if hasattr(user, "get_session_auth_hash"):
        session_hash = session.get(HASH_SESSION_KEY)
        if not (session_hash and constant_time_compare(session_hash, user.get_session_auth_hash())):
            session.flush()
            user = None
    return user or AnonymousUser()


def _backend_user(backend, user_id):
    if type(backend).get_user is not ModelBackend.get_user:
        return backend.get_user(user_id)
    found = _users_by_pk().instances(user_id)
    return found[0] if found and backend.user_can_authenticate(found[0]) else None


@cache
def _users_by_pk() -> ModelReader:
    user_model = get_user_model()
    return ModelReader(user_model, where=(user_model._meta.pk.name,))


def websocket_auth_stack(inner):
    """The session (cookie), its user, then the token and Origin checks, around `inner`."""
    return CookieMiddleware(WebSocketSessionMiddleware(SessionUserMiddleware(HandshakeAuthMiddleware(inner))))


class WebSocketSessionMiddleware:
    """Channels' SessionMiddleware, but that the messages a consumer sends go straight to the
    server. Channels wraps them to save a modified session on `http.response.start`, which a
    WebSocket never sends, and the wrapper read the session's state on every frame of every
    socket: 5 % of the server's CPU in a connect storm (py-spy, bin/bench)."""

    def __init__(self, inner) -> None:
        self.inner = inner

    async def __call__(self, scope, receive, send):
        wrapper = InstanceSessionWrapper(scope, send)
        await wrapper.resolve_session()
        return await self.inner(wrapper.scope, receive, send)


class HandshakeAuthMiddleware:
    """ASGI middleware for WebSockets, inside SessionUserMiddleware (which resolves the session
    user first). A token, in `Authorization: Bearer` or the subprotocol `bearer.<token>`,
    replaces the session user, and an invalid one leaves the connection unauthenticated (4401)
    rather than falling back to the session. A foreign Origin, or none with the session, is
    accepted and closed at once with 1008, which a browser can see and a refused handshake it
    cannot."""

    def __init__(self, inner) -> None:
        self.inner = inner

    async def __call__(self, scope, receive, send):
        scope = dict(scope)
        headers = {
            name.decode("latin-1").lower(): value.decode("latin-1") for name, value in scope["headers"]
        }
        token, subprotocol = _websocket_token(headers.get("authorization"), scope.get("subprotocols", []))
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
        origin = headers.get("origin")
        if (origin is None and token is None) or (origin is not None and not origin_allowed(origin)):
            logger.info("WebSocket %s refused: origin %r not allowed", scope["path"], origin)
            metrics.ERRORS.labels(str(CLOSE_POLICY_VIOLATION)).inc()
            return await _close_for_policy(receive, send, subprotocol)
        return await self.inner(scope, receive, send)


def _websocket_token(authorization: str | None, subprotocols: list[str]) -> tuple[str | None, str | None]:
    """(token, subprotocol to accept): the header first, then a `bearer.<token>` subprotocol."""
    token = _bearer_token(authorization)
    if token is not None:
        return token, None
    for subprotocol in subprotocols:
        if subprotocol.startswith(SUBPROTOCOL_PREFIX) and len(subprotocol) > len(SUBPROTOCOL_PREFIX):
            return subprotocol[len(SUBPROTOCOL_PREFIX) :], subprotocol
    return None, None


def _bearer_token(authorization: str | None) -> str | None:
    if not authorization:
        return None
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


async def _close_for_policy(receive, send, subprotocol: str | None) -> None:
    message = await receive()
    if message["type"] == "websocket.connect":
        await send({"type": "websocket.accept", "subprotocol": subprotocol})
        await send({"type": "websocket.close", "code": CLOSE_POLICY_VIOLATION})


@sync_and_async_middleware
def api_token_middleware(get_response):
    """HTTP: `Authorization: Bearer <token>` on the API and SSE paths authenticates the request
    as the token's user, without CSRF (a browser never sends the header by itself). A token that
    is not valid is answered 401 at once, never served as the session's user."""

    if iscoroutinefunction(get_response):

        async def middleware(request):
            token = _http_token(request)
            if token is None:
                return await get_response(request)
            record = await consumer_database(api_tokens.api_token_use)(token=token)
            if record is None:
                return _invalid_token()
            return await get_response(_authenticate(request, record))

    else:

        def middleware(request):
            token = _http_token(request)
            if token is None:
                return get_response(request)
            record = api_tokens.api_token_use(token=token)
            if record is None:
                return _invalid_token()
            return get_response(_authenticate(request, record))

    return middleware


def _http_token(request: HttpRequest) -> str | None:
    if not request.path_info.startswith(_TOKEN_PATHS):
        return None
    return _bearer_token(request.headers.get("Authorization"))


def _authenticate(request: HttpRequest, record) -> HttpRequest:
    async def auser():
        return record.user

    request.user = record.user
    request.auser = auser
    request.credentials = Credentials(method="token", user_id=record.user_id, token_id=record.pk)
    request._dont_enforce_csrf_checks = True
    return request


def _invalid_token() -> JsonResponse:
    response = JsonResponse(
        {"error": "not_authenticated", "message": "The API token is not valid (unknown or revoked)."},
        status=401,
    )
    response["WWW-Authenticate"] = 'Bearer error="invalid_token"'
    return response
