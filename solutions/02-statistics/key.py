"""The answer key of assignment 02, "Statistics and probability": instructor-only, never released.

``grader release`` and ``nbgrader generate_assignment`` skip this file (``nbgrader_config.py``
ignores ``key.py``). It holds what the student-side package (:mod:`grader.checks.m02`) must not:
the reference computations, the diagnosis code of every check (``verify``, ``verify_hidden``,
``verify_graded``) and for each question its reference answers (``references()``). The grader
loads it outside the student's kernel (:mod:`grader.judging`); see ``docs/authoring.md``.

Every reference is recomputed here from seeded data (:func:`grader.datasets.make_tutoring`,
:func:`grader.datasets.make_loan_default`); nothing reads the student's data variables. Neither is
the lecture's data (the lecture uses ``make_recovery`` and the diabetes table). Toy cases are
asymmetric on purpose (skewed samples, a negative correlation, unequal strata, a model whose mean
prediction differs from the mean outcome) so that each classic mistake gives a different value
from the right one, and each mistake is named in the feedback. The statistics q5 passes to the
student's ``bootstrap_ci`` are NumPy functions that :mod:`grader.checks.wire` can send.
"""

from __future__ import annotations

import functools
from types import SimpleNamespace

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from grader.checks import m02
from grader.checks.core import Incorrect, Question, call, key_for, unrounded
from grader.checks.m02 import HISTORY_LONG, HISTORY_SET, LOAN_FEATURES
from grader.checks.values import as_float, as_tuple, close, show
from grader.datasets import make_loan_default, make_tutoring

#: The key's questions, by label.
__all__ = ["QUESTIONS"]


# --- small helpers -----------------------------------------------------------------------------
def _lst(a) -> str:
    """A short literal for a small input array, e.g. ``[2, 4, 9]``."""
    vals = [f"{v:g}" for v in np.asarray(a, dtype=float).ravel()[:12]]
    more = ", ..." if np.asarray(a).size > 12 else ""
    return "[" + ", ".join(vals) + more + "]"


def _number(value, name: str) -> float:
    """``as_float``, plus a clearer message for the arrays a numeric answer is often left as."""
    if type(value) in (np.ndarray, pd.Series, pd.DataFrame, list, tuple):
        raise Incorrect(
            f"`{name}` should be a single number (a float), but it is a {type(value).__name__}: "
            f"{show(value)}. Reduce it to one number (for example with `float(...)`)."
        )
    return as_float(value, name)


# =================================================================================================
# q1: sample variance and standard error
# =================================================================================================
_Q1_CASES = ([2.0, 4.0, 9.0], [1.5, 2.0, 2.5, 7.0, 12.0, 3.0, 0.5])


def _q1_check(sample_var, std_err, x: np.ndarray, where: str, rtol: float = 1e-9) -> None:
    n = x.size
    ss = float(np.sum((x - x.mean()) ** 2))
    var1, var0 = ss / (n - 1), ss / n
    got = _number(call(sample_var, "sample_var", x.copy()), "sample_var(x)")
    said = f"{where}, `sample_var` returned {got:.6g}"
    if not close(got, var1, rtol=rtol):
        if close(got, var0, rtol=rtol):
            raise Incorrect(
                f"{said}: that divides by n (ddof=0), the population formula. The sample variance "
                "divides the sum of squared deviations by n - 1 (ddof=1), because the deviations "
                "are taken from the sample's own mean. `np.var` uses ddof=0 unless you pass ddof=1."
            )
        if close(got, np.sqrt(var1), rtol=rtol) or close(got, np.sqrt(var0), rtol=rtol):
            raise Incorrect(f"{said}: that is a standard deviation. The variance is its square.")
        raise Incorrect(f"{said}, which is not the sample variance (ddof=1) of x.")

    se = var1**0.5 / n**0.5
    got = _number(call(std_err, "std_err", x.copy()), "std_err(x)")
    said = f"{where}, `std_err` returned {got:.6g}"
    if close(got, se, rtol=rtol):
        return
    sd1, sd0 = var1**0.5, var0**0.5
    if close(got, sd1, rtol=rtol) or close(got, sd0, rtol=rtol):
        raise Incorrect(
            f"{said}: that is the standard deviation, not the standard error. The standard "
            "deviation describes the spread of single observations; the standard error of the "
            "mean is the spread of the *mean*, sd / sqrt(n), and shrinks as n grows."
        )
    if close(got, sd0 / n**0.5, rtol=rtol):
        raise Incorrect(
            f"{said}: it uses the ddof=0 standard deviation. Use the sample standard deviation "
            "(ddof=1) in sd / sqrt(n)."
        )
    if close(got, sd1 / n, rtol=rtol) or close(got, sd0 / n, rtol=rtol):
        raise Incorrect(
            f"{said}: that divides by n instead of sqrt(n). The variance of the mean is "
            "var / n, so its standard deviation is sd / sqrt(n)."
        )
    if close(got, sd1 * n**0.5, rtol=rtol) or close(got, sd0 * n**0.5, rtol=rtol):
        raise Incorrect(
            f"{said}: that multiplies by sqrt(n), which is the standard error of the *sum* of the "
            "observations. The standard error of the mean divides: sd / sqrt(n)."
        )
    if close(got, var1 / n, rtol=rtol) or close(got, var0 / n, rtol=rtol):
        raise Incorrect(
            f"{said}: that is the variance of the mean, var / n, without the square root."
        )
    raise Incorrect(f"{said}, which is not the standard error of the mean.")


