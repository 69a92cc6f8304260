"""Assignment 03 checks (the key ``solutions/03-linear-algebra-calculus/key.py``): right answers
pass, named mistakes fail, also when judged outside the kernel.

Fast unit tests: the key's ``verify``/``verify_hidden`` are called directly with the values a
student would define (no notebook is executed), and through :mod:`grader.judging` (plan, collect
in-process, replay) for the inputs that are functions themselves. The mutant catalogue in
``solutions/03-linear-algebra-calculus/mutants.yml`` is proved against the executed notebook by
``grader verify``; these tests pin the same mistakes at the unit level, plus the tiers around
them (not attempted, wrong type, crashes) and the rule that feedback never shows the expected
value.
"""

from __future__ import annotations

import itertools
import json
import math
import re
import warnings
from pathlib import Path

import numpy as np
import pytest
from conftest import no_return as _no_return
from conftest import unfinished as _unfinished
from scipy.special import expit
from scipy.special import logit as sp_logit

from grader import judging
from grader.checks import Incorrect, NotAttempted, wire
from grader.checks import m03 as student_m03
from grader.checks.collect import gather
from grader.checks.offline import load_key_file

ROOT = Path(__file__).resolve().parents[1]
m03 = load_key_file(ROOT / "solutions/03-linear-algebra-calculus/key.py")

SEEDS = (0, 1, 7, 3011, 3023, 3037, 3053, 3079)


# --- right answers: the notebook's solutions and a second, differently written version ---------
def _design(X):
    X = np.asarray(X, dtype=float)
    return np.column_stack([np.ones(X.shape[0]), X])


def ols(X, y):
    return np.linalg.lstsq(_design(X), np.asarray(y, dtype=float), rcond=None)[0]


def ols_pinv_list(X, y):
    """The pseudo-inverse, returned as a list: also accepted."""
    return list(np.linalg.pinv(_design(X)) @ np.asarray(y, dtype=float))


def vif(X):
    X = np.asarray(X, dtype=float)
    out = np.empty(X.shape[1])
    for j in range(X.shape[1]):
        target, others = X[:, j], np.delete(X, j, axis=1)
        resid = target - _design(others) @ ols(others, target)
        r2 = 1 - resid @ resid / np.sum((target - target.mean()) ** 2)
        out[j] = 1 / (1 - r2)
    return out


def vif_from_correlation(X):
    """The diagonal of the inverse correlation matrix: the same numbers."""
    return np.diag(np.linalg.inv(np.corrcoef(np.asarray(X, dtype=float), rowvar=False)))


def condition_number(X):
    X = np.asarray(X, dtype=float)
    return float(np.linalg.cond((X - X.mean(axis=0)) / X.std(axis=0)))


def condition_number_svd(X):
    Z = (X - X.mean(axis=0)) / X.std(axis=0, ddof=1)
    s = np.linalg.svd(Z, compute_uv=False)
    return s.max() / s.min()  # a NumPy float


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-np.asarray(z, dtype=float)))


def logit(p):
    p = np.asarray(p, dtype=float)
    return np.log(p / (1.0 - p))


def prob_after_shift(p0, beta):
    return float(sigmoid(logit(p0) + beta))


def prob_after_shift_odds(p0, beta):
    odds = p0 / (1 - p0) * math.exp(beta)
    return odds / (1 + odds)


def num_grad(f, x, h=1e-5):
    x = np.asarray(x, dtype=float)
    grad = np.empty_like(x)
    for i in range(x.size):
        e = np.zeros_like(x)
        e[i] = h
        grad[i] = (f(x + e) - f(x - e)) / (2 * h)
    return grad


def num_grad_eye(f, x, h=1e-5):
    x = np.asarray(x, dtype=float)
    return np.array([(f(x + h * e) - f(x - h * e)) / (2 * h) for e in np.eye(x.size)])


def shapley_weight(p, s):
    return math.factorial(s) * math.factorial(p - s - 1) / math.factorial(p)


def shapley_value(v, p, i):
    others = [j for j in range(p) if j != i]
    return float(
        sum(
            shapley_weight(p, r) * (v(S + (i,)) - v(S))
            for r in range(p)
            for S in itertools.combinations(others, r)
        )
    )


def shapley_weight_comb(p, s):
    return 1 / (p * math.comb(p - 1, s))


