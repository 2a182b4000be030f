"""The language a WebSocket client reads, chosen as LocaleMiddleware chooses it for an HTTP
request: the language switcher's cookie, else the handshake's Accept-Language."""

from django.http import HttpRequest, parse_cookie
from django.utils import translation


def language_of(scope: dict) -> str:
    headers = dict(scope.get("headers", ()))
    request = HttpRequest()
    request.COOKIES = parse_cookie(headers.get(b"cookie", b"").decode("latin-1"))
    request.META["HTTP_ACCEPT_LANGUAGE"] = headers.get(b"accept-language", b"").decode("latin-1")
    return translation.get_language_from_request(request)
