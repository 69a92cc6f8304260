"""Assignment 13 checks (the key, solutions/13-documentation-reproducibility/key.py): right answers
pass, named mistakes fail, feedback never shows the expected value.

Fast unit tests: the key's ``verify``/``verify_hidden`` are called directly with the values a
student would define (no notebook is executed). ``grader verify 13-documentation-reproducibility``
proves the mutant catalogue against the executed notebook; these tests pin the same mistakes at
the unit level, the tiers around them, and the student-side module and its precomputed data.
"""

from __future__ import annotations

import hashlib
import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import no_return, unfinished
from sklearn.ensemble import GradientBoostingClassifier
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split

from grader.checks import Incorrect, NotAttempted
from grader.checks import m13 as student_m13
from grader.checks.m13 import CARD_PROBLEMS, METRIC_KEYS, SECTIONS
from grader.checks.offline import load_key_file
from grader.datasets import make_readmission

ROOT = Path(__file__).resolve().parents[1]
AID = "13-documentation-reproducibility"
m13 = load_key_file(ROOT / "solutions" / AID / "key.py")
SEED = 2024

X, y = make_readmission(n=1200, seed=13)
X = X.drop(columns="followup_billing")


# --- right answers: the notebook's solutions ---------------------------------------------------
def train_reproducibly(seed):
    X_tr, X_te, y_tr, _ = train_test_split(X, y, test_size=0.3, stratify=y, random_state=seed)
    model = GradientBoostingClassifier(n_estimators=40, max_depth=2, subsample=0.8,
                                       random_state=seed).fit(X_tr, y_tr)
    return X_te.index.to_numpy(), model.predict_proba(X_te)[:, 1]


def data_fingerprint(X, y):
    rows = pd.util.hash_pandas_object(pd.concat([X, y], axis=1), index=True).to_numpy()
    return hashlib.sha256(rows.tobytes()).hexdigest()


def card_metrics(y_true, p, group, threshold):
    y_true, p, group = np.asarray(y_true), np.asarray(p, dtype=float), np.asarray(group)

    def numbers(rows):
        t, s = y_true[rows], p[rows]
        flagged = s >= threshold
        return {"n": int(rows.sum()), "auc": float(roc_auc_score(t, s)),
                "recall": float(flagged[t == 1].mean()), "flag_rate": float(flagged.mean())}

    out = {"overall": numbers(np.ones(y_true.size, dtype=bool))}
    for g in np.unique(group):
        out[str(g)] = numbers(group == g)
    return out


def card_problems(card, y_true, p, group):
    found = set()
    if any(not card.get(section) for section in SECTIONS):
        found.add("missing_section")
    if not (card.get("intended_use") or {}).get("out_of_scope"):
        found.add("no_out_of_scope")
    if card["evaluation_data"].get("split") != "test":
        found.add("wrong_split")
    results = card["quantitative_analyses"]["results"]
    truth = card_metrics(y_true, p, group, card["quantitative_analyses"]["threshold"])
    if any(entry not in results for entry in truth):
        found.add("not_disaggregated")
    for entry, numbers in results.items():
        if any(abs(numbers[k] - truth[entry][k]) > 0.001 for k in METRIC_KEYS):
            found.add("stale_numbers")
    return sorted(found)


def background_rows(n_rows, seed, size):
    return np.sort(np.random.default_rng(seed).choice(n_rows, size=size, replace=False))


def _base_value(rows_of=background_rows, probability=False):
    import shap

    X_tr, _, y_tr, _ = train_test_split(X, y, test_size=0.3, stratify=y, random_state=SEED)
    model = GradientBoostingClassifier(n_estimators=40, max_depth=2, subsample=0.8,
                                       random_state=SEED).fit(X_tr, y_tr)
    background = X_tr.iloc[rows_of(len(X_tr), 7, 100)]
    if probability:
        return float(model.predict_proba(background)[:, 1].mean())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        explainer = shap.TreeExplainer(model, data=background, feature_perturbation="interventional")
    return float(np.ravel(explainer.expected_value)[0])


BASE = _base_value()
RIGHT = {
    "q1": dict(train_reproducibly=train_reproducibly),
    "q2": dict(data_fingerprint=data_fingerprint, fingerprint=data_fingerprint(X, y)),
    "q3": dict(card_metrics=card_metrics),
    "q4": dict(card_problems=card_problems),
    "q5": dict(background_rows=background_rows, base_value_card=BASE),
}
QUESTIONS = dict(m13.QUESTIONS)


@pytest.mark.parametrize("label", sorted(RIGHT))
def test_right_answers_pass_visible_and_hidden(label):
    question = QUESTIONS[label]
    question.verify(**RIGHT[label])
    for seed in (0, 13037):
        question.verify_hidden(seed=seed, **RIGHT[label])


def test_numpy_string_group_keys_pass():
    """A loop over np.unique(group) without str() gives np.str_ keys: the labels all the same."""
    def card_metrics_numpy_keys(y_true, p, group, threshold):
        out = card_metrics(y_true, p, group, threshold)
        return {(k if k == "overall" else np.str_(k)): v for k, v in out.items()}

    QUESTIONS["q3"].verify(card_metrics=card_metrics_numpy_keys)
    QUESTIONS["q3"].verify_hidden(seed=5, card_metrics=card_metrics_numpy_keys)