def shapley_value_permutations(v, p, i):
    """The average over all orderings of the marginal contribution: the same value, with sets."""
    total = 0.0
    perms = list(itertools.permutations(range(p)))
    for order in perms:
        before = set(order[: order.index(i)])
        total += v(before | {i}) - v(before)
    return total / len(perms)


RIGHT = {
    "q1": [dict(ols=ols), dict(ols=ols_pinv_list)],
    "q2": [dict(vif=vif), dict(vif=vif_from_correlation)],
    "q3": [dict(condition_number=condition_number), dict(condition_number=condition_number_svd)],
    "q4": [dict(sigmoid=sigmoid, logit=logit), dict(sigmoid=expit, logit=sp_logit)],
    "q5": [dict(prob_after_shift=prob_after_shift), dict(prob_after_shift=prob_after_shift_odds)],
    "q6": [dict(num_grad=num_grad), dict(num_grad=num_grad_eye)],
    "q7": [
        dict(shapley_weight=shapley_weight, shapley_value=shapley_value),
        dict(shapley_weight=shapley_weight_comb, shapley_value=shapley_value_permutations),
    ],
}
QUESTIONS = {f"q{i}": getattr(m03, f"q{i}") for i in range(1, 8)}


@pytest.mark.parametrize(
    "label, values", [(q, v) for q, vs in RIGHT.items() for v in vs], ids=lambda x: str(x)[:14]
)
def test_right_answers_pass_visible_and_hidden(label, values):
    question = QUESTIONS[label]
    question.verify(**values)
    for seed in SEEDS:
        question.verify_hidden(seed=seed, **values)


# --- the catalogued mistakes -------------------------------------------------------------------
def _ols_mistake(kind):
    def f(X, y):
        X = np.asarray(X, dtype=float)
        X1 = _design(X)
        if kind == "no_intercept":
            return np.linalg.lstsq(X, y, rcond=None)[0]
        if kind == "last":
            return np.linalg.lstsq(np.column_stack([X, np.ones(len(X))]), y, rcond=None)[0]
        if kind == "inv":
            return np.linalg.inv(X1.T @ X1) @ X1.T @ y
        if kind == "transpose":
            return np.linalg.solve(X1.T @ X1, X1 @ y)
        if kind == "tuple":
            return np.linalg.lstsq(X1, y, rcond=None)
        if kind == "fitted":
            return X1 @ ols(X, y)
        raise AssertionError(kind)

    return f


def _vif_mistake(kind):
    def f(X):
        X = np.asarray(X, dtype=float)
        out = []
        for j in range(X.shape[1]):
            t, o = X[:, j], np.delete(X, j, axis=1)
            A = o if kind == "origin" else _design(o)
            r = t - A @ np.linalg.lstsq(A, t, rcond=None)[0]
            r2 = 1 - r @ r / np.sum((t - t.mean()) ** 2)
            out.append(
                {"inv_r2": 1 / r2, "odds": r2 / (1 - r2), "r2": r2, "tol": 1 - r2}.get(
                    kind, 1 / (1 - r2)
                )
            )
        return np.array(out)

    return f


def _cond_mistake(kind):
    def f(X):
        X = np.asarray(X, dtype=float)
        Z = (X - X.mean(axis=0)) / X.std(axis=0)
        if kind == "raw":
            return float(np.linalg.cond(X))
        if kind == "gram":
            return float(np.linalg.cond(Z.T @ Z))
        if kind == "uncentred":
            return float(np.linalg.cond(X / X.std(axis=0)))
        return float(np.linalg.cond(X - X.mean(axis=0)))  # "unscaled"

    return f


def _q4(sig=sigmoid, lg=logit):
    return dict(sigmoid=sig, logit=lg)


def _q5(f):
    return dict(prob_after_shift=f)


def _grad_mistake(kind):
    def f(func, x, h=1e-5):
        x = np.asarray(x, dtype=float)
        step = 0.1 if kind == "big" else h
        if kind == "together":
            d = np.full_like(x, h)
            return np.full_like(x, (func(x + d) - func(x - d)) / (2 * h))
        g = np.empty_like(x)
        for i in range(x.size):
            e = np.zeros_like(x)
            e[i] = step
            plus, minus, here = func(x + e), func(x - e), func(x)
            if kind == "forward":
                g[i] = (plus - here) / step
            elif kind == "backward":
                g[i] = (here - minus) / step
            elif kind == "sign":
                g[i] = (minus - plus) / (2 * step)
            elif kind == "by_h":
                g[i] = (plus - minus) / step
            else:  # "big": a central difference with a step of 0.1
                g[i] = (plus - minus) / (2 * step)
        return g

    return f


