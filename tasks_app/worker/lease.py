"""The lease of a running task: renewed from a thread of the worker process running it, so that a
worker that dies, freezes or loses its network stops renewing, and its tasks are sent again
(services.task_resend) within TASKPULSE_TASK_LEASE_SECONDS and a sweep. And, before a task
starts, whether a live process still holds its lease: after a blip of its connection to the
broker, Celery puts back the messages of the tasks the worker is still running."""

import logging
import os
import socket
import threading
import uuid
from pathlib import Path
from types import TracebackType

from django.conf import settings
from django.db import DatabaseError, connection
from django.utils import timezone

from tasks_app import selectors, services
from tasks_app.db import outages
from tasks_app.models import Task

logger = logging.getLogger(__name__)


def this_process() -> str:
    """The lease holder's name of this process: "host:pid"."""
    return f"{socket.gethostname()}:{os.getpid()}"


def held_elsewhere(task_id: uuid.UUID) -> float | None:
    """Seconds left on the lease of the task's running attempt while a live process may hold it;
    None when the task may start here: it is not running, its lease ran out, or its holder was a
    process of this host that is gone (a killed pool process, a killed worker)."""
    lease = selectors.task_lease(task_id=task_id)
    if lease is None:
        return None
    holder, expires_at = lease
    left = (expires_at - timezone.now()).total_seconds()
    if left <= 0 or not holder:  # ran out, or sent again and held by the queue, not a process
        return None
    host, _, pid = holder.rpartition(":")
    if host == socket.gethostname() and pid.isdigit() and not _alive(int(pid)):
        return None
    return left


def _alive(pid: int) -> bool:
    """Whether the process runs; a zombie (killed, not yet reaped) does not."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except FileNotFoundError:
        return False
    except OSError:
        return True  # no /proc to read: assume alive, and let the lease run out
    return fields[0] not in ("Z", "X")


class LeaseKeeper:
    """`with LeaseKeeper(run):` renews `run`'s lease every `every` seconds (a third of the lease by
    default) while the block runs. The work itself never waits for it."""

    def __init__(self, run: Task, *, every: float | None = None) -> None:
        self._run = run
        self._every = every or settings.TASKPULSE_TASK_LEASE_SECONDS / 3
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._renew_until_stopped, name=f"lease-{run.pk}", daemon=True)

    def __enter__(self) -> "LeaseKeeper":
        self._thread.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._stopped.set()
        self._thread.join()

    def _renew_until_stopped(self) -> None:
        wait = self._every
        try:
            while not self._stopped.wait(wait):
                try:
                    if not services.task_lease_renew(run=self._run):
                        return  # the attempt ended, or another worker runs the task now
                    wait = self._every
                except DatabaseError:
                    # The database is away: try again soon, so that the lease is renewed as soon
                    # as it is back, before the sweep that finds expired leases runs.
                    logger.warning("Could not renew the lease of task %s", self._run.pk, exc_info=True)
                    outages.drop_connection()
                    wait = min(self._every, outages.LONGEST_BACKOFF_SECONDS)
        finally:
            connection.close()
