"""The real submissions of issue 12 (tests/fixtures/cases/, copied from the shared case folder with
their READMEs), graded together with the real `grader grade` on 05-evaluation-metrics beside an
unmodified correct student ('ok'), plus the file cases of issue 11 (a named pipe as the notebook,
a 2 GiB sparse file beside it, a notebook over the size cap) in the same batch.

Stock nbgrader 0.9.6 (`nbgrader autograde`, default settings) on the same notebooks, for
comparison: copycheck and foreign fail ("Cell with id ... exists multiple times", then "Removing
failed assignment"); stripped scores 0 (no graded cells left to score); memonometa scores 18 but
the written answer is not attached to its graded cell; minor4ids, noexeccount and vscodemd log
"Notebook JSON is invalid" and are graded 18; v3 and delmemo are graded 18.
"""

from __future__ import annotations

import csv
import os
import shutil
from pathlib import Path

import pytest
from conftest import ROOT, run_grader

AID = "05-evaluation-metrics"
CASES = Path(__file__).resolve().parent / "fixtures" / "cases"
STUDENTS = {p.stem: p for p in sorted(CASES.glob("*/*.ipynb"))}
SPARSE_BYTES = 2 * 2**30


#: The real submissions, frozen: they were written against the released 05-evaluation-metrics
#: and must keep the grades their READMEs state. A new edition of the assignment that would need
#: them rewritten breaks real students' submissions (it happened: issue 14's rework of 05 made
#: every one of them score 0 with a tamper flag, and the copies here were regenerated to hide it).
FROZEN = {
    "all-cell-metadata-stripped/stripped.ipynb": "5cb39088fe6cb341",
    "cell-pasted-from-other-assignment/foreign.ipynb": "c6a6c2fe9847525f",
    "code-cell-missing-execution-count/noexeccount.ipynb": "9b218b5a9ab9cea1",
    "deleted-written-answer-cell/delmemo.ipynb": "92d8067a024040f2",
    "dup-grade-id-copied-check/copycheck.ipynb": "7256259a735443d3",
    "kernel-killed-out-of-memory/submitted/ok/05-evaluation-metrics/05-evaluation-metrics.ipynb": "05ba04075296f7ef",
    "kernel-killed-out-of-memory/submitted/oom/05-evaluation-metrics/05-evaluation-metrics.ipynb": "386cec8599a02684",
    "markdown-cell-with-execution-count/vscodemd.ipynb": "c801edccb606437a",
    "nbformat-minor4-with-cell-ids/minor4ids.ipynb": "d1db4a3042b197c5",
    "nbformat-v3-notebook/v3.ipynb": "c901633a59ec2821",
    "ok.ipynb": "05ba04075296f7ef",
    "submission-time-limit/submitted/ok/05-evaluation-metrics/05-evaluation-metrics.ipynb": "05ba04075296f7ef",
    "submission-time-limit/submitted/slow/05-evaluation-metrics/05-evaluation-metrics.ipynb": "b39d17562c3350b4",
    "written-answer-metadata-lost/memonometa.ipynb": "c36cdd91ff923993",
}
SHARED = ROOT.parent / "shared" / "cases" / "submissions"


def test_the_real_submissions_are_the_originals_unedited():
    import hashlib

    found = {str(p.relative_to(CASES)): hashlib.sha256(p.read_bytes()).hexdigest()[:16]
             for p in sorted(CASES.rglob("*.ipynb"))}
    assert found == FROZEN
    if SHARED.is_dir():  # beside the checkout: byte for byte the bug reports' own notebooks
        for case in sorted(p for p in SHARED.iterdir() if p.is_dir()):
            for nb in (case / "submitted").glob("*/05-evaluation-metrics/*.ipynb"):
                sid = nb.parent.parent.name
                mine = [CASES / "ok.ipynb"] if sid == "ok" else [
                    *(CASES / case.name).glob("*.ipynb"),
                    *(CASES / case.name / "submitted" / sid).glob("*/*.ipynb")]
                assert mine and mine[0].read_bytes() == nb.read_bytes(), f"{case.name}/{sid}"


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("cases")
    subs = tmp / "submitted"
    for sid, path in {"ok": CASES / "ok.ipynb", **STUDENTS}.items():
        (subs / sid / AID).mkdir(parents=True)
        shutil.copy(path, subs / sid / AID / f"{AID}.ipynb")
    ok = (CASES / "ok.ipynb").read_bytes()
    # a browser's rename of the only notebook; a byte order mark; nbgrader's own timestamp file
    (subs / "renamed" / AID).mkdir(parents=True)
    (subs / "renamed" / AID / f"{AID} (1).ipynb").write_bytes(ok)
    (subs / "bom" / AID).mkdir(parents=True)
    (subs / "bom" / AID / f"{AID}.ipynb").write_bytes(b"\xef\xbb\xbf" + ok)
    (subs / "bom" / AID / "timestamp.txt").write_text("2026-11-28 10:00:00.000000 UTC")
    # issue 11 items 5 and 6: a named pipe as the notebook must not block intake; a 2 GiB sparse
    # file beside a correct notebook is never read; a notebook over the cap is refused unread
    (subs / "fifo" / AID).mkdir(parents=True)
    os.mkfifo(subs / "fifo" / AID / f"{AID}.ipynb")
    (subs / "sparse" / AID).mkdir(parents=True)
    (subs / "sparse" / AID / f"{AID}.ipynb").write_bytes(ok)
    with open(subs / "sparse" / AID / "data.bin", "wb") as fh:
        fh.truncate(SPARSE_BYTES)
    (subs / "huge" / AID).mkdir(parents=True)
    with open(subs / "huge" / AID / f"{AID}.ipynb", "wb") as fh:
        fh.truncate(SPARSE_BYTES)
    out = tmp / "out"
    proc = run_grader("grade", AID, "--submissions", str(subs), "--out", str(out), "--quiet", "--workers", "2",
                      cwd=ROOT, timeout=1200)
    with open(out / "grades.csv", newline="") as fh:
        rows = {r["student_id"]: r for r in csv.DictReader(fh)}
    return {"proc": proc, "rows": rows, "out": out}


