"""The answer key of assignment 06, "Interpretable-by-design models and trees": instructor-only.

Never released (``nbgrader_config.py`` ignores ``key.py``). It holds what the student-side module
:mod:`grader.checks.m06` must not: the reference computations, every check (``verify``,
``verify_hidden``, ``verify_graded``), the hidden tests' generators and the reference answers of
each question (``references()``). The grader loads it outside the student's kernel
(:mod:`grader.judging`); ``grader release`` precomputes the offline visible check from it
(``grader/checks/data/m06.json``). See ``docs/authoring.md``.

Every reference is rebuilt here from the seeded data in :mod:`grader.datasets` and scikit-learn's
bundled tables, with the recipes of the notebook's setup cell (cached: the checks run many
times); the student's own data variables are never read. The models that the checks pass to the
student's functions (q2's pipelines, q4's trees) are built with :func:`grader.checks.wire.fitted`,
so that a plan sends them into the kernel as recipes and the kernel refits the same model. Toy
cases are asymmetric (features on very different scales, samples that sit exactly on a
threshold) so that each classic mistake gives a different answer from the right one, and each
mistake is named in the feedback. A near miss is diagnosed as a known mistake (pandas'
ddof=1 standard deviation) before it is called rounding.

Guessable single answers (stored hashed, but a small space): ``most_influential`` (5 feature
names), ``root_feature`` and ``second_feature`` (4 names), the ranks of q6 (1 to 7),
``best_glass_box`` (3 names). Each shares its question with numbers or functions that are not
guessable, so guessing alone earns nothing.

Every question applies lecture 06 to data the lecture did not use (issue 14): household energy
(q1), hospital readmissions (q2, q3, q6), a breast-cancer tree (q4), a dosage rule (q5) and crop
trials (q7, q8). The function questions (q1, q2, q4, q7) are graded on fresh inputs; q7 redraws
its inputs until every catalogued mistake is separated from the right answer.
"""

from __future__ import annotations

import functools
from types import SimpleNamespace

import numpy as np
import pandas as pd
from sklearn.datasets import load_wine
from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor
from sklearn.inspection import permutation_importance
from sklearn.linear_model import LinearRegression, LogisticRegression, Ridge
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import SplineTransformer, StandardScaler
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

from grader.checks import m06, wire
from grader.checks.core import Incorrect, Question, call, draw_separating, key_for
from grader.checks.values import (
    allclose,
    as_array,
    as_float,
    as_int,
    as_labelled_series,
    as_str,
    as_tuple,
    close,
    show,
    type_name,
)
from grader.datasets import (
    breast_cancer_split,
    make_crop_yield,
    make_dosage_rule,
    make_energy_use,
    make_readmission,
)

#: The key's questions, by label.
__all__ = ["QUESTIONS"]

#: The five legitimate features of the readmission table (q2, q3 and q6; the leaky
#: ``followup_billing`` is dropped).
READMIT_FEATURES = ["age", "prior_admissions", "length_of_stay", "num_medications",
                    "discharged_weekend"]  # fmt: skip
#: q2: the odds ratio of *not* being readmitted for a stay longer by ``STAY_DAYS`` days.
STAY, STAY_DAYS = "length_of_stay", 7.0
#: q3: the test-split row (by position) of the patient, and the feature moved by one SD.
PATIENT, PRIOR = 23, "prior_admissions"
#: q4: the test-split row (by position) of the breast-cancer patient whose path is asked for.
CASE_ROW = 40
_NAME_POOL = (
    "height", "weight", "dose", "pressure", "glucose", "income", "tenure", "clicks", "rainfall",
    "speed", "visits", "score", "volume", "latency", "density", "humidity", "load", "yield",
)  # fmt: skip


# --- reference data, rebuilt from seeds (cached) -------------------------------------------------
@functools.lru_cache(maxsize=1)
def _energy() -> SimpleNamespace:
    X, y = make_energy_use()
    return SimpleNamespace(X=X, y=y, names=list(X.columns))


def _readmit_split():
    X, y = make_readmission()
    return train_test_split(X[READMIT_FEATURES], y, test_size=0.3, stratify=y, random_state=0)


@functools.lru_cache(maxsize=1)
def _hospital() -> SimpleNamespace:
    """The notebook's logistic model of readmission: 5 features, standardised, 1 = readmitted."""
    X_train, X_test, y_train, _ = _readmit_split()
    model = wire.fitted([(StandardScaler, {}), (LogisticRegression, {})], X_train, y_train)
    coef, scale = model[-1].coef_[0].copy(), model[0].scale_.copy()
    s, j = READMIT_FEATURES.index(STAY), READMIT_FEATURES.index(PRIOR)
    x = X_test.iloc[[PATIENT]].copy()

    def p_after(step: float) -> float:
        moved = x.copy()
        moved[PRIOR] = moved[PRIOR] + step
        return float(model.predict_proba(moved)[0, 1])

    return SimpleNamespace(
        model=model, coef=coef, scale=scale, s=s, j=j,
        b_stay=float(coef[s]), scale_stay=float(scale[s]),
        sd1_stay=float(X_train[STAY].std(ddof=1)),
        b_prior=float(coef[j]),
        p_before=p_after(0.0), p_after=p_after(float(scale[j])), p_unit=p_after(1.0),
        p_ddof1=p_after(float(X_train[PRIOR].std(ddof=1))),
    )  # fmt: skip


@functools.lru_cache(maxsize=1)
def _cancer_tree() -> SimpleNamespace:
    """q4's depth-3 tree on all 30 breast-cancer features (NumPy arrays), and its test rows."""
    split = breast_cancer_split()
    tree = wire.fitted([(DecisionTreeClassifier, {"max_depth": 3, "random_state": 0})],
                       split.X_train.to_numpy(), split.y_train.to_numpy())  # fmt: skip
    return SimpleNamespace(X=split.X_test.to_numpy(), names=list(split.X_train.columns), tree=tree)


@functools.lru_cache(maxsize=1)
def _wine() -> SimpleNamespace:
    data = load_wine(as_frame=True)
    X = data.data.to_numpy()
    tree = wire.fitted([(DecisionTreeClassifier, {"max_depth": 3, "random_state": 0})], X,
                       data.target.to_numpy())
    return SimpleNamespace(X=X, names=list(data.feature_names), tree=tree)


@functools.lru_cache(maxsize=1)
def _rule() -> SimpleNamespace:
    X, y = make_dosage_rule()
    tree = DecisionTreeClassifier(max_depth=2, random_state=0).fit(X, y)
    return SimpleNamespace(X=X, y=y, tree=tree, names=list(X.columns))


@functools.lru_cache(maxsize=1)
def _noisy_hospital():
    """q6's table: the readmission features plus two pure-noise columns (seeded)."""
    X, y = make_readmission()
    X = X[READMIT_FEATURES]
    rng = np.random.default_rng(6)
    return X.assign(random_num=rng.normal(size=len(X)), random_cat=rng.integers(0, 3, len(X))), y


@functools.lru_cache(maxsize=1)
def _credit() -> SimpleNamespace:
    X, y = _noisy_hospital()
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, random_state=0)
    rf = RandomForestClassifier(n_estimators=100, random_state=0).fit(X_train, y_train)
    pi_test = permutation_importance(rf, X_test, y_test, n_repeats=10, random_state=0)
    pi_train = permutation_importance(rf, X_train, y_train, n_repeats=10, random_state=0)
    return SimpleNamespace(
        names=list(X.columns),
        mdi=rf.feature_importances_.copy(),
        pi_test=pi_test.importances_mean.copy(),
        pi_test_std=pi_test.importances_std.copy(),
        pi_train=pi_train.importances_mean.copy(),
    )


# --- small helpers -----------------------------------------------------------------------------
_series = as_labelled_series



