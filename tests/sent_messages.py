"""The messages @progress_tasks would be queued as, captured instead, and run with Celery's
`apply` as a worker would: for the tests of start_task and start_workflow."""


class SentMessages(dict):
    """Task id: (the Celery task, the options it was sent with), in the order they were sent."""

    def run(self, task):
        """Run the task's message as a worker would; the task as it then is."""
        celery_task, options = self[str(task.id)]
        celery_task.apply(args=options["args"], kwargs=options["kwargs"], task_id=options["task_id"])
        return type(task).objects.get(pk=task.id)


def capture_sent(monkeypatch, *celery_tasks) -> SentMessages:
    sent = SentMessages()
    for celery_task in celery_tasks:
        monkeypatch.setattr(
            celery_task,
            "apply_async",
            lambda celery_task=celery_task, **options: sent.update(
                {options["task_id"]: (celery_task, options)}
            ),
        )
    return sent
