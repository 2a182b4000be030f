"""The dashboard's Webhooks page in Chromium: a user makes their secret (shown once), registers
an endpoint, sees a refused URL's reason, and deletes the endpoint."""

import pytest

from tests.helpers import log_in_page

pytestmark = pytest.mark.e2e


def test_a_user_makes_a_secret_and_manages_an_endpoint(browser_page, daphne_server, live_user):
    page = browser_page
    log_in_page(page, daphne_server.base_url, live_user)
    page.click("header a[href='/webhooks/']")

    page.click("#secret-button")
    page.locator("#secret-shown").wait_for()
    assert page.locator("#secret-value").inner_text().startswith("whsec_")
    assert page.locator("#secret-button").inner_text() == "Replace the secret"

    page.fill("input[name=url]", "ftp://example.com/hook")
    page.click("#endpoint-form button[type=submit]")
    page.locator("#endpoint-errors", has_text="Only http and https").wait_for()

    page.fill("input[name=url]", f"{daphne_server.base_url}/hook-receiver")
    page.click("#endpoint-form button[type=submit]")
    endpoint = page.locator(".endpoint")
    endpoint.wait_for()
    assert endpoint.get_attribute("data-state") == "active"
    assert endpoint.locator(".endpoint-events").inner_text() == "completes, fails, is cancelled"

    endpoint.locator(".delete").click()
    page.locator("#no-endpoints").wait_for()
    assert page.locator(".endpoint").count() == 0
