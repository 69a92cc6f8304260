"""Checks for assignment 07, "Global model-agnostic methods" (``solutions/07-global-methods``).

==== ================================================ =========================================
q1   ``perm_importance(model, X, y, n_repeats, seed)``  permutation importance by hand
q2   ``pi_test``, ``pi_sklearn``                       held-out importances, by hand and sklearn
q3   ``pdp(model, X, feature, grid)``                  partial dependence by hand (brute force)
q4   ``grid_x3``, ``pd_x3``, ``slope_x3``              ``sklearn.inspection.partial_dependence``
q5   ``centred_ice(model, X, feature, grid)``          centred ICE curves
q6   ``spread_x0``, ``spread_x3``,                     interactions from ICE heterogeneity
     ``feature_with_interaction``
q7   ``make_target(X1, X2)``                           design: flat PDP but high importance
q8   ``ale(model, X, feature, n_bins)``                first-order ALE with quantile bins
==== ================================================ =========================================

This is the student side: titles, names and hints, the toy model the checks pass to your
functions, and ``q7_measure`` (the notebook measures your q7 design with it). ``qN.check()``
compares your answers with data precomputed from the instructor's key for the check's fixed
inputs (``grader/checks/data/m07.json``, written by ``grader release``); the key itself, and the
hidden tests, stay with the instructor.

``feature_with_interaction`` (q6) has two possible values, so it can be guessed by trying both in
``check()``; it shares its question with two spreads that cannot be guessed.
"""

from __future__ import annotations

import numpy as np
from sklearn.ensemble import RandomForestRegressor
from sklearn.inspection import partial_dependence, permutation_importance
from sklearn.model_selection import train_test_split

from .core import Incorrect, call
from .offline import OfflineQuestion, question
from .values import as_array

__all__ = ["q1", "q2", "q3", "q4", "q5", "q6", "q7", "q8"]


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

    The notebook calls this with the student's function to see both numbers.
    """
    rng = np.random.default_rng(seed)
    X = rng.uniform(-2.0, 2.0, (n, 2))
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
        "Compute `base = model.score(X, y)` once. Then, for each repeat and each column j, copy X, "
        "shuffle only column j, and record `base - model.score(X_perm, y)`.",
        "Follow the random protocol exactly: `rng = np.random.default_rng(seed)` once; "
        "`for r in range(n_repeats): for j in range(n_cols): idx = rng.permutation(n_rows)`; "
        "`X_perm = X.copy(); X_perm[:, j] = X[idx, j]`.",
        "Store the drops in an array of shape (n_repeats, n_cols) and return "
        "`(drops.mean(axis=0), drops.std(axis=0))`.",
    )


@question("q2")
class HeldOutImportance(_Q07):
    title = "held-out permutation importances, by hand and with scikit-learn"
    names = ("pi_test", "pi_sklearn")
    hints = (
        "Importance must be measured on data the model did not train on: use X_test and y_test.",
        "`pi_test = perm_importance(model, X_test, y_test, n_repeats=5, seed=0)[0]`; for sklearn, "
        "`permutation_importance(model, X_test, y_test, n_repeats=5, random_state=0)` and take "
        "its `.importances_mean`.",
    )


@question("q3")
class PartialDependence(_Q07):
    title = "partial dependence by hand (brute force)"
    names = ("pdp",)
    hints = (
        "For each value v in `grid`: copy X, set the whole column `feature` to v, predict, and "
        "average the predictions over the rows.",
        "`np.array([model.predict(X_v).mean() for v in grid])` where X_v is the copy with column "
        "`feature` set to v. The result has one value per grid value.",
    )


@question("q4")
class SklearnPDP(_Q07):
    title = "sklearn's partial_dependence and the slope of x3"
    names = ("grid_x3", "pd_x3", "slope_x3")
    hints = (
        "`result = partial_dependence(model, X_test, features=[3], grid_resolution=20, "
        'method="brute")` returns a Bunch.',
        "Its keys are 'grid_values' and 'average' (there is no 'values' key any more): "
        "`grid_x3 = result['grid_values'][0]`, `pd_x3 = result['average'][0]`.",
        "`slope_x3 = np.polyfit(grid_x3, pd_x3, 1)[0]`.",
    )


@question("q5")
class CentredICE(_Q07):
    title = "centred ICE curves"
    names = ("centred_ice",)
    hints = (
        "Build the raw ICE matrix first: for each grid value v, set column `feature` to v in a "
        "copy of X and keep the whole vector of predictions (one per row).",
        "Stack them as columns, shape (n_rows, n_grid): `np.column_stack([...])`. Then subtract "
        "each row's first value: `ice - ice[:, [0]]`.",
    )


@question("q6")
class Interactions(_Q07):
    title = "interactions from ICE heterogeneity"
    names = ("spread_x0", "spread_x3", "feature_with_interaction")
    hints = (
        "Use your `centred_ice(model, X_test, f, GRID)` for f = 0 and f = 3.",
        "The spread is `ice_c.std(axis=0).mean()`: the standard deviation across rows at each "
        "grid value, averaged over the grid values, as a float.",
        "Parallel centred curves mean no interaction; the feature whose curves fan out more "
        "interacts with others.",
    )


@question("q7")
class FlatButImportant(_Q07):
    title = "design: a flat PDP for an important feature"
    names = ("make_target",)
    hints = (
        "A PDP averages X1's effect over all values of X2. If the effect is +1 for some rows and "
        "-1 for others, the average is flat, but shuffling X1 still wrecks the predictions.",
        "Try a product of the two features. X1 and X2 are uniform on [-2, 2], centred at 0.",
    )


@question("q8")
class FirstOrderALE(_Q07):
    title = "first-order ALE with quantile bins"
    names = ("ale",)
    hints = (
        "Edges: `np.quantile(x, np.linspace(0, 1, n_bins + 1))`. Bin of each row: "
        "`np.clip(np.searchsorted(edges, x, side='left') - 1, 0, n_bins - 1)`.",
        "For bin k, take only its rows; predict them with the feature set to edges[k+1] and to "
        "edges[k]; the local effect is the mean difference. Accumulate: "
        "`g = np.concatenate([[0.0], np.cumsum(effects)])`.",
        "Centre: `g - np.sum(counts * (g[:-1] + g[1:]) / 2) / counts.sum()`, where counts[k] is "
        "the number of rows in bin k.",
    )


q1, q2, q3, q4, q5, q6, q7, q8 = (
    PermImportance,
    HeldOutImportance,
    PartialDependence,
    SklearnPDP,
    CentredICE,
    Interactions,
    FlatButImportant,
    FirstOrderALE,
)
