"""The real course: lectures execute cleanly, assignments verify, the demo and stock nbgrader work.

These tests execute notebooks (minutes in all on two cores); they are marked ``slow``.
"""

from __future__ import annotations

import csv
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest
from conftest import ROOT, run_grader

pytestmark = pytest.mark.slow
LECTURES = sorted((ROOT / "course").glob("*.ipynb"))
BUDGET_S = 60


def _execute(path: Path, cwd: Path) -> tuple[nbformat.NotebookNode, float]:
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    start = time.perf_counter()
    NotebookClient(nb, timeout=BUDGET_S, kernel_name="python3", resources={"metadata": {"path": str(cwd)}}).execute()
    return nb, time.perf_counter() - start


def _problems(nb) -> list[str]:
    found = []
    for i, cell in enumerate(nb.cells, 1):
        for out in cell.get("outputs", []):
            if out.get("output_type") == "stream" and out.get("name") == "stderr":
                found.append(f"cell {i} writes to stderr: {out.get('text', '')[:120]!r}")
            if out.get("output_type") == "error":
                found.append(f"cell {i} raises {out.get('ename')}")
    return found


def test_there_are_lectures():
    names = [p.name for p in LECTURES]
    assert "01-why-interpret.ipynb" in names and "05-evaluation-metrics.ipynb" in names


@pytest.mark.parametrize("path", LECTURES, ids=[p.stem for p in LECTURES])
def test_lecture_executes_warning_free_within_budget(path, tmp_path):
    shutil.copy(path, tmp_path / path.name)
    nb, seconds = _execute(tmp_path / path.name, ROOT / "course")
    assert _problems(nb) == []
    assert seconds < BUDGET_S, f"{path.name} took {seconds:.1f} s"


@pytest.mark.parametrize("path", LECTURES, ids=[p.stem for p in LECTURES])
def test_committed_lecture_outputs_are_clean_and_complete(path):
    nb = nbformat.read(path, as_version=4)
    assert _problems(nb) == []
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(c.get("execution_count") for c in code), "commit the lecture executed"
    text = path.read_text()
    assert not re.search(r"(/root/|/home/\w+/|site-packages/)", text), "machine paths in outputs"


@pytest.fixture(scope="module")
def verify_run():
    return run_grader("verify", "--quiet", timeout=3000)


def test_verify_passes_on_every_assignment(verify_run):
    out = verify_run.stdout
    assert verify_run.returncode == 0, out[-3000:] + verify_run.stderr[-2000:]
    last = out.strip().splitlines()[-1]
    m = re.fullmatch(r"verify: (\d+) assignments, (\d+) questions, (\d+)/(\d+) mutants caught, 0 failures", last)
    assert m, last
    a, q, caught, total = map(int, m.groups())
    assert caught == total
    assert a >= 2 and q >= 5 * a and total >= 3 * q


def test_every_assignment_has_a_manually_graded_written_answer(course):
    for aid in course.assignment_ids():
        nb = nbformat.read(course.source_notebooks(aid)[0], as_version=4)
        written = [c for c in nb.cells if c.cell_type == "markdown"
                   and c.metadata.get("nbgrader", {}).get("solution") and c.metadata["nbgrader"].get("grade")]
        assert written, f"{aid} has no manually graded written answer"
        assert all("mark scheme" in c.source.lower() for c in written), f"{aid}: a written answer lacks its mark scheme"


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo") / "demo-output"
    proc = run_grader("demo", "--out", str(out), "--quiet", timeout=3000)
    return proc, out


