"""Assignment 11 checks (the key, solutions/11-simplification/key.py): right answers pass, named
mistakes fail with their name and without the expected value, and the offline visible check
(grader/checks/data/m11.json) agrees with the key.

The mutant catalogue (``mutants.yml``) is proved against the executed notebook by
``grader verify``; these unit tests call the key's ``verify``/``verify_hidden`` directly with the
values a student would define (no notebook is executed).
"""

from __future__ import annotations

import itertools
import re
from pathlib import Path

import numpy as np
import pytest
from conftest import no_return, unfinished
from sklearn.datasets import load_breast_cancer, make_friedman3
from sklearn.decomposition import PCA
from sklearn.ensemble import GradientBoostingRegressor
from sklearn.feature_selection import SelectKBest, f_classif
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import r2_score
from sklearn.model_selection import StratifiedKFold, cross_val_score, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.tree import DecisionTreeRegressor

from grader import precompute
from grader.checks import Incorrect, NotAttempted
from grader.checks import m11 as student
from grader.checks.offline import load_key_file
from grader.config import Course

ROOT = Path(__file__).resolve().parents[1]
AID = "11-simplification"
key = load_key_file(ROOT / "solutions" / AID / "key.py")
SEEDS = (0, 11013)


# --- right answers, and the classic mistakes through keywords ----------------------------------
def honest_cv_accuracy(X, y, k, cv_seed, outside=False):
    folds = StratifiedKFold(5, shuffle=True, random_state=cv_seed)
    if outside:
        Xs = SelectKBest(f_classif, k=k).fit_transform(X, y)
        return float(cross_val_score(LogisticRegression(), Xs, y, cv=folds).mean())
    pipe = make_pipeline(SelectKBest(f_classif, k=k), LogisticRegression())
    return float(cross_val_score(pipe, X, y, cv=folds).mean())


def one_se_C(X, y, Cs, cv_seed, scale=True, best_only=False):
    folds = StratifiedKFold(5, shuffle=True, random_state=cv_seed)
    rows = []
    for C in Cs:
        steps = [StandardScaler()] if scale else []
        pipe = make_pipeline(*steps, LogisticRegression(l1_ratio=1, solver="liblinear", C=C))
        s = cross_val_score(pipe, X, y, cv=folds)
        nz = int(np.sum(np.abs(pipe.fit(X, y)[-1].coef_) > 1e-10))
        rows.append((float(C), s.mean(), s.std(ddof=1) / np.sqrt(len(s)), nz))
    best = max(rows, key=lambda r: (r[1], -r[0]))
    if best_only:
        return best[0]
    return min((r for r in rows if r[1] >= best[1] - best[2]), key=lambda r: (r[3], r[0]))[0]


def n_components_for(X, share, standardise, off_by_one=False):
    Z = StandardScaler().fit_transform(X) if standardise else np.asarray(X, float)
    c = np.cumsum(PCA().fit(Z).explained_variance_ratio_)
    return int(np.argmax(c >= share)) + (0 if off_by_one else 1)


def surrogate_scores(X_train, y_train, X_test, y_test, bb_train, bb_test, depth, labels=False):
    tree = DecisionTreeRegressor(max_depth=depth, random_state=0)
    tree.fit(X_train, y_train if labels else bb_train)
    pred = tree.predict(X_test)
    return {"fidelity": r2_score(bb_test, pred), "accuracy": r2_score(y_test, pred)}


def pareto_flags(complexity, score, strict=False):
    c, s = np.asarray(complexity, float), np.asarray(score, float)
    if strict:
        return np.array([not np.any((c < c[i]) & (s > s[i])) for i in range(len(c))])
    return np.array([not np.any((c <= c[i]) & (s >= s[i]) & ((c < c[i]) | (s > s[i])))
                     for i in range(len(c))])


def mean_pairwise_jaccard(selections, self_pairs=False):
    sets = [set(s) for s in selections]
    pairs = itertools.product(sets, repeat=2) if self_pairs else itertools.combinations(sets, 2)
    return float(np.mean([len(a & b) / len(a | b) for a, b in pairs]))


X_BC = load_breast_cancer(as_frame=True).data
TOP_RAW = str(X_BC.columns[np.argmax(np.abs(PCA().fit(X_BC).components_[0]))])


