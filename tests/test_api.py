import threading

import pytest

from django.test import Client

from tasks_app import selectors, services
from tasks_app.models import Task, TaskStatus
from tasks_app.realtime import resume
from tests.contract import assert_task_message

# The polling reads run on the consumers' database threads, whose connections see only what
# is committed.
pytestmark = pytest.mark.django_db(transaction=True)

TICKER = {"kind": "ticker", "params": {"steps": 2, "interval": 0}}


@pytest.fixture
def client(user):
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture(autouse=True)
def no_worker(monkeypatch):
    """The API is tested on its own; what a worker does is tested in test_tasks and integration."""
    monkeypatch.setattr("tasks_app.services._enqueue", lambda task_id: None)


def test_creating_a_task_answers_201_with_the_task_and_its_socket_url(client):
    response = client.post("/api/tasks/", TICKER, content_type="application/json")

    body = response.json()
    assert response.status_code == 201
    assert (body["kind"], body["status"], body["seq"], body["params"]) == (
        "ticker",
        "pending",
        1,
        {"steps": 2, "interval": 0.0},
    )
    assert body["ws_url"] == f"ws://testserver/ws/tasks/{body['task_id']}/"
    assert body["sse_url"] == f"http://testserver/sse/tasks/{body['task_id']}/"


def test_a_document_upload_creates_a_task_that_keeps_the_file(client, upload):
    response = client.post("/api/tasks/", {"kind": "document", "file": upload("notes.txt", "Hello world.")})

    task = Task.objects.get(pk=response.json()["task_id"])
    assert response.status_code == 201
    assert task.input_file.read() == b"Hello world."


@pytest.mark.parametrize(
    ("payload", "field", "message_part"),
    [
        ({"kind": "juggle", "params": {}}, "kind", "Unknown kind"),
        ({"kind": "ticker", "params": {"steps": "ten", "interval": 0}}, "steps", "whole number"),
        ({"kind": "ticker", "params": {"steps": 0, "interval": 0}}, "steps", "greater than or equal to 1"),
        ({"kind": "ticker", "params": {"steps": 5, "interval": 11}}, "interval", "less than or equal to 10"),
        ({"kind": "document", "params": {}}, "file", "required"),
        ({"kind": "ticker", "params": "steps=2"}, "params", "JSON object"),
        ({"kind": "batch_report", "params": {"dataset": "999"}}, "dataset", "No imported dataset"),
        ({"kind": "batch_report", "params": {"group_by": "colour"}}, "group_by", "Choose one of"),
    ],
)
def test_invalid_input_answers_400_with_field_errors_and_stores_nothing(client, payload, field, message_part):
    response = client.post("/api/tasks/", payload, content_type="application/json")

    assert response.status_code == 400
    assert message_part in " ".join(response.json()["errors"][field])
    assert not Task.objects.exists()


@pytest.mark.parametrize(
    ("kind", "file_name", "content", "message_part"),
    [
        ("document", "empty.txt", b"", "empty"),
        ("document", "picture.png", b"\x89PNG", "Upload a file ending in"),
        ("data_import", "data.xlsx", b"PK\x03\x04", "Upload a file ending in"),
        (
            "data_import",
            "latin.csv",
            "name\nJosé\n".encode("latin-1"),
            "not UTF-8 text (invalid byte at position 8)",
        ),
        ("data_import", "binary.csv", b"name\n\x00\x01\x02\x03", "binary data"),
        ("document", "fake.pdf", b"this is not a pdf at all", "not a PDF file"),
        ("document", "cut.txt", "café".encode()[:-1], "ends inside a character"),
    ],
)
def test_a_bad_upload_answers_400_and_stores_nothing(client, upload, kind, file_name, content, message_part):
    response = client.post(
        "/api/tasks/", {"kind": kind, "columns": "a:text", "file": upload(file_name, content)}
    )

    assert response.status_code == 400
    assert message_part in " ".join(response.json()["errors"]["file"])
    assert not Task.objects.exists()


def test_an_upload_is_stored_under_a_name_of_our_making(client, upload):
    response = client.post(
        "/api/tasks/", {"kind": "document", "file": upload("../../etc/evil name;.TXT", "Hello world.")}
    )

    task = Task.objects.get(pk=response.json()["task_id"])
    assert task.input_file.name == f"uploads/{task.id}/input.txt"
    assert task.params["filename"] == "evil name;.TXT"


def test_malformed_json_answers_400(client):
    response = client.post("/api/tasks/", "{kind:", content_type="application/json")

    assert (response.status_code, response.json()["error"]) == (400, "invalid_request")


def test_an_anonymous_request_answers_401():
    assert Client().get("/api/tasks/").status_code == 401


def test_a_session_client_without_a_csrf_token_is_refused(user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)

    response = client.post("/api/tasks/", TICKER, content_type="application/json")

    assert response.status_code == 403
    assert not Task.objects.exists()


