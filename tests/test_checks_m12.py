"""Assignment 12 checks (the key, solutions/12-fairness-governance/key.py): right answers pass,
named mistakes fail, feedback never shows the expected value.

Fast unit tests: the key's ``verify``/``verify_hidden`` are called directly with the values a
student would define (no notebook is executed). ``grader verify 12-fairness-governance`` proves
the mutant catalogue against the executed notebook; these tests pin the same mistakes at the unit
level, and the tiers around them (not attempted, wrong type, hostile values), and check the
student-side module and its precomputed data offline.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import no_return, unfinished
from fairlearn.metrics import (
    MetricFrame,
    demographic_parity_difference,
    equalized_odds_difference,
    false_positive_rate,
    selection_rate,
    true_positive_rate,
)
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split

from grader.checks import Incorrect, NotAttempted
from grader.checks import m12 as student_m12
from grader.checks.offline import load_key_file
from grader.datasets import make_credit

ROOT = Path(__file__).resolve().parents[1]
m12 = load_key_file(ROOT / "solutions/12-fairness-governance/key.py")
SEEDS = (0, 1, 7, 12031, 2024)
FEATURES = ["income", "savings", "debt_ratio", "late_payments", "neighbourhood"]
GRID = np.round(np.arange(0.20, 0.80, 0.01), 2)


# --- the notebook's setup, rebuilt as a student would have it ----------------------------------
def _setup() -> dict:
    lending = make_credit(n=6000, seed=12, reported_income_bias=-0.2, include_proxy=True)
    lending["group"] = np.where(lending["group"] == 1, "B", "A")
    train, rest = train_test_split(lending, test_size=0.5, random_state=1, stratify=lending["group"])
    calib, test = train_test_split(rest, test_size=0.5, random_state=1, stratify=rest["group"])
    model = LogisticRegression(max_iter=5000).fit(train[FEATURES], train["repaid"])
    p_test = model.predict_proba(test[FEATURES])[:, 1]
    return dict(
        model=model, test=test, p_calib=model.predict_proba(calib[FEATURES])[:, 1],
        y_calib=calib["repaid"].to_numpy(), g_calib=calib["group"].to_numpy(), p_test=p_test,
        y_test=test["repaid"].to_numpy(), g_test=test["group"].to_numpy(),
        approved=(p_test >= 0.5).astype(int),
    )  # fmt: skip


NB = _setup()


# --- right answers: the notebook's solutions and a second, pandas-based version ----------------
def group_rates(y_true, y_pred, group):
    y_true, y_pred, group = np.asarray(y_true), np.asarray(y_pred), np.asarray(group)

    def rate(num, den):
        return float(num / den) if den > 0 else float("nan")

    out = {}
    for g in np.unique(group):
        t, p = y_true[group == g], y_pred[group == g]
        tp, fp = np.sum((t == 1) & (p == 1)), np.sum((t == 0) & (p == 1))
        fn, tn = np.sum((t == 1) & (p == 0)), np.sum((t == 0) & (p == 0))
        out[str(g)] = {"n": int(t.size), "selection_rate": rate(tp + fp, t.size),
                       "tpr": rate(tp, tp + fn), "fpr": rate(fp, fp + tn),
                       "precision": rate(tp, tp + fp)}  # fmt: skip
    return out


def group_rates_pandas(y_true, y_pred, group):
    """groupby and means of boolean masks: also accepted (means of empty sets are nan)."""
    df = pd.DataFrame({"y": np.asarray(y_true), "p": np.asarray(y_pred), "g": np.asarray(group)})
    out = {}
    for g, part in df.groupby("g"):
        out[g] = {
            "n": len(part),
            "selection_rate": part["p"].mean(),
            "tpr": part.loc[part["y"] == 1, "p"].mean() if (part["y"] == 1).any() else np.nan,
            "fpr": part.loc[part["y"] == 0, "p"].mean() if (part["y"] == 0).any() else np.nan,
            "precision": part.loc[part["p"] == 1, "y"].mean() if (part["p"] == 1).any() else np.nan,
        }
    return out


def group_rates_numpy_keys(y_true, y_pred, group):
    """The loop over np.unique(group) without str(): the keys are np.str_, also accepted."""
    return {np.str_(g): row for g, row in group_rates(y_true, y_pred, group).items()}


def fairness_gaps(y_true, y_pred, group):
    rates = group_rates(y_true, y_pred, group).values()
    sel = [r["selection_rate"] for r in rates]
    tpr = [r["tpr"] for r in rates]
    fpr = [r["fpr"] for r in rates]
    return {
        "demographic_parity_diff": max(sel) - min(sel),
        "disparate_impact_ratio": min(sel) / max(sel),
        "equal_opportunity_diff": max(tpr) - min(tpr),
        "equalized_odds_diff": max(max(tpr) - min(tpr), max(fpr) - min(fpr)),
    }


def forced_fpr(base_rate, ppv, tpr):
    return base_rate / (1 - base_rate) * (1 - ppv) / ppv * tpr


def gap_by_feature(coef, X, group):
    group = np.asarray(group)
    diff = X[group == "B"].mean() - X[group == "A"].mean()
    return {col: float(w * d) for col, w, d in zip(X.columns, coef, diff, strict=True)}


def gap_by_feature_shap(coef, X, group):
    """SHAP values against the background mean, then group means: also right."""
    phi = (X - X.mean()) * np.asarray(coef)
    group = np.asarray(group)
    return (phi[group == "B"].mean() - phi[group == "A"].mean()).to_dict()


def tpr_matching_threshold(p, y, target_tpr, grid):
    p, y = np.asarray(p, dtype=float), np.asarray(y)
    best = min(grid)
    for t in grid:
        if np.mean(p[y == 1] >= t) >= target_tpr:
            best = t
    return float(best)


def _tpr(p, y, t):
    return float(np.mean(p[y == 1] >= t))


def q3_values(**over):
    r = group_rates(NB["y_test"], NB["approved"], NB["g_test"])
    base_b = float(np.mean(NB["y_test"][NB["g_test"] == "B"]))
    values = dict(forced_fpr=forced_fpr,
                  fpr_forced_B=forced_fpr(base_b, r["A"]["precision"], r["A"]["tpr"]))
    return {**values, **over}


def q4_values(**over):
    gaps = gap_by_feature(NB["model"].coef_[0], NB["test"][FEATURES], NB["g_test"])
    values = dict(gap_by_feature=gap_by_feature,
                  proxy_share=gaps["neighbourhood"] / sum(gaps.values()))
    return {**values, **over}


def _q5_numbers(split="calib", target="A"):
    p, y, g = ((NB["p_calib"], NB["y_calib"], NB["g_calib"]) if split == "calib"
               else (NB["p_test"], NB["y_test"], NB["g_test"]))
    goal = _tpr(p[g == "A"], y[g == "A"], 0.5) if target == "A" else _tpr(p, y, 0.5)
    t_b = tpr_matching_threshold(p[g == "B"], y[g == "B"], goal, GRID)
    pt, yt, gt = NB["p_test"], NB["y_test"], NB["g_test"]
    return t_b, abs(_tpr(pt[gt == "A"], yt[gt == "A"], 0.5) - _tpr(pt[gt == "B"], yt[gt == "B"], t_b))


def q5_values(**over):
    t_b, gap = _q5_numbers()
    values = dict(tpr_matching_threshold=tpr_matching_threshold, threshold_B=t_b, tpr_gap_after=gap)
    return {**values, **over}


RIGHT = {
    "q1": [dict(group_rates=group_rates), dict(group_rates=group_rates_pandas),
           dict(group_rates=group_rates_numpy_keys)],
    "q2": [dict(fairness_gaps=fairness_gaps)],
    "q3": [q3_values()],
    "q4": [q4_values(), q4_values(gap_by_feature=gap_by_feature_shap)],
    "q5": [q5_values()],
}
QUESTIONS = dict(m12.QUESTIONS)


@pytest.mark.parametrize("label, values", [(q, v) for q, vs in RIGHT.items() for v in vs],
                         ids=lambda x: str(x)[:12])
def test_right_answers_pass_visible_and_hidden(label, values):
    question = QUESTIONS[label]
    question.verify(**values)
    for seed in SEEDS:
        question.verify_hidden(seed=seed, **values)


def test_references_pass_their_own_checks():
    for question in QUESTIONS.values():
        refs = question.references()
        question.verify(**refs)
        question.verify_hidden(seed=3, **refs)


def test_our_rates_agree_with_fairlearn():
    """The reference rates and gaps agree with fairlearn's MetricFrame on the notebook's data."""
    y, yhat, g = NB["y_test"], NB["approved"], NB["g_test"]
    frame = MetricFrame(metrics={"selection_rate": selection_rate, "tpr": true_positive_rate,
                                 "fpr": false_positive_rate},
                        y_true=y, y_pred=yhat, sensitive_features=g)
    ours = m12._ref_rates(y, yhat, g)
    for grp, row in frame.by_group.iterrows():
        for key in ("selection_rate", "tpr", "fpr"):
            assert math.isclose(ours[grp][key], row[key], abs_tol=1e-12)
    gaps = m12._ref_gaps(y, yhat, g)
    assert math.isclose(gaps["demographic_parity_diff"],
                        demographic_parity_difference(y, yhat, sensitive_features=g), abs_tol=1e-12)
    assert math.isclose(gaps["equalized_odds_diff"],
                        equalized_odds_difference(y, yhat, sensitive_features=g), abs_tol=1e-12)


def test_the_gap_decomposition_adds_up_to_the_log_odds_gap():
    gaps = gap_by_feature(NB["model"].coef_[0], NB["test"][FEATURES], NB["g_test"])
    logit = NB["model"].decision_function(NB["test"][FEATURES])
    g = NB["g_test"]
    assert math.isclose(sum(gaps.values()), logit[g == "B"].mean() - logit[g == "A"].mean(),
                        abs_tol=1e-10)


# --- the catalogued mistakes -------------------------------------------------------------------
def _rates_mistake(kind):
    return lambda y_true, y_pred, group: m12._ref_rates(y_true, y_pred, group, mistake=kind)


def _gaps_mistake(kind):
    return lambda y_true, y_pred, group: m12._ref_gaps(y_true, y_pred, group, mistake=kind)


def _matching_mistake(kind):
    return lambda p, y, target_tpr, grid: m12._ref_matching(p, y, target_tpr, grid, mistake=kind)


_r = group_rates(NB["y_test"], NB["approved"], NB["g_test"])
_base = {g: float(np.mean(NB["y_test"][NB["g_test"] == g])) for g in "AB"}
_gaps = gap_by_feature(NB["model"].coef_[0], NB["test"][FEATURES], NB["g_test"])
_prob_gap = NB["p_test"][NB["g_test"] == "B"].mean() - NB["p_test"][NB["g_test"] == "A"].mean()

MISTAKES = [
    ("q1", dict(group_rates=_rates_mistake("pooled")), "rates of all rows together"),
    ("q1", dict(group_rates=_rates_mistake("total")), "total number of rows"),
    ("q1", dict(group_rates=_rates_mistake("base_rate")), "base rate"),
    ("q1", dict(group_rates=_rates_mistake("tpr_precision")), "TPR computed as precision"),
    ("q1", dict(group_rates=_rates_mistake("fpr_size")), "divides by the group's size"),
    ("q1", dict(group_rates=_rates_mistake("zero")), "reported as 0.0"),
    ("q2", dict(fairness_gaps=_gaps_mistake("inverted")), "ratio is inverted"),
    ("q2", dict(fairness_gaps=_gaps_mistake("signed")), "signed"),
    ("q2", dict(fairness_gaps=_gaps_mistake("tpr_only")), "only the TPR gap"),
    ("q2", dict(fairness_gaps=_gaps_mistake("mean")), "mean of the TPR and FPR gaps"),
    ("q2", dict(fairness_gaps=_gaps_mistake("base_rate")), "computed from `y_true`"),
    ("q2", dict(fairness_gaps=_gaps_mistake("two")), "only the first two groups"),
    ("q3", q3_values(forced_fpr=lambda p, ppv, tpr: (1 - p) / p * (1 - ppv) / ppv * tpr), "upside down"),
    ("q3", q3_values(forced_fpr=lambda p, ppv, tpr: p / (1 - p) * ppv / (1 - ppv) * tpr), "precision factor"),
    ("q3", q3_values(forced_fpr=lambda p, ppv, tpr: p / (1 - p) * (1 - ppv) / ppv * (1 - tpr)), "miss rate"),
    ("q3", q3_values(forced_fpr=lambda p, ppv, tpr: p * (1 - ppv) / ppv * tpr), "enters as the odds"),
    ("q3", q3_values(fpr_forced_B=forced_fpr(_base["A"], _r["A"]["precision"], _r["A"]["tpr"])), "group A's base rate"),
    ("q3", q3_values(fpr_forced_B=forced_fpr(_base["B"], _r["B"]["precision"], _r["B"]["tpr"])), "group B's actual FPR"),
    ("q4", q4_values(gap_by_feature=lambda c, X, g: {k: -v for k, v in gap_by_feature(c, X, g).items()}), "wrong direction"),
    ("q4", q4_values(gap_by_feature=lambda c, X, g: gap_by_feature(np.ones(len(c)), X, g)), "without the model"),
    ("q4", q4_values(proxy_share=_gaps["neighbourhood"] / _prob_gap), "probabilities"),
    ("q4", q4_values(proxy_share=_gaps["neighbourhood"] / sum(abs(v) for v in _gaps.values())), "*absolute* entries"),
    ("q5", q5_values(tpr_matching_threshold=_matching_mistake("selection")), "selection rate"),
    ("q5", q5_values(tpr_matching_threshold=_matching_mistake("strict")), "strictly greater"),
    ("q5", q5_values(tpr_matching_threshold=_matching_mistake("closest")), "*closest*"),
    ("q5", q5_values(threshold_B=_q5_numbers(split="test")[0]), "tuned on the test split"),
    ("q5", q5_values(threshold_B=_q5_numbers(target="all")[0]), "TPR of all applicants"),
    ("q5", q5_values(tpr_matching_threshold=_matching_mistake("above")), "strictly above the target"),
    ("q5", q5_values(threshold_B=m12._q5_values(target_from="A-test")[0]), "measured on the *test* split"),
]  # fmt: skip


def _references(label: str) -> list[str]:
    """The expected single-value answers of a question, formatted as a message might print them."""
    numbers = {
        "q3": [q3_values()["fpr_forced_B"]],
        "q4": [q4_values()["proxy_share"]],
        "q5": [q5_values()["tpr_gap_after"]],
    }.get(label, [])
    return [f"{v:{f}}" for v in numbers for f in (".4g", ".4f", ".6g")]


@pytest.mark.parametrize("label, values, named", MISTAKES, ids=[m[2][:24] for m in MISTAKES])
def test_mistakes_are_named_and_the_answer_is_not_shown(label, values, named):
    question = QUESTIONS[label]
    with pytest.raises(Incorrect) as visible:
        question.verify(**values)
    message = str(visible.value)
    assert named in message
    assert not isinstance(visible.value, NotAttempted)
    for shown in _references(label):
        assert shown not in message, f"{label} feedback reveals the expected value {shown}"
    with pytest.raises(Incorrect):
        question.verify_hidden(seed=12047, **values)


def test_mistakes_named_on_every_visible_toy_case():
    """Each function mistake differs from the right answer on the toy cases (asymmetric design)."""
    for y, yhat, g in m12._Q1_CASES:
        ref = m12._ref_rates(y, yhat, g)
        for kind, _ in m12._Q1_MISTAKES:
            if kind != "zero":
                assert not m12._same_rates(m12._ref_rates(y, yhat, g, mistake=kind), ref), kind
    for p, y, target in m12._Q5_CASES[:1]:
        ref = m12._ref_matching(p, y, target, m12._Q5_GRID)
        found = {m12._ref_matching(p, y, target, m12._Q5_GRID, mistake=k)
                 for k in ("selection", "strict", "closest")}
        assert ref not in found and len(found) == 3


def test_rounded_values_pass_visible_but_not_hidden():
    rounded = q4_values(proxy_share=round(q4_values()["proxy_share"], 7))
    m12.q4.verify(**rounded)
    with pytest.raises(Incorrect, match="do not round"):
        m12.q4.verify_hidden(seed=1, **rounded)


# --- not attempted, wrong types and hostile values: feedback, never a traceback -----------------
@pytest.mark.parametrize("label", ["q1", "q2", "q3", "q4", "q5"])
def test_unwritten_functions_are_not_attempted(label):
    question = QUESTIONS[label]
    fname = question.names[0]
    for stub in (unfinished, no_return):
        with pytest.raises(NotAttempted) as info:
            question.verify(**{**RIGHT[label][0], fname: stub})
        assert f"`{fname}" in str(info.value)
    with pytest.raises(Incorrect, match="raised KeyError"):
        question.verify(**{**RIGHT[label][0], fname: lambda *a: {}["x"]})


@pytest.mark.parametrize(
    "label, values, text",
    [
        ("q1", dict(group_rates=lambda y, p, g: pd.DataFrame({"n": [1]})), "should be a dict"),
        ("q1", dict(group_rates=lambda y, p, g: {"north": {}}), "one key per distinct label"),
        ("q1", dict(group_rates=lambda y, p, g: {k: {"n": 1} for k in set(np.asarray(g).tolist())}), "needs exactly"),
        ("q2", dict(fairness_gaps=lambda y, p, g: {"dp": 0.1}), "needs exactly"),
        ("q3", q3_values(forced_fpr=lambda p, ppv, tpr: "0.3"), "single number"),
        ("q3", q3_values(fpr_forced_B=1.7), "between 0 and 1"),
        ("q4", q4_values(gap_by_feature=lambda c, X, g: list(c)), "should be a dict"),
        ("q4", q4_values(proxy_share=[0.1]), "single number"),
        ("q5", q5_values(tpr_matching_threshold=lambda p, y, t, grid: 3), "not one of the values in `grid`"),
        ("q5", q5_values(threshold_B="0.34"), "single number"),
    ],
)  # fmt: skip
def test_wrong_types_get_a_clear_message(label, values, text):
    with pytest.raises(Incorrect) as info:
        QUESTIONS[label].verify(**values)
    assert text in str(info.value)


class AlwaysEqual(float):
    """A hostile answer: equal to everything."""

    def __eq__(self, other):
        return True

    __hash__ = float.__hash__


def test_hostile_objects_are_not_trusted():
    with pytest.raises(Incorrect, match="single number"):
        m12.q5.verify(**q5_values(tpr_gap_after=AlwaysEqual(0.5)))
    with pytest.raises(Incorrect):
        m12.q2.verify(fairness_gaps=lambda y, p, g: {k: AlwaysEqual(0) for k in student_m12.GAP_KEYS})


def test_student_inputs_are_copies():
    def vandal(y_true, y_pred, group):
        out = group_rates(y_true, y_pred, group)
        y_true[:] = 0
        group[:] = "zzz"
        return out

    m12.q1.verify(group_rates=vandal)
    m12.q1.verify(group_rates=group_rates)


# --- the student side: no key, offline checks from the precomputed data -------------------------
def test_student_module_has_no_reference_code():
    text = (ROOT / "grader/checks/m12.py").read_text()
    key_functions = set(re.findall(r"^def (_\w+)\(", (ROOT / "solutions/12-fairness-governance/key.py")
                                   .read_text(), re.M))
    for name in key_functions | {"verify_hidden", "references", "12031", "make_credit"}:
        assert not re.search(rf"\b{name}\b", text), name
    for q in (student_m12.q1, student_m12.q2, student_m12.q3, student_m12.q4, student_m12.q5):
        with pytest.raises(NotImplementedError):
            q.verify()
        assert 2 <= len(q.hints) <= 3


def test_offline_check_passes_right_answers_and_names_mistakes(ns, capsys):
    for label, values in RIGHT.items():
        ns.clear()
        ns.update(values[0])
        getattr(student_m12, label).check()
    assert capsys.readouterr().out.count("Correct") == 5
    ns.clear()
    ns.update(q5_values(threshold_B=_q5_numbers(split="test")[0]))
    with pytest.raises(Incorrect, match="tuned on the test split"):
        student_m12.q5.check()
    ns.clear()
    ns.update(dict(group_rates=_rates_mistake("tpr_precision")))
    with pytest.raises(Incorrect, match="TPR computed as precision"):
        student_m12.q1.check()


def test_precomputed_data_hides_the_single_value_answers():
    data = (ROOT / "grader/checks/data/m12.json").read_text()
    for label, name in (("q3", "fpr_forced_B"), ("q4", "proxy_share"), ("q5", "tpr_gap_after")):
        value = QUESTIONS[label].references()[name]
        assert f"{value:.6f}"[2:] not in data, name
    from grader.config import Course
    from grader.precompute import out_of_date

    assert out_of_date(Course(ROOT), "12-fairness-governance") == []
