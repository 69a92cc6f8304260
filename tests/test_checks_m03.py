"""Assignment 03 checks (the key ``solutions/03-linear-algebra-calculus/key.py``): right answers
pass, named mistakes fail, also when judged outside the kernel.

Fast unit tests: the key's ``verify``/``verify_hidden`` are called directly with the values a
student would define (no notebook is executed), and through :mod:`grader.judging` (plan, collect
in-process, replay) for the inputs that are functions themselves. The mutant catalogue in
``solutions/03-linear-algebra-calculus/mutants.yml`` is proved against the executed notebook by
``grader verify``; these tests pin the same mistakes at the unit level, plus the tiers around
them (not attempted, wrong type, crashes) and the rule that feedback never shows the expected
value.
"""

from __future__ import annotations

import itertools
import json
import math
import re
import warnings
from pathlib import Path

import numpy as np
import pytest
from conftest import no_return as _no_return
from conftest import unfinished as _unfinished
from scipy.special import expit
from scipy.special import softmax as sp_softmax

from grader import judging
from grader.checks import Incorrect, NotAttempted, wire
from grader.checks import m03 as student_m03
from grader.checks.collect import gather
from grader.checks.offline import load_key_file

ROOT = Path(__file__).resolve().parents[1]
m03 = load_key_file(ROOT / "solutions/03-linear-algebra-calculus/key.py")

SEEDS = (0, 1, 7, 3011, 3023, 3037, 3053, 3079)


# --- right answers: the notebook's solutions and a second, differently written version ---------
def _design(X):
    X = np.asarray(X, dtype=float)
    return np.column_stack([np.ones(X.shape[0]), X])


def ols(X, y, w=None):
    X1, y = _design(X), np.asarray(y, dtype=float)
    if w is not None:
        r = np.sqrt(np.asarray(w, dtype=float))
        X1, y = X1 * r[:, None], y * r
    return np.linalg.lstsq(X1, y, rcond=None)[0]


def ols_pinv_list(X, y, w=None):
    """The pseudo-inverse of the weighted design, returned as a list: also accepted."""
    X1, y = _design(X), np.asarray(y, dtype=float)
    r = np.ones(len(y)) if w is None else np.sqrt(np.asarray(w, dtype=float))
    return list(np.linalg.pinv(X1 * r[:, None]) @ (y * r))


def vif(X):
    X = np.asarray(X, dtype=float)
    out = np.empty(X.shape[1])
    for j in range(X.shape[1]):
        target, others = X[:, j], np.delete(X, j, axis=1)
        resid = target - _design(others) @ ols(others, target)
        r2 = 1 - resid @ resid / np.sum((target - target.mean()) ** 2)
        out[j] = 1 / (1 - r2)
    return out


def vif_from_correlation(X):
    """The diagonal of the inverse correlation matrix: the same numbers."""
    return np.diag(np.linalg.inv(np.corrcoef(np.asarray(X, dtype=float), rowvar=False)))


def _std(X):
    X = np.asarray(X, dtype=float)
    return (X - X.mean(axis=0)) / X.std(axis=0)


def condition_indices(X):
    s = np.linalg.svd(_std(X), compute_uv=False)
    return np.sort(s.max() / s)


def condition_indices_eig(X):
    """From the eigenvalues of the correlation matrix (square roots of their ratios), as a list."""
    lam = np.linalg.eigvalsh(np.corrcoef(np.asarray(X, dtype=float), rowvar=False))
    return sorted(float(v) for v in np.sqrt(lam.max() / lam))


def sp_softmax_rows(Z):
    return sp_softmax(np.asarray(Z, dtype=float), axis=1)


def softmax(Z):
    Z = np.asarray(Z, dtype=float)
    E = np.exp(Z - Z.max(axis=1, keepdims=True))
    return E / E.sum(axis=1, keepdims=True)


def step_to_reach(p0, p1, beta):
    return float((np.log(p1 / (1 - p1)) - np.log(p0 / (1 - p0))) / beta)


def step_to_reach_odds(p0, p1, beta):
    return math.log((p1 / (1 - p1)) / (p0 / (1 - p0))) / beta


def logloss_grad(beta, X, y):
    X = np.asarray(X, dtype=float)
    return X.T @ (expit(X @ np.asarray(beta, dtype=float)) - np.asarray(y, dtype=float)) / len(y)


def logloss_grad_central(beta, X, y):
    """Central differences of the loss: accurate to about 1e-10, also accepted."""
    beta, X, y = (np.asarray(a, dtype=float) for a in (beta, X, y))

    def loss(b):
        z = X @ b
        return np.mean(np.logaddexp(0, z) - y * z)

    h = 1e-5
    return np.array([(loss(beta + h * e) - loss(beta - h * e)) / (2 * h) for e in np.eye(beta.size)])


