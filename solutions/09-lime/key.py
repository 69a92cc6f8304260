"""The answer key of assignment 09, "LIME and explanation quality": instructor-only, never released.

``grader release`` and ``nbgrader generate_assignment`` skip this file (``nbgrader_config.py``
ignores ``key.py``). It holds what the student-side package (``grader/checks/m09.py``) must not:
the reference computations, the diagnosis code of every check (``verify``, ``verify_hidden``,
``verify_graded``) and, for each question, its reference answers (``references()``). The grader
loads it outside the student's kernel (:mod:`grader.judging`); see ``docs/authoring.md``.

Every reference is recomputed here, from the seeded churn data of
:func:`grader.datasets.make_churn` (the model is refitted once and cached) or from the toy cases
below. The lecture works on the loan data of ``make_loan_approval``; the assignment transfers
every idea to the churn table, to other customers and to fresh random models. The models passed
to the student's functions (q2's ``predict_fn``, q3's ``model``) are
:class:`grader.checks.wire.Formula` s, so that the judge can send them to the student's kernel as
data; the churn model travels as its fitted coefficients. The toy cases are
asymmetric on purpose (kernel width != 1, features on different scales, sets of different sizes,
uneven weights) so that each classic mistake gives a different answer from the right one, and
each mistake is named in the feedback.

q3 calls ``explain_reproducibly`` twice on the same inputs (``repeat_calls``: a reused explainer
answers differently the second time) and watches NumPy's global generator: ``np.random.seed``
inside the function followed by an explainer without ``random_state`` gives the right list, so
only the side effect tells it apart (issue 14).

Guessable: ``top_feature`` (q6) is hashed but is one of six feature names; it is judged with the
two coefficient arrays in one test, so a guess alone earns nothing. Its customer is chosen so that
each wrong reading (per unit, per standard deviation, signed, uncentred) names another feature.

q7 (the data-randomisation sanity check of Adebayo et al., 2018) draws fresh tables until every
catalogued mistake gives a value far from the right one (bounded; a designed case otherwise).
"""

from __future__ import annotations

import functools
import itertools
from types import SimpleNamespace

import numpy as np
from lime.lime_tabular import LimeTabularExplainer
from scipy.stats import spearmanr
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.model_selection import train_test_split

from grader.checks import m09, wire
from grader.checks.core import (
    Incorrect,
    Question,
    call,
    call_watching_rng,
    draw_separating,
    key_for,
    separates,
)
from grader.checks.values import allclose, as_array, as_float, as_str, as_tuple, close, show
from grader.checks.wire import Formula
from grader.datasets import CHURN_FEATURES, make_churn

#: The key's questions, by label.
__all__ = ["QUESTIONS"]

#: The settings the assignment fixes (its setup cell defines the same names).
_N_SAMPLES = 2000
_LIME_SAMPLES = 1000
_CUSTOMER = 9  # row of X_test explained in q6 (each wrong reading names another feature)
_Q2_ROW, _Q2_SEED = 3, 5  # q2's visible case on the churn model (not q6's customer or seed)
_Q3_TRAIN_ROWS = 200  # training rows q3 passes (LIME uses only their mean and spread here)


# --- reference data, rebuilt from seeds (cached: the checks run many times) ------------------
@functools.lru_cache(maxsize=1)
def _churn() -> SimpleNamespace:
    """The notebook's churn model: a 70/30 split of make_churn(), a logistic regression."""
    X, y = make_churn()
    X_train, X_test, y_train, _ = train_test_split(X, y, test_size=0.3, random_state=1)
    model = LogisticRegression(max_iter=1000).fit(X_train, y_train)
    scale = X_train.std(axis=0)
    coef, intercept = [float(v) for v in model.coef_.ravel()], float(model.intercept_[0])
    return SimpleNamespace(
        classifier=Formula(["lin", coef, intercept], "the churn model", classifier=True),
        churn=Formula(["sigmoid", ["lin", coef, intercept]],
                      "the churn model's probability of churn"),
        X_train=X_train,
        y_train=y_train,
        X_test=X_test,
        model=model,
        scale=scale,
        x=X_test[_CUSTOMER],
        mean=X_train.mean(axis=0),
        width=0.75 * np.sqrt(X_train.shape[1]),
        names=list(CHURN_FEATURES),
    )


# --- reference computations ---------------------------------------------------------------------
def _kernel(d: np.ndarray, width: float) -> np.ndarray:
    return np.exp(-(d**2) / width**2)


#: What each classic kernel mistake computes, with the feedback that names it.
_KERNEL_MISTAKES = (
    (
        lambda d, w: np.exp((d**2) / w**2),
        "the sign is wrong: exp(+d^2 / width^2) grows with the distance, so far-away samples "
        "would count the most. The weight must fall from 1 at d = 0 towards 0.",
    ),
    (
        lambda d, w: np.exp(-d / w**2),
        "the distance is not squared: exp(-d / width^2). The kernel is exp(-d^2 / width^2).",
    ),
    (
        lambda d, w: np.exp(-(d**2) / w),
        "the kernel width is not squared: exp(-d^2 / width). Divide by width^2.",
    ),
    (
        lambda d, w: np.exp(-d / w),
        "neither the distance nor the width is squared: exp(-d / width). The kernel is "
        "exp(-d^2 / width^2).",
    ),
    (
        lambda d, w: np.sqrt(np.exp(-(d**2) / w**2)),
        "this is the square root of the kernel, exp(-d^2 / (2 width^2)). The `lime` package "
        "takes that square root internally, but this assignment asks for exp(-d^2 / width^2).",
    ),
    (
        lambda d, w: np.exp(-((d / w) ** 2) / 2),
        "this is a Gaussian with standard deviation `width`, exp(-d^2 / (2 width^2)); the "
        "assignment's kernel has no factor 1/2: exp(-d^2 / width^2).",
    ),
)


def _lime(
    predict_fn,
    x: np.ndarray,
    scale: np.ndarray,
    width: float,
    n_samples: int,
    seed: int,
    *,
    kernel=_kernel,
    weighted: bool = True,
    unscaled_distance: bool = False,
    units: str = "original",
) -> np.ndarray:
    """The q2 reference, and (through the keywords) what each classic mistake returns."""
    rng = np.random.default_rng(seed)
    E = rng.standard_normal((n_samples, x.size))
    Z = x + E * scale
    out = np.asarray(predict_fn(Z), dtype=float).ravel()
    d = np.linalg.norm(Z - x if unscaled_distance else E, axis=1)
    w = kernel(d, width) if weighted else None
    if units == "fit-on-Z":
        return Ridge(alpha=1.0).fit(Z, out, sample_weight=w).coef_
    coef = Ridge(alpha=1.0).fit(E, out, sample_weight=w).coef_
    if units == "scaled":
        return coef
    if units == "times":
        return coef * scale
    return coef / scale


