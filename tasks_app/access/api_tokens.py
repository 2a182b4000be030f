"""API tokens for scripts and services: create one (shown once), use it, revoke it."""

import hashlib
import logging
import secrets
from datetime import timedelta
from typing import TYPE_CHECKING

from django.utils import timezone

from tasks_app.access import credential_changes
from tasks_app.models import ApiToken

if TYPE_CHECKING:
    from django.contrib.auth.models import User

logger = logging.getLogger(__name__)

API_TOKEN_PREFIX = "tp_"
# Recording every use would be a write per request; a minute's precision is what people read.
_API_TOKEN_USE_PRECISION = timedelta(minutes=1)


def bearer_token(authorization: str | None) -> str | None:
    """The token of an `Authorization: Bearer <token>` header, or None."""
    if not authorization:
        return None
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def api_token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def api_token_create(*, user: "User", name: str) -> tuple[ApiToken, str]:
    """A new token for `user`: the stored record, and the token itself, which is not kept."""
    token = API_TOKEN_PREFIX + secrets.token_urlsafe(32)
    record = ApiToken.objects.create(
        user=user, name=name, prefix=token[: len(API_TOKEN_PREFIX) + 6], digest=api_token_digest(token)
    )
    logger.info("API token %s (%s) created for user %s", record.pk, record.prefix, user.pk)
    return record, token


def api_token_use(*, token: str) -> ApiToken | None:
    """The active token record of an active user that `token` is, with its last use recorded;
    None for anything else."""
    record = (
        ApiToken.objects.select_related("user")
        .filter(digest=api_token_digest(token), revoked_at__isnull=True, user__is_active=True)
        .first()
    )
    if record is None:
        return None
    now = timezone.now()
    if record.last_used_at is None or now - record.last_used_at >= _API_TOKEN_USE_PRECISION:
        ApiToken.objects.filter(pk=record.pk).update(last_used_at=now)
        record.last_used_at = now
    return record


def api_token_revoke(*, token_id: int) -> bool:
    """Revoke the token; False when it was already revoked (or never existed). Open connections
    made with it are closed at once (credential_changes)."""
    revoked = ApiToken.objects.filter(pk=token_id, revoked_at__isnull=True).update(revoked_at=timezone.now())
    if revoked:
        logger.info("API token %s revoked", token_id)
        credential_changes.announce(token_id=token_id)
    return bool(revoked)
