"""Assignment 08 checks (the key, solutions/08-shap/key.py): right answers pass, named mistakes fail.

Fast unit tests: the checks' ``verify``/``verify_hidden`` are called directly with the values a
student would define (no notebook is executed). The mutant catalogue in
``solutions/08-shap/mutants.yml`` is proved against the executed notebook by ``grader verify``;
these tests pin the same mistakes at the unit level (each one caught by the hidden test for
every seed of a list), check the references against shap's own explainers and against a second
algorithm, and cover the tiers around them (not attempted, wrong type, crashes) and the rule
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
from sklearn.datasets import load_wine
from sklearn.ensemble import (
    GradientBoostingClassifier,
    GradientBoostingRegressor,
    RandomForestClassifier,
)
from sklearn.linear_model import LinearRegression
from sklearn.model_selection import train_test_split

from grader.checks import Incorrect, NotAttempted
from grader.checks import m08 as student_m08
from grader.checks.offline import load_key_file
from grader.datasets import (
    CROP_FEATURES,
    CROP_NOISE_FEATURES,
    TENANCY_FEATURES,
    make_applicant_bands,
    make_field_trials,
    make_tenancy,
)

m08 = load_key_file(Path(__file__).resolve().parents[1] / "solutions/08-shap/key.py")

#: At least eight seeds: the four of the notebook's hidden cells and four others.
SEEDS = (0, 1, 2, 7, 8011, 8023, 8069, 8087)
QUESTIONS = {q.label: q for q in (m08.q1, m08.q2, m08.q3, m08.q4, m08.q5, m08.q6, m08.q7,
                                   m08.q8, m08.q9)}
ROW, APPLICANT = student_m08.ROW, student_m08.APPLICANT


# --- the notebook's setup, rebuilt here as a student would have it -----------------------------
def _credit_score(X):
    X = np.atleast_2d(np.asarray(X, dtype=float))
    return 1.2 * X[:, 0] + 0.3 * X[:, 1] + 0.6 * X[:, 2] - 2.0 * X[:, 3] + 0.4 * X[:, 0] * X[:, 2]


def _setup():
    wine = load_wine(as_frame=True)
    X_train, X_test, y_train, y_test = train_test_split(
        wine.data, wine.target, test_size=0.3, random_state=0, stratify=wine.target)
    background, X_explain = X_train.iloc[:60], X_test.iloc[:10]
    rf = RandomForestClassifier(n_estimators=50, max_depth=3, random_state=5).fit(X_train, y_train)
    rf_explainer = shap.TreeExplainer(rf, data=background)
    T, t = make_tenancy(n=1500, seed=8)
    T = pd.DataFrame(T, columns=list(TENANCY_FEATURES))
    gb = GradientBoostingClassifier(n_estimators=100, max_depth=2, random_state=0)
    gb.fit(T.iloc[:1000], t[:1000])
    gb_explainer = shap.TreeExplainer(gb, data=T.iloc[:100], feature_perturbation="interventional")
    C, c = make_field_trials(n=1200, seed=0)
    crop = GradientBoostingRegressor(random_state=0).fit(C.iloc[:900], c[:900])
    crop_explainer = shap.TreeExplainer(crop, data=C.iloc[:100],
                                        feature_perturbation="interventional")
    return dict(
        y_train=y_train, background=background, X_explain=X_explain, rf=rf,
        rf_explainer=rf_explainer, rf_values=rf_explainer.shap_values(X_explain),
        gb=gb, T_explain=T.iloc[1000:1010], gb_values=gb_explainer.shap_values(T.iloc[1000:1010]),
        gb_base=float(np.ravel(gb_explainer.expected_value)[0]),
        crop_values=crop_explainer.shap_values(C.iloc[900:]), crop_names=list(C.columns),
        A=make_applicant_bands(n=400, seed=8).to_numpy(dtype=float),
        crop=crop, C=C,
    )  # fmt: skip


NB = _setup()


# --- right answers ------------------------------------------------------------------------------
def exact_shapley(f, x, background, weights):
    x, background = np.asarray(x, dtype=float), np.asarray(background, dtype=float)
    weights = np.asarray(weights, dtype=float)
    p = x.size

    def v(subset):
        z = background.copy()
        z[:, list(subset)] = x[list(subset)]
        return float(weights @ f(z) / weights.sum())

    phi = np.zeros(p)
    for j in range(p):
        others = [k for k in range(p) if k != j]
        for size in range(p):
            w = math.factorial(size) * math.factorial(p - size - 1) / math.factorial(p)
            for s in itertools.combinations(others, size):
                phi[j] += w * (v(s + (j,)) - v(s))
    return phi


def exact_shapley_permutations(f, x, background, weights):
    """A second, independent algorithm: orderings, and the background's rows repeated by weight
    (the weights the checks draw are whole numbers)."""
    x = np.asarray(x, dtype=float)
    rows = np.repeat(np.asarray(background, dtype=float), np.asarray(weights).astype(int), axis=0)
    p = x.size
    phi = np.zeros(p)
    perms = list(itertools.permutations(range(p)))
    for order in perms:
        z = rows.copy()
        before = float(np.mean(f(z)))
        for j in order:
            z[:, j] = x[j]
            after = float(np.mean(f(z)))
            phi[j] += after - before
            before = after
    return phi / len(perms)


def linear_shap(model, X, background):
    scaler, lr = model[0], model[-1]
    slope = lr.coef_[0] / scaler.scale_
    mean_bg = np.asarray(background).mean(axis=0)
    return slope * (X - mean_bg), float(np.mean(model.decision_function(background)))


def linear_shap_list(model, X, background):
    """Through the scaler's transform, returned as a list: right too."""
    lr = model[-1]
    Z, Zb = model[0].transform(X), model[0].transform(background)
    return [lr.coef_[0] * (Z - Zb.mean(axis=0)), np.float64(lr.intercept_[0] + Zb.mean(0) @ lr.coef_[0])]


