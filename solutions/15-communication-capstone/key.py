"""The answer key of assignment 15, "Communicating explanations: the capstone": instructor-only.

``grader release`` and ``nbgrader generate_assignment`` skip this file (``nbgrader_config.py``
ignores ``key.py``). It holds the reference computations, the diagnosis code of every check
(``verify``, ``verify_hidden``, ``verify_graded``) and each question's reference answers
(``references()``). The grader loads it outside the student's kernel (:mod:`grader.judging`);
see ``docs/authoring.md``.

The assignment's case is not the lecture's: a credit-default model (:func:`make_credit`, seed 15,
the probability of *not* repaying) explained to a bank's lending committee and to a declined
applicant. Formulas: linear SHAP values beta_j (z_j - mean z_j) in log-odds (Lundberg and Lee,
2017); natural frequencies (Gigerenzer and Hoffrage, 1995); the single-feature counterfactual
Delta z_j = (logit(t) - f(x)) / beta_j converted back with the scaler's scale (Wachter et al.,
2017); the percentile bootstrap (Efron and Tibshirani, 1993).
"""

from __future__ import annotations

import functools
import math
from types import SimpleNamespace

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from grader.checks import m15
from grader.checks.core import Incorrect, Question, call, key_for
from grader.checks.figures import KIND, describe, is_figure
from grader.checks.values import as_dict, as_float, as_str, as_tuple, close, show
from grader.datasets import make_credit

#: The key's questions, by label.
__all__ = ["QUESTIONS"]

FEATURES = list(m15.FEATURES)
IMMUTABLE = tuple(m15.IMMUTABLE)
ACTIONABLE = [f for f in FEATURES if f not in IMMUTABLE]
UNIT = m15.UNIT


# --- the notebook's data and model, rebuilt from seeds (cached) ---------------------------------
@functools.lru_cache(maxsize=1)
def _case() -> SimpleNamespace:
    """The setup cell: make_credit(3000, seed=15), default = 1 - repaid, a scaled logistic model."""
    df = make_credit(n=3000, seed=15)
    X, y = df[FEATURES], 1 - df["repaid"]
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, random_state=15,
                                                        stratify=y)
    model = make_pipeline(StandardScaler(), LogisticRegression()).fit(X_train, y_train)
    scaler, logreg = model[0], model[-1]
    z_mean = scaler.transform(X_train).mean(axis=0)
    phi = (scaler.transform(X_test) - z_mean) * logreg.coef_[0]
    p_test = model.predict_proba(X_test)[:, 1]
    return SimpleNamespace(
        X_train=X_train, X_test=X_test, y_test=y_test.to_numpy(), model=model, scaler=scaler,
        coef=logreg.coef_[0], intercept=float(logreg.intercept_[0]), phi=phi, p_test=p_test,
        flagged=(p_test >= 0.5).astype(int), base_rate=float(y_train.mean()),
    )


def _lst(a) -> str:
    vals = [f"{v:.4g}" if isinstance(v, float) else str(v) for v in np.asarray(a).ravel()[:8]]
    return "[" + ", ".join(vals) + (", ..." if np.asarray(a).size > 8 else "") + "]"


def _strings(value, name: str) -> list[str]:
    if type(value) not in (list, tuple):
        raise Incorrect(f"`{name}` should return a list of strings, but it returned {show(value)}.")
    return [as_str(v, f"{name}[{i}]") for i, v in enumerate(value)]


