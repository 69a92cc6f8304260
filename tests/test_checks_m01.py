"""Unit tests of the checks of assignment 01, why interpret? (the key,
``solutions/01-why-interpret/key.py``, and the student side ``grader.checks.m01``), without
running notebooks.

For every question: the right answer passes ``verify`` and ``verify_hidden``; each catalogued
misconception raises ``Incorrect`` naming it; no message contains the expected value; and
placeholders, ``None`` and exceptions in the student's code become feedback, not tracebacks.
The answers are built here the way the notebook's setup and solution cells build them.
"""

from __future__ import annotations

import inspect
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.datasets import load_wine
from sklearn.ensemble import RandomForestClassifier
from sklearn.inspection import permutation_importance
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from grader.checks import core
from grader.checks import m01 as student_m01
from grader.checks.core import Incorrect, NotAttempted
from grader.checks.offline import load_key_file
from grader.datasets import make_loan_default

ROOT = Path(__file__).resolve().parents[1]
m01 = load_key_file(ROOT / "solutions/01-why-interpret/key.py")

#: Hidden-test seeds: every catalogued mistake must fail, and every right answer pass, for each.
SEEDS = (1011, 7, 123456, 1, 2, 99, 2024, 31337)


def fails(check, *args, **kwargs) -> str:
    """Run a check that must fail; return its message."""
    with pytest.raises(Incorrect) as info:
        check(*args, **kwargs)
    return str(info.value)


# --- the notebook's setup and solutions --------------------------------------------------------


@pytest.fixture(scope="module")
def loans():
    X, y = make_loan_default(n=2000, seed=0)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, random_state=1)
    model = RandomForestClassifier(
        n_estimators=100, min_samples_leaf=5, random_state=0, n_jobs=1
    ).fit(X_train, y_train)
    return X_train, X_test, y_train, y_test, model


@pytest.fixture(scope="module")
def importances(loans):
    X_train, X_test, y_train, y_test, model = loans

    def on(X, y, **kw):
        settings = {"n_repeats": 5, "random_state": 0, "n_jobs": 1, **kw}
        r = permutation_importance(model, X, y, **settings)
        return pd.Series(r.importances_mean, index=X.columns)

    return {
        "test": on(X_test, y_test),
        "train": on(X_train, y_train),
        "test_other_seed": on(X_test, y_test, random_state=1),
        "mdi": pd.Series(model.feature_importances_, index=X_test.columns),
    }


@pytest.fixture(scope="module")
def accuracies(loans):
    X_train, X_test, y_train, y_test, model = loans
    leaks = ["collection_calls", "hardship_plan"]
    honest = clone(model).fit(X_train.drop(columns=leaks), y_train)
    one = clone(model).fit(X_train.drop(columns=leaks[0]), y_train)
    return {
        "honest": honest.score(X_test.drop(columns=leaks), y_test),
        "honest_train": honest.score(X_train.drop(columns=leaks), y_train),
        "one_leak": one.score(X_test.drop(columns=leaks[0]), y_test),
        "leak": model.score(X_test, y_test),
        "baseline": y_test.value_counts(normalize=True).max(),
        "minority": y_test.mean(),
        "baseline_train": y_train.value_counts(normalize=True).max(),
    }


class _Split:
    def __init__(self, X_train, X_test):
        self.X_train, self.X_test = X_train, X_test


@pytest.fixture(scope="module")
def cancer():
    """The notebook's q5 setup: the wine table, cultivar A against the others (the fixture keeps
    its old name; ``split.X_test`` is ``Xw_test``)."""
    wine = load_wine(as_frame=True)
    y = (wine.target == 0).astype(int)
    X_train, X_test, y_train, _ = train_test_split(
        wine.data, y, test_size=0.3, stratify=y, random_state=0
    )
    model = make_pipeline(StandardScaler(), LogisticRegression(C=0.1, max_iter=1000))
    return _Split(X_train, X_test), model.fit(X_train, y_train)


def fraction_correct(y_true, y_pred):
    return float(np.mean(np.asarray(y_true) == np.asarray(y_pred)))


