"""Checks for assignment 10, "Counterfactuals, anchors and gradients"
(``solutions/10-counterfactuals-gradients``).

==== ======================================================= =====================================
q1   ``logodds_grad(X, net)``                                 the network's input gradient
q2   ``integrated_gradients(x, baseline, net, steps)``        integrated gradients of P(approve)
q3   ``precision_coverage(X_pool, pred_pool, lower, upper,     precision, coverage and size of a rule
     decision)``
q4   ``p_baseline``, ``ig_sum``, ``ig_rent_share``            one refusal against approved applicants
q5   ``cheapest_single_change(x, net, mad, frozen, target)``,  an actionable counterfactual menu
     ``cf_feature``, ``cf_cost``
==== ======================================================= =====================================

This is the student side: titles, names and hints. ``qN.check()`` compares your answers with data
precomputed from the instructor's key for the check's fixed inputs (``grader/checks/data/m10.json``,
written by ``grader release``); the key itself, and the hidden tests, stay with the instructor.
"""

from __future__ import annotations

from .offline import OfflineQuestion, question

__all__ = ["q1", "q2", "q3", "q4", "q5"]


class _Q10(OfflineQuestion):
    aid = "10-counterfactuals-gradients"
    module = "m10"


@question("q1")
class LogoddsGrad(_Q10):
    title = "the input gradient of a network's log-odds"
    names = ("logodds_grad",)
    hints = (
        "Write the forward pass as a chain of three functions (standardise, hidden layer, output "
        "layer) and differentiate each link: the chain rule multiplies their derivatives.",
        "This network's hidden units are *logistic*, not tanh: the derivative of the logistic "
        "function at a unit is h (1 - h). The standardisation step contributes a factor per "
        "input feature.",
    )


@question("q2")
class IntegratedGradients(_Q10):
    title = "integrated gradients of P(approve), midpoint rule"
    names = ("integrated_gradients",)
    hints = (
        "Integrated gradients average the gradient of the *output you explain* (here the "
        "probability) along the straight path from the baseline to x, then scale each feature's "
        "average by how far that feature travels.",
        "The midpoint rule evaluates the path at the centres of `steps` equal pieces of [0, 1]; "
        "the gradient of the sigmoid of g is p (1 - p) times the gradient of g (your q1).",
    )


@question("q3")
class PrecisionCoverage(_Q10):
    title = "precision, coverage and size of an if-then rule"
    names = ("precision_coverage",)
    hints = (
        "First find the rows the rule covers: every feature inside its interval, with the lower "
        "bound excluded and the upper bound included. Both numbers start from that mask.",
        "Precision is measured among the covered rows only, against the model's decisions; "
        "coverage is a share of the whole pool.",
    )


@question("q4")
class BaselineRefusal(_Q10):
    title = "integrated gradients of a refusal against approved applicants"
    names = ("p_baseline", "ig_sum", "ig_rent_share")
    hints = (
        "The baseline is built from the applicants the *model* approves, not from the labels.",
        "Check completeness before you report: the sum of the attributions must match "
        "P(x_tenant) - P(baseline) to within the tolerance in the prompt. If it does not, "
        "change one argument of your q2 function.",
    )


@question("q5")
class CheapestChange(_Q10):
    title = "the cheapest single actionable change"
    names = ("cheapest_single_change", "cf_feature", "cf_cost")
    hints = (
        "For each feature that may move, walk away from x in steps of MAD/100 (both directions) "
        "and stop at the first step whose probability reaches the target. Compare features by "
        "cost in MADs, not by the size of the change in their own units.",
        "For the applicant, ask of each feature whether it records the past, and whether advice "
        "to change it would be possible and fair to give. Freeze those; keep the rest movable.",
    )


q1, q2, q3, q4, q5 = (
    LogoddsGrad,
    IntegratedGradients,
    PrecisionCoverage,
    BaselineRefusal,
    CheapestChange,
)
