"""Which tasks the broker still holds: waiting in a queue, or delivered to a worker and not yet
acknowledged. Reads kombu's Redis transport layout (a list per queue and priority, and the
`unacked` hash); other brokers cannot be looked into, and say so."""

import json
import logging

logger = logging.getLogger(__name__)

# kombu's Redis transport names a queue's priority lists `<queue>` + this + the priority.
_PRIORITY_SEPARATOR = "\x06\x16"
_UNACKED = "unacked"


class BrokerNotInspectable(Exception):
    """The broker is not Redis, so its messages cannot be listed."""


def task_ids_held(*, app, queues: set[str] | None = None) -> set[str]:
    """The Celery task ids (ours are the Task ids) of every message the broker holds in `queues`
    (default: the app's queues) or has delivered unacknowledged."""
    with app.connection_for_read() as connection:
        # The driver, not the transport's name, which is our own subclass's (worker.redis_transport).
        if connection.transport.driver_type != "redis":
            raise BrokerNotInspectable(f"the broker is {connection.transport.driver_type}, not Redis")
        client = connection.default_channel.client
        queues = queues or {queue.name for queue in app.amqp.queues.values()} or {app.conf.task_default_queue}
        found: list[str | None] = []
        for queue in queues:
            for key in [queue, *client.scan_iter(match=f"{queue}{_PRIORITY_SEPARATOR}*")]:
                found.extend(_task_id(raw) for raw in client.lrange(key, 0, -1))
        found.extend(_task_id(json.loads(raw)[0]) for raw in client.hvals(_UNACKED))
    return {task_id for task_id in found if task_id is not None}


def _task_id(message) -> str | None:
    try:
        payload = json.loads(message) if isinstance(message, (bytes, str)) else message
        return payload["headers"]["id"]
    except (ValueError, KeyError, TypeError):
        logger.warning("A broker message without a task id: %.200r", message)
        return None
