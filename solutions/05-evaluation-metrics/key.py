"""The answer key of assignment 05, "Evaluation metrics": instructor-only, never released.

``grader release`` and ``nbgrader generate_assignment`` skip this file (``nbgrader_config.py``
ignores ``key.py``). It holds what the student-side package must not: the reference
computations, the diagnosis code of every check (``verify``, ``verify_hidden``, ``verify_graded``),
and for each question its *reference answers*
(``references()``: a reference value or function for each name the student defines). The grader
loads it outside the student's kernel (:mod:`grader.judging`); see ``docs/authoring.md``.

Every reference is recomputed here from the seeded data in :mod:`grader.datasets` and
scikit-learn's generators (the models are rebuilt once and cached). The data and models differ
from the lecture's on purpose: a 15-nearest-neighbour model on breast cancer (the lecture: a
logistic regression), synthetic card transactions (the lecture: ``make_classification``),
Friedman #1 for regression (the lecture: diabetes), costs in money for a threshold (the lecture:
a recall target), and fresh random inputs in every hidden test. Toy cases are asymmetric on
purpose (FP != FN, precision != recall, mean of the predictions != mean of the targets) so that
each classic mistake gives a different answer from the right one, and each mistake is named.
"""

from __future__ import annotations

import functools
from types import SimpleNamespace

import numpy as np
from sklearn.datasets import make_friedman1
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from grader.checks import m05
from grader.checks.core import Incorrect, Question, call, key_for, unrounded
from grader.checks.values import as_array, as_dict, as_float, as_int, as_tuple, close, show
from grader.datasets import breast_cancer_split, make_card_fraud

#: The key's questions, by label.
__all__ = ["QUESTIONS"]

#: The threshold grid of q3 (the notebook's setup cell defines the same ``THRESHOLDS``).
_THRESHOLDS = np.round(np.arange(0.05, 0.96, 0.05), 2)

# --- reference data, rebuilt from seeds (cached: the checks run many times) ------------------
@functools.lru_cache(maxsize=1)
def _cancer() -> SimpleNamespace:
    """The notebook's breast-cancer model: standard split, 15 nearest neighbours on scaled data."""
    split = breast_cancer_split()
    model = make_pipeline(StandardScaler(), KNeighborsClassifier(n_neighbors=15))
    model.fit(split.X_train, split.y_train)
    proba_test = model.predict_proba(split.X_test)
    proba_train = model.predict_proba(split.X_train)
    return SimpleNamespace(
        y_test=split.y_test.to_numpy(dtype=int),
        y_train=split.y_train.to_numpy(dtype=int),
        pred_test=model.predict(split.X_test).astype(int),
        pred_train=model.predict(split.X_train).astype(int),
        proba_test=proba_test,
        proba_train=proba_train,
    )


@functools.lru_cache(maxsize=1)
def _fraud() -> SimpleNamespace:
    """The notebook's card transactions: 6 % frauds, a plain 60/40 split, a scaled logistic
    regression; ``p_test``/``p_train`` are the predicted probabilities of fraud (class 1)."""
    X, y = make_card_fraud()
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.4, random_state=1)
    model = make_pipeline(StandardScaler(), LogisticRegression()).fit(X_train, y_train)
    return SimpleNamespace(
        y=y.to_numpy(dtype=int),
        y_train=y_train.to_numpy(dtype=int),
        y_test=y_test.to_numpy(dtype=int),
        pred_test=model.predict(X_test).astype(int),
        p_test=model.predict_proba(X_test)[:, 1],
        p_train=model.predict_proba(X_train)[:, 1],
    )


@functools.lru_cache(maxsize=1)
def _friedman() -> SimpleNamespace:
    """The notebook's regression: Friedman #1 (600 rows), a linear regression, 30 % test split."""
    X, y = make_friedman1(n_samples=600, noise=1.0, random_state=5)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, random_state=0)
    model = LinearRegression().fit(X_train, y_train)
    return SimpleNamespace(y_test=np.asarray(y_test, dtype=float), pred_test=model.predict(X_test))


# --- small helpers -----------------------------------------------------------------------------
def _lst(a: np.ndarray) -> str:
    """A short literal for a small input array, e.g. ``[1, 0, 0.45]``."""
    vals = [f"{v:g}" if isinstance(v, (int, float, np.number)) else repr(str(v))
            for v in np.asarray(a).ravel()[:20]]
    more = ", ..." if np.asarray(a).size > 20 else ""
    return "[" + ", ".join(vals) + more + "]"


def _fmt(values: tuple) -> str:
    return "(" + ", ".join(f"{v:.4g}" if isinstance(v, float) else str(v) for v in values) + ")"


def _all_close(a: tuple, b: tuple, **tol: float) -> bool:
    return len(a) == len(b) and all(close(x, y, **tol) for x, y in zip(a, b, strict=True))


def _safe_div(num: float, den: float) -> float:
    return float(num) / float(den) if den else 0.0


# --- reference computations ---------------------------------------------------------------------
def _counts(y_true: np.ndarray, y_pred: np.ndarray, pos) -> tuple[int, int, int, int]:
    actual, predicted = y_true == pos, y_pred == pos
    return (
        int(np.sum(actual & predicted)),
        int(np.sum(~actual & predicted)),
        int(np.sum(actual & ~predicted)),
        int(np.sum(~actual & ~predicted)),
    )


def _prf(y_true: np.ndarray, y_pred: np.ndarray, pos) -> tuple[float, float, float]:
    tp, fp, fn, _ = _counts(y_true, y_pred, pos)
    precision, recall = _safe_div(tp, tp + fp), _safe_div(tp, tp + fn)
    return precision, recall, _safe_div(2 * precision * recall, precision + recall)


def _recall_at(p: np.ndarray, is_pos: np.ndarray, t: float, strict: bool = False) -> float:
    flagged = p > t if strict else p >= t
    return _safe_div(np.sum(flagged & is_pos), np.sum(is_pos))


def _choose(
    p: np.ndarray,
    y: np.ndarray,
    pos,
    min_recall: float,
    *,
    smallest: bool = False,
    strict: bool = False,
    flip: bool = False,
    as_label=None,
) -> float:
    """The q3 reference, and (through the keywords) what each classic mistake returns."""
    is_pos = y == (pos if as_label is None else as_label)
    scores = 1.0 - p if flip else p
    ok = [t for t in _THRESHOLDS if _recall_at(scores, is_pos, t, strict) >= min_recall]
    if not ok:
        return float(_THRESHOLDS[0])
    return float(min(ok) if smallest else max(ok))


def _accuracy_thresholds(p: np.ndarray, y: np.ndarray, pos) -> set[float]:
    """The grid thresholds (first and last) that maximise accuracy: the "maximise accuracy" mistake."""
    acc = np.array([np.mean((p >= t) == (y == pos)) for t in _THRESHOLDS])
    best = np.flatnonzero(acc == acc.max())
    return {float(_THRESHOLDS[best[0]]), float(_THRESHOLDS[best[-1]])}


def _auc(scores: np.ndarray, is_pos: np.ndarray) -> float:
    """ROC-AUC as the probability that a random positive outscores a random negative (ties 1/2)."""
    pos, neg = scores[is_pos], scores[~is_pos]
    diff = pos[:, None] - neg[None, :]
    return float((np.sum(diff > 0) + 0.5 * np.sum(diff == 0)) / (pos.size * neg.size))


def _regression(y: np.ndarray, yhat: np.ndarray) -> dict[str, float]:
    err = y - yhat
    sse = float(np.sum(err**2))
    return {
        "mae": float(np.mean(np.abs(err))),
        "rmse": float(np.sqrt(np.mean(err**2))),
        "r2": 1.0 - sse / float(np.sum((y - y.mean()) ** 2)),
    }


