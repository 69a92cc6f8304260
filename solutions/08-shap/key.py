"""The answer key of assignment 08, "Shapley values and SHAP": instructor-only, never released.

``grader release`` and ``nbgrader generate_assignment`` skip this file (``nbgrader_config.py``
ignores ``key.py``). It holds what the student-side package (``grader/checks/m08.py``) must not:
the reference computations, the diagnosis code of every check (``verify``, ``verify_hidden``,
``verify_graded``) and, for each question, its reference answers (``references()``). The grader
loads it outside the student's kernel (:mod:`grader.judging`); see ``docs/authoring.md``.

Second edition (issue 14): every question transfers the lecture's idea to something the lecture
did not show. q1 adds weights to the background (a ``shap.kmeans``-style summary); q2 explains a
*standardised logistic pipeline* in log-odds (the lecture: a raw linear regression); q3 reads a
three-class forest on wine (the lecture: a binary forest on breast cancer); q4 a gradient-boosting
classifier on the tenancy table; q5 global importance on a new crop-yield table with a real but
weak feature below the noise floor; q6 the observational value function on a population of
applicants, and a judgement: which value function answers which reader's question. q7 (one-hot
categoricals) and q8 (interaction values, interventional game) follow lecture sections 6.1 and 4.3
on other data and another value function than the lecture's. q9 (the sampling error of
KernelSHAP, lecture section 7.1) repeats KernelExplainer over seeds on fresh toy models, and on the
crop model of q5 (the lecture: friedman1) measures one feature's spread, its bias against
interventional TreeSHAP with the same background, and whether a ranking holds at that budget.

Hidden tests draw fresh inputs from the seed and, in a bounded loop, redraw until every catalogued
mistake gives a value clearly different from the reference (so no seed lets a wrong method pass;
``tests/test_checks_m08.py`` checks this on a list of seeds). The models passed to the students'
functions are :class:`grader.checks.wire.Formula` s and ``wire.fitted`` pipelines, so that the
judge can send them to the student's kernel as data.
"""

from __future__ import annotations

import functools
import itertools
import math
from types import SimpleNamespace

import numpy as np
import pandas as pd

from grader.checks import m08, wire
from grader.checks.core import Incorrect, Question, call, draw_separating, key_for, separates
from grader.checks.m08 import (
    APPLICANT,
    KERNEL_BACKGROUND,
    KERNEL_FEATURE,
    KERNEL_NSAMPLES,
    KERNEL_PAIR,
    KERNEL_PLOT,
    KERNEL_SEEDS,
    N_BACKGROUND,
    N_EXPLAIN,
    NOISE_FEATURES,
    ROW,
)
from grader.checks.values import allclose, as_array, as_float, as_str, close, show
from grader.checks.wire import Formula

#: The key's questions, by label.
__all__ = ["QUESTIONS"]

#: A mistake counts as separated from the reference when its values differ by more than this.
_GAP = 1e-4


def _lst(a) -> str:
    vals = [f"{v:.4g}" for v in np.asarray(a, dtype=float).ravel()[:12]]
    more = ", ..." if np.asarray(a).size > 12 else ""
    return "[" + ", ".join(vals) + more + "]"


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-np.asarray(z, dtype=float)))


def _apart(ref, variant) -> bool:
    """Whether a variant (a mistake's result) differs from the reference by more than _GAP: the
    predicate with which :func:`grader.checks.core.draw_separating` redraws fresh cases."""
    ref, v = np.asarray(ref, dtype=float), np.asarray(variant, dtype=float)
    return not (v.shape == ref.shape
                and np.max(np.abs(v - ref)) <= _GAP * (1 + np.max(np.abs(ref))))


def _separated(ref, variants) -> bool:
    """Whether every variant (a mistake's result) is :func:`_apart` from the reference."""
    return separates((ref, variants), _apart)


# --- reference models, rebuilt from seeds (cached: the checks run many times) ---------------------
@functools.lru_cache(maxsize=1)
def _wine() -> SimpleNamespace:
    """q3: the notebook's three-class random forest on wine, interventional TreeSHAP."""
    import shap
    from sklearn.datasets import load_wine
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.model_selection import train_test_split

    data = load_wine(as_frame=True)
    X_train, X_test, y_train, y_test = train_test_split(
        data.data, data.target, test_size=0.3, random_state=0, stratify=data.target)
    background, X_explain = X_train.iloc[:N_BACKGROUND], X_test.iloc[:N_EXPLAIN]
    rf = RandomForestClassifier(n_estimators=50, max_depth=3, random_state=5).fit(X_train, y_train)
    explainer = shap.TreeExplainer(rf, data=background)
    shares = lambda y: np.bincount(np.asarray(y), minlength=3) / len(y)  # noqa: E731
    return SimpleNamespace(
        values=np.asarray(explainer.shap_values(X_explain), dtype=float),  # (10, 13, 3)
        base=rf.predict_proba(background).mean(axis=0),  # (3,)
        proba=rf.predict_proba(X_explain),
        mean_row=rf.predict_proba(background.mean().to_frame().T)[0],
        label_shares=[shares(y_train), shares(y_test), shares(y_train.iloc[:N_BACKGROUND])],
        p=X_train.shape[1],
    )


@functools.lru_cache(maxsize=1)
def _tenancy() -> SimpleNamespace:
    """q4: the notebook's gradient-boosting classifier on the tenancy table (log-odds SHAP)."""
    import shap
    from sklearn.ensemble import GradientBoostingClassifier

    from grader.datasets import TENANCY_FEATURES, make_tenancy

    X, y = make_tenancy(n=1500, seed=8)
    X = pd.DataFrame(X, columns=list(TENANCY_FEATURES))
    gb = GradientBoostingClassifier(n_estimators=100, max_depth=2, random_state=0)
    gb.fit(X.iloc[:1000], y[:1000])
    explainer = shap.TreeExplainer(gb, data=X.iloc[:100], feature_perturbation="interventional")
    T_explain = X.iloc[1000:1000 + N_EXPLAIN]
    values = np.asarray(explainer.shap_values(T_explain), dtype=float)
    base = float(np.ravel(explainer.expected_value)[0])
    return SimpleNamespace(values=values, base=base, proba=gb.predict_proba(T_explain),
                           margin=gb.decision_function(T_explain),
                           p_ref=float(_sigmoid(base + values[ROW].sum())))


@functools.lru_cache(maxsize=1)
def _crop() -> SimpleNamespace:
    """q5: the notebook's crop-yield regression, interventional TreeSHAP on the held-out rows."""
    import shap
    from sklearn.ensemble import GradientBoostingRegressor

    from grader.datasets import make_field_trials

    X, y = make_field_trials(n=1200, seed=0)
    model = GradientBoostingRegressor(random_state=0).fit(X.iloc[:900], y[:900])
    explainer = shap.TreeExplainer(model, data=X.iloc[:100], feature_perturbation="interventional")
    values = np.asarray(explainer.shap_values(X.iloc[900:]), dtype=float)
    return SimpleNamespace(values=values, names=tuple(X.columns), model=model, X=X)


# =================================================================================================
# q1: exact Shapley values against a weighted background
# =================================================================================================
def _shapley(f, x, bg, w, *, weight="shapley", mode="weighted", skip_empty=False) -> np.ndarray:
    """Interventional Shapley values of ``f`` at ``x`` against the background ``bg`` with row
    weights ``w`` (the reference), and through the keywords what each classic mistake computes."""
    p = x.size
    w = np.asarray(w, dtype=float)
    if mode == "mean_row":
        rows, w = (w @ bg / w.sum())[None, :], np.ones(1)
    elif mode == "first_row":
        rows, w = bg[:1], np.ones(1)
    else:
        rows = bg
    if mode == "unweighted":
        w = np.ones(len(rows))

    memo: dict[frozenset, float] = {}

    def v(subset) -> float:
        key = frozenset(subset)
        if key not in memo:
            z = rows.copy()
            z[:, list(subset)] = x[list(subset)]
            out = f(z)
            memo[key] = float(np.mean(w * out)) if mode == "unnormalised" else float(
                w @ out / w.sum())
        return memo[key]

    phi = np.zeros(p)
    for j in range(p):
        others = [k for k in range(p) if k != j]
        for size in range(p):
            if skip_empty and size == 0:
                continue
            if weight == "shapley":
                c = math.factorial(size) * math.factorial(p - size - 1) / math.factorial(p)
            elif weight == "off_by_one":
                c = math.factorial(size) * math.factorial(p - size) / math.factorial(p)
            elif weight == "banzhaf":
                c = 1.0 / 2 ** (p - 1)
            else:  # "uniform": 1 / (number of subsets of each size), forgetting the 1/p
                c = 1.0 / math.comb(p - 1, size)
            for s in itertools.combinations(others, size):
                phi[j] += c * (v(s + (j,)) - v(s))
    return phi


def _q1_mistakes(f, x, bg, w) -> dict[str, np.ndarray]:
    return {
        "unweighted": _shapley(f, x, bg, w, mode="unweighted"),
        "unnormalised": _shapley(f, x, bg, w, mode="unnormalised"),
        "mean_row": _shapley(f, x, bg, w, mode="mean_row"),
        "plain_mean_row": _shapley(f, x, bg, np.ones(len(bg)), mode="mean_row"),
        "first_row": _shapley(f, x, bg, w, mode="first_row"),
        "off_by_one": _shapley(f, x, bg, w, weight="off_by_one"),
        "uniform": _shapley(f, x, bg, w, weight="uniform"),
        "banzhaf": _shapley(f, x, bg, w, weight="banzhaf"),
        "skip_empty": _shapley(f, x, bg, w, skip_empty=True),
        "sign": -_shapley(f, x, bg, w),
    }


#: f(X) = 3*x0 + 2*x1*x2 + max(x2, 0)**2 - 0.5*x0*x1*x2 (x3 unused)
_toy_f1 = Formula(
    ["+", ["*", ["c", 3.0], ["x", 0]], ["*", ["c", 2.0], ["x", 1], ["x", 2]],
     ["^", ["max", ["x", 2], ["c", 0.0]], 2], ["*", ["c", -0.5], ["x", 0], ["x", 1], ["x", 2]]],
    "f(X) = 3*x0 + 2*x1*x2 + max(x2, 0)**2 - 0.5*x0*x1*x2",
)
#: f(X) = (x0 + x1)**2 + 0.5*x2
_toy_f2 = Formula(
    ["+", ["^", ["+", ["x", 0], ["x", 1]], 2], ["*", ["c", 0.5], ["x", 2]]],
    "f(X) = (x0 + x1)**2 + 0.5*x2",
)

