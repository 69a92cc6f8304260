"""Checks for assignment 09, "LIME and explanation quality" (``solutions/09-lime``).

==== ============================================== ===========================================
q1   ``kernel_weights(distances, kernel_width)``     the exponential kernel exp(-d^2 / width^2)
q2   ``lime_explain(predict_fn, x, scale, ...)``     LIME from scratch: perturb, weight, ridge
q3   ``explain_reproducibly(model, X_train, ...)``   a seeded ``LimeTabularExplainer`` per call
q4   ``jaccard(a, b)``, ``mean_pairwise_jaccard``    stability of the top-k features across seeds
q5   ``weighted_r2(y, y_hat, weights)``              local fidelity: the surrogate's weighted R^2
q6   ``coef_logodds``, ``coef_proba``,               LIME against a known logistic model
     ``top_feature``
==== ============================================== ===========================================

This is the student side: titles, names and hints. ``qN.check()`` compares your answers with data
precomputed from the instructor's key for the check's fixed inputs (``grader/checks/data/m09.json``,
written by ``grader release``); the key itself, and the hidden tests, stay with the instructor.
"""

from __future__ import annotations

from .offline import OfflineQuestion, question

__all__ = ["q1", "q2", "q3", "q4", "q5", "q6"]


class _Q09(OfflineQuestion):
    aid = "09-lime"
    module = "m09"


@question("q1")
class KernelWeights(_Q09):
    title = "the exponential kernel"
    names = ("kernel_weights",)
    hints = (
        "A sample at distance 0 gets weight 1, and the weight falls smoothly towards 0 as the "
        "distance grows; `kernel_width` sets how fast.",
        "Square both the distance and the width: `np.exp(-distances**2 / kernel_width**2)`, "
        "with `distances` turned into a NumPy array first.",
    )


@question("q2")
class LimeFromScratch(_Q09):
    title = "LIME from scratch"
    names = ("lime_explain",)
    hints = (
        "Work in standard-deviation units: draw `E = rng.standard_normal((n_samples, p))`, build "
        "the samples `Z = x + E * scale`, and ask the model about `Z`.",
        "The distance of each sample from `x` is the length of its row of `E` "
        "(`np.linalg.norm(E, axis=1)`); turn it into weights with your `kernel_weights`.",
        "Fit `Ridge(alpha=1.0).fit(E, predict_fn(Z), sample_weight=w)` and return "
        "`coef_ / scale`, the change in the model's output per original unit of each feature.",
    )


@question("q3")
class Reproducible(_Q09):
    title = "a reproducible LIME explanation"
    names = ("explain_reproducibly",)
    hints = (
        "LIME draws its samples from the explainer's random state, set when the explainer is "
        "created; each explanation moves it on. A global `np.random.seed` set once does not help.",
        "Build the `LimeTabularExplainer` inside the function, with `random_state=seed`, so each "
        "call starts from the same state; then `explain_instance(...)` and `.as_list()`.",
    )


@question("q4")
class Stability(_Q09):
    title = "Jaccard similarity and the mean pairwise stability"
    names = ("jaccard", "mean_pairwise_jaccard")
    hints = (
        "Turn each collection into a `set`. Jaccard = size of the intersection / size of the "
        "union; return 1.0 when both are empty (two empty explanations agree).",
        "For the stability, loop over `itertools.combinations(sets, 2)` (every pair once, never "
        "a set with itself) and average `jaccard(a, b)`.",
    )


@question("q5")
class WeightedR2(_Q09):
    title = "local fidelity as a weighted R^2"
    names = ("weighted_r2",)
    hints = (
        "It is the usual R^2, 1 - SSE / SST, with every squared term multiplied by its weight.",
        "The mean in SST is weighted too: `ybar = np.sum(w * y) / np.sum(w)`; then "
        "`sst = np.sum(w * (y - ybar)**2)`.",
    )


@question("q6")
class KnownTruth(_Q09):
    title = "LIME against a known logistic model"
    names = ("coef_logodds", "coef_proba", "top_feature")
    hints = (
        "Pass your `lime_explain` a function of the samples: `model.decision_function` for the "
        "log-odds, and `lambda Z: model.predict_proba(Z)[:, 1]` for the probability of approval.",
        "Use the setup's `x_applicant`, `scale`, `KERNEL_WIDTH`, `N_SAMPLES` and `seed=0`.",
        "For `top_feature`, multiply `coef_logodds` by `scale` (the effect of one standard "
        "deviation), take the absolute value, and look up the name of the largest in `FEATURES`.",
    )


q1, q2, q3, q4, q5, q6 = (
    KernelWeights, LimeFromScratch, Reproducible, Stability, WeightedR2, KnownTruth)
