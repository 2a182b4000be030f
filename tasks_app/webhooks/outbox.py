"""The deliveries an event makes, written in the event's own transaction (services._record_event),
so that an event is never committed without them nor they without it; each is handed to the
webhooks queue once the transaction commits, and a sweep sends again any that no worker took."""

from datetime import timedelta

from celery import current_app

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from tasks_app.models import Task, TaskStatus, WebhookDelivery, WebhookEndpoint

TERMINAL_EVENTS = frozenset({"task.completed", "task.failed", "task.cancelled"})


def event_of(task: Task, message: dict, changes: dict) -> str | None:
    """The webhook event a task event is, if any: its end, or its first start."""
    if message["type"] == "complete":
        return f"task.{task.status}"
    first_start = task.attempt == 1 or task.is_workflow
    if changes.get("status") == TaskStatus.RUNNING and "started_at" in changes and first_start:
        return "task.started"
    return None


def deliveries_record(task: Task, message: dict, event: str) -> None:
    """One delivery per endpoint of the owner's that asked for `event`, and one to the task's
    callback for its end. Sent after commit."""
    if task.owner_id is None:
        return
    now = timezone.now()
    urls: list[tuple[WebhookEndpoint | None, str]] = [
        (endpoint, endpoint.url)
        for endpoint in WebhookEndpoint.objects.filter(owner_id=task.owner_id, disabled_at=None)
        if event in endpoint.events
    ]
    if task.callback_url and event in TERMINAL_EVENTS:
        urls.append((None, task.callback_url))
    if not urls:
        return
    deliveries = []
    for endpoint, url in urls:
        delivery = WebhookDelivery(
            endpoint=endpoint,
            task=task,
            owner_id=task.owner_id,
            url=url,
            event=event,
            # Sent again by the sweep only if no worker has tried it by then (the message was lost).
            next_attempt_at=now + timedelta(seconds=settings.TASKPULSE_WEBHOOK_LOST_AFTER_SECONDS),
        )
        delivery.body = {
            "id": str(delivery.id),
            "event": event,
            "created_at": now.isoformat(),
            "data": message,
        }
        deliveries.append(delivery)
    WebhookDelivery.objects.bulk_create(deliveries)
    transaction.on_commit(lambda: _send_all(deliveries))


def _send_all(deliveries: list[WebhookDelivery]) -> None:
    for delivery in deliveries:
        delivery_send(delivery.id)


def delivery_send(delivery_id) -> None:
    """Hand the delivery to a worker of the webhooks queue (tasks.deliver_webhook)."""
    current_app.send_task(
        "tasks_app.deliver_webhook", args=[str(delivery_id)], queue=settings.TASKPULSE_WEBHOOK_QUEUE
    )
