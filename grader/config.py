"""One place for the course's configuration: where the course is and how nbgrader sees it."""

from __future__ import annotations

import os
import re
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from traitlets.config import Config
from traitlets.config.loader import PyFileConfigLoader

#: An assignment id is the module's folder name: two digits, a dash, a slug.
ASSIGNMENT_ID = re.compile(r"^\d{2}-[a-z0-9][a-z0-9-]*$")

#: Default limits for grading one submission.
CELL_TIMEOUT_S = 60
SUBMISSION_TIMEOUT_S = 600
#: What a submission's outputs may add up to, enforced inside the sandbox as they arrive (the
#: rest is dropped and the submission flagged ``limit:output``): bytes of JSON per cell and per
#: notebook, and outputs per cell and per notebook (consecutive prints count as one output).
MAX_CELL_OUTPUT_KB = 512
MAX_NOTEBOOK_OUTPUT_MB = 8
MAX_OUTPUTS_PER_CELL = 200
MAX_OUTPUTS_PER_NOTEBOOK = 2000
#: The time budget of one notebook (lecture, solution) when it executes.
NOTEBOOK_BUDGET_S = 60
#: The largest submitted notebook file intake reads, in bytes: a larger one is refused unread
#: (files beside the notebook are never read at all).
MAX_NOTEBOOK_BYTES = 50 * 2**20
#: The most cells a submitted notebook may have (an assignment has tens; validation time grows
#: with the count, so a larger one is refused before it is validated).
MAX_NOTEBOOK_CELLS = 5000
#: Files of ``solutions/<aid>/`` that are never released nor given to a sandbox (nbgrader copies
#: every other file of a source folder), whatever ``CourseDirectory.ignore`` says.
INSTRUCTOR_ONLY = ("key.py", "mutants.yml")
#: Time budgets of the trusted grader process for one submission, in seconds: intake (reading
#: and sanitising it), recording (grading the executed notebook, the gradebook transaction, the
#: graded notebook) and feedback (rendering its pages). An overrun makes it an ``error``.
INTAKE_BUDGET_S = 60.0
RECORD_BUDGET_S = 60.0
FEEDBACK_BUDGET_S = 60.0
#: Seconds to wait for a gradebook server (``--db``) to answer before giving up.
DB_CONNECT_TIMEOUT_S = 5


class UserError(Exception):
    """A problem the user can fix; the CLI prints it as one line, without a traceback."""


class OverBudget(Exception):
    """A step of the trusted side ran past its time budget (see :class:`TrustedBudget`)."""

    def __init__(self, step: str, seconds: float):
        super().__init__(f"{step} took longer than its {seconds:g} s budget")
        self.step, self.seconds = step, seconds


@dataclass(frozen=True)
class TrustedBudget:
    """Seconds the trusted process may spend on one submission, per step."""

    intake_s: float = INTAKE_BUDGET_S
    record_s: float = RECORD_BUDGET_S
    feedback_s: float = FEEDBACK_BUDGET_S


class Deadline:
    """A step's budget, checked at the step's checkpoints: :meth:`check` raises
    :class:`OverBudget` once ``seconds`` (monotonic clock) have passed since creation."""

    def __init__(self, step: str, seconds: float):
        self.step, self.seconds = step, seconds
        self.end = time.monotonic() + seconds

    def check(self) -> None:
        if time.monotonic() >= self.end:
            raise OverBudget(self.step, self.seconds)

    def extend(self, seconds: float) -> None:
        """Leave out ``seconds`` spent on work that is not the step's to pay for (e.g. the
        answer key recording its plans during intake)."""
        self.end += max(0.0, seconds)


