"""Assignment 05 checks (the key, solutions/05-evaluation-metrics/key.py): right answers pass,
named mistakes fail.

Fast unit tests: the checks' ``verify``/``verify_hidden`` are called directly with the values a
student would define (no notebook is executed). The mutant catalogue in
``solutions/05-evaluation-metrics/mutants.yml`` is proved against the executed notebook by
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
from sklearn.calibration import calibration_curve
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
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from grader.checks import Incorrect, NotAttempted
from grader.checks import m05 as student_m05
from grader.checks.offline import load_key_file
from grader.datasets import breast_cancer_split, make_card_fraud

m05 = load_key_file(Path(__file__).resolve().parents[1] / "solutions/05-evaluation-metrics/key.py")
THRESHOLDS = np.round(np.arange(0.05, 0.96, 0.05), 2)
SEEDS = (0, 1, 7, 5011, 5023, 5039, 5087, 20240)


# --- the notebook's setup, rebuilt here as a student would have it -----------------------------
def _setup():
    X_train, X_test, y_train, y_test = breast_cancer_split()
    model = make_pipeline(StandardScaler(), KNeighborsClassifier(n_neighbors=15))
    model.fit(X_train, y_train)
    X_f, y_f = make_card_fraud()
    Xf_train, Xf_test, yf_train, yf_test = train_test_split(X_f, y_f, test_size=0.4, random_state=1)
    fraud_model = make_pipeline(StandardScaler(), LogisticRegression()).fit(Xf_train, yf_train)
    return dict(
        X_train=X_train, X_test=X_test, y_train=y_train, y_test=y_test, model=model,
        yf_train=yf_train.to_numpy(), yf_test=yf_test.to_numpy(), yf_pred=fraud_model.predict(Xf_test),
        pf_test=fraud_model.predict_proba(Xf_test), pf_train=fraud_model.predict_proba(Xf_train),
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


def cheapest_threshold(p_pos, y_true, cost_fn, cost_fp, kind=""):
    p = np.asarray(p_pos, dtype=float)
    actual = np.asarray(y_true) == 1
    if kind == "default":
        return 0.5
    if kind == "accuracy":
        acc = np.array([np.mean((p >= t) == actual) for t in THRESHOLDS])
        return float(THRESHOLDS[np.flatnonzero(acc == acc.max())[-1]])
    if kind == "swapped":
        cost_fn, cost_fp = cost_fp, cost_fn
    fn = np.array([np.sum(actual & (p < t)) for t in THRESHOLDS], dtype=float)
    fp = np.array([np.sum(~actual & (p >= t)) for t in THRESHOLDS], dtype=float)
    if kind == "rates":
        fn, fp = fn / actual.sum(), fp / (~actual).sum()
    cost = cost_fn * fn + cost_fp * fp
    return float(THRESHOLDS[np.flatnonzero(cost == cost.min())[-1]])


def cheapest_threshold_library(p_pos, y_true, cost_fn, cost_fp):
    """With sklearn's confusion matrix, a NumPy float return and the first-minimum-from-the-top."""
    from sklearn.metrics import confusion_matrix

    costs = []
    for t in THRESHOLDS[::-1]:
        tn, fp, fn, tp = confusion_matrix(y_true, np.asarray(p_pos) >= t, labels=[0, 1]).ravel()
        costs.append(cost_fn * fn + cost_fp * fp)
    return THRESHOLDS[::-1][int(np.argmin(costs))]


def reliability_curve(y_true, p_pos, pos_label, n_bins, strategy, kind=""):
    p = np.asarray(p_pos, dtype=float)
    positive = (np.asarray(y_true) == (1 if kind == "label1" else pos_label)).astype(float)
    if strategy == "quantile" and kind != "uniform":
        edges = np.quantile(p, np.linspace(0, 1, n_bins + 1))
    else:
        edges = np.linspace(0, 1, n_bins + 1)
    bins = np.searchsorted(edges[1:-1], p)
    count = np.bincount(bins, minlength=n_bins)
    hits = np.bincount(bins, weights=positive, minlength=n_bins)
    total = np.bincount(bins, weights=p, minlength=n_bins)
    used = count > 0 if kind != "empty" else np.ones(n_bins, bool)
    safe = np.maximum(count, 1)
    frac, mean = hits[used] / safe[used], total[used] / safe[used]
    if kind == "centres":
        mean = ((edges[:-1] + edges[1:]) / 2)[used]
    if kind == "swapped":
        return mean, frac, count[used]
    return frac, mean, count[used]


