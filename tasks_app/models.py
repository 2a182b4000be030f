import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

KIND_MAX_LENGTH = 200

# The kinds of a workflow's own task (workflows.py): the Celery canvas it was started from.
WORKFLOW_SHAPES = ("group", "chain", "chord")


class TaskStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    RUNNING = "running", _("Running")
    COMPLETED = "completed", _("Completed")
    FAILED = "failed", _("Failed")
    CANCELLED = "cancelled", _("Cancelled")


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
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="tasks",
        null=True,
        blank=True,
        verbose_name=_("owner"),
    )
    # A built-in kind's name, or the name of the Celery task a @progress_task is.
    kind = models.CharField(_("kind"), max_length=KIND_MAX_LENGTH)
    params = models.JSONField(_("parameters"), default=dict, blank=True)
    input_file = models.FileField(_("input file"), upload_to=_input_path, blank=True, max_length=300)
    status = models.CharField(
        _("status"), max_length=16, choices=TaskStatus.choices, default=TaskStatus.PENDING
    )
    progress = models.FloatField(_("progress"), default=0.0)
    current = models.BigIntegerField(_("current"), null=True, blank=True)
    total = models.BigIntegerField(_("total"), null=True, blank=True)
    message = models.TextField(_("message"), blank=True, default="")
    # Called with the task's terminal event (webhooks/), signed with the owner's secret.
    callback_url = models.URLField(_("callback URL"), max_length=2000, blank=True, default="")
    # The language of the person who started it (the request's, chosen by LocaleMiddleware): the
    # task's messages and errors are written in it, whichever process writes them.
    language = models.CharField(_("language"), max_length=15, blank=True, default="")
    # Counted per second, and seconds left, as the reporter estimates them (estimates.py); None
    # until they mean something, when the task does not count, and once it ended.
    rate = models.FloatField(_("rate"), null=True, blank=True)
    eta_seconds = models.FloatField(_("seconds left"), null=True, blank=True)
    result = models.JSONField(_("result"), null=True, blank=True)
    error = models.TextField(_("error"), null=True, blank=True)  # noqa: DJ001 (the protocol sends null for "no error")
    cancel_requested = models.BooleanField(_("cancel requested"), default=False)
    attempt = models.PositiveSmallIntegerField(_("attempt"), default=0)
    # Each message that asks a worker to run the task carries the dispatch it was sent as; one sent
    # again after its worker was lost makes earlier ones stale (services.task_resend). 0: not sent
    # yet, a workflow's step that waits for earlier ones.
    dispatch = models.PositiveSmallIntegerField(_("dispatch"), default=1)
    # Renewed by the worker running the task (worker/lease.py); past it, the worker is lost.
    lease_expires_at = models.DateTimeField(_("lease expires at"), null=True, blank=True)
    # "host:pid" of the worker process running the current attempt.
    lease_holder = models.CharField(_("lease holder"), max_length=300, blank=True, default="")
    last_seq = models.PositiveIntegerField(_("last seq"), default=0)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    retry_of = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="retries",
        verbose_name=_("retry of"),
        help_text=_("The failed or cancelled task this one retries."),
    )
    # A workflow's step: its workflow, its place there (from 0), and its share of the workflow's
    # progress relative to its siblings'.
    parent = models.ForeignKey(
        "self",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="children",
        editable=False,
        verbose_name=_("workflow"),
    )
    position = models.PositiveSmallIntegerField(_("position"), null=True, blank=True, editable=False)
    weight = models.FloatField(_("weight"), default=1.0, editable=False)

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
            ("cancel_task", _("Can cancel tasks")),
            ("retry_task", _("Can retry tasks")),
            ("fail_task", _("Can mark tasks failed")),
        ]
        verbose_name = _("task")
        verbose_name_plural = _("tasks")

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

    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="events", verbose_name=_("task"))
    seq = models.PositiveIntegerField(
        _("seq"),
    )
    type = models.CharField(_("type"), max_length=16, choices=EventType.choices)
    payload = models.JSONField(
        _("payload"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["task", "seq"]
        constraints = [models.UniqueConstraint(fields=["task", "seq"], name="taskevent_unique_seq_per_task")]
        verbose_name = _("task event")
        verbose_name_plural = _("task events")

    def __str__(self) -> str:
        return f"{self.task_id} #{self.seq} {self.type}"


class TaskFile(models.Model):
    """A file a task produced (a report), downloadable by the task's owner only."""

    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="files", verbose_name=_("task"))
    name = models.CharField(_("name"), max_length=200)
    file = models.FileField(_("file"), max_length=300)
    content_type = models.CharField(_("content type"), max_length=100)
    size = models.PositiveBigIntegerField(
        _("size"),
    )

    class Meta:
        constraints = [models.UniqueConstraint(fields=["task", "name"], name="taskfile_unique_name_per_task")]
        verbose_name = _("task file")
        verbose_name_plural = _("task files")

    def __str__(self) -> str:
        return self.name


class DatasetStatus(models.TextChoices):
    IMPORTING = "importing", _("Importing")
    READY = "ready", _("Ready")


class Dataset(models.Model):
    """Rows imported from a CSV file. Only `ready` datasets are visible to reports."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="datasets", verbose_name=_("owner")
    )
    task = models.OneToOneField(
        Task, on_delete=models.SET_NULL, null=True, related_name="dataset", verbose_name=_("task")
    )
    name = models.CharField(_("name"), max_length=200)
    columns = models.JSONField(
        _("columns"),
    )
    status = models.CharField(
        _("status"), max_length=16, choices=DatasetStatus.choices, default=DatasetStatus.IMPORTING
    )
    row_count = models.PositiveIntegerField(_("rows"), default=0)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("dataset")
        verbose_name_plural = _("datasets")

    def __str__(self) -> str:
        return self.name


class DatasetRow(models.Model):
    dataset = models.ForeignKey(
        Dataset, on_delete=models.CASCADE, related_name="rows", verbose_name=_("dataset")
    )
    line = models.PositiveIntegerField(
        _("line"),
    )
    values = models.JSONField(
        _("values"),
    )

    class Meta:
        ordering = ["dataset", "line"]
        indexes = [models.Index(fields=["dataset", "line"])]

    def __str__(self) -> str:
        return f"{self.dataset_id}:{self.line}"


class ApiToken(models.Model):
    """A secret for scripts and services. Only its SHA-256 digest is stored: the token itself is
    shown once, at creation. Tokens are random (256 bits), so a fast unsalted hash is enough."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens", verbose_name=_("user")
    )
    name = models.CharField(
        _("name"), max_length=100, help_text=_("What the token is for, to tell tokens apart.")
    )
    prefix = models.CharField(
        _("prefix"), max_length=16, editable=False, help_text=_("The token's first characters.")
    )
    digest = models.CharField(_("digest"), max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.name})"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


