"""Assignment 14 checks (the key, solutions/14-monitoring/key.py): right answers pass, named
mistakes fail, and the feedback never shows the expected value.

Fast unit tests: the key's ``verify``/``verify_hidden`` are called directly with the values a
student would define (no notebook is executed). ``grader verify 14-monitoring`` proves the same
catalogue (``solutions/14-monitoring/mutants.yml``) against the executed notebook; these tests
pin the mistakes at the unit level, the designed cases that separate them, and the student-side
offline check (``grader/checks/data/m14.json``) on the right answers.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from conftest import no_return, unfinished
from scipy import stats
from sklearn.metrics import roc_auc_score

from grader.checks import Incorrect, NotAttempted
from grader.checks import m14 as student_m14
from grader.checks.offline import load_key_file

ROOT = Path(__file__).resolve().parents[1]
key = load_key_file(ROOT / "solutions/14-monitoring/key.py")
QUESTIONS = key.QUESTIONS
SEEDS = (0, 1411, 1447)
LABELS = student_m14.LABELS


# --- right answers: the notebook's and a second, differently written version ------------------
def psi(expected, actual, bins=10, eps=1e-6):
    expected, actual = np.asarray(expected, float), np.asarray(actual, float)
    inner = np.quantile(expected, np.linspace(0, 1, bins + 1)[1:-1])
    e = np.bincount(np.searchsorted(inner, expected, side="right"), minlength=bins) / expected.size
    a = np.bincount(np.searchsorted(inner, actual, side="right"), minlength=bins) / actual.size
    e, a = np.clip(e, eps, None), np.clip(a, eps, None)
    return float(np.sum((a - e) * np.log(a / e)))


def psi_histogram(expected, actual, bins=10, eps=1e-6):
    """np.histogram with open outer edges and np.float64 out: also right."""
    inner = np.quantile(expected, [i / bins for i in range(1, bins)])
    edges = np.concatenate([[-np.inf], inner, [np.inf]])
    e = np.maximum(np.histogram(expected, edges)[0] / len(expected), eps)
    a = np.maximum(np.histogram(actual, edges)[0] / len(actual), eps)
    return np.sum((a - e) * np.log(a / e))


def drifted_features(reference, batch, alpha=0.05, min_d=0.15):
    cols = list(reference.columns)
    found = []
    for c in cols:
        res = stats.ks_2samp(reference[c], batch[c], method="asymp")
        if res.pvalue < alpha / len(cols) and res.statistic >= min_d:
            found.append((res.statistic, c))
    return [c for _, c in sorted(found, key=lambda t: -t[0])]


def drifted_features_tuple(reference, batch, alpha=0.05, min_d=0.15):
    """Exact p-values, a tuple out: the designed cases are not on the method's boundary."""
    res = {c: stats.ks_2samp(reference[c], batch[c]) for c in reference.columns}
    keep = [c for c, r in res.items() if r.pvalue * len(res) < alpha and r.statistic >= min_d]
    return tuple(sorted(keep, key=lambda c: res[c].statistic, reverse=True))


def auc_of(y, s):
    y, r = np.asarray(y), stats.rankdata(s)
    n1 = int(np.sum(y == 1))
    return float((r[y == 1].sum() - n1 * (n1 + 1) / 2) / (n1 * (y.size - n1)))


def alarm_line(y, score, size, reps=200, seed=0, k=3.0, auc=auc_of):
    y, score = np.asarray(y), np.asarray(score, float)
    rng = np.random.default_rng(seed)
    aucs = []
    for _ in range(reps):
        idx = rng.integers(0, len(y), size)
        aucs.append(auc(y[idx], score[idx]))
    return float(np.mean(aucs) - k * np.std(aucs))


def alarm_line_sklearn(y, score, size, reps=200, seed=0, k=3.0):
    return alarm_line(y, score, size, reps, seed, k, auc=roc_auc_score)


def q3_values(func=alarm_line, data="reference"):
    s = key._stream()
    y, score = (s.y_ref, s.s_ref) if data == "reference" else (s.y_train, s.s_train)
    line = func(y, score, 400)
    below = np.flatnonzero(s.auc < line)
    return dict(alarm_line=func, line_heldout=line, first_alarm=int(below[0]) if below.size else -1)