TAXONOMY = {
    "mdi": ("global", False),
    "ale": ("global", True),
    "anchors": ("local", True),
    "treeshap_summary": ("global", False),
    "attention_weights": ("local", False),
    "h_statistic": ("global", True),
    "rulefit_rules": ("global", False),
    "occlusion": ("local", True),
}


def local_contributions(model, x_row):
    scaler, logreg = model[0], model[-1]
    return (x_row - scaler.mean_) / scaler.scale_ * logreg.coef_[0]


def top_feature(split, model) -> str:
    return local_contributions(model, split.X_test.iloc[13]).abs().idxmax()


# --- the module -----------------------------------------------------------------------------


def test_exports_five_questions():
    assert student_m01.__all__ == ["q1", "q2", "q3", "q4", "q5"]
    assert list(m01.QUESTIONS) == student_m01.__all__
    for i, label in enumerate(student_m01.__all__, 1):
        q = getattr(student_m01, label)
        assert isinstance(q, core.Question) and q.label == f"q{i}"
        assert len(q.hints) == 2  # tier 1: the idea; tier 2: the step
        assert not any("`" in h and "(" in h and "=" in h for h in q.hints), q.hints  # no code
        assert m01.QUESTIONS[label].hints == q.hints and m01.QUESTIONS[label].label == label


def test_key_references_pass_the_keys_own_checks():
    for q in m01.QUESTIONS.values():
        refs = q.references()
        assert set(refs) == set(q.names)
        q.verify(**refs)
        q.verify_hidden(seed=99, **refs)
        q.verify_graded(seed=99, **refs)


def test_check_reports_missing_and_placeholder_answers(monkeypatch):
    namespace: dict = {}
    monkeypatch.setattr(core, "_user_namespace", lambda: namespace)
    with pytest.raises(NotAttempted, match="not defined"):
        m01.q3.check()
    namespace.update(test_importance=..., leaky_feature="age")
    with pytest.raises(NotAttempted, match="placeholder"):
        m01.q3.check()
    namespace.update(fraction_correct=fraction_correct)
    student_m01.q1.check()  # offline: the precomputed data
    student_m01.q1.check_hidden(seed=1011)  # the key, found above the working folder
    namespace.update(fraction_correct=lambda a, b: int(np.sum(np.asarray(a) == np.asarray(b))))
    with pytest.raises(Incorrect, match="count of correct predictions"):
        student_m01.q1.check()


# --- q1 ---------------------------------------------------------------------------------------


def test_q1_right_answer_passes():
    m01.q1.verify(fraction_correct)
    for seed in SEEDS:
        m01.q1.verify_hidden(seed, fraction_correct)
    m01.q1.verify_hidden(1, lambda a, b: (a == b).mean())  # a NumPy float is fine


@pytest.mark.parametrize(
    ("wrong", "named"),
    [
        (lambda a, b: int(np.sum(a == b)), "count"),
        (lambda a, b: 100 * float(np.mean(a == b)), "percentage"),
        (lambda a, b: float(np.sum(a == b) / np.sum(a == 1)), "positive"),
        (lambda a, b: float(np.mean(a != b)), "error rate"),
    ],
)
def test_q1_misconceptions_are_named(wrong, named):
    message = fails(m01.q1.verify, wrong)
    assert named in message
    assert "0.7" not in message  # the right answer on the visible case
    for seed in SEEDS:
        assert named in fails(m01.q1.verify_hidden, seed, wrong)


def test_q1_hard_coded_answer_fails_the_hidden_test():
    m01.q1.verify(lambda a, b: 0.7)
    assert "grading time" in fails(m01.q1.verify_hidden, 1011, lambda a, b: 0.7)


def test_q1_student_errors_become_feedback():
    with pytest.raises(NotAttempted, match="return"):
        m01.q1.verify(lambda a, b: None)

    def not_done(a, b):
        raise NotImplementedError()

    with pytest.raises(NotAttempted, match="NotImplementedError"):
        m01.q1.verify(not_done)
    assert "ZeroDivisionError" in fails(m01.q1.verify, lambda a, b: 1 / 0)
    assert "should be a function" in fails(m01.q1.verify, 0.7)
    assert "single number" in fails(m01.q1.verify, lambda a, b: "0.7")
    assert "outside [0, 1]" in fails(m01.q1.verify, lambda a, b: -0.25)


