"""``grader export``: the gradebook (manual grades and late penalties included) as CSV, in our
layout or the ones Canvas and Moodle import.

``grader feedback``: re-render feedback pages from a grading output directory after manual
grading (formgrader or ``Gradebook``) changed scores.
"""

from __future__ import annotations

import csv
import os
from pathlib import Path

import nbformat

from .config import UserError, ensure_env_bin_on_path, gradebook_url

#: ``grader export --format csv`` (the default): one row per (assignment, student).
EXPORT_COLUMNS = [
    "assignment",
    "student_id",
    "first_name",
    "last_name",
    "email",
    "score",
    "max_score",
    "auto_score",
    "manual_score",
    "late_penalty",
    "needs_manual_grade",
    "status",
    "flags",
    "reason",
    "timestamp",
    "edition",
]
FORMATS = ("csv", "canvas", "moodle")
#: Canvas's gradebook import: these columns, then one column per assignment (and a second row
#: "Points Possible"), as Canvas's own gradebook export lays them out.
CANVAS_COLUMNS = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
#: Moodle's grade import (Grades > Import > CSV file): map "ID number" (or "Email address") to
#: the user's identifier, and each assignment column to a grade item.
MOODLE_COLUMNS = ["First name", "Last name", "ID number", "Email address"]


def _num(x: float | None) -> str:
    """A score as the export writes every score: at most two decimals, no trailing zeros."""
    return f"{round(float(x or 0.0), 2):g}"


def _db_url(out_dir: Path | None, db_url: str | None) -> str:
    return gradebook_url(out_dir, db_url)


def _grades_csv(out_dir: Path | None) -> dict[tuple[str, str], dict[str, str]]:
    """(student_id, assignment) -> the row ``grader grade`` wrote in ``OUT/grades.csv``."""
    path = Path(out_dir) / "grades.csv" if out_dir else None
    if path is None or not path.is_file():
        return {}
    with open(path, newline="") as fh:
        return {(r.get("student_id", ""), r.get("assignment", "")): r for r in csv.DictReader(fh)}


def gradebook_rows(db_url: str, out_dir: Path | None = None) -> list[dict[str, str]]:
    """One row (:data:`EXPORT_COLUMNS`) per assignment and student of the gradebook, sorted.

    ``score`` is nbgrader's score (autograded and manual points) minus the late penalty, as in
    nbgrader's own CSV export; ``status``, ``flags`` and ``reason`` come from ``OUT/grades.csv``
    (a student with no submission in the gradebook is ``missing``). A student graded on a retired
    edition (:mod:`grader.editions`) has one row, under the assignment, with that edition's
    scores and maximum; ``edition`` says which edition each row was graded on.
    """
    from nbgrader.api import Gradebook, MissingEntry

    from .editions import retired_names

    ensure_env_bin_on_path()
    recorded = _grades_csv(out_dir)
    rows = []
    with Gradebook(db_url) as gb:
        retired = retired_names({a.name for a in gb.assignments})
        on_retired = {(retired[a.name][0], s.student.id) for a in gb.assignments if a.name in retired
                      for s in a.submissions}
        for assignment in gb.assignments:
            name, edition = retired.get(assignment.name, (assignment.name, ""))
            for student in gb.students:
                if assignment.name in retired and (name, student.id) not in on_retired:
                    continue  # not graded on this edition: the assignment's own row says it all
                if assignment.name not in retired and (name, student.id) in on_retired:
                    continue  # graded on a retired edition: that edition's row
                base = {"assignment": name, "student_id": student.id,
                        "first_name": student.first_name or "", "last_name": student.last_name or "",
                        "email": student.email or "", "max_score": _num(assignment.max_score)}
                seen = recorded.get((student.id, name), {})
                base["edition"] = edition or seen.get("edition", "")
                try:
                    sub = gb.find_submission(assignment.name, student.id)
                except MissingEntry:
                    rows.append({**base, "score": _num(0), "auto_score": _num(0), "manual_score": _num(0),
                                 "late_penalty": _num(0), "needs_manual_grade": "no",
                                 "status": seen.get("status") or "missing", "flags": seen.get("flags", ""),
                                 "reason": seen.get("reason", ""), "timestamp": ""})
                    continue
                grades = [g for nb in sub.notebooks for g in nb.grades]
                manual = sum(g.manual_score or 0 for g in grades if g.manual_score is not None)
                auto = sum(g.auto_score or 0 for g in grades if g.manual_score is None)
                penalty = float(sub.late_submission_penalty or 0.0)
                rows.append({
                    **base,
                    "score": _num(max(0.0, sub.score - penalty)),
                    "auto_score": _num(auto),
                    "manual_score": _num(manual),
                    "late_penalty": _num(penalty),
                    "needs_manual_grade": "yes" if sub.needs_manual_grade else "no",
                    "status": seen.get("status") or "graded",
                    "flags": seen.get("flags", ""),
                    "reason": seen.get("reason", ""),
                    "timestamp": sub.timestamp.isoformat() if sub.timestamp else "",
                })
    return sorted(rows, key=lambda r: (r["assignment"], r["student_id"]))