def _weighted_r2(y: np.ndarray, yhat: np.ndarray, w: np.ndarray) -> float:
    mean = np.sum(w * y) / np.sum(w)
    return 1.0 - float(np.sum(w * (y - yhat) ** 2)) / float(np.sum(w * (y - mean) ** 2))


def _jaccard(a, b) -> float:
    a, b = set(a), set(b)
    if not a and not b:
        return 1.0
    return len(a & b) / len(a | b)


def _mean_pairs(sets) -> float:
    return float(np.mean([_jaccard(a, b) for a, b in itertools.combinations(sets, 2)]))


_LIME_CACHE: dict[str, list[tuple[str, float]]] = {}


def _lime_list(model, X_train, names, x, seed, k, **options) -> list[tuple[str, float]]:
    """The q3 reference: a fresh, seeded explainer with the assignment's settings. Memoised for
    Formula models (the judge runs each check twice, recording then replaying)."""
    memo = None
    if type(model) is Formula:
        memo = wire.dumps([model, np.asarray(X_train, dtype=float), list(names),
                           np.asarray(x, dtype=float), int(seed), int(k), options])
        if memo in _LIME_CACHE:
            return list(_LIME_CACHE[memo])
    out = _lime_list_uncached(model, X_train, names, x, seed, k, **options)
    if memo is not None:
        if len(_LIME_CACHE) > 256:
            _LIME_CACHE.clear()
        _LIME_CACHE[memo] = list(out)
    return out


def _lime_list_uncached(model, X_train, names, x, seed, k, **options) -> list[tuple[str, float]]:
    settings = {"discretize_continuous": False, "sample_around_instance": True}
    n_samples = options.pop("num_samples", _LIME_SAMPLES)
    settings.update(options)
    explainer = LimeTabularExplainer(
        X_train, mode="classification", feature_names=list(names), random_state=seed, **settings
    )
    exp = explainer.explain_instance(x, model.predict_proba, num_features=k, num_samples=n_samples)
    return [(str(n), float(v)) for n, v in exp.as_list()]


# --- small helpers -----------------------------------------------------------------------------
def _lst(a) -> str:
    vals = [f"{v:.4g}" for v in np.asarray(a, dtype=float).ravel()[:8]]
    more = ", ..." if np.asarray(a).size > 8 else ""
    return "[" + ", ".join(vals) + more + "]"


def _near(a: np.ndarray, b: np.ndarray, rtol: float) -> bool:
    b = np.asarray(b, dtype=float)
    return allclose(a, b, rtol=rtol, atol=rtol * max(1e-3, float(np.max(np.abs(b)))))


# =================================================================================================
# q1: the kernel
# =================================================================================================
def _q1_weights(Z, x, scale, kernel_width=None, *, raw=False, no_sqrt=False, default_p=None,
                own_scale=False, ignore_width=False, kernel=_kernel) -> np.ndarray:
    """The q1 reference, LIME's sample weights (``lime.lime_tabular``: Euclidean distance of the
    standardised differences, exponential kernel, default width 0.75 sqrt(p)), and through the
    keywords what each classic mistake returns."""
    Z, x, scale = (np.asarray(v, dtype=float) for v in (Z, x, scale))
    if own_scale:
        scale = Z.std(axis=0)
    U = Z - x if raw else (Z - x) / scale
    d = np.sum(U**2, axis=1)
    if not no_sqrt:
        d = np.sqrt(d)
    if kernel_width is None or ignore_width:
        kernel_width = 0.75 * np.sqrt(Z.shape[1] if default_p is None else default_p)
    return kernel(d, kernel_width)


def _q1_mistakes(Z: np.ndarray, width: float | None):
    """(options, feedback) of each named mistake, in the order they are tested."""
    n, p = Z.shape
    yield dict(raw=True), (
        "the distances are measured in original units (Z - x), so the feature with the largest "
        "scale decides who is close. Divide each difference by that feature's `scale` first.")
    yield dict(no_sqrt=True), (
        "the distance is not square-rooted: the sum of squared standardised differences is used "
        "as d, so the kernel sees d^4. Take the square root (the Euclidean norm) first.")
    yield dict(own_scale=True), (
        "the differences are divided by the spread of the samples Z themselves; standardise "
        "with the `scale` passed in (the training data's standard deviations), as LIME does.")
    if width is None:
        for wrong_p, why in ((n, "the number of rows (samples)"),
                             (6, "6, the churn table's number of features (`KERNEL_WIDTH`)"),
                             (5, "5, the lecture's number of features")):
            if wrong_p != p:
                yield dict(default_p=wrong_p), (
                    f"the default width uses {why}. LIME's default is 0.75 * sqrt(p) with p the "
                    "number of columns of Z, so compute it from the data you are given.")
    else:
        yield dict(ignore_width=True), (
            "`kernel_width` is ignored: the default 0.75 * sqrt(p) is used even when a width is "
            "passed. Use the default only when kernel_width is None.")
    for wrong, why in _KERNEL_MISTAKES:
        yield dict(kernel=wrong), why


def _q1_run(func, Z, x, scale, width, where: str, rtol: float = 1e-6) -> None:
    args = (Z.copy(), x.copy(), scale.copy()) + (() if width is None else (width,))
    got = as_array(call(func, "lime_weights", *args), "lime_weights(...)")
    if got.shape != (Z.shape[0],):
        raise Incorrect(
            f"{where}, `lime_weights` returned shape {got.shape}; it should return one weight per "
            f"row of Z, shape ({Z.shape[0]},)."
        )
    ref = _q1_weights(Z, x, scale, width)
    if _near(got, ref, rtol):
        return
    said = f"{where}, `lime_weights` returned {_lst(got)}"
    with np.errstate(all="ignore"):
        for options, why in _q1_mistakes(Z, width):
            if _near(got, _q1_weights(Z, x, scale, width, **options), 1e-6):
                raise Incorrect(f"{said}: {why}")
    if np.any(got < 0) or np.any(got > 1 + 1e-12):
        raise Incorrect(f"{said}, but every weight should lie between 0 and 1.")
    raise Incorrect(f"{said}; these are not exp(-d^2 / width^2) of the standardised distances.")


