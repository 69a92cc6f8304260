"""Checks for assignment 07, "Global model-agnostic methods" (``solutions/07-global-methods``).

==== ================================================ =========================================
q1   ``perm_importance(model, X, y, n_repeats, seed)``  permutation importance by hand
q2   ``pi_test``, ``pi_sklearn``                       held-out importances, by hand and sklearn
q3   ``pdp(model, X, feature, grid)``                  partial dependence by hand (brute force)
q4   ``grid_wind``, ``pd_wind``, ``slope_wind``         ``sklearn.inspection.partial_dependence``
q5   ``centred_ice(model, X, feature, grid)``          centred ICE curves
q6   ``spread_temp``, ``spread_wind``,                 interactions from ICE heterogeneity
     ``feature_with_interaction``
q7   ``make_target(X1, X2)``                           design: flat PDP but high importance
q8   ``ale(model, X, feature, n_bins)``                first-order ALE with quantile bins
q9   ``h2_pair(model, X, j, k)``                       Friedman's H-statistic (H squared)
q10  ``loss_if_station_fails``                         a judgement: grouped permutation
q11  ``refit_pdps(model, X_train, y_train, X_eval,      a PDP's percentile band from bootstrap
     feature, grid, B, seed)``, ``percentile_band``    refits, and which band answers a question
     ``(values, level)``, ``rise_band``
==== ================================================ =========================================

The data are hourly bike rentals (:func:`grader.datasets.make_bike_rentals`), not the lecture's
friedman1. This is the student side: titles, names and hints, the toy model the checks pass to
your functions, and ``q7_measure`` (the notebook measures your q7 design with it).
``qN.check()`` compares your answers with data precomputed from the instructor's key for the
check's fixed inputs (``grader/checks/data/m07.json``, written by ``grader release``); the key
itself, and the hidden tests, stay with the instructor.

``feature_with_interaction`` (q6) has two possible values, so it can be guessed by trying both in
``check()``; it is worth only the visible cell's point (the hidden cell re-checks the spreads).
"""

from __future__ import annotations

import numpy as np
from sklearn.ensemble import RandomForestRegressor
from sklearn.inspection import partial_dependence, permutation_importance
from sklearn.model_selection import train_test_split

from .core import Incorrect, call
from .offline import OfflineQuestion, question
from .values import as_array

__all__ = ["q1", "q2", "q3", "q4", "q5", "q6", "q7", "q8", "q9", "q10", "q11"]


class ToyModel:
    """A fitted-model stand-in with a known, non-additive prediction function.

    predict(X) = X @ w + c * x0 * x1 + sin(3 * x_last); score is R^2 (as for sklearn regressors).
    """

    def __init__(self, w, c: float = 1.5):
        self.w = np.asarray(w, dtype=float)
        self.c = float(c)

    def predict(self, X):
        X = np.asarray(X, dtype=float)
        return X @ self.w + self.c * X[:, 0] * X[:, 1] + np.sin(3.0 * X[:, -1])

    def score(self, X, y):
        y = np.asarray(y, dtype=float)
        err = y - self.predict(X)
        return float(1.0 - np.sum(err**2) / np.sum((y - y.mean()) ** 2))

    def __repr__(self) -> str:
        return "ToyModel()"


def q7_measure(make_target, seed: int = 7, n: int = 2000) -> tuple[float, float]:
    """Fit the fixed forest on a target from ``make_target``; return (PI of X1, PDP range of X1).

    X1 is uniform on [-2, 2] and X2 uniform on [0, 4] (``n`` rows of each, drawn from ``seed``);
    the importance is the drop in held-out R² (unitless), the PDP range is in units of y. The
    notebook calls this with the student's function to see both numbers.
    """
    rng = np.random.default_rng(seed)
    X = np.column_stack([rng.uniform(-2.0, 2.0, n), rng.uniform(0.0, 4.0, n)])
    got = call(make_target, "make_target", X[:, 0].copy(), X[:, 1].copy())
    y = as_array(got, "make_target(X1, X2)", shape=(n,))
    if float(np.std(y)) < 1e-12:
        raise Incorrect(
            "`make_target` returned a constant target: nothing can be important. Let y depend on "
            "X1 (and X2)."
        )
    X_a, X_b, y_a, y_b = train_test_split(X, y, test_size=0.5, random_state=0)
    forest = RandomForestRegressor(n_estimators=30, min_samples_leaf=5, random_state=0, n_jobs=1)
    forest.fit(X_a, y_a)
    pi = permutation_importance(forest, X_b, y_b, n_repeats=3, random_state=0).importances_mean
    avg = partial_dependence(forest, X_b, [0], grid_resolution=20, method="brute")["average"][0]
    return float(pi[0]), float(np.ptp(avg))



class _Q07(OfflineQuestion):
    aid = "07-global-methods"
    module = "m07"


@question("q1")
class PermImportance(_Q07):
    title = "permutation importance by hand"
    names = ("perm_importance",)
    hints = (
        "The importance of a column is how much the error grows when that column alone no longer "
        "matches its rows: measure the error once on the intact data, then once per shuffle.",
        "Every shuffle starts again from the caller's data (a copy), changes one column only, and "
        "draws its permutation from the single generator in the order the prompt gives. Keep one "
        "drop per (repeat, column) and summarise over the repeats.",
    )


