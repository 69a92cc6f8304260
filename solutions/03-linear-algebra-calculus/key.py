"""The answer key of assignment 03, "Linear algebra and calculus": instructor-only, never released.

==== ========================================== ===============================================
q1   ``ols(X, y)``                              least squares with an intercept, via ``lstsq``
q2   ``vif(X)``                                 variance inflation factor of every column
q3   ``condition_number(X)``                    condition number of the standardised design
q4   ``sigmoid(z)``, ``logit(p)``               the link functions of logistic regression
q5   ``prob_after_shift(p0, beta)``             probability after a one-unit step of a feature
q6   ``num_grad(f, x, h)``                      gradient by central differences
q7   ``shapley_weight(p, s)``,                  Shapley weights and exact Shapley values of a
     ``shapley_value(v, p, i)``                 small cooperative game
==== ========================================== ===============================================

``grader release`` and ``nbgrader generate_assignment`` skip this file (``nbgrader_config.py``
ignores ``key.py``). It holds what the student-side package (:mod:`grader.checks.m03`) must not:
the reference computations, the diagnosis code of every check (``verify``, ``verify_hidden``; the
graded visible test is the default ``verify_graded``: the designed cases, then fresh inputs from
the grading seed) and each question's ``references()``. The grader loads it outside the
student's kernel (:mod:`grader.judging`); see ``docs/authoring.md``.

Every reference is recomputed here, from fixed toy cases, the diabetes table in
:mod:`grader.datasets` or fresh inputs drawn from the seed; nothing reads the student's data
variables, and every input depends only on the seed and fixed data. The toy cases are asymmetric on
purpose (a nonzero intercept, columns with different means and scales, p0 != 0.5, a game whose
players all differ, weights at p = 3, 4, 5 where every catalogued weight mistake differs) so that
each classic mistake gives a different answer from the right one, and each mistake is named.
The inputs of q6 and q7 are functions defined by data (:class:`grader.checks.m03.CurvedFunction`,
:class:`grader.checks.m03.Game`), so that they cross into the student's kernel.
"""

from __future__ import annotations

import functools
import itertools
import math

import numpy as np

from grader.checks import m03
from grader.checks.core import Incorrect, Question, call, key_for
from grader.checks.m03 import CurvedFunction, Game
from grader.checks.values import allclose, as_array, as_float, close, show
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


@functools.lru_cache(maxsize=1)
def _diabetes_X() -> np.ndarray:
    X, _ = diabetes_raw()
    return X.to_numpy(dtype=float)


def _array_answer(got, name: str, shape: tuple[int, ...]) -> np.ndarray:
    """A float array of ``shape`` (a scalar answer for a one-element shape is refused too)."""
    return as_array(got, name, shape=shape)


# =================================================================================================
# q1: least squares with an intercept
# =================================================================================================
def _q1_toy():
    # y = 3 + 2 x1 - x2 exactly: a nonzero intercept and coefficients of both signs.
    X = np.array([[1.0, 2.0], [2.0, 0.0], [3.0, 5.0], [4.0, 1.0], [5.0, 3.0], [6.0, 4.0]])
    return X, 3.0 + 2.0 * X[:, 0] - X[:, 1]


def _q1_noisy(rng, n: int, p: int):
    X = rng.normal(rng.uniform(-3, 6, p), rng.uniform(0.5, 4, p), size=(n, p))
    beta = rng.uniform(-3, 3, p)
    y = rng.uniform(5, 20) + X @ beta + rng.normal(0, 1.0, n)
    return X, y


def _q1_collinear(rng, n: int = 60):
    """Two columns equal up to noise of 1e-5: the normal equations lose about 10 digits here."""
    x1 = rng.normal(5, 2, n)
    X = np.column_stack([x1, x1 + rng.normal(0, 1e-5, n), rng.normal(-3, 1, n)])
    y = 4 + 2 * X[:, 0] + X[:, 1] - 3 * X[:, 2] + rng.normal(0, 0.5, n)
    return X, y


