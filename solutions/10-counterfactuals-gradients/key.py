"""The answer key of assignment 10, "Counterfactuals, anchors and gradients": instructor-only.

``grader release`` and ``nbgrader generate_assignment`` skip this file (``nbgrader_config.py``
ignores ``key.py``). It holds the reference computations, the diagnosis of every check
(``verify``, ``verify_hidden``, ``verify_graded``) and each question's reference answers
(``references()``); the grader loads it outside the student's kernel (:mod:`grader.judging`).

The network is a one-hidden-layer MLP with *logistic* hidden units (the lecture's had tanh), given
as a plain dict ``net`` of its weights (``mean``, ``scale``, ``W1``, ``b1``, ``W2``, ``b2``) so
that fresh random networks can be passed to the student's functions. The data are the rental
applications of :func:`grader.datasets.make_tenancy` (the lecture used loans). Toy cases are
asymmetric on purpose, so each classic mistake gives its own answer and is named.
"""

from __future__ import annotations

import functools
from types import SimpleNamespace

import numpy as np
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from grader.checks import m10
from grader.checks.core import Incorrect, Question, call, key_for, unrounded
from grader.checks.values import as_array, as_float, as_int, as_str, as_tuple, show
from grader.datasets import TENANCY_FEATURES, make_tenancy

__all__ = ["QUESTIONS"]

_FEATURES = list(TENANCY_FEATURES)
_FROZEN_TENANT = (3, 4)  # missed_payments (history) and age (not advice): the q5 judgement
_IG_STEPS = 4096


# --- the network as plain data ------------------------------------------------------------------
def _parts(net: dict) -> tuple:
    return (np.asarray(net["mean"], float), np.asarray(net["scale"], float),
            np.asarray(net["W1"], float), np.asarray(net["b1"], float),
            np.asarray(net["W2"], float), float(net["b2"]))


def _sig(z):
    return 1.0 / (1.0 + np.exp(-z))


def _forward(X, net) -> tuple[np.ndarray, np.ndarray]:
    mean, scale, W1, b1, W2, b2 = _parts(net)
    Z = (np.atleast_2d(np.asarray(X, float)) - mean) / scale
    H = _sig(Z @ W1 + b1)
    return H @ W2 + b2, H


def _proba(X, net) -> np.ndarray:
    return _sig(_forward(X, net)[0])


def _grad(X, net, *, deriv: str = "logistic", scaled: str = "divide", output: str = "logodds",
          bias: bool = True):
    """The log-odds gradient (reference), and through the keywords each classic mistake."""
    mean, scale, W1, b1, W2, b2 = _parts(net)
    g, H = _forward(X, net)
    if not bias:  # the hidden units evaluated without their biases b1
        H = _sig((np.atleast_2d(np.asarray(X, float)) - mean) / scale @ W1)
    d = {"logistic": H * (1 - H), "tanh": 1 - H**2, "none": np.ones_like(H)}[deriv]
    grad = (d * W2) @ W1.T
    grad = {"divide": grad / scale, "none": grad, "multiply": grad * scale}[scaled]
    if output == "proba":
        p = _sig(g)
        grad = (p * (1 - p))[:, None] * grad
    return grad


def _ig(x, baseline, net, steps, *, rule: str = "midpoint", output: str = "proba",
        factor: bool = True, average: bool = True) -> np.ndarray:
    x, baseline = np.asarray(x, float), np.asarray(baseline, float)
    m = int(steps)
    alphas = {"midpoint": (np.arange(m) + 0.5) / m, "left": np.arange(m) / m,
              "right": (np.arange(m) + 1.0) / m, "linspace": np.linspace(0, 1, m),
              "at_x": np.ones(1)}[rule]
    path = baseline + alphas[:, None] * (x - baseline)
    grads = _grad(path, net, output=output)
    avg = grads.mean(axis=0) if average else grads.sum(axis=0)
    return (x - baseline) * avg if factor else avg


def _net_from(model) -> dict:
    scaler, mlp = model[0], model[-1]
    return {"mean": scaler.mean_.copy(), "scale": scaler.scale_.copy(),
            "W1": mlp.coefs_[0].copy(), "b1": mlp.intercepts_[0].copy(),
            "W2": mlp.coefs_[1][:, 0].copy(), "b2": float(mlp.intercepts_[1][0])}


