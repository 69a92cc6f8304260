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
3. *execute* (a worker process per submission, :mod:`grader.engine.worker`): runs the student's code in a
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
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import nbformat

from . import judging, misconceptions
from .config import (
    CELL_TIMEOUT_S,
    MAX_NOTEBOOK_BYTES,
    SUBMISSION_TIMEOUT_S,
    Course,
    Deadline,
    OverBudget,
    TrustedBudget,
    UserError,
    ensure_env_bin_on_path,
    sqlite_url,
)
from .engine import Engine, Job, isolation
from .engine.sandbox import Limits
from .notebooks import (
    NotebookError,
    Recovery,
    error_line,
    hash_regular,
    is_test_cell,
    nbgrader_meta,
    read_notebook,
    read_submission,
    recover_cells,
    whole,
)
from .release import generate_for_grading
from .results import CSV_COLUMNS, CellResult, SubmissionResult
from .safetext import clean_flags, clean_strings, clean_text, csv_cell

STUDENT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@+-]{0,99}$")
_log = logging.getLogger("grader")


def _quiet() -> None:
    warnings.simplefilter("ignore")
    for name in ("traitlets", "nbgrader", "sqlalchemy", "alembic"):
        logging.getLogger(name).setLevel(logging.CRITICAL)


class AssignmentGradebook:
    """The assignment as the gradebook knows it, and the source files students get."""

    def __init__(self, course: Course, aid: str, db_url: str, workdir: Path, *,
                 folder: str | None = None, edition: str = ""):
        self.course, self.aid, self.db_url = course, aid, db_url
        # ``aid`` is the gradebook's assignment; ``folder`` the one students submit under (they
        # differ for a retired edition, see grader/editions.py); ``edition`` its name, or ""
        self.folder, self.edition = folder or aid, edition
        release_dir = workdir / "release"
        generate_for_grading(course, aid, release_dir, db_url)
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
    book: AssignmentGradebook, student_dir: Path, jobs_root: Path, limits: Limits,
    clock: Deadline | None = None,
) -> tuple[Job | None, SubmissionResult | None]:
    sid, aid = student_dir.name, book.folder
    result = SubmissionResult(sid, aid, "missing", max_score=book.max_score, edition=book.edition)
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
            started = time.monotonic()
            nb = judging.prepare(nb, book.course, book.aid, sid)  # converted assignments: collect only
            if clock is not None:  # the key's own work (its plans) is not the submission's cost
                clock.extend(time.monotonic() - started)
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


def _timed_intake(book: AssignmentGradebook, student_dir: Path, jobs_root: Path, limits: Limits,
                  budget: TrustedBudget) -> tuple[Job | None, SubmissionResult | None]:
    """:func:`_intake` within ``budget.intake_s``: an overrun (or an unexpected exception) makes
    the submission an ``error`` with a reason, and the batch goes on."""
    clock = Deadline("intake", budget.intake_s)
    try:
        job, early = _intake(book, student_dir, jobs_root, limits, clock)
        if job is not None:
            clock.check()
        return job, early
    except Exception as exc:
        sid = student_dir.name
        if isinstance(exc, OverBudget):
            flag, what = "over-budget:intake", f"{exc}; grading it again may help"
        else:
            flag, what = "intake-failed", f"the submission could not be read ({type(exc).__name__}: {exc})"
        return None, SubmissionResult(sid, book.folder, "error", max_score=book.max_score, flags=[flag],
                                      reason=clean_text(f"{sid}/{book.folder}: {what}", 400),
                                      edition=book.edition)


@dataclass
class _Graded:
    """One notebook of a submission, graded in memory before anything is written."""

    name: str
    nb: nbformat.NotebookNode
    resources: dict
    stop: dict | None  # where execution stopped: {"cell", "why", "error"}; None if it ran through
    grades: list[tuple[str, float | None, float]] = field(default_factory=list)  # id, auto, max
    comments: list[tuple[str, str | None]] = field(default_factory=list)  # id, auto comment
    text: str = ""  # the graded notebook, encoded
    page: str = ""  # its feedback page

    @property
    def ran(self) -> bool:
        """Whether any code cell completed before execution stopped."""
        if self.stop is None:
            return True
        return any(c.cell_type == "code" for c in self.nb.cells[: self.stop["cell"]])


_OUTPUT_KINDS = ("stream", "display_data", "execute_result", "error")
_MAX_OUTPUTS = 1000


