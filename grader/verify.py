"""``grader verify``: prove that each assignment grades what it claims to grade.

For every assignment it builds a synthetic class from the source notebook and grades it with the
same pipeline as ``grader grade`` (so it also proves that pipeline):

- ``solution``: the source notebook as written must earn every autograded point, execute with
  no error and nothing on stderr anywhere, within the notebook time budget;
- ``release``: the untouched student version must earn zero;
- one student per catalogued mutant (``solutions/<aid>/mutants.yml``): the source with one
  solution region replaced by a plausible wrong answer must lose points in that question's own
  tests, and where the mutant names an ``expect`` text, a failing test must say it;
- ``assignments/<aid>`` must equal a fresh release of ``solutions/<aid>``;
- every retired edition (``editions/<aid>/NAME``, :mod:`grader.editions`) is verified
  the same way, as the gradebook assignment that holds its grades; its frozen ``release/`` must
  equal a fresh release of its source (what its students hold), and its solution, release and
  mutants must be matched to it by content when graded with the whole assignment;
- for an assignment with an answer key (``solutions/<aid>/key.py``), the offline visible checks
  (``grader/checks/data/mNN.json``) must be up to date, and each mutant that the key's visible
  check names must be named the same way by the offline check (:func:`grader.precompute.build`).

With ``rounds`` above 1 each mutant is graded that many times as differently named students, so
its hidden tests draw that many different secret seeds; a mutant counts as caught only if every
round catches it. A hidden test that catches a mistake for most seeds but not all makes the grade
depend on luck (issue 14; 11 q2 missed the raw-units mistake for about one seed in eleven).

It also reports, per question, which catalogued mutants each of the question's test cells catches
(``coverage``), so that a test cell that catches none of them is visible (issue 14): a visible
check whose fixed inputs let every catalogued mistake through teaches nothing.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from .config import NOTEBOOK_BUDGET_S, Course, UserError
from .editions import retired_editions
from .grading import grade
from .mutants import MIN_MUTANTS_PER_QUESTION, Mutant, answer_cells, load_mutants, question_of
from .notebooks import find_cell, replace_solution
from .release import out_of_sync
from .results import SubmissionResult


@dataclass
class Report:
    assignments: int = 0
    questions: int = 0
    mutants: int = 0
    caught: int = 0
    failures: list[str] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)
    #: (assignment, question prefix) -> test cell grade_id -> ids of the mutants it catches
    coverage: dict[tuple[str, str], dict[str, set[str]]] = field(default_factory=dict)
    #: (assignment, question prefix) -> ids of the question's catalogued mutants
    catalogue: dict[tuple[str, str], list[str]] = field(default_factory=dict)

    def coverage_lines(self, aid: str) -> list[str]:
        """One line per question: ``q1 (5 mutants): q1_check 4/5, q1_hidden 5/5``; a test cell
        that catches none of its question's mutants is marked ``CATCHES NONE``."""
        lines = []
        for (a, prefix), cells in sorted(self.coverage.items()):
            if a != aid:
                continue
            n = len(self.catalogue.get((a, prefix), []))
            parts = []
            for gid in sorted(cells):
                k = len(cells[gid])
                parts.append(f"{gid} {k}/{n}" + (" CATCHES NONE" if k == 0 and n else ""))
            lines.append(f"{aid}: {prefix[:-1]} ({n} mutants): {', '.join(parts)}")
        return lines

    @property
    def summary(self) -> str:
        return (
            f"verify: {self.assignments} assignments, {self.questions} questions, "
            f"{self.caught}/{self.mutants} mutants caught, {len(self.failures)} failures"
        )


def _write_student(root: Path, sid: str, aid: str, name: str, nb) -> None:
    target = root / sid / aid
    target.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, target / name)


def _stderr_or_errors(path: Path) -> list[str]:
    nb = nbformat.read(path, as_version=4)
    problems = []
    for i, cell in enumerate(nb.cells, 1):
        for out in cell.get("outputs", []):
            if out.get("output_type") == "stream" and out.get("name") == "stderr":
                problems.append(f"cell {i} writes to stderr: {out.get('text', '').strip()[:100]!r}")
            elif out.get("output_type") == "error":
                problems.append(f"cell {i} raises {out.get('ename')}: {str(out.get('evalue'))[:100]}")
    return problems


def _round_id(sid: str, r: int) -> str:
    return sid if r == 0 else f"{sid}-round{r + 1}"


