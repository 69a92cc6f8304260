"""The mutant catalogue of an assignment (``solutions/<aid>/mutants.yml``): plausible wrong
answers, each replacing one solution region, that ``grader verify`` proves lose points and that
``grader release`` runs to precompute the offline checks' named feedback.

See ``docs/authoring.md`` ("Mutant catalogue") for the format.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import yaml

from .config import Course, UserError
from .notebooks import nbgrader_meta

__all__ = ["MIN_MUTANTS_PER_QUESTION", "Mutant", "answer_cells", "load_mutants", "question_of"]

MIN_MUTANTS_PER_QUESTION = 3
_SAFE = re.compile(r"[^A-Za-z0-9_.-]+")


@dataclass
class Mutant:
    id: str
    cell: str
    code: str
    why: str = ""
    expect: str | None = None

    @property
    def student_id(self) -> str:
        return "mutant-" + _SAFE.sub("-", self.id)[:80]


def load_mutants(course: Course, aid: str) -> list[Mutant]:
    path = course.solutions / aid / "mutants.yml"
    if not path.exists():
        raise UserError(f"solutions/{aid}/mutants.yml is missing; catalogue at least {MIN_MUTANTS_PER_QUESTION} wrong answers per question")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or []
    except yaml.YAMLError as exc:
        raise UserError(f"solutions/{aid}/mutants.yml is not valid YAML ({str(exc).splitlines()[0]})") from None
    if not isinstance(data, list):
        raise UserError(f"solutions/{aid}/mutants.yml must be a list of mutants (- id: ..., cell: ..., code: ...)")
    mutants, seen = [], set()
    for i, item in enumerate(data, 1):
        if not isinstance(item, dict) or not {"id", "cell", "code"} <= set(item):
            raise UserError(f"solutions/{aid}/mutants.yml: entry {i} needs id, cell and code")
        if item["id"] in seen:
            raise UserError(f"solutions/{aid}/mutants.yml: duplicate mutant id {item['id']!r}")
        seen.add(item["id"])
        mutants.append(Mutant(str(item["id"]), str(item["cell"]), str(item["code"]), str(item.get("why", "")), item.get("expect")))
    return mutants


def answer_cells(nb) -> list[str]:
    """grade_ids of the autograded answer cells (solution code cells that are not graded)."""
    return [
        nbgrader_meta(c)["grade_id"]
        for c in nb.cells
        if c.cell_type == "code" and nbgrader_meta(c).get("solution") and not nbgrader_meta(c).get("grade")
    ]


def question_of(answer_id: str) -> str:
    """``q3_answer`` -> ``q3_``: the prefix shared by a question's answer and test cells."""
    return answer_id.split("_")[0] + "_"
