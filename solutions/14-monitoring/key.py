"""The answer key of assignment 14, "Monitoring and validation": instructor-only, never released.

``grader release`` and ``nbgrader generate_assignment`` skip this file (``nbgrader_config.py``
ignores ``key.py``). It holds the reference computations, the diagnosis code of every check
(``verify``, ``verify_hidden``, ``verify_graded``) and each question's reference answers
(``references()``). The grader loads it outside the student's kernel (:mod:`grader.judging`);
see ``docs/authoring.md``.

The assignment's stream is :func:`grader.datasets.make_stream` with other change points, another
seed and a smaller covariate shift (0.6 standard deviations) than the lecture's, so the ground
truth is known: covariate drift of ``x0`` from batch 5, concept drift (``x1``'s coefficient flips)
from batch 10. Every designed case is asymmetric on purpose, so that each classic mistake gives
an answer different from the right one and can be named.

Formulas: PSI = sum_b (a_b - e_b) ln(a_b / e_b) over bins cut at the reference's quantiles
(Yurdakul, 2018); KS two-sample test with a Bonferroni correction over the features (q2
accepts Sidak's and Holm's corrections and the exact p-value too, deliberately: see
``_Q2_ACCEPTED``); the alarm line mean - k sd of bootstrapped AUCs (Efron and Tibshirani,
1993); cosine distance 1 - cos(u, v) of mean |SHAP| vectors (Lundberg and Lee, 2017).
"""

from __future__ import annotations

import functools
import math
from types import SimpleNamespace

import numpy as np
import pandas as pd
from scipy import stats
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score

from grader.checks import m14
from grader.checks.core import Incorrect, Question, call, key_for, unrounded
from grader.checks.values import as_dict, as_float, as_int, as_str, as_tuple, close, show
from grader.datasets import STREAM_FEATURES, make_stream

#: The key's questions, by label.
__all__ = ["QUESTIONS"]

FEATURES = list(STREAM_FEATURES)
LABELS = m14.LABELS


# --- the notebook's data and model, rebuilt from seeds (cached) ---------------------------------
@functools.lru_cache(maxsize=1)
def _stream() -> SimpleNamespace:
    """The setup cell: a 16-batch stream (400 rows each), a stable development sample, a model."""
    stream = make_stream(n_batches=16, batch_size=400, covariate_shift_at=5, concept_shift_at=10,
                         seed=14, covariate_shift=0.6)
    dev = make_stream(n_batches=5, batch_size=400, covariate_shift_at=None, concept_shift_at=None,
                      seed=41)
    train, reference = dev[dev["batch"] < 3], dev[dev["batch"] >= 3]
    model = LogisticRegression(solver="newton-cholesky").fit(train[FEATURES], train["y"])
    batches = [b for _, b in stream.groupby("batch")]
    score = lambda d: model.decision_function(d[FEATURES])  # noqa: E731
    auc = np.array([roc_auc_score(b["y"], score(b)) for b in batches])
    background = train[FEATURES].to_numpy().mean(axis=0)
    shap = lambda d: (d[FEATURES].to_numpy() - background) * model.coef_[0]  # noqa: E731
    return SimpleNamespace(
        train=train, reference=reference, batches=batches, model=model, auc=auc,
        y_ref=reference["y"].to_numpy(), s_ref=score(reference),
        y_train=train["y"].to_numpy(), s_train=score(train),
        psi_table=np.array([[_psi(reference[f], b[f]) for f in FEATURES] for b in batches]),
        # 120 rows of each, rounded to 4 decimals: the visible check's inputs stay small
        shap_ref=shap(reference)[:120].round(4), shap_new=shap(batches[12])[:120].round(4),
    )


def _lst(a) -> str:
    vals = [f"{v:.4g}" if isinstance(v, float) else str(v) for v in np.asarray(a).ravel()[:8]]
    return "[" + ", ".join(vals) + (", ..." if np.asarray(a).size > 8 else "") + "]"


# =================================================================================================
# q1: PSI
# =================================================================================================
def _psi(expected, actual, bins: int = 10, eps: float = 1e-6, *, edges_from: str = "expected",
         proportions: bool = True, log=np.log, kl: bool = False, drop_outside: bool = False,
         add_eps: bool = False) -> float:
    """PSI (natural log) and, through the keywords, what each classic mistake returns."""
    e_x, a_x = np.asarray(expected, dtype=float), np.asarray(actual, dtype=float)
    src = e_x if edges_from == "expected" else a_x
    inner = np.quantile(src, np.linspace(0, 1, bins + 1)[1:-1])

    def counts(x: np.ndarray) -> np.ndarray:
        if drop_outside:
            edges = np.concatenate([[src.min()], inner, [src.max()]])
            return np.histogram(x, bins=edges)[0].astype(float)
        return np.bincount(np.searchsorted(inner, x, side="right"), minlength=bins).astype(float)

    e, a = counts(e_x), counts(a_x)
    if proportions:
        e, a = e / e_x.size, a / a_x.size
    e, a = (e + eps, a + eps) if add_eps else (np.clip(e, eps, None), np.clip(a, eps, None))
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = a * log(a / e) if kl else (a - e) * log(a / e)
    return float(np.sum(terms))