def test_q1_hidden_cases_separate_every_mistake():
    rng = np.random.default_rng(0)
    for labels in (np.array([0, 1]), np.array([0, 1, 2]), np.array(["no", "yes"])):
        for _ in range(20):
            assert m01._q1_distinct(*m01._q1_case(rng, labels))
    assert m01._q1_distinct(np.array(m01._Q1_TRUE), np.array(m01._Q1_PRED))


# --- q2 ---------------------------------------------------------------------------------------


def test_q2_right_answer_passes():
    m01.q2.verify(dict(TAXONOMY))
    m01.q2.verify_hidden(1021, taxonomy=dict(TAXONOMY))
    relaxed = {k: [s.upper(), np.bool_(a)] for k, (s, a) in TAXONOMY.items()}
    m01.q2.verify(relaxed)


@pytest.mark.parametrize(
    ("method", "wrong", "reason"),
    [
        ("treeshap_summary", ("local", True), "whole test set"),
        ("treeshap_summary", ("global", True), "TreeExplainer walks"),
        ("mdi", ("global", True), "impurity decreases"),
        ("occlusion", ("local", False), "prediction function"),
        ("anchors", ("global", True), "around one instance"),
        ("h_statistic", ("local", True), "share of the variance"),
    ],
)
def test_q2_common_confusions_are_explained(method, wrong, reason):
    answer = {**TAXONOMY, method: wrong}
    message = fails(m01.q2.verify, answer)
    assert f"`{method}`" in message and reason in message
    assert "1 of the 8" in message
    assert str(TAXONOMY[method]) not in message  # the right tuple is not shown
    others = [m for m in TAXONOMY if m != method and f"`{m}`" in message]
    assert not others
    for seed in SEEDS:
        assert reason in fails(m01.q2.verify_hidden, seed, taxonomy=answer)


def test_q2_every_wrong_part_has_a_reason_and_both_parts_are_reported():
    for method, (scope, agnostic) in TAXONOMY.items():
        other = "local" if scope == "global" else "global"
        assert m01._NOTES.get((method, "scope", other))
        assert m01._NOTES.get((method, "agnostic", "false" if agnostic else "true"))
        assert m01._NOTES.get((method, "scope", scope)) is None  # no note for a right part
    message = fails(m01.q2.verify, {**TAXONOMY, "attention_weights": ("global", True)})
    assert "one sentence passing" in message and "model without attention" in message


def test_q2_several_wrong_items_are_all_named():
    answer = {**TAXONOMY, "ale": ("local", True), "anchors": ("global", False)}
    message = fails(m01.q2.verify, answer)
    assert "2 of the 8" in message and "`ale`" in message and "`anchors`" in message


def test_q2_answer_key_is_not_in_plain_text():
    data = (ROOT / "grader/checks/data/m01.json").read_text(encoding="utf-8")
    for text in (inspect.getsource(student_m01), data):
        for method, (scope, agnostic) in TAXONOMY.items():
            assert f'"{method}": ("{scope}", {agnostic})' not in text
            assert json.dumps([method, scope, agnostic]) not in text
        assert "whole test set" not in text  # the mistakes' notes are sealed
    reads = json.loads(data)["questions"]["q3"]["reads"]
    assert set(reads["leaky_feature"]) == {"kind", "quantum", "hashes"}  # hashed, not the name


def test_q2_offline_check_hashes_the_whole_taxonomy_and_names_mistakes(monkeypatch):
    namespace: dict = {"taxonomy": dict(TAXONOMY)}
    monkeypatch.setattr(core, "_user_namespace", lambda: namespace)
    student_m01.q2.check()
    namespace["taxonomy"] = {k: [s.upper(), np.bool_(a)] for k, (s, a) in TAXONOMY.items()}
    student_m01.q2.check()  # the same canonical form as the key accepts
    namespace["taxonomy"] = {**TAXONOMY, "treeshap_summary": ("local", True)}  # catalogued
    with pytest.raises(Incorrect, match="whole test set"):
        student_m01.q2.check()
    namespace["taxonomy"] = {**TAXONOMY, "ale": ("local", False)}  # not catalogued
    with pytest.raises(Incorrect, match="is not the right value"):
        student_m01.q2.check()
    namespace["taxonomy"] = {**TAXONOMY, "ale": "global"}
    with pytest.raises(Incorrect, match="should be a tuple"):
        student_m01.q2.check()


