"""What the trusted side records: text that crosses the boundary, one gradebook transaction, time
budgets, and partial credit when a kernel dies or time runs out (issue 11 items 3, 4 and 8;
issue 12 part C and "Also").

The toy course (tests/fixtures/course, 99-toy) keeps the end-to-end tests short; the two real
cases of issue 12 C (tests/fixtures/cases/, copied from ../shared/cases/submissions) run on
05-evaluation-metrics, warm and cold.
"""

from __future__ import annotations

import csv
import io
import shutil
from pathlib import Path

import nbformat
import pytest
from conftest import ROOT, run_grader, sandbox_args

AID = "99-toy"
HOSTILE = [
    "\ud800", "a\udfffb", "line\nbreak\r\nand\ttab", "\x00\x1b[31mred\x7f", "x" * 1_000_000,
    "=HYPERLINK(\"http://evil\",\"x\")", "+1+1", "-2+3", "@SUM(A1)", "\t=1", "\r=1",
    "\u2028sep\u2029", "quote\"and,comma",
]


# --- text that crosses the boundary (unit) ------------------------------------------------


@pytest.mark.parametrize("text", HOSTILE)
def test_clean_text_is_one_bounded_printable_line(text):
    from grader.safetext import clean_text

    out = clean_text(text, 400)
    assert len(out) <= 400
    out.encode("utf-8")  # no lone surrogate left
    assert not any(ord(c) < 32 or 0x7F <= ord(c) <= 0x9F or c in "\u2028\u2029" for c in out)


@pytest.mark.parametrize("text", HOSTILE)
def test_csv_cells_cannot_start_a_formula(text):
    from grader.safetext import csv_cell

    out = csv_cell(text)
    assert not out.startswith(("=", "+", "-", "@", "\t", "\r"))
    assert csv_cell("-1.5") == "-1.5" and csv_cell("4") == "4"  # numbers stay numbers


def test_flags_keep_the_vocabulary_and_a_sanitised_name():
    from grader.safetext import clean_flag, clean_flags

    assert clean_flag("tamper:input-transformer") == "tamper:input-transformer"
    assert clean_flag("tamper:monkeypatch:numpy.allclose") == "tamper:monkeypatch:numpy.allclose"
    hostile = clean_flag("tamper:monkeypatch:m.\ud800=cmd|x;y\n" + "z" * 500)
    assert hostile.startswith("tamper:monkeypatch:m.?") and len(hostile) < 120
    assert all(c.isalnum() or c in "_.-:?" for c in hostile)
    assert clean_flag("anything else") == "tamper:unrecognised"  # from a sandbox: not trusted
    assert clean_flag("renamed-notebook", strict=False) == "renamed-notebook"
    assert len(clean_flags([f"tamper:monkeypatch:f{i}" for i in range(500)])) <= 41


def test_grades_csv_is_written_whatever_the_rows_hold(tmp_path):
    from grader.grading import SubmissionResult, write_csv

    results = [SubmissionResult(f"s{i}", AID, "error", reason=text, flags=[text, "tamper:monkeypatch:" + text])
               for i, text in enumerate(HOSTILE)]
    results.append(SubmissionResult("weird", AID, "graded", score=float("nan"), seconds=float("inf")))
    path = tmp_path / "grades.csv"
    write_csv(path, results)
    write_csv(path, results[:3])  # merging with an earlier file works too
    raw = path.read_bytes().decode("utf-8")
    rows = list(csv.DictReader(io.StringIO(raw)))
    assert sorted(r["student_id"] for r in rows) == sorted(r.student_id for r in results)
    for row in rows:
        for value in row.values():
            assert "\n" not in value and not value.startswith(("=", "+", "-", "@", "\t", "\r"))
            assert len(value) <= 2000


def test_feedback_pages_are_bounded_and_inert():
    """A page renders at most a bounded amount of output, and no output's HTML or script."""
    from grader.feedback import MAX_PAGE_OUTPUT_BYTES, bound, render

    nb = nbformat.read(ROOT / "tests" / "fixtures" / "course" / "solutions" / AID / f"{AID}.ipynb", as_version=4)
    code = next(c for c in nb.cells if c.cell_type == "code")
    code.outputs = [nbformat.v4.new_output("stream", name="stdout", text="tiny\n") for _ in range(50_000)]
    code.outputs.append(nbformat.v4.new_output("display_data", data={
        "text/html": "<script>alert('x')</script>", "application/javascript": "alert(1)"}))
    nb.cells.append(nbformat.v4.new_code_cell("print('big')", outputs=[
        nbformat.v4.new_output("stream", name="stdout", text="y" * 10_000_000)]))
    nb.cells.append(nbformat.v4.new_markdown_cell("my answer <script>alert(2)</script>"))
    bounded = bound(nbformat.from_dict(nb))
    assert sum(len(str(c.get("outputs", ""))) for c in bounded.cells) < 2 * MAX_PAGE_OUTPUT_BYTES
    resources = {"nbgrader": {"assignment": AID, "notebook": AID, "student": "s", "db_url": "unused"},
                 "metadata": {"path": ""}}
    page = render(nb, resources, None, grades={"cells": {}, "score": 0, "max_score": 5})
    assert len(page) < 3 * MAX_PAGE_OUTPUT_BYTES
    assert "alert('x')" not in page and "<script>alert(2)" not in page
    assert "more outputs not shown" in page


