"""A person's path through the dashboard, in Debian's Chromium driven by Playwright."""

import json
import re

import pytest

from tests.e2e.conftest import ARTIFACTS
from tests.helpers import log_in_page

pytestmark = pytest.mark.e2e


def _logged_messages(page) -> list[dict]:
    entries = page.locator("#log-entries li").all_text_contents()  # the panel may be collapsed
    return [json.loads(entry[entry.index("{") :]) for entry in entries]


def _csv(rows: int) -> bytes:
    good = "".join(f"Person {i},person{i}@example.org,{20 + i % 50}\n" for i in range(rows))
    return ("name,email,age\n" + good + "Nobody,not-an-email,30\nAda,ada@example.org,old\n").encode()


def test_a_user_uploads_a_csv_watches_it_reach_100_percent_and_sees_the_summary(
    browser_page, daphne_server, celery_worker, live_user
):
    page = browser_page
    log_in_page(page, daphne_server.base_url, live_user)

    page.select_option("#kind", "data_import")
    page.set_input_files(
        "fieldset[data-kind=data_import] input[type=file]",
        files=[{"name": "people.csv", "mimeType": "text/csv", "buffer": _csv(4000)}],
    )
    page.click("#submit")

    task = page.locator(".task").first
    task.locator(".status[data-status=completed]").wait_for(timeout=60_000)
    page.locator("#message-log summary").click()
    page.screenshot(path=str(ARTIFACTS / "dashboard-csv-import.png"), full_page=True)

    assert task.locator(".percent").inner_text() == "100.0 %"
    assert task.locator(".counts").inner_text() == "4,002 / 4,002"
    assert "Imported 4,000 of 4,002 rows" in task.locator(".result").inner_text()
    assert "age: 'old' is not a valid integer" in task.locator(".result table").inner_text()
    assert '"type":"complete"' in page.locator("#log-entries").inner_text()


@pytest.mark.parametrize("stop", ["restart (SIGTERM)", "crash (SIGKILL)"])
def test_a_dropped_connection_resumes_from_the_last_seq_without_duplicates(
    browser_page, daphne_server, celery_worker, live_user, stop
):
    page = browser_page
    log_in_page(page, daphne_server.base_url, live_user)
    page.select_option("#kind", "ticker")
    page.fill("input[name=steps]", "30")
    page.fill("input[name=interval]", "0.2")
    page.click("#submit")
    task = page.locator(".task").first
    task.locator(".status[data-status=running]").wait_for(timeout=30_000)

    if stop == "crash (SIGKILL)":
        daphne_server.kill()
    else:
        daphne_server.stop(keep_log_open=True)
    page.locator("#connection[data-state=reconnecting]").wait_for(timeout=10_000)
    daphne_server.start_again(daphne_server.answers)
    task.locator(".status[data-status=completed]").wait_for(timeout=60_000)

    messages = _logged_messages(page)
    event_seqs = [message["seq"] for message in messages if message["type"] in ("progress", "complete")]
    assert "snapshot" not in [message["type"] for message in messages], "a reconnect resumes, not restarts"
    assert event_seqs == list(range(1, event_seqs[-1] + 1)), (
        f"missing, repeated or out of order: {event_seqs}"
    )
    assert (task.locator(".percent").inner_text(), task.locator(".counts").inner_text()) == (
        "100.0 %",
        "30 / 30",
    )


def test_a_page_whose_session_was_logged_out_elsewhere_offers_to_log_in_again(
    browser_page, daphne_server, celery_worker, live_user
):
    page = browser_page
    log_in_page(page, daphne_server.base_url, live_user)
    page.locator("#connection[data-state=connected]").wait_for(timeout=20_000)
    csrf = next(cookie["value"] for cookie in page.context.cookies() if cookie["name"] == "csrftoken")

    # As another tab would: the open socket learns of it at its next credentials check (4401).
    page.request.post(f"{daphne_server.base_url}/accounts/logout/", headers={"X-CSRFToken": csrf})

    page.locator("#login-prompt").wait_for(state="visible", timeout=30_000)
    assert page.locator("#connection").get_attribute("data-state") == "unauthenticated"


def test_a_counting_task_shows_how_fast_it_goes_and_about_how_long_is_left(
    browser_page, daphne_server, celery_worker, live_user
):
    page = browser_page
    log_in_page(page, daphne_server.base_url, live_user)
    page.select_option("#kind", "ticker")
    page.fill("input[name=steps]", "60")
    page.fill("input[name=interval]", "0.25")  # 4 a second, for 15 seconds
    page.click("#submit")
    task = page.locator(".task").first

    task.locator(".counts", has_text="left").wait_for(timeout=30_000)
    counts = task.locator(".counts").inner_text()
    page.screenshot(path=str(ARTIFACTS / "dashboard-time-left.png"), full_page=True)

    assert re.fullmatch(r"\d+ / 60 · (3\.\d+|4(\.\d+)?)/s · about \d+ s left", counts), counts
    task.locator(".status[data-status=completed]").wait_for(timeout=60_000)
    assert task.locator(".counts").inner_text() == "60 / 60"
