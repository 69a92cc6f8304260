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


# --- a model sent as data (a Formula: the input of exact_shapley, lime_explain, ...) ------------
def test_formula_round_trips_and_evaluates_the_same():
    f = wire.Formula(["+", ["lin", [1.0, -2.0, 0.5], 0.25], ["*", ["c", 3.0], ["x", 0], ["x", 2]],
                      ["^", ["max", ["x", 1], ["c", 0.0]], 2], ["tanh", ["x", 2]]], "f(X) = ...")
    X = np.random.default_rng(0).normal(size=(6, 3))
    g = wire.loads(wire.dumps(f))
    assert type(g) is wire.Formula and g == f and wire.dumps(g) == wire.dumps(f)
    assert np.array_equal(g(X), f(X)) and g(X).shape == (6,) and g(X[0]).shape == (1,)
    x = X[1]
    expected = x @ [1.0, -2.0, 0.5] + 0.25 + 3 * x[0] * x[2] + max(x[1], 0) ** 2 + np.tanh(x[2])
    assert np.isclose(f(x)[0], expected)


def test_formula_classifier_answers_like_a_fitted_logistic_regression():
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(1)
    X = rng.normal(size=(200, 3))
    model = LogisticRegression().fit(X, (X @ [1.0, -1.0, 0.5] > 0).astype(int))
    f = wire.Formula(["lin", [float(v) for v in model.coef_.ravel()], float(model.intercept_[0])],
                     classifier=True)
    assert np.allclose(f.predict_proba(X), model.predict_proba(X), rtol=1e-12, atol=1e-15)
    assert np.allclose(f.decision_function(X), model.decision_function(X))
    assert np.array_equal(f.predict(X), model.predict(X))
    with np.errstate(over="raise", divide="raise", invalid="raise"):  # no warning far out
        assert np.all(np.isfinite(f.predict_proba(X * 1e6)))


@pytest.mark.parametrize("expr", [
    ["^", ["x", 0], 99], ["x", -1], ["x", 1.5], ["c", "nan"], ["c", True], ["exec", "os"],
    ["+"], ["lin", [1.0, "a"], 0.0], [], "x0", ["tanh", ["x", 0], ["x", 1]],
])
def test_hostile_formulas_raise_one_error(expr):
    with pytest.raises(wire.WireError):
        wire.decode({"t": "formula", "expr": expr, "text": "", "classifier": False})


def test_deep_formula_is_rejected():
    expr = ["x", 0]
    for _ in range(200):
        expr = ["tanh", expr]
    with pytest.raises(wire.WireError):
        wire.decode({"t": "formula", "expr": expr, "text": "", "classifier": False})
