"""Reads by SQL made once give what the ORM gives: model instances and values alike, on SQLite
(bin/test runs this file there too) and on PostgreSQL."""

from datetime import timedelta

import pytest

from django.contrib.sessions.models import Session
from django.utils import timezone

from tasks_app import selectors, services
from tasks_app.db.model_reader import ModelReader
from tasks_app.models import Task, TaskEvent

pytestmark = pytest.mark.django_db


def fields_of(instance) -> dict:
    return {field.attname: getattr(instance, field.attname) for field in type(instance)._meta.concrete_fields}


@pytest.fixture
def finished_task(create_task):
    """A task with every kind of column filled: JSON params and result, dates, a UUID, nulls."""
    task = create_task("ticker", {"steps": 2, "interval": 0, "label": "ünïcode"})
    services.task_start(task_id=task.id)
    services.task_progress(task_id=task.id, progress=50, current=1, total=2, message="half")
    services.task_complete(task_id=task.id, result={"rows": [1, 2], "ok": True})
    return task


def test_a_model_read_is_the_instance_the_orm_reads(finished_task):
    read = ModelReader(Task, where=("id",)).instances(finished_task.id)

    assert len(read) == 1
    assert fields_of(read[0]) == fields_of(Task.objects.get(pk=finished_task.id))
    assert read[0]._state.adding is False


def test_a_read_of_some_fields_gives_the_values_the_orm_gives_in_order(finished_task):
    reader = ModelReader(
        TaskEvent, fields=("seq", "payload", "created_at"), where=("task", "seq__gt"), order_by="seq"
    )

    rows = reader.rows(finished_task.id, 1)

    expected = TaskEvent.objects.filter(task=finished_task, seq__gt=1).order_by("seq")
    assert rows == [list(values) for values in expected.values_list("seq", "payload", "created_at")]
    assert [row[0] for row in rows] == [2, 3, 4]


def test_a_read_that_matches_nothing_is_empty(finished_task, other_user):
    assert ModelReader(Task, where=("id", "owner")).instances(finished_task.id, other_user.pk) == []


def test_a_greater_than_condition_compares_dates_as_the_database_stores_them(client, user):
    client.force_login(user)
    key = client.cookies["sessionid"].value
    unexpired = ModelReader(Session, fields=("session_key",), where=("session_key", "expire_date__gt"))

    assert unexpired.rows(key, timezone.now()) == [[key]]
    assert unexpired.rows(key, timezone.now() + timedelta(days=365)) == []


def test_a_task_is_visible_to_its_owner_and_staff_and_no_one_else(
    finished_task, user, other_user, staff_user
):
    assert selectors.task_visible_to(user=user, task_id=finished_task.id).pk == finished_task.id
    assert selectors.task_visible_to(user=staff_user, task_id=str(finished_task.id)).pk == finished_task.id
    assert selectors.task_visible_to(user=other_user, task_id=finished_task.id) is None
    assert selectors.task_visible_to(user=user, task_id="not-a-uuid") is None
