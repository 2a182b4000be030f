import csv
import io

from django.test import Client

from tasks_app.models import Task, TaskFile, TaskStatus
from tasks_app.work import sample_dataset
from tests.helpers import run_kind


def _report(create_task, params: dict) -> Task:
    task = create_task("batch_report", params)
    run_kind(task)
    return Task.objects.get(pk=task.id)


def test_the_sample_dataset_is_the_same_on_every_call():
    first = sample_dataset.rows()

    assert first == sample_dataset.rows()
    assert len(first) == sample_dataset.ROWS


def test_one_report_per_largest_group_each_with_a_csv_and_an_html_file(create_task):
    task = _report(create_task, {"reports": 3})

    reports = task.result["reports"]
    assert task.status == TaskStatus.COMPLETED
    assert task.result["group_by"] == "region"
    assert len(reports) == 3
    assert [report["rows"] for report in reports] == sorted((r["rows"] for r in reports), reverse=True)
    assert [file["name"].rsplit(".", 1)[1] for file in reports[0]["files"]] == ["csv", "html"]
    assert TaskFile.objects.filter(task=task).count() == 6


def test_a_report_csv_holds_exactly_the_rows_of_its_group(create_task):
    task = _report(create_task, {"reports": 1, "group_by": "product"})
    report = task.result["reports"][0]

    stored = TaskFile.objects.get(task=task, name=report["files"][0]["name"])
    rows = list(csv.DictReader(io.StringIO(stored.file.read().decode())))

    assert len(rows) == report["rows"]
    assert {row["product"] for row in rows} == {report["group"]}


def test_reports_can_run_over_an_imported_dataset(create_task, upload):
    content = "city,amount\nOslo,10\nOslo,5\nRome,7\n"
    imported = create_task(
        "data_import", {"columns": "city:text, amount:number"}, file=upload("sales.csv", content)
    )
    run_kind(imported)
    dataset_id = Task.objects.get(pk=imported.id).result["dataset_id"]

    task = _report(create_task, {"dataset": str(dataset_id), "reports": 5})

    assert [(report["group"], report["rows"]) for report in task.result["reports"]] == [
        ("Oslo", 2),
        ("Rome", 1),
    ]


def test_report_files_download_for_their_owner_only(create_task, user, other_user):
    task = _report(create_task, {"reports": 1})
    url = task.result["reports"][0]["files"][1]["url"]
    owner, stranger = Client(), Client()
    owner.force_login(user)
    stranger.force_login(other_user)

    response = owner.get(url)

    assert response.status_code == 200
    assert b"<table>" in b"".join(response.streaming_content)
    assert response["Content-Security-Policy"] == "sandbox"
    assert stranger.get(url).status_code == 404
