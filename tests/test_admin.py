"""The operators' screens: the task list, a task's page, and the actions on tasks."""

from django.contrib.auth import get_user_model
from django.contrib.messages import get_messages
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from tasks_app import services
from tasks_app.models import Task, TaskEvent, TaskStatus

TICKER = {"steps": 2, "interval": 0}
CHANGELIST = "/admin/tasks_app/task/"


def act(client: Client, action: str, tasks, *, confirmed: bool):
    data = {"action": action, "_selected_action": [str(task.pk) for task in tasks]}
    if confirmed:
        data["confirmed"] = "yes"
    return client.post(CHANGELIST, data, follow=confirmed)


def said(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def test_the_task_list_is_for_staff_only(create_task, user):
    create_task("ticker", TICKER)
    client = Client()
    client.force_login(user)

    response = client.get(CHANGELIST)

    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_the_task_list_shows_progress_as_a_bar_newest_first(operator_client, create_task):
    older, newer = create_task("ticker", TICKER), create_task("ticker", TICKER)

    page = operator_client.get(CHANGELIST).content.decode()

    assert '<progress value="0.0" max="100"' in page
    assert page.index(str(newer.id)[:8]) < page.index(str(older.id)[:8])


def test_the_task_list_costs_the_same_queries_for_many_tasks_as_for_few(
    operator_client, create_task, other_user
):
    def queries_for_list() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert operator_client.get(CHANGELIST).status_code == 200
        return len(captured)

    create_task("ticker", TICKER)
    few = queries_for_list()
    for n in range(30):
        create_task("ticker", TICKER, owner=other_user if n % 2 else None)

    assert queries_for_list() == few


def test_the_list_filters_by_status_kind_and_owner(operator_client, create_task, other_user):
    mine, theirs = create_task("ticker", TICKER), create_task("ticker", TICKER, owner=other_user)
    services.task_cancel(task_id=theirs.id)

    page = operator_client.get(
        CHANGELIST, {"status": "cancelled", "kind": "ticker", "owner__id__exact": other_user.pk}
    )

    assert str(theirs.id)[:8] in page.content.decode()
    assert str(mine.id)[:8] not in page.content.decode()


def test_a_tasks_page_shows_its_timeline_and_follows_it_live(operator_client, create_task):
    task = create_task("ticker", TICKER)
    services.task_start(task_id=task.id)

    page = operator_client.get(f"{CHANGELIST}{task.id}/change/").content.decode()

    assert f'data-task-id="{task.id}"' in page
    assert "tasks_app/admin-live.js" in page
    assert "Waiting for a worker" in page  # the message of event 1 in the timeline
    assert 'name="kind"' not in page, "a task's fields are read-only"


def test_a_workflows_page_lists_its_steps_in_order(operator_client, user, monkeypatch):
    monkeypatch.setattr(services, "_enqueue", lambda task: None)
    steps = [
        services.WorkflowStep(name=name, params={"args": [], "kwargs": {}})
        for name in ("app.first", "app.then")
    ]
    workflow = services.workflow_create(owner=user, shape="chain", steps=steps)

    page = operator_client.get(f"{CHANGELIST}{workflow.id}/change/").content.decode()

    assert page.index("app.first") < page.index("app.then")
    assert "Waiting for the steps before it" in page


def test_an_action_asks_for_confirmation_first_and_changes_nothing_yet(operator_client, create_task):
    task = create_task("ticker", TICKER)

    response = act(operator_client, "cancel_tasks", [task], confirmed=False)

    assert "Are you sure?" in response.content.decode()
    assert Task.objects.get(pk=task.id).status == TaskStatus.PENDING


def test_cancel_ends_pending_tasks_asks_running_ones_and_skips_finished_ones(operator_client, create_task):
    pending, running, finished = (create_task("ticker", TICKER) for _ in range(3))
    services.task_start(task_id=running.id)
    services.task_cancel(task_id=finished.id)

    response = act(operator_client, "cancel_tasks", [pending, running, finished], confirmed=True)

    assert said(response) == ["Cancelled 2 tasks. 1 was skipped: its status does not allow it."]
    assert Task.objects.get(pk=pending.id).status == TaskStatus.CANCELLED
    assert TaskEvent.objects.filter(task=pending, type="complete").count() == 1
    assert Task.objects.get(pk=running.id).cancel_requested is True


def test_retry_makes_a_new_task_with_the_same_input_linked_to_the_original(
    operator_client, create_task, upload
):
    failed = create_task("document", file=upload("notes.txt", "Some words."))
    services.task_fail(task_id=failed.id, error="it broke")

    response = act(operator_client, "retry_tasks", [failed], confirmed=True)

    retry = Task.objects.get(retry_of=failed)
    assert said(response) == ["Retried 1 task."]
    assert (retry.kind, retry.params, retry.status, retry.owner) == (
        failed.kind,
        failed.params,
        "pending",
        failed.owner,
    )
    assert retry.input_file.read() == b"Some words."
    assert retry.input_file.name != failed.input_file.name


def test_retry_skips_a_task_that_did_not_fail(operator_client, create_task):
    task = create_task("ticker", TICKER)

    response = act(operator_client, "retry_tasks", [task], confirmed=True)

    assert said(response) == ["Retried 0 tasks. 1 was skipped: its status does not allow it."]
    assert Task.objects.count() == 1


def test_mark_failed_ends_a_stuck_running_task_and_tells_its_clients(operator_client, create_task):
    stuck = create_task("ticker", TICKER)
    services.task_start(task_id=stuck.id)

    act(operator_client, "mark_tasks_failed", [stuck], confirmed=True)

    stuck.refresh_from_db()
    complete = TaskEvent.objects.get(task=stuck, type="complete")
    assert stuck.status == TaskStatus.FAILED
    assert "Marked failed by an operator (ops)" in stuck.error
    assert complete.payload["error"] == stuck.error


def staff_in(group: str) -> Client:
    from django.contrib.auth.models import Group

    member = get_user_model().objects.create_user(f"{group.lower()}-member", password="x", is_staff=True)
    member.groups.add(Group.objects.get(name=group))
    client = Client()
    client.force_login(member)
    return client


def test_a_staff_user_in_operators_cancels_a_task_from_the_admin(create_task):
    task = create_task("ticker", TICKER)
    operator = staff_in("Operators")

    assert operator.get(CHANGELIST).status_code == 200
    assert operator.get(f"{CHANGELIST}{task.id}/change/").status_code == 200
    act(operator, "cancel_tasks", [task], confirmed=True)

    assert Task.objects.get(pk=task.id).status == TaskStatus.CANCELLED


def test_a_viewer_sees_tasks_and_their_timeline_but_is_offered_no_action(create_task):
    task = create_task("ticker", TICKER)
    viewer = staff_in("Viewers")

    page = viewer.get(CHANGELIST).content.decode()
    timeline = viewer.get(f"{CHANGELIST}{task.id}/change/").content.decode()
    act(viewer, "cancel_tasks", [task], confirmed=True)

    assert str(task.id)[:8] in page and "cancel_tasks" not in page
    assert "Waiting for a worker" in timeline
    assert Task.objects.get(pk=task.id).status == TaskStatus.PENDING


def test_a_staff_user_in_no_group_is_refused_the_control_room(create_task):
    create_task("ticker", TICKER)
    client = Client()
    client.force_login(get_user_model().objects.create_user("bare-staff", password="x", is_staff=True))

    assert client.get(CHANGELIST).status_code == 403
