import uuid

from django.conf import settings
from django.db import models


class TaskStatus(models.TextChoices):
    PENDING = "pending"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"


TERMINAL_STATUSES = frozenset({TaskStatus.COMPLETED, TaskStatus.FAILED, TaskStatus.CANCELLED})


class EventType(models.TextChoices):
    PROGRESS = "progress"
    COMPLETE = "complete"


def _input_path(task: "Task", filename: str) -> str:
    return f"uploads/{task.id}/{filename}"


class Task(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="tasks")
    kind = models.CharField(max_length=32)
    params = models.JSONField(default=dict, blank=True)
    input_file = models.FileField(upload_to=_input_path, blank=True, max_length=300)
    status = models.CharField(max_length=16, choices=TaskStatus.choices, default=TaskStatus.PENDING)
    progress = models.FloatField(default=0.0)
    current = models.BigIntegerField(null=True, blank=True)
    total = models.BigIntegerField(null=True, blank=True)
    message = models.TextField(blank=True, default="")
    result = models.JSONField(null=True, blank=True)
    error = models.TextField(null=True, blank=True)  # noqa: DJ001 (the protocol sends null for "no error")
    cancel_requested = models.BooleanField(default=False)
    attempt = models.PositiveSmallIntegerField(default=0)
    last_seq = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["owner", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.kind} {self.id} ({self.status})"

    @property
    def is_terminal(self) -> bool:
        return self.status in TERMINAL_STATUSES


class TaskEvent(models.Model):
    """One persisted change of a task. `seq` is the resume position a client reconnects with."""

    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="events")
    seq = models.PositiveIntegerField()
    type = models.CharField(max_length=16, choices=EventType.choices)
    payload = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["task", "seq"]
        constraints = [models.UniqueConstraint(fields=["task", "seq"], name="taskevent_unique_seq_per_task")]

    def __str__(self) -> str:
        return f"{self.task_id} #{self.seq} {self.type}"


class TaskFile(models.Model):
    """A file a task produced (a report), downloadable by the task's owner only."""

    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="files")
    name = models.CharField(max_length=200)
    file = models.FileField(max_length=300)
    content_type = models.CharField(max_length=100)
    size = models.PositiveBigIntegerField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["task", "name"], name="taskfile_unique_name_per_task")]

    def __str__(self) -> str:
        return self.name


class DatasetStatus(models.TextChoices):
    IMPORTING = "importing"
    READY = "ready"


class Dataset(models.Model):
    """Rows imported from a CSV file. Only `ready` datasets are visible to reports."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="datasets")
    task = models.OneToOneField(Task, on_delete=models.SET_NULL, null=True, related_name="dataset")
    name = models.CharField(max_length=200)
    columns = models.JSONField()
    status = models.CharField(max_length=16, choices=DatasetStatus.choices, default=DatasetStatus.IMPORTING)
    row_count = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.name


class DatasetRow(models.Model):
    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="rows")
    line = models.PositiveIntegerField()
    values = models.JSONField()

    class Meta:
        ordering = ["dataset", "line"]
        indexes = [models.Index(fields=["dataset", "line"])]

    def __str__(self) -> str:
        return f"{self.dataset_id}:{self.line}"
