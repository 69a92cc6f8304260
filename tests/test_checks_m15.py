"""Assignment 15 checks (the key, solutions/15-communication-capstone/key.py): right answers
pass, named mistakes fail, and the feedback never shows the expected value.

Fast unit tests: the key's ``verify``/``verify_hidden`` are called directly with the functions a
student would write (no notebook is executed); the chart question gets real matplotlib figures,
described by :mod:`grader.checks.figures` as at grading time. ``grader verify
15-communication-capstone`` proves the catalogue (``mutants.yml``) against the executed notebook.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from conftest import no_return, unfinished  # noqa: E402
from scipy.special import logit  # noqa: E402

from grader.checks import Incorrect, NotAttempted  # noqa: E402
from grader.checks import m15 as student_m15  # noqa: E402
from grader.checks.collect import Call, gather  # noqa: E402
from grader.checks.figures import describe  # noqa: E402
from grader.checks.offline import load_key_file  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
key = load_key_file(ROOT / "solutions/15-communication-capstone/key.py")
QUESTIONS = key.QUESTIONS
SEEDS = (0, 1511, 1553)
FEATURES = list(student_m15.FEATURES)
CASE = key._case()


# --- right answers ------------------------------------------------------------------------------
def reason_codes(phi_row, values, names, k=3, direction="raise"):
    phi_row = np.asarray(phi_row, dtype=float)
    sign = 1.0 if direction == "raise" else -1.0
    keep = sorted([j for j in range(len(names)) if sign * phi_row[j] >= 0.005],
                  key=lambda j: -sign * phi_row[j])
    verb = "raised" if direction == "raise" else "lowered"
    return [f"{names[j]} = {float(values[j]):g} {verb} the risk score by {phi_row[j]:+.2f} (log-odds)"
            for j in keep[:k]]


def reason_codes_numpy(phi_row, values, names, k=3, direction="raise"):
    """np.argsort with a stable kind, a tuple out."""
    phi = np.asarray(phi_row, dtype=float) * (1 if direction == "raise" else -1)
    order = [j for j in np.argsort(-phi, kind="stable") if phi[j] >= 0.005][:k]
    word = {"raise": "raised", "lower": "lowered"}[direction]
    template = "{} = {} {} the risk score by {:+.2f} (log-odds)"
    return tuple(template.format(names[j], format(values[j], "g"), word, phi_row[j]) for j in order)


def frequency_statement(p0, p1):
    for d in (100, 1000, 10000):
        n0, n1 = round(p0 * d), round(p1 * d)
        if n0 >= 1 and n1 >= 1:
            break
    return (f"about {n1} in {d} applicants like this one default, against about {n0} in {d} of "
            f"all applicants: {n1 - n0:+d} in {d}, or {p1 / p0:.1f} times the overall risk")


def top_features_bar(shap_values, names, max_features=3, unit=student_m15.UNIT):
    imp = pd.Series(np.abs(np.asarray(shap_values, float)).mean(axis=0), index=list(names))
    ordered = imp.sort_values(ascending=False, kind="stable")
    shown = ordered.iloc[:max_features]
    if len(ordered) > max_features:
        shown = pd.concat([shown, pd.Series({"Other": ordered.iloc[max_features:].sum()})])
    fig, ax = plt.subplots()
    ax.barh(shown.index[::-1], shown.to_numpy()[::-1])
    ax.set_xlabel(unit)
    ax.set_title(f"The risk score rests most on {ordered.index[0]}")
    return fig


def top_features_bar_inverted(shap_values, names, max_features=3, unit=student_m15.UNIT):
    """Numeric positions, tick labels set by hand and an inverted y axis: the same chart."""
    imp = np.abs(np.asarray(shap_values)).mean(axis=0)
    order = np.argsort(-imp, kind="stable")
    labels = [names[j] for j in order[:max_features]]
    widths = [imp[j] for j in order[:max_features]]
    if len(names) > max_features:
        labels.append("Other")
        widths.append(imp[order[max_features:]].sum())
    fig, ax = plt.subplots(figsize=(5, 3))
    ax.barh(np.arange(len(widths)), widths, height=0.6)
    ax.set_yticks(np.arange(len(widths)), labels)
    ax.invert_yaxis()
    ax.set_xlim(left=0)
    ax.set_xlabel(unit)
    ax.set_title("The risk score rests most on " + labels[0])
    return fig


def contrastive_changes(x_row, threshold):
    g = CASE.model.decision_function(x_row[FEATURES].to_frame().T)[0]
    return {f: float((logit(threshold) - g) / CASE.coef[j] * CASE.scaler.scale_[j])
            for j, f in enumerate(FEATURES) if f not in student_m15.IMMUTABLE}


def contrastive_changes_manual(x_row, threshold):
    """By hand from the coefficients in original units: beta_j / scale_j."""
    x = np.asarray(x_row[FEATURES], dtype=float)
    beta = CASE.coef / CASE.scaler.scale_
    g = CASE.intercept + ((x - CASE.scaler.mean_) / CASE.scaler.scale_) @ CASE.coef
    target = np.log(threshold / (1 - threshold))
    return {f: np.float64((target - g) / beta[j]) for j, f in enumerate(FEATURES) if f != "late_payments"}


def recall_interval(y_true, flagged, reps=1000, seed=0):
    y, f = np.asarray(y_true).astype(int), np.asarray(flagged).astype(int)
    rec = lambda yy, ff: float(np.sum((yy == 1) & (ff == 1)) / np.sum(yy == 1))  # noqa: E731
    rng = np.random.default_rng(seed)
    recalls = [rec(y[i], f[i]) for i in (rng.integers(0, y.size, y.size) for _ in range(reps))]
    low, high = np.percentile(recalls, [2.5, 97.5])
    return rec(y, f), float(low), float(high)


def recall_interval_sklearn(y_true, flagged, reps=1000, seed=0):
    from sklearn.metrics import recall_score

    y, f = np.asarray(y_true), np.asarray(flagged)
    rng = np.random.default_rng(seed)
    stats_ = []
    for _ in range(reps):
        idx = rng.integers(0, len(y), len(y))
        stats_.append(recall_score(y[idx], f[idx]))
    return [recall_score(y, f), *np.percentile(stats_, [2.5, 97.5])]  # a list of NumPy floats


RIGHT = {
    "q1": [dict(reason_codes=reason_codes), dict(reason_codes=reason_codes_numpy)],
    "q2": [dict(frequency_statement=frequency_statement)],
    "q4": [dict(top_features_bar=top_features_bar), dict(top_features_bar=top_features_bar_inverted)],
    "q3": [dict(contrastive_changes=contrastive_changes),
           dict(contrastive_changes=contrastive_changes_manual)],
    "q5": [dict(recall_interval=recall_interval), dict(recall_interval=recall_interval_sklearn)],
}


@pytest.mark.parametrize("label, values", [(q, v) for q, vs in RIGHT.items() for v in vs],
                         ids=lambda x: str(x)[:14])
def test_right_answers_pass_visible_and_hidden(label, values):
    question = QUESTIONS[label]
    question.verify(**values)
    for seed in SEEDS:
        question.verify_hidden(seed=seed, **values)
    assert plt.get_fignums() == []  # the check closes every figure it described


# --- the catalogued mistakes ----------------------------------------------------------------------
def _codes(**kw):
    return lambda phi_row, values, names, k=3, direction="raise": key._codes(
        phi_row, values, names, k, direction, **kw)


def _stmt(**kw):
    return lambda p0, p1: key._statement(p0, p1, **kw)


def _chart_mistake(kind):
    def f(shap_values, names, max_features=3, unit=student_m15.UNIT):
        sv = np.asarray(shap_values, float)
        imp = pd.Series(sv.mean(axis=0) if kind == "signed" else np.abs(sv).mean(axis=0),
                        index=list(names))
        ordered = imp.sort_values(ascending=False, kind="stable")
        shown = ordered.iloc[:max_features]
        if len(ordered) > max_features and kind != "no_other":
            shown = pd.concat([shown, pd.Series({"Other": ordered.iloc[max_features:].sum()})])
        fig, ax = plt.subplots()
        if kind == "upside_down":
            ax.barh(shown.index, shown.to_numpy())
        else:
            ax.barh(shown.index[::-1], shown.to_numpy()[::-1])
        if kind == "truncated":
            ax.set_xlim(shown.min() * 0.9, shown.max() * 1.05)
        ax.set_xlabel("importance" if kind == "no_unit" else unit)
        ax.set_title("Feature importance" if kind == "title" else
                     f"The risk score rests most on {ordered.index[0]}")
        return fig

    return f


def _changes(**kw):
    return lambda x_row, threshold: key._changes(x_row, threshold, **kw)


def _interval(**kw):
    return lambda y_true, flagged, reps=1000, seed=0: key._interval(y_true, flagged, reps, seed, **kw)


MISTAKES = [
    ("q1", dict(reason_codes=_codes(by_abs=True)), "ranked by |SHAP value|"),
    ("q1", dict(reason_codes=_codes(ignore_direction=True)), "`direction` is ignored"),
    ("q1", dict(reason_codes=_codes(no_cutoff=True)), "smaller than 0.005"),
    ("q1", dict(reason_codes=_codes(unsigned=True)), "needs its sign"),
    ("q1", dict(reason_codes=_codes(fixed_values=True)), "two decimals"),
    ("q2", dict(frequency_statement=_stmt(fixed=True)), "always 100"),
    ("q2", dict(frequency_statement=_stmt(truncate=True)), "truncated"),
    ("q2", dict(frequency_statement=_stmt(inverted=True)), "ratio is inverted"),
    ("q2", dict(frequency_statement=_stmt(unrounded=True)), "rounded on its own"),
    ("q4", dict(top_features_bar=_chart_mistake("signed")), "*signed* mean"),
    ("q4", dict(top_features_bar=_chart_mistake("no_other")), "no \"Other\" bar"),
    ("q4", dict(top_features_bar=_chart_mistake("upside_down")), "at the *bottom*"),
    ("q4", dict(top_features_bar=_chart_mistake("truncated")), "does not start at 0"),
    ("q4", dict(top_features_bar=_chart_mistake("no_unit")), "x label is"),
    ("q4", dict(top_features_bar=_chart_mistake("title")), "title is"),
    ("q3", dict(contrastive_changes=_changes(keep_immutable=True)), "cannot change"),
    ("q3", dict(contrastive_changes=_changes(standardised=True)), "*standardised* units"),
    ("q3", dict(contrastive_changes=_changes(sign=-1.0)), "wrong sign"),
    ("q3", dict(contrastive_changes=_changes(prob_scale=True)), "logit(t)"),
    ("q5", dict(recall_interval=_interval(reseed=True)), "width 0"),
    ("q5", dict(recall_interval=_interval(normal=True)), "normal approximation"),
    ("q5", dict(recall_interval=_interval(level=90.0)), "90 % interval"),
    ("q5", dict(recall_interval=_interval(precision=True)), "that is the precision"),
]  # fmt: skip


def _shown_references(label: str) -> list[str]:
    if label == "q1":
        # the whole list (a partly right answer shows the student's own right sentences)
        return [str(key._codes(*c[:2], key._Q1_NAMES, *c[2:])) for c in key._Q1_CASES]
    if label == "q2":
        return [key._statement(*c) for c in key._Q2_CASES]
    if label == "q4":
        return [f"{b[1]:.4g}" for sv, n, m in key._q3_cases() for b in key._chart(sv, n, m)["bars"]]
    if label == "q3":
        nums = [v for r, t in key._q4_rows() for v in key._changes(r, t).values()]
    else:
        nums = [v for c in key._q5_cases() for v in key._interval(*c)]
    return [f.format(v) for v in nums for f in ("{:.4g}", "{:.6g}")]


@pytest.mark.parametrize("label, values, named", MISTAKES, ids=[m[2][:24] for m in MISTAKES])
def test_mistakes_are_named_and_the_answer_is_not_shown(label, values, named):
    question = QUESTIONS[label]
    with pytest.raises(Incorrect) as visible:
        question.verify(**values)
    message = str(visible.value)
    assert named in message
    assert not isinstance(visible.value, NotAttempted)
    for shown in _shown_references(label):
        assert shown not in message, f"{label} feedback reveals the expected value {shown!r}"
    with pytest.raises(Incorrect):
        question.verify_hidden(seed=1553, **values)
    plt.close("all")


def test_rare_risks_need_a_larger_denominator():
    assert frequency_statement(0.0004, 0.0027).startswith("about 27 in 10000")
    assert key._statement(0.0004, 0.0027, fixed=True).startswith("about 0 in 100")


def test_contrastive_change_reaches_the_threshold():
    """Adding a change to the applicant puts the model's predicted risk at the threshold."""
    for row, t in key._q4_rows():
        for feature, delta in contrastive_changes(row, t).items():
            moved = row.astype(float).copy()
            moved[feature] += delta
            p = CASE.model.predict_proba(moved[FEATURES].to_frame().T)[0, 1]
            assert abs(p - t) < 1e-6, feature


