"""The answer key of assignment 12, "Fairness and governance": instructor-only, never released.

``grader release`` and ``nbgrader generate_assignment`` skip this file (``nbgrader_config.py``
ignores ``key.py``). It holds the reference computations, the diagnosis of every check
(``verify``, ``verify_hidden``, ``verify_graded``) and each question's ``references()``; the
grader loads it outside the student's kernel (:mod:`grader.judging`, ``docs/authoring.md``).

The data are the notebook's: ``make_credit`` with *measurement* bias (group B's income
under-reported by 20 %) and a proxy, a plain logistic regression on raw features, and a
train / calibration / test split. The toy cases are asymmetric on purpose (groups of different
sizes and base rates, TPR != precision, FPR gap != TPR gap) so that each classic mistake gives
an answer different from the right one, and each mistake is named. Sources: the confusion-rate
definitions of module 05; Chouldechova (2017) for the FPR identity; Hardt, Price and Srebro
(2016) for equal opportunity by per-group thresholds; Lundberg (2020) for the SHAP
decomposition of a group gap.
"""

from __future__ import annotations

import functools
import math
from types import SimpleNamespace

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split

from grader.checks import m12
from grader.checks.core import Incorrect, Question, call, key_for, unrounded
from grader.checks.values import as_dict, as_float, as_int, close, show
from grader.datasets import make_credit

__all__ = ["QUESTIONS"]

_FEATURES = ["income", "savings", "debt_ratio", "late_payments", "neighbourhood"]
_GRID = np.round(np.arange(0.20, 0.80, 0.01), 2)
_NAN = float("nan")


# --- the notebook's data, rebuilt from seeds (cached) -------------------------------------------
@functools.lru_cache(maxsize=1)
def _lending() -> SimpleNamespace:
    data = make_credit(n=6000, seed=12, reported_income_bias=-0.2, include_proxy=True)
    data["group"] = np.where(data["group"] == 1, "B", "A")
    train, rest = train_test_split(data, test_size=0.5, random_state=1, stratify=data["group"])
    calib, test = train_test_split(rest, test_size=0.5, random_state=1, stratify=rest["group"])
    model = LogisticRegression(max_iter=5000).fit(train[_FEATURES], train["repaid"])
    return SimpleNamespace(
        coef=model.coef_[0].copy(),
        X_test=test[_FEATURES].copy(),
        p_calib=model.predict_proba(calib[_FEATURES])[:, 1],
        p_test=model.predict_proba(test[_FEATURES])[:, 1],
        logit_test=model.decision_function(test[_FEATURES]),
        y_calib=calib["repaid"].to_numpy(),
        y_test=test["repaid"].to_numpy(),
        g_calib=calib["group"].to_numpy(),
        g_test=test["group"].to_numpy(),
    )


# --- small helpers -------------------------------------------------------------------------------
def _lst(a) -> str:
    vals = [str(v) if isinstance(v, str) else f"{v:g}" for v in list(np.asarray(a).ravel())[:16]]
    more = ", ..." if np.asarray(a).size > 16 else ""
    return "[" + ", ".join(vals) + more + "]"


def _div(num: float, den: float) -> float:
    return float(num) / float(den) if den else _NAN


def _eq(a: float, b: float, tol: float = 1e-6) -> bool:
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return close(a, b, rtol=tol, atol=1e-9)


# --- reference computations ----------------------------------------------------------------------
def _confusion(t: np.ndarray, p: np.ndarray) -> tuple[int, int, int, int]:
    return (int(np.sum((t == 1) & (p == 1))), int(np.sum((t == 0) & (p == 1))),
            int(np.sum((t == 1) & (p == 0))), int(np.sum((t == 0) & (p == 0))))


def _ref_rates(y, yhat, group, *, mistake: str = "") -> dict[str, dict[str, float]]:
    """The q1 reference; ``mistake`` gives what a classic mistake returns (for diagnosis)."""
    y, yhat, group = np.asarray(y), np.asarray(yhat), np.asarray(group)
    out = {}
    for g in sorted(set(group.tolist())):
        m = group == g
        t, p = (y, yhat) if mistake == "pooled" else (y[m], yhat[m])
        tp, fp, fn, tn = _confusion(t, p)
        n = int(m.sum())
        row = {"n": n, "selection_rate": _div(tp + fp, t.size), "tpr": _div(tp, tp + fn),
               "fpr": _div(fp, fp + tn), "precision": _div(tp, tp + fp)}
        if mistake == "total":
            row["selection_rate"] = _div(tp + fp, y.size)
        elif mistake == "base_rate":
            row["selection_rate"] = _div(tp + fn, n)
        elif mistake == "tpr_precision":
            row["tpr"], row["precision"] = _div(tp, tp + fp), _div(tp, tp + fn)
        elif mistake == "fpr_size":
            row["fpr"] = _div(fp, n)
        elif mistake == "zero":
            row = {k: (0.0 if isinstance(v, float) and math.isnan(v) else v) for k, v in row.items()}
        out[str(g)] = row
    return out


