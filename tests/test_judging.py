"""Judgement outside the student's kernel (grader/judging.py), on assignment 05.

Fast tests: the key is out of the package, the offline visible check works from the precomputed
data, the judge treats the collected payload as hostile. One slow batch grades 05 submissions
with all-wrong answers plus one attack per class of issue 10 (each must score 0, flagged or not)
beside the solution (full marks).
"""

from __future__ import annotations

import csv
import json
import os
import re
from pathlib import Path

import nbformat
import numpy as np
import pytest
from conftest import ROOT, run_grader

from grader import judging
from grader.checks import NotAttempted, m05
from grader.checks.collect import MIME, gather
from grader.checks.core import Incorrect
from grader.config import Course

AID = "05-evaluation-metrics"
KEY = ROOT / "solutions" / AID / "key.py"
COURSE = Course(ROOT)


@pytest.fixture(scope="module")
def key():
    return judging.load_key(COURSE, AID)


@pytest.fixture(scope="module")
def right():
    from test_checks_m05 import RIGHT

    return RIGHT


# --- the key is not in anything a student gets ---------------------------------------------------
def test_student_module_has_no_reference_code():
    names = set(vars(m05))
    for secret in ("_counts", "_prf", "_choose", "_auc", "_regression", "_FRAUD_ANSWER", "_q5_refs",
                   "_cancer", "_fraud", "_diabetes", "verify_hidden"):
        assert secret not in names
    for q in (m05.q1, m05.q2, m05.q3, m05.q4, m05.q5, m05.q6, m05.q7, m05.q8):
        with pytest.raises(NotImplementedError):
            q.verify()


def _scan_targets():
    """Every released file and every file of the package, except the modules not converted yet
    (they still hold their own references: issue 10 converts them one by one)."""
    unconverted = re.compile(r"m(?!05)\d\d\.py$")
    for base in (ROOT / "assignments", ROOT / "grader"):
        for path in base.rglob("*"):
            if path.is_file() and "__pycache__" not in path.parts and not unconverted.match(path.name):
                yield path


def test_no_released_or_packaged_file_holds_the_key(key):
    text = KEY.read_text()
    functions = set(re.findall(r"^def (_\w+)\(", text, re.M)) - {"_lst", "_fmt", "_all_close", "_safe_div"}
    source = nbformat.read(ROOT / "solutions" / AID / f"{AID}.ipynb", as_version=4)
    seeds = {m for c in source.cells for m in re.findall(r"seed=(\d+)", c.source)}
    assert len(functions) >= 8 and len(seeds) == 8
    answers = [r"report_to_fraud_team\s*=\s*3", r"_FRAUD_ANSWER"]
    for path in _scan_targets():
        assert path.name != "key.py", path
        body = path.read_text(errors="ignore")
        for name in functions:
            assert not re.search(rf"\b{name}\b", body), (path, name)
        ours = AID in path.parts or path.name in ("m05.py", "m05.json")
        for seed in seeds:
            pattern = rf"(?<![\d.]){seed}(?!\d)" if ours else rf"seed\s*=\s*{seed}\b"
            assert not re.search(pattern, body), (path, seed)
        if path.suffix in (".ipynb", ".json"):
            for pattern in answers:
                assert not re.search(pattern, body), (path, pattern)
    # the single-value answers are hashed in the precomputed data
    data = (ROOT / "grader/checks/data/m05.json").read_text()
    refs = key.QUESTIONS["q4"].references()
    assert f"{refs['auc_malignant']:.6f}"[2:] not in data


def test_nbgrader_ignores_the_key(course):
    cfg = course.nbgrader_config()
    assert "key.py" in cfg.CourseDirectory.ignore


def test_data_is_in_sync_with_the_key():
    from grader.precompute import out_of_date

    assert out_of_date(COURSE, AID) == []


# --- the offline visible check ----------------------------------------------------------------
def test_offline_check_passes_right_answers(ns, right, capsys):
    for label, variants in right.items():
        for values in variants:
            ns.clear()
            ns.update(values)
            getattr(m05, label).check()
    assert capsys.readouterr().out.count("Correct") == sum(len(v) for v in right.values())


def _swapped(y_true, y_pred, pos_label):
    a, p = np.asarray(y_true) == pos_label, np.asarray(y_pred) == pos_label
    return int(np.sum(a & p)), int(np.sum(a & ~p)), int(np.sum(~a & p)), int(np.sum(~a & ~p))