@pytest.mark.parametrize(
    ("answer", "said"),
    [
        ([("mdi", ("global", False))], "should be a dict"),
        ({k: v for k, v in TAXONOMY.items() if k != "anchors"}, "missing 'anchors'"),
        ({**TAXONOMY, "lime": ("local", True)}, "unexpected 'lime'"),
        ({**TAXONOMY, "ale": "global"}, "should be a tuple"),
        ({**TAXONOMY, "ale": ("everywhere", True)}, "'global' or"),
        ({**TAXONOMY, "ale": ("global", "True")}, "True or False"),
    ],
)
def test_q2_wrong_shapes_get_feedback(answer, said):
    assert said in fails(m01.q2.verify, answer)


# --- q3 ---------------------------------------------------------------------------------------


def test_q3_right_answer_passes(importances):
    m01.q3.verify(importances["test"].copy(), "collection_calls")
    m01.q3.verify_hidden(1031, importances["test"].copy(), "collection_calls")
    shuffled = importances["test"].sample(frac=1.0, random_state=1)  # any order of the index
    m01.q3.verify(shuffled, np.str_("collection_calls"))


def test_q3_misconceptions_are_named(importances):
    test = importances["test"]
    for plausible in ("debt_to_income", "late_payments_2y"):
        message = fails(m01.q3.verify, test.copy(), plausible)
        assert "plausible" in message and "collection_calls" not in message
    message = fails(m01.q3.verify, test.copy(), "hardship_plan")
    assert "compare the importances" in message and "collection_calls" not in message
    message = fails(m01.q3.verify, importances["train"].copy(), "collection_calls")
    assert "training split" in message
    assert f"{test['collection_calls']:.4g}" not in message
    for seed in SEEDS:
        for wrong, leak in ((importances["train"], "collection_calls"),
                            (importances["mdi"], "collection_calls"),
                            (test, "debt_to_income"), (test, "hardship_plan")):
            fails(m01.q3.verify_hidden, seed, wrong.copy(), leak)
        m01.q3.verify_hidden(seed, test.copy(), "collection_calls")
    message = fails(m01.q3.verify, importances["mdi"].copy(), "collection_calls")
    assert "MDI" in message
    message = fails(m01.q3.verify, pd.Series(test.to_numpy()), "collection_calls")
    assert "index" in message and "column names" in message
    message = fails(m01.q3.verify, test.to_numpy(), "collection_calls")
    assert "NumPy array" in message
    message = fails(m01.q3.verify, importances["test_other_seed"].copy(), "collection_calls")
    assert "random_state=0" in message


def test_q3_other_wrong_answers(importances):
    test = importances["test"]
    assert "not a column" in fails(m01.q3.verify, test.copy(), "billing")
    assert "known when the loan is applied for" in fails(m01.q3.verify, test.copy(), "age")
    assert "should be a string" in fails(m01.q3.verify, test.copy(), 5)
    assert "one per column" in fails(m01.q3.verify, test.drop("age"), "collection_calls")
    assert "DataFrame" in fails(m01.q3.verify, test.to_frame(), "collection_calls")


def test_q3_hidden_is_stricter(importances):
    nudged = importances["test"] + 1e-6
    m01.q3.verify(nudged, "collection_calls")
    fails(m01.q3.verify_hidden, 1031, nudged, "collection_calls")


# --- q4 ---------------------------------------------------------------------------------------


def test_q4_right_answer_passes(accuracies):
    a = accuracies
    m01.q4.verify("hardship_plan", a["honest"], a["baseline"])
    for seed in SEEDS:
        m01.q4.verify_hidden(seed, np.str_("hardship_plan"), a["honest"], a["baseline"])
    assert a["honest"] != a["one_leak"]  # the unmasking step changes the answer