@functools.lru_cache(maxsize=1)
def _tenancy() -> SimpleNamespace:
    """The notebook's setup: the tenancy data, the logistic-unit network, MAD and x_tenant."""
    X, y = make_tenancy(n=3000, seed=10)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, random_state=0,
                                                        stratify=y)
    model = make_pipeline(
        StandardScaler(),
        MLPClassifier(hidden_layer_sizes=(4,), activation="logistic", solver="lbfgs", alpha=1.0,
                      max_iter=3000, random_state=0),
    ).fit(X_train, y_train)
    net = _net_from(model)
    mad = np.median(np.abs(X_train - np.median(X_train, axis=0)), axis=0)
    p_test = _proba(X_test, net)
    i = int(np.flatnonzero((p_test > 0.2) & (p_test < 0.45) & (X_test[:, 3] >= 1))[0])
    pred_train = (_proba(X_train, net) >= 0.5).astype(int)
    return SimpleNamespace(X_train=X_train, y_train=y_train, X_test=X_test, net=net, mad=mad,
                           x=X_test[i].copy(), pred_train=pred_train)


def _random_net(rng, p: int, h: int) -> dict:
    return {"mean": rng.normal(0, 3, p), "scale": rng.uniform(0.2, 4.0, p),
            "W1": rng.normal(0, 1.2, (p, h)), "b1": rng.normal(0, 0.5, h),
            "W2": rng.normal(0, 1.5, h), "b2": float(rng.normal(0, 0.5))}


#: A tiny designed network: unequal scales, and units where each mistake gives its own answer.
_TOY_NET = {"mean": np.array([1.0, -2.0]), "scale": np.array([2.0, 0.5]),
            "W1": np.array([[0.5, -1.0], [1.5, 0.3]]), "b1": np.array([0.1, -0.2]),
            "W2": np.array([1.2, -0.7]), "b2": 0.3}


def _close(a, b, tol: float = 1e-6) -> bool:
    a, b = np.asarray(a, float), np.asarray(b, float)
    return a.shape == b.shape and bool(np.allclose(a, b, rtol=tol, atol=tol * 1e-2))


# =================================================================================================
# q1: the input gradient of the log-odds
# =================================================================================================
def _q1_case(func, X, net, where: str) -> None:
    got = call(func, "logodds_grad", X.copy(), {k: (v.copy() if hasattr(v, "copy") else v)
                                               for k, v in net.items()})
    n, p = X.shape
    arr = as_array(got, "logodds_grad(...)")
    if arr.shape != (n, p):
        raise Incorrect(
            f"{where}, `logodds_grad` returned shape {arr.shape}; it should be (n, p) = ({n}, {p}): "
            "one row per applicant, one column per input feature.")
    if _close(arr, _grad(X, net)):
        return
    said = f"{where}, `logodds_grad` returned {show(arr)}"
    if _close(arr, _grad(X, net, deriv="tanh")):
        raise Incorrect(
            f"{said}: that uses the tanh derivative 1 - h^2. This network's hidden units are "
            "logistic, whose derivative is h (1 - h).")
    if _close(arr, _grad(X, net, scaled="none")):
        raise Incorrect(
            f"{said}: that is the gradient with respect to the *standardised* inputs. The "
            "standardisation z = (x - mean) / scale adds a factor 1 / scale per feature.")
    if _close(arr, _grad(X, net, scaled="multiply")):
        raise Incorrect(
            f"{said}: the standardisation step multiplies by scale; its derivative dz/dx is "
            "1 / scale, so divide.")
    if _close(arr, _grad(X, net, deriv="none")):
        raise Incorrect(
            f"{said}: the activation's derivative is missing (that is the gradient of a *linear* "
            "network). Multiply by the derivative of each hidden unit at this input.")
    if _close(arr, _grad(X, net, output="proba")):
        raise Incorrect(
            f"{said}: that is the gradient of the probability. The question asks for the gradient "
            "of the log-odds g (before the sigmoid).")
    if _close(arr, _grad(X, net, bias=False)):
        raise Incorrect(
            f"{said}: the hidden units' derivatives are evaluated without the biases b1. Each "
            "unit's derivative h (1 - h) is taken at h = sigma(z W1 + b1).")
    raise Incorrect(f"{said}, which is not the gradient of the log-odds with respect to the inputs.")


