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


# --- draw_separating / draw_covering: fresh inputs that separate every named mistake ----------
def _case_draw(g):
    return int(g.integers(0, 10))


def _case_outcomes(x):
    """The right answer is x; the mistakes are x mod 3 and |x - 4|: both differ from x unless
    x is 0, 1, 2 (mod 3 equals x) or 2 (|x - 4| equals x)."""
    return x, {"mod3": x % 3, "dist4": abs(x - 4)}


def test_draw_separating_returns_the_first_separating_case():
    draws = []

    def draw(g):
        draws.append(_case_draw(g))
        return draws[-1]

    got = core.draw_separating(draw, _case_outcomes, np.random.default_rng(3), tries=50)
    assert got >= 3 and got % 3 != got and abs(got - 4) != got
    assert all(d < 3 for d in draws[:-1]) and draws[-1] == got  # stopped at the first one


def test_draw_separating_is_deterministic_for_a_seed_and_uses_the_seed():
    cases = {seed: core.draw_separating(_case_draw, _case_outcomes, np.random.default_rng(seed),
                                        tries=50) for seed in range(30)}
    again = {seed: core.draw_separating(_case_draw, _case_outcomes, np.random.default_rng(seed),
                                        tries=50) for seed in range(30)}
    assert cases == again
    assert len(set(cases.values())) > 1


def test_draw_separating_is_bounded_and_falls_back():
    calls = []

    def draw(g):
        calls.append(1)
        return 1  # never separated: 1 % 3 == 1

    rng = np.random.default_rng(0)
    assert core.draw_separating(draw, _case_outcomes, rng, tries=5, fallback=lambda: 7) == 7
    assert len(calls) == 5
    assert core.draw_separating(lambda g: int(g.integers(0, 2)), _case_outcomes, rng, tries=3,
                                fallback="last") in (0, 1)
    with pytest.raises(core.SeparationError, match="4 draws"):
        core.draw_separating(draw, _case_outcomes, rng, tries=4)
    assert len(calls) == 9
    with pytest.raises(ValueError, match="tries"):
        core.draw_separating(draw, _case_outcomes, rng, tries=0)


def test_draw_separating_redraws_unusable_cases_and_takes_the_callers_predicate():
    # None from outcomes: unusable whatever the mistakes (here: odd numbers)
    got = core.draw_separating(
        lambda g: int(g.integers(0, 40)),
        lambda x: None if x % 2 else (x, [x + 1]), np.random.default_rng(1), tries=50)
    assert got % 2 == 0
    # a predicate for another kind of answer: a set of chosen items
    got = core.draw_separating(
        lambda g: frozenset(int(v) for v in g.choice(5, 2, replace=False)),
        lambda s: (s, [frozenset({0, 1})]), np.random.default_rng(2), tries=50,
        separated=lambda right, wrong: right != wrong)
    assert got != frozenset({0, 1})


def test_draw_separating_never_sees_the_answer():
    import inspect

    # nothing of the student's reaches it: its parameters are the draw, the outcomes, the
    # generator and settings only, so every answer meets the same inputs for a seed
    params = set(inspect.signature(core.draw_separating).parameters)
    assert params == {"draw", "outcomes", "rng", "separated", "tries", "fallback"}
    assert set(inspect.signature(core.draw_covering).parameters) == {
        "draw", "outcomes", "rng", "separated", "tries", "at_least", "deferred", "fallback"}


def test_differs_tolerance_shapes_and_nan():
    assert not core.differs(1.0, 1.0 + 5e-4)
    assert core.differs(1.0, 1.0 + 2e-3)
    assert not core.differs([100.0, 0.0], [100.05, 0.0])  # relative to max |right|
    assert core.differs([1.0, 2.0], [1.0, 2.0, 3.0])
    assert core.differs(1.0, math.nan) and not core.differs(math.nan, math.nan)
    assert not core.differs(math.inf, math.inf) and core.differs(math.inf, -math.inf)


def test_differs_survives_a_patched_numpy(monkeypatch):
    monkeypatch.setattr(np, "allclose", lambda *a, **k: True)
    monkeypatch.setattr(np, "abs", lambda x: 0 * x)
    assert core.differs([1.0, 2.0], [1.0, 3.0])


def test_draw_covering_keeps_cases_until_every_mistake_is_separated_by_one():
    def outcomes(x):
        return x, {"zero": 0, "x-mod-2": x - x % 2, "rare": x if x != 7 else -1}

    cases = core.draw_covering(lambda g: int(g.integers(0, 10)), outcomes,
                               np.random.default_rng(5), tries=30, at_least=2,
                               deferred=["rare"], fallback=lambda pending: [("fb", pending)])
    drawn = [c for c in cases if not isinstance(c, tuple)]
    assert len(drawn) >= 2
    assert any(x != 0 for x in drawn) and any(x % 2 for x in drawn)
    if 7 not in drawn:  # the deferred mistake never drives a draw: its fallback comes last
        assert cases[-1] == ("fb", {"rare"})


def test_draw_covering_falls_back_for_what_the_draws_left():
    seen = []
    cases = core.draw_covering(lambda g: 0, lambda x: (x, {"a": 0, "b": 1}),
                               np.random.default_rng(0), tries=3,
                               fallback=lambda pending: seen.append(set(pending)) or ["designed"])
    # the first draw is kept (it separates "b"); "a" is never separated: the designed case
    assert cases == [0, "designed"]
    assert seen == [{"a"}]
    # nothing left: no fallback
    assert core.draw_covering(lambda g: 3, lambda x: (x, {"b": 1}), np.random.default_rng(0),
                              fallback=lambda pending: 1 / 0) == [3]


def test_separates_says_whether_one_case_separates_every_mistake():
    assert core.separates(_case_outcomes(5))
    assert not core.separates(_case_outcomes(2))  # 2 % 3 == 2
    assert not core.separates(None)
    assert core.separates((1.0, [1.5]), lambda right, wrong: abs(wrong - right) > 0.1)
    assert not core.separates((1.0, [1.05]), lambda right, wrong: abs(wrong - right) > 0.1)
