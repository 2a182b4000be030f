"""Celery tasks as a host project writes them with Taskpulse: the test workers import this
module (`celery worker --include tests.host_tasks`), as a host's worker finds its own tasks."""

import time

from tasks_app.progress_tasks import progress_task


@progress_task
def count_files(reporter, count: int, pause: float) -> dict:
    for done in range(1, count + 1):
        time.sleep(pause)
        reporter.update(done, count, f"Counted {done} of {count} files")
    return {"files": count}


@progress_task
def add_counts(reporter, counted: list[dict]) -> dict:
    """A chord's body: handed the results of the count_files steps before it."""
    reporter.update(len(counted), len(counted), "Added the counts")
    return {"files": sum(count["files"] for count in counted)}