def logodds_to_proba(base_value, phi):
    return float(1.0 / (1.0 + np.exp(-(base_value + np.sum(phi)))))


def logodds_to_proba_np(base_value, phi):
    """Returns a NumPy float (accepted)."""
    from scipy.special import expit

    return expit(base_value + np.sum(phi))


def mean_abs_shap(values, feature_names):
    imp = np.abs(values).mean(axis=0)
    return pd.Series(imp, index=list(feature_names)).sort_values(ascending=False)


def conditional_shapley(f, x, data):
    x, data = np.asarray(x, dtype=float), np.asarray(data, dtype=float)
    p = x.size

    def v(subset):
        s = list(subset)
        return float(np.mean(f(data[np.all(data[:, s] == x[s], axis=1)])))

    phi = np.zeros(p)
    for j in range(p):
        others = [k for k in range(p) if k != j]
        for size in range(p):
            w = math.factorial(size) * math.factorial(p - size - 1) / math.factorial(p)
            for s in itertools.combinations(others, size):
                phi[j] += w * (v(s + (j,)) - v(s))
    return phi


def conditional_shapley_permutations(f, x, data):
    """Orderings, with the conditional mean computed through pandas' groupby."""
    x, data = np.asarray(x, dtype=float), np.asarray(data, dtype=float)
    p = x.size
    frame = pd.DataFrame(data)
    frame["f"] = f(data)

    memo: dict[tuple, float] = {}

    def v(cols):
        if not cols:
            return float(frame["f"].mean())
        if tuple(cols) not in memo:
            means = frame.groupby(list(cols))["f"].mean()
            memo[tuple(cols)] = float(means.loc[tuple(x[list(cols)])])
        return memo[tuple(cols)]

    phi = np.zeros(p)
    perms = list(itertools.permutations(range(p)))
    for order in perms:
        for i, j in enumerate(order):
            phi[j] += v(sorted(order[: i + 1])) - v(sorted(order[:i]))
    return phi / len(perms)


def categorical_importance(values, columns, prefix):
    keep = [i for i, c in enumerate(columns) if c.startswith(prefix + "_")]
    return float(np.abs(np.asarray(values)[:, keep].sum(axis=1)).mean())


def categorical_importance_pandas(values, columns, prefix):
    """Through pandas' filter with a regular expression: right too."""
    frame = pd.DataFrame(values, columns=list(columns))
    return frame.filter(regex=f"^{re.escape(prefix)}_").sum(axis=1).abs().mean()


def interaction_values(f, x, background):
    x, background = np.asarray(x, dtype=float), np.asarray(background, dtype=float)
    p = x.size

    def v(subset):
        z = background.copy()
        z[:, list(subset)] = x[list(subset)]
        return float(np.mean(f(z)))

    Phi = np.zeros((p, p))
    for i, j in itertools.combinations(range(p), 2):
        others = [k for k in range(p) if k not in (i, j)]
        for size in range(p - 1):
            w = math.factorial(size) * math.factorial(p - size - 2) / (2 * math.factorial(p - 1))
            for s in itertools.combinations(others, size):
                Phi[i, j] += w * (v(s + (i, j)) - v(s + (i,)) - v(s + (j,)) + v(s))
        Phi[j, i] = Phi[i, j]
    Phi[np.diag_indices(p)] = exact_shapley(f, x, background, np.ones(len(background))) - Phi.sum(1)
    return Phi


def interaction_values_orderings(f, x, background):
    """A second algorithm: Phi_ij is half the difference between j's Shapley value (by orderings)
    in the game of the other features with i always present and with i always absent."""
    x, bg = np.asarray(x, dtype=float), np.asarray(background, dtype=float)
    p = x.size

    def v(subset):
        z = bg.copy()
        z[:, list(subset)] = x[list(subset)]
        return float(np.mean(f(z)))

    Phi = np.zeros((p, p))
    for i in range(p):
        others = [k for k in range(p) if k != i]
        perms = list(itertools.permutations(others))
        for order in perms:
            for pos, j in enumerate(order):
                before = tuple(order[:pos])
                with_i = v(before + (i, j)) - v(before + (i,))
                without_i = v(before + (j,)) - v(before)
                Phi[i, j] += (with_i - without_i) / (2 * len(perms))
    phi = exact_shapley_permutations(f, x, bg, np.ones(len(bg)))
    Phi[np.diag_indices(p)] = phi - Phi.sum(axis=1)
    return Phi


def _kernel_runs(f, x, background, nsamples, seeds, *, seeding="each"):
    x = np.asarray(x, dtype=float)
    runs = []
    if seeding == "once":
        np.random.seed(seeds[0])
    for s in seeds:
        if seeding != "once":
            np.random.seed(seeds[0] if seeding == "same" else s)
        explainer = shap.KernelExplainer(f, background)
        runs.append(explainer.shap_values(x[None, :], nsamples=nsamples, silent=True)[0])
    return np.array(runs)


def kernel_spread(f, x, background, nsamples, seeds):
    runs = _kernel_runs(f, x, background, nsamples, seeds)
    return runs.mean(axis=0), runs.std(axis=0, ddof=1)


def kernel_spread_alt(f, x, background, nsamples, seeds):
    """A 1-D row, a DataFrame-free loop over explainers, the variance's square root, a list."""
    est = []
    for s in list(seeds):
        np.random.seed(int(s))
        est.append(np.ravel(shap.KernelExplainer(f, np.asarray(background)).shap_values(
            np.asarray(x), nsamples=nsamples, silent=True)))
    est = np.vstack(est)
    return [np.mean(est, axis=0), np.sqrt(np.var(est, axis=0, ddof=1))]


