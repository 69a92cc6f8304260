"""Editions of an assignment (grader/editions.py): 05-evaluation-metrics has a retired first
edition (editions/05-evaluation-metrics/1: the notebook its students hold, its key and
mutants) and a current second one (issue 14). Each submission is graded on the edition it was
written for, found by its content; the stamp ``grader release`` writes is checked, never obeyed.
"""

from __future__ import annotations

import copy
import csv
import shutil
from pathlib import Path

import nbformat
import pytest
from conftest import ROOT, run_grader

from grader import editions
from grader.config import Course, UserError

AID = "05-evaluation-metrics"
NB = f"{AID}.ipynb"
COURSE = Course(ROOT)
CASES = Path(__file__).resolve().parent / "fixtures" / "cases"
RETIRED = ROOT / "editions" / AID / "1"


def _read(path: Path):
    return nbformat.read(path, as_version=4)


@pytest.fixture(scope="module")
def releases():
    """(edition, {notebook: release}) as grader grade builds them: the current one first."""
    return [("2", {NB: _read(ROOT / "assignments" / AID / NB)}),
            ("1", {NB: _read(RETIRED / "release" / NB)})]


def _stamped(nb, value):
    nb = copy.deepcopy(nb)
    nb.metadata["grader"] = {"edition": value}
    return nb


def test_05_has_a_current_and_a_retired_edition():
    assert editions.current_edition(COURSE, AID) == "2"
    assert editions.retired_editions(COURSE, AID) == ["1"]
    assert editions.gradebook_name(AID, "1") == "05-evaluation-metrics-edition1"
    # assignments with a single edition declare none and are not stamped
    assert editions.current_edition(COURSE, "04-data-analysis") is None
    assert editions.retired_editions(COURSE, "04-data-analysis") == []


def test_the_release_is_stamped_and_holds_no_retired_edition():
    released = _read(ROOT / "assignments" / AID / NB)
    assert editions.stamp_of(released) == "2"
    assert sorted(p.name for p in (ROOT / "assignments" / AID).rglob("*")) == [NB]
    # the first edition's students got their notebook before stamps existed
    assert editions.stamp_of(_read(RETIRED / "release" / NB)) is None


def test_the_retired_release_is_what_a_fresh_release_of_its_source_gives(tmp_path):
    from grader.release import out_of_sync

    view, name = editions.retired_course(COURSE, AID, "1", tmp_path)
    assert out_of_sync(view, name, offline=False) == []
    assert (view.solutions / name / "key.py").is_file() and (view.solutions / name / "mutants.yml").is_file()


def test_submissions_are_matched_by_content(releases):
    assert editions.choose(releases, {NB: _read(CASES / "ok.ipynb")}).index == 1
    # no grading metadata at all: the locked cells' sources still say which edition it is
    stripped = _read(CASES / "all-cell-metadata-stripped" / "stripped.ipynb")
    assert editions.choose(releases, {NB: stripped}).index == 1
    assert editions.choose(releases, {NB: _read(ROOT / "solutions" / AID / NB)}).index == 0
    assert editions.choose(releases, {NB: _read(ROOT / "assignments" / AID / NB)}).index == 0
    # nothing to go by (a tie): the current edition
    assert editions.choose(releases, {NB: nbformat.v4.new_notebook()}).index == 0
    assert editions.choose(releases, {}).index == 0


def test_a_stamp_cannot_pick_the_edition(releases):
    """A student who edits the stamp to get the other (easier or older) edition's tests is
    graded on the edition the notebook's content matches, and the instructor is told."""
    old = _read(CASES / "ok.ipynb")
    new = _read(ROOT / "assignments" / AID / NB)
    m = editions.choose(releases, {NB: _stamped(new, "1")})
    assert m.index == 0 and "stamp says 1" in m.note and "matches edition 2" in m.note
    m = editions.choose(releases, {NB: _stamped(old, "2")})
    assert m.index == 1 and "stamp says 2" in m.note
    assert editions.choose(releases, {NB: _stamped(new, "2")}).note == ""


