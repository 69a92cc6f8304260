"""``grader verify --rounds``: a mutant counts as caught only if every round's hidden seeds catch
it (issue 14: 11 q2's hidden test let the raw-units mistake through for about one seed in eleven,
so the grade of a demo student depended on the secret)."""

from __future__ import annotations

from grader.mutants import Mutant
from grader.results import CellResult, SubmissionResult
from grader.verify import Report, _check_mutant, _round_id

MUTANT = Mutant(id="q2-raw", cell="q2_answer", code="", why="raw units", expect="raw units")


def _result(hidden_points: float, message: str = "the penalty was applied in raw units") -> SubmissionResult:
    cells = [CellResult("q2_check", 0.0, 1.0, message), CellResult("q2_hidden", hidden_points, 2.0,
                                                                      None if hidden_points else message)]
    return SubmissionResult("s", "11-x", "graded", score=hidden_points, max_score=3.0, cells=cells)


def test_round_ids_are_distinct_students_so_each_round_draws_other_seeds():
    ids = [_round_id(MUTANT.student_id, r) for r in range(4)]
    assert ids[0] == MUTANT.student_id and len(set(ids)) == 4


def test_a_mutant_caught_in_every_round_counts_once():
    report = Report()
    _check_mutant("11-x", MUTANT, [_result(0.0), _result(0.0), _result(0.0)], 3.0, report)
    assert (report.caught, report.failures) == (1, [])


def test_a_mutant_one_round_lets_through_is_a_failure_naming_that_round():
    report = Report()
    lucky = SubmissionResult("s", "11-x", "graded", score=3.0, max_score=3.0,
                             cells=[CellResult("q2_check", 1.0, 1.0), CellResult("q2_hidden", 2.0, 2.0)])
    _check_mutant("11-x", MUTANT, [_result(0.0), lucky, _result(0.0)], 3.0, report)
    assert report.caught == 0
    assert len(report.failures) == 1 and "round 2 of 3" in report.failures[0]


def test_a_round_whose_feedback_does_not_name_the_mistake_is_a_failure():
    report = Report()
    _check_mutant("11-x", MUTANT, [_result(0.0), _result(0.0, "wrong value")], 3.0, report)
    assert report.caught == 0 and "does not name the mistake" in report.failures[0]
