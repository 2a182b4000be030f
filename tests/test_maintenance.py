"""What operators run on the whole system: failing stale tasks, cleaning up old ones, stats;
and the management commands around them (exit codes included)."""

import io
import json
import subprocess
import sys
import uuid
from datetime import timedelta
from pathlib import Path

import pytest

from django.core.management import call_command
from django.utils import timezone

from project.celery import app
from tasks_app import broker_queue, maintenance, services
from tasks_app.models import Dataset, Task, TaskEvent, TaskFile, TaskStatus
from tasks_app.tasks import fail_stale_tasks

TICKER = {"steps": 2, "interval": 0}
TEN_MINUTES = timedelta(minutes=10)


def age(task: Task, **ago) -> None:
    """Move a task's clocks back, as if it had been created or heard from that long ago."""
    then = timezone.now() - timedelta(**ago)
    Task.objects.filter(pk=task.pk).update(
        created_at=then, updated_at=then, finished_at=then if task.finished_at else None
    )


@pytest.fixture
def broker_holds(monkeypatch):
    """Which task ids the broker holds, as the test says (the live worker of the integration
    tests would take real messages from the shared queue)."""
    held: set[str] = set()
    monkeypatch.setattr(broker_queue, "task_ids_held", lambda **kwargs: held)
    return held


class TestFailStale:
    def test_running_tasks_without_news_are_failed_and_their_followers_told(self, create_task, broker_holds):
        stale, fresh, waiting = (create_task("ticker", TICKER) for _ in range(3))
        broker_holds.add(str(waiting.id))
        for task in (stale, fresh):
            services.task_start(task_id=task.id)
        age(stale, minutes=15)

        failed = maintenance.tasks_fail_stale(after=TEN_MINUTES)

        assert [task.task_id for task in failed] == [stale.id]
        statuses = {task.id: Task.objects.get(pk=task.id).status for task in (stale, fresh, waiting)}
        assert statuses == {stale.id: "failed", fresh.id: "running", waiting.id: "pending"}
        last = TaskEvent.objects.filter(task=stale).order_by("seq").last()
        assert (last.type, last.payload["error"]) == ("complete", maintenance.RUNNING_STALE_REASON)

    def test_an_old_pending_task_whose_message_the_broker_lost_is_failed(self, create_task, broker_holds):
        lost, queued, recent = (create_task("ticker", TICKER) for _ in range(3))
        broker_holds.add(str(queued.id))
        age(lost, minutes=15)
        age(queued, minutes=15)

        failed = maintenance.tasks_fail_stale(after=TEN_MINUTES)

        assert [task.task_id for task in failed] == [lost.id]
        assert Task.objects.get(pk=lost.id).error == maintenance.PENDING_LOST_REASON
        assert {Task.objects.get(pk=t.id).status for t in (queued, recent)} == {"pending"}

    def test_a_dry_run_lists_the_stale_tasks_and_changes_nothing(self, create_task, broker_holds):
        task = create_task("ticker", TICKER)
        services.task_start(task_id=task.id)
        age(task, minutes=15)
        out = io.StringIO()

        call_command("fail_stale_tasks", "--after", "10m", "--dry-run", stdout=out)

        assert f"{task.id} running" in out.getvalue()
        assert "Would mark 1 stale tasks failed." in out.getvalue()
        assert Task.objects.get(pk=task.id).status == TaskStatus.RUNNING


def test_the_broker_is_asked_which_task_ids_it_holds():
    queue, task_id = f"test-{uuid.uuid4().hex}", str(uuid.uuid4())
    fail_stale_tasks.apply_async(task_id=task_id, queue=queue)
    try:
        held = broker_queue.task_ids_held(app=app, queues={queue})
    finally:
        with app.connection_for_write() as connection:
            connection.default_channel.client.delete(queue)

    assert task_id in held


