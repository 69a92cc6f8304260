"""The ``grader`` command: parses arguments, calls one function per verb, prints the result.

Errors a user can cause are printed as one line (``grader: error: ...``) with exit status 2.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from .config import (
    CELL_TIMEOUT_S,
    SUBMISSION_TIMEOUT_S,
    Course,
    UserError,
    check_db_url,
    find_course,
)


def _course(ctx: click.Context) -> Course:
    return find_course(ctx.obj.get("course"))


class _Group(click.Group):
    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except UserError as exc:
            click.echo(f"grader: error: {exc}", err=True)
            sys.exit(2)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--course", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Course directory (default: the one containing the current directory).")
@click.version_option(package_name="xai-course-grader")
@click.pass_context
def main(ctx: click.Context, course: Path | None) -> None:
    """Release, verify and grade the course's assignments.

    \b
    Example, the whole cycle on the bundled example class:
        grader demo
    """
    ctx.ensure_object(dict)
    ctx.obj["course"] = course


def _writable_gradebook(out: Path | None, db_url: str | None) -> str:
    """The gradebook a command writes to: ``--db URL`` (checked), else ``OUT/gradebook.db``
    (``OUT`` created if absent); one-line UserError if neither is given."""
    from .config import sqlite_url

    if db_url:
        return check_db_url(db_url)
    if out is None:
        raise UserError("pass --out DIR (a `grader grade` output directory) or --db URL")
    Path(out).mkdir(parents=True, exist_ok=True)
    return sqlite_url(Path(out) / "gradebook.db")


@main.command()
@click.argument("assignments", nargs=-1)
@click.pass_context
def release(ctx: click.Context, assignments: tuple[str, ...]) -> None:
    """Regenerate assignments/ (student versions) from solutions/.

    \b
    Example:
        grader release 05-evaluation-metrics
    """
    from .release import release as do_release

    course = _course(ctx)
    for path in do_release(course, list(assignments)):
        click.echo(f"released {path.relative_to(course.root)}")


@main.command()
@click.argument("assignments", nargs=-1)
@click.option("--workers", type=click.IntRange(min=1), default=None, help="Parallel executions (default: cores).")
@click.option("--quiet", is_flag=True, help="No progress bar.")
@click.option("--rounds", type=click.IntRange(min=1), default=1, show_default=True,
              help="Grade each mutant this many times with other hidden seeds; it must be caught every time.")
@click.pass_context
def verify(ctx: click.Context, assignments: tuple[str, ...], workers: int | None, quiet: bool,
           rounds: int) -> None:
    """Prove each assignment grades what it claims.

    The solution earns full autograded marks, the untouched release earns zero, every
    catalogued mutant loses points, assignments/ is in sync with solutions/, and the notebook
    executes warning-free within its time budget. With --rounds N each mutant is graded N times
    with other hidden seeds and must be caught every time. Exits 1 on any failure.

    \b
    Example:
        grader verify 01-why-interpret 05-evaluation-metrics
        grader verify --rounds 5 11-simplification
    """
    from .verify import verify as do_verify

    report = do_verify(_course(ctx), list(assignments), workers=workers, progress=not quiet,
                       rounds=rounds)
    for line in report.lines:
        click.echo(line)
    for failure in report.failures:
        click.echo(f"FAIL {failure}")
    click.echo(report.summary)
    sys.exit(1 if report.failures or report.caught != report.mutants else 0)


@main.command()
@click.argument("assignment")
@click.option("--submissions", required=True, type=click.Path(path_type=Path),
              help="Directory of STUDENT_ID/ASSIGNMENT/*.ipynb (nbgrader's submitted layout).")
@click.option("--out", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Output directory: grades.csv, feedback/, autograded/, gradebook.db.")
@click.option("--workers", type=click.IntRange(min=1), default=None, help="Parallel executions (default: cores).")
@click.option("--scheduler", default=None, metavar="ADDRESS",
              help="Run the executions on a Dask cluster, e.g. tcp://10.0.0.5:8786 (results are still recorded here).")
@click.option("--cold", is_flag=True,
              help="A fresh sandbox and kernel per submission instead of warm, pre-imported ones (slower).")
@click.option("--db", "db_url", default=None, help="Gradebook SQLAlchemy URL (default: sqlite in --out).")
@click.option("--cell-timeout", type=click.IntRange(min=1), default=CELL_TIMEOUT_S, show_default=True,
              help="Seconds one cell may run.")
@click.option("--timeout", "submission_timeout", type=click.IntRange(min=1), default=SUBMISSION_TIMEOUT_S,
              show_default=True, help="Seconds one submission may run in all.")
@click.option("--memory", "memory_mb", type=click.IntRange(min=256), default=4096, show_default=True,
              help="MiB of memory one submission may use.")
@click.option("--max-procs", type=click.IntRange(min=8), default=256, show_default=True,
              help="Processes and threads one submission may run at once.")
@click.option("--max-output", "max_output_kb", type=click.IntRange(min=16), default=512, show_default=True,
              help="kB of output kept per cell (more is truncated and flagged).")
@click.option("--no-sandbox", is_flag=True,
              help="Run student code without isolation (trusted submissions only; needed where bubblewrap is missing).")
@click.option("--force", is_flag=True, help="Re-grade submissions a previous run already recorded.")
@click.option("--quiet", is_flag=True, help="No progress bar.")
@click.pass_context
def grade(ctx, assignment, submissions, out, workers, scheduler, cold, db_url, cell_timeout,
          submission_timeout, memory_mb, max_procs, max_output_kb, no_sandbox, force, quiet) -> None:
    """Autograde a class's submissions.

    Each submission runs in its own bubblewrap sandbox with time, memory, process and output
    limits. Writes OUT/grades.csv (student_id, assignment, score, max_score, status, flags, ...),
    per-student feedback under OUT/feedback/ and the gradebook. One bad submission never stops
    the batch; the exit status is 0 when the batch ran. Interrupted? Run the same command again:
    it resumes, re-grading only what was not recorded.

    Submissions run in parallel, --workers at a time, in warm sandboxes: each student gets a
    fresh kernel forked from one that has already imported the assignment's libraries, and
    nothing passes from one student to the next. --scheduler sends them to a Dask cluster.

    \b
    Examples:
        grader grade 05-evaluation-metrics --submissions submitted --out graded
        grader grade 05-evaluation-metrics --submissions submitted --out graded \\
            --scheduler tcp://10.0.0.5:8786 --db postgresql+psycopg://grader@db/course
    """
    from .engine.sandbox import Limits
    from .grading import GradeOptions
    from .grading import grade as do_grade

    limits = Limits(cell_timeout=cell_timeout, submission_timeout=submission_timeout, memory_mb=memory_mb,
                    max_processes=max_procs, max_output_kb=max_output_kb)
    options = GradeOptions(workers=workers, warm=False if cold else None, scheduler=scheduler,
                           db_url=check_db_url(db_url) if db_url else None, limits=limits,
                           sandbox=not no_sandbox, force=force, progress=not quiet)
    results = do_grade(_course(ctx), assignment, submissions, out, options)
    counts = {s: sum(r.status == s for r in results) for s in ("graded", "error", "missing")}
    for r in results:
        if r.status != "graded" or r.flags:
            click.echo(f"{r.student_id}: {r.status}{' [' + ';'.join(r.flags) + ']' if r.flags else ''} {r.reason}")
    click.echo(f"grade: {len(results)} students: {counts['graded']} graded, {counts['error']} error, "
               f"{counts['missing']} missing -> {Path(out) / 'grades.csv'}")


@main.command()
@click.argument("assignment")
@click.option("--out", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="The output directory of `grader grade`.")
@click.option("--db", "db_url", default=None, help="Gradebook URL (default: sqlite in --out).")
@click.pass_context
def feedback(ctx, assignment, out, db_url) -> None:
    """Re-render feedback pages after manual grading.

    \b
    Example:
        grader feedback 05-evaluation-metrics --out graded
    """
    from .export import regenerate_feedback

    db_url = check_db_url(db_url) if db_url else None
    (aid,) = _course(ctx).resolve([assignment])
    paths = regenerate_feedback(aid, out, db_url=db_url, course=_course(ctx))
    click.echo(f"feedback: {len(paths)} pages written under {Path(out) / 'feedback'}")


@main.command(name="export")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="The output directory of `grader grade` (its gradebook.db and grades.csv).")
@click.option("--db", "db_url", default=None, help="Gradebook SQLAlchemy URL instead of --out.")
@click.option("--to", "to", type=click.Path(dir_okay=False, path_type=Path), default=Path("grades-export.csv"),
              show_default=True, help="CSV file to write.")
@click.option("--format", "fmt", type=click.Choice(["csv", "canvas", "moodle"]), default="csv", show_default=True,
              help="csv: one row per assignment and student with status, flags, reason and the auto/manual "
                   "split; canvas or moodle: the layout their gradebook import reads.")
@click.pass_context
def export_cmd(ctx, out, db_url, to, fmt) -> None:
    """Export every grade in the gradebook (manual grades, late penalties) to CSV.

    Late penalties are recomputed from the current scores first, and with --out, OUT/grades.csv
    is brought up to date with the gradebook, so both files agree after manual grading.

    \b
    Examples:
        grader export --out graded --to grades-export.csv
        grader export --out graded --format canvas --to canvas.csv
        grader export --out graded --format moodle --to moodle.csv
    """
    from .export import export

    db_url = check_db_url(db_url) if db_url else None
    try:
        course = _course(ctx)
    except UserError:  # exporting a gradebook from outside the course: no penalty settings
        course = None
    n = export(to, out_dir=out, db_url=db_url, fmt=fmt, course=course)
    click.echo(f"export: {n} rows ({fmt}) -> {to}")


@main.command()
@click.option("--out", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="The output directory of `grader grade`.")
@click.option("--db", "db_url", default=None, help="Gradebook URL (default: sqlite in --out).")
@click.option("--submissions", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="The submissions folder (default: the one `grader grade` last read for --out).")
@click.option("--port", type=click.IntRange(min=1, max=65535), default=None, help="Port (default: a free one).")
@click.option("--no-browser", is_flag=True, help="Do not open a browser.")
@click.pass_context
def formgrader(ctx, out, db_url, submissions, port, no_browser) -> None:
    """Grade written answers in nbgrader's formgrader (JupyterLab) on a grading output.

    Starts JupyterLab on 127.0.0.1 with the formgrader set to OUT's gradebook and graded
    notebooks, prints its URL (with the login token) and every graded notebook, and runs until
    Ctrl-C. Its Autograde and Generate Feedback buttons are off (they would bypass the sandbox and
    show hidden tests): use `grader grade` and, after manual grading, `grader feedback`.

    \b
    Example:
        grader formgrader --out graded
    """
    import signal

    from . import formgrader as fg

    db_url = check_db_url(db_url) if db_url else None
    for sig in (signal.SIGTERM, signal.SIGHUP):  # stop the server too, not only this process
        signal.signal(sig, lambda *_: sys.exit(143))
    proc, url = fg.start(_course(ctx), out, db_url=db_url, port=port, submissions=submissions,
                         open_browser=not no_browser)
    try:
        click.echo(f"formgrader: {url}")
        from .export import _db_url

        for g in fg.graded_notebooks(_db_url(out, db_url)):
            notes = ("needs manual grade" if g.needs_manual_grade else "") + (" flagged" if g.flagged else "")
            click.echo(f"  {g.assignment}/{g.notebook}  {g.student_id}  {g.score:g}/{g.max_score:g}  "
                       f"{url.split('/formgrader')[0]}/formgrader/submissions/{g.submission_id}/  {notes}".rstrip())
        click.echo("Stop it with Ctrl-C. Then: grader feedback ASSIGNMENT --out OUT; grader export --out OUT")
        sys.stdout.flush()
        proc.wait()
    except KeyboardInterrupt:
        pass
    finally:
        fg.stop(proc)


@main.group()
def roster() -> None:
    """The class list (names and e-mails) in the gradebook."""


@roster.command(name="import")
@click.argument("csv_file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="The output directory of `grader grade` (its gradebook.db; created if absent).")
@click.option("--db", "db_url", default=None, help="Gradebook SQLAlchemy URL instead of --out.")
def roster_import(csv_file, out, db_url) -> None:
    """Add or update students from a CSV with nbgrader's columns: id, first_name, last_name, email.

    \b
    Example:
        grader roster import students.csv --out graded
    """
    from .roster import import_roster

    url = _writable_gradebook(out, db_url)
    added, updated = import_roster(csv_file, url)
    click.echo(f"roster: {added} students added, {updated} updated")


@main.command()
@click.argument("assignment")
@click.argument("when", required=False)
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="The output directory of `grader grade` (its gradebook.db; created if absent).")
@click.option("--db", "db_url", default=None, help="Gradebook SQLAlchemy URL instead of --out.")
@click.option("--clear", is_flag=True, help="Remove the due date.")
@click.pass_context
def duedate(ctx, assignment, when, out, db_url, clear) -> None:
    """Set an assignment's due date (ISO 8601; without an offset it is UTC) in the gradebook.

    Submissions whose nbgrader timestamp.txt is later get the late penalty that nbgrader_config.py
    configures (c.AssignLatePenalties.plugin_class, e.g. grader.late.PerDayPenalty).

    \b
    Example:
        grader duedate 05-evaluation-metrics 2026-12-01T23:59 --out graded
    """
    from .late import parse_when, set_duedate

    (aid,) = _course(ctx).resolve([assignment])
    if not clear and not when:
        raise UserError("give the due date, e.g. 2026-12-01T23:59 (UTC), or --clear")
    url = _writable_gradebook(out, db_url)
    due = set_duedate(aid, None if clear else parse_when(when), url)
    click.echo(f"duedate: {aid} " + (f"due {due.isoformat(timespec='minutes')} UTC" if due else "has no due date"))


@main.command()
@click.argument("assignments", nargs=-1)
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="The output directory of `grader grade` (its gradebook.db and grades.csv).")
@click.option("--db", "db_url", default=None, help="Gradebook SQLAlchemy URL (SQLite or PostgreSQL) instead of --out's.")
@click.option("--to", "to", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Where to write report.html and the CSVs (default: OUT/report, or ./report with --db only).")
@click.pass_context
def report(ctx, assignments, out, db_url, to) -> None:
    """Class analytics: one self-contained HTML page and a CSV of every table.

    Score distributions per assignment and across the course; item analysis per question
    (facility, standard deviation, discrimination, flags); how many students made each named
    mistake; statuses, flags and grading time per submission. Covers every assignment in the
    gradebook unless ASSIGNMENTS are named; manual grades from formgrader count.

    \b
    Examples:
        grader report 05-evaluation-metrics --out graded
        grader report --db postgresql+psycopg://grader@db/course --to report
    """
    from .report import build_report, gradebook_url

    course = _course(ctx)
    db_url = check_db_url(db_url) if db_url else gradebook_url(out, None)
    to = to or (Path(out) / "report" if out else Path("report"))
    files = build_report(db_url, to, list(assignments), out_dir=out, solutions=course.solutions)
    click.echo(f"report: {files.html} (and {len(files.csvs)} CSV files beside it)")


@main.command()
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="The output directory of `grader grade` (its gradebook.db).")
@click.option("--db", "db_url", default=None, help="Gradebook SQLAlchemy URL instead of --out's.")
@click.option("--to", "to", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Certificates, ledger and transcripts (default: OUT/certificates, or ./certificates).")
@click.option("--policy", "policy_file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="The policy TOML (default: certificate.toml at the course root).")
@click.option("--secret-file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="The signing secret, outside the course (default: ~/.config/grader/certificate.key, made on first use).")
@click.option("--check", "code", default=None, metavar="CODE_OR_PDF",
              help="Verify a certificate code (or a certificate PDF) against the ledger and the gradebook.")
@click.pass_context
def certify(ctx, out, db_url, to, policy_file, secret_file, code) -> None:
    """Issue PDF certificates to the students who meet the course's policy.

    Students who do not meet it yet get a transcript saying what is missing. Each certificate's
    verification code is an HMAC-SHA256 of its content under the instructor's secret; --check
    verifies a code (exit status 0 valid, 1 not).

    \b
    Examples:
        grader certify --out graded
        grader certify --out graded --check 6D82-2304-D40E-68A2-DD78
    """
    from .certify import certify as do_certify
    from .certify import check, check_pdf
    from .report import gradebook_url

    course = _course(ctx)
    if db_url:
        db_url = check_db_url(db_url)
    elif out is not None:
        db_url = gradebook_url(out, None)
    to = to or (Path(out) / "certificates" if out else Path("certificates"))
    if code is not None:
        kw = {"secret_file": secret_file, "db_url": db_url, "course": course, "policy_file": policy_file}
        ledger = to / "ledger.json"
        res = check_pdf(Path(code), ledger, **kw) if code.lower().endswith(".pdf") else check(code, ledger, **kw)
        click.echo(res.message)
        sys.exit(0 if res.valid else 1)
    if db_url is None:
        raise UserError("pass --out DIR (a `grader grade` output directory) or --db URL")
    res = do_certify(course, db_url, to, policy_file=policy_file, secret_file=secret_file)
    for sid, pdf, c in res.issued:
        click.echo(f"{sid}: certificate {pdf} (code {c})")
    for sid, pdf, c in res.kept:
        click.echo(f"{sid}: certificate already issued, unchanged: {pdf} (code {c})")
    for sid, path in res.transcripts:
        click.echo(f"{sid}: not yet; transcript {path}")
    click.echo(f"certify: {len(res.issued)} issued, {len(res.kept)} unchanged, {len(res.transcripts)} transcripts; "
               f"ledger {res.ledger}")


@main.command()
@click.argument("notebook_dir", required=False, type=click.Path(file_okay=False, path_type=Path))
@click.option("--timeout", "cell_timeout", type=click.IntRange(min=1), default=CELL_TIMEOUT_S, show_default=True,
              help="Seconds one cell may run.")
@click.option("--quiet", is_flag=True, help="No progress bar.")
@click.pass_context
def progress(ctx, notebook_dir, cell_timeout, quiet) -> None:
    """Your progress: run the visible checks of your own notebooks and show a board.

    For students and self-learners. NOTEBOOK_DIR (default: assignments/ of the course) holds
    your notebooks, one per module (NN-name.ipynb, directly or in NN-name/ folders). Each one is
    executed here with nbclient, as you: it is your own code, so no sandbox is used (never point
    this at notebooks you do not trust). Nothing is changed on disk. Prints, per module and
    question, passed / failed (with the one-line reason) / not attempted, and the share of the
    certificate done.

    \b
    Example:
        grader progress assignments
    """
    from .progress import board, run_progress

    course = _course(ctx)
    result = run_progress(course, notebook_dir or course.assignments, cell_timeout=cell_timeout,
                          progress=not quiet)
    click.echo(board(result))


@main.command()
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=Path("demo-output"),
              show_default=True, help="Where to write the example class and its grades.")
@click.option("--workers", type=click.IntRange(min=1), default=None, help="Parallel executions (default: cores).")
@click.option("--quiet", is_flag=True, help="No progress bar.")
@click.pass_context
def demo(ctx, out, workers, quiet) -> None:
    """The whole instructor cycle on the bundled example class.

    \b
    Example:
        grader demo --out demo-output
    """
    from .demo import run_demo

    run_demo(_course(ctx), out, workers=workers, progress=not quiet, echo=click.echo)


@main.command()
@click.option("--out", type=click.Path(path_type=Path), default=Path("build/site"),
              show_default=True, help="Folder for the website (new, or a previous site build).")
@click.option("--execute", is_flag=True,
              help="Re-execute the lectures (minutes) instead of showing their stored outputs.")
@click.pass_context
def site(ctx, out, execute) -> None:
    """Build the course website: static HTML that works offline (lectures, assignments, search).

    \b
    Example:
        grader site --out build/site    # then open build/site/index.html
    """
    from .website import build_site

    result = build_site(_course(ctx), out, execute=execute)
    for line in result.warnings:
        click.echo(f"site: {line}", err=True)
    click.echo(f"site: {result.pages} pages in {result.seconds:.0f} s -> {result.index}")


if __name__ == "__main__":  # pragma: no cover
    main()