def label_batches(psi_table, batch_auc, line, psi_limit=0.25):
    out = []
    for row, auc in zip(np.asarray(psi_table, float), np.asarray(batch_auc, float), strict=True):
        moved = bool(np.max(row) > psi_limit)
        if math.isnan(auc):
            out.append(LABELS[5] if moved else LABELS[4])
        else:
            out.append(LABELS[int(moved) + 2 * int(auc < line)])
    return out


def label_batches_dicts(psi_table, batch_auc, line, psi_limit=0.25):
    names = {(False, False): "stable", (True, False): "covariate drift",
             (False, True): "concept drift", (True, True): "covariate and concept drift"}
    moved = (np.asarray(psi_table) > psi_limit).any(axis=1)
    return [("covariate drift, performance unknown" if m else "performance unknown")
            if np.isnan(a) else names[(bool(m), bool(a < line))] for m, a in zip(moved, batch_auc, strict=True)]


def explanation_drift(shap_ref, shap_new):
    u = np.abs(np.asarray(shap_ref, float)).mean(axis=0)
    v = np.abs(np.asarray(shap_new, float)).mean(axis=0)
    top = int(np.argmax(u))
    return {"cosine_distance": float(1 - u @ v / (np.linalg.norm(u) * np.linalg.norm(v))),
            "top_feature": top, "new_rank": int(np.sum(v > v[top])) + 1}


def explanation_drift_scipy(shap_ref, shap_new):
    from scipy.spatial.distance import cosine

    u, v = np.mean(np.abs(shap_ref), axis=0), np.mean(np.abs(shap_new), axis=0)
    order = np.argsort(-v, kind="stable")
    top = np.argmax(u)  # NumPy ints out
    return {"cosine_distance": cosine(u, v), "top_feature": top,
            "new_rank": np.int64(np.flatnonzero(order == top)[0] + 1)}


RIGHT = {
    "q1": [dict(psi=psi), dict(psi=psi_histogram)],
    "q2": [dict(drifted_features=drifted_features), dict(drifted_features=drifted_features_tuple)],
    "q3": [q3_values(), q3_values(alarm_line_sklearn)],
    "q4": [dict(label_batches=label_batches), dict(label_batches=label_batches_dicts)],
    "q5": [dict(explanation_drift=explanation_drift), dict(explanation_drift=explanation_drift_scipy)],
}


@pytest.mark.parametrize("label, values", [(q, v) for q, vs in RIGHT.items() for v in vs],
                         ids=lambda x: str(x)[:14])
def test_right_answers_pass_visible_and_hidden(label, values):
    question = QUESTIONS[label]
    question.verify(**values)
    for seed in SEEDS:
        question.verify_hidden(seed=seed, **values)


# --- the catalogued mistakes ----------------------------------------------------------------------
def _psi_mistake(**kw):
    return lambda expected, actual, bins=10, eps=1e-6: key._psi(expected, actual, bins, eps, **kw)


def _psi_unclipped(expected, actual, bins=10, eps=1e-6):
    return key._psi(expected, actual, bins, 0.0)


def _drift_mistake(**kw):
    return lambda reference, batch, alpha=0.05, min_d=0.15: key._drifted(
        reference, batch, alpha, min_d, **kw)


def _line_mistake(**kw):
    return lambda y, score, size, reps=200, seed=0, k=3.0: key._line(y, score, size, reps, seed, k, **kw)


def _label_mistake(**kw):
    return lambda psi_table, batch_auc, line, psi_limit=0.25: key._labels(
        psi_table, batch_auc, line, psi_limit, **kw)


def _expl_mistake(**kw):
    return lambda shap_ref, shap_new: key._expl(shap_ref, shap_new, **kw)


