"""Assignment 08 checks (the key, solutions/08-shap/key.py): right answers pass, named mistakes fail.

Fast unit tests: the checks' ``verify``/``verify_hidden`` are called directly with the values a
student would define (no notebook is executed). The mutant catalogue in
``solutions/08-shap/mutants.yml`` is proved against the executed notebook by ``grader verify``;
these tests pin the same mistakes at the unit level, check the references against shap's own
explainers, and cover the tiers around them (not attempted, wrong type, crashes) and the rule
that feedback never shows the expected value.
"""

from __future__ import annotations

import itertools
import math
import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import shap
from conftest import no_return as _no_return
from conftest import unfinished as _unfinished
from sklearn.datasets import make_friedman1
from sklearn.ensemble import (
    GradientBoostingClassifier,
    GradientBoostingRegressor,
    RandomForestClassifier,
)
from sklearn.linear_model import LinearRegression

from grader.checks import Incorrect, NotAttempted
from grader.checks import m08 as student_m08
from grader.checks.offline import load_key_file
from grader.datasets import breast_cancer_split

m08 = load_key_file(Path(__file__).resolve().parents[1] / "solutions/08-shap/key.py")

SEEDS = (0, 1, 7, 8011, 8023, 8039, 8053, 8069)
QUESTIONS = {q.label: q for q in (m08.q1, m08.q2, m08.q3, m08.q4, m08.q5)}
ROW = student_m08.ROW


# --- the notebook's setup, rebuilt here as a student would have it -----------------------------
def _setup():
    X_train, X_test, y_train, y_test = breast_cancer_split()
    background, X_explain = X_train.iloc[:100], X_test.iloc[:10]
    rf = RandomForestClassifier(n_estimators=50, max_depth=5, random_state=0).fit(X_train, y_train)
    rf_explainer = shap.TreeExplainer(rf, data=background)
    gb = GradientBoostingClassifier(n_estimators=100, max_depth=2, random_state=0)
    gb.fit(X_train, y_train)
    gb_explainer = shap.TreeExplainer(gb)
    X_f, y_f = make_friedman1(n_samples=500, n_features=10, noise=1.0, random_state=0)
    f_model = GradientBoostingRegressor(random_state=0).fit(X_f, y_f)
    return dict(
        X_train=X_train, y_train=y_train, y_test=y_test, background=background,
        X_explain=X_explain, rf=rf, rf_explainer=rf_explainer,
        rf_values=rf_explainer.shap_values(X_explain), gb=gb,
        gb_values=gb_explainer.shap_values(X_explain),
        gb_base=float(gb_explainer.expected_value[0]),
        friedman_values=shap.TreeExplainer(f_model).shap_values(X_f[:200]),
    )  # fmt: skip


NB = _setup()
NAMES = [f"x{j}" for j in range(10)]


# --- right answers ------------------------------------------------------------------------------
def exact_shapley(f, x, background):
    x, background = np.asarray(x, dtype=float), np.asarray(background, dtype=float)
    p = x.size

    def v(subset):
        z = background.copy()
        z[:, list(subset)] = x[list(subset)]
        return float(np.mean(f(z)))

    phi = np.zeros(p)
    for j in range(p):
        others = [k for k in range(p) if k != j]
        for size in range(p):
            w = math.factorial(size) * math.factorial(p - size - 1) / math.factorial(p)
            for s in itertools.combinations(others, size):
                phi[j] += w * (v(s + (j,)) - v(s))
    return phi


def exact_shapley_permutations(f, x, background):
    """A second, independent algorithm: average marginal contributions over all orderings."""
    x, background = np.asarray(x, dtype=float), np.asarray(background, dtype=float)
    p = x.size
    phi = np.zeros(p)
    perms = list(itertools.permutations(range(p)))
    for order in perms:
        z = background.copy()
        before = float(np.mean(f(z)))
        for j in order:
            z[:, j] = x[j]
            after = float(np.mean(f(z)))
            phi[j] += after - before
            before = after
    return phi / len(perms)


def linear_shap(coef, intercept, X, background):
    mean_bg = np.asarray(background).mean(axis=0)
    return coef * (X - mean_bg), float(intercept + mean_bg @ coef)


