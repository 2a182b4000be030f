"""Workflows: a Celery group, chain or chord of progress tasks started with start_workflow is one
task that aggregates its steps. The messages the steps are sent as are captured and run here
with Celery's `apply`, as a worker would, in the order a test chooses."""

import uuid

import psycopg2
import pytest
from celery import chain, chord, group

from django.db import connection
from django.utils import timezone

from tasks_app import maintenance, selectors, services
from tasks_app.models import Task, TaskEvent, TaskStatus
from tasks_app.progress_tasks import TaskArgumentsError, progress_task
from tasks_app.realtime import messages, resume
from tasks_app.workflows import WorkflowError, start_workflow
from tests.contract import assert_task_message
from tests.sent_messages import SentMessages, capture_sent

pytestmark = pytest.mark.django_db(transaction=True)


@progress_task
def count_to(reporter, upto, *, label="counting"):
    for number in range(1, upto + 1):
        reporter.update(number, upto, f"{label} {number}")
    return upto


@progress_task
def add_up(reporter, numbers, extra=0):
    reporter.update(1, 1, "Adding")
    return sum(numbers) + extra


@progress_task
def double(reporter, number):
    return number * 2


@progress_task
def refuse(reporter, why):
    from tasks_app.work.base import WorkError

    raise WorkError(why)


@progress_task
def half_way(reporter):
    """Reports once and stops there: a step left running while a test goes on."""
    reporter.update(1, 2, "Half way")
    reporter.flush()
    raise _Paused


class _Paused(BaseException):
    """Leaves a step running, as a step whose worker is still busy with it."""


@pytest.fixture
def sent(monkeypatch) -> SentMessages:
    return capture_sent(monkeypatch, count_to, add_up, double, refuse, half_way)


def run(sent: SentMessages, step: Task) -> Task:
    try:
        return sent.run(step)
    except _Paused:
        return Task.objects.get(pk=step.id)


def steps_of(workflow: Task) -> list[Task]:
    return list(Task.objects.filter(parent=workflow).order_by("position"))


def events_of(task: Task) -> list[dict]:
    return list(TaskEvent.objects.filter(task=task).order_by("seq").values_list("payload", flat=True))


def test_a_group_is_one_task_of_the_owner_with_a_task_for_each_step_all_sent(user, sent):
    workflow = start_workflow(user, group(count_to.s(2), count_to.s(3)))

    assert (workflow.owner, workflow.kind, workflow.status, workflow.current, workflow.total) == (
        user, "group", TaskStatus.PENDING, 0, 2,
    )  # fmt: skip
    steps = steps_of(workflow)
    assert [(step.owner, step.kind, step.position, step.params) for step in steps] == [
        (user, "tests.test_workflows.count_to", 0, {"args": [2], "kwargs": {}}),
        (user, "tests.test_workflows.count_to", 1, {"args": [3], "kwargs": {}}),
    ]
    assert set(sent) == {str(step.id) for step in steps}


def test_a_group_completes_once_every_step_has_with_their_results_in_order(user, sent):
    workflow = start_workflow(user, group(count_to.s(2), count_to.s(3)))
    first, second = steps_of(workflow)

    run(sent, second)
    assert Task.objects.get(pk=workflow.id).status == TaskStatus.RUNNING
    run(sent, first)

    workflow = Task.objects.get(pk=workflow.id)
    assert (workflow.status, workflow.progress, workflow.result) == (TaskStatus.COMPLETED, 100.0, [2, 3])
    assert [event["type"] for event in events_of(workflow)].count("complete") == 1


def test_a_chain_sends_each_step_once_the_one_before_completes_handing_it_the_result(user, sent):
    workflow = start_workflow(user, chain(count_to.s(3), double.s(), add_up.si([1, 2], extra=4)))
    first, second, third = steps_of(workflow)
    assert set(sent) == {str(first.id)}

    run(sent, first)
    assert set(sent) == {str(first.id), str(second.id)}
    assert sent[str(second.id)][1]["args"] == [3]  # the first step's result, handed first
    run(sent, second)
    assert sent[str(third.id)][1]["args"] == [[1, 2]]  # .si(): nothing handed
    run(sent, third)

    workflow = Task.objects.get(pk=workflow.id)
    assert (workflow.status, workflow.result, workflow.current, workflow.total) == (
        TaskStatus.COMPLETED,
        7,
        3,
        3,
    )


