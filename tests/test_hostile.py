"""Hostile submissions, graded in one batch beside honest ones.

Every technique below either gets zero for the questions it attacks or is flagged
``tamper:<what>`` (its autograded score withheld), while the honest students in the same batch
get exactly the grade they get alone, no file outside the output directory changes, no network
connection leaves the sandbox, and no process outlives the batch. The fixture assignment
``98-checks`` uses the course's check library (``q1``) and NumPy (``q2``).
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import shutil
import socket
import threading
import uuid
from pathlib import Path

import nbformat
import pytest
from conftest import run_grader

AID = "98-checks"
WRONG_Q1 = "return 0.0"
WRONG_Q2 = "scores = np.zeros(5)"
MARK = uuid.uuid4().hex[:10]


def _needs_bwrap():
    from grader.engine.sandbox import bwrap

    if bwrap() is None:
        pytest.skip("bubblewrap is not installed (CI installs it)")


def _source(course):
    return nbformat.read(course.solutions / AID / f"{AID}.ipynb", as_version=4)


def _set(nb, gid: str, code: str) -> None:
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == gid:
            if gid == "q1_answer":
                cell.source = "def fraction_correct(y_true, y_pred):\n" + "\n".join(
                    "    " + line for line in code.splitlines())
            else:
                cell.source = code
            return
    raise KeyError(gid)


def _wrong(course, q1_extra: str = "", q2_extra: str = ""):
    """A wrong submission with hostile code added before the answers."""
    nb = _source(course)
    _set(nb, "q1_answer", WRONG_Q1)
    _set(nb, "q2_answer", (q2_extra + "\n" if q2_extra else "") + WRONG_Q2)
    if q1_extra:
        for i, cell in enumerate(nb.cells):
            if cell.metadata.get("nbgrader", {}).get("grade_id") == "q1_answer":
                nb.cells.insert(i, nbformat.v4.new_code_cell(q1_extra))
                break
    return nb


def _catalogue(course, paths: dict[str, str]) -> dict[str, tuple[object, str]]:
    """technique -> (notebook or callable(dir), expectation). Expectation: 'zero', 'flag:X', 'error'."""
    db_glob = paths["out"]
    port = paths["port"]
    cat: dict[str, tuple[object, str]] = {}
    # ---- points-seeking: change how later cells (the tests) run
    cat["input-transformer"] = (_wrong(course, "get_ipython().input_transformers_cleanup.append(lambda lines: ['pass\\n'])"),
                                "flag:tamper:input-transformer")
    cat["input-transformer-post"] = (_wrong(course, "get_ipython().input_transformers_post.append(lambda lines: ['pass\\n'])"),
                                     "flag:tamper:input-transformer")
    cat["ast-transformer"] = (_wrong(course, (
        "import ast\n"
        "class NoAsserts(ast.NodeTransformer):\n"
        "    def visit_Assert(self, node):\n"
        "        return ast.Pass()\n"
        "    def visit_Expr(self, node):\n"
        "        return ast.Pass()\n"
        "get_ipython().ast_transformers.append(NoAsserts())")), "flag:tamper:ast-transformer")
    cat["custom-exception-handler"] = (_wrong(course, "get_ipython().set_custom_exc((Exception,), lambda *a, **k: None)"),
                                       "flag:tamper:exception-handler")
    cat["showtraceback-override"] = (_wrong(course, "get_ipython().showtraceback = lambda *a, **k: None"),
                                     "flag:tamper:shell-override")
    # IPython restores sys.excepthook after every cell, so this one cannot reach the tests
    cat["excepthook"] = (_wrong(course, "import sys\nsys.excepthook = lambda *a: None"), "zero")
    cat["event-hook"] = (_wrong(course, (
        "def fix(*a, **k):\n"
        "    g = get_ipython().user_ns\n"
        "    g['fraction_correct'] = lambda t, p: float(__import__('numpy').mean(__import__('numpy').asarray(t) == __import__('numpy').asarray(p)))\n"
        "get_ipython().events.register('pre_run_cell', fix)")), "flag:tamper:event-hook")
    cat["shell-run-cell"] = (_wrong(course, (
        "sh = get_ipython()\n"
        "orig = sh.run_cell\n"
        "sh.run_cell = lambda raw, *a, **k: orig('pass', *a, **k)")), "flag:tamper:shell-override")
    # ---- points-seeking: monkeypatch what the tests rely on
    cat["patch-numpy-allclose"] = (_wrong(course, q2_extra="np.allclose = lambda *a, **k: True"),
                                   "flag:tamper:monkeypatch:numpy.allclose")
    cat["patch-builtins-type"] = (_wrong(course, q2_extra="import builtins\n_t = builtins.type\nbuiltins.type = lambda *a: np.ndarray if a and isinstance(a[0], np.ndarray) else _t(*a)"),
                                  "flag:tamper:")
    cat["patch-check-method"] = (_wrong(course, "import grader.checks.core as c\nc.Question.check = lambda self: print('Correct')"),
                                 "flag:tamper:monkeypatch")
    cat["patch-check-via-sys-modules"] = (_wrong(course, "import sys\nsys.modules['grader.checks.m01'].q1.verify = lambda **k: None\nsys.modules['grader.checks.m01'].q1.verify_hidden = lambda **k: None"),
                                          "flag:tamper:monkeypatch")
    cat["patch-check-via-gc"] = (_wrong(course, (
        "import gc\n"
        "for o in gc.get_objects():\n"
        "    if type(o).__name__ == 'FractionCorrect':\n"
        "        type(o).verify = lambda self, **k: None\n"
        "        type(o).verify_hidden = lambda self, **k: None")), "flag:tamper:monkeypatch")
    cat["fake-check-module"] = (_wrong(course, (
        "import sys, types\n"
        "fake = types.ModuleType('grader.checks.m01')\n"
        "fake.q1 = types.SimpleNamespace(check=lambda: None, check_hidden=lambda seed: None)\n"
        "sys.modules['grader.checks.m01'] = fake")), "flag:tamper:module-replaced")
    cat["import-hook"] = (_wrong(course, (
        "import sys\n"
        "class Finder:\n"
        "    def find_spec(self, *a, **k):\n"
        "        return None\n"
        "sys.meta_path.insert(0, Finder())")), "flag:tamper:import-hook")
    cat["lying-eq-answer"] = (_wrong(course, q2_extra=(
        "class Yes(np.ndarray):\n"
        "    def __eq__(self, o):\n"
        "        return True\n")), "zero")
    eq = _source(course)
    _set(eq, "q1_answer", "class Any(float):\n    def __eq__(self, o):\n        return True\n    __hash__ = float.__hash__\nreturn Any(0.0)")
    _set(eq, "q2_answer", WRONG_Q2)
    cat["lying-float-subclass"] = (eq, "zero")
    # ---- points-seeking: edit the tests themselves
    edited = _wrong(course)
    for cell in edited.cells:
        if cell.metadata.get("nbgrader", {}).get("grade"):
            if cell.cell_type == "code":
                cell.source = "pass"
    cat["edit-test-cells"] = (edited, "flag:tamper:edited-test-cell")
    deleted = _wrong(course)
    deleted.cells = [c for c in deleted.cells if not (c.metadata.get("nbgrader", {}).get("grade") and c.cell_type == "code")]
    cat["delete-test-cells"] = (deleted, "flag:tamper:deleted-test-cell")
    relabel = _wrong(course)
    for cell in relabel.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == "q2_check":
            cell.metadata["nbgrader"]["grade_id"] = "q2_bonus"
    cat["relabel-test-cell"] = (relabel, "error")

    def shipped(d: Path) -> None:
        nb = _wrong(course, "import helper_numpy as np_fake")
        nbformat.write(nb, d / f"{AID}.ipynb")
        (d / "helper_numpy.py").write_text("import numpy\nnumpy.allclose = lambda *a, **k: True\n")

    cat["ship-module"] = (shipped, "flag:tamper:shipped-code")

    def symlinked(d: Path) -> None:
        os.symlink(course.solutions / AID / f"{AID}.ipynb", d / f"{AID}.ipynb")

    cat["symlink-to-solution"] = (symlinked, "error")
    # ---- harm-seeking
    cat["rewrite-gradebook"] = (_wrong(course, (
        "import glob, sqlite3\n"
        f"for db in glob.glob({db_glob!r} + '/**/*.db', recursive=True) + glob.glob('/**/gradebook.db', recursive=True):\n"
        "    try:\n"
        "        con = sqlite3.connect(db); con.execute('update grade set auto_score = 999'); con.commit()\n"
        "    except Exception as e:\n"
        "        print('no', e)")), "zero")
    cat["read-solutions"] = (_wrong(course, (
        "import glob\n"
        f"for p in glob.glob({str(course.root)!r} + '/solutions/**/*.ipynb', recursive=True):\n"
        "    print(open(p).read())\n"
        f"print(open({str(course.root / 'nbgrader_config.py')!r}).read())")), "zero")
    cat["read-instructor-home"] = (_wrong(course, (
        "import os\n"
        "print(os.listdir(os.path.expanduser('~')))\n"
        "print(open('/root/.bash_history').read())")), "zero")
    cat["write-outside"] = (_wrong(course, (
        f"open({str(course.root / 'PWNED')!r}, 'w').write('x')\n"
        f"open('/tmp/pwned-{MARK}', 'w').write('x')")), "zero")
    cat["kill-grader"] = (_wrong(course, "import os, signal\nos.kill(os.getppid(), signal.SIGKILL)"), "error")
    cat["kill-everything"] = (_wrong(course, "import os\nos.kill(-1, 9)"), "error")
    cat["network"] = (_wrong(course, (
        "import socket\n"
        f"s = socket.create_connection(('127.0.0.1', {port}), timeout=2)\n"
        "s.sendall(b'PWNED')")), "zero")
    cat["daemon-survives"] = (_wrong(course, (
        "import subprocess\n"
        f"subprocess.Popen(['sleep', '987{MARK[:3].translate(str.maketrans('abcdef', '123456'))}'], start_new_session=True)")), "zero")
    cat["fork-bomb"] = (_wrong(course, (
        "import os, time\n"
        "for _ in range(100000):\n"
        "    try:\n"
        "        if os.fork() == 0:\n"
        "            time.sleep(30); os._exit(0)\n"
        "    except OSError:\n"
        "        break")), "zero")
    cat["memory-bomb"] = (_wrong(course, "blocks = []\nwhile True:\n    blocks.append(bytearray(100 * 2**20))"), "error")
    cat["output-flood"] = (_wrong(course, "for i in range(200000):\n    print('spam' * 20)"), "zero")
    cat["infinite-loop"] = (_wrong(course, "while True:\n    pass"), "zero")
    return cat


def _tree_state(root: Path) -> dict[str, str]:
    state = {}
    for p in sorted(root.rglob("*")):
        if p.is_file() and not p.is_symlink():
            state[str(p)] = hashlib.sha256(p.read_bytes()).hexdigest()
    return state


def _processes_matching(text: str) -> list[int]:
    found = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                if text in (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="ignore"):
                    found.append(int(proc.name))
            except OSError:
                pass
    return found


@pytest.fixture(scope="module")
def hostile_batch(tmp_path_factory):
    _needs_bwrap()
    from conftest import FIXTURE_COURSE

    from grader.config import Course

    tmp = tmp_path_factory.mktemp("hostile")
    shutil.copytree(FIXTURE_COURSE, tmp / "course")
    course = Course(tmp / "course")
    out = tmp / "out"
    subs = tmp / "submitted"
    received: list[bytes] = []
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    server.settimeout(0.5)
    stop = threading.Event()

    def serve():
        while not stop.is_set():
            try:
                conn, _ = server.accept()
                received.append(conn.recv(100))
                conn.close()
            except OSError:
                pass

    threading.Thread(target=serve, daemon=True).start()
    cat = _catalogue(course, {"out": str(out), "port": server.getsockname()[1]})
    honest = {"honest-a": _source(course), "honest-b": _source(course)}
    for sid, (what, _) in {**cat, **{k: (v, "") for k, v in honest.items()}}.items():
        d = subs / sid / AID
        d.mkdir(parents=True)
        if callable(what):
            what(d)
        else:
            nbformat.write(what, d / f"{AID}.ipynb")
    before = {**_tree_state(course.root), **_tree_state(subs)}
    proc = run_grader("grade", AID, "--submissions", str(subs), "--out", str(out), "--quiet", "--workers", "2",
                      "--cell-timeout", "10", "--timeout", "90", "--memory", "1024", "--max-procs", "128",
                      cwd=course.root, timeout=1800)
    stop.set()
    after = {**_tree_state(course.root), **_tree_state(subs)}
    rows = {r["student_id"]: r for r in csv.DictReader(open(out / "grades.csv"))}
    return {"proc": proc, "rows": rows, "cat": cat, "before": before, "after": after, "received": received,
            "course": course, "out": out}


def test_the_catalogue_has_at_least_twenty_techniques(hostile_batch):
    assert len(hostile_batch["cat"]) >= 20


def test_batch_runs_to_the_end(hostile_batch):
    proc = hostile_batch["proc"]
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert len(hostile_batch["rows"]) == len(hostile_batch["cat"]) + 2


def _expectations():
    from conftest import FIXTURE_COURSE

    from grader.config import Course

    return sorted(_catalogue(Course(FIXTURE_COURSE), {"out": "/nonexistent", "port": 9}).items())


@pytest.mark.parametrize("technique,expect", [(k, v[1]) for k, v in _expectations()], ids=[k for k, _ in _expectations()])
def test_each_technique_gets_zero_or_is_flagged(hostile_batch, technique, expect):
    row = hostile_batch["rows"][technique]
    assert float(row["score"]) == 0, row
    if expect.startswith("flag:"):
        assert any(f.startswith(expect[5:]) for f in row["flags"].split(";")), row
        assert "withheld" in row["reason"], row
    elif expect == "error":
        assert row["status"] in ("error", "graded"), row
    if row["flags"]:
        assert "\n" not in row["reason"]


def test_honest_students_get_their_own_grade(hostile_batch):
    rows = hostile_batch["rows"]
    for sid in ("honest-a", "honest-b"):
        assert rows[sid]["status"] == "graded" and rows[sid]["score"] == "4" and rows[sid]["flags"] == "", rows[sid]


def test_gradebook_holds_only_what_the_grader_wrote(hostile_batch):
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{hostile_batch['out'] / 'gradebook.db'}") as gb:
        for sub in gb.assignment_submissions(AID):
            for nb in sub.notebooks:
                for g in nb.grades:
                    assert (g.auto_score or 0) <= g.max_score


def test_no_file_outside_the_output_changes(hostile_batch):
    assert hostile_batch["before"] == hostile_batch["after"]
    assert not (hostile_batch["course"].root / "PWNED").exists()
    assert not Path(f"/tmp/pwned-{MARK}").exists()


def test_no_network_and_no_survivors(hostile_batch):
    assert hostile_batch["received"] == []
    assert _processes_matching("987" + MARK[:3].translate(str.maketrans("abcdef", "123456"))) == []


def test_solutions_never_reach_a_students_outputs(hostile_batch):
    graded = hostile_batch["out"] / "autograded" / "read-solutions" / AID / f"{AID}.ipynb"
    nb = nbformat.read(graded, as_version=4)
    outputs = json.dumps([c.get("outputs", []) for c in nb.cells])
    assert "BEGIN SOLUTION" not in outputs and "source_directory" not in outputs


def test_limits_are_flagged(hostile_batch):
    rows = hostile_batch["rows"]
    assert "timeout" in rows["infinite-loop"]["flags"]
    assert "limit:output" in rows["output-flood"]["flags"] or "limit:memory" in rows["output-flood"]["flags"]
    assert "limit:memory" in rows["memory-bomb"]["flags"] or rows["memory-bomb"]["status"] == "error"
