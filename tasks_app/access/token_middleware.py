"""HTTP requests authenticated by an API token: `Authorization: Bearer <token>` on the API and SSE
paths, without CSRF (a browser never sends the header by itself)."""

from inspect import iscoroutinefunction
from typing import cast

from django.http import HttpRequest, JsonResponse
from django.utils.decorators import sync_and_async_middleware
from django.utils.translation import gettext as _

from tasks_app.access import api_tokens
from tasks_app.access.credentials import AuthenticatedRequest, Credentials
from tasks_app.db.threads import consumer_database
from tasks_app.models import ApiToken

# Where the token counts: the API and SSE, not the pages or the admin, so that a staff member's
# token cannot drive the admin.
_TOKEN_PATHS = ("/api/", "/sse/")


@sync_and_async_middleware
def api_token_middleware(get_response):
    """A token that is not valid is answered 401 at once, never served as the session's user."""

    async def async_middleware(request):
        token = _http_token(request)
        if token is None:
            return await get_response(request)
        record = await consumer_database(api_tokens.api_token_use)(token=token)
        if record is None:
            return _invalid_token()
        return await get_response(_authenticate(request, record))

    def sync_middleware(request):
        token = _http_token(request)
        if token is None:
            return get_response(request)
        record = api_tokens.api_token_use(token=token)
        if record is None:
            return _invalid_token()
        return get_response(_authenticate(request, record))

    return async_middleware if iscoroutinefunction(get_response) else sync_middleware


def _http_token(request: HttpRequest) -> str | None:
    if not request.path_info.startswith(_TOKEN_PATHS):
        return None
    return api_tokens.bearer_token(request.headers.get("Authorization"))


def _authenticate(request: HttpRequest, record: ApiToken) -> AuthenticatedRequest:
    async def auser():
        return record.user

    authenticated = cast(AuthenticatedRequest, request)
    authenticated.user = record.user
    authenticated.auser = auser
    authenticated.credentials = Credentials(method="token", user_id=record.user_id, token_id=record.pk)
    authenticated._dont_enforce_csrf_checks = True
    return authenticated


def _invalid_token() -> JsonResponse:
    response = JsonResponse(
        {"error": "not_authenticated", "message": _("The API token is not valid (unknown or revoked).")},
        status=401,
    )
    response["WWW-Authenticate"] = 'Bearer error="invalid_token"'
    return response