@pytest.mark.parametrize("value", [{"x": 1}, ["1"], 1, "../../1", "1" * 10_000, "1\n2", ""])
def test_a_malformed_stamp_is_refused_and_noted(releases, value):
    new = _read(ROOT / "assignments" / AID / NB)
    assert editions.stamp_of(_stamped(new, value)) == "invalid"
    m = editions.choose(releases, {NB: _stamped(new, value)})
    assert m.index == 0 and "not an edition of this assignment" in m.note
    assert len(m.note) < 300


def test_hostile_metadata_and_cells_do_not_break_matching(releases):
    nb = _read(CASES / "ok.ipynb")
    nb.metadata["grader"] = "1"  # not a mapping: no stamp
    assert editions.stamp_of(nb) is None
    nb.cells.append(nbformat.NotebookNode({"cell_type": "code", "source": 5, "metadata": {"nbgrader": []}}))
    assert editions.choose(releases, {NB: nb}).index == 1


def _course_copy(tmp_path: Path) -> Course:
    root = tmp_path / "course"
    (root / "solutions").mkdir(parents=True)
    shutil.copytree(ROOT / "solutions" / AID, root / "solutions" / AID)
    shutil.copytree(ROOT / "editions" / AID, root / "editions" / AID)
    shutil.copy(ROOT / "nbgrader_config.py", root / "nbgrader_config.py")
    return Course(root)


@pytest.mark.parametrize("name, says", [("../x", "short name"), (None, "names no current edition"),
                                        ("1", "also a retired one")])
def test_release_refuses_a_bad_edition_name(tmp_path, name, says):
    from grader.release import release

    course = _course_copy(tmp_path)
    path = course.solutions / AID / NB
    nb = _read(path)
    if name is None:
        del nb.metadata["grader"]
    else:
        nb.metadata["grader"]["edition"] = name
    nbformat.write(nb, path)
    with pytest.raises(UserError, match=says):
        release(course, [AID])


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    """One class with students of both editions, and students who forged the stamp."""
    tmp = tmp_path_factory.mktemp("editions")
    subs = tmp / "submitted"
    old = _read(CASES / "ok.ipynb")
    new = _read(ROOT / "solutions" / AID / NB)  # the current edition, answered correctly
    students = {"first": old, "second": new, "forged-old": _stamped(old, "2"),
                "forged-new": _stamped(new, "1"), "late-old": old}
    for sid, nb in students.items():
        (subs / sid / AID).mkdir(parents=True)
        nbformat.write(nb, subs / sid / AID / NB)
    (subs / "late-old" / AID / "timestamp.txt").write_text("2026-12-03 23:59:00.000000 UTC\n")
    out = tmp / "out"
    proc = run_grader("duedate", AID, "2026-12-01T23:59", "--out", str(out), cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-2000:]
    proc = run_grader("grade", AID, "--submissions", str(subs), "--out", str(out), "--quiet",
                      "--workers", "2", cwd=ROOT, timeout=1200)
    assert proc.returncode == 0, proc.stderr[-2000:]
    with open(out / "grades.csv", newline="") as fh:
        rows = {r["student_id"]: r for r in csv.DictReader(fh)}
    return {"rows": rows, "out": out}


def test_each_student_is_graded_on_their_edition(batch):
    rows = batch["rows"]
    for sid in ("first", "forged-old"):
        r = rows[sid]
        assert (r["edition"], r["score"], r["max_score"], r["status"], r["flags"]) == (
            "1", "18", "23", "graded", ""), r
        assert r["assignment"] == AID
    for sid in ("second", "forged-new"):
        r = rows[sid]
        assert (r["edition"], r["score"], r["max_score"], r["status"], r["flags"]) == (
            "2", "24", "29", "graded", ""), r
    assert "stamp says 2" in rows["forged-old"]["reason"]
    assert "stamp says 1" in rows["forged-new"]["reason"]
    assert "stamp" not in rows["first"]["reason"] + rows["second"]["reason"]
    # the assignment's due date holds for its retired edition too
    assert (rows["late-old"]["edition"], rows["late-old"]["flags"]) == ("1", "late:2d")
    for sid in rows:
        assert (batch["out"] / "feedback" / sid / AID / f"{AID}.html").is_file()
        assert (batch["out"] / "autograded" / sid / AID / NB).is_file()