@key_for(m10.q1)
class LogoddsGrad(Question):
    def references(self):
        return {"logodds_grad": lambda X, net: _grad(np.atleast_2d(np.asarray(X, float)), net)}

    def verify(self, logodds_grad):
        X = np.array([[0.0, 1.0], [2.0, -1.0], [1.5, 0.5]])
        _q1_case(logodds_grad, X, _TOY_NET, "For the toy network and 3 rows")
        data = _tenancy()
        _q1_case(logodds_grad, data.X_test[:4].copy(), data.net,
                 "For the tenancy network NET and X_test[:4]")

    def verify_hidden(self, seed, logodds_grad):
        rng = np.random.default_rng(seed)
        for _ in range(5):
            p, h, n = int(rng.integers(2, 7)), int(rng.integers(2, 8)), int(rng.integers(2, 7))
            net = _random_net(rng, p, h)
            X = net["mean"] + rng.normal(0, 1, (n, p)) * net["scale"]
            _q1_case(logodds_grad, X, net, f"On a fresh random network ({p} inputs, {h} units)")


# =================================================================================================
# q2: integrated gradients of the probability
# =================================================================================================
def _q2_case(func, x, b, net, steps: int, where: str) -> None:
    got = call(func, "integrated_gradients", x.copy(), b.copy(),
               {k: (v.copy() if hasattr(v, "copy") else v) for k, v in net.items()}, steps)
    arr = as_array(got, "integrated_gradients(...)")
    if arr.shape != x.shape:
        raise Incorrect(
            f"{where}, `integrated_gradients` returned shape {arr.shape}; it should be {x.shape}, "
            "one attribution per feature.")
    if _close(arr, _ig(x, b, net, steps)):
        return
    said = f"{where} (steps={steps}), `integrated_gradients` returned {show(arr)}"
    if _close(arr, _ig(x, b, net, steps, factor=False)):
        raise Incorrect(
            f"{said}: that is the average gradient along the path, without the factor "
            "(x - baseline). Each attribution is the feature's distance times its average slope.")
    if steps > 1 and _close(arr, _ig(x, b, net, steps, average=False)):
        raise Incorrect(
            f"{said}: the gradients along the path are summed, not averaged. The Riemann sum "
            "weighs each of the `steps` points by 1 / steps.")
    if _close(arr, -_ig(x, b, net, steps)):
        raise Incorrect(
            f"{said}: every sign is flipped. The factor is (x - baseline): the attributions "
            "explain P(x) - P(baseline).")
    if _close(arr, _ig(x, b, net, steps, output="logodds")):
        raise Incorrect(
            f"{said}: these explain the log-odds. The question explains P(approve): use the "
            "gradient of the probability, p (1 - p) times the log-odds gradient.")
    if _close(arr, _ig(x, b, net, steps, rule="at_x")):
        raise Incorrect(
            f"{said}: that is the gradient at x times (x - baseline), i.e. gradient x input. "
            "Integrated gradients average the gradient along the whole path.")
    for rule, text in (("linspace", "np.linspace(0, 1, steps), which includes both ends"),
                       ("left", "the left ends k / steps"), ("right", "the right ends (k+1) / steps")):
        if _close(arr, _ig(x, b, net, steps, rule=rule)):
            raise Incorrect(
                f"{said}: the path points are {text}, not the midpoint rule. Use the centres "
                "(k + 0.5) / steps for k = 0 .. steps - 1.")
    raise Incorrect(f"{said}, which are not the integrated gradients of P(approve) (midpoint rule).")


@key_for(m10.q2)
class IntegratedGradients(Question):
    def references(self):
        return {"integrated_gradients": lambda x, baseline, net, steps: _ig(x, baseline, net, steps)}

    def verify(self, integrated_gradients):
        _q2_case(integrated_gradients, np.array([3.0, -1.0]), np.array([0.5, -2.5]), _TOY_NET, 4,
                 "For the toy network, x=[3, -1], baseline=[0.5, -2.5]")
        data = _tenancy()
        mean = data.X_train.mean(axis=0)
        _q2_case(integrated_gradients, data.x.copy(), mean, data.net, 16,
                 "For x_tenant against the training mean")

    def verify_hidden(self, seed, integrated_gradients):
        rng = np.random.default_rng(seed)
        for steps in (1, 3, 10, 40):
            p, h = int(rng.integers(2, 6)), int(rng.integers(2, 6))
            net = _random_net(rng, p, h)
            x = net["mean"] + rng.normal(0, 1.5, p) * net["scale"]
            b = net["mean"] + rng.normal(0, 1.5, p) * net["scale"]
            _q2_case(integrated_gradients, x, b, net, steps,
                     f"On a fresh random network ({p} inputs)")