@key_for(m02.q1)
class VarianceAndSE(Question):
    def references(self):
        def sample_var(x):
            return float(np.var(np.asarray(x, dtype=float), ddof=1))

        def std_err(x):
            x = np.asarray(x, dtype=float)
            return float(np.std(x, ddof=1) / np.sqrt(x.size))

        return {"sample_var": sample_var, "std_err": std_err}

    def verify(self, sample_var, std_err):
        for case in _Q1_CASES:
            x = np.array(case)
            _q1_check(sample_var, std_err, x, f"For x={_lst(x)}", rtol=1e-6)

    def verify_hidden(self, seed, sample_var, std_err):
        self.verify(sample_var, std_err)  # the designed cases separate every named mistake
        rng = np.random.default_rng(seed)
        for k in range(6):
            n = int(rng.integers(2, 40)) if k else 2
            x = rng.gamma(2.0, rng.uniform(0.5, 20.0), n) + rng.uniform(-30, 30)
            _q1_check(sample_var, std_err, x, f"On a fresh sample of n={n}")
            # var(a + b x) = b^2 var(x): the answer must follow the scale of the data.
            a, b = float(rng.uniform(-100, 100)), float(rng.uniform(2, 9))
            _q1_check(sample_var, std_err, a + b * x, f"On a shifted and rescaled sample (n={n})")


# =================================================================================================
# q2: Pearson correlation
# =================================================================================================
_Q2_CASES = (
    ([1.0, 2.0, 3.0, 4.0, 6.0], [9.0, 7.5, 7.0, 3.0, 1.0]),
    ([0.2, 1.4, 2.2, 3.1, 5.0, 5.3, 7.7], [1.1, 0.9, 2.8, 2.0, 4.9, 3.3, 6.0]),
)


def _rank(a: np.ndarray) -> np.ndarray:
    return np.argsort(np.argsort(a)).astype(float)


def _pearson(x: np.ndarray, y: np.ndarray) -> float:
    dx, dy = x - x.mean(), y - y.mean()
    return float(np.sum(dx * dy) / np.sqrt(np.sum(dx**2) * np.sum(dy**2)))


