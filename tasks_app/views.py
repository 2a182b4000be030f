"""Downloads of the files a task produced, and the metrics for Prometheus."""

from prometheus_client import CONTENT_TYPE_LATEST

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.utils.crypto import constant_time_compare
from django.utils.translation import gettext as _

from tasks_app import metrics, selectors


@login_required
def task_file(request: HttpRequest, task_id: str, name: str) -> FileResponse:
    task_file = selectors.task_file_for(user=request.user, task_id=task_id, name=name)
    if task_file is None:
        raise Http404(_("No such file."))
    response = FileResponse(
        task_file.file.open("rb"),
        content_type=task_file.content_type,
        as_attachment=task_file.content_type != "text/html",
        filename=task_file.name,
    )
    # A report page is shown inline; the sandbox keeps it from running script as our origin.
    response["Content-Security-Policy"] = "sandbox"
    return response


def metrics_page(request: HttpRequest) -> HttpResponse:
    """/metrics in Prometheus's text format, for staff or the bearer of TASKPULSE_METRICS_TOKEN."""
    if not _may_read_metrics(request):
        response = HttpResponse(
            _("Staff, or the metrics token, only."), status=401, content_type="text/plain"
        )
        response["WWW-Authenticate"] = "Bearer"
        return response
    return HttpResponse(metrics.exposition(), content_type=CONTENT_TYPE_LATEST)


def _may_read_metrics(request: HttpRequest) -> bool:
    if request.user.is_authenticated and request.user.is_staff:
        return True
    token = settings.TASKPULSE_METRICS_TOKEN
    scheme, _, sent = request.headers.get("Authorization", "").partition(" ")
    return bool(token) and scheme.lower() == "bearer" and constant_time_compare(sent.strip(), token)
