"""The terminal's progress line (tasks_app/terminal.py), shared by watch_task and the script client."""

import pytest

from tasks_app.terminal import Display, time_left_text

RUNNING = {
    "seq": 7, "status": "running", "progress": 24.0, "current": 1200, "total": 5000, "message": "Importing",
    "rate": 850.0, "eta_seconds": 14.2,
}  # fmt: skip


def shown(message: dict) -> str:
    written: list[str] = []
    Display(written.append, in_place=False, flush=lambda: None).show(message)
    return "".join(written)


def test_a_running_task_that_counts_shows_how_fast_and_the_time_left():
    assert "1,200/5,000 · 850/s · about 15 s left running: Importing" in shown(RUNNING)


@pytest.mark.parametrize(
    "changes",
    [{"rate": None, "eta_seconds": None}, {"status": "completed"}],
    ids=["no estimate yet", "ended"],
)
def test_no_estimate_or_an_ended_task_shows_only_the_counts(changes):
    assert "1,200/5,000 " + (changes.get("status") or "running") in shown({**RUNNING, **changes})


def test_the_time_left_reads_as_the_browsers():
    assert [time_left_text(seconds) for seconds in (3, 41, 59.5, 150, 3599, 3600, 3900, 7230)] == [
        "almost done", "about 45 s left", "about 60 s left", "about 3 min left", "about 60 min left",
        "about 1 h left", "about 1 h 5 min left", "about 2 h 1 min left",
    ]  # fmt: skip
