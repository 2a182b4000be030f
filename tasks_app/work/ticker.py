"""The `ticker` kind: a pipeline check for operators and benchmarks, not user work.

It sends `steps` progress updates `interval` seconds apart and does nothing else, so that the
path worker → Redis → consumer → browser can be watched and timed on its own. It is the only
kind that waits on a timer.
"""

import time

from django import forms

from tasks_app.models import Task
from tasks_app.work.base import Kind, KindForm, Reporter


class TickerParams(KindForm):
    steps = forms.IntegerField(min_value=1, max_value=10_000)
    interval = forms.FloatField(min_value=0.0, max_value=10.0)


def run(task: Task, reporter: Reporter) -> dict:
    steps = task.params["steps"]
    interval = task.params["interval"]
    reporter.step("Ticking", until=100)
    for tick in range(1, steps + 1):
        if tick > 1 and interval:
            time.sleep(interval)
        reporter.update(tick, steps, f"Tick {tick:,} of {steps:,}")
    return {"steps": steps, "interval": interval}


KIND = Kind(name="ticker", label="Ticker (pipeline check)", form=TickerParams, run=run)
