"""Intake, unit by unit and fast: tolerant reading (issue 12 B), cell recovery (issue 12 A), files
that are not regular, sparse or too large (issue 11 items 5 and 6).

Where stock nbgrader 0.9.6 differs, the test's docstring says what stock does.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import resource
import threading
from pathlib import Path
from types import SimpleNamespace

import nbformat
import pytest
from conftest import FIXTURE_COURSE

from grader.notebooks import (
    NotebookError,
    grade_id,
    read_regular,
    read_submission,
    recover_cells,
    whole,
)

AID = "99-toy"
CASES = Path(__file__).resolve().parent / "fixtures" / "cases"
RELEASE = FIXTURE_COURSE / "assignments" / AID / f"{AID}.ipynb"
SOLUTION = FIXTURE_COURSE / "solutions" / AID / f"{AID}.ipynb"


def _write(tmp_path: Path, data, name: str = "nb.ipynb", prefix: bytes = b"") -> Path:
    path = tmp_path / name
    path.write_bytes(prefix + (data if isinstance(data, bytes) else json.dumps(data).encode()))
    return path


def _release_dict() -> dict:
    return json.loads(RELEASE.read_text())


# ---------------------------------------------------------------- tolerant reading (issue 12 B)

def test_a_byte_order_mark_is_read_as_jupyter_does(tmp_path):
    """Stock nbformat.read accepts it too (Python's json refuses it in a str)."""
    nb, repairs = read_submission(_write(tmp_path, _release_dict(), prefix=b"\xef\xbb\xbf"))
    assert len(nb.cells) == 11 and any("byte order mark" in r for r in repairs)


def test_nbformat_3_is_upgraded_with_its_grading_metadata():
    nb, repairs = read_submission(CASES / "nbformat-v3-notebook" / "v3.ipynb")
    assert nb.nbformat == 4 and nb.nbformat_minor == 5
    assert "q1_check" in [grade_id(c) for c in nb.cells]
    assert any("nbformat 3" in r for r in repairs)


def test_cell_ids_under_minor_4_are_kept():
    """Stock nbformat.read logs 'Notebook JSON is invalid' and carries on; so do we, silently."""
    nb, repairs = read_submission(CASES / "nbformat-minor4-with-cell-ids" / "minor4ids.ipynb")
    assert nb.nbformat_minor == 5 and nb.cells[0].id == "intro"
    nbformat.validate(nb)


def test_stray_and_missing_cell_keys_are_repaired(tmp_path):
    data = _release_dict()
    md = data["cells"][0]
    md["execution_count"], md["outputs"] = 7, []
    code = data["cells"][1]
    for key in ("execution_count", "outputs", "metadata"):
        code.pop(key)
    code["source"] = ["%xmode Minimal\n", "import math"]
    data["cells"][2]["id"] = data["cells"][3]["id"]  # a duplicate id
    data["cells"][4]["id"] = "not a valid id!"
    data["cells"][5]["metadata"]["tags"] = "not-a-list"
    nb, repairs = read_submission(_write(tmp_path, data))
    nbformat.validate(nb)
    assert "execution_count" not in nb.cells[0] and nb.cells[1].source == "%xmode Minimal\nimport math"
    assert len({c.id for c in nb.cells}) == len(nb.cells)
    assert repairs


@pytest.mark.parametrize("raw,words", [
    (b"", "empty"),
    (b'{"cells": [', "not valid notebook JSON"),
    (b"[1, 2]", "not a notebook"),
    (json.dumps({"nbformat": 5, "cells": []}).encode(), "nbformat 5"),
    (json.dumps({"nbformat": 4, "cells": "nope"}).encode(), "not a list"),
    (json.dumps({"nbformat": 4, "cells": [{"cell_type": "raw", "source": ""}] * 5001}).encode(), "5001 cells"),
])
def test_what_cannot_be_repaired_is_refused_in_one_whole_line(tmp_path, raw, words):
    with pytest.raises(NotebookError) as err:
        read_submission(_write(tmp_path, raw))
    message = str(err.value)
    assert words in message and "\n" not in message
    assert "resubmit" in message or "save" in message


def test_long_reasons_are_shortened_at_a_word_boundary():
    """Today's reason was cut at 80 characters, mid-word ('were unexpec')."""
    text = "Additional properties are not allowed ('execution_count', 'outputs' were unexpected) " * 3
    short = whole(text, 80)
    assert len(short) <= 80 and short.endswith(" ...")
    assert all(word in text.split() for word in short.removesuffix(" ...").split())


# ---------------------------------------------------------------- files (issue 11 items 5, 6)

def test_a_named_pipe_is_refused_without_blocking(tmp_path):
    """A FIFO named like the notebook blocked `read_bytes()` forever (no grades.csv at all)."""
    fifo = tmp_path / f"{AID}.ipynb"
    os.mkfifo(fifo)
    outcome: list = []

    def read():
        try:
            read_submission(fifo)
        except NotebookError as exc:
            outcome.append(str(exc))

    worker = threading.Thread(target=read, daemon=True)
    worker.start()
    worker.join(60)  # a guard against a hang, not a speed requirement
    assert outcome and "named pipe" in outcome[0], outcome


def test_links_directories_and_oversized_files_are_refused_unread(tmp_path):
    target = _write(tmp_path, _release_dict(), "real.ipynb")
    (tmp_path / "link.ipynb").symlink_to(target)
    (tmp_path / "dir.ipynb").mkdir()
    with open(tmp_path / "huge.ipynb", "wb") as fh:
        fh.truncate(2 * 2**30)  # sparse: 2 GiB that would take 2 GiB of memory to read
    for name, words in (("link.ipynb", "symbolic link"), ("dir.ipynb", "directory"), ("huge.ipynb", "MiB")):
        with pytest.raises(NotebookError, match=words):
            read_regular(tmp_path / name, 2**20)


def test_the_digest_hashes_notebooks_in_chunks_and_never_reads_other_files(tmp_path):
    """A 2 GiB sparse file beside the notebook was read into memory twice (4.3 GB)."""
    from grader.engine.sandbox import Limits
    from grader.grading import _shipped_code, submission_digest

    adir = tmp_path / AID
    adir.mkdir()
    nb_path = _write(adir, _release_dict(), f"{AID}.ipynb")
    (adir / "timestamp.txt").write_text("2026-11-28 10:00:00 UTC")
    book = SimpleNamespace(notebooks=[f"{AID}.ipynb"], source_digest="x")
    before = submission_digest(adir, book, Limits())
    with open(adir / "data.bin", "wb") as fh:
        fh.truncate(2 * 2**30)
    os.mkfifo(adir / "pipe")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    digest = submission_digest(adir, book, Limits())
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - peak < 200 * 1024  # KiB: far below 2 GiB
    assert digest != before
    nb_path.write_bytes(nb_path.read_bytes() + b" ")
    assert submission_digest(adir, book, Limits()) != digest
    # nbgrader's own timestamp file is not the student's; the others are ignored, never read
    (adir / "data.bin").unlink()
    (adir / "pipe").unlink()
    assert _shipped_code(adir, [], book) == []
    (adir / "notes.txt").write_text("mine")
    assert _shipped_code(adir, [], book) == ["ignored-files"]


@pytest.mark.parametrize("found,graded", [
    (["99-toy (1).ipynb"], True),
    (["99-toy(2).ipynb"], True),
    (["99-toy-Copy1.ipynb"], True),
    (["99-toy copy.ipynb"], True),
    (["homework.ipynb"], False),
    (["99-toy (1).ipynb", "99-toy (2).ipynb"], False),
])
def test_a_notebook_renamed_by_the_browser_is_graded_with_a_note(tmp_path, found, graded):
    from grader.grading import _notebook_files

    for name in found:
        (tmp_path / name).write_text("{}")
    book = SimpleNamespace(notebooks=[f"{AID}.ipynb"])
    files, note = _notebook_files(tmp_path, book)
    assert bool(files) == graded
    if graded:
        assert files[f"{AID}.ipynb"].name == found[0] and found[0] in note and "renamed" in note


# ---------------------------------------------------------------- cell recovery (issue 12 A)

def _book():
    release = nbformat.read(RELEASE, as_version=4)
    tests: dict[str, set[str]] = {}
    for path in (RELEASE, SOLUTION):
        for cell in nbformat.read(path, as_version=4).cells:
            meta = cell.metadata.get("nbgrader", {})
            if meta.get("grade") and not meta.get("solution") and cell.cell_type == "code":
                tests.setdefault(meta["grade_id"], set()).add(cell.source.strip())
    return release, tests


def _student():
    nb = nbformat.read(RELEASE, as_version=4)
    for cell in nb.cells:
        if grade_id(cell) == "q1_answer":
            cell.source = "def double(x):\n    return 2 * x"
        if grade_id(cell) == "q2_answer":
            cell.source = "answer = math.sqrt(16)"
    return nb


def _recover(nb):
    release, tests = _book()
    rec = recover_cells(nb, release, tests)
    ids = [grade_id(c) for c in nb.cells if grade_id(c)]
    graded = {grade_id(c) for c in release.cells if c.metadata["nbgrader"].get("grade")}
    assert len(ids) == len(set(ids)) and graded <= set(ids) <= {grade_id(c) for c in release.cells}
    return rec


def _at(nb, gid):
    return next(i for i, c in enumerate(nb.cells) if grade_id(c) == gid)


def test_a_copied_test_cell_runs_as_plain_code():
    """Stock nbgrader: 'Cell with id q1_check exists multiple times', then the notebook fails."""
    nb = _student()
    copy_ = copy.deepcopy(nb.cells[_at(nb, "q1_check")])
    copy_.id = "a1b2c3d4"
    nb.cells.append(copy_)
    rec = _recover(nb)
    assert rec.tamper == [] and _at(nb, "q1_check") == 4 and "nbgrader" not in nb.cells[-1].metadata


def test_foreign_and_grade_id_less_metadata_is_dropped():
    """Stock nbgrader fails the notebook on a dict without grade_id ("Removing failed assignment")."""
    nb = _student()
    pasted = nbformat.v4.new_code_cell("def share(x):\n    return x", id="c0ffee01")
    pasted.metadata["nbgrader"] = {"grade": True, "solution": False, "grade_id": "q7_check", "points": 3}
    bare = nbformat.v4.new_code_cell("y = 1", id="b0b0b0b0")
    bare.metadata["nbgrader"] = {"grade": False, "solution": False, "locked": False}
    odd = nbformat.v4.new_code_cell("z = 1", id="0dd0dd00")
    odd.metadata["nbgrader"] = "q1_check"
    nb.cells[3:3] = [pasted, bare, odd]
    rec = _recover(nb)
    assert rec.tamper == []
    assert all("nbgrader" not in c.metadata for c in (pasted, bare, odd))


def test_stripped_metadata_is_restored_by_cell_id():
    """Stock nbgrader: no graded cells left, every test scores 0."""
    nb = _student()
    for cell in nb.cells:
        cell.metadata = {}
    rec = _recover(nb)
    assert rec.tamper == [] and rec.missing_answers == [] and len(nb.cells) == 11


def test_merged_test_cells_are_split_not_deleted():
    """Stock nbgrader restores q1_check from the source and loses q1_hidden (2 points)."""
    nb = _student()
    i = _at(nb, "q1_check")
    nb.cells[i].source += "\n\n" + nb.cells[i + 1].source
    del nb.cells[i + 1]
    rec = _recover(nb)
    assert rec.tamper == []
    assert _at(nb, "q1_answer") < _at(nb, "q1_check") < _at(nb, "q1_hidden") < _at(nb, "q2_prompt")


def test_a_test_merged_into_the_answer_is_split_out():
    """Stock nbgrader: q1_check is missing and not restored, its point is lost."""
    nb = _student()
    i = _at(nb, "q1_answer")
    nb.cells[i].source += "\n\n" + nb.cells[i + 1].source
    del nb.cells[i + 1]
    rec = _recover(nb)
    assert rec.tamper == []
    assert nb.cells[_at(nb, "q1_answer")].source == "def double(x):\n    return 2 * x"
    assert _at(nb, "q1_check") == _at(nb, "q1_answer") + 1


def test_a_prompt_merged_with_the_written_answer_keeps_the_answer():
    nb = _student()
    i = _at(nb, "written_prompt")
    nb.cells[i].source += "\n\nBecause two is positive."
    del nb.cells[i + 1]
    rec = _recover(nb)
    assert rec.missing_answers == []
    assert nb.cells[_at(nb, "written_sign")].source == "Because two is positive."


def test_a_deleted_written_answer_is_restored_empty_and_reported():
    """Stock nbgrader (add_missing_cells off) leaves it waiting for a manual grade that has
    nothing to grade; with add_missing_cells on, it raises KeyError if the prompt went too."""
    nb = _student()
    nb.cells = [c for c in nb.cells if grade_id(c) not in ("written_sign", "written_prompt")]
    rec = _recover(nb)
    assert rec.missing_answers == ["written_sign"] and rec.tamper == []
    assert nb.cells[_at(nb, "written_sign")].source == "YOUR ANSWER HERE"


def test_deleting_or_editing_a_test_stays_tampering():
    """Stock nbgrader does not restore a deleted test cell (its points are lost, no flag)."""
    nb = _student()
    nb.cells = [c for c in nb.cells if grade_id(c) not in ("q1_hidden", "q1_check", "q1_answer")]
    rec = _recover(nb)
    assert rec.tamper == ["tamper:deleted-test-cell"]
    assert _at(nb, "q1_prompt") < _at(nb, "q1_check") < _at(nb, "q1_hidden") < _at(nb, "q2_prompt")
    nb = _student()
    nb.cells[_at(nb, "q2_check")].source = "pass"
    assert _recover(nb).tamper == ["tamper:edited-test-cell"]
    nb = _student()  # the test's code kept in a copy does not hide an edit of the original
    original = nb.cells[_at(nb, "q2_check")]
    nb.cells.append(copy.deepcopy(original))
    original.source = "assert True"
    assert _recover(nb).tamper == []  # the intact copy is graded; the edited one runs as plain code


def test_converted_cells_get_their_type_back():
    """Stock nbgrader does the same for graded cells (OverwriteCells)."""
    nb = _student()
    i = _at(nb, "q1_check")
    nb.cells[i] = nbformat.v4.new_markdown_cell(nb.cells[i].source, metadata=nb.cells[i].metadata, id=nb.cells[i].id)
    rec = _recover(nb)
    assert rec.tamper == [] and nb.cells[_at(nb, "q1_check")].cell_type == "code"


def test_recovery_never_raises_on_garbage_metadata():
    nb = _student()
    for n, cell in enumerate(nb.cells):
        cell.metadata["nbgrader"] = [None, {}, {"grade_id": 3}, {"grade_id": ""}, "x", 7][n % 6]
    rec = _recover(nb)
    assert hashlib.sha256(json.dumps(rec.notes).encode()).hexdigest()  # it returned, with notes


def test_an_internal_error_is_never_reported_as_tampering(toy_course, tmp_path, monkeypatch):
    """Today a bug of nbgrader's or ours (a KeyError in OverwriteCells) was reported as
    `tamper:cell-metadata`, "altered beyond repair"."""
    from grader import grading
    from grader.config import ensure_env_bin_on_path, sqlite_url
    from grader.engine.sandbox import Limits

    ensure_env_bin_on_path()
    book = grading.AssignmentGradebook(toy_course, AID, sqlite_url(tmp_path / "gb.db"), tmp_path)
    student = tmp_path / "submitted" / "alice"
    (student / AID).mkdir(parents=True)
    nbformat.write(_student(), student / AID / f"{AID} (1).ipynb")
    (student / AID / "timestamp.txt").write_text("2026-11-28 10:00:00 UTC")
    (tmp_path / "jobs").mkdir()
    job, early = grading._intake(book, student, tmp_path / "jobs", Limits())
    assert early is None and job.flags == ["misnamed"] and "renamed" in job.notes[0]

    def broken(*args, **kwargs):
        raise KeyError("grade_id")

    monkeypatch.setattr(grading, "_sanitize", broken)
    job, early = grading._intake(book, student, tmp_path / "jobs2", Limits())
    assert job is None and early.status == "error"
    assert "intake-failed" in early.flags and not any(f.startswith("tamper") for f in early.flags)
    assert "not the student's fault" in early.reason and "KeyError" in early.reason
