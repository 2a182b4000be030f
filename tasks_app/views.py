"""Pages: the dashboard, and downloads of the files a task produced."""

from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from tasks_app import selectors
from tasks_app.work.registry import KINDS


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "tasks_app/dashboard.html",
        {"kinds": KINDS.values(), "datasets": selectors.datasets_ready_for_owner(owner=request.user)},
    )


@login_required
def task_file(request: HttpRequest, task_id: str, name: str) -> FileResponse:
    task_file = selectors.task_file_for(user=request.user, task_id=task_id, name=name)
    if task_file is None:
        raise Http404("No such file.")
    response = FileResponse(
        task_file.file.open("rb"),
        content_type=task_file.content_type,
        as_attachment=task_file.content_type != "text/html",
        filename=task_file.name,
    )
    # A report page is shown inline; the sandbox keeps it from running script as our origin.
    response["Content-Security-Policy"] = "sandbox"
    return response
