"""Property: honest structural edits never cost a test's points, and never crash or error.

A seeded generator applies random sequences of the edits students and editors make (copy, split,
merge, move, delete, convert, strip metadata, re-save through nbformat 3 / 4.4 / 4.5) to a correct
notebook of the fixture course (99-toy), grades many edited students in one batch with the real
`grader grade`, and asserts for every student: status `graded`, no internal error, and full
autograded points for every test whose code survives the edits (read from the gradebook, so a
tamper withholding does not hide them). A test whose code is nowhere is a real deletion: the
tamper policy applies, and the student must be flagged `tamper:deleted-test-cell`.

Stock nbgrader 0.9.6 on such edits: duplicated grade ids (copy, split that copies metadata) and
cells whose metadata lost its grade id fail the whole notebook; stripped metadata scores the
tests 0; a merged test cell is overwritten from the source (the code merged into it is lost).
"""

from __future__ import annotations

import copy
import csv
import random
import uuid
import warnings

import nbformat
from conftest import run_grader

AID = "99-toy"
ANSWERS = {
    "q1_answer": "def double(x):\n    return 2 * x\n\nunused = double(1)",
    "q2_answer": "root = math.sqrt(16)\nanswer = float(root)",
}
TESTS = ("q1_check", "q1_hidden", "q2_check")
EDITS = ("copy", "split", "merge", "move", "delete", "convert", "strip", "strip")


def _gid(cell) -> str | None:
    return cell.metadata.get("nbgrader", {}).get("grade_id")


def correct_notebook(course):
    nb = nbformat.read(course.assignments / AID / f"{AID}.ipynb", as_version=4)
    for cell in nb.cells:
        if _gid(cell) in ANSWERS:
            cell.source = ANSWERS[_gid(cell)]
        if _gid(cell) == "written_sign":
            cell.source = "Because two is positive, doubling keeps the sign."
    return nb


def _new_id() -> str:
    return uuid.uuid4().hex[:8]


KEEP = {line for text in (*ANSWERS.values(), "%xmode Minimal\nimport math") for line in text.split("\n") if line}


def _protected(cell) -> bool:
    """Cells an honest edit must not break (by content: metadata may be gone): the answers and
    the set-up code, which run before the tests."""
    return cell.cell_type == "code" and bool(KEEP & set(cell.source.split("\n")))


def edit(nb, rng: random.Random, what: str) -> str:
    """Apply one honest edit of kind ``what`` in place; return a description."""
    cells = nb.cells
    i = rng.randrange(len(cells))
    cell = cells[i]
    if what == "copy":
        dup = copy.deepcopy(cell)
        dup["id"] = cell["id"] if rng.random() < 0.2 else _new_id()
        at = i + 1 if rng.random() < 0.5 else len(cells)
        cells.insert(at, dup)
        return f"copy {i}->{at}"
    if what == "split":
        lines = cell.source.split("\n")
        cuts = [k for k in range(1, len(lines)) if cell.cell_type != "code"
                or (lines[k][:1] not in (" ", "\t") and lines[k].strip())]
        if not cuts:
            return "split: nothing"
        k = rng.choice(cuts)
        second = copy.deepcopy(cell)
        second["id"] = _new_id()
        if rng.random() < 0.5:
            second.metadata = {}
        cell.source, second.source = "\n".join(lines[:k]), "\n".join(lines[k:])
        cells.insert(i + 1, second)
        return f"split {i} at line {k}"
    if what == "merge":
        if i + 1 >= len(cells) or cells[i + 1].cell_type != cell.cell_type:
            return "merge: nothing"
        cell.source = cell.source + "\n\n" + cells[i + 1].source
        del cells[i + 1]
        return f"merge {i}+{i + 1}"
    if what == "move":
        if cell.cell_type != "markdown" or cell.source.startswith("assert"):
            return "move: nothing"  # prose only: a test moved above its answer fails honestly
        del cells[i]
        at = rng.randrange(len(cells) + 1)
        cells.insert(at, cell)
        return f"move {i}->{at}"
    if what == "delete":
        if _protected(cell) or len(cells) < 4:
            return "delete: nothing"
        del cells[i]
        return f"delete {i} ({_gid(cell)})"
    if what == "convert":
        if _protected(cell):
            return "convert: nothing"
        new = {"markdown": "raw", "raw": "markdown", "code": "markdown"}[cell.cell_type]
        cell.cell_type = new
        cell.pop("outputs", None)
        cell.pop("execution_count", None)
        return f"convert {i} to {new}"
    if what == "strip":
        if rng.random() < 0.3:
            for c in cells:
                c.metadata = {}
            return "strip all"
        cell.metadata = {}
        if rng.random() < 0.3:
            cell["id"] = _new_id()
            return f"strip {i} and its id"
        return f"strip {i}"
    raise ValueError(what)


def resave(nb, rng: random.Random) -> tuple[str, str]:
    """The notebook's JSON as one of nbformat 3, 4.4 (no ids) or 4.5 would save it."""
    how = rng.choice(["v3", "v4.4", "v4.5"])
    if how == "v3":
        return how, nbformat.writes(nbformat.convert(nbformat.from_dict(copy.deepcopy(nb)), 3), version=3)
    if how == "v4.4":
        old = copy.deepcopy(nb)
        for c in old.cells:
            c.pop("id", None)
        old.nbformat_minor = 4
        return how, _dumps(old)
    return how, _dumps(nb)