def _clean_output(out: object) -> nbformat.NotebookNode | None:
    """An output from the sandbox rebuilt from its allowed fields only (None if malformed)."""
    from .safetext import clean_strings

    if not isinstance(out, dict) or out.get("output_type") not in _OUTPUT_KINDS:
        return None

    def text(value: object) -> str:
        if isinstance(value, list):
            return "".join(v for v in value if isinstance(v, str))
        return value if isinstance(value, str) else ""

    kind = out["output_type"]
    if kind == "stream":
        name = out.get("name") if out.get("name") in ("stdout", "stderr") else "stdout"
        new = nbformat.v4.new_output("stream", name=name, text=text(out.get("text")))
    elif kind == "error":
        tb = out.get("traceback") if isinstance(out.get("traceback"), list) else []
        new = nbformat.v4.new_output("error", ename=text(out.get("ename"))[:500],
                                     evalue=text(out.get("evalue"))[:20_000],
                                     traceback=[text(t) for t in tb[:500]])
    else:
        data = out.get("data") if isinstance(out.get("data"), dict) else {}
        clean = {}
        for mime, value in data.items():
            if not isinstance(mime, str) or len(mime) > 100:
                continue
            if mime.endswith("json"):
                clean[mime] = value if isinstance(value, (dict, list, str, int, float, bool)) else None
            else:
                clean[mime] = text(value)
        new = nbformat.v4.new_output(kind, data=clean)
        if kind == "execute_result":
            count = out.get("execution_count")
            new["execution_count"] = count if isinstance(count, int) and not isinstance(count, bool) else None
    return clean_strings(new)


def _executed(trusted_text: str, returned: object) -> tuple[nbformat.NotebookNode, bool]:
    """The trusted (sanitized) notebook with only the outputs and execution counts taken from
    what the sandbox returned; True if the returned notebook matched it cell for cell."""
    nb = nbformat.reads(trusted_text, as_version=4)
    try:
        data = json.loads(returned) if isinstance(returned, str) else None
    except ValueError:
        data = None
    cells = data.get("cells") if isinstance(data, dict) else None
    if not isinstance(cells, list) or len(cells) != len(nb.cells):
        return nb, False
    for cell, back in zip(nb.cells, cells, strict=True):
        if cell.cell_type != "code" or not isinstance(back, dict) or back.get("cell_type") != "code":
            continue
        outs = back.get("outputs") if isinstance(back.get("outputs"), list) else []
        cell.outputs = [o for o in map(_clean_output, outs[:_MAX_OUTPUTS]) if o is not None]
        count = back.get("execution_count")
        cell.execution_count = count if isinstance(count, int) and not isinstance(count, bool) else None
        timing = _timestamps(back.get("metadata"))
        if timing:
            cell.metadata["execution"] = timing
    return nb, True


_TIMESTAMP_KEYS = ("iopub.execute_input", "iopub.status.busy", "iopub.status.idle", "shell.execute_reply")
_TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?(Z|[+-]\d\d:?\d\d)?$")


def _timestamps(metadata: object) -> dict[str, str]:
    """nbclient's per-cell execution timestamps from a returned cell, if well formed (else {}):
    only the four known keys, each an ISO 8601 time (the benchmark reads cell time from them)."""
    execution = metadata.get("execution") if isinstance(metadata, dict) else None
    if not isinstance(execution, dict):
        return {}
    return {k: v for k in _TIMESTAMP_KEYS
            if isinstance(v := execution.get(k), str) and len(v) <= 40 and _TIMESTAMP.match(v)}


def _cell_name(nb, index: int) -> str:
    gid = nbgrader_meta(nb.cells[index]).get("grade_id") if 0 <= index < len(nb.cells) else None
    return f'cell {index + 1} ("{clean_text(gid, 60)}")' if gid else f"cell {index + 1}"


_STOPPED = {
    "died": ("KernelDied", "the kernel died while running this cell"),
    "time": ("SubmissionTimeLimit", "the submission's time limit was reached while running this cell"),
    "error": ("GradingStopped", "grading stopped here"),
}


def _mark_stopped(nb, stop: dict) -> tuple[int, int]:
    """Mark where execution stopped: the cell it stopped in gets an error saying why, and every
    test cell after it fails as not run. Returns (tests completed before it, tests not run)."""
    index, (ename, said) = stop["cell"], _STOPPED[stop["why"]]
    done = not_run = 0
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        test = is_test_cell(cell)
        if i < index:
            done += test
        elif i == index:
            cell.setdefault("outputs", []).append(nbformat.v4.new_output(
                "error", ename=ename, evalue=said, traceback=[f"{ename}: {said}"]))
            not_run += test
        else:
            cell.outputs = [nbformat.v4.new_output(
                "error", ename="NotRun", evalue=f"not run: grading stopped at {_cell_name(nb, index)}",
                traceback=[f"NotRun: grading stopped at {_cell_name(nb, index)}"])] if test else []
            cell.execution_count = None
            not_run += test
    return done, not_run


def _stop_of(outcome: dict, name: str, nb, matched: bool) -> dict | None:
    """Where this notebook's execution stopped, validated (None: it ran through)."""
    stops = outcome.get("stopped") if isinstance(outcome.get("stopped"), dict) else {}
    stop = stops.get(name)
    if matched and outcome.get("ok") and not isinstance(stop, dict):
        return None
    if not matched:  # nothing usable came back: nothing ran, as far as the grade is concerned
        why = "time" if outcome.get("timeout") else ("died" if outcome.get("ok") is False else "error")
        return {"cell": 0, "why": why, "nothing": True,
                "error": clean_text(outcome.get("error") or "it returned no notebook", 300)}
    if not isinstance(stop, dict):
        stop = {}
    cell = stop.get("cell")
    cell = cell if isinstance(cell, int) and not isinstance(cell, bool) and 0 <= cell < len(nb.cells) else 0
    why = stop.get("why") if stop.get("why") in _STOPPED else "error"
    return {"cell": cell, "why": why, "error": clean_text(stop.get("error") or outcome.get("error") or "", 300)}


