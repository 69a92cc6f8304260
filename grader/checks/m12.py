"""Checks for assignment 12, "Fairness and governance" (``solutions/12-fairness-governance``).

==== =================================================== =========================================
q1   ``group_rates(y_true, y_pred, group)``              n, selection rate, TPR, FPR, precision,
                                                         within each group (nan where undefined)
q2   ``fairness_gaps(y_true, y_pred, group)``            demographic parity, disparate impact,
                                                         equal opportunity, equalised odds
q3   ``forced_fpr(base_rate, ppv, tpr)``,                the FPR that a base rate forces on a group
     ``fpr_forced_B``                                    with another group's precision and TPR
q4   ``gap_by_feature(coef, X, group)``,                 a group gap in log-odds split by feature
     ``proxy_share``                                     (linear SHAP), and the proxy's share of it
q5   ``tpr_matching_threshold(p, y, target_tpr, grid)``, a per-group threshold for equal
     ``threshold_B``, ``tpr_gap_after``                  opportunity, tuned on the calibration split
==== =================================================== =========================================

This is the student side: titles, names and hints. ``qN.check()`` compares your answers with data
precomputed from the instructor's key for the check's fixed inputs (``grader/checks/data/m12.json``,
written by ``grader release``); the key itself, and the hidden tests, stay with the instructor.
"""

from __future__ import annotations

from .offline import OfflineQuestion, question

__all__ = ["q1", "q2", "q3", "q4", "q5", "RATE_KEYS", "GAP_KEYS"]

#: The keys of each group's dict in q1, in the order the prompt lists them.
RATE_KEYS = ("n", "selection_rate", "tpr", "fpr", "precision")
#: The keys of the dict that q2 returns.
GAP_KEYS = (
    "demographic_parity_diff",
    "disparate_impact_ratio",
    "equal_opportunity_diff",
    "equalized_odds_diff",
)


class _Q12(OfflineQuestion):
    aid = "12-fairness-governance"
    module = "m12"


@question("q1")
class GroupRates(_Q12):
    title = "confusion rates within each group"
    names = ("group_rates",)
    hints = (
        "Loop over the distinct labels of `group`; inside the loop keep only that group's rows "
        "of `y_true` and `y_pred`, and compute every count from those rows alone.",
        "Each rate has its own denominator: the group's size (selection rate), its actual "
        "positives (TPR), its actual negatives (FPR), its predicted positives (precision). "
        "Test a denominator for zero before dividing and use `float('nan')` then.",
    )


@question("q2")
class FairnessGaps(_Q12):
    title = "fairness criteria as gaps between groups"
    names = ("fairness_gaps",)
    hints = (
        "Start from your `group_rates`: every criterion compares one rate across the groups.",
        "A difference is the largest group value minus the smallest (never negative); the "
        "ratio is the smallest selection rate over the largest (at most 1). Equalised odds asks "
        "for *both* TPR and FPR to match, so it reports the worse of the two gaps.",
    )


@question("q3")
class ForcedFpr(_Q12):
    title = "the false-positive rate forced by a base rate"
    names = ("forced_fpr", "fpr_forced_B")
    hints = (
        "Write the four confusion counts of one group in terms of its size, base rate p, TPR "
        "and PPV; then FPR = FP / (number of actual negatives).",
        "The identity has three factors: the odds of the base rate, the odds of a false alarm "
        "among the flagged, and the TPR. For `fpr_forced_B`, which group's base rate goes in, "
        "and which group's precision and TPR?",
    )


@question("q4")
class GapByFeature(_Q12):
    title = "a group gap in log-odds, split by feature"
    names = ("gap_by_feature", "proxy_share")
    hints = (
        "For a linear model, the interventional SHAP value of feature j for a row is "
        "coef_j * (x_j - background mean of x_j). Average it over each group and subtract: "
        "what happens to the background mean?",
        "Group B minus group A, feature by feature, keyed by the column names of `X`. For "
        "`proxy_share`, divide the proxy's entry by the sum of all entries: the sum is the gap in "
        "the model's log-odds, not in probabilities.",
    )


@question("q5")
class TprMatchingThreshold(_Q12):
    title = "a per-group threshold for equal opportunity"
    names = ("tpr_matching_threshold", "threshold_B", "tpr_gap_after")
    hints = (
        "TPR at threshold t is the share of the actual positives (y == 1) whose score is at "
        "least t. Keep the thresholds in `grid` whose TPR reaches the target.",
        "Tune on the split that exists for tuning, and report on the split that was never used "
        "for any choice. The target is group A's TPR at 0.5 on the same split you tune on.",
    )


q1, q2, q3, q4, q5 = GroupRates, FairnessGaps, ForcedFpr, GapByFeature, TprMatchingThreshold