_Q1_CASES = (
    # (f, description, x, background, weights, dummy feature or None, symmetric pair or None)
    (
        _toy_f1,
        "f(X) = 3*x0 + 2*x1*x2 + max(x2, 0)**2 - 0.5*x0*x1*x2 (x3 unused)",
        np.array([1.0, 2.0, 1.5, 3.0]),
        np.array([[0.0, 1.0, -1.0, 0.5], [2.0, -1.0, 0.5, 1.0], [-1.0, 0.5, 2.0, -2.0],
                  [0.5, 0.0, -0.5, 0.0], [1.5, 2.5, 1.0, 4.0]]),
        np.array([12.0, 3.0, 30.0, 5.0, 8.0]),
        3,
        None,
    ),
    (
        _toy_f2,
        "f(X) = (x0 + x1)**2 + 0.5*x2",
        np.array([1.5, 1.5, -1.0]),
        np.array([[0.0, 1.0, 2.0], [1.0, 0.0, 0.5], [2.0, -1.0, 0.0], [-1.0, 2.0, 1.0]]),
        np.array([20.0, 20.0, 7.0, 1.0]),
        None,
        (0, 1),
    ),
)


def _q1_value(func, f, x, bg, w) -> np.ndarray:
    got = call(func, "exact_shapley", f, x.copy(), bg.copy(), w.copy())
    return as_array(got, "exact_shapley(...)")


def _q1_diagnose(got, f, x, bg, w, where: str, *, tol: float, dummy=None, pair=None) -> None:
    p = x.size
    said = f"{where}, `exact_shapley` returned {_lst(got)}"
    if got.shape != (p,):
        raise Incorrect(f"{said}, an array of shape {got.shape}; it should hold one value per "
                        f"feature, shape ({p},).")
    ref = _shapley(f, x, bg, w)
    if allclose(got, ref, rtol=tol, atol=tol):
        return
    wrong = _q1_mistakes(f, x, bg, w)
    same = lambda k: allclose(got, wrong[k], rtol=tol, atol=tol)  # noqa: E731
    if same("unweighted"):
        raise Incorrect(
            f"{said}: these are the values for the plain mean over the background rows; the "
            "weights are ignored. A row of weight 30 stands for 30 original rows: v(S) must be the "
            "weighted mean of f, sum(w_i f_i) / sum(w_i).")
    if same("unnormalised"):
        raise Incorrect(
            f"{said}: the weighted average is not divided by the total weight, so v(all features) "
            "is not f(x) and the values don't add up. Divide sum(w_i f_i) by sum(w_i).")
    if same("mean_row") or same("plain_mean_row"):
        raise Incorrect(
            f"{said}: absent features are replaced by the mean row of the background. That "
            "computes f(x_S, mean of the rest), and for a non-linear model f(mean x) is not "
            "E[f(x)]. Average f over the background rows (with their weights) instead.")
    if same("first_row"):
        raise Incorrect(
            f"{said}: only the first background row is used as the reference. Average f over "
            "every background row, with its weight.")
    if same("off_by_one") or same("uniform"):
        raise Incorrect(
            f"{said}: your values don't add up to f(x) - base value, because the Shapley weights "
            "are wrong (off by one, or missing a factor). A coalition S of size |S| that excludes "
            "j gets weight |S|! (p - |S| - 1)! / p!, where p is the number of features.")
    if same("banzhaf"):
        raise Incorrect(
            f"{said}: every coalition gets the same weight 1 / 2^(p-1) (the Banzhaf value), so "
            "your values don't add up to f(x) - base value. Shapley weights depend on the "
            "coalition's size.")
    if same("skip_empty"):
        raise Incorrect(
            f"{said}: the empty coalition is missing, so your values don't add up to f(x) - base "
            "value. The empty set (every feature taken from the background) counts too.")
    if same("sign"):
        raise Incorrect(f"{said}: the signs are flipped. A marginal contribution is "
                        "v(S with j) - v(S), not v(S) - v(S with j).")
    base = float(np.asarray(w, float) @ f(bg.copy()) / np.sum(w))
    fx = float(f(x[None, :].copy())[0])
    if not close(float(np.sum(got)), fx - base, rtol=tol, atol=tol):
        raise Incorrect(
            f"{said}, which sums to {float(np.sum(got)):.6g}: your values don't add up to f(x) - "
            "base value (efficiency), where the base value is the weighted mean of f over the "
            "background rows. Check the weights and that every coalition is visited.")
    if dummy is not None and not close(float(got[dummy]), 0.0, atol=tol):
        raise Incorrect(f"{said}: feature {dummy} is a dummy (the model never uses it), so its "
                        f"Shapley value must be 0, but yours is {float(got[dummy]):.4g}.")
    if pair is not None and not close(float(got[pair[0]]), float(got[pair[1]]), rtol=tol, atol=tol):
        raise Incorrect(
            f"{said}: features {pair[0]} and {pair[1]} play the same role here (the model, x and "
            "the background are symmetric in them), so the symmetry axiom says their values must "
            "be equal.")
    raise Incorrect(f"{said}; these are not the interventional Shapley values.")


def _random_model(rng: np.random.Generator, p: int) -> tuple[Formula, int]:
    """A non-linear model (p >= 4) with one unused feature: a linear part, a three-way
    interaction (so equal weights differ from Shapley weights) and a tanh."""
    dummy, i, j, k = (int(v) for v in rng.permutation(p)[:4])
    a = rng.normal(0, 2, p)
    a[dummy] = 0.0
    b, c = rng.uniform(0.5, 2.0) * rng.choice([-1, 1]), rng.uniform(1.0, 3.0)
    expr = ["+", ["lin", [float(v) for v in a], 0.0],
            ["*", ["c", float(b)], ["x", i], ["x", j], ["x", k]],
            ["*", ["c", float(c)], ["tanh", ["x", k]]]]
    return Formula(expr, f"a fresh non-linear model of {p} features"), dummy


def _q1_fresh(rng: np.random.Generator):
    """A fresh case on which every catalogued mistake gives other values (bounded redraws)."""

    def draw(g: np.random.Generator):
        p = int(g.integers(4, 6))
        model, dummy = _random_model(g, p)
        m = int(g.integers(3, 9))
        bg = g.normal(0, 1.5, (m, p))
        w = g.integers(1, 41, m).astype(float)
        return model, dummy, g.normal(0, 1.5, p), bg, w

    def outcomes(case):
        model, _, x, bg, w = case
        if np.ptp(w) < 5:
            return None  # near-equal weights: weighting mistakes would hardly show
        return _shapley(model, x, bg, w), _q1_mistakes(model, x, bg, w)

    return draw_separating(draw, outcomes, rng, separated=_apart, tries=50)


@key_for(m08.q1)
class ExactShapley(Question):
    tolerance = {"rtol": 1e-6, "atol": 1e-6}

    def references(self):
        return {"exact_shapley": lambda f, x, background, weights: _shapley(
            f, np.asarray(x, dtype=float), np.asarray(background, dtype=float),
            np.asarray(weights, dtype=float))}

    def verify(self, exact_shapley):
        for f, text, x, bg, w, dummy, pair in _Q1_CASES:
            where = (f"For {text}, x = {_lst(x)} and a {bg.shape[0]}-row background with weights "
                     f"{_lst(w)}")
            got = _q1_value(exact_shapley, f, x, bg, w)
            _q1_diagnose(got, f, x, bg, w, where, tol=1e-6, dummy=dummy, pair=pair)

    def verify_hidden(self, seed, exact_shapley):
        rng = np.random.default_rng(seed)
        for _ in range(3):
            model, dummy, x, bg, w = _q1_fresh(rng)
            where = (f"On a fresh non-linear model with p={x.size} features and a "
                     f"{bg.shape[0]}-row weighted background")
            got = _q1_value(exact_shapley, model, x, bg, w)
            _q1_diagnose(got, model, x, bg, w, where, tol=1e-8, dummy=dummy)


# =================================================================================================
# q2: linear SHAP of a standardised logistic pipeline, in log-odds
# =================================================================================================
def _pipe(X_train: np.ndarray, y_train: np.ndarray):
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    return wire.fitted([(StandardScaler, {}), (LogisticRegression, {})], X_train, y_train)


def _linear_shap(model, X, background) -> tuple[np.ndarray, float]:
    scaler, lr = model[0], model[-1]
    X, bg = np.asarray(X, dtype=float), np.asarray(background, dtype=float)
    slope = lr.coef_[0] / scaler.scale_
    mean_bg = bg.mean(axis=0)
    base = float(lr.intercept_[0] + ((mean_bg - scaler.mean_) / scaler.scale_) @ lr.coef_[0])
    return slope * (X - mean_bg), base


def _q2_mistakes(model, X, bg) -> dict[str, np.ndarray]:
    scaler, lr = model[0], model[-1]
    coef, mu, sd = lr.coef_[0], scaler.mean_, scaler.scale_
    mean_bg = bg.mean(axis=0)
    return {
        "raw_coef": coef * (X - mean_bg),
        "training_mean": coef * (X - mu) / sd,
        "not_centred": coef / sd * X,
        "explained_rows": coef / sd * (X - X.mean(axis=0)),
        "sign": coef / sd * (mean_bg - X),
    }


def _q2_base_mistakes(model, X, bg) -> dict[str, float]:
    lr = model[-1]
    return {
        "intercept": float(lr.intercept_[0]),
        "probability": float(model.predict_proba(bg)[:, 1].mean()),
        "explained_rows": float(model.decision_function(X).mean()),
        "sigmoid": float(_sigmoid(model.decision_function(bg).mean())),
    }


_Q2_DESIGN = (
    # training rows (raw units: a length in cm, a mass in kg, a count), labels, background, X
    np.array([[12.0, 310.0, 2.0], [15.5, 280.0, 0.0], [9.0, 420.0, 5.0], [14.0, 350.0, 1.0],
              [11.0, 300.0, 3.0], [16.5, 260.0, 0.0], [8.5, 440.0, 6.0], [13.0, 330.0, 2.0],
              [10.0, 390.0, 4.0], [17.0, 250.0, 1.0], [12.5, 370.0, 3.0], [9.5, 300.0, 2.0]]),
    np.array([1, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 0]),
    np.array([[10.0, 400.0, 4.0], [9.0, 380.0, 5.0], [11.5, 410.0, 3.0], [8.0, 450.0, 6.0],
              [10.5, 360.0, 4.0]]),
    np.array([[14.0, 300.0, 1.0], [9.5, 430.0, 5.0], [12.0, 340.0, 2.0], [16.0, 270.0, 0.0]]),
)


@functools.lru_cache(maxsize=1)
def _q2_design_model():
    X_train, y_train, _, _ = _Q2_DESIGN
    return _pipe(X_train, y_train)


def _q2_values(func, model, X, bg) -> tuple[np.ndarray, float]:
    got = call(func, "linear_shap", model, X.copy(), bg.copy())
    if type(got) not in (tuple, list) or len(got) != 2:
        raise Incorrect(
            f"`linear_shap` should return a tuple `(phi, base_value)`, but it returned {show(got)}.")
    phi = as_array(got[0], "linear_shap(...)[0] (phi)")
    base = as_float(got[1], "linear_shap(...)[1] (base_value)")
    return phi, base


