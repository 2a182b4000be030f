"""A reader whose browser asks for Chinese: the dashboard, a running task's progress, its time
left and its messages are in Simplified Chinese, and the header's switcher changes language."""

import re

import pytest

from tests.e2e.conftest import ARTIFACTS
from tests.helpers import log_in_page

pytestmark = pytest.mark.e2e

# Latin words the Chinese page keeps: names, formats, and what the reader types as it is.
KEPT_IN_LATIN = {"Taskpulse", "English", "CSV", "UTF", "PDF", "Markdown", "Webhook", "name", "type"}


def chinese_dashboard(chromium, daphne_server, live_user):
    context = chromium.new_context(viewport={"width": 1100, "height": 760}, locale="zh-CN")
    page = context.new_page()
    log_in_page(page, daphne_server.base_url, live_user)
    return page


def english_left(page) -> set[str]:
    text = page.locator("header").inner_text() + page.locator("main").inner_text()
    return set(re.findall(r"[A-Za-z]{2,}", text)) - KEPT_IN_LATIN - {page.locator(".who").inner_text()}


def test_a_chinese_reader_follows_a_task_in_chinese(chromium, daphne_server, celery_worker, live_user):
    page = chinese_dashboard(chromium, daphne_server, live_user)
    page.select_option("#kind", "ticker")
    page.fill("input[name=steps]", "60")
    page.fill("input[name=interval]", "0.25")
    page.click("#submit")
    task = page.locator(".task").first

    task.locator(".counts", has_text="大约还需").wait_for(timeout=30_000)
    page.screenshot(path=str(ARTIFACTS / "dashboard-zh.png"))

    assert task.locator(".status").inner_text() == "运行中"
    assert re.fullmatch(r"\d+ / 60 · [\d.]+/秒 · 大约还需 \d+ 秒", task.locator(".counts").inner_text())
    assert re.fullmatch(r"第 \d+/60 次", task.locator(".message").inner_text())
    assert page.locator("#connection").inner_text() == "已连接"
    assert english_left(page) == set()
    task.locator(".status[data-status=completed]").wait_for(timeout=60_000)
    assert (task.locator(".status").inner_text(), task.locator(".message").inner_text()) == (
        "已完成",
        "已完成",
    )


def test_the_switcher_turns_the_page_to_english_and_back(chromium, daphne_server, live_user):
    page = chinese_dashboard(chromium, daphne_server, live_user)
    assert page.locator("h1").inner_text() == "启动任务"

    page.click("header button[value=en]")
    page.wait_for_selector("html[lang=en]")
    assert page.locator("h1").inner_text() == "Start a task"

    page.click("header button[value=zh-hans]")
    page.wait_for_selector("html[lang=zh-hans]")
    assert page.locator("h1").inner_text() == "启动任务"