def shapley_weight(p, s):
    return math.factorial(s) * math.factorial(p - s - 1) / math.factorial(p)


def _values(weight, f, x, baseline, sizes=None):
    x, baseline = np.asarray(x, dtype=float), np.asarray(baseline, dtype=float)
    p = x.size

    def v(S):
        row = baseline.copy()
        row[list(S)] = x[list(S)]
        return f(row)

    out = np.zeros(p)
    for i in range(p):
        others = [j for j in range(p) if j != i]
        for r in sizes or range(p):
            if r >= p:
                continue
            for S in itertools.combinations(others, r):
                out[i] += weight(p, r) * (v(S + (i,)) - v(S))
    return out


def shapley_values(f, x, baseline):
    return _values(shapley_weight, f, x, baseline)


def shapley_weight_comb(p, s):
    return 1 / (p * math.comb(p - 1, s))


def shapley_values_permutations(f, x, baseline):
    """The average over all orderings of the marginal contribution: the same values, as a list."""
    x, baseline = np.asarray(x, dtype=float), np.asarray(baseline, dtype=float)
    p = x.size
    total = np.zeros(p)
    perms = list(itertools.permutations(range(p)))
    for order in perms:
        row = baseline.copy()
        before = f(row)
        for i in order:
            row[i] = x[i]
            after = f(row)
            total[i] += after - before
            before = after
    return list(total / len(perms))


def _q8_right():
    read = m03._q8_readings()
    return read["gradient"], read["shapley"]


RIGHT = {
    "q1": [dict(ols=ols), dict(ols=ols_pinv_list)],
    "q2": [dict(vif=vif), dict(vif=vif_from_correlation)],
    "q3": [dict(condition_indices=condition_indices),
           dict(condition_indices=condition_indices_eig)],
    "q4": [dict(softmax=softmax), dict(softmax=sp_softmax_rows)],
    "q5": [dict(step_to_reach=step_to_reach), dict(step_to_reach=step_to_reach_odds)],
    "q6": [dict(logloss_grad=logloss_grad), dict(logloss_grad=logloss_grad_central)],
    "q7": [
        dict(shapley_weight=shapley_weight, shapley_values=shapley_values),
        dict(shapley_weight=shapley_weight_comb, shapley_values=shapley_values_permutations),
    ],
    "q8": [dict(zip(("most_sensitive", "largest_share"), _q8_right(), strict=True)),
           dict(zip(("most_sensitive", "largest_share"), map(np.int64, _q8_right()),
                    strict=True))],
}  # fmt: skip
QUESTIONS = {f"q{i}": getattr(m03, f"q{i}") for i in range(1, 9)}
FUNCTION_QUESTIONS = [f"q{i}" for i in range(1, 8)]


@pytest.mark.parametrize(
    "label, values", [(q, v) for q, vs in RIGHT.items() for v in vs], ids=lambda x: str(x)[:14]
)
def test_right_answers_pass_visible_and_hidden(label, values):
    question = QUESTIONS[label]
    question.verify(**values)
    for seed in SEEDS:
        question.verify_hidden(seed=seed, **values)
        question.verify_graded(seed=seed, **values)


# --- the catalogued mistakes -------------------------------------------------------------------
def _ols_mistake(kind):
    def f(X, y, w=None):
        X, y = np.asarray(X, dtype=float), np.asarray(y, dtype=float)
        r = np.ones(len(y)) if w is None else np.sqrt(np.asarray(w, dtype=float))
        X1 = _design(X)
        if kind == "no_intercept":
            return np.linalg.lstsq(X * r[:, None], y * r, rcond=None)[0]
        if kind == "last":
            A = np.column_stack([X, np.ones(len(X))]) * r[:, None]
            return np.linalg.lstsq(A, y * r, rcond=None)[0]
        if kind == "inv":
            W = r**2
            return np.linalg.inv(X1.T @ (W[:, None] * X1)) @ X1.T @ (W * y)
        if kind == "transpose":
            return np.linalg.solve(X1.T @ X1, X1 @ y)
        if kind == "tuple":
            return np.linalg.lstsq(X1 * r[:, None], y * r, rcond=None)
        if kind == "fitted":
            return X1 @ ols(X, y, w)
        if kind == "w_not_sqrt":
            return np.linalg.lstsq(X1 * (r**2)[:, None], y * r**2, rcond=None)[0]
        if kind == "ignored":
            return ols(X, y)
        if kind == "ones":
            A = np.column_stack([np.ones(len(y)), X * r[:, None]])
            return np.linalg.lstsq(A, y * r, rcond=None)[0]
        if kind == "only_y":
            return np.linalg.lstsq(X1, y * r, rcond=None)[0]
        raise AssertionError(kind)

    return f


