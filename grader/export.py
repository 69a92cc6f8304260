"""``grader export``: the gradebook as one CSV (manual grades included), as nbgrader's ``export``.

``grader feedback``: re-render feedback pages from a grading output directory after manual
grading (formgrader or ``Gradebook``) changed scores.
"""

from __future__ import annotations

import csv
import os
from pathlib import Path

import nbformat

from .config import UserError, ensure_env_bin_on_path, sqlite_url

EXPORT_COLUMNS = [
    "assignment",
    "student_id",
    "score",
    "max_score",
    "auto_score",
    "manual_score",
    "needs_manual_grade",
    "timestamp",
]


def _db_url(out_dir: Path | None, db_url: str | None) -> str:
    if db_url:
        return db_url
    if out_dir is None:
        raise UserError("pass --out DIR (a `grader grade` output directory) or --db URL")
    db = Path(out_dir) / "gradebook.db"
    if not db.exists():
        raise UserError(f"{db}: no gradebook here; run `grader grade` first or pass --db URL")
    return sqlite_url(db)


def export(out_file: Path, *, out_dir: Path | None = None, db_url: str | None = None) -> int:
    """Write every (assignment, student) of the gradebook to ``out_file``; return the row count."""
    from nbgrader.api import Gradebook, MissingEntry

    ensure_env_bin_on_path()
    url = _db_url(out_dir, db_url)
    rows = []
    with Gradebook(url) as gb:
        for assignment in gb.assignments:
            for student in gb.students:
                try:
                    sub = gb.find_submission(assignment.name, student.id)
                except MissingEntry:
                    rows.append({"assignment": assignment.name, "student_id": student.id, "score": 0,
                                 "max_score": assignment.max_score, "auto_score": 0, "manual_score": 0,
                                 "needs_manual_grade": "no", "timestamp": ""})
                    continue
                manual = sum(g.manual_score or 0 for nb in sub.notebooks for g in nb.grades)
                auto = sum(g.auto_score or 0 for nb in sub.notebooks for g in nb.grades if g.manual_score is None)
                rows.append({
                    "assignment": assignment.name,
                    "student_id": student.id,
                    "score": f"{sub.score:g}",
                    "max_score": f"{sub.max_score:g}",
                    "auto_score": f"{auto:g}",
                    "manual_score": f"{manual:g}",
                    "needs_manual_grade": "yes" if sub.needs_manual_grade else "no",
                    "timestamp": sub.timestamp.isoformat() if sub.timestamp else "",
                })
    out_file = Path(out_file)
    out_file.parent.mkdir(parents=True, exist_ok=True)
    tmp = out_file.with_suffix(out_file.suffix + ".tmp")
    with open(tmp, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=EXPORT_COLUMNS)
        writer.writeheader()
        writer.writerows(sorted(rows, key=lambda r: (r["assignment"], r["student_id"])))
    os.replace(tmp, out_file)
    return len(rows)


def regenerate_feedback(aid: str, out_dir: Path, *, db_url: str | None = None) -> list[Path]:
    """Re-render ``OUT/feedback/*/aid/*.html`` from ``OUT/autograded`` and the gradebook."""
    from nbgrader.api import Gradebook
    from nbgrader.utils import determine_grade

    from .feedback import write_feedback
    from .grading import CellResult, SubmissionResult
    from .notebooks import error_line, is_test_cell

    url = _db_url(out_dir, db_url)
    graded_root = Path(out_dir) / "autograded"
    if not graded_root.is_dir():
        raise UserError(f"{graded_root}: nothing graded here; run `grader grade {aid} --out {out_dir}` first")
    written = []
    import logging

    log = logging.getLogger("grader")
    for nb_path in sorted(graded_root.glob(f"*/{aid}/*.ipynb")):
        sid = nb_path.parent.parent.name
        nb = nbformat.read(nb_path, as_version=4)
        with Gradebook(url) as gb:
            sub = gb.find_submission(aid, sid)
            result = SubmissionResult(sid, aid, "graded", score=float(sub.score), max_score=float(sub.max_score),
                                      needs_manual_grade=bool(sub.needs_manual_grade))
        for cell in nb.cells:
            if is_test_cell(cell):
                pts, mx = determine_grade(cell, log)
                result.cells.append(CellResult(cell.metadata.nbgrader["grade_id"], pts, float(mx), error_line(cell)))
        resources = {"nbgrader": {"assignment": aid, "notebook": nb_path.stem, "student": sid, "db_url": url}}
        written.append(write_feedback(nb, resources, Path(out_dir) / "feedback" / sid / aid / (nb_path.stem + ".html"), result))
    return written