def _q1_churn_case() -> tuple:
    """Thirteen test customers (the eighth is the explained one, at distance 0) around X_test[4],
    on the churn table's six features, with LIME's default width. Not 12 rows: with n = 2p the
    width 0.75 sqrt(n) would turn the kernel into its square root, and two mistakes coincide."""
    data = _churn()
    rows = list(range(20, 27)) + [4] + list(range(27, 32))
    return data.X_test[rows], data.X_test[4], data.scale, None


#: The toy cases: three features on different scales, an explicit width (not the default
#: 0.75 sqrt(3) = 1.30), then the default for p = 3 (neither 5 nor 6, nor the number of rows).
_Q1_TOY = (
    (np.array([[12.0, 0.4, 3.0], [20.0, 0.1, 2.5], [5.0, 0.9, 4.0], [12.0, 0.4, 3.0],
               [15.0, 0.6, 1.0]]), np.array([12.0, 0.4, 3.0]), np.array([10.0, 0.5, 2.0]), 2.2),
    (np.array([[1.0, 40.0, 0.02], [1.5, 55.0, 0.05], [0.2, 30.0, 0.03], [2.5, 38.0, 0.01]]),
     np.array([1.2, 42.0, 0.025]), np.array([0.8, 12.0, 0.015]), None),
)


def _q1_where(Z, width, what: str) -> str:
    shown = "the default kernel_width" if width is None else f"kernel_width={width:.3g}"
    return f"For {what} (Z of shape {Z.shape}, {shown})"


def _q1_hidden_cases(rng: np.random.Generator) -> list[tuple]:
    """Four fresh cases: samples around a random instance on features whose scales differ (one at
    least 5, so original units differ from standardised ones), the instance itself among them;
    twice the default width with p neither 5 nor 6, twice a width far from the default."""
    cases = []
    for k in range(4):
        p = int(rng.choice([2, 3, 4, 7, 8])) if k < 2 else int(rng.integers(2, 9))
        n = int(rng.integers(12, 40))
        scale = rng.uniform(0.1, 30.0, p)
        scale[rng.integers(0, p)] = rng.uniform(5.0, 30.0)
        x = rng.normal(0, 5, p)
        Z = x + rng.normal(0, 1, (n, p)) * scale * rng.uniform(0.3, 1.2)
        Z[rng.integers(0, n)] = x
        width = None
        if k >= 2:
            default = 0.75 * np.sqrt(p)
            width = float(default * rng.choice([rng.uniform(0.3, 0.7), rng.uniform(1.5, 3.0)]))
        cases.append((Z, x, scale, width))
    return cases


@key_for(m09.q1)
class KernelWeights(Question):
    def references(self):
        return {"lime_weights": lambda Z, x, scale, kernel_width=None: _q1_weights(
            Z, x, scale, kernel_width)}

    def verify(self, lime_weights):
        Z, x, scale, width = _q1_churn_case()
        _q1_run(lime_weights, Z, x, scale, width,
                _q1_where(Z, width, "thirteen churn test customers around X_test[4]"))
        for Z, x, scale, width in _Q1_TOY:
            _q1_run(lime_weights, Z, x, scale, width,
                    _q1_where(Z, width, f"the toy samples around x={_lst(x)}"))

    def verify_hidden(self, seed, lime_weights):
        rng = np.random.default_rng(seed)
        for Z, x, scale, width in _q1_hidden_cases(rng):
            _q1_run(lime_weights, Z, x, scale, width,
                    _q1_where(Z, width, f"fresh samples around x={_lst(x)}"), 1e-9)


# =================================================================================================
# q2: LIME from scratch
# =================================================================================================
#: A smooth, non-linear score on three features with very different scales:
#: sigmoid(0.08 z0 - 2.5 z1 + 0.03 z0 z2).
_toy_fn = Formula(
    ["sigmoid", ["+", ["lin", [0.08, -2.5, 0.0], 0.0], ["*", ["c", 0.03], ["x", 0], ["x", 2]]]],
    "the toy model sigmoid(0.08 z0 - 2.5 z1 + 0.03 z0 z2)",
)


def _black_box(weights: np.ndarray, centre: np.ndarray, spread: np.ndarray) -> Formula:
    """tanh(u @ weights) + 0.2 u0^2 with u = (Z - centre) / spread."""
    w = weights / spread
    u0 = ["lin", [1.0 / float(spread[0])] + [0.0] * (len(w) - 1), float(-centre[0] / spread[0])]
    return Formula(
        ["+", ["tanh", ["lin", [float(v) for v in w], float(-(centre / spread) @ weights)]],
         ["*", ["c", 0.2], ["^", u0, 2]]],
        "a fresh black box",
    )


_Q2_TOY = (np.array([12.0, 0.4, 3.0]), np.array([10.0, 0.5, 2.0]), 1.3, 800, 3)


def _q2_run(func, predict_fn, x, scale, width, n, seed, where: str, rtol: float = 1e-6) -> None:
    got = call(func, "lime_explain", predict_fn, x.copy(), scale.copy(), width, n, seed)
    got = as_array(got, "lime_explain(...)")
    if got.shape != x.shape:
        raise Incorrect(
            f"{where}, `lime_explain` returned shape {got.shape}; it should return one "
            f"coefficient per feature, shape {x.shape} (no intercept)."
        )
    args = (predict_fn, x, scale, width, n, seed)
    if _near(got, _lime(*args), rtol):
        return
    said = f"{where}, `lime_explain` returned {_lst(got)}"
    named = (
        (
            {"weighted": False},
            "the surrogate is unweighted: every perturbed sample counts "
            "equally, so this is a global fit, not a local one. Pass the kernel weights to "
            "`Ridge.fit(..., sample_weight=w)`.",
        ),
        (
            {"unscaled_distance": True},
            "the distances are measured in the original units "
            "(Z - x), where the feature with the largest scale dominates. Measure them in "
            "standard-deviation units: the norm of each row of the standard-normal draws.",
        ),
        (
            {"units": "scaled"},
            "these are the coefficients per standard deviation. Divide them by "
            "`scale` to express them per original unit of each feature.",
        ),
        (
            {"units": "times"},
            "the coefficients are multiplied by `scale`; to go from per "
            "standard deviation to per original unit, divide by `scale`.",
        ),
        (
            {"units": "fit-on-Z"},
            "the ridge is fitted on the perturbed samples in original units. "
            "Fit it on the standardised perturbations (the standard-normal draws), then divide the "
            "coefficients by `scale`.",
        ),
    )
    for options, why in named:
        if _near(got, _lime(*args, **options), 1e-6):
            raise Incorrect(f"{said}: {why}")
    with np.errstate(all="ignore"):
        for wrong, _why in _KERNEL_MISTAKES:
            if _near(got, _lime(*args, kernel=wrong), 1e-6):
                raise Incorrect(
                    f"{said}: the kernel weights are wrong (see q1). Make `lime_weights` pass "
                    "q1 first, then use it here."
                )
    raise Incorrect(
        f"{said}; these are not the surrogate's coefficients. Follow the recipe step by step: "
        "one `rng.standard_normal((n_samples, p))` draw from `default_rng(seed)`, samples "
        "`x + draws * scale`, distances of the draws, kernel weights, weighted `Ridge(alpha=1.0)`."
    )