def verify_assignment(course: Course, aid: str, report: Report, workers: int | None, progress: bool,
                      rounds: int = 1, *, retired: bool = False) -> None:
    """Verify one assignment into ``report``; ``retired``: a retired edition's course view
    (:func:`grader.editions.retired_course`), whose offline data is not the package's."""
    sources = course.source_notebooks(aid)
    if len(sources) != 1:
        report.failures.append(f"{aid}: expected exactly one source notebook, found {len(sources)}")
        return
    src_path = sources[0]
    source = nbformat.read(src_path, as_version=4)
    release_path = course.assignments / aid / src_path.name
    mutants = load_mutants(course, aid)
    answers = answer_cells(source)
    report.assignments += 1
    report.questions += len(answers)
    fail = report.failures.append

    for problem in out_of_sync(course, aid, offline=not retired):
        fail(f"{aid}: {problem}")
    if not retired and (course.solutions / aid / "key.py").is_file():  # converted: offline checks too
        from .precompute import build

        try:
            for problem in build(course, aid)[1]:
                fail(problem)
        except UserError as exc:  # a broken key: this assignment fails, the others are verified
            fail(str(exc))
    for answer in answers:
        n = sum(1 for m in mutants if m.cell == answer)
        if n < MIN_MUTANTS_PER_QUESTION:
            fail(f"{aid}: {answer} has {n} catalogued mutants; add at least {MIN_MUTANTS_PER_QUESTION}")

    with tempfile.TemporaryDirectory(prefix="grader-verify-") as tmp:
        tmp = Path(tmp)
        subs = tmp / "submissions"
        _write_student(subs, "solution", aid, src_path.name, source)
        if release_path.exists():
            _write_student(subs, "release", aid, src_path.name, nbformat.read(release_path, as_version=4))
        else:
            fail(f"{aid}: {release_path.relative_to(course.root)} is missing; run `grader release {aid}`")
        runnable: list[Mutant] = []
        for m in mutants:
            try:
                nb = nbformat.read(src_path, as_version=4)
                cell = find_cell(nb, m.cell)
                cell.source = replace_solution(cell.source, m.code)
            except KeyError:
                fail(f"{aid}: mutant {m.id} names cell {m.cell!r}, which is not in the notebook")
                continue
            except ValueError as exc:
                fail(f"{aid}: mutant {m.id}: {exc}")
                continue
            for r in range(rounds):
                _write_student(subs, _round_id(m.student_id, r), aid, src_path.name, nb)
            runnable.append(m)
        report.mutants += len(mutants)
        from .engine.sandbox import bwrap

        results = {r.student_id: r for r in grade(course, aid, subs, tmp / "out", workers=workers,
                                                  progress=progress, sandbox=bwrap() is not None)}

        full = _check_solution(aid, results.get("solution"), report)
        rel = results.get("release")
        if rel is not None:
            if rel.status != "graded":
                fail(f"{aid}: the release could not be graded ({rel.reason})")
            elif rel.auto_score != 0:
                passing = [c.grade_id for c in rel.cells if c.points]
                fail(f"{aid}: the untouched release earns {rel.auto_score:g} points (tests passing: {', '.join(passing)})")
        sol = results.get("solution")
        for answer in answers:
            prefix = question_of(answer)
            report.catalogue[(aid, prefix)] = [m.id for m in runnable if question_of(m.cell) == prefix]
            tests = [c.grade_id for c in (sol.cells if sol else []) if c.grade_id.startswith(prefix)]
            report.coverage[(aid, prefix)] = {gid: set() for gid in tests}
        for m in runnable:
            _check_mutant(aid, m, [results.get(_round_id(m.student_id, r)) for r in range(rounds)],
                          full, report)
        report.lines.extend(report.coverage_lines(aid))
        shutil.rmtree(tmp / "out", ignore_errors=True)


def _check_solution(aid: str, res: SubmissionResult | None, report: Report) -> float:
    if res is None or res.status != "graded":
        report.failures.append(f"{aid}: the solution could not be graded ({res.reason if res else 'no result'})")
        return float("inf")
    full = sum(c.max_points for c in res.cells)
    if res.auto_score != full:
        failing = [f"{c.grade_id} ({c.message})" for c in res.cells if (c.points or 0) < c.max_points]
        report.failures.append(f"{aid}: the solution earns {res.auto_score:g}/{full:g}; failing: {'; '.join(failing)}")
    for nb_path in res.graded_notebooks:
        for problem in _stderr_or_errors(nb_path):
            report.failures.append(f"{aid}: solution {problem}")
    if res.seconds > NOTEBOOK_BUDGET_S:
        report.failures.append(f"{aid}: the solution took {res.seconds:.0f} s to grade (budget {NOTEBOOK_BUDGET_S} s)")
    if "timeout" in res.flags:
        report.failures.append(f"{aid}: a cell of the solution timed out")
    report.lines.append(f"{aid}: solution {res.auto_score:g}/{full:g} in {res.seconds:.1f} s")
    return full


