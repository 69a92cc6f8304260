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
