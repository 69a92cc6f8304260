"""`grader grade`, `release`, `verify`, `feedback` and `export` end to end on the fixture course.

The fixture course (tests/fixtures/course, assignment 99-toy) needs no heavy imports, so these
tests exercise the whole pipeline in seconds per submission.
"""

from __future__ import annotations

import csv
import json
import re
import shutil
import subprocess
from pathlib import Path

import nbformat
import pytest
from conftest import run_grader

AID = "99-toy"


def _submission(course, tmp_path: Path, students: dict[str, object]) -> Path:
    """students: id -> 'solution' | 'release' | bytes | ('name', 'solution') | None (no folder)."""
    subs = tmp_path / "submitted"
    src = course.solutions / AID / f"{AID}.ipynb"
    rel = course.assignments / AID / f"{AID}.ipynb"
    for sid, what in students.items():
        d = subs / sid / AID
        if what is None:
            (subs / sid).mkdir(parents=True)
            continue
        d.mkdir(parents=True)
        name = f"{AID}.ipynb"
        if isinstance(what, tuple):
            name, what = what
        if what == "solution":
            shutil.copy(src, d / name)
        elif what == "release":
            shutil.copy(rel, d / name)
        elif isinstance(what, bytes):
            (d / name).write_bytes(what)
        else:
            nbformat.write(what, d / name)
    return subs


def _rows(out: Path) -> dict[str, dict[str, str]]:
    with open(out / "grades.csv", newline="") as fh:
        return {r["student_id"]: r for r in csv.DictReader(fh)}


def test_grade_cli_handles_a_class_with_bad_inputs(toy_course, tmp_path):
    subs = _submission(toy_course, tmp_path, {
        "good": "solution",
        "blank": "release",
        "empty": b"",
        "notjson": b'{"cells": [',
        "jsonlist": b"[1, 2, 3]",
        "misnamed": ("homework.ipynb", "solution"),
        "absent": None,
    })
    out = tmp_path / "out"
    proc = run_grader("grade", AID, "--submissions", str(subs), "--out", str(out), "--workers", "2", cwd=toy_course.root)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr
    rows = _rows(out)
    assert list(next(iter(rows.values())))[:6] == ["student_id", "assignment", "score", "max_score", "status", "flags"]
    assert rows["good"]["status"] == "graded" and rows["good"]["score"] == "4" and rows["good"]["max_score"] == "5"
    assert rows["good"]["needs_manual_grade"] == "yes"
    assert rows["blank"]["status"] == "graded" and rows["blank"]["score"] == "0"
    for sid, words in [("empty", "empty"), ("notjson", "not valid notebook JSON"), ("jsonlist", "not a notebook")]:
        assert rows[sid]["status"] == "error" and words in rows[sid]["reason"], rows[sid]
        assert "\n" not in rows[sid]["reason"]
    assert rows["misnamed"]["status"] == "missing" and "homework.ipynb" in rows["misnamed"]["reason"]
    assert "misnamed" in rows["misnamed"]["flags"]
    assert rows["absent"]["status"] == "missing"
    assert (out / "feedback" / "good" / AID / f"{AID}.html").exists()
    assert (out / "gradebook.db").exists()


def test_feedback_never_shows_hidden_tests_and_names_the_failure(toy_course, tmp_path):
    src = nbformat.read(toy_course.solutions / AID / f"{AID}.ipynb", as_version=4)
    wrong = nbformat.from_dict(src)
    for cell in wrong.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == "q1_answer":
            cell.source = "def double(x):\n    return 2 * abs(x)"
        if cell.metadata.get("nbgrader", {}).get("grade_id") == "q1_hidden":
            cell.source = "%xmode Verbose\npass"  # the student edits the test to leak its code
    subs = _submission(toy_course, tmp_path, {"abs": wrong})
    out = tmp_path / "out"
    proc = run_grader("grade", AID, "--submissions", str(subs), "--out", str(out), cwd=toy_course.root)
    assert proc.returncode == 0, proc.stderr
    html = (out / "feedback" / "abs" / AID / f"{AID}.html").read_text()
    assert "assert double(-4) == -8" not in html and "BEGIN HIDDEN TESTS" not in html
    assert "hidden tests run here" in html
    # the hidden test's own message reaches the student as one line, with the points
    assert "SECRET_HIDDEN_TEST_MARKER" in html  # the assertion message, written for students
    row = _rows(out)["abs"]
    # editing a test cell is tampering: restored and graded (q1_check 1 + q2 1; hidden 0), then
    # withheld for the instructor's review
    assert row["score"] == "0" and "tamper:edited-test-cell" in row["flags"]
    assert "(2 computed)" in row["reason"]
    # the graded notebook (for instructors) keeps the restored hidden test
    graded = (out / "autograded" / "abs" / AID / f"{AID}.ipynb").read_text()
    assert "assert double(-4) == -8" in graded


