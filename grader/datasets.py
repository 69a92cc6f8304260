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
    "make_credit",
    "make_readmission",
    "make_stream",
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


# --- module 09 ---
#: Ground truth of :func:`make_loan_approval`: the log-odds of approval are
#: ``LOAN_INTERCEPT + sum(LOAN_TRUE_COEF[j] * (x_j - LOAN_CENTRE[j]))``; ``account_age`` has no
#: effect at all.
LOAN_FEATURES = ("income", "debt_ratio", "years_employed", "late_payments", "account_age")
LOAN_TRUE_COEF = np.array([0.05, -6.0, 0.12, -0.8, 0.0])
LOAN_CENTRE = np.array([50.0, 0.35, 8.0, 1.5, 60.0])
LOAN_INTERCEPT = 0.4


def make_loan_approval(n: int = 1500, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A synthetic loan-approval table with a known logistic model, as NumPy arrays ``(X, y)``.

    Columns (in :data:`LOAN_FEATURES` order, on deliberately different scales): ``income`` in
    thousands of dollars a year, ``debt_ratio`` (debt / income, unitless), ``years_employed``,
    ``late_payments`` (count in the last two years) and ``account_age`` in months, which has no
    effect. ``y`` is 1 for "approved", drawn from the logistic model given by
    :data:`LOAN_TRUE_COEF`, :data:`LOAN_CENTRE` and :data:`LOAN_INTERCEPT`.
    """
    rng = np.random.default_rng(seed)
    X = np.column_stack(
        [
            rng.normal(50.0, 15.0, n),
            rng.normal(0.35, 0.12, n),
            rng.gamma(2.0, 4.0, n),
            rng.poisson(1.5, n).astype(float),
            rng.normal(60.0, 24.0, n),
        ]
    )
    logit = LOAN_INTERCEPT + (X - LOAN_CENTRE) @ LOAN_TRUE_COEF
    y = (rng.random(n) < 1.0 / (1.0 + np.exp(-logit))).astype(int)
    return X, y


# --- module 06 ---
def make_rule_data(n: int = 1000, noise: float = 0.05, seed: int = 0) -> tuple[pd.DataFrame, pd.Series]:
    """Labels generated by a known two-condition rule, with label noise (module 06).

    Features ``x0`` ... ``x3`` are independent and uniform on [0, 1]. The clean label is
    ``1 if (x0 > 0.5 and x1 <= 0.3) else 0``; then a share ``noise`` of the labels is flipped.
    ``x2`` and ``x3`` play no part. Returns ``(X, y)`` with ``y`` a Series named ``label``.
    """
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(rng.random((n, 4)), columns=["x0", "x1", "x2", "x3"])
    clean = ((X["x0"] > 0.5) & (X["x1"] <= 0.3)).to_numpy().astype(int)
    y = np.where(rng.random(n) < noise, 1 - clean, clean)
    return X, pd.Series(y, name="label")


def make_credit_noise(n: int = 1200, seed: int = 0) -> tuple[pd.DataFrame, pd.Series]:
    """A small credit-default table with two pure-noise columns (module 06: MDI vs permutation).

    ``default`` follows a logistic model of ``income`` (strong), ``age`` (moderate) and
    ``n_accounts`` (weak, 0-5). ``random_cat`` (3 levels) and ``random_num`` (continuous, so with
    as many distinct values as rows) are independent of everything: any importance they get is
    an artefact of the method.
    """
    rng = np.random.default_rng(seed)
    income = rng.normal(0, 1, n)
    age = rng.normal(0, 1, n)
    accounts = rng.integers(0, 6, n)
    random_cat = rng.integers(0, 3, n)
    random_num = rng.normal(0, 1, n)
    logit = 1.8 * income - 1.2 * age + 0.5 * (accounts - 2.5)
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    X = pd.DataFrame(
        {
            "income": income.round(2),
            "age": age.round(2),
            "n_accounts": accounts,
            "random_cat": random_cat,
            "random_num": random_num,
        }
    )
    return X, pd.Series(y, name="default")


# --- module 04 ---
#: The columns of :func:`breast_cancer_missing` that get missing values, with the share missing
#: completely at random; ``worst area`` is missing *not* at random (large tumours more often).
CANCER_MISSING_RATES = {
    "mean texture": 0.04,
    "mean smoothness": 0.07,
    "area error": 0.10,
    "mean concavity": 0.02,
}


def breast_cancer_missing(seed: int = 0) -> tuple[pd.DataFrame, pd.Series]:
    """:func:`breast_cancer` with missing values at seeded positions, as ``(X, y)``.

    Four columns lose values completely at random (:data:`CANCER_MISSING_RATES`); ``worst area``
    loses about 10 % of its values, more often the larger the tumour (missing not at random), so
    its observed median is biased low. ``y`` is unchanged (0 = malignant, 1 = benign).
    """
    X, y = breast_cancer()
    X = X.copy()
    rng = np.random.default_rng(seed)
    for col, rate in CANCER_MISSING_RATES.items():
        X.loc[rng.random(len(X)) < rate, col] = np.nan
    rank = X["worst area"].rank(pct=True).to_numpy()
    X.loc[rng.random(len(X)) < 0.3 * rank**2, "worst area"] = np.nan
    return X, y


def make_visits(n: int = 400, seed: int = 0) -> pd.DataFrame:
    """Synthetic hospital visits for grouping and reshaping, with missing values.

    Columns: ``ward`` (four wards of unequal size), ``day`` ("weekday" or "weekend"), ``age`` in
    years, ``length_of_stay`` in days (missing for about 12 % of visits, most often in surgery),
    ``cost`` in thousands of dollars and ``readmitted`` (0/1).
    """
    rng = np.random.default_rng(seed)
    wards = np.array(["cardiology", "general", "oncology", "surgery"])
    ward = wards[rng.choice(4, size=n, p=[0.2, 0.4, 0.15, 0.25])]
    day = np.where(rng.random(n) < 2 / 7, "weekend", "weekday")
    age = rng.integers(18, 95, size=n)
    base = pd.Series(ward).map({"cardiology": 5.0, "general": 3.0, "oncology": 8.0, "surgery": 6.0})
    stay = np.round(base.to_numpy() * rng.gamma(2.0, 0.5, size=n) + (day == "weekend"), 1)
    cost = np.round(1.2 * stay + rng.gamma(2.0, 1.5, size=n), 2)
    readmitted = (rng.random(n) < 0.1 + 0.02 * stay).astype(int)
    p_missing = np.where(ward == "surgery", 0.3, 0.06)
    stay = np.where(rng.random(n) < p_missing, np.nan, stay)
    return pd.DataFrame(
        {
            "ward": ward,
            "day": day,
            "age": age,
            "length_of_stay": stay,
            "cost": cost,
            "readmitted": readmitted,
        }
    )


# --- module 02 ---
def make_recovery(n: int = 1200, seed: int = 0) -> pd.DataFrame:
    """A confounded treatment study (Simpson's paradox) for module 02.

    Severe patients recover less often and are treated far more often (80 % vs 20 %). Within each
    severity the treatment raises the chance of recovery (by 0.06 for mild, 0.12 for severe cases),
    yet the pooled treated group recovers *less* often, because it is mostly severe cases.
    Columns: ``severity`` (categorical "mild"/"severe"), ``treated`` (0/1), ``recovered`` (0/1).
    """
    rng = np.random.default_rng(seed)
    severe = rng.random(n) < 0.4
    treated = rng.random(n) < np.where(severe, 0.8, 0.2)
    chance = np.where(severe, 0.35, 0.85) + np.where(severe, 0.12, 0.06) * treated
    recovered = rng.random(n) < chance
    severity = np.where(severe, "severe", "mild")
    return pd.DataFrame(
        {
            "severity": pd.Categorical(severity, categories=["mild", "severe"]),
            "treated": treated.astype(int),
            "recovered": recovered.astype(int),
        }
    )


# --- module 12 ---
#: Ground truth of :func:`make_credit`: the log-odds of repaying are this linear function of the
#: applicant's *true* features (income and savings in thousands of dollars, debt_ratio unitless,
#: late_payments a count), centred at :data:`CREDIT_CENTRE`, plus :data:`CREDIT_INTERCEPT`.
CREDIT_TRUE_COEF = {"income": 0.04, "savings": 0.05, "debt_ratio": -5.0, "late_payments": -0.7}
CREDIT_CENTRE = {"income": 45.0, "savings": 10.0, "debt_ratio": 0.35, "late_payments": 1.5}
CREDIT_INTERCEPT = 0.6


def make_credit(
    n: int = 4000,
    seed: int = 0,
    *,
    reported_income_bias: float = 0.0,
    label_bias: float = 0.0,
    include_proxy: bool = False,
) -> pd.DataFrame:
    """A synthetic credit table with a protected group and switchable biases, for module 12.

    After the scenarios of the ``shap`` fairness notebook (Lundberg, 2020): ``group`` (0 or 1;
    group 1 is 40 % of applicants) has lower incomes and savings on average (an inequality that
    exists before any model), so the groups' true repayment rates differ. Repayment (``repaid``)
    is drawn from the logistic model :data:`CREDIT_TRUE_COEF` on the *true* features, which do
    not include the group. Two biases can then be switched on, each in one group only:

    - ``reported_income_bias`` (measurement bias): group 1's ``income`` column is the true income
      times ``1 + reported_income_bias`` (e.g. -0.2: under-reported by 20 %);
    - ``label_bias`` (historical bias): for group 1, the probability that the recorded label is
      ``repaid = 1`` is shifted by ``label_bias`` (e.g. -0.1: past records mark some of them as
      defaulters who would have repaid), clipped to [0, 1].

    With ``include_proxy`` a ``neighbourhood`` score (unitless, about N(0, 1) within a group) is
    added that is strongly associated with the group (its mean is 1.5 higher in group 1) and has
    no effect of its own on repayment.

    Returns a DataFrame with columns ``income``, ``savings`` (thousands of dollars),
    ``debt_ratio``, ``late_payments`` (count in two years), [``neighbourhood``], ``group``,
    ``repaid`` (0/1).
    """
    rng = np.random.default_rng(seed)
    group = (rng.random(n) < 0.4).astype(int)
    income = np.maximum(8.0, rng.normal(np.where(group == 1, 38.0, 50.0), 12.0))
    savings = np.maximum(0.0, rng.gamma(2.0, np.where(group == 1, 3.5, 6.0)))
    debt_ratio = np.clip(rng.normal(0.35, 0.12, n), 0.0, 1.0)
    late = rng.poisson(1.5, n).astype(float)
    true = {"income": income, "savings": savings, "debt_ratio": debt_ratio, "late_payments": late}
    logit = CREDIT_INTERCEPT + sum(
        CREDIT_TRUE_COEF[k] * (true[k] - CREDIT_CENTRE[k]) for k in CREDIT_TRUE_COEF
    )
    p_repay = 1.0 / (1.0 + np.exp(-logit))
    p_recorded = np.clip(p_repay + label_bias * (group == 1), 0.0, 1.0)
    repaid = (rng.random(n) < p_recorded).astype(int)
    data = {
        "income": np.where(group == 1, income * (1.0 + reported_income_bias), income),
        "savings": savings,
        "debt_ratio": debt_ratio,
        "late_payments": late,
    }
    if include_proxy:
        data["neighbourhood"] = rng.normal(1.5 * group, 1.0)
    data["group"] = group
    data["repaid"] = repaid
    return pd.DataFrame(data)


# --- module 14 ---
#: Ground truth of :func:`make_stream`: the feature names and, before the concept shift, the
#: coefficients of the logistic model of ``y`` on the (standard normal) features.
STREAM_FEATURES = ("x0", "x1", "x2", "x3", "x4", "x5", "x6", "x7")
STREAM_TRUE_COEF = np.array([1.2, 1.5, -1.0, 0.8, -0.5, 0.3, 0.0, 0.0])
STREAM_INTERCEPT = -0.5
#: The covariate shift moves this feature's mean by ``covariate_shift`` standard deviations.
STREAM_COVARIATE_FEATURE = "x0"
#: The concept shift flips the sign of this feature's coefficient (1.5 becomes -1.5).
STREAM_CONCEPT_FEATURE = "x1"


def make_stream(
    n_batches: int = 20,
    batch_size: int = 500,
    covariate_shift_at: int | None = 6,
    concept_shift_at: int | None = 12,
    seed: int = 0,
    *,
    covariate_shift: float = 1.0,
) -> pd.DataFrame:
    """A stream of labelled batches with a covariate shift and then a concept shift, for module 14.

    Batches are numbered ``0 .. n_batches - 1``. In every batch the eight features ``x0 .. x7``
    are independent standard normal, and ``y`` (0/1) is drawn from the logistic model
    ``P(y = 1 | x) = sigmoid(STREAM_INTERCEPT + x @ STREAM_TRUE_COEF)``. The ground truth:

    - **covariate shift** (p(X) changes, p(y | X) does not): from batch ``covariate_shift_at``
      on, ``x0`` is drawn from N(``covariate_shift``, 1) instead of N(0, 1). Through the
      unchanged p(y | X), the share of positives rises too.
    - **concept shift** (p(y | X) changes, p(X) does not): from batch ``concept_shift_at`` on,
      the coefficient of ``x1`` is -1.5 instead of +1.5 (its sign flips); x1's distribution is
      unchanged.

    Pass ``None`` for either change point to switch that shift off (e.g. for reference data
    drawn from the stable regime).

    Returns a DataFrame of ``n_batches * batch_size`` rows with columns ``batch`` (int),
    ``x0 .. x7`` (float, unitless) and ``y`` (0/1), in batch order.
    """
    rng = np.random.default_rng(seed)
    n = n_batches * batch_size
    batch = np.repeat(np.arange(n_batches), batch_size)
    X = rng.normal(size=(n, len(STREAM_FEATURES)))
    if covariate_shift_at is not None:
        X[batch >= covariate_shift_at, STREAM_FEATURES.index(STREAM_COVARIATE_FEATURE)] += (
            covariate_shift
        )
    coef = np.tile(STREAM_TRUE_COEF, (n, 1))
    if concept_shift_at is not None:
        j = STREAM_FEATURES.index(STREAM_CONCEPT_FEATURE)
        coef[batch >= concept_shift_at, j] = -STREAM_TRUE_COEF[j]
    logit = STREAM_INTERCEPT + np.sum(X * coef, axis=1)
    y = (rng.random(n) < 1.0 / (1.0 + np.exp(-logit))).astype(int)
    frame = pd.DataFrame(X, columns=list(STREAM_FEATURES))
    frame.insert(0, "batch", batch)
    frame["y"] = y
    return frame


# --- assignments 10 (counterfactuals-gradients) and 11 (simplification) ---
#: Ground truth of :func:`make_tenancy`: the log-odds of approval are
#: ``TENANCY_INTERCEPT + sum(TENANCY_TRUE_COEF[j] * (x_j - TENANCY_CENTRE[j]))``; ``age`` has no
#: effect at all.
TENANCY_FEATURES = ("income", "rent_share", "savings_months", "missed_payments", "age")
TENANCY_TRUE_COEF = np.array([0.6, -7.0, 0.35, -0.9, 0.0])
TENANCY_CENTRE = np.array([3.5, 0.38, 3.0, 1.2, 38.0])
TENANCY_INTERCEPT = 0.3


def make_tenancy(n: int = 2000, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A synthetic rental-application table with a known logistic model, as ``(X, y)`` arrays.

    Columns (in :data:`TENANCY_FEATURES` order): ``income``, monthly net income in thousands of
    dollars; ``rent_share``, the asked rent divided by that income (unitless); ``savings_months``,
    savings in months of rent; ``missed_payments``, missed rent or credit payments in the last two
    years (a count); ``age`` in years, which has no effect. ``y`` is 1 for "approved", drawn from
    the logistic model given by :data:`TENANCY_TRUE_COEF`, :data:`TENANCY_CENTRE` and
    :data:`TENANCY_INTERCEPT`.
    """
    rng = np.random.default_rng(seed)
    X = np.column_stack(
        [
            np.clip(rng.normal(3.5, 1.0, n), 0.8, None),
            np.clip(rng.normal(0.38, 0.09, n), 0.1, 0.8),
            rng.gamma(2.0, 1.5, n),
            rng.poisson(1.2, n).astype(float),
            np.clip(rng.normal(38.0, 11.0, n), 18.0, 80.0),
        ]
    )
    logit = TENANCY_INTERCEPT + (X - TENANCY_CENTRE) @ TENANCY_TRUE_COEF
    y = (rng.random(n) < 1.0 / (1.0 + np.exp(-logit))).astype(int)
    return X, y


# --- module 09 ---
# Assignment 09 (second edition) works on this churn table, not on the lecture's loan data.

#: Features of :func:`make_churn`, in column order; ``age`` has no effect on churn.
CHURN_FEATURES = (
    "monthly_fee", "tenure_months", "support_calls", "discount_share", "data_gb", "age",
)  # fmt: skip
#: True log-odds coefficients of churn, per unit of each feature (``age`` has none).
CHURN_TRUE_COEF = np.array([0.04, -0.05, 0.45, -3.0, -0.02, 0.0])
#: The point around which the true logit is centred.
CHURN_CENTRE = np.array([45.0, 24.0, 2.0, 0.15, 30.0, 42.0])
CHURN_INTERCEPT = -0.8


def make_churn(n: int = 1600, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A synthetic subscription table with a known logistic churn model, as ``(X, y)`` arrays.

    Columns (in :data:`CHURN_FEATURES` order, on different scales): ``monthly_fee`` in dollars;
    ``tenure_months``, months since sign-up; ``support_calls`` in the last quarter (a count);
    ``discount_share``, the share of the list price given as a discount (0 to 1); ``data_gb``,
    monthly data use in gigabytes; ``age`` in years, which has no effect. ``y`` is 1 for
    "churned", drawn from the logistic model
    ``CHURN_INTERCEPT + (x - CHURN_CENTRE) @ CHURN_TRUE_COEF``. Shapes: ``X`` (n, 6), ``y`` (n,).
    """
    rng = np.random.default_rng(seed)
    X = np.column_stack(
        [
            np.clip(rng.normal(45.0, 12.0, n), 10.0, None),
            rng.gamma(2.0, 12.0, n),
            rng.poisson(2.0, n).astype(float),
            rng.beta(2.0, 10.0, n),
            rng.gamma(3.0, 10.0, n),
            np.clip(rng.normal(42.0, 13.0, n), 18.0, 85.0),
        ]
    )
    logit = CHURN_INTERCEPT + (X - CHURN_CENTRE) @ CHURN_TRUE_COEF
    y = (rng.random(n) < 1.0 / (1.0 + np.exp(-logit))).astype(int)
    return X, y
