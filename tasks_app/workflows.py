"""Celery workflows of progress tasks as one task: `start_workflow` stores a group, chain or chord
of @progress_task signatures as a workflow its owner follows like any task, with a task of its
own for each step.

    from celery import chord
    from tasks_app.workflows import start_workflow

    workflow = start_workflow(
        request.user,
        chord([export_orders.s(region) for region in regions], merge_exports.s()),
        weights=[1] * len(regions) + [3],  # optional: the merge is three times an export's work
    )

The steps run as Celery's canvas would run them: a chain's step is handed the result of the step
before it, a chord's body the list of its header's results (nothing for an immutable `.si()`).
Taskpulse sends each step itself once the steps it waits for have completed, rather than
handing the canvas to Celery, so that a workflow needs no result backend, a step sent again after
its worker was lost still continues its workflow, and a step that fails stops the others
(services._workflow_step_moved).
"""

from typing import TYPE_CHECKING

from celery.canvas import Signature, _chain, _chord, group

from tasks_app import progress_tasks, services
from tasks_app.models import Task

if TYPE_CHECKING:
    from django.contrib.auth.models import User

# The options of a step's signature that are sent with it; any other is refused at the call.
SENT_OPTIONS = ("queue", "priority")


class WorkflowError(ValueError):
    """The canvas is not a workflow Taskpulse runs, or its weights do not fit it."""


def start_workflow(owner: "User", canvas: Signature, /, *, weights: list[float] | None = None) -> Task:
    """Store the group, chain or chord of @progress_task signatures as a workflow owned by
    `owner`, with its steps in the canvas's order (a chord's body last), and send the steps that
    wait for no other once the transaction commits. `weights` gives each step's share of the
    workflow's progress (equal by default). Raises WorkflowError for a canvas of another shape
    (a nested one), TypeError for a signature of a task that is no @progress_task, and
    TaskArgumentsError for arguments that do not fit their task or cannot be sent; nothing is
    stored then."""
    shape, signatures = _shape_of(canvas)
    if weights is None:
        weights = [1.0] * len(signatures)
    if len(weights) != len(signatures):
        raise WorkflowError(f"The workflow has {len(signatures)} steps but {len(weights)} weights.")
    if not all(isinstance(weight, int | float) and weight > 0 for weight in weights):
        raise WorkflowError("Every step's weight is a number over 0.")
    steps = [
        services.WorkflowStep(
            name=signature.task, params=_step_params(signature, handed), weight=float(weight)
        )
        for signature, handed, weight in zip(signatures, _handed(shape, signatures), weights, strict=True)
    ]
    return services.workflow_create(owner=owner, shape=shape, steps=steps)


def _shape_of(canvas: Signature) -> tuple[str, list[Signature]]:
    if isinstance(canvas, _chord):
        header = canvas.tasks.tasks if isinstance(canvas.tasks, group) else canvas.tasks
        shape, signatures = "chord", [*header, canvas.body]
    elif isinstance(canvas, group):
        shape, signatures = "group", list(canvas.tasks)
    elif isinstance(canvas, _chain):
        shape, signatures = "chain", list(canvas.tasks)
    else:
        raise WorkflowError(
            f"Start a group, chain or chord as a workflow, not {type(canvas).__name__}; "
            "start a single task with start_task."
        )
    if not signatures or any(not _is_single(signature) for signature in signatures):
        raise WorkflowError(
            f"A {shape}'s steps are single task signatures, at least one: a workflow within a "
            "workflow is not supported."
        )
    return shape, signatures


def _is_single(signature) -> bool:
    return isinstance(signature, Signature) and not isinstance(signature, group | _chain | _chord)


def _handed(shape: str, signatures: list[Signature]) -> list[int]:
    """How many arguments each step is handed before its own: an earlier step's result (a
    chain's steps after the first, a chord's body), unless its signature is immutable."""
    last = len(signatures) - 1
    takes = {
        "chain": lambda position: position > 0,
        "chord": lambda position: position == last,
        "group": lambda position: False,
    }[shape]
    return [int(takes(position) and not signature.immutable) for position, signature in enumerate(signatures)]


def _step_params(signature: Signature, handed: int) -> dict:
    unsupported = sorted(set(signature.options) - set(SENT_OPTIONS))
    if unsupported:
        raise WorkflowError(
            f"{signature.task}: the option(s) {', '.join(unsupported)} are not supported in a workflow; "
            f"only {', '.join(SENT_OPTIONS)} are."
        )
    params = progress_tasks.checked_params(
        signature.task, tuple(signature.args), dict(signature.kwargs), handed=handed
    )
    if signature.immutable:
        params["immutable"] = True
    if signature.options:
        params["options"] = {key: signature.options[key] for key in SENT_OPTIONS if key in signature.options}
    return params