# =================================================================================================
# q1: reason codes
# =================================================================================================
def _codes(phi_row, values, names, k=3, direction="raise", *, by_abs=False, ignore_direction=False,
           no_cutoff=False, unsigned=False, fixed_values=False) -> list[str]:
    phi = np.asarray(phi_row, dtype=float)
    direction = "raise" if ignore_direction else direction
    sign = 1.0 if direction == "raise" else -1.0
    keep = list(range(phi.size))
    if not by_abs:
        keep = [j for j in keep if sign * phi[j] > 0]
    if not no_cutoff:
        keep = [j for j in keep if abs(phi[j]) >= 0.005]
    keep.sort(key=lambda j: -abs(phi[j]) if by_abs else -sign * phi[j])  # stable: ties keep order
    verb = "raised" if direction == "raise" else "lowered"
    out = []
    for j in keep[:k]:
        v = f"{float(values[j]):.2f}" if fixed_values else f"{float(values[j]):g}"
        d = f"{phi[j]:.2f}" if unsigned else f"{phi[j]:+.2f}"
        out.append(f"{names[j]} = {v} {verb} the risk score by {d} (log-odds)")
    return out


_Q1_NAMES = ["income", "savings", "debt_ratio", "late_payments", "tenure"]
_Q1_CASES = (
    # (phi_row, values, k, direction): a tie (0.31, 0.31), a large negative, a push that rounds to 0
    ([0.31, -0.52, 0.31, 0.004, 0.12], [23.5, 0.0, 0.61, 4.0, 7.25], 3, "raise"),
    ([0.31, -0.52, 0.31, 0.004, 0.12], [23.5, 0.0, 0.61, 4.0, 7.25], 5, "raise"),
    ([-0.2, 0.45, -0.61, -0.003, 0.08], [71.2, 18.0, 0.2, 0.0, 12.5], 2, "lower"),
)


def _q1_value(func, phi, values, names, k, direction) -> list[str]:
    got = call(func, "reason_codes", phi.copy(), values.copy(), list(names), k=k, direction=direction)
    return _strings(got, "reason_codes(...)")


def _q1_diagnose(got, phi, values, names, k, direction, where) -> None:
    ref = _codes(phi, values, names, k, direction)
    if got == ref:
        return
    said = f"{where}, `reason_codes` returned {got}"
    v = functools.partial(_codes, phi, values, names, k, direction)
    if got == v(by_abs=True) or got == v(by_abs=True, no_cutoff=True):
        raise Incorrect(
            f"{said}: the features are ranked by |SHAP value|, so a feature that pushed the score "
            "the other way is listed as a reason. Keep only the requested direction, then sort."
        )
    if got == v(ignore_direction=True):
        raise Incorrect(
            f"{said}: `direction` is ignored. With direction=\"lower\" the reasons are the features "
            "that *lowered* the risk, most negative first, and the sentence says \"lowered\"."
        )
    if got == v(no_cutoff=True):
        raise Incorrect(
            f"{said}: a push smaller than 0.005 in absolute value is listed; it prints as +0.00 "
            "or -0.00, which no reader can act on. Leave such features out."
        )
    if got == v(unsigned=True):
        raise Incorrect(f"{said}: the SHAP value needs its sign (format it with `:+.2f`).")
    if got == v(fixed_values=True):
        raise Incorrect(
            f"{said}: the applicant's value is printed with two decimals. Use the general format "
            "`:g` (4 late payments is \"4\", not \"4.00\")."
        )
    if sorted(got) == sorted(ref):
        raise Incorrect(
            f"{said}: the right reasons in the wrong order. Two features with the same SHAP value "
            "keep the order of `names` (a stable sort; reversing an ascending `np.argsort` "
            "reverses the ties too)."
        )
    if len(got) == len(ref) and all(g.split(" = ")[0] == r.split(" = ")[0] for g, r in zip(got, ref, strict=True)):
        raise Incorrect(f"{said}: the right features in the right order, but a sentence does not "
                        "follow the template of the prompt exactly.")
    raise Incorrect(f"{said}; these are not the top-{k} features in the requested direction.")