def _q1_cases() -> list[tuple]:
    """(expected, actual, bins, eps): n - 1 shares no factor with bins, so no value sits on an edge."""
    r = np.random.default_rng(1401)
    return [
        (r.normal(0, 1, 300), r.normal(0.4, 1.3, 200), 10, 1e-6),
        # a concentrated new sample: most bins of `actual` are empty, so eps decides
        (r.normal(10, 2, 240), r.normal(14.5, 0.5, 120), 5, 1e-6),
        (r.exponential(3.0, 350), 1.25 * r.exponential(3.0, 150), 8, 1e-4),
    ]


def _q1_diagnose(got: float, e, a, bins: int, eps: float, where: str) -> None:
    ref = _psi(e, a, bins, eps)
    if close(got, ref):
        return
    said = f"{where}, `psi` returned {got:.6g}"
    if math.isinf(got) or math.isnan(got):
        raise Incorrect(
            f"{said}: not a finite number. A bin that is empty in one sample gives log(0) or a "
            "division by zero: clip each proportion to at least eps before taking the log."
        )
    if close(got, _psi(e, a, bins, eps, edges_from="actual")):
        raise Incorrect(
            f"{said}: the bin edges come from the new sample (`actual`). Cut the bins at the "
            "quantiles of the reference (`expected`), so that every batch is measured on the same "
            "yardstick."
        )
    if close(got, _psi(e, a, bins, eps, proportions=False)):
        raise Incorrect(
            f"{said}: that uses counts instead of proportions. Divide each bin's count by the size "
            "of its sample: the two samples need not have the same number of rows."
        )
    if close(got, _psi(e, a, bins, eps, log=np.log10)) or close(got, _psi(e, a, bins, eps, log=np.log2)):
        raise Incorrect(
            f"{said}: a logarithm in another base. PSI and its rules of thumb use the natural "
            "logarithm (`np.log`)."
        )
    if close(got, _psi(e, a, bins, eps, kl=True)):
        raise Incorrect(
            f"{said}: that is the Kullback-Leibler divergence sum a ln(a/e), which is not "
            "symmetric. PSI multiplies the log ratio by the *difference* of the proportions, "
            "(a - e) ln(a/e)."
        )
    if close(got, _psi(e, a, bins, eps, drop_outside=True)):
        raise Incorrect(
            f"{said}: values of `actual` outside the reference's range are dropped (np.histogram "
            "ignores values outside its first and last edge). The outer bins are open-ended: "
            "every value falls in some bin."
        )
    if close(got, _psi(e, a, bins, eps, add_eps=True)):
        raise Incorrect(
            f"{said}: eps is added to every proportion, which changes the bins that were not "
            "empty too. Clip each proportion to at least eps (np.clip(p, eps, None))."
        )
    raise Incorrect(f"{said}, which is not the PSI of `actual` against `expected`.")


def _q1_run(func, e, a, bins, eps, where) -> None:
    got = as_float(call(func, "psi", e.copy(), a.copy(), bins=bins, eps=eps), "psi(...)",
                   finite=False)
    _q1_diagnose(got, e, a, bins, eps, where)


@key_for(m14.q1)
class Psi(Question):
    def references(self):
        return {"psi": lambda expected, actual, bins=10, eps=1e-6: _psi(expected, actual, bins, eps)}

    def verify(self, psi):
        for k, (e, a, bins, eps) in enumerate(_q1_cases(), 1):
            where = (f"For test case {k} (expected: {e.size} values, actual: {a.size}, bins={bins}, "
                     f"eps={eps:g})")
            _q1_run(psi, e, a, bins, eps, where)

    def verify_hidden(self, seed, psi):
        rng = np.random.default_rng(seed)
        for _ in range(6):
            bins = int(rng.choice([4, 5, 8, 10, 20]))
            n_e = int(rng.integers(150, 500))
            while math.gcd(n_e - 1, bins) != 1:
                n_e += 1
            e = rng.normal(rng.uniform(-5, 5), rng.uniform(0.5, 3), n_e)
            shift, spread = rng.uniform(-1, 2), rng.uniform(0.3, 1.5)
            a = e.mean() + shift * e.std() + spread * e.std() * rng.standard_normal(int(rng.integers(60, 300)))
            eps = float(rng.choice([1e-6, 1e-4]))
            _q1_run(psi, e, a, bins, eps, f"On a fresh random case (bins={bins}, eps={eps:g})")


# =================================================================================================
# q2: drifted features (Bonferroni-corrected KS tests and an effect size)
# =================================================================================================
def _ks(reference: pd.DataFrame, batch: pd.DataFrame, method: str = "asymp"):
    res = [stats.ks_2samp(reference[c], batch[c], method=method) for c in reference.columns]
    return np.array([r.statistic for r in res]), np.array([r.pvalue for r in res])


def _rejected(p: np.ndarray, alpha: float, correction: str | None) -> np.ndarray:
    """Which p-values reject with family-wise error rate alpha: Bonferroni p < alpha / m; Sidak
    p < 1 - (1 - alpha)^(1/m); Holm's step-down (Holm, 1979); None: p < alpha, uncorrected."""
    m = p.size
    if correction is None:
        return p < alpha
    if correction == "bonferroni":
        return p < alpha / m
    if correction == "sidak":
        return p < 1.0 - (1.0 - alpha) ** (1.0 / m)
    out = np.zeros(m, dtype=bool)
    for k, j in enumerate(np.argsort(p, kind="stable")):  # holm
        if not p[j] < alpha / (m - k):
            break
        out[j] = True
    return out