def _min_depth(train=False):
    X, y = make_friedman3(n_samples=1200, noise=0.1, random_state=3)
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.3, random_state=0)
    bb = GradientBoostingRegressor(random_state=0).fit(Xtr, ytr)
    btr, bte = bb.predict(Xtr), bb.predict(Xte)
    for d in range(1, 9):
        args = (Xtr, ytr, Xtr, ytr, btr, btr) if train else (Xtr, ytr, Xte, yte, btr, bte)
        if surrogate_scores(*args, d)["fidelity"] >= 0.9:
            return d
    return 0


MIN_DEPTH, MIN_DEPTH_TRAIN = _min_depth(), _min_depth(train=True)

RIGHT = {
    "q1": dict(honest_cv_accuracy=honest_cv_accuracy),
    "q2": dict(one_se_C=one_se_C),
    "q3": dict(n_components_for=n_components_for, top_raw_feature=TOP_RAW),
    "q4": dict(surrogate_scores=surrogate_scores, min_depth=MIN_DEPTH),
    "q5": dict(pareto_flags=pareto_flags),
    "q6": dict(mean_pairwise_jaccard=mean_pairwise_jaccard),
}


@pytest.mark.parametrize("label", sorted(RIGHT))
def test_right_answers_pass_visible_and_hidden(label):
    q = key.QUESTIONS[label]
    q.verify(**RIGHT[label])
    for seed in SEEDS:
        q.verify_hidden(seed=seed, **RIGHT[label])


def _with(label, **change):
    return {**RIGHT[label], **change}


MISTAKES = [
    ("q1", _with("q1", honest_cv_accuracy=lambda *a: honest_cv_accuracy(*a, outside=True)), "selected on *all* rows"),
    ("q2", _with("q2", one_se_C=lambda *a: one_se_C(*a, scale=False)), "raw units"),
    ("q2", _with("q2", one_se_C=lambda *a: one_se_C(*a, best_only=True)), "best CV accuracy"),
    ("q3", _with("q3", n_components_for=lambda *a: n_components_for(*a, off_by_one=True)), "one component short"),
    ("q4", _with("q4", surrogate_scores=lambda *a: surrogate_scores(*a, labels=True)), "fitted on the labels"),
    ("q4", _with("q4", min_depth=MIN_DEPTH_TRAIN), "*new* cases"),
    ("q5", _with("q5", pareto_flags=lambda c, s: pareto_flags(c, s, strict=True)), "strictly better on *both*"),
    ("q6", _with("q6", mean_pairwise_jaccard=lambda s: mean_pairwise_jaccard(s, True)), "with itself"),
]  # fmt: skip


@pytest.mark.parametrize("label, values, named", MISTAKES, ids=[m[2][:20] for m in MISTAKES])
def test_mistakes_are_named_and_the_answer_is_not_shown(label, values, named):
    q = key.QUESTIONS[label]
    with pytest.raises(Incorrect) as info:
        q.verify(**values)
    message = str(info.value)
    assert named in message
    if label == "q4" and "min_depth" in message:
        assert f"= {MIN_DEPTH}" not in message


@pytest.mark.parametrize("mistake", [m for m in MISTAKES if m[0] == "q2"], ids=["raw", "best"])
def test_q2_hidden_test_catches_each_named_mistake_for_every_seed(mistake):
    """A fresh table can make a named mistake pick the right C (seeds 15, 30, 32 and 39 did for
    the raw-units rule before the hidden test drew tables until each mistake is separated; the
    grader and stock nbgrader then disagreed on a demo student)."""
    label, values, named = mistake
    q = key.QUESTIONS[label]
    for seed in (15, 30, 32, 39, 0, 1, 2, 3):
        with pytest.raises(Incorrect, match=re.escape(named)):
            q.verify_hidden(seed=seed, **values)