def _q2_check(pearson_r, x: np.ndarray, y: np.ndarray, where: str, rtol: float = 1e-9) -> None:
    n = x.size
    got = call(pearson_r, "pearson_r", x.copy(), y.copy())
    said = f"{where}, `pearson_r` returned {show(got)}"
    if type(got) is np.ndarray and got.shape == (2, 2):
        raise Incorrect(
            f"{said}: that is the whole 2x2 correlation matrix. Return the single correlation "
            "between x and y, the off-diagonal entry [0, 1], as a float."
        )
    if type(got) is np.ndarray and got.ndim == 2 and got.shape[0] == n:
        raise Incorrect(
            f"{said}: a matrix with one row per observation, so the correlation was computed on "
            "the wrong axis. `np.corrcoef` treats each *row* as a variable: pass x and y as two "
            "rows (`np.corrcoef(x, y)`), not as the columns of an (n, 2) array."
        )
    r = _number(got, "pearson_r(x, y)")
    ref = _pearson(x, y)
    if close(r, ref, rtol=rtol, atol=1e-12):
        return
    said = f"{where}, `pearson_r` returned {r:.6g}"
    dx, dy = x - x.mean(), y - y.mean()
    cov1, cov0 = float(np.sum(dx * dy) / (n - 1)), float(np.sum(dx * dy) / n)
    if close(r, cov1, rtol=rtol) or close(r, cov0, rtol=rtol):
        raise Incorrect(
            f"{said}: that is the covariance, not the correlation. Your value changes when x is "
            "measured in different units (multiply x by 100 and try it), so it is not scale-free. "
            "Divide the covariance by both standard deviations."
        )
    if close(r, ref * n / (n - 1), rtol=rtol) or close(r, ref * (n - 1) / n, rtol=rtol):
        raise Incorrect(
            f"{said}: the covariance and the standard deviations use different ddof (for example "
            "`np.cov`, which uses ddof=1, divided by `np.std`, which uses ddof=0). Use the same "
            "ddof in all three."
        )
    if not -1.0 - 1e-9 <= r <= 1.0 + 1e-9:
        raise Incorrect(
            f"{said}, but a correlation lies between -1 and 1. Check that you divide the covariance "
            "by the product of the two standard deviations, all with the same ddof."
        )
    if close(r, ref**2, rtol=rtol):
        raise Incorrect(f"{said}: that is r squared. Return r itself, with its sign.")
    if close(r, abs(ref), rtol=rtol):
        raise Incorrect(
            f"{said}: the sign is lost. A negative correlation (y falls as x rises) must stay "
            "negative."
        )
    if close(r, _pearson(_rank(x), _rank(y)), rtol=rtol):
        raise Incorrect(
            f"{said}: that is Spearman's rank correlation. Pearson's r uses the values "
            "themselves, not their ranks."
        )
    raise Incorrect(f"{said}, which is not Pearson's correlation of x and y.")


@key_for(m02.q2)
class PearsonR(Question):
    def references(self):
        return {"pearson_r": lambda x, y: _pearson(np.asarray(x, dtype=float),
                                                   np.asarray(y, dtype=float))}

    def verify(self, pearson_r):
        for xs, ys in _Q2_CASES:
            x, y = np.array(xs), np.array(ys)
            _q2_check(pearson_r, x, y, f"For x={_lst(x)}, y={_lst(y)}", rtol=1e-6)

    def verify_hidden(self, seed, pearson_r):
        self.verify(pearson_r)  # the designed cases separate every named mistake
        rng = np.random.default_rng(seed)
        for k in range(6):
            n = int(rng.integers(5, 60))
            x = rng.normal(rng.uniform(-20, 50), rng.uniform(0.5, 30), n)
            slope = rng.uniform(-3, 3)
            y = slope * x + rng.normal(0, rng.uniform(0.5, 40), n)
            if k == 0:
                y = -2.5 * x + 4.0  # a perfect negative line: r = -1
            where = f"On a fresh sample of n={n}"
            _q2_check(pearson_r, x, y, where)
            # r is symmetric and does not change when x changes units (metres to centimetres).
            _q2_check(pearson_r, y, x, f"{where}, with x and y swapped")
            _q2_check(pearson_r, 100.0 * x + 7.0, y, f"{where}, with x rescaled to 100 x + 7")


# =================================================================================================
# q3: Simpson's paradox
# =================================================================================================
def _effects(df: pd.DataFrame, treatment: str, outcome: str, stratum: str):
    """Reference: pooled difference, per-stratum differences, stratum-size-weighted average."""
    t = df[treatment].to_numpy() == 1
    yv = df[outcome].to_numpy(dtype=float)
    s = df[stratum].astype(str).to_numpy()
    overall = float(yv[t].mean() - yv[~t].mean())
    labels = sorted(set(s.tolist()))
    within = {lab: float(yv[(s == lab) & t].mean() - yv[(s == lab) & ~t].mean()) for lab in labels}
    weights = {lab: float(np.mean(s == lab)) for lab in labels}
    treated_w = {lab: float(np.mean(s[t] == lab)) for lab in labels}
    control_w = {lab: float(np.mean(s[~t] == lab)) for lab in labels}
    return SimpleNamespace(
        overall=overall,
        within=within,
        adjusted=sum(weights[lab] * within[lab] for lab in labels),
        unweighted=float(np.mean(list(within.values()))),
        treated_weighted=sum(treated_w[lab] * within[lab] for lab in labels),
        control_weighted=sum(control_w[lab] * within[lab] for lab in labels),
    )