def _crop_kernel_case():
    """q9's notebook case, computed as a student would (independently of the key)."""
    names, C, crop = NB["crop_names"], NB["C"], NB["crop"]

    def predict(X):
        return crop.predict(pd.DataFrame(np.asarray(X, dtype=float), columns=names))

    bg, x = C.iloc[:12].to_numpy(), C.iloc[student_m08.KERNEL_PLOT].to_numpy()
    seeds, n = student_m08.KERNEL_SEEDS, student_m08.KERNEL_NSAMPLES
    runs = _kernel_runs(predict, x, bg, n, seeds)
    exact = shap.TreeExplainer(crop, data=bg, feature_perturbation="interventional").shap_values(
        x[None, :])[0]
    path = shap.TreeExplainer(crop).shap_values(x[None, :])[0]
    t, s = names.index("temperature_c"), names.index("soil_ph")

    def flips(est, truth):
        return int(np.sum((np.abs(est[:, t]) > np.abs(est[:, s])) != (abs(truth[t]) > abs(truth[s]))))

    return dict(predict=predict, bg=bg, x=x, runs=runs, exact=exact, path=path, t=t,
                sd=float(runs[:, t].std(ddof=1)), bias=float(runs[:, t].mean() - exact[t]),
                flipped=flips(runs, exact), flips=flips)


K9 = _crop_kernel_case()

_imp = mean_abs_shap(NB["crop_values"], NB["crop_names"])
NOISE_FLOOR = float(_imp[list(CROP_NOISE_FEATURES)].max())
IMPORTANT = [k for k in _imp.index if _imp[k] > NOISE_FLOOR]
_POSTCODE = 1
REG = float(exact_shapley(_credit_score, NB["A"][APPLICANT], NB["A"], np.ones(400))[_POSTCODE])
POP = float(conditional_shapley(_credit_score, NB["A"][APPLICANT], NB["A"])[_POSTCODE])


def q3_values(**change):
    return {"phi_class1": NB["rf_values"][ROW, :, 1],
            "base_class1": float(NB["rf_explainer"].expected_value[1]), **change}


def q4_values(**change):
    return {"logodds_to_proba": logodds_to_proba,
            "p_approved": logodds_to_proba(NB["gb_base"], NB["gb_values"][ROW]), **change}


def q5_values(**change):
    return {"mean_abs_shap": mean_abs_shap, "important": IMPORTANT, "noise_floor": NOISE_FLOOR,
            **change}


def q9_values(**change):
    return {"kernel_spread": kernel_spread, "kernel_sd": K9["sd"], "kernel_bias": K9["bias"],
            "n_flipped": K9["flipped"], **change}


def q6_values(**change):
    return {"conditional_shapley": conditional_shapley, "postcode_regulator": REG,
            "postcode_population": POP, **change}


RIGHT = {
    "q1": [{"exact_shapley": exact_shapley}, {"exact_shapley": exact_shapley_permutations}],
    "q2": [{"linear_shap": linear_shap}, {"linear_shap": linear_shap_list}],
    "q3": [q3_values(), q3_values(phi_class1=list(NB["rf_values"][ROW, :, 1]))],
    "q4": [q4_values(), q4_values(logodds_to_proba=logodds_to_proba_np)],
    "q5": [q5_values(), q5_values(important=tuple(IMPORTANT), noise_floor=np.float64(NOISE_FLOOR))],
    "q6": [q6_values(), q6_values(conditional_shapley=conditional_shapley_permutations)],
    "q7": [{"categorical_importance": categorical_importance},
           {"categorical_importance": categorical_importance_pandas}],
    "q8": [{"interaction_values": interaction_values},
           {"interaction_values": interaction_values_orderings}],
    "q9": [q9_values(), q9_values(kernel_spread=kernel_spread_alt, n_flipped=np.int64(K9["flipped"]))],
}


@pytest.mark.parametrize(
    "label, values", [(q, v) for q, vs in RIGHT.items() for v in vs], ids=lambda x: str(x)[:12]
)
def test_right_answers_pass_visible_graded_and_hidden(label, values):
    question = QUESTIONS[label]
    question.verify(**values)
    for seed in SEEDS:
        question.verify_hidden(seed=seed, **values)
        question.verify_graded(seed=seed, **values)


@pytest.mark.parametrize("label", sorted(QUESTIONS))
def test_references_pass_their_own_checks(label):
    question = QUESTIONS[label]
    refs = question.references()
    question.verify(**refs)
    for seed in SEEDS[:3]:
        question.verify_hidden(seed=seed, **refs)


# --- the references agree with shap's own explainers and with the notebook --------------------
def test_weighted_enumeration_matches_kernel_explainer_on_the_repeated_rows():
    """A weight of k is k copies of the row: KernelExplainer (exact for p = 4) on the expanded
    background gives the weighted values."""
    rng = np.random.default_rng(3)
    model, _ = m08._random_model(rng, 4)
    bg, w = rng.normal(size=(5, 4)), np.array([3.0, 1.0, 6.0, 2.0, 4.0])
    x = rng.normal(size=4)
    explainer = shap.KernelExplainer(model, np.repeat(bg, w.astype(int), axis=0))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        values = explainer.shap_values(x[None, :], nsamples=100, silent=True)
    assert np.allclose(m08._shapley(model, x, bg, w), values[0], atol=1e-10)
    assert np.isclose(float(explainer.expected_value), float(w @ model(bg) / w.sum()))


