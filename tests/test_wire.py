"""The wire codec (grader/checks/wire.py): exact round trips, and hostile payloads rejected."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from grader.checks import wire
from grader.checks.values import type_name

PLAIN = [
    None, Ellipsis, True, np.bool_(False), 3, -2**70, np.int64(7), np.uint8(200), np.int32(-4),
    1.5, float("nan"), float("inf"), np.float64(0.25), np.float32(2.5), "héllo", np.str_("x"),
    [1, 2.0, "a"], (1, (2, 3)), {"a": 1, 2: (3,)}, {1, 2, 3},
    np.array([[1, 2], [3, 4]]), np.array([0.5, np.nan]), np.array([True, False]),
    np.array(["a", "bc"]), np.array([1, "a", None], dtype=object), np.zeros((0, 3)),
    pd.Series([1.0, 2.0], index=["a", "b"], name="s"),
    pd.DataFrame({"x": [1, 2], "y": [0.5, 1.5]}, index=["r1", "r2"]),
]


def _same(a, b) -> bool:
    if type(a) is not type(b):
        return False
    if isinstance(a, pd.Series):
        return a.equals(b) and a.name == b.name and list(a.index) == list(b.index)
    if isinstance(a, pd.DataFrame):
        return a.equals(b) and list(a.dtypes) == list(b.dtypes)
    if isinstance(a, np.ndarray):
        return a.dtype == b.dtype and a.shape == b.shape and all(
            _same(x, y) for x, y in zip(a.ravel().tolist(), b.ravel().tolist(), strict=True))
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        return list(a) == list(b) and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, float) and a != a:
        return b != b
    return a == b


@pytest.mark.parametrize("value", PLAIN, ids=lambda v: type(v).__name__)
def test_round_trip_keeps_exact_types(value):
    text = json.dumps(wire.encode(value))
    back = wire.loads(text)
    assert _same(value, back), (value, back)


def test_unknown_objects_become_named_standins():
    from sklearn.linear_model import LinearRegression

    back = wire.loads(json.dumps(wire.encode(LinearRegression())))
    assert type_name(back) == "LinearRegression" and "LinearRegression" in repr(back)
    weird = wire.decode({"t": "obj", "type": "a b;<script>", "repr": "x"})
    assert type_name(weird) == "a_b__script_"


class Evil:
    def __repr__(self):
        raise RuntimeError("no")

    def __eq__(self, other):
        return True


def test_encoding_never_trusts_the_value():
    assert wire.encode(Evil())["t"] == "obj"
    nested = []
    for _ in range(100):
        nested = [nested]
    wire.loads(json.dumps(wire.encode(nested)))  # deep values are cut, not fatal


HOSTILE = [
    "not json", "[]", '{"t": 1}', '{"t": "exec", "v": "import os"}', '{"t": "int", "v": "1e9999"}',
    '{"t": "int", "v": 5}', '{"t": "np.int", "dtype": "object", "v": "1"}',
    '{"t": "np.int", "dtype": "uint8", "v": "-1"}',
    '{"t": "ndarray", "dtype": "float64", "shape": [3], "v": [1, 2]}',
    '{"t": "ndarray", "dtype": "float64", "shape": [1000000000, 1000000000], "v": []}',
    '{"t": "ndarray", "dtype": "V8", "shape": [1], "v": ["x"]}',
    '{"t": "ndarray", "dtype": "float64", "shape": [1], "v": ["__import__"]}',
    '{"t": "dict", "v": [[{"t": "list", "v": []}, {"t": "none"}]]}',
    '{"t": "series", "values": {"t": "ndarray", "dtype": "int64", "shape": [2], "v": ["1", "2"]}, '
    '"index": {"t": "list", "v": []}, "name": {"t": "none"}}',
    "[" * 100000 + "]" * 100000,
    '{"t": "list", "v": [' + ",".join(['{"t": "none"}'] * 10) + "]}" + " " * (wire.MAX_BYTES + 1),
]


@pytest.mark.parametrize("text", HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_payloads_raise_one_error(text):
    with pytest.raises(wire.WireError):
        wire.loads(text)


def test_deep_payload_is_rejected():
    data: dict = {"t": "none"}
    for _ in range(200):
        data = {"t": "list", "v": [data]}
    with pytest.raises(wire.WireError):
        wire.decode(data)


def test_element_budget():
    data = {"t": "list", "v": [{"t": "none"}] * (wire.MAX_ELEMENTS + 1)}
    with pytest.raises(wire.WireError):
        wire.decode(data)
