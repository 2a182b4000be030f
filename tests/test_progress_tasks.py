"""Progress for any Celery task: @progress_task and start_task, as a host project uses them. The
message start_task sends is captured and run here with Celery's `apply`, as a worker would."""

import datetime
import uuid

import pytest

from tasks_app import selectors, services
from tasks_app.models import Task, TaskEvent, TaskStatus
from tasks_app.progress_tasks import TaskArgumentsError, progress_task, start_task
from tasks_app.worker.running import INTERNAL_ERROR
from tests.sent_messages import SentMessages, capture_sent

pytestmark = pytest.mark.django_db(transaction=True)


@progress_task
def resize_images(reporter, folder, *, sizes=(64, 128)):
    names = ["a.png", "b.png", "c.png"]
    for done, name in enumerate(names, 1):
        reporter.update(done, len(names), f"Resized {name} in {folder}")
    return {"folder": folder, "resized": len(names), "sizes": list(sizes)}


@progress_task(name="host.remember_arguments", soft_time_limit=90)
def remember_arguments(reporter, when, token):
    return {"when": type(when).__name__, "token": type(token).__name__}


@progress_task
def who_asked(reporter, note):
    return {
        "owner": reporter.task.owner.username,
        "params": reporter.task.params,
        "id": str(reporter.task.id),
    }


@progress_task
def broken(reporter):
    raise KeyError("a secret internal detail")


@progress_task
def waits_for_cancel(reporter, task_id):
    services.task_cancel(task_id=uuid.UUID(task_id))  # the owner cancels while it runs
    reporter.update(1, 2, "Still going")  # its next report stops it
    return "never returned"


@pytest.fixture
def sent(monkeypatch) -> SentMessages:
    return capture_sent(monkeypatch, resize_images, remember_arguments, who_asked, broken, waits_for_cancel)


def run(sent: SentMessages, task: Task) -> Task:
    return sent.run(task)


def test_start_task_stores_a_task_of_the_user_named_for_the_celery_task_and_sends_it(user, sent):
    task = start_task(user, resize_images, "uploads", sizes=[32])

    stored = Task.objects.get(pk=task.id)
    assert (stored.owner, stored.kind, stored.status) == (
        user,
        "tests.test_progress_tasks.resize_images",
        "pending",
    )
    assert stored.params == {"args": ["uploads"], "kwargs": {"sizes": [32]}}
    _celery_task, options = sent[str(task.id)]
    assert (options["args"], options["kwargs"]) == (["uploads"], {"sizes": [32], "taskpulse_dispatch": 1})


def test_the_task_body_is_handed_a_reporter_and_its_progress_and_result_are_events(user, sent):
    task = run(sent, start_task(user, resize_images, "uploads"))

    assert (task.status, task.progress, task.current, task.total) == (TaskStatus.COMPLETED, 100.0, 3, 3)
    assert task.result == {"folder": "uploads", "resized": 3, "sizes": [64, 128]}
    events = list(TaskEvent.objects.filter(task=task).order_by("seq").values_list("seq", "type"))
    assert [seq for seq, _type in events] == list(range(1, task.last_seq + 1))
    assert [event_type for _seq, event_type in events].count("complete") == 1


def test_the_reporter_hands_the_body_its_task_as_the_run_started(user, sent):
    task = run(sent, start_task(user, who_asked, "hello"))

    assert task.result == {
        "owner": user.username,
        "params": {"args": ["hello"], "kwargs": {}},
        "id": str(task.id),
    }


def test_arguments_that_do_not_fit_the_function_are_refused_and_nothing_is_stored(user, sent):
    with pytest.raises(TaskArgumentsError, match="unexpected keyword argument 'colour'"):
        start_task(user, resize_images, "uploads", colour="red")
    with pytest.raises(TaskArgumentsError, match="missing a required argument: 'folder'"):
        start_task(user, resize_images)

    assert (Task.objects.count(), sent) == (0, {})


@pytest.mark.parametrize(
    "value, named",
    [(object(), "object"), (float("nan"), "float"), ({"at": {1, 2}}, "dict")],
    ids=["an object", "NaN", "a set inside"],
)
def test_arguments_celery_cannot_send_are_refused_naming_them(user, sent, value, named):
    with pytest.raises(TaskArgumentsError, match=rf"argument 'token' \({named}\) cannot be sent"):
        start_task(user, remember_arguments, "today", token=value)

    assert Task.objects.count() == 0


def test_a_model_instance_is_refused_pass_its_id(user, sent):
    with pytest.raises(TaskArgumentsError, match=r"argument 1 \(User\) cannot be sent"):
        start_task(user, remember_arguments, user, "token")


def test_datetimes_and_uuids_reach_the_task_as_they_were_sent(user, sent):
    when = datetime.datetime(2026, 12, 3, 9, 30, tzinfo=datetime.UTC)

    task = run(sent, start_task(user, remember_arguments, when, token=uuid.uuid4()))

    assert task.result == {"when": "datetime", "token": "UUID"}
    _celery_task, options = sent[str(task.id)]
    assert options["soft_time_limit"] == 90  # the task's own limit, not Taskpulse's default


def test_a_task_that_is_not_a_progress_task_is_refused(user):
    from tasks_app.tasks import fail_stale_tasks

    with pytest.raises(TypeError, match="is not a @progress_task"):
        start_task(user, fail_stale_tasks)


def test_a_built_in_kind_is_refused_since_its_form_checks_its_params(user):
    from tasks_app.work import registry

    with pytest.raises(TypeError, match="services.task_create"):
        start_task(user, registry.kind_get("ticker").task, steps=3, interval=0)

    assert Task.objects.count() == 0


def test_a_progress_task_started_with_a_plain_delay_is_stored_without_owner_for_staff_only(user, staff_user):
    task_id = str(uuid.uuid4())

    resize_images.apply(args=["nightly"], task_id=task_id)  # as a worker runs `.delay("nightly")`

    task = Task.objects.get(pk=task_id)
    assert (task.owner, task.status, task.params) == (
        None,
        TaskStatus.COMPLETED,
        {"args": ["nightly"], "kwargs": {}},
    )
    assert selectors.task_visible_to(user=staff_user, task_id=task_id) == task
    assert selectors.task_visible_to(user=user, task_id=task_id) is None


def test_a_crash_in_the_task_fails_it_without_leaking_internals(user, sent):
    task = run(sent, start_task(user, broken))

    assert (task.status, task.error) == (TaskStatus.FAILED, INTERNAL_ERROR)


def test_a_cancelled_task_stops_at_its_next_report_and_ends_cancelled_once(user, sent):
    task = start_task(user, waits_for_cancel, "placeholder")
    Task.objects.filter(pk=task.id).update(params={"args": [str(task.id)], "kwargs": {}})
    celery_task, options = sent[str(task.id)]

    celery_task.apply(args=[str(task.id)], kwargs=options["kwargs"], task_id=str(task.id))

    task = Task.objects.get(pk=task.id)
    assert (task.status, task.result) == (TaskStatus.CANCELLED, None)
    assert TaskEvent.objects.filter(task=task, type="complete").count() == 1


def test_a_stale_message_of_an_earlier_dispatch_does_not_run(user, sent):
    task = start_task(user, resize_images, "uploads")
    Task.objects.filter(pk=task.id).update(dispatch=2)  # sent again since, after a lost worker

    task = run(sent, task)

    assert (task.status, task.attempt) == (TaskStatus.PENDING, 0)