def test_offline_check_names_mistakes_without_the_answer(ns, right):
    ns.update(confusion_counts=_swapped)
    with pytest.raises(Incorrect, match="fp/fn swapped"):
        m05.q1.check()
    ns.clear()
    ns.update(right["q8"][0], brier_base_rate=0.25)
    with pytest.raises(Incorrect, match="forecasting 0.5") as err:
        m05.q8.check()
    assert f"{right['q8'][0]['brier_base_rate']:.4g}" not in str(err.value)
    ns.update(right["q5"][0], baseline_accuracy="0.95")
    with pytest.raises(Incorrect, match="single number"):
        m05.q5.check()
    ns.clear()
    with pytest.raises(NotAttempted, match="not defined yet"):
        m05.q6.check()


def test_offline_tolerance_never_fails_on_a_rounding_boundary(ns, key):
    auc = key.QUESTIONS["q4"].references()["auc_malignant"]
    for delta in (-9.9e-4, -5e-4, 0.0, 4.99e-4, 5.01e-4, 9.9e-4):
        ns.update(auc_malignant=auc + delta)
        m05.q4.check()
    ns.update(auc_malignant=auc + 0.01)
    with pytest.raises(Incorrect):
        m05.q4.check()


def test_hidden_check_without_the_key_fails_plainly(ns, right, monkeypatch, tmp_path, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("GRADER_KEY_DIR", raising=False)
    ns.update(right["q1"][0])
    with pytest.raises(NotAttempted, match="grading time"):
        m05.q1.check_hidden(seed=1)
    assert "when your instructor grades" in capsys.readouterr().out


def test_hidden_check_with_the_key_judges_in_kernel(ns, right, monkeypatch):
    monkeypatch.chdir(ROOT / "solutions" / AID)
    ns.update(right["q1"][0])
    m05.q1.check_hidden(seed=1)
    ns.update(confusion_counts=_swapped)
    with pytest.raises(Incorrect, match="fp/fn swapped"):
        m05.q1.check_hidden(seed=1)


# --- the judge and hostile payloads -------------------------------------------------------------
def _payload(q, seed, values, hidden=False):
    names, recorded = judging.record(q, seed, hidden=hidden)
    return json.loads(json.dumps(gather(names, [c for c, _ in recorded], values)))


def test_judge_replays_the_students_answers(key, right):
    q = key.QUESTIONS["q1"]
    assert judging.judge(q, 11, _payload(q, 11, right["q1"][0], True), hidden=True).ok
    bad = judging.judge(q, 11, _payload(q, 11, {"confusion_counts": _swapped}, True), hidden=True)
    assert not bad.ok and "fp/fn swapped" in bad.message

    def crash(*a):
        raise ZeroDivisionError("boom")

    out = judging.judge(q, 11, _payload(q, 11, {"confusion_counts": crash}, True), hidden=True)
    assert "raised ZeroDivisionError: boom" in out.message
    graded = judging.judge(q, 11, _payload(q, 11, {"confusion_counts": _swapped}))  # the qN_check cell
    assert not graded.ok and "fp/fn swapped" in graded.message and "fresh" not in graded.message


@pytest.mark.parametrize("payload", [
    None, [], {"v": 2}, {"v": 1, "names": {}, "calls": []}, {"v": 1, "too_large": True},
    {"v": 1, "names": {"confusion_counts": {"callable": True}}, "calls": [{"ok": {"t": "exec"}}] * 8},
    {"v": 1, "names": {"confusion_counts": {"callable": True}}, "calls": ["x"] * 8},
])
def test_malformed_payloads_fail_the_cell(key, payload):
    verdict = judging.judge(key.QUESTIONS["q1"], 5, payload, hidden=True)
    assert not verdict.ok and verdict.ename == "Incorrect"


def test_forged_second_payload_is_flagged_and_scores_zero(key, right, monkeypatch, tmp_path):
    monkeypatch.setenv("GRADER_SECRET_FILE", str(tmp_path / "secret"))
    nb = nbformat.read(ROOT / "solutions" / AID / f"{AID}.ipynb", as_version=4)
    nb = judging.prepare(nb, COURSE, AID, "s1")
    cell = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "q1_hidden")
    assert "check_hidden" not in cell.source and "collect(" in cell.source
    names, calls = judging.parse_plan(eval(cell.source.split("collect(", 1)[1][:-1]))  # our own literal
    good = json.loads(json.dumps(gather(names, calls, right["q1"][0])))
    cell.outputs = [nbformat.v4.new_output("display_data", data={MIME: good})]
    assert judging.apply(nb, COURSE, AID, "s1") == []
    assert cell.outputs[0]["output_type"] == "stream" and "Correct" in cell.outputs[0]["text"]
    assert "check_hidden(seed=" in cell.source
    nb = judging.prepare(nbformat.read(ROOT / "solutions" / AID / f"{AID}.ipynb", as_version=4), COURSE, AID, "s1")
    cell = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "q1_hidden")
    cell.outputs = [nbformat.v4.new_output("execute_result", data={"text/plain": "2"}, execution_count=1),
                    nbformat.v4.new_output("display_data", data={MIME: good}),
                    nbformat.v4.new_output("display_data", data={MIME: good})]
    assert judging.apply(nb, COURSE, AID, "s1") == ["tamper:forged-collection"]
    assert [o["output_type"] for o in cell.outputs] == ["error"]


