"""Statistics and fitted models as *inputs* of a check's calls (wire tags ``fn`` and ``recipe``).

A plan may pass ``np.median`` (module 02) or a fitted ``StandardScaler + LogisticRegression``
pipeline built by ``wire.fitted`` (module 01) to the student's function; the kernel must rebuild
them exactly, while an untrusted payload that carries the same tags decodes to a harmless named
stand-in (``fn``) or is refused (``recipe``). A fitted estimator that the key did not build with
``wire.fitted`` never crosses as a model: it is read as plain facts (the old whitelist of
estimators, tag ``est``, is gone).
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
    return wire.fitted([(StandardScaler, {}), (LogisticRegression, {"C": 0.5})], X, y), X


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
    model = wire.fitted([(LinearRegression, {})], X, X @ [1.5, -2.0] + 3)
    again = wire.decode(wire.encode(model), objects=True)
    assert np.array_equal(again.predict(X), model.predict(X))


def test_an_estimator_not_built_by_fitted_crosses_as_facts_never_as_a_model():
    """The whitelist path (tag ``est``) rebuilt a pipeline from its fitted attributes; it is gone:
    a model built outside ``wire.fitted`` is read as facts, even in trusted data, and the old tag
    is refused."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 2))
    y = (X[:, 0] > 0).astype(int)
    for model in (make_pipeline(StandardScaler(), LogisticRegression()).fit(X, y),
                  LinearRegression().fit(X, y), StandardScaler().fit(X)):
        data = json.loads(json.dumps(wire.encode(model)))
        assert data["t"] in ("fitted", "obj")
        for objects in (False, True):
            got = wire.decode(data, objects=objects)
            assert not hasattr(got, "predict") and not hasattr(got, "transform"), got
    old = {"t": "est", "class": "LinearRegression", "params": wire.encode({}),
           "fitted": wire.encode({"coef_": np.ones(2), "intercept_": 0.0})}
    for objects in (False, True):
        with pytest.raises(wire.WireError, match="unknown tag"):
            wire.decode(old, objects=objects)


def test_statistics_round_trip():
    std1 = functools.partial(np.std, ddof=1)
    assert wire.decode(wire.encode(np.median), objects=True) is np.median
    again = wire.decode(wire.encode(std1), objects=True)
    assert again(np.array([1.0, 2.0, 4.0])) == std1(np.array([1.0, 2.0, 4.0]))
    assert wire.encode(std1) == wire.encode(functools.partial(np.std, ddof=1))
    assert wire.encode(lambda v: v)["t"] == "obj"  # anything else stays opaque


def test_untrusted_payloads_get_standins_or_are_refused():
    model, _ = _model()
    for value in (np.mean, functools.partial(np.std, ddof=1)):
        got = wire.decode(json.loads(json.dumps(wire.encode(value))))
        assert type(got).__module__ == wire.__name__, got  # a stand-in, never the real thing
    with pytest.raises(wire.WireError, match="plan"):  # the judge never builds a payload's model
        wire.decode(json.loads(json.dumps(wire.encode(model))))
    with pytest.raises(wire.WireError):
        wire.decode({"t": "est", "class": "os.system", "params": wire.encode({})}, objects=True)
    with pytest.raises(wire.WireError):
        wire.decode({"t": "fn", "name": "builtins.eval"}, objects=True)
    bad = wire.encode(StandardScaler().fit(np.ones((3, 2))))
    bad["attrs"] = [["__class__", wire.encode(1)]]
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