# =================================================================================================
# q3: precision and coverage of a rule
# =================================================================================================
def _pc(X, pred, lower, upper, decision, *, closed_lower=False, open_upper=False, other=False,
        whole=False, per_decision=False, count=False):
    X, pred = np.asarray(X, float), np.asarray(pred)
    lower, upper = np.asarray(lower, float), np.asarray(upper, float)
    low_ok = X >= lower if closed_lower else X > lower
    up_ok = X < upper if open_upper else X <= upper
    inside = np.all(low_ok & up_ok, axis=1)
    n = int(inside.sum())
    pool = pred if whole else pred[inside]
    hit = pool != decision if other else pool == decision
    precision = float(np.mean(hit)) if pool.size else float("nan")
    if count:
        coverage = float(n)
    elif per_decision:
        coverage = n / max(int(np.sum(pred == decision)), 1)
    else:
        coverage = n / len(pred)
    return precision, float(coverage), n


#: Integer-valued pool: two rows sit exactly on the lower bound of feature 0 (excluded) and two on
#: its upper bound (included); the decisions differ inside and outside the rule.
_Q3_POOL = np.array([[1, 2], [1, 4], [2, 3], [2, 6], [3, 1], [3, 5], [4, 2], [0, 3], [2, 2],
                     [3, 3], [5, 5], [2, 4]], dtype=float)
_Q3_PRED = np.array([0, 0, 1, 1, 1, 0, 0, 0, 1, 1, 0, 0])
_Q3_CASES = (
    (np.array([1.0, -np.inf]), np.array([3.0, 5.0]), 1),
    (np.array([-np.inf, 2.0]), np.array([np.inf, np.inf]), 0),
    (np.array([5.0, -np.inf]), np.array([np.inf, 4.0]), 1),  # covers nothing: precision is NaN
)


def _q3_case(func, X, pred, lower, upper, decision, where: str) -> None:
    got = call(func, "precision_coverage", X.copy(), pred.copy(), lower.copy(), upper.copy(),
               decision)
    items = as_tuple(got, "precision_coverage", 3)
    prec = as_float(items[0], "precision_coverage(...)[0] (precision)", finite=False)
    cov = as_float(items[1], "precision_coverage(...)[1] (coverage)")
    n = as_int(items[2], "precision_coverage(...)[2] (number of covered rows)")
    ref = _pc(X, pred, lower, upper, decision)

    def same(a, b):
        return (np.isnan(a) and np.isnan(b)) or (not np.isnan(a) and not np.isnan(b)
                                                and abs(a - b) <= 1e-9)

    mine = (prec, cov, n)
    if same(prec, ref[0]) and same(cov, ref[1]) and n == ref[2]:
        return
    said = f"{where}, `precision_coverage` returned ({prec:.4g}, {cov:.4g}, {n})"
    bounds = (
        (dict(closed_lower=True, open_upper=True), "the rows on a lower bound are counted as "
         "covered and the rows on an upper bound are not: the inequalities are the wrong way "
         "round."),
        (dict(closed_lower=True), "the rows on a lower bound are counted as covered."),
        (dict(open_upper=True), "the rows on an upper bound are left out."),
    )
    for kw, text in bounds:
        if n == _pc(X, pred, lower, upper, decision, **kw)[2] and n != ref[2]:
            raise Incorrect(f"{said}: {text} The rule is lower < x <= upper: a lower bound is "
                            "excluded, an upper bound included.")
    if n != ref[2]:
        raise Incorrect(f"{said}: {n} covered rows is not the number of rows that satisfy every "
                        "interval of the rule.")
    checks = (
        (dict(whole=True), 0, "the precision is computed over the whole pool. Precision is the "
         "share of the *covered* rows that get the same decision."),
        (dict(other=True), 0, "that precision is the share of covered rows with the *other* "
         "decision. Count the covered rows whose prediction equals `decision`."),
        (dict(per_decision=True), 1, "the coverage divides by the rows with the same decision. "
         "Coverage is the share of *all* rows of the pool that satisfy the rule."),
    )
    # The named mistakes first: dividing by the rows with the same decision can exceed 1 too, and
    # must not be called a count (a near miss explained by a known mistake is named as that).
    for kw, i, text in checks:
        if same(mine[i], _pc(X, pred, lower, upper, decision, **kw)[i]) and not same(mine[i], ref[i]):
            raise Incorrect(f"{said}: {text}")
    if cov > 1 and abs(cov - 100 * ref[1]) <= 1e-7:
        raise Incorrect(f"{said}: a coverage of {cov:.4g} is a percentage. Return the share as a "
                        "fraction between 0 and 1.")
    if prec > 1 and not np.isnan(ref[0]) and abs(prec - 100 * ref[0]) <= 1e-7:
        raise Incorrect(f"{said}: a precision of {prec:.4g} is a percentage. Return the share "
                        "as a fraction between 0 and 1.")
    if cov > 1:
        raise Incorrect(f"{said}: a coverage of {cov:.4g} is a count. Coverage is the *share* of "
                        "the pool that the rule covers.")
    if np.isnan(ref[0]) and not np.isnan(prec):
        raise Incorrect(f"{said}: no row satisfies this rule, so the precision is undefined: "
                        "return float('nan') for it.")
    raise Incorrect(f"{said}, which is not (precision, coverage, covered rows) of this rule.")