def test_figure_description_crosses_the_wire_and_closes_the_figure():
    """gather() replaces a returned figure with its plain description and closes it."""
    sv, names, m = key._q3_cases()[0]
    payload = gather([], [Call("top_features_bar", (sv, names), {"max_features": m})],
                     {"top_features_bar": top_features_bar})
    assert plt.get_fignums() == []
    from grader.checks import wire

    got = wire.decode(payload["calls"][0]["ok"])
    assert got == key._chart(sv, names, m) or key._same_chart(got, key._chart(sv, names, m))
    fig = top_features_bar_inverted(sv, names, m)
    assert key._same_chart(describe(fig), key._chart(sv, names, m))
    plt.close(fig)
    with pytest.raises(TypeError):
        describe("not a figure")


@pytest.mark.parametrize("value, text", [(plt.Axes, "matplotlib Figure"), ({"bars": []}, "matplotlib Figure"),
                                         (3, "matplotlib Figure")])
def test_a_chart_that_is_not_a_figure_gets_a_clear_message(value, text):
    with pytest.raises(Incorrect, match=text):
        QUESTIONS["q4"].verify(top_features_bar=lambda sv, names, max_features=3, unit="": value)


@pytest.mark.parametrize("label", ["q1", "q2", "q3", "q4", "q5"])
def test_unwritten_functions_are_not_attempted(label):
    question = QUESTIONS[label]
    name = question.names[0]
    for stub in (unfinished, no_return):
        with pytest.raises(NotAttempted) as info:
            question.verify(**{name: stub})
        assert f"`{name}" in str(info.value)


