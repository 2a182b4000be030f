"""One try of a delivery: a POST to one of the addresses addresses.py allowed, with a short
timeout, no redirect followed, and at most 1 KB of the answer read. Says what came of it:
delivered, to be retried (and when at the earliest), or refused for good."""

import http.client
import socket
import ssl
import time
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

from django.conf import settings
from django.utils.translation import gettext as _

from tasks_app.webhooks import addresses

ANSWER_BYTES_READ = 1024
RETRIED_STATUSES = frozenset({408, 429})


@dataclass(frozen=True)
class Outcome:
    delivered: bool
    retry: bool
    status_code: int | None = None
    error: str = ""
    latency_ms: int | None = None
    retry_after: float | None = None  # seconds the receiver asked for (Retry-After)

    @property
    def status_class(self) -> str:
        return f"{self.status_code // 100}xx" if self.status_code else "error"


def post(url: str, body: bytes, headers: dict[str, str]) -> Outcome:
    try:
        scheme, host, port = addresses.check_url(url)
        allowed = addresses.addresses_allowed(host, port)
    except addresses.Refused as exc:
        return Outcome(delivered=False, retry=False, error=str(exc))
    timeout = settings.TASKPULSE_WEBHOOK_TIMEOUT_SECONDS
    started = time.monotonic()
    try:
        connection = _connection(scheme, host, port, allowed[0], timeout)
        try:
            path = urlsplit(url)._replace(scheme="", netloc="", fragment="").geturl() or "/"
            connection.request(
                "POST", path, body=body, headers={"Content-Type": "application/json", **headers}
            )
            answer = connection.getresponse()
            answer.read(ANSWER_BYTES_READ)
        finally:
            connection.close()
    except (OSError, http.client.HTTPException) as exc:
        latency = round((time.monotonic() - started) * 1000)
        what = (
            _("no answer within %(seconds)s s") % {"seconds": timeout}
            if isinstance(exc, TimeoutError)
            else str(exc)
        )
        return Outcome(delivered=False, retry=True, error=what or type(exc).__name__, latency_ms=latency)
    latency = round((time.monotonic() - started) * 1000)
    status = answer.status
    if 200 <= status < 300:
        return Outcome(delivered=True, retry=False, status_code=status, latency_ms=latency)
    retry = status >= 500 or status in RETRIED_STATUSES
    return Outcome(
        delivered=False,
        retry=retry,
        status_code=status,
        error=_("The receiver answered %(status)s.") % {"status": status},
        latency_ms=latency,
        retry_after=_retry_after(answer.getheader("Retry-After")) if retry else None,
    )


def _connection(
    scheme: str, host: str, port: int, address: str, timeout: float
) -> http.client.HTTPConnection:
    """A connection to `address` (checked), speaking to `host`: its Host header and, over TLS, its
    certificate and SNI name."""
    sock = socket.create_connection((address, port), timeout=timeout)
    if scheme == "https":
        sock = ssl.create_default_context().wrap_socket(sock, server_hostname=host)
        connection: http.client.HTTPConnection = http.client.HTTPSConnection(host, port, timeout=timeout)
    else:
        connection = http.client.HTTPConnection(host, port, timeout=timeout)
    connection.sock = sock
    return connection


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    if value.strip().isdigit():
        return float(value.strip())
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None
