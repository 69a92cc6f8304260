"""``grader grade``: autograde a class's submissions with nbgrader's semantics.

The pipeline per submission, with who runs each step:

1. *intake* (trusted parent): find ``STUDENT/ASSIGNMENT/*.ipynb`` and read it as Jupyter does
   (:func:`grader.notebooks.read_submission`: regular files only, size-capped, repaired before
   validating); recover its graded cells from honest edits
   (:func:`grader.notebooks.recover_cells`, see docs/grading-rules.md); a missing, empty,
   unrepairable or misnamed notebook gets status ``missing`` or ``error`` with a one-line
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
import hashlib
import json
import logging
import os
import re
import stat
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field
from pathlib import Path

import nbformat

from . import cluster, judging, misconceptions
from .config import (
    CELL_TIMEOUT_S,
    MAX_NOTEBOOK_BYTES,
    SUBMISSION_TIMEOUT_S,
    Course,
    UserError,
    ensure_env_bin_on_path,
    sqlite_url,
)
from .notebooks import (
    NotebookError,
    Recovery,
    error_line,
    hash_regular,
    nbgrader_meta,
    read_notebook,
    read_submission,
    recover_cells,
    whole,
)
from .pool import ALWAYS, SlotFailed, WarmPool, imports_of, run_cold, write_files
from .release import generate
from .sandbox import Limits

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
            "reason": " ".join(self.reason.split())[:400],
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
    payload: dict[str, str] = field(default_factory=dict)  # name -> sanitized notebook JSON
    digest: str = ""
    notes: list[str] = field(default_factory=list)  # what intake repaired, in plain words


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
        self.data_files = {  # relative name -> content: what the notebooks may read
            str(p.relative_to(self.release)): p.read_bytes()
            for p in sorted(self.release.rglob("*")) if p.is_file() and p.suffix != ".ipynb"
        }
        self.max_score = self._max_score()
        self.test_sources: dict[str, dict[str, set[str]]] = {}
        self.sources = {name: nbformat.read(self.release / name, as_version=4) for name in self.notebooks}
        for name in self.notebooks:
            allowed: dict[str, set[str]] = {}
            for path in (self.release / name, course.solutions / aid / name):
                if path.exists():
                    for cell in nbformat.read(path, as_version=4).cells:
                        meta = nbgrader_meta(cell)
                        if meta.get("grade") and not meta.get("solution") and cell.cell_type == "code":
                            allowed.setdefault(meta["grade_id"], set()).add(cell.source.strip())
            self.test_sources[name] = allowed
        # what a recorded grade depends on: the source notebooks and, where the assignment is
        # judged outside the kernel, its answer key (a changed key re-grades a resumed batch)
        judged_by = [course.solutions / aid / n for n in self.notebooks] + [course.solutions / aid / "key.py"]
        self.source_digest = hashlib.sha256(
            b"".join(p.read_bytes() for p in judged_by if p.exists())
        ).hexdigest()

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


def _tamper_in_cells(nb, book: AssignmentGradebook, notebook: str) -> Recovery:
    """Recover the submitted notebook's graded cells in place (:func:`recover_cells`) and return
    what was done: notes, ``tamper:`` flags for test code edited or deleted, missing answers."""
    return recover_cells(nb, book.sources[notebook], book.test_sources.get(notebook, {}))


_IMPORT = re.compile(r"^\s*(?:from|import)\s+([A-Za-z_][A-Za-z0-9_]*)", re.M)
#: Files nbgrader itself puts beside a collected notebook (not the student's).
NBGRADER_FILES = {"timestamp.txt"}
#: How browsers and editors rename a downloaded or duplicated notebook: "NAME (1)", "NAME-Copy1",
#: "NAME copy 2", "NAME - Copy", "NAME(3)", "NAME_1".
_RENAMED = re.compile(r"^(?P<stem>.+?)(?:\s*\(\d+\)|-Copy\d*|\s+-\s+Copy(?:\s*\(\d+\))?|\s+copy(?:\s+\d+)?|[ _]\d)$", re.I)


def _shipped_code(adir: Path, nbs: list, book: AssignmentGradebook, graded: set[str] = frozenset()) -> list[str]:
    """Flags for files a student shipped beside the notebook (never read, never copied in)."""
    extra = [p for p in adir.iterdir() if p.name not in book.notebooks and p.name not in graded
             and p.name not in NBGRADER_FILES and not p.name.startswith(".")]
    if not extra:
        return []
    modules = {p.stem for p in extra if p.suffix == ".py"} | {p.name for p in extra if _is_dir(p)}
    imported = {m for nb in nbs for c in nb.cells if c.cell_type == "code" for m in _IMPORT.findall(c.source)}
    flags = ["ignored-files"]
    if modules & imported:
        flags.append("tamper:shipped-code")
    return flags


def _is_dir(path: Path) -> bool:
    try:
        return stat.S_ISDIR(os.lstat(path).st_mode)
    except OSError:
        return False


def _notebook_files(adir: Path, book: AssignmentGradebook) -> tuple[dict[str, Path], str]:
    """The submitted notebooks to grade (assignment name -> file) and a note if one was renamed.

    A folder whose only ``.ipynb`` is the assignment's only notebook renamed the way browsers and
    editors do (``NAME (1).ipynb``, ``NAME-Copy1.ipynb``) is graded as that notebook.
    """
    found = sorted(p.name for p in adir.iterdir() if p.suffix == ".ipynb" and not p.name.startswith("."))
    present = {n: adir / n for n in book.notebooks if n in found}
    if present or len(found) != 1 or len(book.notebooks) != 1:
        return present, ""
    (only,), (expected,) = found, book.notebooks
    m = _RENAMED.match(Path(only).stem)
    if m and m["stem"].strip() == Path(expected).stem:
        return {expected: adir / only}, f"graded {only} as {expected} (the only notebook, renamed on download)"
    return {}, ""


def _sanitize(nb, book: AssignmentGradebook, student_id: str, notebook: str):
    from nbgrader.preprocessors import (
        CheckCellMetadata,
        ClearOutput,
        DeduplicateIds,
        OverwriteCells,
        OverwriteKernelspec,
    )

    resources = book.resources(student_id, notebook)
    for pre in (
        ClearOutput(),
        DeduplicateIds(),
        OverwriteKernelspec(),
        OverwriteCells(add_missing_cells=True),
        CheckCellMetadata(),
    ):
        pre.log.setLevel(logging.CRITICAL)
        nb, resources = pre.preprocess(nb, resources)
    return nb


def submission_digest(adir: Path, book: AssignmentGradebook, limits: Limits) -> str:
    """What the grade depends on: the graded notebooks' bytes (hashed in 1 MiB chunks, each
    checked as :func:`grader.notebooks.open_regular` does), the names, kinds and sizes of the
    other entries (never read), the source, the limits and the grader's version; a hex SHA-256.
    Raises :class:`NotebookError` for a notebook that is not a regular file or is too large."""
    from . import __version__

    h = hashlib.sha256(f"{__version__}|{book.source_digest}|{limits}".encode())
    files, _ = _notebook_files(adir, book)
    graded = {p.name for p in files.values()}
    for path in sorted(adir.rglob("*")):
        rel = str(path.relative_to(adir)).encode("utf-8", "surrogateescape")
        if path.parent == adir and path.name in graded:
            h.update(b"N" + rel + b"\0")
            hash_regular(h, path, MAX_NOTEBOOK_BYTES)
        else:
            try:
                st = os.lstat(path)
            except OSError:
                continue
            h.update(b"F" + rel + f"\0{stat.S_IFMT(st.st_mode)}:{st.st_size}\0".encode())
    return h.hexdigest()


def _intake(
    book: AssignmentGradebook, student_dir: Path, jobs_root: Path, limits: Limits
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
    files, renamed = _notebook_files(adir, book)
    present = list(files)
    if not present:
        found = sorted(p.name for p in adir.iterdir() if p.suffix == ".ipynb" and not p.name.startswith("."))
        if found:
            result.flags.append("misnamed")
            result.reason = (
                f"{sid}/{aid}/ has {', '.join(found)} but the assignment's notebook is "
                f"{', '.join(book.notebooks)}; rename it and resubmit"
            )
        else:
            result.reason = f"{sid}/{aid}/ holds no notebook (expected {', '.join(book.notebooks)})"
        return None, result
    flags: list[str] = ["misnamed"] if renamed else []
    notes: list[str] = [renamed] if renamed else []
    payload: dict[str, str] = {}
    submitted = []
    for name, path in files.items():
        try:
            nb, repairs = read_submission(path)
        except NotebookError as exc:
            result.status, result.reason = "error", f"{sid}/{aid}/{exc}"
            return None, result
        try:
            submitted.append(nb)
            found = _tamper_in_cells(nb, book, name)
            nb = _sanitize(nb, book, sid, name)
            nb = judging.prepare(nb, book.course, aid, sid)  # converted assignments: collect only
        except Exception as exc:  # a bug of ours, never the student's doing: say so
            result.status = "error"
            result.flags += [*flags, "intake-failed"]
            result.reason = (
                f"{sid}/{aid}/{name}: the grader could not prepare this notebook for grading "
                f"(internal error {type(exc).__name__}: {whole(exc, 120)}); this is not the student's "
                "fault: report it to the grader's maintainers with the notebook"
            )
            return None, result
        flags += [f for f in found.tamper if f not in flags]
        if repairs:
            notes.append(f"{name} read after repairs ({'; '.join(repairs)})")
        if found.notes:
            notes.append(f"{name}: {'; '.join(found.notes)}")
        for gid in found.missing_answers:
            notes.append(f"the written answer '{gid}' is missing from {name}: recorded as 0 for that cell")
            if "missing-answer" not in flags:
                flags.append("missing-answer")
        payload[name] = nbformat.writes(nb)
    flags += [f for f in _shipped_code(adir, submitted, book, {p.name for p in files.values()}) if f not in flags]
    try:
        digest = submission_digest(adir, book, limits)
    except NotebookError as exc:
        result.status, result.reason = "error", f"{sid}/{aid}/{exc}"
        return None, result
    jobdir = jobs_root / sid
    jobdir.mkdir(parents=True)
    job = Job(sid, jobdir, present, flags, 0.0, payload, digest, notes)
    return job, None


def _record(
    book: AssignmentGradebook, job: Job, outcome: dict, out_dir: Path, limits: Limits
) -> SubmissionResult:
    """Single writer: save grades, the graded notebook and the feedback for one job."""
    from nbgrader.api import Gradebook
    from nbgrader.preprocessors import LimitOutput, SaveAutoGrades
    from nbgrader.utils import determine_grade

    from .feedback import write_feedback
    from .notebooks import cap_outputs

    sid, aid = job.student_id, book.aid
    result = SubmissionResult(sid, aid, "graded", max_score=book.max_score, flags=list(job.flags))
    result.seconds = outcome.get("elapsed", time.perf_counter() - job.started)
    result.flags += [f"limit:{hit}" for hit in outcome.get("limits", [])]
    result.flags += [f for f in outcome.get("findings", []) if f not in result.flags]
    with Gradebook(book.db_url) as gb:
        gb.update_or_create_student(sid)
        gb.update_or_create_submission(aid, sid)
    if not outcome.get("ok"):
        result.status = "error"
        result.flags.append("timeout" if outcome.get("timeout") else "crashed")
        first = (outcome.get("error") or "execution failed").strip().splitlines()[0]
        result.reason = f"{sid}/{aid}: {first}; graded as zero"
        misconceptions.record_failure(book, sid, "timeout" if outcome.get("timeout") else "error", first)
        _zero_grades(book, sid)
        return _finish(book, result)
    result.reason = whole(f"{sid}/{aid}: {'; '.join(job.notes)}", 390) if job.notes else ""  # intake's repairs
    pending = []
    for name in job.notebooks:
        text = outcome.get("notebooks", {}).get(name)
        if text is None:
            result.status, result.reason = "error", f"{sid}/{aid}/{name}: the grading process returned no notebook"
            _zero_grades(book, sid)
            return _finish(book, result)
        nb = nbformat.reads(text, as_version=4)
        result.flags += [f for f in judging.apply(nb, book.course, aid, sid) if f not in result.flags]
        if cap_outputs(nb, limits.max_output_kb * 1024) and "limit:output" not in result.flags:
            result.flags.append("limit:output")
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
        tmp = graded.with_suffix(".ipynb.tmp")
        nbformat.write(nb, tmp)
        os.replace(tmp, graded)
        result.graded_notebooks.append(graded)
        pending.append((nb, resources, out_dir / "feedback" / sid / aid / (Path(name).stem + ".html")))
    misconceptions.record(book, sid, result.cells, notebook=job.notebooks[0])  # codes per failed test cell
    tampered = [f for f in result.flags if f.startswith("tamper:")]
    if tampered:
        _withhold(book, sid)
    result = _finish(book, result)
    if tampered:
        result.reason = (
            f"{sid}/{aid}: autograded score withheld for review ({result.auto_score:g} computed); "
            f"the submission {', '.join(_explain(f) for f in tampered)}"
        )
    for nb, resources, path in pending:
        try:
            write_feedback(nb, resources, path, result)
        except Exception as exc:  # the grade stands even if its feedback page cannot be rendered
            result.flags.append("feedback-failed")
            result.reason = f"{sid}/{aid}: feedback page not written ({type(exc).__name__})"
    return result


TAMPER_EXPLANATIONS = {
    "input-transformer": "installed an IPython input transformer (it can rewrite later cells, tests included)",
    "ast-transformer": "installed an AST transformer (it can rewrite later cells, tests included)",
    "exception-handler": "installed a custom exception handler or excepthook (it can hide failing tests)",
    "event-hook": "registered an IPython event hook (code that runs around every cell)",
    "shell-override": "replaced a method of the IPython shell",
    "import-hook": "installed an import hook",
    "probe-blocked": "blocked the grader's integrity check",
    "edited-test-cell": "edited a test cell (restored from the source before grading)",
    "deleted-test-cell": "deleted a test cell (restored from the source before grading)",
    "shipped-code": "imports a module shipped beside the notebook (it was not copied in)",
}


def _explain(flag: str) -> str:
    what = flag.removeprefix("tamper:")
    if what.startswith("monkeypatch:"):
        return f"replaced {what.split(':', 1)[1]}, which the checks rely on"
    if what.startswith("module-replaced:"):
        return f"replaced the module {what.split(':', 1)[1]}"
    if what.startswith("shadow-module:"):
        return f"loaded its own copy of {what.split(':', 1)[1]}"
    return TAMPER_EXPLANATIONS.get(what, what)


def _withhold(book: AssignmentGradebook, sid: str) -> None:
    """Tampering: the autograded cells score zero until an instructor reviews them."""
    from nbgrader.api import Gradebook

    with Gradebook(book.db_url) as gb:
        submission = gb.find_submission(book.aid, sid)
        for nb in submission.notebooks:
            for grade in nb.grades:
                if grade.auto_score is not None and grade.manual_score is None:
                    grade.manual_score = 0.0
                    grade.needs_manual_grade = True
        gb.db.commit()


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
    warm: bool | None = None,
    scheduler: str | None = None,
    db_url: str | None = None,
    cell_timeout: int = CELL_TIMEOUT_S,
    submission_timeout: int = SUBMISSION_TIMEOUT_S,
    limits: Limits | None = None,
    sandbox: bool | None = None,
    force: bool = False,
    progress: bool = True,
    on_result: Callable[[SubmissionResult], None] | None = None,
) -> list[SubmissionResult]:
    """Grade every ``submissions/STUDENT/aid/`` and write ``out_dir``; return one result each.

    ``workers`` submissions execute at once (default: the machine's cores), each in its own
    sandbox (``sandbox=None``: required, and an error if bubblewrap is missing; ``False``: no
    isolation, for trusted notebooks only). Sandboxed grading uses warm sandboxes
    (:class:`grader.pool.WarmPool`: a fresh kernel forked per student from a pre-imported one)
    unless ``warm`` is False or this machine cannot isolate forked kernels, in which case each
    submission gets a cold sandbox of its own. With ``scheduler`` (a Dask scheduler's address) the
    executions run on that cluster instead (:mod:`grader.cluster`), still recorded here. Results are written by this process alone, so the
    gradebook never sees concurrent writers. A journal in ``out_dir`` makes the batch resumable:
    after a crash or a kill, the same command re-grades only what was not recorded (``force``
    re-grades everything).
    """
    from . import sandbox as sb

    _quiet()
    (aid,) = course.resolve([aid])
    submissions, out_dir = Path(submissions), Path(out_dir)
    if not submissions.is_dir():
        raise UserError(f"{submissions}: no such directory; pass --submissions DIR holding STUDENT_ID/{aid}/*.ipynb")
    limits = limits or Limits(cell_timeout=cell_timeout, submission_timeout=submission_timeout)
    if sandbox is None or sandbox:
        if sb.bwrap() is None:
            raise UserError(
                "bubblewrap (bwrap) is not available here, so student code cannot be isolated; install it "
                "(Debian/Ubuntu: apt-get install bubblewrap) or pass --no-sandbox to grade trusted submissions"
            )
        sb.seccomp_program()  # a machine whose system calls the filter does not know: one line
        sandboxed = True
    else:
        sandboxed = False
    out_dir.mkdir(parents=True, exist_ok=True)
    db_url = db_url or sqlite_url(out_dir / "gradebook.db")
    workers = max(1, workers or os.cpu_count() or 1)
    journal = out_dir / ".journal" / aid
    journal.mkdir(parents=True, exist_ok=True)
    results: list[SubmissionResult] = []

    def done(res: SubmissionResult) -> None:
        results.append(res)
        if on_result:
            on_result(res)

    with tempfile.TemporaryDirectory(prefix="grader-") as tmp:
        tmp = Path(tmp)
        os.chmod(tmp, 0o755)
        jobs_root = tmp / "jobs"
        jobs_root.mkdir()
        pool = None
        client = cluster.connect(scheduler) if scheduler else None
        sources = [c.source for p in course.source_notebooks(aid) for c in read_notebook(p).cells
                   if c.cell_type == "code"]
        modules = list(dict.fromkeys([*ALWAYS, *imports_of(sources)]))
        if sandboxed and warm is not False and client is None:
            template = tmp / "data"
            template.mkdir()
            pool = WarmPool(template, modules, limits, workers, jobs_root)
            pool.prestart()  # the sandboxes warm up while the gradebook is prepared
        ensure_env_bin_on_path()
        book = AssignmentGradebook(course, aid, db_url, tmp)
        if pool is not None:
            write_files(template, book.data_files)
        jobs: list[Job] = []
        student_dirs = sorted(
            p for p in submissions.iterdir() if p.is_dir() and not p.is_symlink() and not p.name.startswith(".")
        )
        for sdir in student_dirs:
            job, early = _intake(book, sdir, jobs_root, limits)
            if early is not None:
                _register(book, early)
                misconceptions.forget(book.db_url, aid, early.student_id)  # nothing ran: no codes
                done(early)
            elif not force and (previous := _journaled(journal, job, book)) is not None:
                done(previous)
            else:
                jobs.append(job)
        bar = _progress(len(student_dirs), aid, progress)
        bar.update(len(results))
        if pool is not None and jobs:
            pool = _usable(pool)
        elif pool is not None:
            pool.close()
            pool = None

        def execute(job: Job) -> tuple[Job, dict]:
            if pool is None:
                write_files(job.jobdir, book.data_files)
                return job, run_cold(job, limits, sandboxed)
            try:
                return job, pool.run(job)
            except SlotFailed:  # no student code ran: grade it in a cold sandbox instead
                write_files(job.jobdir, book.data_files)
                return job, run_cold(job, limits, sandboxed)

        if client is not None:
            outcomes = _on_cluster(client, jobs, book, modules, limits, sandboxed, warm is not False)
        else:
            threads = ThreadPoolExecutor(max_workers=workers)
            outcomes = (f.result() for f in as_completed([threads.submit(execute, job) for job in jobs]))
        try:
            for job, outcome in outcomes:
                try:
                    res = _record(book, job, outcome, out_dir, limits)
                    _journal(journal, job, res)
                except Exception as exc:  # never let one submission stop the batch
                    res = SubmissionResult(
                        job.student_id, aid, "error", max_score=book.max_score,
                        flags=[*job.flags, "record-failed"],
                        reason=f"{job.student_id}/{aid}: could not record the grade ({type(exc).__name__}: {str(exc)[:120]})",
                    )
                done(res)
                bar.update(1)
        finally:
            if pool is not None:
                pool.close()
            if client is not None:
                client.close()
            else:
                threads.shutdown(cancel_futures=True)
        bar.close()
    results.sort(key=lambda r: r.student_id)
    from .formgrader import after_grade  # timestamps, late penalties, zeros explained (formgrader)

    after_grade(course, aid, submissions, out_dir, db_url, results)
    write_csv(out_dir / "grades.csv", results)
    return results


def _on_cluster(client, jobs: list[Job], book: AssignmentGradebook, modules: list[str],
                limits: Limits, sandboxed: bool, warm: bool):
    """Run the jobs on a Dask cluster; yield (job, outcome) as each one finishes."""
    from distributed import as_completed as dask_completed

    by_key, futures = {}, []
    for job in jobs:
        remote = cluster.RemoteJob(job.student_id, job.payload, book.data_files, modules, limits, sandboxed, warm)
        fut = client.submit(cluster.execute, remote, pure=False,
                            key=f"grade-{book.aid}-{job.student_id}-{os.urandom(4).hex()}")
        by_key[fut.key] = job
        futures.append(fut)
    for fut in dask_completed(futures, loop=client.loop):
        job = by_key[fut.key]
        try:
            outcome = fut.result()
        except Exception as exc:  # the task itself failed (a worker died twice, say)
            outcome = {"ok": False, "error": f"the cluster could not run it ({type(exc).__name__}: {str(exc)[:160]})"}
        yield job, outcome


def _usable(pool: WarmPool) -> WarmPool | None:
    """The pool, if its first sandbox came up and can isolate forked kernels; else None (cold)."""
    try:
        slot = pool.first_ready()
    except SlotFailed as exc:
        why = str(exc)
    else:
        if slot.isolated:
            return pool
        why = "this kernel does not let a sandbox create user namespaces of its own"
    pool.close()
    print(f"grader: warm kernels unavailable ({why}); grading each submission in a cold sandbox",
          file=sys.stderr)
    return None


def _journal(journal: Path, job: Job, res: SubmissionResult) -> None:
    """Record a finished submission atomically (written after its grades are committed)."""
    data = asdict(res)
    data["graded_notebooks"] = [str(p) for p in res.graded_notebooks]
    entry = journal / f"{job.student_id}.json"
    tmp = entry.with_suffix(".tmp")
    with open(tmp, "w") as fh:
        json.dump({"digest": job.digest, "result": data}, fh)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, entry)


def _journaled(journal: Path, job: Job, book: AssignmentGradebook) -> SubmissionResult | None:
    """The recorded result of this exact submission, if a previous run finished it."""
    from nbgrader.api import Gradebook, MissingEntry

    entry = journal / f"{job.student_id}.json"
    try:
        data = json.loads(entry.read_text())
    except (OSError, ValueError):
        return None
    if data.get("digest") != job.digest:
        return None
    try:
        with Gradebook(book.db_url) as gb:
            gb.find_submission(book.aid, job.student_id)
    except MissingEntry:
        return None
    raw = data["result"]
    raw["cells"] = [CellResult(**c) for c in raw.get("cells", [])]
    raw["graded_notebooks"] = [Path(p) for p in raw.get("graded_notebooks", [])]
    if not all(p.exists() for p in raw["graded_notebooks"]):
        return None
    return SubmissionResult(**raw)


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