MISTAKES = [
    ("q1", dict(psi=_psi_mistake(edges_from="actual")), "bin edges come from the new sample"),
    ("q1", dict(psi=_psi_mistake(proportions=False)), "counts instead of proportions"),
    ("q1", dict(psi=_psi_unclipped), "clip each proportion"),
    ("q1", dict(psi=_psi_mistake(log=np.log10)), "another base"),
    ("q1", dict(psi=_psi_mistake(kl=True)), "Kullback-Leibler"),
    ("q1", dict(psi=_psi_mistake(drop_outside=True)), "outside the reference's range"),
    ("q2", dict(drifted_features=_drift_mistake(correct=False)), "no multiple-testing correction"),
    ("q2", dict(drifted_features=_drift_mistake(effect=False)), "significant but small"),
    ("q2", dict(drifted_features=_drift_mistake(test="t")), "t-test"),
    ("q2", dict(drifted_features=_drift_mistake(order="columns")), "wrong order"),
    ("q3", q3_values(_line_mistake(se=True)), "standard error of the *mean* AUC"),
    ("q3", q3_values(_line_mistake(full=True)), "not `size`"),
    ("q3", q3_values(_line_mistake(replace=False)), "without replacement"),
    ("q3", q3_values(_line_mistake(sign=1.0)), "above the mean"),
    ("q3", q3_values(data="train"), "training rows"),
    ("q3", {**q3_values(), "first_alarm": q3_values()["first_alarm"] + 1}, "numbered from 0"),
    ("q4", dict(label_batches=_label_mistake(nan_ok=True)), "cannot be called stable"),
    ("q4", dict(label_batches=_label_mistake(agg="mean")), "averaged over the features"),
    ("q4", dict(label_batches=_label_mistake(only_concept=True)), "both kinds of drift"),
    ("q4", dict(label_batches=_label_mistake(swap=True)), "swapped"),
    ("q4", dict(label_batches=_label_mistake(fixed_limit=0.1)), "rule of thumb"),
    ("q5", dict(explanation_drift=_expl_mistake(signed=True)), "*absolute*"),
    ("q5", dict(explanation_drift=_expl_mistake(similarity=True)), "cosine *similarity*"),
    ("q5", dict(explanation_drift=_expl_mistake(euclid=True)), "Euclidean"),
    ("q5", dict(explanation_drift=_expl_mistake(top_from_new=True)), "taken from the new importances"),
    ("q5", dict(explanation_drift=_expl_mistake(zero_based=True)), "counts from 0"),
]  # fmt: skip


def _shown_references(label: str) -> list[str]:
    """The expected answers of the visible cases, as a message might print them."""
    if label == "q1":
        nums = [key._psi(e, a, b, eps) for e, a, b, eps in key._q1_cases()]
    elif label == "q3":
        s = key._stream()
        nums = [key._line(*c) for c in key._q3_cases()] + [key._line(s.y_ref, s.s_ref, 400)]
    elif label == "q5":
        s = key._stream()
        nums = [key._expl(a, b)["cosine_distance"] for a, b in key._q5_cases()]
        nums.append(key._expl(s.shap_ref, s.shap_new)["cosine_distance"])
    else:
        return [str(key._drifted(*c)) for c in key._q2_cases() if key._drifted(*c)] if label == "q2" else []
    return [f.format(v) for v in nums for f in ("{:.4g}", "{:.6g}", "{:.4f}")]


@pytest.mark.parametrize("label, values, named", MISTAKES, ids=[m[2][:24] for m in MISTAKES])
def test_mistakes_are_named_and_the_answer_is_not_shown(label, values, named):
    question = QUESTIONS[label]
    with pytest.raises(Incorrect) as visible:
        question.verify(**values)
    message = str(visible.value)
    assert named in message
    assert not isinstance(visible.value, NotAttempted)
    for shown in _shown_references(label):
        assert shown not in message, f"{label} feedback reveals the expected value {shown}"
    if label == "q3" and "numbered" in named:
        return  # the same variable as the visible check: the hidden test fails it the same way
    with pytest.raises(Incorrect):
        question.verify_hidden(seed=1459, **values)


