from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from shop.tasks import export_orders
from tasks_app.models import Task
from tasks_app.progress_tasks import start_task


@login_required
def orders(request):
    exports = Task.objects.filter(owner=request.user, kind=export_orders.name).order_by("-created_at")[:5]
    return render(request, "shop/orders.html", {"exports": exports})


@login_required
@require_POST
def start_export(request):
    start_task(request.user, export_orders, int(request.POST.get("count", 10)))
    return redirect("orders")
