"""The answer key of assignment 13, "Documentation and reproducibility": instructor-only, never
released.

``grader release`` and ``nbgrader generate_assignment`` skip this file (``nbgrader_config.py``
ignores ``key.py``). It holds the reference computations, the diagnosis of every check
(``verify``, ``verify_hidden``, ``verify_graded``) and each question's ``references()``; the
grader loads it outside the student's kernel (:mod:`grader.judging`, ``docs/authoring.md``).

The data are the notebook's: ``make_readmission`` without its leaky column, a gradient-boosting
classifier with ``subsample=0.8`` (so the model draws random numbers too), and an age band as
the factor a model card disaggregates by. Sources: Mitchell et al. (2019) for the model card's
sections; pandas' ``hash_pandas_object`` for the row hashes; shap's ``TreeExplainer`` for the
interventional base value (the mean model output in log-odds over the background rows).
"""

from __future__ import annotations

import copy
import functools
import hashlib
from types import SimpleNamespace

import numpy as np
import pandas as pd
from sklearn.ensemble import GradientBoostingClassifier
from sklearn.model_selection import train_test_split

from grader.checks import m13
from grader.checks.core import Incorrect, Question, call, key_for, unrounded
from grader.checks.m13 import CARD_PROBLEMS, METRIC_KEYS, SECTIONS
from grader.checks.values import allclose, as_array, as_dict, as_float, as_int, as_str, close, show
from grader.datasets import make_readmission

__all__ = ["QUESTIONS"]

_SEED = 2024                       # the notebook's SEED: the model its card documents
_CARD_BACKGROUND = (7, 100)        # the notebook's CARD_BACKGROUND: seed and size


# --- the notebook's data and model, rebuilt from seeds (cached) ------------------------------------
@functools.lru_cache(maxsize=1)
def _hospital_data() -> tuple[pd.DataFrame, pd.Series]:
    X, y = make_readmission(n=1200, seed=13)
    return X.drop(columns="followup_billing"), y


@functools.lru_cache(maxsize=32)
def _fit(split_seed, model_seed, global_seed=None) -> SimpleNamespace:
    """Split 70/30 (stratified) and fit the notebook's model; ``global_seed`` seeds NumPy's
    global stream first and leaves the steps unseeded (the "np.random.seed" habit)."""
    X, y = _hospital_data()
    state = np.random.get_state()
    try:
        if global_seed is not None:
            np.random.seed(global_seed)
        X_tr, X_te, y_tr, _ = train_test_split(X, y, test_size=0.3, stratify=y,
                                               random_state=split_seed)
        model = GradientBoostingClassifier(n_estimators=40, max_depth=2, subsample=0.8,
                                           random_state=model_seed).fit(X_tr, y_tr)
    finally:
        np.random.set_state(state)
    return SimpleNamespace(index=X_te.index.to_numpy(), p=model.predict_proba(X_te)[:, 1],
                           model=model, X_train=X_tr)


def _ref_train(seed: int) -> tuple[np.ndarray, np.ndarray]:
    run = _fit(int(seed), int(seed))
    return run.index.copy(), run.p.copy()


# --- small helpers -------------------------------------------------------------------------------
def _lst(a) -> str:
    vals = [str(v) if isinstance(v, str) else f"{v:g}" for v in list(np.asarray(a).ravel())[:16]]
    return "[" + ", ".join(vals) + (", ..." if np.asarray(a).size > 16 else "") + "]"


# =================================================================================================
# q1: train reproducibly
# =================================================================================================
_Q1_SEEDS = (3, 11)


def _q1_values(func, seed: int) -> tuple[np.ndarray, np.ndarray]:
    got = call(func, "train_reproducibly", seed)
    if type(got) not in (tuple, list) or len(got) != 2:
        raise Incorrect(f"`train_reproducibly({seed})` should return a tuple (test_index, p_test), "
                        f"but it returned {show(got)}.")
    n = _fit(seed, seed).index.size
    idx = as_array(got[0], f"train_reproducibly({seed})[0] (test_index)", shape=(n,))
    p = as_array(got[1], f"train_reproducibly({seed})[1] (p_test)", shape=(n,))
    return idx, p


