"""Progress for any Celery task: `@progress_task` makes a function a Celery task whose body is
handed a reporter first, and `start_task` starts one for a user, who can then follow it.

    from tasks_app.progress_tasks import progress_task, start_task

    @progress_task
    def resize_images(reporter, folder):
        for done, name in enumerate(names, 1):
            ...
            reporter.update(done, len(names), f"Resized {name}")
        return {"resized": len(names)}

    task = start_task(request.user, resize_images, "uploads/2026")  # in a view

The body runs as the built-in kinds do (worker/running.py): the same throttle, persistence,
cancellation (a reporter call raises once the owner cancels) and exactly-once delivery. A
progress task started some other way (`resize_images.delay(...)`, beat) reports too: it is
stored when it starts, with no owner, so that only staff can watch it.
"""

import functools
import inspect
import json
import logging
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from celery import shared_task
from kombu.utils import json as kombu_json

from django.conf import settings

from tasks_app import selectors, services
from tasks_app.models import KIND_MAX_LENGTH, WORKFLOW_SHAPES, Task
from tasks_app.worker import running

if TYPE_CHECKING:
    from django.contrib.auth.models import User

logger = logging.getLogger(__name__)

# The keyword argument a message of start_task carries besides the task's own arguments.
DISPATCH_ARGUMENT = "taskpulse_dispatch"

# Each @progress_task by its name: the function, the Celery task made of it, and whether its
# params are its keyword arguments (a built-in kind's).
_REGISTERED: dict[str, tuple[Callable, Any, bool]] = {}


class TaskArgumentsError(ValueError):
    """The arguments do not fit the task's function, or cannot be stored as JSON."""


def progress_task(function: Callable | None = None, /, *, keyword_params: bool = False, **celery_options):
    """`@progress_task` or `@progress_task(queue="media", soft_time_limit=600, ...)`: the function,
    called as `function(reporter, *args, **kwargs)`, as a Celery shared task named
    "<module>.<function>" unless `name` says otherwise. Its soft time limit defaults to
    TASKPULSE_TASK_TIME_LIMIT_SECONDS. With `keyword_params`, a task's params are the function's
    keyword arguments themselves, as a built-in kind's form cleans them (services.task_create),
    rather than start_task's {"args", "kwargs"}."""
    if function is None:
        return functools.partial(progress_task, keyword_params=keyword_params, **celery_options)
    name = celery_options.pop("name", None) or f"{function.__module__}.{function.__name__}"
    if len(name) > KIND_MAX_LENGTH:
        raise ValueError(f"The task name {name!r} is over {KIND_MAX_LENGTH} characters; set a shorter name.")
    if name in WORKFLOW_SHAPES:
        raise ValueError(f"{name!r} is the kind of a workflow's own task; name the task otherwise.")

    def body(self, *args, **kwargs):
        dispatch = kwargs.pop(DISPATCH_ARGUMENT, None)
        task_id = self.request.id or str(uuid.uuid4())  # called as a plain function: a task of its own
        adopt = None
        if dispatch is None:  # not sent by start_task: stored now
            adopt = functools.partial(
                services.task_adopt,
                task_id=uuid.UUID(task_id),
                name=name,
                params=_adopted_params(args, kwargs, keyword_params=keyword_params),
            )
        return running.run(
            self,
            task_id=task_id,
            dispatch=dispatch,
            # The function as registered now, which a test may have replaced.
            work=lambda _task, reporter: _REGISTERED[name][0](reporter, *args, **kwargs),
            time_limit_of=lambda _task: _time_limit(self),
            adopt=adopt,
        )

    # Its name and docs, not its signature (no __wrapped__): the reporter is not the caller's.
    for attribute in ("__module__", "__name__", "__qualname__", "__doc__"):
        setattr(body, attribute, getattr(function, attribute))
    # typing=False: the message carries DISPATCH_ARGUMENT besides the function's own arguments;
    # start_task checks those against the function in the web process instead.
    celery_task = shared_task(bind=True, name=name, typing=False, **celery_options)(body)
    _REGISTERED[name] = (function, celery_task, keyword_params)
    return celery_task


