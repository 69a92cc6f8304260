"""The answer key of assignment 03, "Linear algebra and calculus": instructor-only, never released.

==== ========================================== ===============================================
q1   ``ols(X, y, w=None)``                      (weighted) least squares with an intercept
q2   ``vif(X)``                                 variance inflation factor of every column
q3   ``condition_indices(X)``                   Belsley's condition indices, standardised design
q4   ``softmax(Z)``                             class probabilities from scores, overflow-safe
q5   ``step_to_reach(p0, p1, beta)``            the feature step that moves p0 to p1
q6   ``logloss_grad(beta, X, y)``               gradient of the mean logistic log-loss
q7   ``shapley_weight(p, s)``,                  Shapley weights, and exact Shapley values of a
     ``shapley_values(f, x, baseline)``         model's prediction against a baseline row
q8   ``most_sensitive``, ``largest_share``      which explanation answers which question
==== ========================================== ===============================================

``grader release`` and ``nbgrader generate_assignment`` skip this file (``nbgrader_config.py``
ignores ``key.py``). It holds what the student-side package (:mod:`grader.checks.m03`) must not:
the reference computations, the diagnosis code of every check (``verify``, ``verify_hidden``; the
graded visible test is the default ``verify_graded``: the designed cases, then fresh inputs from
the grading seed) and each question's ``references()``. The grader loads it outside the
student's kernel (:mod:`grader.judging`); see ``docs/authoring.md``.

Transfer (issue 14): no question repeats a lecture cell. The lecture fits ordinary least squares,
computes a two-feature VIF from a correlation, one condition number, the binary sigmoid, the
probability after a step, a central-difference gradient and the Shapley value of a hand-written
game; the assignment asks for weighted least squares, the VIF of p columns, all condition
indices, the multiclass softmax (stable at large scores), the inverse question (the step that
reaches a target probability), an analytic gradient checked numerically, the game built from a
model and a baseline row, and (q8) a choice between sensitivity and attribution on a new model.

Every fresh input is drawn until it *separates* each catalogued mistake from the right answer
(:func:`_draw`, a bounded loop), so no seed lets a named mistake pass (issue 14, the kind of
11 q2's raw-units mutant). The inputs of q7 are a function defined by data
(:class:`grader.checks.m03.CurvedFunction`), so that they cross into the student's kernel.
"""

from __future__ import annotations

import functools
import itertools
import math

import numpy as np

from grader.checks import m03
from grader.checks.core import Incorrect, Question, call, draw_separating, key_for, separates
from grader.checks.m03 import CurvedFunction
from grader.checks.values import allclose, as_array, as_float, as_int, close, show
from grader.datasets import diabetes_raw

#: The key's questions, by label.
__all__ = ["QUESTIONS"]


# --- small helpers -----------------------------------------------------------------------------
def _lst(a) -> str:
    """A short literal for a small input array, e.g. ``[1, 0, 0.45]``."""
    flat = np.asarray(a, dtype=float).ravel()
    vals = [f"{v:g}" for v in flat[:12]]
    return "[" + ", ".join(vals) + (", ..." if flat.size > 12 else "") + "]"


def _with_ones(X: np.ndarray) -> np.ndarray:
    return np.column_stack([np.ones(X.shape[0]), X])


