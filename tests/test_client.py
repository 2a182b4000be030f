"""The script client's own rules (tasks_app/client.py); following a live task is in
tests/integration/test_script_client.py."""

import subprocess
import sys

import pytest

from tasks_app.client import _socket_url
from tests.processes import ROOT


@pytest.mark.parametrize(
    "base_url, expected",
    [
        ("http://127.0.0.1:8000", "ws://127.0.0.1:8000/ws/tasks/T/"),
        ("https://tasks.example.com/", "wss://tasks.example.com/ws/tasks/T/"),
        ("https://example.com/taskpulse", "wss://example.com/taskpulse/ws/tasks/T/"),
    ],
)
def test_the_socket_address_follows_the_servers_scheme_and_path(base_url, expected):
    assert _socket_url(base_url, "T") == expected


def test_an_address_that_is_not_http_is_refused():
    with pytest.raises(ValueError, match="not an http"):
        _socket_url("ftp://example.com", "T")


def test_without_websockets_the_import_says_what_to_install():
    # -S: no site-packages, so no websockets; the standard library and this repository only.
    done = subprocess.run(
        [sys.executable, "-S", "-c", "import tasks_app.client"],
        cwd=ROOT,
        env={"PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
    )

    assert done.returncode != 0
    assert 'pip install "django-taskpulse[client]"' in done.stderr