def start_task(owner: "User", celery_task, /, *args, **kwargs) -> Task:
    """Store a task owned by `owner` that runs the @progress_task with these arguments, and send
    it to the workers once the transaction commits; its id is the Celery task's id. Raises
    TaskArgumentsError, storing nothing, when the arguments do not fit the function or cannot be
    sent as Celery sends JSON (datetimes, UUIDs and decimals can; a model instance cannot: pass
    its id)."""
    name = getattr(celery_task, "name", None)
    if not isinstance(name, str):
        raise TypeError(f"{celery_task!r} is not a @progress_task.")
    return services.task_create_for_celery_task(
        owner=owner, name=name, params=checked_params(name, args, kwargs)
    )


def checked_params(name: str, args: tuple, kwargs: dict, *, handed: int = 0) -> dict:
    """The params of a task that runs the @progress_task called `name` with these arguments,
    after `handed` arguments a workflow hands it first (an earlier step's result); raises
    TypeError for a name that is no @progress_task or is a built-in kind, TaskArgumentsError when
    the arguments do not fit its function or cannot be sent."""
    if name not in _REGISTERED:
        raise TypeError(f"{name!r} is not a @progress_task.")
    function, _celery_task, keyword_params = _REGISTERED[name]
    if keyword_params:
        raise TypeError(
            f"{name!r} is a built-in kind: start it with services.task_create, whose form checks it."
        )
    if DISPATCH_ARGUMENT in kwargs:
        raise TaskArgumentsError(f"{DISPATCH_ARGUMENT} is Taskpulse's own argument; rename yours.")
    try:
        inspect.signature(function).bind(None, *([None] * handed), *args, **kwargs)
    except TypeError as exc:
        raise TaskArgumentsError(f"{name}: {exc}") from None
    return _stored(args, kwargs)


def send(task: Task) -> None:
    """Queue the message of a task that runs a @progress_task (services._enqueue): a workflow's
    step gets what the steps before it hand it (selectors.workflow_step_input) first, and is
    routed by the options its signature set."""
    if task.kind not in _REGISTERED:
        raise LookupError(f"No @progress_task is called {task.kind!r} in this process; import its module.")
    _function, celery_task, keyword_params = _REGISTERED[task.kind]
    params = {"args": [], "kwargs": task.params} if keyword_params else task.params
    if "args" not in params:
        raise TaskArgumentsError(f"Task {task.id} cannot be sent again: its arguments were not stored.")
    soft_limit = _time_limit(celery_task)
    handed = selectors.workflow_step_input(step=task)
    # Datetimes and the like, as they were sent.
    arguments = kombu_json.loads(json.dumps({"handed": handed, **params}))
    celery_task.apply_async(
        args=[*arguments["handed"], *arguments["args"]],
        kwargs={**arguments["kwargs"], DISPATCH_ARGUMENT: task.dispatch},
        **arguments.get("options", {}),
        # The task's own id as Celery's, so that a pending task can be revoked by it.
        task_id=str(task.id),
        soft_time_limit=soft_limit,
        time_limit=celery_task.time_limit or soft_limit + services.HARD_TIME_LIMIT_GRACE_SECONDS,
    )


def _time_limit(celery_task) -> int:
    return celery_task.soft_time_limit or settings.TASKPULSE_TASK_TIME_LIMIT_SECONDS


def _storable(value, what: str):
    """The value as Celery's JSON serializer sends it (kombu's, which also carries datetimes,
    UUIDs and decimals), stored as JSON; TaskArgumentsError naming it when it cannot be."""
    try:
        return json.loads(kombu_json.dumps(value), parse_constant=_refuse_constant)
    except (TypeError, ValueError) as exc:
        kind = type(value).__name__
        raise TaskArgumentsError(f"The task's {what} ({kind}) cannot be sent: {exc}.") from None


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not JSON")


def _stored(args: tuple, kwargs: dict) -> dict:
    """A task's params: its arguments as they are sent (see _storable)."""
    return {
        "args": [_storable(value, f"argument {position}") for position, value in enumerate(args, 1)],
        "kwargs": {key: _storable(value, f"argument {key!r}") for key, value in kwargs.items()},
    }


def _adopted_params(args: tuple, kwargs: dict, *, keyword_params: bool) -> dict:
    try:
        stored = _stored(args, kwargs)
        return stored["kwargs"] if keyword_params and not args else stored
    except TaskArgumentsError as exc:
        logger.info("A progress task's arguments are not stored: %s", exc)
        return {}
