"""Misconception codes: classifying failed test cells, storing them beside nbgrader's tables."""

from __future__ import annotations

from pathlib import Path

import pytest

from grader.misconceptions import (
    TIERS,
    Mistake,
    catalogue,
    classify,
    describe,
    load,
    store,
)

ROOT = Path(__file__).resolve().parent.parent

M = (
    Mistake("q1-fp-fn-swapped", "q1", "fp and fn swapped", "fp/fn swapped"),
    Mistake("q1-ravel-order", "q1", "ravel order", "ravel()"),
    Mistake("q1-short", "q1", "a generic one", "swapped"),
    Mistake("q2-precision-recall-swapped", "q2", "p/r swapped", "precision and recall are swapped"),
    Mistake("q2-no-expect", "q2", "no expect text", ""),
)


@pytest.mark.parametrize("grade_id, message, code", [
    ("q1_check", "Incorrect: (3, 1, 2, 4): fp/fn swapped, count again", "q1-fp-fn-swapped"),
    ("q1_hidden", "Incorrect: you returned confusion_matrix(...).RAVEL() as is", "q1-ravel-order"),
    # the most specific (longest) expect wins over a shorter one that also matches
    ("q1_check", "Incorrect: FP/FN SWAPPED", "q1-fp-fn-swapped"),
    ("q1_check", "Incorrect: tp and tn are swapped", "q1-short"),
    # only entries of the same question count
    ("q2_check", "Incorrect: fp/fn swapped", "wrong-value"),
    ("q2_check", "Incorrect: precision and recall are swapped: 0.5, 0.25", "q2-precision-recall-swapped"),
    ("q1_check", "NotAttempted: `confusion_counts` is not defined yet.", "not-attempted"),
    ("q1_check", "NotImplementedError: ", "not-attempted"),
    ("q1_check", "Incorrect: `x` should be a single number (a float), but it is a list: [1]", "type-shape"),
    ("q1_check", "Incorrect: `scores` should have shape (5,), but it has shape (4,).", "type-shape"),
    ("q1_check", "Incorrect: `f` should return a tuple of 4 values, but it returned a list", "type-shape"),
    ("q1_check", "Incorrect: `auc` = 0.42 is not the ROC-AUC of malignant", "wrong-value"),
    ("q1_check", "AssertionError: double(3) should be 6", "wrong-value"),
    ("q1_check", "Incorrect: Calling `f([1, 0])` raised ZeroDivisionError: division by zero", "error"),
    ("q1_check", "NameError: name 'confusion_counts' is not defined", "error"),
    ("q1_check", "wrote to stderr (a warning or progress bar), which fails a test cell", "error"),
    ("q1_check", None, "wrong-value"),  # partial credit: no error, fewer points
    ("q1_check", "CellTimeoutError: A cell timed out while it was being executed", "timeout"),
])
def test_classify(grade_id, message, code):
    assert classify(grade_id, message, M) == code


def test_timeout_wins_and_hostile_text_is_bounded():
    assert classify("q1_check", "Incorrect: fp/fn swapped", M, timed_out=True) == "timeout"
    huge = "Incorrect: " + "x" * 10_000_000 + " fp/fn swapped"
    assert classify("q1_check", huge, M) == "wrong-value"  # past the bound: not read
    assert classify("q1_check", "Incorrect", M) == "wrong-value"


def test_describe():
    assert describe("q1-ravel-order", M) == "ravel order"
    assert describe("type-shape", M).startswith("the answer has the wrong type")
    assert set(TIERS) == {"not-attempted", "type-shape", "wrong-value", "error", "timeout"}


def test_every_catalogued_mistake_has_a_unique_code_and_a_text():
    for folder in sorted((ROOT / "solutions").iterdir()):
        entries = catalogue(ROOT / "solutions", folder.name)
        assert entries, folder.name
        codes = [m.code for m in entries]
        assert len(codes) == len(set(codes))
        assert not set(codes) & set(TIERS)
        assert all(m.text and m.question.startswith("q") for m in entries)


def test_each_mutant_message_classifies_as_its_own_id():
    """A message naming a catalogued mistake's expect text gets that mistake's id, everywhere."""
    for folder in sorted((ROOT / "solutions").iterdir()):
        entries = catalogue(ROOT / "solutions", folder.name)
        for m in entries:
            if not m.expect:
                continue
            got = classify(f"{m.question}_check", f"Incorrect: you did it: {m.expect}.", entries)
            other = next(e for e in entries if e.code == got)
            # either this id, or a more specific entry of the same question that contains it
            assert got == m.code or (m.expect.lower() in other.expect.lower() and other.question == m.question)


def test_store_replaces_a_students_rows_sqlite(tmp_path):
    url = f"sqlite:///{tmp_path / 'gb.db'}"
    assert load(url) == []
    store(url, "05", "ada", [("05.ipynb", "q1_check", "q1-ravel-order", "Incorrect: ravel()")])
    store(url, "05", "ben", [("05.ipynb", "q1_check", "wrong-value", "x"), ("05.ipynb", "q2_hidden", "error", "y")])
    store(url, "05", "ada", [("05.ipynb", "q2_check", "type-shape", "z" * 5000)])
    rows = sorted((r["student_id"], r["grade_id"], r["code"], r["question"]) for r in load(url, "05"))
    assert rows == [("ada", "q2_check", "type-shape", "q2"), ("ben", "q1_check", "wrong-value", "q1"),
                    ("ben", "q2_hidden", "error", "q2")]
    assert all(len(r["message"]) <= 500 for r in load(url))
    assert load(url, "other") == []


def test_store_on_postgresql(postgres_server):
    url = postgres_server.create_database("grader_misconceptions")
    store(url, "05", "ada", [("05.ipynb", "q1_check", "q1-ravel-order", "Incorrect: ravel()")])
    store(url, "05", "ada", [("05.ipynb", "q1_hidden", "wrong-value", "m")])
    assert [(r["grade_id"], r["code"]) for r in load(url)] == [("q1_hidden", "wrong-value")]


def test_record_classifies_a_submissions_cells_and_failures_cover_every_test_cell(tmp_path):
    from types import SimpleNamespace

    from grader.config import Course
    from grader.grading import CellResult
    from grader.misconceptions import record, record_failure

    url = f"sqlite:///{tmp_path / 'gb.db'}"
    fixture = Path(__file__).resolve().parent / "fixtures" / "course"
    book = SimpleNamespace(db_url=url, aid="99-toy", course=Course(fixture), notebooks=["99-toy.ipynb"],
                           test_sources={"99-toy.ipynb": {"q1_check": set(), "q1_hidden": set(), "q2_check": set()}})
    record(book, "s1", [
        CellResult("q1_check", 1.0, 1.0, None),  # passed: no row
        CellResult("q1_hidden", 0.0, 2.0, "AssertionError: SECRET_HIDDEN_TEST_MARKER"),  # mutant q1-abs
        CellResult("q2_check", 0.0, 1.0, "CellTimeoutError: A cell timed out"),
    ])
    assert {(r["grade_id"], r["code"]) for r in load(url)} == {("q1_hidden", "q1-abs"), ("q2_check", "timeout")}
    record_failure(book, "s1", "timeout", "the submission ran out of time")
    assert {(r["grade_id"], r["code"]) for r in load(url)} == {
        ("q1_check", "timeout"), ("q1_hidden", "timeout"), ("q2_check", "timeout")}