def test_pipeline_closed_form_matches_linear_explainer_in_raw_units():
    """The log-odds of the pipeline is linear in the raw features: LinearExplainer on the
    equivalent raw-unit linear model gives the same values and base value."""
    rng = np.random.default_rng(4)
    X = rng.normal(size=(300, 3)) * [1, 20, 300] + [5, -1, 1000]
    y = ((X - X.mean(axis=0)) @ [1.0, -0.05, 0.004] + rng.normal(size=300) > 0).astype(int)
    model = m08._pipe(X[:200], y[:200])
    slope = model[-1].coef_[0] / model[0].scale_
    raw = LinearRegression().fit(X, model.decision_function(X))  # exact: a linear function
    assert np.allclose(raw.coef_, slope)
    bg = X[200:260]
    explainer = shap.LinearExplainer(raw, shap.maskers.Independent(bg, max_samples=len(bg)))
    phi, base = m08._linear_shap(model, X[270:280], bg)
    assert np.allclose(explainer.shap_values(X[270:280]), phi)
    assert np.isclose(float(np.ravel(explainer.expected_value)[0]), base)
    assert np.allclose(phi.sum(axis=1) + base, model.decision_function(X[270:280]))


def test_reference_models_match_the_notebook_and_add_up():
    d = m08._wine()
    assert np.allclose(d.values, NB["rf_values"])
    assert np.allclose(d.base, NB["rf_explainer"].expected_value)
    assert abs(d.base[1] - d.label_shares[0][1]) > 0.005  # base value vs label rate
    assert abs(d.base[1] - d.mean_row[1]) > 0.005  # base value vs f(mean row)
    t = m08._tenancy()
    assert np.allclose(t.values, NB["gb_values"])
    assert np.allclose(t.values.sum(axis=1) + t.base, t.margin, atol=1e-6)
    assert np.isclose(t.p_ref, NB["gb"].predict_proba(NB["T_explain"])[ROW, 1], atol=1e-6)
    assert np.allclose(m08._crop().values, NB["crop_values"])
    b = m08._bands()
    assert np.allclose(b.data, NB["A"]) and np.isclose(b.inter[_POSTCODE], REG)
    assert np.isclose(b.cond[_POSTCODE], POP)


def test_the_crop_data_puts_a_real_feature_below_the_noise_floor():
    """q5's judgement needs it: slope_deg has a true effect but does not clear the floor, so
    "every non-noise column" is a wrong answer, not a lucky right one."""
    assert "slope_deg" in CROP_FEATURES and "slope_deg" not in IMPORTANT
    assert [k for k in _imp.index if k not in CROP_NOISE_FEATURES] != IMPORTANT


def test_the_two_readers_get_clearly_different_postcode_values():
    assert abs(REG - POP) > 0.05 and POP > 2 * REG > 0


def test_design_cases_separate_every_mistake():
    """Each mistake differs from the right answer on at least one visible case (q1), or on the
    only one (q2, q6)."""
    cases = [(m08._shapley(f, x, bg, w), m08._q1_mistakes(f, x, bg, w))
             for f, _t, x, bg, w, _dummy, _pair in m08._Q1_CASES]
    for name in cases[0][1]:
        assert any(m08._separated(ref, [wrong[name]]) for ref, wrong in cases), name
    _, _, bg, X = m08._Q2_DESIGN
    model = m08._q2_design_model()
    ref, base = m08._linear_shap(model, X, bg)
    assert m08._separated(ref, m08._q2_mistakes(model, X, bg).values())
    assert m08._separated([base], [[v] for v in m08._q2_base_mistakes(model, X, bg).values()])
    ref6 = m08._conditional(m08._toy_f6, m08._Q6_X, m08._Q6_DATA)
    assert m08._separated(ref6, m08._q6_mistakes(m08._toy_f6, m08._Q6_X, m08._Q6_DATA).values())
    ref8 = m08._interactions(m08._toy_f8, m08._Q8_X, m08._Q8_BG)
    assert m08._separated(ref8, m08._q8_mistakes(m08._toy_f8, m08._Q8_X, m08._Q8_BG).values())
    v7, c7, p7 = m08._Q7_CASE
    assert m08._separated([m08._categorical_importance(v7, c7, p7)],
                          [[v] for v in m08._q7_mistakes(v7, c7, p7).values()])
    assert m08._q9_separated(m08._toy_f9, m08._Q9_X, m08._Q9_BG, m08._Q9_NSAMPLES, m08._Q9_SEEDS)
    assert m08._q9_design_known()[0][1].max() > 0.01  # the visible case really samples


# --- the catalogued mistakes: named, never showing the answer, caught for every seed ------------
def _q1_mistake(**kw):
    def f(model, x, background, weights):
        return m08._shapley(model, np.asarray(x, float), np.asarray(background, float),
                            np.asarray(weights, float), **kw)

    return f


def _q2(kind):
    def f(model, X, background):
        scaler, lr = model[0], model[-1]
        coef, slope = lr.coef_[0], lr.coef_[0] / scaler.scale_
        mean_bg = np.asarray(background).mean(axis=0)
        base = float(np.mean(model.decision_function(background)))
        phi = slope * (X - mean_bg)
        if kind == "raw":
            return coef * (X - mean_bg), base
        if kind == "training":
            return coef * scaler.transform(X), base
        if kind == "uncentred":
            return slope * X, base
        if kind == "explained":
            return slope * (X - X.mean(axis=0)), base
        if kind == "intercept":
            return phi, float(lr.intercept_[0])
        if kind == "probability":
            return phi, float(model.predict_proba(background)[:, 1].mean())
        if kind == "transposed":
            return phi.T, base
        return phi  # "no tuple"

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
            "each": float(np.sum(1 / (1 + np.exp(-np.asarray(phi))))) + 1 / (1 + np.exp(-base_value)),
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


def _q7(kind):
    def f(values, columns, prefix):
        v = np.asarray(values)
        d = v[:, [i for i, c in enumerate(columns) if c.startswith(prefix + "_")]]
        if kind == "abs_first":
            return float(np.abs(d).mean(axis=0).sum())
        if kind == "signed":
            return float(d.sum(axis=1).mean())
        if kind == "largest":
            return float(np.abs(d).mean(axis=0).max())
        if kind == "mean":
            return float(np.abs(d).mean())
        loose = v[:, [i for i, c in enumerate(columns) if c.startswith(prefix)]]
        return float(np.abs(loose.sum(axis=1)).mean())

    return f