def _ref_gaps(y, yhat, group, *, mistake: str = "") -> dict[str, float]:
    r = _ref_rates(y, yhat, group)
    keys = list(r)

    def spread(k: str) -> float:
        vals = [r[g][k] for g in keys]
        if mistake == "signed":
            return vals[-1] - vals[0]
        if mistake == "two":
            return abs(vals[1] - vals[0])
        return max(vals) - min(vals)

    sel = [r[g]["selection_rate"] for g in keys]
    tpr_gap, fpr_gap = spread("tpr"), spread("fpr")
    if mistake == "two":
        sel = sel[:2]
    out = {
        "demographic_parity_diff": spread("selection_rate"),
        "disparate_impact_ratio": min(sel) / max(sel),
        "equal_opportunity_diff": tpr_gap,
        "equalized_odds_diff": max(tpr_gap, fpr_gap),
    }
    if mistake == "inverted":
        out["disparate_impact_ratio"] = max(sel) / min(sel)
    elif mistake == "tpr_only":
        out["equalized_odds_diff"] = tpr_gap
    elif mistake == "mean":
        out["equalized_odds_diff"] = (tpr_gap + fpr_gap) / 2
    elif mistake == "base_rate":
        base = [_ref_rates(y, yhat, group, mistake="base_rate")[g]["selection_rate"] for g in keys]
        out["demographic_parity_diff"] = max(base) - min(base)
    return out


def _ref_forced(p: float, ppv: float, tpr: float) -> float:
    return p / (1 - p) * (1 - ppv) / ppv * tpr


def _ref_gap_by_feature(coef, X: pd.DataFrame, group) -> dict[str, float]:
    group = np.asarray(group)
    diff = X[group == "B"].mean(axis=0) - X[group == "A"].mean(axis=0)
    return {str(c): float(coef[j] * diff.iloc[j]) for j, c in enumerate(X.columns)}


def _tpr_at(p: np.ndarray, y: np.ndarray, t: float, strict: bool = False) -> float:
    pos = p[y == 1]
    return float(np.mean(pos > t if strict else pos >= t))


def _ref_matching(p, y, target: float, grid, *, mistake: str = "") -> float:
    """The q5 reference: the largest grid threshold whose TPR reaches ``target``, else min(grid)."""
    p, y, grid = np.asarray(p, dtype=float), np.asarray(y), np.asarray(grid, dtype=float)
    if mistake == "selection":
        tprs = [float(np.mean(p >= t)) for t in grid]
    else:
        tprs = [_tpr_at(p, y, t, strict=mistake == "strict") for t in grid]
    if mistake == "above":
        ok = [t for t, v in zip(grid, tprs, strict=True) if v > target]
        return float(max(ok)) if ok else float(min(grid))
    if mistake == "closest":
        return float(grid[int(np.argmin([abs(v - target) for v in tprs]))])
    ok = [t for t, v in zip(grid, tprs, strict=True) if v >= target]
    return float(max(ok)) if ok else float(min(grid))


def _q5_values(split: str = "calib", target_from: str = "A") -> tuple[float, float]:
    d = _lending()
    p, y, g = (d.p_calib, d.y_calib, d.g_calib) if split == "calib" else (d.p_test, d.y_test, d.g_test)
    if target_from == "A-test":  # the target read off the test split (a leak)
        target = _tpr_at(d.p_test[d.g_test == "A"], d.y_test[d.g_test == "A"], 0.5)
    elif target_from == "A":
        target = _tpr_at(p[g == "A"], y[g == "A"], 0.5)
    else:
        target = _tpr_at(p, y, 0.5)
    t_b = _ref_matching(p[g == "B"], y[g == "B"], target, _GRID)
    a = _tpr_at(d.p_test[d.g_test == "A"], d.y_test[d.g_test == "A"], 0.5)
    b = _tpr_at(d.p_test[d.g_test == "B"], d.y_test[d.g_test == "B"], t_b)
    return t_b, abs(a - b)


# =================================================================================================
# q1: group rates
# =================================================================================================
_Q1_CASES = (
    # three groups of sizes 6, 5 and 4; "east" predicts no one positive (precision undefined)
    (
        [1, 1, 1, 0, 0, 0, 1, 1, 0, 0, 0, 1, 0, 1, 0],
        [1, 1, 0, 1, 0, 0, 1, 0, 1, 1, 0, 0, 0, 0, 0],
        ["north"] * 6 + ["south"] * 5 + ["east"] * 4,
    ),
    # two groups interleaved; group "y" has no actual positives (TPR undefined)
    (
        [1, 0, 0, 1, 0, 0, 1, 0, 1, 0, 0, 1],
        [1, 1, 0, 0, 0, 1, 1, 0, 1, 1, 0, 0],
        ["x", "y", "x", "x", "y", "x", "x", "y", "x", "y", "x", "x"],
    ),
)
_Q1_MISTAKES = (
    ("pooled", "every group has the rates of all rows together: filter `y_true` and `y_pred` to "
     "the group's rows before counting"),
    ("total", "the selection rate divides by the total number of rows, not by the group's own size "
     "(a rate within a group uses the group's denominator)"),
    ("base_rate", "the selection rate is the share of actual positives (the base rate, from "
     "`y_true`); the selection rate is the share the model *selects* (from `y_pred`)"),
    ("tpr_precision", "TPR computed as precision (and precision as TPR): TPR divides by the group's "
     "actual positives, precision by its predicted positives"),
    ("fpr_size", "the FPR divides by the group's size; it divides by the group's actual negatives"),
    ("zero", "an undefined rate (zero denominator) is reported as 0.0: the prompt asks for nan, "
     "because 0.0 claims a measurement that was never made"),
)