def _weight(formula):
    return dict(shapley_weight=formula, shapley_value=shapley_value)


def _value_mistake(kind):
    def f(v, p, i):
        others = [j for j in range(p) if j != i]
        total = 0.0
        for r in range(1 if kind == "empty" else 0, p):
            for S in itertools.combinations(others, r):
                gain = v(S + (i,)) - v(S)
                total += shapley_weight(p, r) * (-gain if kind == "sign" else gain)
        return total

    return dict(shapley_weight=shapley_weight, shapley_value=f)


F = math.factorial
MISTAKES = [
    # (question, values, text the message must contain)
    ("q1", dict(ols=_ols_mistake("no_intercept")), "intercept is missing"),
    ("q1", dict(ols=_ols_mistake("last")), "intercept is last"),
    ("q1", dict(ols=_ols_mistake("inv")), "squares the condition number"),
    ("q1", dict(ols=_ols_mistake("transpose")), "wrong transpose"),
    ("q1", dict(ols=_ols_mistake("tuple")), "first item"),
    ("q1", dict(ols=_ols_mistake("fitted")), "fitted values"),
    ("q2", dict(vif=_vif_mistake("inv_r2")), "that is 1 / R^2_j"),
    ("q2", dict(vif=_vif_mistake("odds")), "VIF - 1"),
    ("q2", dict(vif=_vif_mistake("r2")), "R^2_j themselves"),
    ("q2", dict(vif=_vif_mistake("tol")), "tolerance"),
    ("q2", dict(vif=_vif_mistake("origin")), "no intercept"),
    ("q3", dict(condition_number=_cond_mistake("raw")), "raw X"),
    ("q3", dict(condition_number=_cond_mistake("gram")), "square of cond(Z)"),
    ("q3", dict(condition_number=_cond_mistake("uncentred")), "not centred"),
    ("q3", dict(condition_number=_cond_mistake("unscaled")), "not scaled"),
    ("q4", _q4(lg=lambda p: np.asarray(p) / (1 - np.asarray(p))), "these are the odds"),
    ("q4", _q4(lg=lambda p: np.log10(np.asarray(p) / (1 - np.asarray(p)))), "base 10"),
    ("q4", _q4(lg=lambda p: np.log((1 - np.asarray(p)) / np.asarray(p))), "the sign is flipped"),
    ("q4", _q4(lg=lambda p: np.log(np.asarray(p))), "that is log(p)"),
    ("q4", _q4(sig=lambda z: 1 / (1 + np.exp(np.asarray(z)))), "sign of z is flipped"),
    ("q4", _q4(sig=lambda z: np.exp(np.asarray(z))), "exp(z), the odds"),
    ("q5", _q5(lambda p0, b: p0 + b), "adds beta to the probability"),
    ("q5", _q5(lambda p0, b: p0 * math.exp(b)), "multiplies the probability"),
    ("q5", _q5(lambda p0, b: p0 / (1 - p0) * math.exp(b)), "new odds"),
    ("q5", _q5(lambda p0, b: math.exp(b)), "odds ratio"),
    ("q5", _q5(lambda p0, b: float(sigmoid(b))), "ignores the starting p0"),
    ("q5", _q5(lambda p0, b: 1 / (1 + 10 ** -(math.log10(p0 / (1 - p0)) + b))), "base 10"),
    ("q6", dict(num_grad=_grad_mistake("forward")), "(forward) difference"),
    ("q6", dict(num_grad=_grad_mistake("backward")), "(backward) difference"),
    ("q6", dict(num_grad=_grad_mistake("sign")), "sign is flipped"),
    ("q6", dict(num_grad=_grad_mistake("by_h")), "divide by 2h"),
    ("q6", dict(num_grad=_grad_mistake("big")), "step size of 0.1"),
    ("q6", dict(num_grad=_grad_mistake("together")), "at once"),
    ("q7", _weight(lambda p, s: F(s) * F(p - s) / F(p)), "(p - s)!"),
    ("q7", _weight(lambda p, s: F(s) * F(p - s - 1) / F(p - 1)), "divides by (p - 1)!"),
    ("q7", _weight(lambda p, s: float(F(s) * F(p - s - 1))), "division by p! is missing"),
    ("q7", _weight(lambda p, s: F(s + 1) * F(p - s - 1) / F(p)), "off-by-one"),
    ("q7", _weight(lambda p, s: F(p) / (F(s) * F(p - s - 1))), "upside down"),
    ("q7", _weight(lambda p, s: 1 / 2 ** (p - 1)), "Banzhaf"),
    ("q7", _value_mistake("empty"), "empty coalition is missing"),
    ("q7", _value_mistake("sign"), "sign is flipped"),
]  # fmt: skip


