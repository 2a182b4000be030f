"""A user's signing secret and webhook endpoints: create, rotate, list, delete. Only their owner
sees or changes them."""

import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tasks_app.models import WEBHOOK_EVENTS, WebhookEndpoint, WebhookSecret
from tasks_app.webhooks import addresses, signatures

logger = logging.getLogger(__name__)


class InvalidEndpoint(Exception):
    """`errors` maps a field to what is wrong with it."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__("invalid webhook endpoint")
        self.errors = errors


def secret_rotate(*, user) -> str:
    """Create the user's secret, or replace it (the old one keeps signing, alongside, for
    TASKPULSE_WEBHOOK_SECRET_GRACE_SECONDS). Returns the new secret: the only time it is shown."""
    with transaction.atomic():
        secret = WebhookSecret.objects.select_for_update().filter(user=user).first()
        if secret is None:
            secret = WebhookSecret.objects.create(user=user, seed=signatures.new_seed())
            logger.info("Webhook secret created for user %s", user.pk)
        else:
            secret.previous_seed = secret.seed
            secret.previous_until = timezone.now() + timedelta(
                seconds=settings.TASKPULSE_WEBHOOK_SECRET_GRACE_SECONDS
            )
            secret.seed = signatures.new_seed()
            secret.save()
            logger.info("Webhook secret rotated for user %s", user.pk)
    return signatures.secret_of(secret.seed)


def endpoint_create(*, owner, url, events) -> WebhookEndpoint:
    """Raises InvalidEndpoint, with the reason, for a URL that may not be called (addresses.py)
    or events that are not webhook events."""
    errors: dict[str, list[str]] = {}
    if not isinstance(url, str) or not url:
        errors["url"] = [_("Give the URL to call.")]
    else:
        try:
            addresses.check_url_and_host(url)
        except addresses.Refused as exc:
            errors["url"] = [str(exc)]
    if not isinstance(events, list) or not events or not all(event in WEBHOOK_EVENTS for event in events):
        errors["events"] = [_("Choose one or more of: %(events)s.") % {"events": ", ".join(WEBHOOK_EVENTS)}]
    if not WebhookSecret.objects.filter(user=owner).exists():
        errors["secret"] = [_("Create your signing secret first (POST /api/webhooks/secret/).")]
    if errors:
        raise InvalidEndpoint(errors)
    endpoint = WebhookEndpoint.objects.create(owner=owner, url=url, events=list(dict.fromkeys(events)))
    logger.info("Webhook endpoint %s (%s) created by user %s", endpoint.pk, url, owner.pk)
    return endpoint


def callback_refusal(url: str, *, owner) -> str | None:
    """Why a task's callback_url cannot be used, or None."""
    try:
        addresses.check_url_and_host(url)
    except addresses.Refused as exc:
        return str(exc)
    if not WebhookSecret.objects.filter(user=owner).exists():
        return _("Create your signing secret first (POST /api/webhooks/secret/).")
    return None


def endpoints_of(*, owner) -> list[WebhookEndpoint]:
    return list(WebhookEndpoint.objects.filter(owner=owner))


def endpoint_delete(*, owner, endpoint_id: int) -> bool:
    deleted, _by_model = WebhookEndpoint.objects.filter(owner=owner, pk=endpoint_id).delete()
    if deleted:
        logger.info("Webhook endpoint %s deleted by user %s", endpoint_id, owner.pk)
    return bool(deleted)


def endpoint_resource(endpoint: WebhookEndpoint) -> dict:
    return {
        "id": endpoint.pk,
        "url": endpoint.url,
        "events": endpoint.events,
        "created_at": endpoint.created_at.isoformat(),
        "failing_since": endpoint.failing_since.isoformat() if endpoint.failing_since else None,
        "disabled_at": endpoint.disabled_at.isoformat() if endpoint.disabled_at else None,
        "disabled_reason": endpoint.disabled_reason or None,
    }
