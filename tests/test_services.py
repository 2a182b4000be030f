import pytest

from tasks_app import services
from tasks_app.models import EventType, Task, TaskEvent, TaskStatus
from tasks_app.realtime import broadcast, messages
from tasks_app.tasks import fail_stale_tasks
from tasks_app.work import registry
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
    monkeypatch.setattr(
        registry.kind_get("ticker").task, "apply_async", lambda task_id, **options: enqueued.append(task_id)
    )

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


@pytest.fixture
def revoked(monkeypatch) -> list[str]:
    """The Celery task ids revoked."""
    calls: list[str] = []
    monkeypatch.setattr(fail_stale_tasks.app.control, "revoke", calls.append)
    return calls


def test_cancelling_a_pending_task_revokes_its_message_after_commit(
    create_task, revoked, django_capture_on_commit_callbacks
):
    task = create_task("ticker", TICKER)

    with django_capture_on_commit_callbacks(execute=True):
        services.task_cancel(task_id=task.id)

    assert revoked == [str(task.id)]


@pytest.fixture
def published(monkeypatch) -> list[dict]:
    messages_sent = []
    monkeypatch.setattr(
        broadcast, "publish_task_event", lambda task_id, message: messages_sent.append(message)
    )
    return messages_sent


@pytest.fixture
def run(transactional_db, create_task, published) -> Task:
    """A started task, outside any transaction, as a worker's reporter sees it."""
    return services.task_start(task_id=create_task("ticker", TICKER).id)


def test_an_update_in_a_run_writes_and_publishes_the_event_task_progress_would(run, published):
    services.task_progress_in_run(run=run, progress=40.0, current=4, total=10, message="four of ten")

    task = Task.objects.get(pk=run.id)
    event = TaskEvent.objects.get(task=task, seq=task.last_seq)
    assert task.last_seq == run.last_seq + 1
    assert (task.progress, task.current, task.total, task.message) == (40.0, 4, 10, "four of ten")
    assert event.payload == messages.event_payload(task, EventType.PROGRESS)
    assert published[-1] == messages.event_message(event.payload, event.created_at)


def test_an_update_in_a_run_says_when_cancellation_was_asked_for(run):
    assert services.task_progress_in_run(run=run, progress=1.0, current=None, total=None, message="") is False
    services.task_cancel(task_id=run.id)

    assert services.task_progress_in_run(run=run, progress=2.0, current=None, total=None, message="") is True


def test_an_update_from_an_attempt_that_is_no_longer_running_writes_nothing(run, published):
    Task.objects.filter(pk=run.id).update(attempt=run.attempt + 1)  # its worker was presumed dead
    published_before = len(published)

    with pytest.raises(services.TaskStateConflict):
        services.task_progress_in_run(run=run, progress=50.0, current=None, total=None, message="zombie")

    assert Task.objects.get(pk=run.id).last_seq == run.last_seq
    assert len(published) == published_before


def test_inside_a_transaction_an_update_in_a_run_still_refuses_an_earlier_attempt(create_task):
    started = services.task_start(task_id=create_task("ticker", TICKER).id)
    Task.objects.filter(pk=started.id).update(attempt=started.attempt + 1)

    with pytest.raises(services.TaskStateConflict):
        services.task_progress_in_run(run=started, progress=50.0, current=None, total=None, message="")


def test_updates_in_a_run_keep_only_the_newest_events(run, settings):
    settings.TASKPULSE_EVENTS_KEPT_PER_TASK = 5

    for percent in range(1, 13):
        services.task_progress_in_run(run=run, progress=float(percent), current=None, total=None, message="")

    last_seq = Task.objects.get(pk=run.id).last_seq
    kept = list(TaskEvent.objects.filter(task_id=run.id).order_by("seq").values_list("seq", flat=True))
    pruned_at = last_seq - last_seq % 5
    assert kept == list(range(pruned_at - 4, last_seq + 1))


def test_failing_a_task_that_never_started_revokes_its_message_after_commit(
    create_task, revoked, django_capture_on_commit_callbacks
):
    task = create_task("ticker", TICKER)

    with django_capture_on_commit_callbacks(execute=True):
        services.task_fail(task_id=task.id, error="Marked failed by an operator.")

    assert revoked == [str(task.id)]


def test_failing_a_running_task_sends_no_revoke_since_a_worker_has_its_message(
    create_task, revoked, django_capture_on_commit_callbacks
):
    task = create_task("ticker", TICKER)
    services.task_start(task_id=task.id)

    with django_capture_on_commit_callbacks(execute=True):
        ended = services.task_fail(task_id=task.id, error="The work raised.")

    assert (ended.status, revoked) == (TaskStatus.FAILED, [])


def test_a_running_task_asked_to_cancel_ends_cancelled_once_its_work_has_stopped(create_task):
    task = create_task("ticker", TICKER)
    services.task_start(task_id=task.id)

    asked = services.task_cancel(task_id=task.id)
    ended = services.task_cancel(task_id=task.id, stopped=True)

    assert (asked.status, asked.cancel_requested) == (TaskStatus.RUNNING, True)
    assert (ended.status, ended.last_seq) == (TaskStatus.CANCELLED, asked.last_seq + 1)
