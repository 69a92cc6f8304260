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


# --- module 06 ---
#: Ground truth of :func:`make_heat_illness`: the log-odds of a heat-related admission are
#: ``HEAT_INTERCEPT`` plus one shape function per feature (each centred on its population mean).
HEAT_FEATURES = ("temp_c", "humidity_pct", "age", "pm25")
HEAT_INTERCEPT = -0.6
#: Coefficient of the one interaction in :func:`make_heat_illness`:
#: ``max(temp_c - 28, 0) * (humidity_pct - 57.5) / 10``.
HEAT_INTERACTION = 0.6


def heat_shapes(X: pd.DataFrame) -> pd.DataFrame:
    """The true (uncentred) shape functions of :func:`make_heat_illness`, one column per feature.

    ``temp_c``: a U shape with its minimum at 18 °C; ``humidity_pct``: a smooth step of +1.6 at
    70 %; ``age``: linear, +0.03 per year; ``pm25``: +0.9 per doubling above 10 µg/m³ (log).
    """
    return pd.DataFrame(
        {
            "temp_c": 0.012 * (X["temp_c"] - 18.0) ** 2,
            "humidity_pct": 1.6 / (1.0 + np.exp(-(X["humidity_pct"] - 70.0) / 2.5)),
            "age": 0.03 * (X["age"] - 50.0),
            "pm25": 0.9 * np.log2(X["pm25"] / 10.0),
        }
    )


def make_heat_illness(n: int = 3000, seed: int = 0) -> tuple[pd.DataFrame, pd.Series]:
    """Daily records of people exposed to heat, with a known *additive* but non-linear logit.

    Columns: ``temp_c`` (daily maximum, uniform 0 to 40 °C), ``humidity_pct`` (uniform 20 to 95 %),
    ``age`` (years, 18 to 90) and ``pm25`` (fine particles, µg/m³, log-normal). ``y`` (named
    ``admitted``) is 1 when the person was admitted for a heat-related illness, drawn from the
    logistic model ``HEAT_INTERCEPT + sum of heat_shapes(X) centred`` plus one heat-index
    interaction (:data:`HEAT_INTERACTION`: humidity adds risk on hot days only). A GAM can recover
    every shape but not the interaction; a linear logit recovers neither (the temperature effect
    is U-shaped, the humidity effect a step).
    """
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(
        {
            "temp_c": rng.uniform(0.0, 40.0, n).round(1),
            "humidity_pct": rng.uniform(20.0, 95.0, n).round(0),
            "age": np.clip(rng.normal(50.0, 17.0, n), 18.0, 90.0).round(0),
            "pm25": np.exp(rng.normal(np.log(12.0), 0.5, n)).round(1),
        }
    )
    shapes = heat_shapes(X)
    # the heat-index interaction: humid air adds risk only on hot days (no GAM can express it)
    hot_and_humid = np.clip(X["temp_c"] - 28.0, 0.0, None) * (X["humidity_pct"] - 57.5) / 10.0
    logit = (HEAT_INTERCEPT + (shapes - shapes.mean()).sum(axis=1).to_numpy()
             + HEAT_INTERACTION * hot_and_humid.to_numpy())
    y = (rng.random(n) < 1.0 / (1.0 + np.exp(-logit))).astype(int)
    return X, pd.Series(y, name="admitted")


def crop_shapes(X: pd.DataFrame) -> pd.DataFrame:
    """The true (uncentred) shape functions of :func:`make_crop_yield`, in tonnes per hectare.

    ``rainfall_mm``: a hump, +2.5 t/ha at 700 mm falling off on both sides (drought and
    waterlogging); ``nitrogen_kg``: saturating, ``2.2 (1 - exp(-N / 60))``; ``temp_c``: linear,
    -0.15 per °C; ``soil_ph``: none (a feature with no effect).
    """
    return pd.DataFrame(
        {
            "rainfall_mm": 2.5 * np.exp(-(((X["rainfall_mm"] - 700.0) / 220.0) ** 2)),
            "nitrogen_kg": 2.2 * (1.0 - np.exp(-X["nitrogen_kg"] / 60.0)),
            "temp_c": -0.15 * X["temp_c"],
            "soil_ph": 0.0 * X["soil_ph"],
        }
    )


