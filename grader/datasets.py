"""Seeded datasets with known ground truth, shared by lectures, assignments and tests.

Every generator takes a ``seed`` and uses its own ``numpy.random.default_rng(seed)``, so the same
call returns the same data on every machine. Nothing here touches the network: the real-world
tables come from the copies that ship inside scikit-learn.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.datasets import load_breast_cancer, load_diabetes
from sklearn.model_selection import train_test_split

__all__ = [
    "READMISSION_TRUE_LOGIT",
    "Split",
    "breast_cancer",
    "breast_cancer_split",
    "diabetes_raw",
    "make_readmission",
]

#: Ground truth of :func:`make_readmission`: the logit of readmission is this linear function of
#: the legitimate features (the leaky column is generated *from* the outcome, not the other way).
READMISSION_TRUE_LOGIT = {
    "intercept": -2.6,
    "prior_admissions": 0.9,
    "length_of_stay": 0.12,
    "num_medications": 0.06,
    "age": 0.015,
    "discharged_weekend": 0.0,
}


@dataclass(frozen=True)
class Split:
    """A train/test split of one table; ``X_*`` are DataFrames and ``y_*`` Series."""

    X_train: pd.DataFrame
    X_test: pd.DataFrame
    y_train: pd.Series
    y_test: pd.Series

    def __iter__(self):
        return iter((self.X_train, self.X_test, self.y_train, self.y_test))


def make_readmission(n: int = 2000, seed: int = 0) -> tuple[pd.DataFrame, pd.Series]:
    """Synthetic hospital records with one *leaky* column.

    The target ``readmitted`` (1 = readmitted within 30 days) follows a logistic model of the
    legitimate features with the coefficients in :data:`READMISSION_TRUE_LOGIT`. The column
    ``followup_billing`` is the amount billed for follow-up care *after* discharge: it is large
    almost only for patients who were readmitted, so it is recorded after the outcome and could
    never be known at prediction time. A model that uses it looks near-perfect and is useless.

    Returns ``(X, y)``: a DataFrame of 6 features and a Series named ``readmitted``.
    """
    rng = np.random.default_rng(seed)
    age = rng.integers(18, 91, size=n)
    prior = rng.poisson(1.2, size=n)
    stay = np.clip(np.round(rng.gamma(2.0, 2.5, size=n)), 1, 40).astype(int)
    meds = rng.poisson(6, size=n)
    weekend = (rng.random(n) < 2 / 7).astype(int)
    t = READMISSION_TRUE_LOGIT
    logit = (
        t["intercept"]
        + t["prior_admissions"] * prior
        + t["length_of_stay"] * stay
        + t["num_medications"] * meds
        + t["age"] * (age - 55)
        + t["discharged_weekend"] * weekend
    )
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    billing = np.where(
        y == 1, rng.gamma(4.0, 600.0, size=n), rng.exponential(40.0, size=n) * (rng.random(n) < 0.1)
    )
    X = pd.DataFrame(
        {
            "age": age,
            "prior_admissions": prior,
            "length_of_stay": stay,
            "num_medications": meds,
            "discharged_weekend": weekend,
            "followup_billing": np.round(billing, 2),
        }
    )
    return X, pd.Series(y, name="readmitted")


def breast_cancer() -> tuple[pd.DataFrame, pd.Series]:
    """The Wisconsin breast cancer table (569 x 30) as ``(X, y)``.

    Pitfall kept on purpose: in this dataset **0 = malignant** and **1 = benign**.
    """
    data = load_breast_cancer(as_frame=True)
    return data.data, data.target.rename("target")


def breast_cancer_split(test_size: float = 0.3, seed: int = 0) -> Split:
    """The course's standard stratified split of :func:`breast_cancer` (171 test rows)."""
    X, y = breast_cancer()
    return Split(*train_test_split(X, y, test_size=test_size, stratify=y, random_state=seed))


def diabetes_raw() -> tuple[pd.DataFrame, pd.Series]:
    """The diabetes regression table in its original units (``scaled=False``)."""
    data = load_diabetes(as_frame=True, scaled=False)
    return data.data, data.target.rename("progression")