def _drifted(reference, batch, alpha=0.05, min_d=0.15, *, correct=True, effect=True,
             test="ks", order="d", method="asymp", correction="bonferroni") -> list[str]:
    cols = list(reference.columns)
    if test == "t":
        p = np.array([stats.ttest_ind(reference[c], batch[c]).pvalue for c in cols])
        d, _ = _ks(reference, batch, method)
    else:
        d, p = _ks(reference, batch, method)
    reject = _rejected(p, alpha, correction if correct else None)
    keep = [j for j in range(len(cols)) if reject[j] and (d[j] >= min_d or not effect)]
    if order == "d":
        keep.sort(key=lambda j: -d[j])
    return [cols[j] for j in keep]


#: The answers q2 accepts, deliberately: the question asks for Bonferroni on the asymptotic
#: p-value, and the two other corrections that control the family-wise error rate (Sidak, and
#: Holm's step-down of the lecture) and scipy's exact p-value (its default for these sizes) are
#: right too. They differ from Bonferroni's list only near a limit; the check accepts any of them.
_Q2_ACCEPTED = tuple(dict(correction=c, method=m) for c in ("bonferroni", "sidak", "holm")
                     for m in ("asymp", "exact"))


def _q2_accepted(reference, batch, alpha, min_d) -> list[list[str]]:
    """The accepted lists (each KS test run once per method)."""
    cols, out = list(reference.columns), []
    for method in ("asymp", "exact"):
        d, p = _ks(reference, batch, method)
        for kw in _Q2_ACCEPTED:
            if kw["method"] == method:
                reject = _rejected(p, alpha, kw["correction"])
                keep = sorted((j for j in range(len(cols)) if reject[j] and d[j] >= min_d),
                              key=lambda j: -d[j])
                out.append([cols[j] for j in keep])
    return out


def _frame(cols: dict) -> pd.DataFrame:
    return pd.DataFrame(cols)


def _null_window_column(rng_seed: int, n_ref: int, n_new: int, lo: float, hi: float):
    """Two samples of one unchanged variable whose KS p-value (both methods) lies in (lo, hi)."""
    s = rng_seed
    while True:
        r = np.random.default_rng(s)
        x, y = r.normal(0, 1, n_ref), r.normal(0, 1, n_new)
        ps = [stats.ks_2samp(x, y, method=m).pvalue for m in ("asymp", "exact")]
        if all(lo < p < hi for p in ps):
            return x, y
        s += 1


def _q2_cases() -> list[tuple]:
    """(reference, batch, alpha, min_d), designed so that each mistake changes the answer."""
    r = np.random.default_rng(1402)
    n_ref, n_new = 600, 300
    quiet_ref, quiet_new = _null_window_column(2000, n_ref, n_new, 0.05 / 5 * 1.5, 0.04)
    ref1 = _frame({
        "income": r.normal(50, 10, n_ref), "age": r.normal(40, 12, n_ref),
        "tenure": quiet_ref * 3 + 6, "balance": r.normal(5, 2, n_ref), "visits": r.normal(3, 1, n_ref),
    })
    new1 = _frame({
        "income": r.normal(54, 10, n_new),              # a moderate mean shift (D about 0.16)
        "age": r.normal(40, 24, n_new),                 # same mean, twice the spread
        "tenure": quiet_new * 3 + 6,                    # unchanged; p between alpha/5 and alpha
        "balance": r.normal(5, 2, n_new),               # unchanged
        "visits": r.normal(4.2, 1, n_new),              # a large shift (strongest)
    })
    # Rounded like a report (and to keep the stored check small); no value sits on a tie that
    # changes a decision (the test file checks the designed answers).
    ref1, new1 = ref1.round(3), new1.round(3)
    n_big = 1500
    ref2 = _frame({"temp": r.normal(20, 4, n_big).round(1), "load": r.normal(0, 1, n_big).round(2)})
    new2 = _frame({"temp": r.normal(20.9, 4, n_big).round(1),   # significant, but a small effect
                   "load": r.normal(0, 1, n_big).round(2)})
    return [(ref1, new1, 0.05, 0.08), (ref2, new2, 0.05, 0.15)]


def _q2_value(func, reference, batch, alpha, min_d) -> list[str]:
    got = call(func, "drifted_features", reference.copy(), batch.copy(), alpha=alpha, min_d=min_d)
    if isinstance(got, (set, frozenset)):
        raise Incorrect(
            "`drifted_features` returned a set; return a list, ordered from the largest KS "
            "statistic D to the smallest."
        )
    if type(got) not in (list, tuple):
        raise Incorrect(
            f"`drifted_features` should return a list of column names, but it returned {show(got)}."
        )
    items = tuple(got)
    return [as_str(v, f"drifted_features(...)[{i}]") for i, v in enumerate(items)]


