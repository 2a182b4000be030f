"""This site's own pages: the dashboard, where a user starts the built-in kinds of work and
watches every task of theirs, and the webhooks page. A host project installs the app without
them."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from tasks_app import selectors
from tasks_app.models import WebhookSecret
from tasks_app.work.registry import KINDS


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "dashboard.html",
        {"kinds": KINDS.values(), "datasets": selectors.datasets_ready_for_owner(owner=request.user)},
    )


@login_required
def webhooks(request: HttpRequest) -> HttpResponse:
    events = [
        ("task.started", _("starts")),
        ("task.completed", _("completes")),
        ("task.failed", _("fails")),
        ("task.cancelled", _("is cancelled")),
    ]
    has_secret = WebhookSecret.objects.filter(user=request.user).exists()
    return render(request, "webhooks.html", {"events": events, "has_secret": has_secret})
