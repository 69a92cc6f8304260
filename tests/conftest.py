"""Shared fixtures: the real course, the small fixture course, a CLI runner and a PostgreSQL server."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURE_COURSE = Path(__file__).resolve().parent / "fixtures" / "course"

# nbgrader calls `alembic` from PATH when it creates a gradebook.
os.environ["PATH"] = str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", "")


@pytest.fixture(scope="session")
def course():
    from grader.config import Course

    return Course(ROOT)


@pytest.fixture()
def toy_course(tmp_path):
    """A private copy of the fixture course (one fast assignment, 99-toy)."""
    from grader.config import Course

    dest = tmp_path / "course"
    shutil.copytree(FIXTURE_COURSE, dest)
    return Course(dest)


@pytest.fixture(scope="session")
def postgres_server():
    """A throwaway PostgreSQL server for the whole session (tests/postgres_server.py), stopped
    and removed at the end. Skips where PostgreSQL is not installed, unless
    GRADER_REQUIRE_POSTGRES=1 (CI sets it once it has installed PostgreSQL): then it fails."""
    from postgres_server import PostgresServer, PostgresUnavailable

    try:
        server, missing = PostgresServer(), ""
    except PostgresUnavailable as exc:
        server, missing = None, str(exc)
    if missing and os.environ.get("GRADER_REQUIRE_POSTGRES") == "1":
        pytest.fail(f"GRADER_REQUIRE_POSTGRES=1, but {missing}", pytrace=False)
    if missing:
        pytest.skip(missing)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def postgres_url(postgres_server) -> str:
    """SQLAlchemy URL of a database on the session's PostgreSQL server:
    ``postgresql+psycopg://USER@127.0.0.1:PORT/DB``."""
    return postgres_server.create_database("grader_session")


def sandbox_args() -> list[str]:
    """`grade` isolates student code with bubblewrap; where it is missing, tests grade trusted
    fixtures with --no-sandbox (tests/test_hostile.py needs the sandbox and skips instead)."""
    from grader.engine.sandbox import bwrap

    return [] if bwrap() else ["--no-sandbox"]


def run_grader(*args: str, cwd: Path | None = None, timeout: int = 900) -> subprocess.CompletedProcess:
    """Run the `grader` console script as a user would."""
    exe = Path(sys.executable).parent / "grader"
    args = list(args)
    if args and args[0] == "grade":
        args += sandbox_args()
    return subprocess.run([str(exe), *args], cwd=cwd or ROOT, capture_output=True, text=True, timeout=timeout)


@pytest.fixture()
def ns(monkeypatch):
    """A stand-in for the notebook's namespace that the checks read answers from."""
    from grader.checks import core

    space: dict = {}
    monkeypatch.setattr(core, "_user_namespace", lambda: space)
    return space


def unfinished(*args, **kwargs):
    """A student's function as released: still raising NotImplementedError."""
    raise NotImplementedError()


def no_return(*args, **kwargs):
    """A student's function that forgot its return statement."""
