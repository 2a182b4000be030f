from celery import chord

from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from shop.tasks import export_orders, merge_exports
from tasks_app.models import Task
from tasks_app.progress_tasks import start_task
from tasks_app.workflows import start_workflow

REGIONS = ("north", "south", "east")


@login_required
def orders(request):
    exports = Task.objects.filter(
        owner=request.user, parent__isnull=True, kind__in=[export_orders.name, "chord"]
    ).order_by("-created_at")[:5]
    return render(request, "shop/orders.html", {"exports": exports})


@login_required
@require_POST
def start_export(request):
    start_task(request.user, export_orders, int(request.POST.get("count", 10)))
    return redirect("orders")


@login_required
@require_POST
def start_regional_export(request):
    """One export per region at once, then one merge: followed as one task."""
    count = int(request.POST.get("count", 10))
    start_workflow(
        request.user,
        chord([export_orders.s(count, region=region) for region in REGIONS], merge_exports.s()),
        weights=[3] * len(REGIONS) + [1],  # a region's export is three times the merge's work
    )
    return redirect("orders")
