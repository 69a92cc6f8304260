"""Assignment 02 checks (the key, solutions/02-statistics/key.py, and the student side
grader/checks/m02.py): right answers pass, named mistakes fail.

Fast unit tests: the checks' ``verify``/``verify_hidden`` are called directly with the values a
student would define (no notebook is executed). The mutant catalogue in
``solutions/02-statistics/mutants.yml`` is proved against the executed notebook by
``grader verify``; these tests pin the same mistakes at the unit level, plus the tiers around
them (not attempted, wrong type, crashes) and the rule that feedback never shows the expected
value.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from grader.checks import Incorrect, NotAttempted, core
from grader.checks import m02 as student_m02
from grader.checks.offline import load_key_file
from grader.datasets import make_loan_default, make_tutoring

ROOT = Path(__file__).resolve().parents[1]
m02 = load_key_file(ROOT / "solutions/02-statistics/key.py")

SEEDS = (0, 1, 7, 2011, 2027, 2039, 2053, 2069)


# --- right answers -------------------------------------------------------------------------------
def sample_var(x):
    x = np.asarray(x, dtype=float)
    return float(np.sum((x - x.mean()) ** 2) / (x.size - 1))


def std_err(x):
    x = np.asarray(x, dtype=float)
    return float(np.sqrt(sample_var(x) / x.size))


def sample_var_np(x):
    return np.var(x, ddof=1)  # a NumPy float


def std_err_np(x):
    return np.std(x, ddof=1) / np.sqrt(len(x))


def pearson_r(x, y):
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    dx, dy = x - x.mean(), y - y.mean()
    return float(np.sum(dx * dy) / np.sqrt(np.sum(dx**2) * np.sum(dy**2)))


def pearson_r_corrcoef(x, y):
    return np.corrcoef(x, y)[0, 1]


def stratified_effects(df, treatment, outcome, stratum):
    means = df.groupby(treatment)[outcome].mean()
    overall = float(means.loc[1] - means.loc[0])
    table = df.groupby([stratum, treatment], observed=True)[outcome].mean().unstack()
    within = table[1] - table[0]
    weights = df[stratum].value_counts(normalize=True)
    return overall, within, float((within * weights.reindex(within.index)).sum())


def bootstrap_ci(x, stat, n_boot, alpha, seed):
    x = np.asarray(x, dtype=float)
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, len(x), size=(n_boot, len(x)))
    boot = np.array([stat(x[row]) for row in idx])
    low, high = np.quantile(boot, [alpha / 2, 1 - alpha / 2])
    return float(low), float(high)


def _q4_values():
    X, y = make_loan_default(n=2000, seed=0)
    X = X[list(student_m02.LOAN_FEATURES)]
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, random_state=2)
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)).fit(X_train, y_train)
    pred = model.predict_proba(X_test)[:, 1]
    X_set = X_test.copy()
    X_set["credit_history_years"] = 20.0
    return dict(
        baseline=float(pred.mean()),
        cond_mean_long_history=float(pred[X_test["credit_history_years"] > 20].mean()),
        pd_history_20=float(model.predict_proba(X_set)[:, 1].mean()),
        _y_test=y_test, _pred=pred, _X_test=X_test, _model=model, _X_train=X_train,
        _X_set=X_set,
    )  # fmt: skip


def _att(df=None):
    """The right effect on the tutored: band effects weighted by the tutored students' mix."""
    df = make_tutoring() if df is None else df
    _, within, _ = stratified_effects(df, "tutored", "passed", "prior_grade")
    mix = df.loc[df["tutored"] == 1, "prior_grade"].value_counts(normalize=True)
    return float((within * mix.reindex(within.index)).sum())


Q4 = _q4_values()


def q4_args(**override):
    args = {k: v for k, v in Q4.items() if not k.startswith("_")}
    args.update(override)
    return args


def _fails(check, match: str | None, **values) -> str:
    with pytest.raises(Incorrect, match=match) as info:
        check(**values)
    return str(info.value)