def _series_dict(value, name: str) -> dict[str, float]:
    if type(value) is pd.DataFrame:
        raise Incorrect(
            f"`{name}` should be a pandas Series (one difference per stratum), but it is a "
            f"DataFrame of shape {value.shape}. Subtract the untreated column from the treated one."
        )
    if type(value) is not pd.Series:
        raise Incorrect(
            f"`{name}` should be a pandas Series indexed by stratum, but it is a "
            f"{type(value).__name__}: {show(value)}."
        )
    out: dict[str, float] = {}
    for key, v in zip(list(value.index), list(value.to_numpy()), strict=True):
        out[str(key)] = as_float(v, f"{name}[{key!r}]")
    return out


def _q3_check(func, df: pd.DataFrame, cols: tuple[str, str, str], where: str, tol: float) -> float:
    ref = _effects(df, *cols)
    got = call(func, "stratified_effects", df.copy(), *cols)
    overall, within, adjusted = as_tuple(got, "stratified_effects", 3)
    overall = _number(overall, "overall (item 0 of the tuple)")
    within = _series_dict(within, "within (item 1 of the tuple)")
    adjusted = _number(adjusted, "adjusted (item 2 of the tuple)")

    def near(a: float, b: float) -> bool:
        return close(a, b, rtol=0, atol=tol)

    said = f"{where}, the pooled effect is {overall:.4g}"
    if not near(overall, ref.overall):
        if near(overall, -ref.overall):
            raise Incorrect(
                f"{said}: the sign is flipped, the groups are swapped. Compute mean outcome of the "
                "treated (treatment == 1) minus mean outcome of the untreated (treatment == 0)."
            )
        raise Incorrect(
            f"{said}, which is not the difference in mean outcome between the treated and the "
            "untreated in the whole table."
        )
    labels = sorted(ref.within)
    if sorted(within) != labels:
        raise Incorrect(
            f"{where}, the within-stratum Series has the index {sorted(within)}; it should be "
            f"indexed by the values of the stratum column, {labels}."
        )
    shown = "{" + ", ".join(f"{k!r}: {within[k]:.4g}" for k in labels) + "}"
    said = f"{where}, the within-stratum effects are {shown}"
    if not all(near(within[k], ref.within[k]) for k in labels):
        if all(near(within[k], -ref.within[k]) for k in labels):
            raise Incorrect(
                f"{said}: the signs are flipped, the groups are swapped. Within each stratum take "
                "treated minus untreated."
            )
        if all(near(within[k], ref.overall) for k in labels):
            raise Incorrect(
                f"{said}: every stratum got the pooled (marginal) effect. A conditional effect "
                "compares treated and untreated patients *within* one stratum only."
            )
        raise Incorrect(
            f"{said}, which are not the treated-minus-untreated differences per stratum."
        )
    said = f"{where}, the adjusted effect is {adjusted:.4g}"
    if not near(adjusted, ref.adjusted):
        if near(adjusted, ref.overall):
            raise Incorrect(
                f"{said}, the pooled (marginal) difference again. The adjusted effect averages the "
                "within-stratum effects, so the confounder is held fixed."
            )
        if near(adjusted, ref.unweighted):
            raise Incorrect(
                f"{said}: a plain (unweighted) mean of the stratum effects. Weight each stratum by "
                "its share of all rows, so a small stratum counts less than a large one."
            )
        if near(adjusted, ref.treated_weighted):
            raise Incorrect(
                f"{said}: the strata are weighted by their share of the *treated* rows. Weight them "
                "by their share of all rows."
            )
        raise Incorrect(
            f"{said}, which is not the stratum effects weighted by each stratum's share of the rows."
        )
    return ref.adjusted