def test_demo_grades_the_example_class(demo_run, course):
    proc, out = demo_run
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert "student" in proc.stdout and "ada" in proc.stdout
    rows = {(r["student_id"], r["assignment"]): r for r in csv.DictReader(open(out / "grades.csv"))}
    for aid in course.assignment_ids():
        full = rows[("ada", aid)]
        assert full["status"] == "graded" and full["flags"] == ""
        assert rows[("femi", aid)]["status"] == "graded" and float(rows[("femi", aid)]["score"]) == 0
        for sid in ("ben", "chloe", "dev"):
            assert float(rows[(sid, aid)]["score"]) < float(full["score"])
        assert rows[("gus", aid)]["status"] == "error" and rows[("jo", aid)]["status"] == "error"
        assert rows[("hana", aid)]["status"] == "missing" and rows[("ivan", aid)]["status"] == "missing"
        assert (out / "feedback" / "ada" / aid / f"{aid}.html").exists()
    assert (out / "gradebook.db").exists() and (out / "gradebook-export.csv").exists()
    # the summary fits a 100-column terminal; the report and the certificates are where it says
    table = proc.stdout[proc.stdout.index("student "):proc.stdout.index("3. manual grading")]
    assert max(len(line) for line in table.splitlines()) <= 100
    assert "report.html" in proc.stdout and "certificates" in proc.stdout
    assert (out / "report" / "report.html").exists() and (out / "report" / "course-scores.csv").exists()
    assert (out / "certificates" / "ada.pdf").exists() and (out / "certificates" / "ledger.json").exists()
    assert (out / "certificates" / "transcripts" / "femi.txt").exists()


def test_feedback_pages_never_contain_hidden_test_code(demo_run, course):
    _, out = demo_run
    for aid in course.assignment_ids():
        src = nbformat.read(course.source_notebooks(aid)[0], as_version=4)
        hidden_lines = []
        for cell in src.cells:
            if "### BEGIN HIDDEN TESTS" in cell.source:
                inside = cell.source.split("### BEGIN HIDDEN TESTS", 1)[1].split("### END HIDDEN TESTS", 1)[0]
                hidden_lines += [ln.strip() for ln in inside.splitlines() if ln.strip()]
        assert hidden_lines, f"{aid} has no hidden tests"
        for page in (out / "feedback").glob(f"*/{aid}/*.html"):
            html = page.read_text()
            for line in hidden_lines:
                assert line not in html, f"{page} shows hidden test line {line!r}"


def test_stock_nbgrader_agrees_with_grader_on_the_example_class(demo_run, course, tmp_path):
    """Stock ``nbgrader generate_assignment`` and ``autograde`` on a copy of the course give every
    honest student of the demo's class (right, with mistakes, blank) the score `grader grade` gave.

    Stock nbgrader trusts the kernel: there a converted assignment's hidden tests judge in-kernel
    with the key it finds in ``solutions/`` (issue 10); the grader judges outside the sandbox."""
    _, out = demo_run
    graded = {(r["student_id"], r["assignment"]): r for r in csv.DictReader(open(out / "grades.csv"))}
    students = ("ada", "ben", "chloe", "femi")
    work = tmp_path / "course"
    work.mkdir()
    shutil.copy(ROOT / "nbgrader_config.py", work)
    nbgrader = [str(Path(sys.executable).parent / "nbgrader")]
    ids = course.assignment_ids()
    for aid in ids:
        shutil.copytree(ROOT / "solutions" / aid, work / "solutions" / aid)
        gen = subprocess.run(nbgrader + ["generate_assignment", aid, "--force"], cwd=work,
                             capture_output=True, text=True, timeout=600)
        assert gen.returncode == 0, gen.stderr[-2000:]
        assert not (work / "assignments" / aid / "mutants.yml").exists()
        assert not (work / "assignments" / aid / "key.py").exists()
        for sid in students:
            shutil.copytree(out / "submitted" / sid / aid, work / "submitted" / sid / aid)
        auto = subprocess.run(nbgrader + ["autograde", aid, "--force"], cwd=work, capture_output=True,
                              text=True, timeout=1200)
        assert auto.returncode == 0, auto.stderr[-2000:]
    from nbgrader.api import Gradebook

    disagree = []
    with Gradebook(f"sqlite:///{work / 'gradebook.db'}") as gb:
        for aid in ids:
            for sid in students:
                stock = gb.find_submission(aid, sid).code_score
                ours = float(graded[(sid, aid)]["score"])
                if stock != pytest.approx(ours):
                    disagree.append(f"{aid} {sid}: stock {stock:g}, grader {ours:g}")
    assert not disagree, disagree


def test_nblint_reports_no_errors():
    tool = ROOT.parent / "shared" / "tools" / "nblint.py"
    if not tool.exists():
        pytest.skip("shared/tools/nblint.py is not beside this checkout")
    proc = subprocess.run([sys.executable, str(tool), str(ROOT)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout[-3000:]
