"""The answer key of assignment 08, "Shapley values and SHAP": instructor-only, never released.

``grader release`` and ``nbgrader generate_assignment`` skip this file (``nbgrader_config.py``
ignores ``key.py``). It holds what the student-side package (``grader/checks/m08.py``) must not:
the reference computations, the diagnosis code of every check (``verify``, ``verify_hidden``,
``verify_graded``) and, for each question, its reference answers (``references()``). The grader
loads it outside the student's kernel (:mod:`grader.judging`); see ``docs/authoring.md``.

Every reference is recomputed here: Shapley values by a separate enumeration, and the SHAP values
of the notebook's models by refitting the same seeded models on the same seeded data (cached).
The models q1 passes to ``exact_shapley`` are :class:`grader.checks.wire.Formula` s, so that the
judge can send them to the student's kernel as data. The toy cases are asymmetric on purpose (a
non-linear model, so the mean row differs from background averaging; more rows than features, so
a transposed array is caught; a row other than 1, so "sample 1" differs from the row asked for),
and each classic mistake is named in the feedback with the student's value.

Guessable: ``top5`` (q5) is hashed, but it is 5 of 10 names (252 sets); with x0..x4 being the
informative features of friedman1 it is guessable from the lecture, so q5 puts its weight on
``mean_abs_shap`` (checked on fresh arrays) and ``noise_floor`` (a number).
"""

from __future__ import annotations

import functools
import itertools
import math
from types import SimpleNamespace

import numpy as np
import pandas as pd

from grader.checks import m08
from grader.checks.core import Incorrect, Question, call, key_for
from grader.checks.m08 import N_BACKGROUND, N_EXPLAIN, NOISE_FEATURES, ROW
from grader.checks.values import allclose, as_array, as_float, as_str, close, show
from grader.checks.wire import Formula

#: The key's questions, by label.
__all__ = ["QUESTIONS"]


# --- reference models, rebuilt from seeds (cached: the checks run many times) ---------------------
@functools.lru_cache(maxsize=1)
def _cancer() -> SimpleNamespace:
    """The notebook's breast-cancer models: a random forest (interventional TreeSHAP on 100
    background rows, probability output) and a gradient-boosting classifier (log-odds output)."""
    import shap
    from sklearn.ensemble import GradientBoostingClassifier, RandomForestClassifier

    from grader.datasets import breast_cancer_split

    X_train, X_test, y_train, y_test = breast_cancer_split()
    background = X_train.iloc[:N_BACKGROUND]
    X_explain = X_test.iloc[:N_EXPLAIN]
    rf = RandomForestClassifier(n_estimators=50, max_depth=5, random_state=0).fit(X_train, y_train)
    rf_values = shap.TreeExplainer(rf, data=background).shap_values(X_explain)
    gb = GradientBoostingClassifier(n_estimators=100, max_depth=2, random_state=0)
    gb.fit(X_train, y_train)
    gb_explainer = shap.TreeExplainer(gb)
    gb_values = gb_explainer.shap_values(X_explain)
    return SimpleNamespace(
        rf_values=np.asarray(rf_values, dtype=float),  # (10, 30, 2)
        rf_base=rf.predict_proba(background).mean(
            axis=0
        ),  # (2,): the mean output on the background
        rf_proba=rf.predict_proba(X_explain),
        rf_mean_row=rf.predict_proba(background.mean().to_frame().T)[0],
        y_train_share=np.array([np.mean(y_train == 0), np.mean(y_train == 1)]),
        y_test_share=np.array([np.mean(y_test == 0), np.mean(y_test == 1)]),
        y_bg_share=np.array(
            [np.mean(y_train.iloc[:N_BACKGROUND] == 0), np.mean(y_train.iloc[:N_BACKGROUND] == 1)]
        ),
        gb_values=np.asarray(gb_values, dtype=float),  # (10, 30), log-odds
        gb_base=float(np.ravel(gb_explainer.expected_value)[0]),
        gb_proba=gb.predict_proba(X_explain),
        gb_margin=gb.decision_function(X_explain),
    )


@functools.lru_cache(maxsize=1)
def _friedman() -> SimpleNamespace:
    """The notebook's friedman1 regression: 500 rows, a gradient-boosting model, TreeSHAP on 200."""
    import shap
    from sklearn.datasets import make_friedman1
    from sklearn.ensemble import GradientBoostingRegressor

    X, y = make_friedman1(n_samples=500, n_features=10, noise=1.0, random_state=0)
    model = GradientBoostingRegressor(random_state=0).fit(X, y)
    values = np.asarray(shap.TreeExplainer(model).shap_values(X[:200]), dtype=float)
    return SimpleNamespace(values=values, names=tuple(f"x{j}" for j in range(10)))


