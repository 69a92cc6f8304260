"""The answer key of assignment 07, "Global model-agnostic methods": instructor-only, never released.

``nbgrader_config.py`` ignores ``key.py``. It holds what the student-side module
:mod:`grader.checks.m07` must not: the reference computations, every check (``verify``,
``verify_hidden``, ``verify_graded``), the hidden tests' generators and each question's reference
answers (``references()``). The grader loads it outside the student's kernel
(:mod:`grader.judging`); ``grader release`` precomputes the offline visible check from it
(``grader/checks/data/m07.json``). See ``docs/authoring.md``.

Every reference is recomputed here: the bike-rental model of the notebook is rebuilt from its seeds
(and cached), and the function questions run on small toy models whose truth is known
(:class:`grader.checks.m07.ToyModel`). The models the checks pass to the student's functions are
built with :func:`grader.checks.wire.fitted`, so that a plan sends them into the kernel as recipes
and the kernel builds the same model. Toy data are asymmetric on purpose (skewed features,
correlated columns, unequal coefficients) so that each classic mistake gives an answer different
from the right one, and each mistake is named. A function that changes the X it is given is told
so on both paths (the collector reports an input changed by the call).

Guessable: ``feature_with_interaction`` (q6) is one of two options, stored hashed; it is worth
the visible cell's point only (its feedback does not name the right option), and shares its
question with two spreads that are not guessable. q10 is a judgement graded by computation: a
float within a band, so any honest estimate with enough repeats passes. q11 asks for a PDP's
percentile band from bootstrap refits under a stated random protocol (so graded exactly), and a
judgement graded by computation: which resampling answers "would a retrained tree show this
fall?" (refits with the rows fixed, not the colleague's row bootstrap), and the band of a rise
from each refit's own rise (not from the edges of the pointwise bands).
"""

from __future__ import annotations

import functools
from types import SimpleNamespace

import numpy as np
from scipy.stats import norm
from sklearn.base import clone
from sklearn.ensemble import GradientBoostingRegressor
from sklearn.inspection import partial_dependence, permutation_importance
from sklearn.linear_model import LinearRegression
from sklearn.model_selection import train_test_split
from sklearn.tree import DecisionTreeRegressor

from grader.checks import m07, wire
from grader.checks.core import (
    Incorrect,
    Question,
    call,
    draw_separating,
    key_for,
    separates,
    unrounded,
)
from grader.checks.m07 import ToyModel, q7_measure
from grader.checks.values import allclose, as_array, as_float, as_int, as_tuple, close, show
from grader.datasets import make_bike_rentals

#: The key's questions, by label.
__all__ = ["QUESTIONS"]

#: The grids of q6 (the notebook's setup cell defines the same ``GRID_TEMP`` and ``GRID_WIND``).
_GRID_TEMP = np.linspace(0.0, 32.0, 9)
_GRID_WIND = np.linspace(0.0, 40.0, 9)
#: Columns of the bike data (``grader.datasets.BIKE_FEATURES``).
_TEMP, _HUMIDITY, _WIND, _FEELS, _WORKDAY, _DAY = range(6)
#: q7: the thresholds the design must meet.
_Q7_MIN_PI = 0.5
_Q7_MAX_PDP_RANGE = 0.5


# --- reference data, rebuilt from seeds (cached: the checks run many times) ------------------
@functools.lru_cache(maxsize=1)
def _bikes() -> SimpleNamespace:
    """The notebook's data and model: bike rentals, 40 % test split, gradient boosting."""
    X, y = make_bike_rentals(n=800, seed=0)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.4, random_state=0)
    model = wire.fitted(
        [(GradientBoostingRegressor, {"n_estimators": 150, "max_depth": 3, "random_state": 0})],
        X_train, y_train,
    )
    return SimpleNamespace(
        X_train=X_train, X_test=X_test, y_train=y_train, y_test=y_test, model=model
    )  # fmt: skip


def _ToyModel(w, c: float = 1.5) -> ToyModel:  # noqa: N802 - reads like the class it builds
    """A :class:`ToyModel` that a plan can send into the kernel (as its recipe)."""
    return wire.fitted([(ToyModel, {"w": [float(v) for v in np.asarray(w, dtype=float)],
                                    "c": float(c)})])


def _toy_data(rng: np.random.Generator, n: int, p: int) -> np.ndarray:
    """Skewed, partly correlated columns: quantile bins differ from equal-width bins."""
    X = rng.exponential(1.0, (n, p))
    X[:, 1] = 0.6 * X[:, 0] + 0.4 * X[:, 1]
    return X


def _mae(model, X, y) -> float:
    """Mean absolute error of the model's predictions, in units of y."""
    return float(np.mean(np.abs(y - model.predict(X))))


def _pi_ref(model, X, y, n_repeats, seed, variant: str = "ok"):
    """The q1 protocol: the *increase in mean absolute error* when a column is shuffled (and,
    through ``variant``, what each classic mistake returns; "r2" is the lecture's drop in R²)."""
    rng = np.random.default_rng(seed)
    n, p = X.shape
    loss = (lambda Z: -model.score(Z, y)) if variant == "r2" else (lambda Z: _mae(model, Z, y))
    base = loss(X)
    imp = np.zeros((n_repeats, p))
    kept = X.copy()
    for r in range(n_repeats):
        if variant == "norestore_repeat":
            kept = X.copy()
        for j in range(p):
            idx = rng.permutation(n)
            if variant == "rows":
                Z = X[idx]
            elif variant.startswith("norestore"):
                kept[:, j] = kept[idx, j]
                Z = kept
            else:
                Z = X.copy()
                Z[:, j] = X[idx, j]
            imp[r, j] = loss(Z) - base
    return imp.mean(axis=0), imp.std(axis=0), imp.std(axis=0, ddof=1) if n_repeats > 1 else None


def _pdp_ref(model, X, feature, grid) -> np.ndarray:
    out = []
    for v in grid:
        Z = X.copy()
        Z[:, feature] = v
        out.append(np.mean(model.predict(Z)))
    return np.array(out)


def _ice_raw(model, X, feature, grid) -> np.ndarray:
    cols = []
    for v in grid:
        Z = X.copy()
        Z[:, feature] = v
        cols.append(model.predict(Z))
    return np.column_stack(cols)


def _bins(x: np.ndarray, edges: np.ndarray) -> np.ndarray:
    n_bins = edges.size - 1
    return np.clip(np.searchsorted(edges, x, side="left") - 1, 0, n_bins - 1)


def _ale_ref(model, X, feature, n_bins, *, equal_width=False, centre="weighted"):
    x = X[:, feature]
    if equal_width:
        edges = np.linspace(x.min(), x.max(), n_bins + 1)
    else:
        edges = np.quantile(x, np.linspace(0.0, 1.0, n_bins + 1))
    k = _bins(x, edges)
    effects = np.zeros(n_bins)
    counts = np.zeros(n_bins)
    for b in range(n_bins):
        rows = X[k == b]
        counts[b] = rows.shape[0]
        if rows.shape[0] == 0:
            continue
        lo, hi = rows.copy(), rows.copy()
        lo[:, feature] = edges[b]
        hi[:, feature] = edges[b + 1]
        effects[b] = np.mean(model.predict(hi) - model.predict(lo))
    g = np.concatenate([[0.0], np.cumsum(effects)])
    if centre == "weighted":
        g = g - np.sum(counts * (g[:-1] + g[1:]) / 2) / counts.sum()
    elif centre == "mean":
        g = g - g.mean()
    return edges, g


def _near(a: np.ndarray, b: np.ndarray, tol: float = 1e-6) -> bool:
    return allclose(a, b, rtol=tol, atol=tol)


def _unchanged(X: np.ndarray, before: np.ndarray, name: str, where: str) -> None:
    if not np.array_equal(X, before):
        raise Incorrect(
            f"{where}, `{name}` changed the X it was given (it modifies X in place). Work on a "
            "copy, `X_new = X.copy()`, so that the caller's data stay untouched."
        )


# =================================================================================================
# q1: permutation importance by hand
# =================================================================================================
def _q1_values(func, model, X, y, n_repeats, seed, where):
    before = X.copy()
    got = call(func, "perm_importance", model, X, y.copy(), n_repeats, seed)
    _unchanged(X, before, "perm_importance", where)
    mean, std = as_tuple(got, "perm_importance", 2)
    p = X.shape[1]
    mean = as_array(mean, "perm_importance(...)[0] (the means)", shape=(p,))
    std = as_array(std, "perm_importance(...)[1] (the standard deviations)", shape=(p,))
    return mean, std


