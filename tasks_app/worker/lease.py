"""The lease of a running task: renewed from a thread of the worker process running it, so that a
worker that dies, freezes or loses its network stops renewing, and its tasks are sent again
(services.task_resend) within TASKPULSE_TASK_LEASE_SECONDS and a sweep."""

import logging
import threading
from types import TracebackType

from django.conf import settings
from django.db import DatabaseError, connection

from tasks_app import services
from tasks_app.db import outages
from tasks_app.models import Task

logger = logging.getLogger(__name__)


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