def make_crop_yield(n: int = 500, seed: int = 0) -> tuple[pd.DataFrame, pd.Series]:
    """Field trials of a cereal with a known additive, non-linear yield model (module 06).

    Columns: ``rainfall_mm`` (season total, uniform 200 to 1300 mm), ``nitrogen_kg`` (fertiliser,
    uniform 0 to 250 kg/ha), ``temp_c`` (season mean, normal around 17 °C) and ``soil_ph``
    (uniform 5 to 8, no effect). ``y`` (named ``yield_t_ha``) is ``4 + sum of crop_shapes(X)``
    plus normal noise of SD 0.45 t/ha.
    """
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(
        {
            "rainfall_mm": rng.uniform(200.0, 1300.0, n).round(0),
            "nitrogen_kg": rng.uniform(0.0, 250.0, n).round(0),
            "temp_c": rng.normal(17.0, 2.5, n).round(1),
            "soil_ph": rng.uniform(5.0, 8.0, n).round(2),
        }
    )
    y = 4.0 + crop_shapes(X).sum(axis=1).to_numpy() + rng.normal(0.0, 0.45, n)
    return X, pd.Series(y, name="yield_t_ha")


#: Ground truth of :func:`make_energy_use`: kWh per month per unit of each feature.
ENERGY_TRUE_COEF = {
    "floor_area_m2": 1.5,
    "occupants": 25.0,
    "outdoor_temp_c": -18.0,
    "heat_pump": -60.0,
    "insulation_cm": -3.0,
}


def make_energy_use(n: int = 300, seed: int = 0) -> tuple[pd.DataFrame, pd.Series]:
    """Monthly household electricity use with a known linear model, on very different units.

    Columns: ``floor_area_m2``, ``occupants`` (1 to 6), ``outdoor_temp_c`` (the month's mean),
    ``heat_pump`` (0 or 1) and ``insulation_cm`` (wall insulation). ``y`` (named ``kwh``) is
    ``400 + sum of ENERGY_TRUE_COEF[f] * f`` plus normal noise of SD 40 kWh. The largest raw
    coefficient (``heat_pump``, per switch from 0 to 1) is not the largest per standard deviation
    (``outdoor_temp_c``, a negative effect).
    """
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(
        {
            "floor_area_m2": np.clip(rng.normal(110.0, 35.0, n), 30.0, 300.0).round(0),
            "occupants": rng.integers(1, 7, n),
            "outdoor_temp_c": rng.normal(9.0, 4.5, n).round(1),
            "heat_pump": (rng.random(n) < 0.3).astype(int),
            "insulation_cm": rng.uniform(5.0, 30.0, n).round(0),
        }
    )
    y = 400.0 + sum(c * X[f] for f, c in ENERGY_TRUE_COEF.items()) + rng.normal(0.0, 40.0, n)
    return X, pd.Series(np.asarray(y, dtype=float), name="kwh")


def make_dosage_rule(n: int = 1000, noise: float = 0.05, seed: int = 0) -> tuple[pd.DataFrame, pd.Series]:
    """Adverse reactions labelled by a known two-condition rule, with label noise (module 06).

    Features (independent, uniform): ``dose_mg`` (0 to 100), ``age`` (18 to 90 years),
    ``weight_kg`` (45 to 120) and ``creatinine`` (0.5 to 2.0 mg/dL, kidney function). The clean
    label is ``1 if (creatinine > 1.4 and dose_mg > 40) else 0`` (a high dose that failing kidneys
    cannot clear); then a share ``noise`` of the labels is flipped. ``age`` and ``weight_kg`` play
    no part. Returns ``(X, y)`` with ``y`` a Series named ``adverse``.
    """
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(
        {
            "dose_mg": rng.uniform(0.0, 100.0, n),  # not rounded: a learnt threshold falls
            "age": rng.uniform(18.0, 90.0, n).round(0),  # between two values, never on 40.0
            "weight_kg": rng.uniform(45.0, 120.0, n).round(1),
            "creatinine": rng.uniform(0.5, 2.0, n),
        }
    )
    clean = ((X["creatinine"] > 1.4) & (X["dose_mg"] > 40.0)).to_numpy().astype(int)
    y = np.where(rng.random(n) < noise, 1 - clean, clean)
    return X, pd.Series(y, name="adverse")


