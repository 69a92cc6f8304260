"""The gradebook on PostgreSQL: `grade`, `feedback` and `export` with `--db URL` against a real
server that the suite starts (conftest's `postgres_server`), and one-line errors for bad URLs.

The fixture class is graded once per module into a template database; each test that changes
the gradebook works on its own copy (CREATE DATABASE ... TEMPLATE), with its own output folder.
"""

from __future__ import annotations

import csv
import shutil
import socket
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import FIXTURE_COURSE, run_grader

AID = "99-toy"
#: full autograded marks with a written answer left to grade, and a notebook that cannot be graded
STUDENTS = {"good": "solution", "empty": b""}
COMPARED = ("score", "max_score", "status", "flags", "needs_manual_grade")
TABLES = ("student", "submitted_assignment", "submitted_notebook", "grade", "comment")


@dataclass
class Graded:
    course: Path
    submissions: Path
    sqlite_out: Path
    pg_out: Path
    pg_url: str
    template: str
    runs: tuple


def _submissions(course: Path, dest: Path) -> Path:
    for sid, what in STUDENTS.items():
        d = dest / sid / AID
        d.mkdir(parents=True)
        if what == "solution":
            shutil.copy(course / "solutions" / AID / f"{AID}.ipynb", d)
        else:
            (d / f"{AID}.ipynb").write_bytes(what)
    return dest


def _rows(out: Path) -> dict[str, dict[str, str]]:
    with open(out / "grades.csv", newline="") as fh:
        return {r["student_id"]: {k: r[k] for k in COMPARED} for r in csv.DictReader(fh)}


def _counts(url: str) -> dict[str, int]:
    """Rows per gradebook table, read straight from the server (not through the grader)."""
    import psycopg

    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as conn:
        return {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in TABLES}


def _grade(g: Graded, out: Path, *extra: str):
    return run_grader("grade", AID, "--submissions", str(g.submissions), "--out", str(out), "--quiet", *extra,
                      cwd=g.course)


@pytest.fixture(scope="module")
def graded(postgres_server, tmp_path_factory) -> Graded:
    """The class graded twice at once: with the SQLite default and into a PostgreSQL database."""
    tmp = tmp_path_factory.mktemp("pg")
    course = tmp / "course"
    shutil.copytree(FIXTURE_COURSE, course)
    template = "graded_template"
    g = Graded(course, _submissions(course, tmp / "submitted"), tmp / "sqlite-out", tmp / "pg-out",
               postgres_server.create_database(template), template, ())
    with ThreadPoolExecutor(2) as pool:
        runs = [pool.submit(_grade, g, g.sqlite_out), pool.submit(_grade, g, g.pg_out, "--db", g.pg_url)]
        g.runs = tuple(r.result() for r in runs)
    return g


@pytest.fixture()
def pg_copy(graded, postgres_server, tmp_path) -> tuple[str, Path]:
    """A private copy of the graded PostgreSQL gradebook and of its output folder."""
    out = tmp_path / "out"
    shutil.copytree(graded.pg_out, out)
    return postgres_server.create_database(template=graded.template), out


def test_grades_on_postgres_match_sqlite_and_live_on_the_server(graded):
    from nbgrader.api import Gradebook

    for run in graded.runs:
        assert run.returncode == 0 and "Traceback" not in run.stderr, run.stderr
    pg, lite = _rows(graded.pg_out), _rows(graded.sqlite_out)
    assert pg == lite
    assert {sid: (r["status"], r["score"]) for sid, r in pg.items()} == {
        "good": ("graded", "4"), "empty": ("error", "0")}
    # the PostgreSQL run wrote no SQLite file; its gradebook is on the server, with the same scores
    assert (graded.sqlite_out / "gradebook.db").exists()
    assert not list(graded.pg_out.rglob("*.db"))
    with Gradebook(graded.pg_url) as gb:
        assert gb.engine.dialect.name == "postgresql"
        assert {s.student.id: f"{s.score:g}" for s in gb.assignment_submissions(AID)} == {
            sid: r["score"] for sid, r in pg.items()}
    assert _counts(graded.pg_url)["student"] == len(STUDENTS)


def test_regrading_on_postgres_duplicates_nothing(graded, pg_copy):
    url, out = pg_copy
    before = _counts(url)
    assert before["student"] == before["submitted_assignment"] == len(STUDENTS)
    assert before["grade"] > before["submitted_notebook"] > 0
    # --force: every submission is executed and recorded again (a plain re-run only reads the
    # gradebook to confirm what the journal says is done)
    proc = _grade(graded, out, "--db", url, "--force")
    assert proc.returncode == 0, proc.stderr
    assert _counts(url) == before
    assert _rows(out) == _rows(graded.pg_out)