def test_regrading_is_idempotent(toy_course, tmp_path):
    subs = _submission(toy_course, tmp_path, {"a": "solution", "b": "release", "c": b""})
    out = tmp_path / "out"
    for _ in range(2):
        proc = run_grader("grade", AID, "--submissions", str(subs), "--out", str(out), "--quiet", cwd=toy_course.root)
        assert proc.returncode == 0, proc.stderr
    rows = list(csv.DictReader(open(out / "grades.csv")))
    assert [r["student_id"] for r in rows] == ["a", "b", "c"]
    export = tmp_path / "export.csv"
    proc = run_grader("export", "--out", str(out), "--to", str(export), cwd=toy_course.root)
    assert proc.returncode == 0, proc.stderr
    exported = list(csv.DictReader(open(export)))
    assert sorted((r["student_id"], r["score"]) for r in exported) == [("a", "4"), ("b", "0"), ("c", "0")]


def test_deleted_test_cells_are_restored_and_graded(toy_course, tmp_path):
    nb = nbformat.read(toy_course.solutions / AID / f"{AID}.ipynb", as_version=4)
    nb.cells = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") != "q1_hidden"]
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == "q1_answer":
            cell.source = "def double(x):\n    return 2 * abs(x)"
    subs = _submission(toy_course, tmp_path, {"deleter": nb})
    out = tmp_path / "out"
    proc = run_grader("grade", AID, "--submissions", str(subs), "--out", str(out), cwd=toy_course.root)
    assert proc.returncode == 0, proc.stderr
    row = _rows(out)["deleter"]
    assert "tamper:deleted-test-cell" in row["flags"] and "(2 computed)" in row["reason"]
    assert row["score"] == "0" and row["needs_manual_grade"] == "yes"  # withheld for review


def test_a_test_cell_edited_to_pass_is_restored(toy_course, tmp_path):
    nb = nbformat.read(toy_course.assignments / AID / f"{AID}.ipynb", as_version=4)
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("grade"):
            cell.source = "pass"
    subs = _submission(toy_course, tmp_path, {"editor": nb})
    out = tmp_path / "out"
    run_grader("grade", AID, "--submissions", str(subs), "--out", str(out), cwd=toy_course.root)
    assert _rows(out)["editor"]["score"] == "0"


def test_timeouts_are_flagged_and_the_batch_goes_on(toy_course, tmp_path):
    nb = nbformat.read(toy_course.solutions / AID / f"{AID}.ipynb", as_version=4)
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == "q2_answer":
            cell.source = "import time\nwhile True:\n    time.sleep(0.1)"
    subs = _submission(toy_course, tmp_path, {"loops": nb, "good": "solution"})
    out = tmp_path / "out"
    proc = run_grader("grade", AID, "--submissions", str(subs), "--out", str(out), "--cell-timeout", "3",
                      cwd=toy_course.root)
    assert proc.returncode == 0, proc.stderr
    rows = _rows(out)
    assert "timeout" in rows["loops"]["flags"] and rows["loops"]["status"] == "graded"
    assert rows["loops"]["score"] == "3"  # q1 tests still pass; q2 fails
    assert rows["good"]["score"] == "4"
    proc = run_grader("grade", AID, "--submissions", str(subs), "--out", str(tmp_path / "o2"), "--timeout", "4",
                      cwd=toy_course.root)
    rows = _rows(tmp_path / "o2")
    # the submission's time limit: what completed keeps its points (issue 12 C; it used to be
    # status error and 0), the reason names the cell where time ran out
    assert rows["loops"]["status"] == "graded" and "timeout" in rows["loops"]["flags"]
    assert rows["loops"]["score"] == "3" and '"q2_answer"' in rows["loops"]["reason"]
    assert (tmp_path / "o2" / "feedback" / "loops" / AID / f"{AID}.html").exists()


def test_a_crashing_kernel_does_not_stop_the_batch(toy_course, tmp_path):
    nb = nbformat.read(toy_course.solutions / AID / f"{AID}.ipynb", as_version=4)
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == "q1_answer":
            cell.source = "import os\nos._exit(1)"
    subs = _submission(toy_course, tmp_path, {"crash": nb, "good": "solution"})
    out = tmp_path / "out"
    proc = run_grader("grade", AID, "--submissions", str(subs), "--out", str(out), cwd=toy_course.root)
    assert proc.returncode == 0, proc.stderr
    rows = _rows(out)
    # the kernel died in q1_answer: no test completed before it, so 0, but the submission is
    # graded as far as it ran (issue 12 C; it used to be status error with nothing written),
    # the reason names the cell, and the written answer still waits for the manual grader
    assert rows["crash"]["status"] == "graded" and rows["crash"]["score"] == "0"
    assert "crashed" in rows["crash"]["flags"] and '"q1_answer"' in rows["crash"]["reason"]
    assert rows["crash"]["needs_manual_grade"] == "yes"
    assert (out / "feedback" / "crash" / AID / f"{AID}.html").exists()
    assert rows["good"]["score"] == "4"