def _q2_diagnose(got: list[str], reference, batch, alpha, min_d, where: str) -> None:
    accepted = _q2_accepted(reference, batch, alpha, min_d)
    if got in accepted:
        return
    said = f"{where}, `drifted_features` returned {got}"
    if any(sorted(got) == sorted(ok) for ok in accepted):
        raise Incorrect(
            f"{said}: the right features in the wrong order. Order them by the KS statistic D, "
            "largest first, so the biggest change is read first."
        )

    def variants(**mistake) -> list[list[str]]:
        return [_drifted(reference, batch, alpha, min_d, method=m, **mistake)
                for m in ("asymp", "exact")]

    if got in variants(effect=False):
        raise Incorrect(
            f"{said}: a feature whose change is significant but small (D below min_d) is flagged. "
            "With many rows every tiny difference becomes significant; keep only features whose "
            "effect size D is at least min_d."
        )
    if got in variants(correct=False) + variants(correct=False, effect=False):
        raise Incorrect(
            f"{said}: no multiple-testing correction. With one test per feature, some unchanged "
            "feature passes p < alpha by chance; compare each p-value with alpha divided by the "
            "number of features (Bonferroni; Sidak's 1 - (1 - alpha)^(1/m) and Holm's step-down "
            "are accepted too)."
        )
    if got in variants(test="t") + variants(test="t", effect=False):
        raise Incorrect(
            f"{said}: a feature whose spread changed (same mean) is missing. That is what a t-test "
            "(a test of means) gives; the KS test compares whole distributions."
        )
    raise Incorrect(
        f"{said}, which is not the list of features whose corrected KS test rejects with "
        "D >= min_d (Bonferroni as asked; Sidak, Holm and the exact p-value are accepted too)."
    )


def _q2_column(rng: np.random.Generator, n_ref: int, n_new: int, accept, shifts=(0.0,),
               scale: float = 1.0, tries: int = 30):
    """A reference and a new sample of one feature (normal, the new one shifted and scaled) whose
    D and p-values (asymptotic and exact) pass ``accept(d, p_asymp, p_exact, ref, new)``; the first
    of ``tries`` draws x ``shifts`` that does (None if none does)."""
    for _ in range(tries):
        a, b = rng.normal(0, 1, n_ref), rng.normal(0, scale, n_new)
        for shift in shifts:
            r = stats.ks_2samp(a, b + shift, method="asymp")
            if not accept(r.statistic, r.pvalue, None, a, b + shift):
                continue
            exact = stats.ks_2samp(a, b + shift, method="exact").pvalue
            if accept(r.statistic, r.pvalue, exact, a, b + shift):
                return a, b + shift
    return None


def _q2_hidden_designed(rng: np.random.Generator) -> list[tuple]:
    """Two hidden cases designed so that every catalogued mistake changes the answer (under every
    accepted correction and p-value), on every seed; None if a draw failed (the caller falls back).

    Case 1 (3 to 6 features, alpha 0.05): a large shift, a doubled spread with an unchanged mean
    (the t-test cannot see it: its p-value is kept above alpha), a "border" shift whose p-value
    lies between 0.6 alpha and 0.9 alpha under both methods (flagged only without a correction:
    Bonferroni's, Sidak's and Holm's limits are all below alpha / 2 here), unchanged features with
    p above 2 alpha, and min_d just below the border's D. The larger D of the two flagged features
    comes later in the column order (returning columns in their order fails). Case 2: many rows,
    a significant shift whose D is below min_d (only a check without the effect size flags it).
    """
    alpha = 0.05
    m = int(rng.integers(4, 7))
    n_ref, n_new = int(rng.integers(300, 500)), int(rng.integers(150, 300))
    big = _q2_column(rng, n_ref, n_new, lambda d, pa, pe, a, b: pa < 1e-4 and d > 0.3,
                     shifts=(float(rng.uniform(0.7, 1.0)),))
    spread = _q2_column(
        rng, n_ref, n_new,
        lambda d, pa, pe, a, b: max(pa, pe or 0) < 1e-4 and stats.ttest_ind(a, b).pvalue > alpha,
        scale=float(rng.uniform(2.0, 2.5)))
    lo, hi = 0.6 * alpha, 0.9 * alpha
    border = _q2_column(rng, n_ref, n_new,
                        lambda d, pa, pe, a, b: lo < pa < hi and (pe is None or lo < pe < hi),
                        shifts=tuple(np.linspace(0.1, 0.45, 36)), tries=5)
    nulls = [_q2_column(rng, n_ref, n_new,
                        lambda d, pa, pe, a, b: min(pa, 1 if pe is None else pe) > 2 * alpha)
             for _ in range(m - 3)]
    if any(c is None for c in (big, spread, border, *nulls)):
        return []
    d = {k: stats.ks_2samp(*c, method="asymp").statistic for k, c in
         (("big", big), ("spread", spread), ("border", border))}
    min_d = math.floor(d["border"] * 100) / 100 - 0.01
    slots = sorted(rng.choice(m, size=2, replace=False))
    later, earlier = sorted(("big", "spread"), key=lambda k: -d[k])
    roles = dict(zip(slots, (earlier, later), strict=True))
    columns = {j: {"big": big, "spread": spread}[role] for j, role in roles.items()}
    rest = [border, *nulls]
    others = [j for j in range(m) if j not in roles]
    for j, pick in zip(others, rng.permutation(m - 2), strict=True):
        columns[j] = rest[pick]
    names = [f"f{j}" for j in range(m)]
    ref1 = _frame({names[j]: columns[j][0] for j in range(m)})
    new1 = _frame({names[j]: columns[j][1] for j in range(m)})

    m2 = int(rng.integers(2, 5))
    n = int(rng.integers(1000, 1400))
    small = _q2_column(rng, n, n,
                       lambda d, pa, pe, a, b: d < 0.15 and max(pa, pe or 0) < alpha / m2 / 100,
                       shifts=(float(rng.uniform(0.25, 0.32)),))
    nulls2 = [_q2_column(rng, n, n, lambda d, pa, pe, a, b: min(pa, 1 if pe is None else pe) > 0.2)
              for _ in range(m2 - 1)]
    if any(c is None for c in (small, *nulls2)):
        return []
    cols2 = [small, *nulls2]
    perm = rng.permutation(m2)
    ref2 = _frame({f"g{j}": cols2[perm[j]][0] for j in range(m2)})
    new2 = _frame({f"g{j}": cols2[perm[j]][1] for j in range(m2)})
    return [(ref1, new1, alpha, round(min_d, 2)), (ref2, new2, alpha, 0.15)]


