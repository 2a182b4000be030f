from tasks_app.models import Task, TaskEvent, TaskStatus
from tests.helpers import run_kind


def test_the_ticker_reports_each_step_in_order(create_task, settings):
    settings.TASKPULSE_PROGRESS_EVENTS_PER_SECOND = 1_000_000
    task = create_task("ticker", {"steps": 4, "interval": 0})

    run_kind(task)

    currents = [
        event.payload["current"]
        for event in TaskEvent.objects.filter(task=task, type="progress").order_by("seq")
        if event.payload["current"]
    ]
    assert currents == [1, 2, 3, 4]
    assert Task.objects.get(pk=task.id).status == TaskStatus.COMPLETED


def test_a_fast_ticker_is_coalesced_but_ends_at_its_last_step(create_task):
    task = create_task("ticker", {"steps": 10_000, "interval": 0})

    run_kind(task)

    events = TaskEvent.objects.filter(task=task).order_by("seq")
    assert events.count() < 100
    assert events.reverse()[1].payload["current"] == 10_000
