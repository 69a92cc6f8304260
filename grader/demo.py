"""``grader demo``: the whole instructor cycle on the bundled example class.

release check -> example class -> grade every assignment into one SQLite gradebook ->
feedback pages -> grade export -> a per-student summary table.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from .config import Course, UserError, sqlite_url
from .example_class import generate as generate_class
from .export import export
from .grading import SubmissionResult, grade
from .release import out_of_sync


def run_demo(course: Course, out: Path, *, workers: int | None = None, progress: bool = True,
             echo=print) -> dict[str, list[SubmissionResult]]:
    out = Path(out).resolve()
    if out.exists():
        if not (out / ".grader-demo").exists():
            raise UserError(f"{out} exists and is not a demo output; choose another --out or remove it")
        shutil.rmtree(out)
    out.mkdir(parents=True)
    (out / ".grader-demo").write_text("made by `grader demo`; safe to delete\n")
    ids = [aid for aid in course.resolve(None) if (course.assignments / aid).is_dir()]
    if not ids:
        raise UserError(f"{course.assignments}: nothing released; run `grader release` first")
    for aid in ids:
        for problem in out_of_sync(course, aid):
            echo(f"warning: {aid}: {problem}")
    from .sandbox import bwrap

    sandboxed = bwrap() is not None
    if not sandboxed:
        echo("note: bubblewrap is not installed, so the (trusted) example class runs without a sandbox")
    submitted = out / "submitted"
    echo(f"1. example class: {len(ids)} assignments -> {submitted}")
    generate_class(course, submitted, ids)
    db_url = sqlite_url(out / "gradebook.db")
    results: dict[str, list[SubmissionResult]] = {}
    for aid in ids:
        echo(f"2. grading {aid} ...")
        results[aid] = grade(course, aid, submitted, out, workers=workers, db_url=db_url, progress=progress,
                             sandbox=sandboxed)
    n = export(out / "gradebook-export.csv", db_url=db_url)
    echo(f"3. exported {n} gradebook rows\n")
    echo(summary_table(results))
    echo("")
    echo(f"grades (per run):   {out / 'grades.csv'}")
    echo(f"gradebook (SQLite): {out / 'gradebook.db'}  (export: {out / 'gradebook-export.csv'})")
    echo(f"feedback pages:     {out / 'feedback'}/STUDENT/ASSIGNMENT/*.html")
    echo(f"graded notebooks:   {out / 'autograded'}")
    echo(f"formgrader:         grader formgrader --out {out}")
    return results


def summary_table(results: dict[str, list[SubmissionResult]]) -> str:
    students = sorted({r.student_id for rs in results.values() for r in rs})
    aids = list(results)
    by = {(r.student_id, aid): r for aid, rs in results.items() for r in rs}
    width = max(14, *(len(a) for a in aids))
    head = f"{'student':<10}" + "".join(f"{a:<{width + 2}}" for a in aids) + "notes"
    lines = [head, "-" * len(head)]
    for sid in students:
        cells, notes = [], []
        for aid in aids:
            r = by.get((sid, aid))
            if r is None:
                cells.append("-")
                continue
            if r.status == "graded":
                mark = f"{r.score:g}/{r.max_score:g}" + ("*" if r.needs_manual_grade else "")
            else:
                mark = r.status
            cells.append(mark)
            if r.status != "graded" or r.flags:
                notes.append(f"{aid[:2]}: {r.reason or ';'.join(r.flags)}")
        lines.append(f"{sid:<10}" + "".join(f"{c:<{width + 2}}" for c in cells) + " | ".join(notes)[:140])
    lines.append("* written answers await manual grading (formgrader)")
    return "\n".join(lines)