def _grade_notebook(book: AssignmentGradebook, job: Job, name: str, outcome: dict, limits: Limits,
                    result: SubmissionResult, clock: Deadline) -> _Graded:
    """Grade one returned notebook in memory (nothing is written)."""
    from nbgrader.preprocessors import LimitOutput
    from nbgrader.utils import compute_checksum, determine_grade, is_grade, is_solution, is_task

    from .notebooks import cap_outputs

    returned = outcome.get("notebooks", {}).get(name) if isinstance(outcome.get("notebooks"), dict) else None
    nb, matched = _executed(job.payload[name], returned)
    # converted assignments: the trusted judge replaces each collecting cell's outputs by its verdict
    result.flags += [f for f in judging.apply(nb, book.course, book.aid, job.student_id) if f not in result.flags]
    clock.check()
    if cap_outputs(nb, limits.max_output_kb * 1024) and "limit:output" not in result.flags:
        result.flags.append("limit:output")
    resources = book.resources(job.student_id, name)
    pre = LimitOutput()
    pre.log.setLevel(logging.CRITICAL)
    nb, resources = pre.preprocess(nb, resources)
    stop = _stop_of(outcome, name, nb, matched)
    graded = _Graded(name, nb, resources, stop)
    if stop is not None:
        graded.stop["counts"] = _mark_stopped(nb, stop)
    clock.check()
    for cell in nb.cells:
        meta = nbgrader_meta(cell)
        if is_grade(cell):
            points, max_points = determine_grade(cell, _log)
            graded.grades.append((meta["grade_id"], points, float(max_points)))
            if cell.cell_type == "code" and not meta.get("solution"):
                message = error_line(cell)
                result.cells.append(CellResult(meta["grade_id"], points, float(max_points),
                                               clean_text(message, 2000) if message else None))
        if is_solution(cell) or is_task(cell):
            unchanged = meta.get("checksum") == compute_checksum(cell) and not is_task(cell)
            graded.comments.append((meta["grade_id"], "No response." if unchanged else None))
        if any(o.get("ename") == "CellTimeoutError" for o in cell.get("outputs", [])):
            if "timeout" not in result.flags:
                result.flags.append("timeout")
    clock.check()
    return graded


def _stop_reason(sid: str, aid: str, g: _Graded, timeout_s: int, flags: list[str]) -> str:
    done, not_run = g.stop.get("counts", (0, 0))
    if g.stop.get("nothing"):
        return (f"{sid}/{aid}/{g.name}: no cell could be graded (the grading process "
                f"{g.stop['error']}); its {not_run} tests score 0")
    where = _cell_name(g.nb, g.stop["cell"])
    if not g.ran and g.nb.cells and g.nb.cells[g.stop["cell"]].cell_type != "code":
        where = "the kernel's start-up, before its first code cell"
    if g.stop["why"] == "died":
        cause = "at the memory limit" if "limit:memory" in flags else "(os._exit, a crash or a limit)"
        what = f"the kernel died in {where} {cause}"
    elif g.stop["why"] == "time":
        what = f"the submission's time limit ({timeout_s} s) was reached in {where}"
    else:
        what = f"grading stopped at {where} ({g.stop['error'] or 'the grading process failed'})"
    return (f"{sid}/{aid}/{g.name}: {what}; the {done} tests before it keep their points, "
            f"the {not_run} from there on score 0")


