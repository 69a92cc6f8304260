"""Findings of a red-team review of the merged grader, each kept as a test of its whole kind.

1. A test cell's error cleared by student code that removes itself before the next probe (a
   ``post_run_cell`` hook that calls ``clear_output`` and resets ``error_in_exec``): in a module
   that still judges in the kernel it scored full marks, unflagged. The worker now remembers every
   error the kernel reported for a test cell and flags ``tamper:cleared-error`` when the cell's
   final outputs no longer hold one. (Stock nbgrader 0.9 gives such a cell full marks.)
2. Output that fits the sandbox's cap but not the trusted side's measure pushed a test's error out
   of its cell (``cap_outputs`` cut at the first oversize output and dropped everything after it,
   the error included): the failing test scored. Errors are now always kept.
3. A student's own exception text chose the misconception code (``ValueError("fp/fn swapped")``
   was counted as the catalogued mistake): a student-raised exception is now ``error``.
"""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import nbformat
from conftest import run_grader

from grader.misconceptions import Mistake, classify
from grader.notebooks import cap_outputs, replace_solution

AID = "99-toy"

HIDING_ANSWER = '''\
ip = get_ipython()

def _hide(result):
    # clear the failing test's output, pretend it succeeded, and vanish before the next probe
    from IPython.display import clear_output
    result.error_in_exec = None
    clear_output()
    print("ok")
    ip.events.unregister("post_run_cell", _hide)

if _hide not in ip.events.callbacks["post_run_cell"]:
    ip.events.register("post_run_cell", _hide)
return 3 * x
'''


def _rows(out: Path) -> dict[str, dict[str, str]]:
    with open(out / "grades.csv", newline="") as fh:
        return {r["student_id"]: r for r in csv.DictReader(fh)}


def test_a_test_error_cleared_by_a_self_removing_hook_is_flagged(toy_course, tmp_path):
    src = toy_course.solutions / AID / f"{AID}.ipynb"
    nb = nbformat.read(src, as_version=4)
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == "q1_answer":
            cell.source = replace_solution(cell.source, HIDING_ANSWER)
    subs = tmp_path / "submitted"
    for sid in ("hider", "honest"):
        (subs / sid / AID).mkdir(parents=True)
    nbformat.write(nb, subs / "hider" / AID / f"{AID}.ipynb")
    shutil.copy(src, subs / "honest" / AID / f"{AID}.ipynb")
    out = tmp_path / "out"
    proc = run_grader("grade", AID, "--submissions", str(subs), "--out", str(out), cwd=toy_course.root)
    assert proc.returncode == 0, proc.stderr[-2000:]
    rows = _rows(out)
    assert "tamper:cleared-error" in rows["hider"]["flags"].split(";"), rows["hider"]
    assert rows["hider"]["needs_manual_grade"] == "yes"
    assert float(rows["hider"]["score"]) == 0.0, rows["hider"]  # withheld pending review
    assert "withheld" in rows["hider"]["reason"]
    assert rows["honest"]["flags"] == "" and float(rows["honest"]["score"]) == 4.0, rows["honest"]


def test_output_before_an_error_never_pushes_the_error_out():
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("q1.check()")
    cell.outputs = [
        nbformat.v4.new_output("stream", name="stdout", text="x" * 524_250),  # under 512 kB alone
        nbformat.v4.new_output("stream", name="stdout", text="y" * 100),
        nbformat.v4.new_output("error", ename="Incorrect", evalue="wrong", traceback=["t"] * 50),
    ]
    nb.cells = [nbformat.v4.new_markdown_cell("prompt"), cell]
    assert cap_outputs(nb, 512 * 1024)
    kinds = [o.output_type for o in nb.cells[1].outputs]
    assert kinds[-1] == "error" and nb.cells[1].outputs[-1].evalue == "wrong", kinds
    assert "outputs" not in nb.cells[0]  # markdown cells are left alone
    nbformat.validate(nb)


def test_a_students_own_exception_text_does_not_choose_the_misconception():
    mistake = Mistake("q1-fp-fn-swapped", "q1", "false positives and negatives swapped", "fp/fn swapped")
    student = "Incorrect: Calling `confusion_counts([1, 0], [0, 1], 1)` raised ValueError: fp/fn swapped"
    check = "Incorrect: For y_true=[1, 0], `confusion_counts` returned (0, 1, 1, 0): fp/fn swapped. A false"
    assert classify("q1_check", student, [mistake]) == "error"
    assert classify("q1_check", check, [mistake]) == "q1-fp-fn-swapped"


SURROGATE_ANSWER = '''\
import json as _j, sys as _s, time as _t
get_ipython().input_transformers_cleanup.append(lambda lines: lines)   # a tamper the probe sees
_sess = get_ipython().kernel.session
_old = _sess.pack
_sess.pack = lambda o: _j.dumps(o, ensure_ascii=True, default=str).encode("ascii")
print("bad \\ud800 text"); _s.stdout.flush(); _t.sleep(0.5)     # a lone surrogate in an output
_sess.pack = _old
def double(x):
    return 2 * x
'''


def test_a_lone_surrogate_in_an_output_cannot_unwithhold_a_tampered_submission(toy_course, tmp_path):
    """4. A detected tamper plus an output that made recording raise after the scores were saved
    left full marks in the gradebook and the export, with the flag lost (red-team finding)."""
    src = toy_course.solutions / AID / f"{AID}.ipynb"
    nb = nbformat.read(src, as_version=4)
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == "q1_answer":
            cell.source = SURROGATE_ANSWER
    subs = tmp_path / "submitted"
    (subs / "surrogate" / AID).mkdir(parents=True)
    nbformat.write(nb, subs / "surrogate" / AID / f"{AID}.ipynb")
    out = tmp_path / "out"
    proc = run_grader("grade", AID, "--submissions", str(subs), "--out", str(out), cwd=toy_course.root)
    assert proc.returncode == 0, proc.stderr[-2000:]
    row = _rows(out)["surrogate"]
    assert "tamper:input-transformer" in row["flags"].split(";"), row
    assert float(row["score"]) == 0.0 and row["needs_manual_grade"] == "yes", row
    export = tmp_path / "export.csv"
    proc = run_grader("export", "--out", str(out), "--to", str(export), cwd=toy_course.root)
    assert proc.returncode == 0, proc.stderr[-2000:]
    with open(export, newline="") as fh:
        exported = {r["student_id"]: r for r in csv.DictReader(fh)}
    assert float(exported["surrogate"]["score"]) == 0.0, exported["surrogate"]
