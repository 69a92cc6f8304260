"""``grader grade``: autograde a class's submissions with nbgrader's semantics.

The pipeline per submission, with who runs each step:

1. *intake* (trusted parent): find ``STUDENT/ASSIGNMENT/*.ipynb``, read it safely; a missing,
   empty, non-JSON or misnamed notebook gets status ``missing`` or ``error`` with a one-line
   reason, and the batch goes on;
2. *sanitize* (parent): nbgrader's own preprocessors, in nbgrader's order: ClearOutput,
   DeduplicateIds, OverwriteKernelspec, OverwriteCells (test and read-only cells restored from the
   gradebook's source copy, hidden tests inserted, deleted test cells put back), CheckCellMetadata;
3. *execute* (a worker process per submission, :mod:`grader.worker`): runs the student's code in a
   job directory holding only the sanitized notebook and the assignment's data files, under a
   per-cell and a per-submission time limit;
4. *record* (parent, the single writer): LimitOutput, nbgrader's SaveAutoGrades into the gradebook,
   the graded notebook, the feedback HTML (hidden test source removed) and a row of ``grades.csv``.
"""

from __future__ import annotations

import csv
import json
import logging
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from .config import (
    CELL_TIMEOUT_S,
    SUBMISSION_TIMEOUT_S,
    Course,
    UserError,
    ensure_env_bin_on_path,
    sqlite_url,
)
from .notebooks import NotebookError, error_line, grade_id, nbgrader_meta, read_notebook
from .release import generate

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
]
STUDENT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@+-]{0,99}$")
_log = logging.getLogger("grader")


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

    @property
    def auto_score(self) -> float:
        return sum(c.points or 0.0 for c in self.cells)

    def row(self) -> dict[str, str]:
        return {
            "student_id": self.student_id,
            "assignment": self.assignment,
            "score": f"{self.score:g}",
            "max_score": f"{self.max_score:g}",
            "status": self.status,
            "flags": ";".join(self.flags),
            "reason": self.reason,
            "needs_manual_grade": "yes" if self.needs_manual_grade else "no",
            "seconds": f"{self.seconds:.1f}",
        }


@dataclass
class Job:
    student_id: str
    jobdir: Path
    notebooks: list[str]
    flags: list[str]
    started: float


def _quiet() -> None:
    warnings.simplefilter("ignore")
    for name in ("traitlets", "nbgrader", "sqlalchemy", "alembic"):
        logging.getLogger(name).setLevel(logging.CRITICAL)


class AssignmentGradebook:
    """The assignment as the gradebook knows it, and the source files students get."""

    def __init__(self, course: Course, aid: str, db_url: str, workdir: Path):
        self.course, self.aid, self.db_url = course, aid, db_url
        release_dir = workdir / "release"
        generate(course, aid, release_dir, db_url)
        self.release = release_dir / aid
        self.notebooks = sorted(p.name for p in self.release.glob("*.ipynb"))
        self.data_files = sorted(
            p for p in self.release.rglob("*") if p.is_file() and p.suffix != ".ipynb"
        )
        self.max_score = self._max_score()

    def _max_score(self) -> float:
        from nbgrader.api import Gradebook

        with Gradebook(self.db_url) as gb:
            return float(gb.find_assignment(self.aid).max_score)

    def resources(self, student_id: str, notebook: str) -> dict:
        return {
            "nbgrader": {
                "assignment": self.aid,
                "notebook": Path(notebook).stem,
                "student": student_id,
                "db_url": self.db_url,
            },
            "metadata": {"path": ""},
        }