def _vec(values: np.ndarray, labels: list[str]) -> str:
    """The student's numbers with their labels, for a message."""
    shown = ", ".join(f"{k}: {v:.4g}" for k, v in list(zip(labels, values, strict=True))[:8])
    return "{" + shown + (", ..." if len(labels) > 8 else "") + "}"


def _label(v) -> str:
    """A class label as the student would write it: 1 or 'yes' (not np.int64(1))."""
    return repr(v.item() if hasattr(v, "item") else v)


def _near(a: np.ndarray, b: np.ndarray, rtol: float = 1e-6) -> bool:
    return allclose(a, b, rtol=rtol, atol=1e-9)


# =================================================================================================
# q1: standardised coefficients
# =================================================================================================
def _ols(X: np.ndarray, y: np.ndarray) -> np.ndarray:
    return LinearRegression().fit(X, y).coef_


def _q1_refs(X: pd.DataFrame, y) -> dict[str, np.ndarray]:
    A = X.to_numpy(dtype=float)
    yv = np.asarray(y, dtype=float)
    sd0, sd1 = A.std(axis=0), A.std(axis=0, ddof=1)
    std = _ols((A - A.mean(axis=0)) / sd0, yv)
    raw = std / sd0
    return {
        "std": std,
        "raw": raw,
        "ddof1": std * sd1 / sd0,
        "y_too": std / yv.std(),
        "y_too1": raw * sd1 / yv.std(ddof=1),
    }


def _q1_diagnose(got: np.ndarray, refs: dict[str, np.ndarray], labels, name: str, where: str):
    if _near(got, refs["std"]):
        return
    said = f"{where}`{name}` is {_vec(got, labels)}"
    if _near(got, refs["raw"]):
        raise Incorrect(
            f"{said}: these are the raw coefficients, not standardised. A raw coefficient is "
            "per *unit* of its feature, and the units differ (square metres, degrees, a 0/1 "
            "switch), so don't compare weights of features with different scales. Standardise X "
            "first."
        )
    if _near(got, refs["y_too"]) or _near(got, refs["y_too1"]):
        raise Incorrect(
            f"{said}: you standardised the target y too. We want the change in y, *in its own "
            "units*, per one standard deviation of each feature: scale X only."
        )
    if _near(got, refs["ddof1"]):
        raise Incorrect(
            f"{said}: close, but you scaled with the sample standard deviation (ddof=1, what "
            "pandas' `.std()` uses). `StandardScaler` divides by the population standard "
            "deviation (ddof=0); use it, or `X.std(ddof=0)`."
        )
    raise Incorrect(
        f"{said}; these are not the coefficients of a linear regression on standardised features."
    )


def _q1_function(func, X: pd.DataFrame, y: pd.Series, where: str) -> None:
    got = call(func, "standardized_coefs", X.copy(), y.copy())
    labels = list(X.columns)
    values = _series(got, "standardized_coefs(X, y)", labels)
    _q1_diagnose(values, _q1_refs(X, y), labels, "standardized_coefs(X, y)", where)


def _q1_toy() -> tuple[pd.DataFrame, pd.Series]:
    """Three features on very different scales, with a known (asymmetric) truth."""
    rng = np.random.default_rng(606)
    n = 60
    X = pd.DataFrame(
        {
            "salary_eur": rng.normal(40_000, 9_000, n),
            "years": rng.normal(12, 4, n),
            "ratio": rng.normal(0.3, 0.05, n),
        }
    )
    y = 0.0004 * X["salary_eur"] - 1.5 * X["years"] + 30 * X["ratio"] + rng.normal(0, 1, n)
    return X, pd.Series(y.to_numpy(), name="outcome")


def _q1_variables(coefs_std, most_influential, rtol: float) -> None:
    d = _energy()
    refs = _q1_refs(d.X, d.y)
    values = _series(coefs_std, "coefs_std", d.names)
    _q1_diagnose(values, refs, d.names, "coefs_std", "")
    if not _near(values, refs["std"], rtol=rtol):
        raise Incorrect(
            "`coefs_std` is close to the right values but not equal to them. Compute it in code "
            "and do not round it."
        )
    top = as_str(most_influential, "most_influential")
    right = d.names[int(np.argmax(np.abs(refs["std"])))]
    if top == right:
        return
    said = f"`most_influential` = {top!r}"
    if top not in d.names:
        raise Incorrect(f"{said}, which is not one of the feature names {d.names}.")
    reasons = []
    if top == d.names[int(np.argmax(np.abs(refs["raw"])))]:
        reasons.append(
            "it has the largest *raw* coefficient, which mixes the effect with the feature's units"
        )
    if top == d.names[int(np.argmax(refs["std"]))]:
        reasons.append(
            "it has the largest *signed* standardised coefficient; a large negative coefficient "
            "is just as influential, so rank by the absolute value"
        )
    if reasons:
        raise Incorrect(f"{said}: " + "; and ".join(reasons) + ".")
    raise Incorrect(
        f"{said} does not have the largest absolute standardised coefficient in `coefs_std`."
    )


@key_for(m06.q1)
class StandardizedCoefs(Question):
    def references(self):
        d = _energy()
        std = _q1_refs(d.X, d.y)["std"]
        return {
            "standardized_coefs": lambda X, y: pd.Series(
                _q1_refs(X, y)["std"], index=[str(c) for c in X.columns]),
            "coefs_std": pd.Series(std, index=d.names),
            "most_influential": d.names[int(np.argmax(np.abs(std)))],
        }

    def verify(self, standardized_coefs, coefs_std, most_influential):
        X, y = _q1_toy()
        _q1_function(standardized_coefs, X, y, "On a small table with features in euros, years "
                     "and a ratio, ")  # fmt: skip
        d = _energy()
        _q1_function(standardized_coefs, d.X, d.y, "On the energy table, ")
        _q1_variables(coefs_std, most_influential, rtol=1e-6)

    def verify_graded(self, seed, standardized_coefs, coefs_std, most_influential):
        self.verify(standardized_coefs, coefs_std, most_influential)
        _q1_fresh(seed, standardized_coefs)  # the variables keep the visible tolerance

    def verify_hidden(self, seed, standardized_coefs, coefs_std, most_influential):
        _q1_fresh(seed, standardized_coefs)
        _q1_variables(coefs_std, most_influential, rtol=1e-9)


def _q1_fresh(seed: int, standardized_coefs) -> None:
    """Fresh tables drawn from ``seed``: features on random scales, random names."""
    rng = np.random.default_rng(seed)
    for _ in range(5):
        n, p = int(rng.integers(40, 150)), int(rng.integers(3, 7))
        names = [str(v) for v in rng.choice(_NAME_POOL, size=p, replace=False)]
        scales = 10.0 ** rng.uniform(-2, 3, p)
        A = rng.normal(0, 1, (n, p)) * scales + rng.normal(0, 5, p) * scales
        beta = rng.normal(0, 2, p) / scales
        y = A @ beta + rng.normal(0, 1, n)
        X = pd.DataFrame(A, columns=names)
        where = f"On a fresh table ({n} rows, features {names}), "
        _q1_function(standardized_coefs, X, pd.Series(y, name="target"), where)