def linear_shap_list(coef, intercept, X, background):
    """A list return of a tuple is fine too."""
    phi, base = linear_shap(coef, intercept, X, background)
    return [phi, np.float64(base)]


def logodds_to_proba(base_value, phi):
    return float(1.0 / (1.0 + np.exp(-(base_value + np.sum(phi)))))


def logodds_to_proba_np(base_value, phi):
    """Returns a NumPy float (accepted)."""
    from scipy.special import expit

    return expit(base_value + np.sum(phi))


def mean_abs_shap(values, feature_names):
    imp = np.abs(values).mean(axis=0)
    return pd.Series(imp, index=list(feature_names)).sort_values(ascending=False)


_imp = mean_abs_shap(NB["friedman_values"], NAMES)
TOP5 = list(_imp.index[:5])
NOISE_FLOOR = float(_imp[list(student_m08.NOISE_FEATURES)].max())


def q3_values(**change):
    v = dict(
        phi_malignant=NB["rf_values"][ROW, :, 0],
        base_malignant=float(NB["rf_explainer"].expected_value[0]),
    )
    return {**v, **change}


def q4_values(**change):
    v = dict(
        logodds_to_proba=logodds_to_proba,
        p_benign_gb=logodds_to_proba(NB["gb_base"], NB["gb_values"][ROW]),
    )
    return {**v, **change}


def q5_values(**change):
    v = dict(mean_abs_shap=mean_abs_shap, top5=TOP5, noise_floor=NOISE_FLOOR)
    return {**v, **change}


RIGHT = {
    "q1": [{"exact_shapley": exact_shapley}, {"exact_shapley": exact_shapley_permutations}],
    "q2": [{"linear_shap": linear_shap}, {"linear_shap": linear_shap_list}],
    "q3": [q3_values(), q3_values(phi_malignant=list(NB["rf_values"][ROW, :, 0]))],
    "q4": [q4_values(), q4_values(logodds_to_proba=logodds_to_proba_np)],
    "q5": [q5_values(), q5_values(top5=tuple(reversed(TOP5)), noise_floor=np.float64(NOISE_FLOOR))],
}


@pytest.mark.parametrize(
    "label, values", [(q, v) for q, vs in RIGHT.items() for v in vs], ids=lambda x: str(x)[:12]
)
def test_right_answers_pass_visible_and_hidden(label, values):
    question = QUESTIONS[label]
    question.verify(**values)
    for seed in SEEDS:
        question.verify_hidden(seed=seed, **values)


# --- the references agree with shap's own explainers ------------------------------------------
def test_enumeration_matches_shap_kernel_explainer():
    """KernelExplainer enumerates every coalition when p is small, so it is exact here.
    (shap.explainers.Exact agrees to 1e-16 too, but its first call takes about a minute.)"""
    rng = np.random.default_rng(3)
    model, _ = m08._random_model(rng, 4)
    bg = rng.normal(size=(6, 4))
    x = rng.normal(size=4)
    explainer = shap.KernelExplainer(model, bg)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        values = explainer.shap_values(x[None, :], nsamples=100, silent=True)
    assert np.allclose(m08._shapley(model, x, bg), values[0], atol=1e-10)
    assert np.isclose(float(explainer.expected_value), float(np.mean(model(bg))))


def test_linear_closed_form_matches_linear_explainer():
    rng = np.random.default_rng(4)
    X = rng.normal(size=(300, 4)) * [1, 2, 3, 4] + [5, -1, 0, 2]
    y = X @ [1.5, -2.0, 0.5, 0.0] + rng.normal(size=300)
    model = LinearRegression().fit(X, y)
    bg = X[:80]
    explainer = shap.LinearExplainer(model, shap.maskers.Independent(bg, max_samples=len(bg)))
    phi, base = linear_shap(model.coef_, model.intercept_, X[100:110], bg)
    assert np.allclose(explainer.shap_values(X[100:110]), phi)
    assert np.isclose(float(np.ravel(explainer.expected_value)[0]), base)
    assert np.allclose(m08._shapley(model.predict, X[100], bg), phi[0])


