"""Checks for assignment 04, "Data analysis and visualisation" (``solutions/04-data-analysis``).

==== ================================================ ==========================================
q1   ``group_summary(df, by, value)``                  rows, missing values and mean per group
q2   ``pivot_mean(df, rows, cols, value)``             a two-way table of means (reshaping)
q3   ``missing_pct``, ``X_test_imputed``               missingness, and imputation without leakage
q4   ``top_pairs(df, k)``                              the k most correlated pairs (|Spearman|)
q5   ``plot_radius_by_diagnosis(X, y)``                a labelled histogram a test can read
q6   ``pipe``, ``cv_scores``                           imputation and scaling inside a Pipeline
q7   ``indicator_gain``, ``use_indicator``             should the model see that a value was missing?
==== ================================================ ==========================================

This is the student side: titles, names and hints, and the *views* that turn what cannot leave
your kernel as data (a figure, a pipeline) into plain facts: :func:`radius_histograms` (what a
reader can see in your q5 plot), :func:`pipeline_steps` and :func:`cv_scores_on` (the steps of
your q6 ``pipe``, and how a fresh copy of it scores on new data). ``qN.check()`` compares your
answers with data precomputed from the instructor's key for the check's fixed inputs
(``grader/checks/data/m04.json``, written by ``grader release``); the key, and the hidden tests,
stay with the instructor. What is stored plainly there: the results on the fixed inputs and the
table-valued answers of q3 and q6 (``missing_pct``, ``X_test_imputed``, ``cv_scores``), which
anyone can compute from the public data; single values (q7) are stored hashed; grading calls your
functions on fresh inputs.
"""

from __future__ import annotations

import numpy as np

from .collect import view
from .offline import OfflineQuestion, question

__all__ = ["q1", "q2", "q3", "q4", "q5", "q6", "q7"]

_CLASS_NAMES = {0: "malignant", 1: "benign"}
_CODES = {"0", "1", "0.0", "1.0"}
#: How an x label names a unit: words of the image's own units, and of physical lengths.
_IMAGE_UNITS = ("image", "pixel", "px")
_LENGTH_UNITS = ("mm", "millim", "cm", "centim", "µm", "μm", "micro", "nm", "inch")


def _unit(label: str) -> str:
    """Which kind of unit an axis label names: "image", "physical" or "none"."""
    low = label.lower()
    if any(w in low for w in _IMAGE_UNITS):
        return "image"
    if any(w in low for w in _LENGTH_UNITS):
        return "physical"
    return "none"


def _text(value: object, limit: int = 80) -> str:
    return str(value).strip()[:limit]