@key_for(m14.q2)
class DriftedFeatures(Question):
    def references(self):
        return {"drifted_features": lambda reference, batch, alpha=0.05, min_d=0.15: _drifted(
            reference, batch, alpha, min_d)}

    def verify(self, drifted_features):
        for k, (ref, new, alpha, min_d) in enumerate(_q2_cases(), 1):
            where = (f"For test case {k} ({ref.shape[1]} features, {len(ref)} reference and "
                     f"{len(new)} new rows, alpha={alpha}, min_d={min_d})")
            _q2_diagnose(_q2_value(drifted_features, ref, new, alpha, min_d), ref, new, alpha,
                         min_d, where)

    def verify_hidden(self, seed, drifted_features):
        """Three random cases, then two designed ones that separate every catalogued mistake
        from every accepted answer (falling back to the visible cases if a draw fails)."""
        rng = np.random.default_rng(seed)
        cases = []
        for _ in range(3):
            p = int(rng.integers(3, 7))
            n_ref, n_new = int(rng.integers(200, 500)), int(rng.integers(100, 300))
            cols = [f"f{j}" for j in range(p)]
            ref = _frame({c: rng.normal(0, 1, n_ref) for c in cols})
            new = _frame({c: rng.normal(0, 1, n_new) for c in cols})
            for c in rng.choice(cols, size=int(rng.integers(1, p)), replace=False):
                if rng.random() < 0.5:
                    new[c] = new[c] + rng.uniform(0.1, 1.0)
                else:
                    new[c] = new[c] * rng.uniform(1.3, 2.5)
            alpha, min_d = float(rng.choice([0.01, 0.05])), float(rng.choice([0.1, 0.15, 0.2]))
            cases.append((ref, new, alpha, min_d))
        cases += _q2_hidden_designed(rng) or _q2_cases()
        for ref, new, alpha, min_d in cases:
            got = _q2_value(drifted_features, ref, new, alpha, min_d)
            where = (f"On a fresh random case ({ref.shape[1]} features, alpha={alpha}, "
                     f"min_d={min_d})")
            _q2_diagnose(got, ref, new, alpha, min_d, where)


# =================================================================================================
# q3: the bootstrap alarm line, and the first alarm on the stream
# =================================================================================================
def _auc(y: np.ndarray, s: np.ndarray) -> float:
    """ROC-AUC as the Mann-Whitney statistic from ranks (ties count 1/2): roc_auc_score's value."""
    r = stats.rankdata(s)
    pos = y == 1
    n1 = int(pos.sum())
    return float((r[pos].sum() - n1 * (n1 + 1) / 2) / (n1 * (y.size - n1)))


def _line(y, s, size, reps=200, seed=0, k=3.0, **mistake) -> float:
    """The alarm line (cached for the stream's fixed arrays, which are hashed by content)."""
    y, s = np.asarray(y), np.asarray(s, dtype=float)
    key = (y.tobytes(), s.tobytes(), size, reps, seed, k, tuple(sorted(mistake.items())))
    if key not in _LINES:
        _LINES[key] = _line_uncached(y, s, size, reps, seed, k, **mistake)
    return _LINES[key]


_LINES: dict = {}


def _line_uncached(y, s, size, reps=200, seed=0, k=3.0, *, se=False, replace=True, sign=-1.0,
                   full=False) -> float:
    """mean + sign * k * sd of the AUCs of `reps` resampled batches (the reference, and mistakes)."""
    y, s = np.asarray(y), np.asarray(s, dtype=float)
    rng = np.random.default_rng(seed)
    size = y.size if full else size
    aucs = []
    for _ in range(reps):
        idx = rng.integers(0, y.size, size) if replace else rng.choice(y.size, size, replace=False)
        aucs.append(_auc(y[idx], s[idx]))
    sd = float(np.std(aucs)) / (math.sqrt(reps) if se else 1.0)
    return float(np.mean(aucs) + sign * k * sd)


def _first_alarm(auc: np.ndarray, line: float) -> int:
    below = np.flatnonzero(auc < line)
    return int(below[0]) if below.size else -1


def _q3_cases() -> list[tuple]:
    r = np.random.default_rng(1403)
    out = []
    for n, size, reps, seed, k in ((300, 120, 60, 3, 3.0), (250, 80, 40, 11, 2.0)):
        y = (r.random(n) < 0.4).astype(int)
        s = r.normal(0, 1, n) + 1.4 * y
        out.append((y, s, size, reps, seed, k))
    return out