def _q9(seeding="each", ddof=1, axis=0, one_run=False, se=False, summary=False):
    def f(model, x, background, nsamples, seeds):
        runs = _kernel_runs(model, x, background, nsamples, seeds, seeding=seeding)
        sd = runs.std(axis=axis, ddof=ddof)
        if se:
            sd = sd / np.sqrt(len(runs))
        if summary:
            sd = float(runs.mean(axis=0).std(ddof=1))
        return (runs[0] if one_run else runs.mean(axis=0)), sd

    return f


def _q8(**kw):
    def f(model, x, background):
        if kw.get("upper"):
            out = m08._interactions(model, x, background)
            out[np.tril_indices(len(x), -1)] = 0.0
            return out
        return m08._interactions(model, x, background, **kw)

    return f


def _q6(**kw):
    def f(model, x, data):
        return m08._conditional(model, x, data, **kw)

    return f


_rf, _wd = NB["rf_values"], m08._wine()
_cv = NB["crop_values"]
_noise = [NB["crop_names"].index(k) for k in CROP_NOISE_FEATURES]
_t = m08._tenancy()
MISTAKES = [
    ("q1", {"exact_shapley": _q1_mistake(mode="unweighted")}, "weights are ignored"),
    ("q1", {"exact_shapley": _q1_mistake(mode="unnormalised")}, "total weight"),
    ("q1", {"exact_shapley": _q1_mistake(mode="mean_row")}, "mean row"),
    ("q1", {"exact_shapley": _q1_mistake(mode="first_row")}, "first background row"),
    ("q1", {"exact_shapley": _q1_mistake(weight="off_by_one")}, "don't add up"),
    ("q1", {"exact_shapley": _q1_mistake(weight="uniform")}, "don't add up"),
    ("q1", {"exact_shapley": _q1_mistake(weight="banzhaf")}, "Banzhaf"),
    ("q1", {"exact_shapley": _q1_mistake(skip_empty=True)}, "empty coalition"),
    ("q1", {"exact_shapley": lambda f, x, bg, w: -exact_shapley(f, x, bg, w)}, "signs are flipped"),
    ("q1", {"exact_shapley": lambda f, x, bg, w: exact_shapley(f, x, bg, w)[:-1]},
     "one value per feature"),
    ("q2", {"linear_shap": _q2("raw")}, "standardised"),
    ("q2", {"linear_shap": _q2("training")}, "training"),
    ("q2", {"linear_shap": _q2("uncentred")}, "not centred"),
    ("q2", {"linear_shap": _q2("explained")}, "explained rows"),
    ("q2", {"linear_shap": _q2("intercept")}, "the intercept"),
    ("q2", {"linear_shap": _q2("probability")}, "probability"),
    ("q2", {"linear_shap": _q2("transposed")}, "transposed"),
    ("q2", {"linear_shap": _q2("no tuple")}, "tuple"),
    ("q3", q3_values(phi_class1=_rf[1]), "shap 0.45"),
    ("q3", q3_values(phi_class1=_rf[1][:, 1]), "sample 1"),
    ("q3", q3_values(phi_class1=_rf[ROW, :, 2]), "position 2"),
    ("q3", q3_values(phi_class1=_rf[ROW, :, 0]), "position 0"),
    ("q3", q3_values(phi_class1=_rf), "whole array"),
    ("q3", q3_values(base_class1=float(np.mean(NB["y_train"] == 1))), "mean(y)"),
    ("q3", q3_values(base_class1=float(_wd.mean_row[1])), "mean row"),
    ("q3", q3_values(base_class1=float(_wd.base[0])), "another class"),
    ("q3", q3_values(base_class1=float(_wd.proba[ROW, 1])), "f(x)"),
    ("q3", q3_values(base_class1=NB["rf_explainer"].expected_value), "single number"),
    ("q4", q4_values(logodds_to_proba=_q4("logit")), "log-odds"),
    ("q4", q4_values(logodds_to_proba=_q4("nobase")), "base value is missing"),
    ("q4", q4_values(logodds_to_proba=_q4("flip")), "other class"),
    ("q4", q4_values(logodds_to_proba=_q4("odds")), "odds"),
    ("q4", q4_values(logodds_to_proba=_q4("mixed")), "added log-odds"),
    ("q4", q4_values(logodds_to_proba=_q4("each")), "each term"),
    ("q4", q4_values(p_approved=float(_t.proba[ROW, 0])), "refused"),
    ("q4", q4_values(p_approved=float(_t.margin[ROW])), "decision function"),
    ("q5", q5_values(mean_abs_shap=_q5("signed")), "absolute values before averaging"),
    ("q5", q5_values(mean_abs_shap=_q5("absmean")), "absolute value of the mean"),
    ("q5", q5_values(mean_abs_shap=_q5("sum")), "sum over rows"),
    ("q5", q5_values(mean_abs_shap=_q5("unsorted")), "descending"),
    ("q5", q5_values(mean_abs_shap=_q5("ascending")), "ascending"),
    ("q5", q5_values(mean_abs_shap=_q5("rows")), "per *row*"),
    ("q5", q5_values(mean_abs_shap=_q5("squares")), "squared"),
    ("q5", q5_values(important=[k for k in _imp.index if k not in CROP_NOISE_FEATURES]),
     "does not stand above"),
    ("q5", q5_values(important=list(_imp.index[:6])), "includes a column"),
    ("q5", q5_values(important=sorted(IMPORTANT)), "wrong order"),
    ("q5", q5_values(noise_floor=float(np.abs(_cv[:, _noise]).mean(axis=0).min())), "largest"),
    ("q5", q5_values(noise_floor=float(_cv[:, _noise].mean(axis=0).max())), "absolute values"),
    ("q6", q6_values(conditional_shapley=_q6(mode="interventional")), "interventional"),
    ("q6", q6_values(conditional_shapley=_q6(mode="mean_row")), "mean of the matching rows"),
    ("q6", q6_values(conditional_shapley=_q6(weight="off_by_one")), "off by one"),
    ("q6", q6_values(conditional_shapley=_q6(skip_empty=True)), "empty coalition"),
    ("q6", q6_values(postcode_regulator=POP, postcode_population=REG),
     "observational value function"),
    ("q6", q6_values(postcode_regulator=POP), "observational value function"),
    ("q6", q6_values(postcode_population=REG), "interventional value function"),
    ("q7", {"categorical_importance": _q7("abs_first")}, "before adding them"),
    ("q7", {"categorical_importance": _q7("signed")}, "signed sum"),
    ("q7", {"categorical_importance": _q7("largest")}, "one dummy column"),
    ("q7", {"categorical_importance": _q7("mean")}, "*sum*"),
    ("q7", {"categorical_importance": _q7("loose")}, "separator"),
    ("q8", {"interaction_values": _q8(half=False)}, "counted twice"),
    ("q8", {"interaction_values": _q8(diag="zero")}, "diagonal is 0"),
    ("q8", {"interaction_values": _q8(diag="phi")}, "interactions twice"),
    ("q8", {"interaction_values": _q8(weight="p")}, "p - 2 others"),
    ("q8", {"interaction_values": _q8(upper=True)}, "symmetric"),
    ("q8", {"interaction_values": lambda f, x, bg: m08._interactions(f, x, bg)[0]},
     "(4, 4) matrix"),
    ("q9", q9_values(kernel_spread=_q9(seeding="same")), "seeded with the same seed"),
    ("q9", q9_values(kernel_spread=_q9(seeding="once")), "seeded once before the loop"),
    ("q9", q9_values(kernel_spread=_q9(ddof=0)), "ddof=1"),
    ("q9", q9_values(kernel_spread=_q9(axis=1)), "one value per seed"),
    ("q9", q9_values(kernel_spread=_q9(summary=True)), "single number"),
    ("q9", q9_values(kernel_spread=_q9(one_run=True)), "single random estimate"),
    ("q9", q9_values(kernel_spread=_q9(se=True)), "standard error"),
    ("q9", q9_values(kernel_sd=0.0), "seeded with the same seed"),
    ("q9", q9_values(kernel_sd=float(K9["runs"][:, K9["t"]].std())), "ddof=1"),
    ("q9", q9_values(kernel_sd=float(K9["runs"].mean(axis=0).std(ddof=1))), "across the features"),
    ("q9", q9_values(kernel_bias=float(K9["runs"][:, K9["t"]].mean() - K9["path"][K9["t"]])),
     "path-dependent"),
    ("q9", q9_values(kernel_bias=float(K9["runs"][0, K9["t"]] - K9["exact"][K9["t"]])),
     "single run"),
    ("q9", q9_values(n_flipped=K9["flips"](K9["runs"], K9["path"])), "another reference order"),
    ("q9", q9_values(n_flipped=len(K9["runs"]) - K9["flipped"]), "another reference order"),
]
#: Mistakes in a *variable* (not a function): the hidden test judges the same fixed value.
_FUNCTION_NAMES = {"exact_shapley", "linear_shap", "logodds_to_proba", "mean_abs_shap",
                   "conditional_shapley", "categorical_importance", "interaction_values",
                   "kernel_spread"}


