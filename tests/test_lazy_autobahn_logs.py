"""Autobahn's per-connection debug arguments are formatted only when a log line is made of them."""

from pprint import pformat as original_pformat

from autobahn.websocket import protocol

from tasks_app.server import lazy_autobahn_logs


def test_an_argument_is_not_formatted_until_it_is_made_into_text():
    calls = []
    formatted = lazy_autobahn_logs.Formatted(lambda value: calls.append(value) or f"<{value}>", 7)

    assert calls == []
    assert f"attrs: {formatted}" == "attrs: <7>"
    assert str(formatted) == "<7>"
    assert calls == [7]


def test_once_installed_autobahn_formats_as_before_when_asked():
    lazy_autobahn_logs.install()
    lazy_autobahn_logs.install()  # a second install changes nothing

    options = [("autoPingInterval", 20, "WebSocketServerFactory")]
    assert str(protocol.pformat(options)) == original_pformat(options)
    assert "onConnect" in str(protocol.hltype(protocol.WebSocketServerProtocol.onConnect))
    assert protocol.pformat.original is original_pformat


def test_timings_still_print_as_text_once_installed():
    lazy_autobahn_logs.install()
    timings = protocol.Timings()
    timings.track("onOpen")

    # A Formatted object here would make str() raise: Timings.__str__ must hand back text itself.
    assert type(protocol.Timings.__str__(timings)) is str
    assert "onOpen" in str(timings)