def _sanitize(nb, book: AssignmentGradebook, student_id: str, notebook: str):
    from nbgrader.preprocessors import (
        CheckCellMetadata,
        ClearOutput,
        DeduplicateIds,
        OverwriteCells,
        OverwriteKernelspec,
    )

    resources = book.resources(student_id, notebook)
    before = {grade_id(c) for c in nb.cells if nbgrader_meta(c).get("grade")}
    for pre in (
        ClearOutput(),
        DeduplicateIds(),
        OverwriteKernelspec(),
        OverwriteCells(add_missing_cells=True),
        CheckCellMetadata(),
    ):
        pre.log.setLevel(logging.CRITICAL)
        nb, resources = pre.preprocess(nb, resources)
    after = {grade_id(c) for c in nb.cells if nbgrader_meta(c).get("grade")}
    flags = ["restored-deleted-test-cells"] if after - before else []
    return nb, flags


def _intake(
    book: AssignmentGradebook, student_dir: Path, jobs_root: Path
) -> tuple[Job | None, SubmissionResult | None]:
    sid, aid = student_dir.name, book.aid
    result = SubmissionResult(sid, aid, "missing", max_score=book.max_score)
    if not STUDENT_ID.match(sid):
        result.status, result.reason = "error", f"{sid!r}: not a usable student id (letters, digits, . _ - @ +)"
        return None, result
    adir = student_dir / aid
    if adir.is_symlink() or not adir.is_dir():
        result.reason = f"{sid}/{aid}/ not found: nothing submitted for this assignment"
        return None, result
    found = sorted(p.name for p in adir.iterdir() if p.suffix == ".ipynb" and not p.name.startswith("."))
    present = [n for n in book.notebooks if n in found]
    if not present:
        if found:
            result.flags.append("misnamed")
            result.reason = (
                f"{sid}/{aid}/ has {', '.join(found)} but the assignment's notebook is "
                f"{', '.join(book.notebooks)}; rename it and resubmit"
            )
        else:
            result.reason = f"{sid}/{aid}/ holds no notebook (expected {', '.join(book.notebooks)})"
        return None, result
    jobdir = jobs_root / sid
    jobdir.mkdir(parents=True)
    flags: list[str] = []
    for name in present:
        try:
            nb = read_notebook(adir / name)
            nb, more = _sanitize(nb, book, sid, name)
        except NotebookError as exc:
            result.status, result.reason = "error", f"{sid}/{aid}/{exc}"
            return None, result
        except Exception as exc:  # nbgrader rejects a notebook whose cell metadata was mangled
            first = str(exc).splitlines()[0][:160] if str(exc) else type(exc).__name__
            result.status = "error"
            result.reason = f"{sid}/{aid}/{name}: its graded cells were altered beyond repair ({first}); start again from the released notebook"
            result.flags.append("tamper:cell-metadata")
            return None, result
        flags.extend(f for f in more if f not in flags)
        nbformat.write(nb, jobdir / name)
    for src in book.data_files:
        dest = jobdir / src.relative_to(book.release)
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, dest)
    (jobdir / "job.json").write_text(json.dumps({"notebooks": present, "cell_timeout": 0}))
    return Job(sid, jobdir, present, flags, 0.0), None


def _execute(job: Job, cell_timeout: int, submission_timeout: int) -> tuple[Job, dict]:
    """Run the worker process for one job; kill its whole process group on timeout."""
    spec = json.loads((job.jobdir / "job.json").read_text())
    spec["cell_timeout"] = cell_timeout
    (job.jobdir / "job.json").write_text(json.dumps(spec))
    env = dict(os.environ, MPLBACKEND="Agg", PYTHONDONTWRITEBYTECODE="1")
    job.started = time.perf_counter()
    with open(job.jobdir / "worker.log", "wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "grader.worker", str(job.jobdir)],
            cwd=job.jobdir,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            env=env,
        )
        try:
            proc.wait(timeout=submission_timeout)
        except subprocess.TimeoutExpired:
            _kill_group(proc)
            return job, {"ok": False, "error": f"ran longer than {submission_timeout} s", "timeout": True}
        finally:
            _kill_group(proc)
    result_file = job.jobdir / "result.json"
    if not result_file.exists():
        return job, {"ok": False, "error": f"the grading process ended abruptly (exit {proc.returncode})"}
    try:
        return job, json.loads(result_file.read_text())
    except ValueError:
        return job, {"ok": False, "error": "the grading process left an unreadable result"}


