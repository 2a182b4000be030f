"""The `batch_report` kind: one report per group of a dataset (the N largest), each a CSV and an HTML file.

The dataset is one the user imported, or the sample sales dataset the project ships.
"""

import csv
import io
from collections import defaultdict

from django import forms
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from tasks_app import selectors
from tasks_app.models import Task, TaskFile
from tasks_app.progress_tasks import progress_task
from tasks_app.work import sample_dataset
from tasks_app.work.base import Kind, KindForm, Reporter, WorkError, number_format, owner_of

SAMPLE = "sample"
NUMERIC_TYPES = ("integer", "number")
HTML_ROWS_SHOWN = 200
LOAD_CHUNK = 2000


class BatchReportParams(KindForm):
    dataset = forms.CharField(required=False, help_text='"sample" or the id of one of your imported datasets')
    group_by = forms.CharField(required=False, max_length=100)
    reports = forms.IntegerField(min_value=1, max_value=50, required=False)

    def clean_dataset(self) -> str:
        source = (self.cleaned_data["dataset"] or SAMPLE).strip()
        if source == SAMPLE:
            self.columns = sample_dataset.COLUMNS
            return source
        dataset = None
        if source.isdigit():
            dataset = selectors.dataset_ready_for_owner(owner=self.owner, dataset_id=int(source))
        if dataset is None:
            raise forms.ValidationError(
                f'No imported dataset {source!r} of yours is ready; use "sample" or import one.'
            )
        self.columns = dataset.columns
        return source

    def clean(self) -> dict:
        cleaned = super().clean() or {}
        if "dataset" not in cleaned:
            return cleaned
        columns: list[dict] = self.columns
        names: list[str] = [column["name"] for column in columns]
        group_by = cleaned.get("group_by") or next(
            (column["name"] for column in columns if column["type"] == "text"), names[0]
        )
        if group_by not in names:
            self.add_error(
                "group_by",
                _("Choose one of the dataset's columns: %(columns)s.") % {"columns": ", ".join(names)},
            )
        cleaned["group_by"] = group_by
        cleaned["reports"] = cleaned.get("reports") or 5
        return cleaned


@progress_task(name="batch_report", keyword_params=True)
def run(reporter: Reporter, dataset: str, group_by: str, reports: int) -> dict:
    task = reporter.task
    # A redelivered run starts over; the files of an earlier attempt would clash by name.
    TaskFile.objects.filter(task=task).delete()
    reporter.step(_("Loading the dataset"), until=20)
    name, columns, rows = _load(dataset, task, reporter)
    groups = largest_groups(rows, group_by, reports)
    reporter.step(_("Writing reports"), until=100)
    written = []
    for number, (value, group_rows) in enumerate(groups, start=1):
        files = _write_report(task, reporter, number, value, columns, group_rows, dataset_name=name)
        written.append({"group": value, "rows": len(group_rows), "files": files})
        reporter.update(
            number,
            len(groups),
            _("Report %(number)s of %(count)s: %(group)s")
            % {"number": number, "count": len(groups), "group": value},
        )
    return {"dataset": name, "group_by": group_by, "reports": written}


def _load(source: str, task: Task, reporter: Reporter) -> tuple[str, list[dict], list[dict]]:
    if source == SAMPLE:
        return str(sample_dataset.NAME), sample_dataset.COLUMNS, sample_dataset.rows()
    dataset = selectors.dataset_ready_for_owner(owner=owner_of(task), dataset_id=int(source))
    if dataset is None:
        raise WorkError(
            _("Dataset %(dataset)s was deleted after this report was asked for.") % {"dataset": source}
        )
    rows = []
    for values in selectors.dataset_rows(dataset=dataset, chunk_size=LOAD_CHUNK):
        rows.append(values)
        if len(rows) % LOAD_CHUNK == 0:
            reporter.update(
                len(rows),
                dataset.row_count,
                _("Loaded %(rows)s of %(total)s rows")
                % {"rows": number_format(len(rows)), "total": number_format(dataset.row_count)},
            )
    return dataset.name, dataset.columns, rows


def largest_groups(rows: list[dict], column: str, count: int) -> list[tuple[str, list[dict]]]:
    """The `count` largest groups of rows by the value of `column`, largest first."""
    groups: dict[str, list[dict]] = defaultdict(list)
    for row in rows:
        value = row.get(column)
        groups["(blank)" if value is None else str(value)].append(row)
    ranked = sorted(groups.items(), key=lambda item: (-len(item[1]), item[0]))
    return ranked[:count]


def summarise(columns: list[dict], rows: list[dict]) -> list[dict]:
    """Count, sum, mean, min and max of each numeric column."""
    summary = []
    for column in (column for column in columns if column["type"] in NUMERIC_TYPES):
        values = [row[column["name"]] for row in rows if row.get(column["name"]) is not None]
        if values:
            summary.append(
                {
                    "column": column["name"],
                    "count": len(values),
                    "sum": round(sum(values), 2),
                    "mean": round(sum(values) / len(values), 2),
                    "min": min(values),
                    "max": max(values),
                }
            )
    return summary


def _write_report(task, reporter: Reporter, number, value, columns, rows, *, dataset_name) -> list[dict]:
    stem = f"{number:02d}-{slugify(value) or 'group'}"
    names = [column["name"] for column in columns]
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=names, extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    html = render_to_string(
        "tasks_app/report.html",
        {
            "title": f"{task.params['group_by']} = {value}",
            "dataset_name": dataset_name,
            "row_count": len(rows),
            "summary": summarise(columns, rows),
            "names": names,
            "rows": [[row.get(name) for name in names] for row in rows[:HTML_ROWS_SHOWN]],
            "rows_shown": min(len(rows), HTML_ROWS_SHOWN),
        },
    )
    stored = [
        reporter.add_file(name=f"{stem}.csv", content=buffer.getvalue().encode(), content_type="text/csv"),
        reporter.add_file(name=f"{stem}.html", content=html.encode(), content_type="text/html"),
    ]
    return [
        {
            "name": item.name,
            "size": item.size,
            "url": reverse("task-file", kwargs={"task_id": task.id, "name": item.name}),
        }
        for item in stored
    ]


KIND = Kind(label=gettext_lazy("Generate a batch of reports"), form=BatchReportParams, task=run)
