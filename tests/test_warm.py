"""Warm sandboxes (grader/engine/warm.py, grader/engine/pool.py): fast, and nothing passes between students.

One warm sandbox (``--workers 1``) grades, in this order:

- ``a-leaker``: leaves a trace in every place it can reach (files in each writable folder,
  System V shared memory, a POSIX message queue, a daemon that outlives its kernel, environment
  variables, module attributes, ``sys.modules``, builtins, numpy's global random state) and
  prints what it managed to create, so the test knows each channel was really tried;
- ``b-observer``: looks for every one of those traces and prints what it finds;
- ``c-killer``: kills every process it can see, the zygote included;
- ``d-honest``: a correct solution, which must be graded normally after that.

The observer must find nothing, though it ran in the same sandbox, forked from the same zygote,
right after the leaker (both print the zygote's identity to prove it).
"""

from __future__ import annotations

import json
import re
import shutil

import nbformat
import pytest
from conftest import run_grader

from grader.engine.sandbox import bwrap

AID = "99-toy"
pytestmark = pytest.mark.skipif(bwrap() is None, reason="warm sandboxes need bubblewrap")

ZYGOTE = r'''
def _zygote():  # the oldest process running grader.engine.warm (its forks share its command line)
    import os
    for pid in sorted(int(p) for p in os.listdir("/proc") if p.isdigit()):
        try:
            cmd = open(f"/proc/{pid}/cmdline", "rb").read()
        except OSError:
            continue
        if b"grader.engine.warm" in cmd:
            return f"{pid}:" + open(f"/proc/{pid}/stat").read().split()[21]
'''

LEAK = ZYGOTE + r'''
import builtins, ctypes, json, os, subprocess, sys, time, types
import numpy
made = {"zygote": _zygote()}
for folder in ("/tmp", "/tmp/home", "/dev/shm", "/submission", os.getcwd(), os.path.expanduser("~")):
    try:
        with open(os.path.join(folder, "LEAK-a"), "w") as fh:
            fh.write("secret of a")
        made["file:" + folder] = True
    except OSError as exc:
        made["file:" + folder] = str(exc)
libc = ctypes.CDLL(None, use_errno=True)
made["sysv-shm"] = libc.shmget(0x5EED, 4096, 0o1666) >= 0
rt = ctypes.CDLL("librt.so.1", use_errno=True)
rt.mq_open.restype = ctypes.c_int
made["mqueue"] = rt.mq_open(b"/leak-a", os.O_CREAT | os.O_RDWR, 0o666, None) >= 0
daemon = subprocess.Popen(
    [sys.executable, "-c", "import os, time\nwhile True:\n    open('/tmp/LEAK-daemon', 'w').write('alive')\n    time.sleep(0.05)"],
    start_new_session=True)
for _ in range(100):
    if os.path.exists("/tmp/LEAK-daemon"):
        break
    time.sleep(0.1)
made["daemon"] = os.path.exists("/tmp/LEAK-daemon") and daemon.poll() is None
os.environ["LEAK_A"] = "1"
numpy.LEAK_A = "secret of a"
sys.modules["leak_a"] = types.ModuleType("leak_a")
builtins.LEAK_A = True
numpy.random.seed(1234)
made["random"] = float(numpy.random.random())
numpy.random.seed(1234)
print("MADE " + json.dumps(made))
'''

OBSERVE = ZYGOTE + r'''
import builtins, ctypes, json, os, sys
import numpy
found = {"zygote": _zygote()}
for folder in ("/tmp", "/tmp/home", "/dev/shm", "/submission", os.getcwd(), os.path.expanduser("~")):
    if os.path.exists(os.path.join(folder, "LEAK-a")):
        found["file:" + folder] = True
if os.path.exists("/tmp/LEAK-daemon"):
    found["daemon-file"] = True
for pid in os.listdir("/proc"):
    try:
        if b"LEAK-daemon" in open(f"/proc/{pid}/cmdline", "rb").read():
            found["daemon-process"] = pid
    except OSError:
        pass
libc = ctypes.CDLL(None, use_errno=True)
if libc.shmget(0x5EED, 0, 0) >= 0:
    found["sysv-shm"] = True
rt = ctypes.CDLL("librt.so.1", use_errno=True)
rt.mq_open.restype = ctypes.c_int
if rt.mq_open(b"/leak-a", os.O_RDWR, 0, None) >= 0:
    found["mqueue"] = True
if "LEAK_A" in os.environ:
    found["environ"] = True
if hasattr(numpy, "LEAK_A"):
    found["module-attribute"] = True
if "leak_a" in sys.modules:
    found["sys.modules"] = True
if hasattr(builtins, "LEAK_A"):
    found["builtins"] = True
found["random"] = float(numpy.random.random())
print("FOUND " + json.dumps(found))
'''