def _q1_values(func, y, yhat, group, where: str) -> dict:
    got = as_dict(call(func, "group_rates", y.copy(), yhat.copy(), group.copy()), "group_rates(...)")
    want = sorted(set(group.tolist()))
    keys = sorted(show(k) for k in got)
    # NumPy string labels (the keys of a loop over np.unique(group)) count as the labels
    got = {(str(k.item()) if type(k) is np.str_ else k): v for k, v in got.items()}
    if sorted(k for k in got if type(k) is str) != want or len(got) != len(want):
        raise Incorrect(
            f"{where}, `group_rates` returned a dict with keys {', '.join(keys)}; it needs one key "
            "per distinct label in `group` (the labels themselves, as strings)."
        )
    out = {}
    for g in want:
        row = as_dict(got[g], f'group_rates(...)["{g}"]')
        if sorted(k for k in row if type(k) is str) != sorted(m12.RATE_KEYS) or len(row) != 5:
            raise Incorrect(
                f'{where}, `group_rates(...)["{g}"]` has keys {", ".join(sorted(show(k) for k in row))}; '
                f"it needs exactly {', '.join(m12.RATE_KEYS)}."
            )
        out[g] = {"n": as_int(row["n"], f'group_rates(...)["{g}"]["n"]')}
        for k in m12.RATE_KEYS[1:]:
            out[g][k] = as_float(row[k], f'group_rates(...)["{g}"]["{k}"]', finite=False)
    return out


def _same_rates(a: dict, b: dict) -> bool:
    return all(a[g]["n"] == b[g]["n"] and all(_eq(a[g][k], b[g][k]) for k in m12.RATE_KEYS[1:])
               for g in b)


def _q1_diagnose(got: dict, y, yhat, group, where: str) -> None:
    ref = _ref_rates(y, yhat, group)
    if _same_rates(got, ref):
        return
    for mistake, text in _Q1_MISTAKES:
        if _same_rates(got, _ref_rates(y, yhat, group, mistake=mistake)):
            raise Incorrect(f"{where}: {text}.")
    for g in ref:
        if got[g]["n"] != ref[g]["n"]:
            raise Incorrect(f'{where}, `group_rates(...)["{g}"]["n"]` = {got[g]["n"]}, which is not '
                            "the number of rows in that group.")
        for k in m12.RATE_KEYS[1:]:
            if not _eq(got[g][k], ref[g][k]):
                hint = (" When its denominator is zero, return float('nan')."
                        if math.isnan(ref[g][k]) else "")
                raise Incorrect(f'{where}, `group_rates(...)["{g}"]["{k}"]` = {got[g][k]:.4g}, which '
                                f"is not that group's {k.replace('_', ' ')}.{hint}")


def _q1_random(rng, n_groups: int, zero: bool) -> tuple:
    labels = np.array(["g" + str(k) for k in rng.permutation(9)[:n_groups]])
    n = int(rng.integers(25, 70))
    group = labels[rng.integers(0, n_groups, n)]
    group[:n_groups] = labels
    y = (rng.random(n) < rng.uniform(0.3, 0.7)).astype(int)
    yhat = np.where(rng.random(n) < 0.75, y, 1 - y)
    if zero:
        yhat[group == labels[0]] = 0
    return y, yhat, group


@key_for(m12.q1)
class GroupRates(Question):
    def references(self):
        return {"group_rates": lambda y_true, y_pred, group: _ref_rates(y_true, y_pred, group)}

    def verify(self, group_rates):
        for y, yhat, group in _Q1_CASES:
            y, yhat, group = np.array(y), np.array(yhat), np.array(group)
            where = f"For y_true={_lst(y)}, y_pred={_lst(yhat)}, group={_lst(group)}"
            _q1_diagnose(_q1_values(group_rates, y, yhat, group, where), y, yhat, group, where)

    def verify_hidden(self, seed, group_rates):
        rng = np.random.default_rng(seed)
        for k in range(6):
            y, yhat, group = _q1_random(rng, 2 + k % 3, zero=k == 5)
            where = f"On a fresh random case (n={y.size}, {len(set(group.tolist()))} groups)"
            _q1_diagnose(_q1_values(group_rates, y, yhat, group, where), y, yhat, group, where)


