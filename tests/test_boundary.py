"""What crosses the sandbox boundary besides the job and its result (issue 11, items 1, 2, 7).

- **Descriptors.** A kernel holds no host descriptor: not the sandbox's log (the zygote's
  stdout and stderr), not bubblewrap's. A student who writes a marker to every descriptor it
  can reach, and fills them up to the file-size limit, neither reaches the next student in the
  same sandbox nor costs the honest students after it anything.
- **Keyrings.** A secret in the grader's own user and session keyrings is not readable from a
  sandbox, and a key added inside does not appear outside (a seccomp filter denies the
  keyring system calls).
- **Outputs.** A submission that floods its outputs (many tiny ones, or many big cells) is cut
  inside the sandbox and flagged ``limit:output``; its graded notebook stays small.

Each runs in warm sandboxes (one sandbox, students in order) and in cold ones (``--cold``).
"""

from __future__ import annotations

import ctypes
import json
import os
import re
import shutil
import uuid

import nbformat
import pytest
from conftest import run_grader

from grader.engine.sandbox import bwrap

AID = "99-toy"
pytestmark = pytest.mark.skipif(bwrap() is None, reason="the sandbox needs bubblewrap")
MODES = ["warm", "cold"]


def _student(course, subs, sid: str, code: str | list[str] | None) -> None:
    """``sid``'s submission: the solution (``code`` None), else the released notebook with
    ``code`` (one cell, or a list of cells) inserted after the setup cell."""
    d = subs / sid / AID
    d.mkdir(parents=True)
    if code is None:
        shutil.copy(course.solutions / AID / f"{AID}.ipynb", d / f"{AID}.ipynb")
        return
    nb = nbformat.read(course.assignments / AID / f"{AID}.ipynb", as_version=4)
    for i, src in enumerate([code] if isinstance(code, str) else code):
        nb.cells.insert(2 + i, nbformat.v4.new_code_cell(src))
    nbformat.write(nb, d / f"{AID}.ipynb")


def _grade(course, subs, out, mode: str, *extra: str):
    args = ["grade", AID, "--submissions", str(subs), "--out", str(out), "--workers", "1", *extra]
    proc = run_grader(*args, *(["--cold"] if mode == "cold" else []), cwd=course.root)
    assert proc.returncode == 0, proc.stderr
    assert "warm kernels unavailable" not in proc.stderr, proc.stderr
    rows = {r.split(",")[0]: r.split(",") for r in (out / "grades.csv").read_text().splitlines()[1:]}
    return rows, proc


def _printed(out, sid: str, tag: str) -> dict:
    nb = nbformat.read(out / "autograded" / sid / AID / f"{AID}.ipynb", as_version=4)
    text = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.outputs)
    match = re.search(rf"^{tag} (.*)$", text, re.M)
    assert match, f"{sid} printed no {tag} line: {text[:500]}"
    return json.loads(match.group(1))


# --- descriptors ------------------------------------------------------------------------

MARK = uuid.uuid4().hex
FDS = r'''
import json, os, stat
def _fds():
    """pid -> {fd: (target, kind)} for every process whose descriptors we can list."""
    seen = {}
    for pid in ["self"] + sorted(p for p in os.listdir("/proc") if p.isdigit()):
        try:
            names = os.listdir(f"/proc/{pid}/fd")
        except OSError:
            continue
        got = {}
        for fd in names:
            try:
                st = os.stat(f"/proc/{pid}/fd/{fd}")
                got[fd] = (os.readlink(f"/proc/{pid}/fd/{fd}"),
                           "file" if stat.S_ISREG(st.st_mode) else "other", st.st_dev)
            except OSError:
                pass
        seen[pid] = got
    return seen
SANDBOX_DEVS = {os.stat(p).st_dev for p in ("/tmp", "/dev/shm", os.getcwd())}
'''

FILL = FDS + f'''
import signal
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a full file says EFBIG instead of killing us
wrote = {{}}
block = b"{MARK}" * 65536
for pid, fds in _fds().items():
    for fd in fds:
        path = f"/proc/{{pid}}/fd/{{fd}}"
        try:
            w = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_NONBLOCK)
        except OSError:
            continue
        total = 0
        try:
            while total < 300 * 2**20:
                total += os.write(w, block)
        except OSError:
            pass
        os.close(w)
        wrote[path] = total
for fd in (1, 2):
    try:
        os.write(fd, b"{MARK}")
    except OSError:
        pass
print("WROTE " + json.dumps(wrote))
'''

