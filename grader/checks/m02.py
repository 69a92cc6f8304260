"""Checks for assignment 02, "Statistics and probability" (``solutions/02-statistics``).

==== ================================================ =========================================
q1   ``sample_var(x)``, ``std_err(x)``                 variance with ddof=1; standard error
q2   ``pearson_r(x, y)``                               Pearson correlation from scratch
q3   ``stratified_effects(df, treatment, outcome,      pooled vs within-stratum effects, and the
     stratum)``, ``effect_on_tutored``                 standardised (weighted) effect: Simpson;
                                                       the weights a stated question needs
q4   ``baseline``, ``cond_mean_long_history``,         marginal, conditional and interventional
     ``pd_history_20``                                 expectations of a classifier's probability
q5   ``bootstrap_ci(x, stat, n_boot, alpha, seed)``    a percentile bootstrap interval
==== ================================================ =========================================

This is the student side: titles, names and hints. ``qN.check()`` compares your answers with data
precomputed from the instructor's key for the check's fixed inputs (``grader/checks/data/m02.json``,
written by ``grader release``); the key itself, and the hidden tests, stay with the instructor.

What is guessable: single values are stored as salted hashes, and none is a choice: q3's
``effect_on_tutored`` and the numbers of q4 cannot be guessed within their tolerance.
"""

from __future__ import annotations

from .offline import OfflineQuestion, question

__all__ = ["q1", "q2", "q3", "q4", "q5"]

#: q4: the loan model's inputs (application-time columns of ``make_loan_default``), the credit
#: history (years) above which the conditional mean is taken, and the value the intervention sets.
LOAN_FEATURES = ("age", "income", "debt_to_income", "credit_history_years", "late_payments_2y",
                 "loan_amount")
HISTORY_LONG = 20.0
HISTORY_SET = 20.0


class _Q02(OfflineQuestion):
    aid = "02-statistics"
    module = "m02"


@question("q1")
class VarianceAndSE(_Q02):
    title = "sample variance (ddof=1) and the standard error of the mean"
    names = ("sample_var", "std_err")
    hints = (
        "A sample variance divides the sum of squared deviations by n - 1, not n; the standard "
        "error describes the spread of the *mean*, not of the observations.",
        "Compute the sample standard deviation first (the same n - 1 rule), then shrink it by "
        "the square root of the sample size. Return plain floats.",
    )


@question("q2")
class PearsonR(_Q02):
    title = "Pearson's correlation from scratch"
    names = ("pearson_r",)
    hints = (
        "A correlation is a covariance with the units divided out: it must not change when x is "
        "measured in other units, and it keeps its sign.",
        "Centre both arrays on their means; the numerator sums the products of the centred "
        "values, the denominator is the square root of the product of their sums of squares. "
        "Return one number, not a matrix.",
    )


@question("q3")
class Simpson(_Q02):
    title = "pooled, within-stratum and adjusted effects, and the weights a question needs"
    names = ("stratified_effects", "effect_on_tutored")
    hints = (
        "Pooled: one difference of group means over the whole table. Within: the same "
        "difference inside each stratum. Adjusted: the within-stratum differences averaged with "
        "weights that sum to 1.",
        "The weights decide *whose* effect you report: each stratum's share of all rows describes "
        "everyone; the question about the tutored students needs each band's share among the "
        "tutored students.",
    )


@question("q4")
class Expectations(_Q02):
    title = "marginal, conditional and interventional expectations of a classifier"
    names = ("baseline", "cond_mean_long_history", "pd_history_20")
    hints = (
        "All three are means of the model's predicted probability of default, never of y. They "
        "differ in which rows, or which modified rows, you predict.",
        f"Conditional: keep only the rows with more than {HISTORY_LONG:g} years of credit history. "
        f"Interventional: keep every row, set the credit history of a copy to {HISTORY_SET:g} "
        "years, then predict.",
    )


@question("q5")
class BootstrapCI(_Q02):
    title = "a percentile bootstrap confidence interval"
    names = ("bootstrap_ci",)
    hints = (
        "Each bootstrap resample draws n rows *with replacement* from the sample; the statistic "
        "of each resample is one draw from its sampling distribution.",
        "Follow the prompt's protocol: one generator from the seed, one call that draws all the "
        "row numbers, the statistic on each row of them, then the alpha/2 and 1 - alpha/2 "
        "quantiles, low first.",
    )


# The decorator turns each class into its question instance; export them under their labels.
q1, q2, q3, q4, q5 = VarianceAndSE, PearsonR, Simpson, Expectations, BootstrapCI