# =================================================================================================
# q2: fairness gaps
# =================================================================================================
_Q2_CASES = (
    # group "a" (8 rows) is selected more than "b" (6 rows); the FPR gap is larger than the TPR gap
    (
        [1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, 0, 0, 0],
        [1, 1, 1, 0, 1, 1, 0, 0, 1, 1, 0, 0, 0, 0],
        ["a"] * 8 + ["b"] * 6,
    ),
    # three groups; the last one listed has the *highest* selection rate
    (
        [1, 0, 1, 0, 1, 1, 0, 0, 1, 1, 0, 1, 0, 1, 0],
        [1, 0, 0, 0, 1, 0, 0, 1, 1, 1, 1, 1, 0, 1, 1],
        ["p", "p", "p", "p", "p", "q", "q", "q", "q", "q", "r", "r", "r", "r", "r"],
    ),
)
_Q2_MISTAKES = (
    ("two", None, "the gaps compare only the first two groups: with more than two groups, each "
     "criterion is the largest group value minus the smallest over *all* the groups"),
    ("inverted", "disparate_impact_ratio", "the disparate impact ratio is inverted (largest over "
     "smallest selection rate, so it is above 1); the four-fifths rule reads min / max"),
    ("signed", None, "a gap is signed (the last group minus the first): the criteria report "
     "max - min over the groups, which does not depend on the order of the groups"),
    ("tpr_only", "equalized_odds_diff", "equalised odds reported as only the TPR gap: it requires "
     "equal TPR *and* equal FPR, so it reports the larger of the two gaps"),
    ("mean", "equalized_odds_diff", "equalised odds reported as the mean of the TPR and FPR gaps; "
     "it is the larger of the two (the criterion fails if either rate differs)"),
    ("base_rate", "demographic_parity_diff", "demographic parity computed from `y_true` (the gap in "
     "base rates); it compares the rates at which the *model* selects each group"),
)


def _q2_values(func, y, yhat, group, where: str) -> dict[str, float]:
    got = as_dict(call(func, "fairness_gaps", y.copy(), yhat.copy(), group.copy()),
                  "fairness_gaps(...)")
    if sorted(k for k in got if type(k) is str) != sorted(m12.GAP_KEYS) or len(got) != 4:
        raise Incorrect(f"{where}, `fairness_gaps` returned a dict with keys "
                        f"{', '.join(sorted(show(k) for k in got))}; it needs exactly "
                        f"{', '.join(m12.GAP_KEYS)}.")
    return {k: as_float(got[k], f'fairness_gaps(...)["{k}"]') for k in m12.GAP_KEYS}


def _q2_diagnose(got: dict, y, yhat, group, where: str) -> None:
    ref = _ref_gaps(y, yhat, group)
    if all(_eq(got[k], ref[k]) for k in ref):
        return
    for mistake, key, text in _Q2_MISTAKES:
        alt = _ref_gaps(y, yhat, group, mistake=mistake)
        keys = [key] if key else [k for k in ref if not _eq(alt[k], ref[k])]
        others_right = all(_eq(got[k], ref[k]) for k in ref if k not in keys)  # no coincidences
        if (keys and others_right and all(_eq(got[k], alt[k]) for k in keys)
                and not all(_eq(got[k], ref[k]) for k in keys)):
            raise Incorrect(f"{where}: {text}.")
    if any(got[k] < 0 for k in m12.GAP_KEYS):
        raise Incorrect(f"{where}: a gap is negative ({show(got)}): a signed difference. The criteria "
                        "report max - min over the groups.")
    for k in m12.GAP_KEYS:
        if not _eq(got[k], ref[k]):
            raise Incorrect(f'{where}, `fairness_gaps(...)["{k}"]` = {got[k]:.4g}, which is not the '
                            f"{k.replace('_', ' ')} of these decisions.")


@key_for(m12.q2)
class FairnessGaps(Question):
    def references(self):
        return {"fairness_gaps": lambda y_true, y_pred, group: _ref_gaps(y_true, y_pred, group)}

    def verify(self, fairness_gaps):
        for y, yhat, group in _Q2_CASES:
            y, yhat, group = np.array(y), np.array(yhat), np.array(group)
            where = f"For y_true={_lst(y)}, y_pred={_lst(yhat)}, group={_lst(group)}"
            _q2_diagnose(_q2_values(fairness_gaps, y, yhat, group, where), y, yhat, group, where)

    def verify_hidden(self, seed, fairness_gaps):
        rng = np.random.default_rng(seed)
        done = 0
        while done < 6:
            y, yhat, group = _q1_random(rng, 2 + done % 2, zero=False)
            rates = _ref_rates(y, yhat, group)
            if any(math.isnan(v) or (k == "selection_rate" and v == 0)
                   for r in rates.values() for k, v in r.items()):
                continue  # every group needs both outcomes and some selections
            gaps, sel = _ref_gaps(y, yhat, group), [r["selection_rate"] for r in rates.values()]
            if done % 2 == 0 and gaps["equalized_odds_diff"] < gaps["equal_opportunity_diff"] + 0.02:
                continue  # half the cases: the FPR gap is the larger one (equalised odds != TPR gap)
            if done == 1 and sel[-1] > sel[0] - 0.02:
                continue  # one case: the last group is selected less (a signed gap is negative)
            where = f"On a fresh random case (n={y.size}, {len(rates)} groups)"
            _q2_diagnose(_q2_values(fairness_gaps, y, yhat, group, where), y, yhat, group, where)
            done += 1


