"""`{% load taskpulse %}{% taskpulse_progress task %}`: a live progress bar for a task on any page
(the <taskpulse-progress> element of static/tasks_app/taskpulse-progress.js). The task's state
when the page was made is in the markup, so that it shows before the script runs, or without it;
the script's words come from the JavaScript catalog it loads (tasks_app.urls), in the page's
language."""

from django import template
from django.utils.translation import gettext as _

from tasks_app.models import Task

register = template.Library()


@register.inclusion_tag("tasks_app/progress_widget.html")
def taskpulse_progress(task: Task | str, label: str = "") -> dict:
    """`task` is a Task, or a task id; `label`, if given, names the bar (for screen readers too)
    above the task's own status line."""
    if not isinstance(task, Task):
        return {"task_id": str(task), "label": label, "state": _("Waiting")}
    state = task.get_status_display()
    if task.message:
        state = _("%(status)s: %(message)s") % {"status": state, "message": task.message}
    return {"task_id": str(task.id), "label": label, "state": f"{state} ({round(task.progress)}%)"}