# --- q1 ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("pair", [(sample_var, std_err), (sample_var_np, std_err_np)])
def test_q1_right_answers_pass(pair):
    m02.q1.verify(sample_var=pair[0], std_err=pair[1])
    for seed in SEEDS:
        m02.q1.verify_hidden(seed, sample_var=pair[0], std_err=pair[1])


@pytest.mark.parametrize(
    ("var", "se", "match"),
    [
        (lambda x: np.var(x), std_err, "ddof=0"),
        (lambda x: np.std(x, ddof=1), std_err, "standard deviation"),
        (sample_var, lambda x: np.std(x, ddof=1), "not the standard error"),
        (sample_var, lambda x: np.std(x, ddof=1) / len(x), "instead of sqrt"),
        (sample_var, lambda x: np.std(x, ddof=1) * np.sqrt(len(x)), "sum"),
        (sample_var, lambda x: np.std(x) / np.sqrt(len(x)), "ddof=0 standard deviation"),
        (sample_var, lambda x: np.var(x, ddof=1) / len(x), "without the square root"),
        (sample_var, lambda x: 1.0, "not the standard error of the mean"),
    ],
)
def test_q1_mistakes_are_named(var, se, match):
    _fails(m02.q1.verify, match, sample_var=var, std_err=se)
    for seed in SEEDS:
        _fails(m02.q1.verify_hidden, match, seed=seed, sample_var=var, std_err=se)


def test_q1_hidden_catches_a_hard_coded_answer():
    # A lookup of the two visible cases passes the visible check but not the hidden one.
    table = {3: 13.0, 7: sample_var(m02._Q1_CASES[1])}

    def lookup(x):
        return table.get(len(x), 1.0)

    m02.q1.verify(sample_var=lookup, std_err=std_err)
    with pytest.raises(Incorrect):
        m02.q1.verify_hidden(5, sample_var=lookup, std_err=std_err)


# --- q2 ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("func", [pearson_r, pearson_r_corrcoef])
def test_q2_right_answers_pass(func):
    m02.q2.verify(pearson_r=func)
    for seed in SEEDS:
        m02.q2.verify_hidden(seed, pearson_r=func)


@pytest.mark.parametrize(
    ("func", "match"),
    [
        (lambda x, y: float(np.cov(x, y)[0, 1]), "covariance, not the correlation"),
        (lambda x, y: float(np.cov(x, y, ddof=0)[0, 1]), "different units"),
        (lambda x, y: np.corrcoef(x, y), "2x2"),
        (lambda x, y: np.corrcoef(np.column_stack([x, y])), "wrong axis"),
        (lambda x, y: float(np.cov(x, y)[0, 1] / (np.std(x) * np.std(y))), "different ddof"),
        (lambda x, y: pearson_r(x, y) ** 2, "r squared"),
        (lambda x, y: abs(pearson_r(x, y)), "sign is lost"),
        (lambda x, y: pearson_r(np.argsort(np.argsort(x)), np.argsort(np.argsort(y))), "Spearman"),
        (lambda x, y: 0.5, "not Pearson"),
        (lambda x, y: np.array([pearson_r(x, y)]), "single number"),
    ],
)
def test_q2_mistakes_are_named(func, match):
    _fails(m02.q2.verify, match, pearson_r=func)
    for seed in SEEDS:
        _fails(m02.q2.verify_hidden, match, seed=seed, pearson_r=func)


# --- q3 ------------------------------------------------------------------------------------------
def test_q3_right_answer_passes():
    m02.q3.verify(stratified_effects=stratified_effects, effect_on_tutored=_att())
    m02.q3.verify(stratified_effects=stratified_effects, effect_on_tutored=np.float64(_att()))
    for seed in SEEDS:
        m02.q3.verify_hidden(seed, stratified_effects=stratified_effects, effect_on_tutored=_att())


