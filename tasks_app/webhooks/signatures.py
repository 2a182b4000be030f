"""Signing secrets and the Taskpulse-Signature header: `t=<unix seconds>,v1=<hex HMAC-SHA256 of
"<t>.<raw body>">`, with a second v1 while a rotated-out secret is still valid.

A user's secret is derived from a random seed and SECRET_KEY, so the database holds only the seed
(docs/security.md)."""

import hashlib
import hmac
import secrets
import time

from django.utils.crypto import salted_hmac

SEED_BYTES = 32
PREFIX = "whsec_"


def new_seed() -> str:
    return secrets.token_hex(SEED_BYTES)


def secret_of(seed: str) -> str:
    return PREFIX + salted_hmac("taskpulse.webhooks.secret", seed, algorithm="sha256").hexdigest()


def signature_header(body: bytes, secrets_in_use: list[str], *, now: float | None = None) -> str:
    timestamp = str(int(now if now is not None else time.time()))
    signatures = [f"v1={_mac(secret, timestamp, body)}" for secret in secrets_in_use]
    return ",".join([f"t={timestamp}", *signatures])


def verify(
    body: bytes, header: str, secret: str, *, tolerance: float = 300, now: float | None = None
) -> bool:
    """What a receiver does (docs/webhooks.md shows it without Taskpulse): one v1 matches, and
    the timestamp is no older than `tolerance` seconds."""
    fields = [part.split("=", 1) for part in header.split(",") if "=" in part]
    timestamps = [value for name, value in fields if name == "t"]
    if len(timestamps) != 1 or not timestamps[0].isdigit():
        return False
    if abs((now if now is not None else time.time()) - int(timestamps[0])) > tolerance:
        return False
    expected = _mac(secret, timestamps[0], body)
    return any(name == "v1" and hmac.compare_digest(value, expected) for name, value in fields)


def _mac(secret: str, timestamp: str, body: bytes) -> str:
    return hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
