"""The answer key of assignment 11, "Simplification": instructor-only, never released.

``grader release`` and ``nbgrader generate_assignment`` skip this file (``nbgrader_config.py``
ignores ``key.py``). It holds the reference computations, the diagnosis of every check
(``verify``, ``verify_hidden``, ``verify_graded``) and each question's reference answers
(``references()``); the grader loads it outside the student's kernel (:mod:`grader.judging`).

The data differ from the lecture's on purpose: selection and the L1 path on new synthetic tables,
PCA on the breast-cancer features (the lecture used wine), a gradient-boosting black box on
Friedman's function #3 (the lecture: a forest on #1), and fresh random inputs in every hidden test.
"""

from __future__ import annotations

import functools
import itertools
from types import SimpleNamespace

import numpy as np
import sklearn
from sklearn.datasets import load_breast_cancer, make_classification, make_friedman3
from sklearn.decomposition import PCA
from sklearn.ensemble import GradientBoostingRegressor
from sklearn.feature_selection import SelectKBest, f_classif
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import r2_score
from sklearn.model_selection import KFold, StratifiedKFold, cross_val_score, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.tree import DecisionTreeRegressor

from grader.checks import m11
from grader.checks.core import Incorrect, Question, call, key_for
from grader.checks.values import as_array, as_dict, as_float, as_int, as_str, show

__all__ = ["QUESTIONS"]

_FIDELITY_TARGET = 0.9
_DEPTHS = range(1, 9)


def _near(a: float, b: float, tol: float = 1e-9) -> bool:
    return abs(float(a) - float(b)) <= tol


# =================================================================================================
# q1: feature selection inside cross-validation
# =================================================================================================
def _cv(X, y, k, seed, *, how: str = "inside") -> float:
    X, y = np.asarray(X, float), np.asarray(y)
    folds = StratifiedKFold(5, shuffle=True, random_state=seed)
    if how == "outside":
        Xs = SelectKBest(f_classif, k=k).fit_transform(X, y)
        return float(cross_val_score(LogisticRegression(), Xs, y, cv=folds).mean())
    if how == "none":
        return float(cross_val_score(LogisticRegression(), X, y, cv=folds).mean())
    pipe = make_pipeline(SelectKBest(f_classif, k=10 if how == "default_k" else k),
                         LogisticRegression())
    if how == "unshuffled":
        folds = StratifiedKFold(5)
    elif how == "kfold":
        folds = KFold(5, shuffle=True, random_state=seed)
    return float(cross_val_score(pipe, X, y, cv=folds).mean())