# =================================================================================================
# q3: the FPR forced by a base rate (Chouldechova's identity)
# =================================================================================================
_Q3_CASES = ((0.3, 0.6, 0.7), (0.55, 0.8, 0.9), (0.72, 0.85, 0.65))


def _q3_diagnose(got: float, p: float, ppv: float, tpr: float, where: str) -> None:
    if close(got, _ref_forced(p, ppv, tpr)):
        return
    said = f"{where}, `forced_fpr` returned {got:.4g}"
    if close(got, (1 - p) / p * (1 - ppv) / ppv * tpr):
        raise Incorrect(f"{said}: the base-rate odds are upside down. FP / negatives grows with the "
                        "share of positives: the factor is p / (1 - p).")
    if close(got, p / (1 - p) * ppv / (1 - ppv) * tpr):
        raise Incorrect(f"{said}: the precision factor is upside down. Among the flagged, false "
                        "alarms per true positive are (1 - PPV) / PPV.")
    if close(got, p / (1 - p) * (1 - ppv) / ppv * (1 - tpr)):
        raise Incorrect(f"{said}: this uses the miss rate (FNR = 1 - TPR) where the true positives "
                        "enter: the number flagged correctly is proportional to the TPR.")
    if close(got, p * (1 - ppv) / ppv * tpr):
        raise Incorrect(f"{said}: the base rate p enters as the odds p / (1 - p), not as p: the FPR "
                        "divides by the actual *negatives*.")
    raise Incorrect(f"{said}, which is not the FPR these three numbers force.")


def _q3_variable(fpr_forced_B, tol: float) -> None:
    d = _lending()
    r = _ref_rates(d.y_test, (d.p_test >= 0.5).astype(int), d.g_test)
    base = {g: float(np.mean(d.y_test[d.g_test == g])) for g in ("A", "B")}
    ref = _ref_forced(base["B"], r["A"]["precision"], r["A"]["tpr"])
    v = as_float(fpr_forced_B, "fpr_forced_B")
    if close(v, ref, rtol=0, atol=tol):
        return
    said = f"`fpr_forced_B` = {v:.4g}"
    if not 0 <= v <= 1:
        raise Incorrect(f"{said}, but a false-positive rate lies between 0 and 1.")
    if close(v, r["A"]["fpr"], rtol=0, atol=1e-3):
        raise Incorrect(f"{said} is group A's own FPR: it uses group A's base rate. The question is "
                        "what group B's *base rate* forces when B copies A's precision and TPR.")
    if close(v, r["B"]["fpr"], rtol=0, atol=1e-3):
        raise Incorrect(f"{said} is group B's actual FPR: it uses B's own precision and TPR. Put "
                        "group A's precision and TPR into the identity, with B's base rate.")
    if close(v, _ref_forced(base["B"], r["B"]["precision"], r["A"]["tpr"]), rtol=0, atol=1e-3) or close(
            v, _ref_forced(base["B"], r["A"]["precision"], r["B"]["tpr"]), rtol=0, atol=1e-3):
        raise Incorrect(f"{said} mixes the groups: take *both* precision and TPR from group A.")
    raise Incorrect(f"{said} is not the FPR that group B's base rate forces with group A's precision "
                    "and TPR (test split, threshold 0.5).")


@key_for(m12.q3)
class ForcedFpr(Question):
    def references(self):
        d = _lending()
        r = _ref_rates(d.y_test, (d.p_test >= 0.5).astype(int), d.g_test)
        base_b = float(np.mean(d.y_test[d.g_test == "B"]))
        return {"forced_fpr": lambda base_rate, ppv, tpr: _ref_forced(base_rate, ppv, tpr),
                "fpr_forced_B": _ref_forced(base_b, r["A"]["precision"], r["A"]["tpr"])}

    def verify(self, forced_fpr, fpr_forced_B):
        for p, ppv, tpr in _Q3_CASES:
            got = as_float(call(forced_fpr, "forced_fpr", p, ppv, tpr), "forced_fpr(...)")
            _q3_diagnose(got, p, ppv, tpr, f"For base_rate={p}, ppv={ppv}, tpr={tpr}")
        _q3_variable(fpr_forced_B, 1e-6)

    def verify_hidden(self, seed, forced_fpr, fpr_forced_B):
        rng = np.random.default_rng(seed)
        for _ in range(6):
            p, ppv, tpr = (float(np.round(rng.uniform(lo, hi), 4))
                           for lo, hi in ((0.1, 0.9), (0.3, 0.95), (0.2, 0.95)))
            got = as_float(call(forced_fpr, "forced_fpr", p, ppv, tpr), "forced_fpr(...)")
            _q3_diagnose(got, p, ppv, tpr, f"For base_rate={p}, ppv={ppv}, tpr={tpr}")
        unrounded(lambda tol: _q3_variable(fpr_forced_B, tol), 1e-6, 1e-9,
                  "`fpr_forced_B` is close to the right value but not equal to it: compute it in "
                  "code from the rates, and do not round it.")