def _q1_run(func, X: np.ndarray, y: np.ndarray, where: str, *, collinear: bool = False) -> None:
    n, p = X.shape
    try:
        got = call(func, "ols", X.copy(), y.copy())
    except Incorrect as exc:
        text = str(exc)
        if any(w in text for w in ("mismatch", "not aligned", "shapes", "Incompatible dimension")):
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
            "column of ones as the first column of X before calling lstsq, and return all p + 1 "
            "coefficients, the intercept first."
        )
    if type(got) is np.ndarray and got.shape == (n,):
        raise Incorrect(
            f"{said} an array of shape ({n},), one value per row: these look like fitted values. "
            "Return the coefficient vector (intercept first), of length p + 1."
        )
    beta = _array_answer(got, "ols(X, y)", (p + 1,))
    X1 = _with_ones(X)
    ref = _lstsq(X1, y)
    if collinear:
        # Coefficients of near-collinear columns are not unique to many digits; the fit is.
        scale = float(np.std(y))
        if float(np.max(np.abs(X1 @ beta - X1 @ ref))) <= 1e-8 * scale:
            return
        raise Incorrect(
            f"{said} coefficients whose fitted values are off by up to "
            f"{float(np.max(np.abs(X1 @ beta - X1 @ ref))):.2g} (y has a spread of about "
            f"{scale:.2g}). Two columns here are almost identical, so X1.T @ X1 is nearly "
            "singular: inverting it (or solving the normal equations) squares the condition "
            "number and loses most of the digits. Use `np.linalg.lstsq(X1, y, rcond=None)`."
        )
    if allclose(beta, ref, rtol=1e-6, atol=1e-8):
        return
    if allclose(beta, np.r_[ref[1:], ref[0]], rtol=1e-6, atol=1e-8):
        raise Incorrect(
            f"{said} {show(beta)}: the intercept is last. Put the column of ones *first*, so that "
            "the returned vector is (intercept, coef_1, ..., coef_p)."
        )
    no_int = _lstsq(X, y)
    if allclose(beta[1:], no_int, rtol=1e-6, atol=1e-8) or allclose(
        beta[:p], no_int, rtol=1e-6, atol=1e-8
    ):
        raise Incorrect(
            f"{said} {show(beta)}: these slopes come from a fit without an intercept (the line is "
            "forced through the origin). Add the column of ones to X *before* solving."
        )
    raise Incorrect(f"{said} {show(beta)}, which is not the least-squares solution.")


@key_for(m03.q1)
class OLS(Question):
    def references(self):
        return {"ols": lambda X, y: _lstsq(_with_ones(np.asarray(X, dtype=float)),
                                           np.asarray(y, dtype=float))}


    def verify(self, ols):
        X, y = _q1_toy()
        _q1_run(ols, X, y, f"For X with rows {_lst(X[:3])}... and y = 3 + 2 x1 - x2")
        rng = np.random.default_rng(303)
        X, y = _q1_noisy(rng, 40, 3)
        _q1_run(ols, X, y, "On a noisy table with 40 rows and 3 columns")
        X, y = _q1_collinear(np.random.default_rng(3))
        _q1_run(ols, X, y, "On a table whose first two columns are almost equal", collinear=True)

    def verify_hidden(self, seed, ols):
        rng = np.random.default_rng(seed)
        for _ in range(4):
            n, p = int(rng.integers(15, 80)), int(rng.integers(1, 6))
            X, y = _q1_noisy(rng, n, p)
            _q1_run(ols, X, y, f"On a fresh table ({n} rows, {p} columns)")
        X, y = _q1_collinear(rng, int(rng.integers(40, 90)))
        _q1_run(ols, X, y, "On a fresh nearly collinear table", collinear=True)


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
        for _ in range(4):
            n, p = int(rng.integers(25, 90)), int(rng.integers(2, 7))
            X = rng.normal(rng.uniform(-5, 20, p), rng.uniform(0.5, 5, p), size=(n, p))
            X[:, -1] += X[:, 0] * rng.uniform(0.5, 2)  # some collinearity
            _q2_run(vif, X, f"On a fresh table ({n} rows, {p} columns)")


# =================================================================================================
# q3: condition number of the standardised design
# =================================================================================================
def _q3_toy() -> np.ndarray:
    """Columns on very different scales (and means), two of them correlated."""
    rng = np.random.default_rng(33)
    n = 40
    a = rng.normal(50, 10, n)
    b = 0.02 * a + rng.normal(3, 0.1, n)
    c = rng.normal(-2000, 300, n)
    return np.column_stack([a, b, c])