@dataclass(frozen=True)
class Course:
    """A course directory: ``solutions/`` (nbgrader source) and ``assignments/`` (release)."""

    root: Path

    @property
    def solutions(self) -> Path:
        return self.root / "solutions"

    @property
    def assignments(self) -> Path:
        return self.root / "assignments"

    @property
    def lectures(self) -> Path:
        return self.root / "course"

    def assignment_ids(self) -> list[str]:
        if not self.solutions.is_dir():
            return []
        return sorted(
            p.name for p in self.solutions.iterdir() if p.is_dir() and ASSIGNMENT_ID.match(p.name)
        )

    def resolve(self, ids: list[str] | tuple[str, ...] | None) -> list[str]:
        """The requested assignment ids (all when none are given), each checked to exist."""
        known = self.assignment_ids()
        if not ids:
            if not known:
                raise UserError(f"{self.solutions}: no assignments found (expected NN-slug folders)")
            return known
        for aid in ids:
            if aid not in known:
                raise UserError(
                    f"unknown assignment {aid!r}: no folder solutions/{aid}/ in {self.root}; "
                    f"known: {', '.join(known) or 'none'}"
                )
        return list(ids)

    def source_notebooks(self, aid: str) -> list[Path]:
        return sorted((self.solutions / aid).glob("*.ipynb"))

    def nbgrader_config(self, db_url: str | None = None, release_dir: Path | None = None) -> Config:
        """nbgrader's configuration for this course, read from ``nbgrader_config.py``.

        ``NbGraderAPI`` does not read the file by itself (see shared nbgrader notes), so every
        call into nbgrader goes through this.
        """
        cfg_file = self.root / "nbgrader_config.py"
        cfg = PyFileConfigLoader(cfg_file.name, path=str(self.root)).load_config() if cfg_file.exists() else Config()
        cfg.CourseDirectory.root = str(self.root)
        # the answer key and the mutant catalogue never leave solutions/, whatever the course's
        # file says: nbgrader copies every other file of a source folder into the release, and
        # the release's files are what a submission's sandbox holds in /submission
        ignore = list(cfg.CourseDirectory.ignore) if "ignore" in cfg.CourseDirectory else [
            ".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback"]
        cfg.CourseDirectory.ignore = ignore + [f for f in INSTRUCTOR_ONLY if f not in ignore]
        cfg.CourseDirectory.source_directory = "solutions"
        cfg.CourseDirectory.release_directory = str(release_dir) if release_dir else "assignments"
        if db_url:
            cfg.CourseDirectory.db_url = db_url
        cfg.Exchange.root = str(self.root / ".exchange")
        return cfg


def find_course(start: Path | None = None) -> Course:
    """The course directory: ``start`` or the nearest parent holding ``solutions/`` and
    ``nbgrader_config.py``; failing that, the checkout this package was installed from."""
    here = Path(start or Path.cwd()).resolve()
    for candidate in (here, *here.parents):
        if (candidate / "solutions").is_dir() and (candidate / "nbgrader_config.py").exists():
            return Course(candidate)
    pkg_root = Path(__file__).resolve().parent.parent
    if (pkg_root / "solutions").is_dir():
        return Course(pkg_root)
    raise UserError(
        f"{here}: not inside a course directory (no solutions/ and nbgrader_config.py); "
        "run from the course checkout or pass --course DIR"
    )


def ensure_env_bin_on_path() -> None:
    """nbgrader calls the ``alembic`` executable when it creates a gradebook: make sure the
    environment's ``bin/`` (where this interpreter lives) is on PATH. And ask alembic, in this
    process, for what that executable would print: starting it costs 2-3 s per new gradebook."""
    bindir = str(Path(sys.executable).parent)
    parts = os.environ.get("PATH", "").split(os.pathsep)
    if bindir not in parts:
        os.environ["PATH"] = os.pathsep.join([bindir, *parts])
    import nbgrader.api

    if not getattr(nbgrader.api.get_alembic_version, "in_process", False):
        nbgrader.api.get_alembic_version = _alembic_head(nbgrader.api.get_alembic_version)