_TUTORING = ("tutored", "passed", "prior_grade")


def _visible_table() -> pd.DataFrame:
    """The visible check's input: another draw of the programme, with other column names."""
    df = make_tutoring(n=800, seed=11)
    return df.rename(columns={"tutored": "coached", "passed": "success", "prior_grade": "band"})


def _effect_on_tutored(effect_on_tutored, tol: float) -> None:
    """``effect_on_tutored`` is the within-band effects weighted by the bands' shares among the
    tutored students (the average effect on the treated); each other weighting is named."""
    ref = _effects(make_tutoring(), *_TUTORING)
    got = _number(effect_on_tutored, "effect_on_tutored")

    def near(a: float, b: float) -> bool:
        return close(a, b, rtol=0, atol=tol)

    if near(got, ref.treated_weighted):
        return
    said = f"`effect_on_tutored` = {got:.4g}"
    if near(got, ref.overall):
        raise Incorrect(
            f"{said} is the pooled difference: it compares the tutored with students who were "
            "mostly stronger to begin with. The question is about the effect *on the tutored*: "
            "compare like with like within each grade band first."
        )
    if near(got, ref.adjusted):
        raise Incorrect(
            f"{said} weights each band by its share of *all* students: the effect if everyone "
            "were tutored. The board asks about the students who *were* tutored, and they are "
            "not a cross-section of the school: weight by the bands' shares among them."
        )
    if near(got, ref.control_weighted):
        raise Incorrect(
            f"{said} weights each band by its share among the students who were *not* tutored. "
            "The board asks about the tutored ones."
        )
    if near(got, ref.unweighted):
        raise Incorrect(
            f"{said} is a plain (unweighted) mean of the band effects, as if every band held "
            "as many tutored students as the others."
        )
    if near(got, 100 * ref.treated_weighted) or near(got, 100 * ref.adjusted):
        raise Incorrect(f"{said} looks like percentage points; give a proportion difference.")
    if near(got, -ref.treated_weighted):
        raise Incorrect(f"{said} has the wrong sign: take tutored minus not tutored.")
    raise Incorrect(
        f"{said} is not the within-band effects averaged over the band mix of the tutored "
        "students."
    )


@key_for(m02.q3)
class Simpson(Question):
    def references(self):
        def stratified_effects(df, treatment, outcome, stratum):
            ref = _effects(df, treatment, outcome, stratum)
            return ref.overall, pd.Series(ref.within), ref.adjusted

        att = _effects(make_tutoring(), *_TUTORING).treated_weighted
        return {"stratified_effects": stratified_effects, "effect_on_tutored": att}

    def verify(self, stratified_effects, effect_on_tutored):
        # Not the notebook's table: the stored results of this call (and of a catalogued
        # mistake, the treated-weighted average) must not give away `effect_on_tutored`.
        _q3_check(
            stratified_effects, _visible_table(), ("coached", "success", "band"),
            "On a table of 800 other students (treatment 'coached', outcome 'success', "
            "stratum 'band')", tol=1e-9,
        )  # fmt: skip
        _effect_on_tutored(effect_on_tutored, tol=1e-6)

    def verify_hidden(self, seed, stratified_effects, effect_on_tutored):
        self.verify(stratified_effects=stratified_effects, effect_on_tutored=effect_on_tutored)
        _effect_on_tutored(effect_on_tutored, tol=1e-9)
        rng = np.random.default_rng(seed)
        for k in range(3):
            n = int(rng.integers(300, 900))
            groups = np.array(["low", "medium", "high"])
            g = rng.choice(3, size=n, p=[0.5, 0.3, 0.2])
            treated = (rng.random(n) < np.array([0.15, 0.5, 0.85])[g]).astype(int)
            base = np.array([60.0, 45.0, 20.0])[g]
            lift = rng.uniform(1, 8, 3)[g] * (1 if k != 1 else -1)
            score = base + lift * treated + rng.normal(0, 5, n)
            df = pd.DataFrame({"exposure": treated, "band": groups[g], "score": score})
            df = df.sample(frac=1.0, random_state=k).reset_index(drop=True)
            _q3_check(
                stratified_effects, df, ("exposure", "score", "band"),
                f"On a fresh table (n={n}, treatment 'exposure', outcome 'score', stratum 'band')",
                tol=1e-9,
            )  # fmt: skip


