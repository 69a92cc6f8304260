"""What grading a submission produces: :class:`SubmissionResult` (one row of ``grades.csv``)
and :class:`CellResult` (one graded test or written-answer cell).

A module of their own so that the grading engine (:mod:`grader.grading`), the feedback pages
(:mod:`grader.feedback`), the exports and ``grader verify`` can all use them without importing
each other.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from .safetext import clean_flags, csv_cell

__all__ = ["CSV_COLUMNS", "CellResult", "SubmissionResult"]

#: The columns of ``grades.csv``, in order (the CLI contract).
CSV_COLUMNS = [
    "student_id",
    "assignment",
    "score",
    "max_score",
    "status",
    "flags",
    "reason",
    "needs_manual_grade",
    "seconds",
    "edition",
]

@dataclass
class CellResult:
    grade_id: str
    points: float | None
    max_points: float
    message: str | None = None


@dataclass
class SubmissionResult:
    student_id: str
    assignment: str
    status: str  # graded | error | missing
    score: float = 0.0
    max_score: float = 0.0
    flags: list[str] = field(default_factory=list)
    reason: str = ""
    needs_manual_grade: bool = False
    seconds: float = 0.0
    cells: list[CellResult] = field(default_factory=list)
    graded_notebooks: list[Path] = field(default_factory=list)
    #: the edition graded against (grader/editions.py); "" for an assignment with one edition
    edition: str = ""

    @property
    def auto_score(self) -> float:
        return sum(c.points or 0.0 for c in self.cells)

    def row(self) -> dict[str, str]:
        """The ``grades.csv`` row: every cell one clean line, formula prefixes neutralised
        (:func:`grader.safetext.csv_cell`); never raises."""
        def number(value: object, fmt: str) -> str:
            try:
                return format(float(value), fmt)
            except (TypeError, ValueError, OverflowError):
                return "0"

        flags = self.flags if isinstance(self.flags, list) else []
        return {
            "student_id": csv_cell(self.student_id, 100),
            "assignment": csv_cell(self.assignment, 100),
            "score": number(self.score, "g"),
            "max_score": number(self.max_score, "g"),
            "status": csv_cell(self.status, 20),
            "flags": csv_cell(";".join(clean_flags(flags, strict=False)), 2000),
            "reason": csv_cell(self.reason, 400),
            "needs_manual_grade": "yes" if self.needs_manual_grade else "no",
            "seconds": number(self.seconds, ".1f"),
            "edition": csv_cell(self.edition, 20),
        }