def _record(
    book: AssignmentGradebook, job: Job, outcome: dict, out_dir: Path, limits: Limits,
    budget: TrustedBudget | None = None,
) -> SubmissionResult:
    """Single writer: grade one executed job in memory, render its feedback, then write the
    gradebook in one transaction and the graded notebooks and pages atomically.

    A notebook that stopped part-way (its kernel died, or the time ran out) is graded as far as
    it ran: completed tests keep their points, the rest score 0, written answers go to the
    manual grader. Raises on any failure (the caller withholds the submission, see
    :func:`_record_failed`); :class:`grader.config.OverBudget` if a step overruns ``budget``.
    """
    from .feedback import render

    budget = budget or TrustedBudget()
    clock = Deadline("recording", budget.record_s)
    sid, aid = job.student_id, book.folder
    outcome = outcome if isinstance(outcome, dict) else {}
    result = SubmissionResult(sid, aid, "graded", max_score=book.max_score,
                              flags=clean_flags(job.flags, strict=False), edition=book.edition)
    elapsed = outcome.get("elapsed")
    result.seconds = float(elapsed) if isinstance(elapsed, (int, float)) else time.perf_counter() - job.started
    hits = outcome.get("limits") if isinstance(outcome.get("limits"), list) else []
    result.flags += [f for f in clean_flags([f"limit:{h}" for h in hits if isinstance(h, str)])
                     if f not in result.flags]
    result.flags += [f for f in clean_flags(outcome.get("findings")) if f not in result.flags]
    notebooks = [_grade_notebook(book, job, name, outcome, limits, result, clock) for name in job.notebooks]
    stopped = [g for g in notebooks if g.stop is not None]
    if stopped:
        why = {g.stop["why"] for g in stopped}
        if "time" in why and "timeout" not in result.flags:
            result.flags.append("timeout")
        if "died" in why and "crashed" not in result.flags:
            result.flags.append("crashed")
        if not any(g.ran for g in notebooks):
            result.status = "error"
        result.reason = "; ".join(_stop_reason(sid, aid, g, limits.submission_timeout, result.flags)
                                   for g in stopped)
    if job.notes:  # intake's repairs and recoveries, said plainly
        notes = f"{sid}/{aid}: {'; '.join(job.notes)}"
        result.reason = f"{result.reason}; {notes}" if result.reason else notes
    tampered = [f for f in result.flags if f.startswith("tamper:")]
    written = any(auto is None for g in notebooks for _gid, auto, _max in g.grades)
    result.needs_manual_grade = bool(tampered) or written
    if tampered:
        result.reason = clean_text(
            f"{sid}/{aid}: autograded score withheld for review ({result.auto_score:g} computed); "
            f"the submission {', '.join(_explain(f) for f in tampered)}"
            + (f". Also: {result.reason}" if result.reason else ""), 400)
    result.reason = clean_text(result.reason, 400)
    for g in notebooks:
        g.text = nbformat.writes(clean_strings(g.nb))
        g.text.encode("utf-8")
        clock.check()
    pages = Deadline("feedback", budget.feedback_s)
    reviewed = _reviewed(book, sid)
    for g in notebooks:
        g.page = render(g.nb, g.resources, result, deadline=pages,
                        grades=_page_grades(g, bool(tampered), reviewed))
        g.page.encode("utf-8")
    files = []
    for g in notebooks:
        files.append((out_dir / "autograded" / sid / aid / g.name, g.text))
        files.append((out_dir / "feedback" / sid / aid / (Path(g.name).stem + ".html"), g.page))
        if book.aid != aid:  # a retired edition: the formgrader opens it under its gradebook name
            files.append((out_dir / "autograded" / sid / book.aid / g.name, g.text))
    staged = _stage(files)
    try:
        clock.check()
        _commit(book, sid, notebooks, withhold=bool(tampered))
        for tmp, path in staged:
            os.replace(tmp, path)
    finally:
        for tmp, _path in staged:
            tmp.unlink(missing_ok=True)
    result.graded_notebooks = [out_dir / "autograded" / sid / aid / g.name for g in notebooks]
    misconceptions.record(book, sid, result.cells, notebook=job.notebooks[0])  # codes per failed test cell
    return _finish(book, result)


def _reviewed(book: AssignmentGradebook, sid: str) -> dict[tuple[str, str], tuple[float | None, str | None]]:
    """(notebook, grade_id) -> (manual score, manual comment) an instructor already gave this
    submission (a re-grade keeps them), read without writing anything."""
    from nbgrader.api import Gradebook, MissingEntry

    found: dict[tuple[str, str], tuple[float | None, str | None]] = {}
    with Gradebook(book.db_url) as gb:
        try:
            sub = gb.find_submission(book.aid, sid)
        except MissingEntry:
            return found
        for nb in sub.notebooks:
            for grade in nb.grades:
                found[(nb.name, grade.name)] = (grade.manual_score, None)
            for comment in nb.comments:
                score = found.get((nb.name, comment.name), (None, None))[0]
                found[(nb.name, comment.name)] = (score, comment.manual_comment)
    return found


def _page_grades(g: _Graded, withhold: bool, reviewed: dict) -> dict:
    """The scores a feedback page shows, as the gradebook will hold them after the commit."""
    notebook_id = Path(g.name).stem
    cells: dict[str, dict] = {}
    for gid, auto, max_points in g.grades:
        manual = reviewed.get((notebook_id, gid), (None, None))[0]
        if manual is None and withhold and auto is not None:
            manual = 0.0
        cells[gid] = {"score": manual if manual is not None else auto, "points": max_points}
    for gid, said in g.comments:
        manual_comment = reviewed.get((notebook_id, gid), (None, None))[1]
        cells.setdefault(gid, {})["comment"] = manual_comment or said
    return {"cells": cells, "score": sum(c.get("score") or 0.0 for c in cells.values()),
            "max_score": sum(c.get("points") or 0.0 for c in cells.values())}


def _stage(files: list[tuple[Path, str]]) -> list[tuple[Path, Path]]:
    """Write each (path, text) to a temporary file beside its path; return (tmp, path) pairs."""
    staged = []
    try:
        for path, text in files:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(path.name + ".tmp")
            tmp.write_text(text, encoding="utf-8")
            staged.append((tmp, path))
    except BaseException:
        for tmp, _path in staged:
            tmp.unlink(missing_ok=True)
        raise
    return staged