def _write(out_file: Path, header: list[str], rows: list[list[str]]) -> None:
    """Write a CSV file atomically; every cell goes through :func:`grader.safetext.csv_cell`
    (a roster's name such as ``=HYPERLINK(...)``, which a student may have typed into the LMS,
    must not become a formula in the instructor's spreadsheet)."""
    from .safetext import csv_cell

    header = [csv_cell(h) for h in header]
    rows = [[csv_cell(c, 2000) for c in row] for row in rows]
    out_file = Path(out_file)
    out_file.parent.mkdir(parents=True, exist_ok=True)
    tmp = out_file.with_suffix(out_file.suffix + ".tmp")
    with open(tmp, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)
    os.replace(tmp, out_file)


def _by_student(rows: list[dict[str, str]]) -> tuple[list[str], dict[str, str], dict[str, dict]]:
    """(assignments, assignment -> max score, student -> {assignment: row})."""
    aids = sorted({r["assignment"] for r in rows})
    maxima = {r["assignment"]: r["max_score"] for r in rows}
    table: dict[str, dict] = {}
    for r in rows:
        table.setdefault(r["student_id"], {})[r["assignment"]] = r
    return aids, maxima, table


def export(out_file: Path, *, out_dir: Path | None = None, db_url: str | None = None,
           fmt: str = "csv", course=None) -> int:
    """Write the gradebook to ``out_file`` in ``fmt`` (:data:`FORMATS`); return the student rows.

    - ``csv``: :data:`EXPORT_COLUMNS`, one row per (assignment, student);
    - ``canvas``: Canvas's gradebook import layout, :data:`CANVAS_COLUMNS` then one column per
      assignment, a "Points Possible" row, then one row per student (SIS User ID = student id,
      SIS Login ID = email, ID = the roster's ``lms_user_id``);
    - ``moodle``: Moodle's CSV grade import, :data:`MOODLE_COLUMNS` then one column per
      assignment, one row per student.

    With ``course``, late penalties are first recomputed from the current scores; with
    ``out_dir``, ``OUT/grades.csv`` is brought up to date with the gradebook too, so that both
    files give the same score after manual grading. Raises ``UserError`` for an unknown format.
    """
    if fmt not in FORMATS:
        raise UserError(f"--format {fmt!r}: choose one of {', '.join(FORMATS)}")
    url = _db_url(out_dir, db_url)
    if course is not None:
        from .late import refresh

        refresh(course, url)
    if out_dir is not None:
        sync_grades_csv(Path(out_dir), url)
    rows = gradebook_rows(url, out_dir)
    if fmt == "csv":
        _write(out_file, EXPORT_COLUMNS, [[r[c] for c in EXPORT_COLUMNS] for r in rows])
        return len(rows)
    aids, maxima, table = _by_student(rows)
    if fmt == "canvas":
        from nbgrader.api import Gradebook

        with Gradebook(url) as gb:
            lms = {s.id: s.lms_user_id or "" for s in gb.students}
        body = [["Points Possible", "", "", "", "", *[maxima[a] for a in aids]]]
        for sid, by in sorted(table.items()):
            first = next(iter(by.values()))
            name = ", ".join(p for p in (first["last_name"], first["first_name"]) if p) or sid
            body.append([name, lms.get(sid, ""), sid, first["email"], "",
                         *[by[a]["score"] if a in by else "" for a in aids]])
        _write(out_file, CANVAS_COLUMNS + aids, body)
    else:
        body = []
        for sid, by in sorted(table.items()):
            first = next(iter(by.values()))
            body.append([first["first_name"], first["last_name"], sid, first["email"],
                         *[by[a]["score"] if a in by else "" for a in aids]])
        _write(out_file, MOODLE_COLUMNS + aids, body)
    return len(table)