# =================================================================================================
# q4: a group gap split by feature (linear SHAP)
# =================================================================================================
_Q4_CASE = (
    [0.5, -2.0, 1.0],
    {"debt": [1.0, 3.0, 2.0, 6.0, 5.0], "tenure": [0.5, 0.1, 0.4, 0.2, 0.3],
     "score": [2.0, 2.0, 1.0, 5.0, 3.0]},
    ["A", "A", "B", "B", "B"],
)


def _q4_values(func, coef, X, group, where: str) -> dict[str, float]:
    got = as_dict(call(func, "gap_by_feature", coef.copy(), X.copy(), group.copy()),
                  "gap_by_feature(...)")
    cols = [str(c) for c in X.columns]
    if sorted(k for k in got if type(k) is str) != sorted(cols) or len(got) != len(cols):
        raise Incorrect(f"{where}, `gap_by_feature` returned a dict with keys "
                        f"{', '.join(sorted(show(k) for k in got))}; it needs one key per column of "
                        "`X` (the column names).")
    return {c: as_float(got[c], f'gap_by_feature(...)["{c}"]') for c in cols}


def _q4_diagnose(got: dict, coef, X: pd.DataFrame, group, where: str) -> None:
    ref = _ref_gap_by_feature(coef, X, group)
    if all(close(got[c], ref[c]) for c in ref):
        return
    group = np.asarray(group)
    vals = np.array([got[c] for c in ref])
    r = np.array(list(ref.values()))
    if np.allclose(vals, -r, rtol=1e-6, atol=1e-9):
        raise Incorrect(f"{where}: the gap has the wrong direction (group A minus group B). The "
                        "prompt asks for group B minus group A.")
    raw = (X[group == "B"].mean(axis=0) - X[group == "A"].mean(axis=0)).to_numpy()
    if np.allclose(vals, raw, rtol=1e-6, atol=1e-9):
        raise Incorrect(f"{where}: these are the differences in the features' means, without the "
                        "model. A SHAP value is in the model's units: multiply by the coefficient.")
    pooled = np.asarray(coef) * (X[group == "B"].mean(axis=0) - X.mean(axis=0)).to_numpy()
    if np.allclose(vals, pooled, rtol=1e-6, atol=1e-9):
        raise Incorrect(f"{where}: this compares group B with *all* rows (the background mean "
                        "stayed in). Subtract group A's mean SHAP value from group B's.")
    background = X.mean(axis=0).to_numpy()
    phi = np.abs((X.to_numpy() - background) * np.asarray(coef))
    absolute = phi[group == "B"].mean(axis=0) - phi[group == "A"].mean(axis=0)
    if np.allclose(vals, absolute, rtol=1e-6, atol=1e-9):
        raise Incorrect(f"{where}: this averages |SHAP| (absolute values). Mean |SHAP| measures "
                        "importance; the decomposition of a gap keeps the signs, so that the parts "
                        "add up to the gap.")
    bad = next(c for c in ref if not close(got[c], ref[c]))
    raise Incorrect(f'{where}, `gap_by_feature(...)["{bad}"]` = {got[bad]:.4g}, which is not group '
                    "B's mean SHAP value minus group A's for that feature.")


def _q4_share(proxy_share, tol: float) -> None:
    d = _lending()
    gap = _ref_gap_by_feature(d.coef, d.X_test, d.g_test)
    total = sum(gap.values())
    ref = gap["neighbourhood"] / total
    v = as_float(proxy_share, "proxy_share")
    if close(v, ref, rtol=0, atol=tol):
        return
    said = f"`proxy_share` = {v:.4g}"
    prob = float(np.mean(d.p_test[d.g_test == "B"]) - np.mean(d.p_test[d.g_test == "A"]))
    if close(v, gap["neighbourhood"] / prob, rtol=0, atol=1e-4):
        raise Incorrect(f"{said} divides a log-odds contribution by the gap in *probabilities*. "
                        "The entries add up to the gap in log-odds (`decision_function`): divide by "
                        "their sum.")
    if close(v, gap["neighbourhood"] / sum(abs(x) for x in gap.values()), rtol=0, atol=1e-4):
        raise Incorrect(f"{said} divides by the sum of the *absolute* entries. A share of the gap "
                        "divides by the gap itself, the plain sum of the entries.")
    if close(v, 100 * ref, rtol=0, atol=1e-2):
        raise Incorrect(f"{said} looks like a percentage; give a fraction.")
    raise Incorrect(f"{said} is not the neighbourhood score's share of the test split's group gap "
                    "in log-odds.")