def _commit(book: AssignmentGradebook, sid: str, notebooks: list[_Graded], withhold: bool) -> None:
    """Write one submission's autograded scores and comments in one gradebook transaction
    (nbgrader's SaveAutoGrades rules: a cell with an existing manual score, or no automatic score,
    needs manual grading); ``withhold`` also zeroes the autograded cells pending review."""
    from nbgrader.api import Gradebook

    with Gradebook(book.db_url) as gb:
        gb.update_or_create_student(sid)
        gb.update_or_create_submission(book.aid, sid)
        try:
            for g in notebooks:
                notebook_id = Path(g.name).stem
                for gid, auto, _max in g.grades:
                    grade = gb.find_grade(gid, notebook_id, book.aid, sid)
                    grade.auto_score = auto
                    grade.needs_manual_grade = grade.manual_score is not None or auto is None
                    if withhold and auto is not None and grade.manual_score is None:
                        grade.manual_score = 0.0
                        grade.needs_manual_grade = True
                for gid, said in g.comments:
                    gb.find_comment(gid, notebook_id, book.aid, sid).auto_comment = said
            gb.db.commit()
        except BaseException:
            gb.db.rollback()
            raise


def _record_failed(book: AssignmentGradebook, job: Job, exc: BaseException, out_dir: Path) -> SubmissionResult:
    """A submission whose recording failed: withheld in the gradebook too (autograded cells at
    zero pending review, written answers needing manual grading), its findings kept."""
    from .config import OverBudget

    sid, aid = job.student_id, book.folder
    flags = clean_flags(job.flags, strict=False)
    if isinstance(exc, OverBudget):
        flags.append(f"over-budget:{'feedback' if exc.step == 'feedback' else 'record'}")
        what = f"{exc}; grading it again may help, or raise the budget in grader/config.py"
    else:
        flags.append("record-failed")
        what = f"could not record the grade ({type(exc).__name__}: {exc})"
    result = SubmissionResult(sid, aid, "error", max_score=book.max_score, flags=flags,
                              reason=clean_text(f"{sid}/{aid}: {what}; withheld for review", 400),
                              needs_manual_grade=True, edition=book.edition)
    for path in (out_dir / "autograded" / sid / aid, out_dir / "feedback" / sid / aid,
                 out_dir / "autograded" / sid / book.aid):
        for stale in path.glob("*") if path.is_dir() else []:
            stale.unlink(missing_ok=True)  # a previous run's pages would contradict the record
    try:
        _withhold_all(book, sid)
        _finish(book, result)
    except Exception:  # the gradebook itself is failing: grades.csv still says error
        pass
    return result


TAMPER_EXPLANATIONS = {
    "input-transformer": "installed an IPython input transformer (it can rewrite later cells, tests included)",
    "ast-transformer": "installed an AST transformer (it can rewrite later cells, tests included)",
    "exception-handler": "installed a custom exception handler or excepthook (it can hide failing tests)",
    "event-hook": "registered an IPython event hook (code that runs around every cell)",
    "shell-override": "replaced a method of the IPython shell",
    "import-hook": "installed an import hook",
    "probe-blocked": "blocked the grader's integrity check",
    "cleared-error": "cleared a failing test's error from the cell's output",
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


def _withhold_all(book: AssignmentGradebook, sid: str) -> None:
    """In one transaction: every autograded cell of the submission at zero pending review, every
    written answer waiting for the manual grader (used when recording failed part-way)."""
    from nbgrader.api import Gradebook

    with Gradebook(book.db_url) as gb:
        gb.update_or_create_student(sid)
        submission = gb.update_or_create_submission(book.aid, sid)
        try:
            for nb in submission.notebooks:
                for grade in nb.grades:
                    if grade.manual_score is None:
                        if grade.cell.cell_type == "code":
                            grade.manual_score = 0.0
                        grade.needs_manual_grade = True
            gb.db.commit()
        except BaseException:
            gb.db.rollback()
            raise


def _zero_grades(book: AssignmentGradebook, sid: str, keep_written: bool = False) -> None:
    """An ungradable submission, in one transaction: its autograded cells at zero; its written
    answers at zero too, unless ``keep_written`` (an answer exists), when they wait for the
    manual grader (no automatic score, ``needs_manual_grade``)."""
    from nbgrader.api import Gradebook

    with Gradebook(book.db_url) as gb:
        submission = gb.find_submission(book.aid, sid)
        try:
            for nb in submission.notebooks:
                for grade in nb.grades:
                    if grade.manual_score is not None:
                        continue
                    if keep_written and grade.cell.cell_type == "markdown":
                        grade.auto_score = None
                        grade.needs_manual_grade = True
                    elif grade.auto_score is None:
                        grade.auto_score = 0.0
                        grade.needs_manual_grade = False
            gb.db.commit()
        except BaseException:
            gb.db.rollback()
            raise


def _written_answers(book: AssignmentGradebook, adir: Path) -> bool:
    """Whether a submission folder holds a written answer: a readable notebook whose graded
    Markdown answer cell differs from the released one (regular files under 64 MiB only)."""
    import stat

    released: dict[str, str] = {}
    for name in book.notebooks:
        for cell in nbformat.read(book.release / name, as_version=4).cells:
            meta = nbgrader_meta(cell)
            if meta.get("grade") and meta.get("solution") and cell.cell_type == "markdown":
                released[meta["grade_id"]] = cell.source.strip()
    if not released or not adir.is_dir() or adir.is_symlink():
        return False
    for path in sorted(adir.glob("*.ipynb"))[:10]:
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW)
        except OSError:
            continue
        try:
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode) or info.st_size > 64 * 2**20:
                continue
            with os.fdopen(os.dup(fd), "rb") as fh:
                data = json.loads(fh.read().decode("utf-8-sig", errors="replace"))
        except (OSError, ValueError, RecursionError):
            continue
        finally:
            os.close(fd)
        cells = data.get("cells") if isinstance(data, dict) else None
        for cell in cells if isinstance(cells, list) else []:
            meta = cell.get("metadata", {}).get("nbgrader", {}) if isinstance(cell, dict) else {}
            gid = meta.get("grade_id") if isinstance(meta, dict) else None
            if not isinstance(gid, str) or gid not in released:
                continue
            src = cell.get("source", "")
            src = "".join(x for x in src if isinstance(x, str)) if isinstance(src, list) else src
            if isinstance(src, str) and src.strip() and src.strip() != released[gid]:
                return True
    return False


