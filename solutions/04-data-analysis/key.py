"""The answer key of assignment 04, "Data analysis and visualisation": instructor-only, never released.

==== ================================================ ==========================================
q1   ``group_summary(df, by, value)``                  rows, missing values and mean per group
q2   ``pivot_mean(df, rows, cols, value)``             a two-way table of means (reshaping)
q3   ``missing_pct``, ``X_test_imputed``               missingness, and imputation without leakage
q4   ``top_pairs(df, k)``                              the k most correlated pairs (|Spearman|)
q5   ``plot_radius_by_diagnosis(X, y)``                a labelled histogram a test can read
q6   ``pipe``, ``cv_scores``                           imputation and scaling inside a Pipeline
q7   ``indicator_gain``, ``use_indicator``             should the model see that a value was missing?
==== ================================================ ==========================================

``grader release`` and ``nbgrader generate_assignment`` skip this file (``nbgrader_config.py``
ignores ``key.py``). It holds what the student-side package (:mod:`grader.checks.m04`) must not:
the reference computations and answers, the diagnosis code of every check (``verify``,
``verify_hidden``, ``verify_graded``) and each question's ``references()``. The grader loads it
outside the student's kernel (:mod:`grader.judging`); see ``docs/authoring.md``. The graded
visible test of q1, q2, q4 and q5 runs the designed cases, then fresh inputs from the grading seed;
q3 and q7 (variables only) keep the visible tolerance; q6 checks its variables at the visible
tolerance, then a fresh copy of ``pipe`` on fresh data from the seed.

The data are not the lecture's: q1-q3, q6 and q7 use :func:`grader.datasets.make_air_quality`
(three documented kinds of missing values), q4 scikit-learn's wine table and fresh designed
tables. q5 keeps the breast-cancer radius and grades its unit (image units: WDBC's sizes were
measured on digitised images, never in mm). Every hidden case is drawn so that each catalogued
mistake is told apart on it (a gap in every fresh table, unequal class sizes, q4 cases where the
signed, Pearson and covariance rankings all differ from the right one);
``tests/test_checks_m04.py`` checks it on ten seeds.

A figure and a pipeline cannot leave the student's kernel as data: q5 and q6 judge them from
their *views* (:func:`grader.checks.m04.radius_histograms`, ``pipeline_steps``,
``cv_scores_on``), facts computed where the student's code runs (:func:`grader.checks.collect.viewed`).

Every reference is recomputed here from the seeded data of :mod:`grader.datasets` (the same
recipe as the notebook's setup cell, see ``_SPLIT``); the student's data variables are never read.
The toy tables are asymmetric on purpose: ``count`` differs from ``size`` in every group, the
pivot has 3 rows and 2 columns, and in q4 the Spearman, Pearson, signed and covariance rankings
all pick different pairs, so each classic mistake is told apart from the right answer and named.
"""

from __future__ import annotations

import functools
import operator
from types import SimpleNamespace

import numpy as np
import pandas as pd
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import cross_val_score, train_test_split
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from grader.checks import m04
from grader.checks.collect import viewed
from grader.checks.core import (
    Incorrect,
    Question,
    call,
    draw_separating,
    key_for,
    unrounded,
)
from grader.checks.values import allclose, as_array, as_bool, as_float, as_str, as_tuple, show
from grader.datasets import AIR_FEATURES, breast_cancer, make_air_quality

#: The key's questions, by label.
__all__ = ["QUESTIONS"]

#: The notebook's split of the table with missing values (setup cell: same arguments).
_SPLIT = {"test_size": 0.3, "stratify": True, "random_state": 0}
_NAN = np.nan


# --- shared helpers ----------------------------------------------------------------------------
def _frame(value: object, name: str) -> pd.DataFrame:
    if type(value) is not pd.DataFrame:
        raise Incorrect(
            f"`{name}` should be a pandas DataFrame, but it is a {type(value).__name__}: "
            f"{show(value)}."
        )
    return value


def _labels(index: object) -> list[str]:
    """The labels of a student's index or columns, as plain strings."""
    return [str(v) for v in list(index)]


def _column(df: pd.DataFrame, label: str, name: str) -> np.ndarray:
    """One column of the student's DataFrame as a fresh float array."""
    try:
        arr = np.array(df[label].to_numpy(dtype=float), dtype=float, copy=True)
    except (TypeError, ValueError):
        raise Incorrect(f"Column {label!r} of `{name}` should hold numbers.") from None
    return arr


def _aligned(got: pd.DataFrame, ref: pd.DataFrame, name: str, what: str) -> np.ndarray:
    """The student's table as a float array in the reference's row and column order."""
    rows, cols = _labels(got.index), _labels(got.columns)
    pos_r = {r: i for i, r in enumerate(rows)}
    pos_c = {c: i for i, c in enumerate(cols)}
    try:
        values = np.array(got.to_numpy(dtype=float), dtype=float, copy=True)
    except (TypeError, ValueError):
        raise Incorrect(f"`{name}` should hold numbers only ({what}).") from None
    order_r = [pos_r[r] for r in _labels(ref.index)]
    order_c = [pos_c[c] for c in _labels(ref.columns)]
    return values[np.ix_(order_r, order_c)]


def _same(a: np.ndarray, b: np.ndarray, rtol: float = 1e-6) -> bool:
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    if a.shape != b.shape:
        return False
    nan_a, nan_b = np.isnan(a), np.isnan(b)
    if not np.array_equal(nan_a, nan_b):
        return False
    return allclose(np.where(nan_a, 0.0, a), np.where(nan_b, 0.0, b), rtol=rtol, atol=1e-9)


def _in(where: str, func, name: str, *args, **kwargs):
    """:func:`call`, with ``where`` before its feedback."""
    try:
        return call(func, name, *args, **kwargs)
    except Incorrect as exc:
        raise type(exc)(f"{where}: {exc}") from None