READ = FDS + f'''
found, host = [], []
fds = _fds()
for pid, got in fds.items():
    for fd, (target, kind, dev) in got.items():
        if kind == "file" and dev not in SANDBOX_DEVS and target != "/dev/null":
            host.append([pid, fd, target])
        try:
            r = os.open(f"/proc/{{pid}}/fd/{{fd}}", os.O_RDONLY | os.O_NONBLOCK)
        except OSError:
            continue
        try:
            if b"{MARK}" in os.read(r, 1 << 22):
                found.append([pid, fd, target])
        except OSError:
            pass
        os.close(r)
warm = b"grader.engine.warm" in open("/proc/1/cmdline", "rb").read()  # the zygote is pid 1
print("SEEN " + json.dumps({{"found": found, "host_files": host, "own": fds["self"], "warm": warm}}))
'''


@pytest.mark.parametrize("mode", MODES)
def test_kernels_hold_no_host_descriptor(toy_course, tmp_path, mode):
    subs, out = tmp_path / "submitted", tmp_path / "out"
    _student(toy_course, subs, "a-filler", FILL)
    _student(toy_course, subs, "b-reader", READ)
    _student(toy_course, subs, "c-honest", None)
    _student(toy_course, subs, "d-honest", None)
    rows, _ = _grade(toy_course, subs, out, mode)
    for sid in ("c-honest", "d-honest"):  # as alone: 4 of 5 (the written answer is manual)
        assert rows[sid][2:6] == ["4", "5", "graded", ""], rows[sid]
    assert rows["b-reader"][4] == "graded", rows["b-reader"]

    seen = _printed(out, "b-reader", "SEEN")
    assert seen["found"] == [], f"the previous student's marker was readable: {seen['found']}"
    assert seen["host_files"] == [], f"a kernel holds host files: {seen['host_files']}"
    assert seen["own"], "the reader listed no descriptor of its own"
    assert seen["warm"] == (mode == "warm"), "the reader did not run in the sandbox meant"


# --- keyrings ---------------------------------------------------------------------------

_libc = ctypes.CDLL(None, use_errno=True)
_NR = {"x86_64": (248, 249, 250), "aarch64": (217, 218, 219)}.get(os.uname().machine)
KEY_SPEC_SESSION, KEY_SPEC_USER = -3, -4
KEYCTL_REVOKE, KEYCTL_SEARCH = 3, 10


def _add_key(desc: bytes, payload: bytes, ring: int) -> int:
    return _libc.syscall(_NR[0], b"user", desc, payload, len(payload), ctypes.c_long(ring))


def _search(desc: bytes, ring: int) -> int:
    return _libc.syscall(_NR[2], KEYCTL_SEARCH, ctypes.c_long(ring), b"user", desc, 0)


KEYS = r'''
import ctypes, json
libc = ctypes.CDLL(None, use_errno=True)
NR = %(nr)r
got = {}
for ring in (-3, -4, -5):  # session, user, user-session keyrings
    key = libc.syscall(NR[2], 10, ctypes.c_long(ring), b"user", %(secret_desc)r, 0)
    if key >= 0:
        buf = ctypes.create_string_buffer(256)
        n = libc.syscall(NR[2], 11, ctypes.c_long(key), buf, 256)
        got[str(ring)] = buf.raw[:max(n, 0)].decode(errors="replace")
    got["added" + str(ring)] = libc.syscall(NR[0], b"user", %(inside_desc)r, b"from inside", 11,
                                            ctypes.c_long(ring))
print("KEYS " + json.dumps(got))
'''


@pytest.mark.skipif(_NR is None, reason="keyring test knows x86_64 and aarch64 system calls")
@pytest.mark.parametrize("mode", MODES)
def test_keyrings_are_not_shared(toy_course, tmp_path, mode):
    secret = f"secret-{uuid.uuid4().hex}".encode()
    secret_desc = f"grader-test-{uuid.uuid4().hex[:12]}".encode()
    inside_desc = f"grader-inside-{uuid.uuid4().hex[:12]}".encode()
    planted = [k for ring in (KEY_SPEC_SESSION, KEY_SPEC_USER)
               if (k := _add_key(secret_desc, secret, ring)) >= 0]
    if not planted:
        pytest.skip(f"this host denies keyrings to the tests themselves ({os.strerror(ctypes.get_errno())})")
    try:
        subs, out = tmp_path / "submitted", tmp_path / "out"
        code = KEYS % {"nr": _NR, "secret_desc": secret_desc, "inside_desc": inside_desc}
        _student(toy_course, subs, "a-keys", code)
        _student(toy_course, subs, "b-honest", None)
        rows, _ = _grade(toy_course, subs, out, mode)
        got = _printed(out, "a-keys", "KEYS")
        assert secret.decode() not in json.dumps(got), f"the host's keyring was read: {got}"
        for ring in (KEY_SPEC_SESSION, KEY_SPEC_USER, -5):
            assert _search(inside_desc, ring) < 0, f"a key added inside reached keyring {ring}"
        assert rows["b-honest"][2:5] == ["4", "5", "graded"], rows["b-honest"]
    finally:
        for key in planted:
            _libc.syscall(_NR[2], KEYCTL_REVOKE, ctypes.c_long(key))


