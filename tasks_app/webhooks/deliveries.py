"""A delivery's tries: claim it, call the receiver (sending.py), and record what came of it:
delivered; to be tried again, with exponential backoff and full jitter (or the receiver's
Retry-After), until TASKPULSE_WEBHOOK_RETRY_SECONDS after it was made; or failed. An endpoint
that has failed for TASKPULSE_WEBHOOK_DISABLE_AFTER_SECONDS is disabled, with the reason."""

import json
import logging
import random
import uuid
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db.models import F, Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from tasks_app import metrics
from tasks_app.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint, WebhookSecret
from tasks_app.webhooks import sending, signatures

logger = logging.getLogger(__name__)

# The backoff never waits longer than this between two tries.
MAX_BACKOFF_SECONDS = 3600


@dataclass(frozen=True)
class Tried:
    """What deliver() did: `outcome` None when it did not call (ended already, or held by
    another worker until `held_for` seconds from now)."""

    outcome: sending.Outcome | None = None
    held_for: float | None = None


def deliver(delivery_id: uuid.UUID) -> Tried:
    now = timezone.now()
    claim = timedelta(seconds=settings.TASKPULSE_WEBHOOK_TIMEOUT_SECONDS + 10)
    claimed = (
        WebhookDelivery.objects.filter(pk=delivery_id, status=DeliveryStatus.PENDING)
        .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
        .update(claimed_until=now + claim, next_attempt_at=now + claim, attempts=F("attempts") + 1)
    )
    if not claimed:
        held = WebhookDelivery.objects.filter(pk=delivery_id, status=DeliveryStatus.PENDING).first()
        if held is None or held.claimed_until is None:
            return Tried()
        return Tried(held_for=max(0.0, (held.claimed_until - now).total_seconds()))
    delivery = WebhookDelivery.objects.select_related("endpoint", "owner").get(pk=delivery_id)
    with translation.override(settings.LANGUAGE_CODE):  # what operators read in the admin
        outcome = _try(delivery)
        _record(delivery, outcome)
    return Tried(outcome=outcome)


def _try(delivery: WebhookDelivery) -> sending.Outcome:
    if delivery.endpoint is not None and delivery.endpoint.disabled_at is not None:
        return sending.Outcome(delivered=False, retry=False, error=_("The endpoint was disabled."))
    secret = WebhookSecret.objects.filter(user_id=delivery.owner_id).first()
    if secret is None:
        return sending.Outcome(delivered=False, retry=False, error=_("Its owner has no signing secret."))
    body = json.dumps(delivery.body, separators=(",", ":")).encode()
    headers = {
        "User-Agent": "Taskpulse-Webhooks/1",
        "Taskpulse-Event": delivery.event,
        "Taskpulse-Delivery": str(delivery.id),
        "Taskpulse-Signature": signatures.signature_header(body, secrets_in_use(secret)),
    }
    return sending.post(delivery.url, body, headers)


def secrets_in_use(secret: WebhookSecret) -> list[str]:
    """The current secret, and the one it replaced while that one is still valid."""
    in_use = [signatures.secret_of(secret.seed)]
    if secret.previous_seed and secret.previous_until and secret.previous_until > timezone.now():
        in_use.append(signatures.secret_of(secret.previous_seed))
    return in_use


def _record(delivery: WebhookDelivery, outcome: sending.Outcome) -> None:
    now = timezone.now()
    given_up_at = delivery.created_at + timedelta(seconds=settings.TASKPULSE_WEBHOOK_RETRY_SECONDS)
    retry_at = (
        now + timedelta(seconds=_backoff(delivery.attempts, outcome.retry_after)) if outcome.retry else None
    )
    if outcome.delivered:
        status, result = DeliveryStatus.DELIVERED, "delivered"
    elif retry_at is not None and retry_at < given_up_at:
        status, result = DeliveryStatus.PENDING, "retried"
    else:
        status, result = DeliveryStatus.FAILED, "failed"
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        status=status,
        claimed_until=None,
        next_attempt_at=retry_at if status == DeliveryStatus.PENDING else None,
        finished_at=None if status == DeliveryStatus.PENDING else now,
        last_status_code=outcome.status_code,
        last_error=outcome.error,
        last_latency_ms=outcome.latency_ms,
    )
    if delivery.endpoint is not None:
        _endpoint_moved(delivery.endpoint, outcome, now)
    metrics.WEBHOOK_DELIVERIES.labels(result, outcome.status_class).inc()
    log = logger.info if outcome.delivered else logger.warning
    log(
        "Webhook delivery %s (%s to %s, try %d) %s: %s in %s ms",
        delivery.pk,
        delivery.event,
        delivery.url,
        delivery.attempts,
        result,
        outcome.status_code or outcome.error,
        outcome.latency_ms,
    )


def _backoff(attempts: int, retry_after: float | None) -> float:
    """Full jitter over an exponentially growing cap; at least what Retry-After asked."""
    cap = min(MAX_BACKOFF_SECONDS, settings.TASKPULSE_WEBHOOK_BACKOFF_SECONDS * 2 ** max(0, attempts - 1))
    return max(1.0, random.uniform(0, cap), retry_after or 0.0)


def _endpoint_moved(endpoint: WebhookEndpoint, outcome: sending.Outcome, now) -> None:
    if outcome.delivered:
        WebhookEndpoint.objects.filter(pk=endpoint.pk).exclude(failing_since=None).update(failing_since=None)
        return
    WebhookEndpoint.objects.filter(pk=endpoint.pk, failing_since=None).update(failing_since=now)
    limit = now - timedelta(seconds=settings.TASKPULSE_WEBHOOK_DISABLE_AFTER_SECONDS)
    reason = _("Every delivery since %(since)s failed; the last: %(error)s") % {
        "since": (endpoint.failing_since or now).isoformat(timespec="seconds"),
        "error": outcome.error,
    }
    disabled = WebhookEndpoint.objects.filter(
        pk=endpoint.pk, disabled_at=None, failing_since__lt=limit
    ).update(disabled_at=now, disabled_reason=reason)
    if disabled:
        logger.warning("Webhook endpoint %s (%s) disabled: %s", endpoint.pk, endpoint.url, reason)


def deliveries_due(*, limit: int = 500) -> list[uuid.UUID]:
    """Pending deliveries whose next try is due: retries, and those whose message was lost or
    whose worker died while trying."""
    return list(
        WebhookDelivery.objects.filter(status=DeliveryStatus.PENDING, next_attempt_at__lte=timezone.now())
        .order_by("next_attempt_at")
        .values_list("id", flat=True)[:limit]
    )


def delivery_redeliver(delivery_id: uuid.UUID) -> None:
    """An operator's "redeliver": the delivery is pending again, due now, with a new day of tries."""
    WebhookDelivery.objects.filter(pk=delivery_id).update(
        status=DeliveryStatus.PENDING,
        created_at=timezone.now(),
        next_attempt_at=timezone.now(),
        finished_at=None,
        claimed_until=None,
    )