def _finish(book: AssignmentGradebook, result: SubmissionResult) -> SubmissionResult:
    from nbgrader.api import Gradebook

    with Gradebook(book.db_url) as gb:
        sub = gb.find_submission(book.aid, result.student_id)
        result.score = float(sub.score)
        result.max_score = float(sub.max_score)
        result.needs_manual_grade = bool(sub.needs_manual_grade)
    return result


@dataclass
class GradeOptions:
    """How :func:`grade` grades a batch; every field has the default ``grader grade`` uses.

    - ``workers``: submissions executing at once (default: the machine's cores);
    - ``warm``: warm sandboxes (``None``/``True``: where this machine can isolate forked kernels;
      ``False``: a cold sandbox per submission);
    - ``scheduler``: a Dask scheduler's address: execute on that cluster, record here;
    - ``sandbox``: ``None`` requires bubblewrap (one-line error without it), ``False`` runs
      trusted notebooks without isolation;
    - ``cell_timeout``, ``submission_timeout`` (seconds), or ``limits`` (all of
      :class:`grader.engine.Limits`, overriding both);
    - ``db_url``: the gradebook's SQLAlchemy URL (default: sqlite in ``out_dir``);
    - ``force``: re-grade what the journal says was recorded;
    - ``progress``: a progress bar on stderr; ``on_result``: called with each result as it is
      recorded;
    - ``budget``: the trusted process's time per submission (:class:`grader.config.TrustedBudget`).
    """

    workers: int | None = None
    warm: bool | None = None
    scheduler: str | None = None
    db_url: str | None = None
    cell_timeout: int = CELL_TIMEOUT_S
    submission_timeout: int = SUBMISSION_TIMEOUT_S
    limits: Limits | None = None
    sandbox: bool | None = None
    force: bool = False
    progress: bool = True
    on_result: Callable[[SubmissionResult], None] | None = None
    budget: TrustedBudget | None = None