# =================================================================================================
# q2: odds ratios
# =================================================================================================
def _q2_function(func, model, labels: list[str], where: str) -> None:
    got = call(func, "odds_ratios", model)
    values = _series(got, "odds_ratios(model)", labels)
    coef = model[-1].coef_[0]
    if _near(values, np.exp(coef)):
        return
    said = f"{where}`odds_ratios(model)` returned {_vec(values, labels)}"
    if _near(values, coef):
        raise Incorrect(
            f"{said}: these are the coefficients themselves. A logistic coefficient is a change "
            "in the *log*-odds; the odds ratio is `np.exp(coef)`."
        )
    if _near(values, np.exp(-coef)) or _near(values, 1 / np.exp(coef)):
        raise Incorrect(
            f"{said}: wrong sign. These are the odds ratios of class {_label(model.classes_[0])} "
            f"(`model.classes_[0]`); `coef_` describes the odds of `model.classes_[1]` "
            f"({_label(model.classes_[1])}), so the odds ratio is `np.exp(coef)`, not "
            "`np.exp(-coef)`."
        )
    if _near(values, np.exp(coef / model[0].scale_)):
        raise Incorrect(
            f"{said}: you divided by the scaler's standard deviations, which gives the odds ratio "
            "per raw *unit*. The pipeline's coefficients are already per standard deviation: "
            "we want the odds ratio per +1 SD."
        )
    if _near(values, 1 / (1 + np.exp(-coef))):
        raise Incorrect(
            f"{said}: that is the sigmoid of each coefficient, a probability. An odds ratio is "
            "`np.exp(coef)`: how many times the odds are multiplied."
        )
    raise Incorrect(f"{said}; these are not the odds ratios per +1 SD of the model's coefficients.")


def _q2_variable(or_not_readmitted_week, tol: float) -> None:
    c = _hospital()
    b, sc = c.b_stay, c.scale_stay
    right = float(np.exp(-b * STAY_DAYS / sc))
    v = as_float(or_not_readmitted_week, "or_not_readmitted_week")
    if close(v, right, rtol=tol, atol=0):
        return
    said = f"`or_not_readmitted_week` = {v:.4g}"
    # Known near misses first: only then is a close value a rounded one (issue 14).
    if close(v, np.exp(-b * STAY_DAYS / c.sd1_stay), rtol=1e-6, atol=0):
        raise Incorrect(
            f"{said}: you converted with the *sample* standard deviation (ddof=1, what pandas' "
            "`.std()` gives). The pipeline's coefficient is per one standard deviation as its "
            "`StandardScaler` measured it (ddof=0): divide by the scaler's own `scale_`."
        )
    if close(v, right, rtol=1e-3, atol=0):
        raise Incorrect(
            f"{said} is close to the right value but not equal to it. Compute it in code and do "
            "not round it."
        )
    if close(v, 1 / right, rtol=1e-3, atol=0):
        raise Incorrect(
            f"{said} is the odds ratio of *being readmitted*: the model's positive class is "
            "`model.classes_[1]` = 1 (readmitted). For not being readmitted, the odds are the "
            "inverse, so the sign of the coefficient flips."
        )
    for wrong, what in (
        (np.exp(-b), "per one standard deviation of the stay (about 3.5 days)"),
        (np.exp(-b / sc), "per one extra day"),
        (np.exp(-b * STAY_DAYS), "per seven standard deviations"),
        (np.exp(b), "per one standard deviation, for being readmitted"),
    ):
        if close(v, wrong, rtol=1e-3, atol=0):
            raise Incorrect(
                f"{said} is the odds ratio {what}. The pipeline's coefficient is per one training "
                "standard deviation; for a stay 7 days longer, convert: 7 days are 7 / SD "
                "standard deviations, and the log-odds change adds up over them."
            )
    if any(close(v, w, rtol=1e-3, atol=0) for w in (b, -b, -b * STAY_DAYS / sc, b * STAY_DAYS / sc)):
        raise Incorrect(
            f"{said} is a change in log-odds (the coefficient, perhaps rescaled), not an odds "
            "ratio. Undo the log."
        )
    if close(v, right - 1, rtol=1e-3, atol=0) or close(v, 100 * (right - 1), rtol=1e-3):
        raise Incorrect(
            f"{said} is the relative change in the odds (OR - 1), not the odds ratio. Report the "
            "factor by which the odds are multiplied."
        )
    raise Incorrect(f"{said} is not the odds ratio of not being readmitted for a stay 7 days "
                    "longer.")  # fmt: skip


def _q2_toy(rng: np.random.Generator, n: int, names: list[str], classes=(0, 1)):
    p = len(names)
    scales = 10.0 ** rng.uniform(-2, 3, p)
    A = rng.normal(0, 1, (n, p)) * scales + rng.normal(0, 3, p) * scales
    beta = rng.normal(0, 1.2, p)
    z = (A - A.mean(axis=0)) / A.std(axis=0) @ beta
    y = rng.random(n) < 1 / (1 + np.exp(-z))
    y[:2] = (True, False)
    labels = np.where(y, classes[1], classes[0])
    return wire.fitted([(StandardScaler, {}), (LogisticRegression, {})],
                       pd.DataFrame(A, columns=names), labels)


@key_for(m06.q2)
class OddsRatios(Question):
    def references(self):
        c = _hospital()
        return {
            "odds_ratios": lambda model: pd.Series(
                np.exp(model[-1].coef_[0]), index=[str(f) for f in model.feature_names_in_]),
            "or_not_readmitted_week": float(np.exp(-c.b_stay * STAY_DAYS / c.scale_stay)),
        }

    def verify(self, odds_ratios, or_not_readmitted_week):
        # Not on the notebook's readmission model: the visible check's results are stored in
        # the offline data, and `or_not_readmitted_week` follows from its length-of-stay entry.
        toy = _q2_toy(np.random.default_rng(61), 80, ["dose_mg", "age_years", "bmi"])
        _q2_function(
            odds_ratios, toy, ["dose_mg", "age_years", "bmi"], "On a small 3-feature model, "
        )
        _q2_variable(or_not_readmitted_week, tol=1e-6)

    def verify_graded(self, seed, odds_ratios, or_not_readmitted_week):
        self.verify(odds_ratios, or_not_readmitted_week)
        _q2_fresh(seed, odds_ratios)  # the variable keeps the visible tolerance

    def verify_hidden(self, seed, odds_ratios, or_not_readmitted_week):
        _q2_fresh(seed, odds_ratios)
        _q2_variable(or_not_readmitted_week, tol=1e-9)


def _q2_fresh(seed: int, odds_ratios) -> None:
    """Fresh models drawn from ``seed`` (the last one with string classes "no"/"yes")."""
    rng = np.random.default_rng(seed)
    for k in range(4):
        p = int(rng.integers(2, 6))
        names = [str(v) for v in rng.choice(_NAME_POOL, size=p, replace=False)]
        classes = ("no", "yes") if k == 3 else (0, 1)
        model = _q2_toy(rng, int(rng.integers(60, 200)), names, classes)
        _q2_function(odds_ratios, model, names, f"On a fresh model (features {names}), ")