@key_for(m15.q1)
class ReasonCodes(Question):
    def references(self):
        return {"reason_codes": lambda phi_row, values, names, k=3, direction="raise": _codes(
            phi_row, values, names, k, direction)}

    def verify(self, reason_codes):
        for phi, values, k, direction in _Q1_CASES:
            phi, values = np.array(phi), np.array(values)
            where = f"For phi_row={_lst(phi)}, k={k}, direction={direction!r}"
            got = _q1_value(reason_codes, phi, values, _Q1_NAMES, k, direction)
            _q1_diagnose(got, phi, values, _Q1_NAMES, k, direction, where)
        data = _case()
        row = int(np.argmax(data.p_test))
        phi, values = data.phi[row].round(6), data.X_test.iloc[row].to_numpy()
        got = _q1_value(reason_codes, phi, values, FEATURES, 3, "raise")
        _q1_diagnose(got, phi, values, FEATURES, 3, "raise",
                     "For the test applicant with the highest predicted risk")

    def verify_hidden(self, seed, reason_codes):
        rng = np.random.default_rng(seed)
        cases = [_q1_hidden_case(rng, case) for case in range(6)]
        # NumPy's default sort is not stable, so a reversed ascending argsort (the catalogued
        # q1-ties-reversed) sometimes happens to list a tie the right way round: on about 1 seed
        # in 2500 it does so in all six cases. Add "raise" cases until it does not (bounded).
        while not any(map(_q1_argsort_reverses, cases)) and len(cases) < 30:
            cases.append(_q1_hidden_case(rng, 0))
        for phi, values, names, k, direction in cases:
            where = f"On a fresh random case (phi_row={_lst(phi)}, k={k}, direction={direction!r})"
            _q1_diagnose(_q1_value(reason_codes, phi, values, names, k, direction), phi, values,
                         names, k, direction, where)


def _q1_argsort_reverses(case: tuple) -> bool:
    """Whether ranking by a reversed ascending ``np.argsort`` gives another top-k than the
    stable ranking of :func:`_codes` on this hidden case."""
    phi, _values, _names, k, direction = case
    sign = 1.0 if direction == "raise" else -1.0
    order = np.argsort(phi)[::-1] if direction == "raise" else np.argsort(phi)
    wrong = [j for j in order if sign * phi[j] >= 0.005][:k]
    right = sorted((j for j in range(phi.size) if sign * phi[j] >= 0.005), key=lambda j: -sign * phi[j])
    return wrong != right[:k]


def _q1_hidden_case(rng: np.random.Generator, case: int) -> tuple:
    """One hidden case of q1: random pushes with planted structure, so that every catalogued
    mistake changes the answer on every seed, not by luck (the first two cases carry all of it).

    Planted: two features tied for the largest push in the requested direction (a sort that
    reverses ties puts them the other way round), with whole-number values (two decimals print
    otherwise); the opposite direction's largest push, larger in size (ranking by |SHAP| lists it);
    a push below the 0.005 cutoff in the requested direction, and in "roomy" cases k larger than
    the number of pushes above the cutoff (a missing cutoff lists it). Cases alternate between
    "raise" and "lower" (a function that ignores `direction` fails every "lower" case).
    """
    direction = ("raise", "lower")[case % 2]
    sign = 1.0 if direction == "raise" else -1.0
    p = int(rng.integers(5, 9))
    names = [f"f{j}" for j in range(p)]
    phi = np.round(rng.normal(0, 0.4, p), 3)
    values = np.round(rng.normal(10, 5, p), int(rng.integers(0, 3)))
    slots = rng.permutation(p)
    top = round(float(np.max(np.abs(phi))) + float(rng.uniform(0.05, 0.3)), 3)
    tied = np.sort(slots[:2])
    phi[tied] = sign * top
    values[tied] = np.round(rng.uniform(1, 30, 2))
    phi[slots[2]] = -sign * round(top + float(rng.uniform(0.05, 0.3)), 3)
    phi[slots[3]] = sign * float(rng.choice([0.001, 0.002, 0.004]))
    if p > 6:  # a second tie, below the first
        phi[np.sort(slots[4:6])] = sign * round(top * float(rng.uniform(0.2, 0.8)), 3)
    n_up = int(np.sum(sign * phi >= 0.005))
    roomy = case < 2 or rng.random() < 0.5
    k = n_up + int(rng.integers(1, 3)) if roomy else int(rng.integers(min(2, n_up), n_up + 1))
    return phi, values, names, k, direction