@pytest.mark.parametrize("label", sorted(RIGHT))
def test_offline_check_passes_the_right_answers(ns, label):
    question = getattr(student_m15, label)
    for values in RIGHT[label]:
        ns.clear()
        ns.update(values)
        question.check()
    assert plt.get_fignums() == []


def test_offline_check_names_a_chart_mistake(ns):
    ns.update(dict(top_features_bar=_chart_mistake("upside_down")))
    with pytest.raises(Incorrect, match="at the \\*bottom\\*"):
        student_m15.q4.check()


def test_exports_and_hints():
    assert sorted(student_m15.__all__) == sorted(
        [f"q{i}" for i in range(1, 6)] + ["FEATURES", "IMMUTABLE", "UNIT"])
    for question in QUESTIONS.values():
        assert 2 <= len(question.hints) <= 3
    assert not {"_codes", "_statement", "_chart", "_changes", "_interval", "_case"} & set(vars(student_m15))


def test_review_reversed_ties_are_named_as_order():
    """Reversing an ascending argsort reverses tied SHAP values: the right reasons in the wrong
    order, which used to get "not the top-k features"."""

    def reversed_ties(phi_row, values, names, k=3, direction="raise"):
        phi = np.asarray(phi_row, dtype=float)
        order = np.argsort(phi)[::-1] if direction == "raise" else np.argsort(phi)
        verb = "raised" if direction == "raise" else "lowered"
        keep = [j for j in order
                if abs(phi[j]) >= 0.005 and (phi[j] > 0 if direction == "raise" else phi[j] < 0)]
        return [f"{names[j]} = {float(values[j]):g} {verb} the risk score by {phi[j]:+.2f} "
                "(log-odds)" for j in keep[:k]]

    with pytest.raises(Incorrect, match="wrong order"):
        key.QUESTIONS["q1"].verify(reason_codes=reversed_ties)


