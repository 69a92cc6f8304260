"""Checks for assignment 06, "Interpretable-by-design models and trees" (``solutions/06-...``).

==== ============================================== ===========================================
q1   ``standardized_coefs(X, y)``, ``coefs_std``,    linear coefficients per standard deviation
     ``most_influential``
q2   ``odds_ratios(model)``,                          logistic coefficients as odds ratios
     ``or_not_readmitted_week``
q3   ``delta_p_readmit``                              a probability change is not an odds ratio
q4   ``path_rules(tree, x, feature_names)``,          the decision path of one sample, as rules
     ``rules_patient``
q5   ``rule_tree``, ``root_feature``,                 recover a known rule with a depth-2 tree
     ``root_threshold``, ``second_feature``,
     ``second_threshold``
q6   ``mdi``, ``pi_test``, ``mdi_rank_random``,       MDI against permutation importance
     ``pi_rank_random``
q7   ``gam_shape(X, y, feature, grid)``,              a GAM's centred shape function
     ``rain_peak_mm``
q8   ``r2_gam``, ``r2_forest``, ``best_glass_box``,   which glass box, and what it gives up
     ``r2_given_up``
==== ============================================== ===========================================

This is the student side: titles, names and hints. ``qN.check()`` compares your answers with data
precomputed from the instructor's key for the check's fixed inputs (``grader/checks/data/m06.json``,
written by ``grader release``); the key itself, and the hidden tests, stay with the instructor.

Single answers are stored hashed, but some answer spaces are small enough to guess by trying each
value in ``check()``: ``most_influential`` (5 feature names), ``root_feature`` and
``second_feature`` (4 names), the ranks of q6 (1 to 7), ``best_glass_box`` of q8 (3 names). Each
shares its question with numbers or functions that cannot be guessed, so a guess alone earns no
point.
"""

from __future__ import annotations

from .offline import OfflineQuestion, question

__all__ = ["q1", "q2", "q3", "q4", "q5", "q6", "q7", "q8"]


class _Q06(OfflineQuestion):
    aid = "06-interpretable-models"
    module = "m06"


@question("q1")
class StandardizedCoefs(_Q06):
    title = "linear coefficients per standard deviation"
    names = ("standardized_coefs", "coefs_std", "most_influential")
    hints = (
        "A raw coefficient is the change in y per one *unit* of its feature, so it mixes the "
        "effect with the unit. Put every feature on the same footing first: one standard "
        "deviation.",
        "Scale the columns of X (not y) the way lecture 06 section 1 does, fit the regression on "
        "the scaled columns, and label the coefficients with the column names. For the most "
        "influential feature, size matters and sign does not.",
    )


@question("q2")
class OddsRatios(_Q06):
    title = "logistic coefficients as odds ratios"
    names = ("odds_ratios", "or_not_readmitted_week")
    hints = (
        "A logistic coefficient is a change in the *log*-odds of `model.classes_[1]` per +1 SD. "
        "An odds ratio is a factor on the odds: undo the log.",
        "Read the coefficients from the pipeline's last step and label them with the names the "
        "model was fitted on. For the 7-day question: how many of the scaler's standard "
        "deviations are 7 days, and which class is `classes_[1]`? The odds of the other class "
        "are the inverse.",
    )


@question("q3")
class ProbabilityChange(_Q06):
    title = "a change in probability is not an odds ratio"
    names = ("delta_p_readmit",)
    hints = (
        "A probability change depends on where the patient starts: compute two predicted "
        "probabilities, before and after the change, and subtract.",
        "Keep the patient as a one-row DataFrame, copy it, move one feature by the standard "
        "deviation the model's own scaler uses, and find which column of `predict_proba` is "
        "readmitted.",
    )


@question("q4")
class PathRules(_Q06):
    title = "the decision path of one sample, as rules"
    names = ("path_rules", "rules_patient")
    hints = (
        "`decision_path` tells you which nodes the sample visits, from the root to a leaf. Every "
        "node on the way except the leaf is a test: a feature, a threshold and a direction.",
        "For each split node, look up its feature index and threshold in `tree.tree_`; decide "
        "the direction by whether the *next* node on the path is the node's left child, not by "
        "comparing values yourself.",
    )


@question("q5")
class RecoverRule(_Q06):
    title = "recover a known rule with a depth-2 tree"
    names = ("rule_tree", "root_feature", "root_threshold", "second_feature", "second_threshold")
    hints = (
        "The rule has two conditions, so the tree needs exactly two levels of splits; a deeper "
        "tree starts fitting the flipped labels.",
        "Node 0 is the root; its children are listed in `tree_.children_left` and "
        "`tree_.children_right`. Read features and thresholds from the fitted tree, never from "
        "the rule's text, and print the tree to check what you read.",
    )


@question("q6")
class MdiVersusPermutation(_Q06):
    title = "MDI against permutation importance"
    names = ("mdi", "pi_test", "mdi_rank_random", "pi_rank_random")
    hints = (
        "MDI comes free with a fitted forest and is measured on the rows it was trained on; "
        "permutation importance measures how much a score drops when one column is shuffled, on "
        "data you choose.",
        "Choose data the forest has not seen for the permutation importance, keep the mean over "
        "the repeats, and label both importances with the column names. A rank of 1 is the most "
        "important feature.",
    )


@question("q7")
class GamShape(_Q06):
    title = "a GAM's centred shape function"
    names = ("gam_shape", "rain_peak_mm")
    hints = (
        "In a GAM built from splines, each feature owns one block of basis columns, and its "
        "shape function is that block times its coefficients. A single coefficient is not an "
        "effect; the curve is, up to a constant that belongs to the intercept.",
        "Fit the pipeline, transform a table in which only the chosen feature varies over the "
        "grid, keep that feature's block of columns (how many columns does each feature get?), "
        "multiply by the matching coefficients, then subtract the same curve's mean over the "
        "rows of X.",
    )


@question("q8")
class GlassBoxCost(_Q06):
    title = "which glass box, and what it gives up"
    names = ("r2_gam", "r2_forest", "best_glass_box", "r2_given_up")
    hints = (
        "A model's skill is measured on rows it did not see; on its training rows a forest looks "
        "far better than it is.",
        "Fit each of the four models on the training split, score all four on the test split, "
        "pick the glass box with the highest score, and subtract its score from the forest's.",
    )


q1, q2, q3, q4, q5, q6, q7, q8 = (
    StandardizedCoefs,
    OddsRatios,
    ProbabilityChange,
    PathRules,
    RecoverRule,
    MdiVersusPermutation,
    GamShape,
    GlassBoxCost,
)