def _vif_mistake(kind):
    def f(X):
        X = np.asarray(X, dtype=float)
        out = []
        for j in range(X.shape[1]):
            t, o = X[:, j], np.delete(X, j, axis=1)
            A = o if kind == "origin" else _design(o)
            r = t - A @ np.linalg.lstsq(A, t, rcond=None)[0]
            r2 = 1 - r @ r / np.sum((t - t.mean()) ** 2)
            out.append(
                {"inv_r2": 1 / r2, "odds": r2 / (1 - r2), "r2": r2, "tol": 1 - r2}.get(
                    kind, 1 / (1 - r2)
                )
            )
        return np.array(out)

    return f


def _idx(A):
    s = np.linalg.svd(A, compute_uv=False)
    return np.sort(s.max() / s)


def _indices_mistake(kind):
    def f(X):
        X = np.asarray(X, dtype=float)
        Z = _std(X)
        s = np.linalg.svd(Z, compute_uv=False)
        return {
            "raw": lambda: _idx(X),
            "gram": lambda: _idx(Z.T @ Z),
            "uncentred": lambda: _idx(X / X.std(axis=0)),
            "unscaled": lambda: _idx(X - X.mean(axis=0)),
            "upside": lambda: np.sort(s / s.max()),
            "decreasing": lambda: np.sort(s.max() / s)[::-1],
            "singular": lambda: np.sort(s),
            "cond": lambda: float(s.max() / s.min()),
        }[kind]()

    return f


def _softmax_mistake(kind):
    def f(Z):
        Z = np.asarray(Z, dtype=float)
        if kind == "overflow":
            E = np.exp(Z)
            return E / E.sum(axis=1, keepdims=True)
        if kind == "global":
            E = np.exp(Z - Z.max())
            return E / E.sum(axis=1, keepdims=True)
        if kind == "columns":
            E = np.exp(Z - Z.max(axis=0))
            return E / E.sum(axis=0, keepdims=True)
        if kind == "sigmoid":
            return expit(Z)
        if kind == "no_exp":
            return Z / Z.sum(axis=1, keepdims=True)
        if kind == "flat":
            E = np.exp(Z - Z.max(axis=1, keepdims=True))
            return E / E.sum(axis=1)
        raise AssertionError(kind)

    return f


def _step_mistake(kind):
    def f(p0, p1, b):
        lo0, lo1 = math.log(p0 / (1 - p0)), math.log(p1 / (1 - p1))
        return {
            "prob": lambda: (p1 - p0) / b,
            "logratio": lambda: math.log(p1 / p0) / b,
            "odds": lambda: (p1 / (1 - p1) - p0 / (1 - p0)) / b,
            "no_div": lambda: lo1 - lo0,
            "times": lambda: (lo1 - lo0) * b,
            "log10": lambda: (math.log10(p1 / (1 - p1)) - math.log10(p0 / (1 - p0))) / b,
            "sign": lambda: (lo0 - lo1) / b,
        }[kind]()

    return f


def _grad_mistake(kind):
    def f(beta, X, y):
        beta, X, y = (np.asarray(a, dtype=float) for a in (beta, X, y))
        s = expit(X @ beta)
        if kind == "forward":
            def loss(b):
                z = X @ b
                return np.mean(np.logaddexp(0, z) - y * z)

            h = 1e-5
            return np.array([(loss(beta + h * e) - loss(beta)) / h for e in np.eye(beta.size)])
        return {
            "sign": lambda: X.T @ (y - s) / len(y),
            "sum": lambda: X.T @ (s - y),
            "linear": lambda: X.T @ (X @ beta - y) / len(y),
            "mse": lambda: 2 * X.T @ ((s - y) * s * (1 - s)) / len(y),
            "scalar": lambda: float(np.mean(s - y)),
        }[kind]()

    return f


def _weight(formula):
    return dict(shapley_weight=formula,
                shapley_values=lambda f, x, b: _values(formula, f, x, b))


