"""``grader roster import students.csv``: the class list in the gradebook, in nbgrader's format.

The file has nbgrader's columns (as for ``nbgrader db student import``): ``id`` (required),
``first_name``, ``last_name``, ``email`` and optionally ``lms_user_id`` (the student's id in the
LMS, e.g. Canvas's user ID, used by ``grader export --format canvas``). The formgrader and
``grader export`` then show names instead of ``None, None``.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from .config import UserError

COLUMNS = ("id", "first_name", "last_name", "email", "lms_user_id")
#: nbgrader's Student columns are String(128).
MAX_FIELD = 128
MAX_BYTES = 10 * 1024 * 1024


@dataclass(frozen=True)
class Student:
    id: str
    first_name: str = ""
    last_name: str = ""
    email: str = ""
    lms_user_id: str = ""


def read_roster(path: Path) -> list[Student]:
    """The students of a roster CSV; raises ``UserError`` naming the file (and line) and the fix.

    Every row is checked before anything is stored: an id must be usable as a folder name (the
    one ``grader grade`` accepts), unique, and no field longer than 128 characters.
    """
    from .grading import STUDENT_ID

    path = Path(path)
    try:
        if path.stat().st_size > MAX_BYTES:
            raise UserError(f"{path}: larger than 10 MB; is this a class list?")
        text = path.read_bytes().decode("utf-8-sig")
    except FileNotFoundError:
        raise UserError(f"{path}: no such file; pass a CSV with columns {', '.join(COLUMNS[:4])}") from None
    except UnicodeDecodeError:
        raise UserError(f"{path}: not UTF-8 text; save it as CSV UTF-8 and try again") from None
    except OSError as exc:
        raise UserError(f"{path}: cannot read it ({exc.strerror or exc})") from None
    reader = csv.DictReader(text.splitlines())
    header = [h.strip().lower() for h in reader.fieldnames or []]
    if "id" not in header:
        raise UserError(f"{path}: no 'id' column; the first line must name nbgrader's columns "
                        f"({', '.join(COLUMNS[:4])})")
    reader.fieldnames = header
    students: dict[str, Student] = {}
    for row in reader:
        line = reader.line_num
        values = {k: (row.get(k) or "").strip() for k in COLUMNS}
        sid = values["id"]
        if not sid and not any(values.values()):
            continue
        if not STUDENT_ID.match(sid):
            raise UserError(f"{path}:{line}: {sid!r} is not a usable student id (letters, digits, . _ - @ +); "
                            "fix the line and import again")
        if sid in students:
            raise UserError(f"{path}:{line}: student {sid!r} appears twice; keep one line")
        long = [k for k, v in values.items() if len(v) > MAX_FIELD]
        if long:
            raise UserError(f"{path}:{line}: {long[0]} is longer than {MAX_FIELD} characters")
        students[sid] = Student(**values)
    if not students:
        raise UserError(f"{path}: no students in it")
    return list(students.values())


def import_roster(path: Path, db_url: str) -> tuple[int, int]:
    """Add or update every student of ``path`` in the gradebook; return (added, updated)."""
    from nbgrader.api import Gradebook, MissingEntry

    from .config import ensure_env_bin_on_path

    students = read_roster(path)
    ensure_env_bin_on_path()
    added = updated = 0
    with Gradebook(db_url) as gb:
        for s in students:
            fields = {"first_name": s.first_name or None, "last_name": s.last_name or None,
                      "email": s.email or None, "lms_user_id": s.lms_user_id or None}
            try:
                gb.find_student(s.id)
                updated += 1
            except MissingEntry:
                added += 1
            gb.update_or_create_student(s.id, **fields)
    return added, updated
