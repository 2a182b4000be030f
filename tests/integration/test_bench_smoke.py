"""A few seconds of each benchmark, so that they cannot rot between real runs."""

import json
import subprocess
import sys

import pytest

from tests.processes import ROOT

pytestmark = pytest.mark.integration

MEASUREMENTS = (
    "1. latency",
    "2. fan-out",
    "3. capacity",
    "4. connect storm",
    "5. reporter cost",
    "6. database",
)


def run_bench(script: str, *args: str, env: dict, timeout: float = 120) -> str:
    result = subprocess.run(
        [sys.executable, f"bench/{script}", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def test_the_benchmark_runs_every_measurement_against_its_baselines(process_env, tmp_path):
    # A broker database of its own, so that no worker of another test takes the benchmark's tasks.
    env = {**process_env, "REDIS_URL": process_env["REDIS_URL"].rsplit("/", 1)[0] + "/10"}

    run_bench("run.py", "--smoke", "--out", str(tmp_path), env=env, timeout=300)

    results = (tmp_path / "results.md").read_text()
    assert all(f"| {name} |" in results for name in MEASUREMENTS), results
    assert "DB-polling consumer" in results and "HTTP polling" in results
    assert "stalled readers beside" in results
    assert "Uvicorn, core layer" in results and "Daphne, pubsub layer" in results
    assert "problems" not in results and "p50 ms: **none**" not in results, results
    assert (tmp_path / "results.png").stat().st_size > 10_000


def test_the_publish_benchmark_runs(process_env):
    output = run_bench("publish.py", "--events", "20", env=process_env)

    assert "Redis connections opened" in output


def test_a_two_minute_soak_loses_and_repeats_nothing(transactional_db, process_env, tmp_path):
    env = {**process_env, "REDIS_URL": process_env["REDIS_URL"].rsplit("/", 1)[0] + "/10"}

    run_bench("run.py", "--soak", "2", "--soak-clients", "300", "--out", str(tmp_path), env=env, timeout=420)

    result = json.loads((tmp_path / "soak.json").read_text())
    assert result["rounds"] >= 3 and result["followed to the end"] == 300 * result["rounds"], result
    assert (result["lost events"], result["repeated events"], result["gave up"]) == (0, 0, 0), result
    assert result["connections cut"] > 0 and result["server tracebacks"] == 0, result
    assert "slope per hour" in (tmp_path / "soak.md").read_text()
