"""What HTTP clients get while the database is away: 503 with Retry-After, as JSON under /api/
and /sse/ (the API's error shape), as a short page elsewhere; never a traceback. The middleware
answers for the views (DEBUG or not); handler500 for the rest, with DEBUG off."""

import sys
from inspect import iscoroutinefunction

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.decorators import sync_and_async_middleware
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import defaults

from tasks_app.db import outages

RETRY_AFTER_SECONDS = 5
MESSAGE = gettext_lazy("Our database is unreachable for a moment; try again in a few seconds.")
_JSON_PATHS = ("/api/", "/sse/")


def response(request: HttpRequest) -> HttpResponse:
    if request.path_info.startswith(_JSON_PATHS):
        answer: HttpResponse = JsonResponse(
            {"error": "database_unavailable", "message": str(MESSAGE)}, status=503
        )
    else:
        title = _("Unavailable")
        page = f"<!doctype html><title>{title}</title><p>{MESSAGE}</p>"
        answer = HttpResponse(page, status=503, content_type="text/html")
    answer["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return answer


@sync_and_async_middleware
def database_unavailable_middleware(get_response):
    """Answers a view that lost the database with 503. Last in MIDDLEWARE: asked first."""

    def process_exception(request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, (*outages.DATABASE_LOST, outages.DatabaseUnavailable)):
            outages.drop_connection()
            return response(request)
        return None

    if iscoroutinefunction(get_response):

        async def async_middleware(request):
            return await get_response(request)

        middleware = async_middleware
    else:

        def sync_middleware(request):
            return get_response(request)

        middleware = sync_middleware
    middleware.process_exception = process_exception  # type: ignore[attr-defined]
    return middleware


def server_error(request: HttpRequest) -> HttpResponse:
    """handler500: a lost database gets the 503; anything else Django's own 500 page."""
    exception = sys.exc_info()[1]
    if isinstance(exception, (*outages.DATABASE_LOST, outages.DatabaseUnavailable)):
        outages.drop_connection()
        return response(request)
    return defaults.server_error(request)