def _q2_diagnose(phi, base, model, X, bg, where: str, *, tol: float) -> None:
    n, p = X.shape
    said = f"{where}, `linear_shap` returned phi = {show(phi)}"
    if phi.shape == (p, n):
        raise Incorrect(f"{said}: phi is transposed. It should have one row per explained row, "
                        f"shape ({n}, {p}).")
    if phi.shape != (n, p):
        raise Incorrect(f"{said}: phi should have shape ({n}, {p}), one row per row of X.")
    ref, ref_base = _linear_shap(model, X, bg)
    if not allclose(phi, ref, rtol=tol, atol=tol):
        wrong = _q2_mistakes(model, X, bg)
        same = lambda k: allclose(phi, wrong[k], rtol=tol, atol=tol)  # noqa: E731
        if same("raw_coef"):
            raise Incorrect(
                f"{said}: you multiplied raw-unit differences by the coefficients of the "
                "*standardised* features. The logistic step sees (x_j - mean_j) / scale_j, so the "
                "slope of the log-odds in raw feature j is coef_j / scale_j.")
        if same("training_mean"):
            raise Incorrect(
                f"{said}: these are coefficients times standardised values, centred on the "
                "*training* mean the scaler stored. SHAP values are relative to the background: "
                "centre each feature on its background mean.")
        if same("not_centred"):
            raise Incorrect(f"{said}: phi is not centred. Each share is slope_j * (x_j - "
                            "background mean of feature j).")
        if same("explained_rows"):
            raise Incorrect(f"{said}: you centred on the mean of the explained rows X. Centre on "
                            "the mean of the background, the reference the explanation is "
                            "relative to.")
        if same("sign"):
            raise Incorrect(f"{said}: the sign is flipped; each share is slope_j * "
                            "(x_j - background mean_j).")
        raise Incorrect(f"{said}; these are not the log-odds SHAP values of the pipeline.")
    if close(base, ref_base, rtol=tol, atol=tol):
        return
    said = f"{where}, `linear_shap` returned the right phi but base_value = {base:.6g}"
    wrong = _q2_base_mistakes(model, X, bg)
    if close(base, wrong["intercept"], rtol=tol, atol=tol):
        raise Incorrect(
            f"{said}, the intercept. The intercept is the log-odds at the *training* mean (where "
            "every standardised feature is 0); the base value is the mean log-odds over the "
            "background.")
    if close(base, wrong["probability"], rtol=tol, atol=tol) or close(
            base, wrong["sigmoid"], rtol=tol, atol=tol):
        raise Incorrect(
            f"{said}, a probability. phi is in log-odds, so the base value must be too: the "
            "mean of the decision function over the background rows.")
    if close(base, wrong["explained_rows"], rtol=tol, atol=tol):
        raise Incorrect(f"{said}, the mean log-odds over the explained rows X. The base value "
                        "is the mean over the background.")
    raise Incorrect(f"{said}, which is not the mean log-odds over the background.")


def _q2_fresh(rng: np.random.Generator):
    def draw(g: np.random.Generator):
        p, n_train = int(g.integers(2, 6)), int(g.integers(60, 160))
        n = int(g.integers(2, 9))
        if n == p:
            n += 1
        centre = g.normal(0, 20, p)
        scale = 10.0 ** g.uniform(-1, 2, p)
        X_train = centre + scale * g.normal(0, 1, (n_train, p))
        beta = g.normal(0, 1.2, p)
        z = ((X_train - centre) / scale) @ beta
        y = (g.random(n_train) < _sigmoid(z)).astype(int)
        y[:2] = (0, 1)
        shift = g.normal(0, 0.8, p) * scale  # the background is another group of rows
        bg = centre + shift + scale * g.normal(0, 1, (int(g.integers(5, 30)), p))
        X = centre + scale * g.normal(0, 1.2, (n, p))
        return _pipe(X_train, y), X, bg, n, p, bg.shape[0]

    def outcomes(case):
        # a result is the pair (SHAP values, base value); each mistake gets one part wrong
        model, X, bg = case[:3]
        ref, base = _linear_shap(model, X, bg)
        wrong = [(v, base) for v in _q2_mistakes(model, X, bg).values()]
        wrong += [(ref, v) for v in _q2_base_mistakes(model, X, bg).values()]
        return (ref, base), wrong

    return draw_separating(draw, outcomes, rng, tries=50,
                           separated=lambda r, w: _apart(r[0], w[0]) or _apart(r[1], w[1]))


@key_for(m08.q2)
class LinearShap(Question):
    tolerance = {"rtol": 1e-6, "atol": 1e-6}

    def references(self):
        return {"linear_shap": _linear_shap}

    def verify(self, linear_shap):
        _, _, bg, X = _Q2_DESIGN
        model = _q2_design_model()
        where = "For the 3-feature pipeline of the check (12 training rows), 4 rows and a 5-row " \
                "background"
        phi, base = _q2_values(linear_shap, model, X, bg)
        _q2_diagnose(phi, base, model, X, bg, where, tol=1e-6)

    def verify_hidden(self, seed, linear_shap):
        rng = np.random.default_rng(seed)
        for _ in range(3):
            model, X, bg, n, p, m = _q2_fresh(rng)
            phi, base = _q2_values(linear_shap, model, X, bg)
            where = (f"On a fresh standardised logistic pipeline (p={p}) with {n} rows to explain "
                     f"and a {m}-row background")
            _q2_diagnose(phi, base, model, X, bg, where, tol=1e-8)


# =================================================================================================
# q3: one row, one class of three, from the (n, features, classes) array
# =================================================================================================
_CLASS = 1


def _q3_check(phi_class1, base_class1, tol: float) -> None:
    d = _wine()
    p = d.p
    if type(phi_class1) is np.ndarray and phi_class1.shape == (p, 3):
        raise Incorrect(
            f"`phi_class1` has shape ({p}, 3): this is the legacy `shap_values[1]` idiom. Since "
            "shap 0.45, classifier SHAP values are (rows, features, classes); `[1]` selects the "
            "second *sample* (all its features, all classes), not class 1.")
    phi = as_array(phi_class1, "phi_class1")
    if phi.shape == d.values.shape:
        raise Incorrect(f"`phi_class1` has shape {phi.shape}: the whole array. Select one row, "
                        "all features and one class.")
    if phi.shape != (p,):
        raise Incorrect(f"`phi_class1` has shape {phi.shape}; it should hold one value per "
                        f"feature, shape ({p},).")
    v = d.values
    said = f"`phi_class1` = {show(phi)}"
    if not allclose(phi, v[ROW, :, _CLASS], rtol=tol, atol=tol):
        for k in (0, 2):
            if allclose(phi, v[ROW, :, k], rtol=tol, atol=tol):
                raise Incorrect(f"{said} is for the class at position {k}, not for class 1: the "
                                "last axis follows `rf.classes_`.")
        for i in range(v.shape[0]):
            for k in range(3):
                if i != ROW and allclose(phi, v[i, :, k], rtol=tol, atol=tol):
                    raise Incorrect(
                        f"{said} is row {i} (class {k}) of the SHAP array, not row ROW = {ROW}. "
                        "Since shap 0.45 the first index is the *sample*: `shap_values[1]` "
                        "selects sample 1, not class 1.")
        raise Incorrect(f"{said}: these are not the SHAP values of row ROW for class 1.")
    base = as_float(base_class1, "base_class1")
    if close(base, float(d.base[_CLASS]), rtol=tol, atol=tol):
        return
    said = f"`base_class1` = {base:.6g}"
    for k in (0, 2):
        if close(base, float(d.base[k]), rtol=tol, atol=tol):
            raise Incorrect(f"{said} is the base value of another class; the base values follow "
                            "`rf.classes_` too.")
    for shares in d.label_shares:
        if any(close(base, float(s), atol=1e-9) for s in shares):
            raise Incorrect(
                f"{said} is a share of labels: a mean(y). The base value is the mean *model "
                "output* on the background rows, E[f(X)], not the rate of the labels.")
    if close(base, float(d.mean_row[_CLASS]), rtol=tol, atol=tol):
        raise Incorrect(
            f"{said} is the forest's output at the mean row of the background, f(mean x). The "
            "base value is the mean of the outputs, E[f(x)], and for a forest the two differ.")
    if close(base, float(d.proba[ROW, _CLASS]), rtol=tol, atol=tol):
        raise Incorrect(f"{said} is the prediction for row ROW itself, f(x). The base value is "
                        "where the explanation starts: the mean output over the background.")
    raise Incorrect(f"{said} is not the class-1 base value of the explainer.")


@key_for(m08.q3)
class ClassShap(Question):
    tolerance = {"rtol": 1e-6, "atol": 1e-6}

    def references(self):
        d = _wine()
        return {"phi_class1": d.values[ROW, :, _CLASS].copy(),
                "base_class1": float(d.base[_CLASS])}

    def verify_graded(self, seed, **values):
        self.verify(**values)  # variables: no fresh inputs to draw

    def verify(self, phi_class1, base_class1):
        _q3_check(phi_class1, base_class1, tol=1e-6)

    def verify_hidden(self, seed, phi_class1, base_class1):
        _q3_check(phi_class1, base_class1, tol=1e-6)
        d = _wine()
        phi, base = as_array(phi_class1, "phi_class1"), as_float(base_class1, "base_class1")
        total = float(np.sum(phi)) + base
        if not close(total, float(d.proba[ROW, _CLASS]), atol=1e-6):
            raise Incorrect(f"`phi_class1.sum() + base_class1` = {total:.8g} does not reproduce "
                            "the forest's predicted probability of class 1 for row ROW.")
        if not (allclose(phi, d.values[ROW, :, _CLASS], rtol=1e-9, atol=1e-9)
                and close(base, float(d.base[_CLASS]), rtol=1e-12, atol=1e-9)):
            raise Incorrect("`phi_class1` or `base_class1` is close to the right value but not "
                            "equal to it. Take both from the explainer in code; do not round.")


# =================================================================================================
# q4: log-odds SHAP values to a probability
# =================================================================================================
_Q4_CASES = ((-0.4, [1.2, -0.3, 0.8, -0.1]), (1.1, [-2.0, 0.25, -0.6]))


def _q4_mistakes(base: float, phi: np.ndarray) -> dict[str, float]:
    z = base + float(np.sum(phi))
    return {
        "logodds": z,
        "no_base": float(_sigmoid(np.sum(phi))),
        "other_class": float(1.0 - _sigmoid(z)),
        "odds": float(np.exp(z)),
        "mixed": float(_sigmoid(base)) + float(np.sum(phi)),
        "each_term": float(np.sum(_sigmoid(phi))) + float(_sigmoid(base)),
    }


def _q4_diagnose(got: float, base: float, phi: np.ndarray, where: str, *, tol: float) -> None:
    ref = float(_sigmoid(base + float(np.sum(phi))))
    if close(got, ref, rtol=tol, atol=tol):
        return
    said = f"{where}, `logodds_to_proba` returned {got:.6g}"
    wrong = _q4_mistakes(base, phi)
    same = lambda k: close(got, wrong[k], rtol=tol, atol=tol)  # noqa: E731
    if same("logodds"):
        raise Incorrect(f"{said}: that is base + sum(phi), still in log-odds. Apply the logistic "
                        "function 1 / (1 + exp(-z)) to the total.")
    if same("no_base"):
        raise Incorrect(f"{said}: the base value is missing. The log-odds are base_value + "
                        "sum(phi).")
    if same("other_class"):
        raise Incorrect(f"{said}: that is the probability of the other class; the logistic "
                        "function is 1 / (1 + exp(-z)), with a minus sign.")
    if same("odds"):
        raise Incorrect(f"{said}: exp(z) gives the odds, not the probability: p = odds / "
                        "(1 + odds).")
    if same("mixed"):
        raise Incorrect(f"{said}: you added log-odds SHAP values to a probability. Add in "
                        "log-odds, then convert the sum.")
    if same("each_term"):
        raise Incorrect(f"{said}: the logistic function was applied to each term. It is not "
                        "additive: add the log-odds first, then convert the sum once.")
    raise Incorrect(f"{said}, which is not the probability that base_value + sum(phi) log-odds "
                    "give.")


