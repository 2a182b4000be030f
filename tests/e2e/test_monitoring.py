"""An operator's live monitoring page moves while a ticker runs: the events persisted and the
messages sent per second rise above zero, and the open connection is counted by its process."""

import pytest

from django.contrib.auth import get_user_model

from tasks_app import services
from tests.e2e.conftest import ARTIFACTS
from tests.processes import PASSWORD

pytestmark = pytest.mark.e2e


def test_the_monitoring_page_moves_while_a_ticker_runs(chromium, daphne_server, celery_worker, live_user):
    get_user_model().objects.create_superuser("ops", password=PASSWORD)
    page = chromium.new_page(viewport={"width": 1200, "height": 760})
    page.goto(f"{daphne_server.base_url}/admin/login/?next=/admin/tasks_app/task/monitor/")
    page.fill("input[name=username]", "ops")
    page.fill("input[name=password]", PASSWORD)
    page.click("input[type=submit]")
    page.locator("#monitor-state[data-state=live]").wait_for(timeout=20_000)
    watcher = chromium.new_page()  # a user's page, following the task over WebSocket
    watcher.goto(f"{daphne_server.base_url}/accounts/login/")
    watcher.fill("input[name=username]", live_user.username)
    watcher.fill("input[name=password]", PASSWORD)
    watcher.click("main button[type=submit]")

    services.task_create(owner=live_user, kind="ticker", params={"steps": 120, "interval": 0.25})

    events = page.locator("[data-chart=events] .now")
    page.wait_for_function(
        "() => Number(document.querySelector('[data-chart=events] .now').textContent) > 0", timeout=30_000
    )
    page.wait_for_function(
        "() => Number(document.querySelector('[data-chart=messages] .now').textContent) > 0", timeout=30_000
    )
    legend = "document.querySelector('[data-chart=connections_by_process] .legend')"
    page.wait_for_function(f"() => {legend}.textContent.trim() !== ''", timeout=30_000)
    # A few samples in, so that the charts show lines rather than points.
    page.wait_for_function(
        "Number(document.querySelector('#monitor-state').dataset.samples) >= 10", timeout=60_000
    )
    page.screenshot(path=str(ARTIFACTS / "monitoring.png"), full_page=True)

    assert float(events.inner_text()) > 0
    assert page.locator("[data-chart=events] polyline").get_attribute("points")