def _alembic_head(fallback):
    """nbgrader.api.get_alembic_version (``alembic heads``), read with alembic's own API."""
    import functools

    @functools.cache
    def head() -> str:
        try:
            import nbgrader
            from alembic.script import ScriptDirectory

            return ScriptDirectory(os.path.join(os.path.dirname(nbgrader.__file__), "alembic")).get_current_head()
        except Exception:  # an unexpected layout: nbgrader's own way
            return fallback()

    head.in_process = True
    return head


def user_dir(kind: str) -> Path:
    """The grader's folder in the user's XDG base directory ``kind`` ("config" or "cache"):
    ``$XDG_CONFIG_HOME/grader`` (default ``~/.config/grader``) or ``$XDG_CACHE_HOME/grader``
    (default ``~/.cache/grader``). Not created here. (The engine, which imports nothing of the
    course's configuration, names its own cache file the same way.)"""
    var, default = {"config": ("XDG_CONFIG_HOME", ".config"), "cache": ("XDG_CACHE_HOME", ".cache")}[kind]
    return Path(os.environ.get(var) or Path.home() / default) / "grader"


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{Path(path).resolve()}"


_URL_FORM = (
    "expected dialect+driver://user:password@host:port/database, e.g. "
    "postgresql+psycopg://grader@localhost:5432/gradebook, or sqlite:////abs/path/gradebook.db"
)


def _mask_password(url: str) -> str:
    """``url`` with the password of its ``user:password@`` part replaced by ``***``."""
    return re.sub(r"(://[^:/@]*:).*@", r"\1***@", url)  # to the last @: a password may hold one


def check_db_url(url: str, timeout_s: int = DB_CONNECT_TIMEOUT_S) -> str:
    """Check that ``url`` is a gradebook URL that SQLAlchemy can use and whose database answers
    within ``timeout_s``; return it unchanged.

    Raises ``UserError`` with one line that names the URL (password masked) and what to do: a
    malformed URL, an unknown database kind, a missing driver, a server that refuses or does not
    answer, a database that does not exist or a login that fails.
    """
    from sqlalchemy import create_engine, make_url
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError, SQLAlchemyError

    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        raise UserError(f"--db {_mask_password(url)!r} is not a database URL; {_URL_FORM}") from None
    shown = parsed.render_as_string(hide_password=True)
    connect_args = {"connect_timeout": timeout_s} if parsed.get_backend_name() == "postgresql" else {}
    try:
        engine = create_engine(parsed, connect_args=connect_args)
    except NoSuchModuleError:
        raise UserError(f"--db {shown}: unknown database kind {parsed.drivername!r}; {_URL_FORM}") from None
    except ImportError as exc:
        raise UserError(
            f"--db {shown}: its driver ({exc.name or exc}) is not installed; use postgresql+psycopg:// "
            "(installed with the grader) or install the driver"
        ) from None
    except (ArgumentError, TypeError, ValueError) as exc:
        raise UserError(f"--db {shown}: {exc}; {_URL_FORM}") from None
    try:
        with engine.connect():
            pass
    except SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        reason = re.sub(r"^connection failed:\s*", "", reason)
        if parsed.password:
            reason = reason.replace(str(parsed.password), "***")
        what = (
            "check that its directory exists and is writable"
            if parsed.get_backend_name() == "sqlite"
            else "check that the server is running and that the URL's host, port, user, password and "
            "database are right (create the database first)"
        )
        raise UserError(
            f"--db {shown}: cannot connect ({reason}); {what}, or leave out --db to use the SQLite gradebook"
        ) from None
    finally:
        engine.dispose()
    return url


def gradebook_url(out_dir: Path | None, db_url: str | None) -> str:
    """``db_url``, else the SQLite gradebook of the grading output ``out_dir``; :class:`UserError`
    (one line) if neither is given or ``out_dir`` holds no gradebook."""
    if db_url:
        return db_url
    if out_dir is None:
        raise UserError("pass --out DIR (a `grader grade` output directory) or --db URL")
    db = Path(out_dir) / "gradebook.db"
    if not db.exists():
        raise UserError(f"{db}: no gradebook here; run `grader grade` first or pass --db URL")
    return sqlite_url(db)
