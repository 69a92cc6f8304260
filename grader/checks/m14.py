"""Checks for assignment 14, "Monitoring and validation" (``solutions/14-monitoring``).

==== ================================================= ========================================
q1   ``psi(expected, actual, bins, eps)``               the population stability index
q2   ``drifted_features(reference, batch, alpha,        Bonferroni-corrected KS tests with an
     min_d)``                                           effect size
q3   ``alarm_line(y, score, size, ...)``,               a bootstrap alarm line for the AUC and
     ``line_heldout``, ``first_alarm``                  the stream's first alarm
q4   ``label_batches(psi_table, batch_auc, line,        covariate drift, concept drift, or
     psi_limit)``                                       unknown
q5   ``explanation_drift(shap_ref, shap_new)``          drift of mean |SHAP| importances
==== ================================================= ========================================

This is the student side: titles, names and hints. ``qN.check()`` compares your answers with data
precomputed from the instructor's key for the check's fixed inputs (``grader/checks/data/m14.json``,
written by ``grader release``); the key itself, and the hidden tests, stay with the instructor.
"""

from __future__ import annotations

from .offline import OfflineQuestion, question

__all__ = ["q1", "q2", "q3", "q4", "q5", "LABELS"]

#: The labels of q4 (the notebook shows the same tuple).
LABELS = (
    "stable",
    "covariate drift",
    "concept drift",
    "covariate and concept drift",
    "performance unknown",
    "covariate drift, performance unknown",
)


class _Q14(OfflineQuestion):
    aid = "14-monitoring"
    module = "m14"


@question("q1")
class Psi(_Q14):
    title = "the population stability index from scratch"
    names = ("psi",)
    hints = (
        "PSI compares two histograms drawn on the *same* bins, and those bins belong to the "
        "reference: every batch is then measured against one fixed yardstick.",
        "Three steps: the inner edges are quantiles of `expected`; count each sample's values per "
        "bin (`np.searchsorted(edges, x, side='right')` gives each value's bin) and divide by that "
        "sample's size; clip both proportions at eps before the sum of (a - e) * ln(a / e).",
    )


@question("q2")
class DriftedFeatures(_Q14):
    title = "drifted features: corrected KS tests and an effect size"
    names = ("drifted_features",)
    hints = (
        "One test per feature means many chances of a false alarm, and with enough rows every "
        "small change is significant: a flag needs both a corrected p-value and a large enough D.",
        "For each column, `stats.ks_2samp(reference[c], batch[c], method='asymp')` gives "
        "`.statistic` (D) and `.pvalue`. Keep a column when pvalue < alpha / (number of columns) "
        "and D >= min_d, then sort the kept names by D, largest first.",
    )


@question("q3")
class AlarmLine(_Q14):
    title = "a bootstrap alarm line for the AUC"
    names = ("alarm_line", "line_heldout", "first_alarm")
    hints = (
        "The band answers: how low can one batch's AUC fall by chance when nothing has changed? "
        "Simulate many batches of the monitored size from data the model has not been fitted to.",
        "Make one generator `rng = np.random.default_rng(seed)` before the loop; in each of the "
        "`reps` rounds draw `idx = rng.integers(0, len(y), size)` and compute the AUC of those "
        "rows. The line is the mean of the AUCs minus k times their standard deviation (`np.std`).",
    )


@question("q4")
class LabelBatches(_Q14):
    title = "covariate drift, concept drift, or unknown"
    names = ("label_batches",)
    hints = (
        "Two monitors, two questions: did p(X) move (PSI), and did the performance drop (AUC)? "
        "And a third case: the labels have not arrived, so the second question has no answer yet.",
        "Per row: moved = the largest PSI in the row is above psi_limit; if the AUC is nan "
        "(`math.isnan`), choose between the two 'performance unknown' labels; otherwise dropped = "
        "AUC < line, and the pair (moved, dropped) picks one of the first four labels.",
    )


@question("q5")
class ExplanationDrift(_Q14):
    title = "explanation drift: mean |SHAP| vectors before and after"
    names = ("explanation_drift",)
    hints = (
        "Summarise each matrix of SHAP values by one importance vector (one number per feature), "
        "then compare the two vectors' directions.",
        "u and v are the column means of the absolute SHAP values; the distance is "
        "1 - u @ v / (|u| |v|). The reference's top feature is the argmax of u; its new rank is "
        "1 + the number of features whose v is larger than its own.",
    )


q1, q2, q3, q4, q5 = Psi, DriftedFeatures, AlarmLine, LabelBatches, ExplanationDrift
