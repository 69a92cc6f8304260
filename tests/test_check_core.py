"""The check library's core: tiers of feedback, hostile answer objects, no stderr."""

import math

import numpy as np
import pandas as pd
import pytest

from grader.checks import Incorrect, NotAttempted, Question, call, core, question
from grader.checks.values import (
    allclose,
    as_array,
    as_dict,
    as_float,
    as_int,
    as_str,
    as_tuple,
    close,
    show,
)


class LiesAboutEquality(float):
    def __eq__(self, other):
        return True

    def __sub__(self, other):
        return 0.0

    def __float__(self):
        return 0.5


class EqualsEverything:
    def __eq__(self, other):
        return True

    __hash__ = object.__hash__


@question("q9")
class Double(Question):
    title = "double a number"
    names = ("double",)
    hints = ("Multiply.", "By two.")

    def verify(self, double):
        got = as_float(call(double, "double", 3.0), "double(3.0)")
        if close(got, 3.0):
            raise Incorrect(f"`double(3.0)` returned {show(got)}: it returns its input unchanged (forgot to multiply).")
        if not close(got, 6.0):
            raise Incorrect(f"`double(3.0)` returned {show(got)}, which is not twice 3.0.")


@pytest.fixture()
def ns(monkeypatch):
    space = {}
    monkeypatch.setattr(core, "_user_namespace", lambda: space)
    return space


def test_not_attempted_when_name_missing(ns):
    with pytest.raises(NotAttempted, match="not defined yet"):
        Double.check()


def test_not_attempted_for_placeholder_and_missing_return(ns):
    ns["double"] = ...
    with pytest.raises(NotAttempted, match="placeholder"):
        Double.check()
    ns["double"] = lambda x: None
    with pytest.raises(NotAttempted, match="forget a `return`"):
        Double.check()


def test_not_implemented_reads_as_not_attempted(ns):
    def double(x):
        raise NotImplementedError()

    ns["double"] = double
    with pytest.raises(NotAttempted, match="NotImplementedError"):
        Double.check()


def test_student_exception_becomes_one_line_feedback(ns):
    ns["double"] = lambda x: x / 0
    with pytest.raises(Incorrect, match=r"raised ZeroDivisionError"):
        Double.check()


def test_named_misconception_then_wrong_value(ns):
    ns["double"] = lambda x: x
    with pytest.raises(Incorrect, match="forgot to multiply"):
        Double.check()
    ns["double"] = lambda x: x + 1
    with pytest.raises(Incorrect, match="returned 4") as err:
        Double.check()
    assert "6" not in str(err.value)  # the expected value is never shown


def test_correct_prints_and_hints_are_tiered(ns, capsys):
    ns["double"] = lambda x: 2 * x
    Double.check()
    Double.hint()
    Double.hint(2)
    Double.hint(7)
    out = capsys.readouterr()
    assert "Correct: q9" in out.out
    assert "Hint 1/2: Multiply.  (For another hint, call q9.hint(2).)" in out.out
    assert out.out.count("Hint 2/2: By two.") == 2
    assert out.err == ""


def test_student_stderr_and_warnings_are_silenced(ns, capsys):
    import sys
    import warnings

    def double(x):
        print("debug", file=sys.stderr)
        warnings.warn("noisy", UserWarning, stacklevel=2)
        return 2 * x

    ns["double"] = double
    Double.check()
    assert capsys.readouterr().err == ""


def test_hostile_numbers_are_rejected_not_trusted():
    with pytest.raises(Incorrect, match="LiesAboutEquality"):
        as_float(LiesAboutEquality(1.0), "x")
    with pytest.raises(Incorrect, match="single number"):
        as_float(EqualsEverything(), "x")
    with pytest.raises(Incorrect, match="boolean"):
        as_float(True, "x")
    with pytest.raises(Incorrect, match="finite"):
        as_float(float("nan"), "x")


def test_plain_numbers_convert():
    assert as_float(np.float32(0.5), "x") == 0.5
    assert type(as_float(np.int64(3), "x")) is float
    assert as_float(np.array(2.5), "x") == 2.5
    assert as_int(np.int32(4), "n") == 4
    with pytest.raises(Incorrect, match="whole number"):
        as_int(4.0, "n")
    assert as_str("a", "s") == "a"
    with pytest.raises(Incorrect, match="string"):
        as_str(b"a", "s")


def test_arrays_are_copied_to_plain_ndarrays():
    class Sneaky(np.ndarray):
        def __eq__(self, other):
            return np.ones(1, dtype=bool)

    with pytest.raises(Incorrect, match="Sneaky"):
        as_array(np.zeros(3).view(Sneaky), "a")
    arr = as_array(pd.Series([1, 2, 3]), "a")
    assert type(arr) is np.ndarray and arr.dtype == float
    assert as_array([1, 2], "a", shape=(2,)).tolist() == [1.0, 2.0]
    with pytest.raises(Incorrect, match="shape"):
        as_array([1, 2], "a", shape=(3,))
    with pytest.raises(Incorrect, match="finite"):
        as_array([1, math.nan], "a")
    with pytest.raises(Incorrect, match="NaN"):
        as_array(np.array([1, math.nan]), "a")


def test_tuples_and_dicts():
    assert as_tuple([1, 2], "f", 2) == (1, 2)
    with pytest.raises(Incorrect, match="return 3 values"):
        as_tuple((1, 2), "f", 3)
    with pytest.raises(Incorrect, match="tuple"):
        as_tuple(np.array([1, 2]), "f", 2)
    with pytest.raises(Incorrect, match="dict"):
        as_dict([("a", 1)], "d")


def test_comparisons_survive_monkeypatching(monkeypatch):
    monkeypatch.setattr(math, "isclose", lambda *a, **k: True)
    monkeypatch.setattr(np, "allclose", lambda *a, **k: True)
    assert not close(1.0, 2.0)
    assert not allclose(np.array([1.0]), np.array([2.0]))
    assert allclose(np.array([1.0, 2.0]), np.array([1.0, 2.0 + 1e-12]))


def test_show_survives_a_hostile_repr():
    class Bad:
        def __repr__(self):
            raise RuntimeError("no")

    assert show(Bad()).startswith("<Bad")
    assert show(0.123456789) == "0.1235"