def _q1_diagnose(mean, std, model, X, y, n_repeats, seed, noise_cols, where):
    ref_mean, ref_std, ref_std1 = _pi_ref(model, X, y, n_repeats, seed)
    said = f"{where}, `perm_importance` returned means {show(mean)}"
    if _near(mean, ref_mean):
        if _near(std, ref_std):
            return
        if ref_std1 is not None and _near(std, ref_std1):
            raise Incorrect(
                f"{where}, the means are right but the standard deviations use ddof=1. Use "
                "`np.std(..., axis=0)` (ddof=0), as scikit-learn does."
            )
        raise Incorrect(
            f"{where}, the means are right but the standard deviations {show(std)} are not the "
            "standard deviation over the repeats of each column's importance."
        )
    if _near(mean, -ref_mean):
        raise Incorrect(
            f"{said}: the sign is flipped. Here importance is the *increase* in error, the MAE "
            "after shuffling minus the baseline MAE, so a useful feature gets a positive value."
        )
    if _near(mean, _pi_ref(model, X, y, n_repeats, seed, "r2")[0]):
        raise Incorrect(
            f"{said}: these are drops in R² (`model.score`), the lecture's measure. This question "
            "measures the increase in mean absolute error, in units of y."
        )
    rows = _pi_ref(model, X, y, n_repeats, seed, "rows")[0]
    if _near(mean, rows) or float(np.ptp(mean)) < 1e-9 * max(1.0, float(np.max(np.abs(mean)))):
        raise Incorrect(
            f"{said}: every feature got the same importance. You shuffled whole rows (or every "
            "column at once) instead of one column at a time: permute only column j, "
            "`X_perm[:, j] = X[idx, j]`."
        )
    for variant in ("norestore", "norestore_repeat"):
        if _near(mean, _pi_ref(model, X, y, n_repeats, seed, variant)[0]):
            raise Incorrect(
                f"{said}: the shuffled column was not restored before the next feature, so the "
                "shuffles pile up and later (noise) columns look important. Start each feature "
                "from a fresh copy of X."
            )
    small = 0.02 * float(np.max(np.abs(mean)))
    if np.all(np.abs(mean[noise_cols]) < small) and np.all(mean[: min(noise_cols)] > 0):
        raise Incorrect(
            f"{said}. These are roughly right but they do not follow the required random protocol: "
            "one `rng = np.random.default_rng(seed)` per call, repeats in the outer loop, columns "
            "in the inner loop, and `idx = rng.permutation(n_rows)` for each column."
        )
    if np.any(np.abs(mean[noise_cols]) >= small):
        raise Incorrect(
            f"{said}: the model ignores columns {list(noise_cols)}, yet they get a large "
            "importance. Restore each column (work on a fresh copy) before shuffling the next one."
        )
    raise Incorrect(f"{said}, which are not the permutation importances (increase in MAE).")


@key_for(m07.q1)
class PermImportance(Question):
    tolerance = {"rtol": 1e-6, "atol": 1e-6}

    def references(self):
        return {"perm_importance": lambda model, X, y, n_repeats, seed: _pi_ref(
            model, np.asarray(X, dtype=float), np.asarray(y, dtype=float), n_repeats, seed)[:2]}

    def verify(self, perm_importance):
        rng = np.random.default_rng(70)
        X = rng.normal(0.0, 1.0, (400, 4))
        y = X @ np.array([3.0, -1.0, 0.0, 0.5]) + rng.normal(0.0, 0.5, 400)
        model = wire.fitted([(LinearRegression, {})], X, y)
        where = "On a linear toy model y = 3 x0 - x1 + 0.5 x3 (x2 is noise), n_repeats=3, seed=1"
        mean, std = _q1_values(perm_importance, model, X, y, 3, 1, where)
        _q1_diagnose(mean, std, model, X, y, 3, 1, [2], where)
        data = _bikes()
        where = "On the bike-rental model and X_test (n_repeats=2, seed=0)"
        X, y = data.X_test.copy(), data.y_test.copy()
        mean, std = _q1_values(perm_importance, data.model, X, y, 2, 0, where)
        _q1_diagnose(mean, std, data.model, X, y, 2, 0, [_DAY], where)

    def verify_hidden(self, seed, perm_importance):
        rng = np.random.default_rng(seed)
        for _ in range(3):
            n, p = int(rng.integers(150, 300)), int(rng.integers(3, 6))
            X = rng.normal(0.0, 1.0, (n, p)) * rng.uniform(0.5, 3.0, p)
            w = rng.uniform(1.0, 3.0, p) * rng.choice([-1.0, 1.0], p)
            w[-1] = 0.0
            y = X @ w + rng.normal(0.0, 0.3, n)
            model = wire.fitted([(LinearRegression, {})], X, y)
            reps, s = int(rng.integers(1, 4)), int(rng.integers(0, 1000))
            where = f"On a fresh linear case (n={n}, {p} columns, n_repeats={reps}, seed={s})"
            mean, std = _q1_values(perm_importance, model, X, y, reps, s, where)
            _q1_diagnose(mean, std, model, X, y, reps, s, [p - 1], where)


# =================================================================================================
# q2: held-out permutation importances, by hand and with sklearn
# =================================================================================================
@functools.lru_cache(maxsize=1)
def _q2_refs() -> SimpleNamespace:
    d = _bikes()

    def skl(X, y, scoring="neg_mean_absolute_error", what="importances_mean"):
        r = permutation_importance(d.model, X, y, scoring=scoring, n_repeats=5, random_state=0)
        return getattr(r, what)

    return SimpleNamespace(
        hand_test=_pi_ref(d.model, d.X_test, d.y_test, 5, 0)[0],
        hand_train=_pi_ref(d.model, d.X_train, d.y_train, 5, 0)[0],
        skl_test=skl(d.X_test, d.y_test),
        skl_train=skl(d.X_train, d.y_train),
        skl_r2=skl(d.X_test, d.y_test, None),
        skl_std=skl(d.X_test, d.y_test, what="importances_std"),
        hand_r2=_pi_ref(d.model, d.X_test, d.y_test, 5, 0, "r2")[0],
    )


def _q2_check(pi_test, pi_sklearn, tol: float) -> None:
    r = _q2_refs()
    hand = as_array(pi_test, "pi_test", shape=(6,))
    skl = as_array(pi_sklearn, "pi_sklearn", shape=(6,))
    said = f"`pi_test` = {show(hand)}"
    if not _near(hand, r.hand_test, tol):
        if _near(hand, r.hand_train, tol) or _near(hand, r.skl_train, 1e-3):
            raise Incorrect(
                f"{said} is computed on the training data. There the model has memorised the "
                "noise, so importances are inflated (a column with no effect looks useful). Use "
                "X_test, y_test."
            )
        if _near(hand, -r.hand_test, tol):
            raise Incorrect(f"{said}: the sign is flipped; importance is the increase in MAE.")
        if _near(hand, r.hand_r2, tol):
            raise Incorrect(
                f"{said} are drops in R²; your q1 function should measure the increase in MAE."
            )
        if _near(hand, r.skl_test, tol):
            raise Incorrect(
                f"{said} is scikit-learn's result. `pi_test` must come from your own "
                "`perm_importance` (n_repeats=5, seed=0); sklearn's goes into `pi_sklearn`."
            )
        raise Incorrect(
            f"{said} is not the mean importances of your `perm_importance` on X_test, y_test "
            "(n_repeats=5, seed=0)."
        )
    said = f"`pi_sklearn` = {show(skl)}"
    if not _near(skl, r.skl_test, tol):
        if _near(skl, r.skl_std, tol):
            raise Incorrect(
                f"{said} is the standard deviation over the repeats (`importances_std`); the "
                "importances are their means, `importances_mean`."
            )
        if _near(skl, r.skl_r2, tol):
            raise Incorrect(
                f"{said} uses scikit-learn's default scoring, the model's R², so it measures a "
                "different quantity from `pi_test`. Choose the `scoring` that makes it the "
                "increase in mean absolute error."
            )
        if _near(skl, r.skl_train, tol):
            raise Incorrect(
                f"{said} is computed on the training data: importances there are inflated. Pass "
                "X_test and y_test to `permutation_importance`."
            )
        if _near(skl, r.hand_test, tol):
            raise Incorrect(
                f"{said} is your own function's result; use "
                "`sklearn.inspection.permutation_importance` for this one."
            )
        raise Incorrect(
            f"{said} is not scikit-learn's mean importance (increase in MAE) on X_test, "
            "n_repeats=5, random_state=0."
        )