# =================================================================================================
# q2: natural frequencies with their baseline
# =================================================================================================
def _statement(p0, p1, *, fixed=False, truncate=False, inverted=False, unrounded=False) -> str:
    rnd = (lambda x: int(x)) if truncate else round
    d = 100
    if not fixed:
        for d in (100, 1000, 10000):
            if rnd(p0 * d) >= 1 and rnd(p1 * d) >= 1:
                break
    n0, n1 = rnd(p0 * d), rnd(p1 * d)
    extra = rnd((p1 - p0) * d) if unrounded else n1 - n0
    ratio = p0 / p1 if inverted else p1 / p0
    return (f"about {n1} in {d} applicants like this one default, against about {n0} in {d} of "
            f"all applicants: {extra:+d} in {d}, or {ratio:.1f} times the overall risk")


_Q2_CASES = ((0.39, 0.72), (0.0123, 0.0357), (0.2049, 0.1361), (0.0004, 0.0027), (0.125, 0.336))


def _q2_diagnose(got: str, p0: float, p1: float, where: str) -> None:
    if got == _statement(p0, p1):
        return
    said = f"{where}, `frequency_statement` returned {got!r}"
    if got == _statement(p0, p1, fixed=True):
        raise Incorrect(
            f"{said}: the denominator is always 100, so a rare risk reads \"about 0 in 100\". "
            "Move to 1000 or 10000 until both counts are at least 1."
        )
    if got == _statement(p0, p1, truncate=True) or got == _statement(p0, p1, truncate=True, fixed=True):
        raise Incorrect(
            f"{said}: the counts are truncated (`int`), not rounded to the nearest whole person "
            "(`round`)."
        )
    if got == _statement(p0, p1, inverted=True):
        raise Incorrect(
            f"{said}: the ratio is inverted. \"Times the overall risk\" is this applicant's risk "
            "divided by the overall risk, p1 / p0."
        )
    if got == _statement(p0, p1, unrounded=True):
        raise Incorrect(
            f"{said}: the difference is rounded on its own, so it need not equal the difference of "
            "the two counts the reader sees. Subtract the two rounded counts."
        )
    raise Incorrect(f"{said}, which does not follow the prompt's template and rules.")


def _q2_value(func, p0, p1) -> str:
    return as_str(call(func, "frequency_statement", p0, p1), "frequency_statement(...)")


@key_for(m15.q2)
class FrequencyStatement(Question):
    def references(self):
        return {"frequency_statement": lambda p0, p1: _statement(p0, p1)}

    def verify(self, frequency_statement):
        for p0, p1 in _Q2_CASES:
            _q2_diagnose(_q2_value(frequency_statement, p0, p1), p0, p1, f"For p0={p0}, p1={p1}")

    def verify_hidden(self, seed, frequency_statement):
        self.verify(frequency_statement=frequency_statement)  # the designed cases, then fresh ones
        rng = np.random.default_rng(seed)
        for _ in range(16):
            scale = float(rng.choice([1.0, 0.1, 0.01, 0.001]))
            p0, p1 = (round(float(rng.uniform(0.05, 0.95)) * scale, 5) for _ in range(2))
            p0 = max(p0, 0.0002)
            p1 = max(p1, 0.0002)
            _q2_diagnose(_q2_value(frequency_statement, p0, p1), p0, p1,
                         f"On a fresh case (p0={p0}, p1={p1})")