def _value_mistake(kind):
    def g(f, x, b):
        x, b = np.asarray(x, dtype=float), np.asarray(b, dtype=float)
        p = x.size
        if kind == "empty":
            return _values(shapley_weight, f, x, b, sizes=range(1, p))
        if kind == "swap":
            return _values(shapley_weight, f, b, x)
        if kind == "sign":
            return -_values(shapley_weight, f, x, b)
        rows = []
        for i in range(p):
            if kind == "loo":
                row = x.copy()
                row[i] = b[i]
                rows.append(f(x) - f(row))
            elif kind == "add":
                row = b.copy()
                row[i] = x[i]
                rows.append(f(row) - f(b))
        if kind == "gradient":
            h = 1e-5
            grad = np.array([(f(x + h * e) - f(x - h * e)) / (2 * h) for e in np.eye(p)])
            return grad * (x - b)
        return np.array(rows)

    return dict(shapley_weight=shapley_weight, shapley_values=g)


def _q8(reading_sensitive, reading_share):
    read = m03._q8_readings()
    return dict(most_sensitive=read[reading_sensitive], largest_share=read[reading_share])


F = math.factorial
WEIGHT_MISTAKES = {
    "(p - s)!": lambda p, s: F(s) * F(p - s) / F(p),
    "divides by (p - 1)!": lambda p, s: F(s) * F(p - s - 1) / F(p - 1),
    "division by p! is missing": lambda p, s: float(F(s) * F(p - s - 1)),
    "off-by-one": lambda p, s: F(s + 1) * F(p - s - 1) / F(p),
    "upside down": lambda p, s: F(p) / (F(s) * F(p - s - 1)),
    "Banzhaf": lambda p, s: 1 / 2 ** (p - 1),
}
MISTAKES = [
    # (question, values, text the message must contain)
    ("q1", dict(ols=_ols_mistake("no_intercept")), "intercept is missing"),
    ("q1", dict(ols=_ols_mistake("last")), "intercept is last"),
    ("q1", dict(ols=_ols_mistake("inv")), "squares the condition number"),
    ("q1", dict(ols=_ols_mistake("transpose")), "wrong transpose"),
    ("q1", dict(ols=_ols_mistake("tuple")), "first item"),
    ("q1", dict(ols=_ols_mistake("fitted")), "fitted values"),
    ("q1", dict(ols=_ols_mistake("w_not_sqrt")), "multiplied by w"),
    ("q1", dict(ols=_ols_mistake("ignored")), "weights are ignored"),
    ("q1", dict(ols=_ols_mistake("ones")), "column of ones is not weighted"),
    ("q1", dict(ols=_ols_mistake("only_y")), "only y is scaled"),
    ("q2", dict(vif=_vif_mistake("inv_r2")), "that is 1 / R^2_j"),
    ("q2", dict(vif=_vif_mistake("odds")), "VIF - 1"),
    ("q2", dict(vif=_vif_mistake("r2")), "R^2_j themselves"),
    ("q2", dict(vif=_vif_mistake("tol")), "tolerance"),
    ("q2", dict(vif=_vif_mistake("origin")), "no intercept"),
    ("q3", dict(condition_indices=_indices_mistake("raw")), "raw X"),
    ("q3", dict(condition_indices=_indices_mistake("gram")), "*squares*"),
    ("q3", dict(condition_indices=_indices_mistake("uncentred")), "not centred"),
    ("q3", dict(condition_indices=_indices_mistake("unscaled")), "not scaled"),
    ("q3", dict(condition_indices=_indices_mistake("upside")), "upside down"),
    ("q3", dict(condition_indices=_indices_mistake("decreasing")), "decreasing order"),
    ("q3", dict(condition_indices=_indices_mistake("singular")), "singular values themselves"),
    ("q3", dict(condition_indices=_indices_mistake("cond")), "one number"),
    ("q4", dict(softmax=_softmax_mistake("overflow")), "overflows"),
    ("q4", dict(softmax=_softmax_mistake("global")), "*own* maximum"),
    ("q4", dict(softmax=_softmax_mistake("columns")), "*column*"),
    ("q4", dict(softmax=_softmax_mistake("sigmoid")), "sigmoid of each score"),
    ("q4", dict(softmax=_softmax_mistake("no_exp")), "without exponentiating"),
    ("q4", dict(softmax=_softmax_mistake("flat")), "keep the summed axis"),
    ("q5", dict(step_to_reach=_step_mistake("prob")), "change in *probability*"),
    ("q5", dict(step_to_reach=_step_mistake("logratio")), "as if the probabilities were odds"),
    ("q5", dict(step_to_reach=_step_mistake("odds")), "change in the *odds*"),
    ("q5", dict(step_to_reach=_step_mistake("no_div")), "divide by beta"),
    ("q5", dict(step_to_reach=_step_mistake("times")), "multiplies the change"),
    ("q5", dict(step_to_reach=_step_mistake("log10")), "base 10"),
    ("q5", dict(step_to_reach=_step_mistake("sign")), "sign is flipped"),
    ("q6", dict(logloss_grad=_grad_mistake("sign")), "sign is flipped"),
    ("q6", dict(logloss_grad=_grad_mistake("sum")), "*summed* loss"),
    ("q6", dict(logloss_grad=_grad_mistake("linear")), "least-squares loss"),
    ("q6", dict(logloss_grad=_grad_mistake("mse")), "*squared* error"),
    ("q6", dict(logloss_grad=_grad_mistake("forward")), "(forward) difference"),
    ("q6", dict(logloss_grad=_grad_mistake("scalar")), "one number"),
    *[("q7", _weight(f), named) for named, f in WEIGHT_MISTAKES.items()],
    ("q7", _value_mistake("empty"), "empty coalition is missing"),
    ("q7", _value_mistake("sign"), "sign is flipped"),
    ("q7", _value_mistake("swap"), "swapped roles"),
    ("q7", _value_mistake("loo"), "leave-one-out"),
    ("q7", _value_mistake("add"), "add-one"),
    ("q7", _value_mistake("gradient"), "first-order approximation"),
    ("q8", _q8("shapley", "shapley"), "largest Shapley value"),
    ("q8", _q8("gradient_x_input", "shapley"), "mixes the slope"),
    ("q8", _q8("gradient", "gradient"), "steepest slope"),
    ("q8", _q8("gradient", "gradient_x_input"), "first-order"),
    ("q8", _q8("gradient", "difference"), "furthest from the baseline"),
]  # fmt: skip