@key_for(m08.q4)
class LogOddsToProba(Question):
    def references(self):
        return {"logodds_to_proba": lambda base_value, phi: float(_sigmoid(
                    float(base_value) + float(np.sum(phi)))),
                "p_approved": _tenancy().p_ref}

    def verify_graded(self, seed, logodds_to_proba, p_approved):
        # The designed cases, then fresh inputs; the variable keeps the visible tolerance.
        self.verify(logodds_to_proba=logodds_to_proba, p_approved=p_approved)
        self._fresh(seed, logodds_to_proba)

    def verify(self, logodds_to_proba, p_approved):
        for base, phi in _Q4_CASES:
            phi = np.array(phi)
            where = f"For base_value = {base} and phi = {_lst(phi)}"
            got = as_float(call(logodds_to_proba, "logodds_to_proba", base, phi.copy()),
                           "logodds_to_proba(...)")
            _q4_diagnose(got, base, phi, where, tol=1e-9)
        self._check_value(p_approved, tol=1e-6)

    def verify_hidden(self, seed, logodds_to_proba, p_approved):
        self._fresh(seed, logodds_to_proba)
        self._check_value(p_approved, tol=1e-7)

    @staticmethod
    def _fresh(seed, logodds_to_proba):
        rng = np.random.default_rng(seed)

        def draw(g: np.random.Generator):
            p = int(g.integers(2, 15))
            return float(g.normal(0, 1.5)), g.normal(0, 0.8, p)

        def outcomes(case):
            base, phi = case
            return float(_sigmoid(base + float(np.sum(phi)))), _q4_mistakes(base, phi)

        for _ in range(5):
            base, phi = draw_separating(draw, outcomes, rng, separated=_apart, tries=60)
            where = f"On fresh inputs (base_value = {base:.4g}, {phi.size} SHAP values)"
            got = as_float(call(logodds_to_proba, "logodds_to_proba", base, phi.copy()),
                           "logodds_to_proba(...)")
            _q4_diagnose(got, base, phi, where, tol=1e-12)

    @staticmethod
    def _check_value(p_approved, tol: float) -> None:
        d = _tenancy()
        p = as_float(p_approved, "p_approved")
        if close(p, d.p_ref, rtol=tol, atol=tol):
            return
        said = f"`p_approved` = {p:.6g}"
        if close(p, float(d.margin[ROW]), rtol=1e-6, atol=1e-6) or close(
                p, d.base + float(d.values[ROW].sum()), rtol=1e-6, atol=1e-6):
            raise Incorrect(f"{said} is in log-odds (the decision function). Convert it to a "
                            "probability.")
        if close(p, float(d.proba[ROW, 0]), rtol=1e-6, atol=1e-6):
            raise Incorrect(f"{said} is the probability of class 0 (refused); the question asks "
                            "for approval, class 1.")
        if not 0.0 <= p <= 1.0:
            raise Incorrect(f"{said}, but a probability lies between 0 and 1.")
        if close(p, float(d.proba[ROW, 1]), rtol=1e-5, atol=1e-6):
            raise Incorrect(f"{said} is close but not equal to the probability the SHAP values "
                            "add up to: compute it from gb_base and the row's SHAP values.")
        raise Incorrect(f"{said} is not the boosting model's probability of approval for row "
                        "ROW.")


# =================================================================================================
# q5: global importance, the noise floor and what stands above it
# =================================================================================================
_Q5_CASE = (
    np.array([[0.5, -2.0, 0.1], [-1.5, 1.0, 0.3], [2.0, -0.5, -0.2], [-0.4, 3.0, 0.0],
              [1.0, -1.5, -0.6]]),
    ["width", "area", "colour"],
)


def _q5_series(func, values: np.ndarray, names, where: str) -> tuple[list[str], np.ndarray]:
    got = call(func, "mean_abs_shap", values.copy(), list(names))
    if type(got) is not pd.Series:
        raise Incorrect(f"{where}, `mean_abs_shap` returned a {type(got).__name__}: {show(got)}; "
                        "it should be a pandas Series indexed by feature name.")
    vals = as_array(got, "mean_abs_shap(...)")
    n, p = values.shape
    if vals.shape == (n,) and n != p:
        raise Incorrect(f"{where}, `mean_abs_shap` returned {_lst(vals)}: one value per *row*. "
                        "Average over the rows (axis=0), one value per feature.")
    index = [as_str(k, "an index label of mean_abs_shap(...)") for k in list(got.index)]
    return index, vals


def _q5_diagnose(index, vals, values: np.ndarray, names, where: str, *, tol: float) -> None:
    p = values.shape[1]
    said = f"{where}, `mean_abs_shap` returned {_lst(vals)}"
    if vals.shape != (p,) or sorted(index) != sorted(names):
        raise Incorrect(f"{said} with index {index}; it should have one entry per feature, "
                        "indexed by the names.")
    by_name = dict(zip(index, vals, strict=True))
    got = np.array([by_name[k] for k in names])
    ref = np.abs(values).mean(axis=0)
    if not allclose(got, ref, rtol=tol, atol=tol):
        if allclose(got, values.mean(axis=0), rtol=tol, atol=tol):
            raise Incorrect(
                f"{said}: the mean of the signed SHAP values. Positive and negative effects "
                "cancel, so a strong feature can average to about 0: take absolute values before "
                "averaging.")
        if allclose(got, np.abs(values.mean(axis=0)), rtol=tol, atol=tol):
            raise Incorrect(f"{said}: the absolute value of the mean. Take absolute values "
                            "before averaging, not after.")
        if allclose(got, np.abs(values).sum(axis=0), rtol=tol, atol=tol):
            raise Incorrect(f"{said}: the sum over rows. Use the mean, so the scale does not "
                            "depend on n.")
        if allclose(got, (values**2).mean(axis=0), rtol=tol, atol=tol) or allclose(
                got, np.sqrt((values**2).mean(axis=0)), rtol=tol, atol=tol):
            raise Incorrect(f"{said}: squared values. The usual global importance is the mean "
                            "of |SHAP|.")
        raise Incorrect(f"{said}; these are not the mean absolute SHAP values per feature.")
    if any(vals[i] < vals[i + 1] for i in range(p - 1)):
        order = "ascending" if all(vals[i] <= vals[i + 1] for i in range(p - 1)) else "unsorted"
        raise Incorrect(f"{said} with index {index}: the values are right but {order}. Sort the "
                        "Series in descending order (most important first).")


def _crop_importance() -> tuple[pd.Series, float, list[str]]:
    d = _crop()
    imp = pd.Series(np.abs(d.values).mean(axis=0), index=list(d.names)).sort_values(
        ascending=False)
    floor = float(imp[list(NOISE_FEATURES)].max())
    return imp, floor, [k for k in imp.index if imp[k] > floor]


def _q5_values(important, noise_floor, tol: float) -> None:
    d = _crop()
    imp, ref_floor, ref = _crop_importance()
    if type(important) not in (list, tuple):
        raise Incorrect(f"`important` should be a list of feature names, but it is a "
                        f"{type(important).__name__}: {show(important)}.")
    names = [as_str(v, "an item of important") for v in important]
    floor = as_float(noise_floor, "noise_floor")
    noise = [d.names.index(k) for k in NOISE_FEATURES]
    absimp = np.abs(d.values).mean(axis=0)
    if not close(floor, ref_floor, rtol=tol, atol=tol):
        said = f"`noise_floor` = {floor:.6g}"
        signed = d.values[:, noise].mean(axis=0)
        if close(floor, float(signed.max()), rtol=1e-6, atol=1e-9) or close(
                floor, float(np.abs(signed).max()), rtol=1e-6, atol=1e-9):
            raise Incorrect(f"{said} comes from the signed mean SHAP values; take absolute values "
                            "before averaging.")
        if close(floor, float(absimp[noise].min()), rtol=1e-6, atol=1e-9) or close(
                floor, float(absimp[noise].mean()), rtol=1e-6, atol=1e-9):
            raise Incorrect(f"{said} is not the largest mean |SHAP| among the noise features. "
                            "The floor is the largest: a real feature must stand above all of "
                            "them.")
        raise Incorrect(f"{said} is not the largest mean |SHAP| among the columns the yield "
                        "ignores.")
    if names == ref:
        return
    said = f"`important` = {names}"
    if set(names) == set(ref):
        raise Incorrect(f"{said} has the right features in the wrong order: list them from the "
                        "most important down.")
    if any(k in NOISE_FEATURES for k in names):
        raise Incorrect(f"{said} includes a column the yield does not depend on; report only "
                        "features whose mean |SHAP| is above the noise floor.")
    if set(names) > set(ref):
        below = sorted(set(names) - set(ref))
        raise Incorrect(
            f"{said} includes {below}, whose mean |SHAP| on these rows does not stand above the "
            "noise floor. A real but weak effect that the model cannot tell from noise at this "
            "sample size should not be reported as important.")
    raise Incorrect(f"{said} is not the list of features whose mean |SHAP| is above the noise "
                    "floor, most important first.")


def _mean_abs_shap(values, feature_names) -> pd.Series:
    importance = np.abs(np.asarray(values, dtype=float)).mean(axis=0)
    return pd.Series(importance, index=list(feature_names)).sort_values(ascending=False)


@key_for(m08.q5)
class GlobalImportance(Question):
    ordered = ("mean_abs_shap",)  # a ranking: the offline check compares its labels in order

    def references(self):
        _, floor, important = _crop_importance()
        return {"mean_abs_shap": _mean_abs_shap, "important": important, "noise_floor": floor}

    def verify_graded(self, seed, mean_abs_shap, important, noise_floor):
        # The designed case, then fresh arrays; the variables keep the visible tolerance.
        self.verify(mean_abs_shap=mean_abs_shap, important=important, noise_floor=noise_floor)
        self._fresh(seed, mean_abs_shap)

    def verify(self, mean_abs_shap, important, noise_floor):
        values, names = _Q5_CASE
        where = f"For a 5 x 3 array of SHAP values with names {names}"
        index, vals = _q5_series(mean_abs_shap, values, names, where)
        _q5_diagnose(index, vals, values, names, where, tol=1e-9)
        _q5_values(important, noise_floor, tol=1e-6)

    def verify_hidden(self, seed, mean_abs_shap, important, noise_floor):
        self._fresh(seed, mean_abs_shap)
        _q5_values(important, noise_floor, tol=1e-9)

    @staticmethod
    def _fresh(seed, mean_abs_shap):
        rng = np.random.default_rng(seed)

        def draw(g: np.random.Generator):
            n, p = int(g.integers(5, 40)), int(g.integers(3, 9))
            if n == p:
                n += 1
            # signed means well away from 0 on some features, so |mean| differs from mean |.|
            return g.normal(g.normal(0, 1, p), g.uniform(0.1, 3, p), (n, p))

        def outcomes(values):
            ref = np.abs(values).mean(axis=0)
            if np.min(np.abs(np.diff(np.sort(ref)))) < 1e-3:
                return None  # a near tie: the ranking would be ambiguous
            return ref, [values.mean(axis=0), np.abs(values.mean(axis=0)),
                         np.abs(values).sum(axis=0), (values**2).mean(axis=0),
                         np.sqrt((values**2).mean(axis=0))]

        for _ in range(3):
            values = draw_separating(draw, outcomes, rng, separated=_apart, tries=60)
            n, p = values.shape
            names = [f"feat_{c}" for c in rng.permutation(list("abcdefghij"))[:p]]
            where = f"On a fresh {n} x {p} array of SHAP values"
            index, vals = _q5_series(mean_abs_shap, values, names, where)
            _q5_diagnose(index, vals, values, names, where, tol=1e-12)


