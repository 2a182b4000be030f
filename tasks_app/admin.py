"""Operators' screens: tasks with their event log, imported datasets, and API tokens."""

import logging

from redis.exceptions import RedisError

from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, JsonResponse
from django.template.response import TemplateResponse
from django.urls import path
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from tasks_app import monitoring, services
from tasks_app.access import api_tokens
from tasks_app.models import (
    ApiToken,
    Dataset,
    Task,
    TaskEvent,
    TaskFile,
    TaskStatus,
    WebhookDelivery,
    WebhookEndpoint,
)
from tasks_app.webhooks import deliveries, outbox

logger = logging.getLogger(__name__)


class TaskEventInline(admin.TabularInline):
    """The task's event timeline, as its clients received it."""

    model = TaskEvent
    fields = ("seq", "type", "created_at", "status", "progress", "message")
    readonly_fields = fields
    extra = 0
    can_delete = False
    ordering = ("-seq",)

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description=gettext_lazy("status"))
    def status(self, event: TaskEvent) -> str:
        return event.payload.get("status", "")

    @admin.display(description=gettext_lazy("progress"))
    def progress(self, event: TaskEvent) -> str:
        return f"{event.payload.get('progress', 0):.1f}%"

    @admin.display(description=gettext_lazy("message"))
    def message(self, event: TaskEvent) -> str:
        return event.payload.get("error") or event.payload.get("message", "")


class TaskFileInline(admin.TabularInline):
    model = TaskFile
    fields = ("name", "content_type", "size")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False