# =================================================================================================
# q4: an honest stakeholder chart (judged on the figure's description)
# =================================================================================================
def _chart(shap_values, names, max_features=3, unit=UNIT, *, signed=False, no_other=False,
           upside_down=False, truncated=False, no_unit=False) -> dict:
    """The description (grader.checks.figures.describe) of the right chart, or of a mistake's."""
    sv = np.asarray(shap_values, dtype=float)
    imp = sv.mean(axis=0) if signed else np.abs(sv).mean(axis=0)
    order = sorted(range(len(names)), key=lambda j: -imp[j])
    bars = [[str(names[j]), float(imp[j])] for j in order[:max_features]]
    if len(names) > max_features and not no_other:
        bars.append(["Other", float(sum(imp[j] for j in order[max_features:]))])
    if upside_down:
        bars = bars[::-1]
    lo = min(b[1] for b in bars)
    return {"kind": KIND, "n_axes": 1, "title": f"The risk score rests most on {names[order[0]]}",
            "xlabel": "importance" if no_unit else unit,
            "x_from_zero": not truncated and lo >= 0, "bars": bars}


def _as_chart(value, name: str) -> dict:
    """The student's chart as a description: a real figure (in the kernel) or a collected one."""
    if is_figure(value):
        try:
            return describe(value)
        finally:
            import matplotlib.pyplot as plt

            plt.close(value)
    if type(value) is dict and value.get("kind") == KIND:
        return value
    raise Incorrect(
        f"`{name}` should return a matplotlib Figure (`fig, ax = plt.subplots()` ... `return fig`), "
        f"but it returned {show(value)}."
    )


def _bars_equal(a, b) -> bool:
    return len(a) == len(b) and all(
        type(x) in (list, tuple) and len(x) == 2 and x[0] == y[0] and type(x[1]) is float
        and close(x[1], y[1]) for x, y in zip(a, b, strict=True))


def _same_chart(got: dict, ref: dict) -> bool:
    return (got.get("n_axes") == ref["n_axes"] and got.get("title") == ref["title"]
            and got.get("xlabel") == ref["xlabel"] and got.get("x_from_zero") is ref["x_from_zero"]
            and _bars_equal(got.get("bars"), ref["bars"]))


def _q3_diagnose(got: dict, sv, names, max_features, where: str) -> None:
    ref = _chart(sv, names, max_features)
    if _same_chart(got, ref):
        return
    said = f"{where}, the chart"
    bars = got.get("bars") if type(got.get("bars")) is list else []
    shown = [b[0] for b in bars if type(b) in (list, tuple) and b]
    v = functools.partial(_chart, sv, names, max_features)
    if got.get("n_axes") != 1:
        raise Incorrect(f"{said} has {got.get('n_axes')} axes; draw one bar chart on one Axes.")
    if _bars_equal(bars, v(signed=True)["bars"]) or _bars_equal(bars, v(signed=True)["bars"][::-1]):
        raise Incorrect(
            f"{said} shows the *signed* mean SHAP value of each feature ({show(shown)}): positive "
            "and negative contributions cancel, so a feature that matters a lot can look "
            "unimportant. Importance is the mean of the absolute values."
        )
    if _bars_equal(bars, v(no_other=True)["bars"]) or _bars_equal(bars, v(no_other=True)["bars"][::-1]):
        raise Incorrect(
            f"{said} has no \"Other\" bar (bars: {show(shown)}): the features beyond max_features "
            "are dropped, which hides how much of the model they explain together."
        )
    if _bars_equal(bars, v(upside_down=True)["bars"]):
        raise Incorrect(
            f"{said} reads from the smallest bar at the top down to the largest (bars from top to "
            f"bottom: {show(shown)}). `barh` draws its first bar at the *bottom*: reverse the order "
            "(or invert the y axis) so the largest is at the top and \"Other\" at the bottom."
        )
    if not _bars_equal(bars, ref["bars"]):
        raise Incorrect(
            f"{said}'s bars, from top to bottom, are {show(bars)}; they are not the largest mean "
            "|SHAP| values in descending order followed by \"Other\"."
        )
    if not got.get("x_from_zero"):
        raise Incorrect(
            f"{said}'s value axis does not start at 0, so the bars' lengths exaggerate the "
            "differences. Leave the x limits alone (or set the left one to 0)."
        )
    if got.get("xlabel") != ref["xlabel"]:
        raise Incorrect(
            f"{said}'s x label is {got.get('xlabel')!r}: use the `unit` argument as the label, so "
            "the reader knows what the bar lengths measure."
        )
    raise Incorrect(
        f"{said}'s title is {got.get('title')!r}; it should state the finding exactly as the "
        "prompt's template says."
    )


