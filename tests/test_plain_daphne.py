"""`daphne project.asgi:application`, as the Channels docs deploy, runs with the same tuning as
`manage.py serve`; under another server the application leaves Twisted alone."""

import subprocess
import sys

from tests.processes import ROOT

CHECK = """
import os, sys
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")
{before}
from project.asgi import application
from daphne.ws_protocol import WebSocketFactory
from twisted.internet import tcp
print(WebSocketFactory.protocol.__name__, tcp.Port.transport.__name__)
"""


def run_check(before: str) -> str:
    result = subprocess.run(
        [sys.executable, "-c", CHECK.format(before=before)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout.split()


def test_the_application_tunes_daphne_when_daphnes_command_loads_it():
    # Daphne's command imports its server module before it imports the application.
    assert run_check("import daphne.cli") == ["RegisteredCloseCodesProtocol", "EagerWriteServer"]


def test_the_application_leaves_twisted_alone_under_another_server_without_daphnes_app():
    # A host project serving with Uvicorn need not list Daphne's app, which imports its server.
    without_daphne = 'from project import settings; settings.INSTALLED_APPS.remove("daphne")'

    assert run_check(without_daphne) == ["WebSocketProtocol", "Server"]