def _q3_diagnose(got: float, y, s, size, reps, seed, k, where: str) -> None:
    if close(got, _line(y, s, size, reps, seed, k)):
        return
    said = f"{where}, `alarm_line` returned {got:.6g}"
    v = functools.partial(_line, y, s, size, reps, seed, k)
    if close(got, v(se=True)):
        raise Incorrect(
            f"{said}: the band uses the standard error of the *mean* AUC (sd / sqrt(reps)). The "
            "alarm asks how far one batch's AUC can fall by chance: use the standard deviation of "
            "the bootstrapped AUCs themselves."
        )
    if close(got, v(sign=1.0)):
        raise Incorrect(f"{said}: that is above the mean. The alarm line is mean - k * sd.")
    if close(got, v(full=True)):
        raise Incorrect(
            f"{said}: each resample has as many rows as the reference, not `size`. The band must "
            "describe batches of the size you monitor: smaller batches vary more."
        )
    if close(got, v(replace=False)):
        raise Incorrect(
            f"{said}: the rows are drawn without replacement. A bootstrap resample draws with "
            "replacement (`rng.integers(0, n, size)`)."
        )
    raise Incorrect(
        f"{said}, which is not mean - k * sd of the AUCs of `reps` bootstrap resamples drawn as "
        "the prompt describes."
    )


def _q3_run(func, y, s, size, reps, seed, k, where) -> None:
    got = as_float(call(func, "alarm_line", y.copy(), s.copy(), size, reps=reps, seed=seed, k=k),
                   "alarm_line(...)")
    _q3_diagnose(got, y, s, size, reps, seed, k, where)


def _q3_variables(line_heldout, first_alarm, tol: float) -> None:
    data = _stream()
    line = as_float(line_heldout, "line_heldout")
    ref = _line(data.y_ref, data.s_ref, 400)
    if not close(line, ref, rtol=0, atol=tol):
        said = f"`line_heldout` = {line:.4g}"
        if close(line, _line(data.y_train, data.s_train, 400), rtol=0, atol=tol):
            raise Incorrect(
                f"{said} is computed on the training rows. The model was fitted to them, so its "
                "AUC there is optimistic and the line sits too high: use the held-out reference."
            )
        if close(line, _line(data.y_ref, data.s_ref, 400, full=True), rtol=0, atol=tol):
            raise Incorrect(f"{said} resamples 800 rows; the stream's batches have 400 (size=400).")
        if close(line, _line(data.y_ref, data.s_ref, 400, se=True), rtol=0, atol=tol):
            raise Incorrect(f"{said} uses the standard error of the mean AUC, not the sd.")
        raise Incorrect(
            f"{said} is not `alarm_line` of the model's scores on the reference with size=400 and "
            "the default reps, seed and k."
        )
    got = as_int(first_alarm, "first_alarm")
    if got != _first_alarm(data.auc, ref):
        said = f"`first_alarm` = {got}"
        below = np.flatnonzero(data.auc < ref)
        if below.size and got == int(below[0]) + 1:
            raise Incorrect(f"{said}: batches are numbered from 0, like the stream's `batch` column.")
        if got == _first_alarm(data.auc, _line(data.y_train, data.s_train, 400)):
            raise Incorrect(f"{said} uses the training-set line. Use `line_heldout`.")
        raise Incorrect(
            f"{said} is not the first batch whose AUC (of `model`'s scores) is below `line_heldout`."
        )


@key_for(m14.q3)
class AlarmLine(Question):
    tolerance = {"rtol": 0.0, "atol": 1e-3}

    def references(self):
        data = _stream()
        line = _line(data.y_ref, data.s_ref, 400)
        return {
            "alarm_line": lambda y, score, size, reps=200, seed=0, k=3.0: _line(
                y, score, size, reps, seed, k),
            "line_heldout": line,
            "first_alarm": _first_alarm(data.auc, line),
        }

    def verify(self, alarm_line, line_heldout, first_alarm):
        for j, (y, s, size, reps, seed, k) in enumerate(_q3_cases(), 1):
            where = f"For test case {j} ({y.size} rows, size={size}, reps={reps}, seed={seed}, k={k:g})"
            _q3_run(alarm_line, y, s, size, reps, seed, k, where)
        _q3_variables(line_heldout, first_alarm, tol=1e-3)

    def verify_hidden(self, seed, alarm_line, line_heldout, first_alarm):
        rng = np.random.default_rng(seed)
        for _ in range(3):
            n = int(rng.integers(150, 400))
            y = (rng.random(n) < rng.uniform(0.3, 0.6)).astype(int)
            s = rng.normal(0, 1, n) + rng.uniform(0.5, 2.0) * y
            size, reps = int(rng.integers(60, n)), int(rng.integers(30, 80))
            b_seed, k = int(rng.integers(0, 1000)), float(rng.choice([2.0, 2.5, 3.0]))
            where = f"On a fresh random case ({n} rows, size={size}, reps={reps}, k={k:g})"
            _q3_run(alarm_line, y, s, size, reps, b_seed, k, where)
        unrounded(lambda tol: _q3_variables(line_heldout, first_alarm, tol), 1e-3, 1e-9,
                  "`line_heldout` is close to the right value but not equal to it. Compute it in "
                  "code with your `alarm_line` and do not round it.")


# =================================================================================================
# q4: label each batch: stable, covariate drift, concept drift, both, or unknown
# =================================================================================================
def _labels(psi_table, batch_auc, line, psi_limit=0.25, *, nan_ok=False, agg="max",
            only_concept=False, fixed_limit=None, swap=False) -> list[str]:
    table = np.asarray(psi_table, dtype=float)
    auc = np.asarray(batch_auc, dtype=float)
    limit = psi_limit if fixed_limit is None else fixed_limit
    moved = (table.max(axis=1) if agg == "max" else table.mean(axis=1)) > limit
    out = []
    for m, a in zip(moved, auc, strict=True):
        if math.isnan(a) and not nan_ok:
            out.append(LABELS[5] if m else LABELS[4])
            continue
        dropped = bool(a < line)
        if swap:
            m, dropped = dropped, m
        if m and dropped:
            out.append(LABELS[2] if only_concept else LABELS[3])
        else:
            out.append(LABELS[int(m) + 2 * int(dropped)])
    return out


