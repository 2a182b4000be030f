"""How a connection authenticated, kept to check later that it still may."""

from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.http import HttpRequest

if TYPE_CHECKING:
    from django.contrib.auth.models import User


@dataclass(frozen=True)
class Credentials:
    method: str  # "session" or "token"
    user_id: int | None
    session_key: str | None = None
    token_id: int | None = None
    subprotocol: str | None = None  # the WebSocket subprotocol the token came in, to accept


def concerns(change: dict, credentials: Credentials) -> bool:
    """Whether an announced change (credential_changes) may end these credentials."""
    return (
        (change.get("user_id") is not None and change["user_id"] == credentials.user_id)
        or (change.get("session_key") is not None and change["session_key"] == credentials.session_key)
        or (change.get("token_id") is not None and change["token_id"] == credentials.token_id)
    )


class AuthenticatedRequest(HttpRequest):
    """For type checking: a request past an authentication check (django-stubs' pattern), which
    may carry the credentials of its API token."""

    user: "User"
    credentials: Credentials
    _dont_enforce_csrf_checks: bool


def request_credentials(request: HttpRequest, user: "User") -> Credentials:
    """An HTTP request's credentials: its token's (set by token_middleware), or its session's."""
    existing = getattr(request, "credentials", None)
    if existing is not None:
        return existing
    return Credentials(method="session", user_id=user.pk, session_key=request.session.session_key)