def test_designed_cases_separate_the_mistakes():
    """Each q2 and q4 mistake differs from the right answer on a visible case (not by luck)."""
    for kw in (dict(correct=False), dict(effect=False), dict(test="t"), dict(order="columns")):
        assert any(key._drifted(*c, **kw) != key._drifted(*c) for c in key._q2_cases()), kw
    for c in key._q2_cases():  # the visible decisions do not depend on the p-value's method
        assert key._drifted(*c) == key._drifted(*c, method="exact")
    t, a = key._Q4_TABLE, key._Q4_AUC
    variants = [dict(nan_ok=True), dict(agg="mean"), dict(only_concept=True), dict(swap=True),
                dict(fixed_limit=0.1)]
    outs = [key._labels(t, a, 0.8, 0.25, **kw) for kw in variants]
    assert all(o != key._labels(t, a, 0.8) for o in outs)
    assert len({tuple(o) for o in outs}) == len(outs)


def test_the_stream_has_its_ground_truth():
    """The monitors find the simulated change points: x0 moves from batch 5, the AUC drops at 10."""
    s = key._stream()
    moved = s.psi_table.max(axis=1) > 0.25
    assert not moved[:5].any() and moved[5:].all()
    assert np.argmax(s.psi_table[5:], axis=1).tolist() == [0] * 11
    line = key._line(s.y_ref, s.s_ref, 400)
    assert key._first_alarm(s.auc, line) == 10 and (s.auc[10:] < line).all()
    # the training band sits higher than the held-out one (the optimistic baseline)
    assert key._line(s.y_train, s.s_train, 400) > line


def test_rounded_line_passes_visible_but_not_hidden():
    values = q3_values()
    values["line_heldout"] = round(values["line_heldout"], 3)
    QUESTIONS["q3"].verify(**values)
    with pytest.raises(Incorrect, match="do not round"):
        QUESTIONS["q3"].verify_hidden(seed=1, **values)


@pytest.mark.parametrize("label, values, text", [
    ("q1", dict(psi=lambda e, a, bins=10, eps=1e-6: [0.1]), "single number"),
    ("q2", dict(drifted_features=lambda r, b, alpha=0.05, min_d=0.15: {"x0"}), "returned a set"),
    ("q2", dict(drifted_features=lambda r, b, alpha=0.05, min_d=0.15: "x0"), "list of column names"),
    ("q4", dict(label_batches=lambda t, a, line, psi_limit=0.25: ["fine"] * len(t)), "not one of LABELS"),
    ("q5", dict(explanation_drift=lambda a, b: {"cos": 0.1}), "needs exactly"),
])  # fmt: skip
def test_wrong_types_get_a_clear_message(label, values, text):
    with pytest.raises(Incorrect) as info:
        QUESTIONS[label].verify(**values)
    assert text in str(info.value)


@pytest.mark.parametrize("label", ["q1", "q2", "q4", "q5"])
def test_unwritten_functions_are_not_attempted(label):
    question = QUESTIONS[label]
    name = question.names[0]
    for stub in (unfinished, no_return):
        with pytest.raises(NotAttempted) as info:
            question.verify(**{name: stub})
        assert f"`{name}" in str(info.value)


@pytest.mark.parametrize("label", sorted(RIGHT))
def test_offline_check_passes_the_right_answers(ns, label):
    """The student-side check (precomputed data, no key) accepts both right versions."""
    question = getattr(student_m14, label)
    for values in RIGHT[label]:
        ns.clear()
        ns.update(values)
        question.check()


def test_offline_check_names_a_mistake(ns):
    ns.update(dict(label_batches=_label_mistake(nan_ok=True)))
    with pytest.raises(Incorrect, match="cannot be called stable"):
        student_m14.q4.check()


def test_exports_and_hints():
    assert sorted(student_m14.__all__) == sorted([f"q{i}" for i in range(1, 6)] + ["LABELS"])
    for question in QUESTIONS.values():
        assert 2 <= len(question.hints) <= 3
        assert question.label in repr(question)
    public = set(vars(student_m14))
    assert not {"_psi", "_drifted", "_line", "_labels", "_expl", "_stream"} & public


