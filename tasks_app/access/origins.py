"""Whether the page that opened a connection may use the session: its Origin, or for same-origin
GETs the browser's Sec-Fetch-Site.

Browsers send the session cookie on their own to any site's request: the Origin check is what
stops another site's page from using it. Scripts send an API token, which no browser adds by
itself, so a token needs no Origin (scripts send none).
"""

from urllib.parse import urlsplit

from django.conf import settings
from django.http import HttpRequest
from django.http.request import split_domain_port, validate_host

# What a browser sends in Sec-Fetch-Site when it may use the session: a page of this site, or the
# user opening the URL themselves.
_SAME_SITE_FETCHES = frozenset({"same-origin", "none"})


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
    credentials = getattr(request, "credentials", None)
    if credentials is not None and credentials.method == "token":
        return True
    return request.headers.get("Sec-Fetch-Site") in _SAME_SITE_FETCHES