def test_seccomp_program_shape():
    """The filter: whole sock_filter entries, every keyring call of each table denied."""
    import struct

    from grader.engine.sandbox import KEYRING_SYSCALLS, seccomp_program

    prog = seccomp_program()
    assert len(prog) % 8 == 0 and 0 < len(prog) // 8 < 4096
    ks = [struct.unpack("=HBBI", prog[i:i + 8])[3] for i in range(0, len(prog), 8)]
    for arch, nrs in KEYRING_SYSCALLS.items():
        assert arch in ks and all(nr in ks for nr in nrs)


def test_unknown_architecture_fails_closed(monkeypatch):
    from grader.config import UserError
    from grader.engine import sandbox as sb

    sb.seccomp_program.cache_clear()
    monkeypatch.setattr(sb.platform, "machine", lambda: "ppc64le")
    try:
        with pytest.raises(UserError, match="ppc64le.*--no-sandbox"):
            sb.seccomp_program()
    finally:
        sb.seccomp_program.cache_clear()


# --- outputs ----------------------------------------------------------------------------

TINY = "from IPython.display import display\nfor i in range(5000):\n    display(i)"
BIG = "print('x' * 450_000)"


@pytest.mark.parametrize("mode", MODES)
def test_output_floods_are_cut_inside_the_sandbox(toy_course, tmp_path, mode):
    subs, out = tmp_path / "submitted", tmp_path / "out"
    _student(toy_course, subs, "a-tiny", TINY)
    _student(toy_course, subs, "b-big", [BIG] * 24)  # 24 cells of 450 kB: over 8 MiB in all
    _student(toy_course, subs, "c-honest", None)
    rows, _ = _grade(toy_course, subs, out, mode)
    from grader.config import MAX_NOTEBOOK_OUTPUT_MB, MAX_OUTPUTS_PER_NOTEBOOK

    for sid in ("a-tiny", "b-big"):
        assert "limit:output" in rows[sid][5], rows[sid]
        graded = out / "autograded" / sid / AID / f"{AID}.ipynb"
        nb = nbformat.read(graded, as_version=4)
        assert sum(len(c.get("outputs", [])) for c in nb.cells) <= MAX_OUTPUTS_PER_NOTEBOOK + len(nb.cells)
        assert graded.stat().st_size < (MAX_NOTEBOOK_OUTPUT_MB + 1) * 2**20
        assert rows[sid][2:4] == ["0", "5"], rows[sid]  # the answers were left blank
    assert rows["c-honest"][2:6] == ["4", "5", "graded", ""], rows["c-honest"]


def test_output_caps_count_what_remains():
    """Unit: prints continue one output; a cleared cell stops counting; errors always stay."""
    from grader.engine.worker import OutputCaps

    caps = OutputCaps({"cell_bytes": 1000, "notebook_bytes": 5000, "cell_outputs": 3,
                       "notebook_outputs": 10})
    cell = nbformat.v4.new_code_cell("")
    stream = {"msg_type": "stream", "content": {"name": "stdout", "text": "x" * 100}}
    assert caps.admit(dict(stream), cell, 0, coalesce=False)
    for _ in range(6):  # 7 prints of about 140 bytes each: under 1000
        assert caps.admit(dict(stream), cell, 0, coalesce=True)
    assert caps.cells[0][1] == 1
    assert not caps.admit(dict(stream), cell, 0, coalesce=True)  # over 1000 bytes
    assert caps.capped == {0} and "output limit" in cell.outputs[-1]["text"]
    cell.outputs = []
    caps.resync(cell, 0)
    assert caps.cells[0] == [0, 0] and caps.total == [0, 0]
    err = {"msg_type": "error", "content": {"ename": "E", "evalue": "v", "traceback": ["l"] * 500}}
    assert caps.admit(err, cell, 1, coalesce=False)
    assert len(err["content"]["traceback"]) < 100