def _references(label: str) -> list[float]:
    """The expected answers of the visible cases, as numbers a message might print."""
    if label == "q1":
        X, y = m03._q1_toy()
        rng = np.random.default_rng(303)
        Xn, yn = m03._q1_noisy(rng, 40, 3)
        return [*ols(X, y), *ols(Xn, yn, m03._q1_weights(rng, 40))]
    if label == "q2":
        return [*vif(m03._q2_toy()), *vif(m03._diabetes_X())]
    if label == "q3":
        return [*condition_indices(m03._q3_toy())[1:], *condition_indices(m03._diabetes_X())[1:]]
    if label == "q4":
        return [*softmax(m03._Q4_MODERATE).ravel()]
    if label == "q5":
        return [step_to_reach(*case) for case in m03._Q5_CASES]
    if label == "q6":
        beta, X, y = m03._q6_case(np.random.default_rng(306), 30, 3)
        return [*logloss_grad(beta, X, y)]
    if label == "q7":
        f = student_m03.CurvedFunction([0.6, -0.4, 0.3])
        return [*shapley_values(f, np.array([1.2, -0.5, 1.6]), np.array([0.2, 0.4, -0.3]))] + [
            shapley_weight(4, s) for s in range(1, 3)]
    return []  # q8: the answers are indices 0..3, which messages name as the student's own


@pytest.mark.parametrize("label, values, named", MISTAKES, ids=[m[2][:24] for m in MISTAKES])
def test_mistakes_are_named_and_the_answer_is_not_shown(label, values, named):
    """The visible inputs catch every catalogued mistake (so stock nbgrader's offline visible
    check and the grader's graded one agree), name it, and never show the expected value."""
    question = QUESTIONS[label]
    with pytest.raises(Incorrect) as visible:
        question.verify(**values)
    message = str(visible.value)
    assert named in message, message
    assert not isinstance(visible.value, NotAttempted)
    # A sign mistake shows the student's value, which is minus the answer by definition; a
    # one-sided difference is an approximation, so it agrees to about 4 digits.
    references = [] if "sign" in named or "swapped" in named else _references(label)
    formats = ("{:.6g}",) if label == "q6" else ("{:.4g}", "{:.6g}")
    for v in references:
        for shown in [f.format(v) for f in formats] + [repr(float(v))]:
            if len(shown.lstrip("-").replace(".", "").replace("0", "")) < 3:
                continue  # a short number such as 0.5 or 2 can appear for other reasons
            pattern = r"(?<![-\d.])" + re.escape(shown) + r"(?!\d)"
            assert not re.search(pattern, message), f"{label} feedback reveals {shown}"


@pytest.mark.parametrize("label, values, named", MISTAKES, ids=[m[2][:24] for m in MISTAKES])
def test_every_catalogued_mistake_fails_the_hidden_test_for_every_seed(label, values, named):
    """Issue 14: fresh inputs never let a named mistake pass (no lucky seed, no symmetric case)."""
    for seed in (*SEEDS, 3041, 3061, 3067, 3083, 12345):
        with pytest.raises(Incorrect):
            QUESTIONS[label].verify_hidden(seed=seed, **values)