def _dumps(nb) -> str:
    import json

    return json.dumps(nb, indent=1)


def surviving_tests(nb, release) -> set[str]:
    """Tests whose code is still somewhere in the notebook, as whole lines of a cell of any type."""
    from grader.notebooks import _contains

    found = set()
    for cell in release.cells:
        gid = _gid(cell)
        if gid not in TESTS:
            continue
        code = cell.source.strip()
        for c in nb.cells:
            text = c.source.strip()
            if text == code or _contains(text, code):
                found.add(gid)
    return found


def edited_notebook(course, rng: random.Random) -> tuple[list[str], str, object]:
    """A correct notebook after 2-6 random honest edits: (steps, saved JSON, edited notebook)."""
    nb = correct_notebook(course)
    steps = [edit(nb, rng, rng.choice(EDITS)) for _ in range(rng.randint(2, 6))]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # nbformat's conversions warn about the duplicate ids of copies
        how, text = resave(nb, rng)
    return [*steps, how], text, nb


def _tests_of(course) -> tuple[object, dict[str, set[str]], dict[str, str]]:
    release = nbformat.read(course.assignments / AID / f"{AID}.ipynb", as_version=4)
    solution = nbformat.read(course.solutions / AID / f"{AID}.ipynb", as_version=4)
    tests: dict[str, set[str]] = {}
    for nb in (release, solution):
        for cell in nb.cells:
            if _gid(cell) in TESTS:
                tests.setdefault(_gid(cell), set()).add(cell.source.strip())
    return release, tests, {_gid(c): c.source for c in solution.cells}


def test_recovery_holds_for_many_random_edit_sequences(tmp_path):
    """The same property for 200 seeds, in process and fast: the recovered notebook has one cell
    per grade id, and running its code cells (tests and set-up restored from the source, as
    OverwriteCells does) passes every test whose code survived; a test whose code is nowhere is
    flagged deleted; no honest edit is flagged as an edited test."""
    from conftest import FIXTURE_COURSE

    from grader.config import Course
    from grader.notebooks import read_submission, recover_cells

    course = Course(FIXTURE_COURSE)
    release, tests, solution = _tests_of(course)
    path = tmp_path / f"{AID}.ipynb"
    for seed in range(200):
        steps, text, edited = edited_notebook(course, random.Random(seed))
        alive = surviving_tests(edited, release)
        path.write_text(text)
        nb, _ = read_submission(path)
        rec = recover_cells(nb, release, tests)
        gids = [_gid(c) for c in nb.cells if _gid(c)]
        assert len(gids) == len(set(gids)), (seed, steps, gids)
        namespace: dict = {}
        passed = set()
        for cell in nb.cells:
            if cell.cell_type != "code":
                continue
            code = solution[_gid(cell)] if _gid(cell) in (*TESTS, "setup") else cell.source
            code = "\n".join(line for line in code.split("\n") if not line.startswith(("%", "### ")))
            try:
                exec(code, namespace)
            except Exception:
                continue
            if _gid(cell) in TESTS:
                passed.add(_gid(cell))
        assert alive <= passed, (seed, steps, alive, passed)
        assert ("tamper:deleted-test-cell" in rec.tamper) == (alive != set(TESTS)), (seed, steps, rec)
        assert "tamper:edited-test-cell" not in rec.tamper, (seed, steps, rec)


def test_honest_edits_keep_every_surviving_tests_points(toy_course, tmp_path):
    from nbgrader.api import Gradebook

    rng = random.Random(2026)
    release = nbformat.read(toy_course.assignments / AID / f"{AID}.ipynb", as_version=4)
    subs = tmp_path / "submitted"
    plan = {}
    for n in range(16):
        steps, text, nb = edited_notebook(toy_course, rng)
        sid = f"s{n:02d}"
        (subs / sid / AID).mkdir(parents=True)
        (subs / sid / AID / f"{AID}.ipynb").write_text(text)
        plan[sid] = (steps, surviving_tests(nb, release))
    (subs / "untouched" / AID).mkdir(parents=True)
    nbformat.write(correct_notebook(toy_course), subs / "untouched" / AID / f"{AID}.ipynb")
    plan["untouched"] = (["none"], set(TESTS))
    out = tmp_path / "out"
    proc = run_grader("grade", AID, "--submissions", str(subs), "--out", str(out), "--quiet", "--workers", "2",
                      cwd=toy_course.root)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "Traceback" not in proc.stdout + proc.stderr
    with open(out / "grades.csv", newline="") as fh:
        rows = {r["student_id"]: r for r in csv.DictReader(fh)}
    assert rows["untouched"]["score"] == "4" and rows["untouched"]["flags"] == ""
    with Gradebook(f"sqlite:///{out / 'gradebook.db'}") as gb:
        for sid, (steps, alive) in plan.items():
            row = rows[sid]
            assert row["status"] == "graded", (steps, row)
            assert "intake-failed" not in row["flags"], (steps, row)
            nbg = gb.find_submission_notebook(AID, AID, sid)
            scores = {g.name: (g.auto_score, g.max_score) for g in nbg.grades if g.name in TESTS}
            for gid in alive:
                assert scores[gid][0] == scores[gid][1], (sid, gid, scores, steps, row)
            if alive == set(TESTS):
                assert "tamper" not in row["flags"], (sid, steps, row)
            else:
                assert "tamper:deleted-test-cell" in row["flags"], (sid, steps, alive, row)
