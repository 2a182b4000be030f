"""deploy/grafana/taskpulse.json asks Prometheus only for metrics this product exports, so that
no panel of it stays empty after a rename."""

import json
import re
from pathlib import Path

from prometheus_client import Counter, Histogram

from tasks_app import metrics

DASHBOARD = Path(__file__).resolve().parents[1] / "deploy" / "grafana" / "taskpulse.json"
# Read when scraped rather than counted (metrics._Now).
READ_WHEN_SCRAPED = {"taskpulse_connections_open", "taskpulse_tasks"}


def exported_names() -> set[str]:
    names = set(READ_WHEN_SCRAPED)
    for value in vars(metrics).values():
        if isinstance(value, Counter):
            names.add(f"{value._name}_total")
        elif isinstance(value, Histogram):
            names.update(f"{value._name}_{suffix}" for suffix in ("bucket", "sum", "count"))
    return names


def queries() -> list[str]:
    dashboard = json.loads(DASHBOARD.read_text())
    return [target["expr"] for panel in dashboard["panels"] for target in panel["targets"]]


def test_every_query_names_only_metrics_the_product_exports():
    exported = exported_names()

    for query in queries():
        named = set(re.findall(r"\btaskpulse_[a-z_]+", query))
        assert named and named <= exported, (query, named - exported)


def test_the_dashboard_shows_connections_messages_events_tasks_and_errors():
    named = {name for query in queries() for name in re.findall(r"\btaskpulse_[a-z_]+", query)}

    assert {
        "taskpulse_connections_open",
        "taskpulse_messages_sent_total",
        "taskpulse_events_persisted_total",
        "taskpulse_tasks",
        "taskpulse_errors_total",
    } <= named
