"""What every kind of work has: its input form, its run function, and the errors it raises."""

import codecs
from dataclasses import dataclass
from typing import Any, Protocol

from django import forms
from django.conf import settings
from django.utils import formats
from django.utils.functional import Promise
from django.utils.translation import gettext as _

from tasks_app.models import Task, TaskFile


class InvalidTaskInput(Exception):
    """The submitted kind or params are not acceptable; `errors` maps field to messages."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__("invalid task input")
        self.errors = errors


class WorkError(Exception):
    """The input cannot be processed. The message is shown to the user as the task's error."""


class Reporter(Protocol):
    """What a kind's work is handed to say how far it got (tasks_app.progress.ProgressReporter),
    and the task it runs for."""

    @property
    def task(self) -> Task: ...

    def step(self, message: str, *, until: float) -> None: ...

    def update(
        self, current: int | None = None, total: int | None = None, message: str | None = None
    ) -> None: ...

    def add_file(self, *, name: str, content: bytes, content_type: str) -> TaskFile: ...


def owner_of(task: Task):
    """Who the task of a built-in kind belongs to: always someone, since only services.task_create
    makes them (tasks without an owner are @progress_tasks started some other way)."""
    if task.owner is None:
        raise WorkError(_("This kind of task needs an owner."))
    return task.owner


def number_format(value: int) -> str:
    """A count in the active language's way of writing it (1,234)."""
    return formats.number_format(value, force_grouping=True)


class KindForm(forms.Form):
    """Validates one kind's params. `owner` is who submits, for checks on what they may use."""

    def __init__(self, *args, owner=None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.owner = owner

    def params(self) -> dict:
        """The cleaned params as stored on the task (JSON only, no file objects)."""
        return {name: value for name, value in self.cleaned_data.items() if name != "file"}


@dataclass(frozen=True)
class Kind:
    """A built-in kind: its form, and the @progress_task that runs it, named as the kind (this
    site routes it to the queue `kind.<name>`: CELERY_TASK_ROUTES), its params as keyword
    arguments."""

    label: "str | Promise"
    form: type[KindForm]
    task: Any
    takes_file: bool = False

    @property
    def name(self) -> str:
        return self.task.name


class UploadField(forms.FileField):
    """A required, non-empty upload no larger than TASKPULSE_MAX_UPLOAD_BYTES, by extension, whose
    content is what the extension says: a PDF's signature, or UTF-8 without NUL bytes for text
    formats (other extensions are not looked into). Checked when it is submitted, so a wrong file
    is refused at once rather than failing later."""

    def __init__(self, *, extensions: tuple[str, ...], **kwargs) -> None:
        super().__init__(**kwargs)
        self.extensions = extensions

    def clean(self, data, initial=None):
        upload = super().clean(data, initial)
        name = upload.name.lower()
        if not name.endswith(self.extensions):
            raise forms.ValidationError(
                _("Upload a file ending in %(extensions)s.") % {"extensions": ", ".join(self.extensions)}
            )
        if upload.size > settings.TASKPULSE_MAX_UPLOAD_BYTES:
            limit_mb = settings.TASKPULSE_MAX_UPLOAD_BYTES / (1024 * 1024)
            raise forms.ValidationError(
                _("The file is larger than the %(megabytes).0f MB limit.") % {"megabytes": limit_mb}
            )
        if name.endswith(".pdf"):
            _check_pdf(upload)
        elif name.endswith(TEXT_EXTENSIONS):
            _check_utf8_text(upload)
        upload.seek(0)
        return upload


TEXT_EXTENSIONS = (".txt", ".text", ".md", ".markdown", ".csv")
# PDF readers accept the header anywhere in the first kilobyte.
_PDF_SIGNATURE = b"%PDF-"
_PDF_HEADER_WINDOW = 1024


def _check_pdf(upload) -> None:
    upload.seek(0)
    if _PDF_SIGNATURE not in upload.read(_PDF_HEADER_WINDOW):
        raise forms.ValidationError(_("This is not a PDF file (it has no PDF header)."))


def _check_utf8_text(upload) -> None:
    """Decoded chunk by chunk, so that a large upload is never held in memory whole."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    upload.seek(0)
    offset = 0
    for chunk in upload.chunks():
        pending = len(decoder.getstate()[0])  # bytes of a character begun in the previous chunk
        try:
            text = decoder.decode(chunk)
        except UnicodeDecodeError as exc:
            raise forms.ValidationError(
                _(
                    "The file is not UTF-8 text (invalid byte at position %(position)s). "
                    "Save it as UTF-8 (from a spreadsheet: “CSV UTF-8”) and upload it again."
                )
                % {"position": offset - pending + exc.start}
            ) from exc
        if "\x00" in text:
            raise forms.ValidationError(_("The file contains binary data; upload a text file."))
        offset += len(chunk)
    try:
        decoder.decode(b"", final=True)
    except UnicodeDecodeError as exc:
        raise forms.ValidationError(_("The file is not UTF-8 text (it ends inside a character).")) from exc