# =================================================================================================
# q4: marginal, conditional and interventional expectations of a model
# =================================================================================================
@functools.lru_cache(maxsize=1)
def _loans() -> SimpleNamespace:
    """The notebook's model: the application-time loan columns, a 30 % test split (seed 2), a
    standardised logistic regression; its prediction is the probability of default."""
    X, y = make_loan_default(n=2000, seed=0)
    X = X[list(LOAN_FEATURES)]
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, random_state=2)
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)).fit(
        X_train, y_train
    )
    proba = model.predict_proba(X_test)[:, 1]
    history = X_test["credit_history_years"].to_numpy()
    long = history > HISTORY_LONG
    X_set = X_test.copy()
    X_set["credit_history_years"] = HISTORY_SET
    return SimpleNamespace(
        baseline=float(proba.mean()),
        y_test_mean=float(y_test.mean()),
        y_train_mean=float(y_train.mean()),
        pred_train_mean=float(model.predict_proba(X_train)[:, 1].mean()),
        class_mean=float(model.predict(X_test).mean()),
        logodds_mean=float(model.decision_function(X_test).mean()),
        cond=float(proba[long].mean()),
        cond_ge=float(proba[history >= HISTORY_LONG].mean()),
        cond_low=float(proba[~long].mean()),
        cond_y=float(y_test.to_numpy()[long].mean()),
        cond_class=float(model.predict(X_test)[long].mean()),
        pd=float(model.predict_proba(X_set)[:, 1].mean()),
        pd_class=float(model.predict(X_set).mean()),
        cond_at=float(proba[np.abs(history - HISTORY_SET) < 1.0].mean()),
    )


def _q4_check(baseline, cond_mean_long_history, pd_history_20, tol: float) -> None:
    r = _loans()

    def near(a: float, b: float) -> bool:
        return close(a, b, rtol=0, atol=tol)

    b = _number(baseline, "baseline")
    said = f"`baseline` = {b:.5g}"
    if not near(b, r.baseline):
        if near(b, r.y_train_mean) or near(b, r.pred_train_mean):
            raise Incorrect(
                f"{said} is the mean over the training rows: of the observed y_train, or of the "
                "predicted probabilities on the training rows (for a logistic regression with an "
                "intercept the two nearly agree). The baseline is the mean predicted probability "
                "over the background data, X_test."
            )
        if near(b, r.y_test_mean):
            raise Incorrect(
                f"{said} is the mean of the *observed* outcome y (the default rate). The baseline "
                "of an explanation is the mean of the *model's predictions* over the background "
                "data, E[f(X)]; here the two differ."
            )
        if near(b, r.class_mean):
            raise Incorrect(
                f"{said} is the share of rows predicted as class 1 (`predict` gives 0/1 "
                "labels at a 0.5 threshold). The model's prediction here is the probability of "
                "default: `predict_proba`, column 1."
            )
        if near(b, r.logodds_mean):
            raise Incorrect(
                f"{said} is a mean log-odds (`decision_function`); average the predicted "
                "probability of default instead."
            )
        raise Incorrect(f"{said} is not the mean predicted probability of default over X_test.")

    c = _number(cond_mean_long_history, "cond_mean_long_history")
    said = f"`cond_mean_long_history` = {c:.5g}"
    if not near(c, r.cond):
        if near(c, r.baseline):
            raise Incorrect(
                f"{said} is the marginal mean prediction (the baseline) over all rows. The "
                f"conditional expectation averages only the rows with more than {HISTORY_LONG:g} "
                "years of credit history."
            )
        if near(c, r.cond_y):
            raise Incorrect(
                f"{said} averages the observed outcome y of those rows; average the model's "
                "predicted probabilities instead."
            )
        if near(c, r.cond_class):
            raise Incorrect(
                f"{said} averages 0/1 class predictions (`predict`); average the predicted "
                "probability of default (`predict_proba`, column 1)."
            )
        if near(c, r.cond_low):
            raise Incorrect(
                f"{said} averages the rows with at most {HISTORY_LONG:g} years, the other group."
            )
        if near(c, r.pd):
            raise Incorrect(
                f"{said} is the interventional mean (every row's history set to "
                f"{HISTORY_SET:g}). The conditional mean keeps the data as it is and selects rows "
                f"with more than {HISTORY_LONG:g} years."
            )
        raise Incorrect(
            f"{said} is not the mean predicted probability over the X_test rows with "
            f"credit_history_years > {HISTORY_LONG:g}."
        )

    p = _number(pd_history_20, "pd_history_20")
    said = f"`pd_history_20` = {p:.5g}"
    if not near(p, r.pd):
        if near(p, r.cond) or near(p, r.cond_at) or near(p, r.cond_ge):
            raise Incorrect(
                f"{said} is a conditional mean: it selects the applicants who happen to have a "
                "long credit history, and they are older and differ in other features too. "
                "Partial dependence keeps every row and *sets* its credit history to "
                f"{HISTORY_SET:g} years, then averages the predictions."
            )
        if near(p, r.pd_class):
            raise Incorrect(
                f"{said} averages 0/1 class predictions (`predict`) of the modified rows; "
                "average the predicted probability of default."
            )
        if near(p, r.baseline):
            raise Incorrect(
                f"{said} is the baseline; the predictions have not changed. Set the credit "
                f"history of a copy of X_test to {HISTORY_SET:g} before predicting."
            )
        raise Incorrect(
            f"{said} is not the mean predicted probability over X_test with every "
            f"credit_history_years set to {HISTORY_SET:g}."
        )


