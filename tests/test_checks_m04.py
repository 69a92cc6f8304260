"""Assignment 04 checks (the key ``solutions/04-data-analysis/key.py``): right answers pass, named
mistakes fail, also when judged outside the kernel.

Fast unit tests: the key's ``verify``/``verify_hidden`` are called directly with the values a
student would define (no notebook is executed), and through :mod:`grader.judging` (plan, collect
in-process, replay), where the q5 figure and the q6 pipeline are judged from their views. The mutant catalogue in
``solutions/04-data-analysis/mutants.yml`` is proved against the executed notebook by
``grader verify``; these tests pin the same mistakes at the unit level, plus the tiers around
them (not attempted, wrong type, crashes) and the rule that feedback never shows the expected
value.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import json  # noqa: E402
import re  # noqa: E402
from pathlib import Path  # noqa: E402

import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from sklearn.impute import SimpleImputer  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.model_selection import cross_val_score, train_test_split  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

from grader import judging  # noqa: E402
from grader.checks import Incorrect, NotAttempted  # noqa: E402
from grader.checks import m04 as student_m04  # noqa: E402
from grader.checks.collect import gather  # noqa: E402
from grader.checks.offline import load_key_file  # noqa: E402
from grader.datasets import AIR_FEATURES, make_air_quality  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
m04 = load_key_file(ROOT / "solutions/04-data-analysis/key.py")
SEEDS = (0, 1, 7, 4013, 4027, 4051)
#: Seeds on which every catalogued mistake must fail the hidden test (none may slip through).
MANY_SEEDS = (0, 1, 2, 3, 5, 8, 13, 21, 4013, 4091)


# --- the notebook's setup, rebuilt as a student would have it ------------------------------------
AIR = make_air_quality()
X_MISSING, Y = AIR[list(AIR_FEATURES)], AIR["alert"]
X_TRAIN, X_TEST, Y_TRAIN, Y_TEST = train_test_split(
    X_MISSING, Y, test_size=0.3, stratify=Y, random_state=0
)


# --- right answers -----------------------------------------------------------------------------
def group_summary(df, by, value):
    g = df.groupby(by)[value]
    return pd.DataFrame({"n_rows": g.size(), "n_missing": g.size() - g.count(), "mean": g.mean()})


def group_summary_loop(df, by, value):
    """Another correct version: a loop, columns in another order."""
    rows = {}
    for key, part in df.groupby(by):
        col = part[value]
        rows[key] = {
            "mean": col.dropna().mean(),
            "n_missing": int(col.isna().sum()),
            "n_rows": len(part),
        }
    return pd.DataFrame.from_dict(rows, orient="index")


def pivot_mean(df, rows, cols, value):
    return df.pivot_table(index=rows, columns=cols, values=value, aggfunc="mean")


def pivot_mean_unstack(df, rows, cols, value):
    return df.groupby([rows, cols])[value].mean().unstack(cols)


def top_pairs(df, k):
    rho = df.corr(method="spearman")
    names = list(df.columns)
    scored = [
        (abs(rho.iloc[i, j]), names[i], names[j])
        for i in range(len(names))
        for j in range(i + 1, len(names))
    ]
    scored.sort(key=lambda t: t[0], reverse=True)
    return [(a, b) for _, a, b in scored[:k]]


def top_pairs_reversed(df, k):
    """Pairs given as (b, a): also accepted."""
    return [(b, a) for a, b in top_pairs(df, k)]


def plot_radius(X, y, codes=((0, "malignant"), (1, "benign")), unit="image units", **kw):
    fig, ax = plt.subplots(figsize=(6, 4))
    for code, name in codes:
        ax.hist(X.loc[y == code, "mean radius"], bins=20, alpha=0.6, label=name, **kw)
    ax.set_xlabel(f"mean radius ({unit})" if unit else "mean radius")
    ax.set_ylabel("number of tumours")
    ax.set_title("Malignant tumours have larger radii")
    ax.legend()
    return ax


def right_q3():
    missing_pct = (X_MISSING.isna().mean() * 100).sort_values(ascending=False)
    imputer = SimpleImputer(strategy="median").set_output(transform="pandas").fit(X_TRAIN)
    return missing_pct, imputer.transform(X_TEST)


def right_pipe():
    return make_pipeline(
        SimpleImputer(strategy="median"), StandardScaler(), LogisticRegression(max_iter=1000)
    )


CV = cross_val_score(right_pipe(), X_MISSING, Y, cv=5, scoring="neg_log_loss")


def indicator_pipe():
    return make_pipeline(
        SimpleImputer(strategy="median", add_indicator=True),
        StandardScaler(),
        LogisticRegression(max_iter=1000),
    )


CV_IND = cross_val_score(indicator_pipe(), X_MISSING, Y, cv=5, scoring="neg_log_loss")
GAIN = float(CV_IND.mean() - CV.mean())


def fails(q, match, **values):
    with pytest.raises(Incorrect, match=match) as err:
        q.verify(**values)
    return str(err.value)


# --- correct answers pass ------------------------------------------------------------------------
@pytest.mark.parametrize("seed", SEEDS)
def test_correct_answers_pass_visible_and_hidden(seed):
    for fn in (group_summary, group_summary_loop):
        m04.q1.verify(group_summary=fn)
        m04.q1.verify_hidden(seed, group_summary=fn)
    for fn in (pivot_mean, pivot_mean_unstack):
        m04.q2.verify(pivot_mean=fn)
        m04.q2.verify_hidden(seed, pivot_mean=fn)
    pct, imputed = right_q3()
    m04.q3.verify(missing_pct=pct, X_test_imputed=imputed)
    m04.q3.verify_hidden(seed, missing_pct=pct, X_test_imputed=imputed)
    for fn in (top_pairs, top_pairs_reversed):
        m04.q4.verify(top_pairs=fn)
        m04.q4.verify_hidden(seed, top_pairs=fn)
    m04.q5.verify(plot_radius_by_diagnosis=plot_radius)
    m04.q5.verify_hidden(seed, plot_radius_by_diagnosis=plot_radius)
    m04.q6.verify(pipe=right_pipe(), cv_scores=CV)
    m04.q6.verify_hidden(seed, pipe=right_pipe(), cv_scores=list(CV))
    m04.q7.verify(indicator_gain=GAIN, use_indicator=GAIN > 0)
    m04.q7.verify_hidden(seed, indicator_gain=GAIN, use_indicator=bool(GAIN > 0))


def test_checks_close_the_figures_they_make():
    before = len(plt.get_fignums())
    m04.q5.verify(plot_radius_by_diagnosis=plot_radius)
    assert len(plt.get_fignums()) == before


def test_figure_instead_of_axes_is_accepted():
    m04.q5.verify(plot_radius_by_diagnosis=lambda X, y: plot_radius(X, y).figure)


# --- q1 misconceptions ---------------------------------------------------------------------------
def _g(n_rows="size", n_missing="diff", mean="mean", reset=False):
    def f(df, by, value):
        g = df.groupby(by)[value]
        rows = g.size() if n_rows == "size" else g.count()
        miss = g.size() - g.count() if n_missing == "diff" else g.count()
        if mean == "mean":
            m = g.mean()
        elif mean == "median":
            m = g.median()
        elif mean == "zero":
            m = df[value].fillna(0).groupby(df[by]).mean()
        else:
            other = [c for c in df.columns if c not in (by, value)][-1]
            m = df.groupby(by)[other].mean()
        out = pd.DataFrame({"n_rows": rows, "n_missing": miss, "mean": m})
        return out.reset_index() if reset else out

    return f


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(n_rows="count"), "use size()"),
        (dict(n_missing="count"), "counts the values that are present"),
        (dict(mean="zero"), "counted as 0"),
        (dict(mean="median"), "median"),
        (dict(mean="other"), "different column"),
        (dict(reset=True), "reset_index"),
    ],
)
def test_q1_misconceptions_are_named(kwargs, match):
    msg = fails(m04.q1, match, group_summary=_g(**kwargs))
    assert "6.0" not in msg and "5.33" not in msg  # the toy's expected means are not revealed


def test_q1_hidden_catches_count_on_fresh_tables():
    with pytest.raises(Incorrect, match="size"):
        m04.q1.verify_hidden(3, group_summary=_g(n_rows="count"))


# --- q2 misconceptions ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    "fn, match",
    [
        (
            lambda df, r, c, v: df.pivot_table(index=c, columns=r, values=v, aggfunc="mean"),
            "swapped",
        ),
        (lambda df, r, c, v: df.pivot_table(index=r, columns=c, values=v, aggfunc="sum"), "sum"),
        (
            lambda df, r, c, v: df.pivot_table(index=r, columns=c, values=v, aggfunc="count"),
            "count",
        ),
        (lambda df, r, c, v: df.groupby([r, c]).size().unstack(c).astype(float), "size"),
        (
            lambda df, r, c, v: df.pivot_table(index=r, columns=c, values=v, aggfunc="median"),
            "median",
        ),
        (lambda df, r, c, v: pivot_mean(df.fillna({v: 0}), r, c, v), "counted as 0"),
        (lambda df, r, c, v: pivot_mean(df, r, c, v).reset_index(), "no totals"),
        (
            lambda df, r, c, v: df.pivot_table(index=r, columns=c, values=v, margins=True),
            "no totals",
        ),
    ],
)
def test_q2_misconceptions_are_named(fn, match):
    msg = fails(m04.q2, match, pivot_mean=fn)
    assert "5.0" not in msg.split("returned")[-1][:20]


def test_q2_wrong_column_is_named():
    fails(
        m04.q2,
        "different column",
        pivot_mean=lambda df, r, c, v: pivot_mean(df, r, c, df.columns[-1]),
    )


# --- q3 misconceptions ---------------------------------------------------------------------------
def _imputed(fit_on, strategy="median"):
    return (
        SimpleImputer(strategy=strategy)
        .set_output(transform="pandas")
        .fit(fit_on)
        .transform(X_TEST)
    )


@pytest.mark.parametrize(
    "pct, imputed, match",
    [
        ("frac", None, "fractions"),
        ("count", None, "counts"),
        ("present", None, "present"),
        ("train", None, "training split only"),
        ("unsorted", None, "not sorted"),
        (None, "full", "leaks information"),
        (None, "test", "medians of the test split"),
        (None, "mean", "means"),
        (None, "zero", "zeros"),
        (None, "array", "DataFrame"),
        (None, "index", "row index"),
        (None, "scaled", "changed values"),
    ],
)
def test_q3_misconceptions_are_named(pct, imputed, match):
    right_pct, right_imp = right_q3()
    pcts = {
        None: right_pct,
        "frac": right_pct / 100,
        "count": X_MISSING.isna().sum().sort_values(ascending=False),
        "present": (100 - right_pct).sort_values(ascending=False),
        "train": (X_TRAIN.isna().mean() * 100).sort_values(ascending=False),
        "unsorted": X_MISSING.isna().mean() * 100,
    }
    imps = {
        None: right_imp,
        "full": _imputed(X_MISSING),
        "test": _imputed(X_TEST),
        "mean": _imputed(X_TRAIN, "mean"),
        "zero": X_TEST.fillna(0),
        "array": right_imp.to_numpy(),
        "index": right_imp.reset_index(drop=True),
        "scaled": (right_imp - right_imp.mean()) / right_imp.std(),
    }
    msg = fails(m04.q3, match, missing_pct=pcts[pct], X_test_imputed=imps[imputed])
    shown = re.findall(r"[-\d.]+", msg.split(" with ", 1)[-1]) if imputed else []
    for v in X_TRAIN.median()[X_MISSING.isna().any()]:
        assert f"{v:.4g}" not in shown  # never the expected fill values


# --- q4 misconceptions ---------------------------------------------------------------------------
def _pairs(kind):
    def f(df, k):
        if kind == "self":
            s = df.corr(method="spearman").abs().stack().sort_values(ascending=False)
            return [tuple(p) for p in s.index[:k]]
        if kind == "dup":
            rho = df.corr(method="spearman").abs()
            pairs = [(rho.loc[a, b], a, b) for a in df.columns for b in df.columns if a != b]
            pairs.sort(key=lambda t: t[0], reverse=True)
            return [(a, b) for _, a, b in pairs[:k]]
        m = {
            "signed": df.corr(method="spearman"),
            "pearson": df.corr().abs(),
            "cov": df.cov().abs(),
        }[kind]
        names = list(df.columns)
        scored = [
            (m.iloc[i, j], names[i], names[j])
            for i in range(len(names))
            for j in range(i + 1, len(names))
        ]
        scored.sort(key=lambda t: t[0], reverse=True)
        return [(a, b) for _, a, b in scored[:k]]

    return f


@pytest.mark.parametrize(
    "kind, match",
    [
        ("signed", "signed"),
        ("pearson", "Pearson"),
        ("cov", "covariance"),
        ("self", "self-pair"),
        ("dup", "duplicate"),
    ],
)
def test_q4_misconceptions_are_named(kind, match):
    fails(m04.q4, match, top_pairs=_pairs(kind))


@pytest.mark.parametrize("seed", SEEDS[:3])
def test_q4_hidden_catches_signed_and_pearson(seed):
    for kind in ("signed", "pearson", "cov"):
        with pytest.raises(Incorrect):
            m04.q4.verify_hidden(seed, top_pairs=_pairs(kind))


def test_q4_wrong_types():
    fails(m04.q4, "list", top_pairs=lambda df, k: tuple(top_pairs(df, k)))
    fails(m04.q4, "should return 2 values", top_pairs=lambda df, k: top_pairs(df, k)[:1])


# --- q5 misconceptions ---------------------------------------------------------------------------
def _plot(kind):
    def f(X, y):
        if kind == "codes":
            return plot_radius(X, y, codes=((0, "0"), (1, "1")))
        if kind == "swapped":
            return plot_radius(X, y, codes=((1, "malignant"), (0, "benign")))
        if kind == "density":
            return plot_radius(X, y, density=True)
        ax = plot_radius(X, y)
        if kind == "nolabels":
            ax.set_xlabel("")
        if kind == "notitle":
            ax.set_title("")
        if kind == "nolegend":
            ax.get_legend().remove()
        if kind == "scatter":
            fig, ax = plt.subplots()
            ax.scatter(X["mean radius"], X["mean texture"])
            ax.set_xlabel("mean radius (mm)")
            ax.set_ylabel("mean texture")
        if kind == "column":
            fig, ax = plt.subplots()
            for code, name in ((0, "malignant"), (1, "benign")):
                ax.hist(X.loc[y == code, "mean texture"], bins=20, label=name)
            ax.set_xlabel("mean radius (pixels)")
            ax.set_ylabel("count")
            ax.set_title("t")
            ax.legend()
        if kind == "string":
            return "a plot"
        if kind in ("mm", "microns", "nounit"):
            ax.set_xlabel({"mm": "mean radius (mm)", "microns": "Mean radius [µm]",
                           "nounit": "mean radius"}[kind])
        return ax

    return f


@pytest.mark.parametrize(
    "kind, match",
    [
        ("codes", "Map the target codes"),
        ("swapped", "labels are swapped"),
        ("density", "densities"),
        ("nolabels", "Label both axes"),
        ("notitle", "no title"),
        ("nolegend", "no legend"),
        ("scatter", "Wrong plot type"),
        ("column", "different|mean radius"),
        ("string", "Axes"),
        ("mm", "physical length"),
        ("microns", "physical length"),
        ("nounit", "names no unit"),
    ],
)
def test_q5_misconceptions_are_named(kind, match):
    fails(m04.q5, match, plot_radius_by_diagnosis=_plot(kind))
    assert not plt.get_fignums()


def test_q5_hidden_catches_swapped_labels():
    with pytest.raises(Incorrect, match="swapped"):
        m04.q5.verify_hidden(11, plot_radius_by_diagnosis=_plot("swapped"))


# --- q6 misconceptions ---------------------------------------------------------------------------
def test_q6_misconceptions_are_named():
    lr = LogisticRegression(max_iter=1000)
    pre = StandardScaler().fit_transform(SimpleImputer(strategy="median").fit_transform(X_MISSING))
    before = cross_val_score(lr, pre, Y, cv=5, scoring="neg_log_loss")
    fails(m04.q6, "before", pipe=right_pipe(), cv_scores=before)
    fails(
        m04.q6,
        "accuracies",
        pipe=right_pipe(),
        cv_scores=cross_val_score(right_pipe(), X_MISSING, Y, cv=5),
    )
    fails(m04.q6, "sign", pipe=right_pipe(), cv_scores=-CV)
    train = cross_val_score(right_pipe(), X_TRAIN, Y_TRAIN, cv=5, scoring="neg_log_loss")
    fails(m04.q6, "training split only", pipe=right_pipe(), cv_scores=train)
    fails(m04.q6, "no SimpleImputer", pipe=make_pipeline(StandardScaler(), lr), cv_scores=CV)
    fails(
        m04.q6,
        "no StandardScaler",
        pipe=make_pipeline(SimpleImputer(strategy="median"), lr),
        cv_scores=CV,
    )
    fails(
        m04.q6,
        "strategy='mean'",
        pipe=make_pipeline(SimpleImputer(), StandardScaler(), lr),
        cv_scores=CV,
    )
    fails(m04.q6, "Pipeline", pipe=lr, cv_scores=CV)
    fails(m04.q6, "shape", pipe=right_pipe(), cv_scores=CV[:3])


def test_q6_hidden_rejects_a_pipeline_with_other_settings():
    other = make_pipeline(
        SimpleImputer(strategy="median"), StandardScaler(), LogisticRegression(C=0.01)
    )
    with pytest.raises(Incorrect, match="fresh copy"):
        m04.q6.verify_hidden(5, pipe=other, cv_scores=CV)


# --- q7: the judgement (should the model see that a value was missing?) -------------------------
def _leaky_gain(both=False):
    lr = LogisticRegression(max_iter=1000)
    ind = SimpleImputer(strategy="median", add_indicator=True).fit_transform(X_MISSING)
    scores = cross_val_score(make_pipeline(StandardScaler(), lr), ind, Y, cv=5,
                             scoring="neg_log_loss")
    plain = CV
    if both:
        filled = SimpleImputer(strategy="median").fit_transform(X_MISSING)
        plain = cross_val_score(make_pipeline(StandardScaler(), lr), filled, Y, cv=5,
                                scoring="neg_log_loss")
    return float(scores.mean() - plain.mean())


def _accuracy_gain():
    return float(cross_val_score(indicator_pipe(), X_MISSING, Y, cv=5).mean()
                 - cross_val_score(right_pipe(), X_MISSING, Y, cv=5).mean())


def _train_gain():
    return float(
        cross_val_score(indicator_pipe(), X_TRAIN, Y_TRAIN, cv=5, scoring="neg_log_loss").mean()
        - cross_val_score(right_pipe(), X_TRAIN, Y_TRAIN, cv=5, scoring="neg_log_loss").mean()
    )


Q7_MISTAKES = [
    (lambda: dict(indicator_gain=-GAIN, use_indicator=bool(-GAIN < 0)), "other way round"),
    (lambda: dict(indicator_gain=_accuracy_gain(), use_indicator=True), "compares accuracies"),
    (lambda: dict(indicator_gain=_leaky_gain(), use_indicator=True), "before\\* the split"),
    (lambda: dict(indicator_gain=_leaky_gain(both=True), use_indicator=True), "before"),
    (lambda: dict(indicator_gain=_train_gain(), use_indicator=True), "training split only"),
    (lambda: dict(indicator_gain=GAIN, use_indicator=bool(GAIN < 0)), "negative\\* of a loss"),
    (lambda: dict(indicator_gain=round(GAIN, 3), use_indicator=True), "not the mean|not equal"),
    (lambda: dict(indicator_gain="0.02", use_indicator=True), "float|number"),
    (lambda: dict(indicator_gain=GAIN, use_indicator="yes"), "True or False"),
]


@pytest.mark.parametrize("make, match", Q7_MISTAKES)
def test_q7_misconceptions_are_named(make, match):
    values = make()
    with pytest.raises(Incorrect, match=match) as err:
        m04.q7.verify_hidden(4091, **values)
    own = values["indicator_gain"]  # the student's own value may be the answer up to its sign
    assert f"{GAIN:.6g}" not in str(err.value) or (type(own) is float and abs(own) == abs(GAIN))


def test_q7_data_make_the_judgement_real():
    """The indicator helps the probabilities (log-loss) clearly, while accuracy barely moves: the
    judgement needs the right score; and the catalogued mistakes land outside the tolerance."""
    assert GAIN > 0.01
    assert abs(_accuracy_gain()) < GAIN / 2
    for wrong in (_leaky_gain(), _leaky_gain(both=True), _train_gain()):
        assert abs(wrong - GAIN) > 5e-6  # five quanta of the offline check (atol 1e-6)


def test_q7_right_answer_rounded_is_told_to_compute():
    m04.q7.verify(indicator_gain=GAIN + 5e-7, use_indicator=True)  # visible tolerance
    with pytest.raises(Incorrect, match="not equal"):
        m04.q7.verify_hidden(1, indicator_gain=GAIN + 5e-7, use_indicator=True)


# --- every catalogued mistake fails the hidden test for every seed (not just most seeds) --------
def _q2_mistake(kind):
    return {
        "swapped": lambda df, r, c, v: df.pivot_table(index=c, columns=r, values=v, aggfunc="mean"),
        "sum": lambda df, r, c, v: df.pivot_table(index=r, columns=c, values=v, aggfunc="sum"),
        "size": lambda df, r, c, v: df.groupby([r, c]).size().unstack(c).astype(float),
        "zero": lambda df, r, c, v: pivot_mean(df.fillna({v: 0}), r, c, v),
        "margins": lambda df, r, c, v: df.pivot_table(index=r, columns=c, values=v,
                                                      aggfunc="mean", margins=True),
    }[kind]


HIDDEN_MISTAKES = [
    ("q1", "group_summary", _g(n_rows="count"), "use size()"),
    ("q1", "group_summary", _g(n_missing="count"), "counts the values that are present"),
    ("q1", "group_summary", _g(mean="zero"), "counted as 0"),
    ("q1", "group_summary", _g(mean="median"), "median"),
    ("q1", "group_summary", _g(mean="other"), "different column"),
    ("q1", "group_summary", _g(reset=True), "reset_index"),
    ("q2", "pivot_mean", _q2_mistake("swapped"), "swapped"),
    ("q2", "pivot_mean", _q2_mistake("sum"), "the sum of each cell"),
    ("q2", "pivot_mean", _q2_mistake("size"), "size"),
    ("q2", "pivot_mean", _q2_mistake("zero"), "counted as 0"),
    ("q2", "pivot_mean", _q2_mistake("margins"), "no totals"),
    ("q4", "top_pairs", _pairs("signed"), "signed correlation"),
    ("q4", "top_pairs", _pairs("pearson"), "Pearson"),
    ("q4", "top_pairs", _pairs("cov"), "covariance"),
    ("q4", "top_pairs", _pairs("self"), "self-pair"),
    ("q4", "top_pairs", _pairs("dup"), "duplicate pair"),
    ("q5", "plot_radius_by_diagnosis", _plot("codes"), "Map the target codes"),
    ("q5", "plot_radius_by_diagnosis", _plot("swapped"), "labels are swapped"),
    ("q5", "plot_radius_by_diagnosis", _plot("nolabels"), "Label both axes"),
    ("q5", "plot_radius_by_diagnosis", _plot("scatter"), "Wrong plot type"),
    ("q5", "plot_radius_by_diagnosis", _plot("density"), "densities"),
    ("q5", "plot_radius_by_diagnosis", _plot("nolegend"), "no legend"),
    ("q5", "plot_radius_by_diagnosis", _plot("mm"), "physical length"),
    ("q5", "plot_radius_by_diagnosis", _plot("nounit"), "names no unit"),
]


@pytest.mark.parametrize("label, name, fn, match", HIDDEN_MISTAKES,
                         ids=[f"{q}-{m[:18]}" for q, _, _, m in HIDDEN_MISTAKES])
def test_every_catalogued_mistake_fails_the_hidden_test_for_every_seed(label, name, fn, match):
    for seed in MANY_SEEDS:
        with pytest.raises(Incorrect, match=match):
            m04.QUESTIONS[label].verify_hidden(seed, **{name: fn})
    assert not plt.get_fignums()


def test_right_answers_pass_the_hidden_test_for_every_seed():
    for seed in MANY_SEEDS:
        m04.q1.verify_hidden(seed, group_summary=group_summary_loop)
        m04.q2.verify_hidden(seed, pivot_mean=pivot_mean_unstack)
        m04.q4.verify_hidden(seed, top_pairs=top_pairs_reversed)
        m04.q5.verify_hidden(seed, plot_radius_by_diagnosis=plot_radius)
        m04.q5.verify_hidden(seed, plot_radius_by_diagnosis=lambda X, y: plot_radius(
            X, y, unit="pixels, not mm").figure)


# --- placeholders, crashes, None -----------------------------------------------------------------
def test_placeholders_and_crashes():
    def boom(*args):
        raise ValueError("bad")

    def todo(*args):
        raise NotImplementedError()

    for q, name in ((m04.q1, "group_summary"), (m04.q2, "pivot_mean"), (m04.q4, "top_pairs"),
                    (m04.q5, "plot_radius_by_diagnosis")):  # fmt: skip
        with pytest.raises(NotAttempted):
            q.verify(**{name: lambda *a: None})
        with pytest.raises(NotAttempted):
            q.verify(**{name: todo})
        with pytest.raises(Incorrect, match="ValueError"):
            q.verify(**{name: boom})
        with pytest.raises(Incorrect, match="should be a function"):
            q.verify(**{name: 3})
    with pytest.raises(Incorrect, match="Series"):
        m04.q3.verify(missing_pct=[1.0, 2.0], X_test_imputed=right_q3()[1])
    with pytest.raises(Incorrect, match="DataFrame"):
        m04.q1.verify(group_summary=lambda df, by, value: df.groupby(by)[value].mean())


def test_checks_pass_right_answers_repeatedly():
    """The checks' caches give the same verdict on a second run (no wall-clock assertion: the
    checks' speed is measured by benchmarks, not by unit tests)."""
    for _ in range(2):
        m04.q1.verify(group_summary=group_summary)
        m04.q2.verify(pivot_mean=pivot_mean)
        m04.q4.verify(top_pairs=top_pairs)
        m04.q6.verify(pipe=right_pipe(), cv_scores=CV)