@key_for(m09.q2)
class LimeFromScratch(Question):
    def references(self):
        return {"lime_explain": lambda predict_fn, x, scale, kernel_width, n_samples, seed: _lime(
            predict_fn, np.asarray(x, dtype=float), np.asarray(scale, dtype=float), kernel_width,
            n_samples, seed)}

    def verify(self, lime_explain):
        x, scale, width, n, seed = _Q2_TOY
        where = f"For the toy model at x={_lst(x)}, scale={_lst(scale)}, width={width}"
        _q2_run(lime_explain, _toy_fn, x, scale, width, n, seed, where)
        data = _churn()
        where = (f"For the churn model (probability of churn) at X_test[{_Q2_ROW}] with "
                 f"seed={_Q2_SEED}")
        _q2_run(lime_explain, data.churn, data.X_test[_Q2_ROW], data.scale, data.width,
                _N_SAMPLES, _Q2_SEED, where)

    def verify_hidden(self, seed, lime_explain):
        rng = np.random.default_rng(seed)
        for _ in range(4):
            p = int(rng.integers(2, 7))
            weights = rng.normal(0, 1, p)
            centre = rng.normal(0, 5, p)
            spread = rng.uniform(0.1, 30.0, p)
            black_box = _black_box(weights, centre, spread)
            x = centre + spread * rng.normal(0, 1, p)
            width = float(rng.uniform(0.5, 3.0))
            n, s = int(rng.integers(300, 1500)), int(rng.integers(0, 10_000))
            where = f"On a fresh black box (p={p}, n_samples={n}, seed={s})"
            _q2_run(lime_explain, black_box, x, spread, width, n, s, where, rtol=1e-8)


# =================================================================================================
# q3: reproducible LIME with the library
# =================================================================================================
def _as_explanation(value, name: str) -> list[tuple[str, float]]:
    if type(value) is not list:
        raise Incorrect(
            f"`{name}` should return a list of (feature name, weight) pairs, as "
            f"`explanation.as_list()` gives, but it returned a {type(value).__name__}: {show(value)}."
        )
    out = []
    for i, item in enumerate(value):
        pair = as_tuple(item, f"{name}[{i}]", 2)
        out.append((as_str(pair[0], f"{name}[{i}][0]"), as_float(pair[1], f"{name}[{i}][1]")))
    return out


def _same(a: list[tuple[str, float]], b: list[tuple[str, float]], rtol: float = 1e-9) -> bool:
    return (
        len(a) == len(b)
        and [n for n, _ in a] == [n for n, _ in b]
        and all(close(u, v, rtol=rtol, atol=1e-12) for (_, u), (_, v) in zip(a, b, strict=True))
    )


_Q3_GLOBAL = (
    "`explain_reproducibly` changed NumPy's global random generator: its explainer is not seeded "
    "on its own. An explainer without `random_state` draws from the global generator, and "
    "`np.random.seed` inside the function resets it for the whole notebook (every later random "
    "draw repeats). Pass `random_state=seed` to a fresh `LimeTabularExplainer` on every call, "
    "and leave the global generator alone."
)


def _q3_run(func, model, X_train, names, x, seed, k, where: str) -> None:
    fname = "explain_reproducibly"

    def run():
        got, touched = call_watching_rng(
            func, fname, model, X_train.copy(), list(names), x.copy(), seed, k)
        if touched:
            raise Incorrect(_Q3_GLOBAL)
        return _as_explanation(got, f"{fname}(...)")

    first, second = run(), run()
    ref = _lime_list(model, X_train, names, x, seed, k)
    said = f"{where}, `{fname}` returned {show(first)}"
    if not _same(first, second):
        if _same(first, ref):
            raise Incorrect(
                f"{where}, two calls with the same seed gave different explanations, and only the "
                "first one is right: the explainer is reused between calls, and its random state "
                "moves on after each explanation. Create a fresh `LimeTabularExplainer(..., "
                "random_state=seed)` inside the function, on every call."
            )
        raise Incorrect(
            f"{where}, two calls with the same seed gave different explanations: the explainer is "
            "not seeded. An unseeded explainer draws from NumPy's global generator, and every "
            "explanation moves it on, so seeding NumPy once is not enough: pass "
            "`random_state=seed` to a fresh `LimeTabularExplainer` on every call."
        )
    if _same(first, ref):
        return
    if len(first) != k:
        raise Incorrect(f"{said}: it should list num_features={k} features.")
    for other in (0, 42, 1):
        if other != seed and _same(first, _lime_list(model, X_train, names, x, other, k)):
            raise Incorrect(
                f"{said}: this is the explanation for random_state={other}; the `seed` argument "
                "is ignored. Pass `random_state=seed`."
            )
    variants = (
        (
            {"discretize_continuous": True},
            "the continuous features are discretised (the "
            "default). Pass `discretize_continuous=False`, so that each weight is a slope.",
        ),
        (
            {"sample_around_instance": False},
            "the samples are drawn around the training mean "
            "(the default), not around `x`. Pass `sample_around_instance=True`.",
        ),
        (
            {"num_samples": 5000},
            "it uses LIME's default of 5000 samples; pass "
            f"`num_samples={_LIME_SAMPLES}` to `explain_instance`.",
        ),
    )
    for options, why in variants:
        if _same(first, _lime_list(model, X_train, names, x, seed, k, **options)):
            raise Incorrect(f"{said}: {why}")
    raise Incorrect(
        f"{said}, which is reproducible but not the explanation asked for. Check every setting "
        "in the question (mode, feature names, discretisation, sampling, num_samples, the model's "
        "`predict_proba`)."
    )