def test_fresh_inputs_name_the_mistake_too():
    """On fresh inputs the function mistakes are still named, not just failed."""
    for label, values, named in MISTAKES:
        if label in ("q1", "q3", "q6") and named in ("squares the condition number",
                                                      "wrong transpose", "one number"):
            continue  # the collinear case / the shape tier come first and say it their own way
        if label == "q8":
            continue
        for seed in SEEDS[:3]:
            with pytest.raises(Incorrect) as info:
                QUESTIONS[label].verify_hidden(seed=seed, **values)
            assert named in str(info.value), (label, named, str(info.value))


def test_designed_cases_separate_every_mistake():
    """The visible inputs: each catalogued mistake differs from the right answer and the q8
    readings point at four different features, each by a clear margin."""
    for p0, p1, b in m03._Q5_CASES:
        values = [step_to_reach(p0, p1, b), *[m for m, _ in m03._q5_mistakes(p0, p1, b)]]
        assert min(abs(a - c) for a, c in itertools.combinations(values, 2)) > 1e-3
    X, y = m03._q1_toy()
    assert abs(ols(X, y)[0]) > 1  # a nonzero intercept, so "no intercept" cannot pass
    read = m03._q8_readings()
    assert len(set(read.values())) == 4, read
    f, x, b = m03._q8_setting()
    phi = shapley_values(f, x, b)
    assert math.isclose(phi.sum(), f(x) - f(b), rel_tol=1e-9)
    first_order = m03._grad(f, x) * (x - b)
    assert abs(first_order.sum() - (f(x) - f(b))) > 0.1  # gradient x input does not add up
    for scores in (np.abs(m03._grad(f, x)), np.abs(phi), np.abs(first_order)):
        top, second = np.sort(scores)[-2:][::-1]
        assert top > 1.3 * second


def test_collinear_case_separates_lstsq_from_the_normal_equations():
    for seed in SEEDS:
        X, y = m03._q1_collinear(np.random.default_rng(seed))
        m03._q1_run(ols, X, y, None, "here", collinear=True)
        with pytest.raises(Incorrect, match="condition number"):
            m03._q1_run(_ols_mistake("inv"), X, y, None, "here", collinear=True)


def test_fresh_inputs_are_redrawn_until_the_mistakes_separate():
    """A fresh q5 case where beta = 1 would let "no division by beta" pass: it is redrawn."""
    assert not m03._separated(1.0, [1.0 + 1e-9])
    assert m03._separated(1.0, [1.1, -1.0])

    def make(g):
        return (0.2, 0.5, 1.0) if g.uniform() < 0.5 else (0.2, 0.5, 0.35)

    def mistakes(p0, p1, b):
        return m03._step(p0, p1, b), [m for m, _ in m03._q5_mistakes(p0, p1, b)]

    for seed in range(20):
        assert m03._draw(make, mistakes, np.random.default_rng(seed))[2] == 0.35


# --- not attempted, wrong types and crashes: feedback, never a traceback -----------------------
def _crashes(*args, **kwargs):
    return {}["beta"]


@pytest.mark.parametrize("label", FUNCTION_QUESTIONS)
def test_unwritten_functions_are_not_attempted(ns, label):
    question = QUESTIONS[label]
    with pytest.raises(NotAttempted, match="not defined yet"):
        question.check()
    values = {**RIGHT[label][0]}
    for fname in question.names:
        for stub, kind in (
            (_unfinished, NotAttempted),
            (_no_return, NotAttempted),
            (_crashes, Incorrect),
        ):
            ns.clear()
            ns.update(values, **{fname: stub})
            with pytest.raises(kind) as info:
                question.check()
            assert f"`{fname}" in str(info.value)
        ns.clear()
        ns.update(values, **{fname: ...})
        with pytest.raises(NotAttempted, match="placeholder"):
            question.check()
        ns[fname] = 42
        with pytest.raises(Incorrect, match="should be a function"):
            question.check()


def test_unanswered_choices_are_not_attempted(ns):
    with pytest.raises(NotAttempted, match="not defined yet"):
        student_m03.q8.check()
    ns.update(most_sensitive=..., largest_share=...)
    with pytest.raises(NotAttempted):
        student_m03.q8.check()


