"""Checks for assignment 11, "Simplification" (``solutions/11-simplification``).

==== ==================================================== ========================================
q1   ``honest_cv_accuracy(X, y, k, cv_seed)``              feature selection inside cross-validation
q2   ``one_se_C(X, y, Cs, cv_seed)``                       L1 on a common scale, one-SE rule
q3   ``n_components_for(X, share, standardise)``,          PCA: components for a share of variance
     ``top_raw_feature``
q4   ``surrogate_scores(...)``, ``min_depth``              a global surrogate's fidelity and size
q5   ``pareto_flags(complexity, score)``                   the accuracy-complexity frontier
q6   ``mean_pairwise_jaccard(selections)``                 the Rashomon effect, measured
==== ==================================================== ========================================

This is the student side: titles, names and hints. ``qN.check()`` compares your answers with data
precomputed from the instructor's key for the check's fixed inputs (``grader/checks/data/m11.json``,
written by ``grader release``); the key itself, and the hidden tests, stay with the instructor.
"""

from __future__ import annotations

from .offline import OfflineQuestion, question

__all__ = ["q1", "q2", "q3", "q4", "q5", "q6"]


class _Q11(OfflineQuestion):
    aid = "11-simplification"
    module = "m11"


@question("q1")
class HonestCV(_Q11):
    title = "feature selection inside cross-validation"
    names = ("honest_cv_accuracy",)
    hints = (
        "Any step that looks at the labels must be refitted on each training fold. What object "
        "makes scikit-learn refit several steps together?",
        "Cross-validate one pipeline (selector, then classifier) with the folds the prompt "
        "describes; do not transform X before `cross_val_score`.",
    )


@question("q2")
class OneSE(_Q11):
    title = "the L1 penalty chosen by the one-standard-error rule"
    names = ("one_se_C",)
    hints = (
        "An L1 penalty charges each coefficient by its size, and a coefficient's size depends on "
        "its feature's units: put the features on a common scale inside the pipeline.",
        "For each C keep three numbers: the mean CV accuracy, its standard error over the folds "
        "(standard deviation with ddof=1, divided by the square root of the number of folds), "
        "and the number of non-zero coefficients of the pipeline fitted on all rows.",
    )


@question("q3")
class Components(_Q11):
    title = "principal components for a share of the variance"
    names = ("n_components_for", "top_raw_feature")
    hints = (
        "The cumulative sum of `explained_variance_ratio_` tells how much variance the first "
        "1, 2, 3, ... components explain together; count components, not positions.",
        "Standardising changes which directions carry the variance. The largest loading of a "
        "component is the largest *absolute* entry of its row of `components_`.",
    )


@question("q4")
class Surrogate(_Q11):
    title = "a surrogate tree's fidelity and accuracy, and its size"
    names = ("surrogate_scores", "min_depth")
    hints = (
        "A surrogate imitates the model, not the data: fit it on what the black box predicts.",
        "Fidelity and accuracy use the same surrogate predictions on the same rows; they differ "
        "in what they are compared with. Decide which rows say something about *new* cases.",
    )


@question("q5")
class Pareto(_Q11):
    title = "Pareto-optimal models on the accuracy-complexity frontier"
    names = ("pareto_flags",)
    hints = (
        "A model is dominated when some other model is at least as simple and at least as "
        "accurate, and strictly better on one of the two.",
        "Lower complexity is better, higher score is better. Check what your code does with two "
        "models that are exactly equal.",
    )


@question("q6")
class Rashomon(_Q11):
    title = "mean pairwise Jaccard overlap of selected feature sets"
    names = ("mean_pairwise_jaccard",)
    hints = (
        "The Jaccard index of two sets is the size of their intersection over the size of their "
        "union.",
        "Average it over every unordered pair of *different* models (`itertools.combinations`).",
    )


q1, q2, q3, q4, q5, q6 = (HonestCV, OneSE, Components, Surrogate, Pareto, Rashomon)