def _q3_value(func, sv, names, max_features) -> dict:
    got = call(func, "top_features_bar", sv.copy(), list(names), max_features=max_features)
    return _as_chart(got, "top_features_bar")


def _q3_cases() -> list[tuple]:
    r = np.random.default_rng(1503)
    names = ["income", "savings", "debt_ratio", "late_payments", "tenure", "region"]
    sv = r.normal(0, 1, (60, 6)) * np.array([0.9, 0.3, 0.7, 1.1, 0.15, 0.05])
    sv[:, 1] += 0.6  # savings: one-signed contributions, so its signed mean stays large
    return [(sv.round(4), names, 3), (sv[:, :4].round(4), names[:4], 2)]


@key_for(m15.q4)
class TopFeaturesBar(Question):
    def references(self):
        # A reference that draws the chart: the description is what crosses and what is compared.
        return {"top_features_bar": lambda shap_values, names, max_features=3, unit=UNIT: _chart(
            shap_values, names, max_features, unit)}

    def verify(self, top_features_bar):
        for sv, names, m in _q3_cases():
            where = f"For a {sv.shape[0]}x{sv.shape[1]} SHAP matrix with max_features={m}"
            _q3_diagnose(_q3_value(top_features_bar, sv, names, m), sv, names, m, where)

    def verify_hidden(self, seed, top_features_bar):
        rng = np.random.default_rng(seed)
        for _ in range(3):
            p = int(rng.integers(3, 8))
            names = [f"x{j}" for j in range(p)]
            sv = (rng.normal(0, 1, (int(rng.integers(20, 60)), p)) * rng.uniform(0.05, 1.5, p)).round(4)
            sv[:, rng.integers(0, p)] += 0.8
            m = int(rng.integers(1, p))
            _q3_diagnose(_q3_value(top_features_bar, sv, names, m), sv, names, m,
                         f"On a fresh case ({p} features, max_features={m})")


# =================================================================================================
# q3: contrastive changes in original units, immutable features excluded
# =================================================================================================
def _changes(x_row, threshold, *, keep_immutable=False, standardised=False, sign=1.0,
             prob_scale=False) -> dict:
    data = _case()
    x = pd.Series(x_row, dtype=float)[FEATURES].to_numpy()
    z = (x - data.scaler.mean_) / data.scaler.scale_
    g = data.intercept + z @ data.coef
    target = threshold if prob_scale else math.log(threshold / (1 - threshold))
    out = {}
    for j, f in enumerate(FEATURES):
        if f in IMMUTABLE and not keep_immutable:
            continue
        dz = sign * (target - g) / data.coef[j]
        out[f] = float(dz if standardised else dz * data.scaler.scale_[j])
    return out


def _q4_rows() -> list[tuple]:
    data = _case()
    declined = np.flatnonzero(data.p_test >= 0.5)
    rows = [data.X_test.iloc[int(declined[0])], data.X_test.iloc[int(declined[7])]]
    return [(rows[0].copy(), 0.5), (rows[1].copy(), 0.35)]


def _q4_value(func, x_row, t) -> dict:
    got = as_dict(call(func, "contrastive_changes", x_row.copy(), t), "contrastive_changes(...)")
    keys = [k for k in got if type(k) is str]
    if len(keys) != len(got):
        raise Incorrect("`contrastive_changes` should return a dict whose keys are feature names.")
    return {k: as_float(v, f'contrastive_changes(...)["{k}"]') for k, v in got.items()}


