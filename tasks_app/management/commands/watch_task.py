"""Follow one task in the terminal until it ends; the exit code says how it ended."""

import asyncio
import sys
import uuid

from redis.exceptions import RedisError

from django.conf import settings
from django.utils.translation import gettext as _

from tasks_app.management.language import SpokenCommand
from tasks_app.models import Task, TaskStatus
from tasks_app.realtime import broadcast
from tasks_app.realtime.follow import TaskFollower
from tasks_app.terminal import EXIT_CODES, EXIT_NOT_FOUND, Display, status_text

RECONNECT_SECONDS = 1.0


class Command(SpokenCommand):
    help = (
        "Follow a task with a live progress bar: the events a browser gets, from the channel layer, "
        "resumed from the event log after a dropped connection. "
        "Exit codes: 0 completed, 3 failed, 4 cancelled, 5 no such task, 1 error, 2 bad arguments."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("task_id", type=uuid.UUID)

    def handle(self, *args, task_id: uuid.UUID, **options) -> None:
        if not Task.objects.filter(pk=task_id).exists():
            self.stderr.write(_("No task %(task)s.") % {"task": task_id})
            sys.exit(EXIT_NOT_FOUND)
        display = Display(
            lambda text: self.stdout.write(text, ending=""),
            in_place=self.stdout.isatty(),
            flush=self.stdout.flush,
            gettext=_,
        )
        final = asyncio.run(_watch(task_id, display))
        if final["status"] != TaskStatus.COMPLETED:
            ended = _("Task %(task)s ended %(status)s: %(error)s")
            status = status_text(final["status"], _)
            self.stderr.write(ended % {"task": task_id, "status": status, "error": final.get("error") or ""})
        sys.exit(EXIT_CODES[final["status"]])


async def _watch(task_id: uuid.UUID, display: Display) -> dict:
    """The task's last message, once it is terminal. A lost channel layer connection is resumed
    from the last seq shown; an idle spell re-reads the event log, so a dropped event cannot
    stall the watch."""
    follower = TaskFollower(task_id)
    last = None
    while True:
        try:
            listener = broadcast.Listener(broadcast.task_group(task_id))
            await listener.open()
            try:
                resume_from = str(follower.sent_seq) if last is not None else None
                for message in await follower.opening(resume_from):
                    last = display.show(message)
                while not follower.finished:
                    envelope = await listener.next(settings.TASKPULSE_HEARTBEAT_SECONDS)
                    if envelope is None or broadcast.is_resync(envelope):
                        messages = await follower.opening(str(follower.sent_seq))
                    else:
                        messages = await follower.live(envelope["message"])
                    for message in messages:
                        last = display.show(message)
            finally:
                await listener.close()
            display.end()
            assert last is not None  # the watch ends on a message, and every message is shown
            return last
        except (RedisError, OSError) as exc:
            display.note(_("lost the connection (%(error)s); resuming") % {"error": exc})
            await asyncio.sleep(RECONNECT_SECONDS)
