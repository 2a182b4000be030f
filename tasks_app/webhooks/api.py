"""The webhooks' JSON API: the signing secret, and a user's endpoints (docs/protocol.md)."""

import json

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from tasks_app.webhooks import endpoints


def _error(status: int, code: str, message: str, **extra) -> JsonResponse:
    return JsonResponse({"error": code, "message": message, **extra}, status=status)


def _not_authenticated() -> JsonResponse:
    return _error(401, "not_authenticated", _("Log in, or send an API token."))


@require_POST
def secret(request: HttpRequest) -> JsonResponse:
    if not request.user.is_authenticated:
        return _not_authenticated()
    return JsonResponse({"secret": endpoints.secret_rotate(user=request.user)}, status=201)


@require_http_methods(["GET", "POST"])
def endpoints_collection(request: HttpRequest) -> JsonResponse:
    if not request.user.is_authenticated:
        return _not_authenticated()
    if request.method == "GET":
        found = endpoints.endpoints_of(owner=request.user)
        return JsonResponse({"results": [endpoints.endpoint_resource(endpoint) for endpoint in found]})
    try:
        body = json.loads(request.body or b"null")
    except ValueError:
        return _error(400, "invalid_request", _("The body is not valid JSON."))
    if not isinstance(body, dict):
        return _error(400, "invalid_request", _('Send a JSON object: {"url": ..., "events": [...]}.'))
    try:
        endpoint = endpoints.endpoint_create(
            owner=request.user, url=body.get("url"), events=body.get("events")
        )
    except endpoints.InvalidEndpoint as exc:
        return _error(
            400, "invalid_input", _("The endpoint was not created; see the field errors."), errors=exc.errors
        )
    return JsonResponse(endpoints.endpoint_resource(endpoint), status=201)


@require_http_methods(["DELETE"])
def endpoint_detail(request: HttpRequest, endpoint_id: int) -> HttpResponse:
    if not request.user.is_authenticated:
        return _not_authenticated()
    if not endpoints.endpoint_delete(owner=request.user, endpoint_id=endpoint_id):
        return _error(404, "not_found", _("No such endpoint."))
    return HttpResponse(status=204)