def test_references_pass_their_own_checks():
    for question in QUESTIONS.values():
        refs = question.references()
        question.verify(**refs)
        question.verify_hidden(seed=5, **refs)


def test_the_explainer_base_value_is_the_mean_log_odds_of_the_stored_rows():
    """What q5's key computes without shap equals shap's expected_value (1e-9)."""
    assert abs(BASE - m13.BackgroundRows.references()["base_value_card"]) < 1e-9


def test_same_seed_same_run_other_seed_other_rows():
    a, b, c = train_reproducibly(5), train_reproducibly(5), train_reproducibly(6)
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])
    assert not np.array_equal(np.sort(a[0]), np.sort(c[0]))


# --- the catalogued mistakes -------------------------------------------------------------------
def _train_mistake(split, model):
    def f(seed):
        s = {"seed": seed, "none": None}.get(split, split)
        m = {"seed": seed, "none": None}.get(model, model)
        X_tr, X_te, y_tr, _ = train_test_split(X, y, test_size=0.3, stratify=y, random_state=s)
        fitted = GradientBoostingClassifier(n_estimators=40, max_depth=2, subsample=0.8,
                                            random_state=m).fit(X_tr, y_tr)
        return X_te.index.to_numpy(), fitted.predict_proba(X_te)[:, 1]

    return f


def _global_seed(seed):
    np.random.seed(seed)
    return _train_mistake("none", "none")(seed)


def _shared_state(seed):
    state = np.random.RandomState(seed)
    return _train_mistake(state, state)(seed)


def _mistake(label, fn, kind):
    name = QUESTIONS[label].names[0]
    return {**RIGHT[label], name: lambda *a: fn(*a, mistake=kind)}


MISTAKES = [
    ("q1", dict(train_reproducibly=_train_mistake(0, 0)), "ignores its seed"),
    ("q1", dict(train_reproducibly=_global_seed), "np.random.seed"),
    ("q1", dict(train_reproducibly=_shared_state), "one `RandomState(seed)` shared"),
    ("q1", dict(train_reproducibly=_train_mistake("none", "seed")), "split is a random step"),
    ("q1", dict(train_reproducibly=_train_mistake(42, "seed")), "split is a random step"),
    ("q1", dict(train_reproducibly=_train_mistake("seed", "none")), "the model is a random step too"),
    ("q2", _mistake("q2", m13._ref_fingerprint, "features"), "features only"),
    ("q2", _mistake("q2", m13._ref_fingerprint, "no_index"), "index=False"),
    ("q2", _mistake("q2", m13._ref_fingerprint, "md5"), "MD5"),
    ("q2", _mistake("q2", m13._ref_fingerprint, "csv"), "CSV text"),
    ("q2", _mistake("q2", m13._ref_fingerprint, "order"), "label column first"),
    ("q3", _mistake("q3", m13._ref_card_metrics, "pooled"), "overall numbers"),
    ("q3", _mistake("q3", m13._ref_card_metrics, "strict"), "p > threshold"),
    ("q3", _mistake("q3", m13._ref_card_metrics, "flags"), "0/1 flags"),
    ("q3", _mistake("q3", m13._ref_card_metrics, "base_rate"), "base rate"),
    ("q3", dict(card_metrics=lambda y, p, g, t: {"overall": card_metrics(y, p, g, t)["overall"]}), "only the overall numbers"),
    ("q4", _mistake("q4", m13._ref_problems, "exact"), "compares the numbers exactly"),
    ("q4", _mistake("q4", m13._ref_problems, "present"), "present but empty"),
    ("q4", _mistake("q4", m13._ref_problems, "train_only"), "only flags the 'train' split"),
    ("q4", _mistake("q4", m13._ref_problems, "no_groups"), "not disaggregated"),
    ("q4", _mistake("q4", m13._ref_problems, "overall_only"), "only recomputes the overall entry"),
    ("q4", _mistake("q4", m13._ref_problems, "fixed_threshold"), "the card's own threshold"),
    ("q4", _mistake("q4", m13._ref_problems, "count_entries"), "counts the entries"),
    ("q4", _mistake("q4", m13._ref_problems, "groups_only"), "but not \"overall\""),
    ("q4", _mistake("q4", m13._ref_problems, "oos_key"), "empty `out_of_scope` list"),
    ("q4", _mistake("q4", m13._ref_problems, "rates_only"), "does not compare `n`"),
    ("q5", _mistake("q5", m13._ref_rows, "legacy"), "legacy global stream"),
    ("q5", _mistake("q5", m13._ref_rows, "replace"), "*with* replacement"),
    ("q5", _mistake("q5", m13._ref_rows, "unsorted"), "not sorted"),
    ("q5", _mistake("q5", m13._ref_rows, "first"), "first `size` rows"),
    ("q5", {**RIGHT["q5"], "base_value_card": _base_value(probability=True)}, "mean probability"),
    ("q5", {**RIGHT["q5"], "base_value_card": m13._whole_background_base()}, "whole training split"),
    ("q5", {**RIGHT["q5"], "base_value_card": m13._path_dependent_base()}, "without background data"),
]  # fmt: skip


