"""The close codes are defined once in Python; the browser client's copy must say the same, and
the contract's table must list every code the server sends."""

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from tasks_app.realtime.close_codes import FINAL, CloseCode
from tests.contract import CLOSE_CODES

ROOT = Path(__file__).resolve().parents[1]
CLIENT = ROOT / "tasks_app" / "static" / "tasks_app" / "taskpulse-client.js"


def client_close_codes() -> dict:
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is not installed (bin/test installs Debian's nodejs when run as root)")
    script = (
        f"import({json.dumps(CLIENT.as_uri())}).then(m => console.log(JSON.stringify("
        "{close: m.CLOSE, final: [...m.CLOSE_FINAL]})))"
    )
    result = subprocess.run([node, "-e", script], capture_output=True, text=True, timeout=30, check=True)
    return json.loads(result.stdout)


def test_the_browser_clients_close_codes_are_the_servers():
    codes = client_close_codes()

    assert codes["close"] == {code.name: code.value for code in CloseCode}
    assert sorted(codes["final"]) == sorted(FINAL)


def test_every_code_the_server_sends_is_in_the_contract_or_documented_as_ours():
    client_only = {CloseCode.HEARTBEAT_MISSED}
    ours = {CloseCode.TRY_AGAIN_LATER}
    documented = (Path(__file__).resolve().parents[1] / "docs" / "protocol.md").read_text()

    assert set(CloseCode) - client_only - ours == CLOSE_CODES
    assert all(f"| {code.value} |" in documented for code in ours)