@question("q2")
class HeldOutImportance(_Q07):
    title = "held-out permutation importances, by hand and with scikit-learn"
    names = ("pi_test", "pi_sklearn")
    hints = (
        "Importance must be measured on rows the model did not train on: which of the four "
        "arrays of the setup cell are those?",
        "Your q1 function returns a pair; `pi_test` is one element of it. For scikit-learn, the "
        "`scoring` argument takes a scorer's name, where greater is better (errors are negated).",
    )


@question("q3")
class PartialDependence(_Q07):
    title = "partial dependence by hand (brute force)"
    names = ("pdp",)
    hints = (
        "A PDP value answers: if every row had this value of the feature, what would the model "
        "predict on average?",
        "One output per grid value: for each value, overwrite the whole column in a copy of X, "
        "predict all rows, and reduce those predictions to one number.",
    )


@question("q4")
class SklearnPDP(_Q07):
    title = "sklearn's partial_dependence and the slope of wind"
    names = ("grid_wind", "pd_wind", "slope_wind")
    hints = (
        "`partial_dependence` returns a dict-like Bunch: print its keys (there is no 'values' "
        "key any more). The default method for gradient boosting is not the brute-force one.",
        "Both arrays of the Bunch have a leading axis (one entry per requested feature, or per "
        "output): take the first entry. For the slope, fit a degree-1 polynomial, x first.",
    )


@question("q5")
class CentredICE(_Q07):
    title = "centred ICE curves"
    names = ("centred_ice",)
    hints = (
        "An ICE curve is one row's prediction as the feature sweeps the grid; the PDP is their "
        "average. Centring removes each curve's level so that only its shape is compared.",
        "Build a matrix with one row per data row and one column per grid value, then subtract "
        "from each row its own value in the first column.",
    )


@question("q6")
class Interactions(_Q07):
    title = "interactions from ICE heterogeneity"
    names = ("spread_temp", "spread_wind", "feature_with_interaction")
    hints = (
        "Reuse your `centred_ice` with the grid given for each feature. Parallel centred curves "
        "mean the feature acts the same way on every row.",
        "The spread is a standard deviation across the rows at each grid value (one number per "
        "grid value), then averaged over the grid values.",
    )


@question("q7")
class FlatButImportant(_Q07):
    title = "design: a flat PDP for an important feature"
    names = ("make_target",)
    hints = (
        "A PDP averages X1's effect over all rows. If X1 pushes y up for some rows and down for "
        "as many others, the average is flat, but shuffling X1 still wrecks the predictions.",
        "X2 is not centred at 0 here: measure what your design's PDP looks like with "
        "`q7_measure`, and think about what X1's effect averages to over X2's distribution.",
    )


@question("q8")
class FirstOrderALE(_Q07):
    title = "first-order ALE with quantile bins"
    names = ("ale",)
    hints = (
        "ALE moves each row only across the bin it lies in, so it never predicts far from the "
        "data; the curve is the running total of those local changes.",
        "Per bin: the rows in it, predicted at the bin's upper edge and at its lower edge; the "
        "mean difference is that bin's effect. Accumulate, then centre with the count-weighted "
        "mean of the bin midpoints, as the prompt's step 5 says.",
    )


@question("q9")
class HStatistic(_Q07):
    title = "Friedman's H-statistic for a pair of features"
    names = ("h2_pair",)
    hints = (
        "Without interaction the two-way partial dependence is the sum of the two one-way ones. "
        "H^2 is the share of the two-way PD's variance that this sum does not explain.",
        "Evaluate PD_j, PD_k and PD_jk at every row's own feature values (each an average over "
        "all rows of X), centre each to mean 0, then form the ratio of two sums of squares.",
    )


@question("q10")
class StationFault(_Q07):
    title = "a judgement: what the model loses when a station's records are shuffled"
    names = ("loss_if_station_fails",)
    hints = (
        "Which columns does the fault touch, and do they move together or separately? "
        "Importances of correlated features do not add up.",
        "Permute the rows of the affected columns together (one permutation per repeat, applied "
        "to all of them), measure the drop in held-out R², and average over many repeats.",
    )


@question("q11")
class RefitBand(_Q07):
    title = "a PDP's percentile band from bootstrap refits"
    names = ("refit_pdps", "percentile_band", "rise_band")
    hints = (
        "A band covers only what you resample. To see how much another model from the same "
        "recipe would differ, each replicate must be a new model trained on a new sample of the "
        "training rows, while the rows the PDP averages over stay the same.",
        "Per replicate: draw n row indices with replacement, fit a fresh copy of the estimator "
        "on those rows, and store its PDP over all of X_eval. A percentile band cuts (1 - level) "
        "/ 2 from each tail of the B values; for the rise, take each replicate's own difference "
        "first, then its band.",
    )


q1, q2, q3, q4, q5, q6, q7, q8, q9, q10, q11 = (
    PermImportance,
    HeldOutImportance,
    PartialDependence,
    SklearnPDP,
    CentredICE,
    Interactions,
    FlatButImportant,
    FirstOrderALE,
    HStatistic,
    StationFault,
    RefitBand,
)