@key_for(m07.q2)
class HeldOutImportance(Question):
    tolerance = {"rtol": 1e-4, "atol": 1e-4}

    def references(self):
        r = _q2_refs()
        return {"pi_test": r.hand_test.copy(), "pi_sklearn": r.skl_test.copy()}

    def verify_graded(self, seed, **values):
        self.verify(**values)  # variables: no fresh inputs to draw

    def verify(self, pi_test, pi_sklearn):
        _q2_check(pi_test, pi_sklearn, 1e-4)

    def verify_hidden(self, seed, pi_test, pi_sklearn):
        unrounded(
            lambda tol: _q2_check(pi_test, pi_sklearn, tol), 1e-4, 1e-9,
            "`pi_test` or `pi_sklearn` is close to the right values but not equal to them. "
            "Compute them in code and do not round.",
        )


# =================================================================================================
# q3: partial dependence by hand
# =================================================================================================
def _q3_run(func, model, X, feature, grid, where) -> None:
    before = X.copy()
    got = call(func, "pdp", model, X, feature, grid.copy())
    _unchanged(X, before, "pdp", where)
    n, g = X.shape[0], grid.size
    arr = as_array(got, "pdp(...)")
    if arr.shape == (n,) and n != g:
        raise Incorrect(
            f"{where}, `pdp` returned an array of shape {arr.shape}: one value per *row*. You "
            "averaged over the grid values instead of over the data rows; the PDP has one value "
            "per grid value (the mean prediction over all rows)."
        )
    if arr.shape != (g,):
        raise Incorrect(
            f"{where}, `pdp` should return shape ({g},) (one value per grid value), not {arr.shape}."
        )
    ref = _pdp_ref(model, X, feature, grid)
    if _near(arr, ref):
        return
    said = f"{where}, `pdp` returned {show(arr)}"
    row = X.mean(axis=0, keepdims=True)
    if _near(arr, _pdp_ref(model, row, feature, grid)):
        raise Incorrect(
            f"{said}: these are predictions for the *average row*. A PDP averages the "
            "predictions over all rows; for a non-linear model the prediction at the average "
            "row is not the average prediction."
        )
    for other in (feature - 1, feature + 1):
        if 0 <= other < X.shape[1] and _near(arr, _pdp_ref(model, X, other, grid)):
            raise Incorrect(f"{said}: that is the PDP of column {other}; set column `feature`.")
    if float(np.ptp(arr)) < 1e-12:
        raise Incorrect(
            f"{said}: the curve is flat, so the feature never changes. Set `X_new[:, feature] = "
            "value` for each grid value before predicting."
        )
    if _near(arr, np.array([np.median(model.predict(_set(X, feature, v))) for v in grid])):
        raise Incorrect(f"{said}: that is the median prediction; a PDP uses the mean.")
    raise Incorrect(f"{said}, which is not the mean prediction at each grid value.")


def _set(X: np.ndarray, feature: int, v: float) -> np.ndarray:
    Z = X.copy()
    Z[:, feature] = v
    return Z


@key_for(m07.q3)
class PartialDependence(Question):
    tolerance = {"rtol": 1e-6, "atol": 1e-6}

    def references(self):
        return {"pdp": lambda model, X, feature, grid: _pdp_ref(
            model, np.asarray(X, dtype=float), feature, np.asarray(grid, dtype=float))}

    def verify(self, pdp):
        rng = np.random.default_rng(71)
        X = _toy_data(rng, 60, 3)
        model = _ToyModel([1.0, -2.0, 0.5])
        grid = np.array([0.0, 0.5, 1.5, 3.0])
        for feature in (0, 2):
            where = f"On a toy model (60 rows, 3 columns), feature={feature}, grid={grid.tolist()}"
            _q3_run(pdp, model, X, feature, grid, where)
        d = _bikes()
        _q3_run(pdp, d.model, d.X_test.copy(), _WIND, _GRID_WIND.copy(),
                f"On the bike-rental model, feature={_WIND} (wind), grid={_GRID_WIND.tolist()}")

    def verify_hidden(self, seed, pdp):
        rng = np.random.default_rng(seed)
        for _ in range(3):
            n, p, g = int(rng.integers(20, 80)), int(rng.integers(3, 6)), int(rng.integers(3, 9))
            X = _toy_data(rng, n, p)
            model = _ToyModel(rng.normal(0.0, 2.0, p), c=float(rng.uniform(0.5, 2.0)))
            feature = int(rng.integers(0, p))
            grid = np.sort(rng.uniform(0.0, 3.0, g))
            where = (
                f"On a fresh toy case ({n} rows, {p} columns, feature={feature}, {g} grid values)"
            )
            _q3_run(pdp, model, X, feature, grid, where)


# =================================================================================================
# q4: sklearn's partial_dependence and the slope of wind
# =================================================================================================
@functools.lru_cache(maxsize=1)
def _q4_refs() -> SimpleNamespace:
    d = _bikes()

    def pdr(X, feature, method="brute"):
        r = partial_dependence(d.model, X, [feature], grid_resolution=20, method=method)
        return r["grid_values"][0], r["average"][0]

    grid, avg = pdr(d.X_test, _WIND)
    return SimpleNamespace(
        grid=grid, avg=avg, slope=float(np.polyfit(grid, avg, 1)[0]),
        train=pdr(d.X_train, _WIND), recursion=pdr(d.X_test, _WIND, "recursion"),
        others=[pdr(d.X_test, f)[0] for f in (_HUMIDITY, _FEELS)],
    )  # fmt: skip


def _q4_check(grid_wind, pd_wind, slope_wind, tol: float) -> None:
    r = _q4_refs()
    g_obj, a_obj = grid_wind, pd_wind
    if type(a_obj) is np.ndarray and a_obj.ndim == 2 and a_obj.shape[0] == 1:
        raise Incorrect(
            f"`pd_wind` has shape {a_obj.shape}: `result['average']` has one row per output; take "
            "its first row to get the 1-D curve."
        )
    grid = as_array(g_obj, "grid_wind", shape=(20,))
    avg = as_array(a_obj, "pd_wind", shape=(20,))
    slope = as_float(slope_wind, "slope_wind")
    if not _near(grid, r.grid, tol):
        if _near(grid, r.train[0], tol):
            raise Incorrect(
                "`grid_wind` is the grid built from the training data; pass X_test to "
                "`partial_dependence` as asked."
            )
        if any(_near(grid, other, tol) for other in r.others):
            raise Incorrect(
                "`grid_wind` is the grid of another column: wind is column "
                f"{_WIND} of X (`BIKE_FEATURES.index('wind')`; Python counts from 0)."
            )
        raise Incorrect(f"`grid_wind` = {show(grid)} is not the grid of wind in the result.")
    said = f"`pd_wind` = {show(avg)}"
    if not _near(avg, r.avg, tol):
        if _near(avg, r.recursion[1], tol):
            raise Incorrect(
                f"{said} comes from the 'recursion' method (the default for this model), which "
                "averages over the training data through the trees and leaves out the model's "
                'initial prediction. Pass `method="brute"`.'
            )
        if _near(avg, r.train[1], tol):
            raise Incorrect(f"{said} is computed on the training data; use X_test.")
        raise Incorrect(f"{said} is not the brute-force partial dependence of wind on X_test.")
    if not close(slope, r.slope, rtol=tol, atol=tol):
        if close(slope, float(np.polyfit(avg, grid, 1)[0]), rtol=1e-6):
            raise Incorrect(
                f"`slope_wind` = {slope:.4g}: the arguments of `np.polyfit` are swapped "
                "(that regresses wind on the PDP). The grid is x, the PDP is y."
            )
        if close(slope, float((avg[-1] - avg[0]) / (grid[-1] - grid[0])), rtol=1e-6):
            raise Incorrect(
                f"`slope_wind` = {slope:.4g} joins the two endpoints only; fit a least-squares "
                "line through all 20 points."
            )
        if close(slope, float(np.polyfit(avg, grid, 1)[1]), rtol=1e-6) or close(
            slope, float(np.polyfit(grid, avg, 1)[1]), rtol=1e-6
        ):
            raise Incorrect(
                f"`slope_wind` = {slope:.4g} is the intercept: `np.polyfit(x, y, 1)` returns "
                "[slope, intercept]."
            )
        raise Incorrect(
            f"`slope_wind` = {slope:.4g} is not the least-squares slope of pd_wind on grid_wind."
        )


