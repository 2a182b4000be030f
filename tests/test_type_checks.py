"""The type checker guards the seams between layers: a call with a wrong argument fails it."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

WRONG_CALLS = """
import uuid

from tasks_app import selectors, services
from tasks_app.db.threads import consumer_database


async def a_resume_read_with_a_text_seq() -> None:
    await consumer_database(selectors.event_rows_after)(task_id=uuid.uuid4(), seq="7")


def a_failure_with_a_keyword_the_service_does_not_take() -> None:
    services.task_fail(task_id=uuid.uuid4(), reason="gone")
"""


def test_mypy_refuses_wrong_arguments_at_the_database_seam_and_the_services(tmp_path):
    snippet = tmp_path / "wrong_calls.py"
    snippet.write_text(WRONG_CALLS)

    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--config-file", str(ROOT / "pyproject.toml"), str(snippet)],
        cwd=ROOT,
        env={**os.environ, "MYPYPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=300,
    )

    assert result.returncode == 1, result.stdout
    assert 'Argument "seq" has incompatible type "str"; expected "int"' in result.stdout, result.stdout
    assert 'Unexpected keyword argument "reason" for "task_fail"' in result.stdout, result.stdout