# --- the module's seeded data --------------------------------------------------------------------
def test_module_datasets_are_seeded_and_keep_their_documented_traps():
    from grader.datasets import breast_cancer, breast_cancer_missing, make_visits

    a, b = make_visits(), make_visits()  # the lecture's data
    pd.testing.assert_frame_equal(a, b)
    assert not a.equals(make_visits(seed=1))
    g = a.groupby("ward")["length_of_stay"]
    assert bool((g.size() > g.count()).all())  # count() differs from size() in every ward
    X, y = breast_cancer_missing()
    pd.testing.assert_frame_equal(X, breast_cancer_missing()[0])
    full = breast_cancer()[0]
    assert X.isna().any().sum() == 5
    assert X["worst area"].median() < full["worst area"].median()  # missing not at random


def test_air_quality_is_seeded_and_keeps_its_documented_missingness():
    """The assignment's data: the three documented kinds of missing values are there."""
    pd.testing.assert_frame_equal(AIR, make_air_quality())
    assert not AIR.equals(make_air_quality(seed=1))
    assert list(AIR.columns[2:8]) == list(AIR_FEATURES) and set(AIR["alert"]) == {0, 1}
    miss = AIR[list(AIR_FEATURES)].isna().mean()
    assert set(miss[miss > 0].index) == {"humidity", "no2", "pm25"}
    by_station = AIR["no2"].isna().groupby(AIR["station"]).mean()
    assert by_station.idxmax() == "harbour" and by_station["harbour"] > 3 * by_station.drop(
        "harbour").max()  # missing at random given the station
    # missing not at random: days with a missing pm25 are followed by alerts far more often
    rate = AIR["alert"].groupby(AIR["pm25"].isna()).mean()
    assert rate[True] > 2 * rate[False]
    g = AIR.groupby("station")["no2"]
    assert int((g.size() > g.count()).sum()) >= 3  # count() differs from size() in most stations
    # the leaky fill values differ from the training ones in a column with gaps (q3 can tell)
    assert bool((X_TRAIN.median() != X_MISSING.median())[X_MISSING.isna().any()].any())
    assert bool((X_TEST.median() != X_TRAIN.median())[X_MISSING.isna().any()].any())