def _lstsq(A: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.linalg.lstsq(A, b, rcond=None)[0]


def _r2(target: np.ndarray, others: np.ndarray, *, intercept: bool = True) -> float:
    """R^2 of regressing ``target`` on ``others`` (centred total sum of squares)."""
    A = _with_ones(others) if intercept else others
    resid = target - A @ _lstsq(A, target)
    return 1.0 - float(resid @ resid) / float(np.sum((target - target.mean()) ** 2))


def _r2_all(X: np.ndarray, *, intercept: bool = True) -> np.ndarray:
    return np.array(
        [_r2(X[:, j], np.delete(X, j, axis=1), intercept=intercept) for j in range(X.shape[1])]
    )


def _standardise(X: np.ndarray) -> np.ndarray:
    return (X - X.mean(axis=0)) / X.std(axis=0)


def _sig(z):
    return 1.0 / (1.0 + np.exp(-np.asarray(z, dtype=float)))


def _logit(p):
    p = np.asarray(p, dtype=float)
    return np.log(p / (1.0 - p))


def _apart(right, wrong, rtol: float = 1e-3) -> bool:
    """Whether a mistake's result ``wrong`` is separated from ``right``: another shape, or some
    entry more than ``rtol`` (relative to the largest entry of ``right``) away."""
    right = np.atleast_1d(np.asarray(right, dtype=float))
    wrong = np.atleast_1d(np.asarray(wrong, dtype=float))
    scale = max(float(np.max(np.abs(right))), 1e-12)
    return not (wrong.shape == right.shape
                and float(np.max(np.abs(wrong - right))) <= rtol * scale)


def _separated(right, wrongs) -> bool:
    """Whether every wrong answer in ``wrongs`` is :func:`_apart` from ``right``."""
    return separates((right, wrongs), _apart)


def _draw(make, mistakes, rng, tries: int = 50):
    """``make(rng)`` until ``mistakes(*case)`` returns (right, [wrong, ...]) that are separated
    (:func:`grader.checks.core.draw_separating`); after ``tries`` draws (never reached in the
    tests) the last case is used."""
    return draw_separating(make, lambda case: mistakes(*case), rng, separated=_apart,
                           tries=tries, fallback="last")


@functools.lru_cache(maxsize=1)
def _diabetes_X() -> np.ndarray:
    X, _ = diabetes_raw()
    return X.to_numpy(dtype=float)


def _array_answer(got, name: str, shape: tuple[int, ...]) -> np.ndarray:
    """A float array of ``shape`` (a scalar answer for a one-element shape is refused too)."""
    return as_array(got, name, shape=shape)


# =================================================================================================
# q1: weighted least squares with an intercept
# =================================================================================================
def _wls(X: np.ndarray, y: np.ndarray, w: np.ndarray | None = None) -> np.ndarray:
    """argmin over beta of sum_i w_i (y_i - [1, x_i] beta)^2: lstsq on rows scaled by sqrt(w)."""
    X1 = _with_ones(X)
    if w is None:
        return _lstsq(X1, y)
    r = np.sqrt(w)
    return _lstsq(X1 * r[:, None], y * r)


def _q1_toy():
    # y = 3 + 2 x1 - x2 exactly: a nonzero intercept and coefficients of both signs.
    X = np.array([[1.0, 2.0], [2.0, 0.0], [3.0, 5.0], [4.0, 1.0], [5.0, 3.0], [6.0, 4.0]])
    return X, 3.0 + 2.0 * X[:, 0] - X[:, 1]


def _q1_noisy(rng, n: int, p: int):
    X = rng.normal(rng.uniform(-3, 6, p), rng.uniform(0.5, 4, p), size=(n, p))
    beta = rng.uniform(-3, 3, p)
    y = rng.uniform(5, 20) + X @ beta + rng.normal(0, 1.0, n) * rng.uniform(0.5, 3, n)
    return X, y


def _q1_weights(rng, n: int) -> np.ndarray:
    return rng.uniform(0.05, 4.0, n)


def _q1_weight_mistakes(X, y, w) -> list[tuple[np.ndarray, str]]:
    """The catalogued weighting mistakes: (their coefficients, the message after the value)."""
    X1, r = _with_ones(X), np.sqrt(w)
    return [
        (_lstsq(X1, y),
         "the weights are ignored: that is the ordinary least-squares fit. Each squared residual "
         "must count w_i times."),
        (_lstsq(X1 * w[:, None], y * w),
         "the rows are multiplied by w, which weights each *squared* residual by w_i^2. To weight "
         "the squared residual by w_i, scale each row (of X1 and of y) by the square root of w_i."),
        (_lstsq(X1 * r[:, None], y),
         "only the rows of X1 are scaled, not y: the residual y_i - x_i beta must be scaled as a "
         "whole, both sides by the same factor."),
        (_lstsq(X1, y * r),
         "only y is scaled, not the rows of X1: the residual y_i - x_i beta must be scaled as a "
         "whole, both sides by the same factor."),
        (_lstsq(np.column_stack([np.ones(len(y)), X * r[:, None]]), y * r),
         "the column of ones is not weighted (the features were scaled before the column of ones "
         "was added). The intercept's column is part of each row: scale it too."),
    ]


def _q1_run(func, X: np.ndarray, y: np.ndarray, w, where: str, *, collinear: bool = False) -> None:
    n, p = X.shape
    args = (X.copy(), y.copy()) if w is None else (X.copy(), y.copy(), w.copy())
    try:
        got = call(func, "ols", *args)
    except Incorrect as exc:
        text = str(exc)
        if any(t in text for t in ("mismatch", "not aligned", "shapes", "Incompatible dimension")):
            raise Incorrect(
                f"{text}. A shape mismatch in a matrix product usually means a wrong transpose: "
                "with X1 of shape (n, p + 1) (the column of ones first), the normal equations are "
                "(X1.T @ X1) beta = X1.T @ y, and lstsq takes (X1, y) as they are."
            ) from None
        raise
    said = f"{where}, `ols` returned"
    if type(got) is tuple and len(got) == 4 and type(got[0]) is np.ndarray:
        raise Incorrect(
            f"{said} a tuple of 4 items. `np.linalg.lstsq` returns (solution, residuals, rank, "
            "singular values): return only its first item, the coefficient vector."
        )
    if type(got) is np.ndarray and got.ndim == 2 and 1 in got.shape:
        got = got.ravel()
    if type(got) is np.ndarray and got.shape == (p,):
        raise Incorrect(
            f"{said} {p} values ({show(got)}) for {p} columns: the intercept is missing. Add a "
            "column of ones as the first column of the design before solving, and return all "
            "p + 1 coefficients, the intercept first."
        )
    if type(got) is np.ndarray and got.shape == (n,):
        raise Incorrect(
            f"{said} an array of shape ({n},), one value per row: these look like fitted values. "
            "Return the coefficient vector (intercept first), of length p + 1."
        )
    beta = _array_answer(got, "ols(X, y)" if w is None else "ols(X, y, w)", (p + 1,))
    X1 = _with_ones(X)
    ref = _wls(X, y, w)
    if collinear:
        # Coefficients of near-collinear columns are not unique to many digits; the fit is.
        scale = float(np.std(y))
        off = float(np.max(np.abs(X1 @ beta - X1 @ ref)))
        if off <= 1e-8 * scale:
            return
        if float(np.max(np.abs(X1 @ np.r_[beta[-1], beta[:-1]] - X1 @ ref))) <= 1e-8 * scale:
            raise Incorrect(
                f"{said} {show(beta)}: the intercept is last. Put the column of ones *first*, so "
                "that the returned vector is (intercept, coef_1, ..., coef_p)."
            )
        raise Incorrect(
            f"{said} coefficients whose fitted values are off by up to {off:.2g} (y has a spread "
            f"of about {scale:.2g}). Two columns here are almost identical, so X1.T @ X1 is "
            "nearly singular: inverting it (or solving the normal equations) squares the "
            "condition number and loses most of the digits. Solve the least-squares problem on "
            "the design itself, as the lecture does."
        )
    tol = dict(rtol=1e-6, atol=1e-8)
    if allclose(beta, ref, **tol):
        return
    if allclose(beta, np.r_[ref[1:], ref[0]], **tol):
        raise Incorrect(
            f"{said} {show(beta)}: the intercept is last. Put the column of ones *first*, so that "
            "the returned vector is (intercept, coef_1, ..., coef_p)."
        )
    if w is not None:
        for wrong, text in _q1_weight_mistakes(X, y, w):
            if allclose(beta, wrong, **tol):
                raise Incorrect(f"{said} {show(beta)}: {text}")
    raise Incorrect(f"{said} {show(beta)}, which is not the (weighted) least-squares solution.")


def _q1_collinear(rng, n: int = 60):
    """Two columns equal up to noise of 1e-5: the normal equations lose about 10 digits here."""
    x1 = rng.normal(5, 2, n)
    X = np.column_stack([x1, x1 + rng.normal(0, 1e-5, n), rng.normal(-3, 1, n)])
    y = 4 + 2 * X[:, 0] + X[:, 1] - 3 * X[:, 2] + rng.normal(0, 0.5, n)
    return X, y


@key_for(m03.q1)
class OLS(Question):
    def references(self):
        def ols(X, y, w=None):
            return _wls(np.asarray(X, dtype=float), np.asarray(y, dtype=float),
                        None if w is None else np.asarray(w, dtype=float))

        return {"ols": ols}

    def verify(self, ols):
        X, y = _q1_toy()
        _q1_run(ols, X, y, None, f"For X with rows {_lst(X[:3])}... and y = 3 + 2 x1 - x2")
        X, y = _q1_collinear(np.random.default_rng(3))
        _q1_run(ols, X, y, None, "On a table whose first two columns are almost equal",
                collinear=True)
        rng = np.random.default_rng(303)
        X, y = _q1_noisy(rng, 40, 3)
        _q1_run(ols, X, y, _q1_weights(rng, 40), "On a noisy table (40 rows, 3 columns) with weights")

    def verify_hidden(self, seed, ols):
        rng = np.random.default_rng(seed)

        def make(g):
            n, p = int(g.integers(15, 80)), int(g.integers(1, 6))
            X, y = _q1_noisy(g, n, p)
            return X, y, _q1_weights(g, n)

        def mistakes(X, y, w):
            return _wls(X, y, w), [m for m, _ in _q1_weight_mistakes(X, y, w)]

        for k in range(4):
            X, y, w = _draw(make, mistakes, rng)
            _q1_run(ols, X, y, None if k == 0 else w,
                    f"On a fresh table ({X.shape[0]} rows, {X.shape[1]} columns"
                    f"{'' if k == 0 else ', with weights'})")
        X, y = _q1_collinear(rng, int(rng.integers(40, 90)))
        _q1_run(ols, X, y, None, "On a fresh nearly collinear table", collinear=True)


# =================================================================================================
# q2: variance inflation factors
# =================================================================================================
def _q2_toy() -> np.ndarray:
    """Four columns with different means and scales; x3 is close to x1 + x2, x4 is independent."""
    rng = np.random.default_rng(32)
    n = 50
    x1 = rng.normal(10, 2, n)
    x2 = rng.normal(-4, 1, n) + 0.3 * x1
    x3 = x1 + 2 * x2 + rng.normal(0, 1.5, n)
    x4 = rng.normal(100, 15, n)
    return np.column_stack([x1, x2, x3, x4])


def _q2_run(func, X: np.ndarray, where: str) -> None:
    p = X.shape[1]
    got = call(func, "vif", X.copy())
    said = f"{where}, `vif` returned"
    if type(got) is np.ndarray and got.dtype.kind == "f" and not bool(np.all(np.isfinite(got))):
        raise Incorrect(
            f"{said} {show(got)}, with infinite values: an R^2 of exactly 1. Regress column j on "
            "the *other* columns only (drop column j from the regressors)."
        )
    vifs = _array_answer(got, "vif(X)", (p,))
    r2 = _r2_all(X)
    ref = 1.0 / (1.0 - r2)
    if allclose(vifs, ref, rtol=1e-6):
        return
    said = f"{said} {show(vifs)}"
    tol = dict(rtol=1e-6, atol=1e-9)
    if allclose(vifs, 1.0 / r2, **tol):
        raise Incorrect(
            f"{said}: that is 1 / R^2_j. The VIF is 1 / (1 - R^2_j): it grows without bound as "
            "column j becomes predictable from the others (R^2_j -> 1)."
        )
    if allclose(vifs, r2 / (1.0 - r2), **tol):
        raise Incorrect(
            f"{said}: that is R^2_j / (1 - R^2_j), which is VIF - 1. The VIF is 1 / (1 - R^2_j), "
            "so a column unrelated to the others has VIF 1, not 0."
        )
    if allclose(vifs, r2, **tol):
        raise Incorrect(f"{said}: these are the R^2_j themselves. The VIF is 1 / (1 - R^2_j).")
    if allclose(vifs, 1.0 - r2, **tol):
        raise Incorrect(
            f"{said}: that is 1 - R^2_j (the 'tolerance'). The VIF is its reciprocal, 1 / (1 - R^2_j)."
        )
    r2_origin = _r2_all(X, intercept=False)
    if allclose(vifs, 1.0 / (1.0 - r2_origin), **tol):
        raise Incorrect(
            f"{said}: the auxiliary regressions have no intercept. Regress column j on a column "
            "of ones *and* the other columns, as in q1's `ols`."
        )
    raise Incorrect(f"{said}, which are not the VIFs 1 / (1 - R^2_j).")


@key_for(m03.q2)
class VIF(Question):
    def references(self):
        return {"vif": lambda X: 1.0 / (1.0 - _r2_all(np.asarray(X, dtype=float)))}


    def verify(self, vif):
        _q2_run(vif, _q2_toy(), "On a 4-column table where x3 is close to x1 + 2 x2")
        _q2_run(vif, _diabetes_X(), "On the diabetes features (original units)")

    def verify_hidden(self, seed, vif):
        rng = np.random.default_rng(seed)

        def make(g):
            n, p = int(g.integers(25, 90)), int(g.integers(2, 7))
            X = g.normal(g.uniform(-5, 20, p), g.uniform(0.5, 5, p), size=(n, p))
            X[:, -1] += X[:, 0] * g.uniform(0.5, 2)  # some collinearity
            return (X,)

        def mistakes(X):
            r2, r2_origin = _r2_all(X), _r2_all(X, intercept=False)
            return 1 / (1 - r2), [1 / r2, r2 / (1 - r2), r2, 1 - r2, 1 / (1 - r2_origin)]

        for _ in range(4):
            (X,) = _draw(make, mistakes, rng)
            _q2_run(vif, X, f"On a fresh table ({X.shape[0]} rows, {X.shape[1]} columns)")


# =================================================================================================
# q3: condition indices of the standardised design (Belsley, Kuh and Welsch 1980, ch. 3)
# =================================================================================================
def _q3_toy() -> np.ndarray:
    """Columns on very different scales (and means), two of them correlated."""
    rng = np.random.default_rng(33)
    n = 40
    a = rng.normal(50, 10, n)
    b = 0.02 * a + rng.normal(3, 0.1, n)
    c = rng.normal(-2000, 300, n)
    return np.column_stack([a, b, c])


def _indices(A: np.ndarray) -> np.ndarray:
    """sigma_max / sigma_k for every singular value of ``A``, in increasing order."""
    s = np.linalg.svd(A, compute_uv=False)
    return np.sort(s.max() / s)


def _q3_mistakes(X: np.ndarray) -> list[tuple[np.ndarray, str]]:
    Z = _standardise(X)
    s = np.linalg.svd(Z, compute_uv=False)
    return [
        (_indices(X),
         "these are the indices of the raw X, which mostly measure how different the columns' "
         "units are. Standardise each column first (subtract its mean, divide by its standard "
         "deviation)."),
        (_indices(Z.T @ Z),
         "these are the indices of Z.T @ Z (ratios of eigenvalues of the correlation matrix), "
         "the *squares* of the indices of Z. Use the singular values of the standardised X "
         "itself."),
        (_indices(X / X.std(axis=0)),
         "the columns are scaled but not centred. Subtract each column's mean too."),
        (_indices(X - X.mean(axis=0)),
         "the columns are centred but not scaled, so the units still dominate. Divide each "
         "column by its standard deviation too."),
        (np.sort(s / s.max()),
         "these are sigma_k / sigma_max, the ratios upside down: a condition index is the "
         "largest singular value divided by each one, so it is at least 1."),
        (np.sort(s),
         "these are the singular values themselves, not ratios: divide the largest singular value "
         "by each of them."),
    ]


def _q3_run(func, X: np.ndarray, where: str) -> None:
    p = X.shape[1]
    got = call(func, "condition_indices", X.copy())
    said = f"{where}, `condition_indices` returned"
    ref = _indices(_standardise(X))
    if p > 1 and (type(got) in (float, int) or (hasattr(got, "shape") and got.shape == ())):
        raise Incorrect(
            f"{said} one number ({show(got)}) for {p} columns: return one index per singular "
            "value (p numbers, smallest first), of which the condition number is the last."
        )
    got = _array_answer(got, "condition_indices(X)", (p,))
    said = f"{said} {show(got)}"
    if allclose(got, ref, rtol=1e-6):
        return
    if allclose(got, ref[::-1], rtol=1e-6):
        raise Incorrect(f"{said}: the right numbers in decreasing order. Sort them smallest first "
                        "(the first index is always 1).")
    for wrong, text in _q3_mistakes(X):
        if allclose(np.sort(got), wrong, rtol=1e-6):
            raise Incorrect(f"{said}: {text}")
    raise Incorrect(f"{said}, which are not the condition indices of the standardised X.")


@key_for(m03.q3)
class ConditionIndices(Question):
    def references(self):
        return {"condition_indices": lambda X: _indices(_standardise(np.asarray(X, dtype=float)))}

    def verify(self, condition_indices):
        _q3_run(condition_indices, _q3_toy(), "On a 3-column table with very different units")
        _q3_run(condition_indices, _diabetes_X(), "On the diabetes features (original units)")

    def verify_hidden(self, seed, condition_indices):
        rng = np.random.default_rng(seed)

        def make(g):
            n, p = int(g.integers(20, 80)), int(g.integers(2, 6))
            X = g.normal(g.uniform(-50, 50, p), g.uniform(0.1, 100, p), size=(n, p))
            X[:, 0] += X[:, -1] * g.uniform(0.1, 1)
            return (X,)

        def mistakes(X):
            ref = _indices(_standardise(X))
            return ref, [ref[::-1]] + [m for m, _ in _q3_mistakes(X)]

        for _ in range(4):
            (X,) = _draw(make, mistakes, rng)
            _q3_run(condition_indices, X, f"On a fresh table ({X.shape[0]} rows, {X.shape[1]} "
                    "columns)")


# =================================================================================================
# q4: softmax, the multiclass sigmoid
# =================================================================================================
def _softmax(Z) -> np.ndarray:
    Z = np.asarray(Z, dtype=float)
    E = np.exp(Z - Z.max(axis=1, keepdims=True))
    return E / E.sum(axis=1, keepdims=True)


#: 3 rows, 4 classes (n != K, so a row/column mix-up cannot broadcast by accident).
_Q4_MODERATE = np.array([[1.5, -0.5, 0.0, 2.2], [-3.0, 0.4, 1.1, -0.2], [0.3, 0.3, -2.5, 4.0]])
#: Scores far from 0: exp overflows at +710 and underflows to 0 below -745.
_Q4_LARGE = np.array([[1000.0, 998.5, 995.0], [-1000.0, -1003.0, -999.0], [2.0, -1.0, 0.5],
                      [760.0, -760.0, 0.0]])


def _q4_mistakes(Z: np.ndarray) -> list[tuple[np.ndarray, str]]:
    with np.errstate(all="ignore"):
        E = np.exp(Z - Z.max())
        return [
            (E / E.sum(axis=0, keepdims=True),
             "each *column* sums to 1. Each row is one case whose class probabilities must sum "
             "to 1: normalise along axis 1."),
            (E / E.sum(),
             "the whole matrix sums to 1. Each row is one case whose class probabilities must sum "
             "to 1: normalise each row by its own sum."),
            (_sig(Z),
             "the sigmoid of each score on its own: the rows do not sum to 1. With K classes "
             "the probabilities come from all K scores of the row together."),
            (Z / Z.sum(axis=1, keepdims=True),
             "the scores are divided by their sum without exponentiating them first. Scores are "
             "on the log scale: exponentiate, then normalise."),
        ]


def _q4_run(func, Z: np.ndarray, where: str) -> None:
    n, K = Z.shape
    try:
        got = call(func, "softmax", Z.copy())
    except Incorrect as exc:
        if "broadcast" in str(exc):
            raise Incorrect(
                f"{exc}. Dividing an (n, K) array by its n row sums needs the sums as a column "
                "of shape (n, 1) (keep the summed axis)."
            ) from None
        raise
    said = f"{where}, `softmax(Z)` for Z = {_lst(Z)} returned"
    if type(got) is np.ndarray and got.shape == Z.shape and got.dtype.kind == "f":
        bad = ~np.isfinite(got).all(axis=1)
        if bad.any():
            top = Z.max(axis=1)
            if bool(np.any(bad & (top > 700))):
                raise Incorrect(
                    f"{said} NaN or infinite values in the rows whose scores are above 700: "
                    "exp overflows there (exp(710) is already inf). Softmax does not change if "
                    "you subtract the same number from every score of a row: subtract each row's "
                    "maximum before exponentiating."
                )
            if bool(np.any(bad & (top < Z.max() - 700))):
                raise Incorrect(
                    f"{said} NaN or infinite values in a row whose scores are all far below the "
                    "largest score of the matrix: shifted by that one number, every exp of the "
                    "row underflows to 0 and the row divides 0 by 0. Subtract each row's *own* "
                    "maximum, not one number for the whole matrix."
                )
    P = _array_answer(got, "softmax(Z)", Z.shape)
    said = f"{said} {show(P)}"
    if allclose(P, _softmax(Z), rtol=1e-9, atol=1e-12):
        return
    for wrong, text in _q4_mistakes(Z):
        if np.isfinite(wrong).all() and allclose(P, wrong, rtol=1e-9, atol=1e-12):
            raise Incorrect(f"{said}: {text}")
    raise Incorrect(f"{said}, which is not the softmax of each row.")


@key_for(m03.q4)
class Softmax(Question):
    def references(self):
        return {"softmax": _softmax}

    def verify(self, softmax):
        _q4_run(softmax, _Q4_MODERATE, "On 3 cases with 4 classes")
        _q4_run(softmax, _Q4_LARGE, "On 4 cases with scores far from 0")

    def verify_hidden(self, seed, softmax):
        rng = np.random.default_rng(seed)

        def make(g):
            n = int(g.integers(2, 9))
            K = int(g.choice([k for k in range(3, 7) if k != n]))
            return (g.normal(0, 2.5, (n, K)),)

        def mistakes(Z):
            return _softmax(Z), [m for m, _ in _q4_mistakes(Z)]

        for _ in range(3):
            (Z,) = _draw(make, mistakes, rng)
            _q4_run(softmax, Z, f"On {Z.shape[0]} fresh cases with {Z.shape[1]} classes")
        Z = rng.normal(0, 3, (int(rng.integers(3, 7)), int(rng.integers(2, 6))))
        Z[0] += rng.uniform(720, 1500)
        Z[1] -= rng.uniform(760, 1500)
        _q4_run(softmax, Z, "On fresh cases whose scores are far from 0")


# =================================================================================================
# q5: the step of a feature that moves a predicted probability from p0 to p1
# =================================================================================================
#: (p0, p1, beta): a rise, a fall with a negative coefficient, and a small-probability case.
_Q5_CASES = ((0.2, 0.5, 0.35), (0.9, 0.6, -0.8), (0.05, 0.1, 1.3))


def _step(p0: float, p1: float, beta: float) -> float:
    return float((_logit(p1) - _logit(p0)) / beta)


def _q5_mistakes(p0: float, p1: float, beta: float) -> list[tuple[float, str]]:
    o0, o1 = p0 / (1 - p0), p1 / (1 - p1)
    gap = float(_logit(p1) - _logit(p0))
    return [
        ((p1 - p0) / beta,
         "that divides the change in *probability* by beta. beta is a change in log-odds per "
         "unit of the feature: convert both probabilities to log-odds first."),
        (math.log(p1 / p0) / beta,
         "that uses log(p1 / p0), the log of a ratio of probabilities, as if the probabilities "
         "were odds. The odds are p / (1 - p)."),
        ((o1 - o0) / beta,
         "that divides the change in the *odds* by beta. beta adds to the log-odds, so use the "
         "change in log-odds."),
        (gap,
         "that is the change in log-odds, not a number of units of the feature: each unit adds "
         "beta, so divide by beta."),
        (gap * beta,
         "that multiplies the change in log-odds by beta. Each unit of the feature adds beta, "
         "so the number of units is the change divided by beta."),
        (math.log10(o1 / o0) / beta,
         "that uses log base 10. Logistic-regression coefficients are on the natural-log scale."),
        (math.log(o0 / o1) / beta,
         "the sign is flipped: the step goes from p0 to p1, so it is (logit(p1) - logit(p0)) "
         "divided by beta."),
    ]


def _q5_run(func, p0: float, p1: float, beta: float, where: str) -> None:
    got = as_float(call(func, "step_to_reach", p0, p1, beta), "step_to_reach(p0, p1, beta)")
    said = f"{where}, `step_to_reach({p0:g}, {p1:g}, {beta:g})` returned {got:.6g}"
    if close(got, _step(p0, p1, beta), rtol=1e-9, atol=1e-12):
        return
    for wrong, text in _q5_mistakes(p0, p1, beta):
        if close(got, wrong, rtol=1e-9, atol=1e-12):
            raise Incorrect(f"{said}: {text}")
    raise Incorrect(f"{said}, which is not the number of units of the feature that takes the "
                    "predicted probability from p0 to p1.")


@key_for(m03.q5)
class StepToReach(Question):
    def references(self):
        return {"step_to_reach": _step}

    def verify(self, step_to_reach):
        for p0, p1, beta in _Q5_CASES:
            _q5_run(step_to_reach, p0, p1, beta, "For the toy case")

    def verify_hidden(self, seed, step_to_reach):
        rng = np.random.default_rng(seed)

        def make(g):
            p0, p1 = (float(v) for v in g.uniform(0.02, 0.98, 2))
            beta = float(g.choice([-1, 1]) * g.uniform(0.1, 2.5))
            return p0, p1, beta

        def mistakes(p0, p1, beta):
            return _step(p0, p1, beta), [m for m, _ in _q5_mistakes(p0, p1, beta)]

        for _ in range(8):
            p0, p1, beta = _draw(make, mistakes, rng)
            _q5_run(step_to_reach, p0, p1, beta, "On a fresh case")


# =================================================================================================
# q6: the gradient of the mean logistic log-loss with respect to the coefficients
# =================================================================================================
def _loss(beta, X, y) -> float:
    """Mean log-loss -mean(y log sigma(X beta) + (1 - y) log(1 - sigma(X beta))), stably."""
    z = X @ beta
    return float(np.mean(np.logaddexp(0.0, z) - y * z))


def _loss_grad(beta, X, y) -> np.ndarray:
    """X.T (sigma(X beta) - y) / n (Hastie, Tibshirani and Friedman 2009, eq. 4.21, over n)."""
    return X.T @ (_sig(X @ beta) - y) / len(y)


def _q6_case(rng, n: int, p: int):
    """A design with a column of ones first, 0/1 labels from a logistic model, a trial beta."""
    X = np.column_stack([np.ones(n), rng.normal(rng.uniform(-1, 1, p - 1),
                                                rng.uniform(0.5, 2, p - 1), (n, p - 1))])
    truth = rng.uniform(-1.5, 1.5, p)
    y = (rng.uniform(size=n) < _sig(X @ truth)).astype(float)
    return rng.uniform(-1, 1, p), X, y


def _forward(beta, X, y, h: float) -> np.ndarray:
    out = np.empty_like(beta)
    for i in range(beta.size):
        e = np.zeros_like(beta)
        e[i] = h
        out[i] = (_loss(beta + e, X, y) - _loss(beta, X, y)) / h
    return out


def _q6_mistakes(beta, X, y) -> list[tuple[np.ndarray, str]]:
    n, ref = len(y), _loss_grad(beta, X, y)
    s = _sig(X @ beta)
    return [
        (-ref,
         "the sign is flipped: that is the gradient of the mean log-*likelihood*. The loss is "
         "minus the log-likelihood, so its gradient is X.T (sigma(X beta) - y) / n, pointing "
         "uphill in the loss."),
        (n * ref,
         f"that is n = {n} times too large: the gradient of the *summed* loss. The loss here is "
         "the mean over the n rows, so divide by n."),
        (X.T @ (X @ beta - y) / n,
         "that is the gradient of the least-squares loss (X beta - y, no sigmoid). The log-loss "
         "compares y with the predicted probability sigma(X beta)."),
        (2 * X.T @ ((s - y) * s * (1 - s)) / n,
         "that is the gradient of the mean *squared* error of the probabilities, (sigma - y)^2. "
         "The log-loss's derivative is simpler: the factor sigma (1 - sigma) cancels."),
    ]


def _q6_run(func, beta, X, y, where: str) -> None:
    n, p = X.shape
    got = call(func, "logloss_grad", beta.copy(), X.copy(), y.copy())
    said = f"{where}, `logloss_grad` returned"
    if p > 1 and (type(got) in (float, int) or (hasattr(got, "shape") and got.shape == ())):
        raise Incorrect(
            f"{said} one number ({show(got)}): the gradient has one entry per coefficient "
            f"({p} here). Each entry sums the rows' errors times that column of X."
        )
    g = _array_answer(got, "logloss_grad(beta, X, y)", (p,))
    said = f"{said} {show(g)}"
    ref = _loss_grad(beta, X, y)
    scale = max(float(np.max(np.abs(ref))), 1e-3)
    if allclose(g, ref, rtol=0, atol=1e-8 * scale):
        return
    near = dict(rtol=1e-6, atol=1e-9 * scale)
    for wrong, text in _q6_mistakes(beta, X, y):
        if allclose(g, wrong, **near):
            raise Incorrect(f"{said}: {text}")
    for h in (1e-3, 1e-4, 1e-5, 1e-6, 1e-7):
        if allclose(g, _forward(beta, X, y, h), rtol=0, atol=1e-7 * scale):
            raise Incorrect(
                f"{said}: a one-sided (forward) difference of the loss, whose error shrinks only "
                "like h: it agrees with the gradient to a few digits only. Derive the gradient "
                "by hand, and use central differences to *check* it."
            )
    raise Incorrect(f"{said}, which is not the gradient of the mean log-loss at beta.")


@key_for(m03.q6)
class LogLossGrad(Question):
    def references(self):
        return {"logloss_grad": lambda beta, X, y: _loss_grad(
            np.asarray(beta, dtype=float), np.asarray(X, dtype=float), np.asarray(y, dtype=float))}

    def verify(self, logloss_grad):
        beta, X, y = _q6_case(np.random.default_rng(306), 30, 3)
        _q6_run(logloss_grad, beta, X, y, "On 30 rows with an intercept column and 2 features")

    def verify_hidden(self, seed, logloss_grad):
        rng = np.random.default_rng(seed)

        def make(g):
            return _q6_case(g, int(g.integers(12, 60)), int(g.integers(2, 6)))

        def mistakes(beta, X, y):
            return _loss_grad(beta, X, y), [m for m, _ in _q6_mistakes(beta, X, y)]

        for _ in range(3):
            beta, X, y = _draw(make, mistakes, rng)
            _q6_run(logloss_grad, beta, X, y, f"On {X.shape[0]} fresh rows with {X.shape[1]} "
                    "coefficients")


# =================================================================================================
# q7: Shapley weights, and the exact Shapley values of a prediction against a baseline
# =================================================================================================
def _w(p: int, s: int) -> float:
    return math.factorial(s) * math.factorial(p - s - 1) / math.factorial(p)


_F = math.factorial
#: The catalogued weight mistakes: (their formulas w(p, s), the message after the student's value;
#: ``{sums}`` says what their weights add up to). A mistake is named only when it matches the
#: student's weights at *every* p checked: at p = 2, for one, "divides by (p - 1)!" and "no
#: division by p!" give the same weights, and only the other p tell them apart.
_Q7_WEIGHT_MISTAKES = (
    ((lambda p, s: _F(s) * _F(p - s) / _F(p),),
     "that uses (p - s)! where the formula has (p - s - 1)! {sums}. Player i is not in S, so "
     "after S and i there are p - s - 1 players left."),
    ((lambda p, s: _F(s) * _F(p - s - 1) / _F(p - 1),),
     "that divides by (p - 1)!; the denominator is p! {sums}."),
    ((lambda p, s: float(_F(s) * _F(p - s - 1)),),
     "the division by p! is missing {sums}."),
    ((lambda p, s: _F(s + 1) * _F(p - s - 1) / _F(p),
      lambda p, s: _F(s - 1) * _F(p - s) / _F(p) if s > 0 else 0.0),
     "an off-by-one in the factorials {sums}. The weight is s! (p - s - 1)! / p!, with s = |S|, "
     "the size of the coalition *without* player i."),
    ((lambda p, s: _F(p) / (_F(s) * _F(p - s - 1)),),
     "the fraction is upside down: s! (p - s - 1)! / p! {sums}."),
    ((lambda p, s: 1 / 2 ** (p - 1),),
     "equal weights 1 / 2^(p-1) for every coalition give the Banzhaf value, not the Shapley "
     "value. The weight depends on the size s of the coalition."),
)


def _q7_weights(func, ps: tuple[int, ...]) -> None:
    """Check ``shapley_weight(p, s)`` for every p in ``ps`` and s = 0..p-1; name the mistake that
    explains the weights at all of them (see :data:`_Q7_WEIGHT_MISTAKES`)."""
    got: dict[int, list[float]] = {}
    for p in ps:
        # s = 1 first: at (4, 1) the right weight and every catalogued mistake all differ, so
        # the first call that fails already tells the mistakes apart (the offline check names a
        # mistake by the first result that differs from the reference).
        order = sorted(range(p), key=lambda s: (s != 1, s))
        values = {s: as_float(call(func, "shapley_weight", p, s), f"shapley_weight({p}, {s})")
                  for s in order}
        got[p] = [values[s] for s in range(p)]

    def same(p: int, formula) -> bool:
        return all(close(g, formula(p, s), rtol=1e-9) for s, g in enumerate(got[p]))

    bad = [p for p in ps if not same(p, _w)]
    if not bad:
        return
    p = bad[0]
    said = f"For p = {p}, `shapley_weight({p}, s)` for s = 0..{p - 1} returned {show(got[p])}"
    total = sum(math.comb(p - 1, s) * g for s, g in enumerate(got[p]))
    sums = f"(weighted by the number of coalitions of each size, they sum to {total:.4g}, not 1)"
    named = [text for formulas, text in _Q7_WEIGHT_MISTAKES
             if any(all(same(q, f) for q in ps) for f in formulas)]
    if len(named) == 1:
        raise Incorrect(f"{said}: {named[0].format(sums=sums)}")
    raise Incorrect(f"{said}, which are not s! (p - s - 1)! / p! {sums}.")


def _grad(f: CurvedFunction, x: np.ndarray) -> np.ndarray:
    """The exact gradient of the test model ``f`` (:class:`m03.CurvedFunction`) at ``x``."""
    a = f.a
    g = a * np.exp(a @ x)
    g[0] += x[-1] ** 2
    g[-1] += 2 * x[0] * x[-1]
    g[1] += np.cos(x[1])
    return g


def _game(f, x: np.ndarray, baseline: np.ndarray) -> dict[frozenset, float]:
    """v(S) = f(x on the features of S, the baseline elsewhere), for every coalition S."""
    p = x.size
    return {frozenset(S): f(np.where(np.isin(np.arange(p), list(S)), x, baseline))
            for r in range(p + 1) for S in itertools.combinations(range(p), r)}


def _phi(f, x, baseline, *, weight=None, skip_empty: bool = False) -> np.ndarray:
    """Exact Shapley values of the game :func:`_game` (Shapley 1953; Molnar 3rd ed., "Shapley
    Values"); ``weight`` and ``skip_empty`` give the catalogued mistakes."""
    weight = weight or _w
    x, baseline = np.asarray(x, dtype=float), np.asarray(baseline, dtype=float)
    v, p = _game(f, x, baseline), x.size
    out = np.zeros(p)
    for i in range(p):
        others = [j for j in range(p) if j != i]
        for r in range(1 if skip_empty else 0, p):
            for S in itertools.combinations(others, r):
                out[i] += weight(p, r) * (v[frozenset(S) | {i}] - v[frozenset(S)])
    return out


def _q7_mistakes(f, x, baseline) -> list[tuple[np.ndarray, str]]:
    v, p = _game(f, x, baseline), x.size
    full, empty = frozenset(range(p)), frozenset()
    out = [
        (_phi(f, x, baseline, skip_empty=True),
         "the empty coalition is missing. S runs over *all* subsets of the other features, "
         "including the empty set (what feature i adds to the baseline row on its own)."),
        (-_phi(f, x, baseline),
         "the sign is flipped: either the marginal contribution is written v(S) - v(S with i), "
         "or x and the baseline swapped roles (the features in S must take the values of x)."),
        (np.array([v[full] - v[full - {i}] for i in range(p)]),
         "that is leave-one-out: f(x) minus f(x with feature i set to the baseline), the "
         "contribution to the full coalition only. Average over *all* coalitions."),
        (np.array([v[frozenset({i})] - v[empty] for i in range(p)]),
         "that is add-one: f(baseline with feature i taken from x) minus f(baseline), the "
         "contribution to the empty coalition only. Average over *all* coalitions."),
        (_grad(f, x) * (x - baseline),
         "that is gradient x (x - baseline), a first-order approximation from the slope at x. "
         "On a curved model it differs from the Shapley values (and does not add up to "
         "f(x) - f(baseline)); build the game v(S) and average the marginal contributions."),
    ]
    for formulas, text in _Q7_WEIGHT_MISTAKES:
        out.append((_phi(f, x, baseline, weight=formulas[0]),
                    "the weights inside `shapley_values` are wrong: " + " ".join(text.format(sums="").split()).replace(" .", ".")))
    return out


def _q7_values(func, f: CurvedFunction, x: np.ndarray, baseline: np.ndarray, where: str) -> None:
    p = x.size
    got = call(func, "shapley_values", f, x.copy(), baseline.copy())
    said = f"{where}, `shapley_values(f, x={_lst(x)}, baseline={_lst(baseline)})` returned"
    if p > 1 and (type(got) in (float, int) or (hasattr(got, "shape") and got.shape == ())):
        raise Incorrect(f"{said} one number ({show(got)}): return one Shapley value per feature "
                        f"({p} here).")
    phi = _array_answer(got, "shapley_values(f, x, baseline)", (p,))
    said = f"{said} {show(phi)}"
    ref = _phi(f, x, baseline)
    tol = dict(rtol=1e-7, atol=1e-9)
    if allclose(phi, ref, **tol):
        return
    for wrong, text in _q7_mistakes(f, x, baseline):
        if allclose(phi, wrong, rtol=1e-6, atol=1e-8):
            raise Incorrect(f"{said}: {text}")
    raise Incorrect(f"{said}, which are not the Shapley values of f at x against the baseline "
                    "(check: they must add up to f(x) - f(baseline)).")


def _q7_case(rng, p: int):
    f = CurvedFunction(np.round(rng.uniform(-0.7, 0.7, p), 3))
    return f, rng.uniform(-1.5, 1.5, p), rng.uniform(-1.0, 1.0, p)


@key_for(m03.q7)
class Shapley(Question):
    def references(self):
        return {"shapley_weight": _w, "shapley_values": lambda f, x, baseline: _phi(f, x, baseline)}

    def verify(self, shapley_weight, shapley_values):
        _q7_weights(shapley_weight, (4, 3, 5))
        f = CurvedFunction([0.6, -0.4, 0.3])
        _q7_values(shapley_values, f, np.array([1.2, -0.5, 1.6]), np.array([0.2, 0.4, -0.3]),
                   f"For the model {f!r}")

    def verify_hidden(self, seed, shapley_weight, shapley_values):
        rng = np.random.default_rng(seed)
        _q7_weights(shapley_weight, (2, 6, 7))

        def make(g):  # p >= 3: with two players the Banzhaf value is the Shapley value
            return _q7_case(g, int(g.integers(3, 6)))

        def mistakes(f, x, baseline):
            return _phi(f, x, baseline), [m for m, _ in _q7_mistakes(f, x, baseline)]

        for _ in range(3):
            f, x, baseline = _draw(make, mistakes, rng)
            _q7_values(shapley_values, f, x, baseline, f"For the fresh model {f!r}")


# =================================================================================================
# q8: sensitivity or attribution? Two questions about one prediction of a new model
# =================================================================================================
def _q8_setting():
    """The notebook's model, row and baseline (the lecture used neither this model nor a baseline
    row). The three readings below point at three different features, each by a clear margin."""
    f = CurvedFunction(m03.RISK_WEIGHTS)
    return f, np.array(m03.X_PATIENT), np.array(m03.X_BASELINE)


def _q8_readings() -> dict[str, int]:
    f, x, b = _q8_setting()
    return {
        "gradient": int(np.argmax(np.abs(_grad(f, x)))),
        "shapley": int(np.argmax(np.abs(_phi(f, x, b)))),
        "gradient_x_input": int(np.argmax(np.abs(_grad(f, x) * (x - b)))),
        "difference": int(np.argmax(np.abs(x - b))),
    }


def _q8_index(value, name: str) -> int:
    k = as_int(value, name)
    if not 0 <= k < len(m03.X_PATIENT):
        raise Incorrect(f"`{name}` = {k} is not a feature index: use 0 to "
                        f"{len(m03.X_PATIENT) - 1}.")
    return k


def _q8_check(most_sensitive, largest_share) -> None:
    read = _q8_readings()
    k = _q8_index(most_sensitive, "most_sensitive")
    if k != read["gradient"]:
        if k == read["shapley"]:
            raise Incorrect(
                f"`most_sensitive` = {k} is the feature with the largest Shapley value: it "
                "accounts for much of the gap between this patient and the baseline, but that "
                "gap was built over a large change. Sensitivity is about a *small* change at x: "
                "the slope."
            )
        if k == read["gradient_x_input"]:
            raise Incorrect(
                f"`most_sensitive` = {k} has the largest gradient x (x - baseline), which mixes "
                "the slope with how far the feature is from the baseline. Per unit of a small "
                "change at x, only the slope counts."
            )
        raise Incorrect(f"`most_sensitive` = {k}: at x, another feature moves the predicted "
                        "score more per unit of a small change.")
    k = _q8_index(largest_share, "largest_share")
    if k == read["shapley"]:
        return
    if k == read["gradient"]:
        raise Incorrect(
            f"`largest_share` = {k} has the steepest slope at x, but the patient differs from "
            "the baseline by a large step, along which the slope changes: a local slope does not "
            "say how much of f(x) - f(baseline) a feature accounts for."
        )
    if k == read["gradient_x_input"]:
        raise Incorrect(
            f"`largest_share` = {k} has the largest gradient x (x - baseline), a first-order "
            "approximation that uses the slope at x for the whole step. On this curved model "
            "those parts do not even add up to f(x) - f(baseline): check their sum."
        )
    if k == read["difference"]:
        raise Incorrect(
            f"`largest_share` = {k} is the feature furthest from the baseline, in its own "
            "units. How far a feature moved says nothing about how much the model responds."
        )
    raise Incorrect(f"`largest_share` = {k}: another feature accounts for a larger part of "
                    "f(x) - f(baseline).")


@key_for(m03.q8)
class SensitivityOrShare(Question):
    def references(self):
        read = _q8_readings()
        return {"most_sensitive": read["gradient"], "largest_share": read["shapley"]}

    def verify_graded(self, seed, most_sensitive, largest_share):
        self.verify(most_sensitive, largest_share)  # variables: no fresh inputs to draw

    def verify(self, most_sensitive, largest_share):
        _q8_check(most_sensitive, largest_share)

    def verify_hidden(self, seed, most_sensitive, largest_share):
        _q8_check(most_sensitive, largest_share)


# The decorator turns each class into its question instance: by label, and as q1 ... q8.
q1, q2, q3, q4, q5, q6 = OLS, VIF, ConditionIndices, Softmax, StepToReach, LogLossGrad
q7, q8 = Shapley, SensitivityOrShare
QUESTIONS = {q.label: q for q in (q1, q2, q3, q4, q5, q6, q7, q8)}
