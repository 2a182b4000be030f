from celery.exceptions import SoftTimeLimitExceeded

from tasks_app import progress_tasks, services
from tasks_app.models import Task, TaskEvent, TaskStatus
from tasks_app.work import registry
from tasks_app.work.base import WorkError
from tasks_app.worker.running import INTERNAL_ERROR
from tests.helpers import run_kind
from tests.sent_messages import capture_sent


def _run(task: Task) -> Task:
    run_kind(task)
    return Task.objects.get(pk=task.id)


def _replace_work(monkeypatch, work) -> None:
    """The ticker's task runs `work(reporter, steps, interval)` instead of its own function."""
    _function, celery_task, keyword_params = progress_tasks._REGISTERED["ticker"]
    monkeypatch.setitem(progress_tasks._REGISTERED, "ticker", (work, celery_task, keyword_params))


def test_a_task_that_returns_ends_completed_with_its_result(create_task):
    task = _run(create_task("ticker", {"steps": 3, "interval": 0}))

    assert (task.status, task.progress, task.result) == (
        TaskStatus.COMPLETED,
        100.0,
        {"steps": 3, "interval": 0.0},
    )
    assert TaskEvent.objects.filter(task=task, type="complete").count() == 1


def test_a_work_error_ends_failed_with_its_message_for_the_user(create_task, monkeypatch):
    def work(reporter, steps, interval):
        raise WorkError("The file is empty.")

    _replace_work(monkeypatch, work)

    task = _run(create_task("ticker", {"steps": 1, "interval": 0}))

    assert (task.status, task.error) == (TaskStatus.FAILED, "The file is empty.")


def test_a_crash_ends_failed_without_leaking_internals(create_task, monkeypatch):
    def work(reporter, steps, interval):
        raise KeyError("secret internal detail")

    _replace_work(monkeypatch, work)

    task = _run(create_task("ticker", {"steps": 1, "interval": 0}))

    assert (task.status, task.error) == (TaskStatus.FAILED, INTERNAL_ERROR)


def test_the_last_throttled_update_is_persisted_before_the_task_ends(create_task, monkeypatch):
    def work(reporter, steps, interval):
        for row in range(1, 1001):
            reporter.update(row, 1000, f"{row} rows")
        return None

    _replace_work(monkeypatch, work)

    task = _run(create_task("ticker", {"steps": 1, "interval": 0}))

    before_complete = TaskEvent.objects.get(task=task, seq=task.last_seq - 1).payload
    assert (before_complete["current"], before_complete["message"]) == (1000, "1000 rows")


def test_a_task_cancelled_while_running_ends_cancelled(create_task, monkeypatch):
    def work(reporter, steps, interval):
        services.task_cancel(task_id=reporter.task.id)
        reporter.update(1, 2)
        raise AssertionError("the reporter should have stopped the work")

    _replace_work(monkeypatch, work)

    task = _run(create_task("ticker", {"steps": 1, "interval": 0}))

    assert task.status == TaskStatus.CANCELLED


def test_a_task_cancelled_before_a_worker_took_it_is_not_run(create_task):
    task = create_task("ticker", {"steps": 1, "interval": 0})
    services.task_cancel(task_id=task.id)

    task = _run(task)

    assert (task.status, task.started_at, task.last_seq) == (TaskStatus.CANCELLED, None, 2)


def test_a_task_deleted_while_it_runs_stops_its_work_quietly(create_task, monkeypatch, caplog):
    def work(reporter, steps, interval):
        Task.objects.filter(pk=reporter.task.id).delete()
        reporter.update(1, 2)
        raise AssertionError("the reporter should have stopped the work")

    _replace_work(monkeypatch, work)
    task = create_task("ticker", {"steps": 1, "interval": 0})

    run_kind(task)

    assert not Task.objects.filter(pk=task.id).exists()
    assert "crashed" not in caplog.text
    assert "deleted or ended elsewhere" in caplog.text


def test_a_task_past_its_time_limit_ends_failed_saying_so(create_task, monkeypatch, settings):
    settings.TASKPULSE_TASK_TIME_LIMIT_SECONDS = 5

    def work(reporter, steps, interval):
        raise SoftTimeLimitExceeded()

    _replace_work(monkeypatch, work)

    task = _run(create_task("ticker", {"steps": 1, "interval": 0}))

    assert (task.status, task.error) == (
        TaskStatus.FAILED,
        "The task ran longer than its limit of 5 s and was stopped.",
    )


def test_every_kind_is_routed_to_a_queue_of_its_own_the_workers_consume(settings):
    queues = {queue.name for queue in settings.CELERY_TASK_QUEUES}
    router = registry.kind_get("ticker").task.app.amqp.router

    routed = {kind.name: router.route({}, kind.name)["queue"].name for kind in registry.KINDS.values()}

    assert routed == {name: f"kind.{name}" for name in registry.KINDS}
    assert set(routed.values()) <= queues


def test_a_task_is_sent_to_its_kinds_queue_with_its_params_dispatch_and_time_limits(
    user, monkeypatch, settings, django_capture_on_commit_callbacks
):
    settings.TASKPULSE_TASK_TIME_LIMIT_SECONDS = 600
    sent = capture_sent(monkeypatch, registry.kind_get("ticker").task)

    with django_capture_on_commit_callbacks(execute=True):
        task = services.task_create(owner=user, kind="ticker", params={"steps": 1, "interval": 0})

    _celery_task, options = sent[str(task.id)]
    assert options == {
        "args": [],
        "kwargs": {"steps": 1, "interval": 0.0, "taskpulse_dispatch": 1},
        "task_id": str(task.id),
        "soft_time_limit": 600,
        "time_limit": 630,
    }