def test_the_gradebook_keeps_each_edition_as_its_own_assignment(batch):
    from nbgrader.api import Gradebook

    from grader.config import sqlite_url

    with Gradebook(sqlite_url(batch["out"] / "gradebook.db")) as gb:
        current, retired = gb.find_assignment(AID), gb.find_assignment(f"{AID}-edition1")
        assert (current.max_score, retired.max_score) == (29, 23)
        assert {s.student.id for s in retired.submissions} == {"first", "forged-old", "late-old"}
        assert retired.duedate == current.duedate is not None
        assert {s.student.id for s in current.submissions} == {"second", "forged-new"}
        assert gb.find_submission(f"{AID}-edition1", "first").score == 18


def test_feedback_formgrader_and_export_show_the_edition(batch):
    """The instructor sees each student's edition and its maximum: the feedback page's title,
    the formgrader's notebook (under the edition's gradebook assignment), ``grader feedback``
    after manual grading, and one export row per student with the edition's maximum."""
    out = batch["out"]
    page = (out / "feedback" / "first" / AID / f"{AID}.html").read_text()
    assert f"{AID} (edition 1)" in page
    assert f"{AID} (edition 2)" in (out / "feedback" / "second" / AID / f"{AID}.html").read_text()
    assert (out / "autograded" / "first" / f"{AID}-edition1" / NB).is_file()  # formgrader's path
    assert not (out / "autograded" / "second" / f"{AID}-edition1").exists()
    proc = run_grader("feedback", AID, "--out", str(out), cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert f"{AID} (edition 1)" in (out / "feedback" / "first" / AID / f"{AID}.html").read_text()
    proc = run_grader("export", "--out", str(out), "--to", str(out / "export.csv"), cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-2000:]
    with open(out / "export.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert sorted((r["student_id"], r["assignment"], r["edition"], r["max_score"]) for r in rows) == [
        ("first", AID, "1", "23"), ("forged-new", AID, "2", "29"), ("forged-old", AID, "1", "23"),
        ("late-old", AID, "1", "23"), ("second", AID, "2", "29")]
    assert {r["student_id"]: r["score"] for r in rows} == {
        "first": "18", "forged-old": "18", "second": "24", "forged-new": "24", "late-old": "18"}


def test_certificates_count_a_retired_edition(batch):
    from grader.certify import Policy, standings
    from grader.config import sqlite_url

    policy = Policy("course", "issuer", [AID], require_manual_grading=False)
    by = {st.student_id: st.modules[0] for st in standings(sqlite_url(batch["out"] / "gradebook.db"), policy)}
    assert (by["first"].submitted, by["first"].score, by["first"].max_score) == (True, 18, 23)
    assert (by["second"].submitted, by["second"].score, by["second"].max_score) == (True, 24, 29)


def test_a_regraded_student_keeps_one_edition_in_the_gradebook(tmp_path):
    """A student graded on edition 1, then re-graded on a notebook of edition 2, is not left in
    edition 1's gradebook assignment (the export would show the stale grade)."""
    from types import SimpleNamespace

    from nbgrader.api import Gradebook

    from grader.config import ensure_env_bin_on_path, sqlite_url
    from grader.grading import _forget_other_editions

    ensure_env_bin_on_path()
    url = sqlite_url(tmp_path / "gradebook.db")
    with Gradebook(url) as gb:
        for name in (AID, f"{AID}-edition1"):
            gb.update_or_create_assignment(name)
        gb.update_or_create_student("s1")
        gb.update_or_create_submission(f"{AID}-edition1", "s1")
    current, retired = SimpleNamespace(aid=AID, db_url=url), SimpleNamespace(aid=f"{AID}-edition1", db_url=url)
    _forget_other_editions([current, retired], current, "s1")
    _forget_other_editions([current, retired], current, "s2")  # nothing to forget
    with Gradebook(url) as gb:
        assert [s.student.id for s in gb.find_assignment(f"{AID}-edition1").submissions] == []