def _q1_diagnose(seed: int, idx, p, earlier: dict) -> None:
    ref_idx, ref_p = _ref_train(seed)
    if np.array_equal(idx, ref_idx) and allclose(p, ref_p, rtol=0, atol=1e-9):
        return
    said = f"`train_reproducibly({seed})`"
    for other, (idx2, p2) in earlier.items():
        if other != seed and np.array_equal(idx, idx2) and np.array_equal(p, p2):
            raise Incorrect(f"{said} returned exactly what `train_reproducibly({other})` returned: "
                            "the function ignores its seed (a fixed random_state?). Every random "
                            "step must take `seed` itself.")
    glob = _fit(None, None, global_seed=seed)
    if np.array_equal(idx, glob.index) and allclose(p, glob.p, rtol=0, atol=1e-9):
        raise Incorrect(f"{said} draws every step from one stream seeded once (`np.random.seed(seed)`"
                        ", or one `RandomState(seed)` shared by the steps): the model's draws then "
                        "depend on how many numbers the steps before it took, and NumPy's global "
                        "stream moves with any other code. Pass `random_state=seed` itself to each "
                        "random step.")
    if not np.array_equal(idx, ref_idx):
        if np.array_equal(np.sort(idx), np.sort(ref_idx)):
            raise Incorrect(f"{said} returned the right test rows in another order: keep the order "
                            "of `X_test` (its index), with p_test in the same order.")
        raise Incorrect(f"{said} returned other test rows than a split seeded by `seed`: the "
                        "train/test split is a random step, so it needs `random_state=seed` (and "
                        "`stratify=y`, `test_size=0.3`).")
    if np.any((p < 0) | (p > 1)):
        raise Incorrect(f"{said}: p_test ({show(p)}) is not a probability; use `predict_proba` "
                        "(column 1, readmitted).")
    if allclose(p, 1 - ref_p, rtol=0, atol=1e-9):
        raise Incorrect(f"{said}: p_test is the probability of class 0; take column 1 "
                        "(readmitted) of `predict_proba`.")
    raise Incorrect(f"{said}: the test rows are right but p_test ({show(p)}) is not what a model "
                    "seeded by `seed` predicts. `subsample=0.8` makes each tree draw random rows: "
                    "the model is a random step too, and needs `random_state=seed`.")


def _q1_check(func, seeds) -> None:
    results = {seed: _q1_values(func, seed) for seed in seeds}
    for seed, (idx, p) in results.items():
        _q1_diagnose(seed, idx, p, results)


@key_for(m13.q1)
class TrainReproducibly(Question):
    def references(self):
        return {"train_reproducibly": lambda seed: _ref_train(seed)}

    def verify(self, train_reproducibly):
        _q1_check(train_reproducibly, _Q1_SEEDS)

    def verify_hidden(self, seed, train_reproducibly):
        rng = np.random.default_rng(seed)
        _q1_check(train_reproducibly, [int(s) for s in rng.choice(np.arange(20, 5000), 2, replace=False)])


# =================================================================================================
# q2: a data fingerprint
# =================================================================================================
def _ref_fingerprint(X: pd.DataFrame, y: pd.Series, *, mistake: str = "") -> str:
    frame = X if mistake == "features" else (
        pd.concat([y, X], axis=1) if mistake == "order" else pd.concat([X, y], axis=1))
    if mistake == "csv":
        return hashlib.sha256(frame.to_csv().encode()).hexdigest()
    if mistake == "values":
        return hashlib.sha256(frame.to_numpy().tobytes()).hexdigest()
    rows = pd.util.hash_pandas_object(frame, index=mistake != "no_index").to_numpy()
    digest = hashlib.md5 if mistake == "md5" else hashlib.sha256
    return digest(rows.tobytes()).hexdigest()


_Q2_MISTAKES = (
    ("features", "hashes the features only: the labels are part of the data the model was fitted "
     "on, and a relabelled row must change the fingerprint"),
    ("no_index", "leaves the row labels out (`index=False`): the same values under other row "
     "labels would get the same fingerprint, yet the split picks rows by label"),
    ("order", "puts the label column first; the prompt fixes the order: the features, then `y`"),
    ("csv", "hashes the CSV text of the table; the prompt asks for the bytes of pandas' row hashes, "
     "which do not depend on how numbers are printed"),
    ("values", "hashes the raw values (`to_numpy().tobytes()`): the row labels and column types are "
     "lost"),
)