def _kill_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    proc.wait()


def _record(
    book: AssignmentGradebook, job: Job, outcome: dict, out_dir: Path
) -> SubmissionResult:
    """Single writer: save grades, the graded notebook and the feedback for one job."""
    from nbgrader.api import Gradebook
    from nbgrader.preprocessors import LimitOutput, SaveAutoGrades
    from nbgrader.utils import determine_grade

    from .feedback import write_feedback

    sid, aid = job.student_id, book.aid
    result = SubmissionResult(sid, aid, "graded", max_score=book.max_score, flags=list(job.flags))
    result.seconds = time.perf_counter() - job.started
    with Gradebook(book.db_url) as gb:
        gb.update_or_create_student(sid)
        gb.update_or_create_submission(aid, sid)
    if not outcome.get("ok"):
        result.status = "error"
        result.flags.append("timeout" if outcome.get("timeout") else "crashed")
        result.reason = f"{sid}/{aid}: {outcome.get('error', 'execution failed')}; graded as zero"
        _zero_grades(book, sid)
        return _finish(book, result)
    pending = []
    for name in job.notebooks:
        executed = job.jobdir / (name + ".executed")
        nb = nbformat.read(executed, as_version=4)
        resources = book.resources(sid, name)
        for pre in (LimitOutput(), SaveAutoGrades()):
            pre.log.setLevel(logging.CRITICAL)
            nb, resources = pre.preprocess(nb, resources)
        for cell in nb.cells:
            meta = nbgrader_meta(cell)
            if meta.get("grade") and cell.cell_type == "code" and not meta.get("solution"):
                points, max_points = determine_grade(cell, _log)
                result.cells.append(CellResult(meta["grade_id"], points, float(max_points), error_line(cell)))
            if any(o.get("ename") == "CellTimeoutError" for o in cell.get("outputs", [])):
                if "timeout" not in result.flags:
                    result.flags.append("timeout")
        graded = out_dir / "autograded" / sid / aid / name
        graded.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, graded)
        result.graded_notebooks.append(graded)
        pending.append((nb, resources, out_dir / "feedback" / sid / aid / (Path(name).stem + ".html")))
    result = _finish(book, result)
    for nb, resources, path in pending:
        try:
            write_feedback(nb, resources, path, result)
        except Exception as exc:  # the grade stands even if its feedback page cannot be rendered
            result.flags.append("feedback-failed")
            result.reason = f"{sid}/{aid}: feedback page not written ({type(exc).__name__})"
    return result


def _zero_grades(book: AssignmentGradebook, sid: str) -> None:
    from nbgrader.api import Gradebook

    with Gradebook(book.db_url) as gb:
        submission = gb.find_submission(book.aid, sid)
        for nb in submission.notebooks:
            for grade in nb.grades:
                if grade.auto_score is None and grade.manual_score is None:
                    grade.auto_score = 0.0
                    grade.needs_manual_grade = False
        gb.db.commit()


def _finish(book: AssignmentGradebook, result: SubmissionResult) -> SubmissionResult:
    from nbgrader.api import Gradebook

    with Gradebook(book.db_url) as gb:
        sub = gb.find_submission(book.aid, result.student_id)
        result.score = float(sub.score)
        result.max_score = float(sub.max_score)
        result.needs_manual_grade = bool(sub.needs_manual_grade)
    return result