# --- small helpers -------------------------------------------------------------------------------
def _lst(a) -> str:
    vals = [f"{v:.4g}" for v in np.asarray(a, dtype=float).ravel()[:12]]
    more = ", ..." if np.asarray(a).size > 12 else ""
    return "[" + ", ".join(vals) + more + "]"


def _sigmoid(z: float) -> float:
    return float(1.0 / (1.0 + np.exp(-z)))


# =================================================================================================
# q1: exact Shapley values by enumeration
# =================================================================================================
def _shapley(
    f,
    x: np.ndarray,
    bg: np.ndarray,
    *,
    weight: str = "shapley",
    mean_row: bool = False,
    skip_empty: bool = False,
) -> np.ndarray:
    """Interventional Shapley values of ``f`` at ``x`` (the reference), and through the keywords
    what each classic mistake computes instead."""
    p = x.size
    base_rows = bg.mean(axis=0, keepdims=True) if mean_row else bg

    def v(subset: tuple[int, ...]) -> float:
        z = base_rows.copy()
        z[:, list(subset)] = x[list(subset)]
        return float(np.mean(f(z)))

    phi = np.zeros(p)
    for j in range(p):
        others = [k for k in range(p) if k != j]
        for size in range(p):
            if skip_empty and size == 0:
                continue
            if weight == "shapley":
                w = math.factorial(size) * math.factorial(p - size - 1) / math.factorial(p)
            elif weight == "off_by_one":
                w = math.factorial(size) * math.factorial(p - size) / math.factorial(p)
            elif weight == "banzhaf":
                w = 1.0 / 2 ** (p - 1)
            else:  # "uniform": 1 / (number of subsets of each size), forgetting the 1/p
                w = 1.0 / math.comb(p - 1, size)
            for s in itertools.combinations(others, size):
                phi[j] += w * (v(s + (j,)) - v(s))
    return phi


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
    # (f, description, x, background, dummy feature or None, symmetric pair or None)
    (
        _toy_f1,
        "f(X) = 3*x0 + 2*x1*x2 + max(x2, 0)**2 - 0.5*x0*x1*x2 (x3 unused)",
        np.array([1.0, 2.0, 1.5, 3.0]),
        np.array(
            [
                [0.0, 1.0, -1.0, 0.5],
                [2.0, -1.0, 0.5, 1.0],
                [-1.0, 0.5, 2.0, -2.0],
                [0.5, 0.0, -0.5, 0.0],
                [1.5, 2.5, 1.0, 4.0],
            ]
        ),
        3,
        None,
    ),
    (
        _toy_f2,
        "f(X) = (x0 + x1)**2 + 0.5*x2",
        np.array([1.5, 1.5, -1.0]),
        np.array([[0.0, 1.0, 2.0], [1.0, 0.0, 0.5], [2.0, -1.0, 0.0], [-1.0, 2.0, 1.0]]),
        None,
        (0, 1),
    ),
)


def _q1_value(func, f, x: np.ndarray, bg: np.ndarray) -> np.ndarray:
    got = call(func, "exact_shapley", f, x.copy(), bg.copy())
    return as_array(got, "exact_shapley(...)")