def test_a_chord_sends_its_body_the_headers_results_once_they_all_completed(user, sent):
    workflow = start_workflow(user, chord([count_to.s(2), count_to.s(5)], add_up.s(extra=1)))
    first, second, body = steps_of(workflow)
    assert set(sent) == {str(first.id), str(second.id)}

    run(sent, second)
    assert str(body.id) not in sent
    run(sent, first)
    assert sent[str(body.id)][1]["args"] == [[2, 5]]
    run(sent, body)

    workflow = Task.objects.get(pk=workflow.id)
    assert (workflow.kind, workflow.status, workflow.result) == ("chord", TaskStatus.COMPLETED, 8)


def test_a_group_piped_into_a_task_is_a_chord(user, sent):
    workflow = start_workflow(user, group(count_to.s(1), count_to.s(2)) | add_up.s())

    assert (workflow.kind, len(steps_of(workflow))) == ("chord", 3)


def test_the_workflow_moves_with_each_step_naming_it_as_child_and_weighing_steps_as_declared(user, sent):
    workflow = start_workflow(user, group(count_to.s(2), count_to.s(2)), weights=[1, 3])
    first, _second = steps_of(workflow)

    run(sent, first)

    moved = [event for event in events_of(workflow) if "child" in event]
    assert {event["child"]["task_id"] for event in moved} == {str(first.id)}
    assert moved[-1]["child"] == {
        "task_id": str(first.id), "kind": first.kind, "status": "completed", "progress": 100.0,
    }  # fmt: skip
    assert (moved[-1]["progress"], moved[-1]["current"], moved[-1]["total"]) == (25.0, 1, 2)
    assert moved[-1]["message"] == "Step 1 of 2: Done"
    progress = [event["progress"] for event in events_of(workflow)]
    assert progress == sorted(progress)


def test_every_message_of_a_step_names_its_workflow_and_others_name_none(user, sent):
    workflow = start_workflow(user, group(count_to.s(1)))
    (step,) = steps_of(workflow)
    run(sent, step)

    assert {event["parent_id"] for event in events_of(step)} == {str(workflow.id)}
    assert {event["parent_id"] for event in events_of(Task.objects.get(pk=workflow.id))} == {None}


def test_the_snapshot_of_a_workflow_lists_its_steps_in_order(user, sent):
    workflow = start_workflow(user, chain(count_to.s(1), double.s()))
    first, second = steps_of(workflow)
    run(sent, first)

    snapshot = resume.snapshot(Task.objects.get(pk=workflow.id))

    assert snapshot["children"] == [
        {"task_id": str(first.id), "kind": first.kind, "status": "completed", "progress": 100.0},
        {"task_id": str(second.id), "kind": second.kind, "status": "pending", "progress": 0.0},
    ]
    assert "children" not in resume.snapshot(first)


def test_the_messages_of_a_workflow_and_of_its_steps_keep_the_contract(user, sent):
    workflow = start_workflow(user, chord([count_to.s(2), refuse.s("no")], add_up.s()))
    for step in steps_of(workflow)[:2]:
        run(sent, step)

    for task in [Task.objects.get(pk=workflow.id), *steps_of(workflow)]:
        for payload in events_of(task):
            assert_task_message(messages.event_message(payload, timezone.now()))
        assert_task_message(resume.snapshot(task))


def test_a_step_is_followed_on_its_own_by_its_owner_only(user, other_user, sent):
    workflow = start_workflow(user, group(count_to.s(1)))
    (step,) = steps_of(workflow)

    assert selectors.task_visible_to(user=user, task_id=step.id) == step
    assert selectors.task_visible_to(user=other_user, task_id=step.id) is None
    assert selectors.task_visible_to(user=other_user, task_id=workflow.id) is None


def test_the_task_list_shows_the_workflow_not_its_steps(user, sent):
    workflow = start_workflow(user, group(count_to.s(1), count_to.s(1)))

    assert list(selectors.tasks_visible_to(user=user)) == [workflow]


def test_a_failed_step_fails_the_workflow_once_the_others_stopped(user, sent):
    workflow = start_workflow(user, group(half_way.s(), refuse.s("no paper"), count_to.s(1)))
    running, failing, pending = steps_of(workflow)
    run(sent, running)

    run(sent, failing)

    assert Task.objects.get(pk=pending.id).status == TaskStatus.CANCELLED
    assert Task.objects.get(pk=running.id).cancel_requested
    assert Task.objects.get(pk=workflow.id).status == TaskStatus.RUNNING  # until its running step stops
    services.task_cancel(task_id=running.id, stopped=True)  # as its worker does at its next report
    workflow = Task.objects.get(pk=workflow.id)
    assert (workflow.status, workflow.error) == (
        TaskStatus.FAILED,
        "Step 2 of 3 (tests.test_workflows.refuse) failed: no paper",
    )
    assert [event["type"] for event in events_of(workflow)].count("complete") == 1