@key_for(m07.q4)
class SklearnPDP(Question):
    tolerance = {"rtol": 1e-4, "atol": 1e-4}

    def references(self):
        r = _q4_refs()
        return {"grid_wind": r.grid.copy(), "pd_wind": r.avg.copy(), "slope_wind": r.slope}

    def verify_graded(self, seed, **values):
        self.verify(**values)  # variables: no fresh inputs to draw

    def verify(self, grid_wind, pd_wind, slope_wind):
        _q4_check(grid_wind, pd_wind, slope_wind, 1e-4)

    def verify_hidden(self, seed, grid_wind, pd_wind, slope_wind):
        unrounded(
            lambda tol: _q4_check(grid_wind, pd_wind, slope_wind, tol), 1e-4, 1e-9,
            "`grid_wind`, `pd_wind` or `slope_wind` is close to the right value but not equal to "
            "it. Compute them in code and do not round.",
        )


# =================================================================================================
# q5: centred ICE
# =================================================================================================
def _q5_run(func, model, X, feature, grid, where) -> None:
    before = X.copy()
    got = call(func, "centred_ice", model, X, feature, grid.copy())
    _unchanged(X, before, "centred_ice", where)
    n, g = X.shape[0], grid.size
    if type(got) is not np.ndarray:
        raise Incorrect(f"`centred_ice` should return a 2-D NumPy array, not {type(got).__name__}.")
    if got.dtype.kind not in "fiu":
        raise Incorrect(f"`centred_ice` should return numbers, but its dtype is {got.dtype}.")
    arr = np.array(got, dtype=float, copy=True)
    raw = _ice_raw(model, X, feature, grid)
    if arr.shape == (g, n) and n != g:
        raise Incorrect(
            f"{where}, `centred_ice` returned shape {arr.shape}: it is transposed. Return one row "
            f"per data row and one column per grid value, shape ({n}, {g})."
        )
    if arr.shape != (n, g):
        raise Incorrect(f"{where}, `centred_ice` should return shape ({n}, {g}), not {arr.shape}.")
    ref = raw - raw[:, [0]]
    if _near(arr, ref):
        return
    said = f"{where}, `centred_ice` returned {show(arr)}"
    if _near(arr, raw):
        raise Incorrect(
            f"{said}: these curves are not centred. Subtract from each row its own prediction at "
            "the first grid value, `ice - ice[:, [0]]`, so that every curve starts at 0."
        )
    wrong = {
        "at the mean of each curve": raw - raw.mean(axis=1, keepdims=True),
        "at the last grid value": raw - raw[:, [-1]],
        "at the row's own prediction (its actual feature value)": raw - model.predict(X)[:, None],
        "on the PDP (the mean curve)": raw - raw.mean(axis=0, keepdims=True),
        "on one number (the first curve's start, or the mean start) for all rows": raw - raw[0, 0],
        "on the mean start for all rows": raw - raw[:, 0].mean(),
    }
    for how, value in wrong.items():
        if _near(arr, value) and how == "at the mean of each curve":
            raise Incorrect(
                f"{said}: the curves are centred at the mean of each curve over the grid. That is "
                "a valid centring too (it removes one constant per curve), but this question asks "
                "for the other common one: every curve at 0 at grid[0]."
            )
        if _near(arr, value):
            raise Incorrect(
                f"{said}: the curves are centred {how}. Centre each curve at the first grid value: "
                "subtract that row's prediction at grid[0]."
            )
    raise Incorrect(f"{said}, which are not the centred ICE curves.")


@key_for(m07.q5)
class CentredICE(Question):
    tolerance = {"rtol": 1e-6, "atol": 1e-6}

    def references(self):
        def centred_ice(model, X, feature, grid):
            raw = _ice_raw(model, np.asarray(X, dtype=float), feature, np.asarray(grid, dtype=float))
            return raw - raw[:, [0]]

        return {"centred_ice": centred_ice}

    def verify(self, centred_ice):
        rng = np.random.default_rng(72)
        X = _toy_data(rng, 30, 3)
        model = _ToyModel([1.0, -2.0, 0.5])
        grid = np.array([0.5, 1.0, 2.0, 2.5, 4.0])
        where = f"On a toy model (30 rows, 3 columns), feature=0, grid={grid.tolist()}"
        _q5_run(centred_ice, model, X, 0, grid, where)
        d = _bikes()
        _q5_run(centred_ice, d.model, d.X_test[:40].copy(), _TEMP, _GRID_TEMP.copy(),
                "On the bike-rental model (40 held-out rows), feature=0 (temp)")

    def verify_hidden(self, seed, centred_ice):
        rng = np.random.default_rng(seed)
        for _ in range(3):
            n, p, g = int(rng.integers(10, 50)), int(rng.integers(3, 6)), int(rng.integers(3, 8))
            X = _toy_data(rng, n, p)
            model = _ToyModel(rng.normal(0.0, 2.0, p), c=float(rng.uniform(0.5, 2.0)))
            feature = int(rng.integers(0, 2))
            grid = np.sort(rng.uniform(0.0, 3.0, g))
            where = (
                f"On a fresh toy case ({n} rows, {p} columns, feature={feature}, {g} grid values)"
            )
            _q5_run(centred_ice, model, X, feature, grid, where)


# =================================================================================================
# q6: interactions from ICE heterogeneity
# =================================================================================================
_Q6_FEATURES = {"temp": (_TEMP, _GRID_TEMP), "wind": (_WIND, _GRID_WIND)}


@functools.lru_cache(maxsize=1)
def _q6_refs() -> dict:
    d = _bikes()
    out = {}
    for where, X in (("test", d.X_test), ("train", d.X_train)):
        for name, (f, grid) in _Q6_FEATURES.items():
            raw = _ice_raw(d.model, X, f, grid)
            c = raw - raw[:, [0]]
            out[where, name] = float(c.std(axis=0).mean())
            out[where, name, "raw"] = float(raw.std(axis=0).mean())
            out[where, name, "axis"] = float(c.std(axis=1).mean())
            out[where, name, "ddof"] = float(c.std(axis=0, ddof=1).mean())
            out[where, name, "var"] = float(c.var(axis=0).mean())
    return out


def _q6_spreads(spread_temp, spread_wind, tol: float) -> tuple[float, float]:
    r = _q6_refs()
    got = []
    for name, value in (("temp", spread_temp), ("wind", spread_wind)):
        other = "wind" if name == "temp" else "temp"
        label = f"spread_{name}"
        v = as_float(value, label)
        got.append(v)
        if close(v, r["test", name], rtol=tol, atol=tol):
            continue
        said = f"`{label}` = {v:.4g}"
        if close(v, r["test", name, "raw"], rtol=1e-4):
            raise Incorrect(
                f"{said} comes from uncentred ICE curves: their spread mixes level differences "
                "between rows (other features) with differences in shape. Centre first."
            )
        if close(v, r["test", name, "axis"], rtol=1e-4):
            raise Incorrect(
                f"{said} uses the wrong axis: take the standard deviation across rows (axis=0) at "
                "each grid value, then average over the grid values."
            )
        if close(v, r["test", name, "ddof"], rtol=1e-4):
            raise Incorrect(f"{said} uses ddof=1; use `np.std(..., axis=0)` (ddof=0).")
        if close(v, r["test", name, "var"], rtol=1e-4):
            raise Incorrect(f"{said} is a variance (units of y squared); take the std.")
        if close(v, r["train", name], rtol=1e-4) or close(v, r["train", name, "raw"], rtol=1e-4):
            raise Incorrect(f"{said} is computed on X_train; use X_test as asked.")
        if close(v, r["test", other], rtol=1e-4):
            raise Incorrect(f"{said} is the spread of {other} (the two are swapped).")
        raise Incorrect(
            f"{said} is not the mean over the grid of the across-row standard deviation of the "
            f"centred ICE curves of {name}."
        )
    return got[0], got[1]


def _q6_check(spread_temp, spread_wind, feature_with_interaction, tol: float) -> None:
    s_temp, s_wind = _q6_spreads(spread_temp, spread_wind, tol)
    choice = as_int(feature_with_interaction, "feature_with_interaction")
    if choice not in (_TEMP, _WIND):
        raise Incorrect(
            f"`feature_with_interaction` = {choice}; it should be the column index of temp or of "
            "wind."
        )
    larger = _TEMP if s_temp > s_wind else _WIND
    if choice != larger:
        # Teaches without naming the option: the student's own spreads decide.
        raise Incorrect(
            f"`feature_with_interaction` = {choice} does not follow from your two spreads. An "
            "additive feature shifts every row's prediction by the same amount, so its centred "
            "curves coincide; a feature whose effect depends on other features gives curves that "
            "fan out. Which of your spreads says that?"
        )