# =================================================================================================
# q1: group_summary
# =================================================================================================
#: Every group has a different size, and groups a and b each have one missing score, so count()
#: differs from size(), the median of b differs from its mean, and filling with 0 changes a and b.
_Q1_TOY = pd.DataFrame(
    {
        "team": ["b", "a", "b", "c", "a", "b", "c", "b", "a"],
        "score": [4.0, _NAN, 2.0, 7.0, 3.0, _NAN, 5.0, 10.0, 9.0],
        "hours": [1.5, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.5],
    }
)
_Q1_COLUMNS = ("n_rows", "n_missing", "mean")


def _q1_ref(df: pd.DataFrame, by: str, value: str, how: str = "mean") -> pd.DataFrame:
    g = df.groupby(by)[value]
    centre = {
        "mean": g.mean(),
        "median": g.median(),
        "zero": df[value].fillna(0).groupby(df[by]).mean(),
    }[how]
    return pd.DataFrame({"n_rows": g.size(), "n_missing": g.size() - g.count(), "mean": centre})


def _q1_run(func, df: pd.DataFrame, by: str, value: str, where: str, rtol: float = 1e-6) -> None:
    got = _in(where, func, "group_summary", df.copy(), by, value)
    got = _frame(got, "group_summary(...)")
    ref = _q1_ref(df, by, value)
    said = f"{where}, `group_summary(df, {by!r}, {value!r})` returned"
    cols = _labels(got.columns)
    if by in cols:
        raise Incorrect(
            f"{said} a DataFrame with a column {by!r}: its index should be the groups (the distinct "
            f"values of `df[{by!r}]`), not a column. Did you call reset_index()?"
        )
    if sorted(cols) != sorted(_Q1_COLUMNS):
        raise Incorrect(
            f"{said} a DataFrame with columns {cols}; it needs exactly the columns "
            '"n_rows", "n_missing" and "mean".'
        )
    rows, want = _labels(got.index), _labels(ref.index)
    if sorted(rows) != sorted(want):
        raise Incorrect(
            f"{said} rows labelled {show(rows)}, which are not the groups of {by!r}: its index "
            f"should be the distinct values of `df[{by!r}]`, one row each. Did you call "
            "reset_index()?"
        )
    table = _aligned(got, ref, "group_summary(...)", "counts and means")
    n_rows, n_missing, mean = table[:, 0], table[:, 1], table[:, 2]  # in the order of `ref`
    g = df.groupby(by)[value]
    count = g.count().to_numpy(dtype=float)
    if not _same(n_rows, ref["n_rows"].to_numpy(dtype=float)):
        if _same(n_rows, count):
            raise Incorrect(
                f"{said} n_rows = {show(n_rows)}: that is count(), which skips missing values. "
                "n_rows counts every row of the group, missing or not: use size()."
            )
        raise Incorrect(
            f"{said} n_rows = {show(n_rows)}, which is not the number of rows per group."
        )
    if not _same(n_missing, ref["n_missing"].to_numpy(dtype=float)):
        if _same(n_missing, count):
            raise Incorrect(
                f"{said} n_missing = {show(n_missing)}: that counts the values that are present. "
                "Count the missing ones: size() - count(), or isna().sum()."
            )
        raise Incorrect(f"{said} n_missing = {show(n_missing)}, which is not the number of NaNs.")
    if _same(mean, ref["mean"].to_numpy(dtype=float), rtol=rtol):
        return
    if _same(mean, _q1_ref(df, by, value, "zero")["mean"].to_numpy(dtype=float)):
        raise Incorrect(
            f"{said} mean = {show(mean)}: the missing values were counted as 0. A missing value is "
            "unknown, not zero: take the mean of the values that are present (pandas' mean() "
            "skips NaN)."
        )
    if _same(mean, _q1_ref(df, by, value, "median")["mean"].to_numpy(dtype=float)):
        raise Incorrect(
            f"{said} mean = {show(mean)}: that is the median of each group, not the mean."
        )
    for other in df.columns:
        if other in (by, value) or df[other].dtype.kind not in "fiu":
            continue
        if _same(mean, df.groupby(by)[other].mean().to_numpy(dtype=float)):
            raise Incorrect(
                f"{said} mean = {show(mean)}: that is the mean of column {other!r}, a different "
                f"column. Aggregate the column named by `value` ({value!r})."
            )
    raise Incorrect(f"{said} mean = {show(mean)}, which is not the mean of {value!r} per group.")


@key_for(m04.q1)
class GroupSummary(Question):
    def references(self):
        return {"group_summary": lambda df, by, value: _q1_ref(df, by, value)}

    def verify(self, group_summary):
        _q1_run(group_summary, _Q1_TOY, "team", "score", "On the toy table of the prompt")
        _q1_run(group_summary, _air(), "station", "no2", "On `air`")

    def verify_hidden(self, seed, group_summary):
        rng = np.random.default_rng(seed)
        for k in range(4):
            n = int(rng.integers(25, 80))
            levels = [f"g{j}" for j in range(int(rng.integers(2, 6)))]
            key = rng.choice(levels, size=n)
            key[: len(levels)] = levels
            x = np.round(rng.normal(rng.uniform(-5, 50), rng.uniform(1, 10), n), 2)
            x[len(levels) :][rng.random(n - len(levels)) < rng.uniform(0.1, 0.4)] = np.nan
            x[len(levels)] = np.nan  # at least one gap: count() and size() always differ
            df = pd.DataFrame({"region": key, "level": x, "other": rng.normal(size=n)})
            _q1_run(group_summary, df, "region", "level", f"On a fresh table (case {k + 1})", 1e-9)


@functools.lru_cache(maxsize=1)
def _air_cached() -> pd.DataFrame:
    return make_air_quality()


def _air() -> pd.DataFrame:
    return _air_cached().copy()


# =================================================================================================
# q2: pivot_mean
# =================================================================================================
#: 3 shops x 2 days (not square, so a transposed table has a different shape), with one missing
#: sale, so sum, count, size and mean all differ.
_Q2_TOY = pd.DataFrame(
    {
        "shop": [
            "north",
            "south",
            "east",
            "north",
            "south",
            "east",
            "north",
            "south",
            "east",
            "east",
        ],
        "day": ["mon", "mon", "mon", "tue", "tue", "tue", "mon", "tue", "tue", "mon"],
        "sales": [3.0, 8.0, 1.0, 5.0, 2.0, 6.0, 7.0, _NAN, 4.0, 9.0],
        "staff": [2.0, 3.0, 1.0, 2.0, 2.0, 3.0, 4.0, 1.0, 2.0, 3.0],
    }
)