@pytest.mark.parametrize(
    ("second", "honest", "baseline", "named"),
    [
        ("hardship_plan", "one_leak", "baseline", "only the first leak"),
        ("collection_calls", "honest", "baseline", "already removed"),
        ("late_payments_2y", "honest", "baseline", "lender knows it"),
        ("debt_to_income", "honest", "baseline", "lender knows it"),
        ("hardship_plan", "honest_train", "baseline", "training split"),
        ("hardship_plan", "leak", "baseline", "leaks still in it"),
        ("hardship_plan", "honest", "minority", "minority"),
        ("hardship_plan", "honest", "baseline_train", "y_train"),
    ],
)
def test_q4_misconceptions_are_named(accuracies, second, honest, baseline, named):
    message = fails(m01.q4.verify, second, accuracies[honest], accuracies[baseline])
    assert named in message
    for right in ("honest", "baseline"):
        assert f"{accuracies[right]:.4g}" not in message
    if second != "hardship_plan":
        assert "hardship_plan" not in message
    for seed in SEEDS:
        assert named in fails(m01.q4.verify_hidden, seed, second, accuracies[honest],
                              accuracies[baseline])


def test_q4_other_wrong_answers(accuracies):
    a = accuracies
    ok = "hardship_plan"
    assert "percentage" in fails(m01.q4.verify, ok, 100 * a["honest"], a["baseline"])
    assert "percentage" in fails(m01.q4.verify, ok, a["honest"], 100 * a["baseline"])
    assert "single number" in fails(m01.q4.verify, ok, "0.7", a["baseline"])
    assert "boolean" in fails(m01.q4.verify, ok, a["honest"], True)
    assert "not the test accuracy" in fails(m01.q4.verify, ok, 0.5, a["baseline"])
    assert "not a column" in fails(m01.q4.verify, "hardship", a["honest"], a["baseline"])
    assert "should be a string" in fails(m01.q4.verify, 3, a["honest"], a["baseline"])


# --- q5 ---------------------------------------------------------------------------------------


def test_q5_right_answer_passes(cancer):
    split, model = cancer
    m01.q5.verify(local_contributions, top_feature(split, model))
    for seed in SEEDS:
        m01.q5.verify_hidden(seed, local_contributions, top_feature(split, model))


def test_q5_function_misconceptions_are_named(cancer):
    split, model = cancer
    top = top_feature(split, model)
    cases = [
        (lambda m, x: x * m[-1].coef_[0], "standardise"),
        (lambda m, x: pd.Series(np.abs(m[-1].coef_[0]), index=x.index), "global"),
        (lambda m, x: pd.Series(m[-1].coef_[0], index=x.index), "global"),
        (lambda m, x: -local_contributions(m, x), "sign"),
        (lambda m, x: local_contributions(m, x).to_numpy(), "feature names"),
        (lambda m, x: pd.Series(local_contributions(m, x).to_numpy()), "index"),
        (lambda m, x: local_contributions(m, x).abs(), "absolute values"),
    ]
    right = local_contributions(model, split.X_test.iloc[0])
    for wrong, named in cases:
        message = fails(m01.q5.verify, wrong, top)
        assert named in message
        assert np.array2string(right.to_numpy()[:3], precision=4)[1:-1] not in message
        for seed in SEEDS:
            assert named in fails(m01.q5.verify_hidden, seed, wrong, top)


def test_q5_top_feature_misconceptions(cancer):
    split, model = cancer
    right = top_feature(split, model)
    coef = pd.Series(model[-1].coef_[0], index=split.X_train.columns)
    global_top = coef.abs().idxmax()
    assert global_top != right  # the asked wine separates local from global
    raw_top = (coef * split.X_test.iloc[13]).abs().idxmax()
    message = fails(m01.q5.verify, local_contributions, global_top)
    assert "global" in message and right not in message
    assert "raw" in fails(m01.q5.verify, local_contributions, raw_top)  # here: the same feature
    contributions = local_contributions(model, split.X_test.iloc[13])
    signed = contributions.idxmax() if contributions.idxmax() != right else contributions.idxmin()
    assert "signed" in fails(m01.q5.verify, local_contributions, signed)
    assert "not a feature name" in fails(m01.q5.verify, local_contributions, "texture")
    for seed in SEEDS:
        for wrong in (global_top, raw_top, signed):
            fails(m01.q5.verify_hidden, seed, local_contributions, wrong)