@pytest.mark.parametrize(
    "label, values, text",
    [
        ("q1", dict(ols=lambda X, y, w=None: 3.0), "array of numbers"),
        ("q1", dict(ols=lambda X, y, w=None: np.zeros(7)), "shape"),
        ("q2", dict(vif=lambda X: np.full(X.shape[1], np.inf)), "*other* columns"),
        ("q2", dict(vif=lambda X: "big"), "array of numbers"),
        ("q3", dict(condition_indices=lambda X: np.array([1.0, 2.0])), "shape"),
        ("q4", dict(softmax=lambda Z: [0.5]), "shape"),
        ("q4", dict(softmax=lambda Z: np.full(np.shape(Z), np.nan)), "NaN"),
        ("q5", dict(step_to_reach=lambda p0, p1, b: "0.7"), "single number"),
        ("q6", dict(logloss_grad=lambda beta, X, y: np.zeros(len(y))), "shape"),
        ("q7", _weight(lambda p, s: None), "returned None"),
        ("q8", dict(most_sensitive=1.0, largest_share=1), "whole number"),
        ("q8", dict(most_sensitive=7, largest_share=1), "not a feature index"),
        ("q8", dict(most_sensitive="x0", largest_share=1), "whole number"),
    ],
)  # fmt: skip
def test_wrong_types_get_a_clear_message(label, values, text):
    with pytest.raises(Incorrect) as info:
        QUESTIONS[label].verify(**values)
    assert text in str(info.value)


class AlwaysEqual(float):
    """A hostile answer: equal to everything, minus anything is 0."""

    def __eq__(self, other):
        return True

    __hash__ = float.__hash__

    def __sub__(self, other):
        return 0.0


def test_hostile_objects_are_not_trusted():
    with pytest.raises(Incorrect, match="single number"):
        m03.q5.verify(step_to_reach=lambda p0, p1, b: AlwaysEqual(0.1))
    with pytest.raises(Incorrect):
        m03.q3.verify(condition_indices=lambda X: [AlwaysEqual(1.0)] * X.shape[1])
    with pytest.raises(Incorrect, match="whole number"):
        m03.q8.verify(most_sensitive=AlwaysEqual(0.0), largest_share=1)


def test_student_inputs_are_copies():
    """A student function that scribbles on its inputs cannot change later references."""

    def vandal(X, y, w=None):
        out = ols(X, y, w)
        X[:] = 0
        y[:] = 1
        return out

    m03.q1.verify(ols=vandal)
    m03.q1.verify(ols=ols)


def test_checks_are_quiet(ns, capsys):
    def noisy(p0, p1, beta):
        warnings.warn("a student's warning", UserWarning, stacklevel=1)
        return step_to_reach(p0, p1, beta)

    def overflowing(Z):  # NumPy's overflow warnings in the student's code stay quiet too
        with np.errstate(over="warn"):
            np.exp(np.array([1000.0]))
        return softmax(Z)

    for label, values in RIGHT.items():
        ns.clear()
        ns.update(values[0])
        if label == "q5":
            ns["step_to_reach"] = noisy
        if label == "q4":
            ns["softmax"] = overflowing
        QUESTIONS[label].check()
        QUESTIONS[label].check_hidden(seed=3)
    out = capsys.readouterr()
    assert out.err == ""
    assert out.out.count("Correct") == 16


def test_exports_and_hints():
    assert sorted(student_m03.__all__) == [f"q{i}" for i in range(1, 9)]
    for question in QUESTIONS.values():
        assert 2 <= len(question.hints) <= 3
        assert question.label in repr(question)
        for hint in question.hints:  # issue 14: hints point to the idea and the step, not code
            for code in ("`", "np.", "def ", "return ", "lambda", "[:", "axis=", "@"):
                assert code not in hint, hint


# --- issue 14: every catalogued weight mistake is named on the p the check uses --------------


def test_designed_weight_cases_separate_every_mistake():
    """The first weight the visible check asks for, shapley_weight(4, 1), differs between the
    right formula and every catalogued mistake (and the offline check names a mistake by the
    first result that differs), and so do the whole weight vectors at p = 4."""
    q = m03.QUESTIONS["q7"]
    _, recorded = judging.record(q, None)
    first = recorded[0][0]
    assert (first.name, first.args) == ("shapley_weight", (4, 1))
    at_first = [shapley_weight(4, 1)] + [f(4, 1) for f in WEIGHT_MISTAKES.values()]
    rows = [[shapley_weight(4, s) for s in range(4)]]
    rows += [[f(4, s) for s in range(4)] for f in WEIGHT_MISTAKES.values()]
    for a, b in itertools.combinations(at_first, 2):
        assert not math.isclose(a, b), (a, b)
    for a, b in itertools.combinations(rows, 2):
        assert not np.allclose(a, b), (a, b)