def _noise(seed: int, n: int, p: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return np.round(rng.normal(size=(n, p)), 2), rng.integers(0, 2, n)


def _signal(seed: int, n: int, p: int) -> tuple[np.ndarray, np.ndarray]:
    X, y = make_classification(n_samples=n, n_features=p, n_informative=3, n_redundant=0,
                               flip_y=0.2, random_state=seed)
    return np.round(X, 2), y


_Q1_TEXT = {
    "outside": "the features were selected on *all* rows before cross-validation, so every test "
               "fold helped choose them (the leak the lecture shows on pure noise). Put the "
               "selector in a pipeline and cross-validate the pipeline.",
    "none": "that is the accuracy without any feature selection: the pipeline needs "
            "SelectKBest(f_classif, k=k) before the classifier.",
    "default_k": "that uses SelectKBest's default k=10, not the `k` passed to the function.",
    "unshuffled": "those are unshuffled folds. Use StratifiedKFold(5, shuffle=True, "
                  "random_state=cv_seed).",
    "kfold": "those folds are not stratified. Use StratifiedKFold(5, shuffle=True, "
             "random_state=cv_seed).",
}


def _q1_case(func, X, y, k, seed, where: str) -> None:
    got = as_float(call(func, "honest_cv_accuracy", X.copy(), y.copy(), k, seed),
                   "honest_cv_accuracy(...)")
    if not 0.0 <= got <= 1.0:
        raise Incorrect(f"{where}, `honest_cv_accuracy` returned {got:.4g}; an accuracy lies "
                        "between 0 and 1.")
    if _near(got, _cv(X, y, k, seed)):
        return
    said = f"{where}, `honest_cv_accuracy` returned {got:.4g}"
    for how, text in _Q1_TEXT.items():
        if _near(got, _cv(X, y, k, seed, how=how)):
            raise Incorrect(f"{said}: {text}")
    raise Incorrect(f"{said}, which is not the mean 5-fold CV accuracy of the selection pipeline.")


@key_for(m11.q1)
class HonestCV(Question):
    def references(self):
        return {"honest_cv_accuracy": lambda X, y, k, cv_seed: _cv(X, y, k, cv_seed)}

    def verify(self, honest_cv_accuracy):
        X, y = _noise(11, 80, 150)
        _q1_case(honest_cv_accuracy, X, y, 8, 0, "On 80 rows of pure noise (150 features, k=8)")
        X, y = _signal(3, 120, 40)
        _q1_case(honest_cv_accuracy, X, y, 5, 1, "On a table with 3 informative features of 40 (k=5)")

    def verify_hidden(self, seed, honest_cv_accuracy):
        rng = np.random.default_rng(seed)
        for i in range(3):
            n, p = int(rng.integers(60, 100)), int(rng.integers(40, 120))
            k = int(rng.integers(3, 15))
            X, y = (_noise if i != 1 else _signal)(int(rng.integers(1e6)), n, p)
            _q1_case(honest_cv_accuracy, X, y, k, int(rng.integers(100)),
                     f"On a fresh table ({n} rows, {p} features, k={k})")


# =================================================================================================
# q2: the L1 penalty by the one-standard-error rule
# =================================================================================================
_PATHS: dict[tuple, list] = {}


def _path(X, y, Cs, seed, *, scale: bool = True) -> list[tuple]:
    """Per C: (C, mean CV accuracy, standard error, standard deviation, non-zero count, standard
    error with ddof=0); cached
    (the diagnosis compares several rules on the same path)."""
    X, y = np.asarray(X, float), np.asarray(y)
    memo = (X.tobytes(), X.shape, y.tobytes(), tuple(float(C) for C in Cs), int(seed), scale)
    if memo not in _PATHS:
        if len(_PATHS) > 32:
            _PATHS.clear()
        _PATHS[memo] = _fit_path(X, y, Cs, seed, scale)
    return _PATHS[memo]


def _fit_path(X, y, Cs, seed, scale: bool) -> list[tuple]:
    # The folds of cross_val_score(pipe, X, y, cv=folds), fitted in a plain loop without
    # scikit-learn's parameter validation: the same scores, in about two thirds of the time.
    folds = list(StratifiedKFold(5, shuffle=True, random_state=seed).split(X, y))
    rows = []
    for C in Cs:
        def pipe(C=C):
            est = LogisticRegression(l1_ratio=1, solver="liblinear", C=float(C))
            return make_pipeline(StandardScaler(), est) if scale else make_pipeline(est)

        with sklearn.config_context(skip_parameter_validation=True, assume_finite=True):
            s = np.array([pipe().fit(X[tr], y[tr]).score(X[te], y[te]) for tr, te in folds])
            nz = int(np.sum(np.abs(pipe().fit(X, y)[-1].coef_) > 1e-10))
        rows.append((float(C), float(s.mean()), float(s.std(ddof=1) / np.sqrt(len(s))),
                     float(s.std(ddof=1)), nz, float(s.std(ddof=0) / np.sqrt(len(s)))))
    return rows


def _one_se(X, y, Cs, seed, *, scale: bool = True, rule: str = "one_se") -> float:
    rows = _path(X, y, Cs, seed, scale=scale)
    best = max(range(len(rows)), key=lambda i: (rows[i][1], -i))
    if rule == "best":
        return rows[best][0]
    spread = rows[best][{"std": 3, "ddof0": 5}.get(rule, 2)]
    within = [r for r in rows if r[1] >= rows[best][1] - spread - 1e-12]
    key = (lambda r: (r[4], -r[0])) if rule == "largest_C" else (lambda r: (r[4], r[0]))
    return min(within, key=key)[0]


_Q2_TEXT = {
    ("raw", "one_se"): "the penalty was applied to the features in their raw units. A coefficient's "
                       "size depends on its feature's units, so the L1 penalty selects by units; "
                       "put a StandardScaler before the model in the pipeline.",
    ("std", "best"): "that is the C with the best CV accuracy. The one-standard-error rule takes the "
                     "*simplest* model whose accuracy is within one standard error of the best.",
    ("std", "std"): "the tolerance is one standard *deviation* of the fold scores. The standard "
                    "error divides it by the square root of the number of folds.",
    ("std", "largest_C"): "among the simplest models within one standard error, ties go to the "
                          "smallest C (the strongest penalty).",
    ("std", "ddof0"): "the standard error uses the standard deviation with ddof=0 (NumPy's "
                      "default). The prompt asks for ddof=1, divided by the square root of the "
                      "number of folds.",
}


def _q2_case(func, X, y, Cs, seed, where: str) -> None:
    got = as_float(call(func, "one_se_C", X.copy(), y.copy(), Cs.copy(), seed), "one_se_C(...)")
    ref = _one_se(X, y, Cs, seed)
    if _near(got, ref, 1e-9 * max(1.0, abs(ref))):
        return
    said = f"{where}, `one_se_C` returned {got:.4g}"
    if not np.any(np.abs(Cs - got) <= 1e-9 * np.abs(Cs)):
        raise Incorrect(f"{said}, which is not one of the values in Cs. Return the chosen C itself.")
    # Two mistakes may pick the same C on a table: name one only when it alone explains the value.
    named = [text for (units, rule), text in _Q2_TEXT.items()
             if _near(got, (alt := _one_se(X, y, Cs, seed, scale=units == "std", rule=rule)),
                      1e-9 * abs(alt))]
    if len(named) == 1:
        raise Incorrect(f"{said}: {named[0]}")
    if named:
        raise Incorrect(f"{said}. Several known mistakes give this C here; one of these: "
                        + " Or: ".join(named))
    raise Incorrect(f"{said}, which is not the simplest model within one standard error of the "
                    "best CV accuracy.")


def _units_table(seed: int, n: int, p: int) -> tuple[np.ndarray, np.ndarray]:
    X, y = make_classification(n_samples=n, n_features=p, n_informative=3, n_redundant=1,
                               shuffle=False, random_state=seed)
    X[:, [0, p - 1]] *= 1000  # one informative and one noise feature in small units
    return np.round(X, 3), y


_Q2_CS = np.round(np.logspace(-2.2, 0, 8), 5)


@key_for(m11.q2)
class OneSE(Question):
    def references(self):
        return {"one_se_C": lambda X, y, Cs, cv_seed: _one_se(X, y, np.asarray(Cs, float), cv_seed)}

    def verify(self, one_se_C):
        # Two tables: together they separate each named mistake from the answer (table 1: the raw
        # units, the best C and ddof=0; table 10: all but ddof=0).
        for seed in (1, 10):
            X, y = _units_table(seed, 300, 10)
            _q2_case(one_se_C, X, y, _Q2_CS, 0,
                     f"On table {seed} (300 rows, two features in small units)")

    def verify_hidden(self, seed, one_se_C):
        # A fresh table separates a named mistake from the answer only most of the time (the raw-
        # units rule picks the same C on about 3 tables in 10), so tables are drawn until every
        # named mistake is separated by one of them; the visible tables, which separate all of them,
        # are the fallback. Which tables are used depends on the seed only, never on the answer.
        rng = np.random.default_rng(seed)
        # ddof=0 is rarely separated by a fresh table: drawing until it is would cost eight
        # tables; visible table 1 separates it and is added after the draws instead.
        rare = ("std", "ddof0")
        cases, pending = [], set(_Q2_TEXT) - {rare}
        for draw in range(8):
            n, p = int(rng.integers(150, 300)), int(rng.integers(8, 14))
            X, y = _units_table(int(rng.integers(1e6)), n, p)
            cv_seed = int(rng.integers(100))
            ref = _one_se(X, y, _Q2_CS, cv_seed)
            split = {m for m in pending | ({rare} - {None}) if not _near(
                ref, _one_se(X, y, _Q2_CS, cv_seed, scale=m[0] == "std", rule=m[1]), 1e-9 * ref)}
            if draw < 2 or split - {rare}:
                cases.append((X, y, cv_seed, f"On a fresh table ({n} rows, {p} features)"))
                pending -= split
                if rare in split:
                    rare = None
            if len(cases) >= 2 and not pending:
                break
        if pending:
            cases += [(*_units_table(s, 300, 10), 0, f"On table {s} (300 rows)") for s in (5, 10)]
        if rare is not None:
            cases.append((*_units_table(1, 300, 10), 0, "On table 1 (300 rows)"))
        for X, y, cv_seed, where in cases:
            _q2_case(one_se_C, X, y, _Q2_CS, cv_seed, where)


# =================================================================================================
# q3: PCA components for a share of the variance
# =================================================================================================
def _n_comp(X, share, standardise, *, how: str = "ref") -> int:
    X = np.asarray(X, float)
    if how == "raw":
        standardise = False
    elif how == "std":
        standardise = True
    Z = StandardScaler().fit_transform(X) if standardise else X
    pca = PCA().fit(Z)
    ratio = pca.explained_variance_ if how == "variance" else pca.explained_variance_ratio_
    c = np.cumsum(ratio)
    first = int(np.argmax(c >= share)) if np.any(c >= share) else len(c) - 1
    return first if how == "off_by_one" else first + 1


@functools.lru_cache(maxsize=1)
def _cancer() -> SimpleNamespace:
    X, _ = load_breast_cancer(return_X_y=True, as_frame=True)
    raw = PCA().fit(X)
    std = PCA().fit(StandardScaler().fit_transform(X))
    return SimpleNamespace(X=X.to_numpy(), names=list(X.columns),
                           top_raw=str(X.columns[int(np.argmax(np.abs(raw.components_[0])))]),
                           top_std=str(X.columns[int(np.argmax(np.abs(std.components_[0])))]))


_Q3_TEXT = {
    "off_by_one": "one component short: that is the *index* of the first component that reaches "
                  "the share. The number of components is that index + 1.",
    "raw": "that ignores `standardise=True`: scale the features first (StandardScaler).",
    "std": "that standardises although `standardise=False`: PCA of the raw features is asked for.",
    "variance": "that compares the cumulative `explained_variance_` (in the data's units) with "
                "the share; use `explained_variance_ratio_`.",
}


def _q3_case(func, X, share, standardise, where: str) -> None:
    got = as_int(call(func, "n_components_for", X.copy(), share, standardise),
                 "n_components_for(...)")
    if got == _n_comp(X, share, standardise):
        return
    said = f"{where}, `n_components_for` returned {got}"
    for how, text in _Q3_TEXT.items():
        if got == _n_comp(X, share, standardise, how=how):
            raise Incorrect(f"{said}: {text}")
    raise Incorrect(f"{said}, which is not the smallest number of components whose explained "
                    f"variance reaches {share:g}.")


def _q3_variable(top_raw_feature) -> None:
    data = _cancer()
    name = as_str(top_raw_feature, "top_raw_feature")
    if name == data.top_raw:
        return
    if name not in data.names:
        raise Incorrect(f"`top_raw_feature` = {name!r} is not one of the column names of X_bc.")
    if name == data.top_std:
        raise Incorrect(f"`top_raw_feature` = {name!r} comes from PCA of the *standardised* "
                        "features. The question asks about the raw features, whose PC1 follows "
                        "the feature with the largest variance in its own units.")
    raise Incorrect(f"`top_raw_feature` = {name!r} does not have the largest absolute loading on "
                    "the first principal component of the raw features.")


def _scaled_random(rng, n: int, p: int) -> np.ndarray:
    latent = rng.normal(size=(n, 2))
    X = latent @ rng.normal(size=(2, p)) + rng.normal(0, 0.7, (n, p))
    return np.round(X * np.exp(rng.uniform(-2, 4, p)), 4)


@key_for(m11.q3)
class Components(Question):
    def references(self):
        return {"n_components_for": lambda X, share, standardise: _n_comp(X, share, standardise),
                "top_raw_feature": _cancer().top_raw}

    def verify(self, n_components_for, top_raw_feature):
        X = _cancer().X[:200]
        for share, standardise in ((0.99, False), (0.9, True), (0.8, True)):
            _q3_case(n_components_for, X, share, standardise,
                     f"On the first 200 tumours (share={share}, standardise={standardise})")
        _q3_variable(top_raw_feature)

    def verify_hidden(self, seed, n_components_for, top_raw_feature):
        rng = np.random.default_rng(seed)
        for i in range(4):
            n, p = int(rng.integers(40, 120)), int(rng.integers(4, 12))
            X = _scaled_random(rng, n, p)
            share = float(rng.choice([0.75, 0.85, 0.9, 0.95]))
            _q3_case(n_components_for, X, share, i % 2 == 0,
                     f"On a fresh table ({n} rows, {p} features, share={share}, "
                     f"standardise={i % 2 == 0})")
        _q3_variable(top_raw_feature)


# =================================================================================================
# q4: a global surrogate's fidelity
# =================================================================================================
def _surrogate(X_train, y_train, X_test, y_test, bb_train, bb_test, depth, *,
               how: str = "ref") -> dict[str, float]:
    X_train, X_test = np.asarray(X_train, float), np.asarray(X_test, float)
    target = y_train if how == "labels" else bb_train
    tree = DecisionTreeRegressor(max_depth=int(depth), random_state=0).fit(X_train, target)
    pred = tree.predict(X_test)
    fid, acc = r2_score(bb_test, pred), r2_score(y_test, pred)
    if how == "train":
        fid = r2_score(bb_train, tree.predict(X_train))
    elif how == "swapped":
        fid, acc = acc, fid
    elif how == "args":
        fid, acc = r2_score(pred, bb_test), r2_score(pred, y_test)
    elif how == "bb_accuracy":
        acc = r2_score(y_test, bb_test)
    return {"fidelity": float(fid), "accuracy": float(acc)}


_Q4_TEXT = {
    "labels": "the surrogate was fitted on the labels. A surrogate imitates the *model*, not the "
              "data: fit it on the black box's predictions (bb_train).",
    "train": "the fidelity is measured on the training rows, where the tree was fitted. Measure "
             "how well it imitates the black box on the held-out rows.",
    "swapped": "fidelity and accuracy are swapped: fidelity compares the surrogate with the black "
               "box's predictions, accuracy with the true targets.",
    "args": "r2_score's arguments are swapped: the first is the reference (what is imitated), the "
            "second the surrogate's predictions.",
    "bb_accuracy": "that accuracy is the *black box's* R² against the true targets. The question "
                   "asks how accurate the surrogate is: compare its predictions with y_test.",
}


def _q4_case(func, args: tuple, where: str) -> None:
    got = as_dict(call(func, "surrogate_scores", *(a.copy() if hasattr(a, "copy") else a
                                                   for a in args)), "surrogate_scores(...)")
    if set(got) != {"fidelity", "accuracy"} or not all(type(k) is str for k in got):
        raise Incorrect(f"`surrogate_scores` returned a dict with keys "
                        f"{', '.join(sorted(show(k) for k in got))}; it needs the keys "
                        '"fidelity" and "accuracy".')
    mine = {k: as_float(got[k], f'surrogate_scores(...)["{k}"]') for k in ("fidelity", "accuracy")}
    ref = _surrogate(*args)

    def same(a, b):
        return all(_near(a[k], b[k], 1e-9) for k in a)

    if same(mine, ref):
        return
    said = (f"{where}, `surrogate_scores` returned fidelity {mine['fidelity']:.4g}, accuracy "
            f"{mine['accuracy']:.4g}")
    for how, text in _Q4_TEXT.items():
        alt = _surrogate(*args, how=how)
        if same(mine, alt) or (how != "swapped" and _near(mine["fidelity"], alt["fidelity"])
                               and not _near(mine["fidelity"], ref["fidelity"])):
            raise Incorrect(f"{said}: {text}")
    raise Incorrect(f"{said}, which are not the held-out fidelity and accuracy R² of the "
                    "surrogate tree.")


@functools.lru_cache(maxsize=1)
def _friedman() -> SimpleNamespace:
    X, y = make_friedman3(n_samples=1200, noise=0.1, random_state=3)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, random_state=0)
    bb = GradientBoostingRegressor(random_state=0).fit(X_train, y_train)
    return SimpleNamespace(X_train=X_train, X_test=X_test, y_train=y_train, y_test=y_test,
                           bb_train=bb.predict(X_train), bb_test=bb.predict(X_test))


