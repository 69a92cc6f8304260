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
@click.pass_context
def verify(ctx: click.Context, assignments: tuple[str, ...], workers: int | None, quiet: bool) -> None:
    """Prove each assignment grades what it claims.

    The solution earns full autograded marks, the untouched release earns zero, every
    catalogued mutant loses points, assignments/ is in sync with solutions/, and the notebook
    executes warning-free within its time budget. Exits 1 on any failure.

    \b
    Example:
        grader verify 01-why-interpret 05-evaluation-metrics
    """
    from .verify import verify as do_verify

    report = do_verify(_course(ctx), list(assignments), workers=workers, progress=not quiet)
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
    from .grading import grade as do_grade
    from .sandbox import Limits

    db_url = check_db_url(db_url) if db_url else None
    limits = Limits(cell_timeout=cell_timeout, submission_timeout=submission_timeout, memory_mb=memory_mb,
                    max_processes=max_procs, max_output_kb=max_output_kb)
    results = do_grade(_course(ctx), assignment, submissions, out, workers=workers, db_url=db_url,
                       warm=False if cold else None, scheduler=scheduler, limits=limits,
                       sandbox=not no_sandbox, force=force, progress=not quiet)
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
    paths = regenerate_feedback(aid, out, db_url=db_url)
    click.echo(f"feedback: {len(paths)} pages written under {Path(out) / 'feedback'}")


@main.command(name="export")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="The output directory of `grader grade` (its gradebook.db).")
@click.option("--db", "db_url", default=None, help="Gradebook SQLAlchemy URL instead of --out.")
@click.option("--to", "to", type=click.Path(dir_okay=False, path_type=Path), default=Path("grades-export.csv"),
              show_default=True, help="CSV file to write.")
def export_cmd(out, db_url, to) -> None:
    """Export every grade in the gradebook (manual grades included) to CSV.

    \b
    Example:
        grader export --out graded --to grades.csv
    """
    from .export import export

    db_url = check_db_url(db_url) if db_url else None
    n = export(to, out_dir=out, db_url=db_url)
    click.echo(f"export: {n} rows -> {to}")


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
