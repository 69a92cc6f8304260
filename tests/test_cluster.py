"""`grader grade --scheduler`: the same grading, executed on a Dask distributed cluster.

A real ``LocalCluster`` (two worker processes, one thread each) stands in for a cluster of
machines: the jobs travel to its workers as tasks (pickled, as over a network), each worker
keeps its own warm sandboxes, and the grading process records every outcome as the single
writer of the gradebook.
"""

from __future__ import annotations

import csv
import shutil

import nbformat
import pytest
from conftest import run_grader

AID = "99-toy"


@pytest.fixture(scope="module")
def cluster():
    from distributed import LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as c:
        yield c


def _class(course, tmp_path):
    subs = tmp_path / "submitted"
    src = course.solutions / AID / f"{AID}.ipynb"
    for sid in ("ada", "ben", "cy"):
        (subs / sid / AID).mkdir(parents=True)
        shutil.copy(src, subs / sid / AID / f"{AID}.ipynb")
    (subs / "dee" / AID).mkdir(parents=True)
    shutil.copy(course.assignments / AID / f"{AID}.ipynb", subs / "dee" / AID / f"{AID}.ipynb")
    wrong = nbformat.read(src, as_version=4)
    for cell in wrong.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == "q1_answer":
            cell.source = "def double(x):\n    return x + 2"
    (subs / "eve" / AID).mkdir(parents=True)
    nbformat.write(wrong, subs / "eve" / AID / f"{AID}.ipynb")
    (subs / "fay" / AID).mkdir(parents=True)
    (subs / "fay" / AID / f"{AID}.ipynb").write_text("{not json")
    return subs


def _rows(out):
    with open(out / "grades.csv", newline="") as fh:
        return {r["student_id"]: (r["score"], r["max_score"], r["status"], r["flags"]) for r in csv.DictReader(fh)}


def test_grading_on_a_dask_cluster_matches_local_grading(toy_course, tmp_path, cluster):
    subs = _class(toy_course, tmp_path)
    local, remote = tmp_path / "local", tmp_path / "remote"
    proc = run_grader("grade", AID, "--submissions", str(subs), "--out", str(local), cwd=toy_course.root)
    assert proc.returncode == 0, proc.stderr
    proc = run_grader("grade", AID, "--submissions", str(subs), "--out", str(remote),
                      "--scheduler", cluster.scheduler_address, cwd=toy_course.root)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    assert _rows(remote) == _rows(local)
    rows = _rows(remote)
    assert rows["ada"][:3] == ("4", "5", "graded") and rows["dee"][0] == "0"
    assert 0 < float(rows["eve"][0]) < 4 and rows["fay"][2] == "error"
    assert (remote / "feedback" / "ada" / AID / f"{AID}.html").exists()
    assert (remote / "gradebook.db").exists()


def test_an_unreachable_scheduler_is_one_clear_line(toy_course, tmp_path):
    subs = _class(toy_course, tmp_path)
    proc = run_grader("grade", AID, "--submissions", str(subs), "--out", str(tmp_path / "o"),
                      "--scheduler", "tcp://127.0.0.1:9", cwd=toy_course.root, timeout=120)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and "tcp://127.0.0.1:9" in lines[0] and "dask scheduler" in lines[0], proc.stderr