# =================================================================================================
# q1: confusion counts
# =================================================================================================
_Q1_CASES = (
    # (y_true, y_pred, pos_label): tp=3, fp=1, fn=2, tn=4 for class 1; (4, 2, 1, 3) for class 0
    ([1, 1, 1, 1, 1, 0, 0, 0, 0, 0], [1, 1, 1, 0, 0, 1, 0, 0, 0, 0], 1),
    ([1, 1, 1, 1, 1, 0, 0, 0, 0, 0], [1, 1, 1, 0, 0, 1, 0, 0, 0, 0], 0),
    ([0, 1, 1, 0, 1, 1, 1, 0, 1, 1, 0, 1], [0, 1, 0, 1, 1, 1, 1, 1, 1, 0, 1, 1], 0),
    # Three string labels, one against the rest: tp=3, fp=2, fn=1, tn=5 for "dog".
    (["dog", "cat", "dog", "bird", "dog", "cat", "bird", "dog", "cat", "bird", "cat"],
     ["dog", "dog", "dog", "bird", "cat", "cat", "dog", "dog", "bird", "cat", "cat"], "dog"),
)


def _q1_run(func, y_true: np.ndarray, y_pred: np.ndarray, pos, where: str) -> None:
    try:
        got = call(func, "confusion_counts", y_true.copy(), y_pred.copy(), pos)
    except Incorrect as exc:
        if y_true.dtype.kind != "U" or "raised" not in str(exc):
            raise
        raise Incorrect(
            f"{where}: {exc} The labels here are strings: a negative is a sample whose label is "
            "anything other than pos_label, so compare with pos_label instead of computing the "
            "negative label from it."
        ) from None
    items = as_tuple(got, "confusion_counts", 4)
    got = tuple(
        as_int(v, f"confusion_counts(...)[{i}] ({n})")
        for i, (v, n) in enumerate(zip(items, ("tp", "fp", "fn", "tn"), strict=True))
    )
    ref = _counts(y_true, y_pred, pos)
    if got == ref:  # plain ints on both sides
        return
    tp, fp, fn, tn = ref
    said = f"{where}, `confusion_counts` returned {got}"
    if pos != 1 and got == _counts(y_true, y_pred, 1):
        raise Incorrect(
            f"{said}: these are the counts with class 1 as the positive class. `pos_label` is "
            f"ignored: with pos_label={pos!r}, a positive is a sample whose label equals pos_label."
        )
    if got == (tp, fn, fp, tn):
        raise Incorrect(
            f"{said}: fp/fn swapped. A false positive is *predicted* positive but actually "
            "negative; a false negative is actually positive but predicted negative."
        )
    if got == (tn, fp, fn, tp):
        raise Incorrect(
            f"{said}: tp/tn swapped. This is also what returning "
            "`confusion_matrix(y_true, y_pred).ravel()` gives: its order is (tn, fp, fn, tp), not "
            "the (tp, fp, fn, tn) this function must return."
        )
    if got == (tn, fn, fp, tp):
        raise Incorrect(
            f"{said}: these are the counts with the *other* class as positive. Compare each "
            "label with pos_label rather than assuming which label is positive."
        )
    n = y_true.size
    if sum(got) != n:
        raise Incorrect(
            f"{said}, but the four counts should add up to the number of samples ({n}) and yours "
            f"add up to {sum(got)}. Every sample falls in exactly one cell: with more than two "
            "labels, a negative is a sample whose label is anything other than pos_label."
        )
    raise Incorrect(f"{said}; these are not the right counts. Check each of tp, fp, fn and tn.")


@key_for(m05.q1)
class ConfusionCounts(Question):
    def references(self):
        return {"confusion_counts": lambda y_true, y_pred, pos_label=1: _counts(
            np.asarray(y_true), np.asarray(y_pred), pos_label)}

    def verify(self, confusion_counts):
        for y_true, y_pred, pos in _Q1_CASES:
            yt, yp = np.array(y_true), np.array(y_pred)
            where = f"For y_true={_lst(yt)}, y_pred={_lst(yp)}, pos_label={pos}"
            _q1_run(confusion_counts, yt, yp, pos, where)
        data = _cancer()
        where = (
            "On the breast-cancer test split (the model's predictions, pos_label=0 for malignant)"
        )
        _q1_run(confusion_counts, data.y_test, data.pred_test, 0, where)

    def verify_hidden(self, seed, confusion_counts):
        rng = np.random.default_rng(seed)
        for k in range(8):
            n = int(rng.integers(15, 60))
            y_true = (rng.random(n) < rng.uniform(0.2, 0.6)).astype(int)
            y_pred = np.where(rng.random(n) < 0.75, y_true, 1 - y_true)
            pos = k % 2 if k < 6 else int(rng.integers(0, 2))
            if k == 6:  # three labels, one against the rest (each label occurs)
                y_true = np.resize(np.arange(3), n)[rng.permutation(n)]
                y_pred = np.where(rng.random(n) < 0.7, y_true, rng.integers(0, 3, n))
                pos = int(rng.choice([0, 2]))
            where = f"On a fresh random case (n={n}, labels {sorted(set(y_true.tolist()))}, pos_label={pos})"
            _q1_run(confusion_counts, y_true, y_pred, pos, where)


# =================================================================================================
# q2: precision, recall, F1
# =================================================================================================
_Q2_CASES = _Q1_CASES[:2] + (
    ([0, 1, 1, 0, 1, 1, 1, 0, 1, 1, 0, 1], [0, 1, 0, 0, 1, 1, 0, 1, 1, 0, 0, 1], 0),
    _Q1_CASES[3],
)
# Zero denominators: nothing predicted positive; no actual positive; neither.
_Q2_ZERO_CASES = (
    ([1, 0, 1, 0, 0, 1], [0, 0, 0, 0, 0, 0], 1, "nothing is predicted positive (TP + FP = 0)"),
    ([0, 0, 0, 0, 0, 0], [1, 0, 1, 0, 0, 0], 1, "no sample is actually positive (TP + FN = 0)"),
    ([1, 1, 1, 1], [1, 1, 1, 1], 0, "pos_label never occurs (every denominator is 0)"),
)


def _q2_values(func, y_true, y_pred, pos, *, finite: bool = True) -> tuple[float, float, float]:
    got = call(func, "precision_recall_f1", y_true.copy(), y_pred.copy(), pos)
    items = as_tuple(got, "precision_recall_f1", 3)
    names = ("precision", "recall", "f1")
    return tuple(
        as_float(v, f"{n} (item {i} of the tuple)", finite=finite)
        for i, (v, n) in enumerate(zip(items, names, strict=True))
    )


def _q2_diagnose(got, y_true, y_pred, pos, where: str) -> None:
    ref = _prf(y_true, y_pred, pos)
    if _all_close(got, ref):
        return
    p, r, f = ref
    said = f"{where}, `precision_recall_f1` returned {_fmt(got)}"
    if pos != 1 and _all_close(got, _prf(y_true, y_pred, 1)):
        raise Incorrect(
            f"{said}: these are the values for class 1. `pos_label` is ignored: with "
            f"pos_label={pos!r}, count a sample as positive when its label equals pos_label."
        )
    if _all_close(got[:2], (r, p)):
        raise Incorrect(
            f"{said}: precision and recall are swapped. Precision divides TP by everything "
            "*predicted* positive (TP + FP); recall divides TP by everything *actually* positive "
            "(TP + FN)."
        )
    if _all_close(got[:2], (p, r)) and close(got[2], (p + r) / 2):
        raise Incorrect(
            f"{said}: your F1 is the arithmetic mean (precision + recall) / 2. F1 is their "
            "*harmonic* mean, 2PR / (P + R), which is pulled towards the smaller of the two."
        )
    if _all_close(got[:2], (p, r)):
        raise Incorrect(f"{said}: precision and recall are right, but F1 is not.")
    raise Incorrect(f"{said}; these are not the right values. Recount TP, FP and FN first.")