class TestCleanup:
    def test_old_finished_tasks_go_with_their_events_and_files(self, create_task, upload, media_root):
        old = create_task("document", file=upload("notes.txt", "Old words."))
        services.task_start(task_id=old.id)
        services.task_file_add(task_id=old.id, name="report.csv", content=b"a,b\n", content_type="text/csv")
        services.task_complete(task_id=old.id, result={})
        old.refresh_from_db()
        age(old, days=40)
        recent = create_task("ticker", TICKER)
        services.task_cancel(task_id=recent.id)
        files = [Path(media_root) / old.input_file.name, Path(TaskFile.objects.get().file.path)]

        result = maintenance.tasks_cleanup(older_than=timedelta(days=30))

        assert (result.tasks, result.files) == (1, 2)
        assert list(Task.objects.values_list("id", flat=True)) == [recent.id]
        assert not TaskEvent.objects.filter(task_id=old.id).exists()
        assert not any(path.exists() for path in files)

    def test_only_the_statuses_asked_for_are_deleted(self, create_task):
        cancelled, failed = create_task("ticker", TICKER), create_task("ticker", TICKER)
        services.task_cancel(task_id=cancelled.id)
        services.task_fail(task_id=failed.id, error="test")
        for task in (cancelled, failed):
            task.refresh_from_db()
            age(task, days=2)

        call_command("cleanup_tasks", "--older-than", "1d", "--status", "failed", stdout=io.StringIO())

        assert list(Task.objects.values_list("id", flat=True)) == [cancelled.id]

    def test_a_dataset_a_dead_worker_left_half_imported_goes_and_an_imported_one_stays(
        self, create_task, user
    ):
        task = create_task("ticker", TICKER)
        services.task_fail(task_id=task.id, error="worker died")
        half = Dataset.objects.create(owner=user, task=task, name="half", columns=[])
        kept = Dataset.objects.create(owner=user, task=None, name="kept", columns=[], status="ready")
        Dataset.objects.filter(pk__in=[half.pk, kept.pk]).update(
            created_at=timezone.now() - timedelta(days=2)
        )

        result = maintenance.tasks_cleanup(older_than=timedelta(days=1))

        assert result.datasets == 1
        assert list(Dataset.objects.values_list("name", flat=True)) == ["kept"]

    def test_a_dry_run_deletes_nothing(self, create_task):
        task = create_task("ticker", TICKER)
        services.task_cancel(task_id=task.id)
        task.refresh_from_db()
        age(task, days=40)
        out = io.StringIO()

        call_command("cleanup_tasks", "--older-than", "30d", "--dry-run", stdout=out)

        assert "Would delete 1 tasks" in out.getvalue()
        assert Task.objects.filter(pk=task.id).exists()


def test_stats_count_durations_and_failures(create_task):
    done, failed, waiting = (create_task("ticker", TICKER) for _ in range(3))
    for task in (done, failed):
        services.task_start(task_id=task.id)
    Task.objects.filter(pk=done.id).update(started_at=timezone.now() - timedelta(seconds=30))
    services.task_complete(task_id=done.id, result={})
    services.task_fail(task_id=failed.id, error="bad input")
    out = io.StringIO()

    call_command("task_stats", "--since", "1h", "--json", stdout=out)

    stats = json.loads(out.getvalue())
    assert stats["created"] == 3
    assert stats["finished_by_status"] == {"completed": 1, "failed": 1}
    assert stats["now_by_status"]["pending"] == 1
    assert stats["failure_rate"] == 0.5
    assert 29 <= stats["duration_seconds"]["max"] <= 60
    assert stats["throughput_per_hour"] == 2.0


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (["cleanup_tasks", "--older-than", "soon"], 2),
        (["cleanup_tasks"], 2),
        (["fail_stale_tasks", "--after", "10x"], 2),
        (["task_stats", "--since", "yesterday"], 2),
        (["watch_task", "not-a-uuid"], 2),
    ],
)
def test_bad_arguments_exit_2_with_a_usage_message(args, code):
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=Path(__file__).resolve().parents[1],
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == code
    assert "usage:" in result.stderr
