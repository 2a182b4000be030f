"""Chinese and English: every user-facing string has a Chinese translation, and a Chinese reader
gets Chinese from every part of the product: pages, the API, the WebSocket protocol, the task's
own messages, and the management commands."""

import os
import re
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest
from asgiref.sync import async_to_sync

from django.core.management import call_command
from django.urls import reverse
from django.utils import translation

from tasks_app import services
from tasks_app.models import Task
from tests.helpers import TICKER, TIMEOUT, open_stream, run_kind

ROOT = Path(__file__).resolve().parents[1]
CATALOGS = sorted(
    [*ROOT.glob("locale/zh_Hans/LC_MESSAGES/*.po"), *ROOT.glob("tasks_app/locale/zh_Hans/LC_MESSAGES/*.po")]
)
CHINESE = {"HTTP_ACCEPT_LANGUAGE": "zh-CN,zh;q=0.9"}
# Latin words a Chinese page keeps: names, formats, and what the reader types as it is.
KEPT_IN_LATIN = {
    "Taskpulse", "English", "CSV", "UTF", "PDF", "Markdown", "JSON", "API", "URL", "Webhook",
    "name", "type", "text", "integer", "number", "boolean", "date", "email", "alice",
}  # fmt: skip


def gettext_tools() -> None:
    if shutil.which("msgattrib") is None or shutil.which("xgettext") is None:
        if os.environ.get("REQUIRE_SERVICES") == "1":
            pytest.fail("REQUIRE_SERVICES=1 but GNU gettext is not installed")
        pytest.skip("GNU gettext is not installed (bin/test installs it when run as root)")


def test_the_catalogs_are_found():
    assert {path.relative_to(ROOT).as_posix() for path in CATALOGS} == {
        "locale/zh_Hans/LC_MESSAGES/django.po",
        "locale/zh_Hans/LC_MESSAGES/djangojs.po",
        "tasks_app/locale/zh_Hans/LC_MESSAGES/django.po",
        "tasks_app/locale/zh_Hans/LC_MESSAGES/djangojs.po",
    }


def test_every_string_marked_for_translation_has_a_chinese_translation(tmp_path):
    """The catalogs are brought up to date from the code, in a copy of the tree, as bin/messages
    does: a string added or changed since shows up untranslated (or fuzzy) and fails here."""
    gettext_tools()
    for name in ("manage.py", "bin", "project", "tasks_app", "templates", "static", "locale"):
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(source, tmp_path / name)
    subprocess.run(
        ["bash", "bin/messages", str(tmp_path)],
        cwd=ROOT,
        env={**os.environ, "PYTHON": sys.executable},
        check=True,
    )
    lacking = {}
    for catalog in sorted(
        path for name in ("locale", "tasks_app/locale") for path in (tmp_path / name).glob("**/*.po")
    ):
        for selection in ("--untranslated", "--only-fuzzy"):
            entries = subprocess.run(
                ["msgattrib", selection, "--no-wrap", str(catalog)],
                check=True,
                capture_output=True,
                text=True,
            ).stdout
            found = re.findall(r'^msgid "(.+)"$', entries, flags=re.M)
            if found:
                lacking[f"{catalog.relative_to(tmp_path)} {selection}"] = found
    assert lacking == {}, "translate these in the .po files (bin/messages, docs/translations.md)"


def test_the_compiled_catalogs_are_those_of_the_po_files(tmp_path):
    gettext_tools()
    for catalog in CATALOGS:
        compiled = tmp_path / "compiled.mo"
        subprocess.run(["msgfmt", "--check-format", "-o", str(compiled), str(catalog)], check=True)
        assert compiled.read_bytes() == catalog.with_suffix(".mo").read_bytes(), (
            f"run bin/messages: {catalog}"
        )


class _VisibleText(HTMLParser):
    """The text a reader sees: text nodes and the attributes shown as text, not scripts."""

    def __init__(self) -> None:
        super().__init__()
        self.text: list[str] = []
        self._skipping = 0

    def handle_starttag(self, tag, attrs) -> None:
        if tag in ("script", "style"):
            self._skipping += 1
        self.text += [
            value for name, value in attrs if name in ("title", "placeholder", "aria-label") and value
        ]

    def handle_endtag(self, tag) -> None:
        if tag in ("script", "style"):
            self._skipping -= 1

    def handle_data(self, data) -> None:
        if not self._skipping:
            self.text.append(data)


def english_left(html: str) -> set[str]:
    parser = _VisibleText()
    parser.feed(html)
    return set(re.findall(r"[A-Za-z]{2,}", " ".join(parser.text))) - KEPT_IN_LATIN