def _q1_diagnose(got, f, x, bg, where: str, *, tol: float, dummy=None, pair=None) -> None:
    p = x.size
    said = f"{where}, `exact_shapley` returned {_lst(got)}"
    if got.shape != (p,):
        raise Incorrect(
            f"{said}, an array of shape {got.shape}; it should hold one value per feature, shape ({p},)."
        )
    ref = _shapley(f, x, bg)
    if allclose(got, ref, rtol=tol, atol=tol):
        return
    base = float(np.mean(f(bg.copy())))
    fx = float(f(x[None, :].copy())[0])
    adds_up = close(float(np.sum(got)), fx - base, rtol=tol, atol=tol)
    if allclose(got, _shapley(f, x, bg, mean_row=True), rtol=tol, atol=tol):
        raise Incorrect(
            f"{said}: absent features are replaced by the mean row of the background. That computes "
            "f(x_S, mean of the rest), and for a non-linear model f(mean x) is not E[f(x)]. Set the "
            "absent features to each background row in turn and average f over the rows."
        )
    for kind in ("off_by_one", "uniform"):
        if allclose(got, _shapley(f, x, bg, weight=kind), rtol=tol, atol=tol):
            raise Incorrect(
                f"{said}: your values don't add up to f(x) - base value, because the Shapley "
                "weights are wrong (off by one, or missing a factor). A coalition S of size |S| "
                "that excludes j gets weight |S|! (p - |S| - 1)! / p!, where p is the number of "
                "features."
            )
    if allclose(got, _shapley(f, x, bg, weight="banzhaf"), rtol=tol, atol=tol):
        raise Incorrect(
            f"{said}: every coalition gets the same weight 1 / 2^(p-1) (the Banzhaf value), so your "
            "values don't add up to f(x) - base value. Shapley weights depend on the coalition's "
            "size: |S|! (p - |S| - 1)! / p!."
        )
    if allclose(got, _shapley(f, x, bg, skip_empty=True), rtol=tol, atol=tol):
        raise Incorrect(
            f"{said}: the empty coalition is missing, so your values don't add up to f(x) - base "
            "value. Loop over coalition sizes 0, 1, ..., p - 1: the empty set (every feature "
            "taken from the background) counts too."
        )
    if allclose(got, -ref, rtol=tol, atol=tol):
        raise Incorrect(
            f"{said}: the signs are flipped. A marginal contribution is v(S with j) - v(S), not "
            "v(S) - v(S with j)."
        )
    if not adds_up:
        raise Incorrect(
            f"{said}, which sums to {float(np.sum(got)):.6g}: your values don't add up to f(x) - "
            "base value (efficiency), where the base value is the mean of f over the background "
            "rows. Check the weights and that every coalition is visited."
        )
    if dummy is not None and not close(float(got[dummy]), 0.0, atol=tol):
        raise Incorrect(
            f"{said}: feature {dummy} is a dummy (the model never uses it), so its Shapley value "
            f"must be 0, but yours is {float(got[dummy]):.4g}."
        )
    if pair is not None and not close(float(got[pair[0]]), float(got[pair[1]]), rtol=tol, atol=tol):
        raise Incorrect(
            f"{said}: features {pair[0]} and {pair[1]} play the same role here (the model, x and "
            "the background are symmetric in them), so the symmetry axiom says their values must "
            "be equal."
        )
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


@key_for(m08.q1)
class ExactShapley(Question):
    tolerance = {"rtol": 1e-6, "atol": 1e-6}

    def references(self):
        return {"exact_shapley": lambda f, x, background: _shapley(
            f, np.asarray(x, dtype=float), np.asarray(background, dtype=float))}

    def verify(self, exact_shapley):
        for f, text, x, bg, dummy, pair in _Q1_CASES:
            where = f"For {text}, x = {_lst(x)} and a {bg.shape[0]}-row background"
            got = _q1_value(exact_shapley, f, x, bg)
            _q1_diagnose(got, f, x, bg, where, tol=1e-6, dummy=dummy, pair=pair)

    def verify_hidden(self, seed, exact_shapley):
        rng = np.random.default_rng(seed)
        for _ in range(4):
            p = int(rng.integers(4, 7))
            model, dummy = _random_model(rng, p)
            bg = rng.normal(0, 1.5, (int(rng.integers(3, 9)), p))
            x = rng.normal(0, 1.5, p)
            where = f"On a fresh non-linear model with p={p} features and a {bg.shape[0]}-row background"
            got = _q1_value(exact_shapley, model, x, bg)
            _q1_diagnose(got, model, x, bg, where, tol=1e-8, dummy=dummy)


# =================================================================================================
# q2: linear SHAP in closed form
# =================================================================================================
_Q2_CASE = (
    np.array([2.0, -1.0, 0.5]),
    0.75,
    np.array([[1.0, 2.0, 3.0], [0.0, -1.0, 4.0], [2.5, 0.5, -1.0], [-1.0, 3.0, 0.0]]),
    np.array(
        [[0.0, 1.0, 1.0], [2.0, 0.0, 3.0], [1.0, 2.0, 2.0], [-1.0, 1.0, 0.0], [6.0, 4.0, 9.0]]
    ),
)


def _q2_values(func, coef, intercept, X, bg) -> tuple[np.ndarray, float]:
    got = call(func, "linear_shap", coef.copy(), intercept, X.copy(), bg.copy())
    if type(got) not in (tuple, list) or len(got) != 2:
        raise Incorrect(
            f"`linear_shap` should return a tuple `(phi, base_value)`, but it returned {show(got)}."
        )
    phi = as_array(got[0], "linear_shap(...)[0] (phi)")
    base = as_float(got[1], "linear_shap(...)[1] (base_value)")
    return phi, base


