"""Operators' screens: tasks with their event log, imported datasets, and API tokens."""

import logging

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.html import format_html

from tasks_app import services
from tasks_app.access import api_tokens
from tasks_app.models import ApiToken, Dataset, Task, TaskEvent, TaskFile, TaskStatus

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

    @admin.display(description="status")
    def status(self, event: TaskEvent) -> str:
        return event.payload.get("status", "")

    @admin.display(description="progress")
    def progress(self, event: TaskEvent) -> str:
        return f"{event.payload.get('progress', 0):.1f}%"

    @admin.display(description="message")
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
    verbose_name = "step"

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

    @admin.display(description="task", ordering="id")
    def short_id(self, task: Task) -> str:
        return str(task.id)[:8]

    @admin.display(description="progress", ordering="progress")
    def progress_bar(self, task: Task) -> str:
        return format_html(
            '<progress value="{}" max="100" title="{}"></progress> {}%',
            task.progress,
            task.message,
            f"{task.progress:.0f}",
        )

    @admin.display(description="duration")
    def duration(self, task: Task) -> str:
        if task.started_at is None:
            return "-"
        seconds = int(((task.finished_at or timezone.now()) - task.started_at).total_seconds())
        text = (
            f"{seconds // 3600}h {seconds // 60 % 60:02d}m"
            if seconds >= 3600
            else f"{seconds // 60}m {seconds % 60:02d}s"
        )
        return text if task.finished_at else f"{text} so far"

    def has_cancel_permission(self, request) -> bool:
        return request.user.has_perm("tasks_app.cancel_task")

    def has_retry_permission(self, request) -> bool:
        return request.user.has_perm("tasks_app.retry_task")

    def has_fail_permission(self, request) -> bool:
        return request.user.has_perm("tasks_app.fail_task")

    @admin.action(description="Cancel the selected tasks (pending or running)", permissions=["cancel"])
    def cancel_tasks(self, request, queryset):
        return self._confirmed(request, queryset, "cancel_tasks", _cancel, "Cancelled", "cancelled")

    @admin.action(
        description="Retry the selected tasks (failed or cancelled) as new tasks", permissions=["retry"]
    )
    def retry_tasks(self, request, queryset):
        return self._confirmed(request, queryset, "retry_tasks", _retry, "Retried", "retried as new tasks")

    @admin.action(description="Mark the selected tasks failed (stuck in running)", permissions=["fail"])
    def mark_tasks_failed(self, request, queryset):
        return self._confirmed(
            request, queryset, "mark_tasks_failed", _mark_failed, "Marked failed", "marked failed"
        )

    def _confirmed(self, request, queryset, action: str, change, done: str, what: str):
        """Ask first; on confirmation, change each task and say how many changed."""
        if request.POST.get("confirmed") != "yes":
            return TemplateResponse(
                request,
                "admin/tasks_app/task/confirm_action.html",
                {
                    **self.admin_site.each_context(request),
                    "title": f"Are you sure? The selected tasks will be {what}.",
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
        message = f"{done} {changed} task(s)."
        if skipped:
            message += f" {skipped} were skipped: their status does not allow it."
        self.message_user(request, message, level=messages.SUCCESS if changed else messages.WARNING)
        return None


def _cancel(task_id, operator) -> None:
    services.task_cancel(task_id=task_id)
    logger.info("Operator %s cancelled task %s", operator.get_username(), task_id)


def _retry(task_id, operator) -> None:
    new = services.task_retry(task_id=task_id)
    logger.info("Operator %s retried task %s as %s", operator.get_username(), task_id, new.id)


def _mark_failed(task_id, operator) -> None:
    services.task_fail(
        task_id=task_id,
        error=f"Marked failed by an operator ({operator.get_username()}).",
        allowed_from=(TaskStatus.RUNNING,),
    )
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
            f"Copy this token now; it is not shown again: {token}",
            level=messages.WARNING,
        )

    @admin.action(description="Revoke the selected tokens")
    def revoke(self, request, queryset) -> None:
        revoked = sum(
            api_tokens.api_token_revoke(token_id=pk) for pk in queryset.values_list("pk", flat=True)
        )
        self.message_user(request, f"Revoked {revoked} token(s).", level=messages.SUCCESS)

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