# =================================================================================================
# q6: observational (conditional) Shapley values, and which value function answers which question
# =================================================================================================
def _conditional(f, x, data, *, mode="conditional", weight="shapley", skip_empty=False):
    """Observational Shapley values: v(S) = mean of f over the rows of ``data`` that agree with
    ``x`` on S (the reference), and through the keywords the catalogued mistakes."""
    x, data = np.asarray(x, dtype=float), np.asarray(data, dtype=float)
    p = x.size

    memo: dict[frozenset, float] = {}

    def v(subset) -> float:
        key = frozenset(subset)
        if key not in memo:
            memo[key] = value(list(subset))
        return memo[key]

    def value(s: list) -> float:
        if mode == "interventional":
            z = data.copy()
            z[:, s] = x[s]
            return float(np.mean(f(z)))
        match = np.all(data[:, s] == x[s], axis=1) if s else np.ones(len(data), bool)
        rows = data[match]
        if mode == "mean_row":
            return float(f(rows.mean(axis=0, keepdims=True))[0])
        return float(np.mean(f(rows)))

    phi = np.zeros(p)
    for j in range(p):
        others = [k for k in range(p) if k != j]
        for size in range(p):
            if skip_empty and size == 0:
                continue
            if weight == "shapley":
                c = math.factorial(size) * math.factorial(p - size - 1) / math.factorial(p)
            else:  # off by one
                c = math.factorial(size) * math.factorial(p - size) / math.factorial(p)
            for s in itertools.combinations(others, size):
                phi[j] += c * (v(s + (j,)) - v(s))
    return phi


def _q6_mistakes(f, x, data) -> dict[str, np.ndarray]:
    return {
        "interventional": _conditional(f, x, data, mode="interventional"),
        "mean_row": _conditional(f, x, data, mode="mean_row"),
        "off_by_one": _conditional(f, x, data, weight="off_by_one"),
        "skip_empty": _conditional(f, x, data, skip_empty=True),
        "sign": -_conditional(f, x, data),
    }


#: f(X) = 2*x0 + x1*x2 - x0*x2 (on integer bands)
_toy_f6 = Formula(
    ["+", ["*", ["c", 2.0], ["x", 0]], ["*", ["x", 1], ["x", 2]],
     ["*", ["c", -1.0], ["x", 0], ["x", 2]]],
    "f(X) = 2*x0 + x1*x2 - x0*x2",
)
_Q6_DATA = np.array([[0, 0, 1], [0, 0, 2], [0, 1, 0], [1, 1, 1], [1, 1, 2], [1, 0, 0], [2, 2, 1],
                     [2, 2, 0], [2, 1, 2], [1, 1, 0], [0, 0, 0], [2, 2, 2]], dtype=float)
_Q6_X = _Q6_DATA[4].copy()


def _q6_value(func, f, x, data) -> np.ndarray:
    return as_array(call(func, "conditional_shapley", f, x.copy(), data.copy()),
                    "conditional_shapley(...)")


def _q6_diagnose(got, f, x, data, where: str, *, tol: float) -> None:
    p = x.size
    said = f"{where}, `conditional_shapley` returned {_lst(got)}"
    if got.shape != (p,):
        raise Incorrect(f"{said}, an array of shape {got.shape}; it should hold one value per "
                        f"feature, shape ({p},).")
    ref = _conditional(f, x, data)
    if allclose(got, ref, rtol=tol, atol=tol):
        return
    wrong = _q6_mistakes(f, x, data)
    same = lambda k: allclose(got, wrong[k], rtol=tol, atol=tol)  # noqa: E731
    if same("interventional"):
        raise Incorrect(
            f"{said}: these are the *interventional* values (x's values pasted into every row, "
            "true to the model). The observational value function averages f only over the rows "
            "that agree with x on the features in S, so it keeps how the features go together.")
    if same("mean_row"):
        raise Incorrect(
            f"{said}: f is applied to the mean of the matching rows. v(S) is the mean of f over "
            "those rows, and for a non-linear model the two differ.")
    if same("off_by_one"):
        raise Incorrect(f"{said}: your values don't add up to f(x) - base value: the Shapley "
                        "weights are off by one; |S|! (p - |S| - 1)! / p!.")
    if same("skip_empty"):
        raise Incorrect(f"{said}: the empty coalition is missing, so your values don't add up. "
                        "v(empty set) is the mean of f over all rows.")
    if same("sign"):
        raise Incorrect(f"{said}: the signs are flipped; a marginal contribution is "
                        "v(S with j) - v(S).")
    fx, base = float(f(x[None, :].copy())[0]), float(np.mean(f(data.copy())))
    if not close(float(np.sum(got)), fx - base, rtol=tol, atol=tol):
        raise Incorrect(f"{said}, which sums to {float(np.sum(got)):.6g}: your values don't add "
                        "up to f(x) - mean of f over the data (efficiency).")
    raise Incorrect(f"{said}; these are not the observational Shapley values.")


def _random_bands(rng: np.random.Generator):
    """Fresh integer-coded data with two correlated columns, a non-linear model and a row x,
    on which every catalogued mistake gives other values (bounded redraws)."""

    def draw(g: np.random.Generator):
        p, n = int(g.integers(3, 5)), int(g.integers(20, 60))
        data = g.integers(0, 3, (n, p)).astype(float)
        copy = g.random(n) < 0.7
        data[copy, 1] = data[copy, 0]  # column 1 follows column 0 for most rows
        a = g.normal(0, 2, p)
        i, j = (int(v) for v in g.permutation(p)[:2])
        expr = ["+", ["lin", [float(v) for v in a], 0.0],
                ["*", ["c", float(g.uniform(0.5, 2) * g.choice([-1, 1]))], ["x", i],
                 ["x", j]]]
        model = Formula(expr, f"a fresh model of {p} banded features")
        return model, data[int(g.integers(0, n))].copy(), data

    def outcomes(case):
        return _conditional(*case), _q6_mistakes(*case)

    return draw_separating(draw, outcomes, rng, separated=_apart, tries=50)


@functools.lru_cache(maxsize=1)
def _bands() -> SimpleNamespace:
    """The notebook's applicant population and credit score (q6's two numbers)."""
    from grader.datasets import make_applicant_bands

    data = make_applicant_bands(n=400, seed=8).to_numpy(dtype=float)
    x = data[APPLICANT].copy()

    def score(X):
        X = np.atleast_2d(np.asarray(X, dtype=float))
        return 1.2 * X[:, 0] + 0.3 * X[:, 1] + 0.6 * X[:, 2] - 2.0 * X[:, 3] + 0.4 * X[:, 0] * X[:, 2]

    inter = _shapley(score, x, data, np.ones(len(data)))
    cond = _conditional(score, x, data)
    return SimpleNamespace(data=data, x=x, score=score, inter=inter, cond=cond,
                           mean_row=_shapley(score, x, data, np.ones(len(data)), mode="mean_row"))


#: The column of the postcode band in the applicant table.
_POSTCODE = 1


def _q6_values(postcode_regulator, postcode_population, tol: float) -> None:
    d = _bands()
    reg = as_float(postcode_regulator, "postcode_regulator")
    pop = as_float(postcode_population, "postcode_population")
    inter, cond = float(d.inter[_POSTCODE]), float(d.cond[_POSTCODE])
    ok_reg, ok_pop = close(reg, inter, rtol=tol, atol=tol), close(pop, cond, rtol=tol, atol=tol)
    if ok_reg and ok_pop:
        return
    # Each variable is diagnosed on its own (the offline check looks each one up alone), so the
    # swapped answers get the regulator's message.
    if not ok_reg:
        said = f"`postcode_regulator` = {reg:.6g}"
        if close(reg, cond, rtol=tol, atol=tol):
            raise Incorrect(
                f"{said} comes from the observational value function, which credits the postcode "
                "band with part of the income effect it goes with. The regulator asks what the "
                "formula does with the band: hold the data's dependence out of it.")
        if close(reg, float(d.mean_row[_POSTCODE]), rtol=tol, atol=tol):
            raise Incorrect(f"{said} uses the mean applicant as the reference; average the score "
                            "over the population's rows instead.")
        raise Incorrect(f"{said} is not the postcode band's share for the regulator's question.")
    said = f"`postcode_population` = {pop:.6g}"
    if close(pop, inter, rtol=tol, atol=tol):
        raise Incorrect(
            f"{said} comes from the interventional value function, which pastes the band into "
            "every row whatever its income band. The population question is about what the band "
            "tells in this population, where it goes with income.")
    raise Incorrect(f"{said} is not the postcode band's share for the population question.")


@key_for(m08.q6)
class ConditionalShapley(Question):
    tolerance = {"rtol": 1e-6, "atol": 1e-6}

    def references(self):
        d = _bands()
        return {"conditional_shapley": lambda f, x, data: _conditional(f, x, data),
                "postcode_regulator": float(d.inter[_POSTCODE]),
                "postcode_population": float(d.cond[_POSTCODE])}

    def verify_graded(self, seed, conditional_shapley, postcode_regulator, postcode_population):
        self.verify(conditional_shapley=conditional_shapley,
                    postcode_regulator=postcode_regulator,
                    postcode_population=postcode_population)
        self._fresh(seed, conditional_shapley)

    def verify(self, conditional_shapley, postcode_regulator, postcode_population):
        where = f"For {_toy_f6.text}, x = {_lst(_Q6_X)} and a 12-row table of bands"
        got = _q6_value(conditional_shapley, _toy_f6, _Q6_X, _Q6_DATA)
        _q6_diagnose(got, _toy_f6, _Q6_X, _Q6_DATA, where, tol=1e-6)
        _q6_values(postcode_regulator, postcode_population, tol=1e-6)

    def verify_hidden(self, seed, conditional_shapley, postcode_regulator, postcode_population):
        self._fresh(seed, conditional_shapley)
        _q6_values(postcode_regulator, postcode_population, tol=1e-9)

    @staticmethod
    def _fresh(seed, conditional_shapley):
        rng = np.random.default_rng(seed)
        for _ in range(3):
            model, x, data = _random_bands(rng)
            where = (f"On a fresh model of {x.size} banded features and a {len(data)}-row table "
                     "(columns 0 and 1 correlated)")
            got = _q6_value(conditional_shapley, model, x, data)
            _q6_diagnose(got, model, x, data, where, tol=1e-8)