def test_mangled_grade_ids_are_an_error_not_a_crash(toy_course, tmp_path):
    nb = nbformat.read(toy_course.solutions / AID / f"{AID}.ipynb", as_version=4)
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == "q1_check":
            cell.metadata["nbgrader"]["grade_id"] = "made_up"
    subs = _submission(toy_course, tmp_path, {"mangler": nb, "good": "solution"})
    out = tmp_path / "out"
    proc = run_grader("grade", AID, "--submissions", str(subs), "--out", str(out), cwd=toy_course.root)
    assert proc.returncode == 0, proc.stderr
    rows = _rows(out)
    # the relabelled cell runs as plain code, and the test is recognised by its code (issue 12)
    assert rows["mangler"]["status"] == "graded" and rows["mangler"]["score"] == "4", rows["mangler"]
    assert "tamper" not in rows["mangler"]["flags"]
    assert rows["good"]["score"] == "4"


def test_grade_refuses_bad_arguments_in_one_line(toy_course, tmp_path):
    for args in (["grade", "nope", "--submissions", str(tmp_path), "--out", str(tmp_path / "o")],
                 ["grade", AID, "--submissions", str(tmp_path / "missing"), "--out", str(tmp_path / "o")]):
        proc = run_grader(*args, cwd=toy_course.root)
        assert proc.returncode == 2
        assert proc.stderr.startswith("grader: error:") and proc.stderr.count("\n") == 1
        assert "Traceback" not in proc.stderr


def test_release_and_sync(toy_course):
    from grader.release import out_of_sync

    assert out_of_sync(toy_course, AID) == []
    rel = toy_course.assignments / AID / f"{AID}.ipynb"
    text = rel.read_text()
    assert "BEGIN SOLUTION" not in text and "SECRET_HIDDEN_TEST_MARKER" not in text and "return 2 * x" not in text
    assert not (toy_course.assignments / AID / "mutants.yml").exists()
    rel.write_text(text.replace("Toy assignment", "Edited by hand"))
    assert any("differs" in p for p in out_of_sync(toy_course, AID))
    proc = run_grader("release", AID, cwd=toy_course.root)
    assert proc.returncode == 0 and "released" in proc.stdout
    assert out_of_sync(toy_course, AID) == []


def test_verify_passes_on_the_fixture_and_reports_in_contract_format(toy_course):
    proc = run_grader("verify", AID, "--quiet", cwd=toy_course.root)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.strip().splitlines()[-1] == "verify: 1 assignments, 2 questions, 6/6 mutants caught, 0 failures"
    # per question, which catalogued mutants each test cell catches (issue 14)
    for q in ("q1", "q2"):
        assert re.search(rf"^{AID}: {q} \(3 mutants\): {q}_\w+ [0-3]/3", proc.stdout, re.M), proc.stdout
    assert "CATCHES NONE" not in proc.stdout


def test_verify_fails_on_an_uncaught_mutant_and_an_out_of_sync_release(toy_course):
    mutants = toy_course.solutions / AID / "mutants.yml"
    mutants.write_text(mutants.read_text() + "- id: q2-same-as-solution\n  cell: q2_answer\n  code: |\n    answer = 4.0\n")
    rel = toy_course.assignments / AID / f"{AID}.ipynb"
    nb = json.loads(rel.read_text())
    nb["cells"][0]["source"] = "# edited by hand"
    rel.write_text(json.dumps(nb))
    proc = run_grader("verify", AID, "--quiet", cwd=toy_course.root)
    assert proc.returncode == 1
    last = proc.stdout.strip().splitlines()[-1]
    assert last.startswith("verify: 1 assignments, 2 questions, 6/7 mutants caught,")
    assert "q2-same-as-solution" in proc.stdout and "differs from a fresh release" in proc.stdout


def test_verify_demands_three_mutants_per_question(toy_course):
    import yaml

    path = toy_course.solutions / AID / "mutants.yml"
    data = [m for m in yaml.safe_load(path.read_text()) if m["cell"] != "q2_answer" or m["id"] == "q2-int"]
    path.write_text(yaml.safe_dump(data))
    proc = run_grader("verify", AID, "--quiet", cwd=toy_course.root)
    assert proc.returncode == 1 and "q2_answer has 1 catalogued mutants" in proc.stdout


