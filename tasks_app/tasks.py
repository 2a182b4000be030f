"""Celery tasks of the app itself: beat's sweeps and monitoring samples. The built-in kinds are
@progress_tasks of work/."""

import logging
import uuid

from celery import shared_task
from redis.exceptions import RedisError

from tasks_app import maintenance, monitoring
from tasks_app.db import outages
from tasks_app.webhooks import deliveries, outbox
from tasks_app.work import registry  # noqa: F401 (the built-in kinds' @progress_tasks, for the worker)

logger = logging.getLogger(__name__)


@shared_task(name="tasks_app.fail_stale_tasks")
def fail_stale_tasks() -> int:
    """Run by Celery beat every TASKPULSE_STALE_SWEEP_SECONDS (see CELERY_BEAT_SCHEDULE)."""
    return _sweep(lambda: maintenance.tasks_fail_stale(after=maintenance.stale_after_default()))


@shared_task(name="tasks_app.recover_lost_tasks")
def recover_lost_tasks() -> int:
    """Run by Celery beat every half TASKPULSE_TASK_LEASE_SECONDS (see CELERY_BEAT_SCHEDULE)."""
    return _sweep(maintenance.tasks_recover_lost)


@shared_task(name="tasks_app.record_monitor_sample", ignore_result=True)
def record_monitor_sample() -> bool:
    """Run by Celery beat every 10 s: the monitoring page's history (monitoring.py)."""
    try:
        return monitoring.sample_record()
    except RedisError as exc:
        logger.warning("Monitoring sample skipped, Redis is away: %s", exc)
        return False
    except outages.DATABASE_LOST as exc:
        outages.drop_connection()
        logger.warning("Monitoring sample skipped, the database is away: %s", exc)
        return False


@shared_task(name="tasks_app.deliver_webhook", ignore_result=True)
def deliver_webhook(delivery_id: str) -> None:
    """One try of a webhook delivery, on the webhooks queue (webhooks/deliveries.py). A delivery
    another worker holds is left to the sweep, once that worker's claim has run out."""
    deliveries.deliver(uuid.UUID(delivery_id))


@shared_task(name="tasks_app.send_due_webhooks", ignore_result=True)
def send_due_webhooks() -> int:
    """Run by Celery beat every 5 s: the deliveries due again go to the webhooks queue."""
    try:
        due = deliveries.deliveries_due()
    except outages.DATABASE_LOST as exc:
        outages.drop_connection()
        logger.warning("Webhook sweep skipped, the database is away: %s", exc)
        return 0
    for delivery_id in due:
        outbox.delivery_send(delivery_id)
    return len(due)


def _sweep(sweep) -> int:
    """A beat sweep; skipped while the database is away, since beat runs it again soon."""
    try:
        return len(sweep())
    except outages.DATABASE_LOST as exc:
        outages.drop_connection()
        logger.warning("Sweep skipped, the database is away: %s", exc)
        return 0