KILL = r'''
import os, signal
os.kill(-1, signal.SIGKILL)
'''


def _student(course, subs, sid: str, code: str | None) -> None:
    d = subs / sid / AID
    d.mkdir(parents=True)
    if code is None:
        shutil.copy(course.solutions / AID / f"{AID}.ipynb", d / f"{AID}.ipynb")
        return
    nb = nbformat.read(course.assignments / AID / f"{AID}.ipynb", as_version=4)
    nb.cells.insert(1, nbformat.v4.new_code_cell(code))
    nbformat.write(nb, d / f"{AID}.ipynb")


def _printed(out, sid: str, tag: str) -> dict:
    nb = nbformat.read(out / "autograded" / sid / AID / f"{AID}.ipynb", as_version=4)
    text = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.outputs)
    match = re.search(rf"^{tag} (.*)$", text, re.M)
    assert match, f"{sid} printed no {tag} line: {text[:500]}"
    return json.loads(match.group(1))


def test_nothing_passes_from_one_student_to_the_next(toy_course, tmp_path):
    subs = tmp_path / "submitted"
    _student(toy_course, subs, "a-leaker", LEAK)
    _student(toy_course, subs, "b-observer", OBSERVE)
    _student(toy_course, subs, "c-killer", KILL)
    _student(toy_course, subs, "d-honest", None)
    out = tmp_path / "out"
    proc = run_grader("grade", AID, "--submissions", str(subs), "--out", str(out), "--workers", "1",
                      cwd=toy_course.root)
    assert proc.returncode == 0, proc.stderr
    assert "warm kernels unavailable" not in proc.stderr

    made = _printed(out, "a-leaker", "MADE")
    found = _printed(out, "b-observer", "FOUND")
    # every channel was really open to the leaker...
    assert all(made[k] is True for k in made if k.startswith("file:")), made
    assert made["sysv-shm"] and made["mqueue"] and made["daemon"], made
    # ...and the observer ran in the same warm sandbox, right after it
    assert made["zygote"] and found["zygote"] == made["zygote"]
    # ...and found none of it; not even the leaker's random state
    assert found.pop("random") != made["random"]
    found.pop("zygote")
    assert found == {}, f"state passed from one student to the next: {found}"

    rows = {r.split(",")[0]: r for r in (out / "grades.csv").read_text().splitlines()[1:]}
    assert ",error," in rows["c-killer"], rows["c-killer"]
    assert rows["d-honest"].split(",")[2:5] == ["4", "5", "graded"], rows["d-honest"]


def test_cold_sandboxes_grade_the_same(toy_course, tmp_path):
    """--cold (a sandbox and kernel per submission) gives the same grades as warm sandboxes."""
    subs = tmp_path / "submitted"
    _student(toy_course, subs, "honest", None)
    blank = subs / "blank" / AID
    blank.mkdir(parents=True)
    shutil.copy(toy_course.assignments / AID / f"{AID}.ipynb", blank / f"{AID}.ipynb")
    scores = {}
    for mode in ("--cold", None):
        out = tmp_path / f"out{mode}"
        args = ["grade", AID, "--submissions", str(subs), "--out", str(out), "--workers", "2"]
        proc = run_grader(*args, *([mode] if mode else []), cwd=toy_course.root)
        assert proc.returncode == 0, proc.stderr
        scores[mode] = [r.split(",")[:5] for r in (out / "grades.csv").read_text().splitlines()]
    assert scores["--cold"] == scores[None]
    assert scores[None][1][2] == "0" and scores[None][2][2] == "4"