# --- judgement outside the kernel: the figure and the pipeline are judged from their views ------
def _judge(label, values, seed, hidden=False):
    q = m04.QUESTIONS[label]
    names, recorded = judging.record(q, seed, hidden=hidden)
    payload = json.loads(json.dumps(gather(names, [c for c, _ in recorded], values)))
    return judging.judge(q, seed, payload, hidden=hidden)


def test_judge_outside_the_kernel_passes_right_answers():
    right = {
        "q1": dict(group_summary=group_summary_loop), "q2": dict(pivot_mean=pivot_mean_unstack),
        "q3": dict(zip(("missing_pct", "X_test_imputed"), right_q3(), strict=True)),
        "q4": dict(top_pairs=top_pairs_reversed),
        "q5": dict(plot_radius_by_diagnosis=lambda X, y: plot_radius(X, y).figure),
        "q6": dict(pipe=right_pipe(), cv_scores=CV),
        "q7": dict(indicator_gain=GAIN, use_indicator=True),
    }
    for label, values in right.items():
        for seed, hidden in ((None, False), (17, False), (4079, True)):
            verdict = _judge(label, values, seed, hidden)
            assert verdict.ok, (label, seed, verdict.message)


@pytest.mark.parametrize("kind, match", [("codes", "Map the target codes"),
                                         ("swapped", "labels are swapped"),
                                         ("density", "densities"), ("nolegend", "no legend"),
                                         ("scatter", "Wrong plot type"), ("string", "Axes"),
                                         ("mm", "physical length"), ("nounit", "names no unit")])
