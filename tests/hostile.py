"""Hypothesis strategies for what a hostile or broken client sends over a WebSocket: arbitrary
text and bytes, JSON of the wrong shape or types, huge numbers, unknown types, deep nesting.

Each frame is ("text", str) or ("bytes", bytes). `known_task_id` is a task the connection is
subscribed to: messages may name it, but never unsubscribe from it, so a test can check that
the subscription still works afterwards."""

import json

from hypothesis import strategies as st

CLIENT_TYPES = ["ping", "pong", "get_status", "echo", "subscribe", "unsubscribe"]

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**40), max_value=10**40)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=50)
)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=20,
)


def _message(known_task_id: str):
    task_ids = json_values | st.uuids().map(str)
    return st.builds(
        lambda message_type, key, fields: {key: message_type, **fields},
        st.sampled_from(CLIENT_TYPES[:5]) | st.text(max_size=20),
        st.sampled_from(["type", "action"]),
        st.fixed_dictionaries(
            {},
            optional={
                "task_id": task_ids | st.just(known_task_id),
                "last_seq": json_values,
                "data": json_values,
            },
        ),
    ) | st.builds(
        lambda task_id: {"type": "unsubscribe", "task_id": task_id},
        task_ids,
    )


def frames(known_task_id: str):
    text = st.one_of(
        st.text(max_size=200),
        json_values.map(json.dumps),
        _message(known_task_id).map(json.dumps),
        st.integers(min_value=1, max_value=20_000).map(lambda depth: "[" * depth + "]" * depth),
        st.integers(min_value=1, max_value=6000).map(
            lambda digits: '{"type": "echo", "data": ' + "9" * digits + "}"
        ),
        st.sampled_from(['{"type": "echo", "data": NaN}', '{"type": "ping", "x": Infinity}', "\ud800"]),
    )
    return st.one_of(
        text.map(lambda value: ("text", value)), st.binary(max_size=200).map(lambda value: ("bytes", value))
    )