@key_for(m02.q4)
class Expectations(Question):
    tolerance = {"rtol": 0.0, "atol": 1e-4}

    def references(self):
        r = _loans()
        return {"baseline": r.baseline, "cond_mean_long_history": r.cond, "pd_history_20": r.pd}

    def verify_graded(self, seed, baseline, cond_mean_long_history, pd_history_20):
        self.verify(baseline, cond_mean_long_history, pd_history_20)  # variables only

    def verify(self, baseline, cond_mean_long_history, pd_history_20):
        _q4_check(baseline, cond_mean_long_history, pd_history_20, tol=1e-4)

    def verify_hidden(self, seed, baseline, cond_mean_long_history, pd_history_20):
        unrounded(
            lambda tol: _q4_check(baseline, cond_mean_long_history, pd_history_20, tol=tol),
            1e-4, 1e-9,
            "One of `baseline`, `cond_mean_long_history` or `pd_history_20` is close to the "
            "right value but not equal to it. Compute each one in code and do not round it.",
        )


# =================================================================================================
# q5: the percentile bootstrap
# =================================================================================================
def _boot_stats(x: np.ndarray, stat, n_boot: int, seed: int, size=None) -> np.ndarray:
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, x.size, size=size or (n_boot, x.size))
    return np.array([stat(x[i]) for i in idx], dtype=float)