# =================================================================================================
# q3: a probability change
# =================================================================================================
def _q3_check(delta_p_readmit, tol: float) -> None:
    c = _hospital()
    b = c.b_prior
    v = as_float(delta_p_readmit, "delta_p_readmit")
    right = c.p_after - c.p_before
    if close(v, right, rtol=0, atol=tol):
        return
    said = f"`delta_p_readmit` = {v:.4g}"
    # Known near misses first: only then is a close value a rounded one (issue 14).
    if close(v, c.p_ddof1 - c.p_before, rtol=0, atol=1e-9):
        raise Incorrect(
            f"{said}: you moved prior_admissions by the *sample* standard deviation (ddof=1, what "
            "pandas' `.std()` gives). The model's scaler measures a standard deviation with "
            "ddof=0: move by the training standard deviation the model itself uses."
        )
    if close(v, right, rtol=0, atol=1e-3):
        raise Incorrect(
            f"{said} is close to the right value but not equal to it. Compute it in code and do "
            "not round it."
        )
    odds = (np.exp(b), np.exp(-b), np.exp(b) - 1, np.exp(-b) - 1)
    if any(close(v, w, rtol=1e-3) for w in odds):
        raise Incorrect(
            f"{said} is built from the odds ratio, not from probabilities: an odds ratio is a "
            "constant factor on the odds, while the probability change depends on where the "
            "patient starts. Predict the probability before and after, and subtract."
        )
    if close(v, b, rtol=1e-3) or close(v, -b, rtol=1e-3):
        raise Incorrect(f"{said} is the coefficient, a change in *log-odds*, not in probability.")
    if not -1.0 <= v <= 1.0:
        raise Incorrect(f"{said}, but a difference of two probabilities lies between -1 and 1.")
    if close(v, -right, rtol=1e-3):
        raise Incorrect(
            f"{said} has the wrong sign: it is the change in the probability of *not* being "
            "readmitted (column 0 of `predict_proba`). Readmitted is class 1, column 1."
        )
    p = c.p_before
    if close(v, p * (1 - p) * b, rtol=1e-3):
        raise Incorrect(
            f"{said} is the slope approximation p(1 - p) * coef. The sigmoid is curved, so for a "
            "whole standard deviation the exact change differs: predict before and after."
        )
    if close(v, c.p_unit - c.p_before, rtol=1e-3):
        raise Incorrect(
            f"{said} is the change for one more admission (+1 raw unit); we asked for +1 "
            "standard deviation, as the model's scaler measures it."
        )
    if close(v, c.p_after, rtol=1e-3):
        raise Incorrect(f"{said} is the probability after the change, not the change itself.")
    raise Incorrect(
        f"{said} is not the change in the predicted probability of readmission for patient "
        f"X_test.iloc[{PATIENT}] when prior_admissions rises by one training standard deviation."
    )


@key_for(m06.q3)
class ProbabilityChange(Question):
    tolerance = {"rtol": 0.0, "atol": 1e-6}

    def references(self):
        c = _hospital()
        return {"delta_p_readmit": c.p_after - c.p_before}

    def verify_graded(self, seed, delta_p_readmit):
        self.verify(delta_p_readmit)  # a variable: no fresh inputs to draw

    def verify(self, delta_p_readmit):
        _q3_check(delta_p_readmit, tol=1e-6)

    def verify_hidden(self, seed, delta_p_readmit):
        _q3_check(delta_p_readmit, tol=1e-10)


# =================================================================================================
# q4: decision path as rules
# =================================================================================================
def _ref_rules(tree, x: np.ndarray, names) -> list[tuple[str, str, float]]:
    t = tree.tree_
    nodes = tree.decision_path(x.reshape(1, -1)).indices
    out = []
    for node, nxt in zip(nodes[:-1], nodes[1:], strict=True):
        op = "<=" if nxt == t.children_left[node] else ">"
        out.append((names[t.feature[node]], op, float(t.threshold[node])))
    return out


def _walk(tree, x: np.ndarray, names, strict: bool) -> list[tuple[str, str, float]]:
    """Walk the tree by hand; ``strict`` goes left only when x < threshold (the equality mistake)."""
    t = tree.tree_
    node, out = 0, []
    while t.children_left[node] != -1:
        f, thr = t.feature[node], float(t.threshold[node])
        left = x[f] < thr if strict else x[f] <= thr
        out.append((names[f], "<=" if left else ">", thr))
        node = t.children_left[node] if left else t.children_right[node]
    return out


def _parse_rules(got, name: str, names) -> list[tuple[str, str, float]]:
    if type(got) in (int, np.int64, np.intp, np.int32):
        raise Incorrect(
            f"`{name}` returned {show(got)}, a single node id: that is the leaf id (what "
            "`tree.apply` gives), not the path. Return one rule per split on the way to the leaf."
        )
    if type(got) not in (list, tuple):
        raise Incorrect(
            f"`{name}` should return a list of (feature, op, threshold) tuples, but it returned a "
            f"{type(got).__name__}: {show(got)}."
        )
    items = list(got)
    if items and all(type(i) in (int, np.int64, np.intp, np.int32) for i in items):
        raise Incorrect(
            f"`{name}` returned {show(got)}: node ids (the path itself). Turn each split node into "
            "a rule (feature name, '<=' or '>', threshold)."
        )
    rules = []
    for k, item in enumerate(items):
        f, op, thr = as_tuple(item, f"{name}[{k}]", 3)
        if type(f) in (int, np.int64, np.intp, np.int32):
            raise Incorrect(
                f"`{name}` returned {show(got)}: feature indices instead of names. Look each "
                "index up in `feature_names`."
            )
        f = as_str(f, f"{name}[{k}][0] (the feature)")
        op = as_str(op, f"{name}[{k}][1] (the operator)")
        if op not in ("<=", ">"):
            raise Incorrect(f"`{name}[{k}][1]` is {op!r}; the operator must be '<=' or '>'.")
        if f not in names:
            raise Incorrect(f"`{name}[{k}][0]` is {f!r}, which is not one of the feature names.")
        rules.append((f, op, as_float(thr, f"{name}[{k}][2] (the threshold)")))
    return rules


def _same(a, b) -> bool:
    return len(a) == len(b) and all(
        fa == fb and oa == ob and close(ta, tb, rtol=1e-6, atol=1e-6)
        for (fa, oa, ta), (fb, ob, tb) in zip(a, b, strict=True)
    )


def _q4_diagnose(got, ref, x: np.ndarray, tree, names, others, where: str, name: str) -> None:
    if _same(got, ref):
        return
    said = f"{where}`{name}` gave {show(got)}"
    flip = {"<=": ">", ">": "<="}
    if len(got) == len(ref) + 1 and _same(got[:-1], ref):
        raise Incorrect(
            f"{said}: the last rule comes from the leaf. A leaf has no split (`tree_.feature` is "
            "-2 there); stop before it."
        )
    if len(got) == len(ref) and all(g[0] == r[0] and close(g[2], r[2], atol=1e-6) for g, r in
                                    zip(got, ref, strict=True)):  # fmt: skip
        t = tree.tree_
        at_equal = [
            x[t.feature[n]] == t.threshold[n]
            for n in tree.decision_path(x.reshape(1, -1)).indices[:-1]
        ]
        flipped = [g[1] != r[1] for g, r in zip(got, ref, strict=True)]
        if any(flipped) and all(not f or e for f, e in zip(flipped, at_equal, strict=True)):
            raise Incorrect(
                f"{said}: wrong direction at equality. The sample's value equals the threshold "
                "there, and scikit-learn goes left when x <= threshold (so the rule is '<=')."
            )
        if all(g[1] == flip[r[1]] for g, r in zip(got, ref, strict=True)):
            raise Incorrect(
                f"{said}: every direction is reversed. The left child holds the samples with "
                "x <= threshold; the right child those with x > threshold."
            )
        raise Incorrect(
            f"{said}: the features and thresholds are right, but some directions are not."
        )
    if _same(got, _walk(tree, x, names, strict=True)):
        raise Incorrect(
            f"{said}: wrong direction at equality. The sample's value equals a threshold on the "
            "way, and scikit-learn goes left when x <= threshold; your walk went right."
        )
    for label, other in others:
        if _same(got, other):
            raise Incorrect(f"{said}: this is the path of the wrong sample ({label}).")
    raise Incorrect(f"{said}; this is not the path from the root to the sample's leaf.")


def _q4_run(func, tree, x: np.ndarray, names, others, where: str) -> None:
    got = call(func, "path_rules", tree, x.copy(), list(names))
    rules = _parse_rules(got, "path_rules", names)
    _q4_diagnose(rules, _ref_rules(tree, x, names), x, tree, names, others, where, "path_rules")


def _q4_toy():
    """A tiny tree on integer features: thresholds are exact halves, so x can sit on one."""
    X = np.array([[1, 7, 3], [2, 5, 3], [3, 8, 1], [4, 6, 2], [5, 9, 0], [6, 4, 4],
                  [7, 3, 1], [8, 2, 5], [2, 9, 1], [6, 8, 2]], dtype=float)  # fmt: skip
    y = np.array([0, 0, 1, 1, 1, 2, 2, 2, 1, 0])
    tree = wire.fitted([(DecisionTreeClassifier, {"max_depth": 3, "random_state": 0})], X, y)
    return tree, X, ["sugar", "acidity", "tannin"]