def _classifier(model: LogisticRegression, text: str) -> Formula:
    """A fitted binary logistic regression as a Formula (its log-odds; predict_proba works)."""
    return Formula(["lin", [float(v) for v in model.coef_.ravel()], float(model.intercept_[0])],
                   text, classifier=True)


@key_for(m09.q3)
class Reproducible(Question):
    repeat_calls = True  # each input is explained twice: a reused explainer differs the 2nd time
    global_rng_message = _Q3_GLOBAL

    def references(self):
        return {"explain_reproducibly": lambda model, X_train, feature_names, x, seed, num_features:
                _lime_list(model, np.asarray(X_train, dtype=float), list(feature_names),
                           np.asarray(x, dtype=float), seed, num_features)}

    def verify(self, explain_reproducibly):
        data = _churn()
        X_train = data.X_train[:_Q3_TRAIN_ROWS]  # the training statistics: fewer rows to send
        for seed, row in ((3, 0), (11, 4)):
            where = f"For row {row} of X_test with seed={seed}"
            _q3_run(
                explain_reproducibly, data.classifier, X_train, data.names, data.X_test[row],
                seed, 4, where,
            )  # fmt: skip

    def verify_hidden(self, seed, explain_reproducibly):
        rng = np.random.default_rng(seed)
        for _ in range(2):
            p = int(rng.integers(3, 7))
            n = _Q3_TRAIN_ROWS
            X = rng.normal(0, 1, (n, p)) * rng.uniform(0.5, 20, p)
            y = X @ rng.normal(0, 1, p) / X.std(axis=0).mean() + rng.normal(0, 1, n) > 0
            model = _classifier(LogisticRegression(max_iter=1000).fit(X, y.astype(int)),
                                f"a fresh logistic model of {p} features")
            names = [f"f_{j}_{int(rng.integers(100, 999))}" for j in range(p)]
            # seeds >= 100: a hard-coded random_state (0, 1, 42) can never be the right one
            k, s = int(rng.integers(2, p + 1)), int(rng.integers(100, 10_000))
            where = f"On a fresh model (p={p}, num_features={k}, seed={s})"
            _q3_run(
                explain_reproducibly, model, X, names, X[int(rng.integers(0, n))], s, k, where
            )


# =================================================================================================
# q4: Jaccard stability
# =================================================================================================
_Q4_PAIRS = (
    (["income", "debt_ratio", "late_payments"],
     ["late_payments", "income", "years_employed", "account_age"]),
    (["income", "income", "debt_ratio"], ["debt_ratio", "years_employed"]),
    ([], []),
    (["a", "b"], ["c"]),
)  # fmt: skip
_Q4_SETS = (
    ["income", "debt_ratio", "late_payments"],
    ["income", "debt_ratio", "years_employed"],
    ["late_payments", "account_age", "years_employed"],
    ["income", "debt_ratio", "late_payments"],
)


def _q4_jaccard(func, a, b, where: str) -> None:
    got = as_float(call(func, "jaccard", list(a), list(b)), "jaccard(...)")
    ref = _jaccard(a, b)
    if close(got, ref):
        return
    sa, sb = set(a), set(b)
    inter = len(sa & sb)
    said = f"{where}, `jaccard` returned {got:.4g}"
    if sa and sb and close(got, inter / min(len(sa), len(sb))):
        raise Incorrect(
            f"{said}: that is the intersection over the smaller set (the overlap coefficient). "
            "Jaccard divides by the size of the union."
        )
    if sa or sb:
        if close(got, 2 * inter / (len(sa) + len(sb))):
            raise Incorrect(
                f"{said}: that is the Dice coefficient, 2|A & B| / (|A| + |B|). Jaccard is "
                "|A & B| / |A | B|."
            )
        if close(got, inter / (len(a) + len(b) - inter)) or close(got, inter / (len(a) + len(b))):
            raise Incorrect(
                f"{said}: the sizes are taken from the inputs, not from the sets. Turn both "
                "inputs into sets first (duplicates count once), then divide by the union."
            )
        if close(got, float(inter)):
            raise Incorrect(
                f"{said}: that is the size of the intersection; divide it by the union."
            )
    raise Incorrect(f"{said}; Jaccard is |A & B| / |A | B|, and 1.0 when both sets are empty.")


def _q4_mean(func, sets, where: str) -> None:
    got = as_float(
        call(func, "mean_pairwise_jaccard", [list(s) for s in sets]), "mean_pairwise_jaccard(...)"
    )
    if close(got, _mean_pairs(sets)):
        return
    said = f"{where}, `mean_pairwise_jaccard` returned {got:.4g}"
    n = len(sets)
    every = [_jaccard(a, b) for a in sets for b in sets]
    if close(got, float(np.mean(every))):
        raise Incorrect(
            f"{said}: it includes the self-pairs (each set with itself, Jaccard 1), which inflates "
            "the stability. Average over the pairs i < j only."
        )
    if close(got, float(np.mean([_jaccard(sets[i], sets[i + 1]) for i in range(n - 1)]))):
        raise Incorrect(
            f"{said}: it only compares consecutive runs. Average over every pair i < j "
            "(`itertools.combinations`)."
        )
    raise Incorrect(f"{said}; it should be the mean Jaccard over all pairs i < j.")


@key_for(m09.q4)
class Stability(Question):
    def references(self):
        return {"jaccard": _jaccard, "mean_pairwise_jaccard": _mean_pairs}

    def verify(self, jaccard, mean_pairwise_jaccard):
        for a, b in _Q4_PAIRS:
            _q4_jaccard(jaccard, a, b, f"For a={a}, b={b}")
        _q4_mean(mean_pairwise_jaccard, _Q4_SETS, "For the four top-3 sets of the question")

    def verify_hidden(self, seed, jaccard, mean_pairwise_jaccard):
        rng = np.random.default_rng(seed)
        pool = [f"v{int(v)}" for v in rng.choice(1000, 12, replace=False)]
        # First a designed pair (partial overlap of unequal sets, a duplicate): overlap, Dice and
        # counting duplicates all differ from Jaccard on it, whatever the seed.
        u = list(rng.permutation(pool))
        a, b = [u[0], u[0], u[1], u[2]], [u[1], u[2], u[3], u[4], u[5]]
        _q4_jaccard(jaccard, a, b, f"For fresh sets a={a}, b={b}")
        _q4_jaccard(jaccard, [], [], "For two empty sets")  # two empty explanations agree
        for _ in range(5):
            a = list(rng.choice(pool, int(rng.integers(1, 7))))
            b = list(rng.choice(pool, int(rng.integers(1, 7))))
            _q4_jaccard(jaccard, a, b, f"For fresh sets a={a}, b={b}")

        def outcomes(sets):
            selfs = float(np.mean([_jaccard(a, b) for a in sets for b in sets]))
            consec = float(np.mean([_jaccard(a, b) for a, b in itertools.pairwise(sets)]))
            return _mean_pairs(sets), {"self-pairs": selfs, "consecutive pairs": consec}

        # redraw until self-pairs and consecutive pairs give other means; else the designed sets
        sets = draw_separating(
            lambda g: [list(g.choice(pool, 4, replace=False)) for _ in range(int(g.integers(3, 8)))],
            outcomes, rng, tries=30, fallback=lambda: [list(s) for s in _Q4_SETS],
            separated=lambda right, wrong: abs(wrong - right) > 1e-3)
        _q4_mean(mean_pairwise_jaccard, sets, f"For {len(sets)} fresh top-4 sets")