@key_for(m07.q6)
class Interactions(Question):
    """The choice is worth the visible cell's point only: the hidden cell re-checks the spreads."""

    tolerance = {"rtol": 1e-4, "atol": 1e-4}

    def references(self):
        r = _q6_refs()
        return {"spread_temp": r["test", "temp"], "spread_wind": r["test", "wind"],
                "feature_with_interaction": _TEMP}  # fmt: skip

    def verify_graded(self, seed, **values):
        self.verify(**values)  # variables: no fresh inputs to draw

    def verify(self, spread_temp, spread_wind, feature_with_interaction):
        _q6_check(spread_temp, spread_wind, feature_with_interaction, 1e-4)

    def verify_hidden(self, seed, spread_temp, spread_wind, feature_with_interaction):
        unrounded(
            lambda tol: _q6_spreads(spread_temp, spread_wind, tol), 1e-4, 1e-9,
            "`spread_temp` or `spread_wind` is close to the right value but not equal to it. "
            "Compute them in code and do not round.",
        )


# =================================================================================================
# q7: design problem, flat PDP but high importance (X2 is not centred at 0 here)
# =================================================================================================
def _q7_check(make_target, seed: int, where: str) -> None:
    pi, rng_pdp = q7_measure(make_target, seed=seed)
    measured = f"{where}, X1 has importance {pi:.3g} and a PDP range of {rng_pdp:.3g}"
    if pi <= _Q7_MIN_PI and rng_pdp >= _Q7_MAX_PDP_RANGE:
        raise Incorrect(f"{measured}. Both fail: X1 must matter a lot but have a flat PDP.")
    if pi <= _Q7_MIN_PI:
        raise Incorrect(
            f"{measured}. The importance must exceed {_Q7_MIN_PI}: X1 is unused or barely used "
            "by the target. Make y depend strongly on X1."
        )
    if rng_pdp >= _Q7_MAX_PDP_RANGE:
        raise Incorrect(
            f"{measured}. The PDP range must stay below {_Q7_MAX_PDP_RANGE}: X1 has a main effect "
            "(averaged over the rows, y still moves with X1). For the PDP to be flat, X1's effect "
            "must average to zero over the distribution of X2, which here is [0, 4], not centred "
            "at 0."
        )


@key_for(m07.q7)
class FlatButImportant(Question):
    def references(self):
        return {"make_target": lambda X1, X2: np.asarray(X1, dtype=float) * (
            np.asarray(X2, dtype=float) - 2.0)}

    def verify(self, make_target):
        _q7_check(make_target, 7, "On the notebook's data (seed 7)")

    def verify_hidden(self, seed, make_target):
        _q7_check(make_target, int(seed), "On fresh data")


# =================================================================================================
# q8: first-order ALE
# =================================================================================================
def _q8_run(func, model, X, feature, n_bins, where) -> None:
    before = X.copy()
    got = call(func, "ale", model, X, feature, n_bins)
    _unchanged(X, before, "ale", where)
    e_obj, a_obj = as_tuple(got, "ale", 2)
    edges = as_array(e_obj, "ale(...)[0] (the edges)", shape=(n_bins + 1,))
    values = as_array(a_obj, "ale(...)[1] (the ALE values)", shape=(n_bins + 1,))
    ref_e, ref_a = _ale_ref(model, X, feature, n_bins)
    if not _near(edges, ref_e):
        eq_e, _ = _ale_ref(model, X, feature, n_bins, equal_width=True)
        if _near(edges, eq_e):
            raise Incorrect(
                f"{where}, the edges {show(edges)} are equally spaced. ALE uses quantile bins "
                "(`np.quantile(x, np.linspace(0, 1, n_bins + 1))`), so every bin holds about the "
                "same number of rows."
            )
        raise Incorrect(f"{where}, the edges {show(edges)} are not the quantile bin edges.")
    if _near(values, ref_a):
        return
    said = f"{where}, `ale` returned {show(values)}"
    unc = _ale_ref(model, X, feature, n_bins, centre="none")[1]
    if _near(values, unc):
        raise Incorrect(
            f"{said}: the accumulated effects are not centred (the curve starts at 0). Subtract "
            "the count-weighted mean described in the prompt."
        )
    if _near(values, _ale_ref(model, X, feature, n_bins, centre="mean")[1]):
        raise Incorrect(
            f"{said}: the centring is an unweighted mean of the edge values. Weight each bin's "
            "midpoint (g[k] + g[k+1]) / 2 by its number of rows."
        )
    shift = values - _pdp_ref(model, X, feature, ref_e)
    if float(np.ptp(shift)) < 1e-6 * max(1.0, float(np.max(np.abs(values)))):
        raise Incorrect(
            f"{said}: this is the PDP at the edges, not ALE. ALE averages prediction "
            "*differences* across each bin using only the rows inside that bin."
        )
    raise Incorrect(f"{said}, which are not the centred first-order ALE values.")


@key_for(m07.q8)
class FirstOrderALE(Question):
    tolerance = {"rtol": 1e-6, "atol": 1e-6}

    def references(self):
        return {"ale": lambda model, X, feature, n_bins: _ale_ref(
            model, np.asarray(X, dtype=float), feature, n_bins)}

    def verify(self, ale):
        rng = np.random.default_rng(73)
        X = _toy_data(rng, 80, 3)
        model = _ToyModel([1.0, -2.0, 0.5], c=2.0)
        where = "On a toy model (80 skewed rows; x1 is correlated with x0), feature=0, n_bins=4"
        _q8_run(ale, model, X, 0, 4, where)
        d = _bikes()
        _q8_run(ale, d.model, d.X_test.copy(), _WIND, 5,
                "On the bike-rental model, feature=2 (wind, right-skewed), n_bins=5")

    def verify_hidden(self, seed, ale):
        rng = np.random.default_rng(seed)
        for _ in range(3):
            n, p, b = int(rng.integers(40, 120)), int(rng.integers(3, 6)), int(rng.integers(3, 8))
            X = _toy_data(rng, n, p)
            model = _ToyModel(rng.normal(0.0, 2.0, p), c=float(rng.uniform(0.5, 2.0)))
            feature = int(rng.integers(0, 2))
            where = f"On a fresh toy case ({n} rows, {p} columns, feature={feature}, n_bins={b})"
            _q8_run(ale, model, X, feature, b, where)


# =================================================================================================
# q9: Friedman's H-statistic for a pair of features
# =================================================================================================
def _pd_at_rows(model, X: np.ndarray, cols: list[int]) -> np.ndarray:
    """PD of ``cols`` evaluated at each row's own values of ``cols``, averaged over all rows."""
    n = X.shape[0]
    Z = np.tile(X, (n, 1))
    Z[:, cols] = np.repeat(X[:, cols], n, axis=0)
    return model.predict(Z).reshape(n, n).mean(axis=1)


def _h2_ref(model, X, j: int, k: int, variant: str = "ok", n_grid: int = 10) -> float:
    """H^2_jk of Friedman and Popescu (2008, eq. 44), or what a classic mistake returns."""
    if variant == "grid":
        gj = np.linspace(X[:, j].min(), X[:, j].max(), n_grid)
        gk = np.linspace(X[:, k].min(), X[:, k].max(), n_grid)
        pj, pk = _pdp_ref(model, X, j, gj), _pdp_ref(model, X, k, gk)
        pjk = np.array([[np.mean(model.predict(_set(_set(X, j, a), k, b))) for b in gk]
                        for a in gj])  # fmt: skip
        pj, pk, pjk = pj - pj.mean(), pk - pk.mean(), pjk - pjk.mean()
        return float(np.sum((pjk - pj[:, None] - pk[None, :]) ** 2) / np.sum(pjk**2))
    pj, pk, pjk = (_pd_at_rows(model, X, c) for c in ([j], [k], [j, k]))
    if variant != "uncentred":
        pj, pk, pjk = pj - pj.mean(), pk - pk.mean(), pjk - pjk.mean()
    num = float(np.sum((pjk - pj - pk) ** 2))
    if variant == "variance":
        f = model.predict(X)
        return num / float(np.sum((f - f.mean()) ** 2))
    h2 = num / float(np.sum(pjk**2))
    return float(np.sqrt(h2)) if variant == "H" else h2


