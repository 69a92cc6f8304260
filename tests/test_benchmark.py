"""benchmarks/grading.py runs end to end and reports every number it promises.

A tiny class on the fixture course (assignment 99-toy), so it takes seconds per run. It checks
that the numbers exist and make sense, never how large they are: speed is what the benchmark
measures, not what a unit test asserts.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import FIXTURE_COURSE, ROOT, sandbox_args

SCRIPT = ROOT / "benchmarks" / "grading.py"


def _number(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


@pytest.mark.slow
def test_benchmark_grades_a_tiny_class_with_both_tools_and_reports_every_number(tmp_path):
    out = tmp_path / "numbers.json"
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), "--course", str(FIXTURE_COURSE), "--assignment", "99-toy",
         "--n", "2", "--workers", "1,2", "--json", str(out), "--keep", str(tmp_path / "work"),
         *sandbox_args()],
        capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    text = proc.stdout
    for needle in ("cores", "commit", "stock nbgrader autograde", "grader grade --workers 1",
                   "grader grade --workers 2", "overhead", "scaling efficiency", "headline", "cross-check",
                   "first result", "physical limit", "load average"):
        assert needle in text, f"{needle!r} missing from the output:\n{text}"

    data = json.loads(out.read_text())
    assert data["ok"] is True and data["n"] == 2 and data["assignment"] == "99-toy"
    assert _number(data["machine"]["cores"]) and data["grader_commit"]
    assert all(lines == [] for lines in data["disagreements"].values())
    assert len(data["students"]) == 2

    stock, grader = data["stock"], {row["workers"]: row for row in data["grader"]}
    assert stock["workers"] is None and set(grader) == {1, 2}
    for row in (stock, *grader.values()):
        assert row["exit_status"] == 0
        assert row["graded_notebooks"] == 2
        assert row["cell_time_source"] == "timestamps"  # both tools keep nbclient's cell timestamps
        for key in ("wall_s", "per_submission_s", "cell_s_per_submission", "throughput_vs_stock"):
            assert _number(row[key]) and row[key] >= 0, (row["label"], key, row[key])
        assert row["per_submission_s"] == pytest.approx(row["wall_s"] / 2)
    for row in (stock, grader[1]):
        assert _number(row["overhead_s_per_submission"])
        assert _number(row["overhead_s_per_submission_vs_stock_cells"])
        assert row["overhead_s_per_submission"] == pytest.approx(row["per_submission_s"] - row["cell_s_per_submission"])
    assert stock["throughput_vs_stock"] == pytest.approx(1.0)
    assert grader[2]["overhead_s_per_submission"] is None  # only serial runs have a per-submission overhead
    assert _number(grader[2]["scaling_efficiency"]) and grader[1]["scaling_efficiency"] is None
    assert grader[2]["scaling_efficiency"] == pytest.approx(grader[1]["wall_s"] / (2 * grader[2]["wall_s"]))
    assert data["headline_throughput_vs_stock"] == grader[2]["throughput_vs_stock"]

    assert _number(stock["first_result_s"]) and all(_number(r["first_result_s"]) for r in grader.values())
    assert all(_number(r["cpu_s"]) and r["cpu_s"] > 0 for r in (stock, *grader.values()))
    assert set(data["goals"]) >= {"first_result", "more_workers_never_slower", "never_slower_than_stock",
                                  "throughput"}
    assert [block["n"] for block in data["by_n"]] == [2]
    work = Path(tmp_path / "work") / "n2"
    assert list((work / "stock-course" / "autograded").glob("*/99-toy/99-toy.ipynb"))
    assert (work / "grader-w1" / "grades.csv").exists() and (work / "grader-w2" / "grades.csv").exists()


def test_benchmark_refuses_bad_arguments(tmp_path):
    proc = subprocess.run([sys.executable, str(SCRIPT), "--workers", "one"], capture_output=True, text=True)
    assert proc.returncode == 2 and "--workers" in proc.stderr


def test_the_cpu_floor_is_read_off_two_class_sizes():
    import importlib.util

    spec = importlib.util.spec_from_file_location("bench_grading", ROOT / "benchmarks" / "grading.py")
    bench = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = bench  # its dataclasses look themselves up there
    spec.loader.exec_module(bench)

    def cls(n, cpu1, cpu2):
        stock = {"workers": None, "cpu_s": 1.0, "steady_s_per_submission": None, "cell_s_per_submission": 1.0}
        return {"n": n, "rows": [stock] + [
            {"workers": k, "cpu_s": c, "steady_s_per_submission": 1.0, "cell_s_per_submission": 0.3}
            for k, c in ((1, cpu1), (2, cpu2))]}

    lines = bench.cpu_floor(cls(1, 10.0, 11.0), cls(21, 40.0, 51.0), cores=2)
    assert len(lines) == 2
    assert "= 1.50 s, of which the cells 0.30 s; over 2 busy cores that is a lower bound of 0.75 s/sub" in lines[0]
    assert "= 2.00 s" in lines[1] and "= 1.00x that bound" in lines[1]
    assert bench.cpu_floor(cls(21, 1, 1), cls(21, 2, 2), cores=2) == []