def _dict_close(a: dict, b: dict) -> bool:
    return set(a) == set(b) and all(close(a[k], b[k]) for k in b)


def _q4_diagnose(got: dict, x_row, t, where: str) -> None:
    ref = _changes(x_row, t)
    if _dict_close(got, ref):
        return
    if any(f in got for f in IMMUTABLE):
        listed = ", ".join(f for f in IMMUTABLE if f in got)
        raise Incorrect(
            f"{where}, `contrastive_changes` returned a change of {listed}: it suggests changing {', '.join(f for f in IMMUTABLE if f in got)}, which the "
            "applicant cannot change (see IMMUTABLE). A contrastive explanation offers only "
            "actionable changes."
        )
    if set(got) != set(ref):
        raise Incorrect(f"{where}, `contrastive_changes` returned the keys {sorted(got)}: it needs one entry for each actionable feature (FEATURES minus "
                        "IMMUTABLE).")
    wrong = {k: v for k, v in got.items() if not close(v, ref[k])}  # only the student's wrong values
    said = f"{where}, `contrastive_changes` returned {show(wrong)}"
    if _dict_close(got, _changes(x_row, t, standardised=True)):
        raise Incorrect(
            f"{said}: these are changes in *standardised* units. Multiply by the scaler's "
            "`scale_` of each feature to give the change in the feature's own units."
        )
    if _dict_close(got, _changes(x_row, t, sign=-1.0)):
        raise Incorrect(
            f"{where}, every change that `contrastive_changes` returned has the wrong sign; it moves the score away from the threshold. "
            "The change is (target log-odds - current log-odds) / coefficient."
        )
    if _dict_close(got, _changes(x_row, t, prob_scale=True)):
        raise Incorrect(
            f"{said}: the threshold is used as if it were log-odds. The model is linear in the "
            "log-odds: convert the probability threshold with logit(t) = ln(t / (1 - t))."
        )
    raise Incorrect(f"{said}; these changes do not put the predicted risk at the threshold.")


@key_for(m15.q3)
class ContrastiveChanges(Question):
    def references(self):
        return {"contrastive_changes": lambda x_row, threshold: _changes(x_row, threshold)}

    def verify(self, contrastive_changes):
        for k, (row, t) in enumerate(_q4_rows(), 1):
            _q4_diagnose(_q4_value(contrastive_changes, row, t), row, t,
                         f"For declined test applicant {k} (threshold={t})")

    def verify_hidden(self, seed, contrastive_changes):
        rng = np.random.default_rng(seed)
        for _ in range(4):
            row = pd.Series({"income": round(float(rng.uniform(15, 90)), 1),
                             "savings": round(float(rng.uniform(0, 40)), 1),
                             "debt_ratio": round(float(rng.uniform(0.05, 0.8)), 3),
                             "late_payments": float(rng.integers(0, 7))})
            t = round(float(rng.uniform(0.2, 0.7)), 2)
            _q4_diagnose(_q4_value(contrastive_changes, row, t), row, t,
                         f"On a fresh applicant (threshold={t})")


# =================================================================================================
# q5: the recall's bootstrap interval
# =================================================================================================
def _interval(y_true, flagged, reps=1000, seed=0, *, reseed=False, normal=False, level=95.0,
              precision=False) -> tuple[float, float, float]:
    y, f = np.asarray(y_true).astype(int), np.asarray(flagged).astype(int)

    def metric(yy, ff):
        if precision:
            return float(np.sum((yy == 1) & (ff == 1)) / max(1, np.sum(ff == 1)))
        return float(np.sum((yy == 1) & (ff == 1)) / np.sum(yy == 1))

    rng = np.random.default_rng(seed)
    stats_ = []
    for _ in range(reps):
        if reseed:
            rng = np.random.default_rng(seed)
        idx = rng.integers(0, y.size, y.size)
        stats_.append(metric(y[idx], f[idx]))
    point = metric(y, f)
    if normal:
        sd = float(np.std(stats_))
        return point, point - 1.96 * sd, point + 1.96 * sd
    tail = (100 - level) / 2
    low, high = np.percentile(stats_, [tail, 100 - tail])
    return point, float(low), float(high)