_Q9_MISTAKES = {
    "uncentred": "the partial dependence functions are not centred. Each of PD_jk, PD_j and PD_k "
    "must have mean 0 over the rows before the difference is taken, or a constant offset counts "
    "as interaction",
    "variance": "the denominator is the variance of the model's predictions. H^2_jk divides by the "
    "sum of squares of the centred two-way PD_jk, so that it is the share of the pair's joint "
    "effect that is interaction",
    "H": "that is H, the square root. Return H^2 (the share of variance), without the square root",
    "grid": "the partial dependence is evaluated on an evenly spaced grid. H^2 sums over the data "
    "rows: evaluate each PD function at every row's own values of the features",
}


def _q9_run(func, model, X, j, k, where) -> None:
    before = X.copy()
    got = call(func, "h2_pair", model, X, j, k)
    _unchanged(X, before, "h2_pair", where)
    h2 = as_float(got, "h2_pair(...)")
    ref = _h2_ref(model, X, j, k)
    if close(h2, ref, rtol=1e-6, atol=1e-6):
        return
    said = f"{where}, `h2_pair` returned {h2:.4g}"
    if not np.isfinite(h2):
        raise Incorrect(f"{said}; H^2 is a finite share, between 0 and (usually) 1.")
    for variant, why in _Q9_MISTAKES.items():
        if variant == "grid":
            if any(close(h2, _h2_ref(model, X, j, k, "grid", g), rtol=1e-6, atol=1e-9)
                   for g in (10, 20)):  # fmt: skip
                raise Incorrect(f"{said}: {why}.")
        elif close(h2, _h2_ref(model, X, j, k, variant), rtol=1e-6, atol=1e-9):
            raise Incorrect(f"{said}: {why}.")
    raise Incorrect(f"{said}, which is not Friedman's H^2 for features {j} and {k}.")


def _q9_outcomes(case):
    """The right H^2 on a case ``(model, X, j, k)`` and each named mistake's; None when the
    right value is too near 0 or 1 to tell mistakes apart."""
    model, X, j, k = case
    ref = _h2_ref(model, X, j, k)
    if not 0.02 < ref < 0.95:
        return None
    wrong = [_h2_ref(model, X, j, k, v) for v in ("uncentred", "variance", "H")]
    wrong += [_h2_ref(model, X, j, k, "grid", g) for g in (10, 20)]
    return ref, wrong


def _q9_apart(ref: float, wrong: float) -> bool:
    return abs(wrong - ref) > 1e-3 * max(1.0, abs(ref))


def _q9_separated(model, X, j, k) -> bool:
    """Do all named mistakes give values clearly apart from the right one on this case?"""
    return separates(_q9_outcomes((model, X, j, k)), _q9_apart)


@key_for(m07.q9)
class HStatistic(Question):
    tolerance = {"rtol": 1e-6, "atol": 1e-6}

    def references(self):
        return {"h2_pair": lambda model, X, j, k: _h2_ref(model, np.asarray(X, dtype=float), j, k)}

    def verify(self, h2_pair):
        rng = np.random.default_rng(74)
        X = _toy_data(rng, 50, 3)
        model = _ToyModel([1.0, -2.0, 0.5], c=1.5)
        toy = "On a toy model f = x0 - 2 x1 + 0.5 x2 + 1.5 x0 x1 + sin(3 x2) (50 rows)"
        _q9_run(h2_pair, model, X, 0, 1, f"{toy}, pair (0, 1)")
        _q9_run(h2_pair, model, X, 0, 2, f"{toy}, pair (0, 2), which does not interact")
        d = _bikes()
        _q9_run(h2_pair, d.model, d.X_test[:60].copy(), _TEMP, _HUMIDITY,
                "On the bike-rental model (60 held-out rows), pair (temp, humidity)")

    def verify_hidden(self, seed, h2_pair):
        rng = np.random.default_rng(seed)

        def draw(g, case: int):
            n, p = int(g.integers(25, 60)), int(g.integers(3, 6))
            X = _toy_data(g, n, p)
            model = _ToyModel(g.normal(0.0, 2.0, p), c=float(g.uniform(0.5, 2.0)))
            return model, X, *((0, 1) if case < 2 else (1, p - 1))

        for case in range(3):
            if case < 2:  # bounded: redraw until every named mistake is separated
                model, X, j, k = draw_separating(lambda g, c=case: draw(g, c), _q9_outcomes, rng,
                                                 separated=_q9_apart, tries=20, fallback="last")
            else:  # the third pair is one that does not interact by design, once
                model, X, j, k = draw(rng, case)
            n, p = X.shape
            where = f"On a fresh toy case ({n} rows, {p} columns, pair ({j}, {k}))"
            _q9_run(h2_pair, model, X, j, k, where)


# =================================================================================================
# q10: a judgement: what the deployed model loses when one station's records are shuffled
# =================================================================================================
_Q10_PAIR = [_TEMP, _FEELS]
_Q10_REPEATS = 200
_Q10_ATOL = 0.12


@functools.lru_cache(maxsize=1)
def _q10_refs() -> dict[str, float]:
    d = _bikes()
    X, y = d.X_test, d.y_test
    rng = np.random.default_rng(0)
    base = d.model.score(X, y)
    drops: dict[str, list[float]] = {"group": [], "separate": [], "temp": [], "feels": []}
    for _ in range(_Q10_REPEATS):
        idx = rng.permutation(X.shape[0])
        drops["group"].append(base - d.model.score(_set_rows(X, _Q10_PAIR, X[idx]), y))
        Z = X.copy()
        for c in _Q10_PAIR:
            Z[:, c] = X[rng.permutation(X.shape[0]), c]
        drops["separate"].append(base - d.model.score(Z, y))
        for name, c in (("temp", _TEMP), ("feels", _FEELS)):
            shuffled = X[rng.permutation(X.shape[0])]
            drops[name].append(base - d.model.score(_set_rows(X, [c], shuffled), y))
    out = {k: float(np.mean(v)) for k, v in drops.items()}
    out["sum"] = out["temp"] + out["feels"]
    return out


def _set_rows(X: np.ndarray, cols: list[int], source: np.ndarray) -> np.ndarray:
    Z = X.copy()
    Z[:, cols] = source[:, cols]
    return Z


def _q10_check(loss_if_station_fails) -> None:
    r = _q10_refs()
    v = as_float(loss_if_station_fails, "loss_if_station_fails")
    if abs(v - r["group"]) <= _Q10_ATOL:
        return
    said = f"`loss_if_station_fails` = {v:.3g}"
    named = (
        ("sum", "adds the two features' own permutation importances. With correlated features "
         "importances do not add: shuffling temp alone leaves feels_like as a stand-in (and the "
         "reverse), so each alone loses little. The fault shuffles both columns together"),
        ("separate", "shuffles temp and feels_like with two different permutations. The fault "
         "moves a station's records as a whole: both columns of a row come from the same other "
         "hour, so use one permutation for the pair. Separate shuffles also create temp and "
         "feels_like pairs that never occur (extrapolation)"),
        ("temp", "is temp's importance alone; the fault also shuffles feels_like"),
        ("feels", "is feels_like's importance alone; the fault also shuffles temp"),
    )
    for key, why in named:
        if abs(v - r[key]) <= _Q10_ATOL:
            raise Incorrect(f"{said} {why}.")
    if v < 0:
        raise Incorrect(f"{said} is negative: report the drop in R² (before minus after).")
    raise Incorrect(
        f"{said} is not the held-out R² the model loses when the station's two columns are "
        "shuffled across the test hours (estimated with at least 30 repeats)."
    )


@key_for(m07.q10)
class StationFault(Question):
    tolerance = {"rtol": 0.0, "atol": _Q10_ATOL}

    def references(self):
        return {"loss_if_station_fails": _q10_refs()["group"]}

    def verify_graded(self, seed, **values):
        self.verify(**values)  # a variable: no fresh inputs to draw

    def verify(self, loss_if_station_fails):
        _q10_check(loss_if_station_fails)

    def verify_hidden(self, seed, loss_if_station_fails):
        _q10_check(loss_if_station_fails)


# =================================================================================================
# q11: a percentile band for a PDP from bootstrap refits, and which band answers the question
# =================================================================================================
#: The notebook's q11 setup: the small tree, humidity's grid, and the rise band's protocol.
_Q11_TREE = {"max_depth": 6, "min_samples_leaf": 5, "random_state": 0}
_Q11_GRID = np.linspace(25.0, 95.0, 8)
_Q11_B, _Q11_SEED, _Q11_LEVEL = 40, 0, 0.9


def _pdp_fast(model, X: np.ndarray, feature: int, grid: np.ndarray) -> np.ndarray:
    """Brute-force PDP, every grid value in one ``predict`` call (same values as ``_pdp_ref``)."""
    n = X.shape[0]
    Z = np.tile(X, (len(grid), 1))
    Z[:, feature] = np.repeat(np.asarray(grid, dtype=float), n)
    return model.predict(Z).reshape(len(grid), n).mean(axis=1)