# --- modules 01 and 02 (second edition) ---
#: Ground truth of :func:`make_loan_default`: the log-odds of default are this linear function of
#: the application-time features, each centred at :data:`LOAN_DEFAULT_CENTRE` (``age`` has no
#: effect). The two leaky columns are generated *from* the outcome, not the other way round.
LOAN_DEFAULT_TRUE_LOGIT = {
    "intercept": -1.2,
    "debt_to_income": 0.12,
    "late_payments_2y": 1.0,
    "income": -0.035,
    "credit_history_years": -0.06,
    "loan_amount": 0.03,
    "age": 0.0,
}
LOAN_DEFAULT_CENTRE = {"debt_to_income": 32.0, "late_payments_2y": 0.8, "income": 55.0,
                       "credit_history_years": 10.0, "loan_amount": 20.0, "age": 45.0}


def make_loan_default(n: int = 2000, seed: int = 0) -> tuple[pd.DataFrame, pd.Series]:
    """Synthetic personal-loan records with *two* leaky columns, one strong and one weak.

    Application-time columns: ``age`` (years), ``income`` (thousands of dollars a year),
    ``debt_to_income`` (monthly debt payments as a percentage of income), ``credit_history_years``
    (years since the first credit account), ``late_payments_2y`` (late payments in the two years
    before the application, a count) and ``loan_amount`` (thousands of dollars). The target
    ``defaulted`` (1 = the loan defaulted) follows the logistic model of
    :data:`LOAN_DEFAULT_TRUE_LOGIT` around :data:`LOAN_DEFAULT_CENTRE`.

    Leaks, recorded after the loan was granted: ``collection_calls`` (calls made by the
    collections team, 1 + Poisson(5) for a default, Poisson(0.1) otherwise) nearly separates the
    classes; ``hardship_plan`` (1 if the borrower later joined a hardship repayment plan:
    probability 0.45 for a default, 0.04 otherwise) is weaker and shows up only once the first
    leak is removed.
    """
    rng = np.random.default_rng(seed)
    age = rng.integers(21, 71, n)
    income = np.round(np.exp(rng.normal(np.log(55.0), 0.45, n)), 1)
    dti = np.round(np.clip(rng.normal(32.0, 10.0, n), 5.0, 70.0), 1)
    history = np.round(np.clip((age - 18) * rng.uniform(0.2, 1.0, n), 0.5, None), 1)
    late = rng.poisson(0.8, n)
    amount = np.round(rng.uniform(2.0, 40.0, n), 1)
    columns = {"age": age, "income": income, "debt_to_income": dti,
               "credit_history_years": history, "late_payments_2y": late, "loan_amount": amount}
    logit = LOAN_DEFAULT_TRUE_LOGIT["intercept"] + sum(
        LOAN_DEFAULT_TRUE_LOGIT[k] * (columns[k] - LOAN_DEFAULT_CENTRE[k]) for k in columns
    )
    y = (rng.random(n) < 1.0 / (1.0 + np.exp(-logit))).astype(int)
    calls = np.where(y == 1, 1 + rng.poisson(5.0, n), rng.poisson(0.1, n))
    hardship = (rng.random(n) < np.where(y == 1, 0.45, 0.04)).astype(int)
    X = pd.DataFrame(columns)
    X.insert(2, "hardship_plan", hardship)
    X["collection_calls"] = calls
    return X, pd.Series(y, name="defaulted")