def _q2_case_a() -> tuple[pd.DataFrame, pd.Series]:
    X, y = _hospital_data()
    rows = [41, 7, 1103, 18, 560]
    return X.loc[rows].copy(), y.loc[rows].copy()


def _q2_case_b() -> tuple[pd.DataFrame, pd.Series]:
    X = pd.DataFrame({"dose": [2.5, 0.0, 1.25], "visits": [3, 1, 4]}, index=[10, 12, 11])
    return X, pd.Series([1, 0, 0], index=[10, 12, 11], name="readmitted")


def _q2_function(func, X, y, where: str) -> None:
    got = as_str(call(func, "data_fingerprint", X.copy(), y.copy()), "data_fingerprint(...)")
    ref = _ref_fingerprint(X, y)
    if got == ref:
        return
    said = f"{where}, `data_fingerprint` returned {show(got)}"
    if len(got) == 32 and got == _ref_fingerprint(X, y, mistake="md5"):
        raise Incorrect(f"{said}: an MD5 digest (32 characters). Use SHA-256 (64 hex characters): "
                        "MD5 collisions can be made on purpose.")
    for mistake, text in _Q2_MISTAKES:
        if got == _ref_fingerprint(X, y, mistake=mistake):
            raise Incorrect(f"{said}: it {text}.")
    if len(got) != 64 or any(c not in "0123456789abcdef" for c in got):
        raise Incorrect(f"{said}, which is not a SHA-256 hex digest (64 lowercase hex characters): "
                        "use `.hexdigest()`.")
    raise Incorrect(f"{said}, which is not the SHA-256 of the row hashes of the features and `y` "
                    "side by side, row labels included.")


def _q2_variable(fingerprint) -> None:
    X, y = _hospital_data()
    got = as_str(fingerprint, "fingerprint")
    if got == _ref_fingerprint(X, y):
        return
    run = _fit(_SEED, _SEED)
    if got == _ref_fingerprint(run.X_train, y.loc[run.X_train.index]):
        raise Incorrect("`fingerprint` is the fingerprint of the training split only. The card "
                        "documents the whole data set the splits were drawn from: `X` and `y`.")
    raise Incorrect(f"`fingerprint` ({show(got)}) is not `data_fingerprint(X, y)` of the setup's "
                    "data. Recompute it after your function passes.")


@key_for(m13.q2)
class DataFingerprint(Question):
    def references(self):
        X, y = _hospital_data()
        return {"data_fingerprint": lambda X, y: _ref_fingerprint(X, y),
                "fingerprint": _ref_fingerprint(X, y)}

    def verify(self, data_fingerprint, fingerprint):
        for name, (X, y) in (("the 5 rows 41, 7, 1103, 18, 560 of X, y", _q2_case_a()),
                             ("the 3-row example of the prompt", _q2_case_b())):
            _q2_function(data_fingerprint, X, y, f"For {name}")
        _q2_variable(fingerprint)

    def verify_hidden(self, seed, data_fingerprint, fingerprint):
        rng = np.random.default_rng(seed)
        for k in range(4):
            n = int(rng.integers(4, 30))
            index = rng.permutation(np.arange(1000, 1000 + 3 * n))[:n]
            X = pd.DataFrame({"a": np.round(rng.normal(0, 5, n), 3),
                              "b": rng.integers(0, 9, n), "c": np.round(rng.random(n), 4)},
                             index=index)
            y = pd.Series((rng.random(n) < 0.4).astype(int), index=index, name=f"target{k}")
            _q2_function(data_fingerprint, X, y, f"On a fresh random table ({n} rows)")
        _q2_variable(fingerprint)


# =================================================================================================
# q3: the card's numbers
# =================================================================================================
def _auc(scores: np.ndarray, y: np.ndarray) -> float:
    pos, neg = scores[y == 1], scores[y == 0]
    diff = pos[:, None] - neg[None, :]
    return float((np.sum(diff > 0) + 0.5 * np.sum(diff == 0)) / (pos.size * neg.size))


