import pytest

from django import forms

from tasks_app import services
from tasks_app.models import Dataset, DatasetRow, DatasetStatus, Task, TaskStatus
from tasks_app.work.data_import import parse_column_spec
from tests.helpers import run_kind

COLUMNS = "name:text, email:email, age:integer?"


def _import(create_task, upload, content: bytes | str, columns: str = COLUMNS) -> Task:
    task = create_task("data_import", {"columns": columns}, file=upload("people.csv", content))
    run_kind(task)
    return Task.objects.get(pk=task.id)


def test_valid_rows_are_imported_into_a_ready_dataset(create_task, upload):
    content = "name,email,age\nAda,ada@example.org,36\nAlan,alan@example.org,\n"

    task = _import(create_task, upload, content)

    dataset = Dataset.objects.get(task=task)
    assert task.status == TaskStatus.COMPLETED
    assert (dataset.status, dataset.row_count) == (DatasetStatus.READY, 2)
    assert list(DatasetRow.objects.filter(dataset=dataset).values_list("values", flat=True)) == [
        {"name": "Ada", "email": "ada@example.org", "age": 36},
        {"name": "Alan", "email": "alan@example.org", "age": None},
    ]


def test_invalid_rows_are_rejected_with_their_line_number_and_reason(create_task, upload):
    content = (
        "name,email,age\n"
        "Ada,ada@example.org,36\n"
        "Bob,not-an-email,40\n"
        ",carol@example.org,5\n"
        "Dan,dan@example.org,old\n"
    )

    result = _import(create_task, upload, content).result

    assert (result["rows_total"], result["rows_imported"], result["rows_rejected"]) == (4, 1, 3)
    assert result["rejected"] == [
        {"line": 3, "reason": "email: 'not-an-email' is not a valid email"},
        {"line": 4, "reason": "name is required"},
        {"line": 5, "reason": "age: 'old' is not a valid integer"},
    ]


def test_header_columns_are_matched_by_name_in_any_order(create_task, upload):
    content = "Age,Email,Name,extra\n30,zoe@example.org,Zoe,x\n"

    result = _import(create_task, upload, content).result

    assert result["rows_imported"] == 1


@pytest.mark.parametrize(
    ("content", "error_part"),
    [
        (b"Ada,ada@example.org,36\n", "header naming the declared columns"),
        (b"   \n", "empty"),
        ('{"name": "Ada", "email": "ada@example.org"}', "header naming the declared columns"),
    ],
    ids=["missing header", "blank", "json, not csv"],
)
def test_a_malformed_file_fails_with_a_clear_error_and_leaves_nothing_behind(
    create_task, upload, content, error_part
):
    task = _import(create_task, upload, content)

    assert task.status == TaskStatus.FAILED
    assert error_part in task.error
    assert not Dataset.objects.exists()
    assert not DatasetRow.objects.exists()


def test_an_import_cancelled_midway_leaves_nothing_behind(create_task, upload, monkeypatch, settings):
    settings.TASKPULSE_PROGRESS_EVENTS_PER_SECOND = 1_000_000  # every batch reports
    content = "name,email,age\n" + "".join(f"P{i},p{i}@example.org,{i}\n" for i in range(2000))
    task = create_task("data_import", {"columns": COLUMNS}, file=upload("people.csv", content))
    real_progress = services.task_progress_in_run
    calls = []

    def progress_then_cancel(**kwargs):
        calls.append(kwargs)
        if len(calls) == 3:  # after the first batches are inserted
            services.task_cancel(task_id=task.id)
        return real_progress(**kwargs)

    monkeypatch.setattr(services, "task_progress_in_run", progress_then_cancel)

    run_kind(task)

    assert Task.objects.get(pk=task.id).status == TaskStatus.CANCELLED
    assert not Dataset.objects.exists()
    assert not DatasetRow.objects.exists()


@pytest.mark.parametrize(
    ("spec", "error_part"),
    [
        ("name", "name:type"),
        ("name:colour", "type must be one of"),
        ("name:text, Name:text", "declared once"),
        (" , ", "at least one column"),
    ],
)
def test_a_bad_column_declaration_is_explained(spec, error_part):
    with pytest.raises(forms.ValidationError) as raised:
        parse_column_spec(spec)

    assert error_part in raised.value.messages[0]


def test_optional_columns_are_marked_with_a_question_mark():
    assert parse_column_spec("age:integer?") == [{"name": "age", "type": "integer", "required": False}]