# =================================================================================================
# q7: global importance of a one-hot encoded categorical
# =================================================================================================
def _dummies(columns, prefix) -> list[int]:
    return [i for i, c in enumerate(columns) if str(c).startswith(prefix + "_")]


def _q7_mistakes(values, columns, prefix) -> dict[str, float]:
    d = values[:, _dummies(columns, prefix)]
    loose = [i for i, c in enumerate(columns) if str(c).startswith(prefix)]
    return {
        "abs_first": float(np.abs(d).mean(axis=0).sum()),
        "signed": float(d.sum(axis=1).mean()),
        "abs_of_mean": float(abs(d.sum(axis=1).mean())),
        "mean_of_dummies": float(np.abs(d).mean()),
        "largest_dummy": float(np.abs(d).mean(axis=0).max()),
        "loose_prefix": float(np.abs(values[:, loose].sum(axis=1)).mean()),
    }


def _categorical_importance(values, columns, prefix) -> float:
    d = np.asarray(values, dtype=float)[:, _dummies(list(columns), prefix)]
    return float(np.abs(d.sum(axis=1)).mean())


_Q7_MESSAGES = {
    "abs_first": "you took absolute values of each dummy before adding them. In a row the active "
                 "dummy and the inactive ones often push in opposite directions; add the dummies' "
                 "SHAP values row by row first (additivity), then take the absolute value and "
                 "average",
    "signed": "the signed sum averages to about 0 because SHAP values are centred on the "
              "background: take the absolute value of each row's sum before averaging",
    "abs_of_mean": "that is the absolute value of the mean; take each row's absolute value, then "
                   "average",
    "mean_of_dummies": "that averages over the dummy columns as well as the rows; the categorical's "
                       "share in a row is the *sum* of its dummies' shares",
    "largest_dummy": "that is the importance of one dummy column; the categorical is all its "
                     "dummies together",
    "loose_prefix": "your columns include one whose name starts with the prefix but is not one of "
                    "its dummies: match the prefix followed by the separator `_`",
}

_Q7_CASE = (
    np.array([[0.8, -0.3, -0.2, 1.1, 0.05], [-0.4, -0.9, -0.3, -0.6, 0.02],
              [-0.5, -0.2, 0.6, 0.3, -0.04], [0.7, -0.25, -0.15, -1.2, 0.01],
              [-0.45, -0.85, -0.35, 0.4, -0.03], [0.75, -0.3, -0.25, 0.9, 0.06]]),
    ["colour_red", "colour_green", "colour_blue", "size", "colourfulness"],
    "colour",
)


def _q7_value(func, values, columns, prefix) -> float:
    got = call(func, "categorical_importance", values.copy(), list(columns), prefix)
    return as_float(got, "categorical_importance(...)")


def _q7_diagnose(got, values, columns, prefix, where: str, *, tol: float) -> None:
    ref = _categorical_importance(values, columns, prefix)
    if close(got, ref, rtol=tol, atol=tol):
        return
    said = f"{where}, `categorical_importance` returned {got:.6g}"
    for kind, value in _q7_mistakes(values, columns, prefix).items():
        if close(got, value, rtol=tol, atol=tol):
            raise Incorrect(f"{said}: {_Q7_MESSAGES[kind]}.")
    raise Incorrect(f"{said}, which is not the mean over rows of |sum of the {prefix}_* "
                    "dummies' SHAP values|.")


def _q7_fresh(rng: np.random.Generator):
    """A fresh (n, p) SHAP array with a one-hot block: the active dummy pushes one way, the
    inactive ones the other, plus a decoy column whose name starts with the prefix."""

    def draw(g: np.random.Generator):
        prefix = str(g.choice(["region", "brand", "soil", "shift"]))
        k, n = int(g.integers(2, 6)), int(g.integers(8, 40))
        levels = [f"{prefix}_{c}" for c in g.permutation(list("abcdefgh"))[:k]]
        others = ["size", "age", "dose"][: int(g.integers(1, 4))]
        columns = [*levels, *others, f"{prefix}wide"]
        active = g.integers(0, k, n)
        d = -np.abs(g.normal(0, 0.3, (n, k)))
        d[np.arange(n), active] = np.abs(g.normal(0.6, 0.4, n)) * g.choice([-1, 1], n)
        values = np.column_stack([d, g.normal(0, 1, (n, len(others) + 1))])
        order = g.permutation(len(columns))
        return values[:, order], [columns[i] for i in order], prefix

    def outcomes(case):
        return _categorical_importance(*case), _q7_mistakes(*case)

    return draw_separating(draw, outcomes, rng, separated=_apart, tries=50)


@key_for(m08.q7)
class CategoricalImportance(Question):
    def references(self):
        return {"categorical_importance": _categorical_importance}

    def verify(self, categorical_importance):
        values, columns, prefix = _Q7_CASE
        where = f"For a 6 x 5 SHAP array with columns {columns} and prefix {prefix!r}"
        got = _q7_value(categorical_importance, values, columns, prefix)
        _q7_diagnose(got, values, columns, prefix, where, tol=1e-9)

    def verify_hidden(self, seed, categorical_importance):
        rng = np.random.default_rng(seed)
        for _ in range(4):
            values, columns, prefix = _q7_fresh(rng)
            where = (f"On a fresh {values.shape[0]} x {values.shape[1]} SHAP array with prefix "
                     f"{prefix!r}")
            got = _q7_value(categorical_importance, values, columns, prefix)
            _q7_diagnose(got, values, columns, prefix, where, tol=1e-12)


# =================================================================================================
# q8: exact SHAP interaction values (Lundberg et al. 2020, eq. for Phi_ij; interventional v)
# =================================================================================================
def _interactions(f, x, bg, *, half=True, diag="main", weight="shapley") -> np.ndarray:
    """The (p, p) SHAP interaction values of ``f`` at ``x`` against ``bg`` (unweighted rows), and
    through the keywords the catalogued mistakes."""
    x, bg = np.asarray(x, dtype=float), np.asarray(bg, dtype=float)
    p = x.size
    memo: dict[frozenset, float] = {}

    def v(subset) -> float:
        key = frozenset(subset)
        if key not in memo:
            z = bg.copy()
            z[:, list(subset)] = x[list(subset)]
            memo[key] = float(np.mean(f(z)))
        return memo[key]

    Phi = np.zeros((p, p))
    for i, j in itertools.combinations(range(p), 2):
        others = [k for k in range(p) if k not in (i, j)]
        for size in range(p - 1):
            if weight == "shapley":
                c = math.factorial(size) * math.factorial(p - size - 2) / math.factorial(p - 1)
            else:  # the Shapley weights of p features, |S|! (p - |S| - 1)! / p!
                c = math.factorial(size) * math.factorial(p - size - 1) / math.factorial(p)
            if half:
                c /= 2
            for s in itertools.combinations(others, size):
                Phi[i, j] += c * (v(s + (i, j)) - v(s + (i,)) - v(s + (j,)) + v(s))
        Phi[j, i] = Phi[i, j]
    phi = _shapley(f, x, bg, np.ones(len(bg)))
    if diag == "main":
        Phi[np.diag_indices(p)] = phi - Phi.sum(axis=1)
    elif diag == "phi":
        Phi[np.diag_indices(p)] = phi
    return Phi


def _q8_mistakes(f, x, bg) -> dict[str, np.ndarray]:
    upper = _interactions(f, x, bg)
    upper[np.tril_indices(x.size, -1)] = 0.0
    return {
        "no_half": _interactions(f, x, bg, half=False),
        "zero_diag": _interactions(f, x, bg, diag="zero"),
        "phi_diag": _interactions(f, x, bg, diag="phi"),
        "weights": _interactions(f, x, bg, weight="p"),
        "upper_only": upper,
    }


_Q8_MESSAGES = {
    "no_half": "the pair's interaction is counted twice: the weight |S|! (p - |S| - 2)! / "
               "(p - 1)! must be halved, because the interaction is split between (i, j) and "
               "(j, i)",
    "zero_diag": "the diagonal is 0. It holds each feature's main effect: its Shapley value minus "
                 "its interactions, so that each row sums to the Shapley value",
    "phi_diag": "the diagonal holds the Shapley values themselves, so each row counts the "
                "interactions twice. The main effect is the Shapley value minus the row's "
                "interactions",
    "weights": "the pair weights use p features; a pair's coalitions are drawn from the p - 2 "
               "others: |S|! (p - |S| - 2)! / (2 (p - 1)!)",
    "upper_only": "only one triangle is filled: the matrix is symmetric, Phi[j, i] = Phi[i, j]",
}

#: f(X) = x0*x1 + 2*x1*x2 + x0 - 0.5*x3**2
_toy_f8 = Formula(
    ["+", ["*", ["x", 0], ["x", 1]], ["*", ["c", 2.0], ["x", 1], ["x", 2]], ["x", 0],
     ["*", ["c", -0.5], ["^", ["x", 3], 2]]],
    "f(X) = x0*x1 + 2*x1*x2 + x0 - 0.5*x3**2",
)
_Q8_X = np.array([1.0, 2.0, -1.0, 1.5])
_Q8_BG = np.array([[0.0, 1.0, 0.5, -1.0], [2.0, -1.0, 1.0, 0.0], [-1.0, 0.5, 2.0, 1.0],
                   [0.5, 0.0, -0.5, 2.0], [1.5, 1.5, 0.0, -0.5]])


def _q8_value(func, f, x, bg) -> np.ndarray:
    return as_array(call(func, "interaction_values", f, x.copy(), bg.copy()),
                    "interaction_values(...)")


def _q8_diagnose(got, f, x, bg, where: str, *, tol: float) -> None:
    p = x.size
    said = f"{where}, `interaction_values` returned {_lst(got)}"
    if got.shape != (p, p):
        raise Incorrect(f"{said}, an array of shape {got.shape}; it should be a ({p}, {p}) "
                        "matrix, one row and one column per feature.")
    ref = _interactions(f, x, bg)
    if allclose(got, ref, rtol=tol, atol=tol):
        return
    for kind, wrong in _q8_mistakes(f, x, bg).items():
        if allclose(got, wrong, rtol=tol, atol=tol):
            raise Incorrect(f"{said}: {_Q8_MESSAGES[kind]}.")
    phi = _shapley(f, x, bg, np.ones(len(bg)))
    if not allclose(got.sum(axis=1), phi, rtol=tol, atol=tol):
        raise Incorrect(f"{said}: its rows do not sum to the features' Shapley values (row sums "
                        f"{_lst(got.sum(axis=1))}).")
    raise Incorrect(f"{said}; these are not the SHAP interaction values.")