@key_for(m10.q3)
class PrecisionCoverage(Question):
    def references(self):
        return {"precision_coverage": lambda X_pool, pred_pool, lower, upper, decision:
                _pc(X_pool, pred_pool, lower, upper, decision)}

    def verify(self, precision_coverage):
        for lower, upper, decision in _Q3_CASES:
            _q3_case(precision_coverage, _Q3_POOL, _Q3_PRED, lower, upper, decision,
                     f"For the 12-row toy pool and the rule {lower} < x <= {upper} (decision "
                     f"{decision})")
        data = _tenancy()
        X, pred = data.X_train[:300], data.pred_train[:300]
        edges = np.quantile(data.X_train, [0.25, 0.5, 0.75], axis=0)
        lower = np.array([-np.inf, edges[1, 1], -np.inf, edges[0, 3], -np.inf])
        upper = np.array([edges[1, 0], np.inf, edges[1, 2], np.inf, np.inf])
        _q3_case(precision_coverage, X, pred, lower, upper, 0,
                 "For the first 300 training applicants and a four-predicate rule")

    def verify_hidden(self, seed, precision_coverage):
        rng = np.random.default_rng(seed)
        for k in range(6):
            n, p = int(rng.integers(30, 150)), int(rng.integers(2, 5))
            X = np.round(rng.normal(0, 1, (n, p)), 1)
            pred = (rng.random(n) < rng.uniform(0.2, 0.8)).astype(int)
            lower = np.round(rng.uniform(-1.5, 0.0, p), 1)
            upper = np.round(rng.uniform(0.0, 1.5, p), 1)
            off = rng.random(p) < 0.3
            lower[off], upper[rng.random(p) < 0.3] = -np.inf, np.inf
            if k == 5:  # a rule that covers nothing
                lower[0], upper[0] = 5.0, 6.0
            _q3_case(precision_coverage, X, pred, lower, upper, int(rng.integers(0, 2)),
                     f"On a fresh random pool ({n} rows, {p} features)")


# =================================================================================================
# q4: one refusal against the applicants the model approves
# =================================================================================================
def _baselines() -> dict[str, np.ndarray]:
    data = _tenancy()
    Xt, pred = data.X_train, data.pred_train
    return {"ref": np.median(Xt[pred == 1], axis=0), "zeros": np.zeros(Xt.shape[1]),
            "mean": Xt.mean(axis=0), "median": np.median(Xt, axis=0),
            "labels": np.median(Xt[data.y_train == 1], axis=0),
            "refused": np.median(Xt[pred == 0], axis=0),
            "mean_approved": Xt[pred == 1].mean(axis=0)}


_BASELINE_TEXT = {
    "zeros": "the all-zeros input: an applicant with no income, no rent and age 0, who does not "
             "exist. That baseline is not neutral here; use the typical approved applicant.",
    "mean": "the mean of all training applicants, approved or not. The question compares with a "
            "typical *approved* applicant.",
    "median": "the median of all training applicants, approved or not. The question compares "
              "with a typical *approved* applicant.",
    "labels": "the median of the applicants whose *label* is 1. The baseline describes what the "
              "model approves: select rows by the model's predictions.",
    "refused": "the median of the applicants the model *refuses*. Compare with the approved ones.",
    "mean_approved": "the mean of the approved applicants. The prompt asks for the feature-wise "
                     "median, which a few extreme incomes do not move.",
}


def _q4_refs() -> dict[str, float]:
    data = _tenancy()
    b = _baselines()["ref"]
    ig = _ig(data.x, b, data.net, _IG_STEPS)
    return {"p_baseline": float(_proba(b, data.net)[0]), "ig_sum": float(ig.sum()),
            "ig_rent_share": float(ig[1]), "ig": ig}