def _references(label: str) -> list[float]:
    """The expected answers of the visible cases, as numbers a message might print."""
    if label == "q1":
        X, y = m03._q1_toy()
        return [*ols(X, y)]
    if label == "q2":
        return [*vif(m03._q2_toy()), *vif(m03._diabetes_X())]
    if label == "q3":
        return [condition_number(m03._q3_toy()), condition_number(m03._diabetes_X())]
    if label == "q4":
        return [*sigmoid(m03._Q4_Z), *logit(m03._Q4_P)]
    if label == "q5":
        return [prob_after_shift(p0, b) for p0, b in m03._Q5_CASES]
    if label == "q6":
        f = student_m03.CurvedFunction([0.7, -0.2, 0.4])
        return [*m03._grad(f, np.array([0.3, -1.2, 2.0]))]
    game = m03._toy_game()
    return [shapley_value(game, 3, i) for i in range(3)] + [
        shapley_weight(4, s) for s in range(1, 3)
    ]


@pytest.mark.parametrize("label, values, named", MISTAKES, ids=[m[2][:24] for m in MISTAKES])
def test_mistakes_are_named_and_the_answer_is_not_shown(label, values, named):
    question = QUESTIONS[label]
    with pytest.raises(Incorrect) as visible:
        question.verify(**values)
    message = str(visible.value)
    assert named in message, message
    assert not isinstance(visible.value, NotAttempted)
    # A sign mistake shows the student's value, which is minus the answer by definition; a
    # one-sided or coarse difference is an approximation, so it agrees to about 4 digits.
    references = [] if "sign" in named else _references(label)
    formats = ("{:.6g}",) if label == "q6" else ("{:.4g}", "{:.6g}")
    for v in references:
        for shown in [f.format(v) for f in formats] + [repr(float(v))]:
            if len(shown.lstrip("-").replace(".", "").replace("0", "")) < 3:
                continue  # a short number such as 0.5 or 2 can appear for other reasons
            pattern = r"(?<![-\d.])" + re.escape(shown) + r"(?!\d)"
            assert not re.search(pattern, message), f"{label} feedback reveals {shown}"
    with pytest.raises(Incorrect):
        question.verify_hidden(seed=3061, **values)


def test_toy_cases_are_asymmetric():
    """The first q5 case separates every probability mistake from the right answer and each other."""
    p0, b = m03._Q5_CASES[0]
    wrong = [p0 + b, p0 * math.exp(b), p0 / (1 - p0) * math.exp(b), math.exp(b), expit(b)]
    values = [prob_after_shift(p0, b), *wrong]
    assert min(abs(a - c) for a, c in itertools.combinations(values, 2)) > 1e-3
    X, y = m03._q1_toy()
    assert abs(ols(X, y)[0]) > 1  # a nonzero intercept, so "no intercept" cannot pass


def test_collinear_case_separates_lstsq_from_the_normal_equations():
    for seed in SEEDS:
        X, y = m03._q1_collinear(np.random.default_rng(seed))
        m03._q1_run(ols, X, y, "here", collinear=True)
        with pytest.raises(Incorrect, match="condition number"):
            m03._q1_run(_ols_mistake("inv"), X, y, "here", collinear=True)


# --- not attempted, wrong types and crashes: feedback, never a traceback -----------------------
def _crashes(*args, **kwargs):
    return {}["beta"]


@pytest.mark.parametrize("label", list(QUESTIONS))
def test_unwritten_functions_are_not_attempted(ns, label):
    question = QUESTIONS[label]
    with pytest.raises(NotAttempted, match="not defined yet"):
        question.check()
    values = {**RIGHT[label][0]}
    for fname in question.names:
        for stub, kind in (
            (_unfinished, NotAttempted),
            (_no_return, NotAttempted),
            (_crashes, Incorrect),
        ):
            ns.clear()
            ns.update(values, **{fname: stub})
            with pytest.raises(kind) as info:
                question.check()
            assert f"`{fname}" in str(info.value)
        ns.clear()
        ns.update(values, **{fname: ...})
        with pytest.raises(NotAttempted, match="placeholder"):
            question.check()
        ns[fname] = 42
        with pytest.raises(Incorrect, match="should be a function"):
            question.check()