# =================================================================================================
# q5: weighted R^2 (local fidelity)
# =================================================================================================
_Q5_CASE = (
    np.array([0.92, 0.71, 0.38, 0.80, 0.15, 0.55]),
    np.array([0.85, 0.62, 0.50, 0.70, 0.33, 0.52]),
    np.array([1.00, 0.80, 0.25, 0.60, 0.05, 0.90]),
)


def _q5_run(func, y, yhat, w, where: str, rtol: float = 1e-6) -> None:
    got = as_float(call(func, "weighted_r2", y.copy(), yhat.copy(), w.copy()), "weighted_r2(...)")
    if close(got, _weighted_r2(y, yhat, w), rtol=rtol, atol=1e-12):
        return
    said = f"{where}, `weighted_r2` returned {got:.4g}"
    ones = np.ones_like(w)
    sse = float(np.sum(w * (y - yhat) ** 2))
    if close(got, _weighted_r2(y, yhat, ones)):
        raise Incorrect(
            f"{said}: that is the unweighted R^2. Local fidelity weights each sample by its kernel "
            "weight, in both sums."
        )
    if close(got, 1 - sse / float(np.sum(w * (y - y.mean()) ** 2))):
        raise Incorrect(
            f"{said}: the mean in the denominator is unweighted. Use the weighted mean "
            "sum(w * y) / sum(w)."
        )
    if close(got, 1.0 - _weighted_r2(y, yhat, w)):
        raise Incorrect(f"{said}: that is SSE / SST; R^2 is 1 minus that ratio.")
    if close(got, _weighted_r2(yhat, y, w)):
        raise Incorrect(
            f"{said}: `y` and `y_hat` are swapped. The denominator measures the spread of the "
            "model's outputs `y` around their weighted mean."
        )
    if close(got, _weighted_r2(y, yhat, w**2)) or close(got, _weighted_r2(y, yhat, np.sqrt(w))):
        raise Incorrect(
            f"{said}: the weights are squared or square-rooted. Use `weights` as given."
        )
    raise Incorrect(
        f"{said}; it should be 1 - sum(w (y - y_hat)^2) / sum(w (y - weighted mean of y)^2)."
    )


@key_for(m09.q5)
class WeightedR2(Question):
    def references(self):
        return {"weighted_r2": lambda y, y_hat, weights: _weighted_r2(
            *(np.asarray(v, dtype=float) for v in (y, y_hat, weights)))}

    def verify(self, weighted_r2):
        y, yhat, w = _Q5_CASE
        where = f"For y={_lst(y)}, y_hat={_lst(yhat)}, weights={_lst(w)}"
        _q5_run(weighted_r2, y, yhat, w, where)

    def verify_hidden(self, seed, weighted_r2):
        rng = np.random.default_rng(seed)
        for _ in range(6):
            n = int(rng.integers(8, 60))
            y = rng.normal(rng.uniform(-2, 2), rng.uniform(0.2, 3), n)
            yhat = 0.7 * y + rng.normal(0.3, 0.5, n)
            w = rng.gamma(1.0, 1.0, n)
            _q5_run(weighted_r2, y, yhat, w, f"On fresh data (n={n})", rtol=1e-9)


# =================================================================================================
# q6: LIME against a known logistic model
# =================================================================================================
@functools.lru_cache(maxsize=1)
def _q6_refs() -> SimpleNamespace:
    d = _churn()
    args = (d.x, d.scale, d.width, _N_SAMPLES, 0)
    m = d.model

    def proba(Z):
        return m.predict_proba(Z)[:, 1]

    return SimpleNamespace(
        logodds=_lime(m.decision_function, *args),
        proba=_lime(proba, *args),
        labels=_lime(m.predict, *args),
        class0=_lime(lambda Z: m.predict_proba(Z)[:, 0], *args),
        logp=_lime(lambda Z: np.log(proba(Z)), *args),
        scale=d.scale,
        offset=d.x - d.mean,
        x=d.x,
        names=d.names,
    )


def _q6_top(r: SimpleNamespace) -> str:
    """This customer's largest contribution to the log-odds against an average customer."""
    return r.names[int(np.argmax(np.abs(r.logodds * r.offset)))]