def _q4_random(rng) -> tuple:
    p = int(rng.integers(2, 5))
    n = int(rng.integers(12, 40))
    cols = [f"f{k}" for k in rng.permutation(9)[:p]]
    X = pd.DataFrame(np.round(rng.normal(rng.uniform(-3, 3, p), 1.0, (n, p)), 3), columns=cols)
    group = np.where(rng.random(n) < 0.4, "B", "A")
    group[:2] = ("A", "B")
    coef = np.round(rng.normal(0, 1.5, p), 3)
    return coef, X, group


@key_for(m12.q4)
class GapByFeature(Question):
    def references(self):
        d = _lending()
        gap = _ref_gap_by_feature(d.coef, d.X_test, d.g_test)
        return {"gap_by_feature": lambda coef, X, group: _ref_gap_by_feature(coef, X, group),
                "proxy_share": gap["neighbourhood"] / sum(gap.values())}

    def verify(self, gap_by_feature, proxy_share):
        coef, cols, group = _Q4_CASE
        coef, X, group = np.array(coef), pd.DataFrame(cols), np.array(group)
        where = f"For coef={_lst(coef)}, the 5-row X of the prompt's example, group={_lst(group)}"
        _q4_diagnose(_q4_values(gap_by_feature, coef, X, group, where), coef, X, group, where)
        _q4_share(proxy_share, 1e-6)

    def verify_hidden(self, seed, gap_by_feature, proxy_share):
        rng = np.random.default_rng(seed)
        for _ in range(5):
            coef, X, group = _q4_random(rng)
            where = f"On a fresh random case ({len(X)} rows, {X.shape[1]} features)"
            _q4_diagnose(_q4_values(gap_by_feature, coef, X, group, where), coef, X, group, where)
        unrounded(lambda tol: _q4_share(proxy_share, tol), 1e-6, 1e-9,
                  "`proxy_share` is close to the right value but not equal to it: compute it in "
                  "code, and do not round it.")


# =================================================================================================
# q5: a per-group threshold for equal opportunity
# =================================================================================================
_Q5_GRID = (0.3, 0.4, 0.5, 0.6, 0.7)
_Q5_CASES = (
    # eight positives, then four negatives scored high; a positive sits exactly on 0.5
    ([0.92, 0.81, 0.7, 0.64, 0.5, 0.44, 0.38, 0.25, 0.95, 0.9, 0.85, 0.8],
     [1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0], 0.52),
    # the target is out of reach at every grid threshold but the smallest
    ([0.9, 0.75, 0.58, 0.35, 0.25, 0.7, 0.5, 0.1], [1, 1, 1, 1, 1, 0, 0, 0], 0.9),
    # the target is exactly the TPR at 0.5 (5 of 8 positives): reaching it means >=, not >
    ([0.92, 0.81, 0.7, 0.64, 0.5, 0.44, 0.38, 0.25, 0.95, 0.9, 0.85, 0.8],
     [1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0], 0.625),
)


def _q5_function(func, p, y, target, grid, where: str) -> float:
    got = call(func, "tpr_matching_threshold", p.copy(), y.copy(), target, grid.copy())
    t = as_float(got, "tpr_matching_threshold(...)")
    if not np.any(np.abs(grid - t) < 1e-9):
        raise Incorrect(f"{where}, `tpr_matching_threshold` returned {show(got)}, which is not one "
                        "of the values in `grid`: return the threshold itself, not its position or "
                        "its TPR.")
    ref = _ref_matching(p, y, target, grid)
    if close(t, ref):
        return t
    said = f"{where}, `tpr_matching_threshold` returned {t:g}"
    if close(t, _ref_matching(p, y, target, grid, mistake="selection")):
        raise Incorrect(f"{said}: that TPR counts every row scored at least t (a selection rate). "
                        "TPR only looks at the actual positives, y == 1.")
    if close(t, _ref_matching(p, y, target, grid, mistake="above")):
        raise Incorrect(f"{said}: you keep a threshold only when its TPR is strictly above the "
                        "target. A TPR equal to the target reaches it (TPR >= target_tpr).")
    if close(t, _ref_matching(p, y, target, grid, mistake="strict")):
        raise Incorrect(f"{said}: you count a positive as selected only when its score is strictly "
                        "greater than t; the rule is score >= t.")
    if close(t, _ref_matching(p, y, target, grid, mistake="closest")):
        raise Incorrect(f"{said}: the threshold whose TPR is *closest* to the target. The prompt "
                        "asks for the largest threshold whose TPR reaches it (at least the target), "
                        "so that the group is never below the target.")
    if close(t, float(min(grid))) or close(t, float(max(grid))):
        raise Incorrect(f"{said}, an end of the grid. Compute the TPR at every threshold and keep "
                        "those that reach the target; return the smallest grid value only when none "
                        "does.")
    raise Incorrect(f"{said}, which is not the largest threshold in grid whose TPR reaches "
                    f"{target:g}.")