def reliability_curve_sklearn(y_true, p_pos, pos_label, n_bins, strategy):
    """calibration_curve for the two arrays, a histogram for the counts; lists are accepted."""
    frac, mean = calibration_curve(y_true, p_pos, pos_label=pos_label, n_bins=n_bins, strategy=strategy)
    _, _, count = reliability_curve(y_true, p_pos, pos_label, n_bins, strategy)
    return list(frac), list(mean), list(count)


def q7_values(func=cheapest_threshold, column=1):
    return dict(
        cheapest_threshold=func,
        fraud_threshold=func(NB["pf_test"][:, column], NB["yf_test"], 100, 20),
    )


def q8_values(**change):
    y = NB["yf_test"] == 1
    values = dict(
        reliability_curve=reliability_curve,
        brier_fraud=float(np.mean((NB["pf_test"][:, 1] - y) ** 2)),
        brier_base_rate=float(np.mean((np.mean(NB["yf_train"] == 1) - y) ** 2)),
    )
    values.update(change)
    return values


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
    "q5": [q5_values(), q5_values(baseline_accuracy=np.float64(q5_values()["baseline_accuracy"]))],
    "q6": [
        dict(regression_metrics=regression_metrics),
        dict(regression_metrics=regression_metrics_sklearn),
    ],
    "q7": [q7_values(), q7_values(cheapest_threshold_library)],
    "q8": [q8_values(), q8_values(reliability_curve=reliability_curve_sklearn)],
}
QUESTIONS = {f"q{i}": getattr(m05, f"q{i}") for i in range(1, 9)}


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


def _q1_two_labels(y_true, y_pred, pos_label):
    """'Negative' taken as the label 1 - pos_label: a third (or string) label is lost."""
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    neg = 1 - pos_label
    return (int(np.sum((y_true == pos_label) & (y_pred == pos_label))),
            int(np.sum((y_true == neg) & (y_pred == pos_label))),
            int(np.sum((y_true == pos_label) & (y_pred == neg))),
            int(np.sum((y_true == neg) & (y_pred == neg))))


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
    ("q1", dict(confusion_counts=_q1_two_labels), "anything other than pos_label"),
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
    ("q6", dict(regression_metrics=_q6_mistake("mse")), "without the sqrt"),
    ("q6", dict(regression_metrics=_q6_mistake("mae_sq")), "uses squared errors"),
    ("q6", dict(regression_metrics=_q6_mistake("r2_pred_mean")), "mean of the predictions"),
    ("q6", dict(regression_metrics=_q6_mistake("r2_swapped")), "swapped arguments"),
    ("q6", dict(regression_metrics=_q6_mistake("r2_ratio")), "1 minus that ratio"),
    ("q7", q7_values(lambda *a: cheapest_threshold(*a, kind="swapped")), "two prices exchanged"),
    ("q7", q7_values(lambda *a: cheapest_threshold(*a, kind="rates")), "price the *counts*"),
    ("q7", q7_values(lambda *a: cheapest_threshold(*a, kind="accuracy")), "best accuracy"),
    ("q7", q7_values(lambda *a: cheapest_threshold(*a, kind="default")), "default threshold"),
    ("q7", q7_values(column=0), "probability of *legitimate*"),
    ("q8", q8_values(reliability_curve=lambda *a: reliability_curve(*a, kind="swapped")), "first two arrays are swapped"),
    ("q8", q8_values(reliability_curve=lambda *a: reliability_curve(*a, kind="uniform")), "equal-width bins"),
    ("q8", q8_values(reliability_curve=lambda *a: reliability_curve(*a, kind="centres")), "centres of the bins"),
    ("q8", q8_values(reliability_curve=lambda *a: reliability_curve(*a, kind="label1")), "share of label 1"),
    ("q8", q8_values(reliability_curve=lambda *a: reliability_curve(*a, kind="empty")), "your arrays keep them"),
    ("q8", q8_values(brier_fraud=float(np.mean((NB["pf_test"][:, 0] - (_yf == 1)) ** 2))), "wrong class column"),
    ("q8", q8_values(brier_fraud=float(np.mean((NB["yf_pred"] - (_yf == 1)) ** 2))), "hard labels"),
    ("q8", q8_values(brier_base_rate=0.25), "forecasting 0.5"),
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
    elif label == "q7":
        d = m05._fraud()
        p, y, cf, cp = m05._Q7_CASE
        refs = (m05._cost_choice(np.array(p), np.array(y), cf, cp),
                m05._cost_choice(d.p_test, d.y_test, 100.0, 20.0))
        return [f"returned {v:g}{end}" for v in refs for end in ":,."]
    elif label == "q8":
        r = m05._q8_refs()
        numbers = [r["brier"], r["base"]]
    else:
        d = m05._friedman()
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


