"""Checks for assignment 08, "Shapley values and SHAP" (``solutions/08-shap``).

==== ================================================== =========================================
q1   ``exact_shapley(f, x, background, weights)``        interventional Shapley values against a
                                                        weighted (summarised) background
q2   ``linear_shap(model, X, background)``               linear SHAP of a standardised logistic
                                                        pipeline, in log-odds, and its base value
q3   ``phi_class1``, ``base_class1``                     one row, one class, from an (n, p, 3) array
q4   ``logodds_to_proba(base_value, phi)``,              from log-odds SHAP values to a probability
     ``p_approved``
q5   ``mean_abs_shap(values, feature_names)``,           global importance, the noise floor and
     ``important``, ``noise_floor``                     what stands above it
q6   ``conditional_shapley(f, x, data)``,                observational Shapley values, and which
     ``postcode_regulator``, ``postcode_population``     value function answers which question
q7   ``categorical_importance(values, columns,           global importance of a one-hot encoded
     prefix)``                                          categorical: sum its dummies first
q8   ``interaction_values(f, x, background)``            exact SHAP interaction values, (p, p)
q9   ``kernel_spread(f, x, background, nsamples,         KernelSHAP's sampling error over seeds,
     seeds)``, ``kernel_sd``, ``kernel_bias``,           against exact interventional values
     ``n_flipped``
==== ================================================== =========================================

This is the student side: titles, names and hints. ``qN.check()`` compares your answers with data
precomputed from the instructor's key for the check's fixed inputs (``grader/checks/data/m08.json``,
written by ``grader release``); the key itself, and the hidden tests, stay with the instructor.
"""

from __future__ import annotations

from .offline import OfflineQuestion, question

__all__ = ["q1", "q2", "q3", "q4", "q5", "q6", "q7", "q8", "q9"]

#: The row of ``X_explain`` (wine, q3) and of ``T_explain`` (tenancy, q4) the questions ask about.
ROW = 6
#: Rows of the wine training split used as the random forest's background (q3).
N_BACKGROUND = 60
#: Rows of each test split explained in q3 and q4.
N_EXPLAIN = 10
#: The crop-yield columns that the yield does not depend on (q5).
NOISE_FEATURES = ("plot_id", "sensor_offset", "weekday")
#: The row of the applicant population that q6 explains.
APPLICANT = 17
#: q9: the held-out crop plot explained, the number of background plots (the first rows of the
#: crop table), KernelSHAP's budget, the seeds, the feature whose spread is asked and the pair
#: whose ranking is asked.
KERNEL_PLOT = 917
KERNEL_BACKGROUND = 12
KERNEL_NSAMPLES = 40
KERNEL_SEEDS = (0, 1, 2, 3, 4, 5, 6, 7)
KERNEL_FEATURE = "temperature_c"
KERNEL_PAIR = ("temperature_c", "soil_ph")


class _Q08(OfflineQuestion):
    aid = "08-shap"
    module = "m08"


@question("q1")
class ExactShapley(_Q08):
    title = "exact interventional Shapley values against a weighted background"
    names = ("exact_shapley",)
    hints = (
        "A weighted background is a summary of many rows: a row of weight 30 stands for 30 of "
        "the original rows. Where the lecture's value function takes a plain mean over the "
        "background rows, yours must take the weighted mean, so that it equals the plain mean "
        "over the rows the summary stands for.",
        "Write v(S) first and test it alone: v(empty set) must be the weighted mean of f over the "
        "background, and v(all features) must be f(x). Then the Shapley weights and the loop "
        "over coalitions are the lecture's; the sum of your values must equal v(all) - v(empty).",
    )


@question("q2")
class LinearShap(_Q08):
    title = "linear SHAP of a standardised logistic pipeline, in log-odds"
    names = ("linear_shap",)
    hints = (
        "In log-odds the pipeline is linear in the *raw* features: standardising is itself a "
        "linear map. Work out the slope of the log-odds in raw feature j (the coefficient and the "
        "scaler's scale both enter), then apply the lecture's closed form.",
        "SHAP centres each feature on the *background* mean, which is not the training mean that "
        "the scaler stored. The base value is the mean of the log-odds (not of the probabilities) "
        "over the background rows; check that phi.sum(axis=1) + base_value reproduces "
        "the model's decision function on X.",
    )


