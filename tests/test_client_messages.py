import pytest

from tasks_app.realtime.client_messages import ProtocolError, parse


def test_action_is_accepted_in_place_of_type():
    assert parse('{"action": "get_status"}') == ("get_status", {"action": "get_status"})


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        (None, "invalid_message"),
        ("nope", "invalid_json"),
        ('"ping"', "invalid_message"),
        ('{"type": 7}', "invalid_message"),
        ('{"type": "reboot"}', "unknown_type"),
        ('{"type": "echo", "data": NaN}', "invalid_json"),
        ("[" * 100_000 + "]" * 100_000, "invalid_json"),
    ],
    ids=[
        "binary frame",
        "not json",
        "not an object",
        "type not a string",
        "unknown type",
        "NaN",
        "deep nesting",
    ],
)
def test_a_bad_frame_names_the_protocol_error(frame, code):
    with pytest.raises(ProtocolError) as raised:
        parse(frame)

    assert raised.value.code == code