def _q2_diagnose(phi, base, coef, intercept, X, bg, where: str, *, tol: float) -> None:
    n, p = X.shape
    said = f"{where}, `linear_shap` returned phi = {show(phi)}"
    if phi.shape == (p, n):
        raise Incorrect(
            f"{said}: phi is transposed. It should have one row per explained row, shape ({n}, {p})."
        )
    if phi.shape != (n, p):
        raise Incorrect(f"{said}: phi should have shape ({n}, {p}), one row per row of X.")
    ref = coef * (X - bg.mean(axis=0))
    if not allclose(phi, ref, rtol=tol, atol=tol):
        if allclose(phi, coef * X, rtol=tol, atol=tol):
            raise Incorrect(
                f"{said}: phi = coef * x is not centred. SHAP explains f(x) minus the base value, "
                "so each feature's share is coef_j * (x_j - mean of feature j over the background)."
            )
        if allclose(phi, coef * (X - X.mean(axis=0)), rtol=tol, atol=tol):
            raise Incorrect(
                f"{said}: you centred on the mean of the explained rows X. Centre on the mean of "
                "the background, the reference distribution the explanation is relative to."
            )
        if allclose(phi, coef * (X - np.median(bg, axis=0)), rtol=tol, atol=tol):
            raise Incorrect(
                f"{said}: you centred on the background median; use the background mean."
            )
        if allclose(phi, coef * (bg.mean(axis=0) - X), rtol=tol, atol=tol):
            raise Incorrect(f"{said}: the sign is flipped; phi_j = coef_j * (x_j - mean_j).")
        raise Incorrect(f"{said}; this is not coef_j * (x_j - background mean of feature j).")
    ref_base = float(intercept + bg.mean(axis=0) @ coef)
    if not close(base, ref_base, rtol=tol, atol=tol):
        said = f"{where}, `linear_shap` returned the right phi but base_value = {base:.6g}"
        if close(base, float(intercept), rtol=tol, atol=tol):
            raise Incorrect(
                f"{said}, the intercept. The base value is the mean model output over the "
                "background, intercept + coef . (background mean); it equals the intercept only "
                "when every feature has mean 0."
            )
        if close(base, float(np.mean(X @ coef + intercept)), rtol=tol, atol=tol):
            raise Incorrect(
                f"{said}, the mean prediction over the explained rows X. The base value is the "
                "mean prediction over the background."
            )
        if close(base, 0.0, atol=tol):
            raise Incorrect(
                f"{said}. The base value is the mean model output over the background, not 0."
            )
        raise Incorrect(f"{said}, which is not the mean model output over the background.")


def _linear_shap(coef, intercept, X, background) -> tuple[np.ndarray, float]:
    coef, X = np.asarray(coef, dtype=float), np.asarray(X, dtype=float)
    mean_bg = np.asarray(background, dtype=float).mean(axis=0)
    return coef * (X - mean_bg), float(intercept + mean_bg @ coef)


@key_for(m08.q2)
class LinearShap(Question):
    tolerance = {"rtol": 1e-6, "atol": 1e-6}

    def references(self):
        return {"linear_shap": _linear_shap}

    def verify(self, linear_shap):
        coef, intercept, X, bg = _Q2_CASE
        where = (
            f"For coef = {_lst(coef)}, intercept = {intercept}, a 4-row X and a 5-row background"
        )
        phi, base = _q2_values(linear_shap, coef, intercept, X, bg)
        _q2_diagnose(phi, base, coef, intercept, X, bg, where, tol=1e-6)

    def verify_hidden(self, seed, linear_shap):
        rng = np.random.default_rng(seed)
        for _ in range(5):
            n, p, m = int(rng.integers(2, 12)), int(rng.integers(2, 9)), int(rng.integers(5, 40))
            if n == p:
                n += 1
            coef = rng.normal(0, 3, p)
            intercept = float(rng.normal(0, 5))
            bg = rng.normal(rng.normal(0, 4, p), rng.uniform(0.5, 3, p), (m, p))
            X = rng.normal(rng.normal(0, 4, p), rng.uniform(0.5, 3, p), (n, p))
            phi, base = _q2_values(linear_shap, coef, intercept, X, bg)
            where = (
                f"On a fresh linear model (p={p}) with {n} rows to explain and a {m}-row background"
            )
            _q2_diagnose(phi, base, coef, intercept, X, bg, where, tol=1e-9)


