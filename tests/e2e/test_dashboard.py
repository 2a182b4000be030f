"""A person's path through the dashboard, in Debian's Chromium driven by Playwright."""

import pytest

from tests.conftest import PASSWORD
from tests.e2e.conftest import ARTIFACTS

pytestmark = pytest.mark.e2e


def _csv(rows: int) -> bytes:
    good = "".join(f"Person {i},person{i}@example.org,{20 + i % 50}\n" for i in range(rows))
    return ("name,email,age\n" + good + "Nobody,not-an-email,30\nAda,ada@example.org,old\n").encode()


def test_a_user_uploads_a_csv_watches_it_reach_100_percent_and_sees_the_summary(
    browser_page, daphne_server, celery_worker, live_user
):
    page = browser_page
    page.goto(f"{daphne_server.base_url}/")
    page.fill("input[name=username]", live_user.username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector("#submit-form")

    page.select_option("#kind", "data_import")
    page.set_input_files(
        "fieldset[data-kind=data_import] input[type=file]",
        files=[{"name": "people.csv", "mimeType": "text/csv", "buffer": _csv(4000)}],
    )
    page.click("#submit")

    task = page.locator(".task").first
    task.locator(".status", has_text="completed").wait_for(timeout=60_000)
    page.locator("#message-log summary").click()
    page.screenshot(path=str(ARTIFACTS / "dashboard-csv-import.png"), full_page=True)

    assert task.locator(".percent").inner_text() == "100.0 %"
    assert task.locator(".counts").inner_text() == "4,002 / 4,002"
    assert "Imported 4,000 of 4,002 rows" in task.locator(".result").inner_text()
    assert "age: 'old' is not a valid integer" in task.locator(".result table").inner_text()
    assert '"type":"complete"' in page.locator("#log-entries").inner_text()