def _q2_ref(df: pd.DataFrame, rows: str, cols: str, value: str, agg: str = "mean") -> pd.DataFrame:
    return df.pivot_table(index=rows, columns=cols, values=value, aggfunc=agg, dropna=False)


def _q2_run(
    func, df: pd.DataFrame, rows: str, cols: str, value: str, where: str, rtol=1e-6
) -> None:
    got = _in(where, func, "pivot_mean", df.copy(), rows, cols, value)
    got = _frame(got, "pivot_mean(...)")
    ref = _q2_ref(df, rows, cols, value)
    said = f"{where}, `pivot_mean(df, {rows!r}, {cols!r}, {value!r})` returned"
    g_rows, g_cols = _labels(got.index), _labels(got.columns)
    r_rows, r_cols = _labels(ref.index), _labels(ref.columns)
    if sorted(g_rows) == sorted(r_cols) and sorted(g_cols) == sorted(r_rows):
        raise Incorrect(
            f"{said} a table whose rows are {show(g_rows)}: rows and columns are swapped. The "
            f"values of {rows!r} label the rows (index=...) and those of {cols!r} the columns."
        )
    if sorted(g_rows) != sorted(r_rows) or sorted(g_cols) != sorted(r_cols):
        raise Incorrect(
            f"{said} a table with rows {show(g_rows)} and columns {show(g_cols)}. The rows should be "
            f"the distinct values of {rows!r} and the columns those of {cols!r}, nothing else "
            "(no totals, no reset_index)."
        )
    table = _aligned(got, ref, "pivot_mean(...)", "the means")
    if _same(table, ref.to_numpy(dtype=float), rtol=rtol):
        return
    shown = show(table.ravel())
    for agg, why in (
        ("sum", "the sum of each cell, not its mean"),
        ("count", "the number of values in each cell (count), not their mean"),
        ("size", "the number of rows in each cell (size), not the mean"),
        ("median", "the median of each cell, not its mean"),
    ):
        if _same(table, _q2_ref(df, rows, cols, value, agg).to_numpy(dtype=float)):
            raise Incorrect(f'{said} {shown}: that is {why}. Use aggfunc="mean".')
    filled = df.assign(**{value: df[value].fillna(0)})
    if _same(table, _q2_ref(filled, rows, cols, value).to_numpy(dtype=float)):
        raise Incorrect(
            f"{said} {shown}: the missing values were counted as 0. Leave them out of the mean."
        )
    for other in df.columns:
        if other in (rows, cols, value) or df[other].dtype.kind not in "fiu":
            continue
        if _same(table, _q2_ref(df, rows, cols, other).to_numpy(dtype=float)):
            raise Incorrect(
                f"{said} {shown}: those are the means of column {other!r}, a different column. "
                f"Average the column named by `value` ({value!r})."
            )
    raise Incorrect(f"{said} {shown}, which are not the means of {value!r} in each cell.")


@key_for(m04.q2)
class PivotMean(Question):
    def references(self):
        return {"pivot_mean": lambda df, rows, cols, value: _q2_ref(df, rows, cols, value)}

    def verify(self, pivot_mean):
        _q2_run(pivot_mean, _Q2_TOY, "shop", "day", "sales", "On the toy table of the prompt")
        _q2_run(pivot_mean, _air(), "station", "season", "pm25", "On `air`")

    def verify_hidden(self, seed, pivot_mean):
        rng = np.random.default_rng(seed)
        for k in range(4):
            n_r, n_c = int(rng.integers(2, 6)), int(rng.integers(2, 5))
            if n_r == n_c:
                n_r += 1
            r_lv = [f"site_{j}" for j in range(n_r)]
            c_lv = [f"month_{j}" for j in range(n_c)]
            grid = [(r, c) for r in r_lv for c in c_lv]
            extra = int(rng.integers(20, 60))
            pick = rng.integers(0, len(grid), extra)
            keys = grid + [grid[i] for i in pick]
            n = len(keys)
            y = np.round(rng.gamma(2.0, rng.uniform(1, 20), n), 2)
            y[len(grid) :][rng.random(n - len(grid)) < 0.15] = np.nan
            y[len(grid)] = np.nan  # at least one gap: filling it with 0 always changes a mean
            df = pd.DataFrame(
                {
                    "site": [a for a, _ in keys],
                    "month": [b for _, b in keys],
                    "load": y,
                    "spare": rng.normal(size=n),
                }
            )
            _q2_run(
                pivot_mean, df, "site", "month", "load", f"On a fresh table (case {k + 1})", 1e-9
            )


# =================================================================================================
# q3: missing_pct and X_test_imputed
# =================================================================================================
@functools.lru_cache(maxsize=1)
def _missing() -> SimpleNamespace:
    air = make_air_quality()
    X, y = air[list(AIR_FEATURES)], air["alert"]
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=_SPLIT["test_size"], stratify=y, random_state=_SPLIT["random_state"]
    )
    return SimpleNamespace(X=X, y=y, X_train=X_train, X_test=X_test, y_train=y_train)