def grade(course: Course, aid: str, submissions: Path, out_dir: Path,
          options: GradeOptions | None = None, **overrides) -> list[SubmissionResult]:
    """Grade every ``submissions/STUDENT/aid/`` and write ``out_dir``; return one result each.

    ``options`` (a :class:`GradeOptions`; keyword ``overrides`` replace its fields, e.g.
    ``grade(..., workers=2)``) says how. Each submission is read and sanitized here (intake),
    executed by the :class:`grader.engine.Engine` (a warm or cold bubblewrap sandbox, or a Dask
    cluster), then judged and recorded here: results are written by this process alone, so the
    gradebook never sees concurrent writers. A journal in ``out_dir`` makes the batch resumable:
    after a crash or a kill, the same command re-grades only what was not recorded (``force``
    re-grades everything). An overrun of ``budget`` in this (trusted) process makes that
    submission an ``error``, withheld for review, and the batch goes on. Raises
    :class:`UserError` (one line) for a missing ``submissions`` folder or a machine that cannot
    sandbox; never for one bad submission. Unknown ``overrides`` raise ``TypeError``.
    """
    opt = replace(options or GradeOptions(), **overrides)
    _quiet()
    (aid,) = course.resolve([aid])
    submissions, out_dir = Path(submissions), Path(out_dir)
    if not submissions.is_dir():
        raise UserError(f"{submissions}: no such directory; pass --submissions DIR holding STUDENT_ID/{aid}/*.ipynb")
    limits = opt.limits or Limits(cell_timeout=opt.cell_timeout, submission_timeout=opt.submission_timeout)
    sandboxed = isolation(opt.sandbox)
    out_dir.mkdir(parents=True, exist_ok=True)
    db_url = opt.db_url or sqlite_url(out_dir / "gradebook.db")
    workers = max(1, opt.workers or os.cpu_count() or 1)
    journal = out_dir / ".journal" / aid
    journal.mkdir(parents=True, exist_ok=True)
    results: list[SubmissionResult] = []

    def done(res: SubmissionResult) -> None:
        results.append(res)
        if opt.on_result:
            opt.on_result(res)

    student_dirs = sorted(
        p for p in submissions.iterdir() if p.is_dir() and not p.is_symlink() and not p.name.startswith(".")
    )
    sources = [c.source for p in course.source_notebooks(aid) for c in read_notebook(p).cells
               if c.cell_type == "code"]
    with tempfile.TemporaryDirectory(prefix="grader-") as tmp:
        tmp = Path(tmp)
        os.chmod(tmp, 0o755)
        # warm sandboxes start warming now, while the gradebook is prepared
        engine = Engine(tmp, sources, limits, workers=workers, submissions=len(student_dirs),
                        sandboxed=sandboxed, warm=opt.warm, scheduler=opt.scheduler)
        with engine:
            ensure_env_bin_on_path()
            book = AssignmentGradebook(course, aid, db_url, tmp)
            books = _edition_books(course, book, tmp)
            engine.provide({k: v for b in reversed(books) for k, v in b.data_files.items()})
            graded_by: dict[str, AssignmentGradebook] = {}
            budget = opt.budget or TrustedBudget()
            bar = _progress(len(student_dirs), aid, opt.progress)

            def record(job: Job, outcome: dict) -> None:
                its = graded_by.get(job.student_id, book)
                try:
                    res = _record(its, job, outcome, out_dir, limits, budget)
                    _journal(journal, job, res)
                except Exception as exc:  # never let one submission stop the batch
                    res = _record_failed(its, job, exc, out_dir)  # not journaled: retried next run
                    (journal / f"{job.student_id}.json").unlink(missing_ok=True)
                done(res)
                bar.update(1)

            # Each submission starts executing as soon as its intake is done (the first result
            # must not wait for every intake), and what has finished is recorded between intakes.
            threads = None if engine.remote else ThreadPoolExecutor(max_workers=workers)
            running: set = set()
            remote: list[Job] = []
            try:
                for sdir in student_dirs:
                    its, note = _edition_of(books, sdir / aid)
                    graded_by[sdir.name] = its
                    _forget_other_editions(books, its, sdir.name)
                    job, early = _timed_intake(its, sdir, engine.jobs_root, limits, budget)
                    if job is not None and note:
                        job.notes.append(note)
                    if early is not None:
                        _register(its, early, sdir / aid)
                        misconceptions.forget(its.db_url, its.aid, early.student_id)  # nothing ran: no codes
                        done(early)
                        bar.update(1)
                    elif not opt.force and (previous := _journaled(journal, job, its)) is not None:
                        done(previous)
                        bar.update(1)
                    elif threads is None:
                        remote.append(job)
                    else:
                        running.add(threads.submit(lambda j: (j, engine.run(j)), job))
                    for fut in [f for f in running if f.done()]:
                        running.discard(fut)
                        record(*fut.result())
                if threads is None:
                    for job, outcome in engine.run_remote(remote, aid):
                        record(job, outcome)
                else:
                    for fut in as_completed(running):
                        record(*fut.result())
            finally:
                if threads is not None:
                    threads.shutdown(cancel_futures=True)
            bar.close()
            current = [r for r in results if graded_by.get(r.student_id, book) is book]
            _after_retired(books, graded_by, submissions, out_dir, results)
    results.sort(key=lambda r: r.student_id)
    from .formgrader import after_grade  # timestamps, late penalties, zeros explained (formgrader)

    after_grade(course, aid, submissions, out_dir, db_url, current)
    write_csv(out_dir / "grades.csv", results)
    return results


def _edition_books(course: Course, book: AssignmentGradebook, tmp: Path) -> list[AssignmentGradebook]:
    """``book`` (the current edition) and one gradebook assignment per retired edition of its
    assignment (:mod:`grader.editions`), in the same gradebook; just ``[book]`` for an assignment
    with one edition."""
    from . import editions

    retired = editions.retired_editions(course, book.aid)
    if not retired:
        return [book]
    book.edition = editions.current_edition(course, book.aid) or "current"
    books = [book]
    for name in retired:
        where = tmp / "editions" / name
        view, gb_name = editions.retired_course(course, book.aid, name, where)
        books.append(AssignmentGradebook(view, gb_name, book.db_url, where, folder=book.aid,
                                         edition=name))
    from nbgrader.api import Gradebook

    with Gradebook(book.db_url) as gb:  # one due date for every edition (``grader duedate AID``)
        due = gb.find_assignment(book.aid).duedate
        for its in books[1:]:
            gb.update_or_create_assignment(its.aid, duedate=due)
    return books


