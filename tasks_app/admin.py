"""Operators' screens: tasks with their event log, and imported datasets."""

from django.contrib import admin

from tasks_app.models import Dataset, Task, TaskEvent, TaskFile


class TaskEventInline(admin.TabularInline):
    model = TaskEvent
    fields = ("seq", "type", "created_at", "payload")
    readonly_fields = fields
    extra = 0
    can_delete = False
    ordering = ("-seq",)

    def has_add_permission(self, request, obj=None) -> bool:
        return False


class TaskFileInline(admin.TabularInline):
    model = TaskFile
    fields = ("name", "content_type", "size")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Task)
class TaskAdmin(admin.ModelAdmin):
    list_display = ("id", "kind", "owner", "status", "progress", "message", "created_at", "finished_at")
    list_filter = ("status", "kind")
    search_fields = ("id", "owner__username", "message")
    readonly_fields = [field.name for field in Task._meta.fields]
    inlines = [TaskFileInline, TaskEventInline]

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(Dataset)
class DatasetAdmin(admin.ModelAdmin):
    list_display = ("name", "owner", "status", "row_count", "created_at")
    list_filter = ("status",)
    readonly_fields = ("owner", "task", "columns", "status", "row_count", "created_at")
