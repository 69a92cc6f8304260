"""Findings of a red-team review of judgement outside the kernel (issue 10), each a test of its kind.

A student can put any JSON in the collected output of a test cell (up to ``wire.MAX_BYTES``), so
everything below is a forged payload that the trusted grader decodes and judges.

1. A tag whose ``dtype`` is not a string (``{"t": "np.int", "dtype": []}``) raised TypeError out
   of ``wire.decode``: the judge let it through and the trusted process failed on the submission.
   The dtype is now type-checked, and ``decode`` turns any remaining slip into one ``WireError``.
2. A str array's *declared* width sized the array: 1 kB of ``<U999999`` empty strings made the
   grader allocate gigabytes. The declared size is now bounded.
3. Decoding cost was bounded by the element count only, but some elements cost milliseconds of
   pandas or Python each: thousands of column conversions ("category"), of empty Series, of data
   callables, or one formula of 300 000 nodes (about 100 s to evaluate on 2 000 rows) kept the
   grader busy for minutes per cell. Each now costs its share of the budget; formulas are capped.
4. ``call_watching_rng`` believed a ``touched_global_rng`` attribute on any function, so in a
   kernel-side check (stock ``nbgrader autograde``, self-learners) a student's function could
   declare that it left NumPy's global generator alone. Only the judge's replay may say so now.
5. Opaque objects' type names were kept as classes for the life of the grading process.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from conftest import ROOT

from grader import judging
from grader.checks import wire
from grader.checks.core import call_watching_rng
from grader.config import Course

AID = "05-evaluation-metrics"


@pytest.fixture(scope="module")
def q1():
    return judging.load_key(Course(ROOT), AID).QUESTIONS["q1"]


def _every_call_returns(q, result: dict) -> dict:
    _, recorded = judging.record(q, 5, hidden=True)
    return {"v": 1, "names": {"confusion_counts": {"callable": True}},
            "calls": [result] * len(recorded)}


def _int_list(n: int) -> dict:
    return {"t": "list", "v": [{"t": "int", "v": str(i)} for i in range(n)]}


@pytest.mark.parametrize("value", [
    {"t": "np.int", "dtype": [], "v": "1"},
    {"t": "np.float", "dtype": {}, "v": 1.0},
    {"t": "list", "v": [{"t": "np.int", "dtype": ["int64"], "v": "1"}]},
])
def test_unhashable_dtype_fails_the_cell_not_the_grader(q1, value):
    with pytest.raises(wire.WireError):
        wire.decode(value)
    verdict = judging.judge(q1, 5, _every_call_returns(q1, {"ok": value}), hidden=True)
    assert not verdict.ok and "malformed" in verdict.message


def test_declared_str_width_is_bounded():
    bomb = {"t": "ndarray", "dtype": "<U999999", "shape": [64], "v": [""] * 64}  # 256 MB
    with pytest.raises(wire.WireError):
        wire.decode(bomb)
    honest = np.array(["setosa", "versicolor"] * 500)
    assert np.array_equal(wire.loads(wire.dumps(honest)), honest)


def test_frame_column_conversions_are_bounded():
    n = 2_000_000 // 5000 + 1  # one conversion more than the budget allows
    wide = {"t": "frame", "values": {"t": "ndarray", "dtype": "float64", "shape": [1, n], "v": [1] * n},
            "index": _int_list(1), "columns": _int_list(n), "dtypes": ["category"] * n}
    with pytest.raises(wire.WireError):
        wire.decode(wide)
    honest = pd.DataFrame({"age": [30, 41], "income": [1.5, 2.0], "sex": pd.Categorical(["f", "m"]),
                           "ok": [True, False]})
    back = wire.loads(wire.dumps(honest))
    assert back.equals(honest) and list(back.dtypes) == list(honest.dtypes)


@pytest.mark.parametrize("item, n", [
    ({"t": "series", "values": {"t": "ndarray", "dtype": "int64", "shape": [0], "v": []},
      "index": {"t": "list", "v": []}, "name": {"t": "none"}}, 4_100),
    ({"t": "frame", "values": {"t": "ndarray", "dtype": "int64", "shape": [0, 0], "v": []},
      "index": {"t": "list", "v": []}, "columns": {"t": "list", "v": []}, "dtypes": []}, 4_100),
    ({"t": "dc", "kind": "m03.CurvedFunction",
      "v": {"t": "list", "v": [{"t": "float", "v": 0.5}] * 2}}, 101),
])
def test_costly_objects_count_against_the_budget(item, n):
    with pytest.raises(wire.WireError, match="too many"):
        wire.decode({"t": "list", "v": [item] * n})
    wire.decode({"t": "list", "v": [item] * 50})  # a few are fine


def test_formula_size_is_capped():
    wide = {"t": "formula", "expr": ["+"] + [["x", 0]] * 10_001,
            "text": "", "classifier": False}
    with pytest.raises(wire.WireError):
        wire.decode(wide)
    f = wire.Formula(["+", ["lin", [1.0] * 50, 0.0], ["tanh", ["x", 0]]], "honest")
    assert wire.loads(wire.dumps(f)) == f


def test_decode_raises_only_wire_errors_on_scrambled_tags():
    odd = [[], {}, [[]], 1e300, "x" * 50, None, True]
    keys = ["dtype", "v", "shape", "kind", "class", "name", "index", "columns", "dtypes", "expr"]
    tags = ["np.int", "np.float", "ndarray", "series", "frame", "formula", "fn", "est", "dc", "obj",
            "fitted", "recipe"]
    for t in tags:
        for k in keys:
            for v in odd:
                try:
                    wire.decode({"t": t, k: v, "v": v})
                except wire.WireError:
                    pass
    assert json.dumps(odd)  # reached: nothing but WireError escaped


def test_a_students_function_cannot_declare_the_global_rng_untouched():
    def explain(seed):
        np.random.seed(seed)  # the side effect the check looks for
        return [("x0", 1.0)]

    explain.touched_global_rng = False
    state = np.random.get_state()
    try:
        _, touched = call_watching_rng(explain, "explain", 3)
    finally:
        np.random.set_state(state)
    assert touched


def test_opaque_type_names_do_not_pile_up_in_the_grader():
    """5. Each new opaque type name made a class that the grader kept for good: one forged cell of
    80 000 names held about 200 MB until the batch ended, and it took seconds to decode."""
    names = {"t": "list", "v": [{"t": "obj", "type": f"Junk{i}", "repr": ""} for i in range(3000)]}
    wire.decode(names)
    assert len(wire._STANDINS) <= 1024
    assert type(wire.decode({"t": "obj", "type": "LinearRegression", "repr": "LinearRegression()"})
                ).__name__ == "LinearRegression"  # feedback still names the type
    with pytest.raises(wire.WireError, match="too many"):
        wire.decode({"t": "list", "v": [{"t": "obj", "type": "x", "repr": ""}] * 20_001})