def _references(label: str) -> list[str]:
    """Text forms of the expected values a message must never contain."""
    if label == "q1":
        numbers = [v for f, _t, x, bg, w, *_ in m08._Q1_CASES for v in m08._shapley(f, x, bg, w)]
    elif label == "q2":
        _, _, bg, X = m08._Q2_DESIGN
        phi, base = m08._linear_shap(m08._q2_design_model(), X, bg)
        numbers = [base, *phi.ravel()]
    elif label == "q3":
        numbers = [_wd.base[1], *_wd.values[ROW, :3, 1]]
    elif label == "q4":
        numbers = [logodds_to_proba(b, np.array(p)) for b, p in m08._Q4_CASES] + [_t.p_ref]
    elif label == "q5":
        values, _names = m08._Q5_CASE
        numbers = [*np.abs(values).mean(axis=0), NOISE_FLOOR]
    elif label == "q6":
        numbers = [*m08._conditional(m08._toy_f6, m08._Q6_X, m08._Q6_DATA), REG, POP]
    elif label == "q7":
        numbers = [m08._categorical_importance(*m08._Q7_CASE)]
    elif label == "q9":
        mean, sd = m08._kernel_spread(m08._toy_f9, m08._Q9_X, m08._Q9_BG, m08._Q9_NSAMPLES,
                                      m08._Q9_SEEDS)
        numbers = [*sd, K9["sd"], K9["bias"]]   # the means are shown when only sd is wrong
    else:
        numbers = list(m08._interactions(m08._toy_f8, m08._Q8_X, m08._Q8_BG).ravel())
    return [f"{v:.4f}" for v in numbers if abs(v) > 1e-3] + [
        f"{v:.6g}" for v in numbers if len(f"{v:.6g}") >= 5
    ]


def _numbers_in(message: str) -> set[str]:
    return set(re.findall(r"(?<![\w.])-?\d+(?:\.\d+)?", message))


#: Mistakes whose feedback shows the student's own, partly right values (a shape error).
SHOWS_OWN_VALUES = ("one value per feature", "single number", "transposed", "tuple",
                    "one value per seed",
                    "interactions twice", "diagonal is 0", "symmetric", "(4, 4) matrix")


