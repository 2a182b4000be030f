"""The {% taskpulse_progress %} widget going live on another site's page (examples/hostsite), in
Debian's Chromium driven by Playwright."""

import pytest

from tests.e2e.conftest import ARTIFACTS
from tests.processes import PASSWORD

pytestmark = pytest.mark.e2e


def test_the_widget_on_the_sites_page_goes_live_and_shows_the_result(browser_page, example_site):
    page = browser_page
    page.goto(f"{example_site.base_url}/login/")
    page.fill("input[name=username]", "ada")
    page.fill("input[name=password]", PASSWORD)
    page.click("button")
    page.click("text=Export the orders as CSV")

    widget = page.locator("taskpulse-progress").first
    bar = page.get_by_role("progressbar", name="Export of the orders").first
    bar.wait_for()
    page.locator("taskpulse-progress[status=running]").first.wait_for(timeout=30_000)
    page.locator("taskpulse-progress[status=completed]").first.wait_for(timeout=30_000)
    page.screenshot(path=str(ARTIFACTS / "example-site-widget.png"))

    assert bar.evaluate("progress => progress.value") == 100
    assert widget.locator("[part=state]").text_content() == "Done"
    assert widget.locator("[part=counted]").text_content() == "10 of 10"
    assert widget.locator("[part=result]").text_content() == '{"orders":10,"file":"orders.csv"}'