# --- end to end on the toy course -----------------------------------------------------------


def _notebook(course, **sources: str) -> nbformat.NotebookNode:
    nb = nbformat.read(course.solutions / AID / f"{AID}.ipynb", as_version=4)
    for cell in nb.cells:
        gid = cell.metadata.get("nbgrader", {}).get("grade_id")
        if gid in sources:
            cell.source = sources[gid]
    return nb


def _write(subs: Path, sid: str, nb) -> None:
    (subs / sid / AID).mkdir(parents=True)
    nbformat.write(nb, subs / sid / AID / f"{AID}.ipynb")


def _rows(out: Path) -> dict[str, dict[str, str]]:
    with open(out / "grades.csv", newline="", encoding="utf-8") as fh:
        return {r["student_id"]: r for r in csv.DictReader(fh)}


def _gradebook(out: Path, sid: str, aid: str = AID) -> dict:
    from nbgrader.api import Gradebook

    from grader.editions import find_submission

    with Gradebook(f"sqlite:///{out / 'gradebook.db'}") as gb:
        sub = find_submission(gb, aid, sid)  # the real cases are graded on 05's first edition
        grades = {g.name: (g.cell.cell_type, g.auto_score, g.manual_score, g.needs_manual_grade)
                  for nb in sub.notebooks for g in nb.grades}
        return {"score": float(sub.score), "needs_manual_grade": bool(sub.needs_manual_grade), "grades": grades}


@pytest.fixture(params=["warm", "cold"])
def mode(request):
    return [] if request.param == "warm" else ["--cold"]


def test_a_hostile_name_in_a_flag_costs_nobody_their_grade(toy_course, tmp_path, mode):
    """A student names a function with a lone surrogate and a formula: the grader used to exit 1
    with no grades.csv for anyone (and resume and --force replayed it)."""
    evil = _notebook(toy_course, q2_answer=(
        "import math, grader.checks.m01 as m\n"
        "setattr(m, '\\ud800=HYPERLINK(1);x', lambda: 0)\n"
        "answer = math.sqrt(16)"))
    subs = tmp_path / "subs"
    _write(subs, "evil", evil)
    _write(subs, "good", _notebook(toy_course))
    out = tmp_path / "out"
    for extra in ([], ["--force"]):
        proc = run_grader("grade", AID, "--submissions", str(subs), "--out", str(out), "--quiet",
                          *mode, *extra, cwd=toy_course.root)
        assert proc.returncode == 0, proc.stderr
        rows = _rows(out)
        assert rows["good"]["score"] == "4" and rows["good"]["status"] == "graded"
        assert "tamper:monkeypatch:grader.checks.m01.?" in rows["evil"]["flags"], rows["evil"]
        assert rows["evil"]["score"] == "0" and "withheld" in rows["evil"]["reason"]
    (out / "grades.csv").read_bytes().decode("utf-8")


class _Faults:
    """Make one later step of recording fail for one student each (recording is sequential)."""

    def __init__(self, monkeypatch):
        from nbgrader.api import Gradebook

        import grader.feedback
        import grader.grading as grading

        self.current = ""
        real_record, real_grade_nb = grading._record, grading._grade_notebook
        real_clean, real_render, real_find = grading.clean_strings, grader.feedback.render, Gradebook.find_comment
        real_replace = grading.os.replace

        def record(book, job, *a, **k):
            self.current = job.student_id
            return real_record(book, job, *a, **k)

        def when(step, real):
            def wrapper(*a, **k):
                if self.current == step:
                    raise ValueError(f"injected failure at {step}: partial credit 5 > 1 point \ud800")
                return real(*a, **k)
            return wrapper

        def replace(src, dst, *a, **k):
            if self.current == "files" and "/files/" in str(dst):
                raise OSError(28, "No space left on device")
            return real_replace(src, dst, *a, **k)

        monkeypatch.setattr(grading, "_record", record)
        monkeypatch.setattr(grading, "_grade_notebook", when("grade", real_grade_nb))
        monkeypatch.setattr(grading, "clean_strings", when("encode", real_clean))
        monkeypatch.setattr(grader.feedback, "render", when("feedback", real_render))
        monkeypatch.setattr(Gradebook, "find_comment", when("commit", real_find))
        monkeypatch.setattr(grading.os, "replace", replace)