def make_tutoring(n: int = 1500, seed: int = 0) -> pd.DataFrame:
    """A confounded tutoring programme (Simpson's paradox with three strata) for module 02.

    Columns: ``prior_grade`` (categorical "low"/"middle"/"high", the grade band before the
    programme), ``tutored`` (0/1) and ``passed`` (0/1, the end-of-year exam). Tutoring went mostly
    to weak students (75 %, 35 % and 10 % of the three bands), who pass less often (base rates
    0.35, 0.62, 0.88). Within each band tutoring raises the chance of passing, by 0.22, 0.10 and
    0.03: the effect is largest where it was given most, so the effect on the tutored students
    (weights: the bands' shares among the tutored) is larger than the effect averaged over all
    students, while the pooled comparison makes tutoring look useless or harmful.
    """
    rng = np.random.default_rng(seed)
    band = rng.choice(3, size=n, p=[0.35, 0.4, 0.25])
    tutored = rng.random(n) < np.array([0.75, 0.35, 0.1])[band]
    chance = np.array([0.35, 0.62, 0.88])[band] + np.array([0.22, 0.10, 0.03])[band] * tutored
    passed = rng.random(n) < chance
    labels = np.array(["low", "middle", "high"])
    return pd.DataFrame(
        {
            "prior_grade": pd.Categorical(labels[band], categories=list(labels)),
            "tutored": tutored.astype(int),
            "passed": passed.astype(int),
        }
    )

# --- module 04 (assignment, second edition) ---
#: The numeric columns of :func:`make_air_quality`, in order: the features of its ``alert`` model.
AIR_FEATURES = ("temperature", "humidity", "wind", "traffic", "no2", "pm25")


def make_air_quality(n: int = 600, seed: int = 0) -> pd.DataFrame:
    """Synthetic daily readings of four air-quality stations, with three kinds of missing values.

    Columns: ``station`` ("airport", "centre", "harbour", "park", of unequal sizes), ``season``
    ("summer" or "winter"), ``temperature`` in degrees Celsius, ``humidity`` in percent, ``wind``
    in m/s, ``traffic`` in thousands of vehicles per hour, ``no2`` and ``pm25`` (nitrogen dioxide
    and fine particles) in micrograms per cubic metre, and ``alert`` (1 = a pollution alert was
    issued the next day; its log-odds are ``-6 + 0.28 * pm25 - 0.15 * wind``).

    Known missingness: ``humidity`` loses about 6 % of its values completely at random; ``no2``
    loses 25 % at the harbour station and 4 % elsewhere (missing at random given the station);
    ``pm25`` is lost more often the higher it is (the sensor saturates: missing not at random,
    about 8 %), so a missing ``pm25`` is itself a sign of an alert.
    """
    rng = np.random.default_rng(seed)
    stations = np.array(["airport", "centre", "harbour", "park"])
    station = stations[rng.choice(4, size=n, p=[0.2, 0.35, 0.3, 0.15])]
    season = np.where(rng.random(n) < 0.45, "winter", "summer")
    winter = season == "winter"
    temperature = np.round(np.where(winter, 4.0, 19.0) + rng.normal(0, 4.0, n), 1)
    humidity = np.round(np.clip(rng.normal(np.where(winter, 82, 64), 9, n), 20, 100), 0)
    wind = np.round(rng.gamma(2.2, 1.6, n), 1)
    level = {"airport": 2.2, "centre": 3.4, "harbour": 1.6, "park": 0.8}
    traffic = np.round(pd.Series(station).map(level).to_numpy() * rng.lognormal(0, 0.25, n), 2)
    no2 = np.round(np.clip(8 + 9.0 * traffic - 1.2 * wind + rng.normal(0, 5, n), 2, None), 1)
    pm25 = 6 + 2.0 * traffic + 7.0 * winter - wind + 0.1 * (humidity - 70) + rng.gamma(2.0, 2.5, n)
    pm25 = np.round(np.clip(pm25, 1, None), 1)
    logit = -6.0 + 0.28 * pm25 - 0.15 * wind
    alert = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    humidity = np.where(rng.random(n) < 0.06, np.nan, humidity)
    no2 = np.where(rng.random(n) < np.where(station == "harbour", 0.25, 0.04), np.nan, no2)
    rank = pd.Series(pm25).rank(pct=True).to_numpy()
    pm25 = np.where(rng.random(n) < 0.45 * rank**4, np.nan, pm25)
    return pd.DataFrame(
        {
            "station": station,
            "season": season,
            "temperature": temperature,
            "humidity": humidity,
            "wind": wind,
            "traffic": traffic,
            "no2": no2,
            "pm25": pm25,
            "alert": alert,
        }
    )


# --- module 07 ---
#: Columns of :func:`make_bike_rentals`, in order.
BIKE_FEATURES = ("temp", "humidity", "wind", "feels_like", "workday", "day_of_month")