_Q4_TABLE = np.array([
    [0.02, 0.05, 0.03], [0.30, 0.04, 0.02], [0.05, 0.12, 0.18], [0.03, 0.02, 0.04],
    [0.40, 0.03, 0.05], [0.02, 0.06, 0.27], [0.01, 0.02, 0.03], [0.26, 0.00, 0.01],
])
_Q4_AUC = np.array([0.88, 0.87, 0.86, 0.70, 0.65, np.nan, np.nan, 0.90])


def _q4_value(func, table, auc, line, limit) -> list[str]:
    got = call(func, "label_batches", table.copy(), auc.copy(), line, psi_limit=limit)
    items = as_tuple(got, "label_batches(...)", len(table))
    return [as_str(v, f"label_batches(...)[{i}]") for i, v in enumerate(items)]


def _q4_diagnose(got, table, auc, line, limit, where) -> None:
    ref = _labels(table, auc, line, limit)
    if got == ref:
        return
    bad = next(i for i, (g, r) in enumerate(zip(got, ref, strict=True)) if g != r)
    unknown = [g for g in got if g not in LABELS]
    said = f"{where}, `label_batches` returned {got[bad]!r} for row {bad}"
    if unknown:
        raise Incorrect(f"{where}, `label_batches` returned {unknown[0]!r}, which is not one of LABELS.")
    v = functools.partial(_labels, table, auc, line, limit)
    if got == v(nan_ok=True):
        raise Incorrect(
            f"{said}: a batch whose labels have not arrived (AUC is nan) cannot be called stable. "
            "`nan < line` is False, so a plain comparison reads \"no labels\" as \"no drop\": test "
            "for nan first and say the performance is unknown."
        )
    if got == v(agg="mean"):
        raise Incorrect(
            f"{said}: the PSIs of a batch are averaged over the features, which dilutes a large "
            "change in one feature. The inputs moved if *any* feature's PSI exceeds psi_limit."
        )
    if got == v(only_concept=True):
        raise Incorrect(
            f"{said}: when the inputs moved *and* the performance dropped, both kinds of drift are "
            "present; the covariate drift has not gone away."
        )
    if got == v(swap=True):
        raise Incorrect(
            f"{said}: covariate and concept drift are swapped. Covariate drift is a change in p(X) "
            "(the PSI monitor); concept drift, a change in p(y | X), shows in the performance."
        )
    if any(got == _labels(table, auc, line, limit, fixed_limit=f) for f in (0.1, 0.2)):
        raise Incorrect(
            f"{said}: a fixed rule of thumb is used instead of the `psi_limit` argument. The "
            "limit is a parameter because it depends on the batch size and the feature."
        )
    raise Incorrect(f"{said}, which is not what the rules in the prompt give for that row.")