def _q3_pct(missing_pct, X: pd.DataFrame, X_train: pd.DataFrame) -> None:
    if type(missing_pct) is not pd.Series:
        raise Incorrect(
            f"`missing_pct` should be a pandas Series, but it is a {type(missing_pct).__name__}: "
            f"{show(missing_pct)}."
        )
    labels = _labels(missing_pct.index)
    if sorted(labels) != sorted(_labels(X.columns)):
        raise Incorrect(
            f"`missing_pct` has index {show(labels)}; it needs one entry per column of "
            "`X_air`, labelled by the column name."
        )
    got = as_array(missing_pct, "missing_pct")
    ref = (X.isna().mean() * 100).reindex(labels).to_numpy(dtype=float)
    said = f"`missing_pct` holds {show(got)}"
    if not allclose(got, ref):
        if allclose(got, ref / 100):
            raise Incorrect(
                f"{said}: those are fractions between 0 and 1. Multiply by 100 for a percent."
            )
        if allclose(got, X.isna().sum().reindex(labels).to_numpy(dtype=float)):
            raise Incorrect(
                f"{said}: those are counts of missing values. Divide by the number of rows, times 100."
            )
        if allclose(got, 100 - ref):
            raise Incorrect(
                f"{said}: that is the percent of values *present*. Count the missing ones (isna)."
            )
        train = (X_train.isna().mean() * 100).reindex(labels).to_numpy(dtype=float)
        if allclose(got, train):
            raise Incorrect(
                f"{said}: that is the training split only. Describe the whole table `X_air`."
            )
        raise Incorrect(f"{said}, which are not the percent of missing values per column.")
    if np.any(np.diff(got) > 0):
        raise Incorrect(
            "`missing_pct` has the right values but is not sorted from the most to the least "
            "missing column: use sort_values(ascending=False)."
        )


def _q3_imputed(X_test_imputed, data: SimpleNamespace, rtol: float) -> None:
    X_test, X_train, X = data.X_test, data.X_train, data.X
    got = _frame(X_test_imputed, "X_test_imputed")
    if got.shape != X_test.shape:
        raise Incorrect(
            f"`X_test_imputed` has shape {got.shape}; it should have the shape of `X_test_a` "
            f"{X_test.shape}."
        )
    if _labels(got.columns) != _labels(X_test.columns):
        raise Incorrect(
            "`X_test_imputed` should keep the columns of `X_test_a`, in the same order."
        )
    if _labels(got.index) != _labels(X_test.index):
        raise Incorrect(
            "`X_test_imputed` should keep the row index of `X_test_a` (pass `index=X_test_a.index` "
            'or use `imputer.set_output(transform="pandas")`).'
        )
    try:
        values = np.array(got.to_numpy(dtype=float), dtype=float, copy=True)
    except (TypeError, ValueError):
        raise Incorrect("`X_test_imputed` should hold numbers only.") from None
    if np.isnan(values).any():
        raise Incorrect(
            f"`X_test_imputed` still has {int(np.isnan(values).sum())} missing values: fill all of them."
        )
    raw = X_test.to_numpy(dtype=float)
    mask = np.isnan(raw)
    if not allclose(values[~mask], raw[~mask]):
        raise Incorrect(
            "`X_test_imputed` changed values that were not missing. Only fill the NaNs (no "
            "scaling or other transformation here)."
        )
    cols = np.nonzero(mask.any(axis=0))[0]

    def fills_match(stats: pd.Series, tol: float = 1e-6) -> bool:
        want = stats.to_numpy(dtype=float)
        return all(
            allclose(values[mask[:, j], j], np.full(mask[:, j].sum(), want[j]), rtol=tol)
            for j in cols
        )

    if fills_match(X_train.median(), rtol):
        return
    shown = show(np.array([values[mask[:, j], j][0] for j in cols]))
    said = f"`X_test_imputed` fills the missing values of {len(cols)} columns with {shown}"
    if fills_match(X.median()):
        raise Incorrect(
            f"{said}: the medians of the whole table. Your fill values were computed using test "
            "rows; that leaks information from the test set into the model. Fit the imputer on "
            "`X_train_a` only."
        )
    if fills_match(X_test.median()):
        raise Incorrect(
            f"{said}: the medians of the test split. Your fill values were computed using test "
            "rows; that leaks information. Fit the imputer on `X_train_a` only."
        )
    if fills_match(X_train.mean()) or fills_match(X.mean()):
        raise Incorrect(f'{said}: those are means. Use the training *median* (strategy="median").')
    if fills_match(pd.Series(0.0, index=X.columns)):
        raise Incorrect(
            f"{said}: zeros. A missing value is unknown, not 0: fill with the training median."
        )
    raise Incorrect(f"{said}, which are not the medians of the training split `X_train_a`.")


@key_for(m04.q3)
class Imputation(Question):
    ordered = ("missing_pct",)  # a ranking: the offline check compares its labels in order
    def references(self):
        data = _missing()
        imputer = SimpleImputer(strategy="median").set_output(transform="pandas")
        return {
            "missing_pct": (data.X.isna().mean() * 100).sort_values(ascending=False),
            "X_test_imputed": imputer.fit(data.X_train).transform(data.X_test),
        }

    def verify_graded(self, seed, missing_pct, X_test_imputed):
        # variables: no fresh inputs to draw
        self.verify(missing_pct=missing_pct, X_test_imputed=X_test_imputed)

    def verify(self, missing_pct, X_test_imputed):
        data = _missing()
        _q3_pct(missing_pct, data.X, data.X_train)
        _q3_imputed(X_test_imputed, data, rtol=1e-6)

    def verify_hidden(self, seed, missing_pct, X_test_imputed):
        data = _missing()
        _q3_pct(missing_pct, data.X, data.X_train)
        _q3_imputed(X_test_imputed, data, rtol=1e-9)
        # an independent recomputation of the fill values with NumPy's nanmedian
        raw = data.X_test.to_numpy(dtype=float)
        ref = np.where(np.isnan(raw), np.nanmedian(data.X_train.to_numpy(dtype=float), axis=0), raw)
        got = np.array(X_test_imputed.to_numpy(dtype=float), dtype=float, copy=True)
        if not allclose(got, ref, rtol=1e-9):
            raise Incorrect("`X_test_imputed` is close to the right table but not equal to it.")


# =================================================================================================
# q4: top_pairs
# =================================================================================================
def _pairs_table(seed: int, names: tuple[str, ...]) -> pd.DataFrame:
    """Four pairs: a monotone but curved pair (Spearman high, Pearson low), a strong negative pair,
    a pair with one huge-variance column (large covariance, modest correlation) and a mild pair."""
    rng = np.random.default_rng(seed)
    n = 60
    a, b, c, d = (rng.normal(size=n) for _ in range(4))
    cols = (
        a,
        np.exp(4 * a) + rng.normal(0, 0.01, n),
        b,
        -b + rng.normal(0, 0.35, n),
        c,
        500 * (c + rng.normal(0, 1.2, n)),
        d,
        0.75 * d + rng.normal(0, 0.6, n),
    )
    return pd.DataFrame(dict(zip(names, cols, strict=True)))