def test_q3_data_shows_simpsons_paradox_and_the_weights_matter():
    overall, within, adjusted = stratified_effects(
        make_tutoring(), "tutored", "passed", "prior_grade"
    )
    assert overall < 0 and adjusted > 0.05 and (within > 0).all()
    assert _att() - adjusted > 0.03  # the effect on the tutored is not the all-student average


def _variant(*, overall_sign=1, within_sign=1, adjusted="weighted"):
    def func(df, treatment, outcome, stratum):
        overall, within, weighted = stratified_effects(df, treatment, outcome, stratum)
        adj = {
            "weighted": weighted,
            "unweighted": float(within.mean()),
            "pooled": overall,
        }[adjusted]
        return overall_sign * overall, within_sign * within, adj

    return func


def _treated_weights(df, treatment, outcome, stratum):
    overall, within, _ = stratified_effects(df, treatment, outcome, stratum)
    w = df[df[treatment] == 1][stratum].value_counts(normalize=True)
    return overall, within, float((within * w.reindex(within.index)).sum())


def _within_is_pooled(df, treatment, outcome, stratum):
    overall, within, adjusted = stratified_effects(df, treatment, outcome, stratum)
    return overall, within * 0 + overall, adjusted


@pytest.mark.parametrize(
    ("func", "match"),
    [
        (_variant(overall_sign=-1), "groups are swapped"),
        (_variant(within_sign=-1), "signs are flipped"),
        (_variant(adjusted="unweighted"), "unweighted"),
        (_variant(adjusted="pooled"), "pooled \\(marginal\\)"),
        (_treated_weights, "treated\\* rows"),
        (_within_is_pooled, "every stratum got the pooled"),
        (lambda df, t, o, s: (0.1, 0.2), "3 values"),
        (lambda df, t, o, s: (0.1, {"mild": 0.1}, 0.2), "pandas Series"),
        (
            lambda df, t, o, s: (
                stratified_effects(df, t, o, s)[0],
                df.groupby([s, t], observed=True)[o].mean().unstack(),
                0.0,
            ),
            "DataFrame",
        ),
    ],
)
def test_q3_mistakes_are_named(func, match):
    _fails(m02.q3.verify, match, stratified_effects=func, effect_on_tutored=_att())
    for seed in SEEDS:
        _fails(m02.q3.verify_hidden, match, seed=seed, stratified_effects=func,
               effect_on_tutored=_att())


def _weighted(mix_of):
    df = make_tutoring()
    _, within, _ = stratified_effects(df, "tutored", "passed", "prior_grade")
    mix = mix_of(df)["prior_grade"].value_counts(normalize=True)
    return float((within * mix.reindex(within.index)).sum())


@pytest.mark.parametrize(
    ("value", "match"),
    [
        (lambda: _weighted(lambda df: df), "share of \\*all\\* students"),
        (lambda: stratified_effects(make_tutoring(), "tutored", "passed", "prior_grade")[0],
         "pooled difference"),
        (lambda: _weighted(lambda df: df[df["tutored"] == 0]), "were \\*not\\* tutored"),
        (lambda: float(stratified_effects(make_tutoring(), "tutored", "passed",
                                          "prior_grade")[1].mean()), "plain \\(unweighted\\)"),
        (lambda: 100 * _att(), "percentage points"),
        (lambda: -_att(), "wrong sign"),
        (lambda: 0.5, "not the within-band effects"),
        (lambda: True, "boolean"),
    ],
)
def test_q3_effect_on_tutored_mistakes_are_named(value, match):
    msg = _fails(m02.q3.verify, match, stratified_effects=stratified_effects,
                 effect_on_tutored=value())
    if match != "wrong sign":  # a flipped sign shows the student's value, minus the answer
        assert f"{_att():.4g}" not in msg
    for seed in SEEDS:
        _fails(m02.q3.verify_hidden, match, seed=seed, stratified_effects=stratified_effects,
               effect_on_tutored=value())