def _card_entry(y: np.ndarray, p: np.ndarray, t: float, mistake: str = "") -> dict:
    flags = p > t if mistake == "strict" else p >= t
    return {"n": int(y.size),
            "auc": _auc(flags.astype(float) if mistake == "flags" else p, y),
            "recall": float(np.mean(flags[y == 1])),
            "flag_rate": float(np.mean(y == 1)) if mistake == "base_rate" else float(np.mean(flags))}


def _ref_card_metrics(y, p, group, threshold, *, mistake: str = "") -> dict:
    y, p, group = np.asarray(y), np.asarray(p, dtype=float), np.asarray(group)
    out = {"overall": _card_entry(y, p, threshold, mistake)}
    for g in sorted(set(group.tolist())):
        m = np.ones(y.size, bool) if mistake == "pooled" else group == g
        out[str(g)] = _card_entry(y[m], p[m], threshold, mistake)
    return out


_Q3_CASE = (
    [1, 0, 1, 1, 0, 0, 0, 1, 0, 1, 0, 0, 1, 0],
    [0.81, 0.3, 0.3, 0.45, 0.62, 0.12, 0.3, 0.28, 0.05, 0.91, 0.44, 0.2, 0.55, 0.35],
    ["65+"] * 6 + ["under 65"] * 8,
    0.3,
)
_Q3_MISTAKES = (
    ("pooled", "every group's entry has the overall numbers: compute each group's numbers from "
     "its own rows"),
    ("strict", "a patient is flagged only when p > threshold; the rule is p >= threshold (scores "
     "equal to the threshold are flagged)"),
    ("flags", "the AUC is computed from the 0/1 flags; it ranks the *scores* p across every "
     "threshold"),
    ("base_rate", "`flag_rate` is the share readmitted (the base rate, from `y_true`); it is the "
     "share the model flags"),
)


def _q3_values(func, y, p, group, t, where: str) -> dict:
    got = as_dict(call(func, "card_metrics", y.copy(), p.copy(), group.copy(), t), "card_metrics(...)")
    want = ["overall", *sorted(set(group.tolist()))]
    # NumPy string labels (the keys of a loop over np.unique(group)) count as the labels
    got = {(str(k.item()) if type(k) is np.str_ else k): v for k, v in got.items()}
    keys = [k for k in got if type(k) is str]
    if keys == ["overall"] or (set(keys) == {"overall"} and len(got) == 1):
        raise Incorrect(f"{where}, `card_metrics` reports only the overall numbers: a model card "
                        "disaggregates them, with one entry per group as well (overall-only "
                        "reporting hides a group the model serves badly).")
    if sorted(keys) != sorted(want) or len(got) != len(want):
        raise Incorrect(f"{where}, `card_metrics` returned a dict with keys "
                        f"{', '.join(sorted(show(k) for k in got))}; it needs \"overall\" and one key "
                        "per group label.")
    out = {}
    for e in want:
        row = as_dict(got[e], f'card_metrics(...)["{e}"]')
        if sorted(k for k in row if type(k) is str) != sorted(METRIC_KEYS) or len(row) != 4:
            raise Incorrect(f'{where}, `card_metrics(...)["{e}"]` has keys '
                            f"{', '.join(sorted(show(k) for k in row))}; it needs exactly "
                            f"{', '.join(METRIC_KEYS)}.")
        out[e] = {"n": as_int(row["n"], f'card_metrics(...)["{e}"]["n"]')}
        for k in METRIC_KEYS[1:]:
            out[e][k] = as_float(row[k], f'card_metrics(...)["{e}"]["{k}"]')
    return out


def _same_card(a: dict, b: dict) -> bool:
    return all(a[e]["n"] == b[e]["n"] and all(close(a[e][k], b[e][k]) for k in METRIC_KEYS[1:])
               for e in b)


def _q3_diagnose(got: dict, y, p, group, t, where: str) -> None:
    ref = _ref_card_metrics(y, p, group, t)
    if _same_card(got, ref):
        return
    for mistake, text in _Q3_MISTAKES:
        if _same_card(got, _ref_card_metrics(y, p, group, t, mistake=mistake)):
            raise Incorrect(f"{where}: {text}.")
    for e in ref:
        for k in METRIC_KEYS:
            if not close(got[e][k], ref[e][k]):
                raise Incorrect(f'{where}, `card_metrics(...)["{e}"]["{k}"]` = {got[e][k]:.4g}, '
                                f"which is not that entry's {k.replace('_', ' ')}.")


