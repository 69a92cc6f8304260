"""A reproducible example class: realistic submissions for every released assignment.

Each student is a *profile* (all right, a few classic mistakes, blank, broken file, misnamed
file, nothing submitted...). The wrong answers are drawn, with a fixed seed, from the
assignment's own mutant catalogue, so they are the mistakes real students make and their
expected grades are known. ``grader demo`` and the end-to-end tests grade this class.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

import nbformat

from .config import Course
from .mutants import Mutant, answer_cells, load_mutants
from .notebooks import (
    BEGIN_SOLUTION,
    END_SOLUTION,
    find_cell,
    grade_id,
    nbgrader_meta,
    replace_solution,
)


@dataclass(frozen=True)
class Profile:
    student_id: str
    kind: str  # correct | mistakes | partial | blank | broken | empty | misnamed | absent
    mistakes: int = 0
    written: bool = True


PROFILES = (
    Profile("ada", "correct"),
    Profile("ben", "mistakes", 1),
    Profile("chloe", "mistakes", 2),
    Profile("dev", "mistakes", 3, written=False),
    Profile("emma", "partial"),
    Profile("femi", "blank", written=False),
    Profile("gus", "broken"),
    Profile("hana", "misnamed"),
    Profile("ivan", "absent"),
    Profile("jo", "empty"),
)

WRITTEN = (
    "For a spam filter on my own inbox I would not need an explanation: a wrong call costs me a "
    "few seconds and I can see the result. For a model that refuses someone a loan or flags a "
    "tumour as benign, the person affected and the regulator need a reason they can contest, and "
    "the team needs to check the model is not relying on something it should not.",
    "I would recommend recall for the class that matters most, because a missed case is far more "
    "costly than a false alarm, and choose the threshold so that recall stays above the target; "
    "the price is more false alarms, which a second look can absorb.",
)


def _strip_markers(source: str) -> str:
    return "\n".join(
        line for line in source.splitlines() if line.strip() not in (BEGIN_SOLUTION, END_SOLUTION)
    )


def build_submission(source, release, answers: dict[str, str | None], written: bool, rng: random.Random):
    """A student notebook: the release with some answer cells filled in.

    ``answers`` maps an answer cell's grade_id to ``None`` (the correct solution) or to a
    mutant's code; cells not in ``answers`` stay as released (blank).
    """
    nb = nbformat.from_dict(release)
    for cell in nb.cells:
        gid = grade_id(cell)
        meta = nbgrader_meta(cell)
        if gid in answers:
            src = find_cell(source, gid).source
            if answers[gid] is not None:
                src = replace_solution(src, answers[gid])
            cell.source = _strip_markers(src)
        elif written and cell.cell_type == "markdown" and meta.get("solution") and meta.get("grade"):
            cell.source = rng.choice(WRITTEN)
    return nb


def generate(course: Course, out: Path, ids: list[str] | None = None, seed: int = 2026,
             seeded: dict[str, dict[str, dict[str, str]]] | None = None) -> dict[str, dict[str, str]]:
    """Write ``out/STUDENT/ASSIGNMENT/*.ipynb`` for every profile; return {aid: {student: profile}}.

    ``seeded``, if given, is filled with the mistakes planted: {aid: {student: {answer cell: mutant id}}}.
    """
    out = Path(out)
    plan: dict[str, dict[str, str]] = {}
    for aid in course.resolve(ids):
        rng = random.Random(f"{seed}-{aid}")
        src_path = course.source_notebooks(aid)[0]
        source = nbformat.read(src_path, as_version=4)
        release = nbformat.read(course.assignments / aid / src_path.name, as_version=4)
        mutants: list[Mutant] = load_mutants(course, aid)
        answers = answer_cells(source)
        plan[aid] = {}
        for prof in PROFILES:
            target = out / prof.student_id / aid
            plan[aid][prof.student_id] = prof.kind
            if prof.kind == "absent":
                (out / prof.student_id).mkdir(parents=True, exist_ok=True)
                continue
            target.mkdir(parents=True, exist_ok=True)
            path = target / src_path.name
            chosen: dict[str, str | None] = {}
            if prof.kind in ("correct", "mistakes", "broken", "misnamed"):
                chosen = {a: None for a in answers}
            if prof.kind == "partial":
                chosen = {a: None for a in answers[: max(1, len(answers) // 2)]}
            if prof.kind == "mistakes":
                by_question = {a: [m for m in mutants if m.cell == a] for a in answers}
                wrong = rng.sample([a for a in answers if by_question[a]], k=min(prof.mistakes, len(answers)))
                for a in wrong:
                    mutant = rng.choice(by_question[a])
                    chosen[a] = mutant.code
                    if seeded is not None:
                        seeded.setdefault(aid, {}).setdefault(prof.student_id, {})[a] = mutant.id
            nb = build_submission(source, release, chosen, prof.written, rng)
            if prof.kind == "broken":
                text = nbformat.writes(nb)
                path.write_text(text[: len(text) // 3], encoding="utf-8")
            elif prof.kind == "empty":
                path.write_bytes(b"")
            elif prof.kind == "misnamed":
                # a name of the student's own (a browser's "NAME (1).ipynb" would be graded)
                nbformat.write(nb, target / "homework.ipynb")
            else:
                nbformat.write(nb, path)
    return plan