def test_the_batch_runs_and_prints_no_traceback(batch):
    proc = batch["proc"]
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "Traceback" not in proc.stdout + proc.stderr


def test_every_case_has_a_row_and_the_baseline_scores_18(batch):
    rows = batch["rows"]
    assert set(STUDENTS) | {"ok", "renamed", "bom", "fifo", "sparse", "huge"} <= set(rows)
    assert rows["ok"]["score"] == "18" and rows["ok"]["status"] == "graded" and rows["ok"]["flags"] == ""
    # written for the first edition of 05, now retired: graded on it, out of its own maximum
    # (18 autograded + the 5-point memo), matched by content (their notebooks carry no stamp)
    assert rows["ok"]["edition"] == "1" and rows["ok"]["max_score"] == "23"


# each student: (README's expectation, flags allowed, words the reason must hold)
EXPECTED = {
    "copycheck": ("copied the q1 check cell to the end: graded 18, no tamper flag", "", "plain code"),
    "foreign": ("a cell pasted from assignment 04 (grade_id q1_answer): runs as plain code; 18", "", "plain code"),
    "noexeccount": ("a code cell without execution_count: repaired on read; 18", "", "execution_count"),
    "delmemo": ("the written answer deleted: 18 kept, the answer recorded as missing", "missing-answer",
                "written answer 'written_triage' is missing"),
    "memonometa": ("the written answer lost its metadata: 18, still reaches the manual grader", "", "answer"),
    "stripped": ("every cell's nbgrader metadata dropped, ids kept: matched by id; 18", "", "cell id"),
    "vscodemd": ("a markdown cell with execution_count and outputs: repaired on read; 18", "", "markdown"),
    "minor4ids": ("nbformat_minor 4 with cell ids: read as nbformat does; 18", "", "nbformat_minor 4"),
    "v3": ("an nbformat 3 notebook: upgraded on read; 18", "", "nbformat 3"),
    "renamed": ("the only notebook renamed '... (1).ipynb' by the browser: graded with a note", "misnamed",
                "(1).ipynb"),
    "bom": ("a UTF-8 byte order mark: read as Jupyter does; 18; timestamp.txt is nbgrader's", "",
            "byte order mark"),
    "sparse": ("a 2 GiB sparse file beside the notebook: ignored unread; 18", "ignored-files", ""),
}


@pytest.mark.parametrize("sid", sorted(EXPECTED))
def test_each_case_scores_like_the_baseline(batch, sid):
    what, flags, words = EXPECTED[sid]
    row = batch["rows"][sid]
    assert row["status"] == "graded", (what, row)
    assert row["score"] == "18", (what, row)
    assert row["flags"] == flags, (what, row)
    assert words in row["reason"], (what, row)
    assert "tamper" not in row["reason"] and "withheld" not in row["reason"]
    assert row["edition"] == "1", (what, row)
    assert (batch["out"] / "feedback" / sid / AID / f"{AID}.html").exists()


def test_written_answers_reach_the_manual_grader(batch):
    """The answer that lost its metadata is still graded by hand; the deleted one is not waited
    for (0 for that cell, said in the reason). Stock nbgrader leaves both waiting for a grade."""
    import nbformat

    rows = batch["rows"]
    assert rows["memonometa"]["needs_manual_grade"] == "yes"
    assert rows["delmemo"]["needs_manual_grade"] == "no"
    graded = nbformat.read(batch["out"] / "autograded" / "memonometa" / AID / f"{AID}.ipynb", as_version=4)
    memo = [c for c in graded.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "written_triage"]
    assert len(memo) == 1 and "recall (sensitivity)" in memo[0].source


def test_non_regular_and_oversized_notebooks_are_refused_in_one_line(batch):
    rows = batch["rows"]
    assert rows["fifo"]["status"] == "error" and "named pipe" in rows["fifo"]["reason"], rows["fifo"]
    assert rows["huge"]["status"] == "error" and "MiB" in rows["huge"]["reason"], rows["huge"]
    for sid in ("fifo", "huge"):
        assert rows[sid]["reason"].startswith(f"{sid}/{AID}/{AID}.ipynb is ")
        assert "resubmit" in rows[sid]["reason"] or "submit" in rows[sid]["reason"]
