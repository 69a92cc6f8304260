"""Checks for assignment 01, "Why interpret?" (``solutions/01-why-interpret``).

=====  ==========================================  =============================================
q1     ``fraction_correct(y_true, y_pred)``        warm-up: a function checked on fresh arrays
q2     ``taxonomy``                                eight methods: (scope, model-agnostic?)
q3     ``test_importance``, ``leaky_feature``      permutation importance finds the leak
q4     ``honest_accuracy``, ``baseline_accuracy``  accuracy without the leak, against a baseline
q5     ``local_contributions``, ``top_feature_..`` log-odds contributions of one patient's features
=====  ==========================================  =============================================

This is the student side: titles, names and hints (and the public form of the q2 answer).
``qN.check()`` compares your answers with data precomputed from the instructor's key for the
check's fixed inputs (``grader/checks/data/m01.json``, written by ``grader release``); the key
itself, and the hidden tests, stay with the instructor.

What is guessable: the single-value answers are stored as salted hashes, which hides them from a
reader but not from trial. q2's answer space is small (two choices for each part of 8 items:
65,536 dicts, which a short loop over the hashes tries in a second), and ``leaky_feature`` is one
of six column names; both are worth one point per cell. q1 and q5 are graded on fresh inputs.
"""

from __future__ import annotations

import json

import numpy as np

from .core import Incorrect
from .offline import OfflineQuestion, question
from .values import as_bool, as_dict, show

__all__ = ["q1", "q2", "q3", "q4", "q5"]

#: The eight methods of q2, in the order of the prompt.
METHODS = (
    "coefficients",
    "tree_path",
    "permutation_importance",
    "pdp",
    "ice",
    "lime",
    "shap_waterfall",
    "global_surrogate",
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
        "Compare the two arrays element by element: `y_true == y_pred` gives an array of True/False.",
        "True counts as 1 and False as 0, so the mean of that comparison is the fraction of matches.",
        "The whole body can be one line: `return float(np.mean(y_true == y_pred))`.",
    )
    correct_message = "Every check you meet in this course works like this one."


@question("q2")
class Taxonomy(_Q01):
    title = "global or local, model-agnostic or model-specific"
    names = ("taxonomy",)
    hints = (
        "Scope: does the output describe the model as a whole (global) or one prediction (local)?",
        "Model-agnostic means the method only calls the model's predict function; a method that "
        "reads the model's insides (weights, splits) is model-specific.",
        "A plot of one curve per row is local even if many rows are drawn together; the average "
        "of those curves is global.",
    )

    def canonical(self, name, value):
        """The taxonomy as canonical text (its public form only), hashed by the offline check."""
        parsed = parse_taxonomy(value)
        return json.dumps([[m, *parsed[m]] for m in METHODS])


@question("q3")
class LeakDetective(_Q01):
    title = "permutation importance on the test split finds the leak"
    names = ("test_importance", "leaky_feature")
    hints = (
        "`permutation_importance(leaky_model, X_test, y_test, n_repeats=5, random_state=0)` "
        "returns a Bunch; its `importances_mean` is one number per column of `X_test`.",
        "Wrap the numbers as `pd.Series(result.importances_mean, index=X_test.columns)` and sort "
        "it: one column dwarfs the others.",
        "Ask of the top column: would a hospital know this value on the day of discharge, when "
        "the prediction has to be made?",
    )


@question("q4")
class HonestAccuracy(_Q01):
    title = "honest test accuracy against the majority-class baseline"
    names = ("honest_accuracy", "baseline_accuracy")
    hints = (
        "Refit `clone(leaky_model)` on `X_train.drop(columns=leaky_feature)`, then score it on "
        "the test rows with the same column dropped.",
        "The majority-class baseline always predicts the most frequent class; its accuracy is the "
        "share of that class among the test labels.",
        "Which class is the majority? Look at `y_test.value_counts(normalize=True)`.",
    )


@question("q5")
class LocalContributions(_Q01):
    title = "log-odds contributions for one patient"
    names = ("local_contributions", "top_feature_patient_0")
    hints = (
        "The pipeline's first step is the scaler and its last the logistic regression: "
        "`model[0].mean_`, `model[0].scale_` and `model[-1].coef_[0]`.",
        "Standardise the row first, z = (x - mean) / scale, then multiply by the coefficients. "
        "The contributions plus `model[-1].intercept_[0]` add up to `model.decision_function`.",
        "For the top feature, rank by the absolute contribution for this patient: "
        "`contributions.abs().idxmax()`.",
    )


# ``@question`` binds each instance to its class name; the notebook imports them as q1 ... q5.
q1, q2, q3, q4, q5 = FractionCorrect, Taxonomy, LeakDetective, HonestAccuracy, LocalContributions