def _q6_check(coef_logodds, coef_proba, top_feature, rtol: float) -> None:
    r = _q6_refs()
    p = len(r.names)
    lo = as_array(coef_logodds, "coef_logodds", shape=(p,))
    pr = as_array(coef_proba, "coef_proba", shape=(p,))
    fix_q2 = " (If q2 does not pass yet, fix `lime_explain` first.)"
    for got, name, ref, scale_name in (
        (lo, "coef_logodds", r.logodds, "log-odds"),
        (pr, "coef_proba", r.proba, "probability"),
    ):
        if _near(got, ref, rtol):
            continue
        said = f"`{name}` = {_lst(got)}"
        other = r.proba if name == "coef_logodds" else r.logodds
        if _near(got, other, 1e-6):
            raise Incorrect(
                f"{said} explains the wrong output: this is the surrogate on the "
                f"{'probability' if name == 'coef_logodds' else 'log-odds'} scale. `{name}` "
                f"explains the {scale_name}; the two names look swapped."
            )
        if _near(got, r.labels, 1e-6):
            raise Incorrect(
                f"{said} is a surrogate fitted on the predicted labels (`model.predict`), which "
                "jump from 0 to 1. Explain the model's continuous output: "
                f"{'`decision_function`' if name == 'coef_logodds' else '`predict_proba(Z)[:, 1]`'}."
            )
        if _near(got, r.class0, 1e-6):
            raise Incorrect(
                f"{said} explains column 0 of `predict_proba`, the probability of *staying*. "
                "Churn (class 1) is column 1."
            )
        if _near(got, r.logp, 1e-6):
            raise Incorrect(
                f"{said} explains log(p), not the log-odds log(p / (1 - p)). Use "
                "`model.decision_function`."
            )
        raise Incorrect(
            f"{said} is not the surrogate asked for: `lime_explain` on the {scale_name} with "
            f"x_applicant, scale, KERNEL_WIDTH, N_SAMPLES and seed=0.{fix_q2}"
        )
    name = as_str(top_feature, "top_feature")
    if name not in r.names:
        raise Incorrect(f"`top_feature` = {name!r} is not one of the features {r.names}.")
    if name == _q6_top(r):
        return
    said = f"`top_feature` = {name!r}"
    contribution = r.logodds * r.offset
    if name == r.names[int(np.argmax(contribution))] or name == r.names[
            int(np.argmin(contribution))]:
        raise Incorrect(
            f"{said} is the extreme of the *signed* contribution. A feature that pulls this "
            "customer's log-odds far *below* the average customer's explains the difference as "
            "much as one that pushes them above: rank by the size of the contribution."
        )
    if name == r.names[int(np.argmax(np.abs(r.logodds * r.scale)))] or name == r.names[
            int(np.argmax(np.abs(r.logodds * r.x)))]:
        raise Incorrect(
            f"{said} has the largest slope per standard deviation (or the largest slope times the "
            "raw value): that describes the model near this customer in general, not what makes "
            "*this* customer differ from an average one. How far the customer is from the average "
            "customer matters, feature by feature."
        )
    if name == r.names[int(np.argmax(np.abs(r.logodds)))]:
        raise Incorrect(
            f"{said} has the largest slope per *unit*, but the units are not comparable (a unit "
            "of discount share is the whole range; a unit of monthly fee is one dollar), and a "
            "slope alone says nothing about this customer's values."
        )
    raise Incorrect(
        f"{said} is not the feature that moves this customer's log-odds furthest from those of "
        "an average customer, according to `coef_logodds`."
    )


@key_for(m09.q6)
class KnownTruth(Question):
    tolerance = {"rtol": 1e-5, "atol": 1e-8}

    def references(self):
        r = _q6_refs()
        return {"coef_logodds": r.logodds.copy(), "coef_proba": r.proba.copy(),
                "top_feature": _q6_top(r)}

    def verify_graded(self, seed, **values):
        self.verify(**values)  # variables: no fresh inputs to draw

    def verify(self, coef_logodds, coef_proba, top_feature):
        _q6_check(coef_logodds, coef_proba, top_feature, rtol=1e-5)

    def verify_hidden(self, seed, coef_logodds, coef_proba, top_feature):
        values = (coef_logodds, coef_proba, top_feature)
        _q6_check(*values, rtol=1e-5)
        # The log-odds of a logistic regression are linear, so the local surrogate must recover
        # the model's own coefficients (up to the ridge penalty): an independent check.
        lo = as_array(coef_logodds, "coef_logodds")
        if not _near(lo, _churn().model.coef_.ravel(), 0.05):
            raise Incorrect(
                f"`coef_logodds` = {_lst(lo)} is far from the model's own coefficients, which a "
                "surrogate of a linear log-odds function must recover."
            )
        try:
            _q6_check(*values, rtol=1e-9)
        except Incorrect:
            raise Incorrect(
                "`coef_logodds` or `coef_proba` is close to the right values but not equal to "
                "them. Compute them with your `lime_explain` and do not round them."
            ) from None


# =================================================================================================
# q7: the data-randomisation sanity check (Adebayo et al., 2018)
# =================================================================================================
def _occlusion(coef: np.ndarray, intercept: float, A: np.ndarray, baseline: np.ndarray,
               output: str = "logodds") -> np.ndarray:
    """Occlusion of each feature (set to the baseline) on a logistic model's log-odds or proba."""
    def f(Z):
        z = Z @ coef + intercept
        return z if output == "logodds" else 1.0 / (1.0 + np.exp(-z))

    out = f(A)
    att = np.empty(A.shape)
    for j in range(A.shape[1]):
        A_j = A.copy()
        A_j[:, j] = baseline[j]
        att[:, j] = out - f(A_j)
    return att


def _spearman_rows(A: np.ndarray, B: np.ndarray) -> float:
    return float(np.mean([spearmanr(a, b).statistic for a, b in zip(A, B, strict=True)]))


def _fit(X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, float]:
    m = LogisticRegression(max_iter=1000).fit(X, y)
    return m.coef_.ravel(), float(m.intercept_[0])


_Q7_CACHE: dict[str, dict[str, float]] = {}


def _q7_values(X: np.ndarray, y: np.ndarray, rows: np.ndarray, seed: int) -> dict[str, float]:
    """The right similarity ("right") and what each catalogued mistake returns, by name."""
    memo = wire.dumps([np.asarray(X, dtype=float), np.asarray(y), np.asarray(rows), int(seed)])
    if memo in _Q7_CACHE:
        return _Q7_CACHE[memo]
    X, y, rows = np.asarray(X, float), np.asarray(y), np.asarray(rows, dtype=int)
    mean, A = X.mean(axis=0), X[rows]
    trained = _fit(X, y)
    rng = np.random.default_rng(seed)
    relabel = _fit(X, rng.permutation(y))
    feats = {
        "rows-shuffled": _fit(np.random.default_rng(seed).permutation(X), y),
        # rng.permuted(X, axis=0) draws the same as shuffling each column in turn
        "columns-shuffled": _fit(np.random.default_rng(seed).permuted(X, axis=0), y),
    }
    a_t = _occlusion(*trained, A, mean)
    a_r = _occlusion(*relabel, A, mean)
    out = {
        "right": _spearman_rows(np.abs(a_t), np.abs(a_r)),
        "signed": _spearman_rows(a_t, a_r),
        "pearson-raw": float(np.mean([np.corrcoef(a, b)[0, 1] for a, b in zip(a_t, a_r, strict=True)])),
        "pearson-abs": float(np.mean([np.corrcoef(a, b)[0, 1]
                                      for a, b in zip(np.abs(a_t), np.abs(a_r), strict=True)])),
        "flattened": float(spearmanr(np.abs(a_t).ravel(), np.abs(a_r).ravel()).statistic),
        "proba": _spearman_rows(np.abs(_occlusion(*trained, A, mean, "proba")),
                                np.abs(_occlusion(*relabel, A, mean, "proba"))),
    }
    for k, fitted in feats.items():
        out[k] = _spearman_rows(np.abs(a_t), np.abs(_occlusion(*fitted, A, mean)))
    if len(_Q7_CACHE) > 64:
        _Q7_CACHE.clear()
    _Q7_CACHE[memo] = out
    return out


