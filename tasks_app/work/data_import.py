"""The `data_import` kind: a CSV file, checked row by row against declared columns, into a dataset.

The file is read and parsed whole before anything is inserted, so a malformed file fails
with nothing written. Valid rows are inserted in batches (progress per batch); if the run
fails or is cancelled after that, the dataset is deleted, so nothing half-imported stays.
"""

import csv
import io
import re
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from tasks_app.models import Dataset, DatasetRow, DatasetStatus
from tasks_app.progress_tasks import progress_task
from tasks_app.work.base import Kind, KindForm, Reporter, UploadField, WorkError, number_format, owner_of

BATCH_SIZE = 500
REJECTED_ROWS_SHOWN = 50
COLUMN_TYPES = ("text", "integer", "number", "boolean", "date", "email")
_COLUMN_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_ -]{0,62}$")
_TRUE = {"true", "yes", "1", "y"}
_FALSE = {"false", "no", "0", "n"}


def parse_column_spec(spec: str) -> list[dict]:
    """`"email:email, name:text, age:integer?"` → column declarations; `?` marks optional."""
    columns: list[dict[str, Any]] = []
    for item in (part.strip() for part in spec.split(",")):
        if not item:
            continue
        name, _colon, column_type = (piece.strip() for piece in item.rpartition(":"))
        required = not column_type.endswith("?")
        column_type = column_type.rstrip("?").strip().lower()
        if not name or not _COLUMN_NAME.match(name):
            raise forms.ValidationError(
                _("%(item)r: write each column as name:type, e.g. email:email.") % {"item": item}
            )
        if column_type not in COLUMN_TYPES:
            raise forms.ValidationError(
                _("%(item)r: the type must be one of %(types)s.")
                % {"item": item, "types": ", ".join(COLUMN_TYPES)}
            )
        columns.append({"name": name, "type": column_type, "required": required})
    if not columns:
        raise forms.ValidationError(_("Declare at least one column, e.g. name:text, email:email."))
    names = [column["name"].lower() for column in columns]
    if len(set(names)) != len(names):
        raise forms.ValidationError(_("Each column may be declared once."))
    return columns


class DataImportParams(KindForm):
    file = UploadField(extensions=(".csv", ".txt"))
    columns = forms.CharField(max_length=2000, help_text="name:type, comma separated; ? marks optional")
    name = forms.CharField(max_length=200, required=False)

    def clean_columns(self) -> list[dict]:
        return parse_column_spec(self.cleaned_data["columns"])

    def params(self) -> dict:
        filename = self.cleaned_data["file"].name
        return {
            "filename": filename,
            "columns": self.cleaned_data["columns"],
            "name": self.cleaned_data["name"] or filename,
        }


@progress_task(name="data_import", keyword_params=True)
def run(reporter: Reporter, filename: str, columns: list[dict], name: str) -> dict:
    task = reporter.task
    reporter.step(_("Reading the file"), until=10)
    header, rows = read_csv(task.input_file, columns)
    dataset = Dataset.objects.create(owner=owner_of(task), task=task, name=name, columns=columns)
    try:
        reporter.step(_("Importing rows"), until=99)
        summary = _insert_rows(dataset, header, rows, columns, reporter)
        dataset.status = DatasetStatus.READY
        dataset.row_count = summary["rows_imported"]
        dataset.save(update_fields=["status", "row_count"])
    except BaseException:
        dataset.delete()
        raise
    return {"dataset_id": dataset.id, "dataset_name": dataset.name, **summary}


def read_csv(file_field, columns: list[dict]) -> tuple[dict[str, int], list[tuple[int, list[str]]]]:
    """The header's column positions and every data row with its line number, or WorkError."""
    with file_field.open("rb") as handle:
        raw = handle.read()
    if not raw.strip():
        raise WorkError(_("The file is empty."))
    # UTF-8 without NUL bytes: UploadField checked it when it was submitted.
    text = raw.decode("utf-8-sig")
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = _header_positions(next(reader, []), columns)
        rows = [(reader.line_num, row) for row in reader if any(cell.strip() for cell in row)]
    except csv.Error as exc:
        raise WorkError(
            _("This is not a valid CSV file (line %(line)s: %(error)s).")
            % {"line": reader.line_num, "error": exc}
        ) from exc
    return header, rows


def _header_positions(first_row: list[str], columns: list[dict]) -> dict[str, int]:
    found = {cell.strip().lower(): position for position, cell in enumerate(first_row)}
    missing = [column["name"] for column in columns if column["name"].lower() not in found]
    if missing:
        raise WorkError(
            _(
                "The first line must be a header naming the declared columns; "
                "missing: %(missing)s. Found: %(found)s."
            )
            % {"missing": ", ".join(missing), "found": ", ".join(first_row[:10]) or _("nothing")}
        )
    return {column["name"]: found[column["name"].lower()] for column in columns}


def _insert_rows(dataset, header, rows, columns, reporter: Reporter) -> dict:
    imported = 0
    rejected = []
    width = max(header.values()) + 1
    for start in range(0, len(rows), BATCH_SIZE):
        batch = []
        for line, row in rows[start : start + BATCH_SIZE]:
            try:
                values = validate_row(row, header, columns, width)
            except ValueError as exc:
                rejected.append({"line": line, "reason": str(exc)})
                continue
            batch.append(DatasetRow(dataset=dataset, line=line, values=values))
        with transaction.atomic():
            DatasetRow.objects.bulk_create(batch)
        imported += len(batch)
        done = min(start + BATCH_SIZE, len(rows))
        reporter.update(
            done,
            len(rows),
            _("%(done)s / %(total)s rows") % {"done": number_format(done), "total": number_format(len(rows))},
        )
    return {
        "rows_total": len(rows),
        "rows_imported": imported,
        "rows_rejected": len(rejected),
        "rejected": rejected[:REJECTED_ROWS_SHOWN],
    }


def validate_row(row: list[str], header: dict[str, int], columns: list[dict], width: int) -> dict:
    """The row's typed values by column name, or ValueError saying what is wrong with it."""
    if len(row) < width:
        raise ValueError(
            _("expected at least %(width)s fields, found %(found)s") % {"width": width, "found": len(row)}
        )
    values: dict[str, Any] = {}
    for column in columns:
        raw = row[header[column["name"]]].strip()
        if not raw:
            if column["required"]:
                raise ValueError(_("%(column)s is required") % {"column": column["name"]})
            values[column["name"]] = None
            continue
        values[column["name"]] = _typed(raw, column)
    return values


def _typed(raw: str, column: dict):
    kind = column["type"]
    try:
        if kind == "integer":
            return int(raw)
        if kind == "number":
            number = Decimal(raw)
            if not number.is_finite():
                raise ValueError
            return float(number)
        if kind == "boolean":
            if raw.lower() in _TRUE | _FALSE:
                return raw.lower() in _TRUE
            raise ValueError
        if kind == "date":
            return date.fromisoformat(raw).isoformat()
        if kind == "email":
            validate_email(raw)
    except (ValueError, InvalidOperation, ValidationError):
        raise ValueError(
            _("%(column)s: %(value)r is not a valid %(type)s")
            % {"column": column["name"], "value": raw[:40], "type": kind}
        ) from None
    return raw


KIND = Kind(label=gettext_lazy("Import a CSV file"), form=DataImportParams, task=run, takes_file=True)