# =================================================================================================
# q3: one row, one class, from the (n, features, classes) array
# =================================================================================================
def _q3_check(phi_malignant, base_malignant, tol: float) -> None:
    d = _cancer()
    if type(phi_malignant) is np.ndarray and phi_malignant.shape == (30, 2):
        raise Incorrect(
            "`phi_malignant` has shape (30, 2): this is the legacy `shap_values[1]` idiom. Since "
            "shap 0.45, classifier SHAP values are (n, features, classes); `[1]` selects the "
            "second *sample* (all its features, both classes), not class 1. Index row, then "
            "all features, then the class: `[ROW, :, k]`."
        )
    phi = as_array(phi_malignant, "phi_malignant")
    if phi.shape == d.rf_values.shape:
        raise Incorrect(
            f"`phi_malignant` has shape {phi.shape}: the whole array. Select row ROW and the "
            "malignant class: `[ROW, :, 0]`, shape (30,)."
        )
    if phi.shape != (30,):
        raise Incorrect(
            f"`phi_malignant` has shape {phi.shape}; it should hold one value per feature, shape (30,)."
        )
    v = d.rf_values
    said = f"`phi_malignant` = {show(phi)}"
    if not allclose(phi, v[ROW, :, 0], rtol=tol, atol=tol):
        if allclose(phi, v[ROW, :, 1], rtol=tol, atol=tol):
            raise Incorrect(
                f"{said} is for class 1, benign. In this dataset 0 = malignant: take the class "
                "index 0 (`model.classes_` lists the order)."
            )
        for i in range(v.shape[0]):
            for k in (0, 1):
                if i != ROW and allclose(phi, v[i, :, k], rtol=tol, atol=tol):
                    raise Incorrect(
                        f"{said} is row {i} (class {k}) of the SHAP array, not row ROW = {ROW}. "
                        "Since shap 0.45 the first index is the *sample*: `shap_values[1]` "
                        "selects sample 1, not class 1."
                    )
        raise Incorrect(
            f"{said}: these are not the SHAP values of row ROW for the malignant class."
        )
    base = as_float(base_malignant, "base_malignant")
    if close(base, float(d.rf_base[0]), rtol=tol, atol=tol):
        return
    said = f"`base_malignant` = {base:.6g}"
    if close(base, float(d.rf_base[1]), rtol=tol, atol=tol):
        raise Incorrect(
            f"{said} is the base value of class 1, benign. Take class index 0, malignant."
        )
    for share in (d.y_train_share[0], d.y_test_share[0], d.y_bg_share[0], d.y_train_share[1]):
        if close(base, float(share), atol=1e-9):
            raise Incorrect(
                f"{said} is a share of labels: a mean(y). The base value is the mean *model output* "
                "on the background rows, E[f(X)] (`explainer.expected_value[0]`), not the base rate "
                "of the labels."
            )
    if close(base, float(d.rf_mean_row[0]), rtol=tol, atol=tol):
        raise Incorrect(
            f"{said} is the model's output at the mean row of the background, f(mean x). The base "
            "value is the mean of the outputs, E[f(x)], and for a forest the two differ."
        )
    if close(base, float(d.rf_proba[ROW, 0]), rtol=tol, atol=tol):
        raise Incorrect(
            f"{said} is the prediction for row ROW itself, f(x). The base value is where the "
            "explanation starts: the mean output over the background."
        )
    raise Incorrect(f"{said} is not the malignant-class base value of the explainer.")


@key_for(m08.q3)
class MalignantShap(Question):
    tolerance = {"rtol": 1e-6, "atol": 1e-6}

    def references(self):
        d = _cancer()
        return {"phi_malignant": d.rf_values[ROW, :, 0].copy(),
                "base_malignant": float(d.rf_base[0])}

    def verify_graded(self, seed, **values):
        self.verify(**values)  # variables: no fresh inputs to draw

    def verify(self, phi_malignant, base_malignant):
        _q3_check(phi_malignant, base_malignant, tol=1e-6)

    def verify_hidden(self, seed, phi_malignant, base_malignant):
        _q3_check(phi_malignant, base_malignant, tol=1e-6)
        phi = as_array(phi_malignant, "phi_malignant")
        base = as_float(base_malignant, "base_malignant")
        d = _cancer()
        total = float(np.sum(phi)) + base
        if not close(total, float(d.rf_proba[ROW, 0]), atol=1e-6):
            raise Incorrect(
                f"`phi_malignant.sum() + base_malignant` = {total:.8g} does not reproduce the "
                "forest's predicted probability of malignant for row ROW (additivity)."
            )
        if not (
            allclose(phi, d.rf_values[ROW, :, 0], rtol=1e-9, atol=1e-9)
            and close(base, float(d.rf_base[0]), rtol=1e-12, atol=1e-9)
        ):
            raise Incorrect(
                "`phi_malignant` or `base_malignant` is close to the right value but not equal to "
                "it. Take both from the explainer in code, and do not round them."
            )