def test_seeds_are_secret_and_reproducible(tmp_path, monkeypatch):
    monkeypatch.setenv("GRADER_SECRET_FILE", str(tmp_path / "s"))
    k = judging.secret(COURSE)
    assert (tmp_path / "s").stat().st_mode & 0o777 == 0o600
    assert judging.secret(COURSE) == k
    a = judging.derive_seed(k, AID, "alice", "q1_hidden")
    assert a == judging.derive_seed(k, AID, "alice", "q1_hidden")
    assert a != judging.derive_seed(k, AID, "bob", "q1_hidden")
    assert a != judging.derive_seed(k, AID, "alice", "q1_check")


# --- one batch: every attack class with all-wrong answers scores 0 ------------------------------
WRONG = {  # one catalogued mistake per question
    "q1_answer": "return (0, 0, 0, 0)",
    "q2_answer": "return (0.5, 0.5, 0.5)",
    "q3_answer": "def choose_threshold(p_pos, y_true, pos_label, min_recall):\n    return 0.5\n"
                 "p_malignant = np.zeros(len(y_test))\nthreshold_malignant = 0.5",
    "q4_answer": "auc_malignant = 0.5",
    "q5_answer": "baseline_accuracy = 0.5\nbalanced_acc = 0.5\nminority_recall = 0.5\nreport_to_fraud_team = 1",
    "q6_answer": 'return {"mae": 0.0, "rmse": 0.0, "r2": 0.0}',
    "q7_answer": "def cheapest_threshold(p_pos, y_true, cost_fn, cost_fp):\n    return 0.5\n"
                 "fraud_threshold = 0.5",
    "q8_answer": "def reliability_curve(y_true, p_pos, pos_label, n_bins, strategy):\n"
                 "    return np.zeros(1), np.zeros(1), np.zeros(1)\n"
                 "brier_fraud = 0.25\nbrier_base_rate = 0.25",
}
ATTACKS = {
    "import-reference": "from grader.checks import m05 as _m\nimport grader.checks.offline as _o\n"
                        "confusion_counts = lambda *a: _m.q1.check()",
    "rebind-code": "from grader.checks import m05 as _m\n"
                   "type(_m.q1).check.__code__ = (lambda self: print('Correct')).__code__\n"
                   "type(_m.q1).check_hidden.__code__ = (lambda self, seed: print('Correct')).__code__",
    "swap-class": "from grader.checks import m05 as _m\nclass _C(type(_m.q1)):\n"
                  "    def check(self): print('Correct')\n    def check_hidden(self, seed): print('Correct')\n"
                  "for _q in (_m.q1, _m.q2, _m.q3): _q.__class__ = _C",
    "settrace": "import sys\nsys.settrace(lambda *a: None)\nsys.addaudithook(lambda *a: None)",
    "override-execute": "ip = get_ipython()\n_orig = ip.run_cell\n"
                        "ip.run_cell = lambda raw, *a, **k: _orig('print(\"Correct\")', *a, **k)",
    "forge-collector": "from IPython.display import publish_display_data\n"
                       "publish_display_data({'" + MIME + "': {'v': 1, 'names': {}, 'calls': []}})\n"
                       "get_ipython().events.register('post_run_cell', lambda r: publish_display_data("
                       "{'" + MIME + "': {'v': 1, 'names': {}, 'calls': []}}))",
    "poison-library": "import numpy as _np, sklearn.metrics as _sm\n_np.allclose = lambda *a, **k: True\n"
                      "_np.isclose = lambda *a, **k: True\n_sm.roc_auc_score = lambda *a, **k: 0.5",
    "execute-result": "get_ipython().events.register('post_run_cell', lambda r: get_ipython().displayhook(18))",
}