def test_mistakes_are_different_answers_on_the_designed_cases():
    """The visible cases separate each named mistake from the right answer (no symmetric case)."""
    c, s = (np.array(v, dtype=float) for v in key._Q5_CASE)
    flags = {how: tuple(key._pareto(c, s, how=how)) for how in ("ref", "ties", "reversed",
                                                                 "strict", "best")}
    assert len(set(flags.values())) == len(flags)
    sels = key._Q6_CASE
    values = {how: round(key._jaccard(sels, how=how), 9)
              for how in ("ref", "self", "overlap", "dice", "consecutive")}
    assert len(set(values.values())) == len(values)


@pytest.mark.parametrize("label", ["q1", "q5", "q6"])
def test_unwritten_functions_are_not_attempted(label):
    q = key.QUESTIONS[label]
    for stub in (unfinished, no_return):
        with pytest.raises(NotAttempted):
            q.verify(**_with(label, **{q.names[0]: stub}))


def test_wrong_types_get_a_clear_message():
    with pytest.raises(Incorrect, match="NumPy array of booleans"):
        key.QUESTIONS["q5"].verify(pareto_flags=lambda c, s: list(pareto_flags(c, s)))
    with pytest.raises(Incorrect, match='"fidelity" and "accuracy"'):
        key.QUESTIONS["q4"].verify(**_with("q4", surrogate_scores=lambda *a: {"r2": 0.5}))
    with pytest.raises(Incorrect, match="not one of the column names"):
        key.QUESTIONS["q3"].verify(**_with("q3", top_raw_feature="area"))


def test_precomputed_data_is_in_sync_with_the_key():
    assert precompute.out_of_date(Course(ROOT), AID) == []


def test_offline_check_passes_right_answers_and_names_a_mistake(monkeypatch, capsys):
    ns = dict(RIGHT["q4"])
    monkeypatch.setattr("grader.checks.core._user_namespace", lambda: ns)
    student.q4.check()
    assert "Correct" in capsys.readouterr().out
    ns["min_depth"] = MIN_DEPTH_TRAIN
    with pytest.raises(Incorrect, match=r"\*new\* cases"):
        student.q4.check()


# --- the second review: wrong answers that got through or were misnamed --------------------------
def _one_se_ddof0(X, y, Cs, cv_seed):
    folds = StratifiedKFold(5, shuffle=True, random_state=cv_seed)
    rows = []
    for C in Cs:
        pipe = make_pipeline(StandardScaler(),
                             LogisticRegression(l1_ratio=1, solver="liblinear", C=C))
        s = cross_val_score(pipe, X, y, cv=folds)
        nz = int(np.sum(np.abs(pipe.fit(X, y)[-1].coef_) > 1e-10))
        rows.append((float(C), s.mean(), s.std() / np.sqrt(len(s)), nz))
    best = max(rows, key=lambda r: (r[1], -r[0]))
    within = [r for r in rows if r[1] >= best[1] - best[2]]
    return min(within, key=lambda r: (r[3], r[0]))[0]


def test_q2_standard_error_with_ddof0_is_caught_and_named():
    """It passed the visible test, and the hidden table of seed 5 named it "raw units" (both
    mistakes pick the same C there): visible table 1 now separates it, and a C that several
    mistakes give is named as either."""
    q = key.QUESTIONS["q2"]
    with pytest.raises(Incorrect, match="ddof=0"):
        q.verify(one_se_C=_one_se_ddof0)
    for seed in (0, 5):
        with pytest.raises(Incorrect) as info:
            q.verify_hidden(seed=seed, one_se_C=_one_se_ddof0)
        assert "ddof=0" in str(info.value)


def test_q4_black_box_accuracy_and_depth_by_accuracy_are_named():
    q = key.QUESTIONS["q4"]

    def bb_accuracy(X_train, y_train, X_test, y_test, bb_train, bb_test, depth):
        return {**surrogate_scores(X_train, y_train, X_test, y_test, bb_train, bb_test, depth),
                "accuracy": float(r2_score(y_test, bb_test))}

    with pytest.raises(Incorrect, match=r"\*black box's\* R²"):
        q.verify(**_with("q4", surrogate_scores=bb_accuracy))
    # judged by accuracy, no depth reaches 0.9 (0), as for trees fitted on the labels: both named
    with pytest.raises(Incorrect) as info:
        q.verify(**_with("q4", min_depth=0))
    assert "accuracy against the true targets" in str(info.value)
    assert "fitted on the labels" in str(info.value)