def _q3_random(rng) -> tuple:
    while True:
        n = int(rng.integers(30, 90))
        labels = np.array(rng.choice(["18-44", "45-64", "65+", "under 65", "F", "M"], 2, replace=False))
        group = labels[(rng.random(n) < 0.45).astype(int)]
        y = (rng.random(n) < 0.4).astype(int)
        p = np.clip(np.round(rng.normal(0.3 + 0.25 * y, 0.18), 2), 0, 1)
        t = float(rng.choice([0.3, 0.35, 0.4, 0.5]))
        if all(len(set(y[group == g].tolist())) == 2 for g in labels):
            return y, p, group, t


@key_for(m13.q3)
class CardMetrics(Question):
    def references(self):
        return {"card_metrics": lambda y_true, p, group, threshold: _ref_card_metrics(
            y_true, p, group, threshold)}

    def verify(self, card_metrics):
        y, p, group, t = (np.array(v) if isinstance(v, list) else v for v in _Q3_CASE)
        where = f"For y_true={_lst(y)}, p={_lst(p)}, group={_lst(group)}, threshold={t}"
        _q3_diagnose(_q3_values(card_metrics, y, p, group, t, where), y, p, group, t, where)

    def verify_hidden(self, seed, card_metrics):
        rng = np.random.default_rng(seed)
        for _ in range(5):
            y, p, group, t = _q3_random(rng)
            where = f"On a fresh random case (n={y.size}, threshold={t})"
            _q3_diagnose(_q3_values(card_metrics, y, p, group, t, where), y, p, group, t, where)


# =================================================================================================
# q4: a card checker
# =================================================================================================
def _ref_problems(card: dict, y, p, group, *, mistake: str = "") -> list[str]:
    found = set()
    present = (lambda s: s in card) if mistake == "present" else (lambda s: bool(card.get(s)))
    if not all(present(s) for s in SECTIONS):
        found.add("missing_section")
    use = card.get("intended_use")
    if mistake == "oos_key":
        if not (isinstance(use, dict) and "out_of_scope" in use):
            found.add("no_out_of_scope")
    elif not (isinstance(use, dict) and use.get("out_of_scope")):
        found.add("no_out_of_scope")
    split = card["evaluation_data"].get("split")
    if (split == "train") if mistake == "train_only" else (split != "test"):
        found.add("wrong_split")
    qa = card["quantitative_analyses"]
    results = qa["results"]
    truth = _ref_card_metrics(y, p, group, 0.3 if mistake == "fixed_threshold" else qa["threshold"])
    if mistake == "count_entries":
        if len(results) < 2:
            found.add("not_disaggregated")
    elif mistake == "groups_only":
        if any(e not in results for e in truth if e != "overall"):
            found.add("not_disaggregated")
    elif mistake != "no_groups" and any(e not in results for e in truth):
        found.add("not_disaggregated")
    tol = 1e-12 if mistake == "exact" else 1e-3
    entries = ["overall"] if mistake == "overall_only" else list(results)
    keys = METRIC_KEYS[1:] if mistake == "rates_only" else METRIC_KEYS
    for e in entries:
        if e in results and any(abs(results[e][k] - truth[e][k]) > tol for k in keys):
            found.add("stale_numbers")
    return sorted(found)


def _rounded(metrics: dict) -> dict:
    return {e: {k: (v if k == "n" else round(v, 3)) for k, v in row.items()}
            for e, row in metrics.items()}


def _card(y, p, group, t, **changes) -> dict:
    """A complete card for the data (numbers rounded to 3 decimals), with ``changes`` applied."""
    card = {
        "model_details": {"model": "gradient boosting, 40 trees of depth 2", "version": "2.1"},
        "intended_use": {"primary": "flag patients for a follow-up call after discharge",
                         "out_of_scope": ["deciding treatment", "any other hospital"]},
        "factors": ["age band"],
        "metrics": ["AUC", "recall at the threshold", "flag rate"],
        "evaluation_data": {"split": "test", "rows": int(len(y))},
        "training_data": {"split": "train"},
        "quantitative_analyses": {"threshold": t, "results": _rounded(_ref_card_metrics(y, p, group, t))},
        "ethical_considerations": "older patients are flagged more often; review quarterly",
        "caveats": "one hospital's records; recalibrate before use elsewhere",
    }
    for key, value in changes.items():
        section, _, field = key.partition("__")
        if field:
            card[section] = {**card[section], field: value}
        elif value is None:
            card.pop(section)
        else:
            card[section] = value
    return card