_Q4_NAMES = ("a", "a_exp", "b", "b_neg", "c", "c_big", "d", "e")


def _ranked(df: pd.DataFrame, how: str) -> list[tuple[float, frozenset]]:
    if how == "cov":
        m = df.cov().to_numpy()
    else:
        m = df.corr(method="pearson" if how == "pearson" else "spearman").to_numpy()
    names = list(df.columns)
    out = []
    for i in range(len(names)):
        for j in range(i + 1, len(names)):
            score = m[i, j] if how == "signed" else abs(m[i, j])
            out.append((float(score), frozenset((names[i], names[j]))))
    return sorted(out, key=lambda t: -t[0])


@functools.lru_cache(maxsize=1)
def _wine_cached() -> pd.DataFrame:
    from sklearn.datasets import load_wine

    return load_wine(as_frame=True).data


def _wine() -> pd.DataFrame:
    """scikit-learn's bundled wine table (13 columns on scales from 0.1 to 300): not in lecture 04."""
    return _wine_cached().copy()


def _top(df: pd.DataFrame, k: int, how: str) -> set[frozenset]:
    return {p for _, p in _ranked(df, how)[:k]}


def _q4_run(func, df: pd.DataFrame, k: int, where: str) -> None:
    got = _in(where, func, "top_pairs", df.copy(), k)
    if type(got) is not list:
        raise Incorrect(
            f"{where}, `top_pairs(df, {k})` returned a {type(got).__name__}; it should return a "
            f"list of {k} tuples (name_a, name_b)."
        )
    items = as_tuple(got, "top_pairs(...)", k)
    pairs = []
    for i, item in enumerate(items):
        pair = as_tuple(item, f"top_pairs(...)[{i}]", 2)
        pairs.append(tuple(as_str(v, f"top_pairs(...)[{i}][{j}]") for j, v in enumerate(pair)))
    said = f"{where}, `top_pairs(df, {k})` returned {pairs}"
    names = set(_labels(df.columns))
    if any(a not in names or b not in names for a, b in pairs):
        raise Incorrect(f"{said}: every pair should hold two column names of `df`.")
    if any(a == b for a, b in pairs):
        raise Incorrect(
            f"{said}: a self-pair. The diagonal of a correlation matrix is always 1; leave it out "
            "and pair each column only with the others."
        )
    got_set = {frozenset(p) for p in pairs}
    if len(got_set) < k:
        raise Incorrect(
            f"{said}: a duplicate pair. (a, b) and (b, a) are the same pair; keep only one "
            "triangle of the correlation matrix."
        )
    if got_set == _top(df, k, "spearman"):
        return
    if got_set == _top(df, k, "signed"):
        raise Incorrect(
            f"{said}: you ranked by the signed correlation, so a strong *negative* correlation is "
            "missed. Rank by the absolute value |rho|."
        )
    if got_set == _top(df, k, "pearson"):
        raise Incorrect(
            f'{said}: that is Pearson\'s correlation. Use method="spearman": it also catches '
            "monotone relations that are not straight lines."
        )
    if got_set == _top(df, k, "cov"):
        raise Incorrect(
            f"{said}: you ranked by covariance, which grows with each column's scale. Use the "
            "Spearman correlation, which is scale-free."
        )
    raise Incorrect(f"{said}; these are not the {k} pairs with the largest |Spearman correlation|.")


@key_for(m04.q4)
class TopPairs(Question):
    def references(self):
        def top_pairs(df, k):
            names = list(df.columns)
            ranked = _ranked(df, "spearman")[:k]
            return [tuple(sorted(p, key=names.index)) for _, p in ranked]

        return {"top_pairs": top_pairs}

    def verify(self, top_pairs):
        _q4_run(top_pairs, _pairs_table(4, _Q4_NAMES), 2, "On the toy table of the prompt")
        _q4_run(top_pairs, _wine(), 3, "On the wine table")

    def verify_hidden(self, seed, top_pairs):
        rng = np.random.default_rng(seed)

        def draw(g):
            names = tuple(f"f{int(v)}" for v in g.permutation(90)[:8])
            df = _pairs_table(int(g.integers(1_000_000)), names)
            return df[list(g.permutation(df.columns))], int(g.integers(2, 4))

        def outcomes(case):
            df, k = case
            ranked = _ranked(df, "spearman")
            if ranked[k - 1][0] - ranked[k][0] < 0.02:
                return None  # a near tie: the answer would be ambiguous
            # each catalogued wrong ranking must pick another set of pairs
            wrong = {how: _top(df, k, how) for how in ("signed", "pearson", "cov")}
            return {p for _, p in ranked[:k]}, wrong

        for _ in range(4):
            df, k = draw_separating(draw, outcomes, rng, separated=operator.ne, tries=40)
            _q4_run(top_pairs, df, k, f"On a fresh table (k={k})")


# =================================================================================================
# q5: plot_radius_by_diagnosis
# =================================================================================================
def _short(value: object) -> str:
    """A fact as short text: facts come from the student's kernel (hostile data), so bound them."""
    return str(value)[:80] if type(value) in (str, int, float, bool) else type(value).__name__[:40]


def _radius_plot(X: pd.DataFrame, y: pd.Series):
    """The reference q5 answer (the source notebook's solution): it returns the Axes."""
    import matplotlib.pyplot as plt

    _, ax = plt.subplots(figsize=(6, 4))
    for code, name in [(0, "malignant"), (1, "benign")]:
        ax.hist(X.loc[y == code, "mean radius"], bins=20, alpha=0.6, label=name)
    ax.set_xlabel("mean radius (image units)")
    ax.set_ylabel("number of tumours")
    ax.set_title("Malignant tumours have larger radii")
    ax.legend(title="diagnosis")
    return ax


