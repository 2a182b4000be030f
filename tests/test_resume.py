from tasks_app import services
from tasks_app.models import TaskEvent
from tasks_app.realtime import resume


def _types_and_seqs(opening: list[dict]) -> list[tuple]:
    return [(message["type"], message["seq"], message.get("recovered")) for message in opening]


def test_a_new_client_gets_one_snapshot(create_task):
    task = create_task("ticker", {"steps": 1, "interval": 0})

    assert _types_and_seqs(resume.opening_messages(task_id=task.id, last_seq=None)) == [("snapshot", 1, None)]


def test_a_client_that_saw_everything_gets_nothing_more(create_task):
    task = create_task("ticker", {"steps": 1, "interval": 0})

    assert resume.opening_messages(task_id=task.id, last_seq="1") == []


def test_a_resume_across_a_gap_in_history_gets_a_snapshot_that_says_so(create_task):
    task = create_task("ticker", {"steps": 1, "interval": 0})
    services.task_start(task_id=task.id)
    services.task_progress(task_id=task.id, progress=10, current=None, total=None, message="")
    TaskEvent.objects.filter(task=task, seq=2).delete()  # as retention will prune old events

    opening = resume.opening_messages(task_id=task.id, last_seq="1")

    assert _types_and_seqs(opening) == [("snapshot", 3, False)]


def test_replayed_events_carry_the_timestamp_they_were_sent_with(create_task):
    task = create_task("ticker", {"steps": 1, "interval": 0})
    services.task_start(task_id=task.id)
    first = resume.opening_messages(task_id=task.id, last_seq="0")

    again = resume.opening_messages(task_id=task.id, last_seq="0")

    assert first == again
    assert [message["seq"] for message in first] == [1, 2]


def test_a_resume_after_every_later_event_was_pruned_is_not_silent(create_task):
    task = create_task("ticker", {"steps": 1, "interval": 0})
    services.task_start(task_id=task.id)
    TaskEvent.objects.filter(task=task, seq=2).delete()

    opening = resume.opening_messages(task_id=task.id, last_seq="1")

    assert _types_and_seqs(opening) == [("snapshot", 2, False)]
