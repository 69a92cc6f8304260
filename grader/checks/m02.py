"""Checks for assignment 02, "Statistics and probability" (``solutions/02-statistics``).

==== ================================================ =========================================
q1   ``sample_var(x)``, ``std_err(x)``                 variance with ddof=1; standard error
q2   ``pearson_r(x, y)``                               Pearson correlation from scratch
q3   ``stratified_effects(df, treatment, outcome,      pooled vs within-stratum effects, and the
     stratum)``, ``treatment_helps``                   standardised (weighted) effect: Simpson
q4   ``baseline``, ``cond_mean_high_bmi``,             marginal, conditional and interventional
     ``pd_bmi_32``                                     expectations of a model's prediction
q5   ``bootstrap_ci(x, stat, n_boot, alpha, seed)``    a percentile bootstrap interval
==== ================================================ =========================================

This is the student side: titles, names and hints. ``qN.check()`` compares your answers with data
precomputed from the instructor's key for the check's fixed inputs (``grader/checks/data/m02.json``,
written by ``grader release``); the key itself, and the hidden tests, stay with the instructor.

What is guessable: single values are stored as salted hashes. ``treatment_helps`` is True or
False, but q3 scores only with a right ``stratified_effects`` too (graded on fresh tables); the
numbers of q4 cannot be guessed within their tolerance.
"""

from __future__ import annotations

from .offline import OfflineQuestion, question

__all__ = ["q1", "q2", "q3", "q4", "q5"]

#: q4: the bmi threshold of the conditional mean and the bmi value of the intervention.
BMI_HIGH = 30.0
BMI_SET = 32.0


class _Q02(OfflineQuestion):
    aid = "02-statistics"
    module = "m02"


@question("q1")
class VarianceAndSE(_Q02):
    title = "sample variance (ddof=1) and the standard error of the mean"
    names = ("sample_var", "std_err")
    hints = (
        "The sample variance is the sum of squared deviations from the mean divided by n - 1; "
        "`np.var(x, ddof=1)` computes it.",
        "The standard error of the mean is the sample standard deviation divided by the square "
        "root of n: `np.std(x, ddof=1) / np.sqrt(len(x))`.",
        "Return plain floats: `float(...)`. Convert the input first with `np.asarray(x, dtype=float)`.",
    )


@question("q2")
class PearsonR(_Q02):
    title = "Pearson's correlation from scratch"
    names = ("pearson_r",)
    hints = (
        "Centre both arrays first: `dx = x - x.mean()`, `dy = y - y.mean()`.",
        "r = sum(dx * dy) / sqrt(sum(dx**2) * sum(dy**2)): the covariance divided by both "
        "standard deviations (the n - 1 factors cancel).",
        "Return one float, `float(r)`, not the 2x2 matrix of `np.corrcoef`.",
    )


@question("q3")
class Simpson(_Q02):
    title = "pooled, within-stratum and adjusted effects (Simpson's paradox)"
    names = ("stratified_effects", "treatment_helps")
    hints = (
        "Use `df.groupby(treatment)[outcome].mean()` for the pooled means, and "
        "`df.groupby([stratum, treatment])[outcome].mean().unstack()` for one row per stratum.",
        "The within-stratum effect is the column for treatment 1 minus the column for treatment 0 "
        "of that unstacked table. The adjusted effect weights each stratum's effect by "
        "`df[stratum].value_counts(normalize=True)`.",
        "Which number answers 'does the treatment help a given patient'? The pooled one mixes "
        "mild and severe patients in different proportions in the two groups.",
    )


@question("q4")
class Expectations(_Q02):
    title = "marginal, conditional and interventional expectations of a model"
    names = ("baseline", "cond_mean_high_bmi", "pd_bmi_32")
    hints = (
        "All three are means of `model.predict(...)`, never of y. They differ in which rows "
        "(or which modified rows) you predict.",
        f"Conditional: keep the rows with `X_test['bmi'] > {BMI_HIGH:g}` and average their "
        f"predictions. Interventional: `X_set = X_test.copy(); X_set['bmi'] = {BMI_SET:g}`, then "
        "average `model.predict(X_set)`.",
    )


@question("q5")
class BootstrapCI(_Q02):
    title = "a percentile bootstrap confidence interval"
    names = ("bootstrap_ci",)
    hints = (
        "Follow the protocol exactly: `rng = np.random.default_rng(seed)`, then one call "
        "`idx = rng.integers(0, n, size=(n_boot, n))`: each row is one resample, drawn with "
        "replacement.",
        "`boot = np.array([stat(x[row]) for row in idx])` holds n_boot statistics; the interval is "
        "`np.quantile(boot, [alpha / 2, 1 - alpha / 2])`.",
        "Return a tuple of two floats, low first: `(float(low), float(high))`.",
    )


# The decorator turns each class into its question instance; export them under their labels.
q1, q2, q3, q4, q5 = VarianceAndSE, PearsonR, Simpson, Expectations, BootstrapCI
