"""Checks for assignment 03, "Linear algebra and calculus" (``solutions/03-linear-algebra-calculus``).

==== ========================================== ===============================================
q1   ``ols(X, y, w=None)``                      (weighted) least squares with an intercept
q2   ``vif(X)``                                 variance inflation factor of every column
q3   ``condition_indices(X)``                   Belsley's condition indices, standardised design
q4   ``softmax(Z)``                             class probabilities from scores, overflow-safe
q5   ``step_to_reach(p0, p1, beta)``            the feature step that moves p0 to p1
q6   ``logloss_grad(beta, X, y)``               gradient of the mean logistic log-loss
q7   ``shapley_weight(p, s)``,                  Shapley weights, and exact Shapley values of a
     ``shapley_values(f, x, baseline)``         model's prediction against a baseline row
q8   ``most_sensitive``, ``largest_share``      which explanation answers which question
==== ========================================== ===============================================

This is the student side: titles, names and hints, the kind of model the checks pass to your
functions (:class:`CurvedFunction`, for ``shapley_values``; :class:`Game` is a cooperative game
given by a table, for your own experiments), and q8's model, row and baseline.
``qN.check()`` compares your answers with data precomputed from the instructor's key for the
check's fixed inputs (``grader/checks/data/m03.json``, written by ``grader release``); the key,
and the hidden tests, stay with the instructor. Grading calls your functions on fresh inputs; q8's
two answers are feature indices on the fixed model below.
"""

from __future__ import annotations

import itertools
import math

import numpy as np

from .offline import OfflineQuestion, question
from .wire import data_callable

__all__ = ["q1", "q2", "q3", "q4", "q5", "q6", "q7", "q8"]


@data_callable
class CurvedFunction:
    """f(x) = exp(a . x) + x[0] * x[-1]**2 + sin(x[1]): a smooth test function of len(a) >= 2
    variables, curved in every direction (the model of ``shapley_values`` in q7 and of q8)."""

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
    iterable of player indices), for your own experiments with Shapley values."""

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


#: q8's model, ``CurvedFunction(RISK_WEIGHTS)``, the row it explains and the baseline row.
RISK_WEIGHTS = (0.3, 0.7, 0.2, -0.7)
X_PATIENT = (-0.4, -1.7, -1.7, -1.4)
X_BASELINE = (-0.5, -0.4, 0.1, -0.3)


class _Q03(OfflineQuestion):
    aid = "03-linear-algebra-calculus"
    module = "m03"


@question("q1")
class OLS(_Q03):
    title = "weighted least squares with an intercept"
    names = ("ols",)
    hints = (
        "Weighted least squares is ordinary least squares on a changed problem: find the "
        "factor by which to scale each row so that its squared residual counts w_i times.",
        "Scaling a residual by c scales its square by c^2. Scale the whole row of the design "
        "(the column of ones included) and that row's y by the same factor, then solve as in "
        "the lecture; with no weights, every factor is 1.",
    )


@question("q2")
class VIF(_Q03):
    title = "variance inflation factors"
    names = ("vif",)
    hints = (
        "The lecture's two-feature VIF used r^2, the R^2 of one feature regressed on the "
        "other. With p features, column j is regressed on all the others at once.",
        "For each column: fit it on the other columns (with an intercept; your ols will do), "
        "compute that fit's R^2 from its residuals (one minus SSE over SST), and turn it into "
        "the VIF.",
    )


@question("q3")
class ConditionIndices(_Q03):
    title = "condition indices of the standardised design"
    names = ("condition_indices",)
    hints = (
        "The condition number is one ratio of singular values; the condition indices are the "
        "same ratio for every singular value, so you need all the singular values.",
        "Standardise the columns (mean 0, standard deviation 1), take the singular values of "
        "that matrix (not of its Gram matrix), divide the largest by each, and sort.",
    )


@question("q4")
class Softmax(_Q03):
    title = "softmax: class probabilities from scores"
    names = ("softmax",)
    hints = (
        "Each row is one case: exponentiate its K scores and divide by their sum, so the row "
        "sums to 1. With K = 2 and one score fixed at 0 this is the sigmoid.",
        "Adding the same number to every score of a row does not change its softmax: use that "
        "to keep exp from overflowing, with a different number for each row. Keep the row sums "
        "as a column when you divide.",
    )


@question("q5")
class StepToReach(_Q03):
    title = "the step of a feature that reaches a target probability"
    names = ("step_to_reach",)
    hints = (
        "Each unit of the feature adds beta on one scale only: the log-odds. Work on that scale.",
        "Convert p0 and p1 to log-odds, take the difference, and ask how many steps of size "
        "beta make it up. A negative answer means the feature must go down.",
    )


@question("q6")
class LogLossGrad(_Q03):
    title = "gradient of the mean logistic log-loss"
    names = ("logloss_grad",)
    hints = (
        "Differentiate one row's loss with respect to its log-odds z = x_i beta first (use "
        "sigma'(z) = sigma(z)(1 - sigma(z))), then apply the chain rule for beta, then average.",
        "The result is a matrix-vector product of the design's transpose with one vector of "
        "per-row errors, divided by n. Check it against central differences of your own loss "
        "function, one coefficient at a time.",
    )


@question("q7")
class Shapley(_Q03):
    title = "Shapley values of a prediction against a baseline"
    names = ("shapley_weight", "shapley_values")
    hints = (
        "Turn the prediction into a game: the worth of a coalition S is the model's output on a "
        "row that takes x's values on the features in S and the baseline's elsewhere. Then the "
        "lecture's weighted average applies.",
        "For each feature i, loop over every coalition of the *other* features (sizes 0 to "
        "p - 1, the empty one included), and weight what adding i changes by the size's weight. "
        "Check that the values add up to f(x) - f(baseline).",
    )


@question("q8")
class SensitivityOrShare(_Q03):
    title = "sensitivity or attribution: which explanation answers which question"
    names = ("most_sensitive", "largest_share")
    hints = (
        "The two questions differ in the size of the change: a small nudge at x, or the whole "
        "move from the baseline to x. Which of the lecture's explanations is local, and which "
        "adds up exactly over the whole move?",
        "Compute the gradient at x (central differences) and the Shapley values against the "
        "baseline (q7), and compare a third reading, gradient x (x - baseline), with both. "
        "Answer with feature indices (0 to 3).",
    )


q1, q2, q3, q4 = OLS, VIF, ConditionIndices, Softmax
q5, q6, q7, q8 = StepToReach, LogLossGrad, Shapley, SensitivityOrShare