@view
def radius_histograms(func, X, y) -> dict | None:
    """Call ``func(X, y)`` (a q5 answer) and describe the plot it returns as plain facts.

    The facts are the same for every right answer (whatever its bins, colours or wording): the
    kind of object returned, the number of bar groups, lines and collections, whether each axis
    label and the title are there, whether the x label mentions the radius and which kind of unit
    it names ("image" units or pixels, a "physical" length, or "none"), whether the legend
    names both classes (or shows the codes 0/1), and per class (by histogram label) whether the
    bars count that class's tumours, add up to area 1 (densities), and are centred within one bin
    of its mean radius. What is wrong is also shown as drawn (a label, the legend's texts). The
    figures the call opens are closed. Returns None when ``func`` returns None.
    """
    import matplotlib.pyplot as plt
    from matplotlib.axes import Axes
    from matplotlib.container import BarContainer
    from matplotlib.figure import Figure

    before = set(plt.get_fignums())
    try:
        got = func(X, y)
        if got is None:
            return None
        facts: dict = {"returned": "axes"}  # a figure of one Axes reads the same as the Axes
        if isinstance(got, Figure):
            if len(got.axes) != 1:
                return {"returned": "figure", "n_axes": len(got.axes)}
            got = got.axes[0]
        elif not isinstance(got, Axes):
            return {"returned": type(got).__name__[:60]}
        bars = [c for c in got.containers if isinstance(c, BarContainer)]
        facts["bar_groups"] = len(bars)
        facts["lines"] = len(got.lines)
        facts["collections"] = len(got.collections)
        xlabel, ylabel, title = (_text(t) for t in (got.get_xlabel(), got.get_ylabel(), got.get_title()))
        facts["axis_labels"] = bool(xlabel and ylabel)
        if not facts["axis_labels"]:
            facts["labels_drawn"] = [xlabel, ylabel]
        facts["xlabel_says_radius"] = "radius" in xlabel.lower()
        facts["xlabel_unit"] = _unit(xlabel)
        if not facts["xlabel_says_radius"] or facts["xlabel_unit"] != "image":
            facts["xlabel"] = xlabel
        facts["title"] = bool(title)
        legend = got.get_legend()
        facts["legend"] = legend is not None
        if legend is not None:
            texts = sorted({_text(t.get_text()).lower() for t in legend.get_texts()})[:10]
            facts["legend_names_classes"] = {"malignant", "benign"} <= set(texts)
            if not facts["legend_names_classes"]:
                facts["legend_shows_codes"] = bool(set(texts) & _CODES)
                facts["legend_texts"] = texts
        by_label = {}
        for bc in bars:
            label = _text(bc.patches[0].get_label()).lower() if bc.patches else ""
            heights = np.array([float(p.get_height()) for p in bc.patches])
            widths = np.array([float(p.get_width()) for p in bc.patches])
            centres = np.array([float(p.get_x()) + float(p.get_width()) / 2 for p in bc.patches])
            by_label[label] = (heights, widths, centres)
        facts["histograms_name_classes"] = {"malignant", "benign"} <= set(by_label)
        if not facts["histograms_name_classes"]:
            facts["histogram_labels"] = sorted(by_label)[:10]
            return facts
        codes = np.asarray(y, dtype=int)
        radius = np.asarray(X["mean radius"], dtype=float)
        classes = {}
        for code, name in _CLASS_NAMES.items():
            heights, widths, centres = by_label[name]
            total = float(heights.sum())
            fact = {"counts_this_class": abs(total - float(np.sum(codes == code))) < 1e-6}
            if not fact["counts_this_class"]:
                fact["total"] = total
                fact["counts_other_class"] = abs(total - float(np.sum(codes != code))) < 1e-6
                fact["area_1"] = abs(float(np.sum(heights * widths)) - 1.0) < 1e-6
            else:
                centre = float(np.sum(heights * centres) / total)
                mean = float(radius[codes == code].mean())
                fact["centred"] = abs(centre - mean) <= float(widths.max())
                if not fact["centred"]:
                    fact["centre"] = centre
            classes[name] = fact
        facts["classes"] = classes
        return facts
    finally:
        for num in set(plt.get_fignums()) - before:
            plt.close(num)


@view
def pipeline_steps(pipe) -> dict:
    """The q6 ``pipe`` as plain facts: whether it is a scikit-learn Pipeline, and for each step
    which of SimpleImputer, StandardScaler, LogisticRegression it is (else its class name), with
    the imputer's strategy."""
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    if not isinstance(pipe, Pipeline):
        return {"pipeline": False, "type": type(pipe).__name__[:60]}
    steps = []
    for _, est in list(pipe.steps)[:20]:
        if isinstance(est, SimpleImputer):
            steps.append(["SimpleImputer", _text(est.get_params().get("strategy"))])
        else:
            known = (StandardScaler, LogisticRegression)
            kind = next((k.__name__ for k in known if isinstance(est, k)), None)
            steps.append([kind or f"other: {type(est).__name__[:60]}", ""])
    return {"pipeline": True, "steps": steps}


@view
def cv_scores_on(pipe, X, y):
    """5-fold cross-validated neg_log_loss of a fresh copy (``sklearn.base.clone``) of ``pipe``
    on ``X``, ``y``: an array of 5 floats (one BLAS thread, as the reference)."""
    from sklearn.base import clone
    from sklearn.model_selection import cross_val_score
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1):
        return cross_val_score(clone(pipe), X, y, cv=5, scoring="neg_log_loss")


class _Q04(OfflineQuestion):
    aid = "04-data-analysis"
    module = "m04"


