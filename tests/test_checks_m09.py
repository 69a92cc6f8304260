"""Assignment 09 checks (the key, solutions/09-lime/key.py): right answers pass, named mistakes fail.

Fast unit tests: the checks' ``verify``/``verify_hidden`` are called directly with the values a
student would define (no notebook is executed). The mutant catalogue in
``solutions/09-lime/mutants.yml`` is proved against the executed notebook by ``grader verify``;
these tests pin the same mistakes at the unit level, plus the tiers around them (not attempted,
wrong type, crashes) and the rule that feedback never shows the expected value.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest
from lime.lime_tabular import LimeTabularExplainer
from scipy.stats import spearmanr
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.metrics import r2_score
from sklearn.model_selection import train_test_split

from grader import judging
from grader.checks import Incorrect, NotAttempted
from grader.checks.collect import gather
from grader.checks.offline import load_key_file
from grader.datasets import CHURN_FEATURES, make_churn

m09 = load_key_file(Path(__file__).resolve().parents[1] / "solutions/09-lime/key.py")

SEEDS = (0, 9011, 9041)
#: At least eight hidden seeds: every catalogued mistake must fail the hidden test for each of them.
SEEDS8 = (0, 1, 2, 3, 9011, 9041, 9127, 20261129)
FEATURES = list(CHURN_FEATURES)


# --- the notebook's setup, rebuilt here as a student would have it -----------------------------
def _setup():
    X, y = make_churn()
    X_train, X_test, y_train, _ = train_test_split(X, y, test_size=0.3, random_state=1)
    model = LogisticRegression(max_iter=1000).fit(X_train, y_train)
    return dict(
        X_train=X_train, model=model, scale=X_train.std(axis=0), x=X_test[9],
        width=0.75 * np.sqrt(6), n=2000,
    )  # fmt: skip


NB = _setup()


# --- right answers -------------------------------------------------------------------------------
def kernel_weights(distances, kernel_width):
    d = np.asarray(distances, dtype=float)
    return np.exp(-(d**2) / kernel_width**2)


def lime_weights(Z, x, scale, kernel_width=None):
    d = np.linalg.norm((np.asarray(Z, dtype=float) - x) / scale, axis=1)
    width = 0.75 * np.sqrt(np.shape(Z)[1]) if kernel_width is None else kernel_width
    return kernel_weights(d, width)


def lime_weights_list(Z, x, scale, kernel_width=None):  # loops and a list are fine too
    width = kernel_width or 0.75 * len(x) ** 0.5
    return [float(np.exp(-sum(((z - a) / s) ** 2 for z, a, s in zip(row, x, scale, strict=True))
                         / width**2)) for row in np.asarray(Z, dtype=float)]


def lime_explain(predict_fn, x, scale, kernel_width, n_samples, seed, kernel=kernel_weights):
    x, scale = np.asarray(x, dtype=float), np.asarray(scale, dtype=float)
    E = np.random.default_rng(seed).standard_normal((n_samples, x.size))
    Z = x + E * scale
    w = kernel(np.linalg.norm(E, axis=1), kernel_width)
    return Ridge(alpha=1.0).fit(E, predict_fn(Z), sample_weight=w).coef_ / scale


def explain_reproducibly(model, X_train, feature_names, x, seed, num_features):
    explainer = LimeTabularExplainer(
        X_train, mode="classification", feature_names=feature_names,
        discretize_continuous=False, sample_around_instance=True, random_state=seed,
    )  # fmt: skip
    return explainer.explain_instance(
        x, model.predict_proba, num_features=num_features, num_samples=1000
    ).as_list()


def jaccard(a, b):
    a, b = set(a), set(b)
    return 1.0 if not a and not b else len(a & b) / len(a | b)


def mean_pairwise_jaccard(sets):
    return float(np.mean([jaccard(a, b) for a, b in itertools.combinations(sets, 2)]))


def weighted_r2(y, y_hat, weights):
    y_bar = np.sum(weights * y) / np.sum(weights)
    return float(1 - np.sum(weights * (y - y_hat) ** 2) / np.sum(weights * (y - y_bar) ** 2))


def weighted_r2_sklearn(y, y_hat, weights):
    return float(r2_score(y, y_hat, sample_weight=weights))


def _q6_values(logodds=None, proba=None, top=None):
    m, args = NB["model"], (NB["x"], NB["scale"], NB["width"], NB["n"], 0)
    lo = lime_explain(logodds or m.decision_function, *args)
    pr = lime_explain(proba or (lambda Z: m.predict_proba(Z)[:, 1]), *args)
    offset = NB["x"] - NB["X_train"].mean(axis=0)
    name = top(lo) if top else FEATURES[int(np.argmax(np.abs(lo * offset)))]
    return dict(coef_logodds=lo, coef_proba=pr, top_feature=name)


def _sanity(kind=None):
    """q7: the data-randomisation test, right (kind=None) or with one catalogued mistake."""

    def f(X, y, rows, seed):
        X, y, rows = np.asarray(X, dtype=float), np.asarray(y), np.asarray(rows, dtype=int)
        rng = np.random.default_rng(seed)
        trained = LogisticRegression(max_iter=1000).fit(X, y)
        if kind == "same-model":
            X_r, y_r = X, y
        elif kind == "features":
            X_r, y_r = rng.permuted(X, axis=0), y
        elif kind == "rows-of-X":
            X_r, y_r = rng.permutation(X), y
        else:
            X_r, y_r = X, y[rng.permutation(len(y))]
        randomised = LogisticRegression(max_iter=1000).fit(X_r, y_r)
        base = X.mean(axis=0)

        def occlusion(m, A):
            out = m.decision_function(A)
            return np.column_stack([out - m.decision_function(
                np.where(np.arange(A.shape[1]) == j, base, A)) for j in range(A.shape[1])])

        a, b = occlusion(trained, X[rows]), occlusion(randomised, X[rows])
        if kind == "flattened":
            return float(spearmanr(np.abs(a).ravel(), np.abs(b).ravel()).statistic)
        if kind == "pearson-raw":
            return float(np.mean([np.corrcoef(u, v)[0, 1] for u, v in zip(a, b, strict=True)]))
        if kind != "signed":
            a, b = np.abs(a), np.abs(b)
        return float(np.mean([spearmanr(u, v).statistic for u, v in zip(a, b, strict=True)]))

    return f


RIGHT = {
    "q1": [dict(lime_weights=lime_weights), dict(lime_weights=lime_weights_list)],
    "q2": [dict(lime_explain=lime_explain)],
    "q3": [dict(explain_reproducibly=explain_reproducibly)],
    "q4": [dict(jaccard=jaccard, mean_pairwise_jaccard=mean_pairwise_jaccard)],
    "q5": [dict(weighted_r2=weighted_r2), dict(weighted_r2=weighted_r2_sklearn)],
    "q6": [_q6_values()],
    "q7": [dict(data_randomisation_similarity=lambda X, y, rows, seed: _sanity()(X, y, rows, seed))],
}
QUESTIONS = {f"q{i}": getattr(m09, f"q{i}") for i in range(1, 8)}


@pytest.mark.parametrize(
    "label, values", [(q, v) for q, vs in RIGHT.items() for v in vs], ids=lambda x: str(x)[:12]
)
def test_right_answers_pass_visible_and_hidden(label, values):
    question = QUESTIONS[label]
    question.verify(**values)
    for seed in SEEDS:
        question.verify_hidden(seed=seed, **values)


# --- the catalogued mistakes -------------------------------------------------------------------
def _kernel(f):
    return lambda d, w: f(np.asarray(d, dtype=float), w)


KERNEL_MISTAKES = [
    (_kernel(lambda d, w: np.exp(d**2 / w**2)), "sign is wrong"),
    (_kernel(lambda d, w: np.exp(-d / w**2)), "distance is not squared"),
    (_kernel(lambda d, w: np.exp(-(d**2) / w)), "width is not squared"),
    (_kernel(lambda d, w: np.exp(-d / w)), "neither the distance nor the width"),
    (_kernel(lambda d, w: np.sqrt(np.exp(-(d**2) / w**2))), "square root"),
]


def _weights(kernel=kernel_weights, *, raw=False, no_sqrt=False, width_of=None, own_scale=False):
    """q1 written with one catalogued mistake (as a student would write it)."""

    def f(Z, x, scale, kernel_width=None):
        Z, x = np.asarray(Z, dtype=float), np.asarray(x, dtype=float)
        s = Z.std(axis=0) if own_scale else np.asarray(scale, dtype=float)
        U = Z - x if raw else (Z - x) / s
        d = np.sum(U**2, axis=1) if no_sqrt else np.linalg.norm(U, axis=1)
        width = kernel_width
        if width is None or width_of == "always":
            width = 0.75 * np.sqrt({None: Z.shape[1], "rows": Z.shape[0], "always": Z.shape[1],
                                    "six": 6, "five": 5}[width_of])
        return kernel(d, width)

    return f


WEIGHT_MISTAKES = [(_weights(k), words) for k, words in KERNEL_MISTAKES] + [
    (_weights(raw=True), "measured in original units"),
    (_weights(no_sqrt=True), "not square-rooted"),
    (_weights(own_scale=True), "spread of the samples Z"),
    (_weights(width_of="rows"), "number of rows"),
    (_weights(width_of="six"), "uses 6"),
    (_weights(width_of="five"), "uses 5"),
    (_weights(width_of="always"), "`kernel_width` is ignored"),
]


@pytest.mark.parametrize("func, words", WEIGHT_MISTAKES)
def test_q1_weight_mistakes_are_named(func, words):
    with pytest.raises(Incorrect, match=words):
        m09.q1.verify(lime_weights=func)


def test_q1_is_lime_packages_weighting_without_its_square_root():
    """The reference is what lime_tabular does (distance on features standardised by the training
    scaler, default width 0.75 sqrt(p)), before the package's square root."""
    X_train, x = NB["X_train"], NB["x"]
    Z = X_train[:15]
    explainer = LimeTabularExplainer(X_train, mode="regression", discretize_continuous=False)
    scaled = (np.vstack([x, Z]) - explainer.scaler.mean_) / explainer.scaler.scale_
    d = np.linalg.norm(scaled[1:] - scaled[0], axis=1)
    lime_own = explainer.base.kernel_fn(d)  # the package's sqrt(exp(-d^2 / width^2))
    ours = m09._q1_weights(Z, x, X_train.std(axis=0))
    assert np.allclose(ours, lime_own**2)


