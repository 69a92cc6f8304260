"""Stock ``nbgrader autograde`` against ``grader grade``: synthetic classes, both tools, one run.

    ./run.sh help   # once: creates .venv if it is missing
    PATH=$PWD/.venv/bin:$PATH python benchmarks/grading.py \\
        [--assignment 07-global-methods] [--n 1,3,24] [--workers 1,2] [--seed 2026] \\
        [--json numbers.json] [--keep DIR] [--no-sandbox] [--course DIR]

For each class size N of ``--n`` it writes N submissions of the assignment the way students hand
them in: the released (student) notebook, nbgrader cell metadata intact, with answers filled in.
Most students are right, about three in ten make one or two of the mistakes catalogued in
``solutions/AID/mutants.yml``, and about one in twelve answer only the first half of the
questions. A class is the same for a given seed and N (grader.example_class, grader.verify).

Then it grades that class, in this order, each as one subprocess timed by wall clock:

1. stock nbgrader: a throwaway course directory (``source/AID`` copied from ``solutions/AID``
   without the mutant catalogue, ``nbgrader generate_assignment``, the class copied to
   ``submitted/``), then ``nbgrader autograde AID`` alone is timed. Stock nbgrader grades one
   submission at a time, runs student code as the caller and with the caller's environment;
   its per-cell timeout is set to the grader's (grader.config.CELL_TIMEOUT_S);
2. ``grader grade AID --workers K`` for each K of ``--workers``, each into a fresh ``--out``
   (sandboxed unless ``--no-sandbox``; the sandbox also pins BLAS/OpenMP to one thread).

What it prints (one table, a row per class size and command; docs/performance.md explains it):

- ``wall s``: the wall time of each grading command, start to exit;
- ``cpu s``: user + system CPU seconds of the command and everything it started, sandboxes
  included (a cgroup of its own where the host allows, else ``getrusage``): a figure that other
  work on a shared machine disturbs far less than wall time;
- ``first result s``: command start to the first graded notebook written
  (``autograded/STUDENT/AID/*.ipynb``, its mtime): both tools write one as soon as a submission
  is graded, so this is how long an instructor waits for the first grade;
- ``s/sub``: wall / N; ``steady s/sub``: (last graded notebook - first) / (N - 1), the rate a
  class much larger than N would see;
- ``cells s/sub``: the mean time per submission spent executing its code cells, read from the
  graded notebooks: nbclient stamps each executed cell with ``iopub.execute_input`` and
  ``shell.execute_reply`` (cell metadata ``execution``), and a submission's cell time is the sum
  of reply - input over its code cells. If a tool's graded notebooks lack the stamps, the line
  says so and the other tool's cell time for the same submissions is used instead (same code,
  same machine), marked ``*``;
- ``overhead s/sub``: wall / N - cells s/sub, for the serial runs only (stock, and the grader
  at one worker): everything a tool spends per submission beyond running the student's cells;
- ``vs stock``: stock wall / grader wall for the same class, the throughput ratio (above 1: the
  grader is faster); the headline is the ratio at 2 workers on the largest class;
- scaling efficiency at K workers: T(1 worker) / (K x T(K workers)); 1.0 is perfect scaling;
- the goals of issue 19, each ``met`` or ``NOT met`` with the numbers: first result within 4 s
  at every N and worker count; more workers never slower than one; the grader never slower
  than stock; at the largest N at least 6x stock's throughput, and a steady state within 1.25x
  the *physical limit*: the submissions' own cell time (the grader's, whose kernels have the
  imports done) divided by the cores;
- a cross-check: every student's autograded score, per test cell and in total, read from each
  tool's gradebook, and the total score each tool reports, must agree; any disagreement is
  listed and the exit status is 1. In a converted assignment (``solutions/AID/key.py``) the
  hidden test cells are judged outside the kernel, which stock nbgrader cannot do: those cells
  and the totals are left out, and a note says so.

The header names the machine's core count, the load average and the grader's git commit (with
the files changed since, if any) so that numbers can be attributed; each command's line shows
the load average before it. Exit status: 0 when both tools agree, 1 when they disagree or a
grading command failed (missed goals do not fail the run), 2 when the benchmark cannot run
(bubblewrap missing without --no-sandbox, bad arguments).
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import json
import logging
import os
import platform
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import nbformat  # noqa: E402

from grader.config import CELL_TIMEOUT_S, Course, UserError, ensure_env_bin_on_path  # noqa: E402
from grader.example_class import build_submission  # noqa: E402
from grader.verify import answer_cells, load_mutants  # noqa: E402

DEFAULT_ASSIGNMENT = "07-global-methods"
STOCK_CONFIG = """\
c = get_config()  # noqa: F821
c.CourseDirectory.course_id = "grading-benchmark"
c.CourseDirectory.ignore = {ignore!r}
c.Execute.timeout = {timeout}
# as in the course's nbgrader_config.py (and grader grade): deleted test cells are put back
c.OverwriteCells.add_missing_cells = True
"""


def ignored(course: Course) -> list[str]:
    """What nbgrader must not copy from the source folder: the course's own list (its
    nbgrader_config.py), and the mutant catalogue in any case."""
    listed = course.nbgrader_config().CourseDirectory.get("ignore") or [".ipynb_checkpoints", "*.pyc", "__pycache__"]
    return [*dict.fromkeys([*listed, "mutants.yml"])]


@dataclass
class Student:
    student_id: str
    kind: str  # correct | mistakes | partial
    mutants: list[str] = field(default_factory=list)


@dataclass
class Run:
    label: str
    workers: int | None  # None: stock nbgrader
    wall_s: float = 0.0
    rc: int = 0
    log: str = ""
    cell_s: dict[str, float] = field(default_factory=dict)  # student -> seconds in code cells
    cells_unstamped: int = 0  # executed code cells without both timestamps
    cell_source: str = "timestamps"  # or "borrowed from <run>"
    by_cell: dict[str, list[float]] = field(default_factory=dict)  # grade_id (or #index) -> seconds
    notebooks: dict[str, Path] = field(default_factory=dict)
    started_at: float = 0.0  # time.time() when the command started
    cpu_s: float = 0.0  # user + system CPU seconds of the command and every process it waited for
    first_result_s: float | None = None  # start to the first graded notebook written
    steady_s: float | None = None  # seconds per submission from the first result to the last

    def mean_cell_s(self) -> float | None:
        return sum(self.cell_s.values()) / len(self.cell_s) if self.cell_s else None


# --- the class ---------------------------------------------------------------------------------


def plan_class(n: int, mutant_cells: dict[str, list], rng: random.Random) -> list[Student]:
    """N students: ~3 in 10 with 1-2 catalogued mistakes, ~1 in 12 half blank, the rest right."""
    n_partial = n // 12
    n_mistakes = min(n - n_partial, round(n * 0.3)) if any(mutant_cells.values()) else 0
    kinds = ["partial"] * n_partial + ["mistakes"] * n_mistakes
    kinds += ["correct"] * (n - len(kinds))
    rng.shuffle(kinds)
    return [Student(f"s{i + 1:03d}", kind) for i, kind in enumerate(kinds)]


def write_class(course: Course, aid: str, n: int, seed: int, out: Path) -> list[Student]:
    """Write ``out/STUDENT/AID/NAME.ipynb`` for N students; return who is who."""
    sources = course.source_notebooks(aid)
    if len(sources) != 1:
        raise UserError(f"solutions/{aid}: expected one source notebook, found {len(sources)}")
    src_path = sources[0]
    release_path = course.assignments / aid / src_path.name
    if not release_path.exists():
        raise UserError(f"{release_path} is missing; run `grader release {aid}`")
    source = nbformat.read(src_path, as_version=4)
    release = nbformat.read(release_path, as_version=4)
    answers = answer_cells(source)
    by_cell: dict[str, list] = {a: [] for a in answers}
    for m in load_mutants(course, aid):
        if m.cell in by_cell:
            by_cell[m.cell].append(m)
    rng = random.Random(f"{seed}-{aid}-benchmark")
    students = plan_class(n, by_cell, rng)
    for st in students:
        chosen: dict[str, str | None] = {a: None for a in answers}
        written = True
        if st.kind == "partial":
            chosen = {a: None for a in answers[: max(1, len(answers) // 2)]}
            written = False
        elif st.kind == "mistakes":
            wrongable = [a for a in answers if by_cell[a]]
            for a in rng.sample(wrongable, k=min(rng.choice((1, 1, 2)), len(wrongable))):
                m = rng.choice(by_cell[a])
                chosen[a] = m.code
                st.mutants.append(m.id)
        nb = build_submission(source, release, chosen, written, rng)
        target = out / st.student_id / aid
        target.mkdir(parents=True)
        nbformat.write(nb, target / src_path.name)
    return students


# --- running the tools -------------------------------------------------------------------------


def _load() -> str:
    one, five, _ = os.getloadavg()
    return f"load {one:.2f}/{five:.2f}"


class CpuMeter:
    """CPU seconds (user + system) of a command and everything it starts, sandboxes included.

    A cgroup of its own where the host lets us make one (v1 ``cpuacct.usage`` or v2
    ``cpu.stat``'s ``usage_usec``): it counts processes that are killed rather than reaped
    (a warm sandbox's zygote). Otherwise ``getrusage(RUSAGE_CHILDREN)``, which misses those.
    """

    def __init__(self) -> None:
        self.path: Path | None = None
        self.file = ""
        name = f"grading-bench-{os.getpid()}-{time.monotonic_ns()}"
        base = Path("/sys/fs/cgroup")
        try:
            if (base / "cgroup.controllers").exists():
                own = open("/proc/self/cgroup").read().strip().split("::", 1)[-1].lstrip("/")
                path, self.file = base / own / name, "cpu.stat"
            else:
                path, self.file = base / "cpuacct" / name, "cpuacct.usage"
            path.mkdir()
            self.path = path
        except OSError:
            self.path = None
        self.rusage = resource.getrusage(resource.RUSAGE_CHILDREN)

    @property
    def source(self) -> str:
        return "cgroup" if self.path else "rusage"

    def join(self) -> None:
        """preexec_fn: move the child into the cgroup."""
        if self.path is not None:
            (self.path / "cgroup.procs").write_text(str(os.getpid()))

    def seconds(self) -> float:
        if self.path is not None:
            try:
                text = (self.path / self.file).read_text()
                if self.file == "cpu.stat":
                    return int(next(ln.split()[1] for ln in text.splitlines() if ln.startswith("usage_usec"))) / 1e6
                return int(text) / 1e9
            except (OSError, ValueError, StopIteration):
                pass
        now = resource.getrusage(resource.RUSAGE_CHILDREN)
        return (now.ru_utime - self.rusage.ru_utime) + (now.ru_stime - self.rusage.ru_stime)

    def close(self) -> None:
        if self.path is not None:
            for _ in range(50):
                try:
                    self.path.rmdir()
                    return
                except OSError:
                    time.sleep(0.1)


def _timed(label: str, workers: int | None, argv: list[str], cwd: Path, log: Path, env: dict) -> Run:
    print(f"  {label} ({_load()} before) ...", end="", flush=True)
    meter = CpuMeter()
    with open(log, "wb") as fh:
        started_at = time.time()
        start = time.perf_counter()
        proc = subprocess.run(argv, cwd=cwd, stdout=fh, stderr=subprocess.STDOUT, env=env, preexec_fn=meter.join)
        wall = time.perf_counter() - start
    time.sleep(0.2)  # let killed sandboxes' last processes end
    cpu = meter.seconds()
    meter.close()
    print(f" {wall:.1f} s, {cpu:.1f} s of CPU" + (f" (exit {proc.returncode}; see {log})" if proc.returncode else ""),
          flush=True)
    return Run(label, workers, wall, proc.returncode, str(log), started_at=started_at, cpu_s=cpu)


def steady_state(run: Run) -> None:
    """Time to the first result and steady-state rate of a run, from when each graded notebook
    was written (both tools write a submission's graded notebook as soon as it is graded:
    ``autograded/STUDENT/AID/*.ipynb``): first result = the earliest such file's mtime - the
    command's start; steady state = (last - first) / (N - 1), for N >= 2."""
    stamps = sorted(p.stat().st_mtime for p in run.notebooks.values())
    if stamps and run.started_at:
        run.first_result_s = stamps[0] - run.started_at
    if len(stamps) >= 2:
        run.steady_s = (stamps[-1] - stamps[0]) / (len(stamps) - 1)


def setup_stock(course: Course, aid: str, subs: Path, stock: Path, env: dict) -> None:
    """A throwaway nbgrader course directory with the assignment generated and the class submitted."""
    stock.mkdir(parents=True)
    ignore = ignored(course)
    (stock / "nbgrader_config.py").write_text(STOCK_CONFIG.format(ignore=ignore, timeout=CELL_TIMEOUT_S))
    shutil.copytree(course.solutions / aid, stock / "source" / aid, ignore=shutil.ignore_patterns(*ignore))
    proc = subprocess.run([_exe("nbgrader"), "generate_assignment", aid, "--force"], cwd=stock,
                          capture_output=True, text=True, env=env)
    (stock / "generate_assignment.log").write_text(proc.stdout + proc.stderr)
    if proc.returncode != 0:
        raise UserError(f"nbgrader generate_assignment {aid} failed (see {stock / 'generate_assignment.log'})")
    shutil.copytree(subs, stock / "submitted")


def _exe(name: str) -> str:
    return str(Path(sys.executable).parent / name)


# --- reading the results -----------------------------------------------------------------------


def _stamp(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def read_cell_times(run: Run, graded_root: Path, aid: str) -> None:
    """Sum of shell.execute_reply - iopub.execute_input over each graded notebook's code cells."""
    for sdir in sorted(p for p in graded_root.iterdir() if p.is_dir()) if graded_root.is_dir() else []:
        for path in sorted((sdir / aid).glob("*.ipynb")):
            run.notebooks[sdir.name] = path
            nb = nbformat.read(path, as_version=4)
            total, stamped = 0.0, 0
            for i, cell in enumerate(nb.cells):
                if cell.cell_type != "code" or not cell.source.strip():
                    continue
                ex = cell.get("metadata", {}).get("execution", {})
                if "iopub.execute_input" in ex and "shell.execute_reply" in ex:
                    secs = (_stamp(ex["shell.execute_reply"]) - _stamp(ex["iopub.execute_input"])).total_seconds()
                    total += secs
                    stamped += 1
                    name = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") or f"#{i}"
                    run.by_cell.setdefault(name, []).append(secs)
                else:
                    run.cells_unstamped += 1
            if stamped:
                run.cell_s[sdir.name] = run.cell_s.get(sdir.name, 0.0) + total


def gradebook_scores(db: Path, aid: str, students: list[str]) -> dict[str, dict]:
    """Per student: {'cells': {grade_id: auto_score}, 'auto': total, 'score': submission score}."""
    from nbgrader.api import Gradebook, MissingEntry

    out: dict[str, dict] = {}
    if not db.exists():
        return out
    with warnings.catch_warnings(), Gradebook(f"sqlite:///{db}") as gb:
        warnings.simplefilter("ignore")
        for sid in students:
            try:
                sub = gb.find_submission(aid, sid)
            except MissingEntry:
                continue
            cells = {}
            for nb in sub.notebooks:
                for g in nb.grades:
                    if g.cell_type == "code":
                        cells[f"{nb.name}:{g.name}"] = g.auto_score
            auto = None if any(v is None for v in cells.values()) else sum(cells.values())
            out[sid] = {"cells": cells, "auto": auto, "score": float(sub.score)}
    return out


def grader_csv_scores(path: Path) -> dict[str, dict]:
    if not path.exists():
        return {}
    with open(path, newline="") as fh:
        return {r["student_id"]: r for r in csv.DictReader(fh)}


def judged_outside(course: Course, aid: str) -> set[str]:
    """``NOTEBOOK:grade_id`` of the test cells stock nbgrader cannot grade: in a converted
    assignment (``solutions/AID/key.py``) a hidden test cell (``qN.check_hidden(seed=...)``)
    is judged by the grader outside the kernel against the instructor's key, which the
    released check library does not hold, so stock nbgrader scores it 0 (docs/authoring.md)."""
    if not (course.solutions / aid / "key.py").is_file():
        return set()
    cells = set()
    for path in course.source_notebooks(aid):
        for cell in nbformat.read(path, as_version=4).cells:
            meta = cell.get("metadata", {}).get("nbgrader", {})
            if cell.cell_type == "code" and meta.get("grade") and "check_hidden(" in cell.source:
                cells.add(f"{path.stem}:{meta.get('grade_id')}")
    return cells


def cross_check(students: list[str], stock: dict, ours: dict, rows: dict,
                skip: set[str] = frozenset()) -> list[str]:
    """Disagreements between stock nbgrader's and the grader's scores, one line each; the
    ``skip`` cells (see :func:`judged_outside`) are left out, and then so is the total."""
    problems = []
    for sid in students:
        s, o, row = stock.get(sid), ours.get(sid), rows.get(sid)
        if s is None or o is None or row is None:
            missing = [name for name, v in (("stock gradebook", s), ("grader gradebook", o),
                                            ("grader grades.csv", row)) if v is None]
            problems.append(f"{sid}: not graded by {', '.join(missing)}")
            continue
        diff = [f"{k} stock {s['cells'].get(k)} vs grader {o['cells'].get(k)}"
                for k in sorted(set(s["cells"]) | set(o["cells"]))
                if k not in skip and s["cells"].get(k) != o["cells"].get(k)]
        if diff:
            problems.append(f"{sid}: autograded {s['auto']} vs {o['auto']}: " + "; ".join(diff))
        elif row["status"] != "graded":
            problems.append(f"{sid}: status {row['status']} (flags {row['flags'] or '-'}: {row['reason']})")
        elif not skip and abs(float(row["score"]) - s["score"]) > 1e-9:
            problems.append(f"{sid}: score stock {s['score']:g} vs grader {row['score']} "
                            f"(status {row['status']}, flags {row['flags'] or '-'}: {row['reason']})")
    return problems


# --- reporting ---------------------------------------------------------------------------------


def git_commit() -> tuple[str, list[str]]:
    """The checkout's commit, and the files under grader/ that differ from it."""

    def git(*args: str) -> str:
        try:
            return subprocess.run(["git", "-C", str(ROOT), *args], capture_output=True, text=True,
                                  timeout=30).stdout
        except (OSError, subprocess.TimeoutExpired):
            return ""

    changed = [line[3:] for line in git("status", "--porcelain", "--", "grader").splitlines() if len(line) > 3]
    return git("rev-parse", "--short=12", "HEAD").strip() or "unknown", changed


def cell_time_gap(a: Run, b: Run) -> tuple[str, float, float] | None:
    """The cell whose mean execution time differs most between two runs: (name, mean a, mean b)."""
    common = [k for k in a.by_cell if k in b.by_cell]
    if not common:
        return None

    def mean(xs: list[float]) -> float:
        return sum(xs) / len(xs)

    name = max(common, key=lambda k: abs(mean(a.by_cell[k]) - mean(b.by_cell[k])))
    return name, mean(a.by_cell[name]), mean(b.by_cell[name])


def _fmt(v: float | None, spec: str = ".2f", suffix: str = "") -> str:
    return "n/a" if v is None else f"{v:{spec}}{suffix}"


def _ints(text: str) -> list[int]:
    return sorted({int(w) for w in text.split(",") if w.strip()})


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--assignment", default=DEFAULT_ASSIGNMENT, help="assignment id under solutions/")
    ap.add_argument("--n", default="24",
                    help="class sizes, comma-separated: one class (and one stock run) per size (default 24)")
    ap.add_argument("--workers", default="1,2", help="comma-separated worker counts for grader grade")
    ap.add_argument("--seed", type=int, default=2026, help="seed for the synthetic class")
    ap.add_argument("--json", type=Path, default=None, help="write every number to this JSON file")
    ap.add_argument("--keep", type=Path, default=None, help="work in this (new or empty) directory and keep it")
    ap.add_argument("--no-sandbox", action="store_true", help="pass --no-sandbox to grader grade")
    ap.add_argument("--course", type=Path, default=ROOT, help="course directory (default: this checkout)")
    args = ap.parse_args()
    try:
        workers = _ints(args.workers)
    except ValueError:
        ap.error(f"--workers {args.workers!r}: expected comma-separated integers, e.g. 1,2")
    try:
        sizes = _ints(args.n)
    except ValueError:
        ap.error(f"--n {args.n!r}: expected comma-separated integers, e.g. 1,3,24")
    if not workers or min(workers) < 1 or not sizes or min(sizes) < 1:
        ap.error("every --n and every --workers count must be at least 1")
    if args.keep and args.keep.exists() and any(args.keep.iterdir()):
        ap.error(f"--keep {args.keep}: directory is not empty")

    if not args.no_sandbox:
        from grader.engine.sandbox import bwrap

        if bwrap() is None:
            print("benchmark: bubblewrap (bwrap) is not available here, so `grader grade` cannot sandbox; "
                  "install it (apt-get install bubblewrap) or pass --no-sandbox", file=sys.stderr)
            return 2
    ensure_env_bin_on_path()  # nbgrader calls `alembic` from PATH
    env = dict(os.environ)
    warnings.simplefilter("ignore")
    logging.getLogger("traitlets").setLevel(logging.ERROR)
    course = Course(args.course.resolve())
    try:
        (aid,) = course.resolve([args.assignment])
        with contextlib.ExitStack() as stack:
            if args.keep:
                work = args.keep.resolve()
                work.mkdir(parents=True, exist_ok=True)
            else:
                work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="grading-bench-")))
            return bench(course, aid, args, sizes, workers, work, env)
    except UserError as exc:
        print(f"benchmark: error: {exc}", file=sys.stderr)
        return 2


#: Goals of issue 19 (part 2), checked on every run.
FIRST_RESULT_GOAL_S = 4.0
THROUGHPUT_GOAL = 6.0  # x stock, at the largest class
STEADY_GOAL = 1.25  # x the physical limit


def bench_class(course: Course, aid: str, args, n: int, workers: list[int], work: Path, env: dict) -> dict:
    """Write a class of ``n``, grade it with stock nbgrader and with the grader at each worker
    count (one subprocess each, wall-clock timed); return its runs, rows, notes and the
    cross-check's disagreements."""
    subs = work / "submitted"
    students = write_class(course, aid, n, args.seed, subs)
    kinds = {k: sum(s.kind == k for s in students) for k in ("correct", "mistakes", "partial")}
    ids = [s.student_id for s in students]
    print(f"class of {n} ({kinds['correct']} right, {kinds['mistakes']} with catalogued mistakes, "
          f"{kinds['partial']} half blank):")
    stock_dir = work / "stock-course"
    setup_stock(course, aid, subs, stock_dir, env)
    stock = _timed("stock nbgrader autograde", None, [_exe("nbgrader"), "autograde", aid],
                   stock_dir, work / "stock-autograde.log", env)
    read_cell_times(stock, stock_dir / "autograded", aid)
    steady_state(stock)
    runs = [stock]
    outs: dict[int, Path] = {}
    for k in workers:
        out = work / f"grader-w{k}"
        outs[k] = out
        argv = [_exe("grader"), "--course", str(course.root), "grade", aid, "--submissions", str(subs),
                "--out", str(out), "--workers", str(k), "--cell-timeout", str(CELL_TIMEOUT_S), "--quiet"]
        if args.no_sandbox:
            argv.append("--no-sandbox")
        run = _timed(f"grader grade --workers {k}", k, argv, work, work / f"grader-w{k}.log", env)
        read_cell_times(run, out / "autograded", aid)
        steady_state(run)
        runs.append(run)

    # cell time: nbclient's timestamps; if a tool lost them, the other tool's for the same students
    notes = []
    for run in runs:
        if run.notebooks and not run.cell_s:
            donor = next((r for r in runs if r.cell_s and r.cell_source == "timestamps"), None)
            notes.append(f"{run.label}: graded notebooks carry no execution timestamps"
                         + (f"; cell time borrowed from {donor.label} (same submissions)" if donor else ""))
            if donor:
                run.cell_s = {s: t for s, t in donor.cell_s.items() if s in run.notebooks}
                run.cell_source = f"borrowed from {donor.label}"
        elif run.cells_unstamped:
            notes.append(f"{run.label}: {run.cells_unstamped} executed code cells had no timestamps "
                         "(timed out or interrupted); their time is not counted")
        if len(run.notebooks) < len(ids):
            notes.append(f"{run.label}: graded notebooks for {len(run.notebooks)} of {len(ids)} students; "
                         "cell time is the mean over those")

    t1 = next((r.wall_s for r in runs if r.workers == 1), None)
    s1 = next((r.steady_s for r in runs if r.workers == 1), None)
    stock_cell = stock.mean_cell_s()
    serial_grader = next((r for r in runs if r.workers == 1), None)
    if serial_grader and stock_cell and serial_grader.mean_cell_s() is not None:
        ours = serial_grader.mean_cell_s()
        if abs(ours - stock_cell) > max(0.1, 0.1 * stock_cell):
            gap = cell_time_gap(stock, serial_grader)
            notes.append(
                f"cell time differs between the tools ({stock_cell:.2f} s stock, {ours:.2f} s grader at 1 worker "
                f"per submission)" + (f"; most in cell {gap[0]!r} ({gap[1]:.2f} s vs {gap[2]:.2f} s)" if gap else "")
                + "; work done before the first cell (say, imports in a pre-started kernel) leaves cell time. "
                f"Against stock's cell time the grader's overhead at 1 worker is "
                f"{serial_grader.wall_s / n - stock_cell:.2f} s/sub")
    rows = []
    for run in runs:
        per = run.wall_s / n
        cell = run.mean_cell_s()
        serial = run.workers in (None, 1)
        rows.append({
            "n": n,
            "label": run.label,
            "workers": run.workers,
            "exit_status": run.rc,
            "wall_s": run.wall_s,
            "cpu_s": run.cpu_s,
            "per_submission_s": per,
            "cell_s_per_submission": cell,
            "cell_time_source": run.cell_source,
            "overhead_s_per_submission": (per - cell) if serial and cell is not None else None,
            # the same, against stock's (cold-kernel) cell time: comparable across tools even when
            # a tool runs some of the notebook's work (imports) before its first cell
            "overhead_s_per_submission_vs_stock_cells": (per - stock_cell)
            if serial and stock_cell is not None else None,
            "throughput_vs_stock": stock.wall_s / run.wall_s,
            "scaling_efficiency": (t1 / (run.workers * run.wall_s))
            if run.workers and run.workers > 1 and t1 else None,
            "graded_notebooks": len(run.notebooks),
            "first_result_s": run.first_result_s,
            "steady_s_per_submission": run.steady_s,
            "steady_scaling_efficiency": (s1 / (run.workers * run.steady_s))
            if run.workers and run.workers > 1 and s1 and run.steady_s else None,
        })

    skip = judged_outside(course, aid)
    if skip:
        notes.append(f"cross-check leaves out {len(skip)} hidden test cells ({', '.join(sorted(skip))}) and the "
                     "totals: this assignment is judged outside the kernel, which stock nbgrader cannot do")
    stock_scores = gradebook_scores(stock_dir / "gradebook.db", aid, ids)
    problems = {k: cross_check(ids, stock_scores, gradebook_scores(out / "gradebook.db", aid, ids),
                               grader_csv_scores(out / "grades.csv"), skip)
                for k, out in outs.items()}
    spread = sorted({round(v["auto"], 6) for v in stock_scores.values() if v["auto"] is not None})
    return {"n": n, "kinds": kinds, "students": students, "ids": ids, "runs": runs, "rows": rows,
            "notes": notes, "problems": problems, "spread": spread, "stock_dir": stock_dir}


def cpu_floor(small: dict, big: dict, cores: int) -> list[str]:
    """What limits the steady state, one line per worker count: the CPU each submission costs
    (its kernel's start, its cells, nbclient, the sandbox's restore, and the trusted side's
    intake, judging and recording), read off the smallest and the largest class at the same
    worker count as (cpu s at N_big - cpu s at N_small) / (N_big - N_small), spread over the
    cores that can be busy at once (the workers' sandboxes and the trusted process, at most
    ``cores``): a lower bound of the steady state's seconds per submission."""
    lines = []
    if big["n"] <= small["n"]:
        return lines
    for r_big in big["rows"][1:]:
        r_small = next((r for r in small["rows"][1:] if r["workers"] == r_big["workers"]), None)
        if not (r_small and r_big["cpu_s"] and r_small["cpu_s"] and r_big["steady_s_per_submission"]):
            continue
        per_sub = (r_big["cpu_s"] - r_small["cpu_s"]) / (big["n"] - small["n"])
        busy = min(cores, r_big["workers"] + 1)
        bound = per_sub / busy
        cells = r_big["cell_s_per_submission"] or 0.0
        steady = r_big["steady_s_per_submission"]
        lines.append(
            f"N={big['n']} at {r_big['workers']} worker(s): CPU per submission (cpu s at N={big['n']} - at "
            f"N={small['n']}) / {big['n'] - small['n']} = {per_sub:.2f} s, of which the cells {cells:.2f} s; "
            f"over {busy} busy cores that is a lower bound of {bound:.2f} s/sub; steady state {steady:.2f} s/sub "
            f"= {steady / bound:.2f}x that bound")
    return lines


def bench(course: Course, aid: str, args, sizes: list[int], workers: list[int], work: Path, env: dict) -> int:
    import nbgrader

    commit, changed = git_commit()
    cores = os.cpu_count() or 1
    load_start = os.getloadavg()
    print(f"grading benchmark: {aid}, classes of {', '.join(map(str, sizes))} submissions, seed {args.seed}")
    print(f"machine: {cores} cores, {platform.platform()}, Python {platform.python_version()}, "
          f"nbgrader {nbgrader.__version__}")
    print(f"grader: commit {commit}" + (f" + uncommitted changes to {', '.join(changed)}" if changed else "")
          + f"; sandbox {'off (--no-sandbox)' if args.no_sandbox else 'on (bubblewrap)'}; "
          f"cell timeout {CELL_TIMEOUT_S} s for both tools")
    print(f"load average at start: {load_start[0]:.2f} (1 min), {load_start[1]:.2f} (5 min)"
          + ("  <- other work is using this machine; timings will be noisy" if load_start[0] > 0.5 * cores else ""))
    print(f"work dir: {work}" + ("" if args.keep else " (removed at exit; --keep DIR keeps it)"))
    print("running:")
    classes = [bench_class(course, aid, args, n, workers, work / f"n{n}", env) for n in sizes]

    print()
    print(f"{'N':>3}  {'run':<27}{'wall s':>8}{'cpu s':>7}{'first result s':>16}{'s/sub':>7}{'steady s/sub':>14}"
          f"{'cells s/sub':>13}{'overhead s/sub':>16}{'vs stock':>10}")
    for c in classes:
        for row in c["rows"]:
            star = "*" if row["cell_time_source"] != "timestamps" else ""
            print(f"{c['n']:>3}  {row['label']:<27}{row['wall_s']:>8.1f}{row['cpu_s']:>7.1f}{_fmt(row['first_result_s'], '.1f'):>16}"
                  f"{row['per_submission_s']:>7.2f}{_fmt(row['steady_s_per_submission']):>14}"
                  f"{_fmt(row['cell_s_per_submission']) + star:>13}{_fmt(row['overhead_s_per_submission']):>16}"
                  f"{_fmt(row['throughput_vs_stock'], suffix='x'):>10}")
    print()
    print("first result s: command start to the first graded notebook written (autograded/STUDENT/AID/, "
          "file mtime; both tools write one as soon as a submission is graded)")
    print("cpu s: user + system CPU time of the command and all it started (the sandboxes included; a cgroup "
          "of its own, else getrusage); "
          "less sensitive than wall time to other work on the machine")
    print("steady s/sub: (last graded notebook - first) / (N - 1): the rate a much larger class would see")
    print("cells s/sub: mean over submissions of the sum, over code cells, of nbclient's "
          "shell.execute_reply - iopub.execute_input")
    print("overhead s/sub: wall / N - cells s/sub (serial runs: stock, and grader at 1 worker)")
    print("vs stock: stock wall / grader wall for the same class (throughput ratio; above 1: the grader is faster)")

    big = classes[-1]
    rows = big["rows"]
    for row in rows[1:]:
        line = f"N={big['n']}: throughput vs stock at {row['workers']} worker{'s' if row['workers'] > 1 else ''}: " \
               f"{row['throughput_vs_stock']:.2f}x (stock wall / grader wall)"
        if row["scaling_efficiency"] is not None:
            line += f"; scaling efficiency T(1) / ({row['workers']} x T({row['workers']})) = " \
                    f"{row['scaling_efficiency']:.2f}"
        if row["steady_scaling_efficiency"] is not None:
            line += f"; steady-state scaling efficiency {row['steady_scaling_efficiency']:.2f}"
        print(line)
    headline = next((r for r in rows[1:] if r["workers"] == 2), None)
    if headline:
        print(f"headline: at 2 workers `grader grade` has {headline['throughput_vs_stock']:.2f}x the throughput "
              f"of stock `nbgrader autograde` on the class of {big['n']}")

    # the goals of issue 19, part 2
    print()
    print("goals (issue 19):")
    goals: dict[str, bool | None] = {}
    firsts = [(c["n"], r) for c in classes for r in c["rows"][1:] if r["first_result_s"] is not None]
    worst = max(firsts, key=lambda t: t[1]["first_result_s"], default=None)
    if worst:
        goals["first_result"] = worst[1]["first_result_s"] <= FIRST_RESULT_GOAL_S
        print(f"  first result <= {FIRST_RESULT_GOAL_S:g} s at every N and worker count: "
              f"{'met' if goals['first_result'] else 'NOT met'} (worst {worst[1]['first_result_s']:.1f} s, "
              f"N={worst[0]}, {worst[1]['workers']} worker(s); stock's first result: "
              + ", ".join(f"N={c['n']} {_fmt(c['rows'][0]['first_result_s'], '.1f')} s" for c in classes) + ")")
    if 1 in workers and len(workers) > 1:
        worse = [(c["n"], r["workers"], r["wall_s"], c["rows"][1]["wall_s"]) for c in classes for r in c["rows"][2:]
                 if r["wall_s"] > c["rows"][1]["wall_s"]]
        goals["more_workers_never_slower"] = not worse
        print(f"  more workers never slower than 1 worker (wall): {'met' if not worse else 'NOT met'}"
              + "".join(f"; N={n}: {k} workers {w:.1f} s vs 1 worker {w1:.1f} s" for n, k, w, w1 in worse))
    slower = [(c["n"], r["workers"], r["wall_s"], c["rows"][0]["wall_s"]) for c in classes for r in c["rows"][1:]
              if r["wall_s"] > c["rows"][0]["wall_s"]]
    goals["never_slower_than_stock"] = not slower
    print(f"  grader never slower than stock (wall, every N and worker count): {'met' if not slower else 'NOT met'}"
          + "".join(f"; N={n} at {k} worker(s): {w:.1f} s vs stock {s_:.1f} s" for n, k, w, s_ in slower))
    best = max(rows[1:], key=lambda r: r["throughput_vs_stock"])
    goals["throughput"] = best["throughput_vs_stock"] >= THROUGHPUT_GOAL
    print(f"  N={big['n']}: throughput >= {THROUGHPUT_GOAL:g}x stock: {'met' if goals['throughput'] else 'NOT met'} "
          f"(best {best['throughput_vs_stock']:.2f}x at {best['workers']} worker(s))")
    # the physical limit: the submissions' own cell time, spread over every core
    cells = [r["cell_s_per_submission"] for r in rows[1:] if r["cell_s_per_submission"] is not None]
    limit = min(cells) / cores if cells else None
    stock_limit = rows[0]["cell_s_per_submission"] / cores if rows[0]["cell_s_per_submission"] else None
    steady = [r for r in rows[1:] if r["steady_s_per_submission"]]
    fastest = min(steady, key=lambda r: r["steady_s_per_submission"], default=None)
    if limit and fastest:
        ratio = fastest["steady_s_per_submission"] / limit
        goals["steady_state"] = ratio <= STEADY_GOAL
        print(f"  N={big['n']}: physical limit = cells s/sub / cores = {min(cells):.2f} / {cores} = {limit:.2f} s/sub "
              f"(with stock's cold-kernel cell time, imports included: {_fmt(stock_limit)} s/sub); steady state "
              f"{fastest['steady_s_per_submission']:.2f} s/sub at {fastest['workers']} worker(s) = {ratio:.2f}x "
              f"the limit: {'met' if goals['steady_state'] else 'NOT met'} (goal <= {STEADY_GOAL:g}x)")

    for line in cpu_floor(classes[0], big, cores):
        print(f"  {line}")

    notes = [f"N={c['n']}: {note}" for c in classes for note in c["notes"]]
    for note in notes:
        print(f"note: {note}")
    for c in classes:
        for run in c["runs"]:
            if run.rc:
                print(f"note: N={c['n']}: {run.label} exited with status {run.rc} (log: {run.log})")

    print()
    for c in classes:
        if not any(c["problems"].values()):
            print(f"cross-check N={c['n']}: both tools give all {len(c['ids'])} students the same autograded score, "
                  f"per test cell and in total, at every worker count "
                  f"(scores seen: {', '.join(f'{s:g}' for s in c['spread'])})")
        for k, lines in c["problems"].items():
            for line in lines:
                print(f"DISAGREE N={c['n']} (grader --workers {k}): {line}")

    load_end = os.getloadavg()
    print(f"load average at end: {load_end[0]:.2f} (1 min), {load_end[1]:.2f} (5 min), "
          f"{load_end[2]:.2f} (15 min) on {cores} cores, this benchmark included")
    failed = any(run.rc for c in classes for run in c["runs"][1:]) or any(
        any(c["problems"].values()) for c in classes)
    if args.json:
        def block(c: dict) -> dict:
            return {
                "n": c["n"],
                "class": c["kinds"],
                "students": [{"student_id": s.student_id, "kind": s.kind, "mutants": s.mutants}
                             for s in c["students"]],
                "runs": c["rows"],
                "stock": c["rows"][0],
                "grader": c["rows"][1:],
                "notes": c["notes"],
                "disagreements": {str(k): v for k, v in c["problems"].items()},
            }

        data = {
            "assignment": aid,
            "sizes": sizes,
            "seed": args.seed,
            "machine": {"cores": cores, "platform": platform.platform(), "python": platform.python_version(),
                        "load_average_start": list(load_start), "load_average_end": list(load_end)},
            "nbgrader_version": nbgrader.__version__,
            "grader_commit": commit,
            "grader_uncommitted": changed,
            "sandbox": not args.no_sandbox,
            "cell_timeout_s": CELL_TIMEOUT_S,
            **block(big),  # the largest class, at the top level
            "by_n": [block(c) for c in classes],
            "physical_limit_s_per_submission": limit,
            "goals": goals,
            "headline_throughput_vs_stock": next((r["throughput_vs_stock"] for r in rows[1:] if r["workers"] == 2),
                                                 None),
            "notes": notes,
            "ok": not failed,
        }
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(data, indent=2))
        print(f"numbers written to {args.json}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