def _q3_run(func, X: np.ndarray, where: str) -> None:
    got = as_float(call(func, "condition_number", X.copy()), "condition_number(X)")
    said = f"{where}, `condition_number` returned {got:.6g}"
    Z = _standardise(X)
    ref = float(np.linalg.cond(Z))
    if close(got, ref, rtol=1e-6):
        return
    tol = dict(rtol=1e-6)
    if got < 1.0:
        raise Incorrect(f"{said}, but a condition number is never below 1.")
    if close(got, float(np.linalg.cond(X)), **tol):
        raise Incorrect(
            f"{said}: that is the condition number of the raw X, which mostly measures how "
            "different the columns' units are. Standardise each column first (subtract its "
            "mean, divide by its standard deviation)."
        )
    if close(got, ref**2, **tol):
        raise Incorrect(
            f"{said}: that is the condition number of Z.T @ Z (or the ratio of the largest to the "
            "smallest eigenvalue of the correlation matrix), which is the square of cond(Z). "
            "Take np.linalg.cond of the standardised X itself."
        )
    if close(got, float(np.linalg.cond(X / X.std(axis=0))), **tol):
        raise Incorrect(
            f"{said}: the columns are scaled but not centred. Subtract each column's mean too."
        )
    if close(got, float(np.linalg.cond(X - X.mean(axis=0))), **tol):
        raise Incorrect(
            f"{said}: the columns are centred but not scaled, so the units still dominate. "
            "Divide each column by its standard deviation too."
        )
    raise Incorrect(f"{said}, which is not the condition number of the standardised X.")


@key_for(m03.q3)
class ConditionNumber(Question):
    def references(self):
        return {"condition_number": lambda X: float(
            np.linalg.cond(_standardise(np.asarray(X, dtype=float))))}


    def verify(self, condition_number):
        _q3_run(condition_number, _q3_toy(), "On a 3-column table with very different units")
        _q3_run(condition_number, _diabetes_X(), "On the diabetes features (original units)")

    def verify_hidden(self, seed, condition_number):
        rng = np.random.default_rng(seed)
        for _ in range(4):
            n, p = int(rng.integers(20, 80)), int(rng.integers(2, 6))
            X = rng.normal(rng.uniform(-50, 50, p), rng.uniform(0.1, 100, p), size=(n, p))
            X[:, 0] += X[:, -1] * rng.uniform(0.1, 1) if p > 1 else 0.0
            _q3_run(condition_number, X, f"On a fresh table ({n} rows, {p} columns)")


# =================================================================================================
# q4: sigmoid and logit
# =================================================================================================
_Q4_Z = np.array([-3.0, -0.5, 0.0, 1.2, 4.0])
_Q4_P = np.array([0.1, 0.25, 0.5, 0.8, 0.97])


def _q4_run(sigmoid, logit, z: np.ndarray, p: np.ndarray, where: str) -> None:
    s = as_array(call(sigmoid, "sigmoid", z.copy()), "sigmoid(z)", shape=z.shape)
    said = f"{where}, `sigmoid(z)` for z = {_lst(z)} returned {show(s)}"
    if not allclose(s, _sig(z), rtol=1e-9, atol=1e-12):
        if allclose(s, _sig(-z), rtol=1e-9, atol=1e-12):
            raise Incorrect(
                f"{said}: the sign of z is flipped. sigmoid(z) = 1 / (1 + exp(-z)) grows with z: "
                "sigmoid(4) is close to 1, not to 0."
            )
        if allclose(s, np.exp(z), rtol=1e-9):
            raise Incorrect(f"{said}: that is exp(z), the odds. sigmoid(z) = 1 / (1 + exp(-z)).")
        raise Incorrect(f"{said}, which is not 1 / (1 + exp(-z)).")
    got = as_array(call(logit, "logit", p.copy()), "logit(p)", shape=p.shape)
    said = f"{where}, `logit(p)` for p = {_lst(p)} returned {show(got)}"
    ref = _logit(p)
    if allclose(got, ref, rtol=1e-9, atol=1e-12):
        return
    if allclose(got, p / (1 - p), rtol=1e-9):
        raise Incorrect(
            f"{said}: these are the odds p / (1 - p). The logit is the *log*-odds, log(p / (1 - p)), "
            "which is 0 at p = 0.5 and negative below it."
        )
    if allclose(got, np.log10(p / (1 - p)), rtol=1e-9, atol=1e-12):
        raise Incorrect(
            f"{said}: that uses log base 10. The logit uses the natural log (np.log), the scale of "
            "logistic-regression coefficients."
        )
    if allclose(got, -ref, rtol=1e-9, atol=1e-12):
        raise Incorrect(
            f"{said}: that is log((1 - p) / p), the sign is flipped. The logit is log(p / (1 - p)), "
            "positive when p > 0.5."
        )
    if allclose(got, np.log(p), rtol=1e-9):
        raise Incorrect(f"{said}: that is log(p). The logit is log(p / (1 - p)).")
    raise Incorrect(f"{said}, which is not log(p / (1 - p)).")