def _min_depth(how: str = "ref") -> int:
    d = _friedman()
    for depth in _DEPTHS:
        s = _surrogate(d.X_train, d.y_train, d.X_test, d.y_test, d.bb_train, d.bb_test, depth,
                       how={"ref": "ref", "train": "train", "labels": "labels",
                            "accuracy": "swapped"}[how])
        if s["fidelity"] >= _FIDELITY_TARGET:
            return depth
    return 0


def _q4_variable(min_depth) -> None:
    depth = as_int(min_depth, "min_depth")
    if depth == _min_depth():
        return
    said = f"`min_depth` = {depth}"
    texts = {
        "train": "reaches the target on the rows the tree was fitted on. The auditors will read "
                 "the surrogate on *new* cases: judge it by its fidelity on held-out rows.",
        "labels": "comes from trees fitted on the labels. A surrogate imitates the black box: fit "
                  "it on the black box's predictions.",
        "accuracy": "judges the trees by accuracy against the true targets. The auditors need the "
                    "tree to imitate the *model*: that is fidelity.",
    }
    # Trees fitted on the labels and trees judged by accuracy both give 0 here: name one mistake
    # only when it alone explains the value.
    named = [text for how, text in texts.items() if depth == _min_depth(how)]
    if len(named) == 1:
        raise Incorrect(f"{said} {named[0]}")
    if named:
        raise Incorrect(f"{said} is what several known mistakes give; either it "
                        + " Or it ".join(named))
    raise Incorrect(f"{said} is not the smallest depth (1 to 8) whose held-out fidelity is at least "
                    f"{_FIDELITY_TARGET}.")


