from celery.exceptions import SoftTimeLimitExceeded

from tasks_app import services
from tasks_app.models import Task, TaskEvent, TaskStatus
from tasks_app.tasks import run_task
from tasks_app.work import registry
from tasks_app.work.base import Kind, WorkError
from tasks_app.worker.running import INTERNAL_ERROR


def _run(task: Task) -> Task:
    run_task(str(task.id))
    return Task.objects.get(pk=task.id)


def _replace_work(monkeypatch, work) -> None:
    ticker = registry.KINDS["ticker"]
    monkeypatch.setitem(
        registry.KINDS, "ticker", Kind(name="ticker", label=ticker.label, form=ticker.form, run=work)
    )


def test_a_task_that_returns_ends_completed_with_its_result(create_task):
    task = _run(create_task("ticker", {"steps": 3, "interval": 0}))

    assert (task.status, task.progress, task.result) == (
        TaskStatus.COMPLETED,
        100.0,
        {"steps": 3, "interval": 0.0},
    )
    assert TaskEvent.objects.filter(task=task, type="complete").count() == 1


def test_a_work_error_ends_failed_with_its_message_for_the_user(create_task, monkeypatch):
    def work(task, reporter):
        raise WorkError("The file is empty.")

    _replace_work(monkeypatch, work)

    task = _run(create_task("ticker", {"steps": 1, "interval": 0}))

    assert (task.status, task.error) == (TaskStatus.FAILED, "The file is empty.")


def test_a_crash_ends_failed_without_leaking_internals(create_task, monkeypatch):
    def work(task, reporter):
        raise KeyError("secret internal detail")

    _replace_work(monkeypatch, work)

    task = _run(create_task("ticker", {"steps": 1, "interval": 0}))

    assert (task.status, task.error) == (TaskStatus.FAILED, INTERNAL_ERROR)


def test_the_last_throttled_update_is_persisted_before_the_task_ends(create_task, monkeypatch):
    def work(task, reporter):
        for row in range(1, 1001):
            reporter.update(row, 1000, f"{row} rows")
        return None

    _replace_work(monkeypatch, work)

    task = _run(create_task("ticker", {"steps": 1, "interval": 0}))

    before_complete = TaskEvent.objects.get(task=task, seq=task.last_seq - 1).payload
    assert (before_complete["current"], before_complete["message"]) == (1000, "1000 rows")


def test_a_task_cancelled_while_running_ends_cancelled(create_task, monkeypatch):
    def work(task, reporter):
        services.task_cancel(task_id=task.id)
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
    def work(task, reporter):
        Task.objects.filter(pk=task.id).delete()
        reporter.update(1, 2)
        raise AssertionError("the reporter should have stopped the work")

    _replace_work(monkeypatch, work)
    task = create_task("ticker", {"steps": 1, "interval": 0})

    run_task(str(task.id))

    assert not Task.objects.filter(pk=task.id).exists()
    assert "crashed" not in caplog.text
    assert "deleted or ended elsewhere" in caplog.text


def test_a_task_past_its_time_limit_ends_failed_saying_so(create_task, monkeypatch, settings):
    settings.TASKPULSE_TASK_TIME_LIMIT_SECONDS = 5

    def work(task, reporter):
        raise SoftTimeLimitExceeded()

    _replace_work(monkeypatch, work)

    task = _run(create_task("ticker", {"steps": 1, "interval": 0}))

    assert (task.status, task.error) == (
        TaskStatus.FAILED,
        "The task ran longer than its limit of 5 s and was stopped.",
    )


def test_every_kind_has_a_queue_the_workers_consume(settings):
    queues = {queue.name for queue in settings.CELERY_TASK_QUEUES}

    assert {kind.queue for kind in registry.KINDS.values()} <= queues


def test_a_task_is_sent_to_its_kinds_queue_with_its_dispatch_and_time_limits(
    user, monkeypatch, settings, django_capture_on_commit_callbacks
):
    settings.TASKPULSE_TASK_TIME_LIMIT_SECONDS = 600
    sent = []
    monkeypatch.setattr(run_task, "apply_async", lambda **options: sent.append(options))

    with django_capture_on_commit_callbacks(execute=True):
        task = services.task_create(owner=user, kind="ticker", params={"steps": 1, "interval": 0})

    assert sent == [
        {
            "args": [str(task.id), 1],
            "task_id": str(task.id),
            "queue": "kind.ticker",
            "soft_time_limit": 600,
            "time_limit": 630,
        }
    ]


def test_a_kinds_own_limit_applies_when_shorter(settings):
    settings.TASKPULSE_TASK_TIME_LIMIT_SECONDS = 600
    ticker = registry.KINDS["ticker"]

    assert (
        Kind(name="quick", label="", form=ticker.form, run=ticker.run, time_limit_seconds=60).time_limit()
        == 60
    )
    assert (
        Kind(name="slow", label="", form=ticker.form, run=ticker.run, time_limit_seconds=6000).time_limit()
        == 600
    )