def test_judge_outside_the_kernel_reads_the_figure(kind, match):
    for seed in (None, 17):
        verdict = _judge("q5", dict(plot_radius_by_diagnosis=_plot(kind)), seed)
        assert not verdict.ok and re.search(match, verdict.message), verdict.message


def test_judge_outside_the_kernel_reads_the_pipeline():
    lr = LogisticRegression(max_iter=1000)
    cases = [
        (dict(pipe=make_pipeline(StandardScaler(), lr), cv_scores=CV), "no SimpleImputer"),
        (dict(pipe=make_pipeline(SimpleImputer(), StandardScaler(), lr), cv_scores=CV),
         "strategy='mean'"),
        (dict(pipe=lr, cv_scores=CV), "Pipeline"),
        (dict(pipe=3, cv_scores=CV), "Pipeline"),
    ]
    for values, match in cases:
        verdict = _judge("q6", values, 23)
        assert not verdict.ok and match in verdict.message, verdict.message
    other = make_pipeline(SimpleImputer(strategy="median"), StandardScaler(),
                          LogisticRegression(C=0.01, max_iter=1000))
    verdict = _judge("q6", dict(pipe=other, cv_scores=CV), 23)  # right variables, other settings
    assert not verdict.ok and "fresh copy of `pipe`" in verdict.message, verdict.message
    assert _judge("q6", dict(pipe=..., cv_scores=CV), 23).ename == "NotAttempted"


