"""An operator watching a user's task live on its admin page, and a staff user of the Operators
group cancelling one, in Debian's Chromium."""

import time
from importlib import import_module

import pytest

from django.contrib.auth import get_user_model

from tasks_app import services
from tasks_app.models import Task, TaskStatus
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


def test_a_staff_user_in_operators_cancels_a_running_task_from_the_admin(
    chromium, daphne_server, celery_worker, live_user
):
    from django.contrib.auth.models import Group, Permission

    # The live tests' database is flushed between tests, the migration's groups with it: made
    # again here as migration 0010 defines them.
    operators = import_module("tasks_app.migrations.0010_operators_and_viewers_groups").GROUPS["Operators"]
    group, _created = Group.objects.get_or_create(name="Operators")
    group.permissions.add(
        *Permission.objects.filter(content_type__app_label="tasks_app", codename__in=operators)
    )
    operator = get_user_model().objects.create_user("operator", password=PASSWORD, is_staff=True)
    operator.groups.add(group)
    task = services.task_create(owner=live_user, kind="ticker", params={"steps": 200, "interval": 0.2})
    page = chromium.new_page(viewport={"width": 1200, "height": 800})
    page.goto(f"{daphne_server.base_url}/admin/login/?next=/admin/tasks_app/task/")
    page.fill("input[name=username]", "operator")
    page.fill("input[name=password]", PASSWORD)
    page.click("input[type=submit]")
    wait_until(lambda: Task.objects.get(pk=task.id).status == TaskStatus.RUNNING)

    page.reload()
    page.check(f"input[name=_selected_action][value='{task.id}']")
    page.select_option("select[name=action]", "cancel_tasks")
    page.click("button[name=index]")
    page.click('input[type=submit][value="Yes, I\'m sure"]')

    assert page.locator(".messagelist").inner_text().strip() == "Cancelled 1 task."
    wait_until(lambda: Task.objects.get(pk=task.id).status == TaskStatus.CANCELLED)


def wait_until(condition, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.2)
