"""The JSON API: create and list tasks, read one (the polling fallback), cancel one."""

import json
import uuid
from functools import wraps
from typing import cast

from django.conf import settings
from django.core.paginator import Paginator
from django.http import HttpRequest, JsonResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from tasks_app import selectors, services
from tasks_app.access.credentials import AuthenticatedRequest
from tasks_app.db.threads import consumer_database
from tasks_app.models import Task
from tasks_app.realtime import messages, resume, routing
from tasks_app.work.base import InvalidTaskInput

# Multipart fields that are not params of the task.
_FORM_FIELDS_NOT_PARAMS = {"kind", "csrfmiddlewaretoken", "file", "callback_url"}


def _error(status: int, code: str, message: str, **extra) -> JsonResponse:
    return JsonResponse({"error": code, "message": message, **extra}, status=status)


def _not_authenticated() -> JsonResponse:
    return _error(401, "not_authenticated", _("Log in, or send an API token."))


def _not_found() -> JsonResponse:
    return _error(404, "not_found", _("No such task."))


def _resource(request: HttpRequest, task: Task) -> dict:
    scheme = "wss" if request.is_secure() else "ws"
    ws_url = f"{scheme}://{request.get_host()}{routing.task_socket_path(task.id)}"
    sse_url = request.build_absolute_uri(reverse("sse-task", kwargs={"task_id": task.id}))
    return messages.task_resource(
        task, ws_url=ws_url, sse_url=sse_url, children=selectors.workflow_steps(task=task)
    )


@require_http_methods(["GET", "POST"])
def tasks_collection(request: HttpRequest) -> JsonResponse:
    if not request.user.is_authenticated:
        return _not_authenticated()
    if request.method == "POST":
        return _task_create(cast(AuthenticatedRequest, request))  # authenticated, as checked above
    paginator = Paginator(selectors.tasks_visible_to(user=request.user), settings.TASKPULSE_TASKS_PAGE_SIZE)
    page = paginator.get_page(request.GET.get("page"))
    return JsonResponse(
        {
            "count": paginator.count,
            "page": page.number,
            "pages": paginator.num_pages,
            "next": page.next_page_number() if page.has_next() else None,
            "previous": page.previous_page_number() if page.has_previous() else None,
            "results": [_resource(request, task) for task in page],
        }
    )


def _task_create(request: AuthenticatedRequest) -> JsonResponse:
    try:
        kind, params, callback_url = _submitted_kind_and_params(request)
    except ValueError as exc:
        return _error(400, "invalid_request", str(exc))
    try:
        task = services.task_create(
            owner=request.user,
            kind=kind,
            params=params,
            upload=request.FILES.get("file"),
            callback_url=callback_url,
        )
    except InvalidTaskInput as exc:
        return _error(
            400, "invalid_input", _("The task was not created; see the field errors."), errors=exc.errors
        )
    return JsonResponse(_resource(request, task), status=201)


def _submitted_kind_and_params(request: HttpRequest) -> tuple[str, dict, str]:
    """JSON `{"kind": ..., "params": {...}, "callback_url": ...}`, or multipart with `kind`, the
    params as fields, `file` and `callback_url`."""
    if request.content_type == "application/json":
        try:
            body = json.loads(request.body or b"null")
        except ValueError:
            raise ValueError(_("The body is not valid JSON.")) from None
        if not isinstance(body, dict):
            raise ValueError(_('Send a JSON object: {"kind": ..., "params": {...}}.'))
        callback_url = body.get("callback_url") or ""
        if not isinstance(callback_url, str):
            raise ValueError(_("callback_url must be a string."))
        return str(body.get("kind", "")), body.get("params", {}), callback_url
    params = {key: request.POST[key] for key in request.POST if key not in _FORM_FIELDS_NOT_PARAMS}
    return request.POST.get("kind", ""), params, request.POST.get("callback_url", "")


def _with_task(find):
    """Authenticate, then hand the view the task `find` returns for this user, or answer 404."""

    def decorate(view):
        @wraps(view)
        def wrapper(request: HttpRequest, task_id: str) -> JsonResponse:
            if not request.user.is_authenticated:
                return _not_authenticated()
            task = find(user=request.user, task_id=task_id)
            if task is None:
                return _not_found()
            return view(request, task)

        return wrapper

    return decorate


# The two reads pollers repeat are async views whose database work runs on the consumers' few
# threads (db.threads.consumer_database). As sync views, every request in flight held a
# thread and a PostgreSQL connection of its own, and a crowd of pollers ran PostgreSQL out of
# connections, the workers' included (docs/performance.md).


@require_http_methods(["GET"])
async def task_detail(request: HttpRequest, task_id: str) -> JsonResponse:
    return await consumer_database(_task_detail)(request, task_id)


def _task_detail(request: HttpRequest, task_id: str) -> JsonResponse:
    if not request.user.is_authenticated:
        return _not_authenticated()
    task = selectors.task_visible_to(user=request.user, task_id=task_id)
    return _not_found() if task is None else JsonResponse(_resource(request, task))


@require_http_methods(["GET"])
async def task_events(request: HttpRequest, task_id: str) -> JsonResponse:
    """The polling fallback and resume for any client: the same messages the task socket sends
    first. With `after=N`, the events after seq N (or a snapshot marked recovered: false when
    they are no longer kept); without it, a snapshot."""
    return await consumer_database(_task_events)(request, task_id)


def _task_events(request: HttpRequest, task_id: str) -> JsonResponse:
    if not request.user.is_authenticated:
        return _not_authenticated()
    opening = resume.opening_messages_if_visible(
        user=request.user, task_id=task_id, last_seq=request.GET.get("after")
    )
    if opening is None:
        return _not_found()
    return JsonResponse({"task_id": str(uuid.UUID(task_id)), "messages": opening})


@require_POST
@_with_task(selectors.task_owned_by)
def task_cancel(request: HttpRequest, task: Task) -> JsonResponse:
    try:
        task = services.task_cancel(task_id=task.id)
    except services.TaskNotCancellable:
        return _error(
            409,
            "already_ended",
            _("The task already ended (%(status)s).") % {"status": task.get_status_display()},
        )
    return JsonResponse(_resource(request, task), status=202)