@pytest.mark.parametrize(
    "label, values, text",
    [
        ("q1", dict(ols=lambda X, y: 3.0), "array of numbers"),
        ("q1", dict(ols=lambda X, y: np.zeros(7)), "shape"),
        ("q2", dict(vif=lambda X: np.full(X.shape[1], np.inf)), "*other* columns"),
        ("q2", dict(vif=lambda X: "big"), "array of numbers"),
        ("q3", dict(condition_number=lambda X: np.array([1.0, 2.0])), "single number"),
        ("q3", dict(condition_number=lambda X: 0.5), "never below 1"),
        ("q4", _q4(sig=lambda z: [0.5]), "shape"),
        ("q5", _q5(lambda p0, b: "0.7"), "single number"),
        ("q5", _q5(lambda p0, b: 1.3), "strictly between 0 and 1"),
        ("q6", dict(num_grad=lambda f, x, h=1e-5: 1.0), "array of numbers"),
        ("q7", _weight(lambda p, s: None), "returned None"),
    ],
)  # fmt: skip
def test_wrong_types_get_a_clear_message(label, values, text):
    with pytest.raises(Incorrect) as info:
        QUESTIONS[label].verify(**values)
    assert text in str(info.value)


class AlwaysEqual(float):
    """A hostile answer: equal to everything, minus anything is 0."""

    def __eq__(self, other):
        return True

    __hash__ = float.__hash__

    def __sub__(self, other):
        return 0.0


def test_hostile_objects_are_not_trusted():
    with pytest.raises(Incorrect, match="single number"):
        m03.q5.verify(prob_after_shift=lambda p0, b: AlwaysEqual(0.1))
    with pytest.raises(Incorrect):
        m03.q3.verify(condition_number=lambda X: AlwaysEqual(1.0))


def test_student_inputs_are_copies():
    """A student function that scribbles on its inputs cannot change later references."""

    def vandal(X, y):
        out = ols(X, y)
        X[:] = 0
        y[:] = 1
        return out

    m03.q1.verify(ols=vandal)
    m03.q1.verify(ols=ols)


def test_checks_are_quiet(ns, capsys):
    def noisy(p0, beta):
        warnings.warn("a student's warning", UserWarning, stacklevel=1)
        return prob_after_shift(p0, beta)

    for label, values in RIGHT.items():
        ns.clear()
        ns.update(values[0])
        if label == "q5":
            ns["prob_after_shift"] = noisy
        QUESTIONS[label].check()
        QUESTIONS[label].check_hidden(seed=3)
    out = capsys.readouterr()
    assert out.err == ""
    assert out.out.count("Correct") == 14


def test_exports_and_hints():
    assert sorted(student_m03.__all__) == [f"q{i}" for i in range(1, 8)]
    for question in QUESTIONS.values():
        assert 2 <= len(question.hints) <= 3
        assert question.label in repr(question)


# --- issue 14: every catalogued weight mistake is named on the p the check uses --------------
WEIGHT_MISTAKES = {
    "(p - s)!": lambda p, s: F(s) * F(p - s) / F(p),
    "divides by (p - 1)!": lambda p, s: F(s) * F(p - s - 1) / F(p - 1),
    "division by p! is missing": lambda p, s: float(F(s) * F(p - s - 1)),
    "off-by-one": lambda p, s: F(s + 1) * F(p - s - 1) / F(p),
    "upside down": lambda p, s: F(p) / (F(s) * F(p - s - 1)),
    "Banzhaf": lambda p, s: 1 / 2 ** (p - 1),
}


def test_designed_weight_cases_separate_every_mistake():
    """The first weight the visible check asks for, shapley_weight(4, 1), differs between the
    right formula and every catalogued mistake (and the offline check names a mistake by the
    first result that differs), and so do the whole weight vectors at p = 4."""
    q = m03.QUESTIONS["q7"]
    _, recorded = judging.record(q, None)
    first = recorded[0][0]
    assert (first.name, first.args) == ("shapley_weight", (4, 1))
    at_first = [shapley_weight(4, 1)] + [f(4, 1) for f in WEIGHT_MISTAKES.values()]
    rows = [[shapley_weight(4, s) for s in range(4)]]
    rows += [[f(4, s) for s in range(4)] for f in WEIGHT_MISTAKES.values()]
    for a, b in itertools.combinations(at_first, 2):
        assert not math.isclose(a, b), (a, b)
    for a, b in itertools.combinations(rows, 2):
        assert not np.allclose(a, b), (a, b)


