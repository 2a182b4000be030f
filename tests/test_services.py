import pytest

from tasks_app import services
from tasks_app.models import Task, TaskEvent, TaskStatus
from tasks_app.tasks import run_task
from tasks_app.work.base import InvalidTaskInput

TICKER = {"steps": 3, "interval": 0}


def _seqs(task: Task) -> list[int]:
    return list(TaskEvent.objects.filter(task=task).order_by("seq").values_list("seq", flat=True))


def test_creating_a_task_records_a_pending_event_with_seq_1(create_task):
    task = create_task("ticker", TICKER)

    event = TaskEvent.objects.get(task=task)
    assert (task.status, task.last_seq) == (TaskStatus.PENDING, 1)
    assert (event.seq, event.type, event.payload["status"]) == (1, "progress", "pending")


def test_a_created_task_is_enqueued_only_after_commit(user, django_capture_on_commit_callbacks, monkeypatch):
    enqueued = []
    monkeypatch.setattr(run_task, "apply_async", lambda args, task_id, **options: enqueued.append(task_id))

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        task = services.task_create(owner=user, kind="ticker", params=TICKER)
        assert enqueued == []
    for callback in callbacks:
        callback()

    assert enqueued == [str(task.id)]


def test_invalid_input_stores_nothing(user):
    with pytest.raises(InvalidTaskInput) as raised:
        services.task_create(owner=user, kind="ticker", params={"steps": "many", "interval": 0})

    assert "steps" in raised.value.errors
    assert not Task.objects.exists()


def test_each_state_change_adds_exactly_one_to_seq(create_task):
    task = create_task("ticker", TICKER)

    services.task_start(task_id=task.id)
    services.task_progress(task_id=task.id, progress=50, current=1, total=2, message="half")
    services.task_complete(task_id=task.id, result={"ok": True})

    assert _seqs(task) == [1, 2, 3, 4]
    assert Task.objects.get(pk=task.id).last_seq == 4


def test_a_finished_task_never_starts_again(create_task):
    task = create_task("ticker", TICKER)
    services.task_start(task_id=task.id)
    services.task_complete(task_id=task.id, result=None)

    assert services.task_start(task_id=task.id) is None
    assert Task.objects.get(pk=task.id).status == TaskStatus.COMPLETED


def test_a_finished_task_takes_no_more_progress(create_task):
    task = create_task("ticker", TICKER)
    services.task_start(task_id=task.id)
    services.task_fail(task_id=task.id, error="boom")

    with pytest.raises(services.TaskStateConflict):
        services.task_progress(task_id=task.id, progress=90, current=None, total=None, message="late")
    assert _seqs(task) == [1, 2, 3]


def test_the_complete_event_carries_result_and_error(create_task):
    task = create_task("ticker", TICKER)
    services.task_start(task_id=task.id)

    services.task_fail(task_id=task.id, error="The file is empty.")

    event = TaskEvent.objects.get(task=task, seq=3)
    assert event.type == "complete"
    assert (event.payload["status"], event.payload["error"], event.payload["result"]) == (
        "failed",
        "The file is empty.",
        None,
    )


def test_cancelling_a_pending_task_ends_it_cancelled_at_once(create_task):
    task = create_task("ticker", TICKER)

    services.task_cancel(task_id=task.id)

    task.refresh_from_db()
    assert task.status == TaskStatus.CANCELLED
    assert TaskEvent.objects.get(task=task, seq=2).type == "complete"


def test_cancelling_a_running_task_asks_its_work_to_stop(create_task):
    task = create_task("ticker", TICKER)
    services.task_start(task_id=task.id)

    services.task_cancel(task_id=task.id)

    task.refresh_from_db()
    assert (task.status, task.cancel_requested) == (TaskStatus.RUNNING, True)
    assert services.task_progress(task_id=task.id, progress=10, current=None, total=None, message="") is True


def test_cancelling_a_finished_task_is_refused(create_task):
    task = create_task("ticker", TICKER)
    services.task_cancel(task_id=task.id)

    with pytest.raises(services.TaskNotCancellable):
        services.task_cancel(task_id=task.id)


def test_a_task_delivered_again_after_its_worker_died_starts_a_new_attempt(create_task):
    task = create_task("ticker", TICKER)
    services.task_start(task_id=task.id)
    services.task_progress(task_id=task.id, progress=70, current=7, total=10, message="")

    again = services.task_start(task_id=task.id)

    assert (again.attempt, again.progress, again.last_seq) == (2, 0.0, 4)
    assert "attempt 2" in again.message


def test_a_task_whose_worker_keeps_dying_is_given_up(create_task, settings):
    settings.TASKPULSE_TASK_MAX_ATTEMPTS = 2
    task = create_task("ticker", TICKER)
    services.task_start(task_id=task.id)
    services.task_start(task_id=task.id)

    assert services.task_start(task_id=task.id) is None

    task.refresh_from_db()
    assert (task.status, task.attempt) == (TaskStatus.FAILED, 2)
    assert "stopped 2 times" in task.error


def test_cancelling_a_pending_task_revokes_its_message_after_commit(
    create_task, monkeypatch, django_capture_on_commit_callbacks
):
    revoked = []
    monkeypatch.setattr(run_task.app.control, "revoke", revoked.append)
    task = create_task("ticker", TICKER)

    with django_capture_on_commit_callbacks(execute=True):
        services.task_cancel(task_id=task.id)

    assert revoked == [str(task.id)]