def _lime_mistake(kind):
    def f(predict_fn, x, scale, kernel_width, n_samples, seed):
        x, scale = np.asarray(x, dtype=float), np.asarray(scale, dtype=float)
        E = np.random.default_rng(seed).standard_normal((n_samples, x.size))
        Z = x + E * scale
        d = np.linalg.norm(Z - x if kind == "unscaled" else E, axis=1)
        w = None if kind == "unweighted" else kernel_weights(d, kernel_width)
        fit_on = Z if kind == "on-Z" else E
        coef = Ridge(alpha=1.0).fit(fit_on, predict_fn(Z), sample_weight=w).coef_
        return {"sd": coef, "times": coef * scale, "on-Z": coef}.get(kind, coef / scale)

    return f


@pytest.mark.parametrize(
    "kind, words",
    [
        ("unweighted", "unweighted"),
        ("unscaled", "original units"),
        ("sd", "per standard deviation"),
        ("times", "multiplied by `scale`"),
        ("on-Z", "fitted on the perturbed samples in original units"),
    ],
)
def test_q2_mistakes_are_named(kind, words):
    with pytest.raises(Incorrect, match=words):
        m09.q2.verify(lime_explain=_lime_mistake(kind))


def test_q2_wrong_kernel_points_to_q1():
    func = lambda *a: lime_explain(*a, kernel=KERNEL_MISTAKES[1][0])  # noqa: E731
    with pytest.raises(Incorrect, match="see q1"):
        m09.q2.verify(lime_explain=func)


