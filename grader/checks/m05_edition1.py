"""The questions of assignment 05's retired first edition (``editions/05-evaluation-metrics/1``).

Titles, names and hints only, as :mod:`grader.checks.m05` held them when that edition was
released; its answer key (``editions/1/key.py``) takes them from here, so that submissions
written for the first edition are still graded by it (:mod:`grader.editions`). Students of the
current edition use :mod:`grader.checks.m05`.

==== =============================================== ==========================================
q1   ``confusion_counts(y_true, y_pred, pos_label)``  (tp, fp, fn, tn) for a chosen positive class
q2   ``precision_recall_f1(...)``                     precision, recall, F1 with zero-division = 0.0
q3   ``choose_threshold(...)``, ``p_malignant``,      largest threshold that keeps recall high
     ``threshold_malignant``
q4   ``auc_malignant``                                ROC-AUC for detecting malignant tumours
q5   ``baseline_accuracy``, ``balanced_acc``,         an imbalanced "fraud" problem
     ``minority_recall``, ``report_to_fraud_team``
q6   ``regression_metrics(y_true, y_pred)``           MAE, RMSE and R^2 from scratch
==== =============================================== ==========================================

"""

from __future__ import annotations

from .offline import OfflineQuestion, question

__all__ = ["q1", "q2", "q3", "q4", "q5", "q6", "FRAUD_OPTIONS"]

#: The fraud-team question of q5: option number -> what it says (the notebook lists the same).
FRAUD_OPTIONS = {
    1: "accuracy",
    2: "balanced accuracy",
    3: "recall of the fraud class",
    4: "precision of the fraud class",
}


class _Q05(OfflineQuestion):
    aid = "05-evaluation-metrics"
    module = "m05"


@question("q1")
class ConfusionCounts(_Q05):
    title = "confusion counts for a chosen positive class"
    names = ("confusion_counts",)
    hints = (
        "Start from two boolean arrays: `actual = (y_true == pos_label)` and "
        "`predicted = (y_pred == pos_label)`. Each count combines one of them (or its negation "
        "`~`) with the other.",
        "Name the cell by the prediction's correctness and the prediction itself: a false "
        "positive was predicted positive and is wrong, so `fp = np.sum(~actual & predicted)`.",
        "Return plain ints in the order (tp, fp, fn, tn): `int(np.sum(...))`. Do not rely on "
        "the order of `confusion_matrix(...).ravel()`, which is (tn, fp, fn, tp) for labels 0, 1.",
    )



@question("q2")
class PrecisionRecallF1(_Q05):
    title = "precision, recall and F1 for a chosen positive class"
    names = ("precision_recall_f1",)
    hints = (
        "Reuse your `confusion_counts` from q1: precision = TP / (TP + FP), recall = TP / (TP + FN).",
        "F1 is the harmonic mean 2 * P * R / (P + R), not (P + R) / 2.",
        "Test each denominator before dividing: `precision = tp / (tp + fp) if tp + fp > 0 else 0.0`. "
        "Dividing NumPy zeros gives nan (with a warning); dividing Python zeros raises.",
    )



@question("q3")
class ChooseThreshold(_Q05):
    title = "the largest threshold that keeps recall at the target"
    names = ("choose_threshold", "p_malignant", "threshold_malignant")
    hints = (
        "Loop over THRESHOLDS. At each t, predict positive where `p_pos >= t`, and compute the "
        "recall of the positive class: TP / (number of actual positives).",
        "Recall can only fall as t grows. Keep every t whose recall is >= min_recall and return "
        "the largest; if none qualifies, return THRESHOLDS[0].",
        "For the breast-cancer model, column 0 of `model.predict_proba(X_test)` is malignant "
        "(check `model.classes_`), and malignant is pos_label=0.",
    )



@question("q4")
class AucMalignant(_Q05):
    title = "ROC-AUC for detecting malignant tumours"
    names = ("auc_malignant",)
    hints = (
        "`roc_auc_score(y_true, y_score)` needs the *scores* of the positive class, not "
        "predicted labels.",
        "Malignant is label 0, and column 0 of `predict_proba` is its probability. Tell "
        "`roc_auc_score` which class is positive by passing `y_test == 0` as the labels.",
    )



@question("q5")
class Imbalance(_Q05):
    title = "accuracy, baselines and recall on an imbalanced problem"
    names = ("baseline_accuracy", "balanced_acc", "minority_recall", "report_to_fraud_team")
    hints = (
        "The majority-class baseline predicts 0 for every row of the *test* split: its accuracy "
        "is the share of 0s in `y_fraud_test`.",
        "Get the model's predictions on the test split with `fraud_model.predict(X_fraud_test)`, "
        "then use `balanced_accuracy_score` and `recall_score` with pos_label=1 (fraud).",
        "For the choice, reread what the fraud team cares about: frauds that slip through.",
    )



@question("q6")
class RegressionMetrics(_Q05):
    title = "MAE, RMSE and R^2 from scratch"
    names = ("regression_metrics",)
    hints = (
        "Start from the errors `err = y_true - y_pred` (as NumPy arrays of floats).",
        "MAE = mean(|err|); RMSE = sqrt(mean(err^2)); R^2 = 1 - sum(err^2) / sum((y_true - "
        "mean(y_true))^2).",
        'Return a dict such as `{"mae": float(mae), "rmse": float(rmse), "r2": float(r2)}`.',
    )



q1, q2, q3, q4, q5, q6 = (
    ConfusionCounts,
    PrecisionRecallF1,
    ChooseThreshold,
    AucMalignant,
    Imbalance,
    RegressionMetrics,
)
