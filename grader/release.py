"""``grader release``: regenerate ``assignments/`` (student versions) from ``solutions/``.

nbgrader's own ``generate_assignment`` does the work (solution regions cleared, hidden tests and
mark schemes removed, checksums and locks set); the gradebook it needs is a throwaway one, so
releasing never touches a real gradebook.
"""

from __future__ import annotations

import contextlib
import filecmp
import json
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from .config import Course, UserError, ensure_env_bin_on_path, sqlite_url


@contextlib.contextmanager
def _quiet_nbgrader() -> Iterator[None]:
    import logging
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        logging.getLogger("traitlets").setLevel(logging.ERROR)
        yield


def generate(course: Course, aid: str, release_dir: Path, db_url: str) -> None:
    """Run nbgrader's generate_assignment for ``aid`` into ``release_dir`` using ``db_url``."""
    from nbgrader.apps import NbGraderAPI

    ensure_env_bin_on_path()
    cfg = course.nbgrader_config(db_url=db_url, release_dir=release_dir)
    with _quiet_nbgrader():
        api = NbGraderAPI(config=cfg)
        result = api.generate_assignment(aid, force=True, create=True)
    if not result["success"]:
        last = [ln for ln in (result.get("error") or result.get("log") or "").splitlines() if ln.strip()]
        raise UserError(
            f"solutions/{aid}: nbgrader could not generate the release: {last[-1] if last else 'unknown error'}"
        )


def _check_editions(course: Course, aid: str) -> None:
    """Raise :class:`UserError` if ``aid`` names its current edition badly, or has retired
    editions (:mod:`grader.editions`) but names no current one."""
    from .editions import NAME, current_edition, retired_editions

    name = current_edition(course, aid)
    if name == "invalid":
        raise UserError(f"solutions/{aid}: the notebook metadata grader.edition must be a short name "
                        f"(letters, digits, dashes; pattern {NAME.pattern})")
    retired = retired_editions(course, aid)
    if retired and name is None:
        raise UserError(f"solutions/{aid}: has retired editions ({', '.join(retired)}) but its source "
                        "notebook names no current edition; set its metadata grader.edition")
    if name in retired:
        raise UserError(f"solutions/{aid}: the current edition {name!r} is also a retired one "
                        f"(solutions/{aid}/editions/{name}); give the current edition a new name")


def release(course: Course, ids: list[str] | None = None) -> list[Path]:
    """Regenerate ``assignments/<aid>/`` for each assignment; return the notebooks written.

    The current edition's name (source notebook metadata ``grader.edition``, see
    :mod:`grader.editions`) is carried into each released notebook: the stamp that says which
    edition a student holds. Raises :class:`UserError` for a bad edition name."""
    written: list[Path] = []
    for aid in course.resolve(ids):
        _check_editions(course, aid)
        with tempfile.TemporaryDirectory(prefix="grader-release-") as tmp:
            out = Path(tmp) / "release"
            generate(course, aid, out, sqlite_url(Path(tmp) / "gradebook.db"))
            target = course.assignments / aid
            if target.exists():
                shutil.rmtree(target)
            shutil.copytree(out / aid, target)
        written.extend(sorted(target.glob("*.ipynb")))
        if (course.solutions / aid / "key.py").is_file():  # a converted assignment: offline data
            from .precompute import write

            path, problems = write(course, aid)
            written.append(path)
            if problems:
                raise UserError(f"{problems[0]} ({len(problems)} problem(s) in the offline checks)")
    return written


def _normalised(path: Path) -> str:
    return json.dumps(json.loads(path.read_text(encoding="utf-8")), sort_keys=True)


def out_of_sync(course: Course, aid: str, *, offline: bool = True) -> list[str]:
    """Differences between ``assignments/<aid>`` and a fresh release of ``solutions/<aid>``;
    with ``offline``, also a stale ``grader/checks/data`` file of a converted assignment."""
    problems: list[str] = []
    with tempfile.TemporaryDirectory(prefix="grader-sync-") as tmp:
        out = Path(tmp) / "release"
        generate(course, aid, out, sqlite_url(Path(tmp) / "gradebook.db"))
        fresh, committed = out / aid, course.assignments / aid
        if not committed.is_dir():
            return [f"assignments/{aid}/ is missing; run `grader release {aid}`"]
        fresh_files = {p.relative_to(fresh) for p in fresh.rglob("*") if p.is_file()}
        committed_files = {
            p.relative_to(committed)
            for p in committed.rglob("*")
            if p.is_file() and ".ipynb_checkpoints" not in p.parts
        }
        for rel in sorted(fresh_files - committed_files):
            problems.append(f"assignments/{aid}/{rel} is missing")
        for rel in sorted(committed_files - fresh_files):
            problems.append(f"assignments/{aid}/{rel} has no source in solutions/{aid}/")
        for rel in sorted(fresh_files & committed_files):
            a, b = fresh / rel, committed / rel
            same = _normalised(a) == _normalised(b) if rel.suffix == ".ipynb" else filecmp.cmp(a, b, shallow=False)
            if not same:
                problems.append(f"assignments/{aid}/{rel} differs from a fresh release")
    from .precompute import out_of_date

    if offline:
        problems += out_of_date(course, aid)
    if problems:
        problems.append(f"run `grader release {aid}` and commit the result")
    return problems