def test_feedback_regenerates_after_manual_grading(toy_course, tmp_path):
    from nbgrader.api import Gradebook

    subs = _submission(toy_course, tmp_path, {"good": "solution"})
    out = tmp_path / "out"
    run_grader("grade", AID, "--submissions", str(subs), "--out", str(out), cwd=toy_course.root)
    with Gradebook(f"sqlite:///{out / 'gradebook.db'}") as gb:
        g = gb.find_grade("written_sign", AID, AID, "good")
        g.manual_score = 1  # what the formgrader does when an instructor saves a score
        g.needs_manual_grade = False
        gb.db.commit()
    proc = run_grader("feedback", AID, "--out", str(out), cwd=toy_course.root)
    assert proc.returncode == 0, proc.stderr
    proc = run_grader("export", "--out", str(out), "--to", str(tmp_path / "e.csv"), cwd=toy_course.root)
    row = next(csv.DictReader(open(tmp_path / "e.csv")))
    assert row["score"] == "5" and row["manual_score"] == "1" and row["needs_manual_grade"] == "no"


@pytest.mark.parametrize("args", [["--help"], ["grade", "--help"], ["verify", "--help"], ["demo", "--help"]])
def test_every_command_has_help_with_an_example(args):
    proc = run_grader(*args)
    assert proc.returncode == 0
    assert "Example" in proc.stdout or args == ["--help"]


def test_grade_refuses_to_run_unsandboxed_without_consent(toy_course, tmp_path):
    """Without bubblewrap, `grade` says so in one line unless --no-sandbox is given."""
    import os
    import sys

    subs = _submission(toy_course, tmp_path, {"good": "solution"})
    exe = str(Path(sys.executable).parent / "grader")
    env = dict(os.environ, PATH=str(Path(sys.executable).parent))  # no /usr/bin: no bwrap
    proc = subprocess.run([exe, "grade", AID, "--submissions", str(subs), "--out", str(tmp_path / "o")],
                          cwd=toy_course.root, capture_output=True, text=True, env=env)
    assert proc.returncode == 2
    assert proc.stderr.startswith("grader: error: bubblewrap") and proc.stderr.count("\n") == 1
    assert "--no-sandbox" in proc.stderr


def test_kill_9_mid_batch_then_rerun_loses_and_duplicates_nothing(toy_course, tmp_path):
    """kill -9 the grader in the middle of a batch; the same command again completes it."""
    import os
    import signal
    import sys
    import time

    students = {f"s{i}": ("solution" if i % 2 else "release") for i in range(6)}
    subs = _submission(toy_course, tmp_path, students)
    out = tmp_path / "out"
    exe = str(Path(sys.executable).parent / "grader")
    from conftest import sandbox_args

    cmd = [exe, "grade", AID, "--submissions", str(subs), "--out", str(out), "--workers", "1", "--quiet",
           *sandbox_args()]
    proc = subprocess.Popen(cmd, cwd=toy_course.root, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    journal = out / ".journal" / AID
    deadline = time.time() + 300
    while time.time() < deadline and len(list(journal.glob("*.json"))) < 2:
        time.sleep(0.2)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    done_before = len(list(journal.glob("*.json")))
    assert 2 <= done_before < 6, "the batch should be interrupted part-way"
    assert not (out / "grades.csv").exists()
    rerun = subprocess.run(cmd, cwd=toy_course.root, capture_output=True, text=True, timeout=600)
    assert rerun.returncode == 0, rerun.stderr
    rows = list(csv.DictReader(open(out / "grades.csv")))
    assert sorted(r["student_id"] for r in rows) == sorted(students)
    for r in rows:
        assert r["status"] == "graded" and r["score"] == ("4" if students[r["student_id"]] == "solution" else "0"), r
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{out / 'gradebook.db'}") as gb:
        subs_in_db = gb.assignment_submissions(AID)
        assert sorted(s.student.id for s in subs_in_db) == sorted(students)
        assert len(gb.students) == len(students)
    # a third run is a no-op with the same grades (idempotent)
    again = subprocess.run(cmd, cwd=toy_course.root, capture_output=True, text=True, timeout=600)
    assert again.returncode == 0
    assert list(csv.DictReader(open(out / "grades.csv"))) == rows


def test_verify_coverage_marks_a_test_cell_that_catches_no_mutant():
    from grader.verify import Report

    report = Report()
    report.catalogue[("a", "q1_")] = ["m1", "m2"]
    report.coverage[("a", "q1_")] = {"q1_check": set(), "q1_hidden": {"m1", "m2"}}
    assert report.coverage_lines("a") == ["a: q1 (2 mutants): q1_check 0/2 CATCHES NONE, q1_hidden 2/2"]