@pytest.mark.parametrize("label, values, named", MISTAKES, ids=[m[2][:24] for m in MISTAKES])
def test_mistakes_are_named_and_the_answer_is_not_shown(label, values, named):
    question = QUESTIONS[label]
    with pytest.raises(Incorrect) as visible:
        question.verify(**values)
    message = str(visible.value)
    assert named in message
    assert not isinstance(visible.value, NotAttempted)
    if named not in SHOWS_OWN_VALUES:
        own = {t for v in values.values() if type(v) is float for t in (f"{v:.4f}", f"{v:.6g}")}
        shown = _numbers_in(message) & (set(_references(label)) - own)  # the student's own: fine
        assert not shown, f"{label} feedback reveals the expected value(s) {shown}"


@pytest.mark.parametrize("label, values, named", MISTAKES, ids=[m[2][:24] for m in MISTAKES])
def test_every_mistake_is_caught_by_the_hidden_test_for_every_seed(label, values, named):
    question = QUESTIONS[label]
    for seed in SEEDS:
        with pytest.raises(Incorrect):
            question.verify_hidden(seed=seed, **values)


def test_the_hidden_function_tests_name_the_function_mistakes_on_fresh_inputs():
    """The bounded redraws leave every function mistake distinguishable, so the hidden test's
    message names it (not only "wrong"), for every seed."""
    for label, values, named in MISTAKES:
        student = {k: v for k, v in values.items() if k in _FUNCTION_NAMES}
        right = {k: v for k, v in RIGHT[label][0].items() if k not in student}
        changed = [k for k in student if student[k] is not RIGHT[label][0][k]]
        if not changed or named in SHOWS_OWN_VALUES or named in ("tuple",):
            continue
        for seed in SEEDS:
            with pytest.raises(Incorrect) as info:
                QUESTIONS[label].verify_hidden(seed=seed, **right, **student)
            text = str(info.value)
            assert named in text or "don't add up" in text, (label, named, seed, text)


def test_rounded_values_pass_visible_but_not_hidden():
    values = q3_values(base_class1=round(q3_values()["base_class1"], 6))
    m08.q3.verify(**values)
    with pytest.raises(Incorrect, match="do not round"):
        m08.q3.verify_hidden(seed=1, **values)
    values = q6_values(postcode_population=POP * (1 + 1e-7))
    m08.q6.verify(**values)
    with pytest.raises(Incorrect):
        m08.q6.verify_hidden(seed=1, **values)


def test_hidden_q1_catches_a_hard_coded_answer():
    """A function that only knows the visible toy cases fails on fresh models."""
    known = {tuple(x): m08._shapley(f, x, bg, w) for f, _t, x, bg, w, *_ in m08._Q1_CASES}

    def memorised(f, x, background, weights):
        return known.get(tuple(np.asarray(x)), np.zeros(len(x)))

    m08.q1.verify(exact_shapley=memorised)
    with pytest.raises(Incorrect):
        m08.q1.verify_hidden(seed=8011, exact_shapley=memorised)


# --- not attempted, wrong types and crashes: feedback, never a traceback -----------------------
def _crashes(*args, **kwargs):
    return {}["phi"]


@pytest.mark.parametrize("label", ["q1", "q2", "q4", "q5", "q6", "q7", "q8", "q9"])
def test_unwritten_functions_are_not_attempted(ns, label):
    question = QUESTIONS[label]
    with pytest.raises(NotAttempted, match="not defined yet"):
        question.check()
    values = {**RIGHT[label][0]}
    fname = question.names[0]
    for stub, kind in ((_unfinished, NotAttempted), (_no_return, NotAttempted), (_crashes, Incorrect)):
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


@pytest.mark.parametrize("label", ["q3", "q4", "q5", "q6", "q9"])
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
        ("q3", {"phi_class1": "values"}),
        ("q3", {"base_class1": "0.3"}),
        ("q3", {"phi_class1": np.full(13, np.nan)}),
        ("q4", {"p_approved": [0.9]}),
        ("q4", {"p_approved": 1.7}),
        ("q5", {"important": "rain_mm nitrogen_kg"}),
        ("q5", {"noise_floor": True}),
        ("q5", {"mean_abs_shap": lambda v, n: dict(zip(n, np.abs(v).mean(axis=0), strict=True))}),
        ("q6", {"postcode_regulator": "0.03"}),
        ("q6", {"postcode_population": [0.15]}),
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
    def noisy(f, x, background, weights):
        import sys

        warnings.warn("student warning", stacklevel=1)
        print("debug", file=sys.stderr)
        return exact_shapley(f, x, background, weights)

    ns["exact_shapley"] = noisy
    m08.q1.check()
    assert capsys.readouterr().err == ""


# --- the student side: the offline visible check (grader/checks/data/m08.json) -----------------
def test_offline_checks_pass_the_right_answers(ns, capsys):
    for label, values in RIGHT.items():
        ns.clear()
        ns.update(values[0])
        getattr(student_m08, label).check()
    assert capsys.readouterr().out.count("Correct") == 9


def test_offline_q1_calls_the_students_function_on_a_model_sent_as_data(ns):
    """q1's models cross the wire as Formulas: the offline check calls exact_shapley on them."""
    ns["exact_shapley"] = _q1_mistake(mode="unweighted")
    with pytest.raises(Incorrect, match="weights are ignored"):
        student_m08.q1.check()


def test_offline_q2_calls_the_students_function_on_a_pipeline_sent_as_a_recipe(ns):
    ns["linear_shap"] = _q2("training")
    with pytest.raises(Incorrect, match="training"):
        student_m08.q2.check()


def test_offline_important_is_hashed_and_ordered(ns):
    data = (Path(student_m08.__file__).parent / "data/m08.json").read_text()
    assert '"nitrogen_kg"' not in data  # the list (and every name in it) is hashed
    ns.update(q5_values(important=list(reversed(IMPORTANT))))
    with pytest.raises(Incorrect, match="important"):
        student_m08.q5.check()


