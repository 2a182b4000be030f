"""What every kind of work has: its input form, its run function, and the errors it raises."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django import forms
from django.conf import settings


class InvalidTaskInput(Exception):
    """The submitted kind or params are not acceptable; `errors` maps field to messages."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__("invalid task input")
        self.errors = errors


class WorkError(Exception):
    """The input cannot be processed. The message is shown to the user as the task's error."""


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
    name: str
    label: str
    form: type[KindForm]
    run: Callable[..., Any]
    takes_file: bool = False


class UploadField(forms.FileField):
    """A required, non-empty upload no larger than TASKPULSE_MAX_UPLOAD_BYTES, by extension."""

    def __init__(self, *, extensions: tuple[str, ...], **kwargs) -> None:
        super().__init__(**kwargs)
        self.extensions = extensions

    def clean(self, data, initial=None):
        upload = super().clean(data, initial)
        name = upload.name.lower()
        if not name.endswith(self.extensions):
            raise forms.ValidationError(f"Upload a file ending in {', '.join(self.extensions)}.")
        if upload.size > settings.TASKPULSE_MAX_UPLOAD_BYTES:
            limit_mb = settings.TASKPULSE_MAX_UPLOAD_BYTES / (1024 * 1024)
            raise forms.ValidationError(f"The file is larger than the {limit_mb:.0f} MB limit.")
        return upload