def test_the_list_holds_only_my_tasks_newest_first(client, create_task, other_user):
    older = create_task("ticker", TICKER["params"])
    newer = create_task("ticker", TICKER["params"])
    create_task("ticker", TICKER["params"], owner=other_user)

    body = client.get("/api/tasks/").json()

    assert body["count"] == 2
    assert [task["task_id"] for task in body["results"]] == [str(newer.id), str(older.id)]


def test_the_list_is_paginated(client, create_task, settings):
    settings.TASKPULSE_TASKS_PAGE_SIZE = 2
    for _ in range(3):
        create_task("ticker", TICKER["params"])

    first = client.get("/api/tasks/").json()
    second = client.get("/api/tasks/?page=2").json()

    assert (len(first["results"]), first["next"], len(second["results"]), second["next"]) == (2, 2, 1, None)


def test_reading_another_users_task_answers_404(client, create_task, other_user):
    task = create_task("ticker", TICKER["params"], owner=other_user)

    assert client.get(f"/api/tasks/{task.id}/").status_code == 404


def test_reading_my_task_returns_its_current_state(client, create_task):
    task = create_task("ticker", TICKER["params"])
    services.task_start(task_id=task.id)

    body = client.get(f"/api/tasks/{task.id}/").json()

    assert (body["status"], body["seq"]) == ("running", 2)


def test_cancelling_a_pending_task_ends_it_cancelled(client, create_task):
    task = create_task("ticker", TICKER["params"])

    response = client.post(f"/api/tasks/{task.id}/cancel/")

    assert (response.status_code, response.json()["status"]) == (202, "cancelled")


def test_cancelling_a_finished_task_answers_409(client, create_task):
    task = create_task("ticker", TICKER["params"])
    services.task_cancel(task_id=task.id)

    assert client.post(f"/api/tasks/{task.id}/cancel/").status_code == 409


def test_cancelling_another_users_task_answers_404_and_changes_nothing(client, create_task, other_user):
    task = create_task("ticker", TICKER["params"], owner=other_user)

    response = client.post(f"/api/tasks/{task.id}/cancel/")

    assert response.status_code == 404
    assert Task.objects.get(pk=task.id).status == TaskStatus.PENDING


def test_events_after_a_seq_are_the_ones_a_poller_missed_in_order(client, create_task):
    task = create_task("ticker", TICKER["params"])
    services.task_start(task_id=task.id)
    services.task_complete(task_id=task.id, result={"steps": 2})

    body = client.get(f"/api/tasks/{task.id}/events/?after=1").json()

    assert [(message["type"], message["seq"]) for message in body["messages"]] == [
        ("progress", 2),
        ("complete", 3),
    ]
    for message in body["messages"]:
        assert_task_message(message)


def test_events_without_after_start_with_a_snapshot(client, create_task):
    task = create_task("ticker", TICKER["params"])

    body = client.get(f"/api/tasks/{task.id}/events/").json()

    assert [(message["type"], message["seq"]) for message in body["messages"]] == [("snapshot", 1)]


@pytest.mark.parametrize("after", ["7", "-2", "x"])
def test_events_after_a_seq_history_cannot_serve_give_a_snapshot_that_says_so(client, create_task, after):
    task = create_task("ticker", TICKER["params"])

    messages = client.get(f"/api/tasks/{task.id}/events/?after={after}").json()["messages"]

    assert [(message["type"], message["recovered"]) for message in messages] == [("snapshot", False)]


def test_events_of_another_users_task_answer_404(client, create_task, other_user):
    task = create_task("ticker", TICKER["params"], owner=other_user)

    assert client.get(f"/api/tasks/{task.id}/events/?after=0").status_code == 404


def test_the_socket_and_the_events_endpoint_send_the_same_events(client, create_task):
    """Both are built by messages.py from one history, so the transports cannot drift apart."""
    task = create_task("ticker", TICKER["params"])
    services.task_start(task_id=task.id)

    polled = client.get(f"/api/tasks/{task.id}/events/?after=0").json()["messages"]

    assert polled == resume.opening_messages(task_id=task.id, last_seq="0")


def test_the_polling_reads_query_on_the_few_database_threads_not_a_thread_per_request(
    client, create_task, monkeypatch
):
    task = create_task("ticker", {"steps": 1, "interval": 0})
    threads = []
    visible_to = selectors.task_visible_to

    def recording(**kwargs):
        threads.append(threading.current_thread().name)
        return visible_to(**kwargs)

    monkeypatch.setattr(selectors, "task_visible_to", recording)

    detail = client.get(f"/api/tasks/{task.id}/")
    events = client.get(f"/api/tasks/{task.id}/events/")

    assert (detail.status_code, events.status_code) == (200, 200)
    assert len(threads) == 2 and all(name.startswith("taskpulse-db") for name in threads), threads
