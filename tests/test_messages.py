import re
from datetime import UTC, datetime

from tasks_app import services
from tasks_app.models import Task
from tasks_app.realtime import messages

ISO_MILLISECONDS_UTC = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
TASK_FIELDS = {"task_id", "kind", "status", "progress", "current", "total", "message", "seq", "timestamp"}


def test_timestamps_are_iso_8601_utc_with_milliseconds():
    assert (
        messages.timestamp(datetime(2026, 11, 23, 7, 46, 0, 123456, tzinfo=UTC)) == "2026-11-23T07:46:00.123Z"
    )
    assert ISO_MILLISECONDS_UTC.match(messages.timestamp())


def test_a_snapshot_carries_every_task_field_of_the_contract(create_task):
    task = create_task("ticker", {"steps": 2, "interval": 0})

    snapshot = messages.snapshot(task)

    assert snapshot["type"] == "snapshot"
    assert TASK_FIELDS <= snapshot.keys()
    assert (snapshot["status"], snapshot["seq"], snapshot["progress"]) == ("pending", 1, 0.0)
    assert "result" not in snapshot


def test_a_snapshot_of_a_finished_task_carries_result_and_error(create_task):
    task = create_task("ticker", {"steps": 2, "interval": 0})
    services.task_start(task_id=task.id)
    services.task_complete(task_id=task.id, result={"steps": 2})

    snapshot = messages.snapshot(Task.objects.get(pk=task.id))

    assert (snapshot["result"], snapshot["error"]) == ({"steps": 2}, None)


def test_a_snapshot_after_a_lost_resume_says_it_did_not_recover(create_task):
    task = create_task("ticker", {"steps": 2, "interval": 0})

    assert messages.snapshot(task, recovered=False)["recovered"] is False


def test_an_error_names_its_code_and_details():
    error = messages.error("invalid_message", "The message needs a type.", details={"type": "missing"})

    assert {key: error[key] for key in ("type", "code", "details")} == {
        "type": "error",
        "code": "invalid_message",
        "details": {"type": "missing"},
    }