def test_offline_canonical_form_of_pairs():
    assert student_m04.q4.result_form("top_pairs", [("b", "a"), ("a", "c")]) == [("a", "b"), ("a", "c")]
    assert student_m04.q4.result_form("top_pairs", ("b", "a")) == ("b", "a")  # not a list: as it is


def test_student_module_holds_no_key():
    text = (ROOT / "grader/checks/m04.py").read_text()
    for private in ("def verify", "references", "_q1_ref", "_q2_ref", "_ranked", "_reference_pipe",
                    "_q6_ref", "_q6_mistakes", "_pairs_table", "_Q1_TOY", "_Q2_TOY", "seed",
                    "_SPLIT", "_radius_plot", "4013", "4039", "4063", "4079", "4091", "_q7_right",
                    "_q7_gains", "_indicator_pipe", f"{GAIN:.6f}"):
        assert private not in text, private
    for label, q in m04.QUESTIONS.items():
        assert getattr(student_m04, label).names == q.names


# --- the generic pieces the conversion needs: views in plans, DataFrames in the offline check ---
def test_view_calls_cross_the_plan_and_old_plans_still_parse():
    from grader.checks import wire
    from grader.checks.collect import Call, parse_plan, plan_text

    calls = [Call("pipe", (), {}, "m04.pipeline_steps"), Call("f", (1.5,), {"k": 2})]
    assert parse_plan(plan_text(["pipe"], calls)) == (["pipe"], calls)
    assert calls[1].row() == ["f", wire.encode((1.5,)), wire.encode({"k": 2})]  # as before views
    for bad in (["pipe", wire.encode(()), wire.encode({}), "os.system"],
                ["pipe", wire.encode(()), wire.encode({}), 3]):
        with pytest.raises(wire.WireError):
            Call.from_row(bad)
    ns = {"pipe": right_pipe()}
    unknown = Call("pipe", (), {}, "m04.no_such_view")
    missing = Call("other", (), {}, "m04.pipeline_steps")
    payload = gather(["pipe"], [calls[0], unknown, missing], ns)
    assert payload["calls"][0]["ok"]["t"] == "dict"
    assert payload["calls"][1] == {"skipped": True} and payload["calls"][2] == {"skipped": True}