def test_offline_q6_names_the_value_function_mistakes(ns):
    ns.update(q6_values(postcode_regulator=POP, postcode_population=REG))
    with pytest.raises(Incorrect, match="observational value function"):
        student_m08.q6.check()
    ns.update(q6_values(conditional_shapley=_q6(mode="interventional")))
    with pytest.raises(Incorrect, match="interventional"):
        student_m08.q6.check()


def test_offline_q5_names_the_series_mistakes(ns):
    """The catalogued mistakes' Series are matched with their index (the mutants' messages)."""
    for func, words in ((_q5("signed"), "absolute values before averaging"),
                        (_q5("ascending"), "ascending")):
        ns.update(q5_values(mean_abs_shap=func))
        with pytest.raises(Incorrect, match=words):
            student_m08.q5.check()


def test_interaction_values_match_shap_on_a_tree_with_the_path_dependent_game():
    """The key's formula with the cover-weighted value function reproduces
    TreeExplainer.shap_interaction_values (which supports only tree_path_dependent)."""
    from sklearn.tree import DecisionTreeRegressor

    rng = np.random.default_rng(2)
    X = rng.integers(0, 3, (400, 3)).astype(float)
    tree = DecisionTreeRegressor(max_depth=3, random_state=0).fit(X, X[:, 0] * X[:, 1] + X[:, 2])
    x, t = X[7], tree.tree_

    def v_path(s, node=0):
        if t.children_left[node] == -1:
            return t.value[node, 0, 0]
        left, right = t.children_left[node], t.children_right[node]
        if t.feature[node] in s:
            return v_path(s, left if x[t.feature[node]] <= t.threshold[node] else right)
        n_l, n_r = t.n_node_samples[left], t.n_node_samples[right]
        return (n_l * v_path(s, left) + n_r * v_path(s, right)) / (n_l + n_r)

    Phi = np.zeros((3, 3))
    for i, j in itertools.combinations(range(3), 2):
        k = ({0, 1, 2} - {i, j}).pop()
        for s, w in (((), 1 / 4), ((k,), 1 / 4)):  # |S|! (p - |S| - 2)! / (2 (p - 1)!), p = 3
            Phi[i, j] += w * (v_path(s + (i, j)) - v_path(s + (i,)) - v_path(s + (j,)) + v_path(s))
        Phi[j, i] = Phi[i, j]
    phi = shap.TreeExplainer(tree).shap_values(x[None, :])[0]
    Phi[np.diag_indices(3)] = phi - Phi.sum(axis=1)
    assert np.allclose(Phi, shap.TreeExplainer(tree).shap_interaction_values(x[None, :])[0])


def test_generators_are_seeded_and_documented():
    X1, y1 = make_field_trials(n=50, seed=3)
    X2, y2 = make_field_trials(n=50, seed=3)
    assert X1.equals(X2) and np.array_equal(y1, y2) and list(X1.columns) == list(CROP_FEATURES)
    a, b = make_applicant_bands(n=300, seed=1), make_applicant_bands(n=300, seed=1)
    assert a.equals(b) and set(np.unique(a.to_numpy())) <= {0, 1, 2}
    assert a.corr().loc["income_band", "postcode_band"] > 0.4
    assert abs(a.corr().loc["income_band", "tenure_band"]) < 0.15


# --- q9: KernelSHAP's sampling error -----------------------------------------------------------
def test_kernel_shap_estimates_the_interventional_tree_values_for_its_background():
    """With every coalition (nsamples >= 2^8 - 2) KernelExplainer is exact and equals
    interventional TreeSHAP with the same background: the key's "exact" values are the quantity
    KernelSHAP estimates, and the path-dependent values are not."""
    full = shap.KernelExplainer(K9["predict"], K9["bg"]).shap_values(K9["x"][None, :], nsamples=400,
                                                                      silent=True)[0]
    assert np.allclose(full, K9["exact"], atol=1e-6)
    assert np.max(np.abs(full - K9["path"])) > 0.01
    d = m08._crop_kernel()
    assert np.allclose(d.exact, K9["exact"]) and np.allclose(d.runs, K9["runs"])


def test_the_q9_notebook_case_makes_the_ranking_unstable_and_separates_its_mistakes():
    """At 40 coalitions the order of temperature and soil pH flips in some runs but not most, and
    each variable's catalogued mistakes give other values."""
    d = m08._crop_kernel()
    assert 1 <= d.flipped <= d.r // 2 - 1
    assert d.sd > 1e-3 and all(abs(v - d.sd) > 1e-4 for v in d.sd_mistakes.values())
    assert all(abs(v - d.bias) > 1e-4 for v in d.bias_mistakes.values())
    assert all(v != d.flipped for v in d.flip_mistakes.values())


def test_q9_fresh_cases_really_sample():
    """Every fresh case has fewer coalitions than 2^p - 2 (KernelExplainer samples, so seeds
    matter) and more seeds than one, and R != p (a spread across features has another shape)."""
    for seed in SEEDS:
        for model, x, bg, nsamples, seeds, _known in m08._q9_cases(seed):
            assert nsamples < 2 ** x.size - 2 and 3 <= len(seeds) != x.size
            assert not np.allclose(*m08._kernel_runs(model, x, bg, nsamples, seeds)[:2])


def test_q9_reference_leaves_numpys_global_generator_as_it_was():
    np.random.seed(123)
    state = np.random.get_state()[1].copy()
    m08._kernel_spread(m08._toy_f9, m08._Q9_X, m08._Q9_BG, m08._Q9_NSAMPLES, m08._Q9_SEEDS)
    assert np.array_equal(np.random.get_state()[1], state)