def _equal_sample(tree, x: np.ndarray) -> np.ndarray:
    """``x`` moved onto the threshold of the first split on its path (exact in float32)."""
    t = tree.tree_
    x = x.copy()
    node = 0
    x[t.feature[node]] = t.threshold[node]
    return x


def _q4_variable(rules_patient) -> None:
    w = _cancer_tree()
    got = _parse_rules(rules_patient, "rules_patient", w.names)
    ref = _ref_rules(w.tree, w.X[CASE_ROW], w.names)
    others = [
        (f"row {r}", _ref_rules(w.tree, w.X[r], w.names)) for r in (CASE_ROW - 1, CASE_ROW + 1, 0)
    ]
    others = [(label, o) for label, o in others if not _same(o, ref)]
    if _same(got, ref):
        return
    for label, o in others:
        if _same(got, o):
            raise Incorrect(
                f"`rules_patient` = {show(got)} is the path of the wrong sample ({label} of "
                f"X_cancer_test). Pass the row at position {CASE_ROW}."
            )
    _q4_diagnose(got, ref, w.X[CASE_ROW], w.tree, w.names, [], "", "rules_patient")


@key_for(m06.q4)
class PathRules(Question):
    def references(self):
        c = _cancer_tree()
        return {
            "path_rules": lambda tree, x, feature_names: _ref_rules(
                tree, np.asarray(x, dtype=float), list(feature_names)),
            "rules_patient": _ref_rules(c.tree, c.X[CASE_ROW], c.names),
        }

    def verify(self, path_rules, rules_patient):
        tree, X, names = _q4_toy()
        first = [("sample 0", _ref_rules(tree, X[0], names))]
        for i in (0, 3, 7):
            _q4_run(
                path_rules, tree, X[i], names, [], f"On a small tree, for x = {X[i].tolist()}, "
            )
        x_eq = _equal_sample(tree, X[5])
        _q4_run(path_rules, tree, x_eq, names, first,
                f"On a small tree, for x = {x_eq.tolist()} (on a threshold), ")  # fmt: skip
        w = _wine()
        first = [("the first row of X_wine", _ref_rules(w.tree, w.X[0], w.names))]
        for i in (60, 130):
            _q4_run(path_rules, w.tree, w.X[i], w.names, first, f"On the wine tree, for row {i}, ")
        _q4_variable(rules_patient)

    def verify_hidden(self, seed, path_rules, rules_patient):
        rng = np.random.default_rng(seed)
        for _ in range(4):
            n, p = int(rng.integers(40, 120)), int(rng.integers(3, 6))
            names = [str(v) for v in rng.choice(_NAME_POOL, size=p, replace=False)]
            X = rng.integers(0, 12, (n, p)).astype(float)
            y = (X[:, 0] + rng.normal(0, 2, n) > 5).astype(int) + (X[:, -1] > 7).astype(int)
            depth = int(rng.integers(2, 5))
            tree = wire.fitted([(DecisionTreeClassifier, {"max_depth": depth, "random_state": 0})],
                               X, y)
            first = [("the first row", _ref_rules(tree, X[0], names))]
            for i in rng.choice(n, size=3, replace=False):
                x = X[i] if i % 2 else _equal_sample(tree, X[i])
                _q4_run(path_rules, tree, x, names, first if i else [],
                        f"On a fresh tree (features {names}), for x = {x.tolist()}, ")  # fmt: skip
        _q4_variable(rules_patient)


# =================================================================================================
# q5: recover a known rule
# =================================================================================================
def _tree_predict(tree: dict, classes: np.ndarray, X: np.ndarray) -> np.ndarray:
    """Predict with a tree read as plain facts (``Fitted.tree_``): validated, bounded walk.
    Like scikit-learn, X is compared in float32 and goes left when x <= threshold."""
    n = int(tree["node_count"])
    feature, threshold = np.asarray(tree["feature"]), np.asarray(tree["threshold"], dtype=float)
    left, right = np.asarray(tree["children_left"]), np.asarray(tree["children_right"])
    value = np.asarray(tree["value"], dtype=float)
    if not (0 < n <= 100_000 and feature.shape == threshold.shape == left.shape == right.shape
            == (n,) and value.shape[0] == n and value.ndim == 3):
        raise ValueError("not a tree")
    X = X.astype(np.float32).astype(float)
    out = []
    for x in X:
        node = 0
        for _ in range(n):
            if left[node] == -1:
                break
            f = int(feature[node])
            node = int(left[node] if x[f] <= threshold[node] else right[node])
            if not 0 <= node < n:
                raise ValueError("not a tree")
        out.append(classes[int(np.argmax(value[node][0]))])
    return np.asarray(out)


def _q5_check(rule_tree, root_feature, root_threshold, second_feature, second_threshold, tol):
    r = _rule()
    facts = wire.facts(rule_tree)  # a tree read from the kernel: plain facts, never the object
    if type(facts) is not wire.Fitted or facts.type != "DecisionTreeClassifier":
        kind = facts.type if type(facts) is wire.Fitted else type_name(rule_tree)
        raise Incorrect(
            f"`rule_tree` should be a fitted DecisionTreeClassifier, but it is a "
            f"{kind}: {show(rule_tree)}."
        )
    tree = facts.attrs.get("tree_")
    if type(tree) is not dict:
        raise Incorrect("`rule_tree` is not fitted yet: call `.fit(X_rule, y_rule)`.")
    n_features = facts.attrs.get("n_features_in_")
    if n_features != len(r.names):
        raise Incorrect(
            f"`rule_tree` was fitted on {show(n_features)} features; fit it on the four "
            "columns of `X_rule`."
        )
    depth = tree.get("max_depth")
    if type(depth) is not int:
        raise Incorrect("`rule_tree` is not a decision tree I can read: fit a new one.")
    if depth > 2:
        raise Incorrect(
            f"`rule_tree` has depth {depth}: a deeper tree fits the noise; the rule has two "
            "conditions, so a depth-2 tree is enough (`max_depth=2`)."
        )
    if depth < 2:
        raise Incorrect(
            f"`rule_tree` has depth {depth}; the rule has two conditions, so use `max_depth=2`."
        )
    ref = r.tree.tree_
    lo, hi = r.X.min().to_numpy(), r.X.max().to_numpy()
    grid = lo + np.random.default_rng(6).random((400, 4)) * (hi - lo)
    with_names = pd.DataFrame(grid, columns=r.names)
    try:
        theirs = _tree_predict(tree, np.asarray(facts.attrs.get("classes_")), grid)
        same = np.array_equal(theirs, r.tree.predict(with_names))
    except (KeyError, TypeError, ValueError, IndexError):
        same = False
    if not same:
        raise Incorrect(
            "`rule_tree` has depth 2 but predicts differently from a depth-2 tree fitted on "
            "`X_rule`, `y_rule` with `random_state=0`. Fit it on all of `X_rule` and `y_rule`."
        )
    thresholds = {int(n): float(ref.threshold[n]) for n in range(ref.node_count)}
    second = int(ref.children_right[0])
    # The root.
    feat = as_str(root_feature, "root_feature")
    right_feat = r.names[ref.feature[0]]
    if feat != right_feat:
        said = f"`root_feature` = {feat!r}"
        if feat == r.names[ref.feature[second]]:
            raise Incorrect(
                f"{said} is the feature of the *second* split, or the first condition as the rule "
                "is written. The root is whichever split lowers the impurity most: read "
                "`rule_tree.tree_.feature[0]` and look up its name."
            )
        raise Incorrect(f"{said} is not the feature of the root split of `rule_tree`.")
    thr = as_float(root_threshold, "root_threshold")
    if not close(thr, thresholds[0], rtol=0, atol=tol):
        said = f"`root_threshold` = {thr:.4g}"
        # The rule's own numbers first: they sit inside the rounding band (issue 14).
        if close(thr, 1.4, atol=1e-9) or close(thr, 40.0, atol=1e-9):
            raise Incorrect(
                f"{said} is a value from the rule as written, not what the tree learnt. Read the "
                "learnt threshold of node 0 from the fitted tree."
            )
        if close(thr, thresholds[0], rtol=0, atol=1e-3):
            raise Incorrect(f"{said} is close, but do not round it: read it from the tree.")
        if any(close(thr, v, rtol=0, atol=1e-6) for n, v in thresholds.items() if n):
            raise Incorrect(
                f"{said} is the threshold of the wrong node: the root is node 0, "
                "`rule_tree.tree_.threshold[0]`."
            )
        raise Incorrect(f"{said} is not the threshold of the root split of `rule_tree`.")
    # The second split: the root's right child (where the rule can still be true).
    feat2 = as_str(second_feature, "second_feature")
    if feat2 != r.names[ref.feature[second]]:
        raise Incorrect(
            f"`second_feature` = {feat2!r} is not the feature of the split in the root's right "
            "child."
        )
    thr2 = as_float(second_threshold, "second_threshold")
    if not close(thr2, thresholds[second], rtol=0, atol=tol):
        said = f"`second_threshold` = {thr2:.4g}"
        if close(thr2, 1.4, atol=1e-9) or close(thr2, 40.0, atol=1e-9):
            raise Incorrect(
                f"{said} is a value from the rule as written, not what the tree learnt."
            )
        if close(thr2, thresholds[second], rtol=0, atol=1e-3):
            raise Incorrect(f"{said} is close, but do not round it: read it from the tree.")
        if close(thr2, -2.0):
            raise Incorrect(
                f"{said}: -2 marks a leaf in `tree_.threshold`. Node 2 is not the second split: "
                "node ids go depth first, so look the root's right child up in "
                "`tree_.children_right`."
            )
        if any(close(thr2, v, rtol=0, atol=1e-6) for n, v in thresholds.items() if n != second):
            raise Incorrect(
                f"{said} is the threshold of the wrong node. Use the root's right child, "
                "`tree_.children_right[0]`."
            )
        raise Incorrect(f"{said} is not the threshold of the second split of `rule_tree`.")