def _q4_check(p_baseline, ig_sum, ig_rent_share, tol: float) -> None:
    data = _tenancy()
    r = _q4_refs()
    pb = as_float(p_baseline, "p_baseline")
    if abs(pb - r["p_baseline"]) > tol:
        said = f"`p_baseline` = {pb:.4g}"
        for name, b in _baselines().items():
            if name != "ref" and abs(pb - float(_proba(b, data.net)[0])) <= tol:
                raise Incorrect(f"{said} is the model's probability at {_BASELINE_TEXT[name]}")
        if abs(pb - float(_proba(data.x, data.net)[0])) <= tol:
            raise Incorrect(f"{said} is P(approve) of x_tenant itself, not of the baseline.")
        raise Incorrect(f"{said} is not the model's P(approve) at the median approved applicant.")
    s = as_float(ig_sum, "ig_sum")
    if abs(s - r["ig_sum"]) > tol and abs(s + r["ig_sum"]) <= tol:
        raise Incorrect(
            f"`ig_sum` = {s:.5g} has the wrong sign: these attributions explain the baseline "
            "against x_tenant. Pass x_tenant as `x` and the baseline as `baseline`.")
    b = _baselines()["ref"]
    logodds_gap = float(_forward(data.x, data.net)[0][0] - _forward(b, data.net)[0][0])
    if abs(s - r["ig_sum"]) > tol and abs(s - logodds_gap) <= max(tol, 1e-3):
        raise Incorrect(
            f"`ig_sum` = {s:.5g} is on the log-odds scale. The question explains P(approve), "
            "whose gap to the baseline is a difference of probabilities.")
    if abs(s - r["ig_sum"]) > tol:
        raise Incorrect(
            f"`ig_sum` = {s:.5g} does not add up: completeness says the attributions sum to "
            f"P(x_tenant) - P(baseline). A gap this large means too few steps in the Riemann sum "
            "(or a different output or baseline): raise `steps` until the gap is below 1e-5.")
    v = as_float(ig_rent_share, "ig_rent_share")
    if abs(v - r["ig_rent_share"]) > tol:
        said = f"`ig_rent_share` = {v:.4g}"
        others = [j for j in range(5) if j != 1 and abs(v - r["ig"][j]) <= tol]
        if others:
            raise Incorrect(f"{said} is the attribution of `{_FEATURES[others[0]]}`. rent_share is "
                            "feature 1 (the second column).")
        if abs(v - r["ig_rent_share"] / r["ig_sum"]) <= tol:
            raise Incorrect(f"{said} is rent_share's fraction of the sum. The question asks for "
                            "its attribution itself, in units of probability.")
        raise Incorrect(f"{said} is not rent_share's integrated gradient for x_tenant.")


@key_for(m10.q4)
class BaselineRefusal(Question):
    tolerance = {"rtol": 0.0, "atol": 5e-5}

    def references(self):
        r = _q4_refs()
        return {k: r[k] for k in ("p_baseline", "ig_sum", "ig_rent_share")}

    def verify_graded(self, seed, **values):
        self.verify(**values)  # variables: no fresh inputs to draw

    def verify(self, p_baseline, ig_sum, ig_rent_share):
        _q4_check(p_baseline, ig_sum, ig_rent_share, tol=5e-5)

    def verify_hidden(self, seed, p_baseline, ig_sum, ig_rent_share):
        values = (p_baseline, ig_sum, ig_rent_share)
        unrounded(lambda tol: _q4_check(*values, tol=tol), 5e-5, 2e-6,
                  "One of `p_baseline`, `ig_sum` or `ig_rent_share` is close to the right value but "
                  "not equal to it. Compute each in code (with enough steps), and do not round.")


# =================================================================================================
# q5: the cheapest single actionable change
# =================================================================================================
def _menu(x, net, mad, frozen, target, *, dirs=(1, -1)) -> list[tuple[int, int, int]]:
    """(k, j, direction) of the first grid step of each movable feature that reaches target."""
    x, mad = np.asarray(x, float), np.asarray(mad, float)
    ks = np.arange(1, 401)
    out = []
    for j in range(x.size):
        if j in set(int(f) for f in frozen):
            continue
        found = []
        for s in dirs:
            Z = np.repeat(x[None], ks.size, axis=0)
            Z[:, j] = x[j] + s * ks * mad[j] / 100
            hit = np.flatnonzero(_proba(Z, net) >= target)
            if hit.size:
                found.append((int(ks[hit[0]]), j, s))
        if found:
            out.append(min(found, key=lambda f: (f[0], -f[2])))
    return out