@key_for(m05.q2)
class PrecisionRecallF1(Question):
    def references(self):
        return {"precision_recall_f1": lambda y_true, y_pred, pos_label=1: _prf(
            np.asarray(y_true), np.asarray(y_pred), pos_label)}

    def verify(self, precision_recall_f1):
        for y_true, y_pred, pos in _Q2_CASES:
            yt, yp = np.array(y_true), np.array(y_pred)
            where = f"For y_true={_lst(yt)}, y_pred={_lst(yp)}, pos_label={pos}"
            got = _q2_values(precision_recall_f1, yt, yp, pos)
            _q2_diagnose(got, yt, yp, pos, where)
        for y_true, y_pred, pos, why in _Q2_ZERO_CASES:
            self._zero_case(precision_recall_f1, np.array(y_true), np.array(y_pred), pos, why)
        data = _cancer()
        where = (
            "On the breast-cancer test split (the model's predictions, pos_label=0 for malignant)"
        )
        got = _q2_values(precision_recall_f1, data.y_test, data.pred_test, 0)
        _q2_diagnose(got, data.y_test, data.pred_test, 0, where)

    @staticmethod
    def _zero_case(func, yt, yp, pos, why: str) -> None:
        where = f"For y_true={_lst(yt)}, y_pred={_lst(yp)}, pos_label={pos}, where {why}"
        try:
            got = _q2_values(func, yt, yp, pos, finite=False)
        except Incorrect as exc:
            if "raised" not in str(exc):
                raise
            raise Incorrect(
                f"{where}, your function raised an error: {exc} This is a zero-division case: the "
                "assignment asks for 0.0 wherever a denominator is zero, so test the denominator "
                "before dividing."
            ) from None
        if any(not np.isfinite(v) for v in got):
            raise Incorrect(
                f"{where}, `precision_recall_f1` returned {_fmt(got)}: a zero-division case gave "
                "nan or inf. The assignment asks for 0.0 wherever a denominator is zero."
            )
        _q2_diagnose(got, yt, yp, pos, where)

    def verify_hidden(self, seed, precision_recall_f1):
        rng = np.random.default_rng(seed)
        for k in range(8):
            n = int(rng.integers(15, 60))
            y_true = (rng.random(n) < rng.uniform(0.2, 0.6)).astype(int)
            y_pred = np.where(rng.random(n) < rng.uniform(0.6, 0.9), y_true, 1 - y_true)
            pos = k % 2
            if k == 7:  # a model that never predicts the positive class
                y_pred = np.full(n, 1 - pos)
                self._zero_case(
                    precision_recall_f1, y_true, y_pred, pos, "nothing is predicted positive"
                )
                continue
            got = _q2_values(precision_recall_f1, y_true, y_pred, pos)
            _q2_diagnose(
                got, y_true, y_pred, pos, f"On a fresh random case (n={n}, pos_label={pos})"
            )


# =================================================================================================
# q3: choose a threshold for a target recall
# =================================================================================================
_Q3_CASES = (
    # (p_pos, y_true, pos_label, min_recall). Case 1: a positive sits exactly on the answer.
    (
        [0.93, 0.82, 0.71, 0.58, 0.45, 0.27]  # the six positives
        + [0.62, 0.53, 0.52, 0.48, 0.38, 0.33, 0.21, 0.15, 0.09, 0.06],  # the ten negatives
        [1] * 6 + [0] * 10,
        1,
        0.7,
    ),
    # Case 2: pos_label=0, so p_pos is the probability of class 0.
    (
        [0.97, 0.84, 0.76, 0.64, 0.36, 0.23, 0.81, 0.57, 0.42, 0.31, 0.26, 0.12, 0.08, 0.04],
        [0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1],
        0,
        0.75,
    ),
)
# No grid threshold reaches the target recall (a positive has p < 0.05).
_Q3_NONE_CASE = ([0.9, 0.7, 0.03, 0.6, 0.2, 0.1], [1, 1, 1, 0, 0, 0], 1, 0.9)


def _q3_value(func, p, y, pos, min_recall) -> float:
    got = call(func, "choose_threshold", p.copy(), y.copy(), pos, min_recall)
    t = as_float(got, "choose_threshold(...)")
    if not np.any(np.abs(_THRESHOLDS - t) < 1e-9):
        raise Incorrect(
            f"`choose_threshold` returned {show(got)}, which is not one of the values in "
            "THRESHOLDS. Return the threshold itself (e.g. `THRESHOLDS[i]`), not its position "
            "or a recall."
        )
    return t


def _q3_diagnose(t: float, p, y, pos, min_recall, where: str) -> None:
    """Name the mistake that explains ``t``. On a random case two mistakes can give the same
    threshold (e.g. the smallest qualifying threshold and the flipped probabilities): then the
    feedback names every mistake that explains it, never only the first one tried."""
    ref = _choose(p, y, pos, min_recall)
    if close(t, ref):
        return
    said = f"{where}, `choose_threshold` returned {t:g}"
    if close(t, 0.5):
        raise Incorrect(
            f"{said}: that is the default 0.5 threshold that `predict` uses. Search the grid for the "
            "largest threshold whose recall is at least min_recall."
        )
    found = []
    if pos != 1 and close(t, _choose(p, y, pos, min_recall, as_label=1)):
        found.append(
            f"this is the answer for the recall of class 1. `pos_label` is ignored: with "
            f"pos_label={pos!r}, recall counts the samples whose label equals pos_label."
        )
    if close(t, _choose(p, y, pos, min_recall, smallest=True)):
        found.append(
            "the smallest threshold that reaches the recall target. We want the *largest* "
            "one: lowering the threshold only adds positives, so the smallest qualifying threshold "
            "is just the one that flags the most samples (and the most false alarms)."
        )
    if close(t, _choose(p, y, pos, min_recall, flip=True)):
        found.append(
            "this is the answer for 1 - p_pos, the other class's probability. `p_pos` is "
            "already the probability of pos_label: predict positive when p_pos >= t, without "
            "flipping it."
        )
    if close(t, _choose(p, y, pos, min_recall, strict=True)):
        found.append(
            "you predict positive only when p_pos is strictly greater than t. The prompt "
            "says a sample is predicted positive when p_pos >= t."
        )
    if not found and any(close(t, a) for a in _accuracy_thresholds(p, y, pos)):
        found.append(
            "the threshold with the best accuracy. The task is different: keep the recall "
            "of the positive class at or above min_recall, and among those thresholds take the "
            "largest."
        )
    _raise_named(said, found,
                 f"{said}, which is not the largest threshold whose recall is at least {min_recall:g}. "
                 "Compute the recall at every threshold in THRESHOLDS and check it.")


def _raise_named(said: str, found: list[str], otherwise: str) -> None:
    """Raise Incorrect naming the one known mistake that gives the student's value, or each of
    several (on this case they coincide), or else ``otherwise``."""
    if len(found) == 1:
        raise Incorrect(f"{said}: {found[0]}")
    if found:
        raise Incorrect(
            f"{said}. On this case {len(found)} known mistakes give that value; check each: "
            + " Or: ".join(f"({i}) {text}" for i, text in enumerate(found, 1))
        )
    raise Incorrect(otherwise)