def _refit_ref(model, X_train, y_train, X_eval, feature, grid, B, seed,
               variant: str = "ok") -> np.ndarray:
    """The q11 protocol, shape (B, len(grid)): one generator from ``seed``; for each of the B
    refits, ``idx = rng.integers(0, n, n)`` (a bootstrap sample of the training rows, with
    replacement; Efron and Tibshirani 1993, ch. 6), ``clone(model)`` fitted on those rows, and its
    brute-force PDP averaged over all rows of ``X_eval``. ``model`` is fitted on ``X_train``.
    ``variant`` is what a classic mistake returns: "rows" resamples ``X_eval`` for the one fitted
    model (the PDP's sampling noise for this model, no refit), "same" refits on the full training
    set every time, "boot_eval" averages each refit's PDP over its own bootstrap sample instead
    of ``X_eval``."""
    rng = np.random.default_rng(seed)
    n = X_train.shape[0]
    curves = np.empty((B, len(grid)))
    for b in range(B):
        if variant == "rows":
            rows = rng.integers(0, X_eval.shape[0], X_eval.shape[0])
            curves[b] = _pdp_fast(model, X_eval[rows], feature, grid)
            continue
        if variant == "same":
            curves[b] = _pdp_fast(clone(model).fit(X_train, y_train), X_eval, feature, grid)
            continue
        idx = rng.integers(0, n, n)
        refit = clone(model).fit(X_train[idx], y_train[idx])
        curves[b] = _pdp_fast(refit, X_train[idx] if variant == "boot_eval" else X_eval,
                              feature, grid)
    return curves


def _band_ref(values, level: float, variant: str = "ok") -> tuple[np.ndarray, np.ndarray]:
    """The percentile band (Efron and Tibshirani 1993, ch. 13): the 100(1-level)/2 and
    100(1+level)/2 percentiles over axis 0 (NumPy's default, linear interpolation); or what a
    classic mistake returns ("sd": mean -+ z sd with the normal z of ``level``; "wide": 2.5 and
    97.5 whatever the level; "tails": the whole 1-level in each tail; "fractions": the levels
    passed to ``np.percentile`` as fractions of 1)."""
    v = np.asarray(values, dtype=float)
    a = 50.0 * (1.0 - level)
    qs = {"ok": (a, 100.0 - a), "wide": (2.5, 97.5), "tails": (2 * a, 100.0 - 2 * a),
          "fractions": (a / 100.0, 1.0 - a / 100.0)}
    if variant == "sd":
        z = float(norm.ppf(0.5 + level / 2.0))
        m, s = v.mean(axis=0), v.std(axis=0)
        return m - z * s, m + z * s
    lo, hi = np.percentile(v, qs[variant], axis=0)
    return lo, hi


_Q11_CURVE_MISTAKES = {
    "rows": "they are PDPs of the one fitted tree over resamples of the rows of X_eval. That band "
    "is the sampling noise of the average over rows, for this one model; it cannot show how "
    "much a retrained model would differ. Refit a fresh tree on each bootstrap sample of the "
    "training rows",
    "same": "every curve is the same, so all B refitted trees are identical: each saw the whole "
    "training set (a sample drawn without replacement is the same set again). Fit each tree on a bootstrap sample of the training rows (drawn with "
    "replacement, `rng.integers(0, n, n)`)",
    "boot_eval": "each refit's PDP is averaged over its own bootstrap sample. Keep the rows the "
    "PDP averages fixed (all of X_eval), so that the band shows only how the refitted models "
    "differ",
}
_Q11_BAND_MISTAKES = {
    "sd": "a normal interval, the mean plus or minus z standard deviations, is symmetric by "
    "construction. A percentile band takes the percentiles of the B values themselves",
    "wide": "those are the 2.5th and 97.5th percentiles, a 95% band. A band at `level` leaves "
    "(1 - level) / 2 in each tail",
    "tails": "each tail holds the whole 1 - level, so the band covers less than `level`. Split "
    "1 - level equally between the two tails",
    "fractions": "`np.percentile` takes percents (0 to 100); fractions of 1 such as 0.05 give "
    "almost the smallest and the largest value. Use `np.quantile` for fractions",
}


def _q11_curves(func, model, X_train, y_train, X_eval, feature, grid, B, seed, where):
    args = (X_train.copy(), y_train.copy(), X_eval.copy())
    got = call(func, "refit_pdps", model, *args, feature, grid.copy(), B, seed)
    if type(got) in (list, tuple) and got and type(got[0]) in (list, tuple, np.ndarray):
        if len(got) != B:  # a list of B curves is fine too
            raise Incorrect(f"{where}, `refit_pdps` should return {B} curves, not {len(got)}.")
        arr = np.stack([as_array(c, f"refit_pdps(...)[{i}]", shape=(grid.size,))
                        for i, c in enumerate(got)])
    else:
        arr = as_array(got, "refit_pdps(...)")
    if arr.shape != (B, grid.size):
        raise Incorrect(
            f"{where}, `refit_pdps` should return shape ({B}, {grid.size}) (one PDP per refit, "
            f"one value per grid value), not {arr.shape}."
        )
    ref = _refit_ref(model, X_train, y_train, X_eval, feature, grid, B, seed)
    if _near(arr, ref):
        return
    said = f"{where}, `refit_pdps` returned curves starting {show(arr[:2, :3])}"
    if float(np.max(np.ptp(arr, axis=0))) < 1e-9:
        raise Incorrect(f"{said}: {_Q11_CURVE_MISTAKES['same']}.")
    for variant, why in _Q11_CURVE_MISTAKES.items():
        if _near(arr, _refit_ref(model, X_train, y_train, X_eval, feature, grid, B, seed,
                                 variant)):
            raise Incorrect(f"{said}: {why}.")
    raise Incorrect(
        f"{said}, which are not the PDPs of the B refitted trees. Follow the prompt's protocol: "
        "one generator from `seed`, `idx = rng.integers(0, n, n)` per refit, a fresh tree with "
        "`clone(model)` fitted on those rows, and the brute-force PDP over all rows of X_eval."
    )


def _q11_band(func, values, level, where):
    got = call(func, "percentile_band", values.copy(), level)
    lo_obj, hi_obj = as_tuple(got, "percentile_band", 2)
    g = values.shape[1]
    lo = as_array(lo_obj, "percentile_band(...)[0] (the lower edges)", shape=(g,))
    hi = as_array(hi_obj, "percentile_band(...)[1] (the upper edges)", shape=(g,))
    ref_lo, ref_hi = _band_ref(values, level)
    if _near(lo, ref_lo) and _near(hi, ref_hi):
        return
    said = f"{where}, `percentile_band` returned lower edges {show(lo[:3])}"
    if _near(lo, ref_hi) and _near(hi, ref_lo):
        raise Incorrect(f"{said}: the two edges are swapped; return (lower, upper).")
    for variant, why in _Q11_BAND_MISTAKES.items():
        w_lo, w_hi = _band_ref(values, level, variant)
        if _near(lo, w_lo) and _near(hi, w_hi):
            raise Incorrect(f"{said}: {why}.")
    centre = values.mean(axis=0)
    if _near((lo + hi) / 2.0, centre):
        raise Incorrect(f"{said}: {_Q11_BAND_MISTAKES['sd']}.")
    raise Incorrect(
        f"{said}, which are not the {100 * level:g}% percentile band over the B values "
        "(one band edge per column)."
    )


def _q11_separated(model, X_train, y_train, X_eval, feature, grid, B, seed) -> bool:
    """Do all named mistakes give answers clearly apart from the right ones on this case?"""
    ref = _refit_ref(model, X_train, y_train, X_eval, feature, grid, B, seed)
    if float(np.min(np.ptp(ref, axis=0))) < 1e-3:
        return False
    for variant in _Q11_CURVE_MISTAKES:
        w = _refit_ref(model, X_train, y_train, X_eval, feature, grid, B, seed, variant)
        if float(np.max(np.abs(w - ref))) < 1e-3:
            return False
    return True


def _q11_band_values(rng: np.random.Generator, B: int, g: int) -> np.ndarray:
    """Skewed, distinct values (B replicates x g columns) for the band check."""
    return rng.gamma(2.0, 1.0, (B, g)) * rng.uniform(0.5, 3.0, g) + rng.normal(0.0, 2.0, g)