# =================================================================================================
# q4: log-odds SHAP values to a probability
# =================================================================================================
_Q4_CASES = ((-0.4, [1.2, -0.3, 0.8, -0.1]), (1.1, [-2.0, 0.25, -0.6]))


def _q4_diagnose(got: float, base: float, phi: np.ndarray, where: str, *, tol: float) -> None:
    z = base + float(np.sum(phi))
    ref = _sigmoid(z)
    if close(got, ref, rtol=tol, atol=tol):
        return
    said = f"{where}, `logodds_to_proba` returned {got:.6g}"
    if close(got, z, rtol=tol, atol=tol):
        raise Incorrect(
            f"{said}: that is base + sum(phi), still in log-odds. A log-odds SHAP sum must not be "
            "compared with a probability; apply the logistic function 1 / (1 + exp(-z))."
        )
    if close(got, _sigmoid(float(np.sum(phi))), rtol=tol, atol=tol):
        raise Incorrect(
            f"{said}: the base value is missing. The log-odds are base_value + sum(phi)."
        )
    if close(got, 1.0 - ref, rtol=tol, atol=tol):
        raise Incorrect(
            f"{said}: that is the probability of the other class; the logistic function is "
            "1 / (1 + exp(-z)), with a minus sign."
        )
    if close(got, float(np.exp(z)), rtol=tol, atol=tol):
        raise Incorrect(
            f"{said}: exp(z) gives the odds, not the probability: p = odds / (1 + odds)."
        )
    if close(got, _sigmoid(base) + float(np.sum(phi)), rtol=tol, atol=tol):
        raise Incorrect(
            f"{said}: you added log-odds SHAP values to a probability. SHAP values live in the same "
            "output space as their base value: add in log-odds, then convert the sum."
        )
    if close(got, float(np.sum([_sigmoid(v) for v in phi])) + _sigmoid(base), rtol=tol, atol=tol):
        raise Incorrect(
            f"{said}: the logistic function was applied to each term. It is not additive: add the "
            "log-odds first, then convert the sum once."
        )
    raise Incorrect(
        f"{said}, which is not the probability that base_value + sum(phi) log-odds give."
    )


@key_for(m08.q4)
class LogOddsToProba(Question):
    def references(self):
        return {"logodds_to_proba": lambda base_value, phi: _sigmoid(
                    float(base_value) + float(np.sum(phi))),
                "p_benign_gb": float(_cancer().gb_proba[ROW, 1])}

    def verify_graded(self, seed, logodds_to_proba, p_benign_gb):
        # The designed cases, then fresh inputs; the variable keeps the visible tolerance.
        self.verify(logodds_to_proba=logodds_to_proba, p_benign_gb=p_benign_gb)
        self._fresh(seed, logodds_to_proba)

    def verify(self, logodds_to_proba, p_benign_gb):
        for base, phi in _Q4_CASES:
            phi = np.array(phi)
            where = f"For base_value = {base} and phi = {_lst(phi)}"
            got = as_float(
                call(logodds_to_proba, "logodds_to_proba", base, phi.copy()),
                "logodds_to_proba(...)",
            )
            _q4_diagnose(got, base, phi, where, tol=1e-9)
        self._check_value(p_benign_gb, tol=1e-6)

    def verify_hidden(self, seed, logodds_to_proba, p_benign_gb):
        self._fresh(seed, logodds_to_proba)
        self._check_value(p_benign_gb, tol=1e-9)

    @staticmethod
    def _fresh(seed, logodds_to_proba):
        rng = np.random.default_rng(seed)
        for _ in range(6):
            p = int(rng.integers(2, 15))
            base = float(rng.normal(0, 1.5))
            phi = rng.normal(0, 0.8, p)
            where = f"On fresh inputs (base_value = {base:.4g}, {p} SHAP values)"
            got = as_float(
                call(logodds_to_proba, "logodds_to_proba", base, phi.copy()),
                "logodds_to_proba(...)",
            )
            _q4_diagnose(got, base, phi, where, tol=1e-12)

    @staticmethod
    def _check_value(p_benign_gb, tol: float) -> None:
        d = _cancer()
        p = as_float(p_benign_gb, "p_benign_gb")
        if close(p, float(d.gb_proba[ROW, 1]), rtol=tol, atol=tol):
            return
        said = f"`p_benign_gb` = {p:.6g}"
        if close(p, float(d.gb_margin[ROW]), rtol=1e-6, atol=1e-6):
            raise Incorrect(
                f"{said} is in log-odds (the decision function). Convert it to a probability."
            )
        if close(p, float(d.gb_proba[ROW, 0]), rtol=1e-6, atol=1e-6):
            raise Incorrect(
                f"{said} is the probability of malignant (class 0); the question asks for benign."
            )
        if not 0.0 <= p <= 1.0:
            raise Incorrect(f"{said}, but a probability lies between 0 and 1.")
        raise Incorrect(f"{said} is not the boosting model's probability of benign for row ROW.")