def test_q2_seed_is_used():
    func = lambda p, x, s, w, n, seed: lime_explain(p, x, s, w, n, 0)  # noqa: E731
    with pytest.raises(Incorrect, match="not the surrogate"):
        m09.q2.verify(lime_explain=func)


def _explain(**changes):
    state = {}

    def f(model, X_train, feature_names, x, seed, num_features):
        settings = dict(discretize_continuous=False, sample_around_instance=True, random_state=seed)
        settings.update(changes)
        if changes.get("global_seed"):  # the anti-pattern of lecture 09: same list, side effect
            settings.pop("global_seed")
            np.random.seed(seed)
            settings["random_state"] = None
        if changes.get("reuse"):
            settings.pop("reuse")
            if "e" not in state:
                state["e"] = LimeTabularExplainer(
                    X_train, mode="classification", feature_names=feature_names, **settings
                )
            explainer = state["e"]
        else:
            explainer = LimeTabularExplainer(
                X_train, mode="classification", feature_names=feature_names, **settings
            )
        return explainer.explain_instance(
            x, model.predict_proba, num_features=num_features, num_samples=1000
        ).as_list()

    return f


@pytest.mark.parametrize(
    "changes, words",
    [
        (dict(random_state=None), "not seeded"),
        (dict(global_seed=True), "global random generator"),
        (dict(reuse=True), "reused"),
        (dict(random_state=42), "seed` argument is ignored"),
        (dict(discretize_continuous=True), "discretised"),
        (dict(sample_around_instance=False), "training mean"),
    ],
)
def test_q3_mistakes_are_named(changes, words):
    with pytest.raises(Incorrect, match=words):
        m09.q3.verify(explain_reproducibly=_explain(**changes))