def _q3_none_case(func) -> None:
    p, y, pos, min_recall = (np.array(v) if isinstance(v, list) else v for v in _Q3_NONE_CASE)
    where = (
        f"For p_pos={_lst(p)}, y_true={_lst(y)}, pos_label={pos}, min_recall={min_recall:g}, "
        "where no threshold in the grid reaches the target"
    )
    try:
        t = _q3_value(func, p, y, pos, min_recall)
    except Incorrect as exc:
        raise Incorrect(
            f"{where}: {exc} When no threshold qualifies, return THRESHOLDS[0], the threshold with "
            "the highest recall the grid allows (see the prompt)."
        ) from None
    if not close(t, float(_THRESHOLDS[0])):
        raise Incorrect(
            f"{where}, `choose_threshold` returned {t:g}. When no threshold qualifies, the prompt "
            "asks for THRESHOLDS[0]."
        )


def _q3_variables(p_malignant, threshold_malignant) -> None:
    data = _cancer()
    p = as_array(p_malignant, "p_malignant")
    n = data.y_test.size
    if p.shape != (n,):
        raise Incorrect(
            f"`p_malignant` should be a 1-D array with one probability per test row ({n}), but it "
            f"has shape {p.shape}. Take one column of `model.predict_proba(X_test)`."
        )
    if np.allclose(p, data.proba_test[:, 1], atol=1e-9):
        raise Incorrect(
            "`p_malignant` holds the probabilities of column 1, which is *benign* (in this dataset "
            "0 = malignant, 1 = benign). Check `model.classes_` to see which column is which."
        )
    if np.all(np.isin(p, (0.0, 1.0))):
        raise Incorrect(
            f"`p_malignant` holds only 0s and 1s ({show(p_malignant)}): hard labels, not "
            "probabilities. Use `model.predict_proba`, not `model.predict`."
        )
    if not np.allclose(p, data.proba_test[:, 0], atol=1e-9):
        raise Incorrect(
            f"`p_malignant` ({show(p_malignant)}) is not the model's predicted probability of "
            "malignant on the test split."
        )
    t = as_float(threshold_malignant, "threshold_malignant")
    ref = _choose(data.proba_test[:, 0], data.y_test, 0, 0.95)
    if not close(t, ref):
        if close(t, _choose(data.proba_test[:, 1], data.y_test, 0, 0.95)):
            raise Incorrect(
                f"`threshold_malignant` = {t:g} comes from the *benign* probabilities. Pass "
                "p_malignant and pos_label=0."
            )
        raise Incorrect(
            f"`threshold_malignant` = {t:g} is not `choose_threshold(p_malignant, y_test, "
            "pos_label=0, min_recall=0.95)`. Recompute it after your function passes."
        )


@key_for(m05.q3)
class ChooseThreshold(Question):
    def references(self):
        data = _cancer()
        return {
            "choose_threshold": lambda p_pos, y_true, pos_label, min_recall: _choose(
                np.asarray(p_pos, dtype=float), np.asarray(y_true), pos_label, min_recall),
            "p_malignant": data.proba_test[:, 0].copy(),
            "threshold_malignant": _choose(data.proba_test[:, 0], data.y_test, 0, 0.95),
        }

    def verify(self, choose_threshold, p_malignant, threshold_malignant):
        for p, y, pos, min_recall in _Q3_CASES:
            p, y = np.array(p), np.array(y)
            where = (
                f"For p_pos={_lst(p)}, y_true={_lst(y)}, pos_label={pos}, min_recall={min_recall:g}"
            )
            t = _q3_value(choose_threshold, p, y, pos, min_recall)
            _q3_diagnose(t, p, y, pos, min_recall, where)
        _q3_none_case(choose_threshold)
        data = _cancer()
        p = data.proba_test[:, 0]
        t = _q3_value(choose_threshold, p, data.y_test, 0, 0.95)
        where = "On the breast-cancer test split (malignant probabilities, pos_label=0, min_recall=0.95)"
        _q3_diagnose(t, p, data.y_test, 0, 0.95, where)
        _q3_variables(p_malignant, threshold_malignant)

    def verify_hidden(self, seed, choose_threshold, p_malignant, threshold_malignant):
        rng = np.random.default_rng(seed)
        for k in range(8):
            n = int(rng.integers(30, 90))
            pos = k % 2
            is_pos = rng.random(n) < rng.uniform(0.25, 0.5)
            is_pos[:2] = (True, False)
            score = rng.normal(1.2, 1.0, n) * is_pos - rng.normal(0.3, 1.0, n) * ~is_pos
            # Two decimals, like a rounded report: some scores sit exactly on a grid value.
            p = np.clip(np.round(1 / (1 + np.exp(-2 * score)), 2), 0.0, 1.0)
            y = np.where(is_pos, pos, 1 - pos)
            n_pos = int(is_pos.sum())
            min_recall = float(rng.uniform(0.6, 0.97))
            # Keep min_recall off the achievable recalls k / n_pos, so rounding never decides.
            while np.min(np.abs(np.arange(n_pos + 1) / n_pos - min_recall)) < 1e-6:
                min_recall += 1e-4
            t = _q3_value(choose_threshold, p, y, pos, min_recall)
            where = f"On a fresh random case (n={n}, pos_label={pos}, min_recall={min_recall:.3f})"
            _q3_diagnose(t, p, y, pos, min_recall, where)
        _q3_none_case(choose_threshold)
        _q3_variables(p_malignant, threshold_malignant)


# =================================================================================================
# q4: ROC-AUC for malignant
# =================================================================================================
def _q4_diagnose(auc: float, tol: float) -> None:
    data = _cancer()
    malignant = data.y_test == 0
    ref = _auc(data.proba_test[:, 0], malignant)
    if close(auc, ref, rtol=0, atol=tol):
        return
    said = f"`auc_malignant` = {auc:.4g}"
    if auc < 0.5:
        raise Incorrect(
            f"{said} is below 0.5, worse than guessing: an orientation problem. The scores rank "
            "the other class (benign) higher, e.g. `roc_auc_score(y_test, p_malignant)` treats "
            "label 1 (benign) as positive. Score malignant with the malignant probability and "
            "mark malignant as the positive class (`y_test == 0`)."
        )
    hard = {
        _auc((data.pred_test == 0).astype(float), malignant),
        _auc((data.pred_train == 0).astype(float), data.y_train == 0),
    }
    if any(close(auc, h, rtol=0, atol=1e-6) for h in hard):
        raise Incorrect(
            f"{said} comes from hard labels (`model.predict`). AUC measures how well *scores* rank "
            "the cases across every threshold; with 0/1 labels there is only one threshold. Use "
            "`model.predict_proba`."
        )
    if close(auc, _auc(data.proba_train[:, 0], data.y_train == 0), rtol=0, atol=1e-6):
        raise Incorrect(
            f"{said} is computed on the training split. The model has seen those rows, so the "
            "number is optimistic: use X_test and y_test."
        )
    raise Incorrect(
        f"{said} is not the ROC-AUC of the model's malignant probabilities on the test split."
    )


