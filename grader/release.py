"""``grader release``: regenerate ``assignments/`` (student versions) from ``solutions/``.

nbgrader's own ``generate_assignment`` does the work (solution regions cleared, hidden tests and
mark schemes removed, checksums and locks set); the gradebook it needs is a throwaway one, so
releasing never touches a real gradebook.
"""

from __future__ import annotations

import contextlib
import filecmp
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from .config import Course, UserError, ensure_env_bin_on_path, sqlite_url, user_dir


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


def _fresh_sqlite(db_url: str) -> Path | None:
    """The file of a SQLite gradebook that does not exist yet, else None."""
    prefix = "sqlite:///"
    if not db_url.startswith(prefix):
        return None
    path = Path(db_url[len(prefix):])
    return path if path.is_absolute() and not path.exists() else None


def _release_cache(course: Course, aid: str) -> Path | None:
    """The cache entry for ``aid``'s release as it is now: a folder named by a SHA-256 of
    everything nbgrader's ``generate_assignment`` reads (the source folder's files, the course's
    ``nbgrader_config.py``), of the code that configures it here, and of the
    versions of nbgrader and SQLAlchemy; under
    ``$XDG_CACHE_HOME/grader/releases/`` (default ``~/.cache``). None if it cannot be named."""
    import hashlib

    import nbgrader
    import sqlalchemy

    digest = hashlib.sha256(f"{nbgrader.__version__}|{sqlalchemy.__version__}|{aid}".encode())
    try:
        for ours in (Path(__file__), Path(__file__).with_name("config.py")):  # how we call nbgrader
            digest.update(ours.read_bytes())
        cfg = course.root / "nbgrader_config.py"
        digest.update(cfg.read_bytes() if cfg.is_file() else b"")
        for path in sorted(p for p in (course.solutions / aid).rglob("*") if p.is_file()):
            rel = str(path.relative_to(course.solutions / aid)).encode()
            digest.update(len(rel).to_bytes(4, "big") + rel)
            data = path.read_bytes()
            digest.update(len(data).to_bytes(8, "big") + data)
    except OSError:
        return None
    return user_dir("cache") / "releases" / digest.hexdigest()[:32]


def generate_for_grading(course: Course, aid: str, release_dir: Path, db_url: str) -> None:
    """:func:`generate` for a grading run. Into a new SQLite gradebook, nbgrader writes the same
    release and the same assignment rows for the same sources every time, so the first run keeps
    both (before any grade is written) in a cache and later runs copy them: that saves grading
    its slowest step before the first submission (0.8 s on 05-evaluation-metrics, issue 19).
    A gradebook that exists already (a resumed batch, PostgreSQL) is synced by nbgrader as before.
    A cache that cannot be read or written is skipped."""
    db_file = _fresh_sqlite(db_url)
    entry = _release_cache(course, aid) if db_file is not None else None
    if entry is not None and (entry / "complete").is_file():
        tmp = db_file.with_name(f".{db_file.name}.{os.getpid()}.tmp")
        linked = False
        try:
            shutil.copyfile(entry / "gradebook.db", tmp)
            os.link(tmp, db_file)  # never over a gradebook that appeared meanwhile
            linked = True
            shutil.copytree(entry / "release", release_dir, dirs_exist_ok=True)
            with contextlib.suppress(OSError):
                os.utime(entry)
            return
        except OSError:  # an unreadable entry: nbgrader generates as if there were none
            if linked:
                db_file.unlink(missing_ok=True)
            shutil.rmtree(release_dir, ignore_errors=True)
        finally:
            tmp.unlink(missing_ok=True)
    generate(course, aid, release_dir, db_url)
    if entry is not None and not (entry / "complete").is_file():
        _store(entry, db_file, release_dir)


#: How many releases the cache keeps (the most recently stored); each is one assignment's
#: release folder and a gradebook with its cells, a few hundred kB.
CACHED_RELEASES = 32


def _evict(base: Path, keep: int) -> None:
    """Remove all but the ``keep`` most recently used entries (a use touches its folder)."""
    dated = []
    for p in base.iterdir():
        with contextlib.suppress(OSError):
            if p.is_dir() and not p.name.startswith("."):
                dated.append((p.stat().st_mtime, p))
    for _, old in sorted(dated, reverse=True)[keep:]:
        shutil.rmtree(old, ignore_errors=True)


def _store(entry: Path, db_file: Path, release_dir: Path) -> None:
    """Keep a fresh gradebook and its release as a cache entry (all or nothing)."""
    staging = None
    try:
        entry.parent.mkdir(parents=True, exist_ok=True, mode=0o700)  # gradebooks hold hidden tests
        os.chmod(entry.parent, 0o700)
        staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=entry.parent))
        shutil.copyfile(db_file, staging / "gradebook.db")
        shutil.copytree(release_dir, staging / "release")
        (staging / "complete").write_text("")
        os.rename(staging, entry)
        _evict(entry.parent, keep=CACHED_RELEASES)
    except OSError:  # a read-only home, or another run stored it first
        if staging is not None:
            shutil.rmtree(staging, ignore_errors=True)

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