def _stale(card: dict, entry: str, key: str, delta: float) -> dict:
    results = {e: dict(r) for e, r in card["quantitative_analyses"]["results"].items()}
    results[entry][key] = round(results[entry][key] + delta, 3) if key != "n" else results[entry][key] + delta
    return {**card, "quantitative_analyses": {**card["quantitative_analyses"], "results": results}}


def _with_results(card: dict, results: dict) -> dict:
    return {**card, "quantitative_analyses": {**card["quantitative_analyses"], "results": results}}


def _q4_cards(y, p, group, t) -> list[tuple[str, dict]]:
    full = _card(y, p, group, t)
    only = {"overall": full["quantitative_analyses"]["results"]["overall"]}
    g = sorted(set(np.asarray(group).tolist()))[-1]
    truth = _ref_card_metrics(y, p, group, t)
    t_other = round(t + 0.1, 2)
    cut = {e: {k: (v if k == "n" else np.floor(v * 1000 + 1e-9) / 1000)
               for k, v in row.items()}
           for e, row in truth.items()}  # 3 decimals, cut instead of rounded: within 0.001
    return [
        ("a card whose numbers are rounded to 3 decimals", full),
        ("a card with an empty 'caveats' section and no out-of-scope uses",
         _card(y, p, group, t, caveats="", intended_use__out_of_scope=[])),
        ("a card evaluated on the 'validation' split",
         _card(y, p, group, t, evaluation_data__split="validation")),
        ("a card that reports the overall entry only",
         {**full, "quantitative_analyses": {"threshold": t, "results": only}}),
        (f"a card whose '{g}' recall was not updated", _stale(full, g, "recall", 0.05)),
        ("a card whose numbers are cut (not rounded) to 3 decimals", _with_results(full, cut)),
        (f"a card made at the threshold {t_other:g}", _card(y, p, group, t_other)),
        (f"a card that leaves out the '{g}' entry",
         _with_results(full, {e: r for e, r in full["quantitative_analyses"]["results"].items()
                              if e != g})),
        ("a card without the 'overall' entry",
         _with_results(full, {e: r for e, r in full["quantitative_analyses"]["results"].items()
                              if e != "overall"})),
        ("a card whose overall n is from an older data set, and without 'intended_use'",
         _stale(_card(y, p, group, t, intended_use=None), "overall", "n", 40)),
        ("a card without 'factors', evaluated on 'train'",
         _stale(_card(y, p, group, t, factors=None, evaluation_data__split="train"),
                "overall", "auc", -0.04)),
    ]


_Q4_MISTAKES = (
    ("fixed_threshold", "recomputes the numbers at 0.3 whatever the card says; recompute them at "
     "the card's own threshold (`card[\"quantitative_analyses\"][\"threshold\"]`)"),
    ("exact", "compares the numbers exactly: a card rounds them (to 3 decimals here), so compare "
     "within 0.001"),
    ("present", "counts a section that is present but empty as present; an empty section is "
     "missing"),
    ("train_only", "only flags the 'train' split; a card must report the held-out *test* split, so "
     "any other split is wrong"),
    ("groups_only", "checks the groups' entries but not \"overall\": a card must report the "
     "overall numbers too, next to each group's"),
    ("count_entries", "counts the entries of `results` instead of checking that \"overall\" and "
     "*every* group have one: a card that leaves out one group is not disaggregated"),
    ("no_groups", "does not check that \"overall\" and every group have an entry: a card that "
     "reports only overall numbers, or leaves out a group, is not disaggregated"),
    ("overall_only", "only recomputes the overall entry; every entry the card reports must match "
     "its recomputed numbers, the groups' too"),
    ("oos_key", "counts an empty `out_of_scope` list as stated out-of-scope uses; the rule needs a "
     "non-empty list"),
    ("rates_only", "does not compare `n`: a count that differs from the data is a stale number "
     "too (the card then describes other data)"),
)


