"""Checks for assignment 13, "Documentation and reproducibility"
(``solutions/13-documentation-reproducibility``).

==== ============================================== ==============================================
q1   ``train_reproducibly(seed)``                   test rows and their scores, identical for the
                                                    same seed, driven by nothing else
q2   ``data_fingerprint(X, y)``, ``fingerprint``    SHA-256 of pandas' row hashes of the data set
q3   ``card_metrics(y_true, p, group, threshold)``  a model card's numbers, overall and per group
q4   ``card_problems(card, y_true, p, group)``      the problems a card checker must find
q5   ``background_rows(n_rows, seed, size)``,       a stored, reproducible SHAP background and the
     ``base_value_card``                            base value it gives
==== ============================================== ==============================================

This is the student side: titles, names and hints. ``qN.check()`` compares your answers with data
precomputed from the instructor's key for the check's fixed inputs (``grader/checks/data/m13.json``,
written by ``grader release``); the key itself, and the hidden tests, stay with the instructor.
"""

from __future__ import annotations

from .offline import OfflineQuestion, question

__all__ = ["q1", "q2", "q3", "q4", "q5", "SECTIONS", "METRIC_KEYS", "CARD_PROBLEMS"]

#: The nine sections of a model card (Mitchell et al., 2019), as keys of the card dict.
SECTIONS = (
    "model_details",
    "intended_use",
    "factors",
    "metrics",
    "evaluation_data",
    "training_data",
    "quantitative_analyses",
    "ethical_considerations",
    "caveats",
)
#: The numbers that q3 reports for every entry (overall and each group).
METRIC_KEYS = ("n", "auc", "recall", "flag_rate")
#: The problem codes that q4 may return.
CARD_PROBLEMS = (
    "missing_section",
    "no_out_of_scope",
    "wrong_split",
    "not_disaggregated",
    "stale_numbers",
)


class _Q13(OfflineQuestion):
    aid = "13-documentation-reproducibility"
    module = "m13"


@question("q1")
class TrainReproducibly(_Q13):
    title = "a training run that the seed alone determines"
    names = ("train_reproducibly",)
    hints = (
        "List every step that draws random numbers: the split is one. Read the documentation "
        "of `GradientBoostingClassifier`: what does `subsample=0.8` draw, and from what?",
        "Pass `seed` itself to each random step's `random_state`. `np.random.seed(seed)` is not "
        "enough: it seeds a global stream that any other code can move.",
    )


@question("q2")
class DataFingerprint(_Q13):
    title = "a fingerprint of the data set the model saw"
    names = ("data_fingerprint", "fingerprint")
    hints = (
        "The data set is the features *and* the labels. Put them side by side in one DataFrame "
        "first (`pd.concat(..., axis=1)`), then hash that.",
        "`pd.util.hash_pandas_object(frame, index=True)` gives one 64-bit hash per row, with "
        "the row label; hash the bytes of those numbers with `hashlib.sha256(...).hexdigest()`.",
    )


@question("q3")
class CardMetrics(_Q13):
    title = "the model card's numbers, overall and per group"
    names = ("card_metrics",)
    hints = (
        "Write one helper that computes the four numbers for a set of rows, and call it for all "
        "rows (\"overall\") and for each group's rows.",
        "A patient is flagged when p >= threshold. Recall is the share of the readmitted (y == 1) "
        "who are flagged; the AUC uses the scores `p`, not the flags.",
    )


@question("q4")
class CardProblems(_Q13):
    title = "a checker that recomputes a model card"
    names = ("card_problems",)
    hints = (
        "Check each problem separately and collect the codes in a set; return "
        "`sorted(found)`. A section that is there but empty is missing too.",
        "Recompute with your `card_metrics` at the card's threshold, and compare every number "
        "of every entry the card reports, within 0.001 (cards round to 3 decimals).",
    )


@question("q5")
class BackgroundRows(_Q13):
    title = "a reproducible SHAP background and its base value"
    names = ("background_rows", "base_value_card")
    hints = (
        "Make a generator from the seed (`np.random.default_rng(seed)`) and draw `size` distinct "
        "positions from `range(n_rows)`; distinct means without replacement. Sort them.",
        "`TreeExplainer` on a gradient-boosting classifier explains the model's log-odds, so its "
        "base value is a mean over the background rows in log-odds, not a probability.",
    )


q1, q2, q3, q4, q5 = TrainReproducibly, DataFingerprint, CardMetrics, CardProblems, BackgroundRows
