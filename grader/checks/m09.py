"""Checks for assignment 09, "LIME and explanation quality" (``solutions/09-lime``).

==== ============================================== ===========================================
q1   ``lime_weights(Z, x, scale, kernel_width)``     LIME's sample weights: standardised distance,
                                                    kernel exp(-d^2 / width^2), default width
q2   ``lime_explain(predict_fn, x, scale, ...)``     LIME from scratch: perturb, weight, ridge
q3   ``explain_reproducibly(model, X_train, ...)``   a seeded ``LimeTabularExplainer`` per call
q4   ``jaccard(a, b)``, ``mean_pairwise_jaccard``    stability of the top-k features across seeds
q5   ``weighted_r2(y, y_hat, weights)``              local fidelity: the surrogate's weighted R^2
q6   ``coef_logodds``, ``coef_proba``,               LIME against a known logistic model, and
     ``top_feature``                                 what sets one customer apart
q7   ``data_randomisation_similarity(X, y, ...)``    the data-randomisation sanity check
==== ============================================== ===========================================

This is the student side: titles, names and hints. ``qN.check()`` compares your answers with data
precomputed from the instructor's key for the check's fixed inputs (``grader/checks/data/m09.json``,
written by ``grader release``); the key itself, and the hidden tests, stay with the instructor.
"""

from __future__ import annotations

from .offline import OfflineQuestion, question

__all__ = ["q1", "q2", "q3", "q4", "q5", "q6", "q7"]


class _Q09(OfflineQuestion):
    aid = "09-lime"
    module = "m09"


@question("q1")
class KernelWeights(_Q09):
    title = "LIME's sample weights"
    names = ("lime_weights",)
    hints = (
        "LIME measures closeness in standard-deviation units, not in the table's own units, and "
        "its default width grows with the number of features: a sample equal to x gets weight 1.",
        "Three steps: standardise each row's difference from x by `scale`; take the Euclidean "
        "length of each standardised row; pick the width (the given one, or the default rule for "
        "the number of columns of Z) and apply the kernel of the question to every distance.",
    )


@question("q2")
class LimeFromScratch(_Q09):
    title = "LIME from scratch"
    names = ("lime_explain",)
    hints = (
        "Work in standard-deviation units: the random draws are the perturbations, the model is "
        "asked about the samples in original units, and closeness is measured on the draws.",
        "Follow the five steps of the question in order, with one generator made from `seed` and "
        "a single draw of shape (n_samples, p). The ridge learns from the draws, so its "
        "coefficients are per standard deviation: convert them to per original unit at the end.",
    )


@question("q3")
class Reproducible(_Q09):
    title = "a reproducible LIME explanation"
    names = ("explain_reproducibly",)
    hints = (
        "LIME draws its samples from the explainer's random state, set when the explainer is "
        "created; each explanation moves it on. A global NumPy seed set once does not help, and "
        "touching NumPy's global generator inside the function is not allowed.",
        "Create the explainer inside the function, on every call, seeded from the `seed` "
        "argument, with exactly the settings the question lists; return the pairs that the "
        "explanation lists.",
    )


@question("q4")
class Stability(_Q09):
    title = "Jaccard similarity and the mean pairwise stability"
    names = ("jaccard", "mean_pairwise_jaccard")
    hints = (
        "Treat each collection as a set (duplicates count once). Jaccard compares what the two "
        "sets share with everything either of them contains; two empty explanations agree.",
        "For the stability, average `jaccard` over every unordered pair of different runs: each "
        "pair once, never a run with itself, not only neighbouring runs.",
    )


@question("q5")
class WeightedR2(_Q09):
    title = "local fidelity as a weighted R^2"
    names = ("weighted_r2",)
    hints = (
        "It is the usual R^2, 1 - SSE / SST, with every squared term multiplied by its weight.",
        "Every part is weighted, including the mean that the total sum of squares is measured "
        "around: compute that weighted mean of `y` first.",
    )


@question("q6")
class KnownTruth(_Q09):
    title = "LIME against a known logistic model, and what sets one customer apart"
    names = ("coef_logodds", "coef_proba", "top_feature")
    hints = (
        "`lime_explain` explains whatever function of the samples you give it: one surrogate for "
        "the model's log-odds, one for its probability of churn (class 1). For `top_feature`, a "
        "slope says how fast the log-odds change; this customer differs from an average customer "
        "by how far each of their values is from the average.",
        "Use the setup's customer, `scale`, `KERNEL_WIDTH`, `N_SAMPLES` and seed 0. For "
        "`top_feature`, turn each log-odds slope into this customer's contribution relative to "
        "the training mean, and pick the feature whose contribution is largest in size.",
    )


@question("q7")
class DataRandomisation(_Q09):
    title = "the data-randomisation sanity check"
    names = ("data_randomisation_similarity",)
    hints = (
        "The test asks whether the explanation depends on what the model learned: compare the "
        "explanations of the real model with those of the same kind of model that could learn "
        "nothing, because its labels were shuffled (the inputs stay as they are).",
        "For each row, rank the two models' attributions by their size and correlate the ranks; "
        "the answer is the mean of those per-row correlations. Build the occlusions one feature "
        "at a time, each against the column means of `X`.",
    )


q1, q2, q3, q4, q5, q6, q7 = (
    KernelWeights, LimeFromScratch, Reproducible, Stability, WeightedR2, KnownTruth,
    DataRandomisation)