@key_for(m05.q4)
class AucMalignant(Question):
    tolerance = {"rtol": 0.0, "atol": 1e-3}

    def references(self):
        data = _cancer()
        return {"auc_malignant": _auc(data.proba_test[:, 0], data.y_test == 0)}

    def verify_graded(self, seed, auc_malignant):
        self.verify(auc_malignant=auc_malignant)  # a variable: no fresh inputs to draw

    def verify(self, auc_malignant):
        auc = as_float(auc_malignant, "auc_malignant")
        if not 0.0 <= auc <= 1.0:
            raise Incorrect(f"`auc_malignant` = {auc:.4g}, but an AUC lies between 0 and 1.")
        _q4_diagnose(auc, tol=1e-3)

    def verify_hidden(self, seed, auc_malignant):
        # Exact: a different computation (pairwise ranking), to full precision.
        auc = as_float(auc_malignant, "auc_malignant")
        self.verify(auc_malignant=auc)
        try:
            _q4_diagnose(auc, tol=1e-9)
        except Incorrect:
            raise Incorrect(
                "`auc_malignant` is close to the right value but not equal to it. Compute it with "
                "`roc_auc_score` and do not round it."
            ) from None


# =================================================================================================
# q5: imbalance
# =================================================================================================
def _q5_refs() -> dict[str, float]:
    data = _fraud()
    yt, yp = data.y_test, data.pred_test
    tp, fp, fn, tn = _counts(yt, yp, 1)
    rec1, rec0 = _safe_div(tp, tp + fn), _safe_div(tn, tn + fp)
    return {
        "baseline": float(np.mean(yt == 0)),
        "baseline_train": float(np.mean(data.y_train == 0)),
        "baseline_all": float(np.mean(data.y == 0)),
        "accuracy": (tp + tn) / yt.size,
        "balanced": (rec0 + rec1) / 2,
        "rec1": rec1,
        "rec0": rec0,
        "prec1": _safe_div(tp, tp + fp),
    }


def _q5_check(baseline_accuracy, balanced_acc, minority_recall, tol):
    r = _q5_refs()

    def near(a: float, b: float) -> bool:
        return close(a, b, rtol=0, atol=tol)

    def prob(value, name: str) -> float:
        v = as_float(value, name)
        if not 0.0 <= v <= 1.0:
            raise Incorrect(f"`{name}` = {v:.4g}, but it is a proportion between 0 and 1.")
        return v

    b = prob(baseline_accuracy, "baseline_accuracy")
    if not near(b, r["baseline"]):
        said = f"`baseline_accuracy` = {b:.4g}"
        if near(b, r["baseline_train"]):
            raise Incorrect(
                f"{said} is the majority share of the training split. The baseline is scored on the "
                "same rows as the model: predict the majority class for every row of the test split."
            )
        if near(b, r["baseline_all"]):
            raise Incorrect(
                f"{said} uses the whole data set; score the baseline on the test split."
            )
        if near(b, 1 - r["baseline"]):
            raise Incorrect(
                f"{said} is the share of the *minority* class. The baseline always predicts the "
                "majority class, so its accuracy is the majority's share."
            )
        if near(b, r["accuracy"]):
            raise Incorrect(
                f"{said} is the model's accuracy. The baseline ignores the features and predicts "
                "the majority class for every row."
            )
        raise Incorrect(
            f"{said} is not the accuracy of always predicting the majority class on the test split."
        )

    ba = prob(balanced_acc, "balanced_acc")
    if not near(ba, r["balanced"]):
        said = f"`balanced_acc` = {ba:.4g}"
        if near(ba, r["accuracy"]):
            raise Incorrect(
                f"{said} is plain accuracy. Balanced accuracy is the mean of the recall of each "
                "class, so the rare class counts as much as the common one "
                "(`balanced_accuracy_score`)."
            )
        raise Incorrect(
            f"{said} is not the model's balanced accuracy on the test split: average the recall of "
            "the two classes."
        )

    mr = prob(minority_recall, "minority_recall")
    if not near(mr, r["rec1"]):
        said = f"`minority_recall` = {mr:.4g}"
        if near(mr, r["rec0"]):
            raise Incorrect(
                f"{said} is the recall of the majority class (label 0). The minority (fraud) class is "
                "label 1: pass pos_label=1 to `recall_score`."
            )
        if near(mr, r["prec1"]):
            raise Incorrect(
                f"{said} is the precision of the fraud class. Recall divides by all *actual* frauds."
            )
        raise Incorrect(f"{said} is not the recall of the fraud class (label 1) on the test split.")


@key_for(m05.q5)
class Imbalance(Question):
    tolerance = {"rtol": 0.0, "atol": 1e-3}

    def references(self):
        r = _q5_refs()
        return {"baseline_accuracy": r["baseline"], "balanced_acc": r["balanced"],
                "minority_recall": r["rec1"]}

    def verify_graded(self, seed, **values):
        self.verify(**values)  # variables: no fresh inputs to draw

    def verify(self, baseline_accuracy, balanced_acc, minority_recall):
        _q5_check(baseline_accuracy, balanced_acc, minority_recall, tol=1e-3)

    def verify_hidden(
        self, seed, baseline_accuracy, balanced_acc, minority_recall
    ):
        values = (baseline_accuracy, balanced_acc, minority_recall)
        unrounded(
            lambda tol: _q5_check(*values, tol=tol), 1e-3, 1e-9,
            "One of `baseline_accuracy`, `balanced_acc` or `minority_recall` is close to the "
            "right value but not equal to it. Compute each one in code and do not round it.",
        )


# =================================================================================================
# q6: regression metrics from scratch
# =================================================================================================
_Q6_CASE = ([3.0, 5.0, 2.5, 8.0, 7.0, 4.0], [2.0, 5.5, 4.0, 6.0, 8.5, 4.5])


def _q6_values(func, y_true, y_pred) -> dict[str, float]:
    got = as_dict(
        call(func, "regression_metrics", y_true.copy(), y_pred.copy()), "regression_metrics(...)"
    )
    keys = sorted(show(k) for k in got)
    for key in ("mae", "rmse", "r2"):
        if key not in [k for k in got if type(k) is str]:
            raise Incorrect(
                f"`regression_metrics` returned a dict with keys {', '.join(keys)}; it needs the "
                'keys "mae", "rmse" and "r2" (lower case).'
            )
    return {k: as_float(got[k], f'regression_metrics(...)["{k}"]') for k in ("mae", "rmse", "r2")}


def _q6_diagnose(got: dict[str, float], y: np.ndarray, yhat: np.ndarray, where: str) -> None:
    ref = _regression(y, yhat)
    err = y - yhat
    sse, mse = float(np.sum(err**2)), float(np.mean(err**2))
    said = f"{where}, `regression_metrics` returned"
    if not close(got["mae"], ref["mae"]):
        if close(got["mae"], mse) or close(got["mae"], ref["rmse"]):
            raise Incorrect(
                f"{said} mae = {got['mae']:.4g}: that uses squared errors. MAE is the mean of the "
                "absolute errors |y - y_hat|."
            )
        raise Incorrect(f"{said} mae = {got['mae']:.4g}, which is not the mean absolute error.")
    if not close(got["rmse"], ref["rmse"]):
        if close(got["rmse"], mse):
            raise Incorrect(
                f"{said} rmse = {got['rmse']:.4g}: that is the MSE, without the sqrt. RMSE is the "
                "square root of the mean squared error, so it has the units of y."
            )
        raise Incorrect(
            f"{said} rmse = {got['rmse']:.4g}, which is not the root mean squared error."
        )
    if not close(got["r2"], ref["r2"]):
        r2 = got["r2"]
        if close(r2, 1 - sse / float(np.sum((y - yhat.mean()) ** 2))):
            raise Incorrect(
                f"{said} r2 = {r2:.4g}: the denominator is centred on the mean of the predictions. "
                "R^2 compares the model with predicting the mean of the *true* values: "
                "1 - SSE / sum((y - mean(y))^2)."
            )
        if close(r2, 1 - sse / float(np.sum((yhat - yhat.mean()) ** 2))):
            raise Incorrect(
                f"{said} r2 = {r2:.4g}: y_true and y_pred are swapped arguments in the total sum of "
                "squares (it uses the spread of the predictions). Use sum((y_true - mean(y_true))^2)."
            )
        if close(r2, sse / float(np.sum((y - y.mean()) ** 2))):
            raise Incorrect(f"{said} r2 = {r2:.4g}: that is SSE / SST. R^2 is 1 minus that ratio.")
        raise Incorrect(f"{said} r2 = {r2:.4g}, which is not R^2.")