def sync_grades_csv(out_dir: Path, db_url: str) -> int:
    """Bring ``OUT/grades.csv`` up to date with the gradebook (manual grades, late penalties):
    its ``score`` and ``needs_manual_grade`` are rewritten for every row the gradebook has;
    status, flags and reason stay. Returns the rows changed."""
    from nbgrader.api import Gradebook, MissingEntry

    path = Path(out_dir) / "grades.csv"
    if not path.is_file():
        return 0
    with open(path, newline="") as fh:
        reader = csv.DictReader(fh)
        header, rows = list(reader.fieldnames or []), list(reader)
    if not {"student_id", "assignment", "score"} <= set(header):
        return 0
    changed = 0
    ensure_env_bin_on_path()
    with Gradebook(db_url) as gb:
        for row in rows:
            names = [row["assignment"]]
            if row.get("edition"):  # graded on a retired edition: its own gradebook assignment
                names.insert(0, f"{row['assignment']}-edition{row['edition']}")
            for name in names:
                try:
                    sub = gb.find_submission(name, row["student_id"])
                    break
                except MissingEntry:
                    sub = None
            if sub is None:
                continue
            score = _num(max(0.0, sub.score - float(sub.late_submission_penalty or 0.0)))
            manual = "yes" if sub.needs_manual_grade else "no"
            if row["score"] != score or row.get("needs_manual_grade", manual) != manual:
                changed += 1
                row["score"] = score
                if "needs_manual_grade" in row:
                    row["needs_manual_grade"] = manual
    if changed:
        _write(path, header, [[r.get(c, "") for c in header] for r in rows])
    return changed


def regenerate_feedback(aid: str, out_dir: Path, *, db_url: str | None = None, course=None) -> list[Path]:
    """Re-render ``OUT/feedback/*/aid/*.html`` from ``OUT/autograded`` and the gradebook.

    With ``course``, late penalties are first recomputed from the current (manual) scores;
    ``OUT/grades.csv`` is then brought up to date with the gradebook.
    """
    from nbgrader.api import Gradebook
    from nbgrader.utils import determine_grade

    from .feedback import write_feedback
    from .notebooks import error_line, is_test_cell
    from .results import CellResult, SubmissionResult

    url = _db_url(out_dir, db_url)
    if course is not None:
        from .late import refresh

        refresh(course, url)
    graded_root = Path(out_dir) / "autograded"
    if not graded_root.is_dir():
        raise UserError(f"{graded_root}: nothing graded here; run `grader grade {aid} --out {out_dir}` first")
    written = []
    import logging

    log = logging.getLogger("grader")
    recorded = _grades_csv(Path(out_dir))
    for nb_path in sorted(graded_root.glob(f"*/{aid}/*.ipynb")):
        sid = nb_path.parent.parent.name
        nb = nbformat.read(nb_path, as_version=4)
        if nb.metadata.get("grader_placeholder"):  # not the student's work: see formgrader.explain_zeros
            continue
        edition = recorded.get((sid, aid), {}).get("edition", "")
        with Gradebook(url) as gb:
            held_by = aid  # the gradebook assignment: a retired edition's own (grader/editions.py)
            if edition and f"{aid}-edition{edition}" in {a.name for a in gb.assignments}:
                held_by = f"{aid}-edition{edition}"
            sub = gb.find_submission(held_by, sid)
            result = SubmissionResult(sid, aid, "graded", score=float(sub.score), max_score=float(sub.max_score),
                                      needs_manual_grade=bool(sub.needs_manual_grade), edition=edition)
        for cell in nb.cells:
            if is_test_cell(cell):
                pts, mx = determine_grade(cell, log)
                result.cells.append(CellResult(cell.metadata.nbgrader["grade_id"], pts, float(mx), error_line(cell)))
        resources = {"nbgrader": {"assignment": held_by, "notebook": nb_path.stem, "student": sid, "db_url": url}}
        written.append(write_feedback(nb, resources, Path(out_dir) / "feedback" / sid / aid / (nb_path.stem + ".html"), result))
    sync_grades_csv(Path(out_dir), url)  # grades.csv agrees with the gradebook again
    if written:
        from .mathjax import install

        try:
            install(Path(out_dir) / "feedback")
        except (ImportError, OSError) as exc:
            log.warning("MathJax not copied for offline feedback pages (%s)", exc)
    return written
