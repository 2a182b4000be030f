"""End-to-end latency: each reporter call joined to each receive of what it reported."""

from pathlib import Path

import numpy


def percentiles(latencies: list[float]) -> tuple[float, float, float]:
    if not latencies:
        return (float("nan"),) * 3
    return tuple(float(value) for value in numpy.percentile(latencies, [50, 95, 99]))


def join_latencies(calls_file: Path, records_file: Path, task_ids: set[str]):
    """Milliseconds from each reporter call to each receive of what it reported, the number of
    such receives, and the seconds between the first and the last of them."""
    calls = {}
    for line in calls_file.read_text().splitlines():
        task_id, message, moment = line.split("\t")
        if task_id in task_ids:
            calls[(task_id, message)] = float(moment)
    latencies, first, last = [], None, None
    for line in records_file.read_text().splitlines():
        moment, task_id, _seq, _client, message = line.split("\t", 4)
        called = calls.get((task_id, message))
        if called is None:
            continue
        moment = float(moment)
        latencies.append((moment - called) * 1000)
        first = moment if first is None else min(first, moment)
        last = moment if last is None else max(last, moment)
    return latencies, len(latencies), (last - first) if latencies else 0.0
