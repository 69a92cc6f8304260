"""The answer key of assignment 01, "Why interpret?": instructor-only, never released.

``grader release`` and ``nbgrader generate_assignment`` skip this file (``nbgrader_config.py``
ignores ``key.py``). It holds what the student-side package (:mod:`grader.checks.m01`) must not:
the reference computations, the diagnosis code of every check (``verify``, ``verify_hidden``,
``verify_graded``), the taxonomy's answers and the reason for each wrong one, the leaky column,
and for each question its reference answers (``references()``). The grader loads it outside the
student's kernel (:mod:`grader.judging`); see ``docs/authoring.md``.

Every reference is rebuilt here from the seeded generator :func:`grader.datasets.make_loan_default`
and scikit-learn's wine table, with the same recipe as the notebook's setup cell (the ``_LOANS``
and ``_WINE`` settings below);
the student's own data variables are never read. Inputs of every call depend only on the seed
and this fixed data (q5 passes fitted pipelines: :mod:`grader.checks.wire` rebuilds them).
"""

from __future__ import annotations

import copy
import functools

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

from grader.checks import m01, wire
from grader.checks.core import Incorrect, Question, call, key_for
from grader.checks.m01 import METHODS as _METHODS
from grader.checks.m01 import parse_taxonomy
from grader.checks.values import (
    allclose,
    as_array,
    as_float,
    as_labelled_series,
    as_str,
    close,
    show,
)

#: The key's questions, by label.
__all__ = ["QUESTIONS"]


def _call_in(where: str, func, name: str, *args):
    """:func:`call`, with ``where`` (say, "On new arrays ...: ") before its feedback."""
    try:
        return call(func, name, *args)
    except Incorrect as exc:
        if not where:
            raise
        raise type(exc)(f"{where}{exc}") from None


# --------------------------------------------------------------------------------------------
# q1: fraction_correct
# --------------------------------------------------------------------------------------------

#: The visible case: 7 of 10 right and 4 positives, so the fraction (0.7), the count (7), the
#: percentage (70), correct/positives (1.75) and the error rate (0.3) are all different.
_Q1_TRUE = (1, 0, 1, 1, 0, 0, 0, 1, 0, 0)
_Q1_PRED = (1, 0, 0, 1, 0, 1, 0, 0, 0, 0)


def _q1_mistakes(y_true: np.ndarray, y_pred: np.ndarray) -> tuple[float, list[tuple[float, str]]]:
    """The right fraction and the values that the catalogued mistakes produce, with messages."""
    right = int(np.sum(y_true == y_pred))
    n = len(y_true)
    acc = right / n
    mistakes = [
        (
            float(right),
            "is the count of correct predictions, not the fraction. Divide by the "
            "number of predictions so the answer lies between 0 and 1.",
        ),
        (
            100.0 * acc,
            "looks like a percentage (100 times too large). Return a fraction "
            "between 0 and 1; format it as a percentage only when you print it.",
        ),
    ]
    positives = int(np.sum(y_true == 1))
    if positives:
        mistakes.append(
            (
                right / positives,
                "divides the number of correct predictions by the number of "
                "positive labels (y_true == 1). Accuracy divides by all "
                "predictions, positive and negative.",
            )
        )
    mistakes.append(
        (
            1.0 - acc,
            "is the error rate: the fraction of predictions that are wrong. Return "
            "the fraction that are right.",
        )
    )
    return acc, mistakes


def _q1_distinct(y_true: np.ndarray, y_pred: np.ndarray) -> bool:
    acc, mistakes = _q1_mistakes(y_true, y_pred)
    values = [acc] + [v for v, _ in mistakes]
    return all(
        not close(a, b, rtol=1e-9, atol=1e-9) for i, a in enumerate(values) for b in values[i + 1 :]
    )