def _fixed_args() -> tuple:
    d = _friedman()
    return (d.X_train[:300], d.y_train[:300], d.X_test[:150], d.y_test[:150], d.bb_train[:300],
            d.bb_test[:150], 3)


@key_for(m11.q4)
class Surrogate(Question):
    def references(self):
        return {"surrogate_scores": lambda X_train, y_train, X_test, y_test, bb_train, bb_test,
                depth: _surrogate(X_train, y_train, X_test, y_test, bb_train, bb_test, depth),
                "min_depth": _min_depth()}

    def verify(self, surrogate_scores, min_depth):
        _q4_case(surrogate_scores, _fixed_args(),
                 "On 300 training and 150 test rows of the Friedman #3 data, depth 3")
        _q4_variable(min_depth)

    def verify_hidden(self, seed, surrogate_scores, min_depth):
        rng = np.random.default_rng(seed)
        for _ in range(3):
            n, m, p = int(rng.integers(80, 160)), int(rng.integers(40, 90)), int(rng.integers(3, 6))
            X = np.round(rng.uniform(-2, 2, (n + m, p)), 3)
            w = rng.normal(0, 1, p)
            smooth = np.sin(X @ w) + 0.5 * X[:, 0] ** 2
            bb = np.round(smooth + rng.normal(0, 0.1, n + m), 4)
            y = np.round(smooth + rng.normal(0, 0.6, n + m), 4)
            depth = int(rng.integers(2, 6))
            args = (X[:n], y[:n], X[n:], y[n:], bb[:n], bb[n:], depth)
            _q4_case(surrogate_scores, args, f"On a fresh table ({n} + {m} rows, depth {depth})")
        _q4_variable(min_depth)


