"""A few seconds of each benchmark, so that they cannot rot between real runs."""

import subprocess
import sys

import pytest

from tests.processes import ROOT

pytestmark = pytest.mark.integration


def run_bench(script: str, *args: str, env: dict) -> str:
    result = subprocess.run(
        [sys.executable, f"bench/{script}", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def test_the_idle_connections_benchmark_runs_and_sees_no_server_error(process_env, live_user):
    output = run_bench(
        "idle_connections.py",
        "--connections",
        "20",
        "--idle-seconds",
        "1",
        "--settle-seconds",
        "0",
        env=process_env,
    )

    assert "RSS per connection" in output
    assert "while connecting, idling and closing: 0" in output


def test_the_publish_benchmark_runs(process_env):
    output = run_bench("publish.py", "--events", "20", env=process_env)

    assert "Redis connections opened" in output