def _q8_fresh(rng: np.random.Generator):
    """A fresh case on which every catalogued mistake gives other values (bounded redraws)."""

    def draw(g: np.random.Generator):
        p = int(g.integers(3, 6))
        model, _dummy = _random_model(g, max(p, 4)) if p >= 4 else (None, None)
        if model is None:
            i, j = (int(v) for v in g.permutation(3)[:2])
            a = g.normal(0, 2, 3)
            model = Formula(["+", ["lin", [float(v) for v in a], 0.0],
                             ["*", ["c", float(g.uniform(0.5, 2))], ["x", i], ["x", j]],
                             ["*", ["c", float(g.uniform(0.5, 2))], ["x", 0], ["x", 1],
                              ["x", 2]]], "a fresh model of 3 features")
        bg = g.normal(0, 1.5, (int(g.integers(3, 9)), p))
        return model, g.normal(0, 1.5, p), bg

    def outcomes(case):
        return _interactions(*case), _q8_mistakes(*case)

    return draw_separating(draw, outcomes, rng, separated=_apart, tries=50)


@key_for(m08.q8)
class InteractionValues(Question):
    tolerance = {"rtol": 1e-6, "atol": 1e-6}

    def references(self):
        return {"interaction_values": lambda f, x, background: _interactions(f, x, background)}

    def verify(self, interaction_values):
        where = f"For {_toy_f8.text}, x = {_lst(_Q8_X)} and a 5-row background"
        got = _q8_value(interaction_values, _toy_f8, _Q8_X, _Q8_BG)
        _q8_diagnose(got, _toy_f8, _Q8_X, _Q8_BG, where, tol=1e-6)

    def verify_hidden(self, seed, interaction_values):
        rng = np.random.default_rng(seed)
        for _ in range(3):
            model, x, bg = _q8_fresh(rng)
            where = (f"On a fresh non-linear model of {x.size} features and a {len(bg)}-row "
                     "background")
            got = _q8_value(interaction_values, model, x, bg)
            _q8_diagnose(got, model, x, bg, where, tol=1e-8)


# =================================================================================================
# q9: the sampling error of KernelSHAP (Lundberg & Lee 2017; Covert & Lee 2021)
# =================================================================================================
def _kernel_runs(f, x, bg, nsamples, seeds, *, mode="each") -> np.ndarray:
    """The (R, p) KernelSHAP estimates of ``f`` at the row ``x`` against ``bg``, one row per seed:
    NumPy's global generator seeded with each seed before its run (the reference); with
    ``mode="same"`` every run seeded with the first seed, with ``mode="once"`` seeded once before
    the loop (two catalogued mistakes). NumPy's global state is restored afterwards."""
    import warnings

    import shap

    x = np.asarray(x, dtype=float).ravel()
    bg = np.asarray(bg, dtype=float)
    seeds = [int(s) for s in seeds]
    state = np.random.get_state()
    runs = []
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if mode == "once":
                np.random.seed(seeds[0])
            for s in seeds:
                if mode != "once":
                    np.random.seed(seeds[0] if mode == "same" else s)
                explainer = shap.KernelExplainer(f, bg)
                phi = explainer.shap_values(x[None, :], nsamples=int(nsamples), silent=True)
                runs.append(np.asarray(phi, dtype=float).reshape(-1)[: x.size])
    finally:
        np.random.set_state(state)
    return np.array(runs)