# =================================================================================================
# q5: global importance and the noise floor
# =================================================================================================
_Q5_CASE = (
    np.array(
        [
            [0.5, -2.0, 0.1],
            [-1.5, 1.0, 0.3],
            [2.0, -0.5, -0.2],
            [-0.4, 3.0, 0.0],
            [1.0, -1.5, -0.6],
        ]
    ),
    ["width", "area", "colour"],
)


def _q5_series(func, values: np.ndarray, names, where: str) -> tuple[list[str], np.ndarray]:
    got = call(func, "mean_abs_shap", values.copy(), list(names))
    if type(got) is not pd.Series:
        raise Incorrect(
            f"{where}, `mean_abs_shap` returned a {type(got).__name__}: {show(got)}; it should be a "
            "pandas Series indexed by feature name."
        )
    vals = as_array(got, "mean_abs_shap(...)")
    n, p = values.shape
    if vals.shape == (n,) and n != p:
        raise Incorrect(
            f"{where}, `mean_abs_shap` returned {_lst(vals)}: one value per *row*. Average over "
            "the rows (axis=0), one value per feature."
        )
    index = [as_str(k, "an index label of mean_abs_shap(...)") for k in list(got.index)]
    return index, vals


def _q5_diagnose(index, vals, values: np.ndarray, names, where: str, *, tol: float) -> None:
    p = values.shape[1]
    said = f"{where}, `mean_abs_shap` returned {_lst(vals)}"
    if vals.shape != (p,) or sorted(index) != sorted(names):
        raise Incorrect(
            f"{said} with index {index}; it should have one entry per feature, indexed by the names."
        )
    by_name = dict(zip(index, vals, strict=True))
    got = np.array([by_name[k] for k in names])
    ref = np.abs(values).mean(axis=0)
    if not allclose(got, ref, rtol=tol, atol=tol):
        if allclose(got, values.mean(axis=0), rtol=tol, atol=tol):
            raise Incorrect(
                f"{said}: the mean of the signed SHAP values. Positive and negative effects cancel, "
                "so a strong feature can average to about 0: take absolute values before averaging."
            )
        if allclose(got, np.abs(values.mean(axis=0)), rtol=tol, atol=tol):
            raise Incorrect(
                f"{said}: the absolute value of the mean. Take absolute values before averaging, "
                "not after."
            )
        if allclose(got, np.abs(values).sum(axis=0), rtol=tol, atol=tol):
            raise Incorrect(
                f"{said}: the sum over rows. Use the mean, so the scale does not depend on n."
            )
        if allclose(got, (values**2).mean(axis=0), rtol=tol, atol=tol) or allclose(
            got, np.sqrt((values**2).mean(axis=0)), rtol=tol, atol=tol
        ):
            raise Incorrect(
                f"{said}: squared values. The usual global importance is the mean of |SHAP|."
            )
        raise Incorrect(f"{said}; these are not the mean absolute SHAP values per feature.")
    if any(vals[i] < vals[i + 1] for i in range(p - 1)):
        order = "ascending" if all(vals[i] <= vals[i + 1] for i in range(p - 1)) else "unsorted"
        raise Incorrect(
            f"{said} with index {index}: the values are right but {order}. Sort the Series in "
            "descending order (most important first)."
        )