# --- q1's hidden test separates every catalogued mistake on every seed (issue 14) ---------------
SEEDS8 = (0, 1, 2, 960, 1511, 1553, 1597, 20261129)  # 960: argsort keeps the first six ties


def _reversed_ties(phi_row, values, names, k=3, direction="raise"):
    """The mutant q1-ties-reversed: a reversed ascending argsort (NumPy's default sort is not
    stable, so which ties it reverses depends on the input: the hidden cases plant several)."""
    phi = np.asarray(phi_row, dtype=float)
    order = np.argsort(phi)[::-1] if direction == "raise" else np.argsort(phi)
    verb = "raised" if direction == "raise" else "lowered"
    keep = [j for j in order
            if abs(phi[j]) >= 0.005 and (phi[j] > 0 if direction == "raise" else phi[j] < 0)]
    return [f"{names[j]} = {float(values[j]):g} {verb} the risk score by {phi[j]:+.2f} "
            "(log-odds)" for j in keep[:k]]


Q1_MISTAKES = [m[1]["reason_codes"] for m in MISTAKES if m[0] == "q1"] + [_reversed_ties]


@pytest.mark.parametrize("seed", SEEDS8)
def test_q1_hidden_catches_every_catalogued_mistake_for_every_seed(seed):
    q1 = QUESTIONS["q1"]
    for values in RIGHT["q1"]:
        q1.verify_hidden(seed=seed, **values)
    for func in Q1_MISTAKES:
        with pytest.raises(Incorrect):
            q1.verify_hidden(seed=seed, reason_codes=func)


def test_q1_hidden_cases_hold_ties():
    """Every hidden case has two features tied for the largest push in the requested direction,
    both among the k listed, with whole-number values; the old draw had no ties at all."""
    for seed in SEEDS8:
        rng = np.random.default_rng(seed)
        for case in range(6):
            phi, values, names, k, direction = key._q1_hidden_case(rng, case)
            sign = 1.0 if direction == "raise" else -1.0
            top = np.flatnonzero(sign * phi == np.max(sign * phi))
            assert top.size >= 2 and k >= 2
            assert np.all(values[top] == np.round(values[top]))
