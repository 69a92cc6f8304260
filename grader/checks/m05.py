"""Checks for assignment 05, "Evaluation metrics" (``solutions/05-evaluation-metrics``).

==== =============================================== ==========================================
q1   ``confusion_counts(y_true, y_pred, pos_label)``  (tp, fp, fn, tn) for a chosen positive class
q2   ``precision_recall_f1(...)``                     precision, recall, F1 with zero-division = 0.0
q3   ``choose_threshold(...)``, ``p_malignant``,      largest threshold that keeps recall high
     ``threshold_malignant``                          (a nearest-neighbour model)
q4   ``auc_malignant``                                ROC-AUC for detecting malignant tumours
q5   ``baseline_accuracy``, ``balanced_acc``,         accuracy against a baseline on card fraud
     ``minority_recall``
q6   ``regression_metrics(y_true, y_pred)``           MAE, RMSE and R^2 from scratch
q7   ``cheapest_threshold(...)``,                     the threshold with the lowest cost in money
     ``fraud_threshold``
q8   ``reliability_curve(...)``, ``brier_fraud``,     calibration: reliability bins, Brier score
     ``brier_base_rate``
==== =============================================== ==========================================

This is the student side: titles, names and hints. ``qN.check()`` compares your answers with data
precomputed from the instructor's key for the check's fixed inputs (``grader/checks/data/m05.json``,
written by ``grader release``); the key itself, and the hidden tests, stay with the instructor.
"""

from __future__ import annotations

from .offline import OfflineQuestion, question

__all__ = ["q1", "q2", "q3", "q4", "q5", "q6", "q7", "q8"]


class _Q05(OfflineQuestion):
    aid = "05-evaluation-metrics"
    module = "m05"


@question("q1")
class ConfusionCounts(_Q05):
    title = "confusion counts for a chosen positive class"
    names = ("confusion_counts",)
    hints = (
        "Every sample has two facts: is it *actually* the positive class, and was it *predicted* "
        "as the positive class? Each of the four counts is one combination of those two facts.",
        "Turn each fact into a boolean array by comparing with pos_label (not with 1), combine "
        "them with & and ~, and count the True values. Return plain ints in the order the prompt "
        "gives, which is not the order of a flattened `confusion_matrix`.",
    )


@question("q2")
class PrecisionRecallF1(_Q05):
    title = "precision, recall and F1 for a chosen positive class"
    names = ("precision_recall_f1",)
    hints = (
        "Precision and recall share the numerator TP; they differ in what they divide by: "
        "everything *flagged*, or everything that *is* positive. F1 is a harmonic, not an "
        "arithmetic, mean of the two.",
        "Get the counts from your q1 function, then test each denominator before you divide: "
        "where it is zero the prompt asks for 0.0 (NumPy gives nan with a warning, Python ints "
        "raise).",
    )


@question("q3")
class ChooseThreshold(_Q05):
    title = "the largest threshold that keeps recall at the target"
    names = ("choose_threshold", "p_malignant", "threshold_malignant")
    hints = (
        "Lowering the threshold can only flag more samples, so recall can only rise as t falls. "
        "The threshold you want is the highest one that still reaches the target.",
        "Walk through THRESHOLDS, compute the recall of pos_label at each t (flag when "
        "p_pos >= t), and keep the largest t that qualifies. For the tumour model, look at "
        "`model.classes_` to find which column of `predict_proba` belongs to malignant.",
    )


@question("q4")
class AucMalignant(_Q05):
    title = "ROC-AUC for detecting malignant tumours"
    names = ("auc_malignant",)
    hints = (
        "ROC-AUC measures how well *scores* rank malignant above benign tumours; predicted labels "
        "throw that ranking away.",
        "`roc_auc_score` has no pos_label: it treats the larger label as positive. Give it labels "
        "in which malignant is the positive (True) class, and the malignant column of "
        "`predict_proba` as the score.",
    )


@question("q5")
class Imbalance(_Q05):
    title = "accuracy against a baseline on an imbalanced problem"
    names = ("baseline_accuracy", "balanced_acc", "minority_recall")
    hints = (
        "A baseline that ignores the features and always answers 'legitimate' is right exactly "
        "as often as legitimate transactions occur, on the rows you evaluate.",
        "Score everything on the test split. Balanced accuracy averages the recall of each "
        "class; the minority recall is the recall of the fraud label alone.",
    )


@question("q6")
class RegressionMetrics(_Q05):
    title = "MAE, RMSE and R^2 from scratch"
    names = ("regression_metrics",)
    hints = (
        "All three start from the errors y_true - y_pred. MAE and RMSE keep the units of y; R^2 "
        "compares your squared error with that of always predicting the mean of the *true* "
        "values.",
        "Convert both inputs to float arrays first. The square root is taken after averaging the "
        "squared errors; the R^2 denominator is centred on mean(y_true). Return plain floats "
        "under lower-case keys.",
    )


@question("q7")
class CheapestThreshold(_Q05):
    title = "the threshold with the lowest cost in money"
    names = ("cheapest_threshold", "fraud_threshold")
    hints = (
        "The team pays per error, so what matters is how many frauds are missed and how many "
        "alarms are false, each times its price; rates such as recall or the false positive rate "
        "ignore how rare frauds are.",
        "For every t in THRESHOLDS count FN and FP on the rows given, price them, and keep the "
        "threshold of the smallest total (the largest one if several tie). For the fraud model, "
        "check `fraud_model.classes_` to find the fraud column of `predict_proba`.",
    )


@question("q8")
class ReliabilityAndBrier(_Q05):
    title = "a reliability curve and the Brier score"
    names = ("reliability_curve", "brier_fraud", "brier_base_rate")
    hints = (
        "A reliability curve groups the rows by their predicted probability and, per group, sets "
        "what was predicted (the mean probability) beside what happened (the share of "
        "positives). The Brier score is the mean squared gap between the probability and the "
        "0/1 outcome.",
        "Build the edges for the strategy asked, number each row's bin with the rule in the "
        "prompt, and per bin count rows, positives and the sum of probabilities; drop empty "
        "bins. For the Brier scores, use the probability of *fraud* and the training split's "
        "fraud rate as the constant forecast.",
    )


q1, q2, q3, q4, q5, q6, q7, q8 = (
    ConfusionCounts,
    PrecisionRecallF1,
    ChooseThreshold,
    AucMalignant,
    Imbalance,
    RegressionMetrics,
    CheapestThreshold,
    ReliabilityAndBrier,
)