def test_q5_function_that_ignores_its_arguments_fails_the_hidden_test(cancer):
    split, model = cancer

    def uses_the_notebook_model(m, x):
        return local_contributions(model, x)

    m01.q5.verify(uses_the_notebook_model, top_feature(split, model))
    message = fails(m01.q5.verify_hidden, 1051, uses_the_notebook_model, top_feature(split, model))
    assert "grading time" in message or "raised" in message


def test_q5_student_errors_become_feedback(cancer):
    split, model = cancer
    top = top_feature(split, model)
    with pytest.raises(NotAttempted, match="return"):
        m01.q5.verify(lambda m, x: None, top)
    assert "raised KeyError" in fails(m01.q5.verify, lambda m, x: {}["coef"], top)
    assert "pandas Series" in fails(m01.q5.verify, lambda m, x: [1.0, 2.0], top)


def test_q5_the_student_cannot_damage_the_reference_model(cancer):
    split, model = cancer

    def refits(m, x):
        m[-1].coef_[0] = 0.0
        return local_contributions(m, x)

    fails(m01.q5.verify, refits, top_feature(split, model))
    m01.q5.verify(local_contributions, top_feature(split, model))


# --- the offline check (student side, no key) on series and models ------------------------------


def test_offline_q3_compares_the_series_by_label(monkeypatch, importances):
    namespace: dict = {"leaky_feature": "collection_calls"}
    monkeypatch.setattr(core, "_user_namespace", lambda: namespace)
    namespace["test_importance"] = importances["test"].sample(frac=1.0, random_state=3)
    student_m01.q3.check()  # any order of the index, as the key accepts
    namespace["test_importance"] = pd.Series(importances["test"].to_numpy())
    with pytest.raises(Incorrect, match="index"):
        student_m01.q3.check()
    namespace["test_importance"] = importances["train"].copy()
    with pytest.raises(Incorrect, match="training split"):
        student_m01.q3.check()
    namespace.update(test_importance=importances["test"].copy(), leaky_feature="debt_to_income")
    with pytest.raises(Incorrect, match="plausible"):
        student_m01.q3.check()


def test_offline_q5_calls_the_function_on_the_rebuilt_model(monkeypatch, cancer):
    split, model = cancer
    namespace: dict = {"local_contributions": local_contributions,
                       "top_feature_wine": top_feature(split, model)}
    monkeypatch.setattr(core, "_user_namespace", lambda: namespace)
    student_m01.q5.check()
    namespace["local_contributions"] = lambda m, x: x * m[-1].coef_[0]
    with pytest.raises(Incorrect, match="standardise"):
        student_m01.q5.check()
    namespace["local_contributions"] = lambda m, x: local_contributions(m, x).to_numpy()
    with pytest.raises(Incorrect, match="feature names"):
        student_m01.q5.check()


# --- the generator (grader.datasets.make_loan_default) ------------------------------------------


def test_loan_generator_is_seeded_and_its_leaks_come_from_the_outcome():
    X, y = make_loan_default(n=2000, seed=0)
    again, y2 = make_loan_default(n=2000, seed=0)
    pd.testing.assert_frame_equal(X, again)
    assert y.equals(y2) and not make_loan_default(n=2000, seed=1)[0].equals(X)
    assert list(X.columns) == ["age", "income", "hardship_plan", "debt_to_income",
                               "credit_history_years", "late_payments_2y", "loan_amount",
                               "collection_calls"]
    assert 0.2 < y.mean() < 0.3
    calls, plan = X["collection_calls"], X["hardship_plan"]
    assert (calls[y == 1] >= 1).all() and (calls[y == 0] == 0).mean() > 0.85  # near-separating
    assert 0.35 < plan[y == 1].mean() < 0.55 and plan[y == 0].mean() < 0.08  # weaker
    assert X["age"].corr(X["credit_history_years"]) > 0.6  # correlated: used by module 02's q4