@pytest.mark.parametrize(
    "changes, words",
    [
        ({}, None),
        (dict(global_seed=True), "global random generator"),
        (dict(reuse=True), "reused"),
        (dict(random_state=None), "not seeded"),
    ],
)
def test_q3_judged_outside_the_kernel(changes, words):
    """Issue 14: `np.random.seed(seed)` then an explainer without random_state returns the right
    list; the kernel reports the side effect and the judge names it. A reused explainer answers
    the repeated call differently (repeat_calls keeps both calls in the plan)."""
    q = m09.QUESTIONS["q3"]
    names, recorded = judging.record(q, 9041)
    calls = [c for c, _ in recorded]
    assert len(calls) == len({c.key() for c in calls}) * 2  # every input explained twice
    payload = gather(names, calls, {"explain_reproducibly": _explain(**changes)})
    verdict = judging.judge(q, 9041, payload)
    assert verdict.ok is (words is None), verdict.message
    if words:
        assert words in verdict.message


def test_q3_wrong_return_type():
    def as_map(model, X_train, feature_names, x, seed, num_features):
        return {1: [(0, 0.1)]}

    with pytest.raises(Incorrect, match="list of"):
        m09.q3.verify(explain_reproducibly=as_map)


def _jac(kind):
    def f(a, b):
        if kind == "dups":
            inter = len(set(a) & set(b))
            return 1.0 if not a and not b else inter / (len(a) + len(b) - inter)
        a, b = set(a), set(b)
        if not a and not b:
            return 1.0
        inter = len(a & b)
        return inter / min(len(a), len(b)) if kind == "min" else 2 * inter / (len(a) + len(b))

    return f


@pytest.mark.parametrize(
    "func, words",
    [(_jac("min"), "smaller set"), (_jac("dice"), "Dice"), (_jac("dups"), "duplicates count once")],
)
def test_q4_jaccard_mistakes_are_named(func, words):
    with pytest.raises(Incorrect, match=words):
        m09.q4.verify(jaccard=func, mean_pairwise_jaccard=mean_pairwise_jaccard)


def test_q4_empty_sets_must_not_crash():
    def crash(a, b):
        return len(set(a) & set(b)) / len(set(a) | set(b))

    with pytest.raises(Incorrect, match="ZeroDivisionError"):
        m09.q4.verify(jaccard=crash, mean_pairwise_jaccard=mean_pairwise_jaccard)


@pytest.mark.parametrize(
    "func, words",
    [
        (lambda s: float(np.mean([jaccard(a, b) for a in s for b in s])), "self-pairs"),
        (lambda s: float(np.mean([jaccard(*p) for p in itertools.pairwise(s)])), "consecutive"),
    ],
)
def test_q4_mean_mistakes_are_named(func, words):
    with pytest.raises(Incorrect, match=words):
        m09.q4.verify(jaccard=jaccard, mean_pairwise_jaccard=func)


def _r2(kind):
    def f(y, y_hat, w):
        if kind == "unweighted":
            return float(r2_score(y, y_hat))
        if kind == "swap":
            return weighted_r2(y_hat, y, w)
        if kind == "ratio":
            return 1 - weighted_r2(y, y_hat, w)
        if kind == "squared":
            return weighted_r2(y, y_hat, w**2)
        return float(1 - np.sum(w * (y - y_hat) ** 2) / np.sum(w * (y - y.mean()) ** 2))

    return f


@pytest.mark.parametrize(
    "kind, words",
    [
        ("unweighted", "unweighted R"),
        ("mean", "mean in the denominator is unweighted"),
        ("ratio", "SSE / SST"),
        ("swap", "swapped"),
        ("squared", "squared or square-rooted"),
    ],
)
def test_q5_mistakes_are_named(kind, words):
    with pytest.raises(Incorrect, match=words):
        m09.q5.verify(weighted_r2=_r2(kind))