def _cheapest(x, net, mad, frozen, target, *, unscaled=False, dirs=(1, -1)) -> np.ndarray:
    x, mad = np.asarray(x, float), np.asarray(mad, float)
    options = _menu(x, net, mad, frozen, target, dirs=dirs)
    z = x.copy()
    if not options:
        return z
    cost = (lambda o: o[0] * mad[o[1]] / 100) if unscaled else (lambda o: o[0] / 100)
    k, j, s = min(options, key=lambda o: (cost(o), o[1]))
    z[j] = x[j] + s * k * mad[j] / 100
    return z


#: A designed network whose P(approve) is U-shaped in feature 0: both directions reach the target,
#: going down at a lower cost (k = 170 against 270); feature 1 never reaches it.
_Q5_U_NET = {"mean": np.zeros(2), "scale": np.ones(2),
             "W1": np.array([[4.0, -4.0, 0.0], [0.0, 0.0, 1.0]]), "b1": np.array([-4.0, -2.0, 0.0]),
             "W2": np.array([3.0, 3.0, 1.0]), "b2": -2.9}
_Q5_U_CASE = (np.zeros(2), _Q5_U_NET, np.array([0.5, 2.0]), [], 0.5)


def _first_reaching(x, net, mad, frozen, target) -> np.ndarray:
    """The mistake of taking the first feature (in index order) whose grid reaches the target."""
    x = np.asarray(x, float)
    options = _menu(x, net, mad, frozen, target)
    z = x.copy()
    if options:
        k, j, s = options[0]
        z[j] = x[j] + s * k * np.asarray(mad, float)[j] / 100
    return z


def _q5_case(func, x, net, mad, frozen, target, where: str) -> None:
    got = call(func, "cheapest_single_change", x.copy(),
               {k: (v.copy() if hasattr(v, "copy") else v) for k, v in net.items()}, mad.copy(),
               list(frozen), target)
    z = as_array(got, "cheapest_single_change(...)")
    if z.shape != x.shape:
        raise Incorrect(f"{where}, `cheapest_single_change` returned shape {z.shape}; it should "
                        f"return the counterfactual applicant, shape {x.shape}.")
    ref = _cheapest(x, net, mad, frozen, target)
    if _close(z, ref, 1e-9):
        return
    said = f"{where}, `cheapest_single_change` returned {show(z)}"
    if _close(z, ref - x, 1e-9):
        raise Incorrect(f"{said}: that is the change, not the counterfactual. Return x with the "
                        "change applied.")
    moved = [j for j in range(x.size) if abs(z[j] - x[j]) > 1e-12]
    bad = [j for j in moved if j in set(frozen)]
    if bad:
        raise Incorrect(f"{said}: it changes feature {bad[0]}, which `frozen` says cannot change. "
                        "Frozen features are not allowed to move at all.")
    if len(moved) > 1:
        raise Incorrect(f"{said}: it changes {len(moved)} features; change exactly one.")
    if moved and _proba(z, net)[0] < target:
        raise Incorrect(f"{said}: its P(approve) is {_proba(z, net)[0]:.4f}, below the target "
                        f"{target:g}. Stop at the first step that *reaches* the target.")
    if _close(z, _cheapest(x, net, mad, frozen, target, unscaled=True), 1e-9):
        raise Incorrect(f"{said}: that change is the smallest in the feature's own units (an "
                        "unscaled distance), which favours features measured in small units. "
                        "Compare features by the change divided by their MAD.")
    if _close(z, _cheapest(x, net, mad, frozen, target, dirs=(1,)), 1e-9):
        raise Incorrect(f"{said}: its change goes up, but here a change going *down* reaches the "
                        "target at a lower cost. Search both directions for every feature and "
                        "keep the smaller k.")
    if _close(z, _first_reaching(x, net, mad, frozen, target), 1e-9):
        raise Incorrect(f"{said}: that is the first feature (in index order) whose change reaches "
                        "the target, not the cheapest one. Compare the costs of all the options.")
    if not moved and _menu(x, net, mad, frozen, target):
        raise Incorrect(f"{said}: nothing changed, but a single change within 4 MADs reaches the "
                        "target here.")
    raise Incorrect(f"{said}, which is not the cheapest single change (in MADs) that reaches the "
                    "target.")


