"""Checks for assignment 01, "Why interpret?" (``solutions/01-why-interpret``).

=====  ==========================================  =============================================
q1     ``fraction_correct(y_true, y_pred)``        warm-up: a function checked on fresh arrays
q2     ``taxonomy``                                eight methods the lecture did not tabulate:
                                                   (scope, model-agnostic?)
q3     ``test_importance``, ``leaky_feature``      permutation importance finds a loan model's leak
q4     ``second_leak``, ``honest_accuracy``,       removing one leak unmasks another; the honest
       ``baseline_accuracy``                       accuracy against the majority-class baseline
q5     ``local_contributions``, ``top_feature_..`` log-odds contributions of one wine's features
=====  ==========================================  =============================================

This is the student side: titles, names and hints (and the public form of the q2 answer).
``qN.check()`` compares your answers with data precomputed from the instructor's key for the
check's fixed inputs (``grader/checks/data/m01.json``, written by ``grader release``); the key
itself, and the hidden tests, stay with the instructor.

What is guessable: the single-value answers are stored as salted hashes, which hides them from a
reader but not from trial. q2's answer space is small (two choices for each part of 8 items:
65,536 dicts, which a short loop over the hashes tries in a second), and ``leaky_feature`` and
``second_leak`` are each one of eight column names; they are worth one point per cell, and
q4's ``honest_accuracy`` cannot be guessed. q1 and q5 are graded on fresh inputs.
"""

from __future__ import annotations

import json

import numpy as np

from .core import Incorrect
from .offline import OfflineQuestion, question
from .values import as_bool, as_dict, show

__all__ = ["q1", "q2", "q3", "q4", "q5"]

#: The eight methods of q2, in the order of the prompt (none is in the lecture's table).
METHODS = (
    "mdi",
    "ale",
    "anchors",
    "treeshap_summary",
    "attention_weights",
    "h_statistic",
    "rulefit_rules",
    "occlusion",
)


def parse_taxonomy(taxonomy: object) -> dict[str, tuple[str, bool]]:
    """``taxonomy`` as {method: (scope, model_agnostic)} with the scope lower-cased; Incorrect
    (type or shape) when it is not a dict of the 8 methods, each a ('global'/'local', bool)."""
    answer = as_dict(taxonomy, "taxonomy")
    keys = list(answer)
    bad = [k for k in keys if type(k) is not str]
    if bad:
        raise Incorrect(
            f"The keys of `taxonomy` should be the method names (strings); found {show(bad[0])}."
        )
    missing = [m for m in METHODS if m not in answer]
    extra = [k for k in keys if k not in METHODS]
    if missing or extra:
        parts = []
        if missing:
            parts.append("missing " + ", ".join(f"'{m}'" for m in missing))
        if extra:
            parts.append("unexpected " + ", ".join(show(k) for k in extra[:4]))
        raise Incorrect(
            f"`taxonomy` should have exactly the 8 method names of the prompt as keys: "
            f"{'; '.join(parts)}."
        )
    parsed = {}
    for method in METHODS:
        value = answer[method]
        if type(value) not in (tuple, list) or len(value) != 2:
            raise Incorrect(
                f"`taxonomy['{method}']` should be a tuple (scope, model_agnostic), "
                f"but it is {show(value)}."
            )
        scope, agnostic = value
        if type(scope) is not str or str.lower(str.strip(scope)) not in ("global", "local"):
            raise Incorrect(
                f"The scope in `taxonomy['{method}']` should be the string 'global' or "
                f"'local', but it is {show(scope)}."
            )
        if type(agnostic) is not bool and type(agnostic) is not np.bool_:
            raise Incorrect(
                f"The second item of `taxonomy['{method}']` should be True or False "
                f"(model-agnostic or not), but it is {show(agnostic)}."
            )
        parsed[method] = (str.lower(str.strip(scope)), as_bool(agnostic, method))
    return parsed



class _Q01(OfflineQuestion):
    aid = "01-why-interpret"
    module = "m01"


@question("q1")
class FractionCorrect(_Q01):
    title = "the fraction of correct predictions"
    names = ("fraction_correct",)
    hints = (
        "Accuracy counts the positions where the prediction equals the true label, out of all "
        "positions.",
        "Compare the two arrays element by element; a comparison gives True/False values, and "
        "NumPy counts True as 1 when it sums or averages them.",
    )
    correct_message = "Every check you meet in this course works like this one."


@question("q2")
class Taxonomy(_Q01):
    title = "global or local, model-agnostic or model-specific, for methods new to you"
    names = ("taxonomy",)
    hints = (
        "Scope: does the output describe the model over a whole data set (global) or one "
        "prediction (local)? A chart that averages local numbers over many rows is a summary "
        "of the model.",
        "Model-agnostic: could you compute it if the model were a sealed box you can only "
        "query for predictions? If it reads weights, splits, leaves or layers, it is "
        "model-specific, whatever kind of output it draws.",
    )

    def canonical(self, name, value):
        """The taxonomy as canonical text (its public form only), hashed by the offline check."""
        parsed = parse_taxonomy(value)
        return json.dumps([[m, *parsed[m]] for m in METHODS])


@question("q3")
class LeakDetective(_Q01):
    title = "permutation importance on the test split finds the loan model's leak"
    names = ("test_importance", "leaky_feature")
    hints = (
        "Permutation importance measures how much the model's score on held-out rows drops "
        "when one column is shuffled; the lecture's section 3 computes it with scikit-learn.",
        "Keep the importances with the column names they belong to, then sort. For the top "
        "column, ask when its value is recorded: before the loan is granted, or after?",
    )


@question("q4")
class HonestAccuracy(_Q01):
    title = "one leak can hide another: the honest accuracy against a baseline"
    names = ("second_leak", "honest_accuracy", "baseline_accuracy")
    hints = (
        "Removing the strongest leak changes what the model leans on: measure the importances "
        "again on the refitted model before you trust it.",
        "Refit a clone of the model without the leaky columns, score it on the test rows "
        "without the same columns; the baseline's accuracy is the share of the most frequent "
        "class among the test labels.",
    )


@question("q5")
class LocalContributions(_Q01):
    title = "log-odds contributions for one wine"
    names = ("local_contributions", "top_feature_wine")
    hints = (
        "The pipeline's first step holds the training means and scales, its last step the "
        "coefficients and the intercept.",
        "Standardise the row with the scaler's statistics, then weight each standardised value "
        "by its coefficient; the contributions plus the intercept must add up to the model's "
        "decision function for that row. Rank by size, whatever the sign.",
    )


# ``@question`` binds each instance to its class name; the notebook imports them as q1 ... q5.
q1, q2, q3, q4, q5 = FractionCorrect, Taxonomy, LeakDetective, HonestAccuracy, LocalContributions