def make_bike_rentals(n: int = 800, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Hourly bike rentals with a known, partly interacting truth, as ``(X, y)`` arrays.

    Columns (in :data:`BIKE_FEATURES` order): ``temp``, air temperature in °C, uniform on
    [0, 32]; ``humidity``, relative humidity in %, uniform on [25, 95]; ``wind``, wind speed in
    km/h, gamma-distributed (shape 2, scale 6) and capped at 45, so right-skewed; ``feels_like``,
    the felt temperature in °C, ``temp`` plus normal noise of standard deviation 1 °C (a sensor
    reading of almost the same quantity, correlation about 0.99 with ``temp``); ``workday``, 1 on
    working days (probability 0.7), else 0; ``day_of_month``, an integer 1 to 28 with no effect.

    ``y`` is the number of bikes rented in the hour,
    ``150 + 8 temp - 0.2 (humidity - 60)(temp - 16) - 3 wind + 40 workday + e`` with
    ``e ~ N(0, 15²)``: temperature and humidity interact (humid heat discourages cycling; averaged
    over temperature, humidity's own effect is zero because the temperature is centred at its
    mean 16), wind and workday act additively, ``feels_like`` and ``day_of_month`` have no effect
    of their own. Raises nothing; ``n`` must be a positive int.
    """
    rng = np.random.default_rng(seed)
    temp = rng.uniform(0.0, 32.0, n)
    humidity = rng.uniform(25.0, 95.0, n)
    wind = np.minimum(rng.gamma(2.0, 6.0, n), 45.0)
    feels_like = temp + rng.normal(0.0, 1.0, n)
    workday = (rng.random(n) < 0.7).astype(float)
    day = rng.integers(1, 29, n).astype(float)
    X = np.column_stack([temp, humidity, wind, feels_like, workday, day])
    y = (150.0 + 8.0 * temp - 0.2 * (humidity - 60.0) * (temp - 16.0) - 3.0 * wind
         + 40.0 * workday + rng.normal(0.0, 15.0, n))  # fmt: skip
    return X, y


# --- module 08 ---
#: Columns of :func:`make_field_trials`; the target does not depend on :data:`CROP_NOISE_FEATURES`.
CROP_FEATURES = ("rain_mm", "temperature_c", "nitrogen_kg", "soil_ph", "slope_deg",
                 "plot_id", "sensor_offset", "weekday")
CROP_NOISE_FEATURES = ("plot_id", "sensor_offset", "weekday")


def make_field_trials(n: int = 1200, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    """A synthetic table of field plots with a known yield formula, as ``(X, y)``.

    Columns (:data:`CROP_FEATURES`): ``rain_mm``, growing-season rain in mm; ``temperature_c``,
    mean temperature in degrees Celsius; ``nitrogen_kg``, fertiliser in kg/ha; ``soil_ph``;
    ``slope_deg``, the field's slope in degrees; and three columns the yield ignores
    (:data:`CROP_NOISE_FEATURES`): ``plot_id`` (an integer label), ``sensor_offset`` (a
    calibration constant) and ``weekday`` (0-6, the day the plot was measured). ``y`` is the
    yield in tonnes per hectare:

        y = 3 + 0.006 (rain - 500) - 0.04 (temperature - 21)^2 + 0.02 nitrogen
            - 0.8 |soil_ph - 6.5| - 0.002 slope + noise (sd 0.3),

    so ``slope_deg`` has a real effect too weak to tell from noise at this size, and the
    temperature effect is U-shaped (peak at 21 degrees).
    """
    rng = np.random.default_rng(seed)
    X = pd.DataFrame({
        "rain_mm": rng.normal(500.0, 120.0, n),
        "temperature_c": rng.normal(21.0, 3.5, n),
        "nitrogen_kg": rng.uniform(0.0, 120.0, n),
        "soil_ph": rng.normal(6.5, 0.6, n),
        "slope_deg": rng.uniform(0.0, 12.0, n),
        "plot_id": rng.integers(1, 1000, n).astype(float),
        "sensor_offset": rng.normal(0.0, 1.0, n),
        "weekday": rng.integers(0, 7, n).astype(float),
    })
    y = (3.0 + 0.006 * (X["rain_mm"] - 500.0) - 0.04 * (X["temperature_c"] - 21.0) ** 2
         + 0.02 * X["nitrogen_kg"] - 0.8 * np.abs(X["soil_ph"] - 6.5) - 0.002 * X["slope_deg"]
         + rng.normal(0.0, 0.3, n))
    return X, y.to_numpy()


#: Columns of :func:`make_applicant_bands`.
BAND_FEATURES = ("income_band", "postcode_band", "tenure_band", "prior_default")


def make_applicant_bands(n: int = 400, seed: int = 0) -> pd.DataFrame:
    """A synthetic population of credit applicants described by coarse bands, as a DataFrame.

    ``income_band`` (0 = low, 1 = middle, 2 = high), ``postcode_band`` (the wealth band of the
    applicant's postcode, 0-2: equal to the income band for about 70% of applicants, otherwise
    drawn at random, so the two are strongly correlated), ``tenure_band`` (years at the current
    employer, 0-2, independent of the rest) and ``prior_default`` (0/1, more frequent in the low
    income band). All columns are integers, so the conditional distribution of the other columns
    given any combination of values can be read off the rows that share it.
    """
    rng = np.random.default_rng(seed)
    income = rng.choice(3, size=n, p=[0.35, 0.4, 0.25])
    postcode = np.where(rng.random(n) < 0.7, income, rng.integers(0, 3, n))
    tenure = rng.integers(0, 3, n)
    default = (rng.random(n) < np.array([0.3, 0.12, 0.05])[income]).astype(int)
    return pd.DataFrame({"income_band": income, "postcode_band": postcode,
                         "tenure_band": tenure, "prior_default": default})


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


# --- module 05 (edition branch) ---
#: Ground truth of :func:`make_card_fraud`: the log-odds of fraud are
#: ``intercept + log_amount * log(amount / 40) + night * (hour < 6) + km_from_home * km_from_home
#: + tx_last_hour * tx_last_hour + foreign * foreign``.
CARD_FRAUD_TRUE_LOGIT = {
    "intercept": -6.0,
    "log_amount": 1.2,
    "night": 1.8,
    "km_from_home": 0.06,
    "tx_last_hour": 1.0,
    "foreign": 2.0,
}


def make_card_fraud(n: int = 3000, seed: int = 0) -> tuple[pd.DataFrame, pd.Series]:
    """Synthetic card transactions with a rare, known fraud risk (about 5-6 % frauds).

    Columns: ``amount`` in dollars (log-normal, median about 37), ``hour`` of the day (0-23),
    ``km_from_home`` (kilometres between the shop and the card holder's home), ``tx_last_hour``
    (a count of the card's other transactions in the last hour) and ``foreign`` (1 for a foreign
    shop). The target ``fraud`` (1 = fraud) is drawn from the logistic model in
    :data:`CARD_FRAUD_TRUE_LOGIT`, so every row's true probability of fraud is known. The model is
    not linear in ``amount`` and ``hour`` (it uses log(amount) and a night flag), so a logistic
    regression on the raw columns is slightly misspecified.

    Returns ``(X, y)``: a DataFrame of 5 features and a Series named ``fraud``.
    """
    rng = np.random.default_rng(seed)
    amount = np.round(np.exp(rng.normal(3.6, 1.0, n)), 2)
    hour = rng.integers(0, 24, n)
    km = np.round(rng.exponential(12.0, n), 1)
    recent = rng.poisson(0.6, n)
    foreign = (rng.random(n) < 0.08).astype(int)
    t = CARD_FRAUD_TRUE_LOGIT
    logit = (
        t["intercept"]
        + t["log_amount"] * np.log(amount / 40)
        + t["night"] * (hour < 6)
        + t["km_from_home"] * km
        + t["tx_last_hour"] * recent
        + t["foreign"] * foreign
    )
    y = (rng.random(n) < 1.0 / (1.0 + np.exp(-logit))).astype(int)
    X = pd.DataFrame(
        {"amount": amount, "hour": hour, "km_from_home": km, "tx_last_hour": recent,
         "foreign": foreign}
    )
    return X, pd.Series(y, name="fraud")