def _q5_run(func, X: pd.DataFrame, y: pd.Series, where: str) -> None:
    """Judge the plot from its facts (:func:`grader.checks.m04.radius_histograms`, computed where
    the student's code runs)."""
    if not callable(func):
        raise Incorrect(
            f"`plot_radius_by_diagnosis` should be a function, but it is a {type(func).__name__}."
        )
    facts = _in(where, viewed(func, "m04.radius_histograms"), "plot_radius_by_diagnosis",
                X.copy(), y.copy())
    if type(facts) is not dict or type(facts.get("returned")) is not str:
        raise Incorrect(f"{where}: the plot could not be read.")
    kind = _short(facts["returned"])
    if kind == "figure" and facts.get("n_axes") != 1:
        raise Incorrect(
            f"{where}: the figure returned has {_short(facts.get('n_axes'))} axes; draw one plot."
        )
    if kind not in ("axes", "figure"):
        raise Incorrect(
            f"{where}, `plot_radius_by_diagnosis` returned a {kind}; it should return the "
            "matplotlib Axes it drew on (`return ax`)."
        )
    if type(facts.get("bar_groups")) is not int or facts["bar_groups"] < 2:
        found = (f"{_short(facts.get('bar_groups'))} bar groups, {_short(facts.get('lines'))} lines "
                 f"and {_short(facts.get('collections'))} collections")
        raise Incorrect(
            f"{where}: the Axes holds {found}. Wrong plot type: draw two histograms, one per "
            "diagnosis, with two calls to `ax.hist`."
        )
    if not facts.get("axis_labels"):
        drawn = facts.get("labels_drawn") if type(facts.get("labels_drawn")) is list else []
        xlabel, ylabel = (_short(t) for t in (drawn + ["", ""])[:2])
        raise Incorrect(
            f"{where}: the x-axis label is {str(xlabel)!r} and the y-axis label is {str(ylabel)!r}. "
            "Label both axes (what is plotted, with its unit)."
        )
    if not facts.get("xlabel_says_radius"):
        raise Incorrect(
            f"{where}: the x-axis label {_short(facts.get('xlabel'))!r} should say that it shows the "
            "mean radius."
        )
    unit = _short(facts.get("xlabel_unit"))
    if unit != "image":
        label = _short(facts.get("xlabel"))
        if unit == "physical":
            raise Incorrect(
                f"{where}: the x-axis label {label!r} gives the radius in a physical length. "
                "WDBC's sizes were measured on digitised microscope images that carry no scale to "
                "millimetres or microns: label the radius with the unit it was measured in."
            )
        raise Incorrect(
            f"{where}: the x-axis label {label!r} names no unit. Say what the radius is measured in."
        )
    if not facts.get("title"):
        raise Incorrect(f"{where}: the plot has no title. Give it one that states what it shows.")
    if not facts.get("legend"):
        raise Incorrect(
            f"{where}: the plot has no legend. Call `ax.legend()` after labelling each histogram."
        )
    if not facts.get("legend_names_classes"):
        texts = [_short(t) for t in list(facts.get("legend_texts") or [])[:10]]
        if facts.get("legend_shows_codes"):
            raise Incorrect(
                f"{where}: the legend shows {texts}. Map the target codes to names; "
                "remember 0 = malignant and 1 = benign in this dataset."
            )
        raise Incorrect(
            f'{where}: the legend shows {texts}; it should name "malignant" and "benign".'
        )
    if not facts.get("histograms_name_classes"):
        labels = [_short(t) for t in list(facts.get("histogram_labels") or [])[:10]]
        raise Incorrect(
            f"{where}: the legend names the classes, but the histograms are labelled "
            f'{labels}. Pass `label="malignant"` and `label="benign"` to `ax.hist`.'
        )
    classes = facts.get("classes") if type(facts.get("classes")) is dict else {}
    for name in ("malignant", "benign"):
        fact = classes.get(name) if type(classes.get(name)) is dict else {}
        if not fact.get("counts_this_class"):
            total = fact.get("total")
            shown = f"{total:g}" if type(total) is float else "a number of"
            if fact.get("counts_other_class"):
                raise Incorrect(
                    f"{where}: the histogram labelled {name!r} holds {shown} tumours, the size of "
                    f"the other class. The labels are swapped: 0 = malignant, 1 = benign."
                )
            if fact.get("area_1"):
                raise Incorrect(
                    f"{where}: the histograms show densities (each has area 1). Plot counts of "
                    "tumours: leave density at its default, False."
                )
            raise Incorrect(
                f"{where}: the histogram labelled {name!r} holds {shown} tumours, which is not the "
                f"number of {name} tumours in the data."
            )
        if not fact.get("centred"):
            centre = fact.get("centre")
            near = f" near {centre:.4g}" if type(centre) is float else ""
            raise Incorrect(
                f"{where}: the histogram labelled {name!r} is centred{near}, far from the "
                'mean radius of that class. Plot the column "mean radius".'
            )


@key_for(m04.q5)
class RadiusHistogram(Question):
    def references(self):
        return {"plot_radius_by_diagnosis": _radius_plot}


    def verify(self, plot_radius_by_diagnosis):
        X, y = breast_cancer()
        _q5_run(plot_radius_by_diagnosis, X, y, "On the breast-cancer table")

    def verify_hidden(self, seed, plot_radius_by_diagnosis):
        rng = np.random.default_rng(seed)
        for k in range(2):
            n = int(rng.integers(60, 200))
            y = pd.Series((rng.random(n) < rng.uniform(0.3, 0.7)).astype(int), name="target")
            if 2 * int(y.sum()) == n:  # equal classes would hide swapped labels in the counts
                y.iloc[0] = 1 - y.iloc[0]
            r = np.where(y == 0, rng.normal(18, 2.5, n), rng.normal(12, 1.8, n))
            X = pd.DataFrame(
                {"mean texture": rng.normal(19, 4, n), "mean radius": r, "mean area": np.pi * r**2}
            )
            _q5_run(plot_radius_by_diagnosis, X, y, f"On fresh data (case {k + 1}, n={n})")


