"""This site's own page: the dashboard, where a user starts the built-in kinds of work and
watches every task of theirs. A host project installs the app without it."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from tasks_app import selectors
from tasks_app.work.registry import KINDS


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "dashboard.html",
        {"kinds": KINDS.values(), "datasets": selectors.datasets_ready_for_owner(owner=request.user)},
    )
