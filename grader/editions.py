"""Editions of an assignment: grade each submission against the edition it was written for.

An assignment improved mid-term has students holding its earlier release. The current edition
lives where every assignment does (``solutions/<aid>/``, released to ``assignments/<aid>/``);
each *retired* edition keeps, under ``editions/<aid>/<NAME>/`` at the course's root (instructor
only, like ``solutions/``: never released, never on the website, never in a sandbox; outside
``solutions/`` so that every notebook there has its release in ``assignments/``), its source
notebook, its answer key ``key.py``, its ``mutants.yml`` and ``release/``, a frozen copy of the
notebook its students got.

- The current edition's name is the source notebook's metadata ``grader.edition`` (a short
  name, :data:`NAME`); ``grader release`` carries it into the released notebook (the *stamp*).
  An assignment without that metadata has one edition and no stamp.
- A retired edition is graded as an nbgrader assignment of its own, named
  :func:`gradebook_name` (``05-evaluation-metrics-edition1``), in the same gradebook: nbgrader
  allows one set of grade cells per assignment, and this keeps each edition's cells, max score
  and feedback exact in the formgrader. ``grades.csv`` says the edition in its ``edition`` column
  and keeps the assignment id students submitted under.
- A submission is matched by content (:func:`choose`): the edition whose release shares most
  grade ids and locked-cell sources with it, the current one on a tie. The stamp is hostile
  data: validated, and only compared with the content (a disagreement is noted), never obeyed,
  so a student cannot pick an edition by editing it.
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import nbformat

from .config import Course
from .notebooks import nbgrader_meta

#: An edition's name: letters, digits and dashes, at most 16 characters.
NAME = re.compile(r"^[0-9A-Za-z][0-9A-Za-z-]{0,15}$")
#: The folder (at the course's root) holding each assignment's retired editions.
EDITIONS_DIR = "editions"


def editions_folder(course: Course, aid: str) -> Path:
    """Where the retired editions of ``aid`` live: ``<course root>/editions/<aid>/``."""
    return course.root / EDITIONS_DIR / aid

__all__ = ["NAME", "EditionCourse", "Match", "choose", "current_edition", "editions_folder", "find_submission",
           "gradebook_name", "retired_course", "retired_editions", "retired_names", "stamp_of"]


def stamp_of(nb) -> str | None:
    """The edition a notebook's metadata names (``metadata.grader.edition``), or None if absent.
    Hostile data: anything but a :data:`NAME` string is returned as ``"invalid"``."""
    meta = nb.get("metadata", {}) if isinstance(nb, dict) else {}
    grader = meta.get("grader") if isinstance(meta, dict) else None
    if not isinstance(grader, dict) or "edition" not in grader:
        return None
    value = grader["edition"]
    return value if isinstance(value, str) and NAME.match(value) else "invalid"


def current_edition(course: Course, aid: str) -> str | None:
    """The name of the current edition of ``aid`` (its source notebook's ``grader.edition``), or
    None for an assignment that declares none."""
    for path in course.source_notebooks(aid):
        name = stamp_of(nbformat.read(path, as_version=4))
        if name is not None:
            return name
    return None


def retired_editions(course: Course, aid: str) -> list[str]:
    """The names of the retired editions of ``aid`` (folders of :func:`editions_folder`
    holding a notebook), sorted."""
    folder = editions_folder(course, aid)
    if not folder.is_dir():
        return []
    return sorted(p.name for p in folder.iterdir()
                  if p.is_dir() and NAME.match(p.name) and any(p.glob("*.ipynb")))


def gradebook_name(aid: str, edition: str) -> str:
    """The nbgrader assignment that holds a retired edition's grades: ``<aid>-edition<NAME>``."""
    return f"{aid}-edition{edition}"


def retired_names(names: set[str]) -> dict[str, tuple[str, str]]:
    """Which of a gradebook's assignment ``names`` hold a retired edition: gradebook name ->
    (assignment, edition), for each ``<aid>-edition<NAME>`` (:func:`gradebook_name`) whose
    ``<aid>`` is among ``names`` too."""
    found = {}
    for name in names:
        aid, sep, edition = name.rpartition("-edition")
        if sep and aid in names and NAME.match(edition):
            found[name] = (aid, edition)
    return found


@dataclass(frozen=True)
class EditionCourse(Course):
    """The course as one retired edition sees it: its own ``solutions`` and ``assignments``
    folders (a temporary copy), the course's root (so the judging secret is the course's)."""

    source_root: Path = Path()
    release_root: Path = Path()

    @property
    def solutions(self) -> Path:
        return self.source_root

    @property
    def assignments(self) -> Path:
        return self.release_root

    def nbgrader_config(self, db_url: str | None = None, release_dir: Path | None = None):
        cfg = super().nbgrader_config(db_url=db_url, release_dir=release_dir)
        cfg.CourseDirectory.source_directory = str(self.source_root)
        if release_dir is None:
            cfg.CourseDirectory.release_directory = str(self.release_root)
        return cfg


def retired_course(course: Course, aid: str, edition: str, tmp: Path) -> tuple[EditionCourse, str]:
    """A course view in ``tmp`` where retired ``edition`` of ``aid`` is the assignment
    :func:`gradebook_name` (source, key and mutants copied; ``release/`` as its release).
    Returns the view and that assignment's name."""
    name = gradebook_name(aid, edition)
    src = editions_folder(course, aid) / edition
    view = EditionCourse(course.root, tmp / "solutions", tmp / "assignments")
    shutil.copytree(src, view.solutions / name, ignore=shutil.ignore_patterns(
        "release", ".ipynb_checkpoints", "__pycache__", "*.pyc"))
    if (src / "release").is_dir():
        shutil.copytree(src / "release", view.assignments / name)
    return view, name


# --- matching a submission to its edition ------------------------------------------------------
def _release_items(nb) -> set[tuple[str, str]]:
    items: set[tuple[str, str]] = set()
    for cell in nb.cells:
        meta = nbgrader_meta(cell)
        if meta.get("grade_id"):
            items.add(("id", str(meta["grade_id"])))
        if meta.get("locked") or (meta.get("grade") and not meta.get("solution")):
            items.add(("src", cell.source.strip()))
    return items


def _submitted_items(nb) -> set[tuple[str, str]]:
    items: set[tuple[str, str]] = set()
    for cell in nb.get("cells", []):
        try:
            meta = nbgrader_meta(cell)
            gid = meta.get("grade_id") if isinstance(meta, dict) else None
            if isinstance(gid, str) and gid:
                items.add(("id", gid))
            source = cell.get("source", "")
            if isinstance(source, list):
                source = "".join(s for s in source if isinstance(s, str))
            if isinstance(source, str):
                items.add(("src", source.strip()))
        except (AttributeError, TypeError):  # a malformed cell matches nothing
            continue
    return items


@dataclass
class Match:
    """The edition chosen for a submission: ``index`` into the candidates, and a note for the
    instructor (empty when there is nothing to say)."""

    index: int
    note: str = ""


def choose(releases: list[tuple[str, dict]], submitted: dict) -> Match:
    """The edition a submission was written for.

    ``releases``: ``(edition, {notebook name: released notebook})`` per edition, the current one
    first; ``submitted``: ``{notebook name: submitted notebook}`` (as read, hostile). The score of
    an edition is how many of its releases' grade ids and locked-cell sources the submission
    holds; the highest wins, the current edition on a tie. The stamp of a submitted notebook is
    validated and compared, never obeyed: a stamp that is invalid or names another edition than
    the content gives a note.
    """
    scores = []
    for _edition, notebooks in releases:
        score = 0
        for name, released in notebooks.items():
            if name in submitted:
                score += len(_release_items(released) & _submitted_items(submitted[name]))
        scores.append(score)
    best = max(range(len(scores)), key=lambda i: (scores[i], i == 0))
    chosen = releases[best][0]
    known = {e for e, _ in releases}
    notes = []
    for name in sorted(submitted):
        stamp = stamp_of(submitted[name])
        if stamp is None or stamp == chosen:
            continue
        if stamp not in known:
            notes.append(f"{name}: its edition stamp is not an edition of this assignment; "
                         f"graded on edition {chosen}, which its content matches")
        else:
            notes.append(f"{name}: its edition stamp says {stamp} but its content matches edition "
                         f"{chosen}, which it was graded on")
    return Match(best, "; ".join(notes))


def find_submission(gb, aid: str, student_id: str):
    """The student's submission of ``aid`` in nbgrader's gradebook ``gb``: the current edition's,
    else a retired edition's (its own assignment, :func:`gradebook_name`); raises nbgrader's
    ``MissingEntry`` if there is none. Its ``max_score`` is that edition's."""
    from nbgrader.api import MissingEntry

    try:
        return gb.find_submission(aid, student_id)
    except MissingEntry:
        prefix = gradebook_name(aid, "")
        for assignment in sorted(gb.assignments, key=lambda a: a.name):
            if assignment.name.startswith(prefix) and NAME.match(assignment.name[len(prefix):]):
                try:
                    return gb.find_submission(assignment.name, student_id)
                except MissingEntry:
                    continue
        raise
