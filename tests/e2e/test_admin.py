"""An operator watching a user's task live on its admin page, in Debian's Chromium."""

import pytest

from django.contrib.auth import get_user_model

from tasks_app import services
from tests.processes import PASSWORD

pytestmark = pytest.mark.e2e


def test_an_operator_watches_a_users_task_move_on_its_admin_page(
    browser_page, daphne_server, celery_worker, live_user
):
    get_user_model().objects.create_superuser("ops", password=PASSWORD)
    task = services.task_create(owner=live_user, kind="ticker", params={"steps": 20, "interval": 0.3})
    page = browser_page
    page.goto(f"{daphne_server.base_url}/admin/login/?next=/admin/tasks_app/task/{task.id}/change/")
    page.fill("input[name=username]", "ops")
    page.fill("input[name=password]", PASSWORD)
    page.click("input[type=submit]")

    panel = page.locator("#live-task")
    panel.locator(".status[data-status=running]").wait_for(timeout=30_000)
    seen_midway = float(panel.locator("progress").get_attribute("value") or 0)
    panel.locator(".status[data-status=completed]").wait_for(timeout=30_000)

    assert panel.get_attribute("data-state") == "connected"
    assert page.evaluate("document.querySelector('#live-task progress').value") == 100
    assert seen_midway < 100, "the bar moved while the page was open, not only on load"