@key_for(m06.q5)
class RecoverRule(Question):
    tolerance = {"rtol": 0.0, "atol": 1e-6}

    def references(self):
        r = _rule()
        t = r.tree.tree_
        second = int(t.children_right[0])
        return {
            "rule_tree": r.tree,
            "root_feature": r.names[t.feature[0]],
            "root_threshold": float(t.threshold[0]),
            "second_feature": r.names[t.feature[second]],
            "second_threshold": float(t.threshold[second]),
        }

    def verify_graded(self, seed, **values):
        self.verify(**values)  # variables: no fresh inputs to draw

    def verify(self, rule_tree, root_feature, root_threshold, second_feature, second_threshold):
        _q5_check(rule_tree, root_feature, root_threshold, second_feature, second_threshold, 1e-6)

    def verify_hidden(
        self, seed, rule_tree, root_feature, root_threshold, second_feature, second_threshold
    ):
        _q5_check(rule_tree, root_feature, root_threshold, second_feature, second_threshold, 1e-12)


# =================================================================================================
# q6: MDI against permutation importance
# =================================================================================================
def _rank(values: np.ndarray, names: list[str], feature: str) -> int:
    """1 = most important."""
    order = np.argsort(-values, kind="stable")
    return int(np.flatnonzero(order == names.index(feature))[0]) + 1


def _q6_check(mdi, pi_test, mdi_rank_random, pi_rank_random, rtol: float) -> None:
    c = _credit()
    names = c.names
    m = _series(mdi, "mdi", names)
    if not _near(m, c.mdi, rtol=rtol):
        said = f"`mdi` = {_vec(m, names)}"
        if _near(m, c.pi_test, rtol=1e-3) or _near(m, c.pi_train, rtol=1e-3):
            raise Incorrect(f"{said}: these are permutation importances; MDI is "
                            "`rf_hosp.feature_importances_`.")  # fmt: skip
        if _near(m, c.mdi, rtol=1e-3):
            raise Incorrect(f"{said} is close, but do not round it.")
        raise Incorrect(f"{said} is not the MDI (`feature_importances_`) of `rf_hosp`.")
    p = _series(pi_test, "pi_test", names)
    if not _near(p, c.pi_test, rtol=rtol):
        said = f"`pi_test` = {_vec(p, names)}"
        if _near(p, c.pi_train, rtol=1e-3):
            raise Incorrect(
                f"{said}: this permutation importance was computed on the training data. The "
                "forest has memorised the training rows, noise included, so there even "
                "`random_num` looks useful. Use unseen data: `X_hosp_test`, `y_hosp_test`."
            )
        if _near(p, c.mdi, rtol=1e-3):
            raise Incorrect(f"{said}: that is the MDI again, not permutation importance.")
        if _near(p, c.pi_test_std, rtol=1e-3):
            raise Incorrect(f"{said}: that is `importances_std`; we want `importances_mean`.")
        if _near(p, c.pi_test, rtol=1e-3):
            raise Incorrect(f"{said} is close, but do not round it.")
        raise Incorrect(
            f"{said} is not the permutation importance on the test split with n_repeats=10 and "
            "random_state=0."
        )
    for value, name, ref, other in (
        (mdi_rank_random, "mdi_rank_random", c.mdi, c.pi_test),
        (pi_rank_random, "pi_rank_random", c.pi_test, c.mdi),
    ):
        k = as_int(value, name)
        right = _rank(ref, names, "random_num")
        if k == right:
            continue
        said = f"`{name}` = {k}"
        if not 1 <= k <= len(names):
            zero = " (it looks 0-based)" if k == right - 1 else ""
            raise Incorrect(f"{said}, but a rank runs from 1 (most important) to {len(names)}"
                            f"{zero}.")  # fmt: skip
        reasons = []
        if k == right - 1:
            reasons.append("it looks 0-based; rank 1 is the most important feature")
        if k == len(names) + 1 - right:
            reasons.append(
                "it counts from the least important feature; rank 1 is the most important"
            )
        if name == "pi_rank_random" and k == _rank(c.pi_train, names, "random_num"):
            reasons.append(
                "it is the rank of `random_num` under permutation importance on the training "
                "data; rank it in `pi_test`"
            )
        if k == _rank(other, names, "random_num"):
            reasons.append("it is the rank of `random_num` in the other importance")
        if reasons:
            raise Incorrect(f"{said}: " + "; or ".join(reasons) + ".")
        raise Incorrect(f"{said} is not the rank of `random_num` (1 = most important).")


@key_for(m06.q6)
class MdiVersusPermutation(Question):
    def references(self):
        c = _credit()
        return {
            "mdi": pd.Series(c.mdi, index=c.names),
            "pi_test": pd.Series(c.pi_test, index=c.names),
            "mdi_rank_random": _rank(c.mdi, c.names, "random_num"),
            "pi_rank_random": _rank(c.pi_test, c.names, "random_num"),
        }

    def verify_graded(self, seed, **values):
        self.verify(**values)  # variables: no fresh inputs to draw

    def verify(self, mdi, pi_test, mdi_rank_random, pi_rank_random):
        _q6_check(mdi, pi_test, mdi_rank_random, pi_rank_random, rtol=1e-6)

    def verify_hidden(self, seed, mdi, pi_test, mdi_rank_random, pi_rank_random):
        _q6_check(mdi, pi_test, mdi_rank_random, pi_rank_random, rtol=1e-10)