@key_for(m03.q4)
class SigmoidLogit(Question):
    def references(self):
        return {"sigmoid": _sig, "logit": _logit}


    def verify(self, sigmoid, logit):
        _q4_run(sigmoid, logit, _Q4_Z, _Q4_P, "On the toy inputs")

    def verify_hidden(self, seed, sigmoid, logit):
        rng = np.random.default_rng(seed)
        for _ in range(3):
            z = rng.normal(0, 3, int(rng.integers(3, 20)))
            p = rng.uniform(0.01, 0.99, int(rng.integers(3, 20)))
            _q4_run(sigmoid, logit, z, p, "On fresh inputs")
        back = as_array(call(logit, "logit", _sig(z)), "logit(sigmoid(z))", shape=z.shape)
        if not allclose(back, z, rtol=1e-7, atol=1e-9):
            raise Incorrect("`logit(sigmoid(z))` does not give back z.")


# =================================================================================================
# q5: probability after a one-unit shift of a feature
# =================================================================================================
_Q5_CASES = ((0.2, -0.7), (0.95, 1.0), (0.5, 1.0), (0.3, 2.0))


def _q5_run(func, p0: float, beta: float, where: str) -> None:
    got = as_float(call(func, "prob_after_shift", p0, beta), "prob_after_shift(p0, beta)")
    said = f"{where}, `prob_after_shift({p0:g}, {beta:g})` returned {got:.6g}"
    odds0 = p0 / (1 - p0)
    ref = float(_sig(_logit(p0) + beta))
    if close(got, ref, rtol=1e-9, atol=1e-12):
        return
    tol = dict(rtol=1e-9, atol=1e-12)
    if close(got, p0 + beta, **tol):
        raise Incorrect(
            f"{said}: that adds beta to the probability. beta is added on the *log-odds* scale: "
            "go to log-odds with logit, add beta, come back with sigmoid."
        )
    if close(got, p0 * math.exp(beta), **tol):
        raise Incorrect(
            f"{said}: that multiplies the probability by exp(beta). exp(beta) multiplies the "
            "*odds* p / (1 - p), not the probability."
        )
    if close(got, odds0 * math.exp(beta), **tol):
        raise Incorrect(
            f"{said}: these are the new odds, not the new probability. Convert back: p = odds / "
            "(1 + odds)."
        )
    if close(got, math.exp(beta), **tol):
        raise Incorrect(
            f"{said}: that is exp(beta), the odds ratio, which does not depend on p0. The answer "
            "is a probability."
        )
    if close(got, float(_sig(beta)), **tol):
        raise Incorrect(f"{said}: that is sigmoid(beta), which ignores the starting p0.")
    if close(got, odds0 * 10**beta / (1 + odds0 * 10**beta), **tol):
        raise Incorrect(
            f"{said}: that uses base 10 for the log-odds. Logistic-regression coefficients are on "
            "the natural-log scale: use np.log and np.exp."
        )
    if not 0.0 < got < 1.0:
        raise Incorrect(f"{said}, but the answer is a probability, strictly between 0 and 1.")
    raise Incorrect(f"{said}, which is not sigmoid(logit(p0) + beta).")