# =================================================================================================
# q6: pipe and cv_scores
# =================================================================================================
def _reference_pipe() -> Pipeline:
    return make_pipeline(
        SimpleImputer(strategy="median"), StandardScaler(), LogisticRegression(max_iter=1000)
    )


def _cv(model, X, y, scoring: str = "neg_log_loss") -> np.ndarray:
    # one BLAS thread: these small fits are several times faster without thread contention
    with threadpool_limits(1):
        return cross_val_score(model, X, y, cv=5, scoring=scoring)


@functools.lru_cache(maxsize=1)
def _q6_ref() -> np.ndarray:
    data = _missing()
    return _cv(_reference_pipe(), data.X, data.y)


@functools.lru_cache(maxsize=1)
def _q6_mistakes() -> dict[str, np.ndarray]:
    data = _missing()
    X, y = data.X, data.y
    pre = StandardScaler().fit_transform(SimpleImputer(strategy="median").fit_transform(X))
    imputed = SimpleImputer(strategy="median").fit_transform(X)
    lr = LogisticRegression(max_iter=1000)
    ref = _cv(_reference_pipe(), X, y)
    return {
        "before": _cv(lr, pre, y),
        "imputed": _cv(make_pipeline(StandardScaler(), lr), imputed, y),
        "accuracy": _cv(_reference_pipe(), X, y, scoring="accuracy"),
        "sign": -ref,
        "train": _cv(_reference_pipe(), data.X_train, data.y_train),
    }


def _q6_pipe(pipe) -> None:
    """Judge the steps of ``pipe`` from its facts (:func:`grader.checks.m04.pipeline_steps`)."""
    facts = viewed(pipe, "m04.pipeline_steps")()
    if type(facts) is not dict:
        raise Incorrect("`pipe` could not be read.")
    if not facts.get("pipeline"):
        raise Incorrect(
            f"`pipe` should be a scikit-learn Pipeline (from make_pipeline), but it is a "
            f"{_short(facts.get('type'))}."
        )
    raw = facts.get("steps") if type(facts.get("steps")) is list else []
    steps = [tuple(st) for st in raw if type(st) is list and len(st) == 2]
    kinds = [_short(k) for k, _ in steps[:20]]
    if not kinds or kinds[-1] != "LogisticRegression":
        last = kinds[-1].removeprefix("other: ") if kinds else "nothing"
        raise Incorrect(
            f"The last step of `pipe` is a {last}; it should be the LogisticRegression."
        )
    imputers = [i for i, k in enumerate(kinds) if k == "SimpleImputer"]
    scalers = [i for i, k in enumerate(kinds) if k == "StandardScaler"]
    if not imputers:
        raise Incorrect(
            "`pipe` has no SimpleImputer. Imputing outside the pipeline, on the whole table, lets "
            "each validation fold's rows shape the fill values (leakage): put the imputer inside."
        )
    if not scalers:
        raise Incorrect(
            "`pipe` has no StandardScaler. Scaling outside the pipeline, before the split, leaks "
            "the validation folds into the training: put the scaler inside."
        )
    if imputers[0] > scalers[0]:
        raise Incorrect("In `pipe` the scaler comes before the imputer: impute first, then scale.")
    strategy = _short(steps[imputers[0]][1])
    if strategy != "median":
        raise Incorrect(
            f"The imputer in `pipe` uses strategy={strategy!r}; the question asks for the median."
        )


def _q6_fresh(rng) -> tuple[np.ndarray, np.ndarray]:
    """Fresh data with missing values for the hidden test: depends only on the seed."""
    n, p = int(rng.integers(150, 300)), int(rng.integers(4, 9))
    X = rng.normal(rng.uniform(-20, 200, p), rng.uniform(0.5, 50, p), size=(n, p))
    y = (
        X[:, 0] / X[:, 0].std() + rng.normal(0, 1.5, n) > X[:, 0].mean() / X[:, 0].std()
    ).astype(int)
    X[rng.random((n, p)) < 0.08] = np.nan
    return X, y


def _q6_fresh_check(pipe, seed: int) -> None:
    X, y = _q6_fresh(np.random.default_rng(seed))
    ref = _cv(_reference_pipe(), X, y)
    try:
        got = viewed(pipe, "m04.cv_scores_on")(X, y)
    except Incorrect:
        raise
    except Exception as exc:  # the student's pipeline fails on new data
        raise Incorrect(
            f"A fresh copy of `pipe` failed on new data: {type(exc).__name__}: {str(exc)[:150]}"
        ) from None
    try:
        ok = allclose(as_array(got, "scores", shape=(5,)), ref, rtol=1e-6)
    except Incorrect:
        ok = False
    if not ok:
        raise Incorrect(
            "On fresh data with missing values, a fresh copy of `pipe` does not score like "
            "median imputation, then standard scaling, then LogisticRegression(max_iter=1000) "
            "with its default settings."
        )


def _q6_scores(cv_scores, rtol: float) -> None:
    got = as_array(cv_scores, "cv_scores")
    if got.shape != (5,):
        raise Incorrect(
            f"`cv_scores` should hold 5 scores (cv=5), but it has shape {got.shape}: {show(got)}."
        )
    if allclose(got, _q6_ref(), rtol=rtol):
        return
    said = f"`cv_scores` = {show(got)}"
    wrong = _q6_mistakes()
    if allclose(got, wrong["before"]) or allclose(got, wrong["imputed"]):
        raise Incorrect(
            f"{said}: these are the scores of data imputed or scaled *before* the split, on the whole "
            "table. That leaks the validation folds into the preprocessing: pass the raw "
            "`X_air` to cross_val_score and let `pipe` do the preprocessing in each fold."
        )
    if allclose(got, wrong["accuracy"]):
        raise Incorrect(f'{said}: those are accuracies (the default). Pass scoring="neg_log_loss".')
    if allclose(got, wrong["sign"]):
        raise Incorrect(
            f"{said}: the sign is flipped. Keep scikit-learn's neg_log_loss as it is (higher is better)."
        )
    if allclose(got, wrong["train"]):
        raise Incorrect(
            f"{said}: that cross-validates the training split only. Use the whole `X_air`, `y_air`."
        )
    raise Incorrect(
        f"{said}, which are not the 5-fold cross-validated scores of the pipeline on `X_air`."
    )