def _q4_value(func, card, y, p, group, where: str) -> list[str]:
    got = call(func, "card_problems", copy.deepcopy(card), y.copy(), p.copy(), group.copy())
    if type(got) not in (list, tuple):
        raise Incorrect(f"{where}, `card_problems` returned {show(got)}; it should return a sorted "
                        "list of problem codes (an empty list when the card checks out).")
    codes = [as_str(c, "card_problems(...)[i]") for c in got]
    unknown = [c for c in codes if c not in CARD_PROBLEMS]
    if unknown:
        raise Incorrect(f"{where}, `card_problems` returned the unknown code {unknown[0]!r}; use "
                        f"only {', '.join(CARD_PROBLEMS)}.")
    if codes != sorted(set(codes)):
        raise Incorrect(f"{where}, `card_problems` returned {codes}: return each code once, "
                        "sorted (`sorted(set_of_codes)`).")
    return codes


def _q4_check(func, y, p, group, t, label: str) -> None:
    for name, card in _q4_cards(y, p, group, t):
        where = f"{label}, for {name}"
        got = _q4_value(func, card, y, p, group, where)
        if got == _ref_problems(card, y, p, group):
            continue
        said = f"{where}, `card_problems` returned {got}"
        for mistake, text in _Q4_MISTAKES:
            if got == _ref_problems(card, y, p, group, mistake=mistake):
                raise Incorrect(f"{said}: it {text}.")
        raise Incorrect(f"{said}, which is not the set of problems of that card. Check each code's "
                        "rule in the prompt against this card.")


@key_for(m13.q4)
class CardProblems(Question):
    def references(self):
        return {"card_problems": lambda card, y_true, p, group: _ref_problems(card, y_true, p, group)}

    def verify(self, card_problems):
        y, p, group, t = (np.array(v) if isinstance(v, list) else v for v in _Q3_CASE)
        _q4_check(card_problems, y, p, group, t, "On q3's example data")

    def verify_hidden(self, seed, card_problems):
        rng = np.random.default_rng(seed)
        for _ in range(2):
            y, p, group, t = _q3_random(rng)
            _q4_check(card_problems, y, p, group, t, f"On fresh random data (n={y.size})")


# =================================================================================================
# q5: a stored background and its base value
# =================================================================================================
def _ref_rows(n_rows: int, seed: int, size: int, *, mistake: str = "") -> np.ndarray:
    if mistake == "legacy":
        state = np.random.get_state()
        np.random.seed(seed)
        rows = np.random.choice(n_rows, size=size, replace=False)
        np.random.set_state(state)
    elif mistake == "first":
        rows = np.arange(size)
    else:
        rng = np.random.default_rng(seed)
        rows = rng.choice(n_rows, size=size, replace=mistake == "replace")
    return rows if mistake == "unsorted" else np.sort(rows)


def _q5_function(func, n_rows: int, seed: int, size: int) -> None:
    where = f"For n_rows={n_rows}, seed={seed}, size={size}"
    got = as_array(call(func, "background_rows", n_rows, seed, size), "background_rows(...)",
                   shape=(size,))
    if np.array_equal(got, _ref_rows(n_rows, seed, size)):
        return
    said = f"{where}, `background_rows` returned {show(got)}"
    if np.array_equal(got, _ref_rows(n_rows, seed, size, mistake="unsorted")):
        raise Incorrect(f"{said}: the right rows, not sorted. Sort the positions (`np.sort`), so "
                        "that the stored list does not depend on the order of the draw.")
    if np.array_equal(got, _ref_rows(n_rows, seed, size, mistake="legacy")):
        raise Incorrect(f"{said}: drawn with `np.random.seed` and `np.random.choice` (NumPy's legacy "
                        "global stream). Use a generator of its own, `np.random.default_rng(seed)`, "
                        "as the prompt asks: it gives other numbers, and no other code can move it.")
    if np.array_equal(got, _ref_rows(n_rows, seed, size, mistake="replace")):
        raise Incorrect(f"{said}: drawn *with* replacement (the default of `Generator.choice`), "
                        "so a row can appear twice. Pass `replace=False`.")
    if np.array_equal(got, np.arange(size)):
        raise Incorrect(f"{said}: the first `size` rows. A background is a random sample, drawn "
                        "with the seed.")
    raise Incorrect(f"{said}, which are not the sorted positions that "
                    "`np.random.default_rng(seed)` draws without replacement.")