def _q5_variables(threshold_B, tpr_gap_after, tol: float) -> None:
    t_ref, gap_ref = _q5_values()
    t = as_float(threshold_B, "threshold_B")
    if not close(t, t_ref):
        said = f"`threshold_B` = {t:g}"
        if close(t, _q5_values(split="test")[0]):
            raise Incorrect(f"{said} was tuned on the test split. Tune on the calibration split "
                            "(`p_calib`, `y_calib`, `group_calib`): the test split must stay "
                            "untouched by every choice, or its result is optimistic.")
        if close(t, _q5_values(target_from="A-test")[0]):
            raise Incorrect(f"{said} reaches group A's TPR measured on the *test* split. Take the "
                            "target from the calibration split too: the test split must stay "
                            "untouched by every choice, including the target.")
        if close(t, _q5_values(target_from="all")[0]):
            raise Incorrect(f"{said} matches the TPR of all applicants at 0.5. The target is group "
                            "A's TPR at 0.5 (equal opportunity with the group that keeps 0.5).")
        if close(t, 0.5):
            raise Incorrect(f"{said}: that is the default threshold. Use `tpr_matching_threshold` on "
                            "group B's calibration rows.")
        raise Incorrect(f"{said} is not the largest GRID threshold at which group B's calibration "
                        "TPR reaches group A's calibration TPR at 0.5.")
    g = as_float(tpr_gap_after, "tpr_gap_after")
    if close(g, gap_ref, rtol=0, atol=tol):
        return
    said = f"`tpr_gap_after` = {g:.4g}"
    if g < 0:
        raise Incorrect(f"{said} is negative: report the absolute gap.")
    d = _lending()
    calib_gap = abs(_tpr_at(d.p_calib[d.g_calib == "A"], d.y_calib[d.g_calib == "A"], 0.5)
                    - _tpr_at(d.p_calib[d.g_calib == "B"], d.y_calib[d.g_calib == "B"], t_ref))
    if close(g, calib_gap, rtol=0, atol=1e-6):
        raise Incorrect(f"{said} is measured on the calibration split, where the threshold was "
                        "tuned. Report it on the test split.")
    raise Incorrect(f"{said} is not |TPR of A at 0.5 - TPR of B at threshold_B| on the test split.")


@key_for(m12.q5)
class TprMatchingThreshold(Question):
    def references(self):
        t_b, gap = _q5_values()
        return {"tpr_matching_threshold": lambda p, y, target_tpr, grid: _ref_matching(
                    p, y, target_tpr, grid),
                "threshold_B": t_b, "tpr_gap_after": gap}

    def verify(self, tpr_matching_threshold, threshold_B, tpr_gap_after):
        grid = np.array(_Q5_GRID)
        for p, y, target in _Q5_CASES:
            p, y = np.array(p), np.array(y)
            where = f"For p={_lst(p)}, y={_lst(y)}, target_tpr={target}, grid={_lst(grid)}"
            _q5_function(tpr_matching_threshold, p, y, target, grid, where)
        _q5_variables(threshold_B, tpr_gap_after, 1e-6)

    def verify_hidden(self, seed, tpr_matching_threshold, threshold_B, tpr_gap_after):
        rng = np.random.default_rng(seed)
        for k in range(6):
            n = int(rng.integers(30, 80))
            y = (rng.random(n) < 0.5).astype(int)
            y[:2] = (1, 0)
            p = np.clip(np.round(rng.normal(0.35 + 0.3 * y, 0.2), 2), 0.0, 1.0)
            grid = np.round(np.arange(0.1, 0.91, rng.choice([0.05, 0.1])), 2)
            target = float(np.round(rng.uniform(0.5, 0.95), 3))
            if k % 2:  # every other case: the target is a TPR that the grid achieves exactly
                tprs = [_tpr_at(p, y, t) for t in grid]
                target = float(tprs[int(rng.integers(1, len(grid) - 1))])
            where = f"On a fresh random case (n={n}, target_tpr={target})"
            _q5_function(tpr_matching_threshold, p, y, target, grid, where)
        unrounded(lambda tol: _q5_variables(threshold_B, tpr_gap_after, tol), 1e-6, 1e-9,
                  "`tpr_gap_after` is close to the right value but not equal to it: compute it in "
                  "code, and do not round it.")


q1, q2, q3, q4, q5 = GroupRates, FairnessGaps, ForcedFpr, GapByFeature, TprMatchingThreshold
QUESTIONS = {q.label: q for q in (q1, q2, q3, q4, q5)}
