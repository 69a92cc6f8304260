"""Statistics and fitted models as *inputs* of a check's calls (wire tags ``fn`` and ``est``).

A plan may pass ``np.median`` or a fitted ``StandardScaler + LogisticRegression`` pipeline to the
student's function (modules 01 and 02); the kernel must rebuild them exactly, while an untrusted
payload that carries the same tags decodes to harmless named stand-ins.
"""

from __future__ import annotations

import functools
import json

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from grader.checks import wire
from grader.checks.collect import Call, gather, parse_plan, plan_text


def _model():
    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.normal(size=(60, 3)) * [1, 50, 0.1], columns=["a", "b", "c"])
    y = (X["a"] + rng.normal(size=60) > 0).astype(int)
    return make_pipeline(StandardScaler(), LogisticRegression(C=0.5)).fit(X, y), X


def test_a_pipeline_round_trips_exactly_when_trusted():
    model, X = _model()
    data = json.loads(json.dumps(wire.encode(model)))
    again = wire.decode(data, objects=True)
    assert type(again) is type(model) and [n for n, _ in again.steps] == [n for n, _ in model.steps]
    assert np.array_equal(again.decision_function(X), model.decision_function(X))
    assert np.array_equal(again[0].mean_, model[0].mean_)
    assert wire.dumps(again) == wire.dumps(model)  # the call's key is stable


def test_a_linear_regression_round_trips():
    X = np.arange(12.0).reshape(6, 2)
    model = LinearRegression().fit(X, X @ [1.5, -2.0] + 3)
    again = wire.decode(wire.encode(model), objects=True)
    assert np.array_equal(again.predict(X), model.predict(X))


def test_statistics_round_trip():
    std1 = functools.partial(np.std, ddof=1)
    assert wire.decode(wire.encode(np.median), objects=True) is np.median
    again = wire.decode(wire.encode(std1), objects=True)
    assert again(np.array([1.0, 2.0, 4.0])) == std1(np.array([1.0, 2.0, 4.0]))
    assert wire.encode(std1) == wire.encode(functools.partial(np.std, ddof=1))
    assert wire.encode(lambda v: v)["t"] == "obj"  # anything else stays opaque


def test_untrusted_payloads_get_standins_only():
    model, _ = _model()
    for value in (model, np.mean, functools.partial(np.std, ddof=1)):
        got = wire.decode(json.loads(json.dumps(wire.encode(value))))
        assert type(got).__module__ == wire.__name__, got  # a stand-in, never the real thing
    with pytest.raises(wire.WireError):
        wire.decode({"t": "est", "class": "os.system", "params": wire.encode({})}, objects=True)
    with pytest.raises(wire.WireError):
        wire.decode({"t": "fn", "name": "builtins.eval"}, objects=True)
    bad = wire.encode(StandardScaler())
    bad["fitted"] = wire.encode({"__class__": 1})
    with pytest.raises(wire.WireError):
        wire.decode(bad, objects=True)


def test_the_collector_calls_with_rebuilt_inputs():
    model, X = _model()
    row = X.iloc[4]
    calls = [Call("f", (model, row.copy())), Call("g", (np.array([3.0, 1.0, 2.0]), np.median))]
    names, parsed = parse_plan(plan_text(["f", "g"], calls))
    ns = {"f": lambda m, r: float(m.decision_function(r.to_frame().T)[0]),
          "g": lambda x, stat: float(stat(x))}
    payload = gather(names, parsed, ns)
    got = [wire.decode(c["ok"]) for c in payload["calls"]]
    assert got == [float(model.decision_function(row.to_frame().T)[0]), 2.0]