def test_stopping_passes_over_a_step_whose_event_is_being_written_and_that_event_stops_it(user, sent):
    if connection.vendor != "postgresql":
        pytest.skip("row locks are PostgreSQL's; SQLite locks the whole database")
    workflow = start_workflow(user, group(count_to.s(1), half_way.s()))
    failing, busy = steps_of(workflow)
    run(sent, busy)
    services.task_start(task_id=failing.id, dispatch=1)
    other = psycopg2.connect(**connection.get_connection_params())
    try:
        with other.cursor() as cursor:  # as a step's event does before it waits for the workflow
            cursor.execute("SELECT id FROM tasks_app_task WHERE id = %s FOR UPDATE", [str(busy.id)])
        with connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = '5s'")  # waiting would have deadlocked
        services.task_fail(task_id=failing.id, error="No paper")

        assert not Task.objects.get(pk=busy.id).cancel_requested  # passed over
    finally:
        other.rollback()
        other.close()
    services.task_progress(task_id=busy.id, progress=60.0, current=None, total=None, message="On")

    assert Task.objects.get(pk=busy.id).cancel_requested  # its own event's turn asked it to stop


def test_a_failed_chain_step_cancels_the_steps_after_it_which_are_never_sent(user, sent):
    workflow = start_workflow(user, chain(refuse.s("broken"), double.s()))
    failing, after = steps_of(workflow)

    run(sent, failing)

    assert Task.objects.get(pk=after.id).status == TaskStatus.CANCELLED
    assert str(after.id) not in sent
    assert Task.objects.get(pk=workflow.id).status == TaskStatus.FAILED


def test_cancelling_a_workflow_cancels_its_steps_and_it_ends_cancelled_once_they_stopped(user, sent):
    workflow = start_workflow(user, group(half_way.s(), count_to.s(1)))
    running, pending = steps_of(workflow)
    run(sent, running)

    services.task_cancel(task_id=workflow.id)

    assert Task.objects.get(pk=pending.id).status == TaskStatus.CANCELLED
    assert Task.objects.get(pk=workflow.id).status == TaskStatus.RUNNING
    services.task_cancel(task_id=running.id, stopped=True)
    assert Task.objects.get(pk=workflow.id).status == TaskStatus.CANCELLED


def test_a_workflow_whose_steps_never_started_is_cancelled_at_once(user, sent):
    workflow = start_workflow(user, chain(count_to.s(1), double.s()))

    cancelled = services.task_cancel(task_id=workflow.id)

    assert cancelled.status == TaskStatus.CANCELLED
    assert {step.status for step in steps_of(workflow)} == {TaskStatus.CANCELLED}
    with pytest.raises(services.TaskNotCancellable):
        services.task_cancel(task_id=workflow.id)


def test_a_step_cancelled_by_its_owner_cancels_its_workflow(user, sent):
    workflow = start_workflow(user, group(count_to.s(1), count_to.s(1)))
    first, second = steps_of(workflow)

    services.task_cancel(task_id=first.id)

    assert {Task.objects.get(pk=second.id).status, Task.objects.get(pk=workflow.id).status} == {
        TaskStatus.CANCELLED
    }


def test_a_step_sent_again_after_its_worker_was_lost_is_handed_the_earlier_result_again(user, sent):
    workflow = start_workflow(user, chain(count_to.s(4), double.s()))
    first, second = steps_of(workflow)
    run(sent, first)
    services.task_start(task_id=second.id, dispatch=1)  # its worker then dies
    Task.objects.filter(pk=second.id).update(lease_expires_at="2000-01-01T00:00:00Z")
    del sent[str(second.id)]

    assert maintenance.tasks_recover_lost() == [second.id]
    _celery_task, options = sent[str(second.id)]
    assert (options["args"], options["kwargs"]["taskpulse_dispatch"]) == ([4], 2)
    run(sent, second)
    assert Task.objects.get(pk=workflow.id).result == 8