class WorkflowStepInline(admin.TabularInline):
    """A workflow's steps, in its order, each linking to its own page."""

    model = Task
    fk_name = "parent"
    fields = ("position", "kind", "status", "progress", "message")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True
    ordering = ("position",)
    verbose_name = gettext_lazy("step")
    verbose_name_plural = gettext_lazy("steps")

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Task)
class TaskAdmin(admin.ModelAdmin):
    """Tasks, newest first, with their progress; a task's page shows its event log and follows
    it live over the same stream as users' pages. Nothing is edited by hand: every change goes
    through an action, which records it as an event and tells the task's clients."""

    list_display = ("short_id", "kind", "owner", "status", "progress_bar", "created_at", "duration")
    list_filter = (
        "status",
        "kind",
        ("owner", admin.RelatedOnlyFieldListFilter),
        ("created_at", admin.DateFieldListFilter),
    )
    search_fields = ("id", "owner__username")
    ordering = ("-created_at",)
    list_select_related = ("owner",)
    list_per_page = 50
    # Counting every task for "N total" is a second full count per page view; not worth it at 100,000.
    show_full_result_count = False
    readonly_fields = [field.name for field in Task._meta.fields]
    inlines = [WorkflowStepInline, TaskFileInline, TaskEventInline]
    actions = ("cancel_tasks", "retry_tasks", "mark_tasks_failed")
    change_form_template = "admin/tasks_app/task/change_form.html"

    def has_add_permission(self, request) -> bool:
        return False

    def get_urls(self):
        monitor = [
            path("monitor/", self.admin_site.admin_view(self.monitor), name="tasks_app_task_monitor"),
            path(
                "monitor/data/",
                self.admin_site.admin_view(self.monitor_data),
                name="tasks_app_task_monitor_data",
            ),
        ]
        return monitor + super().get_urls()

    def monitor(self, request: HttpRequest) -> TemplateResponse:
        """The live monitoring page: the last minutes of connections, messages, events, tasks
        and errors, redrawn as samples come (monitor.js)."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        context = {
            **self.admin_site.each_context(request),
            "title": _("Live monitoring"),
            "opts": self.model._meta,
            "window_minutes": settings.TASKPULSE_MONITOR_WINDOW_SECONDS // 60,
        }
        return TemplateResponse(request, "admin/tasks_app/task/monitor.html", context)

    def monitor_data(self, request: HttpRequest) -> JsonResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        try:
            monitoring.sample_record()
            samples = monitoring.samples_recent()
        except RedisError:
            logger.warning("The monitoring page could not read its samples", exc_info=True)
            return JsonResponse(
                {"error": "redis_unavailable", "message": _("Redis cannot be reached.")}, status=503
            )
        return JsonResponse(
            {"window_seconds": settings.TASKPULSE_MONITOR_WINDOW_SECONDS, **monitoring.series(samples)}
        )

    @admin.display(description=gettext_lazy("task"), ordering="id")
    def short_id(self, task: Task) -> str:
        return str(task.id)[:8]

    @admin.display(description=gettext_lazy("progress"), ordering="progress")
    def progress_bar(self, task: Task) -> str:
        return format_html(
            '<progress value="{}" max="100" title="{}"></progress> {}%',
            task.progress,
            task.message,
            f"{task.progress:.0f}",
        )

    @admin.display(description=gettext_lazy("duration"))
    def duration(self, task: Task) -> str:
        if task.started_at is None:
            return "-"
        seconds = int(((task.finished_at or timezone.now()) - task.started_at).total_seconds())
        if seconds >= 3600:
            text = _("%(hours)sh %(minutes)02dm") % {"hours": seconds // 3600, "minutes": seconds // 60 % 60}
        else:
            text = _("%(minutes)sm %(seconds)02ds") % {"minutes": seconds // 60, "seconds": seconds % 60}
        return text if task.finished_at else _("%(duration)s so far") % {"duration": text}

    def has_cancel_permission(self, request) -> bool:
        return request.user.has_perm("tasks_app.cancel_task")

    def has_retry_permission(self, request) -> bool:
        return request.user.has_perm("tasks_app.retry_task")

    def has_fail_permission(self, request) -> bool:
        return request.user.has_perm("tasks_app.fail_task")

    @admin.action(
        description=gettext_lazy("Cancel the selected tasks (pending or running)"), permissions=["cancel"]
    )
    def cancel_tasks(self, request, queryset):
        return self._confirmed(
            request,
            queryset,
            "cancel_tasks",
            _cancel,
            question=_("Are you sure? The selected tasks will be cancelled."),
            done=lambda n: ngettext("Cancelled %(count)d task.", "Cancelled %(count)d tasks.", n),
        )

    @admin.action(
        description=gettext_lazy("Retry the selected tasks (failed or cancelled) as new tasks"),
        permissions=["retry"],
    )
    def retry_tasks(self, request, queryset):
        return self._confirmed(
            request,
            queryset,
            "retry_tasks",
            _retry,
            question=_("Are you sure? The selected tasks will be retried as new tasks."),
            done=lambda n: ngettext("Retried %(count)d task.", "Retried %(count)d tasks.", n),
        )

    @admin.action(
        description=gettext_lazy("Mark the selected tasks failed (stuck in running)"), permissions=["fail"]
    )
    def mark_tasks_failed(self, request, queryset):
        return self._confirmed(
            request,
            queryset,
            "mark_tasks_failed",
            _mark_failed,
            question=_("Are you sure? The selected tasks will be marked failed."),
            done=lambda n: ngettext("Marked %(count)d task failed.", "Marked %(count)d tasks failed.", n),
        )

    def _confirmed(self, request, queryset, action: str, change, *, question: str, done):
        """Ask first; on confirmation, change each task and say how many changed."""
        if request.POST.get("confirmed") != "yes":
            return TemplateResponse(
                request,
                "admin/tasks_app/task/confirm_action.html",
                {
                    **self.admin_site.each_context(request),
                    "title": question,
                    "tasks": queryset.select_related("owner"),
                    "action": action,
                    "opts": self.model._meta,
                    "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
                },
            )
        changed = skipped = 0
        for task_id in queryset.values_list("id", flat=True):
            try:
                change(task_id, request.user)
                changed += 1
            except (services.TaskStateConflict, services.TaskNotCancellable):
                skipped += 1
        message = done(changed) % {"count": changed}
        if skipped:
            message += " " + ngettext(
                "%(count)d was skipped: its status does not allow it.",
                "%(count)d were skipped: their status does not allow it.",
                skipped,
            ) % {"count": skipped}
        self.message_user(request, message, level=messages.SUCCESS if changed else messages.WARNING)
        return None


# Each change is written in the language of the task's owner (services.in_language_of).


def _cancel(task_id, operator) -> None:
    services.task_cancel(task_id=task_id)
    logger.info("Operator %s cancelled task %s", operator.get_username(), task_id)


def _retry(task_id, operator) -> None:
    new = services.task_retry(task_id=task_id)
    logger.info("Operator %s retried task %s as %s", operator.get_username(), task_id, new.id)


def _mark_failed(task_id, operator) -> None:
    with services.in_language_of(task_id):
        error = _("Marked failed by an operator (%(operator)s).") % {"operator": operator.get_username()}
    services.task_fail(task_id=task_id, error=error, allowed_from=(TaskStatus.RUNNING,))
    logger.info("Operator %s marked task %s failed", operator.get_username(), task_id)


@admin.register(Dataset)
class DatasetAdmin(admin.ModelAdmin):
    list_display = ("name", "owner", "status", "row_count", "created_at")
    list_filter = ("status",)
    readonly_fields = ("owner", "task", "columns", "status", "row_count", "created_at")


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Tokens are created here (shown once, in the confirmation message) and revoked, never
    edited: a token's owner or secret changing under a running script would be a surprise."""

    list_display = ("prefix", "name", "user", "created_at", "last_used_at", "revoked_at")
    list_filter = (("revoked_at", admin.EmptyFieldListFilter),)
    search_fields = ("prefix", "name", "user__username")
    list_select_related = ("user",)
    readonly_fields = ("prefix", "created_at", "last_used_at", "revoked_at")
    actions = ("revoke",)

    def get_fields(self, request, obj=None):
        return ("user", "name") if obj is None else ("user", "name", *self.readonly_fields)

    def get_readonly_fields(self, request, obj=None):
        return () if obj is None else ("user", "name", *self.readonly_fields)

    def save_model(self, request, obj, form, change) -> None:
        if change:
            return
        record, token = api_tokens.api_token_create(user=obj.user, name=obj.name)
        obj.pk = record.pk
        self.message_user(
            request,
            _("Copy this token now; it is not shown again: %(token)s") % {"token": token},
            level=messages.WARNING,
        )

    @admin.action(description=gettext_lazy("Revoke the selected tokens"))
    def revoke(self, request, queryset) -> None:
        revoked = sum(
            api_tokens.api_token_revoke(token_id=pk) for pk in queryset.values_list("pk", flat=True)
        )
        self.message_user(
            request,
            ngettext("Revoked %(count)d token.", "Revoked %(count)d tokens.", revoked) % {"count": revoked},
            level=messages.SUCCESS,
        )

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    """Users' endpoints, read-only here: their owners manage them (the API, the webhooks page)."""

    list_display = ("url", "owner", "events", "created_at", "failing_since", "disabled_at")
    list_filter = (("disabled_at", admin.EmptyFieldListFilter),)
    search_fields = ("url", "owner__username")
    list_select_related = ("owner",)
    readonly_fields = (
        "owner",
        "url",
        "events",
        "created_at",
        "failing_since",
        "disabled_at",
        "disabled_reason",
    )

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    """Every delivery with its tries, newest first; "redeliver" sends one again at once."""

    list_display = (
        "short_id",
        "event",
        "url",
        "status",
        "attempts",
        "last_status_code",
        "last_latency_ms",
        "next_attempt_at",
        "created_at",
    )
    list_filter = ("status", "event")
    search_fields = ("id", "url", "owner__username")
    list_select_related = ("owner",)
    readonly_fields = [field.name for field in WebhookDelivery._meta.fields]
    actions = ("redeliver",)
    show_full_result_count = False

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_redeliver_permission(self, request) -> bool:
        return request.user.has_perm("tasks_app.redeliver_webhookdelivery")

    @admin.display(description=gettext_lazy("delivery"), ordering="id")
    def short_id(self, delivery: WebhookDelivery) -> str:
        return str(delivery.id)[:8]

    @admin.action(
        description=gettext_lazy("Redeliver the selected deliveries now"), permissions=["redeliver"]
    )
    def redeliver(self, request, queryset) -> None:
        chosen = list(queryset.values_list("id", flat=True))
        for delivery_id in chosen:
            deliveries.delivery_redeliver(delivery_id)
            outbox.delivery_send(delivery_id)
            logger.info(
                "Operator %s redelivered webhook delivery %s", request.user.get_username(), delivery_id
            )
        self.message_user(
            request,
            ngettext("Sent %(count)d delivery again.", "Sent %(count)d deliveries again.", len(chosen))
            % {"count": len(chosen)},
            level=messages.SUCCESS,
        )