def _proba(Z):
    return NB["model"].predict_proba(Z)[:, 1]


@pytest.mark.parametrize(
    "values, words",
    [
        (_q6_values(proba=NB["model"].predict), "predicted labels"),
        (_q6_values(logodds=_proba), "wrong output"),
        (_q6_values(proba=lambda Z: NB["model"].predict_proba(Z)[:, 0]), "column 0"),
        (_q6_values(logodds=lambda Z: np.log(_proba(Z))), r"log\(p\)"),
        (_q6_values(top=lambda lo: FEATURES[int(np.argmax(np.abs(lo)))]), r"per \*unit\*"),
        (_q6_values(top=lambda lo: FEATURES[int(np.argmax(lo * (NB["x"] - NB["X_train"].mean(0))))]),
         "signed"),
        (_q6_values(top=lambda lo: FEATURES[int(np.argmax(np.abs(lo * NB["scale"])))]),
         "per standard deviation"),
        (_q6_values(top=lambda lo: FEATURES[int(np.argmax(np.abs(lo * NB["x"])))]), "raw value"),
    ],
)
def test_q6_mistakes_are_named(values, words):
    with pytest.raises(Incorrect, match=words):
        m09.q6.verify(**values)


def test_q6_rounded_values_fail_hidden_only():
    values = _q6_values()
    rounded = dict(values, coef_logodds=np.round(values["coef_logodds"], 5))
    m09.q6.verify(**rounded)
    with pytest.raises(Incorrect, match="do not round"):
        m09.q6.verify_hidden(seed=1, **rounded)


# --- tiers around the mistakes -------------------------------------------------------------------
def test_not_attempted_and_crashes():
    def todo(*args):
        raise NotImplementedError

    def silent(*args):
        pass

    def boom(*args):
        raise ValueError("boom")

    for func in (todo, silent):
        with pytest.raises(NotAttempted):
            m09.q1.verify(lime_weights=func)
    with pytest.raises(Incorrect, match="ValueError"):
        m09.q2.verify(lime_explain=boom)
    with pytest.raises(Incorrect, match="should be a function"):
        m09.q5.verify(weighted_r2=0.5)


def test_wrong_types_and_shapes():
    with pytest.raises(Incorrect, match="shape"):
        m09.q1.verify(lime_weights=lambda Z, x, s, w=None: lime_weights(Z, x, s, w)[:2])
    with pytest.raises(Incorrect, match="shape"):
        m09.q2.verify(lime_explain=lambda *a: np.append(lime_explain(*a), 0.5))
    values = _q6_values()
    with pytest.raises(Incorrect, match="string"):
        m09.q6.verify(**dict(values, top_feature=3))
    with pytest.raises(Incorrect, match="not one of the features"):
        m09.q6.verify(**dict(values, top_feature="salary"))
    with pytest.raises(Incorrect, match="shape"):
        m09.q6.verify(**dict(values, coef_proba=values["coef_proba"][:4]))


def _messages(question, values):
    try:
        question.verify(**values)
    except Incorrect as exc:
        return str(exc)
    raise AssertionError("expected Incorrect")


def test_messages_never_show_the_expected_value():
    ref = m09._q6_refs()
    msg = _messages(m09.q6, _q6_values(proba=NB["model"].predict))
    for v in ref.proba:
        assert f"{v:.4g}" not in msg or abs(v) < 1e-3
    msg = _messages(m09.q5, dict(weighted_r2=_r2("unweighted")))
    y, yhat, w = m09._Q5_CASE
    assert f"{m09._weighted_r2(y, yhat, w):.4g}" not in msg
    for func, _ in WEIGHT_MISTAKES:
        msg = _messages(m09.q1, dict(lime_weights=func))
        for Z, x, scale, width in (m09._q1_churn_case(), *m09._Q1_TOY):
            for v in m09._q1_weights(Z, x, scale, width):
                assert f"{v:.4g}" not in msg or v in (0.0, 1.0) or abs(v) < 1e-12


# --- the student side: the offline visible check (grader/checks/data/m09.json) -----------------
@pytest.mark.parametrize(
    "changes, words",
    [
        ({}, None),
        (dict(global_seed=True), "global random generator"),
        (dict(random_state=None), "not seeded"),
        (dict(reuse=True), "reused"),
        (dict(discretize_continuous=True), "discretised"),
    ],
)
def test_offline_q3_check_names_the_mistakes(ns, changes, words, capsys):
    from grader.checks import m09 as student_m09

    ns["explain_reproducibly"] = _explain(**changes)
    if words is None:
        student_m09.q3.check()
        assert "Correct" in capsys.readouterr().out
    else:
        with pytest.raises(Incorrect, match=words):
            student_m09.q3.check()


