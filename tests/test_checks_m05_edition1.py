"""Assignment 05, retired first edition (grader/editions.py): its checks (the key,
editions/05-evaluation-metrics/1/key.py): right answers pass,
named mistakes fail.

Fast unit tests: the checks' ``verify``/``verify_hidden`` are called directly with the values a
student would define (no notebook is executed). The mutant catalogue in
``editions/05-evaluation-metrics/1/mutants.yml`` is proved against the executed notebook by
``grader verify``; these tests pin the same mistakes at the unit level, plus the tiers around
them (not attempted, wrong type, crashes) and the rule that feedback never shows the expected
value.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest
from conftest import no_return as _no_return
from conftest import unfinished as _unfinished
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import (
    accuracy_score,
    balanced_accuracy_score,
    mean_absolute_error,
    precision_recall_fscore_support,
    r2_score,
    recall_score,
    roc_auc_score,
    root_mean_squared_error,
)
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from grader.checks import Incorrect, NotAttempted
from grader.checks import m05_edition1 as student_m05
from grader.checks.offline import load_key_file
from grader.datasets import breast_cancer_split

KEY = Path(__file__).resolve().parents[1] / "editions/05-evaluation-metrics/1/key.py"
m05 = load_key_file(KEY)
THRESHOLDS = np.round(np.arange(0.05, 0.96, 0.05), 2)
SEEDS = (0, 1, 7, 5011, 5023, 5039, 5087, 20240)


# --- the notebook's setup, rebuilt here as a student would have it -----------------------------
def _setup():
    X_train, X_test, y_train, y_test = breast_cancer_split()
    model = make_pipeline(StandardScaler(), LogisticRegression(C=0.05)).fit(X_train, y_train)
    X_f, y_f = make_classification(n_samples=2000, weights=[0.95, 0.05], flip_y=0, random_state=0)
    Xf_train, Xf_test, yf_train, yf_test = train_test_split(X_f, y_f, test_size=0.3, random_state=1)
    fraud_model = LogisticRegression(C=0.01).fit(Xf_train, yf_train)
    return dict(
        X_train=X_train, X_test=X_test, y_train=y_train, y_test=y_test, model=model,
        yf_train=yf_train, yf_test=yf_test, yf_pred=fraud_model.predict(Xf_test),
    )  # fmt: skip


NB = _setup()


# --- right answers: the notebook's solutions and a second, library-based version --------------
def confusion_counts(y_true, y_pred, pos_label):
    actual = np.asarray(y_true) == pos_label
    predicted = np.asarray(y_pred) == pos_label
    return (
        int(np.sum(actual & predicted)),
        int(np.sum(~actual & predicted)),
        int(np.sum(actual & ~predicted)),
        int(np.sum(~actual & ~predicted)),
    )


def confusion_counts_lists(y_true, y_pred, pos_label):
    """Loops and a list return: also accepted."""
    tp = fp = fn = tn = 0
    for t, p in zip(list(y_true), list(y_pred), strict=True):
        if t == pos_label:
            tp, fn = (tp + 1, fn) if p == pos_label else (tp, fn + 1)
        else:
            fp, tn = (fp + 1, tn) if p == pos_label else (fp, tn + 1)
    return [tp, fp, fn, tn]


def precision_recall_f1(y_true, y_pred, pos_label):
    tp, fp, fn, _ = confusion_counts(y_true, y_pred, pos_label)
    precision = tp / (tp + fp) if tp + fp > 0 else 0.0
    recall = tp / (tp + fn) if tp + fn > 0 else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall > 0 else 0.0
    return float(precision), float(recall), float(f1)


def precision_recall_f1_sklearn(y_true, y_pred, pos_label):
    labels = sorted({*np.asarray(y_true).tolist(), *np.asarray(y_pred).tolist(), pos_label})
    p, r, f, _ = precision_recall_fscore_support(y_true, y_pred, labels=labels, zero_division=0.0)
    i = labels.index(pos_label)
    return p[i], r[i], f[i]  # NumPy floats


def choose_threshold(p_pos, y_true, pos_label, min_recall):
    p_pos = np.asarray(p_pos, dtype=float)
    actual = np.asarray(y_true) == pos_label
    best = THRESHOLDS[0]
    for t in THRESHOLDS:
        if np.sum((p_pos >= t) & actual) / np.sum(actual) >= min_recall:
            best = t
    return float(best)


def choose_threshold_vectorised(p_pos, y_true, pos_label, min_recall):
    actual = np.asarray(y_true) == pos_label
    recalls = np.array([recall_score(actual, np.asarray(p_pos) >= t) for t in THRESHOLDS])
    ok = THRESHOLDS[recalls >= min_recall]
    return ok.max() if ok.size else THRESHOLDS[0]  # a NumPy float


def regression_metrics(y_true, y_pred):
    y_true = np.asarray(y_true, dtype=float)
    y_pred = np.asarray(y_pred, dtype=float)
    err = y_true - y_pred
    return {
        "mae": float(np.mean(np.abs(err))),
        "rmse": float(np.sqrt(np.mean(err**2))),
        "r2": float(1 - np.sum(err**2) / np.sum((y_true - y_true.mean()) ** 2)),
    }


def regression_metrics_sklearn(y_true, y_pred):
    return {
        "r2": r2_score(y_true, y_pred),
        "rmse": root_mean_squared_error(y_true, y_pred),
        "mae": mean_absolute_error(y_true, y_pred),
    }


def p_malignant():
    return NB["model"].predict_proba(NB["X_test"])[:, 0]


def q3_values(func=choose_threshold, probs=None):
    probs = p_malignant() if probs is None else probs
    return dict(
        choose_threshold=func,
        p_malignant=probs,
        threshold_malignant=func(probs, NB["y_test"], 0, 0.95),
    )


def auc_right():
    return roc_auc_score(NB["y_test"] == 0, p_malignant())


def q5_values(**change):
    yt, yp = NB["yf_test"], NB["yf_pred"]
    values = dict(
        baseline_accuracy=float(np.mean(yt == 0)),
        balanced_acc=balanced_accuracy_score(yt, yp),
        minority_recall=recall_score(yt, yp, pos_label=1),
        report_to_fraud_team=3,
    )
    values.update(change)
    return values


RIGHT = {
    "q1": [dict(confusion_counts=confusion_counts), dict(confusion_counts=confusion_counts_lists)],
    "q2": [
        dict(precision_recall_f1=precision_recall_f1),
        dict(precision_recall_f1=precision_recall_f1_sklearn),
    ],
    "q3": [q3_values(), q3_values(choose_threshold_vectorised)],
    "q4": [dict(auc_malignant=auc_right()), dict(auc_malignant=np.float64(auc_right()))],
    "q5": [q5_values(), q5_values(report_to_fraud_team=np.int64(3))],
    "q6": [
        dict(regression_metrics=regression_metrics),
        dict(regression_metrics=regression_metrics_sklearn),
    ],
}
QUESTIONS = {f"q{i}": getattr(m05, f"q{i}") for i in range(1, 7)}


@pytest.mark.parametrize(
    "label, values", [(q, v) for q, vs in RIGHT.items() for v in vs], ids=lambda x: str(x)[:12]
)
def test_right_answers_pass_visible_and_hidden(label, values):
    question = QUESTIONS[label]
    question.verify(**values)
    for seed in SEEDS:
        question.verify_hidden(seed=seed, **values)


# --- the catalogued mistakes -------------------------------------------------------------------
def _q1_mistake(order=None, label=None, other=False):
    def f(y_true, y_pred, pos_label):
        pos = pos_label if label is None else label
        actual, predicted = np.asarray(y_true) == pos, np.asarray(y_pred) == pos
        if other:
            actual, predicted = ~actual, ~predicted
        c = dict(
            tp=int(np.sum(actual & predicted)),
            fp=int(np.sum(~actual & predicted)),
            fn=int(np.sum(actual & ~predicted)),
            tn=int(np.sum(~actual & ~predicted)),
        )
        return tuple(c[k] for k in (order or ("tp", "fp", "fn", "tn")))

    return f


def _ravel(y_true, y_pred, pos_label):
    from sklearn.metrics import confusion_matrix

    return tuple(confusion_matrix(y_true, y_pred).ravel())


def _q2_mistake(kind):
    def f(y_true, y_pred, pos_label):
        pos = 1 if kind == "pos" else pos_label
        tp, fp, fn, _ = confusion_counts(y_true, y_pred, pos)
        if kind in ("nan", "raise"):
            if kind == "nan":
                tp, fp, fn = np.int64(tp), np.int64(fp), np.int64(fn)
            p, r = tp / (tp + fp), tp / (tp + fn)
            return float(p), float(r), float(2 * p * r / (p + r))
        p = tp / (tp + fp) if tp + fp else 0.0
        r = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * p * r / (p + r) if p + r else 0.0
        if kind == "swap":
            return r, p, f1
        if kind == "mean":
            return p, r, (p + r) / 2
        return p, r, f1

    return f


def _q3_mistake(kind):
    def f(p_pos, y_true, pos_label, min_recall):
        p = np.asarray(p_pos, dtype=float)
        actual = np.asarray(y_true) == pos_label
        if kind == "default":
            return 0.5
        if kind == "flip" and pos_label == 0:
            p = 1 - p
        if kind == "accuracy":
            return float(THRESHOLDS[np.argmax([np.mean((p >= t) == actual) for t in THRESHOLDS])])
        ok = [
            t
            for t in THRESHOLDS
            if np.sum(((p > t) if kind == "strict" else (p >= t)) & actual) / np.sum(actual)
            >= min_recall
        ]
        if not ok:
            return float(THRESHOLDS[0])
        return float(min(ok) if kind == "smallest" else max(ok))

    return f


def _q6_mistake(kind):
    def f(y_true, y_pred):
        y, yh = np.asarray(y_true, float), np.asarray(y_pred, float)
        err = y - yh
        sse = np.sum(err**2)
        out = regression_metrics(y, yh)
        if kind == "mse":
            out["rmse"] = float(np.mean(err**2))
        elif kind == "mae_sq":
            out["mae"] = float(np.mean(err**2))
        elif kind == "r2_pred_mean":
            out["r2"] = float(1 - sse / np.sum((y - yh.mean()) ** 2))
        elif kind == "r2_swapped":
            out["r2"] = float(r2_score(yh, y))
        elif kind == "r2_ratio":
            out["r2"] = float(sse / np.sum((y - y.mean()) ** 2))
        return out

    return f


def _q4(value):
    return dict(auc_malignant=value)


_proba_test = NB["model"].predict_proba(NB["X_test"])
_proba_train = NB["model"].predict_proba(NB["X_train"])
_yf = NB["yf_test"]

MISTAKES = [
    # (question, values, text the message must contain, tuple of reference numbers it must not show)
    ("q1", dict(confusion_counts=_q1_mistake(("tp", "fn", "fp", "tn"))), "fp/fn swapped"),
    ("q1", dict(confusion_counts=_q1_mistake(label=1)), "`pos_label` is ignored"),
    ("q1", dict(confusion_counts=_ravel), "confusion_matrix(y_true, y_pred).ravel()"),
    ("q1", dict(confusion_counts=_q1_mistake(("tn", "fp", "fn", "tp"))), "tp/tn swapped"),
    ("q1", dict(confusion_counts=_q1_mistake(other=True)), "*other* class as positive"),
    ("q2", dict(precision_recall_f1=_q2_mistake("swap")), "precision and recall are swapped"),
    ("q2", dict(precision_recall_f1=_q2_mistake("mean")), "arithmetic mean"),
    ("q2", dict(precision_recall_f1=_q2_mistake("pos")), "`pos_label` is ignored"),
    ("q2", dict(precision_recall_f1=_q2_mistake("nan")), "zero-division case gave nan"),
    ("q2", dict(precision_recall_f1=_q2_mistake("raise")), "This is a zero-division case"),
    ("q3", q3_values(_q3_mistake("default")), "default 0.5 threshold"),
    ("q3", q3_values(_q3_mistake("smallest")), "smallest threshold"),
    ("q3", q3_values(probs=_proba_test[:, 1]), "*benign*"),
    ("q3", q3_values(_q3_mistake("accuracy")), "best accuracy"),
    ("q3", q3_values(_q3_mistake("flip")), "1 - p_pos"),
    ("q3", q3_values(_q3_mistake("strict")), "strictly greater"),
    ("q3", q3_values(probs=NB["model"].predict(NB["X_test"]).astype(float)), "hard labels"),
    ("q4", _q4(roc_auc_score(NB["y_test"] == 0, NB["model"].predict(NB["X_test"]) == 0)), "hard labels"),
    ("q4", _q4(roc_auc_score(NB["y_test"], _proba_test[:, 0])), "orientation"),
    ("q4", _q4(roc_auc_score(NB["y_train"] == 0, _proba_train[:, 0])), "training split"),
    ("q5", q5_values(balanced_acc=accuracy_score(_yf, NB["yf_pred"])), "plain accuracy"),
    ("q5", q5_values(minority_recall=recall_score(_yf, NB["yf_pred"], pos_label=0)), "majority class"),
    ("q5", q5_values(baseline_accuracy=float(np.mean(NB["yf_train"] == 0))), "training split"),
    ("q5", q5_values(baseline_accuracy=float(np.mean(_yf == 1))), "*minority*"),
    ("q5", q5_values(report_to_fraud_team=1), "wrong headline"),
    ("q5", q5_values(report_to_fraud_team=2), "does not act on"),
    ("q5", q5_values(report_to_fraud_team=4), "precision tells"),
    ("q6", dict(regression_metrics=_q6_mistake("mse")), "without the sqrt"),
    ("q6", dict(regression_metrics=_q6_mistake("mae_sq")), "uses squared errors"),
    ("q6", dict(regression_metrics=_q6_mistake("r2_pred_mean")), "mean of the predictions"),
    ("q6", dict(regression_metrics=_q6_mistake("r2_swapped")), "swapped arguments"),
    ("q6", dict(regression_metrics=_q6_mistake("r2_ratio")), "1 minus that ratio"),
]  # fmt: skip


def _references(label: str, message: str) -> list[str]:
    """The expected answer(s) of the case a message is about, formatted as a message might print them."""
    ref = m05._cancer()
    if label in ("q1", "q2"):
        cases = m05._Q1_CASES if label == "q1" else m05._Q2_CASES
        compute = m05._counts if label == "q1" else m05._prf
        show = str if label == "q1" else m05._fmt
        for t, p, pos in cases:
            yt, yp = np.array(t), np.array(p)
            if message.startswith(
                f"For y_true={m05._lst(yt)}, y_pred={m05._lst(yp)}, pos_label={pos}"
            ):
                return [show(compute(yt, yp, pos))]
        return [show(compute(ref.y_test, ref.pred_test, 0))]
    if label == "q3":
        return [f"returned {m05._choose(ref.proba_test[:, 0], ref.y_test, 0, 0.95):g}"]
    if label == "q4":
        numbers = [m05._auc(ref.proba_test[:, 0], ref.y_test == 0)]
    elif label == "q5":
        r = m05._q5_refs()
        numbers = [r["baseline"], r["balanced"], r["rec1"]]
    else:
        d = m05._diabetes()
        toy = m05._regression(*(np.array(v) for v in m05._Q6_CASE))
        numbers = [*toy.values(), *m05._regression(d.y_test, d.pred_test).values()]
    out = []
    for v in numbers:
        out += [f"{v:.4g}", f"{v:.4f}", f"{v:.6g}"]
    return out


@pytest.mark.parametrize("label, values, named", MISTAKES, ids=[m[2][:24] for m in MISTAKES])
def test_mistakes_are_named_and_the_answer_is_not_shown(label, values, named):
    question = QUESTIONS[label]
    with pytest.raises(Incorrect) as visible:
        question.verify(**values)
    message = str(visible.value)
    assert named in message
    assert not isinstance(visible.value, NotAttempted)
    for shown in _references(label, message):
        assert shown not in message, f"{label} feedback reveals the expected value {shown}"
    with pytest.raises(Incorrect):
        question.verify_hidden(seed=5051, **values)


@pytest.mark.parametrize("kind, named", [("flip", "1 - p_pos"), ("smallest", "smallest threshold")])
def test_hidden_q3_names_the_mistake_even_where_two_mistakes_coincide(kind, named):
    """On fresh random cases the flipped probabilities and the smallest threshold can give the same
    value; the hidden feedback then names both, so it never names only the wrong one."""
    for seed in range(1, 40):
        with pytest.raises(Incorrect) as hidden:
            m05.q3.verify_hidden(seed=seed, **q3_values(_q3_mistake(kind)))
        assert named in str(hidden.value), (seed, str(hidden.value))


def test_rounded_auc_passes_visible_but_not_hidden():
    rounded = round(auc_right(), 3)
    m05.q4.verify(auc_malignant=rounded)
    with pytest.raises(Incorrect, match="do not round"):
        m05.q4.verify_hidden(seed=1, auc_malignant=rounded)


def test_rounded_imbalance_values_fail_hidden():
    values = q5_values(balanced_acc=round(q5_values()["balanced_acc"], 3))
    m05.q5.verify(**values)
    with pytest.raises(Incorrect, match="do not round"):
        m05.q5.verify_hidden(seed=1, **values)


def test_toy_cases_separate_every_threshold_mistake():
    """Each q3 mistake gives a different answer from the right one on some visible toy case."""
    for kind in ("default", "smallest", "accuracy", "flip", "strict"):
        wrong = _q3_mistake(kind)
        assert any(
            wrong(np.array(p), np.array(y), pos, r)
            != choose_threshold(np.array(p), np.array(y), pos, r)
            for p, y, pos, r in m05._Q3_CASES
        ), kind


# --- not attempted, wrong types and crashes: feedback, never a traceback -----------------------
def _crashes(*args, **kwargs):
    return {}["mae"]


@pytest.mark.parametrize("label", ["q1", "q2", "q3", "q6"])
def test_unwritten_functions_are_not_attempted(ns, label):
    question = QUESTIONS[label]
    with pytest.raises(NotAttempted, match="not defined yet"):
        question.check()
    values = {**RIGHT[label][0]}
    fname = question.names[0]
    for stub, kind in (
        (_unfinished, NotAttempted),
        (_no_return, NotAttempted),
        (_crashes, Incorrect),
    ):
        ns.clear()
        ns.update(values, **{fname: stub})
        with pytest.raises(kind) as info:
            question.check()
        assert f"`{fname}" in str(info.value)
    ns.clear()
    ns.update(values, **{fname: ...})
    with pytest.raises(NotAttempted, match="placeholder"):
        question.check()
    ns[fname] = 42
    with pytest.raises(Incorrect, match="should be a function"):
        question.check()


@pytest.mark.parametrize("label", ["q4", "q5"])
def test_missing_or_placeholder_values_are_not_attempted(ns, label):
    question = QUESTIONS[label]
    with pytest.raises(NotAttempted, match="not defined yet"):
        question.check()
    ns.update(RIGHT[label][0], **{question.names[0]: None})
    with pytest.raises(NotAttempted, match="placeholder"):
        question.check()


@pytest.mark.parametrize(
    "label, values, text",
    [
        ("q1", dict(confusion_counts=lambda t, p, pos: np.array([1, 2, 3, 4])), "tuple of 4"),
        ("q1", dict(confusion_counts=lambda t, p, pos: (1, 2, 3)), "4 values"),
        ("q1", dict(confusion_counts=lambda t, p, pos: (1.0, 2.0, 3.0, 4.0)), "whole number"),
        ("q2", dict(precision_recall_f1=lambda t, p, pos: 0.5), "tuple of 3"),
        ("q2", dict(precision_recall_f1=lambda t, p, pos: ("a", "b", "c")), "single number"),
        ("q3", q3_values(lambda p, y, pos, r: 6), "not one of the values in THRESHOLDS"),
        ("q3", {**q3_values(), "p_malignant": _proba_test}, "1-D array"),
        ("q4", dict(auc_malignant="0.99"), "single number"),
        ("q4", dict(auc_malignant=[0.99]), "single number"),
        ("q4", dict(auc_malignant=1.7), "between 0 and 1"),
        ("q4", dict(auc_malignant=True), "boolean"),
        ("q5", q5_values(report_to_fraud_team=7), "one of 1, 2, 3 or 4"),
        ("q5", q5_values(report_to_fraud_team="3"), "whole number"),
        ("q5", q5_values(minority_recall=19.05), "between 0 and 1"),
        ("q6", dict(regression_metrics=lambda y, p: [1.0, 2.0, 0.5]), "should be a dict"),
        ("q6", dict(regression_metrics=lambda y, p: {"MAE": 1.0, "RMSE": 2.0, "R2": 0.5}), "lower case"),
        ("q6", dict(regression_metrics=lambda y, p: {"mae": 1.0, "rmse": float("nan"), "r2": 0.5}), "finite"),
    ],
)  # fmt: skip
def test_wrong_types_get_a_clear_message(label, values, text):
    with pytest.raises(Incorrect, match=None) as info:
        QUESTIONS[label].verify(**values)
    assert text in str(info.value)


class AlwaysEqual(float):
    """A hostile answer: equal to everything, minus anything is 0."""

    def __eq__(self, other):
        return True

    __hash__ = float.__hash__

    def __sub__(self, other):
        return 0.0


def test_hostile_objects_are_not_trusted():
    with pytest.raises(Incorrect, match="single number"):
        m05.q4.verify(auc_malignant=AlwaysEqual(0.1))
    with pytest.raises(Incorrect):
        m05.q1.verify(confusion_counts=lambda t, p, pos: tuple(AlwaysEqual(0) for _ in range(4)))
    with pytest.raises(Incorrect):
        m05.q5.verify(**q5_values(report_to_fraud_team=AlwaysEqual(3)))


def test_student_inputs_are_copies(ns):
    """A student function that scribbles on its inputs cannot change later references."""

    def vandal(y_true, y_pred, pos_label):
        out = confusion_counts(y_true, y_pred, pos_label)
        y_true[:] = 0
        y_pred[:] = 1
        return out

    m05.q1.verify(confusion_counts=vandal)
    m05.q1.verify(confusion_counts=confusion_counts)


def test_checks_are_quiet(ns, capsys):
    def noisy(y_true, y_pred, pos_label):
        warnings.warn("a student's warning", UserWarning, stacklevel=1)
        return precision_recall_f1(y_true, y_pred, pos_label)

    for label, values in RIGHT.items():
        ns.clear()
        ns.update(values[0])
        if label == "q2":
            ns["precision_recall_f1"] = noisy
        QUESTIONS[label].check()
        QUESTIONS[label].check_hidden(seed=3)
    out = capsys.readouterr()
    assert out.err == ""
    assert out.out.count("Correct") == 12


def test_exports_and_hints():
    assert sorted(student_m05.__all__) == sorted([f"q{i}" for i in range(1, 7)] + ["FRAUD_OPTIONS"])
    for question in QUESTIONS.values():
        assert 2 <= len(question.hints) <= 3
        assert question.label in repr(question)