def test_offline_compare_of_dataframes_ignores_order_not_values():
    from grader.checks.offline import conform, same

    ref = group_summary(student_toy := m04._Q1_TOY, "team", "score")
    tol = {"rtol": 1e-6, "atol": 1e-9}
    assert same(group_summary_loop(student_toy, "team", "score").iloc[::-1], ref, tol)
    assert same(ref[["mean", "n_rows", "n_missing"]], ref, tol)
    assert not same(ref.assign(mean=ref["mean"].fillna(0) + 1), ref, tol)
    assert not same(ref.reset_index(), ref, tol)
    with pytest.raises(Incorrect, match="DataFrame"):
        conform(ref["mean"], ref, "group_summary(...)")


def test_offline_check_names_the_unit_mistake(ns, capsys):
    """qN.check() without the key: a radius labelled in mm is told why (the view's unit fact)."""
    ns.clear()
    ns["plot_radius_by_diagnosis"] = _plot("mm")
    with pytest.raises(Incorrect, match="physical length"):
        student_m04.q5.check()
    assert not plt.get_fignums()


def test_offline_check_passes_every_form_of_a_right_answer(ns, capsys):
    """qN.check() in JupyterLab, without the key: right answers in several forms all pass."""
    forms = [
        {"group_summary": group_summary}, {"group_summary": group_summary_loop},
        {"pivot_mean": pivot_mean}, {"pivot_mean": pivot_mean_unstack},
        dict(zip(("missing_pct", "X_test_imputed"), right_q3(), strict=True)),
        {"top_pairs": top_pairs}, {"top_pairs": top_pairs_reversed},
        {"plot_radius_by_diagnosis": plot_radius},
        {"plot_radius_by_diagnosis": lambda X, y: plot_radius(X, y, rwidth=0.8).figure},
        {"pipe": right_pipe(), "cv_scores": CV},
        {"indicator_gain": GAIN, "use_indicator": True},
        {"indicator_gain": CV_IND.mean() - CV.mean(), "use_indicator": bool(GAIN > 0)},
        {"plot_radius_by_diagnosis": lambda X, y: plot_radius(X, y, unit="pixels")},
    ]
    for values in forms:
        ns.clear()
        ns.update(values)
        label = next(q for q in m04.QUESTIONS if set(m04.QUESTIONS[q].names) == set(values))
        getattr(student_m04, label).check()
    assert capsys.readouterr().out.count("Correct") == len(forms)
