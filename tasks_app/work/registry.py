"""The kinds of work a task can be, by name, and the checks on what a kind is given."""

from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext as _

from tasks_app.work import batch_report, data_import, document, ticker
from tasks_app.work.base import InvalidTaskInput, Kind

KINDS: dict[str, Kind] = {
    kind.name: kind for kind in (document.KIND, data_import.KIND, batch_report.KIND, ticker.KIND)
}


def kind_get(name: str) -> Kind:
    return KINDS[name]


def clean_params(*, kind: str, params: dict, upload: UploadedFile | None, owner=None) -> dict:
    """The params to store for a new task of `kind`, or InvalidTaskInput with field errors."""
    if kind not in KINDS:
        unknown = _("Unknown kind %(kind)r. Choose one of: %(kinds)s.") % {
            "kind": kind,
            "kinds": ", ".join(KINDS),
        }
        raise InvalidTaskInput({"kind": [unknown]})
    if not isinstance(params, dict):
        raise InvalidTaskInput({"params": [_("params must be a JSON object.")]})
    form = KINDS[kind].form(data=params, files={"file": upload} if upload else {}, owner=owner)
    if not form.is_valid():
        raise InvalidTaskInput(
            {field: [str(message) for message in messages] for field, messages in form.errors.items()}
        )
    return form.params()
