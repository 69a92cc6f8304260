"""The seeded datasets: deterministic, offline, with the ground truth they document."""

import numpy as np
import pandas as pd

from grader import datasets


def test_readmission_is_deterministic_and_seeded():
    a, ya = datasets.make_readmission(n=500, seed=3)
    b, yb = datasets.make_readmission(n=500, seed=3)
    c, _ = datasets.make_readmission(n=500, seed=4)
    pd.testing.assert_frame_equal(a, b)
    pd.testing.assert_series_equal(ya, yb)
    assert not a.equals(c)


def test_readmission_leak_is_recorded_after_the_outcome():
    X, y = datasets.make_readmission(n=4000, seed=0)
    billed = X["followup_billing"]
    # large bills almost only for readmitted patients: the column encodes the label
    assert billed[y == 1].median() > 1000 > billed[y == 0].quantile(0.95)
    # the legitimate features follow the documented logistic ground truth
    assert 0.25 < y.mean() < 0.55
    more_prior = y[X["prior_admissions"] >= 3].mean()
    fewer_prior = y[X["prior_admissions"] == 0].mean()
    assert more_prior > fewer_prior + 0.3


def test_breast_cancer_split_matches_the_course_reference():
    s = datasets.breast_cancer_split()
    assert s.X_test.shape == (171, 30)
    assert set(s.y_test.unique()) == {0, 1}
    # label 0 is malignant: the minority class
    assert (s.y_train == 0).mean() < 0.5
    X_train, X_test, y_train, y_test = s
    assert len(X_train) + len(X_test) == 569


def test_diabetes_raw_is_in_original_units():
    X, y = datasets.diabetes_raw()
    assert X["age"].between(18, 90).all()
    assert np.isclose(y.mean(), 152.13, atol=0.01)


def test_make_credit_has_the_documented_groups_biases_and_proxy():
    base = datasets.make_credit(n=20000, seed=0)
    assert list(base.columns) == ["income", "savings", "debt_ratio", "late_payments", "group", "repaid"]
    assert 0.37 < base["group"].mean() < 0.43
    # an inequality before any model: group 1 earns less and repays less often
    by = base.groupby("group")
    assert by["income"].mean()[1] < by["income"].mean()[0] - 8
    assert by["repaid"].mean()[1] < by["repaid"].mean()[0] - 0.1
    # the same seed with label bias: group 1's recorded repayment drops by about the bias
    biased = datasets.make_credit(n=20000, seed=0, label_bias=-0.1)
    drop = base.loc[base.group == 1, "repaid"].mean() - biased.loc[biased.group == 1, "repaid"].mean()
    assert 0.07 < drop < 0.13
    assert (biased.loc[biased.group == 0, "repaid"] == base.loc[base.group == 0, "repaid"]).all()
    # measurement bias scales group 1's reported income only
    under = datasets.make_credit(n=2000, seed=1, reported_income_bias=-0.2)
    true = datasets.make_credit(n=2000, seed=1)
    g1 = true["group"] == 1
    np.testing.assert_allclose(under.loc[g1, "income"], 0.8 * true.loc[g1, "income"])
    np.testing.assert_allclose(under.loc[~g1, "income"], true.loc[~g1, "income"])
    # the proxy is associated with the group and not with repayment within a group
    proxy = datasets.make_credit(n=20000, seed=0, include_proxy=True)
    assert proxy.groupby("group")["neighbourhood"].mean().diff().iloc[-1] > 1.3
    within = proxy[proxy.group == 0]
    assert abs(np.corrcoef(within["neighbourhood"], within["repaid"])[0, 1]) < 0.03


def test_make_stream_has_the_documented_change_points():
    stream = datasets.make_stream(seed=0)
    assert list(stream.columns) == ["batch", *datasets.STREAM_FEATURES, "y"]
    assert len(stream) == 20 * 500 and (stream.groupby("batch").size() == 500).all()
    pd.testing.assert_frame_equal(stream, datasets.make_stream(seed=0))
    # the same seed without shifts: identical draws, so every difference is one of the two shifts
    stable = datasets.make_stream(seed=0, covariate_shift_at=None, concept_shift_at=None)
    moved = stream["x0"] - stable["x0"]
    np.testing.assert_allclose(moved, np.where(stream["batch"] >= 6, 1.0, 0.0), atol=1e-12)
    others = [f for f in datasets.STREAM_FEATURES if f != "x0"]
    pd.testing.assert_frame_equal(stream[others], stable[others])
    # labels differ only where p(y | x) differs: from the covariate shift (through x0) on
    assert (stream.loc[stream["batch"] < 6, "y"] == stable.loc[stable["batch"] < 6, "y"]).all()
    # the concept shift at 12 flips the sign of x1's effect: the x1-y association reverses
    corr = {b: np.corrcoef(g["x1"], g["y"])[0, 1] for b, g in stream.groupby("batch")}
    assert all(corr[b] > 0.15 for b in range(12)) and all(corr[b] < -0.15 for b in range(12, 20))
    # x1 itself does not move (concept, not covariate), and x0's effect keeps its sign
    assert abs(stream.loc[stream["batch"] >= 12, "x1"].mean()) < 0.05
    late = stream[stream["batch"] >= 12]
    assert np.corrcoef(late["x0"], late["y"])[0, 1] > 0.15
    # the change points follow the arguments
    early = datasets.make_stream(n_batches=8, covariate_shift_at=2, concept_shift_at=5, seed=3)
    by = early.groupby("batch")
    assert by["x0"].mean()[:2].abs().max() < 0.2 and by["x0"].mean()[2:].min() > 0.8
    c = {b: np.corrcoef(g["x1"], g["y"])[0, 1] for b, g in by}
    assert c[4] > 0.15 and c[5] < -0.15
