"""Submission times, due dates and late penalties, with nbgrader's own mechanisms.

- *Timestamp*: nbgrader's exchange writes ``timestamp.txt`` beside a collected submission
  (``submitted/STUDENT/ASSIGNMENT/timestamp.txt``, e.g. ``2026-12-03 23:59:00.000000 UTC``). It
  is read here with nbgrader's parser and stored as the submission's timestamp in the gradebook,
  so the formgrader counts the submission as autograded.
- *Due date*: nbgrader keeps it in the gradebook, ``Assignment.duedate`` (UTC);
  ``grader duedate ASSIGNMENT WHEN`` sets it (:func:`set_duedate`). Per-student extensions are
  nbgrader's too (``Gradebook.grant_extension``).
- *Penalty*: nbgrader's ``AssignLatePenalties`` preprocessor with the plugin the course's
  ``nbgrader_config.py`` names (``c.AssignLatePenalties.plugin_class``), e.g. :class:`PerDayPenalty`
  below or nbgrader's ``LateSubmissionPlugin`` (``penalty_method = 'zero'``). The penalty is kept
  per notebook in the gradebook (``SubmittedNotebook.late_submission_penalty``); the score
  reported everywhere (``grades.csv``, ``grader export``) is nbgrader's score minus it, as in
  nbgrader's own CSV export. :func:`refresh` recomputes it after manual grading.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
from pathlib import Path

from nbgrader.plugins import LateSubmissionPlugin
from traitlets import Float

from .config import Course, UserError

#: A ``timestamp.txt`` longer than this is not nbgrader's and is ignored.
MAX_TIMESTAMP_BYTES = 100
SECONDS_PER_DAY = 86400


class PerDayPenalty(LateSubmissionPlugin):
    """A late penalty of ``percent_per_day`` of the notebook's score per started day late.

    ``penalty = score * min(1, ceil(seconds_late / 86400) * percent_per_day / 100)``; a
    submission one second late loses one day's share. Configure it in ``nbgrader_config.py``::

        c.AssignLatePenalties.plugin_class = "grader.late.PerDayPenalty"
        c.PerDayPenalty.percent_per_day = 10
    """

    percent_per_day = Float(10.0, min=0.0, max=100.0,
                            help="Share of the score lost per started day late, in percent.").tag(config=True)

    def late_submission_penalty(self, student_id: str, score: float, total_seconds_late: float) -> float | None:
        if total_seconds_late <= 0 or not score:
            return None
        days = math.ceil(total_seconds_late / SECONDS_PER_DAY)
        return score * min(1.0, days * self.percent_per_day / 100.0)


def parse_when(text: str) -> dt.datetime:
    """A due date from the command line (ISO 8601; no offset means UTC) as naive UTC.

    Raises ``UserError`` naming the accepted form.
    """
    from nbgrader.utils import parse_utc

    try:
        when = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        raise UserError(f"{text!r} is not a date and time; write it as 2026-12-01T23:59 (UTC) "
                        "or 2026-12-01T23:59+01:00") from None
    return parse_utc(when)


def read_timestamp(assignment_dir: Path) -> tuple[dt.datetime | None, str | None]:
    """(the submission time as naive UTC, None) from ``assignment_dir/timestamp.txt``;
    (None, None) if there is none; (None, a one-line problem) if it is unreadable."""
    from nbgrader.utils import parse_utc

    path = Path(assignment_dir) / "timestamp.txt"
    if path.is_symlink() or not path.is_file():
        return None, None
    try:
        with open(path, "rb") as fh:
            raw = fh.read(MAX_TIMESTAMP_BYTES + 1)
        if len(raw) > MAX_TIMESTAMP_BYTES:
            raise ValueError("too long")
        return parse_utc(raw.decode("utf-8").strip()), None
    except (OSError, ValueError, OverflowError, UnicodeDecodeError) as exc:
        return None, f"{path}: not an nbgrader timestamp ({type(exc).__name__}); ignored"


def set_duedate(aid: str, when: dt.datetime | None, db_url: str) -> dt.datetime | None:
    """Store ``when`` (naive UTC; None clears it) as the assignment's due date in the gradebook."""
    from nbgrader.api import Gradebook

    from .config import ensure_env_bin_on_path

    ensure_env_bin_on_path()
    with Gradebook(db_url) as gb:
        assignment = gb.update_or_create_assignment(aid)
        assignment.duedate = when
        gb.db.commit()
    return when


def _penalize(cfg, aid: str, sid: str, db_url: str) -> float:
    """Run nbgrader's AssignLatePenalties (configured by ``cfg``, the course's nbgrader config)
    on each notebook of one submission; return the submission's total penalty."""
    import nbformat
    from nbgrader.api import Gradebook
    from nbgrader.preprocessors import AssignLatePenalties

    with Gradebook(db_url) as gb:
        names = [nb.name for nb in gb.find_submission(aid, sid).notebooks]
    for name in names:
        pre = AssignLatePenalties(config=cfg)
        pre.log.setLevel(logging.CRITICAL)
        resources = {"nbgrader": {"assignment": aid, "notebook": name, "student": sid, "db_url": db_url}}
        pre.preprocess(nbformat.v4.new_notebook(), resources)
    with Gradebook(db_url) as gb:
        return float(gb.find_submission(aid, sid).late_submission_penalty or 0.0)


def apply(course: Course, aid: str, submissions: Path, db_url: str, results: list, *,
          folder: str | None = None) -> None:
    """After a ``grader grade`` batch: store each submission's timestamp and its late penalty.

    ``aid`` is the gradebook's assignment, ``folder`` the one submitted under (``aid`` unless a
    retired edition is graded as an assignment of its own, see :mod:`grader.editions`).

    Each graded result's ``score`` becomes nbgrader's score minus the penalty, and it gets a
    flag ``late:Nd`` (N started days late); an unreadable ``timestamp.txt`` is flagged
    ``bad-timestamp`` and ignored. Penalties are computed only where there is a due date (or
    an earlier penalty to undo), so a class without due dates costs one gradebook session.
    """
    from nbgrader.api import Gradebook, MissingEntry

    todo = []
    with Gradebook(db_url) as gb:
        try:
            due = gb.find_assignment(aid).duedate
        except MissingEntry:
            return
        for res in results:
            if res.status == "missing":
                continue
            when, problem = read_timestamp(Path(submissions) / res.student_id / (folder or aid))
            if problem:
                res.flags.append("bad-timestamp")
            try:
                sub = gb.find_submission(aid, res.student_id)
            except MissingEntry:
                continue
            if when is not None:
                sub.timestamp = when
            late_s = float(sub.total_seconds_late or 0.0)
            if late_s > 0:
                res.flags.append(f"late:{math.ceil(late_s / SECONDS_PER_DAY)}d")
            if due is not None or any(nb.late_submission_penalty for nb in sub.notebooks):
                todo.append(res)
        gb.db.commit()
    if not todo:
        return
    cfg = course.nbgrader_config(db_url=db_url)
    for res in todo:
        penalty = _penalize(cfg, aid, res.student_id, db_url)
        if res.status == "graded":
            res.score = max(0.0, res.score - penalty)


def refresh(course: Course, db_url: str) -> None:
    """Recompute every late penalty from the current scores (manual grades included)."""
    from nbgrader.api import Gradebook

    with Gradebook(db_url) as gb:
        late = [(a.name, s.student.id) for a in gb.assignments for s in a.submissions
                if s.timestamp is not None]
    cfg = course.nbgrader_config(db_url=db_url)
    for aid, sid in late:
        _penalize(cfg, aid, sid, db_url)