def _band_separated(values: np.ndarray, level: float) -> bool:
    lo, hi = _band_ref(values, level)
    for variant in _Q11_BAND_MISTAKES:
        w_lo, w_hi = _band_ref(values, level, variant)
        if float(max(np.max(np.abs(w_lo - lo)), np.max(np.abs(w_hi - hi)))) < 1e-3:
            return False
    return float(np.max(np.abs((lo + hi) / 2 - values.mean(axis=0)))) > 1e-3


@functools.lru_cache(maxsize=1)
def _q11_refs() -> dict:
    """Humidity's rise (PD at 95 % minus PD at 25 %) over the notebook's 40 refits, and what the
    classic mistakes report."""
    d = _bikes()
    tree = DecisionTreeRegressor(**_Q11_TREE).fit(d.X_train, d.y_train)
    args = (tree, d.X_train, d.y_train, d.X_test, _HUMIDITY, _Q11_GRID, _Q11_B, _Q11_SEED)

    def rises(variant="ok", X_eval=None):
        a = list(args)
        if X_eval is not None:
            a[3] = X_eval
        c = _refit_ref(*a, variant=variant)
        return c[:, -1] - c[:, 0], c

    ok, curves = rises()
    lo, hi = _band_ref(curves, _Q11_LEVEL)
    out = {"ok": _band_ref(ok, _Q11_LEVEL)}
    out["rows"] = _band_ref(rises("rows")[0], _Q11_LEVEL)
    out["train"] = _band_ref(rises(X_eval=d.X_train)[0], _Q11_LEVEL)
    out["edges"] = (lo[-1] - hi[0], hi[-1] - lo[0])
    out["edges_same"] = (lo[-1] - lo[0], hi[-1] - hi[0])
    out["sd"] = _band_ref(ok, _Q11_LEVEL, "sd")
    out["wide"] = _band_ref(ok, _Q11_LEVEL, "wide")
    out["sign"] = (-out["ok"][1], -out["ok"][0])
    return {k: (float(a), float(b)) for k, (a, b) in out.items()}


_Q11_RISE_MISTAKES = (
    ("rows", "is the band of the one fitted tree's rise over resamples of the held-out rows. It "
     "only says how precisely 320 rows pin down *this* tree's average; it cannot say whether a "
     "tree retrained on another sample would show the fall. Use the refits"),
    ("edges", "subtracts the edges of the pointwise bands. The band of a difference is not the "
     "difference of the bands: the curves of one refit move together. Take each refit's own "
     "rise (last grid value minus first), then the band of those B rises"),
    ("edges_same", "subtracts the edges of the pointwise bands. The band of a difference is not "
     "the difference of the bands: take each refit's own rise, then the band of those B rises"),
    ("train", "averages the PDPs over the training rows; the question asks about the held-out "
     "hours, X_test"),
    ("sd", "is a normal interval (mean plus or minus z standard deviations), not a percentile "
     "band of the B rises"),
    ("wide", "is a 95% band (2.5th and 97.5th percentiles); the question asks for 90%"),
    ("sign", "has the sign flipped: the rise is the PD at 95 % humidity minus the PD at 25 %"),
)


def _q11_rise(rise_band, tol: float) -> None:
    lo_hi = as_tuple(rise_band, "rise_band", 2)
    lo, hi = (as_float(v, f"rise_band[{i}]") for i, v in enumerate(lo_hi))
    r = _q11_refs()
    if close(lo, r["ok"][0], rtol=tol, atol=tol) and close(hi, r["ok"][1], rtol=tol, atol=tol):
        return
    said = f"`rise_band` = ({lo:.4g}, {hi:.4g})"
    if lo > hi:
        raise Incorrect(f"{said}: the lower edge comes first.")
    for key, why in _Q11_RISE_MISTAKES:
        if close(lo, r[key][0], rtol=tol, atol=tol) and close(hi, r[key][1], rtol=tol, atol=tol):
            raise Incorrect(f"{said} {why}.")
    ok_width = r["ok"][1] - r["ok"][0]
    if hi - lo < 0.5 * ok_width:
        raise Incorrect(
            f"{said} is far narrower than the spread of retrained trees. Resampling the held-out "
            "rows (or repeating anything with the one fitted tree) shows only the noise of the "
            "average; the question is whether a retrained tree would show the fall."
        )
    raise Incorrect(
        f"{said} is not the 90% percentile band of humidity's rise (PD at 95 % minus PD at "
        "25 %) over your `refit_pdps(tree, X_train, y_train, X_test, ...)` with B=40, seed=0."
    )


@key_for(m07.q11)
class RefitBand(Question):
    tolerance = {"rtol": 1e-4, "atol": 1e-4}

    def references(self):
        def refit(model, X_train, y_train, X_eval, feature, grid, B, seed):
            return _refit_ref(model, np.asarray(X_train, float), np.asarray(y_train, float),
                              np.asarray(X_eval, float), feature, np.asarray(grid, float), B, seed)

        return {
            "refit_pdps": refit,
            "percentile_band": lambda values, level: _band_ref(values, level),
            "rise_band": _q11_refs()["ok"],
        }

    def verify(self, refit_pdps, percentile_band, rise_band):
        rng = np.random.default_rng(111)
        X = _toy_data(rng, 120, 3)
        y = 2.0 * X[:, 0] * X[:, 2] - X[:, 1] + rng.normal(0.0, 0.5, 120)
        recipe = {"max_depth": 4, "min_samples_leaf": 4, "random_state": 0}
        model = wire.fitted([(DecisionTreeRegressor, recipe)], X[:80], y[:80])
        grid = np.array([0.2, 1.0, 2.0, 3.0])
        _q11_curves(refit_pdps, model, X[:80], y[:80], X[80:], 0, grid, 6, 1,
                    "On a toy tree (80 training rows, 40 evaluation rows, feature 0, B=6, seed=1)")
        values = np.array([[3.0, 0.0], [1.0, 5.0], [2.0, 1.0], [10.0, 2.0], [4.0, 2.5],
                           [0.0, 3.0], [6.0, 8.0], [5.0, 1.5], [7.0, 0.5], [9.0, 4.0]])
        _q11_band(percentile_band, values, 0.9, "On 10 designed values per column, level=0.9")
        _q11_rise(rise_band, 1e-4)

    def verify_hidden(self, seed, refit_pdps, percentile_band, rise_band):
        rng = np.random.default_rng(seed)
        for _case in range(2):
            for _ in range(10):  # bounded: redraw until every named mistake is separated
                n, p = int(rng.integers(60, 120)), int(rng.integers(3, 5))
                X = _toy_data(rng, n + 30, p)
                y = X @ rng.normal(0.0, 2.0, p) + X[:, 0] ** 2 + rng.normal(0.0, 1.0, n + 30)
                recipe = {"max_depth": int(rng.integers(2, 5)), "min_samples_leaf": 3,
                          "random_state": 0}
                feature, B, s = int(rng.integers(0, p)), int(rng.integers(5, 10)), int(
                    rng.integers(0, 1000))
                grid = np.quantile(X[:, feature], [0.1, 0.4, 0.7, 0.9])
                model = wire.fitted([(DecisionTreeRegressor, recipe)], X[:n], y[:n])
                if _q11_separated(model, X[:n], y[:n], X[n:], feature, grid, B, s):
                    break
            where = (f"On a fresh toy tree ({n} training rows, 30 evaluation rows, feature "
                     f"{feature}, B={B}, seed={s})")
            _q11_curves(refit_pdps, model, X[:n], y[:n], X[n:], feature, grid, B, s,
                        where)
        for level in (0.8, 0.95):
            for _ in range(10):
                B, g = int(rng.integers(8, 30)), int(rng.integers(2, 6))
                values = _q11_band_values(rng, B, g)
                if _band_separated(values, level):
                    break
            _q11_band(percentile_band, values, level,
                      f"On fresh values ({B} replicates, {g} columns), level={level:g}")
        unrounded(lambda tol: _q11_rise(rise_band, tol), 1e-4, 1e-6,
                  "`rise_band` is close to the right band but not equal to it. Compute it in "
                  "code with your functions and do not round it.")


# The decorator turns each class into its question instance: by label, and as q1 ... q10.
q1, q2, q3, q4, q5, q6, q7, q8, q9, q10, q11 = (
    PermImportance, HeldOutImportance, PartialDependence, SklearnPDP, CentredICE, Interactions,
    FlatButImportant, FirstOrderALE, HStatistic, StationFault, RefitBand)
QUESTIONS = {q.label: q for q in (q1, q2, q3, q4, q5, q6, q7, q8, q9, q10, q11)}