@question("q1")
class GroupSummary(_Q04):
    title = "rows, missing values and mean per group"
    names = ("group_summary",)
    hints = (
        "Group the rows by `by` and look at one column, `value`: pandas gives one number per group "
        "for each summary you ask of it. Which summaries skip missing values, and which do not?",
        "One grouped summary counts every row, another counts only the values that are present; "
        "the missing ones are what separates them. Combine three per-group Series, which share "
        "the group index, into one DataFrame with the three column names asked for.",
    )


@question("q2")
class PivotMean(_Q04):
    title = "a two-way table of means"
    names = ("pivot_mean",)
    hints = (
        "This is a long-to-wide reshape that aggregates as it goes: one column's values become the "
        "rows, another's the columns, and each cell summarises a third column.",
        "pandas' pivot_table takes the row labels, the column labels, the values and the "
        "aggregation as four separate arguments: map each of `rows`, `cols` and `value` to one of "
        "them, and name the aggregation explicitly. A groupby on two columns followed by unstack "
        "is another route.",
    )


@question("q3")
class Imputation(_Q04):
    title = "missing values, and imputation fitted on the training split"
    names = ("missing_pct", "X_test_imputed")
    hints = (
        "Missingness first: a table of True/False (missing or not) averages, column by column, to "
        "the share of missing values. For the imputation, ask which rows may decide the fill "
        "values of a test row.",
        "Fit the median imputer on the training split only, then apply it to the test split. "
        "scikit-learn transformers return NumPy arrays unless you ask for pandas output "
        "(set_output), which keeps the columns and the index.",
    )


@question("q4")
class TopPairs(_Q04):
    def result_form(self, name: str, value: object) -> object:
        """The offline check's form of a ``top_pairs`` result: each pair, and the list, sorted
        (the question asks for the set of pairs, in any order)."""
        if name != "top_pairs" or type(value) is not list:
            return value
        if not all(type(p) is tuple and len(p) == 2 and all(type(v) is str for v in p) for p in value):
            return value
        return sorted(tuple(sorted(p)) for p in value)

    title = "the most correlated pairs of features"
    names = ("top_pairs",)
    hints = (
        "Start from the full matrix of Spearman correlations. Each pair appears twice in it, and "
        "its diagonal pairs every column with itself: neither belongs in the answer.",
        "Visit each pair once (one triangle of the matrix, without the diagonal), score it by the "
        "strength of the relation whatever its sign, rank from the strongest, and keep k.",
    )


@question("q5")
class RadiusHistogram(_Q04):
    title = "a labelled histogram of mean radius by diagnosis"
    names = ("plot_radius_by_diagnosis",)
    hints = (
        "Create one figure with one Axes, draw everything on that Axes, and return it: a test can "
        "only read a plot it is given. Check which code means which diagnosis in this dataset.",
        "Select the radii of each class with a boolean mask on `y`, draw one histogram per class "
        "with a label, then label both axes, give a title and show the legend. For the x label's "
        "unit, recall how WDBC's sizes were measured (lecture 04, section 3).",
    )


@question("q6")
class PipelineCV(_Q04):
    title = "imputation and scaling inside a cross-validated Pipeline"
    names = ("pipe", "cv_scores")
    hints = (
        "Everything that learns from data (the imputer's medians, the scaler's means) must be "
        "fitted inside each training fold: put it in the pipeline.",
        "Chain the three steps in the order the prompt gives, unfitted, then hand the *raw* table "
        "(with its NaNs) and the scoring the prompt names to cross-validation.",
    )


@question("q7")
class MissingIndicator(_Q04):
    title = "a judgement: should the model see that a value was missing?"
    names = ("indicator_gain", "use_indicator")
    hints = (
        "A missing-value indicator is one extra 0/1 column per feature with gaps; the imputer can "
        "add it. Compare two pipelines that differ only in that, honestly (inside "
        "cross-validation), with a score that reads probabilities.",
        "Cross-validate both pipelines exactly as in q6, average each one's five scores, and "
        "subtract in the order the prompt gives. Then remember which direction is better for a "
        "*negative* log-loss.",
    )


q1, q2, q3, q4, q5, q6 = GroupSummary, PivotMean, Imputation, TopPairs, RadiusHistogram, PipelineCV
q7 = MissingIndicator