def test_q3_hidden_uses_new_column_names_and_strata():
    def hard_coded(df, treatment, outcome, stratum):
        return stratified_effects(m02._visible_table(), "coached", "success", "band")

    m02.q3.verify(stratified_effects=hard_coded, effect_on_tutored=_att())
    with pytest.raises(Incorrect):
        m02.q3.verify_hidden(3, stratified_effects=hard_coded, effect_on_tutored=_att())


# --- q4 ------------------------------------------------------------------------------------------
def test_q4_right_answer_passes():
    m02.q4.verify(**q4_args())
    for seed in SEEDS:
        m02.q4.verify_hidden(seed, **q4_args())


def test_q4_mean_prediction_differs_from_mean_outcome():
    assert abs(Q4["baseline"] - float(Q4["_y_test"].mean())) > 0.005
    assert abs(Q4["cond_mean_long_history"] - Q4["pd_history_20"]) > 0.02  # correlation shows


@pytest.mark.parametrize(
    ("override", "match"),
    [
        ({"baseline": float(Q4["_y_test"].mean())}, "observed"),
        ({"baseline": float(Q4["_model"].predict_proba(Q4["_X_train"])[:, 1].mean())},
         "training rows"),
        ({"baseline": float(Q4["_model"].predict(Q4["_X_test"]).mean())}, "predict_proba"),
        ({"baseline": float(Q4["_model"].decision_function(Q4["_X_test"]).mean())}, "log-odds"),
        ({"cond_mean_long_history": Q4["baseline"]}, "marginal mean"),
        (
            {"cond_mean_long_history": float(
                Q4["_y_test"][Q4["_X_test"]["credit_history_years"] > 20].mean())},
            "observed",
        ),
        (
            {"cond_mean_long_history": float(
                Q4["_pred"][Q4["_X_test"]["credit_history_years"] <= 20].mean())},
            "other group",
        ),
        ({"cond_mean_long_history": Q4["pd_history_20"]}, "interventional"),
        ({"pd_history_20": Q4["cond_mean_long_history"]}, "conditional mean"),
        ({"pd_history_20": float(Q4["_model"].predict(Q4["_X_set"]).mean())}, "0/1 class"),
        ({"pd_history_20": Q4["baseline"]}, "the baseline"),
        ({"pd_history_20": 100.0}, "not the mean predicted"),
        ({"baseline": Q4["_pred"]}, "single number"),
        ({"baseline": "157"}, "single number"),
    ],
)
def test_q4_mistakes_are_named(override, match):
    _fails(m02.q4.verify, match, **q4_args(**override))
    for seed in SEEDS:
        _fails(m02.q4.verify_hidden, match, seed=seed, **q4_args(**override))


def test_q4_hidden_rejects_rounding():
    rounded = q4_args(pd_history_20=round(Q4["pd_history_20"], 5))
    m02.q4.verify(**rounded)
    with pytest.raises(Incorrect, match="do not round"):
        m02.q4.verify_hidden(1, **rounded)


# --- q5 ------------------------------------------------------------------------------------------
def test_q5_right_answer_passes():
    m02.q5.verify(bootstrap_ci=bootstrap_ci)
    for seed in SEEDS:
        m02.q5.verify_hidden(seed, bootstrap_ci=bootstrap_ci)


def test_q5_width_is_about_four_standard_errors():
    x = np.random.default_rng(0).normal(10, 3, 400)
    low, high = bootstrap_ci(x, np.mean, 4000, 0.05, 1)
    assert abs((high - low) / (3.92 * std_err(x)) - 1) < 0.15


def _boot(quantiles=lambda a: (a / 2, 1 - a / 2), size=None, swap=False, q=np.quantile):
    def func(x, stat, n_boot, alpha, seed):
        x = np.asarray(x, dtype=float)
        rng = np.random.default_rng(seed)
        idx = rng.integers(0, len(x), size=size(len(x), n_boot) if size else (n_boot, len(x)))
        boot = np.array([stat(x[row]) for row in idx])
        low, high = q(boot, list(quantiles(alpha)))
        return (float(high), float(low)) if swap else (float(low), float(high))

    return func