@pytest.mark.parametrize("label, values, named", MISTAKES, ids=[m[2][:24] for m in MISTAKES])
def test_mistakes_are_named_and_the_answer_is_not_shown(label, values, named):
    question = QUESTIONS[label]
    with pytest.raises(Incorrect) as visible:
        question.verify(**values)
    message = str(visible.value)
    assert named in message
    assert not isinstance(visible.value, NotAttempted)
    for shown in (RIGHT["q2"]["fingerprint"][:12], f"{BASE:.4g}", f"{BASE:.4f}"):
        assert shown not in message
    with pytest.raises(Incorrect):
        question.verify_hidden(seed=13049, **values)


def test_rounded_base_value_passes_visible_but_not_hidden():
    values = {**RIGHT["q5"], "base_value_card": round(BASE, 7)}
    m13.q5.verify(**values)
    with pytest.raises(Incorrect, match="do not round"):
        m13.q5.verify_hidden(seed=1, **values)


# --- not attempted, wrong types: feedback, never a traceback -----------------------------------
@pytest.mark.parametrize("label", sorted(RIGHT))
def test_unwritten_functions_are_not_attempted(label):
    question = QUESTIONS[label]
    fname = question.names[0]
    for stub in (unfinished, no_return):
        with pytest.raises(NotAttempted) as info:
            question.verify(**{**RIGHT[label], fname: stub})
        assert f"`{fname}" in str(info.value)


@pytest.mark.parametrize(
    "label, values, text",
    [
        ("q1", dict(train_reproducibly=lambda s: train_reproducibly(s)[1]), "should return a tuple"),
        ("q1", dict(train_reproducibly=lambda s: (pd.Index([1, 2]), np.zeros(2))), "should be an array"),
        ("q2", {**RIGHT["q2"], "data_fingerprint": lambda X, y: 12345}, "should be a string"),
        ("q2", {**RIGHT["q2"], "fingerprint": "abc"}, "is not `data_fingerprint(X, y)`"),
        ("q3", dict(card_metrics=lambda y, p, g, t: [1, 2]), "should be a dict"),
        ("q4", dict(card_problems=lambda c, y, p, g: "stale_numbers"), "sorted list"),
        ("q4", dict(card_problems=lambda c, y, p, g: ["stale"]), "unknown code"),
        ("q4", dict(card_problems=lambda c, y, p, g: sorted(card_problems(c, y, p, g), reverse=True) * 2), "each code once"),
        ("q5", {**RIGHT["q5"], "background_rows": lambda n, s, k: np.arange(k + 1)}, "should have shape"),
        ("q5", {**RIGHT["q5"], "base_value_card": "-0.58"}, "single number"),
    ],
)  # fmt: skip
def test_wrong_types_get_a_clear_message(label, values, text):
    with pytest.raises(Incorrect) as info:
        QUESTIONS[label].verify(**values)
    assert text in str(info.value)


def test_student_inputs_are_copies():
    def vandal(card, y_true, p, group):
        out = card_problems(card, y_true, p, group)
        card["quantitative_analyses"]["results"].clear()
        p[:] = 0
        return out

    m13.q4.verify(card_problems=vandal)
    m13.q4.verify(card_problems=card_problems)


# --- the student side ----------------------------------------------------------------------------
def test_student_module_has_no_reference_code():
    text = (ROOT / "grader/checks/m13.py").read_text()
    key_functions = set(re.findall(r"^def (_\w+)\(", (ROOT / "solutions" / AID / "key.py").read_text(),
                                   re.M))
    for name in key_functions | {"verify_hidden", "references", "13037", "make_readmission"}:
        assert not re.search(rf"\b{name}\b", text), name
    assert set(CARD_PROBLEMS) == {"missing_section", "no_out_of_scope", "wrong_split",
                                  "not_disaggregated", "stale_numbers"}
    for q in (student_m13.q1, student_m13.q2, student_m13.q3, student_m13.q4, student_m13.q5):
        with pytest.raises(NotImplementedError):
            q.verify()
        assert 2 <= len(q.hints) <= 3


def test_offline_check_passes_right_answers_and_names_mistakes(ns, capsys):
    for label, values in RIGHT.items():
        ns.clear()
        ns.update(values)
        getattr(student_m13, label).check()
    assert capsys.readouterr().out.count("Correct") == 5
    ns.clear()
    ns.update(_mistake("q4", m13._ref_problems, "exact"))
    with pytest.raises(Incorrect, match="compares the numbers exactly"):
        student_m13.q4.check()


def test_precomputed_data_hides_the_single_value_answers():
    from grader.config import Course
    from grader.precompute import out_of_date

    data = (ROOT / "grader/checks/data/m13.json").read_text()
    assert RIGHT["q2"]["fingerprint"] not in data
    assert f"{BASE:.6f}"[3:] not in data
    assert out_of_date(Course(ROOT), AID) == []