@key_for(m14.q4)
class LabelBatches(Question):
    def references(self):
        return {"label_batches": lambda psi_table, batch_auc, line, psi_limit=0.25: _labels(
            psi_table, batch_auc, line, psi_limit)}

    def verify(self, label_batches):
        got = _q4_value(label_batches, _Q4_TABLE, _Q4_AUC, 0.8, 0.25)
        _q4_diagnose(got, _Q4_TABLE, _Q4_AUC, 0.8, 0.25,
                     "For the 8-row example (line=0.8, psi_limit=0.25)")
        data = _stream()
        auc = data.auc.copy()
        auc[-2:] = np.nan  # the last two batches' labels have not arrived yet
        # A round line, not q3's `line_heldout` (whose value must not appear in the stored check).
        got = _q4_value(label_batches, data.psi_table, auc, 0.8, 0.25)
        _q4_diagnose(got, data.psi_table, auc, 0.8, 0.25,
                     "For the stream (PSI table of 16 batches x 8 features, line=0.8, the last two "
                     "AUCs nan)")

    def verify_hidden(self, seed, label_batches):
        rng = np.random.default_rng(seed)
        for _ in range(4):
            n, p = int(rng.integers(6, 15)), int(rng.integers(2, 7))
            table = rng.gamma(1.0, 0.05, (n, p))
            for i in rng.choice(n, size=n // 2, replace=False):
                table[i, rng.integers(0, p)] = rng.uniform(0.15, 0.6)
            auc = rng.uniform(0.6, 0.95, n)
            auc[rng.choice(n, size=2, replace=False)] = np.nan
            line, limit = float(rng.uniform(0.7, 0.85)), float(rng.choice([0.1, 0.2, 0.25, 0.3]))
            where = f"On a fresh random case ({n} batches, {p} features, psi_limit={limit:g})"
            _q4_diagnose(_q4_value(label_batches, table, auc, line, limit), table, auc, line,
                         limit, where)


# =================================================================================================
# q5: explanation drift
# =================================================================================================
def _expl(shap_ref, shap_new, *, signed=False, similarity=False, euclid=False, zero_based=False,
          top_from_new=False) -> dict:
    f = (lambda a: np.asarray(a, dtype=float).mean(axis=0)) if signed else (
        lambda a: np.abs(np.asarray(a, dtype=float)).mean(axis=0))
    u, v = f(shap_ref), f(shap_new)
    cos = float(u @ v / (np.linalg.norm(u) * np.linalg.norm(v)))
    dist = float(np.linalg.norm(u - v)) if euclid else (cos if similarity else 1.0 - cos)
    top = int(np.argmax(v if top_from_new else u))
    rank = int(np.sum(v > v[top])) + (0 if zero_based else 1)
    return {"cosine_distance": dist, "top_feature": top, "new_rank": rank}


def _q5_cases() -> list[tuple]:
    r = np.random.default_rng(1405)
    ref = r.normal(0, 1, (120, 5)) * np.array([2.0, 1.2, 0.8, 0.5, 0.2])
    new = r.normal(0, 1, (90, 5)) * np.array([0.6, 1.2, 1.5, 0.5, 0.9])
    new[:, 1] += 1.5  # a feature whose contributions now share a sign: signed means differ most
    return [(ref, new)]


def _q5_value(func, a, b) -> dict:
    got = as_dict(call(func, "explanation_drift", a.copy(), b.copy()), "explanation_drift(...)")
    keys = ("cosine_distance", "top_feature", "new_rank")
    if set(got) != set(keys) or not all(type(k) is str for k in got):
        raise Incorrect(
            f"`explanation_drift` returned a dict with keys {', '.join(sorted(show(k) for k in got))}; "
            'it needs exactly "cosine_distance", "top_feature" and "new_rank".'
        )
    return {"cosine_distance": as_float(got["cosine_distance"], 'explanation_drift(...)["cosine_distance"]'),
            "top_feature": as_int(got["top_feature"], 'explanation_drift(...)["top_feature"]'),
            "new_rank": as_int(got["new_rank"], 'explanation_drift(...)["new_rank"]')}


def _same5(a: dict, b: dict) -> bool:
    return (close(a["cosine_distance"], b["cosine_distance"]) and a["top_feature"] == b["top_feature"]
            and a["new_rank"] == b["new_rank"])


def _q5_diagnose(got: dict, a, b, where: str) -> None:
    ref = _expl(a, b)
    if _same5(got, ref):
        return
    said = f"{where}, `explanation_drift` returned"
    dist, top, rank = got["cosine_distance"], got["top_feature"], got["new_rank"]
    if not close(dist, ref["cosine_distance"]):
        said = f'{said} "cosine_distance" = {dist:.6g}'
        if close(dist, _expl(a, b, signed=True)["cosine_distance"]):
            raise Incorrect(
                f"{said}: the importance vectors are signed means of the SHAP values, whose "
                "positive and negative contributions cancel. Importance is the mean of the "
                "*absolute* values."
            )
        if close(dist, _expl(a, b, similarity=True)["cosine_distance"]):
            raise Incorrect(
                f"{said}: that is the cosine *similarity* (1 for the same direction). The distance "
                "is 1 - cos(u, v), 0 when the two vectors point the same way."
            )
        if close(dist, _expl(a, b, euclid=True)["cosine_distance"]):
            raise Incorrect(
                f"{said}: that is the Euclidean distance between the vectors, which also grows when "
                "all importances scale together. Use 1 - cos(u, v), which compares their directions."
            )
        raise Incorrect(f"{said}, which is not 1 - cos(u, v) of the mean |SHAP| vectors.")
    if top != ref["top_feature"]:
        said = f'{said} "top_feature" = {top}'
        if top == _expl(a, b, top_from_new=True)["top_feature"]:
            raise Incorrect(
                f"{said}: it is taken from the new importances. It is the reference's top "
                "feature, whose rank you then follow in the new batch."
            )
        raise Incorrect(f"{said}, which is not the column of the largest mean |SHAP| in shap_ref.")
    said = f'{said} "new_rank" = {rank}'
    if rank == _expl(a, b, zero_based=True)["new_rank"]:
        raise Incorrect(f"{said}: it counts from 0; rank 1 is the most important feature.")
    raise Incorrect(f"{said}, which is not the reference top feature's rank in shap_new.")


@key_for(m14.q5)
class ExplanationDrift(Question):
    def references(self):
        return {"explanation_drift": lambda shap_ref, shap_new: _expl(shap_ref, shap_new)}

    def verify(self, explanation_drift):
        for a, b in _q5_cases():
            _q5_diagnose(_q5_value(explanation_drift, a, b), a, b,
                         f"For a {a.shape[0]}x{a.shape[1]} and a {b.shape[0]}x{b.shape[1]} example")
        data = _stream()
        got = _q5_value(explanation_drift, data.shap_ref, data.shap_new)
        _q5_diagnose(got, data.shap_ref, data.shap_new,
                     "For the model's SHAP values on 120 rows of the reference and of batch 12")

    def verify_hidden(self, seed, explanation_drift):
        rng = np.random.default_rng(seed)
        for _ in range(5):
            p = int(rng.integers(3, 9))
            scale = rng.uniform(0.1, 2.0, p)
            a = rng.normal(0, 1, (int(rng.integers(30, 150)), p)) * scale
            b = rng.normal(0, 1, (int(rng.integers(30, 150)), p)) * rng.permutation(scale)
            b[:, rng.integers(0, p)] += rng.uniform(0.5, 2.0)
            _q5_diagnose(_q5_value(explanation_drift, a, b), a, b,
                         f"On a fresh random case ({p} features)")


q1, q2, q3, q4, q5 = Psi, DriftedFeatures, AlarmLine, LabelBatches, ExplanationDrift
QUESTIONS = {q.label: q for q in (q1, q2, q3, q4, q5)}