@pytest.mark.parametrize("named", list(WEIGHT_MISTAKES))
def test_hidden_weight_check_names_the_mistake_even_at_p_2(named):
    """At p = 2, "no division by p!" and "divides by (p - 1)!" give the same weights; the hidden
    check, which starts at p = 2, used to call the first one the second."""
    values = _weight(WEIGHT_MISTAKES[named])
    for run in (lambda: m03.q7.verify_hidden(seed=3079, **values),
                lambda: m03.q7.verify_graded(seed=11, **values)):
        with pytest.raises(Incorrect) as info:
            run()
        assert named in str(info.value), str(info.value)
        others = [n for n in WEIGHT_MISTAKES if n != named and n not in named]
        assert not any(n in str(info.value) for n in others), str(info.value)


# --- judgement outside the kernel --------------------------------------------------------------
def _judge(label, values, seed, hidden=False):
    q = m03.QUESTIONS[label]
    names, recorded = judging.record(q, seed, hidden=hidden)
    payload = json.loads(json.dumps(gather(names, [c for c, _ in recorded], values)))
    return judging.judge(q, seed, payload, hidden=hidden)


@pytest.mark.parametrize("label", list(RIGHT))
def test_judge_outside_the_kernel_passes_right_answers(label):
    for values in RIGHT[label]:
        for seed, hidden in ((None, False), (41, False), (3061, True)):
            verdict = _judge(label, values, seed, hidden)
            assert verdict.ok, (label, seed, verdict.message)


@pytest.mark.parametrize("label, values, named", [m for m in MISTAKES if m[0] in ("q4", "q7")],
                         ids=[m[2][:24] for m in MISTAKES if m[0] in ("q4", "q7")])
def test_judge_outside_the_kernel_names_mistakes_on_function_inputs(label, values, named):
    """shapley_values takes a model: it crosses the wire as data and is rebuilt; softmax's
    overflow (NaN in the result) crosses the wire too."""
    for seed, hidden in ((None, False), (43, False)):
        verdict = _judge(label, values, seed, hidden)
        assert not verdict.ok and named in verdict.message, verdict.message
    assert not _judge(label, values, 3061, hidden=True).ok


def test_function_inputs_cross_the_wire_as_data():
    f = student_m03.CurvedFunction([0.5, -0.25, 0.125])
    g = wire.loads(wire.dumps(f))
    assert type(g) is student_m03.CurvedFunction and g(np.ones(3)) == f(np.ones(3))
    game = student_m03.Game(2, {frozenset(): 1.0, frozenset({0}): 2.5, frozenset({1}): -1.0,
                                frozenset({0, 1}): 4.0})
    back = wire.loads(wire.dumps(game))
    assert type(back) is student_m03.Game and back.table == game.table
    for bad in (
        {"t": "fn", "kind": "m03.Game", "v": wire.encode([3, [1.0] * 7])},  # 2**3 worths needed
        {"t": "fn", "kind": "m03.CurvedFunction", "v": wire.encode([float("nan"), 1.0])},
        {"t": "fn", "kind": "m03.CurvedFunction", "v": wire.encode("os.system")},
        {"t": "fn", "kind": "m03.Question", "v": wire.encode([])},  # not registered
        {"t": "fn", "kind": "os.system", "v": wire.encode([])},
        {"t": "fn", "kind": "m99.Game", "v": wire.encode([])},
    ):
        with pytest.raises(wire.WireError):
            wire.decode(bad)


def test_student_module_holds_no_key():
    text = (ROOT / "grader/checks/m03.py").read_text()
    for private in ("def verify", "references", "_lstsq", "_r2_all", "_standardise", "_phi",
                    "_wls", " _grad(", "seed", "_toy", "_Q5_CASES", "_softmax", "_loss_grad"):
        assert private not in text, private
    for label, q in m03.QUESTIONS.items():
        assert type(getattr(student_m03, label)).__mro__[1].__name__ == "_Q03"
        assert getattr(student_m03, label).names == q.names


def test_offline_check_passes_every_form_of_a_right_answer(ns, capsys):
    """qN.check() in JupyterLab, without the key: both right answers of each question pass."""
    for label, forms in RIGHT.items():
        for values in forms:
            ns.clear()
            ns.update(values)
            getattr(student_m03, label).check()
    assert capsys.readouterr().out.count("Correct") == sum(len(f) for f in RIGHT.values())


@pytest.mark.parametrize("label, values, named", MISTAKES, ids=[m[2][:24] for m in MISTAKES])
def test_offline_check_fails_every_catalogued_mistake(ns, label, values, named):
    """Stock nbgrader grades the visible cell with the offline check (no key): it must fail every
    catalogued mistake too, or stock nbgrader and the grader disagree on a demo student."""
    ns.clear()
    ns.update(values)
    with pytest.raises(Incorrect):
        getattr(student_m03, label).check()