@key_for(m04.q6)
class PipelineCV(Question):
    viewed = ("pipe",)  # judged by its steps and its scores on fresh data, through m04's views
    def references(self):
        return {"pipe": _reference_pipe(), "cv_scores": _q6_ref().copy()}

    def verify_graded(self, seed, pipe, cv_scores):
        # the visible tolerance for the variable, then a fresh copy of `pipe` on fresh data
        self.verify(pipe=pipe, cv_scores=cv_scores)
        _q6_fresh_check(pipe, seed)

    def verify(self, pipe, cv_scores):
        _q6_pipe(pipe)
        _q6_scores(cv_scores, rtol=1e-6)

    def verify_hidden(self, seed, pipe, cv_scores):
        _q6_pipe(pipe)
        _q6_scores(cv_scores, rtol=1e-9)
        _q6_fresh_check(pipe, seed)


# =================================================================================================
# q7: indicator_gain and use_indicator (a judgement: should the model see that a value was missing?)
# =================================================================================================
def _indicator_pipe() -> Pipeline:
    return make_pipeline(
        SimpleImputer(strategy="median", add_indicator=True),
        StandardScaler(),
        LogisticRegression(max_iter=1000),
    )


@functools.lru_cache(maxsize=1)
def _q7_right() -> float:
    """The gain: mean 5-fold neg_log_loss with the indicator minus the mean without (q6's pipe)."""
    data = _missing()
    return float(np.mean(_cv(_indicator_pipe(), data.X, data.y)) - np.mean(_q6_ref()))


@functools.lru_cache(maxsize=1)
def _q7_gains() -> dict[str, float]:
    """The gains that the catalogued mistakes compute (only computed for a wrong answer)."""
    data = _missing()
    X, y = data.X, data.y
    lr = LogisticRegression(max_iter=1000)

    def gain(a, b) -> float:
        return float(np.mean(a) - np.mean(b))

    plain, ind = _q6_ref(), _cv(_indicator_pipe(), X, y)
    leaky_ind = _cv(make_pipeline(StandardScaler(), lr),
                    SimpleImputer(strategy="median", add_indicator=True).fit_transform(X), y)
    leaky_plain = _cv(make_pipeline(StandardScaler(), lr),
                      SimpleImputer(strategy="median").fit_transform(X), y)
    return {
        "reversed": gain(plain, ind),
        "accuracy": gain(_cv(_indicator_pipe(), X, y, "accuracy"),
                         _cv(_reference_pipe(), X, y, "accuracy")),
        "leaky": gain(leaky_ind, plain),
        "leaky_both": gain(leaky_ind, leaky_plain),
        "train": gain(_cv(_indicator_pipe(), data.X_train, data.y_train),
                      _cv(_reference_pipe(), data.X_train, data.y_train)),
    }


def _q7_check(indicator_gain, use_indicator, atol: float) -> None:
    got = as_float(indicator_gain, "indicator_gain")
    right = _q7_right()
    said = f"`indicator_gain` = {got:.6g}"
    if not allclose(got, right, rtol=0.0, atol=atol):
        gains = _q7_gains()
        near = functools.partial(allclose, got, rtol=0.0, atol=1e-6)
        if near(gains["reversed"]):
            raise Incorrect(
                f"{said}: that is the difference the other way round (without the indicator minus "
                "with it). The gain is the score *with* the indicator minus the score without."
            )
        if near(gains["accuracy"]):
            raise Incorrect(
                f"{said}: that compares accuracies (cross_val_score's default). Accuracy only sees "
                'which side of 0.5 a probability falls; compare scoring="neg_log_loss".'
            )
        if near(gains["leaky"]) or near(gains["leaky_both"]):
            raise Incorrect(
                f"{said}: the imputer (with its indicator) was fitted on the whole table *before* "
                "the split, so every validation fold helped set the fill values. Put it inside "
                "the pipeline and hand cross_val_score the raw `X_air`."
            )
        if near(gains["train"]):
            raise Incorrect(
                f"{said}: that compares the pipelines on the training split only. Use the whole "
                "`X_air`, `y_air`, as in q6."
            )
        raise Incorrect(
            f"{said}, which is not the mean 5-fold neg_log_loss of the pipeline with "
            "add_indicator=True minus that of the same pipeline without it, both on `X_air`."
        )
    choice = as_bool(use_indicator, "use_indicator")
    if choice != (right > 0):
        raise Incorrect(
            f"`use_indicator` = {choice} does not follow from your (right) gain. neg_log_loss is "
            "the *negative* of a loss: closer to 0 is better, so read the sign of the gain "
            "with that in mind."
        )


@key_for(m04.q7)
class MissingIndicator(Question):
    tolerance = {"rtol": 0.0, "atol": 1e-6}  # a difference of two scores near 0.4: absolute

    def references(self):
        gain = _q7_right()
        return {"indicator_gain": gain, "use_indicator": bool(gain > 0)}

    def verify_graded(self, seed, indicator_gain, use_indicator):
        # variables: no fresh inputs to draw
        self.verify(indicator_gain=indicator_gain, use_indicator=use_indicator)

    def verify(self, indicator_gain, use_indicator):
        _q7_check(indicator_gain, use_indicator, atol=1e-6)

    def verify_hidden(self, seed, indicator_gain, use_indicator):
        unrounded(
            lambda tol: _q7_check(indicator_gain, use_indicator, tol), 1e-6, 1e-8,
            "`indicator_gain` is close to the right value but not equal to it. Compute it in code "
            "from the two arrays of scores, and do not round.",
        )


# The decorator turns each class into its question instance: by label, and as q1 ... q7.
q1, q2, q3, q4, q5, q6 = GroupSummary, PivotMean, Imputation, TopPairs, RadiusHistogram, PipelineCV
q7 = MissingIndicator
QUESTIONS = {q.label: q for q in (q1, q2, q3, q4, q5, q6, q7)}