def grade(
    course: Course,
    aid: str,
    submissions: Path,
    out_dir: Path,
    *,
    workers: int | None = None,
    db_url: str | None = None,
    cell_timeout: int = CELL_TIMEOUT_S,
    submission_timeout: int = SUBMISSION_TIMEOUT_S,
    progress: bool = True,
    on_result: Callable[[SubmissionResult], None] | None = None,
) -> list[SubmissionResult]:
    """Grade every ``submissions/STUDENT/aid/`` and write ``out_dir``; return one result each.

    ``workers`` submissions execute at once (default: the machine's cores); results are written
    by this process alone, so the gradebook never sees concurrent writers.
    """
    _quiet()
    ensure_env_bin_on_path()
    (aid,) = course.resolve([aid])
    submissions, out_dir = Path(submissions), Path(out_dir)
    if not submissions.is_dir():
        raise UserError(f"{submissions}: no such directory; pass --submissions DIR holding STUDENT_ID/{aid}/*.ipynb")
    out_dir.mkdir(parents=True, exist_ok=True)
    db_url = db_url or sqlite_url(out_dir / "gradebook.db")
    workers = max(1, workers or os.cpu_count() or 1)
    results: list[SubmissionResult] = []
    with tempfile.TemporaryDirectory(prefix="grader-") as tmp:
        tmp = Path(tmp)
        book = AssignmentGradebook(course, aid, db_url, tmp)
        jobs_root = tmp / "jobs"
        jobs_root.mkdir()
        jobs: list[Job] = []
        student_dirs = sorted(
            p for p in submissions.iterdir() if p.is_dir() and not p.is_symlink() and not p.name.startswith(".")
        )
        for sdir in student_dirs:
            job, early = _intake(book, sdir, jobs_root)
            if early is not None:
                _register(book, early)
                results.append(early)
                if on_result:
                    on_result(early)
            else:
                jobs.append(job)
        bar = _progress(len(student_dirs), aid, progress)
        bar.update(len(results))
        with ThreadPoolExecutor(max_workers=workers) as pool:
            futures = [pool.submit(_execute, job, cell_timeout, submission_timeout) for job in jobs]
            for fut in as_completed(futures):
                job, outcome = fut.result()
                try:
                    res = _record(book, job, outcome, out_dir)
                except Exception as exc:  # never let one submission stop the batch
                    res = SubmissionResult(
                        job.student_id, aid, "error", max_score=book.max_score,
                        flags=[*job.flags, "record-failed"],
                        reason=f"{job.student_id}/{aid}: could not record the grade ({type(exc).__name__}: {str(exc)[:120]})",
                    )
                results.append(res)
                if on_result:
                    on_result(res)
                bar.update(1)
        bar.close()
    results.sort(key=lambda r: r.student_id)
    write_csv(out_dir / "grades.csv", results)
    return results


def _register(book: AssignmentGradebook, result: SubmissionResult) -> None:
    """Put a student whose submission could not be graded on the roster (and at zero if it broke)."""
    from nbgrader.api import Gradebook

    if result.status == "error" and STUDENT_ID.match(result.student_id):
        with Gradebook(book.db_url) as gb:
            gb.update_or_create_student(result.student_id)
            gb.update_or_create_submission(book.aid, result.student_id)
        _zero_grades(book, result.student_id)
        _finish(book, result)
    elif STUDENT_ID.match(result.student_id):
        with Gradebook(book.db_url) as gb:
            gb.update_or_create_student(result.student_id)


def write_csv(path: Path, results: list[SubmissionResult]) -> None:
    """Write ``grades.csv`` atomically, one row per (student, assignment), sorted."""
    rows: dict[tuple[str, str], dict[str, str]] = {}
    if path.exists():
        with open(path, newline="") as fh:
            for row in csv.DictReader(fh):
                rows[(row["student_id"], row["assignment"])] = row
    for res in results:
        rows[(res.student_id, res.assignment)] = res.row()
    tmp = path.with_suffix(".csv.tmp")
    with open(tmp, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=CSV_COLUMNS, extrasaction="ignore")
        writer.writeheader()
        for key in sorted(rows):
            writer.writerow(rows[key])
    os.replace(tmp, path)


class _NoBar:
    def update(self, n: int = 1) -> None: ...
    def close(self) -> None: ...


def _progress(total: int, aid: str, enabled: bool):
    if not enabled:
        return _NoBar()
    from tqdm import tqdm

    return tqdm(total=total, desc=f"grading {aid}", unit="student", file=sys.stderr, leave=False)