@key_for(m03.q5)
class ProbAfterShift(Question):
    def references(self):
        return {"prob_after_shift": lambda p0, beta: float(_sig(_logit(p0) + beta))}


    def verify(self, prob_after_shift):
        for p0, beta in _Q5_CASES:
            _q5_run(prob_after_shift, p0, beta, "For the toy case")

    def verify_hidden(self, seed, prob_after_shift):
        rng = np.random.default_rng(seed)
        for _ in range(8):
            p0, beta = float(rng.uniform(0.02, 0.98)), float(rng.normal(0, 1.5))
            _q5_run(prob_after_shift, p0, beta, "On a fresh case")


# =================================================================================================
# q6: numerical gradient by central differences
# =================================================================================================
def _grad(f: CurvedFunction, x: np.ndarray) -> np.ndarray:
    """The exact gradient of the q6 test function ``f`` at ``x``."""
    a = f.a
    g = a * np.exp(a @ x)
    g[0] += x[-1] ** 2
    g[-1] += 2 * x[0] * x[-1]
    g[1] += np.cos(x[1])
    return g


def _fd(f, x: np.ndarray, h: float, kind: str) -> np.ndarray:
    out = np.empty_like(x)
    for i in range(x.size):
        e = np.zeros_like(x)
        e[i] = h
        if kind == "central":
            out[i] = (f(x + e) - f(x - e)) / (2 * h)
        elif kind == "forward":
            out[i] = (f(x + e) - f(x)) / h
        else:
            out[i] = (f(x) - f(x - e)) / h
    return out


def _q6_run(func, f: CurvedFunction, x: np.ndarray, h: float | None, where: str) -> None:
    kwargs = {} if h is None else {"h": h}
    step = 1e-5 if h is None else h
    got = as_array(call(func, "num_grad", f, x.copy(), **kwargs), "num_grad(f, x)", shape=x.shape)
    shown = "" if h is None else f", h={h:g}"
    said = f"{where}, `num_grad(f, x={_lst(x)}{shown})` returned {show(got)}"
    ref = _grad(f, x)
    scale = float(np.max(np.abs(ref)))
    tol = dict(rtol=0, atol=1e-7 * scale)
    if allclose(got, ref, **tol):
        return
    if allclose(got, -ref, **tol):
        raise Incorrect(
            f"{said}: the sign is flipped. The central difference is (f(x + h e_i) - f(x - h e_i)) "
            "/ (2h); check the order of the two terms."
        )
    if allclose(got, 2 * ref, **tol):
        raise Incorrect(
            f"{said}: twice the gradient. The two evaluations are 2h apart, so divide by 2h, not h."
        )
    near = dict(rtol=0, atol=1e-9 * max(scale, 1.0))
    for kind in ("forward", "backward"):
        if allclose(got, _fd(f, x, step, kind), **near):
            raise Incorrect(
                f"{said}: that is a one-sided ({kind}) difference, whose error shrinks only like h. "
                "Use the central difference (f(x + h e_i) - f(x - h e_i)) / (2h): its error "
                "shrinks like h^2."
            )
    for big in (1.0, 0.5, 0.1, 0.05, 0.01):
        if allclose(got, _fd(f, x, big, "central"), **near):
            raise Incorrect(
                f"{said}: a central difference with a step size of {big:g}, far too large: the "
                "curvature of f makes it inaccurate. Use the step `h` passed to the function "
                "(1e-5 by default)."
            )
    ones = np.ones_like(x) * step
    together = (f(x + ones) - f(x - ones)) / (2 * step)
    if allclose(got, np.full_like(x, together), **tol):
        raise Incorrect(
            f"{said}: every entry is the same, because all coordinates are moved at once. Move "
            "one coordinate at a time: x + h e_i, where e_i is the i-th unit vector."
        )
    raise Incorrect(f"{said}, which is not the gradient of f at x.")