def test_reference_models_match_the_notebook_and_add_up():
    d = m08._cancer()
    assert np.allclose(d.rf_values, NB["rf_values"])
    assert np.allclose(d.rf_base, NB["rf_explainer"].expected_value)
    assert np.isclose(d.rf_values[ROW, :, 0].sum() + d.rf_base[0], d.rf_proba[ROW, 0], atol=1e-6)
    assert np.allclose(d.gb_values.sum(axis=1) + d.gb_base, d.gb_margin)
    # The toy separations the checks rely on: base value vs label rate vs the mean row.
    assert abs(d.rf_base[0] - d.y_train_share[0]) > 0.01
    assert abs(d.rf_base[0] - d.rf_mean_row[0]) > 0.01
    assert np.allclose(m08._friedman().values, NB["friedman_values"])


def test_toy_cases_separate_the_q1_mistakes():
    """Each q1 mistake gives a different answer from the right one on some visible toy case."""
    for kw in (
        {"mean_row": True},
        {"weight": "off_by_one"},
        {"weight": "uniform"},
        {"weight": "banzhaf"},
        {"skip_empty": True},
    ):
        assert any(
            not np.allclose(m08._shapley(f, x, bg), m08._shapley(f, x, bg, **kw), atol=1e-4)
            for f, _text, x, bg, _dummy, _pair in m08._Q1_CASES
        ), kw


# --- the catalogued mistakes -------------------------------------------------------------------
def _q1_mistake(**kw):
    def f(model, x, background):
        return m08._shapley(model, np.asarray(x, float), np.asarray(background, float), **kw)

    return f


def _q1_first_row(model, x, background):
    return exact_shapley(model, x, np.asarray(background)[:1])


def _q2(kind):
    def f(coef, intercept, X, background):
        mean_bg = background.mean(axis=0)
        base = float(intercept + mean_bg @ coef)
        if kind == "raw":
            return coef * X, base
        if kind == "explained":
            return coef * (X - X.mean(axis=0)), base
        if kind == "intercept":
            return coef * (X - mean_bg), float(intercept)
        if kind == "transposed":
            return (coef * (X - mean_bg)).T, base
        if kind == "median":
            return coef * (X - np.median(background, axis=0)), base
        return coef * (X - mean_bg), float(np.mean(X @ coef + intercept))

    return f


def _q4(kind):
    def f(base_value, phi):
        z = base_value + float(np.sum(phi))
        return {
            "logit": z,
            "nobase": 1 / (1 + np.exp(-float(np.sum(phi)))),
            "flip": 1 / (1 + np.exp(z)),
            "odds": float(np.exp(z)),
            "mixed": 1 / (1 + np.exp(-base_value)) + float(np.sum(phi)),
        }[kind]

    return f


def _q5(kind):
    def f(values, names):
        v = np.asarray(values)
        if kind == "signed":
            return pd.Series(v.mean(axis=0), index=list(names)).sort_values(ascending=False)
        if kind == "absmean":
            return pd.Series(np.abs(v.mean(axis=0)), index=list(names)).sort_values(ascending=False)
        if kind == "sum":
            return pd.Series(np.abs(v).sum(axis=0), index=list(names)).sort_values(ascending=False)
        if kind == "unsorted":
            return pd.Series(np.abs(v).mean(axis=0), index=list(names))
        if kind == "ascending":
            return pd.Series(np.abs(v).mean(axis=0), index=list(names)).sort_values()
        if kind == "rows":
            return pd.Series(np.abs(v).mean(axis=1))
        return pd.Series((v**2).mean(axis=0), index=list(names)).sort_values(ascending=False)

    return f


