import uuid

from django.conf import settings
from django.db import models

KIND_MAX_LENGTH = 200

# The kinds of a workflow's own task (workflows.py): the Celery canvas it was started from.
WORKFLOW_SHAPES = ("group", "chain", "chord")


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
    """A name of our making: only the extension, already checked against the kind's list, is
    kept from what the user sent. The user's file name is kept in the task's params."""
    extension = "." + filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    return f"uploads/{task.id}/input{extension}"


class Task(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # None for a @progress_task started without start_task (progress_tasks.py): staff only see it.
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="tasks", null=True, blank=True
    )
    # A built-in kind's name, or the name of the Celery task a @progress_task is.
    kind = models.CharField(max_length=KIND_MAX_LENGTH)
    params = models.JSONField(default=dict, blank=True)
    input_file = models.FileField(upload_to=_input_path, blank=True, max_length=300)
    status = models.CharField(max_length=16, choices=TaskStatus.choices, default=TaskStatus.PENDING)
    progress = models.FloatField(default=0.0)
    current = models.BigIntegerField(null=True, blank=True)
    total = models.BigIntegerField(null=True, blank=True)
    message = models.TextField(blank=True, default="")
    # Counted per second, and seconds left, as the reporter estimates them (estimates.py); None
    # until they mean something, when the task does not count, and once it ended.
    rate = models.FloatField(null=True, blank=True)
    eta_seconds = models.FloatField(null=True, blank=True)
    result = models.JSONField(null=True, blank=True)
    error = models.TextField(null=True, blank=True)  # noqa: DJ001 (the protocol sends null for "no error")
    cancel_requested = models.BooleanField(default=False)
    attempt = models.PositiveSmallIntegerField(default=0)
    # Each message that asks a worker to run the task carries the dispatch it was sent as; one sent
    # again after its worker was lost makes earlier ones stale (services.task_resend). 0: not sent
    # yet, a workflow's step that waits for earlier ones.
    dispatch = models.PositiveSmallIntegerField(default=1)
    # Renewed by the worker running the task (worker/lease.py); past it, the worker is lost.
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    # "host:pid" of the worker process running the current attempt.
    lease_holder = models.CharField(max_length=300, blank=True, default="")
    last_seq = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)
    retry_of = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="retries",
        help_text="The failed or cancelled task this one retries.",
    )
    # A workflow's step: its workflow, its place there (from 0), and its share of the workflow's
    # progress relative to its siblings'.
    parent = models.ForeignKey(
        "self", on_delete=models.CASCADE, null=True, blank=True, related_name="children", editable=False
    )
    position = models.PositiveSmallIntegerField(null=True, blank=True, editable=False)
    weight = models.FloatField(default=1.0, editable=False)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["owner", "-created_at"]),
            # The admin's newest-first list, and the sweeps over active tasks.
            models.Index(fields=["-created_at"], name="task_created_desc"),
            models.Index(fields=["status", "updated_at"], name="task_status_updated"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["parent", "position"], name="task_unique_position_in_workflow")
        ]
        # The admin's actions, each its own permission (the Operators group has them).
        permissions = [
            ("cancel_task", "Can cancel tasks"),
            ("retry_task", "Can retry tasks"),
            ("fail_task", "Can mark tasks failed"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.id} ({self.status})"

    @property
    def is_terminal(self) -> bool:
        return self.status in TERMINAL_STATUSES

    @property
    def is_workflow(self) -> bool:
        return self.kind in WORKFLOW_SHAPES


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


class ApiToken(models.Model):
    """A secret for scripts and services. Only its SHA-256 digest is stored: the token itself is
    shown once, at creation. Tokens are random (256 bits), so a fast unsalted hash is enough."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100, help_text="What the token is for, to tell tokens apart.")
    prefix = models.CharField(max_length=16, editable=False, help_text="The token's first characters.")
    digest = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "API token"

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.name})"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None