def _q5_cases() -> list[tuple]:
    r = np.random.default_rng(1505)
    out = []
    for n, reps, seed in ((120, 300, 4), (90, 200, 21)):
        y = (r.random(n) < 0.4).astype(int)
        y[:2] = (1, 0)
        flagged = np.where(r.random(n) < 0.75, y, 1 - y)
        out.append((y, flagged, reps, seed))
    return out


def _q5_value(func, y, f, reps, seed) -> tuple[float, float, float]:
    got = as_tuple(call(func, "recall_interval", y.copy(), f.copy(), reps=reps, seed=seed),
                   "recall_interval(...)", 3)
    return tuple(as_float(v, f"recall_interval(...)[{i}]") for i, v in enumerate(got))


def _q5_diagnose(got, y, f, reps, seed, where) -> None:
    ref = _interval(y, f, reps, seed)
    same = lambda a, b: all(close(x, z) for x, z in zip(a, b, strict=True))  # noqa: E731
    if same(got, ref):
        return
    if close(got[0], ref[0]):  # show only what is wrong: the interval
        said = f"{where}, `recall_interval` returned the interval ({got[1]:.4g}, {got[2]:.4g})"
    else:
        said = f"{where}, `recall_interval` returned ({got[0]:.4g}, {got[1]:.4g}, {got[2]:.4g})"
    v = functools.partial(_interval, y, f, reps, seed)
    if close(got[1], got[2]):
        raise Incorrect(
            f"{said}: an interval of width 0. Every resample is the same: create the generator "
            "once, before the loop, and draw new indices from it in every round."
        )
    if same(got, v(precision=True)):
        raise Incorrect(
            f"{said}: that is the precision (flagged cases that are positive). Recall divides by "
            "the actual positives: the share of them that were flagged."
        )
    if same(got, v(normal=True)):
        raise Incorrect(
            f"{said}: a normal approximation (point +- 1.96 sd). The percentile bootstrap takes the "
            "2.5th and 97.5th percentiles of the resampled recalls (`np.percentile`)."
        )
    if same(got, v(level=90.0)):
        raise Incorrect(f"{said}: a 90 % interval (5th to 95th percentiles); the prompt asks for 95 %.")
    raise Incorrect(f"{said}, which is not the point recall and its 95 % percentile interval.")


@key_for(m15.q5)
class RecallInterval(Question):
    def references(self):
        return {"recall_interval": lambda y_true, flagged, reps=1000, seed=0: _interval(
            y_true, flagged, reps, seed)}

    def verify(self, recall_interval):
        for y, f, reps, seed in _q5_cases():
            _q5_diagnose(_q5_value(recall_interval, y, f, reps, seed), y, f, reps, seed,
                         f"For {y.size} cases, reps={reps}, seed={seed}")

    def verify_hidden(self, seed, recall_interval):
        rng = np.random.default_rng(seed)
        for _ in range(3):
            n = int(rng.integers(60, 200))
            y = (rng.random(n) < rng.uniform(0.2, 0.6)).astype(int)
            y[:2] = (1, 0)
            f = np.where(rng.random(n) < rng.uniform(0.6, 0.9), y, 1 - y)
            reps, b_seed = int(rng.integers(100, 400)), int(rng.integers(0, 10_000))
            _q5_diagnose(_q5_value(recall_interval, y, f, reps, b_seed), y, f, reps, b_seed,
                         f"On a fresh case ({n} cases, reps={reps}, seed={b_seed})")


q1, q2, q3, q4, q5 = ReasonCodes, FrequencyStatement, ContrastiveChanges, TopFeaturesBar, RecallInterval
QUESTIONS = {q.label: q for q in (q1, q2, q3, q4, q5)}