@pytest.mark.parametrize("label", ["q1", "q2", "q3", "q6", "q7", "q8"])
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
        ("q5", q5_values(baseline_accuracy="0.93"), "single number"),
        ("q7", q7_values(lambda p, y, cf, cp: 3), "not one of the values in THRESHOLDS"),
        ("q8", q8_values(reliability_curve=lambda *a: [0.1, 0.2]), "should return 3 values"),
        ("q8", q8_values(brier_fraud=1.5), "between 0 and 1"),
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
        m05.q8.verify(**q8_values(brier_base_rate=AlwaysEqual(0.1)))


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
    assert out.out.count("Correct") == 16


def test_exports_and_hints():
    assert sorted(student_m05.__all__) == sorted(f"q{i}" for i in range(1, 9))
    for question in QUESTIONS.values():
        assert 2 <= len(question.hints) <= 3
        assert question.label in repr(question)


# --- every catalogued mistake fails the hidden test for every seed ------------------------------
@pytest.mark.parametrize("label, values, named", MISTAKES, ids=[m[2][:24] for m in MISTAKES])
def test_every_mistake_fails_hidden_for_every_seed(label, values, named):
    """A fresh random input can make a wrong method give the right value (the defect of 11 q2 and
    09 q3): each hidden test must catch each catalogued mistake for every seed, not most seeds."""
    for seed in SEEDS:
        with pytest.raises(Incorrect):
            QUESTIONS[label].verify_hidden(seed=seed, **values)


@pytest.mark.parametrize("seed", SEEDS)
def test_reliability_reference_is_calibration_curve(seed):
    """The key's bins are scikit-learn's: the first two arrays equal calibration_curve's."""
    rng = np.random.default_rng(seed)
    for k in range(4):
        y, p, pos, n_bins, strategy = m05._q8_fresh(rng, k)
        frac, mean, count = m05._reliability(y, p, pos, n_bins, strategy)
        ref = calibration_curve(y, p, pos_label=pos, n_bins=n_bins, strategy=strategy)
        assert np.allclose(frac, ref[0]) and np.allclose(mean, ref[1])
        assert count.sum() == y.size and np.all(count > 0)


def test_base_rate_from_the_test_split_is_named_not_called_rounding():
    """A near miss (the test split's fraud rate) is within the visible tolerance; both tests name it
    rather than telling the student not to round."""
    y = NB["yf_test"] == 1
    values = q8_values(brier_base_rate=float(np.mean((np.mean(y) - y) ** 2)))
    assert abs(values["brier_base_rate"] - q8_values()["brier_base_rate"]) < 1e-3
    for check in (m05.q8.verify, lambda **v: m05.q8.verify_hidden(seed=1, **v)):
        with pytest.raises(Incorrect, match="test\\* split") as err:
            check(**values)
        assert "round" not in str(err.value)


def test_card_fraud_generator_is_seeded_and_rare():
    X, y = make_card_fraud()
    X2, y2 = make_card_fraud()
    assert X.equals(X2) and y.equals(y2)
    assert list(X.columns) == ["amount", "hour", "km_from_home", "tx_last_hour", "foreign"]
    assert 0.03 < y.mean() < 0.09
    assert not make_card_fraud(seed=1)[1].equals(y)