# =================================================================================================
# q5: Pareto flags
# =================================================================================================
def _pareto(c, s, *, how: str = "ref") -> np.ndarray:
    c, s = np.asarray(c, float), np.asarray(s, float)
    n = len(c)
    out = []
    for i in range(n):
        others = np.arange(n) != i
        if how == "ties":
            dom = (c <= c[i]) & (s >= s[i]) & others
        elif how == "reversed":
            dom = (c >= c[i]) & (s >= s[i]) & ((c > c[i]) | (s > s[i]))
        elif how == "strict":
            dom = (c < c[i]) & (s > s[i])
        else:
            dom = (c <= c[i]) & (s >= s[i]) & ((c < c[i]) | (s > s[i]))
        out.append(not bool(np.any(dom)))
    if how == "best":
        return s == s.max()
    return np.array(out, dtype=bool)


_Q5_TEXT = {
    "ties": "two models with exactly the same complexity and score knock each other out. A model "
            "is dominated only by one that is *strictly* better on at least one of the two.",
    "reversed": "higher complexity is treated as better. Lower complexity is better: a model is "
                "dominated by one that is at least as simple and at least as accurate.",
    "strict": "a model is only dominated by one that is strictly better on *both* axes here. A "
              "model that is as simple and more accurate (or as accurate and simpler) dominates too.",
    "best": "only the most accurate model is flagged. Every model that no other model beats on "
            "the trade-off is Pareto-optimal, the simple ones included.",
}