_rf, _d = NB["rf_values"], m08._cancer()
_fv = NB["friedman_values"]
_noise = [NAMES.index(k) for k in student_m08.NOISE_FEATURES]
MISTAKES = [
    ("q1", {"exact_shapley": _q1_mistake(mean_row=True)}, "mean row"),
    ("q1", {"exact_shapley": _q1_mistake(weight="off_by_one")}, "don't add up"),
    ("q1", {"exact_shapley": _q1_mistake(weight="uniform")}, "don't add up"),
    ("q1", {"exact_shapley": _q1_mistake(weight="banzhaf")}, "Banzhaf"),
    ("q1", {"exact_shapley": _q1_mistake(skip_empty=True)}, "empty coalition"),
    ("q1", {"exact_shapley": _q1_first_row}, "don't add up"),
    ("q1", {"exact_shapley": lambda f, x, bg: -exact_shapley(f, x, bg)}, "signs are flipped"),
    (
        "q1",
        {"exact_shapley": lambda f, x, bg: exact_shapley(f, x, bg)[:-1]},
        "one value per feature",
    ),
    ("q2", {"linear_shap": _q2("raw")}, "not centred"),
    ("q2", {"linear_shap": _q2("explained")}, "explained rows"),
    ("q2", {"linear_shap": _q2("intercept")}, "the intercept"),
    ("q2", {"linear_shap": _q2("transposed")}, "transposed"),
    ("q2", {"linear_shap": _q2("median")}, "median"),
    ("q2", {"linear_shap": _q2("base_x")}, "explained rows"),
    ("q2", {"linear_shap": lambda c, i, X, bg: linear_shap(c, i, X, bg)[0]}, "tuple"),
    ("q3", q3_values(phi_malignant=_rf[1]), "shap 0.45"),
    ("q3", q3_values(phi_malignant=_rf[1][:, 0]), "sample 1"),
    ("q3", q3_values(phi_malignant=_rf[ROW, :, 1]), "benign"),
    ("q3", q3_values(phi_malignant=_rf), "whole array"),
    ("q3", q3_values(base_malignant=float(np.mean(NB["y_train"] == 0))), "mean(y)"),
    ("q3", q3_values(base_malignant=float(np.mean(NB["y_test"] == 0))), "mean(y)"),
    ("q3", q3_values(base_malignant=float(_d.rf_mean_row[0])), "mean row"),
    ("q3", q3_values(base_malignant=float(_d.rf_base[1])), "class 1, benign"),
    ("q3", q3_values(base_malignant=float(_d.rf_proba[ROW, 0])), "f(x)"),
    ("q3", q3_values(base_malignant=NB["rf_explainer"].expected_value), "single number"),
    ("q4", q4_values(logodds_to_proba=_q4("logit")), "log-odds"),
    ("q4", q4_values(logodds_to_proba=_q4("nobase")), "base value is missing"),
    ("q4", q4_values(logodds_to_proba=_q4("flip")), "other class"),
    ("q4", q4_values(logodds_to_proba=_q4("odds")), "odds"),
    ("q4", q4_values(logodds_to_proba=_q4("mixed")), "added log-odds"),
    ("q4", q4_values(p_benign_gb=float(_d.gb_proba[ROW, 0])), "malignant"),
    ("q4", q4_values(p_benign_gb=float(_d.gb_margin[ROW])), "decision function"),
    ("q5", q5_values(mean_abs_shap=_q5("signed")), "absolute values before averaging"),
    ("q5", q5_values(mean_abs_shap=_q5("absmean")), "absolute value of the mean"),
    ("q5", q5_values(mean_abs_shap=_q5("sum")), "sum over rows"),
    ("q5", q5_values(mean_abs_shap=_q5("unsorted")), "descending"),
    ("q5", q5_values(mean_abs_shap=_q5("ascending")), "ascending"),
    ("q5", q5_values(mean_abs_shap=_q5("rows")), "per *row*"),
    ("q5", q5_values(mean_abs_shap=_q5("squares")), "squared"),
    ("q5", q5_values(top5=["x0", "x1", "x2", "x3", "x5"]), "`top5`"),
    ("q5", q5_values(noise_floor=float(np.abs(_fv[:, _noise]).mean(axis=0).min())), "largest"),
    ("q5", q5_values(noise_floor=float(_fv[:, _noise].mean(axis=0).max())), "absolute values"),
    ("q5", q5_values(noise_floor=float(np.abs(_fv).mean(axis=0).max())), "other than the noise"),
]


