"""Models across the wire (issue 10, modules 06 and 07): recipes into the kernel, facts out.

A check that passes a fitted model to a student's function builds it with ``wire.fitted``; the
plan carries its recipe and the kernel fits the same model. A collected payload may never carry a
recipe (the judge would build what a student asked for). A fitted estimator the student defines
comes out as plain, validated facts. A call that changes its inputs in place sends them back.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler
from sklearn.tree import DecisionTreeClassifier

from grader.checks import wire
from grader.checks.collect import Call, gather, parse_plan, plan_text
from grader.checks.offline import _raise, canon_forms, canon_hashes, seal


def _data():
    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.normal(size=(60, 3)) * [1, 10, 100], columns=["a", "b", "c"])
    y = (X["a"] + X["b"] / 10 > 0).astype(int)
    return X, y


def test_a_recipe_rebuilds_the_same_model_in_a_plan_only():
    X, y = _data()
    model = wire.fitted([(StandardScaler, {}), (LogisticRegression, {"C": 0.5})], X, y)
    text = plan_text(["f"], [Call("f", (model,), {})])
    _, (call,) = parse_plan(text)
    rebuilt = call.args[0]
    assert rebuilt is not model and np.array_equal(rebuilt.predict_proba(X), model.predict_proba(X))
    assert Call("f", (rebuilt,), {}).key() == Call("f", (model,), {}).key()
    encoded = json.loads(json.dumps(wire.encode(model)))
    with pytest.raises(wire.WireError, match="plan"):
        wire.decode(encoded)  # a payload out of the sandbox can never ask the judge to build
    bad = dict(encoded, steps=[["os.system", {"t": "dict", "v": []}]])
    with pytest.raises(wire.WireError, match="recipe class"):
        wire.decode(bad, plan=True)


def test_a_fitted_tree_comes_out_as_plain_facts():
    X, y = _data()
    tree = DecisionTreeClassifier(max_depth=2, random_state=0).fit(X, y)
    facts = wire.loads(json.dumps(wire.encode(tree)))
    assert type(facts) is wire.Fitted and facts.type == "DecisionTreeClassifier"
    assert np.array_equal(facts.tree_["threshold"], tree.tree_.threshold)
    assert facts.params["max_depth"] == 2 and facts.tree_["max_depth"] == 2
    again = wire.facts(DecisionTreeClassifier(max_depth=2, random_state=0).fit(X.to_numpy(), y))
    assert canon_hashes(facts, "s", "t", None) == canon_hashes(again, "s", "t", None)
    for hostile in ({"t": "fitted", "type": "x;y", "params": [], "attrs": []},
                    {"t": "fitted", "type": "T", "params": [["__class__", {"t": "none"}]],
                     "attrs": []},
                    {"t": "fitted", "type": "T", "params": [], "attrs": "tree"}):
        with pytest.raises(wire.WireError):
            wire.decode(hostile)


def test_a_call_that_changes_its_input_in_place_sends_it_back():
    def clobber(X):
        X[:, 0] = 0.0
        return float(X.sum())

    X = np.arange(6.0).reshape(3, 2)
    payload = gather(["f"], [Call("f", (X,), {})], {"f": clobber})
    (res,) = payload["calls"]
    after = wire.decode(res["mutated"])
    assert after[0][:, 0].tolist() == [0.0, 0.0, 0.0] and X[0, 0] == 0.0  # X itself: untouched
    assert "mutated" not in gather(["f"], [Call("f", (X,), {})], {"f": lambda X: 1.0})["calls"][0]


def test_a_mistakes_message_is_stored_sealed_with_its_own_single_value():
    """A mistake's message can give the answer away (a flipped sign): the offline data stores
    it sealed with the mistake's own answer, readable only by a student who gives that answer."""
    message = "`delta_p` = -0.2838 has the wrong sign: use column 0."
    (form,) = canon_forms(-0.28384338, 1e-6, neighbours=False)
    sealed = seal(message, "salt", "delta_p", form)
    assert "0.2838" not in sealed and "wrong sign" not in sealed
    with pytest.raises(AssertionError, match=r"`delta_p` = -0.2838 has the wrong sign"):
        _raise({"sealed": sealed}, "salt", "delta_p", form)
    (other,) = canon_forms(0.28384338, 1e-6, neighbours=False)
    with pytest.raises(AssertionError) as wrong:
        _raise({"sealed": sealed}, "salt", "delta_p", other)
    assert "wrong sign" not in str(wrong.value)
