"""The reporter a task's work calls to say how far it got: throttle, persist, publish.

Work code calls `step()` when it enters a phase and `update()` as it counts through it.
The reporter coalesces calls so that a loop reporting a million times writes and sends at
most TASKPULSE_PROGRESS_EVENTS_PER_SECOND events per second; `flush()` writes the newest
state, so the last update before a task ends is never lost.

While the database is away, the work goes on: the reporter keeps the newest state, tries again
with a growing pause, and writes it once the database is back (progress is a state, so the
updates in between are not needed). Past TASKPULSE_DATABASE_OUTAGE_SECONDS it raises
DatabaseUnavailable, which stops the work.
"""

import functools
import logging
import time
import uuid
from collections.abc import Callable

from django.conf import settings
from django.db import connection

from tasks_app import services
from tasks_app.db import outages
from tasks_app.estimates import RateEstimator
from tasks_app.models import Task, TaskFile

logger = logging.getLogger(__name__)

MAX_MESSAGE_LENGTH = 500


class TaskCancelled(Exception):
    """Raised out of a reporter call once the task's owner asked it to stop."""


class ProgressReporter:
    def __init__(
        self,
        task_id: uuid.UUID,
        *,
        events_per_second: float | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        run: Task | None = None,
    ) -> None:
        """`run`, the task as task_start returned it, lets each event be written in one statement
        (services.task_progress_in_run); without it, each goes through services.task_progress."""
        self.task_id = task_id
        self._run = run
        rate = events_per_second or settings.TASKPULSE_PROGRESS_EVENTS_PER_SECOND
        self._min_interval = 1.0 / rate
        self._clock = clock
        self._sleep = sleep
        # Since when the database has refused every write, and how many in a row.
        self._lost_since: float | None = None
        self._failures = 0
        # The clock reading from which the next event may be sent: update() compares one number.
        self._next_emit_at = float("-inf")
        self._unsent = False
        self._progress = 0.0
        self._in_step = False
        self._step_start = 0.0
        self._step_end = 100.0
        self._current: int | None = None
        self._total: int | None = None
        self._message = ""
        self._estimator = RateEstimator()

    @property
    def task(self) -> Task:
        """The task as its run started: its owner, params and input file, for work that needs them."""
        if self._run is None:
            self._run = Task.objects.get(pk=self.task_id)
        return self._run

    @property
    def progress(self) -> float:
        return self._progress

    def step(self, message: str, *, until: float) -> None:
        """Enter a phase of the work that takes overall progress up to `until` percent.

        Entering a step finishes the one before: progress moves to where that one ended.
        """
        if self._in_step:
            self._progress = max(self._progress, self._step_end)
        self._in_step = True
        self._step_start = self._progress
        self._step_end = min(max(float(until), self._progress), 100.0)
        self._current = None
        self._total = None
        self._message = message[:MAX_MESSAGE_LENGTH]
        self._changed()

    def update(
        self, current: int | None = None, total: int | None = None, message: str | None = None
    ) -> None:
        """Report `current` out of `total` done within the current step (counted progress).

        Called once per row of a long loop, so a throttled call only sets a few attributes and
        reads the clock (docs/performance.md, "reporter cost")."""
        if total:
            done = current or 0
            fraction = done / total if 0 < done < total else 1.0 if done >= total > 0 else 0.0
            progress = self._step_start + (self._step_end - self._step_start) * fraction
            # Progress never goes backwards within a run, whatever the work code passes.
            if progress > self._progress:
                self._progress = progress
        self._current = current
        self._total = total
        if message is not None:
            self._message = message[:MAX_MESSAGE_LENGTH]
        self._changed()

    def add_file(self, *, name: str, content: bytes, content_type: str) -> TaskFile:
        """Attach an output file to the task, downloadable by its owner (a report)."""
        return services.task_file_add(
            task_id=self.task_id, name=name, content=content, content_type=content_type
        )

    def flush(self) -> None:
        """Persist and publish the newest state if a throttled update has not been sent yet.

        Called as the work ends, so it does not raise TaskCancelled: the work is over anyway.
        While the database is away it waits for it, up to the outage limit.
        """
        while self._unsent:
            self._emit(self._clock(), raise_if_cancelled=False)
            if self._unsent:
                self._sleep(outages.backoff(self._failures))

    def _changed(self) -> None:
        """The state moved: send it now, unless an event went out less than the interval ago."""
        self._unsent = True
        now = self._clock()
        if now >= self._next_emit_at:
            self._emit(now)

    def _emit(self, now: float, *, raise_if_cancelled: bool = True) -> None:
        self._unsent = False
        self._next_emit_at = now + self._min_interval
        progress, current, total, message = (
            round(self._progress, 2),
            self._current,
            self._total,
            self._message,
        )
        record = (
            functools.partial(services.task_progress_in_run, run=self._run)
            if self._run is not None
            else functools.partial(services.task_progress, task_id=self.task_id)
        )
        try:
            cancel_requested = record(
                progress=progress,
                current=current,
                total=total,
                message=message,
                # Estimated as often as events are sent, not on every update: cheap whatever the loop.
                estimate=self._estimator.observe(now, current, total),
            )
        except outages.DATABASE_LOST:
            if connection.in_atomic_block:
                raise  # the work's own transaction is lost with the connection: only it can retry
            self._database_lost(now)
            return
        self._lost_since, self._failures = None, 0
        if cancel_requested and raise_if_cancelled:
            raise TaskCancelled()

    def _database_lost(self, now: float) -> None:
        """Keep the state unsent and try again after a pause; past the limit, stop the work."""
        outages.drop_connection()
        self._failures += 1
        if self._lost_since is None:
            self._lost_since = now
            logger.warning("Task %s: the database is away; keeping its newest progress", self.task_id)
        if now - self._lost_since >= outages.outage_limit():
            raise outages.DatabaseUnavailable(
                f"the database was unreachable for more than {outages.outage_limit():g} s"
            )
        self._unsent = True
        self._next_emit_at = now + max(self._min_interval, outages.backoff(self._failures))