def _references(label: str) -> list[str]:
    """Text forms of the expected values a message must never contain."""
    if label == "q1":
        numbers = [v for f, _t, x, bg, *_ in m08._Q1_CASES for v in m08._shapley(f, x, bg)]
    elif label == "q2":
        coef, intercept, X, bg = m08._Q2_CASE
        numbers = [
            float(intercept + bg.mean(axis=0) @ coef),
            *(coef * (X - bg.mean(axis=0))).ravel(),
        ]
    elif label == "q3":
        numbers = [_d.rf_base[0], *_d.rf_values[ROW, :3, 0]]
    elif label == "q4":
        numbers = [logodds_to_proba(b, np.array(p)) for b, p in m08._Q4_CASES]
        numbers.append(_d.gb_proba[ROW, 1])
    else:
        values, _names = m08._Q5_CASE
        numbers = [*np.abs(values).mean(axis=0), NOISE_FLOOR]
    return [f"{v:.4f}" for v in numbers if abs(v) > 1e-3] + [
        f"{v:.6g}" for v in numbers if len(f"{v:.6g}") >= 5
    ]


def _numbers_in(message: str) -> set[str]:
    return set(re.findall(r"(?<![\w.])-?\d+(?:\.\d+)?", message))


#: Mistakes whose feedback shows the student's own, partly right values (a shape error).
SHOWS_OWN_VALUES = ("one value per feature", "single number")


@pytest.mark.parametrize("label, values, named", MISTAKES, ids=[m[2][:24] for m in MISTAKES])
def test_mistakes_are_named_and_the_answer_is_not_shown(label, values, named):
    question = QUESTIONS[label]
    with pytest.raises(Incorrect) as visible:
        question.verify(**values)
    message = str(visible.value)
    assert named in message
    assert not isinstance(visible.value, NotAttempted)
    if named not in SHOWS_OWN_VALUES:
        shown = _numbers_in(message) & set(_references(label))
        assert not shown, f"{label} feedback reveals the expected value(s) {shown}"
    with pytest.raises(Incorrect):
        question.verify_hidden(seed=8081, **values)


def test_rounded_values_pass_visible_but_not_hidden():
    values = q3_values(base_malignant=round(q3_values()["base_malignant"], 6))
    m08.q3.verify(**values)
    with pytest.raises(Incorrect, match="do not round"):
        m08.q3.verify_hidden(seed=1, **values)
    values = q5_values(noise_floor=NOISE_FLOOR * (1 + 1e-7))
    m08.q5.verify(**values)
    with pytest.raises(Incorrect):
        m08.q5.verify_hidden(seed=1, **values)


def test_hidden_q1_catches_a_hard_coded_answer():
    """A function that only knows the visible toy cases fails on fresh models."""
    known = {tuple(x): m08._shapley(f, x, bg) for f, _t, x, bg, *_ in m08._Q1_CASES}

    def memorised(f, x, background):
        return known.get(tuple(np.asarray(x)), np.zeros(len(x)))

    m08.q1.verify(exact_shapley=memorised)
    with pytest.raises(Incorrect):
        m08.q1.verify_hidden(seed=8011, exact_shapley=memorised)


# --- not attempted, wrong types and crashes: feedback, never a traceback -----------------------
def _crashes(*args, **kwargs):
    return {}["phi"]


@pytest.mark.parametrize("label", ["q1", "q2", "q4", "q5"])
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
        ns.update({**values, fname: stub})
        with pytest.raises(kind):
            question.check()
        with pytest.raises(kind):
            question.check_hidden(seed=3)
    ns.clear()
    ns.update({**values, fname: 42})
    with pytest.raises(Incorrect, match="should be a function"):
        question.check()


@pytest.mark.parametrize("label", ["q3", "q4", "q5"])
def test_placeholders_are_not_attempted(ns, label):
    question = QUESTIONS[label]
    values = {**RIGHT[label][0]}
    ns.update({**values, question.names[-1]: ...})
    with pytest.raises(NotAttempted, match="placeholder"):
        question.check()
    ns.update({**values, question.names[-1]: None})
    with pytest.raises(NotAttempted):
        question.check()


