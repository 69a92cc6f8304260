"""Checks for assignment 08, "Shapley values and SHAP" (``solutions/08-shap``).

==== ================================================ =========================================
q1   ``exact_shapley(f, x, background)``              interventional Shapley values by enumeration
q2   ``linear_shap(coef, intercept, X, background)``  linear SHAP in closed form, and its base value
q3   ``phi_malignant``, ``base_malignant``             one row, one class, from an (n, p, 2) array
q4   ``logodds_to_proba(base_value, phi)``,            from log-odds SHAP values to a probability
     ``p_benign_gb``
q5   ``mean_abs_shap(values, feature_names)``,         global importance and the noise floor
     ``top5``, ``noise_floor``
==== ================================================ =========================================

This is the student side: titles, names and hints. ``qN.check()`` compares your answers with data
precomputed from the instructor's key for the check's fixed inputs (``grader/checks/data/m08.json``,
written by ``grader release``); the key itself, and the hidden tests, stay with the instructor.
"""

from __future__ import annotations

from .offline import OfflineQuestion, question

__all__ = ["q1", "q2", "q3", "q4", "q5"]

#: The row of ``X_explain`` that q3 and q4 ask about (the notebook's setup cell defines ``ROW``).
ROW = 3
#: Rows of ``X_train`` used as the background of the random forest's explainer (q3).
N_BACKGROUND = 100
#: Rows of the test split explained in q3 and q4.
N_EXPLAIN = 10
#: The friedman1 features that the target does not depend on (q5).
NOISE_FEATURES = ("x5", "x6", "x7", "x8", "x9")


class _Q08(OfflineQuestion):
    aid = "08-shap"
    module = "m08"


@question("q1")
class ExactShapley(_Q08):
    title = "exact interventional Shapley values by enumeration"
    names = ("exact_shapley",)
    hints = (
        "Write the value function first: `v(S)` copies the background, overwrites the columns in "
        "S with x's values, and returns the *mean* of f over those rows. Then loop over each "
        "feature j and each subset S of the other features (`itertools.combinations`, sizes 0 "
        "to p - 1).",
        "The weight of S is `factorial(len(S)) * factorial(p - len(S) - 1) / factorial(p)`, and the "
        "contribution is `v(S + (j,)) - v(S)`. Include the empty set.",
        "Check your result: the values must sum to `f(x[None, :])[0] - f(background).mean()`.",
    )


@question("q2")
class LinearShap(_Q08):
    title = "linear SHAP in closed form"
    names = ("linear_shap",)
    hints = (
        "For a linear model with independent features and an interventional background, "
        "phi_j(x) = coef_j * (x_j - mean of feature j over the background).",
        "With NumPy broadcasting: `phi = coef * (X - background.mean(axis=0))` has shape (n, p). "
        "The base value is the mean prediction on the background: `intercept + background.mean(axis=0) @ coef`.",
        "Efficiency check: `phi.sum(axis=1) + base_value` must equal `X @ coef + intercept`.",
    )


@question("q3")
class MalignantShap(_Q08):
    title = "SHAP values of one row for the malignant class"
    names = ("phi_malignant", "base_malignant")
    hints = (
        "Print `rf_values.shape`: the axes are (rows, features, classes). Which index is the row, "
        "and which is the class?",
        "`rf.classes_` is [0, 1] and 0 = malignant, so the malignant class is index 0 on the last "
        "axis: `rf_values[ROW, :, 0]`. The base value is `rf_explainer.expected_value[0]`.",
        "Check additivity: `phi_malignant.sum() + base_malignant` should equal "
        "`rf.predict_proba(X_explain)[ROW, 0]`.",
    )


@question("q4")
class LogOddsToProba(_Q08):
    title = "from log-odds SHAP values to a probability"
    names = ("logodds_to_proba", "p_benign_gb")
    hints = (
        "The gradient-boosting explainer works in log-odds: base_value + sum(phi) equals "
        "`gb.decision_function(...)`, not `predict_proba`.",
        "Convert once, at the end: z = base_value + sum(phi), then p = 1 / (1 + exp(-z)).",
        "`p_benign_gb = logodds_to_proba(gb_base, gb_values[ROW])`; it should match "
        "`gb.predict_proba(X_explain)[ROW, 1]`.",
    )


@question("q5")
class GlobalImportance(_Q08):
    title = "global importance (mean |SHAP|) and its noise floor"
    names = ("mean_abs_shap", "top5", "noise_floor")
    hints = (
        "Global importance is the mean over rows of the *absolute* SHAP values: signed values of "
        "a strong feature cancel out.",
        "`pd.Series(np.abs(values).mean(axis=0), index=list(feature_names)).sort_values(ascending=False)`.",
        "`top5 = list(importance.index[:5])`; `noise_floor = float(importance[['x5', 'x6', 'x7', "
        "'x8', 'x9']].max())`.",
    )


q1, q2, q3, q4, q5 = ExactShapley, LinearShap, MalignantShap, LogOddsToProba, GlobalImportance