def test_offline_checks_pass_the_right_answers(ns, capsys):
    from grader.checks import m09 as student_m09

    ns.update(lime_weights=lime_weights, lime_explain=lime_explain,
              jaccard=jaccard, mean_pairwise_jaccard=mean_pairwise_jaccard,
              weighted_r2=weighted_r2, **_q6_values())
    for q in (student_m09.q1, student_m09.q2, student_m09.q4, student_m09.q5, student_m09.q6):
        q.check()
    assert capsys.readouterr().out.count("Correct") == 5
    ns["top_feature"] = "account_age"
    with pytest.raises(Incorrect, match="top_feature"):
        student_m09.q6.check()


# --- q7: the data-randomisation sanity check ---------------------------------------------------
Q7_MISTAKES = [
    ("signed", "signed"),
    ("same-model", "different\\* model"),
    ("pearson-raw", "Pearson correlation of the raw"),
    ("features", "permuted the features, not the labels"),
    ("rows-of-X", "permuted the features, not the labels"),
    ("flattened", "all rows and features at once"),
]


@pytest.mark.parametrize("kind, words", Q7_MISTAKES)
def test_q7_mistakes_are_named(kind, words):
    with pytest.raises(Incorrect, match=words):
        m09.q7.verify(data_randomisation_similarity=_sanity(kind))


def test_q7_the_randomised_model_is_not_the_model():
    """The visible case is no degenerate one: the right answer is far from 1 and from each mistake."""
    X, y, rows, seed = m09._q7_visible()
    values = m09._q7_values(X, y, rows, seed)
    assert m09._q7_separated(values)
    assert abs(values["right"] - _sanity()(X, y, rows, seed)) < 1e-9


# --- every catalogued mistake fails the hidden test for every one of eight seeds ---------------
def _hidden_mistakes():
    lime_kinds = ("unweighted", "unscaled", "sd", "times", "on-Z")
    yield from (("q1", dict(lime_weights=f)) for f, _ in WEIGHT_MISTAKES)
    yield from (("q2", dict(lime_explain=_lime_mistake(k))) for k in lime_kinds)
    yield from (("q4", dict(jaccard=_jac(k), mean_pairwise_jaccard=mean_pairwise_jaccard))
                for k in ("min", "dice", "dups"))
    yield ("q4", dict(jaccard=lambda a, b: len(set(a) & set(b)) / len(set(a) | set(b)),
                      mean_pairwise_jaccard=mean_pairwise_jaccard))  # crashes on two empty sets
    yield ("q4", dict(jaccard=jaccard,
                      mean_pairwise_jaccard=lambda s: float(np.mean([jaccard(a, b) for a in s
                                                                     for b in s]))))
    yield ("q4", dict(jaccard=jaccard, mean_pairwise_jaccard=lambda s: float(
        np.mean([jaccard(*p) for p in itertools.pairwise(s)]))))
    yield from (("q5", dict(weighted_r2=_r2(k)))
                for k in ("unweighted", "mean", "ratio", "swap", "squared"))
    yield from (("q7", dict(data_randomisation_similarity=_sanity(k))) for k, _ in Q7_MISTAKES)


HIDDEN_MISTAKES = list(_hidden_mistakes())


@pytest.mark.parametrize("seed", SEEDS8)
def test_every_catalogued_mistake_fails_every_hidden_seed(seed):
    for label in ("q1", "q2", "q4", "q5", "q7"):
        for right in RIGHT[label]:
            QUESTIONS[label].verify_hidden(seed=seed, **right)
    for label, values in HIDDEN_MISTAKES:
        with pytest.raises(Incorrect):
            QUESTIONS[label].verify_hidden(seed=seed, **values)


@pytest.mark.parametrize(
    "changes", [dict(random_state=None), dict(reuse=True), dict(random_state=42), dict(global_seed=True),
                dict(random_state=1), dict(discretize_continuous=True),
                dict(sample_around_instance=False)], ids=str,
)
def test_q3_mistakes_fail_every_hidden_seed(changes):
    for seed in SEEDS8:
        with pytest.raises(Incorrect):
            m09.q3.verify_hidden(seed=seed, explain_reproducibly=_explain(**changes))
