"""Which URLs a webhook may call: http(s) only (https unless DEBUG or
TASKPULSE_WEBHOOK_ALLOW_HTTP), and never an address of the server's own networks (loopback,
private, link-local such as cloud metadata, multicast, reserved), checked against every address
the host resolves to, at registration and again at each delivery, which then connects to one of
the addresses it checked (no second lookup to rebind). TASKPULSE_WEBHOOK_ALLOW_PRIVATE=1 lifts
the address check, for development and tests."""

import ipaddress
import socket
from urllib.parse import urlsplit

from django.conf import settings
from django.utils.translation import gettext as _


class Refused(Exception):
    """The URL may not be called; the message says why, for the person who gave it."""


def check_url(url: str) -> tuple[str, str, int]:
    """(scheme, host, port) of a URL of an allowed form, or Refused."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise Refused(_("This is not a valid URL.")) from None
    if parts.scheme not in ("http", "https"):
        raise Refused(_("Only http and https URLs can be called."))
    if parts.scheme == "http" and not (settings.DEBUG or settings.TASKPULSE_WEBHOOK_ALLOW_HTTP):
        raise Refused(_("Use an https URL: plain http is not allowed on this server."))
    if not parts.hostname:
        raise Refused(_("The URL has no host."))
    if parts.username or parts.password:
        raise Refused(_("Credentials in the URL are not allowed; check the signature instead."))
    return parts.scheme, parts.hostname, port or (443 if parts.scheme == "https" else 80)


def addresses_allowed(host: str, port: int) -> list[str]:
    """Every address `host` resolves to, when each may be called; else Refused."""
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise Refused(_("The host %(host)s could not be resolved.") % {"host": host}) from None
    addresses = list(dict.fromkeys(str(info[4][0]) for info in found))
    if not settings.TASKPULSE_WEBHOOK_ALLOW_PRIVATE:
        for address in addresses:
            if not is_public(address):
                raise Refused(
                    _("The host %(host)s resolves to %(address)s, an address of a private network.")
                    % {"host": host, "address": address}
                )
    return addresses


def check_url_and_host(url: str) -> None:
    """The check at registration: the URL's form and the addresses its host has now."""
    _scheme, host, port = check_url(url)
    addresses_allowed(host, port)


def is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%")[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not (ip.is_multicast or ip.is_reserved or ip.is_link_local or ip.is_loopback)
