"""The benchmark's report: a Markdown table with ratios, a PNG chart, and a profile summary."""

import math
import os
import platform
import subprocess
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


@dataclass
class Row:
    measurement: str
    design: str
    conditions: str
    figures: dict[str, float]
    baseline_of: str | None = None  # the design this row is compared against, within its group
    group: str = ""
    ratios: dict[str, float] = field(default_factory=dict)


def with_ratios(rows: list[Row]) -> list[Row]:
    """Each compared row's figures divided by its reference's: above 1 means larger than ours."""
    for row in rows:
        if row.baseline_of is None:
            continue
        reference = next(
            (
                r
                for r in rows
                if (r.measurement, r.group, r.design) == (row.measurement, row.group, row.baseline_of)
            ),
            None,
        )
        if reference is None:
            continue
        for name, value in row.figures.items():
            base = reference.figures.get(name)
            if base and not math.isnan(base) and value is not None and not math.isnan(value):
                row.ratios[name] = value / base
    return rows


def _number(value) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float) and math.isnan(value):
        return "none"
    if isinstance(value, int) or abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:.2f}" if abs(value) < 10 else f"{value:.1f}"


def table(rows: list[Row]) -> str:
    lines = [
        "| measurement | design | figures (ratio to the reference row) | conditions |",
        "|---|---|---|---|",
    ]
    for row in with_ratios(rows):
        figures = "<br>".join(
            f"{name}: **{_number(value)}**" + (f" ({row.ratios[name]:.2f}×)" if name in row.ratios else "")
            for name, value in row.figures.items()
        )
        lines.append(f"| {row.measurement} | {row.design} | {figures} | {row.conditions} |")
    return "\n".join(lines)


def machine() -> str:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    redis = subprocess.run(["redis-server", "--version"], capture_output=True, text=True).stdout.split(" ")[
        2:3
    ]
    return (
        f"{os.cpu_count()} cores ({cpu}), Python {platform.python_version()}, "
        f"Redis {''.join(redis).removeprefix('v=') or '?'}, database {_database()}; "
        "server, worker, load process, Redis and PostgreSQL all on this one machine"
    )


def _database() -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SHOW server_version")
            return f"PostgreSQL {cursor.fetchone()[0]}"
    return connection.vendor


def chart(bench, path: Path) -> None:
    """Latency at the most clients, Taskpulse beside the peers and baselines; latency of the many
    tasks steps; memory against connections, each design's server."""
    figure, (left, middle, right) = plt.subplots(1, 3, figsize=(19, 5.5))
    most = max((label.rsplit(", ", 1)[1] for label in bench.latencies if label.endswith(" clients")),
               key=lambda clients: int(clients.split()[0].replace(",", "")), default="")  # fmt: skip
    _distributions(left, {label.rsplit(", ", 1)[0]: values for label, values in bench.latencies.items()
                          if label.endswith(f", {most}")})  # fmt: skip
    left.set_title(f"Latency at {most}, 200 events/s (20 tasks)")
    _distributions(
        middle, {label: values for label, values in bench.latencies.items() if label.startswith("many")}
    )
    middle.set_title("Many tasks at once, 10 events/s each, 1,000 clients")
    for name, points in bench.memory.items():
        right.plot([c for c, _ in points], [mb for _, mb in points], marker="o", label=name)
    right.set_xlabel("idle connections")
    right.set_ylabel("server RSS (MB)")
    right.set_title("One server process: memory against connections")
    right.grid(True, alpha=0.3)
    if bench.memory:
        right.legend(fontsize=7)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def _distributions(axes, series: dict[str, list[float]]) -> None:
    for label, latencies in series.items():
        if latencies:
            ordered = sorted(latencies)
            axes.plot(ordered, [(n + 1) / len(ordered) for n in range(len(ordered))], label=label)
    axes.set_xscale("log")
    axes.set_xlabel("latency, reporter call → client receive (ms, log scale)")
    axes.set_ylabel("fraction of messages")
    axes.grid(True, which="both", alpha=0.3)
    if any(series.values()):
        axes.legend(fontsize=7)


def profile_summary(raw: Path, what: str, top: int = 15) -> str:
    """py-spy's collapsed stacks → where the server's samples went: functions by own samples, and
    product or library frames by samples that passed through them."""
    own, through, total = Counter(), Counter(), 0
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack:
            continue
        count = int(count)
        total += count
        frames = stack.split(";")
        own[_short(frames[-1])] += count
        for frame in set(map(_short, frames)):
            through[frame] += count
    if not total:
        return "py-spy recorded no samples."
    lines = [
        f"{total:,} samples of {what}.",
        "",
        "| own samples | function |",
        "|---|---|",
    ]
    lines += [f"| {100 * n / total:.1f} % | `{name}` |" for name, n in own.most_common(top)]
    lines += ["", "| samples through | function |", "|---|---|"]
    interesting = [
        (name, n)
        for name, n in through.most_common()
        if any(
            part in name
            for part in ("channels", "daphne", "autobahn", "twisted", "tasks_app", "redis", "json", "msgpack")
        )
    ][:top]
    lines += [f"| {100 * n / total:.1f} % | `{name}` |" for name, n in interesting]
    return "\n".join(lines)


def _short(frame: str) -> str:
    # "function (path/to/module.py:123)" → "function (module path from site-packages or the repo)"
    name, _, where = frame.partition(" (")
    where = where.rstrip(")").rsplit(":", 1)[0]
    for marker in ("site-packages/", "/work/main/", "lib/python3.11/"):
        if marker in where:
            where = where.split(marker, 1)[1]
    return f"{name} ({where})"


def write(bench, out: Path) -> None:
    chart(bench, out / "results.png")
    sizes = bench.sizes
    parts = [
        "# Benchmark results",
        "",
        f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC with `bin/bench{' --smoke' if bench.smoke else ''}`, "
        f"on {machine()}.",
        "",
        "Latency is from the work's call to `ProgressReporter.update()` in the Celery worker to the load "
        "process's receive, both stamped with the same wall clock. Ratios compare a row with the "
        "reference row of its measurement (Taskpulse; Daphne with the pub/sub layer) in this same run: for "
        "latency and database load, a ratio above 1 means the other design is that many times "
        "slower or busier.",
        "",
        table(bench.rows),
        "",
        "![latency distribution and memory against connections](results.png)",
        "",
        f"Sizes: {sizes}.",
    ]
    for name, title, what in (
        ("profile-fanout.txt", "Where the server's time goes under fan-out (py-spy)",
         "the server under fan-out"),
        ("profile-storm.txt", "Where the server's time goes in a connect storm (py-spy)",
         f"the new server while {sizes.storm:,} clients reconnect"),
        ("profile-latency-worker.txt", "Where the worker's time goes while reporting (py-spy)",
         "the worker's processes while tickers report"),
    ):  # fmt: skip
        if (out / name).exists():
            parts += ["", f"## {title}", "", profile_summary(out / name, what)]
    (out / "results.md").write_text("\n".join(parts) + "\n")