# =================================================================================================
# q7: a GAM's centred shape function (part 3 of issue 14)
# =================================================================================================
#: The GAM of q7 and q8: cubic B-splines on 5 knots per feature (7 basis columns each), then a
#: ridge regression (alpha = 1).
N_KNOTS, DEGREE, RIDGE_ALPHA = 5, 3, 1.0
N_BASIS = N_KNOTS + DEGREE - 1
#: q7's reading: the GAM of the crop training split, rainfall on a 10 mm grid.
RAIN_GRID = np.arange(200.0, 1301.0, 10.0)


def _gam(X: pd.DataFrame, y) -> object:
    return make_pipeline(SplineTransformer(n_knots=N_KNOTS, degree=DEGREE),
                         Ridge(alpha=RIDGE_ALPHA)).fit(X, y)  # fmt: skip


def _at(X: pd.DataFrame, feature: str, values: np.ndarray, others: pd.Series) -> pd.DataFrame:
    """Rows that hold ``others`` in every column but ``feature``, which runs through ``values``."""
    G = pd.DataFrame({c: np.full(len(values), float(others[c])) for c in X.columns})
    G[feature] = values
    return G


def _q7_refs(X: pd.DataFrame, y, feature: str, grid: np.ndarray) -> dict[str, np.ndarray]:
    """The right answer (``"ref"``) and what each catalogued mistake returns instead."""
    gam = _gam(X, y)
    spline, ridge = gam[0], gam[-1]
    j = list(X.columns).index(feature)
    G = _at(X, feature, grid, X.mean())

    def block(rows: pd.DataFrame, k: int) -> np.ndarray:
        return spline.transform(rows)[:, j * k:(j + 1) * k] @ ridge.coef_[j * k:(j + 1) * k]

    raw, raw_rows = block(G, N_BASIS), block(X, N_BASIS)
    wrong, wrong_rows = block(G, N_KNOTS), block(X, N_KNOTS)  # blocks of n_knots columns
    return {
        "ref": raw - raw_rows.mean(),
        "raw": raw,
        "grid_centred": raw - raw.mean(),
        "intercept": raw - raw_rows.mean() + ridge.intercept_,
        "prediction": gam.predict(G),
        "anchored": raw - raw[0],
        "wrong_block": wrong - wrong_rows.mean(),
        "coef": ridge.coef_[j * N_BASIS:(j + 1) * N_BASIS].copy(),
    }


def _q7_outcomes(case) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """The right shape function on a case ``(X, y, feature, grid)`` and each catalogued
    mistake's."""
    refs = _q7_refs(*case)
    named = ("raw", "grid_centred", "intercept", "prediction", "anchored", "wrong_block")
    return refs["ref"], {k: refs[k] for k in named}


def _q7_apart(ref: np.ndarray, wrong: np.ndarray) -> bool:
    """Is a mistake's curve far from the right one (relative to the right curve's range)?"""
    return bool(np.max(np.abs(wrong - ref)) > 1e-3 * max(float(np.ptp(ref)), 1e-9))


def _q7_diagnose(got, refs, feature: str, where: str) -> None:
    name = f"gam_shape(X, y, {feature!r}, grid)"
    ref = refs["ref"]
    if type(got) in (list, tuple, np.ndarray, pd.Series):
        values = as_array(got, name)
    else:
        raise Incorrect(f"{where}`{name}` should return a 1-D array of floats, one per grid value, "
                        f"but it returned a {type_name(got)}: {show(got)}.")  # fmt: skip
    if values.shape == refs["coef"].shape and _near(values, refs["coef"], rtol=1e-4):
        raise Incorrect(
            f"{where}`{name}` returned {show(values)}: the {N_BASIS} spline coefficients of "
            f"{feature!r}, read as if they were the effect. A coefficient weights one basis "
            "bump; the shape function is the basis block times its coefficients, evaluated at "
            "each grid value."
        )
    if values.shape != ref.shape:
        raise Incorrect(f"{where}`{name}` has shape {values.shape}; we want one value per grid "
                        f"value, shape {ref.shape}.")  # fmt: skip
    if _near(values, ref, rtol=1e-6):
        return
    said = f"{where}`{name}` is {show(values)}"
    if _near(values, refs["raw"], rtol=1e-4):
        raise Incorrect(
            f"{said}: the right curve, but not centred. A shape function's level is arbitrary (the "
            "intercept can absorb any constant), so we centre it: subtract its mean over the rows "
            "of X."
        )
    if _near(values, refs["grid_centred"], rtol=1e-4):
        raise Incorrect(
            f"{said}: centred over the grid, not over the rows of X. The grid is only where we "
            "draw the curve; its mean depends on the range we chose. Subtract the mean of the "
            "shape function over the data's rows."
        )
    if _near(values, refs["intercept"], rtol=1e-4):
        raise Incorrect(f"{said}: you added the intercept. A centred shape function leaves the "
                        "intercept out.")  # fmt: skip
    if _near(values, refs["prediction"], rtol=1e-4):
        raise Incorrect(
            f"{said}: that is the model's prediction along the grid (the intercept and the other "
            "features' contributions included), not the feature's centred shape function."
        )
    if _near(values, refs["anchored"], rtol=1e-4):
        raise Incorrect(
            f"{said}: anchored at the first grid value (it starts at 0). Centre it over the rows "
            "of X instead, so that 0 means an average contribution."
        )
    if _near(values, refs["wrong_block"], rtol=1e-4):
        raise Incorrect(
            f"{said}: the wrong block of coefficients. With {N_KNOTS} knots and degree {DEGREE}, "
            f"`SplineTransformer` makes n_knots + degree - 1 = {N_BASIS} columns per feature, "
            "one feature after another."
        )
    offset = values - ref
    if np.ptp(offset) <= 1e-6 * max(float(np.ptp(ref)), 1.0):
        raise Incorrect(f"{said}: the right shape, shifted by a constant. Centre it: its mean over "
                        "the rows of X must be 0.")  # fmt: skip
    raise Incorrect(
        f"{said}; this is not the centred shape function of a GAM (cubic splines, {N_KNOTS} "
        f"knots, ridge alpha={RIDGE_ALPHA:g}) fitted on X and y."
    )


def _q7_call(func, X: pd.DataFrame, y: pd.Series, feature: str, grid: np.ndarray, where: str):
    refs = _q7_refs(X, y, feature, grid)
    got = call(func, "gam_shape", X.copy(), y.copy(), feature, grid.copy())
    _q7_diagnose(got, refs, feature, where)


def _q7_toy(rng: np.random.Generator, n: int, names: list[str]):
    """A table whose y is additive and bent in every feature, on very different scales."""
    scales = 10.0 ** rng.uniform(-1, 3, len(names))
    U = rng.random((n, len(names)))
    X = pd.DataFrame(U * scales, columns=names)
    amp = rng.uniform(0.5, 3.0, len(names))
    y = (amp * np.sin(3.0 * U + rng.uniform(0, 3, len(names)))).sum(axis=1) + rng.normal(0, 0.3, n)
    return X, pd.Series(y, name="target")


def _q7_case(rng: np.random.Generator, names: list[str]):
    """A fresh table, feature and grid such that every catalogued mistake is separated (bounded:
    20 draws, then SeparationError, never seen; a loud failure in tests)."""

    def draw(g: np.random.Generator):
        X, y = _q7_toy(g, int(g.integers(80, 200)), names)
        feature = str(g.choice(names))
        lo, hi = np.quantile(X[feature], [g.uniform(0.0, 0.15), g.uniform(0.45, 0.75)])
        return X, y, feature, np.sort(g.uniform(lo, hi, int(g.integers(15, 30))))

    return draw_separating(draw, _q7_outcomes, rng, separated=_q7_apart, tries=20)


def _crop_train():
    X, y = make_crop_yield()
    return train_test_split(X, y, test_size=0.3, random_state=0)