WEBHOOK_EVENTS = ("task.started", "task.completed", "task.failed", "task.cancelled")


class WebhookSecret(models.Model):
    """A user's signing secret. Only a random seed is stored: the secret is derived from it and
    SECRET_KEY when signing (webhooks/signatures.py), so the database alone does not give it away.
    After a rotation the previous seed signs too, until `previous_until`."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="webhook_secret",
        verbose_name=_("user"),
    )
    seed = models.CharField(_("seed"), max_length=64, editable=False)
    previous_seed = models.CharField(
        _("previous seed"), max_length=64, blank=True, default="", editable=False
    )
    previous_until = models.DateTimeField(
        _("previous secret valid until"), null=True, blank=True, editable=False
    )
    rotated_at = models.DateTimeField(_("rotated at"), auto_now=True)

    class Meta:
        verbose_name = _("webhook secret")
        verbose_name_plural = _("webhook secrets")

    def __str__(self) -> str:
        return str(self.user)


class WebhookEndpoint(models.Model):
    """A URL of a user's that is called when their tasks reach the chosen events."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="webhook_endpoints",
        verbose_name=_("owner"),
    )
    url = models.URLField(_("URL"), max_length=2000)
    events = models.JSONField(_("events"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    # Since when every delivery to it has failed; past TASKPULSE_WEBHOOK_DISABLE_AFTER_SECONDS it
    # is disabled, and its owner sees why.
    failing_since = models.DateTimeField(_("failing since"), null=True, blank=True)
    disabled_at = models.DateTimeField(_("disabled at"), null=True, blank=True)
    disabled_reason = models.TextField(_("why it was disabled"), blank=True, default="")

    class Meta:
        ordering = ["created_at"]
        verbose_name = _("webhook endpoint")
        verbose_name_plural = _("webhook endpoints")

    def __str__(self) -> str:
        return self.url


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    DELIVERED = "delivered", _("Delivered")
    FAILED = "failed", _("Failed")


class WebhookDelivery(models.Model):
    """One event to one URL (an endpoint's, or a task's callback), tried until a 2xx answer, a
    final refusal, or TASKPULSE_WEBHOOK_RETRY_SECONDS. Its id is the Taskpulse-Delivery header,
    the same on every try."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    endpoint = models.ForeignKey(
        WebhookEndpoint,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="deliveries",
        verbose_name=_("endpoint"),
    )
    task = models.ForeignKey(
        Task,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="deliveries",
        verbose_name=_("task"),
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="webhook_deliveries",
        verbose_name=_("owner"),
    )
    url = models.URLField(_("URL"), max_length=2000)
    event = models.CharField(_("event"), max_length=32)
    body = models.JSONField(_("body"))
    status = models.CharField(
        _("status"), max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    # A worker holds the delivery while it calls the receiver; another does not call it meanwhile.
    claimed_until = models.DateTimeField(_("claimed until"), null=True, blank=True)
    next_attempt_at = models.DateTimeField(_("next try"), null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(_("last status code"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True, default="")
    last_latency_ms = models.PositiveIntegerField(_("last latency (ms)"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="delivery_status_next")]
        permissions = [("redeliver_webhookdelivery", _("Can redeliver webhook deliveries"))]
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")

    def __str__(self) -> str:
        return f"{self.event} → {self.url}"