@key_for(m05.q6)
class RegressionMetrics(Question):
    def references(self):
        return {"regression_metrics": lambda y_true, y_pred: _regression(
            np.asarray(y_true, dtype=float), np.asarray(y_pred, dtype=float))}

    def verify(self, regression_metrics):
        y, yhat = (np.array(v) for v in _Q6_CASE)
        where = f"For y_true={_lst(y)}, y_pred={_lst(yhat)}"
        _q6_diagnose(_q6_values(regression_metrics, y, yhat), y, yhat, where)
        data = _friedman()
        where = "On the Friedman #1 test split (the linear model's predictions)"
        got = _q6_values(regression_metrics, data.y_test, data.pred_test)
        _q6_diagnose(got, data.y_test, data.pred_test, where)

    def verify_hidden(self, seed, regression_metrics):
        rng = np.random.default_rng(seed)
        for k in range(6):
            n = int(rng.integers(10, 80))
            y = rng.normal(rng.uniform(-50, 150), rng.uniform(1, 40), n)
            slope = 0.3 if k == 5 else rng.uniform(0.5, 1.2)  # the last one has a negative R^2
            yhat = slope * y + rng.normal(rng.uniform(-10, 10), rng.uniform(1, 15), n)
            if k == 5:
                yhat = yhat[::-1].copy()
            got = _q6_values(regression_metrics, y, yhat)
            _q6_diagnose(got, y, yhat, f"On a fresh random case (n={n})")




# =================================================================================================
# q7: the threshold with the lowest cost in money
# =================================================================================================
def _cost_choice(p: np.ndarray, y: np.ndarray, cost_fn: float, cost_fp: float, kind: str = "") -> float:
    """The q7 reference (``kind=""``) and what each classic mistake returns.

    ``swapped``: the two prices exchanged; ``rates``: prices times the miss rate (FN / P) and the
    false positive rate (FP / N) instead of counts, which ignores how rare the positives are;
    ``accuracy``: the threshold of the best accuracy (prices ignored)."""
    is_pos = y == 1
    if kind == "accuracy":
        score = np.array([np.mean((p >= t) == is_pos) for t in _THRESHOLDS])
        return float(_THRESHOLDS[np.flatnonzero(score == score.max())[-1]])
    if kind == "swapped":
        cost_fn, cost_fp = cost_fp, cost_fn
    fn = np.array([np.sum(is_pos & (p < t)) for t in _THRESHOLDS], dtype=float)
    fp = np.array([np.sum(~is_pos & (p >= t)) for t in _THRESHOLDS], dtype=float)
    if kind == "rates":
        fn, fp = fn / max(int(is_pos.sum()), 1), fp / max(int((~is_pos).sum()), 1)
    cost = cost_fn * fn + cost_fp * fp
    best = np.flatnonzero(np.isclose(cost, cost.min(), rtol=1e-12, atol=1e-12))
    return float(_THRESHOLDS[best[0] if kind == "smallest" else best[-1]])


_Q7_MISTAKES = {
    "swapped": "this is the cheapest threshold with the two prices exchanged: cost_fn prices a "
    "*missed* positive (a false negative), cost_fp a false alarm.",
    "rates": "this is the threshold that minimises the prices times the *rates* (FN / positives "
    "and FP / negatives). The team pays per error, so price the *counts*: rates hide how rare "
    "the positives are.",
    "accuracy": "the threshold with the best accuracy. Accuracy prices both errors the same; "
    "here a missed positive and a false alarm have different prices.",
    "smallest": "the smallest of the thresholds that tie for the lowest cost; the prompt asks for "
    "the largest (the fewest flags at the same cost).",
}
# A designed case: 6 positives, 10 negatives, prices 4 and 1. The right answer is 0.55; the
# swapped prices give 0.95, rates 0.15, accuracy 0.6, the smallest tie 0.1, the default 0.5.
_Q7_CASE = (
    [0.73, 0.67, 0.64, 0.62, 0.56, 0.17]  # the six positives
    + [0.76, 0.69, 0.62, 0.57, 0.54, 0.49, 0.36, 0.22, 0.08, 0.03],  # the ten negatives
    [1] * 6 + [0] * 10,
    4.0,
    1.0,
)


def _q7_value(func, p, y, cost_fn, cost_fp) -> float:
    got = call(func, "cheapest_threshold", p.copy(), y.copy(), cost_fn, cost_fp)
    t = as_float(got, "cheapest_threshold(...)")
    if not np.any(np.abs(_THRESHOLDS - t) < 1e-9):
        raise Incorrect(
            f"`cheapest_threshold` returned {show(got)}, which is not one of the values in "
            "THRESHOLDS. Return the threshold itself, not its position or its cost."
        )
    return t


def _q7_diagnose(t: float, p, y, cost_fn, cost_fp, where: str) -> None:
    if close(t, _cost_choice(p, y, cost_fn, cost_fp)):
        return
    said = f"{where}, `cheapest_threshold` returned {t:g}"
    if close(t, 0.5):
        raise Incorrect(
            f"{said}: that is the default threshold of `predict`, which prices both errors the "
            "same. Compute the cost of every threshold in THRESHOLDS."
        )
    found = [text for kind, text in _Q7_MISTAKES.items()
             if close(t, _cost_choice(p, y, cost_fn, cost_fp, kind))]
    _raise_named(said, found,
                 f"{said}, which is not the threshold of the lowest cost_fn * FN + cost_fp * FP. "
                 "Compute the cost at every threshold in THRESHOLDS and check it.")


def _q7_fresh(rng: np.random.Generator, k: int):
    """A fresh case on which the right answer differs from every catalogued mistake (redrawn,
    at most 200 times, until it does)."""
    for _ in range(200):
        n = int(rng.integers(40, 120))
        is_pos = rng.random(n) < rng.uniform(0.06, 0.3)
        is_pos[:2] = (True, False)
        score = rng.normal(1.5, 1.0, n) * is_pos - rng.normal(0.5, 1.0, n) * ~is_pos
        p = np.round(1 / (1 + np.exp(-1.5 * score - rng.uniform(-1.5, 0.5))), 3)
        y = is_pos.astype(int)
        cost_fn = float(rng.integers(5, 60))
        cost_fp = float(rng.integers(1, 6))
        ref = _cost_choice(p, y, cost_fn, cost_fp)
        wrong = [_cost_choice(p, y, cost_fn, cost_fp, kind) for kind in ("swapped", "rates",
                                                                         "accuracy")]
        if not close(ref, 0.5) and all(not close(ref, w) for w in wrong):
            return p, y, cost_fn, cost_fp
    raise RuntimeError("no separating case found")  # pragma: no cover (the tests pin the seeds)