def _spread(runs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return runs.mean(axis=0), runs.std(axis=0, ddof=1)


def _kernel_spread(f, x, background, nsamples, seeds) -> tuple[np.ndarray, np.ndarray]:
    return _spread(_kernel_runs(f, x, background, nsamples, seeds))


def _q9_mistakes(f, x, bg, nsamples, seeds) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    runs = _kernel_runs(f, x, bg, nsamples, seeds)
    mean, sd = _spread(runs)
    same = _kernel_runs(f, x, bg, nsamples, seeds, mode="same")
    once = _kernel_runs(f, x, bg, nsamples, seeds, mode="once")
    return {
        "same_seed": (same.mean(axis=0), same.std(axis=0, ddof=1)),
        "seed_once": _spread(once),
        "one_run": (runs[0], sd),
        "ddof0": (mean, runs.std(axis=0)),
        "standard_error": (mean, sd / np.sqrt(len(runs))),
    }


_Q9_MEAN_MESSAGES = {
    "same_seed": "every repeat gives the same values: each run was seeded with the same seed, so "
                 "the repeats are copies and their spread is 0 whatever the sampling error is. "
                 "Seed NumPy's global generator with each seed of `seeds` before its own run",
    "seed_once": "the generator was seeded once before the loop, so the runs do not use the seeds "
                 "they are given (a run's values depend on the runs before it). Seed with each "
                 "seed of `seeds` right before its own run",
    "one_run": "the mean is the first run's values: one run of KernelSHAP is a single random "
               "estimate, not the exact value. Average the runs over all the seeds",
}
_Q9_SD_MESSAGES = {
    "ddof0": "that is the standard deviation with ddof=0 (np.std's default). With a handful of "
             "runs, the sample standard deviation over seeds divides by R - 1: use ddof=1",
    "standard_error": "that is the standard error of the mean over the seeds (SD / sqrt(R)). The "
                      "question asks how much one run's value varies from seed to seed: the "
                      "standard deviation itself",
}


def _q9_value(func, f, x, bg, nsamples, seeds) -> tuple[np.ndarray, np.ndarray, list[int]]:
    seeds = [int(s) for s in seeds]
    got = call(func, "kernel_spread", f, x.copy(), bg.copy(), int(nsamples), list(seeds))
    if type(got) not in (tuple, list) or len(got) != 2:
        raise Incorrect("`kernel_spread` should return a tuple `(mean, sd)` of two arrays, but it "
                        f"returned {show(got)}.")
    for i, name in ((0, "mean"), (1, "sd")):
        if isinstance(got[i], (int, float, np.number)) and not isinstance(got[i], bool):
            raise Incorrect(
                f"`kernel_spread` returned {name} = {show(got[i])}, a single number: a summary "
                "across the features. How much the features differ is not how uncertain one "
                f"feature's value is: return one value per feature, taken across the seeds.")
    mean = as_array(got[0], "kernel_spread(...)[0] (mean)")
    sd = as_array(got[1], "kernel_spread(...)[1] (sd)")
    return mean, sd, seeds


def _q9_diagnose(mean, sd, f, x, bg, nsamples, seeds, where: str, *, tol: float,
                 known=None) -> None:
    """Judge ``(mean, sd)``; ``known`` is the case's precomputed ``(reference, mistakes)``."""
    p, r = x.size, len(seeds)
    said = f"{where}, `kernel_spread` returned mean = {_lst(mean)}, sd = {_lst(sd)}"
    for name, got in (("mean", mean), ("sd", sd)):
        if got.shape == (r,) and r != p:
            raise Incorrect(
                f"{said}: {name} has one value per seed (shape {got.shape}), so it was taken "
                "across the features of each run. The sampling error of feature j is the spread "
                "of feature j's value across the seeds: one value per feature, shape "
                f"({p},).")
        if got.size == 1:
            raise Incorrect(
                f"{said}: {name} is a single number, a summary across the features. How much "
                "the features differ is not how uncertain one feature's value is: return one "
                f"value per feature, shape ({p},), taken across the seeds.")
        if got.shape != (p,):
            raise Incorrect(f"{said}: {name} has shape {got.shape}; it should hold one value per "
                            f"feature, shape ({p},).")
    (ref_mean, ref_sd), wrong = known or _q9_known(f, x, bg, nsamples, seeds)
    ok_mean = allclose(mean, ref_mean, rtol=tol, atol=tol)
    ok_sd = allclose(sd, ref_sd, rtol=tol, atol=tol)
    if ok_mean and ok_sd:
        return
    if not ok_mean:
        said = f"{where}, `kernel_spread` returned mean = {_lst(mean)}"
        if allclose(mean, wrong["one_run"][0], rtol=tol, atol=tol):
            # the first run's values: copies of one run (spread 0), or one run reported
            kind = "same_seed" if np.max(np.abs(sd)) <= tol else "one_run"
            raise Incorrect(f"{said}: {_Q9_MEAN_MESSAGES[kind]}.")
        if allclose(mean, wrong["seed_once"][0], rtol=tol, atol=tol):
            raise Incorrect(f"{said}: {_Q9_MEAN_MESSAGES['seed_once']}.")
        if np.max(np.abs(sd)) <= tol:
            raise Incorrect(f"{said}: sd is 0 for every feature: the repeats are identical. Each "
                            "repeat must be seeded with its own seed of `seeds`.")
        raise Incorrect(
            f"{said}: the mean is not the mean of KernelSHAP's estimates over these seeds. Seed "
            "NumPy's global generator with each seed right before its run (KernelExplainer draws "
            "from it), build `shap.KernelExplainer(f, background)` and pass `nsamples`.")
    said = f"{where}, `kernel_spread` returned the right means but sd = {_lst(sd)}"
    for kind, message in _Q9_SD_MESSAGES.items():
        if allclose(sd, wrong[kind][1], rtol=tol, atol=tol):
            raise Incorrect(f"{said}: {message}.")
    if allclose(sd, wrong["same_seed"][1], rtol=tol, atol=tol):
        raise Incorrect(f"{said}: {_Q9_MEAN_MESSAGES['same_seed']}.")
    raise Incorrect(f"{said}: sd is not the standard deviation over the seeds (ddof=1) of each "
                    "feature's estimate.")


#: f(X) = 2*x0 - x1 + 1.5*x0*x2 + tanh(3*x3) - 0.5*x4*x5 (six features)
_toy_f9 = Formula(
    ["+", ["lin", [2.0, -1.0, 0.0, 0.0, 0.0, 0.3], 0.0], ["*", ["c", 1.5], ["x", 0], ["x", 2]],
     ["tanh", ["*", ["c", 3.0], ["x", 3]]], ["*", ["c", -0.5], ["x", 4], ["x", 5]]],
    "f(X) = 2*x0 - x1 + 0.3*x5 + 1.5*x0*x2 + tanh(3*x3) - 0.5*x4*x5",
)
_Q9_X = np.array([1.2, -0.8, 1.5, 0.4, -1.1, 0.9])
_Q9_BG = np.array([[0.0, 0.5, -1.0, 0.2, 1.0, -0.5], [1.0, -1.0, 0.5, -0.6, 0.0, 1.2],
                   [-0.5, 1.5, 0.0, 1.0, -1.2, 0.3], [0.8, 0.2, 1.2, -1.0, 0.6, -0.9]])
_Q9_NSAMPLES, _Q9_SEEDS = 24, (0, 1, 2, 3, 4)


def _q9_known(f, x, bg, nsamples, seeds):
    """The reference ``(mean, sd)`` of a case and its catalogued mistakes."""
    return _kernel_spread(f, x, bg, nsamples, seeds), _q9_mistakes(f, x, bg, nsamples, seeds)


@functools.lru_cache(maxsize=1)
def _q9_design_known():
    return _q9_known(_toy_f9, _Q9_X, _Q9_BG, _Q9_NSAMPLES, _Q9_SEEDS)


def _q9_separated(f, x, bg, nsamples, seeds, known=None) -> bool:
    (mean, sd), wrong = known or _q9_known(f, x, bg, nsamples, seeds)
    means = [wrong[k][0] for k in _Q9_MEAN_MESSAGES]
    sds = [wrong[k][1] for k in _Q9_SD_MESSAGES] + [wrong["same_seed"][1]]
    return (np.max(sd) > 100 * _GAP and _separated(mean, means) and _separated(sd, sds)
            and _separated(np.r_[mean, sd], [np.r_[m, s] for m, s in wrong.values()]))


def _q9_fresh(rng: np.random.Generator):
    """A fresh model, row, background, budget and seeds on which KernelSHAP really samples (fewer
    coalitions than 2^p - 2) and every catalogued mistake gives other values (bounded redraws)."""
    for _ in range(50):
        p = int(rng.integers(5, 8))
        model, _dummy = _random_model(rng, p)
        bg = rng.normal(0, 1.5, (int(rng.integers(3, 7)), p))
        x = rng.normal(0, 1.5, p)
        nsamples = int(rng.integers(2 * p + 4, 2 * p + 16))
        r = int(rng.integers(3, 7))
        if r == p:
            r += 1
        seeds = [int(s) for s in rng.choice(100_000, r, replace=False)]
        known = _q9_known(model, x, bg, nsamples, seeds)
        if _q9_separated(model, x, bg, nsamples, seeds, known):
            return model, x, bg, nsamples, seeds, known
    raise RuntimeError("no separating q9 case in 50 draws")  # pragma: no cover


@functools.lru_cache(maxsize=64)
def _q9_cases(seed: int) -> tuple:
    """The hidden test's two fresh cases for a seed, with their references (KernelSHAP runs are
    slow: a seed's cases are computed once per process)."""
    rng = np.random.default_rng(seed)
    return tuple(_q9_fresh(rng) for _ in range(2))


@functools.lru_cache(maxsize=1)
def _crop_kernel() -> SimpleNamespace:
    """The notebook's q9 case: KernelSHAP on the crop model (q5) for one held-out plot, against
    interventional TreeSHAP with the same background (the exact values it estimates)."""
    import shap

    d = _crop()
    names = list(d.names)

    def predict(A):
        return d.model.predict(pd.DataFrame(np.asarray(A, dtype=float), columns=names))

    bg = d.X.iloc[:KERNEL_BACKGROUND].to_numpy()
    x = d.X.iloc[KERNEL_PLOT].to_numpy()
    exact = shap.TreeExplainer(d.model, data=bg, feature_perturbation="interventional")
    exact = np.asarray(exact.shap_values(x[None, :]), dtype=float)[0]
    path = np.asarray(shap.TreeExplainer(d.model).shap_values(x[None, :]), dtype=float)[0]
    runs = _kernel_runs(predict, x, bg, KERNEL_NSAMPLES, KERNEL_SEEDS)
    same = _kernel_runs(predict, x, bg, KERNEL_NSAMPLES, KERNEL_SEEDS, mode="same")
    once = _kernel_runs(predict, x, bg, KERNEL_NSAMPLES, KERNEL_SEEDS, mode="once")
    j = names.index(KERNEL_FEATURE)
    a, b = (names.index(k) for k in KERNEL_PAIR)

    def flips(est, truth):
        return int(np.sum((np.abs(est[:, a]) > np.abs(est[:, b]))
                          != (abs(truth[a]) > abs(truth[b]))))

    sd = runs.std(axis=0, ddof=1)
    return SimpleNamespace(
        j=j, r=len(runs), exact=exact, path=path, runs=runs,
        sd=float(sd[j]), bias=float(runs[:, j].mean() - exact[j]), flipped=flips(runs, exact),
        sd_mistakes={
            "ddof0": float(runs[:, j].std()),
            "standard_error": float(sd[j] / np.sqrt(len(runs))),
            "same_seed": float(same[:, j].std(ddof=1)),
            "seed_once": float(once[:, j].std(ddof=1)),
            "across_features": float(runs.mean(axis=0).std(ddof=1)),
            "across_features0": float(runs.mean(axis=0).std()),
            "mean_sd": float(sd.mean()),
        },
        bias_mistakes={
            "path": float(runs[:, j].mean() - path[j]),
            "one_run": float(runs[0, j] - exact[j]),
            "sign": float(exact[j] - runs[:, j].mean()),
            "seed_once": float(once[:, j].mean() - exact[j]),
            "same_seed": float(same[0, j] - exact[j]),
        },
        flip_mistakes={
            "path": flips(runs, path),
            "one_run": flips(runs, runs[0]),
            "agree": len(runs) - flips(runs, exact),
            "same_seed": flips(same, exact),
        },
    )


def _q9_values(kernel_sd, kernel_bias, n_flipped, tol: float) -> None:
    d = _crop_kernel()
    sd = as_float(kernel_sd, "kernel_sd")
    if not close(sd, d.sd, rtol=tol, atol=tol):
        said = f"`kernel_sd` = {sd:.6g}"
        m = d.sd_mistakes
        if close(sd, 0.0, atol=1e-12) or close(sd, m["same_seed"], rtol=tol, atol=tol):
            raise Incorrect(f"{said}: {_Q9_MEAN_MESSAGES['same_seed']}.")
        if close(sd, m["ddof0"], rtol=tol, atol=tol):
            raise Incorrect(f"{said}: {_Q9_SD_MESSAGES['ddof0']}.")
        if close(sd, m["standard_error"], rtol=tol, atol=tol):
            raise Incorrect(f"{said}: {_Q9_SD_MESSAGES['standard_error']}.")
        if close(sd, m["seed_once"], rtol=tol, atol=tol):
            raise Incorrect(f"{said}: {_Q9_MEAN_MESSAGES['seed_once']}.")
        if any(close(sd, m[k], rtol=tol, atol=tol)
               for k in ("across_features", "across_features0", "mean_sd")):
            raise Incorrect(
                f"{said} summarises across the features. The sampling error of "
                f"{KERNEL_FEATURE} is the spread of *its* value across the seeds; how much the "
                "features differ from each other is another question.")
        raise Incorrect(f"{said} is not the standard deviation over the seeds (ddof=1) of the "
                        f"{KERNEL_FEATURE} estimate.")
    bias = as_float(kernel_bias, "kernel_bias")
    if not close(bias, d.bias, rtol=tol, atol=tol):
        said = f"`kernel_bias` = {bias:.6g}"
        m = d.bias_mistakes
        if close(bias, m["path"], rtol=tol, atol=tol):
            raise Incorrect(
                f"{said} is measured against path-dependent TreeSHAP (`TreeExplainer` without "
                "`data=`): another value function, so the difference mixes a change of question "
                "into the error. KernelSHAP estimates the interventional values for its "
                "background: compare with `TreeExplainer(..., data=<the same background>, "
                "feature_perturbation=\"interventional\")`.")
        if close(bias, m["one_run"], rtol=tol, atol=tol) or close(
                bias, m["same_seed"], rtol=tol, atol=tol):
            raise Incorrect(f"{said} uses a single run of KernelSHAP as the estimate; average the "
                            "runs over all the seeds first.")
        if close(bias, m["sign"], rtol=tol, atol=tol):
            raise Incorrect(f"{said} has the sign flipped: the bias is the mean estimate minus "
                            "the exact value.")
        if close(bias, m["seed_once"], rtol=tol, atol=tol):
            raise Incorrect(f"{said}: {_Q9_MEAN_MESSAGES['seed_once']}.")
        raise Incorrect(f"{said} is not the mean of the {KERNEL_FEATURE} estimates over the seeds "
                        "minus its exact interventional value.")
    got = as_float(n_flipped, "n_flipped")
    if close(got, d.flipped, atol=1e-9):
        return
    said = f"`n_flipped` = {got:.6g}"
    m = d.flip_mistakes
    if close(got, m["agree"], atol=1e-9) or close(got, m["path"], atol=1e-9) or close(
            got, m["one_run"], atol=1e-9):
        raise Incorrect(
            f"{said} counts the runs against another reference order: the runs that *agree* "
            "with the exact order, or the order of one run, or of path-dependent TreeSHAP. Count "
            "the runs whose order of the two features (by |value|) differs from the order of the "
            "exact interventional values with the same background.")
    if close(got, m["same_seed"], atol=1e-9):
        raise Incorrect(f"{said}: {_Q9_MEAN_MESSAGES['same_seed']}.")
    raise Incorrect(f"{said} is not the number of runs (of {d.r}) that order "
                    f"{KERNEL_PAIR[0]} and {KERNEL_PAIR[1]} by |value| differently from the "
                    "exact values.")


@key_for(m08.q9)
class KernelSpread(Question):
    tolerance = {"rtol": 1e-6, "atol": 1e-6}

    def references(self):
        d = _crop_kernel()
        return {"kernel_spread": _kernel_spread, "kernel_sd": d.sd, "kernel_bias": d.bias,
                "n_flipped": d.flipped}

    def verify_graded(self, seed, kernel_spread, kernel_sd, kernel_bias, n_flipped):
        self.verify(kernel_spread=kernel_spread, kernel_sd=kernel_sd, kernel_bias=kernel_bias,
                    n_flipped=n_flipped)
        self._fresh(seed, kernel_spread)

    def verify(self, kernel_spread, kernel_sd, kernel_bias, n_flipped):
        where = (f"For {_toy_f9.text}, x = {_lst(_Q9_X)}, a 4-row background, nsamples="
                 f"{_Q9_NSAMPLES} and seeds {list(_Q9_SEEDS)}")
        mean, sd, seeds = _q9_value(kernel_spread, _toy_f9, _Q9_X, _Q9_BG, _Q9_NSAMPLES,
                                    _Q9_SEEDS)
        _q9_diagnose(mean, sd, _toy_f9, _Q9_X, _Q9_BG, _Q9_NSAMPLES, seeds, where, tol=1e-6,
                     known=_q9_design_known())
        _q9_values(kernel_sd, kernel_bias, n_flipped, tol=1e-6)

    def verify_hidden(self, seed, kernel_spread, kernel_sd, kernel_bias, n_flipped):
        self._fresh(seed, kernel_spread)
        _q9_values(kernel_sd, kernel_bias, n_flipped, tol=1e-9)

    @staticmethod
    def _fresh(seed, kernel_spread):
        for model, x, bg, nsamples, seeds, known in _q9_cases(int(seed)):
            where = (f"On a fresh non-linear model of {x.size} features, a {len(bg)}-row "
                     f"background, nsamples={nsamples} and {len(seeds)} seeds")
            mean, sd, seeds = _q9_value(kernel_spread, model, x, bg, nsamples, seeds)
            _q9_diagnose(mean, sd, model, x, bg, nsamples, seeds, where, tol=1e-8, known=known)


# The decorator turns each class into its question instance: by label, and as q1 ... q9.
q1, q2, q3, q4, q5, q6, q7, q8, q9 = (ExactShapley, LinearShap, ClassShap, LogOddsToProba,
                                      GlobalImportance, ConditionalShapley, CategoricalImportance,
                                      InteractionValues, KernelSpread)
QUESTIONS = {q.label: q for q in (q1, q2, q3, q4, q5, q6, q7, q8, q9)}