def test_a_step_started_again_does_not_take_its_workflows_progress_back(user, sent):
    workflow = start_workflow(user, group(count_to.s(2)))
    (step,) = steps_of(workflow)
    services.task_start(task_id=step.id, dispatch=1)
    services.task_progress(task_id=step.id, progress=50.0, current=1, total=2, message="One")

    services.task_start(task_id=step.id, dispatch=1)  # again, after its worker died: back to 0

    assert Task.objects.get(pk=step.id).progress == 0.0
    assert Task.objects.get(pk=workflow.id).progress == 50.0


def test_the_stale_sweep_leaves_a_workflow_and_its_waiting_steps_to_their_steps(user, sent):
    workflow = start_workflow(user, chain(half_way.s(), double.s()))
    running, waiting = steps_of(workflow)
    run(sent, running)
    Task.objects.filter(pk__in=[workflow.id, waiting.id]).update(created_at="2000-01-01T00:00:00Z")
    Task.objects.filter(pk=workflow.id).update(updated_at="2000-01-01T00:00:00Z")

    stale = maintenance.tasks_fail_stale(after=maintenance.stale_after_default(), dry_run=True)

    assert {task.task_id for task in stale}.isdisjoint({workflow.id, waiting.id})


def test_a_failed_workflow_is_retried_as_a_new_workflow_of_the_same_steps(user, sent):
    workflow = start_workflow(user, chain(refuse.s("once"), double.s()), weights=[2, 1])
    run(sent, steps_of(workflow)[0])

    retry = services.task_retry(task_id=workflow.id)

    assert (retry.kind, retry.retry_of_id, retry.owner) == ("chain", workflow.id, user)
    assert [(step.kind, step.params, step.weight) for step in steps_of(retry)] == [
        (step.kind, step.params, step.weight) for step in steps_of(workflow)
    ]
    assert str(steps_of(retry)[0].id) in sent


def test_a_step_is_not_retried_on_its_own(user, sent):
    workflow = start_workflow(user, group(refuse.s("once")))
    (step,) = steps_of(workflow)
    run(sent, step)

    with pytest.raises(services.TaskStateConflict, match="retry its workflow"):
        services.task_retry(task_id=step.id)


@pytest.mark.parametrize(
    "canvas, error, match",
    [
        (lambda: count_to.s(1), WorkflowError, "not Signature"),
        (
            lambda: chain(count_to.s(1), group(count_to.s(1), count_to.s(2))),
            WorkflowError,
            "within a workflow",
        ),
        (lambda: group(count_to.s(1), double.s().set(countdown=5)), WorkflowError, "countdown"),
        (lambda: group(count_to.s(1), count_to.s(1, colour="red")), TaskArgumentsError, "colour"),
        (lambda: chain(count_to.s(1), double.s(2)), TaskArgumentsError, "too many positional"),
        (lambda: group(count_to.s(object())), TaskArgumentsError, "cannot be sent"),
        (lambda: group(count_to.s(1), maintenance_task_signature()), TypeError, "not a @progress_task"),
    ],
    ids=[
        "a single task",
        "a nested workflow",
        "an option",
        "a wrong argument",
        "a chain step given the result too",
        "an argument that cannot be sent",
        "a task that does not report",
    ],
)
def test_a_canvas_taskpulse_cannot_run_is_refused_and_nothing_is_stored_or_sent(
    user, sent, canvas, error, match
):
    with pytest.raises(error, match=match):
        start_workflow(user, canvas())

    assert (Task.objects.count(), sent) == (0, {})


def maintenance_task_signature():
    from tasks_app.tasks import fail_stale_tasks

    return fail_stale_tasks.s()


@pytest.mark.parametrize("weights", [[1], [1, 0], [1, "2"]], ids=["too few", "zero", "not a number"])
def test_weights_that_do_not_fit_the_steps_are_refused(user, sent, weights):
    with pytest.raises(WorkflowError):
        start_workflow(user, group(count_to.s(1), count_to.s(1)), weights=weights)

    assert Task.objects.count() == 0


def test_a_step_routed_to_a_queue_is_sent_there(user, sent):
    workflow = start_workflow(user, group(count_to.s(1).set(queue="reports")))

    _celery_task, options = sent[str(steps_of(workflow)[0].id)]
    assert options["queue"] == "reports"


def test_unknown_task_ids_are_not_workflows(user):
    assert selectors.task_visible_to(user=user, task_id=uuid.uuid4()) is None