def test_feedback_and_export_read_the_postgres_gradebook(graded, pg_copy):
    from nbgrader.api import Gradebook

    url, out = pg_copy
    page = out / "feedback" / "good" / AID / f"{AID}.html"
    assert "Score: 4.0 / 5.0" in page.read_text()
    with Gradebook(url) as gb:  # what the formgrader does when an instructor saves a score
        grade = gb.find_grade("written_sign", AID, AID, "good")
        grade.manual_score, grade.needs_manual_grade = 1, False
        gb.db.commit()
    # the output folder holds no gradebook: without --db there is nothing to read
    proc = run_grader("feedback", AID, "--out", str(out), cwd=graded.course)
    assert proc.returncode == 2 and "no gradebook here" in proc.stderr
    proc = run_grader("feedback", AID, "--out", str(out), "--db", url, cwd=graded.course)
    assert proc.returncode == 0, proc.stderr
    assert "feedback: 1 pages" in proc.stdout
    assert "Score: 5.0 / 5.0" in page.read_text()
    export = out / "export.csv"
    proc = run_grader("export", "--db", url, "--to", str(export), cwd=graded.course)
    assert proc.returncode == 0, proc.stderr
    rows = {r["student_id"]: r for r in csv.DictReader(open(export, newline=""))}
    assert {sid: (r["score"], r["manual_score"], r["needs_manual_grade"]) for sid, r in rows.items()} == {
        "good": ("5", "1", "no"), "empty": ("0", "0", "no")}


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("command", ["grade", "export", "feedback"])
@pytest.mark.parametrize("kind", ["refused", "malformed", "no-such-database"])
def test_a_bad_db_url_is_one_line_naming_it(command, kind, request, toy_course, tmp_path):
    if kind == "refused":
        url = f"postgresql+psycopg://grader:s3cret@127.0.0.1:{_closed_port()}/gradebook"
        shown, advice = url.replace("s3cret", "***"), "check that the server is running"
    elif kind == "malformed":
        url = "postgresql+psycopg://grader:s3cret@127.0.0.1:port/gradebook"
        shown, advice = url.replace("s3cret", "***"), "expected dialect+driver://"
    else:
        url = request.getfixturevalue("postgres_url").rsplit("/", 1)[0] + "/no_such_gradebook"
        shown, advice = url, 'database "no_such_gradebook" does not exist'
    out = tmp_path / "out"
    args = {
        "grade": ["grade", AID, "--submissions", str(tmp_path), "--out", str(out)],
        "export": ["export", "--to", str(out / "export.csv")],
        "feedback": ["feedback", AID, "--out", str(out)],
    }[command]
    proc = run_grader(*args, "--db", url, cwd=toy_course.root)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert proc.stderr.startswith("grader: error: --db ") and proc.stderr.count("\n") == 1, proc.stderr
    assert shown in proc.stderr and advice in proc.stderr
    assert "s3cret" not in proc.stdout + proc.stderr and "Traceback" not in proc.stderr
    assert not out.exists()  # refused before anything was written


def test_a_server_that_never_answers_times_out_in_seconds():
    import threading

    from grader.config import UserError, check_db_url

    raised: list[Exception] = []

    def check(url: str) -> None:
        try:
            check_db_url(url, timeout_s=2)
        except UserError as exc:
            raised.append(exc)

    with socket.socket() as silent:  # accepts connections (the backlog) and never says a word
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        url = f"postgresql+psycopg://grader@127.0.0.1:{silent.getsockname()[1]}/gradebook"
        thread = threading.Thread(target=check, args=(url,), daemon=True)  # a hang fails, not blocks
        thread.start()
        thread.join(15)
    assert not thread.is_alive(), "check_db_url waited more than 15 s for a silent server"
    assert len(raised) == 1 and "cannot connect (connection timeout expired)" in str(raised[0])


def test_report_and_certify_read_the_postgres_gradebook(graded, pg_copy, tmp_path):
    """Manual grades saved in the PostgreSQL gradebook count in the report and the certificate."""
    from nbgrader.api import Gradebook

    from grader.certify import certify, check
    from grader.config import Course

    url, out = pg_copy
    with Gradebook(url) as gb:
        grade = gb.find_grade("written_sign", AID, AID, "good")
        grade.manual_score, grade.needs_manual_grade = 1, False
        gb.db.commit()
    proc = run_grader("report", AID, "--db", url, "--out", str(out), "--to", str(tmp_path / "r"), cwd=graded.course)
    assert proc.returncode == 0, proc.stderr
    with open(tmp_path / "r" / f"{AID}-scores.csv", newline="") as fh:
        scores = {r["student"]: r for r in csv.DictReader(fh)}
    assert scores["good"]["total"] == "5.0" and scores["good"]["written_sign"] == "1.0"
    policy = tmp_path / "policy.toml"
    policy.write_text(f'course = "Toy"\nissuer = "Tests"\nassignments = ["{AID}"]\npass_mark = 0.9\n'
                      "overall_pass_mark = 0.9\n")
    course = Course(graded.course)
    res = certify(course, url, tmp_path / "c", policy_file=policy, secret_file=tmp_path / "k" / "key")
    assert [sid for sid, _, _ in res.issued] == ["good"] and [sid for sid, _ in res.transcripts] == ["empty"]
    code = res.issued[0][2]
    assert check(code, res.ledger, secret_file=tmp_path / "k" / "key", db_url=url, course=course,
                 policy_file=policy).valid
