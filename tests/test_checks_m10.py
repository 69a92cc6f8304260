"""Assignment 10 checks (the key, solutions/10-counterfactuals-gradients/key.py): right answers
pass, named mistakes fail with their name and without the expected value, and the offline
visible check (grader/checks/data/m10.json) agrees with the key.

The mutant catalogue (``mutants.yml``) is proved against the executed notebook by
``grader verify``; these unit tests call the key's ``verify``/``verify_hidden`` directly with the
values a student would define (no notebook is executed).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from conftest import no_return, unfinished
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from grader import precompute
from grader.checks import Incorrect, NotAttempted
from grader.checks import m10 as student
from grader.checks.offline import load_key_file
from grader.config import Course
from grader.datasets import make_tenancy

ROOT = Path(__file__).resolve().parents[1]
AID = "10-counterfactuals-gradients"
key = load_key_file(ROOT / "solutions" / AID / "key.py")
SEEDS = (0, 1, 10011, 10053, 424242)


# --- the notebook's setup, rebuilt as a student has it -----------------------------------------
def _setup():
    X, y = make_tenancy(n=3000, seed=10)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, random_state=0,
                                                        stratify=y)
    model = make_pipeline(
        StandardScaler(),
        MLPClassifier(hidden_layer_sizes=(4,), activation="logistic", solver="lbfgs", alpha=1.0,
                      max_iter=3000, random_state=0),
    ).fit(X_train, y_train)
    scaler, mlp = model[0], model[-1]
    net = {"mean": scaler.mean_, "scale": scaler.scale_, "W1": mlp.coefs_[0],
           "b1": mlp.intercepts_[0], "W2": mlp.coefs_[1][:, 0], "b2": float(mlp.intercepts_[1][0])}
    p_test = model.predict_proba(X_test)[:, 1]
    x = X_test[np.flatnonzero((p_test > 0.2) & (p_test < 0.45) & (X_test[:, 3] >= 1))[0]]
    mad = np.median(np.abs(X_train - np.median(X_train, axis=0)), axis=0)
    return dict(X_train=X_train, y_train=y_train, net=net, x=x, mad=mad, model=model)


NB = _setup()


def proba(X, net):
    Z = (np.atleast_2d(X) - net["mean"]) / net["scale"]
    H = 1 / (1 + np.exp(-(Z @ net["W1"] + net["b1"])))
    return 1 / (1 + np.exp(-(H @ net["W2"] + net["b2"])))


# --- right answers -----------------------------------------------------------------------------
def logodds_grad(X, net, deriv="logistic", scale="divide"):
    Z = (np.atleast_2d(X) - net["mean"]) / net["scale"]
    H = 1 / (1 + np.exp(-(Z @ net["W1"] + net["b1"])))
    d = H * (1 - H) if deriv == "logistic" else 1 - H**2
    g = (d * net["W2"]) @ net["W1"].T
    return g / net["scale"] if scale == "divide" else g


def logodds_grad_loops(X, net):
    """Row by row, unit by unit: also right."""
    out = []
    for row in np.atleast_2d(X):
        z = (row - net["mean"]) / net["scale"]
        h = 1 / (1 + np.exp(-(z @ net["W1"] + net["b1"])))
        out.append([sum(net["W1"][j, k] * h[k] * (1 - h[k]) * net["W2"][k]
                        for k in range(h.size)) / net["scale"][j] for j in range(z.size)])
    return np.array(out)


def integrated_gradients(x, baseline, net, steps, rule="midpoint", factor=True, output="proba"):
    x, b = np.asarray(x, float), np.asarray(baseline, float)
    alphas = (np.arange(steps) + 0.5) / steps if rule == "midpoint" else np.linspace(0, 1, steps)
    path = b + alphas[:, None] * (x - b)
    p = proba(path, net)
    g = logodds_grad(path, net)
    grads = (p * (1 - p))[:, None] * g if output == "proba" else g
    return (x - b) * grads.mean(axis=0) if factor else grads.mean(axis=0)


def precision_coverage(X_pool, pred_pool, lower, upper, decision, closed=False, whole=False):
    X = np.asarray(X_pool, float)
    inside = np.all(((X >= lower) if closed else (X > lower)) & (X <= upper), axis=1)
    n = int(inside.sum())
    pool = np.asarray(pred_pool) if whole else np.asarray(pred_pool)[inside]
    prec = float(np.mean(pool == decision)) if pool.size else float("nan")
    return prec, n / len(pred_pool), n


def cheapest(x, net, mad, frozen, target, unscaled=False, ignore_frozen=False):
    ks = np.arange(1, 401)
    best = None
    for j in range(x.size):
        if j in frozen and not ignore_frozen:
            continue
        for s in (1, -1):
            Z = np.repeat(np.asarray(x, float)[None], ks.size, axis=0)
            Z[:, j] = x[j] + s * ks * mad[j] / 100
            hit = np.flatnonzero(proba(Z, net) >= target)
            if hit.size:
                cost = ks[hit[0]] * (mad[j] if unscaled else 1) / 100
                if best is None or cost < best[0]:
                    best = (cost, j, Z[hit[0], j])
    z = np.array(x, dtype=float)
    if best is not None:
        z[best[1]] = best[2]
    return z


def q4_values(baseline=None, steps=1024, column=1):
    net, X_train = NB["net"], NB["X_train"]
    if baseline is None:
        baseline = np.median(X_train[proba(X_train, net) >= 0.5], axis=0)
    ig = integrated_gradients(NB["x"], baseline, net, steps)
    return dict(p_baseline=float(proba(baseline, net)[0]), ig_sum=float(ig.sum()),
                ig_rent_share=float(ig[column]))


def q5_values(func=cheapest, frozen=(3, 4)):
    x, mad = NB["x"], NB["mad"]
    z = func(x, NB["net"], mad, list(frozen), 0.5)
    j = int(np.flatnonzero(z != x)[0])
    return dict(cheapest_single_change=func, cf_feature=student_name(j),
                cf_cost=float(abs(z[j] - x[j]) / mad[j]))


def student_name(j):
    return ("income", "rent_share", "savings_months", "missed_payments", "age")[j]


RIGHT = {
    "q1": [dict(logodds_grad=logodds_grad), dict(logodds_grad=logodds_grad_loops)],
    "q2": [dict(integrated_gradients=integrated_gradients)],
    "q3": [dict(precision_coverage=precision_coverage)],
    "q4": [q4_values(), q4_values(steps=256)],
    "q5": [q5_values()],
}


@pytest.mark.parametrize("label, values", [(q, v) for q, vs in RIGHT.items() for v in vs],
                         ids=lambda x: str(x)[:12])
def test_right_answers_pass_visible_and_hidden(label, values):
    q = key.QUESTIONS[label]
    q.verify(**values)
    for seed in SEEDS:
        q.verify_hidden(seed=seed, **values)


def _ig(**kw):
    return dict(integrated_gradients=lambda x, b, net, steps: integrated_gradients(
        x, b, net, steps, **kw))


def _pc(**kw):
    return dict(precision_coverage=lambda *a: precision_coverage(*a, **kw))


MISTAKES = [
    ("q1", dict(logodds_grad=lambda X, net: logodds_grad(X, net, deriv="tanh")), "tanh derivative"),
    ("q1", dict(logodds_grad=lambda X, net: logodds_grad(X, net, scale="none")), "standardised"),
    ("q2", _ig(factor=False), "without the factor"),
    ("q2", _ig(rule="linspace"), "linspace"),
    ("q2", _ig(output="logodds"), "explain the log-odds"),
    ("q3", _pc(closed=True), "lower bound is excluded"),
    ("q3", _pc(whole=True), "whole pool"),
    ("q4", q4_values(baseline=np.zeros(5)), "not neutral"),
    ("q4", q4_values(baseline=NB["X_train"].mean(axis=0)), "approved or not"),
    ("q4", q4_values(steps=2), "does not add up"),
    ("q4", q4_values(column=0), "rent_share is feature 1"),
    ("q5", q5_values(lambda *a: cheapest(*a, unscaled=True)), "unscaled"),
    ("q5", q5_values(lambda *a: cheapest(*a, ignore_frozen=True)), "cannot change"),
    ("q5", q5_values(frozen=(4,)), "That is history"),
]  # fmt: skip


@pytest.mark.parametrize("label, values, named", MISTAKES, ids=[m[2][:20] for m in MISTAKES])
def test_mistakes_are_named_and_the_answer_is_not_shown(label, values, named):
    q = key.QUESTIONS[label]
    with pytest.raises(Incorrect) as info:
        q.verify(**values)
        for seed in SEEDS:
            q.verify_hidden(seed=seed, **values)
    message = str(info.value)
    assert named in message
    refs = q.references()
    for name, ref in refs.items():
        if isinstance(ref, float):
            assert f"{ref:.4g}" not in message, (name, message)
        if isinstance(ref, str) and label == "q5":
            assert f"'{ref}'" not in message


def test_rounded_values_fail_hidden_only():
    values = {k: round(v, 4) for k, v in q4_values().items()}
    key.QUESTIONS["q4"].verify(**values)
    with pytest.raises(Incorrect, match="do not round"):
        key.QUESTIONS["q4"].verify_hidden(seed=1, **values)


@pytest.mark.parametrize("label", ["q1", "q2", "q3", "q5"])
def test_unwritten_functions_are_not_attempted(label):
    q = key.QUESTIONS[label]
    values = {**RIGHT[label][0]}
    fname = q.names[0]
    for stub in (unfinished, no_return):
        values[fname] = stub
        with pytest.raises(NotAttempted):
            q.verify(**values)


def test_wrong_shapes_and_types_get_a_clear_message():
    with pytest.raises(Incorrect, match=r"shape"):
        key.QUESTIONS["q1"].verify(logodds_grad=lambda X, net: logodds_grad(X, net)[0])
    with pytest.raises(Incorrect, match="should return 3 values"):
        key.QUESTIONS["q3"].verify(precision_coverage=lambda *a: list(precision_coverage(*a)[:2]))
    with pytest.raises(Incorrect, match="not one of the feature names"):
        key.QUESTIONS["q5"].verify(**{**q5_values(), "cf_feature": "savings"})


def test_student_module_holds_no_reference():
    names = set(vars(student))
    assert not {n for n in names if n.startswith("_") and callable(getattr(student, n))
                and n not in ("_Q10",)}
    for q in (student.q1, student.q2, student.q3, student.q4, student.q5):
        assert set(vars(type(q))) <= {"__module__", "__doc__", "title", "names", "hints",
                                      "label", "__qualname__", "__firstlineno__",
                                      "__static_attributes__"}
        assert q.hints and all(len(h) > 40 for h in q.hints)


def test_precomputed_data_is_in_sync_with_the_key():
    assert precompute.out_of_date(Course(ROOT), AID) == []


def test_offline_check_passes_the_right_answers_and_names_a_mistake(monkeypatch, capsys):
    ns = {**RIGHT["q5"][0]}
    monkeypatch.setattr("grader.checks.core._user_namespace", lambda: ns)
    student.q5.check()
    assert "Correct" in capsys.readouterr().out
    ns.update(q5_values(frozen=(4,)))
    with pytest.raises(Incorrect, match="That is history"):
        student.q5.check()


def test_q3_coverage_per_decision_is_named_not_called_a_count():
    """Dividing the covered rows by the rows with the same decision can exceed 1: the feedback
    must name that mistake, not call the coverage a count (found by the integrated verify)."""
    from grader.checks.core import Incorrect

    def per_decision(X_pool, pred_pool, lower, upper, decision):
        X_pool, pred_pool = np.asarray(X_pool, dtype=float), np.asarray(pred_pool)
        inside = np.all((X_pool > lower) & (X_pool <= upper), axis=1)
        n = int(inside.sum())
        precision = float(np.mean(pred_pool[inside] == decision)) if n else float("nan")
        return precision, n / int(np.sum(pred_pool == decision)), n

    with pytest.raises(Incorrect, match="divides by the rows with the same decision"):
        key.QUESTIONS["q3"].verify(precision_coverage=per_decision)


# --- the second review: wrong answers that got through or were misnamed --------------------------
def _first_direction(x, net, mad, frozen, target):
    """Per feature, keeps the first direction that reaches the target (not the smaller k)."""
    ks = np.arange(1, 401)
    best = None
    for j in range(x.size):
        if j in frozen:
            continue
        for s in (1, -1):
            Z = np.repeat(np.asarray(x, float)[None], ks.size, axis=0)
            Z[:, j] = x[j] + s * ks * mad[j] / 100
            hit = np.flatnonzero(proba(Z, net) >= target)
            if hit.size:
                if best is None or ks[hit[0]] < best[0]:
                    best = (ks[hit[0]], j, Z[hit[0], j])
                break
    z = np.array(x, dtype=float)
    if best is not None:
        z[best[1]] = best[2]
    return z


def _scaled_pc(prec_factor=1.0, cov_factor=1.0, empty=float("nan"), open_upper=False):
    def func(X_pool, pred_pool, lower, upper, decision):
        X = np.asarray(X_pool, float)
        inside = np.all((X > lower) & ((X < upper) if open_upper else (X <= upper)), axis=1)
        n = int(inside.sum())
        prec = float(np.mean(np.asarray(pred_pool)[inside] == decision)) if n else empty
        return prec_factor * prec, cov_factor * n / len(pred_pool), n
    return dict(precision_coverage=func)


def _q4_swapped():
    net, X_train = NB["net"], NB["X_train"]
    baseline = np.median(X_train[proba(X_train, net) >= 0.5], axis=0)
    ig = integrated_gradients(baseline, NB["x"], net, 1024)
    return dict(p_baseline=float(proba(baseline, net)[0]), ig_sum=float(ig.sum()),
                ig_rent_share=float(ig[1]))


def _ig_summed(x, b, net, steps):
    return integrated_gradients(x, b, net, steps) * steps


REVIEW = [
    ("q5", q5_values(_first_direction), "going *down*"),
    ("q3", _scaled_pc(empty=0.0), "precision is undefined"),
    ("q3", _scaled_pc(cov_factor=100), "is a percentage"),
    ("q3", _scaled_pc(prec_factor=100), "is a percentage"),
    ("q3", _scaled_pc(open_upper=True), "upper bound are left out"),
    ("q4", _q4_swapped(), "wrong sign"),
    ("q2", dict(integrated_gradients=_ig_summed), "summed, not averaged"),
    ("q2", dict(integrated_gradients=lambda *a: -integrated_gradients(*a)), "sign is flipped"),
]  # fmt: skip


@pytest.mark.parametrize("label, values, named", REVIEW, ids=[m[2][:20] for m in REVIEW])
def test_review_mistakes_fail_the_visible_check_with_their_name(label, values, named):
    """Each got through the visible check (q5 first direction: every check; q3 zero precision
    for an empty rule: the visible one) or was given another mistake's name (a percentage called
    a count, swapped arguments called too few steps)."""
    q = key.QUESTIONS[label]
    with pytest.raises(Incorrect) as info:
        q.verify(**values)
    assert named in str(info.value)
    for seed in range(8):
        with pytest.raises(Incorrect):
            q.verify_hidden(seed=seed, **values)
