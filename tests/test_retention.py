import io
from datetime import timedelta

from django.core.management import call_command
from django.utils import timezone

from tasks_app import services
from tasks_app.models import TaskEvent


def _seqs(task) -> list[int]:
    return list(TaskEvent.objects.filter(task=task).order_by("seq").values_list("seq", flat=True))


def test_a_task_keeps_only_its_newest_events_once_it_ends(create_task, settings):
    settings.TASKPULSE_EVENTS_KEPT_PER_TASK = 3
    task = create_task("ticker", {"steps": 1, "interval": 0})
    services.task_start(task_id=task.id)
    services.task_progress(task_id=task.id, progress=50, current=None, total=None, message="")
    services.task_progress(task_id=task.id, progress=60, current=None, total=None, message="")
    services.task_complete(task_id=task.id, result=None)

    assert _seqs(task) == [3, 4, 5]


def test_a_long_running_task_is_pruned_while_it_runs(create_task, settings):
    settings.TASKPULSE_EVENTS_KEPT_PER_TASK = 4
    task = create_task("ticker", {"steps": 1, "interval": 0})
    services.task_start(task_id=task.id)
    for percent in range(1, 13):  # 14 events: over twice the limit unless pruned on the way
        services.task_progress(task_id=task.id, progress=percent, current=None, total=None, message="")

    assert len(_seqs(task)) <= 2 * settings.TASKPULSE_EVENTS_KEPT_PER_TASK
    assert _seqs(task)[-1] == 14


def test_events_older_than_the_age_limit_are_deleted_by_the_command(create_task, settings):
    settings.TASKPULSE_EVENTS_MAX_AGE_SECONDS = 3600
    task = create_task("ticker", {"steps": 1, "interval": 0})
    services.task_start(task_id=task.id)
    TaskEvent.objects.filter(task=task, seq=1).update(created_at=timezone.now() - timedelta(hours=2))

    call_command("prune_events", stdout=io.StringIO())

    assert _seqs(task) == [2]