STEPS = ["grade", "encode", "feedback", "commit", "files"]


def _grade(course, subs: Path, out: Path, **kw):
    from grader.grading import grade

    sandbox = bool(not sandbox_args())
    return grade(course, AID, subs, out, sandbox=sandbox, progress=False, workers=2, **kw)


def test_a_failure_at_any_later_step_withholds_in_the_gradebook_too(toy_course, tmp_path, monkeypatch):
    """Each later step of recording fails for one student, on a re-grade of a class whose
    grades were already recorded: grades.csv says error, and the gradebook agrees (autograded
    cells at zero pending review, written answers waiting), not the earlier 4 points."""
    subs = tmp_path / "subs"
    for sid in [*STEPS, "good"]:
        _write(subs, sid, _notebook(toy_course))
    out = tmp_path / "out"
    first = {r.student_id: r for r in _grade(toy_course, subs, out)}
    assert {sid: r.score for sid, r in first.items()} == {sid: 4.0 for sid in [*STEPS, "good"]}
    _Faults(monkeypatch)
    _grade(toy_course, subs, out, force=True)
    rows = _rows(out)
    assert rows["good"]["status"] == "graded" and rows["good"]["score"] == "4"
    for step in STEPS:
        row = rows[step]
        assert row["status"] == "error" and "record-failed" in row["flags"], (step, row)
        assert row["score"] == "0" and row["needs_manual_grade"] == "yes", (step, row)
        book = _gradebook(out, step)
        assert book["score"] == 0.0 and book["needs_manual_grade"], (step, book)
        for name, (kind, _auto, manual, needs) in book["grades"].items():
            assert needs, (step, name)
            if kind == "code":
                assert manual == 0.0, (step, name, book)
        assert not (out / "feedback" / step / AID / f"{AID}.html").exists(), step
    export = tmp_path / "export.csv"
    proc = run_grader("export", "--out", str(out), "--to", str(export), cwd=toy_course.root)
    assert proc.returncode == 0, proc.stderr
    exported = {r["student_id"]: r["score"] for r in csv.DictReader(open(export))}
    assert exported == {sid: rows[sid]["score"] for sid in rows}


def test_the_trusted_side_keeps_to_its_time_budget(toy_course, tmp_path):
    """Budgets set to nothing: every submission is recorded as an error that says which step
    overran, and the batch finishes (no timing is asserted)."""
    from grader.config import TrustedBudget

    subs = tmp_path / "subs"
    _write(subs, "s1", _notebook(toy_course))
    intake = _grade(toy_course, subs, tmp_path / "o1", budget=TrustedBudget(intake_s=0))
    assert [(r.status, r.flags) for r in intake] == [("error", ["over-budget:intake"])]
    assert "intake took longer than its 0 s budget" in intake[0].reason
    for step in ("record", "feedback"):
        out = tmp_path / f"o-{step}"
        budget = TrustedBudget(**{f"{step}_s": 0})
        (res,) = _grade(toy_course, subs, out, budget=budget)
        assert res.status == "error" and f"over-budget:{step}" in res.flags, res
        assert "budget" in _rows(out)["s1"]["reason"]
        book = _gradebook(out, "s1")
        assert book["score"] == 0.0 and book["needs_manual_grade"]


def test_the_keys_own_work_is_not_charged_to_the_intake_budget(toy_course, tmp_path, monkeypatch):
    """An answer key whose plans are slow to record (module 11's reference cross-validations on a
    loaded machine took over a minute) must not turn an honest submission into an intake
    overrun: that time is the instructor's, not the submission's."""
    import time

    from grader import judging
    from grader.config import TrustedBudget

    real = judging.prepare

    def slow_prepare(*args, **kwargs):
        time.sleep(6)
        return real(*args, **kwargs)

    monkeypatch.setattr(judging, "prepare", slow_prepare)
    subs = tmp_path / "subs"
    _write(subs, "s1", _notebook(toy_course))
    (res,) = _grade(toy_course, subs, tmp_path / "out", budget=TrustedBudget(intake_s=5))
    assert res.status == "graded" and "over-budget:intake" not in res.flags, res


