"""A person who starts a task and looks away: the dashboard's title says how far it is and that
it ended, and a desktop notification says so when they turned notifications on and the browser
allows them. Chromium cannot be sent to the background here, so the page's visibility is set by
a script the test controls; the browser's own Notification is wrapped to record what was shown."""

import pytest

from tests.helpers import log_in_page

pytestmark = pytest.mark.e2e

# Runs before the page's scripts: visibility the test sets, and a record of notifications.
PAGE_HOOKS = """
window.__hidden = false;
Object.defineProperty(Document.prototype, "visibilityState", {
  get() { return window.__hidden ? "hidden" : "visible"; }, configurable: true,
});
Object.defineProperty(Document.prototype, "hidden", {
  get() { return window.__hidden; }, configurable: true,
});
window.__notified = [];
if ("Notification" in window) {
  const Real = window.Notification;
  class Recorded extends Real {
    constructor(title, options) {
      super(title, options);
      window.__notified.push({ title, body: options.body, tag: options.tag });
      window.__lastNotification = this;
    }
  }
  Object.defineProperty(Recorded, "permission", { get: () => Real.permission, configurable: true });
  Recorded.requestPermission = (...args) => Real.requestPermission(...args);
  window.Notification = Recorded;
}
"""


def set_hidden(page, hidden: bool) -> None:
    page.evaluate(
        f"window.__hidden = {str(hidden).lower()}; document.dispatchEvent(new Event('visibilitychange'))"
    )


def dashboard(chromium, daphne_server, live_user, *, permissions: list[str]):
    context = chromium.new_context(viewport={"width": 1100, "height": 900}, permissions=permissions)
    context.add_init_script(PAGE_HOOKS)
    page = context.new_page()
    log_in_page(page, daphne_server.base_url, live_user)
    # The page's module sets the toggle up when it runs, after the form is there: a click before
    # that was undone by it (the hint left empty).
    page.locator("#connection[data-state=connected]").wait_for(timeout=20_000)
    return page


def start_ticker(page, steps: int, interval: float):
    page.select_option("#kind", "ticker")
    page.fill("input[name=steps]", str(steps))
    page.fill("input[name=interval]", str(interval))
    page.click("#submit")
    task = page.locator(".task").first
    task.locator(".status[data-status=running]").wait_for(timeout=30_000)
    return task


def test_a_task_that_ends_while_the_page_is_hidden_notifies_and_the_title_says_so(
    chromium, daphne_server, celery_worker, live_user
):
    page = dashboard(chromium, daphne_server, live_user, permissions=["notifications"])
    page.check("#notify-toggle")
    task = start_ticker(page, steps=12, interval=0.3)
    page.wait_for_function("document.title.startsWith('(')")  # "(25 %) My tasks · Taskpulse"

    set_hidden(page, True)
    task.locator(".status[data-status=completed]").wait_for(timeout=30_000)
    page.wait_for_function("window.__notified.length === 1")

    (shown,) = page.evaluate("window.__notified")
    assert (shown["title"], shown["body"], shown["tag"]) == (
        "Ticker 12 steps is done",
        "Done",
        task.get_attribute("data-task-id"),
    )
    assert page.title() == "1 ended · My tasks · Taskpulse"
    page.evaluate("window.__lastNotification.dispatchEvent(new Event('click'))")
    assert "attention" in task.get_attribute("class")
    set_hidden(page, False)
    assert page.title() == "My tasks · Taskpulse"
    page.reload()
    assert page.is_checked("#notify-toggle"), "the choice is remembered by this browser"


def test_a_browser_that_denies_notifications_leaves_the_toggle_off_and_shows_none(
    chromium, daphne_server, celery_worker, live_user
):
    page = dashboard(chromium, daphne_server, live_user, permissions=[])
    page.click("#notify-toggle")

    page.wait_for_function("!document.getElementById('notify-toggle').checked")
    assert "blocked" in page.inner_text("#notify-hint")
    task = start_ticker(page, steps=4, interval=0.3)
    set_hidden(page, True)
    task.locator(".status[data-status=completed]").wait_for(timeout=30_000)

    page.wait_for_function("document.title === '1 ended · My tasks · Taskpulse'")
    assert page.evaluate("window.__notified") == []


# A browser that has not been asked yet, answering `grant` when it is: Playwright's Chromium
# starts every site at "granted" or "denied", never at "default".
NOT_ASKED_YET = """
window.__asked = 0;
let answer = "default";
Object.defineProperty(window.Notification, "permission", { get: () => answer });
window.Notification.requestPermission = async () => {
  window.__asked += 1;
  answer = "granted";
  return answer;
};
"""


def test_notifications_are_asked_for_only_when_the_person_turns_them_on(
    chromium, daphne_server, celery_worker, live_user
):
    context = chromium.new_context(permissions=["notifications"])
    context.add_init_script(PAGE_HOOKS + NOT_ASKED_YET)
    page = context.new_page()
    log_in_page(page, daphne_server.base_url, live_user)

    assert (page.evaluate("window.__asked"), page.is_checked("#notify-toggle")) == (0, False)
    page.check("#notify-toggle")
    page.wait_for_function("window.__asked === 1")
    assert page.is_checked("#notify-toggle")