def _check_mutant(aid: str, m: Mutant, rounds: list[SubmissionResult | None], full: float,
                  report: Report) -> None:
    """Count ``m`` caught if every round's result loses points in its own question (naming
    ``m.expect`` where set); otherwise add one failure naming the first round that let it through."""
    prefix = question_of(m.cell)
    cells = report.coverage.setdefault((aid, prefix), {})
    problems = []
    for r, res in enumerate(rounds, 1):
        if res is None or res.status != "graded":
            problems.append(f"mutant {m.id} could not be graded ({res.reason if res else 'no result'})")
            continue
        own = [c for c in res.cells if c.grade_id.startswith(prefix)]
        lost = [c for c in own if (c.points or 0) < c.max_points]
        for c in own:
            cells.setdefault(c.grade_id, set())
            if (c.points or 0) < c.max_points and r == 1:
                cells[c.grade_id].add(m.id)
        where = f" in round {r} of {len(rounds)}" if len(rounds) > 1 else ""
        if res.auto_score >= full or not lost:
            problems.append(
                f"mutant {m.id} ({m.why or 'no description'}) is not caught by the {prefix[:-1]} tests"
                f"{where} (scores {res.auto_score:g}/{full:g})"
            )
            continue
        if m.expect:
            said = " ".join(c.message or "" for c in lost)
            if m.expect.lower() not in said.lower():
                problems.append(
                    f"mutant {m.id} loses points{where} but the feedback does not name the mistake "
                    f"(expected it to mention {m.expect!r}; it said: {said[:200]!r})"
                )
    if problems:
        report.failures.append(f"{aid}: {problems[0]}")
    else:
        report.caught += 1


def verify(course: Course, ids: list[str] | None = None, *, workers: int | None = None,
           progress: bool = True, rounds: int = 1) -> Report:
    """Verify each assignment of ``ids`` (all if None); ``rounds`` >= 1 gradings of every mutant,
    each with other hidden seeds. Returns the :class:`Report`; raises nothing for a bad
    assignment (its problems are failures of the report)."""
    report = Report()
    for aid in course.resolve(ids):
        verify_assignment(course, aid, report, workers, progress, rounds)
        for edition in retired_editions(course, aid):
            verify_edition(course, aid, edition, report, workers, progress, rounds)
    return report


def verify_edition(course: Course, aid: str, edition: str, report: Report, workers: int | None,
                   progress: bool, rounds: int = 1) -> None:
    """Verify retired ``edition`` of ``aid`` into ``report`` (its questions and mutants count;
    the assignment is counted once): as its own gradebook assignment, then that its solution and
    untouched release are matched to it by content, as ``grader grade`` matches submissions."""
    from .editions import choose, current_edition, gradebook_name, retired_course

    with tempfile.TemporaryDirectory(prefix="grader-edition-") as tmp:
        view, name = retired_course(course, aid, edition, Path(tmp))
        before = report.assignments
        verify_assignment(view, name, report, workers, progress, rounds, retired=True)
        report.assignments = before
        if current_edition(course, aid) is None:
            report.failures.append(f"{aid}: has retired editions but its source notebook names no "
                                   "current edition (metadata grader.edition)")
            return
        released = [course.assignments / aid / p.name for p in course.source_notebooks(aid)]
        releases = [(current_edition(course, aid), {p.name: nbformat.read(p, as_version=4)
                                                    for p in released if p.exists()}),
                    (edition, {p.name: nbformat.read(p, as_version=4)
                               for p in sorted((view.assignments / name).glob("*.ipynb"))})]
        for what, folder in (("solution", view.solutions / name), ("release", view.assignments / name)):
            notebooks = {p.name: nbformat.read(p, as_version=4) for p in sorted(folder.glob("*.ipynb"))}
            if choose(releases, notebooks).index != 1:
                report.failures.append(f"{gradebook_name(aid, edition)}: its {what} is not matched "
                                       f"to edition {edition} by content (it would be graded on "
                                       "the current edition)")