def test_review_psi_with_eps_added_is_named():
    """Adding eps to every proportion (instead of clipping) was failed but not named."""

    def psi_added(expected, actual, bins=10, eps=1e-6):
        e_x, a_x = np.asarray(expected, float), np.asarray(actual, float)
        inner = np.quantile(e_x, np.linspace(0, 1, bins + 1)[1:-1])
        e = np.bincount(np.searchsorted(inner, e_x, side="right"), minlength=bins) / e_x.size
        a = np.bincount(np.searchsorted(inner, a_x, side="right"), minlength=bins) / a_x.size
        e, a = e + eps, a + eps
        return float(np.sum((a - e) * np.log(a / e)))

    q = key.QUESTIONS["q1"]
    with pytest.raises(Incorrect, match="eps is added"):
        q.verify(psi=psi_added)
    for seed in range(8):
        with pytest.raises(Incorrect):
            q.verify_hidden(seed=seed, psi=psi_added)


# --- q2: which answers are right, deliberately (Bonferroni as asked; Sidak, Holm, exact too) ----
SEEDS8 = (0, 1, 2, 3, 1411, 1423, 1447, 20261129)


def _two_columns(lo, hi, exact_gap=0.0):
    """Two columns: u unchanged, whose asymptotic p-value lies in (lo, hi) (and differs from the
    exact one by more than ``exact_gap``), and v, drifted for sure."""
    for s in range(20000):
        r = np.random.default_rng(s)
        a, b = r.normal(0, 1, 120), r.normal(0, 1, 90)
        pa = key.stats.ks_2samp(a, b, method="asymp").pvalue
        if lo < pa < hi and (not exact_gap or abs(
                key.stats.ks_2samp(a, b, method="exact").pvalue - pa) > exact_gap):
            ref = key._frame({"u": a, "v": r.normal(0, 1, 120)})
            new = key._frame({"u": b, "v": r.normal(3, 1, 90)})
            return ref, new
    raise AssertionError("no case found")


@pytest.mark.parametrize("correction, method", [("sidak", "asymp"), ("holm", "asymp"),
                                                ("bonferroni", "exact")])
def test_q2_accepts_sidak_holm_and_exact_where_they_differ(correction, method):
    """Where Sidak's or Holm's limit or the exact p-value changes the list, the check accepts the
    answer on purpose (issue 14 review). With alpha = 0.5 and two columns, Bonferroni's limit is
    0.25, Sidak's 0.293 and Holm's 0.5 for the larger p-value; for the exact p-value, alpha puts
    Bonferroni's limit between the two p-values of u."""
    if method == "exact":
        ref, new = _two_columns(0.05, 0.45, exact_gap=1e-5)
        p = [key.stats.ks_2samp(ref["u"], new["u"], method=m).pvalue for m in ("asymp", "exact")]
        case = (ref, new, float(sum(p)), 0.0)
    else:
        ref, new = _two_columns(*{"sidak": (0.26, 0.29), "holm": (0.3, 0.45)}[correction])
        case = (ref, new, 0.5, 0.0)
    theirs = key._drifted(*case, correction=correction, method=method)
    assert theirs != key._drifted(*case)
    key._q2_diagnose(theirs, *case, "here")
    with pytest.raises(Incorrect, match="wrong order"):
        key._q2_diagnose(theirs[::-1], *case, "here")


def test_q2_visible_cases_do_not_depend_on_the_accepted_choice():
    """The offline check stores one list per visible case: every accepted way gives it."""
    for case in key._q2_cases():
        assert len({tuple(x) for x in key._q2_accepted(*case)}) == 1


@pytest.mark.parametrize("seed", SEEDS8)
def test_q2_hidden_catches_every_catalogued_mistake_for_every_seed(seed):
    q2 = QUESTIONS["q2"]
    q2.verify_hidden(seed=seed, drifted_features=drifted_features)
    q2.verify_hidden(seed=seed, drifted_features=_drift_mistake(correction="holm", method="exact"))
    for kw in (dict(correct=False), dict(effect=False), dict(test="t"), dict(order="columns")):
        with pytest.raises(Incorrect):
            q2.verify_hidden(seed=seed, drifted_features=_drift_mistake(**kw))
    assert key._q2_hidden_designed(np.random.default_rng(seed))  # no fallback needed