def _after_retired(books: list[AssignmentGradebook], graded_by: dict[str, AssignmentGradebook],
                   submissions: Path, out_dir: Path, results: list[SubmissionResult]) -> None:
    """What :func:`grader.formgrader.after_grade` does for the current edition, for the students
    graded on a retired one: timestamps and late penalties (the current edition's due date), and
    the formgrader's note on a submission that could not be graded."""
    from . import late
    from .formgrader import explain_zeros

    for its in books[1:]:
        mine = [r for r in results if graded_by.get(r.student_id) is its]
        if mine:
            late.apply(its.course, its.aid, submissions, its.db_url, mine, folder=its.folder)
            explain_zeros(its.course, its.aid, out_dir, its.db_url, mine)


def _forget_other_editions(books: list[AssignmentGradebook], its: AssignmentGradebook, sid: str) -> None:
    """Remove the student's submission from the other editions' gradebook assignments (an
    earlier run graded another notebook on another edition): one edition holds each grade."""
    if len(books) == 1 or not STUDENT_ID.match(sid):
        return
    from nbgrader.api import Gradebook, MissingEntry

    with Gradebook(its.db_url) as gb:
        for other in books:
            if other is not its:
                try:
                    gb.remove_submission(other.aid, sid)
                except MissingEntry:
                    continue


def _edition_of(books: list[AssignmentGradebook], adir: Path) -> tuple[AssignmentGradebook, str]:
    """The book of the edition the submission in ``adir`` was written for, and a note for the
    instructor (:func:`grader.editions.choose`); the current edition when there is one, or when
    the submission cannot be read here (intake then says why)."""
    if len(books) == 1:
        return books[0], ""
    from . import editions

    submitted = {}
    try:
        files, _ = _notebook_files(adir, books[0]) if adir.is_dir() and not adir.is_symlink() else ({}, "")
        for name, path in files.items():
            try:
                submitted[name] = read_submission(path)[0]
            except NotebookError:
                continue
        match = editions.choose([(b.edition, b.sources) for b in books], submitted)
    except Exception:  # an unreadable submission: intake reports it against the current edition
        return books[0], ""
    return books[match.index], match.note


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
    try:
        raw = data["result"]
        raw["cells"] = [CellResult(**c) for c in raw.get("cells", [])]
        raw["graded_notebooks"] = [Path(p) for p in raw.get("graded_notebooks", [])]
        if not all(p.exists() for p in raw["graded_notebooks"]):
            return None
        res = SubmissionResult(**raw)
    except (KeyError, TypeError, ValueError, AttributeError):  # an entry from another version
        return None
    res.flags = clean_flags(res.flags, strict=False)
    res.reason = clean_text(res.reason, 400)
    return res


def _register(book: AssignmentGradebook, result: SubmissionResult, adir: Path | None = None) -> None:
    """Put a student whose submission could not be graded on the roster; if it broke, at zero,
    except a written answer found in ``adir``, which waits for the manual grader."""
    from nbgrader.api import Gradebook

    if result.status == "error" and STUDENT_ID.match(result.student_id):
        with Gradebook(book.db_url) as gb:
            gb.update_or_create_student(result.student_id)
            gb.update_or_create_submission(book.aid, result.student_id)
        try:
            written = adir is not None and _written_answers(book, adir)
        except Exception:
            written = False
        _zero_grades(book, result.student_id, keep_written=written)
        if written:
            result.reason = clean_text(
                f"{result.reason}; the written answer is kept for manual grading", 400)
        _finish(book, result)
    elif STUDENT_ID.match(result.student_id):
        with Gradebook(book.db_url) as gb:
            gb.update_or_create_student(result.student_id)


def write_csv(path: Path, results: list[SubmissionResult]) -> None:
    """Write ``grades.csv`` atomically, one row per (student, assignment), sorted.

    Rows of an earlier run are kept (re-cleaned); a row that cannot be built becomes an
    ``error`` row saying so, so one bad row never costs the others their grades.
    """
    rows: dict[tuple[str, str], dict[str, str]] = {}
    if path.exists():
        try:
            with open(path, newline="", encoding="utf-8", errors="replace") as fh:
                for row in csv.DictReader(fh):
                    row = {k: csv_cell(row.get(k) or "", 2000) for k in CSV_COLUMNS}
                    rows[(row["student_id"], row["assignment"])] = row
        except (OSError, csv.Error):
            rows = {}
    for res in results:
        try:
            row = res.row()
        except Exception as exc:  # pragma: no cover - row() is written not to raise
            row = {k: "" for k in CSV_COLUMNS}
            row.update(student_id=csv_cell(getattr(res, "student_id", "?"), 100),
                       assignment=csv_cell(getattr(res, "assignment", "?"), 100), status="error",
                       score="0", reason=csv_cell(f"row could not be written ({type(exc).__name__})"))
        rows[(row["student_id"], row["assignment"])] = row
    tmp = path.with_suffix(".csv.tmp")
    with open(tmp, "w", newline="", encoding="utf-8", errors="replace") as fh:
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