@pytest.mark.parametrize("named", list(WEIGHT_MISTAKES))
def test_hidden_weight_check_names_the_mistake_even_at_p_2(named):
    """At p = 2, "no division by p!" and "divides by (p - 1)!" give the same weights; the hidden
    check, which starts at p = 2, used to call the first one the second."""
    values = _weight(WEIGHT_MISTAKES[named])
    for run in (lambda: m03.q7.verify_hidden(seed=3079, **values),
                lambda: m03.q7.verify_graded(seed=11, **values)):
        with pytest.raises(Incorrect) as info:
            run()
        assert named in str(info.value), str(info.value)
        others = [n for n in WEIGHT_MISTAKES if n != named and n not in named]
        assert not any(n in str(info.value) for n in others), str(info.value)


# --- judgement outside the kernel --------------------------------------------------------------
def _judge(label, values, seed, hidden=False):
    q = m03.QUESTIONS[label]
    names, recorded = judging.record(q, seed, hidden=hidden)
    payload = json.loads(json.dumps(gather(names, [c for c, _ in recorded], values)))
    return judging.judge(q, seed, payload, hidden=hidden)


@pytest.mark.parametrize("label", list(RIGHT))
def test_judge_outside_the_kernel_passes_right_answers(label):
    for values in RIGHT[label]:
        for seed, hidden in ((None, False), (41, False), (3061, True)):
            verdict = _judge(label, values, seed, hidden)
            assert verdict.ok, (label, seed, verdict.message)


@pytest.mark.parametrize("label, values, named", [m for m in MISTAKES if m[0] in ("q6", "q7")],
                         ids=[m[2][:24] for m in MISTAKES if m[0] in ("q6", "q7")])
def test_judge_outside_the_kernel_names_mistakes_on_function_inputs(label, values, named):
    """num_grad and shapley_value take a function: it crosses the wire as data and is rebuilt."""
    for seed, hidden in ((None, False), (43, False)):
        verdict = _judge(label, values, seed, hidden)
        assert not verdict.ok and named in verdict.message, verdict.message
    assert not _judge(label, values, 3061, hidden=True).ok


def test_function_inputs_cross_the_wire_as_data():
    f = student_m03.CurvedFunction([0.5, -0.25, 0.125])
    g = wire.loads(wire.dumps(f))
    assert type(g) is student_m03.CurvedFunction and g(np.ones(3)) == f(np.ones(3))
    game = m03._toy_game()
    back = wire.loads(wire.dumps(game))
    assert type(back) is student_m03.Game and back.table == game.table
    for bad in (
        {"t": "fn", "kind": "m03.Game", "v": wire.encode([3, [1.0] * 7])},  # 2**3 worths needed
        {"t": "fn", "kind": "m03.CurvedFunction", "v": wire.encode([float("nan"), 1.0])},
        {"t": "fn", "kind": "m03.CurvedFunction", "v": wire.encode("os.system")},
        {"t": "fn", "kind": "m03.Question", "v": wire.encode([])},  # not registered
        {"t": "fn", "kind": "os.system", "v": wire.encode([])},
        {"t": "fn", "kind": "m99.Game", "v": wire.encode([])},
    ):
        with pytest.raises(wire.WireError):
            wire.decode(bad)


def test_student_module_holds_no_key():
    text = (ROOT / "grader/checks/m03.py").read_text()
    for private in ("def verify", "references", "_lstsq", "_r2_all", "_standardise", "_phi",
                    "_fd(", " _grad(", "seed", "_toy", "_Q5_CASES"):
        assert private not in text, private
    for label, q in m03.QUESTIONS.items():
        assert type(getattr(student_m03, label)).__mro__[1].__name__ == "_Q03"
        assert getattr(student_m03, label).names == q.names


def test_offline_check_passes_every_form_of_a_right_answer(ns, capsys):
    """qN.check() in JupyterLab, without the key: both right answers of each question pass."""
    for label, forms in RIGHT.items():
        for values in forms:
            ns.clear()
            ns.update(values)
            getattr(student_m03, label).check()
    assert capsys.readouterr().out.count("Correct") == sum(len(f) for f in RIGHT.values())