@functools.lru_cache(maxsize=1)
def _crop() -> SimpleNamespace:
    """q7's and q8's crop trials: the GAM's rainfall peak and four models' R^2."""
    X_train, X_test, y_train, y_test = _crop_train()
    gam = _gam(X_train, y_train)
    shape = _q7_refs(X_train, y_train, "rainfall_mm", RAIN_GRID)["ref"]
    models = {
        "linear": LinearRegression(),
        "gam": gam,
        "tree": DecisionTreeRegressor(max_depth=3, random_state=0),
        "forest": RandomForestRegressor(n_estimators=100, random_state=0),
    }
    test, train, mse = {}, {}, {}
    for k, m in models.items():
        if k != "gam":
            m.fit(X_train, y_train)
        test[k], train[k] = m.score(X_test, y_test), m.score(X_train, y_train)
        mse[k] = float(np.mean((m.predict(X_test) - y_test.to_numpy()) ** 2))
    return SimpleNamespace(
        peak=float(RAIN_GRID[int(np.argmax(shape))]),
        peak_raw=float(X_train["rainfall_mm"].to_numpy()[int(np.argmax(y_train.to_numpy()))]),
        test=test, train=train, mse=mse,
    )  # fmt: skip


def _q7_variable(rain_peak_mm) -> None:
    c = _crop()
    v = as_float(rain_peak_mm, "rain_peak_mm")
    if close(v, c.peak, rtol=0, atol=1e-6):
        return
    said = f"`rain_peak_mm` = {v:.6g}"
    if close(v, c.peak_raw, rtol=0, atol=1e-6):
        raise Incorrect(
            f"{said} is the rainfall of the highest-yield field in the data, not where the GAM's "
            "rainfall curve peaks: one field's yield mixes every feature and its noise."
        )
    if not any(close(v, g, rtol=0, atol=1e-6) for g in RAIN_GRID):
        raise Incorrect(f"{said} is not one of the values of `rain_grid`.")
    raise Incorrect(f"{said} is not the value of `rain_grid` where the GAM's centred rainfall "
                    "shape function is largest.")  # fmt: skip


@key_for(m06.q7)
class GamShape(Question):
    def references(self):
        return {
            "gam_shape": lambda X, y, feature, grid: _q7_refs(
                X, y, str(feature), np.asarray(grid, dtype=float))["ref"],
            "rain_peak_mm": _crop().peak,
        }

    def verify(self, gam_shape, rain_peak_mm):
        rng = np.random.default_rng(607)
        X, y = _q7_toy(rng, 120, ["dose_mg", "age_years", "ratio"])
        grid = np.linspace(X["age_years"].quantile(0.1), X["age_years"].quantile(0.6), 12)
        _q7_call(gam_shape, X, y, "age_years", grid,
                 "On a small table (dose_mg, age_years, ratio), for age_years, ")  # fmt: skip
        _q7_variable(rain_peak_mm)

    def verify_hidden(self, seed, gam_shape, rain_peak_mm):
        rng = np.random.default_rng(seed)
        for _ in range(3):
            names = [str(v) for v in rng.choice(_NAME_POOL, size=int(rng.integers(2, 5)),
                                                replace=False)]  # fmt: skip
            X, y, feature, grid = _q7_case(rng, names)
            _q7_call(gam_shape, X, y, feature, grid,
                     f"On a fresh table (features {names}), for {feature}, ")  # fmt: skip
        _q7_variable(rain_peak_mm)


# =================================================================================================
# q8: which glass box, and what it gives up (a judgement on held-out R^2)
# =================================================================================================
GLASS_BOXES = ("linear", "gam", "tree")


def _q8_r2(value, name: str, key: str, tol: float) -> None:
    c = _crop()
    v = as_float(value, name)
    if close(v, c.test[key], rtol=tol, atol=0):
        return
    said = f"`{name}` = {v:.4g}"
    if close(v, c.train[key], rtol=1e-6, atol=1e-9):
        raise Incorrect(
            f"{said} is measured on the training rows, which the model has seen (a forest "
            "nearly memorises them). Score it on `X_crop_test`, `y_crop_test`."
        )
    if close(v, c.mse[key], rtol=1e-6, atol=1e-9):
        raise Incorrect(f"{said} is a mean squared error; we asked for R² (`model.score`).")
    if close(v, c.test[key], rtol=1e-3, atol=0):
        raise Incorrect(f"{said} is close, but not equal: compute it, do not round it.")
    raise Incorrect(f"{said} is not the held-out R² of the model the question describes.")


def _q8_check(r2_gam, r2_forest, best_glass_box, r2_given_up, tol: float) -> None:
    c = _crop()
    _q8_r2(r2_gam, "r2_gam", "gam", tol)
    _q8_r2(r2_forest, "r2_forest", "forest", tol)
    best = max(GLASS_BOXES, key=lambda k: c.test[k])
    choice = as_str(best_glass_box, "best_glass_box")
    if choice != best:
        said = f"`best_glass_box` = {choice!r}"
        if choice not in GLASS_BOXES:
            raise Incorrect(
                f"{said}: choose one of {list(GLASS_BOXES)}; a random forest of 100 deep trees "
                "has no single curve or rule per feature, so it is not a glass box."
            )
        if choice == max(GLASS_BOXES, key=lambda k: c.train[k]):
            raise Incorrect(f"{said} has the best R² on the training rows; choose by held-out R².")
        raise Incorrect(f"{said} does not have the highest held-out R² of the three glass boxes.")
    v = as_float(r2_given_up, "r2_given_up")
    right = c.test["forest"] - c.test[best]
    if close(v, right, rtol=tol, atol=1e-12):
        return
    said = f"`r2_given_up` = {v:.4g}"
    if close(v, -right, rtol=1e-6, atol=1e-12):
        raise Incorrect(
            f"{said} has the wrong sign: we asked for the forest's held-out R² minus the glass "
            "box's (positive when the glass box is worse)."
        )
    if close(v, c.train["forest"] - c.train[best], rtol=1e-6, atol=1e-12):
        raise Incorrect(
            f"{said} compares the models on the training rows, where the forest has memorised "
            "the noise; the gap that matters is on the test rows."
        )
    if close(v, right, rtol=1e-3, atol=1e-9):
        raise Incorrect(f"{said} is close, but not equal: compute it, do not round it.")
    raise Incorrect(f"{said} is not the forest's held-out R² minus that of `best_glass_box`.")


@key_for(m06.q8)
class GlassBoxCost(Question):
    tolerance = {"rtol": 1e-6, "atol": 1e-12}

    def references(self):
        c = _crop()
        best = max(GLASS_BOXES, key=lambda k: c.test[k])
        return {
            "r2_gam": c.test["gam"],
            "r2_forest": c.test["forest"],
            "best_glass_box": best,
            "r2_given_up": c.test["forest"] - c.test[best],
        }

    def verify_graded(self, seed, **values):
        self.verify(**values)  # variables: no fresh inputs to draw

    def verify(self, r2_gam, r2_forest, best_glass_box, r2_given_up):
        _q8_check(r2_gam, r2_forest, best_glass_box, r2_given_up, tol=1e-6)

    def verify_hidden(self, seed, r2_gam, r2_forest, best_glass_box, r2_given_up):
        _q8_check(r2_gam, r2_forest, best_glass_box, r2_given_up, tol=1e-10)


# The decorator turns each class into its question instance: by label, and as q1 ... q8.
q1, q2, q3, q4, q5, q6, q7, q8 = (
    StandardizedCoefs, OddsRatios, ProbabilityChange, PathRules, RecoverRule, MdiVersusPermutation,
    GamShape, GlassBoxCost)
QUESTIONS = {q.label: q for q in (q1, q2, q3, q4, q5, q6, q7, q8)}

