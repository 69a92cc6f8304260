"""Checks for assignment 03, "Linear algebra and calculus" (``solutions/03-linear-algebra-calculus``).

==== ========================================== ===============================================
q1   ``ols(X, y)``                              least squares with an intercept, via ``lstsq``
q2   ``vif(X)``                                 variance inflation factor of every column
q3   ``condition_number(X)``                    condition number of the standardised design
q4   ``sigmoid(z)``, ``logit(p)``               the link functions of logistic regression
q5   ``prob_after_shift(p0, beta)``             probability after a one-unit step of a feature
q6   ``num_grad(f, x, h)``                      gradient by central differences
q7   ``shapley_weight(p, s)``,                  Shapley weights and exact Shapley values of a
     ``shapley_value(v, p, i)``                 small cooperative game
==== ========================================== ===============================================

This is the student side: titles, names and hints, and the two kinds of input the checks pass to
your functions (:class:`CurvedFunction` for ``num_grad``, :class:`Game` for ``shapley_value``).
``qN.check()`` compares your answers with data precomputed from the instructor's key for the
check's fixed inputs (``grader/checks/data/m03.json``, written by ``grader release``); the key,
and the hidden tests, stay with the instructor. Every answer here is a function, so nothing is
small enough to guess: grading calls your functions on fresh inputs.
"""

from __future__ import annotations

import itertools
import math

import numpy as np

from .offline import OfflineQuestion, question
from .wire import data_callable

__all__ = ["q1", "q2", "q3", "q4", "q5", "q6", "q7"]


@data_callable
class CurvedFunction:
    """f(x) = exp(a . x) + x[0] * x[-1]**2 + sin(x[1]): a smooth test function of len(a) >= 2
    variables, curved in every direction (the input of ``num_grad`` in q6)."""

    def __init__(self, a) -> None:
        a = np.array(a, dtype=float)
        if a.ndim != 1 or not 2 <= a.size <= 50 or not np.all(np.isfinite(a)):
            raise ValueError("a must hold 2 to 50 finite numbers")
        self.a = a

    def __call__(self, x) -> float:
        x = np.asarray(x, dtype=float)
        return float(np.exp(self.a @ x) + x[0] * x[-1] ** 2 + np.sin(x[1]))

    def __repr__(self) -> str:
        terms = " ".join(f"{'+' if v >= 0 else '-'} {abs(v):g} x{i}" for i, v in enumerate(self.a))
        return f"f(x) = exp({terms.lstrip('+ ')}) + x0 x{self.a.size - 1}^2 + sin(x1)"

    def wire_state(self) -> list[float]:
        return [float(v) for v in self.a]

    @classmethod
    def from_wire_state(cls, state) -> CurvedFunction:
        if type(state) is not list or not all(type(v) is float for v in state):
            raise TypeError("a CurvedFunction is a list of floats")
        return cls(state)


@data_callable
class Game:
    """A cooperative game on players 0..p-1: ``v(S)`` is the worth of the coalition ``S`` (any
    iterable of player indices). The input of ``shapley_value`` in q7."""

    def __init__(self, p: int, worth: dict) -> None:
        if type(p) is not int or not 1 <= p <= 10:
            raise ValueError("a game has 1 to 10 players")
        table = {}
        for r in range(p + 1):
            for S in itertools.combinations(range(p), r):
                table[frozenset(S)] = float(worth[frozenset(S)])
        self.p, self.table = p, table

    def __call__(self, S) -> float:
        key = frozenset(int(i) for i in S)
        if not key <= frozenset(range(self.p)):
            raise KeyError(f"v was called with {sorted(key)}, but the players are 0..{self.p - 1}")
        return self.table[key]

    def __repr__(self) -> str:
        return f"<a game of {self.p} players>"

    def wire_state(self) -> list:
        """``[p, worth of each coalition]``, coalitions in the order of their bit masks."""
        masks = [frozenset(j for j in range(self.p) if k >> j & 1) for k in range(2**self.p)]
        return [self.p, [self.table[S] for S in masks]]

    @classmethod
    def from_wire_state(cls, state) -> Game:
        if type(state) is not list or len(state) != 2 or type(state[0]) is not int:
            raise TypeError("a Game is [p, worths]")
        p, worths = state
        if not 1 <= p <= 10 or type(worths) is not list or len(worths) != 2**p:
            raise ValueError("a Game needs 2**p worths")
        if not all(type(v) is float and math.isfinite(v) for v in worths):
            raise ValueError("worths are finite floats")
        return cls(p, {frozenset(j for j in range(p) if k >> j & 1): v for k, v in enumerate(worths)})