def _q5_variables(cf_feature, cf_cost) -> None:
    data = _tenancy()
    name = as_str(cf_feature, "cf_feature")
    if name not in _FEATURES:
        raise Incorrect(f"`cf_feature` = {name!r} is not one of the feature names "
                        f"{', '.join(_FEATURES)}.")
    cost = as_float(cf_cost, "cf_cost")
    ref = _cheapest(data.x, data.net, data.mad, _FROZEN_TENANT, 0.5)
    j = int(np.flatnonzero(np.abs(ref - data.x) > 1e-12)[0])
    if name == _FEATURES[j] and abs(cost - abs(ref[j] - data.x[j]) / data.mad[j]) <= 1e-6:
        return
    if name == "missed_payments":
        raise Incorrect(
            "`cf_feature` = 'missed_payments': the advice is to have fewer missed payments in the "
            "past two years. That is history: no applicant can act on it before applying. "
            "Freeze it.")
    if name == "age":
        raise Incorrect("`cf_feature` = 'age': an applicant cannot change their age, and advice "
                        "to be older (or younger) is no advice. Freeze it.")
    unscaled = _cheapest(data.x, data.net, data.mad, _FROZEN_TENANT, 0.5, unscaled=True)
    ju = int(np.flatnonzero(np.abs(unscaled - data.x) > 1e-12)[0])
    if name == _FEATURES[ju] and ju != j:
        raise Incorrect(f"`cf_feature` = {name!r} is the smallest change in raw units. Compare "
                        "features by cost in MADs.")
    if name != _FEATURES[j]:
        raise Incorrect(f"`cf_feature` = {name!r} is not the feature of the cheapest actionable "
                        "single change for x_tenant.")
    raise Incorrect(f"`cf_cost` = {cost:.4g} is not the cost, in MADs, of that change "
                    "(|change| / MAD of the feature).")


@key_for(m10.q5)
class CheapestChange(Question):
    def references(self):
        data = _tenancy()
        ref = _cheapest(data.x, data.net, data.mad, _FROZEN_TENANT, 0.5)
        j = int(np.flatnonzero(np.abs(ref - data.x) > 1e-12)[0])
        return {"cheapest_single_change": lambda x, net, mad, frozen, target:
                _cheapest(x, net, mad, frozen, target),
                "cf_feature": _FEATURES[j],
                "cf_cost": float(abs(ref[j] - data.x[j]) / data.mad[j])}

    def verify(self, cheapest_single_change, cf_feature, cf_cost):
        data = _tenancy()
        x, net, mad = data.x, data.net, data.mad
        # Not x_tenant with its own frozen set: results on the visible inputs are stored plainly.
        _q5_case(cheapest_single_change, x, net, mad, [2, 3], 0.5,
                 "For x_tenant with frozen=[2, 3] and target 0.5")
        _q5_case(cheapest_single_change, x, net, mad, [], 0.5,
                 "For x_tenant with nothing frozen and target 0.5")
        _q5_case(cheapest_single_change, *_Q5_U_CASE,
                 "For x=[0, 0], a toy network whose P(approve) rises on both sides of x[0], "
                 "mad=[0.5, 2] and target 0.5")
        for i, frozen, target in ((3, [4], 0.55), (17, [0, 3], 0.5)):
            row = data.X_test[i].copy()
            _q5_case(cheapest_single_change, row, net, mad, frozen, target,
                     f"For X_test[{i}] with frozen={frozen} and target {target}")
        _q5_variables(cf_feature, cf_cost)

    def verify_hidden(self, seed, cheapest_single_change, cf_feature, cf_cost):
        data = _tenancy()
        rng = np.random.default_rng(seed)
        X, _ = make_tenancy(n=400, seed=int(seed) % 100000 + 1)
        p = _proba(X, data.net)
        rows = np.flatnonzero((p > 0.15) & (p < 0.45))
        done = 0
        for i in rng.permutation(rows):
            frozen = sorted(int(j) for j in np.flatnonzero(rng.random(5) < 0.35))
            target = float(np.round(rng.uniform(0.5, 0.62), 3))
            options = _menu(X[i], data.net, data.mad, frozen, target)
            costs = sorted(o[0] for o in options)
            if len(costs) > 1 and costs[0] == costs[1]:
                continue  # a tie between features: the grid cannot separate them
            _q5_case(cheapest_single_change, X[i].copy(), data.net, data.mad, frozen, target,
                     f"For a fresh applicant with frozen={frozen} and target {target:g}")
            done += 1
            if done == 5:
                break
        _q5_case(cheapest_single_change, *_Q5_U_CASE,
                 "For x=[0, 0], a toy network whose P(approve) rises on both sides of x[0]")
        _q5_variables(cf_feature, cf_cost)


q1, q2, q3, q4, q5 = (LogoddsGrad, IntegratedGradients, PrecisionCoverage, BaselineRefusal,
                      CheapestChange)
QUESTIONS = {q.label: q for q in (q1, q2, q3, q4, q5)}