def _q5_check(func, x: np.ndarray, stat, n_boot: int, alpha: float, seed: int, where: str) -> None:
    got = call(func, "bootstrap_ci", x.copy(), stat, n_boot, alpha, seed)
    low, high = as_tuple(got, "bootstrap_ci", 2)
    low = _number(low, "low (item 0 of the tuple)")
    high = _number(high, "high (item 1 of the tuple)")
    said = f"{where}, `bootstrap_ci` returned ({low:.5g}, {high:.5g})"
    stats = _boot_stats(x, stat, n_boot, seed)
    q = (alpha / 2, 1 - alpha / 2)
    ref = tuple(float(v) for v in np.quantile(stats, q))

    def same(a: tuple, b: tuple) -> bool:
        return close(a[0], b[0], rtol=1e-9, atol=1e-12) and close(a[1], b[1], rtol=1e-9, atol=1e-12)

    if same((low, high), ref):
        return
    if same((high, low), ref) or low > high:
        raise Incorrect(
            f"{said}: the endpoints are swapped (low > high). Return (low, high): the "
            f"alpha/2 quantile first, then the 1 - alpha/2 quantile."
        )
    if close(low, high, rtol=0, atol=1e-12):
        raise Incorrect(
            f"{said}: the interval has zero width, so every resample gave the same statistic. "
            "That happens when you resample without replacement (each resample is then just a "
            "reordering of x) or apply `stat` once instead of to each resample. Draw indices with "
            "replacement, one row of `idx` per resample."
        )
    if same((low, high), tuple(float(v) for v in np.quantile(stats, (alpha, 1 - alpha)))):
        raise Incorrect(
            f"{said}: it uses the alpha and 1 - alpha quantiles, a {1 - 2 * alpha:.0%} interval. "
            f"A {1 - alpha:.0%} interval leaves alpha/2 in each tail."
        )
    if same((low, high), tuple(float(v) for v in np.percentile(stats, q))):
        raise Incorrect(
            f"{said}: `np.percentile` takes percentages (0 to 100), not fractions, so you asked "
            "for the alpha/2-th and (1 - alpha/2)-th *per cent* points, both near the minimum. Use "
            "`np.quantile` with fractions (or multiply by 100)."
        )
    n = x.size
    for size in ((n_boot, n_boot), (n, n_boot), (n, n)):
        if size == (n_boot, n):
            continue
        if same(
            (low, high),
            tuple(float(v) for v in np.quantile(_boot_stats(x, stat, n_boot, seed, size), q)),
        ):
            raise Incorrect(
                f"{said}: the resamples have the wrong shape (n_boot and the sample size mixed "
                f"up). Draw `idx = rng.integers(0, n, size=(n_boot, n))`: n_boot resamples, each "
                "of the same size n as the data."
            )
    data_q = tuple(float(v) for v in np.quantile(x, q))
    rows = x[np.random.default_rng(seed).integers(0, n, size=(n_boot, n))].ravel()
    rows_q = tuple(float(v) for v in np.quantile(rows, q))
    if same((low, high), data_q) or same((low, high), rows_q):
        raise Incorrect(
            f"{said}: those are quantiles of the data values, an interval for a single "
            "observation. Compute the statistic on each resample, then take the quantiles of "
            "those n_boot statistics."
        )
    raise Incorrect(
        f"{said}, which is not the percentile bootstrap interval of the protocol in the question "
        "(check the order of the random draws: one `rng.integers(0, n, size=(n_boot, n))` call)."
    )


@key_for(m02.q5)
class BootstrapCI(Question):
    def references(self):
        def bootstrap_ci(x, stat, n_boot, alpha, seed):
            stats = _boot_stats(np.asarray(x, dtype=float), stat, n_boot, seed)
            return tuple(float(v) for v in np.quantile(stats, (alpha / 2, 1 - alpha / 2)))

        return {"bootstrap_ci": bootstrap_ci}

    def verify(self, bootstrap_ci):
        x = np.array([2.1, 3.5, 1.2, 8.4, 4.4, 2.9, 15.0, 3.3, 5.6, 2.2, 6.1, 1.8])
        where = f"For x={_lst(x)}"
        _q5_check(
            bootstrap_ci, x, np.mean, 2000, 0.05, 0, f"{where} (mean, n_boot=2000, alpha=0.05)"
        )
        _q5_check(
            bootstrap_ci, x, np.median, 500, 0.1, 7, f"{where} (median, n_boot=500, alpha=0.1)"
        )

    def verify_hidden(self, seed, bootstrap_ci):
        self.verify(bootstrap_ci)  # the designed cases separate every named mistake
        rng = np.random.default_rng(seed)
        # Statistics the grader can send to the student's kernel (grader.checks.wire.FUNCTIONS).
        stats = (np.mean, np.median, functools.partial(np.std, ddof=1))
        for k in range(4):
            n = int(rng.integers(8, 120))
            x = rng.lognormal(rng.uniform(0, 3), rng.uniform(0.2, 1.0), n)
            n_boot = int(rng.integers(200, 1500))
            alpha = float(rng.choice([0.01, 0.05, 0.1, 0.2]))
            boot_seed = int(rng.integers(0, 10_000))
            where = f"On a fresh sample (n={n}, n_boot={n_boot}, alpha={alpha}, seed={boot_seed})"
            _q5_check(bootstrap_ci, x, stats[k % 3], n_boot, alpha, boot_seed, where)


# The decorator turns each class into its question instance: by label, and as q1 ... q5.
q1, q2, q3, q4, q5 = VarianceAndSE, PearsonR, Simpson, Expectations, BootstrapCI
QUESTIONS = {q.label: q for q in (q1, q2, q3, q4, q5)}