_Q5_CASE = (
    [3, 5, 5, 8, 12, 12, 20, 40, 40, 60],
    [0.61, 0.70, 0.66, 0.70, 0.74, 0.74, 0.72, 0.81, 0.79, 0.80],
)


def _q5_case(func, c, s, where: str) -> None:
    got = call(func, "pareto_flags", c.copy(), s.copy())
    if type(got) is not np.ndarray or got.dtype != bool:
        raise Incorrect(f"`pareto_flags` returned {show(got)}; return a NumPy array of booleans "
                        "(dtype bool), one per model.")
    flags = as_array(got, "pareto_flags(...)", shape=c.shape).astype(bool)
    if np.array_equal(flags, _pareto(c, s)):
        return
    said = f"{where}, `pareto_flags` returned {show(got)}"
    for how, text in _Q5_TEXT.items():
        if np.array_equal(flags, _pareto(c, s, how=how)):
            raise Incorrect(f"{said}: {text}")
    raise Incorrect(f"{said}, which are not the Pareto-optimal models (lower complexity and "
                    "higher score are better).")


@key_for(m11.q5)
class Pareto(Question):
    def references(self):
        return {"pareto_flags": lambda complexity, score: _pareto(complexity, score)}

    def verify(self, pareto_flags):
        c, s = (np.array(v, dtype=float) for v in _Q5_CASE)
        _q5_case(pareto_flags, c, s, "For ten models (complexity and test score)")

    def verify_hidden(self, seed, pareto_flags):
        rng = np.random.default_rng(seed)
        for _ in range(5):
            n = int(rng.integers(5, 15))
            c = rng.integers(1, 30, n).astype(float)
            s = np.round(rng.uniform(0.5, 0.9, n), 2)
            c[-1], s[-1] = c[0], s[0]  # an exact twin
            _q5_case(pareto_flags, c, s, f"For {n} fresh models")