def _q7_variable(fraud_threshold) -> None:
    data = _fraud()
    t = as_float(fraud_threshold, "fraud_threshold")
    ref = _cost_choice(data.p_test, data.y_test, 100.0, 20.0)
    if close(t, ref):
        return
    said = f"`fraud_threshold` = {t:g}"
    if close(t, _cost_choice(1 - data.p_test, data.y_test, 100.0, 20.0)):
        raise Incorrect(
            f"{said} comes from the probability of *legitimate* (column 0 of `predict_proba`). "
            "Check `fraud_model.classes_`: the fraud column is the one of class 1."
        )
    if close(t, _cost_choice(data.p_train, data.y_train, 100.0, 20.0)):
        raise Incorrect(f"{said} is the cheapest threshold on the *training* split; the prompt "
                        "asks for the test split.")
    raise Incorrect(
        f"{said} is not `cheapest_threshold` of the fraud probabilities on the test split with "
        "cost_fn=100 and cost_fp=20. Recompute it after your function passes."
    )


@key_for(m05.q7)
class CheapestThreshold(Question):
    def references(self):
        data = _fraud()
        return {
            "cheapest_threshold": lambda p_pos, y_true, cost_fn, cost_fp: _cost_choice(
                np.asarray(p_pos, dtype=float), np.asarray(y_true), float(cost_fn),
                float(cost_fp)),
            "fraud_threshold": _cost_choice(data.p_test, data.y_test, 100.0, 20.0),
        }

    def verify(self, cheapest_threshold, fraud_threshold):
        p, y, cost_fn, cost_fp = _Q7_CASE
        p, y = np.array(p), np.array(y)
        where = f"For p_pos={_lst(p)}, y_true={_lst(y)}, cost_fn={cost_fn:g}, cost_fp={cost_fp:g}"
        _q7_diagnose(_q7_value(cheapest_threshold, p, y, cost_fn, cost_fp), p, y, cost_fn,
                     cost_fp, where)
        data = _fraud()
        where = "On the fraud test split (fraud probabilities, cost_fn=100, cost_fp=20)"
        t = _q7_value(cheapest_threshold, data.p_test, data.y_test, 100.0, 20.0)
        _q7_diagnose(t, data.p_test, data.y_test, 100.0, 20.0, where)
        _q7_variable(fraud_threshold)

    def verify_hidden(self, seed, cheapest_threshold, fraud_threshold):
        rng = np.random.default_rng(seed)
        for k in range(4):
            p, y, cost_fn, cost_fp = _q7_fresh(rng, k)
            where = (f"On a fresh random case (n={y.size}, cost_fn={cost_fn:g}, "
                     f"cost_fp={cost_fp:g})")
            t = _q7_value(cheapest_threshold, p, y, cost_fn, cost_fp)
            _q7_diagnose(t, p, y, cost_fn, cost_fp, where)
        _q7_variable(fraud_threshold)


# =================================================================================================
# q8: a reliability curve and the Brier score
# =================================================================================================
def _reliability(y, p, pos, n_bins: int, strategy: str, kind: str = "") -> tuple:
    """The q8 reference (``kind=""``): calibration_curve's bins, plus the count per bin; and what
    each classic mistake returns: ``swapped`` axes, ``uniform`` bins whatever the strategy,
    bin ``centres`` instead of the mean predicted probability, the share of label 1 whatever
    ``pos_label`` says (``label1``), and ``empty`` bins kept (as 0)."""
    p = np.asarray(p, dtype=float)
    positive = (np.asarray(y) == (1 if kind == "label1" else pos)).astype(float)
    if strategy == "quantile" and kind != "uniform":
        edges = np.quantile(p, np.linspace(0, 1, n_bins + 1))
    else:
        edges = np.linspace(0, 1, n_bins + 1)
    ids = np.searchsorted(edges[1:-1], p)
    count = np.bincount(ids, minlength=n_bins)
    hits = np.bincount(ids, weights=positive, minlength=n_bins)
    total = np.bincount(ids, weights=p, minlength=n_bins)
    used = count > 0 if kind != "empty" else np.ones(n_bins, dtype=bool)
    safe = np.maximum(count, 1)
    frac, mean = hits[used] / safe[used], total[used] / safe[used]
    if kind == "centres":
        mean = ((edges[:-1] + edges[1:]) / 2)[used]
    if kind == "swapped":
        frac, mean = mean, frac
    return frac, mean, count[used]


_Q8_MISTAKES = {
    "swapped": "the first two arrays are swapped: `fraction_positive` (what happened) comes "
    "first, `mean_predicted` (what the model said) second, as in calibration_curve. On a "
    "reliability plot the mean predicted probability is the x axis.",
    "uniform": "these are equal-width bins, but strategy='quantile' asks for edges at the "
    "quantiles of p_pos, so that every bin holds about the same number of rows.",
    "centres": "`mean_predicted` holds the centres of the bins. Use the mean of p_pos over the "
    "rows in each bin: within a bin the probabilities need not sit in the middle.",
    "label1": "`fraction_positive` is the share of label 1, but pos_label is "
    "{pos!r}: count the rows whose label equals pos_label.",
}


def _q8_arrays(func, y, p, pos, n_bins, strategy) -> tuple:
    got = call(func, "reliability_curve", y.copy(), p.copy(), pos, n_bins, strategy)
    items = as_tuple(got, "reliability_curve", 3)
    names = ("fraction_positive", "mean_predicted", "count")
    return tuple(as_array(v, f"reliability_curve(...)[{i}] ({n})")
                 for i, (v, n) in enumerate(zip(items, names, strict=True)))


def _same(a: tuple, b: tuple) -> bool:
    return all(x.shape == np.shape(y) and np.allclose(x, y, rtol=1e-9, atol=1e-12)
               for x, y in zip(a, b, strict=True))


def _q8_diagnose(got: tuple, y, p, pos, n_bins, strategy, where: str) -> None:
    ref = _reliability(y, p, pos, n_bins, strategy)
    if _same(got, ref):
        return
    said = f"{where}, `reliability_curve` returned arrays of lengths {[a.size for a in got]}"
    if any(a.ndim != 1 or a.size != got[0].size for a in got):
        raise Incorrect(f"{said}: return three 1-D arrays of the same length, one entry per "
                        "non-empty bin.")
    if got[0].size == n_bins and ref[0].size < n_bins and _same(
            got, _reliability(y, p, pos, n_bins, strategy, "empty")):
        raise Incorrect(f"{said}: {n_bins - ref[0].size} of the {n_bins} bins are empty here, and "
                        "your arrays keep them. Drop the bins that hold no row.")
    found = [text.format(pos=pos) for kind, text in _Q8_MISTAKES.items()
             if _same(got, _reliability(y, p, pos, n_bins, strategy, kind))]
    if found:
        raise Incorrect(f"{said}: " + " Or: ".join(found))
    bad = [n for n, a, b in zip(("fraction_positive", "mean_predicted", "count"), got, ref,
                                strict=True) if a.shape != b.shape or not np.allclose(a, b)]
    raise Incorrect(f"{said}; `{bad[0]}` is not right (first array: {show(got[0])}). Check the "
                    "edges and the rule that numbers the bins.")


# Designed cases: 14 rows, no probability on an edge; pos_label=0 in the second.
_Q8_P = [0.03, 0.12, 0.18, 0.27, 0.31, 0.38, 0.44, 0.52, 0.57, 0.66, 0.71, 0.79, 0.86, 0.94]
_Q8_CASES = (
    (_Q8_P, [0, 0, 1, 0, 0, 1, 0, 1, 1, 0, 1, 1, 1, 1], 1, 4, "uniform"),
    (_Q8_P, [1, 1, 0, 1, 1, 0, 1, 1, 0, 0, 0, 1, 0, 0], 0, 4, "quantile"),
    (_Q8_P, [0, 0, 1, 0, 0, 1, 0, 1, 1, 0, 1, 1, 1, 1], 1, 20, "uniform"),  # empty bins
)


