"""Checks for assignment 06, "Interpretable-by-design models and trees" (``solutions/06-...``).

==== ============================================== ===========================================
q1   ``standardized_coefs(X, y)``, ``coefs_std``,    linear coefficients per standard deviation
     ``most_influential``
q2   ``odds_ratios(model)``, ``or_malignant_texture`` logistic coefficients as odds ratios
q3   ``delta_p_malignant``                            a probability change is not an odds ratio
q4   ``path_rules(tree, x, feature_names)``,          the decision path of one sample, as rules
     ``rules_74``
q5   ``rule_tree``, ``root_feature``,                 recover a known rule with a depth-2 tree
     ``root_threshold``, ``second_feature``,
     ``second_threshold``
q6   ``mdi``, ``pi_test``, ``mdi_rank_random``,       MDI against permutation importance
     ``pi_rank_random``
==== ============================================== ===========================================

This is the student side: titles, names and hints. ``qN.check()`` compares your answers with data
precomputed from the instructor's key for the check's fixed inputs (``grader/checks/data/m06.json``,
written by ``grader release``); the key itself, and the hidden tests, stay with the instructor.

Single answers are stored hashed, but some answer spaces are small enough to guess by trying each
value in ``check()``: ``most_influential`` (10 feature names), ``root_feature`` and
``second_feature`` (4 names), the ranks of q6 (1 to 6). Each shares its question with numbers or
functions that cannot be guessed, so a guess alone earns no point.
"""

from __future__ import annotations

from .offline import OfflineQuestion, question

__all__ = ["q1", "q2", "q3", "q4", "q5", "q6"]


class _Q06(OfflineQuestion):
    aid = "06-interpretable-models"
    module = "m06"


@question("q1")
class StandardizedCoefs(_Q06):
    title = "linear coefficients per standard deviation"
    names = ("standardized_coefs", "coefs_std", "most_influential")
    hints = (
        "A raw coefficient is the change in y per one *unit* of the feature. To compare "
        "features, express each one in standard deviations first.",
        "`pipe = make_pipeline(StandardScaler(), LinearRegression()).fit(X, y)`; the "
        "coefficients are `pipe[-1].coef_`. Wrap them in `pd.Series(..., index=X.columns)`.",
        "Influence is about size, not sign: `coefs_std.abs().idxmax()`.",
    )


@question("q2")
class OddsRatios(_Q06):
    title = "logistic coefficients as odds ratios"
    names = ("odds_ratios", "or_malignant_texture")
    hints = (
        "A logistic coefficient is the change in the log-odds of the class `model.classes_[1]` "
        "per +1 SD (the features are standardised). Undo the log.",
        "`np.exp(model[-1].coef_[0])`, indexed by `model.feature_names_in_`.",
        "In this dataset 1 = benign. The odds of malignant are the inverse of the odds of "
        "benign, so the odds ratio for malignant is `np.exp(-coef)`.",
    )


@question("q3")
class ProbabilityChange(_Q06):
    title = "a change in probability is not an odds ratio"
    names = ("delta_p_malignant",)
    hints = (
        "Copy the patient's row, add one standard deviation to mean texture, and predict both "
        "rows with `model.predict_proba`.",
        "`x = X_test.iloc[[17]].copy()` keeps a one-row DataFrame; the training standard "
        "deviation of feature j is `model[0].scale_[j]`. Malignant is column 0.",
    )


@question("q4")
class PathRules(_Q06):
    title = "the decision path of one sample, as rules"
    names = ("path_rules", "rules_74")
    hints = (
        "`tree.decision_path(x.reshape(1, -1)).indices` lists the node ids from the root to the "
        "leaf. Each node except the leaf is a split.",
        "For a split node n: the feature is `feature_names[tree.tree_.feature[n]]`, the "
        "threshold `tree.tree_.threshold[n]`. The direction is '<=' when the next node on the "
        "path is `tree.tree_.children_left[n]`, else '>'.",
        "Do not decide the direction by comparing x with the threshold yourself: read it off the "
        "path. (scikit-learn sends x <= threshold to the left.)",
    )


@question("q5")
class RecoverRule(_Q06):
    title = "recover a known rule with a depth-2 tree"
    names = ("rule_tree", "root_feature", "root_threshold", "second_feature", "second_threshold")
    hints = (
        "The rule has two conditions, so two levels of splits can express it: "
        "`DecisionTreeClassifier(max_depth=2, random_state=0).fit(X_rule, y_rule)`.",
        "The root is node 0: `rule_tree.tree_.feature[0]` (an index into `X_rule.columns`) and "
        "`rule_tree.tree_.threshold[0]`. Its left child is `rule_tree.tree_.children_left[0]`.",
        "`export_text(rule_tree, feature_names=list(X_rule.columns))` prints the same tree: use "
        "it to check what you read.",
    )


@question("q6")
class MdiVersusPermutation(_Q06):
    title = "MDI against permutation importance"
    names = ("mdi", "pi_test", "mdi_rank_random", "pi_rank_random")
    hints = (
        "MDI is `rf_credit.feature_importances_`; permutation importance is "
        "`permutation_importance(rf_credit, X, y, n_repeats=10, random_state=0)`. Which X and y?",
        "Permutation importance must be measured on data the forest has not seen: the test split. "
        "Wrap both in `pd.Series(..., index=X_credit.columns)`.",
        "A rank: `int(series.rank(ascending=False)['random_num'])` (1 = most important).",
    )


q1, q2, q3, q4, q5, q6 = (
    StandardizedCoefs,
    OddsRatios,
    ProbabilityChange,
    PathRules,
    RecoverRule,
    MdiVersusPermutation,
)