def _q5_values(top5, noise_floor, tol: float) -> None:
    d = _friedman()
    if type(top5) not in (list, tuple):
        raise Incorrect(
            f"`top5` should be a list of 5 feature names, but it is a {type(top5).__name__}: {show(top5)}."
        )
    names = [as_str(v, "an item of top5") for v in top5]
    if len(names) != 5:
        raise Incorrect(
            f"`top5` should hold 5 feature names, but it holds {len(names)}: {show(names)}."
        )
    imp = np.abs(d.values).mean(axis=0)
    ref_top = {d.names[j] for j in np.argsort(-imp)[:5]}
    if set(names) != ref_top:
        signed = {d.names[j] for j in np.argsort(-d.values.mean(axis=0))[:5]}
        if set(names) == signed:
            raise Incorrect(
                f"`top5` = {names} ranks the signed mean SHAP values; rank by mean |SHAP| instead."
            )
        raise Incorrect(f"`top5` = {names} are not the five features with the largest mean |SHAP|.")
    floor = as_float(noise_floor, "noise_floor")
    noise = [d.names.index(k) for k in NOISE_FEATURES]
    ref = float(imp[noise].max())
    if close(floor, ref, rtol=tol, atol=tol):
        return
    said = f"`noise_floor` = {floor:.6g}"
    if close(floor, float(d.values[:, noise].mean(axis=0).max()), rtol=1e-6, atol=1e-9) or close(
        floor, float(np.abs(d.values[:, noise].mean(axis=0)).max()), rtol=1e-6, atol=1e-9
    ):
        raise Incorrect(
            f"{said} comes from the signed mean SHAP values; take absolute values before averaging."
        )
    if close(floor, float(imp[noise].min()), rtol=1e-6, atol=1e-9) or close(
        floor, float(imp[noise].mean()), rtol=1e-6, atol=1e-9
    ):
        raise Incorrect(
            f"{said} is not the largest mean |SHAP| among the noise features x5..x9. The floor is "
            "the largest: any real feature should stand clearly above it."
        )
    if close(floor, float(imp.max()), rtol=1e-6, atol=1e-9) or close(
        floor, float(np.sort(imp)[-6]), rtol=1e-6, atol=1e-9
    ):
        raise Incorrect(f"{said} uses features other than the noise features x5..x9.")
    raise Incorrect(f"{said} is not the largest mean |SHAP| among the noise features x5..x9.")


def _mean_abs_shap(values, feature_names) -> pd.Series:
    importance = np.abs(np.asarray(values, dtype=float)).mean(axis=0)
    return pd.Series(importance, index=list(feature_names)).sort_values(ascending=False)


@key_for(m08.q5)
class GlobalImportance(Question):
    unordered = ("top5",)  # compared as a set
    ordered = ("mean_abs_shap",)  # a ranking: the offline check compares its labels in order

    def references(self):
        d = _friedman()
        imp = np.abs(d.values).mean(axis=0)
        noise = [d.names.index(k) for k in NOISE_FEATURES]
        return {"mean_abs_shap": _mean_abs_shap,
                "top5": [d.names[j] for j in np.argsort(-imp)[:5]],
                "noise_floor": float(imp[noise].max())}

    def verify_graded(self, seed, mean_abs_shap, top5, noise_floor):
        # The designed case, then fresh arrays; the variables keep the visible tolerance.
        self.verify(mean_abs_shap=mean_abs_shap, top5=top5, noise_floor=noise_floor)
        self._fresh(seed, mean_abs_shap)

    def verify(self, mean_abs_shap, top5, noise_floor):
        values, names = _Q5_CASE
        where = f"For a 5 x 3 array of SHAP values with names {names}"
        index, vals = _q5_series(mean_abs_shap, values, names, where)
        _q5_diagnose(index, vals, values, names, where, tol=1e-9)
        _q5_values(top5, noise_floor, tol=1e-6)

    def verify_hidden(self, seed, mean_abs_shap, top5, noise_floor):
        self._fresh(seed, mean_abs_shap)
        _q5_values(top5, noise_floor, tol=1e-9)

    @staticmethod
    def _fresh(seed, mean_abs_shap):
        rng = np.random.default_rng(seed)
        for _ in range(4):
            n, p = int(rng.integers(5, 40)), int(rng.integers(3, 9))
            if n == p:
                n += 1
            values = rng.normal(0, rng.uniform(0.1, 3, p), (n, p))
            names = [f"feat_{c}" for c in rng.permutation(list("abcdefghij"))[:p]]
            where = f"On a fresh {n} x {p} array of SHAP values"
            index, vals = _q5_series(mean_abs_shap, values, names, where)
            _q5_diagnose(index, vals, values, names, where, tol=1e-12)


# The decorator turns each class into its question instance: by label, and as q1 ... q5.
q1, q2, q3, q4, q5 = ExactShapley, LinearShap, MalignantShap, LogOddsToProba, GlobalImportance
QUESTIONS = {q.label: q for q in (q1, q2, q3, q4, q5)}