@question("q3")
class ClassShap(_Q08):
    title = "SHAP values of one row for one class of three"
    names = ("phi_class1", "base_class1")
    hints = (
        "Print the shape of `rf_values`: which axis holds the rows, which the features and which "
        "the three classes? The label of a class and its position are given by `rf.classes_`.",
        "Select one row, every feature and one class; the base values come one per class, in the "
        "same class order. Then check additivity against the forest's predicted probability of "
        "that class for that row.",
    )


@question("q4")
class LogOddsToProba(_Q08):
    title = "from log-odds SHAP values to a probability"
    names = ("logodds_to_proba", "p_approved")
    hints = (
        "A gradient-boosting classifier's SHAP values add up to its decision function (log-odds "
        "of class 1), not to a probability.",
        "Add everything in log-odds first, then convert the total once with the logistic "
        "function; converting each term separately or mixing the two spaces breaks additivity. "
        "Compare your probability with `predict_proba` for the same row and class.",
    )


@question("q5")
class GlobalImportance(_Q08):
    title = "global importance (mean |SHAP|), its noise floor and what stands above it"
    names = ("mean_abs_shap", "important", "noise_floor")
    hints = (
        "Global importance averages the *size* of each feature's local shares over the explained "
        "rows: a feature that pushes half the rows up and half down must not average to nothing.",
        "The noise floor is the largest importance among the columns that the yield does not "
        "depend on; a feature counts as important only if it stands above that. Keep the "
        "descending order in `important`.",
    )


@question("q6")
class ConditionalShapley(_Q08):
    title = "observational (conditional) Shapley values, and which question each answers"
    names = ("conditional_shapley", "postcode_regulator", "postcode_population")
    hints = (
        "The observational value function keeps the data's dependence: v(S) averages the model "
        "over the rows of the population that *agree with x on the features in S*, instead of "
        "pasting x's values into every background row.",
        "For the two numbers, ask what each reader wants explained: what the scoring formula "
        "itself does with the postcode band (true to the model), or what the postcode band tells "
        "about the score in this population, where it goes with income (true to the data). "
        "Each is the postcode band's share under one of the two value functions.",
    )


@question("q7")
class CategoricalImportance(_Q08):
    title = "global importance of a one-hot encoded categorical"
    names = ("categorical_importance",)
    hints = (
        "A categorical feature is one feature, however many dummy columns encode it. Additivity "
        "lets you add SHAP values: the categorical's share in one row is the sum of its dummies' "
        "shares in that row.",
        "Pick the dummy columns by their name prefix (and the separator `_`), combine them row by "
        "row first, and only then take the size and average over the rows. Taking absolute "
        "values before combining counts opposite pushes of the dummies as if they added up.",
    )


@question("q8")
class InteractionValues(_Q08):
    title = "exact SHAP interaction values"
    names = ("interaction_values",)
    hints = (
        "An interaction value measures how much knowing i changes j's marginal contribution: the "
        "second difference v(S+i+j) - v(S+i) - v(S+j) + v(S), averaged over the coalitions S of "
        "the *other* features with the weights the prompt gives. The pair's credit is split "
        "equally between (i, j) and (j, i).",
        "Fill the off-diagonal entries first, then the diagonal from the requirement that each row "
        "sums to the feature's Shapley value (you wrote those in q1: weights of 1 give the plain "
        "mean). Check the matrix is symmetric and that all its entries add up to f(x) minus the "
        "base value.",
    )


@question("q9")
class KernelSpread(_Q08):
    title = "the sampling error of KernelSHAP over seeds"
    names = ("kernel_spread", "kernel_sd", "kernel_bias", "n_flipped")
    hints = (
        "KernelExplainer estimates the interventional values from randomly drawn coalitions, so "
        "each seed gives another estimate. The sampling error of a feature is how much *its* "
        "value moves from one seed to the next: repeat the whole estimate once per seed and "
        "look across the repeats, feature by feature.",
        "KernelExplainer draws from NumPy's global generator: seed it with the run's own seed "
        "right before that run, then stack the R runs into an (R, p) array. The spread is a "
        "sample standard deviation over the runs (mind the divisor). The exact values to "
        "compare with must use the same value function and the same background rows as the "
        "estimate.",
    )


q1, q2, q3, q4, q5, q6, q7, q8, q9 = (ExactShapley, LinearShap, ClassShap, LogOddsToProba,
                                      GlobalImportance, ConditionalShapley,
                                      CategoricalImportance, InteractionValues, KernelSpread)
