"""Misconceptions as data: a stable code for why each failed test cell failed.

A failed check names its mistake in one line (``Incorrect: fp/fn swapped ...``). This module turns
that line into a machine-readable **code**, stored per student and test cell in a table of ours
(``grader_misconception``) beside nbgrader's in the same gradebook database:

- the ``id`` of the assignment's mutant catalogue entry (``solutions/<aid>/mutants.yml``) of the
  same question whose ``expect`` text the message contains (case-insensitive, as ``grader verify``
  matches it); when several do, the longest ``expect`` (the most specific) wins;
- otherwise a **tier**, in the order the check library raises them (:mod:`grader.checks.core`):
  ``not-attempted`` (``NotAttempted``, or ``NotImplementedError`` left in a stub), ``type-shape``
  (an ``Incorrect`` about the kind or shape of the answer), ``wrong-value`` (any other
  ``Incorrect`` or ``AssertionError``), ``error`` (any other exception, including an exception
  raised inside the student's function that the check reports as "Calling `f(...)` raised"), and
  ``timeout`` (the cell or the submission ran out of time).

The classification runs in the trusted grading process on the recorded output, which is hostile
data: only the first line is read, and everything stored is bounded. When the judgement moves
out of the kernel (issue 10), the checker can pass its code to :func:`store` directly.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Column, MetaData, String, Table, create_engine, delete, insert, select

TIERS = ("not-attempted", "type-shape", "wrong-value", "error", "timeout")
TIER_TEXT = {
    "not-attempted": "not attempted (answer missing, a placeholder, or a stub left as is)",
    "type-shape": "the answer has the wrong type or shape",
    "wrong-value": "a wrong value that matches no catalogued mistake",
    "error": "the code raised an error",
    "timeout": "ran out of time",
}
MAX_MESSAGE = 500

_NOT_ATTEMPTED = {"NotAttempted", "NotImplementedError"}
_WRONG = {"Incorrect", "AssertionError"}
_TIMEOUT = {"CellTimeoutError", "TimeoutError", "DeadKernelError", "SubmissionTimeLimit"}
#: Phrases of the check library's type-and-shape tier (grader.checks.values and core.call).
_TYPE_SHAPE = re.compile(
    r"should be (?:a|an|True or False)\b|should have shape|should hold numbers|"
    r"should return (?:a tuple of )?\d+ values|should return a tuple|but it is a\b|"
    r"but it returned a\b|should be a pandas Series|have lost their \w+ names|"
    r"should have \d+ (?:entries|values|rows|columns)|wrong shape",
    re.I,
)
_QUESTION = re.compile(r"^(q\d+)_")
_STUDENT_RAISED = re.compile(r"^Calling `[^`]*` raised \w+", re.S)

metadata = MetaData()
#: One row per (assignment, student, notebook, failed test cell). Passed cells have no row.
table = Table(
    "grader_misconception",
    metadata,
    Column("assignment", String(128), primary_key=True),
    Column("student_id", String(128), primary_key=True),
    Column("notebook", String(128), primary_key=True),
    Column("grade_id", String(128), primary_key=True),
    Column("question", String(64), nullable=False),
    Column("code", String(128), nullable=False),
    Column("message", String(MAX_MESSAGE), nullable=False),
)


@dataclass(frozen=True)
class Mistake:
    """A catalogued mistake: its ``code`` (the mutant id), question prefix, text and expect."""

    code: str
    question: str
    text: str
    expect: str


def question_of(grade_id: str) -> str:
    """``q3_hidden`` -> ``q3``: the question a cell belongs to; a cell outside the ``qN_``
    scheme (a written answer such as ``written_triage``) is its own question."""
    match = _QUESTION.match(grade_id)
    return match.group(1) if match else grade_id


@functools.lru_cache(maxsize=64)
def _catalogue(path: str, mtime: float) -> tuple[Mistake, ...]:
    import yaml

    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or []
    except (OSError, yaml.YAMLError):
        return ()
    out = []
    for item in data if isinstance(data, list) else []:
        if isinstance(item, dict) and item.get("id") and item.get("cell"):
            out.append(Mistake(str(item["id"]), question_of(str(item["cell"])),
                               " ".join(str(item.get("why") or item["id"]).split()),
                               str(item.get("expect") or "")))
    return tuple(out)


def catalogue(solutions: Path, aid: str) -> tuple[Mistake, ...]:
    """The catalogued mistakes of ``solutions/<aid>/mutants.yml`` (empty if there is none)."""
    path = Path(solutions) / aid / "mutants.yml"
    try:
        mtime = path.stat().st_mtime
    except OSError:
        return ()
    return _catalogue(str(path), mtime)


def classify(grade_id: str, message: str | None, mistakes: Iterable[Mistake] = (),
             *, timed_out: bool = False) -> str:
    """The code of one failed test cell from its one-line error ``ename: evalue``.

    ``message`` is what :func:`grader.notebooks.error_line` returns: ``ename: evalue``, the
    stderr notice (an ``error``), or None when the cell raised nothing and still lost points
    (nbgrader's partial credit: a ``wrong-value``). Returns a mutant id of the same question or
    one of :data:`TIERS`.
    """
    if timed_out:
        return "timeout"
    text = (message or "").strip()[:4000]
    if not text:  # failed without raising or writing to stderr: partial credit from the cell's value
        return "wrong-value"
    first = text.splitlines()[0] if text else ""
    ename, sep, _ = first.partition(": ")
    ename = ename.strip() if sep else first.rstrip(":").strip()
    evalue = text.partition(": ")[2] if sep else ""
    if ename in _TIMEOUT:
        return "timeout"
    if ename in _NOT_ATTEMPTED:
        return "not-attempted"
    if ename not in _WRONG:
        return "error"
    if _STUDENT_RAISED.match(evalue):  # the student's own exception: its text is the student's
        return "error"
    said = evalue.lower()
    q = question_of(grade_id)
    hits = [m for m in mistakes if m.question == q and m.expect and m.expect.lower() in said]
    if hits:
        return max(hits, key=lambda m: (len(m.expect), m.code)).code
    if _TYPE_SHAPE.search(evalue):
        return "type-shape"
    return "wrong-value"


def describe(code: str, mistakes: Iterable[Mistake] = ()) -> str:
    """The text of a code: the catalogue's ``why`` for a mutant id, the tier's meaning otherwise."""
    for m in mistakes:
        if m.code == code:
            return m.text
    return TIER_TEXT.get(code, code)


@functools.lru_cache(maxsize=8)
def engine(db_url: str):
    """An engine on the gradebook with our table created if missing (SQLite and PostgreSQL)."""
    eng = create_engine(db_url)
    metadata.create_all(eng, checkfirst=True)
    return eng


def store(db_url: str, assignment: str, student_id: str, rows: Iterable[tuple[str, str, str, str]]) -> int:
    """Replace the student's codes for ``assignment`` with ``rows`` of
    ``(notebook, grade_id, code, message)`` in one transaction; return how many were written."""
    rows = [
        {"assignment": assignment[:128], "student_id": student_id[:128], "notebook": nb[:128],
         "grade_id": gid[:128], "question": question_of(gid)[:64], "code": code[:128],
         "message": " ".join((msg or "").split())[:MAX_MESSAGE]}
        for nb, gid, code, msg in rows
    ]
    with engine(db_url).begin() as conn:
        conn.execute(delete(table).where(table.c.assignment == assignment, table.c.student_id == student_id))
        if rows:
            conn.execute(insert(table), rows)
    return len(rows)


def record(book, student_id: str, cells, *, notebook: str = "", timed_out: bool = False) -> int:
    """Classify and store the failed cells of one graded submission (called from ``_record``).

    ``book`` is the :class:`grader.grading.AssignmentGradebook`; ``cells`` its
    :class:`~grader.grading.CellResult` list. A submission that ran out of time or crashed as a
    whole (no cells) gets ``timeout`` or ``error`` on every test cell of the assignment.
    """
    mistakes = catalogue(book.course.solutions, book.aid)
    notebook = notebook or (book.notebooks[0] if book.notebooks else "")
    rows = []
    for c in cells:
        if c.points is not None and c.points >= c.max_points:
            continue
        rows.append((notebook, c.grade_id, classify(c.grade_id, c.message, mistakes, timed_out=timed_out),
                     c.message or ""))
    return store(book.db_url, book.aid, student_id, rows)


def record_failure(book, student_id: str, code: str, message: str = "") -> int:
    """Every test cell of the assignment gets ``code`` (``timeout`` or ``error``): the
    submission did not run to the end."""
    rows = [(nb, gid, code, message) for nb, gids in book.test_sources.items() for gid in gids]
    return store(book.db_url, book.aid, student_id, rows)


def forget(db_url: str, assignment: str, student_id: str) -> None:
    """Drop a student's codes for ``assignment`` (their submission no longer runs)."""
    store(db_url, assignment, student_id, [])


def load(db_url: str, assignment: str | None = None) -> list[dict]:
    """Stored codes as dicts (the table's columns), optionally for one assignment; [] if the
    gradebook has no such table yet."""
    from sqlalchemy import inspect

    eng = create_engine(db_url)
    try:
        if not inspect(eng).has_table(table.name):
            return []
        query = select(table)
        if assignment:
            query = query.where(table.c.assignment == assignment)
        with eng.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(query)]
    finally:
        eng.dispose()