#: Each catalogued mistake, by the name `_q7_values` gives it, with the feedback that names it.
_Q7_MISTAKES = (
    ("signed", "that is the rank correlation of the *signed* attributions. A feature whose "
     "attribution flips sign is still just as important; correlate the absolute attributions."),
    ("pearson-raw", "that is the Pearson correlation of the raw attributions, which the single "
     "largest attribution dominates. The test compares rankings: the Spearman correlation of the "
     "absolute attributions, row by row."),
    ("pearson-abs", "that is the Pearson correlation of the absolute attributions; the test uses "
     "their rank (Spearman) correlation, because the two models' attributions are on different "
     "scales."),
    ("flattened", "that is one Spearman correlation over all rows and features at once; the test "
     "correlates each row's attributions and then averages over the rows."),
    ("rows-shuffled", "the randomised model was fitted on shuffled inputs with the labels kept: "
     "you permuted the features, not the labels. The test keeps the inputs as they are and "
     "permutes only the labels `y`."),
    ("columns-shuffled", "the randomised model was fitted on feature columns shuffled one by one: "
     "you permuted the features, not the labels. That changes the inputs (and breaks the links "
     "between features); the test keeps the inputs and permutes only the labels `y`."),
    ("proba", "these are occlusions of the probability; the question explains the log-odds "
     "(`decision_function`)."),
)


def _q7_outcome(values: dict[str, float], margin: float = 1e-3):
    """The right similarity among ``values`` (:func:`_q7_values` of a case) and each named
    mistake's; None when the right one is not finite or is 1 (what the self-similarity mistake
    gives)."""
    right = values["right"]
    if not (np.isfinite(right) and abs(right - 1.0) > margin):
        return None
    return right, {k: values[k] for k, _ in _Q7_MISTAKES}


def _q7_apart(right: float, wrong: float, margin: float = 1e-3) -> bool:
    return abs(wrong - right) > margin


def _q7_separated(values: dict[str, float]) -> bool:
    return separates(_q7_outcome(values), _q7_apart)


def _q7_run(func, X, y, rows, seed, where: str, rtol: float = 1e-6) -> None:
    name = "data_randomisation_similarity"
    got = as_float(call(func, name, X.copy(), y.copy(), rows.copy(), seed), f"{name}(...)")
    values = _q7_values(X, y, rows, seed)
    if close(got, values["right"], rtol=rtol, atol=1e-9):
        return
    said = f"{where}, `{name}` returned {got:.4g}"
    if close(got, 1.0, rtol=0, atol=1e-9):
        raise Incorrect(
            f"{said}: exactly 1, the similarity of a model's explanations with themselves. The "
            "test compares with a *different* model: one refitted on the permuted labels "
            "(compared with the same model, every deterministic method scores 1)."
        )
    for key, why in _Q7_MISTAKES:
        if close(got, values[key], rtol=1e-6, atol=1e-9):
            raise Incorrect(f"{said}: {why}")
    if not -1.0 - 1e-9 <= got <= 1.0 + 1e-9:
        raise Incorrect(f"{said}, but a rank correlation lies between -1 and 1.")
    raise Incorrect(
        f"{said}; this is not the mean over the rows of the Spearman correlation between the "
        "absolute occlusions of the model and of the model refitted on `y` permuted by "
        "`np.random.default_rng(seed).permutation`. Check each step of the question."
    )


def _q7_table(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """A fresh table with a known logistic model: p features on different scales, n rows."""
    p, n = int(rng.integers(5, 9)), 240
    spread = rng.uniform(0.5, 20.0, p)
    centre = rng.normal(0.0, 3.0, p) * spread
    X = np.round(centre + spread * rng.standard_normal((n, p)), 3)
    beta = rng.normal(0.0, 1.0, p) / spread
    beta[rng.integers(0, p)] = 0.0  # one feature without effect
    logit = (X - centre) @ beta
    y = (rng.random(n) < 1.0 / (1.0 + np.exp(-logit))).astype(int)
    rows = np.sort(rng.choice(n, int(rng.integers(12, 25)), replace=False))
    return X, y, rows, int(rng.integers(0, 10_000))


def _q7_visible() -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """The visible case: the first 300 training customers of the churn table, 15 rows, seed 7."""
    d = _churn()
    return d.X_train[:300].copy(), d.y_train[:300].copy(), np.arange(0, 300, 20), 7


@key_for(m09.q7)
class DataRandomisation(Question):
    def references(self):
        return {"data_randomisation_similarity": lambda X, y, rows, seed: _q7_values(
            np.asarray(X, dtype=float), np.asarray(y), np.asarray(rows, dtype=int), seed)["right"]}

    def verify(self, data_randomisation_similarity):
        X, y, rows, seed = _q7_visible()
        where = f"For the first 300 training customers, rows {rows[0]}, {rows[1]}, ... and seed={seed}"
        _q7_run(data_randomisation_similarity, X, y, rows, seed, where)

    def verify_hidden(self, seed, data_randomisation_similarity):
        rng = np.random.default_rng(seed)
        for _ in range(2):  # redraw until every named mistake is separated; else the visible case
            X, y, rows, s = draw_separating(
                _q7_table, lambda case: _q7_outcome(_q7_values(*case)), rng, separated=_q7_apart,
                tries=30, fallback=_q7_visible)
            where = f"On a fresh table ({X.shape[1]} features, {rows.size} rows, seed={s})"
            _q7_run(data_randomisation_similarity, X, y, rows, s, where, rtol=1e-6)


# The decorator turns each class into its question instance: by label, and as q1 ... q6.
q1, q2, q3, q4, q5, q6, q7 = (
    KernelWeights, LimeFromScratch, Reproducible, Stability, WeightedR2, KnownTruth,
    DataRandomisation)
QUESTIONS = {q.label: q for q in (q1, q2, q3, q4, q5, q6, q7)}