def _without_replacement(x, stat, n_boot, alpha, seed):
    rng = np.random.default_rng(seed)
    boot = np.array([stat(rng.permutation(np.asarray(x))) for _ in range(n_boot)])
    return tuple(float(v) for v in np.quantile(boot, [alpha / 2, 1 - alpha / 2]))


def _rows(x, stat, n_boot, alpha, seed):
    x = np.asarray(x, dtype=float)
    idx = np.random.default_rng(seed).integers(0, len(x), size=(n_boot, len(x)))
    return tuple(float(v) for v in np.quantile(x[idx], [alpha / 2, 1 - alpha / 2]))


@pytest.mark.parametrize(
    ("func", "match"),
    [
        (_without_replacement, "without replacement"),
        (_boot(size=lambda n, b: (b, b)), "wrong shape"),
        (_boot(size=lambda n, b: (n, b)), "wrong shape"),
        (_boot(quantiles=lambda a: (a, 1 - a)), "alpha/2 in each tail"),
        (_boot(swap=True), "endpoints are swapped"),
        (_boot(q=np.percentile), "np.percentile"),
        (_rows, "data values"),
        (_boot(quantiles=lambda a: (0.1, 0.9)), "not the percentile bootstrap"),
        (lambda x, stat, n_boot, alpha, seed: [1.0, 2.0, 3.0], "2 values"),
        (lambda x, stat, n_boot, alpha, seed: "(1, 2)", "tuple"),
    ],
)
def test_q5_mistakes_are_named(func, match):
    _fails(m02.q5.verify, match, bootstrap_ci=func)
    for seed in SEEDS:
        _fails(m02.q5.verify_hidden, match, seed=seed, bootstrap_ci=func)


# --- tiers common to all questions ---------------------------------------------------------------
def test_not_attempted_and_crashes():
    def todo(*args):
        raise NotImplementedError()

    def no_return(*args):
        pass

    def crash(*args):
        raise KeyError("oops")

    with pytest.raises(NotAttempted):
        m02.q1.verify(sample_var=todo, std_err=std_err)
    with pytest.raises(NotAttempted):
        m02.q2.verify(pearson_r=no_return)
    with pytest.raises(Incorrect, match="KeyError"):
        m02.q5.verify(bootstrap_ci=crash)
    with pytest.raises(Incorrect, match="should be a function"):
        m02.q2.verify(pearson_r=0.5)
    with pytest.raises(NotAttempted):
        m02.q3.verify(stratified_effects=todo, effect_on_tutored=0.1)


def test_placeholders_are_not_attempted(monkeypatch):
    import __main__

    monkeypatch.setattr(__main__, "baseline", ..., raising=False)
    monkeypatch.setattr(__main__, "cond_mean_long_history", None, raising=False)
    monkeypatch.setattr(__main__, "pd_history_20", 1.0, raising=False)
    with pytest.raises(NotAttempted, match="placeholder"):
        student_m02.q4.check()  # the offline check (no key)


def test_messages_never_show_the_expected_value():
    refs = [f"{v:.4g}" for v in (Q4["baseline"], Q4["cond_mean_long_history"],
                                  Q4["pd_history_20"])]
    msg = _fails(m02.q4.verify, None, **q4_args(cond_mean_long_history=Q4["baseline"]))
    assert refs[1] not in msg and f"{Q4['cond_mean_long_history']:.5g}" not in msg
    o, w, a = stratified_effects(make_tutoring(), "tutored", "passed", "prior_grade")
    msg = _fails(
        m02.q3.verify,
        None,
        stratified_effects=_variant(adjusted="unweighted"),
        effect_on_tutored=_att(),
    )
    assert f"{a:.4g}" not in msg
    msg = _fails(m02.q1.verify, None, sample_var=lambda x: np.var(x), std_err=std_err)
    assert "13" not in msg  # the expected variance of [2, 4, 9] is 13
    x = np.array([2.1, 3.5, 1.2, 8.4, 4.4, 2.9, 15.0, 3.3, 5.6, 2.2, 6.1, 1.8])
    low, high = bootstrap_ci(x, np.mean, 2000, 0.05, 0)
    msg = _fails(m02.q5.verify, None, bootstrap_ci=_boot(quantiles=lambda a: (a, 1 - a)))
    assert f"{low:.5g}" not in msg and f"{high:.5g}" not in msg