def _q1_case(rng: np.random.Generator, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A random pair of label arrays whose right answer differs from every mistake."""
    while True:
        n = int(rng.integers(9, 60))
        y_true = rng.choice(labels, size=n)
        flip = rng.random(n) < rng.uniform(0.1, 0.45)
        y_pred = np.where(flip, rng.choice(labels, size=n), y_true)
        if _q1_distinct(y_true, y_pred):
            return y_true, y_pred


@key_for(m01.q1)
class FractionCorrect(Question):
    def references(self):
        return {"fraction_correct": lambda y_true, y_pred: float(
            np.mean(np.asarray(y_true) == np.asarray(y_pred)))}

    def _judge(self, func, y_true: np.ndarray, y_pred: np.ndarray, where: str = "") -> None:
        got = as_float(
            _call_in(where, func, "fraction_correct", y_true.copy(), y_pred.copy()),
            "fraction_correct(...)",
        )
        acc, mistakes = _q1_mistakes(y_true, y_pred)
        if close(got, acc):
            return
        shown = (
            f"{where}`fraction_correct` returned {show(got)} for {len(y_true)} predictions, which"
        )
        for value, why in mistakes:
            if close(got, value):
                raise Incorrect(f"{shown} {why}")
        if not 0.0 <= got <= 1.0:
            raise Incorrect(f"{shown} is outside [0, 1]; a fraction of predictions cannot be.")
        raise Incorrect(
            f"{shown} is not the fraction of predictions that equal the true labels. "
            "Try it by hand on three or four labels."
        )

    def verify(self, fraction_correct) -> None:
        self._judge(fraction_correct, np.array(_Q1_TRUE), np.array(_Q1_PRED))

    def verify_hidden(self, seed: int, fraction_correct) -> None:
        self.verify(fraction_correct)
        rng = np.random.default_rng(seed)
        where = "On new arrays (drawn at grading time): "
        for labels in (
            np.array([0, 1]),
            np.array([0, 1]),
            np.array([0, 1, 2]),
            np.array(["no", "yes"]),
        ):
            self._judge(
                fraction_correct,
                *_q1_case(rng, labels),
                where=where + f"labels {labels.tolist()}, ",
            )


# --------------------------------------------------------------------------------------------
# q2: taxonomy
# --------------------------------------------------------------------------------------------

#: The right (scope, model-agnostic) of each method.
_ANSWER = {
    "mdi": ("global", False),
    "ale": ("global", True),
    "anchors": ("local", True),
    "treeshap_summary": ("global", False),
    "attention_weights": ("local", False),
    "h_statistic": ("global", True),
    "rulefit_rules": ("global", False),
    "occlusion": ("local", True),
}

#: What a wrong part misreads: (method, "scope" or "agnostic", the wrong value) -> a reason that
#: teaches the principle (with two options per part, any "wrong" tells the other; q2 is worth one
#: point per cell for that reason).
_NOTES = {
    ("mdi", "scope", "local"): "MDI gives one number per feature for the forest as a whole, "
    "the same whichever row you look at.",
    ("mdi", "agnostic", "true"): "impurity decreases are stored in the trees' splits while they "
    "grow; a model with no splits has nothing to read.",
    ("ale", "scope", "local"): "an ALE curve averages prediction differences over all the rows "
    "that fall in each interval of the feature: one curve for the whole data set.",
    ("ale", "agnostic", "false"): "ALE needs nothing but predictions on slightly moved copies of "
    "the data, which a sealed box can give.",
    ("anchors", "scope", "global"): "an anchor is a rule around one instance: it says when *that* "
    "prediction stays the same, not how the model behaves everywhere.",
    ("anchors", "agnostic", "false"): "the anchor search only queries the model's predictions on "
    "perturbed copies of the instance.",
    ("treeshap_summary", "scope", "local"): "each SHAP value is local, but this chart averages "
    "|SHAP| over a whole test set: ask what the chart, not one value, describes.",
    ("treeshap_summary", "agnostic", "true"): "the prompt says how these SHAP values are computed: "
    "TreeExplainer walks the trees' splits and leaves, which a sealed box does not expose.",
    ("attention_weights", "scope", "global"): "the weights are those of one sentence passing "
    "through the network: another sentence gets other weights.",
    ("attention_weights", "agnostic", "true"): "attention weights are read out of the layers of "
    "one kind of network; a model without attention has none.",
    ("h_statistic", "scope", "local"): "the H-statistic is a share of the variance of the "
    "predictions over a data set: one number for a pair of features.",
    ("h_statistic", "agnostic", "false"): "it is computed from partial dependence functions, "
    "which only need the model's predictions.",
    ("rulefit_rules", "scope", "local"): "the fitted rules and their weights apply to every "
    "instance: reading them describes the whole model.",
    ("rulefit_rules", "agnostic", "true"): "the rules and weights are the insides of one model "
    "family (interpretable by design), read directly.",
    ("occlusion", "scope", "global"): "occlusion maps one image: it explains that image's "
    "prediction.",
    ("occlusion", "agnostic", "false"): "greying out patches and reading the predicted "
    "probability needs only the prediction function, even for an image model.",
}


def _flag(value: bool) -> str:
    return "true" if value else "false"


def _diagnose(method: str, scope: str, agnostic: bool) -> list[str]:
    """The reasons why (scope, agnostic) is wrong for ``method``; empty when it is right."""
    right_scope, right_agnostic = _ANSWER[method]
    reasons = []
    if scope != right_scope:
        reasons.append(_NOTES.get((method, "scope", scope)) or f"is it really {scope}?")
    if agnostic != right_agnostic:
        kind = "model-agnostic" if agnostic else "model-specific"
        reasons.append(_NOTES.get((method, "agnostic", _flag(agnostic))) or f"is it really {kind}?")
    return reasons


@key_for(m01.q2)
class Taxonomy(Question):
    # Small answer space: 4 options for each of 8 methods; 1 + 1 points (see the student module).

    def references(self):
        return {"taxonomy": dict(_ANSWER)}

    def verify_graded(self, seed, taxonomy):
        self.verify(taxonomy)  # a variable: no fresh inputs to draw

    def verify(self, taxonomy) -> None:
        parsed = parse_taxonomy(taxonomy)
        lines = []
        for method in _METHODS:
            scope, agnostic = parsed[method]
            reasons = _diagnose(method, scope, agnostic)
            if reasons:
                lines.append(f"`{method}` = ({scope!r}, {agnostic}): " + " Also, ".join(reasons))
        if lines:
            count = f"{len(lines)} of the 8 items {'is' if len(lines) == 1 else 'are'} wrong"
            raise Incorrect(f"{count}. " + " | ".join(lines))


# --------------------------------------------------------------------------------------------
# q3 and q4: the loan model with two leaks
# --------------------------------------------------------------------------------------------

#: The recipe of the notebook's setup cell.
_LOANS = {"n": 2000, "seed": 0, "test_size": 0.3, "split_seed": 1}
_FOREST = {"n_estimators": 100, "min_samples_leaf": 5, "random_state": 0, "n_jobs": 1}
_PERMUTATION = {"n_repeats": 5, "random_state": 0, "n_jobs": 1}
_LEAK = "collection_calls"
_SECOND_LEAK = "hardship_plan"
_PLAUSIBLE = ("debt_to_income", "late_payments_2y")


@functools.lru_cache(maxsize=1)
def _loans():
    """``(X_train, X_test, y_train, y_test, default_model)`` exactly as in the setup cell."""
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.model_selection import train_test_split

    from grader.datasets import make_loan_default

    r = _LOANS
    X, y = make_loan_default(n=r["n"], seed=r["seed"])
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=r["test_size"], random_state=r["split_seed"]
    )
    model = RandomForestClassifier(**_FOREST).fit(X_train, y_train)
    return X_train, X_test, y_train, y_test, model


@functools.lru_cache(maxsize=2)
def _permutation_reference(split: str) -> np.ndarray:
    from sklearn.inspection import permutation_importance

    X_train, X_test, y_train, y_test, model = _loans()
    X, y = (X_test, y_test) if split == "test" else (X_train, y_train)
    return permutation_importance(model, X, y, **_PERMUTATION).importances_mean.copy()


@functools.lru_cache(maxsize=1)
def _accuracy_reference() -> dict[str, float]:
    from sklearn.base import clone

    X_train, X_test, y_train, y_test, model = _loans()

    def score(drop: list[str], on: str) -> float:
        fit = clone(model).fit(X_train.drop(columns=drop), y_train)
        X, y = (X_test, y_test) if on == "test" else (X_train, y_train)
        return float(fit.score(X.drop(columns=drop), y))

    both = [_LEAK, _SECOND_LEAK]
    share_test = float(np.mean(y_test.to_numpy() == 1))
    share_train = float(np.mean(y_train.to_numpy() == 1))
    return {
        "honest_test": score(both, "test"),
        "honest_train": score(both, "train"),
        "one_leak_test": score([_LEAK], "test"),
        "other_leak_test": score([_SECOND_LEAK], "test"),
        "leak_test": float(model.score(X_test, y_test)),
        "leak_train": float(model.score(X_train, y_train)),
        "majority_test": max(share_test, 1 - share_test),
        "minority_test": min(share_test, 1 - share_test),
        "majority_train": max(share_train, 1 - share_train),
        "minority_train": min(share_train, 1 - share_train),
    }


def _name(value, name: str) -> str:
    """A column or feature name: a ``str`` (a NumPy string, as from an array of names, too)."""
    if type(value) is np.str_:
        return str.__str__(str(value))
    return as_str(value, name)


_series_by_label = as_labelled_series



@key_for(m01.q3)
class LeakDetective(Question):
    tolerance = {"rtol": 0.0, "atol": 1e-4}

    def references(self):
        columns = _loans()[1].columns
        return {"test_importance": pd.Series(_permutation_reference("test"), index=columns),
                "leaky_feature": _LEAK}

    def verify_graded(self, seed, test_importance, leaky_feature):
        self.verify(test_importance, leaky_feature)  # variables: no fresh inputs to draw

    def _importance(self, test_importance, atol: float) -> None:
        X_test = _loans()[1]
        columns = list(X_test.columns)
        got = _series_by_label(test_importance, "test_importance", columns, "column")
        if allclose(got, _permutation_reference("test"), rtol=0, atol=atol):
            return
        shown = f"`test_importance` = {show(test_importance)}"
        if allclose(got, _permutation_reference("train"), rtol=0, atol=atol):
            raise Incorrect(
                f"{shown} is permutation importance on the training split. On rows it has "
                "memorised, a model can look as if it relies on features that do not help it on "
                "new patients; compute the importance on X_test, y_test."
            )
        mdi = _loans()[4].feature_importances_
        if allclose(got, mdi, rtol=0, atol=atol):
            raise Incorrect(
                f"{shown} is the forest's impurity-based importance (MDI, "
                "`feature_importances_`), which is measured on the training data while the "
                "trees grow. The question asks for permutation importance on the test split."
            )
        if allclose(got, _permutation_reference("test"), rtol=0, atol=0.03):
            raise Incorrect(
                f"{shown} is close to the right values but not equal to them. Use exactly "
                "`n_repeats=5, random_state=0` and the default scoring, on `default_model`."
            )
        raise Incorrect(
            f"{shown} is not the mean permutation importance of `default_model` on the test "
            "split (5 repeats, random_state=0, default scoring), one value per column."
        )

    def _leak(self, leaky_feature) -> str:
        columns = list(_loans()[1].columns)
        name = _name(leaky_feature, "leaky_feature")
        if name not in columns:
            raise Incorrect(
                f"`leaky_feature` = {show(name)} is not a column of X_test. Copy the name "
                "exactly as it appears in `X_test.columns`."
            )
        if name == _LEAK:
            return name
        shown = f"`leaky_feature` = {show(name)}"
        if name in _PLAUSIBLE:
            raise Incorrect(
                f"{shown}: this feature matters, but it is plausible: a lender knows it on the "
                "day of the application. Look for a value that could only be known after the "
                "outcome."
            )
        if name == _SECOND_LEAK:
            raise Incorrect(
                f"{shown} is not the column whose shuffling costs the model most accuracy on "
                "the test split: compare the importances before you read the data dictionary."
            )
        raise Incorrect(
            f"{shown} is known when the loan is applied for, so it cannot leak the outcome. "
            "Look for the column whose shuffling hurts the model most, then ask when its value "
            "is recorded."
        )

    def verify(self, test_importance, leaky_feature) -> None:
        self._importance(test_importance, atol=1e-4)
        self._leak(leaky_feature)

    def verify_hidden(self, seed: int, test_importance, leaky_feature) -> None:
        self._importance(test_importance, atol=1e-9)
        self._leak(leaky_feature)


@key_for(m01.q4)
class HonestAccuracy(Question):
    tolerance = {"rtol": 1e-6, "atol": 1e-12}

    def references(self):
        ref = _accuracy_reference()
        return {"second_leak": _SECOND_LEAK, "honest_accuracy": ref["honest_test"],
                "baseline_accuracy": ref["majority_test"]}

    def verify_graded(self, seed, second_leak, honest_accuracy, baseline_accuracy):
        self.verify(second_leak, honest_accuracy, baseline_accuracy)  # variables only

    def _second(self, second_leak) -> None:
        columns = list(_loans()[1].columns)
        name = _name(second_leak, "second_leak")
        shown = f"`second_leak` = {show(name)}"
        if name not in columns:
            raise Incorrect(
                f"{shown} is not a column of X_test. Copy the name exactly as it appears in "
                "`X_test.columns`."
            )
        if name == _SECOND_LEAK:
            return
        if name == _LEAK:
            raise Incorrect(
                f"{shown} is the leak you already removed in question 3. Refit without it, "
                "measure the importances again, and read the data dictionary for the new top "
                "column."
            )
        if name in _PLAUSIBLE:
            raise Incorrect(
                f"{shown}: this feature carries real signal, and a lender knows it on the day of "
                "the application, so it cannot leak the outcome. Which column is recorded only "
                "after the loan is granted?"
            )
        raise Incorrect(
            f"{shown} is known when the loan is applied for, and it is not what the refitted "
            "model leans on. Recompute the test-split importances without the first leak."
        )

    def _judge(self, second_leak, honest_accuracy, baseline_accuracy, rtol: float) -> None:
        self._second(second_leak)
        ref = _accuracy_reference()
        honest = as_float(honest_accuracy, "honest_accuracy")
        base = as_float(baseline_accuracy, "baseline_accuracy")

        def near(a: float, b: float) -> bool:
            return close(a, b, rtol=rtol, atol=1e-12)

        shown = f"`honest_accuracy` = {show(honest)}"
        if not near(honest, ref["honest_test"]):
            if near(honest, ref["one_leak_test"]):
                raise Incorrect(
                    f"{shown} is the accuracy with only the first leak removed: that model still "
                    "leans on the second leak. Drop both leaky columns, refit, then score."
                )
            if near(honest, ref["other_leak_test"]):
                raise Incorrect(
                    f"{shown} is the accuracy with only the second leak removed: the strongest "
                    "leak is still in it. Drop both leaky columns, refit, then score."
                )
            if near(honest, ref["honest_train"]):
                raise Incorrect(
                    f"{shown} is the accuracy on the training split, which the forest has "
                    "already seen. Score the refitted model on the test rows."
                )
            if near(honest, ref["leak_test"]) or near(honest, ref["leak_train"]):
                raise Incorrect(
                    f"{shown} is what the model scores with the leaks still in it. Drop the "
                    "leaky columns from both X_train and X_test, refit, then score."
                )
            if near(honest, 100 * ref["honest_test"]):
                raise Incorrect(
                    f"{shown} looks like a percentage; give a fraction between 0 and 1."
                )
            raise Incorrect(
                f"{shown} is not the test accuracy of `clone(default_model)` refitted on X_train "
                "without the leaky columns (and scored on X_test without them)."
            )
        shown = f"`baseline_accuracy` = {show(base)}"
        if near(base, ref["majority_test"]):
            return
        if near(base, ref["minority_test"]) or near(base, ref["minority_train"]):
            raise Incorrect(
                f"{shown} is the share of the minority class (defaults are the smaller group). "
                "The baseline predicts the most frequent class, so its accuracy is that "
                "class's share."
            )
        if near(base, ref["majority_train"]):
            raise Incorrect(
                f"{shown} is the majority share in y_train. A baseline is compared with the "
                "model on the same rows: measure it on y_test."
            )
        if near(base, 100 * ref["majority_test"]):
            raise Incorrect(f"{shown} looks like a percentage; give a fraction between 0 and 1.")
        raise Incorrect(
            f"{shown} is not the accuracy on the test split of always predicting the most "
            "frequent class."
        )

    def verify(self, second_leak, honest_accuracy, baseline_accuracy) -> None:
        self._judge(second_leak, honest_accuracy, baseline_accuracy, rtol=1e-6)

    def verify_hidden(self, seed: int, second_leak, honest_accuracy, baseline_accuracy) -> None:
        self._judge(second_leak, honest_accuracy, baseline_accuracy, rtol=1e-12)


# --------------------------------------------------------------------------------------------
# q5: local contributions of a standardised logistic regression
# --------------------------------------------------------------------------------------------

_WINE = {"C": 0.1, "max_iter": 1000}
#: The wine whose top feature the notebook asks for (a position in the test split), and the rows
#: the visible check calls the function on (others, so that no stored result gives it away).
_WINE_ROW = 13
_VISIBLE_ROWS = (0, 7)


@functools.lru_cache(maxsize=1)
def _wine():
    """``(model, X_test)``: the setup cell's pipeline on scikit-learn's wine table, cultivar A
    (``class_0``) against the other two, a stratified 30 % test split."""
    from sklearn.datasets import load_wine
    from sklearn.model_selection import train_test_split

    wine = load_wine(as_frame=True)
    y = (wine.target == 0).astype(int)
    X_train, X_test, y_train, _ = train_test_split(
        wine.data, y, test_size=0.3, stratify=y, random_state=0
    )
    model = wire.fitted([(StandardScaler, {}), (LogisticRegression, _WINE)], X_train, y_train)
    return model, X_test


def _parts(model, x_row: pd.Series) -> dict[str, np.ndarray]:
    """The right contributions and the arrays that the catalogued mistakes give."""
    scaler, logreg = model[0], model[-1]
    x = x_row.to_numpy(dtype=float)
    coef = logreg.coef_[0].astype(float)
    z = (x - scaler.mean_) / scaler.scale_
    return {
        "right": coef * z,
        "raw": coef * x,
        "coef": coef,
        "centred": coef * (x - scaler.mean_),
        "z": z,
    }


def _synthetic_model(rng: np.random.Generator):
    """A fresh standardised logistic regression on made-up features with very unequal scales."""
    p = int(rng.integers(4, 8))
    names = [
        f"{w}_{i}"
        for i, w in enumerate(
            rng.choice(["dose", "pulse", "weight", "score", "level", "count"], size=p)
        )
    ]
    centre = rng.uniform(-50, 500, size=p)
    spread = rng.uniform(0.5, 80, size=p)
    X = pd.DataFrame(centre + spread * rng.standard_normal((200, p)), columns=names)
    w = rng.normal(0, 1.5, size=p)
    y = (rng.random(200) < 1 / (1 + np.exp(-((X - centre) / spread).to_numpy() @ w))).astype(int)
    model = wire.fitted([(StandardScaler, {}), (LogisticRegression, {"C": 0.5, "max_iter": 1000})],
                        X, y)
    return model, X


@key_for(m01.q5)
class LocalContributions(Question):
    def references(self):
        model, X_test = _wine()
        parts = _parts(model, X_test.iloc[_WINE_ROW])
        return {
            "local_contributions": lambda model, x_row: pd.Series(
                _parts(model, x_row)["right"], index=x_row.index),
            "top_feature_wine": str(X_test.columns[int(np.argmax(np.abs(parts["right"])))]),
        }

    def _judge(self, func, model, x_row: pd.Series, where: str = "") -> np.ndarray:
        names = list(x_row.index)
        result = _call_in(where, func, "local_contributions", copy.deepcopy(model), x_row.copy())
        parts = _parts(model, x_row)
        if type(result) is np.ndarray:
            try:
                plain = as_array(result, "local_contributions(model, x_row)")
            except Incorrect:
                plain = None
            if plain is not None and allclose(plain.ravel(), parts["right"], rtol=1e-6, atol=1e-9):
                raise Incorrect(
                    f"{where}`local_contributions` returned the right numbers as a NumPy array, without "
                    "feature names: nobody can tell which number belongs to which feature. "
                    "Return `pd.Series(values, index=x_row.index)`."
                )
        got = _series_by_label(result, "local_contributions(model, x_row)", names, "feature")
        if allclose(got, parts["right"], rtol=1e-6, atol=1e-9):
            return got
        shown = f"{where}`local_contributions(model, x_row)` returned {show(result)}, which"
        mistakes = (
            (
                -parts["right"],
                "has every sign flipped: a positive contribution should push the "
                "log-odds of class 1 up. Use coef * z, not -coef * z.",
            ),
            (
                parts["raw"],
                "multiplies the coefficients by the raw feature values. The model "
                "was fitted on standardised features: use z = (x - mean) / scale "
                "from the pipeline's scaler (forgot to standardise).",
            ),
            (
                parts["coef"],
                "is the same for every row: these are the global "
                "coefficients, not this row's local contributions.",
            ),
            (
                np.abs(parts["coef"]),
                "is the same for every row: a global ranking by "
                "|coefficient|, not this row's local contributions.",
            ),
            (
                np.abs(parts["right"]),
                "holds absolute values: keep the sign, it says whether "
                "the feature pushes towards class 1 or away from it.",
            ),
            (parts["centred"], "subtracts the mean but does not divide by the scale."),
            (parts["z"], "is the standardised row itself; multiply it by the coefficients."),
        )
        for value, why in mistakes:
            if allclose(got, value, rtol=1e-6, atol=1e-9):
                raise Incorrect(f"{shown} {why}")
        raise Incorrect(
            f"{shown} are not coef_j * z_j, the log-odds contributions of the standardised "
            "features for this row."
        )

    def _top(self, top_feature_wine) -> None:
        model, X_test = _wine()
        x_row = X_test.iloc[_WINE_ROW]
        names = list(X_test.columns)
        name = _name(top_feature_wine, "top_feature_wine")
        if name not in names:
            raise Incorrect(
                f"`top_feature_wine` = {show(name)} is not a feature name; copy it exactly "
                "from the index of your Series."
            )
        parts = _parts(model, x_row)
        if name == names[int(np.argmax(np.abs(parts["right"])))]:
            return
        shown = f"`top_feature_wine` = {show(name)}"
        raw_top = name == names[int(np.argmax(np.abs(parts["raw"])))]
        if raw_top and name == names[int(np.argmax(np.abs(parts["coef"])))]:
            raise Incorrect(
                f"{shown} tops two wrong rankings at once: the global one by |coefficient|, "
                "and raw values times coefficients (a feature in large units wins). For this "
                "wine, standardise the row and rank the local contributions coef * z by "
                "absolute value."
            )
        if raw_top:
            raise Incorrect(
                f"{shown} is the top feature when the raw values are multiplied by the "
                "coefficients (a feature measured in large units wins); standardise the row "
                "first."
            )
        if name == names[int(np.argmax(np.abs(parts["coef"])))]:
            raise Incorrect(
                f"{shown} has the largest |coefficient|: that is the global ranking. For this "
                "wine, rank the local contributions coef * z by absolute value."
            )
        if (
            name == names[int(np.argmax(parts["right"]))]
            or name == names[int(np.argmin(parts["right"]))]
        ):
            raise Incorrect(
                f"{shown} has the largest signed contribution in one direction; rank by the "
                "absolute contribution instead."
            )
        raise Incorrect(
            f"{shown} does not have the largest absolute contribution for "
            f"Xw_test.iloc[{_WINE_ROW}]."
        )

    def verify(self, local_contributions, top_feature_wine) -> None:
        model, X_test = _wine()
        for i in _VISIBLE_ROWS:
            self._judge(local_contributions, model, X_test.iloc[i])
        self._top(top_feature_wine)

    def verify_hidden(self, seed: int, local_contributions, top_feature_wine) -> None:
        self.verify(local_contributions, top_feature_wine)
        rng = np.random.default_rng(seed)
        for _ in range(2):
            model, X = _synthetic_model(rng)
            where = f"On a new pipeline with {X.shape[1]} features (drawn at grading time), "
            for i in rng.choice(len(X), size=2, replace=False):
                self._judge(local_contributions, model, X.iloc[int(i)], where=where)


# The decorator turns each class into its question instance: by label, and as q1 ... q5.
q1, q2, q3, q4, q5 = FractionCorrect, Taxonomy, LeakDetective, HonestAccuracy, LocalContributions
QUESTIONS = {q.label: q for q in (q1, q2, q3, q4, q5)}