@pytest.mark.parametrize(
    "label, change",
    [
        ("q3", {"phi_malignant": "values"}),
        ("q3", {"base_malignant": "0.3"}),
        ("q3", {"phi_malignant": np.full(30, np.nan)}),
        ("q4", {"p_benign_gb": [0.9]}),
        ("q4", {"p_benign_gb": 1.7}),
        ("q5", {"top5": "x0 x1 x2 x3 x4"}),
        ("q5", {"top5": ["x0", "x1"]}),
        ("q5", {"noise_floor": True}),
        ("q5", {"mean_abs_shap": lambda v, n: dict(zip(n, np.abs(v).mean(axis=0), strict=True))}),
    ],
)
def test_wrong_types_are_incorrect(label, change):
    values = {**RIGHT[label][0], **change}
    with pytest.raises(Incorrect) as info:
        QUESTIONS[label].verify(**values)
    assert not isinstance(info.value, NotAttempted)


def test_passing_check_prints_correct_and_nothing_on_stderr(ns, capsys):
    ns.update(q5_values())
    m08.q5.check()
    m08.q5.check_hidden(seed=5)
    out = capsys.readouterr()
    assert "Correct" in out.out and out.err == ""


def test_a_noisy_student_function_writes_nothing_to_stderr(ns, capsys):
    def noisy(f, x, background):
        import sys

        warnings.warn("student warning", stacklevel=1)
        print("debug", file=sys.stderr)
        return exact_shapley(f, x, background)

    ns["exact_shapley"] = noisy
    m08.q1.check()
    assert capsys.readouterr().err == ""


# --- the student side: the offline visible check (grader/checks/data/m08.json) -----------------
def test_offline_checks_pass_the_right_answers(ns, capsys):
    for label, values in RIGHT.items():
        ns.clear()
        ns.update(values[0])
        getattr(student_m08, label).check()
    assert capsys.readouterr().out.count("Correct") == 5


def test_offline_q1_calls_the_students_function_on_a_model_sent_as_data(ns):
    """q1's models cross the wire as Formulas: the offline check calls exact_shapley on them."""
    ns["exact_shapley"] = _q1_mistake(mean_row=True)
    with pytest.raises(Incorrect, match="mean row"):
        student_m08.q1.check()


def test_offline_top5_is_hashed_and_compared_as_a_set(ns):
    data = (Path(student_m08.__file__).parent / "data/m08.json").read_text()
    assert '"x4"' not in data  # top5 (and every name in it) is hashed
    ns.update(q5_values(top5=list(reversed(TOP5))))
    student_m08.q5.check()
    ns.update(q5_values(top5=[*TOP5[:4], "x9"]))
    with pytest.raises(Incorrect, match="top5"):
        student_m08.q5.check()


def test_offline_q5_compares_the_series_index_too(ns):
    def unnamed(values, feature_names):  # right numbers, but indexed 0..p-1
        return pd.Series(np.abs(np.asarray(values)).mean(axis=0)).sort_values(ascending=False)

    def numpy_names(values, feature_names):  # np.str_ labels are names too
        imp = np.abs(np.asarray(values)).mean(axis=0)
        index = np.array(list(feature_names))
        return pd.Series(imp, index=index).sort_values(ascending=False)

    ns.update(q5_values(mean_abs_shap=numpy_names))
    student_m08.q5.check()
    ns.update(q5_values(mean_abs_shap=unnamed))
    with pytest.raises(Incorrect, match="mean_abs_shap"):
        student_m08.q5.check()
    with pytest.raises(Incorrect):  # the key agrees
        m08.q5.verify(**q5_values(mean_abs_shap=unnamed))


def test_offline_q5_names_the_series_mistakes(ns):
    """The catalogued mistakes' Series are matched with their index (the mutants' messages)."""

    def signed(values, feature_names):
        s = pd.Series(np.asarray(values).mean(axis=0), index=list(feature_names))
        return s.sort_values(ascending=False)

    def ascending(values, feature_names):
        s = pd.Series(np.abs(np.asarray(values)).mean(axis=0), index=list(feature_names))
        return s.sort_values()

    for func, words in ((signed, "absolute values before averaging"), (ascending, "ascending")):
        ns.update(q5_values(mean_abs_shap=func))
        with pytest.raises(Incorrect, match=words):
            student_m08.q5.check()