def test_a_chinese_browser_gets_the_login_page_in_chinese(client):
    response = client.get(reverse("login"), **CHINESE)

    assert '<html lang="zh-hans">' in response.text
    assert "用户名" in response.text
    assert english_left(response.text) == set()


def test_a_chinese_browser_gets_the_dashboard_in_chinese(client, user):
    client.force_login(user)

    response = client.get(reverse("dashboard"), **CHINESE)

    assert "启动任务" in response.text
    assert english_left(response.text) == set()


def test_a_chinese_browser_gets_the_webhooks_page_in_chinese(client, user):
    client.force_login(user)

    response = client.get(reverse("webhooks"), **CHINESE)

    assert "签名密钥" in response.text
    assert english_left(response.text) == {"Signature"}  # the header's name, Taskpulse-Signature


def test_the_switcher_keeps_the_chosen_language_over_the_browser_s(client, user):
    client.force_login(user)
    client.post(reverse("set_language"), {"language": "en", "next": "/"}, **CHINESE)

    response = client.get(reverse("dashboard"), **CHINESE)

    assert "Start a task" in response.text


def test_the_javascript_catalog_is_served_in_the_reader_s_language(client):
    response = client.get(reverse("taskpulse-jsi18n"), **CHINESE)

    assert "\\u5927\\u7ea6\\u8fd8\\u9700" in response.text or "大约还需" in response.text  # "about … left"
    assert "\\u5df2\\u8fde\\u63a5" in response.text or "已连接" in response.text  # "connected"


def test_api_errors_are_in_the_reader_s_language(client, user):
    client.force_login(user)

    response = client.post(reverse("api-tasks"), "{", content_type="application/json", **CHINESE)

    assert response.status_code == 400
    assert response.json()["message"] == "请求体不是有效的 JSON。"


def test_form_errors_of_a_kind_are_in_the_reader_s_language(client, user):
    client.force_login(user)

    response = client.post(
        reverse("api-tasks"),
        {"kind": "data_import", "params": {"columns": "name"}},
        content_type="application/json",
        **CHINESE,
    )

    errors = response.json()["errors"]
    assert errors["columns"] == ["'name'：每一列请写成“名称:类型”，例如 email:email。"]
    assert errors["file"] == ["这个字段是必填项。"]  # Django's own translation


@pytest.mark.django_db(transaction=True)
def test_protocol_errors_are_in_the_client_s_language(user):
    async def exchange():
        socket = await open_stream(user, headers=[(b"accept-language", b"zh-CN,zh;q=0.9")])
        await socket.send_to(text_data="{")
        answer = await socket.receive_json_from(TIMEOUT)
        await socket.disconnect()
        return answer

    answer = async_to_sync(exchange)()

    assert (answer["code"], answer["message"]) == ("invalid_json", "消息不是有效的 JSON。")


@pytest.mark.django_db(transaction=True)
def test_a_task_speaks_the_language_of_who_started_it_whoever_runs_it(create_task):
    with translation.override("zh-hans"):
        task = create_task("ticker", TICKER)
    assert task.message == "正在等待工作进程"

    with translation.override("en"):  # the worker's own language
        run_kind(task)

    task.refresh_from_db()
    messages = [event.payload["message"] for event in task.events.order_by("seq")]
    # Progress events close together are coalesced (TASKPULSE_PROGRESS_EVENTS_PER_SECOND).
    assert messages[:3] == ["正在等待工作进程", "已开始", "计时中"]
    assert messages[-2:] == ["第 2/2 次", "已完成"]


@pytest.mark.django_db(transaction=True)
def test_an_operator_s_change_is_written_in_the_owner_s_language(create_task):
    with translation.override("zh-hans"):
        task = create_task("ticker", TICKER)

    with translation.override("en"):
        services.task_cancel(task_id=task.id)

    assert Task.objects.get(pk=task.id).message == "开始前已取消"


def test_management_commands_speak_the_terminal_s_language(db, monkeypatch, capsys):
    monkeypatch.setenv("LANG", "zh_CN.UTF-8")
    monkeypatch.delenv("LC_ALL", raising=False)
    monkeypatch.delenv("LC_MESSAGES", raising=False)

    call_command("prune_events")

    assert capsys.readouterr().out == "已删除 0 个过期事件。\n"


def test_management_commands_speak_english_to_an_english_terminal(db, monkeypatch, capsys):
    monkeypatch.setenv("LC_ALL", "C.UTF-8")

    call_command("prune_events")

    assert capsys.readouterr().out == "Deleted 0 expired events.\n"