def test_hidden_checks_pass_the_right_answers():
    m02.q1.verify_hidden(1, sample_var=sample_var, std_err=std_err)
    m02.q2.verify_hidden(1, pearson_r=pearson_r)
    m02.q3.verify_hidden(1, stratified_effects=stratified_effects, effect_on_tutored=_att())
    m02.q4.verify_hidden(1, **q4_args())
    m02.q5.verify_hidden(1, bootstrap_ci=bootstrap_ci)


# --- the key and the student side ------------------------------------------------------------------
def test_student_side_and_key_agree():
    assert student_m02.__all__ == ["q1", "q2", "q3", "q4", "q5"]
    assert list(m02.QUESTIONS) == student_m02.__all__
    for label in student_m02.__all__:
        q, k = getattr(student_m02, label), m02.QUESTIONS[label]
        assert (k.label, k.names, k.hints) == (q.label, q.names, q.hints)
        assert len(q.hints) == 2  # tier 1: the idea; tier 2: the step, never the code
        assert not any("np." in h or "df." in h or "= " in h for h in q.hints), q.hints


def test_key_references_pass_the_keys_own_checks():
    for q in m02.QUESTIONS.values():
        refs = q.references()
        assert set(refs) == set(q.names)
        q.verify(**refs)
        q.verify_hidden(seed=99, **refs)
        q.verify_graded(seed=99, **refs)


def test_the_hidden_statistics_can_be_sent_to_the_kernel():
    from grader.checks import wire

    for stat in (np.mean, np.median, functools.partial(np.std, ddof=1)):
        assert wire.encode(stat)["t"] == "fn"


def test_offline_check_names_mistakes_without_the_key(monkeypatch):
    namespace: dict = {"baseline": Q4["baseline"],
                       "cond_mean_long_history": Q4["cond_mean_long_history"],
                       "pd_history_20": Q4["pd_history_20"], "bootstrap_ci": bootstrap_ci,
                       "stratified_effects": stratified_effects, "effect_on_tutored": _att()}
    monkeypatch.setattr(core, "_user_namespace", lambda: namespace)
    student_m02.q4.check()
    student_m02.q5.check()
    student_m02.q3.check()
    namespace["pd_history_20"] = Q4["baseline"]  # a catalogued mistake (the baseline again)
    with pytest.raises(Incorrect, match="the baseline"):
        student_m02.q4.check()
    namespace["effect_on_tutored"] = _weighted(lambda df: df)  # the all-student weights
    with pytest.raises(Incorrect, match="share of"):
        student_m02.q3.check()
    data = (ROOT / "grader/checks/data/m02.json").read_text(encoding="utf-8")
    for value in (Q4["baseline"], Q4["cond_mean_long_history"], Q4["pd_history_20"], _att()):
        assert f"{value:.4f}"[:-1] not in data  # the numbers are hashed
    reads = json.loads(data)["questions"]["q3"]["reads"]
    assert "value" not in reads["effect_on_tutored"]


# --- the generator (grader.datasets.make_tutoring) ------------------------------------------------
def test_tutoring_generator_is_seeded_and_confounded():
    df = make_tutoring()
    assert df.equals(make_tutoring()) and not df.equals(make_tutoring(seed=1))
    assert list(df.columns) == ["prior_grade", "tutored", "passed"] and len(df) == 1500
    share = df.groupby("prior_grade", observed=True)["tutored"].mean()
    assert share["low"] > 0.6 > share["middle"] > 0.2 > share["high"]  # weak students tutored
