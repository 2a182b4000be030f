"""When WebSocket does not get through (a proxy that blocks it), the page falls back to
Server-Sent Events, then to polling, and comes back to WebSocket once it gets through again."""

import pytest

from tests.helpers import log_in_page

pytestmark = pytest.mark.e2e

# Short delays, so that the fallbacks happen within the test's patience.
FAST = "?minDelay=100&maxDelay=400&retryWebSocketAfter=1500"


class WebSocketBlocker:
    """Refuses the page's WebSocket connections until lifted, as a proxy might."""

    def __init__(self, page) -> None:
        self.blocking = True
        page.route_web_socket("**/ws/**", self._route)

    def _route(self, ws) -> None:
        if self.blocking:
            ws.close(code=1011, reason="blocked")
        else:
            ws.connect_to_server()


def _run_ticker(page) -> None:
    page.select_option("#kind", "ticker")
    page.fill("input[name=steps]", "10")
    page.fill("input[name=interval]", "0.2")
    page.click("#submit")


def _finished(page) -> None:
    task = page.locator(".task").first
    task.locator(".status[data-status=completed]").wait_for(timeout=60_000)
    assert (task.locator(".percent").inner_text(), task.locator(".counts").inner_text()) == (
        "100.0 %",
        "10 / 10",
    )


def test_without_websocket_the_page_follows_tasks_over_server_sent_events(
    browser_page, daphne_server, celery_worker, live_user
):
    page = browser_page
    WebSocketBlocker(page)
    log_in_page(page, daphne_server.base_url, live_user, FAST + "&retryWebSocketAfter=600000")
    page.locator("#connection[data-transport=sse]").wait_for(timeout=20_000)

    _run_ticker(page)

    _finished(page)


def test_without_websocket_and_sse_the_page_polls(browser_page, daphne_server, celery_worker, live_user):
    page = browser_page
    WebSocketBlocker(page)
    page.route("**/sse/**", lambda route: route.abort())
    log_in_page(page, daphne_server.base_url, live_user, FAST + "&retryWebSocketAfter=600000")
    _run_ticker(page)
    page.locator("#connection[data-transport=polling]").wait_for(timeout=30_000)

    _finished(page)


def test_the_page_comes_back_to_websocket_once_it_gets_through(
    browser_page, daphne_server, celery_worker, live_user
):
    page = browser_page
    blocker = WebSocketBlocker(page)
    log_in_page(page, daphne_server.base_url, live_user, FAST)
    page.locator("#connection[data-transport=sse]").wait_for(timeout=20_000)

    blocker.blocking = False

    page.locator("#connection[data-transport=websocket][data-state=connected]").wait_for(timeout=20_000)
    _run_ticker(page)
    _finished(page)


def test_a_socket_that_goes_silent_is_noticed_and_replaced(
    browser_page, daphne_server, celery_worker, live_user
):
    """The connection stays open but nothing comes through (a half-dead proxy): no heartbeat
    arrives, so the page closes it and connects again."""
    page = browser_page
    connections = []

    def route(ws) -> None:
        server = ws.connect_to_server()
        connections.append(ws)
        if len(connections) == 1:
            greeted = []

            def forward_the_greeting_only(message) -> None:
                if not greeted:
                    greeted.append(message)
                    ws.send(message)

            server.on_message(forward_the_greeting_only)

    page.route_web_socket("**/ws/**", route)
    log_in_page(page, daphne_server.base_url, live_user, FAST)
    _run_ticker(page)

    _finished(page)
    assert len(connections) >= 2