@functools.lru_cache(maxsize=1)
def _whole_background_base() -> float:
    """shap's base value with the whole training split as background (shap's own number: for a
    background this large it is not the plain mean of ``decision_function``)."""
    import warnings

    import shap

    run = _fit(_SEED, _SEED)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        explainer = shap.TreeExplainer(run.model, data=run.X_train,
                                       feature_perturbation="interventional")
    return float(np.ravel(explainer.expected_value)[0])


@functools.lru_cache(maxsize=1)
def _path_dependent_base() -> float:
    """shap's base value without a background (``feature_perturbation="tree_path_dependent"``):
    the trees' training cover decides it, not the stored rows."""
    import shap

    return float(np.ravel(shap.TreeExplainer(_fit(_SEED, _SEED).model).expected_value)[0])


def _q5_variable(base_value_card, tol: float) -> None:
    run = _fit(_SEED, _SEED)
    rows = _ref_rows(len(run.X_train), *_CARD_BACKGROUND)
    background = run.X_train.iloc[rows]
    ref = float(np.mean(run.model.decision_function(background)))
    v = as_float(base_value_card, "base_value_card")
    if close(v, ref, rtol=0, atol=tol):
        return
    said = f"`base_value_card` = {v:.4g}"
    if close(v, float(np.mean(run.model.predict_proba(background)[:, 1])), rtol=0, atol=1e-6):
        raise Incorrect(f"{said} is a mean probability. `TreeExplainer` explains a gradient-boosting "
                        "classifier in log-odds (`decision_function`), so its base value is in "
                        "log-odds; read it from the explainer's `expected_value`.")
    if close(v, float(np.mean(run.model.decision_function(run.X_train))), rtol=0, atol=1e-6) or close(
            v, _whole_background_base(), rtol=0, atol=1e-6):
        raise Incorrect(f"{said} uses the whole training split as background. The card stores a "
                        "100-row background: use exactly those rows.")
    if close(v, _path_dependent_base(), rtol=0, atol=1e-6):
        raise Incorrect(f"{said} comes from an explainer without background data (shap's "
                        "tree-path-dependent default): nobody can regenerate it from the card. Pass "
                        "`data=background` with `feature_perturbation=\"interventional\"`.")
    X, _ = _hospital_data()
    if close(v, float(np.mean(run.model.decision_function(X.iloc[rows]))), rtol=0, atol=1e-6):
        raise Incorrect(f"{said}: the positions were applied to the whole data set `X`. They are "
                        "positions in the *training* split (`X_train.iloc[rows]`).")
    raise Incorrect(f"{said} is not the base value of the model trained with SEED, explained "
                    "with the card's background rows.")


@key_for(m13.q5)
class BackgroundRows(Question):
    def references(self):
        run = _fit(_SEED, _SEED)
        rows = _ref_rows(len(run.X_train), *_CARD_BACKGROUND)
        return {"background_rows": lambda n_rows, seed, size: _ref_rows(n_rows, seed, size),
                "base_value_card": float(np.mean(run.model.decision_function(run.X_train.iloc[rows])))}

    def verify(self, background_rows, base_value_card):
        for n_rows, seed, size in ((40, 3, 8), (840, 7, 12)):
            _q5_function(background_rows, n_rows, seed, size)
        _q5_variable(base_value_card, 1e-6)

    def verify_hidden(self, seed, background_rows, base_value_card):
        rng = np.random.default_rng(seed)
        for _ in range(4):
            n_rows = int(rng.integers(30, 3000))
            _q5_function(background_rows, n_rows, int(rng.integers(0, 10_000)),
                         int(rng.integers(5, min(25, n_rows))))
        unrounded(lambda tol: _q5_variable(base_value_card, tol), 1e-6, 1e-9,
                  "`base_value_card` is close to the right value but not equal to it: read it from "
                  "the explainer (or compute it in code), and do not round it.")


q1, q2, q3, q4, q5 = TrainReproducibly, DataFingerprint, CardMetrics, CardProblems, BackgroundRows
QUESTIONS = {q.label: q for q in (q1, q2, q3, q4, q5)}