def test_an_error_keeps_the_written_answer_for_the_manual_grader(toy_course, tmp_path):
    """Issue 12 "Also": a submission of which nothing could be graded (its first cell kills the
    kernel: status error) still sends its written answer to the manual grader instead of
    recording it as 0 with needs_manual_grade: no."""
    subs = tmp_path / "subs"
    nb = _notebook(toy_course)
    nb.cells.insert(0, nbformat.v4.new_code_cell("import os\nos._exit(3)"))  # before any other code
    _write(subs, "dead", nb)
    out = tmp_path / "out"
    _grade(toy_course, subs, out)
    row = _rows(out)["dead"]
    assert row["status"] == "error" and row["score"] == "0", row
    assert "crashed" in row["flags"] and "kernel died in cell 1 " in row["reason"], row
    assert row["needs_manual_grade"] == "yes"
    book = _gradebook(out, "dead")
    kind, auto, manual, needs = book["grades"]["written_sign"]
    assert auto is None and manual is None and needs
    assert (out / "autograded" / "dead" / AID / f"{AID}.ipynb").exists()


# --- issue 12 C: the real cases, warm and cold --------------------------------------------


CASES = ROOT / "tests" / "fixtures" / "cases"


def _case(name: str, tmp_path: Path, mode: list[str], *options: str) -> tuple[dict, Path]:
    subs = tmp_path / "submitted"
    shutil.copytree(CASES / name / "submitted", subs)
    out = tmp_path / "out"
    proc = run_grader("grade", "05-evaluation-metrics", "--submissions", str(subs), "--out", str(out),
                      "--quiet", *options, *mode, timeout=1800)
    assert proc.returncode == 0, proc.stderr
    return _rows(out), out


def _partial(rows: dict, out: Path, sid: str, mode: list[str]) -> None:
    """What every partial submission keeps: its graded notebook, its feedback page, its written
    answers waiting for the manual grader. Warm, the completed tests keep their points; cold, a
    busy machine may spend the whole limit starting the kernel, so that is checked only warm."""
    aid = "05-evaluation-metrics"
    row = rows[sid]
    if not mode:
        assert row["status"] == "graded", row
        assert 0 < float(row["score"]) < float(rows["ok"]["score"]), row
    assert float(row["score"]) <= float(rows["ok"]["score"]), row
    assert row["needs_manual_grade"] == "yes", row
    assert (out / "autograded" / sid / aid / f"{aid}.ipynb").exists()
    page = (out / "feedback" / sid / aid / f"{aid}.html").read_text()
    assert "NotRun" in page or "SubmissionTimeLimit" in page or "KernelDied" in page
    book = _gradebook(out, sid, aid)
    written = [v for v in book["grades"].values() if v[0] == "markdown"]
    assert written and all(auto is None and needs for _k, auto, _m, needs in written)


def test_kernel_killed_out_of_memory_keeps_what_passed(tmp_path, mode):
    """Case kernel-killed-out-of-memory: q1-q4 correct, then q5's answer allocates without end.
    Stock nbgrader (and this grader before issue 12 C): the whole submission scores 0, no
    graded notebook, no feedback, the written answer never reaches the formgrader."""
    rows, out = _case("kernel-killed-out-of-memory", tmp_path, mode, "--memory", "1024", "--cell-timeout", "10")
    assert rows["ok"]["status"] == "graded" and rows["ok"]["flags"] == ""
    if "crashed" in rows["oom"]["flags"]:
        _partial(rows, out, "oom", mode)
        assert "limit:memory" in rows["oom"]["flags"]
        assert 'kernel died in cell 22 ("q5_answer")' in rows["oom"]["reason"]
    else:  # on a loaded machine the allocation can be slow enough that the cell's own time limit
        # comes first (warm or cold): the kernel survives, q5's variables were set before the
        # loop, nothing is lost
        assert "timeout" in rows["oom"]["flags"] and rows["oom"]["status"] == "graded", rows["oom"]
        assert rows["oom"]["score"] == rows["ok"]["score"]


def test_submission_time_limit_keeps_what_completed(tmp_path, mode):
    """Case submission-time-limit: correct answers, three answer cells sleep 9 s each, --timeout
    25. Stock nbgrader has no per-submission limit; this grader used to score it 0."""
    rows, out = _case("submission-time-limit", tmp_path, mode, "--timeout", "25")
    if not mode:
        assert rows["ok"]["status"] == "graded" and rows["ok"]["flags"] == ""
    _partial(rows, out, "slow", mode)
    assert "timeout" in rows["slow"]["flags"]
    assert "time limit (25 s) was reached in " in rows["slow"]["reason"]
    if not mode:
        assert "was reached in cell" in rows["slow"]["reason"]