# =================================================================================================
# q6: mean pairwise Jaccard
# =================================================================================================
def _jaccard(selections, *, how: str = "ref") -> float:
    sets = [set(s) for s in selections]
    if how == "self":
        pairs = list(itertools.product(sets, repeat=2))
    elif how == "consecutive":
        pairs = list(zip(sets, sets[1:], strict=False))
    else:
        pairs = list(itertools.combinations(sets, 2))
    if how == "overlap":
        vals = [len(a & b) / min(len(a), len(b)) for a, b in pairs]
    elif how == "dice":
        vals = [2 * len(a & b) / (len(a) + len(b)) for a, b in pairs]
    else:
        vals = [len(a & b) / len(a | b) for a, b in pairs]
    return float(np.mean(vals))


_Q6_TEXT = {
    "self": "the pairs include each model with itself (Jaccard 1), which inflates the mean. "
            "Average over pairs of *different* models.",
    "overlap": "that divides the intersection by the smaller set (the overlap coefficient). "
               "Jaccard divides by the union.",
    "dice": "that is the Dice coefficient, 2|A∩B| / (|A| + |B|). Jaccard is |A∩B| / |A∪B|.",
    "consecutive": "only neighbouring models in the list are compared. Average over every pair.",
}

_Q6_CASE = [["a", "b", "c"], ["a", "b", "d", "e"], ["a", "c"], ["b", "c", "f"]]


def _q6_case(func, selections, where: str) -> None:
    got = as_float(call(func, "mean_pairwise_jaccard", [list(s) for s in selections]),
                   "mean_pairwise_jaccard(...)")
    if _near(got, _jaccard(selections)):
        return
    said = f"{where}, `mean_pairwise_jaccard` returned {got:.4g}"
    for how, text in _Q6_TEXT.items():
        if _near(got, _jaccard(selections, how=how)):
            raise Incorrect(f"{said}: {text}")
    raise Incorrect(f"{said}, which is not the mean Jaccard index over all pairs of selections.")


@key_for(m11.q6)
class Rashomon(Question):
    def references(self):
        return {"mean_pairwise_jaccard": lambda selections: _jaccard(selections)}

    def verify(self, mean_pairwise_jaccard):
        _q6_case(mean_pairwise_jaccard, _Q6_CASE, "For four selections of features a to f")

    def verify_hidden(self, seed, mean_pairwise_jaccard):
        rng = np.random.default_rng(seed)
        names = [f"x{i}" for i in range(12)]
        for _ in range(4):
            m = int(rng.integers(3, 9))
            sels = [sorted(rng.choice(names, int(rng.integers(1, 7)), replace=False).tolist())
                    for _ in range(m)]
            _q6_case(mean_pairwise_jaccard, sels, f"For {m} fresh selections")


q1, q2, q3, q4, q5, q6 = (HonestCV, OneSE, Components, Surrogate, Pareto, Rashomon)
QUESTIONS = {q.label: q for q in (q1, q2, q3, q4, q5, q6)}