@key_for(m03.q6)
class NumGrad(Question):
    def references(self):
        # The central difference itself (what a right answer returns, to ~1e-10), not the exact
        # gradient: the offline check compares the student's result with it at rtol 1e-6.
        return {"num_grad": lambda f, x, h=1e-5: _fd(f, np.asarray(x, dtype=float), h, "central")}


    def verify(self, num_grad):
        f = CurvedFunction([0.7, -0.2, 0.4])
        x = np.array([0.3, -1.2, 2.0])
        _q6_run(
            num_grad, f, x, None, "For f(x) = exp(0.7 x0 - 0.2 x1 + 0.4 x2) + x0 x2^2 + sin(x1)"
        )
        _q6_run(num_grad, f, x, 1e-4, "For the same f")

    def verify_hidden(self, seed, num_grad):
        rng = np.random.default_rng(seed)
        for k in range(4):
            d = int(rng.integers(2, 7))
            f = CurvedFunction(rng.uniform(-0.6, 0.6, d))
            x = rng.uniform(-1.5, 1.5, d)
            h = None if k < 2 else float(rng.choice([1e-4, 1e-5, 1e-6]))
            _q6_run(num_grad, f, x, h, f"On a fresh curved function of {d} variables")


# =================================================================================================
# q7: Shapley weights and exact Shapley values
# =================================================================================================
def _toy_game() -> Game:
    """Three unlike players: 0 is strong, 1 is weak, 0 and 2 together earn a bonus, v(empty) = 2."""
    table = {}
    for r in range(4):
        for S in itertools.combinations(range(3), r):
            s = set(S)
            table[frozenset(S)] = (
                2.0 + 10 * (0 in s) + 4 * (1 in s) + 1 * (2 in s) + 6 * ({0, 2} <= s)
            )
    return Game(3, table)


def _random_game(rng, p: int) -> Game:
    table = {frozenset(): float(rng.normal(0, 3))}
    for r in range(1, p + 1):
        for S in itertools.combinations(range(p), r):
            table[frozenset(S)] = float(rng.normal(0, 10))
    return Game(p, table)


def _w(p: int, s: int) -> float:
    return math.factorial(s) * math.factorial(p - s - 1) / math.factorial(p)


def _phi(v: Game, p: int, i: int, *, skip_empty: bool = False, flip: bool = False) -> float:
    others = [j for j in range(p) if j != i]
    total = 0.0
    for r in range(1 if skip_empty else 0, p):
        for S in itertools.combinations(others, r):
            gain = v(S + (i,)) - v(S)
            total += _w(p, r) * (-gain if flip else gain)
    return total


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


def _q7_values(func, v: Game, p: int, where: str) -> None:
    for i in range(p):
        got = as_float(call(func, "shapley_value", v, p, i), f"shapley_value(v, {p}, {i})")
        if close(got, _phi(v, p, i), rtol=1e-9, atol=1e-9):
            continue
        said = f"{where}, `shapley_value(v, {p}, {i})` returned {got:.6g}"
        if close(got, _phi(v, p, i, skip_empty=True), rtol=1e-9, atol=1e-9):
            raise Incorrect(
                f"{said}: the empty coalition is missing. S runs over *all* subsets of the other "
                "players, including the empty set (what player i adds to nobody: v({i}) - v({}))."
            )
        if close(got, _phi(v, p, i, flip=True), rtol=1e-9, atol=1e-9):
            raise Incorrect(
                f"{said}: the sign is flipped. The marginal contribution is v(S with i) - v(S), "
                "what player i *adds*."
            )
        raise Incorrect(f"{said}, which is not the Shapley value of player {i}.")


@key_for(m03.q7)
class Shapley(Question):
    def references(self):
        return {"shapley_weight": _w, "shapley_value": lambda v, p, i: _phi(v, p, i)}


    def verify(self, shapley_weight, shapley_value):
        _q7_weights(shapley_weight, (4, 3, 5))
        _q7_values(shapley_value, _toy_game(), 3, "For the toy 3-player game")

    def verify_hidden(self, seed, shapley_weight, shapley_value):
        rng = np.random.default_rng(seed)
        _q7_weights(shapley_weight, (2, 6, 7))
        for _ in range(3):
            p = int(rng.integers(2, 6))
            _q7_values(shapley_value, _random_game(rng, p), p, f"On a fresh {p}-player game")


# The decorator turns each class into its question instance: by label, and as q1 ... q7.
q1, q2, q3, q4, q5, q6, q7 = OLS, VIF, ConditionNumber, SigmoidLogit, ProbAfterShift, NumGrad, Shapley
QUESTIONS = {q.label: q for q in (q1, q2, q3, q4, q5, q6, q7)}