class _Q03(OfflineQuestion):
    aid = "03-linear-algebra-calculus"
    module = "m03"


@question("q1")
class OLS(_Q03):
    title = "least squares with an intercept"
    names = ("ols",)
    hints = (
        "Build the design matrix with a first column of ones: "
        "`X1 = np.column_stack([np.ones(len(X)), X])`.",
        "`np.linalg.lstsq(X1, y, rcond=None)` returns a tuple; its first item is beta, "
        "(intercept, coef_1, ..., coef_p).",
        "Do not form `np.linalg.inv(X1.T @ X1)`: on nearly collinear columns it loses most of "
        "the digits that lstsq keeps.",
    )


@question("q2")
class VIF(_Q03):
    title = "variance inflation factors"
    names = ("vif",)
    hints = (
        "For each column j: regress X[:, j] on all the *other* columns (with an intercept), "
        "compute the R^2_j of that fit, then VIF_j = 1 / (1 - R^2_j).",
        "`others = np.delete(X, j, axis=1)`; fit with your `ols`; R^2 = 1 - SSE / SST with "
        "SST = sum((x_j - mean(x_j))^2).",
    )


@question("q3")
class ConditionNumber(_Q03):
    title = "condition number of the standardised design"
    names = ("condition_number",)
    hints = (
        "Standardise first: `Z = (X - X.mean(axis=0)) / X.std(axis=0)`.",
        "Then `np.linalg.cond(Z)`: the ratio of the largest to the smallest singular value of "
        "Z (not of Z.T @ Z). Return it as a float.",
    )


@question("q4")
class SigmoidLogit(_Q03):
    title = "sigmoid and logit"
    names = ("sigmoid", "logit")
    hints = (
        "sigmoid(z) = 1 / (1 + exp(-z)) turns log-odds into a probability; logit(p) = "
        "log(p / (1 - p)) turns a probability into log-odds. Each undoes the other.",
        "Use NumPy (`np.exp`, `np.log`, the natural log) so both work on arrays, and check "
        "`logit(sigmoid(z))` gives back z.",
    )


@question("q5")
class ProbAfterShift(_Q03):
    title = "probability after a one-unit step of a feature"
    names = ("prob_after_shift",)
    hints = (
        "A logistic-regression coefficient adds beta to the log-odds for each unit of its feature.",
        "Go to the log-odds, add, come back: `sigmoid(logit(p0) + beta)`. Return a float.",
    )


@question("q6")
class NumGrad(_Q03):
    title = "gradient by central differences"
    names = ("num_grad",)
    hints = (
        "Partial derivative i: move only coordinate i, by +h and by -h, and divide the change "
        "in f by the distance between the two points.",
        "`e = np.zeros_like(x); e[i] = h; g[i] = (f(x + e) - f(x - e)) / (2 * h)`, for each i. "
        "Make x a float array first.",
    )


@question("q7")
class Shapley(_Q03):
    title = "Shapley weights and exact Shapley values"
    names = ("shapley_weight", "shapley_value")
    hints = (
        "The weight of a coalition S of size s (not containing i) among p players is the share of "
        "orderings in which exactly S comes before i: s! (p - s - 1)! / p!.",
        "For shapley_value, loop over r = 0..p-1 (r = 0 is the empty coalition) and "
        "`itertools.combinations(others, r)`, adding `shapley_weight(p, r) * (v(S + (i,)) - v(S))`.",
        "Check: the values of all players add up to v(all players) - v(empty set).",
    )


q1, q2, q3, q4, q5, q6, q7 = OLS, VIF, ConditionNumber, SigmoidLogit, ProbAfterShift, NumGrad, Shapley
