"""Checks for assignment 15, "Communicating explanations" (``solutions/15-communication-capstone``).

==== ================================================= ========================================
q1   ``reason_codes(phi_row, values, names, k,          the top-k reasons in one direction, as
     direction)``                                       sentences in the model's units
q2   ``frequency_statement(p0, p1)``                    natural frequencies with the baseline
q3   ``contrastive_changes(x_row, threshold)``          single-feature changes in original units,
                                                        immutable features excluded
q4   ``top_features_bar(shap_values, names,             an honest bar chart (checked from the
     max_features, unit)``                              figure itself)
q5   ``recall_interval(y_true, flagged, reps, seed)``   the recall with a bootstrap interval
==== ================================================= ========================================

This is the student side: titles, names and hints. ``qN.check()`` compares your answers with data
precomputed from the instructor's key for the check's fixed inputs (``grader/checks/data/m15.json``,
written by ``grader release``); the key itself, and the hidden tests, stay with the instructor.
A figure returned by your function is compared through its description
(:func:`grader.checks.figures.describe`: the bars from top to bottom, the labels, the axis).
"""

from __future__ import annotations

from .offline import OfflineQuestion, question

__all__ = ["q1", "q2", "q3", "q4", "q5", "FEATURES", "IMMUTABLE", "UNIT"]

#: The credit model's features, in the model's column order (the notebook uses the same list).
FEATURES = ("income", "savings", "debt_ratio", "late_payments")
#: Features an applicant cannot change: a contrastive explanation never suggests them.
IMMUTABLE = ("late_payments",)
#: The x label of the q4 chart: what the bar lengths measure, with their unit.
UNIT = "mean |SHAP value| (log-odds of default)"


class _Q15(OfflineQuestion):
    aid = "15-communication-capstone"
    module = "m15"


@question("q1")
class ReasonCodes(_Q15):
    title = "reason codes in one direction, in the model's units"
    names = ("reason_codes",)
    hints = (
        "A reason for a decline is something that pushed the risk *up*; a feature that pushed "
        "it down is not a reason, however large its push. `direction` says which pushes you want.",
        "Keep the indices whose SHAP value has the requested sign and is at least 0.005 in "
        "absolute value; order them with `sorted(..., key=...)` (stable, so ties keep the "
        "feature order); format the first k with the template, `:g` for the value, `:+.2f` for "
        "the SHAP value.",
    )


@question("q2")
class FrequencyStatement(_Q15):
    title = "natural frequencies with the baseline"
    names = ("frequency_statement",)
    hints = (
        "People read \"about 12 in 100\" better than 0.12, and a relative risk means little "
        "without the baseline it multiplies. The statement gives both, in whole people.",
        "Try the denominators 100, 1000 and 10000 in that order and stop at the first where "
        "both `round(p * d)` are at least 1; the difference is the difference of those two "
        "rounded counts; the ratio is p1 / p0.",
    )


@question("q4")
class TopFeaturesBar(_Q15):
    title = "an honest bar chart of the top features"
    names = ("top_features_bar",)
    hints = (
        "An honest importance chart: sorted, largest at the top, a value axis that starts at 0, "
        "the rest summed into \"Other\" rather than dropped, and units on the axis.",
        "Importance is `np.abs(shap_values).mean(axis=0)`. `ax.barh(labels, widths)` draws the "
        "first item at the bottom, so pass the bars in reverse order; then `ax.set_xlabel(unit)` "
        "and the title from the prompt's template.",
    )


@question("q3")
class ContrastiveChanges(_Q15):
    title = "contrastive changes in original units"
    names = ("contrastive_changes",)
    hints = (
        "The model is linear in the log-odds of the *standardised* features, so one feature's "
        "change that reaches a target log-odds is a division; the answer must then go back to "
        "the feature's own units, and only for features a person can change.",
        "Current log-odds: `model.decision_function(x_row.to_frame().T)[0]`; target: "
        "`logit(threshold)`; standardised change: their difference over the feature's "
        "coefficient; original units: times `scaler.scale_[j]`. Skip the features in IMMUTABLE.",
    )


@question("q5")
class RecallInterval(_Q15):
    title = "the recall with a bootstrap interval"
    names = ("recall_interval",)
    hints = (
        "One generator for the whole loop; each round resamples the cases with replacement and "
        "recomputes the recall; the interval comes from the spread of those recalls.",
        "`rng = np.random.default_rng(seed)` before the loop; `idx = rng.integers(0, n, n)`; "
        "recall = flagged positives / actual positives of the resample; "
        "`np.percentile(recalls, [2.5, 97.5])`; the point value is the recall on all the cases.",
    )


q1, q2, q3, q4, q5 = ReasonCodes, FrequencyStatement, ContrastiveChanges, TopFeaturesBar, RecallInterval