def _q8_fresh(rng: np.random.Generator, k: int):
    """Fresh case k: the strategies and positive labels alternate; n is drawn so that no quantile
    edge lands on a probability, and redrawn until every catalogued mistake is separated."""
    strategy = "quantile" if k % 2 == 0 else "uniform"
    pos = 0 if k in (0, 1) else 1
    sparse = k == 3  # many narrow bins over concentrated probabilities: some bins are empty
    n_bins = int(rng.integers(12, 21)) if sparse else int(rng.integers(4, 11))
    for _ in range(200):
        n = int(rng.integers(40, 150))
        if np.gcd(n - 1, n_bins) != 1:
            continue
        shape = (2, 6) if sparse else (0.5, 2)
        p = rng.beta(rng.uniform(*shape), rng.uniform(*shape), n)
        p = np.clip(p, 1e-6, 1 - 1e-6)
        truth = p ** rng.uniform(0.5, 2.0)  # a miscalibrated model: the truth bends away
        y1 = rng.random(n) < truth
        y = np.where(y1, pos, 1 - pos)
        ref = _reliability(y, p, pos, n_bins, strategy)
        kinds = ["swapped", "centres"] + (["uniform"] if strategy == "quantile" else []) + (
            ["label1"] if pos != 1 else []) + (["empty"] if sparse else [])
        if all(not _same(ref, _reliability(y, p, pos, n_bins, strategy, kind)) for kind in kinds):
            return y, p, pos, n_bins, strategy
    raise RuntimeError("no separating case found")  # pragma: no cover (the tests pin the seeds)


def _q8_refs() -> dict[str, float]:
    data = _fraud()
    y = (data.y_test == 1).astype(float)
    rate = float(np.mean(data.y_train == 1))
    return {
        "brier": float(np.mean((data.p_test - y) ** 2)),
        "base": float(np.mean((rate - y) ** 2)),
        "column0": float(np.mean((1 - data.p_test - y) ** 2)),
        "hard": float(np.mean((data.pred_test - y) ** 2)),
        "train": float(np.mean((data.p_train - (data.y_train == 1)) ** 2)),
        "coin": float(np.mean((0.5 - y) ** 2)),
        "test_rate": float(np.mean((np.mean(y) - y) ** 2)),
        "legit_rate": float(np.mean((1 - rate - y) ** 2)),
        "zero": float(np.mean(y)),
    }


def _q8_values(brier_fraud, brier_base_rate, tol: float) -> None:
    r = _q8_refs()

    def near(a: float, b: float) -> bool:
        return close(a, b, rtol=0, atol=tol)

    b = as_float(brier_fraud, "brier_fraud")
    if not 0.0 <= b <= 1.0:
        raise Incorrect(f"`brier_fraud` = {b:.4g}, but a Brier score of probabilities lies "
                        "between 0 and 1.")
    said = f"`brier_fraud` = {b:.4g}"
    if not near(b, r["brier"]):
        if near(b, r["column0"]):
            raise Incorrect(f"{said} scores the wrong class column: the probability of "
                            "*legitimate* (column 0) against y = 1 for a fraud. Use the fraud "
                            "column of `predict_proba` (check `fraud_model.classes_`).")
        if near(b, r["hard"]):
            raise Incorrect(f"{said} is the Brier score of hard labels (`predict`), which is just "
                            "the error rate. The Brier score judges the probabilities.")
        if near(b, r["train"]):
            raise Incorrect(f"{said} is computed on the training split; use the test split.")
        raise Incorrect(f"{said} is not the mean of (p - y)^2 of the fraud probabilities on the "
                        "test split.")
    base = as_float(brier_base_rate, "brier_base_rate")
    said = f"`brier_base_rate` = {base:.4g}"
    exact = {"rtol": 0.0, "atol": 1e-12}
    if close(base, r["test_rate"], **exact) and not close(base, r["base"], **exact):
        # A near miss that any tolerance could pass: named before the value is compared.
        raise Incorrect(f"{said} uses the fraud rate of the *test* split, which a forecaster "
                        "cannot know in advance; use the training split's rate.")
    if not near(base, r["base"]):
        if near(base, r["coin"]):
            raise Incorrect(f"{said} is the score of forecasting 0.5 for everyone. The base-rate "
                            "forecast gives every row the fraud rate of the training split.")
        if near(base, r["legit_rate"]):
            raise Incorrect(f"{said} forecasts the share of *legitimate* transactions as the "
                            "chance of fraud; use the fraud rate (the share of label 1).")
        if near(base, r["zero"]):
            raise Incorrect(f"{said} is the score of forecasting 0 for everyone. The base-rate "
                            "forecast gives every row the training split's fraud rate.")
        if near(base, r["test_rate"]):
            raise Incorrect(f"{said} uses the fraud rate of the *test* split, which a forecaster "
                            "cannot know in advance; use the training split's rate.")
        raise Incorrect(f"{said} is not the Brier score on the test split of forecasting the "
                        "training fraud rate for every transaction.")


@key_for(m05.q8)
class ReliabilityAndBrier(Question):
    tolerance = {"rtol": 0.0, "atol": 1e-4}

    def references(self):
        r = _q8_refs()
        return {
            "reliability_curve": lambda y_true, p_pos, pos_label, n_bins, strategy: _reliability(
                np.asarray(y_true), np.asarray(p_pos, dtype=float), pos_label, int(n_bins),
                strategy),
            "brier_fraud": r["brier"],
            "brier_base_rate": r["base"],
        }

    def verify(self, reliability_curve, brier_fraud, brier_base_rate):
        for p, y, pos, n_bins, strategy in _Q8_CASES:
            p, y = np.array(p), np.array(y)
            where = (f"For y_true={_lst(y)}, p_pos={_lst(p)}, pos_label={pos}, n_bins={n_bins}, "
                     f"strategy={strategy!r}")
            got = _q8_arrays(reliability_curve, y, p, pos, n_bins, strategy)
            _q8_diagnose(got, y, p, pos, n_bins, strategy, where)
        _q8_values(brier_fraud, brier_base_rate, tol=1e-4)

    def verify_graded(self, seed, **values):
        self.verify(**values)
        self._fresh(seed, values["reliability_curve"])

    def _fresh(self, seed, reliability_curve) -> None:
        rng = np.random.default_rng(seed)
        for k in range(4):
            y, p, pos, n_bins, strategy = _q8_fresh(rng, k)
            where = (f"On a fresh random case (n={y.size}, pos_label={pos}, n_bins={n_bins}, "
                     f"strategy={strategy!r})")
            got = _q8_arrays(reliability_curve, y, p, pos, n_bins, strategy)
            _q8_diagnose(got, y, p, pos, n_bins, strategy, where)

    def verify_hidden(self, seed, reliability_curve, brier_fraud, brier_base_rate):
        self._fresh(seed, reliability_curve)
        values = (brier_fraud, brier_base_rate)
        unrounded(
            lambda tol: _q8_values(*values, tol=tol), 1e-4, 1e-9,
            "`brier_fraud` or `brier_base_rate` is close to the right value but not equal to it. "
            "Compute each one in code and do not round it.",
        )


# The decorator turns each class into its question instance: by label, and as q1 ... q8.
q1, q2, q3, q4, q5, q6, q7, q8 = (
    ConfusionCounts, PrecisionRecallF1, ChooseThreshold, AucMalignant, Imbalance, RegressionMetrics,
    CheapestThreshold, ReliabilityAndBrier)
QUESTIONS = {q.label: q for q in (q1, q2, q3, q4, q5, q6, q7, q8)}