def _submission(extra: str | None, wrong: bool = True):
    from grader.notebooks import find_cell, replace_solution

    nb = nbformat.read(ROOT / "solutions" / AID / f"{AID}.ipynb", as_version=4)
    if wrong:
        for gid, code in WRONG.items():
            cell = find_cell(nb, gid)
            cell.source = replace_solution(cell.source, code)
    if extra:
        setup = next(i for i, c in enumerate(nb.cells) if c.metadata.get("nbgrader", {}).get("grade_id") == "setup")
        nb.cells.insert(setup + 1, nbformat.v4.new_code_cell(extra))
    return nb


@pytest.fixture(scope="module")
def attack_batch(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("judge")
    subs, out = tmp / "subs", tmp / "out"
    students = {"solution": _submission(None, wrong=False), "all-wrong": _submission(None)}
    students.update({f"attack-{k}": _submission(v) for k, v in ATTACKS.items()})
    for sid, nb in students.items():
        (subs / sid / AID).mkdir(parents=True)
        nbformat.write(nb, subs / sid / AID / f"{AID}.ipynb")
    env = os.environ.get("GRADER_SECRET_FILE")
    os.environ["GRADER_SECRET_FILE"] = str(tmp / "secret")
    try:
        proc = run_grader("grade", AID, "--submissions", str(subs), "--out", str(out), "--quiet",
                          "--workers", "2", timeout=1800)
    finally:
        if env is None:
            os.environ.pop("GRADER_SECRET_FILE", None)
        else:
            os.environ["GRADER_SECRET_FILE"] = env
    assert proc.returncode == 0, proc.stderr[-2000:]
    rows = {r["student_id"]: r for r in csv.DictReader(open(out / "grades.csv"))}
    return rows, out


def test_solution_earns_every_autograded_point(attack_batch):
    rows, out = attack_batch
    assert float(rows["solution"]["score"]) == 24.0, rows["solution"]
    graded = nbformat.read(out / "autograded/solution" / AID / f"{AID}.ipynb", as_version=4)
    hidden = next(c for c in graded.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "q1_hidden")
    assert "check_hidden(seed=5011)" in hidden.source and "Correct: q1" in hidden.outputs[0]["text"]


@pytest.mark.parametrize("sid", ["all-wrong", *[f"attack-{k}" for k in ATTACKS]])
def test_every_attack_scores_zero(attack_batch, sid):
    rows, out = attack_batch
    row = rows[sid]
    assert row["status"] in ("graded", "error"), row
    graded = out / "autograded" / sid / AID / f"{AID}.ipynb"
    if graded.exists():
        nb = nbformat.read(graded, as_version=4)
        for cell in nb.cells:
            meta = cell.metadata.get("nbgrader", {})
            if meta.get("grade") and not meta.get("solution") and cell.cell_type == "code":
                kinds = [o["output_type"] for o in cell.outputs]
                assert kinds == ["error"], (sid, meta["grade_id"], kinds)
    assert float(row["score"]) == 0.0 or "tamper:" in row["flags"], row
    if "tamper:" in row["flags"]:
        assert "withheld" in row["reason"]


# --- stock nbgrader agrees with `grader grade` on honest submissions -----------------------------
def test_stock_nbgrader_and_grader_agree_on_honest_05_submissions(tmp_path):
    """Stock autograde judges hidden tests in the kernel with the key found in solutions/;
    `grader grade` judges outside. Same scores for the solution, the blank release, two mistakes."""
    import shutil
    import subprocess
    import sys

    from grader.notebooks import find_cell, replace_solution
    from grader.verify import load_mutants

    work = tmp_path / "course"
    work.mkdir()
    shutil.copy(ROOT / "nbgrader_config.py", work)
    shutil.copytree(ROOT / "solutions" / AID, work / "solutions" / AID)
    nbgrader = [str(Path(sys.executable).parent / "nbgrader")]
    gen = subprocess.run(nbgrader + ["generate_assignment", AID, "--force"], cwd=work,
                         capture_output=True, text=True, timeout=600)
    assert gen.returncode == 0, gen.stderr[-2000:]
    assert not (work / "assignments" / AID / "key.py").exists()
    src = work / "solutions" / AID / f"{AID}.ipynb"
    students = {"solution": nbformat.read(src, as_version=4),
                "blank": nbformat.read(work / "assignments" / AID / f"{AID}.ipynb", as_version=4)}
    mutants = {m.id: m for m in load_mutants(COURSE, AID)}
    for mid in ("q1-fp-fn-swapped", "q4-rounded"):
        nb = nbformat.read(src, as_version=4)
        cell = find_cell(nb, mutants[mid].cell)
        cell.source = replace_solution(cell.source, mutants[mid].code)
        students[mid] = nb
    for sid, nb in students.items():
        (work / "submitted" / sid / AID).mkdir(parents=True)
        nbformat.write(nb, work / "submitted" / sid / AID / f"{AID}.ipynb")
    auto = subprocess.run(nbgrader + ["autograde", AID, "--force"], cwd=work, capture_output=True,
                          text=True, timeout=1200)
    assert auto.returncode == 0, auto.stderr[-2000:]
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{work / 'gradebook.db'}") as gb:
        stock = {sid: gb.find_submission(AID, sid).code_score for sid in students}
    env = dict(os.environ, GRADER_SECRET_FILE=str(tmp_path / "secret"))
    out = tmp_path / "out"
    exe = Path(sys.executable).parent / "grader"
    from conftest import sandbox_args

    proc = subprocess.run([str(exe), "grade", AID, "--submissions", str(work / "submitted"), "--out",
                           str(out), "--quiet", "--workers", "2", *sandbox_args()],
                          cwd=work, env=env, capture_output=True, text=True, timeout=1200)
    assert proc.returncode == 0, proc.stderr[-2000:]
    ours = {r["student_id"]: float(r["score"]) for r in csv.DictReader(open(out / "grades.csv"))}
    assert stock == ours, (stock, ours)
    assert ours["solution"] == 24 and ours["blank"] == 0 and 0 < ours["q4-rounded"] < 24


def test_a_broken_key_fails_the_cell_with_a_message_for_the_instructor(key):
    class Broken(type(key.QUESTIONS["q4"])):
        def references(self):
            raise ValueError("bad data")

    verdict = judging.judge(Broken(), 3, {"v": 1, "names": {}, "calls": []})
    assert not verdict.ok and "answer key failed (ValueError: bad data)" in verdict.message


@pytest.mark.parametrize("bug, said", [
    ("QUESTIONS = None\nraise ValueError('a typo in the key')\n", "cannot be loaded"),
    ("QUESTIONS['q4'].references = lambda: 1 / 0\n", "q4: its references()"),
])
def test_release_with_a_broken_key_says_so_in_one_line(tmp_path, bug, said):
    """An instructor's key that fails to import or to give its references stops `grader release`
    with one line naming the key and what to do, never a traceback; nothing is written."""
    import shutil

    work = tmp_path / "course"
    work.mkdir()
    shutil.copy(ROOT / "nbgrader_config.py", work)
    shutil.copytree(ROOT / "solutions" / AID, work / "solutions" / AID)
    key = work / "solutions" / AID / "key.py"
    key.write_text(key.read_text() + "\n" + bug)
    before = (ROOT / "grader/checks/data/m05.json").read_bytes()
    proc = run_grader("release", AID, cwd=work)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    lines = (proc.stdout + proc.stderr).strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr, lines
    assert f"solutions/{AID}/key.py" in lines[0] and said in lines[0] and "grader release" in lines[0]
    assert (ROOT / "grader/checks/data/m05.json").read_bytes() == before


def test_a_key_that_fails_to_load_fails_again_rather_than_half_made(tmp_path):
    from grader.checks.offline import load_key_file

    key = tmp_path / "solutions" / "77-broken" / "key.py"
    key.parent.mkdir(parents=True)
    key.write_text("QUESTIONS = {}\nraise RuntimeError('the key is broken')\n")
    for _ in range(2):  # the second load used to return the first one's half-made module
        with pytest.raises(RuntimeError, match="broken"):
            load_key_file(key)
