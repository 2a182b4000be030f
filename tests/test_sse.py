import pytest

from django.test import Client

from tasks_app.realtime.sse import format_event

# The stream reads on the consumers' database threads, whose connections see only what is committed.
pytestmark = pytest.mark.django_db(transaction=True)


def test_an_event_is_framed_with_its_seq_as_id_and_its_type_as_event():
    frame = format_event({"type": "progress", "seq": 7, "progress": 50.0})

    assert frame == 'id: 7\nevent: progress\ndata: {"type": "progress", "seq": 7, "progress": 50.0}\n\n'


def test_an_anonymous_event_stream_answers_401(create_task):
    task = create_task("ticker", {"steps": 1, "interval": 0})

    assert Client().get(f"/sse/tasks/{task.id}/").status_code == 401


def test_another_users_event_stream_answers_404(create_task, user, other_user):
    task = create_task("ticker", {"steps": 1, "interval": 0}, owner=other_user)
    client = Client()
    client.force_login(user)

    assert client.get(f"/sse/tasks/{task.id}/", headers={"Sec-Fetch-Site": "same-origin"}).status_code == 404
